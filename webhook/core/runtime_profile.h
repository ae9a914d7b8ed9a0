/* runtime_profile: what the CoCo runtime behind a RuntimeClass accepts (SPEC §2.6, §2.5).
 *
 * A class stands for a runtime: peer pods (kata's remote hypervisor and the cloud-api-adaptor)
 * or bare-metal CoCo (kata-qemu-snp/tdx), at a kata release MAJOR.MINOR (config
 * runtimeClass.runtimes.<class>). From that follow the `io.katacontainers.config.hypervisor.*`
 * annotations the runtime's `enable_annotations` allows (any other one makes it refuse the
 * sandbox) and the initdata key it reads. Both are tables in runtime_profile.c, one row per
 * kata release that changed them, each citing its source in FACTS.md: the next kata release
 * is one row and one test.
 *
 * A profile is a small value (no pointers); the functions here allocate nothing and keep no
 * state. */
#ifndef COCO_RUNTIME_PROFILE_H
#define COCO_RUNTIME_PROFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "result.h"

#define RUNTIME_HYPERVISOR_PREFIX "io.katacontainers.config.hypervisor."
#define RUNTIME_KATA_MAJOR_MAX 99    /* the largest MAJOR or MINOR a config may name */
#define RUNTIME_DESCRIBE_MAX 40      /* "kata 99.99, bare metal" and its NUL, with room */
#define RUNTIME_KATA_DEFAULT_MAJOR 3 /* the default: OpenShift sandboxed containers 1.11 */
#define RUNTIME_KATA_DEFAULT_MINOR 21

typedef enum runtime_type {
    RUNTIME_PEER_PODS,  /* "peer-pods": kata-remote, each pod a cloud VM */
    RUNTIME_BARE_METAL, /* "bare-metal": kata-qemu-snp, kata-qemu-tdx on the node */
} runtime_type;

typedef struct runtime_profile {
    runtime_type type;
    unsigned kata_major;
    unsigned kata_minor;
} runtime_profile;

/* What a runtime does with one of the two initdata keys. */
typedef enum runtime_key_use {
    RUNTIME_KEY_READS,   /* the key it reads: the pod's own initdata */
    RUNTIME_KEY_IGNORED, /* nothing reads it: the pod VM boots with the cluster-wide INITDATA */
    RUNTIME_KEY_REFUSED, /* the sandbox fails: "annotation ... is not enabled" */
} runtime_key_use;

/* The default of every allowed class: peer pods, kata 3.21. */
runtime_profile runtime_profile_default(void);

/* Parses "peer-pods" or "bare-metal". */
bool runtime_type_parse(const char *s, runtime_type *out);

/* "peer-pods" or "bare-metal", as the config writes it. */
const char *runtime_type_name(runtime_type t);

/* Parses the kata release "MAJOR.MINOR" (digits, no sign, no leading zeros but "0", each at
 * most RUNTIME_KATA_MAJOR_MAX, MAJOR at least 3: the first CoCo releases) into p. CW_EINVAL
 * with why in err ("not a kata release ...") otherwise; p is unchanged then. */
CW_MUST_USE cw_result runtime_kata_parse(const char *s, runtime_profile *p, cw_error *err);

bool runtime_is_peer_pods(const runtime_profile *p);

/* p's release is at least major.minor. */
bool runtime_kata_at_least(const runtime_profile *p, unsigned major, unsigned minor);

/* "kata 3.21, peer pods" or "kata 3.21, bare metal", the words of the preflight messages.
 * Returns buf (cap at least RUNTIME_DESCRIBE_MAX). */
const char *runtime_describe(const runtime_profile *p, char *buf, size_t cap);

/* Whether the runtime accepts the annotation key (borrowed, len bytes, need not be
 * NUL-terminated): every key outside RUNTIME_HYPERVISOR_PREFIX is (the runtime checks only
 * that prefix); a key under it only when its rest is in the runtime's allow-list. */
bool runtime_annotation_allowed(const runtime_profile *p, const char *key, size_t len);

/* "machine_type, default_memory, ...": the allow-list of p (the keys after
 * RUNTIME_HYPERVISOR_PREFIX) for messages, cut with ", ..." to fit cap. Returns buf. */
const char *runtime_allow_list(const runtime_profile *p, char *buf, size_t cap);

/* Whether key[0..len) is under RUNTIME_HYPERVISOR_PREFIX. */
bool runtime_is_hypervisor_key(const char *key, size_t len);

/* The initdata annotation key the runtime reads (INITDATA_ANN_HYPERVISOR or
 * INITDATA_ANN_RUNTIME), or NULL when it reads none (kata 3.20: FACTS.md). Static. */
const char *runtime_initdata_key(const runtime_profile *p);

/* What the runtime does with key, one of the two initdata keys (anything else: READS is
 * not meaningful, and the result is RUNTIME_KEY_READS only for the key it reads). */
runtime_key_use runtime_initdata_key_use(const runtime_profile *p, const char *key);

/* Whether a document of this digest algorithm name ("sha256", ...) can attest on p: vTPM
 * (Azure) peer pods extend PCR 8 with sha256 only (FACTS.md, "Initdata"). */
bool runtime_attests_algorithm(const runtime_profile *p, const char *alg);

#endif
