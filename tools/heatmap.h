/* heatmap.h - an attention heat map blended over an image. */
#ifndef VITVK_HEATMAP_H
#define VITVK_HEATMAP_H
#include <stdint.h>

/* Upsamples a gh x gw grid of weights to the image (bilinear), normalises it
 * to its own range, colours it and blends it over the RGB8 image in place. */
void heatmap_blend(uint8_t *rgb, uint32_t width, uint32_t height, const float *grid, uint32_t gh, uint32_t gw);
#endif
