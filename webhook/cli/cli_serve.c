/* cli_serve: `coco-webhook serve`, the admission server's command line and lifecycle:
 * flags over the config file, startup checks, signals (SIGHUP reloads, SIGTERM/SIGINT stop
 * gracefully), and the main thread's loop that watches files for changes. */
#include <errno.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "arena.h"
#include "budget.h"
#include "cli.h"
#include "config.h"
#include "flags.h"
#include "log.h"
#include "reload.h"
#include "server.h"
#include "units.h"

/* After the shutdown delay: how long a stop waits for requests in flight (the longest
 * ?timeout= the API server sends is 30 s; manifests: terminationGracePeriodSeconds covers the
 * delay plus this), and how long open keep-alive connections may stay quiet before they are
 * closed (every answer since the delay began told its client to close). */
#define SERVE_SHUTDOWN_TIMEOUT_MS 30000
#define SERVE_DRAIN_QUIET_MS 500

static const char usage[] =
    "Usage: coco-webhook serve [OPTIONS]\n"
    "\n"
    "Runs the HTTPS admission webhook: POST " SERVER_PATH_MUTATE " (objects labelled\n"
    "coco.confidentialcontainers.org/enabled=true), POST " SERVER_PATH_MUTATE_NAMESPACE
    " (every object\nof an opted-in namespace), GET " SERVER_PATH_HEALTHZ ", " SERVER_PATH_READYZ
    ", " SERVER_PATH_METRICS ".\n"
    "\n"
    "Options (each may also be set in the config file; flags win):\n"
    "  --listen ADDR      address to listen on, \":PORT\", \"HOST:PORT\" or \"[V6]:PORT\"\n"
    "                     (default \"" SERVER_LISTEN_DEFAULT "\")\n"
    "  --tls-cert FILE    PEM certificate chain (default /etc/coco-webhook/tls/tls.crt)\n"
    "  --tls-key FILE     PEM private key (default /etc/coco-webhook/tls/tls.key)\n"
    "  --config FILE      YAML config file (default: built-in defaults)\n"
    "  --log-level LEVEL  debug, info, warn or error (default info)\n"
    "  --shutdown-delay DURATION\n"
    "                     how long SIGTERM keeps serving before it stops accepting, a Go\n"
    "                     duration (default 10s, config shutdownDelay)\n"
    "  --tls-min-version VERSION\n"
    "                     lowest TLS version accepted, \"1.2\" or \"1.3\" (default \"1.2\");\n"
    "                     read at start only, a config change applies at the next start\n"
    "  -h, --help         show this help\n"
    "\n"
    "The certificate, key and config (except tlsMinVersion) are re-read when they change and\n"
    "on SIGHUP.\n"
    "SIGTERM or SIGINT turns /readyz to 503 at once, keeps serving (each answer with\n"
    "\"Connection: close\") for the shutdown delay, then stops accepting connections,\n"
    "finishes requests in flight and exits 0. Requests in flight may use the container's\n"
    "memory limit (cgroup, or config memoryLimit; 256Mi when neither says) less a reserve;\n"
    "a request that does not fit waits for its turn until its ?timeout=.\n"
    "The environment variable POD_NAMESPACE, if set, is added to excludeNamespaces.\n";

typedef struct serve_flags {
    const char *listen, *cert, *key, *config, *log_level, *tls_min_version, *shutdown_delay;
} serve_flags;

/* Returns -1 to go on, or the exit status. */
static int parse_flags(int argc, char **argv, serve_flags *f)
{
    static const cli_flag flags[] = {
        CLI_STRING_FLAG("--listen", 0, serve_flags, listen),
        CLI_STRING_FLAG("--tls-cert", 0, serve_flags, cert),
        CLI_STRING_FLAG("--tls-key", 0, serve_flags, key),
        CLI_STRING_FLAG("--config", 0, serve_flags, config),
        CLI_STRING_FLAG("--log-level", 0, serve_flags, log_level),
        CLI_STRING_FLAG("--tls-min-version", 0, serve_flags, tls_min_version),
        CLI_STRING_FLAG("--shutdown-delay", 0, serve_flags, shutdown_delay),
    };
    static const cli_command cmd = CLI_COMMAND("serve", usage, flags, 0);
    int positional = 0;
    return cli_flags_parse(&cmd, argc, argv, f, &positional);
}

/* Blocks the signals handled here in every thread (the server's threads inherit the mask)
 * and returns a signalfd for them, read by the main loop. */
static int signals_open(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0)
        return -1;
    return signalfd(-1, &set, SFD_CLOEXEC);
}

/* Waits for SIGTERM or SIGINT and returns it, reloading changed files every RELOAD_POLL_MS
 * and at once on SIGHUP. With timeout_ms >= 0, returns 0 when that time has passed first. A
 * failed poll counts as SIGTERM. */
static int wait_signal(int sfd, int64_t timeout_ms)
{
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        int wait_ms = RELOAD_POLL_MS;
        if (timeout_ms >= 0) {
            struct timespec now;
            clock_gettime(CLOCK_MONOTONIC, &now);
            int64_t left = timeout_ms - ((int64_t)(now.tv_sec - start.tv_sec) * 1000 +
                                         (now.tv_nsec - start.tv_nsec) / 1000000);
            if (left <= 0)
                return 0;
            if (left < wait_ms)
                wait_ms = (int)left;
        }
        struct pollfd p = {.fd = sfd, .events = POLLIN};
        int n = poll(&p, 1, wait_ms);
        if (n < 0 && errno != EINTR)
            return SIGTERM;
        if (n <= 0) {
            reload_check(false);
            continue;
        }
        struct signalfd_siginfo si;
        if (read(sfd, &si, sizeof si) != (ssize_t)sizeof si)
            continue;
        if (si.ssi_signo == SIGHUP) {
            log_msg(LOG_LEVEL_INFO, "SIGHUP: reloading certificate and config", NULL);
            reload_check(true);
            continue;
        }
        return (int)si.ssi_signo;
    }
}

/* Where the memory limit came from, for the log. */
static const char *cfg_memory_source(uint64_t limit, uint64_t cgroup_limit)
{
    if (limit == 0)
        return "default";
    return limit == cgroup_limit ? "cgroup" : "config";
}

/* Bytes from which glibc maps a block on its own (mallopt M_MMAP_THRESHOLD). */
#define SERVE_MMAP_THRESHOLD (256 * 1024)

int cli_serve(int argc, char **argv)
{
    int status = 1;
    int sfd = -1;
    serve_flags f = {0};
    config *cfg = NULL;
    char *listen = NULL, *cert = NULL, *key = NULL;
    server *srv = NULL;
    bool reload_started = false;
    cw_error err = {{0}};

    int rc = parse_flags(argc, argv, &f);
    if (rc >= 0)
        return rc;
    log_level flag_level = LOG_LEVEL_INFO;
    if (f.log_level && !log_parse_level(f.log_level, &flag_level))
        return cli_usage_error("serve", "--log-level must be debug, info, warn or error");
    config_tls_version flag_tls = CONFIG_TLS_1_2;
    if (f.tls_min_version && !config_parse_tls_version(f.tls_min_version, &flag_tls))
        return cli_usage_error("serve", "--tls-min-version must be 1.2 or 1.3");
    int64_t flag_delay_ms = 0;
    if (f.shutdown_delay && units_parse_duration_ms(f.shutdown_delay, CONFIG_SHUTDOWN_DELAY_MAX_MS,
                                                    &flag_delay_ms) != CW_OK)
        return cli_usage_error("serve", "--shutdown-delay must be a duration of at most 10m "
                                        "(e.g. 10s, 500ms)");

    /* Large blocks (the arena's chunks of a large review, its body, the patch's text as it
     * grows) always mapped on their own: glibc otherwise raises this threshold to the
     * largest block freed so far, after which such blocks come from the heap, where growing
     * one copies it and freeing one may leave its pages resident. */
    mallopt(M_MMAP_THRESHOLD, SERVE_MMAP_THRESHOLD);
    if (config_load(f.config, &cfg, &err) != CW_OK) {
        fprintf(stderr, "coco-webhook serve: %s\n", err.msg);
        goto done;
    }
    log_set_level(f.log_level ? flag_level : cfg->log_level);
    /* Copies: cfg goes to reload, which may free it on the next reload. */
    listen = strdup(f.listen ? f.listen : cfg->listen ? cfg->listen : SERVER_LISTEN_DEFAULT);
    cert = f.cert ? strdup(f.cert) : cfg->tls_cert ? strdup(cfg->tls_cert) : NULL;
    key = f.key ? strdup(f.key) : cfg->tls_key ? strdup(cfg->tls_key) : NULL;
    if (!listen || !cert || !key) {
        fprintf(stderr, "coco-webhook serve: out of memory\n");
        goto done;
    }
    /* Read here once: GnuTLS takes the priority string when the daemon starts. */
    config_tls_version tls_min = f.tls_min_version ? flag_tls : cfg->tls_min_version;
    /* Read at start, as tlsMinVersion: the budget is sized once. */
    uint64_t cgroup_limit = budget_cgroup_limit(SERVER_CGROUP_ROOT);
    uint64_t memory_limit = cfg->memory_limit ? cfg->memory_limit : cgroup_limit;
    size_t memory_budget = server_memory_budget(memory_limit);

    sfd = signals_open();
    if (sfd < 0) {
        fprintf(stderr, "coco-webhook serve: signalfd: %s\n", strerror(errno));
        goto done;
    }
    arena_install_cjson_hooks();

    reload_paths paths = {
        .cert = cert,
        .key = key,
        .config = f.config,
        .own_namespace = getenv("POD_NAMESPACE"),
        .log_level_fixed = f.log_level != NULL,
        .tls_min_version = tls_min,
        .tls_min_version_fixed = f.tls_min_version != NULL,
    };
    reload_started = true;
    config *owned = cfg;
    cfg = NULL;
    if (reload_init(&paths, owned, &err) != CW_OK) {
        fprintf(stderr, "coco-webhook serve: %s\n", err.msg);
        log_msg(LOG_LEVEL_ERROR, "cannot load the serving certificate", err.msg);
        goto done;
    }

    uint16_t port = 0;
    if (server_start(listen, tls_min, memory_budget, &srv, &port, &err) != CW_OK) {
        fprintf(stderr, "coco-webhook serve: %s\n", err.msg);
        goto done;
    }
    log_line l;
    log_begin(&l, LOG_LEVEL_INFO, "listening");
    log_str(&l, "listen", listen);
    log_int(&l, "port", port);
    log_str(&l, "tls_min_version", config_tls_version_name(tls_min));
    log_int(&l, "memory_budget", (int64_t)memory_budget);
    log_str(&l, "memory_limit_from", cfg_memory_source(memory_limit, cgroup_limit));
    log_str(&l, "version", COCO_VERSION);
    log_end(&l);

    int sig = wait_signal(sfd, -1);
    /* The config may have been reloaded since the start: the delay is the current one. */
    reload_ref *ref = reload_config_acquire();
    int64_t delay_ms = f.shutdown_delay ? flag_delay_ms : reload_ref_config(ref)->shutdown_delay_ms;
    reload_config_release(ref);
    log_begin(&l, LOG_LEVEL_INFO, "shutting down");
    log_str(&l, "signal", sig == SIGINT ? "SIGINT" : "SIGTERM");
    log_int(&l, "shutdown_delay_ms", delay_ms);
    log_end(&l);
    /* SPEC §4: not ready at once, yet serving (each answer closing its connection) until the
     * endpoints and every node's proxy have dropped this pod; a second signal cuts it short. */
    server_close_connections(srv);
    if (wait_signal(sfd, delay_ms) != 0)
        log_msg(LOG_LEVEL_INFO, "second signal: the shutdown delay is cut short", NULL);
    server_quiesce(srv);
    bool drained = server_drain(srv, SERVE_DRAIN_QUIET_MS, SERVE_SHUTDOWN_TIMEOUT_MS);
    server_stop(srv);
    srv = NULL;
    log_begin(&l, drained ? LOG_LEVEL_INFO : LOG_LEVEL_WARN, "stopped");
    log_bool(&l, "drained", drained);
    log_end(&l);
    status = 0;
done:
    server_stop(srv);
    if (reload_started)
        reload_shutdown();
    config_free(cfg);
    if (sfd >= 0)
        close(sfd);
    free(listen);
    free(cert);
    free(key);
    return status;
}
