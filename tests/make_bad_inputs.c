/* make_bad_inputs.c - writes the broken files that tests/cli_bad_inputs.sh
 * feeds to vit-vk-cli: model directories with a bad config.json or a
 * damaged model.safetensors (each derived from a good model), broken images
 * and broken input tensors.
 *
 *   make_bad_inputs GOOD_MODEL_DIR OUT_DIR
 *
 * Each model case is a directory OUT_DIR/model-<case>; images and inputs are
 * files OUT_DIR/<case>.png / OUT_DIR/input-<case>.safetensors. */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void die(const char *what)
{
    fprintf(stderr, "make_bad_inputs: %s\n", what);
    exit(1);
}

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        die(path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)n + 1);
    if (!b || fread(b, 1, (size_t)n, f) != (size_t)n)
        die(path);
    fclose(f);
    b[n] = 0;
    *len = (size_t)n;
    return b;
}

static void spit(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f || (len && fwrite(data, 1, len, f) != len) || fclose(f))
        die(path);
}

static char out_dir[2048];
static unsigned char *config, *weights;
static size_t config_len, weights_len;

/* Makes OUT/model-<name>/ holding the given config and weights (NULL =
 * leave the file out). */
static void model_case(const char *name, const void *cfg, size_t cfg_len, const void *st, size_t st_len)
{
    char dir[2300], path[2400];
    snprintf(dir, sizeof dir, "%s/model-%s", out_dir, name);
    mkdir(dir, 0755);
    if (cfg) {
        snprintf(path, sizeof path, "%s/config.json", dir);
        spit(path, cfg, cfg_len);
    }
    if (st) {
        snprintf(path, sizeof path, "%s/model.safetensors", dir);
        spit(path, st, st_len);
    }
}

static void config_case(const char *name, const char *text)
{
    model_case(name, text, strlen(text), weights, weights_len);
}

/* Re-serialises the weights with an edited header. */
typedef void (*header_edit)(cJSON *header, size_t *data_len);

static void weights_case(const char *name, header_edit edit, long extra_bytes)
{
    uint64_t hlen = 0;
    for (int i = 0; i < 8; i++)
        hlen |= (uint64_t)weights[i] << (8 * i);
    cJSON *h = cJSON_ParseWithLength((const char *)weights + 8, (size_t)hlen);
    if (!h)
        die("good model header");
    size_t data_len = weights_len - 8 - (size_t)hlen;
    edit(h, &data_len);
    char *text = cJSON_PrintUnformatted(h);
    size_t tlen = strlen(text);
    size_t total = 8 + tlen + data_len + (extra_bytes > 0 ? (size_t)extra_bytes : 0);
    unsigned char *b = calloc(1, total);
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)((uint64_t)tlen >> (8 * i));
    memcpy(b + 8, text, tlen);
    size_t copy = data_len < weights_len - 8 - hlen ? data_len : weights_len - 8 - hlen;
    memcpy(b + 8 + tlen, weights + 8 + hlen, copy);
    if (extra_bytes < 0)
        total -= (size_t)(-extra_bytes);
    model_case(name, config, config_len, b, total);
    free(b);
    free(text);
    cJSON_Delete(h);
}

static cJSON *entry(cJSON *h, const char *name)
{
    cJSON *e = cJSON_GetObjectItemCaseSensitive(h, name);
    if (!e)
        die(name);
    return e;
}

static void set_offsets(cJSON *h, const char *name, double begin, double end)
{
    cJSON *e = entry(h, name);
    cJSON *off = cJSON_CreateArray();
    cJSON_AddItemToArray(off, cJSON_CreateNumber(begin));
    cJSON_AddItemToArray(off, cJSON_CreateNumber(end));
    cJSON_ReplaceItemInObjectCaseSensitive(e, "data_offsets", off);
}

static double offset(cJSON *h, const char *name, int which)
{
    return cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(entry(h, name), "data_offsets"), which)->valuedouble;
}

static void edit_nothing(cJSON *h, size_t *n) { (void)h, (void)n; }
static void edit_unknown_dtype(cJSON *h, size_t *n)
{
    (void)n;
    cJSON_ReplaceItemInObjectCaseSensitive(entry(h, "classifier.bias"), "dtype", cJSON_CreateString("F33"));
}
static void edit_wrong_shape(cJSON *h, size_t *n)
{
    (void)n;
    /* same byte count, shape the model cannot use */
    cJSON *shape = cJSON_CreateArray();
    cJSON_AddItemToArray(shape, cJSON_CreateNumber(5));
    cJSON_AddItemToArray(shape, cJSON_CreateNumber(2));
    cJSON_ReplaceItemInObjectCaseSensitive(entry(h, "classifier.bias"), "shape", shape);
}
static void edit_missing_tensor(cJSON *h, size_t *n)
{
    (void)n;
    cJSON *e = cJSON_DetachItemFromObjectCaseSensitive(h, "vit.layernorm.bias");
    cJSON_AddItemToObject(h, "vit.layernorm.bias_renamed", e);
}
static void edit_no_classifier(cJSON *h, size_t *n)
{
    (void)n;
    cJSON *e = cJSON_DetachItemFromObjectCaseSensitive(h, "classifier.weight");
    cJSON_AddItemToObject(h, "classifier.weight_renamed", e);
}
static void edit_out_of_range(cJSON *h, size_t *n)
{
    double b = offset(h, "classifier.bias", 0), e = offset(h, "classifier.bias", 1);
    set_offsets(h, "classifier.bias", b + (double)*n, e + (double)*n);
}
static void edit_overlap(cJSON *h, size_t *n)
{
    (void)n;
    double b = offset(h, "classifier.weight", 0);
    double e = offset(h, "classifier.bias", 1) - offset(h, "classifier.bias", 0);
    set_offsets(h, "classifier.bias", b, b + e);
}
static void edit_huge_shape(cJSON *h, size_t *n)
{
    (void)n;
    cJSON *shape = cJSON_CreateArray();
    cJSON_AddItemToArray(shape, cJSON_CreateNumber(4294967296.0));
    cJSON_AddItemToArray(shape, cJSON_CreateNumber(4294967296.0));
    cJSON_ReplaceItemInObjectCaseSensitive(entry(h, "classifier.bias"), "shape", shape);
}

/* A tiny input tensor file written by hand: header + data. */
static void input_case(const char *name, const char *dtype, const int *shape, int rank)
{
    size_t count = 1, esize = strcmp(dtype, "F32") == 0 || strcmp(dtype, "I32") == 0 ? 4 : 8;
    char header[512], dims[128] = "";
    for (int i = 0; i < rank; i++) {
        count *= (size_t)shape[i];
        snprintf(dims + strlen(dims), sizeof dims - strlen(dims), "%s%d", i ? "," : "", shape[i]);
    }
    int hl = snprintf(header, sizeof header,
                      "{\"pixel_values\":{\"dtype\":\"%s\",\"shape\":[%s],\"data_offsets\":[0,%zu]}}", dtype, dims,
                      count * esize);
    while (hl % 8)
        header[hl++] = ' ';
    size_t total = 8 + (size_t)hl + count * esize;
    unsigned char *b = calloc(1, total);
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)((uint64_t)hl >> (8 * i));
    memcpy(b + 8, header, (size_t)hl);
    char path[2300];
    snprintf(path, sizeof path, "%s/input-%s.safetensors", out_dir, name);
    spit(path, b, total);
    free(b);
}

int main(int argc, char **argv)
{
    if (argc != 3)
        die("usage: make_bad_inputs GOOD_MODEL_DIR OUT_DIR");
    snprintf(out_dir, sizeof out_dir, "%s", argv[2]);
    mkdir(out_dir, 0755);
    char path[2300];
    snprintf(path, sizeof path, "%s/config.json", argv[1]);
    config = slurp(path, &config_len);
    snprintf(path, sizeof path, "%s/model.safetensors", argv[1]);
    weights = slurp(path, &weights_len);

    /* config.json */
    model_case("no-config", NULL, 0, weights, weights_len);
    config_case("config-not-json", "{\"model_type\": \"vit\", \"hidden_size\": ");
    config_case("config-not-object", "[1, 2, 3]");
    config_case("config-timm-unsupported-arch", "{\"architecture\": \"resnet50\", \"num_classes\": 10}");
    config_case("config-swin-bad-depths",
                "{\"model_type\": \"swin\", \"image_size\": 32, \"patch_size\": 4, \"embed_dim\": 8, "
                "\"depths\": [2, -1], \"num_heads\": [1, 2], \"window_size\": 2}");
    cJSON *c = cJSON_ParseWithLength((const char *)config, config_len);
    cJSON_DeleteItemFromObjectCaseSensitive(c, "hidden_size");
    char *t = cJSON_Print(c);
    config_case("config-missing-field", t);
    free(t);
    cJSON_Delete(c);
    c = cJSON_ParseWithLength((const char *)config, config_len);
    cJSON_ReplaceItemInObjectCaseSensitive(c, "model_type", cJSON_CreateString("bert"));
    t = cJSON_Print(c);
    config_case("config-unsupported-type", t);
    free(t);
    cJSON_Delete(c);
    c = cJSON_ParseWithLength((const char *)config, config_len);
    cJSON_ReplaceItemInObjectCaseSensitive(c, "hidden_size", cJSON_CreateNumber(1e12));
    t = cJSON_Print(c);
    config_case("config-huge-hidden", t);
    free(t);
    cJSON_Delete(c);
    c = cJSON_ParseWithLength((const char *)config, config_len);
    cJSON_ReplaceItemInObjectCaseSensitive(c, "hidden_size", cJSON_CreateNumber(100)); /* shapes disagree */
    t = cJSON_Print(c);
    config_case("config-wrong-hidden", t);
    free(t);
    cJSON_Delete(c);

    /* a value with a newline must still give a one-line message (fuzz_config) */
    c = cJSON_ParseWithLength((const char *)config, config_len);
    cJSON_ReplaceItemInObjectCaseSensitive(c, "hidden_act", cJSON_CreateString("gelu\nsecond line"));
    t = cJSON_Print(c);
    config_case("config-act-newline", t);
    free(t);
    cJSON_Delete(c);
    /* ... and so must the loader's, which quotes the architecture when the
     * classifier it implies is missing */
    weights_case("config-arch-newline", edit_no_classifier, 0);
    c = cJSON_ParseWithLength((const char *)config, config_len);
    cJSON_ReplaceItemInObjectCaseSensitive(c, "architectures",
                                           cJSON_CreateStringArray((const char *[]){"X\nForImageClassification"}, 1));
    t = cJSON_Print(c);
    snprintf(path, sizeof path, "%s/model-config-arch-newline/config.json", out_dir);
    spit(path, t, strlen(t));
    free(t);
    cJSON_Delete(c);

    /* model.safetensors */
    model_case("no-weights", config, config_len, NULL, 0);
    model_case("st-empty", config, config_len, "", 0);
    model_case("st-4-bytes", config, config_len, weights, 4);
    unsigned char past[16] = {0xff, 0xff, 0xff, 0x0f, 0, 0, 0, 0, '{', '}'};
    model_case("st-header-past-eof", config, config_len, past, sizeof past);
    unsigned char notjson[24] = {16, 0, 0, 0, 0, 0, 0, 0, 'n', 'o', 't', ' ', 'j', 's', 'o', 'n',
                                 '!', '!', '!', '!', '!', '!', '!', '!'};
    model_case("st-header-not-json", config, config_len, notjson, sizeof notjson);
    model_case("st-truncated-data", config, config_len, weights, weights_len - 1000);
    weights_case("st-trailing-bytes", edit_nothing, 64);
    weights_case("st-unknown-dtype", edit_unknown_dtype, 0);
    weights_case("st-wrong-shape", edit_wrong_shape, 0);
    weights_case("st-missing-tensor", edit_missing_tensor, 0);
    weights_case("st-offset-out-of-range", edit_out_of_range, 0);
    weights_case("st-overlap", edit_overlap, 0);
    weights_case("st-huge-shape", edit_huge_shape, 0);

    /* images */
    snprintf(path, sizeof path, "%s/text.png", out_dir);
    spit(path, "this is not an image\n", 21);
    snprintf(path, sizeof path, "%s/empty.png", out_dir);
    spit(path, "", 0);
    static const unsigned char png_head[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D',
                                             'R', 0, 0, 0, 32, 0, 0, 0, 32, 8, 2, 0, 0, 0};
    snprintf(path, sizeof path, "%s/truncated.png", out_dir);
    spit(path, png_head, sizeof png_head);
    static const unsigned char jpeg_head[] = {0xff, 0xd8, 0xff, 0xe0, 0, 16, 'J', 'F', 'I', 'F', 0};
    snprintf(path, sizeof path, "%s/truncated.jpg", out_dir);
    spit(path, jpeg_head, sizeof jpeg_head);

    /* infer inputs */
    input_case("rank3", "F32", (const int[]){3, 32, 32}, 3);
    input_case("wrong-size", "F32", (const int[]){1, 3, 16, 16}, 4);
    input_case("wrong-channels", "F32", (const int[]){1, 1, 32, 32}, 4);
    input_case("int64", "I64", (const int[]){1, 3, 32, 32}, 4);
    input_case("empty-batch", "F32", (const int[]){0, 3, 32, 32}, 4);
    free(config);
    free(weights);
    return 0;
}
