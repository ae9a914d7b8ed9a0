/* runtime_profile: the kata releases' allow-lists and initdata keys. See runtime_profile.h. */
#include "runtime_profile.h"

#include <stdio.h>
#include <string.h>

#include "initdata_doc.h"
#include "namelist.h"

/* One change of an allow-list: from kata since_major.since_minor on, key (the part after
 * RUNTIME_HYPERVISOR_PREFIX) is allowed (added) or no longer (dropped). Rows of one runtime
 * type are in release order; a key's last row at or before a release decides. */
typedef struct allow_row {
    runtime_type type;
    unsigned since_major, since_minor;
    const char *key;
    bool added;
} allow_row;

/* FACTS.md, "What the CoCo runtime refuses or silently ignores", row "remote allow-list" and
 * the bare-metal column (kata-containers `src/runtime/Makefile` DEFENABLEANNOTATIONS*,
 * `src/runtime/pkg/oci/utils.go` addAnnotations; PR #11711 for cc_init_data on remote).
 * A release older than a type's first row has that first row's list. */
static const allow_row allow_rows[] = {
    /* peer pods (configuration-remote.toml): FACTS.md "remote allow-list" */
    {RUNTIME_PEER_PODS, 3, 0, "machine_type", true},   /* 3.7 (the first CoCo remote list) */
    {RUNTIME_PEER_PODS, 3, 0, "default_memory", true}, /* 3.7 */
    {RUNTIME_PEER_PODS, 3, 0, "default_vcpus", true},  /* 3.7 */
    {RUNTIME_PEER_PODS, 3, 9, "image", true},          /* 3.9 */
    {RUNTIME_PEER_PODS, 3, 11, "default_gpus", true},  /* 3.11 */
    {RUNTIME_PEER_PODS, 3, 11, "gpu_model", true},     /* 3.11 */
    {RUNTIME_PEER_PODS, 3, 21, "cc_init_data", true},  /* 3.21, kata PR #11711 */
    /* bare metal (configuration-qemu-snp/tdx.toml): FACTS.md, bare-metal column */
    {RUNTIME_BARE_METAL, 3, 0, "enable_iommu", true},         /* ≤ 3.19 */
    {RUNTIME_BARE_METAL, 3, 0, "virtio_fs_extra_args", true}, /* ≤ 3.19 */
    {RUNTIME_BARE_METAL, 3, 0, "kernel_params", true},        /* ≤ 3.19 */
    /* TDX also allows these two; SNP does not. One profile stands for both, so the wider
     * list: a refusal missed here is what happened before preflight, a false denial would
     * block a pod the runtime runs. */
    {RUNTIME_BARE_METAL, 3, 0, "default_vcpus", true},  /* ≤ 3.19, TDX */
    {RUNTIME_BARE_METAL, 3, 0, "default_memory", true}, /* ≤ 3.19, TDX */
    /* 3.20 TDX, 3.21 SNP; "Which initdata key each runtime reads": no per-pod initdata on
     * 3.20 SNP, so from 3.21 for both */
    {RUNTIME_BARE_METAL, 3, 21, "cc_init_data", true},
    {RUNTIME_BARE_METAL, 3, 27, "kernel_verity_params", true},  /* 3.27 */
    {RUNTIME_BARE_METAL, 3, 31, "virtio_fs_extra_args", false}, /* 3.31 drops it */
};

/* FACTS.md, "Which initdata key each runtime reads" (kata PR #11693 moved the key in 3.20;
 * cloud-api-adaptor v0.16.0 switched): up to 3.19 the runtime key, from 3.21 the hypervisor
 * key; 3.20 reads none on remote and SNP. */
typedef struct key_row {
    unsigned since_major, since_minor;
    const char *reads; /* NULL: no per-pod initdata */
} key_row;

static const key_row key_rows[] = {
    {3, 0, INITDATA_ANN_RUNTIME},     /* kata ≤ 3.19 (OSC 1.9 = 3.13, 1.10 = 3.17) */
    {3, 20, NULL},                    /* kata 3.20: hypervisor key, not yet allowed */
    {3, 21, INITDATA_ANN_HYPERVISOR}, /* kata ≥ 3.21 (OSC 1.11 = 3.21, 1.12 = 3.25) */
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

runtime_profile runtime_profile_default(void)
{
    return (runtime_profile){.type = RUNTIME_PEER_PODS,
                             .kata_major = RUNTIME_KATA_DEFAULT_MAJOR,
                             .kata_minor = RUNTIME_KATA_DEFAULT_MINOR};
}

static const char *const type_names[] = {"peer-pods", "bare-metal"};

bool runtime_type_parse(const char *s, runtime_type *out)
{
    for (size_t i = 0; i < COUNT(type_names); i++) {
        if (strcmp(s, type_names[i]) == 0) {
            *out = (runtime_type)i;
            return true;
        }
    }
    return false;
}

const char *runtime_type_name(runtime_type t)
{
    return (size_t)t < COUNT(type_names) ? type_names[t] : "?";
}

/* Reads digits at *p up to stop into *v: no leading zeros but "0", at most
 * RUNTIME_KATA_MAJOR_MAX. */
static bool read_number(const char **p, char stop, unsigned *v)
{
    const char *s = *p;
    unsigned n = 0;
    size_t digits = 0;
    for (; *s >= '0' && *s <= '9'; s++, digits++) {
        n = n * 10 + (unsigned)(*s - '0');
        if (n > RUNTIME_KATA_MAJOR_MAX)
            return false;
    }
    if (digits == 0 || *s != stop || (digits > 1 && **p == '0'))
        return false;
    *v = n;
    *p = s;
    return true;
}

cw_result runtime_kata_parse(const char *s, runtime_profile *p, cw_error *err)
{
    const char *at = s;
    unsigned major, minor;
    if (!read_number(&at, '.', &major) || (at++, !read_number(&at, '\0', &minor)) || major < 3)
        return cw_fail(err, CW_EINVAL,
                       "not a kata release (\"MAJOR.MINOR\", e.g. \"3.21\"; 3.0 or later)");
    p->kata_major = major;
    p->kata_minor = minor;
    return CW_OK;
}

bool runtime_is_peer_pods(const runtime_profile *p)
{
    return p->type == RUNTIME_PEER_PODS;
}

bool runtime_kata_at_least(const runtime_profile *p, unsigned major, unsigned minor)
{
    return p->kata_major > major || (p->kata_major == major && p->kata_minor >= minor);
}

const char *runtime_describe(const runtime_profile *p, char *buf, size_t cap)
{
    snprintf(buf, cap, "kata %u.%u, %s", p->kata_major, p->kata_minor,
             runtime_is_peer_pods(p) ? "peer pods" : "bare metal");
    return buf;
}

bool runtime_is_hypervisor_key(const char *key, size_t len)
{
    static const size_t plen = sizeof RUNTIME_HYPERVISOR_PREFIX - 1;
    return len >= plen && memcmp(key, RUNTIME_HYPERVISOR_PREFIX, plen) == 0;
}

bool runtime_annotation_allowed(const runtime_profile *p, const char *key, size_t len)
{
    static const size_t plen = sizeof RUNTIME_HYPERVISOR_PREFIX - 1;
    if (!runtime_is_hypervisor_key(key, len))
        return true;
    const char *rest = key + plen;
    size_t rlen = len - plen;
    bool allowed = false;
    for (size_t i = 0; i < COUNT(allow_rows); i++) {
        const allow_row *r = &allow_rows[i];
        if (r->type != p->type || !runtime_kata_at_least(p, r->since_major, r->since_minor))
            continue;
        if (strlen(r->key) == rlen && memcmp(r->key, rest, rlen) == 0)
            allowed = r->added;
    }
    return allowed;
}

const char *runtime_allow_list(const runtime_profile *p, char *buf, size_t cap)
{
    namelist l;
    namelist_init(&l, buf, cap);
    for (size_t i = 0; i < COUNT(allow_rows); i++) {
        const allow_row *r = &allow_rows[i];
        if (r->type != p->type || !r->added ||
            !runtime_kata_at_least(p, r->since_major, r->since_minor))
            continue;
        char key[96];
        int n = snprintf(key, sizeof key, "%s%s", RUNTIME_HYPERVISOR_PREFIX, r->key);
        if (n < 0 || (size_t)n >= sizeof key || !runtime_annotation_allowed(p, key, (size_t)n))
            continue; /* dropped by a later row */
        namelist_add(&l, r->key);
    }
    return buf;
}

const char *runtime_initdata_key(const runtime_profile *p)
{
    const char *reads = key_rows[0].reads;
    for (size_t i = 0; i < COUNT(key_rows); i++) {
        if (runtime_kata_at_least(p, key_rows[i].since_major, key_rows[i].since_minor))
            reads = key_rows[i].reads;
    }
    return reads;
}

runtime_key_use runtime_initdata_key_use(const runtime_profile *p, const char *key)
{
    const char *reads = runtime_initdata_key(p);
    if (reads && strcmp(key, reads) == 0)
        return RUNTIME_KEY_READS;
    /* A hypervisor.* key outside the allow-list fails the sandbox; the runtime.* namespace
     * is not checked, so a key there that nothing reads is ignored. */
    if (!runtime_annotation_allowed(p, key, strlen(key)))
        return RUNTIME_KEY_REFUSED;
    return RUNTIME_KEY_IGNORED;
}

bool runtime_attests_algorithm(const runtime_profile *p, const char *alg)
{
    return !runtime_is_peer_pods(p) || strcmp(alg, "sha256") == 0;
}
