/* libFuzzer target: the initdata document reader (the TOML subset of initdata_doc.c) and the
 * annotation decoder on arbitrary bytes. A document that passes the check must encode, decode
 * back to the same bytes and hash; nothing may crash, leak or read out of bounds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "initdata_doc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cw_error err = {{0}};
    initdata_doc doc;
    if (initdata_doc_from_bytes("fuzz.toml", data, size, &doc, &err) == CW_OK) {
        unsigned char *back = NULL;
        size_t n = 0;
        if (initdata_decode(doc.value, doc.value_len, doc.len, &back, &n, &err) != CW_OK ||
            n != size || memcmp(back, data, size) != 0 || doc.digest_len < 32)
            __builtin_trap();
        free(back);
        initdata_doc_clear(&doc);
    } else if (err.msg[0] == '\0') {
        __builtin_trap();
    }
    /* The same bytes as an annotation value someone else made. */
    unsigned char *out = NULL;
    size_t n = 0;
    if (initdata_decode((const char *)data, size, 4096, &out, &n, &err) == CW_OK) {
        if (n > 4096)
            __builtin_trap();
        free(out);
    }
    return 0;
}
