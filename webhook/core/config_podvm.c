/* config_podvm: the podVM group of SPEC §5 (§2.7): the pod-VM profile of each namespace and
 * the default one. Every profile is checked as it is read: its values, a non-empty
 * allowedMachineTypes, and a machineType within its own allowedMachineTypes. */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_reader.h"
#include "namelist.h"

#define MACHINE_TYPE_MAX 128 /* bytes of a machine type (cloud instance type names are short) */
#define ALLOWED_MAX 64       /* entries of one allowedMachineTypes */
#define MACHINE_TYPES_MAX 64 /* distinct machine types kept for the metric's labels */

static bool is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* Cloud instance type names: Standard_NCC40ads_H100_v5 (Azure), p5.48xlarge (AWS),
 * a3-highgpu-8g (GCP), bx2-2x8 (IBM Cloud). */
static const char *check_machine_type(const char *s)
{
    static const char why[] = "not a machine type (an instance type name: at most 128 letters, "
                              "digits, '_', '-' and '.', starting with a letter or digit)";
    size_t len = strlen(s);
    if (len == 0 || len > MACHINE_TYPE_MAX || !is_alnum(s[0]))
        return why;
    for (size_t i = 0; i < len; i++) {
        if (!is_alnum(s[i]) && s[i] != '_' && s[i] != '-' && s[i] != '.')
            return why;
    }
    return NULL;
}

/* An image ID (an Azure image resource ID, an AWS AMI, a libvirt volume) or a GPU model:
 * printable ASCII without spaces, as both are written into a pod annotation and logs. */
static const char *check_token(const char *s)
{
    size_t len = strlen(s);
    if (len == 0 || len > CONFIG_PODVM_VALUE_MAX)
        return "not a value of 1 to 1024 printable characters without spaces";
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c >= 0x7f)
            return "not a value of 1 to 1024 printable characters without spaces";
    }
    return NULL;
}

CW_MUST_USE static cw_result read_machine_type(parse_ctx *ctx, const char *path)
{
    ctx->podvm_machine_type_line = event_line(&ctx->ev);
    return set_string(ctx, path, &ctx->podvm_current->machine_type, check_machine_type, false);
}

CW_MUST_USE static cw_result read_image(parse_ctx *ctx, const char *path)
{
    return set_string(ctx, path, &ctx->podvm_current->image, check_token, false);
}

CW_MUST_USE static cw_result read_gpu_model(parse_ctx *ctx, const char *path)
{
    return set_string(ctx, path, &ctx->podvm_current->gpu_model, check_token, false);
}

/* A plain YAML integer, kept as the decimal text the annotation carries. */
CW_MUST_USE static cw_result read_gpus(parse_ctx *ctx, const char *path)
{
    int64_t n;
    CW_GUARD(get_int(ctx, path, 0, CONFIG_PODVM_GPUS_MAX, &n));
    char text[24];
    snprintf(text, sizeof text, "%" PRId64, n);
    char *copy = strdup(text);
    if (!copy)
        return CW_FAIL_NOMEM(ctx->err);
    free(ctx->podvm_current->gpus);
    ctx->podvm_current->gpus = copy;
    return CW_OK;
}

/* A list of machine types; written empty it would deny every machine type, which no admin
 * means: leaving the key out allows any. */
CW_MUST_USE static cw_result read_allowed(parse_ctx *ctx, const char *path)
{
    bool list = ctx->ev.type == YAML_SEQUENCE_START_EVENT;
    size_t line = event_line(&ctx->ev);
    config_strings *allowed = &ctx->podvm_current->allowed_machine_types;
    CW_GUARD(read_string_list(ctx, path, allowed, ALLOWED_MAX, check_machine_type, true, NULL));
    if (list && allowed->count == 0)
        return fail_at(ctx, line, path, CW_EINVAL,
                       "an empty list would deny every machine type; leave the key out to "
                       "allow any");
    return CW_OK;
}

CW_MUST_USE static cw_result read_enforce(parse_ctx *ctx, const char *path)
{
    return get_bool(ctx, path, true, &ctx->podvm_current->enforce);
}

/* "a, b, c" of list for a message, cut with ", ..." to fit cap. */
static void list_shown(const config_strings *list, char *buf, size_t cap)
{
    namelist l;
    namelist_init(&l, buf, cap);
    for (size_t i = 0; i < list->count; i++)
        namelist_add(&l, list->items[i]);
}

/* One profile into ctx->podvm_current. */
CW_MUST_USE static cw_result read_profile(parse_ctx *ctx, const char *path)
{
    static const key_spec keys[] = {
        {"machineType", read_machine_type},
        {"image", read_image},
        {"gpus", read_gpus},
        {"gpuModel", read_gpu_model},
        {"allowedMachineTypes", read_allowed},
        {"enforce", read_enforce},
    };
    config_podvm_profile *p = ctx->podvm_current;
    ctx->podvm_machine_type_line = 0;
    CW_GUARD(read_map(ctx, path, keys, KEY_COUNT(keys)));
    if (p->machine_type && p->allowed_machine_types.count > 0 &&
        !config_strings_contains(&p->allowed_machine_types, p->machine_type)) {
        char key[PATH_BUF];
        char names[NAMES_SHOWN];
        path_join(key, sizeof key, path, "machineType", strlen("machineType"));
        list_shown(&p->allowed_machine_types, names, sizeof names);
        return fail_at(ctx, ctx->podvm_machine_type_line, key, CW_EINVAL,
                       "\"%s\" is not in the profile's allowedMachineTypes (%s)", p->machine_type,
                       names);
    }
    return CW_OK;
}

static bool podvm_namespace_exists(const config *cfg, const char *ns)
{
    for (size_t i = 0; i < cfg->podvm_namespaces_count; i++) {
        if (strcmp(cfg->podvm_namespaces[i].name, ns) == 0)
            return true;
    }
    return false;
}

/* Grows the profiles by one for ns and makes it the one being read. */
CW_MUST_USE static cw_result add_podvm_namespace(parse_ctx *ctx, const char *ns, size_t line)
{
    (void)line;
    config *cfg = ctx->cfg;
    size_t n = cfg->podvm_namespaces_count;
    CW_GUARD(grow_one(ctx, &cfg->podvm_namespaces, n, sizeof *cfg->podvm_namespaces));
    cfg->podvm_namespaces[n] = (config_podvm_profile){.name = strdup(ns)};
    cfg->podvm_namespaces_count = n + 1;
    ctx->podvm_current = &cfg->podvm_namespaces[n];
    return cfg->podvm_namespaces[n].name ? CW_OK : CW_FAIL_NOMEM(ctx->err);
}

CW_MUST_USE static cw_result read_podvm_namespaces(parse_ctx *ctx, const char *path)
{
    static const named_map spec =
        NAMED_MAP("expected a mapping of namespace names to pod-VM profiles", "a name",
                  "namespaces", podvm_namespaces_count, check_namespace, podvm_namespace_exists,
                  add_podvm_namespace, read_profile);
    return read_named_map(ctx, path, &spec);
}

CW_MUST_USE static cw_result read_podvm_default(parse_ctx *ctx, const char *path)
{
    ctx->podvm_current = &ctx->cfg->podvm_default;
    return read_profile(ctx, path);
}

/* Adds the machine types of p to the metric's label set, up to MACHINE_TYPES_MAX. */
CW_MUST_USE static cw_result collect_machine_types(parse_ctx *ctx, const config_podvm_profile *p)
{
    config_strings *all = &ctx->cfg->podvm_machine_types;
    for (size_t i = 0; i <= p->allowed_machine_types.count; i++) {
        const char *name = i == 0 ? p->machine_type : p->allowed_machine_types.items[i - 1];
        if (!name || all->count >= MACHINE_TYPES_MAX || config_strings_contains(all, name))
            continue;
        CW_GUARD(strings_append(all, name, ctx->err));
    }
    return CW_OK;
}

cw_result read_podvm(parse_ctx *ctx, const char *path)
{
    static const key_spec keys[] = {
        {"namespaces", read_podvm_namespaces},
        {"default", read_podvm_default},
    };
    CW_GUARD(read_map(ctx, path, keys, KEY_COUNT(keys)));
    config *cfg = ctx->cfg;
    strings_free(&cfg->podvm_machine_types);
    CW_GUARD(collect_machine_types(ctx, &cfg->podvm_default));
    for (size_t i = 0; i < cfg->podvm_namespaces_count; i++)
        CW_GUARD(collect_machine_types(ctx, &cfg->podvm_namespaces[i]));
    return CW_OK;
}

/* ---- lookups ---- */

static bool profile_sets_anything(const config_podvm_profile *p)
{
    return p->machine_type || p->image || p->gpus || p->gpu_model ||
           p->allowed_machine_types.count > 0;
}

const config_podvm_profile *config_podvm_profile_of(const config *cfg, const char *ns)
{
    if (!cfg)
        return NULL;
    const config_podvm_profile *p = &cfg->podvm_default;
    for (size_t i = 0; ns && i < cfg->podvm_namespaces_count; i++) {
        if (strcmp(cfg->podvm_namespaces[i].name, ns) == 0) {
            p = &cfg->podvm_namespaces[i];
            break;
        }
    }
    return profile_sets_anything(p) ? p : NULL;
}

const char *config_podvm_machine_type_named(const config *cfg, const char *s)
{
    for (size_t i = 0; cfg && s && i < cfg->podvm_machine_types.count; i++) {
        if (strcmp(cfg->podvm_machine_types.items[i], s) == 0)
            return cfg->podvm_machine_types.items[i];
    }
    return NULL;
}

static void profile_clear(config_podvm_profile *p)
{
    free(p->name);
    free(p->machine_type);
    free(p->image);
    free(p->gpus);
    free(p->gpu_model);
    strings_free(&p->allowed_machine_types);
}

void podvm_parts_free(config *cfg)
{
    for (size_t i = 0; i < cfg->podvm_namespaces_count; i++)
        profile_clear(&cfg->podvm_namespaces[i]);
    free(cfg->podvm_namespaces);
    profile_clear(&cfg->podvm_default);
    strings_free(&cfg->podvm_machine_types);
}
