/* yaml11: the one YAML 1.1 scalar resolver, as kubectl reads YAML (go-yaml v2's resolve.go):
 * used by the manifest reader and by the config reader, so that both read `yes`, `0755`,
 * `0x1F`, `1_000`, `.5` and `~` the way kubectl does.
 *
 * Plain scalars only: quoting, tags and what a reader does with the result are the caller's.
 * `y`/`yes`/`on` (and their capitalised forms) are booleans, integers follow Go's
 * strconv.ParseInt/ParseUint with base prefixes (0b, 0o, 0x, and a leading 0 for octal) after
 * every '_' is dropped, floats follow go-yaml's float pattern, `.inf`/`.nan` are floats,
 * ``/`~`/`null` are null, and everything else (timestamps included) stays a string.
 *
 * Errors: only CW_ENOMEM (number text longer than YAML11_STACK_TEXT is copied to the heap
 * to be read without its underscores). */
#ifndef COCO_YAML11_H
#define COCO_YAML11_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "result.h"

#define YAML11_STACK_TEXT 128 /* bytes of number text read without a heap copy */

typedef enum yaml11_kind {
    YAML11_STR, /* stays text */
    YAML11_NULL,
    YAML11_BOOL,
    YAML11_INT,  /* fits int64: value.i */
    YAML11_UINT, /* above INT64_MAX: value.u */
    YAML11_FLOAT,
} yaml11_kind;

typedef struct yaml11_value {
    yaml11_kind kind;
    bool b;
    int64_t i;
    uint64_t u;
    double f; /* may be NaN or infinite (.nan, .inf) */
} yaml11_value;

/* The tags go-yaml v2 resolves ("tag:yaml.org,2002:NAME"). */
typedef enum yaml11_tag {
    YAML11_TAG_STR,
    YAML11_TAG_NULL,
    YAML11_TAG_BOOL,
    YAML11_TAG_INT,
    YAML11_TAG_FLOAT,
    YAML11_TAG_TIMESTAMP,
} yaml11_tag;

/* Resolves the plain scalar s[0..len). */
CW_MUST_USE cw_result yaml11_resolve(const char *s, size_t len, yaml11_value *out, cw_error *err);

/* The tag a resolved value carries (INT and UINT are both !!int). */
yaml11_tag yaml11_tag_of(yaml11_kind kind);

/* "!!str", "!!int", ... for messages. */
const char *yaml11_tag_name(yaml11_tag tag);

/* The resolvable tag named by a full tag ("tag:yaml.org,2002:int"); false for any other. */
bool yaml11_tag_lookup(const char *tag, yaml11_tag *out);

/* True when s[0..len) is a timestamp go-yaml accepts for !!timestamp (its
 * allowedTimestampFormats through Go's time.Parse). */
bool yaml11_is_timestamp(const char *s, size_t len);

#endif
