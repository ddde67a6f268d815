/* coopmat.h - the cooperative-matrix shapes a device lists. */
#ifndef VITVK_COOPMAT_H
#define VITVK_COOPMAT_H

#include <stdbool.h>

#include "vitvk.h"
#include "vkfuncs.h"

/* Fills `out` (capacity `max`) with the subgroup-scope shapes the device
 * lists through VK_KHR_cooperative_matrix (khr) or VK_NV_cooperative_matrix
 * (!khr): none when the extension's matrices are not for compute shaders,
 * fp16/fp32/int types only, in the driver's order. Returns the count
 * written. */
uint32_t vk_coopmat_shapes(const vk_instance_table *vki, VkPhysicalDevice pd, bool khr,
                           vitvk_coopmat_shape *out, uint32_t max);

/* The first listed KHR shape with fp16 A and B and the given C and result
 * type (VITVK_COMPONENT_F16 or _F32), preferring the squarest, largest
 * one; NULL when there is none. */
const vitvk_coopmat_shape *vk_coopmat_pick(const vitvk_coopmat_shape *shapes, uint32_t n, vitvk_component acc);

#endif
