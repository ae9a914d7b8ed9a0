#include "certs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/buffer.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "b64.h"
#include "fileread.h"
#include "k8s_names.h"

#define SERIAL_BYTES 16 /* 128 random bits (CA/Browser Forum asks for at least 64) */
#define CN_MAX 64       /* RFC 5280 ub-common-name */
#define SAN_DNS_MAX (4 + CERTS_EXTRA_NAMES_MAX)

/* The names the cluster DNS gives a Service after its namespace, shortest first. */
static const char *const service_suffixes[] = {NULL, "", ".svc", ".svc.cluster.local"};

/* Records the reason of the last OpenSSL failure after what, and clears the error queue. */
CW_MUST_USE static cw_result ossl_fail(cw_error *err, const char *what)
{
    unsigned long code = ERR_peek_last_error();
    char reason[256] = "unknown reason";
    if (code)
        ERR_error_string_n(code, reason, sizeof reason);
    ERR_clear_error();
    return cw_fail(err, CW_EINTERNAL, "%s: %s", what, reason);
}

static void blob_free(certs_blob *b, bool secret)
{
    if (b->data && secret)
        OPENSSL_cleanse(b->data, b->len);
    free(b->data);
    b->data = NULL;
    b->len = 0;
}

void certs_set_free(certs_set *set)
{
    if (!set)
        return;
    blob_free(&set->ca_crt, false);
    blob_free(&set->ca_key, true);
    blob_free(&set->tls_crt, false);
    blob_free(&set->tls_key, true);
}

/* Standard base64 on one line (caBundle, Secret data): owned, or NULL when out of memory. */
static char *base64(const certs_blob *b)
{
    return b64_encode_alloc(b->data, b->len, B64_STD);
}

static bool is_dns_name(const char *s)
{
    return k8s_is_dns_subdomain(s, strlen(s));
}

static bool is_ip_address(const char *s)
{
    ASN1_OCTET_STRING *ip = a2i_IPADDRESS(s);
    ERR_clear_error();
    if (!ip)
        return false;
    ASN1_OCTET_STRING_free(ip);
    return true;
}

cw_result certs_check_options(const certs_options *opt, cw_error *err)
{
    if (!opt->service || !k8s_is_dns_label(opt->service, strlen(opt->service)))
        return cw_fail(err, CW_EINVAL,
                       "--service \"%s\": not a DNS label (lower-case letters, "
                       "digits and '-', at most %d characters)",
                       opt->service ? opt->service : "", K8S_DNS_LABEL_MAX);
    if (!opt->namespace || !k8s_is_dns_label(opt->namespace, strlen(opt->namespace)))
        return cw_fail(err, CW_EINVAL,
                       "--namespace \"%s\": not a DNS label (lower-case "
                       "letters, digits and '-', at most %d characters)",
                       opt->namespace ? opt->namespace : "", K8S_DNS_LABEL_MAX);
    if (opt->dns_count > CERTS_EXTRA_NAMES_MAX)
        return cw_fail(err, CW_ELIMIT, "--dns given %zu times, at most %d", opt->dns_count,
                       CERTS_EXTRA_NAMES_MAX);
    if (opt->ip_count > CERTS_EXTRA_NAMES_MAX)
        return cw_fail(err, CW_ELIMIT, "--ip given %zu times, at most %d", opt->ip_count,
                       CERTS_EXTRA_NAMES_MAX);
    for (size_t i = 0; i < opt->dns_count; i++) {
        if (!is_dns_name(opt->dns[i]))
            return cw_fail(err, CW_EINVAL,
                           "--dns \"%s\": not a DNS name (lower-case "
                           "RFC 1123 labels separated by dots)",
                           opt->dns[i]);
    }
    for (size_t i = 0; i < opt->ip_count; i++) {
        if (!is_ip_address(opt->ips[i]))
            return cw_fail(err, CW_EINVAL, "--ip \"%s\": not an IPv4 or IPv6 address", opt->ips[i]);
    }
    if (opt->days < 1 || opt->days > CERTS_DAYS_MAX)
        return cw_fail(err, CW_EINVAL, "--days %ld: must be 1 to %d", opt->days, CERTS_DAYS_MAX);
    if (opt->ca_days < 1 || opt->ca_days > CERTS_DAYS_MAX)
        return cw_fail(err, CW_EINVAL, "--ca-days %ld: must be 1 to %d", opt->ca_days,
                       CERTS_DAYS_MAX);
    /* A serving certificate that outlives its CA stops verifying when the CA expires. */
    if (opt->days > opt->ca_days)
        return cw_fail(err, CW_EINVAL, "--days %ld exceeds --ca-days %ld", opt->days, opt->ca_days);
    return CW_OK;
}

CW_MUST_USE static cw_result new_key(EVP_PKEY **out, cw_error *err)
{
    *out = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    if (!*out)
        return ossl_fail(err, "generating a P-256 key");
    return CW_OK;
}

CW_MUST_USE static cw_result set_random_serial(X509 *x, cw_error *err)
{
    unsigned char raw[SERIAL_BYTES];
    BIGNUM *bn = NULL;
    cw_result rc = CW_OK;

    if (RAND_bytes(raw, sizeof raw) != 1) {
        rc = ossl_fail(err, "drawing a serial number");
        goto out;
    }
    bn = BN_bin2bn(raw, sizeof raw, NULL);
    if (!bn) {
        rc = ossl_fail(err, "making a serial number");
        goto out;
    }
    /* RFC 5280 §4.1.2.2: positive; zero has a chance of 2^-128, refuse it rather than bias. */
    if (BN_is_zero(bn)) {
        rc = cw_fail(err, CW_EINTERNAL, "drawing a serial number: got zero");
        goto out;
    }
    if (!BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)))
        rc = ossl_fail(err, "setting the serial number");
out:
    BN_free(bn);
    return rc;
}

CW_MUST_USE static cw_result set_name(X509_NAME *name, const char *org, const char *cn,
                                      cw_error *err)
{
    if (org && !X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, (const unsigned char *)org, -1,
                                           -1, 0))
        return ossl_fail(err, "setting the organization name");
    if (!X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1,
                                    0))
        return ossl_fail(err, "setting the common name");
    return CW_OK;
}

/* Adds one extension in openssl-config syntax; value is always a constant of ours. */
CW_MUST_USE static cw_result add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value,
                                     cw_error *err)
{
    X509_EXTENSION *ext = X509V3_EXT_nconf_nid(NULL, ctx, nid, value);
    if (!ext)
        return ossl_fail(err, OBJ_nid2sn(nid));
    int ok = X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    if (!ok)
        return ossl_fail(err, OBJ_nid2sn(nid));
    return CW_OK;
}

/* An extension in openssl-config syntax. */
typedef struct cert_ext {
    int nid;
    const char *value;
} cert_ext;

/* pathlen:0: this CA signs serving certificates only, never another CA. */
static const cert_ext ca_exts[] = {
    {NID_basic_constraints, "critical,CA:TRUE,pathlen:0"},
    {NID_key_usage, "critical,keyCertSign,cRLSign"},
    {NID_subject_key_identifier, "hash"},
    {NID_authority_key_identifier, "keyid:always"},
};

/* keyEncipherment would be wrong for an EC key: ECDHE needs digitalSignature only. */
static const cert_ext serving_exts[] = {
    {NID_basic_constraints, "critical,CA:FALSE"},
    {NID_key_usage, "critical,digitalSignature"},
    {NID_ext_key_usage, "serverAuth"},
    {NID_subject_key_identifier, "hash"},
    {NID_authority_key_identifier, "keyid:always"},
};

/* What start_cert makes: the subject, who issues it (NULL: itself), and its extensions. */
typedef struct cert_plan {
    const char *org, *cn;
    X509 *issuer;
    const cert_ext *exts;
    size_t ext_count;
} cert_plan;

/* Starts a v3 certificate for key as plan says, valid from a little in the past for days,
 * ready to be signed. */
CW_MUST_USE static cw_result start_cert(X509 **out, EVP_PKEY *key, long days, const cert_plan *plan,
                                        cw_error *err)
{
    cw_result rc;
    X509V3_CTX ctx;
    X509 *x = X509_new();
    if (!x)
        return ossl_fail(err, "allocating a certificate");
    X509 *issuer = plan->issuer ? plan->issuer : x;
    if (!X509_set_version(x, X509_VERSION_3) || !X509_set_pubkey(x, key)) {
        rc = ossl_fail(err, "setting up a certificate");
        goto fail;
    }
    if ((rc = set_random_serial(x, err)))
        goto fail;
    if (!X509_gmtime_adj(X509_getm_notBefore(x), -CERTS_BACKDATE_SECONDS) ||
        !X509_time_adj_ex(X509_getm_notAfter(x), (int)days, 0, NULL)) {
        rc = ossl_fail(err, "setting the validity period");
        goto fail;
    }
    if ((rc = set_name(X509_get_subject_name(x), plan->org, plan->cn, err)))
        goto fail;
    if (!X509_set_issuer_name(x, X509_get_subject_name(issuer))) {
        rc = ossl_fail(err, "setting the issuer");
        goto fail;
    }
    X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
    for (size_t i = 0; i < plan->ext_count; i++)
        if ((rc = add_ext(x, &ctx, plan->exts[i].nid, plan->exts[i].value, err)))
            goto fail;
    *out = x;
    return CW_OK;
fail:
    X509_free(x);
    return rc;
}

CW_MUST_USE static cw_result sign_cert(X509 *x, EVP_PKEY *issuer_key, cw_error *err)
{
    if (X509_sign(x, issuer_key, EVP_sha256()) <= 0)
        return ossl_fail(err, "signing the certificate");
    return CW_OK;
}

CW_MUST_USE static cw_result make_ca(EVP_PKEY *key, long days, X509 **out, cw_error *err)
{
    static const cert_plan plan = {"coco-webhook", "coco-webhook CA", NULL, ca_exts,
                                   sizeof ca_exts / sizeof ca_exts[0]};
    X509 *x = NULL;
    CW_GUARD(start_cert(&x, key, days, &plan, err));
    cw_result rc = sign_cert(x, key, err);
    if (rc) {
        X509_free(x);
        return rc;
    }
    *out = x;
    return CW_OK;
}

/* Appends a name of type (GEN_DNS, GEN_IPADD) with value to gens unless it is already there.
 * Takes ownership of value, even on failure. */
CW_MUST_USE static cw_result push_name(GENERAL_NAMES *gens, int type, ASN1_STRING *value,
                                       const char *what, cw_error *err)
{
    for (int i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
        int have_type;
        const ASN1_STRING *have =
            GENERAL_NAME_get0_value(sk_GENERAL_NAME_value(gens, i), &have_type);
        if (have_type == type && ASN1_STRING_cmp(have, value) == 0) {
            ASN1_STRING_free(value);
            return CW_OK;
        }
    }
    GENERAL_NAME *g = GENERAL_NAME_new();
    if (!g) {
        ASN1_STRING_free(value);
        return ossl_fail(err, what);
    }
    GENERAL_NAME_set0_value(g, type, value);
    if (!sk_GENERAL_NAME_push(gens, g)) {
        GENERAL_NAME_free(g);
        return ossl_fail(err, what);
    }
    return CW_OK;
}

CW_MUST_USE static cw_result push_dns(GENERAL_NAMES *gens, const char *name, cw_error *err)
{
    ASN1_IA5STRING *s = ASN1_IA5STRING_new();
    if (!s || !ASN1_STRING_set(s, name, (int)strlen(name))) {
        ASN1_IA5STRING_free(s);
        return ossl_fail(err, "adding a DNS name");
    }
    return push_name(gens, GEN_DNS, s, "adding a DNS name", err);
}

/* text was checked by certs_check_options. */
CW_MUST_USE static cw_result push_ip(GENERAL_NAMES *gens, const char *text, cw_error *err)
{
    ASN1_OCTET_STRING *ip = a2i_IPADDRESS(text);
    if (!ip)
        return cw_fail(err, CW_EINVAL, "--ip \"%s\": not an IPv4 or IPv6 address", text);
    return push_name(gens, GEN_IPADD, ip, "adding an IP address", err);
}

CW_MUST_USE static cw_result build_sans(const certs_options *opt, GENERAL_NAMES **out,
                                        cw_error *err)
{
    cw_result rc = CW_OK;
    GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
    if (!gens)
        return ossl_fail(err, "allocating the subject alternative names");
    for (size_t i = 0; i < sizeof service_suffixes / sizeof service_suffixes[0]; i++) {
        char name[K8S_DNS_SUBDOMAIN_MAX + 1];
        int n;
        if (!service_suffixes[i])
            n = snprintf(name, sizeof name, "%s", opt->service);
        else
            n = snprintf(name, sizeof name, "%s.%s%s", opt->service, opt->namespace,
                         service_suffixes[i]);
        /* Two DNS labels and the suffix always fit; checked all the same. */
        if (n < 0 || (size_t)n >= sizeof name) {
            rc = cw_fail(err, CW_EINVAL, "service name %s.%s is too long", opt->service,
                         opt->namespace);
            goto fail;
        }
        rc = push_dns(gens, name, err);
        if (rc)
            goto fail;
    }
    for (size_t i = 0; i < opt->dns_count; i++) {
        rc = push_dns(gens, opt->dns[i], err);
        if (rc)
            goto fail;
    }
    for (size_t i = 0; i < opt->ip_count; i++) {
        rc = push_ip(gens, opt->ips[i], err);
        if (rc)
            goto fail;
    }
    *out = gens;
    return CW_OK;
fail:
    GENERAL_NAMES_free(gens);
    return rc;
}

CW_MUST_USE static cw_result make_serving(const certs_options *opt, EVP_PKEY *key, X509 *ca,
                                          EVP_PKEY *ca_key, X509 **out, cw_error *err)
{
    X509 *x = NULL;
    GENERAL_NAMES *sans = NULL;
    char cn[CN_MAX + 1];

    /* Clients check the SANs only; the CN just has to fit its 64 characters. */
    int n = snprintf(cn, sizeof cn, "%s.%s.svc", opt->service, opt->namespace);
    if (n < 0 || (size_t)n >= sizeof cn)
        snprintf(cn, sizeof cn, "%s", opt->service);
    const cert_plan plan = {NULL, cn, ca, serving_exts,
                            sizeof serving_exts / sizeof serving_exts[0]};
    CW_GUARD(start_cert(&x, key, opt->days, &plan, err));
    cw_result rc = build_sans(opt, &sans, err);
    if (rc)
        goto out;
    if (X509_add1_ext_i2d(x, NID_subject_alt_name, sans, 0, X509V3_ADD_DEFAULT) != 1) {
        rc = ossl_fail(err, "adding the subject alternative names");
        goto out;
    }
    rc = sign_cert(x, ca_key, err);
    if (rc)
        goto out;
    /* Our own output, checked before anyone relies on it. */
    if (X509_verify(x, ca_key) != 1) {
        rc = ossl_fail(err, "checking the serving certificate against the CA");
        goto out;
    }
    *out = x;
    x = NULL;
out:
    GENERAL_NAMES_free(sans);
    X509_free(x);
    return rc;
}

/* Copies the contents of a memory BIO into blob. */
CW_MUST_USE static cw_result bio_to_blob(BIO *bio, certs_blob *blob, cw_error *err)
{
    BUF_MEM *mem = NULL;
    BIO_get_mem_ptr(bio, &mem);
    if (!mem)
        return cw_fail(err, CW_EINTERNAL, "reading a PEM buffer");
    blob->data = malloc(mem->length + 1);
    if (!blob->data)
        return CW_FAIL_NOMEM(err);
    memcpy(blob->data, mem->data, mem->length);
    blob->data[mem->length] = '\0';
    blob->len = mem->length;
    return CW_OK;
}

/* The PEM text of certificate x or, when x is NULL, of key: PKCS#8, unencrypted, what GnuTLS
 * re-imports reliably (ENGINEERING.md), through a secure-heap BIO, which is wiped when freed. */
CW_MUST_USE static cw_result to_pem(X509 *x, EVP_PKEY *key, certs_blob *blob, cw_error *err)
{
    BIO *bio = BIO_new(x ? BIO_s_mem() : BIO_s_secmem());
    if (!bio)
        return ossl_fail(err, "allocating a buffer");
    int ok = x ? PEM_write_bio_X509(bio, x)
               : PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL);
    cw_result rc = ok ? bio_to_blob(bio, blob, err)
                      : ossl_fail(err, x ? "writing a certificate as PEM" : "writing a key as PEM");
    BIO_free(bio);
    return rc;
}

/* A new serving key, and its certificate signed by the CA, into out's tls_crt and tls_key. */
CW_MUST_USE static cw_result issue_serving(const certs_options *opt, X509 *ca, EVP_PKEY *ca_key,
                                           certs_set *out, cw_error *err)
{
    EVP_PKEY *key = NULL;
    X509 *x = NULL;
    cw_result rc;
    if (!(rc = new_key(&key, err)) && !(rc = make_serving(opt, key, ca, ca_key, &x, err)) &&
        !(rc = to_pem(x, NULL, &out->tls_crt, err)))
        rc = to_pem(NULL, key, &out->tls_key, err);
    X509_free(x);
    EVP_PKEY_free(key);
    return rc;
}

cw_result certs_generate(const certs_options *opt, certs_set *out, cw_error *err)
{
    EVP_PKEY *ca_key = NULL;
    X509 *ca = NULL;

    memset(out, 0, sizeof *out);
    CW_GUARD(certs_check_options(opt, err));
    cw_result rc;
    if ((rc = new_key(&ca_key, err)) || (rc = make_ca(ca_key, opt->ca_days, &ca, err)) ||
        (rc = to_pem(ca, NULL, &out->ca_crt, err)) ||
        (rc = to_pem(NULL, ca_key, &out->ca_key, err)) ||
        (rc = issue_serving(opt, ca, ca_key, out, err)))
        certs_set_free(out);
    X509_free(ca);
    EVP_PKEY_free(ca_key);
    return rc;
}

/* Reads a whole file (at most CERTS_FILE_MAX bytes) into blob: read in place, since ca.key
 * is one of them and blob_free wipes it. */
CW_MUST_USE static cw_result read_blob(const char *path, certs_blob *blob, cw_error *err)
{
    return file_read_secret(path, CERTS_FILE_MAX, &blob->data, &blob->len, err);
}

/* The one PEM object in blob: a certificate, or a private key when key is not NULL. */
CW_MUST_USE static cw_result read_pem(const certs_blob *blob, X509 **cert, EVP_PKEY **key,
                                      const char *what, cw_error *err)
{
    BIO *bio = BIO_new_mem_buf(blob->data, (int)blob->len);
    if (bio && key)
        *key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    else if (bio)
        *cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    BIO_free(bio);
    if (key ? !*key : !*cert)
        return ossl_fail(err, what);
    return CW_OK;
}

/* Loads the CA of dir (ca.crt, ca.key) and checks that the two belong together and that the
 * certificate is a CA still valid for the serving certificate's days. */
CW_MUST_USE static cw_result load_ca(const certs_options *opt, const char *dir, certs_set *out,
                                     X509 **ca, EVP_PKEY **ca_key, cw_error *err)
{
    char crt_path[PATH_MAX], key_path[PATH_MAX];
    int n1 = snprintf(crt_path, sizeof crt_path, "%s/ca.crt", dir);
    int n2 = snprintf(key_path, sizeof key_path, "%s/ca.key", dir);
    if (n1 < 0 || (size_t)n1 >= sizeof crt_path || n2 < 0 || (size_t)n2 >= sizeof key_path)
        return cw_fail(err, CW_EINVAL, "%s: path too long", dir);
    CW_GUARD(read_blob(crt_path, &out->ca_crt, err));
    CW_GUARD(read_blob(key_path, &out->ca_key, err));
    CW_GUARD(read_pem(&out->ca_crt, ca, NULL, "reading the CA certificate (ca.crt)", err));
    CW_GUARD(read_pem(&out->ca_key, NULL, ca_key, "reading the CA key (ca.key)", err));
    if (X509_check_private_key(*ca, *ca_key) != 1)
        return cw_fail(err, CW_EINVAL, "%s does not belong to %s", key_path, crt_path);
    if (X509_check_ca(*ca) != 1)
        return cw_fail(err, CW_EINVAL, "%s is not a CA certificate", crt_path);
    if (X509_cmp_current_time(X509_get0_notAfter(*ca)) <= 0)
        return cw_fail(err, CW_EINVAL,
                       "the CA (%s) has expired: make a new one with --force and apply the "
                       "new caBundle",
                       crt_path);
    time_t until = time(NULL) + (time_t)opt->days * 86400;
    if (X509_cmp_time(X509_get0_notAfter(*ca), &until) < 0)
        return cw_fail(err, CW_EINVAL,
                       "the CA (%s) expires before the %ld days asked: ask fewer --days, or "
                       "make a new CA with --force and apply the new caBundle",
                       crt_path, opt->days);
    ERR_clear_error();
    return CW_OK;
}

cw_result certs_renew(const certs_options *opt, const char *dir, certs_set *out, cw_error *err)
{
    EVP_PKEY *ca_key = NULL;
    X509 *ca = NULL;

    memset(out, 0, sizeof *out);
    CW_GUARD(certs_check_options(opt, err));
    cw_result rc;
    if ((rc = load_ca(opt, dir, out, &ca, &ca_key, err)) ||
        (rc = issue_serving(opt, ca, ca_key, out, err)))
        certs_set_free(out);
    X509_free(ca);
    EVP_PKEY_free(ca_key);
    return rc;
}

/* ---- files ---- */

/* One file to write; data is borrowed. */
typedef struct out_file {
    const char *dir;
    const char *name;
    const char *data;
    size_t len;
    mode_t mode;
} out_file;

CW_MUST_USE static cw_result join_path(char *out, size_t size, const char *dir, const char *name,
                                       cw_error *err)
{
    int n = snprintf(out, size, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= size)
        return cw_fail(err, CW_EINVAL, "%s/%s: path too long", dir, name);
    return CW_OK;
}

/* mkdir -p: parents 0755, the directory itself mode (umask applies). */
CW_MUST_USE static cw_result make_dirs(const char *dir, mode_t mode, cw_error *err)
{
    char path[PATH_MAX];
    size_t len = strlen(dir);
    struct stat st;

    if (len == 0 || len >= sizeof path)
        return cw_fail(err, CW_EINVAL, "directory \"%s\": empty or too long", dir);
    memcpy(path, dir, len + 1);
    /* "certs/dev/" names the same directory as "certs/dev", which gets mode. */
    while (len > 1 && path[len - 1] == '/')
        path[--len] = '\0';
    for (size_t i = 1; i <= len; i++) {
        if (path[i] != '/' && path[i] != '\0')
            continue;
        char saved = path[i];
        path[i] = '\0';
        if (mkdir(path, saved ? 0755 : mode) != 0 && errno != EEXIST)
            return cw_fail(err, CW_EIO, "creating directory %s: %s", path, strerror(errno));
        if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
            return cw_fail(err, CW_EIO, "%s: not a directory", path);
        path[i] = saved;
    }
    return CW_OK;
}

CW_MUST_USE static cw_result write_all(int fd, const char *data, size_t len, const char *path,
                                       cw_error *err)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return cw_fail(err, CW_EIO, "writing %s: %s", path, strerror(n < 0 ? errno : EIO));
        data += n;
        len -= (size_t)n;
    }
    return CW_OK;
}

/* Writes f through a temporary file in the same directory, so that readers (a running server
 * reloading its files) see the old or the new contents, never a part. Without force an
 * existing file is never replaced, even one that appeared after the first check. */
CW_MUST_USE static cw_result write_file(const out_file *f, bool force, cw_error *err)
{
    char path[PATH_MAX], tmp[PATH_MAX];
    cw_result rc;
    int fd = -1;

    if ((rc = join_path(path, sizeof path, f->dir, f->name, err)))
        return rc;
    int n = snprintf(tmp, sizeof tmp, "%s/.%s.XXXXXX", f->dir, f->name);
    if (n < 0 || (size_t)n >= sizeof tmp)
        return cw_fail(err, CW_EINVAL, "%s: path too long", path);
    fd = mkstemp(tmp); /* mode 0600 from the start: key bytes are never readable by others */
    if (fd < 0)
        return cw_fail(err, CW_EIO, "creating a file in %s: %s", f->dir, strerror(errno));
    if ((rc = write_all(fd, f->data, f->len, tmp, err)))
        goto fail;
    if (fchmod(fd, f->mode) != 0 || fsync(fd) != 0) {
        rc = cw_fail(err, CW_EIO, "writing %s: %s", tmp, strerror(errno));
        goto fail;
    }
    int closed = close(fd);
    fd = -1;
    if (closed != 0) {
        rc = cw_fail(err, CW_EIO, "writing %s: %s", tmp, strerror(errno));
        goto fail;
    }
    if (force) {
        if (rename(tmp, path) != 0) {
            rc = cw_fail(err, CW_EIO, "renaming %s to %s: %s", tmp, path, strerror(errno));
            goto fail;
        }
        return CW_OK;
    }
    /* link() fails with EEXIST instead of replacing; filesystems without hard links get a
     * plain rename after the check already made. */
    if (link(tmp, path) != 0) {
        if (errno == EEXIST) {
            rc = cw_fail(err, CW_EIO, "%s exists (use --force to replace it)", path);
            goto fail;
        }
        if (errno != EPERM && errno != ENOTSUP && errno != ENOSYS) {
            rc = cw_fail(err, CW_EIO, "creating %s: %s", path, strerror(errno));
            goto fail;
        }
        if (rename(tmp, path) != 0) {
            rc = cw_fail(err, CW_EIO, "renaming %s to %s: %s", tmp, path, strerror(errno));
            goto fail;
        }
        return CW_OK;
    }
    unlink(tmp);
    return CW_OK;
fail:
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    return rc;
}

static void sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return;
    (void)fsync(fd); /* best effort: the files themselves are synced */
    close(fd);
}

/* Formats into an owned buffer; returns NULL when out of memory. */
static char *format_alloc(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *format_alloc(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    char *text = malloc((size_t)n + 1);
    if (!text)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(text, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return text;
}

static void free_secret_string(char *s)
{
    if (s)
        OPENSSL_cleanse(s, strlen(s));
    free(s);
}

/* certs_write and certs_write_renewal: with renew, only the serving pair is written into dir
 * (replacing it), the CA files stay as they are. */
CW_MUST_USE static cw_result write_set(const certs_set *set, const certs_options *opt,
                                       const char *dir, const char *overlay_dir, bool force,
                                       bool renew, cw_error *err)
{
    out_file files[7];
    size_t count = 0, written = 0;
    char *bundle = NULL, *tls_crt_b64 = NULL, *tls_key_b64 = NULL;
    char *secret = NULL, *patch = NULL, *bundle_line = NULL;
    char path[PATH_MAX];
    struct stat st;
    cw_result rc = CW_OK;

    bundle = base64(&set->ca_crt);
    bundle_line = bundle ? format_alloc("%s\n", bundle) : NULL;
    if (!bundle_line) {
        rc = cw_fail(err, CW_ENOMEM, "out of memory");
        goto out;
    }
    if (!renew)
        files[count++] = (out_file){dir, "ca.crt", set->ca_crt.data, set->ca_crt.len, 0644};
    if (!renew)
        files[count++] = (out_file){dir, "ca.key", set->ca_key.data, set->ca_key.len, 0600};
    /* The key before the certificate: a server reading in between sees a mismatched pair,
     * keeps serving the old one and loads the new pair on its next check. */
    files[count++] = (out_file){dir, "tls.key", set->tls_key.data, set->tls_key.len, 0600};
    files[count++] = (out_file){dir, "tls.crt", set->tls_crt.data, set->tls_crt.len, 0644};
    if (!renew)
        files[count++] = (out_file){dir, "ca-bundle.b64", bundle_line, strlen(bundle_line), 0644};

    if (overlay_dir) {
        tls_crt_b64 = base64(&set->tls_crt);
        tls_key_b64 = base64(&set->tls_key);
        if (tls_crt_b64 && tls_key_b64)
            secret = format_alloc(
                "# Written by coco-webhook certs. Holds a private key: never commit it.\n"
                "apiVersion: v1\n"
                "kind: Secret\n"
                "metadata:\n"
                "  name: " CERTS_SECRET_NAME "\n"
                "  namespace: %s\n"
                "type: kubernetes.io/tls\n"
                "data:\n"
                "  tls.crt: %s\n"
                "  tls.key: %s\n",
                opt->namespace, tls_crt_b64, tls_key_b64);
        /* Merged into the webhooks by name (their patch merge key). */
        patch = format_alloc(
            "# Written by coco-webhook certs: the CA that signed the serving certificate.\n"
            "apiVersion: admissionregistration.k8s.io/v1\n"
            "kind: MutatingWebhookConfiguration\n"
            "metadata:\n"
            "  name: " CERTS_WEBHOOK_CONFIG_NAME "\n"
            "webhooks:\n"
            "  - name: " CERTS_WEBHOOK_OBJECT "\n"
            "    clientConfig:\n"
            "      caBundle: %s\n"
            "  - name: " CERTS_WEBHOOK_NAMESPACE "\n"
            "    clientConfig:\n"
            "      caBundle: %s\n",
            bundle, bundle);
        if (!secret || !patch) {
            rc = cw_fail(err, CW_ENOMEM, "out of memory");
            goto out;
        }
        files[count++] = (out_file){overlay_dir, "tls-secret.yaml", secret, strlen(secret), 0600};
        files[count++] = (out_file){overlay_dir, "cabundle-patch.yaml", patch, strlen(patch), 0644};
    }

    /* Every check before the first write: a refusal changes nothing. */
    for (size_t i = 0; i < count; i++) {
        if ((rc = join_path(path, sizeof path, files[i].dir, files[i].name, err)))
            goto out;
        if (lstat(path, &st) == 0) {
            if (!force) {
                rc = cw_fail(err, CW_EIO, "%s exists (use --force to replace it)", path);
                goto out;
            }
            if (S_ISDIR(st.st_mode)) {
                rc = cw_fail(err, CW_EIO, "%s is a directory", path);
                goto out;
            }
        } else if (errno != ENOENT && errno != ENOTDIR) {
            rc = cw_fail(err, CW_EIO, "%s: %s", path, strerror(errno));
            goto out;
        }
    }
    if ((rc = make_dirs(dir, 0700, err)))
        goto out;
    if (overlay_dir && (rc = make_dirs(overlay_dir, 0755, err)))
        goto out;
    for (; written < count; written++) {
        if ((rc = write_file(&files[written], force, err)))
            goto out;
    }
    sync_dir(dir);
    if (overlay_dir)
        sync_dir(overlay_dir);
out:
    /* Without force, nothing existed before: take back a half-done set. */
    if (rc && !force) {
        for (size_t i = 0; i < written; i++) {
            if (join_path(path, sizeof path, files[i].dir, files[i].name, NULL) == CW_OK)
                unlink(path);
        }
    }
    free(bundle);
    free(bundle_line);
    free(tls_crt_b64);
    free(patch);
    free_secret_string(tls_key_b64);
    free_secret_string(secret);
    return rc;
}

cw_result certs_write(const certs_set *set, const certs_options *opt, const char *dir,
                      const char *overlay_dir, bool force, cw_error *err)
{
    return write_set(set, opt, dir, overlay_dir, force, false, err);
}

cw_result certs_write_renewal(const certs_set *set, const certs_options *opt, const char *dir,
                              const char *overlay_dir, cw_error *err)
{
    return write_set(set, opt, dir, overlay_dir, true, true, err);
}
