/* engine_volumes.c: SPEC §2.2 (PVC and ephemeral volumes replaced by pod-VM storage, the
 * keep-volumes annotation) and §2.3 (sealed Secrets: their volumes and read-only mounts). Steps
 * of one planning pass (engine_plan.h). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "engine_plan.h"
#include "hash.h"

#define SEALED_VOLUME_PREFIX "coco-sealed-"

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

CW_MUST_USE static cw_result record_volume(plan *p, const char *volume, const char *claim)
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

CW_MUST_USE static cw_result warn_replaced(plan *p, const char *volume, const char *claim)
{
    const char *tail = "replaced by pod-VM storage; data is lost when the pod ends";
    char what[ENGINE_WARNING_MAX]; /* longer could not be shown: the short form is used */
    if (claim)
        snprintf(what, sizeof what, "PVC \"%s\"", claim);
    else
        snprintf(what, sizeof what, "ephemeral volume");
    if (strlen(volume) + strlen(what) + strlen(tail) + 12 <= ENGINE_WARNING_MAX)
        return plan_warn(p, "volume \"%s\": %s %s", volume, what, tail);
    /* Long names: shorten them so that the warning stays within the API server's limit. */
    if (claim)
        return plan_warn(p, "volume \"%.16s...\": PVC \"%.16s...\" %s", volume, claim, tail);
    return plan_warn(p, "volume \"%.24s...\": ephemeral volume %s", volume, tail);
}

cw_result plan_storage(plan *p)
{
    cJSON *volumes = jsonutil_member(p->spec, "volumes");
    if (jsonutil_is_absent(volumes))
        return CW_OK;
    if (!cJSON_IsArray(volumes))
        return plan_deny(p, 400, "invalid_object", "spec.volumes must be a list");

    size_t i = 0;
    cJSON *first_empty = NULL; /* plan_keep_first */
    for (cJSON *v = volumes->child; v; v = v->next, i++) {
        const char *name = jsonutil_string(v, "name");
        if (!name)
            return plan_deny(p, 400, "invalid_object", "spec.volumes[%zu] has no name", i);
        cJSON *pvc = jsonutil_member(v, "persistentVolumeClaim");
        cJSON *eph = jsonutil_member(v, "ephemeral");
        const char *source = !jsonutil_is_absent(pvc)   ? "persistentVolumeClaim"
                             : !jsonutil_is_absent(eph) ? "ephemeral"
                                                        : NULL;
        if (!source || !p->cfg->replace_persistent_volumes)
            continue;
        if (!jsonutil_is_absent(pvc) && !jsonutil_is_absent(eph))
            return plan_deny(p, 400, "invalid_object",
                             "volume \"%.63s\" has both persistentVolumeClaim and ephemeral; a "
                             "volume has one source",
                             name);
        /* A keep-volumes name, or a claim a volumeDevices entry uses (an emptyDir cannot be a
         * block device: the API server would refuse the pod). */
        if (strmap_get(&p->index, TAG_KEEP, name, strlen(name)) ||
            (p->devices && strmap_get(&p->index, TAG_DEVICE, name, strlen(name))))
            continue;
        const char *claim = NULL;
        if (source[0] == 'p') {
            claim = jsonutil_string(pvc, "claimName");
            if (!claim)
                return plan_deny(
                    p, 400, "invalid_object",
                    "volume \"%.63s\": persistentVolumeClaim.claimName must be a string", name);
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
            r = plan_emit(p, "remove", &path, NULL);
            jsonpatch_path_truncate(&path, base);
            if (r || p->denied)
                return r;
        }
        jsonpatch_path_key(&path, source);
        STEP(p, plan_emit(p, "remove", &path, NULL));
        jsonpatch_path_truncate(&path, base);
        jsonpatch_path_key(&path, "emptyDir");
        cJSON *empty = first_empty ? plan_reference(first_empty) : make_empty_dir(p->cfg);
        if (!empty)
            return CW_ENOMEM;
        r = plan_emit(p, "add", &path, empty);
        plan_keep_first(p, &first_empty, empty, r);
        if (r || p->denied)
            return r;
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
cw_result plan_check_keep_list(plan *p)
{
    if (!p->res)
        return CW_OK;
    for (size_t k = 0; k < p->in->keep_count; k++) {
        const char *keep = p->in->keep[k];
        bool found = strmap_get(&p->index, TAG_VOLUME, keep, strlen(keep)) != NULL;
        cw_result r;
        if (!found && (r = plan_warn(p,
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

static cJSON *volume_named(const plan *p, const char *name)
{
    return name ? strmap_get(&p->index, TAG_VOLUME, name, strlen(name)) : NULL;
}

/* Chooses the volume carrying entry's Secret: an existing one (reused, not duplicated) or
 * the webhook's own, added to spec.volumes when missing. */
CW_MUST_USE static cw_result sealed_volume(plan *p, const sealed_entry *e, char *name, size_t cap)
{
    cJSON *carrier = strmap_get(&p->index, TAG_SECRET, e->secret, strlen(e->secret));
    if (carrier) {
        snprintf(name, cap, "%s", jsonutil_string(carrier, "name"));
        return CW_OK;
    }
    sealed_volume_name(e->secret, name, cap);
    cJSON *clash = volume_named(p, name);
    if (clash)
        return plan_deny(
            p, 403, "volume_conflict",
            "volume \"%s\" exists but does not mount Secret \"%.63s\"; rename that volume", name,
            e->secret);
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
        return plan_emit(p, "add", &path, list);
    }
    jsonpatch_path_append_end(&path);
    return plan_emit(p, "add", &path, volume);
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
CW_MUST_USE static cw_result check_containers(plan *p, const char *field)
{
    cJSON *list = jsonutil_member(p->spec, field);
    if (jsonutil_is_absent(list))
        return CW_OK;
    if (!cJSON_IsArray(list))
        return plan_deny(p, 400, "invalid_object", "spec.%s must be a list", field);
    if (!p->bad_field || strcmp(p->bad_field, field) != 0)
        return CW_OK;
    switch (p->bad_what) {
    case BAD_NAME:
        return plan_deny(p, 400, "invalid_object", "spec.%s[%zu] has no name", field, p->bad_index);
    case BAD_MOUNTS:
        return plan_deny(p, 400, "invalid_object", "spec.%s[%zu].volumeMounts must be a list",
                         field, p->bad_index);
    default:
        return plan_deny(p, 400, "invalid_object",
                         "spec.%s[%zu].volumeMounts: every mount needs a name and a mountPath",
                         field, p->bad_index);
    }
}

/* The read-only mount of volume at e->path. Returns owned, or NULL when out of memory. */
static cJSON *make_mount(const char *volume, const sealed_entry *e)
{
    cJSON *mount = cJSON_CreateObject();
    if (!mount || !cJSON_AddStringToObject(mount, "name", volume) ||
        !cJSON_AddStringToObject(mount, "mountPath", e->path) ||
        !cJSON_AddTrueToObject(mount, "readOnly")) {
        cJSON_Delete(mount);
        return NULL;
    }
    return mount;
}

/* Mounts volume at e->path in one container, unless it is there already. *first: the
 * entry's first mount emitted (plan_keep_first). */
CW_MUST_USE static cw_result mount_in_container(plan *p, container_slot *slot, const char *volume,
                                                const sealed_entry *e, cJSON **first)
{
    uint32_t tag = TAG_MOUNT + (uint32_t)(slot - p->slots);
    cJSON *existing = strmap_get(&p->index, tag, e->path, mount_path_len(e->path));
    if (existing) {
        const char *mname = jsonutil_string(existing, "name");
        if (strcmp(mname, volume) == 0 || is_secret_volume_of(volume_named(p, mname), e->secret))
            return CW_OK; /* already mounted */
        return plan_deny(
            p, 400, "mount_conflict",
            "container \"%.63s\": mount path \"%.200s\" for sealed Secret \"%.63s\" is "
            "already used by volume \"%.63s\"",
            slot->name, e->path, e->secret, mname);
    }

    cJSON *mount = *first ? plan_reference(*first) : make_mount(volume, e);
    if (!mount)
        return CW_ENOMEM;
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
    cw_result r;
    if (!slot->has_mounts && !slot->mounts_created) {
        cJSON *list = cJSON_CreateArray();
        if (!list) {
            cJSON_Delete(mount);
            return CW_ENOMEM;
        }
        cJSON_AddItemToArray(list, mount);
        slot->mounts_created = plan_building(p);
        r = plan_emit(p, "add", &path, list);
    } else {
        jsonpatch_path_append_end(&path);
        r = plan_emit(p, "add", &path, mount);
    }
    plan_keep_first(p, first, mount, r);
    return r;
}

CW_MUST_USE static cw_result record_secret(plan *p, const sealed_entry *e)
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

cw_result plan_sealed(plan *p)
{
    const inputs *in = p->in;
    cw_result r;
    STEP(p, check_containers(p, "containers"));
    STEP(p, check_containers(p, "initContainers"));
    if (in->sealed_count == 0)
        return CW_OK;
    for (size_t t = 0; t < in->target_count; t++)
        if (!container_named(p, in->targets[t]))
            return plan_deny(p, 400, "annotation",
                             "annotation %s names container \"%s\", which this pod does not have",
                             ENGINE_ANN_SEALED_CONTAINERS, in->targets[t]);
    /* Every entry may add a mount to every target: refuse before building them. */
    size_t targets = in->target_count;
    if (targets == 0)
        while (targets < p->slot_count && p->slots[targets].field[0] == 'c')
            targets++;
    if (in->sealed_count * targets > JSONPATCH_OPS_MAX)
        return plan_deny_too_many(p);

    for (size_t i = 0; i < in->sealed_count; i++) {
        const sealed_entry *e = &in->sealed[i];
        char volume[K8S_DNS_LABEL_MAX + 1];
        size_t mounts_before = p->mounts_added;
        cJSON *first = NULL; /* plan_keep_first */
        STEP(p, sealed_volume(p, e, volume, sizeof volume));
        if (in->target_count == 0) {
            for (size_t c = 0; c < p->slot_count && p->slots[c].field[0] == 'c'; c++)
                STEP(p, mount_in_container(p, &p->slots[c], volume, e, &first));
        } else {
            for (size_t t = 0; t < in->target_count; t++) {
                container_slot *slot = container_named(p, in->targets[t]);
                if (slot->entry_mark == i + 1)
                    continue;
                slot->entry_mark = i + 1;
                STEP(p, mount_in_container(p, slot, volume, e, &first));
            }
        }
        if (p->mounts_added > mounts_before && (r = record_secret(p, e)))
            return r;
    }
    return CW_OK;
}
