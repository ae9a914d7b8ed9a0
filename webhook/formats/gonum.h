/* gonum: numbers as Go reads and prints them, for the manifest reader, which must agree with
 * kubectl (go-yaml v2 and sigs.k8s.io/yaml, written in Go) to the digit: strconv's integer
 * grammar and encoding/json's and strconv.FormatFloat's shortest float text.
 *
 * Pure functions on caller memory: nothing is allocated. */
#ifndef COCO_GONUM_H
#define COCO_GONUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GONUM_TEXT_MAX 64 /* bytes of any text the formatters write, NUL included */

typedef enum gonum_status {
    GONUM_OK,
    GONUM_SYNTAX, /* strconv.ErrSyntax */
    GONUM_RANGE,  /* strconv.ErrRange: the value does not fit */
} gonum_status;

/* strconv.ParseUint(s, base, 64) and ParseInt(s, base, 64) for base 0 (prefix 0b, 0o, 0x or
 * a leading 0 for octal picks the base) or 2..36, without underscores (go-yaml removes them
 * first). *out is written only on GONUM_OK. */
gonum_status gonum_parse_uint(const char *s, size_t len, int base, uint64_t *out);
gonum_status gonum_parse_int(const char *s, size_t len, int base, int64_t *out);

/* strconv's underscoreOK for decimal text: every '_' stands between two digits. */
bool gonum_underscore_ok(const char *s, size_t len);

/* encoding/json's text for a finite float64 ("1e+21", "1e-7", "0.1", "-0"). */
void gonum_json_float(double f, char out[GONUM_TEXT_MAX]);

/* strconv.FormatFloat(f, 'g', -1, 32): the map key text sigs.k8s.io/yaml makes of a float
 * key (".inf", "-.inf" and ".nan" for the non-finite ones). */
void gonum_key_float(double f, char out[GONUM_TEXT_MAX]);

#endif
