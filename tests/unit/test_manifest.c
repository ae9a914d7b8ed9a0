/* Unit tests of webhook/formats/manifest*.c and yaml11.c: every limit crossed, the errors (each
 * naming the source and the line), and the writers' choices. The reading rules themselves are
 * compared with kubectl's conversion by tests/manifest/check.py. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gonum.h"
#include "manifest.h"
#include "yaml11.h"

/* Reads text; returns the code, with the message in err. */
static cw_result read_text(const char *name, const char *text, size_t len, manifest_docs *d,
                           cw_error *err)
{
    memset(err, 0, sizeof *err);
    cw_result rc = manifest_read(name, text, len, d, err);
    if (rc != CW_OK) {
        assert_null(d->docs);
        assert_int_equal(d->count, 0);
    }
    return rc;
}

static void expect_error(const char *text, size_t len, cw_result code, const char *where,
                         const char *what)
{
    manifest_docs d;
    cw_error err;
    assert_int_equal(read_text("deploy.yaml", text, len, &d, &err), code);
    if (!strstr(err.msg, where) || !strstr(err.msg, what))
        fail_msg("message \"%s\" lacks \"%s\" or \"%s\"", err.msg, where, what);
}

/* The only document of text as compact JSON (owned). */
static char *read_one(const char *text)
{
    manifest_docs d;
    cw_error err;
    if (read_text("t.yaml", text, strlen(text), &d, &err) != CW_OK)
        fail_msg("%s", err.msg);
    assert_int_equal(d.count, 1);
    char *json = cJSON_PrintUnformatted(d.docs[0]);
    manifest_docs_free(&d);
    return json;
}

static void expect_json(const char *text, const char *json)
{
    char *got = read_one(text);
    assert_string_equal(got, json);
    cJSON_free(got);
}

static void test_alias_bomb(void **state)
{
    (void)state;
    const char *bomb = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
                       "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                       "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
                       "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
                       "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
                       "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
                       "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
                       "h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]\n"
                       "i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]\n";
    expect_error(bomb, strlen(bomb), CW_ELIMIT, "deploy.yaml:", "nodes");
}

static void test_alias_text_bomb(void **state)
{
    (void)state;
    /* Few nodes, much text: a 1 MiB string aliased 300 times crosses MANIFEST_BYTES_MAX. */
    size_t big = 1024 * 1024;
    char *text = malloc(big + 4096);
    assert_non_null(text);
    size_t n = (size_t)snprintf(text, 64, "a: &a ");
    memset(text + n, 'x', big);
    n += big;
    n += (size_t)snprintf(text + n, 64, "\nb: [");
    for (int i = 0; i < 300; i++)
        n += (size_t)snprintf(text + n, 8, "*a,");
    n += (size_t)snprintf(text + n, 8, "*a]\n");
    expect_error(text, n, CW_ELIMIT, "deploy.yaml:2:", "bytes");
    free(text);
}

static void test_deep_nesting(void **state)
{
    (void)state;
    size_t n = 10000;
    char *text = malloc(n + 1);
    assert_non_null(text);
    memset(text, '[', n);
    expect_error(text, n, CW_ELIMIT, "deploy.yaml:1:", "nesting");
    /* The same as YAML (the JSON attempt fails first on syntax at the end). */
    text[0] = 'a';
    text[1] = ':';
    text[2] = ' ';
    expect_error(text, n, CW_ELIMIT, "deploy.yaml:1:", "nesting");
    /* Block nesting, one level per line. */
    free(text);
    text = malloc(300 * 300 + 1);
    assert_non_null(text);
    size_t len = 0;
    for (int i = 0; i < 300; i++) {
        memset(text + len, ' ', (size_t)i);
        len += (size_t)i;
        memcpy(text + len, "k:\n", 3);
        len += 3;
    }
    expect_error(text, len, CW_ELIMIT, "deploy.yaml:201:", "nesting deeper than 200");
    free(text);
}

static void test_depth_limit_exact(void **state)
{
    (void)state;
    char text[2 * MANIFEST_DEPTH_MAX + 2];
    memset(text, '[', MANIFEST_DEPTH_MAX);
    memset(text + MANIFEST_DEPTH_MAX, ']', MANIFEST_DEPTH_MAX);
    manifest_docs d;
    cw_error err;
    assert_int_equal(read_text("x", text, 2 * MANIFEST_DEPTH_MAX, &d, &err), CW_OK);
    manifest_docs_free(&d);
    /* One more level: refused. */
    text[0] = 'a';
    memset(text, '[', MANIFEST_DEPTH_MAX + 1);
    memset(text + MANIFEST_DEPTH_MAX + 1, ']', MANIFEST_DEPTH_MAX + 1);
    assert_int_equal(read_text("x", text, 2 * MANIFEST_DEPTH_MAX + 2, &d, &err), CW_ELIMIT);
}

static void test_deep_via_alias(void **state)
{
    (void)state;
    /* 150 levels, an anchor at the bottom of a 100-level tree: together over 200. */
    char *text = malloc(4096);
    assert_non_null(text);
    size_t n = 0;
    n += (size_t)snprintf(text + n, 16, "a: &d ");
    for (int i = 0; i < 100; i++)
        text[n++] = '[';
    for (int i = 0; i < 100; i++)
        text[n++] = ']';
    n += (size_t)snprintf(text + n, 16, "\nb: ");
    for (int i = 0; i < 150; i++)
        text[n++] = '[';
    n += (size_t)snprintf(text + n, 8, "*d");
    for (int i = 0; i < 150; i++)
        text[n++] = ']';
    text[n++] = '\n';
    expect_error(text, n, CW_ELIMIT, "deploy.yaml:2:", "alias");
    free(text);
}

static void test_too_many_documents(void **state)
{
    (void)state;
    size_t count = MANIFEST_DOCS_MAX + 1;
    char *text = malloc(count * 9 + 1);
    assert_non_null(text);
    size_t n = 0;
    for (size_t i = 0; i < count; i++) {
        memcpy(text + n, "a: 1\n---\n", 9);
        n += 9;
    }
    expect_error(text, n, CW_ELIMIT, "deploy.yaml:", "more than 10000 documents");
    /* Exactly the limit is fine. */
    manifest_docs d;
    cw_error err;
    assert_int_equal(read_text("x", text, n - 9, &d, &err), CW_OK);
    assert_int_equal(d.count, MANIFEST_DOCS_MAX);
    manifest_docs_free(&d);
    /* JSON values one after another count the same. */
    n = 0;
    for (size_t i = 0; i < count; i++) {
        memcpy(text + n, "{}\n", 3);
        n += 3;
    }
    expect_error(text, n, CW_ELIMIT, "deploy.yaml:", "documents");
    free(text);
}

static void test_input_too_large(void **state)
{
    (void)state;
    /* The size is checked before the buffer is looked at. */
    static const char one[1] = "a";
    manifest_docs d;
    cw_error err;
    assert_int_equal(read_text("big.yaml", one, (size_t)MANIFEST_INPUT_MAX + 1, &d, &err),
                     CW_ELIMIT);
    assert_non_null(strstr(err.msg, "big.yaml"));
}

static void test_duplicate_keys(void **state)
{
    (void)state;
    const char *yaml = "metadata:\n"
                       "  name: a\n"
                       "  labels: {}\n"
                       "  name: b\n";
    expect_error(yaml, strlen(yaml), CW_EINVAL, "deploy.yaml:4:3:", "duplicate key \"name\"");
    /* Keys that become the same JSON key. */
    expect_error("y: 1\ntrue: 2\n", 12, CW_EINVAL, "deploy.yaml:2:1:", "duplicate key \"true\"");
    expect_error("1: a\n\"1\": b\n", 12, CW_EINVAL, "deploy.yaml:2:1:", "duplicate key \"1\"");
    const char *json = "{\n  \"a\": 1,\n  \"a\": 2\n}\n";
    expect_error(json, strlen(json), CW_EINVAL, "deploy.yaml:3:3:", "duplicate key \"a\"");
    /* A merged key may be overridden, an explicit one may not be repeated. */
    expect_json("b: &b {x: 1}\nm: {<<: *b, x: 2}\n", "{\"b\":{\"x\":1},\"m\":{\"x\":2}}");
}

static void test_bad_text(void **state)
{
    (void)state;
    expect_error("a: 1\nb: \xff\n", 10, CW_EINVAL, "deploy.yaml:2:4:", "invalid UTF-8");
    expect_error("a: \xed\xa0\x80\n", 7, CW_EINVAL, "deploy.yaml:1:4:", "invalid UTF-8");
    expect_error("a: \xc0\xaf\n", 6, CW_EINVAL, "deploy.yaml:1:4:", "invalid UTF-8");
    expect_error("a: b\0c\n", 7, CW_EINVAL, "deploy.yaml:1:5:", "NUL byte");
    expect_error("a: \"x\\0y\"\n", 10, CW_EINVAL, "deploy.yaml:1:4:", "NUL");
    expect_error("{\"a\": \"x\\u0000\"}", 16, CW_EINVAL, "deploy.yaml:1:", "\\u0000");
}

static void test_unrepresentable(void **state)
{
    (void)state;
    expect_error("a: 1\nb: .inf\n", 12, CW_EINVAL, "deploy.yaml:2:4:", ".inf");
    expect_error("b: [-.Inf]\n", 11, CW_EINVAL, "deploy.yaml:1:5:", "-.inf");
    expect_error("b: .NaN\n", 8, CW_EINVAL, "deploy.yaml:1:4:", ".nan");
    expect_error("~: x\n", 5, CW_EINVAL, "deploy.yaml:1:1:", "null");
    expect_error("18446744073709551615: x\n", 24, CW_EINVAL, "deploy.yaml:1:1:", "key");
    expect_error("? [a]\n: x\n", 10, CW_EINVAL, "deploy.yaml:1:3:", "map key");
    expect_error("{\"a\": 1e999}", 12, CW_EINVAL, "deploy.yaml:1:7:", "out of range");
    /* As keys, the specials have names. */
    expect_json(".inf: a\n-.inf: b\n.nan: c\n", "{\".inf\":\"a\",\"-.inf\":\"b\",\".nan\":\"c\"}");
}

static void test_syntax_and_anchor_errors(void **state)
{
    (void)state;
    expect_error("a: 1\nb: [1, 2\n", 13, CW_EINVAL, "deploy.yaml:3:", "did not find");
    expect_error("a: *nope\n", 9, CW_EINVAL, "deploy.yaml:1:4:", "unknown anchor 'nope'");
    expect_error("a: &r [*r]\n", 11, CW_EINVAL, "deploy.yaml:1:8:", "contains itself");
    expect_error("a: {<<: 1}\n", 11, CW_EINVAL, "deploy.yaml:1:9:", "merge");
    expect_error("a: !!int x\n", 11, CW_EINVAL, "deploy.yaml:1:4:", "!!int");
    expect_error("a: 1\n--- b\n", 11, CW_EINVAL, "deploy.yaml:2:1:", "separator");
    expect_error("a: 1\n...\nb: 2\n", 13, CW_EINVAL, "deploy.yaml:3:1:", "document");
    /* Lines count across documents. */
    expect_error("a: 1\n---\nb: 1\nc: .inf\n", 22, CW_EINVAL, "deploy.yaml:4:4:", ".inf");
}

static void test_wrong_input(void **state)
{
    (void)state;
    manifest_docs d;
    cw_error err;
    assert_int_equal(manifest_read("x", NULL, 5, &d, &err), CW_EINVAL);
    assert_int_equal(manifest_read("x", "a", 1, NULL, &err), CW_EINVAL);
    /* Nothing, or nothing but comments. */
    assert_int_equal(read_text("x", "", 0, &d, &err), CW_OK);
    assert_int_equal(d.count, 0);
    manifest_docs_free(&d);
    assert_int_equal(read_text("x", "# c\n---\n# d\n", 12, &d, &err), CW_OK);
    assert_int_equal(d.count, 2);
    assert_true(cJSON_IsNull(d.docs[0]) && cJSON_IsNull(d.docs[1]));
    manifest_docs_free(&d);
    /* All or nothing: a bad last document fails the stream. */
    assert_int_equal(read_text("x", "a: 1\n---\nb: .inf\n", 17, &d, &err), CW_EINVAL);
    manifest_docs_free(NULL);
}

static void test_numbers(void **state)
{
    (void)state;
    expect_json("[9007199254740993, 1.0, 1e21, 0.000001, 1e-7, 0755, 0x1F, 0b101, 1_000]",
                "[9007199254740993,1,1e+21,0.000001,1e-7,493,31,5,1000]");
    expect_json("{\"a\": [9007199254740993, 1.0, 1e3, -0]}",
                "{\"a\":[9007199254740993,1.0,1e3,-0]}");
    expect_json("a: [yes, on, y, \"yes\", 2001-12-14, ~, 1.10]",
                "{\"a\":[true,true,true,\"yes\",\"2001-12-14\",null,1.1]}");
}

/* Writes doc as YAML (or JSON) to an owned string. */
static char *write_doc(const cJSON *doc, int yaml, int first)
{
    char *text = NULL;
    size_t len = 0;
    cw_error err;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    cw_result rc =
        yaml ? manifest_write_yaml(f, doc, first, &err) : manifest_write_json(f, doc, &err);
    fclose(f);
    if (rc != CW_OK)
        fail_msg("%s", err.msg);
    return text;
}

static void test_write_yaml(void **state)
{
    (void)state;
    manifest_docs d;
    cw_error err;
    const char *in = "{\"s\": [\"yes\", \"1.10\", \"0755\", \"null\", \"\", \"~\", \"2001-12-14\","
                     " \" x \", \"plain\", \"<<\", \"a\\nb\\n\"], \"n\": 1.50, \"e\": {},"
                     " \"l\": [], \"yes\": true, \"z\": null}";
    assert_int_equal(read_text("x", in, strlen(in), &d, &err), CW_OK);
    char *text = write_doc(d.docs[0], 1, 0);
    const char *want = "---\n"
                       "s:\n"
                       "- \"yes\"\n"
                       "- \"1.10\"\n"
                       "- \"0755\"\n"
                       "- \"null\"\n"
                       "- \"\"\n"
                       "- \"~\"\n"
                       "- 2001-12-14\n"
                       "- ' x '\n"
                       "- plain\n"
                       "- \"<<\"\n"
                       "- |\n"
                       "  a\n"
                       "  b\n"
                       "\"n\": 1.50\n"
                       "e: {}\n"
                       "l: []\n"
                       "\"yes\": true\n"
                       "z: null\n";
    assert_string_equal(text, want);
    assert_null(strchr(text, '!'));
    free(text);
    text = write_doc(d.docs[0], 1, 1);
    assert_true(strncmp(text, "s:\n", 3) == 0);
    free(text);
    manifest_docs_free(&d);
}

static void test_write_json(void **state)
{
    (void)state;
    manifest_docs d;
    cw_error err;
    const char *in =
        "a: [1, 1.5e300, {}, []]\nb: {c: \"q\\\"\\t\\u0001é\"}\nnum: 9007199254740993\n";
    assert_int_equal(read_text("x", in, strlen(in), &d, &err), CW_OK);
    char *text = write_doc(d.docs[0], 0, 1);
    assert_string_equal(text, "{\n"
                              "  \"a\": [\n"
                              "    1,\n"
                              "    1.5e+300,\n"
                              "    {},\n"
                              "    []\n"
                              "  ],\n"
                              "  \"b\": {\n"
                              "    \"c\": \"q\\\"\\t\\u0001é\"\n"
                              "  },\n"
                              "  \"num\": 9007199254740993\n"
                              "}\n");
    free(text);
    manifest_docs_free(&d);
}

static void test_write_rejects(void **state)
{
    (void)state;
    cw_error err;
    FILE *f = fopen("/dev/null", "w");
    assert_non_null(f);
    cJSON *raw = cJSON_CreateRaw("{\"not\": 1}");
    assert_int_equal(manifest_write_yaml(f, raw, 1, &err), CW_EINVAL);
    assert_int_equal(manifest_write_json(f, raw, &err), CW_EINVAL);
    cJSON_Delete(raw);
    cJSON *inf = cJSON_CreateNumber(INFINITY);
    assert_int_equal(manifest_write_json(f, inf, &err), CW_EINVAL);
    cJSON_Delete(inf);
    cJSON *bad = cJSON_CreateString("\xff");
    assert_int_equal(manifest_write_yaml(f, bad, 1, &err), CW_EINVAL);
    assert_int_equal(manifest_write_json(f, bad, &err), CW_EINVAL);
    cJSON_Delete(bad);
    /* A plain cJSON number is written as Go prints it. */
    cJSON *num = cJSON_CreateNumber(2.0);
    assert_int_equal(manifest_write_json(f, num, &err), CW_OK);
    cJSON_Delete(num);
    fclose(f);
}

static yaml11_kind resolve(const char *s)
{
    yaml11_value v;
    assert_int_equal(yaml11_resolve(s, strlen(s), &v, NULL), CW_OK);
    return v.kind;
}

/* The resolver both readers use (the whole table is compared with kubectl by check.py). */
static void test_yaml11_resolve(void **state)
{
    (void)state;
    yaml11_value v;
    assert_int_equal(resolve(""), YAML11_NULL);
    assert_int_equal(resolve("~"), YAML11_NULL);
    assert_int_equal(resolve("yes"), YAML11_BOOL);
    assert_int_equal(resolve("Off"), YAML11_BOOL);
    assert_int_equal(resolve("yes "), YAML11_STR);
    assert_int_equal(resolve("y Y"), YAML11_STR);
    assert_int_equal(resolve("oN"), YAML11_STR);
    assert_int_equal(resolve(".inf"), YAML11_FLOAT);
    assert_int_equal(resolve("0x1F"), YAML11_INT);
    assert_int_equal(resolve("18446744073709551615"), YAML11_UINT);
    assert_int_equal(resolve("18446744073709551616"), YAML11_FLOAT);
    assert_int_equal(resolve("1e400"), YAML11_STR);
    assert_int_equal(resolve(".5_0"), YAML11_FLOAT);
    assert_int_equal(resolve("._5"), YAML11_STR);
    assert_int_equal(resolve("2001-12-14"), YAML11_STR);
    assert_int_equal(yaml11_resolve("0755", 4, &v, NULL), CW_OK);
    assert_int_equal(v.kind, YAML11_INT);
    assert_int_equal(v.i, 493);
    assert_int_equal(yaml11_resolve("1_000", 5, &v, NULL), CW_OK);
    assert_int_equal(v.i, 1000);
    /* number text longer than the stack copy */
    char long_num[YAML11_STACK_TEXT * 2 + 1];
    memset(long_num, '1', sizeof long_num - 1);
    long_num[sizeof long_num - 1] = '\0';
    long_num[5] = '.';
    assert_int_equal(resolve(long_num), YAML11_FLOAT);
    assert_true(yaml11_is_timestamp("2001-12-14t21:59:43.10-05:00", 28));
    assert_false(yaml11_is_timestamp("2001-02-29", 10));
    yaml11_tag tag;
    assert_true(yaml11_tag_lookup("tag:yaml.org,2002:int", &tag));
    assert_int_equal(tag, YAML11_TAG_INT);
    assert_false(yaml11_tag_lookup("tag:yaml.org,2002:binary", &tag));
    assert_string_equal(yaml11_tag_name(yaml11_tag_of(YAML11_UINT)), "!!int");
    char text[GONUM_TEXT_MAX];
    gonum_json_float(1e21, text);
    assert_string_equal(text, "1e+21");
    gonum_json_float(1e-7, text);
    assert_string_equal(text, "1e-7");
    gonum_key_float(0.1, text);
    assert_string_equal(text, "0.1");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alias_bomb),
        cmocka_unit_test(test_alias_text_bomb),
        cmocka_unit_test(test_deep_nesting),
        cmocka_unit_test(test_depth_limit_exact),
        cmocka_unit_test(test_deep_via_alias),
        cmocka_unit_test(test_too_many_documents),
        cmocka_unit_test(test_input_too_large),
        cmocka_unit_test(test_duplicate_keys),
        cmocka_unit_test(test_bad_text),
        cmocka_unit_test(test_unrepresentable),
        cmocka_unit_test(test_syntax_and_anchor_errors),
        cmocka_unit_test(test_wrong_input),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_write_yaml),
        cmocka_unit_test(test_write_json),
        cmocka_unit_test(test_write_rejects),
        cmocka_unit_test(test_yaml11_resolve),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
