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
//
// HAS_LN fuses the LayerNorm in front of the GEMM (A = LN(X) * W^T, as
// before the qkv and fc1 projections): the workgroup first takes the mean
// and then the centred variance of its BM rows of X (LN_TPR invocations per
// row, WG == BM * LN_TPR), and normalises A as it stages it. One dispatch
// less per LayerNorm, and the normalised rows are never stored.
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
layout(constant_id = 9) const bool HAS_LN = false;
layout(constant_id = 10) const uint LN_TPR = 4;

layout(std430, binding = 0) readonly buffer BufA { A_T a[]; };
layout(std430, binding = 1) readonly buffer BufW { W_T w[]; };
layout(std430, binding = 2) readonly buffer BufB { W_T bias[]; };
layout(std430, binding = 3) readonly buffer BufR { C_T res[]; };
layout(std430, binding = 4) writeonly buffer BufC { C_T c[]; };
layout(std430, binding = 5) readonly buffer BufG { W_T ln_gamma[]; };
layout(std430, binding = 6) readonly buffer BufE { W_T ln_beta[]; };

layout(push_constant) uniform Push {
    uint M, N, K, lda, ldc, ldr;
    float ln_eps;
    uint pad1;
} p;

// k-major tiles; +1 keeps the transposing stores off a single bank.
shared float As[BK * (BM + 1)];
shared float Ws[BK * (BN + 1)];
shared float ln_part[BM * LN_TPR];
shared float ln_mean[BM], ln_rstd[BM];

// Sum over this invocation's share of row m (k = q, q + LN_TPR, ...), of
// x - centre (squared when `square`), then the row total via shared memory.
float ln_row_total(uint t, uint r, uint q, uint m, float centre, bool square)
{
    float s = 0.0;
    for (uint k = q; k < p.K; k += LN_TPR) {
        float d = float(a[m * p.lda + k]) - centre;
        s += square ? d * d : d;
    }
    ln_part[t] = s;
    barrier();
    float total = 0.0;
    for (uint i = 0; i < LN_TPR; i++)
        total += ln_part[r * LN_TPR + i];
    barrier();
    return total;
}

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

    if (HAS_LN) {
        uint r = t / LN_TPR, q = t % LN_TPR;
        uint m = min(m0 + r, p.M - 1);
        float mean = ln_row_total(t, r, q, m, 0.0, false) / float(p.K);
        float var = ln_row_total(t, r, q, m, mean, true) / float(p.K);
        if (q == 0) {
            ln_mean[r] = mean;
            ln_rstd[r] = 1.0 / sqrt(var + p.ln_eps);
        }
        barrier();
    }

    for (uint k0 = 0; k0 < p.K; k0 += BK) {
        // Consecutive invocations read consecutive k of one row: coalesced.
        for (uint e = t; e < BM * BK; e += WG) {
            uint r = e / BK, kk = e % BK;
            uint m = m0 + r, k = k0 + kk;
            float v = (m < p.M && k < p.K) ? float(a[m * p.lda + k]) : 0.0;
            if (HAS_LN && m < p.M && k < p.K)
                v = (v - ln_mean[r]) * ln_rstd[r] * float(ln_gamma[k]) + float(ln_beta[k]);
            As[kk * (BM + 1) + r] = v;
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
