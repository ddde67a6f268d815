/* adopt_features.c - what a host enabled on the device it lends us, read
 * from the extension list and feature chain it gave vkCreateDevice. An
 * adopted device may only be used within those: a feature the hardware has
 * but the host left off is undefined behaviour to use. */
#include <string.h>

#include "internal.h"

static bool listed(const char *const *names, uint32_t count, const char *name)
{
    for (uint32_t i = 0; names && i < count; i++)
        if (names[i] && strcmp(names[i], name) == 0)
            return true;
    return false;
}

void vk_enabled_read(const vitvk_context_desc *d, vk_enabled *out)
{
    memset(out, 0, sizeof *out);
    out->extensions_given = d->vk_enabled_extensions != NULL;
    const char *const *ext = d->vk_enabled_extensions;
    uint32_t n = d->vk_enabled_extension_count;
    out->ext_float16 = listed(ext, n, "VK_KHR_shader_float16_int8");
    out->ext_coopmat_nv = listed(ext, n, "VK_NV_cooperative_matrix");
    out->ext_portability = listed(ext, n, "VK_KHR_portability_subset");
    if (!d->vk_enabled_features) {
        out->storage16 = d->vk_storage16_enabled != 0;
        return;
    }
    /* A chain of structures of any kind: the sType says which. */
    for (const VkBaseInStructure *s = d->vk_enabled_features; s; s = s->pNext) {
        switch (s->sType) {
        case VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES:
            out->storage16 |= ((const VkPhysicalDevice16BitStorageFeatures *)s)->storageBuffer16BitAccess != 0;
            break;
        case VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES:
            out->storage16 |= ((const VkPhysicalDeviceVulkan11Features *)s)->storageBuffer16BitAccess != 0;
            break;
        case VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES:
            out->float16 |= ((const VkPhysicalDeviceShaderFloat16Int8Features *)s)->shaderFloat16 != 0;
            break;
        case VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES:
            out->float16 |= ((const VkPhysicalDeviceVulkan12Features *)s)->shaderFloat16 != 0;
            break;
        case VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_FEATURES_NV:
            out->coopmat_nv |= ((const VkPhysicalDeviceCooperativeMatrixFeaturesNV *)s)->cooperativeMatrix != 0;
            break;
        default:
            break;
        }
    }
}
