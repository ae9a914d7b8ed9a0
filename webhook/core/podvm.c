/* podvm: the engine's pod-VM profile rules. See podvm.h. */
#include "podvm.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "jsonutil.h"
#include "k8s_names.h"
#include "namelist.h"

#define ALLOWED_SHOWN 240 /* bytes of the list of allowed values in a message */

static const struct {
    const char *annotation;
    const char *config_name;
} keys[PODVM_KEY_COUNT] = {
    [PODVM_MACHINE_TYPE] = {PODVM_ANN_MACHINE_TYPE, "machineType"},
    [PODVM_IMAGE] = {PODVM_ANN_PREFIX "image", "image"},
    [PODVM_GPUS] = {PODVM_ANN_PREFIX "default_gpus", "gpus"},
    [PODVM_GPU_MODEL] = {PODVM_ANN_PREFIX "gpu_model", "gpuModel"},
};

const char *podvm_annotation(podvm_key k)
{
    return (unsigned)k < PODVM_KEY_COUNT ? keys[k].annotation : "";
}

const char *podvm_config_name(podvm_key k)
{
    return (unsigned)k < PODVM_KEY_COUNT ? keys[k].config_name : "";
}

const char *podvm_value(const config_podvm_profile *p, podvm_key k)
{
    switch (k) {
    case PODVM_MACHINE_TYPE: return p->machine_type;
    case PODVM_IMAGE: return p->image;
    case PODVM_GPUS: return p->gpus;
    case PODVM_GPU_MODEL: return p->gpu_model;
    case PODVM_KEY_COUNT: break;
    }
    return NULL;
}

bool podvm_runtime_allows(const runtime_profile *runtime, podvm_key k)
{
    if (!runtime || (unsigned)k >= PODVM_KEY_COUNT || !runtime_is_peer_pods(runtime))
        return false;
    const char *key = keys[k].annotation;
    return runtime_annotation_allowed(runtime, key, strlen(key));
}

/* At most PODVM_VALUE_SHOWN bytes of s, control bytes as '?', cut with "...". */
static void value_shown(char *out, size_t size, const char *s)
{
    size_t n = 0;
    while (s[n] && n < PODVM_VALUE_SHOWN && n + 4 < size) {
        unsigned char c = (unsigned char)s[n];
        out[n] = c < 0x20 || c == 0x7f ? '?' : (char)c;
        n++;
    }
    if (s[n]) {
        memcpy(out + n, "...", 3);
        n += 3;
    }
    out[n] = '\0';
}

/* "the pod-VM profile of namespace NS" or "the default pod-VM profile". */
static void profile_named(char *out, size_t size, const config_podvm_profile *p)
{
    if (strcmp(p->name, CONFIG_PODVM_DEFAULT_NAME) == 0)
        snprintf(out, size, "the default pod-VM profile");
    else
        snprintf(out, size, "the pod-VM profile of namespace %s", p->name);
}

static void allowed_list(char *buf, size_t cap, const config_strings *list)
{
    namelist l;
    namelist_init(&l, buf, cap);
    for (size_t i = 0; i < list->count; i++)
        namelist_add(&l, list->items[i]);
}

void podvm_decide(const config_podvm_profile *p, podvm_key k, const cJSON *annotations,
                  const cJSON *prior, podvm_action *action, denial *d)
{
    *action = PODVM_NOTHING;
    d->denied = false;
    const char *want = podvm_value(p, k);
    const cJSON *v = jsonutil_member(annotations, podvm_annotation(k));
    if (jsonutil_is_absent(v)) {
        if (want)
            *action = PODVM_SET;
        return;
    }
    if (!cJSON_IsString(v)) {
        (void)denial_set(d, 400, "annotation", "annotation %s must be a string",
                         podvm_annotation(k));
        return;
    }
    const char *own = v->valuestring;
    if (want && strcmp(own, want) == 0) {
        *action = PODVM_KEEP;
        return;
    }
    /* The webhook's own value from an older profile (the record names it): the profile now
     * wins, so that a Notebook made before the change is updated instead of denied. */
    const char *earlier = jsonutil_string(prior, podvm_config_name(k));
    if (want && earlier && strcmp(own, earlier) == 0) {
        *action = PODVM_REPLACE;
        return;
    }
    char shown[PODVM_VALUE_SHOWN + 4];
    char profile[64 + K8S_DNS_LABEL_MAX];
    char allowed[ALLOWED_SHOWN];
    if (k == PODVM_MACHINE_TYPE && p->allowed_machine_types.count > 0 &&
        !config_strings_contains(&p->allowed_machine_types, own)) {
        value_shown(shown, sizeof shown, own);
        profile_named(profile, sizeof profile, p);
        allowed_list(allowed, sizeof allowed, &p->allowed_machine_types);
        (void)denial_set(d, 403, "pod_vm_machine_type",
                         "annotation %s: machine type \"%s\" is not allowed by %s (allowed: %s)",
                         podvm_annotation(k), shown, profile, allowed);
        return;
    }
    if (want && p->enforce) {
        value_shown(shown, sizeof shown, own);
        profile_named(profile, sizeof profile, p);
        (void)denial_set(
            d, 403, "pod_vm_enforced",
            "annotation %s: \"%s\" differs from the value %s enforces (allowed: \"%s\"); "
            "remove the annotation",
            podvm_annotation(k), shown, profile, want);
        return;
    }
    *action = PODVM_KEEP;
}
