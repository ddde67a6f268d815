/* swin_ops.c - the two operators only Swin needs: shifted-window attention
 * and the patch-merging gather. */
#include "ops.h"

vitvk_status op_window_attention(vk_program *p, const vk_tuning *t, bool fp16, const vk_window_args *a)
{
    vk_kernel *k;
    uint32_t hd = a->C / a->heads;
    bool texel = t->attn_texel && hd % 4 == 0 && vk_texel_view_ok(p->ctx, fp16, a->qkv) &&
                 vk_texel_view_ok(p->ctx, fp16, a->qkv_bias);
    vitvk_status st = vk_kernel_get(p->ctx, texel ? SH_WINDOW_ATTENTION_TEXEL : SH_WINDOW_ATTENTION, fp16, &k);
    if (st != VITVK_OK)
        return st;
    uint32_t Hp = (a->H + a->window - 1) / a->window * a->window;
    uint32_t Wp = (a->W + a->window - 1) / a->window * a->window;
    uint32_t spec[2] = {t->attn_wg, hd};
    uint32_t push[8] = {a->H, a->W, Hp, Wp, a->window, a->shift, a->C, 0};
    const vk_buffer *bufs[4] = {a->qkv, a->qkv_bias, a->rel_bias, a->out};
    uint32_t T = a->H * a->W;
    st = vk_program_add(p, k, spec, 2, bufs, 4, 1u << 3, push, sizeof push, vk_div_up(T, t->attn_wg), a->heads, a->N,
                        "window attention");
    if (st == VITVK_OK)
        vk_program_set_cost(p, 4ull * a->N * T * a->window * a->window * a->C,
                            (fp16 ? 2ull : 4ull) * a->N * T * 4 * a->C);
    return st;
}

vitvk_status op_patch_merge(vk_program *p, const vk_tuning *t, bool fp16, const vk_buffer *x, const vk_buffer *y,
                            uint32_t N, uint32_t H, uint32_t W, uint32_t C)
{
    vk_kernel *k;
    vitvk_status st = vk_kernel_get(p->ctx, SH_PATCH_MERGE, fp16, &k);
    if (st != VITVK_OK)
        return st;
    uint64_t total = (uint64_t)N * ((H + 1) / 2) * ((W + 1) / 2) * 4 * C;
    uint32_t spec[1] = {t->elem_wg};
    uint32_t push[4] = {H, W, C, (uint32_t)total};
    const vk_buffer *bufs[2] = {x, y};
    uint64_t groups = (total + t->elem_wg - 1) / t->elem_wg;
    uint32_t gx = groups < 65535 ? (uint32_t)groups : 65535;
    uint32_t gy = (uint32_t)((groups + gx - 1) / gx);
    st = vk_program_add(p, k, spec, 1, bufs, 2, 1u << 1, push, sizeof push, gx ? gx : 1, gy ? gy : 1, 1,
                        "patch merge gather");
    if (st == VITVK_OK)
        vk_program_set_cost(p, 0, (fp16 ? 4ull : 8ull) * total);
    return st;
}
