/* certstore: the serving certificate and key of the HTTPS server, swappable while it runs.
 *
 * certstore_load reads PEM files (a certificate chain, leaf first, and a private key in any
 * PEM form GnuTLS reads: PKCS#8, PKCS#1, SEC1), checks that the key belongs to the leaf, and
 * keeps DER copies behind a mutex: the chain, and the key as PKCS#8 (plain PKCS#1 DER did not
 * re-import, ENGINEERING.md). certstore_retrieve, given to libmicrohttpd as
 * MHD_OPTION_HTTPS_CERT_CALLBACK2, imports fresh copies for every handshake and hands them
 * to GnuTLS with GNUTLS_CERT_RETR_DEINIT_ALL, so a swap never touches objects a handshake in
 * flight still uses. A failed load keeps the previous pair. Key bytes are wiped when freed. */
#ifndef COCO_CERTSTORE_H
#define COCO_CERTSTORE_H

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <stdbool.h>
#include <stdint.h>

#include "result.h"

#define CERTSTORE_FILE_MAX (1024 * 1024) /* bytes of a PEM file */
#define CERTSTORE_CHAIN_MAX 16           /* certificates in a chain */

/* Loads cert_path and key_path into the process-wide store. On failure the previous pair
 * (if any) stays in use and err says which file and why. */
CW_MUST_USE cw_result certstore_load(const char *cert_path, const char *key_path, cw_error *err);

bool certstore_loaded(void);

/* notAfter of the leaf in use (Unix seconds), 0 when none is loaded. */
int64_t certstore_not_after(void);

/* The leaf's SHA-256 fingerprint in hex (65 bytes with NUL), for logs. */
void certstore_fingerprint(char out[65]);

/* The gnutls_certificate_retrieve_function3 of the store. */
int certstore_retrieve(gnutls_session_t session, const struct gnutls_cert_retr_st *info,
                       gnutls_pcert_st **certs, unsigned int *pcert_length,
                       gnutls_ocsp_data_st **ocsp, unsigned int *ocsp_length,
                       gnutls_privkey_t *privkey, unsigned int *flags);

/* Frees the stored pair (at exit). */
void certstore_clear(void);

#endif
