/* manifest: reading and writing Kubernetes manifests as cJSON trees.
 *
 * Reading follows kubectl (sigs.k8s.io/yaml over go-yaml v2, YAML 1.1 resolution): plain
 * `yes`/`on`/`y` are booleans (also as keys, which become the strings "true"/"false"),
 * `0755` is 493, `0x1F` is 31, timestamps stay strings, `.inf`/`.nan` are errors, quoted
 * scalars are strings, `~`/`null`/empty are null. Numbers are kept exactly: every number is a
 * cJSON_Raw node holding its JSON text as Go's encoding/json would print it
 * (`9007199254740993` stays so; `1.0` becomes `1`, `1e21` becomes `1e+21`).
 * JSON input (a document starting with `{` or `[`) is read with JSON rules, numbers kept as
 * written. Duplicate keys are errors. Multi-document streams give several documents;
 * a `List` (kind ending in "List" with an `items` array) is not expanded here: callers
 * that handle objects (cli_mutate.c) walk its items.
 *
 * Budgets (named limits below) bound input size, nesting depth, node count and alias
 * expansion, so hostile input (alias bombs, deep nesting) fails fast with CW_ELIMIT.
 * Errors name the source name given by the caller and the line (and column) of the problem.
 *
 * Writing: YAML that kubectl reads back to the same JSON (strings that would resolve to
 * something else are quoted, multi-line strings use literal style), or JSON. */
#ifndef COCO_MANIFEST_H
#define COCO_MANIFEST_H

#include <cjson/cJSON.h>
#include <stdio.h>

#include "result.h"

#define MANIFEST_INPUT_MAX (64u * 1024 * 1024) /* bytes of one input stream */
#define MANIFEST_DEPTH_MAX 200                 /* nesting of collections */
#define MANIFEST_NODES_MAX 2000000             /* nodes after alias expansion, whole stream */
#define MANIFEST_DOCS_MAX 10000                /* documents in one stream */
#define MANIFEST_BYTES_MAX                                                                         \
    (256u * 1024 * 1024) /* bytes of keys and strings after alias                                  \
                            expansion, whole stream */

typedef struct manifest_docs {
    cJSON **docs; /* owned; each owned; a document may be cJSON_NULL (empty document) */
    size_t count;
} manifest_docs;

/* Reads every document of buf[0..len) (YAML or JSON). name is used in error messages
 * (a file name, or "<stdin>"). On success *out owns the documents; free with
 * manifest_docs_free. On failure *out is empty. */
CW_MUST_USE cw_result manifest_read(const char *name, const char *buf, size_t len,
                                    manifest_docs *out, cw_error *err);
void manifest_docs_free(manifest_docs *docs);

/* Writes one document as YAML (with a leading "---\n" when first is false) or as indented
 * JSON followed by a newline. */
CW_MUST_USE cw_result manifest_write_yaml(FILE *out, const cJSON *doc, int first, cw_error *err);
CW_MUST_USE cw_result manifest_write_json(FILE *out, const cJSON *doc, cw_error *err);

#endif
