/* timm_config.c - timm's config.json: {"architecture": "vit_base_patch16_224",
 * "num_classes", "global_pool", "model_args": {...}, "pretrained_cfg": {...}}.
 *
 * timm does not write the model's sizes: they follow from the architecture
 * name (the table below mirrors timm's model definitions), then model_args
 * may override them. pretrained_cfg gives the eval preprocessing
 * (preproc_timm.c). */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "ops/ops.h"

typedef struct timm_size {
    const char *name;
    uint32_t dim, depth, heads;
} timm_size;

static const timm_size sizes[] = {
    {"tiny", 192, 12, 3},    {"small", 384, 12, 6},   {"medium", 512, 12, 8},
    {"base", 768, 12, 12},   {"large", 1024, 24, 16}, {"huge", 1280, 32, 16},
};

#define FAIL(st, ...)                               \
    do {                                            \
        vk_errorf(err, err_size, __VA_ARGS__);      \
        return (st);                                \
    } while (0)

/* "vit_base_patch16_224", "deit_small_distilled_patch16_224",
 * "vit_base_patch14_reg4_dinov2" are parsed as family_size[_distilled]_
 * patchP[_regR][_S]; a ".tag" suffix is ignored. */
static bool parse_arch(const char *arch, vit_config *c)
{
    char name[96];
    snprintf(name, sizeof name, "%s", arch);
    char *dot = strchr(name, '.');
    if (dot)
        *dot = 0;
    char *save = NULL;
    char *tok = strtok_r(name, "_", &save);
    if (!tok || (strcmp(tok, "vit") != 0 && strcmp(tok, "deit") != 0))
        return false;
    bool deit = strcmp(tok, "deit") == 0;
    tok = strtok_r(NULL, "_", &save);
    const timm_size *sz = NULL;
    for (size_t i = 0; tok && i < sizeof sizes / sizeof sizes[0]; i++)
        if (strcmp(tok, sizes[i].name) == 0)
            sz = &sizes[i];
    if (!sz)
        return false;
    c->hidden = sz->dim;
    c->layers = sz->depth;
    c->heads = sz->heads;
    c->intermediate = 4 * sz->dim;
    c->image_h = c->image_w = 224;
    bool have_patch = false;
    while ((tok = strtok_r(NULL, "_", &save))) {
        unsigned v;
        char tail;
        if (deit && strcmp(tok, "distilled") == 0) {
            c->dist_token = true;
        } else if (sscanf(tok, "patch%u%c", &v, &tail) == 1 && v > 0 && v <= VIT_MAX_IMAGE) {
            c->patch = v;
            have_patch = true;
        } else if (sscanf(tok, "reg%u%c", &v, &tail) == 1 && v <= 64) {
            c->reg_tokens = v;
        } else if (sscanf(tok, "%u%c", &v, &tail) == 1 && v > 0 && v <= VIT_MAX_IMAGE) {
            c->image_h = c->image_w = v;
        } else {
            return false; /* gap, siglip, clip, ...: other models */
        }
    }
    return have_patch;
}

/* Optional fields: absent keeps *out; present must be the right type. */
static int opt_uint(const cJSON *o, const char *key, uint32_t lo, uint32_t hi, uint32_t *out)
{
    const cJSON *v = o ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
    if (!v || cJSON_IsNull(v))
        return 0;
    if (cJSON_IsArray(v) && cJSON_GetArraySize(v) == 2) /* img_size: [h, w]; square only */
        v = cJSON_GetArrayItem(v, 0);
    if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || v->valuedouble < lo || v->valuedouble > hi)
        return -1;
    *out = (uint32_t)v->valuedouble;
    return 1;
}

static int opt_bool(const cJSON *o, const char *key, bool *out)
{
    const cJSON *v = o ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
    if (!v || cJSON_IsNull(v))
        return 0;
    if (!cJSON_IsBool(v))
        return -1;
    *out = cJSON_IsTrue(v);
    return 1;
}

vitvk_status timm_config_parse(const cJSON *root, const char *path, vit_config *c, char *err, size_t err_size)
{
    const cJSON *arch = cJSON_GetObjectItemCaseSensitive(root, "architecture");
    snprintf(c->architecture, sizeof c->architecture, "%s", arch->valuestring);
    snprintf(c->model_type, sizeof c->model_type, "timm");
    c->family = FAM_TIMM;
    c->cls_token = true;
    c->pos_mode = VK_POS_ALL;
    c->pool = POOL_CLS;
    c->channels = 3;
    c->eps = 1e-6f; /* timm's ViT LayerNorm */
    c->act = VK_ACT_GELU;
    snprintf(c->act_name, sizeof c->act_name, "gelu");
    c->qkv_bias = true;
    if (!parse_arch(c->architecture, c))
        FAIL(VITVK_ERR_UNSUPPORTED,
             "%s: timm architecture \"%.60s\" is not supported (supported: vit_/deit_ tiny, small, medium, base, "
             "large, huge with patchP and image size, deit distilled, regN)",
             path, c->architecture);

    const cJSON *ma = cJSON_GetObjectItemCaseSensitive(root, "model_args");
    if (ma && !cJSON_IsObject(ma))
        FAIL(VITVK_ERR_FORMAT, "%s: \"model_args\" must be an object", path);
    uint32_t mlp_x100 = 0;
    const cJSON *mr = ma ? cJSON_GetObjectItemCaseSensitive(ma, "mlp_ratio") : NULL;
    if (mr) {
        if (!cJSON_IsNumber(mr) || !(mr->valuedouble > 0 && mr->valuedouble <= 16))
            FAIL(VITVK_ERR_FORMAT, "%s: model_args.mlp_ratio must be a number in (0, 16]", path);
        mlp_x100 = (uint32_t)lround(mr->valuedouble * 100);
    }
    struct {
        const char *key;
        uint32_t lo, hi;
        uint32_t *dst;
    } nums[] = {
        {"img_size", 1, VIT_MAX_IMAGE, &c->image_h}, {"patch_size", 1, VIT_MAX_IMAGE, &c->patch},
        {"embed_dim", 1, VIT_MAX_HIDDEN, &c->hidden}, {"depth", 1, VIT_MAX_LAYERS, &c->layers},
        {"num_heads", 1, VIT_MAX_HEADS, &c->heads},   {"reg_tokens", 0, 64, &c->reg_tokens},
        {"in_chans", 1, VIT_MAX_CHANNELS, &c->channels},
    };
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++)
        if (opt_uint(ma, nums[i].key, nums[i].lo, nums[i].hi, nums[i].dst) < 0)
            FAIL(VITVK_ERR_LIMIT, "%s: model_args.%s must be an integer from %u to %u", path, nums[i].key,
                 nums[i].lo, nums[i].hi);
    c->image_w = c->image_h;
    c->intermediate = mlp_x100 ? (uint32_t)((uint64_t)c->hidden * mlp_x100 / 100) : 4 * c->hidden;
    bool no_embed_class = false, fc_norm = false;
    int fc_norm_set = opt_bool(ma, "fc_norm", &fc_norm);
    if (opt_bool(ma, "class_token", &c->cls_token) < 0 || opt_bool(ma, "qkv_bias", &c->qkv_bias) < 0 ||
        opt_bool(ma, "no_embed_class", &no_embed_class) < 0 || fc_norm_set < 0)
        FAIL(VITVK_ERR_FORMAT, "%s: model_args class_token, qkv_bias, no_embed_class and fc_norm are true/false", path);
    c->qkv_bias_required = c->qkv_bias;
    c->pos_mode = no_embed_class ? VK_POS_PATCHES : VK_POS_ALL;

    const cJSON *gp = cJSON_GetObjectItemCaseSensitive(root, "global_pool");
    if (ma && cJSON_GetObjectItemCaseSensitive(ma, "global_pool"))
        gp = cJSON_GetObjectItemCaseSensitive(ma, "global_pool");
    const char *pool = cJSON_IsString(gp) ? gp->valuestring : (c->cls_token ? "token" : "avg");
    if (strcmp(pool, "token") == 0) {
        if (!c->cls_token)
            FAIL(VITVK_ERR_UNSUPPORTED, "%s: global_pool \"token\" needs a class token", path);
        c->pool = c->dist_token ? POOL_TWO_HEADS : POOL_CLS;
    } else if (strcmp(pool, "avg") == 0) {
        /* timm: fc_norm defaults to (global_pool == "avg"); without it the
         * final norm is applied before pooling, which is not supported. */
        if (fc_norm_set > 0 && !fc_norm)
            FAIL(VITVK_ERR_UNSUPPORTED, "%s: global_pool \"avg\" without fc_norm is not supported", path);
        c->pool = POOL_MEAN;
    } else {
        FAIL(VITVK_ERR_UNSUPPORTED, "%s: global_pool \"%.20s\" is not supported (token, avg)", path, pool);
    }
    if (c->hidden % c->heads)
        FAIL(VITVK_ERR_FORMAT, "%s: embed_dim %u is not a multiple of num_heads %u", path, c->hidden, c->heads);
    if (c->hidden / c->heads > VIT_MAX_HEAD_DIM)
        FAIL(VITVK_ERR_LIMIT, "%s: head size %u is over the limit %u", path, c->hidden / c->heads, VIT_MAX_HEAD_DIM);
    if (c->patch > c->image_h)
        FAIL(VITVK_ERR_FORMAT, "%s: patch size %u is larger than the image size %u", path, c->patch, c->image_h);
    if ((uint64_t)(c->image_h / c->patch) * (c->image_w / c->patch) + 2 + c->reg_tokens > VIT_MAX_TOKENS)
        FAIL(VITVK_ERR_LIMIT, "%s: more than %u tokens", path, VIT_MAX_TOKENS);

    /* Labels: timm's label_names when present. */
    const cJSON *names = cJSON_GetObjectItemCaseSensitive(root, "label_names");
    if (cJSON_IsArray(names)) {
        int n = cJSON_GetArraySize(names);
        if (n > (int)VIT_MAX_LABELS)
            FAIL(VITVK_ERR_LIMIT, "%s: more than %u label_names", path, VIT_MAX_LABELS);
        c->labels = calloc(n ? (size_t)n : 1, sizeof *c->labels);
        if (!c->labels)
            FAIL(VITVK_ERR_OUT_OF_HOST_MEMORY, "out of host memory");
        c->num_labels_cfg = (uint32_t)n;
        for (int i = 0; i < n; i++) {
            const cJSON *s = cJSON_GetArrayItem(names, i);
            if (cJSON_IsString(s) && !(c->labels[i] = strdup(s->valuestring)))
                FAIL(VITVK_ERR_OUT_OF_HOST_MEMORY, "out of host memory");
        }
    }
    const cJSON *pc = cJSON_GetObjectItemCaseSensitive(root, "pretrained_cfg");
    if (pc && !cJSON_IsObject(pc))
        FAIL(VITVK_ERR_FORMAT, "%s: \"pretrained_cfg\" must be an object", path);
    c->has_preproc = true;
    /* timm's eval transform (preproc_timm.c); an absent pretrained_cfg means
     * timm's defaults. */
    cJSON *empty = pc ? NULL : cJSON_CreateObject();
    if (!pc && !empty)
        FAIL(VITVK_ERR_OUT_OF_HOST_MEMORY, "out of host memory");
    vitvk_status st = preproc_config_from_timm_json(pc ? (const void *)pc : empty, path, &c->preproc, err, err_size);
    cJSON_Delete(empty);
    return st;
}
