/* cli_serve: `coco-webhook serve`, the admission server's command line and lifecycle:
 * flags over the config file, startup checks, signals (SIGHUP reloads, SIGTERM/SIGINT stop
 * gracefully), and the main thread's loop that watches files for changes. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "arena.h"
#include "cli.h"
#include "config.h"
#include "flags.h"
#include "log.h"
#include "reload.h"
#include "server.h"

/* How long a stop waits for requests in flight (the Pod's default grace period is 30 s), and
 * how long open keep-alive connections may stay quiet before they are closed. */
#define SERVE_SHUTDOWN_TIMEOUT_MS 25000
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
    "  --tls-min-version VERSION\n"
    "                     lowest TLS version accepted, \"1.2\" or \"1.3\" (default \"1.2\");\n"
    "                     read at start only, a config change applies at the next start\n"
    "  -h, --help         show this help\n"
    "\n"
    "The certificate, key and config (except tlsMinVersion) are re-read when they change and\n"
    "on SIGHUP.\n"
    "SIGTERM or SIGINT stops accepting connections, finishes requests in flight and exits 0.\n"
    "The environment variable POD_NAMESPACE, if set, is added to excludeNamespaces.\n";

typedef struct serve_flags {
    const char *listen, *cert, *key, *config, *log_level, *tls_min_version;
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

/* Runs until SIGTERM or SIGINT; returns the signal. */
static int main_loop(int sfd)
{
    for (;;) {
        struct pollfd p = {.fd = sfd, .events = POLLIN};
        int n = poll(&p, 1, RELOAD_POLL_MS);
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
    if (server_start(listen, tls_min, &srv, &port, &err) != CW_OK) {
        fprintf(stderr, "coco-webhook serve: %s\n", err.msg);
        goto done;
    }
    log_line l;
    log_begin(&l, LOG_LEVEL_INFO, "listening");
    log_str(&l, "listen", listen);
    log_int(&l, "port", port);
    log_str(&l, "tls_min_version", config_tls_version_name(tls_min));
    log_str(&l, "version", COCO_VERSION);
    log_end(&l);

    int sig = main_loop(sfd);
    log_begin(&l, LOG_LEVEL_INFO, "shutting down");
    log_str(&l, "signal", sig == SIGINT ? "SIGINT" : "SIGTERM");
    log_end(&l);
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
