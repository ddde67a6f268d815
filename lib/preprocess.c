/* preprocess.c - preprocessor_config.json and the resize -> center crop ->
 * rescale -> normalise pipeline of ViT/DeiT/BEiT image processors, with the
 * arithmetic of the chosen transformers backend (see image.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "image.h"

#define PREPROC_MAX_CONFIG_BYTES ((size_t)1 << 20)
/* Generous for any image model; keeps sizes far from integer overflow. */
#define PREPROC_MAX_SIDE 65536u

void preproc_config_defaults(preproc_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    snprintf(cfg->processor_type, sizeof cfg->processor_type, "ViTImageProcessor");
    cfg->do_resize = 1;
    cfg->size_height = cfg->size_width = 224;
    cfg->resample = IMG_BILINEAR;
    cfg->crop_height = cfg->crop_width = 224;
    cfg->do_rescale = 1;
    cfg->rescale_factor = 1.0 / 255.0; /* the same double as Python's 1 / 255 */
    cfg->do_normalize = 1;
    for (int c = 0; c < 3; c++) {
        cfg->image_mean[c] = 0.5f;
        cfg->image_std[c] = 0.5f;
    }
    cfg->backend = PREPROC_BACKEND_TORCHVISION;
}

/* ---- config parsing ---- */

typedef struct parse_ctx {
    const char *name;
    char *err;
    size_t err_size;
} parse_ctx;

static vitvk_status bad_key(const parse_ctx *p, const char *key, const char *what)
{
    vk_errorf(p->err, p->err_size, "%s: \"%s\" %s", p->name, key, what);
    return VITVK_ERR_FORMAT;
}

/* Absent and null both mean "keep the default", as in transformers. */
static const cJSON *get_key(const cJSON *root, const char *key)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(root, key);
    return cJSON_IsNull(item) ? NULL : item;
}

static vitvk_status read_flag(const parse_ctx *p, const cJSON *root, const char *key, int *out)
{
    const cJSON *item = get_key(root, key);
    if (!item)
        return VITVK_OK;
    if (cJSON_IsBool(item))
        *out = cJSON_IsTrue(item);
    else if (cJSON_IsNumber(item)) /* Python would take 0/1 as well */
        *out = item->valuedouble != 0.0;
    else
        return bad_key(p, key, "must be true or false");
    return VITVK_OK;
}

static int whole_in_range(const cJSON *item, double lo, double hi)
{
    if (!cJSON_IsNumber(item))
        return 0;
    double v = item->valuedouble;
    return v >= lo && v <= hi && v == floor(v);
}

static vitvk_status read_side(const parse_ctx *p, const cJSON *item, const char *key, uint32_t *out)
{
    if (!whole_in_range(item, 1, PREPROC_MAX_SIDE)) {
        char what[96];
        snprintf(what, sizeof what, "must hold whole numbers from 1 to %u", PREPROC_MAX_SIDE);
        return bad_key(p, key, what);
    }
    *out = (uint32_t)item->valuedouble;
    return VITVK_OK;
}

/* size / crop_size: {height, width}, {shortest_edge} (when allowed) or an
 * integer, which transformers' get_size_dict turns into a square for these
 * processors (default_to_square). */
static vitvk_status read_size(const parse_ctx *p, const cJSON *root, const char *key, uint32_t *h,
                              uint32_t *w, uint32_t *shortest)
{
    const cJSON *item = get_key(root, key);
    if (!item)
        return VITVK_OK;
    if (cJSON_IsNumber(item)) {
        uint32_t v;
        vitvk_status st = read_side(p, item, key, &v);
        if (st == VITVK_OK) {
            *h = *w = v;
            if (shortest)
                *shortest = 0;
        }
        return st;
    }
    if (!cJSON_IsObject(item))
        return bad_key(p, key, "must be an object or an integer");
    const cJSON *se = get_key(item, "shortest_edge");
    const cJSON *hh = get_key(item, "height");
    const cJSON *ww = get_key(item, "width");
    if (get_key(item, "longest_edge") || get_key(item, "max_height") || get_key(item, "max_width"))
        return bad_key(p, key, "uses longest_edge/max_height/max_width, which are not supported");
    /* transformers' resize tries shortest_edge before height/width. */
    if (se && shortest) {
        uint32_t v;
        vitvk_status st = read_side(p, se, key, &v);
        if (st == VITVK_OK)
            *shortest = v;
        return st;
    }
    if (!hh || !ww)
        return bad_key(p, key, shortest ? "must have height and width, or shortest_edge"
                                        : "must have height and width");
    uint32_t vh, vw;
    vitvk_status st = read_side(p, hh, key, &vh);
    if (st == VITVK_OK)
        st = read_side(p, ww, key, &vw);
    if (st == VITVK_OK) {
        *h = vh;
        *w = vw;
        if (shortest)
            *shortest = 0;
    }
    return st;
}

/* image_mean / image_std: one number, or a list of 1 or 3 numbers. */
static vitvk_status read_triple(const parse_ctx *p, const cJSON *root, const char *key, float out[3],
                                int nonzero)
{
    const cJSON *item = get_key(root, key);
    if (!item)
        return VITVK_OK;
    double v[3];
    int n;
    if (cJSON_IsNumber(item)) {
        v[0] = item->valuedouble;
        n = 1;
    } else if (cJSON_IsArray(item) && (cJSON_GetArraySize(item) == 1 || cJSON_GetArraySize(item) == 3)) {
        n = cJSON_GetArraySize(item);
        for (int i = 0; i < n; i++) {
            const cJSON *e = cJSON_GetArrayItem(item, i);
            if (!cJSON_IsNumber(e))
                return bad_key(p, key, "must hold numbers");
            v[i] = e->valuedouble;
        }
    } else {
        return bad_key(p, key, "must be a number or a list of 1 or 3 numbers");
    }
    float f[3];
    for (int i = 0; i < 3; i++) {
        double d = v[n == 1 ? 0 : i];
        /* Both backends hold mean and std as float32, so a std that is
         * zero only after rounding (1e-320) divides by zero all the same. */
        f[i] = isfinite(d) && fabs(d) <= 1e30 ? (float)d : 0.0f;
        if (!isfinite(d) || fabs(d) > 1e30 || (nonzero && f[i] == 0.0f))
            return bad_key(p, key, nonzero ? "must hold finite numbers, non-zero in float32" : "must hold finite numbers");
    }
    memcpy(out, f, sizeof f);
    return VITVK_OK;
}

static vitvk_status parse_root(const parse_ctx *p, const cJSON *root, preproc_config *cfg)
{
    vitvk_status st = VITVK_OK;
    const cJSON *type = get_key(root, "image_processor_type");
    if (!type)
        type = get_key(root, "feature_extractor_type");
    if (type) {
        if (!cJSON_IsString(type))
            return bad_key(p, cJSON_GetObjectItemCaseSensitive(root, "image_processor_type") ? "image_processor_type"
                                                                                            : "feature_extractor_type",
                           "must be a string");
        snprintf(cfg->processor_type, sizeof cfg->processor_type, "%s", type->valuestring);
        /* The PIL-backend classes are named ...Pil (transformers strips the
         * suffix when saving, so this only fires for hand-written configs). */
        size_t n = strlen(type->valuestring);
        if (n > 3 && strcmp(type->valuestring + n - 3, "Pil") == 0)
            cfg->backend = PREPROC_BACKEND_PIL;
    }

    if (st == VITVK_OK)
        st = read_flag(p, root, "do_resize", &cfg->do_resize);
    if (st == VITVK_OK)
        st = read_size(p, root, "size", &cfg->size_height, &cfg->size_width, &cfg->shortest_edge);
    if (st == VITVK_OK) {
        const cJSON *r = get_key(root, "resample");
        if (r && !whole_in_range(r, IMG_NEAREST, IMG_HAMMING))
            st = bad_key(p, "resample", "must be a PIL filter number from 0 to 5");
        else if (r)
            cfg->resample = (int)r->valuedouble;
    }
    if (st == VITVK_OK)
        st = read_flag(p, root, "do_center_crop", &cfg->do_center_crop);
    if (st == VITVK_OK)
        st = read_size(p, root, "crop_size", &cfg->crop_height, &cfg->crop_width, NULL);
    if (st == VITVK_OK)
        st = read_flag(p, root, "do_rescale", &cfg->do_rescale);
    if (st == VITVK_OK) {
        const cJSON *r = get_key(root, "rescale_factor");
        if (r && (!cJSON_IsNumber(r) || !isfinite(r->valuedouble) || r->valuedouble <= 0.0))
            st = bad_key(p, "rescale_factor", "must be a positive number");
        else if (r)
            cfg->rescale_factor = r->valuedouble;
    }
    if (st == VITVK_OK)
        st = read_flag(p, root, "do_normalize", &cfg->do_normalize);
    if (st == VITVK_OK)
        st = read_triple(p, root, "image_mean", cfg->image_mean, 0);
    if (st == VITVK_OK)
        st = read_triple(p, root, "image_std", cfg->image_std, 1);
    return st;
}

vitvk_status preproc_config_parse(const char *json, size_t len, const char *name, preproc_config *cfg,
                                  char *err, size_t err_size)
{
    parse_ctx p = {name ? name : "preprocessor_config.json", err, err_size};
    if (!json || !cfg) {
        vk_errorf(err, err_size, "%s: no JSON text or no config to fill", p.name);
        return VITVK_ERR_INVALID_ARGUMENT;
    }
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(json, len, &end, 0);
    if (!root) {
        size_t at = end && end >= json ? (size_t)(end - json) : 0;
        vk_errorf(err, err_size, "%s: invalid JSON near byte %zu", p.name, at);
        return VITVK_ERR_FORMAT;
    }
    vitvk_status st;
    if (!cJSON_IsObject(root)) {
        vk_errorf(err, err_size, "%s: the top level must be a JSON object", p.name);
        st = VITVK_ERR_FORMAT;
    } else {
        /* Parse into a copy so that a failure leaves *cfg untouched. */
        preproc_config tmp = *cfg;
        st = parse_root(&p, root, &tmp);
        if (st == VITVK_OK)
            *cfg = tmp;
    }
    cJSON_Delete(root);
    return st;
}

vitvk_status preproc_config_load(const char *path, preproc_config *cfg, char *err, size_t err_size)
{
    if (!path || !cfg) {
        vk_errorf(err, err_size, "preproc_config_load: path and cfg are required");
        return VITVK_ERR_INVALID_ARGUMENT;
    }
    uint8_t *text;
    size_t len;
    vitvk_status st = img_read_file(path, PREPROC_MAX_CONFIG_BYTES, &text, &len, err, err_size);
    if (st != VITVK_OK)
        return st;
    st = preproc_config_parse((const char *)text, len, path, cfg, err, err_size);
    free(text);
    return st;
}

/* ---- geometry ---- */

/* transformers' get_resize_output_image_size(default_to_square=False): the
 * short side becomes `shortest`, the long side int(shortest * long / short). */
static void resized_size(const preproc_config *cfg, uint32_t in_w, uint32_t in_h, uint32_t *w, uint32_t *h)
{
    if (!cfg->do_resize) {
        *w = in_w;
        *h = in_h;
        return;
    }
    if (cfg->keep_ratio_height && cfg->keep_ratio_width) {
        /* timm's ResizeKeepRatio: Python floats throughout, round() halves
         * to even as rint does. */
        double rh = (double)in_h / cfg->keep_ratio_height, rw = (double)in_w / cfg->keep_ratio_width;
        double ratio = cfg->keep_ratio_longest ? (rh > rw ? rh : rw) : (rh < rw ? rh : rw);
        double nh = rint((double)in_h / ratio), nw = rint((double)in_w / ratio);
        *h = nh >= (double)UINT32_MAX ? UINT32_MAX : (uint32_t)nh;
        *w = nw >= (double)UINT32_MAX ? UINT32_MAX : (uint32_t)nw;
        return;
    }
    if (cfg->shortest_edge == 0) {
        *w = cfg->size_width;
        *h = cfg->size_height;
        return;
    }
    uint64_t s = cfg->shortest_edge;
    uint32_t shorter = in_w <= in_h ? in_w : in_h, longer = in_w <= in_h ? in_h : in_w;
    /* Exact product, one correctly rounded division: Python's int / int. */
    double l = shorter ? (double)(s * longer) / (double)shorter : 0.0;
    uint32_t new_long = l >= (double)UINT32_MAX ? UINT32_MAX : (uint32_t)l;
    if (in_w <= in_h) {
        *w = (uint32_t)s;
        *h = new_long;
    } else {
        *w = new_long;
        *h = (uint32_t)s;
    }
}

void preproc_output_size(const preproc_config *cfg, uint32_t in_w, uint32_t in_h, uint32_t *out_w,
                         uint32_t *out_h)
{
    resized_size(cfg, in_w, in_h, out_w, out_h);
    if (cfg->do_center_crop) {
        *out_w = cfg->crop_width;
        *out_h = cfg->crop_height;
    }
}

/* First source index read by output index 0 of a center crop. Larger crops
 * pad; the backends split the padding differently: numpy's center_crop puts
 * ceil(pad / 2) first, torchvision's floor(pad / 2). Smaller crops start at
 * floor((in - crop) / 2), except in torchvision.transforms' CenterCrop (timm),
 * which takes int(round((in - crop) / 2.0)): halves round to even. */
static int64_t crop_origin(uint32_t in, uint32_t crop, int backend)
{
    if (crop <= in) {
        uint32_t d = in - crop, q = d / 2;
        if (backend == PREPROC_BACKEND_TIMM && (d & 1u) && (q & 1u))
            q++;
        return (int64_t)q;
    }
    uint32_t pad = crop - in;
    return -(int64_t)(backend == PREPROC_BACKEND_PIL ? (pad + 1) / 2 : pad / 2);
}

void preproc_geometry_for(const preproc_config *cfg, uint32_t in_w, uint32_t in_h, preproc_geometry *g)
{
    resized_size(cfg, in_w, in_h, &g->resized_w, &g->resized_h);
    preproc_output_size(cfg, in_w, in_h, &g->out_w, &g->out_h);
    g->x0 = g->y0 = 0;
    if (cfg->do_center_crop) {
        g->x0 = crop_origin(g->resized_w, g->out_w, cfg->backend);
        g->y0 = crop_origin(g->resized_h, g->out_h, cfg->backend);
    }
}

/* ---- arithmetic ---- */

/* Every output value depends only on one uint8 sample and its channel, so
 * each backend's float sequence is evaluated once per level. */
void preproc_build_lut(const preproc_config *cfg, float lut[3][256])
{
    for (int c = 0; c < 3; c++) {
        float mean = cfg->image_mean[c], std = cfg->image_std[c];
        for (int v = 0; v < 256; v++) {
            float x;
            if (cfg->backend == PREPROC_BACKEND_TIMM) {
                /* ToTensor: float32 x / 255 (rescale_factor is ignored: timm
                 * always divides by 255); Normalize: float32 sub, div. */
                x = cfg->do_rescale ? (float)v / 255.0f : (float)v;
                if (cfg->do_normalize) {
                    float d = x - mean;
                    x = d / std;
                }
            } else if (cfg->backend == PREPROC_BACKEND_TORCHVISION) {
                if (cfg->do_rescale && cfg->do_normalize) {
                    /* torch: mean * (1 / f) and std * (1 / f) as float32
                     * tensors times a float32 scalar, then (x - m) / s. */
                    float inv = (float)(1.0 / cfg->rescale_factor);
                    float m = mean * inv, s = std * inv;
                    float d = (float)v - m;
                    x = d / s;
                } else if (cfg->do_normalize) {
                    float d = (float)v - mean;
                    x = d / std;
                } else if (cfg->do_rescale) {
                    /* uint8 tensor * Python float: computed in float32. */
                    x = (float)v * (float)cfg->rescale_factor;
                } else {
                    x = (float)v;
                }
            } else {
                /* numpy: rescale in float64, store float32; normalise in float32. */
                x = cfg->do_rescale ? (float)((double)v * cfg->rescale_factor) : (float)v;
                if (cfg->do_normalize) {
                    float d = x - mean;
                    x = d / std;
                }
            }
            lut[c][v] = x;
        }
    }
}

vitvk_status preprocess_image(const img_rgb8 *img, const preproc_config *cfg, float *out, char *err,
                              size_t err_size)
{
    if (!img || !cfg || !out || !img->pixels || img->width == 0 || img->height == 0) {
        vk_errorf(err, err_size, "preprocess_image: image, config and output are required");
        return VITVK_ERR_INVALID_ARGUMENT;
    }
    if (cfg->backend != PREPROC_BACKEND_TORCHVISION && cfg->backend != PREPROC_BACKEND_PIL &&
        cfg->backend != PREPROC_BACKEND_TIMM) {
        vk_errorf(err, err_size, "preprocess_image: unknown backend %d", cfg->backend);
        return VITVK_ERR_INVALID_ARGUMENT;
    }
    uint32_t rw, rh, ow, oh;
    resized_size(cfg, img->width, img->height, &rw, &rh);
    preproc_output_size(cfg, img->width, img->height, &ow, &oh);
    if (rw == 0 || rh == 0 || ow == 0 || oh == 0 || (uint64_t)rw * rh > VITVK_MAX_IMAGE_PIXELS ||
        (uint64_t)ow * oh > VITVK_MAX_IMAGE_PIXELS) {
        vk_errorf(err, err_size, "preprocess_image: %ux%u input gives an unusable %ux%u (crop %ux%u) size",
                   img->width, img->height, rw, rh, ow, oh);
        return VITVK_ERR_LIMIT;
    }

    img_rgb8 resized = {0};
    const img_rgb8 *src = img;
    if (rw != img->width || rh != img->height) {
        vitvk_status st = img_resize(img, rw, rh, cfg->resample, cfg->backend, &resized, err, err_size);
        if (st != VITVK_OK)
            return st;
        src = &resized;
    }

    float (*lut)[256] = malloc(sizeof(float[3][256]));
    if (!lut) {
        img_free(&resized);
        vk_errorf(err, err_size, "preprocess_image: out of memory");
        return VITVK_ERR_OUT_OF_HOST_MEMORY;
    }
    preproc_build_lut(cfg, lut);

    preproc_geometry geo;
    preproc_geometry_for(cfg, img->width, img->height, &geo);
    int64_t x0 = geo.x0, y0 = geo.y0;
    size_t plane = (size_t)ow * oh;
    for (uint32_t y = 0; y < oh; y++) {
        int64_t sy = y0 + y;
        int row_inside = sy >= 0 && sy < (int64_t)src->height;
        for (uint32_t x = 0; x < ow; x++) {
            int64_t sx = x0 + x;
            size_t o = (size_t)y * ow + x;
            if (row_inside && sx >= 0 && sx < (int64_t)src->width) {
                const uint8_t *p = src->pixels + ((size_t)sy * src->width + (size_t)sx) * 3;
                for (int c = 0; c < 3; c++)
                    out[c * plane + o] = lut[c][p[c]];
            } else {
                /* Padding is a pixel of level 0 (timm's border mode: its
                 * fill) before rescaling, in every backend. */
                for (int c = 0; c < 3; c++)
                    out[c * plane + o] = lut[c][cfg->pad_level[c]];
            }
        }
    }
    free(lut);
    img_free(&resized);
    return VITVK_OK;
}
