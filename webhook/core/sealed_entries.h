/* sealed_entries: parsing the sealed-secret entry lists of SPEC §2.3, "SECRET[:MOUNTPATH]"
 * separated by commas, as found in the coco.confidentialcontainers.org/sealed-secrets
 * annotation and in the config's sealedSecrets.namespaces.
 *
 * SECRET must be a Kubernetes Secret name (RFC 1123 subdomain); MOUNTPATH must be absolute,
 * without "..", ":" or empty segments; the default is "<mountRoot>/<SECRET>". Blank
 * entries (", ,") are ignored; whitespace around an entry is trimmed. A duplicate mount path
 * within one list is an error. Errors quote the entry. */
#ifndef COCO_SEALED_ENTRIES_H
#define COCO_SEALED_ENTRIES_H

#include <stddef.h>

#include "result.h"

#define SEALED_SECRET_NAME_MAX 253
#define SEALED_PATH_MAX 1024
#define SEALED_ENTRIES_MAX 64

typedef struct sealed_entry {
    char secret[SEALED_SECRET_NAME_MAX + 1];
    char path[SEALED_PATH_MAX + 1]; /* normalised: no trailing "/" */
} sealed_entry;

/* A parsed entry kept for long (in the config): the same strings, stored at their length.
 * A sealed_entry has room for the longest name and path (1.3 KB); the config can hold 64K
 * entries, so it keeps these instead. */
typedef struct sealed_ref {
    const char *secret;
    const char *path;
} sealed_ref;

/* Parses list into out[*count..cap), appending after the *count entries already there
 * (so that config and annotation entries can be merged): an entry equal to one already
 * present (same secret and path) is skipped; the same path for another secret is an error. */
CW_MUST_USE cw_result sealed_entries_parse(const char *list, const char *mount_root,
                                           sealed_entry *out, size_t cap, size_t *count,
                                           cw_error *err);

/* The one rule of mount paths: NULL when p[0..len) (no trailing "/") is absolute, at most
 * SEALED_PATH_MAX bytes, not "/" and without empty, "." or ".." segments or control
 * characters; else what is wrong with it. ":" is the caller's concern (the entry separator). */
const char *sealed_path_problem(const char *p, size_t len);

#endif
