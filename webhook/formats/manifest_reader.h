/* manifest_reader: what the parts of the manifest reader share; internal to manifest*.c.
 *
 * The reader is split by input form: manifest.c splits a stream into documents and owns the
 * public entry points, manifest_json.c reads JSON documents, manifest_yaml.c reads YAML
 * documents (libyaml events, YAML 1.1 scalars through yaml11.h, anchors, aliases and
 * merges expanded). They share one reader: the input, the stream-wide budgets (nodes and
 * bytes after alias expansion, manifest.h) and positions for messages. */
#ifndef COCO_MANIFEST_READER_H
#define COCO_MANIFEST_READER_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "manifest.h"
#include "result.h"

#define MANIFEST_KEY_SHOW_MAX 64 /* bytes of a key quoted in an error message */
/* Room for a key shown by manifest_key_show: every byte may take 4, plus "..." and NUL. */
#define MANIFEST_KEY_SHOWN_SIZE (MANIFEST_KEY_SHOW_MAX * 4 + 8)

typedef struct pos {
    size_t line, col; /* 1-based; columns count characters, as libyaml does */
} pos;

typedef struct reader {
    const char *name;
    const char *buf;
    size_t len;
    size_t nodes; /* nodes made so far, against MANIFEST_NODES_MAX */
    size_t bytes; /* text of keys and strings made so far, against MANIFEST_BYTES_MAX */
    cw_error *err;
    /* The line and column of offset pos_off, where manifest_pos_at last counted to: offsets
     * are asked for in increasing order, so counting on from there keeps the reader linear. */
    size_t pos_off;
    pos pos_last;
} reader;

/* The documents read so far (owned). */
typedef struct doclist {
    cJSON **docs;
    size_t count, cap;
} doclist;

/* "NAME:LINE:COL: message" into r->err; returns code. */
CW_MUST_USE cw_result manifest_fail_at(const reader *r, cw_result code, pos p, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* "NAME: out of memory". */
CW_MUST_USE cw_result manifest_oom(const reader *r);

/* p advanced over s[from..to) (line breaks as libyaml counts them); the position of offset
 * off in r's input. */
pos manifest_pos_advance(const char *s, size_t len, pos p, size_t from, size_t to);
pos manifest_pos_at(reader *r, size_t off);

/* At most MANIFEST_KEY_SHOW_MAX bytes of key for a message, cut at a character boundary,
 * control characters shown as '?'. */
void manifest_key_show(const char *key, size_t len, char *out, size_t cap);

/* The whole input has no NUL byte and is valid UTF-8 (no overlong forms, no surrogates). */
CW_MUST_USE cw_result manifest_check_text(reader *r);
bool manifest_utf8_valid(const char *s, size_t len);

/* Charges n nodes and bytes of text to the stream's budgets (CW_ELIMIT past them). */
CW_MUST_USE cw_result manifest_take_nodes(reader *r, size_t n, size_t bytes, pos p);
/* Nodes in the tree n; its nesting of collections in *height, its text in *bytes. */
size_t manifest_measure(const cJSON *n, size_t *height, size_t *bytes);

/* Appends doc (taking ownership even on failure). */
CW_MUST_USE cw_result manifest_doclist_push(reader *r, doclist *l, cJSON *doc, pos p);
void manifest_doclist_clear(doclist *l);

/* True when s[0..len) starts, after white space, with '{' or '['. */
bool manifest_starts_json(const char *s, size_t len);

/* Reads JSON values from r's input [from..to) into l: all of them (many) or exactly one.
 * On failure *syntax tells whether the text is not JSON at all (so it may be YAML). */
CW_MUST_USE cw_result manifest_read_json(reader *r, size_t from, size_t to, bool many, doclist *l,
                                         bool *syntax);

/* Reads one YAML document, r's input [from..to) whose first line is line0. */
CW_MUST_USE cw_result manifest_read_yaml(reader *r, size_t from, size_t to, size_t line0,
                                         cJSON **out);

#endif
