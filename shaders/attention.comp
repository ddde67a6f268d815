#version 450
#extension GL_GOOGLE_include_directive : require
// attention.comp - multi-head self-attention, one query row per invocation.
//
// qkv holds, per token, [q (D) | k (D) | v (D)] with head h at columns
// h*HD .. h*HD+HD-1 of each part. The scores are never stored: a running
// maximum and sum (fp32) rescale the accumulated P*V as keys stream past,
// so memory stays O(T*D) for any sequence length.
#include "common.glsl"

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;
layout(constant_id = 1) const uint HD = 64;
layout(constant_id = 2) const bool HAS_BIAS = false; // additive score bias per head (BEiT relative positions)

layout(std430, binding = 0) readonly buffer BufQKV { A_T qkv[]; };
layout(std430, binding = 1) writeonly buffer BufO { C_T o[]; };
layout(std430, binding = 2) readonly buffer BufS { float sbias[]; }; // [H][T][T]

layout(push_constant) uniform Push {
    uint T, H, D;
    uint Q; // queries per image: the first Q of the T tokens (Q <= T)
    float scale;
    uint pad1;
} p;

void main()
{
    uint t = gl_GlobalInvocationID.x;
    uint h = gl_WorkGroupID.y;
    uint n = gl_WorkGroupID.z;
    if (t >= p.Q)
        return;
    uint row3 = 3 * p.D;
    uint base = n * p.T * row3;
    uint qb = base + t * row3 + h * HD;

    float q[HD];
    float acc[HD];
    for (uint d = 0; d < HD; d++) {
        q[d] = float(qkv[qb + d]) * p.scale;
        acc[d] = 0.0;
    }
    float m = -3.402823e38;
    float l = 0.0;
    for (uint j = 0; j < p.T; j++) {
        uint kb = base + j * row3 + p.D + h * HD;
        float s = 0.0;
        for (uint d = 0; d < HD; d++)
            s = fma(q[d], float(qkv[kb + d]), s);
        if (HAS_BIAS)
            s += sbias[(h * p.T + t) * p.T + j];
        if (s > m) {
            float c = exp(m - s);
            l *= c;
            for (uint d = 0; d < HD; d++)
                acc[d] *= c;
            m = s;
        }
        float e = exp(s - m);
        l += e;
        uint vb = kb + p.D;
        for (uint d = 0; d < HD; d++)
            acc[d] = fma(e, float(qkv[vb + d]), acc[d]);
    }
    float inv = 1.0 / l;
    uint ob = (n * p.T + t) * p.D + h * HD;
    for (uint d = 0; d < HD; d++)
        o[ob + d] = C_T(acc[d] * inv);
}
