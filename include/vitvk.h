/* vitvk.h - Vision Transformer inference on any Vulkan device.
 *
 * The whole public API. C11, no global state: every object hangs off a
 * vitvk_context, and two contexts (on two devices, or two threads) never
 * share anything.
 *
 * Life cycle
 *   vitvk_context_create   -> a Vulkan device (own or adopted from the caller)
 *   vitvk_model_load       -> config.json + model.safetensors uploaded to the device
 *   vitvk_plan_create      -> every buffer, pipeline and descriptor set for one batch
 *                             size, and the whole forward pass recorded once
 *   vitvk_plan_run         -> upload pixels, replay, read results (repeat)
 *   destroy in reverse order (every destroy accepts NULL).
 *
 * Errors: every call returns a vitvk_status. vitvk_status_string() names the
 * code; vitvk_context_last_error() says in words what went wrong (which
 * file, which tensor, which limit). Nothing in the library prints, exits or
 * aborts; optional log messages go through vitvk_context_desc.log.
 *
 * Threads: distinct contexts are independent and may be used from
 * different threads at the same time (nothing in the library is global).
 * One context and everything made from it (models, plans, inputs) must be
 * used by one thread at a time: a host that calls into one context from
 * several threads serialises those calls itself. An adopted context also
 * submits to the host's VkQueue (model load, plan run/submit, input
 * creation): the host must not use that queue from another thread during
 * those calls (Vulkan's own rule for queues).
 *
 * Logging: vitvk_context_desc.log receives, on the thread that made the
 * call, every error (VITVK_LOG_ERROR, the same line as
 * vitvk_context_last_error), what was created or loaded (INFO: the device
 * and kernel family, features an adopted device has but the host left
 * off, each model and each plan), warnings (a kernel disabled by its
 * on-device check), and validation-layer messages prefixed "validation:"
 * (WARNING/ERROR, possibly from the driver's threads) when
 * enable_validation is set.
 */
#ifndef VITVK_H
#define VITVK_H

#include <stddef.h>
#include <stdint.h>

/* Every function of the API. The shared library (libvitvk.so) exports
 * these alone; everything else in it is hidden. */
#ifndef VITVK_API
#if defined(__GNUC__) || defined(__clang__)
#define VITVK_API __attribute__((visibility("default")))
#else
#define VITVK_API
#endif
#endif

#ifdef __cplusplus
extern "C" {
#endif

#define VITVK_VERSION_MAJOR 0
#define VITVK_VERSION_MINOR 1
#define VITVK_VERSION_PATCH 0

typedef enum vitvk_status {
    VITVK_OK = 0,
    VITVK_ERR_INVALID_ARGUMENT = 1, /* NULL where an object is needed, bad sizes */
    VITVK_ERR_IO = 2,               /* a file or directory could not be opened or read */
    VITVK_ERR_FORMAT = 3,           /* a file is malformed (safetensors, JSON, image) */
    VITVK_ERR_UNSUPPORTED = 4,      /* valid, but not something this library runs */
    VITVK_ERR_MODEL = 5,            /* a tensor is missing or has the wrong shape/dtype */
    VITVK_ERR_LIMIT = 6,            /* a size is over a documented limit or overflows */
    VITVK_ERR_NO_DEVICE = 7,        /* no Vulkan device, or the index is out of range */
    VITVK_ERR_VULKAN = 8,           /* a Vulkan call failed */
    VITVK_ERR_OUT_OF_HOST_MEMORY = 9,
    VITVK_ERR_OUT_OF_DEVICE_MEMORY = 10,
    VITVK_ERR_DEVICE_LOST = 11,
    VITVK_NOT_READY = 12            /* not an error: a submitted batch is still running */
} vitvk_status;

/* A static English name for a status code; never NULL. */
VITVK_API const char *vitvk_status_string(vitvk_status status);

/* ------------------------------------------------------------------ */
/* Devices                                                              */

typedef enum vitvk_device_type {
    VITVK_DEVICE_OTHER = 0,
    VITVK_DEVICE_INTEGRATED_GPU = 1,
    VITVK_DEVICE_DISCRETE_GPU = 2,
    VITVK_DEVICE_VIRTUAL_GPU = 3,
    VITVK_DEVICE_CPU = 4
} vitvk_device_type;

/* Component types of a cooperative-matrix shape (the numbering of
 * Vulkan's VkComponentTypeKHR). */
typedef enum vitvk_component {
    VITVK_COMPONENT_F16 = 0,
    VITVK_COMPONENT_F32 = 1,
    VITVK_COMPONENT_F64 = 2,
    VITVK_COMPONENT_S8 = 3,
    VITVK_COMPONENT_S16 = 4,
    VITVK_COMPONENT_S32 = 5,
    VITVK_COMPONENT_S64 = 6,
    VITVK_COMPONENT_U8 = 7,
    VITVK_COMPONENT_U16 = 8,
    VITVK_COMPONENT_U32 = 9,
    VITVK_COMPONENT_U64 = 10
} vitvk_component;

/* Tensor cores in fp16 GEMMs and attention (vitvk_context_desc). */
typedef enum vitvk_coopmat_mode {
    VITVK_COOPMAT_AUTO = 0,
    VITVK_COOPMAT_OFF = 1,
    VITVK_COOPMAT_FP16_ACCUMULATE = 2
} vitvk_coopmat_mode;

/* One cooperative-matrix shape a device lists for compute shaders at
 * subgroup scope: D (m x n, `result`) = A (m x k, `a`) * B (k x n, `b`) +
 * C (m x n, `c`). */
typedef struct vitvk_coopmat_shape {
    uint32_t m, n, k;
    vitvk_component a, b, c, result;
} vitvk_coopmat_shape;

#define VITVK_MAX_COOPMAT_SHAPES 16

typedef struct vitvk_device_info {
    uint32_t index;              /* position in the instance's enumeration */
    char name[256];
    vitvk_device_type type;
    uint32_t vendor_id, device_id;
    uint32_t api_version;        /* VK_MAKE_API_VERSION form */
    uint32_t driver_version;     /* vendor-encoded */
    char driver_name[256];       /* VkPhysicalDeviceDriverProperties, "" if unknown */
    char driver_info[256];
    /* capabilities the kernels care about */
    int fp16_arithmetic;         /* shaderFloat16 */
    int storage16;               /* storageBuffer16BitAccess */
    uint32_t subgroup_size;
    uint32_t shared_memory_bytes;/* maxComputeSharedMemorySize */
    uint64_t max_storage_buffer_range;
    int cooperative_matrix_nv;   /* VK_NV_cooperative_matrix listed */
    int cooperative_matrix_khr;  /* VK_KHR_cooperative_matrix listed */
    /* The shapes each extension lists (the first VITVK_MAX_COOPMAT_SHAPES
     * of the driver's list, other scopes and types left out). */
    uint32_t coopmat_khr_count, coopmat_nv_count;
    vitvk_coopmat_shape coopmat_khr[VITVK_MAX_COOPMAT_SHAPES];
    vitvk_coopmat_shape coopmat_nv[VITVK_MAX_COOPMAT_SHAPES];
    uint64_t device_local_bytes; /* sum of device-local heaps */
    /* Limits that steer the kernel choice: texels one storage texel buffer
     * view may hold (0: RGBA32F/RGBA16F storage texel buffers missing),
     * and invocations per workgroup. */
    uint32_t max_texel_buffer_elements;
    uint32_t max_workgroup_invocations;
    /* What the AUTO settings pick on this device, and why, in words:
     * "cpu: ..." or "gpu: ..." (vitvk_kernel_family), "fp32: ..." or
     * "fp16: ..." (vitvk_precision). */
    char auto_kernels[160];
    char auto_precision[160];
} vitvk_device_info;

/* Lists the Vulkan devices. `infos` may be NULL to query the count; on
 * input *count is the capacity of `infos`, on output the number written
 * (or available when infos is NULL). Creates and destroys a private
 * instance; `err` (may be NULL) receives a message on failure. */
VITVK_API vitvk_status vitvk_enumerate_devices(vitvk_device_info *infos, uint32_t *count,
                                     char *err, size_t err_size);

/* ------------------------------------------------------------------ */
/* Context                                                              */

typedef enum vitvk_log_level {
    VITVK_LOG_DEBUG = 0,
    VITVK_LOG_INFO = 1,
    VITVK_LOG_WARNING = 2,
    VITVK_LOG_ERROR = 3
} vitvk_log_level;

typedef void (*vitvk_log_fn)(void *user, vitvk_log_level level, const char *message);

typedef struct vitvk_context vitvk_context;

typedef enum vitvk_kernel_family {
    VITVK_KERNELS_AUTO = 0,
    VITVK_KERNELS_CPU = 1,
    VITVK_KERNELS_GPU = 2
} vitvk_kernel_family;

/* A host allocator for the library's own host memory on behalf of a
 * context (the context itself, models, plans, kernels, inputs, scratch
 * during load). alloc returns size bytes aligned to `alignment` (a power of
 * two) or NULL; realloc resizes a block from alloc/realloc (ptr never
 * NULL), keeping its contents, or returns NULL and leaves it alone; free
 * releases one (never NULL). All three are required. They are called on
 * the thread that calls into the context. When one fails the call
 * returns VITVK_ERR_OUT_OF_HOST_MEMORY and nothing it allocated is kept.
 * Not covered: buffers of files read and parsed while loading
 * (safetensors, config.json, images) and short-lived arrays while choosing
 * a device, which use the C library, and what the Vulkan implementation
 * allocates (see vk_allocation_callbacks). */
typedef struct vitvk_allocator {
    void *(*alloc)(void *user, size_t size, size_t alignment);
    void *(*realloc)(void *user, void *ptr, size_t size, size_t alignment);
    void (*free)(void *user, void *ptr);
    void *user;
} vitvk_allocator;

typedef struct vitvk_context_desc {
    /* Which device when the library creates its own: with
     * use_device_index == 0 (the default) the best one: first discrete
     * GPU, else integrated, else virtual, else CPU. Set use_device_index =
     * 1 to take device_index literally (the order of
     * vitvk_enumerate_devices). */
    int use_device_index;
    uint32_t device_index;
    /* Which kernel family to use: AUTO picks by device type (CPU devices
     * get the texel-fetch, register-blocked kernels that suit llvmpipe;
     * GPUs get shared-memory tiles). Forcing one is for tests and for
     * comparing kernels with `vit-vk-cli bench --kernels`; results agree
     * within each precision's tolerance either way. */
    vitvk_kernel_family kernels;
    /* Tensor cores (cooperative matrices) in the GPU kernel family's fp16
     * GEMMs: AUTO uses them where the device has them (KHR where the
     * build's glslang compiled the KHR kernels, else NV), accumulating in
     * fp32; OFF never does; FP16_ACCUMULATE accumulates in fp16 where the
     * device lists such a shape (faster on most GPUs, less accurate: see
     * README, "Precision"). */
    vitvk_coopmat_mode cooperative_matrix;
    /* For tuning experiments (`vit-vk-cli bench --coopmat-tile`): the KHR
     * cooperative-matrix GEMM's workgroup tile BM, BN, BK, subgroup tile
     * WM, WN, and matrix shape M, N, K (one the device lists), used for
     * every fp16 GEMM as given. All zero = the tuned choice per GEMM. A
     * tile the device cannot run (shared memory, invocations per group,
     * sizes that are not multiples of each other) fails
     * vitvk_context_create with VITVK_ERR_INVALID_ARGUMENT, saying why. */
    uint32_t coopmat_tile[8];
    /* Enable VK_LAYER_KHRONOS_validation (when installed). Validation
     * messages of severity warning or error go to `log` and are counted in
     * vitvk_context_validation_errors(). Default 0. */
    int enable_validation;
    vitvk_log_fn log;            /* default: no logging */
    void *log_user;
    /* Adopting the caller's device (issue: renderer integration). When
     * adopt_device is non-zero the library uses these objects and never
     * destroys them; the caller must keep them alive until
     * vitvk_context_destroy returns. The device must have been created with
     * at least Vulkan 1.1 and storageBuffer16BitAccess if fp16 is wanted.
     * Types are the Vulkan handles cast to void* / uint64_t so that this
     * header does not need vulkan.h. */
    int adopt_device;
    void *vk_instance;           /* VkInstance */
    void *vk_physical_device;    /* VkPhysicalDevice */
    void *vk_device;             /* VkDevice */
    void *vk_queue;              /* VkQueue, capable of compute */
    uint32_t vk_queue_family;
    void *vk_get_instance_proc_addr; /* PFN_vkGetInstanceProcAddr */
    uint32_t vk_api_version;     /* API version the device was created with; 0 = 1.1 */
    int vk_storage16_enabled;    /* the caller enabled storageBuffer16BitAccess */
    /* What the host enabled on its device (optional, both may be NULL):
     * the device extension names, and the VkPhysicalDeviceFeatures2 chain
     * it passed to vkCreateDevice (as a const void *). The library uses
     * only what is listed: 16-bit storage (VkPhysicalDevice16BitStorage-
     * Features or VkPhysicalDeviceVulkan11Features; or the flag above) for
     * fp16 precision; VK_KHR_cooperative_matrix (or VK_NV_cooperative_matrix)
     * with its cooperativeMatrix feature, vulkanMemoryModel
     * (VkPhysicalDeviceVulkanMemoryModelFeatures or
     * VkPhysicalDeviceVulkan12Features) and shaderFloat16
     * (VkPhysicalDeviceShaderFloat16Int8Features or
     * VkPhysicalDeviceVulkan12Features) for the tensor-core GEMM.
     * shaderFloat16 below Vulkan 1.2 also needs VK_KHR_shader_float16_int8
     * in the list. vitvk_context_create fails with VITVK_ERR_UNSUPPORTED,
     * naming everything missing in one line, when the device was created
     * below Vulkan 1.1 or the physical device is, when vk_queue_family does
     * not exist or has no VK_QUEUE_COMPUTE_BIT, or when the device offers
     * VK_KHR_portability_subset and the extension list (if given) lacks
     * it. What the device has but the host left off is reported in one
     * VITVK_LOG_INFO line. A precision that needs a feature the host did
     * not enable fails at vitvk_model_load, naming the feature. Both are
     * read during vitvk_context_create only. */
    const char *const *vk_enabled_extensions;
    uint32_t vk_enabled_extension_count;
    const void *vk_enabled_features;
    /* Device-local memory the library may allocate, in bytes, over
     * everything made from this context (weights, activations, tables, and
     * staging where it is device-local: on UMA devices and lavapipe all of
     * it, on a discrete GPU only VRAM counts, not host-visible staging);
     * 0 = no limit but the device's. An allocation that would go past it fails
     * with VITVK_ERR_OUT_OF_DEVICE_MEMORY before anything is allocated for
     * it, leaving the context (and an adopted device) usable; so does a
     * real VK_ERROR_OUT_OF_DEVICE_MEMORY. */
    uint64_t device_memory_budget;
    /* A VkAllocationCallbacks * (or NULL) passed to every Vulkan object the
     * library creates and destroys for this context: its instance and
     * device when it makes them, buffers, memory, pipelines, descriptor
     * pools, fences. It must stay valid until vitvk_context_destroy. */
    const void *vk_allocation_callbacks;
    /* The host allocator (or NULL for malloc/realloc/free), copied at
     * create; every block made through it is freed through it by the time
     * the object that made it is destroyed. */
    const vitvk_allocator *host_allocator;
} vitvk_context_desc;

/* Creates a context. desc may be NULL for defaults. On failure *out is NULL
 * and, when err is not NULL, err receives the reason. */
VITVK_API vitvk_status vitvk_context_create(const vitvk_context_desc *desc, vitvk_context **out,
                                  char *err, size_t err_size);
VITVK_API void vitvk_context_destroy(vitvk_context *ctx);

/* The last error message of calls on this context ("" if none). Valid until
 * the next call on the context. */
VITVK_API const char *vitvk_context_last_error(const vitvk_context *ctx);

/* Device the context runs on. */
VITVK_API void vitvk_context_device_info(const vitvk_context *ctx, vitvk_device_info *out);

/* Number of validation-layer messages of severity warning or error seen. */
VITVK_API uint32_t vitvk_context_validation_errors(const vitvk_context *ctx);

/* Device-local memory the context's objects hold now (what the budget
 * counts: weights, activations, and staging where it is device-local), and
 * the budget (0 = none). Per object: vitvk_model_info.weight_bytes,
 * vitvk_plan_activation_bytes (these count every allocation, device-local
 * or not, so on a discrete GPU they can add up to more). */
typedef struct vitvk_memory_info {
    uint64_t device_bytes;
    uint64_t budget_bytes;
} vitvk_memory_info;
VITVK_API void vitvk_context_memory(const vitvk_context *ctx, vitvk_memory_info *out);

/* ------------------------------------------------------------------ */
/* Models                                                               */

typedef enum vitvk_precision {
    VITVK_PRECISION_AUTO = 0, /* fp16 storage on GPUs that have it, fp32 on CPU devices */
    VITVK_PRECISION_FP32 = 1, /* fp32 storage and arithmetic */
    VITVK_PRECISION_FP16 = 2  /* fp16 storage of weights/activations, fp32 accumulation */
} vitvk_precision;

typedef struct vitvk_model vitvk_model;

typedef struct vitvk_model_desc {
    vitvk_precision precision;   /* default AUTO */
    /* Run at another input size (0 = the config's). Position embeddings are
     * resampled as transformers' interpolate_pos_encoding does (bicubic,
     * prefix tokens kept), BEiT's relative position tables bilinearly (as
     * transformers' BeitRelativePositionBias), Swin runs at the new size
     * (multiples of its patch size); the preprocessing targets the new size. */
    uint32_t image_height, image_width;
} vitvk_model_desc;

/* Loads a Hugging Face model directory: config.json, model.safetensors (or
 * model.safetensors.index.json and its shards) and, when present,
 * preprocessor_config.json. Weights are validated, converted to the
 * chosen precision and uploaded; the files are closed before returning. */
VITVK_API vitvk_status vitvk_model_load(vitvk_context *ctx, const char *dir,
                              const vitvk_model_desc *desc, vitvk_model **out);
VITVK_API void vitvk_model_destroy(vitvk_model *model);

typedef struct vitvk_model_info {
    const char *model_type;      /* "vit" */
    const char *architecture;    /* e.g. "ViTForImageClassification" */
    uint32_t image_height, image_width, channels, patch_size;
    uint32_t hidden_size, num_layers, num_heads, intermediate_size;
    uint32_t num_tokens;         /* sequence length including [CLS] */
    uint32_t num_labels;         /* 0 when the checkpoint has no classifier */
    uint32_t pooled_size;        /* length of the pooled vector */
    vitvk_precision precision;   /* resolved: FP32 or FP16 */
    uint64_t weight_bytes;       /* device memory used by weights */
    /* Multiply-adds x 2 of one image's forward pass: the patch projection,
     * per layer the qkv, attention (QK^T and PV), output, fc1 and fc2
     * GEMMs, the pooler and the heads (both of DeiT's). Swin: per block
     * the same with attention inside each window (T x window^2 pairs, the
     * padding not counted), plus the patch-merging reductions. Norms,
     * softmax, activations, gathers and the bias/residual adds are not
     * counted. */
    uint64_t flops_per_image;
} vitvk_model_info;

VITVK_API void vitvk_model_get_info(const vitvk_model *model, vitvk_model_info *out);

/* Hidden states a plan with keep_hidden_states returns: ViT-style models
 * have num_layers + 1 (embeddings, then each layer) of num_tokens x
 * hidden_size; Swin has stages + 1 (embeddings, then each stage after its
 * patch merging) whose sizes shrink stage by stage. */
VITVK_API uint32_t vitvk_model_hidden_state_count(const vitvk_model *model);
/* Tokens and width of hidden state `index`; 0 when out of range. */
VITVK_API void vitvk_model_hidden_state_shape(const vitvk_model *model, uint32_t index, uint32_t *tokens, uint32_t *dim);

/* id2label entry, or NULL when index is out of range or unnamed. */
VITVK_API const char *vitvk_model_label(const vitvk_model *model, uint32_t index);

/* ------------------------------------------------------------------ */
/* Plans: one batch size, everything prepared, the pass recorded once   */

typedef struct vitvk_plan vitvk_plan;

typedef struct vitvk_plan_desc {
    uint32_t batch;              /* images per run; 0 means 1 */
    /* Keep the residual stream after the embeddings and after every layer
     * so that vitvk_plan_read_hidden_state can return it. Costs one
     * activation buffer per layer. Default 0. */
    int keep_hidden_states;
    /* Write a GPU timestamp after every dispatch so that
     * vitvk_plan_profile can report per-kernel times. Default 0. Ignored
     * (vitvk_plan_profile then fails) when the queue has no timestamps. */
    int profile;
    /* Keep the [CLS] row of the last layer's attention probabilities (every
     * head) for vitvk_plan_read_cls_attention. Not for Swin. Default 0. */
    int keep_cls_attention;
    /* Keep every layer's attention probabilities (num_layers x batch x heads
     * x T x T floats on the device) for vitvk_plan_attention_rollout. Not
     * for Swin. Default 0. */
    int keep_attention_maps;
    /* Batches vitvk_plan_submit may have in flight at once (each has its
     * own activations and staging; weights are shared). 0 means 1. */
    uint32_t in_flight;
} vitvk_plan_desc;

VITVK_API vitvk_status vitvk_plan_create(vitvk_model *model, const vitvk_plan_desc *desc, vitvk_plan **out);
VITVK_API void vitvk_plan_destroy(vitvk_plan *plan);

/* Device memory the plan holds: activations, staging and result buffers,
 * for each of its in_flight batches (weights are the model's). */
VITVK_API uint64_t vitvk_plan_activation_bytes(const vitvk_plan *plan);

/* Runs the model on n <= batch images. pixels: n x C x H x W floats,
 * already preprocessed (as transformers' pixel_values). logits: n x
 * num_labels (may be NULL); pooled: n x pooled_size (may be NULL). Blocks
 * until the results are on the host. */
VITVK_API vitvk_status vitvk_plan_run(vitvk_plan *plan, const float *pixels, uint32_t n,
                            float *logits, float *pooled);

/* Asynchronous runs, for hosts without a render loop: submit a batch,
 * then poll or wait for it; up to the plan's in_flight batches can be
 * queued at once, each on its own buffers. pixels are copied before
 * vitvk_plan_submit returns. *ticket identifies the batch (tickets count
 * up from 1). VITVK_ERR_LIMIT when in_flight batches are already waiting
 * to be collected. vitvk_plan_run on the same plan is refused while a
 * submitted batch of its first slot is uncollected. */
VITVK_API vitvk_status vitvk_plan_submit(vitvk_plan *plan, const float *pixels, uint32_t n, uint64_t *ticket);
/* VITVK_OK when the batch has finished, VITVK_NOT_READY while it runs;
 * INVALID_ARGUMENT for a ticket that is not waiting to be collected. */
VITVK_API vitvk_status vitvk_plan_poll(vitvk_plan *plan, uint64_t ticket);
/* Waits up to timeout_ns (UINT64_MAX: forever) for the batch, then copies
 * its results out as vitvk_plan_run does (logits / pooled may be NULL) and
 * frees its slot. VITVK_NOT_READY when the time ran out (the batch stays
 * queued: wait again). vitvk_plan_read_* and vitvk_plan_profile describe
 * vitvk_plan_run only. */
VITVK_API vitvk_status vitvk_plan_wait(vitvk_plan *plan, uint64_t ticket, uint64_t timeout_ns, float *logits, float *pooled);

/* After a run with keep_hidden_states: the residual stream after layer
 * `index` (0 = embeddings), n x num_tokens x hidden_size floats for the n
 * images of the last run. */
VITVK_API vitvk_status vitvk_plan_read_hidden_state(vitvk_plan *plan, uint32_t index, float *out);

/* After a run with keep_cls_attention: transformers'
 * attentions[-1][:, :, 0, :], n x num_heads x num_tokens floats for the n
 * images of the last run. */
VITVK_API vitvk_status vitvk_plan_read_cls_attention(vitvk_plan *plan, float *out);

/* After a run with keep_attention_maps: attention rollout (Abnar & Zuidema,
 * 2020) of the last run's first n images: R = prod over layers of
 * rownorm(0.5 A + 0.5 I), A the head-averaged attention, and out receives
 * R's [CLS] row, n x num_tokens floats. */
VITVK_API vitvk_status vitvk_plan_attention_rollout(vitvk_plan *plan, float *out);

/* One dispatch of the last run of a profiled plan. */
typedef struct vitvk_kernel_time {
    const char *op;   /* static name: "qkv projection", "attention", "layernorm", ... */
    double ms;        /* GPU time from the end of the previous dispatch to the end of this one */
    double gflop;     /* useful floating-point work (0 for memory-bound ops) */
    double mbytes;    /* bytes the op must move at least once, in MB (1e6) */
    /* static name of the kernel variant that ran: the shader and its storage
     * variant ("layernorm_texel.f16", "gemm.w16"), refined by ops that
     * choose a tiling or code path ("gemm_texel.f32 8x2") */
    const char *variant;
} vitvk_kernel_time;

/* Per-dispatch GPU times of the last vitvk_plan_run, in recording order.
 * out may be NULL to query the count; on input *count is out's capacity. */
VITVK_API vitvk_status vitvk_plan_profile(vitvk_plan *plan, vitvk_kernel_time *out, uint32_t *count);

/* ------------------------------------------------------------------ */
/* Recording into the host's command buffer                             */
/*
 * For hosts that own the Vulkan device (a game, a paint program): the
 * context adopts the host's device (vitvk_context_desc.adopt_device), an
 * input is made once per host image or buffer, and vitvk_plan_record
 * appends preprocessing, the forward pass and the copy of the results into
 * a command buffer the host records and submits itself. Nothing is
 * submitted, waited for or allocated while recording.
 *
 * Preprocessing on the GPU is the CPU path's (vitvk_model_preprocess_file)
 * to the bit: the model's preprocessor config (resize with PIL's or torch's
 * fixed-point filters, widened when shrinking, each pass rounded to 8 bits;
 * center crop or padding; rescale and normalise), for transformers' and timm
 * checkpoints alike. The alpha channel is ignored (as the CPU path drops it).
 *
 * Handles are passed as integers/pointers: VkImage and VkBuffer as
 * uint64_t, VkCommandBuffer as void *, VkFormat and VkImageLayout as their
 * enum values. */

typedef struct vitvk_input vitvk_input;

typedef enum vitvk_input_kind {
    VITVK_INPUT_IMAGE = 0,  /* a VkImage, sampled */
    VITVK_INPUT_BUFFER = 1  /* 8-bit RGBA or BGRA rows in a VkBuffer */
} vitvk_input_kind;

typedef struct vitvk_input_desc {
    vitvk_input_kind kind;
    uint32_t width, height;      /* the whole image, in pixels (1 to VITVK_MAX_IMAGE_PIXELS) */
    /* VITVK_INPUT_IMAGE: a 2D image (mip level 0, array layer 0 is read)
     * created with VK_IMAGE_USAGE_SAMPLED_BIT, width x height, of format
     * VK_FORMAT_R8G8B8A8_UNORM / _SRGB or VK_FORMAT_B8G8R8A8_UNORM / _SRGB.
     * vk_layout is the layout it will be in when the recorded commands run:
     * VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL or VK_IMAGE_LAYOUT_GENERAL.
     * sRGB images are read as their stored bytes (as the CPU path reads a
     * file): set mutable_format when the image was created with
     * VK_IMAGE_CREATE_MUTABLE_FORMAT_BIT and the bytes are read through a
     * UNORM view; otherwise the sampler's sRGB decode is encoded back. */
    uint64_t vk_image;
    uint32_t vk_format;
    uint32_t vk_layout;
    int mutable_format;
    /* VITVK_INPUT_BUFFER: a buffer created with
     * VK_BUFFER_USAGE_STORAGE_BUFFER_BIT holding height rows of width
     * pixels, 4 bytes each (R, G, B, A; or B, G, R, A with bgra = 1), the
     * first at vk_offset, row r at vk_offset + r * row_pitch (0 = width * 4).
     * vk_offset and row_pitch must be multiples of 4. */
    uint64_t vk_buffer;
    uint64_t vk_offset;
    uint64_t row_pitch;
    int bgra;
} vitvk_input_desc;

/* Prepares reading one host image or buffer into `plan`: an image view,
 * descriptor sets, resize tables and scratch buffers sized for this width x
 * height. The image or buffer must outlive the input, and the input every
 * command buffer that records it, until that command buffer has finished
 * executing. Errors (one line in vitvk_context_last_error): a format,
 * layout or kind not listed above, zero or oversized sizes, a misaligned
 * offset or pitch (INVALID_ARGUMENT); a model whose input is not 3-channel,
 * or whose preprocessing gives another size than the model takes from a
 * width x height image (UNSUPPORTED). The tables are uploaded through the
 * context's queue, waiting for it (as vitvk_model_load does): call this
 * where the host does not submit to that queue from another thread. Usage
 * flags cannot be queried: an
 * image without SAMPLED or a buffer without STORAGE usage is caught only by
 * the validation layer. */
VITVK_API vitvk_status vitvk_input_create(vitvk_plan *plan, const vitvk_input_desc *desc, vitvk_input **out);
VITVK_API void vitvk_input_destroy(vitvk_input *input);

typedef enum vitvk_output_kind {
    VITVK_OUTPUT_LOGITS = 0,        /* n x num_labels floats */
    VITVK_OUTPUT_PROBABILITIES = 1, /* n x num_labels floats (softmax of the logits) */
    /* n x k pairs {uint32_t index; float probability}: the k largest
     * logits in descending order, ties by lower index first. */
    VITVK_OUTPUT_TOP_K = 2,
    VITVK_OUTPUT_EMBEDDINGS = 3,    /* n x pooled_size floats (vitvk_plan_run's `pooled`) */
    /* n x C x H x W floats: the preprocessed pixel_values only; the forward
     * pass is not recorded (for checking preprocessing). */
    VITVK_OUTPUT_PIXEL_VALUES = 4
} vitvk_output_kind;

/* Largest k of VITVK_OUTPUT_TOP_K (and at most num_labels). */
#define VITVK_MAX_TOP_K 256u

typedef struct vitvk_output {
    vitvk_output_kind kind;
    uint64_t vk_buffer;  /* VkBuffer with VK_BUFFER_USAGE_TRANSFER_DST_BIT */
    uint64_t vk_offset;  /* a multiple of 4; the buffer must hold what `kind` writes from here */
    uint32_t k;          /* VITVK_OUTPUT_TOP_K: 1 to min(num_labels, VITVK_MAX_TOP_K) */
} vitvk_output;

/* Appends to `command_buffer` (a VkCommandBuffer in the recording state,
 * allocated from the context's VkDevice, for a queue family with compute)
 * the preprocessing of inputs[0..n-1] (made for this plan; n from 1 to the
 * plan's batch; an input may appear more than once), the forward pass and
 * the copy of `output` into the caller's buffer, values of image i first
 * in input order, little-endian and tightly packed. Nothing is submitted.
 *
 * Before: the caller must record, ahead of these commands, a barrier that
 * makes its writes to the inputs visible to the compute shader and puts
 * each image in its vk_layout, and must not write them until the commands
 * have executed. For an image written by a render pass or a copy, e.g.:
 *
 *     VkImageMemoryBarrier before = {
 *         .srcAccessMask = VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT (or TRANSFER_WRITE),
 *         .dstAccessMask = VK_ACCESS_SHADER_READ_BIT,
 *         .oldLayout = <the layout it was written in>,
 *         .newLayout = desc.vk_layout, ...  };
 *     vkCmdPipelineBarrier(cmd, <the writer's stage: COLOR_ATTACHMENT_OUTPUT or TRANSFER>,
 *                          VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, 0, 0, NULL, 0, NULL, 1, &before);
 *
 * (a VkBufferMemoryBarrier / VkMemoryBarrier with the same stages and
 * accesses for a buffer input). The output range must not be read or
 * written by anything still running: order earlier accesses to it before
 * VK_PIPELINE_STAGE_TRANSFER_BIT (with a memory barrier to
 * VK_ACCESS_TRANSFER_WRITE_BIT for earlier writes).
 *
 * After: the results are written by transfer (vkCmdCopyBuffer). Before
 * reading them the caller records:
 *
 *     VkBufferMemoryBarrier after = {
 *         .srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
 *         .dstAccessMask = <the consumer's access: SHADER_READ, TRANSFER_READ, HOST_READ, ...>,
 *         .buffer = output.vk_buffer, .offset = output.vk_offset, .size = <bytes written> };
 *     vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, <the consumer's stage>, ...);
 *
 * The recorded commands begin with a barrier of their own that orders
 * them after earlier uses of the plan's buffers on the same queue, and use
 * compute dispatches and transfers between these two barriers; they leave
 * no pipeline, descriptor set or push constants bound that the caller can
 * rely on (rebind after).
 *
 * Lifetimes: the plan and the inputs must stay alive, and the plan must not
 * run (vitvk_plan_run) or be recorded into another command buffer that
 * executes at the same time, until this command buffer has finished
 * executing: one recording of a plan in flight at a time. The command
 * buffer may be submitted many times. vitvk_plan_read_* and
 * vitvk_plan_profile describe vitvk_plan_run only.
 *
 * Errors (nothing is recorded): NULL arguments, n out of range, an input
 * of another plan, an unknown kind, a k out of range, a misaligned offset
 * (INVALID_ARGUMENT); LOGITS, PROBABILITIES or TOP_K on a model without a
 * classifier (INVALID_ARGUMENT). */
VITVK_API vitvk_status vitvk_plan_record(vitvk_plan *plan, void *command_buffer, vitvk_input *const *inputs, uint32_t n,
                               const vitvk_output *output);

/* Bytes vitvk_plan_record writes for `output` and n images (0 when the kind
 * or k does not fit the plan's model). */
VITVK_API uint64_t vitvk_plan_output_bytes(const vitvk_plan *plan, const vitvk_output *output, uint32_t n);

/* ------------------------------------------------------------------ */
/* Images                                                               */

/* Largest image accepted, in pixels (width x height), checked from the file
 * header before anything is decoded. */
#define VITVK_MAX_IMAGE_PIXELS (64u * 1024u * 1024u)

/* Loads an image file (PNG, JPEG) and turns it into the model's
 * pixel_values (C x H x W floats, vitvk_model_info image size) the way the
 * model's preprocessor_config.json says (its defaults when absent). `out`
 * must hold channels*image_height*image_width floats. A library built
 * without image decoding (CMake VITVK_IMAGE_IO=OFF) returns
 * VITVK_ERR_UNSUPPORTED for PNG and JPEG files, saying so. */
VITVK_API vitvk_status vitvk_model_preprocess_file(vitvk_model *model, const char *path, float *out);

/* The same, safe to call from several threads at once on one model, for a
 * host that decodes on worker threads (vit-vk-cli --threads): it only
 * reads the model, and a failure's one-line message goes to `err` (may be
 * NULL; err_size bytes), not to the context's last error. The model must
 * not be destroyed, nor its preprocessing backend changed, meanwhile. */
VITVK_API vitvk_status vitvk_model_preprocess_file_r(const vitvk_model *model, const char *path, float *out,
                                                     char *err, size_t err_size);

/* transformers 5 has two backends for one image processor and they differ
 * by up to a level or two per value: torchvision (its default when
 * torchvision is installed: torch's resize kernels, fused rescale and
 * normalise) and PIL (the "...Pil" processors: PIL's resize, numpy
 * arithmetic). A model loads with the torchvision backend unless its
 * preprocessor_config.json names a ...Pil processor; this switches it.
 * VITVK_ERR_UNSUPPORTED for a timm checkpoint, whose preprocessing is
 * timm's own transform. */
typedef enum vitvk_preprocess_backend {
    VITVK_PREPROCESS_TORCHVISION = 0,
    VITVK_PREPROCESS_PIL = 1
} vitvk_preprocess_backend;
VITVK_API vitvk_status vitvk_model_set_preprocess_backend(vitvk_model *model, vitvk_preprocess_backend backend);

#ifdef __cplusplus
}
#endif
#endif
