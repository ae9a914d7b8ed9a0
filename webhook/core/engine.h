/* engine: decides whether an object is selected for Confidential Containers and computes its
 * mutation (SPEC §1-§2) as targeted RFC 6902 operations, warnings and a record annotation,
 * or a denial. Shared by the admission server and the offline `mutate` command.
 *
 * The engine reads the object and never keeps pointers into it after returning. Before it
 * returns a patch it applies the patch to the object (in place: the object becomes the
 * mutated object) and checks the result: the result must be selected, in the wanted state,
 * and mutate again to an empty patch. A patch failing that check is never returned; the call
 * yields ENGINE_DENIED with code 500 and an internal-error message instead.
 *
 * Every rule is decided here, once: DELETE and CONNECT too are skipped by the engine (reason
 * "operation not mutated"), the admission layer only carries the decision. */
#ifndef COCO_ENGINE_H
#define COCO_ENGINE_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "result.h"

#define ENGINE_WARNING_MAX 120                  /* characters of one admission warning (FACTS.md) */
#define ENGINE_WARNINGS_MAX 64                  /* warnings kept for one object */
#define ENGINE_ANNOTATION_MAX 4096              /* bytes of one annotation value the engine reads */
#define ENGINE_ENTRIES_MAX 64                   /* entries of one list annotation */
#define ENGINE_PATCH_TREE_MAX ((size_t)1 << 30) /* bytes of a patch returned as a tree */
/* Bytes of all annotations of one object: the API server's limit (TotalAnnotationSizeLimitB). */
#define ENGINE_ANNOTATIONS_TOTAL_MAX (256 * 1024)

#define ENGINE_LABEL_DEFAULT "coco.confidentialcontainers.org/enabled"
#define ENGINE_ANN_RUNTIME_CLASS "coco.confidentialcontainers.org/runtime-class"
#define ENGINE_ANN_KEEP_VOLUMES "coco.confidentialcontainers.org/keep-volumes"
#define ENGINE_ANN_SEALED "coco.confidentialcontainers.org/sealed-secrets"
#define ENGINE_ANN_SEALED_CONTAINERS "coco.confidentialcontainers.org/sealed-secrets-containers"
#define ENGINE_ANN_RECORD "coco.confidentialcontainers.org/mutated"
#define ENGINE_ANN_MIRROR "kubernetes.io/config.mirror"

typedef enum engine_scope {
    ENGINE_SCOPE_OBJECT,    /* /mutate: the object must carry the label "true" */
    ENGINE_SCOPE_NAMESPACE, /* /mutate-namespace, mutate --all: every object not labelled "false" */
} engine_scope;

typedef enum engine_operation {
    ENGINE_OP_CREATE,
    ENGINE_OP_UPDATE,
    ENGINE_OP_OTHER, /* DELETE, CONNECT: skipped (object may be NULL) */
} engine_operation;

typedef struct engine_request {
    cJSON *object;         /* borrowed; mutated in place when a patch is returned */
    const char *kind;      /* e.g. "Pod"; NULL: taken from object.kind */
    const char *group;     /* "" for core, "kubeflow.org"; NULL: taken from object.apiVersion */
    const char *version;   /* "v1"; NULL: taken from object.apiVersion */
    const char *namespace; /* NULL: taken from object.metadata.namespace */
    engine_operation operation;
    engine_scope scope;
    /* CLOCK_MONOTONIC nanoseconds after which the caller no longer wants the answer (the
     * API server's ?timeout=), or 0. Checked between the stages of the work. */
    uint64_t deadline_ns;
    /* The patch is printed as it is planned, with no tree of its operations (jsonpatch_text),
     * and the check's apply moves its values into the object instead of copying them. Given
     * a max, it is returned as that text of at most this many bytes (engine_result.patch_text;
     * CW_ELIMIT when longer); 0: as a tree read back from the text (engine_result.patch), for
     * offline callers, up to ENGINE_PATCH_TREE_MAX bytes of text. Given a max, the values the
     * patch repeats (a mount in every container) are one value and references to its members
     * in the mutated object (cJSON_IsReference): it reads, prints and frees as usual, but is not
     * for editing further; with 0 every value is a copy of its own. */
    size_t patch_text_max;
} engine_request;

/* What became of one object. The engine decides the first four; ENGINE_ERROR is the outcome
 * of a request whose work failed (out of memory): engine_mutate never yields it (it returns
 * the error), the decision record of the request carries it. */
typedef enum engine_outcome {
    ENGINE_MUTATED,   /* selected; a non-empty patch */
    ENGINE_UNCHANGED, /* selected and already in the wanted state: an empty patch */
    ENGINE_SKIPPED,   /* not selected, or a kind/operation left alone: admitted unchanged */
    ENGINE_DENIED,    /* selected and refused: code, reason and message say why */
    ENGINE_ERROR,     /* the request failed: a decision record's, never engine_mutate's */
    ENGINE_OUTCOME_COUNT,
} engine_outcome;

/* The outcome's name in logs and metrics: "mutated", "unchanged", "skipped", "denied", "error". */
const char *engine_outcome_name(engine_outcome outcome);

/* What the engine decided for one object: plain data, no ownership, so that the decision
 * record of a request (admission.h) holds it as it is, for the answer, the metrics and the
 * log line alike. */
typedef struct engine_decision {
    engine_outcome outcome;
    /* Static text. SKIPPED: why, e.g. "not labelled"; DENIED: a short metric label, e.g.
     * "runtime_class". NULL otherwise. */
    const char *reason;
    int code;                   /* DENIED: 400 malformed input, 403 policy, 500 internal */
    char message[CW_ERROR_MAX]; /* DENIED: the message a kubectl user reads */
    /* What this call changed (MUTATED), for logs and metrics. */
    bool runtime_class_set;
    size_t volumes_replaced;
    size_t secrets_mounted; /* volumeMounts added */
    size_t patch_ops;       /* operations in the patch */
    size_t warning_count;   /* warnings in the answer */
    /* The initdata document the object gets or already has (SPEC §2.5), borrowed from the
     * config (valid while the config is), or NULL; initdata_set when this call adds it. */
    const char *initdata_document;
    const char *initdata_digest; /* "sha256:<hex>" */
    bool initdata_set;
    /* The pod-VM profile that applies (SPEC §2.7), borrowed from the config like the initdata
     * strings, or NULL; podvm_set: the keys this call sets (bit 1 << podvm_key). */
    const config_podvm_profile *podvm_profile;
    unsigned podvm_set;
    /* The machine type the object ends with, for the per-machine-type metric: an entry of
     * config.podvm_machine_types (borrowed), or NULL with podvm_machine_type_other when the
     * object names one the config does not (never a string from the request: a label set
     * bounded by the config). */
    const char *podvm_machine_type;
    bool podvm_machine_type_other;
} engine_decision;

typedef struct engine_result {
    engine_decision decision;
    cJSON *patch; /* owned array of operations (MUTATED, UNCHANGED: empty), or NULL */
    /* owned (free()), with engine_request.patch_text_max: the patch (MUTATED) as compact
     * JSON, patch_len bytes, and patch is NULL; otherwise NULL */
    char *patch_text;
    size_t patch_len;
    char *warnings[ENGINE_WARNINGS_MAX]; /* owned, decision.warning_count of them, each <=
                                            ENGINE_WARNING_MAX chars */
    char *record; /* owned, free with cJSON_free: compact JSON of the changes, or NULL */
} engine_result;

/* Decides and mutates. Fills *res (initialised by the engine; release with
 * engine_result_clear). Returns CW_OK for every decision, a denial included (a denial is an
 * outcome, not an error); CW_ENOMEM when out of memory, CW_ELIMIT when the patch's text would
 * pass req->patch_text_max, CW_ETIMEOUT when req->deadline_ns passed before the work was done
 * (then *res is cleared). */
CW_MUST_USE cw_result engine_mutate(const config *cfg, const engine_request *req,
                                    engine_result *res);

void engine_result_clear(engine_result *res);

#endif
