#include "jsonutil.h"

#include <stdint.h>
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

static int key_cmp(const void *a, const void *b)
{
    const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
    return strcmp(x->string, y->string);
}

const char *jsonutil_find_duplicate_key(const cJSON *node, bool *oom)
{
    /* Recursion depth is bounded by the parsers' nesting limits (cJSON: 1000). */
    if (!cJSON_IsObject(node) && !cJSON_IsArray(node))
        return NULL;
    size_t count = 0;
    for (const cJSON *c = node->child; c; c = c->next) {
        count++;
        const char *dup = jsonutil_find_duplicate_key(c, oom);
        if (dup || *oom)
            return dup;
    }
    if (!cJSON_IsObject(node) || count < 2)
        return NULL;
    if (count <= PAIRWISE_MAX) {
        /* Compare a cheap signature first (length, first and last byte): most pairs differ
         * there, and strcmp is the cost. Hashing every key byte by byte cost more. */
        uint32_t hash[PAIRWISE_MAX];
        const cJSON *member[PAIRWISE_MAX];
        size_t n = 0;
        for (const cJSON *c = node->child; c; c = c->next, n++) {
            const char *k = c->string ? c->string : "";
            size_t len = strlen(k);
            hash[n] = (uint32_t)len << 16 ^ (uint32_t)(unsigned char)k[0] << 8 ^
                      (uint32_t)(unsigned char)(len ? k[len - 1] : 0);
            member[n] = c;
        }
        for (size_t a = 0; a < n; a++)
            for (size_t b = a + 1; b < n; b++)
                if (hash[a] == hash[b] && member[a]->string && member[b]->string &&
                    strcmp(member[a]->string, member[b]->string) == 0)
                    return member[a]->string;
        return NULL;
    }
    /* cJSON's allocator: on the request path this is the request's arena. */
    const cJSON **keys = cJSON_malloc(count * sizeof *keys);
    if (!keys) {
        *oom = true;
        return NULL;
    }
    size_t i = 0;
    for (const cJSON *c = node->child; c; c = c->next)
        keys[i++] = c;
    qsort(keys, count, sizeof *keys, key_cmp);
    const char *dup = NULL;
    for (i = 1; i < count && !dup; i++)
        if (strcmp(keys[i - 1]->string, keys[i]->string) == 0)
            dup = keys[i]->string;
    cJSON_free(keys);
    return dup;
}

cJSON *jsonutil_parse_exact(const char *text, size_t len)
{
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!root)
        return NULL;
    for (const char *p = end; p && p < text + len; p++) {
        if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') {
            cJSON_Delete(root);
            return NULL;
        }
    }
    return root;
}
