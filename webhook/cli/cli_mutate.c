/* cli_mutate: `coco-webhook mutate`, the engine offline on YAML or JSON manifests
 * (SPEC §6), like `istioctl kube-inject`: for GitOps pipelines and for reviewing what the
 * webhook will do. All or nothing: when any object is denied or the input is unreadable,
 * nothing is printed on stdout and the exit status is 1. */
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "engine.h"
#include "fileread.h"
#include "flags.h"
#include "jsonutil.h"
#include "manifest.h"

typedef enum output_format { OUT_YAML, OUT_JSON, OUT_PATCH } output_format;

typedef struct mutate_opts {
    const char *file;      /* "-" for stdin */
    const char *config;    /* NULL: defaults */
    const char *namespace; /* for objects without metadata.namespace, or NULL */
    output_format format;
    engine_scope scope;
} mutate_opts;

/* The patches of every object, in input order, for -o patch. */
typedef struct patch_list {
    cJSON *items; /* owned array of patches */
} patch_list;

static const char mutate_usage[] =
    "Usage: coco-webhook mutate [-f FILE|-] [--config FILE] [-o yaml|json|patch] [--all]\n"
    "                           [-n NAMESPACE]\n"
    "\n"
    "Applies the webhook's mutation offline to YAML or JSON manifests (multi-document YAML,\n"
    "List objects) and prints the result. Pods, Notebooks and the pod templates of\n"
    "Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs and CronJobs labelled\n"
    "coco.confidentialcontainers.org/enabled=true are mutated; other objects pass through.\n"
    "\n"
    "Options:\n"
    "  -f, --filename FILE   manifest to read, '-' for standard input (default '-')\n"
    "  -c, --config FILE     webhook config file (default: built-in defaults)\n"
    "  -o, --output FORMAT   yaml (default), json, or patch (one RFC 6902 patch per object)\n"
    "  -n, --namespace NS    namespace of objects that name none (for excluded namespaces\n"
    "                        and the config's per-namespace sealed secrets)\n"
    "      --all             treat the input as a namespace that opted in: mutate every\n"
    "                        object not labelled coco.confidentialcontainers.org/enabled=false\n"
    "  -h, --help            show this help\n"
    "\n"
    "Warnings go to standard error. A denied object makes the command exit 1 with the\n"
    "denial message and print nothing.\n";

/* What the flags say before they are checked. */
typedef struct mutate_flags {
    const char *file, *config, *namespace, *output;
    bool all;
} mutate_flags;

/* Returns -1 to go on, or the exit status. */
static int parse_opts(int argc, char **argv, mutate_opts *o)
{
    static const cli_flag flags[] = {
        CLI_STRING_FLAG("--filename", 'f', mutate_flags, file),
        CLI_STRING_FLAG("--config", 'c', mutate_flags, config),
        CLI_STRING_FLAG("--output", 'o', mutate_flags, output),
        CLI_STRING_FLAG("--namespace", 'n', mutate_flags, namespace),
        CLI_BOOL_FLAG("--all", mutate_flags, all),
    };
    /* Positional arguments are refused below, with a hint when one names a file. */
    static const cli_command cmd = CLI_COMMAND("mutate", mutate_usage, flags, -1);
    static const char *const formats[] = {
        [OUT_YAML] = "yaml", [OUT_JSON] = "json", [OUT_PATCH] = "patch"};
    mutate_flags f = {.file = "-", .output = "yaml"};
    int positional = 0;
    int rc = cli_flags_parse(&cmd, argc, argv, &f, &positional);
    if (rc >= 0)
        return rc;
    *o = (mutate_opts){.file = f.file,
                       .config = f.config,
                       .namespace = f.namespace,
                       .scope = f.all ? ENGINE_SCOPE_NAMESPACE : ENGINE_SCOPE_OBJECT};
    size_t k = 0;
    while (k < sizeof formats / sizeof formats[0] && strcmp(f.output, formats[k]) != 0)
        k++;
    if (k == sizeof formats / sizeof formats[0])
        return cli_usage_error(cmd.name, "unknown output format \"%s\" (use yaml, json or patch)",
                               f.output);
    o->format = (output_format)k;
    if (positional > 0) {
        const char *arg = argv[1];
        size_t n = strlen(arg);
        bool looks_like_file =
            access(arg, F_OK) == 0 ||
            (n > 5 && (strcmp(arg + n - 5, ".yaml") == 0 || strcmp(arg + n - 5, ".json") == 0)) ||
            (n > 4 && strcmp(arg + n - 4, ".yml") == 0);
        if (strcmp(o->file, "-") == 0 && looks_like_file)
            return cli_usage_error(
                cmd.name, "unexpected argument \"%s\" (to read that file, use -f %s)", arg, arg);
        return cli_usage_error(cmd.name, "unexpected argument \"%s\"", arg);
    }
    return -1;
}

/* "Pod fraud-detection/jupyter" style name for messages. */
static void describe(const cJSON *obj, char *buf, size_t cap)
{
    const cJSON *md = jsonutil_member(obj, "metadata");
    const char *kind = jsonutil_string(obj, "kind");
    const char *name = jsonutil_string(md, "name");
    const char *gen = jsonutil_string(md, "generateName");
    const char *ns = jsonutil_string(md, "namespace");
    snprintf(buf, cap, "%s %s%s%s%s", kind ? kind : "object", ns ? ns : "", ns ? "/" : "",
             name  ? name
             : gen ? gen
                   : "(unnamed)",
             !name && gen ? "*" : "");
}

/* A Kubernetes object: a mapping with apiVersion and kind strings. */
static bool is_k8s_object(const cJSON *doc)
{
    return cJSON_IsObject(doc) && jsonutil_string(doc, "apiVersion") &&
           jsonutil_string(doc, "kind");
}

/* The type of a non-string value as Go's encoding/json names it (numbers are kept raw, as
 * written, by the manifest reader). */
static const char *json_type_name(const cJSON *v)
{
    if (cJSON_IsBool(v))
        return "bool";
    if (cJSON_IsNumber(v) || cJSON_IsRaw(v))
        return "number";
    if (cJSON_IsArray(v))
        return "array";
    return "object";
}

/* Label and annotation values are strings in the API (null reads as ""): kubectl and the API
 * server refuse anything else, e.g. `enabled: true` unquoted. Checks the metadata at path
 * ("metadata", "spec.template.metadata", ...). Returns 0, or 1 after printing the error. */
static int check_string_maps(const cJSON *meta, const char *path, const char *what)
{
    static const char *const maps[] = {"labels", "annotations"};
    for (size_t m = 0; m < sizeof maps / sizeof maps[0]; m++) {
        const cJSON *map = jsonutil_member(meta, maps[m]);
        if (!cJSON_IsObject(map))
            continue;
        for (const cJSON *v = map->child; v; v = v->next) {
            if (cJSON_IsString(v) || cJSON_IsNull(v))
                continue;
            char *shown = cJSON_IsObject(v) || cJSON_IsArray(v) ? NULL : cJSON_PrintUnformatted(v);
            fprintf(stderr,
                    "Error: %s: %s.%s.%s: %s%s is not a string; %s values are strings, so "
                    "quote it%s%s%s (kubectl refuses it too: json: cannot unmarshal %s into Go "
                    "struct field ObjectMeta.%s.%s of type string)\n",
                    what, path, maps[m], v->string, shown ? shown : "a ",
                    shown ? "" : json_type_name(v), m == 0 ? "label" : "annotation",
                    shown ? ": \"" : "", shown ? shown : "", shown ? "\"" : "", json_type_name(v),
                    path, maps[m]);
            cJSON_free(shown);
            return 1;
        }
    }
    return 0;
}

/* The pod template of a workload (Deployment and the like; CronJob's inside its jobTemplate)
 * with its path, or NULL for anything else (Pods and Notebooks included). */
static const cJSON *workload_template(const cJSON *obj, const char **path)
{
    const char *kind = jsonutil_string(obj, "kind");
    static const char *const workloads[] = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet",
                                            "Job"};
    const cJSON *spec = jsonutil_member(obj, "spec");
    if (kind && strcmp(kind, "CronJob") == 0) {
        *path = "spec.jobTemplate.spec.template";
        return jsonutil_member(jsonutil_member(jsonutil_member(spec, "jobTemplate"), "spec"),
                               "template");
    }
    for (size_t i = 0; kind && i < sizeof workloads / sizeof workloads[0]; i++)
        if (strcmp(kind, workloads[i]) == 0) {
            *path = "spec.template";
            return jsonutil_member(spec, "template");
        }
    return NULL;
}

static bool label_is_true(const cJSON *o, const char *key)
{
    const char *v = jsonutil_string(jsonutil_member(jsonutil_member(o, "metadata"), "labels"), key);
    return v && strcmp(v, "true") == 0;
}

/* Mutates one object in place. Returns 0, or 1 when it was denied. */
static int mutate_object(const config *cfg, const mutate_opts *o, cJSON *obj, patch_list *pl)
{
    char what[512];
    describe(obj, what, sizeof what);
    const char *tpl_path = NULL;
    const cJSON *tpl = workload_template(obj, &tpl_path);
    if (is_k8s_object(obj)) {
        char path[64];
        snprintf(path, sizeof path, "%s.metadata", tpl_path ? tpl_path : "");
        if (check_string_maps(jsonutil_member(obj, "metadata"), "metadata", what) ||
            (tpl && check_string_maps(jsonutil_member(tpl, "metadata"), path, what)))
            return 1;
        if (tpl_path && strcmp(tpl_path, "spec.jobTemplate.spec.template") == 0 &&
            check_string_maps(
                jsonutil_member(jsonutil_member(jsonutil_member(obj, "spec"), "jobTemplate"),
                                "metadata"),
                "spec.jobTemplate.metadata", what))
            return 1;
    }
    engine_request req = {
        .object = obj,
        .namespace =
            jsonutil_string(jsonutil_member(obj, "metadata"), "namespace") ? NULL : o->namespace,
        .operation = ENGINE_OP_CREATE,
        .scope = o->scope,
    };
    engine_result res;
    if (engine_mutate(cfg, &req, &res) != CW_OK) {
        fputs("coco-webhook mutate: out of memory\n", stderr);
        return 1;
    }
    int status = 0;
    /* On a cluster the webhook sees the workload's pods, which carry the template's labels
     * only: a workload labelled in its own metadata alone is not mutated there. */
    if (res.decision.outcome != ENGINE_SKIPPED && o->scope == ENGINE_SCOPE_OBJECT && tpl_path &&
        label_is_true(obj, cfg->selector_label) && !label_is_true(tpl, cfg->selector_label))
        fprintf(stderr,
                "Warning: %s: selected by its own label only; on a cluster its pods carry the "
                "labels of %s.metadata, where %s=\"true\" is missing, and are not mutated\n",
                what, tpl_path, cfg->selector_label);
    if (res.decision.outcome == ENGINE_DENIED) {
        fprintf(stderr, "Error: %s denied: %s\n", what, res.decision.message);
        status = 1;
    }
    for (size_t i = 0; i < res.decision.warning_count; i++)
        fprintf(stderr, "Warning: %s: %s\n", what, res.warnings[i]);
    if (pl && status == 0) {
        cJSON *patch = res.patch ? res.patch : cJSON_CreateArray();
        res.patch = NULL;
        if (!patch) {
            status = 1;
        } else {
            cJSON_AddItemToArray(pl->items, patch);
        }
    }
    engine_result_clear(&res);
    return status;
}

static bool is_list(const cJSON *doc)
{
    const char *kind = jsonutil_string(doc, "kind");
    size_t n = kind ? strlen(kind) : 0;
    return n >= 4 && strcmp(kind + n - 4, "List") == 0 &&
           cJSON_IsArray(jsonutil_member(doc, "items"));
}

static int write_output(const mutate_opts *o, const manifest_docs *docs, const patch_list *pl)
{
    cw_error err;
    if (o->format == OUT_PATCH) {
        for (cJSON *p = pl->items->child; p; p = p->next)
            if (manifest_write_json(stdout, p, &err)) {
                fprintf(stderr, "coco-webhook mutate: %s\n", err.msg);
                return 1;
            }
        return 0;
    }
    size_t objects = 0;
    const cJSON *only = NULL;
    for (size_t i = 0; i < docs->count; i++)
        if (!cJSON_IsNull(docs->docs[i])) {
            objects++;
            only = docs->docs[i];
        }
    if (o->format == OUT_JSON) {
        if (objects == 1)
            return manifest_write_json(stdout, only, &err) ? 1 : 0;
        /* Several documents: one List, as kubectl prints them. */
        cJSON *list = cJSON_CreateObject();
        cJSON *items = list ? cJSON_CreateArray() : NULL;
        if (!items) {
            cJSON_Delete(list);
            return 1;
        }
        cJSON_AddStringToObject(list, "apiVersion", "v1");
        cJSON_AddStringToObject(list, "kind", "List");
        cJSON_AddItemToObject(list, "items", items);
        for (size_t i = 0; i < docs->count; i++)
            if (!cJSON_IsNull(docs->docs[i]))
                cJSON_AddItemReferenceToArray(items, docs->docs[i]);
        int rc = manifest_write_json(stdout, list, &err) ? 1 : 0;
        cJSON_Delete(list);
        return rc;
    }
    int first = 1;
    for (size_t i = 0; i < docs->count; i++) {
        if (cJSON_IsNull(docs->docs[i]))
            continue;
        if (manifest_write_yaml(stdout, docs->docs[i], first, &err)) {
            fprintf(stderr, "coco-webhook mutate: %s\n", err.msg);
            return 1;
        }
        first = 0;
    }
    return 0;
}

int cli_mutate(int argc, char **argv)
{
    mutate_opts o;
    int rc = parse_opts(argc, argv, &o);
    if (rc >= 0)
        return rc;

    cw_error err;
    config *cfg;
    if (config_load(o.config, &cfg, &err) != CW_OK) {
        fprintf(stderr, "coco-webhook mutate: %s\n", err.msg);
        return 1;
    }
    /* What the server logs as a config warning (e.g. an initdata algorithm that cannot attest
     * on a class's runtime) is said here too, before the objects' warnings. */
    for (size_t i = 0; i < cfg->load_warnings.count; i++)
        fprintf(stderr, "Warning: config: %s\n", cfg->load_warnings.items[i]);

    char *buf = NULL;
    size_t len = 0;
    manifest_docs docs = {0};
    patch_list pl = {0};
    rc = 1;
    bool from_stdin = strcmp(o.file, "-") == 0;
    const char *name = from_stdin ? "<stdin>" : o.file;
    cw_result r = from_stdin ? file_read_stream(stdin, name, MANIFEST_INPUT_MAX, &buf, &len, &err)
                             : file_read(o.file, MANIFEST_INPUT_MAX, &buf, &len, &err);
    if (r == CW_OK)
        r = manifest_read(name, buf, len, &docs, &err);
    if (r) {
        fprintf(stderr, "coco-webhook mutate: %s\n", r == CW_ENOMEM ? "out of memory" : err.msg);
        goto done;
    }
    if (o.format == OUT_PATCH && !(pl.items = cJSON_CreateArray()))
        goto done;

    /* Input that is not Kubernetes manifests (a compose file, a values file) passes through,
     * but not without a word. */
    size_t k8s_objects = 0, others = 0;
    for (size_t i = 0; i < docs.count; i++) {
        if (cJSON_IsNull(docs.docs[i]))
            continue;
        if (is_k8s_object(docs.docs[i]))
            k8s_objects++;
        else
            others++;
    }
    if (others > 0 && k8s_objects == 0)
        fprintf(stderr,
                "Warning: %s: no Kubernetes object in the input (no document has apiVersion "
                "and kind); nothing to mutate\n",
                name);
    else if (others > 0)
        for (size_t i = 0, n = 0; i < docs.count; i++) {
            if (cJSON_IsNull(docs.docs[i]))
                continue;
            n++;
            if (!is_k8s_object(docs.docs[i]))
                fprintf(stderr,
                        "Warning: %s: document %zu is not a Kubernetes object (no apiVersion "
                        "and kind); passed through unchanged\n",
                        name, n);
        }

    int denied = 0;
    for (size_t i = 0; i < docs.count; i++) {
        cJSON *doc = docs.docs[i];
        if (!cJSON_IsObject(doc))
            continue;
        if (is_list(doc)) {
            for (cJSON *item = jsonutil_member(doc, "items")->child; item; item = item->next)
                if (cJSON_IsObject(item))
                    denied |= mutate_object(cfg, &o, item, pl.items ? &pl : NULL);
            continue;
        }
        denied |= mutate_object(cfg, &o, doc, pl.items ? &pl : NULL);
    }
    if (denied)
        goto done;
    rc = write_output(&o, &docs, &pl);
    if (fflush(stdout) != 0)
        rc = 1;
done:
    cJSON_Delete(pl.items);
    manifest_docs_free(&docs);
    free(buf);
    config_free(cfg);
    return rc;
}
