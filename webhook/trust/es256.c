/* Only the OpenSSL 3 API: nothing deprecated may be used here. */
#define OPENSSL_API_COMPAT 30000
#define OPENSSL_NO_DEPRECATED 1

#include "es256.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>

struct es256_key {
    EVP_PKEY *pkey;
    bool has_private;
};

/* bn as ES256_COORD_LEN big-endian bytes into out. */
static bool coord_out(const BIGNUM *bn, unsigned char *out)
{
    return BN_bn2binpad(bn, out, ES256_COORD_LEN) == ES256_COORD_LEN;
}

CW_MUST_USE static cw_result wrap(EVP_PKEY *pkey, bool has_private, es256_key **out, cw_error *err)
{
    es256_key *key = calloc(1, sizeof *key);
    if (!key) {
        EVP_PKEY_free(pkey);
        return CW_FAIL_NOMEM(err);
    }
    key->pkey = pkey;
    key->has_private = has_private;
    *out = key;
    return CW_OK;
}

cw_result es256_key_from_coords(const unsigned char *x, const unsigned char *y,
                                const unsigned char *d, es256_key **out, cw_error *err)
{
    cw_result rc = CW_EINVAL;
    unsigned char pub[1 + 2 * ES256_COORD_LEN];
    unsigned char d_native[ES256_COORD_LEN]; /* OSSL_PARAM BN buffers are in native byte order */
    EVP_PKEY_CTX *ctx = NULL, *check = NULL;
    EVP_PKEY *pkey = NULL;
    OSSL_PARAM params[4];
    char group[] = "P-256";

    *out = NULL;
    pub[0] = 0x04; /* uncompressed point, SEC 1 §2.3.3 */
    memcpy(pub + 1, x, ES256_COORD_LEN);
    memcpy(pub + 1 + ES256_COORD_LEN, y, ES256_COORD_LEN);
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0);
    params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof pub);
    params[2] = OSSL_PARAM_construct_end();
    params[3] = OSSL_PARAM_construct_end();
    if (d) {
        uint16_t probe = 1;
        int little = *(unsigned char *)&probe == 1;
        for (size_t i = 0; i < ES256_COORD_LEN; i++)
            d_native[i] = little ? d[ES256_COORD_LEN - 1 - i] : d[i];
        params[2] = OSSL_PARAM_construct_BN(OSSL_PKEY_PARAM_PRIV_KEY, d_native, sizeof d_native);
    }

    ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    if (!ctx || EVP_PKEY_fromdata_init(ctx) != 1) {
        rc = cw_fail(err, CW_EINTERNAL, "OpenSSL cannot make EC keys");
        goto out;
    }
    if (EVP_PKEY_fromdata(ctx, &pkey, d ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, params) != 1) {
        rc = cw_fail(err, CW_EINVAL, "the members do not form a P-256 key");
        goto out;
    }
    check = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    if (!check) {
        rc = CW_FAIL_NOMEM(err);
        goto out;
    }
    if (EVP_PKEY_public_check(check) != 1) {
        rc = cw_fail(err, CW_EINVAL, "x and y are not a valid P-256 public key");
        goto out;
    }
    if (d && EVP_PKEY_check(check) != 1) {
        rc = cw_fail(err, CW_EINVAL, "d does not belong to x and y");
        goto out;
    }
    rc = wrap(pkey, d != NULL, out, err);
    pkey = NULL;
out:
    OPENSSL_cleanse(d_native, sizeof d_native);
    EVP_PKEY_CTX_free(check);
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(pkey);
    ERR_clear_error();
    return rc;
}

cw_result es256_key_generate(es256_key **out, cw_error *err)
{
    *out = NULL;
    EVP_PKEY *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    if (!pkey) {
        ERR_clear_error();
        return cw_fail(err, CW_EINTERNAL, "OpenSSL could not make a P-256 key");
    }
    return wrap(pkey, true, out, err);
}

bool es256_key_has_private(const es256_key *key)
{
    return key && key->has_private;
}

void es256_key_free(es256_key *key)
{
    if (!key)
        return;
    EVP_PKEY_free(key->pkey); /* clears the private scalar */
    free(key);
}

cw_result es256_key_export(const es256_key *key, unsigned char *x, unsigned char *y,
                           unsigned char *d, cw_error *err)
{
    cw_result rc = CW_EINTERNAL;
    BIGNUM *bx = NULL, *by = NULL, *bd = NULL;
    if (d && !key->has_private)
        goto out;
    if (EVP_PKEY_get_bn_param(key->pkey, OSSL_PKEY_PARAM_EC_PUB_X, &bx) != 1 ||
        EVP_PKEY_get_bn_param(key->pkey, OSSL_PKEY_PARAM_EC_PUB_Y, &by) != 1 ||
        (d && EVP_PKEY_get_bn_param(key->pkey, OSSL_PKEY_PARAM_PRIV_KEY, &bd) != 1))
        goto out;
    if (coord_out(bx, x) && coord_out(by, y) && (!d || coord_out(bd, d)))
        rc = CW_OK;
out:
    BN_free(bx);
    BN_free(by);
    BN_clear_free(bd);
    ERR_clear_error();
    if (rc)
        return cw_fail(err, rc, "cannot export the key");
    return CW_OK;
}

cw_result es256_sign(const es256_key *key, const void *msg, size_t len,
                     unsigned char sig[ES256_SIG_LEN], cw_error *err)
{
    cw_result rc = CW_EINTERNAL;
    EVP_MD_CTX *md = NULL;
    unsigned char *der = NULL;
    size_t der_len = 0;
    ECDSA_SIG *es = NULL;
    const BIGNUM *r, *s;
    if (!key->has_private)
        return cw_fail(err, CW_EINVAL, "signing needs a private key");
    md = EVP_MD_CTX_new();
    if (!md || EVP_DigestSignInit_ex(md, NULL, "SHA256", NULL, NULL, key->pkey, NULL) != 1 ||
        EVP_DigestSign(md, NULL, &der_len, msg, len) != 1)
        goto out;
    der = malloc(der_len);
    if (!der) {
        rc = CW_ENOMEM;
        goto out;
    }
    if (EVP_DigestSign(md, der, &der_len, msg, len) != 1)
        goto out;
    const unsigned char *p = der;
    es = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
    if (!es)
        goto out;
    ECDSA_SIG_get0(es, &r, &s);
    if (coord_out(r, sig) && coord_out(s, sig + ES256_COORD_LEN))
        rc = CW_OK;
out:
    ECDSA_SIG_free(es);
    free(der);
    EVP_MD_CTX_free(md);
    ERR_clear_error();
    if (rc == CW_ENOMEM)
        return CW_FAIL_NOMEM(err);
    if (rc)
        return cw_fail(err, rc, "signing failed");
    return CW_OK;
}

bool es256_verify(const es256_key *key, const void *msg, size_t len, const unsigned char *sig,
                  size_t sig_len)
{
    bool ok = false;
    EVP_MD_CTX *md = NULL;
    ECDSA_SIG *es = NULL;
    BIGNUM *r = NULL, *s = NULL;
    unsigned char *der = NULL;
    if (sig_len != ES256_SIG_LEN)
        return false;
    r = BN_bin2bn(sig, ES256_COORD_LEN, NULL);
    s = BN_bin2bn(sig + ES256_COORD_LEN, ES256_COORD_LEN, NULL);
    es = ECDSA_SIG_new();
    if (!r || !s || !es || ECDSA_SIG_set0(es, r, s) != 1)
        goto out;
    r = s = NULL; /* owned by es now */
    int der_len = i2d_ECDSA_SIG(es, &der);
    if (der_len <= 0)
        goto out;
    md = EVP_MD_CTX_new();
    if (!md || EVP_DigestVerifyInit_ex(md, NULL, "SHA256", NULL, NULL, key->pkey, NULL) != 1)
        goto out;
    ok = EVP_DigestVerify(md, der, (size_t)der_len, msg, len) == 1;
out:
    EVP_MD_CTX_free(md);
    OPENSSL_free(der);
    ECDSA_SIG_free(es);
    BN_free(r);
    BN_free(s);
    ERR_clear_error();
    return ok;
}
