/* test_skip.h - skipping exactly what a device cannot do, and counting it.
 *
 * A check may skip only for a feature the device lacks (16-bit storage for
 * fp16 plans, cooperative matrices), never for a limit another kernel
 * handles. Each skip prints one line saying why; the suite's main calls
 * test_skip_init() before running (Check forks a process per test, so the
 * count lives in shared memory) and test_skip_report() after, which prints
 * "NAME: N checks skipped" for the closing tally. */
#ifndef VITVK_TEST_SKIP_H
#define VITVK_TEST_SKIP_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/mman.h>

#include "vitvk.h"

static unsigned *test_skip_count;
static vitvk_device_info test_device; /* of the device a default context picks */

/* Maps the shared counter and reads the default device's capabilities. */
static inline void test_skip_init(void)
{
    void *m = mmap(NULL, sizeof(unsigned), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    test_skip_count = m == MAP_FAILED ? NULL : (unsigned *)m;
    vitvk_context *c;
    vitvk_context_desc cd = {0};
    char err[512];
    if (vitvk_context_create(&cd, &c, err, sizeof err) == VITVK_OK) {
        vitvk_context_device_info(c, &test_device);
        vitvk_context_destroy(c);
    }
}

static inline void test_skipped(void)
{
    if (test_skip_count)
        __atomic_add_fetch(test_skip_count, 1, __ATOMIC_SEQ_CST);
}

/* True (after printing why and counting it) when the check `what` needs
 * fp16 storage and the device has none. */
static inline bool test_skip_fp16(bool fp16, const char *what)
{
    if (!fp16 || test_device.storage16)
        return false;
    printf("%s: skipped: %s has no storageBuffer16BitAccess (fp16 plans need it)\n", what, test_device.name);
    test_skipped();
    return true;
}

static inline void test_skip_report(const char *suite)
{
    unsigned n = test_skip_count ? *test_skip_count : 0;
    printf("%s: %u check%s skipped%s\n", suite, n, n == 1 ? "" : "s",
           n ? " (each says why above)" : "");
}

#endif
