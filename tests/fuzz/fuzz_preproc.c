/* fuzz_preproc.c - preprocessor_config.json parsing, then the geometry and
 * arithmetic that the parsed values drive: preproc_output_size for a few
 * input sizes and preprocess_image of a small generated image (resize to
 * the configured size with the configured filter and backend, center crop
 * with padding, rescale, normalise). */
#include <math.h>

#include "fuzz_common.h"
#include "image.h"

/* Larger sizes are valid, but slow under coverage instrumentation (a
 * 224 x 224 output takes ~20 ms): preprocessing runs only for configs with
 * sizes up to 128 x 128, which the fuzzer reaches quickly from the seeds;
 * larger ones are only parsed. The image harness covers big images. */
#define MAX_RESIZED_PIXELS (1u << 14)
#define MAX_OUTPUT_PIXELS (1u << 14)

static void check_config(const preproc_config *c)
{
    FUZZ_ASSERT(memchr(c->processor_type, '\0', sizeof c->processor_type) != NULL);
    FUZZ_ASSERT(c->size_height >= 1 && c->size_height <= 65536);
    FUZZ_ASSERT(c->size_width >= 1 && c->size_width <= 65536);
    FUZZ_ASSERT(c->shortest_edge <= 65536);
    FUZZ_ASSERT(c->crop_height >= 1 && c->crop_height <= 65536);
    FUZZ_ASSERT(c->crop_width >= 1 && c->crop_width <= 65536);
    FUZZ_ASSERT(c->resample >= IMG_NEAREST && c->resample <= IMG_HAMMING);
    FUZZ_ASSERT(c->backend == PREPROC_BACKEND_TORCHVISION || c->backend == PREPROC_BACKEND_PIL);
    FUZZ_ASSERT(isfinite(c->rescale_factor) && c->rescale_factor > 0);
    for (int i = 0; i < 3; i++) {
        FUZZ_ASSERT(isfinite(c->image_mean[i]));
        FUZZ_ASSERT(isfinite(c->image_std[i]) && c->image_std[i] != 0.0f);
    }
}

static void run_preprocess(const preproc_config *c, uint32_t w, uint32_t h)
{
    preproc_config no_crop = *c;
    no_crop.do_center_crop = 0;
    uint32_t rw, rh, ow, oh;
    preproc_output_size(&no_crop, w, h, &rw, &rh);
    preproc_output_size(c, w, h, &ow, &oh);
    if ((uint64_t)rw * rh > MAX_RESIZED_PIXELS || (uint64_t)ow * oh > MAX_OUTPUT_PIXELS)
        return;
    img_rgb8 img = {w, h, malloc((size_t)w * h * 3)};
    FUZZ_ASSERT(img.pixels);
    for (size_t i = 0; i < (size_t)w * h * 3; i++)
        img.pixels[i] = (uint8_t)(i * 37 + (i >> 5));
    size_t n = (size_t)ow * oh * 3;
    float *out = malloc(n ? n * sizeof(float) : 1);
    FUZZ_ASSERT(out);
    char err[512];
    memset(err, 'x', sizeof err);
    vitvk_status st = preprocess_image(&img, c, out, err, sizeof err);
    fuzz_check_message(st, err, sizeof err);
    if (st == VITVK_OK) {
        unsigned finite = 0;
        for (size_t i = 0; i < n; i++)
            finite += isfinite(out[i]) != 0;
        fuzz_consume(finite);
    } else {
        /* only sizes the library refuses may fail here */
        FUZZ_ASSERT(st == VITVK_ERR_LIMIT);
    }
    free(out);
    img_free(&img);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *json = (const char *)fuzz_guarded_copy(data, size);
    preproc_config cfg, before;
    preproc_config_defaults(&cfg);
    memcpy(&before, &cfg, sizeof cfg);
    char err[512];
    memset(err, 'x', sizeof err);
    vitvk_status st = preproc_config_parse(json, size, "preprocessor_config.json", &cfg, err, sizeof err);
    fuzz_check_message(st, err, sizeof err);
    if (st != VITVK_OK) {
        /* a failure leaves the config as it was */
        FUZZ_ASSERT(memcmp(&cfg, &before, sizeof cfg) == 0);
        return 0;
    }
    check_config(&cfg);
    static const uint32_t sizes[][2] = {{1, 1}, {13, 7}, {5, 31}, {65536, 1}, {1, 65536}, {4000000, 16}};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        uint32_t ow, oh;
        preproc_output_size(&cfg, sizes[i][0], sizes[i][1], &ow, &oh);
        fuzz_consume(ow ^ oh);
    }
    run_preprocess(&cfg, 13, 7);
    run_preprocess(&cfg, 3, 40);
    return 0;
}
