// `lucent ... --dump DIR`: every layer's output as DIR/<layer name>.npy (float32 NCHW, one
// image) plus DIR/manifest.json (the layers in graph order with file, shape and operation, and
// the model, precision, kernel tier and threads used). converters/audit.py reads it.
#pragma once

#include <string>
#include <vector>

#include "lucent/lucent.hpp"

namespace lucent::cli {

class LayerDump {
  public:
    explicit LayerDump(std::string dir) : dir_(std::move(dir)) {}
    // Creates the folder (and its parents).
    Status prepare();
    // The observer to pass to Model::run / run_image; a write error is kept for finish().
    LayerObserver observer();
    // Writes manifest.json; returns the first error of the run's writes, if any.
    Status finish(const Model& model, const std::string& input);

  private:
    struct Entry {
        std::string name, file, op;
        Dims dims;
    };
    std::string dir_;
    std::vector<Entry> entries_;
    Status first_error_;
};

}  // namespace lucent::cli
