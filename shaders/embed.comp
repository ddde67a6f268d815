#version 450
#extension GL_GOOGLE_include_directive : require
// embed.comp - token sequence from patch embeddings: [CLS] first, then the
// patches, each plus its position embedding.
#include "common.glsl"

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;

layout(std430, binding = 0) readonly buffer BufP { A_T patches[]; };
layout(std430, binding = 1) readonly buffer BufC { W_T cls[]; };
layout(std430, binding = 2) readonly buffer BufE { W_T pos[]; };
layout(std430, binding = 3) writeonly buffer BufY { C_T y[]; };

layout(push_constant) uniform Push {
    uint T, D, total, pad;
} p;

void main()
{
    uint idx = gl_GlobalInvocationID.x + gl_GlobalInvocationID.y * gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    if (idx >= p.total)
        return;
    uint d = idx % p.D;
    uint t = (idx / p.D) % p.T;
    uint n = idx / (p.D * p.T);
    float v = t == 0 ? float(cls[d]) : float(patches[(n * (p.T - 1) + t - 1) * p.D + d]);
    y[idx] = C_T(v + float(pos[t * p.D + d]));
}
