/* random_model.h - random-weight Hugging Face checkpoints (config.json +
 * model.safetensors) of the architectures known by name, shared by
 * vit-vk-mkmodel and `vit-vk-cli bench --arch`.
 *
 * Every tensor has its own generator seeded from the seed and the tensor's
 * name: the same configuration gives the same bytes, and changing one
 * tensor's shape leaves the others' values alone. Matrices, embeddings and
 * biases are N(0, 0.02), LayerNorm weights 1 + N(0, 0.1), so nothing sits
 * at its default value. Weights are streamed to the file in chunks, so even
 * ViT-H needs only a few hundred kilobytes of memory. */
#ifndef VITVK_RANDOM_MODEL_H
#define VITVK_RANDOM_MODEL_H
#include <stddef.h>
#include <stdint.h>

#include "safetensors.h"
#include "vitvk.h"

#define RM_MAX_STAGES 8

typedef enum rm_family {
    RM_VIT,  /* ViTForImageClassification */
    RM_DEIT, /* DeiTForImageClassificationWithTeacher: [CLS] and distillation heads */
    RM_SWIN  /* SwinForImageClassification */
} rm_family;

typedef struct rm_config {
    const char *arch; /* the preset's name */
    rm_family family;
    /* ViT and DeiT: width, layers, heads, MLP width. Swin: hidden is
     * embed_dim (stage s is hidden * 2^s wide, its MLP 4x that) and layers,
     * heads and inter are unused: the stage lists below say it. */
    uint32_t hidden, layers, heads, inter;
    uint32_t stages, depths[RM_MAX_STAGES], stage_heads[RM_MAX_STAGES], window;
    uint32_t patch, image, channels, labels; /* labels 0: no classifier (ViT only) */
    st_dtype dtype;                          /* F32, F16 or BF16 */
    int qkv_bias;
    double eps;
    const char *act; /* hidden_act: a plain identifier such as gelu */
    uint64_t seed;
} rm_config;

/* The preset names, for usage messages: "vit-tiny, vit-small, ...". */
extern const char rm_preset_names[];

/* Fills *out with preset `name` (image 224, 3 channels, 1000 labels, F32,
 * qkv bias, gelu, seed 0; eps 1e-12, Swin 1e-5). Returns 0, or -1 when
 * there is no such preset (*out untouched). */
int rm_preset(const char *name, rm_config *out);

/* Checks that the shape is one the loader accepts (image a multiple of the
 * patch, widths multiples of the heads, ...). VITVK_ERR_INVALID_ARGUMENT
 * with a one-line message in err otherwise. */
vitvk_status rm_check(const rm_config *c, char *err, size_t err_size);

/* Writes dir/config.json and dir/model.safetensors; dir must exist. On
 * success *tensors and *weight_bytes (each may be NULL) receive the tensor
 * count and the size of the tensor data. On failure err has one line and
 * neither file is left behind. */
vitvk_status rm_write(const rm_config *c, const char *dir, size_t *tensors, uint64_t *weight_bytes, char *err,
                      size_t err_size);

/* rm_write into a new private directory (mode 0700, under $TMPDIR, else
 * /tmp), whose path `dir` (dir_size >= 64) receives. The caller must call
 * rm_remove(dir) once it is done with the files, also when this fails
 * after creating the directory (dir is then non-empty; "" when nothing
 * was created). */
vitvk_status rm_write_temp(const rm_config *c, char *dir, size_t dir_size, char *err, size_t err_size);

/* Removes the files rm_write writes and the directory itself; "" or a
 * missing file is fine. */
void rm_remove(const char *dir);
#endif
