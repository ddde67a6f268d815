/* image.c - picks the decoder from the file's signature, reads files, and
 * owns the checks every decoder shares (sizes, messages). */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image.h"

/* Big enough for any PNG or JPEG of VITVK_MAX_IMAGE_PIXELS, small enough that
 * a mistaken path (a disk image, a video) fails fast instead of eating memory. */
#define IMG_MAX_FILE_BYTES ((size_t)1 << 30)

static const uint8_t png_signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
static const uint8_t jpeg_signature[3] = {0xff, 0xd8, 0xff};

vitvk_status img_check_dimensions(const char *name, uint64_t width, uint64_t height,
                                  size_t max_pixels, char *err, size_t err_size)
{
    if (width == 0 || height == 0) {
        vk_errorf(err, err_size, "%s: image has zero width or height (%llux%llu)", name,
                   (unsigned long long)width, (unsigned long long)height);
        return VITVK_ERR_FORMAT;
    }
    uint64_t limit = max_pixels ? (uint64_t)max_pixels : (uint64_t)VITVK_MAX_IMAGE_PIXELS;
    /* Both sides are below 2^32, so the product cannot wrap; the SIZE_MAX
     * bound keeps every decoder buffer (up to 8 bytes a pixel) addressable. */
    if (width > UINT32_MAX || height > UINT32_MAX || width * height > limit ||
        width * height > SIZE_MAX / 8) {
        vk_errorf(err, err_size, "%s: image is %llux%llu, over the limit of %llu pixels", name,
                   (unsigned long long)width, (unsigned long long)height, (unsigned long long)limit);
        return VITVK_ERR_LIMIT;
    }
    return VITVK_OK;
}

vitvk_status img_read_file(const char *path, size_t max_bytes, uint8_t **data, size_t *size,
                           char *err, size_t err_size)
{
    *data = NULL;
    *size = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        vk_errorf(err, err_size, "%s: cannot open: %s", path, strerror(e));
        return VITVK_ERR_IO;
    }
    /* Grow as we read rather than trusting a seek-reported size: works for
     * pipes and cannot be fooled by a file that changes while we read it. */
    size_t cap = 1 << 16, len = 0;
    uint8_t *buf = malloc(cap + 1);
    vitvk_status st = buf ? VITVK_OK : VITVK_ERR_OUT_OF_HOST_MEMORY;
    while (st == VITVK_OK) {
        if (len == cap) {
            if (cap >= max_bytes) {
                vk_errorf(err, err_size, "%s: file is larger than %zu bytes", path, max_bytes);
                st = VITVK_ERR_LIMIT;
                break;
            }
            size_t ncap = cap * 2 > max_bytes ? max_bytes : cap * 2;
            uint8_t *nbuf = realloc(buf, ncap + 1);
            if (!nbuf) {
                st = VITVK_ERR_OUT_OF_HOST_MEMORY;
                break;
            }
            buf = nbuf;
            cap = ncap;
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0) {
            if (ferror(f)) {
                vk_errorf(err, err_size, "%s: read error", path);
                st = VITVK_ERR_IO;
            }
            break;
        }
    }
    fclose(f);
    if (st == VITVK_ERR_OUT_OF_HOST_MEMORY)
        vk_errorf(err, err_size, "%s: out of memory reading the file", path);
    if (st != VITVK_OK) {
        free(buf);
        return st;
    }
    buf[len] = 0;
    *data = buf;
    *size = len;
    return VITVK_OK;
}

vitvk_status img_decode_memory(const uint8_t *data, size_t size, const char *name,
                               size_t max_pixels, img_rgb8 *out, char *err, size_t err_size)
{
    if (!out) {
        vk_errorf(err, err_size, "img_decode_memory: out is NULL");
        return VITVK_ERR_INVALID_ARGUMENT;
    }
    memset(out, 0, sizeof *out);
    if (!name)
        name = "<memory>";
    if (!data && size) {
        vk_errorf(err, err_size, "%s: no data", name);
        return VITVK_ERR_INVALID_ARGUMENT;
    }
    if (size == 0) {
        vk_errorf(err, err_size, "%s: empty file", name);
        return VITVK_ERR_FORMAT;
    }
    bool png = size >= sizeof png_signature && memcmp(data, png_signature, sizeof png_signature) == 0;
    bool jpeg = size >= sizeof jpeg_signature && memcmp(data, jpeg_signature, sizeof jpeg_signature) == 0;
#ifdef VITVK_IMAGE_IO
    if (png)
        return img_decode_png(data, size, name, max_pixels, out, err, err_size);
    if (jpeg)
        return img_decode_jpeg(data, size, name, max_pixels, out, err, err_size);
#else
    if (png || jpeg) {
        vk_errorf(err, err_size, "%s: this vitvk was built without image decoding (VITVK_IMAGE_IO=OFF): "
                  "decode the image yourself and pass pixels", name);
        return VITVK_ERR_UNSUPPORTED;
    }
#endif
    vk_errorf(err, err_size, "%s: not a PNG or JPEG file (unrecognised signature)", name);
    return VITVK_ERR_FORMAT;
}

vitvk_status img_decode_file(const char *path, size_t max_pixels, img_rgb8 *out,
                             char *err, size_t err_size)
{
    if (!out || !path) {
        vk_errorf(err, err_size, "img_decode_file: path and out are required");
        if (out)
            memset(out, 0, sizeof *out);
        return VITVK_ERR_INVALID_ARGUMENT;
    }
    memset(out, 0, sizeof *out);
    uint8_t *data;
    size_t size;
    vitvk_status st = img_read_file(path, IMG_MAX_FILE_BYTES, &data, &size, err, err_size);
    if (st != VITVK_OK)
        return st;
    st = img_decode_memory(data, size, path, max_pixels, out, err, err_size);
    free(data);
    return st;
}

void img_free(img_rgb8 *img)
{
    if (!img)
        return;
    free(img->pixels);
    memset(img, 0, sizeof *img);
}
