/* interpolate.c - position embeddings resampled for another input size, as
 * transformers' interpolate_pos_encoding and timm's resample_abs_pos_embed
 * do: PyTorch's bicubic interpolation (A = -0.75, align_corners=False,
 * border taps clamped) of the patch grid; prefix tokens are kept. */
#include <math.h>
#include <stdlib.h>

#include "model.h"

static void cubic_weights(double t, double w[4])
{
    const double A = -0.75;
    double x1 = t + 1, x2 = 1 - t, x3 = 2 - t;
    w[0] = ((A * x1 - 5 * A) * x1 + 8 * A) * x1 - 4 * A;
    w[1] = ((A + 2) * t - (A + 3)) * t * t + 1;
    w[2] = ((A + 2) * x2 - (A + 3)) * x2 * x2 + 1;
    w[3] = ((A * x3 - 5 * A) * x3 + 8 * A) * x3 - 4 * A;
}

static int clampi(int v, int hi) { return v < 0 ? 0 : (v > hi ? hi : v); }

void pos_interpolate_bicubic(const float *src, uint32_t in_h, uint32_t in_w, float *dst, uint32_t out_h,
                             uint32_t out_w, uint32_t D)
{
    double sy = (double)in_h / out_h, sx = (double)in_w / out_w;
    for (uint32_t oy = 0; oy < out_h; oy++) {
        double ry = (oy + 0.5) * sy - 0.5;
        int iy = (int)floor(ry);
        double wy[4];
        cubic_weights(ry - iy, wy);
        for (uint32_t ox = 0; ox < out_w; ox++) {
            double rx = (ox + 0.5) * sx - 0.5;
            int ix = (int)floor(rx);
            double wx[4];
            cubic_weights(rx - ix, wx);
            float *o = dst + ((size_t)oy * out_w + ox) * D;
            for (uint32_t d = 0; d < D; d++) {
                double v = 0;
                for (int a = 0; a < 4; a++) {
                    const float *row = src + (size_t)clampi(iy - 1 + a, (int)in_h - 1) * in_w * D;
                    double r = 0;
                    for (int b = 0; b < 4; b++)
                        r += wx[b] * row[(size_t)clampi(ix - 1 + b, (int)in_w - 1) * D + d];
                    v += wy[a] * r;
                }
                o[d] = (float)v;
            }
        }
    }
}

void pos_interpolate_bilinear(const float *src, uint32_t in_h, uint32_t in_w, float *dst, uint32_t out_h,
                              uint32_t out_w, uint32_t D)
{
    /* PyTorch's bilinear, align_corners=False: negative source positions
     * clamp to 0, the upper neighbour to the last row/column. */
    double sy = (double)in_h / out_h, sx = (double)in_w / out_w;
    for (uint32_t oy = 0; oy < out_h; oy++) {
        double ry = (oy + 0.5) * sy - 0.5;
        ry = ry < 0 ? 0 : ry;
        uint32_t y0 = (uint32_t)ry, y1 = y0 + 1 < in_h ? y0 + 1 : y0;
        double fy = ry - y0;
        for (uint32_t ox = 0; ox < out_w; ox++) {
            double rx = (ox + 0.5) * sx - 0.5;
            rx = rx < 0 ? 0 : rx;
            uint32_t x0 = (uint32_t)rx, x1 = x0 + 1 < in_w ? x0 + 1 : x0;
            double fx = rx - x0;
            for (uint32_t d = 0; d < D; d++) {
                double v = (1 - fy) * ((1 - fx) * src[((size_t)y0 * in_w + x0) * D + d] +
                                       fx * src[((size_t)y0 * in_w + x1) * D + d]) +
                           fy * ((1 - fx) * src[((size_t)y1 * in_w + x0) * D + d] +
                                 fx * src[((size_t)y1 * in_w + x1) * D + d]);
                dst[((size_t)oy * out_w + ox) * D + d] = (float)v;
            }
        }
    }
}
