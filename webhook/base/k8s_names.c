#include "k8s_names.h"

static bool is_alnum_lower(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool k8s_is_dns_label(const char *s, size_t len)
{
    if (len == 0 || len > K8S_DNS_LABEL_MAX)
        return false;
    if (!is_alnum_lower(s[0]) || !is_alnum_lower(s[len - 1]))
        return false;
    for (size_t i = 1; i + 1 < len; i++)
        if (!is_alnum_lower(s[i]) && s[i] != '-')
            return false;
    return true;
}

bool k8s_is_dns_subdomain(const char *s, size_t len)
{
    if (len == 0 || len > K8S_DNS_SUBDOMAIN_MAX)
        return false;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || s[i] == '.') {
            if (!k8s_is_dns_label(s + start, i - start))
                return false;
            start = i + 1;
        }
    }
    return true;
}

bool k8s_is_config_map_key(const char *s, size_t len)
{
    if (len == 0 || len > K8S_CONFIG_MAP_KEY_MAX || (len == 1 && s[0] == '.') ||
        (len >= 2 && s[0] == '.' && s[1] == '.'))
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            return false;
    }
    return true;
}
