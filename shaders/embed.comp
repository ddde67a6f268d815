#version 450
#extension GL_GOOGLE_include_directive : require
// embed.comp - the token sequence: NPRE prefix tokens ([CLS], a
// distillation token, register tokens) then the patch embeddings, plus
// position embeddings. POS_MODE 0: none; 1: one per token (transformers,
// timm's default); 2: patches only (timm's no_embed_class).
#include "common.glsl"

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;
layout(constant_id = 1) const uint POS_MODE = 1;

layout(std430, binding = 0) readonly buffer BufP { A_T patches[]; };
layout(std430, binding = 1) readonly buffer BufC { W_T prefix[]; };
layout(std430, binding = 2) readonly buffer BufE { W_T pos[]; };
layout(std430, binding = 3) writeonly buffer BufY { C_T y[]; };

layout(push_constant) uniform Push {
    uint T, D, total, npre;
} p;

void main()
{
    uint idx = gl_GlobalInvocationID.x + gl_GlobalInvocationID.y * gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    if (idx >= p.total)
        return;
    uint d = idx % p.D;
    uint t = (idx / p.D) % p.T;
    uint n = idx / (p.D * p.T);
    float v;
    if (t < p.npre) {
        v = float(prefix[t * p.D + d]);
        if (POS_MODE == 1u)
            v += float(pos[t * p.D + d]);
    } else {
        uint np = p.T - p.npre;
        v = float(patches[(n * np + t - p.npre) * p.D + d]);
        if (POS_MODE == 1u)
            v += float(pos[t * p.D + d]);
        else if (POS_MODE == 2u)
            v += float(pos[(t - p.npre) * p.D + d]);
    }
    y[idx] = C_T(v);
}
