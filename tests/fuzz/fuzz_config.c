/* libFuzzer target: the config reader on arbitrary bytes. Every input must either give a
 * config or an error, never a crash, a leak or undefined behaviour. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cw_error err = {{0}};
    config *cfg = NULL;
    cw_result rc = config_parse("fuzz.yaml", (const char *)data, size, &cfg, &err);
    if ((rc == CW_OK) != (cfg != NULL))
        __builtin_trap();
    if (cfg) {
        /* Touch what the server reads, so that a half-built config shows up here. */
        if (!config_strings_contains(&cfg->runtime_class_allowed, cfg->runtime_class))
            __builtin_trap();
        for (size_t i = 0; i < cfg->sealed_namespaces_count; i++) {
            const config_namespace_secrets *ns = &cfg->sealed_namespaces[i];
            if (config_sealed_namespace(cfg, ns->namespace) != ns ||
                ns->parsed_count > ns->entries.count || ns->parsed_count > SEALED_ENTRIES_MAX)
                __builtin_trap();
        }
        config_free(cfg);
    } else if (err.msg[0] == '\0' || memchr(err.msg, '\0', sizeof err.msg) == NULL) {
        __builtin_trap();
    }
    return 0;
}
