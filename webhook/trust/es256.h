/* es256: ECDSA on P-256 with SHA-256 as JOSE uses it (RFC 7518 §3.4): keys made from and
 * exported to their raw big-endian coordinates, signatures as raw r||s.
 *
 * Only the OpenSSL 3 EVP API. A key owns its EVP_PKEY, which clears the private scalar when
 * freed; every temporary copy of a scalar made here is wiped (OPENSSL_cleanse), and what
 * es256_key_export writes is the caller's to wipe. Messages never hold key bytes. */
#ifndef COCO_ES256_H
#define COCO_ES256_H

#include <stdbool.h>
#include <stddef.h>

#include "result.h"

#define ES256_COORD_LEN 32 /* bytes of a P-256 coordinate or private scalar */
#define ES256_SIG_LEN 64   /* raw r||s */

/* A P-256 key, public or with its private part. Opaque. */
typedef struct es256_key es256_key;

/* Builds a key from the coordinates x and y and, when d is not NULL, the private scalar d
 * (each ES256_COORD_LEN big-endian bytes, borrowed). Checks that the point is on the curve and
 * that d belongs to it: CW_EINVAL saying which ("x and y ...", "d ..."). Returns an owned key
 * in *out; free with es256_key_free. */
CW_MUST_USE cw_result es256_key_from_coords(const unsigned char *x, const unsigned char *y,
                                            const unsigned char *d, es256_key **out, cw_error *err);

/* Makes a new key pair. Returns an owned key in *out. */
CW_MUST_USE cw_result es256_key_generate(es256_key **out, cw_error *err);

bool es256_key_has_private(const es256_key *key);

/* Writes the key's coordinates into x and y and, when d is not NULL, its private scalar into
 * d (each ES256_COORD_LEN bytes); the key must have a private part then. */
CW_MUST_USE cw_result es256_key_export(const es256_key *key, unsigned char *x, unsigned char *y,
                                       unsigned char *d, cw_error *err);

/* Frees key; NULL is fine. */
void es256_key_free(es256_key *key);

/* Signs msg[0..len) with a private key: raw r||s into sig. */
CW_MUST_USE cw_result es256_sign(const es256_key *key, const void *msg, size_t len,
                                 unsigned char sig[ES256_SIG_LEN], cw_error *err);

/* True when sig[0..sig_len) is a valid signature of msg[0..len) under key (false for a
 * signature of any other length). */
bool es256_verify(const es256_key *key, const void *msg, size_t len, const unsigned char *sig,
                  size_t sig_len);

#endif
