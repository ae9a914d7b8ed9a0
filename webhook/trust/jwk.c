#include "jwk.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/crypto.h>

#include "b64.h"
#include "jsonesc.h"
#include "jsonutil.h"

/* Decodes member name (base64url of exactly ES256_COORD_LEN bytes) into out. */
CW_MUST_USE static cw_result coordinate(const cJSON *jwk_obj, const char *name, unsigned char *out,
                                        cw_error *err)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(jwk_obj, name);
    if (!item)
        return cw_fail(err, CW_EINVAL, "the JWK has no \"%s\"", name);
    unsigned char *raw = NULL;
    size_t n = 0;
    cw_result rc = CW_EINVAL;
    if (cJSON_IsString(item))
        rc = b64_decode(item->valuestring, strlen(item->valuestring), B64_URL, &raw, &n, err);
    if (rc == CW_ENOMEM)
        return rc;
    if (rc == CW_OK && n == ES256_COORD_LEN)
        memcpy(out, raw, n);
    if (raw) {
        OPENSSL_cleanse(raw, n);
        free(raw);
    }
    if (rc != CW_OK || n != ES256_COORD_LEN)
        return cw_fail(err, CW_EINVAL, "the JWK's \"%s\" is not %d bytes of base64url", name,
                       ES256_COORD_LEN);
    return CW_OK;
}

/* Member name must be the string want. */
CW_MUST_USE static cw_result check_kind_member(const cJSON *root, const char *name,
                                               const char *want, cw_error *err)
{
    char shown[32];
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, name);
    if (!cJSON_IsString(v))
        return cw_fail(err, CW_EINVAL, "the JWK has no \"%s\" string", name);
    if (strcmp(v->valuestring, want) != 0)
        return cw_fail(err, CW_EINVAL,
                       "the JWK is a \"%s\" key; sealed secrets are signed with ES256, which "
                       "needs kty EC and crv P-256",
                       cw_printable(v->valuestring, strlen(v->valuestring), shown, sizeof shown));
    return CW_OK;
}

/* Checks the members that say what kind of key this is. */
CW_MUST_USE static cw_result check_kind(const cJSON *root, cw_error *err)
{
    const cJSON *alg = cJSON_GetObjectItemCaseSensitive(root, "alg");
    const cJSON *kid = cJSON_GetObjectItemCaseSensitive(root, "kid");
    CW_GUARD(check_kind_member(root, "kty", "EC", err));
    CW_GUARD(check_kind_member(root, "crv", "P-256", err));
    if (alg && (!cJSON_IsString(alg) || strcmp(alg->valuestring, "ES256") != 0))
        return cw_fail(err, CW_EINVAL, "the JWK's \"alg\" is not ES256");
    if (kid && (!cJSON_IsString(kid) || strlen(kid->valuestring) > JWK_KID_MAX))
        return cw_fail(err, CW_EINVAL, "the JWK's \"kid\" is not a string of at most %d bytes",
                       JWK_KID_MAX);
    return CW_OK;
}

/* The key of a checked JWK object. */
CW_MUST_USE static cw_result read_key(const cJSON *root, bool need_private, es256_key **out,
                                      cw_error *err)
{
    unsigned char x[ES256_COORD_LEN], y[ES256_COORD_LEN], d[ES256_COORD_LEN];
    cw_result rc = coordinate(root, "x", x, err);
    if (!rc)
        rc = coordinate(root, "y", y, err);
    if (!rc && need_private && !cJSON_GetObjectItemCaseSensitive(root, "d"))
        rc = cw_fail(err, CW_EINVAL,
                     "the JWK is a public key (no \"d\"); signing needs the private key");
    if (!rc && need_private)
        rc = coordinate(root, "d", d, err);
    if (!rc) {
        rc = es256_key_from_coords(x, y, need_private ? d : NULL, out, err);
        if (rc == CW_EINVAL)
            cw_error_prefix(err, "the JWK");
    }
    OPENSSL_cleanse(d, sizeof d);
    return rc;
}

cw_result jwk_parse(const char *json, size_t len, bool need_private, jwk **out, cw_error *err)
{
    cw_result rc;
    cJSON *root = NULL;
    jwk *k = NULL;
    bool oom = false;

    *out = NULL;
    if (len > JWK_MAX)
        return cw_fail(err, CW_ELIMIT, "the JWK is longer than %d bytes", JWK_MAX);
    root = jsonutil_parse_exact(json, len);
    if (!root || !cJSON_IsObject(root)) {
        rc = cw_fail(err, CW_EINVAL, "not a JWK: expected a JSON object");
        goto out;
    }
    if (jsonutil_find_duplicate_key(root, &oom) || oom) {
        rc = oom ? CW_FAIL_NOMEM(err) : cw_fail(err, CW_EINVAL, "the JWK has a duplicate member");
        goto out;
    }
    if ((rc = check_kind(root, err)))
        goto out;
    k = calloc(1, sizeof *k);
    if (!k) {
        rc = CW_FAIL_NOMEM(err);
        goto out;
    }
    if ((rc = read_key(root, need_private, &k->key, err)))
        goto out;
    const char *kid = jsonutil_string(root, "kid");
    if (kid && !(k->kid = strdup(kid))) {
        rc = CW_FAIL_NOMEM(err);
        goto out;
    }
    *out = k;
    k = NULL;
out:
    if (root) {
        cJSON *dv = cJSON_GetObjectItemCaseSensitive(root, "d");
        if (cJSON_IsString(dv))
            OPENSSL_cleanse(dv->valuestring, strlen(dv->valuestring));
    }
    cJSON_Delete(root);
    jwk_free(k);
    return rc;
}

void jwk_free(jwk *k)
{
    if (!k)
        return;
    es256_key_free(k->key);
    free(k->kid);
    free(k);
}

cw_result jwk_format(const es256_key *key, const char *kid, bool with_private, buf *out,
                     cw_error *err)
{
    unsigned char x[ES256_COORD_LEN], y[ES256_COORD_LEN], d[ES256_COORD_LEN];
    size_t kid_len = strlen(kid);
    /* The members' text around the kid, whose escapes take at most JSONESC_BYTE_MAX each. */
    size_t room = 256 + kid_len * JSONESC_BYTE_MAX;
    cw_result rc = es256_key_export(key, x, y, with_private ? d : NULL, err);
    if (rc)
        return rc;
    if (!buf_reserve(out, room))
        goto fail;
    if (buf_adds(out, "{\"kty\":\"EC\",\"crv\":\"P-256\",\"alg\":\"ES256\",\"kid\":") ||
        jsonesc_append(out, kid, kid_len) || buf_adds(out, ",\"x\":\"") ||
        b64_encode(out, x, sizeof x, B64_URL) || buf_adds(out, "\",\"y\":\"") ||
        b64_encode(out, y, sizeof y, B64_URL) ||
        (with_private && (buf_adds(out, "\",\"d\":\"") || b64_encode(out, d, sizeof d, B64_URL))) ||
        buf_adds(out, "\"}\n"))
        goto fail;
    OPENSSL_cleanse(d, sizeof d);
    return CW_OK;
fail:
    OPENSSL_cleanse(d, sizeof d);
    rc = buf_status(out);
    if (rc == CW_ENOMEM)
        return CW_FAIL_NOMEM(err);
    return cw_fail(err, rc, "the JWK text is larger than its buffer");
}
