#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "admission.h"
#include "budget.h"
#include "buf.h"
#include "certstore.h"
#include "intparse.h"
#include "log.h"
#include "metrics.h"
#include "podvm.h"
#include "reload.h"
#include "units.h"

#define MHD_MESSAGE_MAX 512  /* bytes of one libmicrohttpd message kept (cut when longer) */
#define LISTEN_HOST_MAX 255  /* bytes of a listen host: a DNS name (253) or an IPv6 address */
#define CHANGES_TEXT_MAX 128 /* bytes of the log line's "changes" (three counters) */
/* bytes of the log line's "pod_vm_set" (the values set: an image ID is the longest) */
#define PODVM_SET_TEXT_MAX (CONFIG_PODVM_VALUE_MAX + 512)

struct server {
    struct MHD_Daemon *daemon;
    atomic_int in_flight;  /* requests seen and not completed */
    atomic_bool closing;   /* shutting down: /readyz fails, answers close their connection */
    atomic_bool quiescing; /* no longer accepting */
    atomic_uint_fast64_t last_activity_ns; /* last request start or completion */
    /* While the daemon starts (on the starting thread, before any worker exists): the last
     * message of libmicrohttpd, whose text names the system error of a failed bind. */
    atomic_bool starting;
    char start_error[MHD_MESSAGE_MAX];
    budget *budget; /* the memory of the requests in flight */
};

typedef enum route {
    ROUTE_MUTATE,
    ROUTE_MUTATE_NAMESPACE,
    ROUTE_HEALTHZ,
    ROUTE_READYZ,
    ROUTE_METRICS,
    ROUTE_UNKNOWN,
} route;

/* State of one POST request while its body arrives; freed in request_completed. */
typedef struct request {
    route route;
    uint64_t start_ns;
    int64_t timeout_ms;
    struct MHD_Connection *conn; /* borrowed: the connection the request arrived on */
    size_t expected;             /* Content-Length, or 0 when chunked */
    buf body;                    /* capped at Content-Length, or SERVER_BODY_MAX when chunked */
    size_t discarded;            /* bytes past SERVER_BODY_MAX (chunked), or read and dropped */
    bool too_large;
    bool expired; /* its deadline passed while it waited for memory: the body is dropped and
                     the answer is 503 */
    bool parked;  /* suspended in its first callback: libmicrohttpd calls that one again, with
                     no data, when the connection is resumed */
    budget_ticket ticket; /* its charge against server.budget */
} request;

/* What working on a body of n bytes takes, charged before the body is read. */
static size_t charge_for(size_t n)
{
    return ADMISSION_MEMORY_FOR(n);
}

/* budget's wake: the request's turn came, or its deadline passed; its connection goes on. */
static void request_wake(void *ctx)
{
    request *req = ctx;
    MHD_resume_connection(req->conn);
}

/* con_cls of requests answered in their first callback (no per-request state). Such an
 * answer closes the connection (libmicrohttpd discards the rest of the request), which is
 * right for errors but not for the probes and scrapes: those are answered in the next
 * callback, marked by deferred_get[route]. */
static char answered_at_once;
static char deferred_get[ROUTE_UNKNOWN];

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static route route_of(const char *url)
{
    if (strcmp(url, SERVER_PATH_MUTATE) == 0)
        return ROUTE_MUTATE;
    if (strcmp(url, SERVER_PATH_MUTATE_NAMESPACE) == 0)
        return ROUTE_MUTATE_NAMESPACE;
    if (strcmp(url, SERVER_PATH_HEALTHZ) == 0)
        return ROUTE_HEALTHZ;
    if (strcmp(url, SERVER_PATH_READYZ) == 0)
        return ROUTE_READYZ;
    if (strcmp(url, SERVER_PATH_METRICS) == 0)
        return ROUTE_METRICS;
    return ROUTE_UNKNOWN;
}

cw_result server_parse_timeout(const char *s, int64_t *ms)
{
    return units_parse_duration_ms(s, SERVER_TIMEOUT_MAX_MS, ms);
}

/* True for "application/json", optionally with parameters, the only charset allowed being
 * utf-8 (RFC 8259 §8.1). Case-insensitive. */
static bool is_json_content_type(const char *ct)
{
    static const char json[] = "application/json";
    if (!ct)
        return false;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    if (strncasecmp(ct, json, sizeof json - 1) != 0)
        return false;
    const char *p = ct + sizeof json - 1;
    while (*p == ' ' || *p == '\t')
        p++;
    while (*p == ';') {
        p++;
        while (*p == ' ' || *p == '\t')
            p++;
        const char *end = strchr(p, ';');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
            n--;
        if (n >= 8 && strncasecmp(p, "charset=", 8) == 0) {
            const char *v = p + 8;
            size_t vn = n - 8;
            if (vn >= 2 && v[0] == '"' && v[vn - 1] == '"') {
                v++;
                vn -= 2;
            }
            if (!(vn == 5 && strncasecmp(v, "utf-8", 5) == 0) &&
                !(vn == 4 && strncasecmp(v, "utf8", 4) == 0))
                return false;
        }
        p += n;
        while (*p == ' ' || *p == '\t')
            p++;
    }
    return *p == '\0';
}

static bool recycle_due(struct MHD_Connection *conn, uint64_t now);

static enum MHD_Result send_response(server *s, struct MHD_Connection *conn, unsigned int code,
                                     struct MHD_Response *resp, const char *content_type)
{
    if (!resp)
        return MHD_NO; /* out of memory: drop the connection */
    if (content_type)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    /* Shutting down, or the connection has served its share: the client opens a new one,
     * which the Service may send to another replica. */
    if (atomic_load_explicit(&s->closing, memory_order_relaxed) || recycle_due(conn, now_ns()))
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result r = MHD_queue_response(conn, code, resp);
    MHD_destroy_response(resp);
    metrics_count_http(code);
    return r;
}

static enum MHD_Result send_static(server *s, struct MHD_Connection *conn, unsigned int code,
                                   const char *text, const char *content_type)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
    return send_response(s, conn, code, resp, content_type);
}

/* An error answer with a JSON body {"error": message}. */
static enum MHD_Result send_error(server *s, struct MHD_Connection *conn, unsigned int code,
                                  const char *message, const char *allow)
{
    size_t len = 0;
    char *body = admission_error_body(message, &len);
    if (!body)
        return MHD_NO;
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(body);
        return MHD_NO;
    }
    if (allow)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
    log_line l;
    log_begin(&l, code >= 500 ? LOG_LEVEL_WARN : LOG_LEVEL_DEBUG, "request refused");
    log_int(&l, "code", code);
    log_str(&l, "error", message);
    log_end(&l);
    return send_response(s, conn, code, resp, "application/json");
}

/* 503: the request waited for memory (other requests held it) until its deadline. */
static enum MHD_Result send_expired(server *s, struct MHD_Connection *conn)
{
    return send_error(s, conn, MHD_HTTP_SERVICE_UNAVAILABLE,
                      "the request's timeout passed while it waited for memory held by other "
                      "requests (see memoryLimit)",
                      NULL);
}

static enum MHD_Result answer_get(server *s, struct MHD_Connection *conn, route r)
{
    switch (r) {
    case ROUTE_HEALTHZ:
        return send_static(s, conn, MHD_HTTP_OK, "ok\n", "text/plain; charset=utf-8");
    case ROUTE_READYZ:
        if (reload_ready() && !atomic_load(&s->closing))
            return send_static(s, conn, MHD_HTTP_OK, "ok\n", "text/plain; charset=utf-8");
        return send_static(s, conn, MHD_HTTP_SERVICE_UNAVAILABLE, "not ready\n",
                           "text/plain; charset=utf-8");
    case ROUTE_METRICS: {
        size_t len = 0;
        char *text = metrics_render(&len);
        if (!text)
            return MHD_NO;
        struct MHD_Response *resp =
            MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
        if (!resp)
            free(text);
        return send_response(s, conn, MHD_HTTP_OK, resp, "text/plain; version=0.0.4");
    }
    default: return MHD_NO;
    }
}

/* The first callback of a request: everything decided from the request line and headers. */
static enum MHD_Result begin_request(server *s, struct MHD_Connection *conn, const char *url,
                                     const char *method, void **con_cls)
{
    route r = route_of(url);
    bool post_route = r == ROUTE_MUTATE || r == ROUTE_MUTATE_NAMESPACE;
    uint64_t start = now_ns();
    atomic_fetch_add(&s->in_flight, 1);
    atomic_store_explicit(&s->last_activity_ns, start, memory_order_relaxed);
    *con_cls = &answered_at_once;

    if (r == ROUTE_UNKNOWN)
        return send_error(s, conn, MHD_HTTP_NOT_FOUND, "not found", NULL);
    if (!post_route) {
        if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
            return send_error(s, conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed",
                              "GET, HEAD");
        *con_cls = &deferred_get[r];
        return MHD_YES;
    }
    if (strcmp(method, MHD_HTTP_METHOD_POST) != 0)
        return send_error(s, conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed", "POST");
    const char *ct =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    if (!is_json_content_type(ct))
        return send_error(s, conn, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
                          "Content-Type must be application/json", NULL);

    int64_t length = 0;
    const char *cl =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl) {
        if (int_parse(cl, strlen(cl), 0, INT64_MAX, "Content-Length", &length, NULL) != CW_OK)
            return send_error(s, conn, MHD_HTTP_BAD_REQUEST, "invalid Content-Length", NULL);
        if (length > SERVER_BODY_MAX)
            return send_error(s, conn, MHD_HTTP_CONTENT_TOO_LARGE,
                              "request body larger than the limit", NULL);
    }

    int64_t timeout_ms = SERVER_TIMEOUT_DEFAULT_MS;
    const char *tq = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "timeout");
    if (tq && server_parse_timeout(tq, &timeout_ms) != CW_OK)
        return send_error(s, conn, MHD_HTTP_BAD_REQUEST, "invalid timeout query", NULL);

    request *req = malloc(sizeof *req);
    if (!req)
        return MHD_NO; /* out of memory: drop the connection */
    *req = (request){.route = r,
                     .start_ns = start,
                     .timeout_ms = timeout_ms,
                     .conn = conn,
                     .expected = cl ? (size_t)length : 0};
    buf_init(&req->body, cl ? (size_t)length : SERVER_BODY_MAX);
    *con_cls = req; /* from here request_completed releases req */
    /* Charged before the body is read: a request that must wait leaves its body in the
     * socket, so waiting costs no memory. Chunked bodies are charged for the cap. */
    uint64_t deadline = start + (uint64_t)timeout_ms * 1000000u;
    if (!budget_acquire(s->budget, &req->ticket, charge_for(cl ? (size_t)length : SERVER_BODY_MAX),
                        deadline, request_wake, req)) {
        req->parked = true;
        MHD_suspend_connection(conn);
        if (budget_parked(s->budget, &req->ticket))
            MHD_resume_connection(conn); /* granted or expired while going to sleep */
    }
    return MHD_YES;
}

static bool body_append(request *req, const char *data, size_t n)
{
    if (req->ticket.state == BUDGET_EXPIRED) {
        /* Read and dropped, then answered 503: an early answer would close the connection
         * under a client still sending. */
        req->expired = true;
        req->discarded += n;
        return req->discarded <= SERVER_DISCARD_MAX;
    }
    if (req->too_large || req->body.len + n > SERVER_BODY_MAX) {
        req->too_large = true;
        req->discarded += n;
        return req->discarded <= SERVER_DISCARD_MAX;
    }
    /* The exact size, once (the cap is the size): the usual request needs no reallocation. */
    if (req->body.len == 0 && req->expected > 0 && !buf_reserve(&req->body, req->expected))
        return false;
    /* Out of memory, or more than Content-Length said: drop the connection. */
    return buf_add(&req->body, data, n) == CW_OK;
}

/* The decision log line: reads the request's decision record as the answer did. */
static void log_decision(const admission_decision *d, double seconds, unsigned int status)
{
    const engine_decision *e = &d->engine;
    log_level level = e->outcome == ENGINE_DENIED ? LOG_LEVEL_WARN : LOG_LEVEL_INFO;
    if (e->outcome == ENGINE_ERROR)
        level = LOG_LEVEL_ERROR;
    log_line l;
    log_begin(&l, level, "admission");
    log_str(&l, "uid", d->uid);
    log_str(&l, "kind", d->kind);
    log_str(&l, "namespace", d->namespace);
    log_str(&l, "name", d->name);
    log_str(&l, "operation", d->operation);
    log_str(&l, "result", engine_outcome_name(e->outcome));
    char changes[CHANGES_TEXT_MAX];
    snprintf(changes, sizeof changes, "%s%svolumes_replaced=%zu,secrets_mounted=%zu",
             e->runtime_class_set ? "runtime_class" : "", e->runtime_class_set ? "," : "",
             e->volumes_replaced, e->secrets_mounted);
    log_str(&l, "changes", changes);
    if (e->initdata_document) {
        log_str(&l, "initdata", e->initdata_document);
        log_str(&l, "initdata_digest", e->initdata_digest);
        log_bool(&l, "initdata_set", e->initdata_set);
    }
    if (e->podvm_profile) {
        /* SPEC §2.7: the profile and the values this call set ("machineType=X,gpus=1") */
        char set[PODVM_SET_TEXT_MAX];
        size_t n = 0;
        set[0] = '\0';
        for (podvm_key k = 0; k < PODVM_KEY_COUNT; k++) {
            if (!(e->podvm_set & (1u << k)) || n >= sizeof set)
                continue;
            int w = snprintf(set + n, sizeof set - n, "%s%s=%s", n ? "," : "", podvm_config_name(k),
                             podvm_value(e->podvm_profile, k));
            n += w > 0 ? (size_t)w : 0;
        }
        log_str(&l, "pod_vm_profile", e->podvm_profile->name);
        log_str(&l, "pod_vm_set", set);
    }
    log_int(&l, "patch_ops", (int64_t)e->patch_ops);
    log_int(&l, "warnings", (int64_t)e->warning_count);
    if (e->outcome == ENGINE_SKIPPED)
        log_str(&l, "reason", e->reason);
    if (e->outcome == ENGINE_DENIED) {
        log_str(&l, "reason", e->reason);
        log_int(&l, "code", e->code);
    }
    log_int(&l, "status", status);
    log_num(&l, "duration_ms", seconds * 1000.0);
    log_end(&l);
}

/* The metrics of one decided review: they read the decision record as the answer did. */
static void count_decision(const admission_decision *d, double seconds)
{
    const engine_decision *e = &d->engine;
    metrics_count_request(metrics_kind_of(d->kind), metrics_op_of(d->operation), e->outcome);
    if (e->runtime_class_set)
        metrics_count_mutation(METRICS_MUT_RUNTIME_CLASS, 1);
    metrics_count_mutation(METRICS_MUT_VOLUME_REPLACED, e->volumes_replaced);
    metrics_count_mutation(METRICS_MUT_SECRET_MOUNTED, e->secrets_mounted);
    if (e->initdata_set && e->outcome == ENGINE_MUTATED)
        metrics_count_initdata(e->initdata_document);
    if (e->outcome == ENGINE_DENIED)
        metrics_count_denial(e->reason);
    if (metrics_kind_of(d->kind) == METRICS_KIND_POD)
        metrics_count_pod_machine_type(e->podvm_machine_type, e->podvm_machine_type_other,
                                       e->outcome);
    metrics_observe_duration(seconds);
}

/* The last callback of a POST: the body is complete. */
static enum MHD_Result finish_review(server *s, struct MHD_Connection *conn, request *req)
{
    if (req->too_large)
        return send_error(s, conn, MHD_HTTP_CONTENT_TOO_LARGE, "request body larger than the limit",
                          NULL);
    if (req->expired || req->ticket.state == BUDGET_EXPIRED)
        return send_expired(s, conn);
    uint64_t deadline = req->start_ns + (uint64_t)req->timeout_ms * 1000000u;
    if (now_ns() >= deadline) {
        /* The API server has given up on this call; do no work for it. */
        return send_error(s, conn, MHD_HTTP_SERVICE_UNAVAILABLE,
                          "the request's timeout passed before its body was complete", NULL);
    }

    admission_response resp;
    /* Held until the decision is counted and logged: its initdata strings are the config's. */
    reload_ref *ref = reload_config_acquire();
    engine_scope scope = req->route == ROUTE_MUTATE ? ENGINE_SCOPE_OBJECT : ENGINE_SCOPE_NAMESPACE;
    /* Frees the body once it is parsed: the rest of the work does not need it. */
    cw_result rc =
        admission_review_body(reload_ref_config(ref), scope, &req->body, deadline, &resp);
    uint64_t end = now_ns();
    double seconds = (double)(end - req->start_ns) / 1e9;
    const admission_decision *d = &resp.decision;
    if (rc != CW_OK) {
        resp.decision.engine = (engine_decision){.outcome = ENGINE_ERROR};
        metrics_count_request(metrics_kind_of(d->kind), metrics_op_of(d->operation), ENGINE_ERROR);
        log_decision(d, seconds, 500);
        reload_config_release(ref);
        return send_error(s, conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
                          rc == CW_ELIMIT ? "the answer would be larger than the webhook's limit"
                                          : cw_result_str(rc),
                          NULL);
    }
    if (resp.http_status == 503) {
        /* The engine stopped at the deadline: the API server has given up on this call. */
        log_line l;
        log_begin(&l, LOG_LEVEL_WARN, "gave up at the request's timeout");
        log_str(&l, "uid", d->uid);
        log_int(&l, "timeout_ms", req->timeout_ms);
        log_end(&l);
    } else if (resp.http_status != 200) {
        log_line l;
        log_begin(&l, LOG_LEVEL_WARN,
                  resp.http_status == 413 ? "a review denser than its charge"
                                          : "not a valid AdmissionReview");
        log_str(&l, "error", d->error);
        log_end(&l);
    } else {
        count_decision(d, seconds);
        log_decision(d, seconds, 200);
        if (end > deadline) {
            log_line l;
            log_begin(&l, LOG_LEVEL_WARN, "answered after the request's timeout");
            log_str(&l, "uid", d->uid);
            log_int(&l, "timeout_ms", req->timeout_ms);
            log_end(&l);
        }
    }
    reload_config_release(ref);
    struct MHD_Response *r =
        MHD_create_response_from_buffer(resp.len, resp.body, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        admission_response_clear(&resp);
        return MHD_NO;
    }
    return send_response(s, conn, resp.http_status, r, "application/json");
}

static enum MHD_Result access_handler(void *cls, struct MHD_Connection *conn, const char *url,
                                      const char *method, const char *version,
                                      const char *upload_data, size_t *upload_data_size,
                                      void **con_cls)
{
    (void)version;
    server *s = cls;
    if (!*con_cls)
        return begin_request(s, conn, url, method, con_cls);
    if (*con_cls == &answered_at_once) {
        *upload_data_size = 0; /* a body after an early answer is discarded */
        return MHD_YES;
    }
    char *mark = *con_cls;
    if (mark >= deferred_get && mark < deferred_get + ROUTE_UNKNOWN) {
        if (*upload_data_size > 0) {
            *upload_data_size = 0;
            return MHD_YES;
        }
        return answer_get(s, conn, (route)(mark - deferred_get));
    }
    request *req = *con_cls;
    if (*upload_data_size > 0) {
        req->parked = false;
        bool ok = body_append(req, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return ok ? MHD_YES : MHD_NO;
    }
    if (req->parked) {
        req->parked = false; /* the first callback again, after the resume */
        return MHD_YES;
    }
    return finish_review(s, conn, req);
}

static void request_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                              enum MHD_RequestTerminationCode toe)
{
    (void)conn;
    (void)toe;
    server *s = cls;
    if (!*con_cls)
        return;
    char *mark = *con_cls;
    if (mark != &answered_at_once &&
        !(mark >= deferred_get && mark < deferred_get + ROUTE_UNKNOWN)) {
        request *req = *con_cls;
        budget_release(s->budget, &req->ticket);
        buf_free(&req->body);
        free(req);
    }
    *con_cls = NULL;
    atomic_store_explicit(&s->last_activity_ns, now_ns(), memory_order_relaxed);
    atomic_fetch_sub(&s->in_flight, 1);
}

/* libmicrohttpd's own messages (TLS handshake failures, resource limits): debug level, as a
 * client can cause them at will. */
__attribute__((format(printf, 2, 0))) static void mhd_logger(void *cls, const char *fmt, va_list ap)
{
    server *s = cls;
    bool starting = s && atomic_load(&s->starting);
    if (!starting && !log_enabled(LOG_LEVEL_DEBUG))
        return;
    char msg[MHD_MESSAGE_MAX];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r' || msg[n - 1] == '.'))
        msg[--n] = '\0';
    if (starting)
        snprintf(s->start_error, sizeof s->start_error, "%s", msg);
    log_msg(LOG_LEVEL_DEBUG, "libmicrohttpd", msg);
}

cw_result server_parse_listen(const char *listen, char *host, size_t host_cap, uint16_t *port,
                              cw_error *err)
{
    const char *colon = strrchr(listen, ':');
    if (!colon)
        return cw_fail(err, CW_EINVAL, "listen address \"%s\" needs a port (\":8443\")", listen);
    const char *h = listen;
    size_t hlen = (size_t)(colon - listen);
    if (hlen >= 2 && h[0] == '[' && h[hlen - 1] == ']') {
        h++;
        hlen -= 2;
    } else if (memchr(h, ':', hlen)) {
        return cw_fail(err, CW_EINVAL, "listen address \"%s\": write IPv6 as [ADDR]:PORT", listen);
    }
    if (hlen >= host_cap)
        return cw_fail(err, CW_ELIMIT, "listen address \"%s\" is too long", listen);
    int64_t p;
    cw_error perr;
    if (int_parse(colon + 1, strlen(colon + 1), SERVER_PORT_MIN, SERVER_PORT_MAX, "the port", &p,
                  &perr) != CW_OK)
        return cw_fail(err, CW_EINVAL, "listen address \"%s\": %s", listen, perr.msg);
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    *port = (uint16_t)p;
    return CW_OK;
}

/* ---- TLS: client-initiated renegotiation refused ----
 *
 * libmicrohttpd 0.9.75 runs gnutls_handshake once per connection and has no option about
 * renegotiation; GnuTLS reports a TLS 1.2 ClientHello on an established session to the
 * application (GNUTLS_E_REHANDSHAKE), which the library answers by closing with close_notify,
 * and a handshake hook never sees that ClientHello. So the refusal happens one level lower:
 * the certificate callback (called once per handshake, with the session) replaces the
 * session's transport reader with tls_pull, which follows the TLS record headers of what the
 * client sends. A handshake record (content type 22) on a TLS 1.2 session whose handshake is
 * complete is a renegotiation: it is answered with a no_renegotiation alert (RFC 5246 §7.2.2;
 * clients abort their renegotiation on it) and the connection is dropped before GnuTLS reads
 * the record. TLS 1.3 has no renegotiation (GnuTLS refuses such records itself).
 *
 * State is per socket, indexed by descriptor, and reset by every new handshake on it: a
 * connection is served by one thread at a time, and a descriptor is reused only after
 * libmicrohttpd closed the previous connection. */
typedef struct tls_guard {
    gnutls_session_t session;
    uint32_t body_left; /* bytes of the current record's body still to come */
    uint8_t header[5];  /* the record header being read */
    uint8_t header_len;
    uint8_t finished;  /* TLS_FINISHED_*: the handshake is complete when both are set */
    uint32_t answers;  /* answers sent on the connection */
    uint64_t since_ns; /* when its handshake began */
} tls_guard;

#define TLS_GUARD_FDS_MAX 65536 /* descriptors above are served without the guard */
#define TLS_CONTENT_HANDSHAKE 22
#define TLS_FINISHED_IN 1
#define TLS_FINISHED_OUT 2

static tls_guard *tls_guards;
static size_t tls_guards_len;

static tls_guard *guard_of(gnutls_session_t session)
{
    int fd = gnutls_transport_get_int(session);
    if (fd < 0 || (size_t)fd >= tls_guards_len || tls_guards[fd].session != session)
        return NULL;
    return &tls_guards[fd];
}

/* Handshake hook: the Finished messages received and sent. */
static int tls_finished(gnutls_session_t session, unsigned int htype, unsigned when,
                        unsigned int incoming, const gnutls_datum_t *msg)
{
    (void)htype;
    (void)when;
    (void)msg;
    tls_guard *g = guard_of(session);
    if (g)
        g->finished |= incoming ? TLS_FINISHED_IN : TLS_FINISHED_OUT;
    return 0;
}

static bool renegotiation_attempt(const tls_guard *g)
{
    return g->finished == (TLS_FINISHED_IN | TLS_FINISHED_OUT) &&
           gnutls_protocol_get_version(g->session) == GNUTLS_TLS1_2;
}

/* GnuTLS's default reader for a socket transport (recv), plus the record watch. */
static ssize_t tls_pull(gnutls_transport_ptr_t ptr, void *data, size_t size)
{
    int fd = (int)(intptr_t)ptr;
    ssize_t n = recv(fd, data, size, 0);
    if (n <= 0 || fd < 0 || (size_t)fd >= tls_guards_len)
        return n;
    tls_guard *g = &tls_guards[fd];
    const uint8_t *p = data;
    size_t left = (size_t)n;
    while (left > 0) {
        if (g->body_left > 0) {
            size_t k = left < g->body_left ? left : g->body_left;
            p += k;
            left -= k;
            g->body_left -= (uint32_t)k;
            continue;
        }
        g->header[g->header_len++] = *p++;
        left--;
        if (g->header_len < sizeof g->header)
            continue;
        g->header_len = 0;
        g->body_left = (uint32_t)g->header[3] << 8 | g->header[4];
        if (g->header[0] == TLS_CONTENT_HANDSHAKE && renegotiation_attempt(g)) {
            /* The session's write side is idle here: libmicrohttpd reads or writes, one at a
             * time, on the thread that owns the connection. */
            gnutls_alert_send(g->session, GNUTLS_AL_WARNING, GNUTLS_A_NO_RENEGOTIATION);
            log_msg(LOG_LEVEL_DEBUG, "TLS renegotiation refused", NULL);
            errno = ECONNRESET;
            return -1;
        }
    }
    return n;
}

/* Connection recycling: the answer that makes SERVER_RECYCLE_ANSWERS on its connection, or
 * the first after SERVER_RECYCLE_AGE_S since the handshake, carries "Connection: close". The
 * API server keeps its connections alive and sends all admissions to the replicas it
 * connected to first (a replica that starts later would get none); a closed connection is
 * opened again through the Service, which spreads them. An HTTP/1.1 client never fails a
 * request for it (the answer is complete; the client does not reuse the connection). */
static bool recycle_due(struct MHD_Connection *conn, uint64_t now)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (!ci || ci->connect_fd < 0 || (size_t)ci->connect_fd >= tls_guards_len)
        return false;
    tls_guard *g = &tls_guards[ci->connect_fd];
    const union MHD_ConnectionInfo *ti =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
    if (!ti || !g->session || (gnutls_session_t)ti->tls_session != g->session)
        return false;
    return ++g->answers >= SERVER_RECYCLE_ANSWERS ||
           now - g->since_ns >= (uint64_t)SERVER_RECYCLE_AGE_S * 1000000000u;
}

/* MHD_OPTION_HTTPS_CERT_CALLBACK2: certstore's certificate, and the guard on the session. */
static int tls_retrieve(gnutls_session_t session, const struct gnutls_cert_retr_st *info,
                        gnutls_pcert_st **certs, unsigned int *pcert_length,
                        gnutls_ocsp_data_st **ocsp, unsigned int *ocsp_length,
                        gnutls_privkey_t *privkey, unsigned int *flags)
{
    int fd = gnutls_transport_get_int(session);
    if (fd >= 0 && (size_t)fd < tls_guards_len) {
        tls_guards[fd] = (tls_guard){.session = session, .since_ns = now_ns()};
        gnutls_transport_set_pull_function(session, tls_pull);
        gnutls_handshake_set_hook_function(session, GNUTLS_HANDSHAKE_FINISHED, GNUTLS_HOOK_POST,
                                           tls_finished);
    }
    return certstore_retrieve(session, info, certs, pcert_length, ocsp, ocsp_length, privkey,
                              flags);
}

/* Once per process: room for every descriptor the process may open, up to the cap. */
static bool tls_guards_init(void)
{
    if (tls_guards)
        return true;
    struct rlimit rl;
    size_t n = TLS_GUARD_FDS_MAX;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
        rl.rlim_cur < (rlim_t)n)
        n = (size_t)rl.rlim_cur;
    tls_guards = calloc(n, sizeof *tls_guards);
    if (!tls_guards)
        return false;
    tls_guards_len = n;
    return true;
}

const char *server_tls_priorities(config_tls_version tls_min)
{
    return tls_min == CONFIG_TLS_1_3 ? SERVER_TLS_PRIORITIES_1_3 : SERVER_TLS_PRIORITIES_1_2;
}

static unsigned int pool_size(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1)
        n = 1;
    n *= SERVER_THREADS_PER_CORE;
    if (n < SERVER_THREADS_MIN)
        n = SERVER_THREADS_MIN;
    if (n > SERVER_THREADS_MAX)
        n = SERVER_THREADS_MAX;
    return (unsigned int)n;
}

static struct MHD_Daemon *start_daemon(server *s, unsigned int flags, uint16_t port,
                                       const struct sockaddr *addr, const char *priorities)
{
    struct MHD_OptionItem sock_opt[] = {
        {addr ? MHD_OPTION_SOCK_ADDR : MHD_OPTION_END, 0, (void *)addr},
        {MHD_OPTION_END, 0, NULL},
    };
    /* The logger first: libmicrohttpd warns about options given before it. */
    return MHD_start_daemon(
        flags, port, NULL, NULL, access_handler, s, MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, s,
        MHD_OPTION_THREAD_POOL_SIZE, pool_size(), MHD_OPTION_HTTPS_PRIORITIES, priorities,
        MHD_OPTION_HTTPS_CERT_CALLBACK2, tls_retrieve, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned int)SERVER_CONNECTION_LIMIT, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
        (unsigned int)SERVER_PER_IP_LIMIT, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned int)SERVER_CONNECTION_TIMEOUT_S, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)SERVER_CONNECTION_MEMORY, MHD_OPTION_NOTIFY_COMPLETED, request_completed, s,
        MHD_OPTION_ARRAY, sock_opt, MHD_OPTION_END);
}

cw_result server_start(const char *listen, config_tls_version tls_min, size_t memory_budget,
                       server **out, uint16_t *bound_port, cw_error *err)
{
    char host[LISTEN_HOST_MAX + 1];
    uint16_t port;
    cw_result rc = server_parse_listen(listen, host, sizeof host, &port, err);
    if (rc != CW_OK)
        return rc;
    if (MHD_is_feature_supported(MHD_FEATURE_HTTPS_CERT_CALLBACK2) != MHD_YES)
        return cw_fail(err, CW_EINTERNAL, "libmicrohttpd lacks HTTPS certificate callbacks");
    if (!tls_guards_init())
        return CW_FAIL_NOMEM(err);
    const char *priorities = server_tls_priorities(tls_min);

    server *s = calloc(1, sizeof *s);
    if (!s)
        return CW_FAIL_NOMEM(err);
    if (budget_new(memory_budget, &s->budget) != CW_OK) {
        free(s);
        return CW_FAIL_NOMEM(err);
    }
    unsigned int flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_TLS | MHD_USE_ITC |
                         MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
    atomic_store(&s->starting, true);
    if (host[0] == '\0') {
        /* Every address: IPv6 with IPv4 mapped, or IPv4 alone where IPv6 is off. */
        s->daemon = start_daemon(s, flags | MHD_USE_DUAL_STACK, port, NULL, priorities);
        if (!s->daemon)
            s->daemon = start_daemon(s, flags, port, NULL, priorities);
    } else {
        struct addrinfo hints = {
            .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
        struct addrinfo *ai = NULL;
        int gai = getaddrinfo(host, NULL, &hints, &ai);
        if (gai != 0) {
            budget_free(s->budget);
            free(s);
            return cw_fail(err, CW_EINVAL, "listen address \"%s\": %s", listen, gai_strerror(gai));
        }
        struct sockaddr_storage ss;
        memset(&ss, 0, sizeof ss);
        memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
        bool v6 = ai->ai_family == AF_INET6;
        freeaddrinfo(ai);
        if (v6)
            ((struct sockaddr_in6 *)&ss)->sin6_port = htons(port);
        else
            ((struct sockaddr_in *)&ss)->sin_port = htons(port);
        s->daemon = start_daemon(s, flags | (v6 ? MHD_USE_IPv6 : 0), port,
                                 (const struct sockaddr *)&ss, priorities);
    }
    atomic_store(&s->starting, false);
    if (!s->daemon) {
        rc = cw_fail(err, CW_EIO, "cannot listen on \"%s\": %s", listen,
                     s->start_error[0] ? s->start_error : "libmicrohttpd did not start");
        budget_free(s->budget);
        free(s);
        return rc;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    *bound_port = info ? info->port : port;
    *out = s;
    return CW_OK;
}

void server_close_connections(server *s)
{
    atomic_store(&s->closing, true);
}

void server_quiesce(server *s)
{
    atomic_store(&s->closing, true);
    atomic_store(&s->quiescing, true);
    /* The listening socket is closed by us, as MHD hands it back. */
    MHD_socket fd = MHD_quiesce_daemon(s->daemon);
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
}

bool server_drain(server *s, int drain_ms, int timeout_ms)
{
    uint64_t start = now_ns();
    for (;;) {
        uint64_t now = now_ns();
        if (atomic_load(&s->in_flight) == 0) {
            const union MHD_DaemonInfo *info =
                MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
            uint64_t quiet = now - atomic_load_explicit(&s->last_activity_ns, memory_order_relaxed);
            if ((info && info->num_connections == 0) || quiet >= (uint64_t)drain_ms * 1000000u)
                return true;
        }
        if (now - start >= (uint64_t)timeout_ms * 1000000u)
            return false;
        struct timespec ts = {0, 10 * 1000000};
        nanosleep(&ts, NULL);
    }
}

void server_stop(server *s)
{
    if (!s)
        return;
    /* The budget's thread first: it must not resume a connection the daemon is closing.
     * Requests still waiting are closed by the daemon and release their tickets. */
    budget *b = s->budget;
    budget_stop_waking(b);
    MHD_stop_daemon(s->daemon);
    budget_free(b);
    free(s);
}

size_t server_memory_budget(uint64_t limit)
{
    if (limit == 0)
        limit = SERVER_MEMORY_DEFAULT;
    uint64_t b = limit > SERVER_MEMORY_RESERVE ? limit - SERVER_MEMORY_RESERVE : 0;
    if (b < SERVER_BUDGET_MIN)
        b = SERVER_BUDGET_MIN;
    if (b > SIZE_MAX)
        b = SIZE_MAX;
    return (size_t)b;
}
