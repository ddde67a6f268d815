/* cli_util.c - helpers shared by vit-vk-cli's subcommands. */
#include "cli_util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(_WIN32)
#include <io.h>
#define CLI_ISATTY(f) _isatty(_fileno(f))
#else
#include <unistd.h>
#define CLI_ISATTY(f) isatty(fileno(f))
#endif

static cli_progress *g_progress; /* the bar on screen, if any */

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (g_progress && g_progress->on)
        fputs("\r\033[K", stderr); /* the next update redraws the bar */
    fputs("vit-vk-cli: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        default:
            if (*p < 0x20)
                fprintf(f, "\\u%04x", *p);
            else
                fputc(*p, f);
        }
    }
    fputc('"', f);
}

bool parse_u32(const char *s, uint32_t *out)
{
    if (!s || !*s || *s == '-' || *s == '+')
        return false;
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end || v > UINT32_MAX)
        return false;
    *out = (uint32_t)v;
    return true;
}

bool parse_image_size(const char *s, uint32_t *h, uint32_t *w)
{
    unsigned hh = 0, ww = 0;
    char x = 0, tail = 0;
    int n = sscanf(s, "%u%c%u%c", &hh, &x, &ww, &tail);
    if (!((n == 1 && hh > 0) || (n == 3 && x == 'x' && hh > 0 && ww > 0)) || hh > 65535 || ww > 65535)
        return false;
    *h = hh;
    *w = n == 3 ? ww : hh;
    return true;
}

static const char *component_name(vitvk_component c)
{
    static const char *const names[] = {"f16", "f32", "f64", "s8", "s16", "s32", "s64", "u8", "u16", "u32", "u64"};
    return (unsigned)c < sizeof names / sizeof names[0] ? names[c] : "?";
}

const char *cli_coopmat_shape_name(const vitvk_coopmat_shape *s)
{
    static char buf[64];
    snprintf(buf, sizeof buf, "%ux%ux%u %s*%s+%s=%s", s->m, s->n, s->k, component_name(s->a), component_name(s->b),
             component_name(s->c), component_name(s->result));
    return buf;
}

const char *cli_device_type_name(vitvk_device_type t)
{
    switch (t) {
    case VITVK_DEVICE_DISCRETE_GPU: return "discrete-gpu";
    case VITVK_DEVICE_INTEGRATED_GPU: return "integrated-gpu";
    case VITVK_DEVICE_VIRTUAL_GPU: return "virtual-gpu";
    case VITVK_DEVICE_CPU: return "cpu";
    default: return "other";
    }
}

bool parse_coopmat(const char *s, vitvk_coopmat_mode *out)
{
    static const char *const names[] = {"auto", "off", "fp16acc"};
    for (int i = 0; i < 3; i++)
        if (strcmp(s, names[i]) == 0) {
            *out = (vitvk_coopmat_mode)i;
            return true;
        }
    return false;
}

bool parse_coopmat_tile(const char *s, uint32_t out[8])
{
    unsigned v[8];
    char tail;
    if (sscanf(s, "%ux%ux%u/%ux%u/%ux%ux%u%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &tail) != 8)
        return false;
    for (int i = 0; i < 8; i++) {
        if (v[i] == 0 || v[i] > 1024)
            return false;
        out[i] = v[i];
    }
    return true;
}

bool parse_kernels(const char *s, vitvk_kernel_family *out)
{
    static const char *const names[] = {"auto", "cpu", "gpu"};
    for (int i = 0; i < 3; i++)
        if (strcmp(s, names[i]) == 0) {
            *out = (vitvk_kernel_family)i;
            return true;
        }
    return false;
}

bool parse_precision(const char *s, vitvk_precision *out)
{
    if (strcmp(s, "auto") == 0)
        *out = VITVK_PRECISION_AUTO;
    else if (strcmp(s, "fp32") == 0)
        *out = VITVK_PRECISION_FP32;
    else if (strcmp(s, "fp16") == 0)
        *out = VITVK_PRECISION_FP16;
    else
        return false;
    return true;
}

static bool validation_wanted(void)
{
    const char *v = getenv("VITVK_VALIDATION");
    return v && *v && strcmp(v, "0") != 0;
}

static void log_to_stderr(void *user, vitvk_log_level level, const char *msg)
{
    bool validation = strncmp(msg, "validation:", 11) == 0;
    if (level >= VITVK_LOG_WARNING && validation)
        (*(unsigned *)user)++;
    /* Validation messages, and the library's warnings, which are what a
     * user should know (a kernel it turned off after its self-check
     * failed, say). Its errors come back as the failing call's message,
     * which the caller prints. */
    if ((level >= VITVK_LOG_WARNING && validation) || level == VITVK_LOG_WARNING)
        fprintf(stderr, "vit-vk-cli: %s\n", msg);
}

vitvk_context *cli_context(const cli_device_opts *o, unsigned *validation_count)
{
    vitvk_context_desc d = {0};
    d.use_device_index = o->have_device;
    d.device_index = o->device;
    d.kernels = o->kernels;
    d.cooperative_matrix = o->coopmat;
    memcpy(d.coopmat_tile, o->coopmat_tile, sizeof d.coopmat_tile);
    d.enable_validation = validation_wanted();
    d.log = log_to_stderr;
    d.log_user = validation_count;
    char err[1024];
    vitvk_context *ctx = NULL;
    vitvk_status st = vitvk_context_create(&d, &ctx, err, sizeof err);
    if (st != VITVK_OK) {
        cli_error("%s", err);
        return NULL;
    }
    return ctx;
}

bool cli_context_finish(vitvk_context *ctx, const unsigned *validation_count)
{
    vitvk_context_destroy(ctx);
    /* Destruction can report leaks, so the count is read afterwards. */
    if (*validation_count) {
        cli_error("the Vulkan validation layer reported %u message%s", *validation_count,
                  *validation_count == 1 ? "" : "s");
        return false;
    }
    return true;
}

void csv_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

/* ---- progress bar ---- */

bool cli_stderr_is_terminal(void)
{
    return CLI_ISATTY(stderr) != 0;
}

double cli_now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void format_duration(char *buf, size_t n, double s)
{
    if (!(s >= 0) || s > 359999)
        s = 359999;
    unsigned long t = (unsigned long)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, n, "%lu:%02lu:%02lu", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(buf, n, "%lu:%02lu", t / 60, t % 60);
}

static void progress_draw(cli_progress *p, bool final)
{
    enum { WIDTH = 24 };
    double now = cli_now_seconds(), el = now - p->t0;
    char bar[WIDTH + 1];
    size_t fill = p->total ? p->done * WIDTH / p->total : WIDTH;
    for (size_t i = 0; i < WIDTH; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[WIDTH] = 0;
    double rate = el > 0 && p->done ? (double)p->done / el : 0;
    char t[32];
    if (final)
        format_duration(t, sizeof t, el);
    else if (rate > 0)
        format_duration(t, sizeof t, (double)(p->total - p->done) / rate);
    else
        snprintf(t, sizeof t, "?");
    fprintf(stderr, "\r%s [%s] %zu/%zu images, %.1f images/s, %s %s\033[K", p->what, bar, p->done, p->total, rate,
            final ? "took" : "ETA", t);
    fflush(stderr);
    p->last_draw = now;
}

void cli_progress_start(cli_progress *p, const char *what, size_t total, size_t batches)
{
    memset(p, 0, sizeof *p);
    p->what = what;
    p->total = total;
    p->on = batches > 1 && cli_stderr_is_terminal();
    p->t0 = cli_now_seconds();
    if (p->on) {
        g_progress = p;
        progress_draw(p, false);
    }
}

void cli_progress_update(cli_progress *p, size_t done)
{
    p->done = done;
    if (p->on)
        progress_draw(p, false);
}

void cli_progress_clear(cli_progress *p)
{
    if (p->on) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
    }
}

void cli_progress_end(cli_progress *p)
{
    if (p->on) {
        progress_draw(p, true);
        fputc('\n', stderr);
        fflush(stderr);
    }
    if (g_progress == p)
        g_progress = NULL;
    p->on = false;
}
