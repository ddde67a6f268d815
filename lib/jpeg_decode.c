/* jpeg_decode.c - JPEG -> RGB8 with libjpeg(-turbo), set up the way PIL's
 * JPEG decoder sets it up, so that the pixels are PIL's (see image.h).
 *
 * libjpeg reports errors by longjmp. Everything the error path must free
 * lives in a jpeg_job owned by the caller of the function that calls setjmp,
 * so no local variable has to survive the jump (C11 7.13.2.1). */
#include <limits.h>
#include <setjmp.h>
#include <stdio.h> /* jpeglib.h needs FILE */
#include <stdlib.h>
#include <string.h>

#include <jerror.h>
#include <jpeglib.h>

#include "image.h"

/* libjpeg-turbo's advice against progressive-scan bombs (TJFLAG_LIMITSCANS
 * uses 500); real encoders write about a dozen scans. */
#define JPEG_MAX_SCANS 1000

typedef struct jpeg_job {
    struct jpeg_decompress_struct cinfo;
    struct jpeg_error_mgr jerr;
    struct jpeg_progress_mgr progress;
    jmp_buf jump;
    const char *name;
    size_t max_pixels;
    uint8_t *row;        /* one scanline as libjpeg writes it */
    img_rgb8 img;        /* the result while it is being filled */
    vitvk_status status; /* set when the failure is ours, not libjpeg's */
    char libjpeg_msg[JMSG_LENGTH_MAX];
    char *err;
    size_t err_size;
} jpeg_job;

static void on_jpeg_error(j_common_ptr cinfo)
{
    jpeg_job *job = cinfo->client_data;
    (*cinfo->err->format_message)(cinfo, job->libjpeg_msg);
    longjmp(job->jump, 1);
}

/* Warnings (corrupt-but-decodable data) are ignored as PIL ignores them, with
 * one exception: running out of data, which PIL reports as a truncated file
 * and libjpeg would paper over with grey. Nothing is ever printed. */
static void on_jpeg_message(j_common_ptr cinfo, int level)
{
    if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF) {
        jpeg_job *job = cinfo->client_data;
        snprintf(job->libjpeg_msg, sizeof job->libjpeg_msg, "file is truncated");
        longjmp(job->jump, 1);
    }
}

static void on_jpeg_output(j_common_ptr cinfo)
{
    (void)cinfo;
}

static void on_jpeg_progress(j_common_ptr cinfo)
{
    j_decompress_ptr d = (j_decompress_ptr)cinfo;
    if (cinfo->is_decompressor && d->input_scan_number > JPEG_MAX_SCANS) {
        jpeg_job *job = cinfo->client_data;
        snprintf(job->libjpeg_msg, sizeof job->libjpeg_msg, "more than %d scans", JPEG_MAX_SCANS);
        longjmp(job->jump, 1);
    }
}

/* PIL reads CMYK JPEGs as Adobe-inverted ("CMYK;I"), then converts with
 * r = (255-k') - (c' * (255-k')) / 255, rounded as its MULDIV255 rounds,
 * where c' = 255 - stored value. */
static uint8_t cmyk_channel(uint8_t stored_c, uint8_t stored_k)
{
    int c = 255 - stored_c, nk = stored_k;
    int t = c * nk + 128;
    int v = nk - (((t >> 8) + t) >> 8);
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

static void convert_row(const uint8_t *src, uint8_t *dst, uint32_t width, int components)
{
    switch (components) {
    case 1:
        for (uint32_t x = 0; x < width; x++)
            dst[3 * x] = dst[3 * x + 1] = dst[3 * x + 2] = src[x];
        break;
    case 3:
        memcpy(dst, src, (size_t)width * 3);
        break;
    case 4:
        for (uint32_t x = 0; x < width; x++)
            for (int c = 0; c < 3; c++)
                dst[3 * x + c] = cmyk_channel(src[4 * x + c], src[4 * x + 3]);
        break;
    }
}

/* Runs the decode; returns 0 on success. The only function with setjmp. */
static int jpeg_run(jpeg_job *job, const uint8_t *data, size_t size)
{
    if (setjmp(job->jump))
        return -1;
    struct jpeg_decompress_struct *ci = &job->cinfo;
    jpeg_create_decompress(ci);
    ci->progress = &job->progress;
    jpeg_mem_src(ci, data, (unsigned long)size);
    jpeg_read_header(ci, TRUE);

    int components = ci->num_components;
    if (components != 1 && components != 3 && components != 4) {
        vk_errorf(job->err, job->err_size, "%s: cannot handle a %d-component JPEG", job->name, components);
        job->status = VITVK_ERR_UNSUPPORTED;
        return -1;
    }
    job->status = img_check_dimensions(job->name, ci->image_width, ci->image_height, job->max_pixels,
                                       job->err, job->err_size);
    if (job->status != VITVK_OK)
        return -1;

    /* PIL: 1 layer -> "L", 3 -> "RGB", 4 -> "CMYK"; libjpeg works out the
     * stored colour space (JFIF/Adobe markers) and converts from it. */
    ci->out_color_space = components == 1 ? JCS_GRAYSCALE : components == 3 ? JCS_RGB : JCS_CMYK;
    ci->dct_method = JDCT_ISLOW;
    ci->do_fancy_upsampling = TRUE;
    ci->scale_num = ci->scale_denom = 1;
    jpeg_start_decompress(ci);
    if (ci->output_width != ci->image_width || ci->output_height != ci->image_height ||
        ci->output_components != components) {
        snprintf(job->libjpeg_msg, sizeof job->libjpeg_msg, "unexpected output layout");
        return -1;
    }

    uint32_t width = ci->output_width, height = ci->output_height;
    job->row = malloc((size_t)width * (size_t)components);
    job->img.pixels = malloc((size_t)width * height * 3);
    if (!job->row || !job->img.pixels) {
        job->status = VITVK_ERR_OUT_OF_HOST_MEMORY;
        return -1;
    }
    job->img.width = width;
    job->img.height = height;
    while (ci->output_scanline < height) {
        uint32_t y = ci->output_scanline;
        JSAMPROW rows[1] = {job->row};
        if (jpeg_read_scanlines(ci, rows, 1) != 1) {
            snprintf(job->libjpeg_msg, sizeof job->libjpeg_msg, "decoder returned no scanline");
            return -1;
        }
        convert_row(job->row, job->img.pixels + (size_t)y * width * 3, width, components);
    }
    /* No jpeg_finish_decompress: it would read on to EOI, and PIL accepts a
     * file whose trailer is missing once every scanline is decoded. */
    return 0;
}

vitvk_status img_decode_jpeg(const uint8_t *data, size_t size, const char *name, size_t max_pixels,
                             img_rgb8 *out, char *err, size_t err_size)
{
    memset(out, 0, sizeof *out);
    if (size > ULONG_MAX) {
        vk_errorf(err, err_size, "%s: file too large for libjpeg", name);
        return VITVK_ERR_LIMIT;
    }
    jpeg_job *job = calloc(1, sizeof *job);
    if (!job) {
        vk_errorf(err, err_size, "%s: out of memory starting the JPEG decoder", name);
        return VITVK_ERR_OUT_OF_HOST_MEMORY;
    }
    job->name = name;
    job->max_pixels = max_pixels;
    job->err = err;
    job->err_size = err_size;
    job->cinfo.err = jpeg_std_error(&job->jerr);
    job->jerr.error_exit = on_jpeg_error;
    job->jerr.emit_message = on_jpeg_message;
    job->jerr.output_message = on_jpeg_output;
    job->progress.progress_monitor = on_jpeg_progress;
    job->cinfo.client_data = job;

    vitvk_status st = VITVK_OK;
    if (jpeg_run(job, data, size) != 0) {
        st = job->status != VITVK_OK ? job->status : VITVK_ERR_FORMAT;
        if (st == VITVK_ERR_OUT_OF_HOST_MEMORY)
            vk_errorf(err, err_size, "%s: out of memory decoding the JPEG", name);
        else if (job->status == VITVK_OK)
            vk_errorf(err, err_size, "%s: corrupt or truncated JPEG: %s", name, job->libjpeg_msg);
        /* otherwise the message is already written */
    }
    /* Safe on a half-created decompressor: it checks for its memory pool. */
    jpeg_destroy_decompress(&job->cinfo);
    free(job->row);
    if (st == VITVK_OK)
        *out = job->img;
    else
        free(job->img.pixels);
    free(job);
    return st;
}
