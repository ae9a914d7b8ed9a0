/* Fuzz target for the JSON Patch applier. Input: a document, a NUL byte, a patch (without
 * a NUL, the whole input is a patch for a small Pod). Checks, besides memory safety, that a
 * patched document prints and parses back equal to itself, and that jsonpatch_apply_taking
 * gives what jsonpatch_apply gives. */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jsonpatch.h"

static const char default_doc[] =
    "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\",\"annotations\":"
    "{\"a/b\":\"1\",\"c~d\":\"2\"}},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"i\","
    "\"resources\":{\"limits\":{\"cpu\":1}}}],\"volumes\":[{\"name\":\"v\",\"emptyDir\":{}}]}}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    const char *doc_text = default_doc, *patch_text = in;
    size_t doc_len = sizeof default_doc - 1, patch_len = size;
    const char *nul = memchr(in, '\0', size);
    if (nul) {
        doc_text = in;
        doc_len = (size_t)(nul - in);
        patch_text = nul + 1;
        patch_len = size - doc_len - 1;
    }

    cJSON *doc = cJSON_ParseWithLengthOpts(doc_text, doc_len, NULL, 0);
    cJSON *patch = cJSON_ParseWithLengthOpts(patch_text, patch_len, NULL, 0);
    if (!doc || !patch)
        goto out;

    cw_error err, terr;
    cJSON *tdoc = cJSON_Duplicate(doc, 1), *tpatch = cJSON_Duplicate(patch, 1);
    cw_result r = jsonpatch_apply(&doc, patch, &err);
    if (tdoc && tpatch) {
        cw_result tr = jsonpatch_apply_taking(&tdoc, tpatch, &terr);
        /* Copying can run out of memory where moving cannot; nothing else may differ. */
        if (r != CW_ENOMEM && (tr != r || (r != CW_OK && strcmp(terr.msg, err.msg) != 0) ||
                               (r == CW_OK && !jsonpatch_equal(doc, tdoc))))
            abort();
    }
    cJSON_Delete(tdoc);
    cJSON_Delete(tpatch);
    if (r != CW_OK) {
        if (strnlen(err.msg, sizeof err.msg) == 0)
            abort(); /* every failure says why */
        goto out;
    }
    if (!jsonpatch_equal(doc, doc))
        abort();
    char *text = cJSON_PrintUnformatted(doc);
    if (!text)
        goto out;
    cJSON *back = cJSON_Parse(text);
    if (!back || !jsonpatch_equal(doc, back))
        abort();
    cJSON_Delete(back);
    cJSON_free(text);
out:
    cJSON_Delete(doc);
    cJSON_Delete(patch);
    return 0;
}
