/* cli_bench.c - `vit-vk-cli bench`: latency, throughput and per-kernel GPU
 * time of the forward pass, on a model directory or on random weights of a
 * named architecture, as text or as one JSON object for collecting results
 * from many devices (fields documented in README, "Benchmark").
 *
 * Latency is timed on a plan without timestamps: a timestamp after every
 * dispatch keeps a GPU from overlapping independent dispatches, so the
 * per-kernel table comes from a second, profiled plan afterwards. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if defined(__linux__)
#include <unistd.h>
#endif

#include "cli_util.h"
#include "random_model.h"

static const char *help =
    "usage: vit-vk-cli bench (--model DIR | --arch NAME) [--image-size N|HxW] [--batch N]\n"
    "                        [--precision auto|fp32|fp16] [--device N] [--min-time S] [--json]\n"
    "                        [--kernels auto|cpu|gpu] [--coopmat auto|off|fp16acc]\n"
    "\n"
    "Times the forward pass on random pixels: warm-up runs (at least one, and\n"
    "min(0.5, S/4) seconds), then runs until at least S seconds (default 2) and 5\n"
    "runs have passed. Reports median and best latency per batch, images/s,\n"
    "effective TFLOP/s (FLOPs of the forward pass as README counts them), the\n"
    "device, vendor, driver and Vulkan version, the dispatches per run, and GPU\n"
    "time per kernel group from timestamp queries (a separate profiled run):\n"
    "GEMMs per layer kind, attention, LayerNorm and the rest, each with its\n"
    "GFLOP/s, GB/s and kernel variants.\n"
    "  --model DIR   a model directory (config.json + model.safetensors)\n"
    "  --arch NAME   random weights, nothing downloaded: vit-tiny, vit-small,\n"
    "                vit-b16, vit-b32, vit-l16, vit-h14, deit-b16 (two heads), swin-t.\n"
    "                Written (F16, seed 0) to a private temporary directory that is\n"
    "                removed as soon as the model is loaded.\n"
    "  --min-time S  seconds of timed runs (default 2; --min-seconds is the same)\n"
    "  --kernels F   auto (by device type), cpu or gpu: which kernel family to time\n"
    "  --coopmat M   tensor cores in fp16 GEMMs: auto (where the device has them,\n"
    "                fp32 accumulation), off, or fp16acc (fp16 accumulation)\n"
    "  --coopmat-tile BMxBNxBK/WMxWN/MxNxK  for tuning: every fp16 GEMM with this\n"
    "                KHR cooperative-matrix tiling (workgroup tile, subgroup tile,\n"
    "                a matrix shape `vit-vk-cli devices` lists)\n"
    "  --json        one JSON object on stdout instead of the text report\n"
    "\n"
    "examples:\n"
    "  vit-vk-cli bench --arch vit-b16 --batch 8 --precision fp16\n"
    "  vit-vk-cli bench --arch swin-t --json > bench/results/my-gpu-swin-t.json\n";

typedef struct bench_opts {
    const char *model, *arch;
    cli_device_opts dev;
    uint32_t batch, image_h, image_w;
    double min_time;
    const char *coopmat_tile;
    bool json, help;
} bench_opts;

static int parse(int argc, char **argv, bench_opts *o)
{
    o->batch = 1;
    o->min_time = 2.0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            o->help = true;
            continue;
        }
        if (strcmp(a, "--json") == 0) {
            o->json = true;
            continue;
        }
        if (a[0] != '-' || a[1] != '-') {
            cli_error("bench: unexpected argument %s (see vit-vk-cli bench --help)", a);
            return EXIT_USAGE;
        }
        static const char *const valued[] = {"--model", "--arch",   "--batch",    "--precision",
                                             "--device", "--image-size", "--min-time", "--min-seconds",
                                             "--kernels", "--coopmat", "--coopmat-tile"};
        bool known = false;
        for (size_t k = 0; k < sizeof valued / sizeof valued[0]; k++)
            known |= strcmp(a, valued[k]) == 0;
        if (!known) {
            cli_error("bench: unknown option %s (see vit-vk-cli bench --help)", a);
            return EXIT_USAGE;
        }
        if (!val) {
            cli_error("bench %s: needs a value", a);
            return EXIT_USAGE;
        }
        i++;
        bool ok = true;
        if (strcmp(a, "--model") == 0) {
            o->model = val;
        } else if (strcmp(a, "--arch") == 0) {
            rm_config probe;
            o->arch = val;
            if (rm_preset(val, &probe) != 0) {
                cli_error("bench --arch: \"%s\" is not one of %s", val, rm_preset_names);
                return EXIT_USAGE;
            }
        } else if (strcmp(a, "--batch") == 0) {
            ok = parse_u32(val, &o->batch) && o->batch >= 1 && o->batch <= 4096;
        } else if (strcmp(a, "--precision") == 0) {
            ok = parse_precision(val, &o->dev.precision);
        } else if (strcmp(a, "--kernels") == 0) {
            ok = parse_kernels(val, &o->dev.kernels);
        } else if (strcmp(a, "--coopmat") == 0) {
            ok = parse_coopmat(val, &o->dev.coopmat);
        } else if (strcmp(a, "--coopmat-tile") == 0) {
            ok = parse_coopmat_tile(val, o->dev.coopmat_tile);
            o->coopmat_tile = val;
        } else if (strcmp(a, "--device") == 0) {
            ok = parse_u32(val, &o->dev.device);
            o->dev.have_device = true;
        } else if (strcmp(a, "--image-size") == 0) {
            ok = parse_image_size(val, &o->image_h, &o->image_w);
        } else { /* --min-time, --min-seconds */
            char *end;
            o->min_time = strtod(val, &end);
            ok = end != val && !*end && o->min_time >= 0 && o->min_time <= 3600;
        }
        if (!ok) {
            cli_error("bench %s: \"%s\" is not valid (see vit-vk-cli bench --help)", a, val);
            return EXIT_USAGE;
        }
    }
    if (!o->help && !o->model == !o->arch) {
        cli_error("bench: give exactly one of --model DIR and --arch NAME (see vit-vk-cli bench --help)");
        return EXIT_USAGE;
    }
    return 0;
}

/* ---- the device ---------------------------------------------------- */

/* PCI vendor ids, and Khronos' VkVendorId for vendors without one. */
static const char *vendor_name(uint32_t id)
{
    static const struct { uint32_t id; const char *name; } vendors[] = {
        {0x1002, "AMD"},        {0x10DE, "NVIDIA"},      {0x8086, "Intel"},   {0x13B5, "ARM"},
        {0x5143, "Qualcomm"},   {0x106B, "Apple"},       {0x1010, "Imagination"}, {0x144D, "Samsung"},
        {0x14E4, "Broadcom"},   {0x1414, "Microsoft"},   {0x19E5, "Huawei"},  {0x1AE0, "Google"},
        {0x10002, "VeriSilicon"}, {0x10003, "Kazan"},    {0x10004, "Codeplay"}, {0x10005, "Mesa"},
        {0x10006, "PoCL"},      {0x10007, "Mobileye"},
    };
    for (size_t i = 0; i < sizeof vendors / sizeof vendors[0]; i++)
        if (vendors[i].id == id)
            return vendors[i].name;
    return "unknown";
}

/* driverVersion is vendor-encoded: NVIDIA packs 10.8.8.6 bits, Intel's
 * Windows driver 18.14, everyone else uses the Vulkan version layout. */
static void driver_version(const vitvk_device_info *d, char *buf, size_t n)
{
    uint32_t v = d->driver_version;
    if (d->vendor_id == 0x10DE)
        snprintf(buf, n, "%u.%u.%u.%u", v >> 22, (v >> 14) & 0xff, (v >> 6) & 0xff, v & 0x3f);
#if defined(_WIN32)
    else if (d->vendor_id == 0x8086)
        snprintf(buf, n, "%u.%u", v >> 14, v & 0x3fff);
#endif
    else
        snprintf(buf, n, "%u.%u.%u", v >> 22, (v >> 12) & 0x3ff, v & 0xfff);
}

/* The CPU the benchmark ran on: on lavapipe it is the device, and a GPU's
 * batch-1 latency depends on it too. "model name" from /proc/cpuinfo
 * (Linux on x86 and most others; "unknown" elsewhere) and the online CPUs. */
static void host_cpu(char *name, size_t n, long *cpus)
{
    snprintf(name, n, "unknown");
    *cpus = -1;
#if defined(__linux__)
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[512];
    while (f && fgets(line, sizeof line, f)) {
        const char *colon = strchr(line, ':');
        if (strncmp(line, "model name", 10) != 0 || !colon)
            continue;
        colon++;
        colon += strspn(colon, " \t");
        snprintf(name, n, "%.*s", (int)strcspn(colon, "\n"), colon);
        break;
    }
    if (f)
        fclose(f);
    *cpus = sysconf(_SC_NPROCESSORS_ONLN);
#endif
}

/* ---- timing -------------------------------------------------------- */

typedef struct timing {
    size_t runs, warmup_runs;
    double median, best, mean, warmup_s; /* seconds per batch */
} timing;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static bool run_once(vitvk_context *ctx, vitvk_plan *plan, const float *pixels, uint32_t batch, float *pooled,
                     double *seconds)
{
    double t0 = cli_now_seconds();
    if (vitvk_plan_run(plan, pixels, batch, NULL, pooled) != VITVK_OK) {
        cli_error("%s", vitvk_context_last_error(ctx));
        return false;
    }
    *seconds = cli_now_seconds() - t0;
    return true;
}

/* Warm-up (first touch of memory, pipelines, clocks), then timed runs. */
static int time_runs(vitvk_context *ctx, vitvk_plan *plan, const float *pixels, uint32_t batch, float *pooled,
                     double min_time, timing *out)
{
    double warm_target = min_time / 4 < 0.5 ? min_time / 4 : 0.5, dt, start = cli_now_seconds();
    do {
        if (!run_once(ctx, plan, pixels, batch, pooled, &dt))
            return EXIT_FAIL;
        out->warmup_runs++;
    } while (cli_now_seconds() - start < warm_target);
    out->warmup_s = cli_now_seconds() - start;
    size_t cap = 64;
    double *times = malloc(cap * sizeof *times), sum = 0;
    if (!times) {
        cli_error("out of memory");
        return EXIT_FAIL;
    }
    start = cli_now_seconds();
    while (out->runs < 5 || cli_now_seconds() - start < min_time) {
        if (!run_once(ctx, plan, pixels, batch, pooled, &dt)) {
            free(times);
            return EXIT_FAIL;
        }
        if (out->runs == cap) {
            double *nt = realloc(times, 2 * cap * sizeof *nt);
            if (!nt) {
                free(times);
                cli_error("out of memory");
                return EXIT_FAIL;
            }
            times = nt;
            cap *= 2;
        }
        times[out->runs++] = dt;
        sum += dt;
    }
    qsort(times, out->runs, sizeof *times, cmp_double);
    size_t n = out->runs;
    out->median = n % 2 ? times[n / 2] : 0.5 * (times[n / 2 - 1] + times[n / 2]);
    out->best = times[0];
    out->mean = sum / n;
    free(times);
    return 0;
}

/* ---- per-kernel table ---------------------------------------------- */

/* What each op label of the planners (lib/vit.c, lib/swin.c) belongs to;
 * anything not listed is "other". */
static const struct { const char *op, *group; } op_groups[] = {
    {"qkv projection", "gemm qkv"},
    {"attention output", "gemm attention output"},
    {"mlp fc1", "gemm fc1"},
    {"mlp fc2", "gemm fc2"},
    {"patch projection", "gemm patch embedding"},
    {"classifier", "gemm head"},
    {"pooler", "gemm head"},
    {"patch merging", "gemm patch merging"},
    {"attention", "attention"},
    {"window attention", "attention"},
    {"cls attention", "attention"},
    {"attention maps", "attention"},
    {"layernorm", "layernorm"},
    {"final layernorm", "layernorm"},
};
static const char *const group_order[] = {"gemm qkv", "gemm attention output", "gemm fc1", "gemm fc2",
                                          "gemm patch embedding", "gemm head", "gemm patch merging",
                                          "attention", "layernorm", "other"};
#define NGROUPS (sizeof group_order / sizeof group_order[0])
#define MAX_NAMES 8

typedef struct group {
    uint32_t dispatches;
    double ms, gflop, mbytes;
    const char *ops[MAX_NAMES], *variants[MAX_NAMES];
    unsigned nops, nvariants;
} group;

typedef struct variant_use {
    const char *op, *variant;
    uint32_t dispatches;
} variant_use;

typedef struct profile {
    bool ok;
    uint32_t dispatches;
    double gpu_ms;
    group groups[NGROUPS];
    variant_use *uses; /* distinct (op, variant) pairs, in first-seen order */
    size_t nuses;
} profile;

static size_t group_index(const char *op)
{
    const char *name = "other";
    for (size_t i = 0; i < sizeof op_groups / sizeof op_groups[0]; i++)
        if (strcmp(op, op_groups[i].op) == 0)
            name = op_groups[i].group;
    size_t g = 0;
    while (strcmp(group_order[g], name) != 0)
        g++;
    return g;
}

/* Adds s to a short list of distinct static strings (pointers compared
 * by content); beyond MAX_NAMES the rest are dropped. */
static void add_name(const char **list, unsigned *n, const char *s)
{
    for (unsigned i = 0; i < *n; i++)
        if (strcmp(list[i], s) == 0)
            return;
    if (*n < MAX_NAMES)
        list[(*n)++] = s;
}

static int profile_collect(const vitvk_kernel_time *kt, uint32_t n, profile *p)
{
    p->uses = calloc(n ? n : 1, sizeof *p->uses);
    if (!p->uses) {
        cli_error("out of memory");
        return EXIT_FAIL;
    }
    p->dispatches = n;
    for (uint32_t i = 0; i < n; i++) {
        const char *variant = kt[i].variant ? kt[i].variant : "?";
        group *g = &p->groups[group_index(kt[i].op)];
        g->dispatches++;
        g->ms += kt[i].ms;
        g->gflop += kt[i].gflop;
        g->mbytes += kt[i].mbytes;
        add_name(g->ops, &g->nops, kt[i].op);
        add_name(g->variants, &g->nvariants, variant);
        p->gpu_ms += kt[i].ms;
        size_t u = 0;
        while (u < p->nuses && !(strcmp(p->uses[u].op, kt[i].op) == 0 && strcmp(p->uses[u].variant, variant) == 0))
            u++;
        if (u == p->nuses)
            p->uses[p->nuses++] = (variant_use){.op = kt[i].op, .variant = variant};
        p->uses[u].dispatches++;
    }
    p->ok = true;
    return 0;
}

/* One or two runs of a profiled plan (the first a warm-up when runs are
 * short), then its per-dispatch times. A device without timestamps gives
 * no table (p->ok false), which is not an error. */
static int profile_model(vitvk_context *ctx, vitvk_model *model, uint32_t batch, const float *pixels,
                         float *pooled, double median, profile *p)
{
    vitvk_plan_desc pd = {.batch = batch, .profile = 1};
    vitvk_plan *plan = NULL;
    if (vitvk_plan_create(model, &pd, &plan) != VITVK_OK) {
        cli_error("profiled plan: %s", vitvk_context_last_error(ctx));
        return EXIT_FAIL;
    }
    uint32_t n = 0;
    if (vitvk_plan_profile(plan, NULL, &n) != VITVK_OK) {
        vitvk_plan_destroy(plan);
        return 0; /* no timestamps on this queue */
    }
    double dt;
    int rc = 0;
    for (int r = median < 1.0 ? 2 : 1; rc == 0 && r > 0; r--)
        if (!run_once(ctx, plan, pixels, batch, pooled, &dt))
            rc = EXIT_FAIL;
    vitvk_kernel_time *kt = rc ? NULL : calloc(n ? n : 1, sizeof *kt);
    if (rc == 0 && !kt) {
        cli_error("out of memory");
        rc = EXIT_FAIL;
    }
    if (rc == 0 && vitvk_plan_profile(plan, kt, &n) != VITVK_OK) {
        cli_error("%s", vitvk_context_last_error(ctx));
        rc = EXIT_FAIL;
    }
    if (rc == 0)
        rc = profile_collect(kt, n, p);
    free(kt);
    vitvk_plan_destroy(plan);
    return rc;
}

/* ---- report -------------------------------------------------------- */

typedef struct report {
    const char *arch, *model_dir, *prec_requested, *coopmat, *coopmat_tile;
    vitvk_model_info info;
    vitvk_device_info dev;
    uint32_t batch;
    double min_time, load_s;
    uint64_t activation_bytes;
    timing t;
    profile prof;
} report;

static double rate(double amount, double ms)
{
    return ms > 0 ? amount / ms * 1e3 : 0;
}

static const char *prec_name(vitvk_precision p)
{
    return p == VITVK_PRECISION_FP16 ? "fp16" : p == VITVK_PRECISION_FP32 ? "fp32" : "auto";
}

static void print_names(FILE *f, const char *const *names, unsigned n)
{
    fputc('[', f);
    for (unsigned i = 0; i < n; i++) {
        fputs(i ? ", " : "", f);
        json_string(f, names[i]);
    }
    fputc(']', f);
}

static void print_json(const report *r)
{
    const vitvk_device_info *d = &r->dev;
    const vitvk_model_info *m = &r->info;
    char drv[64], driver[600], date[32];
    driver_version(d, drv, sizeof drv);
    snprintf(driver, sizeof driver, "%s%s%s", d->driver_name, d->driver_name[0] && d->driver_info[0] ? " " : "",
             d->driver_info);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", &tm);
    unsigned api = d->api_version;
    double flops = (double)m->flops_per_image;
    printf("{\"vitvk_version\": \"%d.%d.%d\", \"date\": \"%s\", \"arch\": ", VITVK_VERSION_MAJOR,
           VITVK_VERSION_MINOR, VITVK_VERSION_PATCH, date);
    json_string(stdout, r->arch);
    printf(", \"random_weights\": %s, \"model\": ", r->model_dir ? "false" : "true");
    if (r->model_dir)
        json_string(stdout, r->model_dir);
    else
        fputs("null", stdout);
    printf(", \"architecture\": ");
    json_string(stdout, m->architecture);
    printf(", \"model_type\": ");
    json_string(stdout, m->model_type);
    printf(", \"image_size\": %u, \"image_height\": %u, \"image_width\": %u, \"batch\": %u, \"precision\": \"%s\", "
           "\"precision_requested\": \"%s\", \"coopmat_requested\": \"%s\", \"coopmat_tile\": ",
           m->image_height, m->image_height, m->image_width, r->batch, prec_name(m->precision), r->prec_requested,
           r->coopmat);
    if (r->coopmat_tile)
        json_string(stdout, r->coopmat_tile);
    else
        fputs("null", stdout);
    printf(", \"device\": ");
    json_string(stdout, d->name);
    printf(", \"device_type\": \"%s\", \"vendor\": \"%s\", \"vendor_id\": %u, \"device_id\": %u, \"driver\": ",
           cli_device_type_name(d->type), vendor_name(d->vendor_id), d->vendor_id, d->device_id);
    json_string(stdout, driver);
    printf(", \"driver_name\": ");
    json_string(stdout, d->driver_name);
    printf(", \"driver_info\": ");
    json_string(stdout, d->driver_info);
    char cpu[256];
    long cpus;
    host_cpu(cpu, sizeof cpu, &cpus);
    printf(", \"host_cpu\": ");
    json_string(stdout, cpu);
    if (cpus > 0)
        printf(", \"host_cpus\": %ld", cpus);
    else
        fputs(", \"host_cpus\": null", stdout);
    printf(", \"driver_version\": \"%s\", \"vulkan\": \"%u.%u.%u\", \"min_time_s\": %.3f, \"warmup_runs\": %zu, "
           "\"runs\": %zu, \"latency_ms_median\": %.4f, \"latency_ms_best\": %.4f, \"latency_ms_mean\": %.4f, "
           "\"images_per_s\": %.7g, \"tflops\": %.7g, \"flops_per_image\": %llu, \"gflop_per_image\": %.6f, "
           "\"load_s\": %.3f, \"weight_bytes\": %llu, \"activation_bytes\": %llu, \"dispatches\": ",
           drv, (api >> 22) & 0x7f, (api >> 12) & 0x3ff, api & 0xfff, r->min_time, r->t.warmup_runs, r->t.runs,
           r->t.median * 1e3, r->t.best * 1e3, r->t.mean * 1e3, r->batch / r->t.median,
           flops * r->batch / r->t.median * 1e-12, (unsigned long long)m->flops_per_image, flops * 1e-9,
           r->load_s, (unsigned long long)m->weight_bytes, (unsigned long long)r->activation_bytes);
    const profile *p = &r->prof;
    if (p->ok)
        printf("%u, \"gpu_ms\": %.4f", p->dispatches, p->gpu_ms);
    else
        fputs("null, \"gpu_ms\": null", stdout);
    fputs(", \"kernels\": [", stdout);
    bool first = true;
    for (size_t i = 0; p->ok && i < NGROUPS; i++) {
        const group *g = &p->groups[i];
        if (!g->dispatches)
            continue;
        printf("%s{\"group\": \"%s\", \"ops\": ", first ? "" : ", ", group_order[i]);
        print_names(stdout, g->ops, g->nops);
        printf(", \"dispatches\": %u, \"ms\": %.4f, \"share\": %.4f, \"gflop\": %.9g, \"gflops\": %.7g, "
               "\"mbytes\": %.9g, \"gbps\": %.7g, \"variants\": ",
               g->dispatches, g->ms, p->gpu_ms > 0 ? g->ms / p->gpu_ms : 0, g->gflop, rate(g->gflop, g->ms),
               g->mbytes, rate(g->mbytes, g->ms) * 1e-3);
        print_names(stdout, g->variants, g->nvariants);
        fputc('}', stdout);
        first = false;
    }
    fputs("], \"variants\": [", stdout);
    for (size_t u = 0; u < p->nuses; u++) {
        printf("%s{\"op\": ", u ? ", " : "");
        json_string(stdout, p->uses[u].op);
        printf(", \"variant\": ");
        json_string(stdout, p->uses[u].variant);
        printf(", \"dispatches\": %u}", p->uses[u].dispatches);
    }
    puts("]}");
}

static void print_text(const report *r)
{
    const vitvk_device_info *d = &r->dev;
    const vitvk_model_info *m = &r->info;
    unsigned api = d->api_version;
    char drv[64];
    driver_version(d, drv, sizeof drv);
    double med = r->t.median;
    printf("model      %s (%s%s, %u layers, hidden %u, %ux%u, %.2f GFLOP/image)\n", r->arch,
           r->model_dir ? "" : "random weights, ", m->architecture, m->num_layers, m->hidden_size, m->image_height,
           m->image_width, m->flops_per_image * 1e-9);
    printf("device     %s (%s, %s 0x%04x); driver %s %s (%s); Vulkan %u.%u.%u\n", d->name, cli_device_type_name(d->type),
           vendor_name(d->vendor_id), d->vendor_id, d->driver_name, d->driver_info, drv, (api >> 22) & 0x7f,
           (api >> 12) & 0x3ff, api & 0xfff);
    char cpu[256];
    long cpus;
    host_cpu(cpu, sizeof cpu, &cpus);
    if (cpus > 0)
        printf("host       %s, %ld logical CPUs\n", cpu, cpus);
    else
        printf("host       %s\n", cpu);
    printf("precision  %s, batch %u, --coopmat %s; %zu runs after %zu warm-up run%s (%.2f s)\n",
           prec_name(m->precision), r->batch, r->coopmat, r->t.runs, r->t.warmup_runs, r->t.warmup_runs == 1 ? "" : "s", r->t.warmup_s);
    printf("latency    median %.3f ms, best %.3f ms per batch (%.4f s per image)\n", med * 1e3, r->t.best * 1e3,
           med / r->batch);
    printf("throughput %.2f images/s, %.4f TFLOP/s effective\n", r->batch / med,
           (double)m->flops_per_image * r->batch / med * 1e-12);
    printf("memory     weights %.1f MiB, activations %.1f MiB; load %.2f s\n", m->weight_bytes / 1048576.0,
           r->activation_bytes / 1048576.0, r->load_s);
    const profile *p = &r->prof;
    if (!p->ok) {
        printf("dispatches unknown (the queue has no timestamps: no per-kernel table)\n");
        return;
    }
    printf("dispatches %u per run\n", p->dispatches);
    printf("\nGPU time per kernel group (profiled run, %.3f ms):\n", p->gpu_ms);
    printf("  %-22s %5s %11s %7s %9s %8s  %s\n", "group", "disp.", "ms", "share", "GFLOP/s", "GB/s", "variants");
    for (size_t i = 0; i < NGROUPS; i++) {
        const group *g = &p->groups[i];
        if (!g->dispatches)
            continue;
        printf("  %-22s %5u %11.3f %6.1f%% %9.2f %8.2f  ", group_order[i], g->dispatches, g->ms,
               p->gpu_ms > 0 ? 100 * g->ms / p->gpu_ms : 0, rate(g->gflop, g->ms), rate(g->mbytes, g->ms) * 1e-3);
        for (unsigned v = 0; v < g->nvariants; v++)
            printf("%s%s", v ? ", " : "", g->variants[v]);
        putchar('\n');
    }
}

/* ---- the command --------------------------------------------------- */

/* Loads --model, or writes --arch's random checkpoint to a private
 * temporary directory, loads it and removes it. */
static vitvk_model *load_model(vitvk_context *ctx, const bench_opts *o)
{
    vitvk_model_desc md = {.precision = o->dev.precision, .image_height = o->image_h, .image_width = o->image_w};
    vitvk_model *model = NULL;
    if (o->model) {
        if (vitvk_model_load(ctx, o->model, &md, &model) != VITVK_OK)
            cli_error("%s", vitvk_context_last_error(ctx));
        return model;
    }
    rm_config rc;
    rm_preset(o->arch, &rc); /* checked while parsing */
    /* F16 halves the temporary file; the values are random either way */
    rc.dtype = ST_F16;
    char dir[1024], err[1024];
    if (rm_write_temp(&rc, dir, sizeof dir, err, sizeof err) != VITVK_OK)
        cli_error("bench --arch %s: %s", o->arch, err);
    else if (vitvk_model_load(ctx, dir, &md, &model) != VITVK_OK)
        cli_error("bench --arch %s: %s", o->arch, vitvk_context_last_error(ctx));
    rm_remove(dir);
    return model;
}

/* The last path component of a model directory, as its name. */
static const char *dir_name(const char *path, char *buf, size_t size)
{
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/')
        n--;
    size_t s = n;
    while (s > 0 && path[s - 1] != '/')
        s--;
    snprintf(buf, size, "%.*s", (int)(n - s), path + s);
    return buf;
}

int cli_bench(int argc, char **argv)
{
    bench_opts o = {0};
    int rc = parse(argc, argv, &o);
    if (rc)
        return rc;
    if (o.help) {
        fputs(help, stdout);
        return 0;
    }
    unsigned validation = 0;
    vitvk_context *ctx = cli_context(&o.dev, &validation);
    if (!ctx)
        return EXIT_FAIL;
    char name[256];
    report r = {.arch = o.arch ? o.arch : dir_name(o.model, name, sizeof name), .model_dir = o.model,
                .prec_requested = prec_name(o.dev.precision),
                .coopmat = o.dev.coopmat == VITVK_COOPMAT_OFF ? "off"
                           : o.dev.coopmat == VITVK_COOPMAT_FP16_ACCUMULATE ? "fp16acc" : "auto",
                .coopmat_tile = o.coopmat_tile,
                .batch = o.batch, .min_time = o.min_time};
    vitvk_context_device_info(ctx, &r.dev);
    double t0 = cli_now_seconds();
    vitvk_model *model = load_model(ctx, &o);
    r.load_s = cli_now_seconds() - t0;
    vitvk_plan *plan = NULL;
    float *pixels = NULL, *pooled = NULL;
    if (!model) {
        rc = EXIT_FAIL;
    } else {
        vitvk_model_get_info(model, &r.info);
        vitvk_plan_desc pd = {.batch = o.batch};
        if (vitvk_plan_create(model, &pd, &plan) != VITVK_OK) {
            cli_error("%s: %s", r.arch, vitvk_context_last_error(ctx));
            rc = EXIT_FAIL;
        }
    }
    if (rc == 0) {
        r.activation_bytes = vitvk_plan_activation_bytes(plan);
        size_t per = (size_t)r.info.channels * r.info.image_height * r.info.image_width;
        pixels = malloc(per * o.batch * sizeof(float));
        pooled = malloc((size_t)o.batch * r.info.pooled_size * sizeof(float));
        if (!pixels || !pooled) {
            cli_error("out of memory");
            rc = EXIT_FAIL;
        }
        /* xorshift64: the same pixels every run, in [-1, 1) like normalised images */
        uint64_t x = 88172645463325252ull;
        for (size_t i = 0; rc == 0 && i < per * o.batch; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            pixels[i] = (float)((x >> 40) * (1.0 / 16777216.0)) * 2.0f - 1.0f;
        }
    }
    if (rc == 0)
        rc = time_runs(ctx, plan, pixels, o.batch, pooled, o.min_time, &r.t);
    vitvk_plan_destroy(plan);
    if (rc == 0)
        rc = profile_model(ctx, model, o.batch, pixels, pooled, r.t.median, &r.prof);
    if (rc == 0 && o.json)
        print_json(&r);
    else if (rc == 0)
        print_text(&r);
    free(r.prof.uses);
    free(pixels);
    free(pooled);
    vitvk_model_destroy(model);
    if (!cli_context_finish(ctx, &validation))
        return EXIT_FAIL;
    return rc;
}
