#version 450
#extension GL_GOOGLE_include_directive : require
// patchify.comp - pixels (N x C x H x W, fp32) to patch rows for the
// patch-embedding GEMM: row (n, py, px) holds the C*P*P values in the order
// of PyTorch's Conv2d weight (c, i, j), so the convolution with stride P
// becomes one GEMM against the flattened weight.
#include "common.glsl"

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;

layout(std430, binding = 0) readonly buffer BufX { float x[]; };
layout(std430, binding = 1) writeonly buffer BufY { C_T y[]; };

layout(push_constant) uniform Push {
    uint C, H, W, P, total, pad;
} p;

void main()
{
    uint idx = gl_GlobalInvocationID.x + gl_GlobalInvocationID.y * gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    if (idx >= p.total)
        return;
    uint PP = p.P * p.P;
    uint K = p.C * PP;
    uint gw = p.W / p.P;
    uint gh = p.H / p.P;
    uint col = idx % K;
    uint row = idx / K;
    uint c = col / PP;
    uint i = (col % PP) / p.P;
    uint j = col % p.P;
    uint px = row % gw;
    uint py = (row / gw) % gh;
    uint n = row / (gw * gh);
    y[idx] = C_T(x[((n * p.C + c) * p.H + py * p.P + i) * p.W + px * p.P + j]);
}
