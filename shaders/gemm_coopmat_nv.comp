#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_NV_cooperative_matrix : require
#extension GL_KHR_memory_scope_semantics : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
// gemm_coopmat_nv.comp - C = act(A * W^T + bias) (+ R) with fp16 storage
// on NVIDIA tensor cores through VK_NV_cooperative_matrix: 16x16x16 fp16
// products accumulated in fp32.
//
// A workgroup of four 32-wide subgroups owns a 64 x 64 tile of C, each
// subgroup a 32 x 32 quarter (2 x 2 matrices). A and W tiles (64 x 32)
// are staged in shared memory with zeros past the edges, so any M, N and
// K work; W's rows are B's columns, so B loads column-major from the same
// layout. The fp32 accumulators go through shared memory once more for
// the epilogue (bias, activation, residual), which needs element indices
// the matrix types do not expose. Needs subgroup size 32 (context.c:
// caps.coopmat_nv) and 26 KiB of shared memory (tuning.c and op_gemm check:
// VK_COOPMAT_NV_SHARED).
#include "common.glsl"

layout(local_size_x = 128, local_size_y = 1, local_size_z = 1) in;
layout(constant_id = 0) const uint ACT = 0;
layout(constant_id = 1) const bool HAS_BIAS = true;
layout(constant_id = 2) const bool HAS_RES = false;

layout(std430, binding = 0) readonly buffer BufA { A_T a[]; };
layout(std430, binding = 1) readonly buffer BufW { W_T w[]; };
layout(std430, binding = 2) readonly buffer BufB { W_T bias[]; };
layout(std430, binding = 3) readonly buffer BufR { C_T res[]; };
layout(std430, binding = 4) writeonly buffer BufC { C_T c[]; };

layout(push_constant) uniform Push {
    uint M, N, K, lda, ldc, ldr, pad0, pad1;
} p;

const uint BM = 64, BN = 64, BK = 32;
const uint LDS = BK + 8; // 80-byte rows: 16-byte aligned, staggered banks

shared float16_t As[BM * LDS];
shared float16_t Ws[BN * LDS];
shared float Cs[BM * BN];

#define MAT16 fcoopmatNV<16, gl_ScopeSubgroup, 16, 16>
#define MAT32 fcoopmatNV<32, gl_ScopeSubgroup, 16, 16>

void main()
{
    uint t = gl_LocalInvocationID.x;
    uint sg = t / 32;
    uint wm = sg / 2, wn = sg % 2;
    uint m0 = gl_WorkGroupID.y * BM, n0 = gl_WorkGroupID.x * BN;

    MAT32 acc[2][2];
    for (uint i = 0; i < 2; i++)
        for (uint j = 0; j < 2; j++)
            acc[i][j] = MAT32(0.0);

    for (uint k0 = 0; k0 < p.K; k0 += BK) {
        for (uint e = t; e < BM * BK; e += 128) {
            uint r = e / BK, kk = e % BK;
            uint m = m0 + r, n = n0 + r, k = k0 + kk;
            As[r * LDS + kk] = (m < p.M && k < p.K) ? float16_t(a[m * p.lda + k]) : float16_t(0.0);
            Ws[r * LDS + kk] = (n < p.N && k < p.K) ? float16_t(w[n * p.K + k]) : float16_t(0.0);
        }
        barrier();
        for (uint ks = 0; ks < BK; ks += 16) {
            MAT16 ma[2], mb[2];
            for (uint i = 0; i < 2; i++)
                coopMatLoadNV(ma[i], As, (wm * 32 + i * 16) * LDS + ks, LDS, false);
            for (uint j = 0; j < 2; j++)
                coopMatLoadNV(mb[j], Ws, (wn * 32 + j * 16) * LDS + ks, LDS, true);
            for (uint i = 0; i < 2; i++)
                for (uint j = 0; j < 2; j++)
                    acc[i][j] = coopMatMulAddNV(ma[i], mb[j], acc[i][j]);
        }
        barrier();
    }

    for (uint i = 0; i < 2; i++)
        for (uint j = 0; j < 2; j++)
            coopMatStoreNV(acc[i][j], Cs, (wm * 32 + i * 16) * BN + wn * 32 + j * 16, BN, false);
    barrier();
    for (uint e = t; e < BM * BN; e += 128) {
        uint m = m0 + e / BN, n = n0 + e % BN;
        if (m >= p.M || n >= p.N)
            continue;
        float v = Cs[e];
        if (HAS_BIAS)
            v += float(bias[n]);
        v = activate(v, ACT);
        if (HAS_RES)
            v += float(res[m * p.ldr + n]);
        c[m * p.ldc + n] = C_T(v);
    }
}
