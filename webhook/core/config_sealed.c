/* config_sealed: the sealedSecrets group of SPEC §5. Each namespace's entries are parsed as
 * the engine would parse them, once, when the config is loaded: a bad entry fails the load
 * instead of every admission in that namespace, and the engine starts from the parsed form. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "config_reader.h"
#include "sealed_entries.h"

/* A mount path (sealed_path_problem) without ":", the entry separator of SPEC §2.3, with room
 * left for "/<SECRET>" below it; trailing "/"s are dropped later. */
static const char *check_mount_root(const char *s)
{
    size_t len = strlen(s);
    while (len > 1 && s[len - 1] == '/')
        len--;
    if (len > SEALED_PATH_MAX - SEALED_SECRET_NAME_MAX - 1 || memchr(s, ':', len) ||
        sealed_path_problem(s, len))
        return "not an absolute path without \"..\", \".\", \":\" or empty segments, other "
               "than \"/\"";
    return NULL;
}

CW_MUST_USE static cw_result read_mount_root(parse_ctx *ctx, const char *path)
{
    CW_GUARD(set_string(ctx, path, &ctx->cfg->sealed_mount_root, check_mount_root, false));
    char *root = ctx->cfg->sealed_mount_root;
    size_t len = strlen(root);
    while (len > 1 && root[len - 1] == '/')
        root[--len] = '\0';
    return CW_OK;
}

static bool sealed_namespace_exists(const config *cfg, const char *ns)
{
    return config_sealed_namespace(cfg, ns) != NULL;
}

/* Grows the namespace arrays by one empty slot. */
CW_MUST_USE static cw_result sealed_add_namespace(parse_ctx *ctx, const char *ns, size_t line)
{
    (void)line; /* each entry has its own line */
    config *cfg = ctx->cfg;
    size_t n = cfg->sealed_namespaces_count;
    CW_GUARD(grow_one(ctx, &cfg->sealed_namespaces, n, sizeof *cfg->sealed_namespaces));
    CW_GUARD(grow_one(ctx, &ctx->sealed_lines, n, sizeof *ctx->sealed_lines));
    ctx->sealed_lines[n] = NULL;
    cfg->sealed_namespaces[n] = (config_namespace_secrets){.namespace = strdup(ns)};
    cfg->sealed_namespaces_count = n + 1;
    return cfg->sealed_namespaces[n].namespace ? CW_OK : CW_FAIL_NOMEM(ctx->err);
}

CW_MUST_USE static cw_result read_sealed_entries(parse_ctx *ctx, const char *path)
{
    size_t last = ctx->cfg->sealed_namespaces_count - 1;
    return read_string_list(ctx, path, &ctx->cfg->sealed_namespaces[last].entries,
                            SEALED_ENTRIES_MAX, NULL, false, &ctx->sealed_lines[last]);
}

CW_MUST_USE static cw_result read_sealed_namespaces(parse_ctx *ctx, const char *path)
{
    static const named_map spec =
        NAMED_MAP("expected a mapping of namespace names to lists of entries", "a namespace name",
                  "namespaces", sealed_namespaces_count, check_namespace, sealed_namespace_exists,
                  sealed_add_namespace, read_sealed_entries);
    return read_named_map(ctx, path, &spec);
}

/* Parses one namespace's entries, with the final mount root, into ns->parsed: the entries in
 * order, merged as the engine merges them (a repeated entry once). */
CW_MUST_USE static cw_result parse_sealed_namespace(parse_ctx *ctx, size_t index,
                                                    sealed_entry *scratch)
{
    config_namespace_secrets *ns = &ctx->cfg->sealed_namespaces[index];
    size_t count = 0;
    char key[PATH_BUF];
    char path[PATH_BUF];
    path_join(key, sizeof key, "sealedSecrets.namespaces", ns->namespace, strlen(ns->namespace));
    for (size_t j = 0; j < ns->entries.count; j++) {
        const char *entry = ns->entries.items[j];
        size_t line = ctx->sealed_lines[index][j];
        path_index(path, sizeof path, key, j);
        if (strchr(entry, ',')) {
            char shown[VALUE_SHOWN + 4];
            text_shown(shown, sizeof shown, entry, strlen(entry), VALUE_SHOWN);
            return fail_at(ctx, line, path, CW_EINVAL,
                           "\"%s\" holds more than one entry: write one entry per list item",
                           shown);
        }
        if (entry[strspn(entry, " \t")] == '\0')
            return fail_at(ctx, line, path, CW_EINVAL, "empty entry");
        cw_error e = {{0}};
        cw_result r = sealed_entries_parse(entry, ctx->cfg->sealed_mount_root, scratch,
                                           SEALED_ENTRIES_MAX, &count, &e);
        if (r)
            return fail_at(ctx, line, path, r, "%s", e.msg);
    }
    if (count == 0)
        return CW_OK;
    size_t bytes = count * sizeof *ns->parsed;
    for (size_t i = 0; i < count; i++)
        bytes += strlen(scratch[i].secret) + strlen(scratch[i].path) + 2;
    ns->parsed = malloc(bytes);
    if (!ns->parsed)
        return CW_FAIL_NOMEM(ctx->err);
    char *text = (char *)(ns->parsed + count);
    for (size_t i = 0; i < count; i++) {
        size_t ls = strlen(scratch[i].secret) + 1, lp = strlen(scratch[i].path) + 1;
        ns->parsed[i].secret = memcpy(text, scratch[i].secret, ls);
        ns->parsed[i].path = memcpy(text + ls, scratch[i].path, lp);
        text += ls + lp;
    }
    ns->parsed_count = count;
    return CW_OK;
}

CW_MUST_USE static cw_result parse_sealed_entries(parse_ctx *ctx)
{
    if (ctx->cfg->sealed_namespaces_count == 0)
        return CW_OK;
    sealed_entry *scratch = calloc(SEALED_ENTRIES_MAX, sizeof *scratch);
    if (!scratch)
        return CW_FAIL_NOMEM(ctx->err);
    cw_result r = CW_OK;
    for (size_t i = 0; i < ctx->cfg->sealed_namespaces_count && !r; i++)
        r = parse_sealed_namespace(ctx, i, scratch);
    free(scratch);
    return r;
}

cw_result read_sealed_secrets(parse_ctx *ctx, const char *path)
{
    static const key_spec keys[] = {
        {"mountRoot", read_mount_root},
        {"namespaces", read_sealed_namespaces},
    };
    CW_GUARD(read_map(ctx, path, keys, KEY_COUNT(keys)));
    return parse_sealed_entries(ctx);
}

const config_namespace_secrets *config_sealed_namespace(const config *cfg, const char *ns)
{
    if (!cfg || !ns)
        return NULL;
    for (size_t i = 0; i < cfg->sealed_namespaces_count; i++) {
        if (strcmp(cfg->sealed_namespaces[i].namespace, ns) == 0)
            return &cfg->sealed_namespaces[i];
    }
    return NULL;
}

const config_strings *config_sealed_entries(const config *cfg, const char *ns)
{
    const config_namespace_secrets *secrets = config_sealed_namespace(cfg, ns);
    return secrets ? &secrets->entries : NULL;
}

void sealed_namespaces_free(config *cfg)
{
    for (size_t i = 0; i < cfg->sealed_namespaces_count; i++) {
        free(cfg->sealed_namespaces[i].namespace);
        strings_free(&cfg->sealed_namespaces[i].entries);
        free(cfg->sealed_namespaces[i].parsed);
    }
    free(cfg->sealed_namespaces);
    cfg->sealed_namespaces = NULL;
    cfg->sealed_namespaces_count = 0;
}
