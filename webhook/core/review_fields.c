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

#define ENTER(key, state)                                                                          \
    {                                                                                              \
        key, JSON_PRUNE_ENTER, state                                                               \
    }
#define KEEP(key)                                                                                  \
    {                                                                                              \
        key, JSON_PRUNE_KEEP, 0                                                                    \
    }
#define DROP(key)                                                                                  \
    {                                                                                              \
        key, JSON_PRUNE_DROP, 0                                                                    \
    }
#define MEMBERS(list) list, sizeof list / sizeof list[0]

static const json_prune_member review[] = {ENTER("request", S_REQUEST)};
static const json_prune_member request[] = {ENTER("object", S_OBJECT), DROP("oldObject")};
static const json_prune_member object[] = {ENTER("metadata", S_METADATA), ENTER("spec", S_SPEC),
                                           DROP("status")};
static const json_prune_member metadata[] = {DROP("managedFields")};
/* A pod spec, or the spec of a Notebook or workload holding a pod template. */
static const json_prune_member spec[] = {
    ENTER("containers", S_CONTAINERS), ENTER("initContainers", S_CONTAINERS),
    ENTER("ephemeralContainers", S_CONTAINERS), ENTER("template", S_TEMPLATE),
    ENTER("jobTemplate", S_TEMPLATE)};
static const json_prune_member container[] = {KEEP("name"), KEEP("volumeMounts"),
                                              KEEP("volumeDevices")};
static const json_prune_member template[] = {ENTER("metadata", S_METADATA), ENTER("spec", S_SPEC)};

static const json_prune_state states[S_COUNT] = {
    [S_REVIEW] = {MEMBERS(review), JSON_PRUNE_KEEP, -1},
    [S_REQUEST] = {MEMBERS(request), JSON_PRUNE_KEEP, -1},
    [S_OBJECT] = {MEMBERS(object), JSON_PRUNE_KEEP, -1},
    [S_METADATA] = {MEMBERS(metadata), JSON_PRUNE_KEEP, -1},
    [S_SPEC] = {MEMBERS(spec), JSON_PRUNE_KEEP, -1},
    [S_CONTAINERS] = {NULL, 0, JSON_PRUNE_KEEP, S_CONTAINER},
    [S_CONTAINER] = {MEMBERS(container), JSON_PRUNE_DROP, -1},
    [S_TEMPLATE] = {MEMBERS(template), JSON_PRUNE_KEEP, -1},
};

const json_prune_rules review_fields_rules = {states, S_COUNT};
