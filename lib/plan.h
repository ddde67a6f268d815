/* plan.h - a plan's state, shared by the family planners (vit.c, swin.c):
 * the buffers, the recorded dispatches and the command buffer replayed by
 * vitvk_plan_run. */
#ifndef VITVK_PLAN_H
#define VITVK_PLAN_H

#include "model.h"

struct vitvk_plan {
    vitvk_model *model;
    vitvk_context *ctx;
    uint32_t batch;
    bool keep_hidden, keep_cls_attn, keep_maps;
    uint32_t last_n;

    vk_arena act;      /* device activations */
    vk_arena upload;   /* host -> device */
    vk_arena readback; /* device -> host */
    vk_buffer *pixels, *patches, *pemb, *h, *qkv, *attn, *mlp;
    vk_buffer **hidden; /* ViT: keep_hidden ? layers + 1 : 2 (ping-pong); Swin: stages + 1 */
    uint32_t hidden_count;
    uint64_t *hidden_elems; /* per image, for vitvk_plan_read_hidden_state */
    vk_buffer *pooled, *pooled2, *pooled_dist, *mean, *logits, *logits_cls, *probs;
    vk_buffer *up_pixels, *rb_logits, *rb_pooled, *rb_probs;
    const vk_buffer *pooled_out; /* what rb_pooled receives */
    vk_buffer *cls_attn;         /* keep_cls_attention: fp32 [N][H][T] */
    vk_buffer **attn_maps;       /* keep_attention_maps: per layer fp32 [N][T][T] */

    vk_program prog;
    VkCommandBuffer cmd;
    VkQueryPool timestamps; /* profile: one per dispatch, plus one at the start */

    /* Asynchronous submission (plan_async.c): slot 0 is this plan, slots
     * 1..in_flight-1 are plans of their own with the same description;
     * ticket t lives in slot (t - 1) % in_flight. */
    uint32_t in_flight;
    vitvk_plan **slots;
    VkFence *fences;
    uint64_t *slot_ticket; /* 0: free */
    uint32_t *slot_n;
    uint64_t next_ticket;

    /* vitvk_plan_record (plan_record.c): top-k pairs and their dispatch */
    vk_arena rec;
    vk_buffer *topk;
    vk_program topk_prog;
};

/* Pixels of n images into the plan's staging buffer (checked). */
vitvk_status plan_upload(vitvk_plan *p, const char *fn, const float *pixels, uint32_t n, bool want_logits);
/* After the plan's command buffer has run: results of n images out. */
vitvk_status plan_collect(vitvk_plan *p, uint32_t n, float *logits, float *pooled);
/* Slots and fences for in_flight > 1 (plan_async.c); destroy accepts a
 * half-made state. */
vitvk_status plan_async_init(vitvk_plan *p, const vitvk_plan_desc *desc);
void plan_async_destroy(vitvk_plan *p);
/* Whether a submitted batch of slot 0 is still to be collected. */
bool plan_async_busy(const vitvk_plan *p);

/* What vitvk_plan_record adds to a plan (nothing for a model without a
 * classifier); init before anything can fail, teardown is safe after any
 * failure. */
void plan_record_init(vitvk_plan *p);
vitvk_status plan_record_setup(vitvk_plan *p);
void plan_record_teardown(vitvk_plan *p);

/* The staging buffers every plan has: pixels in, pooled (and logits and
 * probabilities when labels > 0) out. Commits the upload and readback
 * arenas. */
vitvk_status plan_io(vitvk_plan *p, uint64_t pixel_bytes, uint32_t pooled_dim, uint32_t labels);

/* Swin's buffers and dispatches (swin.c); sets hidden, hidden_elems,
 * pooled_out, logits and probs like the ViT planner. */
vitvk_status swin_plan(vitvk_plan *p);
#endif
