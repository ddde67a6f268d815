/* model.h - a loaded model: its configuration and its weights on the
 * device, in the layout the kernels read: Linear weights as PyTorch stores
 * them (N x K), query/key/value fused into one 3D x D matrix. */
#ifndef VITVK_MODEL_H
#define VITVK_MODEL_H

#include "image.h"
#include "internal.h"
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

typedef struct vit_config {
    char model_type[32];
    char architecture[96];
    uint32_t hidden, layers, heads, intermediate;
    uint32_t image_h, image_w, patch, channels;
    float eps;
    int act;        /* vk_act */
    char act_name[32];
    bool qkv_bias;
    uint32_t num_labels_cfg; /* from id2label */
    char **labels;  /* num_labels_cfg names (NULL entries allowed) */
} vit_config;

/* Parses config.json text into cfg (caller frees with vit_config_free). */
vitvk_status vit_config_parse(const char *json, size_t len, const char *path, vit_config *cfg, char *err,
                              size_t err_size);
void vit_config_free(vit_config *cfg);

typedef struct vit_layer_weights {
    vk_buffer *ln1_g, *ln1_b, *qkv_w, *qkv_b, *proj_w, *proj_b;
    vk_buffer *ln2_g, *ln2_b, *fc1_w, *fc1_b, *fc2_w, *fc2_b;
} vit_layer_weights;

struct vitvk_model {
    vitvk_context *ctx;
    vit_config cfg;
    preproc_config pre;
    bool fp16;
    uint32_t tokens, patches_per_image, num_labels;
    bool has_classifier, has_pooler;

    vk_arena weights;
    vk_buffer *patch_w, *patch_b, *cls, *pos;
    vit_layer_weights *layers;
    vk_buffer *lnf_g, *lnf_b, *head_w, *head_b, *pool_w, *pool_b;
};


#endif
