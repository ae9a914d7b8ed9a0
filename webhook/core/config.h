/* config: the webhook's configuration (SPEC §5), read from a YAML file with libyaml.
 *
 * Every key has a default (config_new_default), so no file is needed. Unknown keys, wrong
 * types and invalid values are errors naming the file, line and key. A config is immutable
 * once loaded: the server swaps whole configs on reload and frees the old one when no request
 * uses it any more. */
#ifndef COCO_CONFIG_H
#define COCO_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "initdata_doc.h"
#include "log.h"
#include "result.h"

#define CONFIG_FILE_MAX (1024 * 1024) /* bytes of a config file */
#define CONFIG_LIST_MAX 1024          /* entries of any list or map in it */

/* The lowest TLS version the server accepts (tlsMinVersion). */
typedef enum config_tls_version {
    CONFIG_TLS_1_2, /* "1.2": TLS 1.2 (ECDHE, AEAD suites) and TLS 1.3 */
    CONFIG_TLS_1_3, /* "1.3": TLS 1.3 only */
} config_tls_version;

typedef struct config_strings {
    char **items; /* owned */
    size_t count;
} config_strings;

/* Sealed-secret entries configured for one namespace ("SECRET[:MOUNTPATH]" each). */
typedef struct config_namespace_secrets {
    char *namespace; /* owned */
    config_strings entries;
} config_namespace_secrets;

/* An initdata document of initdata.documents, read and encoded when the config is loaded. */
typedef struct config_initdata_document {
    char *name;       /* owned; an RFC 1123 label */
    initdata_doc doc; /* owned; doc.path is the file, resolved against the config's folder */
} config_initdata_document;

/* initdata.namespaces.<ns>: the namespace's document, optionally enforced. */
typedef struct config_initdata_namespace {
    char *namespace;                          /* owned */
    const config_initdata_document *document; /* borrowed from the same config */
    bool enforce;
} config_initdata_namespace;

typedef struct config {
    char *listen;   /* ":8443" */
    char *tls_cert; /* "/etc/coco-webhook/tls/tls.crt" */
    char *tls_key;  /* "/etc/coco-webhook/tls/tls.key" */
    log_level log_level;
    char *selector_label;                        /* "coco.confidentialcontainers.org/enabled" */
    config_strings exclude_namespaces;           /* kube-system, kube-public, kube-node-lease */
    char *runtime_class;                         /* "kata-remote" */
    config_strings runtime_class_allowed;        /* always contains runtime_class */
    config_tls_version tls_min_version;          /* CONFIG_TLS_1_2 */
    bool replace_persistent_volumes;             /* true */
    char *empty_dir_size_limit;                  /* NULL, or a quantity such as "20Gi" */
    char *empty_dir_medium;                      /* NULL, "" or "Memory" */
    char *sealed_mount_root;                     /* "/sealed" */
    config_namespace_secrets *sealed_namespaces; /* owned array */
    size_t sealed_namespaces_count;
    char *initdata_annotation; /* "io.katacontainers.config.hypervisor.cc_init_data" */
    config_initdata_document *initdata_documents; /* owned array */
    size_t initdata_documents_count;
    config_initdata_namespace *initdata_namespaces; /* owned array */
    size_t initdata_namespaces_count;
    const config_initdata_document *initdata_default; /* borrowed; NULL: none */
} config;

/* Returns an owned config with every default, or NULL when out of memory. */
config *config_new_default(void);

/* Reads path over the defaults. Returns an owned config, or NULL with err set
 * ("FILE:LINE: key \"a.b\": ..."). */
config *config_load(const char *path, cw_error *err);

/* config_load that also hands back, in *documents (replaced; owned by the caller), the
 * resolved paths of the initdata documents the file names, as far as it could be read: the
 * files to watch, also when loading failed because one of them is missing or bad. */
config *config_load_watch(const char *path, config_strings *documents, cw_error *err);

/* Parses a config from memory; name is used in messages. Same contract as config_load;
 * relative initdata document paths are taken from the current directory. */
config *config_parse(const char *name, const char *buf, size_t len, cw_error *err);

/* config_parse with the outcome as a code: CW_OK with *out owned, else CW_EINVAL (malformed),
 * CW_ELIMIT (a limit crossed) or CW_ENOMEM with *out NULL and err set. */
cw_result config_parse_result(const char *name, const char *buf, size_t len, config **out,
                              cw_error *err);

/* Adds ns to exclude_namespaces unless present (the server's own namespace). */
cw_result config_exclude_namespace(config *cfg, const char *ns, cw_error *err);

bool config_strings_contains(const config_strings *list, const char *s);

/* The sealed-secret entries configured for ns, or NULL. Borrowed from cfg. */
const config_strings *config_sealed_entries(const config *cfg, const char *ns);

/* The initdata document named name, or NULL. Borrowed from cfg. */
const config_initdata_document *config_initdata_document_named(const config *cfg, const char *name);

/* The initdata.namespaces entry of ns, or NULL. Borrowed from cfg. */
const config_initdata_namespace *config_initdata_namespace_of(const config *cfg, const char *ns);

void config_strings_clear(config_strings *list);

const char *config_log_level_name(log_level level);

/* "1.2" or "1.3". */
const char *config_tls_version_name(config_tls_version v);

/* Parses "1.2" or "1.3". */
bool config_parse_tls_version(const char *s, config_tls_version *out);

void config_free(config *cfg);

#endif
