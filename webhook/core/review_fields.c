/* review_fields: see review_fields.h. */
#include "review_fields.h"

enum {
    S_REVIEW,
    S_REQUEST,
    S_OBJECT,
    S_METADATA,
    S_SPEC,
    S_CONTAINERS,
    S_CONTAINER,
    S_TEMPLATE,
    S_COUNT
};

#define MEMBERS(list) list, sizeof list / sizeof list[0]

static const json_prune_member review[] = {{"request", JSON_PRUNE_ENTER, S_REQUEST}};
static const json_prune_member request[] = {{"object", JSON_PRUNE_ENTER, S_OBJECT},
                                            {"oldObject", JSON_PRUNE_DROP, 0}};
static const json_prune_member object[] = {{"metadata", JSON_PRUNE_ENTER, S_METADATA},
                                           {"spec", JSON_PRUNE_ENTER, S_SPEC},
                                           {"status", JSON_PRUNE_DROP, 0}};
static const json_prune_member metadata[] = {{"managedFields", JSON_PRUNE_DROP, 0}};
/* A pod spec, or the spec of a Notebook or workload holding a pod template: only what the
 * engine reads (engine.c, engine_index.c, engine_volumes.c, engine_preflight.c). */
static const json_prune_member spec[] = {{"volumes", JSON_PRUNE_KEEP, 0},
                                         {"runtimeClassName", JSON_PRUNE_KEEP, 0},
                                         {"hostNetwork", JSON_PRUNE_KEEP, 0},
                                         {"hostPID", JSON_PRUNE_KEEP, 0},
                                         {"hostIPC", JSON_PRUNE_KEEP, 0},
                                         {"containers", JSON_PRUNE_ENTER, S_CONTAINERS},
                                         {"initContainers", JSON_PRUNE_ENTER, S_CONTAINERS},
                                         {"template", JSON_PRUNE_ENTER, S_TEMPLATE},
                                         {"jobTemplate", JSON_PRUNE_ENTER, S_TEMPLATE}};
static const json_prune_member container[] = {{"name", JSON_PRUNE_KEEP, 0},
                                              {"volumeMounts", JSON_PRUNE_KEEP, 0},
                                              {"volumeDevices", JSON_PRUNE_KEEP, 0}};
static const json_prune_member template[] = {{"metadata", JSON_PRUNE_ENTER, S_METADATA},
                                             {"spec", JSON_PRUNE_ENTER, S_SPEC}};

static const json_prune_state states[S_COUNT] = {
    [S_REVIEW] = {MEMBERS(review), JSON_PRUNE_KEEP, -1},
    [S_REQUEST] = {MEMBERS(request), JSON_PRUNE_KEEP, -1},
    [S_OBJECT] = {MEMBERS(object), JSON_PRUNE_KEEP, -1},
    [S_METADATA] = {MEMBERS(metadata), JSON_PRUNE_KEEP, -1},
    [S_SPEC] = {MEMBERS(spec), JSON_PRUNE_DROP, -1},
    [S_CONTAINERS] = {NULL, 0, JSON_PRUNE_KEEP, S_CONTAINER},
    [S_CONTAINER] = {MEMBERS(container), JSON_PRUNE_DROP, -1},
    [S_TEMPLATE] = {MEMBERS(template), JSON_PRUNE_KEEP, -1},
};

const json_prune_rules review_fields_rules = {states, S_COUNT};
