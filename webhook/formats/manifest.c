/* manifest: reading and writing Kubernetes manifests the way kubectl reads them.
 *
 * Reading has three stages. The whole input is checked first (size, NUL bytes, UTF-8). A
 * stream that starts with '{' or '[' is tried as a sequence of JSON values. Otherwise it is
 * split into documents the way kubectl splits it (apimachinery's YAMLReader: a line that
 * starts with "---" followed by nothing but spaces or a comment), and each document is read
 * as JSON when it is one JSON value (manifest_json.c), else as YAML (manifest_yaml.c). The
 * writers are in manifest_write.c. */
#include "manifest.h"

#include <stdlib.h>
#include <string.h>

#include "manifest_reader.h"

/* unicode.IsSpace for the text after "---". Returns the width of a space at i, else 0. */
static size_t space_width(const char *s, size_t len, size_t i)
{
    unsigned char c = (unsigned char)s[i];
    if (c == ' ' || (c >= '\t' && c <= '\r'))
        return 1;
    if (c == 0xc2 && i + 1 < len &&
        ((unsigned char)s[i + 1] == 0x85 || (unsigned char)s[i + 1] == 0xa0))
        return 2;
    if (i + 2 >= len)
        return 0;
    unsigned char c1 = (unsigned char)s[i + 1], c2 = (unsigned char)s[i + 2];
    if (c == 0xe1 && c1 == 0x9a && c2 == 0x80)
        return 3; /* U+1680 */
    if (c == 0xe2 && c1 == 0x80 &&
        ((c2 >= 0x80 && c2 <= 0x8a) || c2 == 0xa8 || c2 == 0xa9 || c2 == 0xaf))
        return 3; /* U+2000..200A, U+2028, U+2029, U+202F */
    if (c == 0xe2 && c1 == 0x81 && c2 == 0x9f)
        return 3; /* U+205F */
    if (c == 0xe3 && c1 == 0x80 && c2 == 0x80)
        return 3; /* U+3000 */
    return 0;
}

/* Reads one document, s[from..to): as JSON when it is one JSON value, else as YAML. */
CW_MUST_USE static cw_result read_chunk(reader *r, size_t from, size_t to, pos at, doclist *l)
{
    cJSON *doc;
    if (manifest_starts_json(r->buf + from, to - from)) {
        bool syntax;
        cw_result rc = manifest_read_json(r, from, to, false, l, &syntax);
        if (!rc || !syntax)
            return rc;
    }
    cw_result rc = manifest_read_yaml(r, from, to, at.line, &doc);
    return rc ? rc : manifest_doclist_push(r, l, doc, at);
}

CW_MUST_USE static cw_result read_stream(reader *r, doclist *l)
{
    size_t start = 0, i = 0;
    pos at = {1, 1}; /* position of i */
    pos chunk_at = at;
    cw_result rc;
    while (i < r->len) {
        const char *nl = memchr(r->buf + i, '\n', r->len - i);
        size_t end = nl ? (size_t)(nl - r->buf) : r->len;
        size_t next = nl ? end + 1 : r->len;
        bool separator = end - i >= 3 && memcmp(r->buf + i, "---", 3) == 0;
        if (separator) {
            size_t j = i + 3, w;
            while (j < end && (w = space_width(r->buf, r->len, j)))
                j += w;
            if (j < end && r->buf[j] != '#')
                return manifest_fail_at(
                    r, CW_EINVAL, at,
                    "invalid document separator: only a comment may follow \"---\"");
            if (i > start) {
                rc = read_chunk(r, start, i, chunk_at, l);
                if (rc)
                    return rc;
            }
        }
        at = manifest_pos_advance(r->buf, r->len, at, i, next);
        i = next;
        if (separator) {
            start = next;
            chunk_at = at;
        }
    }
    return r->len > start ? read_chunk(r, start, r->len, chunk_at, l) : CW_OK;
}

cw_result manifest_read(const char *name, const char *buf, size_t len, manifest_docs *out,
                        cw_error *err)
{
    reader r = {.name = name ? name : "<input>", .buf = buf, .len = len, .err = err};
    doclist l = {0};
    cw_result rc;
    if (out) {
        out->docs = NULL;
        out->count = 0;
    }
    if (!out || (!buf && len))
        return cw_fail(err, CW_EINVAL, "%s: no input buffer or output", r.name);
    if (len > MANIFEST_INPUT_MAX)
        return cw_fail(err, CW_ELIMIT, "%s: input is larger than %u bytes", r.name,
                       (unsigned)MANIFEST_INPUT_MAX);
    if (!buf)
        return CW_OK;
    rc = manifest_check_text(&r);
    if (rc)
        return rc;
    if (manifest_starts_json(buf, len)) {
        bool syntax;
        rc = manifest_read_json(&r, 0, len, true, &l, &syntax);
        if (!rc)
            goto done;
        manifest_doclist_clear(&l);
        if (!syntax)
            return rc;
        r.nodes = r.bytes = 0; /* not JSON after all: read it as YAML */
    }
    rc = read_stream(&r, &l);
    if (rc) {
        manifest_doclist_clear(&l);
        return rc;
    }
done:
    out->docs = l.docs;
    out->count = l.count;
    return CW_OK;
}

void manifest_docs_free(manifest_docs *docs)
{
    if (!docs)
        return;
    for (size_t i = 0; i < docs->count; i++)
        cJSON_Delete(docs->docs[i]);
    free(docs->docs);
    docs->docs = NULL;
    docs->count = 0;
}
