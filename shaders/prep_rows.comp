#version 450
// prep_rows.comp - the horizontal pass of the CPU resize (lib/resize.c)
// in the same integers: one output byte per channel from fixed-point taps
// (img_axis_table), rounded by the half added first, clamped to 0..255.
// Reads packed RGBA8 words (the host's buffer or prep_fetch's output),
// writes packed RGB8 words of the row-resized image.
// Workgroup size: specialization constants 0 and 1 (8 x 8: PREP_WG in lib/gpu_input.c).
layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z = 1) in;

layout(std430, binding = 0) readonly buffer Src { uint src[]; };
layout(std430, binding = 1) readonly buffer Tab { int tab[]; };
layout(std430, binding = 2) writeonly buffer Dst { uint dst[]; };

layout(push_constant) uniform Push {
    uint src_offset, src_pitch; // in words
    uint rows, out_w;
    uint bgra;                  // source bytes are B, G, R, A
    uint first_off, count_off, k_off, stride, bits;
} p;

void main()
{
    uvec2 g = gl_GlobalInvocationID.xy;
    if (g.x >= p.out_w || g.y >= p.rows)
        return;
    uint first = uint(tab[p.first_off + g.x]);
    uint n = uint(tab[p.count_off + g.x]);
    uint krow = p.k_off + g.x * p.stride;
    uint row = p.src_offset + g.y * p.src_pitch + first;
    ivec3 acc = ivec3(1 << (p.bits - 1u));
    for (uint j = 0u; j < n; j++) {
        uint w = src[row + j];
        acc += ivec3(uvec3(w, w >> 8, w >> 16) & 255u) * tab[krow + j];
    }
    uvec3 c = uvec3(clamp(acc >> int(p.bits), ivec3(0), ivec3(255)));
    if (p.bgra != 0u)
        c = c.bgr;
    dst[g.y * p.out_w + g.x] = c.r | (c.g << 8) | (c.b << 16);
}
