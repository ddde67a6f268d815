/* mkmodel.c - vit-vk-mkmodel: writes a random-weight Hugging Face ViT
 * checkpoint (config.json + model.safetensors) of any size, for tests and
 * benchmarks without downloading real weights.
 *
 * Weights are streamed to the file in small chunks, so even ViT-H (2.5 GB
 * in F32) needs only a few hundred kilobytes of memory. Every tensor has its
 * own generator seeded from --seed and the tensor's name: the same options
 * give the same bytes, and changing one tensor's shape leaves the others'
 * values alone. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "half.h"
#include "platform.h"
#include "safetensors.h"

#define PROG "vit-vk-mkmodel"
#define CHUNK_ELEMS 16384

static const char usage_text[] =
    "usage: " PROG " --out DIR [--arch NAME] [overrides]\n"
    "\n"
    "Writes a Hugging Face ViTForImageClassification checkpoint with random\n"
    "weights: DIR/config.json and DIR/model.safetensors (DIR is created).\n"
    "\n"
    "  --out DIR           output directory (required)\n"
    "  --arch NAME         preset: vit-tiny (default), vit-small, vit-b16, vit-b32,\n"
    "                      vit-l16, vit-h14; image 224, 3 channels, 1000 labels,\n"
    "                      gelu, eps 1e-12\n"
    "overrides (applied after the preset, in any order):\n"
    "  --hidden D  --layers L  --heads H  --intermediate I  --patch P\n"
    "  --image-size S  --channels C  --labels K (0: no classifier)\n"
    "  --dtype F32|F16|BF16   --no-qkv-bias   --eps E   --act NAME\n"
    "  --seed N            generator seed (default 0)\n"
    "  --help              this text\n"
    "\n"
    "Weights: matrices and embeddings N(0, 0.02), biases N(0, 0.02), LayerNorm\n"
    "weights 1 + N(0, 0.1), so nothing sits at its default value.\n"
    "\n"
    "example:\n"
    "  " PROG " --out /tmp/vit-b16-fp16 --arch vit-b16 --dtype F16 --seed 7\n";

typedef struct model_cfg {
    const char *out;
    const char *arch;
    uint32_t hidden, layers, heads, inter, patch, image, channels, labels;
    st_dtype dtype;
    int qkv_bias;
    double eps;
    const char *act;
    uint64_t seed;
} model_cfg;

static const struct preset {
    const char *name;
    uint32_t hidden, layers, heads, inter, patch;
} presets[] = {
    {"vit-tiny", 192, 12, 3, 768, 16},      {"vit-small", 384, 12, 6, 1536, 16},
    {"vit-b16", 768, 12, 12, 3072, 16},     {"vit-b32", 768, 12, 12, 3072, 32},
    {"vit-l16", 1024, 24, 16, 4096, 16},    {"vit-h14", 1280, 32, 16, 5120, 14},
};

static void die(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, PROG ": ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(code);
}

#define usage_error(...) die(2, __VA_ARGS__)

/* ------------------------------------------------------------------ */
/* Command line                                                         */

static uint64_t parse_uint(const char *opt, const char *s, uint64_t min, uint64_t max)
{
    if (!s || *s < '0' || *s > '9')
        usage_error("%s needs a non-negative integer, got '%s'", opt, s ? s : "");
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v < min || v > max)
        usage_error("%s must be an integer in [%llu, %llu], got '%s'", opt,
                    (unsigned long long)min, (unsigned long long)max, s);
    return v;
}

static int is_value_opt(const char *a)
{
    static const char *const opts[] = {"--out",      "--arch",         "--hidden",
                                       "--layers",   "--heads",        "--intermediate",
                                       "--patch",    "--image-size",   "--channels",
                                       "--labels",   "--dtype",        "--eps",
                                       "--act",      "--seed"};
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++)
        if (!strcmp(a, opts[i]))
            return 1;
    return 0;
}

static void apply_preset(model_cfg *c, const char *name)
{
    for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++) {
        if (!strcmp(name, presets[i].name)) {
            c->arch = presets[i].name;
            c->hidden = presets[i].hidden;
            c->layers = presets[i].layers;
            c->heads = presets[i].heads;
            c->inter = presets[i].inter;
            c->patch = presets[i].patch;
            return;
        }
    }
    usage_error("unknown --arch '%s' (vit-tiny, vit-small, vit-b16, vit-b32, vit-l16, vit-h14)",
                name);
}

static void parse_args(int argc, char **argv, model_cfg *c)
{
    *c = (model_cfg){.image = 224, .channels = 3, .labels = 1000, .dtype = ST_F32,
                     .qkv_bias = 1, .eps = 1e-12, .act = "gelu", .seed = 0};
    apply_preset(c, "vit-tiny");
    /* Pass 1 finds --help and --arch so that overrides win whatever their
     * position; pass 2 applies the overrides. */
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(usage_text, stdout);
            exit(0);
        }
        if (is_value_opt(argv[i])) {
            if (i + 1 >= argc)
                usage_error("%s needs a value", argv[i]);
            if (!strcmp(argv[i], "--arch"))
                apply_preset(c, argv[i + 1]);
            i++;
        } else if (strcmp(argv[i], "--no-qkv-bias")) {
            usage_error("unknown argument '%s' (see --help)", argv[i]);
        }
    }
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(o, "--no-qkv-bias")) {
            c->qkv_bias = 0;
            continue;
        }
        i++;
        if (!strcmp(o, "--out"))
            c->out = v;
        else if (!strcmp(o, "--hidden"))
            c->hidden = (uint32_t)parse_uint(o, v, 1, 65536);
        else if (!strcmp(o, "--layers"))
            c->layers = (uint32_t)parse_uint(o, v, 1, 1024);
        else if (!strcmp(o, "--heads"))
            c->heads = (uint32_t)parse_uint(o, v, 1, 65536);
        else if (!strcmp(o, "--intermediate"))
            c->inter = (uint32_t)parse_uint(o, v, 1, 1u << 20);
        else if (!strcmp(o, "--patch"))
            c->patch = (uint32_t)parse_uint(o, v, 1, 4096);
        else if (!strcmp(o, "--image-size"))
            c->image = (uint32_t)parse_uint(o, v, 1, 16384);
        else if (!strcmp(o, "--channels"))
            c->channels = (uint32_t)parse_uint(o, v, 1, 64);
        else if (!strcmp(o, "--labels"))
            c->labels = (uint32_t)parse_uint(o, v, 0, 1u << 20);
        else if (!strcmp(o, "--seed"))
            c->seed = parse_uint(o, v, 0, UINT64_MAX);
        else if (!strcmp(o, "--dtype")) {
            if (!strcmp(v, "F32"))
                c->dtype = ST_F32;
            else if (!strcmp(v, "F16"))
                c->dtype = ST_F16;
            else if (!strcmp(v, "BF16"))
                c->dtype = ST_BF16;
            else
                usage_error("--dtype must be F32, F16 or BF16, got '%s'", v);
        } else if (!strcmp(o, "--eps")) {
            char *end;
            errno = 0;
            c->eps = strtod(v, &end);
            if (errno || *end || end == v || !(c->eps > 0.0) || !isfinite(c->eps))
                usage_error("--eps must be a positive number, got '%s'", v);
        } else if (!strcmp(o, "--act")) {
            /* config.json is written by hand; a plain identifier needs no
             * escaping */
            if (!*v || strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                 "0123456789_-") != strlen(v))
                usage_error("--act must be a name like gelu or gelu_new, got '%s'", v);
            c->act = v;
        }
        /* --arch was applied in pass 1 */
    }
    if (!c->out || !*c->out)
        usage_error("--out DIR is required (see --help)");
    if (c->hidden % c->heads)
        usage_error("hidden size %u is not a multiple of the %u heads", c->hidden, c->heads);
    if (c->patch > c->image || c->image % c->patch)
        usage_error("image size %u is not a multiple of patch size %u", c->image, c->patch);
}

/* ------------------------------------------------------------------ */
/* Tensors                                                              */

typedef enum init_kind { INIT_WEIGHT, INIT_BIAS, INIT_LN_WEIGHT } init_kind;

typedef struct tensor_list {
    st_write_tensor *t;
    init_kind *kind;
    char (*names)[96];
    size_t n, cap;
} tensor_list;

static void add(tensor_list *l, init_kind kind, int rank, const int64_t *shape,
                const char *fmt, ...)
{
    if (l->n == l->cap)
        die(1, "internal error: tensor list too small");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(l->names[l->n], sizeof l->names[0], fmt, ap);
    va_end(ap);
    st_write_tensor *t = &l->t[l->n];
    memset(t, 0, sizeof *t);
    t->name = l->names[l->n];
    t->rank = rank;
    memcpy(t->shape, shape, (size_t)rank * sizeof *shape);
    l->kind[l->n] = kind;
    l->n++;
}

static void add_linear(tensor_list *l, int bias, int64_t out, int64_t in, const char *prefix,
                       uint32_t layer)
{
    const int64_t w[2] = {out, in}, b[1] = {out};
    add(l, INIT_WEIGHT, 2, w, "vit.encoder.layer.%u.%s.weight", layer, prefix);
    if (bias)
        add(l, INIT_BIAS, 1, b, "vit.encoder.layer.%u.%s.bias", layer, prefix);
}

static void add_layernorm(tensor_list *l, int64_t d, const char *name)
{
    const int64_t s[1] = {d};
    add(l, INIT_LN_WEIGHT, 1, s, "%s.weight", name);
    add(l, INIT_BIAS, 1, s, "%s.bias", name);
}

static void build_tensors(const model_cfg *c, tensor_list *l)
{
    l->cap = 4 + 16 * (size_t)c->layers + 4;
    l->t = calloc(l->cap, sizeof *l->t);
    l->kind = calloc(l->cap, sizeof *l->kind);
    l->names = calloc(l->cap, sizeof *l->names);
    if (!l->t || !l->kind || !l->names)
        die(1, "out of memory");
    const int64_t D = c->hidden, I = c->inter, P = c->patch, K = c->labels;
    const int64_t side = c->image / c->patch, tokens = 1 + side * side;

    const int64_t cls[3] = {1, 1, D}, pos[3] = {1, tokens, D};
    const int64_t conv[4] = {D, c->channels, P, P}, vec[1] = {D};
    add(l, INIT_WEIGHT, 3, cls, "vit.embeddings.cls_token");
    add(l, INIT_WEIGHT, 3, pos, "vit.embeddings.position_embeddings");
    add(l, INIT_WEIGHT, 4, conv, "vit.embeddings.patch_embeddings.projection.weight");
    add(l, INIT_BIAS, 1, vec, "vit.embeddings.patch_embeddings.projection.bias");
    for (uint32_t i = 0; i < c->layers; i++) {
        add_linear(l, c->qkv_bias, D, D, "attention.attention.query", i);
        add_linear(l, c->qkv_bias, D, D, "attention.attention.key", i);
        add_linear(l, c->qkv_bias, D, D, "attention.attention.value", i);
        add_linear(l, 1, D, D, "attention.output.dense", i);
        add_linear(l, 1, I, D, "intermediate.dense", i);
        add_linear(l, 1, D, I, "output.dense", i);
        char name[64];
        snprintf(name, sizeof name, "vit.encoder.layer.%u.layernorm_before", i);
        add_layernorm(l, D, name);
        snprintf(name, sizeof name, "vit.encoder.layer.%u.layernorm_after", i);
        add_layernorm(l, D, name);
    }
    add_layernorm(l, D, "vit.layernorm");
    if (K > 0) {
        const int64_t w[2] = {K, D}, b[1] = {K};
        add(l, INIT_WEIGHT, 2, w, "classifier.weight");
        add(l, INIT_BIAS, 1, b, "classifier.bias");
    }
    for (size_t i = 0; i < l->n; i++)
        l->t[i].dtype = c->dtype;
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

static void write_weights(const model_cfg *c, const tensor_list *l, const char *path)
{
    char err[512];
    st_writer *w;
    if (st_writer_open(path, l->t, l->n, &w, err, sizeof err) != VITVK_OK)
        die(1, "%s", err);
    static float chunk[CHUNK_ELEMS];
    static uint8_t bytes[CHUNK_ELEMS * 4];
    size_t esize = st_dtype_size(c->dtype);
    for (size_t i = 0; i < l->n; i++) {
        const st_write_tensor *t = &l->t[i];
        normal_gen g = {.state = c->seed ^ fnv1a(t->name)};
        splitmix64(&g.state); /* decorrelate neighbouring seeds */
        double mean = l->kind[i] == INIT_LN_WEIGHT ? 1.0 : 0.0;
        double std = l->kind[i] == INIT_LN_WEIGHT ? 0.1 : 0.02;
        uint64_t numel = 1;
        for (int d = 0; d < t->rank; d++)
            numel *= (uint64_t)t->shape[d];
        while (numel > 0) {
            size_t n = numel < CHUNK_ELEMS ? (size_t)numel : CHUNK_ELEMS;
            for (size_t k = 0; k < n; k++)
                chunk[k] = (float)(mean + std * next_normal(&g));
            if (c->dtype == ST_F32) {
                memcpy(bytes, chunk, n * 4);
            } else {
                for (size_t k = 0; k < n; k++) {
                    uint16_t h = c->dtype == ST_F16 ? vk_f32_to_f16(chunk[k])
                                                    : vk_f32_to_bf16(chunk[k]);
                    memcpy(bytes + 2 * k, &h, 2);
                }
            }
            if (st_writer_write(w, bytes, n * esize, err, sizeof err) != VITVK_OK) {
                st_writer_abort(w);
                die(1, "%s", err);
            }
            numel -= n;
        }
    }
    if (st_writer_finish(w, err, sizeof err) != VITVK_OK)
        die(1, "%s", err);
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
        snprintf(out + o, sizeof out - o, "%c%s%se%c%02d", digits[0], nd > 1 ? "." : "",
                 digits + 1, e < 0 ? '-' : '+', e < 0 ? -e : e);
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

static int cmp_label_index(const void *a, const void *b)
{
    char x[16], y[16];
    snprintf(x, sizeof x, "%u", *(const uint32_t *)a);
    snprintf(y, sizeof y, "%u", *(const uint32_t *)b);
    return strcmp(x, y);
}

/* As transformers writes it: json.dumps(indent=2, sort_keys=True) + "\n".
 * Keys below are already in sorted order, and labels are sorted as the
 * strings "0", "1", "10", ... like Python sorts them. */
static void write_config(const model_cfg *c, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f)
        die(1, "%s: cannot create: %s", path, strerror(errno));
    static const char *const dtype_names[] = {[ST_F32] = "float32", [ST_F16] = "float16",
                                              [ST_BF16] = "bfloat16"};
    char eps[40], zero[8], init[16];
    py_float(c->eps, eps, sizeof eps);
    py_float(0.0, zero, sizeof zero);
    py_float(0.02, init, sizeof init);

    uint32_t *order = malloc((c->labels ? c->labels : 1) * sizeof *order);
    if (!order)
        die(1, "out of memory");
    for (uint32_t i = 0; i < c->labels; i++)
        order[i] = i;
    qsort(order, c->labels, sizeof *order, cmp_label_index);

    fprintf(f, "{\n  \"architectures\": [\n    \"ViTForImageClassification\"\n  ],\n");
    fprintf(f, "  \"attention_probs_dropout_prob\": %s,\n", zero);
    fprintf(f, "  \"dtype\": \"%s\",\n", dtype_names[c->dtype]);
    fprintf(f, "  \"encoder_stride\": %u,\n", c->patch);
    fprintf(f, "  \"hidden_act\": \"%s\",\n", c->act);
    fprintf(f, "  \"hidden_dropout_prob\": %s,\n", zero);
    fprintf(f, "  \"hidden_size\": %u,\n", c->hidden);
    if (c->labels == 0) {
        fprintf(f, "  \"id2label\": {},\n");
    } else {
        fprintf(f, "  \"id2label\": {\n");
        for (uint32_t i = 0; i < c->labels; i++)
            fprintf(f, "    \"%u\": \"label_%u\"%s\n", order[i], order[i],
                    i + 1 < c->labels ? "," : "");
        fprintf(f, "  },\n");
    }
    fprintf(f, "  \"image_size\": %u,\n", c->image);
    fprintf(f, "  \"initializer_range\": %s,\n", init);
    fprintf(f, "  \"intermediate_size\": %u,\n", c->inter);
    if (c->labels == 0) {
        fprintf(f, "  \"label2id\": {},\n");
    } else {
        fprintf(f, "  \"label2id\": {\n");
        for (uint32_t i = 0; i < c->labels; i++)
            fprintf(f, "    \"label_%u\": %u%s\n", order[i], order[i],
                    i + 1 < c->labels ? "," : "");
        fprintf(f, "  },\n");
    }
    fprintf(f, "  \"layer_norm_eps\": %s,\n", eps);
    fprintf(f, "  \"model_type\": \"vit\",\n");
    fprintf(f, "  \"num_attention_heads\": %u,\n", c->heads);
    fprintf(f, "  \"num_channels\": %u,\n", c->channels);
    fprintf(f, "  \"num_hidden_layers\": %u,\n", c->layers);
    fprintf(f, "  \"patch_size\": %u,\n", c->patch);
    fprintf(f, "  \"pooler_act\": \"tanh\",\n");
    fprintf(f, "  \"pooler_output_size\": %u,\n", c->hidden);
    fprintf(f, "  \"qkv_bias\": %s,\n", c->qkv_bias ? "true" : "false");
    fprintf(f, "  \"transformers_version\": \"5.17.0\"\n}\n");
    free(order);
    int bad = ferror(f);
    bad |= fclose(f) != 0;
    if (bad) {
        remove(path);
        die(1, "%s: write error", path);
    }
}

int main(int argc, char **argv)
{
    model_cfg c;
    parse_args(argc, argv, &c);

    char err[512];
    if (plat_make_dirs(c.out, err, sizeof err) != VITVK_OK)
        die(1, "%s", err);
    size_t cap = strlen(c.out) + 32;
    char *cfg_path = malloc(cap), *st_path = malloc(cap);
    if (!cfg_path || !st_path)
        die(1, "out of memory");
    plat_path_join(c.out, "config.json", cfg_path, cap);
    plat_path_join(c.out, "model.safetensors", st_path, cap);

    tensor_list l = {0};
    build_tensors(&c, &l);
    uint64_t total = 0;
    for (size_t i = 0; i < l.n; i++) {
        int ok;
        total += st_write_tensor_bytes(&l.t[i], &ok);
    }
    write_config(&c, cfg_path);
    write_weights(&c, &l, st_path);
    printf("%s: %s %s, %zu tensors, %.1f MB of weights\n", c.out, c.arch,
           st_dtype_name(c.dtype), l.n, (double)total / 1e6);
    free(l.t);
    free(l.kind);
    free(l.names);
    free(cfg_path);
    free(st_path);
    return 0;
}
