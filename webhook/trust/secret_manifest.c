#include "secret_manifest.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "b64.h"
#include "jsonesc.h"
#include "k8s_names.h"

cw_result secret_manifest_build(const char *name, const char *ns, const char *key,
                                const char *value, bool use_data, cJSON **out, cw_error *err)
{
    char shown[80];
    *out = NULL;
    if (!k8s_is_dns_subdomain(name, strlen(name)))
        return cw_fail(err, CW_EINVAL,
                       "Secret name \"%s\" is not a DNS subdomain (lower-case letters, digits, "
                       "'-' and '.', at most %d)",
                       cw_printable(name, strlen(name), shown, sizeof shown),
                       K8S_DNS_SUBDOMAIN_MAX);
    if (ns && !k8s_is_dns_label(ns, strlen(ns)))
        return cw_fail(err, CW_EINVAL,
                       "namespace \"%s\" is not a DNS label (lower-case letters, digits and '-', "
                       "at most %d)",
                       cw_printable(ns, strlen(ns), shown, sizeof shown), K8S_DNS_LABEL_MAX);
    if (!k8s_is_config_map_key(key, strlen(key)))
        return cw_fail(err, CW_EINVAL,
                       "Secret key \"%s\" may only hold letters, digits, '-', '_' and '.', not "
                       "start with \"..\" (at most %d)",
                       cw_printable(key, strlen(key), shown, sizeof shown), K8S_CONFIG_MAP_KEY_MAX);

    cw_result rc = CW_ENOMEM;
    char *b64 = NULL;
    cJSON *root = cJSON_CreateObject();
    cJSON *meta = cJSON_CreateObject();
    cJSON *data = cJSON_CreateObject();
    if (!root || !meta || !data)
        goto out;
    if (!cJSON_AddStringToObject(root, "apiVersion", "v1") ||
        !cJSON_AddStringToObject(root, "kind", "Secret") ||
        !cJSON_AddItemToObject(root, "metadata", meta)) {
        goto out;
    }
    cJSON *m = meta;
    meta = NULL; /* owned by root */
    if (!cJSON_AddStringToObject(m, "name", name) ||
        (ns && !cJSON_AddStringToObject(m, "namespace", ns)) ||
        !cJSON_AddStringToObject(root, "type", "Opaque"))
        goto out;
    if (use_data) {
        b64 = b64_encode_alloc(value, strlen(value), B64_STD);
        if (!b64 || !cJSON_AddStringToObject(data, key, b64))
            goto out;
    } else if (!cJSON_AddStringToObject(data, key, value)) {
        goto out;
    }
    if (!cJSON_AddItemToObject(root, use_data ? "data" : "stringData", data))
        goto out;
    data = NULL;
    *out = root;
    root = NULL;
    rc = CW_OK;
out:
    free(b64);
    cJSON_Delete(root);
    cJSON_Delete(meta);
    cJSON_Delete(data);
    if (rc)
        return CW_FAIL_NOMEM(err);
    return CW_OK;
}

/* Plain (unquoted) when YAML 1.1, which kubectl reads, can only take it for a string:
 * [A-Za-z][A-Za-z0-9._-]* and not a boolean or null word (no number, timestamp, .inf or
 * .nan starts with a letter). */
static bool yaml_plain_ok(const char *s)
{
    static const char *const special[] = {"y",     "yes", "n",   "no",  "true",
                                          "false", "on",  "off", "null"};
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
        return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '.' || *p == '_' || *p == '-'))
            return false;
    for (size_t i = 0; i < sizeof special / sizeof special[0]; i++)
        if (strcasecmp(s, special[i]) == 0)
            return false;
    return true;
}

/* A double-quoted scalar takes JSON's escapes (YAML 1.2 §5.7). */
CW_MUST_USE static cw_result yaml_scalar(buf *out, const char *s)
{
    if (yaml_plain_ok(s))
        return buf_adds(out, s);
    return jsonesc_append(out, s, strlen(s));
}

CW_MUST_USE static cw_result indent(buf *out, int n)
{
    return buf_addf(out, "%*s", n, "");
}

CW_MUST_USE static cw_result yaml_object(buf *out, const cJSON *obj, int depth)
{
    for (const cJSON *c = obj->child; c; c = c->next) {
        CW_GUARD(indent(out, depth));
        CW_GUARD(yaml_scalar(out, c->string));
        if (cJSON_IsObject(c) && !c->child) {
            CW_GUARD(buf_adds(out, ": {}\n"));
        } else if (cJSON_IsObject(c)) {
            CW_GUARD(buf_adds(out, ":\n"));
            CW_GUARD(yaml_object(out, c, depth + 2));
        } else {
            CW_GUARD(buf_adds(out, ": "));
            CW_GUARD(yaml_scalar(out, cJSON_IsString(c) ? c->valuestring : ""));
            CW_GUARD(buf_addc(out, '\n'));
        }
    }
    return CW_OK;
}

CW_MUST_USE static cw_result json_string(buf *out, const char *s)
{
    return jsonesc_append(out, s, strlen(s));
}

CW_MUST_USE static cw_result json_object(buf *out, const cJSON *obj, int depth)
{
    if (!obj->child)
        return buf_adds(out, "{}");
    CW_GUARD(buf_adds(out, "{\n"));
    for (const cJSON *c = obj->child; c; c = c->next) {
        CW_GUARD(indent(out, depth + 2));
        CW_GUARD(json_string(out, c->string));
        CW_GUARD(buf_adds(out, ": "));
        if (cJSON_IsObject(c))
            CW_GUARD(json_object(out, c, depth + 2));
        else
            CW_GUARD(json_string(out, cJSON_IsString(c) ? c->valuestring : ""));
        CW_GUARD(buf_adds(out, c->next ? ",\n" : "\n"));
    }
    CW_GUARD(indent(out, depth));
    return buf_addc(out, '}');
}

cw_result secret_manifest_write(buf *out, const cJSON *manifest, secret_manifest_format format)
{
    if (format == SECRET_MANIFEST_YAML)
        return yaml_object(out, manifest, 0);
    CW_GUARD(json_object(out, manifest, 0));
    return buf_addc(out, '\n');
}
