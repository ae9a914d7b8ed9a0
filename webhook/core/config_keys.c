/* config_keys: the keys of SPEC §5 and the rules of their values, except the sealedSecrets
 * (config_sealed.c), initdata (config_initdata.c) and podVM (config_podvm.c) groups and the
 * runtimes and preflight (config_runtime.c). */
#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>

#include "config_reader.h"
#include "intparse.h"
#include "k8s_names.h"
#include "units.h"

/* ---- validators ---- */

static bool is_lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_alnum(char c)
{
    return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

const char *check_namespace(const char *s)
{
    if (!k8s_is_dns_label(s, strlen(s)))
        return "not a valid namespace name (an RFC 1123 label: lowercase letters, digits and "
               "'-', at most 63)";
    return NULL;
}

static const char *check_runtime_class(const char *s)
{
    if (!k8s_is_dns_subdomain(s, strlen(s)))
        return "not a valid RuntimeClass name (an RFC 1123 subdomain: lowercase letters, "
               "digits, '-' and '.', at most 253)";
    return NULL;
}

/* A Kubernetes qualified name as a label key: [PREFIX/]NAME, PREFIX a DNS subdomain, NAME
 * at most 63 of [A-Za-z0-9._-] beginning and ending alphanumeric. */
static const char *check_label_key(const char *s)
{
    static const char why[] = "not a valid label key ([PREFIX/]NAME, PREFIX a DNS subdomain, "
                              "NAME at most 63 of letters, digits, '-', '_' and '.')";
    const char *name = s;
    const char *slash = strchr(s, '/');
    if (slash) {
        if (!k8s_is_dns_subdomain(s, (size_t)(slash - s)))
            return why;
        name = slash + 1;
    }
    size_t len = strlen(name);
    if (len == 0 || len > K8S_DNS_LABEL_MAX || !is_alnum(name[0]) || !is_alnum(name[len - 1]))
        return why;
    for (size_t i = 0; i < len; i++) {
        if (!is_alnum(name[i]) && name[i] != '-' && name[i] != '_' && name[i] != '.')
            return why;
    }
    return NULL;
}

/* A host name of RFC 1123 labels, letters of either case (IPv4 addresses fit too). */
static bool is_host_name(const char *s, size_t len)
{
    if (len > K8S_DNS_SUBDOMAIN_MAX)
        return false;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && s[i] != '.')
            continue;
        if (i == start || i - start > K8S_DNS_LABEL_MAX || !is_alnum(s[start]) ||
            !is_alnum(s[i - 1]))
            return false;
        for (size_t j = start; j < i; j++) {
            if (!is_alnum(s[j]) && s[j] != '-')
                return false;
        }
        start = i + 1;
    }
    return true;
}

/* [HOST]:PORT (IPv6), HOST:PORT or :PORT, with PORT from CONFIG_PORT_MIN to CONFIG_PORT_MAX in
 * the one integer grammar (int_parse), as the server reads it. */
static const char *check_listen(const char *s)
{
    static const char why[] = "not a listen address (HOST:PORT, [IPV6]:PORT or :PORT, "
                              "PORT 1-65535)";
    const char *port;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (!close || close[1] != ':')
            return why;
        size_t hlen = (size_t)(close - s - 1);
        char host[INET6_ADDRSTRLEN];
        struct in6_addr addr;
        if (hlen == 0 || hlen >= sizeof host)
            return why;
        memcpy(host, s + 1, hlen);
        host[hlen] = '\0';
        if (inet_pton(AF_INET6, host, &addr) != 1)
            return why;
        port = close + 2;
    } else {
        const char *colon = strrchr(s, ':');
        if (!colon)
            return why;
        size_t hlen = (size_t)(colon - s);
        if (memchr(s, ':', hlen))
            return "not a listen address (an IPv6 address needs brackets: [::1]:8443)";
        if (hlen > 0 && !is_host_name(s, hlen))
            return why;
        port = colon + 1;
    }
    int64_t v;
    if (int_parse(port, strlen(port), CONFIG_PORT_MIN, CONFIG_PORT_MAX, "the port of listen", &v,
                  NULL) != CW_OK)
        return why;
    return NULL;
}

static const char *check_not_empty(const char *s)
{
    return s[0] ? NULL : "must not be empty";
}

/* A Kubernetes quantity (resource.ParseQuantity): DIGITS[.DIGITS] then a binary suffix
 * (Ki..Ei), a decimal one (n u m k M G T P E) or an exponent (e3, E-2). Sizes have no sign,
 * and a zero limit would make every replaced volume unusable. */
static const char *check_quantity(const char *s)
{
    static const char why[] = "not a positive Kubernetes quantity (e.g. 20Gi, 500M, 1.5Gi)";
    static const char *const suffixes[] = {"",  "Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "n",
                                           "u", "m",  "k",  "M",  "G",  "T",  "P",  "E"};
    const char *p = s;
    bool nonzero = false;
    size_t digits = 0;
    for (; *p >= '0' && *p <= '9'; p++, digits++)
        nonzero |= *p != '0';
    if (*p == '.') {
        for (p++; *p >= '0' && *p <= '9'; p++, digits++)
            nonzero |= *p != '0';
    }
    if (digits == 0 || !nonzero)
        return why;
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        if (strcmp(p, suffixes[i]) == 0)
            return NULL;
    }
    if (p[0] == 'e' || p[0] == 'E') {
        const char *q = p + 1;
        if (*q == '+' || *q == '-')
            q++;
        if (*q == '\0')
            return why;
        for (; *q; q++) {
            if (!(*q >= '0' && *q <= '9'))
                return why;
        }
        return NULL;
    }
    return why;
}

static const char *check_medium(const char *s)
{
    if (strcmp(s, "") == 0 || strcmp(s, "Memory") == 0)
        return NULL;
    return "not an emptyDir medium (\"\" or \"Memory\")";
}

/* ---- the keys of SPEC §5 ---- */

CW_MUST_USE static cw_result read_listen(parse_ctx *ctx, const char *path)
{
    return set_string(ctx, path, &ctx->cfg->listen, check_listen, false);
}

CW_MUST_USE static cw_result read_tls_cert(parse_ctx *ctx, const char *path)
{
    return set_string(ctx, path, &ctx->cfg->tls_cert, check_not_empty, false);
}

CW_MUST_USE static cw_result read_tls_key(parse_ctx *ctx, const char *path)
{
    return set_string(ctx, path, &ctx->cfg->tls_key, check_not_empty, false);
}

/* Reads an optional string that pick() turns into a setting; null keeps the default. */
CW_MUST_USE static cw_result read_choice(parse_ctx *ctx, const char *path,
                                         bool (*pick)(parse_ctx *ctx, const char *s),
                                         const char *why)
{
    const char *s;
    cw_result r = get_string(ctx, path, true, false, &s);
    if (r || !s || pick(ctx, s))
        return r;
    return fail_value(ctx, path, s, why);
}

static bool pick_log_level(parse_ctx *ctx, const char *s)
{
    return log_parse_level(s, &ctx->cfg->log_level);
}

static bool pick_tls_version(parse_ctx *ctx, const char *s)
{
    return config_parse_tls_version(s, &ctx->cfg->tls_min_version);
}

CW_MUST_USE static cw_result read_log_level(parse_ctx *ctx, const char *path)
{
    return read_choice(ctx, path, pick_log_level, "not a log level (debug, info, warn or error)");
}

/* A string, "1.2" or "1.3": an unquoted 1.2 is a YAML number and refused like any wrong type. */
CW_MUST_USE static cw_result read_tls_min_version(parse_ctx *ctx, const char *path)
{
    return read_choice(ctx, path, pick_tls_version, "not a TLS version (\"1.2\" or \"1.3\")");
}

CW_MUST_USE static cw_result read_selector_label(parse_ctx *ctx, const char *path)
{
    return set_string(ctx, path, &ctx->cfg->selector_label, check_label_key, false);
}

CW_MUST_USE static cw_result read_selector(parse_ctx *ctx, const char *path)
{
    static const key_spec keys[] = {{"label", read_selector_label}};
    return read_map(ctx, path, keys, KEY_COUNT(keys));
}

CW_MUST_USE static cw_result read_exclude_namespaces(parse_ctx *ctx, const char *path)
{
    return read_string_list(ctx, path, &ctx->cfg->exclude_namespaces, CONFIG_LIST_MAX,
                            check_namespace, true, NULL);
}

CW_MUST_USE static cw_result read_runtime_class_name(parse_ctx *ctx, const char *path)
{
    return set_string(ctx, path, &ctx->cfg->runtime_class, check_runtime_class, false);
}

CW_MUST_USE static cw_result read_runtime_class_allowed(parse_ctx *ctx, const char *path)
{
    return read_string_list(ctx, path, &ctx->cfg->runtime_class_allowed, CONFIG_LIST_MAX,
                            check_runtime_class, true, NULL);
}

CW_MUST_USE static cw_result read_runtime_class(parse_ctx *ctx, const char *path)
{
    static const key_spec keys[] = {{"name", read_runtime_class_name},
                                    {"allowed", read_runtime_class_allowed},
                                    {"runtimes", read_runtimes}};
    return read_map(ctx, path, keys, KEY_COUNT(keys));
}

CW_MUST_USE static cw_result read_replace_pvs(parse_ctx *ctx, const char *path)
{
    return get_bool(ctx, path, true, &ctx->cfg->replace_persistent_volumes);
}

CW_MUST_USE static cw_result read_size_limit(parse_ctx *ctx, const char *path)
{
    /* A plain 1000000000 is a number to YAML but a fine quantity, as kubectl takes it. */
    return set_string(ctx, path, &ctx->cfg->empty_dir_size_limit, check_quantity, true);
}

CW_MUST_USE static cw_result read_medium(parse_ctx *ctx, const char *path)
{
    return set_string(ctx, path, &ctx->cfg->empty_dir_medium, check_medium, false);
}

CW_MUST_USE static cw_result read_empty_dir(parse_ctx *ctx, const char *path)
{
    static const key_spec keys[] = {{"sizeLimit", read_size_limit}, {"medium", read_medium}};
    return read_map(ctx, path, keys, KEY_COUNT(keys));
}

CW_MUST_USE static cw_result read_storage(parse_ctx *ctx, const char *path)
{
    static const key_spec keys[] = {{"replacePersistentVolumes", read_replace_pvs},
                                    {"emptyDir", read_empty_dir}};
    return read_map(ctx, path, keys, KEY_COUNT(keys));
}

/* memoryLimit (SPEC §3): a quantity of bytes, or "" for the container's limit. */
CW_MUST_USE static cw_result read_memory_limit(parse_ctx *ctx, const char *path)
{
    const char *s;
    cw_result r = get_string(ctx, path, true, true, &s);
    if (r || !s)
        return r;
    uint64_t bytes = 0;
    if (s[0] && units_parse_bytes(s, &bytes) != CW_OK)
        return fail_value(ctx, path, s, "not a quantity of bytes (e.g. 256Mi, 1Gi)");
    ctx->cfg->memory_limit = bytes;
    return CW_OK;
}

/* shutdownDelay (SPEC §4): a Go duration, at most CONFIG_SHUTDOWN_DELAY_MAX_MS. */
CW_MUST_USE static cw_result read_shutdown_delay(parse_ctx *ctx, const char *path)
{
    const char *s;
    cw_result r = get_string(ctx, path, true, false, &s);
    if (r || !s)
        return r;
    if (units_parse_duration_ms(s, CONFIG_SHUTDOWN_DELAY_MAX_MS, &ctx->cfg->shutdown_delay_ms) !=
        CW_OK)
        return fail_value(ctx, path, s, "not a duration of at most 10m (e.g. 10s, 500ms)");
    return CW_OK;
}

static const key_spec root_keys[] = {
    {"listen", read_listen},
    {"tlsCert", read_tls_cert},
    {"tlsKey", read_tls_key},
    {"logLevel", read_log_level},
    {"selector", read_selector},
    {"excludeNamespaces", read_exclude_namespaces},
    {"runtimeClass", read_runtime_class},
    {"tlsMinVersion", read_tls_min_version},
    {"storage", read_storage},
    {"sealedSecrets", read_sealed_secrets},
    {"initdata", read_initdata},
    {"preflight", read_preflight},
    {"memoryLimit", read_memory_limit},
    {"shutdownDelay", read_shutdown_delay},
    {"podVM", read_podvm},
};

cw_result read_root(parse_ctx *ctx)
{
    return read_map(ctx, "", root_keys, KEY_COUNT(root_keys));
}
