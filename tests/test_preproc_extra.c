/* test_preproc_extra.c - timm's pretrained_cfg parser and transform details,
 * model-directory preprocessing lookup, and plat_list_dir. (The numbers
 * against PIL/timm references are checked end to end by
 * preprocess_parity.sh.) */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* mkdtemp, symlink */
#endif
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image.h"
#include "platform.h"

static char g_err[512];

static vitvk_status timm(const char *json, preproc_config *cfg)
{
    preproc_config_defaults(cfg);
    g_err[0] = 0;
    return preproc_config_parse_timm(json, strlen(json), "t.json", cfg, g_err, sizeof g_err);
}

START_TEST(test_timm_defaults)
{
    preproc_config c;
    /* timm's resolve_data_config defaults: 3x224x224, bicubic, crop_pct 0.875, ImageNet mean/std */
    ck_assert_int_eq(timm("{\"pretrained_cfg\": {}}", &c), VITVK_OK);
    ck_assert_int_eq(c.backend, PREPROC_BACKEND_TIMM);
    ck_assert_uint_eq(c.shortest_edge, 256);
    ck_assert_uint_eq(c.crop_height, 224);
    ck_assert_uint_eq(c.crop_width, 224);
    ck_assert_int_eq(c.do_center_crop, 1);
    ck_assert_int_eq(c.resample, IMG_BICUBIC);
    ck_assert(c.image_mean[0] == 0.485f && c.image_mean[1] == 0.456f && c.image_mean[2] == 0.406f);
    ck_assert(c.image_std[0] == 0.229f && c.image_std[1] == 0.224f && c.image_std[2] == 0.225f);
    ck_assert_str_eq(c.processor_type, "timm");
    /* the pretrained_cfg object alone reads the same */
    preproc_config d;
    ck_assert_int_eq(timm("{}", &d), VITVK_OK);
    ck_assert_int_eq(memcmp(&c, &d, sizeof c), 0);
    /* crop_pct 0.9 at 224: floor(248.88) */
    ck_assert_int_eq(timm("{\"pretrained_cfg\": {\"crop_pct\": 0.9, \"interpolation\": \"bilinear\"}}", &c), VITVK_OK);
    ck_assert_uint_eq(c.shortest_edge, 248);
    ck_assert_int_eq(c.resample, IMG_BILINEAR);
    /* crop_pct 0 means the default, as "crop_pct or DEFAULT_CROP_PCT" */
    ck_assert_int_eq(timm("{\"pretrained_cfg\": {\"crop_pct\": 0}}", &c), VITVK_OK);
    ck_assert_uint_eq(c.shortest_edge, 256);
}
END_TEST

START_TEST(test_timm_modes)
{
    preproc_config c;
    /* center with a non-square target: ResizeKeepRatio, bilinear whatever is configured */
    ck_assert_int_eq(timm("{\"input_size\": [3, 80, 112], \"crop_pct\": 0.9, \"interpolation\": \"bicubic\"}", &c),
                     VITVK_OK);
    ck_assert_uint_eq(c.keep_ratio_height, 88);
    ck_assert_uint_eq(c.keep_ratio_width, 124);
    ck_assert_int_eq(c.keep_ratio_longest, 0);
    ck_assert_int_eq(c.resample, IMG_BILINEAR);
    ck_assert_uint_eq(c.crop_height, 80);
    ck_assert_uint_eq(c.crop_width, 112);
    /* squash: both sides */
    ck_assert_int_eq(timm("{\"input_size\": [3, 96, 96], \"crop_pct\": 0.95, \"crop_mode\": \"squash\"}", &c), VITVK_OK);
    ck_assert_uint_eq(c.size_height, 101);
    ck_assert_uint_eq(c.size_width, 101);
    ck_assert_uint_eq(c.shortest_edge, 0);
    /* border: longest side, fill round(255 * mean) (Python rounds halves to even) */
    ck_assert_int_eq(timm("{\"input_size\": [3, 96, 128], \"crop_pct\": 1.0, \"crop_mode\": \"border\", "
                          "\"interpolation\": \"lanczos\", \"mean\": [0.485, 0.456, 0.5]}",
                          &c),
                     VITVK_OK);
    ck_assert_int_eq(c.keep_ratio_longest, 1);
    ck_assert_int_eq(c.resample, IMG_LANCZOS);
    ck_assert_uint_eq(c.pad_level[0], 124); /* 123.675 */
    ck_assert_uint_eq(c.pad_level[1], 116); /* 116.28 */
    ck_assert_uint_eq(c.pad_level[2], 128); /* 127.5 -> 128 (even) */
    /* a 1-element mean is repeated */
    ck_assert_int_eq(timm("{\"mean\": [0.25], \"std\": [0.5]}", &c), VITVK_OK);
    ck_assert(c.image_mean[2] == 0.25f && c.image_std[1] == 0.5f);
}
END_TEST

START_TEST(test_timm_errors)
{
    static const struct { const char *json; vitvk_status st; const char *key; } bad[] = {
        {"{\"input_size\": [224, 224]}", VITVK_ERR_FORMAT, "input_size"},
        {"{\"input_size\": [3, 0, 224]}", VITVK_ERR_FORMAT, "input_size"},
        {"{\"input_size\": [3, 22.5, 224]}", VITVK_ERR_FORMAT, "input_size"},
        {"{\"input_size\": [1, 224, 224]}", VITVK_ERR_UNSUPPORTED, "input_size"},
        {"{\"interpolation\": \"random\"}", VITVK_ERR_UNSUPPORTED, "interpolation"},
        {"{\"interpolation\": 3}", VITVK_ERR_FORMAT, "interpolation"},
        {"{\"crop_pct\": -1}", VITVK_ERR_FORMAT, "crop_pct"},
        {"{\"crop_pct\": 1e-9}", VITVK_ERR_FORMAT, "crop_pct"},
        {"{\"crop_mode\": \"zoom\"}", VITVK_ERR_UNSUPPORTED, "crop_mode"},
        {"{\"crop_border_pixels\": 4}", VITVK_ERR_UNSUPPORTED, "crop_border_pixels"},
        {"{\"mean\": [0.5, 0.5]}", VITVK_ERR_FORMAT, "mean"},
        {"{\"std\": [0.5, 0, 0.5]}", VITVK_ERR_FORMAT, "std"},
        {"{\"pretrained_cfg\": 3}", VITVK_ERR_FORMAT, "pretrained_cfg"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        preproc_config c, before;
        preproc_config_defaults(&c);
        before = c;
        g_err[0] = 0;
        vitvk_status st = preproc_config_parse_timm(bad[i].json, strlen(bad[i].json), "t.json", &c, g_err, sizeof g_err);
        ck_assert_msg(st == bad[i].st, "%s: status %d, want %d (%s)", bad[i].json, st, bad[i].st, g_err);
        ck_assert_msg(strstr(g_err, bad[i].key) && strstr(g_err, "t.json") && !strchr(g_err, '\n'),
                      "%s: message \"%s\" should name t.json and %s", bad[i].json, g_err, bad[i].key);
        ck_assert_int_eq(memcmp(&c, &before, sizeof c), 0); /* untouched on failure */
    }
    preproc_config c;
    ck_assert_int_eq(timm("[1, 2]", &c), VITVK_ERR_FORMAT);
    ck_assert_int_eq(timm("{", &c), VITVK_ERR_FORMAT);
    ck_assert_int_eq(preproc_config_from_timm_json(NULL, "x", &c, g_err, sizeof g_err), VITVK_ERR_FORMAT);
}
END_TEST

/* An image whose red level is its column and green its row. */
static img_rgb8 ramp(uint32_t w, uint32_t h)
{
    img_rgb8 img = {w, h, malloc((size_t)w * h * 3)};
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++) {
            uint8_t *p = img.pixels + ((size_t)y * w + x) * 3;
            p[0] = (uint8_t)x, p[1] = (uint8_t)y, p[2] = 7;
        }
    return img;
}

/* The level of the first output value of channel c (inverts the timm LUT). */
static int first_level(const float *out, size_t plane, int c, const preproc_config *cfg)
{
    for (int v = 0; v < 256; v++) {
        float x = (float)v / 255.0f;
        float d = x - cfg->image_mean[c];
        if (d / cfg->image_std[c] == out[(size_t)c * plane])
            return v;
    }
    return -1;
}

START_TEST(test_timm_crop_rounding)
{
    /* torchvision's CenterCrop takes int(round((in - crop) / 2.0)): halves
     * to even. Offsets for in - crop = 1, 3, 5, 7: 0, 2, 2, 4 (floor: 0, 1, 2, 3). */
    static const uint32_t extra[] = {1, 3, 5, 7};
    static const int want[] = {0, 2, 2, 4};
    for (int i = 0; i < 4; i++) {
        preproc_config c;
        ck_assert_int_eq(timm("{\"input_size\": [3, 16, 16], \"crop_pct\": 1.0, \"crop_mode\": \"squash\"}", &c),
                         VITVK_OK);
        c.do_resize = 0; /* crop only */
        img_rgb8 img = ramp(16 + extra[i], 16 + extra[i]);
        float out[3 * 16 * 16];
        ck_assert_int_eq(preprocess_image(&img, &c, out, g_err, sizeof g_err), VITVK_OK);
        ck_assert_int_eq(first_level(out, 256, 0, &c), want[i]);
        ck_assert_int_eq(first_level(out, 256, 1, &c), want[i]);
        /* transformers' backends take the floor */
        c.backend = PREPROC_BACKEND_PIL;
        ck_assert_int_eq(preprocess_image(&img, &c, out, g_err, sizeof g_err), VITVK_OK);
        float x = (float)((double)(extra[i] / 2) * (1.0 / 255.0)), dx = x - c.image_mean[0];
        ck_assert_float_eq(out[0], dx / c.image_std[0]);
        img_free(&img);
    }
    /* border mode pads with the mean's level, floor(pad / 2) first */
    preproc_config c;
    ck_assert_int_eq(timm("{\"input_size\": [3, 8, 12], \"crop_pct\": 1.0, \"crop_mode\": \"border\"}", &c), VITVK_OK);
    img_rgb8 img = ramp(9, 3); /* -> ratio max(3/8, 9/12) = 0.75: 4 x 12, then padded to 8 x 12 */
    uint32_t w, h;
    preproc_output_size(&c, 9, 3, &w, &h);
    ck_assert_uint_eq(w, 12);
    ck_assert_uint_eq(h, 8);
    float out[3 * 8 * 12];
    ck_assert_int_eq(preprocess_image(&img, &c, out, g_err, sizeof g_err), VITVK_OK);
    ck_assert_int_eq(first_level(out, 96, 0, &c), 124); /* row 0 is padding: round(255 * 0.485) */
    ck_assert_int_eq(first_level(out, 96, 2, &c), 104); /* round(255 * 0.406) */
    img_free(&img);
}
END_TEST

START_TEST(test_model_dir_lookup)
{
    char dir[] = "/tmp/vitvk_pre_XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[512];
    preproc_config c;
    /* no config.json: an error naming it */
    ck_assert_int_eq(preproc_config_for_model_dir(dir, &c, g_err, sizeof g_err), VITVK_ERR_IO);
    ck_assert_ptr_nonnull(strstr(g_err, "config.json"));
    /* image_size [h, w] and no preprocessor_config.json: transformers' defaults at that size */
    snprintf(path, sizeof path, "%s/config.json", dir);
    FILE *f = fopen(path, "w");
    fputs("{\"model_type\": \"vit\", \"image_size\": [20, 24]}", f);
    fclose(f);
    ck_assert_int_eq(preproc_config_for_model_dir(dir, &c, g_err, sizeof g_err), VITVK_OK);
    ck_assert_uint_eq(c.size_height, 20);
    ck_assert_uint_eq(c.size_width, 24);
    ck_assert_int_eq(c.backend, PREPROC_BACKEND_TORCHVISION);
    /* preprocessor_config.json overrides */
    char pp[512];
    snprintf(pp, sizeof pp, "%s/preprocessor_config.json", dir);
    f = fopen(pp, "w");
    fputs("{\"image_processor_type\": \"ViTImageProcessorPil\", \"size\": {\"height\": 16, \"width\": 16}}", f);
    fclose(f);
    ck_assert_int_eq(preproc_config_for_model_dir(dir, &c, g_err, sizeof g_err), VITVK_OK);
    ck_assert_uint_eq(c.size_height, 16);
    ck_assert_int_eq(c.backend, PREPROC_BACKEND_PIL);
    /* load_any tells the two kinds of file apart */
    preproc_config_defaults(&c);
    ck_assert_int_eq(preproc_config_load_any(pp, &c, g_err, sizeof g_err), VITVK_OK);
    ck_assert_uint_eq(c.size_width, 16);
    /* a timm config.json */
    f = fopen(path, "w");
    fputs("{\"architecture\": \"vit_tiny_patch16_224\", \"pretrained_cfg\": {\"input_size\": [3, 64, 64]}}", f);
    fclose(f);
    ck_assert_int_eq(preproc_config_for_model_dir(dir, &c, g_err, sizeof g_err), VITVK_OK);
    ck_assert_int_eq(c.backend, PREPROC_BACKEND_TIMM);
    ck_assert_uint_eq(c.crop_height, 64);
    ck_assert_uint_eq(c.shortest_edge, 73); /* floor(64 / 0.875) */
    /* a bad image_size */
    f = fopen(path, "w");
    fputs("{\"image_size\": \"big\"}", f);
    fclose(f);
    ck_assert_int_eq(preproc_config_for_model_dir(dir, &c, g_err, sizeof g_err), VITVK_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(g_err, "image_size"));
    unlink(pp);
    unlink(path);
    rmdir(dir);
}
END_TEST

START_TEST(test_list_dir)
{
    char dir[] = "/tmp/vitvk_dir_XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char p[512];
    const char *files[] = {"b.png", "a.jpg", "C.JPEG", ".hidden"};
    for (int i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, files[i]);
        FILE *f = fopen(p, "w");
        fclose(f);
    }
    snprintf(p, sizeof p, "%s/sub", dir);
    ck_assert_int_eq(mkdir(p, 0700), 0);
    snprintf(p, sizeof p, "%s/up", dir);
    ck_assert_int_eq(symlink(".", p), 0);
    snprintf(p, sizeof p, "%s/dangling", dir);
    ck_assert_int_eq(symlink("nowhere", p), 0);

    plat_dir_entry *e;
    size_t n;
    ck_assert_int_eq(plat_list_dir(dir, &e, &n, g_err, sizeof g_err), VITVK_OK);
    static const char *const order[] = {".hidden", "C.JPEG", "a.jpg", "b.png", "dangling", "sub", "up"};
    static const int kind[] = {PLAT_ENTRY_FILE, PLAT_ENTRY_FILE, PLAT_ENTRY_FILE, PLAT_ENTRY_FILE,
                               PLAT_ENTRY_OTHER, PLAT_ENTRY_DIR, PLAT_ENTRY_DIR};
    static const int link[] = {0, 0, 0, 0, 1, 0, 1};
    ck_assert_uint_eq(n, 7);
    for (size_t i = 0; i < n; i++) {
        ck_assert_str_eq(e[i].name, order[i]);
        ck_assert_int_eq(e[i].kind, kind[i]);
        ck_assert_int_eq(e[i].is_link, link[i]);
    }
    plat_free_dir_list(e, n);
    plat_free_dir_list(NULL, 0);

    snprintf(p, sizeof p, "%s/nope", dir);
    ck_assert_int_eq(plat_list_dir(p, &e, &n, g_err, sizeof g_err), VITVK_ERR_IO);
    ck_assert_ptr_nonnull(strstr(g_err, p));
    ck_assert_ptr_null(e);
    ck_assert_uint_eq(n, 0);

    for (int i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, files[i]);
        unlink(p);
    }
    const char *rest[] = {"up", "dangling"};
    for (int i = 0; i < 2; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, rest[i]);
        unlink(p);
    }
    snprintf(p, sizeof p, "%s/sub", dir);
    rmdir(p);
    rmdir(dir);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("preproc_extra");
    TCase *t = tcase_create("timm");
    tcase_add_test(t, test_timm_defaults);
    tcase_add_test(t, test_timm_modes);
    tcase_add_test(t, test_timm_errors);
    tcase_add_test(t, test_timm_crop_rounding);
    suite_add_tcase(s, t);
    TCase *d = tcase_create("dirs");
    tcase_add_test(d, test_model_dir_lookup);
    tcase_add_test(d, test_list_dir);
    suite_add_tcase(s, d);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? 1 : 0;
}
