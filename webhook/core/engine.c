/* engine: selection and mutation of SPEC §1-§2. See engine.h for the contract.
 *
 * One planning function walks the PodSpec and emits targeted operations. It runs twice per
 * mutated object: once to build the patch, and once, after the patch has been applied, in
 * counting mode on the result, where it must find nothing left to do. That second pass is the
 * check that every returned patch applies and reaches the wanted state (SPEC §3), and it is
 * also what makes reinvocation idempotent. */
#include "engine.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hash.h"
#include "initdata.h"
#include "jsonpatch.h"
#include "jsonutil.h"
#include "k8s_names.h"
#include "sealed_entries.h"
#include "strmap.h"

#define SEALED_VOLUME_PREFIX "coco-sealed-"
#define NAME_LIST_MAX ENGINE_ENTRIES_MAX
#define NAMES_SHOWN_MAX 200 /* bytes of a list of names quoted in a denial ("a, b, ...") */

/* Where the PodSpec lives in each handled kind. */
typedef enum spec_location {
    SPEC_NONE,
    SPEC_POD,         /* spec */
    SPEC_TEMPLATE,    /* spec.template.spec */
    SPEC_JOBTEMPLATE, /* spec.jobTemplate.spec.template.spec */
} spec_location;

/* The inputs read once from the object's annotations and the config. */
typedef struct inputs {
    const char *runtime_class_override; /* annotation, or NULL */
    char keep[NAME_LIST_MAX][K8S_DNS_LABEL_MAX + 1];
    size_t keep_count;
    sealed_entry sealed[SEALED_ENTRIES_MAX];
    size_t sealed_count;
    char targets[NAME_LIST_MAX][K8S_DNS_LABEL_MAX + 1]; /* sealed-secrets-containers */
    size_t target_count;
    prior_record *prior; /* the record annotation as found, parsed on first use */
    initdata_choice initdata;
} inputs;

/* A container of the PodSpec as the sealed-secret mutation sees it. */
typedef struct container_slot {
    const char *field; /* "containers" or "initContainers" */
    size_t index;      /* position in that list */
    const char *name;
    bool has_mounts;     /* volumeMounts is a list (absent or null: false) */
    bool mounts_created; /* this pass emitted the add of the whole list */
    size_t entry_mark;   /* 1 + the sealed entry last mounted here (a name listed twice) */
} container_slot;

/* Key spaces of plan.index. */
enum {
    TAG_VOLUME,         /* volume name -> the volume */
    TAG_SECRET,         /* Secret name -> the first volume carrying the whole Secret */
    TAG_CONTAINER,      /* container name -> its container_slot */
    TAG_INIT_CONTAINER, /* init container name -> its container_slot */
    TAG_KEEP,           /* keep-volumes name -> non-NULL */
    TAG_MOUNT,          /* TAG_MOUNT + slot number, mount path -> the mount */
};

enum { BAD_NAME, BAD_MOUNTS, BAD_MOUNT };

/* One planning pass. In building mode (patch != NULL) operations are appended to patch and
 * warnings and the record are collected; in checking mode only ops is counted. */
typedef struct plan {
    const config *cfg;
    const inputs *in;
    cJSON *object;
    cJSON *spec;
    cJSON *patch;
    size_t ops;
    engine_result *res;
    cJSON *record_volumes; /* owned during building */
    cJSON *record_secrets; /* owned during building */
    const char *record_class;
    bool volumes_exist;        /* spec.volumes exists, or an earlier op created it */
    size_t added_volume_count; /* of added_volumes */
    size_t mounts_added;       /* volumeMounts added by this pass */
    /* A denial is a decision, not an error: deny() records the first one here and every step
     * stops when it sees it (STEP). */
    bool denied;
    int deny_code;
    const char *deny_reason;
    cw_error deny;
    container_slot *slots; /* owned: containers, then initContainers */
    size_t slot_count, slot_cap;
    /* The first malformed container the index met (check_containers denies it). */
    const char *bad_field; /* "containers" or "initContainers", or NULL */
    size_t bad_index;
    int bad_what; /* BAD_NAME, BAD_MOUNTS, BAD_MOUNT */
    /* SPEC §2.5 */
    cJSON *initdata_target; /* what carries the initdata annotation */
    bool annotations_added; /* an earlier op created the object's metadata.annotations */
    const config_initdata_document *initdata_set; /* the document this pass sets, or NULL */

    /* The large buffers come last: plan_init zeroes only the fields above them (zeroing
     * 12 KB twice per request was a tenth of the engine's cost). */
    jsonpatch_path spec_path;
    jsonpatch_path initdata_path; /* where initdata_target is */
    /* Secret volumes added by this pass (a Secret may be mounted at several paths). */
    char added_volumes[SEALED_ENTRIES_MAX][K8S_DNS_LABEL_MAX + 1];
    /* Indexes over the PodSpec, built once per pass (index_build), so that no loop over
     * entries and containers rescans a list: volume and Secret names, container names, and
     * the mount paths of each container. */
    strmap index;
} plan;

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

static cw_result deny(plan *p, int code, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Denies the object: records why in the plan and returns CW_OK (nothing failed); the caller
 * returns at once, and the steps around it stop (STEP). The first denial is kept. */
static cw_result deny(plan *p, int code, const char *reason, const char *fmt, ...)
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

/* Runs one step that may deny: returns from the calling step on an error or a denial. */
#define STEP(p, expr)                                                                              \
    do {                                                                                           \
        cw_result step_rc_ = (expr);                                                               \
        if (step_rc_ != CW_OK || (p)->denied)                                                      \
            return step_rc_;                                                                       \
    } while (0)

static cw_result deny_too_many(plan *p)
{
    return deny(p, 400, "too_large",
                "making this object confidential needs more than %d changes (every sealed "
                "secret is mounted in every container); name the containers that need them "
                "with annotation %s",
                JSONPATCH_OPS_MAX, ENGINE_ANN_SEALED_CONTAINERS);
}

/* Starts path at the PodSpec's path. Copies only the used bytes of the buffer. */
static void path_at_spec(jsonpatch_path *path, const plan *p)
{
    memcpy(path->buf, p->spec_path.buf, p->spec_path.len + 1);
    path->len = p->spec_path.len;
    path->overflow = p->spec_path.overflow;
}

/* Appends one operation (building) or counts it (checking). Takes ownership of value. */
static cw_result emit(plan *p, const char *op, const jsonpatch_path *path, cJSON *value)
{
    if (++p->ops > JSONPATCH_OPS_MAX) {
        cJSON_Delete(value);
        return deny_too_many(p);
    }
    if (!p->patch) {
        cJSON_Delete(value);
        return CW_OK;
    }
    if (!jsonpatch_path_ok(path)) {
        cJSON_Delete(value);
        return deny(p, 400, "too_large", "object path too long");
    }
    cw_error err;
    cw_result r = jsonpatch_append(p->patch, op, path, value, &err);
    if (r == CW_ENOMEM)
        return r;
    if (r)
        return deny(p, 500, "internal", "internal error: %s", err.msg);
    return CW_OK;
}

static cw_result add_warning(plan *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static cw_result add_warning(plan *p, const char *fmt, ...)
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
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < cfg->runtime_class_allowed.count; i++) {
        const char *name = cfg->runtime_class_allowed.items[i];
        size_t need = strlen(name) + (i ? 2 : 0);
        if (len + need + 5 >= cap) {
            snprintf(buf + len, cap - len, ", ...");
            break;
        }
        len += (size_t)snprintf(buf + len, cap - len, "%s%s", i ? ", " : "", name);
    }
    return buf;
}

/* ---- annotations --------------------------------------------------------------------- */

/* Reads a string annotation; a non-string or oversized value is a 400 denial. */
static cw_result read_annotation(plan *p, cJSON *object, cJSON *template, const char *key,
                                 const char **out)
{
    *out = NULL;
    cJSON *v = lookup_meta(object, template, "annotations", key);
    if (jsonutil_is_absent(v))
        return CW_OK;
    if (!cJSON_IsString(v))
        return deny(p, 400, "annotation", "annotation %s must be a string", key);
    if (strlen(v->valuestring) > ENGINE_ANNOTATION_MAX)
        return deny(p, 400, "annotation", "annotation %s is longer than %d bytes", key,
                    ENGINE_ANNOTATION_MAX);
    *out = v->valuestring;
    return CW_OK;
}

/* Parses a comma-separated list of DNS labels (volume or container names). */
static cw_result parse_name_list(plan *p, const char *key, const char *list,
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
                return deny(p, 400, "annotation",
                            "annotation %s: \"%.*s\" is not a valid name (lowercase letters, "
                            "digits and '-')",
                            key, (int)(len > 63 ? 63 : len), t);
            if (*count >= NAME_LIST_MAX)
                return deny(p, 400, "annotation", "annotation %s: more than %d names", key,
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

static cw_result read_inputs(plan *p, cJSON *object, cJSON *template, const char *ns, inputs *in)
{
    const config *cfg = p->cfg;
    const char *v;

    STEP(p, read_annotation(p, object, template, ENGINE_ANN_RUNTIME_CLASS, &v));
    if (v) {
        if (!k8s_is_dns_subdomain(v, strlen(v)))
            return deny(p, 400, "annotation",
                        "annotation %s: \"%.63s\" is not a valid RuntimeClass name",
                        ENGINE_ANN_RUNTIME_CLASS, v);
        char allowed[NAMES_SHOWN_MAX];
        if (!config_strings_contains(&cfg->runtime_class_allowed, v))
            return deny(p, 403, "runtime_class",
                        "annotation %s asks for RuntimeClass \"%.63s\", which is not allowed "
                        "for Confidential Containers (allowed: %s)",
                        ENGINE_ANN_RUNTIME_CLASS, v, allowed_classes(cfg, allowed, sizeof allowed));
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
        return deny(p, 400, "annotation", "annotation %s: %s", ENGINE_ANN_SEALED, err.msg);

    STEP(p, read_annotation(p, object, template, INITDATA_ANN_PICK, &v));
    initdata_denial denial;
    initdata_choose(cfg, ns, v, &in->initdata, &denial);
    if (denial.denied)
        return deny(p, denial.code, denial.reason, "%s", denial.message);

    cJSON *rec = jsonutil_member(
        jsonutil_member(jsonutil_member(object, "metadata"), "annotations"), ENGINE_ANN_RECORD);
    in->prior->text = cJSON_IsString(rec) ? rec->valuestring : NULL;
    return CW_OK;
}

/* ---- 2.1 runtime class ---------------------------------------------------------------- */

static cw_result plan_runtime_class(plan *p)
{
    const config *cfg = p->cfg;
    const char *want =
        p->in->runtime_class_override ? p->in->runtime_class_override : cfg->runtime_class;
    cJSON *cur = jsonutil_member(p->spec, "runtimeClassName");
    if (!jsonutil_is_absent(cur)) {
        if (!cJSON_IsString(cur))
            return deny(p, 400, "invalid_object", "spec.runtimeClassName must be a string");
        const char *name = cur->valuestring;
        char allowed[NAMES_SHOWN_MAX];
        if (!config_strings_contains(&cfg->runtime_class_allowed, name))
            return deny(p, 403, "runtime_class",
                        "runtimeClassName \"%.63s\" would run this workload outside a "
                        "confidential VM; objects labelled for Confidential Containers must "
                        "use an allowed RuntimeClass (%s) or none",
                        name, allowed_classes(cfg, allowed, sizeof allowed));
        if (p->in->runtime_class_override && strcmp(name, want) != 0)
            return deny(p, 400, "annotation",
                        "annotation %s asks for \"%.63s\" but runtimeClassName is \"%.63s\"",
                        ENGINE_ANN_RUNTIME_CLASS, want, name);
        return CW_OK;
    }
    jsonpatch_path path;
    path_at_spec(&path, p);
    jsonpatch_path_key(&path, "runtimeClassName");
    cJSON *value = cJSON_CreateString(want);
    if (!value)
        return CW_ENOMEM;
    p->record_class = want;
    if (p->res)
        p->res->decision.runtime_class_set = true;
    return emit(p, "add", &path, value);
}

/* ---- 2.2 storage ---------------------------------------------------------------------- */

static cJSON *make_empty_dir(const config *cfg)
{
    cJSON *e = cJSON_CreateObject();
    if (!e)
        return NULL;
    if (cfg->empty_dir_medium && cfg->empty_dir_medium[0] &&
        !cJSON_AddStringToObject(e, "medium", cfg->empty_dir_medium))
        goto fail;
    if (cfg->empty_dir_size_limit &&
        !cJSON_AddStringToObject(e, "sizeLimit", cfg->empty_dir_size_limit))
        goto fail;
    return e;
fail:
    cJSON_Delete(e);
    return NULL;
}

static cw_result record_volume(plan *p, const char *volume, const char *claim)
{
    if (!p->record_volumes)
        return CW_OK;
    cJSON *r = cJSON_CreateObject();
    if (!r || !cJSON_AddStringToObject(r, "volume", volume) ||
        !(claim ? cJSON_AddStringToObject(r, "claim", claim)
                : cJSON_AddTrueToObject(r, "ephemeral"))) {
        cJSON_Delete(r);
        return CW_ENOMEM;
    }
    cJSON_AddItemToArray(p->record_volumes, r);
    return CW_OK;
}

static cw_result warn_replaced(plan *p, const char *volume, const char *claim)
{
    const char *tail = "replaced by pod-VM storage; data is lost when the pod ends";
    char what[ENGINE_WARNING_MAX]; /* longer could not be shown: the short form is used */
    if (claim)
        snprintf(what, sizeof what, "PVC \"%s\"", claim);
    else
        snprintf(what, sizeof what, "ephemeral volume");
    if (strlen(volume) + strlen(what) + strlen(tail) + 12 <= ENGINE_WARNING_MAX)
        return add_warning(p, "volume \"%s\": %s %s", volume, what, tail);
    /* Long names: shorten them so that the warning stays within the API server's limit. */
    if (claim)
        return add_warning(p, "volume \"%.16s...\": PVC \"%.16s...\" %s", volume, claim, tail);
    return add_warning(p, "volume \"%.24s...\": ephemeral volume %s", volume, tail);
}

static cw_result plan_storage(plan *p)
{
    cJSON *volumes = jsonutil_member(p->spec, "volumes");
    if (jsonutil_is_absent(volumes))
        return CW_OK;
    if (!cJSON_IsArray(volumes))
        return deny(p, 400, "invalid_object", "spec.volumes must be a list");

    size_t i = 0;
    for (cJSON *v = volumes->child; v; v = v->next, i++) {
        const char *name = jsonutil_string(v, "name");
        if (!name)
            return deny(p, 400, "invalid_object", "spec.volumes[%zu] has no name", i);
        cJSON *pvc = jsonutil_member(v, "persistentVolumeClaim");
        cJSON *eph = jsonutil_member(v, "ephemeral");
        const char *source = !jsonutil_is_absent(pvc)   ? "persistentVolumeClaim"
                             : !jsonutil_is_absent(eph) ? "ephemeral"
                                                        : NULL;
        if (!source || !p->cfg->replace_persistent_volumes)
            continue;
        if (!jsonutil_is_absent(pvc) && !jsonutil_is_absent(eph))
            return deny(p, 400, "invalid_object",
                        "volume \"%.63s\" has both persistentVolumeClaim and ephemeral; a "
                        "volume has one source",
                        name);
        if (strmap_get(&p->index, TAG_KEEP, name, strlen(name)))
            continue;
        const char *claim = NULL;
        if (source[0] == 'p') {
            claim = jsonutil_string(pvc, "claimName");
            if (!claim)
                return deny(p, 400, "invalid_object",
                            "volume \"%.63s\": persistentVolumeClaim.claimName must be a string",
                            name);
        }
        jsonpatch_path path;
        path_at_spec(&path, p);
        jsonpatch_path_key(&path, "volumes");
        jsonpatch_path_index(&path, i);
        size_t base = path.len;
        cw_result r;
        /* The replaced volume is exactly {name, emptyDir}: no other field survives. */
        for (const cJSON *m = v->child; m; m = m->next) {
            if (strcmp(m->string, "name") == 0 || strcmp(m->string, source) == 0)
                continue;
            jsonpatch_path_key(&path, m->string);
            r = emit(p, "remove", &path, NULL);
            jsonpatch_path_truncate(&path, base);
            if (r || p->denied)
                return r;
        }
        jsonpatch_path_key(&path, source);
        STEP(p, emit(p, "remove", &path, NULL));
        jsonpatch_path_truncate(&path, base);
        jsonpatch_path_key(&path, "emptyDir");
        cJSON *empty = make_empty_dir(p->cfg);
        if (!empty)
            return CW_ENOMEM;
        STEP(p, emit(p, "add", &path, empty));
        if (p->res) {
            p->res->decision.volumes_replaced++;
            if ((r = warn_replaced(p, name, claim)) || (r = record_volume(p, name, claim)))
                return r;
        }
    }
    return CW_OK;
}

/* Warns about keep-volumes names that match no replaceable volume (likely a typo: the
 * volume the user meant to keep may be replaced). Building mode only. */
static cw_result check_keep_list(plan *p)
{
    if (!p->res)
        return CW_OK;
    for (size_t k = 0; k < p->in->keep_count; k++) {
        const char *keep = p->in->keep[k];
        bool found = strmap_get(&p->index, TAG_VOLUME, keep, strlen(keep)) != NULL;
        cw_result r;
        if (!found && (r = add_warning(p,
                                       "annotation keep-volumes names \"%s\", which is not a "
                                       "volume of this pod",
                                       p->in->keep[k])))
            return r;
    }
    return CW_OK;
}

/* ---- 2.3 sealed secrets --------------------------------------------------------------- */

/* The volume name the webhook gives the Secret: readable when the Secret name allows it,
 * else hashed; always a DNS label. */
static void sealed_volume_name(const char *secret, char *out, size_t cap)
{
    size_t len = strlen(secret);
    if (strlen(SEALED_VOLUME_PREFIX) + len <= K8S_DNS_LABEL_MAX && k8s_is_dns_label(secret, len)) {
        snprintf(out, cap, SEALED_VOLUME_PREFIX "%s", secret);
        return;
    }
    snprintf(out, cap, SEALED_VOLUME_PREFIX "%016llx",
             (unsigned long long)hash_fnv1a64(secret, len));
}

static bool is_secret_volume_of(const cJSON *volume, const char *secret)
{
    const cJSON *s = jsonutil_member(volume, "secret");
    const char *name = jsonutil_string(s, "secretName");
    /* A volume projecting only some keys does not carry the whole Secret. */
    return name && strcmp(name, secret) == 0 && jsonutil_is_absent(jsonutil_member(s, "items"));
}

static cJSON *volume_named(const plan *p, const char *name)
{
    return name ? strmap_get(&p->index, TAG_VOLUME, name, strlen(name)) : NULL;
}

/* The length of a mount path without trailing slashes ("/a/" and "/a" are one path). */
static size_t mount_path_len(const char *path)
{
    size_t len = strlen(path);
    while (len > 1 && path[len - 1] == '/')
        len--;
    return len;
}

/* Chooses the volume carrying entry's Secret: an existing one (reused, not duplicated) or
 * the webhook's own, added to spec.volumes when missing. */
static cw_result sealed_volume(plan *p, const sealed_entry *e, char *name, size_t cap)
{
    cJSON *carrier = strmap_get(&p->index, TAG_SECRET, e->secret, strlen(e->secret));
    if (carrier) {
        snprintf(name, cap, "%s", jsonutil_string(carrier, "name"));
        return CW_OK;
    }
    sealed_volume_name(e->secret, name, cap);
    cJSON *clash = volume_named(p, name);
    if (clash)
        return deny(p, 403, "volume_conflict",
                    "volume \"%s\" exists but does not mount Secret \"%.63s\"; rename that volume",
                    name, e->secret);
    for (size_t i = 0; i < p->added_volume_count; i++)
        if (strcmp(p->added_volumes[i], name) == 0)
            return CW_OK; /* added by an earlier entry of this pass */
    if (p->added_volume_count < SEALED_ENTRIES_MAX)
        snprintf(p->added_volumes[p->added_volume_count++], K8S_DNS_LABEL_MAX + 1, "%s", name);

    cJSON *volume = cJSON_CreateObject();
    cJSON *secret = NULL;
    if (!volume || !cJSON_AddStringToObject(volume, "name", name) ||
        !(secret = cJSON_AddObjectToObject(volume, "secret")) ||
        !cJSON_AddStringToObject(secret, "secretName", e->secret)) {
        cJSON_Delete(volume);
        return CW_ENOMEM;
    }
    jsonpatch_path path;
    path_at_spec(&path, p);
    jsonpatch_path_key(&path, "volumes");
    if (!p->volumes_exist) {
        cJSON *list = cJSON_CreateArray();
        if (!list) {
            cJSON_Delete(volume);
            return CW_ENOMEM;
        }
        cJSON_AddItemToArray(list, volume);
        p->volumes_exist = true;
        return emit(p, "add", &path, list);
    }
    jsonpatch_path_append_end(&path);
    return emit(p, "add", &path, volume);
}

/* The container named name (spec.containers first, then spec.initContainers), or NULL. */
static container_slot *container_named(const plan *p, const char *name)
{
    size_t len = strlen(name);
    /* The map holds slot numbers plus one (p->slots grows while it is filled). */
    uintptr_t n = (uintptr_t)strmap_get(&p->index, TAG_CONTAINER, name, len);
    if (!n)
        n = (uintptr_t)strmap_get(&p->index, TAG_INIT_CONTAINER, name, len);
    return n ? &p->slots[n - 1] : NULL;
}

/* Denies the first malformed container of spec[field] that index_containers found. */
static cw_result check_containers(plan *p, const char *field)
{
    cJSON *list = jsonutil_member(p->spec, field);
    if (jsonutil_is_absent(list))
        return CW_OK;
    if (!cJSON_IsArray(list))
        return deny(p, 400, "invalid_object", "spec.%s must be a list", field);
    if (!p->bad_field || strcmp(p->bad_field, field) != 0)
        return CW_OK;
    switch (p->bad_what) {
    case BAD_NAME:
        return deny(p, 400, "invalid_object", "spec.%s[%zu] has no name", field, p->bad_index);
    case BAD_MOUNTS:
        return deny(p, 400, "invalid_object", "spec.%s[%zu].volumeMounts must be a list", field,
                    p->bad_index);
    default:
        return deny(p, 400, "invalid_object",
                    "spec.%s[%zu].volumeMounts: every mount needs a name and a mountPath", field,
                    p->bad_index);
    }
}

/* Mounts volume at e->path in one container, unless it is there already. */
static cw_result mount_in_container(plan *p, container_slot *slot, const char *volume,
                                    const sealed_entry *e)
{
    uint32_t tag = TAG_MOUNT + (uint32_t)(slot - p->slots);
    cJSON *existing = strmap_get(&p->index, tag, e->path, mount_path_len(e->path));
    if (existing) {
        const char *mname = jsonutil_string(existing, "name");
        if (strcmp(mname, volume) == 0 || is_secret_volume_of(volume_named(p, mname), e->secret))
            return CW_OK; /* already mounted */
        return deny(p, 400, "mount_conflict",
                    "container \"%.63s\": mount path \"%.200s\" for sealed Secret \"%.63s\" is "
                    "already used by volume \"%.63s\"",
                    slot->name, e->path, e->secret, mname);
    }

    cJSON *mount = cJSON_CreateObject();
    if (!mount || !cJSON_AddStringToObject(mount, "name", volume) ||
        !cJSON_AddStringToObject(mount, "mountPath", e->path) ||
        !cJSON_AddTrueToObject(mount, "readOnly")) {
        cJSON_Delete(mount);
        return CW_ENOMEM;
    }
    jsonpatch_path path;
    path_at_spec(&path, p);
    jsonpatch_path_key(&path, slot->field);
    jsonpatch_path_index(&path, slot->index);
    jsonpatch_path_key(&path, "volumeMounts");
    p->mounts_added++;
    if (p->res)
        p->res->decision.secrets_mounted++;
    /* A container gets at most one mount per entry, but several entries: the list made by
     * the first is appended to by the next. Checking mode sees the real object. */
    if (!slot->has_mounts && !slot->mounts_created) {
        cJSON *list = cJSON_CreateArray();
        if (!list) {
            cJSON_Delete(mount);
            return CW_ENOMEM;
        }
        cJSON_AddItemToArray(list, mount);
        slot->mounts_created = p->patch != NULL;
        return emit(p, "add", &path, list);
    }
    jsonpatch_path_append_end(&path);
    return emit(p, "add", &path, mount);
}

static cw_result record_secret(plan *p, const sealed_entry *e)
{
    if (!p->record_secrets)
        return CW_OK;
    cJSON *r = cJSON_CreateObject();
    if (!r || !cJSON_AddStringToObject(r, "secret", e->secret) ||
        !cJSON_AddStringToObject(r, "mountPath", e->path)) {
        cJSON_Delete(r);
        return CW_ENOMEM;
    }
    cJSON_AddItemToArray(p->record_secrets, r);
    return CW_OK;
}

static cw_result plan_sealed(plan *p)
{
    const inputs *in = p->in;
    cw_result r;
    STEP(p, check_containers(p, "containers"));
    STEP(p, check_containers(p, "initContainers"));
    if (in->sealed_count == 0)
        return CW_OK;
    for (size_t t = 0; t < in->target_count; t++)
        if (!container_named(p, in->targets[t]))
            return deny(p, 400, "annotation",
                        "annotation %s names container \"%s\", which this pod does not have",
                        ENGINE_ANN_SEALED_CONTAINERS, in->targets[t]);
    /* Every entry may add a mount to every target: refuse before building them. */
    size_t targets = in->target_count;
    if (targets == 0)
        while (targets < p->slot_count && p->slots[targets].field[0] == 'c')
            targets++;
    if (in->sealed_count * targets > JSONPATCH_OPS_MAX)
        return deny_too_many(p);

    for (size_t i = 0; i < in->sealed_count; i++) {
        const sealed_entry *e = &in->sealed[i];
        char volume[K8S_DNS_LABEL_MAX + 1];
        size_t mounts_before = p->mounts_added;
        STEP(p, sealed_volume(p, e, volume, sizeof volume));
        if (in->target_count == 0) {
            for (size_t c = 0; c < p->slot_count && p->slots[c].field[0] == 'c'; c++)
                STEP(p, mount_in_container(p, &p->slots[c], volume, e));
        } else {
            for (size_t t = 0; t < in->target_count; t++) {
                container_slot *slot = container_named(p, in->targets[t]);
                if (slot->entry_mark == i + 1)
                    continue;
                slot->entry_mark = i + 1;
                STEP(p, mount_in_container(p, slot, volume, e));
            }
        }
        if (p->mounts_added > mounts_before && (r = record_secret(p, e)))
            return r;
    }
    return CW_OK;
}

/* ---- annotations set by the webhook (2.4 record, 2.5 initdata) ------------------------- */

/* The "add" operation that sets annotation key to value on target (the object, or a pod
 * template at target_path), creating metadata and annotations where they are missing: a
 * strict add needs the parent (FACTS.md). An earlier operation of this patch may have created
 * the object's annotations (p->annotations_added). Writes the operation's path into *path and
 * returns the owned value, or NULL when out of memory. */
static cJSON *annotation_add_op(const plan *p, const cJSON *target,
                                const jsonpatch_path *target_path, const char *key,
                                const char *value, jsonpatch_path *path)
{
    memcpy(path->buf, target_path->buf, target_path->len + 1);
    path->len = target_path->len;
    path->overflow = target_path->overflow;
    jsonpatch_path_key(path, "metadata");
    const cJSON *meta = jsonutil_member(target, "metadata");
    cJSON *v = cJSON_CreateString(value);
    if (!v)
        return NULL;
    if (cJSON_IsObject(jsonutil_member(meta, "annotations")) ||
        (target == p->object && p->annotations_added)) {
        jsonpatch_path_key(path, "annotations");
        jsonpatch_path_key(path, key);
        return v;
    }
    cJSON *map = cJSON_CreateObject();
    if (!map || !cJSON_AddItemToObject(map, key, v)) {
        cJSON_Delete(map);
        cJSON_Delete(v);
        return NULL;
    }
    if (cJSON_IsObject(meta)) {
        jsonpatch_path_key(path, "annotations");
        return map;
    }
    cJSON *md = cJSON_CreateObject();
    if (!md || !cJSON_AddItemToObject(md, "annotations", map)) {
        cJSON_Delete(md);
        cJSON_Delete(map);
        return NULL;
    }
    return md;
}

/* ---- 2.5 initdata --------------------------------------------------------------------- */

static cw_result plan_initdata(plan *p)
{
    const config_initdata_document *doc = p->in->initdata.document;
    initdata_action action;
    initdata_denial denial;
    CW_GUARD(initdata_decide(p->cfg, &p->in->initdata,
                             jsonutil_member(p->initdata_target, "metadata"), p->in->prior, &action,
                             &denial));
    if (denial.denied)
        return deny(p, denial.code, denial.reason, "%s", denial.message);
    if (p->res && action != INITDATA_NOTHING && action != INITDATA_KEEP_OTHER) {
        p->res->decision.initdata_document = doc->name;
        p->res->decision.initdata_digest = doc->doc.digest_text;
    }
    if (action == INITDATA_KEEP_OTHER)
        return add_warning(p,
                           "initdata: the object's own annotation differs from document \"%s\"; "
                           "it is kept",
                           doc->name);
    if (action != INITDATA_SET && action != INITDATA_REPLACE)
        return CW_OK;
    jsonpatch_path path;
    cJSON *value = annotation_add_op(p, p->initdata_target, &p->initdata_path,
                                     p->cfg->initdata_annotation, doc->doc.value, &path);
    if (!value)
        return CW_ENOMEM;
    p->initdata_set = doc;
    p->annotations_added = p->initdata_target == p->object;
    if (p->res)
        p->res->decision.initdata_set = true;
    return emit(p, "add", &path, value);
}

/* ---- 2.4 record ----------------------------------------------------------------------- */

/* The entries of one record list, keyed by their compact JSON text. */
typedef struct entry_set {
    strmap map;
    char **texts; /* owned, each freed with cJSON_free */
    size_t count, cap;
} entry_set;

static void entry_set_clear(entry_set *set)
{
    for (size_t i = 0; i < set->count; i++)
        cJSON_free(set->texts[i]);
    free(set->texts);
    strmap_clear(&set->map);
}

/* Adds v's text to set. *added is false when an equal entry is there already. */
static cw_result entry_set_add(entry_set *set, const cJSON *v, bool *added)
{
    *added = false;
    if (set->count == set->cap) {
        size_t ncap = set->cap ? set->cap * 2 : 16;
        char **texts = realloc(set->texts, ncap * sizeof *texts);
        if (!texts)
            return CW_ENOMEM;
        set->texts = texts;
        set->cap = ncap;
    }
    char *text = cJSON_PrintUnformatted(v);
    if (!text)
        return CW_ENOMEM;
    size_t len = strlen(text);
    if (strmap_get(&set->map, 0, text, len)) {
        cJSON_free(text);
        return CW_OK;
    }
    set->texts[set->count++] = text; /* owned by set from here, even if the put fails */
    cw_result r = strmap_put(&set->map, 0, text, len, text);
    if (r)
        return r == CW_ELIMIT ? CW_ENOMEM : r;
    *added = true;
    return CW_OK;
}

/* Short lists are merged by comparing entries pairwise: cheaper than printing them. */
#define MERGE_PAIRWISE_MAX 16

static bool array_contains(const cJSON *array, const cJSON *item)
{
    for (const cJSON *c = cJSON_IsArray(array) ? array->child : NULL; c; c = c->next)
        if (jsonpatch_equal(c, item))
            return true;
    return false;
}

static size_t list_length(const cJSON *list, size_t stop)
{
    size_t n = 0;
    for (const cJSON *c = cJSON_IsArray(list) ? list->child : NULL; c && n <= stop; c = c->next)
        n++;
    return n;
}

/* Merges the previous record's list name into fresh (dropping duplicates), keeping the
 * previous entries first so that the record reads in the order things were done. Long
 * lists are compared by their compact text (the record is ours: equal entries print
 * alike), short ones pairwise. */
static cw_result merge_list(cJSON *record, const cJSON *previous, const char *name, cJSON *fresh)
{
    entry_set set = {.map = STRMAP_INIT};
    cJSON *merged = cJSON_CreateArray();
    cw_result r = CW_ENOMEM;
    bool added, any = false;
    if (!merged)
        goto done;
    const cJSON *old = jsonutil_member(previous, name);
    bool pairwise = list_length(old, MERGE_PAIRWISE_MAX) + list_length(fresh, MERGE_PAIRWISE_MAX) <=
                    MERGE_PAIRWISE_MAX;
    for (const cJSON *c = cJSON_IsArray(old) ? old->child : NULL; c; c = c->next) {
        cJSON *dup = cJSON_Duplicate(c, 1);
        if (!dup || (!pairwise && (r = entry_set_add(&set, c, &added)))) {
            cJSON_Delete(dup);
            r = CW_ENOMEM;
            goto done;
        }
        cJSON_AddItemToArray(merged, dup);
        any = true;
    }
    for (const cJSON *c = fresh ? fresh->child : NULL; c; c = c->next) {
        if (pairwise) {
            if (array_contains(merged, c))
                continue;
        } else {
            if ((r = entry_set_add(&set, c, &added)))
                goto done;
            if (!added)
                continue;
        }
        cJSON *dup = cJSON_Duplicate(c, 1);
        if (!dup) {
            r = CW_ENOMEM;
            goto done;
        }
        cJSON_AddItemToArray(merged, dup);
        any = true;
    }
    r = CW_OK;
    if (!any)
        goto done;
    if (!cJSON_AddItemToObject(record, name, merged)) {
        r = CW_ENOMEM;
        goto done;
    }
    merged = NULL;
done:
    cJSON_Delete(merged);
    entry_set_clear(&set);
    return r;
}

/* Builds the record annotation value and the operation that sets it. */
static cw_result plan_record(plan *p)
{
    const cJSON *previous = prior_record_tree(p->in->prior);
    cJSON *record = cJSON_CreateObject();
    cw_result r = CW_ENOMEM;
    if (!record)
        goto done;
    const char *cls =
        p->record_class ? p->record_class : jsonutil_string(previous, "runtimeClassName");
    if (cls && !cJSON_AddStringToObject(record, "runtimeClassName", cls))
        goto done;
    if ((r = merge_list(record, previous, "replacedVolumes", p->record_volumes)) ||
        (r = merge_list(record, previous, "sealedSecrets", p->record_secrets)))
        goto done;
    r = CW_ENOMEM;
    if (p->initdata_set) {
        cJSON *init = cJSON_AddObjectToObject(record, "initdata");
        if (!init || !cJSON_AddStringToObject(init, "document", p->initdata_set->name) ||
            !cJSON_AddStringToObject(init, "digest", p->initdata_set->doc.digest_text))
            goto done;
    } else {
        cJSON *init = jsonutil_member(previous, "initdata");
        cJSON *dup = cJSON_IsObject(init) ? cJSON_Duplicate(init, 1) : NULL;
        if (init && cJSON_IsObject(init) &&
            (!dup || !cJSON_AddItemToObject(record, "initdata", dup))) {
            cJSON_Delete(dup);
            goto done;
        }
    }
    char *text = cJSON_PrintUnformatted(record);
    if (!text)
        goto done;
    p->res->record = text;

    jsonpatch_path root, path;
    jsonpatch_path_init(&root);
    cJSON *value = annotation_add_op(p, p->object, &root, ENGINE_ANN_RECORD, text, &path);
    if (value)
        r = emit(p, "add", &path, value);
done:
    cJSON_Delete(record);
    return r;
}

/* ---- indexes ------------------------------------------------------------------------- */

static cw_result index_put(plan *p, uint32_t tag, const char *key, size_t len, void *value)
{
    cw_result r = strmap_put(&p->index, tag, key, len, value);
    if (r == CW_ELIMIT)
        return deny(p, 400, "too_large", "the object has more names than the webhook indexes");
    return r;
}

/* Indexes the containers of spec[field] and their mount paths. Entries without a string
 * name are left out: check_containers denies them before any lookup matters. */
/* Notes the first malformed container, for check_containers to deny in its turn. */
static void note_bad(plan *p, const char *field, size_t index, int what)
{
    if (p->bad_field)
        return;
    p->bad_field = field;
    p->bad_index = index;
    p->bad_what = what;
}

/* Indexes the containers of spec[field] and their mount paths, and notes the first one that
 * is malformed (check_containers denies it in its turn, after the checks that come first). */
static cw_result index_containers(plan *p, const char *field, uint32_t tag)
{
    cJSON *list = jsonutil_member(p->spec, field);
    size_t i = 0;
    for (cJSON *c = cJSON_IsArray(list) ? list->child : NULL; c; c = c->next, i++) {
        const char *name = NULL;
        cJSON *mounts = NULL;
        for (cJSON *m = cJSON_IsObject(c) ? c->child : NULL; m; m = m->next) {
            if (!m->string)
                continue;
            if (!name && strcmp(m->string, "name") == 0)
                name = cJSON_IsString(m) ? m->valuestring : NULL;
            else if (!mounts && strcmp(m->string, "volumeMounts") == 0)
                mounts = m;
        }
        if (!name) {
            note_bad(p, field, i, BAD_NAME);
            continue;
        }
        if (!jsonutil_is_absent(mounts) && !cJSON_IsArray(mounts))
            note_bad(p, field, i, BAD_MOUNTS);
        if (p->slot_count == p->slot_cap) {
            size_t ncap = p->slot_cap ? p->slot_cap * 2 : 8;
            container_slot *grown = realloc(p->slots, ncap * sizeof *grown);
            if (!grown)
                return CW_ENOMEM;
            p->slots = grown;
            p->slot_cap = ncap;
        }
        container_slot *slot = &p->slots[p->slot_count];
        *slot = (container_slot){.field = field, .index = i, .name = name};
        uint32_t mount_tag = TAG_MOUNT + (uint32_t)p->slot_count++;
        STEP(p, index_put(p, tag, name, strlen(name), (void *)(uintptr_t)p->slot_count));
        slot->has_mounts = cJSON_IsArray(mounts);
        for (cJSON *m = slot->has_mounts ? mounts->child : NULL; m; m = m->next) {
            const char *path = jsonutil_string(m, "mountPath");
            if (!path || !jsonutil_string(m, "name")) {
                note_bad(p, field, i, BAD_MOUNT);
                continue;
            }
            STEP(p, index_put(p, mount_tag, path, mount_path_len(path), m));
        }
    }
    return CW_OK;
}

/* Builds p->index over the PodSpec: once per pass, so that every later lookup is O(1). */
static cw_result index_build(plan *p)
{
    cJSON *volumes = jsonutil_member(p->spec, "volumes");
    for (cJSON *v = cJSON_IsArray(volumes) ? volumes->child : NULL; v; v = v->next) {
        const char *name = jsonutil_string(v, "name");
        if (!name)
            continue;
        STEP(p, index_put(p, TAG_VOLUME, name, strlen(name), v));
        const char *secret = jsonutil_string(jsonutil_member(v, "secret"), "secretName");
        if (secret && is_secret_volume_of(v, secret))
            STEP(p, index_put(p, TAG_SECRET, secret, strlen(secret), v));
    }
    for (size_t k = 0; k < p->in->keep_count; k++)
        STEP(p, index_put(p, TAG_KEEP, p->in->keep[k], strlen(p->in->keep[k]), p));
    STEP(p, index_containers(p, "containers", TAG_CONTAINER));
    return index_containers(p, "initContainers", TAG_INIT_CONTAINER);
}

static void index_clear(plan *p)
{
    strmap_clear(&p->index);
    free(p->slots);
    p->slots = NULL;
    p->slot_count = p->slot_cap = 0;
    p->bad_field = NULL;
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

static cw_result run_plan(plan *p)
{
    cJSON *volumes = jsonutil_member(p->spec, "volumes");
    p->volumes_exist = cJSON_IsArray(volumes);
    cw_result r;
    if ((r = index_build(p)) || p->denied || (r = plan_runtime_class(p)) || p->denied ||
        (r = plan_storage(p)) || p->denied || (r = plan_sealed(p)) || p->denied ||
        (r = check_keep_list(p)) || (r = plan_initdata(p)) || p->denied)
        goto done;
    if (p->patch && p->ops > 0)
        r = plan_record(p);
done:
    index_clear(p);
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
    deny(p, 400, "too_large",
         with_ours ? "with the webhook's annotations (initdata, record) this object's annotations "
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
    cJSON_Delete(res->patch);
    for (size_t i = 0; i < res->decision.warning_count; i++)
        free(res->warnings[i]);
    cJSON_free(res->record);
    res->patch = NULL;
    res->record = NULL;
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
        deny(&p, 400, "invalid_object", "the object is not a JSON object");
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
        deny(&p, 400, "invalid_object", "metadata and metadata.annotations must be objects");
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
        deny(&p, 400, "invalid_object", "the object has no pod spec at %s",
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
    res->patch = cJSON_CreateArray();
    p.record_volumes = cJSON_CreateArray();
    p.record_secrets = cJSON_CreateArray();
    if (!in || !res->patch || !p.record_volumes || !p.record_secrets) {
        r = CW_ENOMEM;
        goto fail;
    }
    p.in = in;
    p.patch = res->patch;
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
    if (p.ops == 0)
        goto done;

    /* Check: apply the patch to the object and plan again; nothing may be left to do. */
    cJSON *applied = object;
    cw_error err;
    r = jsonpatch_apply(&applied, res->patch, &err);
    if (r == CW_ENOMEM)
        goto fail;
    if (r || applied != object) {
        deny(&p, 500, "internal", "internal error: the webhook's patch does not apply (%s)",
             r ? err.msg : "root replaced");
        finish_denied(res, &p);
        r = CW_OK;
        goto done;
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
        deny(&check, 500, "internal", "the mutated object has no pod spec");
    if (r != CW_OK)
        goto fail;
    if (check.denied || check.ops != 0) {
        deny(&p, 500, "internal",
             "internal error: the mutated object is not in the wanted state (%s)",
             check.denied ? check.deny.msg : "changes left to make");
        finish_denied(res, &p);
    }
    goto done;

fail:
    engine_result_clear(res);
done:
    cJSON_Delete(p.record_volumes);
    cJSON_Delete(p.record_secrets);
    prior_record_free(&prior);
    free(in);
    return r;
}

void engine_result_clear(engine_result *res)
{
    cJSON_Delete(res->patch);
    for (size_t i = 0; i < res->decision.warning_count; i++)
        free(res->warnings[i]);
    cJSON_free(res->record);
    memset(res, 0, offsetof(engine_result, warnings));
    res->record = NULL;
}
