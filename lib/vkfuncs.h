/* vkfuncs.h - the Vulkan entry points the library calls, as X-macros.
 *
 * Each context loads its own tables through vkGetInstanceProcAddr and
 * vkGetDeviceProcAddr, so nothing Vulkan-related lives in process globals:
 * a host that uses volk or its own loader keeps its function pointers, and
 * two contexts on two devices never share a table. (volk keeps its
 * instance-level pointers in globals, which is why it is not used here.) */
#ifndef VITVK_VKFUNCS_H
#define VITVK_VKFUNCS_H

#ifndef VK_NO_PROTOTYPES
#define VK_NO_PROTOTYPES
#endif
#include <vulkan/vulkan.h>

#include "vk_khr_compat.h"

/* Loaded with a NULL instance. */
#define VK_GLOBAL_FUNCS(X)                     \
    X(vkCreateInstance)                        \
    X(vkEnumerateInstanceExtensionProperties)  \
    X(vkEnumerateInstanceLayerProperties)      \
    X(vkEnumerateInstanceVersion)

#define VK_INSTANCE_FUNCS(X)                    \
    X(vkDestroyInstance)                        \
    X(vkEnumeratePhysicalDevices)               \
    X(vkGetPhysicalDeviceProperties)            \
    X(vkGetPhysicalDeviceProperties2)           \
    X(vkGetPhysicalDeviceFeatures2)             \
    X(vkGetPhysicalDeviceMemoryProperties)      \
    X(vkGetPhysicalDeviceFormatProperties)      \
    X(vkGetPhysicalDeviceQueueFamilyProperties) \
    X(vkEnumerateDeviceExtensionProperties)     \
    X(vkCreateDevice)                           \
    X(vkGetDeviceProcAddr)

/* Optional: the debug-utils messenger exists only with the extension. */
#define VK_INSTANCE_FUNCS_OPT(X)          \
    X(vkCreateDebugUtilsMessengerEXT)     \
    X(vkDestroyDebugUtilsMessengerEXT)    \
    X(vkGetPhysicalDeviceCooperativeMatrixPropertiesNV) \
    X(vkGetPhysicalDeviceCooperativeMatrixPropertiesKHR)

#define VK_DEVICE_FUNCS(X)                  \
    X(vkDestroyDevice)                      \
    X(vkGetDeviceQueue)                     \
    X(vkDeviceWaitIdle)                     \
    X(vkQueueSubmit)                        \
    X(vkQueueWaitIdle)                      \
    X(vkCreateBuffer)                       \
    X(vkDestroyBuffer)                      \
    X(vkGetBufferMemoryRequirements)        \
    X(vkAllocateMemory)                     \
    X(vkFreeMemory)                         \
    X(vkBindBufferMemory)                   \
    X(vkMapMemory)                          \
    X(vkUnmapMemory)                        \
    X(vkFlushMappedMemoryRanges)            \
    X(vkInvalidateMappedMemoryRanges)       \
    X(vkCreateShaderModule)                 \
    X(vkCreateBufferView)                   \
    X(vkDestroyBufferView)                  \
    X(vkCreateImageView)                    \
    X(vkDestroyImageView)                   \
    X(vkDestroyShaderModule)                \
    X(vkCreateDescriptorSetLayout)          \
    X(vkDestroyDescriptorSetLayout)         \
    X(vkCreatePipelineLayout)               \
    X(vkDestroyPipelineLayout)              \
    X(vkCreateComputePipelines)             \
    X(vkDestroyPipeline)                    \
    X(vkCreateDescriptorPool)               \
    X(vkDestroyDescriptorPool)              \
    X(vkAllocateDescriptorSets)             \
    X(vkUpdateDescriptorSets)               \
    X(vkCreateCommandPool)                  \
    X(vkDestroyCommandPool)                 \
    X(vkResetCommandPool)                   \
    X(vkAllocateCommandBuffers)             \
    X(vkFreeCommandBuffers)                 \
    X(vkBeginCommandBuffer)                 \
    X(vkEndCommandBuffer)                   \
    X(vkCmdBindPipeline)                    \
    X(vkCmdBindDescriptorSets)              \
    X(vkCmdPushConstants)                   \
    X(vkCmdDispatch)                        \
    X(vkCmdPipelineBarrier)                 \
    X(vkCmdCopyBuffer)                      \
    X(vkCmdFillBuffer)                      \
    X(vkCmdWriteTimestamp)                  \
    X(vkCmdResetQueryPool)                  \
    X(vkCreateQueryPool)                    \
    X(vkDestroyQueryPool)                   \
    X(vkGetQueryPoolResults)                \
    X(vkCreateFence)                        \
    X(vkDestroyFence)                       \
    X(vkWaitForFences)                      \
    X(vkGetFenceStatus)                     \
    X(vkResetFences)

#define VK_DECLARE_PFN(name) PFN_##name name;

typedef struct vk_instance_table {
    PFN_vkGetInstanceProcAddr vkGetInstanceProcAddr;
    VK_GLOBAL_FUNCS(VK_DECLARE_PFN)
    VK_INSTANCE_FUNCS(VK_DECLARE_PFN)
    VK_INSTANCE_FUNCS_OPT(VK_DECLARE_PFN)
} vk_instance_table;

typedef struct vk_device_table {
    VK_DEVICE_FUNCS(VK_DECLARE_PFN)
} vk_device_table;

#endif
