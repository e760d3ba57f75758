// libFuzzer target: .lcw weight files through the public loader (reader + graph builders), and
// a 3x2 run of whatever loads. Inputs whose first byte is odd are "re-sealed" first (file size
// and CRC fields fixed), so mutations reach the structure behind the checksum.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "lucent/lucent.hpp"

namespace {

uint32_t crc32(const uint8_t* p, size_t n) {
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; ++i) {
        c ^= p[i];
        for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    }
    return ~c;
}

void reseal(std::vector<uint8_t>* f) {
    if (f->size() < 64) return;
    const uint64_t size = f->size();
    std::memcpy(f->data() + 48, &size, 8);
    std::memset(f->data() + 56, 0, 4);
    const uint32_t crc = crc32(f->data(), f->size());
    std::memcpy(f->data() + 56, &crc, 4);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) return 0;
    std::vector<uint8_t> file(data + 1, data + size);
    if (data[0] & 1) reseal(&file);
    lucent::Options opt;
    opt.num_threads = 1;
    opt.max_memory_bytes = 256u << 20;
    lucent::Result<lucent::Model> m =
        lucent::Model::load_memory(file.data(), file.size(), "fuzz input", opt);
    if (!m.ok()) return 0;
    const lucent::Dims in{1, m.value().in_channels(), 2, 3};
    lucent::Dims out;
    if (!m.value().output_dims(in, &out).ok() || out.count() > (1 << 22)) return 0;
    std::vector<float> x(static_cast<size_t>(in.count()), 0.5f),
        y(static_cast<size_t>(out.count()));
    (void)m.value().run(x.data(), in, y.data());
    return 0;
}
