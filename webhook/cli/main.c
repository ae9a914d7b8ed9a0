/* coco-webhook: entry point. Dispatches to the subcommands of cli.h. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

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
    "  version   print the version\n"
    "\n"
    "Run 'coco-webhook COMMAND --help' for a command's options.\n";

int main(int argc, char **argv)
{
    /* libmicrohttpd suppresses SIGPIPE only in its own threads. */
    signal(SIGPIPE, SIG_IGN);

    if (argc < 2) {
        fputs(usage, stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        fputs(usage, stdout);
        return 0;
    }
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        if (argc > 2 && (strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0)) {
            puts("Usage: coco-webhook version\n\nPrints the version of coco-webhook.");
            return 0;
        }
        printf("coco-webhook %s\n", COCO_VERSION);
        return 0;
    }
    if (strcmp(cmd, "serve") == 0)
        return cli_serve(argc - 1, argv + 1);
    if (strcmp(cmd, "mutate") == 0)
        return cli_mutate(argc - 1, argv + 1);
    if (strcmp(cmd, "certs") == 0)
        return cli_certs(argc - 1, argv + 1);
    if (strcmp(cmd, "seal") == 0)
        return cli_seal(argc - 1, argv + 1);
    if (strcmp(cmd, "initdata") == 0)
        return cli_initdata(argc - 1, argv + 1);
    fprintf(stderr, "coco-webhook: unknown command \"%s\"\n\n%s", cmd, usage);
    return 2;
}
