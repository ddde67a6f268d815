#version 450
#extension GL_GOOGLE_include_directive : require
// cls_attention.comp - attention probabilities of the first R query rows of
// one layer, softmax_j(q_t . k_j / sqrt(d) + bias[h][t][j]), written as fp32
// [N][H][R][T]: R = 1 is transformers' attentions[...][:, :, 0, :], R = T
// the whole map (for rollout). Runs once per pass, for attention maps: one
// invocation per (image, head, row) computes each score three times (max,
// sum, write) rather than read back what it wrote, so nothing depends on
// read-after-write within an invocation.
#include "common.glsl"

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;
layout(constant_id = 1) const uint HD = 64;
layout(constant_id = 2) const bool HAS_BIAS = false;

layout(std430, binding = 0) readonly buffer BufQKV { A_T qkv[]; };
layout(std430, binding = 1) readonly buffer BufS { float sbias[]; };
layout(std430, binding = 2) writeonly buffer BufP { float probs[]; };

layout(push_constant) uniform Push {
    uint N, T, H, D, R;
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
    if (idx >= p.N * p.H * p.R)
        return;
    uint t = idx % p.R, h = (idx / p.R) % p.H, n = idx / (p.R * p.H);
    uint base = n * p.T * 3 * p.D;
    float scale = inversesqrt(float(HD));
    float m = -3.402823e38;
    for (uint j = 0; j < p.T; j++)
        m = max(m, score(base, t, h, j, scale));
    float sum = 0.0;
    for (uint j = 0; j < p.T; j++)
        sum += exp(score(base, t, h, j, scale) - m);
    float inv = 1.0 / sum;
    uint ob = idx * p.T;
    for (uint j = 0; j < p.T; j++)
        probs[ob + j] = exp(score(base, t, h, j, scale) - m) * inv;
}
