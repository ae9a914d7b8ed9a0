/* config_runtime: runtimeClass.runtimes and preflight (SPEC §2.6, §5): the runtime each
 * allowed class stands for, and how initdata must agree with it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_reader.h"
#include "k8s_names.h"

static const char *const preflight_names[] = {"deny", "warn"};

static const char *check_class(const char *s)
{
    if (!k8s_is_dns_subdomain(s, strlen(s)))
        return "not a valid RuntimeClass name (an RFC 1123 subdomain: lowercase letters, "
               "digits, '-' and '.', at most 253)";
    return NULL;
}

static const config_runtime *runtime_entry(const config *cfg, const char *runtime_class)
{
    for (size_t i = 0; cfg && runtime_class && i < cfg->runtimes_count; i++) {
        if (strcmp(cfg->runtimes[i].runtime_class, runtime_class) == 0)
            return &cfg->runtimes[i];
    }
    return NULL;
}

static bool runtime_exists(const config *cfg, const char *runtime_class)
{
    return runtime_entry(cfg, runtime_class) != NULL;
}

CW_MUST_USE static cw_result add_runtime(parse_ctx *ctx, const char *runtime_class, size_t line)
{
    config *cfg = ctx->cfg;
    size_t n = cfg->runtimes_count;
    CW_GUARD(grow_one(ctx, &cfg->runtimes, n, sizeof *cfg->runtimes));
    CW_GUARD(grow_one(ctx, &ctx->runtime_lines, n, sizeof *ctx->runtime_lines));
    ctx->runtime_lines[n] = line;
    cfg->runtimes[n] = (config_runtime){.runtime_class = strdup(runtime_class),
                                        .profile = runtime_profile_default()};
    cfg->runtimes_count = n + 1;
    return cfg->runtimes[n].runtime_class ? CW_OK : CW_FAIL_NOMEM(ctx->err);
}

static runtime_profile *current_profile(parse_ctx *ctx)
{
    return &ctx->cfg->runtimes[ctx->cfg->runtimes_count - 1].profile;
}

CW_MUST_USE static cw_result read_runtime_type(parse_ctx *ctx, const char *path)
{
    const char *s;
    CW_GUARD(get_string(ctx, path, false, false, &s));
    if (runtime_type_parse(s, &current_profile(ctx)->type))
        return CW_OK;
    return fail_value(ctx, path, s, "not a runtime type (peer-pods or bare-metal)");
}

/* A string: an unquoted 3.20 is the YAML number 3.2, so numbers are refused, with the hint to
 * quote them. */
CW_MUST_USE static cw_result read_runtime_kata(parse_ctx *ctx, const char *path)
{
    const char *s;
    CW_GUARD(get_string(ctx, path, false, false, &s));
    cw_error why = {{0}};
    if (runtime_kata_parse(s, current_profile(ctx), &why) == CW_OK)
        return CW_OK;
    return fail_value(ctx, path, s, why.msg);
}

CW_MUST_USE static cw_result read_runtime_entry(parse_ctx *ctx, const char *path)
{
    static const key_spec keys[] = {{"type", read_runtime_type}, {"kata", read_runtime_kata}};
    if (ctx->ev.type != YAML_MAPPING_START_EVENT)
        return fail_at(ctx, event_line(&ctx->ev), path, CW_EINVAL,
                       "expected {type: peer-pods | bare-metal, kata: \"MAJOR.MINOR\"}, found %s",
                       node_kind_name(ctx));
    return read_map(ctx, path, keys, KEY_COUNT(keys));
}

cw_result read_runtimes(parse_ctx *ctx, const char *path)
{
    static const named_map spec = NAMED_MAP(
        "expected a mapping of RuntimeClass names to {type, kata}", "a RuntimeClass name",
        "runtimes", runtimes_count, check_class, runtime_exists, add_runtime, read_runtime_entry);
    return read_named_map(ctx, path, &spec);
}

static bool pick_preflight(parse_ctx *ctx, const char *s)
{
    for (size_t i = 0; i < sizeof preflight_names / sizeof preflight_names[0]; i++) {
        if (strcmp(s, preflight_names[i]) == 0) {
            ctx->cfg->preflight = (config_preflight)i;
            return true;
        }
    }
    return false;
}

cw_result read_preflight(parse_ctx *ctx, const char *path)
{
    const char *s;
    CW_GUARD(get_string(ctx, path, true, false, &s));
    if (!s || pick_preflight(ctx, s))
        return CW_OK;
    return fail_value(ctx, path, s, "not a preflight mode (deny or warn)");
}

const char *config_preflight_name(config_preflight p)
{
    return (size_t)p < sizeof preflight_names / sizeof preflight_names[0] ? preflight_names[p]
                                                                          : "?";
}

const runtime_profile *config_runtime_of(const config *cfg, const char *runtime_class)
{
    static const runtime_profile fallback = {.type = RUNTIME_PEER_PODS,
                                             .kata_major = RUNTIME_KATA_DEFAULT_MAJOR,
                                             .kata_minor = RUNTIME_KATA_DEFAULT_MINOR};
    const config_runtime *e = runtime_entry(cfg, runtime_class);
    return e ? &e->profile : &fallback;
}

const char *config_initdata_key(const config *cfg, const char *runtime_class)
{
    return runtime_initdata_key(config_runtime_of(cfg, runtime_class));
}

/* A load warning for every peer-pods class when a document's algorithm is not sha256. */
CW_MUST_USE static cw_result warn_algorithms(parse_ctx *ctx)
{
    config *cfg = ctx->cfg;
    for (size_t c = 0; c < cfg->runtime_class_allowed.count; c++) {
        const char *cls = cfg->runtime_class_allowed.items[c];
        const runtime_profile *p = config_runtime_of(cfg, cls);
        for (size_t i = 0; i < cfg->initdata_documents_count; i++) {
            const config_initdata_document *d = &cfg->initdata_documents[i];
            const char *alg = initdata_alg_name(d->doc.info.alg);
            if (runtime_attests_algorithm(p, alg))
                continue;
            char msg[CW_ERROR_MAX];
            snprintf(msg, sizeof msg,
                     "initdata.documents.%s: algorithm \"%s\" cannot attest on vTPM (Azure) peer "
                     "pods of class %s, which extend PCR 8 with sha256 only; use algorithm = "
                     "\"sha256\"",
                     d->name, alg, cls);
            CW_GUARD(strings_append(&cfg->load_warnings, msg, ctx->err));
        }
    }
    return CW_OK;
}

cw_result resolve_runtimes(parse_ctx *ctx)
{
    config *cfg = ctx->cfg;
    char key[PATH_BUF];
    char desc[RUNTIME_DESCRIBE_MAX];
    for (size_t i = 0; i < cfg->runtimes_count; i++) {
        const char *cls = cfg->runtimes[i].runtime_class;
        if (config_strings_contains(&cfg->runtime_class_allowed, cls))
            continue;
        path_join(key, sizeof key, "runtimeClass.runtimes", cls, strlen(cls));
        return fail_at(ctx, ctx->runtime_lines[i], key, CW_EINVAL,
                       "class \"%s\" is not in runtimeClass.allowed or runtimeClass.name", cls);
    }
    for (size_t c = 0; c < cfg->runtime_class_allowed.count; c++) {
        const char *cls = cfg->runtime_class_allowed.items[c];
        const runtime_profile *p = config_runtime_of(cfg, cls);
        const char *reads = runtime_initdata_key(p);
        runtime_describe(p, desc, sizeof desc);
        if (!reads && cfg->initdata_documents_count > 0)
            return fail_at(ctx, ctx->doc_lines ? ctx->doc_lines[0] : 0, "initdata.documents",
                           CW_EINVAL,
                           "the %s runtime (%s) reads no per-pod initdata (kata 3.20 allows "
                           "neither key): configure kata 3.19 or older, or 3.21 or later, for "
                           "class %s, or no documents",
                           cls, desc, cls);
        if (reads && cfg->initdata_annotation && strcmp(reads, cfg->initdata_annotation) != 0)
            return fail_at(ctx, ctx->annotation_line, "initdata.annotation", CW_EINVAL,
                           "%s disagrees with the %s runtime (%s), which reads %s; remove the "
                           "key or set it to %s",
                           cfg->initdata_annotation, cls, desc, reads, reads);
    }
    return warn_algorithms(ctx);
}

void runtimes_free(config *cfg)
{
    for (size_t i = 0; i < cfg->runtimes_count; i++)
        free(cfg->runtimes[i].runtime_class);
    free(cfg->runtimes);
    strings_free(&cfg->load_warnings);
}
