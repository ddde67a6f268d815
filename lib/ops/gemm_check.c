/* gemm_check.c - a numerical check of the GEMM a context would use, run
 * on the device itself.
 *
 * Some kernels cannot be reached by the tests on the machines CI has
 * (cooperative matrices need the vendor's hardware), so the context checks
 * them where they are about to run, once, against a double-precision
 * product on the host: an odd-shaped problem (partial tiles in M, N and K)
 * with bias, exact GELU and a residual. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "half.h"
#include "ops.h"

enum { CM = 70, CN = 72, CK = 88 };

static double gelu(double x) { return 0.5 * x * (1.0 + erf(x / sqrt(2.0))); }

/* Host values, rounded to the storage type so that the reference sees
 * exactly what the device reads. */
static void fill(float *v, size_t n, uint32_t *seed, bool fp16, uint16_t *h)
{
    for (size_t i = 0; i < n; i++) {
        *seed = *seed * 1664525u + 1013904223u;
        float x = (float)((*seed >> 8) / 16777216.0 * 2.0 - 1.0);
        if (fp16) {
            h[i] = vk_f32_to_f16(x);
            x = vk_f16_to_f32(h[i]);
        }
        v[i] = x;
    }
}

static vitvk_status upload(vitvk_context *ctx, vk_arena *a, vk_buffer *b, const float *v, const uint16_t *h,
                           size_t n, bool fp16)
{
    return fp16 ? vk_upload(ctx, a, b, h, n * 2) : vk_upload(ctx, a, b, v, n * 4);
}

vitvk_status vk_check_run(vitvk_context *ctx, vk_program *prog, const vk_buffer *out, vk_arena *rb,
                          const vk_buffer *readback, uint64_t bytes)
{
    vitvk_status st = vk_program_finalize(prog);
    VkCommandBuffer cmd = VK_NULL_HANDLE;
    if (st == VITVK_OK)
        st = vk_begin_once(ctx, &cmd);
    if (st != VITVK_OK)
        return st;
    vk_program_record(prog, cmd, VK_NULL_HANDLE);
    VkMemoryBarrier mb = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                          .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT,
                          .dstAccessMask = VK_ACCESS_TRANSFER_READ_BIT};
    ctx->vkd.vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 1, &mb,
                                  0, NULL, 0, NULL);
    VkBufferCopy r = {.size = bytes};
    ctx->vkd.vkCmdCopyBuffer(cmd, out->buffer, readback->buffer, 1, &r);
    VkMemoryBarrier hb = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                          .srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
                          .dstAccessMask = VK_ACCESS_HOST_READ_BIT};
    ctx->vkd.vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &hb, 0, NULL,
                                  0, NULL);
    st = vk_end_once(ctx, cmd);
    if (st == VITVK_OK)
        st = vk_buffer_invalidate(rb, readback);
    return st;
}

vitvk_status vk_gemm_check(vitvk_context *ctx, const vk_tuning *t, bool fp16, double *max_err)
{
    size_t na = (size_t)CM * CK, nw = (size_t)CN * CK, nc = (size_t)CM * CN;
    size_t total = na + nw + CN + nc;
    size_t es = fp16 ? 2 : 4;
    float *host = vk_malloc(ctx, total * sizeof *host + nc * sizeof(float));
    uint16_t *h16 = vk_malloc(ctx, total * sizeof *h16 + nc * sizeof(uint16_t));
    if (!host || !h16) {
        vk_free(ctx, host);
        vk_free(ctx, h16);
        return vk_fail(ctx, VITVK_ERR_OUT_OF_HOST_MEMORY, "out of host memory");
    }
    float *A = host, *W = A + na, *B = W + nw, *R = B + CN, *C = R + nc;
    uint16_t *A16 = h16, *W16 = A16 + na, *B16 = W16 + nw, *R16 = B16 + CN, *C16 = R16 + nc;
    uint32_t seed = 12345u;
    fill(host, total, &seed, fp16, h16);

    vk_arena dev, rb;
    vk_arena_init(&dev, ctx, VK_MEM_DEVICE);
    vk_arena_init(&rb, ctx, VK_MEM_READBACK);
    vk_program prog;
    vk_program_init(&prog, ctx);
    vk_buffer *ba, *bw, *bb, *br, *bc, *bo;
    vitvk_status st = vk_arena_add(&dev, na * es, "check A", &ba);
    if (st == VITVK_OK) st = vk_arena_add(&dev, nw * es, "check W", &bw);
    if (st == VITVK_OK) st = vk_arena_add(&dev, CN * es, "check bias", &bb);
    if (st == VITVK_OK) st = vk_arena_add(&dev, nc * es, "check residual", &br);
    if (st == VITVK_OK) st = vk_arena_add(&dev, nc * es, "check C", &bc);
    if (st == VITVK_OK) st = vk_arena_add(&rb, nc * es, "check readback", &bo);
    if (st == VITVK_OK) st = vk_arena_commit(&dev);
    if (st == VITVK_OK) st = vk_arena_commit(&rb);
    if (st == VITVK_OK) st = upload(ctx, &dev, ba, A, A16, na, fp16);
    if (st == VITVK_OK) st = upload(ctx, &dev, bw, W, W16, nw, fp16);
    if (st == VITVK_OK) st = upload(ctx, &dev, bb, B, B16, CN, fp16);
    if (st == VITVK_OK) st = upload(ctx, &dev, br, R, R16, nc, fp16);
    if (st == VITVK_OK) {
        vk_gemm_args g = {.a = ba, .w = bw, .bias = bb, .res = br, .c = bc, .M = CM, .N = CN, .K = CK,
                          .lda = CK, .ldc = CN, .ldr = CN, .act = VK_ACT_GELU};
        st = op_gemm(&prog, t, fp16, VK_GEMM_SAME, &g, "gemm check");
    }
    if (st == VITVK_OK) st = vk_check_run(ctx, &prog, bc, &rb, bo, nc * es);
    if (st == VITVK_OK) {
        if (fp16)
            memcpy(C16, bo->mapped, nc * 2);
        else
            memcpy(C, bo->mapped, nc * 4);
        double worst = 0.0;
        for (uint32_t m = 0; m < CM; m++)
            for (uint32_t n = 0; n < CN; n++) {
                double acc = B[n];
                for (uint32_t k = 0; k < CK; k++)
                    acc += (double)A[m * CK + k] * W[n * CK + k];
                double want = gelu(acc) + R[m * CN + n];
                double got = fp16 ? vk_f16_to_f32(C16[m * CN + n]) : C[m * CN + n];
                /* fp16 output rounding is 2^-11 relative; fp32 accumulation of
                 * 88 terms of size ~1 stays far below either bound. */
                double err = fabs(got - want) / (1.0 + fabs(want));
                if (!(err <= worst)) /* NaN counts as the worst */
                    worst = isnan(err) ? INFINITY : err;
            }
        *max_err = worst;
        /* fp16 accumulation rounds every partial sum to 11 bits: 0.0059
         * measured on Mesa 26's lavapipe (8x8x8); a wrong tile is off by
         * the size of the values themselves. */
        bool acc16 = t->gemm_coopmat == VK_COOPMAT_KHR && t->cm_acc16;
        if (worst > (acc16 ? 2e-2 : fp16 ? 4e-3 : 1e-5))
            st = vk_fail(ctx, VITVK_ERR_VULKAN, "GEMM check: relative error %.3g on this device", worst);
    }
    vk_program_destroy(&prog);
    vk_arena_destroy(&rb);
    vk_arena_destroy(&dev);
    vk_free(ctx, host);
    vk_free(ctx, h16);
    return st;
}
