#include "args.h"

#include <cerrno>
#include <cstdlib>
#include <thread>

namespace lucent::cli {

const char kUsage[] =
    "usage: lucent upscale [options] IN OUT\n"
    "       lucent upscale [options] -o OUTDIR IN...\n"
    "       lucent enhance [options] IN OUT\n"
    "       lucent enhance [options] -o OUTDIR IN...\n"
    "       lucent serve [options]      (HTTP server; lucent serve --help)\n"
    "       lucent --version | --help\n"
    "\n"
    "upscale: super-resolution (SSR; the embedded x4 model by default).\n"
    "enhance: low-light enhancement (RED; the embedded model by default).\n"
    "\n"
    "IN:  PNG, JPEG, BMP, TGA or binary PNM (gray, gray+alpha, RGB, RGBA; 8 or 16 bit), or .npy\n"
    "     float32 H x W x C. With -o, IN may be several files and folders (their image files,\n"
    "     not recursive).\n"
    "OUT: .png, .jpg/.jpeg, .ppm/.pgm (8-bit) or .npy (float32, not clamped). Alpha is resized\n"
    "     alongside (upscale) or kept (enhance). Every output appears only when complete.\n"
    "\n"
    "options:\n"
    "  -o, --output DIR   write each IN to DIR/NAME<suffix>.<ext> (DIR is created if missing);\n"
    "                     existing files are skipped unless --overwrite\n"
    "  --suffix TEXT      added to output names with -o (default: _x<scale> or _enhanced)\n"
    "  --ext EXT          png, jpg, ppm or npy for outputs with -o (default: png)\n"
    "  --overwrite        replace existing outputs with -o\n"
    "  --model FILE       a .lcw weight file (converters/convert.py); default: the embedded model\n"
    "  --threads N        worker threads, 0 = all cores (default 0; at most 4x the cores)\n"
    "  --isa NAME         highest kernel tier: scalar, avx2 or avx512 (default: best available)\n"
    "  --reference        scalar kernels and direct convolution (the audit path)\n"
    "  --precision P      fp32 (default: matches PyTorch fp32) or bf16 (AMX tiles, else\n"
    "                     AVX512-BF16; within bf16's error; README \"bf16\")\n"
    "  --max-memory MIB   working-memory budget: the run streams in narrower stripes (RED: in\n"
    "                     passes rather than whole) to fit it, and inputs that cannot fit are\n"
    "                     refused (default: usable memory; RED runs whole within min(1/4 of\n"
    "                     it, 4 GiB))\n"
    "  --stripe-rows N    output rows per streaming stripe (default: chosen; any N gives the\n"
    "                     same output bits; for tests and tuning)\n"
    "  --dump DIR         also write every layer's output to DIR (.npy + manifest.json;\n"
    "                     converters/audit.py compares them with PyTorch)\n"
    "  --profile          print each layer's time to stderr (bench/profile_layers.py)\n"
    "  --verbose          print the model, tier, threads and timing to stderr\n"
    "  --progress         print progress lines (rows done, time, estimate) to stderr from the\n"
    "                     start; by default a terminal shows one after two seconds of a run\n"
    "  --quiet            print errors only (no progress line)\n"
    "\n"
    "Exit status: 0 all done (skipped files included), 1 some input failed (the others are\n"
    "still written), 2 bad command line.\n";

bool parse_int(const char* s, long long lo, long long hi, long long* out) {
    if (s == nullptr || *s == '\0') return false;
    char* end = nullptr;
    errno = 0;
    const long long v = std::strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < lo || v > hi) return false;
    *out = v;
    return true;
}

std::string parse_args(int argc, const char* const* argv, Args* a) {
    *a = Args();
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i] ? argv[i] : "";
        if (arg == "--help" || arg == "-h") {
            a->help = true;
            return "";
        }
    }
    if (argc < 2 || argv[1] == nullptr) return "missing command";
    a->command = argv[1];
    if (a->command != "upscale" && a->command != "enhance")
        return "unknown command '" + a->command + "'";
    const unsigned cores = std::thread::hardware_concurrency();
    const long long max_threads = 4LL * (cores > 0 ? cores : 1);
    std::vector<std::string> positional;
    bool options_done = false;
    for (int i = 2; i < argc; ++i) {
        const std::string arg = argv[i] ? argv[i] : "";
        const char* next = i + 1 < argc ? argv[i + 1] : nullptr;
        long long v = 0;
        if (options_done || arg.empty() || arg[0] != '-' || arg == "-") {
            positional.push_back(arg);
        } else if (arg == "--") {
            options_done = true;
        } else if (arg == "--model") {
            if (!next) return "--model needs a file";
            a->model = argv[++i];
        } else if (arg == "-o" || arg == "--output") {
            if (!next || *next == '\0') return arg + " needs a folder";
            a->output = argv[++i];
            a->output_is_folder = true;
        } else if (arg == "--suffix") {
            if (!next) return "--suffix needs a text (may be empty)";
            a->suffix = argv[++i];
            a->suffix_set = true;
            if (a->suffix.find('/') != std::string::npos) return "--suffix may not contain '/'";
        } else if (arg == "--ext") {
            const std::string e = next ? next : "";
            if (e != "png" && e != "jpg" && e != "jpeg" && e != "ppm" && e != "npy")
                return "--ext needs png, jpg, ppm or npy";
            a->ext = e == "jpeg" ? "jpg" : e;
            ++i;
        } else if (arg == "--overwrite") {
            a->overwrite = true;
        } else if (arg == "--threads") {
            if (!parse_int(next, 0, max_threads, &v))
                return "--threads needs an integer from 0 (all cores) to " +
                       std::to_string(max_threads) + " (4x this machine's cores)";
            a->threads = static_cast<int32_t>(v);
            ++i;
        } else if (arg == "--isa") {
            if (!next || !parse_isa(next, &a->isa)) return "--isa needs scalar, avx2 or avx512";
            ++i;
        } else if (arg == "--max-memory") {
            if (!parse_int(next, 1, 1LL << 40, &v))
                return "--max-memory needs a size in MiB from 1 to 2^40";
            a->max_memory = static_cast<uint64_t>(v) << 20;
            ++i;
        } else if (arg == "--stripe-rows") {
            if (!parse_int(next, 1, 1LL << 30, &v))
                return "--stripe-rows needs an integer from 1 to 2^30";
            a->stripe_rows = v;
            ++i;
        } else if (arg == "--dump") {
            if (!next || !*next) return "--dump needs a folder";
            a->dump = argv[++i];
        } else if (arg == "--profile") {
            a->profile = true;
        } else if (arg == "--precision") {
            if (!next || (std::string(next) != "fp32" && std::string(next) != "bf16"))
                return "--precision needs fp32 or bf16";
            a->bf16 = std::string(argv[++i]) == "bf16";
        } else if (arg == "--reference") {
            a->reference = true;
        } else if (arg == "--verbose") {
            a->verbose = true;
        } else if (arg == "--quiet" || arg == "-q") {
            a->quiet = true;
        } else if (arg == "--progress") {
            a->progress = true;
        } else {
            return "unknown option '" + arg + "'";
        }
    }
    if (a->output_is_folder) {
        if (positional.empty()) return "need at least one input with -o";
        a->inputs = positional;
    } else {
        if (a->suffix_set || !a->ext.empty() || a->overwrite)
            return "--suffix, --ext and --overwrite go with -o OUTDIR";
        if (positional.size() != 2)
            return positional.size() < 2
                       ? "need an input and an output file (or -o OUTDIR and inputs)"
                       : "too many arguments: give one IN and one OUT, or -o OUTDIR IN...";
        a->inputs = {positional[0]};
        a->output = positional[1];
    }
    // --profile with -o profiles every image in turn (the first includes planning and the first
    // touch of the model's kept working memory; bench/profile_layers.py drops it).
    if (!a->dump.empty() && a->output_is_folder)
        return "--dump goes with one IN and one OUT, not with -o";
    for (const std::string& in : a->inputs)
        if (in.empty()) return "an input name is empty";
    if (a->output.empty()) return "the output name is empty";
    return "";
}

}  // namespace lucent::cli
