/* manifest-to-json: reads a manifest stream with manifest_read() and prints it, for the
 * tests that compare our reader with the oracle (tests/manifest/).
 *
 *   manifest-to-json [--yaml | --pretty] [FILE]
 *
 * Default: each document as compact JSON, one per line. --yaml: the documents written back
 * with manifest_write_yaml(); --pretty: with manifest_write_json(). FILE defaults to
 * standard input. On bad input: the error on standard error, exit status 1. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileread.h"
#include "manifest.h"

int main(int argc, char **argv)
{
    const char *mode = "json", *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--yaml") == 0)
            mode = "yaml";
        else if (strcmp(argv[i], "--pretty") == 0)
            mode = "pretty";
        else
            path = argv[i];
    }
    size_t len;
    char *buf;
    cw_error err = {{0}};
    /* One byte past the reader's limit, so that the reader reports an input too large. */
    if (file_read(path ? path : "/dev/stdin", MANIFEST_INPUT_MAX + 1, &buf, &len, &err) != CW_OK) {
        fprintf(stderr, "manifest-to-json: %s\n", err.msg);
        return 2;
    }
    manifest_docs docs;
    int status = 0;
    if (manifest_read(path ? path : "<stdin>", buf, len, &docs, &err) != CW_OK) {
        fprintf(stderr, "%s\n", err.msg);
        free(buf);
        return 1;
    }
    for (size_t i = 0; i < docs.count && status == 0; i++) {
        if (strcmp(mode, "yaml") == 0) {
            if (manifest_write_yaml(stdout, docs.docs[i], i == 0, &err) != CW_OK)
                status = 1;
        } else if (strcmp(mode, "pretty") == 0) {
            if (manifest_write_json(stdout, docs.docs[i], &err) != CW_OK)
                status = 1;
        } else {
            char *text = cJSON_PrintUnformatted(docs.docs[i]);
            if (!text) {
                snprintf(err.msg, sizeof err.msg, "out of memory");
                status = 1;
                break;
            }
            printf("%s\n", text);
            cJSON_free(text);
        }
    }
    if (status)
        fprintf(stderr, "%s\n", err.msg);
    manifest_docs_free(&docs);
    free(buf);
    return status;
}
