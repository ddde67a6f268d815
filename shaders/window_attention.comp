#version 450
#extension GL_GOOGLE_include_directive : require
// window_attention.comp - Swin's (shifted) window attention, read and
// written in the unshifted token order, so no roll, partition, reverse or
// crop ever touches memory.
//
// Geometry (shift, padding, mask) in window_geometry.glsl. A position that
// falls in the padding is a zero token after LayerNorm, so its key and
// value are the projection biases. Scores add the relative position bias,
// expanded at load to [heads][WS2][WS2].
#include "common.glsl"

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;
layout(constant_id = 1) const uint HD = 32;

layout(std430, binding = 0) readonly buffer BufQKV { A_T qkv[]; };   // [N][H*W][3C]
layout(std430, binding = 1) readonly buffer BufB { W_T qkv_bias[]; }; // [3C]
layout(std430, binding = 2) readonly buffer BufR { float rbias[]; };  // [heads][WS2][WS2]
layout(std430, binding = 3) writeonly buffer BufO { C_T o[]; };       // [N][H*W][C]

layout(push_constant) uniform Push {
    uint H, W, Hp, Wp, WS, shift, C, pad;
} p;

#include "window_geometry.glsl"

void main()
{
    uint tok = gl_GlobalInvocationID.x;
    uint h = gl_WorkGroupID.y;
    uint n = gl_WorkGroupID.z;
    uint T = p.H * p.W;
    if (tok >= T)
        return;
    WindowQuery wq = window_query(tok);
    uint C3 = 3 * p.C;
    uint base = n * T * C3;

    float q[HD];
    float acc[HD];
    float scale = inversesqrt(float(HD));
    for (uint d = 0; d < HD; d++) {
        q[d] = float(qkv[base + tok * C3 + h * HD + d]) * scale;
        acc[d] = 0.0;
    }
    float m = -3.402823e38, l = 0.0;
    uint WS2 = p.WS * p.WS;
    for (uint kk = 0; kk < WS2; kk++) {
        uint ktok;
        float mask;
        bool padded = window_key(wq, kk, ktok, mask);
        uint kb = base + ktok * C3;
        float s = 0.0;
        for (uint d = 0; d < HD; d++) {
            uint c = p.C + h * HD + d;
            s = fma(q[d], padded ? float(qkv_bias[c]) : float(qkv[kb + c]), s);
        }
        s += rbias[(h * WS2 + wq.qi) * WS2 + kk];
        s += mask;
        if (s > m) {
            float cr = exp(m - s);
            l *= cr;
            for (uint d = 0; d < HD; d++)
                acc[d] *= cr;
            m = s;
        }
        float e = exp(s - m);
        l += e;
        for (uint d = 0; d < HD; d++) {
            uint c = 2 * p.C + h * HD + d;
            acc[d] = fma(e, padded ? float(qkv_bias[c]) : float(qkv[kb + c]), acc[d]);
        }
    }
    float inv = 1.0 / l;
    uint ob = (n * T + tok) * p.C + h * HD;
    for (uint d = 0; d < HD; d++)
        o[ob + d] = C_T(acc[d] * inv);
}
