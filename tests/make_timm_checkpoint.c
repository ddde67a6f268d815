/* make_timm_checkpoint.c - rewrites a Hugging Face ViT checkpoint with
 * timm's tensor names (q, k and v fused into attn.qkv in that order) and a
 * timm config.json, so that the timm loader can be checked against the
 * transformers reference of the original weights.
 *
 *   make_timm_checkpoint HF_VIT_DIR OUT_DIR ARCHITECTURE
 *
 * Tensors keep their stored dtype (F32, F16 or BF16): the fused qkv takes
 * the bytes of q, k and v unchanged. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "platform.h"
#include "safetensors.h"

static st_archive *ar;
static st_write_tensor out[1024];
static size_t nout;
static char names[1024][128];
static void *owned[256];
static size_t nowned;

static void die(const char *msg)
{
    fprintf(stderr, "make_timm_checkpoint: %s\n", msg);
    exit(1);
}

static const st_tensor *get(const char *name)
{
    const st_tensor *t = st_find(ar, name);
    if (!t) {
        fprintf(stderr, "make_timm_checkpoint: no tensor %s\n", name);
        exit(1);
    }
    return t;
}

static void put(const char *name, const st_tensor *t)
{
    snprintf(names[nout], sizeof names[nout], "%s", name);
    st_write_tensor *w = &out[nout++];
    w->name = names[nout - 1];
    w->dtype = t->dtype;
    w->rank = t->rank;
    memcpy(w->shape, t->shape, sizeof w->shape);
    w->data = t->data;
}

static void rename_one(const char *from, const char *to) { put(to, get(from)); }

/* q, k, v (each [D, D] or [D]) concatenated along dimension 0. */
static void fuse(const char *base, const char *kind, const char *to)
{
    const st_tensor *p[3];
    const char *parts[3] = {"query", "key", "value"};
    char n[256];
    for (int i = 0; i < 3; i++) {
        snprintf(n, sizeof n, "%sattention.attention.%s.%s", base, parts[i], kind);
        p[i] = get(n);
    }
    uint8_t *buf = malloc(p[0]->nbytes * 3);
    if (!buf)
        die("out of memory");
    for (int i = 0; i < 3; i++)
        memcpy(buf + p[0]->nbytes * i, p[i]->data, p[0]->nbytes);
    owned[nowned++] = buf;
    st_tensor fused = *p[0];
    fused.shape[0] *= 3;
    fused.data = buf;
    put(to, &fused);
}

int main(int argc, char **argv)
{
    if (argc != 4)
        die("usage: make_timm_checkpoint HF_VIT_DIR OUT_DIR ARCHITECTURE");
    char err[1024], path[4096];
    if (st_open_dir(argv[1], &ar, err, sizeof err) != VITVK_OK)
        die(err);
    snprintf(path, sizeof path, "%s/config.json", argv[1]);
    char *text;
    size_t len;
    if (plat_read_text(path, &text, &len, 1 << 24, err, sizeof err) != VITVK_OK)
        die(err);
    cJSON *hf = cJSON_ParseWithLength(text, len);
    free(text);
    int layers = cJSON_GetObjectItem(hf, "num_hidden_layers")->valueint;
    int image = cJSON_GetObjectItem(hf, "image_size")->valueint;

    rename_one("vit.embeddings.cls_token", "cls_token");
    rename_one("vit.embeddings.position_embeddings", "pos_embed");
    rename_one("vit.embeddings.patch_embeddings.projection.weight", "patch_embed.proj.weight");
    rename_one("vit.embeddings.patch_embeddings.projection.bias", "patch_embed.proj.bias");
    static const char *const map[][2] = {
        {"layernorm_before.weight", "norm1.weight"},  {"layernorm_before.bias", "norm1.bias"},
        {"layernorm_after.weight", "norm2.weight"},   {"layernorm_after.bias", "norm2.bias"},
        {"attention.output.dense.weight", "attn.proj.weight"}, {"attention.output.dense.bias", "attn.proj.bias"},
        {"intermediate.dense.weight", "mlp.fc1.weight"}, {"intermediate.dense.bias", "mlp.fc1.bias"},
        {"output.dense.weight", "mlp.fc2.weight"},    {"output.dense.bias", "mlp.fc2.bias"},
    };
    for (int l = 0; l < layers; l++) {
        char base[64], from[256], to[256];
        snprintf(base, sizeof base, "vit.encoder.layer.%d.", l);
        for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
            snprintf(from, sizeof from, "%s%s", base, map[i][0]);
            snprintf(to, sizeof to, "blocks.%d.%s", l, map[i][1]);
            rename_one(from, to);
        }
        snprintf(to, sizeof to, "blocks.%d.attn.qkv.weight", l);
        fuse(base, "weight", to);
        snprintf(to, sizeof to, "blocks.%d.attn.qkv.bias", l);
        fuse(base, "bias", to);
    }
    rename_one("vit.layernorm.weight", "norm.weight");
    rename_one("vit.layernorm.bias", "norm.bias");
    rename_one("classifier.weight", "head.weight");
    rename_one("classifier.bias", "head.bias");
    int classes = (int)get("classifier.weight")->shape[0];

    mkdir(argv[2], 0755);
    snprintf(path, sizeof path, "%s/model.safetensors", argv[2]);
    if (st_write_file(path, out, nout, err, sizeof err) != VITVK_OK)
        die(err);
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "architecture", argv[3]);
    cJSON_AddNumberToObject(c, "num_classes", classes);
    cJSON_AddNumberToObject(c, "num_features", (double)get("vit.layernorm.weight")->shape[0]);
    cJSON_AddStringToObject(c, "global_pool", "token");
    cJSON *ma = cJSON_AddObjectToObject(c, "model_args");
    cJSON_AddNumberToObject(ma, "depth", layers);
    cJSON_AddNumberToObject(ma, "img_size", image);
    cJSON *pc = cJSON_AddObjectToObject(c, "pretrained_cfg");
    cJSON_AddStringToObject(pc, "interpolation", "bicubic");
    cJSON_AddNumberToObject(pc, "crop_pct", 0.9);
    char *json = cJSON_Print(c);
    snprintf(path, sizeof path, "%s/config.json", argv[2]);
    FILE *f = fopen(path, "w");
    if (!f || fputs(json, f) < 0 || fclose(f))
        die("cannot write config.json");
    free(json);
    cJSON_Delete(c);
    cJSON_Delete(hf);
    for (size_t i = 0; i < nowned; i++)
        free(owned[i]);
    st_close(ar);
    return 0;
}
