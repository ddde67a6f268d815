/* host_alloc.c - the context's host memory: the caller's allocator when it
 * gave one (vitvk_context_desc.host_allocator), else the C library's. */
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Every block the library asks for holds plain C objects. */
#define HOST_ALIGN alignof(max_align_t)

void *vk_malloc(const vitvk_context *ctx, size_t size)
{
    const vitvk_allocator *a = &ctx->host_alloc;
    if (size == 0)
        size = 1; /* a NULL result always means failure */
    return a->alloc ? a->alloc(a->user, size, HOST_ALIGN) : malloc(size);
}

void *vk_calloc(const vitvk_context *ctx, size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size)
        return NULL;
    size_t n = count * size;
    void *p = vk_malloc(ctx, n);
    if (p)
        memset(p, 0, n ? n : 1);
    return p;
}

void *vk_realloc(const vitvk_context *ctx, void *ptr, size_t size)
{
    const vitvk_allocator *a = &ctx->host_alloc;
    if (size == 0)
        size = 1;
    return a->alloc ? a->realloc(a->user, ptr, size, HOST_ALIGN) : realloc(ptr, size);
}

void vk_free(const vitvk_context *ctx, void *ptr)
{
    const vitvk_allocator *a = &ctx->host_alloc;
    if (!ptr)
        return;
    if (a->alloc)
        a->free(a->user, ptr);
    else
        free(ptr);
}
