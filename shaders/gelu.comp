#version 450
#extension GL_GOOGLE_include_directive : require
// gelu.comp - elementwise activation (GELU erf / tanh / quick, ...), for
// graphs where it cannot be fused into the preceding GEMM.
#include "common.glsl"

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;
layout(constant_id = 1) const uint ACT = 1;

layout(std430, binding = 0) readonly buffer BufX { A_T x[]; };
layout(std430, binding = 1) writeonly buffer BufY { C_T y[]; };

layout(push_constant) uniform Push {
    uint count, pad;
} p;

void main()
{
    uint idx = gl_GlobalInvocationID.x + gl_GlobalInvocationID.y * gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    if (idx >= p.count)
        return;
    y[idx] = C_T(activate(float(x[idx]), ACT));
}
