/* manifest: reading and writing Kubernetes manifests the way kubectl reads them.
 *
 * Reading has three stages. The whole input is checked first (size, NUL bytes, UTF-8). A
 * stream that starts with '{' or '[' is tried as a sequence of JSON values. Otherwise it is
 * split into documents the way kubectl splits it (apimachinery's YAMLReader: a line that
 * starts with "---" followed by nothing but spaces or a comment), and each document is read
 * as JSON when it is one JSON value, else with libyaml events turned into cJSON nodes by our
 * own resolver (go-yaml v2 rules, resolve.go) and our own alias expansion.
 *
 * Nodes of a document under construction are never freed before the end: values a merge key
 * overrides go to a graveyard, so anchors can borrow pointers into the tree. */
#include "manifest.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define TAG_PREFIX "tag:yaml.org,2002:"
#define KEY_SHOW_MAX 64 /* bytes of a key quoted in an error message */
#define NUM_TEXT_MAX 64 /* bytes of a formatted number */

/* ---------------------------------------------------------------- positions, errors */

typedef struct pos {
    size_t line, col; /* 1-based; columns count characters, as libyaml does */
} pos;

typedef struct reader {
    const char *name;
    const char *buf;
    size_t len;
    size_t nodes; /* nodes made so far, against MANIFEST_NODES_MAX */
    size_t bytes; /* text of keys and strings made so far, against MANIFEST_BYTES_MAX */
    cw_error *err;
    /* The line and column of offset pos_off, where pos_at last counted to: offsets are
     * asked for in increasing order, so counting on from there keeps the reader linear. */
    size_t pos_off;
    pos pos_last;
} reader;

static cw_result fail_at(const reader *r, cw_result code, pos p, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static cw_result fail_at(const reader *r, cw_result code, pos p, const char *fmt, ...)
{
    char msg[CW_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return cw_fail(r->err, code, "%s:%zu:%zu: %s", r->name, p.line, p.col, msg);
}

static size_t utf8_width(unsigned char c)
{
    if (c < 0x80)
        return 1;
    if (c >= 0xf0)
        return 4;
    if (c >= 0xe0)
        return 3;
    return 2;
}

/* Line breaks as libyaml counts them: LF, CR LF, CR, NEL, LS, PS. Returns the width of the
 * break at i (0 if none). The input is valid UTF-8. */
static size_t break_width(const char *s, size_t len, size_t i)
{
    unsigned char c = (unsigned char)s[i];
    if (c == '\n')
        return 1;
    if (c == '\r')
        return (i + 1 < len && s[i + 1] == '\n') ? 2 : 1;
    if (c == 0xc2 && i + 1 < len && (unsigned char)s[i + 1] == 0x85)
        return 2;
    if (c == 0xe2 && i + 2 < len && (unsigned char)s[i + 1] == 0x80 &&
        ((unsigned char)s[i + 2] == 0xa8 || (unsigned char)s[i + 2] == 0xa9))
        return 3;
    return 0;
}

/* Advances p over s[from..to). */
static pos pos_advance(const char *s, size_t len, pos p, size_t from, size_t to)
{
    size_t i = from;
    while (i < to) {
        size_t w = break_width(s, len, i);
        if (w) {
            p.line++;
            p.col = 1;
            i += w;
            continue;
        }
        p.col++;
        i += utf8_width((unsigned char)s[i]);
    }
    return p;
}

static pos pos_at(reader *r, size_t off)
{
    if (off < r->pos_off || r->pos_last.line == 0) {
        r->pos_off = 0;
        r->pos_last = (pos){1, 1};
    }
    r->pos_last = pos_advance(r->buf, r->len, r->pos_last, r->pos_off, off);
    r->pos_off = off;
    return r->pos_last;
}

/* Copies at most KEY_SHOW_MAX bytes of a key for a message, cut at a character boundary,
 * with control characters shown as '?'. */
static void key_show(const char *key, size_t len, char *out, size_t cap)
{
    size_t n = 0, i = 0;
    while (i < len && n + 4 < cap && i < KEY_SHOW_MAX) {
        unsigned char c = (unsigned char)key[i];
        size_t w = utf8_width(c);
        if (i + w > len)
            break;
        if (c < 0x20 || c == 0x7f || c == '"' || c == '\\') {
            out[n++] = c == '"' || c == '\\' ? (char)c : '?';
            i++;
            continue;
        }
        memcpy(out + n, key + i, w);
        n += w;
        i += w;
    }
    if (i < len && n + 3 < cap) {
        memcpy(out + n, "...", 3);
        n += 3;
    }
    out[n] = '\0';
}

/* Checks the whole input: no NUL byte, valid UTF-8 (no overlong forms, no surrogates). */
static cw_result check_text(reader *r)
{
    const unsigned char *s = (const unsigned char *)r->buf;
    size_t i = 0;
    while (i < r->len) {
        unsigned char c = s[i];
        if (c == 0)
            return fail_at(r, CW_EINVAL, pos_at(r, i), "NUL byte in input");
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t w = 0;
        uint32_t cp = 0, min = 0;
        if (c >= 0xc2 && c <= 0xdf) {
            w = 2;
            cp = c & 0x1f;
            min = 0x80;
        } else if (c >= 0xe0 && c <= 0xef) {
            w = 3;
            cp = c & 0x0f;
            min = 0x800;
        } else if (c >= 0xf0 && c <= 0xf4) {
            w = 4;
            cp = c & 0x07;
            min = 0x10000;
        }
        if (w == 0 || i + w > r->len)
            return fail_at(r, CW_EINVAL, pos_at(r, i), "invalid UTF-8");
        for (size_t k = 1; k < w; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return fail_at(r, CW_EINVAL, pos_at(r, i), "invalid UTF-8");
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return fail_at(r, CW_EINVAL, pos_at(r, i), "invalid UTF-8");
        i += w;
    }
    return CW_OK;
}

/* ---------------------------------------------------------------- small helpers */

typedef struct sbuf {
    char *p;
    size_t len, cap;
} sbuf;

static bool sbuf_put(sbuf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p)
            return false;
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
    return true;
}

/* A string-keyed open-addressing table (FNV-1a), for duplicate keys and anchors: maps and
 * alias counts in hostile input are large, so linear lookups would be quadratic. */
typedef struct slot {
    const char *key; /* borrowed; NULL if free */
    uint64_t hash;
    void *ptr;
    size_t aux;
} slot;

typedef struct strmap {
    slot *slots;
    size_t cap, used;
} strmap;

static uint64_t str_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ull;
    }
    return h;
}

static slot *strmap_find(const strmap *m, const char *key)
{
    if (!m->cap)
        return NULL;
    uint64_t h = str_hash(key);
    for (size_t i = h & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        slot *s = &m->slots[i];
        if (!s->key)
            return NULL;
        if (s->hash == h && strcmp(s->key, key) == 0)
            return s;
    }
}

/* Inserts key (borrowed: it must outlive the map); the key must not be present. */
static slot *strmap_add(strmap *m, const char *key)
{
    if ((m->used + 1) * 2 > m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 16;
        slot *slots = calloc(cap, sizeof *slots);
        if (!slots)
            return NULL;
        for (size_t i = 0; i < m->cap; i++) {
            if (!m->slots[i].key)
                continue;
            size_t j = m->slots[i].hash & (cap - 1);
            while (slots[j].key)
                j = (j + 1) & (cap - 1);
            slots[j] = m->slots[i];
        }
        free(m->slots);
        m->slots = slots;
        m->cap = cap;
    }
    uint64_t h = str_hash(key);
    size_t i = h & (m->cap - 1);
    while (m->slots[i].key)
        i = (i + 1) & (m->cap - 1);
    m->slots[i].key = key;
    m->slots[i].hash = h;
    m->slots[i].ptr = NULL;
    m->slots[i].aux = 0;
    m->used++;
    return &m->slots[i];
}

static void strmap_free(strmap *m)
{
    free(m->slots);
    m->slots = NULL;
    m->cap = m->used = 0;
}

/* Nodes in the tree n; its nesting of collections in *height, its text in *bytes. */
static size_t measure(const cJSON *n, size_t *height, size_t *bytes)
{
    size_t c = 1, h = 0;
    *height = (cJSON_IsObject(n) || cJSON_IsArray(n)) ? 1 : 0;
    *bytes = (n->string ? strlen(n->string) : 0) + (n->valuestring ? strlen(n->valuestring) : 0);
    for (const cJSON *k = n->child; k; k = k->next) {
        size_t b;
        c += measure(k, &h, &b);
        *bytes += b;
        if (h + 1 > *height)
            *height = h + 1;
    }
    return c;
}

static cw_result take_nodes(reader *r, size_t n, size_t bytes, pos p)
{
    if (n > MANIFEST_NODES_MAX - r->nodes)
        return fail_at(r, CW_ELIMIT, p, "more than %u nodes (after alias expansion)",
                       (unsigned)MANIFEST_NODES_MAX);
    if (bytes > MANIFEST_BYTES_MAX - r->bytes)
        return fail_at(r, CW_ELIMIT, p, "more than %u bytes of text (after alias expansion)",
                       (unsigned)MANIFEST_BYTES_MAX);
    r->nodes += n;
    r->bytes += bytes;
    return CW_OK;
}

/* ---------------------------------------------------------------- numbers as Go prints them */

/* Shortest digits that read back as f (f finite, nonzero, positive), like Go's strconv
 * shortest mode: *nd digits in d, value = 0.d × 10^*dp. as32 works in float32. */
static void shortest_digits(double f, bool as32, char *d, int *nd, int *dp)
{
    char tmp[48];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*e", prec - 1, f);
        if (as32 ? strtof(tmp, NULL) == (float)f : strtod(tmp, NULL) == f)
            break;
    }
    int n = 0;
    const char *p = tmp;
    for (; *p && *p != 'e'; p++) {
        if (*p >= '0' && *p <= '9')
            d[n++] = *p;
    }
    long e = *p == 'e' ? strtol(p + 1, NULL, 10) : 0;
    while (n > 1 && d[n - 1] == '0')
        n--;
    d[n] = '\0';
    *nd = n;
    *dp = (int)e + 1;
}

/* Go's fmtE: d.ddde±XX with at least two exponent digits. */
static void fmt_e(char *out, size_t cap, bool neg, const char *d, int nd, int dp)
{
    int exp = dp - 1;
    snprintf(out, cap, "%s%c%s%.*se%c%02d", neg ? "-" : "", d[0], nd > 1 ? "." : "", nd - 1, d + 1,
             exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
}

/* Go's fmtF with max(nd-dp, 0) decimals. */
static void fmt_f(char *out, size_t cap, bool neg, const char *d, int nd, int dp)
{
    size_t n = 0;
    if (neg && n + 1 < cap)
        out[n++] = '-';
    if (dp <= 0) {
        if (n + 1 < cap)
            out[n++] = '0';
    } else {
        for (int i = 0; i < dp && n + 1 < cap; i++)
            out[n++] = i < nd ? d[i] : '0';
    }
    int decimals = nd - dp > 0 ? nd - dp : 0;
    if (decimals > 0 && n + 1 < cap)
        out[n++] = '.';
    for (int i = 0; i < decimals && n + 1 < cap; i++) {
        int k = dp + i;
        out[n++] = (k >= 0 && k < nd) ? d[k] : '0';
    }
    out[n] = '\0';
}

/* encoding/json's text for a finite float64. */
static void go_json_float(double f, char *out, size_t cap)
{
    if (f == 0) {
        snprintf(out, cap, "%s", signbit(f) ? "-0" : "0");
        return;
    }
    char d[32];
    int nd, dp;
    bool neg = f < 0;
    double a = fabs(f);
    shortest_digits(a, false, d, &nd, &dp);
    if (a < 1e-6 || a >= 1e21) {
        fmt_e(out, cap, neg, d, nd, dp);
        /* encoding/json: clean up e-09 to e-9 */
        size_t n = strlen(out);
        if (n >= 4 && out[n - 4] == 'e' && out[n - 3] == '-' && out[n - 2] == '0') {
            out[n - 2] = out[n - 1];
            out[n - 1] = '\0';
        }
        return;
    }
    fmt_f(out, cap, neg, d, nd, dp);
}

/* sigs.k8s.io/yaml's key text for a float key: strconv.FormatFloat(k, 'g', -1, 32). */
static void go_key_float(double f, char *out, size_t cap)
{
    float g = (float)f;
    if (isnan(g)) {
        snprintf(out, cap, ".nan");
        return;
    }
    if (isinf(g)) {
        snprintf(out, cap, "%s", g < 0 ? "-.inf" : ".inf");
        return;
    }
    if (g == 0) {
        snprintf(out, cap, "%s", signbit(g) ? "-0" : "0");
        return;
    }
    char d[32];
    int nd, dp;
    bool neg = g < 0;
    shortest_digits(fabs((double)g), true, d, &nd, &dp);
    int exp = dp - 1;
    if (exp < -4 || exp >= 6)
        fmt_e(out, cap, neg, d, nd, dp);
    else
        fmt_f(out, cap, neg, d, nd, dp);
}

/* strconv.ParseUint(s, base, 64) without underscores (go-yaml removes them first).
 * Returns 0 on success, -1 on a syntax error, 1 on overflow. */
static int go_parse_uint(const char *s, size_t len, int base, uint64_t *out)
{
    if (len == 0)
        return -1;
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
            return -1;
        if (v >= base)
            return -1;
        if (over)
            continue;
        if (n > (UINT64_MAX - (uint64_t)v) / (uint64_t)base)
            over = 1; /* Go stops at the overflow; either way the result is an error */
        else
            n = n * (uint64_t)base + (uint64_t)v;
    }
    if (over)
        return 1;
    *out = n;
    return 0;
}

/* strconv.ParseInt(s, base, 64). */
static int go_parse_int(const char *s, size_t len, int base, int64_t *out)
{
    if (len == 0)
        return -1;
    bool neg = false;
    if (s[0] == '+' || s[0] == '-') {
        neg = s[0] == '-';
        s++;
        len--;
    }
    uint64_t u;
    int rc = go_parse_uint(s, len, base, &u);
    if (rc)
        return rc;
    if (!neg && u > (uint64_t)INT64_MAX)
        return 1;
    if (neg && u > (uint64_t)INT64_MAX + 1)
        return 1;
    *out = neg ? (int64_t)(0 - u) : (int64_t)u;
    return 0;
}

/* go-yaml's yamlStyleFloat: ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$ */
static bool yaml_style_float(const char *s, size_t len)
{
    size_t i = 0, k;
    if (i < len && (s[i] == '+' || s[i] == '-'))
        i++;
    if (i < len && s[i] == '.') {
        i++;
        for (k = i; i < len && s[i] >= '0' && s[i] <= '9'; i++)
            ;
        if (i == k)
            return false;
    } else {
        for (k = i; i < len && s[i] >= '0' && s[i] <= '9'; i++)
            ;
        if (i == k)
            return false;
        if (i < len && s[i] == '.')
            for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++)
                ;
    }
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-'))
            i++;
        for (k = i; i < len && s[i] >= '0' && s[i] <= '9'; i++)
            ;
        if (i == k)
            return false;
    }
    return i == len;
}

/* strconv's underscoreOK for a decimal string: '_' only between digits. */
static bool underscore_ok(const char *s, size_t len)
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

/* Parses decimal float text (already checked) without '_'; false if it overflows, as
 * strconv.ParseFloat's range error (underflow to zero is no error there). */
static bool parse_float_text(const char *s, size_t len, double *out)
{
    char stack[128];
    char *t = len < sizeof stack ? stack : malloc(len + 1);
    if (!t)
        return false;
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (s[i] != '_')
            t[n++] = s[i];
    t[n] = '\0';
    double v = strtod(t, NULL);
    if (t != stack)
        free(t);
    if (isinf(v))
        return false;
    *out = v;
    return true;
}

/* strconv.ParseFloat for go-yaml's '.' hint: ".5", ".5e3", ".5_0". */
static bool go_parse_dot_float(const char *s, size_t len, double *out)
{
    size_t i = 1, digits = 0;
    for (; i < len && ((s[i] >= '0' && s[i] <= '9') || s[i] == '_'); i++)
        digits += s[i] != '_';
    if (!digits)
        return false;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-'))
            i++;
        if (i >= len || s[i] < '0' || s[i] > '9')
            return false;
        for (; i < len && ((s[i] >= '0' && s[i] <= '9') || s[i] == '_'); i++)
            ;
    }
    if (i != len || !underscore_ok(s, len))
        return false;
    return parse_float_text(s, len, out);
}

/* ---------------------------------------------------------------- timestamps (!!timestamp) */

static bool ts_num(const char *s, size_t len, size_t *i, int *v)
{
    if (*i >= len || s[*i] < '0' || s[*i] > '9')
        return false;
    *v = s[(*i)++] - '0';
    if (*i < len && s[*i] >= '0' && s[*i] <= '9')
        *v = *v * 10 + (s[(*i)++] - '0');
    return true;
}

static int days_in(int month, int year)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : days[month - 1];
}

/* go-yaml's allowedTimestampFormats through Go's time.Parse, for the layouts
 * "2006-1-2T15:4:5.999999999Z07:00" (T or t), "2006-1-2 15:4:5.999999999" and "2006-1-2". */
static bool parse_timestamp(const char *s, size_t len)
{
    size_t i = 0;
    while (i < len && s[i] >= '0' && s[i] <= '9')
        i++;
    if (i != 4 || i == len || s[i] != '-')
        return false;
    int year = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    int month, day, h, m, sec;
    i = 5;
    if (!ts_num(s, len, &i, &month) || i >= len || s[i] != '-')
        return false;
    i++;
    if (!ts_num(s, len, &i, &day))
        return false;
    if (month < 1 || month > 12 || day < 1 || day > days_in(month, year))
        return false;
    if (i == len)
        return true;
    bool zone = s[i] == 'T' || s[i] == 't';
    if (!zone && s[i] != ' ')
        return false;
    i++;
    while (!zone && i < len && s[i] == ' ')
        i++;
    if (!ts_num(s, len, &i, &h) || i >= len || s[i++] != ':' || !ts_num(s, len, &i, &m) ||
        i >= len || s[i++] != ':' || !ts_num(s, len, &i, &sec))
        return false;
    if (h > 23 || m > 59 || sec > 59)
        return false;
    if (i + 1 < len && (s[i] == '.' || s[i] == ',') && s[i + 1] >= '0' && s[i + 1] <= '9') {
        i++;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
    }
    if (!zone)
        return i == len;
    if (i < len && s[i] == 'Z')
        return i + 1 == len;
    if (len - i != 6 || (s[i] != '+' && s[i] != '-') || s[i + 3] != ':')
        return false;
    for (size_t k = 1; k < 6; k++)
        if (k != 3 && (s[i + k] < '0' || s[i + k] > '9'))
            return false;
    return true;
}

/* ---------------------------------------------------------------- the resolver */

typedef enum sv_kind { SV_NULL, SV_BOOL, SV_INT, SV_UINT, SV_FLOAT, SV_STR } sv_kind;

typedef enum rtag { RT_STR, RT_NULL, RT_BOOL, RT_INT, RT_FLOAT, RT_TIMESTAMP } rtag;

typedef struct scalar {
    sv_kind kind;
    bool b;
    int64_t i;
    uint64_t u;
    double f;
    const char *s; /* SV_STR: the text, borrowed or == owned */
    size_t slen;
    char *owned;
} scalar;

static const char *rtag_name(rtag t)
{
    static const char *names[] = {"!!str", "!!null", "!!bool", "!!int", "!!float", "!!timestamp"};
    return names[t];
}

/* go-yaml v2 resolve() for a plain scalar with no tag or a resolvable tag `want`. */
static rtag resolve_plain(const char *in, size_t len, rtag want, bool tagged, scalar *sv)
{
    static const struct {
        const char *text;
        rtag tag;
        int value; /* bools: 0/1; floats: 2 nan, 3 +inf, 4 -inf */
    } words[] = {
        {"y", RT_BOOL, 1},      {"Y", RT_BOOL, 1},      {"yes", RT_BOOL, 1},
        {"Yes", RT_BOOL, 1},    {"YES", RT_BOOL, 1},    {"true", RT_BOOL, 1},
        {"True", RT_BOOL, 1},   {"TRUE", RT_BOOL, 1},   {"on", RT_BOOL, 1},
        {"On", RT_BOOL, 1},     {"ON", RT_BOOL, 1},     {"n", RT_BOOL, 0},
        {"N", RT_BOOL, 0},      {"no", RT_BOOL, 0},     {"No", RT_BOOL, 0},
        {"NO", RT_BOOL, 0},     {"false", RT_BOOL, 0},  {"False", RT_BOOL, 0},
        {"FALSE", RT_BOOL, 0},  {"off", RT_BOOL, 0},    {"Off", RT_BOOL, 0},
        {"OFF", RT_BOOL, 0},    {"", RT_NULL, 0},       {"~", RT_NULL, 0},
        {"null", RT_NULL, 0},   {"Null", RT_NULL, 0},   {"NULL", RT_NULL, 0},
        {".nan", RT_FLOAT, 2},  {".NaN", RT_FLOAT, 2},  {".NAN", RT_FLOAT, 2},
        {".inf", RT_FLOAT, 3},  {".Inf", RT_FLOAT, 3},  {".INF", RT_FLOAT, 3},
        {"+.inf", RT_FLOAT, 3}, {"+.Inf", RT_FLOAT, 3}, {"+.INF", RT_FLOAT, 3},
        {"-.inf", RT_FLOAT, 4}, {"-.Inf", RT_FLOAT, 4}, {"-.INF", RT_FLOAT, 4},
    };
    sv->kind = SV_STR;
    sv->s = in;
    sv->slen = len;
    if (tagged && want == RT_STR)
        return RT_STR;
    char hint = 0;
    unsigned char c0 = len ? (unsigned char)in[0] : 0;
    if (len == 0)
        hint = 'N';
    else if (c0 == '+' || c0 == '-')
        hint = 'S';
    else if (c0 >= '0' && c0 <= '9')
        hint = 'D';
    else if (c0 == '.')
        hint = '.';
    else if (strchr("yYnNtTfFoO~", c0))
        hint = 'M';
    if (!hint)
        return RT_STR;
    if (len <= 5) {
        for (size_t k = 0; k < sizeof words / sizeof words[0]; k++) {
            if (strlen(words[k].text) != len || memcmp(words[k].text, in, len) != 0)
                continue;
            if (words[k].tag == RT_NULL) {
                sv->kind = SV_NULL;
            } else if (words[k].tag == RT_BOOL) {
                sv->kind = SV_BOOL;
                sv->b = words[k].value;
            } else {
                sv->kind = SV_FLOAT;
                sv->f = words[k].value == 2 ? NAN : words[k].value == 3 ? INFINITY : -INFINITY;
            }
            return words[k].tag;
        }
    }
    if (hint == 'M')
        return RT_STR;
    if (hint == '.') {
        if (go_parse_dot_float(in, len, &sv->f)) {
            sv->kind = SV_FLOAT;
            return RT_FLOAT;
        }
        return RT_STR;
    }
    /* Untagged timestamps stay strings; a string like one can be no number either. */
    if (tagged && want == RT_TIMESTAMP && parse_timestamp(in, len))
        return RT_TIMESTAMP;
    char stack[128];
    char *plain = len < sizeof stack ? stack : malloc(len + 1);
    if (!plain)
        return RT_STR; /* cannot happen for sane sizes; a string is the safe reading */
    size_t n = 0;
    for (size_t k = 0; k < len; k++)
        if (in[k] != '_')
            plain[n++] = in[k];
    plain[n] = '\0';
    rtag t = RT_STR;
    if (go_parse_int(plain, n, 0, &sv->i) == 0) {
        sv->kind = SV_INT;
        t = RT_INT;
    } else if (go_parse_uint(plain, n, 0, &sv->u) == 0) {
        sv->kind = SV_UINT;
        t = RT_INT;
    } else if (yaml_style_float(plain, n) && parse_float_text(plain, n, &sv->f)) {
        sv->kind = SV_FLOAT;
        t = RT_FLOAT;
    } else if (n >= 2 && plain[0] == '0' && plain[1] == 'b') {
        if (go_parse_int(plain + 2, n - 2, 2, &sv->i) == 0) {
            sv->kind = SV_INT;
            t = RT_INT;
        } else if (go_parse_uint(plain + 2, n - 2, 2, &sv->u) == 0) {
            sv->kind = SV_UINT;
            t = RT_INT;
        }
    } else if (n >= 3 && plain[0] == '-' && plain[1] == '0' && plain[2] == 'b') {
        plain[2] = '-'; /* ParseInt("-" + plain[3:], 2, 64) */
        if (go_parse_int(plain + 2, n - 2, 2, &sv->i) == 0) {
            sv->kind = SV_INT;
            t = RT_INT;
        }
    }
    if (plain != stack)
        free(plain);
    if (t == RT_STR) {
        sv->kind = SV_STR;
        sv->s = in;
        sv->slen = len;
    }
    return t;
}

/* Go's base64.StdEncoding.DecodeString, which skips CR and LF. Returns owned text. */
static char *base64_decode(const char *s, size_t len, size_t *outlen)
{
    char *out = malloc(len / 4 * 3 + 4);
    if (!out)
        return NULL;
    uint32_t acc = 0;
    size_t n = 0, q = 0, pad = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        int v;
        if (c == '\r' || c == '\n')
            continue;
        if (c == '=') {
            pad++;
            q++;
            continue;
        }
        if (pad)
            goto bad;
        if (c >= 'A' && c <= 'Z')
            v = c - 'A';
        else if (c >= 'a' && c <= 'z')
            v = c - 'a' + 26;
        else if (c >= '0' && c <= '9')
            v = c - '0' + 52;
        else if (c == '+')
            v = 62;
        else if (c == '/')
            v = 63;
        else
            goto bad;
        acc = (acc << 6) | (uint32_t)v;
        q++;
        if (q % 4 == 0) {
            out[n++] = (char)(acc >> 16);
            out[n++] = (char)(acc >> 8);
            out[n++] = (char)acc;
            acc = 0;
        }
    }
    if (q % 4 != 0 || pad > 2)
        goto bad;
    if (pad) {
        size_t have = 4 - pad; /* characters in the last quantum */
        acc <<= 6 * pad;
        out[n++] = (char)(acc >> 16);
        if (have == 3)
            out[n++] = (char)(acc >> 8);
    }
    out[n] = '\0';
    *outlen = n;
    return out;
bad:
    free(out);
    return NULL;
}

static bool utf8_valid(const char *s, size_t len)
{
    reader r = {.name = "", .buf = s, .len = len};
    return check_text(&r) == CW_OK;
}

/* Resolves a scalar event as go-yaml's decoder does for an interface{} target. */
static cw_result resolve_event(const reader *r, pos p, const yaml_event_t *ev, scalar *sv)
{
    const char *tag = (const char *)ev->data.scalar.tag;
    const char *in = (const char *)ev->data.scalar.value;
    size_t len = ev->data.scalar.length;
    memset(sv, 0, sizeof *sv);
    sv->kind = SV_STR;
    sv->s = in;
    sv->slen = len;
    if (memchr(in, '\0', len))
        return fail_at(r, CW_EINVAL, p, "a string contains a NUL character");
    if (!tag && !ev->data.scalar.plain_implicit)
        return CW_OK; /* quoted, untagged: a string */
    rtag want = RT_STR;
    bool tagged = false;
    if (tag && strncmp(tag, TAG_PREFIX, strlen(TAG_PREFIX)) == 0) {
        const char *t = tag + strlen(TAG_PREFIX);
        static const struct {
            const char *name;
            rtag tag;
        } known[] = {{"str", RT_STR}, {"null", RT_NULL},   {"bool", RT_BOOL},
                     {"int", RT_INT}, {"float", RT_FLOAT}, {"timestamp", RT_TIMESTAMP}};
        for (size_t k = 0; k < sizeof known / sizeof known[0]; k++) {
            if (strcmp(t, known[k].name) == 0) {
                want = known[k].tag;
                tagged = true;
            }
        }
        if (!tagged && strcmp(t, "binary") == 0) {
            size_t n;
            char *bin = base64_decode(in, len, &n);
            if (!bin)
                return fail_at(r, CW_EINVAL, p, "!!binary value contains invalid base64 data");
            if (memchr(bin, '\0', n) || !utf8_valid(bin, n)) {
                free(bin);
                return fail_at(r, CW_EINVAL, p, "!!binary value is not UTF-8 text");
            }
            sv->owned = bin;
            sv->s = bin;
            sv->slen = n;
            return CW_OK;
        }
    }
    if (tag && !tagged)
        return CW_OK; /* other tags (local ones, "!", !!merge on a value) keep the text */
    rtag got = resolve_plain(in, len, want, tagged, sv);
    if (!tagged || got == want || want == RT_STR)
        return CW_OK;
    if (want == RT_FLOAT && got == RT_INT && sv->kind == SV_INT) {
        sv->kind = SV_FLOAT;
        sv->f = (double)sv->i;
        return CW_OK;
    }
    return fail_at(r, CW_EINVAL, p, "cannot read a %s value as %s", rtag_name(got),
                   rtag_name(want));
}

static cw_result scalar_value(const reader *r, pos p, const scalar *sv, cJSON **out)
{
    char num[NUM_TEXT_MAX] = "";
    *out = NULL;
    switch (sv->kind) {
    case SV_NULL: *out = cJSON_CreateNull(); break;
    case SV_BOOL: *out = cJSON_CreateBool(sv->b); break;
    case SV_INT:
        snprintf(num, sizeof num, "%" PRId64, sv->i);
        *out = cJSON_CreateRaw(num);
        break;
    case SV_UINT:
        snprintf(num, sizeof num, "%" PRIu64, sv->u);
        *out = cJSON_CreateRaw(num);
        break;
    case SV_FLOAT:
        if (!isfinite(sv->f))
            return fail_at(r, CW_EINVAL, p, "%s cannot be represented in JSON",
                           isnan(sv->f) ? ".nan"
                           : sv->f > 0  ? ".inf"
                                        : "-.inf");
        go_json_float(sv->f, num, sizeof num);
        *out = cJSON_CreateRaw(num);
        break;
    case SV_STR: *out = cJSON_CreateString(sv->s); break;
    }
    if (!*out)
        return cw_fail(r->err, CW_ENOMEM, "%s: out of memory", r->name);
    return CW_OK;
}

/* The JSON key sigs.k8s.io/yaml makes of a scalar key. Returns owned text. */
static cw_result scalar_key(const reader *r, pos p, const scalar *sv, char **out)
{
    char num[NUM_TEXT_MAX] = "";
    const char *text = num;
    size_t len;
    *out = NULL;
    switch (sv->kind) {
    case SV_NULL: return fail_at(r, CW_EINVAL, p, "a map key is null");
    case SV_UINT:
        return fail_at(r, CW_EINVAL, p, "a map key is an integer above 9223372036854775807");
    case SV_BOOL: text = sv->b ? "true" : "false"; break;
    case SV_INT: snprintf(num, sizeof num, "%" PRId64, sv->i); break;
    case SV_FLOAT: go_key_float(sv->f, num, sizeof num); break;
    case SV_STR: text = sv->s; break;
    }
    len = sv->kind == SV_STR ? sv->slen : strlen(text);
    *out = malloc(len + 1);
    if (!*out)
        return cw_fail(r->err, CW_ENOMEM, "%s: out of memory", r->name);
    memcpy(*out, text, len);
    (*out)[len] = '\0';
    return CW_OK;
}

/* ---------------------------------------------------------------- JSON documents */

typedef struct jparser {
    reader *r;
    const char *s;
    size_t end, i;
    bool syntax; /* the failure says the text is not JSON (so it may be YAML) */
    sbuf str;
} jparser;

static cw_result jfail(jparser *jp, cw_result code, bool syntax, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static cw_result jfail(jparser *jp, cw_result code, bool syntax, const char *fmt, ...)
{
    char msg[CW_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    jp->syntax = syntax;
    return fail_at(jp->r, code, pos_at(jp->r, jp->i), "%s", msg);
}

static void json_ws(jparser *jp)
{
    while (jp->i < jp->end && (jp->s[jp->i] == ' ' || jp->s[jp->i] == '\t' ||
                               jp->s[jp->i] == '\n' || jp->s[jp->i] == '\r'))
        jp->i++;
}

static int hex4(const char *s)
{
    int v = 0;
    for (int k = 0; k < 4; k++) {
        char c = s[k];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= c - '0';
        else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
            v |= (c | 0x20) - 'a' + 10;
        else
            return -1;
    }
    return v;
}

static bool put_utf8(sbuf *b, uint32_t cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xc0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xe0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        u[2] = (char)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        u[0] = (char)(0xf0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        u[3] = (char)(0x80 | (cp & 0x3f));
        n = 4;
    }
    return sbuf_put(b, u, n);
}

/* Reads a JSON string at jp->i (on the quote) into jp->str. Lone surrogates become U+FFFD,
 * as encoding/json does. */
static cw_result json_string(jparser *jp)
{
    jp->str.len = 0;
    if (!sbuf_put(&jp->str, "", 0))
        return cw_fail(jp->r->err, CW_ENOMEM, "%s: out of memory", jp->r->name);
    jp->i++;
    for (;;) {
        size_t run = jp->i;
        while (jp->i < jp->end && jp->s[jp->i] != '"' && jp->s[jp->i] != '\\' &&
               (unsigned char)jp->s[jp->i] >= 0x20)
            jp->i++;
        if (!sbuf_put(&jp->str, jp->s + run, jp->i - run))
            return cw_fail(jp->r->err, CW_ENOMEM, "%s: out of memory", jp->r->name);
        if (jp->i >= jp->end)
            return jfail(jp, CW_EINVAL, true, "unterminated string");
        char c = jp->s[jp->i];
        if (c == '"') {
            jp->i++;
            return CW_OK;
        }
        if (c != '\\')
            return jfail(jp, CW_EINVAL, true, "control character in a string");
        if (jp->i + 1 >= jp->end)
            return jfail(jp, CW_EINVAL, true, "unterminated string");
        char e = jp->s[jp->i + 1];
        const char *simple = strchr("\"\\/bfnrt", e);
        if (e && simple) {
            static const char out[] = "\"\\/\b\f\n\r\t";
            char ch = out[simple - "\"\\/bfnrt"];
            if (!sbuf_put(&jp->str, &ch, 1))
                return cw_fail(jp->r->err, CW_ENOMEM, "%s: out of memory", jp->r->name);
            jp->i += 2;
            continue;
        }
        if (e != 'u' || jp->i + 6 > jp->end || hex4(jp->s + jp->i + 2) < 0)
            return jfail(jp, CW_EINVAL, true, "invalid escape in a string");
        uint32_t cp = (uint32_t)hex4(jp->s + jp->i + 2);
        if (cp == 0)
            return jfail(jp, CW_EINVAL, false, "a string contains \\u0000");
        jp->i += 6;
        if (cp >= 0xd800 && cp <= 0xdbff && jp->i + 6 <= jp->end && jp->s[jp->i] == '\\' &&
            jp->s[jp->i + 1] == 'u') {
            int lo = hex4(jp->s + jp->i + 2);
            if (lo >= 0xdc00 && lo <= 0xdfff) {
                cp = 0x10000 + ((cp - 0xd800) << 10) + ((uint32_t)lo - 0xdc00);
                jp->i += 6;
            }
        }
        if (cp >= 0xd800 && cp <= 0xdfff)
            cp = 0xfffd;
        if (!put_utf8(&jp->str, cp))
            return cw_fail(jp->r->err, CW_ENOMEM, "%s: out of memory", jp->r->name);
    }
}

static cw_result json_value(jparser *jp, size_t depth, cJSON **out);

static cw_result json_container(jparser *jp, size_t depth, cJSON **out)
{
    bool is_map = jp->s[jp->i] == '{';
    char close = is_map ? '}' : ']';
    strmap keys = {0};
    cJSON *node = NULL, *item = NULL;
    char *key = NULL;
    cw_result rc;
    if (depth + 1 > MANIFEST_DEPTH_MAX) {
        rc = jfail(jp, CW_ELIMIT, false, "nesting deeper than %d", MANIFEST_DEPTH_MAX);
        goto out;
    }
    node = is_map ? cJSON_CreateObject() : cJSON_CreateArray();
    if (!node) {
        rc = cw_fail(jp->r->err, CW_ENOMEM, "%s: out of memory", jp->r->name);
        goto out;
    }
    jp->i++;
    json_ws(jp);
    if (jp->i < jp->end && jp->s[jp->i] == close) {
        jp->i++;
        rc = CW_OK;
        goto out;
    }
    for (;;) {
        json_ws(jp);
        size_t key_at = jp->i;
        if (is_map) {
            if (jp->i >= jp->end || jp->s[jp->i] != '"') {
                rc = jfail(jp, CW_EINVAL, true, "expected a string key");
                goto out;
            }
            rc = json_string(jp);
            if (rc)
                goto out;
            key = malloc(jp->str.len + 1);
            if (!key) {
                rc = cw_fail(jp->r->err, CW_ENOMEM, "%s: out of memory", jp->r->name);
                goto out;
            }
            memcpy(key, jp->str.p, jp->str.len + 1);
            json_ws(jp);
            if (jp->i >= jp->end || jp->s[jp->i] != ':') {
                rc = jfail(jp, CW_EINVAL, true, "expected ':'");
                goto out;
            }
            jp->i++;
        }
        rc = json_value(jp, depth + 1, &item);
        if (rc)
            goto out;
        if (is_map) {
            if (strmap_find(&keys, key)) {
                char shown[KEY_SHOW_MAX * 4 + 8];
                key_show(key, strlen(key), shown, sizeof shown);
                jp->i = key_at;
                rc = jfail(jp, CW_EINVAL, false, "duplicate key \"%s\"", shown);
                goto out;
            }
            if (!cJSON_AddItemToObject(node, key, item)) {
                rc = cw_fail(jp->r->err, CW_ENOMEM, "%s: out of memory", jp->r->name);
                goto out;
            }
            cJSON *added = item;
            item = NULL;
            free(key);
            key = NULL;
            if (!strmap_add(&keys, added->string)) {
                rc = cw_fail(jp->r->err, CW_ENOMEM, "%s: out of memory", jp->r->name);
                goto out;
            }
        } else {
            if (!cJSON_AddItemToArray(node, item)) {
                rc = cw_fail(jp->r->err, CW_ENOMEM, "%s: out of memory", jp->r->name);
                goto out;
            }
            item = NULL;
        }
        json_ws(jp);
        if (jp->i < jp->end && jp->s[jp->i] == ',') {
            jp->i++;
            continue;
        }
        if (jp->i < jp->end && jp->s[jp->i] == close) {
            jp->i++;
            rc = CW_OK;
            goto out;
        }
        rc = jfail(jp, CW_EINVAL, true, "expected ',' or '%c'", close);
        goto out;
    }
out:
    strmap_free(&keys);
    free(key);
    cJSON_Delete(item);
    if (rc) {
        cJSON_Delete(node);
        node = NULL;
    }
    *out = node;
    return rc;
}

static cw_result json_number(jparser *jp, cJSON **out)
{
    const char *s = jp->s;
    size_t start = jp->i, i = jp->i, k;
    if (i < jp->end && s[i] == '-')
        i++;
    if (i < jp->end && s[i] == '0') {
        i++;
    } else {
        for (k = i; i < jp->end && s[i] >= '0' && s[i] <= '9'; i++)
            ;
        if (i == k)
            return jfail(jp, CW_EINVAL, true, "invalid number");
    }
    if (i < jp->end && s[i] == '.') {
        for (k = ++i; i < jp->end && s[i] >= '0' && s[i] <= '9'; i++)
            ;
        if (i == k) {
            jp->i = i;
            return jfail(jp, CW_EINVAL, true, "invalid number");
        }
    }
    if (i < jp->end && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < jp->end && (s[i] == '+' || s[i] == '-'))
            i++;
        for (k = i; i < jp->end && s[i] >= '0' && s[i] <= '9'; i++)
            ;
        if (i == k) {
            jp->i = i;
            return jfail(jp, CW_EINVAL, true, "invalid number");
        }
    }
    char *text = malloc(i - start + 1);
    if (!text)
        return cw_fail(jp->r->err, CW_ENOMEM, "%s: out of memory", jp->r->name);
    memcpy(text, s + start, i - start);
    text[i - start] = '\0';
    if (isinf(strtod(text, NULL))) {
        free(text);
        return jfail(jp, CW_EINVAL, false, "number out of range");
    }
    *out = cJSON_CreateRaw(text);
    free(text);
    if (!*out)
        return cw_fail(jp->r->err, CW_ENOMEM, "%s: out of memory", jp->r->name);
    jp->i = i;
    return CW_OK;
}

static cw_result json_value(jparser *jp, size_t depth, cJSON **out)
{
    *out = NULL;
    json_ws(jp);
    if (jp->i >= jp->end)
        return jfail(jp, CW_EINVAL, true, "unexpected end of input");
    cw_result rc = take_nodes(jp->r, 1, 0, pos_at(jp->r, jp->i));
    if (rc) {
        jp->syntax = false;
        return rc;
    }
    char c = jp->s[jp->i];
    if (c == '{' || c == '[')
        return json_container(jp, depth, out);
    if (c == '"') {
        rc = json_string(jp);
        if (rc)
            return rc;
        *out = cJSON_CreateString(jp->str.p);
    } else if (c == '-' || (c >= '0' && c <= '9')) {
        return json_number(jp, out);
    } else {
        static const char *words[] = {"true", "false", "null"};
        size_t k = 0;
        for (; k < 3; k++) {
            size_t n = strlen(words[k]);
            if (jp->end - jp->i >= n && memcmp(jp->s + jp->i, words[k], n) == 0)
                break;
        }
        if (k == 3)
            return jfail(jp, CW_EINVAL, true, "unexpected character");
        jp->i += strlen(words[k]);
        *out = k == 2 ? cJSON_CreateNull() : cJSON_CreateBool(k == 0);
    }
    if (!*out)
        return cw_fail(jp->r->err, CW_ENOMEM, "%s: out of memory", jp->r->name);
    return CW_OK;
}

static bool starts_json(const char *s, size_t len)
{
    size_t i = 0;
    while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
        i++;
    return i < len && (s[i] == '{' || s[i] == '[');
}

/* ---------------------------------------------------------------- the document list */

typedef struct doclist {
    cJSON **docs;
    size_t count, cap;
} doclist;

static cw_result doclist_push(reader *r, doclist *l, cJSON *doc, pos p)
{
    if (l->count >= MANIFEST_DOCS_MAX) {
        cJSON_Delete(doc);
        return fail_at(r, CW_ELIMIT, p, "more than %d documents", MANIFEST_DOCS_MAX);
    }
    if (l->count == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 4;
        cJSON **docs = realloc(l->docs, cap * sizeof *docs);
        if (!docs) {
            cJSON_Delete(doc);
            return cw_fail(r->err, CW_ENOMEM, "%s: out of memory", r->name);
        }
        l->docs = docs;
        l->cap = cap;
    }
    l->docs[l->count++] = doc;
    return CW_OK;
}

static void doclist_clear(doclist *l)
{
    for (size_t i = 0; i < l->count; i++)
        cJSON_Delete(l->docs[i]);
    free(l->docs);
    memset(l, 0, sizeof *l);
}

/* Reads JSON values from s[from..to) into l: all of them (many) or exactly one. */
static cw_result read_json(reader *r, size_t from, size_t to, bool many, doclist *l, bool *syntax)
{
    jparser jp = {.r = r, .s = r->buf, .end = to, .i = from};
    cw_result rc = CW_OK;
    size_t got = 0;
    *syntax = false;
    for (;;) {
        json_ws(&jp);
        if (jp.i >= jp.end)
            break;
        if (got && !many) {
            rc = jfail(&jp, CW_EINVAL, true, "text after the JSON value");
            break;
        }
        pos p = pos_at(r, jp.i);
        cJSON *doc;
        rc = json_value(&jp, 0, &doc);
        if (rc)
            break;
        rc = doclist_push(r, l, doc, p);
        if (rc) {
            jp.syntax = false;
            break;
        }
        got++;
    }
    free(jp.str.p);
    *syntax = rc && jp.syntax;
    return rc;
}

/* ---------------------------------------------------------------- YAML documents */

enum { ANCHOR_OPEN, ANCHOR_NODE, ANCHOR_SCALAR };

typedef struct anchor {
    int kind;
    unsigned gen;  /* which definition; a collection completes its own definition only */
    cJSON *node;   /* ANCHOR_NODE: borrowed from the document or the graveyard */
    scalar sv;     /* ANCHOR_SCALAR: owned text in sv.owned */
    size_t count;  /* nodes */
    size_t bytes;  /* text */
    size_t height; /* nesting of collections */
} anchor;

typedef struct frame {
    cJSON *node;
    bool is_map;
    bool merge_value; /* the value of a << key, merged into the frame below at its end */
    char *key;        /* maps: the pending key (owned), NULL while a key is expected */
    bool key_merge;   /* maps: the pending key is << */
    strmap keys;      /* maps: key -> item; aux 1 if written by an explicit key */
    char *anchor;     /* owned name of the anchor this collection defines */
    unsigned anchor_gen;
    size_t count, bytes, height;
} frame;

typedef struct builder {
    reader *r;
    size_t line0; /* line of the chunk's first line */
    frame *stack;
    size_t depth, cap;
    strmap anchors; /* name (owned by the anchor slot) -> anchor */
    unsigned gen;
    cJSON *graveyard;
    cJSON *root;
    bool have_root;
} builder;

static pos ev_pos(const builder *b, yaml_mark_t m)
{
    pos p = {b->line0 + m.line, m.column + 1};
    return p;
}

static void anchor_clear(anchor *a)
{
    free(a->sv.owned);
    memset(a, 0, sizeof *a);
}

static void builder_free(builder *b)
{
    for (size_t i = 0; i < b->depth; i++) {
        frame *f = &b->stack[i];
        if (i == 0 || f->merge_value)
            cJSON_Delete(f->node);
        free(f->key);
        free(f->anchor);
        strmap_free(&f->keys);
    }
    free(b->stack);
    for (size_t i = 0; i < b->anchors.cap; i++) {
        slot *s = &b->anchors.slots[i];
        if (!s->key)
            continue;
        anchor_clear(s->ptr);
        free(s->ptr);
        free((char *)s->key);
    }
    strmap_free(&b->anchors);
    cJSON_Delete(b->graveyard);
    cJSON_Delete(b->root);
}

static cw_result oom(const builder *b)
{
    return cw_fail(b->r->err, CW_ENOMEM, "%s: out of memory", b->r->name);
}

/* The anchor slot for name, created if new; a redefinition reuses the slot. */
static cw_result anchor_define(builder *b, const char *name, anchor **out)
{
    slot *s = strmap_find(&b->anchors, name);
    if (s) {
        anchor_clear(s->ptr);
    } else {
        char *copy = strdup(name);
        anchor *a = calloc(1, sizeof *a);
        if (!copy || !a || !(s = strmap_add(&b->anchors, copy))) {
            free(copy);
            free(a);
            return oom(b);
        }
        s->ptr = a;
    }
    anchor *a = s->ptr;
    a->gen = ++b->gen;
    *out = a;
    return CW_OK;
}

static bool in_key_position(const builder *b)
{
    if (!b->depth)
        return false;
    const frame *f = &b->stack[b->depth - 1];
    return f->is_map && !f->key && !f->key_merge;
}

static void bury(builder *b, cJSON *item)
{
    /* Cannot fail: adding to an array only links the item. */
    cJSON_AddItemToArray(b->graveyard, item);
}

static cw_result set_key(builder *b, pos p, char *key)
{
    frame *f = &b->stack[b->depth - 1];
    size_t len = strlen(key);
    cw_result rc = take_nodes(b->r, 0, len, p);
    if (rc) {
        free(key);
        return rc;
    }
    f->bytes += len;
    slot *s = strmap_find(&f->keys, key);
    if (s && s->aux) {
        char shown[KEY_SHOW_MAX * 4 + 8];
        key_show(key, strlen(key), shown, sizeof shown);
        free(key);
        return fail_at(b->r, CW_EINVAL, p, "duplicate key \"%s\"", shown);
    }
    f->key = key;
    return CW_OK;
}

static void grow(frame *f, size_t count, size_t bytes, size_t height)
{
    f->count += count;
    f->bytes += bytes;
    if (height + 1 > f->height)
        f->height = height + 1;
}

/* Puts item under key in map frame f, replacing a value a merge wrote. Takes ownership of
 * item even on failure. */
static cw_result map_put(builder *b, frame *f, const char *key, cJSON *item, bool explicit_key)
{
    slot *s = strmap_find(&f->keys, key);
    bool was_explicit = s && s->aux;
    if (s) {
        bury(b, cJSON_DetachItemViaPointer(f->node, s->ptr));
        s->key = NULL; /* the text lives on in the graveyard; re-point the slot below */
        s->ptr = NULL;
    }
    if (!cJSON_AddItemToObject(f->node, key, item)) {
        cJSON_Delete(item);
        return oom(b);
    }
    if (s) {
        s->key = item->string; /* same hash: same text */
    } else if (!(s = strmap_add(&f->keys, item->string))) {
        return oom(b);
    }
    s->ptr = item;
    s->aux = explicit_key || was_explicit;
    return CW_OK;
}

/* go-yaml v2 merge: the value of << is a map or a list of maps; the first map of a list
 * wins, and merged keys override keys written before (decode.go merge()). */
static cw_result merge_into(builder *b, frame *f, const cJSON *src, pos p)
{
    const cJSON **maps = NULL;
    size_t n = 0;
    cw_result rc = CW_OK;
    if (cJSON_IsArray(src)) {
        for (const cJSON *e = src->child; e; e = e->next, n++)
            if (!cJSON_IsObject(e))
                goto bad;
        maps = malloc((n ? n : 1) * sizeof *maps);
        if (!maps)
            return oom(b);
        n = 0;
        for (const cJSON *e = src->child; e; e = e->next)
            maps[n++] = e;
    } else if (!cJSON_IsObject(src)) {
        goto bad;
    }
    for (size_t k = maps ? n : 1; k-- > 0;) {
        const cJSON *m = maps ? maps[k] : src;
        for (const cJSON *c = m->child; c; c = c->next) {
            size_t height, bytes;
            size_t count = measure(c, &height, &bytes);
            rc = take_nodes(b->r, count, bytes, p);
            if (rc)
                goto out;
            cJSON *copy = cJSON_Duplicate(c, 1);
            if (!copy) {
                rc = oom(b);
                goto out;
            }
            rc = map_put(b, f, c->string, copy, false);
            if (rc)
                goto out;
            grow(f, count, bytes, height);
        }
    }
out:
    free(maps);
    return rc;
bad:
    return fail_at(b->r, CW_EINVAL, p, "a merge (<<) needs a map or a list of maps");
}

/* Delivers a finished value (scalar, alias copy or collection not attached at its start) to
 * the innermost open collection. Takes ownership of item. */
static cw_result deliver(builder *b, cJSON *item, size_t count, size_t bytes, size_t height, pos p)
{
    /* A copy of an anchored map member keeps its key; no list item or root may have one. */
    if (item->string) {
        cJSON_free(item->string);
        item->string = NULL;
    }
    if (!b->depth) {
        b->root = item;
        b->have_root = true;
        return CW_OK;
    }
    frame *f = &b->stack[b->depth - 1];
    if (!f->is_map) {
        if (!cJSON_AddItemToArray(f->node, item)) {
            cJSON_Delete(item);
            return oom(b);
        }
        grow(f, count, bytes, height);
        return CW_OK;
    }
    if (f->key_merge) {
        f->key_merge = false;
        cw_result rc = merge_into(b, f, item, p);
        bury(b, item);
        return rc;
    }
    cw_result rc = map_put(b, f, f->key, item, true);
    free(f->key);
    f->key = NULL;
    if (rc)
        return rc;
    grow(f, count, bytes, height);
    return CW_OK;
}

static cw_result on_scalar(builder *b, const yaml_event_t *ev)
{
    pos p = ev_pos(b, ev->start_mark);
    const char *tag = (const char *)ev->data.scalar.tag;
    bool key = in_key_position(b);
    scalar sv;
    cJSON *item = NULL;
    cw_result rc;
    if (key && ev->data.scalar.length == 2 && memcmp(ev->data.scalar.value, "<<", 2) == 0 &&
        (ev->data.scalar.plain_implicit || (tag && strcmp(tag, TAG_PREFIX "merge") == 0))) {
        b->stack[b->depth - 1].key_merge = true;
        return CW_OK;
    }
    rc = resolve_event(b->r, p, ev, &sv);
    if (rc)
        return rc;
    if (ev->data.scalar.anchor) {
        anchor *a;
        rc = anchor_define(b, (const char *)ev->data.scalar.anchor, &a);
        if (rc)
            goto out;
        a->kind = ANCHOR_SCALAR;
        a->sv = sv;
        a->sv.owned = malloc(sv.slen + 1);
        if (!a->sv.owned) {
            a->kind = ANCHOR_OPEN; /* unusable, and freed with the others */
            rc = oom(b);
            goto out;
        }
        memcpy(a->sv.owned, sv.s, sv.slen);
        a->sv.owned[sv.slen] = '\0';
        a->sv.s = a->sv.owned;
    }
    if (key) {
        char *k;
        rc = scalar_key(b->r, p, &sv, &k);
        if (!rc)
            rc = set_key(b, p, k);
        goto out;
    }
    rc = take_nodes(b->r, 1, sv.slen, p);
    if (!rc)
        rc = scalar_value(b->r, p, &sv, &item);
    if (!rc)
        rc = deliver(b, item, 1, sv.slen, 0, p);
out:
    free(sv.owned);
    return rc;
}

static cw_result on_alias(builder *b, const yaml_event_t *ev)
{
    pos p = ev_pos(b, ev->start_mark);
    const char *name = (const char *)ev->data.alias.anchor;
    slot *s = strmap_find(&b->anchors, name);
    char shown[KEY_SHOW_MAX * 4 + 8];
    key_show(name, strlen(name), shown, sizeof shown);
    if (!s)
        return fail_at(b->r, CW_EINVAL, p, "unknown anchor '%s'", shown);
    anchor *a = s->ptr;
    if (a->kind == ANCHOR_OPEN)
        return fail_at(b->r, CW_EINVAL, p, "anchor '%s' value contains itself", shown);
    if (in_key_position(b)) {
        if (a->kind != ANCHOR_SCALAR)
            return fail_at(b->r, CW_EINVAL, p, "a map key must be a scalar");
        char *k;
        cw_result rc = scalar_key(b->r, p, &a->sv, &k);
        return rc ? rc : set_key(b, p, k);
    }
    if (a->kind == ANCHOR_SCALAR) {
        cJSON *item;
        cw_result rc = take_nodes(b->r, 1, a->sv.slen, p);
        if (!rc)
            rc = scalar_value(b->r, p, &a->sv, &item);
        return rc ? rc : deliver(b, item, 1, a->sv.slen, 0, p);
    }
    if (b->depth + a->height > MANIFEST_DEPTH_MAX)
        return fail_at(b->r, CW_ELIMIT, p, "nesting deeper than %d (after alias expansion)",
                       MANIFEST_DEPTH_MAX);
    frame *f = b->depth ? &b->stack[b->depth - 1] : NULL;
    if (f && f->is_map && f->key_merge) {
        f->key_merge = false;
        return merge_into(b, f, a->node, p); /* reads the anchored map in place */
    }
    cw_result rc = take_nodes(b->r, a->count, a->bytes, p);
    if (rc)
        return rc;
    cJSON *copy = cJSON_Duplicate(a->node, 1);
    if (!copy)
        return oom(b);
    return deliver(b, copy, a->count, a->bytes, a->height, p);
}

static cw_result on_start(builder *b, const yaml_event_t *ev, bool is_map)
{
    pos p = ev_pos(b, ev->start_mark);
    const yaml_char_t *anchor_name =
        is_map ? ev->data.mapping_start.anchor : ev->data.sequence_start.anchor;
    if (in_key_position(b))
        return fail_at(b->r, CW_EINVAL, p, "a map key must be a scalar, not a %s",
                       is_map ? "map" : "list");
    if (b->depth + 1 > MANIFEST_DEPTH_MAX)
        return fail_at(b->r, CW_ELIMIT, p, "nesting deeper than %d", MANIFEST_DEPTH_MAX);
    cw_result rc = take_nodes(b->r, 1, 0, p);
    if (rc)
        return rc;
    if (b->depth == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 16;
        frame *stack = realloc(b->stack, cap * sizeof *stack);
        if (!stack)
            return oom(b);
        b->stack = stack;
        b->cap = cap;
    }
    cJSON *node = is_map ? cJSON_CreateObject() : cJSON_CreateArray();
    if (!node)
        return oom(b);
    frame *parent = b->depth ? &b->stack[b->depth - 1] : NULL;
    frame nf = {.node = node, .is_map = is_map, .count = 1, .height = 1};
    if (parent && parent->is_map && parent->key_merge) {
        nf.merge_value = true; /* merged at its end, owned until then */
        parent->key_merge = false;
    } else if (parent && parent->is_map) {
        rc = map_put(b, parent, parent->key, node, true);
        free(parent->key);
        parent->key = NULL;
        if (rc)
            return rc;
    } else if (parent) {
        if (!cJSON_AddItemToArray(parent->node, node)) {
            cJSON_Delete(node);
            return oom(b);
        }
    }
    if (anchor_name) {
        anchor *a;
        rc = anchor_define(b, (const char *)anchor_name, &a);
        if (!rc && !(nf.anchor = strdup((const char *)anchor_name)))
            rc = oom(b);
        if (rc) {
            if (!parent || nf.merge_value)
                cJSON_Delete(node);
            return rc;
        }
        a->kind = ANCHOR_OPEN;
        nf.anchor_gen = a->gen;
    }
    b->stack[b->depth++] = nf;
    return CW_OK;
}

static cw_result on_end(builder *b, pos p)
{
    frame f = b->stack[--b->depth];
    cw_result rc = CW_OK;
    strmap_free(&f.keys);
    if (f.anchor) {
        slot *s = strmap_find(&b->anchors, f.anchor);
        anchor *a = s ? s->ptr : NULL;
        if (a && a->gen == f.anchor_gen) {
            a->kind = ANCHOR_NODE;
            a->node = f.node;
            a->count = f.count;
            a->bytes = f.bytes;
            a->height = f.height;
        }
        free(f.anchor);
    }
    if (!b->depth) {
        b->root = f.node;
        b->have_root = true;
        return CW_OK;
    }
    frame *parent = &b->stack[b->depth - 1];
    if (f.merge_value) {
        rc = merge_into(b, parent, f.node, p);
        bury(b, f.node);
        return rc;
    }
    grow(parent, f.count, f.bytes, f.height);
    return rc;
}

static cw_result parser_error(builder *b, const yaml_parser_t *y)
{
    yaml_mark_t m = y->problem_mark;
    pos p = ev_pos(b, m);
    if (y->error == YAML_MEMORY_ERROR)
        return oom(b);
    if (y->context)
        return fail_at(b->r, CW_EINVAL, p, "%s (%s that started at line %zu)",
                       y->problem ? y->problem : "error", y->context,
                       b->line0 + y->context_mark.line);
    return fail_at(b->r, CW_EINVAL, p, "%s", y->problem ? y->problem : "invalid YAML");
}

/* Reads one document (a chunk between separators) with libyaml. */
static cw_result read_yaml(reader *r, size_t from, size_t to, size_t line0, cJSON **out)
{
    builder b = {.r = r, .line0 = line0};
    yaml_parser_t y;
    yaml_event_t ev;
    bool have_event = false, done = false;
    int documents = 0;
    cw_result rc = CW_OK;
    *out = NULL;
    if (!yaml_parser_initialize(&y))
        return cw_fail(r->err, CW_ENOMEM, "%s: out of memory", r->name);
    yaml_parser_set_input_string(&y, (const unsigned char *)r->buf + from, to - from);
    b.graveyard = cJSON_CreateArray();
    if (!b.graveyard) {
        rc = oom(&b);
        goto out;
    }
    while (!done) {
        if (!yaml_parser_parse(&y, &ev)) {
            rc = parser_error(&b, &y);
            goto out;
        }
        have_event = true;
        pos p = ev_pos(&b, ev.start_mark);
        switch (ev.type) {
        case YAML_STREAM_END_EVENT: done = true; break;
        case YAML_DOCUMENT_START_EVENT:
            if (++documents > 1)
                rc = fail_at(r, CW_EINVAL, p, "a second document without a \"---\" line before it");
            break;
        case YAML_SCALAR_EVENT: rc = on_scalar(&b, &ev); break;
        case YAML_ALIAS_EVENT: rc = on_alias(&b, &ev); break;
        case YAML_SEQUENCE_START_EVENT: rc = on_start(&b, &ev, false); break;
        case YAML_MAPPING_START_EVENT: rc = on_start(&b, &ev, true); break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT: rc = on_end(&b, p); break;
        default: break;
        }
        yaml_event_delete(&ev);
        have_event = false;
        if (rc)
            goto out;
    }
    if (!b.have_root) {
        b.root = cJSON_CreateNull();
        if (!b.root) {
            rc = oom(&b);
            goto out;
        }
    }
    *out = b.root;
    b.root = NULL;
out:
    if (have_event)
        yaml_event_delete(&ev);
    yaml_parser_delete(&y);
    builder_free(&b);
    return rc;
}

/* ---------------------------------------------------------------- reading a stream */

/* unicode.IsSpace for the text after "---". Returns the width of a space at i, else 0. */
static size_t space_width(const char *s, size_t len, size_t i)
{
    unsigned char c = (unsigned char)s[i];
    if (c == ' ' || (c >= '\t' && c <= '\r'))
        return 1;
    if (c == 0xc2 && i + 1 < len &&
        ((unsigned char)s[i + 1] == 0x85 || (unsigned char)s[i + 1] == 0xa0))
        return 2;
    if (i + 2 >= len)
        return 0;
    unsigned char c1 = (unsigned char)s[i + 1], c2 = (unsigned char)s[i + 2];
    if (c == 0xe1 && c1 == 0x9a && c2 == 0x80)
        return 3; /* U+1680 */
    if (c == 0xe2 && c1 == 0x80 &&
        ((c2 >= 0x80 && c2 <= 0x8a) || c2 == 0xa8 || c2 == 0xa9 || c2 == 0xaf))
        return 3; /* U+2000..200A, U+2028, U+2029, U+202F */
    if (c == 0xe2 && c1 == 0x81 && c2 == 0x9f)
        return 3; /* U+205F */
    if (c == 0xe3 && c1 == 0x80 && c2 == 0x80)
        return 3; /* U+3000 */
    return 0;
}

/* Reads one document, s[from..to): as JSON when it is one JSON value, else as YAML. */
static cw_result read_chunk(reader *r, size_t from, size_t to, pos at, doclist *l)
{
    cJSON *doc;
    if (starts_json(r->buf + from, to - from)) {
        bool syntax;
        cw_result rc = read_json(r, from, to, false, l, &syntax);
        if (!rc || !syntax)
            return rc;
    }
    cw_result rc = read_yaml(r, from, to, at.line, &doc);
    return rc ? rc : doclist_push(r, l, doc, at);
}

static cw_result read_stream(reader *r, doclist *l)
{
    size_t start = 0, i = 0;
    pos at = {1, 1}; /* position of i */
    pos chunk_at = at;
    cw_result rc;
    while (i < r->len) {
        const char *nl = memchr(r->buf + i, '\n', r->len - i);
        size_t end = nl ? (size_t)(nl - r->buf) : r->len;
        size_t next = nl ? end + 1 : r->len;
        bool separator = end - i >= 3 && memcmp(r->buf + i, "---", 3) == 0;
        if (separator) {
            size_t j = i + 3, w;
            while (j < end && (w = space_width(r->buf, r->len, j)))
                j += w;
            if (j < end && r->buf[j] != '#')
                return fail_at(r, CW_EINVAL, at,
                               "invalid document separator: only a comment may follow \"---\"");
            if (i > start) {
                rc = read_chunk(r, start, i, chunk_at, l);
                if (rc)
                    return rc;
            }
        }
        at = pos_advance(r->buf, r->len, at, i, next);
        i = next;
        if (separator) {
            start = next;
            chunk_at = at;
        }
    }
    return r->len > start ? read_chunk(r, start, r->len, chunk_at, l) : CW_OK;
}

cw_result manifest_read(const char *name, const char *buf, size_t len, manifest_docs *out,
                        cw_error *err)
{
    reader r = {.name = name ? name : "<input>", .buf = buf, .len = len, .err = err};
    doclist l = {0};
    cw_result rc;
    if (out) {
        out->docs = NULL;
        out->count = 0;
    }
    if (!out || (!buf && len))
        return cw_fail(err, CW_EINVAL, "%s: no input buffer or output", r.name);
    if (len > MANIFEST_INPUT_MAX)
        return cw_fail(err, CW_ELIMIT, "%s: input is larger than %u bytes", r.name,
                       (unsigned)MANIFEST_INPUT_MAX);
    if (!buf)
        return CW_OK;
    rc = check_text(&r);
    if (rc)
        return rc;
    if (starts_json(buf, len)) {
        bool syntax;
        rc = read_json(&r, 0, len, true, &l, &syntax);
        if (!rc)
            goto done;
        doclist_clear(&l);
        if (!syntax)
            return rc;
        r.nodes = r.bytes = 0; /* not JSON after all: read it as YAML */
    }
    rc = read_stream(&r, &l);
    if (rc) {
        doclist_clear(&l);
        return rc;
    }
done:
    out->docs = l.docs;
    out->count = l.count;
    return CW_OK;
}

void manifest_docs_free(manifest_docs *docs)
{
    if (!docs)
        return;
    for (size_t i = 0; i < docs->count; i++)
        cJSON_Delete(docs->docs[i]);
    free(docs->docs);
    docs->docs = NULL;
    docs->count = 0;
}

/* ---------------------------------------------------------------- writing YAML */

/* True if a plain scalar s reads back as the same string (go-yaml resolution). */
static bool plain_reads_back(const char *s, size_t len)
{
    scalar sv;
    if (len == 0 || (len == 2 && memcmp(s, "<<", 2) == 0))
        return false;
    return resolve_plain(s, len, RT_STR, false, &sv) == RT_STR;
}

/* Checks that a Raw node holds one number the YAML reader reads as a finite number. */
static bool raw_is_number(const char *s)
{
    scalar sv;
    if (!s || !*s)
        return false;
    rtag t = resolve_plain(s, strlen(s), RT_STR, false, &sv);
    return (t == RT_INT || t == RT_FLOAT) && (sv.kind != SV_FLOAT || isfinite(sv.f));
}

typedef struct ywriter {
    FILE *out;
    yaml_emitter_t e;
    bool io_error;
    cw_error *err;
} ywriter;

static int yaml_write_handler(void *data, unsigned char *buffer, size_t size)
{
    ywriter *w = data;
    if (size && fwrite(buffer, 1, size, w->out) != size) {
        w->io_error = true;
        return 0;
    }
    return 1;
}

static cw_result emit(ywriter *w, yaml_event_t *ev)
{
    if (yaml_emitter_emit(&w->e, ev))
        return CW_OK;
    if (w->io_error)
        return cw_fail(w->err, CW_EIO, "writing YAML: %s", strerror(errno));
    if (w->e.error == YAML_MEMORY_ERROR)
        return cw_fail(w->err, CW_ENOMEM, "writing YAML: out of memory");
    return cw_fail(w->err, CW_EINVAL, "writing YAML: %s",
                   w->e.problem ? w->e.problem : "emitter error");
}

static cw_result emit_scalar(ywriter *w, const char *s, yaml_scalar_style_t style)
{
    yaml_event_t ev;
    size_t len = strlen(s);
    if (len > INT_MAX || !utf8_valid(s, len))
        return cw_fail(w->err, CW_EINVAL, "writing YAML: a string is not valid UTF-8");
    if (!yaml_scalar_event_initialize(&ev, NULL, NULL, (const yaml_char_t *)s, (int)len, 1, 1,
                                      style))
        return cw_fail(w->err, CW_ENOMEM, "writing YAML: out of memory");
    return emit(w, &ev);
}

static cw_result emit_string(ywriter *w, const char *s, bool is_key)
{
    size_t len = strlen(s);
    yaml_scalar_style_t style = YAML_DOUBLE_QUOTED_SCALAR_STYLE;
    /* CR, LS and PS are line breaks to YAML: only escapes keep them. */
    if (strstr(s, "\xe2\x80\xa8") || strstr(s, "\xe2\x80\xa9") || strchr(s, '\r'))
        style = YAML_DOUBLE_QUOTED_SCALAR_STYLE;
    else if (memchr(s, '\n', len))
        style = is_key ? YAML_DOUBLE_QUOTED_SCALAR_STYLE : YAML_LITERAL_SCALAR_STYLE;
    else if (plain_reads_back(s, len))
        style = YAML_PLAIN_SCALAR_STYLE;
    return emit_scalar(w, s, style);
}

static cw_result number_text(const cJSON *n, char *buf, size_t cap, const char **text,
                             cw_error *err)
{
    if (cJSON_IsRaw(n)) {
        if (!raw_is_number(n->valuestring))
            return cw_fail(err, CW_EINVAL, "a raw JSON value is not a number");
        *text = n->valuestring;
        /* JSON's -0 would read back as the integer 0: keep the float's sign. */
        if (strcmp(*text, "-0") == 0)
            *text = "-0.0";
        return CW_OK;
    }
    if (!isfinite(n->valuedouble))
        return cw_fail(err, CW_EINVAL, "a number is not finite");
    go_json_float(n->valuedouble, buf, cap);
    *text = buf;
    return CW_OK;
}

static cw_result emit_node(ywriter *w, const cJSON *n, size_t depth)
{
    yaml_event_t ev;
    char num[NUM_TEXT_MAX] = "";
    const char *text;
    cw_result rc;
    if (cJSON_IsObject(n) || cJSON_IsArray(n)) {
        if (depth + 1 > MANIFEST_DEPTH_MAX)
            return cw_fail(w->err, CW_ELIMIT, "writing YAML: nesting deeper than %d",
                           MANIFEST_DEPTH_MAX);
        bool is_map = cJSON_IsObject(n);
        int style = n->child ? 0 : 1; /* empty collections as {} and [] */
        int ok = is_map ? yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
                                                              style ? YAML_FLOW_MAPPING_STYLE
                                                                    : YAML_BLOCK_MAPPING_STYLE)
                        : yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
                                                               style ? YAML_FLOW_SEQUENCE_STYLE
                                                                     : YAML_BLOCK_SEQUENCE_STYLE);
        if (!ok)
            return cw_fail(w->err, CW_ENOMEM, "writing YAML: out of memory");
        rc = emit(w, &ev);
        if (rc)
            return rc;
        for (const cJSON *c = n->child; c; c = c->next) {
            if (is_map) {
                if (!c->string)
                    return cw_fail(w->err, CW_EINVAL, "writing YAML: a map member has no key");
                rc = emit_string(w, c->string, true);
                if (rc)
                    return rc;
            }
            rc = emit_node(w, c, depth + 1);
            if (rc)
                return rc;
        }
        if (is_map)
            yaml_mapping_end_event_initialize(&ev);
        else
            yaml_sequence_end_event_initialize(&ev);
        return emit(w, &ev);
    }
    if (cJSON_IsString(n))
        return emit_string(w, n->valuestring ? n->valuestring : "", false);
    if (cJSON_IsNumber(n) || cJSON_IsRaw(n)) {
        rc = number_text(n, num, sizeof num, &text, w->err);
        return rc ? rc : emit_scalar(w, text, YAML_PLAIN_SCALAR_STYLE);
    }
    if (cJSON_IsBool(n))
        return emit_scalar(w, cJSON_IsTrue(n) ? "true" : "false", YAML_PLAIN_SCALAR_STYLE);
    if (cJSON_IsNull(n))
        return emit_scalar(w, "null", YAML_PLAIN_SCALAR_STYLE);
    return cw_fail(w->err, CW_EINVAL, "writing YAML: a node of unknown type");
}

cw_result manifest_write_yaml(FILE *out, const cJSON *doc, int first, cw_error *err)
{
    ywriter w = {.out = out, .err = err};
    yaml_event_t ev;
    cw_result rc;
    if (!out || !doc)
        return cw_fail(err, CW_EINVAL, "writing YAML: no output or document");
    /* Our own separator: libyaml would write "--- value" for a scalar document, which
     * kubectl's splitter rejects. */
    if (!first && fputs("---\n", out) == EOF)
        return cw_fail(err, CW_EIO, "writing YAML: %s", strerror(errno));
    if (!yaml_emitter_initialize(&w.e))
        return cw_fail(err, CW_ENOMEM, "writing YAML: out of memory");
    yaml_emitter_set_output(&w.e, yaml_write_handler, &w);
    yaml_emitter_set_unicode(&w.e, 1);
    yaml_emitter_set_indent(&w.e, 2);
    yaml_emitter_set_width(&w.e, -1);
    yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
    rc = emit(&w, &ev);
    if (rc)
        goto out;
    yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1);
    rc = emit(&w, &ev);
    if (rc)
        goto out;
    rc = emit_node(&w, doc, 0);
    if (rc)
        goto out;
    yaml_document_end_event_initialize(&ev, 1);
    rc = emit(&w, &ev);
    if (rc)
        goto out;
    yaml_stream_end_event_initialize(&ev);
    rc = emit(&w, &ev);
    if (rc)
        goto out;
    if (!yaml_emitter_flush(&w.e))
        rc = cw_fail(err, CW_EIO, "writing YAML: %s", strerror(errno));
out:
    yaml_emitter_delete(&w.e);
    return rc;
}

/* ---------------------------------------------------------------- writing JSON */

static bool json_number_text(const char *s)
{
    size_t i = 0, k;
    if (s[i] == '-')
        i++;
    if (s[i] == '0') {
        i++;
    } else {
        for (k = i; s[i] >= '0' && s[i] <= '9'; i++)
            ;
        if (i == k)
            return false;
    }
    if (s[i] == '.') {
        for (k = ++i; s[i] >= '0' && s[i] <= '9'; i++)
            ;
        if (i == k)
            return false;
    }
    if (s[i] == 'e' || s[i] == 'E') {
        i++;
        if (s[i] == '+' || s[i] == '-')
            i++;
        for (k = i; s[i] >= '0' && s[i] <= '9'; i++)
            ;
        if (i == k)
            return false;
    }
    return s[i] == '\0';
}

static bool put_json_string(FILE *out, const char *s)
{
    if (fputc('"', out) == EOF)
        return false;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        const char *esc = NULL;
        char u[8];
        switch (c) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        case '\b': esc = "\\b"; break;
        case '\f': esc = "\\f"; break;
        default:
            if (c < 0x20) {
                snprintf(u, sizeof u, "\\u%04x", c);
                esc = u;
            }
        }
        if (esc ? fputs(esc, out) == EOF : fputc(c, out) == EOF)
            return false;
    }
    return fputc('"', out) != EOF;
}

static bool put_indent(FILE *out, size_t depth)
{
    if (fputc('\n', out) == EOF)
        return false;
    for (size_t i = 0; i < depth; i++)
        if (fputs("  ", out) == EOF)
            return false;
    return true;
}

static cw_result put_json(FILE *out, const cJSON *n, size_t depth, cw_error *err)
{
    char num[NUM_TEXT_MAX] = "";
    const char *text;
    cw_result rc;
    if (cJSON_IsObject(n) || cJSON_IsArray(n)) {
        bool is_map = cJSON_IsObject(n);
        if (depth + 1 > MANIFEST_DEPTH_MAX)
            return cw_fail(err, CW_ELIMIT, "writing JSON: nesting deeper than %d",
                           MANIFEST_DEPTH_MAX);
        if (fputc(is_map ? '{' : '[', out) == EOF)
            goto io;
        for (const cJSON *c = n->child; c; c = c->next) {
            if (!put_indent(out, depth + 1))
                goto io;
            if (is_map) {
                if (!c->string || !utf8_valid(c->string, strlen(c->string)))
                    return cw_fail(err, CW_EINVAL, "writing JSON: a key is missing or not UTF-8");
                if (!put_json_string(out, c->string) || fputs(": ", out) == EOF)
                    goto io;
            }
            rc = put_json(out, c, depth + 1, err);
            if (rc)
                return rc;
            if (c->next && fputc(',', out) == EOF)
                goto io;
        }
        if (n->child && !put_indent(out, depth))
            goto io;
        if (fputc(is_map ? '}' : ']', out) == EOF)
            goto io;
        return CW_OK;
    }
    if (cJSON_IsString(n)) {
        const char *s = n->valuestring ? n->valuestring : "";
        if (!utf8_valid(s, strlen(s)))
            return cw_fail(err, CW_EINVAL, "writing JSON: a string is not valid UTF-8");
        return put_json_string(out, s) ? CW_OK : cw_fail(err, CW_EIO, "writing JSON failed");
    }
    if (cJSON_IsRaw(n)) {
        if (!n->valuestring || !json_number_text(n->valuestring))
            return cw_fail(err, CW_EINVAL, "writing JSON: a raw value is not a number");
        text = n->valuestring;
    } else if (cJSON_IsNumber(n)) {
        rc = number_text(n, num, sizeof num, &text, err);
        if (rc)
            return rc;
    } else if (cJSON_IsBool(n)) {
        text = cJSON_IsTrue(n) ? "true" : "false";
    } else if (cJSON_IsNull(n)) {
        text = "null";
    } else {
        return cw_fail(err, CW_EINVAL, "writing JSON: a node of unknown type");
    }
    if (fputs(text, out) == EOF)
        goto io;
    return CW_OK;
io:
    return cw_fail(err, CW_EIO, "writing JSON: %s", strerror(errno));
}

cw_result manifest_write_json(FILE *out, const cJSON *doc, cw_error *err)
{
    if (!out || !doc)
        return cw_fail(err, CW_EINVAL, "writing JSON: no output or document");
    cw_result rc = put_json(out, doc, 0, err);
    if (rc)
        return rc;
    if (fputc('\n', out) == EOF)
        return cw_fail(err, CW_EIO, "writing JSON: %s", strerror(errno));
    return CW_OK;
}
