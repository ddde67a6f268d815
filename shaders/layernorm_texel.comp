#version 450
#extension GL_GOOGLE_include_directive : require
// layernorm_texel.comp - layernorm.comp with x, gamma and beta read as vec4
// texels (D and the row stride multiples of 4). Mean first, then the
// centred variance, in fp32.
#include "common.glsl"

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;

layout(TEXEL_FMT, binding = 0) readonly uniform imageBuffer X4;
layout(TEXEL_FMT, binding = 1) readonly uniform imageBuffer G4;
layout(TEXEL_FMT, binding = 2) readonly uniform imageBuffer B4;
layout(std430, binding = 3) writeonly buffer BufY { C_T y[]; };

layout(push_constant) uniform Push {
    uint rows, D, in_stride, out_stride;
    float eps;
    uint in_off; // first element of row 0 (e.g. D for token 1)
} p;

void main()
{
    uint row = gl_GlobalInvocationID.x;
    // Rows past the end normalise the last row and are not stored.
    int ib = int(min(row, p.rows - 1) * (p.in_stride / 4) + p.in_off / 4);
    int D4 = int(p.D / 4);
    vec4 sum = vec4(0.0);
    for (int d = 0; d < D4; d++)
        sum += imageLoad(X4, ib + d);
    float mean = (sum.x + sum.y + sum.z + sum.w) / float(p.D);
    vec4 var = vec4(0.0);
    for (int d = 0; d < D4; d++) {
        vec4 c = imageLoad(X4, ib + d) - mean;
        var += c * c;
    }
    float rstd = 1.0 / sqrt((var.x + var.y + var.z + var.w) / float(p.D) + p.eps);
    if (row >= p.rows)
        return;
    uint ob = row * p.out_stride;
    for (int d = 0; d < D4; d++) {
        vec4 v = (imageLoad(X4, ib + d) - mean) * rstd * imageLoad(G4, d) + imageLoad(B4, d);
        for (int e = 0; e < 4; e++)
            y[ob + uint(4 * d + e)] = C_T(v[e]);
    }
}
