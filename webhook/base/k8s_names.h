/* k8s_names: validation of Kubernetes names (apimachinery pkg/util/validation). */
#ifndef COCO_K8S_NAMES_H
#define COCO_K8S_NAMES_H

#include <stdbool.h>
#include <stddef.h>

#define K8S_DNS_LABEL_MAX 63
#define K8S_DNS_SUBDOMAIN_MAX 253

/* RFC 1123 label: [a-z0-9]([-a-z0-9]*[a-z0-9])?, at most 63 characters. */
bool k8s_is_dns_label(const char *s, size_t len);

/* RFC 1123 subdomain: dot-separated labels, at most 253 characters (Secret names,
 * RuntimeClass names). */
bool k8s_is_dns_subdomain(const char *s, size_t len);

#endif
