#include "b64.h"

#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char std_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t b64_encoded_len(size_t n, b64_form form)
{
    if (form == B64_URL)
        return n / 3 * 4 + (n % 3 ? n % 3 + 1 : 0);
    return (n + 2) / 3 * 4;
}

/* EVP_EncodeBlock takes an int length: longer inputs go in whole 3-byte groups. */
#define B64_BLOCK_IN (3 * 1024 * 1024)

static void encode_std(char *w, const unsigned char *in, size_t n)
{
    while (n > 0) {
        size_t take = n > B64_BLOCK_IN ? B64_BLOCK_IN : n;
        int written = EVP_EncodeBlock((unsigned char *)w, in, (int)take);
        w += written;
        in += take;
        n -= take;
    }
}

static void encode_url(char *w, const unsigned char *in, size_t n)
{
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        *w++ = url_alphabet[v >> 18 & 63];
        *w++ = url_alphabet[v >> 12 & 63];
        *w++ = url_alphabet[v >> 6 & 63];
        *w++ = url_alphabet[v & 63];
    }
    if (n - i >= 1) {
        uint32_t v = (uint32_t)in[i] << 16 | (n - i == 2 ? (uint32_t)in[i + 1] << 8 : 0);
        *w++ = url_alphabet[v >> 18 & 63];
        *w++ = url_alphabet[v >> 12 & 63];
        if (n - i == 2)
            *w++ = url_alphabet[v >> 6 & 63];
    }
}

cw_result b64_encode(buf *out, const void *in, size_t n, b64_form form)
{
    size_t chars = b64_encoded_len(n, form);
    /* EVP_EncodeBlock writes a NUL after the text: reserve room for it. */
    char *w = buf_reserve(out, chars + 1);
    if (!w)
        return buf_status(out);
    if (form == B64_URL)
        encode_url(w, in, n);
    else
        encode_std(w, in, n);
    buf_commit(out, chars);
    return CW_OK;
}

char *b64_encode_alloc(const void *in, size_t n, b64_form form)
{
    buf b;
    buf_init(&b, SIZE_MAX);
    if (b64_encode(&b, in, n, form) != CW_OK) {
        buf_free(&b);
        return NULL;
    }
    return buf_take(&b, NULL);
}

/* Decodes the significant characters in[0..len) (no padding, no line breaks) into out.
 * strict: the bits after the last whole byte must be zero. Returns the byte count, or
 * (size_t)-1 when a character is not in the alphabet or the length is impossible. */
static size_t decode_run(const char *in, size_t len, b64_form form, int strict, unsigned char *out)
{
    if (len % 4 == 1)
        return (size_t)-1;
    /* The 6-bit value of each byte in the form's alphabet, or -1. */
    signed char values[256];
    const char *alphabet = form == B64_URL ? url_alphabet : std_alphabet;
    memset(values, -1, sizeof values);
    for (int i = 0; i < 64; i++)
        values[(unsigned char)alphabet[i]] = (signed char)i;
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        int v = values[(unsigned char)in[i]];
        if (v < 0)
            return (size_t)-1;
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (strict && acc != 0)
        return (size_t)-1;
    return o;
}

/* Go's decoder: CR and LF anywhere are skipped, then whole padded quanta. Returns the
 * significant characters copied to sig (padding stripped), or (size_t)-1 when malformed. */
static size_t go_significant(const char *in, size_t len, char *sig)
{
    size_t n = 0, quantum = 0, pad = 0;
    for (size_t i = 0; i < len; i++) {
        char c = in[i];
        if (c == '\r' || c == '\n')
            continue;
        quantum++;
        if (c == '=') {
            pad++;
            continue;
        }
        if (pad)
            return (size_t)-1;
        sig[n++] = c;
    }
    if (quantum % 4 != 0 || pad > 2)
        return (size_t)-1;
    return n;
}

cw_result b64_decode(const char *in, size_t len, b64_form form, unsigned char **out,
                     size_t *out_len, cw_error *err)
{
    *out = NULL;
    const char *what = form == B64_URL ? "base64url without padding" : "padded base64";
    unsigned char *dst = malloc(len / 4 * 3 + 3);
    if (!dst)
        return CW_FAIL_NOMEM(err);
    size_t n = (size_t)-1;
    if (form == B64_GO_STD) {
        char *sig = malloc(len + 1);
        if (!sig) {
            free(dst);
            return CW_FAIL_NOMEM(err);
        }
        size_t sl = go_significant(in, len, sig);
        if (sl != (size_t)-1)
            n = decode_run(sig, sl, form, 0, dst);
        free(sig);
    } else if (form == B64_URL || len % 4 == 0) {
        size_t sl = len;
        for (int k = 0; form == B64_STD && k < 2 && sl > 0 && in[sl - 1] == '='; k++)
            sl--;
        n = decode_run(in, sl, form, 1, dst);
    }
    if (n == (size_t)-1) {
        free(dst);
        return cw_fail(err, CW_EINVAL, "not valid %s", what);
    }
    dst[n] = '\0';
    *out = dst;
    *out_len = n;
    return CW_OK;
}
