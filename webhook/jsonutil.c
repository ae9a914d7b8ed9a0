#include "jsonutil.h"

#include <stdlib.h>
#include <string.h>

/* Objects with more members than this are checked by sorting instead of pairwise. */
#define PAIRWISE_MAX 16

cJSON *jsonutil_member(const cJSON *o, const char *key)
{
    if (!cJSON_IsObject(o))
        return NULL;
    return cJSON_GetObjectItemCaseSensitive(o, key);
}

const char *jsonutil_string(const cJSON *o, const char *key)
{
    const cJSON *v = jsonutil_member(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

bool jsonutil_is_absent(const cJSON *v)
{
    return v == NULL || cJSON_IsNull(v);
}

static int compare_keys(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static const char *duplicate_in_object(const cJSON *o)
{
    size_t n = 0;
    for (const cJSON *c = o->child; c; c = c->next)
        n++;
    const char **keys = n > PAIRWISE_MAX ? malloc(n * sizeof *keys) : NULL;
    if (!keys) {
        /* Small objects, or no memory for the sort: compare pairwise. */
        for (const cJSON *a = o->child; a; a = a->next)
            for (const cJSON *b = a->next; b; b = b->next)
                if (a->string && b->string && strcmp(a->string, b->string) == 0)
                    return a->string;
        return NULL;
    }
    size_t i = 0;
    for (const cJSON *c = o->child; c; c = c->next)
        keys[i++] = c->string ? c->string : "";
    qsort(keys, n, sizeof *keys, compare_keys);
    const char *dup = NULL;
    for (i = 1; i < n && !dup; i++)
        if (strcmp(keys[i - 1], keys[i]) == 0)
            dup = keys[i];
    free(keys);
    return dup;
}

const char *jsonutil_find_duplicate_key(const cJSON *root)
{
    /* Recursion depth is bounded by the parsers' nesting limits (cJSON: 1000). */
    if (!cJSON_IsObject(root) && !cJSON_IsArray(root))
        return NULL;
    if (cJSON_IsObject(root) && root->child) {
        const char *dup = duplicate_in_object(root);
        if (dup)
            return dup;
    }
    for (const cJSON *c = root->child; c; c = c->next) {
        const char *dup = jsonutil_find_duplicate_key(c);
        if (dup)
            return dup;
    }
    return NULL;
}
