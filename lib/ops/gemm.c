/* gemm.c - the GEMM operator: bias, activation and residual fused in. */
#include <string.h>

#include "ops.h"

/* Useful work of C = A * W^T: 2MNK flops; A, W and C each moved once. */
static void gemm_cost(vk_program *p, const vk_gemm_args *g, bool fp16)
{
    uint64_t es = fp16 ? 2 : 4;
    vk_program_set_cost(p, 2ull * g->M * g->N * g->K,
                        es * ((uint64_t)g->M * g->K + (uint64_t)g->N * g->K + (uint64_t)g->M * g->N));
}

bool op_gemm_fuses_layernorm(const vk_tuning *t, bool fp16, vk_gemm_kind kind)
{
    bool coopmat = t->gemm_coopmat_nv && fp16 && kind == VK_GEMM_SAME;
    return t->gemm_tiled && !coopmat && t->tiled_wg % t->tiled_bm == 0;
}

vitvk_status op_gemm(vk_program *p, const vk_tuning *t, bool fp16, vk_gemm_kind kind, const vk_gemm_args *g,
                     const char *label)
{
    if ((g->ln_g || g->ln_b) && !op_gemm_fuses_layernorm(t, fp16, kind))
        return vk_fail(p->ctx, VITVK_ERR_INVALID_ARGUMENT, "internal: %s: this GEMM cannot fuse a LayerNorm", label);
    vk_kernel *k;
    /* Texel fetches need whole vec4 rows: K and lda multiples of 4. */
    bool texel = kind == VK_GEMM_SAME && t->gemm_texel && g->K % 4 == 0 && g->lda % 4 == 0;
    if (texel) {
        vitvk_status st = vk_kernel_get(p->ctx, SH_GEMM_TEXEL, fp16, &k);
        if (st != VITVK_OK)
            return st;
        uint32_t spec[6] = {t->texel_wg, t->texel_tm, t->texel_tn, (uint32_t)g->act, g->bias != NULL,
                            g->res != NULL};
        uint32_t push[8] = {g->M, g->N, g->K, g->lda, g->ldc, g->ldr, 0, 0};
        const vk_buffer *bufs[5] = {g->a, g->w, g->bias ? g->bias : g->c, g->res ? g->res : g->c, g->c};
        uint32_t gx = vk_div_up(vk_div_up(g->N, t->texel_tn), t->texel_wg);
        uint32_t gy = vk_div_up(g->M, t->texel_tm);
        st = vk_program_add(p, k, spec, 6, bufs, 5, 1u << 4, push, sizeof push, gx, gy, 1, label);
        if (st == VITVK_OK) {
            gemm_cost(p, g, fp16);
            vk_program_set_variant(p, fp16 ? "gemm_texel.f16 (A rows shared, W rows per lane)"
                                          : "gemm_texel.f32 (A rows shared, W rows per lane)");
        }
        return st;
    }
    if (t->gemm_coopmat_nv && fp16 && kind == VK_GEMM_SAME) {
        vitvk_status st = vk_kernel_get(p->ctx, SH_GEMM_COOPMAT_NV, fp16, &k);
        if (st != VITVK_OK)
            return st;
        uint32_t spec[3] = {(uint32_t)g->act, g->bias != NULL, g->res != NULL};
        uint32_t push[8] = {g->M, g->N, g->K, g->lda, g->ldc, g->ldr, 0, 0};
        const vk_buffer *bufs[5] = {g->a, g->w, g->bias ? g->bias : g->w, g->res ? g->res : g->c, g->c};
        st = vk_program_add(p, k, spec, 3, bufs, 5, 1u << 4, push, sizeof push, vk_div_up(g->N, 64),
                            vk_div_up(g->M, 64), 1, label);
        if (st == VITVK_OK) {
            gemm_cost(p, g, fp16);
            vk_program_set_variant(p, "gemm_coopmat_nv 64x64x32, 16x16x16 fp16 -> fp32");
        }
        return st;
    }
    if (t->gemm_tiled) {
        vitvk_status st = vk_kernel_get(p->ctx, kind == VK_GEMM_W16 ? SH_GEMM_TILED_W16 : SH_GEMM_TILED, fp16, &k);
        if (st != VITVK_OK)
            return st;
        bool ln = g->ln_g && g->ln_b;
        uint32_t spec[11] = {t->tiled_wg, t->tiled_bm, t->tiled_bn, t->tiled_bk, t->tiled_tm, t->tiled_tn,
                             (uint32_t)g->act, g->bias != NULL, g->res != NULL, ln, t->tiled_wg / t->tiled_bm};
        uint32_t push[8] = {g->M, g->N, g->K, g->lda, g->ldc, g->ldr, 0, 0};
        memcpy(&push[6], &g->ln_eps, 4);
        /* Absent operands are bound to a buffer the kernel never reads. */
        const vk_buffer *bufs[7] = {g->a, g->w, g->bias ? g->bias : g->w, g->res ? g->res : g->c, g->c,
                                    ln ? g->ln_g : g->w, ln ? g->ln_b : g->w};
        st = vk_program_add(p, k, spec, 11, bufs, 7, 1u << 4, push, sizeof push, vk_div_up(g->N, t->tiled_bn),
                            vk_div_up(g->M, t->tiled_bm), 1, label);
        if (st == VITVK_OK) {
            gemm_cost(p, g, fp16);
            static const char *const names[2][2] = {
                {"gemm_tiled.f32 64x64x16, 4x4", "gemm_tiled.f32 64x64x16, 4x4, LayerNorm fused"},
                {"gemm_tiled.f16 64x64x16, 4x4", "gemm_tiled.f16 64x64x16, 4x4, LayerNorm fused"}};
            vk_program_set_variant(p, names[fp16][ln]);
        }
        return st;
    }
    vitvk_status st = vk_kernel_get(p->ctx, kind == VK_GEMM_W16 ? SH_GEMM_W16 : SH_GEMM, fp16, &k);
    if (st != VITVK_OK)
        return st;
    uint32_t spec[6] = {t->gemm_wg, t->gemm_tm, t->gemm_tn, (uint32_t)g->act, g->bias != NULL, g->res != NULL};
    uint32_t push[8] = {g->M, g->N, g->K, g->lda, g->ldc, g->ldr, 0, 0};
    /* Absent operands are bound to a buffer that is never read (the
     * specialization constant removes the load), keeping one layout. */
    const vk_buffer *bufs[5] = {g->a, g->w, g->bias ? g->bias : g->w, g->res ? g->res : g->c, g->c};
    uint32_t gx = vk_div_up(vk_div_up(g->N, t->gemm_tn), t->gemm_wg);
    uint32_t gy = vk_div_up(g->M, t->gemm_tm);
    st = vk_program_add(p, k, spec, 6, bufs, 5, 1u << 4, push, sizeof push, gx, gy, 1, label);
    if (st == VITVK_OK)
        gemm_cost(p, g, fp16);
    return st;
}
