/* embed_host.c - vitvk inside a host that owns the Vulkan device, as a game
 * or paint program would use it: the host creates its instance (validation
 * and synchronisation validation on when the layer is installed), device
 * and queue, fills a VkImage from a PNG with its own commands, records
 * vitvk's preprocessing + forward pass + top-k into its own command buffer
 * between its own commands, submits once and prints the top label.
 *
 *   embed_host MODEL_DIR IMAGE.png
 *
 * Prints "IMAGE: LABEL (INDEX) PROB" and "validation messages: N"; exits 1
 * on any failure or validation message. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host_vk.h"
#include "image.h" /* the library's PNG/JPEG decoder, to fill the host's image */
#include "vitvk.h"

#define TOP_K 3

typedef struct top_pair {
    uint32_t index;
    float prob;
} top_pair;

static int run(host_vk *h, const char *model_dir, const char *path)
{
    char err[1024] = "";
    img_rgb8 rgb = {0};
    if (img_decode_file(path, 0, &rgb, err, sizeof err) != VITVK_OK) {
        fprintf(stderr, "embed_host: %s\n", err);
        return 1;
    }
    uint32_t w = rgb.width, hgt = rgb.height;

    /* vitvk on the host's device. */
    vitvk_context_desc cd = {0};
    host_vk_adopt(h, &cd);
    vitvk_context *ctx = NULL;
    vitvk_model *model = NULL;
    vitvk_plan *plan = NULL;
    vitvk_input *input = NULL;
    host_buffer staging = {0}, results = {0}, readback = {0};
    host_image image = {0};
    int rc = 1;
    if (vitvk_context_create(&cd, &ctx, err, sizeof err) != VITVK_OK) {
        fprintf(stderr, "embed_host: %s\n", err);
        goto done;
    }
    if (vitvk_model_load(ctx, model_dir, NULL, &model) != VITVK_OK ||
        vitvk_plan_create(model, &(vitvk_plan_desc){.batch = 1}, &plan) != VITVK_OK) {
        fprintf(stderr, "embed_host: %s\n", vitvk_context_last_error(ctx));
        goto done;
    }

    /* The host's resources: an RGBA8 image, its pixels in a staging buffer,
     * a device buffer for vitvk's answer and one the host reads. */
    uint64_t bytes = TOP_K * sizeof(top_pair);
    if (host_image_create(h, w, hgt, VK_FORMAT_R8G8B8A8_UNORM, 0, &image) ||
        host_buffer_create(h, (VkDeviceSize)w * hgt * 4, VK_BUFFER_USAGE_TRANSFER_SRC_BIT, &staging) ||
        host_buffer_create(h, bytes, VK_BUFFER_USAGE_TRANSFER_DST_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT, &results) ||
        host_buffer_create(h, bytes, VK_BUFFER_USAGE_TRANSFER_DST_BIT, &readback)) {
        fprintf(stderr, "embed_host: cannot create the host's image and buffers\n");
        goto done;
    }
    uint8_t *px = staging.mapped;
    for (size_t i = 0; i < (size_t)w * hgt; i++) {
        memcpy(px + 4 * i, rgb.pixels + 3 * i, 3);
        px[4 * i + 3] = 255;
    }

    /* Once per image the host wants tagged: a view and descriptors. */
    vitvk_input_desc in = {
        .kind = VITVK_INPUT_IMAGE,
        .width = w,
        .height = hgt,
        .vk_format = VK_FORMAT_R8G8B8A8_UNORM,
        .vk_layout = VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL,
    };
    memcpy(&in.vk_image, &image.image, sizeof in.vk_image);
    if (vitvk_input_create(plan, &in, &input) != VITVK_OK) {
        fprintf(stderr, "embed_host: %s\n", vitvk_context_last_error(ctx));
        goto done;
    }

    VkCommandBuffer cmd;
    if (host_begin(h, &cmd)) {
        fprintf(stderr, "embed_host: cannot begin a command buffer\n");
        goto done;
    }
    /* The host's commands: clear + copy into the image, then the barrier
     * vitvk.h asks for (TRANSFER writes -> COMPUTE_SHADER reads, layout
     * SHADER_READ_ONLY_OPTIMAL). */
    host_image_upload_cmd(cmd, &image, &staging, w, hgt);
    vitvk_output out = {.kind = VITVK_OUTPUT_TOP_K, .k = TOP_K};
    memcpy(&out.vk_buffer, &results.buffer, sizeof out.vk_buffer);
    vitvk_status st = vitvk_plan_record(plan, cmd, &input, 1, &out);
    if (st == VITVK_OK) {
        /* vitvk's results are TRANSFER writes; the host copies them on. */
        VkBufferMemoryBarrier after = {
            .sType = VK_STRUCTURE_TYPE_BUFFER_MEMORY_BARRIER,
            .srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
            .dstAccessMask = VK_ACCESS_TRANSFER_READ_BIT,
            .srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
            .dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
            .buffer = results.buffer,
            .size = bytes,
        };
        vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 0, NULL, 1, &after,
                             0, NULL);
        vkCmdCopyBuffer(cmd, results.buffer, readback.buffer, 1, &(VkBufferCopy){.size = bytes});
        VkMemoryBarrier host = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                                .srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
                                .dstAccessMask = VK_ACCESS_HOST_READ_BIT};
        vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &host, 0, NULL, 0,
                             NULL);
    } else {
        fprintf(stderr, "embed_host: %s\n", vitvk_context_last_error(ctx));
    }
    if (host_submit_wait(h, cmd) || st != VITVK_OK) {
        if (st == VITVK_OK)
            fprintf(stderr, "embed_host: the submission failed\n");
        goto done;
    }
    const top_pair *top = readback.mapped;
    const char *label = vitvk_model_label(model, top[0].index);
    printf("%s: %s (%u) %.4f\n", path, label ? label : "?", top[0].index, top[0].prob);
    rc = 0;
done:
    vitvk_input_destroy(input);
    host_image_destroy(h, &image);
    host_buffer_destroy(h, &staging);
    host_buffer_destroy(h, &results);
    host_buffer_destroy(h, &readback);
    vitvk_plan_destroy(plan);
    vitvk_model_destroy(model);
    vitvk_context_destroy(ctx);
    img_free(&rgb);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: embed_host MODEL_DIR IMAGE\n");
        return 2;
    }
    host_vk h;
    char err[512];
    if (host_vk_create(&h, 1, err, sizeof err)) {
        fprintf(stderr, "embed_host: %s\n", err);
        return 1;
    }
    int validation = h.validation;
    int rc = run(&h, argv[1], argv[2]);
    host_vk_destroy(&h);
    if (validation)
        printf("validation messages: %u (synchronization validation on)\n", h.messages);
    else
        printf("validation layer not installed: nothing validated\n");
    return rc || h.messages ? 1 : 0;
}
