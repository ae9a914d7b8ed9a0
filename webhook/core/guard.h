/* guard: the ValidatingAdmissionPolicy that keeps CoCo workloads CoCo inside the API server
 * (SPEC §7, component guard; `coco-webhook guard`, SPEC §6), made from the webhook's config.
 *
 * The API server runs validating admission policies after every mutating webhook, on the final
 * object, with no network call. So when the webhook is bypassed (its configuration deleted or
 * edited, `failurePolicy: Ignore` while it is down, a later webhook that undoes its work), a
 * selected Pod or Notebook that is not CoCo is still refused. The policy checks the state the
 * webhook produces, never how it got there:
 *   - the runtime class (Notebook: of spec.template.spec) is one of runtimeClass.allowed;
 *   - with storage.replacePersistentVolumes, no persistentVolumeClaim or ephemeral volume is
 *     left unless annotation keep-volumes names it or a volumeDevices entry uses it (SPEC §2.2);
 *   - in a namespace whose initdata document is enforced, the initdata annotation (the key the
 *     class's runtime reads, guard_initdata_key) is that document's value (SPEC §2.5).
 * Selection is SPEC §1's: the object's label "true", or its namespace's label "true" without
 * the object's label; excluded namespaces (with the webhook's own), mirror pods and updates
 * of objects being deleted are left alone, like the engine leaves them (core/engine.c; a
 * CREATE's deletionTimestamp is not trusted: the API server clears it before the guard).
 *
 * The config's values are written into the CEL expressions (no parameter object to keep in
 * step), each string through celesc (base/celesc.h). Only functions of CEL's standard library
 * and Kubernetes' ext.strings (split, trim, join) are used: Kubernetes 1.30 has them all.
 * The objects are built as cJSON trees in a fixed order, so the same config always prints the
 * same YAML. */
#ifndef COCO_GUARD_H
#define COCO_GUARD_H

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "config.h"
#include "result.h"

#define GUARD_POLICY_NAME "coco-webhook-guard" /* the policy and its binding */
#define GUARD_NAMESPACE_DEFAULT "coco-webhook" /* the webhook's namespace in manifests/ */

/* What the binding does with a failed validation. */
typedef enum guard_actions {
    GUARD_ACTIONS_DENY, /* [Deny]: the request is refused */
    GUARD_ACTIONS_WARN, /* [Warn, Audit]: a first rollout; the request goes through, with a
                           warning to the client and an audit annotation */
} guard_actions;

typedef struct guard_options {
    const char *namespace; /* the webhook's own namespace, excluded as the server excludes it
                              (POD_NAMESPACE); NULL or "": none added. Borrowed. */
    guard_actions actions;
} guard_options;

/* The initdata annotation key the runtime of runtime_class reads (SPEC §2.5, §2.6: the
 * class's runtimeClass.runtimes profile): the one that must carry an enforced document.
 * Static. */
const char *guard_initdata_key(const config *cfg, const char *runtime_class);

/* Builds the guard of cfg: on CW_OK *out is an owned cJSON array of the objects to apply, in
 * order (the ValidatingAdmissionPolicy, then its ValidatingAdmissionPolicyBinding). On failure
 * *out is NULL and err says why (CW_ENOMEM, or CW_ELIMIT when an expression would be too
 * long). cfg is borrowed. */
CW_MUST_USE cw_result guard_build(const config *cfg, const guard_options *opts, cJSON **out,
                                  cw_error *err);

#endif
