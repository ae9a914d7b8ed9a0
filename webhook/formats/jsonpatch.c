/* jsonpatch: RFC 6902 JSON Patch on cJSON trees (contract in jsonpatch.h).
 *
 * The applier walks JSON Pointers (RFC 6901) token by token, decoding "~1" and "~0" into a
 * bounded buffer; nothing is allocated except the values it adds. Every node it creates
 * goes through cJSON's allocator (cJSON_InitHooks may install an arena). */
#include "jsonpatch.h"

#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "jsonnum.h"

/* ------------------------------------------------------------------------------------------
 * Building paths */

void jsonpatch_path_init(jsonpatch_path *p)
{
    p->buf[0] = '\0';
    p->len = 0;
    p->overflow = false;
}

/* Appends n bytes, or marks the path overflowed and leaves it as it was. */
static bool path_put(jsonpatch_path *p, const char *s, size_t n)
{
    if (p->overflow)
        return false;
    if (n >= sizeof p->buf - p->len) {
        p->overflow = true;
        return false;
    }
    memcpy(p->buf + p->len, s, n);
    p->len += n;
    p->buf[p->len] = '\0';
    return true;
}

void jsonpatch_path_key(jsonpatch_path *p, const char *key)
{
    size_t mark = p->len;
    if (!path_put(p, "/", 1))
        return;
    for (const char *c = key; *c; c++) {
        bool ok;
        /* RFC 6901 §3: "~" first, so that "~1" in a key is not read back as "/". */
        if (*c == '~')
            ok = path_put(p, "~0", 2);
        else if (*c == '/')
            ok = path_put(p, "~1", 2);
        else
            ok = path_put(p, c, 1);
        if (!ok) {
            /* Keep the buffer a valid prefix; the overflow flag stays set. */
            p->len = mark;
            p->buf[mark] = '\0';
            return;
        }
    }
}

void jsonpatch_path_index(jsonpatch_path *p, size_t index)
{
    char digits[32];
    int n = snprintf(digits, sizeof digits, "/%zu", index);
    if (n < 0 || (size_t)n >= sizeof digits) {
        p->overflow = true;
        return;
    }
    path_put(p, digits, (size_t)n);
}

void jsonpatch_path_append_end(jsonpatch_path *p)
{
    path_put(p, "/-", 2);
}

bool jsonpatch_path_ok(const jsonpatch_path *p)
{
    return !p->overflow;
}

void jsonpatch_path_truncate(jsonpatch_path *p, size_t len)
{
    /* Only a prefix taken earlier is meaningful; overflow stays sticky on purpose, so that a
     * caller that skipped a check still gets the failure at jsonpatch_append. */
    if (len > p->len)
        return;
    p->len = len;
    p->buf[len] = '\0';
}

/* ------------------------------------------------------------------------------------------
 * Appending operations */

static bool node_is(const cJSON *v, int type)
{
    return v && (v->type & 0xFF) == type;
}

/* The arguments of one appended operation: op "add", "replace" (with a value) or "remove"
 * (without), a path within JSONPATCH_PATH_MAX. *op_text: the op as static text. fn names the
 * caller in the messages of bad arguments. */
CW_MUST_USE static cw_result op_check(const char *fn, const char *op, const jsonpatch_path *path,
                                      const cJSON *value, const char **op_text, cw_error *err)
{
    static const char *const ops[] = {"add", "remove", "replace"};
    if (!op || !path)
        return cw_fail(err, CW_EINVAL, "%s: bad arguments", fn);
    bool is_remove = strcmp(op, "remove") == 0;
    if (!is_remove && strcmp(op, "add") != 0 && strcmp(op, "replace") != 0)
        return cw_fail(err, CW_EINVAL, "%s: unsupported op \"%s\"", fn, op);
    if (!jsonpatch_path_ok(path))
        return cw_fail(err, CW_ELIMIT, "%s: path longer than %d bytes", op, JSONPATCH_PATH_MAX - 1);
    if (is_remove != (value == NULL))
        return cw_fail(err, CW_EINVAL, "%s \"%s\": %s", op, path->buf,
                       is_remove ? "remove takes no value" : "missing value");
    *op_text = is_remove ? ops[1] : op[0] == 'a' ? ops[0] : ops[2];
    return CW_OK;
}

cw_result jsonpatch_append(cJSON *patch, const char *op, const jsonpatch_path *path, cJSON *value,
                           cw_error *err)
{
    cJSON *item = NULL;
    const char *op_text = NULL;
    cw_result r = node_is(patch, cJSON_Array)
                      ? op_check("jsonpatch_append", op, path, value, &op_text, err)
                      : cw_fail(err, CW_EINVAL, "jsonpatch_append: bad arguments");
    if (r != CW_OK)
        goto fail;

    /* The member names and the op are static text: referenced, not copied (cJSON frees and
     * duplicates such nodes correctly), which saves four allocations of every operation. */
    item = cJSON_CreateObject();
    if (!item)
        goto nomem;
    cJSON *op_node = cJSON_CreateStringReference(op_text);
    if (!op_node || !cJSON_AddItemToObjectCS(item, "op", op_node)) {
        cJSON_Delete(op_node);
        goto nomem;
    }
    cJSON *path_node = cJSON_CreateString(path->buf);
    if (!path_node || !cJSON_AddItemToObjectCS(item, "path", path_node)) {
        cJSON_Delete(path_node);
        goto nomem;
    }
    if (value) {
        if (!cJSON_AddItemToObjectCS(item, "value", value))
            goto nomem;
        value = NULL; /* owned by item now */
    }
    if (!cJSON_AddItemToArray(patch, item))
        goto nomem;
    return CW_OK;

nomem:
    r = cw_fail(err, CW_ENOMEM, "%s \"%s\": out of memory", op, path->buf);
fail:
    cJSON_Delete(item);
    cJSON_Delete(value);
    return r;
}

/* ------------------------------------------------------------------------------------------
 * Equality (RFC 6902 §4.6) */

/* A Raw node's number text in parts (jsonnum.h), to compare number texts exactly: the value
 * is digits(int ++ frac) * 10^(exp - frac_len). */
typedef jsonnum decimal;

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Parses s as a whole number. Huge exponents are not compared exactly (no JSON text we
 * handle has them): such text is not taken for a number. */
static bool decimal_parse(const char *s, decimal *d)
{
    if (!s)
        return false;
    size_t n = jsonnum_scan(s, SIZE_MAX, d, NULL);
    return n && s[n] == '\0' && !d->exp_huge;
}

static char decimal_digit(const decimal *d, size_t i)
{
    return i < d->int_len ? d->int_digits[i] : d->frac_digits[i - d->int_len];
}

/* Significant digits [*first, *end) and the exponent of the last one. */
static void decimal_norm(const decimal *d, size_t *first, size_t *end, long long *exp)
{
    size_t n = d->int_len + d->frac_len;
    size_t a = 0, b = n;
    while (a < b && decimal_digit(d, a) == '0')
        a++;
    while (b > a && decimal_digit(d, b - 1) == '0')
        b--;
    *first = a;
    *end = b;
    *exp = d->exp - (long long)d->frac_len + (long long)(n - b);
}

/* Exact comparison of two number texts: "10" == "1e1" == "10.0", "-0" == "0". */
static bool decimal_equal(const decimal *x, const decimal *y)
{
    size_t xa, xb, ya, yb;
    long long xe, ye;
    decimal_norm(x, &xa, &xb, &xe);
    decimal_norm(y, &ya, &yb, &ye);
    if (xa == xb || ya == yb)
        return xa == xb && ya == yb; /* zero, whatever its sign */
    if (x->neg != y->neg || xb - xa != yb - ya || xe != ye)
        return false;
    for (size_t i = 0; i < xb - xa; i++) {
        if (decimal_digit(x, xa + i) != decimal_digit(y, ya + i))
            return false;
    }
    return true;
}

/* A Raw node counts as a number when its text is one JSON number. */
static bool raw_number(const cJSON *v, decimal *d)
{
    return node_is(v, cJSON_Raw) && decimal_parse(v->valuestring, d);
}

static bool numbers_equal(const cJSON *a, const cJSON *b)
{
    decimal da, db;
    bool ra = raw_number(a, &da), rb = raw_number(b, &db);
    if (ra && rb)
        return decimal_equal(&da, &db);
    if (ra)
        return strtod(a->valuestring, NULL) == b->valuedouble;
    if (rb)
        return a->valuedouble == strtod(b->valuestring, NULL);
    return a->valuedouble == b->valuedouble;
}

static bool is_number(const cJSON *v)
{
    decimal d;
    return node_is(v, cJSON_Number) || raw_number(v, &d);
}

/* The first member named key; skips nameless members a hand-built tree might have. */
static cJSON *object_member(const cJSON *obj, const char *key)
{
    for (cJSON *m = obj->child; m; m = m->next) {
        if (m->string && strcmp(m->string, key) == 0)
            return m;
    }
    return NULL;
}

/* Every name of a is in b, with an equal value. Where a hand-built object repeats a name,
 * its first member counts, as for every lookup here (cJSON_GetObjectItem does the same). */
static bool members_within(const cJSON *a, const cJSON *b)
{
    for (const cJSON *m = a->child; m; m = m->next) {
        if (!m->string)
            return false;
        const cJSON *o = object_member(b, m->string);
        if (!o)
            return false;
        if (object_member(a, m->string) == m && !jsonpatch_equal(m, o))
            return false;
    }
    return true;
}

bool jsonpatch_equal(const cJSON *a, const cJSON *b)
{
    if (!a || !b)
        return false;
    if (is_number(a) || is_number(b))
        return is_number(a) && is_number(b) && numbers_equal(a, b);

    int type = a->type & 0xFF;
    if (type != (b->type & 0xFF))
        return false;
    switch (type) {
    case cJSON_False:
    case cJSON_True:
    case cJSON_NULL: return true;
    case cJSON_String:
    case cJSON_Raw: /* Raw text that is not a number: only the same text is equal */
        if (!a->valuestring || !b->valuestring)
            return false;
        return strcmp(a->valuestring, b->valuestring) == 0;
    case cJSON_Array: {
        const cJSON *x = a->child, *y = b->child;
        for (; x && y; x = x->next, y = y->next) {
            if (!jsonpatch_equal(x, y))
                return false;
        }
        return !x && !y;
    }
    case cJSON_Object: return members_within(a, b) && members_within(b, a);
    default: return false;
    }
}

/* ------------------------------------------------------------------------------------------
 * Applying */

/* Where the applier last was in one array, and the array's length. Operations on the same
 * array (a mount added to each of 5,000 containers, a volume replaced after another) walk on
 * from there instead of from the head, so that N operations cost O(N + size) rather than
 * O(N x size): cJSON arrays are linked lists. */
typedef struct array_cursor {
    const cJSON *array; /* NULL: free slot */
    cJSON *item;        /* the member at index; NULL: unknown, walk from the head */
    int index;
    int size; /* -1: unknown (the array was freed, or never counted) */
} array_cursor;

typedef struct apply_ctx {
    cJSON **doc;
    size_t index;     /* of the operation, for messages */
    const char *op;   /* NULL until known */
    const char *path; /* NULL until known */
    size_t budget;    /* value nodes still allowed to be added, copied or moved deeper */
    cw_error *err;
    array_cursor *cursors; /* owned; open addressing by address */
    bool oom;              /* an allocation failed: the apply fails with CW_ENOMEM */
    bool take;             /* jsonpatch_apply_taking: values are moved out of the patch */
    cJSON **slot;          /* jsonpatch_text_apply: where the operation holds its value */
    size_t cursor_cap, cursor_count;
} apply_ctx;

static size_t cursor_hash(const cJSON *array, size_t cap)
{
    uint64_t h = (uint64_t)(uintptr_t)array * 0x9e3779b97f4a7c15ULL;
    return (size_t)(h >> 32) & (cap - 1);
}

static array_cursor *cursor_slot(array_cursor *table, size_t cap, const cJSON *array)
{
    for (size_t i = cursor_hash(array, cap);; i = (i + 1) & (cap - 1))
        if (table[i].array == array || !table[i].array)
            return &table[i];
}

/* The cursor of array, counted and valid, or NULL when the table could not grow (out of
 * memory: the operation fails). */
static array_cursor *cursor_of(apply_ctx *c, const cJSON *array)
{
    if ((c->cursor_count + 1) * 2 > c->cursor_cap) {
        size_t ncap = c->cursor_cap ? c->cursor_cap * 2 : 64;
        array_cursor *table = calloc(ncap, sizeof *table);
        if (!table)
            return NULL;
        for (size_t i = 0; i < c->cursor_cap; i++)
            if (c->cursors[i].array)
                *cursor_slot(table, ncap, c->cursors[i].array) = c->cursors[i];
        free(c->cursors);
        c->cursors = table;
        c->cursor_cap = ncap;
    }
    array_cursor *e = cursor_slot(c->cursors, c->cursor_cap, array);
    if (!e->array) {
        e->array = array;
        e->size = -1;
        c->cursor_count++;
    }
    if (e->size < 0) {
        int n = 0;
        for (const cJSON *m = array->child; m; m = m->next)
            n++;
        *e = (array_cursor){.array = array, .item = array->child, .index = 0, .size = n};
    }
    return e;
}

/* The cursor of array if it has a valid one, without counting. */
static array_cursor *cursor_known(const apply_ctx *c, const cJSON *array)
{
    if (!c->cursors)
        return NULL;
    array_cursor *e = cursor_slot(c->cursors, c->cursor_cap, array);
    return e->array && e->size >= 0 ? e : NULL;
}

/* The length of array, or -1 when no cursor could be allocated (out of memory). */
static int array_size(apply_ctx *c, const cJSON *array)
{
    array_cursor *e = cursor_of(c, array);
    return e ? e->size : -1;
}

/* Member i (< size) of array, walking from the nearest known position. */
static cJSON *array_at(apply_ctx *c, const cJSON *array, int i)
{
    array_cursor *e = cursor_of(c, array); /* counted by array_size just before */
    cJSON *it = array->child;
    int k = 0;
    if (e->item && e->index <= i) {
        it = e->item;
        k = e->index;
    } else if (e->item && e->index - i < i) {
        for (it = e->item, k = e->index; k > i; k--)
            it = it->prev;
    }
    for (; k < i; k++)
        it = it->next;
    e->item = it;
    e->index = i;
    return it;
}

/* Forgets the cursors of every array in v, which is about to be freed: a new array may be
 * allocated at the same address. Costs what freeing v costs. */
static void cursors_forget(apply_ctx *c, const cJSON *v)
{
    if (!c->cursors || !v)
        return;
    if (node_is(v, cJSON_Array)) {
        array_cursor *e = cursor_known(c, v);
        if (e)
            e->size = -1;
    }
    if (node_is(v, cJSON_Array) || node_is(v, cJSON_Object))
        for (const cJSON *m = v->child; m; m = m->next)
            cursors_forget(c, m);
}

/* Frees v (a value the document no longer holds), forgetting its arrays first. */
static void node_free(apply_ctx *c, cJSON *v)
{
    cursors_forget(c, v);
    cJSON_Delete(v);
}

/* Bookkeeping after a member was linked into array at index i. */
static void cursor_inserted(apply_ctx *c, const cJSON *array, int i)
{
    array_cursor *e = cursor_known(c, array);
    if (!e)
        return;
    e->size++;
    if (e->item && i <= e->index)
        e->index++; /* the member at the cursor moved one place on */
}

/* Bookkeeping before member old (at index i) is unlinked from array. */
static void cursor_removing(apply_ctx *c, const cJSON *array, const cJSON *old, int i)
{
    array_cursor *e = cursor_known(c, array);
    if (!e)
        return;
    e->size--;
    if (e->item == old) {
        e->item = old->next; /* NULL when old was the last: walk from the head next time */
        if (!e->item)
            e->index = 0;
    } else if (e->item && i < e->index) {
        e->index--;
    }
}

/* Longest path text quoted in a message, so that the message keeps its end. */
#define MSG_PATH_MAX 160

static cw_result op_fail(apply_ctx *c, cw_result code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Fails with "operation N (op "path"): <message>". */
static cw_result op_fail(apply_ctx *c, cw_result code, const char *fmt, ...)
{
    if (code == CW_ENOMEM)
        c->oom = true;
    if (!c->err)
        return code;
    char msg[CW_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!c->op)
        return cw_fail(c->err, code, "operation %zu: %s", c->index, msg);
    if (!c->path)
        return cw_fail(c->err, code, "operation %zu (%s): %s", c->index, c->op, msg);
    size_t plen = strlen(c->path);
    if (plen > MSG_PATH_MAX)
        return cw_fail(c->err, code, "operation %zu (%s \"%.*s...\"): %s", c->index, c->op,
                       MSG_PATH_MAX, c->path, msg);
    return cw_fail(c->err, code, "operation %zu (%s \"%s\"): %s", c->index, c->op, c->path, msg);
}

/* Where a pointer leads: the container of its last token (NULL for the root "") and that
 * token, decoded. */
typedef struct target {
    cJSON *parent;
    char key[JSONPATCH_PATH_MAX];
    size_t depth; /* number of tokens */
} target;

/* Checks a pointer's syntax and length (RFC 6901 §3): "" or "/"-separated tokens where "~"
 * is followed only by "0" or "1". what is "path" or "from", for messages. */
CW_MUST_USE static cw_result pointer_check(apply_ctx *c, const char *ptr, const char *what)
{
    size_t len = strnlen(ptr, JSONPATCH_PATH_MAX);
    if (len >= JSONPATCH_PATH_MAX)
        return op_fail(c, CW_ELIMIT, "%s longer than %d bytes", what, JSONPATCH_PATH_MAX - 1);
    if (len > 0 && ptr[0] != '/')
        return op_fail(c, CW_EINVAL, "%s must be empty or start with \"/\"", what);
    for (size_t i = 0; i < len; i++) {
        if (ptr[i] == '~' && ptr[i + 1] != '0' && ptr[i + 1] != '1')
            return op_fail(c, CW_EINVAL, "%s has \"~\" not followed by \"0\" or \"1\"", what);
    }
    return CW_OK;
}

/* Decodes the token at *rest (just after a "/") into tok and moves *rest past it. The
 * pointer has passed pointer_check, so tok (JSONPATCH_PATH_MAX bytes) is large enough. */
static void pointer_token(const char **rest, char *tok)
{
    const char *s = *rest;
    size_t n = 0;
    while (*s && *s != '/') {
        if (*s == '~') {
            tok[n++] = s[1] == '1' ? '/' : '~';
            s += 2;
        } else {
            tok[n++] = *s++;
        }
    }
    tok[n] = '\0';
    *rest = s;
}

/* Parses an array index token: canonical decimal (RFC 6901 §4: no leading zeros, no sign).
 * Returns the index, -1 for "-", -2 for anything else; indexes beyond INT_MAX (more than
 * cJSON can hold) come back as INT_MAX, which is always out of range. */
static long long array_index(const char *tok)
{
    if (strcmp(tok, "-") == 0)
        return -1;
    if (!is_digit(tok[0]) || (tok[0] == '0' && tok[1] != '\0'))
        return -2;
    long long v = 0;
    for (const char *s = tok; *s; s++) {
        if (!is_digit(*s))
            return -2;
        if (v < INT_MAX)
            v = v * 10 + (*s - '0');
    }
    return v > INT_MAX ? INT_MAX : v;
}

/* The child of container v named by tok, or NULL with a message. what is "path" or "from". */
static cJSON *child_of(apply_ctx *c, cJSON *v, const char *tok, const char *what)
{
    /* Messages about "path" need no prefix: the operation's path is already quoted. */
    const char *pre = strcmp(what, "from") == 0 ? "from: " : "";
    if (node_is(v, cJSON_Object)) {
        cJSON *m = object_member(v, tok);
        if (!m)
            op_fail(c, CW_EINVAL, "%s does not exist", what);
        return m;
    }
    if (node_is(v, cJSON_Array)) {
        long long i = array_index(tok);
        if (i < 0) {
            op_fail(c, CW_EINVAL, "%s\"%.40s\" is not an array index", pre, tok);
            return NULL;
        }
        int size = array_size(c, v);
        if (size < 0) {
            op_fail(c, CW_ENOMEM, "out of memory");
            return NULL;
        }
        if (i >= size) {
            op_fail(c, CW_EINVAL, "%sindex out of range", pre);
            return NULL;
        }
        return array_at(c, v, (int)i);
    }
    op_fail(c, CW_EINVAL, "%s does not exist (it runs into a string, number, bool or null)", what);
    return NULL;
}

/* Resolves everything but the last token of ptr. */
CW_MUST_USE static cw_result resolve(apply_ctx *c, const char *ptr, const char *what, target *t)
{
    CW_GUARD(pointer_check(c, ptr, what));
    t->parent = NULL;
    t->key[0] = '\0';
    t->depth = 0;
    if (*ptr == '\0')
        return CW_OK;

    cJSON *cur = *c->doc;
    const char *rest = ptr + 1;
    for (;;) {
        pointer_token(&rest, t->key);
        t->depth++;
        if (*rest == '\0')
            break;
        rest++;
        cur = child_of(c, cur, t->key, what);
        if (!cur)
            return CW_EINVAL;
    }
    if (!node_is(cur, cJSON_Object) && !node_is(cur, cJSON_Array))
        return op_fail(c, CW_EINVAL, "%s does not exist (its parent is not an object or array)",
                       what);
    t->parent = cur;
    return CW_OK;
}

/* The existing value at a resolved target, or NULL with a message. */
static cJSON *target_get(apply_ctx *c, const target *t, const char *what)
{
    if (!t->parent)
        return *c->doc;
    return child_of(c, t->parent, t->key, what);
}

/* Forgets the member name a node carries from an object (cJSON_Duplicate copies it). */
static void node_drop_name(cJSON *v)
{
    if (!(v->type & cJSON_StringIsConst))
        cJSON_free(v->string);
    v->string = NULL;
    v->type &= ~cJSON_StringIsConst;
}

/* Puts new in old's place, under old's name; frees old. Allocates nothing. */
static void node_swap(apply_ctx *c, cJSON *parent, cJSON *old, cJSON *new)
{
    cursors_forget(c, old);
    array_cursor *e = node_is(parent, cJSON_Array) ? cursor_known(c, parent) : NULL;
    if (e && e->item == old)
        e->item = new;
    node_drop_name(new);
    new->string = old->string;
    new->type |= old->type &cJSON_StringIsConst;
    old->string = NULL;
    old->type &= ~cJSON_StringIsConst;
    cJSON_ReplaceItemViaPointer(parent, old, new);
}

/* Outcome of measuring a value that is about to be placed. */
typedef enum measure_result { MEASURE_OK, MEASURE_DEEP, MEASURE_BIG } measure_result;

/* Charges v's nodes to *budget and checks that v nests at most room containers deep. Stops
 * early, so the recursion never goes deeper than room. */
static measure_result measure(const cJSON *v, size_t room, size_t *budget)
{
    if (*budget == 0)
        return MEASURE_BIG;
    (*budget)--;
    if (!node_is(v, cJSON_Object) && !node_is(v, cJSON_Array))
        return MEASURE_OK;
    if (room == 0)
        return MEASURE_DEEP;
    for (const cJSON *m = v->child; m; m = m->next) {
        measure_result r = measure(m, room - 1, budget);
        if (r != MEASURE_OK)
            return r;
    }
    return MEASURE_OK;
}

/* Checks that v may be placed at t: the result stays within JSONPATCH_DEPTH_MAX nested
 * containers (so it prints and parses back) and the apply within JSONPATCH_NODES_MAX. */
CW_MUST_USE static cw_result check_place(apply_ctx *c, const target *t, const cJSON *v)
{
    measure_result m = MEASURE_DEEP;
    if (t->depth <= JSONPATCH_DEPTH_MAX)
        m = measure(v, JSONPATCH_DEPTH_MAX - t->depth, &c->budget);
    if (m == MEASURE_DEEP)
        return op_fail(c, CW_ELIMIT, "the document would nest more than %d levels deep",
                       JSONPATCH_DEPTH_MAX);
    if (m == MEASURE_BIG)
        return op_fail(c, CW_ELIMIT, "the patch adds or copies more than %d values in all",
                       JSONPATCH_NODES_MAX);
    return CW_OK;
}

/* A deep copy of v, checked by check_place, without a member name. Returns owned. */
CW_MUST_USE static cw_result copy_for(apply_ctx *c, const target *t, const cJSON *v, cJSON **out)
{
    CW_GUARD(check_place(c, t, v));
    *out = cJSON_Duplicate(v, true);
    if (!*out)
        return op_fail(c, CW_ENOMEM, "out of memory");
    node_drop_name(*out);
    return CW_OK;
}

/* Links v into array just before its member at. By hand: cJSON_InsertItemInArray of Debian's
 * cJSON 1.7.15-1+deb12u4 refuses every index but 0 (returns false, inserts nothing). */
static void array_insert(cJSON *array, cJSON *at, cJSON *v)
{
    v->next = at;
    v->prev = at->prev; /* the last member when at is the first: cJSON keeps it there */
    if (at == array->child)
        array->child = v;
    else
        at->prev->next = v;
    at->prev = v;
}

/* RFC 6902 §4.1 at a resolved target. Takes ownership of v even on failure. */
CW_MUST_USE static cw_result place_add(apply_ctx *c, const target *t, cJSON *v)
{
    node_drop_name(v);
    if (!t->parent) {
        node_free(c, *c->doc);
        *c->doc = v;
        return CW_OK;
    }
    if (node_is(t->parent, cJSON_Object)) {
        cJSON *old = object_member(t->parent, t->key);
        if (old) {
            node_swap(c, t->parent, old, v);
            return CW_OK;
        }
        if (!cJSON_AddItemToObject(t->parent, t->key, v)) {
            node_free(c, v);
            return op_fail(c, CW_ENOMEM, "out of memory");
        }
        return CW_OK;
    }

    long long i = array_index(t->key);
    int size = array_size(c, t->parent);
    if (size < 0) {
        node_free(c, v);
        return op_fail(c, CW_ENOMEM, "out of memory");
    }
    if (i == -2) {
        node_free(c, v);
        return op_fail(c, CW_EINVAL, "\"%.40s\" is not an array index", t->key);
    }
    if (i > size) {
        node_free(c, v);
        return op_fail(c, CW_EINVAL, "index out of range");
    }
    if (i == -1 || i == size) {
        if (size == INT_MAX) {
            node_free(c, v);
            return op_fail(c, CW_ELIMIT, "array too long");
        }
        cJSON_AddItemToArray(t->parent, v);
        cursor_inserted(c, t->parent, size);
        return CW_OK;
    }
    array_insert(t->parent, array_at(c, t->parent, (int)i), v);
    cursor_inserted(c, t->parent, (int)i);
    return CW_OK;
}

/* Unlinks old from parent, keeping the cursor of an array parent right. Returns old. */
static cJSON *node_detach(apply_ctx *c, const target *t, cJSON *old)
{
    if (node_is(t->parent, cJSON_Array))
        cursor_removing(c, t->parent, old, (int)array_index(t->key));
    return cJSON_DetachItemViaPointer(t->parent, old);
}

/* The value of operation o to place at t: a copy (checked by check_place), or with
 * c->take the value itself, checked the same way and unlinked from o. Returns owned. */
CW_MUST_USE static cw_result value_for(apply_ctx *c, const target *t, cJSON *o, cJSON *value,
                                       cJSON **out)
{
    if (!c->take)
        return copy_for(c, t, value, out);
    CW_GUARD(check_place(c, t, value));
    if (o)
        cJSON_DetachItemViaPointer(o, value);
    else if (c->slot)
        *c->slot = NULL; /* the document owns it from here */
    *out = value;
    node_drop_name(*out);
    return CW_OK;
}

CW_MUST_USE static cw_result op_add(apply_ctx *c, const char *path, cJSON *o, cJSON *value)
{
    target t;
    cJSON *v = NULL;
    CW_GUARD(resolve(c, path, "path", &t));
    CW_GUARD(value_for(c, &t, o, value, &v));
    return place_add(c, &t, v);
}

CW_MUST_USE static cw_result op_remove(apply_ctx *c, const char *path)
{
    target t;
    CW_GUARD(resolve(c, path, "path", &t));
    if (!t.parent)
        return op_fail(c, CW_EINVAL, "the whole document cannot be removed");
    cJSON *old = target_get(c, &t, "path");
    if (!old)
        return CW_EINVAL;
    node_free(c, node_detach(c, &t, old));
    return CW_OK;
}

CW_MUST_USE static cw_result op_replace(apply_ctx *c, const char *path, cJSON *o, cJSON *value)
{
    target t;
    cJSON *v = NULL;
    CW_GUARD(resolve(c, path, "path", &t));
    cJSON *old = target_get(c, &t, "path");
    if (!old)
        return CW_EINVAL;
    CW_GUARD(value_for(c, &t, o, value, &v));
    if (!t.parent) {
        node_free(c, *c->doc);
        *c->doc = v;
        return CW_OK;
    }
    node_swap(c, t.parent, old, v);
    return CW_OK;
}

CW_MUST_USE static cw_result op_test(apply_ctx *c, const char *path, const cJSON *value)
{
    target t;
    CW_GUARD(resolve(c, path, "path", &t));
    const cJSON *cur = target_get(c, &t, "path");
    if (!cur)
        return CW_EINVAL;
    if (!jsonpatch_equal(cur, value))
        return op_fail(c, CW_EINVAL, "test failed: the value differs");
    return CW_OK;
}

CW_MUST_USE static cw_result op_copy(apply_ctx *c, const char *from, const char *path)
{
    target f, t;
    cJSON *v = NULL;
    CW_GUARD(resolve(c, from, "from", &f));
    const cJSON *src = target_get(c, &f, "from");
    if (!src)
        return CW_EINVAL;
    CW_GUARD(resolve(c, path, "path", &t));
    CW_GUARD(copy_for(c, &t, src, &v));
    return place_add(c, &t, v);
}

CW_MUST_USE static cw_result op_move(apply_ctx *c, const char *from, const char *path)
{
    target f, t;
    CW_GUARD(resolve(c, from, "from", &f));
    cJSON *src = target_get(c, &f, "from");
    if (!src)
        return CW_EINVAL;
    if (strcmp(from, path) == 0)
        return CW_OK; /* RFC 6902 §4.4: no effect */
    /* RFC 6902 §4.4: a location cannot be moved into one of its children. Escapes are
     * canonical after pointer_check, so comparing texts compares tokens. */
    size_t flen = strlen(from);
    if (strncmp(from, path, flen) == 0 && path[flen] == '/')
        return op_fail(c, CW_EINVAL,
                       "\"from\" is a prefix of \"path\": cannot move a value "
                       "into itself");

    /* The destination is resolved after the removal (RFC 6902 §4.4: remove, then add). */
    if (!f.parent) {
        /* Unreachable: from "" is a prefix of every other path. */
        return op_fail(c, CW_EINTERNAL, "move of the whole document");
    }
    cJSON *v = node_detach(c, &f, src);
    cw_result r = resolve(c, path, "path", &t);
    if (!r && t.depth > f.depth)
        r = check_place(c, &t, v);
    if (r) {
        node_free(c, v);
        return r;
    }
    return place_add(c, &t, v);
}

/* The members of one operation object. */
typedef struct op_members {
    cJSON *op, *path, *from, *value;
} op_members;

/* Collects the members RFC 6902 defines; others are ignored (RFC 6902 §4, conformance case
 * "A.11. Ignoring Unrecognized Elements"). A member given twice is an error: cJSON keeps
 * the first and Go the last, so such an operation means different things to each. */
CW_MUST_USE static cw_result op_members_read(apply_ctx *c, const cJSON *o, op_members *m)
{
    static const char *const names[] = {"op", "path", "from", "value"};
    memset(m, 0, sizeof *m);
    cJSON **slots[] = {&m->op, &m->path, &m->from, &m->value};
    for (cJSON *x = o->child; x; x = x->next) {
        if (!x->string)
            continue;
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
            if (strcmp(x->string, names[i]) != 0)
                continue;
            if (*slots[i])
                return op_fail(c, CW_EINVAL, "member \"%s\" appears twice", names[i]);
            *slots[i] = x;
        }
    }
    return CW_OK;
}

static bool is_string(const cJSON *v)
{
    return node_is(v, cJSON_String) && v->valuestring;
}

/* Validates one operation's members and applies it. */
CW_MUST_USE static cw_result apply_one(apply_ctx *c, cJSON *o)
{
    op_members m;
    if (!node_is(o, cJSON_Object))
        return op_fail(c, CW_EINVAL, "not a JSON object");
    CW_GUARD(op_members_read(c, o, &m));
    if (!m.op)
        return op_fail(c, CW_EINVAL, "missing member \"op\"");
    if (!is_string(m.op))
        return op_fail(c, CW_EINVAL, "member \"op\" is not a string");
    c->op = m.op->valuestring;
    if (!m.path)
        return op_fail(c, CW_EINVAL, "missing member \"path\"");
    if (!is_string(m.path))
        return op_fail(c, CW_EINVAL, "member \"path\" is not a string");
    c->path = m.path->valuestring;

    const char *op = c->op;
    bool has_value =
        strcmp(op, "add") == 0 || strcmp(op, "replace") == 0 || strcmp(op, "test") == 0;
    bool has_from = strcmp(op, "move") == 0 || strcmp(op, "copy") == 0;
    if (!has_value && !has_from && strcmp(op, "remove") != 0)
        return op_fail(c, CW_EINVAL, "unknown op");
    /* Stricter than RFC 6902 §4, on purpose: "from" or "value" on an operation that takes
     * none is a mistake in whatever wrote the patch. */
    if (has_value != (m.value != NULL))
        return op_fail(c, CW_EINVAL,
                       has_value ? "missing member \"value\""
                                 : "member \"value\" does not belong to this op");
    if (has_from != (m.from != NULL))
        return op_fail(c, CW_EINVAL,
                       has_from ? "missing member \"from\""
                                : "member \"from\" does not belong to this op");
    if (m.from && !is_string(m.from))
        return op_fail(c, CW_EINVAL, "member \"from\" is not a string");

    switch (op[0]) {
    case 'a': return op_add(c, c->path, o, m.value);
    case 'r':
        if (op[2] == 'm')
            return op_remove(c, c->path);
        return op_replace(c, c->path, o, m.value);
    case 't': return op_test(c, c->path, m.value);
    case 'c': return op_copy(c, m.from->valuestring, c->path);
    default: return op_move(c, m.from->valuestring, c->path);
    }
}

/* jsonpatch_apply; take: jsonpatch_apply_taking (the patch is only read unless take). */
CW_MUST_USE static cw_result apply_patch(cJSON **doc, cJSON *patch, bool take, cw_error *err)
{
    if (!doc || !*doc)
        return cw_fail(err, CW_EINVAL, "JSON patch: no document");
    if (!node_is(patch, cJSON_Array))
        return cw_fail(err, CW_EINVAL, "JSON patch: not a JSON array");
    size_t n = 0;
    for (const cJSON *o = patch->child; o; o = o->next)
        if (++n > JSONPATCH_OPS_MAX)
            return cw_fail(err, CW_ELIMIT, "JSON patch: more than %d operations",
                           JSONPATCH_OPS_MAX);

    apply_ctx c = {.doc = doc, .budget = JSONPATCH_NODES_MAX, .err = err, .take = take};
    cw_result r = CW_OK;
    for (cJSON *o = patch->child; o && !r; o = o->next, c.index++) {
        c.op = NULL;
        c.path = NULL;
        r = apply_one(&c, o);
    }
    free(c.cursors);
    return r && c.oom ? CW_ENOMEM : r;
}

cw_result jsonpatch_apply(cJSON **doc, const cJSON *patch, cw_error *err)
{
    /* Not written through: without take every operation is only read. */
    return apply_patch(doc, (cJSON *)patch, false, err);
}

cw_result jsonpatch_apply_taking(cJSON **doc, cJSON *patch, cw_error *err)
{
    return apply_patch(doc, patch, true, err);
}

/* ------------------------------------------------------------------------------------------
 * Printing */

/* Bytes first offered to cJSON for one operation; doubled while it does not fit. */
#define PRINT_OP_ROOM 4096
/* Bytes cJSON_PrintPreallocated may want beyond what it writes (its documentation: 5). */
#define PRINT_SLACK 64

/* Appends what cJSON_PrintUnformatted prints of item to t, printed in place. */
CW_MUST_USE static cw_result print_into(buf *t, const cJSON *item)
{
    for (size_t room = PRINT_OP_ROOM;; room *= 2) {
        size_t left = t->max - t->len;
        bool last = room >= left;
        char *w = buf_reserve(t, last ? left : room);
        if (!w)
            return buf_status(t);
        /* cJSON writes within the room it is given and needs some slack (its documentation:
         * 5 bytes): false means the room was short. */
        if (cJSON_PrintPreallocated((cJSON *)item, w, (int)(last ? left : room), false)) {
            buf_commit(t, strlen(w));
            return CW_OK;
        }
        if (last)
            return CW_ELIMIT;
    }
}

cw_result jsonpatch_print(const cJSON *patch, size_t max, char **text, size_t *len)
{
    *text = NULL;
    *len = 0;
    if (!node_is(patch, cJSON_Array))
        return CW_EINVAL;
    if (max > INT_MAX - PRINT_SLACK)
        max = INT_MAX - PRINT_SLACK; /* what cJSON_PrintPreallocated can be given at once */
    /* Room past max for cJSON's slack, so that a text of exactly max bytes prints. */
    buf t;
    buf_init(&t, max + PRINT_SLACK);
    cw_result rc = buf_addc(&t, '[');
    for (const cJSON *op = patch->child; op && rc == CW_OK; op = op->next) {
        if (op != patch->child)
            rc = buf_addc(&t, ',');
        if (rc == CW_OK)
            rc = print_into(&t, op);
    }
    if (rc == CW_OK)
        rc = buf_addc(&t, ']');
    if (rc == CW_OK && t.len > max)
        rc = CW_ELIMIT;
    if (rc != CW_OK) {
        buf_free(&t);
        return rc;
    }
    *text = buf_take(&t, len);
    return *text ? CW_OK : CW_ENOMEM;
}

/* ------------------------------------------------------------------------------------------
 * A patch built as text */

struct jsonpatch_text_op {
    const char *op;    /* static text */
    cJSON *value;      /* owned until applied, or NULL */
    uint32_t path;     /* offset of the path: in text when in_text, else in paths */
    uint16_t path_len; /* bytes, less than JSONPATCH_PATH_MAX */
    bool in_text;      /* the path was printed as is (no escapes): read from the text */
};

struct jsonpatch_text {
    buf text;                      /* "[" and the operations so far, comma-separated */
    buf paths;                     /* the paths printed with escapes, each NUL-terminated */
    struct jsonpatch_text_op *ops; /* owned */
    size_t count, cap;
    size_t max; /* bytes the text may have (and paths: the text holds each of them) */
    bool taken; /* jsonpatch_text_take was called: text no longer holds the paths */
};

jsonpatch_text *jsonpatch_text_new(size_t max)
{
    jsonpatch_text *t = malloc(sizeof *t);
    if (!t)
        return NULL;
    if (max > INT_MAX - PRINT_SLACK)
        max = INT_MAX - PRINT_SLACK;
    t->max = max;
    buf_init(&t->text, max + PRINT_SLACK);
    buf_init(&t->paths, max);
    t->ops = NULL;
    t->count = t->cap = 0;
    t->taken = false;
    return t;
}

void jsonpatch_text_free(jsonpatch_text *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->count; i++)
        cJSON_Delete(t->ops[i].value);
    free(t->ops);
    buf_free(&t->text);
    buf_free(&t->paths);
    free(t);
}

size_t jsonpatch_text_count(const jsonpatch_text *t)
{
    return t->count;
}

/* Prints {"op":op,"path":path,"value":value} as cJSON prints such an object, through nodes
 * on the stack: no node is allocated for it. */
CW_MUST_USE static cw_result print_op(buf *text, const char *op, const char *path, cJSON *value)
{
    cJSON item = {.type = cJSON_Object}, op_node = {.type = cJSON_String},
          path_node = {.type = cJSON_String};
    op_node.string = (char *)"op";
    op_node.valuestring = (char *)op;
    path_node.string = (char *)"path";
    path_node.valuestring = (char *)path;
    item.child = &op_node;
    op_node.next = &path_node;
    path_node.prev = &op_node;
    op_node.prev = &path_node;
    char *name = NULL;
    cJSON *next = NULL, *prev = NULL;
    if (value) {
        name = value->string;
        next = value->next;
        prev = value->prev;
        value->string = (char *)"value";
        value->next = NULL;
        value->prev = &path_node;
        path_node.next = value;
        op_node.prev = value;
    }
    cw_result rc = print_into(text, &item);
    if (value) {
        value->string = name;
        value->next = next;
        value->prev = prev;
    }
    return rc;
}

/* Where the operation printed at text[at..] holds its path when cJSON printed the path as is,
 * else 0. Checked on the bytes, not assumed: the object's start, op and member name as
 * expected, then the path's bytes and the closing quote. Had cJSON escaped a byte of the path,
 * its text would differ within those bytes, or have a backslash after them, not a quote. */
static size_t path_in_text(const buf *text, size_t at, const char *op, const jsonpatch_path *path)
{
    static const char before_op[] = "{\"op\":\"", before_path[] = "\",\"path\":\"";
    const char *s = text->data + at;
    size_t op_len = strlen(op), start = sizeof before_op - 1 + op_len + sizeof before_path - 1;
    if (start + path->len + 1 > text->len - at || memcmp(s, before_op, sizeof before_op - 1) ||
        memcmp(s + sizeof before_op - 1, op, op_len) ||
        memcmp(s + sizeof before_op - 1 + op_len, before_path, sizeof before_path - 1) ||
        memcmp(s + start, path->buf, path->len) || s[start + path->len] != '"')
        return 0;
    return at + start;
}

cw_result jsonpatch_text_append(jsonpatch_text *t, const char *op, const jsonpatch_path *path,
                                cJSON *value, cw_error *err)
{
    const char *op_text = NULL;
    cw_result r = t ? op_check("jsonpatch_text_append", op, path, value, &op_text, err)
                    : cw_fail(err, CW_EINVAL, "jsonpatch_text_append: bad arguments");
    if (r != CW_OK)
        goto fail;
    if (t->count == t->cap) {
        size_t ncap = t->cap ? t->cap * 2 : 16;
        struct jsonpatch_text_op *grown = realloc(t->ops, ncap * sizeof *grown);
        if (!grown)
            goto nomem;
        t->ops = grown;
        t->cap = ncap;
    }
    size_t at = t->paths.len, mark = t->text.len, path_at = 0;
    r = buf_addc(&t->text, t->count ? ',' : '[');
    if (r == CW_OK)
        r = print_op(&t->text, op_text, path->buf, value);
    if (r == CW_OK && t->text.len + 1 > t->max) /* with the closing "]" */
        r = CW_ELIMIT;
    if (r == CW_OK && !(path_at = path_in_text(&t->text, mark + 1, op_text, path)))
        r = buf_add(&t->paths, path->buf, path->len + 1);
    if (r != CW_OK) {
        /* Nothing of a failed operation stays (a buffer's failure is sticky: one that failed
         * stays failed, and so the patch). */
        if (t->paths.data) {
            t->paths.len = at;
            t->paths.data[at] = '\0';
        }
        if (t->text.data) {
            t->text.len = mark;
            t->text.data[mark] = '\0';
        }
    }
    if (r == CW_ENOMEM)
        goto nomem;
    if (r != CW_OK) {
        r = cw_fail(err, r, "%s \"%s\": the patch's text would pass %zu bytes", op, path->buf,
                    t->max);
        goto fail;
    }
    t->ops[t->count++] = (struct jsonpatch_text_op){.op = op_text,
                                                    .value = value,
                                                    .path = (uint32_t)(path_at ? path_at : at),
                                                    .path_len = (uint16_t)path->len,
                                                    .in_text = path_at != 0};
    return CW_OK;

nomem:
    r = cw_fail(err, CW_ENOMEM, "%s \"%s\": out of memory", op, path->buf);
fail:
    cJSON_Delete(value);
    return r;
}

cw_result jsonpatch_text_apply(cJSON **doc, jsonpatch_text *t, cw_error *err)
{
    if (!doc || !*doc)
        return cw_fail(err, CW_EINVAL, "JSON patch: no document");
    if (t->taken)
        return cw_fail(err, CW_EINVAL, "JSON patch: applied after its text was taken");
    if (t->count > JSONPATCH_OPS_MAX)
        return cw_fail(err, CW_ELIMIT, "JSON patch: more than %d operations", JSONPATCH_OPS_MAX);
    apply_ctx c = {.doc = doc, .budget = JSONPATCH_NODES_MAX, .err = err, .take = true};
    cw_result r = CW_OK;
    char path[JSONPATCH_PATH_MAX];
    for (size_t i = 0; i < t->count && !r; i++) {
        struct jsonpatch_text_op *o = &t->ops[i];
        c.index = i;
        c.op = o->op;
        if (o->in_text) {
            memcpy(path, t->text.data + o->path, o->path_len);
            path[o->path_len] = '\0';
            c.path = path;
        } else {
            c.path = t->paths.data + o->path;
        }
        c.slot = &o->value;
        switch (o->op[0]) {
        case 'a': r = op_add(&c, c.path, NULL, o->value); break;
        case 'r':
            r = o->op[2] == 'm' ? op_remove(&c, c.path) : op_replace(&c, c.path, NULL, o->value);
            break;
        default: r = op_fail(&c, CW_EINVAL, "unknown op"); break;
        }
    }
    free(c.cursors);
    return r && c.oom ? CW_ENOMEM : r;
}

cw_result jsonpatch_text_take(jsonpatch_text *t, char **text, size_t *len)
{
    *text = NULL;
    *len = 0;
    cw_result rc = buf_adds(&t->text, t->count ? "]" : "[]");
    if (rc == CW_OK && t->text.len > t->max)
        rc = CW_ELIMIT;
    if (rc != CW_OK)
        return rc;
    *text = buf_take(&t->text, len);
    buf_init(&t->text, t->max + PRINT_SLACK);
    t->taken = true;
    return *text ? CW_OK : CW_ENOMEM;
}
