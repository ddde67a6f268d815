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

void vk_tuning_for(const vitvk_context *ctx, vk_tuning *t)
{
    bool cpu = ctx->kernel_family == VITVK_KERNELS_AUTO ? ctx->caps.type == VK_PHYSICAL_DEVICE_TYPE_CPU
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
         * 8.5 KiB of shared memory, within every GPU's 16 KiB minimum. */
        *t = (vk_tuning){.gemm_wg = 64, .gemm_tm = 4, .gemm_tn = 4, .gemm_texel = false, .texel_wg = 64,
                         .texel_tm = 4, .texel_tn = 1, .rows_wg = 64, .norm_texel = true, .attn_wg = 64,
                         .attn_texel = true, .attn_tq = 1, .attn_flash = true, .attn_bkv = 32, .elem_wg = 256, .gemm_tiled = true, .tiled_wg = 256,
                         .tiled_bm = 64, .tiled_bn = 64, .tiled_bk = 16, .tiled_tm = 4, .tiled_tn = 4,
                         .gemm_coopmat_nv = ctx->caps.coopmat_nv, .norm_subgroup = ctx->caps.subgroup_arith};
    }
}
