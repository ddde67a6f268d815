/* cli_files.c - turning IMAGE_OR_DIR arguments into a list of image files
 * (see cli_util.h), and small reads of a model directory's config.json. */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli_util.h"
#include "platform.h"

#define WALK_MAX_DEPTH 64 /* deeper trees are reported, not followed */

static bool list_add(cli_file_list *l, const char *path)
{
    if (l->count == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        char **np = realloc(l->paths, cap * sizeof *np);
        if (!np)
            return false;
        l->paths = np;
        l->cap = cap;
    }
    size_t n = strlen(path) + 1;
    char *copy = malloc(n);
    if (!copy)
        return false;
    memcpy(copy, path, n);
    l->paths[l->count++] = copy;
    return true;
}

void cli_file_list_free(cli_file_list *l)
{
    for (size_t i = 0; l && i < l->count; i++)
        free(l->paths[i]);
    if (l)
        free(l->paths);
    if (l)
        memset(l, 0, sizeof *l);
}

static bool has_image_extension(const char *name)
{
    const char *dot = strrchr(name, '.');
    if (!dot)
        return false;
    static const char *const exts[] = {".png", ".jpg", ".jpeg"};
    for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++) {
        const char *a = dot, *b = exts[i];
        while (*a && *b && (*a | 0x20) == *b)
            a++, b++;
        if (!*a && !*b)
            return true;
    }
    return false;
}

/* Returns false only when out of memory (already reported). */
static bool walk(const char *dir, int depth, cli_file_list *out, int *failures, size_t *found)
{
    if (depth > WALK_MAX_DEPTH) {
        cli_error("%s: more than %d directories deep; not followed", dir, WALK_MAX_DEPTH);
        (*failures)++;
        return true;
    }
    plat_dir_entry *e = NULL;
    size_t n = 0;
    char err[1024];
    vitvk_status st = plat_list_dir(dir, &e, &n, err, sizeof err);
    if (st != VITVK_OK) {
        cli_error("%s", err);
        (*failures)++;
        return st != VITVK_ERR_OUT_OF_HOST_MEMORY;
    }
    bool ok = true;
    char *path = NULL;
    for (size_t i = 0; ok && i < n; i++) {
        if (e[i].name[0] == '.')
            continue;
        size_t need = strlen(dir) + strlen(e[i].name) + 2;
        char *np = realloc(path, need);
        if (!np) {
            ok = false;
            break;
        }
        path = np;
        plat_path_join(dir, e[i].name, path, need);
        if (e[i].kind == PLAT_ENTRY_DIR) {
            if (!e[i].is_link)
                ok = walk(path, depth + 1, out, failures, found);
        } else if (has_image_extension(e[i].name)) {
            /* regular files, and names that no longer lead anywhere, which
             * the decoder then reports */
            ok = list_add(out, path);
            (*found)++;
        }
    }
    if (!ok)
        cli_error("out of memory listing %s", dir);
    free(path);
    plat_free_dir_list(e, n);
    return ok;
}

void cli_collect_images(const char *const *args, int nargs, cli_file_list *out, int *failures)
{
    for (int i = 0; i < nargs; i++) {
        if (plat_is_dir(args[i])) {
            size_t found = 0;
            if (!walk(args[i], 0, out, failures, &found))
                return;
            if (found == 0) {
                cli_error("%s: no PNG or JPEG files (*.png, *.jpg, *.jpeg) in this directory", args[i]);
                (*failures)++;
            }
        } else if (!list_add(out, args[i])) {
            cli_error("out of memory");
            (*failures)++;
            return;
        }
    }
}

bool cli_model_is_multi_label(const char *model_dir)
{
    char path[4096];
    if (!plat_path_join(model_dir, "config.json", path, sizeof path))
        return false;
    char *text = NULL;
    size_t len = 0;
    if (plat_read_text(path, &text, &len, (size_t)16 << 20, NULL, 0) != VITVK_OK)
        return false; /* the model load reports it */
    cJSON *root = cJSON_ParseWithLength(text, len);
    free(text);
    const cJSON *pt = cJSON_GetObjectItemCaseSensitive(root, "problem_type");
    bool multi = cJSON_IsString(pt) && strcmp(pt->valuestring, "multi_label_classification") == 0;
    cJSON_Delete(root);
    return multi;
}
