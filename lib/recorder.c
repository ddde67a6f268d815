/* recorder.c - a plan's dispatches: descriptor sets written once, and
 * barriers derived from which buffers each dispatch reads and writes.
 *
 * A barrier is needed before a dispatch that reads or writes a buffer
 * written since the last barrier (read-after-write, write-after-write), or
 * writes a buffer read since then (write-after-read). Independent
 * dispatches in a row (Q/K/V of different layers, say) run without one. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

void vk_program_init(vk_program *p, vitvk_context *ctx)
{
    memset(p, 0, sizeof *p);
    p->ctx = ctx;
}

vitvk_status vk_program_add(vk_program *p, vk_kernel *k, const uint32_t *spec, uint32_t spec_count,
                            const vk_buffer *const *buffers, uint32_t nbuf, uint32_t write_mask, const void *push,
                            uint32_t push_size, uint32_t gx, uint32_t gy, uint32_t gz, const char *label)
{
    vitvk_context *ctx = p->ctx;
    if (nbuf != k->bindings || push_size != k->push_size)
        return vk_fail(ctx, VITVK_ERR_INVALID_ARGUMENT, "internal: %s bound with %u buffers / %u push bytes", label,
                       nbuf, push_size);
    const uint32_t *maxg = ctx->caps.max_group_count;
    if (gx == 0 || gy == 0 || gz == 0)
        return VITVK_OK; /* nothing to do (an empty batch) */
    if (gx > maxg[0] || gy > maxg[1] || gz > maxg[2])
        return vk_fail(ctx, VITVK_ERR_LIMIT, "%s needs %ux%ux%u workgroups, over this device's limit %ux%ux%u", label,
                       gx, gy, gz, maxg[0], maxg[1], maxg[2]);
    if (p->count == p->cap) {
        size_t nc = p->cap ? p->cap * 2 : 64;
        vk_dispatch *ni = vk_realloc(ctx, p->items, nc * sizeof *ni);
        if (!ni)
            return vk_fail(ctx, VITVK_ERR_OUT_OF_HOST_MEMORY, "out of host memory");
        p->items = ni;
        p->cap = nc;
    }
    vk_dispatch *d = &p->items[p->count];
    memset(d, 0, sizeof *d);
    vitvk_status st = vk_kernel_pipeline(ctx, k, spec, spec_count, &d->pipeline);
    if (st != VITVK_OK)
        return st;
    d->kernel = k;
    for (uint32_t i = 0; i < nbuf; i++)
        d->buffers[i] = buffers[i];
    d->write_mask = write_mask;
    memcpy(d->push, push, push_size);
    d->groups[0] = gx;
    d->groups[1] = gy;
    d->groups[2] = gz;
    d->label = label;
    d->variant = k->variant;
    p->count++;
    return VITVK_OK;
}

vitvk_status vk_program_finalize(vk_program *p)
{
    vitvk_context *ctx = p->ctx;
    if (p->count == 0)
        return VITVK_OK;
    uint32_t storage = 0, texel = 0, image = 0;
    for (size_t i = 0; i < p->count; i++) {
        const vk_kernel *k = p->items[i].kernel;
        for (uint32_t b = 0; b < k->bindings; b++) {
            if ((k->image_mask >> b) & 1u)
                image++;
            else if ((k->texel_mask >> b) & 1u)
                texel++;
            else
                storage++;
        }
    }
    VkDescriptorPoolSize ps[3];
    uint32_t nps = 0;
    if (storage)
        ps[nps++] = (VkDescriptorPoolSize){.type = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, .descriptorCount = storage};
    if (texel)
        ps[nps++] = (VkDescriptorPoolSize){.type = VK_DESCRIPTOR_TYPE_STORAGE_TEXEL_BUFFER, .descriptorCount = texel};
    if (image)
        ps[nps++] = (VkDescriptorPoolSize){.type = VK_DESCRIPTOR_TYPE_SAMPLED_IMAGE, .descriptorCount = image};
    VkDescriptorPoolCreateInfo dpci = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
        .maxSets = (uint32_t)p->count,
        .poolSizeCount = nps,
        .pPoolSizes = ps,
    };
    vitvk_status st = vk_check(ctx, ctx->vkd.vkCreateDescriptorPool(ctx->device, &dpci, ctx->vk_alloc, &p->pool),
                               "vkCreateDescriptorPool");
    for (size_t i = 0; st == VITVK_OK && i < p->count; i++) {
        vk_dispatch *d = &p->items[i];
        VkDescriptorSetAllocateInfo ai = {
            .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
            .descriptorPool = p->pool,
            .descriptorSetCount = 1,
            .pSetLayouts = &d->kernel->set_layout,
        };
        st = vk_check(ctx, ctx->vkd.vkAllocateDescriptorSets(ctx->device, &ai, &d->set), "vkAllocateDescriptorSets");
        if (st != VITVK_OK)
            break;
        VkDescriptorBufferInfo bi[VK_MAX_BINDINGS];
        VkDescriptorImageInfo ii[VK_MAX_BINDINGS];
        VkWriteDescriptorSet w[VK_MAX_BINDINGS];
        for (uint32_t b = 0; st == VITVK_OK && b < d->kernel->bindings; b++) {
            w[b] = (VkWriteDescriptorSet){
                .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
                .dstSet = d->set,
                .dstBinding = b,
                .descriptorCount = 1,
            };
            if ((d->kernel->image_mask >> b) & 1u) {
                ii[b] = (VkDescriptorImageInfo){.imageView = d->images[b], .imageLayout = d->image_layouts[b]};
                w[b].descriptorType = VK_DESCRIPTOR_TYPE_SAMPLED_IMAGE;
                w[b].pImageInfo = &ii[b];
            } else if ((d->kernel->texel_mask >> b) & 1u) {
                /* A view of whole vec4 texels; the op guarantees the data it
                 * reads is texel-aligned. */
                VkFormat format = (d->kernel->texel32_mask >> b) & 1u ? VK_FORMAT_R32G32B32A32_SFLOAT
                                                                      : d->kernel->texel_format;
                VkDeviceSize texel = format == VK_FORMAT_R16G16B16A16_SFLOAT ? 8 : 16;
                VkBufferViewCreateInfo bvci = {
                    .sType = VK_STRUCTURE_TYPE_BUFFER_VIEW_CREATE_INFO,
                    .buffer = d->buffers[b]->buffer,
                    .format = format,
                    .offset = 0,
                    .range = d->buffers[b]->size / texel * texel,
                };
                st = vk_check(ctx, ctx->vkd.vkCreateBufferView(ctx->device, &bvci, ctx->vk_alloc, &d->views[b]),
                              "vkCreateBufferView");
                w[b].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_TEXEL_BUFFER;
                w[b].pTexelBufferView = &d->views[b];
            } else {
                const vk_buffer *buf = d->buffers[b];
                bi[b] = (VkDescriptorBufferInfo){.buffer = buf->buffer,
                                                 .offset = buf->bind_offset,
                                                 .range = buf->bind_range ? buf->bind_range : VK_WHOLE_SIZE};
                w[b].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
                w[b].pBufferInfo = &bi[b];
            }
        }
        if (st != VITVK_OK)
            break;
        ctx->vkd.vkUpdateDescriptorSets(ctx->device, d->kernel->bindings, w, 0, NULL);
    }
    return st;
}

static bool in_set(const vk_buffer *const *set, size_t n, const vk_buffer *b)
{
    for (size_t i = 0; i < n; i++)
        if (set[i] == b)
            return true;
    return false;
}

void vk_program_bind_image(vk_program *p, uint32_t binding, VkImageView view, VkImageLayout layout)
{
    if (p->count && binding < VK_MAX_BINDINGS) {
        p->items[p->count - 1].images[binding] = view;
        p->items[p->count - 1].image_layouts[binding] = layout;
    }
}

void vk_program_set_cost(vk_program *p, uint64_t flops, uint64_t bytes)
{
    if (p->count) {
        p->items[p->count - 1].flops = flops;
        p->items[p->count - 1].bytes = bytes;
    }
}

void vk_program_set_variant(vk_program *p, const char *variant)
{
    if (p->count && variant)
        p->items[p->count - 1].variant = variant;
}

void vk_program_record(const vk_program *p, VkCommandBuffer cmd, VkQueryPool timestamps)
{
    const vitvk_context *ctx = p->ctx;
    /* Buffers written / read since the last barrier. A plan touches few
     * buffers per stretch between barriers, so linear sets are enough. */
    enum { SET_MAX = 64 };
    const vk_buffer *written[SET_MAX], *read[SET_MAX];
    size_t nw = 0, nr = 0;
    VkPipeline bound = VK_NULL_HANDLE;
    if (timestamps)
        ctx->vkd.vkCmdWriteTimestamp(cmd, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, timestamps, 0);
    for (size_t i = 0; i < p->count; i++) {
        const vk_dispatch *d = &p->items[i];
        bool hazard = false;
        for (uint32_t b = 0; b < d->kernel->bindings && !hazard; b++) {
            const vk_buffer *buf = d->buffers[b];
            bool writes = (d->write_mask >> b) & 1u;
            if (!buf) /* an image: not tracked */
                continue;
            if (in_set(written, nw, buf) || (writes && in_set(read, nr, buf)))
                hazard = true;
        }
        if (hazard || nw >= SET_MAX - VK_MAX_BINDINGS || nr >= SET_MAX - VK_MAX_BINDINGS) {
            VkMemoryBarrier mb = {
                .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT,
                .dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT,
            };
            ctx->vkd.vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                                          VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, 0, 1, &mb, 0, NULL, 0, NULL);
            nw = nr = 0;
        }
        for (uint32_t b = 0; b < d->kernel->bindings; b++) {
            const vk_buffer *buf = d->buffers[b];
            if (!buf)
                continue;
            if ((d->write_mask >> b) & 1u) {
                if (!in_set(written, nw, buf))
                    written[nw++] = buf;
            } else if (!in_set(read, nr, buf)) {
                read[nr++] = buf;
            }
        }
        if (d->pipeline != bound) {
            ctx->vkd.vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, d->pipeline);
            bound = d->pipeline;
        }
        ctx->vkd.vkCmdBindDescriptorSets(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, d->kernel->layout, 0, 1, &d->set, 0,
                                         NULL);
        if (d->kernel->push_size)
            ctx->vkd.vkCmdPushConstants(cmd, d->kernel->layout, VK_SHADER_STAGE_COMPUTE_BIT, 0,
                                        d->kernel->push_size, d->push);
        ctx->vkd.vkCmdDispatch(cmd, d->groups[0], d->groups[1], d->groups[2]);
        if (timestamps)
            ctx->vkd.vkCmdWriteTimestamp(cmd, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, timestamps, (uint32_t)i + 1);
    }
}

void vk_program_destroy(vk_program *p)
{
    for (size_t i = 0; p->ctx && i < p->count; i++)
        for (uint32_t b = 0; b < VK_MAX_BINDINGS; b++)
            if (p->items[i].views[b])
                p->ctx->vkd.vkDestroyBufferView(p->ctx->device, p->items[i].views[b], p->ctx->vk_alloc);
    if (p->ctx && p->pool)
        p->ctx->vkd.vkDestroyDescriptorPool(p->ctx->device, p->pool, p->ctx->vk_alloc);
    if (p->ctx)
        vk_free(p->ctx, p->items);
    memset(p, 0, sizeof *p);
}
