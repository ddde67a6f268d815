/* model_image.c - image file -> the model's pixel_values, with the model's
 * own preprocessor configuration. */
#include <stdio.h>

#include "model.h"

vitvk_status vitvk_model_preprocess_file(vitvk_model *m, const char *path, float *out)
{
    if (!m)
        return VITVK_ERR_INVALID_ARGUMENT;
    vitvk_context *ctx = m->ctx;
    if (!path || !out)
        return vk_fail(ctx, VITVK_ERR_INVALID_ARGUMENT, "vitvk_model_preprocess_file: path and out are required");
    if (m->cfg.channels != 3)
        return vk_fail(ctx, VITVK_ERR_UNSUPPORTED, "%s: the model takes %u-channel input, images give RGB", path,
                       m->cfg.channels);
    img_rgb8 img = {0};
    vitvk_status st = img_decode_file(path, VITVK_MAX_IMAGE_PIXELS, &img, ctx->last_error, sizeof ctx->last_error);
    if (st != VITVK_OK)
        return st;
    uint32_t w, h;
    preproc_output_size(&m->pre, img.width, img.height, &w, &h);
    if (w != m->cfg.image_w || h != m->cfg.image_h)
        st = vk_fail(ctx, VITVK_ERR_UNSUPPORTED,
                     "%s: the preprocessor config gives %ux%u images but the model takes %ux%u", path, w, h,
                     m->cfg.image_w, m->cfg.image_h);
    if (st == VITVK_OK)
        st = preprocess_image(&img, &m->pre, out, ctx->last_error, sizeof ctx->last_error);
    img_free(&img);
    return st;
}
