/* model_preprocess_backend.c - choosing the transformers backend whose
 * preprocessing arithmetic a loaded model reproduces (see vitvk.h). */
#include <string.h>

#include "model.h"

vitvk_status vitvk_model_set_preprocess_backend(vitvk_model *m, vitvk_preprocess_backend backend)
{
    if (!m)
        return VITVK_ERR_INVALID_ARGUMENT;
    if (backend != VITVK_PREPROCESS_TORCHVISION && backend != VITVK_PREPROCESS_PIL)
        return vk_fail(m->ctx, VITVK_ERR_INVALID_ARGUMENT, "vitvk_model_set_preprocess_backend: unknown backend %d",
                       (int)backend);
    if (m->pre.backend == PREPROC_BACKEND_TIMM || strcmp(m->pre.processor_type, "timm") == 0)
        return vk_fail(m->ctx, VITVK_ERR_UNSUPPORTED,
                       "a timm checkpoint is preprocessed as timm does; there is no transformers backend to choose");
    m->pre.backend = backend == VITVK_PREPROCESS_PIL ? PREPROC_BACKEND_PIL : PREPROC_BACKEND_TORCHVISION;
    return VITVK_OK;
}
