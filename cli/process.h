// One input file through a model into one output file, using only the public API: memory
// check from the header before decoding, decode, Model::run_image_rows into a row encoder (or
// Model::run_image / Model::run for dumps, profiles and arrays of over 4 channels), all
// through an AtomicFile.
#pragma once

#include <string>

#include "image_io.h"
#include "lucent/lucent.hpp"

namespace lucent::cli {

struct OutSize {
    int64_t w = 0, h = 0;
    int32_t c = 0;
};

// Checks an input, from its header, against the model (channels, size) and the memory limit
// (model working memory, the encoded input, the decoded input and the output image for
// `fmt`). Returns the output size. Used before decoding by the CLI and the server alike.
// by_rows: the output will be written row by row (process_file's plain runs), so no output
// image is counted.
Result<OutSize> check_input(const Model& model, const ImageInfo& info, ImageFormat fmt,
                            size_t encoded_bytes, bool by_rows = false);
// Runs the model on a decoded image. The result has `fmt`'s sample type (16-bit stays 16-bit in
// PNG/PNM, float for .npy) and no alpha channel when `fmt` keeps none (*alpha_dropped says so).
Result<Image> apply_model(const Model& model, const Image& img, ImageFormat fmt,
                          bool* alpha_dropped, const LayerObserver* observe = nullptr);

struct FileResult {
    int64_t in_w = 0, in_h = 0, out_w = 0, out_h = 0;
    double decode_ms = 0, run_ms = 0, encode_ms = 0;
    bool alpha_dropped = false;  // the output format has no alpha channel
};

enum class Progress {
    kOff,
    kTerminal,  // on a terminal, once a run has taken two seconds
    kAlways,    // from the start, on any stderr (--progress)
};

struct ProcessOptions {
    std::string dump_dir;  // non-empty: every layer's output goes there as well (dump.h)
    bool profile = false;  // each layer's time to stderr as "profile: NAME OP NxCxHxW MS"
    Progress progress = Progress::kOff;
    std::string label;  // starts the progress line
};

// Plain runs (no dump, no profile; any output format, .npy included) stream: output rows are
// encoded into the file as the model produces them. Dumps, profiles and .npy arrays of over
// four channels run the whole image.
Status process_file(const Model& model, const std::string& in, const std::string& out,
                    FileResult* result, const ProcessOptions& options = {});

}  // namespace lucent::cli
