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
 * deadline has passed when its body is complete 503. Error bodies are {"error":"..."}. */
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
/* Memory: a request holds its body, and working on it takes about 20 times its size (the
 * parsed tree, the patch, the check). So the bodies held at once are capped, and large ones
 * are worked on one at a time; past either, the request is answered 503 at once, and the
 * server's memory stays within its limit (manifests: 256Mi) whatever clients send. */
#define SERVER_BODY_BYTES_MAX (48 * 1024 * 1024) /* bytes of bodies held at once */
#define SERVER_LARGE_BODY (256 * 1024)           /* a body above this is large */
#define SERVER_LARGE_MAX 1                       /* large bodies held at once */
#define SERVER_CONNECTION_LIMIT 1024
#define SERVER_PER_IP_LIMIT 256
/* Inactivity timeout, above the API server's 90 s idle keep-alive so that the server never
 * closes a connection the client is about to reuse. */
#define SERVER_CONNECTION_TIMEOUT_S 120
/* libmicrohttpd's per-connection pool (headers, read and write buffers); it is cleared on
 * every request, so its size is a per-request cost. API server requests have ~1 KB of
 * headers. */
#define SERVER_CONNECTION_MEMORY (16 * 1024)
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
 * TLS from tls_min upwards. The certificate must be loaded in certstore. Returns an owned
 * server. */
CW_MUST_USE cw_result server_start(const char *listen, config_tls_version tls_min, server **out,
                                   uint16_t *bound_port, cw_error *err);

/* The GnuTLS priority string for tls_min. */
const char *server_tls_priorities(config_tls_version tls_min);

/* Stops accepting connections; answers on open connections carry "Connection: close" and
 * /readyz fails from now on. */
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
