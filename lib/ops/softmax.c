/* softmax.c - row softmax (probabilities from logits). */
#include "ops.h"

vitvk_status op_softmax(vk_program *p, const vk_tuning *t, const vk_buffer *in, const vk_buffer *out,
                        uint32_t rows, uint32_t cols)
{
    vk_kernel *k;
    vitvk_status st = vk_kernel_get(p->ctx, SH_SOFTMAX, false, &k);
    if (st != VITVK_OK)
        return st;
    uint32_t spec[1] = {t->rows_wg};
    uint32_t push[2] = {rows, cols};
    const vk_buffer *bufs[2] = {in, out};
    vitvk_status st_add = vk_program_add(p, k, spec, 1, bufs, 2, 1u << 1, push, sizeof push, vk_div_up(rows, t->rows_wg), 1, 1,
                          "softmax");
    if (st_add == VITVK_OK)
        vk_program_set_cost(p, 0, 8ull * rows * cols);
    return st_add;
}
