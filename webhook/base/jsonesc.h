/* jsonesc: JSON string escaping (RFC 8259 §7), the one escaper every JSON writer uses.
 *
 * Quote and backslash are escaped, \n, \r and \t take their short forms, every other control
 * character and DEL take \u00XX. Bytes from 0x80 pass through: whether they are valid UTF-8
 * is the caller's concern (cJSON has checked request data; the logger trims what it cuts). */
#ifndef COCO_JSONESC_H
#define COCO_JSONESC_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "result.h"

#define JSONESC_BYTE_MAX 6 /* the longest escape of one byte: \u00XX */

/* True when byte c stands for itself inside a JSON string (the common case, checked inline). */
static inline bool jsonesc_is_plain(unsigned char c)
{
    return c >= 0x20 && c != '"' && c != '\\' && c != 0x7f;
}

/* Writes the escaped form of byte c to out (no quotes) and returns its length (1 to 6). */
size_t jsonesc_byte(unsigned char c, char out[JSONESC_BYTE_MAX]);

/* Appends s[0..n) to out as a quoted JSON string. */
CW_MUST_USE cw_result jsonesc_append(buf *out, const char *s, size_t n);

#endif
