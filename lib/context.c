/* context.c - Vulkan instance/device creation or adoption, the capability
 * probe, and the context's error and log plumbing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errmsg.h"
#include "coopmat.h"
#include "internal.h"
#include "ops/ops.h"

/* The loader's one exported entry point; everything else is fetched
 * through it into per-context tables. */
VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL vkGetInstanceProcAddr(VkInstance instance, const char *pName);

#define VALIDATION_LAYER "VK_LAYER_KHRONOS_validation"

/* ---- errors and logging ----------------------------------------- */

vitvk_status vk_fail(vitvk_context *ctx, vitvk_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->last_error, sizeof ctx->last_error, fmt, ap);
    va_end(ap);
    /* Names from files (architectures, paths) may hold newlines; a message
     * is one line, as vk_errorf makes it. */
    for (char *p = ctx->last_error; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    if (ctx->log)
        ctx->log(ctx->log_user, VITVK_LOG_ERROR, ctx->last_error);
    return status;
}

void vk_log(vitvk_context *ctx, vitvk_log_level level, const char *fmt, ...)
{
    if (!ctx->log)
        return;
    char msg[VK_ERR_SIZE];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ctx->log(ctx->log_user, level, msg);
}

const char *vk_result_name(VkResult r)
{
    switch (r) {
    case VK_SUCCESS: return "VK_SUCCESS";
    case VK_NOT_READY: return "VK_NOT_READY";
    case VK_TIMEOUT: return "VK_TIMEOUT";
    case VK_INCOMPLETE: return "VK_INCOMPLETE";
    case VK_ERROR_OUT_OF_HOST_MEMORY: return "VK_ERROR_OUT_OF_HOST_MEMORY";
    case VK_ERROR_OUT_OF_DEVICE_MEMORY: return "VK_ERROR_OUT_OF_DEVICE_MEMORY";
    case VK_ERROR_INITIALIZATION_FAILED: return "VK_ERROR_INITIALIZATION_FAILED";
    case VK_ERROR_DEVICE_LOST: return "VK_ERROR_DEVICE_LOST";
    case VK_ERROR_MEMORY_MAP_FAILED: return "VK_ERROR_MEMORY_MAP_FAILED";
    case VK_ERROR_LAYER_NOT_PRESENT: return "VK_ERROR_LAYER_NOT_PRESENT";
    case VK_ERROR_EXTENSION_NOT_PRESENT: return "VK_ERROR_EXTENSION_NOT_PRESENT";
    case VK_ERROR_FEATURE_NOT_PRESENT: return "VK_ERROR_FEATURE_NOT_PRESENT";
    case VK_ERROR_INCOMPATIBLE_DRIVER: return "VK_ERROR_INCOMPATIBLE_DRIVER";
    case VK_ERROR_TOO_MANY_OBJECTS: return "VK_ERROR_TOO_MANY_OBJECTS";
    case VK_ERROR_FORMAT_NOT_SUPPORTED: return "VK_ERROR_FORMAT_NOT_SUPPORTED";
    case VK_ERROR_FRAGMENTED_POOL: return "VK_ERROR_FRAGMENTED_POOL";
    case VK_ERROR_OUT_OF_POOL_MEMORY: return "VK_ERROR_OUT_OF_POOL_MEMORY";
    default: return "VkResult error";
    }
}

vitvk_status vk_check(vitvk_context *ctx, VkResult r, const char *what)
{
    if (r == VK_SUCCESS)
        return VITVK_OK;
    vitvk_status st = VITVK_ERR_VULKAN;
    if (r == VK_ERROR_OUT_OF_HOST_MEMORY)
        st = VITVK_ERR_OUT_OF_HOST_MEMORY;
    else if (r == VK_ERROR_OUT_OF_DEVICE_MEMORY)
        st = VITVK_ERR_OUT_OF_DEVICE_MEMORY;
    else if (r == VK_ERROR_DEVICE_LOST)
        st = VITVK_ERR_DEVICE_LOST;
    return vk_fail(ctx, st, "%s failed: %s (%d)", what, vk_result_name(r), (int)r);
}

const char *vitvk_status_string(vitvk_status s)
{
    switch (s) {
    case VITVK_OK: return "ok";
    case VITVK_ERR_INVALID_ARGUMENT: return "invalid argument";
    case VITVK_ERR_IO: return "input/output error";
    case VITVK_ERR_FORMAT: return "malformed file";
    case VITVK_ERR_UNSUPPORTED: return "unsupported";
    case VITVK_ERR_MODEL: return "model does not match its config";
    case VITVK_ERR_LIMIT: return "over a size limit";
    case VITVK_ERR_NO_DEVICE: return "no such Vulkan device";
    case VITVK_ERR_VULKAN: return "Vulkan error";
    case VITVK_ERR_OUT_OF_HOST_MEMORY: return "out of host memory";
    case VITVK_ERR_OUT_OF_DEVICE_MEMORY: return "out of device memory";
    case VITVK_ERR_DEVICE_LOST: return "device lost";
    case VITVK_NOT_READY: return "not ready";
    }
    return "unknown status";
}

/* ---- loading entry points ---------------------------------------- */

static void load_global(vk_instance_table *t, PFN_vkGetInstanceProcAddr gipa)
{
    memset(t, 0, sizeof *t);
    t->vkGetInstanceProcAddr = gipa;
#define X(n) t->n = (PFN_##n)gipa(VK_NULL_HANDLE, #n);
    VK_GLOBAL_FUNCS(X)
#undef X
}

/* Returns the name of the first missing required function, or NULL. */
static const char *load_instance(vk_instance_table *t, VkInstance inst)
{
    const char *missing = NULL;
#define X(n)                                                        \
    t->n = (PFN_##n)t->vkGetInstanceProcAddr(inst, #n);             \
    if (!t->n && !missing)                                          \
        missing = #n;
    VK_INSTANCE_FUNCS(X)
#undef X
#define X(n) t->n = (PFN_##n)t->vkGetInstanceProcAddr(inst, #n);
    VK_INSTANCE_FUNCS_OPT(X)
#undef X
    return missing;
}

static const char *load_device(vk_device_table *t, const vk_instance_table *vki, VkDevice dev)
{
    const char *missing = NULL;
#define X(n)                                            \
    t->n = (PFN_##n)vki->vkGetDeviceProcAddr(dev, #n);  \
    if (!t->n && !missing)                              \
        missing = #n;
    VK_DEVICE_FUNCS(X)
#undef X
    return missing;
}

/* ---- device properties ------------------------------------------- */

static bool has_extension(const VkExtensionProperties *e, uint32_t n, const char *name)
{
    for (uint32_t i = 0; i < n; i++)
        if (strcmp(e[i].extensionName, name) == 0)
            return true;
    return false;
}

static vitvk_device_type map_type(VkPhysicalDeviceType t)
{
    switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return VITVK_DEVICE_INTEGRATED_GPU;
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return VITVK_DEVICE_DISCRETE_GPU;
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return VITVK_DEVICE_VIRTUAL_GPU;
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return VITVK_DEVICE_CPU;
    default: return VITVK_DEVICE_OTHER;
    }
}

/* Whether the NV list (compute stage and subgroup scope already checked,
 * vk_coopmat_shapes) has the one shape gemm_coopmat_nv uses: 16x16x16,
 * fp16 A and B, fp32 C and D. */
static bool coopmat_nv_shape(const vitvk_device_info *d)
{
    for (uint32_t i = 0; i < d->coopmat_nv_count; i++) {
        const vitvk_coopmat_shape *c = &d->coopmat_nv[i];
        if (c->m == 16 && c->n == 16 && c->k == 16 && c->a == VITVK_COMPONENT_F16 && c->b == VITVK_COMPONENT_F16 &&
            c->c == VITVK_COMPONENT_F32 && c->result == VITVK_COMPONENT_F32)
            return true;
    }
    return false;
}

/* The limits that steer kernel choice, and what the AUTO settings pick
 * and why (vitvk_device_info.auto_kernels / auto_precision). */
static void describe_auto(vitvk_device_info *d, const vk_caps *c)
{
    d->max_texel_buffer_elements = c->storage_texel ? c->max_texel_elements : 0;
    d->max_workgroup_invocations = c->max_group_invocations;
    char texel[96];
    if (!c->storage_texel)
        snprintf(texel, sizeof texel, "no RGBA32F/16F storage texel buffers: storage-buffer kernels");
    else
        snprintf(texel, sizeof texel, "texel views up to %u texels, storage-buffer GEMM past that",
                 c->max_texel_elements);
    if (vk_auto_family_cpu(c))
        snprintf(d->auto_kernels, sizeof d->auto_kernels, "cpu: a CPU device (%s)", texel);
    else
        snprintf(d->auto_kernels, sizeof d->auto_kernels, "gpu: not a CPU device (shared-memory tiles%s)",
                 c->coopmat_khr ? ", KHR cooperative matrices for fp16"
                 : c->coopmat_nv ? ", NV cooperative matrices for fp16" : "");
    snprintf(d->auto_precision, sizeof d->auto_precision, "%s",
             vk_auto_precision_fp16(c) ? "fp16: a GPU with 16-bit storage"
             : !c->storage16          ? "fp32: no 16-bit storage (fp16 would need halves packed in every kernel)"
                                      : "fp32: a CPU device (fp16 storage is no faster there)");
}

/* What a physical device offers, for listing and for the context. */
typedef struct probe {
    vitvk_device_info info;
    vk_caps caps;
    bool ext_16bit_storage, ext_float16, ext_portability, ext_memory_model;
    uint32_t api_version;
} probe;

static bool probe_device(const vk_instance_table *vki, VkPhysicalDevice pd, uint32_t instance_api,
                         uint32_t index, probe *out)
{
    memset(out, 0, sizeof *out);
    VkPhysicalDeviceProperties props;
    vki->vkGetPhysicalDeviceProperties(pd, &props);
    uint32_t api = props.apiVersion < instance_api ? props.apiVersion : instance_api;
    out->api_version = api;

    uint32_t next = 0;
    if (vki->vkEnumerateDeviceExtensionProperties(pd, NULL, &next, NULL) != VK_SUCCESS)
        next = 0;
    VkExtensionProperties *exts = next ? calloc(next, sizeof *exts) : NULL;
    if (next && (!exts || vki->vkEnumerateDeviceExtensionProperties(pd, NULL, &next, exts) != VK_SUCCESS))
        next = 0;
    out->ext_16bit_storage = api >= VK_API_VERSION_1_1 || has_extension(exts, next, "VK_KHR_16bit_storage");
    out->ext_float16 = api >= VK_API_VERSION_1_2 || has_extension(exts, next, "VK_KHR_shader_float16_int8");
    out->ext_portability = has_extension(exts, next, "VK_KHR_portability_subset");
    out->info.cooperative_matrix_nv = has_extension(exts, next, "VK_NV_cooperative_matrix");
    out->info.cooperative_matrix_khr = has_extension(exts, next, "VK_KHR_cooperative_matrix");

    /* Chained queries; only structures the device's version or extensions
     * cover are chained, as the spec requires. */
    VkPhysicalDeviceSubgroupProperties sub = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES};
    VkPhysicalDeviceDriverProperties drv = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES};
    VkPhysicalDeviceMaintenance3Properties m3 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES};
    VkPhysicalDeviceProperties2 p2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2};
    bool have_drv = api >= VK_API_VERSION_1_2 || has_extension(exts, next, "VK_KHR_driver_properties");
    p2.pNext = &sub;
    sub.pNext = &m3;
    if (have_drv)
        m3.pNext = &drv;
    vki->vkGetPhysicalDeviceProperties2(pd, &p2);

    VkPhysicalDeviceCooperativeMatrixFeaturesNV cmf = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_FEATURES_NV};
    VkPhysicalDeviceCooperativeMatrixFeaturesKHR cmk = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_FEATURES_KHR};
    VkPhysicalDeviceVulkanMemoryModelFeatures vmm = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_MEMORY_MODEL_FEATURES};
    out->ext_memory_model = api >= VK_API_VERSION_1_2 || has_extension(exts, next, "VK_KHR_vulkan_memory_model");
    VkPhysicalDevice16BitStorageFeatures f16s = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES};
    VkPhysicalDeviceShaderFloat16Int8Features f16a = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES};
    VkPhysicalDeviceFeatures2 f2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};
    f2.pNext = &f16s;
    if (out->ext_float16)
        f16s.pNext = &f16a;
    if (out->info.cooperative_matrix_nv) {
        cmf.pNext = f2.pNext;
        f2.pNext = &cmf;
    }
    if (out->info.cooperative_matrix_khr) {
        cmk.pNext = f2.pNext;
        f2.pNext = &cmk;
    }
    if (out->ext_memory_model) {
        vmm.pNext = f2.pNext;
        f2.pNext = &vmm;
    }
    vki->vkGetPhysicalDeviceFeatures2(pd, &f2);
    free(exts);

    VkPhysicalDeviceMemoryProperties mem;
    vki->vkGetPhysicalDeviceMemoryProperties(pd, &mem);
    uint64_t local = 0;
    for (uint32_t i = 0; i < mem.memoryHeapCount; i++)
        if (mem.memoryHeaps[i].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT)
            local += mem.memoryHeaps[i].size;

    vitvk_device_info *d = &out->info;
    d->index = index;
    snprintf(d->name, sizeof d->name, "%s", props.deviceName);
    d->type = map_type(props.deviceType);
    d->vendor_id = props.vendorID;
    d->device_id = props.deviceID;
    d->api_version = props.apiVersion;
    d->driver_version = props.driverVersion;
    if (have_drv) {
        snprintf(d->driver_name, sizeof d->driver_name, "%s", drv.driverName);
        snprintf(d->driver_info, sizeof d->driver_info, "%s", drv.driverInfo);
    }
    d->storage16 = out->ext_16bit_storage && f16s.storageBuffer16BitAccess;
    d->fp16_arithmetic = out->ext_float16 && f16a.shaderFloat16;
    d->subgroup_size = sub.subgroupSize;
    d->shared_memory_bytes = props.limits.maxComputeSharedMemorySize;
    d->max_storage_buffer_range = props.limits.maxStorageBufferRange;
    d->device_local_bytes = local;

    vk_caps *c = &out->caps;
    c->storage16 = d->storage16;
    c->fp16_arith = d->fp16_arithmetic;
    c->subgroup_size = sub.subgroupSize;
    c->shared_memory = props.limits.maxComputeSharedMemorySize;
    c->max_storage_range = props.limits.maxStorageBufferRange;
    c->max_alloc_size = m3.maxMemoryAllocationSize ? m3.maxMemoryAllocationSize : (1ull << 30);
    for (int i = 0; i < 3; i++)
        c->max_group_count[i] = props.limits.maxComputeWorkGroupCount[i];
    for (int i = 0; i < 3; i++)
        c->max_group_size[i] = props.limits.maxComputeWorkGroupSize[i];
    c->max_group_invocations = props.limits.maxComputeWorkGroupInvocations;
    c->non_coherent_atom = props.limits.nonCoherentAtomSize;
    c->min_storage_align = props.limits.minStorageBufferOffsetAlignment;
    c->type = props.deviceType;
    c->vendor_id = props.vendorID;
    c->timestamp_period = props.limits.timestampPeriod;
    c->subgroup_arith = (sub.supportedStages & VK_SHADER_STAGE_COMPUTE_BIT) &&
                        (sub.supportedOperations & VK_SUBGROUP_FEATURE_ARITHMETIC_BIT);
    c->subgroup_shuffle = (sub.supportedStages & VK_SHADER_STAGE_COMPUTE_BIT) &&
                          (sub.supportedOperations & VK_SUBGROUP_FEATURE_SHUFFLE_BIT);
    VkFormatProperties f32p, f16p;
    vki->vkGetPhysicalDeviceFormatProperties(pd, VK_FORMAT_R32G32B32A32_SFLOAT, &f32p);
    vki->vkGetPhysicalDeviceFormatProperties(pd, VK_FORMAT_R16G16B16A16_SFLOAT, &f16p);
    c->storage_texel = (f32p.bufferFeatures & VK_FORMAT_FEATURE_STORAGE_TEXEL_BUFFER_BIT) &&
                       (f16p.bufferFeatures & VK_FORMAT_FEATURE_STORAGE_TEXEL_BUFFER_BIT);
    c->max_texel_elements = props.limits.maxTexelBufferElements;
    if (d->cooperative_matrix_khr)
        d->coopmat_khr_count = vk_coopmat_shapes(vki, pd, true, d->coopmat_khr, VITVK_MAX_COOPMAT_SHAPES);
    if (d->cooperative_matrix_nv)
        d->coopmat_nv_count = vk_coopmat_shapes(vki, pd, false, d->coopmat_nv, VITVK_MAX_COOPMAT_SHAPES);
    c->memory_model = out->ext_memory_model && vmm.vulkanMemoryModel;
    c->coopmat_nv = cmf.cooperativeMatrix && d->storage16 && d->fp16_arithmetic && sub.subgroupSize == 32 &&
                    c->memory_model && coopmat_nv_shape(d);
#ifdef VITVK_KHR_COOPMAT
    const vitvk_coopmat_shape *s32 = vk_coopmat_pick(d->coopmat_khr, d->coopmat_khr_count, VITVK_COMPONENT_F32);
    const vitvk_coopmat_shape *s16 = vk_coopmat_pick(d->coopmat_khr, d->coopmat_khr_count, VITVK_COMPONENT_F16);
    c->coopmat_khr = cmk.cooperativeMatrix && d->storage16 && d->fp16_arithmetic && c->memory_model && s32;
    if (s32)
        c->khr_shape32 = *s32;
    if (s16)
        c->khr_shape16 = *s16;
#endif
    describe_auto(d, c);
    return api >= VK_API_VERSION_1_1;
}

static int type_rank(vitvk_device_type t)
{
    switch (t) {
    case VITVK_DEVICE_DISCRETE_GPU: return 0;
    case VITVK_DEVICE_INTEGRATED_GPU: return 1;
    case VITVK_DEVICE_VIRTUAL_GPU: return 2;
    case VITVK_DEVICE_CPU: return 3;
    default: return 4;
    }
}

/* ---- instance ---------------------------------------------------- */

static VKAPI_ATTR VkBool32 VKAPI_CALL debug_callback(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                                     VkDebugUtilsMessageTypeFlagsEXT types,
                                                     const VkDebugUtilsMessengerCallbackDataEXT *data,
                                                     void *user)
{
    vitvk_context *ctx = user;
    const char *msg = data && data->pMessage ? data->pMessage : "(no message)";
    /* Only the validation layer's own findings count: the loader reports
     * through the same messenger (a general warning for each layer that
     * VK_INSTANCE_LAYERS adds, say), and that is no fault of ours. */
    if (severity >= VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT && (types & VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT)) {
        ctx->validation_messages++;
        vk_log(ctx, severity >= VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT ? VITVK_LOG_ERROR : VITVK_LOG_WARNING,
               "validation: %s", msg);
    } else if (severity >= VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT) {
        vk_log(ctx, VITVK_LOG_INFO, "vulkan: %s", msg);
    }
    return VK_FALSE;
}

typedef struct instance_opts {
    bool validation;
    vitvk_context *ctx; /* for the messenger; may be NULL */
} instance_opts;

static vitvk_status create_instance(vk_instance_table *vki, const instance_opts *o, VkInstance *out_inst,
                                    uint32_t *out_api, bool *out_validation, char *err, size_t err_size)
{
    load_global(vki, vkGetInstanceProcAddr);
    if (!vki->vkCreateInstance || !vki->vkEnumerateInstanceExtensionProperties) {
        snprintf(err, err_size, "the Vulkan loader has no vkCreateInstance");
        return VITVK_ERR_NO_DEVICE;
    }
    uint32_t api = VK_API_VERSION_1_0;
    if (vki->vkEnumerateInstanceVersion)
        vki->vkEnumerateInstanceVersion(&api);
    if (api < VK_API_VERSION_1_1) {
        snprintf(err, err_size, "the Vulkan loader supports only Vulkan 1.0; 1.1 is needed");
        return VITVK_ERR_NO_DEVICE;
    }
    if (api > VK_API_VERSION_1_3)
        api = VK_API_VERSION_1_3;

    uint32_t next = 0;
    VkExtensionProperties *exts = NULL;
    if (vki->vkEnumerateInstanceExtensionProperties(NULL, &next, NULL) == VK_SUCCESS && next) {
        exts = calloc(next, sizeof *exts);
        if (!exts || vki->vkEnumerateInstanceExtensionProperties(NULL, &next, exts) != VK_SUCCESS)
            next = 0;
    }
    const char *ext_names[4];
    uint32_t ext_count = 0;
    VkInstanceCreateFlags flags = 0;
    if (has_extension(exts, next, "VK_KHR_portability_enumeration")) {
        ext_names[ext_count++] = "VK_KHR_portability_enumeration";
        flags |= VK_INSTANCE_CREATE_ENUMERATE_PORTABILITY_BIT_KHR;
    }
    bool debug_utils = has_extension(exts, next, VK_EXT_DEBUG_UTILS_EXTENSION_NAME);
    free(exts);

    const char *layers[1];
    uint32_t layer_count = 0;
    bool validation = false;
    if (o->validation && vki->vkEnumerateInstanceLayerProperties) {
        uint32_t nl = 0;
        vki->vkEnumerateInstanceLayerProperties(&nl, NULL);
        VkLayerProperties *lp = nl ? calloc(nl, sizeof *lp) : NULL;
        if (lp && vki->vkEnumerateInstanceLayerProperties(&nl, lp) == VK_SUCCESS) {
            for (uint32_t i = 0; i < nl; i++)
                if (strcmp(lp[i].layerName, VALIDATION_LAYER) == 0)
                    validation = true;
        }
        free(lp);
        if (!validation) {
            snprintf(err, err_size, "validation was asked for but %s is not installed", VALIDATION_LAYER);
            return VITVK_ERR_UNSUPPORTED;
        }
        layers[layer_count++] = VALIDATION_LAYER;
        if (debug_utils)
            ext_names[ext_count++] = VK_EXT_DEBUG_UTILS_EXTENSION_NAME;
    }

    VkApplicationInfo app = {
        .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
        .pApplicationName = "vitvk",
        .pEngineName = "vitvk",
        .engineVersion = VK_MAKE_API_VERSION(0, VITVK_VERSION_MAJOR, VITVK_VERSION_MINOR, VITVK_VERSION_PATCH),
        .apiVersion = api,
    };
    VkDebugUtilsMessengerCreateInfoEXT dbg = {
        .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT,
        .messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT,
        .messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                       VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT,
        .pfnUserCallback = debug_callback,
        .pUserData = o->ctx,
    };
    VkInstanceCreateInfo ici = {
        .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
        /* Messages from vkCreateInstance/vkDestroyInstance themselves. */
        .pNext = (validation && debug_utils && o->ctx) ? &dbg : NULL,
        .flags = flags,
        .pApplicationInfo = &app,
        .enabledLayerCount = layer_count,
        .ppEnabledLayerNames = layers,
        .enabledExtensionCount = ext_count,
        .ppEnabledExtensionNames = ext_names,
    };
    VkInstance inst;
    VkResult r = vki->vkCreateInstance(&ici, o->ctx ? o->ctx->vk_alloc : NULL, &inst);
    if (r != VK_SUCCESS) {
        snprintf(err, err_size, "vkCreateInstance failed: %s", vk_result_name(r));
        return r == VK_ERROR_INCOMPATIBLE_DRIVER ? VITVK_ERR_NO_DEVICE : VITVK_ERR_VULKAN;
    }
    const char *missing = load_instance(vki, inst);
    if (missing) {
        PFN_vkDestroyInstance destroy = (PFN_vkDestroyInstance)vki->vkGetInstanceProcAddr(inst, "vkDestroyInstance");
        if (destroy)
            destroy(inst, NULL);
        snprintf(err, err_size, "the Vulkan loader lacks %s", missing);
        return VITVK_ERR_NO_DEVICE;
    }
    *out_inst = inst;
    *out_api = api;
    *out_validation = validation && debug_utils;
    return VITVK_OK;
}

/* Lists physical devices (allocated array, caller frees). */
static vitvk_status list_physical(const vk_instance_table *vki, VkInstance inst, VkPhysicalDevice **out,
                                  uint32_t *count, char *err, size_t err_size)
{
    uint32_t n = 0;
    VkResult r = vki->vkEnumeratePhysicalDevices(inst, &n, NULL);
    if (r != VK_SUCCESS || n == 0) {
        snprintf(err, err_size, "no Vulkan device found (install a Vulkan driver, e.g. mesa-vulkan-drivers)");
        return VITVK_ERR_NO_DEVICE;
    }
    VkPhysicalDevice *pds = calloc(n, sizeof *pds);
    if (!pds) {
        snprintf(err, err_size, "out of host memory");
        return VITVK_ERR_OUT_OF_HOST_MEMORY;
    }
    r = vki->vkEnumeratePhysicalDevices(inst, &n, pds);
    if (r != VK_SUCCESS && r != VK_INCOMPLETE) {
        free(pds);
        snprintf(err, err_size, "vkEnumeratePhysicalDevices failed: %s", vk_result_name(r));
        return VITVK_ERR_VULKAN;
    }
    *out = pds;
    *count = n;
    return VITVK_OK;
}

vitvk_status vitvk_enumerate_devices(vitvk_device_info *infos, uint32_t *count, char *err, size_t err_size)
{
    char msg[VK_ERR_SIZE] = "";
    if (!count) {
        vk_errorf(err, err_size, "%s", "count is NULL");
        return VITVK_ERR_INVALID_ARGUMENT;
    }
    vk_instance_table vki;
    VkInstance inst;
    uint32_t api;
    bool validation;
    instance_opts o = {0};
    vitvk_status st = create_instance(&vki, &o, &inst, &api, &validation, msg, sizeof msg);
    if (st != VITVK_OK) {
        vk_errorf(err, err_size, "%s", msg);
        return st;
    }
    VkPhysicalDevice *pds = NULL;
    uint32_t n = 0;
    st = list_physical(&vki, inst, &pds, &n, msg, sizeof msg);
    if (st == VITVK_OK) {
        if (infos) {
            uint32_t w = n < *count ? n : *count;
            for (uint32_t i = 0; i < w; i++) {
                probe p;
                probe_device(&vki, pds[i], api, i, &p);
                infos[i] = p.info;
            }
            *count = w;
        } else {
            *count = n;
        }
    } else {
        vk_errorf(err, err_size, "%s", msg);
    }
    free(pds);
    vki.vkDestroyInstance(inst, NULL);
    return st;
}

/* ---- device ------------------------------------------------------ */

static vitvk_status create_device(vitvk_context *ctx, const probe *p, uint32_t api)
{
    vk_instance_table *vki = &ctx->vki;
    uint32_t nq = 0;
    vki->vkGetPhysicalDeviceQueueFamilyProperties(ctx->physical, &nq, NULL);
    VkQueueFamilyProperties *qf = vk_calloc(ctx, nq ? nq : 1, sizeof *qf);
    if (!qf)
        return vk_fail(ctx, VITVK_ERR_OUT_OF_HOST_MEMORY, "out of host memory");
    vki->vkGetPhysicalDeviceQueueFamilyProperties(ctx->physical, &nq, qf);
    /* Prefer a compute queue without graphics: it is the async-compute
     * queue on GPUs that have one, and never worse. */
    uint32_t family = UINT32_MAX;
    for (uint32_t i = 0; i < nq; i++)
        if ((qf[i].queueFlags & VK_QUEUE_COMPUTE_BIT) && !(qf[i].queueFlags & VK_QUEUE_GRAPHICS_BIT) &&
            qf[i].timestampValidBits) {
            family = i;
            break;
        }
    if (family == UINT32_MAX)
        for (uint32_t i = 0; i < nq; i++)
            if (qf[i].queueFlags & VK_QUEUE_COMPUTE_BIT) {
                family = i;
                break;
            }
    vk_free(ctx, qf);
    if (family == UINT32_MAX)
        return vk_fail(ctx, VITVK_ERR_NO_DEVICE, "%s has no compute queue", p->info.name);

    float prio = 1.0f;
    VkDeviceQueueCreateInfo qci = {
        .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
        .queueFamilyIndex = family,
        .queueCount = 1,
        .pQueuePriorities = &prio,
    };
    const char *exts[6];
    uint32_t ne = 0;
    if (p->ext_portability)
        exts[ne++] = "VK_KHR_portability_subset";
    if (p->caps.coopmat_nv)
        exts[ne++] = "VK_NV_cooperative_matrix";
    if (p->caps.coopmat_khr)
        exts[ne++] = "VK_KHR_cooperative_matrix";
    bool vmm = p->caps.coopmat_nv || p->caps.coopmat_khr;
    if (vmm && api < VK_API_VERSION_1_2)
        exts[ne++] = "VK_KHR_vulkan_memory_model";
    if (api < VK_API_VERSION_1_2 && p->caps.fp16_arith)
        exts[ne++] = "VK_KHR_shader_float16_int8";

    VkPhysicalDeviceShaderFloat16Int8Features f16a = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES,
        .shaderFloat16 = p->caps.fp16_arith,
    };
    VkPhysicalDevice16BitStorageFeatures f16s = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES,
        .storageBuffer16BitAccess = p->caps.storage16,
        .pNext = p->caps.fp16_arith ? &f16a : NULL,
    };
    /* The cooperative-matrix shaders declare the Vulkan memory model
     * (glslang's gl_ScopeSubgroup needs GL_KHR_memory_scope_semantics). */
    VkPhysicalDeviceVulkanMemoryModelFeatures vmmf = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_MEMORY_MODEL_FEATURES,
        .vulkanMemoryModel = VK_TRUE,
        .pNext = &f16s,
    };
    void *chain = vmm ? (void *)&vmmf : (void *)&f16s;
    VkPhysicalDeviceCooperativeMatrixFeaturesNV cmf = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_FEATURES_NV,
        .cooperativeMatrix = VK_TRUE,
        .pNext = chain,
    };
    if (p->caps.coopmat_nv)
        chain = &cmf;
    VkPhysicalDeviceCooperativeMatrixFeaturesKHR cmk = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_FEATURES_KHR,
        .cooperativeMatrix = VK_TRUE,
        .pNext = chain,
    };
    if (p->caps.coopmat_khr)
        chain = &cmk;
    VkPhysicalDeviceFeatures2 f2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = chain};
    VkDeviceCreateInfo dci = {
        .sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
        .pNext = &f2,
        .queueCreateInfoCount = 1,
        .pQueueCreateInfos = &qci,
        .enabledExtensionCount = ne,
        .ppEnabledExtensionNames = exts,
    };
    vitvk_status st = vk_check(ctx, vki->vkCreateDevice(ctx->physical, &dci, ctx->vk_alloc, &ctx->device), "vkCreateDevice");
    if (st != VITVK_OK)
        return st;
    ctx->owns_device = true;
    ctx->queue_family = family;
    return VITVK_OK;
}

/* What the host says it enabled on an adopted device. */
typedef struct host_enabled {
    bool storage16, float16, coopmat_nv, coopmat_khr, memory_model;
    bool float16_ext, portability_ext; /* listed in vk_enabled_extensions */
} host_enabled;

static host_enabled host_enabled_features(const vitvk_context_desc *d)
{
    host_enabled e = {0};
    bool coopmat_ext = false, coopmat_khr_ext = false;
    for (uint32_t i = 0; d->vk_enabled_extensions && i < d->vk_enabled_extension_count; i++)
        if (d->vk_enabled_extensions[i]) {
            const char *name = d->vk_enabled_extensions[i];
            coopmat_ext |= strcmp(name, "VK_NV_cooperative_matrix") == 0;
            coopmat_khr_ext |= strcmp(name, "VK_KHR_cooperative_matrix") == 0;
            e.float16_ext |= strcmp(name, "VK_KHR_shader_float16_int8") == 0;
            e.portability_ext |= strcmp(name, "VK_KHR_portability_subset") == 0;
        }
    for (const VkBaseInStructure *s = d->vk_enabled_features; s; s = s->pNext) {
        switch ((int)s->sType) { /* int: the KHR cooperative-matrix value is not in older headers' enum */
        case VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES:
            e.storage16 |= ((const VkPhysicalDevice16BitStorageFeatures *)s)->storageBuffer16BitAccess;
            break;
        case VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES:
            e.storage16 |= ((const VkPhysicalDeviceVulkan11Features *)s)->storageBuffer16BitAccess;
            break;
        case VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES:
            e.float16 |= ((const VkPhysicalDeviceShaderFloat16Int8Features *)s)->shaderFloat16;
            break;
        case VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES:
            e.float16 |= ((const VkPhysicalDeviceVulkan12Features *)s)->shaderFloat16;
            e.memory_model |= ((const VkPhysicalDeviceVulkan12Features *)s)->vulkanMemoryModel;
            break;
        case VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_MEMORY_MODEL_FEATURES:
            e.memory_model |= ((const VkPhysicalDeviceVulkanMemoryModelFeatures *)s)->vulkanMemoryModel;
            break;
        case VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_FEATURES_KHR:
            e.coopmat_khr |= coopmat_khr_ext &&
                             ((const VkPhysicalDeviceCooperativeMatrixFeaturesKHR *)s)->cooperativeMatrix;
            break;
        case VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_FEATURES_NV:
            e.coopmat_nv |= coopmat_ext && ((const VkPhysicalDeviceCooperativeMatrixFeaturesNV *)s)->cooperativeMatrix;
            break;
        default:
            break;
        }
    }
    return e;
}

/* Appends "; what" (or "what" first) to a list of missing pieces. */
static void add_missing(char *list, size_t size, const char *what)
{
    size_t len = strlen(list);
    snprintf(list + len, size - len, "%s%s", len ? "; " : "", what);
}

/* What the library cannot do without on an adopted device, beyond the API
 * version the host named: the physical device's own version, a queue
 * family that computes, and the portability subset the device requires
 * (when the host listed its extensions). Names everything missing at once. */
static vitvk_status adopt_requirements(vitvk_context *ctx, const vitvk_context_desc *desc, const probe *p, bool v11,
                                       char *msg, size_t msg_size)
{
    char missing[VK_ERR_SIZE / 2] = "";
    if (!v11)
        add_missing(missing, sizeof missing, "Vulkan 1.1 on the physical device");
    uint32_t nq = 0;
    ctx->vki.vkGetPhysicalDeviceQueueFamilyProperties(ctx->physical, &nq, NULL);
    VkQueueFamilyProperties *qf = vk_calloc(ctx, nq ? nq : 1, sizeof *qf);
    if (!qf) {
        snprintf(msg, msg_size, "out of host memory");
        return VITVK_ERR_OUT_OF_HOST_MEMORY;
    }
    ctx->vki.vkGetPhysicalDeviceQueueFamilyProperties(ctx->physical, &nq, qf);
    char what[128];
    if (desc->vk_queue_family >= nq) {
        snprintf(what, sizeof what, "a compute queue (vk_queue_family %u, but the device has %u famil%s)",
                 desc->vk_queue_family, nq, nq == 1 ? "y" : "ies");
        add_missing(missing, sizeof missing, what);
    } else if (!(qf[desc->vk_queue_family].queueFlags & VK_QUEUE_COMPUTE_BIT)) {
        snprintf(what, sizeof what, "a compute queue (queue family %u has no VK_QUEUE_COMPUTE_BIT)",
                 desc->vk_queue_family);
        add_missing(missing, sizeof missing, what);
    }
    vk_free(ctx, qf);
    if (p->ext_portability && desc->vk_enabled_extensions &&
        !host_enabled_features(desc).portability_ext)
        add_missing(missing, sizeof missing, "VK_KHR_portability_subset (the device requires it enabled)");
    if (!missing[0])
        return VITVK_OK;
    snprintf(msg, msg_size, "the adopted device (%s) lacks what vitvk needs: %s", p->info.name, missing);
    return VITVK_ERR_UNSUPPORTED;
}

/* One INFO line naming what the device has but the host left off, so that
 * a host wondering why fp16 or tensor cores are unused reads why. */
static void adopt_report_off(vitvk_context *ctx, const probe *p)
{
    char off[VK_ERR_SIZE / 2] = "";
    if (p->caps.storage16 && !ctx->caps.storage16)
        add_missing(off, sizeof off, "storageBuffer16BitAccess (fp16 models)");
    if (p->caps.fp16_arith && !ctx->caps.fp16_arith)
        add_missing(off, sizeof off, "shaderFloat16");
    if (p->caps.coopmat_nv && !ctx->caps.coopmat_nv)
        add_missing(off, sizeof off, "VK_NV_cooperative_matrix and vulkanMemoryModel (tensor-core GEMM)");
    if (p->caps.coopmat_khr && !ctx->caps.coopmat_khr)
        add_missing(off, sizeof off, "VK_KHR_cooperative_matrix and vulkanMemoryModel (tensor-core GEMM)");
    if (off[0])
        vk_log(ctx, VITVK_LOG_INFO, "adopted device %s: the host did not enable %s", p->info.name, off);
}

/* The cooperative-matrix GEMM runs only on vendor hardware the tests do
 * not have: check it on this device once, and fall back to the tiled GEMM
 * (with a warning in the log) if its results are wrong or it fails. */
static void check_coopmat(vitvk_context *ctx)
{
    vk_tuning at;
    vk_tuning_for(ctx, &at);
    double aerr = 0.0;
    if (at.attn_cm_m && vk_attention_check(ctx, &at, &aerr) != VITVK_OK) {
        vk_log(ctx, VITVK_LOG_WARNING, "cooperative-matrix attention disabled: %s", ctx->last_error);
        ctx->caps.attn_coopmat_failed = true;
    }
    for (int pass = 0; pass < 3; pass++) {
        vk_tuning t;
        vk_tuning_for(ctx, &t);
        if (!t.gemm_coopmat)
            return;
        double err = 0.0;
        if (vk_gemm_check(ctx, &t, true, &err) == VITVK_OK)
            return;
        /* KHR with fp16 accumulation failed: try fp32 accumulation; KHR
         * failed: try NV (if the device has it), then nothing. */
        vk_log(ctx, VITVK_LOG_WARNING, "cooperative-matrix GEMM (%s%s) disabled: %s",
               t.gemm_coopmat == VK_COOPMAT_KHR ? "KHR" : "NV", t.cm_acc16 ? ", fp16 accumulation" : "",
               ctx->last_error);
        if (t.cm_acc16)
            ctx->caps.khr_shape16.m = 0;
        else if (t.gemm_coopmat == VK_COOPMAT_KHR)
            ctx->caps.coopmat_khr = false;
        else
            ctx->caps.coopmat_nv = false;
    }
}

static vitvk_status finish_context(vitvk_context *ctx)
{
    const char *missing = load_device(&ctx->vkd, &ctx->vki, ctx->device);
    if (missing)
        return vk_fail(ctx, VITVK_ERR_VULKAN, "the device lacks %s", missing);
    if (!ctx->queue)
        ctx->vkd.vkGetDeviceQueue(ctx->device, ctx->queue_family, 0, &ctx->queue);
    ctx->vki.vkGetPhysicalDeviceMemoryProperties(ctx->physical, &ctx->memprops);
    uint32_t nq = 0;
    ctx->vki.vkGetPhysicalDeviceQueueFamilyProperties(ctx->physical, &nq, NULL);
    VkQueueFamilyProperties *qf = vk_calloc(ctx, nq ? nq : 1, sizeof *qf);
    if (qf) {
        ctx->vki.vkGetPhysicalDeviceQueueFamilyProperties(ctx->physical, &nq, qf);
        ctx->caps.timestamps = ctx->queue_family < nq && qf[ctx->queue_family].timestampValidBits > 0;
        vk_free(ctx, qf);
    }

    VkCommandPoolCreateInfo pci = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
        .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
        .queueFamilyIndex = ctx->queue_family,
    };
    vitvk_status st = vk_check(ctx, ctx->vkd.vkCreateCommandPool(ctx->device, &pci, ctx->vk_alloc, &ctx->cmd_pool),
                               "vkCreateCommandPool");
    if (st != VITVK_OK)
        return st;
    VkFenceCreateInfo fci = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    return vk_check(ctx, ctx->vkd.vkCreateFence(ctx->device, &fci, ctx->vk_alloc, &ctx->fence), "vkCreateFence");
}

vitvk_status vitvk_context_create(const vitvk_context_desc *desc_in, vitvk_context **out, char *err,
                                  size_t err_size)
{
    vitvk_context_desc desc = {0};
    if (desc_in)
        desc = *desc_in;
    if (!out) {
        vk_errorf(err, err_size, "%s", "out is NULL");
        return VITVK_ERR_INVALID_ARGUMENT;
    }
    *out = NULL;
    if ((unsigned)desc.kernels > VITVK_KERNELS_GPU) {
        vk_errorf(err, err_size, "unknown kernel family %d", (int)desc.kernels);
        return VITVK_ERR_INVALID_ARGUMENT;
    }
    if ((unsigned)desc.cooperative_matrix > VITVK_COOPMAT_FP16_ACCUMULATE) {
        vk_errorf(err, err_size, "unknown cooperative_matrix mode %d", (int)desc.cooperative_matrix);
        return VITVK_ERR_INVALID_ARGUMENT;
    }
    vitvk_allocator ha = desc.host_allocator ? *desc.host_allocator : (vitvk_allocator){0};
    if ((ha.alloc || ha.realloc || ha.free) && !(ha.alloc && ha.realloc && ha.free)) {
        vk_errorf(err, err_size, "%s", "host_allocator needs all of alloc, realloc and free");
        return VITVK_ERR_INVALID_ARGUMENT;
    }
    /* The context itself comes from the host's allocator too. */
    vitvk_context *ctx = ha.alloc ? ha.alloc(ha.user, sizeof *ctx, _Alignof(vitvk_context)) : malloc(sizeof *ctx);
    if (ctx) {
        memset(ctx, 0, sizeof *ctx);
        ctx->host_alloc = ha;
    }
    if (!ctx) {
        vk_errorf(err, err_size, "%s", "out of host memory");
        return VITVK_ERR_OUT_OF_HOST_MEMORY;
    }
    ctx->log = desc.log;
    ctx->log_user = desc.log_user;
    ctx->kernel_family = desc.kernels;
    ctx->coopmat_mode = desc.cooperative_matrix;
    memcpy(ctx->coopmat_tile, desc.coopmat_tile, sizeof ctx->coopmat_tile);
    ctx->budget = desc.device_memory_budget;
    ctx->vk_alloc = (const VkAllocationCallbacks *)desc.vk_allocation_callbacks;
    vitvk_status st = VITVK_OK;
    char msg[VK_ERR_SIZE] = "";

    if (desc.adopt_device) {
        if (!desc.vk_instance || !desc.vk_physical_device || !desc.vk_device || !desc.vk_queue ||
            !desc.vk_get_instance_proc_addr) {
            vk_errorf(err, err_size, "adopting a device needs vk_instance, vk_physical_device, vk_device, "
                                     "vk_queue and vk_get_instance_proc_addr");
            vk_free(ctx, ctx);
            return VITVK_ERR_INVALID_ARGUMENT;
        }
        load_global(&ctx->vki, (PFN_vkGetInstanceProcAddr)desc.vk_get_instance_proc_addr);
        ctx->instance = (VkInstance)desc.vk_instance;
        ctx->physical = (VkPhysicalDevice)desc.vk_physical_device;
        ctx->device = (VkDevice)desc.vk_device;
        ctx->queue = (VkQueue)desc.vk_queue;
        ctx->queue_family = desc.vk_queue_family;
        const char *missing = load_instance(&ctx->vki, ctx->instance);
        if (missing) {
            snprintf(msg, sizeof msg, "the adopted instance lacks %s", missing);
            st = VITVK_ERR_VULKAN;
            goto fail;
        }
        uint32_t api = desc.vk_api_version ? desc.vk_api_version : VK_API_VERSION_1_1;
        if (api < VK_API_VERSION_1_1) {
            snprintf(msg, sizeof msg, "the adopted device was created for Vulkan %u.%u; vitvk needs 1.1 "
                     "(VkApplicationInfo.apiVersion >= VK_API_VERSION_1_1 on a 1.1 device)",
                     VK_API_VERSION_MAJOR(api), VK_API_VERSION_MINOR(api));
            st = VITVK_ERR_UNSUPPORTED;
            goto fail;
        }
        probe p;
        bool v11 = probe_device(&ctx->vki, ctx->physical, api, 0, &p);
        st = adopt_requirements(ctx, &desc, &p, v11, msg, sizeof msg);
        if (st != VITVK_OK)
            goto fail;
        ctx->info = p.info;
        ctx->caps = p.caps;
        /* Only what the host enabled may be used. */
        host_enabled en = host_enabled_features(&desc);
        ctx->caps.storage16 = p.caps.storage16 && (desc.vk_storage16_enabled || en.storage16);
        ctx->caps.fp16_arith = p.caps.fp16_arith && en.float16 && (p.api_version >= VK_API_VERSION_1_2 || en.float16_ext);
        ctx->caps.memory_model = p.caps.memory_model && en.memory_model;
        ctx->caps.coopmat_nv = p.caps.coopmat_nv && en.coopmat_nv && ctx->caps.fp16_arith && ctx->caps.storage16 &&
                               ctx->caps.memory_model;
        ctx->caps.coopmat_khr = p.caps.coopmat_khr && en.coopmat_khr && ctx->caps.fp16_arith && ctx->caps.storage16 &&
                                ctx->caps.memory_model;
        ctx->info.storage16 = ctx->caps.storage16;
        ctx->info.fp16_arithmetic = ctx->caps.fp16_arith;
        adopt_report_off(ctx, &p);
    } else {
        instance_opts o = {.validation = desc.enable_validation != 0, .ctx = ctx};
        uint32_t api;
        bool messenger;
        st = create_instance(&ctx->vki, &o, &ctx->instance, &api, &messenger, msg, sizeof msg);
        if (st != VITVK_OK)
            goto fail;
        ctx->owns_instance = true;
        if (messenger && ctx->vki.vkCreateDebugUtilsMessengerEXT) {
            VkDebugUtilsMessengerCreateInfoEXT dbg = {
                .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT,
                .messageSeverity =
                    VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT,
                .messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT |
                               VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                               VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT,
                .pfnUserCallback = debug_callback,
                .pUserData = ctx,
            };
            VkResult r = ctx->vki.vkCreateDebugUtilsMessengerEXT(ctx->instance, &dbg, ctx->vk_alloc, &ctx->messenger);
            if (r != VK_SUCCESS) {
                snprintf(msg, sizeof msg, "vkCreateDebugUtilsMessengerEXT failed: %s", vk_result_name(r));
                st = VITVK_ERR_VULKAN;
                goto fail;
            }
        }
        VkPhysicalDevice *pds = NULL;
        uint32_t n = 0;
        st = list_physical(&ctx->vki, ctx->instance, &pds, &n, msg, sizeof msg);
        if (st != VITVK_OK)
            goto fail;
        probe best = {0};
        int best_rank = 99;
        uint32_t chosen = UINT32_MAX;
        for (uint32_t i = 0; i < n; i++) {
            probe p;
            bool ok = probe_device(&ctx->vki, pds[i], api, i, &p);
            if (desc.use_device_index) {
                if (i == desc.device_index) {
                    if (!ok) {
                        snprintf(msg, sizeof msg, "device %u (%s) supports only Vulkan 1.0; 1.1 is needed", i,
                                 p.info.name);
                        st = VITVK_ERR_UNSUPPORTED;
                    }
                    best = p;
                    chosen = i;
                }
                continue;
            }
            if (ok && type_rank(p.info.type) < best_rank) {
                best_rank = type_rank(p.info.type);
                best = p;
                chosen = i;
            }
        }
        if (chosen != UINT32_MAX)
            ctx->physical = pds[chosen];
        free(pds);
        if (st != VITVK_OK)
            goto fail;
        if (chosen == UINT32_MAX) {
            if (desc.use_device_index)
                snprintf(msg, sizeof msg, "no Vulkan device %u: %u device%s found (see `vit-vk-cli devices`)",
                         desc.device_index, n, n == 1 ? "" : "s");
            else
                snprintf(msg, sizeof msg, "no Vulkan 1.1 device found");
            st = VITVK_ERR_NO_DEVICE;
            goto fail;
        }
        ctx->info = best.info;
        ctx->caps = best.caps;
        st = create_device(ctx, &best, best.api_version);
        if (st != VITVK_OK) {
            snprintf(msg, sizeof msg, "%s", ctx->last_error);
            goto fail;
        }
    }
    st = finish_context(ctx);
    if (st != VITVK_OK) {
        snprintf(msg, sizeof msg, "%s", ctx->last_error);
        goto fail;
    }
    if (ctx->coopmat_tile[0] || ctx->coopmat_tile[5]) {
        if (!vk_coopmat_tile_check(ctx, ctx->coopmat_tile, msg, sizeof msg)) {
            st = VITVK_ERR_INVALID_ARGUMENT;
            goto fail;
        }
    }
    check_coopmat(ctx);
    {
        vk_tuning t;
        vk_tuning_for(ctx, &t);
        vk_log(ctx, VITVK_LOG_INFO, "%s device %s (Vulkan %u.%u), %s kernels%s%s",
               desc.adopt_device ? "adopted" : "created", ctx->info.name, VK_API_VERSION_MAJOR(ctx->info.api_version),
               VK_API_VERSION_MINOR(ctx->info.api_version), t.gemm_tiled ? "GPU" : "CPU",
               t.gemm_coopmat == VK_COOPMAT_KHR ? ", KHR cooperative matrices"
               : t.gemm_coopmat == VK_COOPMAT_NV ? ", NV cooperative matrices" : "", ctx->budget ? ", with a device-memory budget" : "");
    }
    ctx->last_error[0] = 0;
    *out = ctx;
    return VITVK_OK;

fail:
    vk_errorf(err, err_size, "%s", msg);
    vitvk_context_destroy(ctx);
    return st;
}

void vitvk_context_destroy(vitvk_context *ctx)
{
    if (!ctx)
        return;
    if (ctx->device && ctx->vkd.vkDeviceWaitIdle) {
        /* A borrowed device may be busy with the host's work: wait for our
         * queue only. */
        if (ctx->owns_device)
            ctx->vkd.vkDeviceWaitIdle(ctx->device);
        else if (ctx->queue)
            ctx->vkd.vkQueueWaitIdle(ctx->queue);
        vk_kernels_destroy(ctx);
        if (ctx->fence)
            ctx->vkd.vkDestroyFence(ctx->device, ctx->fence, ctx->vk_alloc);
        if (ctx->cmd_pool)
            ctx->vkd.vkDestroyCommandPool(ctx->device, ctx->cmd_pool, ctx->vk_alloc);
        if (ctx->owns_device)
            ctx->vkd.vkDestroyDevice(ctx->device, ctx->vk_alloc);
    }
    if (ctx->owns_instance && ctx->instance) {
        if (ctx->messenger && ctx->vki.vkDestroyDebugUtilsMessengerEXT)
            ctx->vki.vkDestroyDebugUtilsMessengerEXT(ctx->instance, ctx->messenger, ctx->vk_alloc);
        ctx->vki.vkDestroyInstance(ctx->instance, ctx->vk_alloc);
    }
    vk_free(ctx, ctx); /* reads the allocator before the block goes */
}

const char *vitvk_context_last_error(const vitvk_context *ctx)
{
    return ctx ? ctx->last_error : "no context";
}

void vitvk_context_device_info(const vitvk_context *ctx, vitvk_device_info *out)
{
    if (ctx && out)
        *out = ctx->info;
}

void vitvk_context_memory(const vitvk_context *ctx, vitvk_memory_info *out)
{
    if (!out)
        return;
    memset(out, 0, sizeof *out);
    if (ctx) {
        out->device_bytes = ctx->device_bytes;
        out->budget_bytes = ctx->budget;
    }
}

uint32_t vitvk_context_validation_errors(const vitvk_context *ctx)
{
    return ctx ? ctx->validation_messages : 0;
}

/* ---- one-time submissions ---------------------------------------- */

vitvk_status vk_submit_wait(vitvk_context *ctx, VkCommandBuffer cmd)
{
    VkSubmitInfo si = {
        .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
        .commandBufferCount = 1,
        .pCommandBuffers = &cmd,
    };
    vitvk_status st = vk_check(ctx, ctx->vkd.vkResetFences(ctx->device, 1, &ctx->fence), "vkResetFences");
    if (st != VITVK_OK)
        return st;
    st = vk_check(ctx, ctx->vkd.vkQueueSubmit(ctx->queue, 1, &si, ctx->fence), "vkQueueSubmit");
    if (st != VITVK_OK)
        return st;
    return vk_check(ctx, ctx->vkd.vkWaitForFences(ctx->device, 1, &ctx->fence, VK_TRUE, UINT64_MAX),
                    "vkWaitForFences");
}

vitvk_status vk_begin_once(vitvk_context *ctx, VkCommandBuffer *out)
{
    VkCommandBufferAllocateInfo ai = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
        .commandPool = ctx->cmd_pool,
        .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
        .commandBufferCount = 1,
    };
    vitvk_status st = vk_check(ctx, ctx->vkd.vkAllocateCommandBuffers(ctx->device, &ai, out),
                               "vkAllocateCommandBuffers");
    if (st != VITVK_OK)
        return st;
    VkCommandBufferBeginInfo bi = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
        .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT,
    };
    st = vk_check(ctx, ctx->vkd.vkBeginCommandBuffer(*out, &bi), "vkBeginCommandBuffer");
    if (st != VITVK_OK)
        ctx->vkd.vkFreeCommandBuffers(ctx->device, ctx->cmd_pool, 1, out);
    return st;
}

vitvk_status vk_end_once(vitvk_context *ctx, VkCommandBuffer cmd)
{
    vitvk_status st = vk_check(ctx, ctx->vkd.vkEndCommandBuffer(cmd), "vkEndCommandBuffer");
    if (st == VITVK_OK)
        st = vk_submit_wait(ctx, cmd);
    ctx->vkd.vkFreeCommandBuffers(ctx->device, ctx->cmd_pool, 1, &cmd);
    return st;
}
