// libFuzzer target: the CLI's argument parser, argv split from the input at NUL bytes.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "cli/args.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::vector<std::string> words{"lucent"};
    std::string cur;
    for (size_t i = 0; i < size && words.size() < 64; ++i) {
        if (data[i] == 0) {
            words.push_back(cur);
            cur.clear();
        } else {
            cur.push_back(static_cast<char>(data[i]));
        }
    }
    words.push_back(cur);
    std::vector<const char*> argv;
    for (const std::string& w : words) argv.push_back(w.c_str());
    lucent::cli::Args a;
    (void)lucent::cli::parse_args(static_cast<int>(argv.size()), argv.data(), &a);
    return 0;
}
