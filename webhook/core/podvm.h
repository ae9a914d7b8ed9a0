/* podvm: the engine's pod-VM profile rules (SPEC §2.7): which of the four pod-VM annotations
 * the remote runtime reads an object gets from its namespace's profile, and whether its own
 * values are kept or denied. The engine calls these and emits what they decide (the
 * operation that sets an annotation is the engine's, as for initdata); this module builds
 * no patch and keeps no state.
 *
 * It never touches io.katacontainers.config.hypervisor.default_vcpus or default_memory: the
 * peer-pods webhook sets them from the pod's resource requests (FACTS.md, "Peer pods"). */
#ifndef COCO_PODVM_H
#define COCO_PODVM_H

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "config.h"
#include "denial.h"
#include "result.h"
#include "runtime_profile.h"

#define PODVM_ANN_PREFIX RUNTIME_HYPERVISOR_PREFIX
#define PODVM_ANN_MACHINE_TYPE PODVM_ANN_PREFIX "machine_type"
#define PODVM_VALUE_SHOWN 80 /* bytes of an object's value quoted in a message */

/* The keys a profile sets, in the order the webhook emits them. */
typedef enum podvm_key {
    PODVM_MACHINE_TYPE, /* machineType -> hypervisor.machine_type */
    PODVM_IMAGE,        /* image -> hypervisor.image */
    PODVM_GPUS,         /* gpus -> hypervisor.default_gpus */
    PODVM_GPU_MODEL,    /* gpuModel -> hypervisor.gpu_model */
    PODVM_KEY_COUNT,
} podvm_key;

/* The full annotation key of k ("io.katacontainers.config.hypervisor.machine_type"). Static. */
const char *podvm_annotation(podvm_key k);
/* The config key of k ("machineType"), also its name in the record. Static. */
const char *podvm_config_name(podvm_key k);
/* The profile's value for k, or NULL when the profile leaves it to the cluster. Borrowed. */
const char *podvm_value(const config_podvm_profile *p, podvm_key k);

/* Whether an object whose class stands for runtime (borrowed; NULL: none) may get the
 * annotation of k: the runtime is peer pods and its allow-list has the key (SPEC §2.6, the
 * tables of runtime_profile.c). A bare-metal runtime gets none: it has no instance types. */
bool podvm_runtime_allows(const runtime_profile *runtime, podvm_key k);

typedef enum podvm_action {
    PODVM_NOTHING, /* the profile does not set k, and the object's own value (if any) is fine */
    PODVM_SET,     /* add the annotation with the profile's value */
    PODVM_KEEP,    /* the object carries a value that stays */
    PODVM_REPLACE, /* the value is one the webhook set earlier from an older profile */
} podvm_action;

/* Decides key k for an object of profile p (borrowed, not NULL) whose metadata.annotations is
 * annotations (borrowed; NULL or JSON null: none; checked to be an object by the caller).
 * prior is the podVM object of the record the object carries (borrowed; may be NULL): a value
 * equal to the one it names was set by the webhook from an older profile, and is REPLACEd when
 * the profile now sets another. Otherwise the object's own value is kept, or denied (403,
 * naming the allowed values) when it is a machine type outside allowedMachineTypes or differs
 * from the set value under enforce; a value that is not a string is a 400. */
void podvm_decide(const config_podvm_profile *p, podvm_key k, const cJSON *annotations,
                  const cJSON *prior, podvm_action *action, denial *d);

#endif
