/* engine: selection and mutation of SPEC §1-§2. See engine.h for the contract.
 *
 * One planning function walks the PodSpec and emits targeted operations. It runs twice per
 * mutated object: once to build the patch, and once, after the patch has been applied, in
 * counting mode on the result, where it must find nothing left to do. That second pass is the
 * check that every returned patch applies and reaches the wanted state (SPEC §3), and it is
 * also what makes reinvocation idempotent.
 *
 * The steps live in files of one concern each, sharing the plan (engine_plan.h): this file has
 * the driver (engine_mutate, the check pass), the plan's shared steps, the object's shape, the
 * annotations read and SPEC §2.1; engine_index.c the per-pass indexes; engine_volumes.c §2.2
 * and §2.3; engine_preflight.c §2.6; engine_record.c §2.4, §2.5 and §2.7. */
#include "engine.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine_plan.h"
#include "namelist.h"

#define NAMES_SHOWN_MAX 200 /* bytes of a list of names quoted in a denial ("a, b, ...") */

/* Where the PodSpec lives in each handled kind. */
typedef enum spec_location {
    SPEC_NONE,
    SPEC_POD,         /* spec */
    SPEC_TEMPLATE,    /* spec.template.spec */
    SPEC_JOBTEMPLATE, /* spec.jobTemplate.spec.template.spec */
} spec_location;

static void plan_init(plan *p, const config *cfg, engine_result *res, const inputs *in,
                      cJSON *object)
{
    memset(p, 0, offsetof(plan, spec_path));
    p->cfg = cfg;
    p->res = res;
    p->in = in;
    p->object = object;
    jsonpatch_path_init(&p->spec_path);
    jsonpatch_path_init(&p->initdata_path);
    strmap_init(&p->index);
}

cw_result plan_deny(plan *p, int code, const char *reason, const char *fmt, ...)
{
    if (p->denied)
        return CW_OK;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->deny.msg, sizeof p->deny.msg, fmt, ap);
    va_end(ap);
    p->denied = true;
    p->deny_code = code;
    p->deny_reason = reason;
    return CW_OK;
}

cw_result plan_deny_too_many(plan *p)
{
    return plan_deny(p, 400, "too_large",
                     "making this object confidential needs more than %d changes (every sealed "
                     "secret is mounted in every container); name the containers that need them "
                     "with annotation %s",
                     JSONPATCH_OPS_MAX, ENGINE_ANN_SEALED_CONTAINERS);
}

cw_result plan_emit(plan *p, const char *op, const jsonpatch_path *path, cJSON *value)
{
    if (++p->ops > JSONPATCH_OPS_MAX) {
        cJSON_Delete(value);
        return plan_deny_too_many(p);
    }
    if (!plan_building(p)) {
        cJSON_Delete(value);
        return CW_OK;
    }
    if (!jsonpatch_path_ok(path)) {
        cJSON_Delete(value);
        return plan_deny(p, 400, "too_large", "object path too long");
    }
    cw_error err;
    cw_result r = jsonpatch_text_append(p->text, op, path, value, &err);
    if (r == CW_ELIMIT)
        return r; /* the text would pass engine_request.patch_text_max */
    if (r == CW_ENOMEM)
        return r;
    if (r)
        return plan_deny(p, 500, "internal", "internal error: %s", err.msg);
    return CW_OK;
}

cw_result plan_warn(plan *p, const char *fmt, ...)
{
    if (!p->res || p->res->decision.warning_count >= ENGINE_WARNINGS_MAX)
        return CW_OK;
    char buf[ENGINE_WARNING_MAX + 1];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    char *w = strdup(buf);
    if (!w)
        return CW_ENOMEM; /* a warning the user must see is never dropped silently */
    p->res->warnings[p->res->decision.warning_count++] = w;
    return CW_OK;
}

/* ---- object shape --------------------------------------------------------------------- */

static spec_location locate_spec(const char *group, const char *version, const char *kind)
{
    if (strcmp(group, "") == 0 && strcmp(version, "v1") == 0 && strcmp(kind, "Pod") == 0)
        return SPEC_POD;
    if (strcmp(group, "kubeflow.org") == 0 && strcmp(kind, "Notebook") == 0 &&
        (strcmp(version, "v1") == 0 || strcmp(version, "v1beta1") == 0 ||
         strcmp(version, "v1alpha1") == 0))
        return SPEC_TEMPLATE;
    if (strcmp(group, "apps") == 0 && strcmp(version, "v1") == 0 &&
        (strcmp(kind, "Deployment") == 0 || strcmp(kind, "StatefulSet") == 0 ||
         strcmp(kind, "DaemonSet") == 0 || strcmp(kind, "ReplicaSet") == 0))
        return SPEC_TEMPLATE;
    if (strcmp(group, "batch") == 0 && strcmp(version, "v1") == 0) {
        if (strcmp(kind, "Job") == 0)
            return SPEC_TEMPLATE;
        if (strcmp(kind, "CronJob") == 0)
            return SPEC_JOBTEMPLATE;
    }
    return SPEC_NONE;
}

/* Splits "group/version" (or "v1") into the caller's buffers. */
static void split_api_version(const char *api_version, char *group, size_t gcap, char *version,
                              size_t vcap)
{
    group[0] = version[0] = '\0';
    if (!api_version)
        return;
    const char *slash = strchr(api_version, '/');
    if (!slash) {
        snprintf(version, vcap, "%s", api_version);
        return;
    }
    snprintf(group, gcap, "%.*s", (int)(slash - api_version), api_version);
    snprintf(version, vcap, "%s", slash + 1);
}

/* The pod template object (holding metadata and spec) of a workload, or NULL. */
static cJSON *find_template(cJSON *object, spec_location loc)
{
    cJSON *spec = jsonutil_member(object, "spec");
    if (loc == SPEC_JOBTEMPLATE)
        spec = jsonutil_member(jsonutil_member(spec, "jobTemplate"), "spec");
    if (loc == SPEC_POD)
        return NULL;
    return jsonutil_member(spec, "template");
}

static cJSON *find_spec(cJSON *object, spec_location loc, jsonpatch_path *path)
{
    jsonpatch_path_init(path);
    if (loc == SPEC_POD) {
        jsonpatch_path_key(path, "spec");
        return jsonutil_member(object, "spec");
    }
    jsonpatch_path_key(path, "spec");
    if (loc == SPEC_JOBTEMPLATE) {
        jsonpatch_path_key(path, "jobTemplate");
        jsonpatch_path_key(path, "spec");
    }
    jsonpatch_path_key(path, "template");
    jsonpatch_path_key(path, "spec");
    return jsonutil_member(find_template(object, loc), "spec");
}

/* Looks a key up in the template's metadata first (what the pods will carry), then in the
 * object's. Returns the member, or NULL. */
static cJSON *lookup_meta(cJSON *object, cJSON *template, const char *map, const char *key)
{
    cJSON *v = jsonutil_member(jsonutil_member(jsonutil_member(template, "metadata"), map), key);
    if (v)
        return v;
    return jsonutil_member(jsonutil_member(jsonutil_member(object, "metadata"), map), key);
}

/* "a, b, c": the allowed RuntimeClasses for denial messages, cut with ", ..." when long. */
static const char *allowed_classes(const config *cfg, char *buf, size_t cap)
{
    namelist l;
    namelist_init(&l, buf, cap);
    for (size_t i = 0; i < cfg->runtime_class_allowed.count; i++)
        namelist_add(&l, cfg->runtime_class_allowed.items[i]);
    return buf;
}

/* ---- annotations --------------------------------------------------------------------- */

/* Reads a string annotation; a non-string or oversized value is a 400 denial. */
CW_MUST_USE static cw_result read_annotation(plan *p, cJSON *object, cJSON *template,
                                             const char *key, const char **out)
{
    *out = NULL;
    cJSON *v = lookup_meta(object, template, "annotations", key);
    if (jsonutil_is_absent(v))
        return CW_OK;
    if (!cJSON_IsString(v))
        return plan_deny(p, 400, "annotation", "annotation %s must be a string", key);
    if (strlen(v->valuestring) > ENGINE_ANNOTATION_MAX)
        return plan_deny(p, 400, "annotation", "annotation %s is longer than %d bytes", key,
                         ENGINE_ANNOTATION_MAX);
    *out = v->valuestring;
    return CW_OK;
}

/* Parses a comma-separated list of DNS labels (volume or container names). */
CW_MUST_USE static cw_result parse_name_list(plan *p, const char *key, const char *list,
                                             char names[][K8S_DNS_LABEL_MAX + 1], size_t *count)
{
    *count = 0;
    const char *s = list;
    for (;;) {
        const char *end = strchr(s, ',');
        size_t len = end ? (size_t)(end - s) : strlen(s);
        const char *t = s;
        while (len > 0 && (*t == ' ' || *t == '\t')) {
            t++;
            len--;
        }
        while (len > 0 && (t[len - 1] == ' ' || t[len - 1] == '\t'))
            len--;
        if (len > 0) {
            if (!k8s_is_dns_label(t, len))
                return plan_deny(p, 400, "annotation",
                                 "annotation %s: \"%.*s\" is not a valid name (lowercase letters, "
                                 "digits and '-')",
                                 key, (int)(len > 63 ? 63 : len), t);
            if (*count >= NAME_LIST_MAX)
                return plan_deny(p, 400, "annotation", "annotation %s: more than %d names", key,
                                 NAME_LIST_MAX);
            memcpy(names[*count], t, len);
            names[*count][len] = '\0';
            (*count)++;
        }
        if (!end)
            return CW_OK;
        s = end + 1;
    }
}

CW_MUST_USE static cw_result read_inputs(plan *p, cJSON *object, cJSON *template, const char *ns,
                                         inputs *in)
{
    const config *cfg = p->cfg;
    const char *v;

    STEP(p, read_annotation(p, object, template, ENGINE_ANN_RUNTIME_CLASS, &v));
    if (v) {
        if (!k8s_is_dns_subdomain(v, strlen(v)))
            return plan_deny(p, 400, "annotation",
                             "annotation %s: \"%.63s\" is not a valid RuntimeClass name",
                             ENGINE_ANN_RUNTIME_CLASS, v);
        char allowed[NAMES_SHOWN_MAX];
        if (!config_strings_contains(&cfg->runtime_class_allowed, v))
            return plan_deny(p, 403, "runtime_class",
                             "annotation %s asks for RuntimeClass \"%.63s\", which is not allowed "
                             "for Confidential Containers (allowed: %s)",
                             ENGINE_ANN_RUNTIME_CLASS, v,
                             allowed_classes(cfg, allowed, sizeof allowed));
        in->runtime_class_override = v;
    }

    STEP(p, read_annotation(p, object, template, ENGINE_ANN_KEEP_VOLUMES, &v));
    if (v)
        STEP(p, parse_name_list(p, ENGINE_ANN_KEEP_VOLUMES, v, in->keep, &in->keep_count));

    STEP(p, read_annotation(p, object, template, ENGINE_ANN_SEALED_CONTAINERS, &v));
    if (v)
        STEP(p,
             parse_name_list(p, ENGINE_ANN_SEALED_CONTAINERS, v, in->targets, &in->target_count));

    cw_error err;
    /* The namespace's entries were parsed and merged when the config was loaded. */
    const config_namespace_secrets *configured = config_sealed_namespace(cfg, ns);
    for (size_t i = 0; configured && i < configured->parsed_count; i++) {
        const sealed_ref *e = &configured->parsed[i];
        /* Both fit: they were parsed into a sealed_entry at load. */
        memcpy(in->sealed[i].secret, e->secret, strlen(e->secret) + 1);
        memcpy(in->sealed[i].path, e->path, strlen(e->path) + 1);
        in->sealed_count = i + 1;
    }
    STEP(p, read_annotation(p, object, template, ENGINE_ANN_SEALED, &v));
    if (v && sealed_entries_parse(v, cfg->sealed_mount_root, in->sealed, SEALED_ENTRIES_MAX,
                                  &in->sealed_count, &err))
        return plan_deny(p, 400, "annotation", "annotation %s: %s", ENGINE_ANN_SEALED, err.msg);

    STEP(p, read_annotation(p, object, template, INITDATA_ANN_PICK, &v));
    denial why;
    initdata_choose(cfg, ns, v, &in->initdata, &why);
    if (why.denied)
        return plan_deny(p, why.code, why.reason, "%s", why.message);

    in->podvm = config_podvm_profile_of(cfg, ns);

    cJSON *rec = jsonutil_member(
        jsonutil_member(jsonutil_member(object, "metadata"), "annotations"), ENGINE_ANN_RECORD);
    in->prior->text = cJSON_IsString(rec) ? rec->valuestring : NULL;
    return CW_OK;
}

/* ---- 2.1 runtime class ---------------------------------------------------------------- */

CW_MUST_USE static cw_result plan_runtime_class(plan *p)
{
    const config *cfg = p->cfg;
    const char *want =
        p->in->runtime_class_override ? p->in->runtime_class_override : cfg->runtime_class;
    cJSON *cur = jsonutil_member(p->spec, "runtimeClassName");
    if (!jsonutil_is_absent(cur)) {
        if (!cJSON_IsString(cur))
            return plan_deny(p, 400, "invalid_object", "spec.runtimeClassName must be a string");
        const char *name = cur->valuestring;
        char allowed[NAMES_SHOWN_MAX];
        if (!config_strings_contains(&cfg->runtime_class_allowed, name))
            return plan_deny(p, 403, "runtime_class",
                             "runtimeClassName \"%.63s\" would run this workload outside a "
                             "confidential VM; objects labelled for Confidential Containers must "
                             "use an allowed RuntimeClass (%s) or none",
                             name, allowed_classes(cfg, allowed, sizeof allowed));
        if (p->in->runtime_class_override && strcmp(name, want) != 0)
            return plan_deny(p, 400, "annotation",
                             "annotation %s asks for \"%.63s\" but runtimeClassName is \"%.63s\"",
                             ENGINE_ANN_RUNTIME_CLASS, want, name);
        p->runtime_class = name;
        p->runtime = config_runtime_of(cfg, name);
        return CW_OK;
    }
    p->runtime_class = want;
    p->runtime = config_runtime_of(cfg, want);
    jsonpatch_path path;
    path_at_spec(&path, p);
    jsonpatch_path_key(&path, "runtimeClassName");
    cJSON *value = cJSON_CreateString(want);
    if (!value)
        return CW_ENOMEM;
    p->record_class = want;
    if (p->res)
        p->res->decision.runtime_class_set = true;
    return plan_emit(p, "add", &path, value);
}

/* ---- driver --------------------------------------------------------------------------- */

/* SPEC §2.5: Pods and Notebooks carry the annotation themselves (the notebook controller copies
 * a Notebook's annotations to its pod); workloads in their pod template. */
static void initdata_target(plan *p, spec_location loc, const char *kind)
{
    jsonpatch_path_init(&p->initdata_path);
    p->initdata_target = p->object;
    if (loc == SPEC_POD || (kind && strcmp(kind, "Notebook") == 0))
        return;
    p->initdata_target = find_template(p->object, loc);
    jsonpatch_path_key(&p->initdata_path, "spec");
    if (loc == SPEC_JOBTEMPLATE) {
        jsonpatch_path_key(&p->initdata_path, "jobTemplate");
        jsonpatch_path_key(&p->initdata_path, "spec");
    }
    jsonpatch_path_key(&p->initdata_path, "template");
}

/* One planning pass. SPEC §2.6's preflight runs in the building pass only: it emits no
 * operation, so the check pass (which counts operations left to do) has nothing to find in it,
 * and the object it would judge differs from the one already judged only by the webhook's own
 * changes. */
CW_MUST_USE static cw_result run_plan(plan *p)
{
    cJSON *volumes = jsonutil_member(p->spec, "volumes");
    p->volumes_exist = cJSON_IsArray(volumes);
    cw_result r;
    if ((r = plan_index_build(p)) || p->denied || (r = plan_runtime_class(p)) || p->denied ||
        (plan_building(p) && ((r = plan_preflight(p)) || p->denied)) || (r = plan_storage(p)) ||
        p->denied || (r = plan_sealed(p)) || p->denied || (r = plan_check_keep_list(p)) ||
        (r = plan_initdata(p)) || p->denied || (r = plan_podvm(p)) || p->denied)
        goto done;
    if (plan_building(p) && p->ops > 0)
        r = plan_record(p);
done:
    plan_index_clear(p);
    return r;
}

typedef enum label_state { LABEL_ABSENT, LABEL_TRUE, LABEL_FALSE, LABEL_OTHER } label_state;

/* The selection label of o (an object or a pod template). */
static label_state label_of(cJSON *o, const char *key)
{
    cJSON *v = jsonutil_member(jsonutil_member(jsonutil_member(o, "metadata"), "labels"), key);
    if (jsonutil_is_absent(v))
        return LABEL_ABSENT;
    if (!cJSON_IsString(v))
        return LABEL_OTHER;
    if (strcmp(v->valuestring, "true") == 0)
        return LABEL_TRUE;
    if (strcmp(v->valuestring, "false") == 0)
        return LABEL_FALSE;
    return LABEL_OTHER;
}

/* The bytes of keys and string values of o's metadata.annotations, as the API server
 * counts them against its total. */
static size_t annotation_bytes(const cJSON *o)
{
    size_t n = 0;
    cJSON *map = jsonutil_member(jsonutil_member(o, "metadata"), "annotations");
    for (const cJSON *a = cJSON_IsObject(map) ? map->child : NULL; a; a = a->next)
        n += strlen(a->string) + (cJSON_IsString(a) ? strlen(a->valuestring) : 0);
    return n;
}

/* Whether the annotations of object and of its pod template (may be NULL) each stay within
 * the API server's total; denies when not. with_ours: the webhook's own (initdata, record)
 * are among them. */
static bool annotations_fit(plan *p, const cJSON *object, const cJSON *template, bool with_ours)
{
    if (annotation_bytes(object) <= ENGINE_ANNOTATIONS_TOTAL_MAX &&
        annotation_bytes(template) <= ENGINE_ANNOTATIONS_TOTAL_MAX)
        return true;
    plan_deny(p, 400, "too_large",
              with_ours
                  ? "with the webhook's annotations (initdata, record) this object's annotations "
                    "would hold more than %d bytes, more than the API server accepts"
                  : "the annotations of this object hold more than %d bytes, more than the API "
                    "server accepts",
              ENGINE_ANNOTATIONS_TOTAL_MAX);
    return false;
}

/* Whether the caller's deadline has passed: the API server has given up on the answer, and
 * the worker is better spent on requests it still waits for. */
static bool past_deadline(const engine_request *req)
{
    if (!req->deadline_ns)
        return false;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec >= req->deadline_ns;
}

static void skip(engine_result *res, const char *reason)
{
    res->decision.outcome = ENGINE_SKIPPED;
    res->decision.reason = reason;
}

/* Makes the plan's denial the result: nothing of the work done so far is answered. */
static void finish_denied(engine_result *res, const plan *p)
{
    engine_result_clear(res);
    engine_decision *d = &res->decision;
    *d =
        (engine_decision){.outcome = ENGINE_DENIED, .reason = p->deny_reason, .code = p->deny_code};
    snprintf(d->message, sizeof d->message, "%s", p->deny.msg);
}

static const char *const outcome_names[ENGINE_OUTCOME_COUNT] = {
    [ENGINE_MUTATED] = "mutated", [ENGINE_UNCHANGED] = "unchanged", [ENGINE_SKIPPED] = "skipped",
    [ENGINE_DENIED] = "denied",   [ENGINE_ERROR] = "error",
};

const char *engine_outcome_name(engine_outcome outcome)
{
    return (unsigned)outcome < ENGINE_OUTCOME_COUNT ? outcome_names[outcome] : "error";
}

cw_result engine_mutate(const config *cfg, const engine_request *req, engine_result *res)
{
    /* Not the whole result: the warnings' slots are written before they are counted. */
    memset(res, 0, offsetof(engine_result, warnings));
    res->record = NULL;
    /* SPEC §3: DELETE and CONNECT are admitted unchanged; decided here and nowhere else. */
    if (req->operation == ENGINE_OP_OTHER) {
        skip(res, "operation not mutated");
        return CW_OK;
    }
    plan p;
    plan_init(&p, cfg, res, NULL, NULL);
    inputs *in = NULL;
    cw_result r = CW_OK;
    cJSON *object = req->object;
    if (!cJSON_IsObject(object)) {
        plan_deny(&p, 400, "invalid_object", "the object is not a JSON object");
        finish_denied(res, &p);
        return CW_OK;
    }

    char group[K8S_DNS_SUBDOMAIN_MAX + 1], version[K8S_DNS_LABEL_MAX + 1]; /* cut when longer */
    split_api_version(jsonutil_string(object, "apiVersion"), group, sizeof group, version,
                      sizeof version);
    const char *kind = req->kind ? req->kind : jsonutil_string(object, "kind");
    spec_location loc = locate_spec(req->group ? req->group : group,
                                    req->version ? req->version : version, kind ? kind : "");
    if (loc == SPEC_NONE) {
        skip(res, "kind not handled");
        return CW_OK;
    }
    if (loc == SPEC_POD && req->operation != ENGINE_OP_CREATE) {
        skip(res, "pod spec is immutable after creation");
        return CW_OK;
    }

    /* SPEC §1: "false" opts out (on a workload's template too), "true" opts in, any other
     * value is not selected; on the namespace path an object without the label is in. */
    cJSON *template = find_template(object, loc);
    label_state own = label_of(object, cfg->selector_label);
    label_state tpl = template ? label_of(template, cfg->selector_label) : LABEL_ABSENT;
    if (own == LABEL_FALSE || tpl == LABEL_FALSE) {
        skip(res, "opted out by label");
        return CW_OK;
    }
    bool opted_in = own == LABEL_TRUE || tpl == LABEL_TRUE;
    if (!opted_in && (own == LABEL_OTHER || tpl == LABEL_OTHER)) {
        skip(res, "label value is neither \"true\" nor \"false\"");
        return CW_OK;
    }
    if (req->scope == ENGINE_SCOPE_OBJECT && !opted_in) {
        skip(res, "not labelled");
        return CW_OK;
    }
    const char *ns = req->namespace
                         ? req->namespace
                         : jsonutil_string(jsonutil_member(object, "metadata"), "namespace");
    if (ns && config_strings_contains(&cfg->exclude_namespaces, ns)) {
        skip(res, "namespace excluded");
        return CW_OK;
    }
    if (lookup_meta(object, NULL, "annotations", ENGINE_ANN_MIRROR)) {
        skip(res, "mirror pod");
        return CW_OK;
    }
    /* An object being deleted only sheds finalizers: denying that would block deletion. */
    if (!jsonutil_is_absent(
            jsonutil_member(jsonutil_member(object, "metadata"), "deletionTimestamp"))) {
        skip(res, "being deleted");
        return CW_OK;
    }

    cJSON *metadata = jsonutil_member(object, "metadata");
    if (!jsonutil_is_absent(metadata) &&
        (!cJSON_IsObject(metadata) ||
         !(jsonutil_is_absent(jsonutil_member(metadata, "annotations")) ||
           cJSON_IsObject(jsonutil_member(metadata, "annotations"))))) {
        plan_deny(&p, 400, "invalid_object", "metadata and metadata.annotations must be objects");
        finish_denied(res, &p);
        return CW_OK;
    }
    /* What no real object can be: the API server refuses more annotation bytes than this
     * (apimachinery ValidateAnnotations), so work on such an object would be wasted. */
    if (!annotations_fit(&p, object, template, false)) {
        finish_denied(res, &p);
        return CW_OK;
    }
    p.object = object;
    p.spec = find_spec(object, loc, &p.spec_path);
    if (!cJSON_IsObject(p.spec)) {
        plan_deny(&p, 400, "invalid_object", "the object has no pod spec at %s",
                  loc == SPEC_POD ? "spec" : p.spec_path.buf);
        finish_denied(res, &p);
        return CW_OK;
    }

    /* inputs is large (entry buffers) and fully written by read_inputs: no zeroing. */
    in = malloc(sizeof *in);
    prior_record prior = {0};
    if (in) {
        in->runtime_class_override = NULL;
        in->keep_count = in->sealed_count = in->target_count = 0;
        in->prior = &prior;
    }
    /* The patch is built as text, without a tree of its operations: printed once, its values
     * then moved into the object by the check's apply. */
    p.text = jsonpatch_text_new(req->patch_text_max ? req->patch_text_max : ENGINE_PATCH_TREE_MAX);
    p.record_volumes = cJSON_CreateArray();
    p.record_secrets = cJSON_CreateArray();
    if (!in || !p.text || !p.record_volumes || !p.record_secrets) {
        r = CW_ENOMEM;
        goto fail;
    }
    p.in = in;
    p.share_values = req->patch_text_max != 0;
    initdata_target(&p, loc, kind);
    r = read_inputs(&p, object, template, ns, in);
    if (r == CW_OK && !p.denied)
        r = run_plan(&p);
    if (r == CW_OK && past_deadline(req))
        r = CW_ETIMEOUT;
    if (r != CW_OK)
        goto fail;
    if (p.denied) {
        finish_denied(res, &p);
        goto done;
    }
    res->decision.patch_ops = p.ops;
    res->decision.outcome = p.ops ? ENGINE_MUTATED : ENGINE_UNCHANGED;
    if (p.ops == 0) {
        if (!req->patch_text_max && !(res->patch = cJSON_CreateArray()))
            r = CW_ENOMEM;
        goto done;
    }

    /* Check: apply the patch to the object and plan again; nothing may be left to do. The
     * text is taken after the apply, which reads the paths from it. */
    cJSON *applied = object;
    cw_error err;
    r = jsonpatch_text_apply(&applied, p.text, &err);
    if (r == CW_ENOMEM)
        goto fail;
    if (r || applied != object) {
        plan_deny(&p, 500, "internal", "internal error: the webhook's patch does not apply (%s)",
                  r ? err.msg : "root replaced");
        finish_denied(res, &p);
        r = CW_OK;
        goto done;
    }
    r = jsonpatch_text_take(p.text, &res->patch_text, &res->patch_len);
    if (r != CW_OK)
        goto fail;
    if (!req->patch_text_max) {
        /* Offline callers take the patch as a tree: read back from its text. */
        res->patch = cJSON_ParseWithLength(res->patch_text, res->patch_len);
        free(res->patch_text);
        res->patch_text = NULL;
        res->patch_len = 0;
        if (!res->patch) {
            r = CW_ENOMEM;
            goto fail;
        }
    }
    /* What the webhook adds (initdata, the record of thousands of replaced volumes) counts
     * against the API server's total of annotation bytes too: past it the mutated object
     * would be refused after admission, with a less helpful message. */
    if (!annotations_fit(&p, object, find_template(object, loc), true)) {
        finish_denied(res, &p);
        goto done;
    }
    if (past_deadline(req)) {
        r = CW_ETIMEOUT;
        goto fail;
    }
    plan check;
    plan_init(&check, cfg, NULL, in, object);
    check.spec = find_spec(object, loc, &check.spec_path);
    initdata_target(&check, loc, kind);
    if (cJSON_IsObject(check.spec))
        r = run_plan(&check);
    else
        plan_deny(&check, 500, "internal", "the mutated object has no pod spec");
    if (r != CW_OK)
        goto fail;
    if (check.denied || check.ops != 0) {
        plan_deny(&p, 500, "internal",
                  "internal error: the mutated object is not in the wanted state (%s)",
                  check.denied ? check.deny.msg : "changes left to make");
        finish_denied(res, &p);
    }
    goto done;

fail:
    engine_result_clear(res);
done:
    jsonpatch_text_free(p.text);
    cJSON_Delete(p.record_volumes);
    cJSON_Delete(p.record_secrets);
    prior_record_free(&prior);
    free(in);
    return r;
}

void engine_result_clear(engine_result *res)
{
    cJSON_Delete(res->patch);
    free(res->patch_text);
    for (size_t i = 0; i < res->decision.warning_count; i++)
        free(res->warnings[i]);
    cJSON_free(res->record);
    memset(res, 0, offsetof(engine_result, warnings));
    res->record = NULL;
}
