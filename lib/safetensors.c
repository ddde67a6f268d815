/* safetensors.c - the validating reader (see safetensors.h); the writer is
 * in safetensors_write.c.
 *
 * Validation follows huggingface/safetensors (Metadata::validate): tensors
 * sorted by data offsets must tile the data section exactly, with no gap,
 * overlap or trailing byte, and each one's byte count must equal
 * numel * dtype size. */
#include "errmsg.h"
#include "safetensors.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "half.h"
#include "platform.h"

/* Integers beyond 2^53 are not exact in cJSON's doubles; a file using them
 * cannot be validated, so it is refused. */
#define ST_JSON_INT_LIMIT 9007199254740992.0 /* 2^53 */
#define ST_MAX_INDEX_BYTES ST_MAX_HEADER_BYTES

typedef struct st_shard {
    plat_map map;
    char *names;        /* every tensor name of the shard, NUL-separated */
    st_tensor *tensors; /* sorted by name; NULL once moved into the archive */
    size_t count;
} st_shard;

struct st_archive {
    st_shard *shards;
    size_t nshards;
    st_tensor *tensors; /* sorted by name, so st_find can bsearch */
    size_t count;
};

static const struct {
    const char *name;
    size_t size;
    int is_float;
} dtype_info[] = {
    [ST_F32] = {"F32", 4, 1},         [ST_F16] = {"F16", 2, 1},
    [ST_BF16] = {"BF16", 2, 1},       [ST_F64] = {"F64", 8, 1},
    [ST_I64] = {"I64", 8, 0},         [ST_I32] = {"I32", 4, 0},
    [ST_I16] = {"I16", 2, 0},         [ST_I8] = {"I8", 1, 0},
    [ST_U8] = {"U8", 1, 0},           [ST_U16] = {"U16", 2, 0},
    [ST_U32] = {"U32", 4, 0},         [ST_U64] = {"U64", 8, 0},
    [ST_BOOL] = {"BOOL", 1, 0},       [ST_F8_E4M3] = {"F8_E4M3", 1, 0},
    [ST_F8_E5M2] = {"F8_E5M2", 1, 0},
};
#define ST_NUM_DTYPES (sizeof dtype_info / sizeof dtype_info[0])

const char *st_dtype_name(st_dtype t)
{
    return (size_t)t < ST_NUM_DTYPES ? dtype_info[t].name : "?";
}

size_t st_dtype_size(st_dtype t)
{
    return (size_t)t < ST_NUM_DTYPES ? dtype_info[t].size : 0;
}

int st_dtype_is_float(st_dtype t)
{
    return (size_t)t < ST_NUM_DTYPES && dtype_info[t].is_float;
}

static int dtype_from_name(const char *s, st_dtype *out)
{
    for (size_t i = 0; i < ST_NUM_DTYPES; i++) {
        if (strcmp(s, dtype_info[i].name) == 0) {
            *out = (st_dtype)i;
            return 1;
        }
    }
    return 0;
}

static void known_dtypes(char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < ST_NUM_DTYPES && used < size; i++) {
        int n = snprintf(buf + used, size - used, "%s%s", i ? ", " : "", dtype_info[i].name);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

/* An exact non-negative integer below 2^53. */
static int json_uint(const cJSON *j, uint64_t *out)
{
    if (!cJSON_IsNumber(j))
        return 0;
    double d = j->valuedouble;
    if (!(d >= 0.0 && d < ST_JSON_INT_LIMIT))
        return 0;
    uint64_t v = (uint64_t)d;
    if ((double)v != d)
        return 0;
    *out = v;
    return 1;
}

static int cmp_tensor_name(const void *a, const void *b)
{
    return strcmp(((const st_tensor *)a)->name, ((const st_tensor *)b)->name);
}

static int cmp_name_key(const void *key, const void *elem)
{
    return strcmp((const char *)key, ((const st_tensor *)elem)->name);
}

static const st_tensor *find_sorted(const st_tensor *t, size_t n, const char *name)
{
    if (n == 0)
        return NULL;
    return bsearch(name, t, n, sizeof *t, cmp_name_key);
}

/* ------------------------------------------------------------------ */
/* One file                                                            */

typedef struct span {
    uint64_t begin, end;
    size_t index;
} span;

static int cmp_span(const void *a, const void *b)
{
    const span *x = a, *y = b;
    if (x->begin != y->begin)
        return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end)
        return x->end < y->end ? -1 : 1;
    return 0;
}

static void shard_free(st_shard *sh)
{
    plat_unmap(&sh->map);
    free(sh->names);
    free(sh->tensors);
    memset(sh, 0, sizeof *sh);
}

/* The "__metadata__" entry is an object of strings; its content is unused. */
static vitvk_status check_metadata(const char *path, const cJSON *meta, char *err,
                                   size_t err_size)
{
    if (!cJSON_IsObject(meta)) {
        vk_errorf(err, err_size, "%s: __metadata__ is not an object", path);
        return VITVK_ERR_FORMAT;
    }
    for (const cJSON *c = meta->child; c; c = c->next) {
        if (!cJSON_IsString(c)) {
            vk_errorf(err, err_size, "%s: __metadata__ value '%s' is not a string", path,
                    c->string ? c->string : "");
            return VITVK_ERR_FORMAT;
        }
    }
    return VITVK_OK;
}

static vitvk_status parse_shape(const char *path, const char *name, const cJSON *shape,
                                st_tensor *t, char *err, size_t err_size)
{
    if (!cJSON_IsArray(shape)) {
        vk_errorf(err, err_size, "%s: tensor '%s': shape is missing or not an array", path,
                name);
        return VITVK_ERR_FORMAT;
    }
    int rank = 0;
    for (const cJSON *d = shape->child; d; d = d->next) {
        if (rank == ST_MAX_RANK) {
            vk_errorf(err, err_size, "%s: tensor '%s': rank %d is over the limit of %d", path,
                    name, cJSON_GetArraySize(shape), ST_MAX_RANK);
            return VITVK_ERR_LIMIT;
        }
        uint64_t v;
        if (!json_uint(d, &v)) {
            vk_errorf(err, err_size,
                    "%s: tensor '%s': shape[%d] is not a non-negative integer below 2^53",
                    path, name, rank);
            return VITVK_ERR_FORMAT;
        }
        t->shape[rank++] = (int64_t)v;
    }
    t->rank = rank;
    /* A zero dimension makes the product 0 whatever the others are, so it
     * is looked for before multiplying. */
    uint64_t numel = 1;
    for (int i = 0; i < rank; i++)
        if (t->shape[i] == 0)
            numel = 0;
    for (int i = 0; i < rank && numel != 0; i++) {
        uint64_t d = (uint64_t)t->shape[i];
        if (numel > (uint64_t)INT64_MAX / d) {
            vk_errorf(err, err_size, "%s: tensor '%s': shape's element count overflows", path,
                    name);
            return VITVK_ERR_FORMAT;
        }
        numel *= d;
    }
    t->numel = (int64_t)numel;
    return VITVK_OK;
}

static vitvk_status parse_entry(const char *path, const cJSON *e, uint64_t data_size,
                                const uint8_t *data, st_tensor *t, span *sp, char *err,
                                size_t err_size)
{
    const char *name = t->name;
    if (!cJSON_IsObject(e)) {
        vk_errorf(err, err_size, "%s: tensor '%s': entry is not an object", path, name);
        return VITVK_ERR_FORMAT;
    }
    /* cJSON keeps duplicate keys and returns the first; the reference
     * parser refuses them, so a second "dtype" must not go unnoticed. */
    int seen_dtype = 0, seen_shape = 0, seen_offsets = 0;
    for (const cJSON *c = e->child; c; c = c->next) {
        int *seen = !strcmp(c->string, "dtype")          ? &seen_dtype
                    : !strcmp(c->string, "shape")        ? &seen_shape
                    : !strcmp(c->string, "data_offsets") ? &seen_offsets
                                                         : NULL;
        if (seen && (*seen)++) {
            vk_errorf(err, err_size, "%s: tensor '%s': duplicate key \"%s\"", path, name,
                    c->string);
            return VITVK_ERR_FORMAT;
        }
    }

    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(e, "dtype");
    if (!cJSON_IsString(dt)) {
        vk_errorf(err, err_size, "%s: tensor '%s': dtype is missing or not a string", path,
                name);
        return VITVK_ERR_FORMAT;
    }
    if (!dtype_from_name(dt->valuestring, &t->dtype)) {
        char known[160];
        known_dtypes(known, sizeof known);
        vk_errorf(err, err_size, "%s: tensor '%s': unknown dtype \"%s\" (known: %s)", path,
                name, dt->valuestring, known);
        return VITVK_ERR_FORMAT;
    }

    vitvk_status s = parse_shape(path, name, cJSON_GetObjectItemCaseSensitive(e, "shape"),
                                 t, err, err_size);
    if (s != VITVK_OK)
        return s;

    const cJSON *off = cJSON_GetObjectItemCaseSensitive(e, "data_offsets");
    uint64_t begin, end;
    if (!cJSON_IsArray(off) || cJSON_GetArraySize(off) != 2 || !json_uint(off->child, &begin) ||
        !json_uint(off->child->next, &end)) {
        vk_errorf(err, err_size,
                "%s: tensor '%s': data_offsets is not two non-negative integers below 2^53",
                path, name);
        return VITVK_ERR_FORMAT;
    }
    if (begin > end) {
        vk_errorf(err, err_size, "%s: tensor '%s': data_offsets [%llu, %llu] end before they begin",
                path, name, (unsigned long long)begin, (unsigned long long)end);
        return VITVK_ERR_FORMAT;
    }
    if (end > data_size) {
        vk_errorf(err, err_size,
                "%s: tensor '%s': data_offsets [%llu, %llu] run past the data section (%llu bytes)",
                path, name, (unsigned long long)begin, (unsigned long long)end,
                (unsigned long long)data_size);
        return VITVK_ERR_FORMAT;
    }
    uint64_t esize = dtype_info[t->dtype].size;
    uint64_t numel = (uint64_t)t->numel;
    if (numel > UINT64_MAX / esize) {
        vk_errorf(err, err_size,
                "%s: tensor '%s': shape and dtype %s need more than 2^64 bytes", path, name,
                dtype_info[t->dtype].name);
        return VITVK_ERR_FORMAT;
    }
    if (numel * esize != end - begin) {
        vk_errorf(err, err_size,
                "%s: tensor '%s': %llu bytes in data_offsets, but shape and dtype %s need %llu",
                path, name, (unsigned long long)(end - begin), dtype_info[t->dtype].name,
                (unsigned long long)(numel * esize));
        return VITVK_ERR_FORMAT;
    }
    /* end <= data_size <= mapping size, so these fit in size_t */
    t->nbytes = (size_t)(end - begin);
    t->data = data + (size_t)begin;
    sp->begin = begin;
    sp->end = end;
    return VITVK_OK;
}

/* Sorted by offsets, the tensors must follow each other without gap or
 * overlap from 0 to the end of the data section. */
static vitvk_status check_tiling(const char *path, const st_tensor *t, span *sp, size_t n,
                                 uint64_t data_size, char *err, size_t err_size)
{
    qsort(sp, n, sizeof *sp, cmp_span);
    uint64_t pos = 0;
    for (size_t i = 0; i < n; i++) {
        if (sp[i].begin < pos) {
            const span *p = &sp[i - 1]; /* pos > 0 implies i > 0 */
            vk_errorf(err, err_size, "%s: tensors '%s' [%llu, %llu) and '%s' [%llu, %llu) overlap",
                    path, t[p->index].name, (unsigned long long)p->begin,
                    (unsigned long long)p->end, t[sp[i].index].name,
                    (unsigned long long)sp[i].begin, (unsigned long long)sp[i].end);
            return VITVK_ERR_FORMAT;
        }
        if (sp[i].begin > pos) {
            vk_errorf(err, err_size,
                    "%s: %llu unused bytes at data offset %llu, before tensor '%s'", path,
                    (unsigned long long)(sp[i].begin - pos), (unsigned long long)pos,
                    t[sp[i].index].name);
            return VITVK_ERR_FORMAT;
        }
        pos = sp[i].end;
    }
    if (pos != data_size) {
        vk_errorf(err, err_size, "%s: %llu trailing bytes after the last tensor's data", path,
                (unsigned long long)(data_size - pos));
        return VITVK_ERR_FORMAT;
    }
    return VITVK_OK;
}

static vitvk_status parse_header(const char *path, st_shard *sh, const cJSON *root,
                                 uint64_t data_size, const uint8_t *data, char *err,
                                 size_t err_size)
{
    if (!cJSON_IsObject(root)) {
        vk_errorf(err, err_size, "%s: header is not a JSON object", path);
        return VITVK_ERR_FORMAT;
    }
    size_t n = 0, name_bytes = 0;
    for (const cJSON *c = root->child; c; c = c->next) {
        if (!strcmp(c->string, "__metadata__"))
            continue;
        if (++n > ST_MAX_TENSORS) {
            vk_errorf(err, err_size, "%s: more than %u tensors", path, ST_MAX_TENSORS);
            return VITVK_ERR_LIMIT;
        }
        name_bytes += strlen(c->string) + 1;
    }
    sh->tensors = calloc(n ? n : 1, sizeof *sh->tensors);
    sh->names = malloc(name_bytes ? name_bytes : 1);
    span *sp = calloc(n ? n : 1, sizeof *sp);
    if (!sh->tensors || !sh->names || !sp) {
        free(sp);
        vk_errorf(err, err_size, "%s: out of memory for %zu tensors", path, n);
        return VITVK_ERR_OUT_OF_HOST_MEMORY;
    }
    sh->count = n;

    vitvk_status s = VITVK_OK;
    size_t i = 0, used = 0;
    for (const cJSON *c = root->child; c && s == VITVK_OK; c = c->next) {
        if (!strcmp(c->string, "__metadata__")) {
            s = check_metadata(path, c, err, err_size);
            continue;
        }
        size_t len = strlen(c->string) + 1;
        memcpy(sh->names + used, c->string, len);
        sh->tensors[i].name = sh->names + used;
        used += len;
        sp[i].index = i;
        s = parse_entry(path, c, data_size, data, &sh->tensors[i], &sp[i], err, err_size);
        i++;
    }
    if (s == VITVK_OK) {
        qsort(sh->tensors, n, sizeof *sh->tensors, cmp_tensor_name);
        for (size_t k = 1; k < n; k++) {
            if (!strcmp(sh->tensors[k - 1].name, sh->tensors[k].name)) {
                vk_errorf(err, err_size, "%s: tensor '%s' appears twice", path,
                        sh->tensors[k].name);
                s = VITVK_ERR_FORMAT;
                break;
            }
        }
    }
    if (s == VITVK_OK) {
        /* spans were filled before the name sort; re-derive them */
        for (size_t k = 0; k < n; k++) {
            uint64_t begin = (uint64_t)((const uint8_t *)sh->tensors[k].data - data);
            sp[k].begin = begin;
            sp[k].end = begin + sh->tensors[k].nbytes;
            sp[k].index = k;
        }
        s = check_tiling(path, sh->tensors, sp, n, data_size, err, err_size);
    }
    free(sp);
    return s;
}

/* Validates the file held in sh->map (a mapping, or memory the caller
 * lends) and fills sh; on failure the caller frees sh. */
static vitvk_status shard_parse(const char *path, st_shard *sh, char *err, size_t err_size)
{
    const uint8_t *p = sh->map.data;
    size_t size = sh->map.size;
    if (size < 8) {
        vk_errorf(err, err_size, "%s: %zu bytes, too short for a safetensors file", path, size);
        return VITVK_ERR_FORMAT;
    }
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--)
        hlen = (hlen << 8) | p[i];
    if (hlen == 0) {
        vk_errorf(err, err_size, "%s: header length is 0", path);
        return VITVK_ERR_FORMAT;
    }
    /* Checked before the size limit: a length past the end means a
     * truncated or foreign file, which is the more useful diagnosis. */
    if (hlen > (uint64_t)(size - 8)) {
        vk_errorf(err, err_size,
                "%s: header length %llu runs past the end of the file (%zu bytes); truncated?",
                path, (unsigned long long)hlen, size);
        return VITVK_ERR_FORMAT;
    }
    if (hlen > ST_MAX_HEADER_BYTES) {
        vk_errorf(err, err_size, "%s: header of %llu bytes is over the %u-byte limit", path,
                (unsigned long long)hlen, ST_MAX_HEADER_BYTES);
        return VITVK_ERR_LIMIT;
    }
    size_t hl = (size_t)hlen;
    const char *hdr = (const char *)p + 8;
    if (memchr(hdr, '\0', hl)) {
        vk_errorf(err, err_size, "%s: header contains a NUL byte", path);
        return VITVK_ERR_FORMAT;
    }
    /* A private NUL-terminated copy, so cJSON never reads past the header
     * even on a malformed number or string. */
    char *copy = malloc(hl + 1);
    if (!copy) {
        vk_errorf(err, err_size, "%s: out of memory for a %zu-byte header", path, hl);
        return VITVK_ERR_OUT_OF_HOST_MEMORY;
    }
    memcpy(copy, hdr, hl);
    copy[hl] = '\0';
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(copy, hl, &end, 0);
    if (!root) {
        size_t at = end && end >= copy ? (size_t)(end - copy) : 0;
        vk_errorf(err, err_size, "%s: header is not valid JSON (error near byte %zu)", path, at);
        free(copy);
        return VITVK_ERR_FORMAT;
    }
    for (const char *q = end; q < copy + hl; q++) {
        if (*q != ' ' && *q != '\t' && *q != '\n' && *q != '\r') {
            vk_errorf(err, err_size, "%s: header has data after its JSON object (byte %zu)",
                    path, (size_t)(q - copy));
            cJSON_Delete(root);
            free(copy);
            return VITVK_ERR_FORMAT;
        }
    }
    const uint8_t *data = p + 8 + hl;
    vitvk_status s = parse_header(path, sh, root, (uint64_t)(size - 8 - hl), data, err, err_size);
    cJSON_Delete(root);
    free(copy);
    return s;
}

static vitvk_status shard_open(const char *path, st_shard *sh, char *err, size_t err_size)
{
    memset(sh, 0, sizeof *sh);
    vitvk_status s = plat_map_file(path, &sh->map, err, err_size);
    if (s == VITVK_OK)
        s = shard_parse(path, sh, err, err_size);
    if (s != VITVK_OK)
        shard_free(sh);
    return s;
}

/* ------------------------------------------------------------------ */
/* Archives                                                            */

void st_close(st_archive *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->nshards; i++)
        shard_free(&a->shards[i]);
    free(a->shards);
    free(a->tensors);
    free(a);
}

/* One shard, already validated, becomes a one-shard archive. */
static vitvk_status archive_of_one(const char *name, st_shard *sh, st_archive **out, char *err,
                                   size_t err_size)
{
    st_archive *a = calloc(1, sizeof *a);
    if (!a) {
        shard_free(sh);
        free(sh);
        vk_errorf(err, err_size, "%s: out of memory", name);
        return VITVK_ERR_OUT_OF_HOST_MEMORY;
    }
    a->shards = sh;
    a->nshards = 1;
    a->tensors = sh->tensors;
    a->count = sh->count;
    sh->tensors = NULL;
    *out = a;
    return VITVK_OK;
}

vitvk_status st_open_file(const char *path, st_archive **out, char *err, size_t err_size)
{
    *out = NULL;
    st_shard *sh = calloc(1, sizeof *sh);
    if (!sh) {
        vk_errorf(err, err_size, "%s: out of memory", path);
        return VITVK_ERR_OUT_OF_HOST_MEMORY;
    }
    vitvk_status s = shard_open(path, sh, err, err_size);
    if (s != VITVK_OK) {
        free(sh);
        return s;
    }
    return archive_of_one(path, sh, out, err, err_size);
}

vitvk_status st_open_memory(const void *data, size_t size, const char *name, st_archive **out,
                            char *err, size_t err_size)
{
    if (!name)
        name = "<memory>";
    if (!out || (!data && size)) {
        vk_errorf(err, err_size, "%s: st_open_memory needs data and out", name);
        if (out)
            *out = NULL;
        return VITVK_ERR_INVALID_ARGUMENT;
    }
    *out = NULL;
    st_shard *sh = calloc(1, sizeof *sh);
    if (!sh) {
        vk_errorf(err, err_size, "%s: out of memory", name);
        return VITVK_ERR_OUT_OF_HOST_MEMORY;
    }
    /* Borrowed: no impl_base, so shard_free releases nothing of it. */
    sh->map.data = size ? data : NULL;
    sh->map.size = size;
    vitvk_status s = shard_parse(name, sh, err, err_size);
    if (s != VITVK_OK) {
        shard_free(sh);
        free(sh);
        return s;
    }
    return archive_of_one(name, sh, out, err, err_size);
}

static int valid_shard_name(const char *s)
{
    /* only a plain file name inside the model directory; ':' would be a
     * drive prefix on Windows */
    return s[0] != '\0' && !strchr(s, '/') && !strchr(s, '\\') && !strchr(s, ':') &&
           !strstr(s, "..");
}

static int cmp_str_ptr(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

typedef struct index_state {
    const char *dir;
    const char *index_path;
    cJSON *root;
    const cJSON *map;      /* weight_map */
    const char **shard_names; /* distinct, sorted */
    size_t nshards;
} index_state;

static vitvk_status read_index(index_state *ix, char *err, size_t err_size)
{
    char *text = NULL;
    size_t len = 0;
    vitvk_status s = plat_read_text(ix->index_path, &text, &len, ST_MAX_INDEX_BYTES, err,
                                    err_size);
    if (s != VITVK_OK)
        return s;
    ix->root = cJSON_ParseWithLength(text, len);
    free(text);
    if (!cJSON_IsObject(ix->root)) {
        vk_errorf(err, err_size, "%s: not a JSON object", ix->index_path);
        return VITVK_ERR_FORMAT;
    }
    ix->map = cJSON_GetObjectItemCaseSensitive(ix->root, "weight_map");
    if (!cJSON_IsObject(ix->map)) {
        vk_errorf(err, err_size, "%s: weight_map is missing or not an object", ix->index_path);
        return VITVK_ERR_FORMAT;
    }
    size_t n = 0;
    for (const cJSON *c = ix->map->child; c; c = c->next) {
        if (++n > ST_MAX_TENSORS) {
            vk_errorf(err, err_size, "%s: more than %u tensors", ix->index_path, ST_MAX_TENSORS);
            return VITVK_ERR_LIMIT;
        }
        if (!cJSON_IsString(c)) {
            vk_errorf(err, err_size, "%s: weight_map entry '%s' is not a string",
                    ix->index_path, c->string);
            return VITVK_ERR_FORMAT;
        }
        if (!valid_shard_name(c->valuestring)) {
            vk_errorf(err, err_size,
                    "%s: tensor '%s': shard name \"%s\" is not a plain file name in the directory",
                    ix->index_path, c->string, c->valuestring);
            return VITVK_ERR_FORMAT;
        }
    }
    if (n == 0) {
        vk_errorf(err, err_size, "%s: weight_map is empty", ix->index_path);
        return VITVK_ERR_FORMAT;
    }
    ix->shard_names = malloc(n * sizeof *ix->shard_names);
    if (!ix->shard_names) {
        vk_errorf(err, err_size, "%s: out of memory", ix->index_path);
        return VITVK_ERR_OUT_OF_HOST_MEMORY;
    }
    size_t k = 0;
    for (const cJSON *c = ix->map->child; c; c = c->next)
        ix->shard_names[k++] = c->valuestring;
    qsort(ix->shard_names, n, sizeof *ix->shard_names, cmp_str_ptr);
    size_t u = 0;
    for (size_t i = 0; i < n; i++)
        if (u == 0 || strcmp(ix->shard_names[u - 1], ix->shard_names[i]))
            ix->shard_names[u++] = ix->shard_names[i];
    ix->nshards = u;
    return VITVK_OK;
}

static size_t shard_index(const index_state *ix, const char *name)
{
    const char **hit = bsearch(&name, ix->shard_names, ix->nshards, sizeof *ix->shard_names,
                               cmp_str_ptr);
    return (size_t)(hit - ix->shard_names);
}

/* Every tensor the index lists must be where it says, and no name may be in
 * two shards. */
static vitvk_status merge_shards(const index_state *ix, st_archive *a, char *err,
                                 size_t err_size)
{
    for (const cJSON *c = ix->map->child; c; c = c->next) {
        const st_shard *sh = &a->shards[shard_index(ix, c->valuestring)];
        if (!find_sorted(sh->tensors, sh->count, c->string)) {
            vk_errorf(err, err_size, "%s: tensor '%s' is not in shard %s", ix->index_path,
                    c->string, c->valuestring);
            return VITVK_ERR_FORMAT;
        }
    }
    size_t total = 0;
    for (size_t i = 0; i < a->nshards; i++) {
        total += a->shards[i].count;
        if (total > ST_MAX_TENSORS) {
            vk_errorf(err, err_size, "%s: more than %u tensors in all shards", ix->dir,
                    ST_MAX_TENSORS);
            return VITVK_ERR_LIMIT;
        }
    }
    a->tensors = malloc((total ? total : 1) * sizeof *a->tensors);
    if (!a->tensors) {
        vk_errorf(err, err_size, "%s: out of memory for %zu tensors", ix->dir, total);
        return VITVK_ERR_OUT_OF_HOST_MEMORY;
    }
    size_t k = 0;
    for (size_t i = 0; i < a->nshards; i++) {
        if (a->shards[i].count)
            memcpy(a->tensors + k, a->shards[i].tensors,
                   a->shards[i].count * sizeof *a->tensors);
        k += a->shards[i].count;
    }
    a->count = total;
    qsort(a->tensors, total, sizeof *a->tensors, cmp_tensor_name);
    for (size_t i = 1; i < total; i++) {
        const char *name = a->tensors[i].name;
        if (strcmp(a->tensors[i - 1].name, name))
            continue;
        const char *first = NULL, *second = NULL;
        for (size_t j = 0; j < a->nshards && !second; j++) {
            if (find_sorted(a->shards[j].tensors, a->shards[j].count, name)) {
                if (first)
                    second = ix->shard_names[j];
                else
                    first = ix->shard_names[j];
            }
        }
        vk_errorf(err, err_size, "%s: tensor '%s' is in two shards, %s and %s", ix->dir, name,
                first ? first : "?", second ? second : "?");
        return VITVK_ERR_FORMAT;
    }
    for (size_t i = 0; i < a->nshards; i++) {
        free(a->shards[i].tensors);
        a->shards[i].tensors = NULL;
    }
    return VITVK_OK;
}

static vitvk_status open_sharded(const char *dir, const char *index_path, st_archive **out,
                                 char *err, size_t err_size)
{
    index_state ix = {.dir = dir, .index_path = index_path};
    st_archive *a = NULL;
    vitvk_status s = read_index(&ix, err, err_size);
    if (s == VITVK_OK) {
        a = calloc(1, sizeof *a);
        if (a)
            a->shards = calloc(ix.nshards, sizeof *a->shards);
        if (!a || !a->shards) {
            vk_errorf(err, err_size, "%s: out of memory", dir);
            s = VITVK_ERR_OUT_OF_HOST_MEMORY;
        }
    }
    for (size_t i = 0; s == VITVK_OK && i < ix.nshards; i++) {
        size_t cap = strlen(dir) + strlen(ix.shard_names[i]) + 2;
        char *path = malloc(cap);
        if (!path) {
            vk_errorf(err, err_size, "%s: out of memory", dir);
            s = VITVK_ERR_OUT_OF_HOST_MEMORY;
            break;
        }
        plat_path_join(dir, ix.shard_names[i], path, cap);
        s = shard_open(path, &a->shards[i], err, err_size);
        free(path);
        if (s == VITVK_OK)
            a->nshards = i + 1;
    }
    if (s == VITVK_OK)
        s = merge_shards(&ix, a, err, err_size);
    free(ix.shard_names);
    cJSON_Delete(ix.root);
    if (s != VITVK_OK) {
        st_close(a);
        return s;
    }
    *out = a;
    return VITVK_OK;
}

vitvk_status st_open_dir(const char *dir, st_archive **out, char *err, size_t err_size)
{
    *out = NULL;
    if (!plat_is_dir(dir)) {
        vk_errorf(err, err_size, "%s: not a directory", dir);
        return VITVK_ERR_IO;
    }
    size_t cap = strlen(dir) + sizeof "/model.safetensors.index.json" + 1;
    char *path = malloc(cap);
    if (!path) {
        vk_errorf(err, err_size, "%s: out of memory", dir);
        return VITVK_ERR_OUT_OF_HOST_MEMORY;
    }
    vitvk_status s;
    plat_path_join(dir, "model.safetensors", path, cap);
    if (plat_file_exists(path)) {
        s = st_open_file(path, out, err, err_size);
    } else {
        plat_path_join(dir, "model.safetensors.index.json", path, cap);
        if (plat_file_exists(path)) {
            s = open_sharded(dir, path, out, err, err_size);
        } else {
            vk_errorf(err, err_size, "%s: no model.safetensors or model.safetensors.index.json",
                    dir);
            s = VITVK_ERR_IO;
        }
    }
    free(path);
    return s;
}

size_t st_count(const st_archive *a)
{
    return a ? a->count : 0;
}

const st_tensor *st_get(const st_archive *a, size_t i)
{
    return a && i < a->count ? &a->tensors[i] : NULL;
}

const st_tensor *st_find(const st_archive *a, const char *name)
{
    return a && name ? find_sorted(a->tensors, a->count, name) : NULL;
}

/* ------------------------------------------------------------------ */
/* Conversion                                                          */

vitvk_status st_to_f32(const st_tensor *t, float *dst, char *err, size_t err_size)
{
    if (!t || (!dst && t->numel > 0)) {
        vk_errorf(err, err_size, "st_to_f32: NULL argument");
        return VITVK_ERR_INVALID_ARGUMENT;
    }
    if (!st_dtype_is_float(t->dtype)) {
        vk_errorf(err, err_size, "tensor '%s': dtype %s does not convert to F32", t->name,
                st_dtype_name(t->dtype));
        return VITVK_ERR_UNSUPPORTED;
    }
    size_t n = (size_t)t->numel;
    if (t->numel < 0 || n > SIZE_MAX / st_dtype_size(t->dtype) ||
        n * st_dtype_size(t->dtype) != t->nbytes) {
        vk_errorf(err, err_size, "tensor '%s': numel and nbytes disagree", t->name);
        return VITVK_ERR_INVALID_ARGUMENT;
    }
    /* The data section need not be aligned (the header length is free), so
     * every element is read through memcpy. */
    const uint8_t *src = t->data;
    switch (t->dtype) {
    case ST_F32:
        if (n)
            memcpy(dst, src, n * 4);
        break;
    case ST_F16:
        for (size_t i = 0; i < n; i++) {
            uint16_t h;
            memcpy(&h, src + 2 * i, 2);
            dst[i] = vk_f16_to_f32(h);
        }
        break;
    case ST_BF16:
        for (size_t i = 0; i < n; i++) {
            uint16_t h;
            memcpy(&h, src + 2 * i, 2);
            dst[i] = vk_bf16_to_f32(h);
        }
        break;
    case ST_F64:
        for (size_t i = 0; i < n; i++) {
            double d;
            memcpy(&d, src + 8 * i, 8);
            dst[i] = (float)d;
        }
        break;
    default:
        break;
    }
    return VITVK_OK;
}
