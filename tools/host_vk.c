/* host_vk.c - see host_vk.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host_vk.h"

static VKAPI_ATTR VkBool32 VKAPI_CALL on_message(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                                 VkDebugUtilsMessageTypeFlagsEXT type,
                                                 const VkDebugUtilsMessengerCallbackDataEXT *data, void *user)
{
    host_vk *h = user;
    /* The validation layer's findings only, not the loader's notes. */
    if (severity >= VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT && (type & VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT)) {
        h->messages++;
        fprintf(stderr, "validation: %s\n", data->pMessage);
    }
    return VK_FALSE;
}

static int has_layer(const char *name)
{
    uint32_t n = 0;
    if (vkEnumerateInstanceLayerProperties(&n, NULL) != VK_SUCCESS || n == 0)
        return 0;
    VkLayerProperties *p = calloc(n, sizeof *p);
    int found = 0;
    if (p && vkEnumerateInstanceLayerProperties(&n, p) == VK_SUCCESS)
        for (uint32_t i = 0; i < n; i++)
            found |= strcmp(p[i].layerName, name) == 0;
    free(p);
    return found;
}

#define FAIL(...)                                 \
    do {                                          \
        snprintf(err, err_size, __VA_ARGS__);     \
        host_vk_destroy(h);                       \
        return -1;                                \
    } while (0)

int host_vk_create(host_vk *h, int want_validation, char *err, size_t err_size)
{
    memset(h, 0, sizeof *h);
    h->validation = want_validation && has_layer("VK_LAYER_KHRONOS_validation");
    const char *layers[] = {"VK_LAYER_KHRONOS_validation"};
    const char *exts[] = {VK_EXT_DEBUG_UTILS_EXTENSION_NAME};
    VkValidationFeatureEnableEXT enables[] = {VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT};
    VkValidationFeaturesEXT features = {
        .sType = VK_STRUCTURE_TYPE_VALIDATION_FEATURES_EXT,
        .enabledValidationFeatureCount = 1,
        .pEnabledValidationFeatures = enables,
    };
    VkDebugUtilsMessengerCreateInfoEXT dbg = {
        .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT,
        .pNext = &features,
        .messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT,
        .messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                       VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT,
        .pfnUserCallback = on_message,
        .pUserData = h,
    };
    VkApplicationInfo app = {.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO, .apiVersion = VK_API_VERSION_1_1};
    VkInstanceCreateInfo ici = {
        .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
        .pNext = h->validation ? &dbg : NULL, /* also reports instance creation itself */
        .pApplicationInfo = &app,
        .enabledLayerCount = h->validation ? 1 : 0,
        .ppEnabledLayerNames = layers,
        .enabledExtensionCount = h->validation ? 1 : 0,
        .ppEnabledExtensionNames = exts,
    };
    VkResult r = vkCreateInstance(&ici, NULL, &h->instance);
    if (r != VK_SUCCESS)
        FAIL("vkCreateInstance failed (%d)", (int)r);
    if (h->validation) {
        dbg.pNext = NULL;
        PFN_vkCreateDebugUtilsMessengerEXT create =
            (PFN_vkCreateDebugUtilsMessengerEXT)vkGetInstanceProcAddr(h->instance, "vkCreateDebugUtilsMessengerEXT");
        if (!create || create(h->instance, &dbg, NULL, &h->messenger) != VK_SUCCESS)
            FAIL("cannot create the debug messenger");
    }
    uint32_t n = 0;
    vkEnumeratePhysicalDevices(h->instance, &n, NULL);
    VkPhysicalDevice pds[16];
    n = n > 16 ? 16 : n;
    if (n == 0 || vkEnumeratePhysicalDevices(h->instance, &n, pds) < 0)
        FAIL("no Vulkan device");
    for (uint32_t i = 0; i < n && !h->physical; i++) {
        VkQueueFamilyProperties q[16];
        uint32_t nq = 16;
        vkGetPhysicalDeviceQueueFamilyProperties(pds[i], &nq, q);
        for (uint32_t f = 0; f < nq && !h->physical; f++)
            if ((q[f].queueFlags & VK_QUEUE_COMPUTE_BIT) && (q[f].queueFlags & VK_QUEUE_GRAPHICS_BIT)) {
                h->physical = pds[i];
                h->family = f;
            }
    }
    if (!h->physical)
        FAIL("no device with a graphics + compute queue");
    vkGetPhysicalDeviceMemoryProperties(h->physical, &h->mem);
    VkPhysicalDevice16BitStorageFeatures s16 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES};
    VkPhysicalDeviceFeatures2 f2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = &s16};
    vkGetPhysicalDeviceFeatures2(h->physical, &f2);
    h->storage16 = s16.storageBuffer16BitAccess;
    VkPhysicalDevice16BitStorageFeatures want16 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES,
                                                   .storageBuffer16BitAccess = s16.storageBuffer16BitAccess};
    float prio = 1.0f;
    VkDeviceQueueCreateInfo qci = {.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
                                   .queueFamilyIndex = h->family,
                                   .queueCount = 1,
                                   .pQueuePriorities = &prio};
    VkDeviceCreateInfo dci = {.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
                              .pNext = &want16,
                              .queueCreateInfoCount = 1,
                              .pQueueCreateInfos = &qci};
    if ((r = vkCreateDevice(h->physical, &dci, NULL, &h->device)) != VK_SUCCESS)
        FAIL("vkCreateDevice failed (%d)", (int)r);
    vkGetDeviceQueue(h->device, h->family, 0, &h->queue);
    VkCommandPoolCreateInfo pci = {.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
                                   .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
                                   .queueFamilyIndex = h->family};
    if ((r = vkCreateCommandPool(h->device, &pci, NULL, &h->pool)) != VK_SUCCESS)
        FAIL("vkCreateCommandPool failed (%d)", (int)r);
    return 0;
}

void host_vk_destroy(host_vk *h)
{
    if (h->pool)
        vkDestroyCommandPool(h->device, h->pool, NULL);
    if (h->device)
        vkDestroyDevice(h->device, NULL);
    if (h->messenger) {
        PFN_vkDestroyDebugUtilsMessengerEXT destroy =
            (PFN_vkDestroyDebugUtilsMessengerEXT)vkGetInstanceProcAddr(h->instance, "vkDestroyDebugUtilsMessengerEXT");
        if (destroy)
            destroy(h->instance, h->messenger, NULL);
    }
    if (h->instance)
        vkDestroyInstance(h->instance, NULL);
    uint32_t messages = h->messages;
    memset(h, 0, sizeof *h);
    h->messages = messages;
}

int host_vk_pin_layer(char *err, size_t err_size)
{
    static host_vk keeper; /* reachable at exit on purpose */
    return host_vk_create(&keeper, 1, err, err_size);
}

void host_vk_adopt(const host_vk *h, vitvk_context_desc *d)
{
    d->adopt_device = 1;
    d->vk_instance = h->instance;
    d->vk_physical_device = h->physical;
    d->vk_device = h->device;
    d->vk_queue = h->queue;
    d->vk_queue_family = h->family;
    d->vk_get_instance_proc_addr = (void *)vkGetInstanceProcAddr;
    d->vk_api_version = VK_API_VERSION_1_1;
    d->vk_storage16_enabled = h->storage16;
}

static int memory_type(const host_vk *h, uint32_t bits, VkMemoryPropertyFlags want)
{
    for (uint32_t i = 0; i < h->mem.memoryTypeCount; i++)
        if ((bits >> i & 1u) && (h->mem.memoryTypes[i].propertyFlags & want) == want)
            return (int)i;
    return -1;
}

int host_buffer_create(host_vk *h, VkDeviceSize size, VkBufferUsageFlags usage, host_buffer *b)
{
    memset(b, 0, sizeof *b);
    VkBufferCreateInfo bci = {.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO, .size = size, .usage = usage};
    if (vkCreateBuffer(h->device, &bci, NULL, &b->buffer) != VK_SUCCESS)
        return -1;
    VkMemoryRequirements req;
    vkGetBufferMemoryRequirements(h->device, b->buffer, &req);
    int type = memory_type(h, req.memoryTypeBits,
                           VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT);
    VkMemoryAllocateInfo mai = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
                                .allocationSize = req.size,
                                .memoryTypeIndex = (uint32_t)type};
    if (type < 0 || vkAllocateMemory(h->device, &mai, NULL, &b->memory) != VK_SUCCESS ||
        vkBindBufferMemory(h->device, b->buffer, b->memory, 0) != VK_SUCCESS ||
        vkMapMemory(h->device, b->memory, 0, VK_WHOLE_SIZE, 0, &b->mapped) != VK_SUCCESS) {
        host_buffer_destroy(h, b);
        return -1;
    }
    b->size = size;
    return 0;
}

void host_buffer_destroy(host_vk *h, host_buffer *b)
{
    if (b->buffer)
        vkDestroyBuffer(h->device, b->buffer, NULL);
    if (b->memory)
        vkFreeMemory(h->device, b->memory, NULL);
    memset(b, 0, sizeof *b);
}

int host_image_create(host_vk *h, uint32_t width, uint32_t height, VkFormat format, VkImageCreateFlags flags,
                      host_image *img)
{
    memset(img, 0, sizeof *img);
    VkImageCreateInfo ici = {
        .sType = VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO,
        .flags = flags,
        .imageType = VK_IMAGE_TYPE_2D,
        .format = format,
        .extent = {width, height, 1},
        .mipLevels = 1,
        .arrayLayers = 1,
        .samples = VK_SAMPLE_COUNT_1_BIT,
        .tiling = VK_IMAGE_TILING_OPTIMAL,
        .usage = VK_IMAGE_USAGE_SAMPLED_BIT | VK_IMAGE_USAGE_TRANSFER_DST_BIT,
        .initialLayout = VK_IMAGE_LAYOUT_UNDEFINED,
    };
    if (vkCreateImage(h->device, &ici, NULL, &img->image) != VK_SUCCESS)
        return -1;
    VkMemoryRequirements req;
    vkGetImageMemoryRequirements(h->device, img->image, &req);
    int type = memory_type(h, req.memoryTypeBits, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT);
    VkMemoryAllocateInfo mai = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
                                .allocationSize = req.size,
                                .memoryTypeIndex = (uint32_t)type};
    if (type < 0 || vkAllocateMemory(h->device, &mai, NULL, &img->memory) != VK_SUCCESS ||
        vkBindImageMemory(h->device, img->image, img->memory, 0) != VK_SUCCESS) {
        host_image_destroy(h, img);
        return -1;
    }
    return 0;
}

void host_image_destroy(host_vk *h, host_image *img)
{
    if (img->image)
        vkDestroyImage(h->device, img->image, NULL);
    if (img->memory)
        vkFreeMemory(h->device, img->memory, NULL);
    memset(img, 0, sizeof *img);
}

static void image_barrier(VkCommandBuffer cmd, VkImage image, VkImageLayout from, VkImageLayout to,
                          VkAccessFlags src_access, VkAccessFlags dst_access, VkPipelineStageFlags src,
                          VkPipelineStageFlags dst)
{
    VkImageMemoryBarrier b = {
        .sType = VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER,
        .srcAccessMask = src_access,
        .dstAccessMask = dst_access,
        .oldLayout = from,
        .newLayout = to,
        .srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
        .dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
        .image = image,
        .subresourceRange = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1},
    };
    vkCmdPipelineBarrier(cmd, src, dst, 0, 0, NULL, 0, NULL, 1, &b);
}

void host_image_upload_cmd(VkCommandBuffer cmd, const host_image *img, const host_buffer *pixels, uint32_t width,
                           uint32_t height)
{
    VkImageSubresourceRange all = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1};
    VkClearColorValue grey = {.float32 = {0.5f, 0.5f, 0.5f, 1.0f}};
    image_barrier(cmd, img->image, VK_IMAGE_LAYOUT_UNDEFINED, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, 0,
                  VK_ACCESS_TRANSFER_WRITE_BIT, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT);
    vkCmdClearColorImage(cmd, img->image, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, &grey, 1, &all);
    /* The copy overwrites the clear: order the two writes. */
    image_barrier(cmd, img->image, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
                  VK_ACCESS_TRANSFER_WRITE_BIT, VK_ACCESS_TRANSFER_WRITE_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT,
                  VK_PIPELINE_STAGE_TRANSFER_BIT);
    VkBufferImageCopy region = {
        .imageSubresource = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1},
        .imageExtent = {width, height, 1},
    };
    vkCmdCopyBufferToImage(cmd, pixels->buffer, img->image, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, 1, &region);
    /* vitvk.h's "before" barrier: the copy's writes visible to the compute
     * shader, the image in the layout its vitvk_input was made with. */
    image_barrier(cmd, img->image, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL,
                  VK_ACCESS_TRANSFER_WRITE_BIT, VK_ACCESS_SHADER_READ_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT,
                  VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT);
}

int host_begin(host_vk *h, VkCommandBuffer *cmd)
{
    VkCommandBufferAllocateInfo ai = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
                                      .commandPool = h->pool,
                                      .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
                                      .commandBufferCount = 1};
    if (vkAllocateCommandBuffers(h->device, &ai, cmd) != VK_SUCCESS)
        return -1;
    VkCommandBufferBeginInfo bi = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                                   .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT};
    return vkBeginCommandBuffer(*cmd, &bi) == VK_SUCCESS ? 0 : -1;
}

int host_submit_wait(host_vk *h, VkCommandBuffer cmd)
{
    int rc = -1;
    VkFence fence = VK_NULL_HANDLE;
    VkFenceCreateInfo fci = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    VkSubmitInfo si = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1, .pCommandBuffers = &cmd};
    if (vkEndCommandBuffer(cmd) == VK_SUCCESS && vkCreateFence(h->device, &fci, NULL, &fence) == VK_SUCCESS &&
        vkQueueSubmit(h->queue, 1, &si, fence) == VK_SUCCESS &&
        vkWaitForFences(h->device, 1, &fence, VK_TRUE, UINT64_MAX) == VK_SUCCESS)
        rc = 0;
    if (fence)
        vkDestroyFence(h->device, fence, NULL);
    vkFreeCommandBuffers(h->device, h->pool, 1, &cmd);
    return rc;
}
