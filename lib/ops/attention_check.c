/* attention_check.c - a numerical check of the cooperative-matrix
 * attention, run on the device itself, for the same reason as
 * gemm_check.c: CI reaches that kernel only on lavapipe, and a vendor's
 * cooperative matrices may differ. One image of 37 tokens (a partial key
 * block), two heads of 64, a score bias, against a double-precision
 * softmax on the host. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "half.h"
#include "ops.h"

enum { AT = 37, AH = 2, AHD = 64, AD = AH * AHD };

vitvk_status vk_attention_check(vitvk_context *ctx, const vk_tuning *t, double *max_err)
{
    size_t nq = (size_t)AT * 3 * AD, nb = (size_t)AH * AT * AT, no = (size_t)AT * AD;
    float *qkv = vk_malloc(ctx, (nq + nb) * sizeof *qkv);
    uint16_t *q16 = vk_malloc(ctx, (nq + no) * sizeof *q16);
    double *s = vk_malloc(ctx, AT * sizeof *s);
    if (!qkv || !q16 || !s) {
        vk_free(ctx, qkv), vk_free(ctx, q16), vk_free(ctx, s);
        return vk_fail(ctx, VITVK_ERR_OUT_OF_HOST_MEMORY, "out of host memory");
    }
    float *bias = qkv + nq;
    uint16_t *o16 = q16 + nq;
    uint32_t seed = 777u;
    for (size_t i = 0; i < nq + nb; i++) {
        seed = seed * 1664525u + 1013904223u;
        float x = (float)((seed >> 8) / 16777216.0 * 4.0 - 2.0);
        if (i < nq) { /* what the device reads */
            q16[i] = vk_f32_to_f16(x);
            x = vk_f16_to_f32(q16[i]);
        }
        qkv[i] = x;
    }

    vk_arena dev, rb;
    vk_arena_init(&dev, ctx, VK_MEM_DEVICE);
    vk_arena_init(&rb, ctx, VK_MEM_READBACK);
    vk_program prog;
    vk_program_init(&prog, ctx);
    vk_buffer *bq, *bb, *bo, *br;
    vitvk_status st = vk_arena_add(&dev, nq * 2, "check qkv", &bq);
    if (st == VITVK_OK) st = vk_arena_add(&dev, nb * 4, "check bias", &bb);
    if (st == VITVK_OK) st = vk_arena_add(&dev, no * 2, "check out", &bo);
    if (st == VITVK_OK) st = vk_arena_add(&rb, no * 2, "check readback", &br);
    if (st == VITVK_OK) st = vk_arena_commit(&dev);
    if (st == VITVK_OK) st = vk_arena_commit(&rb);
    if (st == VITVK_OK) st = vk_upload(ctx, &dev, bq, q16, nq * 2);
    if (st == VITVK_OK) st = vk_upload(ctx, &dev, bb, bias, nb * 4);
    if (st == VITVK_OK) st = op_attention(&prog, t, true, bq, bb, bo, 1, AT, AT, AH, AD, "attention check");
    if (st == VITVK_OK) st = vk_check_run(ctx, &prog, bo, &rb, br, no * 2);
    if (st == VITVK_OK) {
        memcpy(o16, br->mapped, no * 2);
        double worst = 0.0;
        for (uint32_t h = 0; h < AH; h++)
            for (uint32_t i = 0; i < AT; i++) {
                const float *q = qkv + (size_t)i * 3 * AD + h * AHD;
                double m = -INFINITY, sum = 0.0;
                for (uint32_t j = 0; j < AT; j++) {
                    const float *k = qkv + (size_t)j * 3 * AD + AD + h * AHD;
                    double d = 0.0;
                    for (uint32_t e = 0; e < AHD; e++)
                        d += (double)q[e] * k[e];
                    s[j] = d / sqrt((double)AHD) + bias[((size_t)h * AT + i) * AT + j];
                    m = s[j] > m ? s[j] : m;
                }
                for (uint32_t j = 0; j < AT; j++)
                    sum += (s[j] = exp(s[j] - m));
                for (uint32_t e = 0; e < AHD; e++) {
                    double want = 0.0;
                    for (uint32_t j = 0; j < AT; j++)
                        want += s[j] / sum * qkv[(size_t)j * 3 * AD + 2 * AD + h * AHD + e];
                    double err = fabs(vk_f16_to_f32(o16[(size_t)i * AD + h * AHD + e]) - want) / (1.0 + fabs(want));
                    if (!(err <= worst)) /* NaN counts as the worst */
                        worst = isnan(err) ? INFINITY : err;
                }
            }
        *max_err = worst;
        /* fp16 probabilities and output: 2.8e-4 measured on Mesa 26's
         * lavapipe; a wrong tile or a lost rescale is off by the size of
         * the values. */
        if (worst > 4e-3)
            st = vk_fail(ctx, VITVK_ERR_VULKAN, "attention check: relative error %.3g on this device", worst);
    }
    vk_program_destroy(&prog);
    vk_arena_destroy(&rb);
    vk_arena_destroy(&dev);
    vk_free(ctx, qkv);
    vk_free(ctx, q16);
    vk_free(ctx, s);
    return st;
}
