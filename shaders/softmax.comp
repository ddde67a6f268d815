#version 450
#extension GL_GOOGLE_include_directive : require
// softmax.comp - row-wise softmax, max subtracted first, sums in fp32.
#include "common.glsl"

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;

layout(std430, binding = 0) readonly buffer BufX { A_T x[]; };
layout(std430, binding = 1) writeonly buffer BufY { C_T y[]; };

layout(push_constant) uniform Push {
    uint rows, cols;
} p;

void main()
{
    uint row = gl_GlobalInvocationID.x;
    if (row >= p.rows)
        return;
    uint b = row * p.cols;
    float m = -3.402823e38;
    for (uint j = 0; j < p.cols; j++)
        m = max(m, float(x[b + j]));
    float s = 0.0;
    for (uint j = 0; j < p.cols; j++)
        s += exp(float(x[b + j]) - m);
    float inv = 1.0 / s;
    for (uint j = 0; j < p.cols; j++)
        y[b + j] = C_T(exp(float(x[b + j]) - m) * inv);
}
