/* test_host.c - the contracts a host relies on: contexts on two threads and
 * a context adopting the host's own device give the logits of the
 * library's own context bit for bit; a device-memory budget smaller than
 * the model fails cleanly and leaves the host's device usable; batches
 * submitted asynchronously come back as vitvk_plan_run gives them; the
 * caller's VkAllocationCallbacks see every Vulkan allocation freed; the
 * log callback receives errors and information. Runs under the Khronos
 * validation layer (the host's instance too). */
#include <check.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host_suite.h"
#include "host_vk.h"
#include "safetensors.h"
#include "test_validation.h"
#include "vitvk.h"

static const char *data_dir(void)
{
    const char *d = getenv("VITVK_TEST_DATA");
    return d ? d : "tests/data";
}

typedef struct log_count {
    unsigned validation, errors, info;
    char last_error[512];
    char info_text[2048]; /* the INFO lines, one a line */
} log_count;

static void count_log(void *user, vitvk_log_level level, const char *msg)
{
    log_count *c = user;
    if (level >= VITVK_LOG_WARNING && strncmp(msg, "validation:", 11) == 0) {
        c->validation++;
        fprintf(stderr, "%s\n", msg);
    } else if (level == VITVK_LOG_ERROR) {
        c->errors++;
        snprintf(c->last_error, sizeof c->last_error, "%s", msg);
    } else if (level == VITVK_LOG_INFO) {
        c->info++;
        size_t len = strlen(c->info_text);
        snprintf(c->info_text + len, sizeof c->info_text - len, "%s\n", msg);
    }
}

/* The shared vit-tiny fixture: its pixel_values (batch 2). */
typedef struct input {
    char model[1024];
    float *pixels;
    uint32_t n, labels;
} input;

static void input_load(input *in)
{
    char ref[1100], err[512];
    snprintf(in->model, sizeof in->model, "%s/fixtures/vit-tiny", data_dir());
    snprintf(ref, sizeof ref, "%s/reference.safetensors", in->model);
    st_archive *a;
    ck_assert_msg(st_open_file(ref, &a, err, sizeof err) == VITVK_OK, "%s", err);
    const st_tensor *t = st_find(a, "pixel_values");
    ck_assert_ptr_nonnull(t);
    in->n = (uint32_t)t->shape[0];
    in->pixels = malloc((size_t)t->numel * sizeof *in->pixels);
    ck_assert_msg(st_to_f32(t, in->pixels, err, sizeof err) == VITVK_OK, "%s", err);
    const st_tensor *l = st_find(a, "logits");
    ck_assert_ptr_nonnull(l);
    in->labels = (uint32_t)l->shape[1];
    st_close(a);
}

/* Loads the model on ctx, runs the batch once, returns the logits
 * (n x labels, malloc'd); the context is left as it was. */
static float *run_logits(vitvk_context *ctx, const input *in)
{
    vitvk_model *m;
    vitvk_model_desc md = {.precision = VITVK_PRECISION_FP32};
    ck_assert_msg(vitvk_model_load(ctx, in->model, &md, &m) == VITVK_OK, "%s", vitvk_context_last_error(ctx));
    vitvk_plan *p;
    vitvk_plan_desc pd = {.batch = in->n};
    ck_assert_msg(vitvk_plan_create(m, &pd, &p) == VITVK_OK, "%s", vitvk_context_last_error(ctx));
    float *logits = malloc((size_t)in->n * in->labels * sizeof *logits);
    ck_assert_msg(vitvk_plan_run(p, in->pixels, in->n, logits, NULL) == VITVK_OK, "%s",
                  vitvk_context_last_error(ctx));
    vitvk_plan_destroy(p);
    vitvk_model_destroy(m);
    return logits;
}

static float *own_context_logits(const input *in)
{
    log_count lc = {0};
    vitvk_context_desc d = {.enable_validation = test_validation(), .log = count_log, .log_user = &lc};
    vitvk_context *ctx;
    char err[512];
    ck_assert_msg(vitvk_context_create(&d, &ctx, err, sizeof err) == VITVK_OK, "%s", err);
    float *l = run_logits(ctx, in);
    vitvk_context_destroy(ctx);
    ck_assert_uint_eq(lc.validation, 0);
    return l;
}

typedef struct worker {
    const input *in;
    float *logits;
    vitvk_status st;
    char err[512];
    unsigned validation;
} worker;

/* Everything on this thread: context, model, plan, run. No Check
 * assertions here (they are not thread-safe); the main thread checks. */
static void *worker_main(void *arg)
{
    worker *w = arg;
    log_count lc = {0};
    vitvk_context_desc d = {.enable_validation = test_validation(), .log = count_log, .log_user = &lc};
    vitvk_context *ctx = NULL;
    vitvk_model *m = NULL;
    vitvk_plan *p = NULL;
    vitvk_model_desc md = {.precision = VITVK_PRECISION_FP32};
    vitvk_plan_desc pd = {.batch = w->in->n};
    w->st = vitvk_context_create(&d, &ctx, w->err, sizeof w->err);
    if (w->st == VITVK_OK)
        w->st = vitvk_model_load(ctx, w->in->model, &md, &m);
    if (w->st == VITVK_OK)
        w->st = vitvk_plan_create(m, &pd, &p);
    if (w->st == VITVK_OK) {
        w->logits = malloc((size_t)w->in->n * w->in->labels * sizeof *w->logits);
        w->st = w->logits ? vitvk_plan_run(p, w->in->pixels, w->in->n, w->logits, NULL)
                          : VITVK_ERR_OUT_OF_HOST_MEMORY;
    }
    if (w->st != VITVK_OK && ctx)
        snprintf(w->err, sizeof w->err, "%s", vitvk_context_last_error(ctx));
    vitvk_plan_destroy(p);
    vitvk_model_destroy(m);
    vitvk_context_destroy(ctx);
    w->validation = lc.validation;
    return NULL;
}

START_TEST(two_threads)
{
    input in;
    input_load(&in);
    float *want = own_context_logits(&in);
    worker w[2] = {{.in = &in}, {.in = &in}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(pthread_join(t[i], NULL), 0);
    size_t bytes = (size_t)in.n * in.labels * sizeof(float);
    for (int i = 0; i < 2; i++) {
        ck_assert_msg(w[i].st == VITVK_OK, "thread %d: %s", i, w[i].err);
        ck_assert_uint_eq(w[i].validation, 0);
        ck_assert_msg(memcmp(w[i].logits, want, bytes) == 0, "thread %d: logits differ from the own context's", i);
        free(w[i].logits);
    }
    free(want);
    free(in.pixels);
}
END_TEST

START_TEST(adopted_device)
{
    input in;
    input_load(&in);
    float *want = own_context_logits(&in);
    host_vk h;
    char err[512];
    ck_assert_msg(host_vk_create(&h, 1, err, sizeof err) == 0, "%s", err);
    log_count lc = {0};
    vitvk_context_desc d = {.log = count_log, .log_user = &lc};
    host_vk_adopt(&h, &d);
    vitvk_context *ctx;
    ck_assert_msg(vitvk_context_create(&d, &ctx, err, sizeof err) == VITVK_OK, "%s", err);
    float *got = run_logits(ctx, &in);
    vitvk_context_destroy(ctx);
    ck_assert_msg(memcmp(got, want, (size_t)in.n * in.labels * sizeof(float)) == 0,
                  "the adopted device's logits differ from the own context's");
    /* The library destroyed nothing of the host's: its device still works. */
    VkCommandBuffer cmd;
    ck_assert_int_eq(host_begin(&h, &cmd), 0);
    ck_assert_int_eq(host_submit_wait(&h, cmd), 0);
    ck_assert_uint_eq(h.messages, 0);
    host_vk_destroy(&h);
    free(got);
    free(want);
    free(in.pixels);
}
END_TEST

/* What the host enabled is what the library uses, and what is missing
 * is named. */
START_TEST(adoption_checks)
{
    input in;
    input_load(&in);
    host_vk h;
    char err[512];
    ck_assert_msg(host_vk_create(&h, 1, err, sizeof err) == 0, "%s", err);
    log_count lc = {0};
    vitvk_context *ctx = NULL;

    vitvk_context_desc d = {.log = count_log, .log_user = &lc};
    host_vk_adopt(&h, &d);
    d.vk_api_version = VK_API_VERSION_1_0;
    ck_assert_int_eq(vitvk_context_create(&d, &ctx, err, sizeof err), VITVK_ERR_UNSUPPORTED);
    ck_assert_ptr_null(ctx);
    ck_assert_msg(strstr(err, "1.1") && !strchr(err, '\n'), "%s", err);
    /* A queue family that does not exist, and an extension list without
     * what the device requires: every missing piece in one line. */
    host_vk_adopt(&h, &d);
    d.vk_queue_family = 99;
    ck_assert_int_eq(vitvk_context_create(&d, &ctx, err, sizeof err), VITVK_ERR_UNSUPPORTED);
    ck_assert_ptr_null(ctx);
    ck_assert_msg(strstr(err, "compute queue") && strstr(err, "99") && !strchr(err, '\n'), "%s", err);

    /* 16-bit storage not listed: fp16 is refused at load, naming it. */
    VkPhysicalDevice16BitStorageFeatures s16 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES};
    VkPhysicalDeviceFeatures2 f2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = &s16};
    host_vk_adopt(&h, &d);
    d.vk_storage16_enabled = 0;
    d.vk_enabled_features = &f2;
    lc.info_text[0] = 0;
    ck_assert_msg(vitvk_context_create(&d, &ctx, err, sizeof err) == VITVK_OK, "%s", err);
    if (h.storage16) /* the device has it, the host left it off: one INFO line says so */
        ck_assert_msg(strstr(lc.info_text, "did not enable storageBuffer16BitAccess"), "%s", lc.info_text);
    vitvk_device_info di;
    vitvk_context_device_info(ctx, &di);
    ck_assert_int_eq(di.storage16, 0);
    vitvk_model *m = NULL;
    vitvk_model_desc md = {.precision = VITVK_PRECISION_FP16};
    ck_assert_int_eq(vitvk_model_load(ctx, in.model, &md, &m), VITVK_ERR_UNSUPPORTED);
    ck_assert_msg(strstr(vitvk_context_last_error(ctx), "storageBuffer16BitAccess"), "%s",
                  vitvk_context_last_error(ctx));
    vitvk_context_destroy(ctx);

    /* Listed in the features chain (as the host created its device): fp16 runs. */
    if (h.storage16) {
        s16.storageBuffer16BitAccess = VK_TRUE;
        ck_assert_msg(vitvk_context_create(&d, &ctx, err, sizeof err) == VITVK_OK, "%s", err);
        ck_assert_msg(vitvk_model_load(ctx, in.model, &md, &m) == VITVK_OK, "%s", vitvk_context_last_error(ctx));
        vitvk_model_info info;
        vitvk_model_get_info(m, &info);
        ck_assert_int_eq(info.precision, VITVK_PRECISION_FP16);
        vitvk_model_destroy(m);
        vitvk_context_destroy(ctx);
    } else {
        test_skip_fp16(true, "adopted_device: fp16 with storageBuffer16BitAccess enabled by the host");
    }
    ck_assert_uint_eq(h.messages, 0);
    host_vk_destroy(&h);
    free(in.pixels);
}
END_TEST

START_TEST(budget)
{
    input in;
    input_load(&in);
    host_vk h;
    char err[512];
    ck_assert_msg(host_vk_create(&h, 1, err, sizeof err) == 0, "%s", err);
    log_count lc = {0};
    vitvk_context_desc d = {.log = count_log, .log_user = &lc, .device_memory_budget = 1u << 20};
    host_vk_adopt(&h, &d);
    vitvk_context *ctx;
    ck_assert_msg(vitvk_context_create(&d, &ctx, err, sizeof err) == VITVK_OK, "%s", err);

    /* 1 MiB: the weights alone need more. */
    vitvk_model *m = NULL;
    vitvk_model_desc md = {.precision = VITVK_PRECISION_FP32};
    ck_assert_int_eq(vitvk_model_load(ctx, in.model, &md, &m), VITVK_ERR_OUT_OF_DEVICE_MEMORY);
    ck_assert_ptr_null(m);
    const char *msg = vitvk_context_last_error(ctx);
    ck_assert_msg(strstr(msg, "budget") && !strchr(msg, '\n'), "message: %s", msg);
    ck_assert_uint_eq(lc.errors, 1);
    vitvk_memory_info mi;
    vitvk_context_memory(ctx, &mi);
    ck_assert_uint_eq(mi.device_bytes, 0);
    ck_assert_uint_eq(mi.budget_bytes, 1u << 20);
    vitvk_context_destroy(ctx);

    /* Room for the weights but not the activations: the plan fails, the
     * model stays usable. */
    uint64_t weights;
    {
        vitvk_context_desc free_desc = {0};
        host_vk_adopt(&h, &free_desc);
        vitvk_context *c2;
        ck_assert_msg(vitvk_context_create(&free_desc, &c2, err, sizeof err) == VITVK_OK, "%s", err);
        ck_assert_int_eq(vitvk_model_load(c2, in.model, &md, &m), VITVK_OK);
        vitvk_context_memory(c2, &mi);
        weights = mi.device_bytes;
        vitvk_model_info info;
        vitvk_model_get_info(m, &info);
        ck_assert_uint_eq(info.weight_bytes, weights);
        vitvk_model_destroy(m);
        vitvk_context_memory(c2, &mi);
        ck_assert_uint_eq(mi.device_bytes, 0);
        vitvk_context_destroy(c2);
    }
    d.device_memory_budget = weights + 4096;
    ck_assert_msg(vitvk_context_create(&d, &ctx, err, sizeof err) == VITVK_OK, "%s", err);
    ck_assert_int_eq(vitvk_model_load(ctx, in.model, &md, &m), VITVK_OK);
    vitvk_plan *p = NULL;
    vitvk_plan_desc pd = {.batch = in.n};
    ck_assert_int_eq(vitvk_plan_create(m, &pd, &p), VITVK_ERR_OUT_OF_DEVICE_MEMORY);
    ck_assert_ptr_null(p);
    vitvk_context_memory(ctx, &mi);
    ck_assert_uint_eq(mi.device_bytes, weights);
    vitvk_model_destroy(m);
    vitvk_context_destroy(ctx);

    /* The host's device is still usable, by the host and by the library. */
    VkCommandBuffer cmd;
    ck_assert_int_eq(host_begin(&h, &cmd), 0);
    ck_assert_int_eq(host_submit_wait(&h, cmd), 0);
    d.device_memory_budget = 0;
    ck_assert_msg(vitvk_context_create(&d, &ctx, err, sizeof err) == VITVK_OK, "%s", err);
    free(run_logits(ctx, &in));
    vitvk_context_destroy(ctx);
    ck_assert_uint_eq(h.messages, 0);
    ck_assert_uint_eq(lc.validation, 0);
    host_vk_destroy(&h);
    free(in.pixels);
}
END_TEST

START_TEST(async_in_flight)
{
    input in;
    input_load(&in);
    log_count lc = {0};
    vitvk_context_desc d = {.enable_validation = test_validation(), .log = count_log, .log_user = &lc};
    vitvk_context *ctx;
    char err[512];
    ck_assert_msg(vitvk_context_create(&d, &ctx, err, sizeof err) == VITVK_OK, "%s", err);
    vitvk_model *m;
    vitvk_model_desc md = {.precision = VITVK_PRECISION_FP32};
    ck_assert_int_eq(vitvk_model_load(ctx, in.model, &md, &m), VITVK_OK);
    vitvk_model_info info;
    vitvk_model_get_info(m, &info);
    size_t per = (size_t)info.channels * info.image_height * info.image_width;

    /* The three batches: image 0, image 1, both. */
    const float *px[3] = {in.pixels, in.pixels + per, in.pixels};
    uint32_t nn[3] = {1, 1, 2};
    float *want[3], *got[3];
    vitvk_plan *sync;
    vitvk_plan_desc one = {.batch = 2};
    ck_assert_int_eq(vitvk_plan_create(m, &one, &sync), VITVK_OK);
    for (int i = 0; i < 3; i++) {
        want[i] = malloc((size_t)2 * in.labels * sizeof(float));
        got[i] = malloc((size_t)2 * in.labels * sizeof(float));
        ck_assert_int_eq(vitvk_plan_run(sync, px[i], nn[i], want[i], NULL), VITVK_OK);
    }
    uint64_t single = vitvk_plan_activation_bytes(sync);
    vitvk_plan_destroy(sync);

    vitvk_plan *p;
    vitvk_plan_desc pd = {.batch = 2, .in_flight = 3};
    ck_assert_int_eq(vitvk_plan_create(m, &pd, &p), VITVK_OK);
    /* Three batches' buffers, one set of weights, and nothing else. */
    vitvk_memory_info mem;
    vitvk_context_memory(ctx, &mem);
    ck_assert_uint_eq(vitvk_plan_activation_bytes(p), 3 * single);
    /* Where all memory is device-local (lavapipe, UMA) that is all of it;
     * on a discrete GPU the host-visible staging is not device memory
     * (vitvk_context_memory says so), so the sum is only a bound. */
    vitvk_device_info di;
    vitvk_context_device_info(ctx, &di);
    if (di.type == VITVK_DEVICE_DISCRETE_GPU) {
        ck_assert_uint_le(mem.device_bytes, info.weight_bytes + vitvk_plan_activation_bytes(p));
        ck_assert_uint_gt(mem.device_bytes, info.weight_bytes);
    } else {
        ck_assert_uint_eq(mem.device_bytes, info.weight_bytes + vitvk_plan_activation_bytes(p));
    }
    uint64_t t[3], extra;
    for (int i = 0; i < 3; i++)
        ck_assert_msg(vitvk_plan_submit(p, px[i], nn[i], &t[i]) == VITVK_OK, "%s", vitvk_context_last_error(ctx));
    ck_assert(t[0] == 1 && t[1] == 2 && t[2] == 3);
    ck_assert_int_eq(vitvk_plan_submit(p, px[0], 1, &extra), VITVK_ERR_LIMIT);
    ck_assert_int_eq(vitvk_plan_run(p, px[0], 1, got[0], NULL), VITVK_ERR_INVALID_ARGUMENT);
    vitvk_status ps = vitvk_plan_poll(p, t[1]);
    ck_assert(ps == VITVK_OK || ps == VITVK_NOT_READY);
    /* Collected out of order. */
    int order[3] = {1, 2, 0};
    for (int k = 0; k < 3; k++) {
        int i = order[k];
        ck_assert_msg(vitvk_plan_wait(p, t[i], UINT64_MAX, got[i], NULL) == VITVK_OK, "%s",
                      vitvk_context_last_error(ctx));
        ck_assert_msg(memcmp(got[i], want[i], (size_t)nn[i] * in.labels * sizeof(float)) == 0,
                      "batch %d differs from vitvk_plan_run", i);
    }
    ck_assert_int_eq(vitvk_plan_wait(p, t[0], 0, got[0], NULL), VITVK_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(vitvk_plan_poll(p, 99), VITVK_ERR_INVALID_ARGUMENT);
    /* All collected: the slots take new batches, and run works again. */
    ck_assert_int_eq(vitvk_plan_submit(p, px[2], 2, &extra), VITVK_OK);
    ck_assert_int_eq(extra, 4);
    ck_assert_int_eq(vitvk_plan_wait(p, extra, UINT64_MAX, got[2], NULL), VITVK_OK);
    ck_assert(memcmp(got[2], want[2], (size_t)2 * in.labels * sizeof(float)) == 0);
    ck_assert_int_eq(vitvk_plan_run(p, px[0], 1, got[0], NULL), VITVK_OK);
    /* Destroying a plan with a batch still queued waits for it. */
    ck_assert_int_eq(vitvk_plan_submit(p, px[1], 1, &extra), VITVK_OK);
    vitvk_plan_destroy(p);
    for (int i = 0; i < 3; i++)
        free(want[i]), free(got[i]);
    vitvk_model_destroy(m);
    vitvk_context_destroy(ctx);
    ck_assert_uint_eq(lc.validation, 0);
    free(in.pixels);
}
END_TEST

/* VkAllocationCallbacks that count. The Vulkan implementation calls them
 * from its own threads too: the counters are only read after everything
 * is destroyed, and updated under a mutex. */
typedef struct vk_count {
    pthread_mutex_t lock;
    long live, total;
} vk_count;

/* Each block is preceded by a header (at least 16 bytes, a multiple of
 * the alignment) whose last two words hold the size and the header size,
 * so that reallocation knows how much to copy. */
static void *VKAPI_PTR cb_alloc(void *user, size_t size, size_t align, VkSystemAllocationScope scope)
{
    (void)scope;
    vk_count *c = user;
    size_t hdr = align < 16 ? 16 : align;
    void *base = NULL;
    if (posix_memalign(&base, hdr, hdr + (size ? size : 1)) != 0)
        return NULL;
    char *mem = (char *)base + hdr;
    ((size_t *)mem)[-2] = size;
    ((size_t *)mem)[-1] = hdr;
    pthread_mutex_lock(&c->lock);
    c->live++;
    c->total++;
    pthread_mutex_unlock(&c->lock);
    return mem;
}

static void VKAPI_PTR cb_free(void *user, void *mem)
{
    vk_count *c = user;
    if (!mem)
        return;
    free((char *)mem - ((size_t *)mem)[-1]);
    pthread_mutex_lock(&c->lock);
    c->live--;
    pthread_mutex_unlock(&c->lock);
}

static void *VKAPI_PTR cb_realloc(void *user, void *orig, size_t size, size_t align, VkSystemAllocationScope scope)
{
    if (!orig)
        return cb_alloc(user, size, align, scope);
    if (size == 0) {
        cb_free(user, orig);
        return NULL;
    }
    void *n = cb_alloc(user, size, align, scope);
    if (n) {
        size_t old = ((size_t *)orig)[-2];
        memcpy(n, orig, old < size ? old : size);
        cb_free(user, orig);
    }
    return n;
}

START_TEST(allocation_callbacks_and_log)
{
    input in;
    input_load(&in);
    float *want = own_context_logits(&in);
    vk_count c = {.lock = PTHREAD_MUTEX_INITIALIZER};
    VkAllocationCallbacks cb = {.pUserData = &c, .pfnAllocation = cb_alloc, .pfnReallocation = cb_realloc,
                                .pfnFree = cb_free};
    log_count lc = {0};
    vitvk_context_desc d = {.log = count_log, .log_user = &lc, .vk_allocation_callbacks = &cb};
    vitvk_context *ctx;
    char err[512];
    ck_assert_msg(vitvk_context_create(&d, &ctx, err, sizeof err) == VITVK_OK, "%s", err);
    float *got = run_logits(ctx, &in);
    ck_assert(memcmp(got, want, (size_t)in.n * in.labels * sizeof(float)) == 0);
    /* An error reaches the log as one ERROR message equal to last_error. */
    vitvk_model *m = NULL;
    ck_assert_int_eq(vitvk_model_load(ctx, "/nonexistent/model", NULL, &m), VITVK_ERR_IO);
    ck_assert_uint_eq(lc.errors, 1);
    ck_assert_str_eq(lc.last_error, vitvk_context_last_error(ctx));
    vitvk_context_destroy(ctx);
    ck_assert_msg(c.total > 0, "the allocation callbacks were never called");
    ck_assert_msg(c.live == 0, "%ld allocations made through the callbacks were not freed", c.live);
    ck_assert_msg(lc.info >= 2, "context creation and model load log INFO lines (%u seen)", lc.info);
    free(got);
    free(want);
    free(in.pixels);
}
END_TEST

/* The host allocator: the same counting blocks, and a budget of calls
 * after which it fails (-1: never). */
typedef struct host_count {
    vk_count c;
    long fail_after;
} host_count;

static void *ha_alloc(void *user, size_t size, size_t align)
{
    host_count *h = user;
    if (h->fail_after >= 0 && h->c.total >= h->fail_after)
        return NULL;
    return cb_alloc(&h->c, size, align, VK_SYSTEM_ALLOCATION_SCOPE_OBJECT);
}

static void *ha_realloc(void *user, void *ptr, size_t size, size_t align)
{
    host_count *h = user;
    if (h->fail_after >= 0 && h->c.total >= h->fail_after)
        return NULL;
    return cb_realloc(&h->c, ptr, size, align, VK_SYSTEM_ALLOCATION_SCOPE_OBJECT);
}

static void ha_free(void *user, void *ptr)
{
    host_count *h = user;
    cb_free(&h->c, ptr);
}

/* Context, model, plan with two batches in flight, a run and two
 * submissions; the status of the first call that fails. */
static vitvk_status host_alloc_session(const input *in, host_count *h, float *logits, char *err, size_t err_size)
{
    vitvk_allocator a = {.alloc = ha_alloc, .realloc = ha_realloc, .free = ha_free, .user = h};
    vitvk_context_desc d = {.enable_validation = test_validation(), .host_allocator = &a};
    vitvk_context *ctx = NULL;
    vitvk_model *m = NULL;
    vitvk_plan *p = NULL;
    vitvk_status st = vitvk_context_create(&d, &ctx, err, err_size);
    if (st == VITVK_OK) {
        vitvk_model_desc md = {.precision = VITVK_PRECISION_FP32};
        st = vitvk_model_load(ctx, in->model, &md, &m);
    }
    vitvk_plan_desc pd = {.batch = in->n, .in_flight = 2};
    if (st == VITVK_OK)
        st = vitvk_plan_create(m, &pd, &p);
    uint64_t t[2];
    for (int i = 0; i < 2 && st == VITVK_OK; i++)
        st = vitvk_plan_submit(p, in->pixels, in->n, &t[i]);
    for (int i = 0; i < 2 && st == VITVK_OK; i++)
        st = vitvk_plan_wait(p, t[i], UINT64_MAX, logits, NULL);
    if (st == VITVK_OK)
        st = vitvk_plan_run(p, in->pixels, in->n, logits, NULL);
    if (st != VITVK_OK && ctx)
        snprintf(err, err_size, "%s", vitvk_context_last_error(ctx));
    vitvk_plan_destroy(p);
    vitvk_model_destroy(m);
    if (ctx) {
        ck_assert_uint_eq(vitvk_context_validation_errors(ctx), 0);
        vitvk_context_destroy(ctx);
    }
    return st;
}

START_TEST(host_allocator)
{
    input in;
    input_load(&in);
    float *want = own_context_logits(&in);
    size_t bytes = (size_t)in.n * in.labels * sizeof(float);
    float *got = malloc(bytes);
    char err[512];
    host_count h = {.c = {.lock = PTHREAD_MUTEX_INITIALIZER}, .fail_after = -1};
    ck_assert_msg(host_alloc_session(&in, &h, got, err, sizeof err) == VITVK_OK, "%s", err);
    ck_assert(memcmp(got, want, bytes) == 0);
    printf("host allocator: %ld blocks for a context, model, plan (2 in flight) and 3 batches\n", h.c.total);
    ck_assert_msg(h.c.total > 10, "only %ld host allocations went through the allocator", h.c.total);
    ck_assert_msg(h.c.live == 0, "%ld blocks from the host allocator were not freed", h.c.live);

    /* The allocator failing at a point along the way: a clean error and
     * every block it gave back freed, wherever that point is. */
    long total = h.c.total;
    long points[] = {0, 1, 2, total / 8, total / 4, total / 2, total - 1};
    for (size_t i = 0; i < sizeof points / sizeof *points; i++) {
        host_count f = {.c = {.lock = PTHREAD_MUTEX_INITIALIZER}, .fail_after = points[i]};
        err[0] = 0;
        vitvk_status st = host_alloc_session(&in, &f, got, err, sizeof err);
        ck_assert_msg(st == VITVK_ERR_OUT_OF_HOST_MEMORY, "failing after %ld blocks: %s (%s)", points[i],
                      vitvk_status_string(st), err);
        ck_assert_msg(f.c.live == 0, "failing after %ld blocks: %ld not freed", points[i], f.c.live);
    }

    /* Half an allocator is refused. */
    vitvk_allocator half = {.alloc = ha_alloc, .user = &h};
    vitvk_context_desc d = {.host_allocator = &half};
    vitvk_context *ctx = (vitvk_context *)&d;
    ck_assert_int_eq(vitvk_context_create(&d, &ctx, err, sizeof err), VITVK_ERR_INVALID_ARGUMENT);
    ck_assert_ptr_null(ctx);
    ck_assert_msg(strstr(err, "realloc"), "%s", err);
    free(got);
    free(want);
    free(in.pixels);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("host");
    TCase *tc = tcase_create("host");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, two_threads);
    tcase_add_test(tc, adopted_device);
    tcase_add_test(tc, adoption_checks);
    tcase_add_test(tc, budget);
    tcase_add_test(tc, async_in_flight);
    tcase_add_test(tc, allocation_callbacks_and_log);
    tcase_add_test(tc, host_allocator);
    suite_add_tcase(s, tc);
    return run_host_suite(s, "test_host");
}
