/* compare_tensors.c - max |a - b| of a tensor present in two safetensors
 * files, checked against a bound.
 *
 *   compare_tensors GOT.safetensors REF.safetensors NAME BOUND
 *
 * Exits 0 when the shapes agree and max |diff| <= BOUND, else 1. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "safetensors.h"

static float *load(const char *path, const char *name, st_archive **a, const st_tensor **t)
{
    char err[1024];
    if (st_open_file(path, a, err, sizeof err) != VITVK_OK) {
        fprintf(stderr, "compare_tensors: %s\n", err);
        return NULL;
    }
    *t = st_find(*a, name);
    if (!*t) {
        fprintf(stderr, "compare_tensors: %s has no tensor %s\n", path, name);
        return NULL;
    }
    float *v = malloc((size_t)(*t)->numel * sizeof *v + 1);
    if (!v || st_to_f32(*t, v, err, sizeof err) != VITVK_OK) {
        fprintf(stderr, "compare_tensors: %s\n", err);
        free(v);
        return NULL;
    }
    return v;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: compare_tensors GOT REF NAME BOUND\n");
        return 2;
    }
    st_archive *ga = NULL, *ra = NULL;
    const st_tensor *gt, *rt;
    float *g = load(argv[1], argv[3], &ga, &gt), *r = load(argv[2], argv[3], &ra, &rt);
    int rc = 1;
    if (g && r) {
        int same = gt->rank == rt->rank;
        for (int i = 0; same && i < gt->rank; i++)
            same = gt->shape[i] == rt->shape[i];
        if (!same) {
            fprintf(stderr, "compare_tensors: %s: shapes differ\n", argv[3]);
        } else {
            double m = 0;
            for (int64_t i = 0; i < gt->numel; i++) {
                double d = fabs((double)g[i] - r[i]);
                if (!(d <= m))
                    m = isnan(d) ? INFINITY : d;
            }
            double bound = atof(argv[4]);
            printf("%s: max|diff| %.3g (bound %g)\n", argv[3], m, bound);
            rc = m <= bound ? 0 : 1;
        }
    }
    free(g);
    free(r);
    st_close(ga);
    st_close(ra);
    return rc;
}
