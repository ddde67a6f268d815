/* infer_input.c - see infer_input.h. */
#include "infer_input.h"

#include <stdint.h>
#include <stdlib.h>

#include "errmsg.h"

vitvk_status infer_input_find(const st_archive *a, const char *file, const char *name,
                              const st_tensor **out, char *err, size_t err_size)
{
    *out = NULL;
    const st_tensor *t = st_find(a, name);
    if (!t) {
        vk_errorf(err, err_size, "%s: no tensor named %s (use --input-name)", file, name);
        return VITVK_ERR_MODEL;
    }
    if (t->dtype != ST_F32 && t->dtype != ST_F16 && t->dtype != ST_BF16) {
        vk_errorf(err, err_size, "%s: tensor %s has dtype %s; F32, F16 or BF16 expected", file,
                  t->name, st_dtype_name(t->dtype));
        return VITVK_ERR_MODEL;
    }
    if (t->rank != 4) {
        vk_errorf(err, err_size, "%s: tensor %s has rank %d; N x C x H x W expected", file,
                  t->name, t->rank);
        return VITVK_ERR_MODEL;
    }
    if (t->shape[0] == 0) {
        vk_errorf(err, err_size, "%s: tensor %s holds no images (N = 0)", file, t->name);
        return VITVK_ERR_MODEL;
    }
    *out = t;
    return VITVK_OK;
}

vitvk_status infer_input_pixels(const st_tensor *t, const char *file, uint32_t channels,
                                uint32_t height, uint32_t width, float **pixels, char *err,
                                size_t err_size)
{
    *pixels = NULL;
    if (t->rank != 4 || (uint64_t)t->shape[1] != channels || (uint64_t)t->shape[2] != height ||
        (uint64_t)t->shape[3] != width) {
        vk_errorf(err, err_size, "%s: tensor %s is [%lld, %lld, %lld, %lld]; the model takes [N, %u, %u, %u]",
                  file, t->name, (long long)t->shape[0], (long long)t->shape[1],
                  (long long)t->shape[2], (long long)t->shape[3], channels, height, width);
        return VITVK_ERR_MODEL;
    }
    /* The reader has checked numel = N*C*H*W and numel * dtype size =
     * nbytes; the float copy can still be twice the file's bytes. */
    if (t->numel <= 0 || (uint64_t)t->numel > SIZE_MAX / sizeof(float)) {
        vk_errorf(err, err_size, "%s: tensor %s: %lld values do not fit in memory", file, t->name,
                  (long long)t->numel);
        return VITVK_ERR_LIMIT;
    }
    float *p = malloc((size_t)t->numel * sizeof(float));
    if (!p) {
        vk_errorf(err, err_size, "%s: out of memory for %lld values of tensor %s", file,
                  (long long)t->numel, t->name);
        return VITVK_ERR_OUT_OF_HOST_MEMORY;
    }
    vitvk_status st = st_to_f32(t, p, err, err_size);
    if (st != VITVK_OK) {
        free(p);
        return st;
    }
    *pixels = p;
    return VITVK_OK;
}
