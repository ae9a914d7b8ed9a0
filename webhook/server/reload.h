/* reload: the server's live configuration and certificate, re-read when their files change.
 *
 * Files are watched by a periodic stat() of their paths (following symlinks), which sees both
 * an in-place rewrite and the `..data` symlink swap Kubernetes uses for Secret and ConfigMap
 * volumes; reload_check(true) (SIGHUP) re-reads everything. A file that fails to load keeps the
 * last good version in use; the failure is logged and counted. Checks run on the main thread
 * only; request threads only acquire and release the current config.
 *
 * Configs are immutable and reference-counted: reload_config_acquire hands out the current one
 * and keeps it alive until reload_config_release, so a swap never frees a config that a
 * request in flight is reading. */
#ifndef COCO_RELOAD_H
#define COCO_RELOAD_H

#include <stdbool.h>

#include "config.h"
#include "result.h"

#define RELOAD_POLL_MS 1000   /* how often the files are checked for changes */
#define RELOAD_RACE_RETRIES 3 /* re-reads when a file changes while it is being read */

typedef struct reload_paths {
    const char *cert;          /* copied */
    const char *key;           /* copied */
    const char *config;        /* copied; NULL: defaults only, nothing to watch */
    const char *own_namespace; /* copied; NULL or "": none; added to excludeNamespaces */
    bool log_level_fixed;      /* --log-level was given: a config's logLevel does not apply */
    config_tls_version tls_min_version; /* in force since the start (start-only setting) */
    bool tls_min_version_fixed;         /* --tls-min-version was given */
} reload_paths;

typedef struct reload_ref reload_ref;

/* Loads the certificate and installs cfg (takes ownership, even on failure). Fails when the
 * certificate or key cannot be loaded; err names the file. */
CW_MUST_USE cw_result reload_init(const reload_paths *paths, config *cfg, cw_error *err);

/* Re-reads the files that changed since the last check, or all of them when force. */
void reload_check(bool force);

/* True once a certificate and a config are loaded. */
bool reload_ready(void);

/* The current config, kept alive until released. Never NULL after reload_init. */
reload_ref *reload_config_acquire(void);
const config *reload_ref_config(const reload_ref *ref);
void reload_config_release(reload_ref *ref);

/* Frees the current config and the certificate (after the server has stopped). */
void reload_shutdown(void);

#endif
