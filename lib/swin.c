/* swin.c - Swin Transformer (transformers' model_type "swin"): config,
 * weights and plan.
 *
 *   pixels -> patchify -> GEMM (patch 4 projection) -> LayerNorm  = state 0
 *   per stage s (H_s x W_s tokens of width C_s), per block b:
 *     LN -> GEMM qkv -> window attention (shifted on odd blocks) -> GEMM proj (+ residual)
 *     LN -> GEMM fc1 (+ GELU) -> GEMM fc2 (+ residual)
 *   then, but for the last stage: patch-merge gather -> LN (4C) -> GEMM (4C -> 2C) = state s+1
 *   final LN of every token -> mean -> classifier
 *
 * Window attention works on the unshifted token order (window_attention.comp)
 * so there is no roll, window partition or reverse in memory. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/ops.h"
#include "plan.h"



/* ---- config ------------------------------------------------------ */

#define FAIL(st, ...)                               \
    do {                                            \
        vk_errorf(err, err_size, __VA_ARGS__);      \
        return (st);                                \
    } while (0)

static int uint_array(const cJSON *a, uint32_t *out, uint32_t max_n, uint32_t hi)
{
    if (!cJSON_IsArray(a))
        return -1;
    int n = cJSON_GetArraySize(a);
    if (n < 1 || (uint32_t)n > max_n)
        return -1;
    for (int i = 0; i < n; i++) {
        const cJSON *v = cJSON_GetArrayItem(a, i);
        if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || v->valuedouble < 1 ||
            v->valuedouble > hi)
            return -1;
        out[i] = (uint32_t)v->valuedouble;
    }
    return n;
}

/* Called by vit_config_parse once the common keys (image_size, patch_size,
 * num_channels, layer_norm_eps, hidden_act, qkv_bias, id2label) are read. */
vitvk_status swin_config_parse(const cJSON *root, const char *path, vit_config *c, char *err, size_t err_size)
{
    c->family = FAM_SWIN;
    c->cls_token = false;
    c->pool = POOL_MEAN;
    const cJSON *ed = cJSON_GetObjectItemCaseSensitive(root, "embed_dim");
    if (!cJSON_IsNumber(ed) || ed->valuedouble != floor(ed->valuedouble) || ed->valuedouble < 1 ||
        ed->valuedouble > VIT_MAX_HIDDEN)
        FAIL(VITVK_ERR_FORMAT, "%s: \"embed_dim\" must be an integer from 1 to %u", path, VIT_MAX_HIDDEN);
    c->embed_dim = (uint32_t)ed->valuedouble;
    int nd = uint_array(cJSON_GetObjectItemCaseSensitive(root, "depths"), c->depths, 8, 64);
    int nh = uint_array(cJSON_GetObjectItemCaseSensitive(root, "num_heads"), c->stage_heads, 8, VIT_MAX_HEADS);
    if (nd < 0 || nh != nd)
        FAIL(VITVK_ERR_FORMAT, "%s: \"depths\" and \"num_heads\" must be lists of 1 to 8 positive integers of the "
                               "same length", path);
    c->stages = (uint32_t)nd;
    const cJSON *ws = cJSON_GetObjectItemCaseSensitive(root, "window_size");
    if (!cJSON_IsNumber(ws) || ws->valuedouble != floor(ws->valuedouble) || ws->valuedouble < 1 ||
        ws->valuedouble > 64)
        FAIL(VITVK_ERR_FORMAT, "%s: \"window_size\" must be an integer from 1 to 64", path);
    c->window = (uint32_t)ws->valuedouble;
    double ratio = 4.0;
    const cJSON *mr = cJSON_GetObjectItemCaseSensitive(root, "mlp_ratio");
    if (mr) {
        if (!cJSON_IsNumber(mr) || !(mr->valuedouble > 0 && mr->valuedouble <= 16))
            FAIL(VITVK_ERR_FORMAT, "%s: \"mlp_ratio\" must be a number in (0, 16]", path);
        ratio = mr->valuedouble;
    }
    const cJSON *abs_emb = cJSON_GetObjectItemCaseSensitive(root, "use_absolute_embeddings");
    c->pos_mode = cJSON_IsTrue(abs_emb) ? VK_POS_ALL : VK_POS_NONE;
    const cJSON *pn = cJSON_GetObjectItemCaseSensitive(root, "patch_norm");
    c->patch_norm = !pn || cJSON_IsTrue(pn);
    if (c->image_h % c->patch || c->image_w % c->patch)
        FAIL(VITVK_ERR_UNSUPPORTED, "%s: image size %ux%u is not a multiple of patch_size %u", path, c->image_h,
             c->image_w, c->patch);
    uint64_t dim = c->embed_dim;
    c->layers = 0;
    for (uint32_t s = 0; s < c->stages; s++) {
        if (dim % c->stage_heads[s])
            FAIL(VITVK_ERR_FORMAT, "%s: stage %u width %llu is not a multiple of its %u heads", path, s,
                 (unsigned long long)dim, c->stage_heads[s]);
        if (dim / c->stage_heads[s] > VIT_MAX_HEAD_DIM)
            FAIL(VITVK_ERR_LIMIT, "%s: stage %u head size is over the limit %u", path, s, VIT_MAX_HEAD_DIM);
        c->layers += c->depths[s];
        if (s + 1 < c->stages)
            dim *= 2;
        if (dim > VIT_MAX_HIDDEN)
            FAIL(VITVK_ERR_LIMIT, "%s: stage widths exceed %u", path, VIT_MAX_HIDDEN);
    }
    c->hidden = (uint32_t)dim;
    c->heads = c->stage_heads[c->stages - 1];
    c->intermediate = (uint32_t)(ratio * dim);
    /* The per-stage MLP width is ratio * C_s; intermediate above is the last one. */
    c->qkv_bias_required = c->qkv_bias;
    return VITVK_OK;
}

/* ---- weights ----------------------------------------------------- */

static vitvk_status add(vitvk_model *m, vk_buffer **b, uint64_t count, const char *what)
{
    return vk_arena_add(&m->weights, count * (m->fp16 ? 2 : 4), what, b);
}

static vitvk_status read_vec(loader *L, vk_buffer *dst, const char *name, uint32_t n)
{
    int64_t d[1] = {n};
    vitvk_status st = ld_grow(L->m->ctx, (void **)&L->tmp, &L->tmp_cap, (size_t)n * sizeof(float));
    if (st == VITVK_OK)
        st = ld_read(L, name, 1, d, L->tmp);
    if (st == VITVK_OK)
        st = ld_store(L, dst, L->tmp, n);
    return st;
}

static vitvk_status read_mat(loader *L, vk_buffer *dst, const char *name, uint32_t N, uint32_t K, vk_gemm_kind kind)
{
    int64_t d[2] = {N, K};
    vitvk_status st = ld_grow(L->m->ctx, (void **)&L->tmp, &L->tmp_cap, (size_t)N * K * sizeof(float));
    if (st == VITVK_OK)
        st = ld_read(L, name, 2, d, L->tmp);
    if (st == VITVK_OK)
        st = ld_store_w(L, dst, L->tmp, N, K, kind);
    return st;
}

/* The relative position bias table [(2ws-1)^2, heads] expanded to
 * [heads][ws^2][ws^2] (fp32), indexed as transformers' relative_position_index,
 * and into lanes (may be NULL) in the order op_window_bias_lanes gives. */
static vitvk_status read_relbias(loader *L, vk_buffer *dst, vk_buffer *lanes, const char *name, uint32_t ws,
                                 uint32_t heads)
{
    uint32_t nrel = (2 * ws - 1) * (2 * ws - 1), W2 = ws * ws;
    int64_t d[2] = {nrel, heads};
    float *table = vk_malloc(L->m->ctx, (size_t)nrel * heads * sizeof(float));
    float *bias = vk_malloc(L->m->ctx, (size_t)heads * W2 * W2 * sizeof(float));
    vitvk_status st = (!table || !bias) ? vk_fail(L->m->ctx, VITVK_ERR_OUT_OF_HOST_MEMORY, "out of host memory")
                                        : ld_read(L, name, 2, d, table);
    for (uint32_t q = 0; st == VITVK_OK && q < W2; q++)
        for (uint32_t k = 0; k < W2; k++) {
            int dy = (int)(q / ws) - (int)(k / ws) + (int)ws - 1, dx = (int)(q % ws) - (int)(k % ws) + (int)ws - 1;
            uint32_t idx = (uint32_t)(dy * (int)(2 * ws - 1) + dx);
            for (uint32_t h = 0; h < heads; h++)
                bias[((size_t)h * W2 + q) * W2 + k] = table[(size_t)idx * heads + h];
        }
    if (st == VITVK_OK)
        st = vk_upload(L->m->ctx, &L->m->weights, dst, bias, (size_t)heads * W2 * W2 * sizeof(float));
    if (st == VITVK_OK && lanes) {
        float *t = vk_malloc(L->m->ctx, (size_t)lanes->size);
        if (!t)
            st = vk_fail(L->m->ctx, VITVK_ERR_OUT_OF_HOST_MEMORY, "out of host memory");
        else
            op_window_bias_lanes(bias, t, heads, ws);
        if (st == VITVK_OK)
            st = vk_upload(L->m->ctx, &L->m->weights, lanes, t, (size_t)lanes->size);
        vk_free(L->m->ctx, t);
    }
    vk_free(L->m->ctx, table);
    vk_free(L->m->ctx, bias);
    return st;
}

/* q, k, v as one [3C, C] matrix and [3C] bias. */
static vitvk_status read_qkv(loader *L, swin_block *b, const char *base, uint32_t C, bool bias_required)
{
    float *w = vk_malloc(L->m->ctx, (size_t)3 * C * C * sizeof(float)), *bias = vk_calloc(L->m->ctx, 3 * (size_t)C, sizeof(float));
    vitvk_status st = (!w || !bias) ? vk_fail(L->m->ctx, VITVK_ERR_OUT_OF_HOST_MEMORY, "out of host memory")
                                    : VITVK_OK;
    static const char *const parts[3] = {"query", "key", "value"};
    int64_t dw[2] = {C, C}, db[1] = {C};
    char n[300];
    for (int p = 0; st == VITVK_OK && p < 3; p++) {
        snprintf(n, sizeof n, "%sattention.self.%s.weight", base, parts[p]);
        st = ld_read(L, n, 2, dw, w + (size_t)p * C * C);
        snprintf(n, sizeof n, "%sattention.self.%s.bias", base, parts[p]);
        if (st == VITVK_OK && (bias_required || st_find(L->ar, n)))
            st = ld_read(L, n, 1, db, bias + (size_t)p * C);
    }
    if (st == VITVK_OK)
        st = ld_store_w(L, b->qkv_w, w, 3 * C, C, VK_GEMM_SAME);
    if (st == VITVK_OK)
        st = ld_store(L, b->qkv_b, bias, 3 * (size_t)C);
    vk_free(L->m->ctx, w);
    vk_free(L->m->ctx, bias);
    return st;
}

vitvk_status swin_load(loader *L)
{
    vitvk_model *m = L->m;
    const vit_config *c = &m->cfg;
    m->swin = vk_calloc(m->ctx, c->stages, sizeof *m->swin);
    if (!m->swin)
        return vk_fail(m->ctx, VITVK_ERR_OUT_OF_HOST_MEMORY, "out of host memory");
    uint32_t H = c->image_h / c->patch, W = c->image_w / c->patch, C = c->embed_dim;
    double ratio = (double)c->intermediate / c->hidden;
    vitvk_status st = VITVK_OK;
    for (uint32_t s = 0; st == VITVK_OK && s < c->stages; s++) {
        swin_stage *g = &m->swin[s];
        g->H = H, g->W = W, g->C = C, g->heads = c->stage_heads[s], g->depth = c->depths[s];
        g->intermediate = (uint32_t)(ratio * C);
        /* transformers: a window no smaller than the map shrinks to it and
         * is not shifted. */
        g->window = c->window;
        g->shift = c->window / 2;
        uint32_t mn = H < W ? H : W;
        if (mn <= c->window) {
            g->window = mn;
            g->shift = 0;
        }
        g->blocks = vk_calloc(m->ctx, g->depth, sizeof *g->blocks);
        if (!g->blocks)
            return vk_fail(m->ctx, VITVK_ERR_OUT_OF_HOST_MEMORY, "out of host memory");
        uint64_t W2 = (uint64_t)g->window * g->window;
        uint64_t lanes = op_window_bias_lanes_floats(m->ctx, g->heads, g->window, g->C / g->heads);
        for (uint32_t b = 0; st == VITVK_OK && b < g->depth; b++) {
            swin_block *k = &g->blocks[b];
#define ADD(x, n)                                      \
    if (st == VITVK_OK)                                \
        st = add(m, &(x), (n), #x);
            ADD(k->ln1_g, C) ADD(k->ln1_b, C) ADD(k->ln2_g, C) ADD(k->ln2_b, C)
            ADD(k->qkv_w, 3ull * C * C) ADD(k->qkv_b, 3ull * C) ADD(k->proj_w, (uint64_t)C * C) ADD(k->proj_b, C)
            ADD(k->fc1_w, (uint64_t)g->intermediate * C) ADD(k->fc1_b, g->intermediate)
            ADD(k->fc2_w, (uint64_t)g->intermediate * C) ADD(k->fc2_b, C)
            if (st == VITVK_OK)
                st = vk_arena_add(&m->weights, g->heads * W2 * W2 * sizeof(float), "window bias", &k->rel_bias);
            if (st == VITVK_OK && lanes)
                st = vk_arena_add(&m->weights, lanes * sizeof(float), "window bias (lane order)", &k->rel_bias_lanes);
        }
        if (s + 1 < c->stages) {
            ADD(g->merge_g, 4ull * C) ADD(g->merge_b, 4ull * C) ADD(g->merge_w, 8ull * C * C)
            H = (H + 1) / 2, W = (W + 1) / 2, C *= 2;
        }
    }
    uint32_t Kp = c->channels * c->patch * c->patch, E = c->embed_dim;
    ADD(m->patch_w, (uint64_t)E * Kp) ADD(m->patch_b, E)
    if (c->patch_norm) {
        ADD(m->embed_norm_g, E) ADD(m->embed_norm_b, E)
    }
    if (c->pos_mode != VK_POS_NONE)
        ADD(m->pos, (uint64_t)m->patches_per_image * E)
    ADD(m->lnf_g, c->hidden) ADD(m->lnf_b, c->hidden)
    if (m->has_classifier) {
        ADD(m->head_w, (uint64_t)m->num_labels * c->hidden) ADD(m->head_b, m->num_labels)
    }
#undef ADD
    if (st == VITVK_OK)
        st = vk_arena_commit(&m->weights);

    char n[300], base[160];
    const char *p = L->prefix;
    int64_t conv[4] = {E, c->channels, c->patch, c->patch};
    if (st == VITVK_OK)
        st = ld_grow(m->ctx, (void **)&L->tmp, &L->tmp_cap, (size_t)E * Kp * sizeof(float));
    snprintf(n, sizeof n, "%sembeddings.patch_embeddings.projection.weight", p);
    if (st == VITVK_OK)
        st = ld_read(L, n, 4, conv, L->tmp);
    if (st == VITVK_OK)
        st = ld_store_w(L, m->patch_w, L->tmp, E, Kp, VK_GEMM_SAME);
    snprintf(n, sizeof n, "%sembeddings.patch_embeddings.projection.bias", p);
    if (st == VITVK_OK)
        st = read_vec(L, m->patch_b, n, E);
    if (st == VITVK_OK && c->patch_norm) {
        snprintf(n, sizeof n, "%sembeddings.norm.weight", p);
        st = read_vec(L, m->embed_norm_g, n, E);
        snprintf(n, sizeof n, "%sembeddings.norm.bias", p);
        if (st == VITVK_OK)
            st = read_vec(L, m->embed_norm_b, n, E);
    }
    if (st == VITVK_OK && c->pos_mode != VK_POS_NONE) {
        int64_t d[3] = {1, m->patches_per_image, E};
        snprintf(n, sizeof n, "%sembeddings.position_embeddings", p);
        st = ld_grow(m->ctx, (void **)&L->tmp, &L->tmp_cap, (size_t)m->patches_per_image * E * sizeof(float));
        if (st == VITVK_OK)
            st = ld_read(L, n, 3, d, L->tmp);
        if (st == VITVK_OK)
            st = ld_store(L, m->pos, L->tmp, (size_t)m->patches_per_image * E);
    }
    for (uint32_t s = 0; st == VITVK_OK && s < c->stages; s++) {
        swin_stage *g = &m->swin[s];
        for (uint32_t b = 0; st == VITVK_OK && b < g->depth; b++) {
            swin_block *k = &g->blocks[b];
            snprintf(base, sizeof base, "%sencoder.layers.%u.blocks.%u.", p, s, b);
#define VEC(x, s_, len)                                 \
    if (st == VITVK_OK) {                               \
        snprintf(n, sizeof n, "%s%s", base, s_);        \
        st = read_vec(L, x, n, len);                    \
    }
#define MAT(x, s_, rows, cols)                          \
    if (st == VITVK_OK) {                               \
        snprintf(n, sizeof n, "%s%s", base, s_);        \
        st = read_mat(L, x, n, rows, cols, VK_GEMM_SAME); \
    }
            VEC(k->ln1_g, "layernorm_before.weight", g->C)
            VEC(k->ln1_b, "layernorm_before.bias", g->C)
            VEC(k->ln2_g, "layernorm_after.weight", g->C)
            VEC(k->ln2_b, "layernorm_after.bias", g->C)
            MAT(k->proj_w, "attention.output.dense.weight", g->C, g->C)
            VEC(k->proj_b, "attention.output.dense.bias", g->C)
            MAT(k->fc1_w, "intermediate.dense.weight", g->intermediate, g->C)
            VEC(k->fc1_b, "intermediate.dense.bias", g->intermediate)
            MAT(k->fc2_w, "output.dense.weight", g->C, g->intermediate)
            VEC(k->fc2_b, "output.dense.bias", g->C)
            if (st == VITVK_OK)
                st = read_qkv(L, k, base, g->C, c->qkv_bias_required);
            if (st == VITVK_OK) {
                snprintf(n, sizeof n, "%sattention.self.relative_position_bias_table", base);
                st = read_relbias(L, k->rel_bias, k->rel_bias_lanes, n, g->window, g->heads);
            }
        }
        if (st == VITVK_OK && g->merge_w) {
            snprintf(base, sizeof base, "%sencoder.layers.%u.downsample.", p, s);
            VEC(g->merge_g, "norm.weight", 4 * g->C)
            VEC(g->merge_b, "norm.bias", 4 * g->C)
            MAT(g->merge_w, "reduction.weight", 2 * g->C, 4 * g->C)
        }
#undef VEC
#undef MAT
    }
    snprintf(n, sizeof n, "%slayernorm.weight", p);
    if (st == VITVK_OK)
        st = read_vec(L, m->lnf_g, n, c->hidden);
    snprintf(n, sizeof n, "%slayernorm.bias", p);
    if (st == VITVK_OK)
        st = read_vec(L, m->lnf_b, n, c->hidden);
    if (st == VITVK_OK && m->has_classifier) {
        st = read_mat(L, m->head_w, "classifier.weight", m->num_labels, c->hidden, VK_GEMM_W16);
        if (st == VITVK_OK)
            st = read_vec(L, m->head_b, "classifier.bias", m->num_labels);
    }
    return st;
}

void swin_free(vitvk_model *m)
{
    for (uint32_t s = 0; m->swin && s < m->cfg.stages; s++)
        vk_free(m->ctx, m->swin[s].blocks);
    vk_free(m->ctx, m->swin);
    m->swin = NULL;
}

uint64_t swin_flops(const vitvk_model *m)
{
    const vit_config *c = &m->cfg;
    uint64_t f = 2ull * m->patches_per_image * c->channels * c->patch * c->patch * c->embed_dim;
    for (uint32_t s = 0; m->swin && s < c->stages; s++) {
        const swin_stage *g = &m->swin[s];
        uint64_t T = (uint64_t)g->H * g->W, C = g->C;
        f += g->depth * (2 * T * C * 3 * C + 4 * T * g->window * g->window * C + 2 * T * C * C +
                         4 * T * C * g->intermediate);
        if (g->merge_w)
            f += 2 * ((g->H + 1) / 2) * ((g->W + 1) / 2) * 4 * C * 2 * C;
    }
    return f + 2ull * c->hidden * m->num_labels;
}

/* ---- plan -------------------------------------------------------- */

vitvk_status swin_plan(vitvk_plan *p)
{
    vitvk_model *m = p->model;
    const vit_config *c = &m->cfg;
    vitvk_context *ctx = p->ctx;
    vk_tuning t;
    vk_tuning_for(ctx, &t);
    bool f16 = m->fp16;
    uint64_t B = p->batch, es = f16 ? 2 : 4;
    uint32_t S = c->stages, Kp = c->channels * c->patch * c->patch, E = c->embed_dim;
    uint64_t np = m->patches_per_image;

    p->hidden_count = S + 1;
    p->hidden = vk_calloc(ctx, p->hidden_count, sizeof *p->hidden);
    p->hidden_elems = vk_calloc(ctx, p->hidden_count, sizeof *p->hidden_elems);
    if (!p->hidden || !p->hidden_elems)
        return vk_fail(ctx, VITVK_ERR_OUT_OF_HOST_MEMORY, "out of host memory");
    /* Scratch sized for the largest stage. */
    uint64_t max_tc = 0, max_ti = 0;
    for (uint32_t s = 0; s < S; s++) {
        const swin_stage *g = &m->swin[s];
        uint64_t T = (uint64_t)g->H * g->W;
        max_tc = T * g->C > max_tc ? T * g->C : max_tc;
        max_ti = T * g->intermediate > max_ti ? T * g->intermediate : max_ti;
        p->hidden_elems[s] = T * g->C;
    }
    const swin_stage *last = &m->swin[S - 1];
    p->hidden_elems[S] = (uint64_t)last->H * last->W * last->C;
    /* the merge gather makes T/4 tokens of 4C: as large as T x C */
    vk_buffer *stream, *y, *merged, *merged_n;
    uint64_t pix = B * c->channels * c->image_h * c->image_w * 4;
    vitvk_status st = VITVK_OK;
#define ACT(b, bytes, what)                                  \
    if (st == VITVK_OK)                                      \
        st = vk_arena_add(&p->act, (bytes), what, &(b));
    ACT(p->pixels, pix, "the input pixels")
    ACT(p->patches, B * np * Kp * es, "the patch rows")
    ACT(p->pemb, B * np * E * es, "the patch embeddings")
    ACT(p->h, B * max_tc * es, "the normalised hidden states")
    ACT(p->qkv, B * max_tc * 3 * es, "the query/key/value projections")
    ACT(p->attn, B * max_tc * es, "the attention output")
    ACT(p->mlp, B * max_ti * es, "the MLP hidden layer")
    ACT(stream, B * max_tc * es, "the residual stream")
    ACT(y, B * max_tc * es, "the residual stream")
    ACT(merged, B * max_tc * es, "the merged patches")
    ACT(merged_n, B * max_tc * es, "the normalised merged patches")
    for (uint32_t i = 0; i <= S; i++)
        ACT(p->hidden[i], B * p->hidden_elems[i] * es, "a stage output")
    ACT(p->mean, B * c->hidden * es, "the token mean")
    ACT(p->pooled, B * c->hidden * 4, "the pooled output")
    if (m->has_classifier) {
        ACT(p->logits, B * m->num_labels * 4, "the logits")
        ACT(p->probs, B * m->num_labels * 4, "the probabilities")
    }
#undef ACT
    p->pooled_out = p->pooled;
    if (st == VITVK_OK)
        st = vk_arena_commit(&p->act);
    if (st == VITVK_OK)
        st = plan_io(p, pix, c->hidden, m->num_labels);
    if (st != VITVK_OK)
        return st;

    vk_program *g = &p->prog;
    uint32_t H0 = c->image_h / c->patch, W0 = c->image_w / c->patch;
    st = op_patchify(g, &t, f16, p->pixels, p->patches, (uint32_t)B, c->channels, c->image_h, c->image_w, c->patch);
    bool norm = c->patch_norm, pos = c->pos_mode != VK_POS_NONE;
    vk_gemm_args pe = {.a = p->patches, .w = m->patch_w, .bias = m->patch_b,
                       .c = (norm || pos) ? p->pemb : p->hidden[0],
                       .M = (uint32_t)(B * np), .N = E, .K = Kp, .lda = Kp, .ldc = E};
    if (st == VITVK_OK)
        st = op_gemm(g, &t, f16, VK_GEMM_SAME, &pe, "patch projection");
    if (st == VITVK_OK && norm)
        st = op_layernorm(g, &t, f16, false, p->pemb, m->embed_norm_g, m->embed_norm_b, pos ? p->h : p->hidden[0],
                          (uint32_t)(B * np), E, 0, E, E, c->eps, "layernorm");
    if (st == VITVK_OK && pos) /* absolute embeddings after the norm, no prefix tokens */
        st = op_embed(g, &t, f16, norm ? p->h : p->pemb, NULL, m->pos, VK_POS_ALL, p->hidden[0], (uint32_t)B,
                      H0 * W0, 0, E);

    for (uint32_t s = 0; st == VITVK_OK && s < S; s++) {
        const swin_stage *sg = &m->swin[s];
        uint32_t T = sg->H * sg->W, C = sg->C, M = (uint32_t)B * T;
        for (uint32_t b = 0; st == VITVK_OK && b < sg->depth; b++) {
            const swin_block *k = &sg->blocks[b];
            /* The stage reads its input state and keeps the stream in
             * `stream`; the last stage's last block writes the final state. */
            const vk_buffer *x = b == 0 ? p->hidden[s] : stream;
            const vk_buffer *x_next = (s + 1 == S && b + 1 == sg->depth) ? p->hidden[S] : stream;
            st = op_layernorm(g, &t, f16, false, x, k->ln1_g, k->ln1_b, p->h, M, C, 0, C, C, c->eps, "layernorm");
            vk_gemm_args qkv = {.a = p->h, .w = k->qkv_w, .bias = k->qkv_b, .c = p->qkv,
                                .M = M, .N = 3 * C, .K = C, .lda = C, .ldc = 3 * C};
            if (st == VITVK_OK)
                st = op_gemm(g, &t, f16, VK_GEMM_SAME, &qkv, "qkv projection");
            vk_window_args wa = {.qkv = p->qkv, .qkv_bias = k->qkv_b, .rel_bias = k->rel_bias,
                                 .rel_bias_lanes = k->rel_bias_lanes, .out = p->attn,
                                 .N = (uint32_t)B, .H = sg->H, .W = sg->W, .C = C, .heads = sg->heads,
                                 .window = sg->window, .shift = b % 2 ? sg->shift : 0};
            if (st == VITVK_OK)
                st = op_window_attention(g, &t, f16, &wa);
            vk_gemm_args proj = {.a = p->attn, .w = k->proj_w, .bias = k->proj_b, .res = x, .c = y,
                                 .M = M, .N = C, .K = C, .lda = C, .ldc = C, .ldr = C};
            if (st == VITVK_OK)
                st = op_gemm(g, &t, f16, VK_GEMM_SAME, &proj, "attention output");
            if (st == VITVK_OK)
                st = op_layernorm(g, &t, f16, false, y, k->ln2_g, k->ln2_b, p->h, M, C, 0, C, C, c->eps,
                                  "layernorm");
            vk_gemm_args fc1 = {.a = p->h, .w = k->fc1_w, .bias = k->fc1_b, .c = p->mlp, .M = M,
                                .N = sg->intermediate, .K = C, .lda = C, .ldc = sg->intermediate,
                                .act = (vk_act)c->act};
            if (st == VITVK_OK)
                st = op_gemm(g, &t, f16, VK_GEMM_SAME, &fc1, "mlp fc1");
            vk_gemm_args fc2 = {.a = p->mlp, .w = k->fc2_w, .bias = k->fc2_b, .res = y, .c = x_next, .M = M, .N = C,
                                .K = sg->intermediate, .lda = sg->intermediate, .ldc = C, .ldr = C};
            if (st == VITVK_OK)
                st = op_gemm(g, &t, f16, VK_GEMM_SAME, &fc2, "mlp fc2");
        }
        if (st == VITVK_OK && sg->merge_w) {
            uint32_t T2 = ((sg->H + 1) / 2) * ((sg->W + 1) / 2), M2 = (uint32_t)B * T2;
            st = op_patch_merge(g, &t, f16, stream, merged, (uint32_t)B, sg->H, sg->W, C);
            if (st == VITVK_OK)
                st = op_layernorm(g, &t, f16, false, merged, sg->merge_g, sg->merge_b, merged_n, M2, 4 * C, 0, 4 * C,
                                  4 * C, c->eps, "layernorm");
            vk_gemm_args red = {.a = merged_n, .w = sg->merge_w, .c = p->hidden[s + 1],
                                .M = M2, .N = 2 * C, .K = 4 * C, .lda = 4 * C, .ldc = 2 * C};
            if (st == VITVK_OK)
                st = op_gemm(g, &t, f16, VK_GEMM_SAME, &red, "patch merging");
        }
    }
    /* transformers: LayerNorm every token, then average them. */
    uint32_t TL = last->H * last->W, D = c->hidden;
    if (st == VITVK_OK)
        st = op_layernorm(g, &t, f16, false, p->hidden[S], m->lnf_g, m->lnf_b, p->h, (uint32_t)B * TL, D, 0, D, D,
                          c->eps, "final layernorm");
    if (st == VITVK_OK)
        st = op_meanpool(g, &t, f16, true, p->h, p->pooled, (uint32_t)B, TL, D, 0);
    if (st == VITVK_OK && m->has_classifier) {
        vk_gemm_args hd = {.a = p->pooled, .w = m->head_w, .bias = m->head_b, .c = p->logits,
                           .M = (uint32_t)B, .N = m->num_labels, .K = D, .lda = D, .ldc = m->num_labels};
        st = op_gemm(g, &t, f16, VK_GEMM_W16, &hd, "classifier");
        if (st == VITVK_OK)
            st = op_softmax(g, &t, p->logits, p->probs, (uint32_t)B, m->num_labels);
    }
    if (st == VITVK_OK)
        st = vk_program_finalize(g);
    return st;
}
