/* cli_util.c - helpers shared by vit-vk-cli's subcommands. */
#include "cli_util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
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
    if (level >= VITVK_LOG_WARNING && strncmp(msg, "validation:", 11) == 0) {
        (*(unsigned *)user)++;
        fprintf(stderr, "vit-vk-cli: %s\n", msg);
    }
}

vitvk_context *cli_context(const cli_device_opts *o, unsigned *validation_count)
{
    vitvk_context_desc d = {0};
    d.use_device_index = o->have_device;
    d.device_index = o->device;
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
