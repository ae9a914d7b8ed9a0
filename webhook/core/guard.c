/* guard: the ValidatingAdmissionPolicy of the webhook's config (guard.h). Each expression is
 * made from a template whose %q places are filled with CEL string literals (celesc) and whose
 * %s places take text already made here (lists, maps); nothing from the config reaches an
 * expression any other way. */
#include "guard.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "celesc.h"
#include "engine.h"
#include "initdata_doc.h"

/* cel-go's parser takes at most 100,000 code points per expression (its default, which
 * Kubernetes keeps); bytes are counted here, which is never fewer. */
#define GUARD_EXPRESSION_MAX 100000

/* What every user-facing message starts with: the guard and what to look at. */
#define MSG "coco-webhook guard: "

/* The objects' fields and annotations the expressions read, as CEL literals of SPEC §1-§2. */
#define KEEP_VOLUMES "'" ENGINE_ANN_KEEP_VOLUMES "'"

/* Appends to out; a failure stays in out (buf.h: sticky) and is read once, at the end. */
static void put(buf *out, const char *s)
{
    if (buf_adds(out, s))
        return;
}

static void put_char(buf *out, char c)
{
    if (buf_addc(out, c))
        return;
}

/* s[0..n) as a CEL string literal. */
static void put_literal(buf *out, const char *s, size_t n)
{
    if (celesc_append(out, s, n))
        return;
}

typedef struct builder {
    cw_error *err;
    cw_result failed; /* the first failure; later steps do nothing */
} builder;

/* Hands out's bytes to the caller (owned), or records its failure in b and returns NULL. */
static char *finish(builder *b, buf *out)
{
    cw_result r = buf_status(out);
    char *s = buf_take(out, NULL);
    if (!r && s)
        return s;
    free(s);
    if (b->failed) /* the first failure's message stands */
        return NULL;
    if (r == CW_ELIMIT)
        b->failed = cw_fail(b->err, CW_ELIMIT,
                            "an expression of the guard would be longer than %d bytes, the most "
                            "the API server's CEL parser accepts",
                            GUARD_EXPRESSION_MAX);
    else
        b->failed = CW_FAIL_NOMEM(b->err);
    return NULL;
}

/* Formats an expression: %q takes a const char * written as a CEL string literal, %s a const
 * char * copied as it is, %% a percent sign. Returns an owned string, or NULL (b->failed). */
static char *cel_format(builder *b, const char *fmt, ...)
{
    if (b->failed)
        return NULL;
    buf out;
    buf_init(&out, GUARD_EXPRESSION_MAX);
    va_list ap;
    va_start(ap, fmt);
    for (const char *p = fmt; *p; p++) {
        if (*p == '%' && p[1] == 'q') {
            const char *s = va_arg(ap, const char *);
            put_literal(&out, s, strlen(s));
            p++;
        } else if (*p == '%' && p[1] == 's') {
            put(&out, va_arg(ap, const char *));
            p++;
        } else {
            put_char(&out, *p);
            p += *p == '%' && p[1] == '%';
        }
    }
    va_end(ap);
    return finish(b, &out);
}

/* The names, duplicates left out, joined by ", ": as a CEL list literal ['a', 'b'] when
 * literal, else as plain text for a message (a, b). Owned, or NULL (b->failed). */
static char *join_names(builder *b, const char *const *items, size_t count, bool literal)
{
    if (b->failed)
        return NULL;
    buf out;
    buf_init(&out, GUARD_EXPRESSION_MAX);
    if (literal)
        put_char(&out, '[');
    size_t written = 0;
    for (size_t i = 0; i < count; i++) {
        size_t j = 0;
        while (j < i && strcmp(items[j], items[i]) != 0)
            j++;
        if (j < i)
            continue;
        if (written++)
            put(&out, ", ");
        if (literal)
            put_literal(&out, items[i], strlen(items[i]));
        else
            put(&out, items[i]);
    }
    if (literal)
        put_char(&out, ']');
    return finish(b, &out);
}

/* ---- cJSON helpers: each records out of memory in b and returns NULL ---- */

static cJSON *node(builder *b, cJSON *n)
{
    if (!n && !b->failed)
        b->failed = CW_FAIL_NOMEM(b->err);
    return n;
}

static cJSON *add_object(builder *b, cJSON *parent, const char *key)
{
    if (b->failed || !parent)
        return NULL;
    return node(b, key ? cJSON_AddObjectToObject(parent, key) : NULL);
}

static cJSON *add_array(builder *b, cJSON *parent, const char *key)
{
    if (b->failed || !parent)
        return NULL;
    return node(b, cJSON_AddArrayToObject(parent, key));
}

static void add_string(builder *b, cJSON *parent, const char *key, const char *value)
{
    if (b->failed || !parent || !value)
        return;
    node(b, cJSON_AddStringToObject(parent, key, value));
}

/* Adds value (owned; freed here) under key. */
static void add_owned(builder *b, cJSON *parent, const char *key, char *value)
{
    add_string(b, parent, key, value);
    free(value);
}

static void append_string(builder *b, cJSON *array, const char *value)
{
    if (b->failed || !array)
        return;
    cJSON *s = node(b, cJSON_CreateString(value));
    if (s)
        cJSON_AddItemToArray(array, s);
}

static cJSON *append_object(builder *b, cJSON *array)
{
    if (b->failed || !array)
        return NULL;
    cJSON *o = node(b, cJSON_CreateObject());
    if (o)
        cJSON_AddItemToArray(array, o);
    return o;
}

/* {name, expression} (matchConditions, variables); expression owned. */
static void add_named(builder *b, cJSON *array, const char *name, char *expression)
{
    cJSON *o = append_object(b, array);
    add_string(b, o, "name", name);
    add_owned(b, o, "expression", expression);
}

/* One validation; expression and message_expression owned. */
static void add_validation(builder *b, cJSON *array, char *expression, char *message_expression,
                           const char *message)
{
    cJSON *o = append_object(b, array);
    add_owned(b, o, "expression", expression);
    add_owned(b, o, "messageExpression", message_expression);
    add_string(b, o, "message", message);
    add_string(b, o, "reason", "Forbidden");
}

static void add_rule(builder *b, cJSON *rules, const char *group, const char *const *versions,
                     size_t nversions, const char *const *operations, size_t noperations,
                     const char *resource)
{
    cJSON *r = append_object(b, rules);
    append_string(b, add_array(b, r, "apiGroups"), group);
    cJSON *v = add_array(b, r, "apiVersions");
    for (size_t i = 0; i < nversions; i++)
        append_string(b, v, versions[i]);
    cJSON *ops = add_array(b, r, "operations");
    for (size_t i = 0; i < noperations; i++)
        append_string(b, ops, operations[i]);
    append_string(b, add_array(b, r, "resources"), resource);
    add_string(b, r, "scope", "Namespaced");
}

static cJSON *new_object(builder *b, const char *kind)
{
    cJSON *o = node(b, cJSON_CreateObject());
    add_string(b, o, "apiVersion", "admissionregistration.k8s.io/v1");
    add_string(b, o, "kind", kind);
    add_string(b, add_object(b, o, "metadata"), "name", GUARD_POLICY_NAME);
    return o;
}

/* ---- the policy ---- */

const char *guard_initdata_key(const config *cfg, const char *runtime_class)
{
    /* NULL: a runtime that reads no per-pod initdata (kata 3.20), which a config with
     * documents never names (config_runtime.c); the current key stands in. */
    const char *key = config_initdata_key(cfg, runtime_class);
    return key ? key : INITDATA_ANN_HYPERVISOR;
}

/* SPEC §1: which objects the guard looks at. Expressions of matchConditions see no
 * namespaceObject, so the namespace's label is the variable "selected" (add_variables). */
static void add_match(builder *b, const config *cfg, const guard_options *opts, cJSON *spec)
{
    static const char *const pod_versions[] = {"v1"};
    static const char *const pod_ops[] = {"CREATE"};
    static const char *const nb_versions[] = {"v1", "v1beta1", "v1alpha1"};
    static const char *const nb_ops[] = {"CREATE", "UPDATE"};
    cJSON *mc = add_object(b, spec, "matchConstraints");
    add_string(b, mc, "matchPolicy", "Equivalent");
    cJSON *rules = add_array(b, mc, "resourceRules");
    add_rule(b, rules, "", pod_versions, 1, pod_ops, 1, "pods");
    add_rule(b, rules, "kubeflow.org", nb_versions, 3, nb_ops, 2, "notebooks");

    size_t n = cfg->exclude_namespaces.count;
    const char **excluded = b->failed ? NULL : calloc(n + 1, sizeof *excluded);
    if (!b->failed && !excluded)
        b->failed = CW_FAIL_NOMEM(b->err);
    for (size_t i = 0; excluded && i < n; i++)
        excluded[i] = cfg->exclude_namespaces.items[i];
    if (excluded && opts->namespace && *opts->namespace)
        excluded[n++] = opts->namespace;
    char *list = excluded ? join_names(b, excluded, n, true) : NULL;
    free(excluded);

    cJSON *conds = add_array(b, spec, "matchConditions");
    const char *label = cfg->selector_label;
    if (n > 0)
        add_named(b, conds, "namespace-not-excluded",
                  cel_format(b, "!(request.namespace in %s)", list ? list : "[]"));
    free(list);
    add_named(b, conds, "not-a-mirror-pod",
              cel_format(b,
                         "!has(object.metadata.annotations) ||\n"
                         "!(%q in object.metadata.annotations)",
                         ENGINE_ANN_MIRROR));
    /* Only an UPDATE of an object being deleted (its finalizers shed) is left alone: on a
     * CREATE the API server clears the field before validating admission, whatever the
     * request said, so the guard never trusts it there. */
    add_named(b, conds, "not-being-deleted",
              cel_format(b, "request.operation == 'CREATE' ||\n"
                            "!has(object.metadata.deletionTimestamp)"));
    /* "false" opts out, any other value than "true" is not selected (SPEC §1). */
    add_named(b, conds, "not-opted-out",
              cel_format(b,
                         "!has(object.metadata.labels) ||\n"
                         "!(%q in object.metadata.labels) ||\n"
                         "object.metadata.labels[%q] == 'true'",
                         label, label));
}

/* The variables every validation reads. */
static void add_variables(builder *b, const config *cfg, cJSON *vars)
{
    const char *label = cfg->selector_label;
    /* With not-opted-out, an object carrying the label carries "true". */
    add_named(b, vars, "selected",
              cel_format(b,
                         "(has(object.metadata.labels) && %q in object.metadata.labels) ||\n"
                         "(has(namespaceObject.metadata.labels) &&\n"
                         " %q in namespaceObject.metadata.labels &&\n"
                         " namespaceObject.metadata.labels[%q] == 'true')",
                         label, label, label));
    /* Pods: spec; Notebooks: spec.template.spec (dyn: the fields of one kind only). */
    add_named(b, vars, "spec",
              cel_format(b, "object.kind == 'Pod' ? object.spec :\n"
                            "has(object.spec) && has(dyn(object).spec.template) &&\n"
                            "has(dyn(object).spec.template.spec) ?\n"
                            "dyn(object).spec.template.spec : {}"));
    add_named(b, vars, "specPath",
              cel_format(b, "object.kind == 'Pod' ? 'spec' : 'spec.template.spec'"));
    add_named(b, vars, "annotations",
              cel_format(b, "has(object.metadata.annotations) ? object.metadata.annotations : {}"));
    add_named(b, vars, "runtimeClass",
              cel_format(b, "has(variables.spec.runtimeClassName) ?\n"
                            "variables.spec.runtimeClassName : ''"));
}

/* SPEC §2.1: the class is one of runtimeClass.allowed (the name is always among them). */
static void add_runtime_class(builder *b, const config *cfg, cJSON *validations)
{
    const config_strings *allowed = &cfg->runtime_class_allowed;
    const char *const *items = (const char *const *)allowed->items;
    char *list = join_names(b, items, allowed->count, true);
    char *names = join_names(b, items, allowed->count, false);
    char message[CW_ERROR_MAX];
    snprintf(message, sizeof message,
             MSG "the runtime class is not one of the allowed CoCo runtime classes (%.200s)",
             names ? names : "");
    char tail[CW_ERROR_MAX];
    snprintf(tail, sizeof tail,
             " is selected for Confidential Containers (label %.253s on it or its namespace): "
             "allowed runtime classes are %.200s; was the coco-webhook bypassed?",
             cfg->selector_label, names ? names : "");
    add_validation(
        b, validations,
        cel_format(b, "!variables.selected || variables.runtimeClass in %s", list ? list : "[]"),
        cel_format(b,
                   "%q + variables.specPath + '.runtimeClassName is ' +\n"
                   "(variables.runtimeClass == '' ? 'not set' :\n"
                   " '\"' + variables.runtimeClass + '\"') +\n"
                   "', but this ' + object.kind +\n"
                   "%q",
                   MSG, tail),
        message);
    free(list);
    free(names);
}

/* SPEC §2.2: no claim of the node's storage left, unless kept by the annotation or used as a
 * block device (volumeDevices), which the webhook never replaces. */
static void add_volumes(builder *b, cJSON *vars, cJSON *validations)
{
    /* The engine splits keep-volumes at commas and trims spaces and tabs around each name;
     * trim() trims those too (and other white space, which no volume name holds). */
    add_named(b, vars, "keptVolumes",
              cel_format(b,
                         "%s in variables.annotations ?\n"
                         "variables.annotations[%s].split(',').map(n, n.trim()) : []",
                         KEEP_VOLUMES, KEEP_VOLUMES));
    add_named(b, vars, "containers",
              cel_format(b, "(has(variables.spec.containers) ? variables.spec.containers : []) +\n"
                            "(has(variables.spec.initContainers) ? variables.spec.initContainers "
                            ": [])"));
    add_named(b, vars, "claimVolumes",
              cel_format(b, "has(variables.spec.volumes) ? variables.spec.volumes.filter(v,\n"
                            "  (has(v.persistentVolumeClaim) || has(v.ephemeral)) &&\n"
                            "  !(v.name in variables.keptVolumes) &&\n"
                            "  !variables.containers.exists(c, has(c.volumeDevices) &&\n"
                            "    c.volumeDevices.exists(d, d.name == v.name))) : []"));
    add_validation(
        b, validations, cel_format(b, "!variables.selected || size(variables.claimVolumes) == 0"),
        cel_format(b,
                   "%q + variables.specPath + '.volumes ' +\n"
                   "variables.claimVolumes.map(v, '\"' + v.name + '\"').join(', ') +\n"
                   "%q",
                   MSG,
                   ": persistentVolumeClaim and ephemeral volumes are storage of the node, "
                   "outside the confidential VM; the coco-webhook replaces them by pod-VM "
                   "storage unless annotation " ENGINE_ANN_KEEP_VOLUMES " names them"),
        MSG "a persistentVolumeClaim or ephemeral volume would be mounted from the node, outside "
            "the confidential VM");
}

/* SPEC §2.5: in a namespace that enforces a document, the key the class's runtime reads holds
 * that document's value, exactly as the webhook sets it. One variable per document keeps each
 * expression within the parser's limit. */
static void add_initdata(builder *b, const config *cfg, cJSON *vars, cJSON *validations)
{
    size_t enforced = 0;
    for (size_t i = 0; i < cfg->initdata_namespaces_count; i++)
        enforced += cfg->initdata_namespaces[i].enforce;
    if (enforced == 0 || b->failed)
        return;

    /* initdataDocumentN per enforced document; initdataValues: name -> its variable. */
    buf values;
    buf_init(&values, GUARD_EXPRESSION_MAX);
    put_char(&values, '{');
    size_t used = 0;
    for (size_t d = 0; d < cfg->initdata_documents_count && !b->failed; d++) {
        const config_initdata_document *doc = &cfg->initdata_documents[d];
        bool needed = false;
        for (size_t i = 0; i < cfg->initdata_namespaces_count; i++)
            needed |=
                cfg->initdata_namespaces[i].enforce && cfg->initdata_namespaces[i].document == doc;
        if (!needed)
            continue;
        char name[32];
        snprintf(name, sizeof name, "initdataDocument%zu", used);
        char *value = cel_format(b, "%q", doc->doc.value);
        if (!value && b->failed == CW_ELIMIT)
            cw_error_prefix(b->err,
                            "initdata document \"%s\", enforced (its annotation value is %zu "
                            "bytes; the guard cannot hold it)",
                            doc->name, doc->doc.value_len);
        add_named(b, vars, name, value);
        if (used++)
            put(&values, ", ");
        put_literal(&values, doc->name, strlen(doc->name));
        put(&values, ": variables.");
        put(&values, name);
    }
    put_char(&values, '}');

    /* initdataEnforced: namespace -> document name (the config names each namespace once). */
    buf ns_map;
    buf_init(&ns_map, GUARD_EXPRESSION_MAX);
    put_char(&ns_map, '{');
    for (size_t i = 0, n = 0; i < cfg->initdata_namespaces_count; i++) {
        const config_initdata_namespace *ns = &cfg->initdata_namespaces[i];
        if (!ns->enforce)
            continue;
        if (n++)
            put(&ns_map, ", ");
        put_literal(&ns_map, ns->namespace, strlen(ns->namespace));
        put(&ns_map, ": ");
        put_literal(&ns_map, ns->document->name, strlen(ns->document->name));
    }
    put_char(&ns_map, '}');

    /* initdataKey: one literal when every allowed class's runtime reads the same key, else a
     * map class -> key (each class once: CEL refuses repeated keys) indexed by the object's
     * class, the default class's key for a class not in it (refused by the class rule). */
    const config_strings *allowed = &cfg->runtime_class_allowed;
    const char *first = guard_initdata_key(cfg, cfg->runtime_class);
    bool same = true;
    for (size_t i = 0; i < allowed->count; i++)
        same &= strcmp(guard_initdata_key(cfg, allowed->items[i]), first) == 0;
    buf keys;
    buf_init(&keys, GUARD_EXPRESSION_MAX);
    if (same) {
        put_literal(&keys, first, strlen(first));
    } else {
        put_char(&keys, '{');
        for (size_t i = 0, n = 0; i < allowed->count; i++) {
            if (config_strings_contains(&(config_strings){allowed->items, i}, allowed->items[i]))
                continue;
            const char *key = guard_initdata_key(cfg, allowed->items[i]);
            if (n++)
                put(&keys, ", ");
            put_literal(&keys, allowed->items[i], strlen(allowed->items[i]));
            put(&keys, ": ");
            put_literal(&keys, key, strlen(key));
        }
        put_char(&keys, '}');
    }

    char *values_text = finish(b, &values);
    char *ns_text = finish(b, &ns_map);
    char *keys_text = finish(b, &keys);
    add_named(b, vars, "initdataValues", cel_format(b, "%s", values_text));
    add_named(b, vars, "initdataEnforced", cel_format(b, "%s", ns_text));
    add_named(b, vars, "initdataKey",
              same ? cel_format(b, "%s", keys_text)
                   : cel_format(b,
                                "variables.runtimeClass in %s ?\n"
                                "%s[variables.runtimeClass] : %q",
                                keys_text, keys_text, first));
    free(values_text);
    free(ns_text);
    free(keys_text);
    add_validation(
        b, validations,
        cel_format(b, "!variables.selected ||\n"
                      "!(request.namespace in variables.initdataEnforced) ||\n"
                      "(variables.initdataKey in variables.annotations &&\n"
                      " variables.annotations[variables.initdataKey] ==\n"
                      " variables.initdataValues[variables.initdataEnforced[request.namespace]])"),
        cel_format(b,
                   "%q + request.namespace + ' enforces initdata document \"' +\n"
                   "variables.initdataEnforced[request.namespace] + '\", but annotation ' +\n"
                   "variables.initdataKey +\n"
                   "(variables.initdataKey in variables.annotations ? ' holds another value' :\n"
                   " ' is not set') +\n"
                   "': it must hold the value the coco-webhook sets (coco-webhook initdata "
                   "encode FILE prints it)'",
                   MSG "namespace "),
        MSG "the namespace enforces an initdata document that the initdata annotation does not "
            "hold");
}

cw_result guard_build(const config *cfg, const guard_options *opts, cJSON **out, cw_error *err)
{
    builder b = {.err = err};
    *out = NULL;
    cJSON *list = node(&b, cJSON_CreateArray());
    if (!list)
        return b.failed;

    cJSON *policy = new_object(&b, "ValidatingAdmissionPolicy");
    if (policy)
        cJSON_AddItemToArray(list, policy);
    cJSON *spec = add_object(&b, policy, "spec");
    /* An expression that cannot be evaluated refuses the object, as the webhook's
     * failurePolicy: Fail does when the webhook cannot answer. */
    add_string(&b, spec, "failurePolicy", "Fail");
    add_match(&b, cfg, opts, spec);
    cJSON *vars = add_array(&b, spec, "variables");
    cJSON *validations = add_array(&b, spec, "validations");
    add_variables(&b, cfg, vars);
    add_runtime_class(&b, cfg, validations);
    if (cfg->replace_persistent_volumes)
        add_volumes(&b, vars, validations);
    add_initdata(&b, cfg, vars, validations);

    cJSON *binding = new_object(&b, "ValidatingAdmissionPolicyBinding");
    if (binding)
        cJSON_AddItemToArray(list, binding);
    cJSON *bspec = add_object(&b, binding, "spec");
    add_string(&b, bspec, "policyName", GUARD_POLICY_NAME);
    cJSON *actions = add_array(&b, bspec, "validationActions");
    if (opts->actions == GUARD_ACTIONS_WARN) {
        append_string(&b, actions, "Warn");
        append_string(&b, actions, "Audit");
    } else {
        append_string(&b, actions, "Deny");
    }

    if (b.failed) {
        cJSON_Delete(list);
        return b.failed;
    }
    *out = list;
    return CW_OK;
}
