#version 450
#extension GL_GOOGLE_include_directive : require
// attention_flash.comp - multi-head self-attention for GPUs, flash style.
//
// A workgroup of BQ invocations owns BQ query rows of one head of one
// image. Keys and values stream through shared memory BKV rows at a time,
// loaded once for the whole workgroup instead of once per query; each
// invocation keeps its query, its output row and the softmax state
// (running maximum and sum, fp32) in registers and rescales once per block
// of keys, not once per key. The score matrix is never stored.
// qkv holds, per token, [q (D) | k (D) | v (D)], head h at h*HD.. of each.
#include "common.glsl"

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;
layout(constant_id = 1) const uint HD = 64;
layout(constant_id = 2) const bool HAS_BIAS = false; // additive score bias per head (BEiT relative positions)
layout(constant_id = 3) const uint BKV = 32;

layout(std430, binding = 0) readonly buffer BufQKV { A_T qkv[]; };
layout(std430, binding = 1) writeonly buffer BufO { C_T o[]; };
layout(std430, binding = 2) readonly buffer BufS { float sbias[]; }; // [H][T][T]

layout(push_constant) uniform Push {
    uint T, H, D;
    uint Q; // queries per image: the first Q of the T tokens (Q <= T)
    float scale;
    uint pad1;
} p;

// +1 on the key rows: invocations reading one column of consecutive rows
// would otherwise hit one bank.
shared float Ks[BKV * (HD + 1)];
shared float Vs[BKV * HD];

void main()
{
    uint BQ = gl_WorkGroupSize.x;
    uint lt = gl_LocalInvocationID.x;
    uint t = gl_WorkGroupID.x * BQ + lt;
    uint h = gl_WorkGroupID.y;
    uint n = gl_WorkGroupID.z;
    uint row3 = 3 * p.D;
    uint base = n * p.T * row3 + h * HD;
    // Rows past Q compute on row Q-1 and are not stored: every invocation
    // must reach the barriers.
    uint tq = min(t, p.Q - 1);

    float q[HD];
    float acc[HD];
    for (uint d = 0; d < HD; d++) {
        q[d] = float(qkv[base + tq * row3 + d]) * p.scale;
        acc[d] = 0.0;
    }
    float m = -3.402823e38;
    float l = 0.0;
    float s[BKV];

    for (uint kb = 0; kb < p.T; kb += BKV) {
        uint rows = min(BKV, p.T - kb);
        for (uint e = lt; e < BKV * HD; e += BQ) {
            uint j = e / HD, d = e % HD;
            uint r = base + min(kb + j, p.T - 1) * row3;
            Ks[j * (HD + 1) + d] = float(qkv[r + p.D + d]);
            Vs[j * HD + d] = float(qkv[r + 2 * p.D + d]);
        }
        barrier();
        float mb = m;
        for (uint j = 0; j < BKV; j++) {
            float v = 0.0;
            for (uint d = 0; d < HD; d++)
                v = fma(q[d], Ks[j * (HD + 1) + d], v);
            if (HAS_BIAS)
                v += sbias[(h * p.T + tq) * p.T + min(kb + j, p.T - 1)];
            s[j] = j < rows ? v : -3.402823e38;
            mb = max(mb, s[j]);
        }
        float c = exp(m - mb);
        l *= c;
        for (uint d = 0; d < HD; d++)
            acc[d] *= c;
        m = mb;
        for (uint j = 0; j < BKV; j++) {
            float e = j < rows ? exp(s[j] - m) : 0.0;
            l += e;
            for (uint d = 0; d < HD; d++)
                acc[d] = fma(e, Vs[j * HD + d], acc[d]);
        }
        barrier();
    }
    if (t >= p.Q)
        return;
    float inv = 1.0 / l;
    uint ob = (n * p.T + t) * p.D + h * HD;
    for (uint d = 0; d < HD; d++)
        o[ob + d] = C_T(acc[d] * inv);
}
