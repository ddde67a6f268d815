#version 450
#extension GL_GOOGLE_include_directive : require
// attn_mean.comp - one layer's attention probabilities averaged over the
// heads, fp32 [N][T][T], for attention rollout. One invocation per (image,
// query row); each head's row is a two-pass softmax (max, then sum).
#include "common.glsl"

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;
layout(constant_id = 1) const uint HD = 64;
layout(constant_id = 2) const bool HAS_BIAS = false;

layout(std430, binding = 0) readonly buffer BufQKV { A_T qkv[]; };
layout(std430, binding = 1) readonly buffer BufS { float sbias[]; };
layout(std430, binding = 2) buffer BufP { float probs[]; };

layout(push_constant) uniform Push {
    uint N, T, H, D;
} p;

float score(uint base, uint t, uint h, uint j, float scale)
{
    uint row3 = 3 * p.D;
    float s = 0.0;
    for (uint d = 0; d < HD; d++)
        s = fma(float(qkv[base + t * row3 + h * HD + d]), float(qkv[base + j * row3 + p.D + h * HD + d]), s);
    s *= scale;
    if (HAS_BIAS)
        s += sbias[(h * p.T + t) * p.T + j];
    return s;
}

void main()
{
    uint idx = gl_GlobalInvocationID.x;
    if (idx >= p.N * p.T)
        return;
    uint n = idx / p.T, t = idx % p.T;
    uint base = n * p.T * 3 * p.D;
    uint ob = (n * p.T + t) * p.T;
    float scale = inversesqrt(float(HD));
    for (uint j = 0; j < p.T; j++)
        probs[ob + j] = 0.0;
    for (uint h = 0; h < p.H; h++) {
        float m = -3.402823e38;
        for (uint j = 0; j < p.T; j++)
            m = max(m, score(base, t, h, j, scale));
        float sum = 0.0;
        for (uint j = 0; j < p.T; j++)
            sum += exp(score(base, t, h, j, scale) - m);
        float w = 1.0 / (sum * float(p.H));
        for (uint j = 0; j < p.T; j++)
            probs[ob + j] += exp(score(base, t, h, j, scale) - m) * w;
    }
}
