/* safetensors.h - validated, memory-mapped reader and a small writer for the
 * safetensors format (https://github.com/huggingface/safetensors).
 *
 * Reading never trusts the file: the header length, the JSON, every dtype,
 * shape and data offset is checked before any tensor byte is touched, and
 * sizes are computed with overflow checks. A file that passes st_open can be
 * read through st_tensor.data without further bounds checks.
 *
 * Errors are returned as vitvk_status with a one-line message (naming the
 * file and, where it applies, the tensor) written to err (may be NULL). */
#ifndef VITVK_SAFETENSORS_H
#define VITVK_SAFETENSORS_H
#include <stddef.h>
#include <stdint.h>
#include "vitvk.h"

/* Limits enforced before allocation. */
#define ST_MAX_HEADER_BYTES (100u * 1024u * 1024u) /* safetensors' own limit */
#define ST_MAX_TENSORS 1000000u
#define ST_MAX_RANK 8

typedef enum st_dtype {
    ST_F32, ST_F16, ST_BF16, ST_F64,
    ST_I64, ST_I32, ST_I16, ST_I8, ST_U8, ST_U16, ST_U32, ST_U64, ST_BOOL,
    ST_F8_E4M3, ST_F8_E5M2
} st_dtype;

typedef struct st_tensor {
    const char *name;
    st_dtype dtype;
    int rank;
    int64_t shape[ST_MAX_RANK];
    int64_t numel;
    const void *data;   /* points into the mapping; valid until the archive is closed */
    size_t nbytes;
} st_tensor;

/* An archive: one file, or every shard of a sharded checkpoint. Tensor names
 * are unique across the archive. */
typedef struct st_archive st_archive;

/* Opens one .safetensors file. */
vitvk_status st_open_file(const char *path, st_archive **out, char *err, size_t err_size);

/* Validates a safetensors file held in memory, exactly as st_open_file
 * does. The archive borrows `data`: it must stay valid and unchanged until
 * st_close. `name` (may be NULL) is used in messages. */
vitvk_status st_open_memory(const void *data, size_t size, const char *name, st_archive **out,
                            char *err, size_t err_size);

/* Opens a model directory: model.safetensors if present, else
 * model.safetensors.index.json and every shard it names (shard names may not
 * contain '/' or ".."). */
vitvk_status st_open_dir(const char *dir, st_archive **out, char *err, size_t err_size);

void st_close(st_archive *a);                       /* NULL-safe */
size_t st_count(const st_archive *a);
const st_tensor *st_get(const st_archive *a, size_t i); /* in name order; NULL past the end */
const st_tensor *st_find(const st_archive *a, const char *name); /* NULL if absent */
const char *st_dtype_name(st_dtype t);              /* "F32", ... */
size_t st_dtype_size(st_dtype t);
int st_dtype_is_float(st_dtype t);                  /* F32/F16/BF16 (F64 too) */

/* Converts a floating tensor (F32, F16, BF16, F64) to numel floats. */
vitvk_status st_to_f32(const st_tensor *t, float *dst, char *err, size_t err_size);

/* Writing. Each tensor is given as host data in its dtype (F32, F16 or BF16
 * typically); the writer lays them out in the given order with an 8-byte
 * aligned header. */
typedef struct st_write_tensor {
    const char *name;
    st_dtype dtype;
    int rank;
    int64_t shape[ST_MAX_RANK];
    const void *data;
} st_write_tensor;

vitvk_status st_write_file(const char *path, const st_write_tensor *tensors, size_t n,
                           char *err, size_t err_size);

/* Streaming writer, for files larger than one wants in memory at once:
 * st_writer_open validates the tensor list (data fields are ignored) and
 * writes the header; the caller then passes each tensor's bytes, in list
 * order, through st_writer_write in chunks of any size; st_writer_finish
 * checks that exactly the declared bytes arrived and closes the file.
 * finish and abort free the writer; on any failure (and on abort) the
 * partial file is removed. A failed write leaves the writer only good for
 * st_writer_abort. */
typedef struct st_writer st_writer;
vitvk_status st_writer_open(const char *path, const st_write_tensor *tensors, size_t n,
                            st_writer **out, char *err, size_t err_size);
vitvk_status st_writer_write(st_writer *w, const void *data, size_t nbytes, char *err,
                             size_t err_size);
vitvk_status st_writer_finish(st_writer *w, char *err, size_t err_size);
void st_writer_abort(st_writer *w); /* NULL-safe */

/* Bytes a tensor of this dtype and shape occupies; 0 with *ok = 0 when the
 * shape is invalid (negative dimension, rank out of range) or the size
 * overflows. */
uint64_t st_write_tensor_bytes(const st_write_tensor *t, int *ok);
#endif
