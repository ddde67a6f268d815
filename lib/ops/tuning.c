/* tuning.c - tile and workgroup sizes per device class.
 *
 * lavapipe runs each workgroup on one CPU thread, 8 invocations per SIMD
 * step: small groups spread work over the cores, and a wide register block
 * amortises loads (gemm_texel 16 x 8: ViT-B/16 fp32 1.42-1.66 s against
 * 2.0-2.2 s with 8 x 2 on the 2-core development VM; 12 x 8, 8 x 8 and
 * 32 x 4 within noise of it). 18 rows rather than 16: ViT's 197 tokens
 * take 11 blocks of 18 (198 rows computed) instead of 13 of 16 (208), and
 * Swin's 196 and 49 fit better too (ViT-B/16 fp32, three paired runs:
 * mean median 1.21 s against 1.27 s, best run lower in all three).
 * Where the subgroup is those 8 lanes with shuffle, rows of A go round by
 * subgroupShuffle from a constant lane, one texel load per 8 rows, and so
 * do the attention's keys and values: llvmpipe compiles
 * such a shuffle to one or two register permutes (22.3 and 25), while its
 * subgroupBroadcast is a loop over the lanes on 22.3, and Mesa 25 makes
 * imageLoad an out-of-line call. ViT-B/16 fp32 on the 2-core VM, Mesa
 * 22.3: the GEMM loop 6.0 cycles per accumulator and texel against 9.1
 * with 18 x 8 (replayed alone); whole passes, six alternating runs:
 * median 0.93 - 1.13 s against 1.09 - 1.34 s. Mesa 25: 0.8 - 1.3 s
 * against 2.7 - 3.0 s with the plain kernel (16 x 8, 8 x 16 and 16 x 16 no
 * better within the VM's noise). Those figures are from 8 x 8 blocks on a
 * Zen 3 VM. On a 2-core Xeon VM with AVX-512 (Mesa 22.3, three alternating
 * rounds, ViT-B/16 fp32) 24 x 8 blocks took 0.50 - 0.55 s against 0.61 -
 * 0.65 s for 8 x 8, with 16 x 8, 16 x 12, 16 x 16 and 32 x 8 between: a
 * W texel's load and transpose are shared by 24 rows instead of 8, which
 * outweighs the spilled accumulators. The rows that do not fill a 24-row
 * block go in a second dispatch of 8-row groups (op_gemm), so 197 tokens
 * cost 200 rows, not 216. The 18 x 8 plain kernel stays for CPU devices
 * without 8-lane shuffle. GPUs want more invocations per group. */
#include <stdio.h>
#include <string.h>

#include "ops.h"

int vk_act_from_name(const char *name)
{
    static const struct { const char *name; vk_act act; } table[] = {
        {"gelu", VK_ACT_GELU},           {"gelu_python", VK_ACT_GELU},
        {"gelu_new", VK_ACT_GELU_TANH},  {"gelu_pytorch_tanh", VK_ACT_GELU_TANH},
        {"gelu_fast", VK_ACT_GELU_TANH}, {"quick_gelu", VK_ACT_QUICK_GELU},
        {"relu", VK_ACT_RELU},           {"silu", VK_ACT_SILU},
        {"swish", VK_ACT_SILU},          {"tanh", VK_ACT_TANH},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strcmp(name, table[i].name) == 0)
            return (int)table[i].act;
    return -1;
}

bool vk_broadcast_ok(const vitvk_context *ctx, uint32_t wg)
{
    return wg == 8 && ctx->caps.subgroup_size == 8 && ctx->caps.subgroup_shuffle;
}

uint64_t vk_coopmat_shared_bytes(uint32_t bm, uint32_t bn, uint32_t bk, uint32_t nsg, uint32_t m, uint32_t n)
{
    return 2ull * (bm + bn) * (bk / 8 + 1) * 16 + (uint64_t)nsg * m * n * 4;
}

bool vk_coopmat_tile_check(const vitvk_context *ctx, const uint32_t tile[8], char *why, size_t why_size)
{
    uint32_t bm = tile[0], bn = tile[1], bk = tile[2], wm = tile[3], wn = tile[4], m = tile[5], n = tile[6], k = tile[7];
    const vitvk_device_info *d = &ctx->info;
    bool listed = false;
    for (uint32_t i = 0; i < d->coopmat_khr_count; i++)
        listed |= d->coopmat_khr[i].m == m && d->coopmat_khr[i].n == n && d->coopmat_khr[i].k == k &&
                  d->coopmat_khr[i].a == VITVK_COMPONENT_F16 && d->coopmat_khr[i].b == VITVK_COMPONENT_F16;
    if (!ctx->caps.coopmat_khr) {
        snprintf(why, why_size, "coopmat_tile: %s has no usable KHR cooperative matrices", d->name);
        return false;
    }
    if (!listed) {
        snprintf(why, why_size, "coopmat_tile: %s lists no %ux%ux%u fp16 cooperative-matrix shape", d->name, m, n, k);
        return false;
    }
    if (!bm || !bn || !bk || !wm || !wn || bm % wm || bn % wn || wm % m || wn % n || bk % k || bk % 8) {
        snprintf(why, why_size, "coopmat_tile: %ux%ux%u with subgroup tiles %ux%u and matrices %ux%ux%u: BM and BN "
                 "must be multiples of WM and WN, those of M and N, and BK of K and 8", bm, bn, bk, wm, wn, m, n, k);
        return false;
    }
    uint32_t nsg = (bm / wm) * (bn / wn);
    uint64_t shared = vk_coopmat_shared_bytes(bm, bn, bk, nsg, m, n);
    if (!vk_workgroup_fits(&ctx->caps, (uint64_t)nsg * ctx->caps.subgroup_size, shared)) {
        uint32_t inv = ctx->caps.max_group_invocations < ctx->caps.max_group_size[0] ? ctx->caps.max_group_invocations
                                                                                     : ctx->caps.max_group_size[0];
        snprintf(why, why_size, "coopmat_tile: %ux%ux%u needs %u invocations and %llu bytes of shared memory; %s "
                 "allows %u and %u", bm, bn, bk, nsg * ctx->caps.subgroup_size, (unsigned long long)shared, d->name,
                 inv, ctx->caps.shared_memory);
        return false;
    }
    return true;
}

/* The tensor-core GEMM's tiles. KHR: from the listed shape, the subgroup
 * size and the shared memory. Each subgroup owns 2 x 2 matrices where the
 * shape is 8 wide (lavapipe's 8x8x8: correctness there, not speed) and
 * 4 x 2 of 16 x 16 (64 x 32) on GPUs, eight subgroups to a 128 x 128 tile
 * with 32-deep k steps where shared memory holds its two stages (40 KiB
 * plus 1 KiB of epilogue scratch per subgroup), else four subgroups to
 * 64 x 64. NV: the fixed 64 x 64 kernel. */
static void coopmat_tiles(const vitvk_context *ctx, vk_tuning *t)
{
    if (ctx->coopmat_mode == VITVK_COOPMAT_OFF)
        return;
    if (ctx->caps.coopmat_khr) {
        bool acc16 = ctx->coopmat_mode == VITVK_COOPMAT_FP16_ACCUMULATE && ctx->caps.khr_shape16.m;
        const vitvk_coopmat_shape *s = acc16 ? &ctx->caps.khr_shape16 : &ctx->caps.khr_shape32;
        uint32_t sg = ctx->caps.subgroup_size;
        if (ctx->coopmat_tile[0]) { /* checked at context creation */
            const uint32_t *c = ctx->coopmat_tile;
            t->cm_bm = c[0], t->cm_bn = c[1], t->cm_bk = c[2], t->cm_wm = c[3], t->cm_wn = c[4];
            t->cm_m = c[5], t->cm_n = c[6], t->cm_k = c[7];
            t->cm_force = true;
        } else {
            uint32_t bk = s->k > 32 ? s->k : 32;
            if (s->k % 8 || bk % s->k || !sg)
                goto nv;
            uint32_t wm = s->m * (s->m >= 16 ? 4 : 2), wn = s->n * 2;
            uint32_t big_bm = wm * 2, big_bn = wn * 4;     /* 8 subgroups */
            uint32_t small_bm = wm * 2, small_bn = wn * 2; /* 4 subgroups */
            uint64_t big = vk_coopmat_shared_bytes(big_bm, big_bn, bk, 8, s->m, s->n);
            uint64_t small = vk_coopmat_shared_bytes(small_bm, small_bn, bk, 4, s->m, s->n);
            bool use_big = vk_workgroup_fits(&ctx->caps, 8ull * sg, big);
            if (!use_big && !vk_workgroup_fits(&ctx->caps, 4ull * sg, small))
                goto nv;
            t->cm_bm = use_big ? big_bm : small_bm;
            t->cm_bn = use_big ? big_bn : small_bn;
            t->cm_bk = bk, t->cm_wm = wm, t->cm_wn = wn;
            t->cm_m = s->m, t->cm_n = s->n, t->cm_k = s->k;
        }
        t->gemm_coopmat = VK_COOPMAT_KHR;
        t->cm_sg = sg, t->cm_acc16 = acc16;
        if (!ctx->caps.attn_coopmat_failed) {
            t->attn_cm_m = ctx->caps.khr_shape32.m, t->attn_cm_n = ctx->caps.khr_shape32.n;
            t->attn_cm_k = ctx->caps.khr_shape32.k;
        }
        return;
    }
nv:
    /* gemm_coopmat_nv's fixed tiles need more shared memory than the
     * 16 KiB every device has; else the tiled GEMM runs. */
    if (ctx->caps.coopmat_nv && vk_workgroup_fits(&ctx->caps, VK_COOPMAT_NV_WG, VK_COOPMAT_NV_SHARED))
        t->gemm_coopmat = VK_COOPMAT_NV;
}

/* The largest power of two up to `want` that a workgroup may have on this
 * device, for kernels whose grid follows their group size. */
static uint32_t fit_wg(const vitvk_context *ctx, uint32_t want)
{
    while (want > 1 && !vk_workgroup_fits(&ctx->caps, want, 0))
        want /= 2;
    return want;
}

void vk_tuning_for(const vitvk_context *ctx, vk_tuning *t)
{
    bool cpu = ctx->kernel_family == VITVK_KERNELS_AUTO ? vk_auto_family_cpu(&ctx->caps)
                                                        : ctx->kernel_family == VITVK_KERNELS_CPU;
    if (cpu) {
        *t = (vk_tuning){.gemm_wg = 16, .gemm_tm = 4, .gemm_tn = 4, .gemm_texel = true, .texel_wg = 8,
                         .texel_tm = VK_CPU_TEXEL_TM_PLAIN, .texel_tn = 8, .rows_wg = 8, .norm_texel = true, .attn_wg = 8, .attn_texel = true, .attn_tq = 4,
                         .elem_wg = 64};
        if (vk_broadcast_ok(ctx, t->texel_wg)) {
            t->texel_bcast = true;
            t->texel_tm = VK_CPU_TEXEL_TM_BCAST;
        }
        t->attn_bcast = vk_broadcast_ok(ctx, t->attn_wg);
    } else {
        /* 64 x 64 tiles of 256 invocations, 4 x 4 each, 16-deep k steps:
         * 9.6 KiB of shared memory, within every GPU's 16 KiB minimum, but
         * 256 invocations where the spec promises only 128: op_gemm checks
         * (else the storage-buffer GEMM). The elementwise kernels' groups
         * shrink to fit; every other group is 64 or fewer. */
        *t = (vk_tuning){.gemm_wg = 64, .gemm_tm = 4, .gemm_tn = 4, .gemm_texel = false, .texel_wg = 64,
                         .texel_tm = 4, .texel_tn = 1, .rows_wg = 64, .norm_texel = true, .attn_wg = 64,
                         .attn_texel = true, .attn_tq = 1, .attn_flash = true, .attn_bkv = 32, .elem_wg = fit_wg(ctx, 256), .gemm_tiled = true, .tiled_wg = 256,
                         .tiled_bm = 64, .tiled_bn = 64, .tiled_bk = 16, .tiled_tm = 4, .tiled_tn = 4,
                         .norm_subgroup = ctx->caps.subgroup_arith};
        coopmat_tiles(ctx, t);
    }
}
