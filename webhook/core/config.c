/* config: the SPEC §5 YAML file read over the defaults. See config.h.
 *
 * The reader walks libyaml's event stream against the fixed shape of the file instead of
 * building a document tree: it stops at the first node that does not fit, so nesting depth
 * is bounded by the shape, and anchors and aliases (the billion-laughs hazard) are refused
 * outright. Plain scalars are resolved with the YAML 1.1 rules kubectl uses (go-yaml v2),
 * so that `yes` or `8443` is not mistaken for a string. This file holds the walk, the typed
 * values and loading; the keys are read in config_keys.c, config_sealed.c and
 * config_initdata.c (config_reader.h), the config value itself lives in config_defaults.c. */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "config_reader.h"
#include "fileread.h"
#include "yaml11.h"

#define YAML_TAG_PREFIX "tag:yaml.org,2002:"

/* What a scalar resolves to under YAML 1.1 (go-yaml v2, as kubectl reads it). */
typedef enum scalar_kind {
    SCALAR_STRING,
    SCALAR_NULL,
    SCALAR_BOOL,
    SCALAR_INT,
    SCALAR_FLOAT,
} scalar_kind;

/* ---- messages ---- */

size_t event_line(const yaml_event_t *ev)
{
    return ev->start_mark.line + 1;
}

cw_result fail_at(parse_ctx *ctx, size_t line, const char *path, cw_result code, const char *fmt,
                  ...)
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

CW_MUST_USE static cw_result fail_oom(parse_ctx *ctx)
{
    return CW_FAIL_NOMEM(ctx->err);
}

/* Control bytes become '?' so that a message cannot carry terminal escapes or line breaks,
 * and a cut text (also at a NUL from a quoted "\0") ends in "...". */
void text_shown(char *out, size_t size, const char *text, size_t len, size_t shown)
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

cw_result fail_value(parse_ctx *ctx, const char *path, const char *value, const char *why)
{
    char shown[VALUE_SHOWN + 4];
    text_shown(shown, sizeof shown, value, strlen(value), VALUE_SHOWN);
    return fail_at(ctx, event_line(&ctx->ev), path, CW_EINVAL, "\"%s\" is %s", shown, why);
}

/* Cuts very long keys. */
void path_join(char *out, size_t size, const char *parent, const char *key, size_t klen)
{
    size_t n = strnlen(parent, size - PATH_KEY_SHOWN - 5);
    memcpy(out, parent, n);
    if (n > 0)
        out[n++] = '.';
    text_shown(out + n, size - n, key, klen, PATH_KEY_SHOWN);
}

void path_index(char *out, size_t size, const char *parent, size_t index)
{
    snprintf(out, size, "%.*s[%zu]", (int)(size - 24), parent, index);
}

/* ---- YAML 1.1 scalar resolution (go-yaml v2 resolve.go) ---- */

/* Resolves a plain scalar's text with kubectl's YAML 1.1 rules (yaml11.h). CW_ENOMEM only. */
CW_MUST_USE static cw_result resolve_plain(const char *s, size_t len, scalar_kind *kind)
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
CW_MUST_USE static cw_result resolve_scalar(parse_ctx *ctx, scalar_kind *kind)
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

cw_result next_event(parse_ctx *ctx)
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

/* Tags other than !!str, !!map, !!seq and the non-specific "!" would change what a node
 * means, and anchors and aliases are the billion-laughs hazard: all are refused. */
cw_result check_node(parse_ctx *ctx, const char *path)
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

const char *node_kind_name(const parse_ctx *ctx)
{
    switch (ctx->ev.type) {
    case YAML_SEQUENCE_START_EVENT: return "a list";
    case YAML_MAPPING_START_EVENT: return "a mapping";
    default: return "something else";
    }
}

/* ---- typed values ---- */

cw_result get_string(parse_ctx *ctx, const char *path, bool null_ok, bool numbers_ok,
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

/* True for null: the key keeps its default. */
CW_MUST_USE static cw_result is_null(parse_ctx *ctx, bool *null)
{
    *null = false;
    if (ctx->ev.type != YAML_SCALAR_EVENT)
        return CW_OK;
    scalar_kind kind;
    CW_GUARD(resolve_scalar(ctx, &kind));
    *null = kind == SCALAR_NULL;
    return CW_OK;
}

cw_result get_bool(parse_ctx *ctx, const char *path, bool null_ok, bool *out)
{
    const yaml_event_t *ev = &ctx->ev;
    scalar_kind kind = SCALAR_STRING;
    if (ev->type == YAML_SCALAR_EVENT)
        CW_GUARD(resolve_scalar(ctx, &kind));
    if (kind == SCALAR_NULL && null_ok)
        return CW_OK;
    if (kind != SCALAR_BOOL)
        return fail_at(ctx, event_line(ev), path, CW_EINVAL, "expected a boolean (true or false)");
    /* The YAML 1.1 booleans that mean true start with y, t or o followed by n. */
    const char *s = (const char *)ev->data.scalar.value;
    char c = s[0];
    *out = c == 'y' || c == 'Y' || c == 't' || c == 'T' ||
           ((c == 'o' || c == 'O') && (s[1] == 'n' || s[1] == 'N'));
    return CW_OK;
}

cw_result get_int(parse_ctx *ctx, const char *path, int64_t min, int64_t max, int64_t *out)
{
    const yaml_event_t *ev = &ctx->ev;
    scalar_kind kind = SCALAR_STRING;
    if (ev->type == YAML_SCALAR_EVENT)
        CW_GUARD(resolve_scalar(ctx, &kind));
    if (kind != SCALAR_INT)
        return fail_at(ctx, event_line(ev), path, CW_EINVAL,
                       "expected a whole number from %lld to %lld", (long long)min, (long long)max);
    yaml11_value v;
    if (yaml11_resolve((const char *)ev->data.scalar.value, ev->data.scalar.length, &v, NULL))
        return fail_oom(ctx);
    if (v.kind != YAML11_INT || v.i < min || v.i > max)
        return fail_at(ctx, event_line(ev), path, CW_EINVAL,
                       "expected a whole number from %lld to %lld", (long long)min, (long long)max);
    *out = v.i;
    return CW_OK;
}

cw_result set_string(parse_ctx *ctx, const char *path, char **field, check_fn check,
                     bool numbers_ok)
{
    const char *s;
    cw_result r = get_string(ctx, path, true, numbers_ok, &s);
    if (r || !s)
        return r;
    const char *why = check ? check(s) : NULL;
    if (why)
        return fail_value(ctx, path, s, why);
    char *copy = strdup(s);
    if (!copy)
        return fail_oom(ctx);
    free(*field);
    *field = copy;
    return CW_OK;
}

cw_result read_string_list(parse_ctx *ctx, const char *path, config_strings *out, size_t max,
                           check_fn check, bool dedupe, size_t **lines)
{
    config_strings list = {0};
    size_t *at = NULL;
    size_t nth = 0;
    char item_path[PATH_BUF];
    bool null;
    cw_result r = is_null(ctx, &null);
    if (r || null)
        return r; /* null keeps the default */
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
            r = fail_value(ctx, item_path, s, why);
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
        r = strings_append(&list, s, ctx->err);
        if (r)
            goto out;
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

/* ---- mappings ---- */

/* What a mapping does with each of its keys: key() reads the key (the current event, which
 * passed check_node) and writes the path of its value into child; value() reads the value. */
typedef struct map_walk {
    const char *not_a_map; /* the message when the node is neither null nor a mapping */
    cw_result (*key)(parse_ctx *ctx, const char *path, char *child, void *arg);
    cw_result (*value)(parse_ctx *ctx, const char *child, void *arg);
} map_walk;

/* The one loop over a mapping's entries; null keeps every default. */
CW_MUST_USE static cw_result walk_map(parse_ctx *ctx, const char *path, const map_walk *w,
                                      void *arg)
{
    char child[PATH_BUF];
    bool null;
    CW_GUARD(is_null(ctx, &null));
    if (null)
        return CW_OK;
    if (ctx->ev.type != YAML_MAPPING_START_EVENT)
        return fail_at(ctx, event_line(&ctx->ev), path, CW_EINVAL, "%s", w->not_a_map);
    for (;;) {
        CW_GUARD(next_event(ctx));
        if (ctx->ev.type == YAML_MAPPING_END_EVENT)
            return CW_OK;
        CW_GUARD(check_node(ctx, path));
        CW_GUARD(w->key(ctx, path, child, arg));
        CW_GUARD(next_event(ctx));
        CW_GUARD(check_node(ctx, child));
        CW_GUARD(w->value(ctx, child, arg));
    }
}

/* A fixed mapping being read: its keys, the line of each key's first occurrence, and the key
 * whose value comes next. */
typedef struct fixed_map {
    const key_spec *keys;
    size_t nkeys;
    size_t seen[MAP_KEYS_MAX];
    size_t current;
} fixed_map;

/* Makes "a, b, c" of the keys for "unknown key (expected one of: ...)". */
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

CW_MUST_USE static cw_result fixed_key(parse_ctx *ctx, const char *path, char *child, void *arg)
{
    fixed_map *m = arg;
    if (ctx->ev.type != YAML_SCALAR_EVENT)
        return fail_at(ctx, event_line(&ctx->ev), path, CW_EINVAL, "expected a key, found %s",
                       node_kind_name(ctx));
    const char *key = (const char *)ctx->ev.data.scalar.value;
    size_t klen = ctx->ev.data.scalar.length;
    size_t line = event_line(&ctx->ev);
    path_join(child, PATH_BUF, path, key, klen);
    size_t i = 0;
    while (i < m->nkeys &&
           !(strlen(m->keys[i].name) == klen && memcmp(m->keys[i].name, key, klen) == 0))
        i++;
    if (i == m->nkeys) {
        char names[NAMES_SHOWN];
        known_keys(names, sizeof names, m->keys, m->nkeys);
        return fail_at(ctx, line, child, CW_EINVAL, "unknown key (expected one of: %s)", names);
    }
    if (m->seen[i])
        return fail_at(ctx, line, child, CW_EINVAL, "duplicate key (first at line %zu)",
                       m->seen[i]);
    m->seen[i] = line;
    m->current = i;
    return CW_OK;
}

CW_MUST_USE static cw_result fixed_value(parse_ctx *ctx, const char *child, void *arg)
{
    const fixed_map *m = arg;
    return m->keys[m->current].read(ctx, child);
}

cw_result read_map(parse_ctx *ctx, const char *path, const key_spec *keys, size_t nkeys)
{
    static const map_walk walk = {.key = fixed_key, .value = fixed_value};
    if (nkeys > MAP_KEYS_MAX) /* KEY_COUNT checks every table at compile time */
        return cw_fail(ctx->err, CW_EINTERNAL, "a mapping with more than %d keys", MAP_KEYS_MAX);
    fixed_map m = {.keys = keys, .nkeys = nkeys};
    map_walk w = walk;
    w.not_a_map = path[0] ? "expected a mapping" : "expected a mapping of config keys";
    return walk_map(ctx, path, &w, &m);
}

CW_MUST_USE static cw_result named_key(parse_ctx *ctx, const char *path, char *child, void *arg)
{
    const named_map *spec = arg;
    if (ctx->ev.type != YAML_SCALAR_EVENT)
        return fail_at(ctx, event_line(&ctx->ev), path, CW_EINVAL, "expected %s, found %s",
                       spec->key_what, node_kind_name(ctx));
    size_t line = event_line(&ctx->ev);
    path_join(child, PATH_BUF, path, (const char *)ctx->ev.data.scalar.value,
              ctx->ev.data.scalar.length);
    const char *name;
    CW_GUARD(get_string(ctx, child, false, false, &name));
    const char *why = spec->check(name);
    if (why)
        return fail_at(ctx, line, child, CW_EINVAL, "%s", why);
    if (spec->exists(ctx->cfg, name))
        return fail_at(ctx, line, child, CW_EINVAL, "duplicate key");
    size_t count;
    memcpy(&count, (const char *)ctx->cfg + spec->count_at, sizeof count);
    if (count >= CONFIG_LIST_MAX)
        return fail_at(ctx, line, path, CW_ELIMIT, "more than %d %s", CONFIG_LIST_MAX,
                       spec->count_what);
    return spec->add(ctx, name, line);
}

CW_MUST_USE static cw_result named_value(parse_ctx *ctx, const char *child, void *arg)
{
    const named_map *spec = arg;
    return spec->read(ctx, child);
}

cw_result grow_one(parse_ctx *ctx, void *array_ptr, size_t count, size_t size)
{
    void *array;
    memcpy(&array, array_ptr, sizeof array);
    void *grown = realloc(array, (count + 1) * size);
    if (!grown)
        return fail_oom(ctx);
    memcpy(array_ptr, &grown, sizeof grown);
    return CW_OK;
}

cw_result read_named_map(parse_ctx *ctx, const char *path, const named_map *spec)
{
    map_walk w = {.not_a_map = spec->not_a_map, .key = named_key, .value = named_value};
    return walk_map(ctx, path, &w, (void *)spec);
}

/* ---- the file ---- */

/* The whole stream is well-formed YAML: a mis-indented line gets YAML's own error, not a
 * value error about the scalar that libyaml hands out before it reaches the bad line. */
CW_MUST_USE static cw_result check_syntax(parse_ctx *ctx)
{
    cw_result r;
    do {
        r = next_event(ctx);
    } while (!r && ctx->ev.type != YAML_STREAM_END_EVENT);
    return r;
}

/* One optional document whose root is a mapping (or null: all defaults). */
CW_MUST_USE static cw_result read_stream(parse_ctx *ctx)
{
    CW_GUARD(next_event(ctx));
    if (ctx->ev.type != YAML_STREAM_START_EVENT)
        return fail_at(ctx, 1, NULL, CW_EINVAL, "invalid YAML: no stream start");
    CW_GUARD(next_event(ctx));
    if (ctx->ev.type == YAML_STREAM_END_EVENT)
        return CW_OK; /* an empty file: every default */
    if (ctx->ev.type != YAML_DOCUMENT_START_EVENT)
        return fail_at(ctx, event_line(&ctx->ev), NULL, CW_EINVAL, "invalid YAML: no document");
    CW_GUARD(next_event(ctx));
    CW_GUARD(check_node(ctx, ""));
    CW_GUARD(read_root(ctx));
    CW_GUARD(next_event(ctx));
    if (ctx->ev.type != YAML_DOCUMENT_END_EVENT)
        return fail_at(ctx, event_line(&ctx->ev), NULL, CW_EINVAL, "invalid YAML: no document end");
    CW_GUARD(next_event(ctx));
    if (ctx->ev.type == YAML_DOCUMENT_START_EVENT)
        return fail_at(ctx, event_line(&ctx->ev), NULL, CW_EINVAL,
                       "a second YAML document: the config file holds exactly one");
    if (ctx->ev.type != YAML_STREAM_END_EVENT)
        return fail_at(ctx, event_line(&ctx->ev), NULL, CW_EINVAL, "invalid YAML: no stream end");
    return CW_OK;
}

/* (Re)starts libyaml on the text. */
CW_MUST_USE static cw_result start_parser(parse_ctx *ctx)
{
    if (ctx->have_ev)
        yaml_event_delete(&ctx->ev);
    ctx->have_ev = false;
    if (!yaml_parser_initialize(&ctx->parser))
        return fail_oom(ctx);
    yaml_parser_set_input_string(&ctx->parser, (const unsigned char *)ctx->buf, ctx->len);
    return CW_OK;
}

/* Reads the text over the defaults: the syntax of the whole stream first, then its values. */
CW_MUST_USE static cw_result read_config(parse_ctx *ctx)
{
    CW_GUARD(start_parser(ctx));
    cw_result r = check_syntax(ctx);
    yaml_parser_delete(&ctx->parser);
    if (r)
        return r;
    CW_GUARD(start_parser(ctx));
    r = read_stream(ctx);
    yaml_parser_delete(&ctx->parser);
    if (r)
        return r;
    /* SPEC §5: the class the webhook sets is always one that it leaves alone. */
    if (!config_strings_contains(&ctx->cfg->runtime_class_allowed, ctx->cfg->runtime_class))
        CW_GUARD(
            strings_append(&ctx->cfg->runtime_class_allowed, ctx->cfg->runtime_class, ctx->err));
    CW_GUARD(resolve_initdata(ctx));
    return resolve_runtimes(ctx);
}

CW_MUST_USE static cw_result parse_config(const char *name, const char *text, size_t len,
                                          const char *base_dir, config_strings *watch, config **out,
                                          cw_error *err)
{
    *out = NULL;
    if (!name)
        name = "config";
    if (len > CONFIG_FILE_MAX)
        return cw_fail(err, CW_ELIMIT, "%s: the file is larger than %d bytes", name,
                       CONFIG_FILE_MAX);
    parse_ctx ctx = {.name = name,
                     .buf = text ? text : "",
                     .len = len,
                     .err = err,
                     .base_dir = base_dir,
                     .watch = watch};
    ctx.cfg = config_new_default();
    if (!ctx.cfg)
        return CW_FAIL_NOMEM(err);
    cw_result r = read_config(&ctx);

    if (ctx.have_ev)
        yaml_event_delete(&ctx.ev);
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
    free(ctx.runtime_lines);
    free(ctx.default_name);
    if (r) {
        config_free(ctx.cfg);
        return r;
    }
    *out = ctx.cfg;
    return CW_OK;
}

cw_result config_parse(const char *name, const char *text, size_t len, config **out, cw_error *err)
{
    return parse_config(name, text, len, NULL, NULL, out, err);
}

cw_result config_load(const char *path, config **out, cw_error *err)
{
    return config_load_watch(path, NULL, out, err);
}

cw_result config_load_watch(const char *path, config_strings *documents, config **out,
                            cw_error *err)
{
    config_strings watch = {0};
    char *text = NULL;
    size_t len = 0;
    char *dir = NULL;
    *out = NULL;
    if (!path) {
        if (documents)
            strings_free(documents);
        *out = config_new_default();
        return *out ? CW_OK : CW_FAIL_NOMEM(err);
    }
    cw_result r = file_read(path, CONFIG_FILE_MAX, &text, &len, err);
    const char *slash = strrchr(path, '/');
    if (!r && slash) {
        dir = strndup(path, slash == path ? 1 : (size_t)(slash - path));
        if (!dir)
            r = CW_FAIL_NOMEM(err);
    }
    if (!r)
        r = parse_config(path, text, len, dir, &watch, out, err);
    if (documents) {
        strings_free(documents);
        *documents = watch;
    } else {
        strings_free(&watch);
    }
    free(dir);
    free(text);
    return r;
}
