/* test_record.c - vitvk_input + vitvk_plan_record in a host that owns its
 * device (tools/host_vk.c, validation and synchronisation validation on):
 *   - GPU preprocessing against the CPU path (vitvk_model_preprocess_file)
 *     on the shared photos, for the ViT/DeiT/BEiT processor configs in both
 *     backends and a timm checkpoint, read from RGBA and BGRA images (UNORM,
 *     sRGB through a UNORM view, sRGB decoded and re-encoded) and buffers:
 *     every value equal, as README.md claims (measured on lavapipe: all 126
 *     cases equal); and against transformers' own pixel_values for the
 *     ViT/DeiT/BEiT configs (torchvision backend, stored as levels): the
 *     torchvision backend equal in every value, the pil backend within one
 *     input step (rescale_factor / std; measured: max 1 step, as README.md's
 *     table says), the figures printed per case;
 *   - logits, probabilities, embeddings and top-k against vitvk_plan_run on
 *     the CPU path's pixels;
 *   - bad arguments give one-line errors and record nothing. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* mkdtemp, symlink */
#endif
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host_suite.h"
#include "host_vk.h"
#include "image.h"
#include "vitvk.h"

static const char *data_dir(void)
{
    const char *d = getenv("VITVK_TEST_DATA");
    return d ? d : "tests/data";
}

static const char *source_dir(void)
{
    const char *d = getenv("VITVK_SOURCE_DIR");
    return d ? d : ".";
}

/* ---- one host, one adopted context ---- */

typedef struct fixture {
    host_vk h;
    vitvk_context *ctx;
} fixture;

static void fixture_open(fixture *f)
{
    char err[512];
    ck_assert_msg(host_vk_create(&f->h, 1, err, sizeof err) == 0, "%s", err);
    vitvk_context_desc d = {0};
    host_vk_adopt(&f->h, &d);
    ck_assert_msg(vitvk_context_create(&d, &f->ctx, err, sizeof err) == VITVK_OK, "%s", err);
}

static void fixture_close(fixture *f)
{
    vitvk_context_destroy(f->ctx);
    host_vk_destroy(&f->h);
    ck_assert_msg(f->h.messages == 0, "%u validation messages", f->h.messages);
}

/* ---- the host's copies of one picture: images and buffers ---- */

enum { SRC_COUNT = 6 };
static const char *src_names[SRC_COUNT] = {
    "image RGBA8 UNORM", "image BGRA8 UNORM", "image RGBA8 SRGB (UNORM view)", "image BGRA8 SRGB (decoded)",
    "buffer RGBA", "buffer BGRA (offset, pitch)"};

typedef struct sources {
    host_image img[4];
    host_buffer staging[4];
    host_buffer buf;    /* both buffer inputs, one after the other */
    vitvk_input_desc desc[SRC_COUNT];
} sources;

static void put_pixels(uint8_t *dst, const img_rgb8 *rgb, int bgra, size_t pitch)
{
    for (uint32_t y = 0; y < rgb->height; y++)
        for (uint32_t x = 0; x < rgb->width; x++) {
            const uint8_t *s = rgb->pixels + ((size_t)y * rgb->width + x) * 3;
            uint8_t *d = dst + y * pitch + (size_t)x * 4;
            d[0] = s[bgra ? 2 : 0];
            d[1] = s[1];
            d[2] = s[bgra ? 0 : 2];
            d[3] = (uint8_t)(x * 7 + y); /* alpha is ignored: make it vary */
        }
}

static void sources_make(fixture *f, const img_rgb8 *rgb, sources *s)
{
    memset(s, 0, sizeof *s);
    uint32_t w = rgb->width, h = rgb->height;
    static const VkFormat fmt[4] = {VK_FORMAT_R8G8B8A8_UNORM, VK_FORMAT_B8G8R8A8_UNORM, VK_FORMAT_R8G8B8A8_SRGB,
                                    VK_FORMAT_B8G8R8A8_SRGB};
    VkCommandBuffer cmd;
    ck_assert_int_eq(host_begin(&f->h, &cmd), 0);
    for (int i = 0; i < 4; i++) {
        ck_assert_int_eq(host_image_create(&f->h, w, h, fmt[i], i == 2 ? VK_IMAGE_CREATE_MUTABLE_FORMAT_BIT : 0,
                                           &s->img[i]),
                         0);
        ck_assert_int_eq(host_buffer_create(&f->h, (VkDeviceSize)w * h * 4, VK_BUFFER_USAGE_TRANSFER_SRC_BIT,
                                            &s->staging[i]),
                         0);
        put_pixels(s->staging[i].mapped, rgb, i == 1 || i == 3, (size_t)w * 4);
        host_image_upload_cmd(cmd, &s->img[i], &s->staging[i], w, h);
        s->desc[i] = (vitvk_input_desc){.kind = VITVK_INPUT_IMAGE, .width = w, .height = h, .vk_format = fmt[i],
                                        .vk_layout = VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL,
                                        .mutable_format = i == 2};
        memcpy(&s->desc[i].vk_image, &s->img[i].image, sizeof s->desc[i].vk_image);
    }
    ck_assert_int_eq(host_submit_wait(&f->h, cmd), 0);
    /* RGBA tightly packed at 0; BGRA at an odd multiple of 4 with 12 bytes
     * of padding per row. Written by the host: coherent memory, and the
     * submission that reads it comes later. */
    size_t a = (size_t)w * h * 4, pitch = (size_t)w * 4 + 12, boff = a + 20;
    ck_assert_int_eq(host_buffer_create(&f->h, boff + pitch * h, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT, &s->buf), 0);
    put_pixels(s->buf.mapped, rgb, 0, (size_t)w * 4);
    put_pixels((uint8_t *)s->buf.mapped + boff, rgb, 1, pitch);
    for (int i = 4; i < 6; i++) {
        s->desc[i] = (vitvk_input_desc){.kind = VITVK_INPUT_BUFFER, .width = w, .height = h};
        memcpy(&s->desc[i].vk_buffer, &s->buf.buffer, sizeof s->desc[i].vk_buffer);
    }
    s->desc[5].vk_offset = boff;
    s->desc[5].row_pitch = pitch;
    s->desc[5].bgra = 1;
}

static void sources_free(fixture *f, sources *s)
{
    for (int i = 0; i < 4; i++) {
        host_image_destroy(&f->h, &s->img[i]);
        host_buffer_destroy(&f->h, &s->staging[i]);
    }
    host_buffer_destroy(&f->h, &s->buf);
}

/* Records inputs[0..n-1] with `out` into a fresh command buffer and runs it;
 * the results land in `dst` (host-visible). */
static void record_run(fixture *f, vitvk_plan *plan, vitvk_input **inputs, uint32_t n, vitvk_output out,
                       host_buffer *dst)
{
    memcpy(&out.vk_buffer, &dst->buffer, sizeof out.vk_buffer);
    VkCommandBuffer cmd;
    ck_assert_int_eq(host_begin(&f->h, &cmd), 0);
    vitvk_status st = vitvk_plan_record(plan, cmd, inputs, n, &out);
    ck_assert_msg(st == VITVK_OK, "%s", vitvk_context_last_error(f->ctx));
    VkMemoryBarrier mb = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                          .srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
                          .dstAccessMask = VK_ACCESS_HOST_READ_BIT};
    vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &mb, 0, NULL, 0, NULL);
    ck_assert_int_eq(host_submit_wait(&f->h, cmd), 0);
}

/* A model directory: `weights` (config.json + model.safetensors) with
 * `preproc` as its preprocessor_config.json (NULL: none). */
static void model_dir(char *dir, size_t size, const char *weights, const char *preproc)
{
    snprintf(dir, size, "/tmp/vitvk-record-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    const char *files[2] = {"config.json", "model.safetensors"};
    char a[1024], b[1024];
    for (int i = 0; i < 2; i++) {
        snprintf(a, sizeof a, "%s/%s", weights, files[i]);
        snprintf(b, sizeof b, "%s/%s", dir, files[i]);
        ck_assert_int_eq(symlink(a, b), 0);
    }
    if (preproc) {
        snprintf(b, sizeof b, "%s/preprocessor_config.json", dir);
        ck_assert_int_eq(symlink(preproc, b), 0);
    }
}

static void model_dir_remove(const char *dir)
{
    char p[1024];
    const char *files[3] = {"config.json", "model.safetensors", "preprocessor_config.json"};
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, files[i]);
        unlink(p);
    }
    rmdir(dir);
}

/* ---- criterion 2: GPU preprocessing vs the CPU path ---- */

typedef struct parity_case {
    const char *name;     /* config name for messages */
    const char *weights;  /* under the test data */
    const char *preproc;  /* fixture config under preprocess/fixtures, or NULL (timm) */
    int backends;         /* 2: pil and torchvision; 1: the model's own */
    const char *json;     /* or this preprocessor_config.json text (no transformers pixels stored) */
} parity_case;

static const parity_case parity_cases[] = {
    {"vit", "fixtures/vit-tiny", "vit_preprocessor_config.json", 2},
    {"deit", "fixtures/vit-tiny", "deit_preprocessor_config.json", 2},
    {"beit", "fixtures/vit-tiny", "beit_preprocessor_config.json", 2},
    {"timm", "family-extra/timm-vit-tiny-f16", NULL, 1},
    /* The configs above all normalise with 0.5 on every channel: ImageNet's
     * mean and std differ per channel, so a table value read for the wrong
     * channel shows; the crop (224) is larger than the resize (200), so the
     * padding values are checked per channel too. */
    {"imagenet-pad", "fixtures/vit-tiny", NULL, 2,
     "{\"image_processor_type\": \"DeiTImageProcessor\", \"do_resize\": true, \"resample\": 3, "
     "\"size\": {\"height\": 200, \"width\": 200}, \"do_center_crop\": true, "
     "\"crop_size\": {\"height\": 224, \"width\": 224}, \"do_rescale\": true, "
     "\"rescale_factor\": 0.00392156862745098, \"do_normalize\": true, "
     "\"image_mean\": [0.485, 0.456, 0.406], \"image_std\": [0.229, 0.224, 0.225]}"},
};

static const char *photos[3] = {"chelsea", "coffee", "astronaut"};

/* transformers 5.17's own pixel_values (torchvision backend) for photo p
 * under config `name` (vit, deit, beit): preprocess/fixtures/ref_<name>_<photo>.png
 * holds an 8-bit level per value and parity/lut_fixture.f32 (3 x 256
 * float32) the value of each level, exactly (tests/data/preprocess/README.md).
 * Returns 3 x H x W floats in `per` (malloc'ed), or fails the test. */
static float *transformers_pixels(const char *name, int p, size_t per)
{
    char path[1024], err[512];
    float lut[3][256];
    snprintf(path, sizeof path, "%s/preprocess/parity/lut_fixture.f32", data_dir());
    FILE *fl = fopen(path, "rb");
    ck_assert_msg(fl && fread(lut, sizeof lut, 1, fl) == 1, "%s: cannot read 3 x 256 float32", path);
    fclose(fl);
    snprintf(path, sizeof path, "%s/preprocess/fixtures/ref_%s_%s.png", data_dir(), name, photos[p]);
    img_rgb8 ref;
    ck_assert_msg(img_decode_file(path, 0, &ref, err, sizeof err) == VITVK_OK, "%s", err);
    size_t plane = (size_t)ref.width * ref.height;
    ck_assert_msg(3 * plane == per, "%s: %ux%u, not the model's input", path, ref.width, ref.height);
    float *v = malloc(per * sizeof *v);
    for (int c = 0; c < 3; c++)
        for (size_t i = 0; i < plane; i++)
            v[c * plane + i] = lut[c][ref.pixels[i * 3 + c]];
    img_free(&ref);
    return v;
}

START_TEST(test_gpu_preprocess_parity)
{
    const parity_case *pc = &parity_cases[_i];
    fixture f;
    fixture_open(&f);
    char weights[512], preproc[1024], dir[1024];
    snprintf(weights, sizeof weights, "%s/%s", data_dir(), pc->weights);
    if (pc->preproc) {
        snprintf(preproc, sizeof preproc, "%s/preprocess/fixtures/%s", data_dir(), pc->preproc);
        model_dir(dir, sizeof dir, weights, preproc);
    } else if (pc->json) {
        snprintf(preproc, sizeof preproc, "/tmp/vitvk-record-preproc-XXXXXX");
        int fd = mkstemp(preproc);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(write(fd, pc->json, strlen(pc->json)), (ssize_t)strlen(pc->json));
        close(fd);
        model_dir(dir, sizeof dir, weights, preproc);
    } else {
        snprintf(dir, sizeof dir, "%s", weights);
    }
    preproc_config cfg;
    char err[512];
    preproc_config_defaults(&cfg);
    ck_assert_msg(preproc_config_for_model_dir(dir, &cfg, err, sizeof err) == VITVK_OK, "%s", err);
    /* One input step per channel: what one level of the 8-bit image moves. */
    double step[3];
    for (int c = 0; c < 3; c++)
        step[c] = (cfg.backend == PREPROC_BACKEND_TIMM ? 1.0 / 255.0 : cfg.rescale_factor) / cfg.image_std[c];

    vitvk_model *model;
    vitvk_model_desc md = {.precision = VITVK_PRECISION_FP32};
    ck_assert_msg(vitvk_model_load(f.ctx, dir, &md, &model) == VITVK_OK, "%s", vitvk_context_last_error(f.ctx));
    vitvk_plan *plan;
    ck_assert_int_eq(vitvk_plan_create(model, &(vitvk_plan_desc){.batch = SRC_COUNT}, &plan), VITVK_OK);
    vitvk_model_info info;
    vitvk_model_get_info(model, &info);
    size_t per = (size_t)3 * info.image_height * info.image_width;
    float *cpu = malloc(per * sizeof *cpu);
    host_buffer out;
    ck_assert_int_eq(host_buffer_create(&f.h, per * SRC_COUNT * 4, VK_BUFFER_USAGE_TRANSFER_DST_BIT, &out), 0);

    for (int p = 0; p < 3; p++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/preprocess/fixtures/%s.png", data_dir(), photos[p]);
        img_rgb8 rgb;
        ck_assert_msg(img_decode_file(path, 0, &rgb, err, sizeof err) == VITVK_OK, "%s", err);
        sources s;
        sources_make(&f, &rgb, &s);
        float *tf = pc->preproc ? transformers_pixels(pc->name, p, per) : NULL;
        for (int b = 0; b < pc->backends; b++) {
            const char *bname = "timm";
            if (pc->backends == 2) {
                vitvk_preprocess_backend be = b ? VITVK_PREPROCESS_TORCHVISION : VITVK_PREPROCESS_PIL;
                ck_assert_int_eq(vitvk_model_set_preprocess_backend(model, be), VITVK_OK);
                bname = b ? "torchvision" : "pil";
            }
            ck_assert_msg(vitvk_model_preprocess_file(model, path, cpu) == VITVK_OK, "%s",
                          vitvk_context_last_error(f.ctx));
            vitvk_input *in[SRC_COUNT];
            for (int i = 0; i < SRC_COUNT; i++)
                ck_assert_msg(vitvk_input_create(plan, &s.desc[i], &in[i]) == VITVK_OK, "%s: %s", src_names[i],
                              vitvk_context_last_error(f.ctx));
            record_run(&f, plan, in, SRC_COUNT, (vitvk_output){.kind = VITVK_OUTPUT_PIXEL_VALUES}, &out);
            for (int i = 0; i < SRC_COUNT; i++) {
                const float *gpu = (const float *)out.mapped + per * i;
                double worst = 0.0;
                size_t equal = 0;
                for (size_t k = 0; k < per; k++) {
                    double d = fabs((double)gpu[k] - cpu[k]) / step[k / (per / 3)];
                    if (!(d <= worst)) /* NaN counts as worst */
                        worst = isnan(d) ? INFINITY : d;
                    equal += gpu[k] == cpu[k];
                }
                printf("%-5s %-11s %-9s %-30s vs the CPU path: max %.3g steps, %.4f%% equal\n", pc->name, bname,
                       photos[p], src_names[i], worst, 100.0 * equal / per);
                ck_assert_msg(equal == per, "%s %s %s %s: %zu of %zu values differ from the CPU path (max %g steps)",
                              pc->name, bname, photos[p], src_names[i], per - equal, per, worst);
                if (tf) { /* against transformers itself */
                    double tworst = 0.0;
                    size_t tequal = 0, twithin = 0;
                    for (size_t k = 0; k < per; k++) {
                        double d = fabs((double)gpu[k] - tf[k]) / step[k / (per / 3)];
                        if (!(d <= tworst))
                            tworst = isnan(d) ? INFINITY : d;
                        twithin += d <= 1.0 + 1e-4; /* a level in float32, as a ratio, is not always <= 1 */
                        tequal += gpu[k] == tf[k];
                    }
                    printf("%-5s %-11s %-9s %-30s vs transformers: max %.3g steps, %.4f%% within one, %.4f%% equal\n",
                           pc->name, bname, photos[p], src_names[i], tworst, 100.0 * twithin / per,
                           100.0 * tequal / per);
                    if (b == 1)
                        ck_assert_msg(tequal == per, "%s torchvision %s %s: %zu of %zu values differ from transformers' "
                                      "(max %g steps)", pc->name, photos[p], src_names[i], per - tequal, per, tworst);
                    else
                        ck_assert_msg(tworst <= 1.0 + 1e-4, "%s pil %s %s: %g steps from transformers' (bound 1)",
                                      pc->name, photos[p], src_names[i], tworst);
                }
                vitvk_input_destroy(in[i]);
            }
        }
        free(tf);
        sources_free(&f, &s);
        img_free(&rgb);
    }
    host_buffer_destroy(&f.h, &out);
    free(cpu);
    vitvk_plan_destroy(plan);
    vitvk_model_destroy(model);
    if (pc->preproc || pc->json)
        model_dir_remove(dir);
    if (pc->json)
        unlink(preproc);
    fixture_close(&f);
}
END_TEST

/* ---- outputs against vitvk_plan_run ---- */

/* The bundled digits ViT and the Swin fixture (whose buffers the Swin
 * planner lays out). */
START_TEST(test_outputs_match_run)
{
    fixture f;
    fixture_open(&f);
    char dir[512], paths[2][1024];
    if (_i == 0)
        snprintf(dir, sizeof dir, "%s/models/digits-vit", source_dir());
    else
        snprintf(dir, sizeof dir, "%s/fixtures/swin-tiny", data_dir());
    snprintf(paths[0], sizeof paths[0], "%s/models/digits-vit/samples/7-seven.png", source_dir());
    snprintf(paths[1], sizeof paths[1], "%s/preprocess/fixtures/coffee.png", data_dir());
    vitvk_model *model;
    vitvk_model_desc md = {.precision = VITVK_PRECISION_FP32};
    ck_assert_int_eq(vitvk_model_load(f.ctx, dir, &md, &model), VITVK_OK);
    vitvk_model_info info;
    vitvk_model_get_info(model, &info);
    uint32_t L = info.num_labels, D = info.pooled_size, n = 3;
    vitvk_plan *plan;
    ck_assert_int_eq(vitvk_plan_create(model, &(vitvk_plan_desc){.batch = 4}, &plan), VITVK_OK);

    /* The CPU path: pictures 0, 1, 0 through vitvk_plan_run. */
    size_t per = (size_t)3 * info.image_height * info.image_width;
    float *pix = malloc(per * n * sizeof *pix), *logits = malloc((size_t)n * L * 4), *pooled = malloc((size_t)n * D * 4);
    for (uint32_t i = 0; i < n; i++)
        ck_assert_int_eq(vitvk_model_preprocess_file(model, paths[i % 2], pix + per * i), VITVK_OK);
    ck_assert_int_eq(vitvk_plan_run(plan, pix, n, logits, pooled), VITVK_OK);

    /* The host's: picture 0 as an image, picture 1 as a buffer, picture 0
     * again (one input twice). */
    img_rgb8 rgb[2];
    char err[512];
    sources s[2];
    for (int i = 0; i < 2; i++) {
        ck_assert_msg(img_decode_file(paths[i], 0, &rgb[i], err, sizeof err) == VITVK_OK, "%s", err);
        sources_make(&f, &rgb[i], &s[i]);
    }
    vitvk_input *a, *b;
    ck_assert_int_eq(vitvk_input_create(plan, &s[0].desc[0], &a), VITVK_OK);
    ck_assert_int_eq(vitvk_input_create(plan, &s[1].desc[5], &b), VITVK_OK);
    vitvk_input *in[3] = {a, b, a};
    host_buffer out;
    ck_assert_int_eq(host_buffer_create(&f.h, (size_t)n * (L + D + 2 * L) * 8, VK_BUFFER_USAGE_TRANSFER_DST_BIT, &out),
                     0);

    /* Logits: the same pixels through the same program, so equal up to fp32
     * rounding (in fact bit for bit). */
    record_run(&f, plan, in, n, (vitvk_output){.kind = VITVK_OUTPUT_LOGITS, .vk_offset = 16}, &out);
    const float *g = (const float *)((const uint8_t *)out.mapped + 16);
    for (size_t k = 0; k < (size_t)n * L; k++)
        ck_assert_msg(fabsf(g[k] - logits[k]) <= 1e-6f * (1.0f + fabsf(logits[k])), "logit %zu: %g vs %g", k, g[k],
                      logits[k]);

    record_run(&f, plan, in, n, (vitvk_output){.kind = VITVK_OUTPUT_EMBEDDINGS}, &out);
    g = out.mapped;
    for (size_t k = 0; k < (size_t)n * D; k++)
        ck_assert_msg(fabsf(g[k] - pooled[k]) <= 1e-6f * (1.0f + fabsf(pooled[k])), "pooled %zu", k);

    /* Probabilities: softmax of vitvk_plan_run's logits, in double. */
    record_run(&f, plan, in, n, (vitvk_output){.kind = VITVK_OUTPUT_PROBABILITIES}, &out);
    float *probs = malloc((size_t)n * L * 4);
    memcpy(probs, out.mapped, (size_t)n * L * 4);
    for (uint32_t i = 0; i < n; i++) {
        double m = -INFINITY, sum = 0;
        for (uint32_t j = 0; j < L; j++)
            m = fmax(m, logits[i * L + j]);
        for (uint32_t j = 0; j < L; j++)
            sum += exp(logits[i * L + j] - m);
        for (uint32_t j = 0; j < L; j++)
            ck_assert_msg(fabs(probs[i * L + j] - exp(logits[i * L + j] - m) / sum) <= 1e-6, "prob %u/%u", i, j);
    }

    /* Top-k for every k: the logits sorted (descending, lower index first on
     * ties), each with its probability. */
    for (uint32_t k = 1; k <= L; k++) {
        record_run(&f, plan, in, n, (vitvk_output){.kind = VITVK_OUTPUT_TOP_K, .k = k}, &out);
        const uint32_t *t = out.mapped;
        for (uint32_t i = 0; i < n; i++) {
            uint8_t used[4096] = {0};
            for (uint32_t r = 0; r < k; r++) {
                uint32_t idx = t[(i * k + r) * 2];
                float p;
                memcpy(&p, &t[(i * k + r) * 2 + 1], 4);
                ck_assert_uint_lt(idx, L);
                ck_assert(!used[idx]);
                used[idx] = 1;
                /* nothing unused ranks above it */
                for (uint32_t j = 0; j < L; j++)
                    if (!used[j])
                        ck_assert(logits[i * L + j] < logits[i * L + idx] ||
                                  (logits[i * L + j] == logits[i * L + idx] && j > idx));
                ck_assert(p == probs[i * L + idx]);
            }
        }
    }
    ck_assert_uint_eq(vitvk_plan_output_bytes(plan, &(vitvk_output){.kind = VITVK_OUTPUT_TOP_K, .k = 3}, 2), 48);
    ck_assert_uint_eq(vitvk_plan_output_bytes(plan, &(vitvk_output){.kind = VITVK_OUTPUT_EMBEDDINGS}, 2), 8 * D);

    vitvk_input_destroy(a);
    vitvk_input_destroy(b);
    for (int i = 0; i < 2; i++) {
        sources_free(&f, &s[i]);
        img_free(&rgb[i]);
    }
    host_buffer_destroy(&f.h, &out);
    free(pix);
    free(logits);
    free(pooled);
    free(probs);
    vitvk_plan_destroy(plan);
    vitvk_model_destroy(model);
    fixture_close(&f);
}
END_TEST

/* ---- bad arguments ---- */

static void expect_error(fixture *f, vitvk_status got, vitvk_status want, const char *what)
{
    const char *msg = vitvk_context_last_error(f->ctx);
    ck_assert_msg(got == want, "%s: status %d, want %d (%s)", what, got, want, msg);
    ck_assert_msg(msg[0] && !strchr(msg, '\n'), "%s: message '%s' must be one line", what, msg);
}

START_TEST(test_bad_arguments)
{
    fixture f;
    fixture_open(&f);
    char dir[1024], other[1024];
    snprintf(dir, sizeof dir, "%s/models/digits-vit", source_dir());
    snprintf(other, sizeof other, "%s/vit-extra/vitmodel-nopooler", data_dir());
    vitvk_model *model, *bare;
    ck_assert_int_eq(vitvk_model_load(f.ctx, dir, NULL, &model), VITVK_OK);
    ck_assert_int_eq(vitvk_model_load(f.ctx, other, NULL, &bare), VITVK_OK);
    vitvk_plan *plan, *plan2, *bare_plan;
    ck_assert_int_eq(vitvk_plan_create(model, NULL, &plan), VITVK_OK);
    ck_assert_int_eq(vitvk_plan_create(model, NULL, &plan2), VITVK_OK);
    ck_assert_int_eq(vitvk_plan_create(bare, NULL, &bare_plan), VITVK_OK);
    img_rgb8 rgb = {.width = 40, .height = 30};
    rgb.pixels = calloc(40 * 30, 3);
    sources s;
    sources_make(&f, &rgb, &s);
    vitvk_input *in = NULL, *in2 = NULL, *bare_in = NULL;

    vitvk_input_desc d = s.desc[0];
    d.vk_format = VK_FORMAT_R8G8B8A8_SNORM;
    expect_error(&f, vitvk_input_create(plan, &d, &in), VITVK_ERR_INVALID_ARGUMENT, "SNORM format");
    ck_assert_ptr_null(in);
    d = s.desc[0];
    d.vk_layout = VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL;
    expect_error(&f, vitvk_input_create(plan, &d, &in), VITVK_ERR_INVALID_ARGUMENT, "transfer layout");
    d = s.desc[0];
    d.width = 0;
    expect_error(&f, vitvk_input_create(plan, &d, &in), VITVK_ERR_INVALID_ARGUMENT, "zero width");
    d.width = 65536;
    d.height = 65536;
    expect_error(&f, vitvk_input_create(plan, &d, &in), VITVK_ERR_INVALID_ARGUMENT, "too many pixels");
    d = s.desc[0];
    d.kind = (vitvk_input_kind)7;
    expect_error(&f, vitvk_input_create(plan, &d, &in), VITVK_ERR_INVALID_ARGUMENT, "unknown kind");
    d = s.desc[5];
    d.vk_offset = 2;
    expect_error(&f, vitvk_input_create(plan, &d, &in), VITVK_ERR_INVALID_ARGUMENT, "misaligned offset");
    d = s.desc[5];
    d.row_pitch = 8;
    expect_error(&f, vitvk_input_create(plan, &d, &in), VITVK_ERR_INVALID_ARGUMENT, "pitch under a row");
    d = s.desc[4];
    d.vk_buffer = 0;
    expect_error(&f, vitvk_input_create(plan, &d, &in), VITVK_ERR_INVALID_ARGUMENT, "null buffer");
    expect_error(&f, vitvk_input_create(plan, NULL, &in), VITVK_ERR_INVALID_ARGUMENT, "NULL desc");
    ck_assert_int_eq(vitvk_input_create(NULL, &s.desc[0], &in), VITVK_ERR_INVALID_ARGUMENT);
    vitvk_input_destroy(NULL);

    ck_assert_int_eq(vitvk_input_create(plan, &s.desc[0], &in), VITVK_OK);
    ck_assert_int_eq(vitvk_input_create(plan2, &s.desc[0], &in2), VITVK_OK);
    ck_assert_int_eq(vitvk_input_create(bare_plan, &s.desc[4], &bare_in), VITVK_OK);
    host_buffer out;
    ck_assert_int_eq(host_buffer_create(&f.h, 4096, VK_BUFFER_USAGE_TRANSFER_DST_BIT, &out), 0);
    vitvk_output o = {.kind = VITVK_OUTPUT_LOGITS};
    memcpy(&o.vk_buffer, &out.buffer, sizeof o.vk_buffer);
    VkCommandBuffer cmd;
    ck_assert_int_eq(host_begin(&f.h, &cmd), 0);
    vitvk_input *two[2] = {in, in};
    expect_error(&f, vitvk_plan_record(plan, cmd, two, 0, &o), VITVK_ERR_INVALID_ARGUMENT, "n = 0");
    expect_error(&f, vitvk_plan_record(plan, cmd, two, 2, &o), VITVK_ERR_INVALID_ARGUMENT, "n over the batch");
    expect_error(&f, vitvk_plan_record(plan, cmd, &in2, 1, &o), VITVK_ERR_INVALID_ARGUMENT, "another plan's input");
    expect_error(&f, vitvk_plan_record(plan, NULL, &in, 1, &o), VITVK_ERR_INVALID_ARGUMENT, "no command buffer");
    expect_error(&f, vitvk_plan_record(plan, cmd, &in, 1, NULL), VITVK_ERR_INVALID_ARGUMENT, "no output");
    vitvk_output bad = o;
    bad.kind = (vitvk_output_kind)9;
    expect_error(&f, vitvk_plan_record(plan, cmd, &in, 1, &bad), VITVK_ERR_INVALID_ARGUMENT, "unknown kind");
    bad = o;
    bad.vk_offset = 6;
    expect_error(&f, vitvk_plan_record(plan, cmd, &in, 1, &bad), VITVK_ERR_INVALID_ARGUMENT, "misaligned offset");
    bad = o;
    bad.vk_buffer = 0;
    expect_error(&f, vitvk_plan_record(plan, cmd, &in, 1, &bad), VITVK_ERR_INVALID_ARGUMENT, "null buffer");
    bad = o;
    bad.kind = VITVK_OUTPUT_TOP_K;
    bad.k = 0;
    expect_error(&f, vitvk_plan_record(plan, cmd, &in, 1, &bad), VITVK_ERR_INVALID_ARGUMENT, "k = 0");
    bad.k = 11;
    expect_error(&f, vitvk_plan_record(plan, cmd, &in, 1, &bad), VITVK_ERR_INVALID_ARGUMENT, "k over the labels");
    expect_error(&f, vitvk_plan_record(bare_plan, cmd, &bare_in, 1, &o), VITVK_ERR_INVALID_ARGUMENT,
                 "logits without a classifier");
    ck_assert_int_eq(vitvk_plan_record(NULL, cmd, &in, 1, &o), VITVK_ERR_INVALID_ARGUMENT);
    /* Nothing was recorded: the empty command buffer runs cleanly. */
    ck_assert_int_eq(host_submit_wait(&f.h, cmd), 0);

    host_buffer_destroy(&f.h, &out);
    vitvk_input_destroy(in);
    vitvk_input_destroy(in2);
    vitvk_input_destroy(bare_in);
    sources_free(&f, &s);
    img_free(&rgb);
    vitvk_plan_destroy(plan);
    vitvk_plan_destroy(plan2);
    vitvk_plan_destroy(bare_plan);
    vitvk_model_destroy(model);
    vitvk_model_destroy(bare);
    fixture_close(&f);
}
END_TEST

/* A preprocessor config whose output size is not the model's is refused
 * when the input is made. */
START_TEST(test_size_mismatch)
{
    fixture f;
    fixture_open(&f);
    char weights[512], dir[64], preproc[1024];
    snprintf(weights, sizeof weights, "%s/models/digits-vit", source_dir());
    snprintf(preproc, sizeof preproc, "%s/preprocess/fixtures/vit_preprocessor_config.json", data_dir());
    model_dir(dir, sizeof dir, weights, preproc); /* 224x224 pixels for a 32x32 model */
    vitvk_model *model;
    vitvk_plan *plan;
    ck_assert_int_eq(vitvk_model_load(f.ctx, dir, NULL, &model), VITVK_OK);
    ck_assert_int_eq(vitvk_plan_create(model, NULL, &plan), VITVK_OK);
    host_buffer buf;
    ck_assert_int_eq(host_buffer_create(&f.h, 64 * 64 * 4, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT, &buf), 0);
    vitvk_input_desc d = {.kind = VITVK_INPUT_BUFFER, .width = 64, .height = 64};
    memcpy(&d.vk_buffer, &buf.buffer, sizeof d.vk_buffer);
    vitvk_input *in = NULL;
    expect_error(&f, vitvk_input_create(plan, &d, &in), VITVK_ERR_UNSUPPORTED, "224x224 config, 32x32 model");
    ck_assert_ptr_null(in);
    host_buffer_destroy(&f.h, &buf);
    vitvk_plan_destroy(plan);
    vitvk_model_destroy(model);
    model_dir_remove(dir);
    fixture_close(&f);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("record");
    TCase *tc = tcase_create("record");
    tcase_set_timeout(tc, 600);
    tcase_add_loop_test(tc, test_gpu_preprocess_parity, 0, (int)(sizeof parity_cases / sizeof parity_cases[0]));
    tcase_add_loop_test(tc, test_outputs_match_run, 0, 2);
    tcase_add_test(tc, test_bad_arguments);
    tcase_add_test(tc, test_size_mismatch);
    suite_add_tcase(s, tc);
    return run_host_suite(s, "test_record");
}
