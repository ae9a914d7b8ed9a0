#include "jsonesc.h"

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

/* Most bytes need no escape: the plain runs between escapes are copied whole. */
cw_result jsonesc_append(buf *out, const char *s, size_t n)
{
    CW_GUARD(buf_addc(out, '"'));
    size_t plain = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f)
            continue;
        CW_GUARD(buf_add(out, s + plain, i - plain));
        char esc[JSONESC_BYTE_MAX];
        CW_GUARD(buf_add(out, esc, jsonesc_byte(c, esc)));
        plain = i + 1;
    }
    CW_GUARD(buf_add(out, s + plain, n - plain));
    return buf_addc(out, '"');
}
