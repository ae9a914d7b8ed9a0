/* celesc: CEL string literals (cel-spec doc/langdef.md, "String and Bytes Values"), the one
 * escaper for text written into a CEL expression (the guard's policy, core/guard.h).
 *
 * The literal is single-quoted. Backslash and both quotes take their backslash forms, \n, \r
 * and \t their short forms, every other control character and DEL \xHH (in a CEL string
 * literal \xHH is the code point U+00HH, not a byte). Bytes from 0x80 pass through: a CEL
 * string is Unicode text, so the caller passes valid UTF-8 (the YAML writer that prints the
 * expression checks it). No input can end the literal early or inject CEL. */
#ifndef COCO_CELESC_H
#define COCO_CELESC_H

#include <stddef.h>

#include "buf.h"
#include "result.h"

#define CELESC_BYTE_MAX 4 /* the longest escape of one byte: \xHH */

/* Appends s[0..n) to out as a single-quoted CEL string literal. Fails as buf_add does. */
CW_MUST_USE cw_result celesc_append(buf *out, const char *s, size_t n);

#endif
