/* vit.c - the ViT forward plan: buffers sized once for a batch, every
 * dispatch prepared, and the whole pass recorded into one command buffer
 * that each run replays.
 *
 *   pixels -> patchify -> GEMM (patch projection) -> embed ([CLS] + pos)
 *   per layer:  LN1 -> GEMM qkv -> attention -> GEMM proj (+ residual)
 *               LN2 -> GEMM fc1 (+ activation) -> GEMM fc2 (+ residual)
 *   LN (token 0 only) -> pooled -> [pooler dense+tanh] -> classifier -> softmax
 */
#include <stdlib.h>
#include <string.h>

#include "half.h"
#include "model.h"
#include "ops/ops.h"
#include "plan.h"



static vitvk_status plan_buffers(vitvk_plan *p)
{
    const vitvk_model *m = p->model;
    const vit_config *c = &m->cfg;
    uint64_t B = p->batch, T = m->tokens, D = c->hidden, I = c->intermediate;
    uint64_t np = m->patches_per_image, Kp = (uint64_t)c->channels * c->patch * c->patch;
    uint64_t es = m->fp16 ? 2 : 4;
    uint64_t pix = B * c->channels * c->image_h * c->image_w * 4;
    uint64_t K = m->num_labels;
    vitvk_status st = VITVK_OK;
#define ACT(b, bytes, what)                                  \
    if (st == VITVK_OK)                                      \
        st = vk_arena_add(&p->act, (bytes), what, &(b));
    ACT(p->pixels, pix, "the input pixels")
    ACT(p->patches, B * np * Kp * es, "the patch rows")
    ACT(p->pemb, B * np * D * es, "the patch embeddings")
    ACT(p->h, B * T * D * es, "the normalised hidden states")
    ACT(p->qkv, B * T * 3 * D * es, "the query/key/value projections")
    ACT(p->attn, B * T * D * es, "the attention output")
    ACT(p->mlp, B * T * I * es, "the MLP hidden layer")
    for (uint32_t i = 0; i < p->hidden_count; i++)
        ACT(p->hidden[i], B * T * D * es, "the residual stream")
    ACT(p->pooled, B * D * 4, "the pooled output")
    if (m->has_pooler)
        ACT(p->pooled2, B * D * 4, "the pooler output")
    if (c->pool == POOL_MEAN)
        ACT(p->mean, B * D * es, "the token mean")
    if (p->keep_cls_attn)
        ACT(p->cls_attn, B * c->heads * T * 4, "the [CLS] attention row")
    for (uint32_t l = 0; p->keep_maps && l < c->layers; l++)
        ACT(p->attn_maps[l], B * c->heads * T * T * 4, "an attention map")
    if (m->has_classifier) {
        ACT(p->logits, B * K * 4, "the logits")
        ACT(p->probs, B * K * 4, "the probabilities")
        if (c->pool == POOL_TWO_HEADS) {
            ACT(p->pooled_dist, B * D * 4, "the distillation token")
            ACT(p->logits_cls, B * K * 4, "the [CLS] head's logits")
        }
    }
#undef ACT
    p->pooled_out = m->has_pooler ? p->pooled2 : p->pooled;
    if (st == VITVK_OK)
        st = vk_arena_commit(&p->act);
    if (st == VITVK_OK)
        st = plan_io(p, pix, D, m->num_labels);
    return st;
}

vitvk_status plan_io(vitvk_plan *p, uint64_t pixel_bytes, uint32_t pooled_dim, uint32_t labels)
{
    uint64_t B = p->batch;
    vitvk_status st = vk_arena_add(&p->upload, pixel_bytes, "the input staging buffer", &p->up_pixels);
    if (st == VITVK_OK)
        st = vk_arena_add(&p->readback, B * pooled_dim * 4, "the pooled readback buffer", &p->rb_pooled);
    if (st == VITVK_OK && labels) {
        st = vk_arena_add(&p->readback, B * labels * 4, "the logits readback buffer", &p->rb_logits);
        if (st == VITVK_OK)
            st = vk_arena_add(&p->readback, B * labels * 4, "the probabilities readback buffer", &p->rb_probs);
    }
    if (st == VITVK_OK)
        st = vk_arena_commit(&p->upload);
    if (st == VITVK_OK)
        st = vk_arena_commit(&p->readback);
    return st;
}

static vitvk_status plan_dispatches(vitvk_plan *p)
{
    const vitvk_model *m = p->model;
    const vit_config *c = &m->cfg;
    vk_tuning t;
    vk_tuning_for(p->ctx, &t);
    bool f16 = m->fp16;
    uint32_t B = p->batch, T = m->tokens, D = c->hidden, I = c->intermediate;
    uint32_t np = m->patches_per_image, Kp = c->channels * c->patch * c->patch;
    uint32_t M = B * T;
    vk_program *g = &p->prog;
    /* GPUs: the LayerNorms before the qkv and fc1 projections run inside
     * those GEMMs (one dispatch less each, no normalised copy stored). */
    bool fuse_ln = op_gemm_fuses_layernorm(p->ctx, &t, f16, VK_GEMM_SAME);
    /* When the heads read token 0 alone and nobody reads the hidden
     * states, the last layer needs every token's keys and values but only
     * token 0's attention output and MLP: those run on B rows (row b*T of
     * the residual stream in, row b compact out), which is 6% of ViT-B/16's
     * FLOPs, and give the same logits. DeiT's two heads read tokens 0 and
     * 1: at batch 1 those are the first two rows, one stride apart like
     * every row, so the last layer runs on them alone (tail_q = 2); at
     * larger batches rows b*T and b*T + 1 are no single stride apart and
     * the layer runs whole. */
    uint32_t tail_q = p->keep_hidden                        ? 0
                      : c->pool == POOL_CLS                 ? 1
                      : c->pool == POOL_TWO_HEADS && B == 1 ? 2
                                                            : 0;
    bool cls_only = tail_q == 1;

    vitvk_status st = op_patchify(g, &t, f16, p->pixels, p->patches, B, c->channels, c->image_h, c->image_w, c->patch);
    vk_gemm_args pe = {.a = p->patches, .w = m->patch_w, .bias = m->patch_b, .c = p->pemb,
                       .M = B * np, .N = D, .K = Kp, .lda = Kp, .ldc = D};
    if (st == VITVK_OK)
        st = op_gemm(g, &t, f16, VK_GEMM_SAME, &pe, "patch projection");
    if (st == VITVK_OK)
        st = op_embed(g, &t, f16, p->pemb, vit_prefix_tokens(c) ? m->prefix : NULL, m->pos, (vk_pos_mode)c->pos_mode,
                      p->hidden[0], B, T, vit_prefix_tokens(c), D);

    for (uint32_t l = 0; st == VITVK_OK && l < c->layers; l++) {
        const vit_layer_weights *w = &m->layers[l];
        /* keep_hidden: x_l in hidden[l]; otherwise two buffers alternate
         * (x -> y after attention -> x after the MLP). */
        const vk_buffer *x = p->keep_hidden ? p->hidden[l] : p->hidden[0];
        const vk_buffer *y = p->keep_hidden ? p->hidden[l + 1] : p->hidden[1];
        const vk_buffer *x_next = p->keep_hidden ? p->hidden[l + 1] : p->hidden[0];
        bool tail = tail_q && l + 1 == c->layers;
        uint32_t Mt = tail ? B * tail_q : M, ld_in = tail && cls_only ? T * D : D;
        if (!fuse_ln)
            st = op_layernorm(g, &t, f16, false, x, w->ln1_g, w->ln1_b, p->h, M, D, 0, D, D, c->eps, "layernorm");
        vk_gemm_args qkv = {.a = fuse_ln ? x : p->h, .w = w->qkv_w, .bias = w->qkv_b, .c = p->qkv,
                            .M = M, .N = 3 * D, .K = D, .lda = D, .ldc = 3 * D,
                            .ln_g = fuse_ln ? w->ln1_g : NULL, .ln_b = fuse_ln ? w->ln1_b : NULL, .ln_eps = c->eps};
        if (st == VITVK_OK)
            st = op_gemm(g, &t, f16, VK_GEMM_SAME, &qkv, "qkv projection");
        if (st == VITVK_OK)
            st = op_attention(g, &t, f16, p->qkv, w->score_bias ? w->score_bias : m->shared_bias, p->attn, B, T,
                              tail ? tail_q : T, c->heads, D, "attention");
        if (st == VITVK_OK && p->keep_maps)
            st = op_attention_probs(g, &t, f16, p->qkv, w->score_bias ? w->score_bias : m->shared_bias,
                                    p->attn_maps[l], B, T, c->heads, D, T);
        if (st == VITVK_OK && p->cls_attn && l + 1 == c->layers)
            st = op_attention_probs(g, &t, f16, p->qkv, w->score_bias ? w->score_bias : m->shared_bias, p->cls_attn,
                                    B, T, c->heads, D, 1);
        vk_gemm_args proj = {.a = p->attn, .w = w->proj_w, .bias = w->proj_b, .res = x, .c = y,
                             .M = Mt, .N = D, .K = D, .lda = ld_in, .ldc = D, .ldr = ld_in};
        if (st == VITVK_OK)
            st = op_gemm(g, &t, f16, VK_GEMM_SAME, &proj, "attention output");
        if (st == VITVK_OK && !fuse_ln)
            st = op_layernorm(g, &t, f16, false, y, w->ln2_g, w->ln2_b, p->h, Mt, D, 0, D, D, c->eps, "layernorm");
        vk_gemm_args fc1 = {.a = fuse_ln ? y : p->h, .w = w->fc1_w, .bias = w->fc1_b, .c = p->mlp,
                            .M = Mt, .N = I, .K = D, .lda = D, .ldc = I, .act = (vk_act)c->act,
                            .ln_g = fuse_ln ? w->ln2_g : NULL, .ln_b = fuse_ln ? w->ln2_b : NULL, .ln_eps = c->eps};
        if (st == VITVK_OK)
            st = op_gemm(g, &t, f16, VK_GEMM_SAME, &fc1, "mlp fc1");
        vk_gemm_args fc2 = {.a = p->mlp, .w = w->fc2_w, .bias = w->fc2_b, .res = y, .c = x_next,
                            .M = Mt, .N = D, .K = I, .lda = I, .ldc = D, .ldr = D};
        if (st == VITVK_OK)
            st = op_gemm(g, &t, f16, VK_GEMM_SAME, &fc2, "mlp fc2");
    }
    /* Only the rows the heads read are normalised: token 0 (and token 1
     * for DeiT's distillation head), or the mean of the patch tokens. */
    const vk_buffer *last = p->keep_hidden ? p->hidden[c->layers] : p->hidden[0];
    if (st == VITVK_OK && c->pool == POOL_MEAN) {
        st = op_meanpool(g, &t, f16, false, last, p->mean, B, T, D, vit_prefix_tokens(c));
        if (st == VITVK_OK)
            st = op_layernorm(g, &t, f16, true, p->mean, m->lnf_g, m->lnf_b, p->pooled, B, D, 0, D, D, c->eps,
                              "final layernorm");
    } else if (st == VITVK_OK) {
        st = op_layernorm(g, &t, f16, true, last, m->lnf_g, m->lnf_b, p->pooled, B, D, 0, cls_only ? D : T * D, D,
                          c->eps, "final layernorm");
        if (st == VITVK_OK && p->pooled_dist)
            st = op_layernorm(g, &t, f16, true, last, m->lnf_g, m->lnf_b, p->pooled_dist, B, D, D, T * D, D, c->eps,
                              "final layernorm");
    }
    if (st == VITVK_OK && m->has_pooler) {
        vk_gemm_args pl = {.a = p->pooled, .w = m->pool_w, .bias = m->pool_b, .c = p->pooled2,
                           .M = B, .N = D, .K = D, .lda = D, .ldc = D, .act = VK_ACT_TANH};
        st = op_gemm(g, &t, f16, VK_GEMM_W16, &pl, "pooler");
    }
    if (st == VITVK_OK && m->has_classifier) {
        /* DeiT: logits = head(token 0) / 2 + head_dist(token 1) / 2, the
         * halves folded into the weights and the sum into the epilogue. */
        uint32_t K = m->num_labels;
        vk_gemm_args hd = {.a = p->pooled, .w = m->head_w, .bias = m->head_b,
                           .c = p->pooled_dist ? p->logits_cls : p->logits,
                           .M = B, .N = K, .K = D, .lda = D, .ldc = K};
        st = op_gemm(g, &t, f16, VK_GEMM_W16, &hd, "classifier");
        if (st == VITVK_OK && p->pooled_dist) {
            vk_gemm_args dh = {.a = p->pooled_dist, .w = m->dist_w, .bias = m->dist_b, .res = p->logits_cls,
                               .c = p->logits, .M = B, .N = K, .K = D, .lda = D, .ldc = K, .ldr = K};
            st = op_gemm(g, &t, f16, VK_GEMM_W16, &dh, "classifier");
        }
        if (st == VITVK_OK)
            st = op_softmax(g, &t, p->logits, p->probs, B, K);
    }
    if (st == VITVK_OK)
        st = vk_program_finalize(g);
    return st;
}

static void buffer_barrier(const vitvk_context *ctx, VkCommandBuffer cmd, VkPipelineStageFlags src,
                           VkAccessFlags src_access, VkPipelineStageFlags dst, VkAccessFlags dst_access)
{
    VkMemoryBarrier mb = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
        .srcAccessMask = src_access,
        .dstAccessMask = dst_access,
    };
    ctx->vkd.vkCmdPipelineBarrier(cmd, src, dst, 0, 1, &mb, 0, NULL, 0, NULL);
}

static void copy(const vitvk_context *ctx, VkCommandBuffer cmd, const vk_buffer *src, const vk_buffer *dst)
{
    VkBufferCopy r = {.size = src->size < dst->size ? src->size : dst->size};
    ctx->vkd.vkCmdCopyBuffer(cmd, src->buffer, dst->buffer, 1, &r);
}

static vitvk_status plan_record(vitvk_plan *p)
{
    vitvk_context *ctx = p->ctx;
    VkCommandBufferAllocateInfo ai = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
        .commandPool = ctx->cmd_pool,
        .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
        .commandBufferCount = 1,
    };
    vitvk_status st = vk_check(ctx, ctx->vkd.vkAllocateCommandBuffers(ctx->device, &ai, &p->cmd),
                               "vkAllocateCommandBuffers");
    if (st != VITVK_OK)
        return st;
    VkCommandBufferBeginInfo bi = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
    st = vk_check(ctx, ctx->vkd.vkBeginCommandBuffer(p->cmd, &bi), "vkBeginCommandBuffer");
    if (st != VITVK_OK)
        return st;
    VkCommandBuffer cmd = p->cmd;
    if (p->timestamps)
        ctx->vkd.vkCmdResetQueryPool(cmd, p->timestamps, 0, (uint32_t)p->prog.count + 1);
    copy(ctx, cmd, p->up_pixels, p->pixels);
    /* The previous replay's reads of every buffer must finish before this
     * one overwrites them: the queue orders submissions, but memory
     * accesses need this barrier (it also covers the upload). */
    buffer_barrier(ctx, cmd, VK_PIPELINE_STAGE_TRANSFER_BIT | VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                   VK_ACCESS_TRANSFER_WRITE_BIT | VK_ACCESS_SHADER_WRITE_BIT, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                   VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT);
    vk_program_record(&p->prog, cmd, p->timestamps);
    buffer_barrier(ctx, cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT,
                   VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_READ_BIT);
    copy(ctx, cmd, p->pooled_out, p->rb_pooled);
    if (p->model->has_classifier) {
        copy(ctx, cmd, p->logits, p->rb_logits);
        copy(ctx, cmd, p->probs, p->rb_probs);
    }
    buffer_barrier(ctx, cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
                   VK_PIPELINE_STAGE_HOST_BIT, VK_ACCESS_HOST_READ_BIT);
    return vk_check(ctx, ctx->vkd.vkEndCommandBuffer(cmd), "vkEndCommandBuffer");
}

vitvk_status vitvk_plan_create(vitvk_model *model, const vitvk_plan_desc *desc, vitvk_plan **out)
{
    if (!model)
        return VITVK_ERR_INVALID_ARGUMENT;
    vitvk_context *ctx = model->ctx;
    if (!out)
        return vk_fail(ctx, VITVK_ERR_INVALID_ARGUMENT, "vitvk_plan_create: out is NULL");
    *out = NULL;
    uint32_t batch = desc && desc->batch ? desc->batch : 1;
    if (batch > 4096)
        return vk_fail(ctx, VITVK_ERR_LIMIT, "batch %u is over the limit 4096", batch);
    vitvk_plan *p = vk_calloc(ctx, 1, sizeof *p);
    if (!p)
        return vk_fail(ctx, VITVK_ERR_OUT_OF_HOST_MEMORY, "out of host memory");
    p->model = model;
    p->ctx = ctx;
    p->batch = batch;
    p->keep_hidden = desc && desc->keep_hidden_states;
    p->keep_cls_attn = desc && desc->keep_cls_attention;
    p->keep_maps = desc && desc->keep_attention_maps;
    if ((p->keep_cls_attn || p->keep_maps) && (model->cfg.family == FAM_SWIN || !model->cfg.cls_token)) {
        vk_free(ctx, p);
        return vk_fail(ctx, VITVK_ERR_UNSUPPORTED, "the model has no [CLS] token to take attention from");
    }
    vk_arena_init(&p->act, ctx, VK_MEM_DEVICE);
    vk_arena_init(&p->upload, ctx, VK_MEM_UPLOAD);
    vk_arena_init(&p->readback, ctx, VK_MEM_READBACK);
    vk_program_init(&p->prog, ctx);
    plan_record_init(p);
    vitvk_status st = VITVK_OK;
    if (p->keep_maps && !(p->attn_maps = vk_calloc(ctx, model->cfg.layers, sizeof *p->attn_maps)))
        st = vk_fail(ctx, VITVK_ERR_OUT_OF_HOST_MEMORY, "out of host memory");
    if (st != VITVK_OK) {
    } else if (model->cfg.family == FAM_SWIN) {
        st = swin_plan(p);
    } else {
        p->hidden_count = p->keep_hidden ? model->cfg.layers + 1 : 2;
        p->hidden = vk_calloc(ctx, p->hidden_count, sizeof *p->hidden);
        p->hidden_elems = p->keep_hidden ? vk_calloc(ctx, p->hidden_count, sizeof *p->hidden_elems) : NULL;
        if (!p->hidden || (p->keep_hidden && !p->hidden_elems))
            st = vk_fail(ctx, VITVK_ERR_OUT_OF_HOST_MEMORY, "out of host memory");
        for (uint32_t i = 0; st == VITVK_OK && p->hidden_elems && i < p->hidden_count; i++)
            p->hidden_elems[i] = (uint64_t)model->tokens * model->cfg.hidden;
        if (st == VITVK_OK)
            st = plan_buffers(p);
        if (st == VITVK_OK)
            st = plan_dispatches(p);
    }
    if (st == VITVK_OK && desc && desc->profile && ctx->caps.timestamps) {
        VkQueryPoolCreateInfo qpci = {
            .sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO,
            .queryType = VK_QUERY_TYPE_TIMESTAMP,
            .queryCount = (uint32_t)p->prog.count + 1,
        };
        st = vk_check(ctx, ctx->vkd.vkCreateQueryPool(ctx->device, &qpci, ctx->vk_alloc, &p->timestamps), "vkCreateQueryPool");
    }
    if (st == VITVK_OK)
        st = plan_record(p);
    if (st == VITVK_OK)
        st = plan_record_setup(p);
    if (st == VITVK_OK)
        st = plan_async_init(p, desc);
    if (st != VITVK_OK) {
        vitvk_plan_destroy(p);
        return st;
    }
    vk_log(ctx, VITVK_LOG_INFO, "plan for batch %u: %.1f MiB of activations and staging (%u batch%s in flight)",
           batch, vitvk_plan_activation_bytes(p) / 1048576.0, p->in_flight, p->in_flight == 1 ? "" : "es");
    *out = p;
    return VITVK_OK;
}

void vitvk_plan_destroy(vitvk_plan *p)
{
    if (!p)
        return;
    vitvk_context *ctx = p->ctx;
    plan_async_destroy(p);
    if (p->cmd)
        ctx->vkd.vkFreeCommandBuffers(ctx->device, ctx->cmd_pool, 1, &p->cmd);
    if (p->timestamps)
        ctx->vkd.vkDestroyQueryPool(ctx->device, p->timestamps, ctx->vk_alloc);
    plan_record_teardown(p);
    vk_program_destroy(&p->prog);
    vk_arena_destroy(&p->act);
    vk_arena_destroy(&p->upload);
    vk_arena_destroy(&p->readback);
    vk_free(ctx, p->hidden);
    vk_free(ctx, p->hidden_elems);
    vk_free(ctx, p->attn_maps);
    vk_free(ctx, p);
}

uint64_t vitvk_plan_activation_bytes(const vitvk_plan *p)
{
    if (!p)
        return 0;
    uint64_t bytes = p->act.bytes + p->upload.bytes + p->readback.bytes + p->rec.bytes;
    for (uint32_t i = 1; p->slots && i < p->in_flight; i++)
        bytes += vitvk_plan_activation_bytes(p->slots[i]);
    return bytes;
}

vitvk_status plan_upload(vitvk_plan *p, const char *fn, const float *pixels, uint32_t n, bool want_logits)
{
    vitvk_context *ctx = p->ctx;
    const vit_config *c = &p->model->cfg;
    if (!pixels || n == 0 || n > p->batch)
        return vk_fail(ctx, VITVK_ERR_INVALID_ARGUMENT, "%s: need 1 to %u images and their pixels", fn, p->batch);
    if (want_logits && !p->model->has_classifier)
        return vk_fail(ctx, VITVK_ERR_INVALID_ARGUMENT, "this model has no classifier: ask for pooled only");
    size_t per = (size_t)c->channels * c->image_h * c->image_w;
    memcpy(p->up_pixels->mapped, pixels, per * n * sizeof(float));
    /* Images past n keep whatever was there: their rows are computed and
     * ignored, which is cheaper than a second recording per size. */
    return vk_buffer_flush(&p->upload, p->up_pixels);
}

vitvk_status vitvk_plan_run(vitvk_plan *p, const float *pixels, uint32_t n, float *logits, float *pooled)
{
    if (!p)
        return VITVK_ERR_INVALID_ARGUMENT;
    vitvk_context *ctx = p->ctx;
    if (plan_async_busy(p))
        return vk_fail(ctx, VITVK_ERR_INVALID_ARGUMENT,
                       "vitvk_plan_run: collect the batches submitted to this plan (vitvk_plan_wait) first");
    vitvk_status st = plan_upload(p, "vitvk_plan_run", pixels, n, logits != NULL);
    if (st == VITVK_OK)
        st = vk_submit_wait(ctx, p->cmd);
    if (st != VITVK_OK)
        return st;
    return plan_collect(p, n, logits, pooled);
}

vitvk_status plan_collect(vitvk_plan *p, uint32_t n, float *logits, float *pooled)
{
    const vit_config *c = &p->model->cfg;
    vitvk_status st = vk_buffer_invalidate(&p->readback, p->rb_pooled);
    if (st != VITVK_OK)
        return st;
    p->last_n = n;
    if (pooled)
        memcpy(pooled, p->rb_pooled->mapped, (size_t)n * c->hidden * sizeof(float));
    if (logits) {
        st = vk_buffer_invalidate(&p->readback, p->rb_logits);
        if (st == VITVK_OK)
            memcpy(logits, p->rb_logits->mapped, (size_t)n * p->model->num_labels * sizeof(float));
    }
    return st;
}

/* Copies the first `count` values of a device buffer to the host as floats
 * (widening fp16 when `half`). */
static vitvk_status read_buffer(vitvk_plan *p, const vk_buffer *src, size_t count, bool half, float *out)
{
    vitvk_context *ctx = p->ctx;
    vk_arena rb;
    vk_arena_init(&rb, ctx, VK_MEM_READBACK);
    vk_buffer *dst;
    vitvk_status st = vk_arena_add(&rb, src->size, "readback", &dst);
    if (st == VITVK_OK)
        st = vk_arena_commit(&rb);
    VkCommandBuffer cmd;
    if (st == VITVK_OK)
        st = vk_begin_once(ctx, &cmd);
    if (st == VITVK_OK) {
        buffer_barrier(ctx, cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT,
                       VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_READ_BIT);
        copy(ctx, cmd, src, dst);
        buffer_barrier(ctx, cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
                       VK_PIPELINE_STAGE_HOST_BIT, VK_ACCESS_HOST_READ_BIT);
        st = vk_end_once(ctx, cmd);
    }
    if (st == VITVK_OK)
        st = vk_buffer_invalidate(&rb, dst);
    if (st == VITVK_OK) {
        if (half) {
            const uint16_t *h = dst->mapped;
            for (size_t i = 0; i < count; i++)
                out[i] = vk_f16_to_f32(h[i]);
        } else {
            memcpy(out, dst->mapped, count * sizeof(float));
        }
    }
    vk_arena_destroy(&rb);
    return st;
}

vitvk_status vitvk_plan_read_hidden_state(vitvk_plan *p, uint32_t index, float *out)
{
    if (!p)
        return VITVK_ERR_INVALID_ARGUMENT;
    vitvk_context *ctx = p->ctx;
    if (!p->hidden_elems)
        return vk_fail(ctx, VITVK_ERR_INVALID_ARGUMENT, "the plan was created without keep_hidden_states");
    if (index >= p->hidden_count || !out || p->last_n == 0)
        return vk_fail(ctx, VITVK_ERR_INVALID_ARGUMENT, "hidden state %u: no such state or no run yet", index);
    return read_buffer(p, p->hidden[index], (size_t)p->last_n * p->hidden_elems[index], p->model->fp16, out);
}

vitvk_status vitvk_plan_profile(vitvk_plan *p, vitvk_kernel_time *out, uint32_t *count)
{
    if (!p || !count)
        return VITVK_ERR_INVALID_ARGUMENT;
    vitvk_context *ctx = p->ctx;
    if (!p->timestamps)
        return vk_fail(ctx, VITVK_ERR_UNSUPPORTED, "the plan was created without profile, or the queue has no "
                                                   "timestamps");
    uint32_t n = (uint32_t)p->prog.count;
    if (!out) {
        *count = n;
        return VITVK_OK;
    }
    if (p->last_n == 0)
        return vk_fail(ctx, VITVK_ERR_INVALID_ARGUMENT, "vitvk_plan_profile: no run yet");
    uint64_t *ts = vk_malloc(ctx, (size_t)(n + 1) * sizeof *ts);
    if (!ts)
        return vk_fail(ctx, VITVK_ERR_OUT_OF_HOST_MEMORY, "out of host memory");
    vitvk_status st = vk_check(ctx,
                               ctx->vkd.vkGetQueryPoolResults(ctx->device, p->timestamps, 0, n + 1,
                                                              (size_t)(n + 1) * sizeof *ts, ts, sizeof *ts,
                                                              VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT),
                               "vkGetQueryPoolResults");
    uint32_t w = n < *count ? n : *count;
    for (uint32_t i = 0; st == VITVK_OK && i < w; i++) {
        const vk_dispatch *d = &p->prog.items[i];
        uint64_t dt = ts[i + 1] >= ts[i] ? ts[i + 1] - ts[i] : 0;
        out[i] = (vitvk_kernel_time){
            .op = d->label,
            .variant = d->variant,
            .ms = (double)dt * ctx->caps.timestamp_period * 1e-6,
            .gflop = (double)d->flops * 1e-9,
            .mbytes = (double)d->bytes * 1e-6,
        };
    }
    if (st == VITVK_OK)
        *count = w;
    vk_free(ctx, ts);
    return st;
}

vitvk_status vitvk_plan_read_cls_attention(vitvk_plan *p, float *out)
{
    if (!p)
        return VITVK_ERR_INVALID_ARGUMENT;
    vitvk_context *ctx = p->ctx;
    if (!p->cls_attn || !out || p->last_n == 0)
        return vk_fail(ctx, VITVK_ERR_INVALID_ARGUMENT,
                       "vitvk_plan_read_cls_attention: needs keep_cls_attention and a run");
    size_t count = (size_t)p->last_n * p->model->cfg.heads * p->model->tokens;
    return read_buffer(p, p->cls_attn, count, false, out);
}

vitvk_status vitvk_plan_attention_rollout(vitvk_plan *p, float *out)
{
    if (!p)
        return VITVK_ERR_INVALID_ARGUMENT;
    vitvk_context *ctx = p->ctx;
    if (!p->attn_maps || !out || p->last_n == 0)
        return vk_fail(ctx, VITVK_ERR_INVALID_ARGUMENT,
                       "vitvk_plan_attention_rollout: needs keep_attention_maps and a run");
    uint32_t T = p->model->tokens, L = p->model->cfg.layers, n = p->last_n, H = p->model->cfg.heads;
    size_t tt = (size_t)T * T;
    float *a = vk_malloc(ctx, tt * H * n * sizeof(float));
    double *r = vk_malloc(ctx, tt * sizeof(double)), *next = vk_malloc(ctx, tt * sizeof(double)), *row = vk_malloc(ctx, T * sizeof(double));
    vitvk_status st = (!a || !r || !next || !row) ? vk_fail(ctx, VITVK_ERR_OUT_OF_HOST_MEMORY, "out of host memory")
                                                  : VITVK_OK;
    double **rs = NULL;
    if (st == VITVK_OK && !(rs = vk_calloc(ctx, n, sizeof *rs)))
        st = vk_fail(ctx, VITVK_ERR_OUT_OF_HOST_MEMORY, "out of host memory");
    for (uint32_t i = 0; st == VITVK_OK && i < n; i++) {
        if (!(rs[i] = vk_calloc(ctx, tt, sizeof(double))))
            st = vk_fail(ctx, VITVK_ERR_OUT_OF_HOST_MEMORY, "out of host memory");
        for (uint32_t k = 0; rs[i] && k < T; k++)
            rs[i][(size_t)k * T + k] = 1.0; /* R starts as the identity */
    }
    for (uint32_t l = 0; st == VITVK_OK && l < L; l++) {
        st = read_buffer(p, p->attn_maps[l], tt * H * n, false, a);
        for (uint32_t i = 0; st == VITVK_OK && i < n; i++) {
            /* R <- rownorm(0.5 mean_h(A) + 0.5 I) R */
            for (uint32_t q = 0; q < T; q++) {
                double s = 0;
                for (uint32_t k = 0; k < T; k++) {
                    double mean = 0;
                    for (uint32_t h = 0; h < H; h++)
                        mean += a[tt * ((size_t)i * H + h) + (size_t)q * T + k];
                    row[k] = 0.5 * mean / H + (q == k ? 0.5 : 0.0);
                    s += row[k];
                }
                for (uint32_t j = 0; j < T; j++) {
                    double v = 0;
                    for (uint32_t k = 0; k < T; k++)
                        v += row[k] * rs[i][(size_t)k * T + j];
                    next[(size_t)q * T + j] = v / s;
                }
            }
            memcpy(rs[i], next, tt * sizeof(double));
        }
    }
    for (uint32_t i = 0; st == VITVK_OK && i < n; i++)
        for (uint32_t j = 0; j < T; j++)
            out[(size_t)i * T + j] = (float)rs[i][j]; /* row 0: [CLS] */
    for (uint32_t i = 0; rs && i < n; i++)
        vk_free(ctx, rs[i]);
    vk_free(ctx, rs);
    vk_free(ctx, a);
    vk_free(ctx, r);
    vk_free(ctx, next);
    vk_free(ctx, row);
    return st;
}
