/* secret_manifest: the v1 Secret (type Opaque) that holds a sealed secret
 * (`coco-webhook seal vault --secret-name`), built as a tree and written as YAML or JSON.
 *
 * Names are checked with k8s_names.h before anything is built: the Secret name is a DNS
 * subdomain, the namespace a DNS label, the key a Secret data key; messages show the refused
 * text with anything unprintable replaced. The writers take only trees of objects and strings,
 * which is what secret_manifest_build makes. Never prints. */
#ifndef COCO_SECRET_MANIFEST_H
#define COCO_SECRET_MANIFEST_H

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "buf.h"
#include "result.h"

typedef enum secret_manifest_format {
    SECRET_MANIFEST_YAML,
    SECRET_MANIFEST_JSON
} secret_manifest_format;

/* Builds the Secret name (in namespace ns, or none when NULL) holding value under key, in
 * stringData, or base64 in data when use_data. Borrows every string. Returns an owned tree
 * in *out. */
CW_MUST_USE cw_result secret_manifest_build(const char *name, const char *ns, const char *key,
                                            const char *value, bool use_data, cJSON **out,
                                            cw_error *err);

/* Appends manifest to out: YAML in kubectl's layout, strings plain where YAML 1.1 (which
 * kubectl reads) can only take them for strings and double-quoted otherwise; or JSON indented
 * by two spaces, with a final newline. Fails only as out's appends do. */
CW_MUST_USE cw_result secret_manifest_write(buf *out, const cJSON *manifest,
                                            secret_manifest_format format);

#endif
