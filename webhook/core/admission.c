#include "admission.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "json_nul.h"
#include "jsonutil.h"

/* ---- output buffer: malloc'd (it outlives the request's arena), failure sticky ---- */

typedef struct outbuf {
    char *buf;
    size_t len, cap;
    bool failed;
} outbuf;

static void out_reserve(outbuf *o, size_t more)
{
    if (o->failed || o->cap - o->len > more)
        return;
    size_t ncap = o->cap ? o->cap : 1024;
    while (ncap - o->len <= more) {
        if (ncap > SIZE_MAX / 2) {
            o->failed = true;
            return;
        }
        ncap *= 2;
    }
    char *nbuf = realloc(o->buf, ncap);
    if (!nbuf) {
        o->failed = true;
        return;
    }
    o->buf = nbuf;
    o->cap = ncap;
}

static void out_raw(outbuf *o, const char *s, size_t n)
{
    out_reserve(o, n);
    if (o->failed)
        return;
    memcpy(o->buf + o->len, s, n);
    o->len += n;
    o->buf[o->len] = '\0';
}

static void out_lit(outbuf *o, const char *s)
{
    out_raw(o, s, strlen(s));
}

/* A JSON string (RFC 8259 §7): quotes, backslash and control characters escaped. */
static void out_string(outbuf *o, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = strlen(s);
    out_reserve(o, n * 6 + 2);
    if (o->failed)
        return;
    char *w = o->buf + o->len;
    *w++ = '"';
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            *w++ = '\\';
            *w++ = (char)*p;
        } else if (*p < 0x20) {
            *w++ = '\\';
            *w++ = 'u';
            *w++ = '0';
            *w++ = '0';
            *w++ = hex[*p >> 4];
            *w++ = hex[*p & 15];
        } else {
            *w++ = (char)*p;
        }
    }
    *w++ = '"';
    *w = '\0';
    o->len = (size_t)(w - o->buf);
}

static void out_base64(outbuf *o, const unsigned char *s, size_t n)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    out_reserve(o, (n + 2) / 3 * 4 + 1);
    if (o->failed)
        return;
    char *w = o->buf + o->len;
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
        *w++ = tab[v >> 18];
        *w++ = tab[(v >> 12) & 63];
        *w++ = tab[(v >> 6) & 63];
        *w++ = tab[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)s[i] << 16;
        *w++ = tab[v >> 18];
        *w++ = tab[(v >> 12) & 63];
        *w++ = '=';
        *w++ = '=';
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8;
        *w++ = tab[v >> 18];
        *w++ = tab[(v >> 12) & 63];
        *w++ = tab[(v >> 6) & 63];
        *w++ = '=';
    }
    *w = '\0';
    o->len = (size_t)(w - o->buf);
}

char *admission_error_body(const char *message, size_t *len)
{
    outbuf o = {0};
    out_lit(&o, "{\"error\":");
    out_string(&o, message);
    out_lit(&o, "}");
    if (o.failed) {
        free(o.buf);
        return NULL;
    }
    *len = o.len;
    return o.buf;
}

/* ---- input checks ---- */

/* A member that must be a string when present: NULL when absent or null, *bad when another
 * type. */
static const char *opt_string(const cJSON *obj, const char *key, bool *bad)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v || cJSON_IsNull(v))
        return NULL;
    if (!cJSON_IsString(v)) {
        *bad = true;
        return NULL;
    }
    return v->valuestring;
}

static void copy_field(char *dst, size_t cap, const char *src)
{
    if (!src)
        src = "";
    size_t n = strnlen(src, cap - 1);
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* The parts of request we use, borrowed from the parsed tree. */
typedef struct review {
    const char *uid;
    const char *kind, *group, *version;
    const char *namespace, *name;
    const char *operation;
    engine_operation op;
    cJSON *object;
} review;

static cw_result decode(cJSON *root, review *r, cw_error *err)
{
    bool bad = false;
    if (!cJSON_IsObject(root))
        return cw_fail(err, CW_EINVAL, "body is not a JSON object");
    const char *api = opt_string(root, "apiVersion", &bad);
    if (bad || !api || strcmp(api, ADMISSION_API_VERSION) != 0)
        return cw_fail(err, CW_EINVAL, "apiVersion must be \"%s\"", ADMISSION_API_VERSION);
    const char *kind = opt_string(root, "kind", &bad);
    if (bad || !kind || strcmp(kind, ADMISSION_KIND) != 0)
        return cw_fail(err, CW_EINVAL, "kind must be \"%s\"", ADMISSION_KIND);
    const cJSON *req = cJSON_GetObjectItemCaseSensitive(root, "request");
    if (!cJSON_IsObject(req))
        return cw_fail(err, CW_EINVAL, "request is missing or not an object");

    r->uid = opt_string(req, "uid", &bad);
    if (bad || !r->uid || !r->uid[0])
        return cw_fail(err, CW_EINVAL, "request.uid is missing or not a string");
    if (strlen(r->uid) > ADMISSION_UID_MAX)
        return cw_fail(err, CW_ELIMIT, "request.uid is longer than %d bytes", ADMISSION_UID_MAX);
    /* The uid is echoed: keep it to what the API server sends (a UUID), so that no control
     * character or invalid UTF-8 goes back out. */
    for (const char *c = r->uid; *c; c++)
        if (*c < '!' || *c > '~')
            return cw_fail(err, CW_EINVAL, "request.uid must be printable ASCII (a UUID)");

    const cJSON *gvk = cJSON_GetObjectItemCaseSensitive(req, "kind");
    if (!cJSON_IsObject(gvk))
        return cw_fail(err, CW_EINVAL, "request.kind is missing or not an object");
    r->group = opt_string(gvk, "group", &bad);
    r->version = opt_string(gvk, "version", &bad);
    r->kind = opt_string(gvk, "kind", &bad);
    if (bad || !r->version || !r->version[0] || !r->kind || !r->kind[0])
        return cw_fail(err, CW_EINVAL, "request.kind needs string group, version and kind");
    if (!r->group)
        r->group = "";

    r->operation = opt_string(req, "operation", &bad);
    if (bad || !r->operation)
        return cw_fail(err, CW_EINVAL, "request.operation is missing or not a string");
    if (strcmp(r->operation, "CREATE") == 0)
        r->op = ENGINE_OP_CREATE;
    else if (strcmp(r->operation, "UPDATE") == 0)
        r->op = ENGINE_OP_UPDATE;
    else if (strcmp(r->operation, "DELETE") == 0 || strcmp(r->operation, "CONNECT") == 0)
        r->op = ENGINE_OP_OTHER;
    else
        return cw_fail(err, CW_EINVAL,
                       "request.operation must be CREATE, UPDATE, DELETE or "
                       "CONNECT");
    r->namespace = opt_string(req, "namespace", &bad);
    r->name = opt_string(req, "name", &bad);
    if (bad)
        return cw_fail(err, CW_EINVAL, "request.namespace and request.name must be strings");

    cJSON *obj = cJSON_GetObjectItemCaseSensitive(req, "object");
    r->object = NULL;
    if (r->op == ENGINE_OP_OTHER)
        return CW_OK; /* object is null on DELETE; neither is looked at */
    if (!cJSON_IsObject(obj))
        return cw_fail(err, CW_EINVAL, "request.object must be an object on %s", r->operation);

    /* The object must be what request.kind says it is. */
    const char *okind = opt_string(obj, "kind", &bad);
    const char *oapi = opt_string(obj, "apiVersion", &bad);
    if (bad)
        return cw_fail(err, CW_EINVAL, "request.object.kind and apiVersion must be strings");
    if (okind && strcmp(okind, r->kind) != 0)
        return cw_fail(err, CW_EINVAL, "request.object is a %.64s, request.kind says %.64s", okind,
                       r->kind);
    if (oapi) {
        size_t glen = strlen(r->group);
        bool match = glen == 0 ? strcmp(oapi, r->version) == 0
                               : strncmp(oapi, r->group, glen) == 0 && oapi[glen] == '/' &&
                                     strcmp(oapi + glen + 1, r->version) == 0;
        if (!match)
            return cw_fail(err, CW_EINVAL,
                           "request.object.apiVersion \"%.64s\" does not match request.kind", oapi);
    }
    r->object = obj;
    return CW_OK;
}

static void fill_info(admission_info *info, const review *r)
{
    info->is_review = true;
    copy_field(info->uid, sizeof info->uid, r->uid);
    copy_field(info->kind, sizeof info->kind, r->kind);
    copy_field(info->operation, sizeof info->operation, r->operation);
    const char *ns = r->namespace, *name = r->name;
    const cJSON *meta = r->object ? cJSON_GetObjectItemCaseSensitive(r->object, "metadata") : NULL;
    bool bad = false;
    if ((!ns || !ns[0]) && cJSON_IsObject(meta))
        ns = opt_string(meta, "namespace", &bad);
    if ((!name || !name[0]) && cJSON_IsObject(meta)) {
        name = opt_string(meta, "name", &bad);
        if (!name || !name[0])
            name = opt_string(meta, "generateName", &bad);
    }
    copy_field(info->namespace, sizeof info->namespace, ns);
    copy_field(info->name, sizeof info->name, name);
}

/* ---- the answer ---- */

static void encode_start(outbuf *o, const char *uid, bool allowed)
{
    out_lit(o, "{\"apiVersion\":\"" ADMISSION_API_VERSION "\",\"kind\":\"" ADMISSION_KIND
               "\",\"response\":{\"uid\":");
    out_string(o, uid);
    out_lit(o, allowed ? ",\"allowed\":true" : ",\"allowed\":false");
}

static cw_result encode_engine(outbuf *o, const review *r, const engine_result *res)
{
    encode_start(o, r->uid, res->outcome != ENGINE_DENIED);
    if (res->outcome == ENGINE_DENIED) {
        char code[16];
        snprintf(code, sizeof code, "%d", res->code < 400 ? 400 : res->code);
        out_lit(o, ",\"status\":{\"code\":");
        out_lit(o, code);
        out_lit(o, ",\"message\":");
        out_string(o, res->message);
        out_lit(o, "}");
    }
    if (res->outcome == ENGINE_ALLOWED && res->patch_ops > 0) {
        char *patch = cJSON_PrintUnformatted(res->patch);
        if (!patch)
            return CW_ENOMEM;
        out_lit(o, ",\"patchType\":\"JSONPatch\",\"patch\":\"");
        out_base64(o, (const unsigned char *)patch, strlen(patch));
        out_lit(o, "\"");
        cJSON_free(patch);
    }
    if (res->warning_count > 0) {
        out_lit(o, ",\"warnings\":[");
        for (size_t i = 0; i < res->warning_count; i++) {
            if (i)
                out_lit(o, ",");
            out_string(o, res->warnings[i]);
        }
        out_lit(o, "]");
    }
    if (res->record && res->outcome == ENGINE_ALLOWED) {
        out_lit(o, ",\"auditAnnotations\":{\"" ADMISSION_AUDIT_KEY "\":");
        out_string(o, res->record);
        out_lit(o, "}");
    }
    out_lit(o, "}}");
    return o->failed ? CW_ENOMEM : CW_OK;
}

static cw_result answer(const config *cfg, engine_scope scope, uint64_t deadline_ns, cJSON *root,
                        admission_response *out, outbuf *o)
{
    admission_info *info = &out->info;
    cw_error err = {{0}};
    review r = {0};
    bool oom = false;

    const char *dup = jsonutil_find_duplicate_key(root, &oom);
    if (oom)
        return CW_ENOMEM;
    if (dup) {
        snprintf(info->error, sizeof info->error, "duplicate key \"%.64s\"", dup);
        out->http_status = 400;
        return CW_OK;
    }
    if (decode(root, &r, &err) != CW_OK) {
        memcpy(info->error, err.msg, sizeof info->error);
        out->http_status = 400;
        return CW_OK;
    }
    fill_info(info, &r);
    out->http_status = 200;

    if (r.op == ENGINE_OP_OTHER) {
        info->result = METRICS_RESULT_SKIPPED;
        info->skip_reason = "operation";
        encode_start(o, r.uid, true);
        out_lit(o, "}}");
        return o->failed ? CW_ENOMEM : CW_OK;
    }

    engine_request ereq = {
        .object = r.object,
        .kind = r.kind,
        .group = r.group,
        .version = r.version,
        .namespace = r.namespace && r.namespace[0] ? r.namespace : NULL,
        .operation = r.op,
        .scope = scope,
        .deadline_ns = deadline_ns,
    };
    engine_result res;
    info->engine_called = true;
    cw_result er = engine_mutate(cfg, &ereq, &res);
    if (er == CW_ETIMEOUT) {
        snprintf(info->error, sizeof info->error,
                 "the request's timeout passed while the webhook worked on it");
        out->http_status = 503;
        return CW_OK;
    }
    if (er != CW_OK)
        return CW_ENOMEM;
    switch (res.outcome) {
    case ENGINE_SKIPPED:
        info->result = METRICS_RESULT_SKIPPED;
        info->skip_reason = res.skip_reason;
        break;
    case ENGINE_ALLOWED:
        info->patch_ops = res.patch_ops;
        info->result = info->patch_ops ? METRICS_RESULT_MUTATED : METRICS_RESULT_UNCHANGED;
        break;
    case ENGINE_DENIED:
        info->result = METRICS_RESULT_DENIED;
        info->deny_reason = res.deny_reason;
        info->deny_code = res.code;
        break;
    }
    info->runtime_class_set = res.runtime_class_set;
    info->volumes_replaced = res.volumes_replaced;
    info->secrets_mounted = res.secrets_mounted;
    if (res.initdata_document) {
        snprintf(info->initdata_document, sizeof info->initdata_document, "%s",
                 res.initdata_document);
        snprintf(info->initdata_digest, sizeof info->initdata_digest, "%s", res.initdata_digest);
        info->initdata_set = res.initdata_set;
    }
    info->warnings = res.warning_count;
    cw_result rc = encode_engine(o, &r, &res);
    engine_result_clear(&res);
    return rc;
}

/* True when every byte of s[0..n) is JSON whitespace (RFC 8259 §2). */
static bool only_whitespace(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
            return false;
    return true;
}

cw_result admission_review(const config *cfg, engine_scope scope, const char *body, size_t len,
                           admission_response *out)
{
    return admission_review_until(cfg, scope, body, len, 0, out);
}

cw_result admission_review_until(const config *cfg, engine_scope scope, const char *body,
                                 size_t len, uint64_t deadline_ns, admission_response *out)
{
    memset(out, 0, sizeof *out);
    outbuf o = {0};
    cw_result rc = CW_OK;
    bool arena = arena_hooks_installed();
    if (arena)
        arena_begin();

    const char *end = NULL;
    char nul_path[JSON_NUL_PATH_MAX + 1];
    /* Not null-terminated mode: the body is length-bounded; trailing bytes other than
     * whitespace (garbage, a second document, an embedded NUL) are checked below. */
    cJSON *root = cJSON_ParseWithLengthOpts(body, len, &end, 0);
    /* The parse, the engine and the patch encoding all allocate from the arena: every
     * cJSON allocation of this request is released at once by arena_end. */
    if (!root && arena && arena_alloc_failed()) {
        /* cJSON returns NULL for both malformed input and allocation failure; only the hooks
         * can tell them apart. A valid review must not get a 400 "not valid JSON" (logged and
         * counted as a bad client) when the server is out of memory. Without the hooks
         * (tests, fuzzing) an out-of-memory parse still reads as a 400. */
        rc = CW_ENOMEM;
    } else if (!root || !end || !only_whitespace(end, len - (size_t)(end - body))) {
        snprintf(out->info.error, sizeof out->info.error, "body is not valid JSON");
        out->http_status = 400;
    } else if (json_nul_find(body, len, nul_path, sizeof nul_path)) {
        /* cJSON cut that string short: nothing read from it may be acted on or echoed. */
        snprintf(out->info.error, sizeof out->info.error,
                 "%s holds a NUL character (\\u0000), which the webhook refuses", nul_path);
        out->http_status = 400;
    } else {
        rc = answer(cfg, scope, deadline_ns, root, out, &o);
    }
    /* With the arena every node of the request is released at once by arena_end: walking the
     * tree to free it node by node would only cost time. */
    if (arena)
        arena_end();
    else
        cJSON_Delete(root);
    if (rc != CW_OK)
        goto fail;

    if (out->http_status == 400 || out->http_status == 503) {
        free(o.buf);
        o.buf = admission_error_body(out->info.error, &o.len);
        if (!o.buf) {
            rc = CW_ENOMEM;
            goto fail;
        }
    }
    out->body = o.buf;
    out->len = o.len;
    return CW_OK;
fail:
    free(o.buf);
    out->body = NULL;
    out->len = 0;
    return rc;
}

void admission_response_clear(admission_response *out)
{
    free(out->body);
    out->body = NULL;
    out->len = 0;
}
