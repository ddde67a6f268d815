/* resize.c - RGB8 resampling that reproduces, bit for bit, what
 * transformers' two backends give:
 *
 *   PIL (Image.resize, libImaging/Resample.c): separable convolution,
 *     horizontal pass first, a pass skipped when that side keeps its size.
 *     Per output pixel the filter is centred at (i + 0.5) * scale, its support
 *     widened by max(scale, 1) when shrinking, the weights normalised to sum
 *     1 in double, then rounded to fixed point with 22 fraction bits; the sum
 *     starts at one half and is shifted back and clamped to 0..255.
 *   torch (interpolate(antialias=True) on uint8, what torchvision's resize
 *     runs): the same weights in double, but rounded to int16 with as many
 *     fraction bits as the largest weight of that pass allows (at most 22).
 *     That coarser rounding is the only difference, and it moves about 0.3%
 *     of the pixels by one level.
 *
 * Nearest neighbour is not a convolution in either: PIL steps a double
 * accumulator by the scale from half a step in; transformers maps NEAREST to
 * torch's "nearest-exact", floor((i + 0.5) * scale) with a float scale.
 *
 * The arithmetic below keeps the reference implementations' operation order:
 * reordering the double expressions changes which weights round up. It must
 * not be compiled with floating-point contraction (FMA); ISO C mode in GCC
 * (-std=c11) already disables it. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "image.h"

#define PIL_PRECISION_BITS 22
#define IMG_PI 3.14159265358979323846

typedef double (*filter_fn)(double);

typedef struct filter {
    filter_fn fn;
    double support;
} filter;

static double filter_box(double x)
{
    return (x > -0.5 && x <= 0.5) ? 1.0 : 0.0;
}

static double filter_triangle(double x)
{
    if (x < 0.0)
        x = -x;
    return x < 1.0 ? 1.0 - x : 0.0;
}

static double filter_hamming(double x)
{
    if (x < 0.0)
        x = -x;
    if (x == 0.0)
        return 1.0;
    if (x >= 1.0)
        return 0.0;
    x = x * IMG_PI;
    /* PIL writes the window's constants as float literals; their float
     * rounding shows in the results. */
    return sin(x) / x * ((double)0.54f + (double)0.46f * cos(x));
}

/* Keys' cubic with a = -0.5, written as PIL writes it. */
static double filter_cubic(double x)
{
    const double a = -0.5;
    if (x < 0.0)
        x = -x;
    if (x < 1.0)
        return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
    if (x < 2.0)
        return (((x - 5) * x + 8) * x - 4) * a;
    return 0.0;
}

static double sinc(double x)
{
    if (x == 0.0)
        return 1.0;
    x = x * IMG_PI;
    return sin(x) / x;
}

static double filter_lanczos3(double x)
{
    if (-3.0 <= x && x < 3.0)
        return sinc(x) * sinc(x / 3);
    return 0.0;
}

static const filter filters[6] = {
    [IMG_NEAREST] = {NULL, 0.0},
    [IMG_LANCZOS] = {filter_lanczos3, 3.0},
    [IMG_BILINEAR] = {filter_triangle, 1.0},
    [IMG_BICUBIC] = {filter_cubic, 2.0},
    [IMG_BOX] = {filter_box, 0.5},
    [IMG_HAMMING] = {filter_hamming, 1.0},
};

typedef img_axis_table pass_weights;

void img_axis_table_free(img_axis_table *w)
{
    if (!w)
        return;
    free(w->first);
    free(w->count);
    free(w->k);
    memset(w, 0, sizeof *w);
}

static void weights_free(pass_weights *w)
{
    img_axis_table_free(w);
}

static vitvk_status table_alloc(uint32_t out_size, size_t stride, pass_weights *w)
{
    memset(w, 0, sizeof *w);
    w->first = malloc(sizeof *w->first * out_size);
    w->count = malloc(sizeof *w->count * out_size);
    w->k = calloc((size_t)out_size * stride, sizeof *w->k);
    if (!w->first || !w->count || !w->k) {
        weights_free(w);
        return VITVK_ERR_OUT_OF_HOST_MEMORY;
    }
    w->stride = stride;
    return VITVK_OK;
}

static int32_t round_weight(double w, int bits)
{
    double scaled = w * (double)(1 << bits);
    return (int32_t)(w < 0 ? -0.5 + scaled : 0.5 + scaled);
}

static vitvk_status weights_build(uint32_t in_size, uint32_t out_size, const filter *f, int torch_int16,
                                  pass_weights *w)
{
    memset(w, 0, sizeof *w);
    double scale = (double)in_size / out_size;
    double filterscale = scale < 1.0 ? 1.0 : scale;
    double support = f->support * filterscale;
    /* The references size their tables ceil(support) * 2 + 1; no output can
     * read more than in_size + 1 inputs, which bounds the table for huge
     * reductions. */
    double ksize_d = ceil(support) * 2 + 1;
    size_t stride = ksize_d > (double)in_size + 1 ? (size_t)in_size + 1 : (size_t)ksize_d;

    double *pre = calloc((size_t)out_size * stride, sizeof *pre);
    if (!pre || table_alloc(out_size, stride, w) != VITVK_OK) {
        free(pre);
        return VITVK_ERR_OUT_OF_HOST_MEMORY;
    }

    double wmax = 0.0;
    for (uint32_t i = 0; i < out_size; i++) {
        double center = (i + 0.5) * scale;
        double ss = 1.0 / filterscale;
        /* (int) truncates toward zero, as the references' casts do. */
        long lo = (long)(center - support + 0.5);
        if (lo < 0)
            lo = 0;
        long hi = (long)(center + support + 0.5);
        if (hi > (long)in_size)
            hi = (long)in_size;
        long n = hi - lo;
        if (n < 0)
            n = 0;
        if ((size_t)n > stride)
            n = (long)stride;
        double *k = pre + (size_t)i * stride;
        double total = 0.0;
        for (long x = 0; x < n; x++) {
            double v = f->fn(((double)(x + lo) - center + 0.5) * ss);
            k[x] = v;
            total += v;
        }
        for (long x = 0; x < n; x++) {
            if (total != 0.0)
                k[x] /= total;
            if (k[x] > wmax)
                wmax = k[x];
        }
        w->first[i] = (uint32_t)lo;
        w->count[i] = (uint32_t)n;
    }

    int bits = PIL_PRECISION_BITS;
    if (torch_int16) {
        /* Most fraction bits such that the largest weight still fits int16. */
        for (bits = 0; bits < 22; bits++)
            if ((int)(0.5 + wmax * (1 << (bits + 1))) >= (1 << 15))
                break;
        if (bits < 1)
            bits = 1;
    }
    w->bits = bits;
    for (size_t j = 0; j < (size_t)out_size * stride; j++)
        w->k[j] = round_weight(pre[j], bits);
    free(pre);
    return VITVK_OK;
}

static uint8_t clamp_fixed(int64_t sum, int bits)
{
    if (sum < 0)
        return 0;
    int64_t v = sum >> bits;
    return (uint8_t)(v > 255 ? 255 : v);
}

static void convolve_rows(const uint8_t *src, uint32_t src_w, uint32_t h, uint8_t *dst, uint32_t dst_w,
                          const pass_weights *w)
{
    int64_t half = (int64_t)1 << (w->bits - 1);
    for (uint32_t y = 0; y < h; y++) {
        const uint8_t *row = src + (size_t)y * src_w * 3;
        uint8_t *out = dst + (size_t)y * dst_w * 3;
        for (uint32_t x = 0; x < dst_w; x++) {
            const int32_t *k = w->k + (size_t)x * w->stride;
            const uint8_t *p = row + (size_t)w->first[x] * 3;
            int64_t r = half, g = half, b = half;
            for (uint32_t j = 0; j < w->count[x]; j++, p += 3) {
                r += (int64_t)p[0] * k[j];
                g += (int64_t)p[1] * k[j];
                b += (int64_t)p[2] * k[j];
            }
            out[3 * x] = clamp_fixed(r, w->bits);
            out[3 * x + 1] = clamp_fixed(g, w->bits);
            out[3 * x + 2] = clamp_fixed(b, w->bits);
        }
    }
}

/* Rows are accumulated whole, one source row at a time, so that the source
 * is read sequentially; `acc` holds one output row. */
static void convolve_columns(const uint8_t *src, uint32_t w_px, uint8_t *dst, uint32_t dst_h,
                             const pass_weights *w, int64_t *acc)
{
    size_t row_bytes = (size_t)w_px * 3;
    int64_t half = (int64_t)1 << (w->bits - 1);
    for (uint32_t y = 0; y < dst_h; y++) {
        const int32_t *k = w->k + (size_t)y * w->stride;
        for (size_t c = 0; c < row_bytes; c++)
            acc[c] = half;
        for (uint32_t j = 0; j < w->count[y]; j++) {
            const uint8_t *p = src + ((size_t)w->first[y] + j) * row_bytes;
            int64_t kj = k[j];
            for (size_t c = 0; c < row_bytes; c++)
                acc[c] += (int64_t)p[c] * kj;
        }
        uint8_t *out = dst + (size_t)y * row_bytes;
        for (size_t c = 0; c < row_bytes; c++)
            out[c] = clamp_fixed(acc[c], w->bits);
    }
}

/* Source index for each output index, or -1 where PIL leaves black. */
static void nearest_indices(uint32_t in_size, uint32_t out_size, int torch_exact, int64_t *idx)
{
    if (torch_exact) {
        float scale = (float)in_size / (float)out_size;
        for (uint32_t i = 0; i < out_size; i++) {
            /* The product is double; floorf then rounds it to float first. */
            int64_t s = (int64_t)floorf((float)((i + 0.5) * scale));
            idx[i] = s > (int64_t)in_size - 1 ? (int64_t)in_size - 1 : s;
        }
        return;
    }
    double step = (double)in_size / out_size;
    double pos = 0.0 + step * 0.5;
    for (uint32_t i = 0; i < out_size; i++) {
        int64_t s = pos < 0.0 ? -1 : (int64_t)pos;
        idx[i] = s < (int64_t)in_size ? s : -1;
        pos += step;
    }
}

static vitvk_status resize_nearest(const img_rgb8 *src, img_rgb8 *dst, int torch_exact)
{
    int64_t *xs = malloc(sizeof *xs * dst->width);
    int64_t *ys = malloc(sizeof *ys * dst->height);
    if (!xs || !ys) {
        free(xs);
        free(ys);
        return VITVK_ERR_OUT_OF_HOST_MEMORY;
    }
    nearest_indices(src->width, dst->width, torch_exact, xs);
    nearest_indices(src->height, dst->height, torch_exact, ys);
    for (uint32_t y = 0; y < dst->height; y++) {
        uint8_t *out = dst->pixels + (size_t)y * dst->width * 3;
        for (uint32_t x = 0; x < dst->width; x++) {
            if (ys[y] < 0 || xs[x] < 0)
                memset(out + 3 * x, 0, 3);
            else
                memcpy(out + 3 * x, src->pixels + ((size_t)ys[y] * src->width + (size_t)xs[x]) * 3, 3);
        }
    }
    free(xs);
    free(ys);
    return VITVK_OK;
}

static vitvk_status resize_convolve(const img_rgb8 *src, img_rgb8 *dst, const filter *f, int torch_int16)
{
    vitvk_status st = VITVK_OK;
    pass_weights wx = {0}, wy = {0};
    uint8_t *tmp = NULL;
    const uint8_t *cur = src->pixels;
    int need_x = dst->width != src->width, need_y = dst->height != src->height;

    if (need_x) {
        st = weights_build(src->width, dst->width, f, torch_int16, &wx);
        if (st == VITVK_OK) {
            uint8_t *target = need_y ? (tmp = malloc((size_t)dst->width * src->height * 3)) : dst->pixels;
            if (!target) {
                st = VITVK_ERR_OUT_OF_HOST_MEMORY;
            } else {
                convolve_rows(cur, src->width, src->height, target, dst->width, &wx);
                cur = target;
            }
        }
    }
    if (st == VITVK_OK && need_y) {
        st = weights_build(src->height, dst->height, f, torch_int16, &wy);
        int64_t *acc = st == VITVK_OK ? malloc(sizeof *acc * dst->width * 3) : NULL;
        if (st == VITVK_OK && !acc)
            st = VITVK_ERR_OUT_OF_HOST_MEMORY;
        if (st == VITVK_OK)
            convolve_columns(cur, dst->width, dst->pixels, dst->height, &wy, acc);
        free(acc);
    }
    weights_free(&wx);
    weights_free(&wy);
    free(tmp);
    return st;
}

/* How a backend resizes with PIL filter `resample` (backend already mapped
 * from TIMM to PIL). */
typedef struct resize_method {
    int nearest; /* not a convolution: index tables */
    int torch;   /* torch's arithmetic: int16 weights, or "nearest-exact" */
    int filter;  /* IMG_* whose kernel convolves */
} resize_method;

static resize_method method_for(int resample, int backend)
{
    resize_method m = {0};
    if (resample == IMG_NEAREST) {
        m.nearest = 1;
        m.torch = backend == PREPROC_BACKEND_TORCHVISION;
        return m;
    }
    m.torch = backend == PREPROC_BACKEND_TORCHVISION && resample != IMG_BOX && resample != IMG_HAMMING;
    /* transformers' torchvision backend warns and uses BICUBIC for LANCZOS. */
    m.filter = m.torch && resample == IMG_LANCZOS ? IMG_BICUBIC : resample;
    return m;
}

vitvk_status img_resize_axis(uint32_t in_size, uint32_t out_size, int resample, int backend, img_axis_table *t)
{
    memset(t, 0, sizeof *t);
    if (in_size == 0 || out_size == 0 || resample < IMG_NEAREST || resample > IMG_HAMMING)
        return VITVK_ERR_INVALID_ARGUMENT;
    if (backend == PREPROC_BACKEND_TIMM)
        backend = PREPROC_BACKEND_PIL;
    resize_method m = method_for(resample, backend);
    if (in_size != out_size && !m.nearest)
        return weights_build(in_size, out_size, &filters[m.filter], m.torch, t);
    /* A kept size is a copy and nearest picks one input: one tap of weight
     * one (1 fraction bit), or none where PIL leaves black. */
    vitvk_status st = table_alloc(out_size, 1, t);
    int64_t *idx = st == VITVK_OK ? malloc(sizeof *idx * out_size) : NULL;
    if (st == VITVK_OK && !idx)
        st = VITVK_ERR_OUT_OF_HOST_MEMORY;
    if (st != VITVK_OK) {
        img_axis_table_free(t);
        return st;
    }
    if (in_size == out_size)
        for (uint32_t i = 0; i < out_size; i++)
            idx[i] = i;
    else
        nearest_indices(in_size, out_size, m.torch, idx);
    t->bits = 1;
    for (uint32_t i = 0; i < out_size; i++) {
        t->first[i] = idx[i] < 0 ? 0 : (uint32_t)idx[i];
        t->count[i] = idx[i] < 0 ? 0 : 1;
        t->k[i] = 2;
    }
    free(idx);
    return VITVK_OK;
}

vitvk_status img_resize(const img_rgb8 *src, uint32_t out_w, uint32_t out_h, int resample,
                        int backend, img_rgb8 *dst, char *err, size_t err_size)
{
    if (!dst) {
        vk_errorf(err, err_size, "img_resize: dst is NULL");
        return VITVK_ERR_INVALID_ARGUMENT;
    }
    memset(dst, 0, sizeof *dst);
    if (!src || !src->pixels || src->width == 0 || src->height == 0) {
        vk_errorf(err, err_size, "img_resize: empty source image");
        return VITVK_ERR_INVALID_ARGUMENT;
    }
    if (resample < IMG_NEAREST || resample > IMG_HAMMING) {
        vk_errorf(err, err_size, "img_resize: unknown resample filter %d", resample);
        return VITVK_ERR_INVALID_ARGUMENT;
    }
    if (backend == PREPROC_BACKEND_TIMM) /* torchvision.transforms on PIL images: PIL's resize */
        backend = PREPROC_BACKEND_PIL;
    if (backend != PREPROC_BACKEND_TORCHVISION && backend != PREPROC_BACKEND_PIL) {
        vk_errorf(err, err_size, "img_resize: unknown backend %d", backend);
        return VITVK_ERR_INVALID_ARGUMENT;
    }
    if (out_w == 0 || out_h == 0 || (uint64_t)out_w * out_h > VITVK_MAX_IMAGE_PIXELS) {
        vk_errorf(err, err_size, "img_resize: output size %ux%u is empty or over %u pixels", out_w, out_h,
                   VITVK_MAX_IMAGE_PIXELS);
        return out_w == 0 || out_h == 0 ? VITVK_ERR_INVALID_ARGUMENT : VITVK_ERR_LIMIT;
    }
    dst->pixels = malloc((size_t)out_w * out_h * 3);
    if (!dst->pixels) {
        vk_errorf(err, err_size, "img_resize: out of memory for a %ux%u image", out_w, out_h);
        return VITVK_ERR_OUT_OF_HOST_MEMORY;
    }
    dst->width = out_w;
    dst->height = out_h;

    vitvk_status st;
    resize_method m = method_for(resample, backend);
    if (out_w == src->width && out_h == src->height) {
        memcpy(dst->pixels, src->pixels, (size_t)out_w * out_h * 3);
        st = VITVK_OK;
    } else if (m.nearest) {
        st = resize_nearest(src, dst, m.torch);
    } else {
        st = resize_convolve(src, dst, &filters[m.filter], m.torch);
    }
    if (st != VITVK_OK) {
        img_free(dst);
        vk_errorf(err, err_size, "img_resize: out of memory resizing %ux%u to %ux%u", src->width, src->height,
                   out_w, out_h);
    }
    return st;
}
