#include "result.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

cw_result cw_fail(cw_error *err, cw_result code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}

void cw_error_prefix(cw_error *err, const char *fmt, ...)
{
    if (!err)
        return;
    char prefix[CW_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    /* Truncation is intended: messages are bounded. */
    char joined[CW_ERROR_MAX];
    size_t plen = strnlen(prefix, sizeof joined - 3);
    memcpy(joined, prefix, plen);
    memcpy(joined + plen, ": ", 2);
    size_t room = sizeof joined - plen - 3;
    size_t mlen = strnlen(err->msg, room);
    memcpy(joined + plen + 2, err->msg, mlen);
    joined[plen + 2 + mlen] = '\0';
    memcpy(err->msg, joined, sizeof joined);
}

const char *cw_result_str(cw_result code)
{
    switch (code) {
    case CW_OK: return "ok";
    case CW_ENOMEM: return "out of memory";
    case CW_EINVAL: return "invalid input";
    case CW_ELIMIT: return "limit exceeded";
    case CW_EIO: return "i/o error";
    case CW_EINTERNAL: return "internal error";
    case CW_ETIMEOUT: return "deadline passed";
    }
    return "unknown error";
}

const char *cw_printable(const char *s, size_t len, char *out, size_t cap)
{
    size_t n = len < cap - 1 ? len : cap - 1;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        out[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    out[n] = '\0';
    return out;
}
