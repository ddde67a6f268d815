#version 450
#extension GL_GOOGLE_include_directive : require
// layernorm.comp - y = (x - mean) / sqrt(var + eps) * gamma + beta per row.
//
// Mean first, then the centred variance, both in fp32 (as PyTorch does):
// the one-pass E[x^2] - E[x]^2 form loses digits on rows with a large mean.
// One invocation per row: rows are short (<= a few thousand) and this needs
// no shared memory or barriers.
#include "common.glsl"

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;

layout(std430, binding = 0) readonly buffer BufX { A_T x[]; };
layout(std430, binding = 1) readonly buffer BufG { W_T gamma[]; };
layout(std430, binding = 2) readonly buffer BufB { W_T beta[]; };
layout(std430, binding = 3) writeonly buffer BufY { C_T y[]; };

layout(push_constant) uniform Push {
    uint rows, D, in_stride, out_stride;
    float eps;
    uint in_off; // first element of row 0 (e.g. D for token 1)
} p;

void main()
{
    uint row = gl_GlobalInvocationID.x;
    if (row >= p.rows)
        return;
    uint ib = row * p.in_stride + p.in_off;
    uint ob = row * p.out_stride;
    float sum = 0.0;
    for (uint d = 0; d < p.D; d++)
        sum += float(x[ib + d]);
    float mean = sum / float(p.D);
    float var = 0.0;
    for (uint d = 0; d < p.D; d++) {
        float c = float(x[ib + d]) - mean;
        var = fma(c, c, var);
    }
    float rstd = 1.0 / sqrt(var / float(p.D) + p.eps);
    for (uint d = 0; d < p.D; d++)
        y[ob + d] = C_T((float(x[ib + d]) - mean) * rstd * float(gamma[d]) + float(beta[d]));
}
