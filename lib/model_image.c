/* model_image.c - image file -> the model's pixel_values, with the model's
 * own preprocessor configuration. */
#include <stdio.h>

#include "model.h"

vitvk_status vitvk_model_preprocess_file_r(const vitvk_model *m, const char *path, float *out, char *err,
                                           size_t err_size)
{
    char scratch[8];
    if (!err || !err_size)
        err = scratch, err_size = sizeof scratch;
    err[0] = 0;
    if (!m || !path || !out) {
        snprintf(err, err_size, "vitvk_model_preprocess_file: model, path and out are required");
        return VITVK_ERR_INVALID_ARGUMENT;
    }
    if (m->cfg.channels != 3) {
        snprintf(err, err_size, "%s: the model takes %u-channel input, images give RGB", path, m->cfg.channels);
        return VITVK_ERR_UNSUPPORTED;
    }
    img_rgb8 img = {0};
    vitvk_status st = img_decode_file(path, VITVK_MAX_IMAGE_PIXELS, &img, err, err_size);
    if (st != VITVK_OK)
        return st;
    uint32_t w, h;
    preproc_output_size(&m->pre, img.width, img.height, &w, &h);
    if (w != m->cfg.image_w || h != m->cfg.image_h) {
        snprintf(err, err_size, "%s: the preprocessor config gives %ux%u images but the model takes %ux%u", path, w,
                 h, m->cfg.image_w, m->cfg.image_h);
        st = VITVK_ERR_UNSUPPORTED;
    }
    if (st == VITVK_OK)
        st = preprocess_image(&img, &m->pre, out, err, err_size);
    img_free(&img);
    return st;
}

vitvk_status vitvk_model_preprocess_file(vitvk_model *m, const char *path, float *out)
{
    if (!m)
        return VITVK_ERR_INVALID_ARGUMENT;
    vitvk_context *ctx = m->ctx;
    char err[VK_ERR_SIZE];
    vitvk_status st = vitvk_model_preprocess_file_r(m, path, out, err, sizeof err);
    if (st != VITVK_OK)
        return vk_fail(ctx, st, "%s", err);
    return VITVK_OK;
}
