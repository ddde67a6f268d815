/* host_suite.h - runs a Check suite whose tests create host Vulkan
 * instances (tools/host_vk.c). Without fork (the sanitizer build) the
 * validation layer is kept loaded for the whole run (host_vk_pin_layer);
 * with fork that would break the children's driver. Returns the exit
 * status. */
#ifndef VITVK_HOST_SUITE_H
#define VITVK_HOST_SUITE_H
#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "host_vk.h"
#include "test_skip.h"

static inline int run_host_suite(Suite *s, const char *name)
{
    SRunner *sr = srunner_create(s);
    char err[512];
    if (srunner_fork_status(sr) == CK_NOFORK && host_vk_pin_layer(err, sizeof err)) {
        fprintf(stderr, "%s: %s\n", name, err);
        srunner_free(sr);
        return EXIT_FAILURE;
    }
    test_skip_init();
    srunner_run_all(sr, CK_NORMAL);
    test_skip_report(name);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
#endif
