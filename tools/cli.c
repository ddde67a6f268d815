/* vit-vk-cli - Vision Transformers on any Vulkan device, from the shell.
 *
 * Exit status: 0 success, 2 usage error, 1 any other failure (with one
 * line on stderr naming the file and what is wrong). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_parallel.h"
#include "cli_util.h"
#include "half.h"
#include "image.h"
#include "infer_input.h"
#include "safetensors.h"
#include "vitvk.h"

#define MAX_BATCH 8

static const char *usage_text =
    "usage: vit-vk-cli <command> [options]\n"
    "\n"
    "commands:\n"
    "  devices [--json]                      list Vulkan devices\n"
    "  classify --model DIR [options] IMAGE_OR_DIR...  top-k labels (and tags) for PNG/JPEG images\n"
    "  embed --model DIR --output OUT.safetensors IMAGE_OR_DIR...  pooled vectors for similarity search\n"
    "  preprocess (--model DIR | --config FILE) --output OUT.safetensors IMAGE...\n"
    "                                        pixel_values as transformers/timm make them\n"
    "  infer --model DIR --input IN.safetensors --output OUT.safetensors [options]\n"
    "                                        run pixel_values, write logits and pooled\n"
    "  bench (--model DIR | --arch NAME) [--batch N] [--json]  time the forward pass, per-kernel GPU time\n"
    "  attention --model DIR IMAGE --output map.png  where the [CLS] token looks\n"
    "\n"
    "common options: --device N, --precision auto|fp32|fp16, --kernels auto|cpu|gpu,\n"
    "                --coopmat auto|off|fp16acc (tensor cores in fp16 GEMMs)\n"
    "run `vit-vk-cli <command> --help` for a command's options and an example.\n";

static const char *classify_help =
    "usage: vit-vk-cli classify --model DIR [--device N] [--precision auto|fp32|fp16]\n"
    "                           [--top-k K] [--threshold P] [--scores softmax|sigmoid]\n"
    "                           [--batch N] [--backend torchvision|pil] [--image-size N|HxW]\n"
    "                           [--json | --csv] [--threads N]\n"
    "                           IMAGE_OR_DIR...\n"
    "\n"
    "Classifies PNG or JPEG images with a Hugging Face image-classification\n"
    "model directory (config.json, model.safetensors, preprocessor_config.json).\n"
    "Directories are walked recursively in sorted order for *.png, *.jpg, *.jpeg\n"
    "(hidden entries and links to directories are skipped); named files are read\n"
    "whatever their extension.\n"
    "  --top-k K       labels per image (default 5)\n"
    "  --threshold P   add \"tags\": every label with score >= P (0..1), for\n"
    "                  multi-label tagging\n"
    "  --scores S      softmax (default) or sigmoid (the default when config.json\n"
    "                  says problem_type multi_label_classification)\n"
    "  --batch N       images per forward pass (default 8)\n"
    "  --threads N     threads decoding and preprocessing images (default: the\n"
    "                  CPUs); the next batch is decoded while the device runs\n"
    "                  this one, and results come in input order whatever N\n"
    "  --image-size N|HxW  run at another input size (position embeddings are\n"
    "                  resampled bicubically, as transformers' interpolate_pos_encoding)\n"
    "  --backend B     transformers' preprocessing arithmetic: torchvision (default,\n"
    "                  transformers 5's default) or pil (the ...Pil processors)\n"
    "  --json          JSON Lines: {\"file\", \"top\": [{\"index\", \"label\", \"score\"}],\n"
    "                  \"tags\": [...] with --threshold}\n"
    "  --csv           a header, then one row per image: file, label_1, index_1,\n"
    "                  score_1, ... label_K, index_K, score_K[, tags (';'-separated)]\n"
    "Otherwise a table. With more than one batch and stderr a terminal, a progress\n"
    "line (done/total, images/s, time left) is drawn on stderr. An image that\n"
    "cannot be read is reported on stderr by name and skipped; the run goes on and\n"
    "the exit status is then 1.\n"
    "\n"
    "examples:\n"
    "  vit-vk-cli classify --model models/digits-vit models/digits-vit/samples/7-seven.png\n"
    "  vit-vk-cli classify --model models/digits-vit --batch 32 --json photos/ > labels.jsonl\n"
    "  vit-vk-cli classify --model DIR --threshold 0.5 --csv assets/ > tags.csv\n";

static const char *embed_help =
    "usage: vit-vk-cli embed --model DIR --output OUT.safetensors [--normalize] [--batch N]\n"
    "                        [--backend torchvision|pil] [--device N] [--threads N]\n"
    "                        [--precision auto|fp32|fp16] IMAGE_OR_DIR...\n"
    "\n"
    "Writes `embeddings` [N, D] F32: each image's pooled vector (the vector the\n"
    "classifier reads; for a ViTModel with a pooler, its pooler_output), and a\n"
    "sidecar OUT.jsonl (OUT with .safetensors replaced; appended otherwise) with\n"
    "one line per row: {\"index\": i, \"file\": \"...\"}. Directories are walked as\n"
    "classify walks them. An unreadable image is reported and left out (the rows\n"
    "stay in file order without it) and the exit status is then 1.\n"
    "  --normalize   scale each vector to unit length (v / max(|v|, 1e-12)), so\n"
    "                that a dot product is the cosine similarity\n"
    "  --threads N   threads decoding images (default: the CPUs), as for classify\n"
    "\n"
    "example:\n"
    "  vit-vk-cli embed --model models/digits-vit --normalize --output emb.safetensors photos/\n"
    "  # -> emb.safetensors (embeddings) and emb.jsonl (which file each row is)\n";

static const char *preprocess_help =
    "usage: vit-vk-cli preprocess (--model DIR | --config FILE) --output OUT.safetensors\n"
    "                             [--backend torchvision|pil] [--threads N] IMAGE...\n"
    "\n"
    "Writes `pixel_values` [N, 3, H, W] F32, the images in argument order (a\n"
    "directory adds its PNG/JPEG files in sorted order), as the model's image\n"
    "processor makes them: decode to RGB (alpha dropped), resize, center crop,\n"
    "rescale, normalise. No Vulkan device is used.\n"
    "  --model DIR    the model directory's preprocessing: preprocessor_config.json\n"
    "                 (transformers' defaults at config.json's image_size when it is\n"
    "                 absent), or, for a timm checkpoint, config.json's pretrained_cfg\n"
    "  --config FILE  a preprocessor_config.json, or a timm config.json (one with a\n"
    "                 \"pretrained_cfg\" object)\n"
    "  --backend B    which transformers backend's arithmetic: torchvision (default;\n"
    "                 transformers 5 uses it whenever torchvision is installed) or pil\n"
    "                 (ViTImageProcessorPil & co.: PIL's resize, numpy arithmetic).\n"
    "                 timm configs always get timm's eval transform.\n"
    "  --threads N    threads decoding and preprocessing (default: the CPUs); the\n"
    "                 output is the same whatever N\n"
    "Every image must give the same size (a size without a crop that keeps the\n"
    "aspect ratio cannot make one tensor). Any unreadable image fails the run and\n"
    "no file is written.\n"
    "\n"
    "example:\n"
    "  vit-vk-cli preprocess --model models/digits-vit --output px.safetensors a.png b.jpg\n"
    "  vit-vk-cli infer --model models/digits-vit --input px.safetensors --output out.safetensors\n";

static const char *infer_help =
    "usage: vit-vk-cli infer --model DIR --input IN.safetensors [--input-name NAME]\n"
    "                        --output OUT.safetensors [--device N] [--precision auto|fp32|fp16]\n"
    "                        [--hidden-states] [--attentions] [--image-size N|HxW]\n"
    "\n"
    "Runs an N x C x H x W tensor (F32, F16 or BF16; default name pixel_values)\n"
    "through the model and writes F32 tensors `logits` [N, labels] (when the model\n"
    "has a classifier) and `pooled` [N, hidden] (the vector the classifier reads).\n"
    "  --hidden-states  also write hidden_states.0 .. hidden_states.L [N, tokens, hidden]\n"
    "  --attentions     also write attentions.last.cls [N, heads, tokens]: the [CLS] row of\n"
    "                   the last layer's attention probabilities (not for Swin)\n"
    "  --image-size N|HxW  run at another input size (position embeddings resampled)\n"
    "\n"
    "example:\n"
    "  vit-vk-cli infer --model models/digits-vit --input pixels.safetensors --output out.safetensors\n";

static const char *devices_help =
    "usage: vit-vk-cli devices [--json]\n"
    "\n"
    "Lists the Vulkan devices in the order --device N counts them.\n"
    "\n"
    "example:\n"
    "  vit-vk-cli devices --json\n";

/* ---- option parsing ---------------------------------------------- */

typedef struct opts {
    const char *model, *input, *input_name, *output;
    cli_device_opts dev;
    uint32_t top_k, batch;
    uint32_t image_h, image_w; /* --image-size, 0 = the model's */
    bool json, help, hidden_states, attentions;
    const char **files;
    int nfiles;
    /* classify, embed, preprocess */
    const char *config;
    bool csv, normalize, have_threshold;
    double threshold;
    int scores;  /* 0: from config.json, 1: softmax, 2: sigmoid */
    int backend; /* -1: the model's / config's own, else PREPROC_BACKEND_* */
    uint32_t threads; /* --threads, 0 = cli_default_threads() */
} opts;

/* Returns 0 ok, or EXIT_USAGE after printing the problem. */
static int parse(int argc, char **argv, const char *cmd, opts *o)
{
    o->top_k = 5;
    o->input_name = "pixel_values";
    o->backend = -1;
    o->files = calloc((size_t)argc + 1, sizeof *o->files);
    if (!o->files) {
        cli_error("out of memory");
        return EXIT_FAIL;
    }
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
#define NEED_VALUE()                                            \
    if (!val) {                                                 \
        cli_error("%s %s: needs a value", cmd, a);              \
        return EXIT_USAGE;                                      \
    }                                                           \
    i++;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            o->help = true;
        } else if (strcmp(a, "--json") == 0) {
            o->json = true;
        } else if (strcmp(a, "--hidden-states") == 0) {
            o->hidden_states = true;
        } else if (strcmp(a, "--attentions") == 0) {
            o->attentions = true;
        } else if (strcmp(a, "--model") == 0) {
            NEED_VALUE();
            o->model = val;
        } else if (strcmp(a, "--input") == 0) {
            NEED_VALUE();
            o->input = val;
        } else if (strcmp(a, "--input-name") == 0) {
            NEED_VALUE();
            o->input_name = val;
        } else if (strcmp(a, "--output") == 0) {
            NEED_VALUE();
            o->output = val;
        } else if (strcmp(a, "--device") == 0) {
            NEED_VALUE();
            if (!parse_u32(val, &o->dev.device)) {
                cli_error("%s --device: \"%s\" is not a device number", cmd, val);
                return EXIT_USAGE;
            }
            o->dev.have_device = true;
        } else if (strcmp(a, "--precision") == 0) {
            NEED_VALUE();
            if (!parse_precision(val, &o->dev.precision)) {
                cli_error("%s --precision: \"%s\" is not auto, fp32 or fp16", cmd, val);
                return EXIT_USAGE;
            }
        } else if (strcmp(a, "--kernels") == 0) {
            NEED_VALUE();
            if (!parse_kernels(val, &o->dev.kernels)) {
                cli_error("%s --kernels: \"%s\" is not auto, cpu or gpu", cmd, val);
                return EXIT_USAGE;
            }
        } else if (strcmp(a, "--coopmat") == 0) {
            NEED_VALUE();
            if (!parse_coopmat(val, &o->dev.coopmat)) {
                cli_error("%s --coopmat: \"%s\" is not auto, off or fp16acc", cmd, val);
                return EXIT_USAGE;
            }
        } else if (strcmp(a, "--batch") == 0) {
            NEED_VALUE();
            if (!parse_u32(val, &o->batch) || o->batch == 0 || o->batch > 4096) {
                cli_error("%s --batch: \"%s\" is not an integer from 1 to 4096", cmd, val);
                return EXIT_USAGE;
            }
        } else if (strcmp(a, "--threads") == 0) {
            NEED_VALUE();
            if (!parse_u32(val, &o->threads) || o->threads == 0 || o->threads > 64) {
                cli_error("%s --threads: \"%s\" is not an integer from 1 to 64", cmd, val);
                return EXIT_USAGE;
            }
        } else if (strcmp(a, "--image-size") == 0) {
            NEED_VALUE();
            if (!parse_image_size(val, &o->image_h, &o->image_w)) {
                cli_error("%s --image-size: \"%s\" is not N or HxW", cmd, val);
                return EXIT_USAGE;
            }
        } else if (strcmp(a, "--top-k") == 0) {
            NEED_VALUE();
            if (!parse_u32(val, &o->top_k) || o->top_k == 0) {
                cli_error("%s --top-k: \"%s\" is not a positive integer", cmd, val);
                return EXIT_USAGE;
            }
        } else if (strcmp(a, "--csv") == 0) {
            o->csv = true;
        } else if (strcmp(a, "--normalize") == 0) {
            o->normalize = true;
        } else if (strcmp(a, "--config") == 0) {
            NEED_VALUE();
            o->config = val;
        } else if (strcmp(a, "--threshold") == 0) {
            NEED_VALUE();
            char *end;
            o->threshold = strtod(val, &end);
            if (*end || end == val || !(o->threshold >= 0 && o->threshold <= 1)) {
                cli_error("%s --threshold: \"%s\" is not a probability from 0 to 1", cmd, val);
                return EXIT_USAGE;
            }
            o->have_threshold = true;
        } else if (strcmp(a, "--scores") == 0) {
            NEED_VALUE();
            if (strcmp(val, "softmax") == 0)
                o->scores = 1;
            else if (strcmp(val, "sigmoid") == 0)
                o->scores = 2;
            else {
                cli_error("%s --scores: \"%s\" is not softmax or sigmoid", cmd, val);
                return EXIT_USAGE;
            }
        } else if (strcmp(a, "--backend") == 0) {
            NEED_VALUE();
            if (strcmp(val, "torchvision") == 0)
                o->backend = PREPROC_BACKEND_TORCHVISION;
            else if (strcmp(val, "pil") == 0)
                o->backend = PREPROC_BACKEND_PIL;
            else {
                cli_error("%s --backend: \"%s\" is not torchvision or pil", cmd, val);
                return EXIT_USAGE;
            }
        } else if (a[0] == '-' && a[1] == '-') {
            cli_error("%s: unknown option %s (see vit-vk-cli %s --help)", cmd, a, cmd);
            return EXIT_USAGE;
        } else {
            o->files[o->nfiles++] = a;
        }
#undef NEED_VALUE
    }
    return 0;
}

/* ---- devices ----------------------------------------------------- */

static int cmd_devices(opts *o)
{
    if (o->help) {
        fputs(devices_help, stdout);
        return 0;
    }
    if (o->nfiles) {
        cli_error("devices: unexpected argument %s", o->files[0]);
        return EXIT_USAGE;
    }
    char err[1024];
    uint32_t n = 0;
    vitvk_status st = vitvk_enumerate_devices(NULL, &n, err, sizeof err);
    if (st != VITVK_OK) {
        cli_error("%s", err);
        return EXIT_FAIL;
    }
    vitvk_device_info *d = calloc(n ? n : 1, sizeof *d);
    if (!d) {
        cli_error("out of memory");
        return EXIT_FAIL;
    }
    st = vitvk_enumerate_devices(d, &n, err, sizeof err);
    if (st != VITVK_OK) {
        cli_error("%s", err);
        free(d);
        return EXIT_FAIL;
    }
    if (o->json)
        fputs("[", stdout);
    for (uint32_t i = 0; i < n; i++) {
        unsigned api = d[i].api_version;
        if (o->json) {
            printf("%s{\"index\": %u, \"name\": ", i ? ", " : "", d[i].index);
            json_string(stdout, d[i].name);
            printf(", \"type\": \"%s\", \"vendor_id\": %u, \"device_id\": %u, \"vulkan\": \"%u.%u.%u\", "
                   "\"driver\": ",
                   cli_device_type_name(d[i].type), d[i].vendor_id, d[i].device_id, (api >> 22) & 0x7f, (api >> 12) & 0x3ff,
                   api & 0xfff);
            json_string(stdout, d[i].driver_name);
            printf(", \"driver_info\": ");
            json_string(stdout, d[i].driver_info);
            printf(", \"fp16\": %s, \"storage16\": %s, \"subgroup_size\": %u, \"shared_memory\": %u, "
                   "\"cooperative_matrix_nv\": %s, \"cooperative_matrix_khr\": %s, \"device_local_bytes\": %llu",
                   d[i].fp16_arithmetic ? "true" : "false", d[i].storage16 ? "true" : "false", d[i].subgroup_size,
                   d[i].shared_memory_bytes, d[i].cooperative_matrix_nv ? "true" : "false",
                   d[i].cooperative_matrix_khr ? "true" : "false", (unsigned long long)d[i].device_local_bytes);
            printf(", \"max_texel_buffer_elements\": %u, \"max_workgroup_invocations\": %u, \"auto_kernels\": ",
                   d[i].max_texel_buffer_elements, d[i].max_workgroup_invocations);
            json_string(stdout, d[i].auto_kernels);
            printf(", \"auto_precision\": ");
            json_string(stdout, d[i].auto_precision);
            for (int khr = 1; khr >= 0; khr--) {
                const vitvk_coopmat_shape *sh = khr ? d[i].coopmat_khr : d[i].coopmat_nv;
                uint32_t n = khr ? d[i].coopmat_khr_count : d[i].coopmat_nv_count;
                printf(", \"coopmat_%s_shapes\": [", khr ? "khr" : "nv");
                for (uint32_t j = 0; j < n; j++)
                    printf("%s\"%s\"", j ? ", " : "", cli_coopmat_shape_name(&sh[j]));
                printf("]");
            }
            printf("}");
        } else {
            printf("%u: %s (%s, Vulkan %u.%u.%u, %s %s)\n", d[i].index, d[i].name, cli_device_type_name(d[i].type),
                   (api >> 22) & 0x7f, (api >> 12) & 0x3ff, api & 0xfff, d[i].driver_name, d[i].driver_info);
            printf("   fp16 %s, 16-bit storage %s, subgroup %u, shared memory %u KiB, cooperative matrix %s\n",
                   d[i].fp16_arithmetic ? "yes" : "no", d[i].storage16 ? "yes" : "no", d[i].subgroup_size,
                   d[i].shared_memory_bytes / 1024,
                   d[i].cooperative_matrix_khr ? "KHR" : d[i].cooperative_matrix_nv ? "NV" : "no");
            printf("   kernels %s\n   precision %s\n", d[i].auto_kernels, d[i].auto_precision);
            for (int khr = 1; khr >= 0; khr--) {
                const vitvk_coopmat_shape *sh = khr ? d[i].coopmat_khr : d[i].coopmat_nv;
                uint32_t n = khr ? d[i].coopmat_khr_count : d[i].coopmat_nv_count;
                if (!n)
                    continue;
                printf("   cooperative matrix %s shapes:", khr ? "KHR" : "NV");
                for (uint32_t j = 0; j < n; j++)
                    printf("%s %s", j ? "," : "", cli_coopmat_shape_name(&sh[j]));
                printf("\n");
            }
        }
    }
    if (o->json)
        puts("]");
    free(d);
    return 0;
}

/* ---- model + plan ------------------------------------------------ */

typedef struct session {
    vitvk_context *ctx;
    vitvk_model *model;
    vitvk_plan *plan;
    vitvk_model_info info;
    unsigned validation;
} session;

static int session_open_attn(session *s, const opts *o, uint32_t batch, bool keep_hidden, bool profile, bool attn);

static int session_open(session *s, const opts *o, uint32_t batch, bool keep_hidden, bool profile)
{
    return session_open_attn(s, o, batch, keep_hidden, profile, false);
}

static int session_open_attn(session *s, const opts *o, uint32_t batch, bool keep_hidden, bool profile, bool attn)
{
    s->ctx = cli_context(&o->dev, &s->validation);
    if (!s->ctx)
        return EXIT_FAIL;
    vitvk_model_desc md = {.precision = o->dev.precision, .image_height = o->image_h, .image_width = o->image_w};
    vitvk_status st = vitvk_model_load(s->ctx, o->model, &md, &s->model);
    if (st != VITVK_OK) {
        cli_error("%s", vitvk_context_last_error(s->ctx));
        return EXIT_FAIL;
    }
    vitvk_model_get_info(s->model, &s->info);
    vitvk_plan_desc pd = {.batch = batch, .keep_hidden_states = keep_hidden, .profile = profile,
                          .keep_cls_attention = attn};
    st = vitvk_plan_create(s->model, &pd, &s->plan);
    if (st != VITVK_OK) {
        cli_error("%s: %s", o->model, vitvk_context_last_error(s->ctx));
        return EXIT_FAIL;
    }
    return 0;
}

/* Returns rc, or EXIT_FAIL if validation reported anything. */
static int session_close(session *s, int rc)
{
    vitvk_plan_destroy(s->plan);
    vitvk_model_destroy(s->model);
    if (s->ctx && !cli_context_finish(s->ctx, &s->validation))
        return EXIT_FAIL;
    return rc;
}

/* ---- images through the model, in batches ------------------------ */

/* Called once per image that went through the model, in file order. */
typedef void (*image_result_fn)(void *user, const char *file, const float *logits, const float *pooled);

/* One batch's images, decoded and preprocessed on worker threads: image k
 * into slot k of pixels, with its status and message. */
typedef struct decode_slots {
    const vitvk_model *model;
    char *const *paths;
    float *pixels;
    size_t per;
    vitvk_status *st;
    char (*err)[512];
} decode_slots;

static void decode_one(void *user, size_t k)
{
    decode_slots *d = user;
    d->st[k] = vitvk_model_preprocess_file_r(d->model, d->paths[k], d->pixels + d->per * k, d->err[k],
                                             sizeof d->err[k]);
}

/* Decodes files [first, first + count) into pixels on `threads` threads,
 * reports the unreadable ones in input order (counted in *failed), packs
 * the others to the front in input order with their names in names[], and
 * returns how many those are. */
static uint32_t decode_batch(const session *s, const cli_file_list *files, size_t first, uint32_t count,
                             unsigned threads, float *pixels, size_t per, const char **names, vitvk_status *st,
                             char (*err)[512], int *failed)
{
    decode_slots d = {s->model, files->paths + first, pixels, per, st, err};
    cli_parallel_for(count, threads, decode_one, &d);
    uint32_t n = 0;
    for (uint32_t k = 0; k < count; k++) {
        if (st[k] != VITVK_OK) {
            cli_error("%s", err[k]);
            (*failed)++;
            continue;
        }
        if (k != n)
            memmove(pixels + per * n, pixels + per * k, per * sizeof(float));
        names[n++] = files->paths[first + k];
    }
    return n;
}

/* Preprocesses the files batch by batch on `threads` threads, runs each
 * batch and hands every image's outputs to emit, in input order. The next
 * batch is decoded while the device runs this one (vitvk_plan_submit
 * copies the pixels, so one pixel buffer serves both); memory is one batch
 * of pixels and results whatever the number of files. Unreadable files
 * are reported, counted in *failed and skipped (a batch then runs short).
 * Returns 0, or EXIT_FAIL when the model run fails. */
static int run_images(session *s, const cli_file_list *files, uint32_t batch, unsigned threads, const char *what,
                      bool want_logits, bool want_pooled, image_result_fn emit, void *user, int *failed)
{
    size_t per = (size_t)s->info.channels * s->info.image_height * s->info.image_width;
    uint32_t K = s->info.num_labels, D = s->info.pooled_size;
    float *pixels = malloc(per * batch * sizeof(float));
    float *logits = want_logits ? malloc((size_t)K * batch * sizeof(float)) : NULL;
    float *pooled = want_pooled ? malloc((size_t)D * batch * sizeof(float)) : NULL;
    /* names[0, batch): the batch being decoded; [batch, 2 batch): the one running */
    const char **names = calloc(2 * (size_t)batch, sizeof *names);
    vitvk_status *st = calloc(batch, sizeof *st);
    char(*err)[512] = calloc(batch, sizeof *err);
    if (!pixels || (want_logits && !logits) || (want_pooled && !pooled) || !names || !st || !err) {
        cli_error("out of memory for a batch of %u images", batch);
        free(pixels);
        free(logits);
        free(pooled);
        free(names);
        free(st);
        free(err);
        return EXIT_FAIL;
    }
    int rc = 0;
    cli_progress bar;
    cli_progress_start(&bar, what, files->count, (files->count + batch - 1) / batch);
    uint64_t ticket = 0;
    uint32_t running = 0; /* images of the batch on the device; 0: none */
    size_t next = 0;
    while (rc == 0) {
        uint32_t n = 0, take = 0;
        if (next < files->count) {
            take = files->count - next < batch ? (uint32_t)(files->count - next) : batch;
            n = decode_batch(s, files, next, take, threads, pixels, per, names, st, err, failed);
        }
        if (running) {
            if (vitvk_plan_wait(s->plan, ticket, UINT64_MAX, logits, pooled) != VITVK_OK) {
                cli_error("%s", vitvk_context_last_error(s->ctx));
                rc = EXIT_FAIL;
                break;
            }
            cli_progress_clear(&bar); /* stdout may be the same terminal */
            for (uint32_t j = 0; j < running; j++)
                emit(user, names[batch + j], logits ? logits + (size_t)K * j : NULL,
                     pooled ? pooled + (size_t)D * j : NULL);
            fflush(stdout);
            running = 0;
            cli_progress_update(&bar, next);
        }
        next += take;
        if (n) {
            if (vitvk_plan_submit(s->plan, pixels, n, &ticket) != VITVK_OK) {
                cli_error("%s", vitvk_context_last_error(s->ctx));
                rc = EXIT_FAIL;
                break;
            }
            memcpy(names + batch, names, n * sizeof *names);
            running = n;
        } else if (take == 0) {
            cli_progress_update(&bar, next);
            break;
        }
    }
    cli_progress_end(&bar);
    free(pixels);
    free(logits);
    free(pooled);
    free(names);
    free(st);
    free(err);
    return rc;
}

/* --model's preprocessing backend, as --backend asks. */
static int apply_backend(session *s, const opts *o)
{
    if (o->backend < 0)
        return 0;
    vitvk_preprocess_backend b =
        o->backend == PREPROC_BACKEND_PIL ? VITVK_PREPROCESS_PIL : VITVK_PREPROCESS_TORCHVISION;
    if (vitvk_model_set_preprocess_backend(s->model, b) != VITVK_OK) {
        cli_error("%s: --backend: %s", o->model, vitvk_context_last_error(s->ctx));
        return EXIT_FAIL;
    }
    return 0;
}

/* Default batch: up to MAX_BATCH, never more than there are images. */
/* --threads, or one per CPU. */
static unsigned threads_for(const opts *o)
{
    return o->threads ? o->threads : cli_default_threads();
}

static uint32_t batch_for(const opts *o, size_t count)
{
    uint64_t b = o->batch ? o->batch : MAX_BATCH;
    if (b > count)
        b = count;
    return b ? (uint32_t)b : 1;
}

/* ---- classify ---------------------------------------------------- */

static void softmax(const float *x, uint32_t n, float *p)
{
    float m = x[0];
    for (uint32_t i = 1; i < n; i++)
        if (x[i] > m)
            m = x[i];
    double s = 0;
    for (uint32_t i = 0; i < n; i++)
        s += exp((double)x[i] - m);
    for (uint32_t i = 0; i < n; i++)
        p[i] = (float)(exp((double)x[i] - m) / s);
}

static void sigmoid(const float *x, uint32_t n, float *p)
{
    for (uint32_t i = 0; i < n; i++)
        p[i] = (float)(1.0 / (1.0 + exp(-(double)x[i])));
}

typedef struct classify_out {
    const session *s;
    const opts *o;
    bool use_sigmoid;
    uint32_t k;       /* labels shown per image */
    float *probs;
    uint32_t *order;  /* label indices, best first */
    char fallback[32];
} classify_out;

static const char *label_of(classify_out *c, uint32_t index)
{
    const char *label = vitvk_model_label(c->s->model, index);
    if (!label) {
        snprintf(c->fallback, sizeof c->fallback, "LABEL_%u", index);
        label = c->fallback;
    }
    return label;
}

static void csv_header(const classify_out *c)
{
    fputs("file", stdout);
    for (uint32_t i = 1; i <= c->k; i++)
        printf(",label_%u,index_%u,score_%u", i, i, i);
    if (c->o->have_threshold)
        fputs(",tags", stdout);
    fputc('\n', stdout);
}

static void classify_emit(void *user, const char *file, const float *logits, const float *pooled)
{
    (void)pooled;
    classify_out *c = user;
    const opts *o = c->o;
    uint32_t K = c->s->info.num_labels;
    float *probs = c->probs;
    uint32_t *order = c->order;
    if (c->use_sigmoid)
        sigmoid(logits, K, probs);
    else
        softmax(logits, K, probs);
    /* Sort all labels when tags are wanted (they are listed best first),
     * else only the first k: a partial selection sort, since K is small next
     * to the cost of a forward pass. */
    uint32_t sorted = o->have_threshold ? K : c->k;
    for (uint32_t i = 0; i < K; i++)
        order[i] = i;
    for (uint32_t i = 0; i < sorted; i++) {
        uint32_t best = i;
        for (uint32_t j = i + 1; j < K; j++)
            if (probs[order[j]] > probs[order[best]])
                best = j;
        uint32_t t = order[i];
        order[i] = order[best];
        order[best] = t;
    }
    uint32_t ntags = 0;
    while (o->have_threshold && ntags < K && probs[order[ntags]] >= o->threshold)
        ntags++;

    if (o->json) {
        fputs("{\"file\": ", stdout);
        json_string(stdout, file);
        fputs(", \"top\": [", stdout);
        for (uint32_t i = 0; i < c->k; i++) {
            printf("%s{\"index\": %u, \"label\": ", i ? ", " : "", order[i]);
            json_string(stdout, label_of(c, order[i]));
            printf(", \"score\": %.6g}", probs[order[i]]);
        }
        fputs("]", stdout);
        if (o->have_threshold) {
            fputs(", \"tags\": [", stdout);
            for (uint32_t i = 0; i < ntags; i++) {
                printf("%s{\"index\": %u, \"label\": ", i ? ", " : "", order[i]);
                json_string(stdout, label_of(c, order[i]));
                printf(", \"score\": %.6g}", probs[order[i]]);
            }
            fputs("]", stdout);
        }
        puts("}");
    } else if (o->csv) {
        csv_field(stdout, file);
        for (uint32_t i = 0; i < c->k; i++) {
            fputc(',', stdout);
            csv_field(stdout, label_of(c, order[i]));
            printf(",%u,%.6g", order[i], probs[order[i]]);
        }
        if (o->have_threshold) {
            /* the tags joined by ';', as one field */
            size_t len = 1;
            for (uint32_t i = 0; i < ntags; i++)
                len += strlen(label_of(c, order[i])) + 1;
            char *tags = malloc(len);
            if (tags) {
                tags[0] = 0;
                for (uint32_t i = 0; i < ntags; i++) {
                    if (i)
                        strcat(tags, ";");
                    strcat(tags, label_of(c, order[i]));
                }
                fputc(',', stdout);
                csv_field(stdout, tags);
                free(tags);
            }
        }
        fputc('\n', stdout);
    } else {
        printf("%s\n", file);
        for (uint32_t i = 0; i < c->k; i++)
            printf("  %6.2f%%  %-24s (%u)\n", 100.0 * probs[order[i]], label_of(c, order[i]), order[i]);
        if (o->have_threshold) {
            printf("  tags:");
            for (uint32_t i = 0; i < ntags; i++)
                printf("%s %s", i ? "," : "", label_of(c, order[i]));
            puts(ntags ? "" : " (none)");
        }
    }
}

static int cmd_classify(opts *o)
{
    if (o->help) {
        fputs(classify_help, stdout);
        return 0;
    }
    if (!o->model) {
        cli_error("classify: --model DIR is required (see vit-vk-cli classify --help)");
        return EXIT_USAGE;
    }
    if (o->nfiles == 0) {
        cli_error("classify: no images given (see vit-vk-cli classify --help)");
        return EXIT_USAGE;
    }
    if (o->json && o->csv) {
        cli_error("classify: --json and --csv exclude each other");
        return EXIT_USAGE;
    }
    int failed = 0;
    cli_file_list files = {0};
    cli_collect_images(o->files, o->nfiles, &files, &failed);
    if (files.count == 0) {
        if (!failed)
            cli_error("classify: no images given");
        cli_file_list_free(&files);
        return EXIT_FAIL;
    }
    session s = {0};
    int rc = session_open(&s, o, batch_for(o, files.count), false, false);
    if (rc == 0)
        rc = apply_backend(&s, o);
    if (rc == 0 && s.info.num_labels == 0) {
        cli_error("%s: the model has no classifier (%s); use embed or infer for its pooled output", o->model,
                  s.info.architecture);
        rc = EXIT_FAIL;
    }
    if (rc) {
        cli_file_list_free(&files);
        return session_close(&s, rc);
    }
    uint32_t K = s.info.num_labels;
    classify_out c = {.s = &s, .o = o, .k = o->top_k < K ? o->top_k : K};
    c.use_sigmoid = o->scores == 2 || (o->scores == 0 && cli_model_is_multi_label(o->model));
    c.probs = malloc((size_t)K * sizeof(float));
    c.order = malloc((size_t)K * sizeof(uint32_t));
    if (!c.probs || !c.order) {
        cli_error("out of memory");
        rc = EXIT_FAIL;
    }
    if (rc == 0 && o->csv)
        csv_header(&c);
    if (rc == 0)
        rc = run_images(&s, &files, batch_for(o, files.count), threads_for(o), "classify", true, false, classify_emit, &c,
                        &failed);
    free(c.probs);
    free(c.order);
    cli_file_list_free(&files);
    if (rc == 0 && failed)
        rc = EXIT_FAIL;
    return session_close(&s, rc);
}

/* ---- embed ------------------------------------------------------- */

typedef struct embed_out {
    uint32_t D;
    size_t n, cap;
    float *vectors;   /* n x D */
    const char **files;
    bool oom;
} embed_out;

static void embed_emit(void *user, const char *file, const float *logits, const float *pooled)
{
    (void)logits;
    embed_out *e = user;
    if (e->oom)
        return;
    if (e->n == e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 256;
        float *v = realloc(e->vectors, cap * e->D * sizeof *v);
        if (v)
            e->vectors = v;
        const char **f = v ? realloc(e->files, cap * sizeof *f) : NULL;
        if (f)
            e->files = f;
        if (!v || !f) {
            e->oom = true;
            return;
        }
        e->cap = cap;
    }
    memcpy(e->vectors + e->n * e->D, pooled, e->D * sizeof(float));
    e->files[e->n++] = file;
}

/* OUT.safetensors -> OUT.jsonl; any other name gets ".jsonl" appended. */
static char *sidecar_path(const char *out)
{
    size_t n = strlen(out);
    const char *ext = ".safetensors";
    size_t e = strlen(ext);
    size_t base = n >= e && strcmp(out + n - e, ext) == 0 ? n - e : n;
    char *p = malloc(base + 7);
    if (p) {
        memcpy(p, out, base);
        memcpy(p + base, ".jsonl", 7);
    }
    return p;
}

static int cmd_embed(opts *o)
{
    if (o->help) {
        fputs(embed_help, stdout);
        return 0;
    }
    if (!o->model || !o->output) {
        cli_error("embed: --model and --output are required (see vit-vk-cli embed --help)");
        return EXIT_USAGE;
    }
    if (o->nfiles == 0) {
        cli_error("embed: no images given (see vit-vk-cli embed --help)");
        return EXIT_USAGE;
    }
    char *side = sidecar_path(o->output);
    if (!side) {
        cli_error("out of memory");
        return EXIT_FAIL;
    }
    int failed = 0;
    cli_file_list files = {0};
    cli_collect_images(o->files, o->nfiles, &files, &failed);
    if (files.count == 0) {
        if (!failed)
            cli_error("embed: no images given");
        cli_file_list_free(&files);
        free(side);
        return EXIT_FAIL;
    }
    session s = {0};
    int rc = session_open(&s, o, batch_for(o, files.count), false, false);
    if (rc == 0)
        rc = apply_backend(&s, o);
    embed_out e = {.D = s.info.pooled_size};
    if (rc == 0)
        rc = run_images(&s, &files, batch_for(o, files.count), threads_for(o), "embed", false, true, embed_emit, &e,
                        &failed);
    if (rc == 0 && e.oom) {
        cli_error("out of memory for the embeddings of %zu images", e.n);
        rc = EXIT_FAIL;
    }
    if (rc == 0 && e.n == 0) { /* every file failed and was reported */
        if (!failed)
            cli_error("embed: no image could be read; %s not written", o->output);
        rc = EXIT_FAIL;
    }
    if (rc == 0 && o->normalize) {
        for (size_t i = 0; i < e.n; i++) {
            float *v = e.vectors + i * e.D;
            double ss = 0;
            for (uint32_t j = 0; j < e.D; j++)
                ss += (double)v[j] * v[j];
            double norm = sqrt(ss);
            double scale = 1.0 / (norm > 1e-12 ? norm : 1e-12); /* torch.nn.functional.normalize */
            for (uint32_t j = 0; j < e.D; j++)
                v[j] = (float)(v[j] * scale);
        }
    }
    if (rc == 0) {
        char err[1024];
        st_write_tensor t = {.name = "embeddings", .dtype = ST_F32, .rank = 2, .shape = {(int64_t)e.n, e.D},
                             .data = e.vectors};
        if (st_write_file(o->output, &t, 1, err, sizeof err) != VITVK_OK) {
            cli_error("%s", err);
            rc = EXIT_FAIL;
        }
    }
    if (rc == 0) {
        FILE *f = fopen(side, "w");
        if (!f) {
            cli_error("%s: %s", side, strerror(errno));
            rc = EXIT_FAIL;
        } else {
            for (size_t i = 0; i < e.n; i++) {
                fprintf(f, "{\"index\": %zu, \"file\": ", i);
                json_string(f, e.files[i]);
                fputs("}\n", f);
            }
            if (ferror(f) | (fclose(f) != 0)) {
                cli_error("%s: write failed", side);
                rc = EXIT_FAIL;
            }
        }
    }
    free(e.vectors);
    free(e.files);
    cli_file_list_free(&files);
    free(side);
    if (rc == 0 && failed)
        rc = EXIT_FAIL;
    return session_close(&s, rc);
}

/* ---- preprocess -------------------------------------------------- */

/* The images after the first of `preprocess`, on worker threads: image k
 * of the chunk into slot k of out, with its status and message. */
typedef struct prep_slots {
    const preproc_config *cfg;
    char *const *paths;
    const char *first; /* the image that set the size */
    float *out;
    size_t per;
    uint32_t W, H;
    vitvk_status *st;
    char (*err)[1024];
} prep_slots;

static void prep_one(void *user, size_t k)
{
    prep_slots *p = user;
    img_rgb8 img = {0};
    char *err = p->err[k];
    size_t es = sizeof p->err[k];
    vitvk_status st = img_decode_file(p->paths[k], VITVK_MAX_IMAGE_PIXELS, &img, err, es);
    if (st == VITVK_OK) {
        uint32_t w, h;
        preproc_output_size(p->cfg, img.width, img.height, &w, &h);
        if (w != p->W || h != p->H) {
            snprintf(err, es,
                     "%s: preprocesses to %ux%u but %s gave %ux%u; one tensor needs one size (use a config that "
                     "crops)",
                     p->paths[k], w, h, p->first, p->W, p->H);
            st = VITVK_ERR_UNSUPPORTED;
        } else {
            char e[512];
            st = preprocess_image(&img, p->cfg, p->out + p->per * k, e, sizeof e);
            if (st != VITVK_OK)
                snprintf(err, es, "%s: %s", p->paths[k], e);
        }
    }
    img_free(&img);
    p->st[k] = st;
}

static int cmd_preprocess(opts *o)
{
    if (o->help) {
        fputs(preprocess_help, stdout);
        return 0;
    }
    if (!o->model == !o->config) {
        cli_error("preprocess: give one of --model DIR or --config FILE (see vit-vk-cli preprocess --help)");
        return EXIT_USAGE;
    }
    if (!o->output) {
        cli_error("preprocess: --output is required (see vit-vk-cli preprocess --help)");
        return EXIT_USAGE;
    }
    if (o->nfiles == 0) {
        cli_error("preprocess: no images given (see vit-vk-cli preprocess --help)");
        return EXIT_USAGE;
    }
    char err[1024];
    preproc_config cfg;
    preproc_config_defaults(&cfg);
    vitvk_status st = o->model ? preproc_config_for_model_dir(o->model, &cfg, err, sizeof err)
                               : preproc_config_load_any(o->config, &cfg, err, sizeof err);
    if (st != VITVK_OK) {
        cli_error("%s", err);
        return EXIT_FAIL;
    }
    if (o->backend >= 0) {
        if (cfg.backend == PREPROC_BACKEND_TIMM) {
            cli_error("%s: a timm config is preprocessed as timm does; --backend does not apply",
                      o->model ? o->model : o->config);
            return EXIT_FAIL;
        }
        cfg.backend = o->backend;
    }
    int failed = 0;
    cli_file_list files = {0};
    cli_collect_images(o->files, o->nfiles, &files, &failed);
    if (failed || files.count == 0) {
        cli_file_list_free(&files);
        return EXIT_FAIL;
    }
    st_writer *wr = NULL;
    float *buf = NULL;
    uint32_t W = 0, H = 0;
    int rc = 0;
    /* The first image sets the tensor's size; the rest go through worker
     * threads a chunk at a time (memory: one chunk, whatever the count) and
     * are written in argument order. */
    img_rgb8 img = {0};
    st = img_decode_file(files.paths[0], VITVK_MAX_IMAGE_PIXELS, &img, err, sizeof err);
    if (st != VITVK_OK) {
        cli_error("%s", err);
        rc = EXIT_FAIL;
    } else {
        preproc_output_size(&cfg, img.width, img.height, &W, &H);
        st_write_tensor t = {.name = "pixel_values", .dtype = ST_F32, .rank = 4,
                             .shape = {(int64_t)files.count, 3, H, W}};
        if (st_writer_open(o->output, &t, 1, &wr, err, sizeof err) != VITVK_OK) {
            cli_error("%s", err);
            rc = EXIT_FAIL;
        }
    }
    unsigned threads = threads_for(o);
    size_t per = (size_t)3 * W * H, chunk = 4 * (size_t)threads;
    vitvk_status *sts = NULL;
    char(*errs)[1024] = NULL;
    if (rc == 0) {
        buf = malloc(per * chunk * sizeof *buf);
        sts = calloc(chunk, sizeof *sts);
        errs = calloc(chunk, sizeof *errs);
        if (!buf || !sts || !errs) {
            cli_error("out of memory for %zu %ux%u images", chunk, W, H);
            rc = EXIT_FAIL;
        }
    }
    if (rc == 0 && preprocess_image(&img, &cfg, buf, err, sizeof err) != VITVK_OK) {
        cli_error("%s: %s", files.paths[0], err);
        rc = EXIT_FAIL;
    }
    if (rc == 0 && st_writer_write(wr, buf, per * sizeof *buf, err, sizeof err) != VITVK_OK) {
        cli_error("%s", err);
        rc = EXIT_FAIL;
    }
    img_free(&img);
    for (size_t i = 1; rc == 0 && i < files.count; i += chunk) {
        size_t n = files.count - i < chunk ? files.count - i : chunk;
        prep_slots ps = {&cfg, files.paths + i, files.paths[0], buf, per, W, H, sts, errs};
        cli_parallel_for(n, threads, prep_one, &ps);
        for (size_t k = 0; rc == 0 && k < n; k++) {
            if (sts[k] != VITVK_OK) {
                cli_error("%s", errs[k]);
                rc = EXIT_FAIL;
            } else if (st_writer_write(wr, buf + per * k, per * sizeof *buf, err, sizeof err) != VITVK_OK) {
                cli_error("%s", err);
                rc = EXIT_FAIL;
            }
        }
    }
    free(sts);
    free(errs);
    if (rc == 0 && st_writer_finish(wr, err, sizeof err) != VITVK_OK) {
        cli_error("%s", err);
        rc = EXIT_FAIL;
    } else if (rc != 0) {
        st_writer_abort(wr);
    }
    free(buf);
    cli_file_list_free(&files);
    return rc;
}

/* ---- infer ------------------------------------------------------- */

static int cmd_infer(opts *o)
{
    if (o->help) {
        fputs(infer_help, stdout);
        return 0;
    }
    if (!o->model || !o->input || !o->output) {
        cli_error("infer: --model, --input and --output are required (see vit-vk-cli infer --help)");
        return EXIT_USAGE;
    }
    if (o->nfiles) {
        cli_error("infer: unexpected argument %s", o->files[0]);
        return EXIT_USAGE;
    }
    char err[1024];
    st_archive *in = NULL;
    vitvk_status st = st_open_file(o->input, &in, err, sizeof err);
    if (st != VITVK_OK) {
        cli_error("%s", err);
        return EXIT_FAIL;
    }
    const st_tensor *t;
    if (infer_input_find(in, o->input, o->input_name, &t, err, sizeof err) != VITVK_OK) {
        cli_error("%s", err);
        st_close(in);
        return EXIT_FAIL;
    }
    uint64_t N = (uint64_t)t->shape[0];
    uint32_t batch = N < MAX_BATCH ? (uint32_t)N : MAX_BATCH;
    session s = {0};
    int rc = session_open_attn(&s, o, batch, o->hidden_states, false, o->attentions);
    if (rc) {
        st_close(in);
        return session_close(&s, rc);
    }
    const vitvk_model_info *mi = &s.info;
    float *pixels = NULL;
    if (infer_input_pixels(t, o->input, mi->channels, mi->image_height, mi->image_width, &pixels, err,
                           sizeof err) != VITVK_OK) {
        cli_error("%s", err);
        st_close(in);
        return session_close(&s, EXIT_FAIL);
    }
    size_t per = (size_t)mi->channels * mi->image_height * mi->image_width;
    uint32_t K = mi->num_labels, D = mi->pooled_size;
    uint32_t L = vitvk_model_hidden_state_count(s.model) - 1; /* states 0..L */
    uint32_t AH = mi->num_heads, AT = mi->num_tokens;
    /* The largest output per image, so that no N x size product wraps. */
    uint64_t widest = K > D ? K : D;
    for (uint32_t l = 0; o->hidden_states && l <= L; l++) {
        uint32_t ht, hd;
        vitvk_model_hidden_state_shape(s.model, l, &ht, &hd);
        if ((uint64_t)ht * hd > widest)
            widest = (uint64_t)ht * hd;
    }
    if (o->attentions && (uint64_t)AH * AT > widest)
        widest = (uint64_t)AH * AT;
    if (N > SIZE_MAX / sizeof(float) / widest) {
        cli_error("%s: %llu images need more output memory than can be addressed", o->input,
                  (unsigned long long)N);
        free(pixels);
        st_close(in);
        return session_close(&s, EXIT_FAIL);
    }
    float *logits = K ? malloc((size_t)N * K * sizeof(float)) : NULL;
    float *pooled = malloc((size_t)N * D * sizeof(float));
    float **hidden = o->hidden_states ? calloc(L + 1, sizeof *hidden) : NULL;
    float *attn = o->attentions ? malloc((size_t)N * AH * AT * sizeof(float)) : NULL;
    bool oom = (K && !logits) || !pooled || (o->hidden_states && !hidden) || (o->attentions && !attn);
    for (uint32_t l = 0; !oom && hidden && l <= L; l++) {
        uint32_t ht, hd;
        vitvk_model_hidden_state_shape(s.model, l, &ht, &hd);
        oom = !(hidden[l] = malloc((size_t)N * ht * hd * sizeof(float)));
    }
    if (oom) {
        cli_error("out of memory for %llu images", (unsigned long long)N);
        rc = EXIT_FAIL;
    }
    for (uint64_t i = 0; rc == 0 && i < N; i += batch) {
        uint32_t n = (uint32_t)(N - i < batch ? N - i : batch);
        st = vitvk_plan_run(s.plan, pixels + per * i, n, logits ? logits + (size_t)K * i : NULL,
                            pooled + (size_t)D * i);
        for (uint32_t l = 0; st == VITVK_OK && hidden && l <= L; l++) {
            uint32_t ht, hd;
            vitvk_model_hidden_state_shape(s.model, l, &ht, &hd);
            st = vitvk_plan_read_hidden_state(s.plan, l, hidden[l] + (size_t)ht * hd * i);
        }
        if (st == VITVK_OK && attn)
            st = vitvk_plan_read_cls_attention(s.plan, attn + (size_t)AH * AT * i);
        if (st != VITVK_OK) {
            cli_error("%s", vitvk_context_last_error(s.ctx));
            rc = EXIT_FAIL;
        }
    }
    if (rc == 0) {
        size_t nt = 0;
        st_write_tensor *wt = calloc(L + 4, sizeof *wt);
        char(*names)[32] = calloc(L + 1, sizeof *names);
        if (!wt || !names) {
            cli_error("out of memory");
            rc = EXIT_FAIL;
        } else {
            if (K)
                wt[nt++] = (st_write_tensor){.name = "logits", .dtype = ST_F32, .rank = 2, .shape = {(int64_t)N, K},
                                             .data = logits};
            wt[nt++] = (st_write_tensor){.name = "pooled", .dtype = ST_F32, .rank = 2, .shape = {(int64_t)N, D},
                                         .data = pooled};
            for (uint32_t l = 0; hidden && l <= L; l++) {
                uint32_t ht, hd;
                vitvk_model_hidden_state_shape(s.model, l, &ht, &hd);
                snprintf(names[l], sizeof names[l], "hidden_states.%u", l);
                wt[nt++] = (st_write_tensor){.name = names[l], .dtype = ST_F32, .rank = 3,
                                             .shape = {(int64_t)N, ht, hd}, .data = hidden[l]};
            }
            if (attn)
                wt[nt++] = (st_write_tensor){.name = "attentions.last.cls", .dtype = ST_F32, .rank = 3,
                                             .shape = {(int64_t)N, AH, AT}, .data = attn};
            if (st_write_file(o->output, wt, nt, err, sizeof err) != VITVK_OK) {
                cli_error("%s", err);
                rc = EXIT_FAIL;
            }
        }
        free(wt);
        free(names);
    }
    for (uint32_t l = 0; hidden && l <= L; l++)
        free(hidden[l]);
    free(hidden);
    free(attn);
    free(pixels);
    free(logits);
    free(pooled);
    st_close(in);
    return session_close(&s, rc);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        cli_error("no command given (devices, classify, embed, preprocess, infer, bench, attention; see "
                  "vit-vk-cli --help)");
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        fputs(usage_text, stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0) {
        printf("vit-vk-cli %d.%d.%d\n", VITVK_VERSION_MAJOR, VITVK_VERSION_MINOR, VITVK_VERSION_PATCH);
        return 0;
    }
    if (strcmp(cmd, "attention") == 0)
        return cli_attention(argc - 2, argv + 2);
    if (strcmp(cmd, "bench") == 0)
        return cli_bench(argc - 2, argv + 2);
    opts o = {0};
    int rc = parse(argc - 2, argv + 2, cmd, &o);
    if (rc == 0) {
        if (strcmp(cmd, "devices") == 0)
            rc = cmd_devices(&o);
        else if (strcmp(cmd, "classify") == 0)
            rc = cmd_classify(&o);
        else if (strcmp(cmd, "embed") == 0)
            rc = cmd_embed(&o);
        else if (strcmp(cmd, "preprocess") == 0)
            rc = cmd_preprocess(&o);
        else if (strcmp(cmd, "infer") == 0)
            rc = cmd_infer(&o);
        else {
            cli_error("unknown command \"%s\" (commands: devices, classify, embed, preprocess, infer, bench, "
                      "attention)", cmd);
            rc = EXIT_USAGE;
        }
    }
    free(o.files);
    return rc;
}
