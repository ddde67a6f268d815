#version 450
#extension GL_GOOGLE_include_directive : require
// patch_merge.comp - Swin's patch merging gather: each 2x2 block of an
// H x W x C map becomes one 4C token [x(2i,2j), x(2i+1,2j), x(2i,2j+1),
// x(2i+1,2j+1)] (transformers' x0..x3 order); odd edges are zero-padded.
// The LayerNorm and the reduction GEMM follow as separate ops.
#include "common.glsl"

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;

layout(std430, binding = 0) readonly buffer BufX { A_T x[]; };
layout(std430, binding = 1) writeonly buffer BufY { C_T y[]; };

layout(push_constant) uniform Push {
    uint H, W, C, total;
} p;

void main()
{
    uint idx = gl_GlobalInvocationID.x + gl_GlobalInvocationID.y * gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    if (idx >= p.total)
        return;
    uint H2 = (p.H + 1) / 2, W2 = (p.W + 1) / 2;
    uint c4 = idx % (4 * p.C);
    uint t = (idx / (4 * p.C)) % (H2 * W2);
    uint n = idx / (4 * p.C * H2 * W2);
    uint part = c4 / p.C, c = c4 % p.C;
    uint yy = 2 * (t / W2) + (part & 1u);
    uint xx = 2 * (t % W2) + (part >> 1);
    float v = (yy < p.H && xx < p.W) ? float(x[((n * p.H + yy) * p.W + xx) * p.C + c]) : 0.0;
    y[idx] = C_T(v);
}
