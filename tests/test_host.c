/* test_host.c - the library as a guest in a host program:
 *   - two contexts on two threads and one adopted context (a device the
 *     test creates itself) give logits bitwise identical to a context the
 *     library creates, which in turn agree with transformers' logits;
 *   - adoption checks what the host enabled and names what is missing;
 *   - a device-memory budget smaller than the model fails cleanly (nothing
 *     left allocated, the ASan build checks for leaks) and the host's
 *     device still runs its own work and a load within budget afterwards;
 *   - asynchronous submit / poll / wait with several batches in flight;
 *   - VkAllocationCallbacks and the host allocator see every allocation,
 *     each freed by the time the context is destroyed;
 *   - the log callback receives errors, load information and the
 *     adoption report. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* nanosleep, RTLD_NODELETE */
#endif
#include <check.h>
#include <dlfcn.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "host_vk.h"
#include "safetensors.h"
#include "vitvk.h"

#define TOL_FP32 1e-3 /* the bound test_e2e uses against transformers */

static const char *data_dir(void)
{
    const char *d = getenv("VITVK_TEST_DATA");
    return d ? d : "tests/data";
}

static void model_dir(char *out, size_t size)
{
    snprintf(out, size, "%s/fixtures/vit-tiny", data_dir());
}

/* ---- the fixture's inputs and transformers' logits ---- */

typedef struct reference {
    float *pixels;  /* N images */
    float *logits;  /* N x labels, from transformers */
    uint32_t n, labels;
    size_t image_floats;
} reference;

static float *read_f32(const st_archive *a, const char *name, const st_tensor **t)
{
    char err[512];
    *t = st_find(a, name);
    ck_assert_msg(*t != NULL, "reference lacks %s", name);
    float *v = malloc((size_t)(*t)->numel * sizeof *v);
    ck_assert_msg(st_to_f32(*t, v, err, sizeof err) == VITVK_OK, "%s", err);
    return v;
}

static void reference_open(reference *r)
{
    char dir[1024], path[1100], err[512];
    model_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/reference.safetensors", dir);
    st_archive *a;
    ck_assert_msg(st_open_file(path, &a, err, sizeof err) == VITVK_OK, "%s", err);
    const st_tensor *t;
    r->pixels = read_f32(a, "pixel_values", &t);
    r->n = (uint32_t)t->shape[0];
    r->image_floats = (size_t)(t->numel / t->shape[0]);
    r->logits = read_f32(a, "logits", &t);
    r->labels = (uint32_t)(t->numel / r->n);
    st_close(a);
}

static void reference_close(reference *r)
{
    free(r->pixels);
    free(r->logits);
}

/* ---- running the model on a context ---- */

/* Loads the fixture in fp32, runs the reference images once, returns the
 * status of the first failing call (message in err) and the logits. */
static vitvk_status run_on(vitvk_context *ctx, const reference *r, float *logits, char *err, size_t err_size)
{
    char dir[1024];
    model_dir(dir, sizeof dir);
    vitvk_model_desc md = {.precision = VITVK_PRECISION_FP32};
    vitvk_model *model = NULL;
    vitvk_plan *plan = NULL;
    vitvk_status st = vitvk_model_load(ctx, dir, &md, &model);
    if (st == VITVK_OK) {
        vitvk_plan_desc pd = {.batch = r->n};
        st = vitvk_plan_create(model, &pd, &plan);
    }
    if (st == VITVK_OK)
        st = vitvk_plan_run(plan, r->pixels, r->n, logits, NULL);
    if (st != VITVK_OK)
        snprintf(err, err_size, "%s", vitvk_context_last_error(ctx));
    vitvk_plan_destroy(plan);
    vitvk_model_destroy(model);
    return st;
}

typedef struct log_record {
    pthread_mutex_t lock;
    unsigned errors, warnings, infos, validation;
    char text[8192]; /* every message, one a line */
} log_record;

static void log_record_init(log_record *l)
{
    memset(l, 0, sizeof *l);
    pthread_mutex_init(&l->lock, NULL);
}

static void on_log(void *user, vitvk_log_level level, const char *msg)
{
    log_record *l = user;
    pthread_mutex_lock(&l->lock);
    if (level == VITVK_LOG_ERROR)
        l->errors++;
    else if (level == VITVK_LOG_WARNING)
        l->warnings++;
    else if (level == VITVK_LOG_INFO)
        l->infos++;
    if (strncmp(msg, "validation:", 11) == 0) {
        l->validation++;
        fprintf(stderr, "%s\n", msg);
    }
    size_t len = strlen(l->text);
    snprintf(l->text + len, sizeof l->text - len, "%s\n", msg);
    pthread_mutex_unlock(&l->lock);
}

/* A context the library makes, validation on. */
static vitvk_context *own_context(vitvk_context_desc *d)
{
    char err[1024];
    d->enable_validation = 1;
    vitvk_context *ctx;
    ck_assert_msg(vitvk_context_create(d, &ctx, err, sizeof err) == VITVK_OK, "%s", err);
    return ctx;
}

static void own_run(const reference *r, float *logits)
{
    log_record log;
    log_record_init(&log);
    vitvk_context_desc d = {.log = on_log, .log_user = &log};
    vitvk_context *ctx = own_context(&d);
    char err[1024];
    ck_assert_msg(run_on(ctx, r, logits, err, sizeof err) == VITVK_OK, "%s", err);
    ck_assert_uint_eq(vitvk_context_validation_errors(ctx), 0);
    vitvk_context_destroy(ctx);
}

/* ---- two contexts on two threads, one adopted ---- */

typedef struct thread_job {
    const reference *r;
    float *logits;
    vitvk_status st;
    uint32_t validation;
    char err[1024];
} thread_job;

static void *thread_main(void *arg)
{
    thread_job *j = arg;
    vitvk_context_desc d = {.enable_validation = 0};
    vitvk_context *ctx;
    j->st = vitvk_context_create(&d, &ctx, j->err, sizeof j->err);
    if (j->st != VITVK_OK)
        return NULL;
    j->st = run_on(ctx, j->r, j->logits, j->err, sizeof j->err);
    j->validation = vitvk_context_validation_errors(ctx);
    vitvk_context_destroy(ctx);
    return NULL;
}

static void assert_same_bits(const float *a, const float *b, size_t n, const char *what)
{
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(memcmp(&a[i], &b[i], sizeof(float)) == 0, "%s: logit %zu is %.9g, own context %.9g", what, i,
                      (double)a[i], (double)b[i]);
}

START_TEST(threads_and_adopted_match_own_context)
{
    /* The host's device first, as in a game that loads vitvk later (and so
     * that the validation layer, with synchronisation validation, is loaded
     * once for the whole test). */
    host_vk h;
    char err[1024];
    ck_assert_msg(host_vk_create(&h, 1, err, sizeof err) == 0, "%s", err);
    reference r;
    reference_open(&r);
    size_t nl = (size_t)r.n * r.labels;
    float *own = calloc(nl, sizeof(float));
    own_run(&r, own);
    double worst = 0;
    for (size_t i = 0; i < nl; i++)
        worst = fmax(worst, fabs((double)own[i] - r.logits[i]));
    printf("own context vs transformers: max|diff| %.3g\n", worst);
    ck_assert_msg(worst <= TOL_FP32, "own context: logits differ from transformers' by %g", worst);

    thread_job jobs[2];
    pthread_t threads[2];
    for (int i = 0; i < 2; i++) {
        jobs[i] = (thread_job){.r = &r, .logits = calloc(nl, sizeof(float))};
        ck_assert_int_eq(pthread_create(&threads[i], NULL, thread_main, &jobs[i]), 0);
    }
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(pthread_join(threads[i], NULL), 0);
        ck_assert_msg(jobs[i].st == VITVK_OK, "thread %d: %s", i, jobs[i].err);
        ck_assert_uint_eq(jobs[i].validation, 0);
        assert_same_bits(jobs[i].logits, own, nl, i ? "thread 1" : "thread 0");
        free(jobs[i].logits);
    }

    vitvk_context_desc d = {0};
    host_vk_adopt(&h, &d);
    /* What host_vk_create enabled, given the way a renderer has it. */
    VkPhysicalDevice16BitStorageFeatures s16 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES,
                                                .storageBuffer16BitAccess = (VkBool32)h.storage16};
    const char *none[1] = {NULL};
    d.vk_enabled_features = &s16;
    d.vk_enabled_extensions = none;
    d.vk_enabled_extension_count = 0;
    vitvk_context *ctx;
    ck_assert_msg(vitvk_context_create(&d, &ctx, err, sizeof err) == VITVK_OK, "%s", err);
    float *adopted = calloc(nl, sizeof(float));
    ck_assert_msg(run_on(ctx, &r, adopted, err, sizeof err) == VITVK_OK, "%s", err);
    assert_same_bits(adopted, own, nl, "adopted context");
    vitvk_context_destroy(ctx);
    host_vk_destroy(&h);
    ck_assert_msg(h.messages == 0, "%u validation messages on the host's device", h.messages);
    free(adopted);
    free(own);
    reference_close(&r);
}
END_TEST

/* ---- adoption reports what is missing ---- */

START_TEST(adoption_names_what_is_missing)
{
    host_vk h;
    char err[1024];
    ck_assert_msg(host_vk_create(&h, 1, err, sizeof err) == 0, "%s", err);
    vitvk_context_desc d = {0};
    host_vk_adopt(&h, &d);
    d.vk_api_version = VK_API_VERSION_1_0;
    d.vk_queue_family = 99;
    vitvk_context *ctx = (vitvk_context *)&d; /* must come back NULL */
    ck_assert_int_eq(vitvk_context_create(&d, &ctx, err, sizeof err), VITVK_ERR_UNSUPPORTED);
    ck_assert_ptr_null(ctx);
    printf("missing pieces: %s\n", err);
    ck_assert_msg(strstr(err, "Vulkan 1.1") && strstr(err, "compute queue"), "%s", err);
    ck_assert_ptr_null(strchr(err, '\n'));

    /* 16-bit storage left off by the host: reported, and fp16 refused
     * with the feature named; fp32 still works. */
    host_vk_adopt(&h, &d);
    VkPhysicalDeviceFeatures2 f2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};
    d.vk_enabled_features = &f2;
    log_record log;
    log_record_init(&log);
    d.log = on_log;
    d.log_user = &log;
    ck_assert_msg(vitvk_context_create(&d, &ctx, err, sizeof err) == VITVK_OK, "%s", err);
    vitvk_device_info info;
    vitvk_context_device_info(ctx, &info);
    ck_assert_int_eq(info.storage16, 0);
    if (h.storage16) {
        ck_assert_msg(strstr(log.text, "did not enable storageBuffer16BitAccess"), "%s", log.text);
        char dir[1024];
        model_dir(dir, sizeof dir);
        vitvk_model_desc md = {.precision = VITVK_PRECISION_FP16};
        vitvk_model *m = NULL;
        ck_assert_int_eq(vitvk_model_load(ctx, dir, &md, &m), VITVK_ERR_UNSUPPORTED);
        ck_assert_ptr_null(m);
        ck_assert_msg(strstr(vitvk_context_last_error(ctx), "storageBuffer16BitAccess"), "%s",
                      vitvk_context_last_error(ctx));
    }
    vitvk_context_destroy(ctx);
    host_vk_destroy(&h);
    ck_assert_msg(h.messages == 0, "%u validation messages on the host's device", h.messages);
}
END_TEST

/* ---- device-memory budget ---- */

/* Plain host work on its own device: fill a buffer, read it back. */
static void host_fill(host_vk *h)
{
    host_buffer b;
    ck_assert_int_eq(host_buffer_create(h, 4096, VK_BUFFER_USAGE_TRANSFER_DST_BIT, &b), 0);
    VkCommandBuffer cmd;
    ck_assert_int_eq(host_begin(h, &cmd), 0);
    vkCmdFillBuffer(cmd, b.buffer, 0, VK_WHOLE_SIZE, 0x5eed1234u);
    ck_assert_int_eq(host_submit_wait(h, cmd), 0);
    const uint32_t *w = b.mapped;
    for (int i = 0; i < 1024; i++)
        ck_assert_uint_eq(w[i], 0x5eed1234u);
    host_buffer_destroy(h, &b);
}

START_TEST(budget_smaller_than_the_model)
{
    host_vk h;
    char err[1024], dir[1024];
    model_dir(dir, sizeof dir);
    ck_assert_msg(host_vk_create(&h, 1, err, sizeof err) == 0, "%s", err);
    reference r;
    reference_open(&r);
    size_t nl = (size_t)r.n * r.labels;
    float *own = calloc(nl, sizeof(float));
    own_run(&r, own);
    vitvk_context_desc d = {0};
    host_vk_adopt(&h, &d);
    log_record log;
    log_record_init(&log);
    d.log = on_log;
    d.log_user = &log;
    d.device_memory_budget = 1u << 20; /* the fixture's fp32 weights are 4 MiB */
    vitvk_context *ctx;
    ck_assert_msg(vitvk_context_create(&d, &ctx, err, sizeof err) == VITVK_OK, "%s", err);
    vitvk_model_desc md = {.precision = VITVK_PRECISION_FP32};
    vitvk_model *model = (vitvk_model *)&d;
    ck_assert_int_eq(vitvk_model_load(ctx, dir, &md, &model), VITVK_ERR_OUT_OF_DEVICE_MEMORY);
    ck_assert_ptr_null(model);
    const char *msg = vitvk_context_last_error(ctx);
    printf("budget 1 MiB: %s\n", msg);
    ck_assert_msg(strstr(msg, "budget") && strstr(msg, "MiB"), "%s", msg);
    ck_assert_msg(strstr(log.text, msg), "the error did not reach the log: %s", log.text);
    vitvk_memory_info mi;
    vitvk_context_memory(ctx, &mi);
    ck_assert_uint_eq(mi.device_bytes, 0);
    ck_assert_uint_eq(mi.budget_bytes, 1u << 20);
    vitvk_context_destroy(ctx);
    host_fill(&h);

    /* Enough for the weights (measured on a context of the library's own),
     * not for the plan. */
    vitvk_context_desc d2 = {0};
    ctx = own_context(&d2);
    ck_assert_int_eq(vitvk_model_load(ctx, dir, &md, &model), VITVK_OK);
    vitvk_model_info info;
    vitvk_model_get_info(model, &info);
    vitvk_context_memory(ctx, &mi);
    ck_assert_uint_eq(mi.device_bytes, info.weight_bytes);
    vitvk_model_destroy(model);
    vitvk_context_destroy(ctx);

    d.device_memory_budget = info.weight_bytes + 4096;
    ck_assert_msg(vitvk_context_create(&d, &ctx, err, sizeof err) == VITVK_OK, "%s", err);
    ck_assert_int_eq(vitvk_model_load(ctx, dir, &md, &model), VITVK_OK);
    vitvk_plan_desc pd = {.batch = r.n};
    vitvk_plan *plan = (vitvk_plan *)&d;
    ck_assert_int_eq(vitvk_plan_create(model, &pd, &plan), VITVK_ERR_OUT_OF_DEVICE_MEMORY);
    ck_assert_ptr_null(plan);
    printf("budget weights + 4 KiB: %s\n", vitvk_context_last_error(ctx));
    vitvk_context_memory(ctx, &mi);
    ck_assert_uint_eq(mi.device_bytes, info.weight_bytes);
    vitvk_model_destroy(model);
    vitvk_context_memory(ctx, &mi);
    ck_assert_uint_eq(mi.device_bytes, 0);
    vitvk_context_destroy(ctx);
    host_fill(&h);

    /* A budget the model fits in: the same logits as the library's own
     * device, on the device that hit the budget twice. */
    d.device_memory_budget = 64u << 20;
    ck_assert_msg(vitvk_context_create(&d, &ctx, err, sizeof err) == VITVK_OK, "%s", err);
    float *got = calloc(nl, sizeof(float));
    ck_assert_msg(run_on(ctx, &r, got, err, sizeof err) == VITVK_OK, "%s", err);
    assert_same_bits(got, own, nl, "adopted context after the budget errors");
    vitvk_context_destroy(ctx);
    host_fill(&h);
    host_vk_destroy(&h);
    ck_assert_msg(h.messages == 0, "%u validation messages on the host's device", h.messages);
    free(got);
    free(own);
    reference_close(&r);
}
END_TEST

/* ---- asynchronous runs ---- */

START_TEST(async_batches_in_flight)
{
    reference r;
    reference_open(&r);
    ck_assert_uint_ge(r.n, 2);
    uint32_t L = r.labels;
    size_t img = r.image_floats;
    /* Batch A: the reference images; batch B: them in reverse order. */
    float *a = r.pixels;
    float *b = malloc((size_t)r.n * img * sizeof(float));
    for (uint32_t i = 0; i < r.n; i++)
        memcpy(b + (size_t)i * img, a + (size_t)(r.n - 1 - i) * img, img * sizeof(float));

    log_record log;
    log_record_init(&log);
    vitvk_context_desc d = {.log = on_log, .log_user = &log};
    vitvk_context *ctx = own_context(&d);
    char dir[1024];
    model_dir(dir, sizeof dir);
    vitvk_model_desc md = {.precision = VITVK_PRECISION_FP32};
    vitvk_model *model;
    ck_assert_int_eq(vitvk_model_load(ctx, dir, &md, &model), VITVK_OK);
    ck_assert_msg(strstr(log.text, "MiB of weights"), "no load information in the log: %s", log.text);

    /* Synchronous results first, on a plan of its own. */
    vitvk_plan_desc pd = {.batch = r.n};
    vitvk_plan *sync;
    ck_assert_int_eq(vitvk_plan_create(model, &pd, &sync), VITVK_OK);
    size_t nl = (size_t)r.n * L;
    float *want_a = malloc(nl * sizeof(float)), *want_b = malloc(nl * sizeof(float));
    ck_assert_int_eq(vitvk_plan_run(sync, a, r.n, want_a, NULL), VITVK_OK);
    ck_assert_int_eq(vitvk_plan_run(sync, b, r.n, want_b, NULL), VITVK_OK);
    uint64_t single = vitvk_plan_activation_bytes(sync);
    for (uint32_t i = 0; i < r.n; i++) /* B is A reversed, image by image */
        assert_same_bits(want_b + (size_t)i * L, want_a + (size_t)(r.n - 1 - i) * L, L, "reversed batch");
    vitvk_plan_destroy(sync);

    pd.in_flight = 3;
    vitvk_plan *plan;
    ck_assert_int_eq(vitvk_plan_create(model, &pd, &plan), VITVK_OK);
    vitvk_memory_info mi;
    vitvk_context_memory(ctx, &mi);
    vitvk_model_info info;
    vitvk_model_get_info(model, &info);
    /* One set of weights; the plan's figure covers its three batches. */
    ck_assert_uint_eq(mi.device_bytes, info.weight_bytes + vitvk_plan_activation_bytes(plan));
    ck_assert_uint_eq(vitvk_plan_activation_bytes(plan), 3 * single);

    uint64_t t[3];
    ck_assert_int_eq(vitvk_plan_submit(plan, a, r.n, &t[0]), VITVK_OK);
    ck_assert_int_eq(vitvk_plan_submit(plan, b, r.n, &t[1]), VITVK_OK);
    ck_assert_int_eq(vitvk_plan_submit(plan, a, 1, &t[2]), VITVK_OK);
    ck_assert_msg(t[0] == 1 && t[1] == 2 && t[2] == 3, "tickets %llu %llu %llu", (unsigned long long)t[0],
                  (unsigned long long)t[1], (unsigned long long)t[2]);
    uint64_t t4;
    ck_assert_int_eq(vitvk_plan_submit(plan, a, r.n, &t4), VITVK_ERR_LIMIT);
    ck_assert_int_eq(vitvk_plan_run(plan, a, r.n, want_a, NULL), VITVK_ERR_INVALID_ARGUMENT);

    float *got = malloc(nl * sizeof(float));
    /* Collected out of order: the second batch first, polled to the end. */
    vitvk_status st;
    int polls = 0;
    for (; (st = vitvk_plan_poll(plan, t[1])) == VITVK_NOT_READY && polls < 120000; polls++)
        nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
    printf("batch 2 finished after %d polls 1 ms apart\n", polls);
    ck_assert_int_eq(st, VITVK_OK);
    ck_assert_int_eq(vitvk_plan_wait(plan, t[1], 0, got, NULL), VITVK_OK);
    assert_same_bits(got, want_b, nl, "async batch 2");
    ck_assert_int_eq(vitvk_plan_poll(plan, t[1]), VITVK_ERR_INVALID_ARGUMENT); /* already collected */
    ck_assert_int_eq(vitvk_plan_wait(plan, t[0], UINT64_MAX, got, NULL), VITVK_OK);
    assert_same_bits(got, want_a, nl, "async batch 1");
    /* Slot 1 is free again, so the ring takes a fourth batch. */
    ck_assert_int_eq(vitvk_plan_submit(plan, b, r.n, &t4), VITVK_OK);
    memset(got, 0, nl * sizeof(float));
    ck_assert_int_eq(vitvk_plan_wait(plan, t[2], UINT64_MAX, got, NULL), VITVK_OK);
    assert_same_bits(got, want_a, L, "async batch 3 (one image)");
    ck_assert_int_eq(vitvk_plan_wait(plan, t4, UINT64_MAX, got, NULL), VITVK_OK);
    assert_same_bits(got, want_b, nl, "async batch 4");
    ck_assert_int_eq(vitvk_plan_wait(plan, 99, 0, got, NULL), VITVK_ERR_INVALID_ARGUMENT);
    /* Everything collected: the synchronous path works again. */
    ck_assert_int_eq(vitvk_plan_run(plan, a, r.n, got, NULL), VITVK_OK);
    assert_same_bits(got, want_a, nl, "run after the async batches");

    /* A batch left in flight is waited for by destroy. */
    ck_assert_int_eq(vitvk_plan_submit(plan, a, r.n, &t4), VITVK_OK);
    vitvk_plan_destroy(plan);
    vitvk_model_destroy(model);
    ck_assert_uint_eq(vitvk_context_validation_errors(ctx), 0);
    vitvk_context_destroy(ctx);
    free(got);
    free(want_a);
    free(want_b);
    free(b);
    reference_close(&r);
}
END_TEST

/* ---- allocation callbacks ---- */

/* Counts Vulkan host allocations. Each block carries its size and the
 * offset back to what malloc returned, for realloc and free. */
typedef struct vk_counter {
    atomic_long calls, live;
} vk_counter;

typedef struct block_head {
    size_t size;
    size_t offset;
} block_head;

static void *VKAPI_PTR count_alloc(void *user, size_t size, size_t align, VkSystemAllocationScope scope)
{
    (void)scope;
    vk_counter *c = user;
    if (align < sizeof(block_head))
        align = sizeof(block_head);
    unsigned char *raw = malloc(size + align + sizeof(block_head));
    if (!raw)
        return NULL;
    uintptr_t p = ((uintptr_t)raw + sizeof(block_head) + align - 1) / align * align;
    block_head *h = (block_head *)p - 1;
    h->size = size;
    h->offset = p - (uintptr_t)raw;
    atomic_fetch_add(&c->calls, 1);
    atomic_fetch_add(&c->live, 1);
    return (void *)p;
}

static void VKAPI_PTR count_free(void *user, void *mem)
{
    if (!mem)
        return;
    vk_counter *c = user;
    block_head *h = (block_head *)mem - 1;
    atomic_fetch_add(&c->calls, 1);
    atomic_fetch_sub(&c->live, 1);
    free((unsigned char *)mem - h->offset);
}

static void *VKAPI_PTR count_realloc(void *user, void *orig, size_t size, size_t align,
                                     VkSystemAllocationScope scope)
{
    if (!orig)
        return count_alloc(user, size, align, scope);
    if (size == 0) {
        count_free(user, orig);
        return NULL;
    }
    void *n = count_alloc(user, size, align, scope);
    if (!n)
        return NULL;
    size_t old = ((block_head *)orig - 1)->size;
    memcpy(n, orig, old < size ? old : size);
    count_free(user, orig);
    return n;
}

START_TEST(vulkan_allocation_callbacks_see_every_object)
{
    reference r;
    reference_open(&r);
    size_t nl = (size_t)r.n * r.labels;
    float *own = calloc(nl, sizeof(float)), *got = calloc(nl, sizeof(float));
    own_run(&r, own);

    vk_counter c = {0};
    VkAllocationCallbacks cb = {
        .pUserData = &c, .pfnAllocation = count_alloc, .pfnReallocation = count_realloc, .pfnFree = count_free};
    vitvk_context_desc d = {.vk_allocation_callbacks = &cb};
    vitvk_context *ctx = own_context(&d);
    long after_create = atomic_load(&c.calls);
    char err[1024];
    ck_assert_msg(run_on(ctx, &r, got, err, sizeof err) == VITVK_OK, "%s", err);
    assert_same_bits(got, own, nl, "context with allocation callbacks");
    long after_run = atomic_load(&c.calls);
    vitvk_context_destroy(ctx);
    printf("VkAllocationCallbacks: %ld calls creating the context, %ld loading and running, %ld live after "
           "destroy\n",
           after_create, after_run - after_create, atomic_load(&c.live));
    ck_assert_int_gt(after_create, 0);
    ck_assert_int_gt(after_run, after_create); /* buffers, memory, pipelines of the model and plan */
    ck_assert_int_eq(atomic_load(&c.live), 0);
    free(own);
    free(got);
    reference_close(&r);
}
END_TEST

/* ---- logging ---- */

START_TEST(log_receives_errors_and_information)
{
    log_record log;
    log_record_init(&log);
    vitvk_context_desc d = {.log = on_log, .log_user = &log};
    vitvk_context *ctx = own_context(&d);
    ck_assert_msg(strstr(log.text, "created device"), "%s", log.text);
    vitvk_model *m = NULL;
    ck_assert_int_eq(vitvk_model_load(ctx, "/nonexistent/model", NULL, &m), VITVK_ERR_IO);
    ck_assert_uint_eq(log.errors, 1);
    ck_assert_msg(strstr(log.text, vitvk_context_last_error(ctx)), "%s", log.text);
    ck_assert_uint_eq(log.validation, 0);
    vitvk_context_destroy(ctx);
}
END_TEST

/* One case per test, so that CK_RUN_CASE=name runs one alone. */
#define ADD_CASE(s, name)                  \
    do {                                   \
        TCase *tc = tcase_create(#name);   \
        tcase_set_timeout(tc, 600);        \
        tcase_add_test(tc, name);          \
        suite_add_tcase(s, tc);            \
    } while (0)

static Suite *suite(void)
{
    Suite *s = suite_create("host");
    ADD_CASE(s, threads_and_adopted_match_own_context);
    ADD_CASE(s, adoption_names_what_is_missing);
    ADD_CASE(s, budget_smaller_than_the_model);
    ADD_CASE(s, async_batches_in_flight);
    ADD_CASE(s, vulkan_allocation_callbacks_see_every_object);
    ADD_CASE(s, log_receives_errors_and_information);
    return s;
}

int main(void)
{
    /* The validation layer is unloaded with the last instance that uses
     * it, and this suite makes and ends many; objects it never frees then
     * lose their module name, which LeakSanitizer needs to match
     * tests/lsan.supp. Keeping it mapped (RTLD_LOCAL: nothing interposed)
     * keeps the names; leaks in our code still fail the test. */
    dlopen("libVkLayer_khronos_validation.so", RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_VERBOSE);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
