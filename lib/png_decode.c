/* png_decode.c - PNG -> RGB8 with libpng, giving the bytes PIL's
 * Image.open(path).convert("RGB") gives (see image.h for the rules).
 *
 * libpng reports errors by longjmp. Everything the error path must free lives
 * in a png_job owned by the caller of the function that calls setjmp, so no
 * local variable has to survive the jump (C11 7.13.2.1). */
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image.h"

typedef struct row_format {
    int color_type, bit_depth;
    uint8_t grey_scale;         /* multiplier taking 1/2/4-bit grey to 0..255 */
    uint8_t palette[256][3];
} row_format;

typedef struct png_job {
    const uint8_t *data;
    size_t size, pos;
    const char *name;
    size_t max_pixels;
    png_structp png;
    png_infop info;
    uint8_t *raw;        /* one decoded row, or the whole image when interlaced */
    png_bytep *rows;     /* row pointers into raw (interlaced only) */
    row_format *fmt;
    img_rgb8 img;        /* the result while it is being filled */
    vitvk_status status; /* set when the failure is ours, not libpng's */
    char libpng_msg[200];
    char *err;
    size_t err_size;
} png_job;

static void on_png_error(png_structp png, png_const_charp msg)
{
    png_job *job = png_get_error_ptr(png);
    snprintf(job->libpng_msg, sizeof job->libpng_msg, "%s", msg ? msg : "unknown error");
    png_longjmp(png, 1);
}

/* libpng's default prints to stderr; benign problems (bad ancillary CRCs,
 * unknown chunks) are ignored as PIL ignores them. */
static void on_png_warning(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg;
}

static void read_from_memory(png_structp png, png_bytep dst, size_t n)
{
    png_job *job = png_get_io_ptr(png);
    if (n > job->size - job->pos)
        png_error(png, "unexpected end of file");
    memcpy(dst, job->data + job->pos, n);
    job->pos += n;
}

/* One row of libpng samples (packed depths already unpacked to a byte each,
 * 16-bit samples big-endian) -> RGB8, PIL's way. */
static void convert_row(const row_format *f, const uint8_t *src, uint8_t *dst, uint32_t width)
{
    int wide = f->bit_depth == 16;
    switch (f->color_type) {
    case PNG_COLOR_TYPE_GRAY:
        for (uint32_t x = 0; x < width; x++) {
            uint8_t v;
            if (wide) {
                /* PIL opens 16-bit grey as 32-bit "I"; convert("RGB") clips. */
                unsigned s = (unsigned)src[2 * x] << 8 | src[2 * x + 1];
                v = s > 255 ? 255 : (uint8_t)s;
            } else {
                v = (uint8_t)(src[x] * f->grey_scale);
            }
            dst[3 * x] = dst[3 * x + 1] = dst[3 * x + 2] = v;
        }
        break;
    case PNG_COLOR_TYPE_GRAY_ALPHA:
        for (uint32_t x = 0; x < width; x++) {
            uint8_t v = src[(wide ? 4 : 2) * x];
            dst[3 * x] = dst[3 * x + 1] = dst[3 * x + 2] = v;
        }
        break;
    case PNG_COLOR_TYPE_RGB:
    case PNG_COLOR_TYPE_RGB_ALPHA: {
        int channels = f->color_type == PNG_COLOR_TYPE_RGB ? 3 : 4;
        size_t step = (size_t)channels * (wide ? 2 : 1);
        for (uint32_t x = 0; x < width; x++) {
            const uint8_t *p = src + x * step;
            for (int c = 0; c < 3; c++)
                dst[3 * x + c] = p[c * (wide ? 2 : 1)]; /* high byte when wide */
        }
        break;
    }
    case PNG_COLOR_TYPE_PALETTE:
        for (uint32_t x = 0; x < width; x++)
            memcpy(dst + 3 * x, f->palette[src[x]], 3);
        break;
    }
}

static void prepare_format(png_job *job, row_format *f)
{
    static const uint8_t grey_scale[17] = {0, 255, 85, 0, 17, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1};
    f->grey_scale = grey_scale[f->bit_depth];
    if (f->color_type != PNG_COLOR_TYPE_PALETTE)
        return;
    /* PIL's palettes start as a grey ramp and the PLTE overwrites the front. */
    for (int i = 0; i < 256; i++)
        f->palette[i][0] = f->palette[i][1] = f->palette[i][2] = (uint8_t)i;
    png_colorp plte = NULL;
    int n = 0;
    if (png_get_PLTE(job->png, job->info, &plte, &n) & PNG_INFO_PLTE) {
        for (int i = 0; i < n && i < 256; i++) {
            f->palette[i][0] = plte[i].red;
            f->palette[i][1] = plte[i].green;
            f->palette[i][2] = plte[i].blue;
        }
    }
}

/* Runs the decode; returns 0 on success. The only function with setjmp. */
static int png_run(png_job *job)
{
    if (setjmp(png_jmpbuf(job->png)))
        return -1;

    png_set_read_fn(job->png, job, read_from_memory);
    /* Our own pixel limit decides; libpng's default (1e6 per side) would turn
     * some over-limit images into format errors. */
    png_set_user_limits(job->png, 0x7fffffff, 0x7fffffff);
    /* PIL verifies the CRC of every chunk before the image data and refuses
     * a mismatch; libpng would only warn for ancillary chunks. */
    png_set_crc_action(job->png, PNG_CRC_DEFAULT, PNG_CRC_ERROR_QUIT);
    png_read_info(job->png, job->info);

    png_uint_32 width, height;
    int bit_depth, color_type, interlace;
    png_get_IHDR(job->png, job->info, &width, &height, &bit_depth, &color_type, &interlace, NULL, NULL);
    job->status = img_check_dimensions(job->name, width, height, job->max_pixels, job->err, job->err_size);
    if (job->status != VITVK_OK)
        return -1;

    row_format *fmt = job->fmt = malloc(sizeof *job->fmt);
    if (!fmt) {
        job->status = VITVK_ERR_OUT_OF_HOST_MEMORY;
        return -1;
    }
    fmt->color_type = color_type;
    fmt->bit_depth = bit_depth;
    prepare_format(job, fmt);
    /* Leave every conversion to convert_row: libpng's own 16-bit and tRNS
     * transforms do not match PIL. Only unpack sub-byte samples. */
    if (bit_depth < 8)
        png_set_packing(job->png);
    png_set_interlace_handling(job->png);
    png_read_update_info(job->png, job->info);

    size_t rowbytes = png_get_rowbytes(job->png, job->info);
    size_t pixels = (size_t)width * height;
    job->img.pixels = malloc(pixels * 3);
    if (interlace == PNG_INTERLACE_NONE) {
        job->raw = malloc(rowbytes);
    } else if (rowbytes <= SIZE_MAX / height) {
        /* Adam7 passes fill the image piecewise, so it must all be held. */
        job->raw = malloc(rowbytes * height);
        job->rows = malloc(sizeof *job->rows * height);
    }
    if (!job->img.pixels || !job->raw || (interlace != PNG_INTERLACE_NONE && !job->rows)) {
        job->status = VITVK_ERR_OUT_OF_HOST_MEMORY;
        return -1;
    }
    job->img.width = width;
    job->img.height = height;

    if (interlace == PNG_INTERLACE_NONE) {
        for (png_uint_32 y = 0; y < height; y++) {
            png_read_row(job->png, job->raw, NULL);
            convert_row(fmt, job->raw, job->img.pixels + (size_t)y * width * 3, width);
        }
    } else {
        for (png_uint_32 y = 0; y < height; y++)
            job->rows[y] = job->raw + (size_t)y * rowbytes;
        png_read_image(job->png, job->rows);
        for (png_uint_32 y = 0; y < height; y++)
            convert_row(fmt, job->rows[y], job->img.pixels + (size_t)y * width * 3, width);
    }
    return 0;
}

vitvk_status img_decode_png(const uint8_t *data, size_t size, const char *name, size_t max_pixels,
                            img_rgb8 *out, char *err, size_t err_size)
{
    memset(out, 0, sizeof *out);
    /* IHDR must be the first chunk; its size decides before libpng reads on
     * (png_read_info would otherwise parse every chunk up to the data). */
    if (size >= 24 && memcmp(data + 12, "IHDR", 4) == 0) {
        uint32_t w = (uint32_t)data[16] << 24 | (uint32_t)data[17] << 16 | (uint32_t)data[18] << 8 | data[19];
        uint32_t h = (uint32_t)data[20] << 24 | (uint32_t)data[21] << 16 | (uint32_t)data[22] << 8 | data[23];
        vitvk_status st = img_check_dimensions(name, w, h, max_pixels, err, err_size);
        if (st != VITVK_OK)
            return st;
    }
    png_job job = {0};
    job.data = data;
    job.size = size;
    job.name = name;
    job.max_pixels = max_pixels;
    job.err = err;
    job.err_size = err_size;
    job.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &job, on_png_error, on_png_warning);
    if (job.png)
        job.info = png_create_info_struct(job.png);
    if (!job.png || !job.info) {
        png_destroy_read_struct(job.png ? &job.png : NULL, NULL, NULL);
        vk_errorf(err, err_size, "%s: out of memory starting the PNG decoder", name);
        return VITVK_ERR_OUT_OF_HOST_MEMORY;
    }

    vitvk_status st = VITVK_OK;
    if (png_run(&job) != 0) {
        st = job.status != VITVK_OK ? job.status : VITVK_ERR_FORMAT;
        if (st == VITVK_ERR_OUT_OF_HOST_MEMORY)
            vk_errorf(err, err_size, "%s: out of memory decoding the PNG", name);
        else if (job.status == VITVK_OK)
            vk_errorf(err, err_size, "%s: corrupt or truncated PNG: %s", name, job.libpng_msg);
        /* otherwise img_check_dimensions already wrote the message */
    }
    png_destroy_read_struct(&job.png, &job.info, NULL);
    free(job.raw);
    free(job.rows);
    free(job.fmt);
    if (st == VITVK_OK)
        *out = job.img;
    else
        free(job.img.pixels);
    return st;
}
