/* The C API from a C99 program: every function with null and bad arguments (a status naming
 * the argument, never a crash), and real runs of both embedded models through the image and
 * tensor calls. Prints "N passed, N failed" and exits non-zero on any failure. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lucent/lucent.h"

static int g_passed = 0, g_failed = 0;

static void check(int ok, const char* what, int line) {
    if (ok) {
        ++g_passed;
    } else {
        ++g_failed;
        printf("FAILED (line %d): %s [last error: %s]\n", line, what, lucent_last_error());
    }
}
#define CHECK(cond) check((cond) != 0, #cond, __LINE__)
/* The call fails with status s and the message mentions needle. */
#define CHECK_FAILS(call, s, needle) \
    check((call) == (s) && strstr(lucent_last_error(), (needle)) != NULL, #call, __LINE__)

static void test_basics(void) {
    lucent_options opt;
    CHECK(strcmp(lucent_version(), LUCENT_VERSION_STRING) == 0);
    CHECK(strcmp(lucent_status_name(LUCENT_STATUS_INVALID_ARGUMENT), "invalid argument") == 0);
    CHECK(lucent_status_name(99) != NULL);
    lucent_options_init(NULL);
    lucent_options_init(&opt);
    CHECK(opt.num_threads == 0 && opt.precision == LUCENT_PRECISION_FP32);
    lucent_model_free(NULL);
    lucent_model_release_working_memory(NULL);
}

static void test_loading(void) {
    lucent_model* m = (lucent_model*)&g_passed; /* must be reset to NULL on failure */
    lucent_options opt;
    static const unsigned char junk[16] = {1, 2, 3};
    CHECK_FAILS(lucent_model_load_file(NULL, NULL, &m), LUCENT_STATUS_INVALID_ARGUMENT,
                "path is null");
    CHECK(m == NULL);
    CHECK_FAILS(lucent_model_load_file("x.lcw", NULL, NULL), LUCENT_STATUS_INVALID_ARGUMENT,
                "out is null");
    CHECK_FAILS(lucent_model_load_file("/nonexistent/x.lcw", NULL, &m), LUCENT_STATUS_IO, "x.lcw");
    CHECK_FAILS(lucent_model_load_memory(NULL, 10, NULL, &m), LUCENT_STATUS_INVALID_ARGUMENT,
                "data is null");
    CHECK_FAILS(lucent_model_load_memory(junk, sizeof junk, NULL, &m), LUCENT_STATUS_BAD_WEIGHTS,
                "");
    CHECK(m == NULL);
    CHECK_FAILS(lucent_model_load_default(7, NULL, &m), LUCENT_STATUS_INVALID_ARGUMENT, "kind");
    lucent_options_init(&opt);
    opt.precision = LUCENT_PRECISION_BF16;
    opt.max_isa = LUCENT_ISA_AVX2; /* bf16 runs on AMX only: refused on any machine */
    CHECK_FAILS(lucent_model_load_default(LUCENT_MODEL_SSR, &opt, &m), LUCENT_STATUS_UNSUPPORTED,
                "bf16");
    lucent_options_init(&opt);
    opt.num_threads = -2;
    CHECK_FAILS(lucent_model_load_default(LUCENT_MODEL_SSR, &opt, &m),
                LUCENT_STATUS_INVALID_ARGUMENT, "num_threads");
    lucent_options_init(&opt);
    opt.max_isa = 12;
    CHECK_FAILS(lucent_model_load_default(LUCENT_MODEL_SSR, &opt, &m),
                LUCENT_STATUS_INVALID_ARGUMENT, "max_isa");
}

static void fill(unsigned char* p, size_t n, unsigned seed) {
    size_t i;
    for (i = 0; i < n; ++i) {
        seed = seed * 1103515245u + 12345u;
        p[i] = (unsigned char)(seed >> 16);
    }
}

static void test_running(lucent_model_kind kind) {
    lucent_model* m = NULL;
    lucent_model_info info;
    lucent_options opt;
    int64_t ow = 0, oh = 0;
    int32_t oc = 0;
    size_t in_bytes, out_bytes, i, j;
    unsigned char *in_px, *out_px;
    float *tin, *tout;
    lucent_image in, out, bad;
    const int64_t w = 7, h = 5;

    lucent_options_init(&opt);
    opt.num_threads = 1;
    CHECK(lucent_model_load_default(kind, &opt, &m) == LUCENT_STATUS_OK);
    if (m == NULL) return;
    CHECK_FAILS(lucent_model_get_info(NULL, &info), LUCENT_STATUS_INVALID_ARGUMENT,
                "model is null");
    CHECK_FAILS(lucent_model_get_info(m, NULL), LUCENT_STATUS_INVALID_ARGUMENT, "info is null");
    CHECK(lucent_model_get_info(m, &info) == LUCENT_STATUS_OK);
    CHECK(info.kind == (int32_t)kind && info.in_channels == 3 && info.out_channels == 3);
    CHECK(info.scale == (kind == LUCENT_MODEL_SSR ? 4 : 1));

    CHECK_FAILS(lucent_model_output_size(m, w, h, 3, NULL, &oh, &oc),
                LUCENT_STATUS_INVALID_ARGUMENT, "out_width is null");
    CHECK_FAILS(lucent_model_output_size(m, w, h, 6, &ow, &oh, &oc), LUCENT_STATUS_INVALID_ARGUMENT,
                "6 channels");
    CHECK_FAILS(lucent_model_output_size(m, 0, h, 3, &ow, &oh, &oc), LUCENT_STATUS_INVALID_ARGUMENT,
                "");
    CHECK(lucent_model_output_size(m, w, h, 4, &ow, &oh, &oc) == LUCENT_STATUS_OK);
    CHECK(ow == w * info.scale && oh == h * info.scale && oc == 4);

    in_bytes = lucent_image_buffer_bytes(w, h, 4, LUCENT_PIXEL_U8, 0);
    out_bytes = lucent_image_buffer_bytes(ow, oh, 4, LUCENT_PIXEL_U8, 0);
    CHECK(in_bytes == (size_t)(w * h * 4) && out_bytes == (size_t)(ow * oh * 4));
    CHECK(lucent_image_buffer_bytes(w, h, 4, LUCENT_PIXEL_U8, 3) == 0); /* stride < row */
    in_px = (unsigned char*)malloc(in_bytes);
    out_px = (unsigned char*)malloc(out_bytes);
    fill(in_px, in_bytes, 5);
    in.data = in_px;
    in.size_bytes = in_bytes;
    in.width = w;
    in.height = h;
    in.channels = 4;
    in.pixel_type = LUCENT_PIXEL_U8;
    in.stride_bytes = 0;
    out = in;
    out.data = out_px;
    out.size_bytes = out_bytes;
    out.width = ow;
    out.height = oh;

    CHECK_FAILS(lucent_model_run_image(NULL, &in, &out), LUCENT_STATUS_INVALID_ARGUMENT,
                "model is null");
    CHECK_FAILS(lucent_model_run_image(m, NULL, &out), LUCENT_STATUS_INVALID_ARGUMENT,
                "in is null");
    CHECK_FAILS(lucent_model_run_image(m, &in, NULL), LUCENT_STATUS_INVALID_ARGUMENT,
                "out is null");
    bad = in;
    bad.data = NULL;
    CHECK_FAILS(lucent_model_run_image(m, &bad, &out), LUCENT_STATUS_INVALID_ARGUMENT,
                "in.data is null");
    bad = in;
    bad.channels = 5;
    CHECK_FAILS(lucent_model_run_image(m, &bad, &out), LUCENT_STATUS_INVALID_ARGUMENT,
                "in.channels");
    bad = out;
    bad.size_bytes = out_bytes - 1;
    CHECK_FAILS(lucent_model_run_image(m, &in, &bad), LUCENT_STATUS_INVALID_ARGUMENT,
                "out.size_bytes");
    bad = out;
    bad.stride_bytes = 4;
    CHECK_FAILS(lucent_model_run_image(m, &in, &bad), LUCENT_STATUS_INVALID_ARGUMENT,
                "out.stride_bytes");
    bad = in;
    bad.pixel_type = 42;
    CHECK_FAILS(lucent_model_run_image(m, &bad, &out), LUCENT_STATUS_INVALID_ARGUMENT, "in.type");

    CHECK(lucent_model_run_image(m, &in, &out) == LUCENT_STATUS_OK);
    if (kind == LUCENT_MODEL_RED) { /* alpha kept as it is */
        int same = 1;
        for (i = 3; i < in_bytes; i += 4) same &= in_px[i] == out_px[i];
        CHECK(same);
    }

    /* The tensor call on the same RGB values gives the same 8-bit colours. */
    tin = (float*)malloc(sizeof(float) * (size_t)(3 * w * h));
    tout = (float*)malloc(sizeof(float) * (size_t)(3 * ow * oh));
    for (j = 0; j < 3; ++j)
        for (i = 0; i < (size_t)(w * h); ++i)
            tin[j * (size_t)(w * h) + i] = in_px[i * 4 + j] / 255.0f;
    CHECK_FAILS(lucent_model_run_tensor(m, tin, 1, 3, h, w, tout, 10),
                LUCENT_STATUS_INVALID_ARGUMENT, "out_count is 10");
    CHECK_FAILS(lucent_model_run_tensor(m, NULL, 1, 3, h, w, tout, 10),
                LUCENT_STATUS_INVALID_ARGUMENT, "in is null");
    CHECK_FAILS(lucent_model_run_tensor(m, tin, 1, 2, h, w, tout, (size_t)(3 * ow * oh)),
                LUCENT_STATUS_INVALID_ARGUMENT, "");
    CHECK(lucent_model_run_tensor(m, tin, 1, 3, h, w, tout, (size_t)(3 * ow * oh)) ==
          LUCENT_STATUS_OK);
    {
        int same = 1;
        for (j = 0; j < 3; ++j)
            for (i = 0; i < (size_t)(ow * oh); ++i) {
                float v = tout[j * (size_t)(ow * oh) + i];
                unsigned char q;
                v = v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v);
                q = (unsigned char)(v * 255.0f + 0.5f);
                /* +-1: this check rounds half up, the library half to even */
                same &= abs((int)q - (int)out_px[i * 4 + j]) <= 1;
            }
        CHECK(same);
    }
    /* Kept working memory released, then kept again by the next run. */
    lucent_model_release_working_memory(m);
    CHECK(lucent_model_run_tensor(m, tin, 1, 3, h, w, tout, (size_t)(3 * ow * oh)) ==
          LUCENT_STATUS_OK);
    free(tin);
    free(tout);
    free(in_px);
    free(out_px);
    lucent_model_free(m);
}

/* lucent_model_run_rows: rows from a float planar buffer, rows into another, in order. */
typedef struct rows_io {
    const float* in;
    float* out;
    int64_t in_h, in_w, out_h, next_out;
    int32_t fail_source;
} rows_io;

static int32_t rows_source(void* user, const lucent_row_block* b) {
    rows_io* io = (rows_io*)user;
    int64_t c, y;
    if (io->fail_source) return LUCENT_STATUS_IO;
    for (c = 0; c < b->channels; ++c)
        for (y = b->y0; y < b->y1; ++y)
            memcpy(b->data + c * b->channel_stride + (y - b->y0) * b->width,
                   io->in + (c * io->in_h + y) * io->in_w, sizeof(float) * (size_t)b->width);
    return LUCENT_STATUS_OK;
}

static int32_t rows_sink(void* user, const lucent_row_block* b) {
    rows_io* io = (rows_io*)user;
    int64_t c, y;
    if (b->y0 != io->next_out) return LUCENT_STATUS_INTERNAL;
    io->next_out = b->y1;
    for (c = 0; c < b->channels; ++c)
        for (y = b->y0; y < b->y1; ++y)
            memcpy(io->out + (c * io->out_h + y) * b->width,
                   b->data + c * b->channel_stride + (y - b->y0) * b->width,
                   sizeof(float) * (size_t)b->width);
    return LUCENT_STATUS_OK;
}

static void test_rows(lucent_model_kind kind) {
    lucent_model* m = NULL;
    lucent_options opt;
    const int64_t w = 13, h = 11;
    int64_t ow = 0, oh = 0, i;
    int32_t oc = 0;
    float *in, *want, *got;
    rows_io io;
    lucent_options_init(&opt);
    opt.max_memory_bytes = 48u << 20; /* narrower stripes than the default */
    CHECK(lucent_model_load_default(kind, &opt, &m) == LUCENT_STATUS_OK);
    CHECK(lucent_model_output_size(m, w, h, 3, &ow, &oh, &oc) == LUCENT_STATUS_OK);
    in = (float*)malloc(sizeof(float) * (size_t)(3 * w * h));
    want = (float*)malloc(sizeof(float) * (size_t)(3 * ow * oh));
    got = (float*)calloc((size_t)(3 * ow * oh), sizeof(float));
    for (i = 0; i < 3 * w * h; ++i) in[i] = (float)((i * 37) % 101) / 100.0f;
    CHECK(lucent_model_run_tensor(m, in, 1, 3, h, w, want, (size_t)(3 * ow * oh)) ==
          LUCENT_STATUS_OK);
    io.in = in;
    io.out = got;
    io.in_h = h;
    io.in_w = w;
    io.out_h = oh;
    io.next_out = 0;
    io.fail_source = 0;
    CHECK(lucent_model_run_rows(m, 3, h, w, rows_source, rows_sink, &io) == LUCENT_STATUS_OK);
    CHECK(io.next_out == oh);
    CHECK(memcmp(want, got, sizeof(float) * (size_t)(3 * ow * oh)) == 0);
    io.fail_source = 1;
    CHECK_FAILS(lucent_model_run_rows(m, 3, h, w, rows_source, rows_sink, &io), LUCENT_STATUS_IO,
                "source callback");
    CHECK_FAILS(lucent_model_run_rows(m, 3, h, w, NULL, rows_sink, &io),
                LUCENT_STATUS_INVALID_ARGUMENT, "source is null");
    free(in);
    free(want);
    free(got);
    lucent_model_free(m);
}

/* lucent_model_run_image_rows gathers rows equal to lucent_model_run_image's image. */
typedef struct {
    uint8_t* out;
    size_t row_bytes;
    int64_t next;
    int fail;
} image_rows_io;

static int32_t image_rows_sink(void* user, int64_t y0, const lucent_image* rows) {
    image_rows_io* io = (image_rows_io*)user;
    int64_t y;
    if (io->fail) return LUCENT_STATUS_IO;
    if (y0 != io->next || rows->stride_bytes != io->row_bytes) return LUCENT_STATUS_INTERNAL;
    for (y = 0; y < rows->height; ++y)
        memcpy(io->out + (size_t)(y0 + y) * io->row_bytes,
               (const uint8_t*)rows->data + (size_t)y * rows->stride_bytes, io->row_bytes);
    io->next = y0 + rows->height;
    return LUCENT_STATUS_OK;
}

static void test_image_rows(lucent_model_kind kind) {
    lucent_model* m = NULL;
    const int64_t w = 9, h = 7;
    int64_t ow = 0, oh = 0, i;
    int32_t oc = 0;
    uint8_t pixels[9 * 7 * 4];
    uint8_t *want, *got;
    lucent_image in, out;
    image_rows_io io;
    CHECK(lucent_model_load_default(kind, NULL, &m) == LUCENT_STATUS_OK);
    CHECK(lucent_model_output_size(m, w, h, 4, &ow, &oh, &oc) == LUCENT_STATUS_OK);
    for (i = 0; i < w * h * 4; ++i) pixels[i] = (uint8_t)((i * 53) % 251);
    want = (uint8_t*)malloc((size_t)(ow * oh * oc) * 2);
    got = (uint8_t*)calloc((size_t)(ow * oh * oc) * 2, 1);
    memset(&in, 0, sizeof in);
    in.data = pixels;
    in.size_bytes = sizeof pixels;
    in.width = w;
    in.height = h;
    in.channels = 4;
    in.pixel_type = LUCENT_PIXEL_U8;
    out = in;
    out.data = want;
    out.size_bytes = (size_t)(ow * oh * oc) * 2;
    out.width = ow;
    out.height = oh;
    out.channels = oc;
    out.pixel_type = LUCENT_PIXEL_U16;
    CHECK(lucent_model_run_image(m, &in, &out) == LUCENT_STATUS_OK);
    io.out = got;
    io.row_bytes = (size_t)(ow * oc) * 2;
    io.next = 0;
    io.fail = 0;
    CHECK(lucent_model_run_image_rows(m, &in, LUCENT_PIXEL_U16, image_rows_sink, &io) ==
          LUCENT_STATUS_OK);
    CHECK(io.next == oh);
    CHECK(memcmp(want, got, (size_t)(ow * oh * oc) * 2) == 0);
    io.fail = 1;
    CHECK_FAILS(lucent_model_run_image_rows(m, &in, LUCENT_PIXEL_U16, image_rows_sink, &io),
                LUCENT_STATUS_IO, "sink callback");
    CHECK_FAILS(lucent_model_run_image_rows(m, &in, LUCENT_PIXEL_U16, NULL, &io),
                LUCENT_STATUS_INVALID_ARGUMENT, "sink is null");
    free(want);
    free(got);
    lucent_model_free(m);
}

int main(void) {
    test_basics();
    test_loading();
    test_running(LUCENT_MODEL_SSR);
    test_running(LUCENT_MODEL_RED);
    test_rows(LUCENT_MODEL_SSR);
    test_rows(LUCENT_MODEL_RED);
    test_image_rows(LUCENT_MODEL_SSR);
    test_image_rows(LUCENT_MODEL_RED);
    printf("c_api: %d passed, %d failed\n", g_passed, g_failed);
    return g_failed == 0 ? 0 : 1;
}
