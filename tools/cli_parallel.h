/* cli_parallel.h - decoding and preprocessing on worker threads.
 *
 * The CLI's folder commands (classify, embed, preprocess) decode and
 * preprocess each batch's images on `threads` threads, the calling one
 * included; results keep their input order because each image has its own
 * slot. The library calls they make are the thread-safe ones
 * (vitvk_model_preprocess_file_r, the decoders and preprocess_image). */
#ifndef VITVK_CLI_PARALLEL_H
#define VITVK_CLI_PARALLEL_H
#include <stddef.h>

/* The default for --threads: the online CPUs (at least 1, at most 64). */
unsigned cli_default_threads(void);

/* Calls fn(user, k) for every k in [0, count), spread over up to `threads`
 * threads (fewer where thread creation fails: never an error), and returns
 * when all are done. fn must be safe to call concurrently for different k. */
void cli_parallel_for(size_t count, unsigned threads, void (*fn)(void *user, size_t k), void *user);

#endif
