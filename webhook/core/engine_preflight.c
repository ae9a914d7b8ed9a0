/* engine_preflight.c: SPEC §2.6, what the CoCo runtime of the object's class would refuse or
 * silently ignore (FACTS.md, "What the CoCo runtime refuses or silently ignores"), said at
 * admission. The runtime's tables are runtime_profile's; this file applies them to one PodSpec
 * and its annotations. A step of one planning pass (engine_plan.h).
 *
 * Refusals are denials (403), or warnings under `preflight: warn`; the silent ignores are
 * warnings. Each rule warns at most once per object, and the record lists the rules that
 * warned. Every check reads the object only: the patch never depends on a warning, so a
 * reinvocation finds the same warnings and an empty patch. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "engine_plan.h"

#define CLASS_SHOWN 63     /* bytes of a class name in a denial */
#define KEY_SHOWN 120      /* bytes of an annotation key in a denial */
#define NAME_SHOWN 63      /* bytes of a volume, container or Secret name in a denial */
#define WARN_NAME_SHOWN 24 /* bytes of such a name in a warning (120 characters in all) */
#define ALLOW_LIST_SHOWN 160
/* "io.katacontainers.config.", left out of warnings to keep them within 120 characters */
#define KATA_PREFIX_LEN (sizeof "io.katacontainers.config." - 1)

static const char *const rule_names[PF_RULE_COUNT] = {
    [PF_ANNOTATION] = "annotation-not-allowed",
    [PF_INITDATA_KEY_REFUSED] = "initdata-key-refused",
    [PF_INITDATA_KEY_IGNORED] = "initdata-key-ignored",
    [PF_INITDATA_VALUE] = "initdata-value",
    [PF_HOST_NETWORK] = "host-network",
    [PF_VOLUME_DEVICES] = "volume-devices",
    [PF_SEALED_SUBPATH] = "sealed-subpath",
    [PF_HOST_PID] = "host-pid",
    [PF_HOST_IPC] = "host-ipc",
    [PF_HOST_PATH] = "host-path",
    [PF_MEMORY_SIZE_LIMIT] = "memory-size-limit",
};

const char *preflight_rule_name(preflight_rule rule)
{
    return (unsigned)rule < PF_RULE_COUNT ? rule_names[rule] : "?";
}

const char *plan_runtime_words(const plan *p, char *buf, size_t cap)
{
    char desc[RUNTIME_DESCRIBE_MAX];
    snprintf(buf, cap, "the %.*s runtime (%s)", CLASS_SHOWN,
             p->runtime_class ? p->runtime_class : "",
             runtime_describe(p->runtime, desc, sizeof desc));
    return buf;
}

void plan_text(char *buf, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, cap, fmt, ap);
    va_end(ap);
}

cw_result plan_preflight_warn(plan *p, preflight_rule rule, const char *fmt, ...)
{
    unsigned bit = 1u << rule;
    if (p->preflight_warned & bit)
        return CW_OK;
    p->preflight_warned |= bit;
    if (!p->res)
        return CW_OK;
    char text[ENGINE_WARNING_MAX + 1];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    return plan_warn(p, "%s", text);
}

cw_result plan_refuse(plan *p, preflight_rule rule, int code, const char *reason,
                      const char *warning, const char *fmt, ...)
{
    if (p->cfg->preflight == CONFIG_PREFLIGHT_WARN)
        return plan_preflight_warn(p, rule, "preflight warn: %s", warning);
    if (p->denied)
        return CW_OK;
    char msg[CW_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return plan_deny(p, code, reason, "%s", msg);
}

/* The dotted field of the PodSpec's member name ("spec.template.spec.hostNetwork"). */
static const char *spec_field(const plan *p, const char *name, char *buf, size_t cap)
{
    size_t n = 0;
    for (const char *s = p->spec_path.buf + (p->spec_path.buf[0] == '/'); *s && n + 1 < cap; s++)
        buf[n++] = *s == '/' ? '.' : *s;
    buf[n] = '\0';
    snprintf(buf + n, cap - n, ".%s", name);
    return buf;
}

/* The hypervisor.* annotations of the object that carries the pod's annotations (the Pod, the
 * Notebook, or a workload's template: where initdata goes). The runtime checks only that
 * prefix (kata `addAnnotations`), against its `enable_annotations`. */
CW_MUST_USE static cw_result check_annotations(plan *p)
{
    const cJSON *map = p->carrier_annotations;
    if (!map)
        return CW_OK;
    char who[CW_ERROR_MAX / 2], warn[ENGINE_WARNING_MAX + 1], allowed[ALLOW_LIST_SHOWN];
    char desc[RUNTIME_DESCRIBE_MAX];
    for (const cJSON *a = map->child; a; a = a->next) {
        size_t len = strlen(a->string);
        if (!runtime_is_hypervisor_key(a->string, len) ||
            runtime_annotation_allowed(p->runtime, a->string, len))
            continue;
        plan_runtime_words(p, who, sizeof who);
        runtime_describe(p->runtime, desc, sizeof desc);
        if (strcmp(a->string, INITDATA_ANN_HYPERVISOR) == 0) {
            const char *reads = runtime_initdata_key(p->runtime);
            plan_text(warn, sizeof warn, "the runtime (%s) would refuse annotation %s", desc,
                      a->string + KATA_PREFIX_LEN);
            STEP(p, plan_refuse(p, PF_INITDATA_KEY_REFUSED, 403, "preflight_initdata_key", warn,
                                "%s would refuse this pod: annotation %s is not enabled there "
                                "(the sandbox fails: \"annotation ... is not enabled\"); %s%s%s",
                                who, a->string, reads ? "it reads initdata from annotation " : "",
                                reads ? reads : "it reads no per-pod initdata",
                                reads ? ": move the value there" : ": remove the annotation"));
            continue;
        }
        plan_text(warn, sizeof warn, "the runtime (%s) would refuse annotation %s", desc,
                  a->string + KATA_PREFIX_LEN);
        STEP(p, plan_refuse(p, PF_ANNOTATION, 403, "preflight_annotation", warn,
                            "%s would refuse this pod: annotation %.*s is not in its allow-list "
                            "(enable_annotations: %s), the sandbox fails with \"annotation ... "
                            "is not enabled\"; remove the annotation",
                            who, KEY_SHOWN, a->string,
                            runtime_allow_list(p->runtime, allowed, sizeof allowed)));
    }
    return CW_OK;
}

/* hostNetwork (refused on peer pods), hostPID and hostIPC (ignored in the VM): one walk of
 * the PodSpec's members, the words of the messages made only when one is true. */
CW_MUST_USE static cw_result check_host_namespaces(plan *p, bool network, bool pid, bool ipc)
{
    if (!network && !pid && !ipc)
        return CW_OK;
    char who[CW_ERROR_MAX / 2], field[160], desc[RUNTIME_DESCRIBE_MAX],
        warn[ENGINE_WARNING_MAX + 1];
    runtime_describe(p->runtime, desc, sizeof desc);
    if (network && runtime_is_peer_pods(p->runtime)) {
        plan_text(warn, sizeof warn, "the runtime (%s) would refuse this pod: hostNetwork: true",
                  desc);
        STEP(p, plan_refuse(p, PF_HOST_NETWORK, 403, "preflight_host_network", warn,
                            "%s would refuse this pod: %s: true cannot work in a peer-pod VM (the "
                            "sandbox fails to inspect the node's network namespace); remove "
                            "hostNetwork",
                            plan_runtime_words(p, who, sizeof who),
                            spec_field(p, "hostNetwork", field, sizeof field)));
    }
    if (pid)
        STEP(p, plan_preflight_warn(p, PF_HOST_PID,
                                    "hostPID: ignored by the CoCo runtime (%s): the pod sees the "
                                    "VM's processes, not the node's",
                                    desc));
    if (ipc)
        STEP(p, plan_preflight_warn(p, PF_HOST_IPC,
                                    "hostIPC: ignored by the CoCo runtime (%s): the pod gets the "
                                    "VM's IPC namespace, not the node's",
                                    desc));
    return CW_OK;
}

/* volumeDevices: refused on peer pods (no block hot-plug), run on bare metal. */
CW_MUST_USE static cw_result check_devices(plan *p)
{
    if (!p->devices || !runtime_is_peer_pods(p->runtime))
        return CW_OK;
    char who[CW_ERROR_MAX / 2], desc[RUNTIME_DESCRIBE_MAX], warn[ENGINE_WARNING_MAX + 1];
    plan_text(warn, sizeof warn,
              "the runtime (%s) would refuse this pod: volumeDevices (volume \"%.*s\")",
              runtime_describe(p->runtime, desc, sizeof desc), WARN_NAME_SHOWN, p->device_volume);
    return plan_refuse(p, PF_VOLUME_DEVICES, 403, "preflight_volume_devices", warn,
                       "%s would refuse this pod: container \"%.*s\" has volumeDevices (volume "
                       "\"%.*s\"), and a peer-pod VM cannot attach block devices "
                       "(HotplugAddDevice: not implemented); mount the claim with volumeMounts "
                       "instead, or use a bare-metal CoCo RuntimeClass",
                       plan_runtime_words(p, who, sizeof who), NAME_SHOWN, p->device_container,
                       NAME_SHOWN, p->device_volume);
}

/* hostPath volumes (copied once into the VM) and Memory emptyDirs with a sizeLimit (not
 * applied in the VM), as the object has them. */
CW_MUST_USE static cw_result check_volumes(plan *p, const cJSON *volumes)
{
    for (cJSON *v = cJSON_IsArray(volumes) ? volumes->child : NULL; v; v = v->next) {
        const char *name = NULL;
        const cJSON *host_path = NULL, *empty_dir = NULL;
        for (const cJSON *m = cJSON_IsObject(v) ? v->child : NULL; m; m = m->next) {
            if (strcmp(m->string, "name") == 0)
                name = cJSON_IsString(m) ? m->valuestring : NULL;
            else if (strcmp(m->string, "hostPath") == 0)
                host_path = m;
            else if (strcmp(m->string, "emptyDir") == 0)
                empty_dir = m;
        }
        if (!name)
            continue;
        if (!jsonutil_is_absent(host_path))
            STEP(p, plan_preflight_warn(p, PF_HOST_PATH,
                                        "volume \"%.*s\": hostPath is copied once from the node "
                                        "into the pod VM: not confidential, never synced",
                                        WARN_NAME_SHOWN, name));
        const char *medium = empty_dir ? jsonutil_string(empty_dir, "medium") : NULL;
        if (medium && strcmp(medium, "Memory") == 0 &&
            !jsonutil_is_absent(jsonutil_member(empty_dir, "sizeLimit")))
            STEP(p, plan_preflight_warn(p, PF_MEMORY_SIZE_LIMIT,
                                        "volume \"%.*s\": the sizeLimit of a Memory emptyDir is "
                                        "not applied in the pod VM (tmpfs: half its memory)",
                                        WARN_NAME_SHOWN, name));
    }
    return CW_OK;
}

/* The sealed Secret that volume carries, or NULL: a secret volume of a sealed entry. */
static const char *sealed_secret_of(const plan *p, const cJSON *volume)
{
    const char *secret = jsonutil_string(jsonutil_member(volume, "secret"), "secretName");
    for (size_t i = 0; secret && i < p->in->sealed_count; i++) {
        if (strcmp(p->in->sealed[i].secret, secret) == 0)
            return secret;
    }
    return NULL;
}

/* A subPath mount of a sealed Secret's volume: the kata agent unseals the files of whole
 * Secret volumes only, so the container would read the literal sealed text. */
CW_MUST_USE static cw_result check_sealed_subpaths(plan *p)
{
    if (p->in->sealed_count == 0 || p->subpath_mounts == 0)
        return CW_OK;
    static const char *const fields[] = {"containers", "initContainers"};
    char who[CW_ERROR_MAX / 2], warn[ENGINE_WARNING_MAX + 1];
    for (size_t f = 0; f < sizeof fields / sizeof fields[0]; f++) {
        cJSON *list = jsonutil_member(p->spec, fields[f]);
        for (cJSON *c = cJSON_IsArray(list) ? list->child : NULL; c; c = c->next) {
            cJSON *mounts = jsonutil_member(c, "volumeMounts");
            for (cJSON *m = cJSON_IsArray(mounts) ? mounts->child : NULL; m; m = m->next) {
                const char *sub = jsonutil_string(m, "subPath");
                if (!sub || !sub[0])
                    sub = jsonutil_string(m, "subPathExpr");
                const char *volume = jsonutil_string(m, "name");
                if (!sub || !sub[0] || !volume)
                    continue;
                const char *secret =
                    sealed_secret_of(p, strmap_get(&p->index, TAG_VOLUME, volume, strlen(volume)));
                if (!secret)
                    continue;
                const char *container = jsonutil_string(c, "name");
                plan_text(warn, sizeof warn,
                          "sealed secret \"%.*s\" mounted with subPath would not be unsealed",
                          WARN_NAME_SHOWN, secret);
                STEP(p, plan_refuse(p, PF_SEALED_SUBPATH, 403, "preflight_sealed_subpath", warn,
                                    "%s would run this pod without unsealing secret \"%.*s\": "
                                    "container \"%.*s\" mounts volume \"%.*s\" with subPath, and "
                                    "the kata agent unseals whole Secret volumes only (the "
                                    "container would read the sealed text); mount the volume "
                                    "without subPath",
                                    plan_runtime_words(p, who, sizeof who), NAME_SHOWN, secret,
                                    NAME_SHOWN, container ? container : "", NAME_SHOWN, volume));
            }
        }
    }
    return CW_OK;
}

cw_result plan_preflight(plan *p)
{
    const cJSON *map =
        jsonutil_member(jsonutil_member(p->initdata_target, "metadata"), "annotations");
    p->carrier_annotations = cJSON_IsObject(map) ? map : NULL;
    /* One walk of the PodSpec's members for the host namespaces and the volumes. */
    bool network = false, pid = false, ipc = false;
    const cJSON *volumes = NULL;
    for (const cJSON *m = p->spec->child; m; m = m->next) {
        if (m->string[0] == 'v' && !volumes && strcmp(m->string, "volumes") == 0) {
            volumes = m;
            continue;
        }
        if (m->string[0] != 'h' || !cJSON_IsTrue(m) || strncmp(m->string, "host", 4) != 0)
            continue;
        network |= strcmp(m->string, "hostNetwork") == 0;
        pid |= strcmp(m->string, "hostPID") == 0;
        ipc |= strcmp(m->string, "hostIPC") == 0;
    }
    STEP(p, check_annotations(p));
    STEP(p, check_host_namespaces(p, network, pid, ipc));
    STEP(p, check_devices(p));
    STEP(p, check_volumes(p, volumes));
    return check_sealed_subpaths(p);
}
