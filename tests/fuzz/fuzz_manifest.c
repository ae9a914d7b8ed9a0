/* Fuzz target for webhook/formats/manifest*.c: read a stream, write every document as YAML, read
 * that again: it must give the same documents (numbers compared as the reader resolves them,
 * since JSON input keeps number text such as 1.0 that YAML reads as 1), and the JSON writer
 * must not fail either. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "manifest.h"

/* The text a YAML reader makes of a number's text: "1.0" -> "1" (not idempotent: "-0e5"
 * -> "-0" -> "0", so both the text and its canonical form are compared). */
static char *canonical_number(const char *text)
{
    manifest_docs d;
    char *out = NULL;
    if (manifest_read("number", text, strlen(text), &d, NULL) != CW_OK)
        return NULL;
    if (d.count == 1 && cJSON_IsRaw(d.docs[0]))
        out = strdup(d.docs[0]->valuestring);
    manifest_docs_free(&d);
    return out;
}

static int same(const cJSON *a, const cJSON *b)
{
    if (cJSON_IsRaw(a) && cJSON_IsRaw(b)) {
        if (strcmp(a->valuestring, b->valuestring) == 0)
            return 1;
        char *ca = canonical_number(a->valuestring), *cb = canonical_number(b->valuestring);
        int eq = ca && (strcmp(ca, b->valuestring) == 0 || (cb && strcmp(ca, cb) == 0));
        free(ca);
        free(cb);
        return eq;
    }
    if ((a->type & 0xff) != (b->type & 0xff))
        return 0;
    if ((a->string == NULL) != (b->string == NULL) ||
        (a->string && strcmp(a->string, b->string) != 0))
        return 0;
    if (cJSON_IsString(a))
        return strcmp(a->valuestring, b->valuestring) == 0;
    const cJSON *x = a->child, *y = b->child;
    for (; x && y; x = x->next, y = y->next)
        if (!same(x, y))
            return 0;
    return x == NULL && y == NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    manifest_docs first, second;
    cw_error err;
    char *text = NULL;
    size_t len = 0;
    if (manifest_read("fuzz", (const char *)data, size, &first, &err) != CW_OK)
        return 0;
    FILE *out = open_memstream(&text, &len);
    if (!out)
        abort();
    for (size_t i = 0; i < first.count; i++) {
        if (manifest_write_yaml(out, first.docs[i], i == 0, &err) != CW_OK) {
            fprintf(stderr, "write_yaml failed: %s\n", err.msg);
            abort();
        }
    }
    fclose(out);
    if (manifest_read("fuzz-again", text, len, &second, &err) != CW_OK) {
        fprintf(stderr, "re-read failed: %s\n--- written:\n%s\n", err.msg, text);
        abort();
    }
    if (second.count != first.count) {
        fprintf(stderr, "document count %zu became %zu\n--- written:\n%s\n", first.count,
                second.count, text);
        abort();
    }
    for (size_t i = 0; i < first.count; i++) {
        if (!same(first.docs[i], second.docs[i])) {
            fprintf(stderr, "document %zu changed\n--- written:\n%s\n", i, text);
            abort();
        }
    }
    free(text);
    text = NULL;
    out = open_memstream(&text, &len);
    if (!out)
        abort();
    for (size_t i = 0; i < first.count; i++) {
        if (manifest_write_json(out, first.docs[i], &err) != CW_OK) {
            fprintf(stderr, "write_json failed: %s\n", err.msg);
            abort();
        }
    }
    fclose(out);
    free(text);
    manifest_docs_free(&first);
    manifest_docs_free(&second);
    return 0;
}
