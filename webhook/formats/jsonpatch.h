/* jsonpatch: RFC 6902 JSON Patch on cJSON trees: building targeted operations, and a strict
 * applier with the semantics of evanphx/json-patch v4 Apply, which the API server uses.
 *
 * Ours rather than cJSON_Utils: Debian ships no cJSON_Utils, and its upstream applier decodes
 * "~1" wrongly (cJSON #820), which breaks every label or annotation key containing "/".
 *
 * Building: a patch is a cJSON array owned by the caller (cJSON_CreateArray), or, where it is
 * only printed and applied once, a jsonpatch_text. Paths are written with jsonpatch_path_*;
 * keys are escaped "~" -> "~0", "/" -> "~1" (RFC 6901 §3).
 *
 * Numbers: a cJSON_Raw node holding JSON number text (how the manifest reader keeps numbers
 * exact) is treated as a number by the applier's "test" comparison. */
#ifndef COCO_JSONPATCH_H
#define COCO_JSONPATCH_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "result.h"

/* Longest JSON Pointer we build or accept, and the most operations one patch may have. */
#define JSONPATCH_PATH_MAX 4096
#define JSONPATCH_OPS_MAX 100000
/* Bounds on what one jsonpatch_apply may build, so that no patch (copying the document into
 * itself, say) can exhaust memory or the stack: the result nests at most
 * JSONPATCH_DEPTH_MAX objects and arrays (cJSON's parse limit, so it prints and parses
 * back), and the values added, copied or moved deeper total at most JSONPATCH_NODES_MAX
 * nodes. */
#define JSONPATCH_DEPTH_MAX 1000
#define JSONPATCH_NODES_MAX 1000000

/* A JSON Pointer being built in a fixed buffer. Overflow is sticky and reported by
 * jsonpatch_path_ok(), so callers append without checking each step. */
typedef struct jsonpatch_path {
    char buf[JSONPATCH_PATH_MAX];
    size_t len;
    bool overflow;
} jsonpatch_path;

void jsonpatch_path_init(jsonpatch_path *p);                 /* the root, "" */
void jsonpatch_path_key(jsonpatch_path *p, const char *key); /* appends "/" + escaped key */
void jsonpatch_path_index(jsonpatch_path *p, size_t index);  /* appends "/<index>" */
void jsonpatch_path_append_end(jsonpatch_path *p);           /* appends "/-" */
bool jsonpatch_path_ok(const jsonpatch_path *p);
/* Truncates back to a length taken earlier from p->len, to reuse a prefix. */
void jsonpatch_path_truncate(jsonpatch_path *p, size_t len);

/* Appends {"op": op, "path": path, "value": value} to patch in O(1). Takes ownership of
 * value (may be NULL for "remove") even on failure. op is "add", "remove" or "replace".
 * The caller counts its operations and stops at JSONPATCH_OPS_MAX (the applier refuses
 * longer patches): counting here would walk the list on every append. */
CW_MUST_USE cw_result jsonpatch_append(cJSON *patch, const char *op, const jsonpatch_path *path,
                                       cJSON *value, cw_error *err);

/* Applies patch (a JSON array of operations) to *doc in place, strictly: add needs an
 * existing parent, remove/replace/move/copy/test need existing targets, array indexes must be
 * canonical and in range, unknown ops and malformed operations are errors. *doc may be
 * replaced (an operation on the root path ""). On failure *doc is left in an unspecified but
 * valid state (a tree the caller still owns and frees); callers that need the original keep a
 * copy. The error names the operation index and path. */
CW_MUST_USE cw_result jsonpatch_apply(cJSON **doc, const cJSON *patch, cw_error *err);

/* jsonpatch_apply, except that the value of each "add" and "replace" is moved out of patch
 * into *doc instead of being copied: the same checks, the same errors, the same result, but
 * no second copy of the values. patch is consumed either way: afterwards it is only fit for
 * cJSON_Delete (print it first when its text is wanted). */
CW_MUST_USE cw_result jsonpatch_apply_taking(cJSON **doc, cJSON *patch, cw_error *err);

/* Prints patch (an array) into *text (owned, free(); NUL-terminated, *len bytes), byte for
 * byte what cJSON_PrintUnformatted writes, but one operation at a time straight into a
 * buffer grown by realloc: cJSON's own print grows its buffer by copying behind custom
 * hooks and copies it once more at the end (about 3 times the text at its peak). Returns
 * CW_ELIMIT when the text would pass max bytes (or a member cannot be printed), CW_ENOMEM,
 * CW_EINVAL when patch is not an array. */
CW_MUST_USE cw_result jsonpatch_print(const cJSON *patch, size_t max, char **text, size_t *len);

/* A patch built as text: each operation is printed as it is appended (together, byte for
 * byte what cJSON_PrintUnformatted prints of the same operations as an array), and only what
 * applying it takes is kept, its op, path and value, with no cJSON object per operation; a
 * path printed without escapes is read back from the text, not copied. For the request path,
 * where the patch is answered as text and applied once, by the check. */
typedef struct jsonpatch_text jsonpatch_text;

/* An empty patch whose text may have at most max bytes (owned; jsonpatch_text_free), or NULL
 * when out of memory. */
jsonpatch_text *jsonpatch_text_new(size_t max);
/* Frees t and everything it holds, the values not applied included. NULL is a no-op. */
void jsonpatch_text_free(jsonpatch_text *t);
size_t jsonpatch_text_count(const jsonpatch_text *t);
/* jsonpatch_append for a text patch: takes ownership of value (NULL for "remove") even on
 * failure, keeps it until jsonpatch_text_apply or jsonpatch_text_free. CW_ELIMIT also when
 * the text would pass its max. */
CW_MUST_USE cw_result jsonpatch_text_append(jsonpatch_text *t, const char *op,
                                            const jsonpatch_path *path, cJSON *value,
                                            cw_error *err);
/* jsonpatch_apply_taking of the patch's operations: the same checks, errors and result. The
 * values go to *doc; apply once, before jsonpatch_text_take (the paths are read from the
 * text: CW_EINVAL after it). */
CW_MUST_USE cw_result jsonpatch_text_apply(cJSON **doc, jsonpatch_text *t, cw_error *err);
/* The text, "[...]" (owned by the caller, free(); *len bytes): CW_ELIMIT past max. Once,
 * after jsonpatch_text_apply when the patch is applied. */
CW_MUST_USE cw_result jsonpatch_text_take(jsonpatch_text *t, char **text, size_t *len);

/* RFC 6902 §4.6 equality of two JSON values (objects: same members regardless of order;
 * numbers by value, Raw number text included). */
bool jsonpatch_equal(const cJSON *a, const cJSON *b);

#endif
