// Upscales a binary PPM (P6, 8-bit RGB) with Lucent's embedded x4 model, from C++.
//   upscale_ppm IN.ppm OUT.ppm
#include <cstdio>
#include <fstream>
#include <lucent/lucent.hpp>
#include <string>
#include <vector>

namespace {

// Reads "P6 <w> <h> 255" and the pixels; false on anything else.
bool read_ppm(const char* path, int64_t* w, int64_t* h, std::vector<uint8_t>* px) {
    std::ifstream f(path, std::ios::binary);
    std::string magic;
    int max = 0;
    if (!(f >> magic >> *w >> *h >> max) || magic != "P6" || max != 255 || *w < 1 || *h < 1 ||
        *w > 65536 || *h > 65536)
        return false;
    f.get();  // the single whitespace after the header
    px->resize(static_cast<size_t>(*w * *h * 3));
    return static_cast<bool>(f.read(reinterpret_cast<char*>(px->data()), px->size()));
}

bool write_ppm(const char* path, int64_t w, int64_t h, const std::vector<uint8_t>& px) {
    std::ofstream f(path, std::ios::binary);
    f << "P6\n" << w << " " << h << "\n255\n";
    f.write(reinterpret_cast<const char*>(px.data()), static_cast<std::streamsize>(px.size()));
    return static_cast<bool>(f.flush());
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: %s IN.ppm OUT.ppm\n", argv[0]);
        return 2;
    }
    int64_t w = 0, h = 0;
    std::vector<uint8_t> pixels;
    if (!read_ppm(argv[1], &w, &h, &pixels)) {
        std::fprintf(stderr, "%s is not a binary 8-bit PPM\n", argv[1]);
        return 1;
    }

    // [snippet: cpp]
    lucent::Options options;
    options.num_threads = 0;  // all cores
    lucent::Result<lucent::Model> model =
        lucent::Model::load_default(lucent::ModelKind::kSsr, options);
    if (!model.ok()) {
        std::fprintf(stderr, "lucent: %s\n", model.status().message().c_str());
        return 1;
    }
    const lucent::ConstImageView in{pixels.data(), pixels.size(), w, h, 3, lucent::PixelType::kU8};
    lucent::ImageSize size;
    lucent::Status st = model.value().output_image_size(w, h, 3, &size);
    std::vector<uint8_t> result(lucent::image_buffer_bytes(size, lucent::PixelType::kU8));
    const lucent::ImageView out{result.data(), result.size(), size.width,
                                size.height,   size.channels, lucent::PixelType::kU8};
    if (st.ok()) st = model.value().run_image(in, out);
    if (!st.ok()) {
        std::fprintf(stderr, "lucent: %s\n", st.message().c_str());
        return 1;
    }
    // [end snippet]

    if (!write_ppm(argv[2], size.width, size.height, result)) {
        std::fprintf(stderr, "cannot write %s\n", argv[2]);
        return 1;
    }
    std::printf("%lldx%lld -> %lldx%lld with Lucent %s\n", static_cast<long long>(w),
                static_cast<long long>(h), static_cast<long long>(size.width),
                static_cast<long long>(size.height), lucent::version());
    return 0;
}
