#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
// window_attention_texel.comp - window_attention.comp with q, k, v and
// the qkv biases read as vec4 texels (head size a multiple of 4): the
// CPU kernel. On lavapipe a storage-buffer load in a loop is a loop over
// the SIMD lanes, one per float; imageLoad gathers a vec4 for 8 lanes
// inline (see gemm_texel.comp).
//
// Same geometry (window_geometry.glsl) and numerics as window_attention.comp.
#include "common.glsl"

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;
layout(constant_id = 1) const uint HD = 32;

layout(TEXEL_FMT, binding = 0) readonly uniform imageBuffer QKV4;   // [N][H*W][3C]
layout(TEXEL_FMT, binding = 1) readonly uniform imageBuffer BIAS4;  // [3C]
layout(std430, binding = 2) readonly buffer BufR { float rbias[]; }; // [heads][WS2][WS2]
layout(std430, binding = 3) writeonly buffer BufO { C_T o[]; };      // [N][H*W][C]

layout(push_constant) uniform Push {
    uint H, W, Hp, Wp, WS, shift, C, pad;
} p;

const uint HD4 = HD / 4;

#include "window_geometry.glsl"

void main()
{
    uint h = gl_WorkGroupID.y;
    uint n = gl_WorkGroupID.z;
    uint T = p.H * p.W;
    // Tokens past T compute token T-1 and are not stored.
    uint tok = min(gl_GlobalInvocationID.x, T - 1);
    WindowQuery wq = window_query(tok);
    uint C34 = 3 * p.C / 4;
    uint base = n * T * C34;
    int koff = int((p.C + h * HD) / 4), voff = int((2 * p.C + h * HD) / 4);

    vec4 q[HD4], acc[HD4], kbias[HD4], vbias[HD4];
    float scale = inversesqrt(float(HD));
    [[unroll]] for (uint d = 0; d < HD4; d++) {
        q[d] = imageLoad(QKV4, int(base + tok * C34 + h * HD4 + d)) * scale;
        kbias[d] = imageLoad(BIAS4, koff + int(d));
        vbias[d] = imageLoad(BIAS4, voff + int(d));
        acc[d] = vec4(0.0);
    }
    float m = -3.402823e38, l = 0.0;
    uint WS2 = p.WS * p.WS;
    for (uint kk = 0; kk < WS2; kk++) {
        uint ktok;
        float mask;
        bool padded = window_key(wq, kk, ktok, mask);
        // A padded key reads a real token (so the load stays in bounds)
        // and takes the biases instead.
        int kb = int(base + ktok * C34);
        float s = 0.0;
        [[unroll]] for (uint d = 0; d < HD4; d++) {
            vec4 kv = imageLoad(QKV4, kb + koff + int(d));
            s += dot(q[d], padded ? kbias[d] : kv);
        }
        s += rbias[(h * WS2 + wq.qi) * WS2 + kk];
        s += mask;
        // Rescale without a branch: cr is 1 when the maximum holds.
        float mn = max(m, s);
        float cr = exp(m - mn);
        float e = exp(s - mn);
        l = l * cr + e;
        m = mn;
        [[unroll]] for (uint d = 0; d < HD4; d++) {
            vec4 vv = imageLoad(QKV4, kb + voff + int(d));
            acc[d] = acc[d] * cr + e * (padded ? vbias[d] : vv);
        }
    }
    if (gl_GlobalInvocationID.x >= T)
        return;
    float inv = 1.0 / l;
    uint ob = (n * T + tok) * p.C + h * HD;
    [[unroll]] for (uint d = 0; d < HD4; d++)
        [[unroll]] for (uint c = 0; c < 4; c++)
            o[ob + 4 * d + c] = C_T(acc[d][c] * inv);
}
