/* initdata: the engine's initdata rules. See initdata.h. */
#include "initdata.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "jsonutil.h"
#include "k8s_names.h"

#define NAME_SHOWN K8S_DNS_LABEL_MAX /* bytes of a name quoted in a message */
#define NAMES_SHOWN_MAX 240          /* bytes of the list of documents in a message */
#define ALG_NAME_MAX 7               /* bytes of a digest's algorithm name ("sha512") */

const cJSON *prior_record_tree(prior_record *r)
{
    if (!r->parsed && r->text)
        r->tree = cJSON_Parse(r->text);
    r->parsed = true;
    return r->tree;
}

void prior_record_free(prior_record *r)
{
    cJSON_Delete(r->tree);
    r->tree = NULL;
    r->parsed = false;
}

void initdata_choose(const config *cfg, const char *ns, const char *picked, initdata_choice *c,
                     denial *d)
{
    d->denied = false;
    c->document = NULL;
    c->enforced = false;
    const config_initdata_namespace *entry = config_initdata_namespace_of(cfg, ns);
    if (entry) {
        c->document = entry->document;
        c->enforced = entry->enforce;
    } else {
        c->document = cfg->initdata_default;
    }
    if (!picked)
        return;
    const config_initdata_document *doc = config_initdata_document_named(cfg, picked);
    if (!doc) {
        char names[NAMES_SHOWN_MAX];
        (void)denial_set(d, 400, "initdata_unknown",
                         "annotation %s: \"%.*s\" is not a listed initdata document (listed: %s)",
                         INITDATA_ANN_PICK, NAME_SHOWN, picked,
                         config_initdata_document_list(cfg, names, sizeof names));
        return;
    }
    if (c->enforced && doc != c->document) {
        (void)denial_set(
            d, 403, "initdata_enforced",
            "annotation %s asks for initdata document \"%s\", but namespace %s enforces "
            "document \"%s\"",
            INITDATA_ANN_PICK, doc->name, ns, c->document->name);
        return;
    }
    c->document = doc;
}

/* *same when value holds the document: the same text as ours, or another encoding of the
 * same bytes. A value that does not decode holds no document; out of memory is an error. */
CW_MUST_USE static cw_result holds_document(const char *value, const initdata_doc *doc, bool *same)
{
    *same = strcmp(value, doc->value) == 0;
    if (*same)
        return CW_OK;
    unsigned char *bytes;
    size_t len;
    cw_result rc = initdata_decode(value, strlen(value), doc->len, &bytes, &len, NULL);
    if (rc != CW_OK)
        return rc == CW_ENOMEM ? rc : CW_OK;
    *same = len == doc->len && memcmp(bytes, doc->bytes, len) == 0;
    free(bytes);
    return CW_OK;
}

/* *same when value decodes to a document whose digest is the one the record names. A value
 * that does not decode was not set by the webhook; out of memory is an error. */
CW_MUST_USE static cw_result set_by_webhook(const char *value, prior_record *prior, bool *same)
{
    *same = false;
    const cJSON *rec = prior_record_tree(prior);
    if (!rec)
        return CW_OK;
    const char *digest = jsonutil_string(jsonutil_member(rec, "initdata"), "digest");
    const char *colon = digest ? strchr(digest, ':') : NULL;
    cw_result rc = CW_OK;
    char alg_name[ALG_NAME_MAX + 1];
    initdata_alg alg;
    unsigned char *bytes = NULL;
    size_t len = 0;
    if (!colon || (size_t)(colon - digest) >= sizeof alg_name)
        goto done;
    memcpy(alg_name, digest, (size_t)(colon - digest));
    alg_name[colon - digest] = '\0';
    if (!initdata_alg_parse(alg_name, &alg))
        goto done;
    rc = initdata_decode(value, strlen(value), INITDATA_FILE_MAX, &bytes, &len, NULL);
    if (rc != CW_OK) {
        rc = rc == CW_ENOMEM ? rc : CW_OK;
        goto done;
    }
    unsigned char hash[INITDATA_DIGEST_MAX];
    char hex[2 * INITDATA_DIGEST_MAX + 1];
    size_t n = initdata_hash(alg, bytes, len, hash);
    initdata_hex(hash, n, hex);
    *same = n > 0 && strcmp(hex, colon + 1) == 0;
done:
    free(bytes);
    return rc;
}

cw_result initdata_check_value(const char *value, size_t len, initdata_alg *alg, cw_error *err)
{
    unsigned char *gz = NULL, *doc = NULL;
    size_t gz_len = 0, doc_len = 0;
    cw_error why = {{0}};
    initdata_info info;
    cw_result r = b64_decode(value, len, B64_GO_STD, &gz, &gz_len, &why);
    if (r == CW_ENOMEM)
        return CW_FAIL_NOMEM(err);
    if (r)
        return cw_fail(err, CW_EINVAL, "not standard padded base64");
    r = initdata_gunzip(gz, gz_len, INITDATA_FILE_MAX, &doc, &doc_len, &why);
    free(gz);
    if (r)
        return r == CW_ENOMEM ? CW_FAIL_NOMEM(err) : cw_fail(err, r, "base64 of %s", why.msg);
    r = initdata_check_kata("the document", doc, doc_len, &info, &why);
    free(doc);
    if (r)
        return r == CW_ENOMEM ? CW_FAIL_NOMEM(err) : cw_fail(err, r, "%s", why.msg);
    *alg = info.alg;
    return CW_OK;
}

cw_result initdata_decide(const char *key, const initdata_choice *c, const cJSON *meta,
                          prior_record *prior, initdata_action *action, denial *d)
{
    *action = INITDATA_NOTHING;
    d->denied = false;
    if (!c->document || !key)
        return CW_OK;
    if (!jsonutil_is_absent(meta) && !cJSON_IsObject(meta))
        return denial_set(d, 400, "invalid_object", "metadata must be an object");
    const cJSON *annotations = jsonutil_member(meta, "annotations");
    if (!jsonutil_is_absent(annotations) && !cJSON_IsObject(annotations))
        return denial_set(d, 400, "invalid_object", "metadata.annotations must be an object");
    const cJSON *v = jsonutil_member(annotations, key);
    if (jsonutil_is_absent(v)) {
        *action = INITDATA_SET;
        return CW_OK;
    }
    if (!cJSON_IsString(v))
        return denial_set(d, 400, "annotation", "annotation %s must be a string", key);
    bool same;
    CW_GUARD(holds_document(v->valuestring, &c->document->doc, &same));
    if (same) {
        *action = INITDATA_KEEP_SAME;
        return CW_OK;
    }
    bool ours;
    CW_GUARD(set_by_webhook(v->valuestring, prior, &ours));
    if (ours) {
        *action = INITDATA_REPLACE;
        return CW_OK;
    }
    if (c->enforced)
        return denial_set(d, 403, "initdata_enforced",
                          "annotation %s holds another initdata document than \"%s\", which this "
                          "namespace enforces; remove the annotation",
                          key, c->document->name);
    *action = INITDATA_KEEP_OTHER;
    return CW_OK;
}
