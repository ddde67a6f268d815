#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_KHR_cooperative_matrix : require
#extension GL_KHR_memory_scope_semantics : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
// gemm_coopmat.comp - C = act(A * W^T + bias) (+ R), fp16 storage, on
// tensor cores through VK_KHR_cooperative_matrix (AMD RDNA3, Intel Arc,
// NVIDIA, Mesa's lavapipe). Products are fp16 x fp16, accumulated in fp32,
// or in fp16 with -DACC_F16.
//
// The matrix shape (CM x CN x CK) is whatever the device lists
// (vkGetPhysicalDeviceCooperativeMatrixPropertiesKHR: 16x16x16 or 16x8x16
// on NVIDIA, 8x8x8 on lavapipe), and the tiles are chosen from it and the
// device's limits (lib/ops/tuning.c): all are specialization constants, so
// one SPIR-V module serves every device. A workgroup of (BM / WM) x
// (BN / WN) subgroups owns a BM x BN tile of C; each subgroup a WM x WN
// part of it, (WM / CM) x (WN / CN) accumulators.
//
// The BM x BK tile of A and BN x BK tile of W go through shared memory in
// 16-byte pieces, two stages deep: while the subgroups multiply stage s,
// each thread holds its pieces of the next k tile in registers and stores
// them into stage s ^ 1, so one barrier per k step suffices. Rows past M or
// N and columns past K are zeros; with VEC (K and lda multiples of 8, the
// usual case) the pieces are single 128-bit loads, otherwise eight scalar
// loads. W's rows are B's columns, so B loads column-major from the same
// layout as A. The epilogue (bias, activation, residual) needs element
// indices, which the matrix types do not expose: each accumulator goes
// through a per-subgroup fp32 scratch in shared memory.
#include "common.glsl"

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;
layout(constant_id = 1) const uint BM = 64;
layout(constant_id = 2) const uint BN = 64;
layout(constant_id = 3) const uint BK = 32;
layout(constant_id = 4) const uint WM = 32;
layout(constant_id = 5) const uint WN = 32;
layout(constant_id = 6) const uint CM = 16;
layout(constant_id = 7) const uint CN = 16;
layout(constant_id = 8) const uint CK = 16;
layout(constant_id = 9) const uint ACT = 0;
layout(constant_id = 10) const bool HAS_BIAS = true;
layout(constant_id = 11) const bool HAS_RES = false;
layout(constant_id = 12) const bool VEC = true;
layout(constant_id = 13) const uint SG = 32; // the subgroup size the tiles were made for

#ifdef ACC_F16
#define ACC_T float16_t
#else
#define ACC_T float
#endif

layout(std430, binding = 0) readonly buffer BufA { float16_t a[]; };
layout(std430, binding = 0) readonly buffer BufA4 { uvec4 a4[]; };
layout(std430, binding = 1) readonly buffer BufW { float16_t w[]; };
layout(std430, binding = 1) readonly buffer BufW4 { uvec4 w4[]; };
layout(std430, binding = 2) readonly buffer BufB { float16_t bias[]; };
layout(std430, binding = 3) readonly buffer BufR { float16_t res[]; };
layout(std430, binding = 4) writeonly buffer BufC { float16_t c[]; };

layout(push_constant) uniform Push {
    uint M, N, K, lda, ldc, ldr, pad0, pad1;
} p;

const uint NSG_N = BN / WN;
const uint NSG = (BM / WM) * NSG_N;
const uint WG = NSG * SG;
const uint TM = WM / CM, TN = WN / CN;
// Shared rows in 16-byte pieces (8 halves): BK / 8 of data and one of
// padding, so that rows start in different banks.
const uint LDS = BK / 8 + 1;
const uint A_PIECES = BM * (BK / 8), W_PIECES = BN * (BK / 8);
const uint A_PER_T = (A_PIECES + WG - 1) / WG, W_PER_T = (W_PIECES + WG - 1) / WG;

shared uvec4 As[2 * BM * LDS];
shared uvec4 Ws[2 * BN * LDS];
shared float Cs[NSG * CM * CN];

// Eight halves of row `row` (of `rows`) from column k of a row-major matrix
// with stride ld, zeros past the edges.
uvec4 piece_a(uint row, uint k)
{
    if (row >= p.M || k >= p.K)
        return uvec4(0);
    if (VEC)
        return a4[(row * p.lda + k) / 8];
    f16vec2 h[4];
    for (uint i = 0; i < 4; i++) {
        uint k0 = k + 2 * i;
        h[i] = f16vec2(k0 < p.K ? a[row * p.lda + k0] : float16_t(0), k0 + 1 < p.K ? a[row * p.lda + k0 + 1] : float16_t(0));
    }
    return uvec4(packFloat2x16(h[0]), packFloat2x16(h[1]), packFloat2x16(h[2]), packFloat2x16(h[3]));
}

uvec4 piece_w(uint row, uint k)
{
    if (row >= p.N || k >= p.K)
        return uvec4(0);
    if (VEC)
        return w4[(row * p.K + k) / 8];
    f16vec2 h[4];
    for (uint i = 0; i < 4; i++) {
        uint k0 = k + 2 * i;
        h[i] = f16vec2(k0 < p.K ? w[row * p.K + k0] : float16_t(0), k0 + 1 < p.K ? w[row * p.K + k0 + 1] : float16_t(0));
    }
    return uvec4(packFloat2x16(h[0]), packFloat2x16(h[1]), packFloat2x16(h[2]), packFloat2x16(h[3]));
}

void main()
{
    uint t = gl_LocalInvocationID.x;
    uint sg = gl_SubgroupID, lane = gl_SubgroupInvocationID;
    uint wm = sg / NSG_N, wn = sg % NSG_N;
    uint m0 = gl_WorkGroupID.y * BM, n0 = gl_WorkGroupID.x * BN;

    coopmat<ACC_T, gl_ScopeSubgroup, CM, CN, gl_MatrixUseAccumulator> acc[TM * TN];
    for (uint i = 0; i < TM * TN; i++)
        acc[i] = coopmat<ACC_T, gl_ScopeSubgroup, CM, CN, gl_MatrixUseAccumulator>(0.0);

    uvec4 ra[A_PER_T], rw[W_PER_T];
    // Piece e of a tile: row e / (BK / 8), 8-half column e % (BK / 8).
#define FETCH(k0)                                                                          \
    for (uint i = 0; i < A_PER_T; i++) {                                                   \
        uint e = t + i * WG;                                                               \
        ra[i] = e < A_PIECES ? piece_a(m0 + e / (BK / 8), (k0) + e % (BK / 8) * 8) : uvec4(0); \
    }                                                                                      \
    for (uint i = 0; i < W_PER_T; i++) {                                                   \
        uint e = t + i * WG;                                                               \
        rw[i] = e < W_PIECES ? piece_w(n0 + e / (BK / 8), (k0) + e % (BK / 8) * 8) : uvec4(0); \
    }
#define STASH(s)                                                                           \
    for (uint i = 0; i < A_PER_T; i++) {                                                   \
        uint e = t + i * WG;                                                               \
        if (e < A_PIECES)                                                                  \
            As[(s) * BM * LDS + e / (BK / 8) * LDS + e % (BK / 8)] = ra[i];                 \
    }                                                                                      \
    for (uint i = 0; i < W_PER_T; i++) {                                                   \
        uint e = t + i * WG;                                                               \
        if (e < W_PIECES)                                                                  \
            Ws[(s) * BN * LDS + e / (BK / 8) * LDS + e % (BK / 8)] = rw[i];                 \
    }

    uint steps = (p.K + BK - 1) / BK;
    FETCH(0)
    STASH(0)
    barrier();
    for (uint step = 0; step < steps; step++) {
        uint s = step & 1;
        bool more = step + 1 < steps;
        if (more) {
            FETCH((step + 1) * BK)
        }
        for (uint ks = 0; ks < BK; ks += CK) {
            coopmat<float16_t, gl_ScopeSubgroup, CM, CK, gl_MatrixUseA> ma[TM];
            coopmat<float16_t, gl_ScopeSubgroup, CK, CN, gl_MatrixUseB> mb[TN];
            for (uint i = 0; i < TM; i++)
                coopMatLoad(ma[i], As, s * BM * LDS + (wm * WM + i * CM) * LDS + ks / 8, LDS,
                            gl_CooperativeMatrixLayoutRowMajor);
            for (uint j = 0; j < TN; j++)
                coopMatLoad(mb[j], Ws, s * BN * LDS + (wn * WN + j * CN) * LDS + ks / 8, LDS,
                            gl_CooperativeMatrixLayoutColumnMajor);
            for (uint i = 0; i < TM; i++)
                for (uint j = 0; j < TN; j++)
                    acc[i * TN + j] = coopMatMulAdd(ma[i], mb[j], acc[i * TN + j]);
        }
        if (more) {
            STASH(s ^ 1)
        }
        barrier();
    }

    // Epilogue, one accumulator at a time through this subgroup's scratch.
    // Every subgroup takes every step, including matrices wholly past M or
    // N, whose elements the bounds test drops: the subgroup barriers stay
    // in control flow uniform across the workgroup (on Mesa 26's lavapipe
    // skipping them per subgroup lost other subgroups' stores).
    uint scratch = sg * CM * CN;
    for (uint i = 0; i < TM; i++) {
        for (uint j = 0; j < TN; j++) {
            uint mt = m0 + wm * WM + i * CM, nt = n0 + wn * WN + j * CN;
            coopmat<float, gl_ScopeSubgroup, CM, CN, gl_MatrixUseAccumulator> f =
                coopmat<float, gl_ScopeSubgroup, CM, CN, gl_MatrixUseAccumulator>(acc[i * TN + j]);
            coopMatStore(f, Cs, scratch, CN, gl_CooperativeMatrixLayoutRowMajor);
            subgroupMemoryBarrierShared();
            subgroupBarrier();
            for (uint e = lane; e < CM * CN; e += SG) {
                uint m = mt + e / CN, n = nt + e % CN;
                if (m < p.M && n < p.N) {
                    float v = Cs[scratch + e];
                    if (HAS_BIAS)
                        v += float(bias[n]);
                    v = activate(v, ACT);
                    if (HAS_RES)
                        v += float(res[m * p.ldr + n]);
                    c[m * p.ldc + n] = float16_t(v);
                }
            }
            subgroupMemoryBarrierShared();
            subgroupBarrier();
        }
    }
}
