/* plan_async.c - submit now, collect later: several batches in flight.
 *
 * A batch needs its own activations and staging while it runs, so a plan
 * made with in_flight = k holds k - 1 more plans of the same description
 * (sharing the model's weights); ticket t runs in slot (t - 1) % k, each
 * slot with its own fence. Fences rather than a timeline semaphore: they
 * need nothing beyond Vulkan 1.0 and an adopted device's features. */
#include <stdlib.h>
#include <string.h>

#include "plan.h"

vitvk_status plan_async_init(vitvk_plan *p, const vitvk_plan_desc *desc)
{
    vitvk_context *ctx = p->ctx;
    uint32_t k = desc && desc->in_flight ? desc->in_flight : 1;
    if (k > 64)
        return vk_fail(ctx, VITVK_ERR_LIMIT, "in_flight %u is over the limit 64", k);
    p->slots = vk_calloc(ctx, k, sizeof *p->slots);
    p->fences = vk_calloc(ctx, k, sizeof *p->fences);
    p->slot_ticket = vk_calloc(ctx, k, sizeof *p->slot_ticket);
    p->slot_n = vk_calloc(ctx, k, sizeof *p->slot_n);
    if (!p->slots || !p->fences || !p->slot_ticket || !p->slot_n)
        return vk_fail(ctx, VITVK_ERR_OUT_OF_HOST_MEMORY, "out of host memory");
    p->in_flight = k;
    p->slots[0] = p;
    vitvk_plan_desc one = {0};
    if (desc)
        one = *desc;
    one.in_flight = 1;
    one.profile = 0;
    vitvk_status st = VITVK_OK;
    for (uint32_t i = 1; st == VITVK_OK && i < k; i++)
        st = vitvk_plan_create(p->model, &one, &p->slots[i]);
    VkFenceCreateInfo fci = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    for (uint32_t i = 0; st == VITVK_OK && i < k; i++)
        st = vk_check(ctx, ctx->vkd.vkCreateFence(ctx->device, &fci, ctx->vk_alloc, &p->fences[i]), "vkCreateFence");
    p->next_ticket = 1;
    return st;
}

void plan_async_destroy(vitvk_plan *p)
{
    vitvk_context *ctx = p->ctx;
    for (uint32_t i = 0; p->fences && i < p->in_flight; i++) {
        if (!p->fences[i])
            continue;
        /* A batch still queued must finish before its buffers go. */
        if (p->slot_ticket[i])
            ctx->vkd.vkWaitForFences(ctx->device, 1, &p->fences[i], VK_TRUE, UINT64_MAX);
        ctx->vkd.vkDestroyFence(ctx->device, p->fences[i], ctx->vk_alloc);
    }
    for (uint32_t i = 1; p->slots && i < p->in_flight; i++)
        vitvk_plan_destroy(p->slots[i]);
    vk_free(ctx, p->slots);
    vk_free(ctx, p->fences);
    vk_free(ctx, p->slot_ticket);
    vk_free(ctx, p->slot_n);
    p->slots = NULL;
    p->fences = NULL;
    p->slot_ticket = NULL;
    p->slot_n = NULL;
}

bool plan_async_busy(const vitvk_plan *p)
{
    return p->slot_ticket && p->slot_ticket[0] != 0;
}

vitvk_status vitvk_plan_submit(vitvk_plan *p, const float *pixels, uint32_t n, uint64_t *ticket)
{
    if (!p)
        return VITVK_ERR_INVALID_ARGUMENT;
    vitvk_context *ctx = p->ctx;
    if (!ticket)
        return vk_fail(ctx, VITVK_ERR_INVALID_ARGUMENT, "vitvk_plan_submit: ticket is NULL");
    uint32_t s = (uint32_t)((p->next_ticket - 1) % p->in_flight);
    if (p->slot_ticket[s])
        return vk_fail(ctx, VITVK_ERR_LIMIT,
                       "vitvk_plan_submit: %u batch%s already in flight; collect one with vitvk_plan_wait first",
                       p->in_flight, p->in_flight == 1 ? "" : "es");
    vitvk_plan *q = p->slots[s];
    vitvk_status st = plan_upload(q, "vitvk_plan_submit", pixels, n, false);
    if (st != VITVK_OK)
        return st;
    VkSubmitInfo si = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1, .pCommandBuffers = &q->cmd};
    st = vk_check(ctx, ctx->vkd.vkResetFences(ctx->device, 1, &p->fences[s]), "vkResetFences");
    if (st == VITVK_OK)
        st = vk_check(ctx, ctx->vkd.vkQueueSubmit(ctx->queue, 1, &si, p->fences[s]), "vkQueueSubmit");
    if (st != VITVK_OK)
        return st;
    p->slot_ticket[s] = p->next_ticket;
    p->slot_n[s] = n;
    *ticket = p->next_ticket++;
    return VITVK_OK;
}

/* The slot holding `ticket`, or -1 (with the error recorded). */
static int find_slot(vitvk_plan *p, uint64_t ticket, const char *fn)
{
    if (ticket == 0 || ticket >= p->next_ticket) {
        vk_fail(p->ctx, VITVK_ERR_INVALID_ARGUMENT, "%s: ticket %llu was never issued by this plan", fn,
                (unsigned long long)ticket);
        return -1;
    }
    uint32_t s = (uint32_t)((ticket - 1) % p->in_flight);
    if (p->slot_ticket[s] != ticket) {
        vk_fail(p->ctx, VITVK_ERR_INVALID_ARGUMENT, "%s: ticket %llu was already collected", fn,
                (unsigned long long)ticket);
        return -1;
    }
    return (int)s;
}

vitvk_status vitvk_plan_poll(vitvk_plan *p, uint64_t ticket)
{
    if (!p)
        return VITVK_ERR_INVALID_ARGUMENT;
    int s = find_slot(p, ticket, "vitvk_plan_poll");
    if (s < 0)
        return VITVK_ERR_INVALID_ARGUMENT;
    VkResult r = p->ctx->vkd.vkGetFenceStatus(p->ctx->device, p->fences[s]);
    return r == VK_NOT_READY ? VITVK_NOT_READY : vk_check(p->ctx, r, "vkGetFenceStatus");
}

vitvk_status vitvk_plan_wait(vitvk_plan *p, uint64_t ticket, uint64_t timeout_ns, float *logits, float *pooled)
{
    if (!p)
        return VITVK_ERR_INVALID_ARGUMENT;
    vitvk_context *ctx = p->ctx;
    int s = find_slot(p, ticket, "vitvk_plan_wait");
    if (s < 0)
        return VITVK_ERR_INVALID_ARGUMENT;
    if (logits && !p->model->has_classifier)
        return vk_fail(ctx, VITVK_ERR_INVALID_ARGUMENT, "this model has no classifier: ask for pooled only");
    VkResult r = ctx->vkd.vkWaitForFences(ctx->device, 1, &p->fences[s], VK_TRUE, timeout_ns);
    if (r == VK_TIMEOUT)
        return VITVK_NOT_READY;
    vitvk_status st = vk_check(ctx, r, "vkWaitForFences");
    if (st != VITVK_OK)
        return st;
    p->slot_ticket[s] = 0;
    return plan_collect(p->slots[s], p->slot_n[s], logits, pooled);
}
