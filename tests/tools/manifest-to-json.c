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

#include "manifest.h"

static char *slurp(FILE *f, size_t *len)
{
    char *buf = NULL;
    size_t cap = 0;
    *len = 0;
    for (;;) {
        if (*len == cap) {
            cap = cap ? cap * 2 : 65536;
            char *nbuf = realloc(buf, cap);
            if (!nbuf) {
                free(buf);
                return NULL;
            }
            buf = nbuf;
        }
        size_t n = fread(buf + *len, 1, cap - *len, f);
        if (n == 0)
            break;
        *len += n;
    }
    if (ferror(f)) {
        free(buf);
        return NULL;
    }
    return buf;
}

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
    FILE *in = path ? fopen(path, "rb") : stdin;
    if (!in) {
        perror(path);
        return 2;
    }
    size_t len;
    char *buf = slurp(in, &len);
    if (path)
        fclose(in);
    if (!buf) {
        fprintf(stderr, "manifest-to-json: cannot read input\n");
        return 2;
    }
    manifest_docs docs;
    cw_error err = {{0}};
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
