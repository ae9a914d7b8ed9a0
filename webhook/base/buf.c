#include "buf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUF_FIRST_CAP 256

void buf_init(buf *b, size_t max)
{
    *b = (buf){.max = max < SIZE_MAX ? max : SIZE_MAX - 1}; /* room for the NUL */
}

/* Makes room for n more bytes and the NUL, growing by doubling. */
CW_MUST_USE static cw_result grow_slow(buf *b, size_t n)
{
    if (b->failed)
        return b->failed;
    if (n > b->max - b->len) {
        b->failed = CW_ELIMIT;
        return CW_ELIMIT;
    }
    size_t need = b->len + n + 1; /* cannot overflow: len + n <= max < SIZE_MAX */
    if (need <= b->cap)
        return CW_OK;
    size_t ncap = b->cap ? b->cap : BUF_FIRST_CAP;
    while (ncap < need)
        ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
    if (ncap > b->max + 1)
        ncap = b->max + 1 > need ? b->max + 1 : need;
    char *nd = realloc(b->data, ncap);
    if (!nd) {
        b->failed = CW_ENOMEM;
        return CW_ENOMEM;
    }
    b->data = nd;
    b->cap = ncap;
    return CW_OK;
}

/* The common case, inlined into every append: the room is there (cap never passes max + 1,
 * so room below cap is within the cap too). */
static inline cw_result grow(buf *b, size_t n)
{
    if (!b->failed && n < b->cap - b->len)
        return CW_OK;
    return grow_slow(b, n);
}

cw_result buf_add(buf *b, const void *p, size_t n)
{
    cw_result rc = grow(b, n);
    if (rc != CW_OK)
        return rc;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return CW_OK;
}

cw_result buf_adds(buf *b, const char *s)
{
    return buf_add(b, s, strlen(s));
}

cw_result buf_addc(buf *b, char c)
{
    return buf_add(b, &c, 1);
}

cw_result buf_addf(buf *b, const char *fmt, ...)
{
    if (b->failed)
        return b->failed;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = CW_ENOMEM; /* vsnprintf fails only on a bad format or allocation */
        return CW_ENOMEM;
    }
    cw_result rc = grow(b, (size_t)n);
    if (rc != CW_OK)
        return rc;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return CW_OK;
}

char *buf_reserve(buf *b, size_t n)
{
    return grow(b, n) == CW_OK ? b->data + b->len : NULL;
}

void buf_commit(buf *b, size_t n)
{
    b->len += n;
    b->data[b->len] = '\0';
}

cw_result buf_status(const buf *b)
{
    return b->failed;
}

void buf_reset(buf *b)
{
    b->len = 0;
    b->failed = CW_OK;
    if (b->data)
        b->data[0] = '\0';
}

char *buf_take(buf *b, size_t *len)
{
    char *out = NULL;
    if (!b->failed && b->data) {
        out = b->data;
        if (len)
            *len = b->len;
        b->data = NULL;
        b->cap = 0;
    } else if (!b->failed) {
        out = calloc(1, 1);
        if (out && len)
            *len = 0;
    }
    if (!out) {
        free(b->data);
        b->data = NULL;
        b->cap = 0;
    }
    b->len = 0;
    b->failed = CW_OK;
    return out;
}

void buf_free(buf *b)
{
    free(b->data);
    *b = (buf){.max = b->max};
}
