/* fuzz_infer.c - the input tensor of `vit-vk-cli infer`: the safetensors
 * file it opens, then the checks and conversion it runs on pixel_values
 * (tools/infer_input.c, the same code the CLI calls). The model's input
 * shape is that of the bundled digits model [N, 3, 32, 32], and then the
 * tensor's own C x H x W when within the model limits, so that the F32,
 * F16 and BF16 conversions run on whatever the fuzzer builds. */
#include "fuzz_common.h"
#include "infer_input.h"
#include "model.h"

static void try_shape(const st_tensor *t, uint32_t c, uint32_t h, uint32_t w)
{
    char err[512];
    memset(err, 'x', sizeof err);
    float *pixels = (float *)err; /* must be overwritten */
    vitvk_status st = infer_input_pixels(t, "fuzz-input.safetensors", c, h, w, &pixels, err, sizeof err);
    fuzz_check_message(st, err, sizeof err);
    if (st != VITVK_OK) {
        FUZZ_ASSERT(pixels == NULL);
        return;
    }
    FUZZ_ASSERT(pixels != NULL);
    FUZZ_ASSERT((uint64_t)t->numel == (uint64_t)t->shape[0] * c * h * w);
    unsigned nan = 0;
    for (int64_t i = 0; i < t->numel; i++)
        nan += pixels[i] != pixels[i];
    fuzz_consume(nan);
    free(pixels);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *file = fuzz_guarded_copy(data, size);
    char err[512];
    memset(err, 'x', sizeof err);
    st_archive *a = NULL;
    vitvk_status st = st_open_memory(file, size, "fuzz-input.safetensors", &a, err, sizeof err);
    fuzz_check_message(st, err, sizeof err);
    if (st != VITVK_OK)
        return 0;
    const st_tensor *t = (const st_tensor *)err;
    memset(err, 'x', sizeof err);
    st = infer_input_find(a, "fuzz-input.safetensors", "pixel_values", &t, err, sizeof err);
    fuzz_check_message(st, err, sizeof err);
    if (st == VITVK_OK) {
        FUZZ_ASSERT(t == st_find(a, "pixel_values"));
        FUZZ_ASSERT(t->rank == 4 && t->shape[0] >= 1);
        try_shape(t, 3, 32, 32);
        if (t->shape[1] >= 1 && t->shape[1] <= VIT_MAX_CHANNELS && t->shape[2] >= 1 &&
            t->shape[2] <= VIT_MAX_IMAGE && t->shape[3] >= 1 && t->shape[3] <= VIT_MAX_IMAGE)
            try_shape(t, (uint32_t)t->shape[1], (uint32_t)t->shape[2], (uint32_t)t->shape[3]);
    } else {
        FUZZ_ASSERT(t == NULL);
    }
    st_close(a);
    return 0;
}
