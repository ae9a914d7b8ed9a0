/* server: the HTTPS admission server on libmicrohttpd (SPEC §3-§4).
 *
 * One daemon, MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_TLS | MHD_USE_ITC with a thread pool of
 * SERVER_THREADS_PER_CORE threads per core (a connection stays on one thread, so a request
 * being worked on delays only the few other connections of its thread); the certificate comes
 * from certstore on every handshake, so reloads need no restart.
 *
 * TLS (SPEC §3): TLS 1.3, and TLS 1.2 with ECDHE key exchange and AEAD suites only (AES-GCM,
 * ChaCha20-Poly1305), from SERVER_TLS_PRIORITIES_* (chosen by tlsMinVersion at start). A TLS 1.2
 * client's renegotiation (a ClientHello after the handshake) is refused: the session's
 * transport reader sees the record before GnuTLS does, answers it with a no_renegotiation
 * alert and drops the connection, so no second handshake is ever computed. Routes, limits and
 * defaults are the named constants below (the install manifests are checked against them). Handlers
 * never block: no sleeps, no file I/O; the config is taken from reload and held for the request.
 *
 * HTTP edge, decided before any body is read where possible: unknown path 404; wrong method
 * 405 with Allow; POST without Content-Type application/json 415; Content-Length over
 * SERVER_BODY_MAX 413 (chunked bodies are counted); malformed ?timeout= 400; a request whose
 * deadline has passed when its body is complete 503. Error bodies are {"error":"..."}.
 *
 * Memory (SPEC §3): a POST is charged against the budget (budget.h) in its first callback; one
 * that must wait is suspended (MHD_suspend_connection, its body left in the socket) and
 * resumed when its turn comes or its deadline passes (then its body is read and dropped, and
 * the answer is 503). Shutdown (SPEC §4): server_close_connections, then server_quiesce,
 * server_drain and server_stop. */
#ifndef COCO_SERVER_H
#define COCO_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "result.h"

#define SERVER_LISTEN_DEFAULT CONFIG_LISTEN_DEFAULT
#define SERVER_PORT_DEFAULT 8443
#define SERVER_PORT_MIN CONFIG_PORT_MIN /* 0: a free port the system picks */
#define SERVER_PORT_MAX CONFIG_PORT_MAX
#define SERVER_PATH_MUTATE "/mutate"                     /* ENGINE_SCOPE_OBJECT */
#define SERVER_PATH_MUTATE_NAMESPACE "/mutate-namespace" /* ENGINE_SCOPE_NAMESPACE */
#define SERVER_PATH_HEALTHZ "/healthz"
#define SERVER_PATH_READYZ "/readyz"
#define SERVER_PATH_METRICS "/metrics"

#define SERVER_BODY_MAX (8 * 1024 * 1024) /* bytes of a request body (413 above) */
#define SERVER_DISCARD_MAX                                                                         \
    (4 * SERVER_BODY_MAX) /* chunked bytes read past the cap before                                \
                             the connection is dropped */
/* Memory (SPEC §3, budget.h): before its body is read, a request is charged what working on
 * it may take, ADMISSION_MEMORY_FOR its body (admission.h: 64 KiB plus 16 times the body),
 * which is also the most its parse may take (a denser body gets a 413). Measured with
 * bench/memory-bench.py: the 5.4 MB Pod of bench/scale-objects.py peaks at 6.4 times its
 * body, the Notebook at 6.5; the densest shapes a body can take, lists of bare volumes and of
 * bare containers, at 13 and 14.2 (bench/README.md). The budget is the container's memory limit
 * (cgroup, or config memoryLimit; SERVER_MEMORY_DEFAULT when neither says) less
 * SERVER_MEMORY_RESERVE for the rest of the process (threads, TLS sessions, connection pools,
 * config), and never under SERVER_BUDGET_MIN. A request that does not fit waits; one whose
 * ?timeout= passes first is answered 503. */
#define SERVER_MEMORY_DEFAULT ((uint64_t)256 * 1024 * 1024)
#define SERVER_MEMORY_RESERVE ((uint64_t)24 * 1024 * 1024)
#define SERVER_BUDGET_MIN ((uint64_t)8 * 1024 * 1024)
#define SERVER_CGROUP_ROOT "/sys/fs/cgroup"
#define SERVER_CONNECTION_LIMIT 1024
#define SERVER_PER_IP_LIMIT 256
/* Inactivity timeout, above the API server's 90 s idle keep-alive so that the server never
 * closes a connection the client is about to reuse. */
#define SERVER_CONNECTION_TIMEOUT_S 120
/* libmicrohttpd's per-connection pool (headers, read and write buffers); it is cleared on
 * every request, so its size is a per-request cost. API server requests have ~1 KB of
 * headers. */
#define SERVER_CONNECTION_MEMORY (16 * 1024)
/* A kept-alive connection is told to close (on an answer, "Connection: close") after this
 * many answers or this age, so that the API server's connections spread over the replicas
 * (server.c, recycle_due). Measured with the rollout test's client: a replica started next
 * to a busy one got none of 36,000 requests in 5 s without it, 36% with 1,000, no failure. */
#define SERVER_RECYCLE_ANSWERS 1000
#define SERVER_RECYCLE_AGE_S 60
#define SERVER_TIMEOUT_DEFAULT_MS 10000 /* when the request has no ?timeout= */
#define SERVER_TIMEOUT_MAX_MS 3600000   /* longest ?timeout= accepted */
#define SERVER_THREADS_PER_CORE 4
#define SERVER_THREADS_MIN 8
#define SERVER_THREADS_MAX 64
/* GnuTLS priority strings. ECDHE on the NIST curves and X25519 only (no finite-field DHE, no
 * RSA key transport), AEAD suites only (no CBC, no CCM), the server's order. */
#define SERVER_TLS_SUITES                                                                          \
    ":-CIPHER-ALL:+AES-256-GCM:+CHACHA20-POLY1305:+AES-128-GCM:-MAC-ALL:+AEAD"                     \
    ":-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA"                                                             \
    ":-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1:+GROUP-SECP384R1:+GROUP-SECP521R1"                 \
    ":%SERVER_PRECEDENCE"
#define SERVER_TLS_PRIORITIES_1_2 "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2" SERVER_TLS_SUITES
#define SERVER_TLS_PRIORITIES_1_3 "NORMAL:-VERS-ALL:+VERS-TLS1.3" SERVER_TLS_SUITES

typedef struct server server;

/* Parses a listen address: ":PORT" (every address), "HOST:PORT", "[V6]:PORT", PORT a whole
 * number from SERVER_PORT_MIN to SERVER_PORT_MAX (intparse.h's grammar). */
CW_MUST_USE cw_result server_parse_listen(const char *listen, char *host, size_t host_cap,
                                          uint16_t *port, cw_error *err);

/* Starts the daemon on listen (port 0 picks a free port; *bound_port tells which), accepting
 * TLS from tls_min upwards, with memory_budget bytes for the requests in flight
 * (server_memory_budget). The certificate must be loaded in certstore. Returns an owned
 * server. */
CW_MUST_USE cw_result server_start(const char *listen, config_tls_version tls_min,
                                   size_t memory_budget, server **out, uint16_t *bound_port,
                                   cw_error *err);

/* The budget for a memory limit of limit bytes (0: SERVER_MEMORY_DEFAULT): the limit less
 * SERVER_MEMORY_RESERVE, at least SERVER_BUDGET_MIN. */
size_t server_memory_budget(uint64_t limit);

/* The GnuTLS priority string for tls_min. */
const char *server_tls_priorities(config_tls_version tls_min);

/* The first step of a shutdown (SPEC §4): /readyz fails and every answer carries
 * "Connection: close" from now on, while new connections are still accepted and served. */
void server_close_connections(server *s);

/* Stops accepting connections (and does what server_close_connections does). */
void server_quiesce(server *s);

/* Waits until no request is in flight and the open connections are closed or have been
 * quiet for drain_ms, or until timeout_ms passed. Returns true when drained. Never call from
 * a server thread. */
bool server_drain(server *s, int drain_ms, int timeout_ms);

/* Stops the daemon and frees s. Never call from a server thread. */
void server_stop(server *s);

/* Parses a Go duration as the API server writes ?timeout= ("10s", "1m30s", "500ms").
 * Exposed for tests. */
CW_MUST_USE cw_result server_parse_timeout(const char *s, int64_t *ms);

#endif
