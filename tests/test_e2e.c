/* test_e2e.c - the whole model against transformers' and timm's outputs.
 *
 * Shared fixtures (tests/data/fixtures: vit-tiny in F32, F16 and BF16
 * weights, DeiT, BEiT, Swin) and extra configurations (tests/data/
 * vit-extra, family-extra, swin-extra: random checkpoints whose references
 * tests/reference/library_references.py makes with transformers and timm):
 * logits, pooled output, the [CLS] attention row and every hidden state,
 * in fp32 and fp16 precision, batch as stored, each within its own bound
 * of tests/data/bounds.tsv (tests/bounds.h). */
#include <check.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bounds.h"
#include "safetensors.h"
#include "test_skip.h"
#include "test_validation.h"
#include "vitvk.h"

static unsigned validation_messages;
/* The last context's INFO line ("created device ..., CPU kernels, ..."). */
static char context_info[512];

static void count_validation(void *user, vitvk_log_level level, const char *msg)
{
    (void)user;
    if (level >= VITVK_LOG_WARNING && strncmp(msg, "validation:", 11) == 0) {
        validation_messages++;
        fprintf(stderr, "%s\n", msg);
    }
    if (level == VITVK_LOG_INFO && strstr(msg, " kernels"))
        snprintf(context_info, sizeof context_info, "%s", msg);
}

static const char *data_dir(void)
{
    const char *d = getenv("VITVK_TEST_DATA");
    return d ? d : "tests/data";
}

/* One comparison: where this run stands against the bound of
 * "rel pname family output" in tests/data/bounds.tsv (bounds.h). */
typedef struct e2e_key {
    const char *rel, *pname;
    char family[32];
} e2e_key;

static void expect_within(const e2e_key *k, const char *output, double d, double scale, const char *tag)
{
    char key[512], path[1100];
    snprintf(key, sizeof key, "%s %s %s %s", k->rel, k->pname, k->family, output);
    double bound = 0, measured = 0;
    int found = bounds_lookup(key, d, scale, &bound, &measured, path, sizeof path);
    printf("%-32s %s %-13s %-19s max|diff| %-9.3g bound %-9.3g (measured %.3g)%s\n", k->rel, k->pname, k->family,
           output, d, bound, measured, tag);
    if (bounds_recording())
        return;
    ck_assert_msg(found >= 0, "cannot read %s", path);
    ck_assert_msg(found, "%s has no bound for \"%s\" (tools/bounds.sh measures one)", path, key);
    ck_assert_msg(d <= bound, "%s: max|diff| %g exceeds the bound %g (%g when measured)%s", key, d, bound, measured,
                  tag);
}

/* The kernel family the last context chose, as bounds.tsv names it: cpu
 * or gpu, and for fp16 plans the cooperative matrices it uses (+khr, +nv;
 * -acc16 when they accumulate in fp16). */
static void family_of(e2e_key *k, bool fp16, vitvk_coopmat_mode mode)
{
    bool gpu = strstr(context_info, "GPU kernels") != NULL;
    const char *cm = !fp16 ? "" : strstr(context_info, "KHR cooperative") ? "+khr"
                              : strstr(context_info, "NV cooperative")    ? "+nv"
                                                                          : "";
    snprintf(k->family, sizeof k->family, "%s%s%s", gpu ? "gpu" : "cpu", cm,
             *cm && mode == VITVK_COOPMAT_FP16_ACCUMULATE ? "-acc16" : "");
}

static float *tensor_f32(const st_archive *a, const char *name, const st_tensor **out)
{
    const st_tensor *t = st_find(a, name);
    if (!t)
        return NULL;
    float *v = malloc((size_t)t->numel * sizeof *v);
    char err[512];
    ck_assert_msg(st_to_f32(t, v, err, sizeof err) == VITVK_OK, "%s", err);
    if (out)
        *out = t;
    return v;
}

static double max_abs_diff(const float *a, const float *b, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        if (!(d <= m))
            m = isnan(d) ? INFINITY : d;
    }
    return m;
}

static double max_abs(const float *a, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++)
        m = fabs(a[i]) > m ? fabs(a[i]) : m;
    return m;
}

/* Runs plan on N images from image `first` of the reference's pixels and
 * compares its logits and pooled output with those images' reference
 * (whichever the reference has, at least one). */
static void check_outputs(vitvk_context *ctx, st_archive *ref, vitvk_plan *plan, const float *pixels, uint32_t first,
                          uint32_t N, const vitvk_model_info *info, const e2e_key *k, const char *tag)
{
    float *logits = info->num_labels ? malloc((size_t)N * info->num_labels * sizeof(float)) : NULL;
    float *pooled = malloc((size_t)N * info->pooled_size * sizeof(float));
    const st_tensor *pt = st_find(ref, "pixel_values");
    const float *in = pixels + (size_t)first * (size_t)(pt->numel / pt->shape[0]);
    ck_assert_msg(vitvk_plan_run(plan, in, N, logits, pooled) == VITVK_OK, "%s", vitvk_context_last_error(ctx));
    const struct {
        const char *name;
        const float *got;
        uint64_t n;
    } outs[2] = {{"logits", logits, (uint64_t)N * info->num_labels}, {"pooled", pooled, (uint64_t)N * info->pooled_size}};
    bool any = false;
    for (int i = 0; i < 2; i++) {
        const st_tensor *t;
        float *want = tensor_f32(ref, outs[i].name, &t);
        if (!want)
            continue;
        uint64_t per = (uint64_t)(t->numel / t->shape[0]);
        ck_assert_uint_eq(per * N, outs[i].n);
        double d = max_abs_diff(outs[i].got, want + first * per, (size_t)outs[i].n);
        expect_within(k, outs[i].name, d, max_abs(want + first * per, (size_t)outs[i].n), tag);
        free(want);
        any = true;
    }
    ck_assert_msg(any, "%s: reference has neither logits nor pooled", k->rel);
    free(logits);
    free(pooled);
}

/* Runs one model directory in one precision and compares everything the
 * reference has. */
/* `test_e2e coopmat [off|fp16acc]`: the cooperative-matrix mode of every
 * context, and the kernel name every fp16 plan's projections must run
 * (NULL: not checked). */
static vitvk_coopmat_mode e2e_coopmat;
static const char *e2e_gemm_variant;

/* Fails unless every GEMM of the plan's last run whose op is a projection
 * (patch, qkv, attention output, fc1, fc2) ran a variant starting with
 * `want`, and, when `attn` is not NULL, every ViT attention `attn`. */
static void expect_gemm_variant(vitvk_plan *plan, const char *want, const char *attn, const char *rel)
{
    uint32_t n = 0;
    ck_assert_int_eq(vitvk_plan_profile(plan, NULL, &n), VITVK_OK);
    vitvk_kernel_time *k = malloc(n * sizeof *k);
    ck_assert_int_eq(vitvk_plan_profile(plan, k, &n), VITVK_OK);
    uint32_t seen = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (attn && strcmp(k[i].op, "attention") == 0)
            ck_assert_msg(strncmp(k[i].variant, attn, strlen(attn)) == 0, "%s: attention ran %s, not %s", rel,
                          k[i].variant, attn);
        if (!strstr(k[i].op, "projection") && strcmp(k[i].op, "attention output") && strcmp(k[i].op, "mlp fc1") &&
            strcmp(k[i].op, "mlp fc2"))
            continue;
        seen++;
        ck_assert_msg(strncmp(k[i].variant, want, strlen(want)) == 0, "%s: %s ran %s, not %s", rel, k[i].op,
                      k[i].variant, want);
    }
    ck_assert_msg(seen > 0, "%s: no projection GEMM in the profile", rel);
    free(k);
}

static void check_model_with(const char *rel, vitvk_precision prec, vitvk_kernel_family kernels)
{
    char dir[1024], refpath[1100], err[1024];
    snprintf(dir, sizeof dir, "%s fp16", rel);
    if (test_skip_fp16(prec == VITVK_PRECISION_FP16, dir))
        return;
    snprintf(dir, sizeof dir, "%s/%s", data_dir(), rel);
    snprintf(refpath, sizeof refpath, "%s/reference.safetensors", dir);
    st_archive *ref;
    ck_assert_msg(st_open_file(refpath, &ref, err, sizeof err) == VITVK_OK, "%s", err);
    const st_tensor *pt;
    float *pixels = tensor_f32(ref, "pixel_values", &pt);
    ck_assert_ptr_nonnull(pixels);
    uint32_t N = (uint32_t)pt->shape[0];

    vitvk_context_desc cd = {.enable_validation = test_validation(), .log = count_validation, .kernels = kernels,
                             .cooperative_matrix = e2e_coopmat};
    vitvk_context *ctx;
    ck_assert_msg(vitvk_context_create(&cd, &ctx, err, sizeof err) == VITVK_OK, "%s", err);
    vitvk_model_desc md = {.precision = prec};
    vitvk_model *model;
    ck_assert_msg(vitvk_model_load(ctx, dir, &md, &model) == VITVK_OK, "%s", vitvk_context_last_error(ctx));
    vitvk_model_info info;
    vitvk_model_get_info(model, &info);
    bool want_attn = st_find(ref, "attentions.last.cls") != NULL;
    const char *variant = prec == VITVK_PRECISION_FP16 ? e2e_gemm_variant : NULL;
    vitvk_plan_desc pd = {.batch = N, .keep_hidden_states = 1, .keep_cls_attention = want_attn,
                          .profile = variant != NULL};
    vitvk_plan *plan;
    ck_assert_msg(vitvk_plan_create(model, &pd, &plan) == VITVK_OK, "%s", vitvk_context_last_error(ctx));

    e2e_key k = {rel, prec == VITVK_PRECISION_FP16 ? "fp16" : "fp32", ""};
    family_of(&k, prec == VITVK_PRECISION_FP16, e2e_coopmat);
    check_outputs(ctx, ref, plan, pixels, 0, N, &info, &k, "");
    /* Attention runs on cooperative matrices where the head size is a
     * whole number of matrices (16 covers every shape listed so far). */
    uint32_t head = info.num_heads ? info.hidden_size / info.num_heads : 0;
    bool cm_attn = e2e_coopmat != VITVK_COOPMAT_OFF && head % 16 == 0;
    if (variant)
        expect_gemm_variant(plan, variant,
                            cm_attn ? "attention_coopmat" : e2e_coopmat == VITVK_COOPMAT_OFF ? "attention_flash" : NULL,
                            rel);
    const st_tensor *t = NULL;
    float *want;
    if (want_attn) { /* probabilities: an absolute bound far below their scale */
        want = tensor_f32(ref, "attentions.last.cls", &t);
        ck_assert_uint_eq((uint64_t)t->numel, (uint64_t)N * info.num_heads * info.num_tokens);
        float *a = malloc((size_t)t->numel * sizeof(float));
        ck_assert_int_eq(vitvk_plan_read_cls_attention(plan, a), VITVK_OK);
        double d = max_abs_diff(a, want, (size_t)t->numel);
        expect_within(&k, "attentions.last.cls", d, max_abs(want, (size_t)t->numel), "");
        free(a);
        free(want);
    }
    /* Hidden states: each its own absolute bound, since the residual
     * stream's scale grows with depth. */
    uint32_t states = vitvk_model_hidden_state_count(model);
    for (uint32_t l = 0; l < states; l++) {
        char name[64];
        snprintf(name, sizeof name, "hidden_states.%u", l);
        want = tensor_f32(ref, name, &t);
        ck_assert_msg(want != NULL, "%s: reference lacks %s", rel, name);
        uint32_t ht, hd;
        vitvk_model_hidden_state_shape(model, l, &ht, &hd);
        ck_assert_uint_eq((uint64_t)t->numel, (uint64_t)N * ht * hd);
        float *got = malloc((size_t)t->numel * sizeof(float));
        ck_assert_int_eq(vitvk_plan_read_hidden_state(plan, l, got), VITVK_OK);
        double d = max_abs_diff(got, want, (size_t)t->numel);
        expect_within(&k, name, d, max_abs(want, (size_t)t->numel), "");
        free(want);
        free(got);
    }
    vitvk_plan_destroy(plan);
    /* Without hidden states a [CLS]-pooled plan runs the last layer on
     * token 0 alone: the outputs must not change. */
    vitvk_plan_desc po = {.batch = N};
    ck_assert_msg(vitvk_plan_create(model, &po, &plan) == VITVK_OK, "%s", vitvk_context_last_error(ctx));
    check_outputs(ctx, ref, plan, pixels, 0, N, &info, &k, " (outputs only)");
    vitvk_plan_destroy(plan);
    /* ... nor at batch 1, image by image, where DeiT's two heads run the
     * last layer on tokens 0 and 1 alone. */
    if (N > 1) {
        vitvk_plan_desc p1 = {.batch = 1};
        ck_assert_msg(vitvk_plan_create(model, &p1, &plan) == VITVK_OK, "%s", vitvk_context_last_error(ctx));
        for (uint32_t i = 0; i < N; i++)
            check_outputs(ctx, ref, plan, pixels, i, 1, &info, &k, " (batch 1)");
        vitvk_plan_destroy(plan);
    }
    free(pixels);
    st_close(ref);
    vitvk_model_destroy(model);
    vitvk_context_destroy(ctx);
    ck_assert_uint_eq(validation_messages, 0);
}

static const char *const cases[] = {
    "fixtures/vit-tiny",
    "fixtures/vit-tiny-f16",
    "fixtures/vit-tiny-bf16",
    "fixtures/deit-tiny-distilled",
    "fixtures/beit-tiny",
    "fixtures/swin-tiny",
    "vit-extra/p8-h60-noqkvbias",
    "vit-extra/p4-f16-gelunew",
    "vit-extra/p16-bf16-quickgelu",
    "vit-extra/vitmodel-pooler",
    "vit-extra/vitmodel-nopooler",
    "vit-extra/p14-h64-batch3",
    "family-extra/deit-distilled-p8",
    "family-extra/deit-plain-p16",
    "family-extra/beit-shared-meanpool",
    "family-extra/beit-abspos-cls",
    "family-extra/timm-vit-tiny-f16",
    "family-extra/timm-avg-reg-ls",
    "swin-extra/swin-3stage-pad",
    "swin-extra/swin-3stage-odd",
    "mutation-extra/vit-eps0.1",
    "mutation-extra/beit-meanpool-eps0.1",
};
#define NCASES (int)(sizeof cases / sizeof cases[0])

static void check_model(const char *rel, vitvk_precision prec)
{
    check_model_with(rel, prec, VITVK_KERNELS_AUTO);
}

/* The GPU kernel family (shared-memory tiles) on whatever device runs the
 * tests, lavapipe included: the shared fixtures and the odd shapes (K not
 * a multiple of 4, head size 15, partial tiles). */
static const char *const gpu_cases[] = {
    "fixtures/vit-tiny",
    "fixtures/deit-tiny-distilled",
    "fixtures/beit-tiny",
    "fixtures/swin-tiny",
    "vit-extra/p8-h60-noqkvbias",
    "vit-extra/p16-bf16-quickgelu",
    "family-extra/timm-avg-reg-ls",
    "swin-extra/swin-3stage-odd",
    "mutation-extra/vit-eps0.1", /* the LayerNorms fused into the GEMMs, with an eps that matters */
};
#define NGPU (int)(sizeof gpu_cases / sizeof gpu_cases[0])

START_TEST(gpu_fp32) { check_model_with(gpu_cases[_i], VITVK_PRECISION_FP32, VITVK_KERNELS_GPU); }
END_TEST

START_TEST(gpu_fp16) { check_model_with(gpu_cases[_i], VITVK_PRECISION_FP16, VITVK_KERNELS_GPU); }
END_TEST

START_TEST(coopmat_fp16) { check_model_with(cases[_i], VITVK_PRECISION_FP16, VITVK_KERNELS_GPU); }
END_TEST

START_TEST(fp32) { check_model(cases[_i], VITVK_PRECISION_FP32); }
END_TEST

START_TEST(fp16) { check_model(cases[_i], VITVK_PRECISION_FP16); }
END_TEST

/* A batch run image by image must give what the whole batch gives: rows
 * of a batch do not leak into each other, and a run with fewer images
 * than the plan's batch is correct. */
START_TEST(partial_batch)
{
    char dir[1024], refpath[1100], err[1024];
    snprintf(dir, sizeof dir, "%s/vit-extra/p14-h64-batch3", data_dir());
    snprintf(refpath, sizeof refpath, "%s/reference.safetensors", dir);
    st_archive *ref;
    ck_assert_msg(st_open_file(refpath, &ref, err, sizeof err) == VITVK_OK, "%s", err);
    const st_tensor *pt = NULL, *lt = NULL;
    float *pixels = tensor_f32(ref, "pixel_values", &pt);
    float *want = tensor_f32(ref, "logits", &lt);
    vitvk_context_desc cd = {.enable_validation = test_validation(), .log = count_validation};
    vitvk_context *ctx;
    ck_assert_msg(vitvk_context_create(&cd, &ctx, err, sizeof err) == VITVK_OK, "%s", err);
    vitvk_model_desc md = {.precision = VITVK_PRECISION_FP32};
    vitvk_model *model;
    ck_assert_msg(vitvk_model_load(ctx, dir, &md, &model) == VITVK_OK, "%s", vitvk_context_last_error(ctx));
    vitvk_plan_desc pd = {.batch = 4};
    vitvk_plan *plan;
    ck_assert_int_eq(vitvk_plan_create(model, &pd, &plan), VITVK_OK);
    uint32_t K = (uint32_t)lt->shape[1];
    size_t per = (size_t)(pt->numel / pt->shape[0]);
    float got[64];
    e2e_key k = {"vit-extra/p14-h64-batch3", "fp32", ""};
    family_of(&k, false, VITVK_COOPMAT_AUTO);
    for (int i = (int)pt->shape[0] - 1; i >= 0; i--) {
        ck_assert_int_eq(vitvk_plan_run(plan, pixels + per * i, 1, got, NULL), VITVK_OK);
        expect_within(&k, "logits", max_abs_diff(got, want + (size_t)K * i, K), max_abs(want, (size_t)lt->numel),
                      " (one image of a plan for 4)");
    }
    ck_assert_int_eq(vitvk_plan_run(plan, pixels, 5, got, NULL), VITVK_ERR_INVALID_ARGUMENT);
    free(pixels);
    free(want);
    st_close(ref);
    vitvk_plan_destroy(plan);
    vitvk_model_destroy(model);
    vitvk_context_destroy(ctx);
    ck_assert_uint_eq(validation_messages, 0);
}
END_TEST

/* Why the device picked by default cannot run the KHR cooperative-matrix
 * GEMM in `mode`, or NULL when it can: a context reports its choice in its
 * INFO line, and the first device's shapes tell fp16 accumulation. */
static char khr_info[512], khr_disabled[512];
static void keep_info(void *user, vitvk_log_level level, const char *msg)
{
    (void)user;
    if (level == VITVK_LOG_INFO && strstr(msg, " kernels"))
        snprintf(khr_info, sizeof khr_info, "%s", msg);
    if (level == VITVK_LOG_WARNING && strstr(msg, "cooperative-matrix GEMM (KHR"))
        snprintf(khr_disabled, sizeof khr_disabled, "%s", msg);
}

static const char *khr_coopmat_missing(vitvk_coopmat_mode mode)
{
    static char why[1200];
    vitvk_context_desc cd = {.kernels = VITVK_KERNELS_GPU, .cooperative_matrix = mode, .log = keep_info};
    vitvk_context *ctx;
    char err[1024];
    if (vitvk_context_create(&cd, &ctx, err, sizeof err) != VITVK_OK) {
        snprintf(why, sizeof why, "no context: %s", err);
        return why;
    }
    vitvk_device_info di;
    vitvk_context_device_info(ctx, &di);
    vitvk_context_destroy(ctx);
    /* The device has the feature but the library's self-check turned the
     * kernel off: that is a failure to show, not a skip. */
    if (khr_disabled[0]) {
        printf("test_e2e coopmat: %s\n", khr_disabled);
        return NULL;
    }
    if (!strstr(khr_info, "KHR cooperative matrices")) {
        snprintf(why, sizeof why, "%s: no usable VK_KHR_cooperative_matrix (%s)", di.name,
                 di.cooperative_matrix_khr ? "listed, but not usable with this build" : "not listed");
        return why;
    }
    if (mode == VITVK_COOPMAT_FP16_ACCUMULATE) {
        bool f16 = false;
        for (uint32_t i = 0; i < di.coopmat_khr_count; i++)
            f16 |= di.coopmat_khr[i].a == VITVK_COMPONENT_F16 && di.coopmat_khr[i].result == VITVK_COMPONENT_F16;
        if (!f16) {
            snprintf(why, sizeof why, "%s lists no fp16-accumulating cooperative-matrix shape", di.name);
            return why;
        }
    }
    return NULL;
}

/* `test_e2e` checks every case with the kernels the device would pick;
 * `test_e2e gpu` checks the GPU kernel family on a representative subset
 * (a separate ctest, since on lavapipe shared memory is slow). */
int main(int argc, char **argv)
{
    test_skip_init();
    bool coopmat = argc > 1 && strcmp(argv[1], "coopmat") == 0;
    if (coopmat) {
        /* Every case in fp16 with the GPU family: `coopmat` asserts that
         * the KHR cooperative-matrix GEMM ran the projections (exit 77,
         * ctest's skip, where the device or build has none), `coopmat off`
         * that the tiled GEMM did, `coopmat fp16acc` the fp16-accumulating
         * KHR variant. Decided before the suite exists, so that a skip
         * leaves nothing allocated. */
        const char *mode = argc > 2 ? argv[2] : "on";
        if (strcmp(mode, "off") == 0) {
            e2e_coopmat = VITVK_COOPMAT_OFF;
            e2e_gemm_variant = "gemm_tiled.f16";
        } else {
            e2e_coopmat = strcmp(mode, "fp16acc") == 0 ? VITVK_COOPMAT_FP16_ACCUMULATE : VITVK_COOPMAT_AUTO;
            e2e_gemm_variant = e2e_coopmat == VITVK_COOPMAT_AUTO ? "gemm_coopmat.f16" : "gemm_coopmat.h16";
            const char *why = khr_coopmat_missing(e2e_coopmat);
            if (why) {
                printf("test_e2e coopmat %s: skipped: %s\n", mode, why);
                return 77;
            }
        }
    }
    Suite *s = suite_create("end-to-end");
    TCase *tc = tcase_create("transformers");
    tcase_set_timeout(tc, 600);
    if (coopmat) {
        tcase_add_loop_test(tc, coopmat_fp16, 0, NCASES);
    } else if (argc > 1 && strcmp(argv[1], "gpu") == 0) {
        tcase_add_loop_test(tc, gpu_fp32, 0, NGPU);
        tcase_add_loop_test(tc, gpu_fp16, 0, NGPU);
    } else {
        tcase_add_loop_test(tc, fp32, 0, NCASES);
        tcase_add_loop_test(tc, fp16, 0, NCASES);
        tcase_add_test(tc, partial_batch);
    }
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    test_skip_report("test_e2e");
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
