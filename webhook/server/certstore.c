#include "certstore.h"

#include <gnutls/x509.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileread.h"

typedef struct der {
    unsigned char *data; /* gnutls_malloc'd */
    size_t size;
} der;

static struct {
    pthread_mutex_t lock;
    der chain[CERTSTORE_CHAIN_MAX];
    unsigned int chain_len;
    der key; /* PKCS#8, unencrypted */
    int64_t not_after;
    char fingerprint[65];
} store = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* Reads a PEM file of at most CERTSTORE_FILE_MAX bytes into out (owned: wipe_free()), without
 * copies the wipe would miss: a key file is one of them. */
CW_MUST_USE static cw_result read_pem(const char *path, gnutls_datum_t *out, cw_error *err)
{
    char *data;
    size_t len;
    CW_GUARD(file_read_secret(path, CERTSTORE_FILE_MAX, &data, &len, err));
    out->data = (unsigned char *)data;
    out->size = (unsigned int)len; /* at most CERTSTORE_FILE_MAX */
    return CW_OK;
}

static void wipe_free(gnutls_datum_t *d)
{
    if (d->data) {
        gnutls_memset(d->data, 0, d->size);
        free(d->data);
    }
    d->data = NULL;
    d->size = 0;
}

static void der_free(der *d, bool secret)
{
    if (d->data && secret)
        gnutls_memset(d->data, 0, d->size);
    gnutls_free(d->data);
    d->data = NULL;
    d->size = 0;
}

cw_result certstore_load(const char *cert_path, const char *key_path, cw_error *err)
{
    cw_result rc = CW_EINVAL;
    gnutls_datum_t cert_pem = {0}, key_pem = {0};
    gnutls_x509_crt_t *crts = NULL;
    unsigned int ncrts = 0;
    gnutls_x509_privkey_t key = NULL;
    der chain[CERTSTORE_CHAIN_MAX] = {{0}};
    gnutls_datum_t key_der = {0};
    int gr;

    rc = read_pem(cert_path, &cert_pem, err);
    if (rc != CW_OK)
        goto done;
    rc = read_pem(key_path, &key_pem, err);
    if (rc != CW_OK)
        goto done;
    rc = CW_EINVAL;

    gr = gnutls_x509_crt_list_import2(&crts, &ncrts, &cert_pem, GNUTLS_X509_FMT_PEM,
                                      GNUTLS_X509_CRT_LIST_FAIL_IF_UNSORTED);
    if (gr < 0 || ncrts == 0) {
        cw_fail(err, CW_EINVAL, "%s: no valid PEM certificate (%s)", cert_path,
                gr < 0 ? gnutls_strerror(gr) : "empty");
        goto done;
    }
    if (ncrts > CERTSTORE_CHAIN_MAX) {
        rc = cw_fail(err, CW_ELIMIT, "%s: more than %d certificates", cert_path,
                     CERTSTORE_CHAIN_MAX);
        goto done;
    }
    if ((gr = gnutls_x509_privkey_init(&key)) < 0 ||
        (gr = gnutls_x509_privkey_import2(key, &key_pem, GNUTLS_X509_FMT_PEM, NULL,
                                          GNUTLS_PKCS_PLAIN)) < 0) {
        /* gnutls_strerror names the problem, never the key bytes. */
        cw_fail(err, CW_EINVAL, "%s: no valid unencrypted PEM private key (%s)", key_path,
                gnutls_strerror(gr));
        goto done;
    }

    unsigned char kid_crt[64], kid_key[64];
    size_t kid_crt_len = sizeof kid_crt, kid_key_len = sizeof kid_key;
    if (gnutls_x509_crt_get_key_id(crts[0], GNUTLS_KEYID_USE_SHA256, kid_crt, &kid_crt_len) < 0 ||
        gnutls_x509_privkey_get_key_id(key, GNUTLS_KEYID_USE_SHA256, kid_key, &kid_key_len) < 0 ||
        kid_crt_len != kid_key_len || memcmp(kid_crt, kid_key, kid_crt_len) != 0) {
        cw_fail(err, CW_EINVAL, "%s does not belong to the certificate in %s", key_path, cert_path);
        goto done;
    }

    for (unsigned int i = 0; i < ncrts; i++) {
        gnutls_datum_t d;
        if ((gr = gnutls_x509_crt_export2(crts[i], GNUTLS_X509_FMT_DER, &d)) < 0) {
            cw_fail(err, CW_EINVAL, "%s: %s", cert_path, gnutls_strerror(gr));
            goto done;
        }
        chain[i].data = d.data;
        chain[i].size = d.size;
    }
    if ((gr = gnutls_x509_privkey_export2_pkcs8(key, GNUTLS_X509_FMT_DER, NULL, GNUTLS_PKCS_PLAIN,
                                                &key_der)) < 0) {
        cw_fail(err, CW_EINVAL, "%s: %s", key_path, gnutls_strerror(gr));
        goto done;
    }

    unsigned char fp[32];
    size_t fp_len = sizeof fp;
    char hexfp[65] = "";
    if (gnutls_x509_crt_get_fingerprint(crts[0], GNUTLS_DIG_SHA256, fp, &fp_len) == 0)
        for (size_t i = 0; i < fp_len && i < 32; i++)
            snprintf(hexfp + 2 * i, 3, "%02x", fp[i]);
    time_t not_after = gnutls_x509_crt_get_expiration_time(crts[0]);

    /* Swap: the old DER goes into the locals and is freed below. */
    pthread_mutex_lock(&store.lock);
    for (unsigned int i = 0; i < CERTSTORE_CHAIN_MAX; i++) {
        der t = store.chain[i];
        store.chain[i] = chain[i];
        chain[i] = t;
    }
    store.chain_len = ncrts;
    der old_key = store.key;
    store.key.data = key_der.data;
    store.key.size = key_der.size;
    key_der.data = old_key.data;
    key_der.size = (unsigned int)old_key.size;
    store.not_after = not_after == (time_t)-1 ? 0 : (int64_t)not_after;
    memcpy(store.fingerprint, hexfp, sizeof hexfp);
    pthread_mutex_unlock(&store.lock);
    rc = CW_OK;
done:
    for (unsigned int i = 0; i < CERTSTORE_CHAIN_MAX; i++)
        der_free(&chain[i], false);
    if (key_der.data) {
        gnutls_memset(key_der.data, 0, key_der.size);
        gnutls_free(key_der.data);
    }
    if (key)
        gnutls_x509_privkey_deinit(key);
    for (unsigned int i = 0; i < ncrts; i++)
        gnutls_x509_crt_deinit(crts[i]);
    gnutls_free(crts);
    wipe_free(&key_pem);
    free(cert_pem.data);
    return rc;
}

bool certstore_loaded(void)
{
    pthread_mutex_lock(&store.lock);
    bool loaded = store.chain_len > 0;
    pthread_mutex_unlock(&store.lock);
    return loaded;
}

int64_t certstore_not_after(void)
{
    pthread_mutex_lock(&store.lock);
    int64_t t = store.not_after;
    pthread_mutex_unlock(&store.lock);
    return t;
}

void certstore_fingerprint(char out[65])
{
    pthread_mutex_lock(&store.lock);
    memcpy(out, store.fingerprint, 65);
    pthread_mutex_unlock(&store.lock);
}

int certstore_retrieve(gnutls_session_t session, const struct gnutls_cert_retr_st *info,
                       gnutls_pcert_st **certs, unsigned int *pcert_length,
                       gnutls_ocsp_data_st **ocsp, unsigned int *ocsp_length,
                       gnutls_privkey_t *privkey, unsigned int *flags)
{
    (void)session;
    (void)info;
    int ret = -1;
    unsigned int imported = 0;
    gnutls_privkey_t key = NULL;
    /* GnuTLS frees both with gnutls_free/gnutls_pcert_deinit/gnutls_privkey_deinit
     * (GNUTLS_CERT_RETR_DEINIT_ALL). */
    gnutls_pcert_st *pcerts = gnutls_calloc(CERTSTORE_CHAIN_MAX, sizeof *pcerts);
    if (!pcerts)
        return -1;

    pthread_mutex_lock(&store.lock);
    if (store.chain_len == 0 || gnutls_privkey_init(&key) < 0)
        goto unlock;
    for (; imported < store.chain_len; imported++) {
        gnutls_datum_t d = {store.chain[imported].data, (unsigned int)store.chain[imported].size};
        if (gnutls_pcert_import_x509_raw(&pcerts[imported], &d, GNUTLS_X509_FMT_DER, 0) < 0)
            goto unlock;
    }
    gnutls_datum_t kd = {store.key.data, (unsigned int)store.key.size};
    if (gnutls_privkey_import_x509_raw(key, &kd, GNUTLS_X509_FMT_DER, NULL, 0) < 0)
        goto unlock;
    ret = 0;
unlock:
    pthread_mutex_unlock(&store.lock);
    if (ret != 0) {
        for (unsigned int i = 0; i < imported; i++)
            gnutls_pcert_deinit(&pcerts[i]);
        gnutls_free(pcerts);
        if (key)
            gnutls_privkey_deinit(key);
        return -1;
    }
    *certs = pcerts;
    *pcert_length = imported;
    *privkey = key;
    *ocsp = NULL;
    *ocsp_length = 0;
    *flags = GNUTLS_CERT_RETR_DEINIT_ALL;
    return 0;
}

void certstore_clear(void)
{
    pthread_mutex_lock(&store.lock);
    for (unsigned int i = 0; i < CERTSTORE_CHAIN_MAX; i++)
        der_free(&store.chain[i], false);
    der_free(&store.key, true);
    store.chain_len = 0;
    store.not_after = 0;
    store.fingerprint[0] = '\0';
    pthread_mutex_unlock(&store.lock);
}
