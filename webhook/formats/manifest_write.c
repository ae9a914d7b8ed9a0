/* manifest_write: the manifest writers (manifest.h): YAML through libyaml's emitter, plain
 * where go-yaml reads the text back as the same string (yaml11.h) and quoted otherwise, and
 * indented JSON. Numbers keep their text (Raw nodes) or take Go's (gonum.h). */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <yaml.h>

#include "gonum.h"
#include "jsonesc.h"
#include "jsonnum.h"
#include "manifest.h"
#include "manifest_reader.h"
#include "yaml11.h"

/* ---------------------------------------------------------------- writing YAML */

typedef struct ywriter {
    FILE *out;
    yaml_emitter_t e;
    bool io_error;
    cw_error *err;
} ywriter;

static int yaml_write_handler(void *data, unsigned char *buffer, size_t size)
{
    ywriter *w = data;
    if (size && fwrite(buffer, 1, size, w->out) != size) {
        w->io_error = true;
        return 0;
    }
    return 1;
}

CW_MUST_USE static cw_result emit(ywriter *w, yaml_event_t *ev)
{
    if (yaml_emitter_emit(&w->e, ev))
        return CW_OK;
    if (w->io_error)
        return cw_fail(w->err, CW_EIO, "writing YAML: %s", strerror(errno));
    if (w->e.error == YAML_MEMORY_ERROR)
        return cw_fail(w->err, CW_ENOMEM, "writing YAML: out of memory");
    return cw_fail(w->err, CW_EINVAL, "writing YAML: %s",
                   w->e.problem ? w->e.problem : "emitter error");
}

CW_MUST_USE static cw_result emit_scalar(ywriter *w, const char *s, yaml_scalar_style_t style)
{
    yaml_event_t ev;
    size_t len = strlen(s);
    if (len > INT_MAX || !manifest_utf8_valid(s, len))
        return cw_fail(w->err, CW_EINVAL, "writing YAML: a string is not valid UTF-8");
    if (!yaml_scalar_event_initialize(&ev, NULL, NULL, (const yaml_char_t *)s, (int)len, 1, 1,
                                      style))
        return cw_fail(w->err, CW_ENOMEM, "writing YAML: out of memory");
    return emit(w, &ev);
}

/* True in *plain when s reads back as the same string written plain (go-yaml resolution). */
CW_MUST_USE static cw_result reads_back_plain(const char *s, size_t len, bool *plain, cw_error *err)
{
    yaml11_value v;
    *plain = false;
    if (len == 0 || (len == 2 && memcmp(s, "<<", 2) == 0))
        return CW_OK;
    if (yaml11_resolve(s, len, &v, NULL))
        return cw_fail(err, CW_ENOMEM, "writing YAML: out of memory");
    *plain = v.kind == YAML11_STR;
    return CW_OK;
}

CW_MUST_USE static cw_result emit_string(ywriter *w, const char *s, bool is_key)
{
    size_t len = strlen(s);
    bool plain;
    yaml_scalar_style_t style = YAML_DOUBLE_QUOTED_SCALAR_STYLE;
    /* CR, LS and PS are line breaks to YAML: only escapes keep them. */
    if (strstr(s, "\xe2\x80\xa8") || strstr(s, "\xe2\x80\xa9") || strchr(s, '\r'))
        style = YAML_DOUBLE_QUOTED_SCALAR_STYLE;
    else if (memchr(s, '\n', len))
        style = is_key ? YAML_DOUBLE_QUOTED_SCALAR_STYLE : YAML_LITERAL_SCALAR_STYLE;
    else {
        CW_GUARD(reads_back_plain(s, len, &plain, w->err));
        if (plain)
            style = YAML_PLAIN_SCALAR_STYLE;
    }
    return emit_scalar(w, s, style);
}

/* The text of a number node: a Raw node's own text, which must be one number the YAML reader
 * reads as a finite number, or Go's text of a double. */
CW_MUST_USE static cw_result number_text(const cJSON *n, char num[GONUM_TEXT_MAX],
                                         const char **text, cw_error *err)
{
    if (cJSON_IsRaw(n)) {
        const char *s = n->valuestring;
        yaml11_value v = {.kind = YAML11_STR};
        if (s && *s && yaml11_resolve(s, strlen(s), &v, NULL))
            return cw_fail(err, CW_ENOMEM, "writing YAML: out of memory");
        if (v.kind != YAML11_INT && v.kind != YAML11_UINT &&
            (v.kind != YAML11_FLOAT || !isfinite(v.f)))
            return cw_fail(err, CW_EINVAL, "a raw JSON value is not a number");
        *text = n->valuestring;
        /* JSON's -0 would read back as the integer 0: keep the float's sign. */
        if (strcmp(*text, "-0") == 0)
            *text = "-0.0";
        return CW_OK;
    }
    if (!isfinite(n->valuedouble))
        return cw_fail(err, CW_EINVAL, "a number is not finite");
    gonum_json_float(n->valuedouble, num);
    *text = num;
    return CW_OK;
}

CW_MUST_USE static cw_result emit_node(ywriter *w, const cJSON *n, size_t depth)
{
    yaml_event_t ev;
    char num[GONUM_TEXT_MAX] = "";
    const char *text;
    cw_result rc;
    if (cJSON_IsObject(n) || cJSON_IsArray(n)) {
        if (depth + 1 > MANIFEST_DEPTH_MAX)
            return cw_fail(w->err, CW_ELIMIT, "writing YAML: nesting deeper than %d",
                           MANIFEST_DEPTH_MAX);
        bool is_map = cJSON_IsObject(n);
        int style = n->child ? 0 : 1; /* empty collections as {} and [] */
        int ok = is_map ? yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
                                                              style ? YAML_FLOW_MAPPING_STYLE
                                                                    : YAML_BLOCK_MAPPING_STYLE)
                        : yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
                                                               style ? YAML_FLOW_SEQUENCE_STYLE
                                                                     : YAML_BLOCK_SEQUENCE_STYLE);
        if (!ok)
            return cw_fail(w->err, CW_ENOMEM, "writing YAML: out of memory");
        rc = emit(w, &ev);
        if (rc)
            return rc;
        for (const cJSON *c = n->child; c; c = c->next) {
            if (is_map) {
                if (!c->string)
                    return cw_fail(w->err, CW_EINVAL, "writing YAML: a map member has no key");
                rc = emit_string(w, c->string, true);
                if (rc)
                    return rc;
            }
            rc = emit_node(w, c, depth + 1);
            if (rc)
                return rc;
        }
        if (is_map)
            yaml_mapping_end_event_initialize(&ev);
        else
            yaml_sequence_end_event_initialize(&ev);
        return emit(w, &ev);
    }
    if (cJSON_IsString(n))
        return emit_string(w, n->valuestring ? n->valuestring : "", false);
    if (cJSON_IsNumber(n) || cJSON_IsRaw(n)) {
        rc = number_text(n, num, &text, w->err);
        return rc ? rc : emit_scalar(w, text, YAML_PLAIN_SCALAR_STYLE);
    }
    if (cJSON_IsBool(n))
        return emit_scalar(w, cJSON_IsTrue(n) ? "true" : "false", YAML_PLAIN_SCALAR_STYLE);
    if (cJSON_IsNull(n))
        return emit_scalar(w, "null", YAML_PLAIN_SCALAR_STYLE);
    return cw_fail(w->err, CW_EINVAL, "writing YAML: a node of unknown type");
}

cw_result manifest_write_yaml(FILE *out, const cJSON *doc, int first, cw_error *err)
{
    ywriter w = {.out = out, .err = err};
    yaml_event_t ev;
    cw_result rc;
    if (!out || !doc)
        return cw_fail(err, CW_EINVAL, "writing YAML: no output or document");
    /* Our own separator: libyaml would write "--- value" for a scalar document, which
     * kubectl's splitter rejects. */
    if (!first && fputs("---\n", out) == EOF)
        return cw_fail(err, CW_EIO, "writing YAML: %s", strerror(errno));
    if (!yaml_emitter_initialize(&w.e))
        return cw_fail(err, CW_ENOMEM, "writing YAML: out of memory");
    yaml_emitter_set_output(&w.e, yaml_write_handler, &w);
    yaml_emitter_set_unicode(&w.e, 1);
    yaml_emitter_set_indent(&w.e, 2);
    yaml_emitter_set_width(&w.e, -1);
    yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
    rc = emit(&w, &ev);
    if (rc)
        goto out;
    yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1);
    rc = emit(&w, &ev);
    if (rc)
        goto out;
    rc = emit_node(&w, doc, 0);
    if (rc)
        goto out;
    yaml_document_end_event_initialize(&ev, 1);
    rc = emit(&w, &ev);
    if (rc)
        goto out;
    yaml_stream_end_event_initialize(&ev);
    rc = emit(&w, &ev);
    if (rc)
        goto out;
    if (!yaml_emitter_flush(&w.e))
        rc = cw_fail(err, CW_EIO, "writing YAML: %s", strerror(errno));
out:
    yaml_emitter_delete(&w.e);
    return rc;
}

/* ---------------------------------------------------------------- writing JSON */

/* s as a quoted JSON string (jsonesc.h), the runs between escapes written whole. */
static bool put_json_string(FILE *out, const char *s)
{
    size_t plain = 0, i = 0;
    if (fputc('"', out) == EOF)
        return false;
    for (; s[i]; i++) {
        char esc[JSONESC_BYTE_MAX];
        size_t n = jsonesc_byte((unsigned char)s[i], esc);
        if (n == 1)
            continue;
        if (fwrite(s + plain, 1, i - plain, out) != i - plain || fwrite(esc, 1, n, out) != n)
            return false;
        plain = i + 1;
    }
    if (fwrite(s + plain, 1, i - plain, out) != i - plain)
        return false;
    return fputc('"', out) != EOF;
}

static bool put_indent(FILE *out, size_t depth)
{
    if (fputc('\n', out) == EOF)
        return false;
    for (size_t i = 0; i < depth; i++)
        if (fputs("  ", out) == EOF)
            return false;
    return true;
}

CW_MUST_USE static cw_result put_json(FILE *out, const cJSON *n, size_t depth, cw_error *err)
{
    char num[GONUM_TEXT_MAX] = "";
    const char *text;
    cw_result rc;
    if (cJSON_IsObject(n) || cJSON_IsArray(n)) {
        bool is_map = cJSON_IsObject(n);
        if (depth + 1 > MANIFEST_DEPTH_MAX)
            return cw_fail(err, CW_ELIMIT, "writing JSON: nesting deeper than %d",
                           MANIFEST_DEPTH_MAX);
        if (fputc(is_map ? '{' : '[', out) == EOF)
            goto io;
        for (const cJSON *c = n->child; c; c = c->next) {
            if (!put_indent(out, depth + 1))
                goto io;
            if (is_map) {
                if (!c->string || !manifest_utf8_valid(c->string, strlen(c->string)))
                    return cw_fail(err, CW_EINVAL, "writing JSON: a key is missing or not UTF-8");
                if (!put_json_string(out, c->string) || fputs(": ", out) == EOF)
                    goto io;
            }
            rc = put_json(out, c, depth + 1, err);
            if (rc)
                return rc;
            if (c->next && fputc(',', out) == EOF)
                goto io;
        }
        if (n->child && !put_indent(out, depth))
            goto io;
        if (fputc(is_map ? '}' : ']', out) == EOF)
            goto io;
        return CW_OK;
    }
    if (cJSON_IsString(n)) {
        const char *s = n->valuestring ? n->valuestring : "";
        if (!manifest_utf8_valid(s, strlen(s)))
            return cw_fail(err, CW_EINVAL, "writing JSON: a string is not valid UTF-8");
        return put_json_string(out, s) ? CW_OK : cw_fail(err, CW_EIO, "writing JSON failed");
    }
    if (cJSON_IsRaw(n)) {
        if (!n->valuestring || !jsonnum_is(n->valuestring, strlen(n->valuestring)))
            return cw_fail(err, CW_EINVAL, "writing JSON: a raw value is not a number");
        text = n->valuestring;
    } else if (cJSON_IsNumber(n)) {
        rc = number_text(n, num, &text, err);
        if (rc)
            return rc;
    } else if (cJSON_IsBool(n)) {
        text = cJSON_IsTrue(n) ? "true" : "false";
    } else if (cJSON_IsNull(n)) {
        text = "null";
    } else {
        return cw_fail(err, CW_EINVAL, "writing JSON: a node of unknown type");
    }
    if (fputs(text, out) == EOF)
        goto io;
    return CW_OK;
io:
    return cw_fail(err, CW_EIO, "writing JSON: %s", strerror(errno));
}

cw_result manifest_write_json(FILE *out, const cJSON *doc, cw_error *err)
{
    if (!out || !doc)
        return cw_fail(err, CW_EINVAL, "writing JSON: no output or document");
    cw_result rc = put_json(out, doc, 0, err);
    if (rc)
        return rc;
    if (fputc('\n', out) == EOF)
        return cw_fail(err, CW_EIO, "writing JSON: %s", strerror(errno));
    return CW_OK;
}
