// The CLI's image pipeline: an Image (any of the supported channel layouts) through a Model
// and back, with alpha carried alongside and gray images replicated into RGB models.
#pragma once

#include "engine/image_io.h"
#include "lucent/model.hpp"

namespace lucent::cli {

// Runs `model` on `in`. Colour channels must match the model's input, or be gray for an RGB
// model (replicated in, averaged back out). A trailing alpha channel (gray+alpha, RGBA, or
// one channel more than the model takes in a .npy) is resized bilinearly for SSR and kept
// for RED. Non-.npy input is clamped to [0, 1] on output.
Result<Image> process(const Model& model, const Image& in);

// Checks, before decoding, that an image of `info` fits the memory limit (model working memory
// plus the image buffers); the message names the sizes.
Status check_memory(const Model& model, const ImageInfo& info, uint64_t limit);

}  // namespace lucent::cli
