/* cli_certs: `coco-webhook certs` (SPEC §6), a CA and a serving certificate for the webhook
 * Service, for a self-managed install or local development. Parses the flags and leaves the
 * work to certs.c. Exit status: 0 done, 1 failed, 2 bad usage; on 1 and 2 no file changed. */
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "certs.h"
#include "cli.h"
#include "flags.h"

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
    cli_list dns, ips;
    bool force;
    bool renew;
} certs_cli;

/* Returns -1 to go on, or the exit status. */
static int parse_opts(int argc, char **argv, certs_cli *c)
{
    static const cli_flag flags[] = {
        CLI_STRING_FLAG("--out", 0, certs_cli, out),
        CLI_STRING_FLAG("--service", 0, certs_cli, opt.service),
        CLI_STRING_FLAG("--namespace", 0, certs_cli, opt.namespace),
        CLI_LIST_FLAG("--ip", certs_cli, ips),
        CLI_LIST_FLAG("--dns", certs_cli, dns),
        CLI_LONG_FLAG("--days", certs_cli, opt.days, 1, CERTS_DAYS_MAX),
        CLI_LONG_FLAG("--ca-days", certs_cli, opt.ca_days, 1, CERTS_DAYS_MAX),
        CLI_STRING_FLAG("--overlay", 0, certs_cli, overlay),
        CLI_BOOL_FLAG("--force", certs_cli, force),
        CLI_BOOL_FLAG("--renew", certs_cli, renew),
    };
    static const cli_command cmd = CLI_COMMAND("certs", certs_usage, flags, 0);
    int positional = 0;
    int status = cli_flags_parse(&cmd, argc, argv, c, &positional);
    if (status >= 0)
        return status;
    c->opt.dns = c->dns.items;
    c->opt.dns_count = c->dns.count;
    c->opt.ips = c->ips.items;
    c->opt.ip_count = c->ips.count;
    if (!c->out || !*c->out)
        return cli_usage_error(cmd.name, "--out DIR is required");
    if (c->renew && c->force)
        return cli_usage_error(cmd.name, "--renew keeps the CA and --force replaces it: give one");
    if (c->renew && c->opt.ca_days != 0)
        return cli_usage_error(cmd.name, "--ca-days does not apply to --renew (the CA is kept)");
    if (c->overlay && !*c->overlay)
        return cli_usage_error(cmd.name, "--overlay needs a directory");
    if (c->opt.ca_days == 0)
        c->opt.ca_days = c->renew ? CERTS_DAYS_MAX : CERTS_DEFAULT_CA_DAYS;
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
    /* ca_days 0: not given (the parser admits 1 and more), set after parsing. */
    certs_cli c = {
        .opt = {.service = CERTS_DEFAULT_NAME,
                .namespace = CERTS_DEFAULT_NAME,
                .days = CERTS_DEFAULT_DAYS},
    };
    certs_set set = {0};
    cw_error err = {{0}};
    int status = parse_opts(argc, argv, &c);
    if (status >= 0)
        goto out;
    /* With --renew the CA's own expiry bounds --days (certs_renew checks it). */
    if (certs_check_options(&c.opt, &err)) {
        status = cli_usage_error("certs", "%s", err.msg);
        goto out;
    }
    status = CLI_EXIT_FAILED;
    if (c.renew) {
        if (certs_renew(&c.opt, c.out, &set, &err) ||
            certs_write_renewal(&set, &c.opt, c.out, c.overlay, &err)) {
            cli_failed("certs", err.msg);
            goto out;
        }
        printf("wrote %s/{tls.key,tls.crt}, signed by %s/ca.crt (caBundle unchanged)\n", c.out,
               c.out);
    } else {
        if (certs_generate(&c.opt, &set, &err) ||
            certs_write(&set, &c.opt, c.out, c.overlay, c.force, &err)) {
            cli_failed("certs", err.msg);
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
    cli_list_free(&c.ips);
    cli_list_free(&c.dns);
    return status;
}
