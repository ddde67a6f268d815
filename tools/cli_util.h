/* cli_util.h - small helpers shared by vit-vk-cli's subcommands. */
#ifndef VITVK_CLI_UTIL_H
#define VITVK_CLI_UTIL_H
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "vitvk.h"

#define EXIT_USAGE 2
#define EXIT_FAIL 1

/* Prints "vit-vk-cli: <message>" on stderr. */
void cli_error(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/* Writes s as a JSON string literal (with quotes). */
void json_string(FILE *f, const char *s);

/* Parses a non-negative integer option value; false if malformed. */
bool parse_u32(const char *s, uint32_t *out);
bool parse_precision(const char *s, vitvk_precision *out);

/* Common options: --device, --precision, plus validation from the
 * environment (VITVK_VALIDATION=1 enables the Khronos layer and makes any
 * message a failure). */
typedef struct cli_device_opts {
    bool have_device;
    uint32_t device;
    vitvk_precision precision;
} cli_device_opts;

/* Creates the context; prints the error and returns NULL on failure.
 * Validation messages are printed and counted in *validation_count. */
vitvk_context *cli_context(const cli_device_opts *o, unsigned *validation_count);
/* Destroys the context; returns false (after printing) if the validation
 * layer reported anything. */
bool cli_context_finish(vitvk_context *ctx, const unsigned *validation_count);
/* `vit-vk-cli attention` (cli_attention.c): argv after the command name. */
int cli_attention(int argc, char **argv);
#endif
