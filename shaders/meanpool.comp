#version 450
#extension GL_GOOGLE_include_directive : require
// meanpool.comp - y[n, d] = mean over tokens first..T-1 of x[n, t, d] (fp32
// sum), the average pooling of BEiT and timm's global_pool "avg".
#include "common.glsl"

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;

layout(std430, binding = 0) readonly buffer BufX { A_T x[]; };
layout(std430, binding = 1) writeonly buffer BufY { C_T y[]; };

layout(push_constant) uniform Push {
    uint N, T, D, first;
} p;

void main()
{
    uint idx = gl_GlobalInvocationID.x;
    if (idx >= p.N * p.D)
        return;
    uint d = idx % p.D;
    uint n = idx / p.D;
    float s = 0.0;
    for (uint t = p.first; t < p.T; t++)
        s += float(x[(n * p.T + t) * p.D + d]);
    y[idx] = C_T(s / float(p.T - p.first));
}
