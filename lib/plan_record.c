/* plan_record.c - vitvk_plan_record: the inputs' preprocessing, the plan's
 * forward pass and the chosen result, appended to the caller's command
 * buffer between one barrier against earlier uses of the plan and the copy
 * into the caller's buffer (the contract is in vitvk.h). */
#include <string.h>

#include "gpu_input.h"

void plan_record_init(vitvk_plan *p)
{
    vk_arena_init(&p->rec, p->ctx, VK_MEM_DEVICE);
    vk_program_init(&p->topk_prog, p->ctx);
}

enum { TOPK_WG = 64 };

static uint32_t max_k(const vitvk_model *m)
{
    return m->num_labels < VITVK_MAX_TOP_K ? m->num_labels : VITVK_MAX_TOP_K;
}

vitvk_status plan_record_setup(vitvk_plan *p)
{
    const vitvk_model *m = p->model;
    if (!m->has_classifier)
        return VITVK_OK;
    vk_kernel *k;
    vitvk_status st = vk_arena_add(&p->rec, (uint64_t)p->batch * max_k(m) * 8, "the top-k pairs", &p->topk);
    if (st == VITVK_OK)
        st = vk_arena_commit(&p->rec);
    if (st == VITVK_OK)
        st = vk_kernel_get(p->ctx, SH_TOPK, false, &k);
    if (st == VITVK_OK) {
        /* k (the second word) is set when recording. */
        uint32_t push[3] = {m->num_labels, max_k(m), 0};
        const vk_buffer *bufs[3] = {p->logits, p->probs, p->topk};
        /* One workgroup per image, of TOPK_WG invocations (a power of two:
         * topk.comp halves it) and 8 bytes of shared memory each: within
         * every device's limits (128 invocations, 16 KiB). */
        static const uint32_t wg[1] = {TOPK_WG};
        st = vk_program_add(&p->topk_prog, k, wg, 1, bufs, 3, 0x4, push, sizeof push, p->batch, 1, 1, "top-k");
    }
    if (st == VITVK_OK)
        st = vk_program_finalize(&p->topk_prog);
    return st;
}

void plan_record_teardown(vitvk_plan *p)
{
    vk_program_destroy(&p->topk_prog);
    vk_arena_destroy(&p->rec);
}

/* Bytes per image of `o`, 0 when the plan's model cannot give it. */
static uint64_t bytes_per_image(const vitvk_plan *p, const vitvk_output *o)
{
    const vitvk_model *m = p->model;
    const vit_config *c = &m->cfg;
    switch (o->kind) {
    case VITVK_OUTPUT_LOGITS:
    case VITVK_OUTPUT_PROBABILITIES:
        return m->has_classifier ? (uint64_t)m->num_labels * 4 : 0;
    case VITVK_OUTPUT_TOP_K:
        return m->has_classifier && o->k >= 1 && o->k <= max_k(m) ? (uint64_t)o->k * 8 : 0;
    case VITVK_OUTPUT_EMBEDDINGS:
        return p->pooled_out->size / p->batch;
    case VITVK_OUTPUT_PIXEL_VALUES:
        return (uint64_t)c->channels * c->image_h * c->image_w * 4;
    }
    return 0;
}

uint64_t vitvk_plan_output_bytes(const vitvk_plan *p, const vitvk_output *o, uint32_t n)
{
    return p && o ? bytes_per_image(p, o) * n : 0;
}

static void barrier(const vitvk_context *ctx, VkCommandBuffer cmd, VkPipelineStageFlags src, VkAccessFlags src_access,
                    VkPipelineStageFlags dst, VkAccessFlags dst_access)
{
    VkMemoryBarrier mb = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
        .srcAccessMask = src_access,
        .dstAccessMask = dst_access,
    };
    ctx->vkd.vkCmdPipelineBarrier(cmd, src, dst, 0, 1, &mb, 0, NULL, 0, NULL);
}

static vitvk_status check_args(vitvk_plan *p, void *cmd, vitvk_input *const *inputs, uint32_t n,
                               const vitvk_output *o)
{
    vitvk_context *ctx = p->ctx;
    const char *fn = "vitvk_plan_record";
    if (!cmd || !inputs || !o)
        return vk_fail(ctx, VITVK_ERR_INVALID_ARGUMENT, "%s: command buffer, inputs and output are required", fn);
    if (n == 0 || n > p->batch)
        return vk_fail(ctx, VITVK_ERR_INVALID_ARGUMENT, "%s: %u images; the plan takes 1 to %u", fn, n, p->batch);
    for (uint32_t i = 0; i < n; i++)
        if (!inputs[i] || inputs[i]->plan != p)
            return vk_fail(ctx, VITVK_ERR_INVALID_ARGUMENT, "%s: input %u is NULL or was made for another plan", fn, i);
    if ((unsigned)o->kind > VITVK_OUTPUT_PIXEL_VALUES)
        return vk_fail(ctx, VITVK_ERR_INVALID_ARGUMENT, "%s: unknown output kind %d", fn, (int)o->kind);
    if (!o->vk_buffer || o->vk_offset % 4)
        return vk_fail(ctx, VITVK_ERR_INVALID_ARGUMENT, "%s: the output buffer is null or its offset %llu is not a "
                                                        "multiple of 4",
                       fn, (unsigned long long)o->vk_offset);
    if (bytes_per_image(p, o))
        return VITVK_OK;
    if (!p->model->has_classifier)
        return vk_fail(ctx, VITVK_ERR_INVALID_ARGUMENT, "%s: the model has no classifier: ask for embeddings or "
                                                        "pixel values",
                       fn);
    return vk_fail(ctx, VITVK_ERR_INVALID_ARGUMENT, "%s: top-k k = %u; this model allows 1 to %u", fn, o->k,
                   max_k(p->model));
}

vitvk_status vitvk_plan_record(vitvk_plan *p, void *command_buffer, vitvk_input *const *inputs, uint32_t n,
                               const vitvk_output *o)
{
    if (!p)
        return VITVK_ERR_INVALID_ARGUMENT;
    vitvk_status st = check_args(p, command_buffer, inputs, n, o);
    if (st != VITVK_OK)
        return st;
    if (plan_async_busy(p))
        return vk_fail(p->ctx, VITVK_ERR_INVALID_ARGUMENT,
                       "vitvk_plan_record: collect the batches submitted to this plan (vitvk_plan_wait) first");
    const vitvk_context *ctx = p->ctx;
    VkCommandBuffer cmd = command_buffer;
    const VkPipelineStageFlags work = VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT;
    const VkAccessFlags all = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_READ_BIT |
                              VK_ACCESS_TRANSFER_WRITE_BIT;
    /* Earlier runs of this plan (or of these inputs) on the queue may still
     * read or write the buffers about to be overwritten. */
    barrier(ctx, cmd, work, VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT, work, all);
    for (uint32_t i = 0; i < n; i++) {
        /* An input given twice reuses its scratch buffers. */
        if (i)
            barrier(ctx, cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT,
                    VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT);
        gpu_input_record(inputs[i], cmd, i);
    }
    const vk_buffer *src = p->pixels;
    if (o->kind != VITVK_OUTPUT_PIXEL_VALUES) {
        barrier(ctx, cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT,
                VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT);
        vk_program_record(&p->prog, cmd, NULL);
        src = o->kind == VITVK_OUTPUT_LOGITS          ? p->logits
              : o->kind == VITVK_OUTPUT_PROBABILITIES ? p->probs
              : o->kind == VITVK_OUTPUT_EMBEDDINGS    ? p->pooled_out
                                                      : p->topk;
    }
    if (o->kind == VITVK_OUTPUT_TOP_K) {
        barrier(ctx, cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT,
                VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT);
        memcpy(p->topk_prog.items[0].push + sizeof(uint32_t), &o->k, sizeof o->k);
        vk_program_record(&p->topk_prog, cmd, NULL);
    }
    barrier(ctx, cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT,
            VK_ACCESS_TRANSFER_READ_BIT);
    VkBufferCopy region = {.srcOffset = 0, .dstOffset = o->vk_offset, .size = bytes_per_image(p, o) * n};
    VkBuffer dst;
    memcpy(&dst, &o->vk_buffer, sizeof dst);
    ctx->vkd.vkCmdCopyBuffer(cmd, src->buffer, dst, 1, &region);
    return VITVK_OK;
}
