/* engine: decides whether an object is selected for Confidential Containers and computes its
 * mutation (SPEC §1-§2) as targeted RFC 6902 operations, warnings and a record annotation,
 * or a denial. Shared by the admission server and the offline `mutate` command.
 *
 * The engine reads the object and never keeps pointers into it after returning. Before it
 * returns a patch it applies the patch to the object (in place: the object becomes the
 * mutated object) and checks the result: the result must be selected, in the wanted state,
 * and mutate again to an empty patch. A patch failing that check is never returned; the call
 * yields ENGINE_DENIED with code 500 and an internal-error message instead. */
#ifndef COCO_ENGINE_H
#define COCO_ENGINE_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "result.h"

#define ENGINE_WARNING_MAX 120     /* characters of one admission warning (FACTS.md) */
#define ENGINE_WARNINGS_MAX 64     /* warnings kept for one object */
#define ENGINE_ANNOTATION_MAX 4096 /* bytes of one annotation value the engine reads */
#define ENGINE_ENTRIES_MAX 64      /* entries of one list annotation */
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
    ENGINE_OP_OTHER, /* DELETE, CONNECT: admitted unchanged */
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
} engine_request;

typedef enum engine_outcome {
    ENGINE_SKIPPED, /* not selected, or a kind/operation we leave alone: admit unchanged */
    ENGINE_ALLOWED, /* selected; patch may be empty (already in the wanted state) */
    ENGINE_DENIED,  /* selected and refused: code and message say why */
} engine_outcome;

typedef struct engine_result {
    engine_outcome outcome;
    const char *skip_reason;             /* static text when SKIPPED, e.g. "not labelled" */
    cJSON *patch;                        /* owned array of operations (ALLOWED; may be empty) */
    char *warnings[ENGINE_WARNINGS_MAX]; /* owned strings, each <= ENGINE_WARNING_MAX chars */
    size_t warning_count;
    char *record; /* owned, free with cJSON_free: compact JSON of the changes, or NULL */
    int code;     /* DENIED: 400 malformed annotation, 403 policy, 500 internal */
    char message[CW_ERROR_MAX]; /* DENIED: the message a kubectl user reads */
    const char *deny_reason;    /* DENIED: a short static metric label, e.g. "runtime_class" */
    /* What this call changed, for logs and metrics. */
    bool runtime_class_set;
    size_t volumes_replaced;
    size_t secrets_mounted; /* volumeMounts added */
    size_t patch_ops;       /* operations in patch (ALLOWED) */
    /* The initdata document the object gets or already has (SPEC §2.5), borrowed from the
     * config (valid while the config is), or NULL; initdata_set when this call adds it. */
    const char *initdata_document;
    const char *initdata_digest; /* "sha256:<hex>" */
    bool initdata_set;
} engine_result;

/* Decides and mutates. Fills *res (initialised by the engine; release with
 * engine_result_clear). Returns CW_OK for every decision, including denials; CW_ENOMEM when
 * out of memory, CW_ETIMEOUT when req->deadline_ns passed before the work was done (then
 * *res is cleared). */
cw_result engine_mutate(const config *cfg, const engine_request *req, engine_result *res);

void engine_result_clear(engine_result *res);

#endif
