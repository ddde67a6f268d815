/* coopmat.c - the cooperative-matrix shapes a device lists. */
#include <stdlib.h>

#include "coopmat.h"

/* Appends one listed shape to out when it is of subgroup scope and of the
 * integer or float types vitvk_component names (both extensions number
 * components alike). */
static void keep(vitvk_coopmat_shape *out, uint32_t *kept, uint32_t max, bool subgroup, uint32_t m, uint32_t n,
                 uint32_t k, uint32_t a, uint32_t b, uint32_t c, uint32_t r)
{
    if (*kept < max && subgroup && a <= VITVK_COMPONENT_U64 && b <= VITVK_COMPONENT_U64 && c <= VITVK_COMPONENT_U64 &&
        r <= VITVK_COMPONENT_U64)
        out[(*kept)++] = (vitvk_coopmat_shape){m, n, k, (vitvk_component)a, (vitvk_component)b, (vitvk_component)c,
                                               (vitvk_component)r};
}

/* Whether the extension's matrices are usable in compute shaders: its
 * properties structure (KHR or NV, same layout) chained into
 * vkGetPhysicalDeviceProperties2. */
static bool compute_stage(const vk_instance_table *vki, VkPhysicalDevice pd, bool khr)
{
    VkPhysicalDeviceCooperativeMatrixPropertiesKHR cmp = {
        .sType = khr ? VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_PROPERTIES_KHR
                     : VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_PROPERTIES_NV};
    VkPhysicalDeviceProperties2 p2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, .pNext = &cmp};
    vki->vkGetPhysicalDeviceProperties2(pd, &p2);
    return (cmp.cooperativeMatrixSupportedStages & VK_SHADER_STAGE_COMPUTE_BIT) != 0;
}

uint32_t vk_coopmat_shapes(const vk_instance_table *vki, VkPhysicalDevice pd, bool khr, vitvk_coopmat_shape *out,
                           uint32_t max)
{
    uint32_t n = 0, kept = 0;
    if (!(khr ? (void *)vki->vkGetPhysicalDeviceCooperativeMatrixPropertiesKHR
              : (void *)vki->vkGetPhysicalDeviceCooperativeMatrixPropertiesNV) ||
        !compute_stage(vki, pd, khr))
        return 0;
    if (khr) {
        if (vki->vkGetPhysicalDeviceCooperativeMatrixPropertiesKHR(pd, &n, NULL) != VK_SUCCESS || n == 0)
            return 0;
        VkCooperativeMatrixPropertiesKHR *p = calloc(n, sizeof *p);
        if (!p)
            return 0;
        for (uint32_t i = 0; i < n; i++)
            p[i].sType = VK_STRUCTURE_TYPE_COOPERATIVE_MATRIX_PROPERTIES_KHR;
        if (vki->vkGetPhysicalDeviceCooperativeMatrixPropertiesKHR(pd, &n, p) != VK_SUCCESS)
            n = 0;
        for (uint32_t i = 0; i < n; i++)
            keep(out, &kept, max, p[i].scope == VK_SCOPE_SUBGROUP_KHR && !p[i].saturatingAccumulation, p[i].MSize,
                 p[i].NSize, p[i].KSize, p[i].AType, p[i].BType, p[i].CType, p[i].ResultType);
        free(p);
        return kept;
    }
    if (vki->vkGetPhysicalDeviceCooperativeMatrixPropertiesNV(pd, &n, NULL) != VK_SUCCESS || n == 0)
        return 0;
    VkCooperativeMatrixPropertiesNV *p = calloc(n, sizeof *p);
    if (!p)
        return 0;
    for (uint32_t i = 0; i < n; i++)
        p[i].sType = VK_STRUCTURE_TYPE_COOPERATIVE_MATRIX_PROPERTIES_NV;
    if (vki->vkGetPhysicalDeviceCooperativeMatrixPropertiesNV(pd, &n, p) != VK_SUCCESS)
        n = 0;
    for (uint32_t i = 0; i < n; i++)
        keep(out, &kept, max, p[i].scope == VK_SCOPE_SUBGROUP_NV, p[i].MSize, p[i].NSize, p[i].KSize, p[i].AType,
             p[i].BType, p[i].CType, p[i].DType);
    free(p);
    return kept;
}

const vitvk_coopmat_shape *vk_coopmat_pick(const vitvk_coopmat_shape *s, uint32_t n, vitvk_component acc)
{
    const vitvk_coopmat_shape *best = NULL;
    for (uint32_t i = 0; i < n; i++) {
        if (s[i].a != VITVK_COMPONENT_F16 || s[i].b != VITVK_COMPONENT_F16 || s[i].c != acc || s[i].result != acc)
            continue;
        /* The kernel stages tiles of whole shapes; a square one needs the
         * fewest loads per multiply, a larger one the fewest instructions. */
        if (!best || (s[i].m == s[i].n && best->m != best->n) ||
            ((s[i].m == s[i].n) == (best->m == best->n) && s[i].m * s[i].n * s[i].k > best->m * best->n * best->k))
            best = &s[i];
    }
    return best;
}
