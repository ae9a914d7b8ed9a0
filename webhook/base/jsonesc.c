#include "jsonesc.h"

#include <stdbool.h>
#include <stdint.h>

size_t jsonesc_byte(unsigned char c, char out[JSONESC_BYTE_MAX])
{
    static const char hex[] = "0123456789abcdef";
    char shortform = 0;
    switch (c) {
    case '"': shortform = '"'; break;
    case '\\': shortform = '\\'; break;
    case '\n': shortform = 'n'; break;
    case '\r': shortform = 'r'; break;
    case '\t': shortform = 't'; break;
    default: break;
    }
    if (shortform) {
        out[0] = '\\';
        out[1] = shortform;
        return 2;
    }
    if (c < 0x20 || c == 0x7f) {
        out[0] = '\\';
        out[1] = 'u';
        out[2] = '0';
        out[3] = '0';
        out[4] = hex[c >> 4];
        out[5] = hex[c & 15];
        return 6;
    }
    out[0] = (char)c;
    return 1;
}

/* Writes the quoted escape of s[0..n) at w, which has room for it; returns its length. */
static size_t write_quoted(char *w, const char *s, size_t n)
{
    char *start = w;
    *w++ = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (jsonesc_is_plain(c))
            *w++ = (char)c;
        else
            w += jsonesc_byte(c, w);
    }
    *w++ = '"';
    return (size_t)(w - start);
}

/* One pass into room for the longest escape (the strings on the request path are short);
 * near the buffer's cap, where that room may not exist, the exact length is counted first. */
cw_result jsonesc_append(buf *out, const char *s, size_t n)
{
    CW_GUARD(buf_status(out));
    size_t need;
    if (n <= (SIZE_MAX - 2) / JSONESC_BYTE_MAX && n * JSONESC_BYTE_MAX + 2 <= out->max - out->len) {
        need = n * JSONESC_BYTE_MAX + 2;
    } else {
        char esc[JSONESC_BYTE_MAX];
        need = 2;
        for (size_t i = 0; i < n; i++)
            need +=
                jsonesc_is_plain((unsigned char)s[i]) ? 1 : jsonesc_byte((unsigned char)s[i], esc);
    }
    char *w = buf_reserve(out, need);
    if (!w)
        return buf_status(out);
    buf_commit(out, write_quoted(w, s, n));
    return CW_OK;
}
