/* mkmodel.c - vit-vk-mkmodel: writes a random-weight Hugging Face ViT, DeiT
 * or Swin checkpoint (config.json + model.safetensors) of any size, for
 * tests and benchmarks without downloading real weights. The checkpoint
 * itself comes from random_model.c, which `vit-vk-cli bench --arch` uses
 * too. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platform.h"
#include "random_model.h"

#define PROG "vit-vk-mkmodel"

static const char usage_text[] =
    "usage: " PROG " --out DIR [--arch NAME] [overrides]\n"
    "\n"
    "Writes a Hugging Face checkpoint with random weights: DIR/config.json and\n"
    "DIR/model.safetensors (DIR is created).\n"
    "\n"
    "  --out DIR           output directory (required)\n"
    "  --arch NAME         preset: vit-tiny (default), vit-small, vit-b16, vit-b32,\n"
    "                      vit-l16, vit-h14 (ViTForImageClassification), deit-b16\n"
    "                      (DeiTForImageClassificationWithTeacher, two heads), swin-t\n"
    "                      (SwinForImageClassification, window 7); image 224,\n"
    "                      3 channels, 1000 labels, gelu, eps 1e-12 (Swin 1e-5)\n"
    "overrides (applied after the preset, in any order):\n"
    "  --hidden D  --layers L  --heads H  --intermediate I  --patch P\n"
    "  --image-size S  --channels C  --labels K (0: no classifier)\n"
    "  --dtype F32|F16|BF16   --no-qkv-bias   --eps E   --act NAME\n"
    "  --seed N            generator seed (default 0)\n"
    "  --help              this text\n"
    "For swin-t, --hidden is embed_dim (the first stage's width); --layers, --heads\n"
    "and --intermediate do not apply (depths 2-2-6-2, heads 3-6-12-24, MLP 4x).\n"
    "\n"
    "Weights: matrices and embeddings N(0, 0.02), biases N(0, 0.02), LayerNorm\n"
    "weights 1 + N(0, 0.1), so nothing sits at its default value.\n"
    "\n"
    "example:\n"
    "  " PROG " --out /tmp/vit-b16-fp16 --arch vit-b16 --dtype F16 --seed 7\n";

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

static void apply_preset(rm_config *c, const char *name)
{
    if (rm_preset(name, c) != 0)
        usage_error("unknown --arch '%s' (%s)", name, rm_preset_names);
}

static void parse_args(int argc, char **argv, rm_config *c, const char **out)
{
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
        if (c->family == RM_SWIN &&
            (!strcmp(o, "--layers") || !strcmp(o, "--heads") || !strcmp(o, "--intermediate")))
            usage_error("%s does not apply to %s (its stages are fixed; see --help)", o, c->arch);
        if (!strcmp(o, "--out"))
            *out = v;
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
    if (!*out || !**out)
        usage_error("--out DIR is required (see --help)");
    char err[256];
    if (rm_check(c, err, sizeof err) != VITVK_OK)
        usage_error("%s", err);
}

int main(int argc, char **argv)
{
    rm_config c;
    const char *out = NULL;
    parse_args(argc, argv, &c, &out);
    char err[512];
    if (plat_make_dirs(out, err, sizeof err) != VITVK_OK)
        die(1, "%s", err);
    size_t tensors = 0;
    uint64_t total = 0;
    if (rm_write(&c, out, &tensors, &total, err, sizeof err) != VITVK_OK)
        die(1, "%s", err);
    printf("%s: %s %s, %zu tensors, %.1f MB of weights\n", out, c.arch, st_dtype_name(c.dtype), tensors,
           (double)total / 1e6);
    return 0;
}
