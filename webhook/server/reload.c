#include "reload.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "certstore.h"
#include "log.h"
#include "metrics.h"

struct reload_ref {
    config *cfg; /* owned */
    atomic_int refs;
};

/* Identity of a file as last loaded: any change of the target (new inode after a symlink
 * swap, or new size/mtime after a rewrite) triggers a reload. */
typedef struct file_id {
    bool ok;
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
} file_id;

static struct {
    char *cert, *key, *config, *own_namespace;
    bool log_level_fixed;
    config_tls_version tls_min_version;
    bool tls_min_version_fixed;
    file_id cert_id, key_id, config_id;
    /* The initdata documents the config file names (also when it failed to load because of
     * one of them), watched like the config itself: a changed document reloads the config. */
    config_strings documents;
    file_id *document_ids;
    pthread_mutex_t lock; /* guards current (pointer swap and reference taking) */
    reload_ref *current;
    atomic_bool cert_loaded;
} st = {.lock = PTHREAD_MUTEX_INITIALIZER};

static file_id file_identity(const char *path)
{
    file_id id = {0};
    struct stat s;
    if (path && stat(path, &s) == 0) {
        id.ok = true;
        id.dev = s.st_dev;
        id.ino = s.st_ino;
        id.size = s.st_size;
        id.mtime = s.st_mtim;
    }
    return id;
}

static bool same_id(const file_id *a, const file_id *b)
{
    return a->ok == b->ok && a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec;
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static void ref_release(reload_ref *ref)
{
    if (ref && atomic_fetch_sub_explicit(&ref->refs, 1, memory_order_acq_rel) == 1) {
        config_free(ref->cfg);
        free(ref);
    }
}

/* Applies the server's own settings to a freshly loaded config and makes it current.
 * Takes ownership of cfg. */
CW_MUST_USE static cw_result install_config(config *cfg, cw_error *err)
{
    cw_result rc = CW_OK;
    reload_ref *ref = NULL;
    if (st.own_namespace && st.own_namespace[0]) {
        rc = config_exclude_namespace(cfg, st.own_namespace, err);
        if (rc != CW_OK)
            goto fail;
    }
    ref = malloc(sizeof *ref);
    if (!ref) {
        rc = CW_FAIL_NOMEM(err);
        goto fail;
    }
    ref->cfg = cfg;
    atomic_init(&ref->refs, 1); /* the reference held as "current" */
    pthread_mutex_lock(&st.lock);
    reload_ref *old = st.current;
    st.current = ref;
    pthread_mutex_unlock(&st.lock);
    ref_release(old);
    if (!st.log_level_fixed)
        log_set_level(cfg->log_level);
    /* After the level: a warning of the new config is logged at the level it sets. */
    for (size_t i = 0; i < cfg->load_warnings.count; i++) {
        log_line l;
        log_begin(&l, LOG_LEVEL_WARN, "config warning");
        log_str(&l, "file", st.config ? st.config : "(defaults)");
        log_str(&l, "warning", cfg->load_warnings.items[i]);
        log_end(&l);
    }
    metrics_count_config_warnings(cfg->load_warnings.count);
    return CW_OK;
fail:
    config_free(cfg);
    return rc;
}

/* Loads cert and key; retries when either file changed while it was read (the two are
 * swapped together by Kubernetes, and reading one before and one after the swap would give
 * a mismatched pair). Records the identities seen, also on failure, so that a bad file is
 * reported once, not on every poll. */
CW_MUST_USE static cw_result load_cert(cw_error *err)
{
    cw_result rc = CW_EIO;
    for (int attempt = 0; attempt <= RELOAD_RACE_RETRIES; attempt++) {
        file_id c0 = file_identity(st.cert), k0 = file_identity(st.key);
        rc = certstore_load(st.cert, st.key, err);
        file_id c1 = file_identity(st.cert), k1 = file_identity(st.key);
        st.cert_id = c1;
        st.key_id = k1;
        if (same_id(&c0, &c1) && same_id(&k0, &k1))
            break;
    }
    if (rc == CW_OK) {
        atomic_store(&st.cert_loaded, true);
        metrics_set_cert_expiry(certstore_not_after());
    }
    return rc;
}

/* The certificate now served, for the log: its file, fingerprint and expiry. */
static void log_certificate(const char *msg)
{
    char fp[65];
    certstore_fingerprint(fp);
    log_line l;
    log_begin(&l, LOG_LEVEL_INFO, msg);
    log_str(&l, "file", st.cert);
    log_str(&l, "sha256", fp);
    log_int(&l, "not_after", certstore_not_after());
    log_end(&l);
}

/* Takes the identities of the watched documents, as seen before a load, so that a change
 * during the load is seen at the next check. */
static void remember_documents(const config_strings *docs, file_id *ids)
{
    config_strings_clear(&st.documents);
    free(st.document_ids);
    st.documents = *docs;
    st.document_ids = ids;
}

static bool documents_changed(void)
{
    for (size_t i = 0; i < st.documents.count; i++) {
        file_id f = file_identity(st.documents.items[i]);
        if (!same_id(&f, &st.document_ids[i]))
            return true;
    }
    return false;
}

/* Identities of the documents the config names now; owned array (NULL when none). */
static file_id *identify_documents(const config_strings *docs)
{
    if (docs->count == 0)
        return NULL;
    file_id *ids = calloc(docs->count, sizeof *ids);
    for (size_t i = 0; ids && i < docs->count; i++)
        ids[i] = file_identity(docs->items[i]);
    return ids;
}

/* Watches the documents of the config loaded at start (before any reload). */
static void watch_documents_of(const config *cfg)
{
    size_t n = cfg->initdata_documents_count;
    config_strings docs = {.items = n ? calloc(n, sizeof(char *)) : NULL};
    for (size_t i = 0; docs.items && i < n; i++) {
        docs.items[i] = strdup(cfg->initdata_documents[i].doc.path);
        if (!docs.items[i]) {
            config_strings_clear(&docs);
            break;
        }
        docs.count++;
    }
    file_id *ids = identify_documents(&docs);
    if (docs.count > 0 && !ids)
        config_strings_clear(&docs);
    remember_documents(&docs, ids);
}

/* Loads the config file. The documents are identified before the load when the config names
 * the same files as before, so that a document changed while it was read is read again at the
 * next check (as for the config file itself). */
CW_MUST_USE static cw_result load_config(config **cfg, cw_error *err)
{
    file_id *before = identify_documents(&st.documents);
    config_strings docs = {0};
    /* On failure the documents read so far are watched all the same. */
    cw_result rc = config_load_watch(st.config, &docs, cfg, err);
    bool same_list = docs.count == st.documents.count;
    for (size_t i = 0; same_list && i < docs.count; i++)
        same_list = strcmp(docs.items[i], st.documents.items[i]) == 0;
    file_id *ids = NULL;
    if (same_list && (docs.count == 0 || before)) {
        ids = before;
        before = NULL;
    } else {
        ids = identify_documents(&docs);
    }
    free(before);
    if (docs.count > 0 && !ids)
        config_strings_clear(&docs); /* out of memory: not watched until the config changes */
    remember_documents(&docs, ids);
    return rc;
}

cw_result reload_init(const reload_paths *paths, config *cfg, cw_error *err)
{
    st.cert = dup_or_null(paths->cert);
    st.key = dup_or_null(paths->key);
    st.config = dup_or_null(paths->config);
    st.own_namespace = dup_or_null(paths->own_namespace);
    st.log_level_fixed = paths->log_level_fixed;
    st.tls_min_version = paths->tls_min_version;
    st.tls_min_version_fixed = paths->tls_min_version_fixed;
    if (!st.cert || !st.key || (paths->config && !st.config) ||
        (paths->own_namespace && !st.own_namespace)) {
        config_free(cfg);
        return CW_FAIL_NOMEM(err);
    }
    st.config_id = file_identity(st.config);
    watch_documents_of(cfg);
    cw_result rc = install_config(cfg, err);
    if (rc != CW_OK)
        return rc;
    rc = load_cert(err);
    if (rc != CW_OK)
        return rc;
    log_certificate("certificate loaded");
    return CW_OK;
}

static void reload_config_file(void)
{
    cw_error err = {{0}};
    config *cfg;
    cw_result rc = load_config(&cfg, &err);
    if (rc == CW_OK && !st.tls_min_version_fixed && cfg->tls_min_version != st.tls_min_version) {
        /* GnuTLS took the priority string when the server started. */
        log_line l;
        log_begin(&l, LOG_LEVEL_WARN, "tlsMinVersion changed; it takes effect at the next start");
        log_str(&l, "file", st.config);
        log_str(&l, "in_force", config_tls_version_name(st.tls_min_version));
        log_str(&l, "configured", config_tls_version_name(cfg->tls_min_version));
        log_end(&l);
    }
    if (rc == CW_OK && install_config(cfg, &err) == CW_OK) {
        metrics_count_reload(METRICS_FILE_CONFIG, true);
        log_line l;
        log_begin(&l, LOG_LEVEL_INFO, "config reloaded");
        log_str(&l, "file", st.config);
        log_end(&l);
        return;
    }
    metrics_count_reload(METRICS_FILE_CONFIG, false);
    log_line l;
    log_begin(&l, LOG_LEVEL_ERROR, "config reload failed, keeping the last good config");
    log_str(&l, "file", st.config);
    log_str(&l, "error", err.msg);
    log_end(&l);
}

static void reload_cert_files(void)
{
    cw_error err = {{0}};
    if (load_cert(&err) != CW_OK) {
        metrics_count_reload(METRICS_FILE_CERTIFICATE, false);
        log_line l;
        log_begin(&l, LOG_LEVEL_ERROR,
                  "certificate reload failed, keeping the last good certificate");
        log_str(&l, "file", st.cert);
        log_str(&l, "error", err.msg);
        log_end(&l);
        return;
    }
    metrics_count_reload(METRICS_FILE_CERTIFICATE, true);
    log_certificate("certificate reloaded");
}

void reload_check(bool force)
{
    if (!st.cert)
        return;
    file_id c = file_identity(st.cert), k = file_identity(st.key);
    if (force || !same_id(&c, &st.cert_id) || !same_id(&k, &st.key_id))
        reload_cert_files();
    if (st.config) {
        file_id f = file_identity(st.config);
        if (force || !same_id(&f, &st.config_id) || documents_changed()) {
            st.config_id = f;
            reload_config_file();
        }
    }
}

bool reload_ready(void)
{
    pthread_mutex_lock(&st.lock);
    bool have_config = st.current != NULL;
    pthread_mutex_unlock(&st.lock);
    return have_config && atomic_load(&st.cert_loaded) && certstore_loaded();
}

reload_ref *reload_config_acquire(void)
{
    pthread_mutex_lock(&st.lock);
    reload_ref *ref = st.current;
    if (ref)
        atomic_fetch_add_explicit(&ref->refs, 1, memory_order_relaxed);
    pthread_mutex_unlock(&st.lock);
    return ref;
}

const config *reload_ref_config(const reload_ref *ref)
{
    return ref->cfg;
}

void reload_config_release(reload_ref *ref)
{
    ref_release(ref);
}

void reload_shutdown(void)
{
    pthread_mutex_lock(&st.lock);
    reload_ref *old = st.current;
    st.current = NULL;
    pthread_mutex_unlock(&st.lock);
    ref_release(old);
    certstore_clear();
    atomic_store(&st.cert_loaded, false);
    free(st.cert);
    free(st.key);
    free(st.config);
    free(st.own_namespace);
    st.cert = st.key = st.config = st.own_namespace = NULL;
    config_strings empty = {0};
    remember_documents(&empty, NULL);
}
