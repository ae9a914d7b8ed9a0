/* manifest_text: the manifest reader's positions, messages, input checks, budgets and
 * document list (manifest_reader.h). */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "manifest_reader.h"

cw_result manifest_fail_at(const reader *r, cw_result code, pos p, const char *fmt, ...)
{
    char msg[CW_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return cw_fail(r->err, code, "%s:%zu:%zu: %s", r->name, p.line, p.col, msg);
}

cw_result manifest_oom(const reader *r)
{
    return cw_fail(r->err, CW_ENOMEM, "%s: out of memory", r->name);
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
pos manifest_pos_advance(const char *s, size_t len, pos p, size_t from, size_t to)
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

pos manifest_pos_at(reader *r, size_t off)
{
    if (off < r->pos_off || r->pos_last.line == 0) {
        r->pos_off = 0;
        r->pos_last = (pos){1, 1};
    }
    r->pos_last = manifest_pos_advance(r->buf, r->len, r->pos_last, r->pos_off, off);
    r->pos_off = off;
    return r->pos_last;
}

/* Copies at most MANIFEST_KEY_SHOW_MAX bytes of a key for a message, cut at a character boundary,
 * with control characters shown as '?'. */
void manifest_key_show(const char *key, size_t len, char *out, size_t cap)
{
    size_t n = 0, i = 0;
    while (i < len && n + 4 < cap && i < MANIFEST_KEY_SHOW_MAX) {
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
cw_result manifest_check_text(reader *r)
{
    const unsigned char *s = (const unsigned char *)r->buf;
    size_t i = 0;
    while (i < r->len) {
        unsigned char c = s[i];
        if (c == 0)
            return manifest_fail_at(r, CW_EINVAL, manifest_pos_at(r, i), "NUL byte in input");
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
            return manifest_fail_at(r, CW_EINVAL, manifest_pos_at(r, i), "invalid UTF-8");
        for (size_t k = 1; k < w; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return manifest_fail_at(r, CW_EINVAL, manifest_pos_at(r, i), "invalid UTF-8");
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return manifest_fail_at(r, CW_EINVAL, manifest_pos_at(r, i), "invalid UTF-8");
        i += w;
    }
    return CW_OK;
}
size_t manifest_measure(const cJSON *n, size_t *height, size_t *bytes)
{
    size_t c = 1, h = 0;
    *height = (cJSON_IsObject(n) || cJSON_IsArray(n)) ? 1 : 0;
    *bytes = (n->string ? strlen(n->string) : 0) + (n->valuestring ? strlen(n->valuestring) : 0);
    for (const cJSON *k = n->child; k; k = k->next) {
        size_t b;
        c += manifest_measure(k, &h, &b);
        *bytes += b;
        if (h + 1 > *height)
            *height = h + 1;
    }
    return c;
}

cw_result manifest_take_nodes(reader *r, size_t n, size_t bytes, pos p)
{
    if (n > MANIFEST_NODES_MAX - r->nodes)
        return manifest_fail_at(r, CW_ELIMIT, p, "more than %u nodes (after alias expansion)",
                                (unsigned)MANIFEST_NODES_MAX);
    if (bytes > MANIFEST_BYTES_MAX - r->bytes)
        return manifest_fail_at(r, CW_ELIMIT, p,
                                "more than %u bytes of text (after alias expansion)",
                                (unsigned)MANIFEST_BYTES_MAX);
    r->nodes += n;
    r->bytes += bytes;
    return CW_OK;
}

bool manifest_utf8_valid(const char *s, size_t len)
{
    reader r = {.name = "", .buf = s, .len = len};
    return manifest_check_text(&r) == CW_OK;
}

cw_result manifest_doclist_push(reader *r, doclist *l, cJSON *doc, pos p)
{
    if (l->count >= MANIFEST_DOCS_MAX) {
        cJSON_Delete(doc);
        return manifest_fail_at(r, CW_ELIMIT, p, "more than %d documents", MANIFEST_DOCS_MAX);
    }
    if (l->count == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 4;
        cJSON **docs = realloc(l->docs, cap * sizeof *docs);
        if (!docs) {
            cJSON_Delete(doc);
            return manifest_oom(r);
        }
        l->docs = docs;
        l->cap = cap;
    }
    l->docs[l->count++] = doc;
    return CW_OK;
}

void manifest_doclist_clear(doclist *l)
{
    for (size_t i = 0; i < l->count; i++)
        cJSON_Delete(l->docs[i]);
    free(l->docs);
    memset(l, 0, sizeof *l);
}

/* Reads JSON values from s[from..to) into l: all of them (many) or exactly one. */
