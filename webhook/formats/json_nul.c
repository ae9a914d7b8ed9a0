/* json_nul: see json_nul.h. */
#include "json_nul.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The offset of the first real \u0000 escape, or SIZE_MAX. An escape is real when the
 * backslash is not itself escaped: in a run of backslashes they pair up, and only an odd
 * run's last one starts an escape. Each byte is looked at once (memchr between runs). */
static size_t first_nul_escape(const char *s, size_t len)
{
    const char *p = s, *end = s + len;
    while ((p = memchr(p, '\\', (size_t)(end - p)))) {
        if (end - p >= 2 && p[1] != '\\') { /* the usual escape: \" \n \uXXXX */
            if (p[1] == 'u' && end - p >= 6 && memcmp(p + 2, "0000", 4) == 0)
                return (size_t)(p - s);
            p += 2;
            continue;
        }
        /* Count the run of backslashes starting here: an escape starts at every other one. */
        const char *q = p;
        while (q < end && *q == '\\')
            q++;
        size_t run = (size_t)(q - p);
        if (run % 2 == 1 && end - q >= 5 && memcmp(q, "u0000", 5) == 0)
            return (size_t)(q - 1 - s);
        p = q;
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

bool json_nul_find(const char *s, size_t len, char *path, size_t cap)
{
    size_t at = first_nul_escape(s, len);
    if (at == SIZE_MAX)
        return false;
    frame *frames = calloc(DEPTH_MAX, sizeof *frames);
    if (!frames) {
        snprintf(path, cap, "a string");
        return true;
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
    return true;
}
