/* engine_index.c: the name indexes of one planning pass (plan.index, plan.slots): volume and
 * Secret names, container names, the mount paths of each container, and keep-volumes, built once
 * per pass so that no step rescans a list (engine_plan.h). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine_plan.h"

/* ---- indexes ------------------------------------------------------------------------- */

CW_MUST_USE static cw_result index_put(plan *p, uint32_t tag, const char *key, size_t len,
                                       void *value)
{
    cw_result r = strmap_put(&p->index, tag, key, len, value);
    if (r == CW_ELIMIT)
        return plan_deny(p, 400, "too_large", "the object has more names than the webhook indexes");
    return r;
}

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
CW_MUST_USE static cw_result index_containers(plan *p, const char *field, uint32_t tag)
{
    cJSON *list = jsonutil_member(p->spec, field);
    size_t i = 0;
    for (cJSON *c = cJSON_IsArray(list) ? list->child : NULL; c; c = c->next, i++) {
        const char *name = NULL;
        cJSON *mounts = NULL, *devices = NULL;
        for (cJSON *m = cJSON_IsObject(c) ? c->child : NULL; m; m = m->next) {
            if (!m->string)
                continue;
            if (!name && strcmp(m->string, "name") == 0)
                name = cJSON_IsString(m) ? m->valuestring : NULL;
            else if (!mounts && strcmp(m->string, "volumeMounts") == 0)
                mounts = m;
            else if (!devices && strcmp(m->string, "volumeDevices") == 0)
                devices = m;
        }
        /* SPEC §2.2, §2.6: the volumes of block devices (never replaced; refused on peer pods) */
        for (cJSON *d = cJSON_IsArray(devices) ? devices->child : NULL; d; d = d->next) {
            const char *volume = jsonutil_string(d, "name");
            if (!volume)
                continue;
            if (p->devices++ == 0) {
                p->device_container = name ? name : "";
                p->device_volume = volume;
            }
            STEP(p, index_put(p, TAG_DEVICE, volume, strlen(volume), d));
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
            /* One walk of the mount's members: its path, its volume, and whether it mounts a
             * subPath (SPEC §2.6 looks at those only when there is one). */
            const char *path = NULL, *volume = NULL;
            for (const cJSON *f = cJSON_IsObject(m) ? m->child : NULL; f; f = f->next) {
                if (!path && strcmp(f->string, "mountPath") == 0)
                    path = cJSON_IsString(f) ? f->valuestring : NULL;
                else if (!volume && strcmp(f->string, "name") == 0)
                    volume = cJSON_IsString(f) ? f->valuestring : NULL;
                else if (strncmp(f->string, "subPath", 7) == 0 && cJSON_IsString(f) &&
                         f->valuestring[0])
                    p->subpath_mounts++;
            }
            if (!path || !volume) {
                note_bad(p, field, i, BAD_MOUNT);
                continue;
            }
            STEP(p, index_put(p, mount_tag, path, mount_path_len(path), m));
        }
    }
    return CW_OK;
}

/* Builds p->index over the PodSpec: once per pass, so that every later lookup is O(1). */
cw_result plan_index_build(plan *p)
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

void plan_index_clear(plan *p)
{
    strmap_clear(&p->index);
    free(p->slots);
    p->slots = NULL;
    p->slot_count = p->slot_cap = 0;
    p->bad_field = NULL;
}
