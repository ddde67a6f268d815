/* heatmap.c - an attention heat map blended over an image. */
#include <math.h>
#include <string.h>

#include "heatmap.h"

/* A perceptually ordered dark-blue -> cyan -> yellow -> red ramp. */
static void ramp(float v, float rgb[3])
{
    static const float stops[5][3] = {
        {0.05f, 0.03f, 0.30f}, {0.10f, 0.45f, 0.85f}, {0.30f, 0.85f, 0.55f}, {0.98f, 0.85f, 0.15f}, {0.85f, 0.10f, 0.05f},
    };
    float x = v < 0 ? 0 : (v > 1 ? 1 : v);
    float pos = x * 4.0f;
    int i = (int)pos;
    if (i >= 4)
        i = 3;
    float t = pos - (float)i;
    for (int c = 0; c < 3; c++)
        rgb[c] = stops[i][c] + (stops[i + 1][c] - stops[i][c]) * t;
}

void heatmap_blend(uint8_t *rgb, uint32_t width, uint32_t height, const float *grid, uint32_t gh, uint32_t gw)
{
    float lo = grid[0], hi = grid[0];
    for (uint32_t i = 1; i < gh * gw; i++) {
        lo = grid[i] < lo ? grid[i] : lo;
        hi = grid[i] > hi ? grid[i] : hi;
    }
    float scale = hi > lo ? 1.0f / (hi - lo) : 0.0f;
    for (uint32_t y = 0; y < height; y++) {
        /* bilinear from patch centres, clamped at the borders */
        float gy = ((float)y + 0.5f) * (float)gh / (float)height - 0.5f;
        gy = gy < 0 ? 0 : (gy > (float)(gh - 1) ? (float)(gh - 1) : gy);
        uint32_t y0 = (uint32_t)gy, y1 = y0 + 1 < gh ? y0 + 1 : y0;
        float fy = gy - (float)y0;
        for (uint32_t x = 0; x < width; x++) {
            float gx = ((float)x + 0.5f) * (float)gw / (float)width - 0.5f;
            gx = gx < 0 ? 0 : (gx > (float)(gw - 1) ? (float)(gw - 1) : gx);
            uint32_t x0 = (uint32_t)gx, x1 = x0 + 1 < gw ? x0 + 1 : x0;
            float fx = gx - (float)x0;
            float v = (1 - fy) * ((1 - fx) * grid[y0 * gw + x0] + fx * grid[y0 * gw + x1]) +
                      fy * ((1 - fx) * grid[y1 * gw + x0] + fx * grid[y1 * gw + x1]);
            float c[3];
            ramp((v - lo) * scale, c);
            uint8_t *p = rgb + ((size_t)y * width + x) * 3;
            for (int k = 0; k < 3; k++)
                p[k] = (uint8_t)lrintf(0.45f * p[k] + 0.55f * 255.0f * c[k]);
        }
    }
}
