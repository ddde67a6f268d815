#version 450
#extension GL_GOOGLE_include_directive : require
// attention_texel.comp - attention.comp with q, k and v read as vec4
// texels (head size a multiple of 4). Same streaming softmax: running
// maximum and sum in fp32, the score matrix never stored.
#include "common.glsl"

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;
layout(constant_id = 1) const uint HD = 64;
layout(constant_id = 2) const bool HAS_BIAS = false; // additive score bias per head (BEiT relative positions)

layout(TEXEL_FMT, binding = 0) readonly uniform imageBuffer QKV4;
layout(std430, binding = 1) writeonly buffer BufO { C_T o[]; };
layout(std430, binding = 2) readonly buffer BufS { float sbias[]; }; // [H][T][T]

layout(push_constant) uniform Push {
    uint T, H, D, pad0;
    float scale;
    uint pad1;
} p;

const uint HD4 = HD / 4;

void main()
{
    uint t = gl_GlobalInvocationID.x;
    uint h = gl_WorkGroupID.y;
    uint n = gl_WorkGroupID.z;
    // Rows past T read row T-1 and are not stored, keeping loads uniform.
    uint tc = min(t, p.T - 1);
    uint row4 = 3 * p.D / 4;
    int base = int(n * p.T * row4 + h * HD4);
    int qb = base + int(tc * row4);

    vec4 q[HD4];
    vec4 acc[HD4];
    for (uint d = 0; d < HD4; d++) {
        q[d] = imageLoad(QKV4, qb + int(d)) * p.scale;
        acc[d] = vec4(0.0);
    }
    int koff = int(p.D / 4), voff = int(2 * p.D / 4);
    float m = -3.402823e38;
    float l = 0.0;
    for (uint j = 0; j < p.T; j++) {
        int kb = base + int(j * row4) + koff;
        float s = 0.0;
        for (uint d = 0; d < HD4; d++)
            s += dot(q[d], imageLoad(QKV4, kb + int(d)));
        if (HAS_BIAS)
            s += sbias[(h * p.T + tc) * p.T + j];
        if (s > m) {
            float c = exp(m - s);
            l *= c;
            for (uint d = 0; d < HD4; d++)
                acc[d] *= c;
            m = s;
        }
        float e = exp(s - m);
        l += e;
        int vb = base + int(j * row4) + voff;
        for (uint d = 0; d < HD4; d++)
            acc[d] += e * imageLoad(QKV4, vb + int(d));
    }
    if (t >= p.T)
        return;
    float inv = 1.0 / l;
    uint ob = (n * p.T + t) * p.D + h * HD;
    for (uint d = 0; d < HD4; d++)
        for (uint e = 0; e < 4; e++)
            o[ob + 4 * d + e] = C_T(acc[d][e] * inv);
}
