/* test_kernels.c - every compute kernel against a plain C reference (in
 * double), on awkward shapes (197 tokens, 3 heads, K not a multiple of
 * any tile, batch > 1), in fp32 and fp16 storage. Runs under the Khronos
 * validation layer; any validation message fails the suite. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "half.h"
#include "internal.h"
#include "ops/ops.h"
#include "test_skip.h"
#include "test_validation.h"

static vitvk_context *ctx;
static unsigned validation_messages;

static void count_validation(void *user, vitvk_log_level level, const char *msg)
{
    (void)user;
    if (level >= VITVK_LOG_WARNING && strncmp(msg, "validation:", 11) == 0) {
        validation_messages++;
        fprintf(stderr, "%s\n", msg);
    }
}

static void setup(void)
{
    vitvk_context_desc d = {.enable_validation = test_validation(), .log = count_validation};
    char err[1024];
    ck_assert_msg(vitvk_context_create(&d, &ctx, err, sizeof err) == VITVK_OK, "context: %s", err);
}

static void teardown(void)
{
    vitvk_context_destroy(ctx);
    ctx = NULL;
    ck_assert_uint_eq(validation_messages, 0);
}

/* ---- helpers ----------------------------------------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static float frand(void) /* uniform in [-1, 1) */
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (float)((rng_state >> 11) * (1.0 / 9007199254740992.0)) * 2.0f - 1.0f;
}

static float *rand_vec(size_t n, float scale)
{
    float *v = malloc(n * sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i] = frand() * scale;
    return v;
}

/* Values the fp16 path sees: rounded to half on the way in. */
static void round_half(float *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        v[i] = vk_f16_to_f32(vk_f32_to_f16(v[i]));
}

/* Ask for the texel kernels' broadcast variants (what lavapipe gets) or
 * for their plain variants (what CPU-family devices without 8-lane
 * subgroups and shuffle get); 0 keeps the device's own tuning. */
enum { TUNED = 0, FORCE_BCAST = 1, FORCE_PLAIN = 2 };
static int force_texel;
/* gemm_coopmat: keep the tuning's largest cooperative-matrix tiles on every
 * shape (vk_tuning.cm_force). */
static bool force_big_tiles;

typedef struct harness {
    vk_arena arena;
    vk_program prog;
    vk_tuning tune;
} harness;

static void h_init(harness *h)
{
    vk_arena_init(&h->arena, ctx, VK_MEM_DEVICE);
    vk_program_init(&h->prog, ctx);
    vk_tuning_for(ctx, &h->tune);
    h->tune.cm_force = force_big_tiles;
    if (force_texel == FORCE_BCAST) {
        h->tune.texel_bcast = true;
        h->tune.texel_tm = VK_CPU_TEXEL_TM_BCAST;
        h->tune.attn_bcast = true;
    } else if (force_texel == FORCE_PLAIN) {
        h->tune.texel_bcast = false;
        h->tune.texel_tm = VK_CPU_TEXEL_TM_PLAIN;
        h->tune.attn_bcast = false;
    }
}

static vk_buffer *h_buf(harness *h, size_t bytes)
{
    vk_buffer *b;
    ck_assert_int_eq(vk_arena_add(&h->arena, bytes, "test", &b), VITVK_OK);
    return b;
}

static void h_commit(harness *h) { ck_assert_int_eq(vk_arena_commit(&h->arena), VITVK_OK); }

/* Writes floats as fp32 or fp16. */
static void h_write(harness *h, vk_buffer *b, const float *v, size_t n, bool f16)
{
    if (!f16) {
        ck_assert_int_eq(vk_upload(ctx, &h->arena, b, v, n * 4), VITVK_OK);
        return;
    }
    uint16_t *t = malloc(n * 2);
    for (size_t i = 0; i < n; i++)
        t[i] = vk_f32_to_f16(v[i]);
    ck_assert_int_eq(vk_upload(ctx, &h->arena, b, t, n * 2), VITVK_OK);
    free(t);
}

static void h_run(harness *h)
{
    ck_assert_int_eq(vk_program_finalize(&h->prog), VITVK_OK);
    VkCommandBuffer cmd;
    ck_assert_int_eq(vk_begin_once(ctx, &cmd), VITVK_OK);
    vk_program_record(&h->prog, cmd, VK_NULL_HANDLE);
    VkMemoryBarrier mb = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                          .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT,
                          .dstAccessMask = VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_HOST_READ_BIT};
    ctx->vkd.vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                                  VK_PIPELINE_STAGE_TRANSFER_BIT | VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &mb, 0, NULL, 0,
                                  NULL);
    ck_assert_int_eq(vk_end_once(ctx, cmd), VITVK_OK);
}

/* Reads n values back (through a readback buffer) as floats. */
static float *h_read(harness *h, const vk_buffer *b, size_t n, bool f16)
{
    (void)h;
    vk_arena rb;
    vk_arena_init(&rb, ctx, VK_MEM_READBACK);
    vk_buffer *dst;
    ck_assert_int_eq(vk_arena_add(&rb, b->size, "readback", &dst), VITVK_OK);
    ck_assert_int_eq(vk_arena_commit(&rb), VITVK_OK);
    VkCommandBuffer cmd;
    ck_assert_int_eq(vk_begin_once(ctx, &cmd), VITVK_OK);
    VkBufferCopy r = {.size = b->size};
    ctx->vkd.vkCmdCopyBuffer(cmd, b->buffer, dst->buffer, 1, &r);
    VkMemoryBarrier mb = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                          .srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
                          .dstAccessMask = VK_ACCESS_HOST_READ_BIT};
    ctx->vkd.vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &mb, 0, NULL,
                                  0, NULL);
    ck_assert_int_eq(vk_end_once(ctx, cmd), VITVK_OK);
    ck_assert_int_eq(vk_buffer_invalidate(&rb, dst), VITVK_OK);
    float *out = malloc(n * sizeof *out);
    for (size_t i = 0; i < n; i++)
        out[i] = f16 ? vk_f16_to_f32(((const uint16_t *)dst->mapped)[i]) : ((const float *)dst->mapped)[i];
    vk_arena_destroy(&rb);
    return out;
}

static void h_destroy(harness *h)
{
    vk_program_destroy(&h->prog);
    vk_arena_destroy(&h->arena);
}

/* max |a - b| / (atol + rtol |b|) must stay <= 1. */
static void expect_close(const char *what, const float *got, const double *want, size_t n, double atol, double rtol)
{
    double worst = 0;
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs(got[i] - want[i]) / (atol + rtol * fabs(want[i]));
        if (!(e <= worst)) { /* also catches NaN */
            worst = isnan(e) ? INFINITY : e;
            at = i;
        }
    }
    if (worst > 1.0 && getenv("DEBUG_CLOSE")) {
        size_t bad = 0;
        for (size_t i = 0; i < n; i++)
            if (!(fabs(got[i] - want[i]) / (atol + rtol * fabs(want[i])) <= 1.0)) {
                if (bad < 40)
                    fprintf(stderr, "bad %zu: %g vs %g\n", i, got[i], want[i]);
                bad++;
            }
        fprintf(stderr, "%zu bad of %zu\n", bad, n);
    }
    /* The share of the bound used, for tools/bounds.sh's rule that no bound
     * is more than 50 times what is measured (grep "of its bound"). */
    printf("%s: %.3g of its bound (atol %g rtol %g)\n", what, worst, atol, rtol);
    ck_assert_msg(worst <= 1.0, "%s: element %zu is %.7g, reference %.7g (atol %g rtol %g)", what, at, got[at],
                  want[at], atol, rtol);
}

static double ref_act(double x, vk_act a)
{
    switch (a) {
    case VK_ACT_GELU: return 0.5 * x * (1 + erf(x / sqrt(2.0)));
    case VK_ACT_GELU_TANH: return 0.5 * x * (1 + tanh(sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)));
    case VK_ACT_QUICK_GELU: return x / (1 + exp(-1.702 * x));
    case VK_ACT_RELU: return x > 0 ? x : 0;
    case VK_ACT_SILU: return x / (1 + exp(-x));
    case VK_ACT_TANH: return tanh(x);
    default: return x;
    }
}

/* ---- GEMM -------------------------------------------------------- */

/* The kernel the last gemm_case ran (test state, not the library's). */
static vk_shader_id last_gemm_kernel;

/* The kernel the last attention_case ran. */
static vk_shader_id last_attn_kernel;

/* Either texel-buffer GEMM: which one the device's tuning picks. */
static bool texel_gemm(vk_shader_id id) { return id == SH_GEMM_TEXEL || id == SH_GEMM_TEXEL_BCAST; }

/* pad: extra elements per row of A (a row stride that is not K, as for
 * the [CLS] rows). K and lda multiples of 4 take the texel-buffer kernel,
 * anything else the storage-buffer one. */
static void gemm_case_w(uint32_t M, uint32_t N, uint32_t K, uint32_t pad, vk_act act, bool bias, bool res, bool f16,
                        uint32_t w_block)
{
    harness h;
    h_init(&h);
    uint32_t lda = K + pad;
    float *A = rand_vec((size_t)M * lda, 1.0f), *W = rand_vec((size_t)K * N, 0.2f);
    float *Bv = rand_vec(N, 0.5f), *R = rand_vec((size_t)M * N, 1.0f);
    if (f16) {
        round_half(A, (size_t)M * lda);
        round_half(W, (size_t)K * N);
        round_half(Bv, N);
        round_half(R, (size_t)M * N);
    }
    size_t es = f16 ? 2 : 4;
    vk_buffer *ba = h_buf(&h, (size_t)M * lda * es), *bw = h_buf(&h, (size_t)K * N * es);
    vk_buffer *bb = h_buf(&h, N * es), *br = h_buf(&h, (size_t)M * N * es), *bc = h_buf(&h, (size_t)M * N * es);
    h_commit(&h);
    h_write(&h, ba, A, (size_t)M * lda, f16);
    if (w_block) {
        /* the layout the loader writes for the CPU family's texel GEMM */
        float *Wb = malloc((size_t)K * N * sizeof *Wb);
        op_gemm_w_permute(W, Wb, N, K, w_block);
        h_write(&h, bw, Wb, (size_t)K * N, f16);
        free(Wb);
        bw->w_block = w_block;
    } else {
        h_write(&h, bw, W, (size_t)K * N, f16);
    }
    h_write(&h, bb, Bv, N, f16);
    h_write(&h, br, R, (size_t)M * N, f16);
    vk_gemm_args g = {.a = ba, .w = bw, .bias = bias ? bb : NULL, .res = res ? br : NULL, .c = bc,
                      .M = M, .N = N, .K = K, .lda = lda, .ldc = N, .ldr = N, .act = act};
    ck_assert_int_eq(op_gemm(&h.prog, &h.tune, f16, VK_GEMM_SAME, &g, "gemm"), VITVK_OK);
    last_gemm_kernel = h.prog.items[h.prog.count - 1].kernel->id;
    h_run(&h);
    float *C = h_read(&h, bc, (size_t)M * N, f16);
    double *ref = malloc((size_t)M * N * sizeof *ref);
    for (uint32_t m = 0; m < M; m++)
        for (uint32_t n = 0; n < N; n++) {
            double s = 0;
            for (uint32_t k = 0; k < K; k++)
                s += (double)A[(size_t)m * lda + k] * W[(size_t)n * K + k];
            if (bias)
                s += Bv[n];
            s = ref_act(s, act);
            if (res)
                s += R[(size_t)m * N + n];
            ref[(size_t)m * N + n] = s;
        }
    char what[96];
    snprintf(what, sizeof what, "gemm %ux%ux%u lda %u act %d bias %d res %d W block %u %s", M, N, K, lda, act, bias,
             res, w_block, f16 ? "fp16" : "fp32");
    bool acc16 = h.tune.gemm_coopmat == VK_COOPMAT_KHR && h.tune.cm_acc16;
    expect_close(what, C, ref, (size_t)M * N, acc16 ? 2e-2 * sqrt(K / 64.0 + 1) : f16 ? 2e-2 : 1e-5, f16 ? 2e-3 : 1e-5);
    free(A), free(W), free(Bv), free(R), free(C), free(ref);
    h_destroy(&h);
}

static void gemm_case(uint32_t M, uint32_t N, uint32_t K, uint32_t pad, vk_act act, bool bias, bool res, bool f16)
{
    gemm_case_w(M, N, K, pad, act, bias, res, f16, 0);
}

START_TEST(gemm_shapes)
{
    bool f16 = _i & 1;
    if (test_skip_fp16(f16, "gemm_shapes"))
        return;
    ctx->kernel_family = (_i & 2) ? VITVK_KERNELS_GPU : VITVK_KERNELS_CPU;
    /* storage-buffer kernel: K or lda not a multiple of 4 */
    gemm_case(197, 192, 192, 3, VK_ACT_NONE, true, false, f16);
    gemm_case(394, 37, 75, 0, VK_ACT_GELU, true, false, f16);  /* nothing a multiple of a tile */
    gemm_case(3, 10, 191, 0, VK_ACT_NONE, true, false, f16);   /* a classifier head */
    gemm_case(197, 61, 130, 1, VK_ACT_NONE, true, true, f16);  /* residual epilogue */
    gemm_case(5, 7, 3, 0, VK_ACT_GELU_TANH, false, false, f16);
    gemm_case(17, 9, 33, 2, VK_ACT_QUICK_GELU, true, true, f16);
    gemm_case(1, 1, 1, 0, VK_ACT_TANH, true, false, f16);
    /* texel-buffer kernel: K and lda multiples of 4, M and N ragged */
    gemm_case(197, 192, 192, 0, VK_ACT_NONE, true, false, f16);
    gemm_case(394, 37, 76, 4, VK_ACT_GELU, true, false, f16);
    gemm_case(3, 10, 192, 0, VK_ACT_NONE, true, false, f16);
    gemm_case(197, 61, 128, 8, VK_ACT_NONE, true, true, f16);
    gemm_case(17, 9, 32, 0, VK_ACT_QUICK_GELU, true, true, f16);
    gemm_case(1, 1, 4, 0, VK_ACT_TANH, false, false, f16);
}
END_TEST

/* Why a cooperative-matrix test has nothing to check here. */
static void coopmat_skipped(const char *test)
{
    test_skipped();
#ifdef VITVK_KHR_COOPMAT
    printf("%s: skipped: the device has no usable VK_KHR_cooperative_matrix fp16 shape\n", test);
#else
    printf("%s: skipped: this build's glslang cannot compile GL_KHR_cooperative_matrix\n", test);
#endif
}

/* The KHR cooperative-matrix GEMM (gemm_coopmat.comp), where the device
 * has VK_KHR_cooperative_matrix and the build compiled the kernel (Mesa
 * 26's lavapipe: 8x8x8; tools/trixie.sh). Loop index: bit 0 = fp16
 * accumulation, bit 1 = the largest tiles forced on every shape (else the
 * op shrinks tiles on small grids, as it does for ViT at batch 1). Shapes:
 * ViT-B's 197 tokens with N = 1000 classes and the qkv width, ragged M, N
 * and K (K % 8 != 0: the scalar-load path), a row stride that is not K,
 * one element. */
START_TEST(gemm_coopmat)
{
    ctx->kernel_family = VITVK_KERNELS_GPU;
    ctx->coopmat_mode = (_i & 1) ? VITVK_COOPMAT_FP16_ACCUMULATE : VITVK_COOPMAT_AUTO;
    vk_tuning t;
    vk_tuning_for(ctx, &t);
    if (t.gemm_coopmat != VK_COOPMAT_KHR) {
        coopmat_skipped("gemm_coopmat");
        return;
    }
    if ((_i & 1) && !t.cm_acc16) {
        printf("gemm_coopmat: fp16 accumulation skipped: the device lists no fp16-accumulating shape\n");
        test_skipped();
        return;
    }
    force_big_tiles = _i & 2;
    static const uint32_t shapes[][4] = {
        {197, 1000, 768, 0}, {197, 2304, 768, 0}, {394, 37, 75, 0}, {197, 61, 128, 8},
        {3, 10, 192, 0},     {200, 300, 3072, 0}, {1, 1, 1, 0},     {70, 72, 88, 8},
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        vk_act act = i % 3 == 0 ? VK_ACT_GELU : VK_ACT_NONE;
        gemm_case(shapes[i][0], shapes[i][1], shapes[i][2], shapes[i][3], act, i != 6, i % 2 == 1, true);
        ck_assert_msg(last_gemm_kernel == ((_i & 1) ? SH_GEMM_COOPMAT_H16 : SH_GEMM_COOPMAT),
                      "shape %zu ran kernel %d, not the KHR cooperative-matrix GEMM", i, (int)last_gemm_kernel);
    }
    force_big_tiles = false;
}
END_TEST

/* A texel view larger than maxTexelBufferElements (65536 texels is all the
 * spec promises), or a device without RGBA32F/RGBA16F storage texel
 * buffers, must take the storage-buffer GEMM and still be right. */
START_TEST(gemm_texel_limits)
{
    bool f16 = _i & 1;
    if (test_skip_fp16(f16, "gemm_texel_limits"))
        return;
    ctx->kernel_family = VITVK_KERNELS_CPU;
    vk_caps saved = ctx->caps;
    gemm_case(197, 192, 192, 0, VK_ACT_GELU, true, true, f16);
    ck_assert(texel_gemm(last_gemm_kernel));
    ctx->caps.max_texel_elements = 4096; /* W and A: 9216 and 9456 texels */
    gemm_case(197, 192, 192, 0, VK_ACT_GELU, true, true, f16);
    ck_assert(!texel_gemm(last_gemm_kernel));
    ctx->caps = saved;
    ctx->caps.storage_texel = false;
    gemm_case(197, 192, 192, 0, VK_ACT_GELU, true, true, f16);
    ck_assert(!texel_gemm(last_gemm_kernel));
    ctx->caps = saved;
}
END_TEST

/* Weights blocked by columns (what the loader writes on a CPU-family
 * context, op_gemm_w_block) against the same reference, read by the texel
 * GEMM and, where the activations exceed the texel limit, by the
 * storage-buffer GEMM. */
START_TEST(gemm_blocked_weights)
{
    bool f16 = _i & 1;
    if (test_skip_fp16(f16, "gemm_blocked_weights"))
        return;
    ctx->kernel_family = VITVK_KERNELS_CPU;
    uint32_t nb = op_gemm_w_block(ctx, 128, 192, f16, VK_GEMM_SAME);
    ck_assert_uint_eq(nb, 64);
    ck_assert_uint_eq(op_gemm_w_block(ctx, 100, 192, f16, VK_GEMM_SAME), 0);  /* N % 64 */
    ck_assert_uint_eq(op_gemm_w_block(ctx, 128, 190, f16, VK_GEMM_SAME), 0);  /* K % 4 */
    ck_assert_uint_eq(op_gemm_w_block(ctx, 128, 192, true, VK_GEMM_W16), 0); /* fp16 heads */
    gemm_case_w(197, 128, 192, 0, VK_ACT_GELU, true, true, f16, nb);
    ck_assert(texel_gemm(last_gemm_kernel));
    gemm_case_w(3, 1024, 768, 0, VK_ACT_NONE, true, false, f16, nb);
    gemm_case_w(17, 64, 4, 0, VK_ACT_QUICK_GELU, false, true, f16, nb);

    /* Activations past the texel limit where the weight fits (A 9456
     * texels, W 6144; SwiftShader's limit is 65536): the storage-buffer
     * GEMM reads the blocked weight. */
    vk_caps saved = ctx->caps;
    ctx->caps.max_texel_elements = 8192;
    gemm_case_w(197, 128, 192, 0, VK_ACT_GELU, true, true, f16, nb);
    ck_assert(!texel_gemm(last_gemm_kernel));
    gemm_case_w(198, 64, 192, 0, VK_ACT_QUICK_GELU, false, true, f16, nb); /* ragged TM and TN blocks */
    ck_assert(!texel_gemm(last_gemm_kernel));
    ctx->caps = saved;
}
END_TEST

/* The texel GEMM, _i / 2 == 0 with rows of A handed round by
 * subgroupShuffle (the CPU family on lavapipe), 1 plain (one load per row
 * of A, 18-row blocks), on whatever device runs the tests: ragged M
 * (partial 8-row groups), row strides past K, blocked and plain W, every
 * epilogue. A device whose subgroups are not 8 lanes with shuffle takes
 * the plain texel kernel either way, which must be right too. With the
 * lavapipe tuning (24-row blocks) M = 197 and 40 run as whole blocks plus
 * a second dispatch of 8 and 16 rows, M = 1, 3 and 9 as that second kind
 * alone, M = 17 as one 24-row block, M = 394 as 17 blocks (a split would
 * save 8 rows of 408). */
START_TEST(gemm_texel_bcast)
{
    bool f16 = _i & 1, plain = _i / 2;
    if (test_skip_fp16(f16, "gemm_texel_bcast"))
        return;
    ctx->kernel_family = VITVK_KERNELS_CPU;
    bool can = !plain && ctx->caps.subgroup_shuffle && ctx->caps.subgroup_size == 8;
    if (!plain && !can)
        printf("gemm_texel_bcast: subgroups of %u lanes%s: the plain texel kernel runs\n", ctx->caps.subgroup_size,
               ctx->caps.subgroup_shuffle ? "" : ", no shuffle");
    force_texel = plain ? FORCE_PLAIN : FORCE_BCAST;
    gemm_case(197, 192, 192, 0, VK_ACT_GELU, true, true, f16);
    ck_assert_int_eq(last_gemm_kernel, can ? SH_GEMM_TEXEL_BCAST : SH_GEMM_TEXEL);
    gemm_case(1, 10, 192, 764, VK_ACT_NONE, true, false, f16); /* one row of 197, like the [CLS] tail */
    gemm_case(17, 9, 32, 4, VK_ACT_QUICK_GELU, true, true, f16);
    gemm_case(394, 37, 76, 0, VK_ACT_GELU_TANH, false, false, f16);
    gemm_case(40, 70, 64, 68, VK_ACT_NONE, true, true, f16);
    gemm_case_w(197, 128, 192, 0, VK_ACT_NONE, true, true, f16, 64);
    gemm_case_w(3, 1024, 768, 0, VK_ACT_NONE, true, false, f16, 64);
    gemm_case_w(9, 64, 4, 0, VK_ACT_RELU, false, true, f16, 64);
    ck_assert_int_eq(last_gemm_kernel, can ? SH_GEMM_TEXEL_BCAST : SH_GEMM_TEXEL);
    force_texel = TUNED;
}
END_TEST

/* ---- LayerNorm --------------------------------------------------- */

/* Returns the kernel that ran. */
static vk_shader_id layernorm_case(uint32_t rows, uint32_t D, uint32_t stride, float eps, bool f16, bool out32)
{
    harness h;
    h_init(&h);
    float *X = rand_vec((size_t)rows * stride, 2.0f), *G = rand_vec(D, 1.0f), *Bv = rand_vec(D, 1.0f);
    for (size_t i = 0; i < (size_t)rows * stride; i++)
        X[i] += 3.0f; /* a large mean: the centred variance must not cancel */
    if (f16) {
        round_half(X, (size_t)rows * stride);
        round_half(G, D);
        round_half(Bv, D);
    }
    size_t es = f16 ? 2 : 4, os = (f16 && !out32) ? 2 : 4;
    vk_buffer *bx = h_buf(&h, (size_t)rows * stride * es), *bg = h_buf(&h, D * es), *bb = h_buf(&h, D * es);
    vk_buffer *by = h_buf(&h, (size_t)rows * D * os);
    h_commit(&h);
    h_write(&h, bx, X, (size_t)rows * stride, f16);
    h_write(&h, bg, G, D, f16);
    h_write(&h, bb, Bv, D, f16);
    ck_assert_int_eq(op_layernorm(&h.prog, &h.tune, f16, out32, bx, bg, bb, by, rows, D, 0, stride, D, eps, "ln"),
                     VITVK_OK);
    vk_shader_id ran = h.prog.items[h.prog.count - 1].kernel->id;
    h_run(&h);
    float *Y = h_read(&h, by, (size_t)rows * D, os == 2);
    double *ref = malloc((size_t)rows * D * sizeof *ref);
    for (uint32_t r = 0; r < rows; r++) {
        const float *x = X + (size_t)r * stride;
        double mean = 0, var = 0;
        for (uint32_t d = 0; d < D; d++)
            mean += x[d];
        mean /= D;
        for (uint32_t d = 0; d < D; d++)
            var += (x[d] - mean) * (x[d] - mean);
        var /= D;
        for (uint32_t d = 0; d < D; d++)
            ref[(size_t)r * D + d] = (x[d] - mean) / sqrt(var + eps) * G[d] + Bv[d];
    }
    expect_close("layernorm", Y, ref, (size_t)rows * D, os == 2 ? 1e-2 : 2e-5, os == 2 ? 2e-3 : 1e-5);
    free(X), free(G), free(Bv), free(Y), free(ref);
    h_destroy(&h);
    return ran;
}

START_TEST(layernorm_shapes)
{
    bool f16 = _i & 1;
    if (test_skip_fp16(f16, "layernorm_shapes"))
        return;
    ctx->kernel_family = (_i & 2) ? VITVK_KERNELS_GPU : VITVK_KERNELS_CPU;
    bool cpu = !(_i & 2);
    vk_shader_id ran = layernorm_case(394, 192, 192, 1e-12f, f16, false); /* texel kernel */
    if (cpu)
        ck_assert_int_eq(ran, SH_LAYERNORM_TEXEL);
    layernorm_case(7, 61, 61, 1e-6f, f16, false);          /* storage-buffer kernel */
    ran = layernorm_case(3, 192, 197 * 192, 1e-12f, f16, true); /* [CLS] rows of a batch of 3, fp32 out */
    if (cpu)
        ck_assert_int_eq(ran, SH_LAYERNORM_TEXEL_O32);
    layernorm_case(5, 60, 62, 1e-5f, f16, true);           /* stride not a multiple of 4 */
    /* an eps that matters (var ~1.3) in the texel (CPU) and subgroup (GPU) kernels */
    ran = layernorm_case(6, 64, 64, 0.5f, f16, false);
    if (cpu)
        ck_assert_int_eq(ran, SH_LAYERNORM_TEXEL);
}
END_TEST

/* ---- GEMM with the LayerNorm fused in front ---------------------- */

/* C = act(LN(X) * W^T + bias) (+ R) with the LayerNorm over the K values
 * of each row of X (row stride K + pad) taken inside the GEMM
 * (gemm_tiled's HAS_LN, as the ViT planner uses before qkv and fc1),
 * against LayerNorm then GEMM in double. Returns the worst
 * |got - want| / (1 + |want|) and checks that the fused variant ran. */
static double ln_gemm_case(uint32_t M, uint32_t N, uint32_t K, uint32_t pad, vk_act act, bool res, float eps,
                           bool f16)
{
    harness h;
    h_init(&h);
    ck_assert_msg(op_gemm_fuses_layernorm(ctx, &h.tune, f16, VK_GEMM_SAME), "the GPU family's tuning should fuse");
    uint32_t lda = K + pad;
    float *X = rand_vec((size_t)M * lda, 2.0f), *W = rand_vec((size_t)K * N, 0.2f);
    float *G = rand_vec(K, 1.0f), *Be = rand_vec(K, 0.5f), *Bv = rand_vec(N, 0.5f), *R = rand_vec((size_t)M * N, 1.0f);
    for (size_t i = 0; i < (size_t)M * lda; i++)
        X[i] += 3.0f; /* a large mean: the centred variance must not cancel */
    if (f16) {
        round_half(X, (size_t)M * lda);
        round_half(W, (size_t)K * N);
        round_half(G, K);
        round_half(Be, K);
        round_half(Bv, N);
        round_half(R, (size_t)M * N);
    }
    size_t es = f16 ? 2 : 4;
    vk_buffer *bx = h_buf(&h, (size_t)M * lda * es), *bw = h_buf(&h, (size_t)K * N * es);
    vk_buffer *bg = h_buf(&h, K * es), *be = h_buf(&h, K * es), *bb = h_buf(&h, N * es);
    vk_buffer *br = h_buf(&h, (size_t)M * N * es), *bc = h_buf(&h, (size_t)M * N * es);
    h_commit(&h);
    h_write(&h, bx, X, (size_t)M * lda, f16);
    h_write(&h, bw, W, (size_t)K * N, f16);
    h_write(&h, bg, G, K, f16);
    h_write(&h, be, Be, K, f16);
    h_write(&h, bb, Bv, N, f16);
    h_write(&h, br, R, (size_t)M * N, f16);
    vk_gemm_args g = {.a = bx, .w = bw, .bias = bb, .res = res ? br : NULL, .c = bc, .M = M, .N = N, .K = K,
                      .lda = lda, .ldc = N, .ldr = N, .act = act, .ln_g = bg, .ln_b = be, .ln_eps = eps};
    ck_assert_int_eq(op_gemm(&h.prog, &h.tune, f16, VK_GEMM_SAME, &g, "ln_gemm"), VITVK_OK);
    ck_assert_uint_eq(h.prog.count, 1); /* one dispatch: no separate LayerNorm */
    const vk_dispatch *d = &h.prog.items[0];
    ck_assert_msg(d->kernel->id == SH_GEMM_TILED, "ran kernel %d, not gemm_tiled", (int)d->kernel->id);
    ck_assert_msg(d->variant && strstr(d->variant, "LayerNorm fused"), "variant '%s' is not the fused one",
                  d->variant ? d->variant : "(none)");
    h_run(&h);
    float *C = h_read(&h, bc, (size_t)M * N, f16);
    double *ref = malloc((size_t)M * N * sizeof *ref), *a = malloc(K * sizeof *a);
    for (uint32_t m = 0; m < M; m++) {
        const float *x = X + (size_t)m * lda;
        double mean = 0, var = 0;
        for (uint32_t k = 0; k < K; k++)
            mean += x[k];
        mean /= K;
        for (uint32_t k = 0; k < K; k++)
            var += (x[k] - mean) * (x[k] - mean);
        var /= K;
        for (uint32_t k = 0; k < K; k++)
            a[k] = (x[k] - mean) / sqrt(var + eps) * G[k] + Be[k];
        for (uint32_t n = 0; n < N; n++) {
            double s = Bv[n];
            for (uint32_t k = 0; k < K; k++)
                s += a[k] * W[(size_t)n * K + k];
            s = ref_act(s, act);
            if (res)
                s += R[(size_t)m * N + n];
            ref[(size_t)m * N + n] = s;
        }
    }
    double worst = 0;
    for (size_t i = 0; i < (size_t)M * N; i++) {
        double e = fabs(C[i] - ref[i]) / (1.0 + fabs(ref[i]));
        worst = e > worst || isnan(e) ? e : worst;
    }
    char what[96];
    snprintf(what, sizeof what, "LN+gemm %ux%ux%u lda %u act %d res %d eps %g %s", M, N, K, lda, act, res, eps,
             f16 ? "fp16" : "fp32");
    /* |got - want| <= tol (1 + |want|). Measured on lavapipe (Mesa 22.3,
     * Debian 12), worst over these shapes: fp32 1.8e-6 (tol 1e-5), fp16
     * 3.2e-4 (tol 2e-3; mostly the rounding of C to half). */
    double tol = f16 ? 2e-3 : 1e-5;
    expect_close(what, C, ref, (size_t)M * N, tol, tol);
    free(X), free(W), free(G), free(Be), free(Bv), free(R), free(C), free(ref), free(a);
    h_destroy(&h);
    return worst;
}

/* Loop index: bit 0 = fp16. The GPU family's tiled GEMM (64 x 64 tiles,
 * 16-deep k steps) on shapes with ragged remainders in M, N and K, row
 * strides past K, every epilogue; cooperative matrices are turned off for
 * fp16 (a plan that uses them does not fuse). */
START_TEST(gemm_layernorm_fused)
{
    bool f16 = _i & 1;
    if (test_skip_fp16(f16, "gemm_layernorm_fused"))
        return;
    ctx->kernel_family = VITVK_KERNELS_GPU;
    ctx->coopmat_mode = VITVK_COOPMAT_OFF;
    ln_gemm_case(197, 192, 192, 0, VK_ACT_NONE, false, 1e-12f, f16); /* ViT qkv-like: 3 x 64 + 5 rows */
    ln_gemm_case(197, 61, 130, 3, VK_ACT_GELU, false, 1e-6f, f16);  /* fc1-like, K % 16 = 2, lda past K */
    ln_gemm_case(70, 130, 75, 0, VK_ACT_GELU_TANH, true, 1e-5f, f16);
    ln_gemm_case(3, 10, 33, 197 * 33 - 33, VK_ACT_NONE, false, 1e-6f, f16); /* [CLS] rows of a batch */
    ln_gemm_case(1, 1, 1, 0, VK_ACT_NONE, true, 1e-5f, f16); /* one value: LN gives beta */
    ln_gemm_case(65, 65, 17, 1, VK_ACT_QUICK_GELU, true, 0.5f, f16); /* an eps that matters (var ~1.3) */

    /* Where the tuning does not fuse (the CPU family), a LayerNorm handed to
     * op_gemm is an error, never silently dropped. */
    ctx->kernel_family = VITVK_KERNELS_CPU;
    harness h;
    h_init(&h);
    ck_assert(!op_gemm_fuses_layernorm(ctx, &h.tune, f16, VK_GEMM_SAME));
    vk_buffer *bx = h_buf(&h, 8 * 16 * 4), *bw = h_buf(&h, 16 * 16 * 4), *bg = h_buf(&h, 16 * 4);
    vk_buffer *bc = h_buf(&h, 8 * 16 * 4);
    h_commit(&h);
    vk_gemm_args g = {.a = bx, .w = bw, .c = bc, .M = 8, .N = 16, .K = 16, .lda = 16, .ldc = 16, .ln_g = bg,
                      .ln_b = bg, .ln_eps = 1e-6f};
    ck_assert_int_eq(op_gemm(&h.prog, &h.tune, f16, VK_GEMM_SAME, &g, "ln_gemm"), VITVK_ERR_INVALID_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(vitvk_context_last_error(ctx), "cannot fuse a LayerNorm"));
    ck_assert_uint_eq(h.prog.count, 0);
    h_destroy(&h);
}
END_TEST

/* ---- attention --------------------------------------------------- */

/* Reference attention probabilities of query row t of image b, head hh,
 * from qkv [N*T][3D] (head size hd): p[j] for j < T, in double. */
static void ref_probs_row_b(const float *QKV, const float *bias, uint32_t T, uint32_t D, uint32_t hd, uint32_t b,
                            uint32_t hh, uint32_t t, double *p)
{
    const float *q = QKV + ((size_t)b * T + t) * 3 * D + hh * hd;
    double m = -INFINITY, sum = 0;
    for (uint32_t j = 0; j < T; j++) {
        const float *k = QKV + ((size_t)b * T + j) * 3 * D + D + hh * hd;
        double d = 0;
        for (uint32_t e = 0; e < hd; e++)
            d += (double)q[e] * k[e];
        p[j] = d / sqrt((double)hd) + (bias ? bias[((size_t)hh * T + t) * T + j] : 0.0);
        m = p[j] > m ? p[j] : m;
    }
    for (uint32_t j = 0; j < T; j++)
        sum += (p[j] = exp(p[j] - m));
    for (uint32_t j = 0; j < T; j++)
        p[j] /= sum;
}

/* Without a score bias (its [H][T][T] additive table: BEiT). */
static void ref_probs_row(const float *QKV, uint32_t T, uint32_t D, uint32_t hd, uint32_t b, uint32_t hh, uint32_t t,
                          double *p)
{
    ref_probs_row_b(QKV, NULL, T, D, hd, b, hh, t, p);
}

/* Queries 0..Q-1 of each image against all T keys; rows t >= Q must keep
 * what the output held before (the last layer of a [CLS]-pooled model
 * runs with Q = 1). */
static void attention_case_b(uint32_t N, uint32_t T, uint32_t Q, uint32_t H, uint32_t D, bool f16, bool with_bias)
{
    harness h;
    h_init(&h);
    size_t n = (size_t)N * T * 3 * D, nb = (size_t)H * T * T;
    float *QKV = rand_vec(n, 2.0f), *bias = with_bias ? rand_vec(nb, 3.0f) : NULL;
    if (f16)
        round_half(QKV, n);
    size_t es = f16 ? 2 : 4;
    vk_buffer *bq = h_buf(&h, n * es), *bo = h_buf(&h, (size_t)N * T * D * es);
    vk_buffer *bb = with_bias ? h_buf(&h, nb * 4) : NULL;
    h_commit(&h);
    h_write(&h, bq, QKV, n, f16);
    if (bias)
        h_write(&h, bb, bias, nb, false);
    float *before = rand_vec((size_t)N * T * D, 1.0f);
    if (f16)
        round_half(before, (size_t)N * T * D);
    h_write(&h, bo, before, (size_t)N * T * D, f16);
    ck_assert_int_eq(op_attention(&h.prog, &h.tune, f16, bq, bb, bo, N, T, Q, H, D, "attention"), VITVK_OK);
    last_attn_kernel = h.prog.items[h.prog.count - 1].kernel->id;
    h_run(&h);
    float *O = h_read(&h, bo, (size_t)N * T * D, f16);
    double *ref = calloc((size_t)N * T * D, sizeof *ref);
    double *s = malloc(T * sizeof *s);
    uint32_t hd = D / H;
    for (uint32_t b = 0; b < N; b++)
        for (uint32_t hh = 0; hh < H; hh++)
            for (uint32_t t = 0; t < T; t++) {
                if (t >= Q) {
                    for (uint32_t e = 0; e < hd; e++)
                        ref[((size_t)b * T + t) * D + hh * hd + e] = before[((size_t)b * T + t) * D + hh * hd + e];
                    continue;
                }
                ref_probs_row_b(QKV, bias, T, D, hd, b, hh, t, s);
                for (uint32_t j = 0; j < T; j++) {
                    const float *v = QKV + ((size_t)b * T + j) * 3 * D + 2 * D + hh * hd;
                    for (uint32_t e = 0; e < hd; e++)
                        ref[((size_t)b * T + t) * D + hh * hd + e] += s[j] * v[e];
                }
            }
    char what[96];
    snprintf(what, sizeof what, "attention N %u T %u Q %u H %u D %u%s %s", N, T, Q, H, D, with_bias ? " bias" : "",
             f16 ? "fp16" : "fp32");
    expect_close(what, O, ref, (size_t)N * T * D, f16 ? 1e-2 : 1e-5, f16 ? 2e-3 : 1e-5);
    free(QKV), free(bias), free(before), free(O), free(ref), free(s);
    h_destroy(&h);
}

static void attention_case(uint32_t N, uint32_t T, uint32_t Q, uint32_t H, uint32_t D, bool f16)
{
    attention_case_b(N, T, Q, H, D, f16, false);
}

/* Attention probabilities of the first `rows` query rows ([CLS] row, or
 * whole maps for rollout), [N][H][rows][T]. */
static void attn_probs_case(uint32_t N, uint32_t T, uint32_t H, uint32_t D, uint32_t rows, bool f16)
{
    harness h;
    h_init(&h);
    size_t n = (size_t)N * T * 3 * D, np = (size_t)N * H * rows * T;
    float *QKV = rand_vec(n, 2.0f);
    if (f16)
        round_half(QKV, n);
    vk_buffer *bq = h_buf(&h, n * (f16 ? 2 : 4)), *bp = h_buf(&h, np * 4);
    h_commit(&h);
    h_write(&h, bq, QKV, n, f16);
    ck_assert_int_eq(op_attention_probs(&h.prog, &h.tune, f16, bq, NULL, bp, N, T, H, D, rows), VITVK_OK);
    h_run(&h);
    float *P = h_read(&h, bp, np, false);
    double *ref = calloc(np, sizeof *ref), *s = malloc(T * sizeof *s);
    uint32_t hd = D / H;
    for (uint32_t b = 0; b < N; b++)
        for (uint32_t hh = 0; hh < H; hh++)
            for (uint32_t t = 0; t < rows; t++) {
                ref_probs_row(QKV, T, D, hd, b, hh, t, s);
                for (uint32_t j = 0; j < T; j++)
                    ref[(((size_t)b * H + hh) * rows + t) * T + j] = s[j];
            }
    /* Probabilities are fp32 in both variants: worst on lavapipe 0.0017 of
     * a 1e-3 relative bound in fp16, 0.097 of 1e-5 in fp32. */
    expect_close("attention probabilities", P, ref, np, 1e-6, 1e-5);
    free(QKV), free(P), free(ref), free(s);
    h_destroy(&h);
}

START_TEST(attention_maps)
{
    if (test_skip_fp16(_i == 1, "attention_maps"))
        return;
    attn_probs_case(2, 17, 3, 48, 17, _i == 1);
    attn_probs_case(2, 197, 3, 192, 197, _i == 1);
    attn_probs_case(3, 197, 3, 192, 1, _i == 1);
}
END_TEST

START_TEST(attention_shapes)
{
    bool f16 = _i & 1;
    if (test_skip_fp16(f16, "attention_shapes"))
        return;
    ctx->kernel_family = (_i & 2) ? VITVK_KERNELS_GPU : VITVK_KERNELS_CPU;
    attention_case(2, 197, 197, 3, 192, f16); /* vit-tiny: 3 heads of 64 */
    attention_case(3, 17, 17, 4, 60, f16);    /* head size 15 */
    attention_case(1, 1, 1, 1, 8, f16);
    attention_case(3, 197, 1, 3, 192, f16);   /* [CLS] query only */
    attention_case(2, 37, 5, 4, 60, f16);
}
END_TEST

/* Attention on KHR cooperative matrices (attention_coopmat.comp), where
 * the device has them and the build compiled the kernel: ViT-B's heads of
 * 64 at 197 tokens, heads of 32 with a BEiT score bias, the [CLS] query
 * alone, token counts that are not a multiple of the key block, one token. */
START_TEST(attention_coopmat)
{
    ctx->kernel_family = VITVK_KERNELS_GPU;
    ctx->coopmat_mode = VITVK_COOPMAT_AUTO;
    vk_tuning t;
    vk_tuning_for(ctx, &t);
    if (!t.attn_cm_m) {
        coopmat_skipped("attention_coopmat");
        return;
    }
    static const uint32_t cases[][6] = {
        /* N, T, Q, H, D, bias */
        {2, 197, 197, 12, 768, 0}, {2, 197, 197, 3, 96, 1}, {3, 197, 1, 3, 192, 0},
        {1, 50, 50, 2, 128, 1},    {2, 37, 5, 1, 64, 0},    {1, 1, 1, 1, 64, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const uint32_t *c = cases[i];
        attention_case_b(c[0], c[1], c[2], c[3], c[4], true, c[5] != 0);
        ck_assert_msg(last_attn_kernel == SH_ATTENTION_COOPMAT, "case %zu ran kernel %d, not attention_coopmat", i,
                      (int)last_attn_kernel);
    }
    /* The context's own check of this kernel must pass where it is right. */
    double err = -1.0;
    ck_assert_msg(vk_attention_check(ctx, &t, &err) == VITVK_OK, "%s", vitvk_context_last_error(ctx));
    printf("attention_coopmat: the context's check: relative error %.3g\n", err);
    ck_assert(err >= 0.0 && err < 4e-3);
}
END_TEST

/* The texel attention, _i / 2 == 0 with keys and values handed round by
 * subgroupShuffle (the CPU family on lavapipe), 1 plain: head sizes of 16,
 * 8 and 4 texels (15 and 4: a partial last group of 8), queries past Q. */
START_TEST(attention_bcast)
{
    bool f16 = _i & 1, plain = _i / 2;
    if (test_skip_fp16(f16, "attention_bcast"))
        return;
    ctx->kernel_family = VITVK_KERNELS_CPU;
    bool can = !plain && ctx->caps.subgroup_shuffle && ctx->caps.subgroup_size == 8;
    vk_shader_id want = can ? SH_ATTENTION_TEXEL_BCAST : SH_ATTENTION_TEXEL;
    force_texel = plain ? FORCE_PLAIN : FORCE_BCAST;
    attention_case(2, 197, 197, 3, 192, f16); /* 3 heads of 64 */
    ck_assert_int_eq(last_attn_kernel, want);
    attention_case(2, 50, 50, 2, 120, f16);   /* head size 60 */
    attention_case(1, 33, 2, 3, 48, f16);     /* head size 16, two queries */
    attention_case(3, 9, 9, 1, 32, f16);
    ck_assert_int_eq(last_attn_kernel, want);
    force_texel = TUNED;
}
END_TEST

/* ---- Swin window attention ------------------------------------------ */

/* Region of position i on an axis of the shifted, padded map (transformers'
 * mask: three slices when shifted). */
static uint32_t ref_region(uint32_t i, uint32_t size, uint32_t ws, uint32_t shift)
{
    return i < size - ws ? 0 : (i < size - shift ? 1 : 2);
}

/* transformers' SwinSelfAttention on the rolled, padded map, per token:
 * padded keys are the zero token's (k, v = the biases), keys of another
 * region -100 when shifted. Returns the kernel that ran. */
static vk_shader_id window_case(uint32_t N, uint32_t H, uint32_t W, uint32_t C, uint32_t heads, uint32_t ws,
                                uint32_t shift, bool f16)
{
    harness h;
    h_init(&h);
    uint32_t T = H * W, hd = C / heads, ws2 = ws * ws;
    uint32_t Hp = (H + ws - 1) / ws * ws, Wp = (W + ws - 1) / ws * ws;
    size_t nq = (size_t)N * T * 3 * C, nr = (size_t)heads * ws2 * ws2, no = (size_t)N * T * C;
    float *QKV = rand_vec(nq, 2.0f), *B = rand_vec(3 * (size_t)C, 1.0f), *R = rand_vec(nr, 3.0f);
    if (f16)
        round_half(QKV, nq), round_half(B, 3 * (size_t)C);
    uint64_t nl = op_window_bias_lanes_floats(ctx, heads, ws, hd);
    vk_buffer *bq = h_buf(&h, nq * (f16 ? 2 : 4)), *bb = h_buf(&h, 3 * (size_t)C * (f16 ? 2 : 4));
    vk_buffer *br = h_buf(&h, nr * 4), *bo = h_buf(&h, no * (f16 ? 2 : 4)), *bl = nl ? h_buf(&h, nl * 4) : NULL;
    h_commit(&h);
    h_write(&h, bq, QKV, nq, f16);
    h_write(&h, bb, B, 3 * (size_t)C, f16);
    h_write(&h, br, R, nr, false);
    if (nl) {
        float *L = malloc(nl * sizeof *L);
        op_window_bias_lanes(R, L, heads, ws);
        h_write(&h, bl, L, nl, false);
        free(L);
    }
    vk_window_args a = {.qkv = bq, .qkv_bias = bb, .rel_bias = br, .rel_bias_lanes = bl, .out = bo,
                        .N = N, .H = H, .W = W, .C = C, .heads = heads, .window = ws, .shift = shift};
    ck_assert_int_eq(op_window_attention(&h.prog, &h.tune, f16, &a), VITVK_OK);
    vk_shader_id ran = h.prog.items[h.prog.count - 1].kernel->id;
    h_run(&h);
    float *O = h_read(&h, bo, no, f16);

    double *ref = calloc(no, sizeof *ref), *sc = malloc(ws2 * sizeof *sc);
    double scale = 1.0 / sqrt((double)hd);
    for (uint32_t n = 0; n < N; n++)
        for (uint32_t hh = 0; hh < heads; hh++)
            for (uint32_t tok = 0; tok < T; tok++) {
                uint32_t y = tok / W, x = tok % W;
                uint32_t i = (y + Hp - shift) % Hp, j = (x + Wp - shift) % Wp;
                uint32_t wi = i / ws * ws, wj = j / ws * ws, qi = (i - wi) * ws + (j - wj);
                uint32_t rq = ref_region(i, Hp, ws, shift) * 3 + ref_region(j, Wp, ws, shift);
                const float *q = QKV + ((size_t)n * T + tok) * 3 * C + hh * hd;
                double mx = -INFINITY, sum = 0;
                for (uint32_t kk = 0; kk < ws2; kk++) {
                    uint32_t ki = wi + kk / ws, kj = wj + kk % ws;
                    uint32_t ky = (ki + shift) % Hp, kx = (kj + shift) % Wp;
                    const float *k = ky < H && kx < W ? QKV + ((size_t)n * T + ky * W + kx) * 3 * C + C + hh * hd
                                                      : B + C + hh * hd;
                    double d = 0;
                    for (uint32_t e = 0; e < hd; e++)
                        d += (double)q[e] * k[e];
                    d = d * scale + R[((size_t)hh * ws2 + qi) * ws2 + kk];
                    if (shift && ref_region(ki, Hp, ws, shift) * 3 + ref_region(kj, Wp, ws, shift) != rq)
                        d -= 100.0;
                    sc[kk] = d;
                    mx = d > mx ? d : mx;
                }
                for (uint32_t kk = 0; kk < ws2; kk++)
                    sum += sc[kk] = exp(sc[kk] - mx);
                for (uint32_t kk = 0; kk < ws2; kk++) {
                    uint32_t ki = wi + kk / ws, kj = wj + kk % ws;
                    uint32_t ky = (ki + shift) % Hp, kx = (kj + shift) % Wp;
                    const float *v = ky < H && kx < W
                                         ? QKV + ((size_t)n * T + ky * W + kx) * 3 * C + 2 * C + hh * hd
                                         : B + 2 * C + hh * hd;
                    for (uint32_t e = 0; e < hd; e++)
                        ref[((size_t)n * T + tok) * C + hh * hd + e] += sc[kk] / sum * v[e];
                }
            }
    expect_close("window attention", O, ref, no, f16 ? 1e-2 : 1e-5, f16 ? 2e-3 : 1e-5);
    free(QKV), free(B), free(R), free(O), free(ref), free(sc);
    h_destroy(&h);
    return ran;
}

/* Every window-attention kernel against the reference: _i bit 0 fp16;
 * _i / 2 = 0 the CPU family as tuned (on lavapipe the window-per-workgroup
 * kernel wherever it applies), 1 the CPU family without shuffle (query per
 * lane), 2 the GPU family. Heads of 32 (Swin-T's) with window 7, shifted,
 * whole and padded maps; heads of 64 (two texel groups) with window 3;
 * heads of 12 (3 texels, fewer than the lanes); heads of 6 (no texels). */
START_TEST(window_attention)
{
    bool f16 = _i & 1;
    if (test_skip_fp16(f16, "window_attention"))
        return;
    int mode = _i / 2;
    ctx->kernel_family = mode == 2 ? VITVK_KERNELS_GPU : VITVK_KERNELS_CPU;
    force_texel = mode == 1 ? FORCE_PLAIN : TUNED;
    bool lanes = mode == 0 && ctx->caps.subgroup_shuffle && ctx->caps.subgroup_size == 8;
    vk_shader_id want = lanes ? SH_WINDOW_ATTENTION_BCAST : SH_WINDOW_ATTENTION_TEXEL;
    ck_assert_int_eq(window_case(2, 14, 14, 64, 2, 7, 3, f16), want);
    ck_assert_int_eq(window_case(1, 14, 14, 64, 2, 7, 0, f16), want);
    ck_assert_int_eq(window_case(1, 10, 12, 32, 1, 7, 3, f16), want); /* padded to 14 x 14 */
    ck_assert_int_eq(window_case(1, 6, 5, 128, 2, 3, 1, f16), want);  /* heads of 64 */
    ck_assert_int_eq(window_case(2, 8, 8, 48, 4, 4, 2, f16), want);   /* heads of 12 */
    /* window 12 with heads of 32 keeps too many queries per lane for the
     * window-per-workgroup kernel: the query-per-lane one runs */
    ck_assert_int_eq(window_case(1, 12, 12, 32, 1, 12, 0, f16), SH_WINDOW_ATTENTION_TEXEL);
    ck_assert_int_eq(window_case(1, 7, 7, 12, 2, 7, 0, f16), SH_WINDOW_ATTENTION);
    /* heads of 6 on padded maps, unshifted and shifted: padded keys that
     * are not masked, whose key and value are the zero token's (the biases) */
    ck_assert_int_eq(window_case(1, 10, 12, 12, 2, 7, 0, f16), SH_WINDOW_ATTENTION);
    ck_assert_int_eq(window_case(2, 6, 5, 12, 2, 3, 1, f16), SH_WINDOW_ATTENTION);
    force_texel = TUNED;
}
END_TEST

/* ---- patch embedding --------------------------------------------- */

START_TEST(patch_embedding)
{
    bool f16 = _i == 1;
    if (test_skip_fp16(f16, "patch_embedding"))
        return;
    const uint32_t N = 2, C = 3, H = 20, W = 28, P = 4, D = 7;
    const uint32_t gh = H / P, gw = W / P, np = gh * gw, T = np + 1, Kp = C * P * P;
    harness h;
    h_init(&h);
    float *X = rand_vec((size_t)N * C * H * W, 1.0f);
    float *Wt = rand_vec((size_t)Kp * D, 0.3f), *Bv = rand_vec(D, 0.5f);
    float *cls = rand_vec(D, 1.0f), *pos = rand_vec((size_t)T * D, 1.0f);
    if (f16) {
        round_half(Wt, (size_t)Kp * D);
        round_half(Bv, D);
        round_half(cls, D);
        round_half(pos, (size_t)T * D);
    }
    size_t es = f16 ? 2 : 4;
    vk_buffer *bx = h_buf(&h, (size_t)N * C * H * W * 4), *bp = h_buf(&h, (size_t)N * np * Kp * es);
    vk_buffer *bw = h_buf(&h, (size_t)Kp * D * es), *bb = h_buf(&h, D * es), *be = h_buf(&h, (size_t)N * np * D * es);
    vk_buffer *bc = h_buf(&h, D * es), *bpos = h_buf(&h, (size_t)T * D * es), *by = h_buf(&h, (size_t)N * T * D * es);
    h_commit(&h);
    h_write(&h, bx, X, (size_t)N * C * H * W, false);
    h_write(&h, bw, Wt, (size_t)Kp * D, f16);
    h_write(&h, bb, Bv, D, f16);
    h_write(&h, bc, cls, D, f16);
    h_write(&h, bpos, pos, (size_t)T * D, f16);
    ck_assert_int_eq(op_patchify(&h.prog, &h.tune, f16, bx, bp, N, C, H, W, P), VITVK_OK);
    vk_gemm_args g = {.a = bp, .w = bw, .bias = bb, .c = be, .M = N * np, .N = D, .K = Kp, .lda = Kp, .ldc = D};
    ck_assert_int_eq(op_gemm(&h.prog, &h.tune, f16, VK_GEMM_SAME, &g, "patch"), VITVK_OK);
    ck_assert_int_eq(op_embed(&h.prog, &h.tune, f16, be, bc, bpos, VK_POS_ALL, by, N, T, 1, D), VITVK_OK);
    h_run(&h);
    float *Y = h_read(&h, by, (size_t)N * T * D, f16);
    /* Reference: a direct stride-P convolution. */
    double *ref = malloc((size_t)N * T * D * sizeof *ref);
    for (uint32_t n = 0; n < N; n++)
        for (uint32_t t = 0; t < T; t++)
            for (uint32_t d = 0; d < D; d++) {
                double v;
                if (t == 0) {
                    v = cls[d];
                } else {
                    uint32_t py = (t - 1) / gw, px = (t - 1) % gw;
                    v = Bv[d];
                    for (uint32_t c = 0; c < C; c++)
                        for (uint32_t i = 0; i < P; i++)
                            for (uint32_t j = 0; j < P; j++) {
                                float x = X[(((size_t)n * C + c) * H + py * P + i) * W + px * P + j];
                                if (f16)
                                    x = vk_f16_to_f32(vk_f32_to_f16(x));
                                v += (double)x * Wt[(size_t)d * Kp + (c * P + i) * P + j];
                            }
                }
                ref[((size_t)n * T + t) * D + d] = v + pos[(size_t)t * D + d];
            }
    /* Worst on lavapipe: fp32 0.012 of 1e-5 (so 2e-6: 0.06), fp16 0.052. */
    expect_close("patch embedding", Y, ref, (size_t)N * T * D, f16 ? 2e-2 : 2e-6, f16 ? 2e-3 : 2e-6);
    free(X), free(Wt), free(Bv), free(cls), free(pos), free(Y), free(ref);
    h_destroy(&h);
}
END_TEST

/* ---- mean pooling ------------------------------------------------- */

/* y[n] = mean of x[n, t] over tokens first..T-1: BEiT and timm "avg"
 * after [CLS] (and registers), Swin over all tokens. Checked on its own:
 * in the models a LayerNorm follows, which hides any error of scale (a
 * sum divided by T instead of T - first). Loop index: fp16. */
static void meanpool_case(uint32_t N, uint32_t T, uint32_t D, uint32_t first, bool f16, bool out32)
{
    harness h;
    h_init(&h);
    size_t n = (size_t)N * T * D;
    float *X = rand_vec(n, 1.0f);
    for (size_t i = 0; i < n; i++)
        X[i] += 0.5f; /* a mean that is not 0, so that a wrong divisor shows */
    if (f16)
        round_half(X, n);
    size_t es = f16 ? 2 : 4, os = (f16 && !out32) ? 2 : 4;
    vk_buffer *bx = h_buf(&h, n * es), *by = h_buf(&h, (size_t)N * D * os);
    h_commit(&h);
    h_write(&h, bx, X, n, f16);
    ck_assert_int_eq(op_meanpool(&h.prog, &h.tune, f16, out32, bx, by, N, T, D, first), VITVK_OK);
    h_run(&h);
    float *Y = h_read(&h, by, (size_t)N * D, os == 2);
    double *ref = calloc((size_t)N * D, sizeof *ref);
    for (uint32_t b = 0; b < N; b++)
        for (uint32_t d = 0; d < D; d++) {
            for (uint32_t t = first; t < T; t++)
                ref[(size_t)b * D + d] += X[((size_t)b * T + t) * D + d];
            ref[(size_t)b * D + d] /= T - first;
        }
    char what[80];
    snprintf(what, sizeof what, "meanpool N %u T %u D %u first %u %s%s", N, T, D, first, f16 ? "fp16" : "fp32",
             out32 ? " out fp32" : "");
    expect_close(what, Y, ref, (size_t)N * D, os == 2 ? 1e-3 : 1e-6, os == 2 ? 2e-3 : 1e-5);
    free(X), free(Y), free(ref);
    h_destroy(&h);
}

START_TEST(meanpool)
{
    bool f16 = _i == 1;
    if (test_skip_fp16(f16, "meanpool"))
        return;
    meanpool_case(3, 197, 192, 1, f16, false); /* BEiT: after [CLS] */
    meanpool_case(2, 21, 48, 5, f16, false);   /* timm: [CLS] and 4 registers */
    meanpool_case(2, 49, 64, 0, f16, true);    /* Swin: every token, fp32 out */
}
END_TEST

/* ---- softmax and activations ------------------------------------- */

START_TEST(softmax_rows)
{
    const uint32_t rows = 5, cols = 1001;
    harness h;
    h_init(&h);
    float *X = rand_vec((size_t)rows * cols, 30.0f);
    X[3] = 1e4f; /* one dominant logit: the max must be subtracted */
    vk_buffer *bx = h_buf(&h, (size_t)rows * cols * 4), *by = h_buf(&h, (size_t)rows * cols * 4);
    h_commit(&h);
    h_write(&h, bx, X, (size_t)rows * cols, false);
    ck_assert_int_eq(op_softmax(&h.prog, &h.tune, bx, by, rows, cols), VITVK_OK);
    h_run(&h);
    float *Y = h_read(&h, by, (size_t)rows * cols, false);
    double *ref = malloc((size_t)rows * cols * sizeof *ref);
    for (uint32_t r = 0; r < rows; r++) {
        const float *x = X + (size_t)r * cols;
        double m = -INFINITY, s = 0;
        for (uint32_t j = 0; j < cols; j++)
            m = x[j] > m ? x[j] : m;
        for (uint32_t j = 0; j < cols; j++)
            s += exp(x[j] - m);
        for (uint32_t j = 0; j < cols; j++)
            ref[(size_t)r * cols + j] = exp(x[j] - m) / s;
    }
    expect_close("softmax", Y, ref, (size_t)rows * cols, 1e-7, 1e-5);
    free(X), free(Y), free(ref);
    h_destroy(&h);
}
END_TEST

START_TEST(activations)
{
    bool f16 = _i == 1;
    if (test_skip_fp16(f16, "activations"))
        return;
    const vk_act acts[] = {VK_ACT_GELU, VK_ACT_GELU_TANH, VK_ACT_QUICK_GELU, VK_ACT_RELU, VK_ACT_SILU, VK_ACT_TANH};
    const uint32_t n = 4099;
    for (size_t a = 0; a < sizeof acts / sizeof acts[0]; a++) {
        harness h;
        h_init(&h);
        float *X = rand_vec(n, 12.0f);
        X[0] = -200.0f; /* far tails must not overflow to NaN */
        X[1] = 200.0f;
        if (f16)
            round_half(X, n);
        size_t es = f16 ? 2 : 4;
        vk_buffer *bx = h_buf(&h, n * es), *by = h_buf(&h, n * es);
        h_commit(&h);
        h_write(&h, bx, X, n, f16);
        ck_assert_int_eq(op_activation(&h.prog, &h.tune, f16, acts[a], bx, by, n), VITVK_OK);
        h_run(&h);
        float *Y = h_read(&h, by, n, f16);
        double *ref = malloc(n * sizeof *ref);
        for (uint32_t i = 0; i < n; i++)
            ref[i] = ref_act(X[i], acts[a]);
        char what[64];
        snprintf(what, sizeof what, "activation %d", (int)acts[a]);
        expect_close(what, Y, ref, n, f16 ? 1e-3 : 1e-6, f16 ? 1e-3 : 2e-6);
        free(X), free(Y), free(ref);
        h_destroy(&h);
    }
}
END_TEST

/* ---- device limits ------------------------------------------------ */

/* A kernel whose workgroup, shared memory or subgroup is over what the
 * device allows gives way to one that fits, chosen by the op from
 * ctx->caps (faked small here, as gemm_texel_limits fakes the texel
 * limit), and the result must still be right; where there is no other
 * kernel, the pipeline is refused by name (VITVK_ERR_LIMIT), never left to
 * the driver. Loop index: bit 0 = fp16. */
START_TEST(workgroup_limits)
{
    bool f16 = _i & 1;
    if (test_skip_fp16(f16, "workgroup_limits"))
        return;
    vk_caps saved = ctx->caps;
    vk_tuning t;
    ctx->kernel_family = VITVK_KERNELS_GPU;
    ctx->coopmat_mode = VITVK_COOPMAT_OFF;

    /* 128 invocations, all the spec promises: the tiled GEMM's 256 do not
     * fit, so the storage-buffer GEMM runs and no LayerNorm is fused; the
     * elementwise kernels' groups shrink to 128. */
    ctx->caps.max_group_invocations = 128;
    vk_tuning_for(ctx, &t);
    ck_assert_uint_eq(t.elem_wg, 128);
    ck_assert(!op_gemm_fuses_layernorm(ctx, &t, f16, VK_GEMM_SAME));
    gemm_case(197, 61, 130, 1, VK_ACT_GELU, true, true, f16);
    ck_assert_int_eq(last_gemm_kernel, SH_GEMM);
    ctx->caps = saved;

    /* 8 KiB of shared memory: neither the tiled GEMM's tiles (9.6 KiB) nor
     * the flash attention's keys and values (16.1 KiB for heads of 64)
     * fit; the storage-buffer GEMM and the texel attention run. */
    ctx->caps.shared_memory = 8192;
    gemm_case(197, 192, 192, 0, VK_ACT_NONE, true, false, f16);
    ck_assert_int_eq(last_gemm_kernel, SH_GEMM);
    attention_case(2, 197, 197, 3, 192, f16);
    ck_assert_int_ne(last_attn_kernel, SH_ATTENTION_FLASH);
    ctx->caps = saved;

    /* Subgroups wider than the LayerNorm's 64-invocation groups: the
     * subgroup kernel would skip elements, so another one runs. */
    if (saved.subgroup_arith)
        ck_assert_int_eq(layernorm_case(394, 192, 192, 1e-12f, f16, false), SH_LAYERNORM_SUBGROUP);
    ctx->caps.subgroup_size = 128;
    ck_assert_int_ne(layernorm_case(394, 192, 192, 1e-12f, f16, false), SH_LAYERNORM_SUBGROUP);
    ctx->caps = saved;

    /* The CPU family's shuffle kernels hand texels round a subgroup of
     * exactly 8 lanes: with 16 lanes, or without shuffle, the plain texel
     * kernels run even where the tuning asks for the shuffle ones. */
    ctx->kernel_family = VITVK_KERNELS_CPU;
    force_texel = FORCE_BCAST;
    for (int c = 0; c < 2; c++) {
        if (c == 0)
            ctx->caps.subgroup_size = 16;
        else
            ctx->caps.subgroup_shuffle = false;
        gemm_case(197, 192, 192, 0, VK_ACT_GELU, true, true, f16);
        ck_assert_int_ne(last_gemm_kernel, SH_GEMM_TEXEL_BCAST);
        attention_case(2, 50, 50, 2, 120, f16);
        ck_assert_int_ne(last_attn_kernel, SH_ATTENTION_TEXEL_BCAST);
        ck_assert_int_ne(window_case(1, 14, 14, 64, 2, 7, 3, f16), SH_WINDOW_ATTENTION_BCAST);
        ctx->caps = saved;
    }
    force_texel = TUNED;

    /* NV cooperative matrices (faked: the tuning only) need 26 KiB of
     * shared memory: with 16 KiB the tiled GEMM stays. */
    ctx->kernel_family = VITVK_KERNELS_GPU;
    ctx->coopmat_mode = VITVK_COOPMAT_AUTO;
    ctx->caps.coopmat_khr = false;
    ctx->caps.coopmat_nv = true;
    ctx->caps.shared_memory = 16384;
    vk_tuning_for(ctx, &t);
    ck_assert_int_eq(t.gemm_coopmat, VK_COOPMAT_NONE);
    ctx->caps.shared_memory = 49152;
    vk_tuning_for(ctx, &t);
    ck_assert_int_eq(t.gemm_coopmat, VK_COOPMAT_NV);
    ctx->caps = saved;

    /* No kernel fits 4 invocations: the softmax's pipeline is refused. */
    ctx->caps.max_group_invocations = 4;
    harness h;
    h_init(&h);
    vk_buffer *bx = h_buf(&h, 5 * 7 * 4), *by = h_buf(&h, 5 * 7 * 4);
    h_commit(&h);
    ck_assert_int_eq(op_softmax(&h.prog, &h.tune, bx, by, 5, 7), VITVK_ERR_LIMIT);
    ck_assert_msg(strstr(vitvk_context_last_error(ctx), "maxComputeWorkGroupInvocations 4"), "%s",
                  vitvk_context_last_error(ctx));
    ck_assert_uint_eq(h.prog.count, 0);
    h_destroy(&h);
    ctx->caps = saved;
}
END_TEST

/* The device-side GEMM check the context runs before trusting a kernel
 * the tests cannot reach: it must pass for the kernels that the tests do
 * verify (both families, both precisions), or it would disable good
 * kernels. Loop index: bit 0 = fp16, bit 1 = GPU family. */
START_TEST(gemm_self_check)
{
    bool f16 = _i & 1;
    if (test_skip_fp16(f16, "gemm_self_check"))
        return;
    ctx->kernel_family = (_i & 2) ? VITVK_KERNELS_GPU : VITVK_KERNELS_CPU;
    vk_tuning t;
    vk_tuning_for(ctx, &t);
    double err = -1.0;
    ck_assert_msg(vk_gemm_check(ctx, &t, f16, &err) == VITVK_OK, "%s", vitvk_context_last_error(ctx));
    ck_assert(err >= 0.0 && err < (f16 ? 4e-3 : 1e-5));
}
END_TEST

/* The mapping of /proc/self/smaps that holds addr: whether it is shared
 * (Mesa 25's lavapipe maps a memfd; 22.3's mallocs), its resident kB in
 * *rss and its kB in huge pages (AnonHugePages, or ShmemPmdMapped when
 * shared). -1: not found. */
static long huge_kb_at(const void *addr, bool *shared, long *rss)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    if (!f)
        return -1;
    char line[512];
    bool inside = false;
    long kb = -1, v;
    *shared = false;
    *rss = -1;
    while (fgets(line, sizeof line, f)) {
        unsigned long long lo, hi;
        char perms[8];
        if (sscanf(line, "%llx-%llx %7s ", &lo, &hi, perms) == 3 && strchr(line, '-') < strchr(line, ' ')) {
            if (inside)
                break;
            inside = (uintptr_t)addr >= lo && (uintptr_t)addr < hi;
            if (inside)
                *shared = perms[3] == 's';
            continue;
        }
        if (inside && sscanf(line, *shared ? "ShmemPmdMapped: %ld kB" : "AnonHugePages: %ld kB", &v) == 1)
            kb = v;
        if (inside && sscanf(line, "Rss: %ld kB", &v) == 1)
            *rss = v;
    }
    fclose(f);
    return kb;
}

/* The first line of a sysfs file, or "" where there is none. */
static void read_line(const char *path, char *buf, size_t size)
{
    buf[0] = 0;
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    if (!fgets(buf, (int)size, f))
        buf[0] = 0;
    buf[strcspn(buf, "\n")] = 0;
    fclose(f);
}

/* On a CPU device an arena's memory is asked to be paged in 2 MiB pages
 * (memory.c), which Linux grants for private memory when transparent huge
 * pages are not "never" (Debian's default is "madvise", so without the
 * request the GEMMs run on 4 KiB pages) and for shared memory when
 * shmem_enabled is "advise" or "always". Elsewhere nothing is observable. */
START_TEST(arena_huge_pages)
{
    harness h;
    h_init(&h);
    size_t bytes = 16u << 20;
    vk_buffer *b = h_buf(&h, bytes);
    h_commit(&h);
    if (ctx->caps.type != VK_PHYSICAL_DEVICE_TYPE_CPU || !b->mapped) {
        fprintf(stderr, "arena_huge_pages: not a CPU device; nothing checked\n");
        h_destroy(&h);
        return;
    }
    /* A driver that clears its allocations (SwiftShader) has paged them in
     * 4 KiB pages before vitvk could ask for 2 MiB ones. */
    bool shared = false;
    long rss = 0;
    huge_kb_at(b->mapped + bytes / 2, &shared, &rss);
    if (rss >= (long)(bytes >> 11)) {
        printf("arena_huge_pages: skipped: the driver paged in the arena's memory itself (%ld kB resident before "
               "first use)\n", rss);
        test_skipped();
        h_destroy(&h);
        return;
    }
    memset(b->mapped, 1, bytes);
    long kb = huge_kb_at(b->mapped + bytes / 2, &shared, &rss);
    char mode[128];
    read_line(shared ? "/sys/kernel/mm/transparent_hugepage/shmem_enabled"
                     : "/sys/kernel/mm/transparent_hugepage/enabled", mode, sizeof mode);
    if (!mode[0] || strstr(mode, "[never]") || strstr(mode, "[deny]")) {
        fprintf(stderr, "arena_huge_pages: transparent huge pages off for %s memory (%s); nothing checked\n",
                shared ? "shared" : "private", mode[0] ? mode : "no sysfs");
    } else {
        ck_assert_msg(kb >= 2048, "%ld kB in huge pages in the arena's %s mapping (%s)", kb,
                      shared ? "shared" : "private", mode);
    }
    h_destroy(&h);
}
END_TEST

static Suite *kernels_suite(void)
{
    Suite *s = suite_create("kernels");
    TCase *tc = tcase_create("kernels");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    /* loop index bit 0: fp16 storage; bit 1 (where present): the GPU kernel
     * family (shared-memory GEMM tiles, flash attention, subgroup
     * LayerNorm) instead of the CPU one */
    tcase_add_loop_test(tc, gemm_shapes, 0, 4);
    tcase_add_loop_test(tc, gemm_coopmat, 0, 4);
    tcase_add_test(tc, attention_coopmat);
    tcase_add_loop_test(tc, gemm_texel_limits, 0, 2);
    tcase_add_loop_test(tc, gemm_texel_bcast, 0, 4);
    tcase_add_loop_test(tc, attention_bcast, 0, 4);
    tcase_add_loop_test(tc, window_attention, 0, 6);
    tcase_add_loop_test(tc, gemm_blocked_weights, 0, 2);
    tcase_add_loop_test(tc, layernorm_shapes, 0, 4);
    tcase_add_loop_test(tc, gemm_layernorm_fused, 0, 2);
    tcase_add_loop_test(tc, attention_shapes, 0, 4);
    tcase_add_loop_test(tc, attention_maps, 0, 2);
    tcase_add_loop_test(tc, patch_embedding, 0, 2);
    tcase_add_loop_test(tc, meanpool, 0, 2);
    tcase_add_test(tc, softmax_rows);
    tcase_add_loop_test(tc, activations, 0, 2);
    tcase_add_loop_test(tc, gemm_self_check, 0, 4);
    tcase_add_loop_test(tc, workgroup_limits, 0, 2);
    tcase_add_test(tc, arena_huge_pages);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    test_skip_init();
    SRunner *sr = srunner_create(kernels_suite());
    srunner_run_all(sr, CK_NORMAL);
    test_skip_report("test_kernels");
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
