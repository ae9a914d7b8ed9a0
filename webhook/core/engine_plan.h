/* engine_plan.h: the engine's private planning state and the steps its files share. Included
 * only by webhook/core/engine*.c: engine.c (the driver, the inputs, SPEC §1 and §2.1, the check
 * pass), engine_index.c (the per-pass name indexes), engine_volumes.c (§2.2 storage, §2.3
 * sealed secrets), engine_preflight.c (§2.6 preflight) and engine_record.c (§2.4 record, §2.5
 * initdata, §2.7 pod-VM profile).
 *
 * A plan is one planning pass over a PodSpec: building (p->text and p->res set) or checking
 * (both NULL: operations are only counted). Every step returns CW_OK when it did its work or
 * denied the object (p->denied: a decision, not an error), and an error (CW_ENOMEM) only when
 * the work itself failed; after either the caller stops (STEP). */
#ifndef COCO_ENGINE_PLAN_H
#define COCO_ENGINE_PLAN_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "config.h"
#include "engine.h"
#include "initdata.h"
#include "jsonpatch.h"
#include "jsonutil.h"
#include "k8s_names.h"
#include "podvm.h"
#include "result.h"
#include "runtime_profile.h"
#include "sealed_entries.h"
#include "strmap.h"

#define NAME_LIST_MAX ENGINE_ENTRIES_MAX

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
    const config_podvm_profile *podvm; /* SPEC §2.7: borrowed from the config, or NULL */
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
    TAG_DEVICE,         /* volume named by a volumeDevices entry -> the entry */
    TAG_MOUNT,          /* TAG_MOUNT + slot number, mount path -> the mount */
};

enum { BAD_NAME, BAD_MOUNTS, BAD_MOUNT };

/* The rules of SPEC §2.6, named in warnings' record (preflight_rule_name). */
typedef enum preflight_rule {
    PF_ANNOTATION,           /* hypervisor.* annotation outside the allow-list: refused */
    PF_INITDATA_KEY_REFUSED, /* the initdata key the runtime refuses */
    PF_INITDATA_KEY_IGNORED, /* the initdata key the runtime ignores: warned */
    PF_INITDATA_VALUE,       /* an own initdata value kata cannot read (400) */
    PF_HOST_NETWORK,         /* peer pods: refused */
    PF_VOLUME_DEVICES,       /* peer pods: refused */
    PF_SEALED_SUBPATH,       /* a sealed Secret mounted with subPath: never unsealed */
    PF_HOST_PID,             /* warned: ignored in the VM */
    PF_HOST_IPC,             /* warned: ignored in the VM */
    PF_HOST_PATH,            /* warned: copied once, not confidential */
    PF_MEMORY_SIZE_LIMIT,    /* warned: sizeLimit of a Memory emptyDir not applied */
    PF_RULE_COUNT,
} preflight_rule;

/* One planning pass. In building mode (patch or text != NULL: plan_building) operations are
 * appended to the patch text and warnings and the record are collected; in checking mode only
 * ops is counted. */
typedef struct plan {
    const config *cfg;
    const inputs *in;
    cJSON *object;
    cJSON *spec;
    jsonpatch_text *text; /* the patch being built; NULL in the check pass */
    size_t ops;
    engine_result *res;
    cJSON *record_volumes; /* owned during building */
    cJSON *record_secrets; /* owned during building */
    const char *record_class;
    /* SPEC §2.6: the class the object runs with (set or kept by plan_runtime_class) and the
     * runtime it stands for */
    const char *runtime_class;
    const runtime_profile *runtime;
    bool volumes_exist;        /* spec.volumes exists, or an earlier op created it */
    size_t added_volume_count; /* of added_volumes */
    size_t mounts_added;       /* volumeMounts added by this pass */
    /* A denial is a decision, not an error: plan_deny() records the first one here and every step
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
    const char *initdata_key;                     /* the key it is set under */
    /* SPEC §2.6 */
    unsigned preflight_warned; /* bit (1 << preflight_rule) of each rule that warned */
    size_t devices;            /* volumeDevices entries (indexed under TAG_DEVICE) */
    const char *device_container, *device_volume; /* the first one */
    bool target_annotations_added; /* an earlier op created initdata_target's annotations */
    unsigned podvm_set;    /* SPEC §2.7: the pod-VM keys this pass sets (bit 1 << podvm_key) */
    size_t subpath_mounts; /* volumeMounts with a subPath or subPathExpr (engine_index.c) */
    /* the annotations of initdata_target (what the pod carries), found once per pass by
     * plan_preflight; NULL when absent or not an object */
    const cJSON *carrier_annotations;
    /* Under the server: values repeated per container or volume are shared (plan_reference) */
    bool share_values;

    /* The large buffers come last: plan_init zeroes only the fields above them (zeroing
     * 12 KB twice per request was a tenth of the engine's cost). */
    jsonpatch_path spec_path;
    jsonpatch_path initdata_path; /* where initdata_target is */
    /* Secret volumes added by this pass (a Secret may be mounted at several paths). */
    char added_volumes[SEALED_ENTRIES_MAX][K8S_DNS_LABEL_MAX + 1];
    /* Indexes over the PodSpec, built once per pass (plan_index_build), so that no loop over
     * entries and containers rescans a list: volume and Secret names, container names, and
     * the mount paths of each container. */
    strmap index;
} plan;

/* ---- shared by every step (engine.c) ----------------------------------------------------- */

/* Denies the object: records why in the plan and returns CW_OK (nothing failed); the caller
 * returns at once, and the steps around it stop (STEP). The first denial is kept. */
cw_result plan_deny(plan *p, int code, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Runs one step that may deny: returns from the calling step on an error or a denial. */
#define STEP(p, expr)                                                                              \
    do {                                                                                           \
        cw_result step_rc_ = (expr);                                                               \
        if (step_rc_ != CW_OK || (p)->denied)                                                      \
            return step_rc_;                                                                       \
    } while (0)

/* Denies an object whose mutation needs more than JSONPATCH_OPS_MAX operations. */
CW_MUST_USE cw_result plan_deny_too_many(plan *p);

/* Appends one operation (building) or counts it (checking). Takes ownership of value (NULL
 * for "remove"). Denies past JSONPATCH_OPS_MAX operations or a path too long; CW_ENOMEM. */
CW_MUST_USE cw_result plan_emit(plan *p, const char *op, const jsonpatch_path *path, cJSON *value);

/* Whether p is the building pass (operations kept), not the check's counting pass. */
static inline bool plan_building(const plan *p)
{
    return p->text != NULL;
}

/* Values emitted the same in many operations (a sealed Secret's mount in every container, the
 * emptyDir of every replaced volume). Under the server (p->share_values) only the first is
 * built: once emitted, plan_keep_first notes it in *first, and every later one is
 * plan_reference(*first), a node referencing its members (cJSON_CreateObjectReference: 64
 * bytes instead of a copy; the 32,768 mounts of a 5.4 MB review were 12 MB). The check's apply
 * moves the first into the object ahead of its references, so the mutated object holds both:
 * it reads, prints and frees as usual (cJSON_Delete does not follow a reference), but an edit
 * of the first would show through every reference. Offline callers, who edit and write the
 * object further, and the check pass, whose values are freed at once, get copies (*first stays
 * NULL). */
static inline cJSON *plan_reference(const cJSON *first)
{
    return cJSON_CreateObjectReference(first->child);
}

static inline void plan_keep_first(const plan *p, cJSON **first, cJSON *value, cw_result emitted)
{
    if (p->share_values && !*first && emitted == CW_OK && !p->denied)
        *first = value;
}

/* Adds a warning to the answer (building mode; at most ENGINE_WARNINGS_MAX, each cut at
 * ENGINE_WARNING_MAX characters). CW_ENOMEM: a warning the user must see is never dropped. */
CW_MUST_USE cw_result plan_warn(plan *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Starts path at the PodSpec's path. Copies only the used bytes of the buffer. Inline: once
 * per operation. */
static inline void path_at_spec(jsonpatch_path *path, const plan *p)
{
    memcpy(path->buf, p->spec_path.buf, p->spec_path.len + 1);
    path->len = p->spec_path.len;
    path->overflow = p->spec_path.overflow;
}

/* The length of a mount path without trailing slashes ("/a/" and "/a" are one path). */
static inline size_t mount_path_len(const char *path)
{
    size_t len = strlen(path);
    while (len > 1 && path[len - 1] == '/')
        len--;
    return len;
}

/* Whether volume carries the whole Secret secret. */
static inline bool is_secret_volume_of(const cJSON *volume, const char *secret)
{
    const cJSON *s = jsonutil_member(volume, "secret");
    const char *name = jsonutil_string(s, "secretName");
    /* A volume projecting only some keys does not carry the whole Secret. */
    return name && strcmp(name, secret) == 0 && jsonutil_is_absent(jsonutil_member(s, "items"));
}

/* ---- the per-pass indexes (engine_index.c) ----------------------------------------------- */

/* Builds p->index and p->slots over the PodSpec, once per pass, so that every later lookup is
 * O(1); notes the first malformed container for the §2.3 step to deny. Denies an object with
 * more names than a strmap holds. */
CW_MUST_USE cw_result plan_index_build(plan *p);
/* Frees what plan_index_build made; the plan can be indexed again. */
void plan_index_clear(plan *p);

/* ---- the mutations (engine_volumes.c, engine_record.c) ----------------------------------- */

/* SPEC §2.2: replaces the PVC and ephemeral volumes not in keep-volumes by emptyDir ones. */
CW_MUST_USE cw_result plan_storage(plan *p);
/* SPEC §2.2: warns about keep-volumes names that name no volume (building mode only). */
CW_MUST_USE cw_result plan_check_keep_list(plan *p);
/* SPEC §2.3: checks the containers, then mounts every sealed Secret (adding its volume). */
CW_MUST_USE cw_result plan_sealed(plan *p);
/* SPEC §2.6: the runtime's refusals and silent ignores (annotations, host namespaces, block
 * devices, hostPath and Memory volumes, sealed subPath mounts), after plan_runtime_class; in
 * the building pass only (it emits no operation). Sets p->carrier_annotations. */
CW_MUST_USE cw_result plan_preflight(plan *p);
/* SPEC §2.6: a rule that would make the runtime refuse or silently weaken the pod: denied
 * (code, reason, then the message of fmt), or under `preflight: warn` the warning text
 * instead (once per rule). */
CW_MUST_USE cw_result plan_refuse(plan *p, preflight_rule rule, int code, const char *reason,
                                  const char *warning, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
/* SPEC §2.6: the warning of rule (once per rule and object; noted for the record). */
CW_MUST_USE cw_result plan_preflight_warn(plan *p, preflight_rule rule, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* vsnprintf into buf: a text meant to be cut at cap (a warning), without the compiler's
 * truncation check of snprintf. */
void plan_text(char *buf, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The rule's name in the record ("host-network"). */
const char *preflight_rule_name(preflight_rule rule);
/* "the CLASS runtime (kata X.Y, peer pods)": the start of every preflight denial. */
const char *plan_runtime_words(const plan *p, char *buf, size_t cap);

/* SPEC §2.5: sets, replaces or keeps the initdata annotation on p->initdata_target. */
CW_MUST_USE cw_result plan_initdata(plan *p);
/* SPEC §2.7: sets the pod-VM profile's annotations on p->initdata_target where it has none,
 * or denies its own values. */
CW_MUST_USE cw_result plan_podvm(plan *p);
/* SPEC §2.4: builds the record (merged with the prior one) into p->res->record and the
 * operation that sets it. Building mode only, after every other step. */
CW_MUST_USE cw_result plan_record(plan *p);

#endif
