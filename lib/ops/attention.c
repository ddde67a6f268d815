/* attention.c - the multi-head self-attention operator. */
#include <math.h>
#include <string.h>

#include "ops.h"

vitvk_status op_attention(vk_program *p, const vk_tuning *t, bool fp16, const vk_buffer *qkv,
                          const vk_buffer *score_bias, const vk_buffer *out, uint32_t N, uint32_t T, uint32_t Q,
                          uint32_t H, uint32_t D, const char *label)
{
    vk_kernel *k;
    uint32_t hd = D / H;
    float scale = 1.0f / sqrtf((float)hd);
    uint32_t push[6] = {T, H, D, Q, 0, 0};
    memcpy(&push[4], &scale, 4);
    /* without a bias the binding is never read: bind the output */
    const vk_buffer *bufs[3] = {qkv, out, score_bias ? score_bias : out};
    /* Read: keys and values of all T tokens, queries of Q; written: Q rows. */
    uint64_t flops = 4ull * N * H * Q * T * hd, bytes = (fp16 ? 2ull : 4ull) * N * (2ull * T + 2ull * Q) * D;
    /* Tensor cores: fp16, head sizes and key blocks in whole matrices, and
     * the workgroup's tiles in shared memory (attention_coopmat.comp). */
    if (fp16 && t->attn_cm_m && hd % t->attn_cm_n == 0 && hd % t->attn_cm_k == 0) {
        uint32_t cm = t->attn_cm_m, bkv = 32, sg = p->ctx->caps.subgroup_size;
        if (bkv % t->attn_cm_n == 0 && bkv % t->attn_cm_k == 0) {
            for (uint32_t nsg = 4; nsg >= 1; nsg /= 2) {
                uint64_t bq = (uint64_t)nsg * cm, ldq = hd + 8;
                uint64_t smem = (bq + 2 * bkv) * ldq * 2 + bq * (bkv + 8) * 2 + bq * bkv * 4 + bq * hd * 4 + bq * 12;
                if (!vk_workgroup_fits(&p->ctx->caps, (uint64_t)nsg * sg, smem))
                    continue;
                vitvk_status st = vk_kernel_get(p->ctx, SH_ATTENTION_COOPMAT, true, &k);
                if (st != VITVK_OK)
                    return st;
                uint32_t spec[9] = {nsg * sg, hd, score_bias != NULL, bkv, cm, t->attn_cm_n, t->attn_cm_k, sg, nsg};
                st = vk_program_add(p, k, spec, 9, bufs, 3, 1u << 1, push, sizeof push, vk_div_up(Q, (uint32_t)bq), H,
                                    N, label);
                if (st == VITVK_OK)
                    vk_program_set_cost(p, flops, bytes);
                return st;
            }
        }
    }
    /* The key and value tiles must fit in shared memory (fp32), else the
     * kernels below (no shared memory) run. */
    uint64_t smem = (uint64_t)t->attn_bkv * (2 * hd + 1) * 4;
    if (t->attn_flash && vk_workgroup_fits(&p->ctx->caps, t->attn_wg, smem)) {
        vitvk_status st = vk_kernel_get(p->ctx, SH_ATTENTION_FLASH, fp16, &k);
        if (st != VITVK_OK)
            return st;
        uint32_t spec[4] = {t->attn_wg, hd, score_bias != NULL, t->attn_bkv};
        st = vk_program_add(p, k, spec, 4, bufs, 3, 1u << 1, push, sizeof push, vk_div_up(Q, t->attn_wg), H, N,
                            label);
        if (st == VITVK_OK)
            vk_program_set_cost(p, flops, bytes);
        return st;
    }
    bool texel = t->attn_texel && hd % 4 == 0 && vk_texel_view_ok(p->ctx, fp16, qkv);
    bool bcast = texel && t->attn_bcast && vk_broadcast_ok(p->ctx, t->attn_wg);
    vitvk_status st = vk_kernel_get(p->ctx, bcast ? SH_ATTENTION_TEXEL_BCAST : texel ? SH_ATTENTION_TEXEL : SH_ATTENTION,
                                    fp16, &k);
    if (st != VITVK_OK)
        return st;
    uint32_t tq = texel ? t->attn_tq : 1;
    uint32_t spec[4] = {t->attn_wg, hd, score_bias != NULL, tq};
    vitvk_status st_add = vk_program_add(p, k, spec, texel ? 4 : 3, bufs, 3, 1u << 1, push, sizeof push,
                                         vk_div_up(vk_div_up(Q, tq), t->attn_wg), H, N, label);
    if (st_add == VITVK_OK)
        vk_program_set_cost(p, flops, bytes);
    return st_add;
}

vitvk_status op_attention_probs(vk_program *p, const vk_tuning *t, bool fp16, const vk_buffer *qkv,
                                const vk_buffer *score_bias, const vk_buffer *probs, uint32_t N, uint32_t T,
                                uint32_t H, uint32_t D, uint32_t rows)
{
    vk_kernel *k;
    vitvk_status st = vk_kernel_get(p->ctx, SH_CLS_ATTENTION, fp16, &k);
    if (st != VITVK_OK)
        return st;
    uint32_t spec[3] = {t->rows_wg, D / H, score_bias != NULL};
    uint32_t push[5] = {N, T, H, D, rows};
    const vk_buffer *bufs[3] = {qkv, score_bias ? score_bias : probs, probs};
    st = vk_program_add(p, k, spec, 3, bufs, 3, 1u << 2, push, sizeof push,
                        vk_div_up((uint64_t)N * H * rows, t->rows_wg), 1, 1, rows == 1 ? "cls attention" : "attention maps");
    if (st == VITVK_OK)
        vk_program_set_cost(p, 6ull * N * rows * T * D, 4ull * N * H * rows * T);
    return st;
}
