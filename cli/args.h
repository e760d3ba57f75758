// The lucent command line, parsed into plain values. No I/O happens here (the fuzz target and
// the tests call parse_args directly).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "lucent/isa.hpp"

namespace lucent::cli {

struct Args {
    std::string command;              // "upscale" or "enhance"
    std::string model;                // --model FILE; empty = the embedded default
    std::vector<std::string> inputs;  // files or folders
    std::string output;               // OUT (one input) or, with -o, the output folder
    bool output_is_folder = false;    // -o / --output given
    std::string suffix;               // --suffix; set = true when given
    bool suffix_set = false;
    std::string ext;         // --ext: png, jpg, ppm, npy or "" (png)
    bool overwrite = false;  // --overwrite: replace outputs that exist (folder mode)
    int32_t threads = 0;
    Isa isa = Isa::kAvx512;
    bool reference = false, verbose = false, quiet = false, help = false;
    uint64_t max_memory = 0;  // bytes; 0 = the library's default
    int64_t stripe_rows = 0;  // 0 = the library's choice
    std::string dump;         // --dump DIR: every layer's output (one input only)
    bool profile = false;     // --profile: per-layer time on stderr
    bool progress = false;    // --progress: progress lines from the start, on any stderr
    bool bf16 = false;        // --precision bf16
};

// Fills *a from argv[1..argc). Returns "" on success, else one line saying what is wrong.
// `--help` / `-h` anywhere sets a->help and succeeds.
std::string parse_args(int argc, const char* const* argv, Args* a);

// A whole decimal integer in [lo, hi] (used by every option parser of the tool).
bool parse_int(const char* s, long long lo, long long hi, long long* out);

// The usage text.
extern const char kUsage[];

}  // namespace lucent::cli
