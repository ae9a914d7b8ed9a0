/* coco-webhook: entry point. Dispatches to the subcommands of cli.h. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "flags.h"

static const char usage[] =
    "Usage: coco-webhook COMMAND [OPTIONS]\n"
    "\n"
    "Turns Pods and Kubeflow/OpenShift AI Notebooks labelled\n"
    "coco.confidentialcontainers.org/enabled=true into Confidential Containers workloads.\n"
    "\n"
    "Commands:\n"
    "  serve     run the HTTPS admission webhook server\n"
    "  mutate    apply the mutation offline to YAML or JSON manifests\n"
    "  certs     make a CA and a serving certificate for the webhook Service\n"
    "  seal      make CoCo sealed-secret values and Secret manifests\n"
    "  initdata  render, digest, encode and inspect initdata documents\n"
    "  guard     print the ValidatingAdmissionPolicy that keeps CoCo workloads CoCo\n"
    "  version   print the version\n"
    "\n"
    "Run 'coco-webhook COMMAND --help' for a command's options.\n";

static const char version_usage[] =
    "Usage: coco-webhook version\n\nPrints the version of coco-webhook.\n";

static int cli_version(int argc, char **argv)
{
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(version_usage, stdout);
        return 0;
    }
    printf("coco-webhook %s\n", COCO_VERSION);
    return 0;
}

int main(int argc, char **argv)
{
    static const cli_subcommand commands[] = {
        {"serve", cli_serve},     {"mutate", cli_mutate},     {"certs", cli_certs},
        {"seal", cli_seal},       {"initdata", cli_initdata}, {"guard", cli_guard},
        {"version", cli_version}, {"--version", cli_version},
    };
    /* libmicrohttpd suppresses SIGPIPE only in its own threads. */
    signal(SIGPIPE, SIG_IGN);
    return cli_dispatch(NULL, usage, commands, sizeof commands / sizeof commands[0], argc, argv);
}
