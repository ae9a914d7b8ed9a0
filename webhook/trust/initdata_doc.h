/* initdata_doc: initdata documents (SPEC §2.5, FACTS.md "Initdata"): reading a document file,
 * checking it, the annotation value (standard base64 of its gzip) and its digests.
 *
 * A document is the TOML text the pod VM's attestation agent, confidential data hub and kata
 * agent read at boot. Its digest is taken over the bytes exactly as delivered, so the bytes
 * are never changed: the gzip is of the file as read.
 *
 * Debian 12 packages no C TOML library (only C++ cpptoml and libraries of other languages),
 * so the check here reads the subset of TOML needed to find the top-level `version` and
 * `algorithm` and the `[data]` table: comments, bare, quoted and dotted keys, table headers,
 * the four string forms with their escapes, arrays and inline tables (skipped, brackets
 * balanced), and other scalars as single tokens. It is a structural check, not a full TOML
 * validator: the decisive parse is the guest's. The whole file must be UTF-8 text without
 * control characters other than tab, CR and LF.
 *
 * The annotation value is made once per load: gzip with mtime 0, no file name and the
 * default OS byte, so the same bytes always give the same value. */
#ifndef COCO_INITDATA_DOC_H
#define COCO_INITDATA_DOC_H

#include <stdbool.h>
#include <stddef.h>

#include "result.h"

#define INITDATA_FILE_MAX (1024 * 1024) /* bytes of a document file */
#define INITDATA_VALUE_MAX (128 * 1024) /* bytes of the annotation value (base64 of gzip) */
#define INITDATA_DIGEST_MAX 64          /* bytes of the longest digest (sha512) */
#define INITDATA_NESTING_MAX 64         /* depth of arrays and inline tables */
/* "sha512:" and 128 hex digits, NUL */
#define INITDATA_DIGEST_TEXT_MAX (7 + 2 * INITDATA_DIGEST_MAX + 1)

#define INITDATA_ANN_HYPERVISOR "io.katacontainers.config.hypervisor.cc_init_data"
#define INITDATA_ANN_RUNTIME "io.katacontainers.config.runtime.cc_init_data" /* kata < 3.20 */

typedef enum initdata_alg {
    INITDATA_SHA256,
    INITDATA_SHA384,
    INITDATA_SHA512,
} initdata_alg;

/* What the check found in a document. */
typedef struct initdata_info {
    initdata_alg alg;
    size_t data_entries;              /* string entries of [data] */
    bool has_aa, has_cdh, has_policy; /* "aa.toml", "cdh.toml", "policy.rego" present */
} initdata_info;

/* A loaded document. Every pointer is owned; release with initdata_doc_clear. */
typedef struct initdata_doc {
    char *path;           /* the file it was read from, or a name for messages */
    unsigned char *bytes; /* the file as read, NUL-terminated for convenience */
    size_t len;
    char *value; /* the annotation value, NUL-terminated */
    size_t value_len;
    initdata_info info;
    unsigned char digest[INITDATA_DIGEST_MAX];
    size_t digest_len;
    char digest_text[INITDATA_DIGEST_TEXT_MAX]; /* "sha256:<hex>" */
} initdata_doc;

/* Checks mem[0..len) as a document. name is used in messages ("NAME:LINE: ..."). */
CW_MUST_USE cw_result initdata_check(const char *name, const unsigned char *mem, size_t len,
                                     initdata_info *info, cw_error *err);

/* Reads a document file (a regular file of at most INITDATA_FILE_MAX bytes). Returns owned
 * bytes in *mem (NUL-terminated; *len excludes the NUL). Errors name the file. */
CW_MUST_USE cw_result initdata_read_file(const char *path, unsigned char **mem, size_t *len,
                                         cw_error *err);

/* Checks, encodes and hashes mem[0..len); name is kept as doc->path. Copies mem. Refuses
 * empty documents and values over INITDATA_VALUE_MAX. On failure doc is cleared. */
CW_MUST_USE cw_result initdata_doc_from_bytes(const char *name, const unsigned char *mem,
                                              size_t len, initdata_doc *doc, cw_error *err);

/* initdata_read_file then initdata_doc_from_bytes. */
CW_MUST_USE cw_result initdata_doc_load(const char *path, initdata_doc *doc, cw_error *err);

void initdata_doc_clear(initdata_doc *doc);

/* Standard base64 (one line) of a deterministic gzip of mem. Returns owned text in *out. */
CW_MUST_USE cw_result initdata_encode(const unsigned char *mem, size_t len, char **out,
                                      size_t *out_len);

/* The reverse of initdata_encode, as kata reads the annotation: base64 as Go's
 * StdEncoding (padded; CR and LF skipped), then one gzip member with nothing after it,
 * giving at most max bytes. Returns owned bytes (NUL-terminated). */
CW_MUST_USE cw_result initdata_decode(const char *value, size_t len, size_t max,
                                      unsigned char **out, size_t *out_len, cw_error *err);

/* initdata_check as kata's runtime reads a pod's own document (FACTS.md, "Initdata"): only
 * a known algorithm is required (no version check, [data] may be absent). */
CW_MUST_USE cw_result initdata_check_kata(const char *name, const unsigned char *mem, size_t len,
                                          initdata_info *info, cw_error *err);

/* One gzip member of gz[0..gz_len) and nothing after it, giving at most max bytes. Returns
 * owned bytes (NUL-terminated) in *out. CW_EINVAL ("not gzip data, or cut short", "data after
 * the gzip stream"), CW_ELIMIT, CW_ENOMEM. */
CW_MUST_USE cw_result initdata_gunzip(const unsigned char *gz, size_t gz_len, size_t max,
                                      unsigned char **out, size_t *out_len, cw_error *err);

/* The hash alg names over mem; out holds INITDATA_DIGEST_MAX bytes. Returns its length, or 0
 * when the hash could not be computed. */
size_t initdata_hash(initdata_alg alg, const void *mem, size_t len, unsigned char *out);

/* out[0..size) = digest truncated or zero-padded to size bytes (the TEE field forms). */
void initdata_fit(const unsigned char *digest, size_t len, unsigned char *out, size_t size);

/* The vTPM PCR 8 value: sha256(32 zero bytes || sha256(document)). out holds 32 bytes. */
bool initdata_pcr8(const unsigned char *mem, size_t len, unsigned char *out);

/* Lower-case hex of mem into out (2 * len + 1 bytes). */
void initdata_hex(const unsigned char *mem, size_t len, char *out);

const char *initdata_alg_name(initdata_alg alg);
/* Parses "sha256" | "sha384" | "sha512". */
bool initdata_alg_parse(const char *s, initdata_alg *alg);

#endif
