/* cli_certs: `coco-webhook certs` (SPEC §6), a CA and a serving certificate for the webhook
 * Service, for a self-managed install or local development. Parses the flags and leaves the
 * work to certs.c. Exit status: 0 done, 1 failed, 2 bad usage; on 1 and 2 no file changed. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certs.h"
#include "cli.h"

#define CERTS_DEFAULT_NAME "coco-webhook"
#define CERTS_DEFAULT_DAYS 365
#define CERTS_DEFAULT_CA_DAYS 3650

static const char certs_usage[] =
    "Usage: coco-webhook certs --out DIR [--service NAME] [--namespace NS] [--ip ADDR]...\n"
    "                          [--dns NAME]... [--days N] [--ca-days N] [--overlay DIR]\n"
    "                          [--force | --renew]\n"
    "\n"
    "Makes a CA and a serving certificate signed by it (ECDSA P-256) for the webhook Service.\n"
    "The serving certificate names SVC, SVC.NS, SVC.NS.svc and SVC.NS.svc.cluster.local, plus\n"
    "the --dns names and --ip addresses. Writes into DIR: ca.crt, ca.key, tls.crt, tls.key\n"
    "(keys mode 0600) and ca-bundle.b64 (the caBundle of the webhook configuration).\n"
    "\n"
    "Options:\n"
    "      --out DIR         directory for the files, created when missing (required)\n"
    "      --service NAME    name of the webhook Service (default coco-webhook)\n"
    "      --namespace NS    namespace of the webhook Service (default coco-webhook)\n"
    "      --ip ADDR         also valid for this IPv4 or IPv6 address (repeatable)\n"
    "      --dns NAME        also valid for this DNS name (repeatable)\n"
    "      --days N          validity of the serving certificate in days (default 365)\n"
    "      --ca-days N       validity of the CA in days (default 3650)\n"
    "      --overlay DIR     also write the self-managed overlay's tls-secret.yaml and\n"
    "                        cabundle-patch.yaml into DIR (manifests/overlays/self-managed)\n"
    "      --force           replace existing files, the CA included (otherwise nothing is\n"
    "                        written): the webhooks' caBundle must then be updated too\n"
    "      --renew           a new serving certificate from the CA already in DIR: replaces\n"
    "                        tls.crt and tls.key (and the overlay's files); ca.crt, ca.key and\n"
    "                        the caBundle stay the same, so no request fails meanwhile. Give\n"
    "                        the same --service, --namespace, --dns and --ip as before\n"
    "  -h, --help            show this help\n"
    "\n"
    "Examples: a development server on this machine, and its renewal:\n"
    "  coco-webhook certs --out certs/dev --service localhost --ip 127.0.0.1\n"
    "  coco-webhook certs --out certs/dev --service localhost --ip 127.0.0.1 --renew\n";

typedef struct certs_cli {
    certs_options opt;
    const char *out;
    const char *overlay;
    bool force;
    bool renew;
    bool ca_days_set;
} certs_cli;

/* Checked decimal day count: the whole string, no sign games, within 1..CERTS_DAYS_MAX. */
static bool parse_days(const char *flag, const char *text, long *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || end == text || *end != '\0' || v < 1 || v > CERTS_DAYS_MAX) {
        fprintf(stderr,
                "coco-webhook certs: %s \"%s\": need a whole number of days from 1 "
                "to %d\n",
                flag, text, CERTS_DAYS_MAX);
        return false;
    }
    *out = v;
    return true;
}

/* Returns -1 to go on, or the exit status. The name lists point into argv (borrowed) and
 * are owned arrays of argc entries. */
static int parse_opts(int argc, char **argv, certs_cli *c)
{
    enum {
        OPT_OUT = 256,
        OPT_SERVICE,
        OPT_NAMESPACE,
        OPT_IP,
        OPT_DNS,
        OPT_DAYS,
        OPT_CA_DAYS,
        OPT_OVERLAY,
        OPT_FORCE,
        OPT_RENEW
    };
    static const struct option longopts[] = {
        {"out", required_argument, NULL, OPT_OUT},
        {"service", required_argument, NULL, OPT_SERVICE},
        {"namespace", required_argument, NULL, OPT_NAMESPACE},
        {"ip", required_argument, NULL, OPT_IP},
        {"dns", required_argument, NULL, OPT_DNS},
        {"days", required_argument, NULL, OPT_DAYS},
        {"ca-days", required_argument, NULL, OPT_CA_DAYS},
        {"overlay", required_argument, NULL, OPT_OVERLAY},
        {"force", no_argument, NULL, OPT_FORCE},
        {"renew", no_argument, NULL, OPT_RENEW},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    optind = 1;
    opterr = 0;
    int ch;
    while ((ch = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (ch) {
        case OPT_OUT: c->out = optarg; break;
        case OPT_SERVICE: c->opt.service = optarg; break;
        case OPT_NAMESPACE: c->opt.namespace = optarg; break;
        case OPT_IP: c->opt.ips[c->opt.ip_count++] = optarg; break;
        case OPT_DNS: c->opt.dns[c->opt.dns_count++] = optarg; break;
        case OPT_OVERLAY: c->overlay = optarg; break;
        case OPT_FORCE: c->force = true; break;
        case OPT_RENEW: c->renew = true; break;
        case OPT_DAYS:
            if (!parse_days("--days", optarg, &c->opt.days))
                return 2;
            break;
        case OPT_CA_DAYS:
            if (!parse_days("--ca-days", optarg, &c->opt.ca_days))
                return 2;
            c->ca_days_set = true;
            break;
        case 'h': fputs(certs_usage, stdout); return 0;
        case ':':
            fprintf(stderr, "coco-webhook certs: option %s needs a value\n", argv[optind - 1]);
            return 2;
        default:
            fprintf(stderr, "coco-webhook certs: unknown option \"%s\"\n\n%s", argv[optind - 1],
                    certs_usage);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "coco-webhook certs: unexpected argument \"%s\"\n", argv[optind]);
        return 2;
    }
    if (!c->out || !*c->out) {
        fprintf(stderr, "coco-webhook certs: --out DIR is required\n\n%s", certs_usage);
        return 2;
    }
    if (c->renew && c->force) {
        fputs("coco-webhook certs: --renew keeps the CA and --force replaces it: give one\n",
              stderr);
        return 2;
    }
    if (c->renew && c->ca_days_set) {
        fputs("coco-webhook certs: --ca-days does not apply to --renew (the CA is kept)\n", stderr);
        return 2;
    }
    if (c->overlay && !*c->overlay) {
        fputs("coco-webhook certs: --overlay needs a directory\n", stderr);
        return 2;
    }
    return -1;
}

static void print_names(const certs_options *opt, bool renew)
{
    printf("serving certificate names: %s, %s.%s, %s.%s.svc, %s.%s.svc.cluster.local", opt->service,
           opt->service, opt->namespace, opt->service, opt->namespace, opt->service,
           opt->namespace);
    for (size_t i = 0; i < opt->dns_count; i++)
        printf(", %s", opt->dns[i]);
    for (size_t i = 0; i < opt->ip_count; i++)
        printf(", %s", opt->ips[i]);
    if (renew)
        printf("\nvalid %ld days\n", opt->days);
    else
        printf("\nvalid %ld days (CA %ld days)\n", opt->days, opt->ca_days);
}

int cli_certs(int argc, char **argv)
{
    certs_cli c = {
        .opt = {.service = CERTS_DEFAULT_NAME,
                .namespace = CERTS_DEFAULT_NAME,
                .days = CERTS_DEFAULT_DAYS,
                .ca_days = CERTS_DEFAULT_CA_DAYS},
    };
    certs_set set = {0};
    cw_error err = {{0}};
    int status = 1;

    /* Each repeatable flag takes at least two argv entries, so argc bounds both lists. */
    c.opt.ips = calloc((size_t)argc + 1, sizeof *c.opt.ips);
    c.opt.dns = calloc((size_t)argc + 1, sizeof *c.opt.dns);
    if (!c.opt.ips || !c.opt.dns) {
        fputs("coco-webhook certs: out of memory\n", stderr);
        goto out;
    }
    status = parse_opts(argc, argv, &c);
    if (status >= 0)
        goto out;
    if (c.renew) /* the CA's own expiry bounds --days (certs_renew checks it) */
        c.opt.ca_days = CERTS_DAYS_MAX;
    if (certs_check_options(&c.opt, &err)) {
        fprintf(stderr, "coco-webhook certs: %s\n", err.msg);
        status = 2;
        goto out;
    }
    status = 1;
    if (c.renew) {
        if (certs_renew(&c.opt, c.out, &set, &err) ||
            certs_write_renewal(&set, &c.opt, c.out, c.overlay, &err)) {
            fprintf(stderr, "coco-webhook certs: %s\n", err.msg);
            goto out;
        }
        printf("wrote %s/{tls.key,tls.crt}, signed by %s/ca.crt (caBundle unchanged)\n", c.out,
               c.out);
    } else {
        if (certs_generate(&c.opt, &set, &err) ||
            certs_write(&set, &c.opt, c.out, c.overlay, c.force, &err)) {
            fprintf(stderr, "coco-webhook certs: %s\n", err.msg);
            goto out;
        }
        printf("wrote %s/{ca.crt,ca.key,tls.crt,tls.key,ca-bundle.b64}\n", c.out);
    }
    if (c.overlay)
        printf("wrote %s/{tls-secret.yaml,cabundle-patch.yaml}\n", c.overlay);
    print_names(&c.opt, c.renew);
    status = 0;
out:
    certs_set_free(&set);
    free(c.opt.ips);
    free(c.opt.dns);
    return status;
}
