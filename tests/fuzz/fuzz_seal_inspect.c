/* Fuzz target for the parsers of untrusted sealed-secret input (seal.h). The first byte
 * picks the parser: a sealed string (then verified against a fixed key when signed), a
 * public or private JWK, or a resource URI. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "seal.h"

/* A P-256 public key whose private half was discarded: drives seal_verify. */
static const char fixed_jwk[] =
    "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"v5MVdC0_FAC7ESTNTubt4UNzD6_V6u_MlkI69-S9s4A\","
    "\"y\":\"d5E41JP58YNnJHuDPzmrhib1tGv0gxQtLrZg86Y9epk\"}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static seal_key *fixed;
    cw_error err;
    if (!fixed && seal_key_from_jwk(fixed_jwk, sizeof fixed_jwk - 1, 0, &fixed, &err))
        abort();
    if (size < 1)
        return 0;
    const char *text = (const char *)data + 1;
    size_t len = size - 1;

    switch (data[0] % 4) {
    case 0: {
        seal_parsed p;
        if (seal_parse(text, len, &p, &err) == CW_OK) {
            int valid = 0;
            if (p.is_signed)
                seal_verify(&p, fixed, &valid, &err);
            seal_parsed_free(&p);
        }
        break;
    }
    case 1:
    case 2: {
        seal_key *key = NULL;
        if (seal_key_from_jwk(text, len, data[0] % 4 == 2, &key, &err) == CW_OK)
            seal_key_free(key);
        break;
    }
    case 3: {
        char *uri = malloc(len + 1);
        if (!uri)
            return 0;
        memcpy(uri, text, len);
        uri[len] = '\0';
        seal_check_uri(uri, &err);
        free(uri);
        break;
    }
    }
    return 0;
}
