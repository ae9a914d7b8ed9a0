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
 * Keys are JSON Web Keys (RFC 7517/7518): {"kty":"EC","crv":"P-256","x","y"[,"d"][,"kid"]}.
 * Other key types and curves are refused. Private key bytes are wiped after use
 * (OPENSSL_cleanse) and never appear in messages. Everything here parses untrusted input
 * (sealed strings, JWK files) within the named limits below.
 *
 * This module never prints; the command line (cli_seal.c) does. */
#ifndef COCO_SEAL_H
#define COCO_SEAL_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "result.h"

#define SEAL_URI_MAX 1024           /* bytes of a resource URI (name or kid) */
#define SEAL_SEGMENT_MAX 255        /* bytes of one URI segment */
#define SEAL_SEALED_MAX (64 * 1024) /* bytes of a sealed string given to seal_parse */
#define SEAL_JWK_MAX (16 * 1024)    /* bytes of a JWK file */
#define SEAL_OBJECT_MAX (16 * 1024) /* bytes of a provider_settings / annotations object */
#define SEAL_SIG_LEN 64             /* ES256 raw r||s */

#define SEAL_VERSION "0.1.0"

/* Checks that uri is a strict KBS resource URI (see above); the message says what is wrong. */
cw_result seal_check_uri(const char *uri, cw_error *err);

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
cw_result seal_parse_object(const char *what, const char *text, cJSON **out, cw_error *err);

/* Returns the compact payload JSON in *out (owned, free with free()). */
cw_result seal_payload_json(const seal_vault *v, char **out, cw_error *err);

/* The unsigned form. padded selects padded standard base64 for the payload (older agents).
 * Returns an owned string in *out. */
cw_result seal_unsigned(const seal_vault *v, int padded, char **out, cw_error *err);

/* An EC P-256 key, public or with its private part. Opaque. */
typedef struct seal_key seal_key;

/* Parses a JWK from json[0..len). need_private: the key must carry "d" (checked against
 * x and y); otherwise "d" is ignored. The caller still owns (and should wipe) json.
 * Returns an owned key in *out; free with seal_key_free. */
cw_result seal_key_from_jwk(const char *json, size_t len, int need_private, seal_key **out,
                            cw_error *err);

/* Reads a JWK file (at most SEAL_JWK_MAX bytes), wiping the read buffer afterwards.
 * Messages name path. */
cw_result seal_key_load(const char *path, int need_private, seal_key **out, cw_error *err);

/* The "kid" member of the JWK the key came from, or NULL. Borrowed from key. */
const char *seal_key_kid(const seal_key *key);

/* Makes a new P-256 key pair. Returns an owned key in *out. */
cw_result seal_key_generate(seal_key **out, cw_error *err);

/* Frees key and wipes its private part; NULL is fine. */
void seal_key_free(seal_key *key);

/* The signed form: header {"b64":true,"alg":"ES256","kid":kid}, the byte form the upstream
 * tool (jose-jws Protected) writes. kid must pass seal_check_uri. key must be private.
 * Returns an owned string in *out. */
cw_result seal_signed(const seal_vault *v, const seal_key *key, const char *kid, char **out,
                      cw_error *err);

/* A parsed sealed string. All members owned by the struct. */
typedef struct seal_parsed {
    int is_signed;       /* 0 for the fakejwsheader form */
    cJSON *header;       /* signed form: the protected header (an object); else NULL */
    cJSON *payload;      /* the payload, a JSON object */
    char *signing_input; /* signed form: "<header part>.<payload part>" as written */
    unsigned char sig[SEAL_SIG_LEN];
    size_t sig_len; /* signed form: decoded signature length (64 when well formed) */
} seal_parsed;

/* Parses s[0..len) (leading and trailing whitespace ignored). Accepts the unsigned form
 * with base64url or padded standard base64, and the signed form. It checks the structure
 * only: alg, kid and the payload's members are reported, not judged. On failure *out is
 * empty. Free with seal_parsed_free. */
cw_result seal_parse(const char *s, size_t len, seal_parsed *out, cw_error *err);
void seal_parsed_free(seal_parsed *p);

/* Verifies p's signature with key: *valid is 1 or 0. Errors (CW_EINVAL) only when no
 * verification is possible: the string is unsigned or its alg is not ES256. */
cw_result seal_verify(const seal_parsed *p, const seal_key *key, int *valid, cw_error *err);

/* Writes a new key pair as JWK files into dir: "private.jwk" (mode 0600, with "d") and
 * "public.jwk" (mode 0644, what Trustee serves at kid), both with "kid":kid.
 * Without force dir must not exist: it is created (mode 0700) from a temporary directory
 * renamed into place, so that it appears complete or not at all. With force an existing dir
 * is reused: both files are written completely under temporary names before either is
 * renamed over the old one. */
cw_result seal_keygen(const char *dir, const char *kid, int force, cw_error *err);

/* Builds a v1 Secret (type Opaque) holding sealed under key, in stringData, or base64 in
 * data when use_data. ns may be NULL. Names are checked (RFC 1123 subdomain / label, Secret
 * key syntax). Returns an owned tree in *out. */
cw_result seal_secret_manifest(const char *name, const char *ns, const char *key,
                               const char *sealed, int use_data, cJSON **out, cw_error *err);

#endif
