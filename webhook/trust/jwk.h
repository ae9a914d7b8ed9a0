/* jwk: JSON Web Keys (RFC 7517, RFC 7518 §6.2) of ES256 keys:
 * {"kty":"EC","crv":"P-256","x","y"[,"d"][,"alg":"ES256"][,"kid"]}, coordinates in base64url
 * without padding (b64.h B64_URL, strict). Other key types, curves and algorithms are refused,
 * and so is a key with a duplicate member at any depth. Everything read here is untrusted.
 *
 * The private scalar "d" is wiped wherever this module decoded it, and never appears in a
 * message. Never prints. */
#ifndef COCO_JWK_H
#define COCO_JWK_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "es256.h"
#include "result.h"

#define JWK_MAX (16 * 1024) /* bytes of a JWK text */
#define JWK_KID_MAX 1024    /* bytes of its "kid" */

/* A key read from a JWK, with the JWK's "kid". Owns both. */
typedef struct jwk {
    es256_key *key;
    char *kid; /* NULL when the JWK has none */
} jwk;

/* Parses json[0..len) (at most JWK_MAX bytes). need_private: the key must carry "d" (checked
 * against x and y); otherwise "d" is ignored. The caller still owns (and should wipe) json.
 * Returns an owned jwk in *out; free with jwk_free. */
CW_MUST_USE cw_result jwk_parse(const char *json, size_t len, bool need_private, jwk **out,
                                cw_error *err);

/* Frees k and its key; NULL is fine. */
void jwk_free(jwk *k);

/* Appends key as one line of JWK text and a newline:
 * {"kty":"EC","crv":"P-256","alg":"ES256","kid":KID,"x":..,"y":..[,"d":..]}. with_private adds
 * "d"; its text is written into room reserved before the first byte, so growth never leaves a
 * copy behind, and the caller wipes out's bytes before freeing them. */
CW_MUST_USE cw_result jwk_format(const es256_key *key, const char *kid, bool with_private, buf *out,
                                 cw_error *err);

#endif
