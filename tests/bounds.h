/* bounds.h - the accuracy bounds of the reference tests.
 *
 * Every comparison of vitvk's output with a reference (transformers, timm)
 * has its own bound in tests/data/bounds.tsv, keyed by four words:
 *
 *   CASE PRECISION KERNELS OUTPUT      measured  bound
 *
 * KERNELS names the kernel family that ran (cpu, gpu, gpu+khr,
 * gpu+khr-acc16, ...; cli for the command-line tests, which run what the
 * device picks). `measured` is the largest max |diff| seen when the bound
 * was recorded on lavapipe; `bound` is 15 times that (tools/bounds.sh), so
 * a kernel or numerics change that loses accuracy shows, while the bounds
 * hold across the reduction orders of the families and subgroup widths.
 *
 * With VITVK_BOUNDS_RECORD=FILE set, every comparison appends
 * "KEY diff scale" to FILE and is not asserted: tools/bounds.sh re-measures
 * the file that way. VITVK_BOUNDS_LOG=FILE appends the same lines while
 * still asserting (tools/device_check.sh: a GPU's figures come back beside
 * its pass or fail). Header-only, for the tests alone. */
#ifndef VITVK_TESTS_BOUNDS_H
#define VITVK_TESTS_BOUNDS_H
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Whether this run records measurements instead of checking them. */
static inline bool bounds_recording(void)
{
    const char *r = getenv("VITVK_BOUNDS_RECORD");
    return r && *r;
}

/* Appends one measurement: KEY, max |diff| and the reference's largest
 * magnitude (the floor tools/bounds.sh uses where the diff is 0). */
static inline void bounds_record(const char *key, double diff, double scale)
{
    const char *paths[2] = {getenv("VITVK_BOUNDS_RECORD"), getenv("VITVK_BOUNDS_LOG")};
    for (int i = 0; i < 2; i++) {
        if (!paths[i] || !*paths[i])
            continue;
        FILE *f = fopen(paths[i], "a");
        if (!f) {
            fprintf(stderr, "bounds: cannot append to %s\n", paths[i]);
            continue;
        }
        fprintf(f, "%s %.9g %.9g\n", key, diff, scale);
        fclose(f);
    }
}

/* Finds KEY (four words separated by single spaces) in the bounds file at
 * `path`. Returns 1 with *bound and *measured set, 0 when the file has no
 * such line, -1 when the file cannot be read. */
static inline int bounds_find(const char *path, const char *key, double *bound, double *measured)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char line[1024];
    int found = 0;
    while (!found && fgets(line, sizeof line, f)) {
        char w[4][256], k[1100];
        double m, b;
        if (line[0] == '#' || sscanf(line, "%255s %255s %255s %255s %lf %lf", w[0], w[1], w[2], w[3], &m, &b) != 6)
            continue;
        snprintf(k, sizeof k, "%s %s %s %s", w[0], w[1], w[2], w[3]);
        if (strcmp(k, key) == 0) {
            *bound = b, *measured = m;
            found = 1;
        }
    }
    fclose(f);
    return found;
}

/* One comparison: records it (above), then finds KEY in the bounds file
 * of the test data ($VITVK_TEST_DATA/bounds.tsv, default tests/data),
 * whose path goes to `path`. Returns as bounds_find. */
static inline int bounds_lookup(const char *key, double diff, double scale, double *bound, double *measured,
                                char *path, size_t path_size)
{
    const char *d = getenv("VITVK_TEST_DATA");
    snprintf(path, path_size, "%s/bounds.tsv", d ? d : "tests/data");
    bounds_record(key, diff, scale);
    return bounds_find(path, key, bound, measured);
}

#endif
