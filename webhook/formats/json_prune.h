/* json_prune: a cJSON parse that keeps only the members a table of rules asks for.
 *
 * An AdmissionReview carries much the webhook never reads: the old object of an UPDATE,
 * managedFields, the image, command, environment and probes of every container. cJSON's tree
 * costs about six times the text (a 64-byte node per value), so a large review's memory went
 * mostly to values nobody looks at. This parse walks the levels the rules name itself and hands
 * every value it keeps to cJSON (cJSON_ParseWithLengthOpts at that point of the text): what is
 * kept is exactly what cJSON makes of it. A dropped member's value is read the way cJSON's
 * parser reads it (its grammar, as lax or strict as cJSON is: numbers by strtod, \u escapes
 * by parse_hex4, its nesting limit) without building anything, so that the text is refused
 * exactly when cJSON refuses it and a dropped value costs no memory however dense it is; its
 * duplicate keys are still reported.
 *
 * Differences from cJSON_ParseWithLengthOpts(text, len, end, 0), by design:
 *  - the tree lacks the dropped members (nothing else: order, keys and values are cJSON's);
 *  - cJSON's nesting limit (1000) counts from each kept or dropped value, so a document may
 *    nest deeper than cJSON takes by the levels the rules walk (at most
 *    JSON_PRUNE_DEPTH_MAX).
 * Duplicate keys: found in dropped values and among the keys of the objects the rules walk
 * (dropped ones included); those of kept values are left to jsonutil_find_duplicate_key on the
 * tree, as for a plain cJSON parse. */
#ifndef COCO_JSON_PRUNE_H
#define COCO_JSON_PRUNE_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSON_PRUNE_DEPTH_MAX 16 /* levels the rules may walk */
#define JSON_PRUNE_DUP_MAX 64   /* bytes of a duplicate key reported */

typedef enum json_prune_action {
    JSON_PRUNE_KEEP,  /* parsed by cJSON and kept whole */
    JSON_PRUNE_DROP,  /* parsed by cJSON to check it, then released */
    JSON_PRUNE_ENTER, /* walked with the rules of another state */
} json_prune_action;

typedef struct json_prune_member {
    const char *key; /* as decoded */
    json_prune_action action;
    uint8_t state; /* JSON_PRUNE_ENTER: the state index for the value */
} json_prune_member;

/* How one value is walked. An object: each listed key by its rule, any other by other (KEEP
 * or DROP). An array (element_state set): each element with that state. A value of another
 * type than the state expects is kept whole (the reader then judges it). */
typedef struct json_prune_state {
    const json_prune_member *members;
    size_t count;
    json_prune_action other;
    int element_state; /* >= 0: the value is an array, its elements in this state */
} json_prune_state;

/* The table; state 0 is the root's. */
typedef struct json_prune_rules {
    const json_prune_state *states;
    size_t count;
} json_prune_rules;

typedef struct json_prune_result {
    const char *end; /* after the root value, as cJSON's return_parse_end */
    /* The first duplicate key found (see above), cut to JSON_PRUNE_DUP_MAX bytes, or "". */
    char duplicate[JSON_PRUNE_DUP_MAX + 1];
    size_t dropped; /* members dropped, for tests and benchmarks */
    bool oom;       /* NULL was returned because memory ran out (of this module's own) */
} json_prune_result;

/* Parses text[0..len) by rules. Returns the tree (owned: cJSON_Delete), or NULL when the text
 * is not JSON or memory ran out (as cJSON; on the request path arena_alloc_failed() tells).
 * Trailing bytes are the caller's to check from out->end. */
cJSON *json_prune_parse(const char *text, size_t len, const json_prune_rules *rules,
                        json_prune_result *out);

#endif
