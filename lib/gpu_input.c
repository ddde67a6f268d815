/* gpu_input.c - vitvk_input: the CPU path's preprocessing (preprocess.c,
 * resize.c) moved to the GPU with the same integers. The host computes
 * what depends only on sizes and the config (the fixed-point resize taps
 * of both axes, the crop origin, the byte -> float table) once, here; the
 * shaders apply them: prep_fetch (images only) -> prep_rows -> prep_columns. */
#include <stdlib.h>
#include <string.h>

#include "gpu_input.h"

/* VkFormat / VkImageLayout values accepted (see vitvk_input_desc). */
static int format_srgb(uint32_t f)
{
    return f == VK_FORMAT_R8G8B8A8_SRGB || f == VK_FORMAT_B8G8R8A8_SRGB;
}

static int format_ok(uint32_t f)
{
    return f == VK_FORMAT_R8G8B8A8_UNORM || f == VK_FORMAT_B8G8R8A8_UNORM || format_srgb(f);
}

static VkFormat unorm_of(uint32_t f)
{
    if (f == VK_FORMAT_R8G8B8A8_SRGB)
        return VK_FORMAT_R8G8B8A8_UNORM;
    if (f == VK_FORMAT_B8G8R8A8_SRGB)
        return VK_FORMAT_B8G8R8A8_UNORM;
    return (VkFormat)f;
}

/* Non-dispatchable handles are 64-bit on every platform (a pointer or a
 * uint64_t): copy the bits. */
_Static_assert(sizeof(VkBuffer) == sizeof(uint64_t) && sizeof(VkImage) == sizeof(uint64_t),
               "non-dispatchable Vulkan handles are 64-bit");

static vitvk_status check_desc(vitvk_context *ctx, const vitvk_input_desc *d)
{
    const char *fn = "vitvk_input_create";
    if (d->width == 0 || d->height == 0 || (uint64_t)d->width * d->height > VITVK_MAX_IMAGE_PIXELS)
        return vk_fail(ctx, VITVK_ERR_INVALID_ARGUMENT, "%s: %ux%u is empty or over %u pixels", fn, d->width,
                       d->height, VITVK_MAX_IMAGE_PIXELS);
    if (d->kind == VITVK_INPUT_IMAGE) {
        if (!d->vk_image)
            return vk_fail(ctx, VITVK_ERR_INVALID_ARGUMENT, "%s: vk_image is null", fn);
        if (!format_ok(d->vk_format))
            return vk_fail(ctx, VITVK_ERR_INVALID_ARGUMENT,
                           "%s: VkFormat %u is not R8G8B8A8 or B8G8R8A8 UNORM/SRGB", fn, d->vk_format);
        if (d->vk_layout != VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL && d->vk_layout != VK_IMAGE_LAYOUT_GENERAL)
            return vk_fail(ctx, VITVK_ERR_INVALID_ARGUMENT,
                           "%s: VkImageLayout %u: the image must be sampled in SHADER_READ_ONLY_OPTIMAL or GENERAL",
                           fn, d->vk_layout);
        return VITVK_OK;
    }
    if (d->kind != VITVK_INPUT_BUFFER)
        return vk_fail(ctx, VITVK_ERR_INVALID_ARGUMENT, "%s: unknown input kind %d", fn, (int)d->kind);
    if (!d->vk_buffer)
        return vk_fail(ctx, VITVK_ERR_INVALID_ARGUMENT, "%s: vk_buffer is null", fn);
    uint64_t pitch = d->row_pitch ? d->row_pitch : (uint64_t)d->width * 4;
    if (d->vk_offset % 4 || pitch % 4 || pitch < (uint64_t)d->width * 4)
        return vk_fail(ctx, VITVK_ERR_INVALID_ARGUMENT,
                       "%s: offset %llu and row pitch %llu must be multiples of 4, the pitch at least width * 4 "
                       "(%llu)",
                       fn, (unsigned long long)d->vk_offset, (unsigned long long)pitch,
                       (unsigned long long)d->width * 4);
    return VITVK_OK;
}

/* The caller's rows as a descriptor window starting at an offset the
 * device accepts; the rest of the offset goes to the shader in words. */
static vitvk_status host_window(vitvk_input *in, const vitvk_input_desc *d, uint32_t *word_offset,
                                uint32_t *pitch_words)
{
    vitvk_context *ctx = in->plan->ctx;
    uint64_t pitch = d->row_pitch ? d->row_pitch : (uint64_t)d->width * 4;
    uint64_t align = ctx->caps.min_storage_align ? ctx->caps.min_storage_align : 1;
    uint64_t start = d->vk_offset / align * align;
    uint64_t span = (d->vk_offset - start) + pitch * (d->height - 1) + (uint64_t)d->width * 4;
    if (span > ctx->caps.max_storage_range || pitch / 4 > UINT32_MAX)
        return vk_fail(ctx, VITVK_ERR_LIMIT, "vitvk_input_create: the rows span %llu bytes, over this device's "
                                             "storage buffer range %llu",
                       (unsigned long long)span, (unsigned long long)ctx->caps.max_storage_range);
    memcpy(&in->host.buffer, &d->vk_buffer, sizeof in->host.buffer);
    in->host.size = span;
    in->host.bind_offset = start;
    in->host.bind_range = span;
    *word_offset = (uint32_t)((d->vk_offset - start) / 4);
    *pitch_words = (uint32_t)(pitch / 4);
    return VITVK_OK;
}

/* Lays both axes' tables out in one int32 array; `off` receives the word
 * offsets of x first, count, k, then y's. */
static vitvk_status pack_tables(vitvk_context *ctx, const img_axis_table *t, const uint32_t *outs, int32_t **words,
                                size_t *count, uint32_t off[6])
{
    size_t n = 0;
    for (int a = 0; a < 2; a++) {
        off[3 * a] = (uint32_t)n;
        off[3 * a + 1] = (uint32_t)(n + outs[a]);
        off[3 * a + 2] = (uint32_t)(n + 2 * (size_t)outs[a]);
        n += 2 * (size_t)outs[a] + (size_t)outs[a] * t[a].stride;
        if (n > UINT32_MAX / 2)
            return vk_fail(ctx, VITVK_ERR_LIMIT, "vitvk_input_create: resize tables over 2^31 entries");
    }
    int32_t *w = vk_malloc(ctx, n * sizeof *w);
    if (!w)
        return vk_fail(ctx, VITVK_ERR_OUT_OF_HOST_MEMORY, "out of host memory");
    for (int a = 0; a < 2; a++) {
        for (uint32_t i = 0; i < outs[a]; i++) {
            w[off[3 * a] + i] = (int32_t)t[a].first[i];
            w[off[3 * a + 1] + i] = (int32_t)t[a].count[i];
            /* The shaders sum in int32, as PIL does: check that no pixel can
             * overflow it (it cannot with normalised taps; refuse if so). */
            int64_t mag = (int64_t)1 << (t[a].bits - 1);
            for (uint32_t j = 0; j < t[a].count[i]; j++)
                mag += 255 * (int64_t)llabs(t[a].k[i * t[a].stride + j]);
            if (mag > INT32_MAX) {
                vk_free(ctx, w);
                return vk_fail(ctx, VITVK_ERR_LIMIT, "vitvk_input_create: resize taps overflow 32-bit sums");
            }
        }
        memcpy(w + off[3 * a + 2], t[a].k, (size_t)outs[a] * t[a].stride * sizeof *w);
    }
    *words = w;
    *count = n;
    return VITVK_OK;
}

static vitvk_status make_view(vitvk_input *in, const vitvk_input_desc *d)
{
    vitvk_context *ctx = in->plan->ctx;
    VkImageViewCreateInfo ci = {
        .sType = VK_STRUCTURE_TYPE_IMAGE_VIEW_CREATE_INFO,
        .viewType = VK_IMAGE_VIEW_TYPE_2D,
        .format = d->mutable_format ? unorm_of(d->vk_format) : (VkFormat)d->vk_format,
        .subresourceRange = {.aspectMask = VK_IMAGE_ASPECT_COLOR_BIT, .levelCount = 1, .layerCount = 1},
    };
    memcpy(&ci.image, &d->vk_image, sizeof ci.image);
    return vk_check(ctx, ctx->vkd.vkCreateImageView(ctx->device, &ci, ctx->vk_alloc, &in->view), "vkCreateImageView");
}

/* The preprocessing kernels' 8 x 8 workgroups (specialization constants 0
 * and 1): 64 invocations, within every device's limits (128 at least). */
enum { PREP_WG = 8 };

static vitvk_status add_dispatches(vitvk_input *in, const vitvk_input_desc *d, const preproc_geometry *g,
                                   const img_axis_table *t, const uint32_t off[6])
{
    vitvk_context *ctx = in->plan->ctx;
    vk_program *prog = &in->prog;
    vk_kernel *kf, *kr, *kc;
    static const uint32_t wg[2] = {PREP_WG, PREP_WG};
    vitvk_status st = vk_kernel_get(ctx, SH_PREP_ROWS, false, &kr);
    if (st == VITVK_OK)
        st = vk_kernel_get(ctx, SH_PREP_COLUMNS, false, &kc);
    uint32_t src_off = 0, src_pitch = d->width, bgra = 0;
    const vk_buffer *src = in->fetched;
    if (st == VITVK_OK && d->kind == VITVK_INPUT_IMAGE) {
        st = vk_kernel_get(ctx, SH_PREP_FETCH, false, &kf);
        uint32_t push[3] = {d->width, d->height, format_srgb(d->vk_format) && !d->mutable_format};
        const vk_buffer *bufs[2] = {NULL, in->fetched};
        if (st == VITVK_OK)
            st = vk_program_add(prog, kf, wg, 2, bufs, 2, 0x2, push, sizeof push, vk_div_up(d->width, PREP_WG),
                                vk_div_up(d->height, PREP_WG), 1, "preprocess: fetch");
        if (st == VITVK_OK)
            vk_program_bind_image(prog, 0, in->view, (VkImageLayout)d->vk_layout);
    } else if (st == VITVK_OK) {
        st = host_window(in, d, &src_off, &src_pitch);
        src = &in->host;
        bgra = d->bgra != 0;
    }
    if (st == VITVK_OK) {
        uint32_t push[10] = {src_off, src_pitch, d->height, g->resized_w, bgra,
                             off[0], off[1], off[2], (uint32_t)t[0].stride, (uint32_t)t[0].bits};
        const vk_buffer *bufs[3] = {src, in->tables, in->rows};
        st = vk_program_add(prog, kr, wg, 2, bufs, 3, 0x4, push, sizeof push, vk_div_up(g->resized_w, PREP_WG),
                            vk_div_up(d->height, PREP_WG), 1, "preprocess: resize rows");
    }
    if (st == VITVK_OK) {
        /* The last word (the image's slot) is set when recording. */
        uint32_t push[12] = {g->resized_w, g->resized_h, g->out_w, g->out_h, (uint32_t)(int32_t)g->x0,
                             (uint32_t)(int32_t)g->y0, off[3], off[4], off[5], (uint32_t)t[1].stride,
                             (uint32_t)t[1].bits, 0};
        const vk_buffer *bufs[4] = {in->rows, in->tables, in->lut, in->plan->pixels};
        st = vk_program_add(prog, kc, wg, 2, bufs, 4, 0x8, push, sizeof push, vk_div_up(g->out_w, PREP_WG),
                            vk_div_up(g->out_h, PREP_WG), 1, "preprocess: resize columns, crop, normalise");
    }
    if (st == VITVK_OK)
        st = vk_program_finalize(prog);
    return st;
}

static vitvk_status build(vitvk_input *in, const vitvk_input_desc *d)
{
    vitvk_plan *plan = in->plan;
    vitvk_context *ctx = plan->ctx;
    const vitvk_model *m = plan->model;
    const preproc_config *cfg = &m->pre;
    if (m->cfg.channels != 3)
        return vk_fail(ctx, VITVK_ERR_UNSUPPORTED, "vitvk_input_create: the model takes %u-channel input, images "
                                                   "give RGB",
                       m->cfg.channels);
    preproc_geometry g;
    preproc_geometry_for(cfg, d->width, d->height, &g);
    if (g.out_w != m->cfg.image_w || g.out_h != m->cfg.image_h)
        return vk_fail(ctx, VITVK_ERR_UNSUPPORTED,
                       "vitvk_input_create: the preprocessor config gives %ux%u from a %ux%u image but the model "
                       "takes %ux%u",
                       g.out_w, g.out_h, d->width, d->height, m->cfg.image_w, m->cfg.image_h);
    if (g.resized_w == 0 || g.resized_h == 0 || (uint64_t)g.resized_w * g.resized_h > VITVK_MAX_IMAGE_PIXELS ||
        g.x0 < INT32_MIN || g.x0 > INT32_MAX || g.y0 < INT32_MIN || g.y0 > INT32_MAX)
        return vk_fail(ctx, VITVK_ERR_LIMIT, "vitvk_input_create: a %ux%u image resizes to an unusable %ux%u",
                       d->width, d->height, g.resized_w, g.resized_h);

    img_axis_table t[2] = {0};
    uint32_t outs[2] = {g.resized_w, g.resized_h}, off[6];
    vitvk_status st = img_resize_axis(d->width, g.resized_w, cfg->resample, cfg->backend, &t[0]);
    if (st == VITVK_OK)
        st = img_resize_axis(d->height, g.resized_h, cfg->resample, cfg->backend, &t[1]);
    if (st != VITVK_OK)
        st = vk_fail(ctx, st, "vitvk_input_create: cannot build the resize tables (%s)", vitvk_status_string(st));
    int32_t *words = NULL;
    size_t nwords = 0;
    if (st == VITVK_OK)
        st = pack_tables(ctx, t, outs, &words, &nwords, off);

    float lut[3 * 256 + 3];
    preproc_build_lut(cfg, (float (*)[256])lut);
    for (int c = 0; c < 3; c++)
        lut[768 + c] = lut[c * 256 + cfg->pad_level[c]];

    if (st == VITVK_OK)
        st = vk_arena_add(&in->arena, nwords * 4, "the resize tables", &in->tables);
    if (st == VITVK_OK)
        st = vk_arena_add(&in->arena, sizeof lut, "the preprocessing table", &in->lut);
    if (st == VITVK_OK)
        st = vk_arena_add(&in->arena, (uint64_t)g.resized_w * d->height * 4, "the row-resized image", &in->rows);
    if (st == VITVK_OK && d->kind == VITVK_INPUT_IMAGE)
        st = vk_arena_add(&in->arena, (uint64_t)d->width * d->height * 4, "the fetched image", &in->fetched);
    if (st == VITVK_OK)
        st = vk_arena_commit(&in->arena);
    if (st == VITVK_OK)
        st = vk_upload(ctx, &in->arena, in->tables, words, nwords * 4);
    if (st == VITVK_OK)
        st = vk_upload(ctx, &in->arena, in->lut, lut, sizeof lut);
    if (st == VITVK_OK && d->kind == VITVK_INPUT_IMAGE)
        st = make_view(in, d);
    if (st == VITVK_OK)
        st = add_dispatches(in, d, &g, t, off);
    vk_free(ctx, words);
    img_axis_table_free(&t[0]);
    img_axis_table_free(&t[1]);
    return st;
}

vitvk_status vitvk_input_create(vitvk_plan *plan, const vitvk_input_desc *desc, vitvk_input **out)
{
    if (!plan)
        return VITVK_ERR_INVALID_ARGUMENT;
    vitvk_context *ctx = plan->ctx;
    if (!desc || !out)
        return vk_fail(ctx, VITVK_ERR_INVALID_ARGUMENT, "vitvk_input_create: desc and out are required");
    *out = NULL;
    vitvk_status st = check_desc(ctx, desc);
    if (st != VITVK_OK)
        return st;
    vitvk_input *in = vk_calloc(ctx, 1, sizeof *in);
    if (!in)
        return vk_fail(ctx, VITVK_ERR_OUT_OF_HOST_MEMORY, "out of host memory");
    in->plan = plan;
    vk_arena_init(&in->arena, ctx, VK_MEM_DEVICE);
    vk_program_init(&in->prog, ctx);
    st = build(in, desc);
    if (st != VITVK_OK) {
        vitvk_input_destroy(in);
        return st;
    }
    *out = in;
    return VITVK_OK;
}

void vitvk_input_destroy(vitvk_input *in)
{
    if (!in)
        return;
    vitvk_context *ctx = in->plan->ctx;
    vk_program_destroy(&in->prog);
    if (in->view)
        ctx->vkd.vkDestroyImageView(ctx->device, in->view, ctx->vk_alloc);
    vk_arena_destroy(&in->arena);
    vk_free(ctx, in);
}

void gpu_input_record(vitvk_input *in, VkCommandBuffer cmd, uint32_t slot)
{
    const vit_config *c = &in->plan->model->cfg;
    uint32_t dst = slot * c->channels * c->image_h * c->image_w;
    vk_dispatch *last = &in->prog.items[in->prog.count - 1];
    memcpy(last->push + 11 * sizeof(uint32_t), &dst, sizeof dst);
    vk_program_record(&in->prog, cmd, NULL);
}
