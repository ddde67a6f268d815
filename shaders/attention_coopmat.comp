#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_KHR_cooperative_matrix : require
#extension GL_KHR_memory_scope_semantics : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
// attention_coopmat.comp - multi-head self-attention, flash style, with
// Q·Kᵀ and P·V on tensor cores (VK_KHR_cooperative_matrix), fp16 storage.
//
// A workgroup of NSG subgroups owns NSG x CM query rows of one head of one
// image; each subgroup CM rows. Keys and values stream through shared
// memory BKV rows at a time. Per block, each subgroup:
//   S = Q·Kᵀ        (CM x BKV, fp32 accumulators, into its scratch Ss)
//   softmax step     (a lane per row: scale, score bias, running maximum
//                     and sum in fp32; P = exp(S - m) as fp16 into Ps; the
//                     factor that rescales the old output into As)
//   O = O·diag(a) + P·V  (O, CM x HD fp32, lives in shared memory: the
//                     matrix types cannot scale rows, so each block loads
//                     it as accumulators, adds P·V and stores it back)
// and at the end O / l goes out. The score matrix is never stored beyond
// one block. The matrix shape (CM x CN x CK) is one the device lists; HD
// and BKV are multiples of CN and CK (lib/ops/attention.c checks).
// qkv holds, per token, [q (D) | k (D) | v (D)], head h at h*HD.. of each.
//
// Every subgroup takes every step, so the barriers stay in control flow
// uniform across the workgroup (Mesa 26's lavapipe needs it: see
// gemm_coopmat.comp).
#include "common.glsl"

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;
layout(constant_id = 1) const uint HD = 64;
layout(constant_id = 2) const bool HAS_BIAS = false; // additive score bias per head (BEiT relative positions)
layout(constant_id = 3) const uint BKV = 32;
layout(constant_id = 4) const uint CM = 16;
layout(constant_id = 5) const uint CN = 16;
layout(constant_id = 6) const uint CK = 16;
layout(constant_id = 7) const uint SG = 32; // subgroup size
layout(constant_id = 8) const uint NSG = 4; // subgroups per workgroup

layout(std430, binding = 0) readonly buffer BufQKV { float16_t qkv[]; };
layout(std430, binding = 1) writeonly buffer BufO { float16_t o[]; };
layout(std430, binding = 2) readonly buffer BufS { float sbias[]; }; // [H][T][T]

layout(push_constant) uniform Push {
    uint T, H, D;
    uint Q; // queries per image: the first Q of the T tokens (Q <= T)
    float scale;
    uint pad1;
} p;

const uint BQ = NSG * CM;
// fp16 rows padded by 8 halves: 16-byte aligned, staggered banks.
const uint LDQ = HD + 8, LDP = BKV + 8;

shared float16_t Qs[BQ * LDQ];
shared float16_t Ks[BKV * LDQ];
shared float16_t Vs[BKV * LDQ];
shared float16_t Ps[NSG * CM * LDP];
shared float Ss[NSG * CM * BKV];
shared float Os[NSG * CM * HD];
shared float Ms[BQ], Ls[BQ], As[BQ];

void main()
{
    uint t = gl_LocalInvocationID.x;
    uint WG = NSG * SG;
    uint sg = gl_SubgroupID, lane = gl_SubgroupInvocationID;
    uint q0 = gl_WorkGroupID.x * BQ;
    uint h = gl_WorkGroupID.y;
    uint n = gl_WorkGroupID.z;
    uint row3 = 3 * p.D;
    uint base = n * p.T * row3 + h * HD;

    // Queries (zeros past Q), output and softmax state.
    for (uint e = t; e < BQ * HD; e += WG) {
        uint r = e / HD, d = e % HD;
        Qs[r * LDQ + d] = q0 + r < p.Q ? qkv[base + (q0 + r) * row3 + d] : float16_t(0);
    }
    for (uint e = t; e < NSG * CM * HD; e += WG)
        Os[e] = 0.0;
    for (uint e = t; e < BQ; e += WG) {
        Ms[e] = -1e30;
        Ls[e] = 0.0;
    }
    barrier();

    uint sq = sg * CM; // this subgroup's first row in Qs, Ms, Ls, As
    coopmat<float16_t, gl_ScopeSubgroup, CM, CK, gl_MatrixUseA> qa[HD / CK];
    for (uint c = 0; c < HD / CK; c++)
        coopMatLoad(qa[c], Qs, sq * LDQ + c * CK, LDQ, gl_CooperativeMatrixLayoutRowMajor);

    for (uint kb = 0; kb < p.T; kb += BKV) {
        for (uint e = t; e < BKV * HD; e += WG) {
            uint j = e / HD, d = e % HD;
            bool inside = kb + j < p.T;
            uint r = base + (kb + j) * row3;
            Ks[j * LDQ + d] = inside ? qkv[r + p.D + d] : float16_t(0);
            Vs[j * LDQ + d] = inside ? qkv[r + 2 * p.D + d] : float16_t(0);
        }
        barrier();

        // S = Q·Kᵀ: K's rows are Kᵀ's columns.
        for (uint j = 0; j < BKV / CN; j++) {
            coopmat<float, gl_ScopeSubgroup, CM, CN, gl_MatrixUseAccumulator> s =
                coopmat<float, gl_ScopeSubgroup, CM, CN, gl_MatrixUseAccumulator>(0.0);
            for (uint c = 0; c < HD / CK; c++) {
                coopmat<float16_t, gl_ScopeSubgroup, CK, CN, gl_MatrixUseB> kt;
                coopMatLoad(kt, Ks, j * CN * LDQ + c * CK, LDQ, gl_CooperativeMatrixLayoutColumnMajor);
                s = coopMatMulAdd(qa[c], kt, s);
            }
            coopMatStore(s, Ss, sq * BKV + j * CN, BKV, gl_CooperativeMatrixLayoutRowMajor);
        }
        subgroupMemoryBarrierShared();
        subgroupBarrier();

        // Softmax step, a lane per row.
        for (uint r = lane; r < CM; r += SG) {
            uint row = sq + r, q = min(q0 + row, p.Q - 1);
            float m = Ms[row], mb = m;
            for (uint j = 0; j < BKV; j++) {
                float v = Ss[row * BKV + j] * p.scale;
                if (HAS_BIAS)
                    v += sbias[(h * p.T + q) * p.T + min(kb + j, p.T - 1)];
                v = kb + j < p.T ? v : -3.402823e38;
                Ss[row * BKV + j] = v;
                mb = max(mb, v);
            }
            float a = exp(m - mb), l = Ls[row] * a;
            for (uint j = 0; j < BKV; j++) {
                float e = kb + j < p.T ? exp(Ss[row * BKV + j] - mb) : 0.0;
                float16_t eh = float16_t(e);
                l += float(eh); // the sum of what P·V adds
                Ps[row * LDP + j] = eh;
            }
            Ms[row] = mb;
            Ls[row] = l;
            As[row] = a;
        }
        subgroupMemoryBarrierShared();
        subgroupBarrier();
        for (uint e = lane; e < CM * HD; e += SG)
            Os[sq * HD + e] *= As[sq + e / HD];
        subgroupMemoryBarrierShared();
        subgroupBarrier();

        // O += P·V
        for (uint j = 0; j < HD / CN; j++) {
            coopmat<float, gl_ScopeSubgroup, CM, CN, gl_MatrixUseAccumulator> acc;
            coopMatLoad(acc, Os, sq * HD + j * CN, HD, gl_CooperativeMatrixLayoutRowMajor);
            for (uint c = 0; c < BKV / CK; c++) {
                coopmat<float16_t, gl_ScopeSubgroup, CM, CK, gl_MatrixUseA> pa;
                coopmat<float16_t, gl_ScopeSubgroup, CK, CN, gl_MatrixUseB> vb;
                coopMatLoad(pa, Ps, sq * LDP + c * CK, LDP, gl_CooperativeMatrixLayoutRowMajor);
                coopMatLoad(vb, Vs, c * CK * LDQ + j * CN, LDQ, gl_CooperativeMatrixLayoutRowMajor);
                acc = coopMatMulAdd(pa, vb, acc);
            }
            coopMatStore(acc, Os, sq * HD + j * CN, HD, gl_CooperativeMatrixLayoutRowMajor);
        }
        subgroupMemoryBarrierShared();
        subgroupBarrier();
        barrier(); // every subgroup done with Ks and Vs
    }

    for (uint e = lane; e < CM * HD; e += SG) {
        uint r = e / HD, d = e % HD, q = q0 + sq + r;
        if (q < p.Q)
            o[(n * p.T + q) * p.D + h * HD + d] = float16_t(Os[sq * HD + e] / Ls[sq + r]);
    }
}
