/* test_safetensors.c - the safetensors reader, writer and platform helpers.
 * Every malformed file is built byte by byte in a fresh temporary directory,
 * so the test needs no fixtures. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* mkdtemp, memmem */
#endif
#include <check.h>
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "half.h"
#include "platform.h"
#include "safetensors.h"

static char g_dir[256];
static char g_err[512];

static void setup(void)
{
    snprintf(g_dir, sizeof g_dir, "%s/vitvk_st_XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(g_dir));
    g_err[0] = '\0';
}

static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char p[1024];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        if (plat_is_dir(p))
            remove_tree(p);
        else
            unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

static void teardown(void)
{
    remove_tree(g_dir);
}

/* path of `name` inside the test directory; four rotating buffers so a test
 * can hold a few at once */
static const char *tp(const char *name)
{
    static char bufs[4][600];
    static int next;
    char *b = bufs[next++ & 3];
    snprintf(b, sizeof bufs[0], "%s/%s", g_dir, name);
    return b;
}

static void write_bytes(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    if (n)
        ck_assert_uint_eq(fwrite(p, 1, n, f), n);
    ck_assert_int_eq(fclose(f), 0);
}

/* A safetensors file with the given header text and data bytes; hlen is
 * the declared header length (UINT64_MAX: the real one). */
static void write_st_n(const char *path, const char *json, size_t jl, uint64_t hlen,
                       const void *data, size_t dlen)
{
    if (hlen == UINT64_MAX)
        hlen = jl;
    uint8_t *buf = malloc(8 + jl + dlen + 1);
    ck_assert_ptr_nonnull(buf);
    for (int i = 0; i < 8; i++)
        buf[i] = (uint8_t)(hlen >> (8 * i));
    memcpy(buf + 8, json, jl);
    if (dlen)
        memcpy(buf + 8 + jl, data, dlen);
    write_bytes(path, buf, 8 + jl + dlen);
    free(buf);
}

static void write_st(const char *path, const char *json, uint64_t hlen, const void *data,
                     size_t dlen)
{
    write_st_n(path, json, strlen(json), hlen, data, dlen);
}

/* ST_TEST_VERBOSE=1 prints every expected error message, to review them */
static void show(vitvk_status s)
{
    if (getenv("ST_TEST_VERBOSE"))
        fprintf(stderr, "[%d] %s\n", (int)s, g_err);
}

static void expect_file_error(const char *path, vitvk_status want, const char *substr)
{
    st_archive *a = (st_archive *)1;
    vitvk_status s = st_open_file(path, &a, g_err, sizeof g_err);
    show(s);
    ck_assert_msg(s == want, "status %d, want %d: %s", s, want, g_err);
    ck_assert_ptr_null(a);
    ck_assert_msg(strstr(g_err, path) != NULL, "message does not name the file: %s", g_err);
    if (substr)
        ck_assert_msg(strstr(g_err, substr) != NULL, "message lacks '%s': %s", substr, g_err);
}

/* A JSON header with one F32 tensor "t" of `shape` at `offsets`. */
static void one_tensor(const char *path, const char *dtype, const char *shape,
                       const char *offsets, size_t dlen)
{
    char json[512];
    snprintf(json, sizeof json,
             "{\"t\":{\"dtype\":\"%s\",\"shape\":%s,\"data_offsets\":%s}}", dtype, shape,
             offsets);
    uint8_t data[64] = {0};
    ck_assert_uint_le(dlen, sizeof data);
    write_st(path, json, UINT64_MAX, data, dlen);
}

/* ------------------------------------------------------------------ */

static const float k_vals[6] = {1.0f, -2.5f, 0.333333f, 1e-3f, 65504.0f, -0.0f};

static void make_three(st_write_tensor t[5], float f32[6], uint16_t f16[4], uint16_t bf16[4],
                       float *scalar)
{
    memcpy(f32, k_vals, sizeof k_vals);
    for (int i = 0; i < 4; i++) {
        f16[i] = vk_f32_to_f16(k_vals[i]);
        bf16[i] = vk_f32_to_bf16(k_vals[i + 1]);
    }
    *scalar = 42.0f;
    memset(t, 0, 5 * sizeof *t);
    t[0] = (st_write_tensor){.name = "w.f32", .dtype = ST_F32, .rank = 2, .shape = {2, 3},
                             .data = f32};
    t[1] = (st_write_tensor){.name = "w.f16", .dtype = ST_F16, .rank = 1, .shape = {4},
                             .data = f16};
    t[2] = (st_write_tensor){.name = "w \"bf16\"", .dtype = ST_BF16, .rank = 2,
                             .shape = {2, 2}, .data = bf16};
    t[3] = (st_write_tensor){.name = "scalar", .dtype = ST_F32, .rank = 0, .data = scalar};
    t[4] = (st_write_tensor){.name = "empty", .dtype = ST_F32, .rank = 2, .shape = {0, 7},
                             .data = NULL};
}

static void check_three(const st_archive *a)
{
    ck_assert_uint_eq(st_count(a), 5);
    float out[6];
    const st_tensor *t = st_find(a, "w.f32");
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(t->dtype, ST_F32);
    ck_assert_int_eq(t->rank, 2);
    ck_assert_int_eq(t->shape[0], 2);
    ck_assert_int_eq(t->shape[1], 3);
    ck_assert_int_eq(t->numel, 6);
    ck_assert_uint_eq(t->nbytes, 24);
    ck_assert_int_eq(st_to_f32(t, out, g_err, sizeof g_err), VITVK_OK);
    ck_assert_mem_eq(out, k_vals, sizeof k_vals);

    t = st_find(a, "w.f16");
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(t->dtype, ST_F16);
    ck_assert_int_eq(st_to_f32(t, out, g_err, sizeof g_err), VITVK_OK);
    for (int i = 0; i < 4; i++)
        ck_assert_float_eq(out[i], vk_f16_to_f32(vk_f32_to_f16(k_vals[i])));

    t = st_find(a, "w \"bf16\"");
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(t->dtype, ST_BF16);
    ck_assert_int_eq(st_to_f32(t, out, g_err, sizeof g_err), VITVK_OK);
    for (int i = 0; i < 4; i++)
        ck_assert_float_eq(out[i], vk_bf16_to_f32(vk_f32_to_bf16(k_vals[i + 1])));

    t = st_find(a, "scalar");
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(t->rank, 0);
    ck_assert_int_eq(t->numel, 1);
    ck_assert_int_eq(st_to_f32(t, out, g_err, sizeof g_err), VITVK_OK);
    ck_assert_float_eq(out[0], 42.0f);

    t = st_find(a, "empty");
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(t->numel, 0);
    ck_assert_uint_eq(t->nbytes, 0);

    ck_assert_ptr_null(st_find(a, "missing"));
    ck_assert_ptr_null(st_find(a, "__metadata__"));
    for (size_t i = 1; i < st_count(a); i++) /* st_get is in name order */
        ck_assert_int_lt(strcmp(st_get(a, i - 1)->name, st_get(a, i)->name), 0);
    ck_assert_ptr_null(st_get(a, st_count(a)));
}

START_TEST(roundtrip_single)
{
    st_write_tensor t[5];
    float f32[6], scalar;
    uint16_t f16[4], bf16[4];
    make_three(t, f32, f16, bf16, &scalar);
    const char *path = tp("model.safetensors");
    ck_assert_int_eq(st_write_file(path, t, 5, g_err, sizeof g_err), VITVK_OK);

    plat_map m;
    ck_assert_int_eq(plat_map_file(path, &m, g_err, sizeof g_err), VITVK_OK);
    uint64_t hl = 0;
    for (int i = 7; i >= 0; i--)
        hl = (hl << 8) | m.data[i];
    ck_assert_uint_eq(hl % 8, 0); /* data section aligned */
    ck_assert_ptr_nonnull(memmem(m.data + 8, hl, "\"__metadata__\":{\"format\":\"pt\"}", 30));
    plat_unmap(&m);
    ck_assert_ptr_null(m.data);

    st_archive *a = NULL;
    ck_assert_int_eq(st_open_file(path, &a, g_err, sizeof g_err), VITVK_OK);
    check_three(a);
    st_close(a);

    a = NULL;
    ck_assert_int_eq(st_open_dir(g_dir, &a, g_err, sizeof g_err), VITVK_OK);
    check_three(a);
    st_close(a);
    st_close(NULL);
}
END_TEST

START_TEST(roundtrip_streaming)
{
    float big[1000];
    for (int i = 0; i < 1000; i++)
        big[i] = (float)i * 0.5f;
    st_write_tensor t[2] = {
        {.name = "a", .dtype = ST_F32, .rank = 2, .shape = {10, 100}},
        {.name = "b", .dtype = ST_F32, .rank = 1, .shape = {3}},
    };
    const char *path = tp("s.safetensors");
    st_writer *w;
    ck_assert_int_eq(st_writer_open(path, t, 2, &w, g_err, sizeof g_err), VITVK_OK);
    for (int i = 0; i < 10; i++) /* in chunks unrelated to tensor boundaries */
        ck_assert_int_eq(st_writer_write(w, big + 100 * i, 400, g_err, sizeof g_err),
                         VITVK_OK);
    ck_assert_int_eq(st_writer_write(w, big, 12, g_err, sizeof g_err), VITVK_OK);
    ck_assert_int_eq(st_writer_finish(w, g_err, sizeof g_err), VITVK_OK);
    st_archive *a;
    ck_assert_int_eq(st_open_file(path, &a, g_err, sizeof g_err), VITVK_OK);
    ck_assert_mem_eq(st_find(a, "a")->data, big, sizeof big);
    ck_assert_mem_eq(st_find(a, "b")->data, big, 12);
    st_close(a);

    /* too few bytes: error, and no half-written file left behind */
    ck_assert_int_eq(st_writer_open(path, t, 2, &w, g_err, sizeof g_err), VITVK_OK);
    ck_assert_int_eq(st_writer_write(w, big, 400, g_err, sizeof g_err), VITVK_OK);
    ck_assert_int_eq(st_writer_finish(w, g_err, sizeof g_err), VITVK_ERR_INVALID_ARGUMENT);
    ck_assert(!plat_file_exists(path));

    /* too many bytes */
    ck_assert_int_eq(st_writer_open(path, t + 1, 1, &w, g_err, sizeof g_err), VITVK_OK);
    ck_assert_int_eq(st_writer_write(w, big, 16, g_err, sizeof g_err),
                     VITVK_ERR_INVALID_ARGUMENT);
    st_writer_abort(w);
    ck_assert(!plat_file_exists(path));
    st_writer_abort(NULL);
}
END_TEST

START_TEST(writer_rejects)
{
    float x = 1.0f;
    st_write_tensor dup[2] = {
        {.name = "x", .dtype = ST_F32, .rank = 0, .data = &x},
        {.name = "x", .dtype = ST_F32, .rank = 0, .data = &x},
    };
    const char *path = tp("w.safetensors");
    ck_assert_int_eq(st_write_file(path, dup, 2, g_err, sizeof g_err),
                     VITVK_ERR_INVALID_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(g_err, "'x'"));
    st_write_tensor neg = {.name = "n", .dtype = ST_F32, .rank = 1, .shape = {-1}, .data = &x};
    ck_assert_int_eq(st_write_file(path, &neg, 1, g_err, sizeof g_err),
                     VITVK_ERR_INVALID_ARGUMENT);
    st_write_tensor meta = {.name = "__metadata__", .dtype = ST_F32, .rank = 0, .data = &x};
    ck_assert_int_eq(st_write_file(path, &meta, 1, g_err, sizeof g_err),
                     VITVK_ERR_INVALID_ARGUMENT);
    st_write_tensor nodata = {.name = "d", .dtype = ST_F32, .rank = 1, .shape = {2}};
    ck_assert_int_eq(st_write_file(path, &nodata, 1, g_err, sizeof g_err),
                     VITVK_ERR_INVALID_ARGUMENT);
    ck_assert(!plat_file_exists(path));
    ck_assert_int_eq(st_write_file(tp("no/such/dir.safetensors"), NULL, 0, g_err,
                                   sizeof g_err),
                     VITVK_ERR_IO);
    /* zero tensors is a valid file */
    st_archive *a;
    ck_assert_int_eq(st_write_file(path, NULL, 0, g_err, sizeof g_err), VITVK_OK);
    ck_assert_int_eq(st_open_file(path, &a, g_err, sizeof g_err), VITVK_OK);
    ck_assert_uint_eq(st_count(a), 0);
    ck_assert_ptr_null(st_find(a, "x"));
    st_close(a);
}
END_TEST

START_TEST(unaligned_and_f64)
{
    /* header length 109: the data section starts at an odd address */
    double d[2] = {0.25, -1e10};
    float f = 3.5f;
    uint8_t data[20];
    memcpy(data, &f, 4);
    memcpy(data + 4, d, 16);
    const char *json = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                       "\"b\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[4,20]}} ";
    const char *path = tp("u.safetensors");
    write_st(path, json, UINT64_MAX, data, sizeof data);
    st_archive *a;
    ck_assert_int_eq(st_open_file(path, &a, g_err, sizeof g_err), VITVK_OK);
    float out[2];
    ck_assert_int_eq(st_to_f32(st_find(a, "a"), out, g_err, sizeof g_err), VITVK_OK);
    ck_assert_float_eq(out[0], 3.5f);
    ck_assert_int_eq(st_to_f32(st_find(a, "b"), out, g_err, sizeof g_err), VITVK_OK);
    ck_assert_float_eq(out[0], 0.25f);
    ck_assert_float_eq(out[1], -1e10f);
    st_close(a);
}
END_TEST

START_TEST(integer_dtypes)
{
    const char *json = "{\"i\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[0,16]},"
                       "\"b\":{\"dtype\":\"BOOL\",\"shape\":[3],\"data_offsets\":[16,19]},"
                       "\"e\":{\"dtype\":\"F8_E5M2\",\"shape\":[1],\"data_offsets\":[19,20]},"
                       "\"__metadata__\":{\"format\":\"pt\",\"x\":\"y\"}}";
    uint8_t data[20] = {0};
    const char *path = tp("i.safetensors");
    write_st(path, json, UINT64_MAX, data, sizeof data);
    st_archive *a;
    ck_assert_int_eq(st_open_file(path, &a, g_err, sizeof g_err), VITVK_OK);
    ck_assert_uint_eq(st_count(a), 3);
    const st_tensor *t = st_find(a, "i");
    ck_assert_int_eq(t->dtype, ST_I64);
    ck_assert(!st_dtype_is_float(t->dtype));
    float out[2];
    ck_assert_int_eq(st_to_f32(t, out, g_err, sizeof g_err), VITVK_ERR_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(g_err, "'i'"));
    ck_assert_str_eq(st_dtype_name(ST_BF16), "BF16");
    ck_assert_uint_eq(st_dtype_size(ST_F8_E4M3), 1);
    st_close(a);
}
END_TEST

/* ---- malformed single files ---- */

START_TEST(bad_too_short)
{
    const char *path = tp("short.safetensors");
    write_bytes(path, "\x10\0\0\0\0", 5);
    expect_file_error(path, VITVK_ERR_FORMAT, "too short");
    write_bytes(path, "", 0);
    expect_file_error(path, VITVK_ERR_FORMAT, "too short");
}
END_TEST

START_TEST(bad_header_cut)
{
    /* a valid file truncated in the middle of its header */
    const char *path = tp("cut.safetensors");
    const char *json = "{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}";
    write_st(path, json, strlen(json) + 40, NULL, 0);
    expect_file_error(path, VITVK_ERR_FORMAT, "past the end");
}
END_TEST

START_TEST(bad_header_length)
{
    const char *path = tp("len.safetensors");
    write_st(path, "{}", (uint64_t)1 << 40, NULL, 0);
    expect_file_error(path, VITVK_ERR_FORMAT, "past the end");
    write_st(path, "{}", UINT64_MAX - 1, NULL, 0);
    expect_file_error(path, VITVK_ERR_FORMAT, "past the end");
    write_st(path, "{}", 0, NULL, 0);
    expect_file_error(path, VITVK_ERR_FORMAT, "length is 0");
}
END_TEST

START_TEST(bad_json)
{
    const char *path = tp("json.safetensors");
    write_st(path, "{\"t\": {\"dtype\": \"F32\", ", UINT64_MAX, NULL, 0);
    expect_file_error(path, VITVK_ERR_FORMAT, "not valid JSON");
    write_st(path, "[1, 2]", UINT64_MAX, NULL, 0);
    expect_file_error(path, VITVK_ERR_FORMAT, "not a JSON object");
    write_st(path, "{} x", UINT64_MAX, NULL, 0);
    expect_file_error(path, VITVK_ERR_FORMAT, "after its JSON");
    write_st_n(path, "{}\0  ", 5, 5, NULL, 0);
    expect_file_error(path, VITVK_ERR_FORMAT, "NUL");
    write_st(path, "{\"t\": 5}", UINT64_MAX, NULL, 0);
    expect_file_error(path, VITVK_ERR_FORMAT, "not an object");
    write_st(path, "{\"__metadata__\": {\"a\": 1}}", UINT64_MAX, NULL, 0);
    expect_file_error(path, VITVK_ERR_FORMAT, "__metadata__");
    write_st(path, "{\"t\":{\"dtype\":\"F32\",\"dtype\":\"F16\",\"shape\":[],"
                   "\"data_offsets\":[0,4]}}",
             UINT64_MAX, "abcd", 4);
    expect_file_error(path, VITVK_ERR_FORMAT, "duplicate key");
    /* trailing spaces (the writer's padding) are fine */
    write_st(path, "{}      ", UINT64_MAX, NULL, 0);
    st_archive *a;
    ck_assert_int_eq(st_open_file(path, &a, g_err, sizeof g_err), VITVK_OK);
    st_close(a);
}
END_TEST

START_TEST(bad_dtype)
{
    const char *path = tp("dtype.safetensors");
    one_tensor(path, "F31", "[1]", "[0,4]", 4);
    expect_file_error(path, VITVK_ERR_FORMAT, "unknown dtype \"F31\"");
    ck_assert_ptr_nonnull(strstr(g_err, "'t'"));
    ck_assert_ptr_nonnull(strstr(g_err, "BF16"));
    one_tensor(path, "f32", "[1]", "[0,4]", 4);
    expect_file_error(path, VITVK_ERR_FORMAT, "unknown dtype");
}
END_TEST

START_TEST(bad_shape)
{
    const char *path = tp("shape.safetensors");
    one_tensor(path, "F32", "[-1]", "[0,4]", 4);
    expect_file_error(path, VITVK_ERR_FORMAT, "shape[0]");
    one_tensor(path, "F32", "[1.5]", "[0,6]", 6);
    expect_file_error(path, VITVK_ERR_FORMAT, "shape[0]");
    one_tensor(path, "F32", "[1, \"2\"]", "[0,8]", 8);
    expect_file_error(path, VITVK_ERR_FORMAT, "shape[1]");
    one_tensor(path, "F32", "[9007199254740993]", "[0,4]", 4);
    expect_file_error(path, VITVK_ERR_FORMAT, "shape[0]");
    one_tensor(path, "F32", "5", "[0,20]", 20);
    expect_file_error(path, VITVK_ERR_FORMAT, "shape");
    one_tensor(path, "F32", "[1,1,1,1,1,1,1,1,1]", "[0,4]", 4);
    expect_file_error(path, VITVK_ERR_LIMIT, "rank");
    /* exactly ST_MAX_RANK is fine */
    one_tensor(path, "F32", "[1,1,1,1,1,1,1,1]", "[0,4]", 4);
    st_archive *a;
    ck_assert_int_eq(st_open_file(path, &a, g_err, sizeof g_err), VITVK_OK);
    ck_assert_int_eq(st_find(a, "t")->rank, 8);
    st_close(a);
}
END_TEST

START_TEST(bad_offsets)
{
    const char *path = tp("off.safetensors");
    one_tensor(path, "F32", "[2]", "[0,8]", 4);
    expect_file_error(path, VITVK_ERR_FORMAT, "past the data section");
    one_tensor(path, "F32", "[1]", "[4,0]", 4);
    expect_file_error(path, VITVK_ERR_FORMAT, "end before");
    one_tensor(path, "F32", "[1]", "[0]", 4);
    expect_file_error(path, VITVK_ERR_FORMAT, "data_offsets");
    one_tensor(path, "F32", "[1]", "[0,4,8]", 4);
    expect_file_error(path, VITVK_ERR_FORMAT, "data_offsets");
    one_tensor(path, "F32", "[1]", "[-4,0]", 4);
    expect_file_error(path, VITVK_ERR_FORMAT, "data_offsets");
    one_tensor(path, "F32", "[1]", "[0,9007199254740992]", 4);
    expect_file_error(path, VITVK_ERR_FORMAT, "data_offsets");
    write_st(path, "{\"t\":{\"dtype\":\"F32\",\"shape\":[1]}}", UINT64_MAX, "abcd", 4);
    expect_file_error(path, VITVK_ERR_FORMAT, "data_offsets");
}
END_TEST

START_TEST(bad_overlap)
{
    const char *path = tp("overlap.safetensors");
    const char *json = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                       "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}";
    uint8_t data[12] = {0};
    write_st(path, json, UINT64_MAX, data, sizeof data);
    expect_file_error(path, VITVK_ERR_FORMAT, "overlap");
    ck_assert_ptr_nonnull(strstr(g_err, "'a'"));
    ck_assert_ptr_nonnull(strstr(g_err, "'b'"));
    /* the same range twice */
    json = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
           "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
    write_st(path, json, UINT64_MAX, data, 8);
    expect_file_error(path, VITVK_ERR_FORMAT, "overlap");
}
END_TEST

START_TEST(bad_hole)
{
    const char *path = tp("hole.safetensors");
    const char *json = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                       "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}";
    uint8_t data[12] = {0};
    write_st(path, json, UINT64_MAX, data, sizeof data);
    expect_file_error(path, VITVK_ERR_FORMAT, "unused bytes");
    ck_assert_ptr_nonnull(strstr(g_err, "'b'"));
    /* a hole at the start */
    one_tensor(path, "F32", "[1]", "[4,8]", 8);
    expect_file_error(path, VITVK_ERR_FORMAT, "unused bytes");
}
END_TEST

START_TEST(bad_trailing)
{
    const char *path = tp("trail.safetensors");
    one_tensor(path, "F32", "[1]", "[0,4]", 5);
    expect_file_error(path, VITVK_ERR_FORMAT, "trailing");
    write_st(path, "{}", UINT64_MAX, "x", 1);
    expect_file_error(path, VITVK_ERR_FORMAT, "trailing");
}
END_TEST

START_TEST(bad_nbytes)
{
    const char *path = tp("nbytes.safetensors");
    one_tensor(path, "F32", "[3]", "[0,8]", 8);
    expect_file_error(path, VITVK_ERR_FORMAT, "need 12");
    one_tensor(path, "BF16", "[2,2]", "[0,16]", 16);
    expect_file_error(path, VITVK_ERR_FORMAT, "need 8");
}
END_TEST

START_TEST(bad_overflow)
{
    const char *path = tp("overflow.safetensors");
    /* each dimension is exact, the product is 2^104 */
    one_tensor(path, "F32", "[4503599627370496,4503599627370496,16]", "[0,0]", 0);
    expect_file_error(path, VITVK_ERR_FORMAT, "overflows");
    /* numel fits in int64, numel * 4 does not */
    one_tensor(path, "F32", "[4503599627370496,1024]", "[0,0]", 0);
    expect_file_error(path, VITVK_ERR_FORMAT, "more than 2^64");
    /* a zero dimension wins over huge ones */
    one_tensor(path, "F32", "[4503599627370496,4503599627370496,0]", "[0,0]", 0);
    st_archive *a;
    ck_assert_int_eq(st_open_file(path, &a, g_err, sizeof g_err), VITVK_OK);
    ck_assert_int_eq(st_find(a, "t")->numel, 0);
    st_close(a);
}
END_TEST

START_TEST(bad_duplicate)
{
    const char *path = tp("dup.safetensors");
    const char *json = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                       "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}";
    uint8_t data[8] = {0};
    write_st(path, json, UINT64_MAX, data, sizeof data);
    expect_file_error(path, VITVK_ERR_FORMAT, "'a' appears twice");
}
END_TEST

START_TEST(bad_not_a_file)
{
    expect_file_error(g_dir, VITVK_ERR_IO, "is a directory");
    expect_file_error(tp("nonexistent.safetensors"), VITVK_ERR_IO, NULL);
}
END_TEST

/* ---- sharded directories ---- */

static void write_shard(const char *name, const char *tname1, const char *tname2, float base)
{
    float a[4] = {base, base + 1, base + 2, base + 3}, b[2] = {-base, -base - 1};
    st_write_tensor t[2] = {
        {.name = tname1, .dtype = ST_F32, .rank = 2, .shape = {2, 2}, .data = a},
        {.name = tname2, .dtype = ST_F32, .rank = 1, .shape = {2}, .data = b},
    };
    ck_assert_int_eq(st_write_file(tp(name), t, 2, g_err, sizeof g_err), VITVK_OK);
}

static void write_text(const char *name, const char *text)
{
    write_bytes(tp(name), text, strlen(text));
}

#define SHARD1 "model-00001-of-00002.safetensors"
#define SHARD2 "model-00002-of-00002.safetensors"

static void write_two_shards(void)
{
    write_shard(SHARD1, "a.weight", "a.bias", 1.0f);
    write_shard(SHARD2, "b.weight", "b.bias", 10.0f);
}

static void expect_dir_error(vitvk_status want, const char *names, const char *substr)
{
    st_archive *a = (st_archive *)1;
    vitvk_status s = st_open_dir(g_dir, &a, g_err, sizeof g_err);
    show(s);
    ck_assert_msg(s == want, "status %d, want %d: %s", s, want, g_err);
    ck_assert_ptr_null(a);
    ck_assert_msg(strstr(g_err, names) != NULL, "message does not name %s: %s", names, g_err);
    if (substr)
        ck_assert_msg(strstr(g_err, substr) != NULL, "message lacks '%s': %s", substr, g_err);
}

START_TEST(sharded_ok)
{
    write_two_shards();
    write_text("model.safetensors.index.json",
               "{\"metadata\": {\"total_size\": 48}, \"weight_map\": {"
               "\"a.weight\": \"" SHARD1 "\", \"a.bias\": \"" SHARD1 "\","
               "\"b.weight\": \"" SHARD2 "\", \"b.bias\": \"" SHARD2 "\"}}");
    st_archive *a = NULL;
    ck_assert_int_eq(st_open_dir(g_dir, &a, g_err, sizeof g_err), VITVK_OK);
    ck_assert_uint_eq(st_count(a), 4);
    float out[4];
    ck_assert_int_eq(st_to_f32(st_find(a, "b.weight"), out, g_err, sizeof g_err), VITVK_OK);
    ck_assert_float_eq(out[3], 13.0f);
    ck_assert_int_eq(st_to_f32(st_find(a, "a.bias"), out, g_err, sizeof g_err), VITVK_OK);
    ck_assert_float_eq(out[1], -2.0f);
    ck_assert_str_eq(st_get(a, 0)->name, "a.bias");
    ck_assert_str_eq(st_get(a, 3)->name, "b.weight");
    st_close(a);
}
END_TEST

START_TEST(sharded_bad_name)
{
    write_two_shards();
    const char *bad[] = {"../" SHARD1, "sub/" SHARD1, "sub\\\\x", "..", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char json[256];
        snprintf(json, sizeof json, "{\"weight_map\": {\"a.weight\": \"%s\"}}", bad[i]);
        write_text("model.safetensors.index.json", json);
        expect_dir_error(VITVK_ERR_FORMAT, "model.safetensors.index.json", "shard name");
    }
}
END_TEST

START_TEST(sharded_missing_shard)
{
    write_two_shards();
    write_text("model.safetensors.index.json",
               "{\"weight_map\": {\"a.weight\": \"" SHARD1 "\", \"c\": \"gone.safetensors\"}}");
    expect_dir_error(VITVK_ERR_IO, "gone.safetensors", NULL);
}
END_TEST

START_TEST(sharded_tensor_absent)
{
    write_two_shards();
    write_text("model.safetensors.index.json",
               "{\"weight_map\": {\"a.weight\": \"" SHARD1 "\", \"b.weight\": \"" SHARD1 "\"}}");
    expect_dir_error(VITVK_ERR_FORMAT, "model.safetensors.index.json", "'b.weight'");
    ck_assert_ptr_nonnull(strstr(g_err, SHARD1));
}
END_TEST

START_TEST(sharded_duplicate)
{
    write_shard(SHARD1, "a.weight", "x", 1.0f);
    write_shard(SHARD2, "b.weight", "x", 2.0f);
    write_text("model.safetensors.index.json",
               "{\"weight_map\": {\"a.weight\": \"" SHARD1 "\", \"b.weight\": \"" SHARD2 "\"}}");
    expect_dir_error(VITVK_ERR_FORMAT, g_dir, "'x' is in two shards");
    ck_assert_ptr_nonnull(strstr(g_err, SHARD1));
    ck_assert_ptr_nonnull(strstr(g_err, SHARD2));
}
END_TEST

START_TEST(sharded_bad_index)
{
    write_two_shards();
    write_text("model.safetensors.index.json", "{\"weight_map\": [1]}");
    expect_dir_error(VITVK_ERR_FORMAT, "index.json", "weight_map");
    write_text("model.safetensors.index.json", "{\"weight_map\": {}}");
    expect_dir_error(VITVK_ERR_FORMAT, "index.json", "empty");
    write_text("model.safetensors.index.json", "not json");
    expect_dir_error(VITVK_ERR_FORMAT, "index.json", NULL);
    write_text("model.safetensors.index.json", "{\"weight_map\": {\"a.weight\": 3}}");
    expect_dir_error(VITVK_ERR_FORMAT, "index.json", "'a.weight'");
    /* a broken shard is reported with the shard's path */
    write_bytes(tp(SHARD2), "abc", 3);
    write_text("model.safetensors.index.json",
               "{\"weight_map\": {\"a.weight\": \"" SHARD1 "\", \"b.weight\": \"" SHARD2 "\"}}");
    expect_dir_error(VITVK_ERR_FORMAT, SHARD2, "too short");
}
END_TEST

START_TEST(dir_empty)
{
    expect_dir_error(VITVK_ERR_IO, g_dir, "no model.safetensors or model.safetensors.index.json");
    st_archive *a = (st_archive *)1;
    ck_assert_int_eq(st_open_dir(tp("nope"), &a, g_err, sizeof g_err), VITVK_ERR_IO);
    ck_assert_ptr_null(a);
}
END_TEST

/* ---- fp16 / bf16 conversions against known bit patterns ---- */
/* Every non-NaN entry of the tables below was checked against PyTorch's
 * .half() / .bfloat16() / .float() on CPU (torch 2.x): all agree bit for
 * bit. NaN bit patterns are this code's own (PyTorch's CPU kernels give
 * other NaNs); what matters is that a NaN stays a NaN and never turns into
 * an infinity. */

static uint32_t f2u(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static float u2f(uint32_t u)
{
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* binary16 -> binary32: exact, every class. Quiet NaNs keep sign and payload
 * (the payload is shifted into the top of the f32 mantissa). */
static const struct { uint16_t h; uint32_t f; } k_f16_to_f32[] = {
    {0x0000, 0x00000000}, /* +0 */
    {0x8000, 0x80000000}, /* -0 */
    {0x0001, 0x33800000}, /* smallest subnormal 2^-24 */
    {0x8001, 0xb3800000}, /* -2^-24 */
    {0x0200, 0x38000000}, /* 2^-15 */
    {0x03ff, 0x387fc000}, /* largest subnormal 1023 * 2^-24 */
    {0x0400, 0x38800000}, /* smallest normal 2^-14 */
    {0x3555, 0x3eaaa000}, /* 0.333251953125 */
    {0x3c00, 0x3f800000}, /* 1 */
    {0x3c01, 0x3f802000}, /* 1 + 2^-10 */
    {0xc000, 0xc0000000}, /* -2 */
    {0x7bff, 0x477fe000}, /* 65504, max finite */
    {0xfbff, 0xc77fe000}, /* -65504 */
    {0x7c00, 0x7f800000}, /* +inf */
    {0xfc00, 0xff800000}, /* -inf */
    {0x7e00, 0x7fc00000}, /* quiet NaN */
    {0xfe00, 0xffc00000}, /* negative quiet NaN */
    {0x7e55, 0x7fcaa000}, /* quiet NaN with payload 0x55 */
};

/* binary32 -> binary16, round to nearest even. NaNs become the canonical
 * quiet NaN 0x7e00 with the sign kept, payload dropped (as c10's
 * fp16_ieee_from_fp32_value does). */
static const struct { uint32_t f; uint16_t h; } k_f32_to_f16[] = {
    {0x00000000, 0x0000}, /* +0 */
    {0x80000000, 0x8000}, /* -0 */
    {0x00000001, 0x0000}, /* f32 subnormal: far below 2^-25 */
    {0x33000000, 0x0000}, /* 2^-25: tie between 0 and 2^-24 -> 0 (even) */
    {0xb3000000, 0x8000}, /* -2^-25 -> -0 */
    {0x33000001, 0x0001}, /* just above 2^-25 -> 2^-24 */
    {0x33800000, 0x0001}, /* 2^-24, smallest subnormal */
    {0xb3800000, 0x8001}, /* -2^-24 */
    {0x33c00000, 0x0002}, /* 1.5 * 2^-24: tie 1|2 -> 2 (even) */
    {0x34200000, 0x0002}, /* 2.5 * 2^-24: tie 2|3 -> 2 (even) */
    {0x34600000, 0x0004}, /* 3.5 * 2^-24: tie 3|4 -> 4 (even) */
    {0x387fc000, 0x03ff}, /* largest subnormal */
    {0x387fdfff, 0x03ff}, /* just below the tie with 2^-14 */
    {0x387fe000, 0x0400}, /* 1023.5 * 2^-24: tie -> 2^-14, carry into the exponent */
    {0x38800000, 0x0400}, /* smallest normal 2^-14 */
    {0x3dcccccd, 0x2e66}, /* 0.1f */
    {0x3f800000, 0x3c00}, /* 1 */
    {0x3f801000, 0x3c00}, /* 1 + 2^-11: tie -> 1 (even) */
    {0x3f800fff, 0x3c00}, /* just below that tie */
    {0x3f801001, 0x3c01}, /* just above that tie -> 1 + 2^-10 */
    {0x3f803000, 0x3c02}, /* 1 + 3 * 2^-11: tie -> 1 + 2^-9 (even) */
    {0xbf803000, 0xbc02}, /* -(1 + 3 * 2^-11) */
    {0x3ffff000, 0x4000}, /* 2 - 2^-11: tie -> 2, carry into the exponent */
    {0xbf800000, 0xbc00}, /* -1 */
    {0x477fe000, 0x7bff}, /* 65504 */
    {0x477fe100, 0x7bff}, /* 65505 */
    {0x477fefff, 0x7bff}, /* 65519.996, the float nearest 65519.99 -> 65504 */
    {0x477ff000, 0x7c00}, /* 65520: tie 65504|65536 -> inf (65504 is odd) */
    {0xc77ff000, 0xfc00}, /* -65520 -> -inf */
    {0x501502f9, 0x7c00}, /* 1e10 */
    {0x7f7fffff, 0x7c00}, /* FLT_MAX */
    {0x7f800000, 0x7c00}, /* +inf */
    {0xff800000, 0xfc00}, /* -inf */
    {0x7fc00000, 0x7e00}, /* quiet NaN */
    {0xffc00000, 0xfe00}, /* -NaN keeps its sign */
    {0x7fc12345, 0x7e00}, /* payload dropped */
    {0x7f800001, 0x7e00}, /* signalling NaN, payload only in dropped bits: NaN, not inf */
    {0x7f802000, 0x7e00}, /* signalling NaN, payload in the kept bits */
};

static const struct { uint16_t b; uint32_t f; } k_bf16_to_f32[] = {
    {0x0000, 0x00000000}, {0x8000, 0x80000000}, {0x0001, 0x00010000}, /* f32 subnormal */
    {0x3f80, 0x3f800000}, {0xbfc0, 0xbfc00000}, {0x7f7f, 0x7f7f0000}, /* max finite */
    {0x7f80, 0x7f800000}, {0xff80, 0xff800000}, {0x7fc1, 0x7fc10000}, /* NaN, payload */
};

/* binary32 -> bfloat16, round to nearest even; NaN is quieted (bit 6 set),
 * sign and the top 7 payload bits kept. */
static const struct { uint32_t f; uint16_t b; } k_f32_to_bf16[] = {
    {0x00000000, 0x0000}, {0x80000000, 0x8000},
    {0x00008000, 0x0000}, /* subnormal tie -> 0 (even) */
    {0x00018000, 0x0002}, /* subnormal tie 1|2 -> 2 (even) */
    {0x3f800000, 0x3f80}, /* 1 */
    {0x3f808000, 0x3f80}, /* 1 + 2^-8: tie -> 1 (even) */
    {0x3f807fff, 0x3f80}, /* below the tie */
    {0x3f808001, 0x3f81}, /* above the tie */
    {0x3f818000, 0x3f82}, /* 1 + 3 * 2^-8: tie -> 1 + 2^-6 (even) */
    {0xbf818000, 0xbf82}, /* negative tie */
    {0x3fff8000, 0x4000}, /* 2 - 2^-8: tie -> 2, carry into the exponent */
    {0x7f7f7fff, 0x7f7f}, /* rounds down to max finite */
    {0x7f7f8000, 0x7f80}, /* tie above max finite (odd) -> inf */
    {0x7f7fffff, 0x7f80}, /* FLT_MAX -> inf */
    {0x7f800000, 0x7f80}, {0xff800000, 0xff80}, /* +-inf */
    {0x7fc00000, 0x7fc0}, {0xffc00000, 0xffc0}, /* quiet NaNs, sign kept */
    {0x7f800001, 0x7fc0}, /* signalling NaN, payload below bit 16: NaN, not inf */
    {0x7f810000, 0x7fc1}, /* signalling NaN: quieted, payload kept */
    {0x7fffffff, 0x7fff}, /* no rounding carry out of a NaN into the sign */
    {0xffffffff, 0xffff},
};

START_TEST(half_bit_patterns)
{
    for (size_t i = 0; i < sizeof k_f16_to_f32 / sizeof *k_f16_to_f32; i++) {
        uint32_t got = f2u(vk_f16_to_f32(k_f16_to_f32[i].h));
        ck_assert_msg(got == k_f16_to_f32[i].f, "vk_f16_to_f32(0x%04x) = 0x%08x, want 0x%08x",
                      k_f16_to_f32[i].h, got, k_f16_to_f32[i].f);
    }
    /* a signalling NaN (0x7c01: quiet bit clear) must stay NaN, not become inf */
    float snan = vk_f16_to_f32(0x7c01);
    ck_assert_msg(snan != snan, "vk_f16_to_f32(0x7c01) = 0x%08x, not NaN", f2u(snan));
    for (size_t i = 0; i < sizeof k_f32_to_f16 / sizeof *k_f32_to_f16; i++) {
        uint16_t got = vk_f32_to_f16(u2f(k_f32_to_f16[i].f));
        ck_assert_msg(got == k_f32_to_f16[i].h, "vk_f32_to_f16(0x%08x) = 0x%04x, want 0x%04x",
                      k_f32_to_f16[i].f, got, k_f32_to_f16[i].h);
    }
    for (size_t i = 0; i < sizeof k_bf16_to_f32 / sizeof *k_bf16_to_f32; i++) {
        uint32_t got = f2u(vk_bf16_to_f32(k_bf16_to_f32[i].b));
        ck_assert_msg(got == k_bf16_to_f32[i].f, "vk_bf16_to_f32(0x%04x) = 0x%08x, want 0x%08x",
                      k_bf16_to_f32[i].b, got, k_bf16_to_f32[i].f);
    }
    for (size_t i = 0; i < sizeof k_f32_to_bf16 / sizeof *k_f32_to_bf16; i++) {
        uint16_t got = vk_f32_to_bf16(u2f(k_f32_to_bf16[i].f));
        ck_assert_msg(got == k_f32_to_bf16[i].b, "vk_f32_to_bf16(0x%08x) = 0x%04x, want 0x%04x",
                      k_f32_to_bf16[i].f, got, k_f32_to_bf16[i].b);
    }
    /* every finite f16 survives f16 -> f32 -> f16 unchanged */
    for (uint32_t h = 0; h < 0x10000u; h++)
        if ((h & 0x7c00u) != 0x7c00u)
            ck_assert_msg(vk_f32_to_f16(vk_f16_to_f32((uint16_t)h)) == h,
                          "0x%04x does not survive f16 -> f32 -> f16", h);
}
END_TEST

/* The same patterns through the reader: F16 and BF16 tensors (at an odd
 * file offset) to F32 via st_to_f32. */
START_TEST(half_tensors_to_f32)
{
    enum { NH = sizeof k_f16_to_f32 / sizeof *k_f16_to_f32,
           NB = sizeof k_bf16_to_f32 / sizeof *k_bf16_to_f32 };
    uint8_t data[2 * NH + 2 * NB];
    for (int i = 0; i < NH; i++) { /* little-endian, as the format says */
        data[2 * i] = (uint8_t)k_f16_to_f32[i].h;
        data[2 * i + 1] = (uint8_t)(k_f16_to_f32[i].h >> 8);
    }
    for (int i = 0; i < NB; i++) {
        data[2 * NH + 2 * i] = (uint8_t)k_bf16_to_f32[i].b;
        data[2 * NH + 2 * i + 1] = (uint8_t)(k_bf16_to_f32[i].b >> 8);
    }
    char json[256];
    int jl = snprintf(json, sizeof json,
                      "{\"h\":{\"dtype\":\"F16\",\"shape\":[%d],\"data_offsets\":[0,%d]},"
                      "\"b\":{\"dtype\":\"BF16\",\"shape\":[%d],\"data_offsets\":[%d,%d]}}",
                      NH, 2 * NH, NB, 2 * NH, 2 * NH + 2 * NB);
    if (jl % 2 == 0) /* make the data section start at an odd offset */
        json[jl++] = ' ';
    json[jl] = '\0';
    const char *path = tp("half.safetensors");
    write_st(path, json, UINT64_MAX, data, sizeof data);
    st_archive *a;
    ck_assert_int_eq(st_open_file(path, &a, g_err, sizeof g_err), VITVK_OK);
    float out[NH > NB ? NH : NB];
    ck_assert_int_eq(st_to_f32(st_find(a, "h"), out, g_err, sizeof g_err), VITVK_OK);
    for (int i = 0; i < NH; i++)
        ck_assert_msg(f2u(out[i]) == k_f16_to_f32[i].f, "F16 0x%04x read as 0x%08x, want 0x%08x",
                      k_f16_to_f32[i].h, f2u(out[i]), k_f16_to_f32[i].f);
    ck_assert_int_eq(st_to_f32(st_find(a, "b"), out, g_err, sizeof g_err), VITVK_OK);
    for (int i = 0; i < NB; i++)
        ck_assert_msg(f2u(out[i]) == k_bf16_to_f32[i].f, "BF16 0x%04x read as 0x%08x, want 0x%08x",
                      k_bf16_to_f32[i].b, f2u(out[i]), k_bf16_to_f32[i].f);
    st_close(a);
}
END_TEST

/* ---- platform ---- */

START_TEST(platform_helpers)
{
    char buf[16];
    ck_assert_int_eq(plat_path_join("ab", "cd", buf, sizeof buf), 1);
    ck_assert_str_eq(buf, "ab/cd");
    ck_assert_int_eq(plat_path_join("ab/", "cd", buf, sizeof buf), 1);
    ck_assert_str_eq(buf, "ab/cd");
    ck_assert_int_eq(plat_path_join("", "cd", buf, sizeof buf), 1);
    ck_assert_str_eq(buf, "cd");
    ck_assert_int_eq(plat_path_join("abcdefgh", "ijklmno", buf, sizeof buf), 0);
    ck_assert_str_eq(buf, "");
    ck_assert_int_eq(plat_path_join("abcdefgh", "ijklmn", buf, sizeof buf), 1);

    const char *p = tp("empty");
    write_bytes(p, "", 0);
    plat_map m;
    ck_assert_int_eq(plat_map_file(p, &m, g_err, sizeof g_err), VITVK_OK);
    ck_assert_uint_eq(m.size, 0);
    plat_unmap(&m);
    plat_unmap(NULL);
    ck_assert(plat_file_exists(p));
    ck_assert(!plat_is_dir(p));
    ck_assert(plat_is_dir(g_dir));
    ck_assert(!plat_file_exists(g_dir));

    char *text;
    size_t len;
    write_text("t.json", "{\"k\": 1}");
    ck_assert_int_eq(plat_read_text(tp("t.json"), &text, &len, 100, g_err, sizeof g_err),
                     VITVK_OK);
    ck_assert_uint_eq(len, 8);
    ck_assert_str_eq(text, "{\"k\": 1}");
    free(text);
    ck_assert_int_eq(plat_read_text(tp("t.json"), &text, &len, 7, g_err, sizeof g_err),
                     VITVK_ERR_LIMIT);
    ck_assert_ptr_null(text);
    ck_assert_int_eq(plat_read_text(g_dir, &text, NULL, 7, g_err, sizeof g_err), VITVK_ERR_IO);
    ck_assert_ptr_nonnull(strstr(g_err, "is a directory"));

    ck_assert_int_eq(plat_make_dirs(tp("x/y/z"), g_err, sizeof g_err), VITVK_OK);
    ck_assert(plat_is_dir(tp("x/y/z")));
    ck_assert_int_eq(plat_make_dirs(tp("x/y/z/"), g_err, sizeof g_err), VITVK_OK);
    ck_assert_int_eq(plat_make_dirs(tp("t.json"), g_err, sizeof g_err), VITVK_ERR_IO);
    ck_assert_int_eq(plat_make_dirs(tp("t.json/sub"), g_err, sizeof g_err), VITVK_ERR_IO);
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("safetensors");
    TCase *tc = tcase_create("all");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, roundtrip_single);
    tcase_add_test(tc, roundtrip_streaming);
    tcase_add_test(tc, writer_rejects);
    tcase_add_test(tc, unaligned_and_f64);
    tcase_add_test(tc, integer_dtypes);
    tcase_add_test(tc, bad_too_short);
    tcase_add_test(tc, bad_header_cut);
    tcase_add_test(tc, bad_header_length);
    tcase_add_test(tc, bad_json);
    tcase_add_test(tc, bad_dtype);
    tcase_add_test(tc, bad_shape);
    tcase_add_test(tc, bad_offsets);
    tcase_add_test(tc, bad_overlap);
    tcase_add_test(tc, bad_hole);
    tcase_add_test(tc, bad_trailing);
    tcase_add_test(tc, bad_nbytes);
    tcase_add_test(tc, bad_overflow);
    tcase_add_test(tc, bad_duplicate);
    tcase_add_test(tc, bad_not_a_file);
    tcase_add_test(tc, sharded_ok);
    tcase_add_test(tc, sharded_bad_name);
    tcase_add_test(tc, sharded_missing_shard);
    tcase_add_test(tc, sharded_tensor_absent);
    tcase_add_test(tc, sharded_duplicate);
    tcase_add_test(tc, sharded_bad_index);
    tcase_add_test(tc, dir_empty);
    tcase_add_test(tc, half_bit_patterns);
    tcase_add_test(tc, half_tensors_to_f32);
    tcase_add_test(tc, platform_helpers);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(make_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
