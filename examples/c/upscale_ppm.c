/* Upscales a binary PPM (P6, 8-bit RGB) with Lucent's embedded x4 model, from C.
 *   upscale_ppm IN.ppm OUT.ppm */
#include <lucent/lucent.h>
#include <stdio.h>
#include <stdlib.h>

/* Reads "P6 <w> <h> 255" and the pixels into a malloc'd buffer; NULL on anything else. */
static unsigned char* read_ppm(const char* path, long* w, long* h) {
    unsigned char* px = NULL;
    int max = 0;
    FILE* f = fopen(path, "rb");
    if (f == NULL) return NULL;
    if (fscanf(f, "P6 %ld %ld %d", w, h, &max) == 3 && max == 255 && *w > 0 && *h > 0 &&
        *w <= 65536 && *h <= 65536 && fgetc(f) != EOF) {
        px = (unsigned char*)malloc((size_t)(*w * *h * 3));
        if (px != NULL && fread(px, 1, (size_t)(*w * *h * 3), f) != (size_t)(*w * *h * 3)) {
            free(px);
            px = NULL;
        }
    }
    fclose(f);
    return px;
}

static int write_ppm(const char* path, long w, long h, const unsigned char* px) {
    int ok;
    FILE* f = fopen(path, "wb");
    if (f == NULL) return 0;
    ok = fprintf(f, "P6\n%ld %ld\n255\n", w, h) > 0 &&
         fwrite(px, 1, (size_t)(w * h * 3), f) == (size_t)(w * h * 3);
    return fclose(f) == 0 && ok;
}

int main(int argc, char** argv) {
    long w = 0, h = 0;
    unsigned char* pixels;
    int rc = 1;
    if (argc != 3) {
        fprintf(stderr, "usage: %s IN.ppm OUT.ppm\n", argv[0]);
        return 2;
    }
    pixels = read_ppm(argv[1], &w, &h);
    if (pixels == NULL) {
        fprintf(stderr, "%s is not a binary 8-bit PPM\n", argv[1]);
        return 1;
    }
    {
        /* [snippet: c] */
        lucent_model* model = NULL;
        lucent_options options;
        lucent_image in, out;
        int64_t ow = 0, oh = 0;
        int32_t oc = 0;
        unsigned char* result = NULL;

        lucent_options_init(&options);
        if (lucent_model_load_default(LUCENT_MODEL_SSR, &options, &model) == LUCENT_STATUS_OK &&
            lucent_model_output_size(model, w, h, 3, &ow, &oh, &oc) == LUCENT_STATUS_OK) {
            in.data = pixels;
            in.size_bytes = (size_t)(w * h * 3);
            in.width = w;
            in.height = h;
            in.channels = 3;
            in.pixel_type = LUCENT_PIXEL_U8;
            in.stride_bytes = 0;
            out = in;
            out.size_bytes = lucent_image_buffer_bytes(ow, oh, oc, LUCENT_PIXEL_U8, 0);
            out.data = result = (unsigned char*)malloc(out.size_bytes);
            out.width = ow;
            out.height = oh;
            out.channels = oc;
            if (result != NULL && lucent_model_run_image(model, &in, &out) == LUCENT_STATUS_OK)
                rc = 0;
        }
        if (rc != 0) fprintf(stderr, "lucent: %s\n", lucent_last_error());
        lucent_model_free(model);
        /* [end snippet] */
        if (rc == 0 && !write_ppm(argv[2], (long)ow, (long)oh, result)) {
            fprintf(stderr, "cannot write %s\n", argv[2]);
            rc = 1;
        }
        if (rc == 0)
            printf("%ldx%ld -> %ldx%ld with Lucent %s\n", w, h, (long)ow, (long)oh,
                   lucent_version());
        free(result);
    }
    free(pixels);
    return rc;
}
