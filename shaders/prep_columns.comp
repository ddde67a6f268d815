#version 450
// prep_columns.comp - the vertical pass of the CPU resize, the center crop
// (or its padding) and rescale + normalise, into one image of
// pixel_values (C x H x W floats). The vertical pass runs only for the
// pixels the crop keeps. Each value depends on one byte and its channel,
// so rescale/normalise is the CPU path's own table of 256 floats per
// channel (preproc_build_lut), followed by the 3 padding values.
// Workgroup size: specialization constants 0 and 1 (8 x 8: PREP_WG in lib/gpu_input.c).
layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z = 1) in;

layout(std430, binding = 0) readonly buffer Rows { uint rows[]; };
layout(std430, binding = 1) readonly buffer Tab { int tab[]; };
layout(std430, binding = 2) readonly buffer Lut { float lut[]; };
layout(std430, binding = 3) writeonly buffer Dst { float dst[]; };

layout(push_constant) uniform Push {
    uint rw, rh, ow, oh; // resized and output sizes
    int x0, y0;          // resized pixel read by output (0, 0)
    uint first_off, count_off, k_off, stride, bits;
    uint dst_offset;     // in floats: the image's slot in the batch
} p;

void main()
{
    uvec2 g = gl_GlobalInvocationID.xy;
    if (g.x >= p.ow || g.y >= p.oh)
        return;
    int sx = p.x0 + int(g.x), sy = p.y0 + int(g.y);
    uint plane = p.ow * p.oh;
    uint o = p.dst_offset + g.y * p.ow + g.x;
    if (sx < 0 || sy < 0 || sx >= int(p.rw) || sy >= int(p.rh)) {
        for (uint c = 0u; c < 3u; c++)
            dst[o + c * plane] = lut[768u + c];
        return;
    }
    uint first = uint(tab[p.first_off + uint(sy)]);
    uint n = uint(tab[p.count_off + uint(sy)]);
    uint krow = p.k_off + uint(sy) * p.stride;
    ivec3 acc = ivec3(1 << (p.bits - 1u));
    for (uint j = 0u; j < n; j++) {
        uint w = rows[(first + j) * p.rw + uint(sx)];
        acc += ivec3(uvec3(w, w >> 8, w >> 16) & 255u) * tab[krow + j];
    }
    uvec3 v = uvec3(clamp(acc >> int(p.bits), ivec3(0), ivec3(255)));
    dst[o] = lut[v.r];
    dst[o + plane] = lut[256u + v.g];
    dst[o + 2u * plane] = lut[512u + v.b];
}
