#include "admission.h"

#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "b64.h"
#include "buf.h"
#include "json_nul.h"
#include "json_prune.h"
#include "jsonesc.h"
#include "jsonutil.h"
#include "review_fields.h"

CW_MUST_USE static cw_result add_string(buf *o, const char *s)
{
    return jsonesc_append(o, s, strlen(s));
}

CW_MUST_USE static cw_result add_error(buf *o, const char *message)
{
    CW_GUARD(buf_adds(o, "{\"error\":"));
    CW_GUARD(add_string(o, message));
    return buf_addc(o, '}');
}

char *admission_error_body(const char *message, size_t *len)
{
    buf o;
    buf_init(&o, ADMISSION_ANSWER_MAX);
    if (add_error(&o, message) != CW_OK) {
        buf_free(&o);
        return NULL;
    }
    return buf_take(&o, len);
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

CW_MUST_USE static cw_result decode(cJSON *root, review *r, cw_error *err)
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

static void fill_identity(admission_decision *d, const review *r)
{
    d->is_review = true;
    copy_field(d->uid, sizeof d->uid, r->uid);
    copy_field(d->kind, sizeof d->kind, r->kind);
    copy_field(d->operation, sizeof d->operation, r->operation);
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
    copy_field(d->namespace, sizeof d->namespace, ns);
    copy_field(d->name, sizeof d->name, name);
}

/* ---- the answer ---- */

/* What the answer needs of the engine's work, none of it in the request's arena: the arena
 * (the parsed review, the patch as a tree, the values the check applied) is released before
 * the answer is written, so that the answer and its base64 never live beside them. */
typedef struct answer_parts {
    engine_result res; /* warnings and the patch's text owned; its tree and record released */
    char *record;      /* owned (malloc): the record, MUTATED only */
} answer_parts;

static void parts_clear(answer_parts *p)
{
    engine_result_clear(&p->res);
    free(p->record);
    p->record = NULL;
}

/* Takes what the answer needs out of the engine's result into *parts, outside the arena. */
CW_MUST_USE static cw_result take_parts(answer_parts *parts)
{
    engine_result *res = &parts->res;
    cw_result rc = CW_OK;
    if (res->decision.outcome == ENGINE_MUTATED && res->record &&
        !(parts->record = strdup(res->record)))
        rc = CW_ENOMEM;
    /* Released here in every case: arena memory must not reach a free after arena_end. */
    cJSON_Delete(res->patch);
    cJSON_free(res->record);
    res->patch = NULL;
    res->record = NULL;
    return rc;
}

/* Bytes of the answer's fixed text: its keys, punctuation and the status code. */
#define ANSWER_FIXED_MAX 256

CW_MUST_USE static cw_result write_answer(buf *o, const admission_decision *d,
                                          const answer_parts *parts)
{
    const engine_decision *e = &d->engine;
    CW_GUARD(buf_adds(o, "{\"apiVersion\":\"" ADMISSION_API_VERSION "\",\"kind\":\"" ADMISSION_KIND
                         "\",\"response\":{\"uid\":"));
    CW_GUARD(add_string(o, d->uid));
    if (e->outcome == ENGINE_DENIED) {
        CW_GUARD(buf_addf(o, ",\"allowed\":false,\"status\":{\"code\":%d,\"message\":",
                          e->code < 400 ? 400 : e->code));
        CW_GUARD(add_string(o, e->message));
        CW_GUARD(buf_addc(o, '}'));
    } else {
        CW_GUARD(buf_adds(o, ",\"allowed\":true"));
    }
    if (e->outcome == ENGINE_MUTATED && parts->res.patch_text) {
        CW_GUARD(buf_adds(o, ",\"patchType\":\"JSONPatch\",\"patch\":\""));
        CW_GUARD(b64_encode(o, parts->res.patch_text, parts->res.patch_len, B64_STD));
        CW_GUARD(buf_addc(o, '"'));
    }
    if (e->warning_count > 0) {
        CW_GUARD(buf_adds(o, ",\"warnings\":["));
        for (size_t i = 0; i < e->warning_count; i++) {
            if (i)
                CW_GUARD(buf_addc(o, ','));
            CW_GUARD(add_string(o, parts->res.warnings[i]));
        }
        CW_GUARD(buf_addc(o, ']'));
    }
    if (parts->record && e->outcome == ENGINE_MUTATED) {
        CW_GUARD(buf_adds(o, ",\"auditAnnotations\":{\"" ADMISSION_AUDIT_KEY "\":"));
        CW_GUARD(add_string(o, parts->record));
        CW_GUARD(buf_addc(o, '}'));
    }
    return buf_adds(o, "}}");
}

/* The answer of a review the engine decided: it reads the decision and what was taken of the
 * engine's output. The buffer is sized once, with room for the longest escapes, so that
 * writing it never reallocates; near the cap that room is not asked for, and the writes say
 * whether the answer fits. */
CW_MUST_USE static cw_result encode(buf *o, const admission_decision *d, const answer_parts *parts)
{
    const engine_decision *e = &d->engine;
    size_t escaped = strlen(d->uid) + (e->outcome == ENGINE_DENIED ? strlen(e->message) : 0);
    for (size_t i = 0; i < e->warning_count; i++)
        escaped += strlen(parts->res.warnings[i]) + 3; /* quotes and comma */
    if (parts->record && e->outcome == ENGINE_MUTATED)
        escaped += strlen(parts->record) + 2;
    size_t room = ANSWER_FIXED_MAX + b64_encoded_len(parts->res.patch_len, B64_STD) + 1;
    size_t left = o->max - o->len;
    if (room <= left && escaped <= (left - room) / JSONESC_BYTE_MAX &&
        !buf_reserve(o, room + escaped * JSONESC_BYTE_MAX))
        return buf_status(o);
    return write_answer(o, d, parts);
}

/* Decides the review: a 400 or 503 in out, or the engine's decision in out and what the
 * answer needs of its work in *parts (*decided). */
CW_MUST_USE static cw_result answer(const config *cfg, engine_scope scope, uint64_t deadline_ns,
                                    cJSON *root, const char *dropped_dup, size_t patch_max,
                                    admission_response *out, answer_parts *parts, bool *decided)
{
    admission_decision *d = &out->decision;
    cw_error err = {{0}};
    review r = {0};
    bool oom = false;

    /* A duplicate the parse found where it dropped the values, else one in the tree. */
    const char *dup = dropped_dup[0] ? dropped_dup : jsonutil_find_duplicate_key(root, &oom);
    if (oom)
        return CW_ENOMEM;
    if (dup) {
        snprintf(d->error, sizeof d->error, "duplicate key \"%.64s\"", dup);
        out->http_status = 400;
        return CW_OK;
    }
    if (decode(root, &r, &err) != CW_OK) {
        memcpy(d->error, err.msg, sizeof d->error);
        out->http_status = 400;
        return CW_OK;
    }
    fill_identity(d, &r);
    out->http_status = 200;

    engine_request ereq = {
        .object = r.object,
        .kind = r.kind,
        .group = r.group,
        .version = r.version,
        .namespace = r.namespace && r.namespace[0] ? r.namespace : NULL,
        .operation = r.op,
        .scope = scope,
        .deadline_ns = deadline_ns,
        .patch_text_max = patch_max,
    };
    cw_result rc = engine_mutate(cfg, &ereq, &parts->res);
    if (rc == CW_ELIMIT) {
        /* The patch outgrew what the request's charge leaves for it: a denial that says what
         * to do, as the engine's for too many operations, not a 500. */
        *decided = true;
        d->engine = (engine_decision){.outcome = ENGINE_DENIED, .reason = "too_large", .code = 400};
        snprintf(d->engine.message, sizeof d->engine.message,
                 "making this object confidential needs a patch of more than %zu bytes, more "
                 "than the webhook works on for an object of this size (every sealed secret is "
                 "mounted in every container); name the containers that need them with "
                 "annotation %s",
                 patch_max, ENGINE_ANN_SEALED_CONTAINERS);
        return CW_OK;
    }
    if (rc == CW_ETIMEOUT) {
        snprintf(d->error, sizeof d->error,
                 "the request's timeout passed while the webhook worked on it");
        out->http_status = 503;
        return CW_OK;
    }
    CW_GUARD(rc);
    *decided = true;
    d->engine = parts->res.decision;
    return take_parts(parts);
}

/* The bytes of patch a review of len bytes may get: what its charge leaves after its parsed
 * tree (the arena's use so far; the body is freed before the engine runs), at
 * ADMISSION_MEMORY_PER_PATCH_BYTE, at least ADMISSION_PATCH_FLOOR and never past
 * ADMISSION_ANSWER_MAX. Sealed secrets mounted in thousands of containers make a patch a
 * hundred times the body: bounded so, the work of a small body cannot take the memory of the
 * requests beside it. */
static size_t patch_room(size_t len)
{
    size_t charge = ADMISSION_MEMORY_FOR(len), used = arena_used();
    size_t room = charge > used ? (charge - used) / ADMISSION_MEMORY_PER_PATCH_BYTE : 0;
    if (room < ADMISSION_PATCH_FLOOR)
        room = ADMISSION_PATCH_FLOOR;
    return room < ADMISSION_ANSWER_MAX ? room : ADMISSION_ANSWER_MAX;
}

/* The most the parse of a review of len bytes may take: its charge, less the body (alive
 * until the parse ends) and as much again for the rest of its work. */
static size_t parse_limit(size_t len)
{
    return ADMISSION_MEMORY_FOR(len) - 2 * len;
}

/* The answer to a review whose parse needed more than parse_limit (arena_limit). */
static void too_dense(admission_response *out, size_t len)
{
    snprintf(out->decision.error, sizeof out->decision.error,
             "the review needs more than the %zu KiB the webhook grants the parse of a body of %zu "
             "bytes: no object the API server sends is that dense",
             parse_limit(len) >> 10, len);
    out->http_status = 413;
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

/* The review of body[0..len); release, when not NULL, is the buffer holding those bytes,
 * freed once nothing reads them. */
CW_MUST_USE static cw_result review_text(const config *cfg, engine_scope scope, const char *body,
                                         size_t len, buf *release, uint64_t deadline_ns,
                                         admission_response *out)
{
    memset(out, 0, sizeof *out);
    buf o;
    buf_init(&o, ADMISSION_ANSWER_MAX);
    cw_result rc = CW_OK;
    answer_parts parts = {0};
    bool decided = false;
    bool arena = arena_hooks_installed();
    if (arena) {
        /* The tree of a body denser than any the API server sends is refused (413) before
         * it takes the memory of others. */
        arena_begin();
        arena_limit(parse_limit(len));
    }

    char nul_path[JSON_NUL_PATH_MAX + 1];
    json_text_fault fault;
    /* What the webhook never reads (the old object, managedFields, most of each container) is
     * checked and dropped as it is parsed: review_fields.h. Length-bounded: trailing bytes
     * other than whitespace (garbage, a second document, an embedded NUL) are checked below. */
    json_prune_result pruned;
    cJSON *root = json_prune_parse(body, len, &review_fields_rules, &pruned);
    const char *end = pruned.end;
    if (arena)
        arena_limit(0); /* the engine's work is bounded by its own caps (JSONPATCH_OPS_MAX) */
    /* The parse, the engine and the patch encoding all allocate from the arena: every
     * cJSON allocation of this request is released at once by arena_end. */
    if (!root && arena && arena_over_limit()) {
        too_dense(out, len);
    } else if (!root && (pruned.oom || (arena && arena_alloc_failed()))) {
        /* cJSON returns NULL for both malformed input and allocation failure; only the hooks
         * can tell them apart. A valid review must not get a 400 "not valid JSON" (logged and
         * counted as a bad client) when the server is out of memory. Without the hooks
         * (tests, fuzzing) an out-of-memory parse still reads as a 400. */
        rc = CW_ENOMEM;
    } else if (!root || !end || !only_whitespace(end, len - (size_t)(end - body))) {
        snprintf(out->decision.error, sizeof out->decision.error, "body is not valid JSON");
        out->http_status = 400;
    } else if ((fault = json_text_check(body, len, nul_path, sizeof nul_path)) != JSON_TEXT_OK) {
        /* cJSON cut that string short, or took text that is not JSON (RFC 8259 §7, §8.1):
         * nothing read from it may be acted on or echoed. */
        snprintf(out->decision.error, sizeof out->decision.error,
                 "%s holds %s, which the webhook refuses", nul_path, json_text_fault_text(fault));
        out->http_status = 400;
    } else {
        /* cJSON copied every string it kept: the body is read no more. */
        if (release)
            buf_free(release);
        rc = answer(cfg, scope, deadline_ns, root, pruned.duplicate, patch_room(len), out, &parts,
                    &decided);
    }
    /* With the arena every node of the request is released at once by arena_end: walking the
     * tree to free it node by node would only cost time. Released before the answer is
     * written: nothing of it is read there. */
    if (arena)
        arena_end();
    else
        cJSON_Delete(root);
    if (rc == CW_OK && decided)
        rc = encode(&o, &out->decision, &parts);
    parts_clear(&parts);
    if (rc != CW_OK)
        goto fail;

    if (out->http_status != 200) {
        buf_reset(&o);
        rc = add_error(&o, out->decision.error);
        if (rc != CW_OK)
            goto fail;
    }
    out->body = buf_take(&o, &out->len);
    if (out->body)
        return CW_OK;
    rc = CW_ENOMEM;
fail:
    buf_free(&o);
    out->body = NULL;
    out->len = 0;
    return rc;
}

cw_result admission_review_until(const config *cfg, engine_scope scope, const char *body,
                                 size_t len, uint64_t deadline_ns, admission_response *out)
{
    return review_text(cfg, scope, body, len, NULL, deadline_ns, out);
}

cw_result admission_review_body(const config *cfg, engine_scope scope, buf *body,
                                uint64_t deadline_ns, admission_response *out)
{
    return review_text(cfg, scope, body->data ? body->data : "", body->len, body, deadline_ns, out);
}

void admission_response_clear(admission_response *out)
{
    free(out->body);
    out->body = NULL;
    out->len = 0;
}
