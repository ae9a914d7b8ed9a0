/* json_nul: see json_nul.h. */
#include "json_nul.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A byte a string holds as it is: printable ASCII other than the quote and the backslash. */
static inline bool plain(unsigned char c)
{
    return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
}

/* The length of the well-formed UTF-8 sequence at p (Unicode 15 table 3-7), or 0. */
static size_t utf8_sequence(const unsigned char *p, size_t left)
{
    unsigned char c = p[0];
    size_t n;
    unsigned char lo = 0x80, hi = 0xbf; /* the second byte's range */
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        if (c == 0xe0)
            lo = 0xa0; /* overlong */
        else if (c == 0xed)
            hi = 0x9f; /* surrogates */
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        if (c == 0xf0)
            lo = 0x90; /* overlong */
        else if (c == 0xf4)
            hi = 0x8f; /* past U+10FFFF */
    } else {
        return 0;
    }
    if (left < n || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (p[i] < 0x80 || p[i] > 0xbf)
            return 0;
    return n;
}

#define BYTES_1 0x0101010101010101ull
#define BYTES_80 0x8080808080808080ull

/* True when none of the 8 bytes of w ends plain text: none is below 0x20, a quote, a
 * backslash or above 0x7f (the "has less than" test of Bit Twiddling Hacks, exact for
 * whether any byte matches). */
static inline bool word_plain(uint64_t w)
{
    uint64_t quote = w ^ (BYTES_1 * '"'), backslash = w ^ (BYTES_1 * '\\');
    uint64_t hits = ((w - BYTES_1 * 0x20) & ~w) | ((quote - BYTES_1) & ~quote) |
                    ((backslash - BYTES_1) & ~backslash) | w;
    return (hits & BYTES_80) == 0;
}

static bool hex(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* What the \u escape at u (the 'u', end bounding it) is: JSON_TEXT_OK, JSON_TEXT_NUL for
 * \u0000, JSON_TEXT_ESCAPE without four hex digits. */
static json_text_fault u_escape(const char *u, const char *end)
{
    if (end - u < 5 || !hex((unsigned char)u[1]) || !hex((unsigned char)u[2]) ||
        !hex((unsigned char)u[3]) || !hex((unsigned char)u[4]))
        return JSON_TEXT_ESCAPE;
    return memcmp(u + 1, "0000", 4) == 0 ? JSON_TEXT_NUL : JSON_TEXT_OK;
}

/* The offset of the first real \u0000 or malformed \u escape (its kind in *fault), or
 * SIZE_MAX. An escape is real when the
 * backslash is not itself escaped: in a run of backslashes they pair up, and only an odd
 * run's last one starts an escape. Each byte is looked at once (memchr between runs). */
static size_t first_bad_escape(const char *s, size_t len, json_text_fault *fault)
{
    const char *p = s, *end = s + len;
    while ((p = memchr(p, '\\', (size_t)(end - p)))) {
        if (end - p >= 2 && p[1] != '\\') { /* the usual escape: \" \n \uXXXX */
            if (p[1] == 'u' && (*fault = u_escape(p + 1, end)) != JSON_TEXT_OK)
                return (size_t)(p - s);
            p += 2;
            continue;
        }
        /* Count the run of backslashes starting here: an escape starts at every other one. */
        const char *q = p;
        while (q < end && *q == '\\')
            q++;
        size_t run = (size_t)(q - p);
        if (run % 2 == 1 && q < end && *q == 'u' && (*fault = u_escape(q, end)) != JSON_TEXT_OK)
            return (size_t)(q - 1 - s);
        p = q;
    }
    return SIZE_MAX;
}

/* True when text[0..len) holds a byte below 0x20 or above 0x7f: 8 bytes at a time. */
static bool any_control_or_high(const unsigned char *s, size_t len)
{
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        if (((w - BYTES_1 * 0x20) | w) & BYTES_80)
            return true;
    }
    for (; i < len; i++)
        if (s[i] < 0x20 || s[i] > 0x7f)
            return true;
    return false;
}

/* The offset and kind of the first fault, or SIZE_MAX. Outside strings a parsed text holds
 * only ASCII structure (cJSON refuses anything else there) and the bytes cJSON skips as
 * whitespace: every one up to the space, where RFC 8259 §2 allows only tab, LF and CR. Inside,
 * plain bytes are skipped 8 at a time, escapes two bytes at a time (a \\ pair never starts an
 * escape), and other bytes one sequence at a time. */
static size_t first_fault(const char *text, size_t len, json_text_fault *fault)
{
    const unsigned char *s = (const unsigned char *)text, *end = s + len, *p = s;
    while (p < end) {
        for (; p < end && *p != '"'; p++) {
            if (*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r') {
                *fault = JSON_TEXT_CONTROL;
                return (size_t)(p - s);
            }
        }
        if (p >= end)
            break;
        p++; /* the opening quote */
        for (;;) {
            uint64_t w;
            while (end - p >= 8 && (memcpy(&w, p, 8), word_plain(w)))
                p += 8;
            while (p < end && plain(*p))
                p++;
            if (p >= end)
                return SIZE_MAX; /* cut short: cJSON refused it already */
            unsigned char c = *p;
            if (c == '"') {
                p++;
                break;
            }
            if (c == '\\') {
                if (end - p >= 2 && p[1] == 'u' &&
                    (*fault = u_escape((const char *)p + 1, (const char *)end)) != JSON_TEXT_OK)
                    return (size_t)(p - s);
                p += 2;
                continue;
            }
            if (c < 0x20) {
                *fault = JSON_TEXT_CONTROL;
                return (size_t)(p - s);
            }
            if (c == 0x7f) { /* DEL needs no escape */
                p++;
                continue;
            }
            size_t n = utf8_sequence(p, (size_t)(end - p));
            if (n == 0) {
                *fault = JSON_TEXT_UTF8;
                return (size_t)(p - s);
            }
            p += n;
        }
    }
    return SIZE_MAX;
}

/* One level of nesting on the way to the NUL. */
typedef struct frame {
    bool object;
    size_t index;    /* arrays: the member being read */
    const char *key; /* objects: the raw (escaped) text of the member's key, or NULL */
    size_t key_len;
} frame;

#define DEPTH_MAX 1024 /* cJSON refuses deeper texts; they never get here */

static bool plain_key(const char *k, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = k[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_'))
            return false;
    }
    return true;
}

/* Writes frames[0..depth) as request.object.spec.containers[0].env into out. */
static void format_path(const frame *frames, size_t depth, bool in_key, char *out, size_t cap)
{
    char buf[4096];
    size_t n = 0;
    n += (size_t)snprintf(buf, sizeof buf, "%s", in_key ? "a key in " : "");
    size_t start = n;
    for (size_t i = 0; i < depth && n < sizeof buf - 80; i++) {
        const frame *f = &frames[i];
        if (!f->object)
            n += (size_t)snprintf(buf + n, sizeof buf - n, "[%zu]", f->index);
        else if (!f->key)
            break;
        else if (plain_key(f->key, f->key_len))
            n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%.*s", n > start ? "." : "",
                                  (int)(f->key_len > 64 ? 64 : f->key_len), f->key);
        else
            n += (size_t)snprintf(buf + n, sizeof buf - n, "[\"%.*s\"]",
                                  (int)(f->key_len > 64 ? 64 : f->key_len), f->key);
    }
    if (n == start)
        n += (size_t)snprintf(buf + n, sizeof buf - n, "the document");
    if (n < cap && n <= JSON_NUL_PATH_MAX) {
        memcpy(out, buf, n + 1);
        return;
    }
    size_t keep = (cap - 1 < JSON_NUL_PATH_MAX ? cap - 1 : JSON_NUL_PATH_MAX) - 3;
    snprintf(out, cap, "...%s", buf + n - keep);
}

/* Writes into path where offset at of s is, as json_text_check says. */
static void path_of(const char *s, size_t at, char *path, size_t cap)
{
    frame *frames = calloc(DEPTH_MAX, sizeof *frames);
    if (!frames) {
        snprintf(path, cap, "a string");
        return;
    }
    size_t depth = 0;
    bool expect_key = false, in_key = false;
    for (size_t i = 0; i < at;) {
        char c = s[i];
        if (c == '"') {
            size_t start = ++i;
            while (i < at && s[i] != '"')
                i += s[i] == '\\' ? 2 : 1;
            if (i >= at) { /* the NUL is in this string */
                in_key = expect_key;
                break;
            }
            if (expect_key && depth > 0) {
                frames[depth - 1].key = s + start;
                frames[depth - 1].key_len = i - start;
            }
            i++;
            continue;
        }
        if ((c == '{' || c == '[') && depth < DEPTH_MAX) {
            frames[depth++] = (frame){.object = c == '{'};
            expect_key = c == '{';
        } else if ((c == '}' || c == ']') && depth > 0) {
            depth--;
            expect_key = false;
        } else if (c == ',' && depth > 0) {
            if (frames[depth - 1].object) {
                frames[depth - 1].key = NULL;
                expect_key = true;
            } else {
                frames[depth - 1].index++;
            }
        } else if (c == ':') {
            expect_key = false;
        }
        i++;
    }
    /* A NUL in a key: the path is the object holding it. */
    if (in_key && depth > 0)
        frames[depth - 1].key = NULL;
    format_path(frames, depth, in_key, path, cap);
    free(frames);
}

json_text_fault json_text_check(const char *s, size_t len, char *path, size_t cap)
{
    json_text_fault fault = JSON_TEXT_NUL;
    /* The API server's bodies are compact JSON of printable ASCII (Go escapes the rest): for
     * them only a \u escape can be wrong, found by a jump from backslash to backslash. Any
     * other text (whitespace between tokens, UTF-8) takes the full scan. */
    size_t at = any_control_or_high((const unsigned char *)s, len)
                    ? first_fault(s, len, &fault)
                    : first_bad_escape(s, len, &fault);
    if (at == SIZE_MAX)
        return JSON_TEXT_OK;
    path_of(s, at, path, cap);
    return fault;
}

const char *json_text_fault_text(json_text_fault f)
{
    switch (f) {
    case JSON_TEXT_NUL: return "a NUL character (\\u0000)";
    case JSON_TEXT_UTF8: return "bytes that are not UTF-8";
    case JSON_TEXT_CONTROL: return "an unescaped control character";
    case JSON_TEXT_ESCAPE: return "a \\u escape without four hex digits";
    case JSON_TEXT_OK: break;
    }
    return "nothing wrong";
}
