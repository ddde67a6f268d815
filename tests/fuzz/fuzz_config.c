/* fuzz_config.c - config.json parsing (model.h). Every parser of a model
 * family is in `parsers`; each input goes through all of them, and what a
 * parser accepts must satisfy that family's invariants (the limits in
 * model.h, README "Limits"), since the loader sizes buffers from them.
 *
 * Adding a family: vit_config_parse dispatches on model_type, so its
 * configs are already fuzzed through it; add seed configs to
 * tests/fuzz/corpus/config/, its keys to config.dict, and its invariants to
 * check_family(). A parser with its own entry point goes into `parsers`. */
#include <math.h>

#include "fuzz_common.h"
#include "model.h"

typedef vitvk_status (*config_parser)(const char *json, size_t len, const char *path,
                                      vit_config *cfg, char *err, size_t err_size);

static const struct {
    const char *name;
    config_parser parse;
} parsers[] = {
    {"vit_config_parse", vit_config_parse},
};

/* What holds for a plain ViT (model_type "vit"). */
static void check_vit(const vit_config *c)
{
    FUZZ_ASSERT(c->hidden >= 1 && c->hidden <= VIT_MAX_HIDDEN);
    FUZZ_ASSERT(c->layers >= 1 && c->layers <= VIT_MAX_LAYERS);
    FUZZ_ASSERT(c->heads >= 1 && c->heads <= VIT_MAX_HEADS);
    FUZZ_ASSERT(c->hidden % c->heads == 0 && c->hidden / c->heads <= VIT_MAX_HEAD_DIM);
    FUZZ_ASSERT(c->intermediate >= 1 && c->intermediate <= VIT_MAX_INTERMEDIATE);
    FUZZ_ASSERT(c->image_h >= 1 && c->image_h <= VIT_MAX_IMAGE);
    FUZZ_ASSERT(c->image_w >= 1 && c->image_w <= VIT_MAX_IMAGE);
    FUZZ_ASSERT(c->patch >= 1 && c->patch <= c->image_h && c->patch <= c->image_w);
    FUZZ_ASSERT(c->channels >= 1 && c->channels <= VIT_MAX_CHANNELS);
    uint64_t tokens = (uint64_t)(c->image_h / c->patch) * (c->image_w / c->patch) + 1;
    FUZZ_ASSERT(tokens <= VIT_MAX_TOKENS);
}

static void check_family(const vit_config *c)
{
    if (strcmp(c->model_type, "vit") == 0)
        check_vit(c);
}

/* What holds for every family. */
static void check_common(const vit_config *c)
{
    FUZZ_ASSERT(memchr(c->model_type, '\0', sizeof c->model_type) != NULL);
    FUZZ_ASSERT(memchr(c->architecture, '\0', sizeof c->architecture) != NULL);
    FUZZ_ASSERT(memchr(c->act_name, '\0', sizeof c->act_name) != NULL);
    FUZZ_ASSERT(c->act >= 0);
    FUZZ_ASSERT(isfinite(c->eps) && c->eps >= 0.0f && c->eps < 1.0f);
    FUZZ_ASSERT(c->num_labels_cfg <= VIT_MAX_LABELS);
    FUZZ_ASSERT(c->num_labels_cfg == 0 || c->labels != NULL);
    unsigned sum = 0;
    for (uint32_t i = 0; i < c->num_labels_cfg; i++)
        if (c->labels[i])
            sum += (unsigned)strlen(c->labels[i]);
    fuzz_consume(sum);
    check_family(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *json = (const char *)fuzz_guarded_copy(data, size);
    for (size_t p = 0; p < sizeof parsers / sizeof parsers[0]; p++) {
        vit_config cfg;
        memset(&cfg, 0xa5, sizeof cfg);
        char err[512];
        memset(err, 'x', sizeof err);
        vitvk_status st = parsers[p].parse(json, size, "config.json", &cfg, err, sizeof err);
        fuzz_check_message(st, err, sizeof err);
        if (st == VITVK_OK)
            check_common(&cfg);
        else /* a failed parse leaves nothing to free */
            FUZZ_ASSERT(cfg.labels == NULL && cfg.num_labels_cfg == 0);
        vit_config_free(&cfg);
        vit_config_free(&cfg); /* a second free is harmless */
    }
    return 0;
}
