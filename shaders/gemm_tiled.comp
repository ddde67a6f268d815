#version 450
#extension GL_GOOGLE_include_directive : require
// gemm_tiled.comp - C = act(A * W^T + bias) (+ R) for GPUs: shared-memory
// tiles, register blocks.
//
// A is M x K (row stride lda), W is N x K as PyTorch stores a Linear
// weight, C and R are M x N. A workgroup owns a BM x BN tile of C; per
// step of BK it stages BM x BK of A and BN x BK of W in shared memory
// (k-major, so the inner loop reads a broadcast A value and consecutive W
// values: no bank conflicts), and each invocation accumulates a TM x TN
// block in registers, in fp32 whatever the storage type. Any M, N, K.
// WG must equal (BM / TM) * (BN / TN); the tuning table guarantees it.
#include "common.glsl"

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;
layout(constant_id = 1) const uint BM = 64;
layout(constant_id = 2) const uint BN = 64;
layout(constant_id = 3) const uint BK = 16;
layout(constant_id = 4) const uint TM = 4;
layout(constant_id = 5) const uint TN = 4;
layout(constant_id = 6) const uint ACT = 0;
layout(constant_id = 7) const bool HAS_BIAS = true;
layout(constant_id = 8) const bool HAS_RES = false;

layout(std430, binding = 0) readonly buffer BufA { A_T a[]; };
layout(std430, binding = 1) readonly buffer BufW { W_T w[]; };
layout(std430, binding = 2) readonly buffer BufB { W_T bias[]; };
layout(std430, binding = 3) readonly buffer BufR { C_T res[]; };
layout(std430, binding = 4) writeonly buffer BufC { C_T c[]; };

layout(push_constant) uniform Push {
    uint M, N, K, lda, ldc, ldr, pad0, pad1;
} p;

// k-major tiles; +1 keeps the transposing stores off a single bank.
shared float As[BK * (BM + 1)];
shared float Ws[BK * (BN + 1)];

void main()
{
    uint t = gl_LocalInvocationID.x;
    uint RX = BN / TN, RY = BM / TM;
    uint tx = t % RX, ty = t / RX;
    uint m0 = gl_WorkGroupID.y * BM, n0 = gl_WorkGroupID.x * BN;
    uint WG = gl_WorkGroupSize.x;

    float acc[TM * TN];
    for (uint i = 0; i < TM * TN; i++)
        acc[i] = 0.0;

    for (uint k0 = 0; k0 < p.K; k0 += BK) {
        // Consecutive invocations read consecutive k of one row: coalesced.
        for (uint e = t; e < BM * BK; e += WG) {
            uint r = e / BK, kk = e % BK;
            uint m = m0 + r, k = k0 + kk;
            As[kk * (BM + 1) + r] = (m < p.M && k < p.K) ? float(a[m * p.lda + k]) : 0.0;
        }
        for (uint e = t; e < BN * BK; e += WG) {
            uint r = e / BK, kk = e % BK;
            uint n = n0 + r, k = k0 + kk;
            Ws[kk * (BN + 1) + r] = (n < p.N && k < p.K) ? float(w[n * p.K + k]) : 0.0;
        }
        barrier();
        for (uint kk = 0; kk < BK; kk++) {
            float av[TM], wv[TN];
            for (uint i = 0; i < TM; i++)
                av[i] = As[kk * (BM + 1) + ty + i * RY];
            for (uint j = 0; j < TN; j++)
                wv[j] = Ws[kk * (BN + 1) + tx + j * RX];
            for (uint i = 0; i < TM; i++)
                for (uint j = 0; j < TN; j++)
                    acc[i * TN + j] = fma(av[i], wv[j], acc[i * TN + j]);
        }
        barrier();
    }

    for (uint i = 0; i < TM; i++) {
        uint m = m0 + ty + i * RY;
        if (m >= p.M)
            continue;
        for (uint j = 0; j < TN; j++) {
            uint n = n0 + tx + j * RX;
            if (n >= p.N)
                continue;
            float v = acc[i * TN + j];
            if (HAS_BIAS)
                v += float(bias[n]);
            v = activate(v, ACT);
            if (HAS_RES)
                v += float(res[m * p.ldr + n]);
            c[m * p.ldc + n] = C_T(v);
        }
    }
}
