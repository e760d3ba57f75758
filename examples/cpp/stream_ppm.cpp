// Upscales a binary PPM (P6, 8-bit RGB) of any height with Lucent's embedded x4 model, reading
// input rows from the file as the model asks for them and writing output rows as they come:
// neither image is ever whole in memory.
//   stream_ppm IN.ppm OUT.ppm
#include <cmath>
#include <cstdio>
#include <lucent/lucent.hpp>
#include <vector>

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: %s IN.ppm OUT.ppm\n", argv[0]);
        return 2;
    }
    std::FILE* in = std::fopen(argv[1], "rb");
    long long w = 0, h = 0;
    int max = 0;
    if (in == nullptr || std::fscanf(in, "P6 %lld %lld %d", &w, &h, &max) != 3 || max != 255 ||
        w < 1 || h < 1 || w > 65536 || h > 65536 || std::fgetc(in) == EOF) {
        std::fprintf(stderr, "%s is not a binary 8-bit PPM\n", argv[1]);
        return 1;
    }
    std::FILE* out = std::fopen(argv[2], "wb");
    if (out == nullptr) {
        std::fprintf(stderr, "cannot write %s\n", argv[2]);
        return 1;
    }

    // [snippet: stream]
    lucent::Result<lucent::Model> model = lucent::Model::load_default(lucent::ModelKind::kSsr);
    if (!model.ok()) {
        std::fprintf(stderr, "lucent: %s\n", model.status().message().c_str());
        return 1;
    }
    const lucent::Dims dims{1, 3, h, w};
    lucent::Dims od;
    lucent::Status st = model.value().output_dims(dims, &od);
    if (st.ok()) std::fprintf(out, "P6\n%lld %lld\n255\n", (long long)od.w, (long long)od.h);
    std::vector<uint8_t> row(static_cast<size_t>(3 * (od.w > w ? od.w : w)));
    // Input rows come in order, each once: read them from the file as floats in [0, 1].
    auto source = [&](const lucent::Model::RowBlock& b) -> lucent::Status {
        for (int64_t y = b.y0; y < b.y1; ++y) {
            if (std::fread(row.data(), 3, static_cast<size_t>(w), in) != static_cast<size_t>(w))
                return lucent::Status(lucent::StatusCode::kIo, "the PPM ends early");
            for (int64_t x = 0; x < w; ++x)
                for (int64_t c = 0; c < 3; ++c)
                    b.data[c * b.channel_stride + (y - b.y0) * w + x] = row[3 * x + c] / 255.0f;
        }
        return lucent::Status();
    };
    // Output rows arrive in order: quantise (round half to even) and append them.
    auto sink = [&](const lucent::Model::RowBlock& b) -> lucent::Status {
        for (int64_t y = b.y0; y < b.y1; ++y) {
            for (int64_t x = 0; x < b.width; ++x)
                for (int64_t c = 0; c < 3; ++c) {
                    const float v = b.data[c * b.channel_stride + (y - b.y0) * b.width + x];
                    row[3 * x + c] =
                        v > 0.0f ? (v < 1.0f ? (uint8_t)std::nearbyint(v * 255) : 255) : 0;
                }
            if (std::fwrite(row.data(), 3, static_cast<size_t>(b.width), out) !=
                static_cast<size_t>(b.width))
                return lucent::Status(lucent::StatusCode::kIo, "cannot write the output");
        }
        return lucent::Status();
    };
    if (st.ok()) st = model.value().run_rows(dims, source, sink);
    // [end snippet]

    std::fclose(in);
    if (std::fclose(out) != 0 && st.ok()) st = lucent::Status(lucent::StatusCode::kIo, "close");
    if (!st.ok()) {
        std::fprintf(stderr, "lucent: %s\n", st.message().c_str());
        std::remove(argv[2]);
        return 1;
    }
    return 0;
}
