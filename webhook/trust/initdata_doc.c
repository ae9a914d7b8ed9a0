/* initdata_doc: reading, checking, encoding and hashing initdata documents. See
 * initdata_doc.h for the TOML subset and why it is ours. */
#include "initdata_doc.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "b64.h"
#include "intparse.h"

#define KEY_MAX 64     /* bytes of a key or short string value kept for comparison */
#define SEGMENTS_MAX 2 /* dotted key segments kept; deeper keys are only skipped */

static const char *const alg_names[] = {"sha256", "sha384", "sha512"};

const char *initdata_alg_name(initdata_alg alg)
{
    return (size_t)alg < sizeof alg_names / sizeof alg_names[0] ? alg_names[alg] : "unknown";
}

bool initdata_alg_parse(const char *s, initdata_alg *alg)
{
    for (size_t i = 0; i < sizeof alg_names / sizeof alg_names[0]; i++) {
        if (strcmp(s, alg_names[i]) == 0) {
            *alg = (initdata_alg)i;
            return true;
        }
    }
    return false;
}

/* ---- the TOML subset ---------------------------------------------------------------- */

typedef struct scan {
    const unsigned char *s;
    size_t len, pos, line;
    const char *name;
    cw_error *err;
} scan;

/* A short text kept from a key or string: the decoded bytes, or "long" when cut. */
typedef struct short_text {
    char mem[KEY_MAX + 1];
    size_t len;
    bool long_text;
} short_text;

static void text_add(short_text *t, unsigned char c)
{
    if (t->len < KEY_MAX)
        t->mem[t->len++] = (char)c;
    else
        t->long_text = true;
    t->mem[t->len] = '\0';
}

static bool text_is(const short_text *t, const char *s)
{
    return !t->long_text && strcmp(t->mem, s) == 0;
}

__attribute__((format(printf, 2, 3))) static cw_result fail(scan *sc, const char *fmt, ...)
{
    char msg[CW_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return cw_fail(sc->err, CW_EINVAL, "%s:%zu: %s", sc->name, sc->line, msg);
}

static int peek(const scan *sc, size_t ahead)
{
    return sc->pos + ahead < sc->len ? sc->s[sc->pos + ahead] : -1;
}

static bool at(const scan *sc, const char *lit)
{
    size_t n = strlen(lit);
    return sc->len - sc->pos >= n && memcmp(sc->s + sc->pos, lit, n) == 0;
}

static void advance(scan *sc, size_t n)
{
    for (size_t i = 0; i < n && sc->pos < sc->len; i++) {
        if (sc->s[sc->pos] == '\n')
            sc->line++;
        sc->pos++;
    }
}

static void skip_blank(scan *sc)
{
    while (peek(sc, 0) == ' ' || peek(sc, 0) == '\t')
        sc->pos++;
}

static void skip_comment(scan *sc)
{
    if (peek(sc, 0) != '#')
        return;
    while (sc->pos < sc->len && sc->s[sc->pos] != '\n')
        sc->pos++;
}

/* At the end of a line: blanks, an optional comment, then a newline or the end. */
CW_MUST_USE static cw_result end_of_line(scan *sc)
{
    skip_blank(sc);
    skip_comment(sc);
    if (peek(sc, 0) == '\r' && peek(sc, 1) == '\n')
        sc->pos++;
    if (sc->pos >= sc->len)
        return CW_OK;
    if (sc->s[sc->pos] != '\n')
        return fail(sc, "unexpected text after a value (one key = value per line)");
    advance(sc, 1);
    return CW_OK;
}

static bool is_bare(int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

/* One escape after a backslash in a basic string (TOML 1.0 "Strings"). */
CW_MUST_USE static cw_result escape(scan *sc, short_text *out)
{
    int c = peek(sc, 0);
    static const char simple_in[] = "btnfr\"\\";
    static const char simple_out[] = "\b\t\n\f\r\"\\";
    const char *hit = c > 0 ? strchr(simple_in, c) : NULL;
    if (hit) {
        if (out)
            text_add(out, (unsigned char)simple_out[hit - simple_in]);
        sc->pos++;
        return CW_OK;
    }
    if (c == 'u' || c == 'U') {
        size_t digits = c == 'u' ? 4 : 8;
        uint32_t cp = 0;
        for (size_t i = 1; i <= digits; i++) {
            int d = hex_digit_value(peek(sc, i));
            if (d < 0)
                return fail(sc, "\\%c needs %zu hex digits", c, digits);
            cp = cp * 16 + (uint32_t)d;
        }
        if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return fail(sc, "\\%c escape is not a Unicode scalar value", c);
        sc->pos += 1 + digits;
        if (out) {
            if (cp < 0x80) {
                text_add(out, (unsigned char)cp);
            } else if (cp < 0x800) {
                text_add(out, (unsigned char)(0xC0 | (cp >> 6)));
                text_add(out, (unsigned char)(0x80 | (cp & 0x3F)));
            } else if (cp < 0x10000) {
                text_add(out, (unsigned char)(0xE0 | (cp >> 12)));
                text_add(out, (unsigned char)(0x80 | ((cp >> 6) & 0x3F)));
                text_add(out, (unsigned char)(0x80 | (cp & 0x3F)));
            } else {
                text_add(out, (unsigned char)(0xF0 | (cp >> 18)));
                text_add(out, (unsigned char)(0x80 | ((cp >> 12) & 0x3F)));
                text_add(out, (unsigned char)(0x80 | ((cp >> 6) & 0x3F)));
                text_add(out, (unsigned char)(0x80 | (cp & 0x3F)));
            }
        }
        return CW_OK;
    }
    return fail(sc, "invalid escape in a string");
}

/* A string of any of the four forms, the opening quote at pos. Keeps its decoded text in out
 * (may be NULL). Multi-line forms are refused where only one line is allowed (keys). */
CW_MUST_USE static cw_result string(scan *sc, short_text *out, bool multiline_ok)
{
    size_t start_line = sc->line;
    if (at(sc, "\"\"\"") || at(sc, "'''")) {
        if (!multiline_ok)
            return fail(sc, "a multi-line string cannot be a key");
        bool basic = sc->s[sc->pos] == '"';
        const char *close = basic ? "\"\"\"" : "'''";
        advance(sc, 3);
        /* A newline right after the opening delimiter is trimmed. */
        if (at(sc, "\r\n"))
            advance(sc, 2);
        else if (at(sc, "\n"))
            advance(sc, 1);
        for (;;) {
            if (sc->pos >= sc->len) {
                sc->line = start_line;
                return fail(sc, "a multi-line string is not closed");
            }
            if (at(sc, close)) {
                advance(sc, 3);
                /* Up to two more quotes belong to the string ("""a"""""). */
                for (int i = 0; i < 2 && sc->pos < sc->len && sc->s[sc->pos] == close[0]; i++) {
                    if (out)
                        text_add(out, (unsigned char)close[0]);
                    sc->pos++;
                }
                return CW_OK;
            }
            unsigned char c = sc->s[sc->pos];
            if (basic && c == '\\') {
                sc->pos++;
                /* A backslash at the end of a line joins it with the next non-blank text. */
                size_t p = sc->pos;
                while (p < sc->len && (sc->s[p] == ' ' || sc->s[p] == '\t'))
                    p++;
                if (p < sc->len && (sc->s[p] == '\n' || sc->s[p] == '\r')) {
                    sc->pos = p;
                    while (sc->pos < sc->len && (sc->s[sc->pos] == ' ' || sc->s[sc->pos] == '\t' ||
                                                 sc->s[sc->pos] == '\n' || sc->s[sc->pos] == '\r'))
                        advance(sc, 1);
                    continue;
                }
                CW_GUARD(escape(sc, out));
                continue;
            }
            if (out)
                text_add(out, c);
            advance(sc, 1);
        }
    }
    bool basic = sc->s[sc->pos] == '"';
    sc->pos++;
    for (;;) {
        if (sc->pos >= sc->len || sc->s[sc->pos] == '\n' || sc->s[sc->pos] == '\r')
            return fail(sc, "a string is not closed on its line");
        unsigned char c = sc->s[sc->pos];
        if (c == (basic ? '"' : '\'')) {
            sc->pos++;
            return CW_OK;
        }
        if (basic && c == '\\') {
            sc->pos++;
            CW_GUARD(escape(sc, out));
            continue;
        }
        if (out)
            text_add(out, c);
        sc->pos++;
    }
}

/* A dotted key: segments kept in seg (at most SEGMENTS_MAX), their number in *count. */
CW_MUST_USE static cw_result key(scan *sc, short_text seg[SEGMENTS_MAX], size_t *count)
{
    *count = 0;
    for (;;) {
        skip_blank(sc);
        short_text scratch;
        short_text *t = *count < SEGMENTS_MAX ? &seg[*count] : &scratch;
        memset(t, 0, sizeof *t);
        int c = peek(sc, 0);
        if (c == '"' || c == '\'') {
            cw_result r = string(sc, t, false);
            if (r)
                return r;
        } else if (is_bare(c)) {
            while (is_bare(peek(sc, 0)))
                text_add(t, sc->s[sc->pos++]);
        } else {
            return fail(sc, "expected a key");
        }
        (*count)++;
        skip_blank(sc);
        if (peek(sc, 0) != '.')
            return CW_OK;
        sc->pos++;
    }
}

typedef enum value_type { VALUE_STRING, VALUE_TABLE, VALUE_OTHER } value_type;

/* Skips an array or inline table, brackets balanced, strings and comments honoured. */
CW_MUST_USE static cw_result skip_nested(scan *sc)
{
    size_t depth = 0;
    size_t start_line = sc->line;
    for (;;) {
        if (sc->pos >= sc->len) {
            sc->line = start_line;
            return fail(sc, "an array or inline table is not closed");
        }
        int c = sc->s[sc->pos];
        if (c == '"' || c == '\'') {
            cw_result r = string(sc, NULL, true);
            if (r)
                return r;
            continue;
        }
        if (c == '#') {
            skip_comment(sc);
            continue;
        }
        if (c == '[' || c == '{') {
            if (++depth > INITDATA_NESTING_MAX)
                return fail(sc, "arrays or inline tables nested deeper than %d",
                            INITDATA_NESTING_MAX);
        } else if (c == ']' || c == '}') {
            if (depth == 0)
                return fail(sc, "unbalanced '%c'", c);
            depth--;
        }
        advance(sc, 1);
        if (depth == 0)
            return CW_OK;
    }
}

CW_MUST_USE static cw_result value(scan *sc, short_text *text, value_type *type)
{
    skip_blank(sc);
    int c = peek(sc, 0);
    if (c == '"' || c == '\'') {
        *type = VALUE_STRING;
        return string(sc, text, true);
    }
    if (c == '[' || c == '{') {
        *type = c == '{' ? VALUE_TABLE : VALUE_OTHER;
        return skip_nested(sc);
    }
    /* Numbers, booleans, dates: one token. */
    *type = VALUE_OTHER;
    size_t start = sc->pos;
    while (sc->pos < sc->len) {
        c = sc->s[sc->pos];
        /* A date and a time may be separated by a space (1979-05-27 07:32:00). */
        if (c == ' ' && sc->pos - start == 10 && sc->s[start + 4] == '-' &&
            sc->s[start + 7] == '-' && peek(sc, 1) >= '0' && peek(sc, 1) <= '9' &&
            peek(sc, 2) >= '0' && peek(sc, 2) <= '9' && peek(sc, 3) == ':') {
            sc->pos++;
            continue;
        }
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '#')
            break;
        if (!(is_bare(c) || c == '.' || c == '+' || c == ':'))
            return fail(sc, "unexpected character '%c' in a value", c);
        sc->pos++;
    }
    if (sc->pos == start)
        return fail(sc, "expected a value");
    return CW_OK;
}

/* UTF-8 text with no control characters other than tab, CR and LF (RFC 3629 §4). */
CW_MUST_USE static cw_result check_text(scan *sc)
{
    const unsigned char *s = sc->s;
    size_t line = 1;
    for (size_t i = 0; i < sc->len;) {
        unsigned char c = s[i];
        if (c == '\n')
            line++;
        if (c < 0x80) {
            if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f) {
                sc->line = line;
                return fail(sc, "not a text file (control byte 0x%02x)", c);
            }
            i++;
            continue;
        }
        size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
        if (n == 0 || c > 0xF4 || i + n > sc->len)
            goto bad;
        uint32_t cp = c & (0x7F >> n);
        for (size_t k = 1; k < n; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                goto bad;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            goto bad;
        i += n;
        continue;
    bad:
        sc->line = line;
        return fail(sc, "not a text file (invalid UTF-8)");
    }
    return CW_OK;
}

typedef enum table_kind { TABLE_ROOT, TABLE_DATA, TABLE_OTHER } table_kind;

typedef struct found {
    short_text version, algorithm;
    bool has_version, has_algorithm, has_data;
    size_t version_line, algorithm_line;
} found;

static void note_data_key(const short_text *k, initdata_info *info)
{
    info->data_entries++;
    if (text_is(k, "aa.toml"))
        info->has_aa = true;
    else if (text_is(k, "cdh.toml"))
        info->has_cdh = true;
    else if (text_is(k, "policy.rego"))
        info->has_policy = true;
}

CW_MUST_USE static cw_result header(scan *sc, table_kind *table, found *f)
{
    bool array = peek(sc, 1) == '[';
    sc->pos += array ? 2 : 1;
    short_text seg[SEGMENTS_MAX];
    size_t count;
    cw_result r = key(sc, seg, &count);
    if (r)
        return r;
    if (!at(sc, array ? "]]" : "]"))
        return fail(sc, "a table header is not closed");
    sc->pos += array ? 2 : 1;
    bool data = text_is(&seg[0], "data");
    if (data && (array || count > 1))
        return fail(sc, "[data] holds strings only (no sub-tables or arrays of tables)");
    *table = TABLE_OTHER;
    if (data) {
        if (f->has_data)
            return fail(sc, "[data] is defined twice");
        f->has_data = true;
        *table = TABLE_DATA;
    }
    return end_of_line(sc);
}

CW_MUST_USE static cw_result key_value(scan *sc, table_kind table, found *f, initdata_info *info)
{
    short_text seg[SEGMENTS_MAX];
    size_t count;
    size_t line = sc->line;
    cw_result r = key(sc, seg, &count);
    if (r)
        return r;
    if (peek(sc, 0) != '=')
        return fail(sc, "expected '=' after a key");
    sc->pos++;
    short_text text = {0};
    value_type type;
    r = value(sc, &text, &type);
    if (r)
        return r;
    size_t after = sc->line;
    sc->line = line; /* messages name the key's line */
    if (table == TABLE_DATA) {
        if (count != 1 || type != VALUE_STRING)
            return fail(sc, "entries of [data] must be strings (\"aa.toml\" = '''...''')");
        note_data_key(&seg[0], info);
    } else if (table == TABLE_ROOT && text_is(&seg[0], "data")) {
        /* data."aa.toml" = '...' or data = {...} define the table too. */
        if (count == 1 && type != VALUE_TABLE)
            return fail(sc, "data must be a table");
        if (count == 1 && f->has_data)
            return fail(sc, "data is defined twice");
        if (count == 2 && type != VALUE_STRING)
            return fail(sc, "entries of data must be strings");
        if (count > 2)
            return fail(sc, "entries of data must be strings");
        f->has_data = true;
        if (count == 2)
            note_data_key(&seg[1], info);
    } else if (table == TABLE_ROOT && count == 1 &&
               (text_is(&seg[0], "version") || text_is(&seg[0], "algorithm"))) {
        bool is_version = text_is(&seg[0], "version");
        bool *has = is_version ? &f->has_version : &f->has_algorithm;
        if (*has)
            return fail(sc, "%s is defined twice", seg[0].mem);
        if (type != VALUE_STRING)
            return fail(sc, "%s must be a string", seg[0].mem);
        *has = true;
        if (is_version) {
            f->version = text;
            f->version_line = line;
        } else {
            f->algorithm = text;
            f->algorithm_line = line;
        }
    }
    sc->line = after;
    return end_of_line(sc);
}

/* The document check; kata_only: only what kata's runtime needs (a known algorithm), as it
 * reads a pod's own value (no version check, [data] may be absent). */
CW_MUST_USE static cw_result check_document(const char *name, const unsigned char *mem, size_t len,
                                            bool kata_only, initdata_info *info, cw_error *err)
{
    scan sc = {.s = mem, .len = len, .line = 1, .name = name ? name : "initdata", .err = err};
    found f = {0};
    memset(info, 0, sizeof *info);
    if (len == 0)
        return cw_fail(err, CW_EINVAL, "%s: the document is empty", sc.name);
    cw_result r = check_text(&sc);
    if (r)
        return r;
    sc.line = 1;
    table_kind table = TABLE_ROOT;
    for (;;) {
        /* Blank lines and comments. */
        for (;;) {
            skip_blank(&sc);
            skip_comment(&sc);
            if (at(&sc, "\r\n"))
                advance(&sc, 2);
            else if (at(&sc, "\n"))
                advance(&sc, 1);
            else
                break;
        }
        if (sc.pos >= sc.len)
            break;
        r = peek(&sc, 0) == '[' ? header(&sc, &table, &f) : key_value(&sc, table, &f, info);
        if (r)
            return r;
    }
    sc.line = 1;
    if (!kata_only && !f.has_version)
        return fail(&sc, "no top-level version (version = \"0.1.0\")");
    if (!kata_only && !text_is(&f.version, "0.1.0")) {
        sc.line = f.version_line;
        return fail(&sc, "version must be \"0.1.0\", not \"%.32s%s\"", f.version.mem,
                    f.version.long_text ? "..." : "");
    }
    if (!f.has_algorithm)
        return fail(&sc, "no top-level algorithm (sha256, sha384 or sha512)");
    if (f.algorithm.long_text || !initdata_alg_parse(f.algorithm.mem, &info->alg)) {
        sc.line = f.algorithm_line;
        return fail(&sc, "algorithm must be sha256, sha384 or sha512, not \"%.32s%s\"",
                    f.algorithm.mem, f.algorithm.long_text ? "..." : "");
    }
    if (!kata_only && !f.has_data)
        return fail(&sc, "no [data] table");
    return CW_OK;
}

cw_result initdata_check(const char *name, const unsigned char *mem, size_t len,
                         initdata_info *info, cw_error *err)
{
    return check_document(name, mem, len, false, info, err);
}

cw_result initdata_check_kata(const char *name, const unsigned char *mem, size_t len,
                              initdata_info *info, cw_error *err)
{
    return check_document(name, mem, len, true, info, err);
}

/* ---- files ------------------------------------------------------------------------- */

cw_result initdata_read_file(const char *path, unsigned char **mem, size_t *len, cw_error *err)
{
    char ebuf[128];
    *mem = NULL;
    *len = 0;
    /* O_NONBLOCK: opening a FIFO must not wait for a writer; non-regular files are refused. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return cw_fail(err, CW_EIO, "%s: cannot open: %s", path,
                       strerror_r(errno, ebuf, sizeof ebuf));
    cw_result r = CW_OK;
    unsigned char *data = NULL;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        r = cw_fail(err, CW_EIO, "%s: cannot stat: %s", path, strerror_r(errno, ebuf, sizeof ebuf));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        r = cw_fail(err, CW_EIO, "%s: not a regular file", path);
        goto out;
    }
    if (st.st_size > INITDATA_FILE_MAX) {
        r = cw_fail(err, CW_ELIMIT, "%s: the file is larger than %d bytes", path,
                    INITDATA_FILE_MAX);
        goto out;
    }
    /* Bounded read: the file may grow meanwhile. */
    data = malloc(INITDATA_FILE_MAX + 2);
    if (!data) {
        r = cw_fail(err, CW_ENOMEM, "%s: out of memory", path);
        goto out;
    }
    size_t n = 0;
    for (;;) {
        ssize_t got = read(fd, data + n, INITDATA_FILE_MAX + 1 - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            r = cw_fail(err, CW_EIO, "%s: cannot read: %s", path,
                        strerror_r(errno, ebuf, sizeof ebuf));
            goto out;
        }
        if (got == 0)
            break;
        n += (size_t)got;
        if (n > INITDATA_FILE_MAX) {
            r = cw_fail(err, CW_ELIMIT, "%s: the file is larger than %d bytes", path,
                        INITDATA_FILE_MAX);
            goto out;
        }
    }
    data[n] = '\0';
    unsigned char *fit = realloc(data, n + 1);
    *mem = fit ? fit : data;
    *len = n;
    data = NULL;
out:
    free(data);
    close(fd);
    return r;
}

void initdata_doc_clear(initdata_doc *doc)
{
    free(doc->path);
    free(doc->bytes);
    free(doc->value);
    memset(doc, 0, sizeof *doc);
}

cw_result initdata_doc_from_bytes(const char *name, const unsigned char *mem, size_t len,
                                  initdata_doc *doc, cw_error *err)
{
    memset(doc, 0, sizeof *doc);
    cw_result r = initdata_check(name, mem, len, &doc->info, err);
    if (r)
        return r;
    doc->path = strdup(name);
    doc->bytes = malloc(len + 1);
    if (!doc->path || !doc->bytes)
        goto oom;
    memcpy(doc->bytes, mem, len);
    doc->bytes[len] = '\0';
    doc->len = len;
    if (initdata_encode(mem, len, &doc->value, &doc->value_len) != CW_OK)
        goto oom;
    if (doc->value_len > INITDATA_VALUE_MAX) {
        r = cw_fail(err, CW_ELIMIT,
                    "%s: the annotation value would be %zu bytes, more than %d (128 KiB)", name,
                    doc->value_len, INITDATA_VALUE_MAX);
        initdata_doc_clear(doc);
        return r;
    }
    doc->digest_len = initdata_hash(doc->info.alg, mem, len, doc->digest);
    if (doc->digest_len == 0)
        goto oom;
    int n = snprintf(doc->digest_text, sizeof doc->digest_text,
                     "%s:", initdata_alg_name(doc->info.alg));
    initdata_hex(doc->digest, doc->digest_len, doc->digest_text + n);
    return CW_OK;
oom:
    initdata_doc_clear(doc);
    return cw_fail(err, CW_ENOMEM, "%s: out of memory", name);
}

cw_result initdata_doc_load(const char *path, initdata_doc *doc, cw_error *err)
{
    unsigned char *mem;
    size_t len;
    memset(doc, 0, sizeof *doc);
    cw_result r = initdata_read_file(path, &mem, &len, err);
    if (r)
        return r;
    r = initdata_doc_from_bytes(path, mem, len, doc, err);
    free(mem);
    return r;
}

/* ---- encoding ---------------------------------------------------------------------- */

cw_result initdata_encode(const unsigned char *mem, size_t len, char **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    z_stream z = {0};
    /* windowBits 16 + 15: a gzip wrapper; zlib writes mtime 0, no name, and its OS byte. */
    if (deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) !=
        Z_OK)
        return CW_ENOMEM;
    size_t cap = deflateBound(&z, (uLong)len);
    unsigned char *gz = malloc(cap);
    cw_result r = CW_ENOMEM;
    if (!gz)
        goto out;
    z.next_in = (Bytef *)(uintptr_t)mem;
    z.avail_in = (uInt)len;
    z.next_out = gz;
    z.avail_out = (uInt)cap;
    if (deflate(&z, Z_FINISH) != Z_STREAM_END) {
        r = CW_EINTERNAL;
        goto out;
    }
    size_t gz_len = cap - z.avail_out;
    size_t b64_cap = 4 * ((gz_len + 2) / 3) + 1;
    char *text = malloc(b64_cap);
    if (!text)
        goto out;
    /* EVP_EncodeBlock writes one line with no newline, and a NUL. */
    int n = EVP_EncodeBlock((unsigned char *)text, gz, (int)gz_len);
    *out = text;
    *out_len = (size_t)n;
    r = CW_OK;
out:
    deflateEnd(&z);
    free(gz);
    return r;
}

cw_result initdata_gunzip(const unsigned char *gz, size_t gz_len, size_t max, unsigned char **out,
                          size_t *out_len, cw_error *err)
{
    unsigned char *doc = malloc(max + 1);
    cw_result r = CW_ENOMEM;
    z_stream z = {0};
    bool z_open = false;
    if (!doc || gz_len > UINT32_MAX)
        goto out;
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
        goto out;
    z_open = true;
    z.next_in = (Bytef *)gz; /* zlib reads it only */
    z.avail_in = (uInt)gz_len;
    z.next_out = doc;
    z.avail_out = (uInt)(max + 1);
    int zr = inflate(&z, Z_FINISH);
    if (zr == Z_MEM_ERROR)
        goto out;
    if (zr != Z_STREAM_END) {
        r = z.avail_out == 0 ? cw_fail(err, CW_ELIMIT, "the document is larger than %zu bytes", max)
                             : cw_fail(err, CW_EINVAL, "not gzip data, or cut short");
        goto out;
    }
    if (z.avail_in != 0) {
        r = cw_fail(err, CW_EINVAL, "data after the gzip stream");
        goto out;
    }
    size_t n = max + 1 - z.avail_out;
    if (n > max) {
        r = cw_fail(err, CW_ELIMIT, "the document is larger than %zu bytes", max);
        goto out;
    }
    doc[n] = '\0';
    *out = doc;
    *out_len = n;
    doc = NULL;
    r = CW_OK;
out:
    if (r == CW_ENOMEM)
        cw_fail(err, CW_ENOMEM, "out of memory");
    if (z_open)
        inflateEnd(&z);
    free(doc);
    return r;
}

cw_result initdata_decode(const char *value, size_t len, size_t max, unsigned char **out,
                          size_t *out_len, cw_error *err)
{
    *out = NULL;
    *out_len = 0;
    /* As kata reads the annotation (Go's base64.StdEncoding): a value only a laxer decoder
     * takes must not pass for a document kata would refuse. */
    unsigned char *gz = NULL;
    size_t gz_len = 0;
    cw_result r = b64_decode(value, len, B64_GO_STD, &gz, &gz_len, err);
    if (r == CW_OK)
        r = initdata_gunzip(gz, gz_len, max, out, out_len, err);
    free(gz);
    return r;
}

/* ---- digests ----------------------------------------------------------------------- */

size_t initdata_hash(initdata_alg alg, const void *mem, size_t len, unsigned char *out)
{
    const EVP_MD *md = alg == INITDATA_SHA512   ? EVP_sha512()
                       : alg == INITDATA_SHA384 ? EVP_sha384()
                                                : EVP_sha256();
    unsigned int n = 0;
    if (EVP_Digest(mem, len, out, &n, md, NULL) != 1)
        return 0;
    return n;
}

void initdata_fit(const unsigned char *digest, size_t len, unsigned char *out, size_t size)
{
    memset(out, 0, size);
    memcpy(out, digest, len < size ? len : size);
}

bool initdata_pcr8(const unsigned char *mem, size_t len, unsigned char *out)
{
    unsigned char ext[64] = {0};
    if (initdata_hash(INITDATA_SHA256, mem, len, ext + 32) != 32)
        return false;
    return initdata_hash(INITDATA_SHA256, ext, sizeof ext, out) == 32;
}

void initdata_hex(const unsigned char *mem, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[mem[i] >> 4];
        out[2 * i + 1] = digits[mem[i] & 15];
    }
    out[2 * len] = '\0';
}
