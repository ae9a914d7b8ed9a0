/* cli_guard: `coco-webhook guard` (SPEC §6): prints the ValidatingAdmissionPolicy and binding
 * of a config (core/guard.h) as YAML, to apply or to commit (manifests/components/guard holds
 * the base config's). The config is read as the server reads it, initdata documents included.
 * Exit status: 0 printed, 1 failed (a config that does not load), 2 bad usage. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "flags.h"
#include "guard.h"
#include "manifest.h"

static const char guard_usage[] =
    "Usage: coco-webhook guard [--config FILE] [--namespace NS] [--actions deny|warn]\n"
    "\n"
    "Prints, as YAML, a ValidatingAdmissionPolicy and its ValidatingAdmissionPolicyBinding\n"
    "(admissionregistration.k8s.io/v1, Kubernetes 1.30 or newer) made from the webhook's\n"
    "config. The API server then refuses, itself, a Pod or Notebook selected for CoCo (its\n"
    "label, or its namespace's) whose final state is not what the webhook makes: a runtime\n"
    "class that is not allowed, a persistentVolumeClaim or ephemeral volume not kept by\n"
    "annotation keep-volumes, or, where the namespace enforces an initdata document, an\n"
    "initdata annotation that does not hold it. This holds also when the webhook is bypassed\n"
    "(its configuration deleted or edited, or failurePolicy Ignore while it is down).\n"
    "\n"
    "Options:\n"
    "  -c, --config FILE     webhook config file (default: built-in defaults); the documents it\n"
    "                        names are read as the server reads them\n"
    "  -n, --namespace NS    the webhook's namespace, left alone like the config's\n"
    "                        excludeNamespaces (default coco-webhook; '' for none)\n"
    "      --actions ACTION  deny (default): refuse the request; warn: let it through with a\n"
    "                        warning and an audit annotation ([Warn, Audit]), for a first\n"
    "                        rollout\n"
    "  -h, --help            show this help\n";

/* The first lines of the output: what it is and where it comes from. */
static const char guard_header[] =
    "# coco-webhook guard: the ValidatingAdmissionPolicy that keeps CoCo workloads CoCo, made by\n"
    "# `coco-webhook guard` from the webhook's config. Do not edit: render it again when the\n"
    "# config changes.\n";

typedef struct guard_flags {
    const char *config, *namespace, *actions;
} guard_flags;

int cli_guard(int argc, char **argv)
{
    static const cli_flag flags[] = {
        CLI_STRING_FLAG("--config", 'c', guard_flags, config),
        CLI_STRING_FLAG("--namespace", 'n', guard_flags, namespace),
        CLI_STRING_FLAG("--actions", 0, guard_flags, actions),
    };
    static const cli_command cmd = CLI_COMMAND("guard", guard_usage, flags, 0);
    guard_flags f = {.namespace = GUARD_NAMESPACE_DEFAULT, .actions = "deny"};
    int positional = 0;
    int rc = cli_flags_parse(&cmd, argc, argv, &f, &positional);
    if (rc >= 0)
        return rc;
    guard_options opts = {.namespace = f.namespace};
    if (strcmp(f.actions, "deny") == 0)
        opts.actions = GUARD_ACTIONS_DENY;
    else if (strcmp(f.actions, "warn") == 0)
        opts.actions = GUARD_ACTIONS_WARN;
    else
        return cli_usage_error(cmd.name, "unknown actions \"%s\" (use deny or warn)", f.actions);

    cw_error err = {{0}};
    config *cfg = NULL;
    if (config_load(f.config, &cfg, &err))
        return cli_failed(cmd.name, err.msg);
    cJSON *objects = NULL;
    cw_result r = guard_build(cfg, &opts, &objects, &err);
    config_free(cfg);
    if (r)
        return cli_failed(cmd.name, err.msg);
    if (fputs(guard_header, stdout) == EOF)
        r = cw_fail(&err, CW_EIO, "writing the output failed");
    int first = 1;
    for (const cJSON *o = objects ? objects->child : NULL; o && !r; o = o->next, first = 0)
        r = manifest_write_yaml(stdout, o, first, &err);
    cJSON_Delete(objects);
    if (!r && fflush(stdout) != 0)
        r = cw_fail(&err, CW_EIO, "writing the output failed");
    return r ? cli_failed(cmd.name, err.msg) : 0;
}
