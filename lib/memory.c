/* memory.c - arenas: create many buffers, back them with few allocations.
 *
 * Weights, activations and staging each live in one arena. Buffers are
 * created first (so their requirements are known), then packed into blocks
 * no larger than the device's maxMemoryAllocationSize (and 1 GiB, which
 * every driver handles), each block one vkAllocateMemory. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "platform.h"

#define BLOCK_LIMIT (1ull << 30)
#define STAGING_BYTES (32u * 1024u * 1024u)

void vk_arena_init(vk_arena *a, vitvk_context *ctx, vk_mem_kind kind)
{
    memset(a, 0, sizeof *a);
    a->ctx = ctx;
    a->kind = kind;
}

vitvk_status vk_arena_add(vk_arena *a, VkDeviceSize size, const char *what, vk_buffer **out)
{
    vitvk_context *ctx = a->ctx;
    if (a->committed)
        return vk_fail(ctx, VITVK_ERR_INVALID_ARGUMENT, "internal: arena already committed");
    if (size == 0)
        size = 4;
    size = (size + 3) & ~(VkDeviceSize)3; /* vkCmdFillBuffer and 32-bit views want multiples of 4 */
    if (size > ctx->caps.max_storage_range)
        return vk_fail(ctx, VITVK_ERR_LIMIT,
                       "%s needs a %llu-byte buffer, over this device's maxStorageBufferRange (%llu); use a "
                       "smaller batch",
                       what, (unsigned long long)size, (unsigned long long)ctx->caps.max_storage_range);
    if (a->count == a->cap) {
        size_t nc = a->cap ? a->cap * 2 : 64;
        vk_buffer **nb = vk_realloc(ctx, a->buffers, nc * sizeof *nb);
        if (!nb)
            return vk_fail(ctx, VITVK_ERR_OUT_OF_HOST_MEMORY, "out of host memory");
        a->buffers = nb;
        a->cap = nc;
    }
    vk_buffer *b = vk_calloc(ctx, 1, sizeof *b);
    if (!b)
        return vk_fail(ctx, VITVK_ERR_OUT_OF_HOST_MEMORY, "out of host memory");
    VkBufferCreateInfo bci = {
        .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
        .size = size,
        .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_UNIFORM_TEXEL_BUFFER_BIT | VK_BUFFER_USAGE_STORAGE_TEXEL_BUFFER_BIT |
                 VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT,
        .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
    };
    vitvk_status st = vk_check(ctx, ctx->vkd.vkCreateBuffer(ctx->device, &bci, ctx->vk_alloc, &b->buffer), "vkCreateBuffer");
    if (st != VITVK_OK) {
        vk_free(ctx, b);
        return st;
    }
    b->size = size;
    a->buffers[a->count++] = b;
    *out = b;
    return VITVK_OK;
}

static int find_type(const VkPhysicalDeviceMemoryProperties *mp, uint32_t bits, VkMemoryPropertyFlags want)
{
    for (uint32_t i = 0; i < mp->memoryTypeCount; i++)
        if ((bits & (1u << i)) && (mp->memoryTypes[i].propertyFlags & want) == want)
            return (int)i;
    return -1;
}

static int choose_type(const vitvk_context *ctx, vk_mem_kind kind, uint32_t bits)
{
    const VkPhysicalDeviceMemoryProperties *mp = &ctx->memprops;
    const VkMemoryPropertyFlags local = VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT;
    const VkMemoryPropertyFlags vis = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT;
    const VkMemoryPropertyFlags coh = VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
    const VkMemoryPropertyFlags cached = VK_MEMORY_PROPERTY_HOST_CACHED_BIT;
    int t = -1;
    switch (kind) {
    case VK_MEM_DEVICE:
        /* On UMA devices (integrated GPUs, lavapipe) device memory is also
         * host visible, which lets weights be written without staging. */
        if (ctx->caps.type != VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU)
            t = find_type(mp, bits, local | vis | coh);
        if (t < 0)
            t = find_type(mp, bits, local);
        if (t < 0)
            t = find_type(mp, bits, 0);
        break;
    case VK_MEM_UPLOAD:
        t = find_type(mp, bits, vis | coh);
        if (t < 0)
            t = find_type(mp, bits, vis);
        break;
    case VK_MEM_READBACK:
        t = find_type(mp, bits, vis | coh | cached);
        if (t < 0)
            t = find_type(mp, bits, vis | cached);
        if (t < 0)
            t = find_type(mp, bits, vis);
        break;
    }
    return t;
}

vitvk_status vk_arena_commit(vk_arena *a)
{
    vitvk_context *ctx = a->ctx;
    if (a->committed)
        return VITVK_OK;
    a->committed = true;
    if (a->count == 0)
        return VITVK_OK;
    uint64_t limit = ctx->caps.max_alloc_size < BLOCK_LIMIT ? ctx->caps.max_alloc_size : BLOCK_LIMIT;

    VkMemoryRequirements *req = vk_calloc(ctx, a->count, sizeof *req);
    VkDeviceSize *block_size = vk_calloc(ctx, a->count, sizeof *block_size);
    uint32_t *block_bits = vk_calloc(ctx, a->count, sizeof *block_bits);
    if (!req || !block_size || !block_bits) {
        vk_free(ctx, req), vk_free(ctx, block_size), vk_free(ctx, block_bits);
        return vk_fail(ctx, VITVK_ERR_OUT_OF_HOST_MEMORY, "out of host memory");
    }
    /* Pack buffers into blocks in order. */
    uint32_t nblocks = 0;
    VkDeviceSize cursor = 0;
    uint64_t align_atom = ctx->caps.non_coherent_atom ? ctx->caps.non_coherent_atom : 1;
    for (size_t i = 0; i < a->count; i++) {
        vk_buffer *b = a->buffers[i];
        ctx->vkd.vkGetBufferMemoryRequirements(ctx->device, b->buffer, &req[i]);
        VkDeviceSize align = req[i].alignment > align_atom ? req[i].alignment : align_atom;
        if (req[i].size > limit) {
            unsigned long long size = (unsigned long long)req[i].size;
            vk_free(ctx, req), vk_free(ctx, block_size), vk_free(ctx, block_bits);
            return vk_fail(ctx, VITVK_ERR_LIMIT, "a %llu-byte buffer is over the device's allocation limit", size);
        }
        VkDeviceSize off = (cursor + align - 1) / align * align;
        if (nblocks == 0 || off + req[i].size > limit || !(block_bits[nblocks - 1] & req[i].memoryTypeBits)) {
            nblocks++;
            off = 0;
            block_bits[nblocks - 1] = req[i].memoryTypeBits;
        }
        block_bits[nblocks - 1] &= req[i].memoryTypeBits;
        b->block = nblocks - 1;
        b->offset = off;
        cursor = off + req[i].size;
        block_size[nblocks - 1] = cursor;
    }
    /* The budget is on device-local memory (VRAM on a discrete GPU; all of
     * it on UMA devices and lavapipe): host-visible staging on a discrete
     * GPU is system memory and is not counted. */
    uint64_t total = 0;
    for (uint32_t k = 0; k < nblocks; k++) {
        int type = choose_type(ctx, a->kind, block_bits[k]);
        if (type >= 0 && (ctx->memprops.memoryTypes[type].propertyFlags & VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT))
            total += block_size[k];
    }
    if (ctx->budget && total > ctx->budget - (ctx->device_bytes < ctx->budget ? ctx->device_bytes : ctx->budget)) {
        vk_free(ctx, req), vk_free(ctx, block_size), vk_free(ctx, block_bits);
        return vk_fail(ctx, VITVK_ERR_OUT_OF_DEVICE_MEMORY,
                       "over the device-memory budget: %.1f MiB more of device-local memory needed (%s), %.1f of "
                       "the %.1f MiB budget in use",
                       total / 1048576.0, a->kind == VK_MEM_DEVICE ? "buffers" : "staging",
                       ctx->device_bytes / 1048576.0, ctx->budget / 1048576.0);
    }
    a->blocks = vk_calloc(ctx, nblocks, sizeof *a->blocks);
    a->block_maps = vk_calloc(ctx, nblocks, sizeof *a->block_maps);
    a->block_coherent = vk_calloc(ctx, nblocks, sizeof *a->block_coherent);
    vitvk_status st = VITVK_OK;
    if (!a->blocks || !a->block_maps || !a->block_coherent)
        st = vk_fail(ctx, VITVK_ERR_OUT_OF_HOST_MEMORY, "out of host memory");
    for (uint32_t k = 0; st == VITVK_OK && k < nblocks; k++) {
        int type = choose_type(ctx, a->kind, block_bits[k]);
        if (type < 0) {
            st = vk_fail(ctx, VITVK_ERR_OUT_OF_DEVICE_MEMORY, "no suitable Vulkan memory type");
            break;
        }
        VkMemoryAllocateInfo mai = {
            .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
            .allocationSize = block_size[k],
            .memoryTypeIndex = (uint32_t)type,
        };
        st = vk_check(ctx, ctx->vkd.vkAllocateMemory(ctx->device, &mai, ctx->vk_alloc, &a->blocks[k]), "vkAllocateMemory");
        if (st != VITVK_OK)
            break;
        a->block_count = k + 1;
        a->bytes += block_size[k];
        VkMemoryPropertyFlags f = ctx->memprops.memoryTypes[type].propertyFlags;
        if (f & VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT) {
            a->local_bytes += block_size[k];
            ctx->device_bytes += block_size[k];
        }
        a->block_coherent[k] = (f & VK_MEMORY_PROPERTY_HOST_COHERENT_BIT) != 0;
        if (f & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT)
            st = vk_check(ctx, ctx->vkd.vkMapMemory(ctx->device, a->blocks[k], 0, VK_WHOLE_SIZE, 0, &a->block_maps[k]),
                          "vkMapMemory");
        /* A CPU device's memory is host memory, and here still untouched.
         * Its GEMMs stream weights through it, a new 4 KiB page every few
         * k steps: on lavapipe (ViT-B/16 fp32, 2-core Xeon VM, four
         * paired runs) passes in 2 MiB pages took 3.6% less time on
         * average (three 5 - 7% faster, one 2% slower). */
        if (st == VITVK_OK && ctx->caps.type == VK_PHYSICAL_DEVICE_TYPE_CPU && a->block_maps[k])
            plat_prefer_huge_pages(a->block_maps[k], (size_t)block_size[k]);
    }
    for (size_t i = 0; st == VITVK_OK && i < a->count; i++) {
        vk_buffer *b = a->buffers[i];
        st = vk_check(ctx, ctx->vkd.vkBindBufferMemory(ctx->device, b->buffer, a->blocks[b->block], b->offset),
                      "vkBindBufferMemory");
        if (a->block_maps[b->block])
            b->mapped = (uint8_t *)a->block_maps[b->block] + b->offset;
    }
    vk_free(ctx, req);
    vk_free(ctx, block_size);
    vk_free(ctx, block_bits);
    return st;
}

static vitvk_status sync_range(vk_arena *a, const vk_buffer *b, bool flush)
{
    if (!b->mapped || a->block_coherent[b->block])
        return VITVK_OK;
    vitvk_context *ctx = a->ctx;
    uint64_t atom = ctx->caps.non_coherent_atom ? ctx->caps.non_coherent_atom : 1;
    VkDeviceSize start = b->offset / atom * atom;
    VkMappedMemoryRange r = {
        .sType = VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE,
        .memory = a->blocks[b->block],
        .offset = start,
        .size = VK_WHOLE_SIZE,
    };
    return flush ? vk_check(ctx, ctx->vkd.vkFlushMappedMemoryRanges(ctx->device, 1, &r), "vkFlushMappedMemoryRanges")
                 : vk_check(ctx, ctx->vkd.vkInvalidateMappedMemoryRanges(ctx->device, 1, &r),
                            "vkInvalidateMappedMemoryRanges");
}

vitvk_status vk_buffer_flush(vk_arena *a, const vk_buffer *b) { return sync_range(a, b, true); }
vitvk_status vk_buffer_invalidate(vk_arena *a, const vk_buffer *b) { return sync_range(a, b, false); }

void vk_arena_destroy(vk_arena *a)
{
    if (!a->ctx)
        return;
    vitvk_context *ctx = a->ctx;
    for (size_t i = 0; i < a->count; i++) {
        ctx->vkd.vkDestroyBuffer(ctx->device, a->buffers[i]->buffer, ctx->vk_alloc);
        vk_free(ctx, a->buffers[i]);
    }
    for (uint32_t k = 0; k < a->block_count; k++) {
        if (a->block_maps && a->block_maps[k])
            ctx->vkd.vkUnmapMemory(ctx->device, a->blocks[k]);
        ctx->vkd.vkFreeMemory(ctx->device, a->blocks[k], ctx->vk_alloc);
    }
    ctx->device_bytes -= a->local_bytes;
    vk_free(ctx, a->buffers);
    vk_free(ctx, a->blocks);
    vk_free(ctx, a->block_maps);
    vk_free(ctx, a->block_coherent);
    memset(a, 0, sizeof *a);
}

vitvk_status vk_upload(vitvk_context *ctx, vk_arena *arena, vk_buffer *dst, const void *src, size_t size)
{
    if (dst->mapped) {
        memcpy(dst->mapped, src, size);
        return vk_buffer_flush(arena, dst);
    }
    vk_arena staging;
    vk_arena_init(&staging, ctx, VK_MEM_UPLOAD);
    size_t chunk = size < STAGING_BYTES ? size : STAGING_BYTES;
    vk_buffer *sb;
    vitvk_status st = vk_arena_add(&staging, chunk, "staging", &sb);
    if (st == VITVK_OK)
        st = vk_arena_commit(&staging);
    for (size_t off = 0; st == VITVK_OK && off < size; off += chunk) {
        size_t n = size - off < chunk ? size - off : chunk;
        memcpy(sb->mapped, (const uint8_t *)src + off, n);
        st = vk_buffer_flush(&staging, sb);
        VkCommandBuffer cmd;
        if (st == VITVK_OK)
            st = vk_begin_once(ctx, &cmd);
        if (st != VITVK_OK)
            break;
        VkBufferCopy region = {.srcOffset = 0, .dstOffset = off, .size = (n + 3) & ~(size_t)3};
        if (region.dstOffset + region.size > dst->size)
            region.size = n;
        ctx->vkd.vkCmdCopyBuffer(cmd, sb->buffer, dst->buffer, 1, &region);
        st = vk_end_once(ctx, cmd);
    }
    vk_arena_destroy(&staging);
    return st;
}
