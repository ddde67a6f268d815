/* layernorm.c - the LayerNorm operator. */
#include <string.h>

#include "ops.h"

vitvk_status op_layernorm(vk_program *p, const vk_tuning *t, bool fp16, bool out32, const vk_buffer *in,
                          const vk_buffer *gamma, const vk_buffer *beta, const vk_buffer *out, uint32_t rows,
                          uint32_t D, uint32_t in_off, uint32_t in_stride, uint32_t out_stride, float eps,
                          const char *label)
{
    vk_kernel *k;
    bool texel = t->norm_texel && D % 4 == 0 && in_stride % 4 == 0 && in_off % 4 == 0 &&
                 vk_texel_view_ok(p->ctx, fp16, in) && vk_texel_view_ok(p->ctx, fp16, gamma) &&
                 vk_texel_view_ok(p->ctx, fp16, beta);
    /* One subgroup per row strides by gl_SubgroupSize, so the workgroup
     * must be whole subgroups: one smaller than a subgroup would skip
     * elements. */
    uint32_t sg = p->ctx->caps.subgroup_size;
    bool sub = t->norm_subgroup && p->ctx->caps.subgroup_arith && sg && t->rows_wg % sg == 0;
    vk_shader_id id = sub     ? (out32 ? SH_LAYERNORM_SUBGROUP_O32 : SH_LAYERNORM_SUBGROUP)
                      : texel ? (out32 ? SH_LAYERNORM_TEXEL_O32 : SH_LAYERNORM_TEXEL)
                              : (out32 ? SH_LAYERNORM_O32 : SH_LAYERNORM);
    vitvk_status st = vk_kernel_get(p->ctx, id, fp16, &k);
    if (st != VITVK_OK)
        return st;
    uint32_t spec[1] = {t->rows_wg};
    uint32_t push[6] = {rows, D, in_stride, out_stride, 0, in_off};
    memcpy(&push[4], &eps, 4);
    const vk_buffer *bufs[4] = {in, gamma, beta, out};
    /* One subgroup per row: as many groups as the default subgroup size
     * needs (the shader loops if the driver picks a smaller one). */
    uint32_t per_group = sub ? t->rows_wg / sg : t->rows_wg;
    vitvk_status st_add = vk_program_add(p, k, spec, 1, bufs, 4, 1u << 3, push, sizeof push,
                                         vk_div_up(rows, per_group ? per_group : 1), 1, 1, label);
    if (st_add == VITVK_OK)
        vk_program_set_cost(p, 8ull * rows * D, (fp16 ? 2ull : 4ull) * rows * D * 2);
    return st_add;
}
