/* config: the SPEC §5 YAML file read over the defaults. See config.h.
 *
 * The reader walks libyaml's event stream against the fixed shape of the file instead of
 * building a document tree: it stops at the first node that does not fit, so nesting depth
 * is bounded by the shape, and anchors and aliases (the billion-laughs hazard) are refused
 * outright. Plain scalars are resolved with the YAML 1.1 rules kubectl uses (go-yaml v2),
 * so that `yes` or `8443` is not mistaken for a string. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

#include "k8s_names.h"
#include "sealed_entries.h"
#include "yaml11.h"

#define PATH_BUF 320      /* a dotted key path in messages */
#define PATH_KEY_SHOWN 80 /* bytes of one key shown in a path; longer keys are cut */
#define VALUE_SHOWN 80    /* bytes of a rejected value quoted in a message */

#define YAML_TAG_PREFIX "tag:yaml.org,2002:"

static const char *const level_names[] = {"debug", "info", "warn", "error"};
static const char *const tls_version_names[] = {"1.2", "1.3"};
static const char *const default_excluded[] = {"kube-system", "kube-public", "kube-node-lease"};

/* What a scalar resolves to under YAML 1.1 (go-yaml v2, as kubectl reads it). */
typedef enum scalar_kind {
    SCALAR_STRING,
    SCALAR_NULL,
    SCALAR_BOOL,
    SCALAR_INT,
    SCALAR_FLOAT,
} scalar_kind;

typedef struct parse_ctx {
    yaml_parser_t parser;
    yaml_event_t ev; /* the current event, owned while have_ev */
    bool have_ev;
    const char *name;
    const char *buf;
    size_t len;
    cw_error *err;
    config *cfg;
    size_t **sealed_lines; /* line of each sealed entry, parallel to cfg->sealed_namespaces */
    /* initdata, resolved once the whole file is read (documents may come after their users) */
    size_t *doc_lines;   /* line of each document, parallel to cfg->initdata_documents */
    char **ns_doc_names; /* document named by each cfg->initdata_namespaces entry */
    size_t *ns_lines;    /* line of each namespace entry */
    size_t ns_current;   /* the namespace entry being read */
    char *default_name;  /* initdata.default as written, or NULL */
    size_t default_line;
    const char *base_dir;  /* relative document paths are taken from here; NULL: cwd */
    config_strings *watch; /* receives the document paths; may be NULL */
} parse_ctx;

typedef cw_result (*value_fn)(parse_ctx *ctx, const char *path);

typedef struct key_spec {
    const char *name;
    value_fn read;
} key_spec;

/* A validator returns NULL for a good value, else why it is wrong. */
typedef const char *(*check_fn)(const char *s);

/* ---- small helpers ---- */

static void strings_free(config_strings *list)
{
    for (size_t i = 0; i < list->count; i++)
        free(list->items[i]);
    free(list->items);
    list->items = NULL;
    list->count = 0;
}

/* Appends a copy of s. */
static cw_result strings_append(config_strings *list, const char *s)
{
    char *copy = strdup(s);
    if (!copy)
        return CW_ENOMEM;
    char **items = realloc(list->items, (list->count + 1) * sizeof *items);
    if (!items) {
        free(copy);
        return CW_ENOMEM;
    }
    items[list->count++] = copy;
    list->items = items;
    return CW_OK;
}

bool config_strings_contains(const config_strings *list, const char *s)
{
    if (!list || !s)
        return false;
    for (size_t i = 0; i < list->count; i++) {
        if (strcmp(list->items[i], s) == 0)
            return true;
    }
    return false;
}

static size_t event_line(const yaml_event_t *ev)
{
    return ev->start_mark.line + 1;
}

/* Formats "FILE:LINE: key \"PATH\": MESSAGE" (without the key part when path is empty). */
__attribute__((format(printf, 5, 6))) static cw_result
fail_at(parse_ctx *ctx, size_t line, const char *path, cw_result code, const char *fmt, ...)
{
    char msg[CW_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (path && path[0])
        return cw_fail(ctx->err, code, "%s:%zu: key \"%s\": %s", ctx->name, line, path, msg);
    return cw_fail(ctx->err, code, "%s:%zu: %s", ctx->name, line, msg);
}

static cw_result fail_oom(parse_ctx *ctx)
{
    return cw_fail(ctx->err, CW_ENOMEM, "%s: out of memory", ctx->name);
}

/* Copies at most shown bytes of text[0..len) into out (size > shown + 3) for a message:
 * control bytes become '?' so that a message cannot carry terminal escapes or line breaks,
 * and a cut text (also at a NUL from a quoted "\0") ends in "...". */
static void text_shown(char *out, size_t size, const char *text, size_t len, size_t shown)
{
    size_t n = 0;
    if (shown > size - 4)
        shown = size - 4;
    while (n < len && n < shown && text[n] != '\0') {
        unsigned char c = (unsigned char)text[n];
        out[n++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
    }
    if (n < len) {
        memcpy(out + n, "...", 3);
        n += 3;
    }
    out[n] = '\0';
}

/* Writes parent + "." + key (or key alone at the top) into out, cutting very long keys. */
static void path_join(char *out, size_t size, const char *parent, const char *key, size_t klen)
{
    size_t n = strnlen(parent, size - PATH_KEY_SHOWN - 5);
    memcpy(out, parent, n);
    if (n > 0)
        out[n++] = '.';
    text_shown(out + n, size - n, key, klen, PATH_KEY_SHOWN);
}

static void path_index(char *out, size_t size, const char *parent, size_t index)
{
    snprintf(out, size, "%.*s[%zu]", (int)(size - 24), parent, index);
}

/* ---- YAML 1.1 scalar resolution (go-yaml v2 resolve.go) ---- */

static bool in_list(const char *s, const char *const *list)
{
    for (; *list; list++) {
        if (strcmp(s, *list) == 0)
            return true;
    }
    return false;
}

/* Resolves a plain scalar's text with kubectl's YAML 1.1 rules (yaml11.h). CW_ENOMEM only. */
static cw_result resolve_plain(const char *s, size_t len, scalar_kind *kind)
{
    static const scalar_kind kinds[] = {
        [YAML11_STR] = SCALAR_STRING, [YAML11_NULL] = SCALAR_NULL, [YAML11_BOOL] = SCALAR_BOOL,
        [YAML11_INT] = SCALAR_INT,    [YAML11_UINT] = SCALAR_INT,  [YAML11_FLOAT] = SCALAR_FLOAT,
    };
    yaml11_value v;
    *kind = SCALAR_STRING;
    CW_GUARD(yaml11_resolve(s, len, &v, NULL));
    *kind = kinds[v.kind];
    return CW_OK;
}

static const char *kind_name(scalar_kind kind)
{
    switch (kind) {
    case SCALAR_STRING: return "a string";
    case SCALAR_NULL: return "null";
    case SCALAR_BOOL: return "a boolean";
    case SCALAR_INT: return "an integer";
    case SCALAR_FLOAT: return "a number";
    }
    return "a value";
}

/* Resolves the current scalar event. Tags were checked by check_node. */
static cw_result resolve_scalar(parse_ctx *ctx, scalar_kind *kind)
{
    const yaml_event_t *ev = &ctx->ev;
    *kind = SCALAR_STRING;
    if (ev->data.scalar.tag || ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return CW_OK;
    cw_result r = resolve_plain((const char *)ev->data.scalar.value, ev->data.scalar.length, kind);
    if (r)
        return fail_oom(ctx);
    return CW_OK;
}

/* ---- events ---- */

/* The line of a libyaml reader error, which carries a byte offset only. */
static size_t offset_line(const parse_ctx *ctx, size_t offset)
{
    size_t line = 1;
    for (size_t i = 0; i < offset && i < ctx->len; i++) {
        if (ctx->buf[i] == '\n')
            line++;
    }
    return line;
}

static cw_result next_event(parse_ctx *ctx)
{
    if (ctx->have_ev) {
        yaml_event_delete(&ctx->ev);
        ctx->have_ev = false;
    }
    if (yaml_parser_parse(&ctx->parser, &ctx->ev)) {
        ctx->have_ev = true;
        return CW_OK;
    }
    const yaml_parser_t *p = &ctx->parser;
    if (p->error == YAML_MEMORY_ERROR)
        return fail_oom(ctx);
    const char *problem = p->problem ? p->problem : "malformed YAML";
    if (p->error == YAML_READER_ERROR)
        return fail_at(ctx, offset_line(ctx, p->problem_offset), NULL, CW_EINVAL,
                       "invalid YAML: %s", problem);
    if (p->context)
        return fail_at(ctx, p->problem_mark.line + 1, NULL, CW_EINVAL,
                       "invalid YAML: %s (%s at line %zu)", problem, p->context,
                       p->context_mark.line + 1);
    return fail_at(ctx, p->problem_mark.line + 1, NULL, CW_EINVAL, "invalid YAML: %s", problem);
}

static bool tag_is(const yaml_char_t *tag, const char *name)
{
    return strncmp((const char *)tag, YAML_TAG_PREFIX, strlen(YAML_TAG_PREFIX)) == 0 &&
           strcmp((const char *)tag + strlen(YAML_TAG_PREFIX), name) == 0;
}

/* Refuses what the reader does not support on a node: anchors, aliases and tags other than
 * the ones that change nothing here (!!str, !!map, !!seq and the non-specific "!"). */
static cw_result check_node(parse_ctx *ctx, const char *path)
{
    const yaml_event_t *ev = &ctx->ev;
    const yaml_char_t *anchor = NULL;
    const yaml_char_t *tag = NULL;
    const char *expected = NULL;
    switch (ev->type) {
    case YAML_ALIAS_EVENT:
        return fail_at(ctx, event_line(ev), path, CW_EINVAL,
                       "aliases (*name) are not supported in the config file");
    case YAML_SCALAR_EVENT:
        anchor = ev->data.scalar.anchor;
        tag = ev->data.scalar.tag;
        expected = "str";
        break;
    case YAML_SEQUENCE_START_EVENT:
        anchor = ev->data.sequence_start.anchor;
        tag = ev->data.sequence_start.tag;
        expected = "seq";
        break;
    case YAML_MAPPING_START_EVENT:
        anchor = ev->data.mapping_start.anchor;
        tag = ev->data.mapping_start.tag;
        expected = "map";
        break;
    default: return CW_OK;
    }
    if (anchor)
        return fail_at(ctx, event_line(ev), path, CW_EINVAL,
                       "anchors (&name) are not supported in the config file");
    if (tag && strcmp((const char *)tag, "!") != 0 && !tag_is(tag, expected)) {
        char shown[VALUE_SHOWN + 4];
        text_shown(shown, sizeof shown, (const char *)tag, strlen((const char *)tag), VALUE_SHOWN);
        return fail_at(ctx, event_line(ev), path, CW_EINVAL,
                       "the tag \"%s\" is not supported (only !!str, !!seq and !!map)", shown);
    }
    return CW_OK;
}

static const char *node_kind_name(parse_ctx *ctx)
{
    switch (ctx->ev.type) {
    case YAML_SEQUENCE_START_EVENT: return "a list";
    case YAML_MAPPING_START_EVENT: return "a mapping";
    default: return "something else";
    }
}

/* Reads the current node as a string. *out is NULL for null (when null_ok), else borrowed
 * from the event. Numbers are accepted as their text when numbers_ok (quantities). */
static cw_result get_string(parse_ctx *ctx, const char *path, bool null_ok, bool numbers_ok,
                            const char **out)
{
    const yaml_event_t *ev = &ctx->ev;
    *out = NULL;
    if (ev->type != YAML_SCALAR_EVENT)
        return fail_at(ctx, event_line(ev), path, CW_EINVAL, "expected a string, found %s",
                       node_kind_name(ctx));
    scalar_kind kind;
    cw_result r = resolve_scalar(ctx, &kind);
    if (r)
        return r;
    if (kind == SCALAR_NULL && null_ok)
        return CW_OK;
    bool number = kind == SCALAR_INT || kind == SCALAR_FLOAT;
    if (kind == SCALAR_NULL)
        return fail_at(ctx, event_line(ev), path, CW_EINVAL, "expected a string, found null");
    if (kind != SCALAR_STRING && !(number && numbers_ok))
        return fail_at(ctx, event_line(ev), path, CW_EINVAL,
                       "expected a string, found %s (quote the value to make it a string)",
                       kind_name(kind));
    const char *s = (const char *)ev->data.scalar.value;
    if (strlen(s) != ev->data.scalar.length)
        return fail_at(ctx, event_line(ev), path, CW_EINVAL, "the string contains a NUL character");
    *out = s;
    return CW_OK;
}

/* ---- validators ---- */

static bool is_lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_alnum(char c)
{
    return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

static const char *check_namespace(const char *s)
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

/* Checked decimal parsing of all of s into [min, max]. */
static bool parse_long(const char *s, long min, long max, long *out)
{
    if (!(*s >= '0' && *s <= '9'))
        return false;
    errno = 0;
    char *end = NULL;
    long v = strtol(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return false;
    *out = v;
    return true;
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

/* [HOST]:PORT (IPv6), HOST:PORT or :PORT, with PORT 1-65535. */
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
    long v;
    if (strlen(port) > 5 || !parse_long(port, 1, 65535, &v))
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
    static const char *const suffixes[] = {"",  "Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "n", "u",
                                           "m", "k",  "M",  "G",  "T",  "P",  "E",  NULL};
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
    if (in_list(p, suffixes))
        return NULL;
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

/* An absolute path without empty, "." or ".." segments; trailing "/"s are dropped later.
 * ":" is the entry separator of SPEC §2.3, so it cannot be part of a mount path. Room is left
 * for "/<SECRET>" below it. */
static const char *check_mount_root(const char *s)
{
    static const char why[] = "not an absolute path without \"..\", \".\", \":\" or empty "
                              "segments, other than \"/\"";
    size_t len = strlen(s);
    while (len > 1 && s[len - 1] == '/')
        len--;
    if (len < 2 || s[0] != '/' || len > SEALED_PATH_MAX - SEALED_SECRET_NAME_MAX - 1 ||
        memchr(s, ':', len))
        return why;
    size_t seg = 1;
    for (size_t i = 1; i <= len; i++) {
        if (i < len && ((unsigned char)s[i] < 0x20 || s[i] == 0x7f))
            return why;
        if (i < len && s[i] != '/')
            continue;
        size_t n = i - seg;
        if (n == 0 || (n == 1 && s[seg] == '.') || (n == 2 && s[seg] == '.' && s[seg + 1] == '.'))
            return why;
        seg = i + 1;
    }
    return NULL;
}

/* ---- typed values ---- */

/* Replaces *field with the current node's string after check; null keeps the default. */
static cw_result set_string(parse_ctx *ctx, const char *path, char **field, check_fn check,
                            bool numbers_ok)
{
    const char *s;
    cw_result r = get_string(ctx, path, true, numbers_ok, &s);
    if (r || !s)
        return r;
    const char *why = check ? check(s) : NULL;
    if (why) {
        char shown[VALUE_SHOWN + 4];
        text_shown(shown, sizeof shown, s, strlen(s), VALUE_SHOWN);
        return fail_at(ctx, event_line(&ctx->ev), path, CW_EINVAL, "\"%s\" is %s", shown, why);
    }
    char *copy = strdup(s);
    if (!copy)
        return fail_oom(ctx);
    free(*field);
    *field = copy;
    return CW_OK;
}

/* Reads a list of strings into *out (replacing it) with at most max entries. Duplicates are
 * dropped when dedupe. lines, when given, receives an owned array of each entry's line. */
static cw_result read_string_list(parse_ctx *ctx, const char *path, config_strings *out, size_t max,
                                  check_fn check, bool dedupe, size_t **lines)
{
    config_strings list = {0};
    size_t *at = NULL;
    size_t nth = 0;
    char item_path[PATH_BUF];
    cw_result r = CW_OK;

    if (ctx->ev.type == YAML_SCALAR_EVENT) {
        scalar_kind kind;
        r = resolve_scalar(ctx, &kind);
        if (r || kind == SCALAR_NULL)
            return r; /* null keeps the default */
    }
    if (ctx->ev.type != YAML_SEQUENCE_START_EVENT)
        return fail_at(ctx, event_line(&ctx->ev), path, CW_EINVAL, "expected a list of strings");
    for (;;) {
        r = next_event(ctx);
        if (r)
            goto out;
        if (ctx->ev.type == YAML_SEQUENCE_END_EVENT)
            break;
        path_index(item_path, sizeof item_path, path, nth++);
        r = check_node(ctx, item_path);
        if (r)
            goto out;
        if (nth > max) {
            r = fail_at(ctx, event_line(&ctx->ev), path, CW_ELIMIT, "more than %zu entries", max);
            goto out;
        }
        const char *s;
        r = get_string(ctx, item_path, false, false, &s);
        if (r)
            goto out;
        const char *why = check ? check(s) : NULL;
        if (why) {
            char shown[VALUE_SHOWN + 4];
            text_shown(shown, sizeof shown, s, strlen(s), VALUE_SHOWN);
            r = fail_at(ctx, event_line(&ctx->ev), item_path, CW_EINVAL, "\"%s\" is %s", shown,
                        why);
            goto out;
        }
        if (dedupe && config_strings_contains(&list, s))
            continue;
        if (lines) {
            size_t *grown = realloc(at, (list.count + 1) * sizeof *grown);
            if (!grown) {
                r = fail_oom(ctx);
                goto out;
            }
            at = grown;
            at[list.count] = event_line(&ctx->ev);
        }
        if (strings_append(&list, s) != CW_OK) {
            r = fail_oom(ctx);
            goto out;
        }
    }
    strings_free(out);
    *out = list;
    list = (config_strings){0};
    if (lines) {
        *lines = at;
        at = NULL;
    }
out:
    strings_free(&list);
    free(at);
    return r;
}

/* Makes "expected one of: a, b, c" for unknown keys. */
static void known_keys(char *out, size_t size, const key_spec *keys, size_t nkeys)
{
    size_t n = 0;
    out[0] = '\0';
    for (size_t i = 0; i < nkeys; i++) {
        int w = snprintf(out + n, size - n, "%s%s", i ? ", " : "", keys[i].name);
        if (w < 0 || (size_t)w >= size - n)
            return;
        n += (size_t)w;
    }
}

/* Reads a mapping with the fixed keys of keys[]; null keeps every default. */
static cw_result read_map(parse_ctx *ctx, const char *path, const key_spec *keys, size_t nkeys)
{
    size_t seen[16] = {0}; /* line of each key's first occurrence; no map has more keys */
    char child[PATH_BUF];

    if (ctx->ev.type == YAML_SCALAR_EVENT) {
        scalar_kind kind;
        cw_result r = resolve_scalar(ctx, &kind);
        if (r || kind == SCALAR_NULL)
            return r;
    }
    if (ctx->ev.type != YAML_MAPPING_START_EVENT)
        return fail_at(ctx, event_line(&ctx->ev), path, CW_EINVAL,
                       path[0] ? "expected a mapping" : "expected a mapping of config keys");
    for (;;) {
        cw_result r = next_event(ctx);
        if (r)
            return r;
        if (ctx->ev.type == YAML_MAPPING_END_EVENT)
            return CW_OK;
        r = check_node(ctx, path);
        if (r)
            return r;
        if (ctx->ev.type != YAML_SCALAR_EVENT)
            return fail_at(ctx, event_line(&ctx->ev), path, CW_EINVAL, "expected a key, found %s",
                           node_kind_name(ctx));
        const char *key = (const char *)ctx->ev.data.scalar.value;
        size_t klen = ctx->ev.data.scalar.length;
        size_t line = event_line(&ctx->ev);
        path_join(child, sizeof child, path, key, klen);
        size_t i = 0;
        while (i < nkeys && !(strlen(keys[i].name) == klen && memcmp(keys[i].name, key, klen) == 0))
            i++;
        if (i == nkeys) {
            char names[200];
            known_keys(names, sizeof names, keys, nkeys);
            return fail_at(ctx, line, child, CW_EINVAL, "unknown key (expected one of: %s)", names);
        }
        if (seen[i])
            return fail_at(ctx, line, child, CW_EINVAL, "duplicate key (first at line %zu)",
                           seen[i]);
        seen[i] = line;
        r = next_event(ctx);
        if (r)
            return r;
        r = check_node(ctx, child);
        if (r)
            return r;
        r = keys[i].read(ctx, child);
        if (r)
            return r;
    }
}

/* ---- the keys of SPEC §5 ---- */

static cw_result read_listen(parse_ctx *ctx, const char *path)
{
    return set_string(ctx, path, &ctx->cfg->listen, check_listen, false);
}

static cw_result read_tls_cert(parse_ctx *ctx, const char *path)
{
    return set_string(ctx, path, &ctx->cfg->tls_cert, check_not_empty, false);
}

static cw_result read_tls_key(parse_ctx *ctx, const char *path)
{
    return set_string(ctx, path, &ctx->cfg->tls_key, check_not_empty, false);
}

static cw_result read_log_level(parse_ctx *ctx, const char *path)
{
    const char *s;
    cw_result r = get_string(ctx, path, true, false, &s);
    if (r || !s)
        return r;
    for (size_t i = 0; i < sizeof level_names / sizeof level_names[0]; i++) {
        if (strcmp(s, level_names[i]) == 0) {
            ctx->cfg->log_level = (log_level)i;
            return CW_OK;
        }
    }
    char shown[VALUE_SHOWN + 4];
    text_shown(shown, sizeof shown, s, strlen(s), VALUE_SHOWN);
    return fail_at(ctx, event_line(&ctx->ev), path, CW_EINVAL,
                   "\"%s\" is not a log level (debug, info, warn or error)", shown);
}

/* A string, "1.2" or "1.3": an unquoted 1.2 is a YAML number and refused like any wrong type. */
static cw_result read_tls_min_version(parse_ctx *ctx, const char *path)
{
    const char *s;
    cw_result r = get_string(ctx, path, true, false, &s);
    if (r || !s)
        return r;
    if (config_parse_tls_version(s, &ctx->cfg->tls_min_version))
        return CW_OK;
    char shown[VALUE_SHOWN + 4];
    text_shown(shown, sizeof shown, s, strlen(s), VALUE_SHOWN);
    return fail_at(ctx, event_line(&ctx->ev), path, CW_EINVAL,
                   "\"%s\" is not a TLS version (\"1.2\" or \"1.3\")", shown);
}

static cw_result read_selector_label(parse_ctx *ctx, const char *path)
{
    return set_string(ctx, path, &ctx->cfg->selector_label, check_label_key, false);
}

static cw_result read_selector(parse_ctx *ctx, const char *path)
{
    static const key_spec keys[] = {{"label", read_selector_label}};
    return read_map(ctx, path, keys, sizeof keys / sizeof keys[0]);
}

static cw_result read_exclude_namespaces(parse_ctx *ctx, const char *path)
{
    return read_string_list(ctx, path, &ctx->cfg->exclude_namespaces, CONFIG_LIST_MAX,
                            check_namespace, true, NULL);
}

static cw_result read_runtime_class_name(parse_ctx *ctx, const char *path)
{
    return set_string(ctx, path, &ctx->cfg->runtime_class, check_runtime_class, false);
}

static cw_result read_runtime_class_allowed(parse_ctx *ctx, const char *path)
{
    return read_string_list(ctx, path, &ctx->cfg->runtime_class_allowed, CONFIG_LIST_MAX,
                            check_runtime_class, true, NULL);
}

static cw_result read_runtime_class(parse_ctx *ctx, const char *path)
{
    static const key_spec keys[] = {
        {"name", read_runtime_class_name},
        {"allowed", read_runtime_class_allowed},
    };
    return read_map(ctx, path, keys, sizeof keys / sizeof keys[0]);
}

static cw_result read_replace_pvs(parse_ctx *ctx, const char *path)
{
    const yaml_event_t *ev = &ctx->ev;
    scalar_kind kind = SCALAR_STRING;
    if (ev->type == YAML_SCALAR_EVENT) {
        cw_result r = resolve_scalar(ctx, &kind);
        if (r || kind == SCALAR_NULL)
            return r;
    }
    if (kind != SCALAR_BOOL)
        return fail_at(ctx, event_line(ev), path, CW_EINVAL, "expected a boolean (true or false)");
    /* The YAML 1.1 booleans that mean true start with y, t or o followed by n. */
    const char *s = (const char *)ev->data.scalar.value;
    char c = s[0];
    ctx->cfg->replace_persistent_volumes = c == 'y' || c == 'Y' || c == 't' || c == 'T' ||
                                           ((c == 'o' || c == 'O') && (s[1] == 'n' || s[1] == 'N'));
    return CW_OK;
}

static cw_result read_size_limit(parse_ctx *ctx, const char *path)
{
    /* A plain 1000000000 is a number to YAML but a fine quantity, as kubectl takes it. */
    return set_string(ctx, path, &ctx->cfg->empty_dir_size_limit, check_quantity, true);
}

static cw_result read_medium(parse_ctx *ctx, const char *path)
{
    return set_string(ctx, path, &ctx->cfg->empty_dir_medium, check_medium, false);
}

static cw_result read_empty_dir(parse_ctx *ctx, const char *path)
{
    static const key_spec keys[] = {
        {"sizeLimit", read_size_limit},
        {"medium", read_medium},
    };
    return read_map(ctx, path, keys, sizeof keys / sizeof keys[0]);
}

static cw_result read_storage(parse_ctx *ctx, const char *path)
{
    static const key_spec keys[] = {
        {"replacePersistentVolumes", read_replace_pvs},
        {"emptyDir", read_empty_dir},
    };
    return read_map(ctx, path, keys, sizeof keys / sizeof keys[0]);
}

static cw_result read_mount_root(parse_ctx *ctx, const char *path)
{
    cw_result r = set_string(ctx, path, &ctx->cfg->sealed_mount_root, check_mount_root, false);
    if (r)
        return r;
    char *root = ctx->cfg->sealed_mount_root;
    size_t len = strlen(root);
    while (len > 1 && root[len - 1] == '/')
        root[--len] = '\0';
    return CW_OK;
}

/* Grows the namespace arrays by one empty slot. */
static cw_result sealed_add_namespace(parse_ctx *ctx, const char *ns)
{
    config *cfg = ctx->cfg;
    size_t n = cfg->sealed_namespaces_count;
    config_namespace_secrets *grown = realloc(cfg->sealed_namespaces, (n + 1) * sizeof *grown);
    if (!grown)
        return CW_ENOMEM;
    cfg->sealed_namespaces = grown;
    size_t **lines = realloc(ctx->sealed_lines, (n + 1) * sizeof *lines);
    if (!lines)
        return CW_ENOMEM;
    ctx->sealed_lines = lines;
    char *copy = strdup(ns);
    if (!copy)
        return CW_ENOMEM;
    grown[n] = (config_namespace_secrets){.namespace = copy};
    lines[n] = NULL;
    cfg->sealed_namespaces_count = n + 1;
    return CW_OK;
}

static cw_result read_sealed_namespaces(parse_ctx *ctx, const char *path)
{
    config *cfg = ctx->cfg;
    char child[PATH_BUF];

    if (ctx->ev.type == YAML_SCALAR_EVENT) {
        scalar_kind kind;
        cw_result r = resolve_scalar(ctx, &kind);
        if (r || kind == SCALAR_NULL)
            return r;
    }
    if (ctx->ev.type != YAML_MAPPING_START_EVENT)
        return fail_at(ctx, event_line(&ctx->ev), path, CW_EINVAL,
                       "expected a mapping of namespace names to lists of entries");
    for (;;) {
        cw_result r = next_event(ctx);
        if (r)
            return r;
        if (ctx->ev.type == YAML_MAPPING_END_EVENT)
            return CW_OK;
        r = check_node(ctx, path);
        if (r)
            return r;
        if (ctx->ev.type != YAML_SCALAR_EVENT)
            return fail_at(ctx, event_line(&ctx->ev), path, CW_EINVAL,
                           "expected a namespace name, found %s", node_kind_name(ctx));
        size_t line = event_line(&ctx->ev);
        path_join(child, sizeof child, path, (const char *)ctx->ev.data.scalar.value,
                  ctx->ev.data.scalar.length);
        const char *ns;
        r = get_string(ctx, child, false, false, &ns);
        if (r)
            return r;
        const char *why = check_namespace(ns);
        if (why)
            return fail_at(ctx, line, child, CW_EINVAL, "%s", why);
        for (size_t i = 0; i < cfg->sealed_namespaces_count; i++) {
            if (strcmp(cfg->sealed_namespaces[i].namespace, ns) == 0)
                return fail_at(ctx, line, child, CW_EINVAL, "duplicate key");
        }
        if (cfg->sealed_namespaces_count >= CONFIG_LIST_MAX)
            return fail_at(ctx, line, path, CW_ELIMIT, "more than %d namespaces", CONFIG_LIST_MAX);
        if (sealed_add_namespace(ctx, ns) != CW_OK)
            return fail_oom(ctx);
        size_t last = cfg->sealed_namespaces_count - 1;
        r = next_event(ctx);
        if (r)
            return r;
        r = check_node(ctx, child);
        if (r)
            return r;
        r = read_string_list(ctx, child, &cfg->sealed_namespaces[last].entries, SEALED_ENTRIES_MAX,
                             NULL, false, &ctx->sealed_lines[last]);
        if (r)
            return r;
    }
}

/* Checks every namespace's entries as the engine will parse them, with the final mount
 * root, so that a bad entry fails the load instead of every admission in that namespace. */
static cw_result check_sealed_entries(parse_ctx *ctx)
{
    const config *cfg = ctx->cfg;
    if (cfg->sealed_namespaces_count == 0)
        return CW_OK;
    sealed_entry *parsed = calloc(SEALED_ENTRIES_MAX, sizeof *parsed);
    if (!parsed)
        return fail_oom(ctx);
    cw_result r = CW_OK;
    char path[PATH_BUF];
    char key[PATH_BUF];
    for (size_t i = 0; i < cfg->sealed_namespaces_count && !r; i++) {
        const config_namespace_secrets *ns = &cfg->sealed_namespaces[i];
        size_t count = 0;
        path_join(key, sizeof key, "sealedSecrets.namespaces", ns->namespace,
                  strlen(ns->namespace));
        for (size_t j = 0; j < ns->entries.count; j++) {
            const char *entry = ns->entries.items[j];
            size_t line = ctx->sealed_lines[i][j];
            path_index(path, sizeof path, key, j);
            if (strchr(entry, ',')) {
                char shown[VALUE_SHOWN + 4];
                text_shown(shown, sizeof shown, entry, strlen(entry), VALUE_SHOWN);
                r = fail_at(ctx, line, path, CW_EINVAL,
                            "\"%s\" holds more than one entry: write one entry per list item",
                            shown);
                break;
            }
            if (entry[strspn(entry, " \t")] == '\0') {
                r = fail_at(ctx, line, path, CW_EINVAL, "empty entry");
                break;
            }
            cw_error e = {{0}};
            r = sealed_entries_parse(entry, cfg->sealed_mount_root, parsed, SEALED_ENTRIES_MAX,
                                     &count, &e);
            if (r) {
                r = fail_at(ctx, line, path, r, "%s", e.msg);
                break;
            }
        }
    }
    free(parsed);
    return r;
}

static cw_result read_sealed_secrets(parse_ctx *ctx, const char *path)
{
    static const key_spec keys[] = {
        {"mountRoot", read_mount_root},
        {"namespaces", read_sealed_namespaces},
    };
    cw_result r = read_map(ctx, path, keys, sizeof keys / sizeof keys[0]);
    if (r)
        return r;
    return check_sealed_entries(ctx);
}

/* ---- initdata ---- */

static const char *check_initdata_annotation(const char *s)
{
    if (strcmp(s, INITDATA_ANN_HYPERVISOR) == 0 || strcmp(s, INITDATA_ANN_RUNTIME) == 0)
        return NULL;
    return "not an initdata annotation key (" INITDATA_ANN_HYPERVISOR
           " or, before kata 3.20, " INITDATA_ANN_RUNTIME ")";
}

static cw_result read_initdata_annotation(parse_ctx *ctx, const char *path)
{
    return set_string(ctx, path, &ctx->cfg->initdata_annotation, check_initdata_annotation, false);
}

static const char *check_document_name(const char *s)
{
    return k8s_is_dns_label(s, strlen(s)) ? NULL
                                          : "not a valid document name (an RFC 1123 label: "
                                            "lowercase letters, digits and '-')";
}

/* Reads a mapping key as a string that passes check; *key is borrowed from the event. */
static cw_result map_key(parse_ctx *ctx, const char *path, check_fn check, char *child,
                         size_t child_size, const char **key)
{
    cw_result r = check_node(ctx, path);
    if (r)
        return r;
    if (ctx->ev.type != YAML_SCALAR_EVENT)
        return fail_at(ctx, event_line(&ctx->ev), path, CW_EINVAL, "expected a name, found %s",
                       node_kind_name(ctx));
    path_join(child, child_size, path, (const char *)ctx->ev.data.scalar.value,
              ctx->ev.data.scalar.length);
    r = get_string(ctx, child, false, false, key);
    if (r)
        return r;
    const char *why = check(*key);
    if (why)
        return fail_at(ctx, event_line(&ctx->ev), child, CW_EINVAL, "%s", why);
    return CW_OK;
}

/* Returns true for null (keep the default), else requires a mapping. */
static cw_result map_start(parse_ctx *ctx, const char *path, const char *what, bool *is_null)
{
    *is_null = false;
    if (ctx->ev.type == YAML_SCALAR_EVENT) {
        scalar_kind kind;
        cw_result r = resolve_scalar(ctx, &kind);
        if (r)
            return r;
        if (kind == SCALAR_NULL) {
            *is_null = true;
            return CW_OK;
        }
    }
    if (ctx->ev.type != YAML_MAPPING_START_EVENT)
        return fail_at(ctx, event_line(&ctx->ev), path, CW_EINVAL, "expected a mapping of %s",
                       what);
    return CW_OK;
}

/* path joined to dir unless it is absolute. Returns owned, or NULL when out of memory. */
static char *resolve_path(const char *dir, const char *path)
{
    if (path[0] == '/' || !dir || !dir[0])
        return strdup(path);
    size_t n = strlen(dir) + 1 + strlen(path) + 1;
    char *out = malloc(n);
    if (out)
        snprintf(out, n, "%s/%s", dir, path);
    return out;
}

static cw_result read_initdata_documents(parse_ctx *ctx, const char *path)
{
    config *cfg = ctx->cfg;
    char child[PATH_BUF];
    bool is_null;
    cw_result r = map_start(ctx, path, "document names to file paths", &is_null);
    if (r || is_null)
        return r;
    for (;;) {
        r = next_event(ctx);
        if (r)
            return r;
        if (ctx->ev.type == YAML_MAPPING_END_EVENT)
            return CW_OK;
        size_t line = event_line(&ctx->ev);
        const char *name;
        r = map_key(ctx, path, check_document_name, child, sizeof child, &name);
        if (r)
            return r;
        if (config_initdata_document_named(cfg, name))
            return fail_at(ctx, line, child, CW_EINVAL, "duplicate key");
        size_t n = cfg->initdata_documents_count;
        if (n >= CONFIG_LIST_MAX)
            return fail_at(ctx, line, path, CW_ELIMIT, "more than %d documents", CONFIG_LIST_MAX);
        config_initdata_document *grown = realloc(cfg->initdata_documents, (n + 1) * sizeof *grown);
        if (!grown)
            return fail_oom(ctx);
        cfg->initdata_documents = grown;
        size_t *lines = realloc(ctx->doc_lines, (n + 1) * sizeof *lines);
        if (!lines)
            return fail_oom(ctx);
        ctx->doc_lines = lines;
        grown[n] = (config_initdata_document){.name = strdup(name)};
        lines[n] = line;
        cfg->initdata_documents_count = n + 1;
        if (!grown[n].name)
            return fail_oom(ctx);
        r = next_event(ctx);
        if (r)
            return r;
        r = check_node(ctx, child);
        if (r)
            return r;
        const char *file;
        r = get_string(ctx, child, false, false, &file);
        if (r)
            return r;
        if (!file[0])
            return fail_at(ctx, event_line(&ctx->ev), child, CW_EINVAL,
                           "expected the path of a document file, found an empty string");
        grown[n].doc.path = resolve_path(ctx->base_dir, file);
        if (!grown[n].doc.path)
            return fail_oom(ctx);
    }
}

/* Keeps the document name of the current namespace entry (checked once all are read). */
static cw_result set_ns_document(parse_ctx *ctx, const char *path)
{
    const char *name;
    cw_result r = get_string(ctx, path, false, false, &name);
    if (r)
        return r;
    const char *why = check_document_name(name);
    if (why)
        return fail_at(ctx, event_line(&ctx->ev), path, CW_EINVAL, "%s", why);
    char *copy = strdup(name);
    if (!copy)
        return fail_oom(ctx);
    free(ctx->ns_doc_names[ctx->ns_current]);
    ctx->ns_doc_names[ctx->ns_current] = copy;
    return CW_OK;
}

static cw_result read_ns_enforce(parse_ctx *ctx, const char *path)
{
    const yaml_event_t *ev = &ctx->ev;
    scalar_kind kind = SCALAR_STRING;
    if (ev->type == YAML_SCALAR_EVENT) {
        cw_result r = resolve_scalar(ctx, &kind);
        if (r)
            return r;
    }
    if (kind != SCALAR_BOOL)
        return fail_at(ctx, event_line(ev), path, CW_EINVAL, "expected a boolean (true or false)");
    const char *s = (const char *)ev->data.scalar.value;
    char c = s[0];
    ctx->cfg->initdata_namespaces[ctx->ns_current].enforce =
        c == 'y' || c == 'Y' || c == 't' || c == 'T' ||
        ((c == 'o' || c == 'O') && (s[1] == 'n' || s[1] == 'N'));
    return CW_OK;
}

static cw_result read_initdata_namespaces(parse_ctx *ctx, const char *path)
{
    static const key_spec keys[] = {
        {"document", set_ns_document},
        {"enforce", read_ns_enforce},
    };
    config *cfg = ctx->cfg;
    char child[PATH_BUF];
    bool is_null;
    cw_result r = map_start(ctx, path, "namespace names to document names", &is_null);
    if (r || is_null)
        return r;
    for (;;) {
        r = next_event(ctx);
        if (r)
            return r;
        if (ctx->ev.type == YAML_MAPPING_END_EVENT)
            return CW_OK;
        size_t line = event_line(&ctx->ev);
        const char *ns;
        r = map_key(ctx, path, check_namespace, child, sizeof child, &ns);
        if (r)
            return r;
        if (config_initdata_namespace_of(cfg, ns))
            return fail_at(ctx, line, child, CW_EINVAL, "duplicate key");
        size_t n = cfg->initdata_namespaces_count;
        if (n >= CONFIG_LIST_MAX)
            return fail_at(ctx, line, path, CW_ELIMIT, "more than %d namespaces", CONFIG_LIST_MAX);
        config_initdata_namespace *grown =
            realloc(cfg->initdata_namespaces, (n + 1) * sizeof *grown);
        if (!grown)
            return fail_oom(ctx);
        cfg->initdata_namespaces = grown;
        char **names = realloc(ctx->ns_doc_names, (n + 1) * sizeof *names);
        if (!names)
            return fail_oom(ctx);
        ctx->ns_doc_names = names;
        size_t *lines = realloc(ctx->ns_lines, (n + 1) * sizeof *lines);
        if (!lines)
            return fail_oom(ctx);
        ctx->ns_lines = lines;
        grown[n] = (config_initdata_namespace){.namespace = strdup(ns)};
        names[n] = NULL;
        lines[n] = line;
        cfg->initdata_namespaces_count = n + 1;
        if (!grown[n].namespace)
            return fail_oom(ctx);
        ctx->ns_current = n;
        r = next_event(ctx);
        if (r)
            return r;
        r = check_node(ctx, child);
        if (r)
            return r;
        if (ctx->ev.type == YAML_MAPPING_START_EVENT) {
            r = read_map(ctx, child, keys, sizeof keys / sizeof keys[0]);
            if (r)
                return r;
            if (!names[n])
                return fail_at(ctx, line, child, CW_EINVAL,
                               "expected a document name, or {document: NAME, enforce: true}");
            continue;
        }
        if (ctx->ev.type != YAML_SCALAR_EVENT)
            return fail_at(ctx, event_line(&ctx->ev), child, CW_EINVAL,
                           "expected a document name, or {document: NAME, enforce: true}");
        r = set_ns_document(ctx, child);
        if (r)
            return r;
    }
}

static cw_result read_initdata_default(parse_ctx *ctx, const char *path)
{
    const char *name;
    cw_result r = get_string(ctx, path, true, false, &name);
    if (r)
        return r;
    free(ctx->default_name);
    ctx->default_name = NULL;
    if (!name || !name[0])
        return CW_OK;
    const char *why = check_document_name(name);
    if (why)
        return fail_at(ctx, event_line(&ctx->ev), path, CW_EINVAL, "%s", why);
    ctx->default_name = strdup(name);
    ctx->default_line = event_line(&ctx->ev);
    return ctx->default_name ? CW_OK : fail_oom(ctx);
}

static cw_result read_initdata(parse_ctx *ctx, const char *path)
{
    static const key_spec keys[] = {
        {"annotation", read_initdata_annotation},
        {"documents", read_initdata_documents},
        {"namespaces", read_initdata_namespaces},
        {"default", read_initdata_default},
    };
    return read_map(ctx, path, keys, sizeof keys / sizeof keys[0]);
}

/* "a, b, c": the listed documents, for messages. */
static void document_names(const config *cfg, char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = '\0';
    if (cfg->initdata_documents_count == 0) {
        snprintf(buf, cap, "none");
        return;
    }
    for (size_t i = 0; i < cfg->initdata_documents_count; i++) {
        const char *name = cfg->initdata_documents[i].name;
        if (len + strlen(name) + 7 >= cap) {
            snprintf(buf + len, cap - len, ", ...");
            return;
        }
        len += (size_t)snprintf(buf + len, cap - len, "%s%s", i ? ", " : "", name);
    }
}

/* Loads every document and links the namespaces and the default to theirs. */
static cw_result resolve_initdata(parse_ctx *ctx)
{
    config *cfg = ctx->cfg;
    char key[PATH_BUF];
    char names[200];
    for (size_t i = 0; ctx->watch && i < cfg->initdata_documents_count; i++) {
        if (strings_append(ctx->watch, cfg->initdata_documents[i].doc.path) != CW_OK)
            return fail_oom(ctx);
    }
    for (size_t i = 0; i < cfg->initdata_documents_count; i++) {
        config_initdata_document *d = &cfg->initdata_documents[i];
        char *file = d->doc.path;
        d->doc.path = NULL;
        cw_error e = {{0}};
        cw_result r = initdata_doc_load(file, &d->doc, &e);
        free(file);
        if (r) {
            path_join(key, sizeof key, "initdata.documents", d->name, strlen(d->name));
            return fail_at(ctx, ctx->doc_lines[i], key, r, "%s", e.msg);
        }
    }
    document_names(cfg, names, sizeof names);
    for (size_t i = 0; i < cfg->initdata_namespaces_count; i++) {
        config_initdata_namespace *ns = &cfg->initdata_namespaces[i];
        ns->document = config_initdata_document_named(cfg, ctx->ns_doc_names[i]);
        if (!ns->document) {
            path_join(key, sizeof key, "initdata.namespaces", ns->namespace, strlen(ns->namespace));
            return fail_at(ctx, ctx->ns_lines[i], key, CW_EINVAL,
                           "document \"%s\" is not in initdata.documents (listed: %s)",
                           ctx->ns_doc_names[i], names);
        }
    }
    if (ctx->default_name) {
        cfg->initdata_default = config_initdata_document_named(cfg, ctx->default_name);
        if (!cfg->initdata_default)
            return fail_at(ctx, ctx->default_line, "initdata.default", CW_EINVAL,
                           "document \"%s\" is not in initdata.documents (listed: %s)",
                           ctx->default_name, names);
    }
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
};

/* The whole stream is well-formed YAML: a mis-indented line gets YAML's own error, not a
 * value error about the scalar that libyaml hands out before it reaches the bad line. */
static cw_result check_syntax(parse_ctx *ctx)
{
    cw_result r;
    do {
        r = next_event(ctx);
    } while (!r && ctx->ev.type != YAML_STREAM_END_EVENT);
    return r;
}

/* One optional document whose root is a mapping (or null: all defaults). */
static cw_result read_stream(parse_ctx *ctx)
{
    cw_result r = next_event(ctx);
    if (r)
        return r;
    if (ctx->ev.type != YAML_STREAM_START_EVENT)
        return fail_at(ctx, 1, NULL, CW_EINVAL, "invalid YAML: no stream start");
    r = next_event(ctx);
    if (r || ctx->ev.type == YAML_STREAM_END_EVENT)
        return r; /* an empty file: every default */
    if (ctx->ev.type != YAML_DOCUMENT_START_EVENT)
        return fail_at(ctx, event_line(&ctx->ev), NULL, CW_EINVAL, "invalid YAML: no document");
    r = next_event(ctx);
    if (r)
        return r;
    r = check_node(ctx, "");
    if (r)
        return r;
    r = read_map(ctx, "", root_keys, sizeof root_keys / sizeof root_keys[0]);
    if (r)
        return r;
    r = next_event(ctx);
    if (r)
        return r;
    if (ctx->ev.type != YAML_DOCUMENT_END_EVENT)
        return fail_at(ctx, event_line(&ctx->ev), NULL, CW_EINVAL, "invalid YAML: no document end");
    r = next_event(ctx);
    if (r)
        return r;
    if (ctx->ev.type == YAML_DOCUMENT_START_EVENT)
        return fail_at(ctx, event_line(&ctx->ev), NULL, CW_EINVAL,
                       "a second YAML document: the config file holds exactly one");
    if (ctx->ev.type != YAML_STREAM_END_EVENT)
        return fail_at(ctx, event_line(&ctx->ev), NULL, CW_EINVAL, "invalid YAML: no stream end");
    return CW_OK;
}

/* ---- public ---- */

config *config_new_default(void)
{
    config *cfg = calloc(1, sizeof *cfg);
    if (!cfg)
        return NULL;
    cfg->log_level = LOG_LEVEL_INFO;
    cfg->tls_min_version = CONFIG_TLS_1_2;
    cfg->replace_persistent_volumes = true;
    cfg->listen = strdup(":8443");
    cfg->tls_cert = strdup("/etc/coco-webhook/tls/tls.crt");
    cfg->tls_key = strdup("/etc/coco-webhook/tls/tls.key");
    cfg->selector_label = strdup("coco.confidentialcontainers.org/enabled");
    cfg->runtime_class = strdup("kata-remote");
    cfg->sealed_mount_root = strdup("/sealed");
    cfg->initdata_annotation = strdup(INITDATA_ANN_HYPERVISOR);
    if (!cfg->listen || !cfg->tls_cert || !cfg->tls_key || !cfg->selector_label ||
        !cfg->runtime_class || !cfg->sealed_mount_root || !cfg->initdata_annotation)
        goto fail;
    for (size_t i = 0; i < sizeof default_excluded / sizeof default_excluded[0]; i++) {
        if (strings_append(&cfg->exclude_namespaces, default_excluded[i]) != CW_OK)
            goto fail;
    }
    if (strings_append(&cfg->runtime_class_allowed, "kata-remote") != CW_OK)
        goto fail;
    return cfg;
fail:
    config_free(cfg);
    return NULL;
}

static cw_result parse_config(const char *name, const char *buf, size_t len, const char *base_dir,
                              config_strings *watch, config **out, cw_error *err)
{
    *out = NULL;
    if (!name)
        name = "config";
    if (len > CONFIG_FILE_MAX)
        return cw_fail(err, CW_ELIMIT, "%s: the file is larger than %d bytes", name,
                       CONFIG_FILE_MAX);
    parse_ctx ctx = {.name = name,
                     .buf = buf ? buf : "",
                     .len = len,
                     .err = err,
                     .base_dir = base_dir,
                     .watch = watch};
    ctx.cfg = config_new_default();
    if (!ctx.cfg)
        return cw_fail(err, CW_ENOMEM, "%s: out of memory", name);
    if (!yaml_parser_initialize(&ctx.parser)) {
        config_free(ctx.cfg);
        return cw_fail(err, CW_ENOMEM, "%s: out of memory", name);
    }
    yaml_parser_set_input_string(&ctx.parser, (const unsigned char *)ctx.buf, len);

    cw_result r = check_syntax(&ctx);
    if (!r) {
        if (ctx.have_ev)
            yaml_event_delete(&ctx.ev);
        ctx.have_ev = false;
        yaml_parser_delete(&ctx.parser);
        if (!yaml_parser_initialize(&ctx.parser)) {
            config_free(ctx.cfg);
            return cw_fail(err, CW_ENOMEM, "%s: out of memory", name);
        }
        yaml_parser_set_input_string(&ctx.parser, (const unsigned char *)ctx.buf, len);
        r = read_stream(&ctx);
    }
    /* SPEC §5: the class the webhook sets is always one that it leaves alone. */
    if (!r && !config_strings_contains(&ctx.cfg->runtime_class_allowed, ctx.cfg->runtime_class) &&
        strings_append(&ctx.cfg->runtime_class_allowed, ctx.cfg->runtime_class) != CW_OK)
        r = fail_oom(&ctx);
    if (!r)
        r = resolve_initdata(&ctx);

    if (ctx.have_ev)
        yaml_event_delete(&ctx.ev);
    yaml_parser_delete(&ctx.parser);
    if (ctx.sealed_lines) {
        for (size_t i = 0; i < ctx.cfg->sealed_namespaces_count; i++)
            free(ctx.sealed_lines[i]);
        free(ctx.sealed_lines);
    }
    for (size_t i = 0; ctx.ns_doc_names && i < ctx.cfg->initdata_namespaces_count; i++)
        free(ctx.ns_doc_names[i]);
    free(ctx.ns_doc_names);
    free(ctx.ns_lines);
    free(ctx.doc_lines);
    free(ctx.default_name);
    if (r) {
        config_free(ctx.cfg);
        return r;
    }
    *out = ctx.cfg;
    return CW_OK;
}

cw_result config_parse_result(const char *name, const char *buf, size_t len, config **out,
                              cw_error *err)
{
    return parse_config(name, buf, len, NULL, NULL, out, err);
}

config *config_parse(const char *name, const char *buf, size_t len, cw_error *err)
{
    config *cfg;
    config_parse_result(name, buf, len, &cfg, err);
    return cfg;
}

config *config_load(const char *path, cw_error *err)
{
    return config_load_watch(path, NULL, err);
}

config *config_load_watch(const char *path, config_strings *documents, cw_error *err)
{
    char ebuf[128];
    char *dir = NULL;
    config_strings watch = {0};
    char *buf = NULL;
    config *cfg = NULL;
    FILE *f = fopen(path, "rbe");
    if (!f) {
        cw_fail(err, CW_EIO, "%s: cannot open: %s", path, strerror_r(errno, ebuf, sizeof ebuf));
        return NULL;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0) {
        cw_fail(err, CW_EIO, "%s: cannot stat: %s", path, strerror_r(errno, ebuf, sizeof ebuf));
        goto out;
    }
    if (S_ISDIR(st.st_mode)) {
        cw_fail(err, CW_EIO, "%s: is a directory", path);
        goto out;
    }
    /* Refuse before reading; the read is bounded too, as the file may grow meanwhile. */
    if (S_ISREG(st.st_mode) && st.st_size > CONFIG_FILE_MAX) {
        cw_fail(err, CW_ELIMIT, "%s: the file is larger than %d bytes", path, CONFIG_FILE_MAX);
        goto out;
    }
    size_t cap = S_ISREG(st.st_mode) ? (size_t)st.st_size + 1 : CONFIG_FILE_MAX + 1;
    buf = malloc(cap);
    if (!buf) {
        cw_fail(err, CW_ENOMEM, "%s: out of memory", path);
        goto out;
    }
    size_t len = 0;
    for (;;) {
        if (len == cap) {
            if (cap > CONFIG_FILE_MAX) {
                cw_fail(err, CW_ELIMIT, "%s: the file is larger than %d bytes", path,
                        CONFIG_FILE_MAX);
                goto out;
            }
            char *grown = realloc(buf, CONFIG_FILE_MAX + 1);
            if (!grown) {
                cw_fail(err, CW_ENOMEM, "%s: out of memory", path);
                goto out;
            }
            buf = grown;
            cap = CONFIG_FILE_MAX + 1;
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        if (n == 0)
            break;
        len += n;
    }
    if (ferror(f)) {
        cw_fail(err, CW_EIO, "%s: cannot read: %s", path, strerror_r(errno, ebuf, sizeof ebuf));
        goto out;
    }
    const char *slash = strrchr(path, '/');
    if (slash) {
        dir = strndup(path, slash == path ? 1 : (size_t)(slash - path));
        if (!dir) {
            cw_fail(err, CW_ENOMEM, "%s: out of memory", path);
            goto out;
        }
    }
    parse_config(path, buf, len, dir, &watch, &cfg, err);
out:
    if (documents) {
        strings_free(documents);
        *documents = watch;
    } else {
        strings_free(&watch);
    }
    free(dir);
    free(buf);
    fclose(f);
    return cfg;
}

cw_result config_exclude_namespace(config *cfg, const char *ns, cw_error *err)
{
    if (!cfg || !ns || !k8s_is_dns_label(ns, strlen(ns))) {
        char shown[VALUE_SHOWN + 4];
        text_shown(shown, sizeof shown, ns ? ns : "", ns ? strlen(ns) : 0, VALUE_SHOWN);
        return cw_fail(err, CW_EINVAL, "namespace \"%s\": %s", shown,
                       "not a valid namespace name (an RFC 1123 label)");
    }
    if (config_strings_contains(&cfg->exclude_namespaces, ns))
        return CW_OK;
    if (strings_append(&cfg->exclude_namespaces, ns) != CW_OK)
        return cw_fail(err, CW_ENOMEM, "out of memory");
    return CW_OK;
}

const config_strings *config_sealed_entries(const config *cfg, const char *ns)
{
    if (!cfg || !ns)
        return NULL;
    for (size_t i = 0; i < cfg->sealed_namespaces_count; i++) {
        if (strcmp(cfg->sealed_namespaces[i].namespace, ns) == 0)
            return &cfg->sealed_namespaces[i].entries;
    }
    return NULL;
}

const config_initdata_document *config_initdata_document_named(const config *cfg, const char *name)
{
    if (!cfg || !name)
        return NULL;
    for (size_t i = 0; i < cfg->initdata_documents_count; i++) {
        if (cfg->initdata_documents[i].name && strcmp(cfg->initdata_documents[i].name, name) == 0)
            return &cfg->initdata_documents[i];
    }
    return NULL;
}

const config_initdata_namespace *config_initdata_namespace_of(const config *cfg, const char *ns)
{
    if (!cfg || !ns)
        return NULL;
    for (size_t i = 0; i < cfg->initdata_namespaces_count; i++) {
        if (cfg->initdata_namespaces[i].namespace &&
            strcmp(cfg->initdata_namespaces[i].namespace, ns) == 0)
            return &cfg->initdata_namespaces[i];
    }
    return NULL;
}

void config_strings_clear(config_strings *list)
{
    strings_free(list);
}

const char *config_tls_version_name(config_tls_version v)
{
    return (size_t)v < sizeof tls_version_names / sizeof tls_version_names[0] ? tls_version_names[v]
                                                                              : "?";
}

bool config_parse_tls_version(const char *s, config_tls_version *out)
{
    for (size_t i = 0; i < sizeof tls_version_names / sizeof tls_version_names[0]; i++) {
        if (strcmp(s, tls_version_names[i]) == 0) {
            *out = (config_tls_version)i;
            return true;
        }
    }
    return false;
}

const char *config_log_level_name(log_level level)
{
    if ((size_t)level < sizeof level_names / sizeof level_names[0])
        return level_names[level];
    return "unknown";
}

void config_free(config *cfg)
{
    if (!cfg)
        return;
    free(cfg->listen);
    free(cfg->tls_cert);
    free(cfg->tls_key);
    free(cfg->selector_label);
    strings_free(&cfg->exclude_namespaces);
    free(cfg->runtime_class);
    strings_free(&cfg->runtime_class_allowed);
    free(cfg->empty_dir_size_limit);
    free(cfg->empty_dir_medium);
    free(cfg->sealed_mount_root);
    for (size_t i = 0; i < cfg->sealed_namespaces_count; i++) {
        free(cfg->sealed_namespaces[i].namespace);
        strings_free(&cfg->sealed_namespaces[i].entries);
    }
    free(cfg->sealed_namespaces);
    free(cfg->initdata_annotation);
    for (size_t i = 0; i < cfg->initdata_documents_count; i++) {
        free(cfg->initdata_documents[i].name);
        initdata_doc_clear(&cfg->initdata_documents[i].doc);
    }
    free(cfg->initdata_documents);
    for (size_t i = 0; i < cfg->initdata_namespaces_count; i++)
        free(cfg->initdata_namespaces[i].namespace);
    free(cfg->initdata_namespaces);
    free(cfg);
}
