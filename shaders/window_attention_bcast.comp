#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#extension GL_KHR_shader_subgroup_shuffle : require
// window_attention_bcast.comp - Swin's shifted-window attention for the
// CPU (lavapipe), one workgroup of one 8-lane subgroup per (window, head,
// image).
//
// All queries of a window attend to the same WS*WS keys, so the keys and
// values go round the subgroup like attention_texel.b32's: lane l loads
// texel l of a key row and subgroupShuffle by a constant lane hands every
// texel to all lanes (llvmpipe: a register permute), one texel gather per
// 8 texels of a row. Lane l owns the window's queries l, l + 8, ...
// (TQ of them), so each key row loaded serves every query of the window,
// where window_attention_texel.comp (one query per lane, lanes in
// different windows) gathers each key row once per query.
//
// The relative-position bias comes in lane order (rbias_lanes_index in
// lib/swin.c): RB4 texel ((h * WS2 + kk) * 8 + l) * TQ4 + i / 4, component
// i % 4, is the bias of key kk for query l + 8 i. It is always fp32
// (RGBA32F view) so fp16 plans add the same bias as fp32 ones.
//
// Same geometry (window_geometry.glsl) and numerics as window_attention.comp:
// scores and the running maximum and sum in fp32, padded keys read as the
// zero token's k and v (the biases), masked keys -100.
#include "common.glsl"

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;
layout(constant_id = 1) const uint HD = 32;
layout(constant_id = 2) const uint WS_C = 7; // the window, as p.WS

layout(TEXEL_FMT, binding = 0) readonly uniform imageBuffer QKV4;  // [N][H*W][3C]
layout(TEXEL_FMT, binding = 1) readonly uniform imageBuffer BIAS4; // [3C]
layout(rgba32f, binding = 2) readonly uniform imageBuffer RB4;     // see above
layout(std430, binding = 3) writeonly buffer BufO { C_T o[]; };    // [N][H*W][C]

layout(push_constant) uniform Push {
    uint H, W, Hp, Wp, WS, shift, C, pad;
} p;

const uint HD4 = HD / 4;
const uint HG = (HD4 + 7) / 8; // texel groups per row: one gather each
const uint WS2 = WS_C * WS_C;
const uint TQ = (WS2 + 7) / 8;  // queries per lane
const uint TQ4 = (TQ + 3) / 4;  // their bias texels per key

#include "window_geometry.glsl"

void main()
{
    uint lane = gl_SubgroupInvocationID;
    uint wcols = p.Wp / WS_C;
    uint wi = gl_WorkGroupID.x / wcols * WS_C, wj = gl_WorkGroupID.x % wcols * WS_C;
    uint h = gl_WorkGroupID.y;
    uint n = gl_WorkGroupID.z;
    uint T = p.H * p.W;
    uint C34 = 3 * p.C / 4;
    uint base = n * T * C34;
    int koff = int((p.C + h * HD) / 4), voff = int((2 * p.C + h * HD) / 4);

    // This lane's queries: their tokens, regions, and q (scaled).
    uint qtok[TQ];
    uint qreg[TQ];
    bool qstore[TQ];
    vec4 q[TQ * HD4], acc[TQ * HD4];
    float m[TQ], l[TQ];
    float scale = inversesqrt(float(HD));
    [[unroll]] for (uint i = 0; i < TQ; i++) {
        uint qi = min(lane + 8 * i, WS2 - 1);
        uint ii = wi + qi / WS_C, jj = wj + qi % WS_C;
        bool padded;
        qtok[i] = window_token(ii, jj, padded);
        qstore[i] = !padded && lane + 8 * i < WS2;
        qreg[i] = window_region_at(ii, jj);
        [[unroll]] for (uint d = 0; d < HD4; d++) {
            q[i * HD4 + d] = imageLoad(QKV4, int(base + qtok[i] * C34 + h * HD4 + d)) * scale;
            acc[i * HD4 + d] = vec4(0.0);
        }
        m[i] = -3.402823e38;
        l[i] = 0.0;
    }
    // The zero token's key and value texels, for padded keys: lane l holds
    // texel l of each group, as the loads below do.
    vec4 kb8[HG], vb8[HG];
    [[unroll]] for (uint c = 0; c < HG; c++) {
        int t = int(min(c * 8 + lane, HD4 - 1));
        kb8[c] = imageLoad(BIAS4, koff + t);
        vb8[c] = imageLoad(BIAS4, voff + t);
    }
    int rb = int(((h * WS2) * 8 + lane) * TQ4);

    for (uint kk = 0; kk < WS2; kk++) {
        uint ki = wi + kk / WS_C, kj = wj + kk % WS_C;
        bool kpad;
        uint ktok = window_token(ki, kj, kpad);
        uint kreg = window_region_at(ki, kj);
        int row = int(base + ktok * C34);

        float s[TQ];
        [[unroll]] for (uint i4 = 0; i4 < TQ4; i4++) {
            vec4 b = imageLoad(RB4, rb + int(kk * 8 * TQ4 + i4));
            [[unroll]] for (uint c = 0; c < 4; c++)
                if (i4 * 4 + c < TQ)
                    s[i4 * 4 + c] = b[c];
        }
        // The 8 lanes spelled out, so that every lane index is a constant.
        [[unroll]] for (uint c = 0; c < HG; c++) {
            vec4 k8 = imageLoad(QKV4, row + koff + int(min(c * 8 + lane, HD4 - 1)));
            k8 = kpad ? kb8[c] : k8;
#define KEY(r)                                                   \
            if (c * 8 + r < HD4) {                               \
                vec4 kv = subgroupShuffle(k8, r);                \
                [[unroll]] for (uint i = 0; i < TQ; i++)         \
                    s[i] += dot(q[i * HD4 + c * 8 + r], kv);     \
            }
            KEY(0u) KEY(1u) KEY(2u) KEY(3u) KEY(4u) KEY(5u) KEY(6u) KEY(7u)
#undef KEY
        }
        float e[TQ];
        [[unroll]] for (uint i = 0; i < TQ; i++) {
            if (p.shift > 0u && qreg[i] != kreg)
                s[i] -= 100.0;
            // Rescale without a branch: cr is 1 when the maximum holds.
            float mn = max(m[i], s[i]);
            float cr = exp(m[i] - mn);
            e[i] = exp(s[i] - mn);
            l[i] = l[i] * cr + e[i];
            m[i] = mn;
            [[unroll]] for (uint d = 0; d < HD4; d++)
                acc[i * HD4 + d] *= cr;
        }
        [[unroll]] for (uint c = 0; c < HG; c++) {
            vec4 v8 = imageLoad(QKV4, row + voff + int(min(c * 8 + lane, HD4 - 1)));
            v8 = kpad ? vb8[c] : v8;
#define VALUE(r)                                                 \
            if (c * 8 + r < HD4) {                               \
                vec4 vv = subgroupShuffle(v8, r);                \
                [[unroll]] for (uint i = 0; i < TQ; i++)         \
                    acc[i * HD4 + c * 8 + r] += e[i] * vv;       \
            }
            VALUE(0u) VALUE(1u) VALUE(2u) VALUE(3u) VALUE(4u) VALUE(5u) VALUE(6u) VALUE(7u)
#undef VALUE
        }
    }
    [[unroll]] for (uint i = 0; i < TQ; i++) {
        if (qstore[i]) {
            float inv = 1.0 / l[i];
            uint ob = (n * T + qtok[i]) * p.C + h * HD;
            [[unroll]] for (uint d = 0; d < HD4; d++)
                [[unroll]] for (uint c = 0; c < 4; c++)
                    o[ob + 4 * d + c] = C_T(acc[i * HD4 + d][c] * inv);
        }
    }
}
