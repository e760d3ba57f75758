// The C API (lucent/lucent.h): a thin shim over lucent::Model. Every entry point checks its
// pointers, converts the C structs, and keeps the failing call's message per thread.
#include <string>

#include "api/no_throw.h"
#include "lucent/lucent.h"
#include "lucent/lucent.hpp"

struct lucent_model {
    lucent::Model model;
};

namespace {

thread_local std::string t_last_error;

lucent_status finish(const lucent::Status& st) {
    if (st.ok()) return LUCENT_STATUS_OK;
    try {
        t_last_error = st.message();
    } catch (...) {
        t_last_error.clear();  // keep the code; the message did not fit in memory
    }
    return static_cast<lucent_status>(st.code());
}

lucent::Status null_arg(const char* function, const char* arg) {
    return lucent::make_status(lucent::StatusCode::kInvalidArgument, "%s: %s is null", function,
                               arg);
}

lucent::Status to_options(const lucent_options* in, lucent::Options* out) {
    *out = lucent::Options();
    if (in == nullptr) return lucent::Status();
    out->num_threads = in->num_threads;
    out->max_isa = static_cast<lucent::Isa>(in->max_isa);
    out->reference = in->reference != 0;
    out->precision = static_cast<lucent::Precision>(in->precision);
    out->max_memory_bytes = in->max_memory_bytes;
    return lucent::Status();
}

// Shared tail of the three loaders.
template <typename Load>
lucent_status load_with(const char* function, const lucent_options* options, lucent_model** out,
                        const Load& load) {
    if (out == nullptr) return finish(null_arg(function, "out"));
    *out = nullptr;
    return finish(lucent::no_throw(function, [&]() -> lucent::Status {
        lucent::Options opt;
        LUCENT_RETURN_IF_ERROR(to_options(options, &opt));
        LUCENT_ASSIGN_OR_RETURN(lucent::Model m, load(opt));
        *out = new lucent_model{std::move(m)};
        return lucent::Status();
    }));
}

lucent::ConstImageView to_view(const lucent_image& im) {
    return lucent::ConstImageView{im.data,        im.size_bytes,
                                  im.width,       im.height,
                                  im.channels,    static_cast<lucent::PixelType>(im.pixel_type),
                                  im.stride_bytes};
}

}  // namespace

extern "C" {

const char* lucent_version(void) { return lucent::version(); }

const char* lucent_status_name(lucent_status status) {
    return lucent::status_code_name(static_cast<lucent::StatusCode>(status));
}

const char* lucent_last_error(void) { return t_last_error.c_str(); }

void lucent_options_init(lucent_options* options) {
    if (options == nullptr) return;
    options->num_threads = 0;
    options->max_isa = LUCENT_ISA_AVX512;
    options->reference = 0;
    options->precision = LUCENT_PRECISION_FP32;
    options->max_memory_bytes = 0;
}

lucent_status lucent_model_load_file(const char* path, const lucent_options* options,
                                     lucent_model** out) {
    if (path == nullptr) {
        if (out != nullptr) *out = nullptr;
        return finish(null_arg("lucent_model_load_file", "path"));
    }
    return load_with("lucent_model_load_file", options, out,
                     [&](const lucent::Options& o) { return lucent::Model::load(path, o); });
}

lucent_status lucent_model_load_memory(const void* data, size_t size, const lucent_options* options,
                                       lucent_model** out) {
    if (data == nullptr) {
        if (out != nullptr) *out = nullptr;
        return finish(null_arg("lucent_model_load_memory", "data"));
    }
    return load_with("lucent_model_load_memory", options, out, [&](const lucent::Options& o) {
        return lucent::Model::load_memory(static_cast<const uint8_t*>(data), size,
                                          "model in memory", o);
    });
}

lucent_status lucent_model_load_default(lucent_model_kind kind, const lucent_options* options,
                                        lucent_model** out) {
    return load_with("lucent_model_load_default", options, out, [&](const lucent::Options& o) {
        return lucent::Model::load_default(static_cast<lucent::ModelKind>(kind), o);
    });
}

void lucent_model_free(lucent_model* model) { delete model; }

lucent_status lucent_model_get_info(const lucent_model* model, lucent_model_info* info) {
    if (model == nullptr) return finish(null_arg("lucent_model_get_info", "model"));
    if (info == nullptr) return finish(null_arg("lucent_model_get_info", "info"));
    const lucent::Model& m = model->model;
    info->kind = static_cast<int32_t>(m.kind());
    info->isa = static_cast<int32_t>(m.isa());
    info->scale = m.scale();
    info->in_channels = m.in_channels();
    info->out_channels = m.out_channels();
    return LUCENT_STATUS_OK;
}

lucent_status lucent_model_output_size(const lucent_model* model, int64_t width, int64_t height,
                                       int32_t channels, int64_t* out_width, int64_t* out_height,
                                       int32_t* out_channels) {
    const char* fn = "lucent_model_output_size";
    if (model == nullptr) return finish(null_arg(fn, "model"));
    if (out_width == nullptr) return finish(null_arg(fn, "out_width"));
    if (out_height == nullptr) return finish(null_arg(fn, "out_height"));
    if (out_channels == nullptr) return finish(null_arg(fn, "out_channels"));
    lucent::ImageSize size;
    const lucent::Status st = model->model.output_image_size(width, height, channels, &size);
    if (!st.ok()) return finish(st);
    *out_width = size.width;
    *out_height = size.height;
    *out_channels = size.channels;
    return LUCENT_STATUS_OK;
}

size_t lucent_image_buffer_bytes(int64_t width, int64_t height, int32_t channels,
                                 lucent_pixel_type type, size_t stride_bytes) {
    return lucent::image_buffer_bytes(lucent::ImageSize{width, height, channels},
                                      static_cast<lucent::PixelType>(type), stride_bytes);
}

lucent_status lucent_model_run_image(const lucent_model* model, const lucent_image* in,
                                     const lucent_image* out) {
    const char* fn = "lucent_model_run_image";
    if (model == nullptr) return finish(null_arg(fn, "model"));
    if (in == nullptr) return finish(null_arg(fn, "in"));
    if (out == nullptr) return finish(null_arg(fn, "out"));
    const lucent::ConstImageView src = to_view(*in);
    const lucent::ImageView dst{out->data,        out->size_bytes,
                                out->width,       out->height,
                                out->channels,    static_cast<lucent::PixelType>(out->pixel_type),
                                out->stride_bytes};
    return finish(model->model.run_image(src, dst));
}

lucent_status lucent_model_run_tensor(const lucent_model* model, const float* in, int64_t n,
                                      int64_t c, int64_t h, int64_t w, float* out,
                                      size_t out_count) {
    const char* fn = "lucent_model_run_tensor";
    if (model == nullptr) return finish(null_arg(fn, "model"));
    if (in == nullptr) return finish(null_arg(fn, "in"));
    if (out == nullptr) return finish(null_arg(fn, "out"));
    const lucent::Dims dims{n, c, h, w};
    lucent::Dims od;
    lucent::Status st = model->model.output_dims(dims, &od);
    if (!st.ok()) return finish(st);
    if (static_cast<uint64_t>(od.count()) > out_count)
        return finish(lucent::make_status(
            lucent::StatusCode::kInvalidArgument,
            "%s: out_count is %zu; the output [%lld, %lld, %lld, %lld] has %lld values", fn,
            out_count, static_cast<long long>(od.n), static_cast<long long>(od.c),
            static_cast<long long>(od.h), static_cast<long long>(od.w),
            static_cast<long long>(od.count())));
    return finish(model->model.run(in, dims, out));
}

}  // extern "C"
