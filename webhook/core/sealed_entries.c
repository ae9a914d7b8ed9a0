#include "sealed_entries.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "k8s_names.h"

/* Longest entry quoted in an error message; longer ones are cut with "...". */
#define QUOTE_MAX 80

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* The syntax, named in every message about a malformed entry. */
#define ENTRY_SYNTAX "expected SECRET[:MOUNTPATH], e.g. \"db-key\" or \"db-key:/sealed/db\""

CW_MUST_USE static cw_result bad_entry(cw_error *err, const char *entry, size_t len,
                                       const char *why)
{
    /* The message reaches kubectl users and logs: no control characters, bounded length. */
    char shown[QUOTE_MAX + 1];
    size_t n = len > QUOTE_MAX ? QUOTE_MAX : len;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)entry[i];
        shown[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    shown[n] = '\0';
    return cw_fail(err, CW_EINVAL, "sealed-secret entry \"%s%s\": %s", shown,
                   len > QUOTE_MAX ? "..." : "", why);
}

const char *sealed_path_problem(const char *p, size_t len)
{
    if (len == 0 || p[0] != '/')
        return "mount path must be absolute";
    if (len > SEALED_PATH_MAX)
        return "mount path is too long";
    size_t seg = 1;
    for (size_t i = 1; i <= len; i++) {
        if (i < len && ((unsigned char)p[i] < 0x20 || p[i] == 0x7f))
            return "mount path contains a control character";
        if (i < len && p[i] != '/')
            continue;
        size_t n = i - seg;
        if (n == 0 && i < len)
            return "mount path contains an empty segment";
        if (n == 2 && p[seg] == '.' && p[seg + 1] == '.')
            return "mount path must not contain \"..\"";
        if (n == 1 && p[seg] == '.')
            return "mount path must not contain \".\" segments";
        seg = i + 1;
    }
    if (len == 1)
        return "mount path must not be \"/\"";
    return NULL;
}

CW_MUST_USE static cw_result parse_one(const char *entry, size_t len, const char *mount_root,
                                       sealed_entry *out, cw_error *err)
{
    const char *colon = memchr(entry, ':', len);
    size_t name_len = colon ? (size_t)(colon - entry) : len;
    if (!k8s_is_dns_subdomain(entry, name_len))
        return bad_entry(
            err, entry, len,
            "not a valid Secret name (lowercase letters, digits, '-' and '.'); " ENTRY_SYNTAX);
    memcpy(out->secret, entry, name_len);
    out->secret[name_len] = '\0';

    const char *path;
    size_t path_len;
    char joined[SEALED_PATH_MAX + SEALED_SECRET_NAME_MAX + 2];
    if (colon) {
        path = colon + 1;
        path_len = len - name_len - 1;
        if (memchr(path, ':', path_len))
            return bad_entry(err, entry, len, "more than one ':'; " ENTRY_SYNTAX);
    } else {
        size_t root_len = strlen(mount_root);
        while (root_len > 1 && mount_root[root_len - 1] == '/')
            root_len--;
        if (root_len + 1 + name_len >= sizeof joined)
            return bad_entry(err, entry, len, "mount path is too long");
        memcpy(joined, mount_root, root_len);
        joined[root_len] = '/';
        memcpy(joined + root_len + 1, entry, name_len);
        path = joined;
        path_len = root_len + 1 + name_len;
    }
    while (path_len > 1 && path[path_len - 1] == '/')
        path_len--;
    const char *why = sealed_path_problem(path, path_len);
    if (why) {
        char msg[160];
        snprintf(msg, sizeof msg, "%s; %s", why, ENTRY_SYNTAX);
        return bad_entry(err, entry, len, msg);
    }
    memcpy(out->path, path, path_len);
    out->path[path_len] = '\0';
    return CW_OK;
}

cw_result sealed_entries_parse(const char *list, const char *mount_root, sealed_entry *out,
                               size_t cap, size_t *count, cw_error *err)
{
    const char *p = list;
    for (;;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *s = p;
        while (len > 0 && is_space(*s)) {
            s++;
            len--;
        }
        while (len > 0 && is_space(s[len - 1]))
            len--;
        if (len > 0) {
            sealed_entry e;
            cw_result r = parse_one(s, len, mount_root, &e, err);
            if (r)
                return r;
            bool dup = false;
            for (size_t i = 0; i < *count; i++) {
                if (strcmp(out[i].path, e.path) != 0)
                    continue;
                if (strcmp(out[i].secret, e.secret) != 0)
                    return bad_entry(err, s, len, "mount path already used by another entry");
                dup = true;
            }
            if (!dup) {
                if (*count >= cap)
                    return cw_fail(err, CW_ELIMIT, "more than %zu sealed-secret entries", cap);
                out[(*count)++] = e;
            }
        }
        if (!end)
            return CW_OK;
        p = end + 1;
    }
}
