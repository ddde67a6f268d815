/* check_classify.c - compares `vit-vk-cli classify --json` output with
 * PyTorch's predictions for the digits test set (expected.json).
 *
 *   check_classify EXPECTED.json CLASSIFY_OUTPUT.jsonl MIN_AGREEMENT MIN_ACCURACY
 *
 * Prints the agreement with PyTorch's top-1 and the accuracy against the
 * true labels, and exits 1 when either is below its bound or when any
 * expected image is missing from the output. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    size_t r;
    while (buf && (r = fread(buf + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap) {
            char *nb = realloc(buf, cap * 2 + 1);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf)
        buf[n] = 0;
    *len = n;
    return buf;
}

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: check_classify EXPECTED.json OUTPUT.jsonl MIN_AGREEMENT MIN_ACCURACY\n");
        return 2;
    }
    double min_agree = atof(argv[3]), min_acc = atof(argv[4]);
    size_t len;
    char *text = slurp(argv[1], &len);
    cJSON *exp = text ? cJSON_ParseWithLength(text, len) : NULL;
    free(text);
    const cJSON *images = cJSON_GetObjectItemCaseSensitive(exp, "images");
    if (!cJSON_IsArray(images)) {
        fprintf(stderr, "check_classify: %s: no \"images\" array\n", argv[1]);
        return 1;
    }
    int n = cJSON_GetArraySize(images);
    int *pred = malloc((size_t)n * sizeof *pred);
    for (int i = 0; i < n; i++)
        pred[i] = -1;

    text = slurp(argv[2], &len);
    if (!text) {
        fprintf(stderr, "check_classify: cannot read %s\n", argv[2]);
        return 1;
    }
    int lines = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        cJSON *o = cJSON_Parse(line);
        const cJSON *file = cJSON_GetObjectItemCaseSensitive(o, "file");
        const cJSON *top = cJSON_GetObjectItemCaseSensitive(o, "top");
        const cJSON *first = cJSON_IsArray(top) ? cJSON_GetArrayItem(top, 0) : NULL;
        const cJSON *index = first ? cJSON_GetObjectItemCaseSensitive(first, "index") : NULL;
        const cJSON *score = first ? cJSON_GetObjectItemCaseSensitive(first, "score") : NULL;
        const cJSON *label = first ? cJSON_GetObjectItemCaseSensitive(first, "label") : NULL;
        if (!cJSON_IsString(file) || !cJSON_IsNumber(index) || !cJSON_IsNumber(score) || !cJSON_IsString(label) ||
            score->valuedouble < 0 || score->valuedouble > 1) {
            fprintf(stderr, "check_classify: malformed line: %s\n", line);
            return 1;
        }
        lines++;
        for (int i = 0; i < n; i++) {
            const cJSON *e = cJSON_GetArrayItem(images, i);
            const cJSON *ef = cJSON_GetObjectItemCaseSensitive(e, "file");
            if (cJSON_IsString(ef) && strcmp(ef->valuestring, base_name(file->valuestring)) == 0)
                pred[i] = index->valueint;
        }
        cJSON_Delete(o);
    }
    int agree = 0, correct = 0, missing = 0;
    for (int i = 0; i < n; i++) {
        const cJSON *e = cJSON_GetArrayItem(images, i);
        int label = cJSON_GetObjectItemCaseSensitive(e, "label")->valueint;
        int torch = cJSON_GetObjectItemCaseSensitive(e, "pytorch_pred")->valueint;
        if (pred[i] < 0) {
            missing++;
            continue;
        }
        agree += pred[i] == torch;
        correct += pred[i] == label;
    }
    double a = n ? (double)agree / n : 0, acc = n ? (double)correct / n : 0;
    printf("%d images, %d output lines: top-1 agrees with PyTorch on %d (%.4f), accuracy %.4f (PyTorch %.4f)\n", n,
           lines, agree, a, acc, cJSON_GetObjectItemCaseSensitive(exp, "accuracy_pytorch")->valuedouble);
    int rc = 0;
    if (missing) {
        fprintf(stderr, "check_classify: %d images missing from the output\n", missing);
        rc = 1;
    }
    if (a < min_agree || acc < min_acc) {
        fprintf(stderr, "check_classify: below the bounds (agreement >= %.4f, accuracy >= %.4f)\n", min_agree,
                min_acc);
        rc = 1;
    }
    free(pred);
    free(text);
    cJSON_Delete(exp);
    return rc;
}
