/* k8s_names: validation of Kubernetes names (apimachinery pkg/util/validation). */
#ifndef COCO_K8S_NAMES_H
#define COCO_K8S_NAMES_H

#include <stdbool.h>
#include <stddef.h>

#define K8S_DNS_LABEL_MAX 63      /* namespaces, container and volume names */
#define K8S_DNS_SUBDOMAIN_MAX 253 /* object names, Secret and RuntimeClass names */
/* A kind ("Pod", a CRD's names.kind): the API server requires its lowercase form to be a
 * DNS-1035 label, so a kind is at most a label long. */
#define K8S_KIND_MAX K8S_DNS_LABEL_MAX
#define K8S_CONFIG_MAP_KEY_MAX 253 /* a Secret or ConfigMap data key */

/* RFC 1123 label: [a-z0-9]([-a-z0-9]*[a-z0-9])?, at most 63 characters. */
bool k8s_is_dns_label(const char *s, size_t len);

/* RFC 1123 subdomain: dot-separated labels, at most 253 characters (Secret names,
 * RuntimeClass names). */
bool k8s_is_dns_subdomain(const char *s, size_t len);

/* A Secret or ConfigMap data key (IsConfigMapKey): [-._a-zA-Z0-9]+, at most 253 characters,
 * not "." or "..", and not starting with "..". */
bool k8s_is_config_map_key(const char *s, size_t len);

#endif
