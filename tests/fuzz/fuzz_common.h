/* fuzz_common.h - what every harness shares.
 *
 * Each harness defines LLVMFuzzerTestOneInput. Built with -DVITVK_FUZZ=ON
 * (clang) it links libFuzzer and becomes fuzz_<target>; in every build it
 * also links replay.c and becomes replay_<target>, which runs each file of
 * tests/fuzz/corpus/<target> once: the corpus is a regression test in the
 * normal and the sanitizer builds.
 *
 * Harnesses may abort: a broken invariant is a finding. The library may not. */
#ifndef VITVK_FUZZ_COMMON_H
#define VITVK_FUZZ_COMMON_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FUZZ_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define FUZZ_ASAN 1
#endif
#ifdef FUZZ_ASAN
#include <sanitizer/asan_interface.h>
#endif

#include "vitvk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ASSERT(cond)                                                                  \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, #cond);  \
            abort();                                                                       \
        }                                                                                  \
    } while (0)

/* The input copied so that it ends exactly at an inaccessible page.
 * cJSON, libpng and libjpeg come from the system, without ASan
 * instrumentation, so ASan cannot see them read past a buffer; the guard
 * page turns such a read into a crash. The bytes before the copy are
 * poisoned for ASan, which sees reads before the start in our code. One
 * mapping per process, grown as needed; valid until the next call. */
static inline const uint8_t *fuzz_guarded_copy(const uint8_t *data, size_t size)
{
    static uint8_t *base;
    static size_t usable; /* bytes before the guard page */
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    if (!base || size > usable) {
        if (base) {
#ifdef FUZZ_ASAN
            ASAN_UNPOISON_MEMORY_REGION(base, usable);
#endif
            munmap(base, usable + page);
        }
        usable = (size + page - 1) / page * page;
        if (usable == 0)
            usable = page;
        base = mmap(NULL, usable + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        FUZZ_ASSERT(base != MAP_FAILED);
        FUZZ_ASSERT(mprotect(base + usable, page, PROT_NONE) == 0);
    }
    uint8_t *copy = base + usable - size;
#ifdef FUZZ_ASAN
    ASAN_UNPOISON_MEMORY_REGION(base, usable);
    ASAN_POISON_MEMORY_REGION(base, usable - size);
#endif
    if (size)
        memcpy(copy, data, size);
    return copy;
}

/* Keeps a value alive, so that the loads that made it are not optimised
 * away (and ASan checks them). */
static volatile unsigned fuzz_sink;
static inline void fuzz_consume(unsigned v)
{
    fuzz_sink = fuzz_sink + v;
}

/* A failure must leave a message: one line, NUL-terminated in the buffer. */
static inline void fuzz_check_message(vitvk_status st, const char *err, size_t err_size)
{
    if (st == VITVK_OK)
        return;
    FUZZ_ASSERT(memchr(err, '\0', err_size) != NULL);
    FUZZ_ASSERT(err[0] != '\0');
    FUZZ_ASSERT(strchr(err, '\n') == NULL && strchr(err, '\r') == NULL);
    FUZZ_ASSERT(st >= VITVK_ERR_INVALID_ARGUMENT && st <= VITVK_ERR_DEVICE_LOST);
}
#endif
