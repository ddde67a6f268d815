/* gemm.c - the GEMM operator: bias, activation and residual fused in. */
#include <stdio.h>
#include <string.h>

#include "ops.h"

/* Useful work of C = A * W^T: 2MNK flops; A, W and C each moved once. */
static void gemm_cost(vk_program *p, const vk_gemm_args *g, bool fp16)
{
    uint64_t es = fp16 ? 2 : 4;
    vk_program_set_cost(p, 2ull * g->M * g->N * g->K,
                        es * ((uint64_t)g->M * g->K + (uint64_t)g->N * g->K + (uint64_t)g->M * g->N));
}

/* Whether gemm_tiled can run with t's tiles here: a workgroup of exactly
 * (BM / TM) x (BN / TN) invocations (the shader's index math assumes it),
 * and its shared memory (k-major A and W tiles with a column of padding,
 * the fused LayerNorm's partial sums and row statistics, declared whether
 * or not it is fused) within the device's limits. */
static bool tiled_fits(const vitvk_context *ctx, const vk_tuning *t)
{
    if (!t->gemm_tiled || !t->tiled_tm || !t->tiled_tn || !t->tiled_bm || t->tiled_wg < t->tiled_bm ||
        t->tiled_wg != (t->tiled_bm / t->tiled_tm) * (t->tiled_bn / t->tiled_tn))
        return false;
    uint64_t ln_tpr = t->tiled_wg / t->tiled_bm;
    uint64_t shared = 4ull * ((uint64_t)t->tiled_bk * (t->tiled_bm + 1) + (uint64_t)t->tiled_bk * (t->tiled_bn + 1) +
                              t->tiled_bm * ln_tpr + 2ull * t->tiled_bm);
    return vk_workgroup_fits(&ctx->caps, t->tiled_wg, shared);
}

bool op_gemm_fuses_layernorm(const vitvk_context *ctx, const vk_tuning *t, bool fp16, vk_gemm_kind kind)
{
    bool coopmat = t->gemm_coopmat && fp16 && kind == VK_GEMM_SAME;
    return !coopmat && tiled_fits(ctx, t) && t->tiled_wg % t->tiled_bm == 0; /* tiled_fits: tiled_bm > 0 */
}

/* The weight's side of whether the texel GEMM runs: one rule for op_gemm
 * and for the loader's choice of layout (op_gemm_w_block). Texel loads
 * need whole vec4 rows (K % 4 == 0); in an fp32 plan the heads' kind (fp16
 * weights in fp16 plans) is all fp32. */
static bool texel_weight_ok(const vitvk_context *ctx, const vk_tuning *t, bool fp16, vk_gemm_kind kind, uint32_t K,
                            uint64_t texels)
{
    return t->gemm_texel && (kind == VK_GEMM_SAME || !fp16) && K % 4 == 0 && ctx->caps.storage_texel &&
           texels <= ctx->caps.max_texel_elements;
}

uint32_t op_gemm_w_block(const vitvk_context *ctx, uint32_t N, uint32_t K, bool fp16, vk_gemm_kind kind)
{
    vk_tuning t;
    vk_tuning_for(ctx, &t);
    uint32_t nb = t.texel_wg * t.texel_tn;
    bool texel = texel_weight_ok(ctx, &t, fp16, kind, K, (uint64_t)N * K / 4);
    return texel && nb && N % nb == 0 ? nb : 0;
}

void op_gemm_w_permute(const float *src, float *dst, uint32_t N, uint32_t K, uint32_t nb)
{
    uint32_t K4 = K / 4;
    for (uint32_t n = 0; n < N; n++)
        for (uint32_t k = 0; k < K; k++)
            dst[((((size_t)(n / nb) * K4 + k / 4) * nb + n % nb) << 2) + k % 4] = src[(size_t)n * K + k];
}

/* The broadcast texel GEMM's rows in at most two dispatches: the whole
 * TM-row blocks, then the rest in blocks of the fewest 8-row groups that
 * cover it, so that ViT's 197 tokens cost 192 + 8 rows with TM = 24 rather
 * than 216, and one [CLS] row costs 8 rather than 24. Only where that
 * saves a sixteenth of the rows: a dispatch has a fixed cost, and Swin-T
 * (3136 and 784 rows save 8) was no faster split. Returns the count;
 * m0[i], rows[i], tm[i] describe part i. */
static uint32_t texel_row_parts(uint32_t M, uint32_t TM, uint32_t m0[2], uint32_t rows[2], uint32_t tm[2])
{
    uint32_t full = M / TM * TM, tail = vk_div_up(M - full, 8) * 8;
    uint32_t saved = vk_div_up(M, TM) * TM - (full + tail);
    if (tail == 0 || tail >= TM || saved * 16 < M) {
        m0[0] = 0, rows[0] = M, tm[0] = TM;
        return 1;
    }
    uint32_t n = 0;
    if (full)
        m0[n] = 0, rows[n] = full, tm[n++] = TM;
    m0[n] = full, rows[n] = M - full, tm[n++] = tail;
    return n;
}

/* Why the storage-buffer GEMM runs where the tuning prefers the texel one
 * (a profile's variant name, so that bench says it). */
static const char *storage_gemm_why(const vitvk_context *ctx, const vk_tuning *t, bool fp16, vk_gemm_kind kind,
                                    const vk_gemm_args *g)
{
    if (t->gemm_tiled)
        return "the tiled GEMM's workgroup or shared memory is over this device's limits";
    if (!t->gemm_texel)
        return "the tuning's choice";
    if (!ctx->caps.storage_texel)
        return "no storage texel buffers";
    if (kind != VK_GEMM_SAME && fp16)
        return "fp16 weights into fp32 outputs";
    if (g->K % 4 || g->lda % 4)
        return "K or the row stride not a multiple of 4";
    if (g->w->size / (fp16 ? 8u : 16u) > ctx->caps.max_texel_elements)
        return "W exceeds maxTexelBufferElements";
    return "A exceeds maxTexelBufferElements";
}

/* The kernels differ in their specialization constants, bindings and
 * grid; everything around them (push constants, binding order, cost,
 * variant name) is one path. */
vitvk_status op_gemm(vk_program *p, const vk_tuning *t, bool fp16, vk_gemm_kind kind, const vk_gemm_args *g,
                     const char *label)
{
    if ((g->ln_g || g->ln_b) && !op_gemm_fuses_layernorm(p->ctx, t, fp16, kind))
        return vk_fail(p->ctx, VITVK_ERR_INVALID_ARGUMENT, "internal: %s: this GEMM cannot fuse a LayerNorm", label);
    bool ln = g->ln_g && g->ln_b;
    uint32_t push[8] = {g->M, g->N, g->K, g->lda, g->ldc, g->ldr, 0, 0};
    uint32_t spec[14];
    char variant_buf[96];
    uint32_t nspec, nbuf = 5, gx, gy;
    /* Row ranges dispatched separately (texel_row_parts); spec[1] is TM. */
    uint32_t nparts = 1, part_m0[2] = {0, 0}, part_rows[2] = {g->M, 0}, part_tm[2] = {0, 0};
    vk_shader_id id;
    const char *variant = NULL;
    /* Absent operands are bound to a buffer that is never read (the
     * specialization constant removes the load), keeping one layout. */
    const vk_buffer *absent = g->w;
#define SPEC(...)                                                                  \
    do {                                                                           \
        const uint32_t v_[] = {__VA_ARGS__};                                       \
        memcpy(spec, v_, sizeof v_);                                               \
        nspec = (uint32_t)(sizeof v_ / sizeof v_[0]);                              \
    } while (0)
    bool texel = texel_weight_ok(p->ctx, t, fp16, kind, g->K, g->w->size / (fp16 ? 8u : 16u)) && g->lda % 4 == 0 &&
                 vk_texel_view_ok(p->ctx, fp16, g->a);
    uint32_t wb = g->w->w_block;
    /* The loader blocks exactly the weights op_gemm_w_block says the texel
     * GEMM reads; where this plan's activations exceed the device's
     * texel-buffer limit (maxTexelBufferElements: 65536 on SwiftShader and
     * older Mali), the storage-buffer GEMM reads them blocked instead. */
    if (wb && texel && (wb != t->texel_wg * t->texel_tn || g->N % wb != 0))
        return vk_fail(p->ctx, VITVK_ERR_INVALID_ARGUMENT,
                       "internal: %s: a weight blocked by %u columns cannot be read here", label, wb);
    if (texel) {
        bool bcast = t->texel_bcast && t->texel_tm % 8 == 0 && vk_broadcast_ok(p->ctx, t->texel_wg);
        id = bcast ? SH_GEMM_TEXEL_BCAST : SH_GEMM_TEXEL;
        absent = g->c;
        SPEC(t->texel_wg, t->texel_tm, t->texel_tn, (uint32_t)g->act, g->bias != NULL, g->res != NULL, wb);
        gx = vk_div_up(vk_div_up(g->N, t->texel_tn), t->texel_wg);
        gy = vk_div_up(g->M, t->texel_tm);
        if (bcast)
            nparts = texel_row_parts(g->M, t->texel_tm, part_m0, part_rows, part_tm);
        static const char *const names[2][2][2] = {
            {{"gemm_texel.f32 (A rows shared, W rows per lane)", "gemm_texel.f32 (A rows shared, W blocked)"},
             {"gemm_texel.f16 (A rows shared, W rows per lane)", "gemm_texel.f16 (A rows shared, W blocked)"}},
            {{"gemm_texel.b32 (A rows broadcast, W rows per lane)", "gemm_texel.b32 (A rows broadcast, W blocked)"},
             {"gemm_texel.b16 (A rows broadcast, W rows per lane)", "gemm_texel.b16 (A rows broadcast, W blocked)"}}};
        variant = names[bcast][fp16][wb != 0];
    } else if (!wb && t->gemm_coopmat == VK_COOPMAT_KHR && fp16 && kind == VK_GEMM_SAME) {
        /* Small grids (ViT's 197 rows at batch 1 make 12 tiles of 128 x
         * 128 for N = 768) leave most of a GPU idle: there, subgroups of
         * 2 x 2 matrices, 64-deep k steps, and the largest square tile
         * that still makes 256 workgroups, down to one subgroup's part.
         * H200, ViT-B/16 fp16 at batch 1, GEMM time: 2.42 ms with
         * 32x32x64 tiles, 2.51 with 32x32x32, 2.79 with 64x64x32, 3.24
         * with the large tiles shrunk by halving (tools/coopmat_sweep.sh).
         * Large grids keep the tuning's tile: at batch 64 every tiling
         * tried was within 10 % of it. */
        uint32_t bm = t->cm_bm, bn = t->cm_bn, bk = t->cm_bk, wm = t->cm_wm, wn = t->cm_wn;
        if (!t->cm_force && vk_div_up(g->M, bm) * vk_div_up(g->N, bn) < 256) {
            wm = 2 * t->cm_m, wn = 2 * t->cm_n, bm = 2 * wm, bn = 2 * wn;
            while (vk_div_up(g->M, bm) * vk_div_up(g->N, bn) < 256 && bm > wm && bn > wn)
                bm /= 2, bn /= 2;
            uint32_t nsg = (bm / wm) * (bn / wn);
            bk = 64 % t->cm_k == 0 &&
                         vk_coopmat_shared_bytes(bm, bn, 64, nsg, t->cm_m, t->cm_n) <= p->ctx->caps.shared_memory
                     ? 64
                     : t->cm_bk;
        }
        uint32_t wg = (bm / wm) * (bn / wn) * t->cm_sg;
        bool vec = g->K % 8 == 0 && g->lda % 8 == 0;
        id = t->cm_acc16 ? SH_GEMM_COOPMAT_H16 : SH_GEMM_COOPMAT;
        SPEC(wg, bm, bn, bk, wm, wn, t->cm_m, t->cm_n, t->cm_k, (uint32_t)g->act, g->bias != NULL,
             g->res != NULL, vec, t->cm_sg);
        gx = vk_div_up(g->N, bn);
        gy = vk_div_up(g->M, bm);
        snprintf(variant_buf, sizeof variant_buf, "gemm_coopmat.%s %ux%ux%u, %ux%ux%u fp16 -> %s%s",
                 t->cm_acc16 ? "h16" : "f16", bm, bn, bk, t->cm_m, t->cm_n, t->cm_k, t->cm_acc16 ? "fp16" : "fp32",
                 vec ? "" : ", scalar loads");
        variant = vk_intern(p->ctx, variant_buf);
    } else if (!wb && t->gemm_coopmat == VK_COOPMAT_NV && fp16 && kind == VK_GEMM_SAME &&
               vk_workgroup_fits(&p->ctx->caps, VK_COOPMAT_NV_WG, VK_COOPMAT_NV_SHARED)) {
        id = SH_GEMM_COOPMAT_NV;
        SPEC((uint32_t)g->act, g->bias != NULL, g->res != NULL);
        gx = vk_div_up(g->N, 64);
        gy = vk_div_up(g->M, 64);
        variant = "gemm_coopmat_nv 64x64x32, 16x16x16 fp16 -> fp32";
    } else if (!wb && tiled_fits(p->ctx, t)) {
        static const char *const names[2][2] = {
            {"gemm_tiled.f32 64x64x16, 4x4", "gemm_tiled.f32 64x64x16, 4x4, LayerNorm fused"},
            {"gemm_tiled.f16 64x64x16, 4x4", "gemm_tiled.f16 64x64x16, 4x4, LayerNorm fused"}};
        id = kind == VK_GEMM_W16 ? SH_GEMM_TILED_W16 : SH_GEMM_TILED;
        SPEC(t->tiled_wg, t->tiled_bm, t->tiled_bn, t->tiled_bk, t->tiled_tm, t->tiled_tn, (uint32_t)g->act,
             g->bias != NULL, g->res != NULL, ln, t->tiled_wg / t->tiled_bm);
        nbuf = 7;
        memcpy(&push[6], &g->ln_eps, 4);
        gx = vk_div_up(g->N, t->tiled_bn);
        gy = vk_div_up(g->M, t->tiled_bm);
        variant = names[fp16][ln];
    } else { /* the only kernel besides the texel one that reads blocked W */
        id = kind == VK_GEMM_W16 ? SH_GEMM_W16 : SH_GEMM;
        SPEC(t->gemm_wg, t->gemm_tm, t->gemm_tn, (uint32_t)g->act, g->bias != NULL, g->res != NULL, wb);
        gx = vk_div_up(vk_div_up(g->N, t->gemm_tn), t->gemm_wg);
        gy = vk_div_up(g->M, t->gemm_tm);
        char blocked[32] = "";
        if (wb)
            snprintf(blocked, sizeof blocked, ", W blocked by %u", wb);
        snprintf(variant_buf, sizeof variant_buf, "gemm.%s (storage buffers%s: %s)",
                 kind == VK_GEMM_W16 ? "w16" : fp16 ? "f16" : "f32", blocked,
                 storage_gemm_why(p->ctx, t, fp16, kind, g));
        variant = vk_intern(p->ctx, variant_buf);
    }
#undef SPEC
    const vk_buffer *bufs[7] = {g->a, g->w, g->bias ? g->bias : absent, g->res ? g->res : g->c, g->c,
                                ln ? g->ln_g : g->w, ln ? g->ln_b : g->w};
    vk_kernel *k;
    vitvk_status st = vk_kernel_get(p->ctx, id, fp16, &k);
    for (uint32_t i = 0; i < nparts && st == VITVK_OK; i++) {
        vk_gemm_args part = *g;
        if (part_tm[i]) {
            spec[1] = part_tm[i];
            gy = vk_div_up(part_rows[i], part_tm[i]);
            part.M = part_rows[i];
            push[6] = part_m0[i];
        }
        st = vk_program_add(p, k, spec, nspec, bufs, nbuf, 1u << 4, push, sizeof push, gx, gy, 1, label);
        if (st == VITVK_OK) {
            gemm_cost(p, &part, fp16);
            if (variant)
                vk_program_set_variant(p, variant);
        }
    }
    return st;
}
