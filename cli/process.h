// One input file through a model into one output file, using only the public API: memory
// check from the header before decoding, decode, Model::run_image (or Model::run for .npy
// arrays of more than 4 channels), encode through an AtomicFile.
#pragma once

#include <string>

#include "lucent/lucent.hpp"

namespace lucent::cli {

struct FileResult {
    int64_t in_w = 0, in_h = 0, out_w = 0, out_h = 0;
    double decode_ms = 0, run_ms = 0, encode_ms = 0;
    bool alpha_dropped = false;  // the output format has no alpha channel
};

Status process_file(const Model& model, const std::string& in, const std::string& out,
                    FileResult* result);

}  // namespace lucent::cli
