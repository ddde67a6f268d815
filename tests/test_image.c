/* test_image.c - image decoding, resizing and preprocessing against what
 * PIL and transformers give (tests/data/preprocess, see its README.md).
 *
 * Data: the directory given as argv[1], else $VITVK_TEST_DATA, else
 * "tests/data" (run from the repository root); files are read from its
 * preprocess/ subfolder. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* mkstemp */
#endif
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image.h"

static const char *g_data = "tests/data";
static char g_err[512];

/* ---- helpers ---- */

static const char *dp(const char *rel)
{
    static char bufs[4][1024];
    static int next;
    char *b = bufs[next++ & 3];
    snprintf(b, sizeof bufs[0], "%s/preprocess/%s", g_data, rel);
    return b;
}

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n);
    ck_assert_ptr_nonnull(q);
    return q;
}

static uint8_t *slurp(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s (set VITVK_TEST_DATA or pass the data directory)", path);
    size_t cap = 4096, len = 0;
    uint8_t *buf = xrealloc(NULL, cap);
    size_t n;
    while ((n = fread(buf + len, 1, cap - len, f)) > 0) {
        len += n;
        if (len == cap)
            buf = xrealloc(buf, cap *= 2);
    }
    fclose(f);
    *size = len;
    return buf;
}

/* One line of a cases.txt: up to 6 whitespace-separated fields. */
typedef struct case_line {
    char f[6][64];
    int n;
} case_line;

static int read_cases(const char *path, case_line **out)
{
    size_t size;
    char *text = (char *)slurp(path, &size);
    text = xrealloc(text, size + 1);
    text[size] = 0;
    int cap = 16, n = 0;
    case_line *lines = xrealloc(NULL, sizeof *lines * cap);
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        if (line[0] == '#' || line[0] == 0)
            continue;
        if (n == cap)
            lines = xrealloc(lines, sizeof *lines * (cap *= 2));
        case_line *c = &lines[n++];
        c->n = sscanf(line, "%63s %63s %63s %63s %63s %63s", c->f[0], c->f[1], c->f[2], c->f[3], c->f[4],
                      c->f[5]);
    }
    free(text);
    *out = lines;
    return n;
}

static void decode_ok(const char *path, img_rgb8 *img)
{
    vitvk_status st = img_decode_file(path, 0, img, g_err, sizeof g_err);
    ck_assert_msg(st == VITVK_OK, "%s: status %d: %s", path, st, g_err);
}

static void expect_error(vitvk_status got, vitvk_status want, const char *name)
{
    ck_assert_msg(got == want, "%s: status %d, expected %d (%s)", name, got, want, g_err);
    ck_assert_msg(strstr(g_err, name) != NULL, "message does not name %s: %s", name, g_err);
    ck_assert_msg(strchr(g_err, '\n') == NULL, "message is not one line: %s", g_err);
}

/* A temporary file with the given bytes and a chosen suffix. */
static void temp_file(char *path, size_t n, const char *suffix, const void *data, size_t len)
{
    snprintf(path, n, "%s/vitvk_img_XXXXXX%s", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", suffix);
    int fd = mkstemps(path, (int)strlen(suffix));
    ck_assert_int_ge(fd, 0);
    if (len)
        ck_assert_int_eq((int)write(fd, data, len), (int)len);
    close(fd);
}

static uint32_t xorshift(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

/* ---- decoding ---- */

START_TEST(test_decode_matches_pil)
{
    case_line *cases;
    int n = read_cases(dp("decode/cases.txt"), &cases);
    ck_assert_int_ge(n, 40);
    size_t exp_size;
    uint8_t *expected = slurp(dp("decode/expected.rgb"), &exp_size);
    size_t off = 0;
    for (int i = 0; i < n; i++) {
        const char *name = cases[i].f[0];
        uint32_t w = (uint32_t)atoi(cases[i].f[1]), h = (uint32_t)atoi(cases[i].f[2]);
        size_t bytes = (size_t)w * h * 3;
        ck_assert_uint_le(off + bytes, exp_size);
        img_rgb8 img;
        char rel[128];
        snprintf(rel, sizeof rel, "decode/%s", name);
        decode_ok(dp(rel), &img);
        ck_assert_msg(img.width == w && img.height == h, "%s: %ux%u, PIL says %ux%u", name, img.width,
                      img.height, w, h);
        size_t bad = 0, first = 0;
        for (size_t b = 0; b < bytes; b++)
            if (img.pixels[b] != expected[off + b] && bad++ == 0)
                first = b;
        ck_assert_msg(bad == 0, "%s (PIL mode %s): %zu of %zu bytes differ from PIL, first at %zu: %u vs %u",
                      name, cases[i].f[3], bad, bytes, first, img.pixels[first], expected[off + first]);
        img_free(&img);
        off += bytes;
    }
    ck_assert_uint_eq(off, exp_size);
    free(expected);
    free(cases);
}
END_TEST

START_TEST(test_decode_memory_same_as_file)
{
    size_t size;
    uint8_t *data = slurp(dp("decode/progressive.jpg"), &size);
    img_rgb8 a, b;
    decode_ok(dp("decode/progressive.jpg"), &a);
    ck_assert_int_eq(img_decode_memory(data, size, "mem.jpg", 0, &b, g_err, sizeof g_err), VITVK_OK);
    ck_assert_uint_eq(a.width, b.width);
    ck_assert_uint_eq(a.height, b.height);
    ck_assert_mem_eq(a.pixels, b.pixels, (size_t)a.width * a.height * 3);
    img_free(&a);
    img_free(&b);
    img_free(&b); /* idempotent */
    img_free(NULL);
    ck_assert_ptr_null(b.pixels);
    free(data);
}
END_TEST

START_TEST(test_refused_files)
{
    img_rgb8 img;
    const char *p;

    p = dp("decode/bad_huge.png"); /* 100000 x 100000, no image data at all */
    expect_error(img_decode_file(p, 0, &img, g_err, sizeof g_err), VITVK_ERR_LIMIT, p);
    ck_assert_ptr_null(img.pixels);
    p = dp("decode/bad_huge.jpg"); /* SOF says 60000 x 60000 */
    expect_error(img_decode_file(p, 0, &img, g_err, sizeof g_err), VITVK_ERR_LIMIT, p);
    p = dp("decode/bad_zero.png");
    expect_error(img_decode_file(p, 0, &img, g_err, sizeof g_err), VITVK_ERR_FORMAT, p);
    p = dp("decode/not_an_image.png");
    expect_error(img_decode_file(p, 0, &img, g_err, sizeof g_err), VITVK_ERR_FORMAT, p);
    p = dp("decode/no_such_file.png");
    expect_error(img_decode_file(p, 0, &img, g_err, sizeof g_err), VITVK_ERR_IO, p);
    /* A valid image over a caller's smaller limit. */
    p = dp("decode/rgb8.png");
    expect_error(img_decode_file(p, 100, &img, g_err, sizeof g_err), VITVK_ERR_LIMIT, p);
    p = dp("decode/baseline420.jpg");
    expect_error(img_decode_file(p, 100, &img, g_err, sizeof g_err), VITVK_ERR_LIMIT, p);

    char tmp[512];
    temp_file(tmp, sizeof tmp, ".png", NULL, 0);
    expect_error(img_decode_file(tmp, 0, &img, g_err, sizeof g_err), VITVK_ERR_FORMAT, tmp);
    unlink(tmp);
    expect_error(img_decode_memory((const uint8_t *)"", 0, "empty.png", 0, &img, g_err, sizeof g_err),
                 VITVK_ERR_FORMAT, "empty.png");

    ck_assert_int_eq(img_decode_file(NULL, 0, &img, NULL, 0), VITVK_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(img_decode_memory(NULL, 10, "x", 0, &img, NULL, 0), VITVK_ERR_INVALID_ARGUMENT);
}
END_TEST

START_TEST(test_random_bytes)
{
    static const uint8_t png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    static const uint8_t jpeg_soi[3] = {0xff, 0xd8, 0xff};
    uint32_t seed = 12345;
    uint8_t buf[2048];
    img_rgb8 img;
    for (int round = 0; round < 60; round++) {
        size_t len = 1 + xorshift(&seed) % sizeof buf;
        for (size_t i = 0; i < len; i++)
            buf[i] = (uint8_t)xorshift(&seed);
        /* Plain noise, then noise behind each real signature. */
        if (round % 3 == 1 && len > 8)
            memcpy(buf, png_sig, 8);
        if (round % 3 == 2 && len > 3)
            memcpy(buf, jpeg_soi, 3);
        vitvk_status st = img_decode_memory(buf, len, "noise.bin", 0, &img, g_err, sizeof g_err);
        expect_error(st, VITVK_ERR_FORMAT, "noise.bin");
        ck_assert_ptr_null(img.pixels);
    }
    /* A text file named .png */
    char tmp[512];
    const char *text = "hello, this is not a picture\n";
    temp_file(tmp, sizeof tmp, ".png", text, strlen(text));
    expect_error(img_decode_file(tmp, 0, &img, g_err, sizeof g_err), VITVK_ERR_FORMAT, tmp);
    unlink(tmp);
}
END_TEST

/* Offset just past the last IDAT chunk's data. */
static size_t png_idat_end(const uint8_t *d, size_t n)
{
    size_t pos = 8, end = 0;
    while (pos + 8 <= n) {
        uint32_t len = (uint32_t)d[pos] << 24 | (uint32_t)d[pos + 1] << 16 | (uint32_t)d[pos + 2] << 8 | d[pos + 3];
        if (memcmp(d + pos + 4, "IDAT", 4) == 0)
            end = pos + 8 + len;
        pos += 12 + (size_t)len;
    }
    return end;
}

static void truncations(const char *rel, size_t must_fail_below)
{
    size_t size;
    uint8_t *data = slurp(dp(rel), &size);
    img_rgb8 full, img;
    decode_ok(dp(rel), &full);
    size_t limit = must_fail_below ? must_fail_below : size;
    for (size_t cut = 0; cut < size; cut++) {
        /* A copy of exactly `cut` bytes, so ASan sees any over-read. */
        uint8_t *part = malloc(cut ? cut : 1);
        memcpy(part, data, cut);
        vitvk_status st = img_decode_memory(part, cut, "cut.bin", 0, &img, g_err, sizeof g_err);
        if (cut < limit) {
            ck_assert_msg(st == VITVK_ERR_FORMAT, "%s cut at %zu of %zu: status %d", rel, cut, size, st);
            ck_assert_msg(strstr(g_err, "cut.bin") != NULL, "message does not name the file: %s", g_err);
        } else {
            ck_assert_msg(st == VITVK_OK || st == VITVK_ERR_FORMAT, "%s cut at %zu: status %d", rel, cut, st);
            if (st == VITVK_OK)
                ck_assert_mem_eq(img.pixels, full.pixels, (size_t)full.width * full.height * 3);
        }
        img_free(&img);
        free(part);
    }
    img_free(&full);
    free(data);
}

START_TEST(test_truncated_png)
{
    const char *files[] = {"decode/rgb8.png", "decode/rgba16_adam7.png", "decode/palette4.png"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        size_t size;
        uint8_t *d = slurp(dp(files[i]), &size);
        size_t idat_end = png_idat_end(d, size);
        free(d);
        ck_assert_uint_gt(idat_end, 0);
        truncations(files[i], idat_end);
    }
}
END_TEST

START_TEST(test_truncated_jpeg)
{
    const char *files[] = {"decode/baseline420.jpg", "decode/progressive.jpg", "decode/grey.jpg"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        size_t size;
        uint8_t *d = slurp(dp(files[i]), &size);
        free(d);
        /* Everything but a missing EOI marker must be refused. */
        truncations(files[i], size - 2);
    }
}
END_TEST

START_TEST(test_corrupted_bytes)
{
    /* Every single-byte corruption of a small PNG and JPEG: any status is
     * fine as long as nothing crashes, leaks or reads out of bounds. */
    const char *files[] = {"decode/palette2_adam7.png", "decode/baseline444.jpg"};
    for (size_t i = 0; i < 2; i++) {
        size_t size;
        uint8_t *data = slurp(dp(files[i]), &size);
        for (size_t at = 0; at < size; at++) {
            uint8_t *copy = malloc(size);
            memcpy(copy, data, size);
            copy[at] ^= 0x5a;
            img_rgb8 img;
            vitvk_status st = img_decode_memory(copy, size, "flip.bin", 0, &img, g_err, sizeof g_err);
            ck_assert(st == VITVK_OK || st == VITVK_ERR_FORMAT || st == VITVK_ERR_LIMIT ||
                      st == VITVK_ERR_UNSUPPORTED);
            if (st != VITVK_OK)
                ck_assert_ptr_null(img.pixels);
            img_free(&img);
            free(copy);
        }
        free(data);
    }
}
END_TEST

/* ---- resizing ---- */

START_TEST(test_resize_matches_references)
{
    img_rgb8 src;
    decode_ok(dp("resize/src.png"), &src);
    case_line *cases;
    int n = read_cases(dp("resize/cases.txt"), &cases);
    size_t exp_size;
    uint8_t *expected = slurp(dp("resize/expected.rgb"), &exp_size);
    size_t off = 0;
    for (int i = 0; i < n; i++) {
        int backend = strcmp(cases[i].f[0], "pil") == 0 ? PREPROC_BACKEND_PIL : PREPROC_BACKEND_TORCHVISION;
        int filter = atoi(cases[i].f[1]);
        uint32_t w = (uint32_t)atoi(cases[i].f[2]), h = (uint32_t)atoi(cases[i].f[3]);
        size_t bytes = (size_t)w * h * 3;
        ck_assert_uint_le(off + bytes, exp_size);
        img_rgb8 out;
        vitvk_status st = img_resize(&src, w, h, filter, backend, &out, g_err, sizeof g_err);
        ck_assert_msg(st == VITVK_OK, "resize: %s", g_err);
        size_t bad = 0, first = 0;
        for (size_t b = 0; b < bytes; b++)
            if (out.pixels[b] != expected[off + b] && bad++ == 0)
                first = b;
        ck_assert_msg(bad == 0, "%s filter %d to %ux%u: %zu bytes differ from %s, first at %zu (%u vs %u)",
                      cases[i].f[0], filter, w, h, bad, cases[i].f[4], first, out.pixels[first],
                      expected[off + first]);
        img_free(&out);
        off += bytes;
    }
    ck_assert_uint_eq(off, exp_size);
    /* Same size: an exact copy in both backends and every filter. */
    for (int f = 0; f <= IMG_HAMMING; f++) {
        img_rgb8 out;
        ck_assert_int_eq(img_resize(&src, src.width, src.height, f, f & 1, &out, g_err, sizeof g_err), VITVK_OK);
        ck_assert_mem_eq(out.pixels, src.pixels, (size_t)src.width * src.height * 3);
        img_free(&out);
    }
    img_rgb8 out;
    ck_assert_int_eq(img_resize(&src, 0, 5, 2, 0, &out, g_err, sizeof g_err), VITVK_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(img_resize(&src, 5, 5, 9, 0, &out, g_err, sizeof g_err), VITVK_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(img_resize(&src, 100000, 100000, 2, 0, &out, g_err, sizeof g_err), VITVK_ERR_LIMIT);
    free(expected);
    free(cases);
    img_free(&src);
}
END_TEST

static uint64_t fnv1a64(const uint8_t *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

START_TEST(test_resize_photos_match_hashes)
{
    case_line *cases;
    int n = read_cases(dp("resize/photo_hashes.txt"), &cases);
    ck_assert_int_ge(n, 1);
    img_rgb8 photo = {0};
    char loaded[64] = "";
    for (int i = 0; i < n; i++) {
        if (strcmp(loaded, cases[i].f[0]) != 0) {
            char rel[128];
            img_free(&photo);
            snprintf(rel, sizeof rel, "fixtures/%s.png", cases[i].f[0]);
            decode_ok(dp(rel), &photo);
            snprintf(loaded, sizeof loaded, "%s", cases[i].f[0]);
        }
        int backend = strcmp(cases[i].f[1], "pil") == 0 ? PREPROC_BACKEND_PIL : PREPROC_BACKEND_TORCHVISION;
        int filter = atoi(cases[i].f[2]);
        uint32_t w = (uint32_t)atoi(cases[i].f[3]), h = (uint32_t)atoi(cases[i].f[4]);
        img_rgb8 out;
        ck_assert_int_eq(img_resize(&photo, w, h, filter, backend, &out, g_err, sizeof g_err), VITVK_OK);
        char got[17];
        snprintf(got, sizeof got, "%016llx", (unsigned long long)fnv1a64(out.pixels, (size_t)w * h * 3));
        ck_assert_msg(strcmp(got, cases[i].f[5]) == 0, "%s %s filter %d to %ux%u: hash %s, reference %s",
                      cases[i].f[0], cases[i].f[1], filter, w, h, got, cases[i].f[5]);
        img_free(&out);
    }
    img_free(&photo);
    free(cases);
}
END_TEST

/* ---- preprocessing against transformers ---- */

static const char *const procs[] = {"vit", "deit", "beit"};
static const char *const photos[] = {"chelsea", "coffee", "astronaut"};

/* Compares one processor x photo with the fixture; returns the largest
 * difference in input steps (rescale_factor / std). */
static double compare_fixture(const char *proc, const char *photo, int backend, double *exact_frac,
                              double *within1)
{
    char rel[128];
    preproc_config cfg;
    preproc_config_defaults(&cfg);
    snprintf(rel, sizeof rel, "fixtures/%s_preprocessor_config.json", proc);
    ck_assert_msg(preproc_config_load(dp(rel), &cfg, g_err, sizeof g_err) == VITVK_OK, "%s", g_err);
    cfg.backend = backend;

    img_rgb8 img, ref;
    snprintf(rel, sizeof rel, "fixtures/%s.png", photo);
    decode_ok(dp(rel), &img);
    snprintf(rel, sizeof rel, "fixtures/ref_%s_%s.png", proc, photo);
    decode_ok(dp(rel), &ref);

    uint32_t w, h;
    preproc_output_size(&cfg, img.width, img.height, &w, &h);
    ck_assert_uint_eq(w, ref.width);
    ck_assert_uint_eq(h, ref.height);
    size_t plane = (size_t)w * h;
    float *out = malloc(sizeof *out * plane * 3);
    ck_assert_msg(preprocess_image(&img, &cfg, out, g_err, sizeof g_err) == VITVK_OK, "%s", g_err);

    double step = cfg.rescale_factor / 0.5, worst = 0;
    size_t exact = 0, near = 0;
    for (int c = 0; c < 3; c++)
        for (size_t i = 0; i < plane; i++) {
            /* The stored level L decodes to the reference value exactly (README). */
            float want = ((float)ref.pixels[i * 3 + c] - 127.5f) / 127.5f;
            float got = out[c * plane + i];
            double d = fabs((double)got - (double)want) / step;
            exact += got == want;
            near += d <= 1.0 + 1e-4;
            if (d > worst)
                worst = d;
        }
    *exact_frac = (double)exact / (double)(plane * 3);
    *within1 = (double)near / (double)(plane * 3);
    free(out);
    img_free(&img);
    img_free(&ref);
    return worst;
}

START_TEST(test_fixtures_torchvision_backend)
{
    for (int p = 0; p < 3; p++)
        for (int q = 0; q < 3; q++) {
            double exact, within1;
            double worst = compare_fixture(procs[p], photos[q], PREPROC_BACKEND_TORCHVISION, &exact, &within1);
            printf("preprocess %s.%-9s torchvision: max diff %.4f steps, %.3f%% bit-exact\n", procs[p], photos[q],
                   worst, 100 * exact);
            ck_assert_msg(within1 >= 0.99 && worst <= 2.0, "%s.%s: %.2f steps", procs[p], photos[q], worst);
            /* This backend produced the fixtures; we reproduce it exactly. */
            ck_assert_msg(exact == 1.0, "%s.%s: only %.4f%% bit-exact", procs[p], photos[q], 100 * exact);
        }
}
END_TEST

START_TEST(test_fixtures_pil_backend)
{
    for (int p = 0; p < 3; p++)
        for (int q = 0; q < 3; q++) {
            double exact, within1;
            double worst = compare_fixture(procs[p], photos[q], PREPROC_BACKEND_PIL, &exact, &within1);
            printf("preprocess %s.%-9s pil:         max diff %.4f steps, %.3f%% bit-exact, %.3f%% within 1 step\n",
                   procs[p], photos[q], worst, 100 * exact, 100 * within1);
            ck_assert_msg(within1 >= 0.99 && worst <= 2.0, "%s.%s: %.2f steps", procs[p], photos[q], worst);
        }
}
END_TEST

START_TEST(test_digits_exact)
{
    case_line *cases;
    int n = read_cases(dp("digits/cases.txt"), &cases);
    ck_assert_int_ge(n, 1);
    size_t size;
    uint8_t *raw = slurp(dp("digits/pixel_values.f32"), &size);
    ck_assert_uint_eq(size, (size_t)n * 3 * 32 * 32 * 4);
    /* little-endian float32, whatever this machine's byte order */
    float *want = xrealloc(NULL, size);
    for (size_t k = 0; k < size / 4; k++) {
        uint32_t u = (uint32_t)raw[4 * k] | (uint32_t)raw[4 * k + 1] << 8 | (uint32_t)raw[4 * k + 2] << 16 |
                     (uint32_t)raw[4 * k + 3] << 24;
        memcpy(&want[k], &u, 4);
    }
    free(raw);
    preproc_config cfg;
    preproc_config_defaults(&cfg);
    ck_assert_msg(preproc_config_load(dp("digits/preprocessor_config.json"), &cfg, g_err, sizeof g_err) == VITVK_OK,
                  "%s", g_err);
    float out[3 * 32 * 32];
    double worst_tv = 0;
    for (int i = 0; i < n; i++) {
        char rel[128];
        snprintf(rel, sizeof rel, "digits/%s", cases[i].f[0]);
        img_rgb8 img;
        decode_ok(dp(rel), &img);
        uint32_t w, h;
        preproc_output_size(&cfg, img.width, img.height, &w, &h);
        ck_assert(w == 32 && h == 32);
        const float *row = want + (size_t)i * 3 * 32 * 32;
        /* The fixture was made with the PIL-backend arithmetic: bit-exact. */
        cfg.backend = PREPROC_BACKEND_PIL;
        ck_assert_int_eq(preprocess_image(&img, &cfg, out, g_err, sizeof g_err), VITVK_OK);
        for (int k = 0; k < 3 * 32 * 32; k++)
            ck_assert_msg(out[k] == row[k], "%s[%d]: %.9g vs %.9g", cases[i].f[0], k, out[k], row[k]);
        /* The torchvision arithmetic differs by at most a rounding step. */
        cfg.backend = PREPROC_BACKEND_TORCHVISION;
        ck_assert_int_eq(preprocess_image(&img, &cfg, out, g_err, sizeof g_err), VITVK_OK);
        for (int k = 0; k < 3 * 32 * 32; k++) {
            double d = fabs((double)out[k] - row[k]);
            if (d > worst_tv)
                worst_tv = d;
        }
        img_free(&img);
    }
    printf("digits: pil backend bit-exact on %d images; torchvision arithmetic max |diff| %.3g\n", n, worst_tv);
    ck_assert(worst_tv <= 1.2e-7);
    free(want);
    free(cases);
}
END_TEST

/* ---- configuration ---- */

static vitvk_status parse(const char *json, preproc_config *cfg)
{
    return preproc_config_parse(json, strlen(json), "cfg.json", cfg, g_err, sizeof g_err);
}

static void expect_bad_key(const char *json, const char *key)
{
    preproc_config cfg, before;
    preproc_config_defaults(&cfg);
    before = cfg;
    vitvk_status st = parse(json, &cfg);
    ck_assert_msg(st == VITVK_ERR_FORMAT, "%s: status %d", json, st);
    ck_assert_msg(strstr(g_err, key) && strstr(g_err, "cfg.json"), "%s: message %s", json, g_err);
    ck_assert_msg(memcmp(&cfg, &before, sizeof cfg) == 0, "%s: config changed on error", json);
}

START_TEST(test_config_parse)
{
    preproc_config cfg;
    preproc_config_defaults(&cfg);
    ck_assert_int_eq(cfg.do_resize, 1);
    ck_assert_uint_eq(cfg.size_height, 224);
    ck_assert_uint_eq(cfg.size_width, 224);
    ck_assert_int_eq(cfg.resample, IMG_BILINEAR);
    ck_assert_int_eq(cfg.do_center_crop, 0);
    ck_assert(cfg.rescale_factor == 1.0 / 255);
    ck_assert(cfg.image_mean[1] == 0.5f && cfg.image_std[2] == 0.5f);
    ck_assert_int_eq(cfg.backend, PREPROC_BACKEND_TORCHVISION);

    ck_assert_int_eq(preproc_config_load(dp("fixtures/deit_preprocessor_config.json"), &cfg, g_err, sizeof g_err),
                     VITVK_OK);
    ck_assert_str_eq(cfg.processor_type, "DeiTImageProcessor");
    ck_assert_uint_eq(cfg.size_height, 256);
    ck_assert_int_eq(cfg.resample, IMG_BICUBIC);
    ck_assert_int_eq(cfg.do_center_crop, 1);
    ck_assert_uint_eq(cfg.crop_width, 224);

    /* Old-style integers, nulls, single-value mean/std, numbers as flags. */
    preproc_config_defaults(&cfg);
    ck_assert_int_eq(parse("{\"size\": 384, \"crop_size\": 320, \"do_center_crop\": 1, \"resample\": null,"
                           " \"image_mean\": [0.25], \"image_std\": 0.75, \"feature_extractor_type\": \"X\"}",
                           &cfg),
                     VITVK_OK);
    ck_assert(cfg.size_height == 384 && cfg.size_width == 384 && cfg.shortest_edge == 0);
    ck_assert(cfg.crop_height == 320 && cfg.crop_width == 320 && cfg.do_center_crop == 1);
    ck_assert_int_eq(cfg.resample, IMG_BILINEAR);
    ck_assert(cfg.image_mean[0] == 0.25f && cfg.image_mean[2] == 0.25f && cfg.image_std[1] == 0.75f);
    ck_assert_str_eq(cfg.processor_type, "X");

    ck_assert_int_eq(parse("{\"size\": {\"shortest_edge\": 256}, \"image_mean\": [0.485, 0.456, 0.406]}", &cfg),
                     VITVK_OK);
    ck_assert_uint_eq(cfg.shortest_edge, 256);
    ck_assert(cfg.image_mean[0] == 0.485f && cfg.image_mean[2] == 0.406f);
    ck_assert_int_eq(parse("{\"image_processor_type\": \"ViTImageProcessorPil\"}", &cfg), VITVK_OK);
    ck_assert_int_eq(cfg.backend, PREPROC_BACKEND_PIL);

    expect_bad_key("{\"do_resize\": \"yes\"}", "do_resize");
    expect_bad_key("{\"size\": [224, 224]}", "size");
    expect_bad_key("{\"size\": {\"height\": 224}}", "size");
    expect_bad_key("{\"size\": {\"height\": 0, \"width\": 3}}", "size");
    expect_bad_key("{\"size\": {\"height\": 22.5, \"width\": 3}}", "size");
    expect_bad_key("{\"size\": {\"shortest_edge\": 224, \"longest_edge\": 1333}}", "size");
    expect_bad_key("{\"crop_size\": {\"shortest_edge\": 224}}", "crop_size");
    expect_bad_key("{\"resample\": 7}", "resample");
    expect_bad_key("{\"resample\": \"bilinear\"}", "resample");
    expect_bad_key("{\"do_center_crop\": [true]}", "do_center_crop");
    expect_bad_key("{\"rescale_factor\": \"1/255\"}", "rescale_factor");
    expect_bad_key("{\"rescale_factor\": 0}", "rescale_factor");
    expect_bad_key("{\"do_normalize\": {}}", "do_normalize");
    expect_bad_key("{\"image_mean\": [0.1, 0.2]}", "image_mean");
    expect_bad_key("{\"image_mean\": [0.1, \"a\", 0.3]}", "image_mean");
    expect_bad_key("{\"image_std\": [0.5, 0, 0.5]}", "image_std");
    /* found by fuzz_preproc: non-zero as a double, zero as float32 */
    expect_bad_key("{\"image_std\": 1e-320}", "image_std");
    expect_bad_key("{\"image_processor_type\": 3}", "image_processor_type");

    preproc_config_defaults(&cfg);
    ck_assert_int_eq(parse("{\"size\": ", &cfg), VITVK_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(g_err, "cfg.json"));
    ck_assert_int_eq(parse("[1, 2]", &cfg), VITVK_ERR_FORMAT);
    ck_assert_int_eq(preproc_config_load(dp("fixtures/nope.json"), &cfg, g_err, sizeof g_err), VITVK_ERR_IO);
}
END_TEST

START_TEST(test_output_sizes)
{
    preproc_config cfg;
    preproc_config_defaults(&cfg);
    uint32_t w, h;
    preproc_output_size(&cfg, 451, 300, &w, &h);
    ck_assert(w == 224 && h == 224);
    /* get_resize_output_image_size(default_to_square=False): int(256*451/300) = 384 */
    cfg.shortest_edge = 256;
    preproc_output_size(&cfg, 451, 300, &w, &h);
    ck_assert_msg(w == 384 && h == 256, "%ux%u", w, h);
    preproc_output_size(&cfg, 300, 451, &w, &h);
    ck_assert(w == 256 && h == 384);
    preproc_output_size(&cfg, 512, 512, &w, &h);
    ck_assert(w == 256 && h == 256);
    cfg.do_center_crop = 1;
    cfg.crop_width = 200;
    cfg.crop_height = 100;
    preproc_output_size(&cfg, 451, 300, &w, &h);
    ck_assert(w == 200 && h == 100);
    cfg.do_resize = 0;
    cfg.do_center_crop = 0;
    preproc_output_size(&cfg, 17, 9, &w, &h);
    ck_assert(w == 17 && h == 9);

    /* A shortest_edge resize runs end to end. */
    img_rgb8 img;
    decode_ok(dp("fixtures/chelsea.png"), &img);
    preproc_config_defaults(&cfg);
    cfg.shortest_edge = 64;
    cfg.resample = IMG_BICUBIC;
    preproc_output_size(&cfg, img.width, img.height, &w, &h);
    ck_assert(w == 96 && h == 64);
    float *out = malloc(sizeof *out * 3 * w * h);
    ck_assert_int_eq(preprocess_image(&img, &cfg, out, g_err, sizeof g_err), VITVK_OK);
    for (size_t i = 0; i < (size_t)3 * w * h; i++)
        ck_assert(out[i] >= -1.0f && out[i] <= 1.0f);
    free(out);
    img_free(&img);
}
END_TEST

START_TEST(test_center_crop_and_padding)
{
    /* A 3x2 image cropped to 6x4 with no resize: the backends pad the odd
     * margin on different sides (numpy: ceil first, torchvision: floor). */
    uint8_t px[3 * 2 * 3];
    for (int i = 0; i < 18; i++)
        px[i] = (uint8_t)(10 + i);
    img_rgb8 img = {3, 2, px};
    preproc_config cfg;
    preproc_config_defaults(&cfg);
    cfg.do_resize = 0;
    cfg.do_center_crop = 1;
    cfg.crop_width = 6;
    cfg.crop_height = 4;
    cfg.do_normalize = 0;
    cfg.do_rescale = 0;
    float out[3 * 4 * 6];
    for (int backend = 0; backend < 2; backend++) {
        cfg.backend = backend;
        ck_assert_int_eq(preprocess_image(&img, &cfg, out, g_err, sizeof g_err), VITVK_OK);
        int px0 = backend == PREPROC_BACKEND_PIL ? 2 : 1; /* pad of 3 columns */
        int py0 = 1;                                      /* pad of 2 rows */
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < 4; y++)
                for (int x = 0; x < 6; x++) {
                    int sx = x - px0, sy = y - py0;
                    float want = (sx >= 0 && sx < 3 && sy >= 0 && sy < 2) ? px[(sy * 3 + sx) * 3 + c] : 0.0f;
                    ck_assert_msg(out[c * 24 + y * 6 + x] == want, "backend %d c%d (%d,%d): %g vs %g", backend, c,
                                  x, y, out[c * 24 + y * 6 + x], want);
                }
    }
    /* A smaller crop takes the floor-centred window in both. */
    cfg.crop_width = 2;
    cfg.crop_height = 1;
    for (int backend = 0; backend < 2; backend++) {
        cfg.backend = backend;
        ck_assert_int_eq(preprocess_image(&img, &cfg, out, g_err, sizeof g_err), VITVK_OK);
        ck_assert(out[0] == px[0] && out[1] == px[3]); /* (3-2)//2 = 0, (2-1)//2 = 0 */
    }
    /* Rescale alone, in each backend's precision. */
    cfg.do_center_crop = 0;
    cfg.do_rescale = 1;
    cfg.rescale_factor = 1.0 / 255;
    cfg.backend = PREPROC_BACKEND_PIL;
    ck_assert_int_eq(preprocess_image(&img, &cfg, out, g_err, sizeof g_err), VITVK_OK);
    ck_assert(out[1] == (float)(13.0 / 255));
    cfg.backend = PREPROC_BACKEND_TORCHVISION;
    ck_assert_int_eq(preprocess_image(&img, &cfg, out, g_err, sizeof g_err), VITVK_OK);
    ck_assert(out[1] == 13.0f * (float)(1.0 / 255));
    ck_assert_int_eq(preprocess_image(NULL, &cfg, out, g_err, sizeof g_err), VITVK_ERR_INVALID_ARGUMENT);
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("image");
    TCase *dec = tcase_create("decode");
    tcase_add_test(dec, test_decode_matches_pil);
    tcase_add_test(dec, test_decode_memory_same_as_file);
    tcase_add_test(dec, test_refused_files);
    tcase_add_test(dec, test_random_bytes);
    tcase_add_test(dec, test_truncated_png);
    tcase_add_test(dec, test_truncated_jpeg);
    tcase_add_test(dec, test_corrupted_bytes);
    tcase_set_timeout(dec, 60);
    suite_add_tcase(s, dec);
    TCase *pre = tcase_create("preprocess");
    tcase_add_test(pre, test_resize_matches_references);
    tcase_add_test(pre, test_resize_photos_match_hashes);
    tcase_add_test(pre, test_fixtures_torchvision_backend);
    tcase_add_test(pre, test_fixtures_pil_backend);
    tcase_add_test(pre, test_digits_exact);
    tcase_add_test(pre, test_config_parse);
    tcase_add_test(pre, test_output_sizes);
    tcase_add_test(pre, test_center_crop_and_padding);
    tcase_set_timeout(pre, 60);
    suite_add_tcase(s, pre);
    return s;
}

int main(int argc, char **argv)
{
    if (argc > 1)
        g_data = argv[1];
    else if (getenv("VITVK_TEST_DATA"))
        g_data = getenv("VITVK_TEST_DATA");
    setvbuf(stdout, NULL, _IOLBF, 0);
    SRunner *sr = srunner_create(make_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
