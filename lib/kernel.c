/* kernel.c - SPIR-V modules, layouts and specialised pipelines.
 *
 * Every shader takes only storage buffers (bindings 0..n-1) and push
 * constants, so one layout shape serves all of them. Pipelines are made per
 * set of specialization constants and cached in the context. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "shaders_all.h" /* generated: vitvk_spv_<name>_<variant> arrays */

typedef struct shader_desc {
    const char *name;
    const char *variant[2]; /* "<shader>.<storage variant>", what profiles report */
    const uint32_t *code[2];
    size_t size[2];
    uint32_t bindings;
    uint32_t push_size;
    uint32_t texel_mask;
    uint32_t image_mask;
    uint32_t texel32_mask; /* texel bindings that stay RGBA32F in the fp16 variant */
    /* The workgroup: 0, specialization constant 0 is local_size_x (and 1
     * is local_size_y where wg_xy); else the shader's literal size. */
    uint32_t wg_literal;
    bool wg_xy;
} shader_desc;

/* Each entry names its fp32 and fp16 SPIR-V: variants are compiled from
 * one source with different storage macros (see CMakeLists.txt). */
#define SHADER_WG(id, n, v32, v16, nb, push, texel, image, texel32, wg_literal, wg_xy)      \
    [id] = {#n, {#n "." #v32, #n "." #v16}, {vitvk_spv_##n##_##v32, vitvk_spv_##n##_##v16}, {sizeof vitvk_spv_##n##_##v32, sizeof vitvk_spv_##n##_##v16}, \
            nb, push, texel, image, texel32, wg_literal, wg_xy}
#define SHADER_TI32(id, n, v32, v16, nb, push, texel, image, texel32)                          \
    SHADER_WG(id, n, v32, v16, nb, push, texel, image, texel32, 0, false)
#define SHADER_TI(id, n, v32, v16, nb, push, texel, image) SHADER_TI32(id, n, v32, v16, nb, push, texel, image, 0)
#define SHADER_T(id, n, v32, v16, nb, push, texel) SHADER_TI(id, n, v32, v16, nb, push, texel, 0)
#define SHADER(id, n, v32, v16, nb, push) SHADER_T(id, n, v32, v16, nb, push, 0)

static const shader_desc shaders[SH_COUNT] = {
    SHADER(SH_GEMM, gemm, f32, f16, 5, 32),
    SHADER(SH_GEMM_W16, gemm, f32, w16, 5, 32),
    SHADER_T(SH_GEMM_TEXEL, gemm_texel, f32, f16, 5, 32, 0x3),
    SHADER_T(SH_GEMM_TEXEL_BCAST, gemm_texel, b32, b16, 5, 32, 0x3),
    SHADER(SH_GEMM_TILED, gemm_tiled, f32, f16, 7, 32),
    SHADER(SH_GEMM_TILED_W16, gemm_tiled, f32, w16, 7, 32),
#ifdef VITVK_KHR_COOPMAT
    SHADER(SH_GEMM_COOPMAT, gemm_coopmat, f16, f16, 5, 32), /* fp16 plans only */
    SHADER(SH_GEMM_COOPMAT_H16, gemm_coopmat, h16, h16, 5, 32),
    SHADER(SH_ATTENTION_COOPMAT, attention_coopmat, f16, f16, 3, 24),
#else /* this build's glslang could not compile them: never chosen (no caps.coopmat_khr) */
    [SH_GEMM_COOPMAT] = {"gemm_coopmat", {"gemm_coopmat.f16", "gemm_coopmat.f16"}, {NULL, NULL}, {0, 0}, 5, 32, 0, 0, 0},
    [SH_GEMM_COOPMAT_H16] = {"gemm_coopmat", {"gemm_coopmat.h16", "gemm_coopmat.h16"}, {NULL, NULL}, {0, 0}, 5, 32, 0, 0, 0},
    [SH_ATTENTION_COOPMAT] = {"attention_coopmat", {"attention_coopmat.f16", "attention_coopmat.f16"}, {NULL, NULL},
                              {0, 0}, 3, 24, 0, 0, 0},
#endif
    /* fp16 plans only; a literal 128 invocations (four subgroups of 32) */
    SHADER_WG(SH_GEMM_COOPMAT_NV, gemm_coopmat_nv, f16, f16, 5, 32, 0, 0, 0, 128, false),
    SHADER(SH_LAYERNORM, layernorm, f32, f16, 4, 24),
    SHADER(SH_LAYERNORM_O32, layernorm, f32, o32, 4, 24),
    SHADER_T(SH_LAYERNORM_TEXEL, layernorm_texel, f32, f16, 4, 24, 0x7),
    SHADER_T(SH_LAYERNORM_TEXEL_O32, layernorm_texel, f32, o32, 4, 24, 0x7),
    SHADER(SH_LAYERNORM_SUBGROUP, layernorm_subgroup, f32, f16, 4, 24),
    SHADER(SH_LAYERNORM_SUBGROUP_O32, layernorm_subgroup, f32, o32, 4, 24),
    SHADER(SH_ATTENTION, attention, f32, f16, 3, 24),
    SHADER_T(SH_ATTENTION_TEXEL, attention_texel, f32, f16, 3, 24, 0x1),
    SHADER_T(SH_ATTENTION_TEXEL_BCAST, attention_texel, b32, b16, 3, 24, 0x1),
    SHADER(SH_ATTENTION_FLASH, attention_flash, f32, f16, 3, 24),
    SHADER(SH_CLS_ATTENTION, cls_attention, f32, f16, 3, 20),
    SHADER(SH_PATCHIFY, patchify, f32, f16, 2, 24),
    SHADER(SH_EMBED, embed, f32, f16, 4, 16),
    SHADER(SH_SOFTMAX, softmax, f32, f32, 2, 8),
    SHADER(SH_MEANPOOL, meanpool, f32, f16, 2, 16),
    SHADER(SH_MEANPOOL_O32, meanpool, f32, o32, 2, 16),
    SHADER(SH_WINDOW_ATTENTION, window_attention, f32, f16, 4, 32),
    SHADER_T(SH_WINDOW_ATTENTION_TEXEL, window_attention_texel, f32, f16, 4, 32, 0x3),
    SHADER_TI32(SH_WINDOW_ATTENTION_BCAST, window_attention_bcast, b32, b16, 4, 32, 0x7, 0, 0x4),
    SHADER(SH_PATCH_MERGE, patch_merge, f32, f16, 2, 16),
    SHADER(SH_GELU, gelu, f32, f16, 2, 8),
    /* Preprocessing and top-k work on bytes and fp32 whatever the model's
     * precision: both slots hold the one variant. */
    SHADER_WG(SH_PREP_FETCH, prep_fetch, f32, f32, 2, 12, 0, 0x1, 0, 0, true), /* 2-D workgroups */
    SHADER_WG(SH_PREP_ROWS, prep_rows, f32, f32, 3, 40, 0, 0, 0, 0, true),
    SHADER_WG(SH_PREP_COLUMNS, prep_columns, f32, f32, 4, 48, 0, 0, 0, 0, true),
    SHADER(SH_TOPK, topk, f32, f32, 3, 12),
};

static void kernel_free(vitvk_context *ctx, vk_kernel *k)
{
    if (!k)
        return;
    for (size_t i = 0; i < k->pipeline_count; i++)
        ctx->vkd.vkDestroyPipeline(ctx->device, k->pipelines[i].pipeline, ctx->vk_alloc);
    vk_free(ctx, k->pipelines);
    if (k->layout)
        ctx->vkd.vkDestroyPipelineLayout(ctx->device, k->layout, ctx->vk_alloc);
    if (k->set_layout)
        ctx->vkd.vkDestroyDescriptorSetLayout(ctx->device, k->set_layout, ctx->vk_alloc);
    if (k->module)
        ctx->vkd.vkDestroyShaderModule(ctx->device, k->module, ctx->vk_alloc);
    vk_free(ctx, k);
}

vitvk_status vk_kernel_get(vitvk_context *ctx, vk_shader_id id, bool fp16, vk_kernel **out)
{
    vk_kernel **slot = &ctx->kernels[id][fp16 ? 1 : 0];
    if (*slot) {
        *out = *slot;
        return VITVK_OK;
    }
    if (fp16 && !ctx->caps.storage16)
        return vk_fail(ctx, VITVK_ERR_UNSUPPORTED, "%s: fp16 precision needs storageBuffer16BitAccess",
                       ctx->info.name);
    const shader_desc *d = &shaders[id];
    if (!d->code[fp16 ? 1 : 0])
        return vk_fail(ctx, VITVK_ERR_UNSUPPORTED, "%s: not in this build (its glslang could not compile it)",
                       d->variant[fp16 ? 1 : 0]);
    vk_kernel *k = vk_calloc(ctx, 1, sizeof *k);
    if (!k)
        return vk_fail(ctx, VITVK_ERR_OUT_OF_HOST_MEMORY, "out of host memory");
    k->id = id;
    k->variant = d->variant[fp16 ? 1 : 0];
    k->bindings = d->bindings;
    k->push_size = d->push_size;
    k->texel_mask = d->texel_mask;
    k->texel32_mask = d->texel32_mask;
    k->image_mask = d->image_mask;
    k->texel_format = fp16 ? VK_FORMAT_R16G16B16A16_SFLOAT : VK_FORMAT_R32G32B32A32_SFLOAT;

    VkShaderModuleCreateInfo smci = {
        .sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
        .codeSize = d->size[fp16 ? 1 : 0],
        .pCode = d->code[fp16 ? 1 : 0],
    };
    vitvk_status st = vk_check(ctx, ctx->vkd.vkCreateShaderModule(ctx->device, &smci, ctx->vk_alloc, &k->module),
                               "vkCreateShaderModule");
    VkDescriptorSetLayoutBinding b[VK_MAX_BINDINGS];
    for (uint32_t i = 0; i < d->bindings; i++)
        b[i] = (VkDescriptorSetLayoutBinding){
            .binding = i,
            .descriptorType = (d->image_mask >> i) & 1u   ? VK_DESCRIPTOR_TYPE_SAMPLED_IMAGE
                              : (d->texel_mask >> i) & 1u ? VK_DESCRIPTOR_TYPE_STORAGE_TEXEL_BUFFER
                                                          : VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
            .descriptorCount = 1,
            .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT,
        };
    VkDescriptorSetLayoutCreateInfo dslci = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
        .bindingCount = d->bindings,
        .pBindings = b,
    };
    if (st == VITVK_OK)
        st = vk_check(ctx, ctx->vkd.vkCreateDescriptorSetLayout(ctx->device, &dslci, ctx->vk_alloc, &k->set_layout),
                      "vkCreateDescriptorSetLayout");
    VkPushConstantRange pcr = {.stageFlags = VK_SHADER_STAGE_COMPUTE_BIT, .offset = 0, .size = d->push_size};
    VkPipelineLayoutCreateInfo plci = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
        .setLayoutCount = 1,
        .pSetLayouts = &k->set_layout,
        .pushConstantRangeCount = d->push_size ? 1 : 0,
        .pPushConstantRanges = &pcr,
    };
    if (st == VITVK_OK)
        st = vk_check(ctx, ctx->vkd.vkCreatePipelineLayout(ctx->device, &plci, ctx->vk_alloc, &k->layout),
                      "vkCreatePipelineLayout");
    if (st != VITVK_OK) {
        kernel_free(ctx, k);
        return st;
    }
    *slot = k;
    *out = k;
    return VITVK_OK;
}

vitvk_status vk_kernel_pipeline(vitvk_context *ctx, vk_kernel *k, const uint32_t *spec, uint32_t count,
                                VkPipeline *out)
{
    if (count > VK_MAX_SPEC)
        return vk_fail(ctx, VITVK_ERR_INVALID_ARGUMENT, "internal: too many specialization constants");
    /* Every workgroup size is a specialization constant the op chose (or a
     * literal in the table); an op with another kernel checks the limits
     * before choosing (vk_workgroup_fits), and here any other size over
     * them fails by name instead of reaching the driver. An absent
     * constant leaves local_size_x_id's default, 1. */
    const shader_desc *d = &shaders[k->id];
    uint32_t wx = d->wg_literal ? d->wg_literal : count > 0 ? spec[0] : 1, wy = d->wg_xy && count > 1 ? spec[1] : 1;
    const vk_caps *c = &ctx->caps;
    if (wx > c->max_group_size[0] || wy > c->max_group_size[1] || (uint64_t)wx * wy > c->max_group_invocations)
        return vk_fail(ctx, VITVK_ERR_LIMIT,
                       "%s: a workgroup of %ux%u invocations is over this device's limits "
                       "(maxComputeWorkGroupSize %ux%u, maxComputeWorkGroupInvocations %u)",
                       k->variant, wx, wy, c->max_group_size[0], c->max_group_size[1], c->max_group_invocations);
    for (size_t i = 0; i < k->pipeline_count; i++) {
        vk_pipeline_entry *e = &k->pipelines[i];
        if (e->spec_count == count && (count == 0 || memcmp(e->spec, spec, count * sizeof *spec) == 0)) {
            *out = e->pipeline;
            return VITVK_OK;
        }
    }
    if (k->pipeline_count == k->pipeline_cap) {
        size_t nc = k->pipeline_cap ? k->pipeline_cap * 2 : 4;
        vk_pipeline_entry *np = vk_realloc(ctx, k->pipelines, nc * sizeof *np);
        if (!np)
            return vk_fail(ctx, VITVK_ERR_OUT_OF_HOST_MEMORY, "out of host memory");
        k->pipelines = np;
        k->pipeline_cap = nc;
    }
    VkSpecializationMapEntry map[VK_MAX_SPEC];
    for (uint32_t i = 0; i < count; i++)
        map[i] = (VkSpecializationMapEntry){.constantID = i, .offset = i * 4, .size = 4};
    VkSpecializationInfo si = {
        .mapEntryCount = count,
        .pMapEntries = map,
        .dataSize = count * 4,
        .pData = spec,
    };
    VkComputePipelineCreateInfo cpci = {
        .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
        .stage =
            {
                .sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
                .stage = VK_SHADER_STAGE_COMPUTE_BIT,
                .module = k->module,
                .pName = "main",
                .pSpecializationInfo = count ? &si : NULL,
            },
        .layout = k->layout,
    };
    VkPipeline pipe;
    char what[96];
    snprintf(what, sizeof what, "vkCreateComputePipelines (%s)", shaders[k->id].name);
    vitvk_status st = vk_check(ctx, ctx->vkd.vkCreateComputePipelines(ctx->device, VK_NULL_HANDLE, 1, &cpci, ctx->vk_alloc,
                                                                      &pipe),
                               what);
    if (st != VITVK_OK)
        return st;
    vk_pipeline_entry *e = &k->pipelines[k->pipeline_count++];
    memset(e, 0, sizeof *e);
    if (count) /* spec may be NULL when there are none */
        memcpy(e->spec, spec, count * sizeof *spec);
    e->spec_count = count;
    e->pipeline = pipe;
    *out = pipe;
    return VITVK_OK;
}

struct vk_name {
    struct vk_name *next;
    char text[];
};

const char *vk_intern(vitvk_context *ctx, const char *text)
{
    for (struct vk_name *n = ctx->names; n; n = n->next)
        if (strcmp(n->text, text) == 0)
            return n->text;
    size_t len = strlen(text) + 1;
    struct vk_name *n = vk_calloc(ctx, 1, sizeof *n + len);
    if (!n)
        return NULL;
    memcpy(n->text, text, len);
    n->next = ctx->names;
    ctx->names = n;
    return n->text;
}

void vk_kernels_destroy(vitvk_context *ctx)
{
    while (ctx->names) {
        struct vk_name *next = ctx->names->next;
        vk_free(ctx, ctx->names);
        ctx->names = next;
    }
    for (int i = 0; i < SH_COUNT; i++)
        for (int p = 0; p < 2; p++) {
            kernel_free(ctx, ctx->kernels[i][p]);
            ctx->kernels[i][p] = NULL;
        }
}
