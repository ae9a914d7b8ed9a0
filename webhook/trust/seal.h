/* seal: CoCo sealed secrets (FACTS.md "Sealed secrets"; guest-components
 * confidential-data-hub/hub/src/secret/mod.rs).
 *
 * A sealed secret is "sealed." followed by three dot-separated parts:
 *   unsigned: "fakejwsheader" . base64url(payload) . "fakesignature"
 *   signed:   base64url(JWS protected header) . base64url(payload) . base64url(r||s)
 * where payload is the compact JSON {"version":"0.1.0","type":"vault","name":URI,
 * "provider":"kbs","provider_settings":{..},"annotations":{..}} in that key order, and the
 * signature is ES256 (P-256, SHA-256) over "<header part>.<payload part>".
 *
 * Resource URIs are strict: "kbs:///REPOSITORY/TYPE/TAG", an empty authority (the guest
 * always asks the KBS it was configured with, so a host would be silently ignored), exactly
 * three non-empty segments of [A-Za-z0-9._-] that are not "." or "..", no query or fragment.
 *
 * Base64 is b64.h's, as strict as the guest decodes it. Signing and verifying are es256.h's;
 * the keys come from JWK files (jwk.h, keyfile.h), and Secret manifests that hold a sealed
 * secret are secret_manifest.h's. Everything here parses untrusted input (sealed strings)
 * within the named limits below.
 *
 * This module never prints; the command line (cli_seal.c) does. */
#ifndef COCO_SEAL_H
#define COCO_SEAL_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "es256.h"
#include "result.h"

#define SEAL_URI_MAX 1024           /* bytes of a resource URI (name or kid) */
#define SEAL_SEGMENT_MAX 255        /* bytes of one URI segment */
#define SEAL_SEALED_MAX (64 * 1024) /* bytes of a sealed string given to seal_parse */
#define SEAL_OBJECT_MAX (16 * 1024) /* bytes of a provider_settings / annotations object */

#define SEAL_VERSION "0.1.0"

/* Checks that uri is a strict KBS resource URI (see above); the message says what is wrong. */
CW_MUST_USE cw_result seal_check_uri(const char *uri, cw_error *err);

/* What goes into a vault payload. All borrowed. provider_settings and annotations must be
 * JSON objects or NULL (then {}). */
typedef struct seal_vault {
    const char *name;     /* the resource URI */
    const char *provider; /* NULL means "kbs" */
    const cJSON *provider_settings;
    const cJSON *annotations;
} seal_vault;

/* Parses text as a JSON object for provider_settings or annotations. what names the option
 * in messages. Returns an owned tree in *out. */
CW_MUST_USE cw_result seal_parse_object(const char *what, const char *text, cJSON **out,
                                        cw_error *err);

/* Returns the compact payload JSON in *out (owned, free with free()). */
CW_MUST_USE cw_result seal_payload_json(const seal_vault *v, char **out, cw_error *err);

/* The unsigned form. padded selects padded standard base64 for the payload (older agents).
 * Returns an owned string in *out. */
CW_MUST_USE cw_result seal_unsigned(const seal_vault *v, int padded, char **out, cw_error *err);

/* The signed form: header {"b64":true,"alg":"ES256","kid":kid}, the byte form the upstream
 * tool (jose-jws Protected) writes. kid must pass seal_check_uri. key must be private.
 * Returns an owned string in *out. */
CW_MUST_USE cw_result seal_signed(const seal_vault *v, const es256_key *key, const char *kid,
                                  char **out, cw_error *err);

/* A parsed sealed string. All members owned by the struct. */
typedef struct seal_parsed {
    int is_signed;       /* 0 for the fakejwsheader form */
    cJSON *header;       /* signed form: the protected header (an object); else NULL */
    cJSON *payload;      /* the payload, a JSON object */
    char *signing_input; /* signed form: "<header part>.<payload part>" as written */
    unsigned char sig[ES256_SIG_LEN];
    size_t sig_len; /* signed form: decoded signature length (64 when well formed) */
} seal_parsed;

/* Parses s[0..len) (leading and trailing whitespace ignored). Accepts the unsigned form
 * with base64url or padded standard base64, and the signed form. It checks the structure
 * only: alg, kid and the payload's members are reported, not judged. On failure *out is
 * empty. Free with seal_parsed_free. */
CW_MUST_USE cw_result seal_parse(const char *s, size_t len, seal_parsed *out, cw_error *err);
void seal_parsed_free(seal_parsed *p);

/* Verifies p's signature with key: *valid is 1 or 0. Errors (CW_EINVAL) only when no
 * verification is possible: the string is unsigned or its alg is not ES256. */
CW_MUST_USE cw_result seal_verify(const seal_parsed *p, const es256_key *key, int *valid,
                                  cw_error *err);

#endif
