/* jsonutil: small read-only helpers over cJSON trees. */
#ifndef COCO_JSONUTIL_H
#define COCO_JSONUTIL_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

/* The member key of o, or NULL when o is not an object or has no such member. Borrowed. */
cJSON *jsonutil_member(const cJSON *o, const char *key);

/* The string value of member key of o, or NULL when absent or not a string. Borrowed. */
const char *jsonutil_string(const cJSON *o, const char *key);

/* True when v is absent (NULL) or JSON null. */
bool jsonutil_is_absent(const cJSON *v);

/* Finds an object in the tree that has two members with the same key, and returns that key
 * (borrowed), or NULL. The API server's decoder keeps the last of duplicate keys and cJSON
 * the first, so input with duplicates could be judged on a value the API server does not
 * use: callers reject it. O(n log n) per object; sets *oom (and returns NULL) when the sort
 * buffer cannot be allocated. */
const char *jsonutil_find_duplicate_key(const cJSON *root, bool *oom);

/* Parses exactly text[0..len) as one JSON value, white space after it allowed and anything
 * else refused. Returns an owned tree (cJSON_Delete), or NULL when malformed or out of memory
 * (cJSON does not tell them apart). */
cJSON *jsonutil_parse_exact(const char *text, size_t len);

#endif
