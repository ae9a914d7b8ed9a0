#include "seal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "buf.h"
#include "jsonutil.h"

#define SEAL_PREFIX "sealed."
#define SEAL_FAKE_HEADER "fakejwsheader"
#define SEAL_FAKE_SIGNATURE "fakesignature"

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
    cw_printable(uri, len, shown, sizeof shown);
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
    cJSON *root = jsonutil_parse_exact(text, len);
    if (!root)
        return cw_fail(err, CW_EINVAL, "%s is not valid JSON", what);
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return cw_fail(err, CW_EINVAL, "%s must be a JSON object, like {\"key\":\"value\"}", what);
    }
    bool oom = false;
    if (jsonutil_find_duplicate_key(root, &oom) || oom) {
        cJSON_Delete(root);
        return oom ? CW_FAIL_NOMEM(err)
                   : cw_fail(err, CW_EINVAL, "%s has a duplicate member", what);
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
        return CW_FAIL_NOMEM(err);
    return CW_OK;
}

/* The text of a sequence of buf appends into *out (owned), or out of memory. */
CW_MUST_USE static cw_result take_text(buf *b, char **out, cw_error *err)
{
    *out = buf_take(b, NULL);
    buf_free(b);
    return *out ? CW_OK : CW_FAIL_NOMEM(err);
}

cw_result seal_unsigned(const seal_vault *v, int padded, char **out, cw_error *err)
{
    *out = NULL;
    char *json = NULL;
    CW_GUARD(seal_payload_json(v, &json, err));
    buf b;
    buf_init(&b, SIZE_MAX); /* bounded by the payload's parts, each checked */
    (void)(buf_adds(&b, SEAL_PREFIX SEAL_FAKE_HEADER ".") ||
           b64_encode(&b, json, strlen(json), padded ? B64_STD : B64_URL) ||
           buf_adds(&b, "." SEAL_FAKE_SIGNATURE));
    free(json);
    return take_text(&b, out, err);
}

/* The protected header {"b64":true,"alg":"ES256","kid":kid}: the members and their order are
 * what jose-jws's Protected serialises (its b64 member, RFC 7797, is written when true). */
static char *signed_header(const char *kid)
{
    cJSON *hdr = cJSON_CreateObject();
    char *text = NULL;
    if (hdr && cJSON_AddTrueToObject(hdr, "b64") && cJSON_AddStringToObject(hdr, "alg", "ES256") &&
        cJSON_AddStringToObject(hdr, "kid", kid))
        text = cJSON_PrintUnformatted(hdr);
    cJSON_Delete(hdr);
    return text;
}

cw_result seal_signed(const seal_vault *v, const es256_key *key, const char *kid, char **out,
                      cw_error *err)
{
    char *json = NULL, *header = NULL;
    unsigned char sig[ES256_SIG_LEN];
    buf b;

    *out = NULL;
    if (!es256_key_has_private(key))
        return cw_fail(err, CW_EINVAL, "signing needs a private key");
    cw_result rc = seal_check_uri(kid, err);
    if (rc) {
        cw_error_prefix(err, "signing kid");
        return rc;
    }
    CW_GUARD(seal_payload_json(v, &json, err));
    buf_init(&b, SIZE_MAX); /* bounded by the payload's parts, each checked */
    header = signed_header(kid);
    if (!header) {
        rc = CW_FAIL_NOMEM(err);
        goto out;
    }
    /* The signing input "<header part>.<payload part>" is written after the prefix, signed
     * where it stands, and followed by the signature part. */
    const size_t input_at = sizeof SEAL_PREFIX - 1;
    if (buf_adds(&b, SEAL_PREFIX) || b64_encode(&b, header, strlen(header), B64_URL) ||
        buf_addc(&b, '.') || b64_encode(&b, json, strlen(json), B64_URL)) {
        rc = take_text(&b, out, err);
        goto out;
    }
    rc = es256_sign(key, b.data + input_at, b.len - input_at, sig, err);
    if (rc)
        goto out;
    (void)(buf_addc(&b, '.') || b64_encode(&b, sig, sizeof sig, B64_URL));
    rc = take_text(&b, out, err);
out:
    buf_free(&b);
    free(json);
    free(header);
    return rc;
}

/* ---- parsing ---- */

void seal_parsed_free(seal_parsed *p)
{
    if (p) {
        cJSON_Delete(p->header);
        cJSON_Delete(p->payload);
        free(p->signing_input);
        *p = (seal_parsed){0};
    }
}

/* Decodes part (base64url, or padded standard base64 when legacy allows it) into a JSON
 * object. what names the part in messages. */
CW_MUST_USE static cw_result decode_json_part(const char *what, const char *part, size_t len,
                                              int legacy, cJSON **out, cw_error *err)
{
    unsigned char *raw = NULL;
    size_t raw_len = 0;
    cw_result rc = b64_decode(part, len, B64_URL, &raw, &raw_len, err);
    if (rc == CW_EINVAL && legacy)
        rc = b64_decode(part, len, B64_STD, &raw, &raw_len, err);
    if (rc) {
        if (rc == CW_EINVAL)
            cw_fail(err, rc, "the %s part is not base64url%s", what,
                    legacy ? " or padded base64" : "");
        return rc;
    }
    *out = jsonutil_parse_exact((const char *)raw, raw_len);
    free(raw);
    if (!*out || !cJSON_IsObject(*out)) {
        cJSON_Delete(*out);
        *out = NULL;
        return cw_fail(err, CW_EINVAL, "the %s part is not a JSON object", what);
    }
    return CW_OK;
}

/* Decodes the signature part into p->sig: ES256_SIG_LEN bytes of base64url. */
CW_MUST_USE static cw_result decode_signature(const char *part, size_t len, seal_parsed *p,
                                              cw_error *err)
{
    unsigned char *raw = NULL;
    size_t n = 0;
    cw_result rc = CW_EINVAL;
    /* Longer text is refused before it is decoded. */
    if (len <= b64_encoded_len(ES256_SIG_LEN, B64_URL))
        rc = b64_decode(part, len, B64_URL, &raw, &n, err);
    if (rc == CW_ENOMEM)
        return rc;
    if (rc == CW_OK && n == ES256_SIG_LEN) {
        memcpy(p->sig, raw, n);
        p->sig_len = n;
    }
    free(raw);
    if (rc != CW_OK || n != ES256_SIG_LEN)
        return cw_fail(err, CW_EINVAL,
                       "the signature part is not %d bytes of base64url (ES256 r||s)",
                       ES256_SIG_LEN);
    return CW_OK;
}

cw_result seal_parse(const char *s, size_t len, seal_parsed *out, cw_error *err)
{
    const size_t plen = sizeof SEAL_PREFIX - 1;
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
    if (len < plen || memcmp(s, SEAL_PREFIX, plen) != 0)
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

    if (lens[0] == sizeof SEAL_FAKE_HEADER - 1 &&
        memcmp(parts[0], SEAL_FAKE_HEADER, lens[0]) == 0) {
        if (lens[2] != sizeof SEAL_FAKE_SIGNATURE - 1 ||
            memcmp(parts[2], SEAL_FAKE_SIGNATURE, lens[2]) != 0)
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
    if ((rc = decode_signature(parts[2], lens[2], out, err)))
        goto fail;
    size_t in_len = lens[0] + 1 + lens[1];
    out->signing_input = malloc(in_len + 1);
    if (!out->signing_input) {
        rc = CW_FAIL_NOMEM(err);
        goto fail;
    }
    memcpy(out->signing_input, parts[0], in_len); /* header "." payload, as written */
    out->signing_input[in_len] = '\0';
    return CW_OK;
fail:
    seal_parsed_free(out);
    return rc;
}

cw_result seal_verify(const seal_parsed *p, const es256_key *key, int *valid, cw_error *err)
{
    *valid = 0;
    if (!p->is_signed)
        return cw_fail(err, CW_EINVAL, "the sealed secret is unsigned: nothing to verify");
    const cJSON *alg = cJSON_GetObjectItemCaseSensitive(p->header, "alg");
    if (!cJSON_IsString(alg) || strcmp(alg->valuestring, "ES256") != 0)
        return cw_fail(err, CW_EINVAL, "the header's alg is not ES256, the only one guests accept");
    *valid = es256_verify(key, p->signing_input, strlen(p->signing_input), p->sig, p->sig_len);
    return CW_OK;
}
