#version 450
#extension GL_EXT_samplerless_texture_functions : require
// prep_fetch.comp - the host's image as packed 8-bit RGBA words (R in the
// low byte), the bytes the CPU path would decode. The view's format puts
// BGRA in RGBA order; an sRGB view decodes on fetch, so the value is encoded
// back (srgb != 0) before it is rounded to its byte.
// Workgroup size: specialization constants 0 and 1 (8 x 8: PREP_WG in lib/gpu_input.c).
layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z = 1) in;

layout(binding = 0) uniform texture2D src;
layout(std430, binding = 1) writeonly buffer Dst { uint dst[]; };

layout(push_constant) uniform Push {
    uint w, h, srgb;
} p;

// IEC 61966-2-1, the inverse of what the sampler applied.
vec3 srgb_encode(vec3 l)
{
    vec3 lo = l * 12.92;
    vec3 hi = 1.055 * pow(max(l, vec3(0.0031308)), vec3(1.0 / 2.4)) - 0.055;
    return mix(hi, lo, lessThanEqual(l, vec3(0.0031308)));
}

void main()
{
    uvec2 g = gl_GlobalInvocationID.xy;
    if (g.x >= p.w || g.y >= p.h)
        return;
    vec4 v = texelFetch(src, ivec2(g), 0);
    if (p.srgb != 0u)
        v.rgb = srgb_encode(v.rgb);
    uvec4 b = uvec4(clamp(floor(v * 255.0 + 0.5), 0.0, 255.0));
    dst[g.y * p.w + g.x] = b.r | (b.g << 8) | (b.b << 16) | (b.a << 24);
}
