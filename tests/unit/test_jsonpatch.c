/* Tests for webhook/formats/jsonpatch.c: every enabled RFC 6902 conformance case of
 * $COCO_SHARED/json-patch-tests/, the path builder, jsonpatch_append, Raw number equality,
 * the limits, and malformed patches. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "jsonpatch.h"

/* ------------------------------------------------------------------------------------------
 * Helpers */

static cJSON *parse(const char *text)
{
    cJSON *v = cJSON_ParseWithOpts(text, NULL, 1);
    assert_non_null(v);
    return v;
}

static void check_links(const cJSON *v);

/* Asserts that jsonpatch_apply_taking gives what jsonpatch_apply gave (r, *err, and on
 * success the document), and prints the patch as cJSON does. */
static void same_when_taking(const char *doc_text, const char *patch_text, cw_result r,
                             const cJSON *doc, const cw_error *err)
{
    cJSON *patch = parse(patch_text);
    if (cJSON_IsArray(patch)) {
        char *want = cJSON_PrintUnformatted(patch), *got = NULL;
        size_t len = 0;
        assert_int_equal(jsonpatch_print(patch, 1 << 20, &got, &len), CW_OK);
        assert_string_equal(got, want);
        assert_int_equal(len, strlen(want));
        free(got);
        cJSON_free(want);
    }
    cJSON *tdoc = parse(doc_text);
    cw_error terr = {{0}};
    cw_result tr = jsonpatch_apply_taking(&tdoc, patch, &terr);
    if (tr != r || strcmp(terr.msg, err->msg) != 0)
        fail_msg("%s on %s: taking gave %s (%s), copying %s (%s)", patch_text, doc_text,
                 cw_result_str(tr), terr.msg, cw_result_str(r), err->msg);
    if (r == CW_OK) {
        check_links(tdoc);
        assert_true(jsonpatch_equal(tdoc, doc));
    }
    cJSON_Delete(patch);
    cJSON_Delete(tdoc);
}

/* Applies patch text to doc text; returns the result code and leaves the document (and the
 * error) for the caller. */
static cw_result apply_text(const char *doc_text, const char *patch_text, cJSON **doc,
                            cw_error *err)
{
    *doc = parse(doc_text);
    cJSON *patch = parse(patch_text);
    memset(err, 0, sizeof *err);
    cw_result r = jsonpatch_apply(doc, patch, err);
    cJSON_Delete(patch);
    same_when_taking(doc_text, patch_text, r, *doc, err);
    return r;
}

/* Asserts that v's member lists are consistent: cJSON keeps the last member in the first
 * one's prev, and every other prev points back. */
static void check_links(const cJSON *v)
{
    if (!v->child)
        return;
    const cJSON *last = v->child;
    assert_null(v->child->prev->next);
    for (const cJSON *m = v->child; m; m = m->next) {
        if (m != v->child)
            assert_ptr_equal(m->prev->next, m);
        check_links(m);
        last = m;
    }
    assert_ptr_equal(v->child->prev, last);
}

/* Asserts that the patch applies and gives expected. */
static void expect_ok(const char *doc_text, const char *patch_text, const char *expected)
{
    cJSON *doc;
    cw_error err;
    cw_result r = apply_text(doc_text, patch_text, &doc, &err);
    if (r != CW_OK)
        fail_msg("%s on %s: %s", patch_text, doc_text, err.msg);
    check_links(doc);
    cJSON *want = parse(expected);
    if (!jsonpatch_equal(doc, want)) {
        char *got = cJSON_PrintUnformatted(doc);
        print_error("got %s, want %s\n", got, expected);
        cJSON_free(got);
        fail();
    }
    cJSON_Delete(want);
    cJSON_Delete(doc);
}

/* Asserts that the patch fails with code and a message containing needle. */
static void expect_fail(const char *doc_text, const char *patch_text, cw_result code,
                        const char *needle)
{
    cJSON *doc;
    cw_error err;
    cw_result r = apply_text(doc_text, patch_text, &doc, &err);
    cJSON_Delete(doc);
    if (r != code)
        fail_msg("%s on %s: got %s (%s), want %s", patch_text, doc_text, cw_result_str(r), err.msg,
                 cw_result_str(code));
    if (needle && !strstr(err.msg, needle))
        fail_msg("%s: message \"%s\" lacks \"%s\"", patch_text, err.msg, needle);
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t n = fread(buf + len, 1, cap - len - 1, f);
        len += n;
        if (n == 0)
            break;
        if (len + 1 == cap) {
            char *nbuf = realloc(buf, cap * 2);
            if (!nbuf) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nbuf;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf)
        buf[len] = '\0';
    return buf;
}

/* ------------------------------------------------------------------------------------------
 * Conformance cases */

/* Runs every enabled case of one file; returns how many ran and adds failures to *failed. */
static int run_case_file(const char *name, int *failed)
{
    const char *shared = getenv("COCO_SHARED");
    assert_non_null(shared);
    char path[4096];
    int n = snprintf(path, sizeof path, "%s/json-patch-tests/%s", shared, name);
    assert_true(n > 0 && (size_t)n < sizeof path);
    char *text = read_file(path);
    if (!text)
        fail_msg("cannot read %s", path);
    cJSON *cases = cJSON_Parse(text);
    free(text);
    assert_true(cJSON_IsArray(cases));

    int ran = 0, index = -1;
    const cJSON *c;
    cJSON_ArrayForEach(c, cases)
    {
        index++;
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "disabled")))
            continue;
        const cJSON *expected = cJSON_GetObjectItemCaseSensitive(c, "expected");
        const cJSON *error = cJSON_GetObjectItemCaseSensitive(c, "error");
        const cJSON *comment = cJSON_GetObjectItemCaseSensitive(c, "comment");
        const char *label = cJSON_IsString(comment) ? comment->valuestring : "";
        if (!expected && !error)
            continue;
        cJSON *doc = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(c, "doc"), 1);
        assert_non_null(doc);
        cw_error err = {{0}};
        cw_result r = jsonpatch_apply(&doc, cJSON_GetObjectItemCaseSensitive(c, "patch"), &err);
        ran++;
        {
            char *dt = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(c, "doc"));
            char *pt = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(c, "patch"));
            assert_non_null(dt);
            assert_non_null(pt);
            same_when_taking(dt, pt, r, doc, &err);
            cJSON_free(dt);
            cJSON_free(pt);
        }
        if (expected && r != CW_OK) {
            print_error("%s #%d (%s): failed: %s\n", name, index, label, err.msg);
            (*failed)++;
        } else if (expected && !jsonpatch_equal(doc, expected)) {
            char *got = cJSON_PrintUnformatted(doc);
            print_error("%s #%d (%s): wrong result %s\n", name, index, label, got);
            cJSON_free(got);
            (*failed)++;
        } else if (error && r == CW_OK) {
            print_error("%s #%d (%s): applied, want error \"%s\"\n", name, index, label,
                        cJSON_IsString(error) ? error->valuestring : "");
            (*failed)++;
        }
        cJSON_Delete(doc);
    }
    cJSON_Delete(cases);
    return ran;
}

static void test_conformance(void **state)
{
    (void)state;
    int failed = 0;
    int ran = run_case_file("tests.json", &failed);
    ran += run_case_file("spec_tests.json", &failed);
    printf("jsonpatch conformance: %d cases ran, %d failed\n", ran, failed);
    assert_true(ran > 0);
    assert_int_equal(failed, 0);
}

/* ------------------------------------------------------------------------------------------
 * Path builder */

static void test_path_escaping(void **state)
{
    (void)state;
    jsonpatch_path p;
    jsonpatch_path_init(&p);
    assert_string_equal(p.buf, "");
    assert_true(jsonpatch_path_ok(&p));

    jsonpatch_path_key(&p, "metadata");
    jsonpatch_path_key(&p, "annotations");
    size_t mark = p.len;
    jsonpatch_path_key(&p, "coco.confidentialcontainers.org/enabled");
    assert_string_equal(p.buf, "/metadata/annotations/coco.confidentialcontainers.org~1enabled");
    jsonpatch_path_truncate(&p, mark);
    assert_string_equal(p.buf, "/metadata/annotations");
    /* "~" first: a key "~1" must not read back as "/". */
    jsonpatch_path_key(&p, "a~1/~");
    assert_string_equal(p.buf, "/metadata/annotations/a~01~1~0");
    jsonpatch_path_truncate(&p, mark);
    jsonpatch_path_key(&p, "");
    assert_string_equal(p.buf, "/metadata/annotations/");

    jsonpatch_path_init(&p);
    jsonpatch_path_key(&p, "spec");
    jsonpatch_path_key(&p, "volumes");
    jsonpatch_path_index(&p, 7);
    assert_string_equal(p.buf, "/spec/volumes/7");
    jsonpatch_path_truncate(&p, p.len - 2);
    jsonpatch_path_append_end(&p);
    assert_string_equal(p.buf, "/spec/volumes/-");
    jsonpatch_path_truncate(&p, 100); /* longer than the path: ignored */
    assert_string_equal(p.buf, "/spec/volumes/-");
    assert_int_equal(p.len, strlen(p.buf));
    assert_true(jsonpatch_path_ok(&p));

    jsonpatch_path_init(&p);
    jsonpatch_path_index(&p, SIZE_MAX);
    assert_string_equal(p.buf, "/18446744073709551615");
}

/* The path and its applied form agree: a key escaped by the builder is the key the applier
 * finds. */
static void test_path_round_trip(void **state)
{
    (void)state;
    static const char *const keys[] = {"a/b", "~", "~1", "~0/~1", "/", "", "-", "0", " x"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        cJSON *doc = parse("{\"m\":{}}");
        cJSON *patch = cJSON_CreateArray();
        jsonpatch_path p;
        jsonpatch_path_init(&p);
        jsonpatch_path_key(&p, "m");
        jsonpatch_path_key(&p, keys[i]);
        cw_error err;
        assert_int_equal(jsonpatch_append(patch, "add", &p, cJSON_CreateString("v"), &err), CW_OK);
        assert_int_equal(jsonpatch_apply(&doc, patch, &err), CW_OK);
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(doc, "m");
        assert_int_equal(cJSON_GetArraySize(m), 1);
        assert_string_equal(m->child->string, keys[i]);
        cJSON_Delete(patch);
        cJSON_Delete(doc);
    }
}

static void test_path_overflow(void **state)
{
    (void)state;
    jsonpatch_path p;
    char key[JSONPATCH_PATH_MAX];

    /* Exactly JSONPATCH_PATH_MAX - 1 bytes fit. */
    memset(key, 'k', JSONPATCH_PATH_MAX - 2);
    key[JSONPATCH_PATH_MAX - 2] = '\0';
    jsonpatch_path_init(&p);
    jsonpatch_path_key(&p, key);
    assert_true(jsonpatch_path_ok(&p));
    assert_int_equal(p.len, JSONPATCH_PATH_MAX - 1);

    /* One more byte overflows; the buffer keeps its last valid prefix. */
    jsonpatch_path_init(&p);
    jsonpatch_path_key(&p, "a");
    jsonpatch_path_key(&p, key);
    assert_false(jsonpatch_path_ok(&p));
    assert_string_equal(p.buf, "/a");

    /* Escapes count: "~" takes two bytes. */
    memset(key, '~', JSONPATCH_PATH_MAX / 2);
    key[JSONPATCH_PATH_MAX / 2] = '\0';
    jsonpatch_path_init(&p);
    jsonpatch_path_key(&p, key);
    assert_false(jsonpatch_path_ok(&p));

    /* Sticky: truncating back and appending more does not clear it. */
    jsonpatch_path_truncate(&p, 0);
    jsonpatch_path_key(&p, "x");
    jsonpatch_path_index(&p, 3);
    jsonpatch_path_append_end(&p);
    assert_false(jsonpatch_path_ok(&p));

    /* Indexes and "/-" overflow too. */
    jsonpatch_path_init(&p);
    for (int i = 0; i < JSONPATCH_PATH_MAX; i++)
        jsonpatch_path_index(&p, 12345);
    assert_false(jsonpatch_path_ok(&p));
    assert_true(p.len < JSONPATCH_PATH_MAX);
    jsonpatch_path_init(&p);
    for (int i = 0; i < JSONPATCH_PATH_MAX; i++)
        jsonpatch_path_append_end(&p);
    assert_false(jsonpatch_path_ok(&p));

    /* An overflowed path is refused by jsonpatch_append, which still frees the value. */
    cJSON *patch = cJSON_CreateArray();
    cw_error err;
    assert_int_equal(jsonpatch_append(patch, "add", &p, cJSON_CreateString("v"), &err), CW_ELIMIT);
    assert_int_equal(cJSON_GetArraySize(patch), 0);
    cJSON_Delete(patch);
}

/* ------------------------------------------------------------------------------------------
 * jsonpatch_append */

static void test_append(void **state)
{
    (void)state;
    cJSON *patch = cJSON_CreateArray();
    jsonpatch_path p;
    cw_error err;

    jsonpatch_path_init(&p);
    jsonpatch_path_key(&p, "spec");
    jsonpatch_path_key(&p, "runtimeClassName");
    assert_int_equal(jsonpatch_append(patch, "add", &p, cJSON_CreateString("kata"), &err), CW_OK);
    assert_int_equal(jsonpatch_append(patch, "replace", &p, cJSON_CreateString("k2"), &err), CW_OK);
    assert_int_equal(jsonpatch_append(patch, "remove", &p, NULL, &err), CW_OK);
    cJSON *want = parse("[{\"op\":\"add\",\"path\":\"/spec/runtimeClassName\",\"value\":\"kata\"},"
                        "{\"op\":\"replace\",\"path\":\"/spec/runtimeClassName\",\"value\":\"k2\"},"
                        "{\"op\":\"remove\",\"path\":\"/spec/runtimeClassName\"}]");
    assert_true(jsonpatch_equal(patch, want));
    cJSON_Delete(want);

    /* Misuse is refused, and the value is freed every time (ASan checks). */
    assert_int_equal(jsonpatch_append(patch, "move", &p, cJSON_CreateString("x"), &err), CW_EINVAL);
    assert_int_equal(jsonpatch_append(patch, "add", &p, NULL, &err), CW_EINVAL);
    assert_int_equal(jsonpatch_append(patch, "remove", &p, cJSON_CreateNull(), &err), CW_EINVAL);
    assert_int_equal(jsonpatch_append(NULL, "add", &p, cJSON_CreateNull(), &err), CW_EINVAL);
    cJSON *obj = cJSON_CreateObject();
    assert_int_equal(jsonpatch_append(obj, "add", &p, cJSON_CreateNull(), NULL), CW_EINVAL);
    cJSON_Delete(obj);
    assert_int_equal(jsonpatch_append(patch, NULL, &p, cJSON_CreateNull(), &err), CW_EINVAL);
    assert_int_equal(jsonpatch_append(patch, "add", NULL, cJSON_CreateNull(), &err), CW_EINVAL);
    assert_int_equal(cJSON_GetArraySize(patch), 3);

    /* The patch applies as built. */
    cJSON *doc = parse("{\"spec\":{}}");
    assert_int_equal(jsonpatch_apply(&doc, patch, &err), CW_OK);
    cJSON *empty = parse("{\"spec\":{}}");
    assert_true(jsonpatch_equal(doc, empty));
    cJSON_Delete(empty);
    cJSON_Delete(doc);
    cJSON_Delete(patch);
}

/* ------------------------------------------------------------------------------------------
 * Equality */

static void test_equal(void **state)
{
    (void)state;
    static const char *const same[][2] = {
        {"{\"a\":1,\"b\":[1,{}]}", "{\"b\":[1,{}],\"a\":1}"},
        {"[]", "[]"},
        {"null", "null"},
        {"1", "1.0"},
        {"100", "1e2"},
        {"\"x\"", "\"x\""},
    };
    static const char *const differ[][2] = {
        {"[1,2]", "[2,1]"},
        {"{\"a\":1}", "{\"a\":1,\"b\":1}"},
        {"{\"a\":1}", "{\"b\":1}"},
        {"true", "1"},
        {"false", "null"},
        {"\"1\"", "1"},
        {"[]", "{}"},
        {"[[]]", "[{}]"},
        {"\"a\"", "\"A\""},
    };
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
        cJSON *a = parse(same[i][0]), *b = parse(same[i][1]);
        assert_true(jsonpatch_equal(a, b));
        assert_true(jsonpatch_equal(b, a));
        cJSON_Delete(a);
        cJSON_Delete(b);
    }
    for (size_t i = 0; i < sizeof differ / sizeof differ[0]; i++) {
        cJSON *a = parse(differ[i][0]), *b = parse(differ[i][1]);
        assert_false(jsonpatch_equal(a, b));
        assert_false(jsonpatch_equal(b, a));
        cJSON_Delete(a);
        cJSON_Delete(b);
    }
    assert_false(jsonpatch_equal(NULL, NULL));

    /* Repeated names in a hand-built object: the first member counts, as for lookups, and
     * equality stays reflexive. */
    cJSON *a = parse("{\"x\":1,\"y\":2}");
    cJSON *b = parse("{\"x\":1}");
    cJSON_AddItemToObject(b, "x", cJSON_CreateNumber(3));
    assert_false(jsonpatch_equal(a, b));
    assert_false(jsonpatch_equal(b, a));
    assert_true(jsonpatch_equal(b, b));
    cJSON *c = parse("{\"x\":1}");
    assert_true(jsonpatch_equal(b, c));
    assert_true(jsonpatch_equal(c, b));
    cJSON_Delete(a);
    cJSON_Delete(b);
    cJSON_Delete(c);
}

/* cJSON_Raw nodes hold number text (the manifest reader's exact numbers). */
static void test_equal_raw_numbers(void **state)
{
    (void)state;
    static const struct {
        const char *raw;
        const char *other; /* a Raw text, or, after "=", parsed JSON */
        bool equal;
    } cases[] = {
        {"1", "=1", true},
        {"1.0", "=1", true},
        {"1e2", "=100", true},
        {"-0", "=0", true},
        {"2", "=1", false},
        {"1", "=\"1\"", false},
        {"1", "=true", false},
        {"1", "=[1]", false},
        {"10", "1e1", true},
        {"10", "10.000", true},
        {"0.5", "5E-1", true},
        {"-0", "0.0e5", true},
        {"120", "1.2e+2", true},
        {"-12", "12", false},
        {"9007199254740993", "9007199254740993", true},
        /* Equal as doubles, not as numbers: Raw against Raw is exact. */
        {"9007199254740993", "9007199254740992", false},
        {"1.5", "15", false},
        {"100", "1e3", false},
        /* Text that is not one JSON number is equal only to the same text. */
        {"01", "1", false},
        {"01", "01", true},
        {"1 ", "1", false},
        {"", "", true},
        {"1e999999999999", "1e999999999999", true},
        {"1e999999999999", "=1", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cJSON *a = cJSON_CreateRaw(cases[i].raw);
        cJSON *b =
            cases[i].other[0] == '=' ? parse(cases[i].other + 1) : cJSON_CreateRaw(cases[i].other);
        if (jsonpatch_equal(a, b) != cases[i].equal || jsonpatch_equal(b, a) != cases[i].equal)
            fail_msg("raw %s vs %s: want %s", cases[i].raw, cases[i].other,
                     cases[i].equal ? "equal" : "different");
        cJSON_Delete(a);
        cJSON_Delete(b);
    }

    /* "test" sees a Raw number in the document as a number. */
    cJSON *doc = parse("{\"spec\":{}}");
    cJSON_AddItemToObject(cJSON_GetObjectItemCaseSensitive(doc, "spec"), "n",
                          cJSON_CreateRaw("30"));
    cJSON *patch = parse("[{\"op\":\"test\",\"path\":\"/spec/n\",\"value\":30.0},"
                         "{\"op\":\"test\",\"path\":\"/spec\",\"value\":{\"n\":3e1}}]");
    cw_error err;
    assert_int_equal(jsonpatch_apply(&doc, patch, &err), CW_OK);
    cJSON_Delete(patch);
    patch = parse("[{\"op\":\"test\",\"path\":\"/spec/n\",\"value\":\"30\"}]");
    assert_int_equal(jsonpatch_apply(&doc, patch, &err), CW_EINVAL);
    cJSON_Delete(patch);
    cJSON_Delete(doc);
}

/* ------------------------------------------------------------------------------------------
 * Applying: semantics beyond the conformance cases */

static void test_apply_semantics(void **state)
{
    (void)state;
    /* add replaces in place; siblings keep their order. */
    cJSON *doc;
    cw_error err;
    assert_int_equal(apply_text("{\"a\":1,\"b\":2,\"c\":3}",
                                "[{\"op\":\"add\",\"path\":\"/b\",\"value\":9}]", &doc, &err),
                     CW_OK);
    char *text = cJSON_PrintUnformatted(doc);
    assert_string_equal(text, "{\"a\":1,\"b\":9,\"c\":3}");
    cJSON_free(text);
    cJSON_Delete(doc);

    expect_ok("{\"a\":[1,2,3]}", "[{\"op\":\"replace\",\"path\":\"/a/2\",\"value\":{\"x\":1}}]",
              "{\"a\":[1,2,{\"x\":1}]}");
    expect_ok("{\"a\":[1,2,3]}", "[{\"op\":\"remove\",\"path\":\"/a/2\"}]", "{\"a\":[1,2]}");
    expect_ok("[0,1,2,3]", "[{\"op\":\"move\",\"from\":\"/0\",\"path\":\"/-\"}]", "[1,2,3,0]");
    expect_ok("[0,1,2,3]", "[{\"op\":\"move\",\"from\":\"/3\",\"path\":\"/0\"}]", "[3,0,1,2]");
    expect_ok("{\"a\":{\"b\":1}}", "[{\"op\":\"move\",\"from\":\"/a\",\"path\":\"\"}]",
              "{\"b\":1}");
    expect_ok("{\"a\":{\"b\":1}}", "[{\"op\":\"copy\",\"from\":\"\",\"path\":\"/a/c\"}]",
              "{\"a\":{\"b\":1,\"c\":{\"a\":{\"b\":1}}}}");
    expect_ok("{\"a\":{\"b\":1}}", "[{\"op\":\"copy\",\"from\":\"/a\",\"path\":\"/a/c\"}]",
              "{\"a\":{\"b\":1,\"c\":{\"b\":1}}}");
    expect_ok("{\"a\":1}", "[{\"op\":\"move\",\"from\":\"\",\"path\":\"\"}]", "{\"a\":1}");
    expect_ok("{\"a\":1}", "[{\"op\":\"test\",\"path\":\"\",\"value\":{\"a\":1.0}}]", "{\"a\":1}");
    expect_ok("{\"a\":1}", "[{\"op\":\"replace\",\"path\":\"\",\"value\":[1]}]", "[1]");
    /* "-" is an ordinary key in an object. */
    expect_ok("{}", "[{\"op\":\"add\",\"path\":\"/-\",\"value\":1}]", "{\"-\":1}");
    /* Unknown members are ignored (RFC 6902 §4). */
    expect_ok("{}", "[{\"op\":\"add\",\"path\":\"/a\",\"value\":1,\"x\":{}}]", "{\"a\":1}");
    /* A copied value is independent of its source. */
    expect_ok("{\"a\":{\"b\":[1]}}",
              "[{\"op\":\"copy\",\"from\":\"/a\",\"path\":\"/c\"},"
              "{\"op\":\"add\",\"path\":\"/c/b/-\",\"value\":2}]",
              "{\"a\":{\"b\":[1]},\"c\":{\"b\":[1,2]}}");
    /* Inserting anywhere keeps the member list consistent (expect_ok checks the links). */
    expect_ok("[0,1,2]",
              "[{\"op\":\"add\",\"path\":\"/1\",\"value\":\"a\"},"
              "{\"op\":\"add\",\"path\":\"/4\",\"value\":\"b\"},"
              "{\"op\":\"add\",\"path\":\"/0\",\"value\":\"c\"},"
              "{\"op\":\"add\",\"path\":\"/5\",\"value\":\"d\"},"
              "{\"op\":\"add\",\"path\":\"/-\",\"value\":\"e\"},"
              "{\"op\":\"remove\",\"path\":\"/7\"},"
              "{\"op\":\"remove\",\"path\":\"/0\"},"
              "{\"op\":\"replace\",\"path\":\"/5\",\"value\":\"f\"},"
              "{\"op\":\"replace\",\"path\":\"/0\",\"value\":\"g\"},"
              "{\"op\":\"move\",\"from\":\"/0\",\"path\":\"/5\"},"
              "{\"op\":\"add\",\"path\":\"/-\",\"value\":\"h\"}]",
              "[\"a\",1,2,\"d\",\"f\",\"g\",\"h\"]");
    expect_ok("{\"a\":1,\"b\":2,\"c\":3}",
              "[{\"op\":\"replace\",\"path\":\"/a\",\"value\":0},"
              "{\"op\":\"replace\",\"path\":\"/c\",\"value\":0},"
              "{\"op\":\"remove\",\"path\":\"/b\"},"
              "{\"op\":\"add\",\"path\":\"/d\",\"value\":[]},"
              "{\"op\":\"move\",\"from\":\"/a\",\"path\":\"/d/0\"}]",
              "{\"c\":0,\"d\":[0]}");
    /* An added array value keeps no member name from the patch. */
    assert_int_equal(apply_text("[]",
                                "[{\"op\":\"add\",\"path\":\"/0\",\"value\":1},"
                                "{\"op\":\"copy\",\"from\":\"/0\",\"path\":\"/-\"}]",
                                &doc, &err),
                     CW_OK);
    assert_null(doc->child->string);
    assert_null(doc->child->next->string);
    cJSON_Delete(doc);
}

static void test_apply_errors(void **state)
{
    (void)state;
    /* The message names the operation's index, op and path. */
    expect_fail("{\"spec\":{\"volumes\":[]}}",
                "[{\"op\":\"test\",\"path\":\"/spec/volumes\",\"value\":[]},"
                "{\"op\":\"add\",\"path\":\"/spec/volumes/7\",\"value\":{}}]",
                CW_EINVAL, "operation 1 (add \"/spec/volumes/7\"): index out of range");
    expect_fail("{\"metadata\":{}}",
                "[{\"op\":\"add\",\"path\":\"/metadata/annotations/a~1b\",\"value\":\"1\"}]",
                CW_EINVAL, "operation 0 (add \"/metadata/annotations/a~1b\"): path does not exist");

    /* Indexes: canonical and in range (RFC 6901 §4). */
    static const char *const bad_index[] = {
        "/a/01",        "/a/+1", "/a/-1",  "/a/1e0", "/a/ 1",
        "/a/1 ",        "/a/",   "/a/0x1", "/a/3",   "/a/99999999999999999999999",
        "/a/2147483648"};
    for (size_t i = 0; i < sizeof bad_index / sizeof bad_index[0]; i++) {
        char patch[256];
        static const char *const ops[] = {"remove", "replace", "test", "add"};
        for (size_t o = 0; o < 4; o++) {
            snprintf(patch, sizeof patch, "[{\"op\":\"%s\",\"path\":\"%s\",\"value\":0}]", ops[o],
                     bad_index[i]);
            if (strcmp(ops[o], "remove") == 0)
                snprintf(patch, sizeof patch, "[{\"op\":\"remove\",\"path\":\"%s\"}]",
                         bad_index[i]);
            expect_fail("{\"a\":[0,1]}", patch, CW_EINVAL, NULL);
        }
    }
    expect_fail("{\"a\":[0,1]}", "[{\"op\":\"remove\",\"path\":\"/a/-\"}]", CW_EINVAL,
                "is not an array index");
    expect_fail("{\"a\":[0,1]}", "[{\"op\":\"test\",\"path\":\"/a/-\",\"value\":1}]", CW_EINVAL,
                NULL);
    expect_fail("{\"a\":[[0]]}", "[{\"op\":\"add\",\"path\":\"/a/-/0\",\"value\":1}]", CW_EINVAL,
                NULL);
    expect_fail("{\"a\":[0]}", "[{\"op\":\"copy\",\"from\":\"/a/1\",\"path\":\"/b\"}]", CW_EINVAL,
                "from: index out of range");

    /* Escapes (RFC 6901 §3): "~" only before "0" or "1". */
    expect_fail("{\"~2\":1}", "[{\"op\":\"remove\",\"path\":\"/~2\"}]", CW_EINVAL, "\"~\"");
    expect_fail("{\"~\":1}", "[{\"op\":\"remove\",\"path\":\"/~\"}]", CW_EINVAL, NULL);
    expect_fail("{\"a\":{\"~\":1}}", "[{\"op\":\"remove\",\"path\":\"/a/~/x\"}]", CW_EINVAL, NULL);
    expect_fail("{\"a\":1}", "[{\"op\":\"move\",\"from\":\"/~a\",\"path\":\"/b\"}]", CW_EINVAL,
                NULL);
    expect_ok("{\"~\":1,\"/\":2}",
              "[{\"op\":\"remove\",\"path\":\"/~0\"},"
              "{\"op\":\"remove\",\"path\":\"/~1\"}]",
              "{}");

    /* Targets must exist; parents must be containers. */
    expect_fail("{\"a\":1}", "[{\"op\":\"replace\",\"path\":\"/b\",\"value\":1}]", CW_EINVAL,
                "path does not exist");
    expect_fail("{\"a\":1}", "[{\"op\":\"test\",\"path\":\"/b\",\"value\":null}]", CW_EINVAL, NULL);
    expect_fail("{\"a\":1}", "[{\"op\":\"add\",\"path\":\"/a/b\",\"value\":1}]", CW_EINVAL, NULL);
    expect_fail("{\"a\":\"s\"}", "[{\"op\":\"add\",\"path\":\"/a/b/c\",\"value\":1}]", CW_EINVAL,
                NULL);
    expect_fail("{\"a\":1}", "[{\"op\":\"remove\",\"path\":\"\"}]", CW_EINVAL, NULL);
    expect_fail("{\"a\":1}", "[{\"op\":\"move\",\"from\":\"/b\",\"path\":\"/c\"}]", CW_EINVAL,
                "from does not exist");

    /* Moving a value into its own child (RFC 6902 §4.4). */
    expect_fail("{\"a\":{\"b\":{}}}", "[{\"op\":\"move\",\"from\":\"/a\",\"path\":\"/a/b/c\"}]",
                CW_EINVAL, "into itself");
    expect_fail("{\"a\":[{}]}", "[{\"op\":\"move\",\"from\":\"/a/0\",\"path\":\"/a/0/x\"}]",
                CW_EINVAL, "into itself");
    expect_fail("{\"a\":1}", "[{\"op\":\"move\",\"from\":\"\",\"path\":\"/b\"}]", CW_EINVAL,
                "into itself");
    /* A sibling whose name extends the source is not a child. */
    expect_ok("{\"a\":1}", "[{\"op\":\"move\",\"from\":\"/a\",\"path\":\"/ab\"}]", "{\"ab\":1}");
    /* A failed move destination leaves a valid document (freed by the caller; ASan checks). */
    expect_fail("{\"a\":{\"x\":[1,2]}}", "[{\"op\":\"move\",\"from\":\"/a/x\",\"path\":\"/b/c\"}]",
                CW_EINVAL, NULL);

    /* Malformed operations. */
    expect_fail("{}", "[{\"path\":\"/a\",\"value\":1}]", CW_EINVAL,
                "operation 0: missing member \"op\"");
    expect_fail("{}", "[{\"op\":1,\"path\":\"/a\",\"value\":1}]", CW_EINVAL, "\"op\" is not");
    expect_fail("{}", "[{\"op\":\"add\",\"path\":[],\"value\":1}]", CW_EINVAL, "\"path\" is not");
    expect_fail("{}", "[{\"op\":\"add\",\"value\":1}]", CW_EINVAL, "missing member \"path\"");
    expect_fail("{}", "[{\"op\":\"ADD\",\"path\":\"/a\",\"value\":1}]", CW_EINVAL, "unknown op");
    expect_fail("{}", "[{\"op\":\"\",\"path\":\"/a\"}]", CW_EINVAL, "unknown op");
    expect_fail("{\"a\":1}", "[{\"op\":\"copy\",\"from\":1,\"path\":\"/b\"}]", CW_EINVAL,
                "\"from\" is not");
    expect_fail("{\"a\":1}", "[{\"op\":\"copy\",\"from\":null,\"path\":\"/b\"}]", CW_EINVAL, NULL);
    expect_fail("{\"a\":1}", "[{\"op\":\"move\",\"path\":\"/b\"}]", CW_EINVAL,
                "missing member \"from\"");
    expect_fail("{\"a\":1}", "[{\"op\":\"remove\",\"path\":\"/a\",\"value\":1}]", CW_EINVAL,
                "\"value\" does not belong");
    expect_fail("{\"a\":1}", "[{\"op\":\"add\",\"path\":\"/b\",\"from\":\"/a\",\"value\":1}]",
                CW_EINVAL, "\"from\" does not belong");
    expect_fail("{\"a\":1}", "[{\"op\":\"copy\",\"from\":\"/a\",\"path\":\"/b\",\"value\":1}]",
                CW_EINVAL, "\"value\" does not belong");
    expect_fail("{}", "[{\"op\":\"add\",\"op\":\"remove\",\"path\":\"/a\",\"value\":1}]", CW_EINVAL,
                "\"op\" appears twice");
    expect_fail("{}", "[{\"op\":\"add\",\"path\":\"/a\",\"path\":\"/b\",\"value\":1}]", CW_EINVAL,
                "\"path\" appears twice");
    expect_fail("{}", "[1]", CW_EINVAL, "operation 0: not a JSON object");
    expect_fail("{}", "[{\"op\":\"add\",\"path\":\"/a\",\"value\":1},null]", CW_EINVAL,
                "operation 1: not a JSON object");
    expect_fail("{}", "{\"op\":\"add\",\"path\":\"/a\",\"value\":1}", CW_EINVAL,
                "not a JSON array");
    expect_fail("{}", "\"[]\"", CW_EINVAL, NULL);
    expect_fail("{}", "[{\"op\":\"add\",\"path\":\"a\",\"value\":1}]", CW_EINVAL, "start with");

    /* A NULL or absent document, or a NULL patch. */
    cw_error err;
    cJSON *patch = parse("[]");
    assert_int_equal(jsonpatch_apply(NULL, patch, &err), CW_EINVAL);
    cJSON *doc = NULL;
    assert_int_equal(jsonpatch_apply(&doc, patch, &err), CW_EINVAL);
    doc = parse("{}");
    assert_int_equal(jsonpatch_apply(&doc, NULL, NULL), CW_EINVAL);
    assert_int_equal(jsonpatch_apply(&doc, patch, NULL), CW_OK);
    cJSON_Delete(doc);
    cJSON_Delete(patch);

    /* A hand-built operation with a string holding no text. */
    doc = parse("{}");
    patch = parse("[{\"op\":\"add\",\"path\":\"/a\",\"value\":1}]");
    cJSON *path = cJSON_GetObjectItemCaseSensitive(patch->child, "path");
    cJSON_free(path->valuestring);
    path->valuestring = NULL;
    assert_int_equal(jsonpatch_apply(&doc, patch, &err), CW_EINVAL);
    cJSON_Delete(patch);
    cJSON_Delete(doc);
}

/* ------------------------------------------------------------------------------------------
 * Limits */

/* A patch of n operations "test" "" against {}. */
static cJSON *many_ops(int n)
{
    cJSON *patch = cJSON_CreateArray();
    for (int i = 0; i < n; i++) {
        cJSON *o = parse("{\"op\":\"test\",\"path\":\"\",\"value\":{}}");
        cJSON_AddItemToArray(patch, o);
    }
    return patch;
}

static void test_limit_ops(void **state)
{
    (void)state;
    cw_error err;
    cJSON *doc = parse("{}");
    cJSON *patch = many_ops(JSONPATCH_OPS_MAX);
    assert_int_equal(jsonpatch_apply(&doc, patch, &err), CW_OK);
    cJSON_AddItemToArray(patch, parse("{\"op\":\"test\",\"path\":\"\",\"value\":{}}"));
    assert_int_equal(jsonpatch_apply(&doc, patch, &err), CW_ELIMIT);
    assert_non_null(strstr(err.msg, "more than 100000 operations"));
    cJSON_Delete(patch);
    cJSON_Delete(doc);
}

static void test_limit_path(void **state)
{
    (void)state;
    cw_error err;
    /* The longest accepted path: JSONPATCH_PATH_MAX - 1 bytes, "/" and a long key. */
    char *key = malloc(JSONPATCH_PATH_MAX + 1);
    assert_non_null(key);
    memset(key, 'k', JSONPATCH_PATH_MAX);
    key[JSONPATCH_PATH_MAX - 2] = '\0';
    jsonpatch_path p;
    jsonpatch_path_init(&p);
    jsonpatch_path_key(&p, key);
    assert_true(jsonpatch_path_ok(&p));

    cJSON *doc = parse("{}");
    cJSON *patch = cJSON_CreateArray();
    assert_int_equal(jsonpatch_append(patch, "add", &p, cJSON_CreateTrue(), &err), CW_OK);
    assert_int_equal(jsonpatch_apply(&doc, patch, &err), CW_OK);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(doc, key)));

    /* One byte more is refused, whatever the document, and the message stays bounded. */
    key[JSONPATCH_PATH_MAX - 2] = 'k';
    key[JSONPATCH_PATH_MAX - 1] = '\0';
    cJSON *path = cJSON_GetObjectItemCaseSensitive(patch->child, "path");
    size_t n = strlen(key) + 2;
    char *text = malloc(n);
    assert_non_null(text);
    snprintf(text, n, "/%s", key);
    assert_true(cJSON_SetValuestring(path, text) != NULL);
    assert_int_equal(strlen(path->valuestring), JSONPATCH_PATH_MAX);
    assert_int_equal(jsonpatch_apply(&doc, patch, &err), CW_ELIMIT);
    assert_non_null(strstr(err.msg, "longer than 4095"));
    assert_non_null(strstr(err.msg, "...\""));
    free(text);
    free(key);
    cJSON_Delete(patch);
    cJSON_Delete(doc);
}

static void test_limit_depth(void **state)
{
    (void)state;
    cw_error err;
    /* A document JSONPATCH_DEPTH_MAX arrays deep (as deep as cJSON parses), and the path of
     * its innermost array, "/0" repeated. */
    char *text = malloc(2 * JSONPATCH_DEPTH_MAX + 1);
    assert_non_null(text);
    memset(text, '[', JSONPATCH_DEPTH_MAX);
    memset(text + JSONPATCH_DEPTH_MAX, ']', JSONPATCH_DEPTH_MAX);
    text[2 * JSONPATCH_DEPTH_MAX] = '\0';
    cJSON *doc = parse(text);
    free(text);
    jsonpatch_path p;
    jsonpatch_path_init(&p);
    for (int i = 1; i < JSONPATCH_DEPTH_MAX; i++)
        jsonpatch_path_index(&p, 0);
    jsonpatch_path_append_end(&p);
    assert_true(jsonpatch_path_ok(&p));

    /* A scalar still fits in the innermost array; an array does not. */
    cJSON *patch = cJSON_CreateArray();
    assert_int_equal(jsonpatch_append(patch, "add", &p, cJSON_CreateNumber(1), &err), CW_OK);
    assert_int_equal(jsonpatch_apply(&doc, patch, &err), CW_OK);
    cJSON_Delete(patch);
    patch = cJSON_CreateArray();
    assert_int_equal(jsonpatch_append(patch, "add", &p, cJSON_CreateArray(), &err), CW_OK);
    assert_int_equal(jsonpatch_apply(&doc, patch, &err), CW_ELIMIT);
    assert_non_null(strstr(err.msg, "nest more than 1000"));
    cJSON_Delete(patch);

    /* The document prints and parses back within cJSON's nesting limit. */
    text = cJSON_PrintUnformatted(doc);
    assert_non_null(text);
    cJSON *back = cJSON_Parse(text);
    assert_non_null(back);
    assert_true(jsonpatch_equal(doc, back));
    cJSON_Delete(back);
    cJSON_free(text);

    /* Copying the document into itself, or moving a value deeper, is checked the same way. */
    patch = parse("[{\"op\":\"copy\",\"from\":\"\",\"path\":\"/-\"}]");
    assert_int_equal(jsonpatch_apply(&doc, patch, &err), CW_ELIMIT);
    cJSON_Delete(patch);
    patch = parse("[{\"op\":\"move\",\"from\":\"/0\",\"path\":\"/-\"}]");
    assert_int_equal(jsonpatch_apply(&doc, patch, &err), CW_OK); /* same depth */
    cJSON_Delete(patch);
    cJSON_Delete(doc);

    doc = parse("{\"a\":[[[1]]],\"b\":[[[]]]}");
    patch = parse("[{\"op\":\"move\",\"from\":\"/a\",\"path\":\"/b/0/0/-\"}]");
    assert_int_equal(jsonpatch_apply(&doc, patch, &err), CW_OK);
    cJSON_Delete(patch);
    cJSON_Delete(doc);
}

static void test_limit_nodes(void **state)
{
    (void)state;
    cw_error err;
    /* Each copy of the root into itself doubles the document: stopped at
     * JSONPATCH_NODES_MAX nodes, long before memory runs out. */
    cJSON *doc = parse("[1,2,3]");
    cJSON *patch = cJSON_CreateArray();
    for (int i = 0; i < 64; i++)
        cJSON_AddItemToArray(patch, parse("{\"op\":\"copy\",\"from\":\"\",\"path\":\"/-\"}"));
    assert_int_equal(jsonpatch_apply(&doc, patch, &err), CW_ELIMIT);
    assert_non_null(strstr(err.msg, "more than 1000000 values"));
    cJSON_Delete(patch);
    cJSON_Delete(doc);
}

/* jsonpatch_print: cJSON's text, also for an operation longer than the first room it is
 * offered, and CW_ELIMIT past the cap. */
static void test_print(void **state)
{
    (void)state;
    cJSON *patch = cJSON_CreateArray();
    char *big = malloc(100001);
    assert_non_null(big);
    memset(big, 'x', 100000);
    big[100000] = '\0';
    jsonpatch_path path;
    jsonpatch_path_init(&path);
    jsonpatch_path_key(&path, "a/b~c");
    cw_error err;
    assert_int_equal(jsonpatch_append(patch, "add", &path, cJSON_CreateString(big), &err), CW_OK);
    assert_int_equal(jsonpatch_append(patch, "remove", &path, NULL, &err), CW_OK);
    assert_int_equal(
        jsonpatch_append(patch, "replace", &path, parse("{\"n\":[1,2.5,\"\\u0001\"]}"), &err),
        CW_OK);
    free(big);
    char *want = cJSON_PrintUnformatted(patch), *got = NULL;
    size_t len = 0;
    assert_int_equal(jsonpatch_print(patch, 1 << 20, &got, &len), CW_OK);
    assert_string_equal(got, want);
    assert_int_equal(len, strlen(want));
    free(got);
    assert_int_equal(jsonpatch_print(patch, strlen(want), &got, &len), CW_OK);
    free(got);
    assert_int_equal(jsonpatch_print(patch, strlen(want) - 1, &got, &len), CW_ELIMIT);
    assert_null(got);
    assert_int_equal(jsonpatch_print(patch, 1000, &got, &len), CW_ELIMIT);
    cJSON_free(want);
    cJSON *empty = cJSON_CreateArray();
    assert_int_equal(jsonpatch_print(empty, 10, &got, &len), CW_OK);
    assert_string_equal(got, "[]");
    free(got);
    assert_int_equal(jsonpatch_print(cJSON_GetArrayItem(patch, 0), 10, &got, &len), CW_EINVAL);
    cJSON_Delete(empty);
    cJSON_Delete(patch);
}

/* One operation for both builders: path text (unescaped key by key), op, value text. */
typedef struct text_case_op {
    const char *keys[3];
    const char *op;
    const char *value;
} text_case_op;

/* Builds ops as a tree and as text: the text is what the tree prints as, and applying either
 * gives the same result, or the same error. */
static void expect_text_same(const char *doc_text, const text_case_op *ops, size_t n)
{
    cJSON *patch = cJSON_CreateArray();
    jsonpatch_text *t = jsonpatch_text_new(1 << 20);
    assert_non_null(t);
    cw_error err;
    for (size_t i = 0; i < n; i++) {
        jsonpatch_path path;
        jsonpatch_path_init(&path);
        for (size_t k = 0; k < 3 && ops[i].keys[k]; k++)
            jsonpatch_path_key(&path, ops[i].keys[k]);
        cJSON *v = ops[i].value ? parse(ops[i].value) : NULL;
        cJSON *v2 = ops[i].value ? parse(ops[i].value) : NULL;
        assert_int_equal(jsonpatch_append(patch, ops[i].op, &path, v, &err), CW_OK);
        assert_int_equal(jsonpatch_text_append(t, ops[i].op, &path, v2, &err), CW_OK);
    }
    assert_int_equal(jsonpatch_text_count(t), n);

    cJSON *doc = parse(doc_text), *tdoc = parse(doc_text);
    cw_error terr = {{0}};
    err = (cw_error){{0}};
    cw_result r = jsonpatch_apply(&doc, patch, &err);
    cw_result tr = jsonpatch_text_apply(&tdoc, t, &terr);
    assert_int_equal(tr, r);
    assert_string_equal(terr.msg, err.msg);
    if (r == CW_OK) {
        check_links(tdoc);
        assert_true(jsonpatch_equal(tdoc, doc));
    }

    char *want = cJSON_PrintUnformatted(patch), *got = NULL;
    size_t len = 0;
    assert_int_equal(jsonpatch_text_take(t, &got, &len), CW_OK);
    assert_string_equal(got, want);
    assert_int_equal(len, strlen(want));
    free(got);
    cJSON_free(want);
    /* The paths are read from the text: no apply after it was taken. */
    assert_int_equal(jsonpatch_text_apply(&tdoc, t, &terr), CW_EINVAL);
    cJSON_Delete(doc);
    cJSON_Delete(tdoc);
    cJSON_Delete(patch);
    jsonpatch_text_free(t);
}

static void test_text(void **state)
{
    (void)state;
    const char *doc = "{\"a\":{\"b\":[1,2]},\"c\":\"x\"}";
    const text_case_op ok[] = {
        {{"a", "b", "-"}, "add", "{\"k\":\"v~/\\\"\\n\\u0001\"}"},
        {{"c"}, "replace", "\"y\""},
        {{"a", "b", "0"}, "remove", NULL},
        {{"d/e~"}, "add", "[true,null,1.5,-0,1e300,{}]"},
        /* Paths JSON escapes (kept apart) between paths printed as they are (read back from
         * the text). */
        {{"q\"\\\n\\"}, "add", "2"},
        {{"a", "b", "1"}, "replace", "{\"x\":{\"y\":[]}}"},
        {{"\\"}, "add", "3"},
        {{"q\"\\\n\\"}, "replace", "4"},
    };
    expect_text_same(doc, ok, sizeof ok / sizeof ok[0]);
    const text_case_op bad[] = {
        {{"c"}, "replace", "1"},
        {{"missing", "x"}, "add", "1"},
    };
    expect_text_same(doc, bad, sizeof bad / sizeof bad[0]);
    const text_case_op bad_index[] = {{{"a", "b", "7"}, "remove", NULL}};
    expect_text_same(doc, bad_index, 1);
    expect_text_same(doc, NULL, 0);

    /* The text's limit, and values freed when never applied. */
    jsonpatch_text *t = jsonpatch_text_new(42); /* [{"op":"add","path":"/k","value":"short"}] */
    assert_non_null(t);
    jsonpatch_path path;
    jsonpatch_path_init(&path);
    jsonpatch_path_key(&path, "k");
    cw_error err;
    assert_int_equal(jsonpatch_text_append(t, "add", &path, parse("\"short\""), &err), CW_OK);
    assert_int_equal(
        jsonpatch_text_append(t, "add", &path, parse("\"longer than the limit\""), &err),
        CW_ELIMIT);
    assert_int_equal(jsonpatch_text_append(t, "move", &path, parse("1"), &err), CW_EINVAL);
    assert_int_equal(jsonpatch_text_append(t, "remove", &path, parse("1"), &err), CW_EINVAL);
    assert_int_equal(jsonpatch_text_count(t), 1);
    char *text = NULL;
    size_t len = 0;
    assert_int_equal(jsonpatch_text_take(t, &text, &len), CW_OK);
    assert_string_equal(text, "[{\"op\":\"add\",\"path\":\"/k\",\"value\":\"short\"}]");
    assert_int_equal(len, 42);
    free(text);
    jsonpatch_text_free(t);
    jsonpatch_text_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conformance),
        cmocka_unit_test(test_path_escaping),
        cmocka_unit_test(test_path_round_trip),
        cmocka_unit_test(test_path_overflow),
        cmocka_unit_test(test_append),
        cmocka_unit_test(test_equal),
        cmocka_unit_test(test_equal_raw_numbers),
        cmocka_unit_test(test_apply_semantics),
        cmocka_unit_test(test_apply_errors),
        cmocka_unit_test(test_limit_ops),
        cmocka_unit_test(test_limit_path),
        cmocka_unit_test(test_limit_depth),
        cmocka_unit_test(test_limit_nodes),
        cmocka_unit_test(test_print),
        cmocka_unit_test(test_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
