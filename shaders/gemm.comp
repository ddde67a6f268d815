#version 450
#extension GL_GOOGLE_include_directive : require
// gemm.comp - C = act(A * W^T + bias) (+ R), register-blocked.
//
// A is M x K (row stride lda), W is N x K as PyTorch stores a Linear weight,
// C and R are M x N (row strides ldc, ldr). Each invocation owns a TM x TN
// block of C and keeps it in registers; no shared memory and no barriers.
// This is the portable fallback: any K, any alignment. W_BLOCK > 0 reads W
// in the texel GEMM's blocked layout (op_gemm_w_permute: W_BLOCK columns'
// vec4s of k side by side), for a plan whose activations outgrow the
// device's texel-buffer limit after the loader blocked the weights.
#include "common.glsl"

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;
layout(constant_id = 1) const uint TM = 4;
layout(constant_id = 2) const uint TN = 4;
layout(constant_id = 3) const uint ACT = 0;
layout(constant_id = 4) const bool HAS_BIAS = true;
layout(constant_id = 5) const bool HAS_RES = false;
layout(constant_id = 6) const uint W_BLOCK = 0;

layout(std430, binding = 0) readonly buffer BufA { A_T a[]; };
layout(std430, binding = 1) readonly buffer BufW { W_T w[]; };
layout(std430, binding = 2) readonly buffer BufB { W_T bias[]; };
layout(std430, binding = 3) readonly buffer BufR { C_T res[]; };
layout(std430, binding = 4) writeonly buffer BufC { C_T c[]; };

layout(push_constant) uniform Push {
    uint M, N, K, lda, ldc, ldr, pad0, pad1;
} p;

void main()
{
    uint n0 = gl_GlobalInvocationID.x * TN;
    uint m0 = gl_GlobalInvocationID.y * TM;
    if (n0 >= p.N || m0 >= p.M)
        return;

    float acc[TM * TN];
    uint arow[TM];
    uint wcol[TN];
    for (uint i = 0; i < TM * TN; i++)
        acc[i] = 0.0;
    // Rows and columns past the edge read the last valid one (always in
    // bounds); their results are never stored.
    for (uint i = 0; i < TM; i++)
        arow[i] = min(m0 + i, p.M - 1) * p.lda;
    for (uint j = 0; j < TN; j++) {
        uint n = min(n0 + j, p.N - 1);
        wcol[j] = W_BLOCK == 0 ? n * p.K : ((n / W_BLOCK) * (p.K / 4) * W_BLOCK + n % W_BLOCK) * 4;
    }

    for (uint k = 0; k < p.K; k++) {
        float av[TM];
        float wv[TN];
        for (uint i = 0; i < TM; i++)
            av[i] = float(a[arow[i] + k]);
        uint wk = W_BLOCK == 0 ? k : (k / 4) * W_BLOCK * 4 + k % 4;
        for (uint j = 0; j < TN; j++)
            wv[j] = float(w[wcol[j] + wk]);
        for (uint i = 0; i < TM; i++)
            for (uint j = 0; j < TN; j++)
                acc[i * TN + j] = fma(av[i], wv[j], acc[i * TN + j]);
    }

    for (uint i = 0; i < TM; i++) {
        uint m = m0 + i;
        if (m >= p.M)
            break;
        for (uint j = 0; j < TN; j++) {
            uint n = n0 + j;
            if (n >= p.N)
                break;
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
