/* cli_attention.c - `vit-vk-cli attention`: where the [CLS] token looks.
 *
 * The last layer's [CLS] attention over the patches, averaged over heads,
 * upsampled to the image and blended over it as a heat map; optionally the
 * raw attentions.last.cls tensor for every image and head. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_util.h"
#include "heatmap.h"
#include "image.h"
#include "png_write.h"
#include "safetensors.h"

static const char *help =
    "usage: vit-vk-cli attention --model DIR (IMAGE | --input IN.safetensors [--input-name NAME])\n"
    "                            --output map.png [--tensor OUT.safetensors] [--device N]\n"
    "                            [--precision auto|fp32|fp16] [--rollout]\n"
    "\n"
    "Draws the last layer's [CLS] attention over the patches, averaged over the heads,\n"
    "as a heat map blended over the image (for a tensor input: over its first image,\n"
    "its channels stretched to 0..255). --tensor also writes attentions.last.cls\n"
    "[N, heads, tokens] for every image and head, as transformers returns\n"
    "attentions[-1][:, :, 0, :]. --rollout draws attention rollout instead (Abnar &\n"
    "Zuidema 2020: the product over layers of the head-averaged attention plus the\n"
    "identity, rows renormalised) and --tensor then also writes attention_rollout.cls\n"
    "[N, tokens]. Models with a [CLS] token only (not Swin).\n"
    "\n"
    "example:\n"
    "  vit-vk-cli attention --model models/digits-vit models/digits-vit/samples/7-seven.png --output map.png\n";

typedef struct attn_opts {
    const char *model, *input, *input_name, *output, *tensor, *image;
    cli_device_opts dev;
    bool rollout;
} attn_opts;

static int parse(int argc, char **argv, attn_opts *o, bool *show_help)
{
    o->input_name = "pixel_values";
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        const char **dst = NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            *show_help = true;
            continue;
        }
        if (strcmp(a, "--model") == 0)
            dst = &o->model;
        else if (strcmp(a, "--input") == 0)
            dst = &o->input;
        else if (strcmp(a, "--input-name") == 0)
            dst = &o->input_name;
        else if (strcmp(a, "--output") == 0)
            dst = &o->output;
        else if (strcmp(a, "--tensor") == 0)
            dst = &o->tensor;
        else if (strcmp(a, "--device") == 0 || strcmp(a, "--precision") == 0) {
            if (!val) {
                cli_error("attention %s: needs a value", a);
                return EXIT_USAGE;
            }
            i++;
            if (a[2] == 'd' ? !parse_u32(val, &o->dev.device) : !parse_precision(val, &o->dev.precision)) {
                cli_error("attention %s: \"%s\" is not valid", a, val);
                return EXIT_USAGE;
            }
            o->dev.have_device |= a[2] == 'd';
            continue;
        } else if (strcmp(a, "--rollout") == 0) {
            o->rollout = true;
            continue;
        } else if (a[0] == '-' && a[1] == '-') {
            cli_error("attention: unknown option %s (see vit-vk-cli attention --help)", a);
            return EXIT_USAGE;
        } else if (!o->image) {
            o->image = a;
            continue;
        } else {
            cli_error("attention: one image at a time (got %s and %s)", o->image, a);
            return EXIT_USAGE;
        }
        if (!val) {
            cli_error("attention %s: needs a value", a);
            return EXIT_USAGE;
        }
        *dst = val;
        i++;
    }
    return 0;
}

/* The first image of pixel_values, each channel stretched to 0..255. */
static uint8_t *tensor_picture(const float *px, uint32_t C, uint32_t H, uint32_t W)
{
    uint8_t *rgb = malloc((size_t)H * W * 3);
    if (!rgb)
        return NULL;
    for (uint32_t c = 0; c < 3; c++) {
        const float *ch = px + (size_t)(c < C ? c : C - 1) * H * W;
        float lo = ch[0], hi = ch[0];
        for (size_t i = 1; i < (size_t)H * W; i++) {
            lo = ch[i] < lo ? ch[i] : lo;
            hi = ch[i] > hi ? ch[i] : hi;
        }
        float s = hi > lo ? 255.0f / (hi - lo) : 0.0f;
        for (size_t i = 0; i < (size_t)H * W; i++)
            rgb[i * 3 + c] = (uint8_t)((ch[i] - lo) * s + 0.5f);
    }
    return rgb;
}

int cli_attention(int argc, char **argv)
{
    attn_opts o = {0};
    bool show_help = false;
    int rc = parse(argc, argv, &o, &show_help);
    if (rc)
        return rc;
    if (show_help) {
        fputs(help, stdout);
        return 0;
    }
    if (!o.model || !o.output || (!o.image == !o.input)) {
        cli_error("attention: --model, --output and one of IMAGE or --input are required (see --help)");
        return EXIT_USAGE;
    }
    char err[1024];
    st_archive *in = NULL;
    const st_tensor *t = NULL;
    if (o.input) {
        if (st_open_file(o.input, &in, err, sizeof err) != VITVK_OK) {
            cli_error("%s", err);
            return EXIT_FAIL;
        }
        t = st_find(in, o.input_name);
        if (!t || t->rank != 4 || t->shape[0] < 1 || !st_dtype_is_float(t->dtype)) {
            cli_error("%s: no float tensor %s of shape [N, C, H, W] with N >= 1", o.input, o.input_name);
            st_close(in);
            return EXIT_FAIL;
        }
    }
    unsigned validation = 0;
    vitvk_context *ctx = cli_context(&o.dev, &validation);
    if (!ctx) {
        st_close(in);
        return EXIT_FAIL;
    }
    vitvk_model *model = NULL;
    vitvk_plan *plan = NULL;
    float *pixels = NULL, *attn = NULL, *grid = NULL, *roll = NULL;
    uint8_t *rgb = NULL;
    img_rgb8 img = {0};
    vitvk_model_desc md = {.precision = o.dev.precision};
    vitvk_model_info mi;
    uint64_t N = t ? (uint64_t)t->shape[0] : 1;
    uint32_t batch = N < 8 ? (uint32_t)N : 8;
    if (vitvk_model_load(ctx, o.model, &md, &model) != VITVK_OK) {
        cli_error("%s", vitvk_context_last_error(ctx));
        rc = EXIT_FAIL;
        goto done;
    }
    vitvk_model_get_info(model, &mi);
    vitvk_plan_desc pd = {.batch = batch, .keep_cls_attention = 1, .keep_attention_maps = o.rollout};
    if (vitvk_plan_create(model, &pd, &plan) != VITVK_OK) {
        cli_error("%s: %s", o.model, vitvk_context_last_error(ctx));
        rc = EXIT_FAIL;
        goto done;
    }
    size_t per = (size_t)mi.channels * mi.image_height * mi.image_width;
    uint32_t Hh = mi.num_heads, T = mi.num_tokens;
    uint32_t gh = mi.image_height / mi.patch_size, gw = mi.image_width / mi.patch_size, npre = T - gh * gw;
    pixels = malloc(per * N * sizeof(float));
    attn = malloc((size_t)N * Hh * T * sizeof(float));
    grid = calloc((size_t)gh * gw, sizeof(float));
    roll = o.rollout ? malloc((size_t)N * T * sizeof(float)) : NULL;
    if (!pixels || !attn || !grid || (o.rollout && !roll)) {
        cli_error("out of memory");
        rc = EXIT_FAIL;
        goto done;
    }
    if (t) {
        if ((uint64_t)t->shape[1] != mi.channels || (uint64_t)t->shape[2] != mi.image_height ||
            (uint64_t)t->shape[3] != mi.image_width) {
            cli_error("%s: tensor %s is [%lld, %lld, %lld, %lld]; the model takes [N, %u, %u, %u]", o.input,
                      o.input_name, (long long)t->shape[0], (long long)t->shape[1], (long long)t->shape[2],
                      (long long)t->shape[3], mi.channels, mi.image_height, mi.image_width);
            rc = EXIT_FAIL;
            goto done;
        }
        if (st_to_f32(t, pixels, err, sizeof err) != VITVK_OK) {
            cli_error("%s", err);
            rc = EXIT_FAIL;
            goto done;
        }
    } else if (vitvk_model_preprocess_file(model, o.image, pixels) != VITVK_OK ||
               img_decode_file(o.image, VITVK_MAX_IMAGE_PIXELS, &img, err, sizeof err) != VITVK_OK) {
        cli_error("%s", img.pixels ? err : vitvk_context_last_error(ctx));
        rc = EXIT_FAIL;
        goto done;
    }
    for (uint64_t i = 0; i < N; i += batch) {
        uint32_t n = (uint32_t)(N - i < batch ? N - i : batch);
        if (vitvk_plan_run(plan, pixels + per * i, n, NULL, NULL) != VITVK_OK ||
            vitvk_plan_read_cls_attention(plan, attn + (size_t)Hh * T * i) != VITVK_OK ||
            (roll && vitvk_plan_attention_rollout(plan, roll + (size_t)T * i) != VITVK_OK)) {
            cli_error("%s", vitvk_context_last_error(ctx));
            rc = EXIT_FAIL;
            goto done;
        }
    }
    /* image 0: the rollout's [CLS] row, or the last layer's head average,
     * over the patch tokens */
    for (uint32_t k = 0; roll && k < gh * gw; k++)
        grid[k] = roll[npre + k];
    for (uint32_t h = 0; !roll && h < Hh; h++)
        for (uint32_t k = 0; k < gh * gw; k++)
            grid[k] += attn[(size_t)h * T + npre + k] / (float)Hh;
    uint32_t W = img.pixels ? img.width : mi.image_width, H = img.pixels ? img.height : mi.image_height;
    rgb = img.pixels ? img.pixels : tensor_picture(pixels, mi.channels, H, W);
    if (!rgb) {
        cli_error("out of memory");
        rc = EXIT_FAIL;
        goto done;
    }
    /* Small inputs (digits are 32x32) are enlarged, pixels kept square and
     * sharp, so the map stays readable. */
    uint32_t f = 1;
    while ((W > H ? W : H) * (f + 1) <= 320)
        f++;
    if (f > 1) {
        uint8_t *big = malloc((size_t)W * f * H * f * 3);
        if (!big) {
            cli_error("out of memory");
            rc = EXIT_FAIL;
            goto done;
        }
        for (uint32_t y = 0; y < H * f; y++)
            for (uint32_t x = 0; x < W * f; x++)
                memcpy(big + ((size_t)y * W * f + x) * 3, rgb + ((size_t)(y / f) * W + x / f) * 3, 3);
        if (rgb != img.pixels)
            free(rgb);
        rgb = big;
        W *= f;
        H *= f;
    }
    heatmap_blend(rgb, W, H, grid, gh, gw);
    if (png_write_rgb8(o.output, rgb, W, H, err, sizeof err) != 0) {
        cli_error("%s", err);
        rc = EXIT_FAIL;
        goto done;
    }
    if (o.tensor) {
        st_write_tensor wt[2] = {{.name = "attentions.last.cls", .dtype = ST_F32, .rank = 3,
                                  .shape = {(int64_t)N, Hh, T}, .data = attn},
                                 {.name = "attention_rollout.cls", .dtype = ST_F32, .rank = 2,
                                  .shape = {(int64_t)N, T}, .data = roll}};
        if (st_write_file(o.tensor, wt, roll ? 2 : 1, err, sizeof err) != VITVK_OK) {
            cli_error("%s", err);
            rc = EXIT_FAIL;
        }
    }
done:
    if (rgb != img.pixels)
        free(rgb);
    img_free(&img);
    free(pixels);
    free(attn);
    free(grid);
    free(roll);
    st_close(in);
    vitvk_plan_destroy(plan);
    vitvk_model_destroy(model);
    if (!cli_context_finish(ctx, &validation) && rc == 0)
        rc = EXIT_FAIL;
    return rc;
}
