/* preproc_timm.c - timm's eval preprocessing from a checkpoint's
 * pretrained_cfg, and the helpers that find a model's preprocessing without
 * loading it (see image.h).
 *
 * timm (timm.data.resolve_data_config + transforms_imagenet_eval) does, on a
 * PIL image:
 *   scale = floor(H / crop_pct), floor(W / crop_pct)      (Python floats)
 *   crop_mode "center": scale square -> Resize(scale) (shorter side), else
 *                       ResizeKeepRatio(scale) (bilinear, whatever the
 *                       configured interpolation: timm passes none); then
 *                       CenterCrop(H, W)
 *   crop_mode "squash": Resize((scaleH, scaleW)), CenterCrop(H, W)
 *   crop_mode "border": ResizeKeepRatio(scale, longest=1), CenterCropOrPad
 *                       with fill round(255 * mean)
 *   ToTensor (float32 x / 255), Normalize(mean, std) in float32.
 * Resizes are PIL's Image.resize; crops start at round((in - crop) / 2). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "image.h"
#include "platform.h"

#define TIMM_MAX_CONFIG_BYTES ((size_t)16 << 20) /* config.json limit (README) */
#define TIMM_MAX_SIDE 65536.0

static vitvk_status bad(char *err, size_t err_size, vitvk_status st, const char *name, const char *key,
                        const char *what)
{
    vk_errorf(err, err_size, "%s: pretrained_cfg \"%s\" %s", name, key, what);
    return st;
}

static const cJSON *key_of(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNull(v) ? NULL : v;
}

/* mean / std: 3 numbers, or 1 repeated (as resolve_data_config does with
 * a 1-element override). */
static vitvk_status read_three(const cJSON *pc, const char *key, const char *name, double out[3], int positive,
                               char *err, size_t err_size)
{
    const cJSON *a = key_of(pc, key);
    if (!a)
        return VITVK_OK;
    int n = cJSON_IsArray(a) ? cJSON_GetArraySize(a) : 0;
    if (n != 1 && n != 3)
        return bad(err, err_size, VITVK_ERR_FORMAT, name, key, "must be a list of 3 numbers");
    double v[3];
    for (int i = 0; i < n; i++) {
        const cJSON *e = cJSON_GetArrayItem(a, i);
        if (!cJSON_IsNumber(e) || !isfinite(e->valuedouble) || fabs(e->valuedouble) > 1e30 ||
            (positive && !(e->valuedouble > 0)))
            return bad(err, err_size, VITVK_ERR_FORMAT, name, key,
                       positive ? "must hold positive numbers" : "must hold finite numbers");
        v[i] = e->valuedouble;
    }
    for (int i = 0; i < 3; i++)
        out[i] = v[n == 1 ? 0 : i];
    return VITVK_OK;
}

vitvk_status preproc_config_from_timm_json(const void *pretrained_cfg, const char *name, preproc_config *cfg,
                                           char *err, size_t err_size)
{
    const cJSON *pc = pretrained_cfg;
    if (!name)
        name = "pretrained_cfg";
    if (!cfg) {
        vk_errorf(err, err_size, "%s: no config to fill", name);
        return VITVK_ERR_INVALID_ARGUMENT;
    }
    if (!cJSON_IsObject(pc)) {
        vk_errorf(err, err_size, "%s: \"pretrained_cfg\" must be an object", name);
        return VITVK_ERR_FORMAT;
    }

    /* input_size [C, H, W]; timm's default (3, 224, 224). */
    double H = 224, W = 224;
    const cJSON *is = key_of(pc, "input_size");
    if (is) {
        if (!cJSON_IsArray(is) || cJSON_GetArraySize(is) != 3)
            return bad(err, err_size, VITVK_ERR_FORMAT, name, "input_size", "must be [channels, height, width]");
        double v[3];
        for (int i = 0; i < 3; i++) {
            const cJSON *e = cJSON_GetArrayItem(is, i);
            if (!cJSON_IsNumber(e) || e->valuedouble != floor(e->valuedouble) || e->valuedouble < 1 ||
                e->valuedouble > TIMM_MAX_SIDE)
                return bad(err, err_size, VITVK_ERR_FORMAT, name, "input_size",
                           "must hold whole numbers from 1 to 65536");
            v[i] = e->valuedouble;
        }
        if (v[0] != 3)
            return bad(err, err_size, VITVK_ERR_UNSUPPORTED, name, "input_size",
                       "has a channel count other than 3; images give RGB");
        H = v[1];
        W = v[2];
    }

    static const char *const interp_names[] = {"nearest", "lanczos", "bilinear", "bicubic", "box", "hamming"};
    int resample = IMG_BICUBIC; /* resolve_data_config's default */
    const cJSON *ip = key_of(pc, "interpolation");
    if (ip) {
        if (!cJSON_IsString(ip))
            return bad(err, err_size, VITVK_ERR_FORMAT, name, "interpolation", "must be a string");
        resample = -1;
        for (int i = 0; i < 6; i++)
            if (strcmp(ip->valuestring, interp_names[i]) == 0)
                resample = i;
        if (resample < 0)
            return bad(err, err_size, VITVK_ERR_UNSUPPORTED, name, "interpolation",
                       "is not nearest, bilinear, bicubic, lanczos, box or hamming");
    }

    double crop_pct = 0.875; /* DEFAULT_CROP_PCT; "crop_pct or DEFAULT_CROP_PCT" */
    const cJSON *cp = key_of(pc, "crop_pct");
    if (cp) {
        if (!cJSON_IsNumber(cp) || !(cp->valuedouble >= 0 && cp->valuedouble <= 16))
            return bad(err, err_size, VITVK_ERR_FORMAT, name, "crop_pct", "must be a number from 0 to 16");
        if (cp->valuedouble > 0)
            crop_pct = cp->valuedouble;
    }

    enum { MODE_CENTER, MODE_SQUASH, MODE_BORDER } mode = MODE_CENTER;
    const cJSON *cm = key_of(pc, "crop_mode");
    if (cm) {
        if (!cJSON_IsString(cm))
            return bad(err, err_size, VITVK_ERR_FORMAT, name, "crop_mode", "must be a string");
        if (strcmp(cm->valuestring, "squash") == 0)
            mode = MODE_SQUASH;
        else if (strcmp(cm->valuestring, "border") == 0)
            mode = MODE_BORDER;
        else if (strcmp(cm->valuestring, "center") != 0)
            return bad(err, err_size, VITVK_ERR_UNSUPPORTED, name, "crop_mode", "is not center, squash or border");
    }
    const cJSON *cb = key_of(pc, "crop_border_pixels");
    if (cb && !(cJSON_IsNumber(cb) && cb->valuedouble == 0))
        return bad(err, err_size, VITVK_ERR_UNSUPPORTED, name, "crop_border_pixels", "is not supported");

    double mean[3] = {0.485, 0.456, 0.406}, std[3] = {0.229, 0.224, 0.225};
    vitvk_status st = read_three(pc, "mean", name, mean, 0, err, err_size);
    if (st == VITVK_OK)
        st = read_three(pc, "std", name, std, 1, err, err_size);
    if (st != VITVK_OK)
        return st;

    double sh = floor(H / crop_pct), sw = floor(W / crop_pct);
    if (!(sh >= 1 && sw >= 1 && sh <= TIMM_MAX_SIDE && sw <= TIMM_MAX_SIDE))
        return bad(err, err_size, VITVK_ERR_FORMAT, name, "crop_pct", "gives a resize size out of range");

    preproc_config c;
    preproc_config_defaults(&c);
    snprintf(c.processor_type, sizeof c.processor_type, "timm");
    c.backend = PREPROC_BACKEND_TIMM;
    c.do_resize = 1;
    c.resample = resample;
    c.do_center_crop = 1;
    c.crop_height = (uint32_t)H;
    c.crop_width = (uint32_t)W;
    c.do_rescale = 1;
    c.rescale_factor = 1.0 / 255.0; /* documentation only: timm divides by 255 */
    c.do_normalize = 1;
    c.size_height = c.size_width = 0;
    if (mode == MODE_SQUASH) {
        c.size_height = (uint32_t)sh;
        c.size_width = (uint32_t)sw;
    } else if (mode == MODE_BORDER) {
        c.keep_ratio_height = (uint32_t)sh;
        c.keep_ratio_width = (uint32_t)sw;
        c.keep_ratio_longest = 1;
        for (int i = 0; i < 3; i++) {
            double f = rint(255.0 * mean[i]); /* Python's round(): halves to even */
            c.pad_level[i] = (uint8_t)(f < 0 ? 0 : f > 255 ? 255 : f);
        }
    } else if (sh == sw) {
        c.shortest_edge = (uint32_t)sh;
    } else {
        c.keep_ratio_height = (uint32_t)sh;
        c.keep_ratio_width = (uint32_t)sw;
        c.resample = IMG_BILINEAR; /* ResizeKeepRatio's default; timm passes none here */
    }
    for (int i = 0; i < 3; i++) {
        c.image_mean[i] = (float)mean[i]; /* torch.tensor(mean): float32 */
        c.image_std[i] = (float)std[i];
    }
    *cfg = c;
    return VITVK_OK;
}

static cJSON *parse_object(const char *json, size_t len, const char *name, char *err, size_t err_size)
{
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(json, len, &end, 0);
    if (!root) {
        size_t at = end && end >= json ? (size_t)(end - json) : 0;
        vk_errorf(err, err_size, "%s: invalid JSON near byte %zu", name, at);
        return NULL;
    }
    if (!cJSON_IsObject(root)) {
        vk_errorf(err, err_size, "%s: the top level must be a JSON object", name);
        cJSON_Delete(root);
        return NULL;
    }
    return root;
}

vitvk_status preproc_config_parse_timm(const char *json, size_t len, const char *name, preproc_config *cfg,
                                       char *err, size_t err_size)
{
    if (!name)
        name = "config.json";
    if (!json || !cfg) {
        vk_errorf(err, err_size, "%s: no JSON text or no config to fill", name);
        return VITVK_ERR_INVALID_ARGUMENT;
    }
    cJSON *root = parse_object(json, len, name, err, err_size);
    if (!root)
        return VITVK_ERR_FORMAT;
    const cJSON *pc = cJSON_GetObjectItemCaseSensitive(root, "pretrained_cfg");
    vitvk_status st = preproc_config_from_timm_json(pc ? pc : root, name, cfg, err, err_size);
    cJSON_Delete(root);
    return st;
}

vitvk_status preproc_config_load_any(const char *path, preproc_config *cfg, char *err, size_t err_size)
{
    if (!path || !cfg) {
        vk_errorf(err, err_size, "preproc_config_load_any: path and cfg are required");
        return VITVK_ERR_INVALID_ARGUMENT;
    }
    char *text;
    size_t len;
    vitvk_status st = plat_read_text(path, &text, &len, TIMM_MAX_CONFIG_BYTES, err, err_size);
    if (st != VITVK_OK)
        return st;
    cJSON *root = parse_object(text, len, path, err, err_size);
    if (!root) {
        free(text);
        return VITVK_ERR_FORMAT;
    }
    const cJSON *pc = cJSON_GetObjectItemCaseSensitive(root, "pretrained_cfg");
    if (pc)
        st = preproc_config_from_timm_json(pc, path, cfg, err, err_size);
    else
        st = preproc_config_parse(text, len, path, cfg, err, err_size);
    cJSON_Delete(root);
    free(text);
    return st;
}

vitvk_status preproc_config_for_model_dir(const char *dir, preproc_config *cfg, char *err, size_t err_size)
{
    if (!dir || !cfg) {
        vk_errorf(err, err_size, "preproc_config_for_model_dir: dir and cfg are required");
        return VITVK_ERR_INVALID_ARGUMENT;
    }
    char path[4096];
    if (!plat_path_join(dir, "config.json", path, sizeof path)) {
        vk_errorf(err, err_size, "%s: path too long", dir);
        return VITVK_ERR_INVALID_ARGUMENT;
    }
    char *text;
    size_t len;
    vitvk_status st = plat_read_text(path, &text, &len, TIMM_MAX_CONFIG_BYTES, err, err_size);
    if (st != VITVK_OK)
        return st;
    cJSON *root = parse_object(text, len, path, err, err_size);
    free(text);
    if (!root)
        return VITVK_ERR_FORMAT;
    const cJSON *pc = cJSON_GetObjectItemCaseSensitive(root, "pretrained_cfg");
    if (pc) {
        st = preproc_config_from_timm_json(pc, path, cfg, err, err_size);
        cJSON_Delete(root);
        return st;
    }
    preproc_config c;
    preproc_config_defaults(&c);
    const cJSON *is = key_of(root, "image_size");
    if (is) {
        double h = -1, w = -1;
        if (cJSON_IsNumber(is)) {
            h = w = is->valuedouble;
        } else if (cJSON_IsArray(is) && cJSON_GetArraySize(is) == 2 && cJSON_IsNumber(cJSON_GetArrayItem(is, 0)) &&
                   cJSON_IsNumber(cJSON_GetArrayItem(is, 1))) {
            h = cJSON_GetArrayItem(is, 0)->valuedouble;
            w = cJSON_GetArrayItem(is, 1)->valuedouble;
        }
        if (!(h >= 1 && w >= 1 && h <= TIMM_MAX_SIDE && w <= TIMM_MAX_SIDE && h == floor(h) && w == floor(w))) {
            vk_errorf(err, err_size, "%s: \"image_size\" must be an integer (or [height, width]) from 1 to 65536",
                      path);
            cJSON_Delete(root);
            return VITVK_ERR_FORMAT;
        }
        c.size_height = (uint32_t)h;
        c.size_width = (uint32_t)w;
    }
    cJSON_Delete(root);
    if (!plat_path_join(dir, "preprocessor_config.json", path, sizeof path)) {
        vk_errorf(err, err_size, "%s: path too long", dir);
        return VITVK_ERR_INVALID_ARGUMENT;
    }
    if (plat_file_exists(path)) {
        st = preproc_config_load(path, &c, err, err_size);
        if (st != VITVK_OK)
            return st;
    }
    *cfg = c;
    return VITVK_OK;
}
