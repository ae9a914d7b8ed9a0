/* manifest_yaml: the manifest reader's YAML documents (manifest_reader.h).
 *
 * libyaml's events are turned into cJSON nodes: scalars resolved as go-yaml v2 does
 * (yaml11.h; tags !!str, !!int, ... and !!binary applied), keys made into the JSON keys
 * sigs.k8s.io/yaml makes, and anchors, aliases and merge keys (<<) expanded here, against
 * the stream's budgets, so that alias bombs fail fast.
 *
 * Nodes of a document under construction are never freed before the end: values a merge key
 * overrides go to a graveyard, so anchors can borrow pointers into the tree. */
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "b64.h"
#include "gonum.h"
#include "keytable.h"
#include "manifest_reader.h"
#include "yaml11.h"

#define TAG_PREFIX "tag:yaml.org,2002:"

typedef struct scalar {
    yaml11_value v; /* v.kind YAML11_STR: the text below */
    const char *s;  /* the text, borrowed or == owned */
    size_t slen;
    char *owned;
} scalar;

/* Resolves a scalar event as go-yaml's decoder does for an interface{} target. */
CW_MUST_USE static cw_result resolve_event(const reader *r, pos p, const yaml_event_t *ev,
                                           scalar *sv)
{
    const char *tag = (const char *)ev->data.scalar.tag;
    const char *in = (const char *)ev->data.scalar.value;
    size_t len = ev->data.scalar.length;
    memset(sv, 0, sizeof *sv);
    sv->v.kind = YAML11_STR;
    sv->s = in;
    sv->slen = len;
    if (memchr(in, '\0', len))
        return manifest_fail_at(r, CW_EINVAL, p, "a string contains a NUL character");
    if (!tag && !ev->data.scalar.plain_implicit)
        return CW_OK; /* quoted, untagged: a string */
    yaml11_tag want = YAML11_TAG_STR;
    bool tagged = tag && yaml11_tag_lookup(tag, &want);
    if (tag && !tagged && strcmp(tag, TAG_PREFIX "binary") == 0) {
        unsigned char *bin;
        size_t n;
        cw_result rc = b64_decode(in, len, B64_GO_STD, &bin, &n, NULL);
        if (rc == CW_ENOMEM)
            return manifest_oom(r);
        if (rc)
            return manifest_fail_at(r, CW_EINVAL, p, "!!binary value contains invalid base64 data");
        if (memchr(bin, '\0', n) || !manifest_utf8_valid((const char *)bin, n)) {
            free(bin);
            return manifest_fail_at(r, CW_EINVAL, p, "!!binary value is not UTF-8 text");
        }
        sv->owned = (char *)bin;
        sv->s = sv->owned;
        sv->slen = n;
        return CW_OK;
    }
    if (tag && !tagged)
        return CW_OK; /* other tags (local ones, "!", !!merge on a value) keep the text */
    if (tagged && want == YAML11_TAG_STR)
        return CW_OK;
    /* Untagged timestamps stay strings; a string like one can be no number either. */
    if (tagged && want == YAML11_TAG_TIMESTAMP && yaml11_is_timestamp(in, len))
        return CW_OK;
    if (yaml11_resolve(in, len, &sv->v, NULL))
        return manifest_oom(r);
    yaml11_tag got = yaml11_tag_of(sv->v.kind);
    if (!tagged || got == want)
        return CW_OK;
    if (want == YAML11_TAG_FLOAT && sv->v.kind == YAML11_INT) {
        sv->v.kind = YAML11_FLOAT;
        sv->v.f = (double)sv->v.i;
        return CW_OK;
    }
    return manifest_fail_at(r, CW_EINVAL, p, "cannot read a %s value as %s", yaml11_tag_name(got),
                            yaml11_tag_name(want));
}

CW_MUST_USE static cw_result scalar_value(const reader *r, pos p, const scalar *sv, cJSON **out)
{
    char num[GONUM_TEXT_MAX] = "";
    *out = NULL;
    switch (sv->v.kind) {
    case YAML11_NULL: *out = cJSON_CreateNull(); break;
    case YAML11_BOOL: *out = cJSON_CreateBool(sv->v.b); break;
    case YAML11_INT:
        snprintf(num, sizeof num, "%" PRId64, sv->v.i);
        *out = cJSON_CreateRaw(num);
        break;
    case YAML11_UINT:
        snprintf(num, sizeof num, "%" PRIu64, sv->v.u);
        *out = cJSON_CreateRaw(num);
        break;
    case YAML11_FLOAT:
        if (!isfinite(sv->v.f))
            return manifest_fail_at(r, CW_EINVAL, p, "%s cannot be represented in JSON",
                                    isnan(sv->v.f) ? ".nan"
                                    : sv->v.f > 0  ? ".inf"
                                                   : "-.inf");
        gonum_json_float(sv->v.f, num);
        *out = cJSON_CreateRaw(num);
        break;
    case YAML11_STR: *out = cJSON_CreateString(sv->s); break;
    }
    if (!*out)
        return manifest_oom(r);
    return CW_OK;
}

/* The JSON key sigs.k8s.io/yaml makes of a scalar key. Returns owned text. */
CW_MUST_USE static cw_result scalar_key(const reader *r, pos p, const scalar *sv, char **out)
{
    char num[GONUM_TEXT_MAX] = "";
    const char *text = num;
    size_t len;
    *out = NULL;
    switch (sv->v.kind) {
    case YAML11_NULL: return manifest_fail_at(r, CW_EINVAL, p, "a map key is null");
    case YAML11_UINT:
        return manifest_fail_at(r, CW_EINVAL, p,
                                "a map key is an integer above 9223372036854775807");
    case YAML11_BOOL: text = sv->v.b ? "true" : "false"; break;
    case YAML11_INT: snprintf(num, sizeof num, "%" PRId64, sv->v.i); break;
    case YAML11_FLOAT: gonum_key_float(sv->v.f, num); break;
    case YAML11_STR: text = sv->s; break;
    }
    len = sv->v.kind == YAML11_STR ? sv->slen : strlen(text);
    *out = malloc(len + 1);
    if (!*out)
        return manifest_oom(r);
    memcpy(*out, text, len);
    (*out)[len] = '\0';
    return CW_OK;
}

enum { ANCHOR_OPEN, ANCHOR_NODE, ANCHOR_SCALAR };

typedef struct anchor {
    int kind;
    unsigned gen;  /* which definition; a collection completes its own definition only */
    cJSON *node;   /* ANCHOR_NODE: borrowed from the document or the graveyard */
    scalar sv;     /* ANCHOR_SCALAR: owned text in sv.owned */
    size_t count;  /* nodes */
    size_t bytes;  /* text */
    size_t height; /* nesting of collections */
} anchor;

typedef struct frame {
    cJSON *node;
    bool is_map;
    bool merge_value; /* the value of a << key, merged into the frame below at its end */
    char *key;        /* maps: the pending key (owned), NULL while a key is expected */
    bool key_merge;   /* maps: the pending key is << */
    keytable keys;    /* maps: key -> item; aux 1 if written by an explicit key */
    char *anchor;     /* owned name of the anchor this collection defines */
    unsigned anchor_gen;
    size_t count, bytes, height;
} frame;

typedef struct builder {
    reader *r;
    size_t line0; /* line of the chunk's first line */
    frame *stack;
    size_t depth, cap;
    keytable anchors; /* name (owned by the anchor keytable_slot) -> anchor */
    unsigned gen;
    cJSON *graveyard;
    cJSON *root;
    bool have_root;
} builder;

static pos ev_pos(const builder *b, yaml_mark_t m)
{
    pos p = {b->line0 + m.line, m.column + 1};
    return p;
}

static void anchor_clear(anchor *a)
{
    free(a->sv.owned);
    memset(a, 0, sizeof *a);
}

static void builder_free(builder *b)
{
    for (size_t i = 0; i < b->depth; i++) {
        frame *f = &b->stack[i];
        if (i == 0 || f->merge_value)
            cJSON_Delete(f->node);
        free(f->key);
        free(f->anchor);
        keytable_free(&f->keys);
    }
    free(b->stack);
    for (size_t i = 0; i < b->anchors.cap; i++) {
        keytable_slot *s = &b->anchors.slots[i];
        if (!s->key)
            continue;
        anchor_clear(s->ptr);
        free(s->ptr);
        free((char *)s->key);
    }
    keytable_free(&b->anchors);
    cJSON_Delete(b->graveyard);
    cJSON_Delete(b->root);
}

CW_MUST_USE static cw_result oom(const builder *b)
{
    return manifest_oom(b->r);
}

/* The anchor keytable_slot for name, created if new; a redefinition reuses the keytable_slot. */
CW_MUST_USE static cw_result anchor_define(builder *b, const char *name, anchor **out)
{
    keytable_slot *s = keytable_find(&b->anchors, name);
    if (s) {
        anchor_clear(s->ptr);
    } else {
        char *copy = strdup(name);
        anchor *a = calloc(1, sizeof *a);
        if (!copy || !a || !(s = keytable_add(&b->anchors, copy))) {
            free(copy);
            free(a);
            return oom(b);
        }
        s->ptr = a;
    }
    anchor *a = s->ptr;
    a->gen = ++b->gen;
    *out = a;
    return CW_OK;
}

static bool in_key_position(const builder *b)
{
    if (!b->depth)
        return false;
    const frame *f = &b->stack[b->depth - 1];
    return f->is_map && !f->key && !f->key_merge;
}

static void bury(builder *b, cJSON *item)
{
    /* Cannot fail: adding to an array only links the item. */
    cJSON_AddItemToArray(b->graveyard, item);
}

CW_MUST_USE static cw_result set_key(builder *b, pos p, char *key)
{
    frame *f = &b->stack[b->depth - 1];
    size_t len = strlen(key);
    cw_result rc = manifest_take_nodes(b->r, 0, len, p);
    if (rc) {
        free(key);
        return rc;
    }
    f->bytes += len;
    keytable_slot *s = keytable_find(&f->keys, key);
    if (s && s->aux) {
        char shown[MANIFEST_KEY_SHOWN_SIZE];
        manifest_key_show(key, strlen(key), shown, sizeof shown);
        free(key);
        return manifest_fail_at(b->r, CW_EINVAL, p, "duplicate key \"%s\"", shown);
    }
    f->key = key;
    return CW_OK;
}

static void grow(frame *f, size_t count, size_t bytes, size_t height)
{
    f->count += count;
    f->bytes += bytes;
    if (height + 1 > f->height)
        f->height = height + 1;
}

/* Puts item under key in map frame f, replacing a value a merge wrote. Takes ownership of
 * item even on failure. */
CW_MUST_USE static cw_result map_put(builder *b, frame *f, const char *key, cJSON *item,
                                     bool explicit_key)
{
    keytable_slot *s = keytable_find(&f->keys, key);
    bool was_explicit = s && s->aux;
    if (s) {
        bury(b, cJSON_DetachItemViaPointer(f->node, s->ptr));
        s->key = NULL; /* the text lives on in the graveyard; re-point the keytable_slot below */
        s->ptr = NULL;
    }
    if (!cJSON_AddItemToObject(f->node, key, item)) {
        cJSON_Delete(item);
        return oom(b);
    }
    if (s) {
        s->key = item->string; /* same hash: same text */
    } else if (!(s = keytable_add(&f->keys, item->string))) {
        return oom(b);
    }
    s->ptr = item;
    s->aux = explicit_key || was_explicit;
    return CW_OK;
}

/* go-yaml v2 merge: the value of << is a map or a list of maps; the first map of a list
 * wins, and merged keys override keys written before (decode.go merge()). */
CW_MUST_USE static cw_result merge_into(builder *b, frame *f, const cJSON *src, pos p)
{
    const cJSON **maps = NULL;
    size_t n = 0;
    cw_result rc = CW_OK;
    if (cJSON_IsArray(src)) {
        for (const cJSON *e = src->child; e; e = e->next, n++)
            if (!cJSON_IsObject(e))
                goto bad;
        maps = malloc((n ? n : 1) * sizeof *maps);
        if (!maps)
            return oom(b);
        n = 0;
        for (const cJSON *e = src->child; e; e = e->next)
            maps[n++] = e;
    } else if (!cJSON_IsObject(src)) {
        goto bad;
    }
    for (size_t k = maps ? n : 1; k-- > 0;) {
        const cJSON *m = maps ? maps[k] : src;
        for (const cJSON *c = m->child; c; c = c->next) {
            size_t height, bytes;
            size_t count = manifest_measure(c, &height, &bytes);
            rc = manifest_take_nodes(b->r, count, bytes, p);
            if (rc)
                goto out;
            cJSON *copy = cJSON_Duplicate(c, 1);
            if (!copy) {
                rc = oom(b);
                goto out;
            }
            rc = map_put(b, f, c->string, copy, false);
            if (rc)
                goto out;
            grow(f, count, bytes, height);
        }
    }
out:
    free(maps);
    return rc;
bad:
    return manifest_fail_at(b->r, CW_EINVAL, p, "a merge (<<) needs a map or a list of maps");
}

/* Delivers a finished value (scalar, alias copy or collection not attached at its start) to
 * the innermost open collection. Takes ownership of item. */
CW_MUST_USE static cw_result deliver(builder *b, cJSON *item, size_t count, size_t bytes,
                                     size_t height, pos p)
{
    /* A copy of an anchored map member keeps its key; no list item or root may have one. */
    if (item->string) {
        cJSON_free(item->string);
        item->string = NULL;
    }
    if (!b->depth) {
        b->root = item;
        b->have_root = true;
        return CW_OK;
    }
    frame *f = &b->stack[b->depth - 1];
    if (!f->is_map) {
        if (!cJSON_AddItemToArray(f->node, item)) {
            cJSON_Delete(item);
            return oom(b);
        }
        grow(f, count, bytes, height);
        return CW_OK;
    }
    if (f->key_merge) {
        f->key_merge = false;
        cw_result rc = merge_into(b, f, item, p);
        bury(b, item);
        return rc;
    }
    cw_result rc = map_put(b, f, f->key, item, true);
    free(f->key);
    f->key = NULL;
    if (rc)
        return rc;
    grow(f, count, bytes, height);
    return CW_OK;
}

CW_MUST_USE static cw_result on_scalar(builder *b, const yaml_event_t *ev)
{
    pos p = ev_pos(b, ev->start_mark);
    const char *tag = (const char *)ev->data.scalar.tag;
    bool key = in_key_position(b);
    scalar sv;
    cJSON *item = NULL;
    cw_result rc;
    if (key && ev->data.scalar.length == 2 && memcmp(ev->data.scalar.value, "<<", 2) == 0 &&
        (ev->data.scalar.plain_implicit || (tag && strcmp(tag, TAG_PREFIX "merge") == 0))) {
        b->stack[b->depth - 1].key_merge = true;
        return CW_OK;
    }
    rc = resolve_event(b->r, p, ev, &sv);
    if (rc)
        return rc;
    if (ev->data.scalar.anchor) {
        anchor *a;
        rc = anchor_define(b, (const char *)ev->data.scalar.anchor, &a);
        if (rc)
            goto out;
        a->kind = ANCHOR_SCALAR;
        a->sv = sv;
        a->sv.owned = malloc(sv.slen + 1);
        if (!a->sv.owned) {
            a->kind = ANCHOR_OPEN; /* unusable, and freed with the others */
            rc = oom(b);
            goto out;
        }
        memcpy(a->sv.owned, sv.s, sv.slen);
        a->sv.owned[sv.slen] = '\0';
        a->sv.s = a->sv.owned;
    }
    if (key) {
        char *k;
        rc = scalar_key(b->r, p, &sv, &k);
        if (!rc)
            rc = set_key(b, p, k);
        goto out;
    }
    rc = manifest_take_nodes(b->r, 1, sv.slen, p);
    if (!rc)
        rc = scalar_value(b->r, p, &sv, &item);
    if (!rc)
        rc = deliver(b, item, 1, sv.slen, 0, p);
out:
    free(sv.owned);
    return rc;
}

CW_MUST_USE static cw_result on_alias(builder *b, const yaml_event_t *ev)
{
    pos p = ev_pos(b, ev->start_mark);
    const char *name = (const char *)ev->data.alias.anchor;
    keytable_slot *s = keytable_find(&b->anchors, name);
    char shown[MANIFEST_KEY_SHOWN_SIZE];
    manifest_key_show(name, strlen(name), shown, sizeof shown);
    if (!s)
        return manifest_fail_at(b->r, CW_EINVAL, p, "unknown anchor '%s'", shown);
    anchor *a = s->ptr;
    if (a->kind == ANCHOR_OPEN)
        return manifest_fail_at(b->r, CW_EINVAL, p, "anchor '%s' value contains itself", shown);
    if (in_key_position(b)) {
        if (a->kind != ANCHOR_SCALAR)
            return manifest_fail_at(b->r, CW_EINVAL, p, "a map key must be a scalar");
        char *k;
        cw_result rc = scalar_key(b->r, p, &a->sv, &k);
        return rc ? rc : set_key(b, p, k);
    }
    if (a->kind == ANCHOR_SCALAR) {
        cJSON *item;
        cw_result rc = manifest_take_nodes(b->r, 1, a->sv.slen, p);
        if (!rc)
            rc = scalar_value(b->r, p, &a->sv, &item);
        return rc ? rc : deliver(b, item, 1, a->sv.slen, 0, p);
    }
    if (b->depth + a->height > MANIFEST_DEPTH_MAX)
        return manifest_fail_at(b->r, CW_ELIMIT, p,
                                "nesting deeper than %d (after alias expansion)",
                                MANIFEST_DEPTH_MAX);
    frame *f = b->depth ? &b->stack[b->depth - 1] : NULL;
    if (f && f->is_map && f->key_merge) {
        f->key_merge = false;
        return merge_into(b, f, a->node, p); /* reads the anchored map in place */
    }
    cw_result rc = manifest_take_nodes(b->r, a->count, a->bytes, p);
    if (rc)
        return rc;
    cJSON *copy = cJSON_Duplicate(a->node, 1);
    if (!copy)
        return oom(b);
    return deliver(b, copy, a->count, a->bytes, a->height, p);
}

CW_MUST_USE static cw_result on_start(builder *b, const yaml_event_t *ev, bool is_map)
{
    pos p = ev_pos(b, ev->start_mark);
    const yaml_char_t *anchor_name =
        is_map ? ev->data.mapping_start.anchor : ev->data.sequence_start.anchor;
    if (in_key_position(b))
        return manifest_fail_at(b->r, CW_EINVAL, p, "a map key must be a scalar, not a %s",
                                is_map ? "map" : "list");
    if (b->depth + 1 > MANIFEST_DEPTH_MAX)
        return manifest_fail_at(b->r, CW_ELIMIT, p, "nesting deeper than %d", MANIFEST_DEPTH_MAX);
    cw_result rc = manifest_take_nodes(b->r, 1, 0, p);
    if (rc)
        return rc;
    if (b->depth == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 16;
        frame *stack = realloc(b->stack, cap * sizeof *stack);
        if (!stack)
            return oom(b);
        b->stack = stack;
        b->cap = cap;
    }
    cJSON *node = is_map ? cJSON_CreateObject() : cJSON_CreateArray();
    if (!node)
        return oom(b);
    frame *parent = b->depth ? &b->stack[b->depth - 1] : NULL;
    frame nf = {.node = node, .is_map = is_map, .count = 1, .height = 1};
    if (parent && parent->is_map && parent->key_merge) {
        nf.merge_value = true; /* merged at its end, owned until then */
        parent->key_merge = false;
    } else if (parent && parent->is_map) {
        rc = map_put(b, parent, parent->key, node, true);
        free(parent->key);
        parent->key = NULL;
        if (rc)
            return rc;
    } else if (parent) {
        if (!cJSON_AddItemToArray(parent->node, node)) {
            cJSON_Delete(node);
            return oom(b);
        }
    }
    if (anchor_name) {
        anchor *a;
        rc = anchor_define(b, (const char *)anchor_name, &a);
        if (!rc && !(nf.anchor = strdup((const char *)anchor_name)))
            rc = oom(b);
        if (rc) {
            if (!parent || nf.merge_value)
                cJSON_Delete(node);
            return rc;
        }
        a->kind = ANCHOR_OPEN;
        nf.anchor_gen = a->gen;
    }
    b->stack[b->depth++] = nf;
    return CW_OK;
}

CW_MUST_USE static cw_result on_end(builder *b, pos p)
{
    frame f = b->stack[--b->depth];
    cw_result rc = CW_OK;
    keytable_free(&f.keys);
    if (f.anchor) {
        keytable_slot *s = keytable_find(&b->anchors, f.anchor);
        anchor *a = s ? s->ptr : NULL;
        if (a && a->gen == f.anchor_gen) {
            a->kind = ANCHOR_NODE;
            a->node = f.node;
            a->count = f.count;
            a->bytes = f.bytes;
            a->height = f.height;
        }
        free(f.anchor);
    }
    if (!b->depth) {
        b->root = f.node;
        b->have_root = true;
        return CW_OK;
    }
    frame *parent = &b->stack[b->depth - 1];
    if (f.merge_value) {
        rc = merge_into(b, parent, f.node, p);
        bury(b, f.node);
        return rc;
    }
    grow(parent, f.count, f.bytes, f.height);
    return rc;
}

CW_MUST_USE static cw_result parser_error(builder *b, const yaml_parser_t *y)
{
    yaml_mark_t m = y->problem_mark;
    pos p = ev_pos(b, m);
    if (y->error == YAML_MEMORY_ERROR)
        return oom(b);
    if (y->context)
        return manifest_fail_at(b->r, CW_EINVAL, p, "%s (%s that started at line %zu)",
                                y->problem ? y->problem : "error", y->context,
                                b->line0 + y->context_mark.line);
    return manifest_fail_at(b->r, CW_EINVAL, p, "%s", y->problem ? y->problem : "invalid YAML");
}

cw_result manifest_read_yaml(reader *r, size_t from, size_t to, size_t line0, cJSON **out)
{
    builder b = {.r = r, .line0 = line0};
    yaml_parser_t y;
    yaml_event_t ev;
    bool have_event = false, done = false;
    int documents = 0;
    cw_result rc = CW_OK;
    *out = NULL;
    if (!yaml_parser_initialize(&y))
        return manifest_oom(r);
    yaml_parser_set_input_string(&y, (const unsigned char *)r->buf + from, to - from);
    b.graveyard = cJSON_CreateArray();
    if (!b.graveyard) {
        rc = oom(&b);
        goto out;
    }
    while (!done) {
        if (!yaml_parser_parse(&y, &ev)) {
            rc = parser_error(&b, &y);
            goto out;
        }
        have_event = true;
        pos p = ev_pos(&b, ev.start_mark);
        switch (ev.type) {
        case YAML_STREAM_END_EVENT: done = true; break;
        case YAML_DOCUMENT_START_EVENT:
            if (++documents > 1)
                rc = manifest_fail_at(r, CW_EINVAL, p,
                                      "a second document without a \"---\" line before it");
            break;
        case YAML_SCALAR_EVENT: rc = on_scalar(&b, &ev); break;
        case YAML_ALIAS_EVENT: rc = on_alias(&b, &ev); break;
        case YAML_SEQUENCE_START_EVENT: rc = on_start(&b, &ev, false); break;
        case YAML_MAPPING_START_EVENT: rc = on_start(&b, &ev, true); break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT: rc = on_end(&b, p); break;
        default: break;
        }
        yaml_event_delete(&ev);
        have_event = false;
        if (rc)
            goto out;
    }
    if (!b.have_root) {
        b.root = cJSON_CreateNull();
        if (!b.root) {
            rc = oom(&b);
            goto out;
        }
    }
    *out = b.root;
    b.root = NULL;
out:
    if (have_event)
        yaml_event_delete(&ev);
    yaml_parser_delete(&y);
    builder_free(&b);
    return rc;
}
