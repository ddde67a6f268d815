/* gpu_input.h - a host image or buffer prepared for vitvk_plan_record: the
 * view, the resize tables, scratch buffers and the preprocessing dispatches
 * that write one image of the plan's pixel_values. */
#ifndef VITVK_GPU_INPUT_H
#define VITVK_GPU_INPUT_H

#include "plan.h"

struct vitvk_input {
    vitvk_plan *plan;
    vk_arena arena;     /* tables, lut, fetched, rows */
    vk_buffer *tables;  /* int32: x then y img_axis_table (first, count, k) */
    vk_buffer *lut;     /* 3 x 256 floats, then the 3 padding values */
    vk_buffer *fetched; /* image inputs: the image as packed RGBA8 words */
    vk_buffer *rows;    /* packed RGB8 words after the horizontal pass */
    vk_buffer host;     /* buffer inputs: a window of the caller's buffer (not owned) */
    VkImageView view;
    vk_program prog;    /* [fetch] -> rows -> columns */
};

/* Records the preprocessing that writes image `slot` of the plan's pixel
 * buffer. The caller orders it after earlier uses of the input's buffers. */
void gpu_input_record(vitvk_input *in, VkCommandBuffer cmd, uint32_t slot);
#endif
