/* safetensors_write.c - the writer half of safetensors.h.
 *
 * The header is built by hand rather than with cJSON because cJSON prints
 * large doubles in exponent form ("1e+15"), which the reference reader
 * refuses for offsets. */
#include "errmsg.h"
#include "safetensors.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ST_OFFSET_LIMIT ((uint64_t)1 << 53) /* what readers can hold exactly */

struct st_writer {
    FILE *f;
    char *path;
    uint64_t expected, written;
    int failed;
};

uint64_t st_write_tensor_bytes(const st_write_tensor *t, int *ok)
{
    *ok = 0;
    size_t esize = st_dtype_size(t->dtype);
    if (esize == 0 || t->rank < 0 || t->rank > ST_MAX_RANK)
        return 0;
    uint64_t numel = 1;
    for (int i = 0; i < t->rank; i++) {
        if (t->shape[i] < 0 || (uint64_t)t->shape[i] >= ST_OFFSET_LIMIT)
            return 0;
        if (t->shape[i] == 0)
            numel = 0;
    }
    for (int i = 0; i < t->rank && numel; i++) {
        uint64_t d = (uint64_t)t->shape[i];
        if (numel > UINT64_MAX / d)
            return 0;
        numel *= d;
    }
    if (numel > UINT64_MAX / esize)
        return 0;
    *ok = 1;
    return numel * esize;
}

typedef struct sbuf {
    char *p;
    size_t len, cap;
    int oom;
} sbuf;

static void sb_put(sbuf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (n > SIZE_MAX - b->len - 1) {
        b->oom = 1;
        return;
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap = cap > SIZE_MAX / 2 ? b->len + n + 1 : cap * 2;
        char *np = realloc(b->p, cap);
        if (!np) {
            b->oom = 1;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_str(sbuf *b, const char *s)
{
    sb_put(b, s, strlen(s));
}

static void sb_u64(sbuf *b, uint64_t v)
{
    char tmp[24];
    int n = snprintf(tmp, sizeof tmp, "%" PRIu64, v);
    sb_put(b, tmp, (size_t)n);
}

/* A JSON string literal; bytes >= 0x80 pass through, so UTF-8 names stay
 * UTF-8. */
static void sb_json_string(sbuf *b, const char *s)
{
    sb_put(b, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            sb_put(b, esc, 2);
        } else if (c < 0x20) {
            char esc[8];
            snprintf(esc, sizeof esc, "\\u%04x", c);
            sb_put(b, esc, 6);
        } else {
            sb_put(b, (const char *)&c, 1);
        }
    }
    sb_put(b, "\"", 1);
}

static int cmp_str_ptr(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static vitvk_status check_list(const char *path, const st_write_tensor *t, size_t n,
                               uint64_t *total, char *err, size_t err_size)
{
    if (n > ST_MAX_TENSORS) {
        vk_errorf(err, err_size, "%s: %zu tensors, more than %u", path, n, ST_MAX_TENSORS);
        return VITVK_ERR_LIMIT;
    }
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i++) {
        if (!t[i].name || !strcmp(t[i].name, "__metadata__")) {
            vk_errorf(err, err_size, "%s: tensor %zu has no usable name", path, i);
            return VITVK_ERR_INVALID_ARGUMENT;
        }
        int ok;
        uint64_t nb = st_write_tensor_bytes(&t[i], &ok);
        if (!ok) {
            vk_errorf(err, err_size, "%s: tensor '%s': invalid dtype, rank or shape", path,
                    t[i].name);
            return VITVK_ERR_INVALID_ARGUMENT;
        }
        if (nb >= ST_OFFSET_LIMIT - sum) {
            vk_errorf(err, err_size, "%s: tensor '%s': data section would exceed 2^53 bytes",
                    path, t[i].name);
            return VITVK_ERR_LIMIT;
        }
        sum += nb;
    }
    const char **names = malloc((n ? n : 1) * sizeof *names);
    if (!names) {
        vk_errorf(err, err_size, "%s: out of memory", path);
        return VITVK_ERR_OUT_OF_HOST_MEMORY;
    }
    for (size_t i = 0; i < n; i++)
        names[i] = t[i].name;
    qsort(names, n, sizeof *names, cmp_str_ptr);
    for (size_t i = 1; i < n; i++) {
        if (!strcmp(names[i - 1], names[i])) {
            vk_errorf(err, err_size, "%s: tensor '%s' given twice", path, names[i]);
            free(names);
            return VITVK_ERR_INVALID_ARGUMENT;
        }
    }
    free(names);
    *total = sum;
    return VITVK_OK;
}

/* The header, padded with spaces so the data section starts 8-byte aligned
 * (as the reference writer does). */
static vitvk_status build_header(const char *path, const st_write_tensor *t, size_t n,
                                 sbuf *b, char *err, size_t err_size)
{
    sb_str(b, "{\"__metadata__\":{\"format\":\"pt\"}");
    uint64_t off = 0;
    for (size_t i = 0; i < n; i++) {
        int ok;
        uint64_t nb = st_write_tensor_bytes(&t[i], &ok);
        sb_put(b, ",", 1);
        sb_json_string(b, t[i].name);
        sb_str(b, ":{\"dtype\":\"");
        sb_str(b, st_dtype_name(t[i].dtype));
        sb_str(b, "\",\"shape\":[");
        for (int d = 0; d < t[i].rank; d++) {
            if (d)
                sb_put(b, ",", 1);
            sb_u64(b, (uint64_t)t[i].shape[d]);
        }
        sb_str(b, "],\"data_offsets\":[");
        sb_u64(b, off);
        sb_put(b, ",", 1);
        sb_u64(b, off + nb);
        sb_str(b, "]}");
        off += nb;
    }
    sb_put(b, "}", 1);
    while (!b->oom && b->len % 8 != 0)
        sb_put(b, " ", 1);
    if (b->oom) {
        vk_errorf(err, err_size, "%s: out of memory building the header", path);
        return VITVK_ERR_OUT_OF_HOST_MEMORY;
    }
    if (b->len > ST_MAX_HEADER_BYTES) {
        vk_errorf(err, err_size, "%s: header of %zu bytes is over the %u-byte limit", path,
                b->len, ST_MAX_HEADER_BYTES);
        return VITVK_ERR_LIMIT;
    }
    return VITVK_OK;
}

static void writer_free(st_writer *w, int remove_file)
{
    if (w->f)
        fclose(w->f);
    if (remove_file)
        remove(w->path);
    free(w->path);
    free(w);
}

vitvk_status st_writer_open(const char *path, const st_write_tensor *tensors, size_t n,
                            st_writer **out, char *err, size_t err_size)
{
    *out = NULL;
    if (!path || (n && !tensors)) {
        vk_errorf(err, err_size, "st_writer_open: NULL argument");
        return VITVK_ERR_INVALID_ARGUMENT;
    }
    uint64_t total = 0;
    vitvk_status s = check_list(path, tensors, n, &total, err, err_size);
    if (s != VITVK_OK)
        return s;
    sbuf hdr = {0};
    s = build_header(path, tensors, n, &hdr, err, err_size);
    if (s != VITVK_OK) {
        free(hdr.p);
        return s;
    }
    st_writer *w = calloc(1, sizeof *w);
    size_t plen = strlen(path) + 1;
    if (w)
        w->path = malloc(plen);
    if (!w || !w->path) {
        free(w);
        free(hdr.p);
        vk_errorf(err, err_size, "%s: out of memory", path);
        return VITVK_ERR_OUT_OF_HOST_MEMORY;
    }
    memcpy(w->path, path, plen);
    w->expected = total;
    w->f = fopen(path, "wb");
    if (!w->f) {
        vk_errorf(err, err_size, "%s: cannot create: %s", path, strerror(errno));
        free(hdr.p);
        writer_free(w, 0);
        return VITVK_ERR_IO;
    }
    uint8_t len8[8];
    uint64_t hl = hdr.len;
    for (int i = 0; i < 8; i++)
        len8[i] = (uint8_t)(hl >> (8 * i));
    int ok = fwrite(len8, 1, 8, w->f) == 8 && fwrite(hdr.p, 1, hdr.len, w->f) == hdr.len;
    free(hdr.p);
    if (!ok) {
        vk_errorf(err, err_size, "%s: write error", path);
        writer_free(w, 1);
        return VITVK_ERR_IO;
    }
    *out = w;
    return VITVK_OK;
}

vitvk_status st_writer_write(st_writer *w, const void *data, size_t nbytes, char *err,
                             size_t err_size)
{
    if (!w || (!data && nbytes)) {
        vk_errorf(err, err_size, "st_writer_write: NULL argument");
        return VITVK_ERR_INVALID_ARGUMENT;
    }
    if (w->failed) {
        vk_errorf(err, err_size, "%s: writer already failed", w->path);
        return VITVK_ERR_INVALID_ARGUMENT;
    }
    if (nbytes > w->expected - w->written) {
        w->failed = 1;
        vk_errorf(err, err_size, "%s: %llu bytes written, more than the %llu declared", w->path,
                (unsigned long long)(w->written + nbytes), (unsigned long long)w->expected);
        return VITVK_ERR_INVALID_ARGUMENT;
    }
    if (nbytes && fwrite(data, 1, nbytes, w->f) != nbytes) {
        w->failed = 1;
        vk_errorf(err, err_size, "%s: write error after %llu data bytes", w->path,
                (unsigned long long)w->written);
        return VITVK_ERR_IO;
    }
    w->written += nbytes;
    return VITVK_OK;
}

vitvk_status st_writer_finish(st_writer *w, char *err, size_t err_size)
{
    if (!w) {
        vk_errorf(err, err_size, "st_writer_finish: NULL writer");
        return VITVK_ERR_INVALID_ARGUMENT;
    }
    if (w->failed || w->written != w->expected) {
        vk_errorf(err, err_size, "%s: %llu of %llu data bytes written; file removed", w->path,
                (unsigned long long)w->written, (unsigned long long)w->expected);
        writer_free(w, 1);
        return VITVK_ERR_INVALID_ARGUMENT;
    }
    /* fclose reports the errors of the last buffered writes (disk full) */
    int bad = fflush(w->f) != 0 || ferror(w->f);
    bad |= fclose(w->f) != 0;
    w->f = NULL;
    if (bad) {
        vk_errorf(err, err_size, "%s: write error when closing", w->path);
        writer_free(w, 1);
        return VITVK_ERR_IO;
    }
    writer_free(w, 0);
    return VITVK_OK;
}

void st_writer_abort(st_writer *w)
{
    if (w)
        writer_free(w, 1);
}

vitvk_status st_write_file(const char *path, const st_write_tensor *tensors, size_t n,
                           char *err, size_t err_size)
{
    st_writer *w;
    vitvk_status s = st_writer_open(path, tensors, n, &w, err, err_size);
    if (s != VITVK_OK)
        return s;
    for (size_t i = 0; i < n; i++) {
        int ok;
        uint64_t nb64 = st_write_tensor_bytes(&tensors[i], &ok);
        size_t nb = (size_t)nb64;
        if (nb != nb64 || (nb && !tensors[i].data)) {
            vk_errorf(err, err_size, "%s: tensor '%s' has no data in memory", path, tensors[i].name);
            st_writer_abort(w);
            return VITVK_ERR_INVALID_ARGUMENT;
        }
        s = st_writer_write(w, tensors[i].data, nb, err, err_size);
        if (s != VITVK_OK) {
            st_writer_abort(w);
            return s;
        }
    }
    return st_writer_finish(w, err, err_size);
}
