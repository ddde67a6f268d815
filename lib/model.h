/* model.h - a loaded model: its configuration and its weights on the
 * device, in the layout the kernels read: Linear weights as PyTorch stores
 * them (N x K), query/key/value fused into one 3D x D matrix. */
#ifndef VITVK_MODEL_H
#define VITVK_MODEL_H

#include "image.h"
#include "internal.h"
#include "ops/ops.h"
#include "safetensors.h"

/* Largest sizes accepted from config.json, checked before anything is
 * allocated (README, "Limits"). */
#define VIT_MAX_HIDDEN 16384u
#define VIT_MAX_LAYERS 512u
#define VIT_MAX_HEADS 256u
#define VIT_MAX_HEAD_DIM 256u
#define VIT_MAX_INTERMEDIATE 65536u
#define VIT_MAX_IMAGE 8192u
#define VIT_MAX_CHANNELS 16u
#define VIT_MAX_LABELS 1000000u
#define VIT_MAX_TOKENS 65536u

/* What the checkpoint is: the family decides tensor names and the parts
 * below; everything numeric comes from the config. */
typedef enum vit_family { FAM_VIT, FAM_DEIT, FAM_BEIT, FAM_TIMM, FAM_SWIN } vit_family;

/* How the pooled vector (what the classifier reads) is made. */
typedef enum vit_pool {
    POOL_CLS,       /* final LayerNorm of token 0 */
    POOL_MEAN,      /* mean of the patch tokens, then a LayerNorm (BEiT, timm "avg") */
    POOL_TWO_HEADS  /* DeiT distilled: heads on tokens 0 and 1, logits averaged */
} vit_pool;

typedef struct vit_config {
    char model_type[32];
    char architecture[96];
    vit_family family;
    bool cls_token, dist_token;
    uint32_t reg_tokens;
    int pos_mode;          /* vk_pos_mode: none, every token, patches only */
    bool rel_pos_layer;    /* BEiT: a relative position bias table per layer */
    bool rel_pos_shared;   /* BEiT: one table for all layers */
    vit_pool pool;
    bool qkv_bias_required;
    uint32_t hidden, layers, heads, intermediate;
    uint32_t image_h, image_w, patch, channels;
    float eps;
    int act;        /* vk_act */
    char act_name[32];
    bool qkv_bias;
    uint32_t num_labels_cfg; /* from id2label */
    char **labels;  /* num_labels_cfg names (NULL entries allowed) */
    /* The input size the checkpoint was trained at, when the model runs at
     * another (position embeddings are then resampled at load). */
    uint32_t trained_h, trained_w;
    /* Swin: hidden is the last stage's width, layers the number of blocks */
    uint32_t stages, embed_dim, window, depths[8], stage_heads[8];
    bool patch_norm;
    bool has_preproc;        /* timm: preprocessing came with the config */
    preproc_config preproc;
} vit_config;

/* Number of tokens before the patches ([CLS], distillation, registers). */
static inline uint32_t vit_prefix_tokens(const vit_config *c)
{
    return (c->cls_token ? 1u : 0u) + (c->dist_token ? 1u : 0u) + c->reg_tokens;
}

/* Parses config.json text into cfg (caller frees with vit_config_free):
 * transformers' vit, deit and beit configs, and timm's (architecture +
 * pretrained_cfg). */
vitvk_status vit_config_parse(const char *json, size_t len, const char *path, vit_config *cfg, char *err,
                              size_t err_size);
/* timm's config.json (timm_config.c); root is the parsed object. */
struct cJSON;
vitvk_status timm_config_parse(const struct cJSON *root, const char *path, vit_config *cfg, char *err,
                               size_t err_size);
void vit_config_free(vit_config *cfg);

typedef struct vit_layer_weights {
    vk_buffer *ln1_g, *ln1_b, *qkv_w, *qkv_b, *proj_w, *proj_b;
    vk_buffer *ln2_g, *ln2_b, *fc1_w, *fc1_b, *fc2_w, *fc2_b;
    vk_buffer *score_bias; /* [H][T][T] fp32, BEiT; NULL otherwise */
} vit_layer_weights;

/* Swin: one stage's geometry and weights (swin.c). */
typedef struct swin_block {
    vk_buffer *ln1_g, *ln1_b, *qkv_w, *qkv_b, *rel_bias, *rel_bias_lanes, *proj_w, *proj_b;
    vk_buffer *ln2_g, *ln2_b, *fc1_w, *fc1_b, *fc2_w, *fc2_b;
} swin_block;

typedef struct swin_stage {
    uint32_t H, W, C, heads, depth, window, shift, intermediate;
    swin_block *blocks;
    vk_buffer *merge_g, *merge_b, *merge_w; /* NULL on the last stage */
} swin_stage;

struct vitvk_model {
    vitvk_context *ctx;
    vit_config cfg;
    preproc_config pre;
    bool fp16;
    uint32_t tokens, patches_per_image, num_labels;
    bool has_classifier, has_pooler;

    vk_arena weights;
    vk_buffer *patch_w, *patch_b, *prefix, *pos;
    vit_layer_weights *layers;
    vk_buffer *shared_bias; /* BEiT shared relative position bias, [H][T][T] */
    vk_buffer *lnf_g, *lnf_b; /* final LayerNorm, or the mean-pool LayerNorm */
    vk_buffer *head_w, *head_b, *dist_w, *dist_b, *pool_w, *pool_b;
    struct swin_stage *swin; /* cfg.stages entries (swin.c) */
    vk_buffer *embed_norm_g, *embed_norm_b;
};


/* Loading state shared by the family loaders (model.c, swin.c). */
typedef struct loader {
    vitvk_model *m;
    st_archive *ar;
    const char *dir;
    char prefix[40]; /* "vit.", "deit.", "beit." or "" */
    char name[256];  /* tensor_name's result */
    float *tmp;      /* conversion scratch, grown as needed */
    size_t tmp_cap;
    void *out;       /* storage-precision scratch */
    size_t out_cap;
} loader;

/* Grows a scratch buffer to at least `need` bytes. */
vitvk_status ld_grow(vitvk_context *ctx, void **buf, size_t *cap, size_t need);
/* Looks up `name` and checks dtype and shape (dims[i] == 0: any). */
vitvk_status ld_find(loader *L, const char *name, int rank, const int64_t *dims, const st_tensor **out);
/* ld_find, then converts the tensor to floats in host. */
vitvk_status ld_read(loader *L, const char *name, int rank, const int64_t *dims, float *host);
/* Converts count floats to the model's precision and uploads them. */
vitvk_status ld_store(loader *L, vk_buffer *dst, const float *src, size_t count);
/* ld_store for a GEMM weight W[N][K] read with `kind`: in the layout op_gemm
 * reads it in on this context (row-major, or blocked by op_gemm_w_block,
 * which it records in dst->w_block). */
vitvk_status ld_store_w(loader *L, vk_buffer *dst, const float *src, uint32_t N, uint32_t K, vk_gemm_kind kind);

/* PyTorch bicubic resampling (align_corners=False) of an in_h x in_w grid
 * of D-vectors to out_h x out_w (interpolate.c). */
void pos_interpolate_bicubic(const float *src, uint32_t in_h, uint32_t in_w, float *dst, uint32_t out_h,
                             uint32_t out_w, uint32_t D);

/* PyTorch bilinear resampling (align_corners=False), same layout. */
void pos_interpolate_bilinear(const float *src, uint32_t in_h, uint32_t in_w, float *dst, uint32_t out_h,
                              uint32_t out_w, uint32_t D);

/* Swin (swin.c): config, buffers + weights, plan. */
vitvk_status swin_config_parse(const struct cJSON *root, const char *path, vit_config *cfg, char *err,
                               size_t err_size);
vitvk_status swin_load(loader *L);
void swin_free(vitvk_model *m);
uint64_t swin_flops(const vitvk_model *m);
#endif
