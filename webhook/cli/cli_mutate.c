/* cli_mutate: `coco-webhook mutate`, the engine offline on YAML or JSON manifests
 * (SPEC §6), like `istioctl kube-inject`: for GitOps pipelines and for reviewing what the
 * webhook will do. All or nothing: when any object is denied or the input is unreadable,
 * nothing is printed on stdout and the exit status is 1. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "engine.h"
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

static int parse_opts(int argc, char **argv, mutate_opts *o)
{
    static const struct option longopts[] = {
        {"filename", required_argument, NULL, 'f'},
        {"config", required_argument, NULL, 'c'},
        {"output", required_argument, NULL, 'o'},
        {"namespace", required_argument, NULL, 'n'},
        {"all", no_argument, NULL, 'A'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    *o = (mutate_opts){.file = "-", .format = OUT_YAML, .scope = ENGINE_SCOPE_OBJECT};
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":f:c:o:n:h", longopts, NULL)) != -1) {
        /* kubectl's habit "-o=json": the short form keeps the '=' in optarg. */
        if (optarg && optarg[0] == '=' && strchr("fcon", c) && argv[optind - 1][0] == '-' &&
            argv[optind - 1][1] == c)
            optarg++;
        switch (c) {
        case 'f': o->file = optarg; break;
        case 'c': o->config = optarg; break;
        case 'n': o->namespace = optarg; break;
        case 'A': o->scope = ENGINE_SCOPE_NAMESPACE; break;
        case 'o':
            if (strcmp(optarg, "yaml") == 0)
                o->format = OUT_YAML;
            else if (strcmp(optarg, "json") == 0)
                o->format = OUT_JSON;
            else if (strcmp(optarg, "patch") == 0)
                o->format = OUT_PATCH;
            else {
                fprintf(stderr,
                        "coco-webhook mutate: unknown output format \"%s\" "
                        "(use yaml, json or patch)\n",
                        optarg);
                return 2;
            }
            break;
        case 'h': fputs(mutate_usage, stdout); return 0;
        case ':':
            fprintf(stderr, "coco-webhook mutate: option %s needs a value\n", argv[optind - 1]);
            return 2;
        default:
            fprintf(stderr, "coco-webhook mutate: unknown option \"%s\"\n\n%s", argv[optind - 1],
                    mutate_usage);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "coco-webhook mutate: unexpected argument \"%s\"", argv[optind]);
        size_t n = strlen(argv[optind]);
        bool looks_like_file = access(argv[optind], F_OK) == 0 ||
                               (n > 5 && (strcmp(argv[optind] + n - 5, ".yaml") == 0 ||
                                          strcmp(argv[optind] + n - 5, ".json") == 0)) ||
                               (n > 4 && strcmp(argv[optind] + n - 4, ".yml") == 0);
        if (strcmp(o->file, "-") == 0 && looks_like_file)
            fprintf(stderr, " (to read that file, use -f %s)", argv[optind]);
        fputc('\n', stderr);
        return 2;
    }
    return -1;
}

/* Reads all of f into an owned buffer, at most MANIFEST_INPUT_MAX bytes. */
static cw_result read_all(FILE *f, const char *name, char **out, size_t *len, cw_error *err)
{
    size_t cap = 64 * 1024, n = 0;
    char *buf = malloc(cap);
    if (!buf)
        return CW_ENOMEM;
    for (;;) {
        if (n == cap) {
            if (cap >= MANIFEST_INPUT_MAX) {
                free(buf);
                return cw_fail(err, CW_ELIMIT, "%s: input larger than %u bytes", name,
                               MANIFEST_INPUT_MAX);
            }
            cap *= 2;
            char *nbuf = realloc(buf, cap);
            if (!nbuf) {
                free(buf);
                return CW_ENOMEM;
            }
            buf = nbuf;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        free(buf);
        return cw_fail(err, CW_EIO, "%s: read error", name);
    }
    *out = buf;
    *len = n;
    return CW_OK;
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
    config *cfg = o.config ? config_load(o.config, &err) : config_new_default();
    if (!cfg) {
        fprintf(stderr, "coco-webhook mutate: %s\n", o.config ? err.msg : "out of memory");
        return 1;
    }

    char *buf = NULL;
    size_t len = 0;
    manifest_docs docs = {0};
    patch_list pl = {0};
    rc = 1;
    const char *name = strcmp(o.file, "-") == 0 ? "<stdin>" : o.file;
    FILE *f = strcmp(o.file, "-") == 0 ? stdin : fopen(o.file, "rb");
    if (!f) {
        fprintf(stderr, "coco-webhook mutate: %s: %s\n", o.file, strerror(errno));
        goto done;
    }
    cw_result r = read_all(f, name, &buf, &len, &err);
    if (f != stdin)
        fclose(f);
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
