/* compare_tensors.c - max |a - b| of a tensor present in two safetensors
 * files, checked against a bound.
 *
 *   compare_tensors GOT.safetensors REF.safetensors NAME BOUND
 *
 * Exits 0 when the shapes agree and max |diff| <= BOUND, else 1. NAME may
 * be GOT_NAME=REF_NAME when the files name the tensor differently. BOUND
 * "@CASE PRECISION KERNELS OUTPUT" is that line of the bounds file
 * ($VITVK_TEST_DATA/bounds.tsv, tests/bounds.h), and with
 * VITVK_BOUNDS_RECORD set the difference is recorded instead of checked.
 *
 *   compare_tensors --unit-rows FILE NAME
 *
 * checks that every row of a [N, D] tensor has length 1 (within 1e-5).
 *
 * Step mode, for preprocessing (tests/preprocess_parity.sh):
 *
 *   compare_tensors --steps GOT.safetensors NAME INDEX LEVELS.png LUT.f32 [HASH]
 *
 * compares image INDEX of GOT's NAME ([N, 3, H, W] F32) with a reference
 * stored as 8-bit levels (LEVELS.png, H x W RGB) and the level -> value table
 * of its config (LUT.f32: 3 x 256 little-endian float32): the reference value
 * of channel c at a pixel of level L is LUT[c][L]. Differences are counted
 * in input steps, one level's worth (LUT[c][255] - LUT[c][0]) / 255, that
 * is rescale_factor / std[c]. Prints the largest difference, the share within
 * one step and, when HASH (64-bit FNV-1a of the exact float32 image, hex) is
 * given, whether GOT is bit-exact. Exits 0 when >= 99% of the values are
 * within one step and all within two, else 1. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bounds.h"
#include "image.h"
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

static uint64_t fnv1a64(const uint8_t *p, size_t n)
{
    uint64_t h = 0xCBF29CE484222325ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001B3ull;
    return h;
}

static int step_mode(int argc, char **argv)
{
    if (argc != 7 && argc != 8) {
        fprintf(stderr, "usage: compare_tensors --steps GOT NAME INDEX LEVELS.png LUT.f32 [HASH]\n");
        return 2;
    }
    const char *got_path = argv[2], *name = argv[3], *levels_path = argv[5], *lut_path = argv[6];
    long index = atol(argv[4]);
    st_archive *ga = NULL;
    const st_tensor *gt = NULL;
    float *g = load(got_path, name, &ga, &gt);
    img_rgb8 ref = {0};
    char err[1024];
    float lut[3][256];
    int rc = 1;
    FILE *f = fopen(lut_path, "rb");
    size_t nl = f ? fread(lut, sizeof lut, 1, f) : 0;
    if (f)
        fclose(f);
    if (!g) {
        /* reported by load */
    } else if (nl != 1) {
        fprintf(stderr, "compare_tensors: %s: cannot read 3 x 256 float32\n", lut_path);
    } else if (img_decode_file(levels_path, 0, &ref, err, sizeof err) != VITVK_OK) {
        fprintf(stderr, "compare_tensors: %s\n", err);
    } else if (gt->rank != 4 || gt->shape[1] != 3 || index < 0 || index >= gt->shape[0] ||
               gt->shape[2] != (int64_t)ref.height || gt->shape[3] != (int64_t)ref.width) {
        fprintf(stderr, "compare_tensors: %s: %s is not [N > %ld, 3, %u, %u]\n", got_path, name, index, ref.height,
                ref.width);
    } else {
        size_t plane = (size_t)ref.width * ref.height;
        const float *img = g + (size_t)index * 3 * plane;
        double worst = 0;
        size_t within1 = 0, exact = 0;
        for (int c = 0; c < 3; c++) {
            double step = ((double)lut[c][255] - lut[c][0]) / 255.0;
            for (size_t i = 0; i < plane; i++) {
                float want = lut[c][ref.pixels[i * 3 + c]], have = img[c * plane + i];
                double d = fabs((double)have - want) / fabs(step);
                if (!(d <= worst))
                    worst = isnan(d) ? INFINITY : d;
                within1 += d <= 1.0 + 1e-4;
                exact += have == want;
            }
        }
        double share = (double)within1 / (3.0 * plane);
        printf("max diff %.3f steps, %.3f%% within one step, %.3f%% equal to the reference", worst, 100.0 * share,
               100.0 * exact / (3.0 * plane));
        if (argc == 8) {
            char hex[17];
            snprintf(hex, sizeof hex, "%016" PRIx64, fnv1a64((const uint8_t *)img, 3 * plane * sizeof(float)));
            printf(", %s", strcmp(hex, argv[7]) == 0 ? "bit-exact" : "NOT bit-exact");
        }
        printf("\n");
        rc = share >= 0.99 && worst <= 2.0 + 1e-4 ? 0 : 1;
    }
    img_free(&ref);
    free(g);
    st_close(ga);
    return rc;
}

/* compare_tensors --unit-rows FILE NAME: every row of a [N, D] tensor has
 * length 1 (within 1e-5). */
static int unit_rows_mode(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: compare_tensors --unit-rows FILE NAME\n");
        return 2;
    }
    st_archive *a = NULL;
    const st_tensor *t = NULL;
    float *v = load(argv[2], argv[3], &a, &t);
    int rc = 1;
    if (v && t->rank == 2) {
        double lo = INFINITY, hi = 0;
        for (int64_t i = 0; i < t->shape[0]; i++) {
            double ss = 0;
            for (int64_t j = 0; j < t->shape[1]; j++)
                ss += (double)v[i * t->shape[1] + j] * v[i * t->shape[1] + j];
            double n = sqrt(ss);
            lo = n < lo ? n : lo;
            hi = n > hi ? n : hi;
        }
        printf("%s: %lld rows, lengths %.7f .. %.7f\n", argv[3], (long long)t->shape[0], lo, hi);
        rc = fabs(lo - 1) <= 1e-5 && fabs(hi - 1) <= 1e-5 ? 0 : 1;
    } else if (v) {
        fprintf(stderr, "compare_tensors: %s is not [N, D]\n", argv[3]);
    }
    free(v);
    st_close(a);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--steps") == 0)
        return step_mode(argc, argv);
    if (argc > 1 && strcmp(argv[1], "--unit-rows") == 0)
        return unit_rows_mode(argc, argv);
    if (argc != 5) {
        fprintf(stderr, "usage: compare_tensors GOT REF NAME[=REF_NAME] BOUND\n");
        return 2;
    }
    st_archive *ga = NULL, *ra = NULL;
    const st_tensor *gt, *rt;
    /* NAME, or GOT_NAME=REF_NAME when the two files call it differently */
    char gname[256], *rname = NULL;
    snprintf(gname, sizeof gname, "%s", argv[3]);
    if ((rname = strchr(gname, '=')) != NULL)
        *rname++ = 0;
    else
        rname = gname;
    float *g = load(argv[1], gname, &ga, &gt), *r = load(argv[2], rname, &ra, &rt);
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
            double bound = 0, measured = 0, scale = 0;
            if (argv[4][0] == '@') {
                for (int64_t i = 0; i < rt->numel; i++)
                    scale = fabs(r[i]) > scale ? fabs(r[i]) : scale;
                char path[1100];
                int found = bounds_lookup(argv[4] + 1, m, scale, &bound, &measured, path, sizeof path);
                printf("%s: max|diff| %.3g (bound %g, %g when measured)\n", argv[3], m, bound, measured);
                if (found <= 0 && !bounds_recording())
                    fprintf(stderr, "compare_tensors: %s: no bound for \"%s\"\n", path, argv[4] + 1);
                rc = bounds_recording() || (found > 0 && m <= bound) ? 0 : 1;
            } else {
                bound = atof(argv[4]);
                printf("%s: max|diff| %.3g (bound %g)\n", argv[3], m, bound);
                rc = m <= bound ? 0 : 1;
            }
        }
    }
    free(g);
    free(r);
    st_close(ga);
    st_close(ra);
    return rc;
}
