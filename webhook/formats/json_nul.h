/* json_nul: the checks of a JSON text that cJSON does not make, and where they fail.
 *
 * - A NUL character (the escape \u0000) in a string: cJSON ends a string at its first NUL
 *   ("a\u0000b" reads as "a"), so a review holding one would be judged, and its uid echoed,
 *   on a truncated value (SPEC §3). A Pod holding NUL characters could not run anyway: names,
 *   paths, commands and environment reach C strings in the runtime.
 * - Invalid UTF-8 (RFC 8259 §8.1: overlong forms, surrogates, past U+10FFFF, cut sequences):
 *   cJSON passes the bytes through.
 * - A raw control character (U+0000 to U+001F) in a string, which RFC 8259 §7 says must be
 *   escaped (Go's decoder refuses it too): cJSON takes it. Or between tokens, other than tab,
 *   LF and CR (RFC 8259 §2): cJSON skips every byte up to the space as whitespace.
 * - A \u escape without four hex digits (RFC 8259 §7): cJSON reads it as U+0000, so
 *   "ab\uZZZZ" would be judged, and echoed, as "ab".
 * The server refuses such bodies with a 400 that names the field.
 *
 * One pass over the text, each byte looked at once; the path is only worked out when a fault
 * is there (rare). */
#ifndef COCO_JSON_NUL_H
#define COCO_JSON_NUL_H

#include <stdbool.h>
#include <stddef.h>

#define JSON_NUL_PATH_MAX 200 /* bytes of the path written, tail kept when longer */

typedef enum json_text_fault {
    JSON_TEXT_OK,
    JSON_TEXT_NUL,     /* \u0000 in a string */
    JSON_TEXT_UTF8,    /* bytes that are not UTF-8 */
    JSON_TEXT_CONTROL, /* a raw byte below 0x20 in a string */
    JSON_TEXT_ESCAPE,  /* \u not followed by four hex digits */
} json_text_fault;

/* Checks text[0..len), a text that has parsed as JSON, for the faults above; at the first,
 * writes where it is into path (cap bytes, at least 16), e.g.
 * "request.object.metadata.labels[\"app\"]" or "a key in request.object.spec". */
json_text_fault json_text_check(const char *text, size_t len, char *path, size_t cap);

/* What a fault is, for a message: "a NUL character (\u0000)", ... */
const char *json_text_fault_text(json_text_fault f);

#endif
