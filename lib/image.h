/* image.h - image decoding and Hugging Face-compatible preprocessing on the
 * host. Decoding gives 8-bit RGB the way PIL's Image.open(...).convert("RGB")
 * does; preprocessing reproduces transformers' image processors (resize,
 * center crop, rescale, normalise) so that pixel_values match transformers'.
 *
 * transformers 5 has two backends for the same processor class and they do
 * not give the same numbers:
 *   - "torchvision" (the default whenever torchvision is installed): resize
 *     with torch's antialiased uint8 kernels (PIL's filters, but 16-bit
 *     coefficients of varying precision), rescale and normalise fused into
 *     (x - mean/f) / (std/f) in float32;
 *   - "pil" (ViTImageProcessorPil, backend="pil", or no torchvision): resize
 *     with PIL (22-bit coefficients), rescale in float64 then float32, then
 *     (x - mean) / std in float32.
 * preproc_config.backend picks one; both are reproduced bit for bit.
 *
 * Errors are returned as vitvk_status with a one-line message written to err
 * (may be NULL); messages name the file where there is one. */
#ifndef VITVK_IMAGE_H
#define VITVK_IMAGE_H
#include <stddef.h>
#include <stdint.h>
#include "errmsg.h"
#include "vitvk.h"

typedef struct img_rgb8 {
    uint32_t width, height;
    uint8_t *pixels; /* height * width * 3 bytes, row-major RGB; free with img_free */
} img_rgb8;

/* Decodes PNG or JPEG (chosen by the file's magic bytes, not its name).
 * Images larger than max_pixels (0 = VITVK_MAX_IMAGE_PIXELS) are refused from
 * the header, before any pixel is decoded (VITVK_ERR_LIMIT). Malformed or
 * truncated files give VITVK_ERR_FORMAT.
 *
 * What "like PIL" means here:
 *   PNG  - alpha is dropped, not composited; 16-bit RGB(A) and grey+alpha keep
 *          the high byte; 16-bit grey is clipped to 0..255 (PIL's "I" mode);
 *          1/2/4-bit grey is scaled to 0..255; palette indices past the PLTE
 *          map to grey (i, i, i) as in PIL's default palette; gamma, colour
 *          profiles and tRNS are ignored; a bad CRC in a chunk before the
 *          image data is an error (PIL checks them; unlike PIL, so is a bad
 *          IDAT CRC); bytes after the image data (IEND, trailing chunks) are
 *          not read, so a file missing only those still decodes, as in PIL.
 *   JPEG - libjpeg's accurate integer IDCT and fancy upsampling (PIL's
 *          defaults); grey is replicated; CMYK/YCCK is taken as Adobe-inverted
 *          and converted with PIL's CMYK->RGB formula; 12-bit JPEGs and other
 *          component counts are refused; a file that ends before the last
 *          scanline is an error (PIL: "image file is truncated"); EXIF
 *          orientation is not applied (Image.open does not apply it). */
vitvk_status img_decode_file(const char *path, size_t max_pixels, img_rgb8 *out,
                             char *err, size_t err_size);
/* Same from memory; `name` is used in messages. */
vitvk_status img_decode_memory(const uint8_t *data, size_t size, const char *name,
                               size_t max_pixels, img_rgb8 *out, char *err, size_t err_size);
void img_free(img_rgb8 *img); /* NULL-safe, leaves a zeroed struct */

/* PIL resampling filters, numbered as PIL / transformers' `resample`. */
enum { IMG_NEAREST = 0, IMG_LANCZOS = 1, IMG_BILINEAR = 2, IMG_BICUBIC = 3, IMG_BOX = 4, IMG_HAMMING = 5 };

/* Which pipeline's arithmetic to reproduce: transformers' two backends (see
 * the top of this file), or timm's eval transform (torchvision.transforms on
 * PIL images: PIL's resize, CenterCrop with round() offsets, ToTensor's
 * float32 x / 255, then (x - mean) / std in float32). */
enum { PREPROC_BACKEND_TORCHVISION = 0, PREPROC_BACKEND_PIL = 1, PREPROC_BACKEND_TIMM = 2 };

typedef struct preproc_config {
    char processor_type[64];  /* "ViTImageProcessor", ... */
    int do_resize;
    uint32_t size_height, size_width; /* when size is {height, width} */
    uint32_t shortest_edge;           /* when size is {shortest_edge}; 0 otherwise */
    int resample;
    int do_center_crop;
    uint32_t crop_height, crop_width;
    int do_rescale;
    double rescale_factor;
    int do_normalize;
    float image_mean[3], image_std[3];
    int backend;              /* PREPROC_BACKEND_*; the JSON never says, so the
                                 default (torchvision) stays unless the caller
                                 or a "...Pil" processor type changes it */
    /* timm only (0 otherwise): ResizeKeepRatio's target. When non-zero the
     * resize keeps the aspect ratio: ratio = the smaller (keep_ratio_longest
     * 0) or larger (1) of in_h / h and in_w / w, new size round(in / ratio). */
    uint32_t keep_ratio_height, keep_ratio_width;
    int keep_ratio_longest;
    uint8_t pad_level[3];     /* level a crop larger than the image pads with
                                 (timm's border mode: round(255 * mean)) */
} preproc_config;

/* ViTImageProcessor's defaults: resize to 224x224 bilinear, rescale 1/255,
 * normalise with mean 0.5, std 0.5, no crop, torchvision backend. */
void preproc_config_defaults(preproc_config *cfg);

/* Parses preprocessor_config.json text; keys that are absent (or null) keep
 * the values already in *cfg (call preproc_config_defaults first). A key of
 * the wrong type or out of range is VITVK_ERR_FORMAT naming the key. `size`
 * and `crop_size` may be {height, width}, {shortest_edge} (size only) or a
 * bare integer (a square, as transformers reads old configs). */
vitvk_status preproc_config_parse(const char *json, size_t len, const char *name,
                                  preproc_config *cfg, char *err, size_t err_size);
vitvk_status preproc_config_load(const char *path, preproc_config *cfg, char *err, size_t err_size);

/* timm: a model's config.json (its "pretrained_cfg" object) or that object
 * alone, as timm's resolve_data_config + transforms_imagenet_eval read it:
 * input_size [C, H, W] (default 3x224x224), interpolation (bicubic; nearest,
 * bilinear, bicubic, lanczos, box, hamming), crop_pct (0.875), crop_mode
 * (center; squash, border), mean and std (ImageNet's). cfg is overwritten
 * completely (backend PREPROC_BACKEND_TIMM). Unknown modes, crop_border_pixels
 * and a channel count other than 3 are VITVK_ERR_UNSUPPORTED; bad values
 * VITVK_ERR_FORMAT naming the key. */
vitvk_status preproc_config_parse_timm(const char *json, size_t len, const char *name, preproc_config *cfg,
                                       char *err, size_t err_size);
/* The same from an already parsed pretrained_cfg object (a const cJSON *,
 * passed as void * so that this header does not need cJSON's). */
vitvk_status preproc_config_from_timm_json(const void *pretrained_cfg, const char *name, preproc_config *cfg,
                                           char *err, size_t err_size);

/* Reads a file that says how to preprocess: a preprocessor_config.json, or a
 * timm config.json (an object with "pretrained_cfg"), told apart by content.
 * For preprocessor_config.json the keys it lacks keep the values in *cfg. */
vitvk_status preproc_config_load_any(const char *path, preproc_config *cfg, char *err, size_t err_size);

/* What a model directory's preprocessing is, without loading its weights:
 * a timm config.json's pretrained_cfg; else transformers' defaults sized to
 * config.json's image_size, then preprocessor_config.json when present (as
 * vitvk_model_load does). */
vitvk_status preproc_config_for_model_dir(const char *dir, preproc_config *cfg, char *err, size_t err_size);

/* Size of the tensor preprocess_image produces. */
void preproc_output_size(const preproc_config *cfg, uint32_t in_w, uint32_t in_h,
                         uint32_t *out_w, uint32_t *out_h);

/* RGB8 image -> 3 x out_h x out_w floats (CHW), as transformers does. */
vitvk_status preprocess_image(const img_rgb8 *img, const preproc_config *cfg, float *out,
                              char *err, size_t err_size);

/* Resizes src to out_w x out_h as the backend's resize does with filter
 * `resample` (IMG_*). Torchvision has no BOX or HAMMING (transformers raises)
 * and replaces LANCZOS by BICUBIC; for BOX and HAMMING this falls back to
 * PIL's result. dst receives a new image (free with img_free). An unchanged
 * size gives an exact copy, as both backends do. */
vitvk_status img_resize(const img_rgb8 *src, uint32_t out_w, uint32_t out_h, int resample,
                        int backend, img_rgb8 *dst, char *err, size_t err_size);

/* One axis of a resize as fixed-point taps, for resizing elsewhere (the GPU)
 * with the same integers: output i = clamp((2^(bits-1) + sum_j in[first[i] +
 * j] * k[i * stride + j]) >> bits, 0, 255) over j < count[i]. Horizontal
 * pass first, then vertical, each rounded to 8 bits, reproduces img_resize
 * bit for bit (a kept size and nearest are one-tap tables). Every sum fits
 * int32 (PIL's own accumulator type). */
typedef struct img_axis_table {
    uint32_t *first, *count;
    int32_t *k;
    size_t stride;
    int bits;
} img_axis_table;
vitvk_status img_resize_axis(uint32_t in_size, uint32_t out_size, int resample, int backend,
                             img_axis_table *out);
void img_axis_table_free(img_axis_table *t); /* NULL-safe */

/* Where preprocess_image reads from: the resized size, the output size and
 * the resized pixel that output (0, 0) reads (negative or past the end where
 * a crop pads). */
typedef struct preproc_geometry {
    uint32_t resized_w, resized_h, out_w, out_h;
    int64_t x0, y0;
} preproc_geometry;
void preproc_geometry_for(const preproc_config *cfg, uint32_t in_w, uint32_t in_h, preproc_geometry *g);
/* Each backend's float value of every uint8 level per channel, as
 * preprocess_image computes them. */
void preproc_build_lut(const preproc_config *cfg, float lut[3][256]);

/* ---- shared by the image sources, not for other callers ---- */
/* Refuses zero sizes (FORMAT) and more than max_pixels (0 = default; LIMIT). */
vitvk_status img_check_dimensions(const char *name, uint64_t width, uint64_t height,
                                  size_t max_pixels, char *err, size_t err_size);
/* Reads a whole file (at most max_bytes) into a new buffer, NUL-terminated. */
vitvk_status img_read_file(const char *path, size_t max_bytes, uint8_t **data, size_t *size,
                           char *err, size_t err_size);
vitvk_status img_decode_png(const uint8_t *data, size_t size, const char *name, size_t max_pixels,
                            img_rgb8 *out, char *err, size_t err_size);
vitvk_status img_decode_jpeg(const uint8_t *data, size_t size, const char *name, size_t max_pixels,
                             img_rgb8 *out, char *err, size_t err_size);
#endif
