// lucent: command-line front end.
//
//   lucent upscale [options] IN OUT    super-resolution (SSR; the embedded x4 model by default)
//   lucent enhance [options] IN OUT    enhancement (RED; the embedded low-light model by default)
//   lucent --version | --help
//
// Exit status: 0 success, 1 the work failed (message on stderr), 2 bad command line.
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

#include "engine/cli/process.h"
#include "engine/image_io.h"
#include "lucent/lucent.hpp"

namespace {

using lucent::Status;

const char kUsage[] =
    "usage: lucent upscale [options] IN OUT\n"
    "       lucent enhance [options] IN OUT\n"
    "       lucent --version | --help\n"
    "\n"
    "IN:  PNG, JPEG, BMP or TGA (gray, gray+alpha, RGB, RGBA; 8 or 16 bit), or .npy float32\n"
    "     H x W x C in [0, 1]. OUT: .png, .jpg/.jpeg (8-bit) or .npy (float32, not clamped).\n"
    "     Alpha is resized alongside (upscale) or kept (enhance). OUT appears only when complete.\n"
    "\n"
    "options:\n"
    "  --model FILE       a .lcw weight file (converters/convert.py); default: the embedded model\n"
    "  --threads N        worker threads, 0 = all cores (default 0)\n"
    "  --isa NAME         highest kernel tier: scalar, avx2 or avx512 (default: best available)\n"
    "  --reference        scalar kernels and direct convolution (the audit path)\n"
    "  --max-memory MIB   refuse inputs needing more memory (default: physical memory)\n"
    "  --verbose          print the model, tier, threads and timing to stderr\n";

struct Args {
    std::string command, model, in, out;
    int32_t threads = 0;
    lucent::Isa isa = lucent::Isa::kAvx512;
    bool reference = false, verbose = false;
    uint64_t max_memory = 0;
};

bool parse_int(const char* s, long long lo, long long hi, long long* out) {
    if (s == nullptr || *s == '\0') return false;
    char* end = nullptr;
    errno = 0;
    const long long v = std::strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < lo || v > hi) return false;
    *out = v;
    return true;
}

// Returns an empty string on success, else the error.
std::string parse_args(int argc, char** argv, Args* a) {
    if (argc < 2) return "missing command";
    a->command = argv[1];
    if (a->command != "upscale" && a->command != "enhance")
        return "unknown command '" + a->command + "'";
    std::string positional[2];
    int npos = 0;
    for (int i = 2; i < argc; ++i) {
        const std::string arg = argv[i];
        const char* next = i + 1 < argc ? argv[i + 1] : nullptr;
        long long v = 0;
        if (arg == "--model") {
            if (!next) return "--model needs a file";
            a->model = argv[++i];
        } else if (arg == "--threads") {
            if (!parse_int(next, 0, 1024, &v)) return "--threads needs an integer from 0 to 1024";
            a->threads = static_cast<int32_t>(v);
            ++i;
        } else if (arg == "--isa") {
            if (!next || !lucent::parse_isa(next, &a->isa))
                return "--isa needs scalar, avx2 or avx512";
            ++i;
        } else if (arg == "--max-memory") {
            if (!parse_int(next, 1, 1LL << 40, &v))
                return "--max-memory needs a size in MiB from 1 to 2^40";
            a->max_memory = static_cast<uint64_t>(v) << 20;
            ++i;
        } else if (arg == "--reference") {
            a->reference = true;
        } else if (arg == "--verbose") {
            a->verbose = true;
        } else if (arg.size() > 1 && arg[0] == '-') {
            return "unknown option '" + arg + "'";
        } else {
            if (npos == 2) return "too many arguments ('" + arg + "')";
            positional[npos++] = arg;
        }
    }
    if (npos != 2) return "need an input and an output file";
    a->in = positional[0];
    a->out = positional[1];
    return "";
}

int fail(const Status& st) {
    std::fprintf(stderr, "lucent: error: %s\n", st.message().c_str());
    return 1;
}

int run(const Args& a) {
    using clock = std::chrono::steady_clock;
    const auto t0 = clock::now();
    lucent::Result<lucent::ImageFormat> fmt = lucent::output_format(a.out);
    if (!fmt.ok()) return fail(fmt.status());
    lucent::Options opt;
    opt.num_threads = a.threads;
    opt.max_isa = a.isa;
    opt.reference = a.reference;
    opt.max_memory_bytes = a.max_memory;
    const lucent::ModelKind kind =
        a.command == "upscale" ? lucent::ModelKind::kSsr : lucent::ModelKind::kRed;
    lucent::Result<lucent::Model> model = a.model.empty() ? lucent::Model::load_default(kind, opt)
                                                          : lucent::Model::load(a.model, opt);
    if (!model.ok()) return fail(model.status());
    const lucent::Model& m = model.value();
    if (m.kind() != kind)
        return fail(lucent::make_status(
            lucent::StatusCode::kInvalidArgument, "%s holds a%s model; use `lucent %s`",
            m.name().c_str(),
            m.kind() == lucent::ModelKind::kSsr ? "n SSR (upscaling)" : " RED (enhancement)",
            m.kind() == lucent::ModelKind::kSsr ? "upscale" : "enhance"));
    lucent::Result<lucent::ImageInfo> info = lucent::read_image_info(a.in);
    if (!info.ok()) return fail(info.status());
    Status st = lucent::cli::check_memory(m, info.value(), m.memory_limit());
    if (!st.ok()) return fail(st);
    const auto t1 = clock::now();
    lucent::Result<lucent::Image> img = lucent::read_image(a.in);
    if (!img.ok()) return fail(img.status());
    const auto t2 = clock::now();
    lucent::Result<lucent::Image> out = lucent::cli::process(m, img.value());
    if (!out.ok()) return fail(out.status());
    const auto t3 = clock::now();
    lucent::Image result = std::move(out).value();
    if (fmt.value() == lucent::ImageFormat::kJpeg && (result.c == 2 || result.c == 4)) {
        std::fprintf(stderr, "lucent: warning: JPEG has no alpha channel; alpha dropped\n");
        const int64_t color = result.c - 1;
        for (int64_t i = 0; i < result.h * result.w; ++i)
            for (int64_t ch = 0; ch < color; ++ch)
                result.data[static_cast<size_t>(i * color + ch)] =
                    result.data[static_cast<size_t>(i * result.c + ch)];
        result.c = color;
        result.data.resize(static_cast<size_t>(result.h * result.w * color));
    }
    st = lucent::write_image(a.out, result);
    if (!st.ok()) return fail(st);
    if (a.verbose) {
        auto ms = [](clock::duration d) {
            return std::chrono::duration<double, std::milli>(d).count();
        };
        std::fprintf(stderr,
                     "lucent %s: model %s (x%lld), isa %s, threads %d; %lldx%lld -> %lldx%lld; "
                     "load %.1f ms, decode %.1f ms, run %.1f ms, encode %.1f ms\n",
                     lucent::version(), m.name().c_str(), static_cast<long long>(m.scale()),
                     lucent::isa_name(m.isa()), a.threads, static_cast<long long>(img.value().w),
                     static_cast<long long>(img.value().h), static_cast<long long>(result.w),
                     static_cast<long long>(result.h), ms(t1 - t0), ms(t2 - t1), ms(t3 - t2),
                     ms(clock::now() - t3));
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        if (argc == 2 && (std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0)) {
            std::fputs(kUsage, stdout);
            return 0;
        }
        if (argc == 2 && std::strcmp(argv[1], "--version") == 0) {
            std::printf("lucent %s (kernels: %s)\n", lucent::version(),
                        lucent::isa_name(lucent::effective_isa()));
            return 0;
        }
        if (const char* cap = std::getenv("LUCENT_MAX_ISA")) {
            lucent::Isa ignored;
            if (!lucent::parse_isa(cap, &ignored)) {
                std::fprintf(stderr,
                             "lucent: error: LUCENT_MAX_ISA=%s is not scalar, avx2 or avx512\n",
                             cap);
                return 2;
            }
        }
        Args args;
        const std::string err = parse_args(argc, argv, &args);
        if (!err.empty()) {
            std::fprintf(stderr, "lucent: %s\n\n%s", err.c_str(), kUsage);
            return 2;
        }
        return run(args);
    } catch (const std::bad_alloc&) {
        std::fprintf(stderr, "lucent: error: out of memory\n");
        return 1;
    } catch (...) {
        std::fprintf(stderr, "lucent: error: internal error (unexpected exception)\n");
        return 1;
    }
}
