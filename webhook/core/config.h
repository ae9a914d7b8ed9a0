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
#include "runtime_profile.h"
#include "sealed_entries.h"

#define CONFIG_FILE_MAX (1024 * 1024) /* bytes of a config file */
#define CONFIG_LIST_MAX 1024          /* entries of any list or map in it */

/* The defaults of SPEC §5. */
#define CONFIG_LISTEN_DEFAULT ":8443"
#define CONFIG_TLS_CERT_DEFAULT "/etc/coco-webhook/tls/tls.crt"
#define CONFIG_TLS_KEY_DEFAULT "/etc/coco-webhook/tls/tls.key"
/* shutdownDelay (SPEC §4): how long a stopping server keeps serving, and its cap. */
#define CONFIG_SHUTDOWN_DELAY_DEFAULT_MS 10000
#define CONFIG_SHUTDOWN_DELAY_MAX_MS 600000
#define CONFIG_LABEL_DEFAULT "coco.confidentialcontainers.org/enabled"
#define CONFIG_RUNTIME_CLASS_DEFAULT "kata-remote"
#define CONFIG_SEALED_MOUNT_ROOT_DEFAULT "/sealed"
#define CONFIG_EXCLUDED_DEFAULT                                                                    \
    {                                                                                              \
        "kube-system", "kube-public", "kube-node-lease"                                            \
    }

/* The ports a listen address may name, in the config file and in --listen alike. 0 asks the
 * system for a free port; the bound port is logged ("listening"). */
#define CONFIG_PORT_MIN 0
#define CONFIG_PORT_MAX 65535

/* The lowest TLS version the server accepts (tlsMinVersion). */
typedef enum config_tls_version {
    CONFIG_TLS_1_2, /* "1.2": TLS 1.2 (ECDHE, AEAD suites) and TLS 1.3 */
    CONFIG_TLS_1_3, /* "1.3": TLS 1.3 only */
} config_tls_version;

/* What the webhook does where the runtime would refuse a pod or ignore part of it (SPEC §2.6). */
typedef enum config_preflight {
    CONFIG_PREFLIGHT_DENY, /* "deny": the object is denied (403) */
    CONFIG_PREFLIGHT_WARN, /* "warn": every §2.6 denial becomes a warning (a first rollout) */
} config_preflight;

/* runtimeClass.runtimes.<class>: the runtime a class stands for. */
typedef struct config_runtime {
    char *runtime_class; /* owned; one of runtime_class_allowed */
    runtime_profile profile;
} config_runtime;

typedef struct config_strings {
    char **items; /* owned */
    size_t count;
} config_strings;

/* Sealed-secret entries configured for one namespace ("SECRET[:MOUNTPATH]" each), and the
 * same entries parsed against the mount root and merged (in order, duplicates skipped) once
 * when the config is loaded: what every admission in the namespace starts from. */
typedef struct config_namespace_secrets {
    char *namespace; /* owned */
    config_strings entries;
    sealed_ref *parsed; /* owned: parsed_count refs and their strings, in one allocation */
    size_t parsed_count;
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

/* podVM.namespaces.<ns> and podVM.default (SPEC §2.7): the pod VM an object of a namespace
 * gets on peer pods. Each value is NULL when the profile leaves it to the cluster (the
 * peer-pods ConfigMap and webhook). A namespace's profile replaces the default whole: an empty
 * one ({}) gives its namespace no profile. */
typedef struct config_podvm_profile {
    char *name;                           /* owned: the namespace, or CONFIG_PODVM_DEFAULT_NAME */
    char *machine_type;                   /* owned, or NULL */
    char *image;                          /* owned, or NULL */
    char *gpus;                           /* owned decimal text ("1"), or NULL */
    char *gpu_model;                      /* owned, or NULL */
    config_strings allowed_machine_types; /* empty: any machine type; else holds machine_type */
    bool enforce;                         /* the object's own values must equal the set ones */
} config_podvm_profile;

/* The name of podVM.default in records, logs and messages: no namespace name has a '.', so
 * a profile of the namespace "default" is never mistaken for it. */
#define CONFIG_PODVM_DEFAULT_NAME "podVM.default"
#define CONFIG_PODVM_VALUE_MAX 1024 /* bytes of a profile value (an image ID is the longest) */
#define CONFIG_PODVM_GPUS_MAX 1024  /* gpus: 0 to this */

typedef struct config {
    char *listen;   /* CONFIG_LISTEN_DEFAULT */
    char *tls_cert; /* CONFIG_TLS_CERT_DEFAULT */
    char *tls_key;  /* CONFIG_TLS_KEY_DEFAULT */
    log_level log_level;
    char *selector_label;                 /* CONFIG_LABEL_DEFAULT */
    config_strings exclude_namespaces;    /* CONFIG_EXCLUDED_DEFAULT */
    char *runtime_class;                  /* CONFIG_RUNTIME_CLASS_DEFAULT */
    config_strings runtime_class_allowed; /* always contains runtime_class */
    config_runtime *runtimes;             /* owned array; classes not in it: default */
    size_t runtimes_count;
    config_preflight preflight;                  /* CONFIG_PREFLIGHT_DENY */
    config_tls_version tls_min_version;          /* CONFIG_TLS_1_2 */
    bool replace_persistent_volumes;             /* true */
    char *empty_dir_size_limit;                  /* NULL, or a quantity such as "20Gi" */
    char *empty_dir_medium;                      /* NULL, "" or "Memory" */
    char *sealed_mount_root;                     /* CONFIG_SEALED_MOUNT_ROOT_DEFAULT */
    config_namespace_secrets *sealed_namespaces; /* owned array */
    size_t sealed_namespaces_count;
    /* initdata.annotation as written, or NULL: each class's runtime names its key
     * (config_initdata_key), and a written key agrees with every one of them */
    char *initdata_annotation;
    config_initdata_document *initdata_documents; /* owned array */
    size_t initdata_documents_count;
    config_initdata_namespace *initdata_namespaces; /* owned array */
    size_t initdata_namespaces_count;
    const config_initdata_document *initdata_default; /* borrowed; NULL: none */
    config_podvm_profile *podvm_namespaces;           /* owned array */
    size_t podvm_namespaces_count;
    config_podvm_profile podvm_default; /* CONFIG_PODVM_DEFAULT_NAME; every value NULL: none */
    /* Every machine type the podVM profiles name (machineType, allowedMachineTypes), once
     * each, in the order of the file: the bounded label set of the per-machine-type metric. */
    config_strings podvm_machine_types;
    /* what loading found worth an admin's attention but not wrong (a peer-pods class given a
     * document that cannot attest on vTPM): the server logs and counts each, mutate prints
     * them */
    config_strings load_warnings;
    uint64_t memory_limit;     /* memoryLimit in bytes; 0: the cgroup's limit */
    int64_t shutdown_delay_ms; /* CONFIG_SHUTDOWN_DELAY_DEFAULT_MS */
} config;

/* Returns an owned config with every default, or NULL when out of memory (an allocation, as
 * malloc: the loaders below report out of memory in err). */
config *config_new_default(void);

/* Reads the file at path over the defaults; a NULL path reads no file (every default). On CW_OK
 * *out is owned; else *out is NULL and err says why, naming the file and line
 * ("FILE:LINE: key \"a.b\": ..."): CW_EIO (the file cannot be read), CW_EINVAL (malformed),
 * CW_ELIMIT (a limit crossed), CW_ENOMEM. */
CW_MUST_USE cw_result config_load(const char *path, config **out, cw_error *err);

/* config_load that also hands back, in *documents (replaced; owned by the caller), the
 * resolved paths of the initdata documents the file names, as far as it could be read: the
 * files to watch, also when loading failed because one of them is missing or bad. */
CW_MUST_USE cw_result config_load_watch(const char *path, config_strings *documents, config **out,
                                        cw_error *err);

/* Parses a config from memory (text may be NULL when len is 0); name is used in messages.
 * Same contract as config_load; relative initdata document paths are taken from the current
 * directory. */
CW_MUST_USE cw_result config_parse(const char *name, const char *text, size_t len, config **out,
                                   cw_error *err);

/* Adds ns to exclude_namespaces unless present (the server's own namespace). */
CW_MUST_USE cw_result config_exclude_namespace(config *cfg, const char *ns, cw_error *err);

bool config_strings_contains(const config_strings *list, const char *s);

/* The sealed-secret entries configured for ns, or NULL. Borrowed from cfg. */
const config_strings *config_sealed_entries(const config *cfg, const char *ns);

/* The sealedSecrets.namespaces entry of ns (its entries as written and parsed), or NULL.
 * Borrowed from cfg. */
const config_namespace_secrets *config_sealed_namespace(const config *cfg, const char *ns);

/* The initdata document named name, or NULL. Borrowed from cfg. */
const config_initdata_document *config_initdata_document_named(const config *cfg, const char *name);

/* The initdata.namespaces entry of ns, or NULL. Borrowed from cfg. */
const config_initdata_namespace *config_initdata_namespace_of(const config *cfg, const char *ns);

/* The runtime of runtime_class: its runtimeClass.runtimes entry, else the default (peer
 * pods, kata 3.21). Borrowed from cfg or static; never NULL. */
const runtime_profile *config_runtime_of(const config *cfg, const char *runtime_class);

/* The initdata annotation key the runtime of runtime_class reads, or NULL when it reads none
 * (kata 3.20; the config refuses documents then). Static. */
const char *config_initdata_key(const config *cfg, const char *runtime_class);

/* "deny" or "warn". */
const char *config_preflight_name(config_preflight p);

/* "a, b, c": the names of the initdata documents for a message, "none" when there are none,
 * cut with ", ..." to fit cap. Returns buf. */
const char *config_initdata_document_list(const config *cfg, char *buf, size_t cap);

/* The pod-VM profile of an object in namespace ns (may be NULL): its namespace's, else the
 * default, or NULL when the one that applies sets nothing. Borrowed from cfg. */
const config_podvm_profile *config_podvm_profile_of(const config *cfg, const char *ns);

/* The entry of cfg->podvm_machine_types equal to s, or NULL. Borrowed from cfg. */
const char *config_podvm_machine_type_named(const config *cfg, const char *s);

void config_strings_clear(config_strings *list);

/* "1.2" or "1.3". */
const char *config_tls_version_name(config_tls_version v);

/* Parses "1.2" or "1.3". */
bool config_parse_tls_version(const char *s, config_tls_version *out);

void config_free(config *cfg);

#endif
