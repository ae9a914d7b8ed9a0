#include "celesc.h"

/* Writes the escaped form of byte c at w (room for CELESC_BYTE_MAX); returns its length. */
static size_t escape_byte(unsigned char c, char *w)
{
    static const char hex[] = "0123456789ABCDEF";
    char shortform = 0;
    switch (c) {
    case '\\': shortform = '\\'; break;
    case '\'': shortform = '\''; break;
    case '"': shortform = '"'; break;
    case '\n': shortform = 'n'; break;
    case '\r': shortform = 'r'; break;
    case '\t': shortform = 't'; break;
    default: break;
    }
    if (shortform) {
        w[0] = '\\';
        w[1] = shortform;
        return 2;
    }
    if (c < 0x20 || c == 0x7f) {
        w[0] = '\\';
        w[1] = 'x';
        w[2] = hex[c >> 4];
        w[3] = hex[c & 15];
        return 4;
    }
    w[0] = (char)c;
    return 1;
}

cw_result celesc_append(buf *out, const char *s, size_t n)
{
    char esc[CELESC_BYTE_MAX];
    CW_GUARD(buf_addc(out, '\''));
    for (size_t i = 0; i < n; i++)
        CW_GUARD(buf_add(out, esc, escape_byte((unsigned char)s[i], esc)));
    return buf_addc(out, '\'');
}
