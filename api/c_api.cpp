// The C API (lucent/lucent.h): a thin shim over lucent::Model. Every entry point checks its
// pointers, converts the C structs, and keeps the failing call's message per thread.
#include <cstdio>
#include <string>

#include "api/no_throw.h"
#include "lucent/lucent.h"
#include "lucent/lucent.hpp"

struct lucent_model {
    lucent::Model model;
};

namespace {

// Fixed storage: keeping the message can never fail or allocate (long messages are cut).
thread_local char t_last_error[1024];

lucent_status finish(const lucent::Status& st) {
    if (st.ok()) return LUCENT_STATUS_OK;
    std::snprintf(t_last_error, sizeof t_last_error, "%s", st.message().c_str());
    return static_cast<lucent_status>(st.code());
}

// Every entry point's body: whatever it throws (building a message can allocate) becomes a
// status, since nothing may unwind into C.
template <typename Fn>
lucent_status guarded(const char* function, const Fn& fn) {
    try {
        return finish(lucent::no_throw(function, fn));
    } catch (...) {
        std::snprintf(t_last_error, sizeof t_last_error, "%s: out of memory", function);
        return LUCENT_STATUS_OUT_OF_MEMORY;
    }
}

lucent::Status null_arg(const char* function, const char* arg) {
    return lucent::make_status(lucent::StatusCode::kInvalidArgument, "%s: %s is null", function,
                               arg);
}

// A callback's status comes back as it was (out-of-range codes as internal); the message names
// the function and which callback stopped the run.
lucent::Status callback_status(const char* function, const char* side, int32_t code) {
    if (code == LUCENT_STATUS_OK) return lucent::Status();
    if (code < 0 || code > LUCENT_STATUS_INTERNAL) code = LUCENT_STATUS_INTERNAL;
    return lucent::make_status(static_cast<lucent::StatusCode>(code),
                               "%s: the %s callback returned %s", function, side,
                               lucent_status_name(code));
}

lucent::Options to_options(const lucent_options* in) {
    lucent::Options out;
    if (in == nullptr) return out;
    out.num_threads = in->num_threads;
    out.max_isa = static_cast<lucent::Isa>(in->max_isa);
    out.reference = in->reference != 0;
    out.precision = static_cast<lucent::Precision>(in->precision);
    out.max_memory_bytes = in->max_memory_bytes;
    return out;
}

// Shared body of the three loaders.
template <typename Load>
lucent_status load_with(const char* function, const lucent_options* options, lucent_model** out,
                        const Load& load) {
    if (out != nullptr) *out = nullptr;
    return guarded(function, [&]() -> lucent::Status {
        if (out == nullptr) return null_arg(function, "out");
        LUCENT_ASSIGN_OR_RETURN(lucent::Model m, load(to_options(options)));
        *out = new lucent_model{std::move(m)};
        return lucent::Status();
    });
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

const char* lucent_status_name(int32_t status) {
    return lucent::status_code_name(static_cast<lucent::StatusCode>(status));
}

const char* lucent_last_error(void) { return t_last_error; }

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
    const char* fn = "lucent_model_load_file";
    if (path == nullptr) {
        if (out != nullptr) *out = nullptr;
        return guarded(fn, [&] { return null_arg(fn, "path"); });
    }
    return load_with(fn, options, out,
                     [&](const lucent::Options& o) { return lucent::Model::load(path, o); });
}

lucent_status lucent_model_load_memory(const void* data, size_t size, const lucent_options* options,
                                       lucent_model** out) {
    const char* fn = "lucent_model_load_memory";
    if (data == nullptr) {
        if (out != nullptr) *out = nullptr;
        return guarded(fn, [&] { return null_arg(fn, "data"); });
    }
    return load_with(fn, options, out, [&](const lucent::Options& o) {
        return lucent::Model::load_memory(static_cast<const uint8_t*>(data), size,
                                          "model in memory", o);
    });
}

lucent_status lucent_model_load_default(int32_t kind, const lucent_options* options,
                                        lucent_model** out) {
    return load_with("lucent_model_load_default", options, out, [&](const lucent::Options& o) {
        return lucent::Model::load_default(static_cast<lucent::ModelKind>(kind), o);
    });
}

void lucent_model_free(lucent_model* model) { delete model; }

void lucent_model_release_working_memory(const lucent_model* model) {
    if (model != nullptr) model->model.release_working_memory();
}

lucent_status lucent_model_get_info(const lucent_model* model, lucent_model_info* info) {
    const char* fn = "lucent_model_get_info";
    return guarded(fn, [&]() -> lucent::Status {
        if (model == nullptr) return null_arg(fn, "model");
        if (info == nullptr) return null_arg(fn, "info");
        const lucent::Model& m = model->model;
        info->kind = static_cast<int32_t>(m.kind());
        info->isa = static_cast<int32_t>(m.isa());
        info->scale = m.scale();
        info->in_channels = m.in_channels();
        info->out_channels = m.out_channels();
        return lucent::Status();
    });
}

lucent_status lucent_model_output_size(const lucent_model* model, int64_t width, int64_t height,
                                       int32_t channels, int64_t* out_width, int64_t* out_height,
                                       int32_t* out_channels) {
    const char* fn = "lucent_model_output_size";
    return guarded(fn, [&]() -> lucent::Status {
        if (model == nullptr) return null_arg(fn, "model");
        if (out_width == nullptr) return null_arg(fn, "out_width");
        if (out_height == nullptr) return null_arg(fn, "out_height");
        if (out_channels == nullptr) return null_arg(fn, "out_channels");
        lucent::ImageSize size;
        LUCENT_RETURN_IF_ERROR(model->model.output_image_size(width, height, channels, &size));
        *out_width = size.width;
        *out_height = size.height;
        *out_channels = size.channels;
        return lucent::Status();
    });
}

size_t lucent_image_buffer_bytes(int64_t width, int64_t height, int32_t channels, int32_t type,
                                 size_t stride_bytes) {
    return lucent::image_buffer_bytes(lucent::ImageSize{width, height, channels},
                                      static_cast<lucent::PixelType>(type), stride_bytes);
}

lucent_status lucent_model_run_image(const lucent_model* model, const lucent_image* in,
                                     const lucent_image* out) {
    const char* fn = "lucent_model_run_image";
    return guarded(fn, [&]() -> lucent::Status {
        if (model == nullptr) return null_arg(fn, "model");
        if (in == nullptr) return null_arg(fn, "in");
        if (out == nullptr) return null_arg(fn, "out");
        const lucent::ImageView dst{
            out->data,        out->size_bytes, out->width,
            out->height,      out->channels,   static_cast<lucent::PixelType>(out->pixel_type),
            out->stride_bytes};
        return model->model.run_image(to_view(*in), dst);
    });
}

lucent_status lucent_model_run_tensor(const lucent_model* model, const float* in, int64_t n,
                                      int64_t c, int64_t h, int64_t w, float* out,
                                      size_t out_count) {
    const char* fn = "lucent_model_run_tensor";
    return guarded(fn, [&]() -> lucent::Status {
        if (model == nullptr) return null_arg(fn, "model");
        if (in == nullptr) return null_arg(fn, "in");
        if (out == nullptr) return null_arg(fn, "out");
        const lucent::Dims dims{n, c, h, w};
        lucent::Dims od;
        LUCENT_RETURN_IF_ERROR(model->model.output_dims(dims, &od));
        if (static_cast<uint64_t>(od.count()) > out_count)
            return lucent::make_status(
                lucent::StatusCode::kInvalidArgument,
                "%s: out_count is %zu; the output [%lld, %lld, %lld, %lld] has %lld values", fn,
                out_count, static_cast<long long>(od.n), static_cast<long long>(od.c),
                static_cast<long long>(od.h), static_cast<long long>(od.w),
                static_cast<long long>(od.count()));
        return model->model.run(in, dims, out);
    });
}

lucent_status lucent_model_run_rows(const lucent_model* model, int64_t c, int64_t h, int64_t w,
                                    lucent_row_source source, lucent_row_sink sink, void* user) {
    const char* fn = "lucent_model_run_rows";
    return guarded(fn, [&]() -> lucent::Status {
        if (model == nullptr) return null_arg(fn, "model");
        if (source == nullptr) return null_arg(fn, "source");
        if (sink == nullptr) return null_arg(fn, "sink");
        const auto to_c = [](const lucent::Model::RowBlock& b) {
            return lucent_row_block{b.y0, b.y1, b.width, b.channels, b.channel_stride, b.data};
        };
        return model->model.run_rows(
            lucent::Dims{1, c, h, w},
            [&](const lucent::Model::RowBlock& b) {
                const lucent_row_block cb = to_c(b);
                return callback_status(fn, "source", source(user, &cb));
            },
            [&](const lucent::Model::RowBlock& b) {
                const lucent_row_block cb = to_c(b);
                return callback_status(fn, "sink", sink(user, &cb));
            });
    });
}

lucent_status lucent_model_run_image_rows(const lucent_model* model, const lucent_image* in,
                                          int32_t out_type, lucent_image_row_sink sink,
                                          void* user) {
    const char* fn = "lucent_model_run_image_rows";
    return guarded(fn, [&]() -> lucent::Status {
        if (model == nullptr) return null_arg(fn, "model");
        if (in == nullptr) return null_arg(fn, "in");
        if (sink == nullptr) return null_arg(fn, "sink");
        return model->model.run_image_rows(
            to_view(*in), static_cast<lucent::PixelType>(out_type),
            [&](int64_t y0, const lucent::ConstImageView& rows) -> lucent::Status {
                lucent_image c_rows{};
                c_rows.data = const_cast<void*>(rows.data);
                c_rows.size_bytes = rows.size_bytes;
                c_rows.width = rows.width;
                c_rows.height = rows.height;
                c_rows.channels = rows.channels;
                c_rows.pixel_type = static_cast<int32_t>(rows.type);
                c_rows.stride_bytes = rows.stride_bytes;
                return callback_status(fn, "sink", sink(user, y0, &c_rows));
            });
    });
}

}  // extern "C"
