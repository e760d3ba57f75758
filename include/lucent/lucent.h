/* Lucent: C API (C99), a thin layer over the C++ API of lucent/lucent.hpp.
 *
 *   lucent_model* m = NULL;
 *   if (lucent_model_load_default(LUCENT_MODEL_SSR, NULL, &m) != LUCENT_STATUS_OK)
 *       fprintf(stderr, "%s\n", lucent_last_error());
 *
 * Every function returns a lucent_status (or a value that needs none) and never crashes on a
 * bad argument: null pointers, wrong channel counts, small buffers and strides come back as
 * LUCENT_STATUS_INVALID_ARGUMENT, with a message naming the argument in lucent_last_error()
 * (per thread, valid until the thread's next failing call). Nothing is allocated on the
 * caller's behalf except the model handle, freed by lucent_model_free(). A loaded model is
 * immutable: several threads may run it at once.
 *
 * Images are interleaved (RGBRGB...), 1-4 channels (gray, gray+alpha, RGB, RGBA), uint8,
 * uint16 or float32 samples, rows stride_bytes apart (0 = packed). The channel and alpha
 * rules are those of lucent::Model::run_image (lucent/model.hpp). */
#ifndef LUCENT_LUCENT_H
#define LUCENT_LUCENT_H

#include <stddef.h>
#include <stdint.h>

#include "lucent/version.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Mirrors lucent::StatusCode. */
typedef enum lucent_status {
    LUCENT_STATUS_OK = 0,
    LUCENT_STATUS_INVALID_ARGUMENT = 1,
    LUCENT_STATUS_IO = 2,
    LUCENT_STATUS_BAD_WEIGHTS = 3,
    LUCENT_STATUS_UNSUPPORTED = 4,
    LUCENT_STATUS_OUT_OF_MEMORY = 5,
    LUCENT_STATUS_INTERNAL = 6
} lucent_status;

typedef enum lucent_model_kind { LUCENT_MODEL_SSR = 1, LUCENT_MODEL_RED = 2 } lucent_model_kind;

typedef enum lucent_pixel_type {
    LUCENT_PIXEL_U8 = 1,
    LUCENT_PIXEL_U16 = 2,
    LUCENT_PIXEL_F32 = 3
} lucent_pixel_type;

typedef enum lucent_isa {
    LUCENT_ISA_SCALAR = 0,
    LUCENT_ISA_AVX2 = 1,
    LUCENT_ISA_AVX512 = 2
} lucent_isa;

typedef enum lucent_precision {
    LUCENT_PRECISION_FP32 = 0,
    LUCENT_PRECISION_BF16 = 1
} lucent_precision;

/* Options for loading a model; lucent_options_init() fills the defaults. */
typedef struct lucent_options {
    int32_t num_threads;       /* 0 = the cores this process may use (LUCENT_NUM_THREADS if set) */
    int32_t max_isa;           /* a lucent_isa: cap on the kernel tier */
    int32_t reference;         /* non-zero: scalar kernels, direct convolution */
    int32_t precision;         /* a lucent_precision; BF16: AMX or AVX512-BF16 */
    uint64_t max_memory_bytes; /* working-memory limit per run; 0 = physical memory */
} lucent_options;

typedef struct lucent_image {
    void* data;        /* the samples (const for inputs) */
    size_t size_bytes; /* bytes at data */
    int64_t width;
    int64_t height;
    int32_t channels;    /* 1-4 */
    int32_t pixel_type;  /* a lucent_pixel_type */
    size_t stride_bytes; /* 0 = packed rows */
} lucent_image;

typedef struct lucent_model_info {
    int32_t kind;         /* a lucent_model_kind */
    int32_t isa;          /* the kernel tier in use, a lucent_isa */
    int64_t scale;        /* output size / input size (1 for RED) */
    int64_t in_channels;  /* colour channels the model takes */
    int64_t out_channels; /* and gives */
} lucent_model_info;

typedef struct lucent_model lucent_model;

/* Version of the library linked in, "MAJOR.MINOR.PATCH". */
const char* lucent_version(void);
/* Name of a status (a lucent_status value), e.g. "invalid argument"; never NULL. */
const char* lucent_status_name(int32_t status);
/* The calling thread's last error message ("" if none). */
const char* lucent_last_error(void);

void lucent_options_init(lucent_options* options);

/* options may be NULL (defaults). *out is set to a new handle, or NULL on failure. */
lucent_status lucent_model_load_file(const char* path, const lucent_options* options,
                                     lucent_model** out);
lucent_status lucent_model_load_memory(const void* data, size_t size, const lucent_options* options,
                                       lucent_model** out);
/* kind: a lucent_model_kind. */
lucent_status lucent_model_load_default(int32_t kind, const lucent_options* options,
                                        lucent_model** out);
/* NULL is allowed. */
void lucent_model_free(lucent_model* model);
/* Frees the working memory a model keeps from earlier runs for the next run of the same size
 * (a run's plan and arena are kept within what a run may spend to go faster: README
 * "Streaming"). NULL is allowed. */
void lucent_model_release_working_memory(const lucent_model* model);

lucent_status lucent_model_get_info(const lucent_model* model, lucent_model_info* info);
/* Output width, height and channels for an input image. */
lucent_status lucent_model_output_size(const lucent_model* model, int64_t width, int64_t height,
                                       int32_t channels, int64_t* out_width, int64_t* out_height,
                                       int32_t* out_channels);
/* Bytes an image needs: stride * (height - 1) + width * channels * sample size; 0 if invalid.
 * type: a lucent_pixel_type. */
size_t lucent_image_buffer_bytes(int64_t width, int64_t height, int32_t channels, int32_t type,
                                 size_t stride_bytes);
/* out's width, height and channels must be lucent_model_output_size()'s. */
lucent_status lucent_model_run_image(const lucent_model* model, const lucent_image* in,
                                     const lucent_image* out);
/* float32 NCHW: in holds n*c*h*w values, out has room for out_count values (the output dims
 * are n x out_channels x (h*scale) x (w*scale)). */
lucent_status lucent_model_run_tensor(const lucent_model* model, const float* in, int64_t n,
                                      int64_t c, int64_t h, int64_t w, float* out,
                                      size_t out_count);

/* Streaming (README "Streaming"): rows [y0, y1) of one image, float32; channel c's rows start
 * at data + c * channel_stride, each row `width` floats. */
typedef struct lucent_row_block {
    int64_t y0, y1, width, channels, channel_stride;
    float* data;
} lucent_row_block;
/* Fills block->data with input rows [y0, y1), asked in order from row 0 (SSR: each row once;
 * RED runs in passes and asks for the rows two or three times, each pass from row 0); return
 * LUCENT_STATUS_OK, or any other status to stop the run (lucent_model_run_rows then returns it). */
typedef int32_t (*lucent_row_source)(void* user, const lucent_row_block* block);
/* Receives output rows [y0, y1) in order; data is valid only during the call. */
typedef int32_t (*lucent_row_sink)(void* user, const lucent_row_block* block);
/* One image of c x h x w: input rows pulled from source, output rows pushed to sink. SSR and RED
 * models stream within the memory limit (bounded by the width, not the height) with the bits of
 * lucent_model_run_tensor; other models (SSR with channel attention) read all rows first. */
lucent_status lucent_model_run_rows(const lucent_model* model, int64_t c, int64_t h, int64_t w,
                                    lucent_row_source source, lucent_row_sink sink, void* user);

/* Receives output rows [y0, y0 + rows->height) of an image in order, top to bottom: packed rows
 * (rows->stride_bytes apart) of lucent_model_output_size()'s width and channels in the asked
 * pixel type; valid only during the call. Return LUCENT_STATUS_OK to go on. */
typedef int32_t (*lucent_image_row_sink)(void* user, int64_t y0, const lucent_image* rows);
/* lucent_model_run_image without an output buffer: rows go to sink as they are done (SSR: one
 * stripe at a time, so a file of any height can be encoded while only a stripe exists).
 * out_type: a lucent_pixel_type. Same bytes as lucent_model_run_image. */
lucent_status lucent_model_run_image_rows(const lucent_model* model, const lucent_image* in,
                                          int32_t out_type, lucent_image_row_sink sink, void* user);

#ifdef __cplusplus
}
#endif

#endif /* LUCENT_LUCENT_H */
