#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
// layernorm_subgroup.comp - layernorm.comp with one subgroup per row, for
// GPUs: the lanes read consecutive elements (coalesced) and subgroupAdd
// combines their partial sums, with no shared memory or barriers. Mean
// first, then the centred variance, in fp32. Rows are taken in a
// grid-stride loop so that any subgroup size the driver picks covers them.
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
    uint lane = gl_SubgroupInvocationID, width = gl_SubgroupSize;
    uint step = gl_NumWorkGroups.x * gl_NumSubgroups;
    for (uint row = gl_WorkGroupID.x * gl_NumSubgroups + gl_SubgroupID; row < p.rows; row += step) {
        uint ib = row * p.in_stride + p.in_off;
        float s = 0.0;
        for (uint d = lane; d < p.D; d += width)
            s += float(x[ib + d]);
        float mean = subgroupAdd(s) / float(p.D);
        float v = 0.0;
        for (uint d = lane; d < p.D; d += width) {
            float c = float(x[ib + d]) - mean;
            v += c * c;
        }
        float rstd = 1.0 / sqrt(subgroupAdd(v) / float(p.D) + p.eps);
        uint ob = row * p.out_stride;
        for (uint d = lane; d < p.D; d += width)
            y[ob + d] = C_T((float(x[ib + d]) - mean) * rstd * float(gamma[d]) + float(beta[d]));
    }
}
