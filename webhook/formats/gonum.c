/* gonum: Go's number grammar and text (contract in gonum.h), following strconv's atoi.go and
 * ftoa.go and encoding/json's floatEncoder. */
#include "gonum.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DIGITS_MAX 17 /* significant digits that single out any float64 */
/* printf's "%.16e" of a float64: sign, digit, '.', 16 digits, 'e', sign, 3 digits, NUL */
#define E_TEXT_SIZE (DIGITS_MAX + 10)

/* A nonzero finite number as Go's strconv holds it in shortest mode: the fewest digits that
 * read back as the number, value = 0.d × 10^dp. */
typedef struct digits {
    bool neg;
    char d[DIGITS_MAX + 1];
    int nd, dp;
} digits;

/* Writes "0" or "-0" for a zero f and returns true; else fills g with f's shortest digits
 * (as32: the fewest that read back as the float32 f). */
static bool zero_or_digits(double f, bool as32, char out[GONUM_TEXT_MAX], digits *g)
{
    if (f == 0) {
        snprintf(out, GONUM_TEXT_MAX, "%s", signbit(f) ? "-0" : "0");
        return true;
    }
    char tmp[E_TEXT_SIZE];
    double a = fabs(f);
    for (int prec = 1; prec <= DIGITS_MAX; prec++) {
        snprintf(tmp, sizeof tmp, "%.*e", prec - 1, a);
        if (as32 ? strtof(tmp, NULL) == (float)a : strtod(tmp, NULL) == a)
            break;
    }
    int n = 0;
    const char *p = tmp;
    for (; *p && *p != 'e'; p++) {
        if (*p >= '0' && *p <= '9')
            g->d[n++] = *p;
    }
    long e = *p == 'e' ? strtol(p + 1, NULL, 10) : 0;
    while (n > 1 && g->d[n - 1] == '0')
        n--;
    g->d[n] = '\0';
    g->nd = n;
    g->dp = (int)e + 1;
    g->neg = f < 0;
    return false;
}

/* Go's fmtE: d.ddde±XX with at least two exponent digits. */
static void fmt_e(char out[GONUM_TEXT_MAX], const digits *g)
{
    int exp = g->dp - 1;
    snprintf(out, GONUM_TEXT_MAX, "%s%c%s%.*se%c%02d", g->neg ? "-" : "", g->d[0],
             g->nd > 1 ? "." : "", g->nd - 1, g->d + 1, exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
}

/* Go's fmtF with max(nd-dp, 0) decimals. */
static void fmt_f(char out[GONUM_TEXT_MAX], const digits *g)
{
    const size_t cap = GONUM_TEXT_MAX;
    size_t n = 0;
    if (g->neg && n + 1 < cap)
        out[n++] = '-';
    if (g->dp <= 0) {
        if (n + 1 < cap)
            out[n++] = '0';
    } else {
        for (int i = 0; i < g->dp && n + 1 < cap; i++)
            out[n++] = i < g->nd ? g->d[i] : '0';
    }
    int decimals = g->nd - g->dp > 0 ? g->nd - g->dp : 0;
    if (decimals > 0 && n + 1 < cap)
        out[n++] = '.';
    for (int i = 0; i < decimals && n + 1 < cap; i++) {
        int k = g->dp + i;
        out[n++] = (k >= 0 && k < g->nd) ? g->d[k] : '0';
    }
    out[n] = '\0';
}

void gonum_json_float(double f, char out[GONUM_TEXT_MAX])
{
    digits g;
    if (zero_or_digits(f, false, out, &g))
        return;
    double a = fabs(f);
    if (a < 1e-6 || a >= 1e21) {
        fmt_e(out, &g);
        /* encoding/json: clean up e-09 to e-9 */
        size_t n = strlen(out);
        if (n >= 4 && out[n - 4] == 'e' && out[n - 3] == '-' && out[n - 2] == '0') {
            out[n - 2] = out[n - 1];
            out[n - 1] = '\0';
        }
        return;
    }
    fmt_f(out, &g);
}

void gonum_key_float(double f, char out[GONUM_TEXT_MAX])
{
    float g32 = (float)f;
    digits g;
    if (isnan(g32) || isinf(g32)) {
        snprintf(out, GONUM_TEXT_MAX, "%s", isnan(g32) ? ".nan" : g32 < 0 ? "-.inf" : ".inf");
        return;
    }
    if (zero_or_digits((double)g32, true, out, &g))
        return;
    int exp = g.dp - 1;
    if (exp < -4 || exp >= 6)
        fmt_e(out, &g);
    else
        fmt_f(out, &g);
}

gonum_status gonum_parse_uint(const char *s, size_t len, int base, uint64_t *out)
{
    if (len == 0)
        return GONUM_SYNTAX;
    if (base == 0) {
        base = 10;
        if (s[0] == '0') {
            char c = len >= 3 ? (char)(s[1] | 0x20) : 0;
            if (c == 'b' || c == 'o' || c == 'x') {
                base = c == 'b' ? 2 : c == 'o' ? 8 : 16;
                s += 2;
                len -= 2;
            } else {
                base = 8;
                s++;
                len--;
            }
        }
    }
    uint64_t n = 0;
    int over = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        int v;
        if (c >= '0' && c <= '9')
            v = c - '0';
        else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')
            v = (c | 0x20) - 'a' + 10;
        else
            return GONUM_SYNTAX;
        if (v >= base)
            return GONUM_SYNTAX;
        if (over)
            continue;
        if (n > (UINT64_MAX - (uint64_t)v) / (uint64_t)base)
            over = 1; /* Go stops at the overflow; either way the result is an error */
        else
            n = n * (uint64_t)base + (uint64_t)v;
    }
    if (over)
        return GONUM_RANGE;
    *out = n;
    return GONUM_OK;
}

gonum_status gonum_parse_int(const char *s, size_t len, int base, int64_t *out)
{
    if (len == 0)
        return GONUM_SYNTAX;
    bool neg = false;
    if (s[0] == '+' || s[0] == '-') {
        neg = s[0] == '-';
        s++;
        len--;
    }
    uint64_t u;
    gonum_status rc = gonum_parse_uint(s, len, base, &u);
    if (rc)
        return rc;
    if (!neg && u > (uint64_t)INT64_MAX)
        return GONUM_RANGE;
    if (neg && u > (uint64_t)INT64_MAX + 1)
        return GONUM_RANGE;
    *out = neg ? (int64_t)(0 - u) : (int64_t)u;
    return GONUM_OK;
}

bool gonum_underscore_ok(const char *s, size_t len)
{
    char saw = '^';
    size_t i = 0;
    if (len && (s[0] == '+' || s[0] == '-'))
        i = 1;
    for (; i < len; i++) {
        if (s[i] >= '0' && s[i] <= '9') {
            saw = '0';
            continue;
        }
        if (s[i] == '_') {
            if (saw != '0')
                return false;
            saw = '_';
            continue;
        }
        if (saw == '_')
            return false;
        saw = '!';
    }
    return saw != '_';
}
