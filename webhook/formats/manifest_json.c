/* manifest_json: the manifest reader's JSON documents (manifest_reader.h).
 *
 * A second JSON parser beside cJSON's because kubectl's reading must be matched: number text
 * is kept exactly (cJSON_Raw, grammar in jsonnum.h), duplicate keys are errors, "\u0000" is
 * refused, lone surrogates become U+FFFD as encoding/json makes them, errors carry a line
 * and column, and a failure says whether the text is JSON at all (else it is read as YAML). */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "intparse.h"
#include "jsonnum.h"
#include "keytable.h"
#include "manifest_reader.h"

typedef struct jparser {
    reader *r;
    const char *s;
    size_t end, i;
    bool syntax; /* the failure says the text is not JSON (so it may be YAML) */
    buf str;     /* the last string read */
} jparser;

CW_MUST_USE static cw_result jfail(jparser *jp, cw_result code, bool syntax, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

CW_MUST_USE static cw_result jfail(jparser *jp, cw_result code, bool syntax, const char *fmt, ...)
{
    char msg[CW_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    jp->syntax = syntax;
    return manifest_fail_at(jp->r, code, manifest_pos_at(jp->r, jp->i), "%s", msg);
}

static void json_ws(jparser *jp)
{
    while (jp->i < jp->end && (jp->s[jp->i] == ' ' || jp->s[jp->i] == '\t' ||
                               jp->s[jp->i] == '\n' || jp->s[jp->i] == '\r'))
        jp->i++;
}

static int hex4(const char *s)
{
    int v = 0;
    for (int k = 0; k < 4; k++) {
        int d = hex_digit_value((unsigned char)s[k]);
        if (d < 0)
            return -1;
        v = v << 4 | d;
    }
    return v;
}

CW_MUST_USE static cw_result put_utf8(buf *b, uint32_t cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xc0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xe0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        u[2] = (char)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        u[0] = (char)(0xf0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        u[3] = (char)(0x80 | (cp & 0x3f));
        n = 4;
    }
    return buf_add(b, u, n);
}

/* Reads a JSON string at jp->i (on the quote) into jp->str. Lone surrogates become U+FFFD,
 * as encoding/json does. */
CW_MUST_USE static cw_result json_string(jparser *jp)
{
    buf_reset(&jp->str);
    if (buf_add(&jp->str, "", 0))
        return manifest_oom(jp->r);
    jp->i++;
    for (;;) {
        size_t run = jp->i;
        while (jp->i < jp->end && jp->s[jp->i] != '"' && jp->s[jp->i] != '\\' &&
               (unsigned char)jp->s[jp->i] >= 0x20)
            jp->i++;
        if (buf_add(&jp->str, jp->s + run, jp->i - run))
            return manifest_oom(jp->r);
        if (jp->i >= jp->end)
            return jfail(jp, CW_EINVAL, true, "unterminated string");
        char c = jp->s[jp->i];
        if (c == '"') {
            jp->i++;
            return CW_OK;
        }
        if (c != '\\')
            return jfail(jp, CW_EINVAL, true, "control character in a string");
        if (jp->i + 1 >= jp->end)
            return jfail(jp, CW_EINVAL, true, "unterminated string");
        char e = jp->s[jp->i + 1];
        const char *simple = strchr("\"\\/bfnrt", e);
        if (e && simple) {
            static const char out[] = "\"\\/\b\f\n\r\t";
            char ch = out[simple - "\"\\/bfnrt"];
            if (buf_addc(&jp->str, ch))
                return manifest_oom(jp->r);
            jp->i += 2;
            continue;
        }
        if (e != 'u' || jp->i + 6 > jp->end || hex4(jp->s + jp->i + 2) < 0)
            return jfail(jp, CW_EINVAL, true, "invalid escape in a string");
        uint32_t cp = (uint32_t)hex4(jp->s + jp->i + 2);
        if (cp == 0)
            return jfail(jp, CW_EINVAL, false, "a string contains \\u0000");
        jp->i += 6;
        if (cp >= 0xd800 && cp <= 0xdbff && jp->i + 6 <= jp->end && jp->s[jp->i] == '\\' &&
            jp->s[jp->i + 1] == 'u') {
            int lo = hex4(jp->s + jp->i + 2);
            if (lo >= 0xdc00 && lo <= 0xdfff) {
                cp = 0x10000 + ((cp - 0xd800) << 10) + ((uint32_t)lo - 0xdc00);
                jp->i += 6;
            }
        }
        if (cp >= 0xd800 && cp <= 0xdfff)
            cp = 0xfffd;
        if (put_utf8(&jp->str, cp))
            return manifest_oom(jp->r);
    }
}

CW_MUST_USE static cw_result json_value(jparser *jp, size_t depth, cJSON **out);

CW_MUST_USE static cw_result json_container(jparser *jp, size_t depth, cJSON **out)
{
    bool is_map = jp->s[jp->i] == '{';
    char close = is_map ? '}' : ']';
    keytable keys = {0};
    cJSON *node = NULL, *item = NULL;
    char *key = NULL;
    cw_result rc;
    if (depth + 1 > MANIFEST_DEPTH_MAX) {
        rc = jfail(jp, CW_ELIMIT, false, "nesting deeper than %d", MANIFEST_DEPTH_MAX);
        goto out;
    }
    node = is_map ? cJSON_CreateObject() : cJSON_CreateArray();
    if (!node) {
        rc = manifest_oom(jp->r);
        goto out;
    }
    jp->i++;
    json_ws(jp);
    if (jp->i < jp->end && jp->s[jp->i] == close) {
        jp->i++;
        rc = CW_OK;
        goto out;
    }
    for (;;) {
        json_ws(jp);
        size_t key_at = jp->i;
        if (is_map) {
            if (jp->i >= jp->end || jp->s[jp->i] != '"') {
                rc = jfail(jp, CW_EINVAL, true, "expected a string key");
                goto out;
            }
            rc = json_string(jp);
            if (rc)
                goto out;
            key = malloc(jp->str.len + 1);
            if (!key) {
                rc = manifest_oom(jp->r);
                goto out;
            }
            memcpy(key, jp->str.data, jp->str.len + 1);
            json_ws(jp);
            if (jp->i >= jp->end || jp->s[jp->i] != ':') {
                rc = jfail(jp, CW_EINVAL, true, "expected ':'");
                goto out;
            }
            jp->i++;
        }
        rc = json_value(jp, depth + 1, &item);
        if (rc)
            goto out;
        if (is_map) {
            if (keytable_find(&keys, key)) {
                char shown[MANIFEST_KEY_SHOWN_SIZE];
                manifest_key_show(key, strlen(key), shown, sizeof shown);
                jp->i = key_at;
                rc = jfail(jp, CW_EINVAL, false, "duplicate key \"%s\"", shown);
                goto out;
            }
            if (!cJSON_AddItemToObject(node, key, item)) {
                rc = manifest_oom(jp->r);
                goto out;
            }
            cJSON *added = item;
            item = NULL;
            free(key);
            key = NULL;
            if (!keytable_add(&keys, added->string)) {
                rc = manifest_oom(jp->r);
                goto out;
            }
        } else {
            if (!cJSON_AddItemToArray(node, item)) {
                rc = manifest_oom(jp->r);
                goto out;
            }
            item = NULL;
        }
        json_ws(jp);
        if (jp->i < jp->end && jp->s[jp->i] == ',') {
            jp->i++;
            continue;
        }
        if (jp->i < jp->end && jp->s[jp->i] == close) {
            jp->i++;
            rc = CW_OK;
            goto out;
        }
        rc = jfail(jp, CW_EINVAL, true, "expected ',' or '%c'", close);
        goto out;
    }
out:
    keytable_free(&keys);
    free(key);
    cJSON_Delete(item);
    if (rc) {
        cJSON_Delete(node);
        node = NULL;
    }
    *out = node;
    return rc;
}

CW_MUST_USE static cw_result json_number(jparser *jp, cJSON **out)
{
    size_t start = jp->i, stop = 0;
    size_t n = jsonnum_scan(jp->s + start, jp->end - start, NULL, &stop);
    if (!n) {
        jp->i = stop > 1 ? start + stop : start; /* a lone '-' is shown at the '-' */
        return jfail(jp, CW_EINVAL, true, "invalid number");
    }
    char *text = malloc(n + 1);
    if (!text)
        return manifest_oom(jp->r);
    memcpy(text, jp->s + start, n);
    text[n] = '\0';
    if (isinf(strtod(text, NULL))) {
        free(text);
        return jfail(jp, CW_EINVAL, false, "number out of range");
    }
    *out = cJSON_CreateRaw(text);
    free(text);
    if (!*out)
        return manifest_oom(jp->r);
    jp->i = start + n;
    return CW_OK;
}

CW_MUST_USE static cw_result json_value(jparser *jp, size_t depth, cJSON **out)
{
    *out = NULL;
    json_ws(jp);
    if (jp->i >= jp->end)
        return jfail(jp, CW_EINVAL, true, "unexpected end of input");
    cw_result rc = manifest_take_nodes(jp->r, 1, 0, manifest_pos_at(jp->r, jp->i));
    if (rc) {
        jp->syntax = false;
        return rc;
    }
    char c = jp->s[jp->i];
    if (c == '{' || c == '[')
        return json_container(jp, depth, out);
    if (c == '"') {
        rc = json_string(jp);
        if (rc)
            return rc;
        *out = cJSON_CreateString(jp->str.data);
    } else if (c == '-' || (c >= '0' && c <= '9')) {
        return json_number(jp, out);
    } else {
        static const char *words[] = {"true", "false", "null"};
        size_t k = 0;
        for (; k < 3; k++) {
            size_t n = strlen(words[k]);
            if (jp->end - jp->i >= n && memcmp(jp->s + jp->i, words[k], n) == 0)
                break;
        }
        if (k == 3)
            return jfail(jp, CW_EINVAL, true, "unexpected character");
        jp->i += strlen(words[k]);
        *out = k == 2 ? cJSON_CreateNull() : cJSON_CreateBool(k == 0);
    }
    if (!*out)
        return manifest_oom(jp->r);
    return CW_OK;
}

bool manifest_starts_json(const char *s, size_t len)
{
    size_t i = 0;
    while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
        i++;
    return i < len && (s[i] == '{' || s[i] == '[');
}

cw_result manifest_read_json(reader *r, size_t from, size_t to, bool many, doclist *l, bool *syntax)
{
    jparser jp = {.r = r, .s = r->buf, .end = to, .i = from};
    buf_init(&jp.str, MANIFEST_INPUT_MAX); /* a string is never longer than the input */
    cw_result rc = CW_OK;
    size_t got = 0;
    *syntax = false;
    for (;;) {
        json_ws(&jp);
        if (jp.i >= jp.end)
            break;
        if (got && !many) {
            rc = jfail(&jp, CW_EINVAL, true, "text after the JSON value");
            break;
        }
        pos p = manifest_pos_at(r, jp.i);
        cJSON *doc;
        rc = json_value(&jp, 0, &doc);
        if (rc)
            break;
        rc = manifest_doclist_push(r, l, doc, p);
        if (rc) {
            jp.syntax = false;
            break;
        }
        got++;
    }
    buf_free(&jp.str);
    *syntax = rc && jp.syntax;
    return rc;
}
