/* model.c - loading a Hugging Face ViT directory onto the device.
 *
 * Every tensor is checked against the shape config.json implies before it
 * is used; a missing or mis-shaped one is an error naming it. Weights are
 * converted on the host to the kernels' layout and precision, one tensor
 * at a time, so peak host memory is one tensor, not the model. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "half.h"
#include "model.h"
#include "ops/ops.h"
#include "platform.h"

#define CONFIG_MAX_BYTES (16u * 1024u * 1024u)

/* ---- tensors ----------------------------------------------------- */

typedef struct loader {
    vitvk_model *m;
    st_archive *ar;
    const char *dir;
    char prefix[16]; /* "vit." or "" */
    float *tmp;      /* conversion scratch, grown as needed */
    size_t tmp_cap;
    void *out;       /* storage-precision scratch */
    size_t out_cap;
} loader;

static vitvk_status grow(vitvk_context *ctx, void **buf, size_t *cap, size_t need)
{
    if (need <= *cap)
        return VITVK_OK;
    void *nb = realloc(*buf, need);
    if (!nb)
        return vk_fail(ctx, VITVK_ERR_OUT_OF_HOST_MEMORY, "out of host memory (%zu bytes)", need);
    *buf = nb;
    *cap = need;
    return VITVK_OK;
}

/* Looks up `name` and checks its shape: dims[i] == 0 means "any". */
static vitvk_status find_tensor(loader *L, const char *name, int rank, const int64_t *dims, const st_tensor **out)
{
    vitvk_context *ctx = L->m->ctx;
    const st_tensor *t = st_find(L->ar, name);
    if (!t)
        return vk_fail(ctx, VITVK_ERR_MODEL, "%s: tensor %s is missing", L->dir, name);
    if (!st_dtype_is_float(t->dtype))
        return vk_fail(ctx, VITVK_ERR_MODEL, "%s: tensor %s has dtype %s; F32, F16 or BF16 expected", L->dir, name,
                       st_dtype_name(t->dtype));
    bool ok = t->rank == rank;
    for (int i = 0; ok && i < rank; i++)
        if (dims[i] && t->shape[i] != dims[i])
            ok = false;
    if (!ok) {
        char want[128] = "", got[128] = "";
        for (int i = 0; i < rank; i++)
            snprintf(want + strlen(want), sizeof want - strlen(want), "%s%lld", i ? ", " : "", (long long)dims[i]);
        for (int i = 0; i < t->rank; i++)
            snprintf(got + strlen(got), sizeof got - strlen(got), "%s%lld", i ? ", " : "", (long long)t->shape[i]);
        return vk_fail(ctx, VITVK_ERR_MODEL, "%s: tensor %s has shape [%s]; config.json implies [%s]", L->dir, name,
                       got, want);
    }
    *out = t;
    return VITVK_OK;
}

/* Converts `count` floats in L->tmp to the storage precision and uploads
 * them at element offset `at` of dst... uploads are whole-buffer, so the
 * caller assembles the full host image first. */
static vitvk_status store(loader *L, vk_buffer *dst, const float *src, size_t count)
{
    vitvk_model *m = L->m;
    if (!m->fp16)
        return vk_upload(m->ctx, &m->weights, dst, src, count * sizeof(float));
    vitvk_status st = grow(m->ctx, &L->out, &L->out_cap, count * sizeof(uint16_t));
    if (st != VITVK_OK)
        return st;
    uint16_t *h = L->out;
    for (size_t i = 0; i < count; i++)
        h[i] = vk_f32_to_f16(src[i]);
    return vk_upload(m->ctx, &m->weights, dst, h, count * sizeof(uint16_t));
}

static size_t elem_size(const vitvk_model *m) { return m->fp16 ? 2 : 4; }

/* A vector (or any tensor copied as is) into its own buffer. */
static vitvk_status load_plain(loader *L, vk_buffer *dst, const char *name, int rank, const int64_t *dims)
{
    const st_tensor *t;
    vitvk_status st = find_tensor(L, name, rank, dims, &t);
    if (st == VITVK_OK)
        st = grow(L->m->ctx, (void **)&L->tmp, &L->tmp_cap, (size_t)t->numel * sizeof(float));
    if (st == VITVK_OK)
        st = st_to_f32(t, L->tmp, L->m->ctx->last_error, sizeof L->m->ctx->last_error);
    if (st == VITVK_OK)
        st = store(L, dst, L->tmp, (size_t)t->numel);
    return st;
}

/* PyTorch Linear weight [N, K], kept in that layout (each output's K
 * inputs contiguous), written at row `row0` of a host matrix of K columns. */
static vitvk_status rows_into(loader *L, const char *name, uint32_t N, uint32_t K, float *host, uint32_t row0)
{
    const st_tensor *t;
    int64_t dims[2] = {N, K};
    vitvk_status st = find_tensor(L, name, 2, dims, &t);
    if (st == VITVK_OK)
        st = st_to_f32(t, host + (size_t)row0 * K, L->m->ctx->last_error, sizeof L->m->ctx->last_error);
    return st;
}

static vitvk_status load_linear(loader *L, vk_buffer *dst, const char *name, uint32_t N, uint32_t K)
{
    int64_t dims[2] = {N, K};
    return load_plain(L, dst, name, 2, dims);
}

/* ---- buffers ----------------------------------------------------- */

static vitvk_status add(vitvk_model *m, vk_buffer **b, size_t count, const char *what)
{
    return vk_arena_add(&m->weights, (VkDeviceSize)count * elem_size(m), what, b);
}

static vitvk_status create_buffers(vitvk_model *m)
{
    const vit_config *c = &m->cfg;
    uint32_t D = c->hidden, I = c->intermediate, Kp = c->channels * c->patch * c->patch;
    vitvk_status st = VITVK_OK;
#define ADD(b, n)                                  \
    if (st == VITVK_OK)                            \
        st = add(m, &(b), (size_t)(n), #b);
    ADD(m->patch_w, (size_t)Kp * D)
    ADD(m->patch_b, D)
    ADD(m->cls, D)
    ADD(m->pos, (size_t)m->tokens * D)
    for (uint32_t l = 0; l < c->layers; l++) {
        vit_layer_weights *w = &m->layers[l];
        ADD(w->ln1_g, D)
        ADD(w->ln1_b, D)
        ADD(w->qkv_w, (size_t)D * 3 * D)
        ADD(w->qkv_b, 3 * D)
        ADD(w->proj_w, (size_t)D * D)
        ADD(w->proj_b, D)
        ADD(w->ln2_g, D)
        ADD(w->ln2_b, D)
        ADD(w->fc1_w, (size_t)D * I)
        ADD(w->fc1_b, I)
        ADD(w->fc2_w, (size_t)I * D)
        ADD(w->fc2_b, D)
    }
    ADD(m->lnf_g, D)
    ADD(m->lnf_b, D)
    if (m->has_classifier) {
        ADD(m->head_w, (size_t)D * m->num_labels)
        ADD(m->head_b, m->num_labels)
    }
    if (m->has_pooler) {
        ADD(m->pool_w, (size_t)D * D)
        ADD(m->pool_b, D)
    }
#undef ADD
    if (st == VITVK_OK)
        st = vk_arena_commit(&m->weights);
    return st;
}

static vitvk_status load_layer(loader *L, uint32_t l)
{
    vitvk_model *m = L->m;
    const vit_config *c = &m->cfg;
    vit_layer_weights *w = &m->layers[l];
    uint32_t D = c->hidden, I = c->intermediate;
    int64_t dD[1] = {D}, dI[1] = {I};
    char n[256];
    char base[96];
    snprintf(base, sizeof base, "%sencoder.layer.%u.", L->prefix, l);
    vitvk_status st = VITVK_OK;
#define NAME(s) (snprintf(n, sizeof n, "%s%s", base, s), n)
    st = load_plain(L, w->ln1_g, NAME("layernorm_before.weight"), 1, dD);
    if (st == VITVK_OK)
        st = load_plain(L, w->ln1_b, NAME("layernorm_before.bias"), 1, dD);
    if (st == VITVK_OK)
        st = load_plain(L, w->ln2_g, NAME("layernorm_after.weight"), 1, dD);
    if (st == VITVK_OK)
        st = load_plain(L, w->ln2_b, NAME("layernorm_after.bias"), 1, dD);
    if (st == VITVK_OK)
        st = load_linear(L, w->proj_w, NAME("attention.output.dense.weight"), D, D);
    if (st == VITVK_OK)
        st = load_plain(L, w->proj_b, NAME("attention.output.dense.bias"), 1, dD);
    if (st == VITVK_OK)
        st = load_linear(L, w->fc1_w, NAME("intermediate.dense.weight"), I, D);
    if (st == VITVK_OK)
        st = load_plain(L, w->fc1_b, NAME("intermediate.dense.bias"), 1, dI);
    if (st == VITVK_OK)
        st = load_linear(L, w->fc2_w, NAME("output.dense.weight"), D, I);
    if (st == VITVK_OK)
        st = load_plain(L, w->fc2_b, NAME("output.dense.bias"), 1, dD);
    if (st != VITVK_OK)
        return st;

    /* Query, key and value become one 3D x D matrix and one 3D bias, so
     * the three projections are one GEMM. */
    static const char *const parts[3] = {"query", "key", "value"};
    float *host = malloc((size_t)D * 3 * D * sizeof(float));
    float *bias = calloc(3 * (size_t)D, sizeof(float));
    if (!host || !bias) {
        free(host);
        free(bias);
        return vk_fail(m->ctx, VITVK_ERR_OUT_OF_HOST_MEMORY, "out of host memory");
    }
    for (int p = 0; st == VITVK_OK && p < 3; p++) {
        char part[64];
        snprintf(part, sizeof part, "attention.attention.%s.weight", parts[p]);
        st = rows_into(L, NAME(part), D, D, host, (uint32_t)p * D);
        if (st != VITVK_OK)
            break;
        snprintf(part, sizeof part, "attention.attention.%s.bias", parts[p]);
        const st_tensor *t = st_find(L->ar, NAME(part));
        if (!t && c->qkv_bias) {
            st = vk_fail(m->ctx, VITVK_ERR_MODEL, "%s: tensor %s is missing (config.json has qkv_bias true)", L->dir,
                         n);
        } else if (t) {
            st = find_tensor(L, n, 1, dD, &t);
            if (st == VITVK_OK)
                st = st_to_f32(t, bias + (size_t)p * D, m->ctx->last_error, sizeof m->ctx->last_error);
        }
    }
#undef NAME
    if (st == VITVK_OK)
        st = store(L, w->qkv_w, host, (size_t)D * 3 * D);
    if (st == VITVK_OK)
        st = store(L, w->qkv_b, bias, 3 * (size_t)D);
    free(host);
    free(bias);
    return st;
}

static vitvk_status load_weights(loader *L)
{
    vitvk_model *m = L->m;
    const vit_config *c = &m->cfg;
    uint32_t D = c->hidden;
    char n[256];
    int64_t dD[1] = {D};
#define NAME(s) (snprintf(n, sizeof n, "%s%s", L->prefix, s), n)
    /* Conv2d weight [D, C, P, P] is a Linear [D, C*P*P] over the flattened
     * patch (patchify.comp writes patches in (c, i, j) order). */
    int64_t conv[4] = {D, c->channels, c->patch, c->patch};
    vitvk_status st = load_plain(L, m->patch_w, NAME("embeddings.patch_embeddings.projection.weight"), 4, conv);
    if (st == VITVK_OK)
        st = load_plain(L, m->patch_b, NAME("embeddings.patch_embeddings.projection.bias"), 1, dD);
    int64_t dcls[3] = {1, 1, D}, dpos[3] = {1, m->tokens, D};
    if (st == VITVK_OK)
        st = load_plain(L, m->cls, NAME("embeddings.cls_token"), 3, dcls);
    if (st == VITVK_OK)
        st = load_plain(L, m->pos, NAME("embeddings.position_embeddings"), 3, dpos);
    for (uint32_t l = 0; st == VITVK_OK && l < c->layers; l++)
        st = load_layer(L, l);
    if (st == VITVK_OK)
        st = load_plain(L, m->lnf_g, NAME("layernorm.weight"), 1, dD);
    if (st == VITVK_OK)
        st = load_plain(L, m->lnf_b, NAME("layernorm.bias"), 1, dD);
    if (st == VITVK_OK && m->has_pooler) {
        st = load_linear(L, m->pool_w, NAME("pooler.dense.weight"), D, D);
        if (st == VITVK_OK)
            st = load_plain(L, m->pool_b, NAME("pooler.dense.bias"), 1, dD);
    }
#undef NAME
    if (st == VITVK_OK && m->has_classifier) {
        int64_t dK[1] = {m->num_labels};
        st = load_linear(L, m->head_w, "classifier.weight", m->num_labels, D);
        if (st == VITVK_OK)
            st = load_plain(L, m->head_b, "classifier.bias", 1, dK);
    }
    return st;
}

/* ---- public ------------------------------------------------------ */

static vitvk_status load_config(vitvk_model *m, const char *dir)
{
    vitvk_context *ctx = m->ctx;
    char path[4096];
    if (!plat_is_dir(dir))
        return vk_fail(ctx, VITVK_ERR_IO, "%s: %s", dir,
                       plat_file_exists(dir) ? "not a directory (--model takes a model directory)"
                                             : "no such directory");
    if (!plat_path_join(dir, "config.json", path, sizeof path))
        return vk_fail(ctx, VITVK_ERR_LIMIT, "%s: path too long", dir);
    char *text = NULL;
    size_t len = 0;
    vitvk_status st = plat_read_text(path, &text, &len, CONFIG_MAX_BYTES, ctx->last_error, sizeof ctx->last_error);
    if (st != VITVK_OK)
        return st;
    st = vit_config_parse(text, len, path, &m->cfg, ctx->last_error, sizeof ctx->last_error);
    free(text);
    if (st != VITVK_OK)
        return st;

    preproc_config_defaults(&m->pre);
    /* A model's own input size replaces the processor default. */
    m->pre.size_height = m->cfg.image_h;
    m->pre.size_width = m->cfg.image_w;
    if (!plat_path_join(dir, "preprocessor_config.json", path, sizeof path))
        return vk_fail(ctx, VITVK_ERR_LIMIT, "%s: path too long", dir);
    if (plat_file_exists(path))
        st = preproc_config_load(path, &m->pre, ctx->last_error, sizeof ctx->last_error);
    return st;
}

vitvk_status vitvk_model_load(vitvk_context *ctx, const char *dir, const vitvk_model_desc *desc,
                              vitvk_model **out)
{
    if (!ctx)
        return VITVK_ERR_INVALID_ARGUMENT;
    if (!dir || !out)
        return vk_fail(ctx, VITVK_ERR_INVALID_ARGUMENT, "vitvk_model_load: dir and out are required");
    *out = NULL;
    vitvk_precision prec = desc ? desc->precision : VITVK_PRECISION_AUTO;
    if (prec == VITVK_PRECISION_AUTO)
        prec = (ctx->caps.storage16 && ctx->caps.type != VK_PHYSICAL_DEVICE_TYPE_CPU) ? VITVK_PRECISION_FP16
                                                                                       : VITVK_PRECISION_FP32;
    if (prec == VITVK_PRECISION_FP16 && !ctx->caps.storage16)
        return vk_fail(ctx, VITVK_ERR_UNSUPPORTED, "%s: fp16 precision needs storageBuffer16BitAccess",
                       ctx->info.name);
    if (prec != VITVK_PRECISION_FP16 && prec != VITVK_PRECISION_FP32)
        return vk_fail(ctx, VITVK_ERR_INVALID_ARGUMENT, "unknown precision %d", (int)prec);

    vitvk_model *m = calloc(1, sizeof *m);
    if (!m)
        return vk_fail(ctx, VITVK_ERR_OUT_OF_HOST_MEMORY, "out of host memory");
    m->ctx = ctx;
    m->fp16 = prec == VITVK_PRECISION_FP16;
    vk_arena_init(&m->weights, ctx, VK_MEM_DEVICE);
    loader L = {.m = m, .dir = dir};

    vitvk_status st = load_config(m, dir);
    if (st == VITVK_OK)
        st = st_open_dir(dir, &L.ar, ctx->last_error, sizeof ctx->last_error);
    if (st != VITVK_OK)
        goto fail;

    const vit_config *c = &m->cfg;
    m->patches_per_image = (c->image_h / c->patch) * (c->image_w / c->patch);
    m->tokens = m->patches_per_image + 1;
    if (st_find(L.ar, "vit.embeddings.cls_token"))
        snprintf(L.prefix, sizeof L.prefix, "vit.");
    else if (!st_find(L.ar, "embeddings.cls_token")) {
        st = vk_fail(ctx, VITVK_ERR_MODEL, "%s: tensor vit.embeddings.cls_token is missing", dir);
        goto fail;
    }
    const st_tensor *head = st_find(L.ar, "classifier.weight");
    bool wants_head = strstr(c->architecture, "ForImageClassification") != NULL;
    if (wants_head && !head) {
        st = vk_fail(ctx, VITVK_ERR_MODEL, "%s: tensor classifier.weight is missing (architecture %s)", dir,
                     c->architecture);
        goto fail;
    }
    if (head) {
        if (head->rank != 2 || head->shape[1] != c->hidden || head->shape[0] < 1 ||
            head->shape[0] > VIT_MAX_LABELS) {
            st = vk_fail(ctx, VITVK_ERR_MODEL, "%s: tensor classifier.weight must be [labels, %u]", dir, c->hidden);
            goto fail;
        }
        m->has_classifier = true;
        m->num_labels = (uint32_t)head->shape[0];
    }
    char pooler[64];
    snprintf(pooler, sizeof pooler, "%spooler.dense.weight", L.prefix);
    m->has_pooler = !m->has_classifier && st_find(L.ar, pooler) != NULL;

    m->layers = calloc(c->layers, sizeof *m->layers);
    if (!m->layers) {
        st = vk_fail(ctx, VITVK_ERR_OUT_OF_HOST_MEMORY, "out of host memory");
        goto fail;
    }
    st = create_buffers(m);
    if (st == VITVK_OK)
        st = load_weights(&L);
    if (st != VITVK_OK)
        goto fail;
    st_close(L.ar);
    free(L.tmp);
    free(L.out);
    ctx->last_error[0] = 0;
    *out = m;
    return VITVK_OK;

fail:
    st_close(L.ar);
    free(L.tmp);
    free(L.out);
    vitvk_model_destroy(m);
    return st;
}

void vitvk_model_destroy(vitvk_model *m)
{
    if (!m)
        return;
    vk_arena_destroy(&m->weights);
    free(m->layers);
    vit_config_free(&m->cfg);
    free(m);
}

void vitvk_model_get_info(const vitvk_model *m, vitvk_model_info *out)
{
    if (!m || !out)
        return;
    const vit_config *c = &m->cfg;
    *out = (vitvk_model_info){
        .model_type = c->model_type,
        .architecture = c->architecture,
        .image_height = c->image_h,
        .image_width = c->image_w,
        .channels = c->channels,
        .patch_size = c->patch,
        .hidden_size = c->hidden,
        .num_layers = c->layers,
        .num_heads = c->heads,
        .intermediate_size = c->intermediate,
        .num_tokens = m->tokens,
        .num_labels = m->num_labels,
        .pooled_size = c->hidden,
        .precision = m->fp16 ? VITVK_PRECISION_FP16 : VITVK_PRECISION_FP32,
        .weight_bytes = m->weights.bytes,
    };
    uint64_t T = m->tokens, D = c->hidden, I = c->intermediate;
    uint64_t Kp = (uint64_t)c->channels * c->patch * c->patch;
    uint64_t per_layer = 2 * T * D * 3 * D + 2 * 2 * T * T * D + 2 * T * D * D + 2 * 2 * T * D * I;
    out->flops_per_image = 2 * m->patches_per_image * Kp * D + c->layers * per_layer +
                           (m->has_pooler ? 2 * D * D : 0) + 2 * D * m->num_labels;
}

const char *vitvk_model_label(const vitvk_model *m, uint32_t index)
{
    if (!m || index >= m->cfg.num_labels_cfg || !m->cfg.labels)
        return NULL;
    return m->cfg.labels[index];
}
