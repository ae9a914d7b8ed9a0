/* config_defaults: the config value itself: its defaults (SPEC §5), its lists, the settings
 * the server adds and freeing it. Reading the file over it is config.c's work. */
#include <stdlib.h>
#include <string.h>

#include "config_reader.h"
#include "k8s_names.h"

static const char *const tls_version_names[] = {"1.2", "1.3"};
static const char *const default_excluded[] = CONFIG_EXCLUDED_DEFAULT;

void strings_free(config_strings *list)
{
    for (size_t i = 0; i < list->count; i++)
        free(list->items[i]);
    free(list->items);
    list->items = NULL;
    list->count = 0;
}

cw_result strings_append(config_strings *list, const char *s, cw_error *err)
{
    char *copy = strdup(s);
    if (!copy)
        return CW_FAIL_NOMEM(err);
    char **items = realloc(list->items, (list->count + 1) * sizeof *items);
    if (!items) {
        free(copy);
        return CW_FAIL_NOMEM(err);
    }
    items[list->count++] = copy;
    list->items = items;
    return CW_OK;
}

bool config_strings_contains(const config_strings *list, const char *s)
{
    if (!list || !s)
        return false;
    for (size_t i = 0; i < list->count; i++) {
        if (strcmp(list->items[i], s) == 0)
            return true;
    }
    return false;
}

void config_strings_clear(config_strings *list)
{
    strings_free(list);
}

config *config_new_default(void)
{
    config *cfg = malloc(sizeof *cfg);
    if (!cfg)
        return NULL;
    *cfg = (config){.log_level = LOG_LEVEL_INFO,
                    .tls_min_version = CONFIG_TLS_1_2,
                    .replace_persistent_volumes = true,
                    .shutdown_delay_ms = CONFIG_SHUTDOWN_DELAY_DEFAULT_MS};
    char **const strings[] = {
        &cfg->listen,        &cfg->tls_cert,          &cfg->tls_key,           &cfg->selector_label,
        &cfg->runtime_class, &cfg->sealed_mount_root, &cfg->podvm_default.name};
    const char *const values[] = {CONFIG_LISTEN_DEFAULT,        CONFIG_TLS_CERT_DEFAULT,
                                  CONFIG_TLS_KEY_DEFAULT,       CONFIG_LABEL_DEFAULT,
                                  CONFIG_RUNTIME_CLASS_DEFAULT, CONFIG_SEALED_MOUNT_ROOT_DEFAULT,
                                  CONFIG_PODVM_DEFAULT_NAME};
    _Static_assert(sizeof strings / sizeof strings[0] == sizeof values / sizeof values[0],
                   "a default for every string");
    bool ok = true;
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++)
        ok &= (*strings[i] = strdup(values[i])) != NULL;
    for (size_t i = 0; ok && i < sizeof default_excluded / sizeof default_excluded[0]; i++)
        ok = strings_append(&cfg->exclude_namespaces, default_excluded[i], NULL) == CW_OK;
    if (ok)
        ok = strings_append(&cfg->runtime_class_allowed, CONFIG_RUNTIME_CLASS_DEFAULT, NULL) ==
             CW_OK;
    if (!ok) {
        config_free(cfg);
        return NULL;
    }
    return cfg;
}

cw_result config_exclude_namespace(config *cfg, const char *ns, cw_error *err)
{
    if (!cfg || !ns || !k8s_is_dns_label(ns, strlen(ns))) {
        char shown[VALUE_SHOWN + 4];
        text_shown(shown, sizeof shown, ns ? ns : "", ns ? strlen(ns) : 0, VALUE_SHOWN);
        return cw_fail(err, CW_EINVAL, "namespace \"%s\": %s", shown,
                       "not a valid namespace name (an RFC 1123 label)");
    }
    if (config_strings_contains(&cfg->exclude_namespaces, ns))
        return CW_OK;
    return strings_append(&cfg->exclude_namespaces, ns, err);
}

const char *config_tls_version_name(config_tls_version v)
{
    return (size_t)v < sizeof tls_version_names / sizeof tls_version_names[0] ? tls_version_names[v]
                                                                              : "?";
}

bool config_parse_tls_version(const char *s, config_tls_version *out)
{
    for (size_t i = 0; i < sizeof tls_version_names / sizeof tls_version_names[0]; i++) {
        if (strcmp(s, tls_version_names[i]) == 0) {
            *out = (config_tls_version)i;
            return true;
        }
    }
    return false;
}

void config_free(config *cfg)
{
    if (!cfg)
        return;
    char *const strings[] = {cfg->listen,           cfg->tls_cert,
                             cfg->tls_key,          cfg->selector_label,
                             cfg->runtime_class,    cfg->empty_dir_size_limit,
                             cfg->empty_dir_medium, cfg->sealed_mount_root};
    for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++)
        free(strings[i]);
    strings_free(&cfg->exclude_namespaces);
    strings_free(&cfg->runtime_class_allowed);
    sealed_namespaces_free(cfg);
    initdata_parts_free(cfg);
    podvm_parts_free(cfg);
    runtimes_free(cfg);
    free(cfg);
}
