/* intparse: the one grammar for integers written by people (flags, ports, config values),
 * in the spirit of OpenBSD's strtonum: decimal digits only, with a leading '-' only where the
 * range admits negatives; no sign games ('+', spaces, a second sign), no empty text, no
 * trailing bytes, and the range given by the caller. Leading zeros are read as decimal. */
#ifndef COCO_INTPARSE_H
#define COCO_INTPARSE_H

#include <stddef.h>
#include <stdint.h>

#include "result.h"

/* Parses s[0..len) into *out within [min, max]. On error (CW_EINVAL) the message names what
 * ("--days", "the port of listen") and says "must be a whole number from MIN to MAX". */
CW_MUST_USE cw_result int_parse(const char *s, size_t len, int64_t min, int64_t max,
                                const char *what, int64_t *out, cw_error *err);

/* The value of hexadecimal digit c (either case), or -1. */
int hex_digit_value(int c);

#endif
