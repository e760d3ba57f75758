// The default models embedded in liblucent.a (models/default/*.lcw, assembled in with .incbin
// by the build; see cmake/LucentDefaultModels.cmake).
#pragma once

#include <cstddef>
#include <cstdint>

namespace lucent {

struct EmbeddedModel {
    const uint8_t* data;
    size_t size;
    const char* description;  // used as the model's name in messages
};

// Fills *out for "ssr" or "red"; false when this build embeds no such model.
bool default_model(const char* kind, EmbeddedModel* out);

}  // namespace lucent
