/* jsonpatch-apply-c: webhook/formats/jsonpatch.c's applier as a command, the counterpart of the
 * evanphx/json-patch oracle (tests/oracle/jsonpatch-apply) for cross-checks.
 *
 * Usage: jsonpatch-apply-c DOC.json PATCH.json
 *   exit 0: the patched document, compact JSON, and a newline on stdout
 *   exit 1: the patch does not apply; the error on stderr
 *   exit 2: usage error, an unreadable file, or a file that is not JSON */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>

#include "jsonpatch.h"

/* Reads and parses a whole JSON file. Returns owned, or NULL after a message. */
static cJSON *read_json(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return NULL;
    }
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            size_t ncap = cap ? cap * 2 : 65536;
            char *nbuf = realloc(buf, ncap);
            if (!nbuf) {
                free(buf);
                fclose(f);
                fprintf(stderr, "%s: out of memory\n", path);
                return NULL;
            }
            buf = nbuf;
            cap = ncap;
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        if (n == 0)
            break;
        len += n;
    }
    fclose(f);
    const char *end = NULL;
    cJSON *v = cJSON_ParseWithLengthOpts(buf, len, &end, 0);
    /* Trailing whitespace is fine; anything else is not. */
    if (v) {
        for (; end < buf + len; end++) {
            if (*end != ' ' && *end != '\n' && *end != '\r' && *end != '\t') {
                cJSON_Delete(v);
                v = NULL;
                break;
            }
        }
    }
    free(buf);
    if (!v)
        fprintf(stderr, "%s: not JSON\n", path);
    return v;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: jsonpatch-apply-c DOC.json PATCH.json\n");
        return 2;
    }
    int rc = 2;
    cJSON *doc = read_json(argv[1]);
    cJSON *patch = read_json(argv[2]);
    if (!doc || !patch)
        goto out;

    cw_error err = {{0}};
    if (jsonpatch_apply(&doc, patch, &err) != CW_OK) {
        fprintf(stderr, "%s\n", err.msg);
        rc = 1;
        goto out;
    }
    char *text = cJSON_PrintUnformatted(doc);
    if (!text) {
        fprintf(stderr, "out of memory\n");
        goto out;
    }
    printf("%s\n", text);
    cJSON_free(text);
    rc = 0;
out:
    cJSON_Delete(doc);
    cJSON_Delete(patch);
    return rc;
}
