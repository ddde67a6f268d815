#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
// attention_texel.comp - attention.comp with q, k and v read as vec4
// texels (head size a multiple of 4). Same streaming softmax: running
// maximum and sum in fp32, the score matrix never stored.
//
// This is the CPU kernel (lavapipe): a texel load costs the same whether
// or not the 8 lanes share its address, and every lane reads the same key
// and value rows, so each invocation takes TQ queries (spaced a whole
// dispatch width apart) and each key/value texel it loads serves all TQ.
//
// BROADCAST (the b32/b16 variants; a workgroup of one subgroup of 8
// lanes): every lane needs the same key and value rows, so lane l loads
// texels l, l + 8, ... of a row and subgroupShuffle by a constant lane
// hands each to all lanes, a load per 8 texels (llvmpipe: a shuffle by a
// constant is a register permute; on Mesa 25 imageLoad is a call;
// lib/ops/tuning.c).
#ifdef BROADCAST
#extension GL_KHR_shader_subgroup_shuffle : require
#endif
#include "common.glsl"

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;
layout(constant_id = 1) const uint HD = 64;
layout(constant_id = 2) const bool HAS_BIAS = false; // additive score bias per head (BEiT relative positions)
layout(constant_id = 3) const uint TQ = 1;           // queries per invocation

layout(TEXEL_FMT, binding = 0) readonly uniform imageBuffer QKV4;
layout(std430, binding = 1) writeonly buffer BufO { C_T o[]; };
layout(std430, binding = 2) readonly buffer BufS { float sbias[]; }; // [H][T][T]

layout(push_constant) uniform Push {
    uint T, H, D;
    uint Q; // queries per image: the first Q of the T tokens (Q <= T)
    float scale;
    uint pad1;
} p;

const uint HD4 = HD / 4;

void main()
{
    uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    uint h = gl_WorkGroupID.y;
    uint n = gl_WorkGroupID.z;
    uint row4 = 3 * p.D / 4;
    int base = int(n * p.T * row4 + h * HD4);

    // Rows past Q read row Q-1 and are not stored, keeping loads uniform.
    uint tc[TQ];
    vec4 q[TQ * HD4];
    vec4 acc[TQ * HD4];
    float m[TQ], l[TQ];
    [[unroll]] for (uint i = 0; i < TQ; i++) {
        tc[i] = min(gl_GlobalInvocationID.x + i * stride, p.Q - 1);
        int qb = base + int(tc[i] * row4);
        [[unroll]] for (uint d = 0; d < HD4; d++) {
            q[i * HD4 + d] = imageLoad(QKV4, qb + int(d)) * p.scale;
            acc[i * HD4 + d] = vec4(0.0);
        }
        m[i] = -3.402823e38;
        l[i] = 0.0;
    }
    int koff = int(p.D / 4), voff = int(2 * p.D / 4);
    for (uint j = 0; j < p.T; j++) {
        int kb = base + int(j * row4) + koff;
        float s[TQ];
        [[unroll]] for (uint i = 0; i < TQ; i++)
            s[i] = 0.0;
#ifdef BROADCAST
        // The 8 lanes spelled out, so that every lane index is a constant.
        [[unroll]] for (uint c = 0; c < (HD4 + 7) / 8; c++) {
            vec4 k8 = imageLoad(QKV4, kb + int(min(c * 8 + gl_SubgroupInvocationID, HD4 - 1)));
#define KEY(r)                                                       \
            if (c * 8 + r < HD4) {                                   \
                vec4 kv = subgroupShuffle(k8, r);                    \
                [[unroll]] for (uint i = 0; i < TQ; i++)             \
                    s[i] += dot(q[i * HD4 + c * 8 + r], kv);         \
            }
            KEY(0u) KEY(1u) KEY(2u) KEY(3u) KEY(4u) KEY(5u) KEY(6u) KEY(7u)
#undef KEY
        }
#else
        [[unroll]] for (uint d = 0; d < HD4; d++) {
            vec4 kv = imageLoad(QKV4, kb + int(d));
            [[unroll]] for (uint i = 0; i < TQ; i++)
                s[i] += dot(q[i * HD4 + d], kv);
        }
#endif
        float e[TQ];
        [[unroll]] for (uint i = 0; i < TQ; i++) {
            if (HAS_BIAS)
                s[i] += sbias[(h * p.T + tc[i]) * p.T + j];
            // Rescale without a branch: c is 1 when the maximum holds.
            float mn = max(m[i], s[i]);
            float c = exp(m[i] - mn);
            e[i] = exp(s[i] - mn);
            l[i] = l[i] * c + e[i];
            m[i] = mn;
            [[unroll]] for (uint d = 0; d < HD4; d++)
                acc[i * HD4 + d] *= c;
        }
        int vb = base + int(j * row4) + voff;
#ifdef BROADCAST
        [[unroll]] for (uint c = 0; c < (HD4 + 7) / 8; c++) {
            vec4 v8 = imageLoad(QKV4, vb + int(min(c * 8 + gl_SubgroupInvocationID, HD4 - 1)));
#define VALUE(r)                                                     \
            if (c * 8 + r < HD4) {                                   \
                vec4 vv = subgroupShuffle(v8, r);                    \
                [[unroll]] for (uint i = 0; i < TQ; i++)             \
                    acc[i * HD4 + c * 8 + r] += e[i] * vv;           \
            }
            VALUE(0u) VALUE(1u) VALUE(2u) VALUE(3u) VALUE(4u) VALUE(5u) VALUE(6u) VALUE(7u)
#undef VALUE
        }
#else
        [[unroll]] for (uint d = 0; d < HD4; d++) {
            vec4 vv = imageLoad(QKV4, vb + int(d));
            [[unroll]] for (uint i = 0; i < TQ; i++)
                acc[i * HD4 + d] += e[i] * vv;
        }
#endif
    }
    [[unroll]] for (uint i = 0; i < TQ; i++) {
        uint t = gl_GlobalInvocationID.x + i * stride;
        if (t < p.Q) {
            float inv = 1.0 / l[i];
            uint ob = (n * p.T + t) * p.D + h * HD;
            [[unroll]] for (uint d = 0; d < HD4; d++)
                [[unroll]] for (uint c = 0; c < 4; c++)
                    o[ob + 4 * d + c] = C_T(acc[i * HD4 + d][c] * inv);
        }
    }
}
