/* embed.c - patch extraction and token assembly (the patch projection
 * itself is a GEMM). */
#include "ops.h"

/* 1-D element grids split into x/y so that large tensors stay under the
 * 65535-group limit many devices have in x. */
static void grid(uint64_t count, uint32_t wg, uint32_t *gx, uint32_t *gy)
{
    uint64_t groups = (count + wg - 1) / wg;
    uint32_t x = groups < 65535 ? (uint32_t)groups : 65535;
    *gx = x ? x : 1;
    *gy = (uint32_t)((groups + *gx - 1) / *gx);
}

vitvk_status op_patchify(vk_program *p, const vk_tuning *t, bool fp16, const vk_buffer *pixels,
                         const vk_buffer *out, uint32_t N, uint32_t C, uint32_t H, uint32_t W, uint32_t P)
{
    vk_kernel *k;
    vitvk_status st = vk_kernel_get(p->ctx, SH_PATCHIFY, fp16, &k);
    if (st != VITVK_OK)
        return st;
    uint64_t total = (uint64_t)N * (H / P) * (W / P) * C * P * P;
    uint32_t spec[1] = {t->elem_wg};
    uint32_t push[6] = {C, H, W, P, (uint32_t)total, 0};
    const vk_buffer *bufs[2] = {pixels, out};
    uint32_t gx, gy;
    grid(total, t->elem_wg, &gx, &gy);
    vitvk_status st_add = vk_program_add(p, k, spec, 1, bufs, 2, 1u << 1, push, sizeof push, gx, gy, 1, "patchify");
    if (st_add == VITVK_OK)
        vk_program_set_cost(p, 0, (4ull + (fp16 ? 2 : 4)) * total);
    return st_add;
}

vitvk_status op_embed(vk_program *p, const vk_tuning *t, bool fp16, const vk_buffer *patches,
                      const vk_buffer *prefix, const vk_buffer *pos, vk_pos_mode pos_mode, const vk_buffer *out,
                      uint32_t N, uint32_t T, uint32_t npre, uint32_t D)
{
    vk_kernel *k;
    vitvk_status st = vk_kernel_get(p->ctx, SH_EMBED, fp16, &k);
    if (st != VITVK_OK)
        return st;
    uint64_t total = (uint64_t)N * T * D;
    uint32_t spec[2] = {t->elem_wg, (uint32_t)pos_mode};
    uint32_t push[4] = {T, D, (uint32_t)total, npre};
    /* absent prefix / position tables are never read: bind the patches */
    const vk_buffer *bufs[4] = {patches, prefix ? prefix : patches, pos ? pos : patches, out};
    uint32_t gx, gy;
    grid(total, t->elem_wg, &gx, &gy);
    vitvk_status st_add = vk_program_add(p, k, spec, 2, bufs, 4, 1u << 3, push, sizeof push, gx, gy, 1, "embed");
    if (st_add == VITVK_OK)
        vk_program_set_cost(p, 0, 3ull * (fp16 ? 2 : 4) * total);
    return st_add;
}

vitvk_status op_activation(vk_program *p, const vk_tuning *t, bool fp16, vk_act act, const vk_buffer *in,
                           const vk_buffer *out, uint32_t count)
{
    vk_kernel *k;
    vitvk_status st = vk_kernel_get(p->ctx, SH_GELU, fp16, &k);
    if (st != VITVK_OK)
        return st;
    uint32_t spec[2] = {t->elem_wg, (uint32_t)act};
    uint32_t push[2] = {count, 0};
    const vk_buffer *bufs[2] = {in, out};
    uint32_t gx, gy;
    grid(count, t->elem_wg, &gx, &gy);
    vitvk_status st_add = vk_program_add(p, k, spec, 2, bufs, 2, 1u << 1, push, sizeof push, gx, gy, 1, "activation");
    if (st_add == VITVK_OK)
        vk_program_set_cost(p, 0, 2ull * (fp16 ? 2 : 4) * count);
    return st_add;
}

vitvk_status op_meanpool(vk_program *p, const vk_tuning *t, bool fp16, bool out32, const vk_buffer *x,
                         const vk_buffer *y, uint32_t N, uint32_t T, uint32_t D, uint32_t first)
{
    vk_kernel *k;
    vitvk_status st = vk_kernel_get(p->ctx, out32 ? SH_MEANPOOL_O32 : SH_MEANPOOL, fp16, &k);
    if (st != VITVK_OK)
        return st;
    uint32_t spec[1] = {t->elem_wg};
    uint32_t push[4] = {N, T, D, first};
    const vk_buffer *bufs[2] = {x, y};
    st = vk_program_add(p, k, spec, 1, bufs, 2, 1u << 1, push, sizeof push, vk_div_up((uint64_t)N * D, t->elem_wg), 1,
                        1, "mean pooling");
    if (st == VITVK_OK)
        vk_program_set_cost(p, 0, (fp16 ? 2ull : 4ull) * N * (T - first) * D);
    return st;
}
