/* test_validation.h - whether the tests load VK_LAYER_KHRONOS_validation.
 *
 * Always, unless VITVK_TEST_VALIDATION=0: a lent GPU machine has no layer
 * (none can be installed there), and the layer Debian 12 ships predates
 * the KHR cooperative-matrix SPIR-V, so tools/device_check.sh runs the
 * fixture tests there without it and says so. Everywhere else (CI, the
 * trixie root) the layer is loaded and any message fails the test. */
#ifndef VITVK_TEST_VALIDATION_H
#define VITVK_TEST_VALIDATION_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int test_validation(void)
{
    const char *v = getenv("VITVK_TEST_VALIDATION");
    if (v && strcmp(v, "0") == 0) {
        static int said;
        if (!said++)
            fprintf(stderr, "note: VITVK_TEST_VALIDATION=0: running without the validation layer\n");
        return 0;
    }
    return 1;
}

#endif
