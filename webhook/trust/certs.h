/* certs: the certificates of a self-managed install (SPEC §6 `coco-webhook certs`).
 *
 * Makes, with OpenSSL 3 EVP keys, a CA and a serving certificate signed by it, both ECDSA
 * P-256, and writes them as PEM files (keys as unencrypted PKCS#8, mode 0600). The serving
 * certificate names the webhook Service by every name the API server may dial
 * (<svc>, <svc>.<ns>, <svc>.<ns>.svc, <svc>.<ns>.svc.cluster.local) plus extra DNS names and
 * IP addresses. Key material lives only in buffers this module wipes before freeing, and is
 * never logged. Files are written through a temporary file and a rename, and an existing file
 * is replaced only when asked: without `force`, every target is checked before anything is
 * written. */
#ifndef COCO_CERTS_H
#define COCO_CERTS_H

#include <stdbool.h>
#include <stddef.h>

#include "result.h"

#define CERTS_DAYS_MAX 36500        /* a century: beyond it the request is surely a typo */
#define CERTS_EXTRA_NAMES_MAX 64    /* extra --dns names, and --ip addresses, each */
#define CERTS_BACKDATE_SECONDS 3600 /* notBefore in the past: nodes with a slow clock */
#define CERTS_FILE_MAX (1 << 20)    /* bytes of a CA file read back (a few hundred in use) */

/* The names the manifests use; the overlay files refer to them. */
#define CERTS_SECRET_NAME "coco-webhook-tls"
#define CERTS_WEBHOOK_CONFIG_NAME "coco-webhook"
#define CERTS_WEBHOOK_OBJECT "object.coco.confidentialcontainers.org"
#define CERTS_WEBHOOK_NAMESPACE "namespace.coco.confidentialcontainers.org"

/* What to make. Every pointer is borrowed. */
typedef struct certs_options {
    const char *service;   /* a DNS label */
    const char *namespace; /* a DNS label */
    const char **dns;      /* extra DNS names */
    size_t dns_count;
    const char **ips; /* IPv4 or IPv6 addresses, as text */
    size_t ip_count;
    long days;    /* serving certificate validity */
    long ca_days; /* CA validity, at least days */
} certs_options;

/* A PEM text; data is owned, NUL-terminated, len excludes the NUL. */
typedef struct certs_blob {
    char *data;
    size_t len;
} certs_blob;

/* The four PEM files. Owned by the caller; release with certs_set_free. */
typedef struct certs_set {
    certs_blob ca_crt;
    certs_blob ca_key;
    certs_blob tls_crt;
    certs_blob tls_key;
} certs_set;

/* Checks opt: names, addresses, day counts. Returns CW_EINVAL with a message naming the flag. */
CW_MUST_USE cw_result certs_check_options(const certs_options *opt, cw_error *err);

/* Makes a fresh CA and serving certificate into *out (zeroed first; on failure *out holds
 * nothing). */
CW_MUST_USE cw_result certs_generate(const certs_options *opt, certs_set *out, cw_error *err);

/* Makes a new serving certificate signed by the CA in dir (ca.crt, ca.key) into *out, whose
 * ca_crt and ca_key are those files' bytes: the caBundle stays the same. Fails when the key
 * does not match, the certificate is not a CA, or the CA expires within opt->days. */
CW_MUST_USE cw_result certs_renew(const certs_options *opt, const char *dir, certs_set *out,
                                  cw_error *err);

/* Wipes the keys and frees every buffer of set; set may be NULL. */
void certs_set_free(certs_set *set);

/* Writes ca.crt, ca.key, tls.crt, tls.key and ca-bundle.b64 into dir (created, mode 0700,
 * when missing). When overlay_dir is not NULL, also writes there the self-managed overlay's
 * tls-secret.yaml (a kubernetes.io/tls Secret in opt->namespace) and cabundle-patch.yaml (the
 * caBundle of both webhooks). Without force, fails before writing anything when any target
 * exists. Borrows everything. */
CW_MUST_USE cw_result certs_write(const certs_set *set, const certs_options *opt, const char *dir,
                                  const char *overlay_dir, bool force, cw_error *err);

/* After certs_renew: replaces tls.crt and tls.key in dir (each through a rename, the key
 * first) and, when overlay_dir is not NULL, the overlay's two files; the CA files and
 * ca-bundle.b64 are left untouched. Borrows everything. */
CW_MUST_USE cw_result certs_write_renewal(const certs_set *set, const certs_options *opt,
                                          const char *dir, const char *overlay_dir, cw_error *err);

#endif
