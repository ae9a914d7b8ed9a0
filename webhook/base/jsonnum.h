/* jsonnum: the one JSON number grammar (RFC 8259 §6),
 *   -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
 * read by every module that meets number text: the manifest reader and writer, and the
 * patch applier's equality test. It scans in place: no allocation, one pass, the parts
 * handed back as spans of the input (what a caller needs to compare numbers exactly or to
 * copy the text), never a conversion to double. */
#ifndef COCO_JSONNUM_H
#define COCO_JSONNUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Exponents are computed while they stay at or below about this magnitude; past it
 * exp_huge is set instead (no number text we handle has one). */
#define JSONNUM_EXP_MAX 100000000LL

typedef struct jsonnum {
    bool neg;
    const char *int_digits; /* the integer digits (at least one on success) */
    size_t int_len;
    const char *frac_digits; /* the fraction digits, frac_len 0 when there is no '.' */
    size_t frac_len;
    int64_t exp;   /* the exponent's value, 0 without one; meaningless when exp_huge */
    bool exp_huge; /* the exponent passed JSONNUM_EXP_MAX */
} jsonnum;

/* Scans the number at the start of s[0..len). Returns the bytes it spans, or 0 when s does
 * not start with one; then *stop (may be NULL) is the offset where a digit was missing.
 * Bytes after the number are not looked at: the caller decides whether they may follow.
 * s need not be NUL-terminated; a NUL-terminated s may be given with len SIZE_MAX (the scan
 * stops at the NUL, which no part of the grammar takes). out may be NULL. */
size_t jsonnum_scan(const char *s, size_t len, jsonnum *out, size_t *stop);

/* True when s[0..len) is exactly one number. */
bool jsonnum_is(const char *s, size_t len);

#endif
