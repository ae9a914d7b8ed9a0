/* b64: base64 (RFC 4648) in the three forms the project reads and writes.
 *
 * Ours rather than OpenSSL's: its decoders skip white space, take padding anywhere and
 * ignore non-canonical trailing bits, and none knows the URL-safe alphabet, while the
 * sealed-secret format must be read as strictly as the guest decodes it and manifests as
 * loosely as Go does; and EVP_EncodeBlock costs a third more instructions than this
 * encoder on the request path, where every answer's patch is encoded. */
#ifndef COCO_B64_H
#define COCO_B64_H

#include <stddef.h>

#include "buf.h"
#include "result.h"

typedef enum b64_form {
    B64_STD,    /* §4 alphabet, padded; decoding refuses non-canonical trailing bits */
    B64_URL,    /* §5 alphabet, unpadded (JOSE); decoding as strict as B64_STD */
    B64_GO_STD, /* decoding only: Go's base64.StdEncoding.DecodeString, which skips CR and LF
                   and does not check the trailing bits (Kubernetes []byte fields) */
} b64_form;

/* Characters of the encoded form of n bytes (no NUL). */
size_t b64_encoded_len(size_t n, b64_form form);

/* Appends the encoding of in[0..n) to out (B64_STD or B64_URL). */
CW_MUST_USE cw_result b64_encode(buf *out, const void *in, size_t n, b64_form form);

/* The encoding as an owned NUL-terminated string (free()), or NULL when out of memory. */
char *b64_encode_alloc(const void *in, size_t n, b64_form form);

/* Decodes in[0..len) into an owned buffer (free()), NUL-terminated for convenience, and its
 * length. CW_EINVAL ("not valid padded base64", "not valid base64url without padding") when
 * malformed, CW_ENOMEM when out of memory; *out is NULL on failure. */
CW_MUST_USE cw_result b64_decode(const char *in, size_t len, b64_form form, unsigned char **out,
                                 size_t *out_len, cw_error *err);

#endif
