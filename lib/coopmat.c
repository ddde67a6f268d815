/* coopmat.c - the cooperative-matrix shapes a device lists. */
#include <stdlib.h>

#include "coopmat.h"

/* Both extensions' property structures have the same fields in the same
 * order after sType and pNext, and the same component numbering; they
 * are read through one copy loop. */
uint32_t vk_coopmat_shapes(const vk_instance_table *vki, VkPhysicalDevice pd, bool khr, vitvk_coopmat_shape *out,
                           uint32_t max)
{
    uint32_t n = 0, kept = 0;
    if (khr) {
        if (!vki->vkGetPhysicalDeviceCooperativeMatrixPropertiesKHR ||
            vki->vkGetPhysicalDeviceCooperativeMatrixPropertiesKHR(pd, &n, NULL) != VK_SUCCESS || n == 0)
            return 0;
        VkCooperativeMatrixPropertiesKHR *p = calloc(n, sizeof *p);
        if (!p)
            return 0;
        for (uint32_t i = 0; i < n; i++)
            p[i].sType = VK_STRUCTURE_TYPE_COOPERATIVE_MATRIX_PROPERTIES_KHR;
        if (vki->vkGetPhysicalDeviceCooperativeMatrixPropertiesKHR(pd, &n, p) != VK_SUCCESS)
            n = 0;
        for (uint32_t i = 0; i < n && kept < max; i++) {
            if (p[i].scope != VK_SCOPE_SUBGROUP_KHR || p[i].AType > VK_COMPONENT_TYPE_UINT64_KHR ||
                p[i].BType > VK_COMPONENT_TYPE_UINT64_KHR || p[i].CType > VK_COMPONENT_TYPE_UINT64_KHR ||
                p[i].ResultType > VK_COMPONENT_TYPE_UINT64_KHR || p[i].saturatingAccumulation)
                continue;
            out[kept++] = (vitvk_coopmat_shape){p[i].MSize, p[i].NSize, p[i].KSize, (vitvk_component)p[i].AType,
                                                (vitvk_component)p[i].BType, (vitvk_component)p[i].CType,
                                                (vitvk_component)p[i].ResultType};
        }
        free(p);
        return kept;
    }
    if (!vki->vkGetPhysicalDeviceCooperativeMatrixPropertiesNV ||
        vki->vkGetPhysicalDeviceCooperativeMatrixPropertiesNV(pd, &n, NULL) != VK_SUCCESS || n == 0)
        return 0;
    VkCooperativeMatrixPropertiesNV *p = calloc(n, sizeof *p);
    if (!p)
        return 0;
    for (uint32_t i = 0; i < n; i++)
        p[i].sType = VK_STRUCTURE_TYPE_COOPERATIVE_MATRIX_PROPERTIES_NV;
    if (vki->vkGetPhysicalDeviceCooperativeMatrixPropertiesNV(pd, &n, p) != VK_SUCCESS)
        n = 0;
    for (uint32_t i = 0; i < n && kept < max; i++) {
        if (p[i].scope != VK_SCOPE_SUBGROUP_NV || p[i].AType > VK_COMPONENT_TYPE_UINT64_NV ||
            p[i].BType > VK_COMPONENT_TYPE_UINT64_NV || p[i].CType > VK_COMPONENT_TYPE_UINT64_NV ||
            p[i].DType > VK_COMPONENT_TYPE_UINT64_NV)
            continue;
        out[kept++] = (vitvk_coopmat_shape){p[i].MSize, p[i].NSize, p[i].KSize, (vitvk_component)p[i].AType,
                                            (vitvk_component)p[i].BType, (vitvk_component)p[i].CType,
                                            (vitvk_component)p[i].DType};
    }
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
