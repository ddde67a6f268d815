/* fuzz_safetensors.c - the safetensors reader: header length, JSON header,
 * dtypes, shapes, data offsets and their tiling (st_open_memory runs the
 * same validation as st_open_file), then st_find and st_to_f32 on every
 * tensor the reader accepted. Whatever it accepts must be safe to read in
 * full: every byte of every tensor is touched. */
#include "fuzz_common.h"
#include "safetensors.h"

static void check_archive(const st_archive *a, const uint8_t *file, size_t size)
{
    FUZZ_ASSERT(size >= 8);
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--)
        hlen = hlen << 8 | file[i];
    FUZZ_ASSERT(hlen <= ST_MAX_HEADER_BYTES && hlen <= size - 8);
    const uint8_t *data = file + 8 + hlen, *end = file + size;

    size_t n = st_count(a);
    FUZZ_ASSERT(n <= ST_MAX_TENSORS);
    FUZZ_ASSERT(st_get(a, n) == NULL);
    FUZZ_ASSERT(st_find(a, NULL) == NULL);
    uint64_t total = 0;
    unsigned sum = 0;
    for (size_t i = 0; i < n; i++) {
        const st_tensor *t = st_get(a, i);
        FUZZ_ASSERT(t && t->name);
        if (i > 0)
            FUZZ_ASSERT(strcmp(st_get(a, i - 1)->name, t->name) < 0); /* sorted, unique */
        FUZZ_ASSERT(st_find(a, t->name) == t);
        FUZZ_ASSERT(t->rank >= 0 && t->rank <= ST_MAX_RANK);
        uint64_t numel = 1;
        for (int d = 0; d < t->rank; d++) {
            FUZZ_ASSERT(t->shape[d] >= 0);
            numel *= (uint64_t)t->shape[d]; /* the reader vouched it fits */
        }
        FUZZ_ASSERT(t->numel >= 0 && (uint64_t)t->numel == numel);
        size_t es = st_dtype_size(t->dtype);
        FUZZ_ASSERT(es > 0 && strcmp(st_dtype_name(t->dtype), "?") != 0);
        FUZZ_ASSERT((uint64_t)t->numel * es == t->nbytes);
        const uint8_t *p = t->data;
        FUZZ_ASSERT(p >= data && p <= end && t->nbytes <= (size_t)(end - p));
        for (size_t k = 0; k < t->nbytes; k++)
            sum += p[k];
        total += t->nbytes;

        char err[512] = "";
        if (st_dtype_is_float(t->dtype)) {
            /* numel <= nbytes <= size, so this stays small */
            float *f = malloc(t->numel ? (size_t)t->numel * sizeof(float) : 1);
            FUZZ_ASSERT(f);
            vitvk_status st = st_to_f32(t, f, err, sizeof err);
            FUZZ_ASSERT(st == VITVK_OK);
            for (int64_t k = 0; k < t->numel; k++)
                sum += f[k] == f[k];
            free(f);
        } else {
            float f;
            vitvk_status st = st_to_f32(t, &f, err, sizeof err);
            FUZZ_ASSERT(st == VITVK_ERR_UNSUPPORTED);
            fuzz_check_message(st, err, sizeof err);
        }
    }
    /* the tensors tile the data section exactly */
    FUZZ_ASSERT(total == (uint64_t)(end - data));
    fuzz_consume(sum);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *file = fuzz_guarded_copy(data, size);
    char err[512];
    memset(err, 'x', sizeof err);
    st_archive *a = (st_archive *)&err; /* must be overwritten */
    vitvk_status st = st_open_memory(file, size, "fuzz.safetensors", &a, err, sizeof err);
    fuzz_check_message(st, err, sizeof err);
    if (st != VITVK_OK) {
        FUZZ_ASSERT(a == NULL);
        return 0;
    }
    FUZZ_ASSERT(a != NULL);
    check_archive(a, file, size);
    st_close(a);
    return 0;
}
