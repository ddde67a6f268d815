/* vit_config.c - config.json for model_type "vit" (transformers' ViTConfig).
 *
 * Values are taken from the file, never guessed from the model's name.
 * Fields transformers always writes are required; the few that older
 * configs omit take ViTConfig's defaults. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errmsg.h"
#include "model.h"
#include "ops/ops.h"

/* vk_errorf, not snprintf: names from the file may hold newlines, and a
 * message is one line. */
#define ERR(st, ...)                                   \
    do {                                               \
        vk_errorf(err, err_size, __VA_ARGS__);         \
        status = (st);                                 \
        goto done;                                     \
    } while (0)

/* Reads an integer field in [lo, hi]. Returns 1 found, 0 absent, -1 bad. */
static int get_uint(const cJSON *root, const char *key, uint32_t lo, uint32_t hi, uint32_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
    if (!v || cJSON_IsNull(v))
        return 0;
    if (!cJSON_IsNumber(v))
        return -1;
    double d = v->valuedouble;
    if (!(d >= lo && d <= hi) || d != floor(d))
        return -1;
    *out = (uint32_t)d;
    return 1;
}

/* image_size / patch_size: an integer, or [height, width]. */
static int get_size2(const cJSON *root, const char *key, uint32_t hi, uint32_t *h, uint32_t *w)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
    if (!v)
        return 0;
    if (cJSON_IsNumber(v)) {
        int r = get_uint(root, key, 1, hi, h);
        *w = *h;
        return r;
    }
    if (cJSON_IsArray(v) && cJSON_GetArraySize(v) == 2) {
        const cJSON *a = cJSON_GetArrayItem(v, 0), *b = cJSON_GetArrayItem(v, 1);
        if (!cJSON_IsNumber(a) || !cJSON_IsNumber(b))
            return -1;
        double x = a->valuedouble, y = b->valuedouble;
        if (!(x >= 1 && x <= hi && y >= 1 && y <= hi) || x != floor(x) || y != floor(y))
            return -1;
        *h = (uint32_t)x;
        *w = (uint32_t)y;
        return 1;
    }
    return -1;
}

vitvk_status vit_config_parse(const char *json, size_t len, const char *path, vit_config *cfg, char *err,
                              size_t err_size)
{
    vitvk_status status = VITVK_OK;
    memset(cfg, 0, sizeof *cfg);
    cJSON *root = cJSON_ParseWithLength(json, len);
    if (!root)
        ERR(VITVK_ERR_FORMAT, "%s: not valid JSON", path);
    if (!cJSON_IsObject(root))
        ERR(VITVK_ERR_FORMAT, "%s: not a JSON object", path);

    const cJSON *mt = cJSON_GetObjectItemCaseSensitive(root, "model_type");
    if (!mt && cJSON_IsString(cJSON_GetObjectItemCaseSensitive(root, "architecture"))) {
        /* timm writes {"architecture": "vit_base_patch16_224", ...} */
        status = timm_config_parse(root, path, cfg, err, err_size);
        goto done;
    }
    if (!cJSON_IsString(mt))
        ERR(VITVK_ERR_FORMAT, "%s: no \"model_type\" (a Hugging Face config.json names its model type)", path);
    if (strcmp(mt->valuestring, "vit") == 0)
        cfg->family = FAM_VIT;
    else if (strcmp(mt->valuestring, "deit") == 0)
        cfg->family = FAM_DEIT;
    else if (strcmp(mt->valuestring, "beit") == 0)
        cfg->family = FAM_BEIT;
    else if (strcmp(mt->valuestring, "swin") == 0)
        cfg->family = FAM_SWIN;
    else
        ERR(VITVK_ERR_UNSUPPORTED,
            "%s: model_type \"%.40s\" is not supported (supported: vit, deit, beit, swin)", path, mt->valuestring);
    snprintf(cfg->model_type, sizeof cfg->model_type, "%s", mt->valuestring);

    const cJSON *arch = cJSON_GetObjectItemCaseSensitive(root, "architectures");
    const cJSON *a0 = cJSON_IsArray(arch) ? cJSON_GetArrayItem(arch, 0) : NULL;
    static const char *const default_arch[] = {
        [FAM_VIT] = "ViTForImageClassification",
        [FAM_DEIT] = "DeiTForImageClassification",
        [FAM_BEIT] = "BeitForImageClassification",
        [FAM_TIMM] = "",
        [FAM_SWIN] = "SwinForImageClassification",
    };
    snprintf(cfg->architecture, sizeof cfg->architecture, "%s",
             cJSON_IsString(a0) ? a0->valuestring : default_arch[cfg->family]);

    struct {
        const char *key;
        uint32_t lo, hi;
        uint32_t *dst;
    } req[] = {
        {"hidden_size", 1, VIT_MAX_HIDDEN, &cfg->hidden},
        {"num_hidden_layers", 1, VIT_MAX_LAYERS, &cfg->layers},
        {"num_attention_heads", 1, VIT_MAX_HEADS, &cfg->heads},
        {"intermediate_size", 1, VIT_MAX_INTERMEDIATE, &cfg->intermediate},
    };
    /* Swin has per-stage lists instead (swin_config_parse, below). */
    for (size_t i = 0; cfg->family != FAM_SWIN && i < sizeof req / sizeof req[0]; i++) {
        int r = get_uint(root, req[i].key, req[i].lo, req[i].hi, req[i].dst);
        if (r == 0)
            ERR(VITVK_ERR_FORMAT, "%s: missing \"%s\"", path, req[i].key);
        if (r < 0)
            ERR(VITVK_ERR_LIMIT, "%s: \"%s\" must be an integer from %u to %u", path, req[i].key, req[i].lo,
                req[i].hi);
    }
    uint32_t ph, pw;
    int r = get_size2(root, "image_size", VIT_MAX_IMAGE, &cfg->image_h, &cfg->image_w);
    if (r == 0)
        ERR(VITVK_ERR_FORMAT, "%s: missing \"image_size\"", path);
    if (r < 0)
        ERR(VITVK_ERR_LIMIT, "%s: \"image_size\" must be an integer (or [height, width]) from 1 to %u", path,
            VIT_MAX_IMAGE);
    r = get_size2(root, "patch_size", VIT_MAX_IMAGE, &ph, &pw);
    if (r == 0)
        ERR(VITVK_ERR_FORMAT, "%s: missing \"patch_size\"", path);
    if (r < 0 || ph != pw)
        ERR(VITVK_ERR_UNSUPPORTED, "%s: \"patch_size\" must be one positive integer (square patches)", path);
    cfg->patch = ph;
    cfg->channels = 3;
    if (get_uint(root, "num_channels", 1, VIT_MAX_CHANNELS, &cfg->channels) < 0)
        ERR(VITVK_ERR_LIMIT, "%s: \"num_channels\" must be an integer from 1 to %u", path, VIT_MAX_CHANNELS);

    if (cfg->family != FAM_SWIN && cfg->hidden % cfg->heads)
        ERR(VITVK_ERR_FORMAT, "%s: hidden_size %u is not a multiple of num_attention_heads %u", path, cfg->hidden,
            cfg->heads);
    if (cfg->family != FAM_SWIN && cfg->hidden / cfg->heads > VIT_MAX_HEAD_DIM)
        ERR(VITVK_ERR_LIMIT, "%s: head size %u is over the limit %u", path, cfg->hidden / cfg->heads,
            VIT_MAX_HEAD_DIM);
    if (cfg->patch > cfg->image_h || cfg->patch > cfg->image_w)
        ERR(VITVK_ERR_FORMAT, "%s: patch_size %u is larger than image_size %ux%u", path, cfg->patch, cfg->image_h,
            cfg->image_w);
    uint64_t tokens = (uint64_t)(cfg->image_h / cfg->patch) * (cfg->image_w / cfg->patch) + 2;
    if (tokens > VIT_MAX_TOKENS)
        ERR(VITVK_ERR_LIMIT, "%s: %llu tokens is over the limit %u", path, (unsigned long long)tokens,
            VIT_MAX_TOKENS);

    const cJSON *eps = cJSON_GetObjectItemCaseSensitive(root, "layer_norm_eps");
    cfg->eps = 1e-12f;
    if (eps) {
        if (!cJSON_IsNumber(eps) || !(eps->valuedouble >= 0 && eps->valuedouble < 1))
            ERR(VITVK_ERR_FORMAT, "%s: \"layer_norm_eps\" must be a number in [0, 1)", path);
        cfg->eps = (float)eps->valuedouble;
    }
    const cJSON *act = cJSON_GetObjectItemCaseSensitive(root, "hidden_act");
    snprintf(cfg->act_name, sizeof cfg->act_name, "%s", "gelu");
    if (act) {
        if (!cJSON_IsString(act))
            ERR(VITVK_ERR_FORMAT, "%s: \"hidden_act\" must be a string", path);
        snprintf(cfg->act_name, sizeof cfg->act_name, "%s", act->valuestring);
    }
    cfg->act = vk_act_from_name(cfg->act_name);
    if (cfg->act < 0)
        ERR(VITVK_ERR_UNSUPPORTED,
            "%s: hidden_act \"%.40s\" is not supported (gelu, gelu_new, gelu_pytorch_tanh, quick_gelu, relu, silu)",
            path, cfg->act_name);
    const cJSON *qb = cJSON_GetObjectItemCaseSensitive(root, "qkv_bias");
    cfg->qkv_bias = true;
    if (qb) {
        if (!cJSON_IsBool(qb))
            ERR(VITVK_ERR_FORMAT, "%s: \"qkv_bias\" must be true or false", path);
        cfg->qkv_bias = cJSON_IsTrue(qb);
    }
    cfg->qkv_bias_required = cfg->qkv_bias;
    if (cfg->family == FAM_SWIN) {
        status = swin_config_parse(root, path, cfg, err, err_size);
        if (status != VITVK_OK)
            goto done;
    }
    cfg->cls_token = cfg->family != FAM_SWIN;
    if (cfg->family != FAM_SWIN) {
        cfg->pos_mode = VK_POS_ALL;
        cfg->pool = POOL_CLS;
    }
    if (cfg->family == FAM_DEIT) {
        /* DeiTForImageClassificationWithTeacher: [CLS] and distillation
         * tokens, one head on each; DeiTForImageClassification and DeiTModel
         * still carry the distillation token in their embeddings. */
        cfg->dist_token = true;
        if (strcmp(cfg->architecture, "DeiTForImageClassificationWithTeacher") == 0)
            cfg->pool = POOL_TWO_HEADS;
    } else if (cfg->family == FAM_BEIT) {
        struct {
            const char *key;
            bool *dst;
            bool def;
        } flags[] = {
            {"use_absolute_position_embeddings", NULL, false},
            {"use_relative_position_bias", &cfg->rel_pos_layer, false},
            {"use_shared_relative_position_bias", &cfg->rel_pos_shared, false},
            {"use_mean_pooling", NULL, true},
        };
        bool abs_pos = false, mean = true;
        flags[0].dst = &abs_pos;
        flags[3].dst = &mean;
        for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, flags[i].key);
            *flags[i].dst = flags[i].def;
            if (v && !cJSON_IsBool(v))
                ERR(VITVK_ERR_FORMAT, "%s: \"%s\" must be true or false", path, flags[i].key);
            if (v)
                *flags[i].dst = cJSON_IsTrue(v);
        }
        cfg->pos_mode = abs_pos ? VK_POS_ALL : VK_POS_NONE;
        cfg->pool = mean ? POOL_MEAN : POOL_CLS;
        /* BEiT's query and value projections have biases, its key none. */
        cfg->qkv_bias_required = false;
    }

    /* id2label: {"0": "cat", ...}; keys must be indices. */
    const cJSON *labels = cJSON_GetObjectItemCaseSensitive(root, "id2label");
    if (labels && !cJSON_IsObject(labels))
        ERR(VITVK_ERR_FORMAT, "%s: \"id2label\" must be an object", path);
    if (labels) {
        uint32_t max = 0;
        const cJSON *it;
        cJSON_ArrayForEach(it, labels)
        {
            char *end;
            unsigned long idx = strtoul(it->string, &end, 10);
            if (*it->string == 0 || *end || idx >= VIT_MAX_LABELS || !cJSON_IsString(it))
                ERR(VITVK_ERR_FORMAT, "%s: id2label entry \"%.40s\" is not index: name", path, it->string);
            if (idx + 1 > max)
                max = (uint32_t)idx + 1;
        }
        cfg->num_labels_cfg = max;
        cfg->labels = calloc(max ? max : 1, sizeof *cfg->labels);
        if (!cfg->labels)
            ERR(VITVK_ERR_OUT_OF_HOST_MEMORY, "out of host memory");
        cJSON_ArrayForEach(it, labels)
        {
            unsigned long idx = strtoul(it->string, NULL, 10);
            free(cfg->labels[idx]);
            cfg->labels[idx] = strdup(it->valuestring);
            if (!cfg->labels[idx])
                ERR(VITVK_ERR_OUT_OF_HOST_MEMORY, "out of host memory");
        }
    }
done:
    cJSON_Delete(root);
    if (status != VITVK_OK)
        vit_config_free(cfg);
    return status;
}

void vit_config_free(vit_config *cfg)
{
    if (cfg->labels)
        for (uint32_t i = 0; i < cfg->num_labels_cfg; i++)
            free(cfg->labels[i]);
    free(cfg->labels);
    cfg->labels = NULL;
    cfg->num_labels_cfg = 0;
}
