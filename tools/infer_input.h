/* infer_input.h - the checks `vit-vk-cli infer` makes on its input tensor,
 * shared with the fuzz harness tests/fuzz/fuzz_infer.c so that what is
 * fuzzed is what the command runs.
 *
 * Errors are returned as vitvk_status with one line, naming the file and
 * the tensor, written to err (may be NULL). */
#ifndef VITVK_INFER_INPUT_H
#define VITVK_INFER_INPUT_H
#include <stddef.h>
#include <stdint.h>

#include "safetensors.h"

/* Finds tensor `name` in the archive and checks that it can be pixel_values:
 * F32, F16 or BF16, rank 4, at least one image. `file` names the archive in
 * messages. *out points into the archive. */
vitvk_status infer_input_find(const st_archive *a, const char *file, const char *name,
                              const st_tensor **out, char *err, size_t err_size);

/* Checks that a tensor accepted by infer_input_find is [N, channels, height,
 * width] and converts it to N*C*H*W floats in a new buffer (free() it). */
vitvk_status infer_input_pixels(const st_tensor *t, const char *file, uint32_t channels,
                                uint32_t height, uint32_t width, float **pixels, char *err,
                                size_t err_size);
#endif
