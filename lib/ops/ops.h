/* ops.h - the operators a forward pass is built from. Each appends one
 * prepared dispatch to a vk_program; the kernel and its pipelines are
 * owned by the context (made once, reused by every plan).
 *
 * `fp16` selects the kernel variant whose storage is half precision;
 * arithmetic is fp32 in every variant. Sizes are in elements. */
#ifndef VITVK_OPS_H
#define VITVK_OPS_H
#include "../internal.h"

/* Activation codes, as in shaders/common.glsl. */
typedef enum vk_act {
    VK_ACT_NONE = 0,
    VK_ACT_GELU = 1,
    VK_ACT_GELU_TANH = 2,
    VK_ACT_QUICK_GELU = 3,
    VK_ACT_RELU = 4,
    VK_ACT_SILU = 5,
    VK_ACT_TANH = 6
} vk_act;

/* Maps a transformers hidden_act name to a code; -1 if unknown. */
int vk_act_from_name(const char *name);

/* Tile sizes and workgroup sizes for the device (tuning.c). */
typedef enum vk_coopmat { VK_COOPMAT_NONE, VK_COOPMAT_NV, VK_COOPMAT_KHR } vk_coopmat;
/* gemm_coopmat_nv.comp's fixed workgroup: four subgroups of 32, and its
 * shared memory: A and W tiles of 64 x 40 halves, the 64 x 64 fp32
 * epilogue tile (26 KiB). */
enum { VK_COOPMAT_NV_WG = 128, VK_COOPMAT_NV_SHARED = 2 * 64 * 40 * 2 + 64 * 64 * 4 };

typedef struct vk_tuning {
    uint32_t gemm_wg, gemm_tm, gemm_tn;   /* storage-buffer GEMM (any shape) */
    bool gemm_texel;                      /* use the texel-buffer GEMM where K % 4 == 0 */
    bool gemm_tiled;                      /* GPUs: the shared-memory tiled GEMM for every shape */
    vk_coopmat gemm_coopmat;              /* fp16 plans: the tensor-core GEMM, if any */
    /* Its tiles (KHR): BM x BN per workgroup of (BM / WM) x (BN / WN)
     * subgroups of `sg` lanes, k steps of BK, matrices of the shape the
     * device lists (cm x cn x ck), accumulated in fp16 when acc16. */
    uint32_t cm_bm, cm_bn, cm_bk, cm_wm, cm_wn, cm_m, cm_n, cm_k, cm_sg;
    bool cm_acc16;
    bool cm_force; /* tests: keep cm_bm x cm_bn whatever the grid */
    /* fp16 attention on KHR cooperative matrices: the fp32-accumulating
     * shape (attn_cm_m x n x k), 0 when not used. */
    uint32_t attn_cm_m, attn_cm_n, attn_cm_k;
    uint32_t tiled_wg, tiled_bm, tiled_bn, tiled_bk, tiled_tm, tiled_tn;
    uint32_t texel_wg, texel_tm, texel_tn;
    bool texel_bcast;    /* rows of A by subgroupShuffle (texel_wg 8 = one subgroup, texel_tm % 8 == 0) */
    uint32_t rows_wg;    /* layernorm / softmax: invocations per group */
    bool norm_texel;     /* texel-buffer LayerNorm where D and the stride % 4 == 0 */
    bool norm_subgroup;  /* GPUs: one subgroup per row */
    uint32_t attn_wg;
    bool attn_texel;     /* texel-buffer attention where the head size % 4 == 0 */
    uint32_t attn_tq;    /* its queries per invocation */
    bool attn_bcast;     /* keys and values by subgroupShuffle (attn_wg 8 = one subgroup) */
    bool attn_flash;     /* GPUs: keys and values through shared memory, attn_bkv rows at a time */
    uint32_t attn_bkv;
    uint32_t elem_wg;    /* elementwise kernels */
} vk_tuning;
/* Rows of A per texel-GEMM block on CPU devices: the shuffle variant (a
 * multiple of 8) and the plain one (tuning.c says why). Tests that force
 * either variant use these, so that they run the blocks lavapipe runs. */
enum { VK_CPU_TEXEL_TM_BCAST = 24, VK_CPU_TEXEL_TM_PLAIN = 18 };

void vk_tuning_for(const vitvk_context *ctx, vk_tuning *out);

/* Shared memory of the KHR kernel's tiles: two stages of A and W in
 * 16-byte pieces with one of padding per row, and one fp32 matrix of
 * epilogue scratch per subgroup. */
uint64_t vk_coopmat_shared_bytes(uint32_t bm, uint32_t bn, uint32_t bk, uint32_t nsg, uint32_t m, uint32_t n);
/* Whether the KHR cooperative-matrix GEMM can run with `tile` (BM, BN, BK,
 * WM, WN, M, N, K: vitvk_context_desc.coopmat_tile) on this device; if
 * not, says why in `why`. */
bool vk_coopmat_tile_check(const vitvk_context *ctx, const uint32_t tile[8], char *why, size_t why_size);

/* Whether the texel kernels' broadcast variants can run with wg invocations
 * per workgroup: they hand texels round one subgroup of exactly 8 lanes
 * (subgroupShuffle with constant lanes 0..7), so the workgroup must be
 * that subgroup and the device must have subgroup shuffle in compute. */
bool vk_broadcast_ok(const vitvk_context *ctx, uint32_t wg);

/* Whether a vec4 kernel may read `b` through a texel view (imageLoad of
 * RGBA32F, or RGBA16F for fp16 kernels): the device supports the format
 * for storage texel buffers and the view fits maxTexelBufferElements
 * (65536 texels is all the spec promises). */
static inline bool vk_texel_view_ok(const vitvk_context *ctx, bool fp16, const vk_buffer *b)
{
    return ctx->caps.storage_texel && b->size / (fp16 ? 8u : 16u) <= ctx->caps.max_texel_elements;
}

typedef enum vk_gemm_kind {
    VK_GEMM_SAME,  /* A, W, C in the plan's precision */
    VK_GEMM_W16    /* fp16 plans: W half, A and C fp32 (classifier heads) */
} vk_gemm_kind;

/* C[M,N] (row stride ldc) = act(A[M,K] (row stride lda) * W[K,N] + bias)
 * (+ res[M,N], row stride ldr). bias and res may be NULL. */
typedef struct vk_gemm_args {
    const vk_buffer *a, *w, *bias, *res, *c;
    uint32_t M, N, K, lda, ldc, ldr;
    vk_act act;
    /* LayerNorm of A's rows fused in front (op_gemm_fuses_layernorm says
     * when the kernel can): A = LN(a) with these, or NULL. */
    const vk_buffer *ln_g, *ln_b;
    float ln_eps;
} vk_gemm_args;
/* The texel GEMM of the CPU family reads W faster blocked by columns:
 * W'[N / nb][K / 4][nb][4], so that the invocations of a workgroup, each
 * owning columns j * wg + lane, load consecutive texels at every k step
 * instead of one stream per row of W. Returns nb for an N x K weight that
 * the GEMM on this context will read that way (op_gemm then requires
 * g->w->w_block == nb), or 0 for row-major. */
uint32_t op_gemm_w_block(const vitvk_context *ctx, uint32_t N, uint32_t K, bool fp16, vk_gemm_kind kind);
/* src (N x K, row-major) to dst in the blocked layout with nb columns per
 * block; N % nb == 0 and K % 4 == 0. */
void op_gemm_w_permute(const float *src, float *dst, uint32_t N, uint32_t K, uint32_t nb);

vitvk_status op_gemm(vk_program *p, const vk_tuning *t, bool fp16, vk_gemm_kind kind, const vk_gemm_args *g,
                     const char *label);
/* Whether op_gemm with this tuning takes a LayerNorm of A (ln_g / ln_b)
 * instead of a separate op_layernorm dispatch: the tiled GEMM runs, which
 * needs its workgroup and shared memory within the device's limits. */
bool op_gemm_fuses_layernorm(const vitvk_context *ctx, const vk_tuning *t, bool fp16, vk_gemm_kind kind);

/* Runs the GEMM that tuning `t` selects on a 70 x 72 x 88 problem with
 * bias, exact GELU and a residual, on the device, and compares it with a
 * double-precision product on the host. *max_err receives the worst
 * |got - want| / (1 + |want|); VITVK_OK when it is within fp16 output
 * rounding (4e-3) or fp32 accuracy (1e-5). For kernels the tests cannot
 * reach (vendor-only cooperative matrices): the context runs it before
 * using one. */
vitvk_status vk_gemm_check(vitvk_context *ctx, const vk_tuning *t, bool fp16, double *max_err);

/* The checks' common run (gemm_check.c): finalizes and records `prog`
 * once, copies `bytes` of `out` into `readback` (of arena rb), waits, and
 * makes it visible to the host. */
vitvk_status vk_check_run(vitvk_context *ctx, vk_program *prog, const vk_buffer *out, vk_arena *rb,
                          const vk_buffer *readback, uint64_t bytes);

/* The same for fp16 attention with tuning t (attention_check.c): 37 tokens,
 * two heads of 64 and a score bias against a double-precision softmax;
 * VITVK_OK when the worst |got - want| / (1 + |want|) is within 4e-3. The
 * context runs it before using the cooperative-matrix attention. */
vitvk_status vk_attention_check(vitvk_context *ctx, const vk_tuning *t, double *max_err);

/* rows of D values: in (row r at in_off + r * in_stride) -> out (row
 * stride out_stride). out32: in fp16 plans, write fp32. */
vitvk_status op_layernorm(vk_program *p, const vk_tuning *t, bool fp16, bool out32, const vk_buffer *in,
                          const vk_buffer *gamma, const vk_buffer *beta, const vk_buffer *out, uint32_t rows,
                          uint32_t D, uint32_t in_off, uint32_t in_stride, uint32_t out_stride, float eps,
                          const char *label);

/* qkv [N*T, 3D] -> out [N*T, D], H heads of head_dim D/H, for the first
 * Q (1 <= Q <= T) query tokens of each image against all T keys: rows
 * n*T + t of out with t >= Q are not written. score_bias (may be NULL):
 * fp32 [H][T][T] added to the scaled scores before the softmax. */
vitvk_status op_attention(vk_program *p, const vk_tuning *t, bool fp16, const vk_buffer *qkv,
                          const vk_buffer *score_bias, const vk_buffer *out, uint32_t N, uint32_t T, uint32_t Q,
                          uint32_t H, uint32_t D, const char *label);

/* The attention probabilities of the first `rows` query rows of qkv
 * [N*T, 3D] (score_bias as op_attention) -> probs fp32 [N, H, rows, T]:
 * rows = 1 gives the [CLS] row, rows = T the whole map. */
vitvk_status op_attention_probs(vk_program *p, const vk_tuning *t, bool fp16, const vk_buffer *qkv,
                                const vk_buffer *score_bias, const vk_buffer *probs, uint32_t N, uint32_t T,
                                uint32_t H, uint32_t D, uint32_t rows);

/* x [N, T, D] -> y [N, D]: mean over tokens first..T-1 (out32: fp32 y in
 * fp16 plans). */
vitvk_status op_meanpool(vk_program *p, const vk_tuning *t, bool fp16, bool out32, const vk_buffer *x,
                         const vk_buffer *y, uint32_t N, uint32_t T, uint32_t D, uint32_t first);

/* Swin window attention on qkv [N, H*W, 3C] (unshifted token order) ->
 * out [N, H*W, C]; qkv_bias [3C] stands for padded tokens; rel_bias fp32
 * [heads][ws*ws][ws*ws]. rel_bias_lanes (may be NULL) is the same table
 * in the lane order of the CPU kernel that runs one window per workgroup
 * (op_window_bias_lanes); that kernel runs only where it is given. */
typedef struct vk_window_args {
    const vk_buffer *qkv, *qkv_bias, *rel_bias, *rel_bias_lanes, *out;
    uint32_t N, H, W, C, heads, window, shift;
} vk_window_args;
vitvk_status op_window_attention(vk_program *p, const vk_tuning *t, bool fp16, const vk_window_args *a);

/* Floats of the lane-ordered bias table for (heads, window) when this
 * context's kernels may read it (a CPU device with 8-lane shuffle and a
 * head size of hd), else 0: the loader keeps it beside rel_bias. */
uint64_t op_window_bias_lanes_floats(const vitvk_context *ctx, uint32_t heads, uint32_t window, uint32_t hd);

/* rel_bias [heads][ws2][ws2] -> the lane table: float i % 4 of texel
 * ((h * ws2 + k) * 8 + lane) * TQ4 + i / 4 is the bias of key k for query
 * lane + 8 i (0 past the window), TQ4 = ceil(ceil(ws2 / 8) / 4). dst holds
 * op_window_bias_lanes_floats floats. */
void op_window_bias_lanes(const float *rel_bias, float *dst, uint32_t heads, uint32_t window);

/* Swin patch merging gather: x [N, H, W, C] -> y [N, ceil(H/2)*ceil(W/2), 4C]. */
vitvk_status op_patch_merge(vk_program *p, const vk_tuning *t, bool fp16, const vk_buffer *x, const vk_buffer *y,
                            uint32_t N, uint32_t H, uint32_t W, uint32_t C);

/* pixels [N,C,H,W] fp32 -> rows [N*(H/P)*(W/P), C*P*P]. */
vitvk_status op_patchify(vk_program *p, const vk_tuning *t, bool fp16, const vk_buffer *pixels,
                         const vk_buffer *out, uint32_t N, uint32_t C, uint32_t H, uint32_t W, uint32_t P);

/* Position embeddings: none, one per token, or one per patch only. */
typedef enum vk_pos_mode { VK_POS_NONE = 0, VK_POS_ALL = 1, VK_POS_PATCHES = 2 } vk_pos_mode;

/* patches [N*(T-npre), D], prefix tokens [npre, D], pos -> tokens [N*T, D]
 * (prefix tokens first). pos may be NULL with VK_POS_NONE. */
vitvk_status op_embed(vk_program *p, const vk_tuning *t, bool fp16, const vk_buffer *patches,
                      const vk_buffer *prefix, const vk_buffer *pos, vk_pos_mode pos_mode, const vk_buffer *out,
                      uint32_t N, uint32_t T, uint32_t npre, uint32_t D);

/* fp32 rows x cols -> fp32 probabilities. */
vitvk_status op_softmax(vk_program *p, const vk_tuning *t, const vk_buffer *in, const vk_buffer *out,
                        uint32_t rows, uint32_t cols);

/* Elementwise activation, count values. */
vitvk_status op_activation(vk_program *p, const vk_tuning *t, bool fp16, vk_act act, const vk_buffer *in,
                           const vk_buffer *out, uint32_t count);
#endif
