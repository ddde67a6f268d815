/* random_model.c - random-weight ViT, DeiT and Swin checkpoints (see
 * random_model.h). */
#include "random_model.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "half.h"
#include "platform.h"

#if !defined(_WIN32)
#include <unistd.h>
#endif

#define CHUNK_ELEMS 16384

const char rm_preset_names[] = "vit-tiny, vit-small, vit-b16, vit-b32, vit-l16, vit-h14, deit-b16, swin-t";

static const struct preset {
    const char *name;
    rm_family family;
    uint32_t hidden, layers, heads, inter, patch;
    uint32_t stages, depths[4], stage_heads[4], window;
} presets[] = {
    {"vit-tiny", RM_VIT, 192, 12, 3, 768, 16},
    {"vit-small", RM_VIT, 384, 12, 6, 1536, 16},
    {"vit-b16", RM_VIT, 768, 12, 12, 3072, 16},
    {"vit-b32", RM_VIT, 768, 12, 12, 3072, 32},
    {"vit-l16", RM_VIT, 1024, 24, 16, 4096, 16},
    {"vit-h14", RM_VIT, 1280, 32, 16, 5120, 14},
    {"deit-b16", RM_DEIT, 768, 12, 12, 3072, 16},
    /* Swin-T (Liu et al. 2021): C = 96, depths 2-2-6-2, window 7 */
    {"swin-t", RM_SWIN, 96, 0, 0, 0, 4, 4, {2, 2, 6, 2}, {3, 6, 12, 24}, 7},
};

int rm_preset(const char *name, rm_config *out)
{
    for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++) {
        const struct preset *p = &presets[i];
        if (strcmp(name, p->name) != 0)
            continue;
        *out = (rm_config){.arch = p->name, .family = p->family, .hidden = p->hidden, .layers = p->layers,
                           .heads = p->heads, .inter = p->inter, .stages = p->stages, .window = p->window,
                           .patch = p->patch, .image = 224, .channels = 3, .labels = 1000, .dtype = ST_F32,
                           .qkv_bias = 1, .eps = p->family == RM_SWIN ? 1e-5 : 1e-12, .act = "gelu"};
        for (uint32_t s = 0; s < p->stages; s++) {
            out->depths[s] = p->depths[s];
            out->stage_heads[s] = p->stage_heads[s];
        }
        return 0;
    }
    return -1;
}

static vitvk_status fail(char *err, size_t n, vitvk_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (err && n)
        vsnprintf(err, n, fmt, ap);
    va_end(ap);
    return st;
}

vitvk_status rm_check(const rm_config *c, char *err, size_t n)
{
    const vitvk_status bad = VITVK_ERR_INVALID_ARGUMENT;
    if (c->patch == 0 || c->patch > c->image || c->image % c->patch)
        return fail(err, n, bad, "image size %u is not a multiple of patch size %u", c->image, c->patch);
    if (c->hidden == 0 || c->channels == 0)
        return fail(err, n, bad, "hidden size and channels must be positive");
    if (c->family != RM_SWIN) {
        if (c->layers == 0 || c->heads == 0 || c->inter == 0 || c->hidden % c->heads)
            return fail(err, n, bad, "hidden size %u is not a multiple of the %u heads", c->hidden, c->heads);
        return VITVK_OK;
    }
    if (c->labels == 0)
        return fail(err, n, bad, "Swin checkpoints here always have a classifier (labels >= 1)");
    if (c->stages == 0 || c->stages > RM_MAX_STAGES || c->window == 0)
        return fail(err, n, bad, "Swin needs 1 to %d stages and a window", RM_MAX_STAGES);
    uint64_t C = c->hidden;
    for (uint32_t s = 0; s < c->stages; s++, C *= 2)
        if (c->depths[s] == 0 || c->stage_heads[s] == 0 || C % c->stage_heads[s] || C > 65536)
            return fail(err, n, bad, "Swin stage %u: width %llu is not a multiple of its %u heads", s,
                        (unsigned long long)C, c->stage_heads[s]);
    return VITVK_OK;
}

/* ------------------------------------------------------------------ */
/* Tensors                                                              */

typedef enum init_kind { INIT_WEIGHT, INIT_BIAS, INIT_LN_WEIGHT } init_kind;

typedef struct tensor_list {
    st_write_tensor *t;
    init_kind *kind;
    char (*names)[128];
    size_t n, cap;
    int oom;
} tensor_list;

static void add(tensor_list *l, init_kind kind, int rank, const int64_t *shape, const char *fmt, ...)
{
    if (l->oom)
        return;
    if (l->n == l->cap) {
        size_t nc = l->cap ? 2 * l->cap : 64;
        st_write_tensor *t = realloc(l->t, nc * sizeof *t);
        if (t)
            l->t = t;
        init_kind *k = realloc(l->kind, nc * sizeof *k);
        if (k)
            l->kind = k;
        char(*nm)[128] = realloc(l->names, nc * sizeof *nm);
        if (nm)
            l->names = nm;
        if (!t || !k || !nm) {
            l->oom = 1;
            return;
        }
        l->cap = nc;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(l->names[l->n], sizeof l->names[0], fmt, ap);
    va_end(ap);
    st_write_tensor *t = &l->t[l->n];
    memset(t, 0, sizeof *t);
    t->rank = rank;
    memcpy(t->shape, shape, (size_t)rank * sizeof *shape);
    l->kind[l->n] = kind;
    l->n++;
}

static void add_linear(tensor_list *l, int bias, int64_t out, int64_t in, const char *name)
{
    const int64_t w[2] = {out, in}, b[1] = {out};
    add(l, INIT_WEIGHT, 2, w, "%s.weight", name);
    if (bias)
        add(l, INIT_BIAS, 1, b, "%s.bias", name);
}

static void add_layernorm(tensor_list *l, int64_t d, const char *name)
{
    const int64_t s[1] = {d};
    add(l, INIT_LN_WEIGHT, 1, s, "%s.weight", name);
    add(l, INIT_BIAS, 1, s, "%s.bias", name);
}

/* One transformer block as transformers names it under `base` ("vit.encoder.layer.3."
 * or "swin.encoder.layers.0.blocks.1."; `attn` is "attention.attention" or
 * "attention.self"). */
static void add_block(tensor_list *l, const rm_config *c, const char *base, const char *attn, int64_t D, int64_t I)
{
    char n[128];
    static const char *const qkv[3] = {"query", "key", "value"};
    for (int i = 0; i < 3; i++) {
        snprintf(n, sizeof n, "%s%s.%s", base, attn, qkv[i]);
        add_linear(l, c->qkv_bias, D, D, n);
    }
    snprintf(n, sizeof n, "%sattention.output.dense", base);
    add_linear(l, 1, D, D, n);
    snprintf(n, sizeof n, "%sintermediate.dense", base);
    add_linear(l, 1, I, D, n);
    snprintf(n, sizeof n, "%soutput.dense", base);
    add_linear(l, 1, D, I, n);
    snprintf(n, sizeof n, "%slayernorm_before", base);
    add_layernorm(l, D, n);
    snprintf(n, sizeof n, "%slayernorm_after", base);
    add_layernorm(l, D, n);
}

static void build_vit(const rm_config *c, tensor_list *l)
{
    const bool deit = c->family == RM_DEIT;
    const char *p = deit ? "deit." : "vit.";
    const int64_t D = c->hidden, P = c->patch, K = c->labels;
    const int64_t side = c->image / c->patch, tokens = (deit ? 2 : 1) + side * side;
    const int64_t tok[3] = {1, 1, D}, pos[3] = {1, tokens, D}, conv[4] = {D, c->channels, P, P}, vec[1] = {D};
    add(l, INIT_WEIGHT, 3, tok, "%sembeddings.cls_token", p);
    if (deit)
        add(l, INIT_WEIGHT, 3, tok, "%sembeddings.distillation_token", p);
    add(l, INIT_WEIGHT, 3, pos, "%sembeddings.position_embeddings", p);
    add(l, INIT_WEIGHT, 4, conv, "%sembeddings.patch_embeddings.projection.weight", p);
    add(l, INIT_BIAS, 1, vec, "%sembeddings.patch_embeddings.projection.bias", p);
    char base[64];
    for (uint32_t i = 0; i < c->layers; i++) {
        snprintf(base, sizeof base, "%sencoder.layer.%u.", p, i);
        add_block(l, c, base, "attention.attention", D, c->inter);
    }
    snprintf(base, sizeof base, "%slayernorm", p);
    add_layernorm(l, D, base);
    if (K > 0) {
        add_linear(l, 1, K, D, deit ? "cls_classifier" : "classifier");
        if (deit)
            add_linear(l, 1, K, D, "distillation_classifier");
    }
}

/* transformers: a window no smaller than the stage's map shrinks to it. */
static uint32_t swin_window(const rm_config *c, uint32_t side)
{
    return side <= c->window ? side : c->window;
}

static void build_swin(const rm_config *c, tensor_list *l)
{
    const int64_t E = c->hidden, P = c->patch, conv[4] = {E, c->channels, P, P}, vec[1] = {E};
    add(l, INIT_WEIGHT, 4, conv, "swin.embeddings.patch_embeddings.projection.weight");
    add(l, INIT_BIAS, 1, vec, "swin.embeddings.patch_embeddings.projection.bias");
    add_layernorm(l, E, "swin.embeddings.norm");
    uint32_t side = c->image / c->patch;
    int64_t C = E;
    char base[96], n[128];
    for (uint32_t s = 0; s < c->stages; s++) {
        int64_t ws = swin_window(c, side), table[2] = {(2 * ws - 1) * (2 * ws - 1), c->stage_heads[s]};
        for (uint32_t b = 0; b < c->depths[s]; b++) {
            snprintf(base, sizeof base, "swin.encoder.layers.%u.blocks.%u.", s, b);
            add_block(l, c, base, "attention.self", C, 4 * C);
            add(l, INIT_WEIGHT, 2, table, "%sattention.self.relative_position_bias_table", base);
        }
        if (s + 1 < c->stages) {
            snprintf(n, sizeof n, "swin.encoder.layers.%u.downsample.norm", s);
            add_layernorm(l, 4 * C, n);
            const int64_t red[2] = {2 * C, 4 * C};
            add(l, INIT_WEIGHT, 2, red, "swin.encoder.layers.%u.downsample.reduction.weight", s);
            C *= 2;
            side = (side + 1) / 2;
        }
    }
    add_layernorm(l, C, "swin.layernorm");
    add_linear(l, 1, c->labels, C, "classifier");
}

/* splitmix64: tiny, fast, and good enough for weights that only need to be
 * reproducible and not degenerate. */
static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return h;
}

typedef struct normal_gen {
    uint64_t state;
    int have_spare;
    double spare;
} normal_gen;

/* Box-Muller; u1 is in (0, 1] so log never sees 0 */
static double next_normal(normal_gen *g)
{
    if (g->have_spare) {
        g->have_spare = 0;
        return g->spare;
    }
    double u1 = ((double)(splitmix64(&g->state) >> 11) + 1.0) * 0x1.0p-53;
    double u2 = (double)(splitmix64(&g->state) >> 11) * 0x1.0p-53;
    double r = sqrt(-2.0 * log(u1)), a = 6.283185307179586 * u2;
    g->spare = r * sin(a);
    g->have_spare = 1;
    return r * cos(a);
}

static vitvk_status write_weights(const rm_config *c, const tensor_list *l, const char *path, char *err, size_t en)
{
    float *chunk = malloc(CHUNK_ELEMS * sizeof *chunk);
    uint8_t *bytes = malloc(CHUNK_ELEMS * 4);
    st_writer *w = NULL;
    vitvk_status st = (!chunk || !bytes) ? fail(err, en, VITVK_ERR_OUT_OF_HOST_MEMORY, "out of memory")
                                         : st_writer_open(path, l->t, l->n, &w, err, en);
    size_t esize = st_dtype_size(c->dtype);
    for (size_t i = 0; st == VITVK_OK && i < l->n; i++) {
        const st_write_tensor *t = &l->t[i];
        normal_gen g = {.state = c->seed ^ fnv1a(t->name)};
        splitmix64(&g.state); /* decorrelate neighbouring seeds */
        double mean = l->kind[i] == INIT_LN_WEIGHT ? 1.0 : 0.0;
        double std = l->kind[i] == INIT_LN_WEIGHT ? 0.1 : 0.02;
        uint64_t numel = 1;
        for (int d = 0; d < t->rank; d++)
            numel *= (uint64_t)t->shape[d];
        while (st == VITVK_OK && numel > 0) {
            size_t n = numel < CHUNK_ELEMS ? (size_t)numel : CHUNK_ELEMS;
            for (size_t k = 0; k < n; k++)
                chunk[k] = (float)(mean + std * next_normal(&g));
            if (c->dtype == ST_F32) {
                memcpy(bytes, chunk, n * 4);
            } else {
                for (size_t k = 0; k < n; k++) {
                    uint16_t h = c->dtype == ST_F16 ? vk_f32_to_f16(chunk[k]) : vk_f32_to_bf16(chunk[k]);
                    memcpy(bytes + 2 * k, &h, 2);
                }
            }
            st = st_writer_write(w, bytes, n * esize, err, en);
            numel -= n;
        }
    }
    if (st == VITVK_OK)
        st = st_writer_finish(w, err, en);
    else
        st_writer_abort(w);
    free(chunk);
    free(bytes);
    return st;
}

/* ------------------------------------------------------------------ */
/* config.json                                                          */

/* Python's repr() of a float (shortest round-trip digits; exponent form
 * below 1e-4 or from 1e16), which is how json.dumps writes floats. */
static void py_float(double x, char *buf, size_t size)
{
    if (x == 0.0) {
        snprintf(buf, size, "%s", signbit(x) ? "-0.0" : "0.0");
        return;
    }
    char tmp[40];
    for (int p = 0; p < 17; p++) {
        snprintf(tmp, sizeof tmp, "%.*e", p, x);
        if (strtod(tmp, NULL) == x)
            break;
    }
    const char *s = tmp;
    char sign[2] = {0};
    if (*s == '-') {
        sign[0] = '-';
        s++;
    }
    char digits[24];
    size_t nd = 0;
    for (; *s && *s != 'e'; s++)
        if (*s >= '0' && *s <= '9')
            digits[nd++] = *s;
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    digits[nd] = '\0';
    int e = atoi(s + 1);
    char out[64];
    size_t o = 0;
    if (sign[0])
        out[o++] = '-';
    if (e < -4 || e >= 16) {
        snprintf(out + o, sizeof out - o, "%c%s%se%c%02d", digits[0], nd > 1 ? "." : "", digits + 1,
                 e < 0 ? '-' : '+', e < 0 ? -e : e);
    } else if (e < 0) {
        out[o++] = '0';
        out[o++] = '.';
        for (int k = 0; k < -e - 1; k++)
            out[o++] = '0';
        snprintf(out + o, sizeof out - o, "%s", digits);
    } else {
        for (int k = 0; k <= e; k++)
            out[o++] = (size_t)k < nd ? digits[k] : '0';
        out[o++] = '.';
        snprintf(out + o, sizeof out - o, "%s", (size_t)e + 1 < nd ? digits + e + 1 : "0");
    }
    snprintf(buf, size, "%s", out);
}

/* One config.json entry: a value already in JSON, or one of the two label
 * maps, which are written at print time. */
enum { KV_VALUE, KV_ID2LABEL, KV_LABEL2ID };
typedef struct kv {
    const char *key;
    int kind;
    char value[160];
} kv;

typedef struct kv_list {
    kv items[40];
    size_t n;
} kv_list;

static void put(kv_list *l, const char *key, int kind, const char *fmt, ...)
{
    if (l->n == sizeof l->items / sizeof l->items[0])
        return; /* the fixed entries below never get here */
    kv *e = &l->items[l->n++];
    e->key = key;
    e->kind = kind;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->value, sizeof e->value, fmt, ap);
    va_end(ap);
}

/* A list of integers as json.dumps(indent=2) writes it inside an object. */
static void put_list(kv_list *l, const char *key, const uint32_t *v, uint32_t n)
{
    char buf[160];
    size_t o = (size_t)snprintf(buf, sizeof buf, "[");
    for (uint32_t i = 0; i < n && o < sizeof buf; i++)
        o += (size_t)snprintf(buf + o, sizeof buf - o, "\n    %u%s", v[i], i + 1 < n ? "," : "");
    if (o < sizeof buf)
        snprintf(buf + o, sizeof buf - o, "\n  ]");
    put(l, key, KV_VALUE, "%s", buf);
}

static int cmp_key(const void *a, const void *b)
{
    return strcmp(((const kv *)a)->key, ((const kv *)b)->key);
}

static int cmp_label_index(const void *a, const void *b)
{
    char x[16], y[16];
    snprintf(x, sizeof x, "%u", *(const uint32_t *)a);
    snprintf(y, sizeof y, "%u", *(const uint32_t *)b);
    return strcmp(x, y);
}

static void print_labels(FILE *f, int kind, const uint32_t *order, uint32_t n)
{
    if (n == 0) {
        fputs("{}", f);
        return;
    }
    fputs("{\n", f);
    for (uint32_t i = 0; i < n; i++) {
        if (kind == KV_ID2LABEL)
            fprintf(f, "    \"%u\": \"label_%u\"%s\n", order[i], order[i], i + 1 < n ? "," : "");
        else
            fprintf(f, "    \"label_%u\": %u%s\n", order[i], order[i], i + 1 < n ? "," : "");
    }
    fputs("  }", f);
}

/* As transformers writes it: json.dumps(indent=2, sort_keys=True) + "\n";
 * labels are sorted as the strings "0", "1", "10", ... as Python sorts
 * them. */
static vitvk_status write_config(const rm_config *c, const char *path, char *err, size_t en)
{
    static const char *const dtype_names[] = {[ST_F32] = "float32", [ST_F16] = "float16", [ST_BF16] = "bfloat16"};
    static const char *const arch_names[] = {[RM_VIT] = "ViTForImageClassification",
                                             [RM_DEIT] = "DeiTForImageClassificationWithTeacher",
                                             [RM_SWIN] = "SwinForImageClassification"};
    char eps[40], zero[8], init[16];
    py_float(c->eps, eps, sizeof eps);
    py_float(0.0, zero, sizeof zero);
    py_float(0.02, init, sizeof init);
    kv_list l = {.n = 0};
    put(&l, "architectures", KV_VALUE, "[\n    \"%s\"\n  ]", arch_names[c->family]);
    put(&l, "attention_probs_dropout_prob", KV_VALUE, "%s", zero);
    put(&l, "dtype", KV_VALUE, "\"%s\"", dtype_names[c->dtype]);
    put(&l, "hidden_act", KV_VALUE, "\"%s\"", c->act);
    put(&l, "hidden_dropout_prob", KV_VALUE, "%s", zero);
    put(&l, "id2label", KV_ID2LABEL, "");
    put(&l, "image_size", KV_VALUE, "%u", c->image);
    put(&l, "initializer_range", KV_VALUE, "%s", init);
    put(&l, "label2id", KV_LABEL2ID, "");
    put(&l, "layer_norm_eps", KV_VALUE, "%s", eps);
    put(&l, "num_channels", KV_VALUE, "%u", c->channels);
    put(&l, "patch_size", KV_VALUE, "%u", c->patch);
    put(&l, "qkv_bias", KV_VALUE, "%s", c->qkv_bias ? "true" : "false");
    put(&l, "transformers_version", KV_VALUE, "\"5.17.0\"");
    if (c->family == RM_SWIN) {
        uint32_t width = c->hidden << (c->stages - 1);
        char ratio[16];
        py_float(4.0, ratio, sizeof ratio);
        put_list(&l, "depths", c->depths, c->stages);
        put(&l, "drop_path_rate", KV_VALUE, "%s", zero);
        put(&l, "embed_dim", KV_VALUE, "%u", c->hidden);
        put(&l, "encoder_stride", KV_VALUE, "32");
        put(&l, "hidden_size", KV_VALUE, "%u", width);
        put(&l, "mlp_ratio", KV_VALUE, "%s", ratio);
        put(&l, "model_type", KV_VALUE, "\"swin\"");
        put_list(&l, "num_heads", c->stage_heads, c->stages);
        put(&l, "num_layers", KV_VALUE, "%u", c->stages);
        put(&l, "patch_norm", KV_VALUE, "true");
        put(&l, "use_absolute_embeddings", KV_VALUE, "false");
        put(&l, "window_size", KV_VALUE, "%u", c->window);
    } else {
        put(&l, "encoder_stride", KV_VALUE, "%u", c->patch);
        put(&l, "hidden_size", KV_VALUE, "%u", c->hidden);
        put(&l, "intermediate_size", KV_VALUE, "%u", c->inter);
        put(&l, "model_type", KV_VALUE, "\"%s\"", c->family == RM_DEIT ? "deit" : "vit");
        put(&l, "num_attention_heads", KV_VALUE, "%u", c->heads);
        put(&l, "num_hidden_layers", KV_VALUE, "%u", c->layers);
        put(&l, "pooler_act", KV_VALUE, "\"tanh\"");
        put(&l, "pooler_output_size", KV_VALUE, "%u", c->hidden);
    }
    qsort(l.items, l.n, sizeof l.items[0], cmp_key);

    uint32_t *order = malloc((c->labels ? c->labels : 1) * sizeof *order);
    FILE *f = order ? fopen(path, "w") : NULL;
    if (!f) {
        free(order);
        return order ? fail(err, en, VITVK_ERR_IO, "%s: cannot create: %s", path, strerror(errno))
                     : fail(err, en, VITVK_ERR_OUT_OF_HOST_MEMORY, "out of memory");
    }
    for (uint32_t i = 0; i < c->labels; i++)
        order[i] = i;
    qsort(order, c->labels, sizeof *order, cmp_label_index);
    fputs("{\n", f);
    for (size_t i = 0; i < l.n; i++) {
        fprintf(f, "  \"%s\": ", l.items[i].key);
        if (l.items[i].kind == KV_VALUE)
            fputs(l.items[i].value, f);
        else
            print_labels(f, l.items[i].kind, order, c->labels);
        fputs(i + 1 < l.n ? ",\n" : "\n}\n", f);
    }
    free(order);
    int bad = ferror(f);
    bad |= fclose(f) != 0;
    if (bad) {
        remove(path);
        return fail(err, en, VITVK_ERR_IO, "%s: write error", path);
    }
    return VITVK_OK;
}

/* ------------------------------------------------------------------ */

vitvk_status rm_write(const rm_config *c, const char *dir, size_t *tensors, uint64_t *weight_bytes, char *err,
                      size_t en)
{
    vitvk_status st = rm_check(c, err, en);
    if (st != VITVK_OK)
        return st;
    size_t cap = strlen(dir) + 32;
    char *cfg_path = malloc(cap), *st_path = malloc(cap);
    tensor_list l = {0};
    if (!cfg_path || !st_path) {
        st = fail(err, en, VITVK_ERR_OUT_OF_HOST_MEMORY, "out of memory");
    } else {
        plat_path_join(dir, "config.json", cfg_path, cap);
        plat_path_join(dir, "model.safetensors", st_path, cap);
        if (c->family == RM_SWIN)
            build_swin(c, &l);
        else
            build_vit(c, &l);
        if (l.oom)
            st = fail(err, en, VITVK_ERR_OUT_OF_HOST_MEMORY, "out of memory");
    }
    /* names were copied into l.names, which realloc may have moved: point
     * at them only now */
    uint64_t total = 0;
    for (size_t i = 0; st == VITVK_OK && i < l.n; i++) {
        int ok;
        l.t[i].name = l.names[i];
        l.t[i].dtype = c->dtype;
        total += st_write_tensor_bytes(&l.t[i], &ok);
    }
    if (st == VITVK_OK)
        st = write_config(c, cfg_path, err, en);
    if (st == VITVK_OK) {
        st = write_weights(c, &l, st_path, err, en);
        if (st != VITVK_OK)
            remove(cfg_path);
    }
    if (st == VITVK_OK && tensors)
        *tensors = l.n;
    if (st == VITVK_OK && weight_bytes)
        *weight_bytes = total;
    free(l.t);
    free(l.kind);
    free(l.names);
    free(cfg_path);
    free(st_path);
    return st;
}

vitvk_status rm_write_temp(const rm_config *c, char *dir, size_t dir_size, char *err, size_t en)
{
    if (dir_size)
        dir[0] = '\0';
#if defined(_WIN32)
    (void)c;
    return fail(err, en, VITVK_ERR_UNSUPPORTED, "random models in a temporary directory need POSIX mkdtemp");
#else
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp)
        tmp = "/tmp";
    int n = snprintf(dir, dir_size, "%s/vitvk-bench-XXXXXX", tmp);
    if (n < 0 || (size_t)n >= dir_size) {
        dir[0] = '\0';
        return fail(err, en, VITVK_ERR_LIMIT, "TMPDIR %s: path too long", tmp);
    }
    if (!mkdtemp(dir)) {
        int e = errno;
        char path[256];
        snprintf(path, sizeof path, "%s", dir);
        dir[0] = '\0';
        return fail(err, en, VITVK_ERR_IO, "%s: cannot create a temporary directory: %s", path, strerror(e));
    }
    return rm_write(c, dir, NULL, NULL, err, en);
#endif
}

void rm_remove(const char *dir)
{
    if (!dir || !*dir)
        return;
    size_t cap = strlen(dir) + 32;
    char *path = malloc(cap);
    if (path) {
        static const char *const files[] = {"config.json", "model.safetensors"};
        for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
            if (plat_path_join(dir, files[i], path, cap))
                remove(path);
        free(path);
    }
#if !defined(_WIN32)
    rmdir(dir);
#endif
}
