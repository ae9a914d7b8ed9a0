/* Fuzz target for SPEC §2.6 (webhook/core/engine_preflight.c, runtime_profile.c) and the
 * initdata value as kata reads it (initdata_check_value): bytes -> as an initdata annotation
 * value, as an annotation key and a kata release; then as a JSON object through the engine
 * under three runtime profiles (peer pods 3.17 with preflight: warn, bare metal 3.21 as the
 * default class, bare metal 3.31 as kata-qemu-tdx, workloads there as an UPDATE), whose patch
 * re-applied to a pristine copy must give the engine's mutated object. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "initdata.h"
#include "jsonpatch.h"
#include "jsonutil.h"
#include "runtime_profile.h"

#define PROFILES 3

static config *fuzz_config(size_t i)
{
    static config *cfg[PROFILES];
    static const char *const text[PROFILES] = {
        "runtimeClass: {runtimes: {kata-remote: {type: peer-pods, kata: \"3.17\"}}}\n"
        "preflight: warn\n"
        "sealedSecrets:\n  namespaces:\n    ns: [\"s1\", \"s2:/x/y\"]\n",
        "runtimeClass:\n  name: kata-qemu-snp\n"
        "  runtimes: {kata-qemu-snp: {type: bare-metal, kata: \"3.21\"}}\n",
        "runtimeClass: {allowed: [kata-qemu-tdx], runtimes: {kata-qemu-tdx: {type: bare-metal, "
        "kata: \"3.31\"}}}\n"
        "sealedSecrets:\n  namespaces:\n    ns: [\"s1\"]\n",
    };
    if (!cfg[i]) {
        cw_error err;
        if (config_parse("fuzz", text[i], strlen(text[i]), &cfg[i], &err) != CW_OK)
            abort();
    }
    return cfg[i];
}

static void as_strings(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        return;
    memcpy(s, data, size);
    s[size] = '\0';
    initdata_alg alg;
    cw_error err;
    cw_result r = initdata_check_value(s, size, &alg, &err);
    if (r == CW_OK && (unsigned)alg > INITDATA_SHA512)
        abort();
    runtime_profile p = runtime_profile_default();
    if (runtime_kata_parse(s, &p, NULL) == CW_OK &&
        (p.kata_major < 3 || p.kata_major > RUNTIME_KATA_MAJOR_MAX ||
         p.kata_minor > RUNTIME_KATA_MAJOR_MAX))
        abort();
    for (int t = 0; t < 2; t++) {
        p.type = (runtime_type)t;
        bool allowed = runtime_annotation_allowed(&p, s, size);
        if (!runtime_is_hypervisor_key(s, size) && !allowed)
            abort(); /* only the hypervisor prefix is checked */
        (void)runtime_initdata_key_use(&p, s);
    }
    free(s);
}

static bool is_pod(const cJSON *obj)
{
    const char *kind = jsonutil_string(obj, "kind");
    return kind && strcmp(kind, "Pod") == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    as_strings(data, size);
    for (size_t i = 0; i < PROFILES; i++) {
        cJSON *obj = cJSON_ParseWithLengthOpts((const char *)data, size, NULL, 0);
        bool oom = false;
        if (!obj || jsonutil_find_duplicate_key(obj, &oom) || oom) {
            cJSON_Delete(obj);
            return 0;
        }
        cJSON *pristine = cJSON_Duplicate(obj, 1);
        engine_request req = {
            .object = obj,
            /* UPDATE only for workloads: a Pod's spec is immutable, its UPDATE skipped. */
            .operation = i == 2 && !is_pod(obj) ? ENGINE_OP_UPDATE : ENGINE_OP_CREATE,
            .scope = ENGINE_SCOPE_NAMESPACE,
            .namespace = "ns",
        };
        engine_result res;
        if (engine_mutate(fuzz_config(i), &req, &res) == CW_OK) {
            if (res.decision.outcome == ENGINE_DENIED && res.decision.code == 500)
                abort(); /* the engine's own check failed: a bug */
            for (size_t w = 0; w < res.decision.warning_count; w++) {
                if (strlen(res.warnings[w]) > ENGINE_WARNING_MAX)
                    abort();
            }
            if ((res.decision.outcome == ENGINE_MUTATED ||
                 res.decision.outcome == ENGINE_UNCHANGED) &&
                pristine) {
                cw_error err;
                if (jsonpatch_apply(&pristine, res.patch, &err) != CW_OK ||
                    !jsonpatch_equal(pristine, obj))
                    abort();
            }
            engine_result_clear(&res);
        }
        cJSON_Delete(pristine);
        cJSON_Delete(obj);
    }
    return 0;
}
