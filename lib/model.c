/* model.c - loading a Hugging Face ViT directory onto the device.
 *
 * Every tensor is checked against the shape config.json implies before it
 * is used; a missing or mis-shaped one is an error naming it. Weights are
 * converted on the host to the kernels' layout and precision, one tensor
 * at a time, so peak host memory is one tensor, not the model. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "half.h"
#include "model.h"
#include "ops/ops.h"
#include "platform.h"

#define CONFIG_MAX_BYTES (16u * 1024u * 1024u)

/* ---- tensors ----------------------------------------------------- */



vitvk_status ld_grow(vitvk_context *ctx, void **buf, size_t *cap, size_t need)
{
    if (need <= *cap)
        return VITVK_OK;
    void *nb = vk_realloc(ctx, *buf, need);
    if (!nb)
        return vk_fail(ctx, VITVK_ERR_OUT_OF_HOST_MEMORY, "out of host memory (%zu bytes)", need);
    *buf = nb;
    *cap = need;
    return VITVK_OK;
}

/* Looks up `name` and checks its shape: dims[i] == 0 means "any". */
vitvk_status ld_find(loader *L, const char *name, int rank, const int64_t *dims, const st_tensor **out)
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
vitvk_status ld_store(loader *L, vk_buffer *dst, const float *src, size_t count)
{
    vitvk_model *m = L->m;
    if (!m->fp16)
        return vk_upload(m->ctx, &m->weights, dst, src, count * sizeof(float));
    vitvk_status st = ld_grow(m->ctx, &L->out, &L->out_cap, count * sizeof(uint16_t));
    if (st != VITVK_OK)
        return st;
    uint16_t *h = L->out;
    for (size_t i = 0; i < count; i++)
        h[i] = vk_f32_to_f16(src[i]);
    return vk_upload(m->ctx, &m->weights, dst, h, count * sizeof(uint16_t));
}

vitvk_status ld_store_w(loader *L, vk_buffer *dst, const float *src, uint32_t N, uint32_t K, vk_gemm_kind kind)
{
    vitvk_model *m = L->m;
    uint32_t nb = op_gemm_w_block(m->ctx, N, K, m->fp16, kind);
    dst->w_block = nb;
    if (!nb)
        return ld_store(L, dst, src, (size_t)N * K);
    float *blocked = vk_malloc(m->ctx, (size_t)N * K * sizeof(float));
    if (!blocked)
        return vk_fail(m->ctx, VITVK_ERR_OUT_OF_HOST_MEMORY, "out of host memory");
    op_gemm_w_permute(src, blocked, N, K, nb);
    vitvk_status st = ld_store(L, dst, blocked, (size_t)N * K);
    vk_free(m->ctx, blocked);
    return st;
}

static size_t elem_size(const vitvk_model *m) { return m->fp16 ? 2 : 4; }

vitvk_status ld_read(loader *L, const char *name, int rank, const int64_t *dims, float *host)
{
    const st_tensor *t;
    vitvk_status st = ld_find(L, name, rank, dims, &t);
    if (st == VITVK_OK)
        st = st_to_f32(t, host, L->m->ctx->last_error, sizeof L->m->ctx->last_error);
    return st;
}

/* ---- tensor names ------------------------------------------------ */

/* Every tensor the loader asks for, named per family by the formats below
 * ("%s" = the checkpoint's prefix such as "vit.", "%u" = the layer). */
typedef enum tname {
    T_CLS, T_DIST, T_REG, T_POS, T_PATCH_W, T_PATCH_B,
    T_LN1_G, T_LN1_B, T_LN2_G, T_LN2_B,
    T_Q_W, T_Q_B, T_K_W, T_K_B, T_V_W, T_V_B, T_QKV_W, T_QKV_B,
    T_PROJ_W, T_PROJ_B, T_FC1_W, T_FC1_B, T_FC2_W, T_FC2_B, T_LS1, T_LS2,
    T_RELPOS, T_RELPOS_SHARED,
    T_NORM_G, T_NORM_B, T_POOLNORM_G, T_POOLNORM_B,
    T_HEAD_W, T_HEAD_B, T_DIST_W, T_DIST_B, T_POOLER_W, T_POOLER_B,
    T_COUNT
} tname;

#define HFL "%sencoder.layer.%u."
static const char *const hf_names[T_COUNT] = {
    [T_CLS] = "%sembeddings.cls_token", [T_DIST] = "%sembeddings.distillation_token",
    [T_POS] = "%sembeddings.position_embeddings",
    [T_PATCH_W] = "%sembeddings.patch_embeddings.projection.weight",
    [T_PATCH_B] = "%sembeddings.patch_embeddings.projection.bias",
    [T_LN1_G] = HFL "layernorm_before.weight", [T_LN1_B] = HFL "layernorm_before.bias",
    [T_LN2_G] = HFL "layernorm_after.weight", [T_LN2_B] = HFL "layernorm_after.bias",
    [T_Q_W] = HFL "attention.attention.query.weight", [T_Q_B] = HFL "attention.attention.query.bias",
    [T_K_W] = HFL "attention.attention.key.weight", [T_K_B] = HFL "attention.attention.key.bias",
    [T_V_W] = HFL "attention.attention.value.weight", [T_V_B] = HFL "attention.attention.value.bias",
    [T_PROJ_W] = HFL "attention.output.dense.weight", [T_PROJ_B] = HFL "attention.output.dense.bias",
    [T_FC1_W] = HFL "intermediate.dense.weight", [T_FC1_B] = HFL "intermediate.dense.bias",
    [T_FC2_W] = HFL "output.dense.weight", [T_FC2_B] = HFL "output.dense.bias",
    [T_LS1] = HFL "lambda_1", [T_LS2] = HFL "lambda_2",
    [T_RELPOS] = HFL "attention.attention.relative_position_bias.relative_position_bias_table",
    [T_RELPOS_SHARED] = "%sencoder.relative_position_bias.relative_position_bias_table",
    [T_NORM_G] = "%slayernorm.weight", [T_NORM_B] = "%slayernorm.bias",
    [T_POOLNORM_G] = "%spooler.layernorm.weight", [T_POOLNORM_B] = "%spooler.layernorm.bias",
    [T_HEAD_W] = "classifier.weight", [T_HEAD_B] = "classifier.bias",
    [T_DIST_W] = "distillation_classifier.weight", [T_DIST_B] = "distillation_classifier.bias",
    [T_POOLER_W] = "%spooler.dense.weight", [T_POOLER_B] = "%spooler.dense.bias",
};
#define TBL "%sblocks.%u."
static const char *const timm_names[T_COUNT] = {
    [T_CLS] = "%scls_token", [T_DIST] = "%sdist_token", [T_REG] = "%sreg_token", [T_POS] = "%spos_embed",
    [T_PATCH_W] = "%spatch_embed.proj.weight", [T_PATCH_B] = "%spatch_embed.proj.bias",
    [T_LN1_G] = TBL "norm1.weight", [T_LN1_B] = TBL "norm1.bias",
    [T_LN2_G] = TBL "norm2.weight", [T_LN2_B] = TBL "norm2.bias",
    [T_QKV_W] = TBL "attn.qkv.weight", [T_QKV_B] = TBL "attn.qkv.bias",
    [T_PROJ_W] = TBL "attn.proj.weight", [T_PROJ_B] = TBL "attn.proj.bias",
    [T_FC1_W] = TBL "mlp.fc1.weight", [T_FC1_B] = TBL "mlp.fc1.bias",
    [T_FC2_W] = TBL "mlp.fc2.weight", [T_FC2_B] = TBL "mlp.fc2.bias",
    [T_LS1] = TBL "ls1.gamma", [T_LS2] = TBL "ls2.gamma",
    [T_NORM_G] = "%snorm.weight", [T_NORM_B] = "%snorm.bias",
    [T_POOLNORM_G] = "%sfc_norm.weight", [T_POOLNORM_B] = "%sfc_norm.bias",
    [T_HEAD_W] = "%shead.weight", [T_HEAD_B] = "%shead.bias",
    [T_DIST_W] = "%shead_dist.weight", [T_DIST_B] = "%shead_dist.bias",
};

/* The name of tensor `which` (of layer `layer`) in this checkpoint, or
 * NULL when the family has no such tensor. */
static const char *tensor_name(loader *L, tname which, uint32_t layer)
{
    const vit_config *c = &L->m->cfg;
    const char *fmt = c->family == FAM_TIMM ? timm_names[which] : hf_names[which];
    if (c->family == FAM_DEIT && c->pool == POOL_TWO_HEADS) {
        if (which == T_HEAD_W)
            fmt = "cls_classifier.weight";
        else if (which == T_HEAD_B)
            fmt = "cls_classifier.bias";
    }
    if (!fmt)
        return NULL;
    /* The format may or may not use the layer: extra arguments are fine. */
    snprintf(L->name, sizeof L->name, fmt, L->prefix, layer);
    return L->name;
}

static const st_tensor *find_opt(loader *L, tname which, uint32_t layer)
{
    const char *n = tensor_name(L, which, layer);
    return n ? st_find(L->ar, n) : NULL;
}

/* Converts tensor `which` to floats in `host` after checking its shape. */
static vitvk_status read_tensor(loader *L, tname which, uint32_t layer, int rank, const int64_t *dims, float *host)
{
    const char *n = tensor_name(L, which, layer);
    const st_tensor *t = NULL; /* set when ld_find succeeds; GCC cannot see that */
    vitvk_status st = ld_find(L, n ? n : "(none)", rank, dims, &t);
    if (st == VITVK_OK)
        st = st_to_f32(t, host, L->m->ctx->last_error, sizeof L->m->ctx->last_error);
    return st;
}

static vitvk_status load_vec(loader *L, vk_buffer *dst, tname which, uint32_t layer, uint32_t n)
{
    int64_t d[1] = {n};
    vitvk_status st = ld_grow(L->m->ctx, (void **)&L->tmp, &L->tmp_cap, (size_t)n * sizeof(float));
    if (st == VITVK_OK)
        st = read_tensor(L, which, layer, 1, d, L->tmp);
    if (st == VITVK_OK)
        st = ld_store(L, dst, L->tmp, n);
    return st;
}

/* A Linear (weight N x K as PyTorch stores it, bias N) with its outputs
 * multiplied by `scale` (layer scale, or 0.5 for averaged heads) folded
 * into the weights: scale * (W x + b) = (scale W) x + scale b. */
static vitvk_status load_linear(loader *L, vk_buffer *w, vk_buffer *b, tname wname, tname bname, uint32_t layer,
                                uint32_t N, uint32_t K, const float *scale, bool bias_required, vk_gemm_kind kind)
{
    float *host = vk_malloc(L->m->ctx, ((size_t)N * K + N) * sizeof(float));
    if (!host)
        return vk_fail(L->m->ctx, VITVK_ERR_OUT_OF_HOST_MEMORY, "out of host memory");
    float *bias = host + (size_t)N * K;
    int64_t dw[2] = {N, K}, db[1] = {N};
    vitvk_status st = read_tensor(L, wname, layer, 2, dw, host);
    if (st == VITVK_OK) {
        if (bias_required || find_opt(L, bname, layer))
            st = read_tensor(L, bname, layer, 1, db, bias);
        else
            memset(bias, 0, N * sizeof(float));
    }
    if (st == VITVK_OK && scale)
        for (uint32_t n = 0; n < N; n++) {
            for (uint32_t k = 0; k < K; k++)
                host[(size_t)n * K + k] *= scale[n];
            bias[n] *= scale[n];
        }
    if (st == VITVK_OK)
        st = ld_store_w(L, w, host, N, K, kind);
    if (st == VITVK_OK)
        st = ld_store(L, b, bias, N);
    vk_free(L->m->ctx, host);
    return st;
}

/* Layer scale vector (BEiT lambda, timm ls.gamma) into scale[D], or NULL. */
static vitvk_status layer_scale(loader *L, tname which, uint32_t layer, float *scale, const float **out)
{
    *out = NULL;
    if (!find_opt(L, which, layer))
        return VITVK_OK;
    int64_t d[1] = {L->m->cfg.hidden};
    vitvk_status st = read_tensor(L, which, layer, 1, d, scale);
    if (st == VITVK_OK)
        *out = scale;
    return st;
}

/* BEiT's relative position bias: a table of (2gh-1)(2gw-1) + 3 rows (the
 * last three for [CLS]->patch, patch->[CLS], [CLS]->[CLS]) and one column
 * per head, expanded to the [H][T][T] matrix added to the scores. */
static vitvk_status load_relpos(loader *L, vk_buffer *dst, tname which, uint32_t layer)
{
    const vit_config *c = &L->m->cfg;
    uint32_t gh = c->image_h / c->patch, gw = c->image_w / c->patch, H = c->heads, T = L->m->tokens;
    /* The table covers the trained grid; at another input size its
     * (2th-1) x (2tw-1) part is resampled bilinearly to (2gh-1) x (2gw-1),
     * as transformers' BeitRelativePositionBias does with
     * interpolate_pos_encoding; the three [CLS] rows are kept. */
    uint32_t th = c->trained_h ? c->trained_h / c->patch : gh, tw = c->trained_w ? c->trained_w / c->patch : gw;
    uint32_t nrel_t = (2 * th - 1) * (2 * tw - 1) + 3, nrel = (2 * gh - 1) * (2 * gw - 1) + 3;
    int64_t dims[2] = {nrel_t, H};
    size_t bsize = (size_t)H * T * T;
    float *stored = vk_malloc(L->m->ctx, (size_t)nrel_t * H * sizeof(float));
    float *table = vk_malloc(L->m->ctx, (size_t)nrel * H * sizeof(float));
    float *bias = vk_malloc(L->m->ctx, bsize * sizeof(float));
    vitvk_status st = (!stored || !table || !bias)
                          ? vk_fail(L->m->ctx, VITVK_ERR_OUT_OF_HOST_MEMORY, "out of host memory")
                          : read_tensor(L, which, layer, 2, dims, stored);
    if (st == VITVK_OK && nrel_t == nrel) {
        memcpy(table, stored, (size_t)nrel * H * sizeof(float));
    } else if (st == VITVK_OK) {
        pos_interpolate_bilinear(stored, 2 * th - 1, 2 * tw - 1, table, 2 * gh - 1, 2 * gw - 1, H);
        memcpy(table + (size_t)(nrel - 3) * H, stored + (size_t)(nrel_t - 3) * H, 3 * (size_t)H * sizeof(float));
    }
    for (uint32_t i = 0; st == VITVK_OK && i < T; i++)
        for (uint32_t j = 0; j < T; j++) {
            uint32_t idx;
            if (i == 0 && j == 0)
                idx = nrel - 1;
            else if (i == 0)
                idx = nrel - 3;
            else if (j == 0)
                idx = nrel - 2;
            else {
                int yi = (int)((i - 1) / gw), xi = (int)((i - 1) % gw);
                int yj = (int)((j - 1) / gw), xj = (int)((j - 1) % gw);
                idx = (uint32_t)((yi - yj + (int)gh - 1) * (int)(2 * gw - 1) + (xi - xj + (int)gw - 1));
            }
            for (uint32_t h = 0; h < H; h++)
                bias[((size_t)h * T + i) * T + j] = table[(size_t)idx * H + h];
        }
    if (st == VITVK_OK) /* scores stay fp32 in every precision */
        st = vk_upload(L->m->ctx, &L->m->weights, dst, bias, bsize * sizeof(float));
    vk_free(L->m->ctx, stored);
    vk_free(L->m->ctx, table);
    vk_free(L->m->ctx, bias);
    return st;
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
    uint32_t npre = vit_prefix_tokens(c);
    size_t bias_bytes = (size_t)c->heads * m->tokens * m->tokens * sizeof(float);
    vitvk_status st = VITVK_OK;
#define ADD(b, n)                                  \
    if (st == VITVK_OK)                            \
        st = add(m, &(b), (size_t)(n), #b);
    ADD(m->patch_w, (size_t)Kp * D)
    ADD(m->patch_b, D)
    ADD(m->prefix, (size_t)(npre ? npre : 1) * D)
    if (c->pos_mode != VK_POS_NONE)
        ADD(m->pos, (size_t)(c->pos_mode == VK_POS_ALL ? m->tokens : m->patches_per_image) * D)
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
        if (c->rel_pos_layer && st == VITVK_OK)
            st = vk_arena_add(&m->weights, bias_bytes, "relative position bias", &w->score_bias);
    }
    if (c->rel_pos_shared && st == VITVK_OK)
        st = vk_arena_add(&m->weights, bias_bytes, "shared relative position bias", &m->shared_bias);
    ADD(m->lnf_g, D)
    ADD(m->lnf_b, D)
    if (m->has_classifier) {
        ADD(m->head_w, (size_t)D * m->num_labels)
        ADD(m->head_b, m->num_labels)
        if (c->pool == POOL_TWO_HEADS) {
            ADD(m->dist_w, (size_t)D * m->num_labels)
            ADD(m->dist_b, m->num_labels)
        }
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
    float *scale = vk_malloc(L->m->ctx, (size_t)D * sizeof(float));
    if (!scale)
        return vk_fail(m->ctx, VITVK_ERR_OUT_OF_HOST_MEMORY, "out of host memory");
    const float *ls;
    vitvk_status st = load_vec(L, w->ln1_g, T_LN1_G, l, D);
    if (st == VITVK_OK)
        st = load_vec(L, w->ln1_b, T_LN1_B, l, D);
    if (st == VITVK_OK)
        st = load_vec(L, w->ln2_g, T_LN2_G, l, D);
    if (st == VITVK_OK)
        st = load_vec(L, w->ln2_b, T_LN2_B, l, D);
    /* Layer scale multiplies each branch's output before the residual add:
     * it is folded into the branch's last Linear. */
    if (st == VITVK_OK)
        st = layer_scale(L, T_LS1, l, scale, &ls);
    if (st == VITVK_OK)
        st = load_linear(L, w->proj_w, w->proj_b, T_PROJ_W, T_PROJ_B, l, D, D, ls, true, VK_GEMM_SAME);
    if (st == VITVK_OK)
        st = load_linear(L, w->fc1_w, w->fc1_b, T_FC1_W, T_FC1_B, l, I, D, NULL, true, VK_GEMM_SAME);
    if (st == VITVK_OK)
        st = layer_scale(L, T_LS2, l, scale, &ls);
    if (st == VITVK_OK)
        st = load_linear(L, w->fc2_w, w->fc2_b, T_FC2_W, T_FC2_B, l, D, I, ls, true, VK_GEMM_SAME);
    if (st == VITVK_OK && c->rel_pos_layer)
        st = load_relpos(L, w->score_bias, T_RELPOS, l);
    vk_free(L->m->ctx, scale);
    if (st != VITVK_OK)
        return st;

    /* Query, key and value as one 3D x D matrix and one 3D bias, so the
     * three projections are one GEMM (timm stores them so already). */
    if (c->family == FAM_TIMM)
        return load_linear(L, w->qkv_w, w->qkv_b, T_QKV_W, T_QKV_B, l, 3 * D, D, NULL, c->qkv_bias_required,
                           VK_GEMM_SAME);
    float *host = vk_malloc(L->m->ctx, (size_t)D * 3 * D * sizeof(float));
    float *bias = vk_calloc(L->m->ctx, 3 * (size_t)D, sizeof(float));
    if (!host || !bias) {
        vk_free(L->m->ctx, host);
        vk_free(L->m->ctx, bias);
        return vk_fail(m->ctx, VITVK_ERR_OUT_OF_HOST_MEMORY, "out of host memory");
    }
    static const tname parts[3][2] = {{T_Q_W, T_Q_B}, {T_K_W, T_K_B}, {T_V_W, T_V_B}};
    int64_t dw[2] = {D, D}, db[1] = {D};
    for (int p = 0; st == VITVK_OK && p < 3; p++) {
        st = read_tensor(L, parts[p][0], l, 2, dw, host + (size_t)p * D * D);
        if (st == VITVK_OK && (c->qkv_bias_required || find_opt(L, parts[p][1], l)))
            st = read_tensor(L, parts[p][1], l, 1, db, bias + (size_t)p * D);
    }
    if (st == VITVK_OK)
        st = ld_store_w(L, w->qkv_w, host, 3 * D, D, VK_GEMM_SAME);
    if (st == VITVK_OK)
        st = ld_store(L, w->qkv_b, bias, 3 * (size_t)D);
    vk_free(L->m->ctx, host);
    vk_free(L->m->ctx, bias);
    return st;
}

/* Position embeddings: as stored, or, when the model runs at another input
 * size than it was trained at, the trained grid resampled (prefix rows
 * kept). `rows` and `npre` are for the size the model runs at. */
static vitvk_status load_pos(loader *L, size_t rows, uint32_t npre)
{
    vitvk_model *m = L->m;
    const vit_config *c = &m->cfg;
    uint32_t D = c->hidden;
    if (!c->trained_h) {
        int64_t dp[3] = {1, (int64_t)rows, D};
        vitvk_status st = read_tensor(L, T_POS, 0, 3, dp, L->tmp);
        return st == VITVK_OK ? ld_store(L, m->pos, L->tmp, rows * D) : st;
    }
    uint32_t th = c->trained_h / c->patch, tw = c->trained_w / c->patch;
    uint32_t gh = c->image_h / c->patch, gw = c->image_w / c->patch;
    size_t trained_rows = (size_t)th * tw + npre;
    float *src = vk_malloc(L->m->ctx, trained_rows * D * sizeof(float));
    if (!src)
        return vk_fail(m->ctx, VITVK_ERR_OUT_OF_HOST_MEMORY, "out of host memory");
    int64_t dp[3] = {1, (int64_t)trained_rows, D};
    vitvk_status st = read_tensor(L, T_POS, 0, 3, dp, src);
    if (st == VITVK_OK) {
        memcpy(L->tmp, src, (size_t)npre * D * sizeof(float));
        pos_interpolate_bicubic(src + (size_t)npre * D, th, tw, L->tmp + (size_t)npre * D, gh, gw, D);
        st = ld_store(L, m->pos, L->tmp, rows * D);
    }
    vk_free(L->m->ctx, src);
    return st;
}

static vitvk_status load_weights(loader *L)
{
    vitvk_model *m = L->m;
    const vit_config *c = &m->cfg;
    uint32_t D = c->hidden, npre = vit_prefix_tokens(c);
    /* Conv2d weight [D, C, P, P] is a Linear [D, C*P*P] over the flattened
     * patch (patchify.comp writes patches in (c, i, j) order). */
    int64_t conv[4] = {D, c->channels, c->patch, c->patch};
    size_t need = (size_t)D * c->channels * c->patch * c->patch;
    size_t pos_rows = c->pos_mode == VK_POS_ALL ? m->tokens : m->patches_per_image;
    if (pos_rows * D > need)
        need = pos_rows * D;
    if ((size_t)(npre + 1) * D > need)
        need = (size_t)(npre + 1) * D;
    vitvk_status st = ld_grow(m->ctx, (void **)&L->tmp, &L->tmp_cap, need * sizeof(float));
    if (st == VITVK_OK)
        st = read_tensor(L, T_PATCH_W, 0, 4, conv, L->tmp);
    if (st == VITVK_OK)
        st = ld_store_w(L, m->patch_w, L->tmp, D, c->channels * c->patch * c->patch, VK_GEMM_SAME);
    if (st == VITVK_OK)
        st = load_vec(L, m->patch_b, T_PATCH_B, 0, D);

    /* Prefix tokens in sequence order: [CLS], distillation, registers. */
    uint32_t row = 0;
    int64_t d1[3] = {1, 1, D}, dr[3] = {1, c->reg_tokens, D};
    if (st == VITVK_OK && c->cls_token)
        st = read_tensor(L, T_CLS, 0, 3, d1, L->tmp + (size_t)row++ * D);
    if (st == VITVK_OK && c->dist_token)
        st = read_tensor(L, T_DIST, 0, 3, d1, L->tmp + (size_t)row++ * D);
    if (st == VITVK_OK && c->reg_tokens)
        st = read_tensor(L, T_REG, 0, 3, dr, L->tmp + (size_t)row * D);
    if (st == VITVK_OK && npre)
        st = ld_store(L, m->prefix, L->tmp, (size_t)npre * D);
    if (st == VITVK_OK && c->pos_mode != VK_POS_NONE)
        st = load_pos(L, pos_rows, c->pos_mode == VK_POS_ALL ? npre : 0);
    for (uint32_t l = 0; st == VITVK_OK && l < c->layers; l++)
        st = load_layer(L, l);
    if (st == VITVK_OK && c->rel_pos_shared)
        st = load_relpos(L, m->shared_bias, T_RELPOS_SHARED, 0);
    /* Mean pooling normalises the average (pooler.layernorm, fc_norm);
     * otherwise the final LayerNorm feeds the heads. */
    tname g = c->pool == POOL_MEAN ? T_POOLNORM_G : T_NORM_G, b = c->pool == POOL_MEAN ? T_POOLNORM_B : T_NORM_B;
    if (st == VITVK_OK)
        st = load_vec(L, m->lnf_g, g, 0, D);
    if (st == VITVK_OK)
        st = load_vec(L, m->lnf_b, b, 0, D);
    if (st == VITVK_OK && m->has_pooler)
        st = load_linear(L, m->pool_w, m->pool_b, T_POOLER_W, T_POOLER_B, 0, D, D, NULL, true, VK_GEMM_W16);
    if (st == VITVK_OK && m->has_classifier) {
        uint32_t K = m->num_labels;
        float *half = NULL;
        if (c->pool == POOL_TWO_HEADS) { /* logits = (cls head + distillation head) / 2 */
            half = vk_malloc(L->m->ctx, K * sizeof(float));
            if (!half)
                return vk_fail(m->ctx, VITVK_ERR_OUT_OF_HOST_MEMORY, "out of host memory");
            for (uint32_t i = 0; i < K; i++)
                half[i] = 0.5f;
        }
        st = load_linear(L, m->head_w, m->head_b, T_HEAD_W, T_HEAD_B, 0, K, D, half, true, VK_GEMM_W16);
        if (st == VITVK_OK && half)
            st = load_linear(L, m->dist_w, m->dist_b, T_DIST_W, T_DIST_B, 0, K, D, half, true, VK_GEMM_W16);
        vk_free(L->m->ctx, half);
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
                       plat_file_exists(dir) ? "not a directory (a model is a directory with config.json and its weights)"
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

    if (m->cfg.rel_pos_layer && m->cfg.rel_pos_shared)
        return vk_fail(ctx, VITVK_ERR_UNSUPPORTED,
                       "%s: both per-layer and shared relative position biases are not supported", path);
    if (m->cfg.has_preproc) { /* timm: pretrained_cfg */
        m->pre = m->cfg.preproc;
        return VITVK_OK;
    }
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

/* Runs the model at h x w instead of its config's size: the plan and
 * position embeddings follow cfg.image_h/w, the preprocessing is retargeted
 * with the same proportions (resize, then crop when the processor crops). */
static vitvk_status resize_input(vitvk_model *m, uint32_t h, uint32_t w)
{
    vit_config *c = &m->cfg;
    if (!h)
        h = w;
    if (!w)
        w = h;
    if (h > VIT_MAX_IMAGE || w > VIT_MAX_IMAGE || h < c->patch || w < c->patch)
        return vk_fail(m->ctx, VITVK_ERR_LIMIT, "image size %ux%u: each side must be from the patch size %u to %u", h,
                       w, c->patch, VIT_MAX_IMAGE);
    if (h == c->image_h && w == c->image_w)
        return VITVK_OK;
    if (c->family == FAM_BEIT && (c->rel_pos_layer || c->rel_pos_shared) && c->image_h != c->image_w)
        return vk_fail(m->ctx, VITVK_ERR_UNSUPPORTED,
                       "BEiT's relative position tables are resampled only from a square trained size");
    if (c->family == FAM_SWIN && (h % c->patch || w % c->patch || c->pos_mode != VK_POS_NONE))
        return vk_fail(m->ctx, VITVK_ERR_UNSUPPORTED,
                       "Swin runs at other sizes only in multiples of the patch size and without absolute embeddings");
    if ((uint64_t)(h / c->patch) * (w / c->patch) + 2 + c->reg_tokens > VIT_MAX_TOKENS)
        return vk_fail(m->ctx, VITVK_ERR_LIMIT, "image size %ux%u gives more than %u tokens", h, w, VIT_MAX_TOKENS);
    if (c->pos_mode != VK_POS_NONE && c->image_h / c->patch * c->patch != c->image_h)
        return vk_fail(m->ctx, VITVK_ERR_UNSUPPORTED, "the trained size is not a multiple of the patch size");
    c->trained_h = c->image_h;
    c->trained_w = c->image_w;
    preproc_config *p = &m->pre;
    if (p->do_center_crop && p->crop_height && p->crop_width) {
        if (p->shortest_edge)
            p->shortest_edge = (uint32_t)lround((double)p->shortest_edge * h / p->crop_height);
        else {
            p->size_height = (uint32_t)lround((double)p->size_height * h / p->crop_height);
            p->size_width = (uint32_t)lround((double)p->size_width * w / p->crop_width);
        }
        p->crop_height = h;
        p->crop_width = w;
    } else {
        p->shortest_edge = 0;
        p->size_height = h;
        p->size_width = w;
    }
    c->image_h = h;
    c->image_w = w;
    return VITVK_OK;
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
        prec = vk_auto_precision_fp16(&ctx->caps) ? VITVK_PRECISION_FP16 : VITVK_PRECISION_FP32;
    if (prec == VITVK_PRECISION_FP16 && !ctx->caps.storage16)
        return vk_fail(ctx, VITVK_ERR_UNSUPPORTED, "%s: fp16 precision needs storageBuffer16BitAccess%s",
                       ctx->info.name,
                       ctx->owns_device ? "" : ", which the host did not enable on the adopted device "
                                                "(vk_enabled_features / vk_storage16_enabled)");
    if (prec != VITVK_PRECISION_FP16 && prec != VITVK_PRECISION_FP32)
        return vk_fail(ctx, VITVK_ERR_INVALID_ARGUMENT, "unknown precision %d", (int)prec);

    vitvk_model *m = vk_calloc(ctx, 1, sizeof *m);
    if (!m)
        return vk_fail(ctx, VITVK_ERR_OUT_OF_HOST_MEMORY, "out of host memory");
    m->ctx = ctx;
    m->fp16 = prec == VITVK_PRECISION_FP16;
    vk_arena_init(&m->weights, ctx, VK_MEM_DEVICE);
    loader L = {.m = m, .dir = dir};

    vitvk_status st = load_config(m, dir);
    if (st == VITVK_OK && desc && (desc->image_height || desc->image_width))
        st = resize_input(m, desc->image_height, desc->image_width);
    if (st == VITVK_OK)
        st = st_open_dir(dir, &L.ar, ctx->last_error, sizeof ctx->last_error);
    if (st != VITVK_OK)
        goto fail;

    const vit_config *c = &m->cfg;
    m->patches_per_image = (c->image_h / c->patch) * (c->image_w / c->patch);
    m->tokens = m->patches_per_image + vit_prefix_tokens(c);
    if (c->family == FAM_SWIN) {
        snprintf(L.prefix, sizeof L.prefix, "swin.");
        const st_tensor *head = st_find(L.ar, "classifier.weight");
        if (!st_find(L.ar, "swin.embeddings.patch_embeddings.projection.weight"))
            L.prefix[0] = 0;
        if (strstr(c->architecture, "ForImageClassification") && !head) {
            st = vk_fail(ctx, VITVK_ERR_MODEL, "%s: tensor classifier.weight is missing (architecture %s)", dir,
                         c->architecture);
            goto fail;
        }
        if (head) {
            if (head->rank != 2 || head->shape[1] != c->hidden || head->shape[0] < 1 ||
                head->shape[0] > VIT_MAX_LABELS) {
                st = vk_fail(ctx, VITVK_ERR_MODEL, "%s: tensor classifier.weight must be [labels, %u]", dir,
                             c->hidden);
                goto fail;
            }
            m->has_classifier = true;
            m->num_labels = (uint32_t)head->shape[0];
        }
        st = swin_load(&L);
        if (st != VITVK_OK)
            goto fail;
        m->tokens = m->swin[c->stages - 1].H * m->swin[c->stages - 1].W;
        goto loaded;
    }
    if (c->family != FAM_TIMM) {
        /* transformers saves "<family>." before the backbone's tensors in
         * task models and nothing in bare ViTModel/DeiTModel/BeitModel. */
        snprintf(L.prefix, sizeof L.prefix, "%s.", c->model_type);
        if (!st_find(L.ar, tensor_name(&L, T_PATCH_W, 0))) {
            L.prefix[0] = 0;
            if (!st_find(L.ar, tensor_name(&L, T_PATCH_W, 0))) {
                snprintf(L.prefix, sizeof L.prefix, "%s.", c->model_type);
                st = vk_fail(ctx, VITVK_ERR_MODEL, "%s: tensor %s is missing", dir, tensor_name(&L, T_PATCH_W, 0));
                goto fail;
            }
        }
    } else if (st_find(L.ar, "blocks.0.attn.q_norm.weight")) {
        st = vk_fail(ctx, VITVK_ERR_UNSUPPORTED, "%s: timm checkpoints with qk_norm are not supported", dir);
        goto fail;
    }
    char head_name[256];
    snprintf(head_name, sizeof head_name, "%s", tensor_name(&L, T_HEAD_W, 0));
    const st_tensor *head = st_find(L.ar, head_name);
    bool wants_head = strstr(c->architecture, "ForImageClassification") != NULL ||
                      (c->family == FAM_TIMM && st_find(L.ar, "head.bias"));
    if (wants_head && !head) {
        st = vk_fail(ctx, VITVK_ERR_MODEL, "%s: tensor %s is missing (architecture %s)", dir, head_name,
                     c->architecture);
        goto fail;
    }
    if (head) {
        if (head->rank != 2 || head->shape[1] != c->hidden || head->shape[0] < 1 ||
            head->shape[0] > VIT_MAX_LABELS) {
            st = vk_fail(ctx, VITVK_ERR_MODEL, "%s: tensor %s must be [labels, %u]", dir, head_name, c->hidden);
            goto fail;
        }
        m->has_classifier = true;
        m->num_labels = (uint32_t)head->shape[0];
    } else if (m->cfg.pool == POOL_TWO_HEADS) {
        m->cfg.pool = POOL_CLS; /* no heads: pooled is the [CLS] vector */
    }
    m->has_pooler = !m->has_classifier && c->family == FAM_VIT && find_opt(&L, T_POOLER_W, 0) != NULL;

    m->layers = vk_calloc(ctx, c->layers, sizeof *m->layers);
    if (!m->layers) {
        st = vk_fail(ctx, VITVK_ERR_OUT_OF_HOST_MEMORY, "out of host memory");
        goto fail;
    }
    st = create_buffers(m);
    if (st == VITVK_OK)
        st = load_weights(&L);
    if (st != VITVK_OK)
        goto fail;
loaded:
    st_close(L.ar);
    vk_free(ctx, L.tmp);
    vk_free(ctx, L.out);
    ctx->last_error[0] = 0;
    vk_log(ctx, VITVK_LOG_INFO, "loaded %s (%s), %s, %.1f MiB of weights", dir, m->cfg.architecture,
           m->fp16 ? "fp16" : "fp32", m->weights.bytes / 1048576.0);
    *out = m;
    return VITVK_OK;

fail:
    st_close(L.ar);
    vk_free(ctx, L.tmp);
    vk_free(ctx, L.out);
    vitvk_model_destroy(m);
    return st;
}

void vitvk_model_destroy(vitvk_model *m)
{
    if (!m)
        return;
    vk_arena_destroy(&m->weights);
    swin_free(m);
    vk_free(m->ctx, m->layers);
    vit_config_free(&m->cfg);
    vk_free(m->ctx, m);
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
    /* DeiT with teacher runs two heads, one on each of its two tokens */
    uint64_t heads = m->has_classifier && c->pool == POOL_TWO_HEADS ? 2 : 1;
    out->flops_per_image = 2 * m->patches_per_image * Kp * D + c->layers * per_layer +
                           (m->has_pooler ? 2 * D * D : 0) + heads * 2 * D * m->num_labels;
    if (c->family == FAM_SWIN)
        out->flops_per_image = swin_flops(m);
}

const char *vitvk_model_label(const vitvk_model *m, uint32_t index)
{
    if (!m || index >= m->cfg.num_labels_cfg || !m->cfg.labels)
        return NULL;
    return m->cfg.labels[index];
}

uint32_t vitvk_model_hidden_state_count(const vitvk_model *m)
{
    if (!m)
        return 0;
    return m->cfg.family == FAM_SWIN ? m->cfg.stages + 1 : m->cfg.layers + 1;
}

void vitvk_model_hidden_state_shape(const vitvk_model *m, uint32_t index, uint32_t *tokens, uint32_t *dim)
{
    uint32_t t = 0, d = 0;
    if (m && index < vitvk_model_hidden_state_count(m)) {
        if (m->cfg.family != FAM_SWIN) {
            t = m->tokens;
            d = m->cfg.hidden;
        } else {
            /* state s is the input of stage s; the last is the final stage's output */
            const swin_stage *g = &m->swin[index < m->cfg.stages ? index : m->cfg.stages - 1];
            t = g->H * g->W;
            d = g->C;
        }
    }
    if (tokens)
        *tokens = t;
    if (dim)
        *dim = d;
}
