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
/* "discrete-gpu", "integrated-gpu", "virtual-gpu", "cpu" or "other": the
 * device type as `devices` and `bench` print it. */
const char *cli_device_type_name(vitvk_device_type t);

/* "16x16x16 f16*f16+f32=f32": a cooperative-matrix shape for people and
 * JSON; the text lives in a static buffer per call site of this thread, so
 * copy it before the next call. */
const char *cli_coopmat_shape_name(const vitvk_coopmat_shape *s);
/* "auto", "cpu" or "gpu" (--kernels). */
/* "auto", "off" or "fp16acc" (cooperative matrices accumulating in fp16). */
bool parse_coopmat(const char *s, vitvk_coopmat_mode *out);
/* "BMxBNxBK/WMxWN/MxNxK" (vitvk_context_desc.coopmat_tile). */
bool parse_coopmat_tile(const char *s, uint32_t out[8]);
bool parse_kernels(const char *s, vitvk_kernel_family *out);
/* --image-size: "N" (square) or "HxW", sides 1 to 65535; false if malformed. */
bool parse_image_size(const char *s, uint32_t *h, uint32_t *w);

/* Common options: --device, --precision, plus validation from the
 * environment (VITVK_VALIDATION=1 enables the Khronos layer and makes any
 * message a failure). */
typedef struct cli_device_opts {
    bool have_device;
    uint32_t device;
    vitvk_precision precision;
    vitvk_kernel_family kernels; /* --kernels auto|cpu|gpu */
    vitvk_coopmat_mode coopmat;  /* --coopmat auto|off|fp16acc */
    uint32_t coopmat_tile[8];    /* bench --coopmat-tile BMxBNxBK/WMxWN/MxNxK */
} cli_device_opts;

/* Creates the context; prints the error and returns NULL on failure.
 * Validation messages are printed and counted in *validation_count. */
vitvk_context *cli_context(const cli_device_opts *o, unsigned *validation_count);
/* Destroys the context; returns false (after printing) if the validation
 * layer reported anything. */
bool cli_context_finish(vitvk_context *ctx, const unsigned *validation_count);
/* `vit-vk-cli attention` (cli_attention.c): argv after the command name. */
int cli_attention(int argc, char **argv);
/* `vit-vk-cli bench` (cli_bench.c): argv after the command name. */
int cli_bench(int argc, char **argv);

/* Writes s as one CSV field (RFC 4180: quoted when it holds a comma, quote,
 * CR or LF; quotes doubled). */
void csv_field(FILE *f, const char *s);

/* ---- progress bar (cli_util.c) ----
 * One line on stderr, redrawn with \r: done/total, images/s, time left.
 * Shown only when stderr is a terminal and the work takes more than one
 * batch. cli_error clears the line first, so messages never mix with it. */
typedef struct cli_progress {
    bool on;
    const char *what;    /* "classify", "embed" */
    size_t total, done;
    double t0, last_draw;
} cli_progress;
void cli_progress_start(cli_progress *p, const char *what, size_t total, size_t batches);
void cli_progress_update(cli_progress *p, size_t done);
void cli_progress_clear(cli_progress *p); /* blank the line (before output that may share the terminal) */
void cli_progress_end(cli_progress *p); /* final state, then a newline */
bool cli_stderr_is_terminal(void);
double cli_now_seconds(void);

/* ---- image arguments (cli_files.c) ----
 * Files are taken as named, whatever their extension. Directories are walked
 * recursively in sorted name order, keeping files named *.png, *.jpg,
 * *.jpeg (any case) and skipping hidden entries (names starting with '.')
 * and symbolic links to directories (no cycles). A directory that cannot be
 * read, or holds no image, is reported (cli_error) and counted in
 * *failures; the walk goes on. */
typedef struct cli_file_list {
    char **paths;
    size_t count, cap;
} cli_file_list;
void cli_collect_images(const char *const *args, int nargs, cli_file_list *out, int *failures);
void cli_file_list_free(cli_file_list *l);

/* config.json's "problem_type" is "multi_label_classification" (scores are
 * then sigmoids, as transformers trains such heads). */
bool cli_model_is_multi_label(const char *model_dir);
#endif
