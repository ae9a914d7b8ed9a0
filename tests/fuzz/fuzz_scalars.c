/* Fuzz target for the scalar grammars under the manifest and config readers: jsonnum (JSON
 * number text) and yaml11 (YAML 1.1 plain scalars, with gonum's Go number text). The input
 * is copied to an exact-size buffer so that a read past its end is caught. Checks: a scanned
 * number is a whole number by jsonnum_is and strtod reads all of it; a resolved integer or
 * finite float, written back as Go writes it, resolves to the same value. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gonum.h"
#include "jsonnum.h"
#include "yaml11.h"

static void check_jsonnum(const char *s, size_t len)
{
    jsonnum n;
    size_t stop = 0;
    size_t got = jsonnum_scan(s, len, &n, &stop);
    if (!got) {
        if (stop > len)
            abort();
        return;
    }
    if (got > len || !jsonnum_is(s, got) || n.int_len == 0)
        abort();
    char text[512];
    if (got >= sizeof text)
        return;
    memcpy(text, s, got);
    text[got] = '\0';
    char *end;
    (void)strtod(text, &end);
    if ((size_t)(end - text) != got)
        abort();
}

static void check_yaml11(const char *s, size_t len)
{
    yaml11_value v, again;
    char text[GONUM_TEXT_MAX];
    if (yaml11_resolve(s, len, &v, NULL) != CW_OK)
        return; /* out of memory */
    switch (v.kind) {
    case YAML11_INT:
        snprintf(text, sizeof text, "%lld", (long long)v.i);
        if (yaml11_resolve(text, strlen(text), &again, NULL) != CW_OK)
            return;
        if (again.kind != YAML11_INT || again.i != v.i)
            abort();
        break;
    case YAML11_FLOAT:
        if (!isfinite(v.f))
            break;
        gonum_json_float(v.f, text);
        if (yaml11_resolve(text, strlen(text), &again, NULL) != CW_OK)
            return;
        /* integral floats come back as integers: "1e19" is written 10000000000000000000 */
        if (again.kind == YAML11_INT    ? (double)again.i != v.f
            : again.kind == YAML11_UINT ? (double)again.u != v.f
                                        : again.kind != YAML11_FLOAT || again.f != v.f)
            abort();
        break;
    default: break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size ? size : 1);
    if (!s)
        return 0;
    if (size)
        memcpy(s, data, size);
    check_jsonnum(s, size);
    check_yaml11(s, size);
    free(s);
    return 0;
}
