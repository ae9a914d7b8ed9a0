/* Fuzz target for the parsers of untrusted sealed-secret input (seal.h, jwk.h). The first byte
 * picks the parser: a sealed string (then verified against a fixed key when signed), a
 * public or private JWK, or a resource URI. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jwk.h"
#include "seal.h"

/* A P-256 public key whose private half was discarded: drives seal_verify. */
static const char fixed_jwk[] =
    "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"v5MVdC0_FAC7ESTNTubt4UNzD6_V6u_MlkI69-S9s4A\","
    "\"y\":\"d5E41JP58YNnJHuDPzmrhib1tGv0gxQtLrZg86Y9epk\"}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static jwk *fixed;
    cw_error err;
    if (!fixed && jwk_parse(fixed_jwk, sizeof fixed_jwk - 1, false, &fixed, &err))
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
            /* Only that it returns matters: a refusal is as good as a verdict. */
            if (p.is_signed && seal_verify(&p, fixed->key, &valid, &err) != CW_OK)
                valid = 0;
            seal_parsed_free(&p);
        }
        break;
    }
    case 1:
    case 2: {
        jwk *key = NULL;
        if (jwk_parse(text, len, data[0] % 4 == 2, &key, &err) == CW_OK)
            jwk_free(key);
        break;
    }
    case 3: {
        char *uri = malloc(len + 1);
        if (!uri)
            return 0;
        memcpy(uri, text, len);
        uri[len] = '\0';
        if (seal_check_uri(uri, &err) != CW_OK)
            uri[0] = '\0';
        free(uri);
        break;
    }
    }
    return 0;
}
