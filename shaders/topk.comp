#version 450
// topk.comp - per image (one workgroup each), the k largest logits in
// order (ties: lower index first) as {index, probability} pairs. Round r
// takes the best entry ordered after round r - 1's pick, so nothing is
// sorted or stored but the pick. The workgroup size is specialization
// constant 0 (lib/plan_record.c, TOPK_WG), a power of two for the halving
// reduction; the shared arrays follow it.
layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;

layout(std430, binding = 0) readonly buffer Logits { float logits[]; };
layout(std430, binding = 1) readonly buffer Probs { float probs[]; };
layout(std430, binding = 2) writeonly buffer Dst { uint dst[]; };

layout(push_constant) uniform Push {
    uint labels, k, unused;
} p;

shared float sv[gl_WorkGroupSize.x];
shared uint si[gl_WorkGroupSize.x];

bool better(float v, uint i, float bv, uint bi)
{
    return v > bv || (v == bv && i < bi);
}

void main()
{
    uint lid = gl_LocalInvocationID.x;
    uint base = gl_WorkGroupID.x * p.labels;
    float pv = 0.0;
    uint pi = 0u;
    for (uint r = 0u; r < p.k; r++) {
        float bv = uintBitsToFloat(0xff800000u); // -inf
        uint bi = 0xffffffffu;
        for (uint j = lid; j < p.labels; j += gl_WorkGroupSize.x) {
            float v = logits[base + j];
            bool after = r == 0u || v < pv || (v == pv && j > pi);
            if (after && better(v, j, bv, bi)) {
                bv = v;
                bi = j;
            }
        }
        sv[lid] = bv;
        si[lid] = bi;
        barrier();
        for (uint s = gl_WorkGroupSize.x / 2u; s > 0u; s >>= 1) {
            if (lid < s && better(sv[lid + s], si[lid + s], sv[lid], si[lid])) {
                sv[lid] = sv[lid + s];
                si[lid] = si[lid + s];
            }
            barrier();
        }
        pv = sv[0];
        pi = si[0];
        barrier(); // everyone has read the pick before the next round writes
        if (lid == 0u) {
            uint o = (gl_WorkGroupID.x * p.k + r) * 2u;
            dst[o] = pi;
            dst[o + 1u] = pi < p.labels ? floatBitsToUint(probs[base + pi]) : 0x7fc00000u;
        }
    }
}
