/* fuzz_image.c - PNG and JPEG decoding (img_decode_memory picks the decoder
 * from the signature) and the preprocessing of whatever decodes.
 *
 * The last byte of the input picks the preprocessing (filter, backend,
 * resize mode, crop, rescale, normalise); the decoder still sees every
 * byte, and PNG and JPEG both stop reading before their last byte matters,
 * so the seeds stay plain image files. */
#include "fuzz_common.h"
#include "image.h"

/* The harness's own pixel limit (the library's default is 64 Mpixels):
 * large enough to cover the big-image paths, small enough that the fuzzer
 * stays fast and inside its memory limit. */
#define FUZZ_MAX_PIXELS ((size_t)4 << 20)

static void pick_config(uint8_t sel, preproc_config *c)
{
    preproc_config_defaults(c);
    c->resample = (sel & 7) % 6;
    c->backend = sel & 8 ? PREPROC_BACKEND_PIL : PREPROC_BACKEND_TORCHVISION;
    if (sel & 16) {
        c->shortest_edge = 24;
    } else {
        c->size_height = 20;
        c->size_width = 28;
    }
    c->do_center_crop = (sel & 32) != 0;
    c->crop_height = 16;
    c->crop_width = sel & 64 ? 40 : 12; /* 40: wider than the resize, so padded */
    c->do_rescale = (sel & 128) == 0;
    c->do_normalize = (sel & 3) != 3;
    c->do_resize = (sel % 13) != 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *file = fuzz_guarded_copy(data, size);
    img_rgb8 img;
    char err[512];
    memset(err, 'x', sizeof err);
    vitvk_status st = img_decode_memory(file, size, "fuzz-image", FUZZ_MAX_PIXELS, &img, err, sizeof err);
    fuzz_check_message(st, err, sizeof err);
    if (st != VITVK_OK) {
        FUZZ_ASSERT(img.pixels == NULL && img.width == 0 && img.height == 0);
        return 0;
    }
    FUZZ_ASSERT(img.pixels && img.width >= 1 && img.height >= 1);
    FUZZ_ASSERT((uint64_t)img.width * img.height <= FUZZ_MAX_PIXELS);
    unsigned sum = 0;
    for (size_t i = 0; i < (size_t)img.width * img.height * 3; i++)
        sum += img.pixels[i];
    fuzz_consume(sum);

    preproc_config cfg;
    pick_config(size ? data[size - 1] : 0, &cfg);
    uint32_t ow, oh;
    preproc_output_size(&cfg, img.width, img.height, &ow, &oh);
    preproc_config no_crop = cfg;
    no_crop.do_center_crop = 0;
    uint32_t rw, rh;
    preproc_output_size(&no_crop, img.width, img.height, &rw, &rh);
    /* without resize the output is the image's own size; shortest_edge can
     * stretch a thin image's long side: both only slow, never wrong */
    if ((uint64_t)ow * oh <= FUZZ_MAX_PIXELS && (uint64_t)rw * rh <= FUZZ_MAX_PIXELS) {
        size_t n = (size_t)ow * oh * 3;
        float *out = malloc(n * sizeof(float));
        FUZZ_ASSERT(out);
        memset(err, 'x', sizeof err);
        st = preprocess_image(&img, &cfg, out, err, sizeof err);
        fuzz_check_message(st, err, sizeof err);
        FUZZ_ASSERT(st == VITVK_OK);
        unsigned finite = 0;
        for (size_t i = 0; i < n; i++)
            finite += out[i] == out[i];
        fuzz_consume(finite);
        free(out);
    }
    img_free(&img);
    FUZZ_ASSERT(img.pixels == NULL);
    return 0;
}
