/* json_prune: see json_prune.h. */
#include "json_prune.h"

#include <locale.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"

/* Keys of one walked object held on the stack; more spill to the heap. */
#define KEYS_INLINE 32

typedef struct prune {
    const char *text;
    size_t len;
    size_t pos;
    const json_prune_rules *rules;
    json_prune_result *out;
    unsigned depth;
    bool oom;
} prune;

/* A key as read: its bytes in the text when it has no escape, else decoded by cJSON. */
typedef struct key_view {
    const char *s;
    size_t n;
    bool owned; /* s is a decoded name of a dropped member: freed with the list */
} key_view;

/* The keys of the object being walked, for the duplicate check. */
typedef struct key_list {
    key_view *keys;
    size_t count, cap;
    key_view inline_keys[KEYS_INLINE];
} key_list;

/* cJSON skips every byte up to the space between tokens (buffer_skip_whitespace). */
static void skip_space(prune *p)
{
    while (p->pos < p->len && (unsigned char)p->text[p->pos] <= 32)
        p->pos++;
}

/* Whether a JSON value may start with c. Checked before handing the text to cJSON, which
 * would also skip a UTF-8 byte order mark at the start of what it is given. */
static bool value_start(char c)
{
    return c == '{' || c == '[' || c == '"' || c == '-' || (c >= '0' && c <= '9') || c == 't' ||
           c == 'f' || c == 'n';
}

/* cJSON's parse of the value at pos (which starts a value); pos moves past it. */
static cJSON *parse_here(prune *p)
{
    if (p->pos >= p->len || !value_start(p->text[p->pos]))
        return NULL;
    const char *end = NULL;
    cJSON *v = cJSON_ParseWithLengthOpts(p->text + p->pos, p->len - p->pos, &end, 0);
    if (v)
        p->pos = (size_t)(end - p->text);
    return v;
}

static void note_duplicate(prune *p, const key_view *key)
{
    if (p->out->duplicate[0] || !key)
        return;
    size_t n = key->n < JSON_PRUNE_DUP_MAX ? key->n : JSON_PRUNE_DUP_MAX;
    memcpy(p->out->duplicate, key->s, n);
    p->out->duplicate[n] = '\0';
    if (!p->out->duplicate[0]) /* the empty key */
        memcpy(p->out->duplicate, "\"\"", 3);
}

/* Reads the key at pos (a string) into *key; pos moves past it. *decoded is set when cJSON
 * had to decode escapes: a string of cJSON's allocator, which the caller owns. */
static bool parse_key(prune *p, key_view *key, char **decoded)
{
    *decoded = NULL;
    if (p->pos >= p->len || p->text[p->pos] != '"')
        return false;
    size_t start = p->pos + 1, i = start;
    while (i < p->len && p->text[i] != '"' && p->text[i] != '\\')
        i++;
    if (i < p->len && p->text[i] == '"') {
        /* No escape: the bytes as they are, which is what cJSON would copy. */
        *key = (key_view){p->text + start, i - start, false};
        p->pos = i + 1;
        return true;
    }
    /* Escapes: cJSON decodes them (and refuses bad ones). */
    cJSON *s = parse_here(p);
    if (!cJSON_IsString(s)) {
        cJSON_Delete(s);
        return false;
    }
    *decoded = s->valuestring;
    s->valuestring = NULL;
    cJSON_Delete(s);
    *key = (key_view){*decoded, strlen(*decoded), false};
    return true;
}

static const json_prune_member *rule_for(const json_prune_state *st, const key_view *key)
{
    for (size_t i = 0; i < st->count; i++)
        if (strlen(st->members[i].key) == key->n && memcmp(st->members[i].key, key->s, key->n) == 0)
            return &st->members[i];
    return NULL;
}

/* Makes k empty. Not an initializer: that would zero the inline keys of every object walked. */
static void keys_init(key_list *k)
{
    k->keys = k->inline_keys;
    k->count = 0;
    k->cap = KEYS_INLINE;
}

static bool keys_add(prune *p, key_list *k, key_view key)
{
    if (k->count == k->cap) {
        key_view *keys = malloc(k->cap * 2 * sizeof *keys);
        if (!keys) {
            p->oom = true;
            return false;
        }
        memcpy(keys, k->keys, k->count * sizeof *keys);
        if (k->keys != k->inline_keys)
            free(k->keys);
        k->keys = keys;
        k->cap *= 2;
    }
    k->keys[k->count++] = key;
    return true;
}

static void keys_free(key_list *k)
{
    for (size_t i = 0; i < k->count; i++)
        if (k->keys[i].owned)
            cJSON_free((void *)k->keys[i].s);
    if (k->keys != k->inline_keys)
        free(k->keys);
}

static int key_cmp(const void *a, const void *b)
{
    const key_view *x = a, *y = b;
    int c = memcmp(x->s, y->s, x->n < y->n ? x->n : y->n);
    return c ? c : (x->n > y->n) - (x->n < y->n);
}

/* The first duplicate among the object's keys, or NULL (sorts them when there are many). */
static const key_view *keys_duplicate(key_list *k)
{
    if (k->count <= 16) {
        for (size_t a = 0; a < k->count; a++)
            for (size_t b = a + 1; b < k->count; b++)
                if (k->keys[a].n == k->keys[b].n &&
                    memcmp(k->keys[a].s, k->keys[b].s, k->keys[a].n) == 0)
                    return &k->keys[a];
        return NULL;
    }
    qsort(k->keys, k->count, sizeof *k->keys, key_cmp);
    for (size_t i = 1; i < k->count; i++)
        if (key_cmp(&k->keys[i - 1], &k->keys[i]) == 0)
            return &k->keys[i];
    return NULL;
}

/* Reads the items of the array or object at pos ('[' or '{', closed by close), calling item
 * for each with pos at its start (a value, or a member's key): the one place of the
 * separators' grammar, as cJSON's parse_array and parse_object read it. */
typedef bool item_fn(prune *p, void *ctx);
static bool each_item(prune *p, char close, item_fn *item, void *ctx)
{
    p->pos++; /* [ or { */
    skip_space(p);
    if (p->pos < p->len && p->text[p->pos] == close) {
        p->pos++;
        return true;
    }
    for (;;) {
        if (!item(p, ctx))
            return false;
        skip_space(p);
        if (p->pos >= p->len)
            return false;
        char c = p->text[p->pos++];
        if (c == close)
            return true;
        if (c != ',')
            return false;
        skip_space(p);
    }
}

/* A member's key and the colon after it; pos moves to its value. *decoded as parse_key. */
static bool member_key(prune *p, key_view *key, char **decoded)
{
    if (!parse_key(p, key, decoded))
        return false;
    skip_space(p);
    if (p->pos >= p->len || p->text[p->pos] != ':') {
        cJSON_free(*decoded);
        *decoded = NULL;
        return false;
    }
    p->pos++;
    skip_space(p);
    return true;
}

/* ---- a dropped value: checked as cJSON would parse it, nothing built ----------------- */

/* cJSON's parse_hex4: the value of four hex digits, 0 at the first that is not one. */
static unsigned hex4(const char *s)
{
    unsigned h = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        if (c >= '0' && c <= '9')
            h = h << 4 | (unsigned)(c - '0');
        else if (c >= 'A' && c <= 'F')
            h = h << 4 | (unsigned)(c - 'A' + 10);
        else if (c >= 'a' && c <= 'f')
            h = h << 4 | (unsigned)(c - 'a' + 10);
        else
            return 0;
    }
    return h;
}

/* The string at pos, as cJSON's parse_string takes it: the closing quote found first (a
 * backslash hides the byte after it), then each escape read up to it (\u: four hex digits,
 * a high surrogate only with its low one). */
static bool skip_string(prune *p)
{
    const char *t = p->text;
    size_t end = p->pos + 1;
    while (end < p->len && t[end] != '"') {
        if (t[end] == '\\' && ++end >= p->len)
            return false;
        end++;
    }
    if (end >= p->len)
        return false;
    for (size_t i = p->pos + 1; i < end;) {
        if (t[i] != '\\') {
            i++;
            continue;
        }
        switch (t[i + 1]) {
        case 'b':
        case 'f':
        case 'n':
        case 'r':
        case 't':
        case '"':
        case '\\':
        case '/': i += 2; break;
        case 'u': {
            if (end - i < 6)
                return false;
            unsigned first = hex4(t + i + 2);
            if (first >= 0xDC00 && first <= 0xDFFF)
                return false;
            if (first >= 0xD800 && first <= 0xDBFF) {
                if (end - i < 12 || t[i + 6] != '\\' || t[i + 7] != 'u')
                    return false;
                unsigned second = hex4(t + i + 8);
                if (second < 0xDC00 || second > 0xDFFF)
                    return false;
                i += 12;
            } else {
                i += 6;
            }
            break;
        }
        default: return false;
        }
    }
    p->pos = end + 1;
    return true;
}

/* The number at pos, as cJSON's parse_number takes it (Debian's, with the fix for
 * CVE-2023-26819): every byte of [0-9+-eE.] there read by strtod (with the locale's decimal
 * point, as cJSON), which must take at least one. */
static bool skip_number(prune *p)
{
    size_t n = 0;
    while (p->pos + n < p->len && strchr("0123456789+-eE.", p->text[p->pos + n]) &&
           p->text[p->pos + n])
        n++;
    char small[64];
    char *digits = n < sizeof small ? small : malloc(n + 1);
    if (!digits) {
        p->oom = true;
        return false;
    }
    memcpy(digits, p->text + p->pos, n);
    digits[n] = '\0';
    char point = localeconv()->decimal_point[0];
    for (char *d = memchr(digits, '.', n); d; d = memchr(d + 1, '.', n - (size_t)(d + 1 - digits)))
        *d = point;
    char *after = NULL;
    (void)strtod(digits, &after);
    size_t took = (size_t)(after - digits);
    if (digits != small)
        free(digits);
    p->pos += took;
    return took > 0;
}

static bool skip_value(prune *p, unsigned depth);

static bool skip_item(prune *p, void *depth)
{
    return skip_value(p, *(unsigned *)depth);
}

typedef struct skip_members {
    unsigned depth;
    key_list keys;
} skip_members;

static bool skip_member(prune *p, void *ctx)
{
    skip_members *m = ctx;
    key_view key;
    char *name = NULL;
    if (!member_key(p, &key, &name))
        return false;
    key.owned = name != NULL;
    if (!keys_add(p, &m->keys, key)) {
        cJSON_free(name);
        return false;
    }
    return skip_value(p, m->depth);
}

static bool skip_object(prune *p, unsigned depth)
{
    skip_members m;
    m.depth = depth;
    keys_init(&m.keys);
    bool ok = each_item(p, '}', skip_member, &m);
    if (ok)
        note_duplicate(p, keys_duplicate(&m.keys));
    keys_free(&m.keys);
    return ok;
}

/* The value at pos, as cJSON's parse_value takes it; depth counts the arrays and objects it
 * is in, from the dropped value, to cJSON's limit. */
static bool skip_value(prune *p, unsigned depth)
{
    if (p->pos >= p->len)
        return false;
    const char *t = p->text + p->pos;
    size_t left = p->len - p->pos;
    switch (*t) {
    case 'n':
    case 't':
        if (left < 4 || (memcmp(t, "null", 4) != 0 && memcmp(t, "true", 4) != 0))
            return false;
        p->pos += 4;
        return true;
    case 'f':
        if (left < 5 || memcmp(t, "false", 5) != 0)
            return false;
        p->pos += 5;
        return true;
    case '"': return skip_string(p);
    case '[':
    case '{':
        if (depth >= CJSON_NESTING_LIMIT)
            return false;
        depth++;
        return *t == '[' ? each_item(p, ']', skip_item, &depth) : skip_object(p, depth);
    default:
        if (*t == '-' || (*t >= '0' && *t <= '9'))
            return skip_number(p);
        return false;
    }
}

/* A dropped value: checked, its duplicate keys noted, nothing kept. Keys with escapes are
 * decoded (by cJSON) to be compared: the arena is rewound past them. */
static bool drop_value(prune *p)
{
    arena_mark mark = arena_mark_here();
    bool ok = skip_value(p, 0);
    arena_rewind(mark);
    p->out->dropped += ok;
    return ok;
}

static cJSON *walk(prune *p, int state);

typedef struct walked {
    const json_prune_state *st;
    cJSON *node;    /* the array or object being built */
    key_list *keys; /* an object's */
} walked;

static bool walk_item(prune *p, void *ctx)
{
    walked *w = ctx;
    cJSON *item = walk(p, w->st->element_state);
    if (!item)
        return false;
    cJSON_AddItemToArray(w->node, item);
    return true;
}

/* Walks one member (pos at its key); false when the text is not JSON or memory ran out. */
static bool walk_member(prune *p, void *ctx)
{
    walked *w = ctx;
    key_view key;
    char *name = NULL;
    if (!member_key(p, &key, &name))
        return false;
    const json_prune_member *rule = rule_for(w->st, &key);
    json_prune_action action = rule ? rule->action : w->st->other;
    if (action == JSON_PRUNE_DROP) {
        key.owned = name != NULL;
        if (!keys_add(p, w->keys, key)) {
            cJSON_free(name);
            return false;
        }
        return drop_value(p);
    }
    if (!name) {
        if (!(name = cJSON_malloc(key.n + 1))) {
            p->oom = true;
            return false;
        }
        memcpy(name, key.s, key.n);
        name[key.n] = '\0';
    }
    cJSON *v = action == JSON_PRUNE_ENTER ? walk(p, rule->state) : parse_here(p);
    if (!v) {
        cJSON_free(name);
        return false;
    }
    /* The name becomes the member's: cJSON_Delete frees it with the node. */
    v->string = name;
    cJSON_AddItemToArray(w->node, v);
    return keys_add(p, w->keys, key);
}

static cJSON *walk_container(prune *p, const json_prune_state *st, bool array)
{
    key_list keys;
    keys_init(&keys);
    walked w = {
        .st = st, .node = array ? cJSON_CreateArray() : cJSON_CreateObject(), .keys = &keys};
    if (!w.node)
        return NULL;
    bool ok = array ? each_item(p, ']', walk_item, &w) : each_item(p, '}', walk_member, &w);
    /* Dropped keys count too: a key twice is refused whether or not its value is read. */
    if (ok && !array)
        note_duplicate(p, keys_duplicate(&keys));
    keys_free(&keys);
    if (!ok) {
        cJSON_Delete(w.node);
        return NULL;
    }
    return w.node;
}

/* The value at pos (which starts a value) in the given state. */
static cJSON *walk(prune *p, int state)
{
    const json_prune_state *st = &p->rules->states[state];
    char c = p->pos < p->len ? p->text[p->pos] : '\0';
    bool array = st->element_state >= 0;
    if (c != (array ? '[' : '{') || p->depth >= JSON_PRUNE_DEPTH_MAX)
        return parse_here(p);
    p->depth++;
    cJSON *v = walk_container(p, st, array);
    p->depth--;
    return v;
}

cJSON *json_prune_parse(const char *text, size_t len, const json_prune_rules *rules,
                        json_prune_result *out)
{
    memset(out, 0, sizeof *out);
    prune p = {.text = text, .len = len, .rules = rules, .out = out};
    /* As cJSON_ParseWithLengthOpts: a UTF-8 byte order mark first is skipped. */
    if (len > 4 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        p.pos = 3;
    skip_space(&p);
    cJSON *root = walk(&p, 0);
    if (!root || p.oom) {
        out->oom = p.oom;
        cJSON_Delete(root);
        return NULL;
    }
    out->end = text + p.pos;
    return root;
}
