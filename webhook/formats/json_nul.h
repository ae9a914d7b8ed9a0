/* json_nul: finds a NUL character (the escape \u0000) in the strings of a JSON text and
 * names where it is.
 *
 * cJSON ends a string at its first NUL ("a\u0000b" reads as "a"), so a review holding one
 * would be judged, and its uid echoed, on a truncated value (SPEC §3). The server refuses such
 * bodies with a 400 that names the field. A Pod holding NUL characters could not run anyway:
 * names, paths, commands and environment reach C strings in the runtime.
 *
 * Linear in the text; the path is only worked out when a NUL is there (rare). */
#ifndef COCO_JSON_NUL_H
#define COCO_JSON_NUL_H

#include <stdbool.h>
#include <stddef.h>

#define JSON_NUL_PATH_MAX 200 /* bytes of the path written, tail kept when longer */

/* Looks for \u0000 in the strings of text[0..len), a text that has parsed as JSON. When one
 * is found, writes where into path (cap bytes, at least 16), e.g.
 * "request.object.metadata.labels[\"app\"]" or "a key in request.object.spec", and returns
 * true. */
bool json_nul_find(const char *text, size_t len, char *path, size_t cap);

#endif
