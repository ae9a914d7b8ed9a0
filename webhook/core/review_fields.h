/* review_fields: the members of an AdmissionReview the webhook reads, as json_prune rules.
 *
 * The server parses a review with these rules (admission.c): what the webhook never reads is
 * checked and dropped at the parse instead of being kept as a tree (json_prune.h says why).
 * Dropped: the request's oldObject, the object's status, managedFields; in a pod spec (and the
 * spec of a Notebook or workload, at any depth of spec, template, jobTemplate) every member but
 * volumes, runtimeClassName, hostNetwork, hostPID, hostIPC, the container lists and the
 * templates; of a container (containers, initContainers) every member but its name,
 * volumeMounts and volumeDevices. What is kept is thus only what is read: the kept tree is
 * bounded by the shapes the engine walks, not by the densest field a user could fill. A rule of the
 * engine or of the admission decoder that reads another member of those must add it here: the
 * golden cases run through both the server (pruned) and `coco-webhook mutate` (whole objects) and
 * differ otherwise. */
#ifndef COCO_REVIEW_FIELDS_H
#define COCO_REVIEW_FIELDS_H

#include "json_prune.h"

extern const json_prune_rules review_fields_rules;

#endif
