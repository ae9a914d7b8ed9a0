/* engine_record.c: the annotations the webhook sets: SPEC §2.5 initdata, §2.7 the pod-VM
 * profile and §2.4 the record of what was changed (merged with the record of earlier
 * admissions). Steps of one planning pass (engine_plan.h). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_plan.h"

/* ---- annotations set by the webhook (2.4 record, 2.5 initdata, 2.7 pod VM) ------------- */

/* The "add" operation that sets annotation key to value on target (the object, or a pod
 * template at target_path), creating metadata and annotations where they are missing: a
 * strict add needs the parent (FACTS.md). An earlier operation of this patch may have created
 * the object's annotations (p->annotations_added) or the target's (p->target_annotations_added).
 * Writes the operation's path into *path and
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
        (target == p->object && p->annotations_added) ||
        (target == p->initdata_target && p->target_annotations_added)) {
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

/* The key a runtime reads without its common prefix ("hypervisor.cc_init_data"): the
 * warnings fit 120 characters. */
static const char *short_key_of(const char *key)
{
    const char *k = strrchr(key, '.');
    while (k && k > key && k[-1] != '.')
        k--;
    return k ? k : key;
}

/* SPEC §2.5, §2.6: the initdata key the runtime ignores (the one it refuses is an annotation
 * outside its allow-list: plan_preflight). */
CW_MUST_USE static cw_result warn_ignored_keys(plan *p, const char *key,
                                               const config_initdata_document *doc)
{
    static const char *const keys[] = {INITDATA_ANN_HYPERVISOR, INITDATA_ANN_RUNTIME};
    const cJSON *map = p->carrier_annotations; /* found by plan_preflight in this pass */
    unsigned major = p->runtime->kata_major, minor = p->runtime->kata_minor;
    for (size_t i = 0; map && i < sizeof keys / sizeof keys[0]; i++) {
        if ((key && strcmp(keys[i], key) == 0) ||
            jsonutil_is_absent(jsonutil_member(map, keys[i])) ||
            runtime_initdata_key_use(p->runtime, keys[i]) != RUNTIME_KEY_IGNORED)
            continue;
        if (doc && key)
            STEP(p, plan_preflight_warn(p, PF_INITDATA_KEY_IGNORED,
                                        "annotation %s: ignored by kata %u.%u (it reads %s)",
                                        keys[i], major, minor, short_key_of(key)));
        else
            STEP(p, plan_preflight_warn(p, PF_INITDATA_KEY_IGNORED,
                                        "annotation %s: ignored by kata %u.%u, the VM gets the "
                                        "cluster's INITDATA",
                                        keys[i], major, minor));
    }
    return CW_OK;
}

/* SPEC §2.6: the object's own value under the key the runtime reads must be one kata can
 * read. Called only for a value that is not the document's (that one was checked at load). */
CW_MUST_USE static cw_result check_own_value(plan *p, const char *key)
{
    const cJSON *own =
        key && p->carrier_annotations ? jsonutil_member(p->carrier_annotations, key) : NULL;
    if (!cJSON_IsString(own))
        return CW_OK;
    initdata_alg alg;
    cw_error why = {{0}};
    cw_result r = initdata_check_value(own->valuestring, strlen(own->valuestring), &alg, &why);
    if (r == CW_ENOMEM)
        return r;
    if (r == CW_OK)
        return CW_OK;
    char who[CW_ERROR_MAX / 2], warn[ENGINE_WARNING_MAX + 1];
    plan_text(warn, sizeof warn, "kata %u.%u cannot read annotation %s: %s", p->runtime->kata_major,
              p->runtime->kata_minor, short_key_of(key), why.msg);
    return plan_refuse(p, PF_INITDATA_VALUE, 400, "initdata_value", warn,
                       "annotation %s: %s cannot read this initdata: %s (kata's shim fails on "
                       "it and the pod never starts); set the standard base64 of the gzip of a "
                       "TOML document with algorithm = \"sha256\", \"sha384\" or \"sha512\" "
                       "(coco-webhook initdata encode)",
                       key, plan_runtime_words(p, who, sizeof who), why.msg);
}

cw_result plan_initdata(plan *p)
{
    const config_initdata_document *doc = p->in->initdata.document;
    initdata_action action;
    denial why;
    const char *key = runtime_initdata_key(p->runtime);
    if (plan_building(p)) /* the building pass: preflight ran (run_plan) */
        STEP(p, warn_ignored_keys(p, key, doc));
    CW_GUARD(initdata_decide(key, &p->in->initdata, jsonutil_member(p->initdata_target, "metadata"),
                             p->in->prior, &action, &why));
    if (why.denied)
        return plan_deny(p, why.code, why.reason, "%s", why.message);
    /* An own value other than the document: the decision compared them already. */
    if (plan_building(p) && (!doc || action == INITDATA_KEEP_OTHER))
        STEP(p, check_own_value(p, key));
    if (p->res && action != INITDATA_NOTHING && action != INITDATA_KEEP_OTHER) {
        p->res->decision.initdata_document = doc->name;
        p->res->decision.initdata_digest = doc->doc.digest_text;
    }
    if (action == INITDATA_KEEP_OTHER)
        return plan_warn(p,
                         "initdata: the object's own annotation differs from document \"%s\"; "
                         "it is kept",
                         doc->name);
    if (action != INITDATA_SET && action != INITDATA_REPLACE)
        return CW_OK;
    jsonpatch_path path;
    cJSON *value =
        annotation_add_op(p, p->initdata_target, &p->initdata_path, key, doc->doc.value, &path);
    if (!value)
        return CW_ENOMEM;
    p->initdata_set = doc;
    p->annotations_added |= p->initdata_target == p->object;
    p->target_annotations_added = true;
    p->initdata_key = key;
    if (p->res)
        p->res->decision.initdata_set = true;
    return plan_emit(p, "add", &path, value);
}

/* ---- 2.7 pod-VM profile --------------------------------------------------------------- */

/* The machine type the object ends with, for the metric (building mode). */
static void note_machine_type(plan *p, const char *value)
{
    engine_decision *d = &p->res->decision;
    d->podvm_machine_type = config_podvm_machine_type_named(p->cfg, value);
    d->podvm_machine_type_other = value && !d->podvm_machine_type;
}

cw_result plan_podvm(plan *p)
{
    const config_podvm_profile *prof = p->in->podvm;
    if (!prof && !p->res)
        return CW_OK; /* the check pass of an object without a profile: nothing to look at */
    const cJSON *meta = jsonutil_member(p->initdata_target, "metadata");
    const cJSON *annotations = jsonutil_member(meta, "annotations");
    if (!prof) {
        /* No profile: only the metric reads the object's own machine type. */
        note_machine_type(p, jsonutil_string(annotations, PODVM_ANN_MACHINE_TYPE));
        return CW_OK;
    }
    if ((!jsonutil_is_absent(meta) && !cJSON_IsObject(meta)) ||
        (!jsonutil_is_absent(annotations) && !cJSON_IsObject(annotations)))
        return plan_deny(p, 400, "invalid_object",
                         "metadata and metadata.annotations must be objects");
    const cJSON *prior = jsonutil_member(prior_record_tree(p->in->prior), "podVM");
    const char *machine_type = jsonutil_string(annotations, PODVM_ANN_MACHINE_TYPE);
    if (p->res)
        p->res->decision.podvm_profile = prof;
    for (podvm_key k = 0; k < PODVM_KEY_COUNT; k++) {
        if (!podvm_runtime_allows(p->runtime, k))
            continue;
        podvm_action action;
        denial why;
        podvm_decide(prof, k, annotations, prior, &action, &why);
        if (why.denied)
            return plan_deny(p, why.code, why.reason, "%s", why.message);
        if (action != PODVM_SET && action != PODVM_REPLACE)
            continue;
        const char *value = podvm_value(prof, k);
        if (k == PODVM_MACHINE_TYPE)
            machine_type = value;
        jsonpatch_path path;
        cJSON *op = annotation_add_op(p, p->initdata_target, &p->initdata_path, podvm_annotation(k),
                                      value, &path);
        if (!op)
            return CW_ENOMEM;
        p->annotations_added |= p->initdata_target == p->object;
        p->target_annotations_added = true;
        p->podvm_set |= 1u << k;
        STEP(p, plan_emit(p, "add", &path, op));
    }
    if (p->res) {
        p->res->decision.podvm_set = p->podvm_set;
        note_machine_type(p, machine_type);
    }
    return CW_OK;
}

/* The record's podVM entry: the profile and the values the webhook set, this time or before
 * (an earlier record's values stay unless this pass set the key again). */
CW_MUST_USE static cw_result record_podvm(const plan *p, const cJSON *previous, cJSON *record)
{
    const cJSON *old = jsonutil_member(previous, "podVM");
    if (!p->podvm_set) {
        if (!cJSON_IsObject(old))
            return CW_OK;
        cJSON *dup = cJSON_Duplicate(old, 1);
        if (!dup || !cJSON_AddItemToObject(record, "podVM", dup)) {
            cJSON_Delete(dup);
            return CW_ENOMEM;
        }
        return CW_OK;
    }
    cJSON *entry = cJSON_AddObjectToObject(record, "podVM");
    if (!entry || !cJSON_AddStringToObject(entry, "profile", p->in->podvm->name))
        return CW_ENOMEM;
    for (podvm_key k = 0; k < PODVM_KEY_COUNT; k++) {
        const char *name = podvm_config_name(k);
        const char *value =
            (p->podvm_set & (1u << k)) ? podvm_value(p->in->podvm, k) : jsonutil_string(old, name);
        if (value && !cJSON_AddStringToObject(entry, name, value))
            return CW_ENOMEM;
    }
    return CW_OK;
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
CW_MUST_USE static cw_result entry_set_add(entry_set *set, const cJSON *v, bool *added)
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
CW_MUST_USE static cw_result merge_list(cJSON *record, const cJSON *previous, const char *name,
                                        cJSON *fresh)
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

/* SPEC §2.6: the names of the rules that warned, merged with the earlier ones. */
CW_MUST_USE static cw_result record_preflight(plan *p, cJSON *record, const cJSON *previous)
{
    if (!p->preflight_warned && !jsonutil_member(previous, "preflight"))
        return CW_OK;
    cJSON *fresh = cJSON_CreateArray();
    if (!fresh)
        return CW_ENOMEM;
    for (unsigned rule = 0; rule < PF_RULE_COUNT; rule++) {
        cJSON *name;
        if (!(p->preflight_warned & (1u << rule)))
            continue;
        if (!(name = cJSON_CreateString(preflight_rule_name((preflight_rule)rule))) ||
            !cJSON_AddItemToArray(fresh, name)) {
            cJSON_Delete(name);
            cJSON_Delete(fresh);
            return CW_ENOMEM;
        }
    }
    cw_result r = merge_list(record, previous, "preflight", fresh);
    cJSON_Delete(fresh);
    return r;
}

/* Builds the record annotation value and the operation that sets it. */
cw_result plan_record(plan *p)
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
        (r = merge_list(record, previous, "sealedSecrets", p->record_secrets)) ||
        (r = record_preflight(p, record, previous)))
        goto done;
    r = CW_ENOMEM;
    if (p->initdata_set) {
        cJSON *init = cJSON_AddObjectToObject(record, "initdata");
        if (!init || !cJSON_AddStringToObject(init, "document", p->initdata_set->name) ||
            !cJSON_AddStringToObject(init, "digest", p->initdata_set->doc.digest_text) ||
            !cJSON_AddStringToObject(init, "key", p->initdata_key))
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
    if ((r = record_podvm(p, previous, record)))
        goto done;
    r = CW_ENOMEM;
    char *text = cJSON_PrintUnformatted(record);
    if (!text)
        goto done;
    p->res->record = text;

    jsonpatch_path root, path;
    jsonpatch_path_init(&root);
    cJSON *value = annotation_add_op(p, p->object, &root, ENGINE_ANN_RECORD, text, &path);
    if (value)
        r = plan_emit(p, "add", &path, value);
done:
    cJSON_Delete(record);
    return r;
}
