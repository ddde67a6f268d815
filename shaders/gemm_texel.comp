#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
// gemm_texel.comp - C = act(A * W^T + bias) (+ R), operands read as vec4
// texels (imageLoad from storage texel buffers).
//
// A is M x K (row stride lda), W is N x K as PyTorch stores it; K and lda
// are multiples of 4 so every row is whole texels. This is the CPU
// kernel (lavapipe). There a storage-buffer load in a loop is a loop over
// the 8 lanes, texelFetch of a float format an out-of-line call that
// spills every vector register, while imageLoad of RGBA32F is inline:
// eight 16-byte loads and a transpose. Every load costs the same whether
// or not the lanes share its address, so the block per invocation
// (TM x TN, loops forced unrolled so the accumulators stay registers and
// never become an indexed array) sets the loads per flop: (TM + TN) texels
// for TM * TN dot products. The texel format also widens fp16 to fp32.
// Each invocation owns TN columns (spaced a whole dispatch width apart, so
// neighbouring lanes read neighbouring rows of W) for TM rows shared by the
// workgroup.
//
// BROADCAST (the b32/b16 variants; a workgroup of one subgroup of 8
// lanes, TM a multiple of 8): lane l loads row l of each 8-row group and
// subgroupShuffle with a constant lane hands every row to all lanes, one
// texel load per 8 rows of A instead of one per row. llvmpipe compiles a
// shuffle by a constant to one or two register permutes (22.3 and 25),
// where subgroupBroadcast is a loop over the lanes on 22.3; Mesa 25 also
// makes imageLoad an out-of-line call, which this halves the count of
// (lib/ops/tuning.c).
//
// p.m_base is the first row of this dispatch's blocks: op_gemm may run the
// rows that do not fill a TM-row block as a second dispatch with a smaller
// TM, so that computed-and-discarded rows stay under 8.
#ifdef BROADCAST
#extension GL_KHR_shader_subgroup_shuffle : require
#endif
#include "common.glsl"

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;
layout(constant_id = 1) const uint TM = 8;
layout(constant_id = 2) const uint TN = 1;
layout(constant_id = 3) const uint ACT = 0;
layout(constant_id = 4) const bool HAS_BIAS = true;
layout(constant_id = 5) const bool HAS_RES = false;
// W blocked by columns (op_gemm_w_block): W_BLOCK = WG * TN columns per
// block, texel (n, k) at ((n / W_BLOCK) * K/4 + k) * W_BLOCK + n % W_BLOCK,
// and invocation `lane` of workgroup x owns columns x * W_BLOCK + j * WG +
// lane: at each k step the workgroup reads W_BLOCK consecutive texels.
// 0: row-major N x K, columns spaced a whole dispatch width apart.
layout(constant_id = 6) const uint W_BLOCK = 0;

layout(TEXEL_FMT, binding = 0) readonly uniform imageBuffer A4;
layout(TEXEL_FMT, binding = 1) readonly uniform imageBuffer W4;
layout(std430, binding = 2) readonly buffer BufB { W_T bias[]; };
layout(std430, binding = 3) readonly buffer BufR { C_T res[]; };
layout(std430, binding = 4) writeonly buffer BufC { C_T c[]; };

layout(push_constant) uniform Push {
    uint M, N, K, lda, ldc, ldr, m_base, pad1;
} p;

uint column(uint j)
{
    if (W_BLOCK != 0u)
        return gl_WorkGroupID.x * W_BLOCK + j * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
    return gl_GlobalInvocationID.x + j * gl_NumWorkGroups.x * gl_WorkGroupSize.x;
}

void main()
{
    uint m0 = p.m_base + gl_WorkGroupID.y * TM;
    uint K4 = p.K / 4;
    int wrow[TN];
    float acc[TM * TN];
    [[unroll]] for (uint j = 0; j < TN; j++)
        wrow[j] = W_BLOCK != 0u ? int(gl_WorkGroupID.x * K4 * W_BLOCK + j * gl_WorkGroupSize.x + gl_LocalInvocationID.x)
                                : int(min(column(j), p.N - 1) * K4);
    int wstep = W_BLOCK != 0u ? int(W_BLOCK) : 1;
    [[unroll]] for (uint i = 0; i < TM * TN; i++)
        acc[i] = 0.0;

#ifdef BROADCAST
    int agroup[TM / 8];
    [[unroll]] for (uint g = 0; g < TM / 8; g++)
        agroup[g] = int(min(m0 + g * 8 + gl_SubgroupInvocationID, p.M - 1) * (p.lda / 4));
#else
    int arow[TM];
    [[unroll]] for (uint i = 0; i < TM; i++)
        arow[i] = int(min(m0 + i, p.M - 1) * (p.lda / 4));
#endif
    for (int k = 0; k < int(K4); k++) {
        vec4 wv[TN];
        [[unroll]] for (uint j = 0; j < TN; j++)
            wv[j] = imageLoad(W4, wrow[j] + k * wstep);
#ifdef BROADCAST
        [[unroll]] for (uint g = 0; g < TM / 8; g++) {
            vec4 a8 = imageLoad(A4, agroup[g] + k);
            // The 8 rows spelled out, so that every lane index is a constant.
#define ROW(r)                                                   \
            {                                                    \
                vec4 av = subgroupShuffle(a8, r);                \
                [[unroll]] for (uint j = 0; j < TN; j++)         \
                    acc[(g * 8 + r) * TN + j] += dot(av, wv[j]); \
            }
            ROW(0u) ROW(1u) ROW(2u) ROW(3u) ROW(4u) ROW(5u) ROW(6u) ROW(7u)
#undef ROW
        }
#else
        [[unroll]] for (uint i = 0; i < TM; i++) {
            vec4 av = imageLoad(A4, arow[i] + k);
            [[unroll]] for (uint j = 0; j < TN; j++)
                acc[i * TN + j] += dot(av, wv[j]);
        }
#endif
    }

    [[unroll]] for (uint j = 0; j < TN; j++) {
        uint n = column(j);
        if (n >= p.N)
            break;
        // Loaded once per column, not per row: on llvmpipe every storage-
        // buffer load here is a loop over the 8 lanes, and the epilogue's
        // code (tens of KiB, run once per workgroup) is a tenth of a
        // small-K GEMM's time.
        float bj = HAS_BIAS ? float(bias[n]) : 0.0;
        [[unroll]] for (uint i = 0; i < TM; i++) {
            uint m = m0 + i;
            if (m >= p.M)
                break;
            float v = acc[i * TN + j];
            if (HAS_BIAS)
                v += bj;
            v = activate(v, ACT);
            if (HAS_RES)
                v += float(res[m * p.ldr + n]);
            c[m * p.ldc + n] = C_T(v);
        }
    }
}
