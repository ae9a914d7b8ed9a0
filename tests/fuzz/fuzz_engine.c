/* Fuzz target: bytes -> JSON object -> engine (both scopes, CREATE and UPDATE) -> patch ->
 * independent re-application to a pristine copy must give the engine's mutated object. */
#include <stdint.h>
#include <stdlib.h>

#include "engine.h"
#include "jsonpatch.h"
#include "jsonutil.h"

static config *fuzz_config(void)
{
    static config *cfg;
    if (!cfg) {
        /* Exercise the per-namespace entries (sealed secrets, pod-VM profile), the default
         * pod-VM profile and a second allowed class too. */
        static const char text[] =
            "runtimeClass: {name: kata-remote, allowed: [kata-qemu-snp]}\n"
            "storage: {emptyDir: {sizeLimit: 1Gi}}\n"
            "sealedSecrets:\n  namespaces:\n    ns: [\"s1\", \"s2:/x/y\"]\n"
            "podVM:\n  namespaces:\n    ns: {machineType: m1, image: i, gpus: 1, "
            "gpuModel: g, allowedMachineTypes: [m1, m2], enforce: true}\n"
            "  default: {machineType: m2, allowedMachineTypes: [m1, m2]}\n";
        cw_error err;
        if (config_parse("fuzz", text, sizeof text - 1, &cfg, &err) != CW_OK)
            abort();
    }
    return cfg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const config *cfg = fuzz_config();
    for (int round = 0; round < 3; round++) {
        cJSON *obj = cJSON_ParseWithLengthOpts((const char *)data, size, NULL, 0);
        /* Callers reject duplicate keys (jsonutil.h); equality is undefined for them. */
        bool oom = false;
        if (!obj || jsonutil_find_duplicate_key(obj, &oom) || oom) {
            cJSON_Delete(obj);
            return 0;
        }
        cJSON *pristine = cJSON_Duplicate(obj, 1);
        engine_request req = {
            .object = obj,
            .operation = round == 2 ? ENGINE_OP_UPDATE : ENGINE_OP_CREATE,
            .scope = round == 0 ? ENGINE_SCOPE_OBJECT : ENGINE_SCOPE_NAMESPACE,
            .namespace = round == 1 ? "ns" : NULL,
        };
        engine_result res;
        if (engine_mutate(cfg, &req, &res) == CW_OK) {
            if (res.decision.outcome == ENGINE_DENIED && res.decision.code == 500)
                abort(); /* the engine's own check failed: a bug */
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
