/* admission: the AdmissionReview v1 protocol (SPEC §3), as a pure function from the bytes of
 * a request body to the bytes and HTTP status of the answer. No I/O, no clock, no globals
 * besides the cJSON arena of the calling thread (arena.h): the server and the fuzz target
 * drive the same code.
 *
 * The body is parsed once. The envelope is checked strictly (400 with {"error":"..."} for
 * malformed JSON, duplicate keys anywhere, or anything that is not an admission.k8s.io/v1
 * AdmissionReview request: see admission.c). request.object goes to the engine, which mutates
 * it in place and verifies its own patch, and decides every rule (DELETE and CONNECT too: it
 * skips them). The response echoes the uid and carries the base64 JSON Patch only when it is
 * non-empty, the warnings, the audit annotation "mutated", or the denial. */
#ifndef COCO_ADMISSION_H
#define COCO_ADMISSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "engine.h"
#include "k8s_names.h"
#include "result.h"

#define ADMISSION_API_VERSION "admission.k8s.io/v1"
#define ADMISSION_KIND "AdmissionReview"
#define ADMISSION_UID_MAX 128         /* bytes of request.uid (a UUID has 36) */
#define ADMISSION_OPERATION_MAX 7     /* bytes of request.operation ("CONNECT") */
#define ADMISSION_AUDIT_KEY "mutated" /* auditAnnotations key, a valid qualified name */
/* Bytes of one answer. Its patch holds at most JSONPATCH_OPS_MAX operations, whose paths and
 * values come from the request (at most the server's body cap, 8 MiB) and the config's
 * bounded strings; the largest real answers are a few MiB. Past the cap the writer fails with
 * CW_ELIMIT (an error answer) instead of taking the server's memory. */
#define ADMISSION_ANSWER_MAX (64 * 1024 * 1024)

/* What working on a review of n body bytes may take: the server charges it against its memory
 * budget before reading the body (server.c), and the parse of the review may take no more
 * (arena_limit). The densest objects the API server sends (bench/README.md) take well under
 * it; a body denser than that (a direct POST of "[0,0,0...]" in a kept field would take 32
 * times its size) is answered 413 instead of taking the memory of the requests beside it. */
#define ADMISSION_MEMORY_PER_BODY_BYTE 16
#define ADMISSION_MEMORY_BASE (64 * 1024)
/* What the engine's work takes per byte of the patch it makes (measured: 2.6; the text, the
 * added nodes, the check's index, then the text and its base64 in the answer). The patch a
 * review may get is what its charge leaves after the parse, divided by this, and at least
 * ADMISSION_PATCH_FLOOR (room for each of 64 sealed secrets in each of 100 containers): past
 * it the object is denied (400) saying to name the containers that need the sealed secrets.
 * The floor is not charged: its 3 MiB are taken only while the engine works, by at most one
 * request per server thread, and charging it to every request before its body arrives would
 * let a few slow clients hold the whole budget. */
#define ADMISSION_MEMORY_PER_PATCH_BYTE 3
#define ADMISSION_PATCH_FLOOR (1024 * 1024)
#define ADMISSION_MEMORY_FOR(n) (ADMISSION_MEMORY_BASE + (n)*ADMISSION_MEMORY_PER_BODY_BYTE)

/* The decision record of one AdmissionReview: who asked (copied, so that it outlives the
 * request's JSON tree; cut to the Kubernetes limits) and what the engine decided. The answer,
 * the metrics and the decision log line all read this one record. */
typedef struct admission_decision {
    bool is_review; /* a valid AdmissionReview (false for a 400) */
    char uid[ADMISSION_UID_MAX + 1];
    char kind[K8S_KIND_MAX + 1];
    char namespace[K8S_DNS_LABEL_MAX + 1];
    char name[K8S_DNS_SUBDOMAIN_MAX + 1];
    char operation[ADMISSION_OPERATION_MAX + 1];
    /* The engine's decision; its initdata strings are borrowed from the config given to
     * admission_review. ENGINE_ERROR when the work failed (set by the caller that got the
     * error). */
    engine_decision engine;
    char error[CW_ERROR_MAX]; /* 400, 413, 503: why there is no decision */
} admission_decision;

typedef struct admission_response {
    unsigned int http_status; /* 200, 400 for a body that is not a valid review, 413 for one
                                 that needs more than ADMISSION_MEMORY_FOR its size, 503 */
    char *body;               /* owned (free()), NUL-terminated JSON */
    size_t len;
    admission_decision decision;
} admission_response;

/* Answers one AdmissionReview. body[0..len) is the request body; it need not be
 * NUL-terminated. cfg is borrowed for the call (out->decision.engine's initdata strings point
 * into it). On CW_OK, *out holds the answer (status 200, 400, 413 or 503) and owns its body.
 * Returns CW_ENOMEM when out of memory, CW_ELIMIT when the answer would pass
 * ADMISSION_ANSWER_MAX (out->body NULL; answer 500). */
CW_MUST_USE cw_result admission_review(const config *cfg, engine_scope scope, const char *body,
                                       size_t len, admission_response *out);

/* admission_review with a deadline (CLOCK_MONOTONIC nanoseconds, 0 for none, as
 * engine_request.deadline_ns): when it passes during the work, the work stops and the answer
 * is a 503 {"error":...} (the API server has stopped waiting for it). */
CW_MUST_USE cw_result admission_review_until(const config *cfg, engine_scope scope,
                                             const char *body, size_t len, uint64_t deadline_ns,
                                             admission_response *out);

/* admission_review_until on the bytes of *body, which it frees (buf_free) as soon as the
 * review is parsed and its text checked: nothing reads them after that, and a large body
 * need not live beside its tree and the work on it. *body stays owned by the caller, freed
 * or not (buf_free again is harmless). */
struct buf; /* buf.h */
CW_MUST_USE cw_result admission_review_body(const config *cfg, engine_scope scope, struct buf *body,
                                            uint64_t deadline_ns, admission_response *out);

void admission_response_clear(admission_response *out);

/* Builds {"error":"<message>"} (owned, NUL-terminated) for the HTTP error answers. NULL when
 * out of memory. */
char *admission_error_body(const char *message, size_t *len);

#endif
