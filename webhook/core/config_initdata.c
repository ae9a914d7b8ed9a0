/* config_initdata: the initdata group of SPEC §5 (§6): the documents, read and encoded when
 * the config is loaded, the namespaces that use them and the default. Names are linked to
 * documents once the whole file is read, as a document may come after its users. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_reader.h"
#include "k8s_names.h"
#include "namelist.h"

static const char *check_initdata_annotation(const char *s)
{
    if (strcmp(s, INITDATA_ANN_HYPERVISOR) == 0 || strcmp(s, INITDATA_ANN_RUNTIME) == 0)
        return NULL;
    return "not an initdata annotation key (" INITDATA_ANN_HYPERVISOR
           " or, before kata 3.20, " INITDATA_ANN_RUNTIME ")";
}

/* Optional: left out, each class's runtime names the key (config_initdata_key); written, it
 * must agree with every one of them (resolve_runtimes). */
CW_MUST_USE static cw_result read_initdata_annotation(parse_ctx *ctx, const char *path)
{
    ctx->annotation_line = event_line(&ctx->ev);
    return set_string(ctx, path, &ctx->cfg->initdata_annotation, check_initdata_annotation, false);
}

static const char *check_document_name(const char *s)
{
    return k8s_is_dns_label(s, strlen(s)) ? NULL
                                          : "not a valid document name (an RFC 1123 label: "
                                            "lowercase letters, digits and '-')";
}

/* path joined to dir unless it is absolute. Returns owned, or NULL when out of memory. */
static char *resolve_path(const char *dir, const char *path)
{
    if (path[0] == '/' || !dir || !dir[0])
        return strdup(path);
    size_t n = strlen(dir) + 1 + strlen(path) + 1;
    char *out = malloc(n);
    if (out)
        snprintf(out, n, "%s/%s", dir, path);
    return out;
}

static bool document_exists(const config *cfg, const char *name)
{
    return config_initdata_document_named(cfg, name) != NULL;
}

/* Grows the document arrays by one, named name. */
CW_MUST_USE static cw_result add_document(parse_ctx *ctx, const char *name, size_t line)
{
    config *cfg = ctx->cfg;
    size_t n = cfg->initdata_documents_count;
    CW_GUARD(grow_one(ctx, &cfg->initdata_documents, n, sizeof *cfg->initdata_documents));
    CW_GUARD(grow_one(ctx, &ctx->doc_lines, n, sizeof *ctx->doc_lines));
    ctx->doc_lines[n] = line;
    cfg->initdata_documents[n] = (config_initdata_document){.name = strdup(name)};
    cfg->initdata_documents_count = n + 1;
    return cfg->initdata_documents[n].name ? CW_OK : CW_FAIL_NOMEM(ctx->err);
}

/* The file of the document just added, resolved against the config's folder. */
CW_MUST_USE static cw_result read_document_path(parse_ctx *ctx, const char *path)
{
    config_initdata_document *d =
        &ctx->cfg->initdata_documents[ctx->cfg->initdata_documents_count - 1];
    const char *file;
    CW_GUARD(get_string(ctx, path, false, false, &file));
    if (!file[0])
        return fail_at(ctx, event_line(&ctx->ev), path, CW_EINVAL,
                       "expected the path of a document file, found an empty string");
    d->doc.path = resolve_path(ctx->base_dir, file);
    return d->doc.path ? CW_OK : CW_FAIL_NOMEM(ctx->err);
}

CW_MUST_USE static cw_result read_initdata_documents(parse_ctx *ctx, const char *path)
{
    static const named_map spec =
        NAMED_MAP("expected a mapping of document names to file paths", "a name", "documents",
                  initdata_documents_count, check_document_name, document_exists, add_document,
                  read_document_path);
    return read_named_map(ctx, path, &spec);
}

/* Keeps the document name of the current namespace entry (checked once all are read). */
CW_MUST_USE static cw_result set_ns_document(parse_ctx *ctx, const char *path)
{
    const char *name;
    CW_GUARD(get_string(ctx, path, false, false, &name));
    const char *why = check_document_name(name);
    if (why)
        return fail_at(ctx, event_line(&ctx->ev), path, CW_EINVAL, "%s", why);
    char *copy = strdup(name);
    if (!copy)
        return CW_FAIL_NOMEM(ctx->err);
    free(ctx->ns_doc_names[ctx->ns_current]);
    ctx->ns_doc_names[ctx->ns_current] = copy;
    return CW_OK;
}

CW_MUST_USE static cw_result read_ns_enforce(parse_ctx *ctx, const char *path)
{
    return get_bool(ctx, path, false, &ctx->cfg->initdata_namespaces[ctx->ns_current].enforce);
}

static bool namespace_exists(const config *cfg, const char *ns)
{
    return config_initdata_namespace_of(cfg, ns) != NULL;
}

/* Grows the namespace arrays by one, for ns, and makes it the current entry. */
CW_MUST_USE static cw_result add_namespace(parse_ctx *ctx, const char *ns, size_t line)
{
    config *cfg = ctx->cfg;
    size_t n = cfg->initdata_namespaces_count;
    CW_GUARD(grow_one(ctx, &cfg->initdata_namespaces, n, sizeof *cfg->initdata_namespaces));
    CW_GUARD(grow_one(ctx, &ctx->ns_doc_names, n, sizeof *ctx->ns_doc_names));
    CW_GUARD(grow_one(ctx, &ctx->ns_lines, n, sizeof *ctx->ns_lines));
    ctx->ns_doc_names[n] = NULL;
    ctx->ns_lines[n] = line;
    ctx->ns_current = n;
    cfg->initdata_namespaces[n] = (config_initdata_namespace){.namespace = strdup(ns)};
    cfg->initdata_namespaces_count = n + 1;
    return cfg->initdata_namespaces[n].namespace ? CW_OK : CW_FAIL_NOMEM(ctx->err);
}

/* A document name, or {document: NAME, enforce: BOOL}. */
CW_MUST_USE static cw_result read_namespace_entry(parse_ctx *ctx, const char *path)
{
    static const key_spec keys[] = {
        {"document", set_ns_document},
        {"enforce", read_ns_enforce},
    };
    static const char shape[] = "expected a document name, or {document: NAME, enforce: true}";
    size_t n = ctx->ns_current;
    if (ctx->ev.type == YAML_MAPPING_START_EVENT) {
        CW_GUARD(read_map(ctx, path, keys, KEY_COUNT(keys)));
        if (!ctx->ns_doc_names[n])
            return fail_at(ctx, ctx->ns_lines[n], path, CW_EINVAL, "%s", shape);
        return CW_OK;
    }
    if (ctx->ev.type != YAML_SCALAR_EVENT)
        return fail_at(ctx, event_line(&ctx->ev), path, CW_EINVAL, "%s", shape);
    return set_ns_document(ctx, path);
}

CW_MUST_USE static cw_result read_initdata_namespaces(parse_ctx *ctx, const char *path)
{
    static const named_map spec =
        NAMED_MAP("expected a mapping of namespace names to document names", "a name", "namespaces",
                  initdata_namespaces_count, check_namespace, namespace_exists, add_namespace,
                  read_namespace_entry);
    return read_named_map(ctx, path, &spec);
}

CW_MUST_USE static cw_result read_initdata_default(parse_ctx *ctx, const char *path)
{
    const char *name;
    CW_GUARD(get_string(ctx, path, true, false, &name));
    free(ctx->default_name);
    ctx->default_name = NULL;
    if (!name || !name[0])
        return CW_OK;
    const char *why = check_document_name(name);
    if (why)
        return fail_at(ctx, event_line(&ctx->ev), path, CW_EINVAL, "%s", why);
    ctx->default_name = strdup(name);
    ctx->default_line = event_line(&ctx->ev);
    return ctx->default_name ? CW_OK : CW_FAIL_NOMEM(ctx->err);
}

cw_result read_initdata(parse_ctx *ctx, const char *path)
{
    static const key_spec keys[] = {
        {"annotation", read_initdata_annotation},
        {"documents", read_initdata_documents},
        {"namespaces", read_initdata_namespaces},
        {"default", read_initdata_default},
    };
    return read_map(ctx, path, keys, KEY_COUNT(keys));
}

const char *config_initdata_document_list(const config *cfg, char *buf, size_t cap)
{
    namelist l;
    namelist_init(&l, buf, cap);
    for (size_t i = 0; i < cfg->initdata_documents_count; i++)
        namelist_add(&l, cfg->initdata_documents[i].name);
    if (l.len == 0)
        snprintf(buf, cap, "none");
    return buf;
}

/* Loads every document and links the namespaces and the default to theirs. */
cw_result resolve_initdata(parse_ctx *ctx)
{
    config *cfg = ctx->cfg;
    char key[PATH_BUF];
    char names[NAMES_SHOWN];
    for (size_t i = 0; ctx->watch && i < cfg->initdata_documents_count; i++) {
        CW_GUARD(strings_append(ctx->watch, cfg->initdata_documents[i].doc.path, ctx->err));
    }
    for (size_t i = 0; i < cfg->initdata_documents_count; i++) {
        config_initdata_document *d = &cfg->initdata_documents[i];
        char *file = d->doc.path;
        d->doc.path = NULL;
        cw_error e = {{0}};
        cw_result r = initdata_doc_load(file, &d->doc, &e);
        free(file);
        if (r) {
            path_join(key, sizeof key, "initdata.documents", d->name, strlen(d->name));
            return fail_at(ctx, ctx->doc_lines[i], key, r, "%s", e.msg);
        }
    }
    config_initdata_document_list(cfg, names, sizeof names);
    for (size_t i = 0; i < cfg->initdata_namespaces_count; i++) {
        config_initdata_namespace *ns = &cfg->initdata_namespaces[i];
        ns->document = config_initdata_document_named(cfg, ctx->ns_doc_names[i]);
        if (!ns->document) {
            path_join(key, sizeof key, "initdata.namespaces", ns->namespace, strlen(ns->namespace));
            return fail_at(ctx, ctx->ns_lines[i], key, CW_EINVAL,
                           "document \"%s\" is not in initdata.documents (listed: %s)",
                           ctx->ns_doc_names[i], names);
        }
    }
    if (ctx->default_name) {
        cfg->initdata_default = config_initdata_document_named(cfg, ctx->default_name);
        if (!cfg->initdata_default)
            return fail_at(ctx, ctx->default_line, "initdata.default", CW_EINVAL,
                           "document \"%s\" is not in initdata.documents (listed: %s)",
                           ctx->default_name, names);
    }
    return CW_OK;
}

const config_initdata_document *config_initdata_document_named(const config *cfg, const char *name)
{
    if (!cfg || !name)
        return NULL;
    for (size_t i = 0; i < cfg->initdata_documents_count; i++) {
        if (cfg->initdata_documents[i].name && strcmp(cfg->initdata_documents[i].name, name) == 0)
            return &cfg->initdata_documents[i];
    }
    return NULL;
}

const config_initdata_namespace *config_initdata_namespace_of(const config *cfg, const char *ns)
{
    if (!cfg || !ns)
        return NULL;
    for (size_t i = 0; i < cfg->initdata_namespaces_count; i++) {
        if (cfg->initdata_namespaces[i].namespace &&
            strcmp(cfg->initdata_namespaces[i].namespace, ns) == 0)
            return &cfg->initdata_namespaces[i];
    }
    return NULL;
}

void initdata_parts_free(config *cfg)
{
    free(cfg->initdata_annotation);
    for (size_t i = 0; i < cfg->initdata_documents_count; i++) {
        free(cfg->initdata_documents[i].name);
        initdata_doc_clear(&cfg->initdata_documents[i].doc);
    }
    free(cfg->initdata_documents);
    for (size_t i = 0; i < cfg->initdata_namespaces_count; i++)
        free(cfg->initdata_namespaces[i].namespace);
    free(cfg->initdata_namespaces);
}
