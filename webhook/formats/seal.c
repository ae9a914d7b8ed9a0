/* Only the OpenSSL 3 API: nothing deprecated may be used here. */
#define OPENSSL_API_COMPAT 30000
#define OPENSSL_NO_DEPRECATED 1

#include "seal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#define P256_LEN 32 /* bytes of a P-256 coordinate or scalar */

struct seal_key {
    EVP_PKEY *pkey;
    int has_private;
    char *kid; /* owned, may be NULL */
};

/* ---- small helpers ---- */

/* Joins the NULL-terminated list of strings into one owned string, or NULL. */
static char *str_join(const char *first, ...)
{
    va_list ap;
    size_t total = 0;
    va_start(ap, first);
    for (const char *s = first; s; s = va_arg(ap, const char *))
        total += strlen(s);
    va_end(ap);
    char *out = malloc(total + 1);
    if (!out)
        return NULL;
    size_t pos = 0;
    va_start(ap, first);
    for (const char *s = first; s; s = va_arg(ap, const char *)) {
        size_t n = strlen(s);
        memcpy(out + pos, s, n);
        pos += n;
    }
    va_end(ap);
    out[pos] = '\0';
    return out;
}

/* Copies at most cap-1 bytes of untrusted text into buf for a message, replacing anything
 * but printable ASCII with '?', so that messages stay one readable line. */
static const char *printable(const char *s, size_t len, char *buf, size_t cap)
{
    size_t n = len < cap - 1 ? len : cap - 1;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        buf[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    buf[n] = '\0';
    return buf;
}

/* ---- base64 (RFC 4648 §4 standard with padding, §5 URL-safe without) ---- */

static const char b64_std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64_url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Returns an owned string, or NULL when out of memory. */
static char *b64_encode(const unsigned char *in, size_t len, int url)
{
    const char *alpha = url ? b64_url : b64_std;
    size_t cap = (len + 2) / 3 * 4 + 1;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    size_t o = 0, i = 0;
    for (; i + 3 <= len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = alpha[v >> 18 & 63];
        out[o++] = alpha[v >> 12 & 63];
        out[o++] = alpha[v >> 6 & 63];
        out[o++] = alpha[v & 63];
    }
    if (len - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        out[o++] = alpha[v >> 18 & 63];
        out[o++] = alpha[v >> 12 & 63];
        if (!url) {
            out[o++] = '=';
            out[o++] = '=';
        }
    } else if (len - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        out[o++] = alpha[v >> 18 & 63];
        out[o++] = alpha[v >> 12 & 63];
        out[o++] = alpha[v >> 6 & 63];
        if (!url)
            out[o++] = '=';
    }
    out[o] = '\0';
    return out;
}

static int b64_value(unsigned char c, int url)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == (url ? '-' : '+'))
        return 62;
    if (c == (url ? '_' : '/'))
        return 63;
    return -1;
}

static size_t b64_decoded_len(size_t chars)
{
    return chars / 4 * 3 + (chars % 4 ? chars % 4 - 1 : 0);
}

/* Strict decoding into out[0..cap): the URL-safe form takes no padding, the standard form
 * needs it; non-canonical trailing bits are refused (as guest-components' base64 crate
 * does). Returns 0, or -1 when malformed or longer than cap. */
static int b64_decode_into(const char *in, size_t len, int url, unsigned char *out, size_t cap,
                           size_t *out_len)
{
    if (!url) {
        if (len % 4 != 0)
            return -1;
        for (int k = 0; k < 2 && len > 0 && in[len - 1] == '='; k++)
            len--;
    }
    if (len % 4 == 1 || b64_decoded_len(len) > cap)
        return -1;
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        int v = b64_value((unsigned char)in[i], url);
        if (v < 0)
            return -1;
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (acc != 0)
        return -1;
    *out_len = o;
    return 0;
}

/* Decodes into a new buffer (owned, NUL-terminated for convenience). */
static cw_result b64_decode_alloc(const char *in, size_t len, int url, unsigned char **out,
                                  size_t *out_len, cw_error *err)
{
    size_t cap = b64_decoded_len(len) + 1;
    unsigned char *buf = malloc(cap);
    if (!buf)
        return cw_fail(err, CW_ENOMEM, "out of memory");
    if (b64_decode_into(in, len, url, buf, cap, out_len) != 0) {
        free(buf);
        return cw_fail(err, CW_EINVAL, "not valid %s",
                       url ? "base64url without padding" : "padded base64");
    }
    buf[*out_len] = '\0';
    *out = buf;
    return CW_OK;
}

/* ---- JSON helpers ---- */

/* Refuses objects with a duplicate member (at any depth): what the payload means must not
 * depend on which copy a reader keeps. */
static int json_has_duplicate(const cJSON *node)
{
    for (const cJSON *a = node ? node->child : NULL; a; a = a->next) {
        if (cJSON_IsObject(node) && a->string) {
            for (const cJSON *b = a->next; b; b = b->next)
                if (b->string && strcmp(a->string, b->string) == 0)
                    return 1;
        }
        if (json_has_duplicate(a))
            return 1;
    }
    return 0;
}

/* Parses exactly buf[0..len) (trailing whitespace allowed) as JSON; NULL when malformed. */
static cJSON *json_parse_exact(const char *buf, size_t len)
{
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(buf, len, &end, 0);
    if (!root)
        return NULL;
    for (const char *p = end; p && p < buf + len; p++) {
        if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') {
            cJSON_Delete(root);
            return NULL;
        }
    }
    return root;
}

/* ---- resource URIs ---- */

static int uri_char_ok(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.';
}

cw_result seal_check_uri(const char *uri, cw_error *err)
{
    static const char segs[3][11] = {"REPOSITORY", "TYPE", "TAG"};
    char shown[96];
    if (!uri || !*uri)
        return cw_fail(err, CW_EINVAL, "the resource URI is empty");
    size_t len = strnlen(uri, SEAL_URI_MAX + 1);
    if (len > SEAL_URI_MAX)
        return cw_fail(err, CW_ELIMIT, "the resource URI is longer than %d bytes", SEAL_URI_MAX);
    printable(uri, len, shown, sizeof shown);
    if (strncmp(uri, "kbs://", 6) != 0)
        return cw_fail(err, CW_EINVAL,
                       "resource URI \"%s\": the scheme must be kbs (kbs:///REPOSITORY/TYPE/TAG)",
                       shown);
    const char *p = uri + 6;
    if (*p != '/')
        return cw_fail(err, CW_EINVAL,
                       "resource URI \"%s\" names a host: write kbs:///REPOSITORY/TYPE/TAG (the "
                       "guest asks the KBS it is configured with and would ignore the host)",
                       shown);
    p++;
    for (int i = 0; i < 3; i++) {
        const char *start = p;
        while (*p && *p != '/') {
            if (!uri_char_ok((unsigned char)*p))
                return cw_fail(err, CW_EINVAL,
                               "resource URI \"%s\": character '%c' is not allowed (segments use "
                               "A-Z a-z 0-9 . _ -; no query or fragment)",
                               shown, (*p >= 0x20 && *p < 0x7f) ? *p : '?');
            p++;
        }
        size_t n = (size_t)(p - start);
        if (n == 0)
            return cw_fail(err, CW_EINVAL, "resource URI \"%s\": the %s segment is empty", shown,
                           segs[i]);
        if (n > SEAL_SEGMENT_MAX)
            return cw_fail(err, CW_ELIMIT, "resource URI \"%s\": the %s segment is longer than %d",
                           shown, segs[i], SEAL_SEGMENT_MAX);
        if ((n == 1 && start[0] == '.') || (n == 2 && start[0] == '.' && start[1] == '.'))
            return cw_fail(err, CW_EINVAL,
                           "resource URI \"%s\": the %s segment may not be \"%.*s\"", shown,
                           segs[i], (int)n, start);
        if (i < 2) {
            if (*p != '/')
                return cw_fail(err, CW_EINVAL,
                               "resource URI \"%s\" has %d segment%s, needs 3: "
                               "kbs:///REPOSITORY/TYPE/TAG",
                               shown, i + 1, i ? "s" : "");
            p++;
        }
    }
    if (*p != '\0')
        return cw_fail(err, CW_EINVAL,
                       "resource URI \"%s\" has more than 3 segments: kbs:///REPOSITORY/TYPE/TAG",
                       shown);
    return CW_OK;
}

/* ---- payload ---- */

cw_result seal_parse_object(const char *what, const char *text, cJSON **out, cw_error *err)
{
    *out = NULL;
    size_t len = strnlen(text, SEAL_OBJECT_MAX + 1);
    if (len > SEAL_OBJECT_MAX)
        return cw_fail(err, CW_ELIMIT, "%s is longer than %d bytes", what, SEAL_OBJECT_MAX);
    cJSON *root = json_parse_exact(text, len);
    if (!root)
        return cw_fail(err, CW_EINVAL, "%s is not valid JSON", what);
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return cw_fail(err, CW_EINVAL, "%s must be a JSON object, like {\"key\":\"value\"}", what);
    }
    if (json_has_duplicate(root)) {
        cJSON_Delete(root);
        return cw_fail(err, CW_EINVAL, "%s has a duplicate member", what);
    }
    *out = root;
    return CW_OK;
}

cw_result seal_payload_json(const seal_vault *v, char **out, cw_error *err)
{
    *out = NULL;
    cw_result rc = seal_check_uri(v->name, err);
    if (rc)
        return rc;
    const char *provider = v->provider ? v->provider : "kbs";
    if (strcmp(provider, "kbs") != 0)
        return cw_fail(err, CW_EINVAL, "provider \"%.64s\" is not supported (only kbs)", provider);
    if ((v->provider_settings && !cJSON_IsObject(v->provider_settings)) ||
        (v->annotations && !cJSON_IsObject(v->annotations)))
        return cw_fail(err, CW_EINVAL, "provider_settings and annotations must be JSON objects");

    rc = CW_ENOMEM;
    cJSON *root = cJSON_CreateObject();
    /* Key order as guest-components serialises Secret/VaultSecret. */
    if (!root || !cJSON_AddStringToObject(root, "version", SEAL_VERSION) ||
        !cJSON_AddStringToObject(root, "type", "vault") ||
        !cJSON_AddStringToObject(root, "name", v->name) ||
        !cJSON_AddStringToObject(root, "provider", provider))
        goto out;
    cJSON *settings =
        v->provider_settings ? cJSON_Duplicate(v->provider_settings, 1) : cJSON_CreateObject();
    if (!settings || !cJSON_AddItemToObject(root, "provider_settings", settings)) {
        cJSON_Delete(settings);
        goto out;
    }
    cJSON *annotations = v->annotations ? cJSON_Duplicate(v->annotations, 1) : cJSON_CreateObject();
    if (!annotations || !cJSON_AddItemToObject(root, "annotations", annotations)) {
        cJSON_Delete(annotations);
        goto out;
    }
    *out = cJSON_PrintUnformatted(root);
    if (*out)
        rc = CW_OK;
out:
    cJSON_Delete(root);
    if (rc)
        return cw_fail(err, rc, "out of memory");
    return CW_OK;
}

cw_result seal_unsigned(const seal_vault *v, int padded, char **out, cw_error *err)
{
    *out = NULL;
    char *json = NULL, *b64 = NULL;
    cw_result rc = seal_payload_json(v, &json, err);
    if (rc)
        return rc;
    b64 = b64_encode((const unsigned char *)json, strlen(json), !padded);
    if (b64)
        *out = str_join("sealed.fakejwsheader.", b64, ".fakesignature", (char *)NULL);
    rc = *out ? CW_OK : cw_fail(err, CW_ENOMEM, "out of memory");
    free(json);
    free(b64);
    return rc;
}

/* ---- keys ---- */

void seal_key_free(seal_key *key)
{
    if (!key)
        return;
    EVP_PKEY_free(key->pkey); /* clears the private scalar */
    free(key->kid);
    free(key);
}

const char *seal_key_kid(const seal_key *key)
{
    return key ? key->kid : NULL;
}

/* Builds an EVP_PKEY from big-endian coordinates (and scalar d, or NULL) and checks it:
 * the point must be on the curve, and d must belong to it. */
static cw_result key_from_parts(const unsigned char *x, const unsigned char *y,
                                const unsigned char *d, EVP_PKEY **out, cw_error *err)
{
    cw_result rc = CW_EINVAL;
    unsigned char pub[1 + 2 * P256_LEN];
    unsigned char d_native[P256_LEN]; /* OSSL_PARAM BN buffers are in native byte order */
    EVP_PKEY_CTX *ctx = NULL, *check = NULL;
    EVP_PKEY *pkey = NULL;
    OSSL_PARAM params[4];
    char group[] = "P-256";

    *out = NULL;
    pub[0] = 0x04; /* uncompressed point, SEC 1 §2.3.3 */
    memcpy(pub + 1, x, P256_LEN);
    memcpy(pub + 1 + P256_LEN, y, P256_LEN);
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0);
    params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof pub);
    params[2] = OSSL_PARAM_construct_end();
    params[3] = OSSL_PARAM_construct_end();
    if (d) {
        uint16_t probe = 1;
        int little = *(unsigned char *)&probe == 1;
        for (size_t i = 0; i < P256_LEN; i++)
            d_native[i] = little ? d[P256_LEN - 1 - i] : d[i];
        params[2] = OSSL_PARAM_construct_BN(OSSL_PKEY_PARAM_PRIV_KEY, d_native, sizeof d_native);
    }

    ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    if (!ctx || EVP_PKEY_fromdata_init(ctx) != 1) {
        rc = cw_fail(err, CW_EINTERNAL, "OpenSSL cannot make EC keys");
        goto out;
    }
    if (EVP_PKEY_fromdata(ctx, &pkey, d ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, params) != 1) {
        rc = cw_fail(err, CW_EINVAL, "the JWK's members do not form a P-256 key");
        goto out;
    }
    check = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    if (!check) {
        rc = cw_fail(err, CW_ENOMEM, "out of memory");
        goto out;
    }
    if (EVP_PKEY_public_check(check) != 1) {
        rc = cw_fail(err, CW_EINVAL, "the JWK's x and y are not a valid P-256 public key");
        goto out;
    }
    if (d && EVP_PKEY_check(check) != 1) {
        rc = cw_fail(err, CW_EINVAL, "the JWK's d does not belong to its x and y");
        goto out;
    }
    *out = pkey;
    pkey = NULL;
    rc = CW_OK;
out:
    OPENSSL_cleanse(d_native, sizeof d_native);
    EVP_PKEY_CTX_free(check);
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(pkey);
    ERR_clear_error();
    return rc;
}

/* Decodes JWK member name (base64url of exactly P256_LEN bytes) into out. */
static cw_result jwk_coordinate(const cJSON *jwk, const char *name, unsigned char *out,
                                cw_error *err)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(jwk, name);
    size_t n = 0;
    if (!item)
        return cw_fail(err, CW_EINVAL, "the JWK has no \"%s\"", name);
    if (!cJSON_IsString(item) ||
        b64_decode_into(item->valuestring, strlen(item->valuestring), 1, out, P256_LEN, &n) != 0 ||
        n != P256_LEN)
        return cw_fail(err, CW_EINVAL, "the JWK's \"%s\" is not %d bytes of base64url", name,
                       P256_LEN);
    return CW_OK;
}

cw_result seal_key_from_jwk(const char *json, size_t len, int need_private, seal_key **out,
                            cw_error *err)
{
    cw_result rc;
    unsigned char x[P256_LEN], y[P256_LEN], d[P256_LEN];
    char shown[32];
    EVP_PKEY *pkey = NULL;
    seal_key *key = NULL;
    cJSON *root = NULL;

    *out = NULL;
    if (len > SEAL_JWK_MAX) {
        rc = cw_fail(err, CW_ELIMIT, "the JWK is longer than %d bytes", SEAL_JWK_MAX);
        goto out;
    }
    root = json_parse_exact(json, len);
    if (!root || !cJSON_IsObject(root)) {
        rc = cw_fail(err, CW_EINVAL, "not a JWK: expected a JSON object");
        goto out;
    }
    if (json_has_duplicate(root)) {
        rc = cw_fail(err, CW_EINVAL, "the JWK has a duplicate member");
        goto out;
    }
    const cJSON *kty = cJSON_GetObjectItemCaseSensitive(root, "kty");
    const cJSON *crv = cJSON_GetObjectItemCaseSensitive(root, "crv");
    const cJSON *alg = cJSON_GetObjectItemCaseSensitive(root, "alg");
    const cJSON *kid = cJSON_GetObjectItemCaseSensitive(root, "kid");
    if (!cJSON_IsString(kty)) {
        rc = cw_fail(err, CW_EINVAL, "the JWK has no \"kty\" string");
        goto out;
    }
    if (strcmp(kty->valuestring, "EC") != 0) {
        rc = cw_fail(err, CW_EINVAL,
                     "the JWK is a \"%s\" key; sealed secrets are signed with ES256, which needs "
                     "kty EC and crv P-256",
                     printable(kty->valuestring, strlen(kty->valuestring), shown, sizeof shown));
        goto out;
    }
    if (!cJSON_IsString(crv)) {
        rc = cw_fail(err, CW_EINVAL, "the JWK has no \"crv\" string");
        goto out;
    }
    if (strcmp(crv->valuestring, "P-256") != 0) {
        rc = cw_fail(err, CW_EINVAL,
                     "the JWK's curve is \"%s\"; sealed secrets are signed with ES256, which "
                     "needs P-256",
                     printable(crv->valuestring, strlen(crv->valuestring), shown, sizeof shown));
        goto out;
    }
    if (alg && (!cJSON_IsString(alg) || strcmp(alg->valuestring, "ES256") != 0)) {
        rc = cw_fail(err, CW_EINVAL, "the JWK's \"alg\" is not ES256");
        goto out;
    }
    if (kid && (!cJSON_IsString(kid) || strlen(kid->valuestring) > SEAL_URI_MAX)) {
        rc = cw_fail(err, CW_EINVAL, "the JWK's \"kid\" is not a string of at most %d bytes",
                     SEAL_URI_MAX);
        goto out;
    }
    rc = jwk_coordinate(root, "x", x, err);
    if (!rc)
        rc = jwk_coordinate(root, "y", y, err);
    if (rc)
        goto out;
    if (need_private) {
        if (!cJSON_GetObjectItemCaseSensitive(root, "d")) {
            rc = cw_fail(err, CW_EINVAL,
                         "the JWK is a public key (no \"d\"); signing needs the "
                         "private key");
            goto out;
        }
        rc = jwk_coordinate(root, "d", d, err);
        if (rc)
            goto out;
    }
    rc = key_from_parts(x, y, need_private ? d : NULL, &pkey, err);
    if (rc)
        goto out;
    key = calloc(1, sizeof *key);
    if (!key || (kid && !(key->kid = strdup(kid->valuestring)))) {
        rc = cw_fail(err, CW_ENOMEM, "out of memory");
        goto out;
    }
    key->pkey = pkey;
    key->has_private = need_private;
    pkey = NULL;
    *out = key;
    key = NULL;
    rc = CW_OK;
out:
    OPENSSL_cleanse(d, sizeof d);
    if (root) {
        cJSON *dv = cJSON_GetObjectItemCaseSensitive(root, "d");
        if (cJSON_IsString(dv))
            OPENSSL_cleanse(dv->valuestring, strlen(dv->valuestring));
    }
    cJSON_Delete(root);
    EVP_PKEY_free(pkey);
    seal_key_free(key);
    return rc;
}

cw_result seal_key_load(const char *path, int need_private, seal_key **out, cw_error *err)
{
    cw_result rc;
    size_t len = 0;
    *out = NULL;
    /* One buffer of the full limit: no reallocation leaves copies of the key behind. */
    char *buf = malloc(SEAL_JWK_MAX + 1);
    if (!buf)
        return cw_fail(err, CW_ENOMEM, "out of memory");
    FILE *f = fopen(path, "rb");
    if (!f) {
        rc = cw_fail(err, CW_EIO, "%s: %s", path, strerror(errno));
        goto out;
    }
    len = fread(buf, 1, SEAL_JWK_MAX + 1, f);
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        rc = cw_fail(err, CW_EIO, "%s: cannot read", path);
        goto out;
    }
    if (len == 0) {
        rc = cw_fail(err, CW_EINVAL, "%s: the file is empty", path);
        goto out;
    }
    if (len > SEAL_JWK_MAX) {
        rc = cw_fail(err, CW_ELIMIT, "%s: longer than %d bytes, not a JWK", path, SEAL_JWK_MAX);
        goto out;
    }
    rc = seal_key_from_jwk(buf, len, need_private, out, err);
    if (rc)
        cw_error_prefix(err, "%s", path);
out:
    OPENSSL_cleanse(buf, len < SEAL_JWK_MAX + 1 ? len : SEAL_JWK_MAX + 1);
    free(buf);
    return rc;
}

cw_result seal_key_generate(seal_key **out, cw_error *err)
{
    *out = NULL;
    seal_key *key = calloc(1, sizeof *key);
    if (!key)
        return cw_fail(err, CW_ENOMEM, "out of memory");
    key->pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    if (!key->pkey) {
        ERR_clear_error();
        free(key);
        return cw_fail(err, CW_EINTERNAL, "OpenSSL could not make a P-256 key");
    }
    key->has_private = 1;
    *out = key;
    return CW_OK;
}

/* Writes the key's coordinates (and scalar when d is given) as base64url into the buffers. */
static cw_result key_export(const seal_key *key, char x64[64], char y64[64], char d64[64],
                            cw_error *err)
{
    cw_result rc = CW_EINTERNAL;
    BIGNUM *bx = NULL, *by = NULL, *bd = NULL;
    unsigned char raw[P256_LEN];
    char *s = NULL;
    if (EVP_PKEY_get_bn_param(key->pkey, OSSL_PKEY_PARAM_EC_PUB_X, &bx) != 1 ||
        EVP_PKEY_get_bn_param(key->pkey, OSSL_PKEY_PARAM_EC_PUB_Y, &by) != 1 ||
        (d64 && EVP_PKEY_get_bn_param(key->pkey, OSSL_PKEY_PARAM_PRIV_KEY, &bd) != 1))
        goto out;
    const BIGNUM *parts[3] = {bx, by, bd};
    char *dest[3] = {x64, y64, d64};
    for (int i = 0; i < 3; i++) {
        if (!dest[i])
            continue;
        if (BN_bn2binpad(parts[i], raw, P256_LEN) != P256_LEN)
            goto out;
        s = b64_encode(raw, P256_LEN, 1);
        if (!s) {
            rc = CW_ENOMEM;
            goto out;
        }
        memcpy(dest[i], s, strlen(s) + 1); /* 43 characters */
        OPENSSL_cleanse(s, strlen(s));
        free(s);
        s = NULL;
    }
    rc = CW_OK;
out:
    OPENSSL_cleanse(raw, sizeof raw);
    BN_free(bx);
    BN_free(by);
    BN_clear_free(bd);
    ERR_clear_error();
    if (rc)
        return cw_fail(err, rc, "cannot export the key");
    return CW_OK;
}

/* ---- signing and verifying ---- */

/* ES256 over msg: raw r||s into sig (RFC 7518 §3.4). */
static cw_result es256_sign(EVP_PKEY *pkey, const char *msg, unsigned char sig[SEAL_SIG_LEN],
                            cw_error *err)
{
    cw_result rc = CW_EINTERNAL;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned char *der = NULL;
    size_t der_len = 0;
    ECDSA_SIG *es = NULL;
    const BIGNUM *r, *s;
    if (!md || EVP_DigestSignInit_ex(md, NULL, "SHA256", NULL, NULL, pkey, NULL) != 1 ||
        EVP_DigestSign(md, NULL, &der_len, (const unsigned char *)msg, strlen(msg)) != 1)
        goto out;
    der = malloc(der_len);
    if (!der) {
        rc = CW_ENOMEM;
        goto out;
    }
    if (EVP_DigestSign(md, der, &der_len, (const unsigned char *)msg, strlen(msg)) != 1)
        goto out;
    const unsigned char *p = der;
    es = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
    if (!es)
        goto out;
    ECDSA_SIG_get0(es, &r, &s);
    if (BN_bn2binpad(r, sig, P256_LEN) != P256_LEN ||
        BN_bn2binpad(s, sig + P256_LEN, P256_LEN) != P256_LEN)
        goto out;
    rc = CW_OK;
out:
    ECDSA_SIG_free(es);
    free(der);
    EVP_MD_CTX_free(md);
    ERR_clear_error();
    if (rc)
        return cw_fail(err, rc, "signing failed");
    return CW_OK;
}

/* Returns 1 when sig (raw r||s) is a valid ES256 signature of msg, else 0. */
static int es256_verify(EVP_PKEY *pkey, const char *msg, const unsigned char *sig, size_t sig_len)
{
    int ok = 0;
    EVP_MD_CTX *md = NULL;
    ECDSA_SIG *es = NULL;
    BIGNUM *r = NULL, *s = NULL;
    unsigned char *der = NULL;
    if (sig_len != SEAL_SIG_LEN)
        return 0;
    r = BN_bin2bn(sig, P256_LEN, NULL);
    s = BN_bin2bn(sig + P256_LEN, P256_LEN, NULL);
    es = ECDSA_SIG_new();
    if (!r || !s || !es || ECDSA_SIG_set0(es, r, s) != 1)
        goto out;
    r = s = NULL; /* owned by es now */
    int der_len = i2d_ECDSA_SIG(es, &der);
    if (der_len <= 0)
        goto out;
    md = EVP_MD_CTX_new();
    if (!md || EVP_DigestVerifyInit_ex(md, NULL, "SHA256", NULL, NULL, pkey, NULL) != 1)
        goto out;
    ok = EVP_DigestVerify(md, der, (size_t)der_len, (const unsigned char *)msg, strlen(msg)) == 1;
out:
    EVP_MD_CTX_free(md);
    OPENSSL_free(der);
    ECDSA_SIG_free(es);
    BN_free(r);
    BN_free(s);
    ERR_clear_error();
    return ok;
}

cw_result seal_signed(const seal_vault *v, const seal_key *key, const char *kid, char **out,
                      cw_error *err)
{
    cw_result rc;
    char *json = NULL, *header = NULL, *h64 = NULL, *p64 = NULL, *input = NULL, *s64 = NULL;
    unsigned char sig[SEAL_SIG_LEN];
    cJSON *hdr = NULL;

    *out = NULL;
    if (!key || !key->has_private)
        return cw_fail(err, CW_EINVAL, "signing needs a private key");
    rc = seal_check_uri(kid, err);
    if (rc) {
        cw_error_prefix(err, "signing kid");
        return rc;
    }
    rc = seal_payload_json(v, &json, err);
    if (rc)
        return rc;
    rc = CW_ENOMEM;
    /* The members and their order are what jose-jws's Protected serialises: its b64 member
     * (RFC 7797) is written when true, so upstream headers start with "b64":true. */
    hdr = cJSON_CreateObject();
    if (!hdr || !cJSON_AddTrueToObject(hdr, "b64") ||
        !cJSON_AddStringToObject(hdr, "alg", "ES256") || !cJSON_AddStringToObject(hdr, "kid", kid))
        goto out;
    header = cJSON_PrintUnformatted(hdr);
    if (!header)
        goto out;
    h64 = b64_encode((const unsigned char *)header, strlen(header), 1);
    p64 = b64_encode((const unsigned char *)json, strlen(json), 1);
    if (!h64 || !p64)
        goto out;
    input = str_join(h64, ".", p64, (char *)NULL);
    if (!input)
        goto out;
    rc = es256_sign(key->pkey, input, sig, err);
    if (rc)
        goto out;
    rc = CW_ENOMEM;
    s64 = b64_encode(sig, sizeof sig, 1);
    if (!s64)
        goto out;
    *out = str_join("sealed.", input, ".", s64, (char *)NULL);
    if (*out)
        rc = CW_OK;
out:
    if (rc == CW_ENOMEM)
        cw_fail(err, rc, "out of memory");
    cJSON_Delete(hdr);
    free(json);
    free(header);
    free(h64);
    free(p64);
    free(input);
    free(s64);
    return rc;
}

/* ---- parsing ---- */

void seal_parsed_free(seal_parsed *p)
{
    if (!p)
        return;
    cJSON_Delete(p->header);
    cJSON_Delete(p->payload);
    free(p->signing_input);
    memset(p, 0, sizeof *p);
}

/* Decodes part (base64url, or padded standard base64 when legacy allows it) into a JSON
 * object. what names the part in messages. */
static cw_result decode_json_part(const char *what, const char *part, size_t len, int legacy,
                                  cJSON **out, cw_error *err)
{
    unsigned char *raw = NULL;
    size_t raw_len = 0;
    cw_result rc = b64_decode_alloc(part, len, 1, &raw, &raw_len, err);
    if (rc == CW_EINVAL && legacy)
        rc = b64_decode_alloc(part, len, 0, &raw, &raw_len, err);
    if (rc) {
        if (rc == CW_EINVAL)
            cw_fail(err, rc, "the %s part is not base64url%s", what,
                    legacy ? " or padded base64" : "");
        return rc;
    }
    *out = json_parse_exact((const char *)raw, raw_len);
    free(raw);
    if (!*out || !cJSON_IsObject(*out)) {
        cJSON_Delete(*out);
        *out = NULL;
        return cw_fail(err, CW_EINVAL, "the %s part is not a JSON object", what);
    }
    return CW_OK;
}

cw_result seal_parse(const char *s, size_t len, seal_parsed *out, cw_error *err)
{
    static const char prefix[] = "sealed.";
    const size_t plen = sizeof prefix - 1;
    cw_result rc;
    memset(out, 0, sizeof *out);
    while (len > 0 && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')) {
        s++;
        len--;
    }
    while (len > 0 &&
           (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\n' || s[len - 1] == '\r'))
        len--;
    if (len > SEAL_SEALED_MAX)
        return cw_fail(err, CW_ELIMIT, "the sealed secret is longer than %d bytes",
                       SEAL_SEALED_MAX);
    if (len < plen || memcmp(s, prefix, plen) != 0)
        return cw_fail(err, CW_EINVAL, "not a sealed secret: it does not start with \"sealed.\"");
    const char *parts[3];
    size_t lens[3];
    const char *p = s + plen, *end = s + len;
    for (int i = 0; i < 3; i++) {
        const char *dot = i < 2 ? memchr(p, '.', (size_t)(end - p)) : NULL;
        if (i < 2 && !dot)
            return cw_fail(err, CW_EINVAL,
                           "the sealed secret has %d part%s after \"sealed.\", needs 3 "
                           "(header.payload.signature)",
                           i + 1, i ? "s" : "");
        parts[i] = p;
        lens[i] = (size_t)((dot ? dot : end) - p);
        p = dot ? dot + 1 : end;
    }
    if (memchr(parts[2], '.', lens[2]))
        return cw_fail(err, CW_EINVAL,
                       "the sealed secret has more than 3 parts after "
                       "\"sealed.\" (header.payload.signature)");

    static const char fake_header[] = "fakejwsheader", fake_sig[] = "fakesignature";
    if (lens[0] == sizeof fake_header - 1 && memcmp(parts[0], fake_header, lens[0]) == 0) {
        if (lens[2] != sizeof fake_sig - 1 || memcmp(parts[2], fake_sig, lens[2]) != 0)
            return cw_fail(err, CW_EINVAL, "the unsigned form must end with \".fakesignature\"");
        rc = decode_json_part("payload", parts[1], lens[1], 1, &out->payload, err);
        if (rc)
            seal_parsed_free(out);
        return rc;
    }

    out->is_signed = 1;
    rc = decode_json_part("header", parts[0], lens[0], 0, &out->header, err);
    if (!rc)
        rc = decode_json_part("payload", parts[1], lens[1], 0, &out->payload, err);
    if (rc)
        goto fail;
    if (b64_decode_into(parts[2], lens[2], 1, out->sig, sizeof out->sig, &out->sig_len) != 0 ||
        out->sig_len != SEAL_SIG_LEN) {
        rc = cw_fail(err, CW_EINVAL,
                     "the signature part is not %d bytes of base64url (ES256 "
                     "r||s)",
                     SEAL_SIG_LEN);
        goto fail;
    }
    size_t in_len = lens[0] + 1 + lens[1];
    out->signing_input = malloc(in_len + 1);
    if (!out->signing_input) {
        rc = cw_fail(err, CW_ENOMEM, "out of memory");
        goto fail;
    }
    memcpy(out->signing_input, parts[0], in_len); /* header "." payload, as written */
    out->signing_input[in_len] = '\0';
    return CW_OK;
fail:
    seal_parsed_free(out);
    return rc;
}

cw_result seal_verify(const seal_parsed *p, const seal_key *key, int *valid, cw_error *err)
{
    *valid = 0;
    if (!p->is_signed)
        return cw_fail(err, CW_EINVAL, "the sealed secret is unsigned: nothing to verify");
    const cJSON *alg = cJSON_GetObjectItemCaseSensitive(p->header, "alg");
    if (!cJSON_IsString(alg) || strcmp(alg->valuestring, "ES256") != 0)
        return cw_fail(err, CW_EINVAL, "the header's alg is not ES256, the only one guests accept");
    *valid = es256_verify(key->pkey, p->signing_input, p->sig, p->sig_len);
    return CW_OK;
}

/* ---- keygen ---- */

/* Writes text into a new temporary file dir/.NAME.XXXXXX with mode, synced; its path goes
 * to tmp[PATH_MAX]. Nothing is left behind on failure. */
static cw_result write_temp(const char *dir, const char *name, mode_t mode, const char *text,
                            char *tmp, cw_error *err)
{
    int n = snprintf(tmp, PATH_MAX, "%s/.%s.XXXXXX", dir, name);
    if (n < 0 || n >= PATH_MAX)
        return cw_fail(err, CW_EINVAL, "%s: the path is too long", dir);
    int fd = mkstemp(tmp);
    if (fd < 0)
        return cw_fail(err, CW_EIO, "%s: %s", dir, strerror(errno));
    size_t len = strlen(text), done = 0;
    int saved = 0;
    if (fchmod(fd, mode) != 0)
        saved = errno;
    while (!saved && done < len) {
        ssize_t w = write(fd, text + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            saved = w < 0 ? errno : EIO;
            break;
        }
        done += (size_t)w;
    }
    if (!saved && fsync(fd) != 0)
        saved = errno;
    if (close(fd) != 0 && !saved)
        saved = errno;
    if (saved) {
        unlink(tmp);
        tmp[0] = '\0';
        return cw_fail(err, CW_EIO, "%s/%s: %s", dir, name, strerror(saved));
    }
    return CW_OK;
}

/* Writes both key files into dir: both are complete on disk before either is renamed into
 * place, so that a failure never leaves a new private key beside an old public one. */
static cw_result write_key_files(const char *dir, const char *priv, const char *pub, cw_error *err)
{
    char tmp_priv[PATH_MAX] = "", tmp_pub[PATH_MAX] = "", final[PATH_MAX];
    cw_result rc = write_temp(dir, "private.jwk", 0600, priv, tmp_priv, err);
    if (!rc)
        rc = write_temp(dir, "public.jwk", 0644, pub, tmp_pub, err);
    if (rc)
        goto out;
    int n = snprintf(final, sizeof final, "%s/private.jwk", dir);
    if (n < 0 || (size_t)n >= sizeof final || rename(tmp_priv, final) != 0) {
        rc = cw_fail(err, CW_EIO, "%s/private.jwk: %s", dir, strerror(errno));
        goto out;
    }
    tmp_priv[0] = '\0';
    n = snprintf(final, sizeof final, "%s/public.jwk", dir);
    if (n < 0 || (size_t)n >= sizeof final || rename(tmp_pub, final) != 0) {
        rc = cw_fail(err, CW_EIO, "%s/public.jwk: %s", dir, strerror(errno));
        goto out;
    }
    tmp_pub[0] = '\0';
out:
    if (tmp_priv[0])
        unlink(tmp_priv);
    if (tmp_pub[0])
        unlink(tmp_pub);
    return rc;
}

static void fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        fsync(fd); /* best effort: the files themselves are already synced */
        close(fd);
    }
}

cw_result seal_keygen(const char *dir, const char *kid, int force, cw_error *err)
{
    cw_result rc;
    seal_key *key = NULL;
    char x64[64], y64[64], d64[64];
    char pub[512], priv[512];
    char path[PATH_MAX], tmpdir[PATH_MAX] = "";
    struct stat st;

    memset(d64, 0, sizeof d64);
    memset(priv, 0, sizeof priv);
    rc = seal_check_uri(kid, err);
    if (rc) {
        cw_error_prefix(err, "--kid");
        return rc;
    }
    /* Drop trailing slashes so that "DIR/" and "DIR" name the same temporary sibling. */
    size_t dlen = strnlen(dir, sizeof path);
    while (dlen > 1 && dir[dlen - 1] == '/')
        dlen--;
    if (dlen == 0 || dlen >= sizeof path - 32)
        return cw_fail(err, CW_EINVAL, "the output directory name is empty or too long");
    memcpy(path, dir, dlen);
    path[dlen] = '\0';

    int exists = lstat(path, &st) == 0;
    if (!exists && errno != ENOENT)
        return cw_fail(err, CW_EIO, "%s: %s", path, strerror(errno));
    if (exists && !force)
        return cw_fail(err, CW_EINVAL,
                       "%s already exists: choose a new directory, or --force "
                       "to replace the key files in it",
                       path);
    if (exists && !S_ISDIR(st.st_mode))
        return cw_fail(err, CW_EINVAL, "%s exists and is not a directory", path);

    rc = seal_key_generate(&key, err);
    if (rc)
        return rc;
    rc = key_export(key, x64, y64, d64, err);
    if (rc)
        goto out;
    /* kid passed seal_check_uri: no character needs JSON escaping. Formatting by hand keeps
     * the private key in buffers that are wiped below. */
    int np = snprintf(pub, sizeof pub,
                      "{\"kty\":\"EC\",\"crv\":\"P-256\",\"alg\":\"ES256\",\"kid\":\"%s\","
                      "\"x\":\"%s\",\"y\":\"%s\"}\n",
                      kid, x64, y64);
    int nk = snprintf(priv, sizeof priv,
                      "{\"kty\":\"EC\",\"crv\":\"P-256\",\"alg\":\"ES256\",\"kid\":\"%s\","
                      "\"x\":\"%s\",\"y\":\"%s\",\"d\":\"%s\"}\n",
                      kid, x64, y64, d64);
    if (np < 0 || (size_t)np >= sizeof pub || nk < 0 || (size_t)nk >= sizeof priv) {
        rc = cw_fail(err, CW_ELIMIT, "the kid is too long for a key file");
        goto out;
    }

    const char *target = path;
    if (!exists) {
        int n = snprintf(tmpdir, sizeof tmpdir, "%s.tmpXXXXXX", path);
        if (n < 0 || (size_t)n >= sizeof tmpdir || !mkdtemp(tmpdir)) {
            tmpdir[0] = '\0';
            rc = cw_fail(err, CW_EIO, "%s: cannot create a temporary directory beside it: %s", path,
                         strerror(errno));
            goto out;
        }
        target = tmpdir;
    }
    rc = write_key_files(target, priv, pub, err);
    if (rc)
        goto out;
    if (!exists) {
        /* RENAME_NOREPLACE: never replace a directory that appeared in the meantime. */
        int moved = renameat2(AT_FDCWD, tmpdir, AT_FDCWD, path, RENAME_NOREPLACE) == 0;
        /* A file system without RENAME_NOREPLACE: check again, then plain rename. */
        if (!moved && errno == EINVAL && lstat(path, &st) != 0 && errno == ENOENT)
            moved = rename(tmpdir, path) == 0;
        if (!moved) {
            rc = cw_fail(err, CW_EIO, "%s: %s", path, strerror(errno));
            goto out;
        }
        tmpdir[0] = '\0';
    }
    fsync_dir(path);
    rc = CW_OK;
out:
    if (tmpdir[0]) {
        char f[PATH_MAX + 16];
        snprintf(f, sizeof f, "%s/private.jwk", tmpdir);
        unlink(f);
        snprintf(f, sizeof f, "%s/public.jwk", tmpdir);
        unlink(f);
        rmdir(tmpdir);
    }
    OPENSSL_cleanse(d64, sizeof d64);
    OPENSSL_cleanse(priv, sizeof priv);
    seal_key_free(key);
    return rc;
}

/* ---- Secret manifests ---- */

/* RFC 1123 label: [a-z0-9]([-a-z0-9]*[a-z0-9])?, at most max bytes. */
static int dns_label_ok(const char *s, size_t n)
{
    if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
            return 0;
    return 1;
}

static int dns_subdomain_ok(const char *s)
{
    size_t n = strnlen(s, 254);
    if (n == 0 || n > 253)
        return 0;
    for (const char *p = s;;) {
        const char *dot = strchr(p, '.');
        size_t l = dot ? (size_t)(dot - p) : strlen(p);
        if (!dns_label_ok(p, l))
            return 0;
        if (!dot)
            return 1;
        p = dot + 1;
    }
}

/* A Secret data key: [-._a-zA-Z0-9]+, at most 253 bytes, not "." or "..". */
static int secret_key_ok(const char *s)
{
    size_t n = strnlen(s, 254);
    if (n == 0 || n > 253 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!(uri_char_ok((unsigned char)s[i])))
            return 0;
    return 1;
}

cw_result seal_secret_manifest(const char *name, const char *ns, const char *key,
                               const char *sealed, int use_data, cJSON **out, cw_error *err)
{
    char shown[80];
    *out = NULL;
    if (!dns_subdomain_ok(name))
        return cw_fail(err, CW_EINVAL,
                       "Secret name \"%s\" is not a DNS subdomain (lower-case letters, digits, "
                       "'-' and '.', at most 253)",
                       printable(name, strlen(name), shown, sizeof shown));
    if (ns && !dns_label_ok(ns, strlen(ns)))
        return cw_fail(err, CW_EINVAL,
                       "namespace \"%s\" is not a DNS label (lower-case letters, digits and '-', "
                       "at most 63)",
                       printable(ns, strlen(ns), shown, sizeof shown));
    if (!secret_key_ok(key))
        return cw_fail(err, CW_EINVAL,
                       "Secret key \"%s\" may only hold letters, digits, '-', '_' and '.' (at "
                       "most 253)",
                       printable(key, strlen(key), shown, sizeof shown));

    cw_result rc = CW_ENOMEM;
    char *b64 = NULL;
    cJSON *root = cJSON_CreateObject();
    cJSON *meta = cJSON_CreateObject();
    cJSON *data = cJSON_CreateObject();
    if (!root || !meta || !data)
        goto out;
    if (!cJSON_AddStringToObject(root, "apiVersion", "v1") ||
        !cJSON_AddStringToObject(root, "kind", "Secret") ||
        !cJSON_AddItemToObject(root, "metadata", meta)) {
        goto out;
    }
    meta = NULL; /* owned by root */
    cJSON *m = cJSON_GetObjectItemCaseSensitive(root, "metadata");
    if (!cJSON_AddStringToObject(m, "name", name) ||
        (ns && !cJSON_AddStringToObject(m, "namespace", ns)) ||
        !cJSON_AddStringToObject(root, "type", "Opaque"))
        goto out;
    if (use_data) {
        b64 = b64_encode((const unsigned char *)sealed, strlen(sealed), 0);
        if (!b64 || !cJSON_AddStringToObject(data, key, b64))
            goto out;
    } else if (!cJSON_AddStringToObject(data, key, sealed)) {
        goto out;
    }
    if (!cJSON_AddItemToObject(root, use_data ? "data" : "stringData", data))
        goto out;
    data = NULL;
    *out = root;
    root = NULL;
    rc = CW_OK;
out:
    free(b64);
    cJSON_Delete(root);
    cJSON_Delete(meta);
    cJSON_Delete(data);
    if (rc)
        return cw_fail(err, rc, "out of memory");
    return CW_OK;
}
