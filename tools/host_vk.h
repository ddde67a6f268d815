/* host_vk.h - a minimal Vulkan host for tools/embed_host.c and the
 * recording tests: the host's own instance (with the Khronos validation
 * layer and its synchronisation validation when installed), device, queue,
 * command pool, and buffers and images to hand to vitvk. Everything a game
 * would already have. */
#ifndef VITVK_HOST_VK_H
#define VITVK_HOST_VK_H
#include <stddef.h>
#include <stdint.h>
#include <vulkan/vulkan.h>

#include "vitvk.h"

typedef struct host_vk {
    VkInstance instance;
    VkPhysicalDevice physical;
    VkDevice device;
    VkQueue queue;
    uint32_t family;
    VkCommandPool pool;
    VkDebugUtilsMessengerEXT messenger;
    VkPhysicalDeviceMemoryProperties mem;
    int validation;     /* the layer (with synchronisation validation) is on */
    int storage16;      /* storageBuffer16BitAccess enabled */
    uint32_t messages;  /* validation messages (any severity >= warning) seen */
} host_vk;

/* Creates the instance (validation when want_validation and the layer is
 * installed), picks the first device with a compute queue, creates the
 * device, queue and pool. 0 on success, else -1 with a line in err. */
int host_vk_create(host_vk *h, int want_validation, char *err, size_t err_size);
void host_vk_destroy(host_vk *h);
/* For test programs run without fork (the sanitizer build): creates one
 * host instance that lives until the process exits, so that the validation
 * layer stays loaded and synchronisation validation's allocations stay
 * attributable to it (each unload otherwise leaves some behind, reported
 * by LeakSanitizer from an unknown module). 0 on success. */
int host_vk_pin_layer(char *err, size_t err_size);
/* The adoption fields of a context desc for this host's device. */
void host_vk_adopt(const host_vk *h, vitvk_context_desc *desc);

typedef struct host_buffer {
    VkBuffer buffer;
    VkDeviceMemory memory;
    void *mapped; /* host-visible, coherent */
    VkDeviceSize size;
} host_buffer;
int host_buffer_create(host_vk *h, VkDeviceSize size, VkBufferUsageFlags usage, host_buffer *out);
void host_buffer_destroy(host_vk *h, host_buffer *b);

typedef struct host_image {
    VkImage image;
    VkDeviceMemory memory;
} host_image;
/* A device-local 2D image with SAMPLED and TRANSFER_DST usage. */
int host_image_create(host_vk *h, uint32_t width, uint32_t height, VkFormat format, VkImageCreateFlags flags,
                      host_image *out);
void host_image_destroy(host_vk *h, host_image *img);

/* Records into cmd: clear the image, then copy `pixels` (tightly packed
 * 4-byte texels) into it, and the barrier that hands it to vitvk in
 * SHADER_READ_ONLY_OPTIMAL (the barrier vitvk.h asks for). */
void host_image_upload_cmd(VkCommandBuffer cmd, const host_image *img, const host_buffer *pixels, uint32_t width,
                           uint32_t height);
/* Begins a one-time command buffer / ends, submits once, waits, frees it. */
int host_begin(host_vk *h, VkCommandBuffer *cmd);
int host_submit_wait(host_vk *h, VkCommandBuffer cmd);
#endif
