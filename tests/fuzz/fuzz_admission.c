/* Fuzz target: raw request bodies through the AdmissionReview handler (admission_review),
 * on both paths, with the request-path cJSON arena installed as in the server. Every input
 * must yield a 200 or 400 answer whose body is valid JSON. */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>

#include "admission.h"
#include "arena.h"
#include "config.h"

static config *cfg;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!cfg) {
        arena_install_cjson_hooks();
        cfg = config_new_default();
        if (!cfg)
            abort();
    }
    for (int scope = 0; scope < 2; scope++) {
        admission_response resp;
        cw_result rc = admission_review(cfg, scope ? ENGINE_SCOPE_NAMESPACE : ENGINE_SCOPE_OBJECT,
                                        (const char *)data, size, &resp);
        if (rc == CW_ENOMEM)
            continue;
        if (rc != CW_OK || !resp.body || (resp.http_status != 200 && resp.http_status != 400))
            abort();
        /* The answer must itself parse (outside any arena: a plain malloc'd tree). */
        cJSON *out = cJSON_ParseWithLength(resp.body, resp.len);
        if (!out)
            abort();
        cJSON_Delete(out);
        admission_response_clear(&resp);
    }
    return 0;
}
