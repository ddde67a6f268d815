/* swin_ops.c - the two operators only Swin needs: shifted-window attention
 * and the patch-merging gather. */
#include "ops.h"

/* The window-per-workgroup kernel keeps every query of a window in one
 * lane's registers: ceil(ws2 / 8) queries of hd / 4 texels each, twice (q
 * and the output). Up to 64 texels (Swin's window 7 with heads of 32)
 * llvmpipe spills them to a few KiB of stack; bigger windows take the
 * query-per-lane kernel. */
#define WINDOW_LANE_TEXELS 64u

static uint32_t lane_queries(uint32_t window) { return vk_div_up(window * window, 8); }

static bool lanes_fit(uint32_t window, uint32_t hd)
{
    return hd % 4 == 0 && lane_queries(window) * (hd / 4) <= WINDOW_LANE_TEXELS;
}

uint64_t op_window_bias_lanes_floats(const vitvk_context *ctx, uint32_t heads, uint32_t window, uint32_t hd)
{
    vk_tuning t;
    vk_tuning_for(ctx, &t);
    if (!t.attn_texel || !t.attn_bcast || !ctx->caps.storage_texel || !lanes_fit(window, hd))
        return 0;
    return (uint64_t)heads * window * window * 8 * vk_div_up(lane_queries(window), 4) * 4;
}

void op_window_bias_lanes(const float *rel_bias, float *dst, uint32_t heads, uint32_t window)
{
    uint32_t ws2 = window * window, tq4 = vk_div_up(lane_queries(window), 4);
    for (uint32_t h = 0; h < heads; h++)
        for (uint32_t k = 0; k < ws2; k++)
            for (uint32_t lane = 0; lane < 8; lane++)
                for (uint32_t i = 0; i < 4 * tq4; i++) {
                    uint32_t q = lane + 8 * i;
                    dst[(((size_t)h * ws2 + k) * 8 + lane) * 4 * tq4 + i] =
                        q < ws2 ? rel_bias[((size_t)h * ws2 + q) * ws2 + k] : 0.0f;
                }
}

vitvk_status op_window_attention(vk_program *p, const vk_tuning *t, bool fp16, const vk_window_args *a)
{
    vk_kernel *k;
    uint32_t hd = a->C / a->heads;
    bool texel = t->attn_texel && hd % 4 == 0 && vk_texel_view_ok(p->ctx, fp16, a->qkv) &&
                 vk_texel_view_ok(p->ctx, fp16, a->qkv_bias);
    bool lanes = texel && a->rel_bias_lanes && t->attn_bcast && vk_broadcast_ok(p->ctx, 8) && lanes_fit(a->window, hd) &&
                 a->rel_bias_lanes->size / 16 <= p->ctx->caps.max_texel_elements;
    vk_shader_id id = lanes ? SH_WINDOW_ATTENTION_BCAST : texel ? SH_WINDOW_ATTENTION_TEXEL : SH_WINDOW_ATTENTION;
    vitvk_status st = vk_kernel_get(p->ctx, id, fp16, &k);
    if (st != VITVK_OK)
        return st;
    uint32_t Hp = (a->H + a->window - 1) / a->window * a->window;
    uint32_t Wp = (a->W + a->window - 1) / a->window * a->window;
    uint32_t spec[3] = {lanes ? 8 : t->attn_wg, hd, a->window};
    uint32_t push[8] = {a->H, a->W, Hp, Wp, a->window, a->shift, a->C, 0};
    const vk_buffer *bufs[4] = {a->qkv, a->qkv_bias, lanes ? a->rel_bias_lanes : a->rel_bias, a->out};
    uint32_t T = a->H * a->W;
    /* A workgroup per window, or a query per invocation (no window constant). */
    uint32_t groups = lanes ? (Hp / a->window) * (Wp / a->window) : vk_div_up(T, t->attn_wg);
    st = vk_program_add(p, k, spec, lanes ? 3 : 2, bufs, 4, 1u << 3, push, sizeof push, groups, a->heads, a->N,
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
