// Which files a command line reads and writes: one IN -> OUT pair, or every input (files and
// the image files of folders) mapped into an output folder as NAME<suffix>.<ext>.
#pragma once

#include <string>
#include <vector>

#include "args.h"
#include "lucent/status.hpp"

namespace lucent::cli {

struct Job {
    std::string in, out;
    std::string skip;   // non-empty: not run, and why (e.g. "exists")
    std::string error;  // non-empty: this input fails, and why (e.g. a duplicate output name)
};

// `default_suffix` is used with -o when --suffix is not given. Creates the output folder.
// A folder that cannot be listed or created fails the whole command (kIo).
Result<std::vector<Job>> plan_jobs(const Args& a, const std::string& default_suffix);

}  // namespace lucent::cli
