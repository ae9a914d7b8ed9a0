/* admission: the AdmissionReview v1 protocol (SPEC §3), as a pure function from the bytes of
 * a request body to the bytes and HTTP status of the answer. No I/O, no clock, no globals
 * besides the cJSON arena of the calling thread (arena.h): the server and the fuzz target
 * drive the same code.
 *
 * The body is parsed once. The envelope is checked strictly (400 with {"error":"..."} for
 * malformed JSON, duplicate keys anywhere, or anything that is not an admission.k8s.io/v1
 * AdmissionReview request: see admission.c). request.object goes to the engine, which mutates
 * it in place and verifies its own patch; DELETE and CONNECT are admitted unchanged without
 * calling the engine. The response echoes the uid and carries the base64 JSON Patch only when
 * it is non-empty, the warnings, the audit annotation "mutated", or the denial. */
#ifndef COCO_ADMISSION_H
#define COCO_ADMISSION_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "engine.h"
#include "metrics.h"
#include "result.h"

#define ADMISSION_API_VERSION "admission.k8s.io/v1"
#define ADMISSION_KIND "AdmissionReview"
#define ADMISSION_UID_MAX 128         /* bytes of request.uid (a UUID has 36) */
#define ADMISSION_AUDIT_KEY "mutated" /* auditAnnotations key, a valid qualified name */

/* What happened, for the decision log line and metrics. Copies, so it outlives the request's
 * JSON tree; strings are truncated to their buffers. */
typedef struct admission_info {
    bool is_review; /* a valid AdmissionReview (false for a 400) */
    char uid[ADMISSION_UID_MAX + 1];
    char kind[64];
    char namespace[64];
    char name[254];
    char operation[16];
    metrics_result result;
    bool engine_called;
    const char *skip_reason; /* static; SKIPPED only */
    const char *deny_reason; /* static; DENIED only */
    int deny_code;
    bool runtime_class_set;
    size_t volumes_replaced;
    size_t secrets_mounted;
    char initdata_document[64]; /* the object's initdata document, or "" */
    char initdata_digest[INITDATA_DIGEST_TEXT_MAX];
    bool initdata_set; /* the annotation was added by this answer */
    size_t warnings;
    size_t patch_ops;
    char error[CW_ERROR_MAX]; /* 400: why the body is not a valid AdmissionReview */
} admission_info;

typedef struct admission_response {
    unsigned int http_status; /* 200, or 400 for a body that is not a valid review */
    char *body;               /* owned (free()), NUL-terminated JSON */
    size_t len;
    admission_info info;
} admission_response;

/* Answers one AdmissionReview. body[0..len) is the request body; it need not be
 * NUL-terminated. cfg is borrowed for the call. On CW_OK, *out holds the answer (status 200 or
 * 400) and owns its body. Returns CW_ENOMEM when out of memory (out->body NULL; answer 500). */
cw_result admission_review(const config *cfg, engine_scope scope, const char *body, size_t len,
                           admission_response *out);

/* admission_review with a deadline (CLOCK_MONOTONIC nanoseconds, 0 for none, as
 * engine_request.deadline_ns): when it passes during the work, the work stops and the answer
 * is a 503 {"error":...} (the API server has stopped waiting for it). */
cw_result admission_review_until(const config *cfg, engine_scope scope, const char *body,
                                 size_t len, uint64_t deadline_ns, admission_response *out);

void admission_response_clear(admission_response *out);

/* Builds {"error":"<message>"} (owned, NUL-terminated) for the HTTP error answers. NULL when
 * out of memory. */
char *admission_error_body(const char *message, size_t *len);

#endif
