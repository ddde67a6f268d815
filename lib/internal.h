/* internal.h - the objects shared by the library's files: context, buffers,
 * arenas, kernels and the recorder. Not installed. */
#ifndef VITVK_INTERNAL_H
#define VITVK_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vitvk.h"
#include "vkfuncs.h"

#define VK_ERR_SIZE 1024

/* ---- context ------------------------------------------------------ */

typedef struct vk_kernel vk_kernel;

/* Shaders embedded at build time; one entry per (kernel, precision). */
typedef enum vk_shader_id {
    SH_GEMM,
    SH_GEMM_W16,
    SH_GEMM_TEXEL,    /* A and W read as vec4 texels (storage texel buffers, imageLoad) */
    SH_GEMM_TEXEL_BCAST, /* the same, one A texel per 8 rows handed round by subgroupShuffle */
    SH_GEMM_TILED,    /* shared-memory tiles (GPUs) */
    SH_GEMM_TILED_W16,
    SH_GEMM_COOPMAT,     /* fp16 only: KHR cooperative matrices, fp32 accumulation (built where glslang can) */
    SH_GEMM_COOPMAT_H16, /* the same, fp16 accumulation */
    SH_ATTENTION_COOPMAT, /* fp16 only: flash attention with Q·Kᵀ and P·V on KHR cooperative matrices */
    SH_GEMM_COOPMAT_NV, /* fp16 only: NV cooperative matrices (tensor cores) */      /* fp16 variant: only W is half (A and C fp32) */
    SH_LAYERNORM,
    SH_LAYERNORM_O32, /* fp16 variant: output fp32 */
    SH_LAYERNORM_TEXEL,     /* x, gamma, beta as vec4 texels (D, stride % 4 == 0) */
    SH_LAYERNORM_TEXEL_O32,
    SH_LAYERNORM_SUBGROUP,  /* one subgroup per row (GPUs with subgroup arithmetic) */
    SH_LAYERNORM_SUBGROUP_O32,
    SH_ATTENTION,
    SH_ATTENTION_TEXEL, /* q, k, v as vec4 texels (head size % 4 == 0) */
    SH_ATTENTION_TEXEL_BCAST, /* the same, keys and values handed round by subgroupShuffle */
    SH_ATTENTION_FLASH, /* keys and values staged in shared memory (GPUs) */
    SH_CLS_ATTENTION,   /* the [CLS] row of the attention probabilities */
    SH_PATCHIFY,
    SH_EMBED,
    SH_SOFTMAX,
    SH_MEANPOOL,
    SH_MEANPOOL_O32,
    SH_WINDOW_ATTENTION,
    SH_WINDOW_ATTENTION_TEXEL, /* q, k, v and biases as vec4 texels (head size % 4 == 0) */
    SH_WINDOW_ATTENTION_BCAST, /* the same, a workgroup per window, keys and values by subgroupShuffle */
    SH_PATCH_MERGE,
    SH_GELU,
    SH_PREP_FETCH,   /* host image (sampled) -> packed RGBA8 words */
    SH_PREP_ROWS,    /* horizontal resize pass, fixed-point taps */
    SH_PREP_COLUMNS, /* vertical pass + crop + rescale/normalise into pixel_values */
    SH_TOPK,         /* the k largest logits per image, with their probabilities */
    SH_COUNT
} vk_shader_id;

typedef struct vk_caps {
    bool storage16;        /* storageBuffer16BitAccess usable (enabled on the device) */
    bool fp16_arith;       /* shaderFloat16 available */
    uint32_t subgroup_size;
    uint32_t shared_memory;
    uint64_t max_storage_range;
    uint64_t max_alloc_size;
    uint32_t max_group_count[3];
    uint32_t max_group_size[3];     /* maxComputeWorkGroupSize (the spec promises 128 x 128 x 64) */
    uint32_t max_group_invocations; /* maxComputeWorkGroupInvocations (at least 128) */
    uint64_t non_coherent_atom;
    uint64_t min_storage_align;
    VkPhysicalDeviceType type;
    uint32_t vendor_id;
    float timestamp_period;    /* nanoseconds per timestamp tick */
    bool timestamps;           /* the queue family writes timestamps */
    /* VK_NV_cooperative_matrix with a 16x16x16 fp16 x fp16 -> fp32 shape in
     * compute shaders, subgroup size 32, shaderFloat16: enabled on devices
     * the library creates (never assumed on an adopted one). */
    bool coopmat_nv;
    /* VK_KHR_cooperative_matrix usable (the extension, its feature,
     * vulkanMemoryModel, 16-bit storage, shaderFloat16, and a build whose
     * glslang compiled the KHR kernels), with the shape the GEMM uses for
     * fp32 accumulation (khr_shape32) and for fp16 (khr_shape16, m == 0
     * when the device lists none). */
    bool coopmat_khr;
    vitvk_coopmat_shape khr_shape32, khr_shape16;
    bool memory_model;         /* vulkanMemoryModel: every cooperative-matrix shader declares it */
    bool attn_coopmat_failed;  /* the context's check of the cooperative-matrix attention failed */
    bool subgroup_arith;       /* subgroup arithmetic in compute shaders */
    bool subgroup_shuffle;     /* subgroupShuffle in compute shaders */
    /* Storage texel buffers of RGBA32F and RGBA16F (the vec4 kernels read
     * them with imageLoad), and how many texels one view may hold. */
    bool storage_texel;
    uint32_t max_texel_elements;
} vk_caps;

/* Whether a workgroup of `invocations` (all along x) using `shared` bytes
 * of shared memory is within the device's limits. An op that has another
 * kernel asks before choosing one; vk_kernel_pipeline refuses any other
 * workgroup over the limits (VITVK_ERR_LIMIT), never the driver. */
static inline bool vk_workgroup_fits(const vk_caps *c, uint64_t invocations, uint64_t shared)
{
    return invocations <= c->max_group_invocations && invocations <= c->max_group_size[0] &&
           shared <= c->shared_memory;
}

/* What VITVK_KERNELS_AUTO picks: the CPU family (texel-buffer kernels,
 * no shared memory) on a CPU device, the GPU family elsewhere. */
static inline bool vk_auto_family_cpu(const vk_caps *c)
{
    return c->type == VK_PHYSICAL_DEVICE_TYPE_CPU;
}

/* What VITVK_PRECISION_AUTO picks: fp16 storage on a GPU with 16-bit
 * storage, else fp32 (on lavapipe, a CPU device, fp16 storage measured no
 * faster than fp32: README, Performance; without 16-bit storage fp16
 * would need halves packed two to a word in every kernel). */
static inline bool vk_auto_precision_fp16(const vk_caps *c)
{
    return c->storage16 && c->type != VK_PHYSICAL_DEVICE_TYPE_CPU;
}

struct vitvk_context {
    vk_instance_table vki;
    vk_device_table vkd;
    VkInstance instance;
    VkPhysicalDevice physical;
    VkDevice device;
    VkQueue queue;
    uint32_t queue_family;
    bool owns_instance, owns_device;
    VkDebugUtilsMessengerEXT messenger;
    uint32_t validation_messages;

    VkPhysicalDeviceMemoryProperties memprops;
    vk_caps caps;
    vitvk_device_info info;

    VkCommandPool cmd_pool; /* for one-time uploads and plan command buffers */
    VkFence fence;

    vk_kernel *kernels[SH_COUNT][2]; /* [shader][0 = fp32, 1 = fp16], made on first use */
    struct vk_name *names;           /* vk_intern's strings */

    vitvk_log_fn log;
    void *log_user;
    vitvk_kernel_family kernel_family; /* AUTO, or forced by the caller */
    vitvk_coopmat_mode coopmat_mode;   /* AUTO, OFF or FP16_ACCUMULATE (vitvk_context_desc) */
    uint32_t coopmat_tile[8];          /* vitvk_context_desc.coopmat_tile: all zero, or checked */
    uint64_t budget;       /* device_memory_budget, 0 = none */
    const VkAllocationCallbacks *vk_alloc; /* the caller's, or NULL */
    vitvk_allocator host_alloc; /* the caller's; all NULL = the C library's */
    uint64_t device_bytes; /* device-local VkDeviceMemory held by the context's arenas */
    char last_error[VK_ERR_SIZE];
};

/* Host memory on behalf of a context (host_alloc.c): the caller's
 * allocator, or malloc. Pair each with vk_free on the same context; memory
 * from other modules (files read, parsed configs) keeps its own free. */
void *vk_malloc(const vitvk_context *ctx, size_t size);
void *vk_calloc(const vitvk_context *ctx, size_t count, size_t size);
void *vk_realloc(const vitvk_context *ctx, void *ptr, size_t size);
void vk_free(const vitvk_context *ctx, void *ptr);

/* Records a formatted message as the context's last error and returns
 * `status`, so that callers can write `return vk_fail(ctx, st, ...)`. */
vitvk_status vk_fail(vitvk_context *ctx, vitvk_status status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* Translates a VkResult into a status and last-error message naming `what`. */
vitvk_status vk_check(vitvk_context *ctx, VkResult r, const char *what);
void vk_log(vitvk_context *ctx, vitvk_log_level level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
const char *vk_result_name(VkResult r);

/* Submits one command buffer to the context's queue and waits for it. */
vitvk_status vk_submit_wait(vitvk_context *ctx, VkCommandBuffer cmd);
/* Allocates and begins a one-time command buffer from the context's pool. */
vitvk_status vk_begin_once(vitvk_context *ctx, VkCommandBuffer *out);
/* Ends, submits, waits for and frees a command buffer from vk_begin_once. */
vitvk_status vk_end_once(vitvk_context *ctx, VkCommandBuffer cmd);

/* ---- memory (memory.c) ------------------------------------------- */

typedef struct vk_buffer {
    VkBuffer buffer;
    VkDeviceSize offset; /* within its memory block */
    VkDeviceSize size;   /* bytes requested */
    void *mapped;        /* host pointer when the memory is mapped, else NULL */
    uint32_t block;      /* index of the arena block */
    /* What descriptors see: 0, 0 is the whole buffer (arena buffers); a
     * window of a caller's buffer otherwise (vitvk_input). */
    VkDeviceSize bind_offset, bind_range;
    /* GEMM weights: 0 for row-major N x K; else the columns per block of
     * the texel GEMM's blocked layout (op_gemm_w_block). */
    uint32_t w_block;
} vk_buffer;

typedef enum vk_mem_kind {
    VK_MEM_DEVICE,   /* device-local; mapped too when the device is UMA */
    VK_MEM_UPLOAD,   /* host-visible, written by the host */
    VK_MEM_READBACK  /* host-visible (cached if possible), read by the host */
} vk_mem_kind;

/* An arena creates buffers, then backs all of them with as few memory
 * allocations as the device allows (vk_arena_commit). Buffers are valid
 * only after commit and live until the arena is destroyed. */
typedef struct vk_arena {
    vitvk_context *ctx;
    vk_mem_kind kind;
    vk_buffer **buffers;
    size_t count, cap;
    VkDeviceMemory *blocks;
    void **block_maps;
    bool *block_coherent;
    uint32_t block_count;
    uint64_t bytes;
    uint64_t local_bytes; /* of which device-local (what the budget counts) */
    bool committed;
} vk_arena;

void vk_arena_init(vk_arena *a, vitvk_context *ctx, vk_mem_kind kind);
/* Creates a storage/transfer buffer of `size` bytes (0 is rounded up to 4). */
vitvk_status vk_arena_add(vk_arena *a, VkDeviceSize size, const char *what, vk_buffer **out);
vitvk_status vk_arena_commit(vk_arena *a);
void vk_arena_destroy(vk_arena *a);
/* After host writes to a mapped buffer / before host reads from one. */
vitvk_status vk_buffer_flush(vk_arena *a, const vk_buffer *b);
vitvk_status vk_buffer_invalidate(vk_arena *a, const vk_buffer *b);
/* Copies host bytes into a committed buffer of `arena`: directly when it is
 * mapped, else through a temporary staging buffer (blocking). */
vitvk_status vk_upload(vitvk_context *ctx, vk_arena *arena, vk_buffer *dst, const void *src, size_t size);

/* ---- kernels (kernel.c) ------------------------------------------ */

#define VK_MAX_BINDINGS 8
#define VK_MAX_SPEC 16
#define VK_MAX_PUSH 64

typedef struct vk_pipeline_entry {
    uint32_t spec[VK_MAX_SPEC];
    uint32_t spec_count;
    VkPipeline pipeline;
} vk_pipeline_entry;

/* A kernel is one SPIR-V module with its layout; pipelines are made per
 * set of specialization constants (tile sizes, activation, ...) and
 * cached for the life of the context. */
struct vk_kernel {
    vk_shader_id id;
    const char *variant;  /* static: the shader and its storage variant, "layernorm_texel.f16" */
    uint32_t bindings;
    uint32_t texel_mask;  /* bindings that are storage texel buffers (vec4 texels) */
    uint32_t texel32_mask; /* those of them that are RGBA32F in fp16 kernels too */
    uint32_t image_mask;  /* bindings that are sampled images (no sampler) */
    VkFormat texel_format; /* their format: RGBA32F, or RGBA16F for fp16 kernels */
    uint32_t push_size;
    VkShaderModule module;
    VkDescriptorSetLayout set_layout;
    VkPipelineLayout layout;
    vk_pipeline_entry *pipelines;
    size_t pipeline_count, pipeline_cap;
};

/* The kernel for a shader in a precision (fp16 = storage type half). */
vitvk_status vk_kernel_get(vitvk_context *ctx, vk_shader_id id, bool fp16, vk_kernel **out);
/* A pipeline for the given specialization constants (ids 0..count-1). */
vitvk_status vk_kernel_pipeline(vitvk_context *ctx, vk_kernel *k, const uint32_t *spec,
                                uint32_t count, VkPipeline *out);
void vk_kernels_destroy(vitvk_context *ctx);
/* A copy of `text` that lives as long as the context (one per distinct
 * text): for variant names built at plan time, which profiles keep by
 * pointer. NULL when out of memory. */
const char *vk_intern(vitvk_context *ctx, const char *text);

/* ---- recorder (recorder.c) --------------------------------------- */

/* One prepared dispatch: its pipeline, descriptor set (written once at plan
 * time), push constants and group counts, and which bindings it writes. */
typedef struct vk_dispatch {
    vk_kernel *kernel;
    VkPipeline pipeline;
    VkDescriptorSet set;
    const vk_buffer *buffers[VK_MAX_BINDINGS];
    VkBufferView views[VK_MAX_BINDINGS]; /* texel bindings, made at finalize */
    VkImageView images[VK_MAX_BINDINGS];  /* image bindings (not owned) */
    VkImageLayout image_layouts[VK_MAX_BINDINGS];
    uint32_t write_mask; /* bit i: binding i is written */
    uint8_t push[VK_MAX_PUSH];
    uint32_t groups[3];
    const char *label;
    const char *variant;   /* static: which kernel variant runs (vitvk_kernel_time.variant) */
    uint64_t flops, bytes; /* useful work, for per-kernel rates */
} vk_dispatch;

/* The list of dispatches of a plan, with the descriptor pool that backs
 * their sets. */
typedef struct vk_program {
    vitvk_context *ctx;
    vk_dispatch *items;
    size_t count, cap;
    VkDescriptorPool pool;
} vk_program;

void vk_program_init(vk_program *p, vitvk_context *ctx);
/* Appends a dispatch; buffers are bound in order to bindings 0..n-1. */
vitvk_status vk_program_add(vk_program *p, vk_kernel *k, const uint32_t *spec, uint32_t spec_count,
                            const vk_buffer *const *buffers, uint32_t nbuf, uint32_t write_mask,
                            const void *push, uint32_t push_size, uint32_t gx, uint32_t gy,
                            uint32_t gz, const char *label);
/* Binds an image view (its layout when the dispatch runs) to image binding
 * `binding` of the dispatch added last; vk_program_add takes NULL for that
 * buffer. Images are read only and not tracked: their synchronisation is
 * the caller's. */
void vk_program_bind_image(vk_program *p, uint32_t binding, VkImageView view, VkImageLayout layout);
/* Records the useful work of the dispatch added last (for profiles). */
void vk_program_set_cost(vk_program *p, uint64_t flops, uint64_t bytes);
/* Names the kernel variant of the dispatch added last, for profiles and
 * `vit-vk-cli bench`. vk_program_add sets the kernel's own name (shader and
 * storage variant, "gemm_texel.f16"); an op that chooses among tilings or
 * code paths within one shader calls this right after vk_program_add with
 * a string that says which ("gemm_texel.f16 8x2 wg8"). `variant` must be a
 * static string or one from vk_intern (it is kept by pointer for the life
 * of the plan). */
void vk_program_set_variant(vk_program *p, const char *variant);
/* Creates the descriptor pool and writes every set. Call once, after the
 * buffers are committed and before recording. */
vitvk_status vk_program_finalize(vk_program *p);
/* Records every dispatch into cmd, inserting a barrier wherever a dispatch
 * touches a buffer that an earlier one wrote (or writes one an earlier one
 * read) since the last barrier. With a query pool (count + 1 queries, reset
 * by the caller), timestamp 0 is written first and timestamp i + 1 after
 * dispatch i. */
void vk_program_record(const vk_program *p, VkCommandBuffer cmd, VkQueryPool timestamps);
void vk_program_destroy(vk_program *p);

/* Number of workgroups needed to cover n items with groups of size g. */
static inline uint32_t vk_div_up(uint64_t n, uint32_t g) { return (uint32_t)((n + g - 1) / g); }

#endif
