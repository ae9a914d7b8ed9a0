/* json_nul: finding \u0000, invalid UTF-8 and raw control characters in JSON strings, and
 * naming where they are. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "json_nul.h"

static void expect(const char *text, const char *want)
{
    char path[JSON_NUL_PATH_MAX + 1];
    bool found = json_text_check(text, strlen(text), path, sizeof path) == JSON_TEXT_NUL;
    if (!want) {
        assert_false(found);
        return;
    }
    assert_true(found);
    assert_string_equal(path, want);
}

static void test_none(void **state)
{
    (void)state;
    expect("{\"a\":\"b\"}", NULL);
    expect("{\"a\":\"\\\\u0000\"}", NULL);      /* an escaped backslash, then text */
    expect("{\"a\":\"\\\\\\\\u0000\"}", NULL);  /* two of them */
    expect("{\"a\":\"\\u0001\\u00000\"}", "a"); /* \u0000 followed by a digit */
}

static void test_paths(void **state)
{
    (void)state;
    expect("{\"request\":{\"uid\":\"x\\u0000\"}}", "request.uid");
    expect("{\"request\":{\"uid\":\"\\\\\\u0000\"}}", "request.uid"); /* \\ then \u0000 */
    expect("{\"a\":{\"labels\":{\"x/y\":\"t\\u0000\"}}}", "a.labels[\"x/y\"]");
    expect("{\"s\":{\"c\":[{\"n\":\"a\"},{\"env\":[1,{\"k\\u0000\":2}]}]}}",
           "a key in s.c[1].env[1]");
    expect("[\"a\",\"b\\u0000\"]", "[1]");
    expect("\"\\u0000\"", "the document");
    expect("{\"a\":[],\"b\":{},\"c\":[[1],{\"d\":\"\\u0000\"}]}", "c[1].d");
}

static void test_long_path(void **state)
{
    (void)state;
    char text[8192];
    size_t n = 0;
    for (int i = 0; i < 100; i++)
        n += (size_t)snprintf(text + n, sizeof text - n, "{\"key%02d\":", i);
    n += (size_t)snprintf(text + n, sizeof text - n, "\"\\u0000\"");
    for (int i = 0; i < 100; i++)
        text[n++] = '}';
    text[n] = '\0';
    char path[JSON_NUL_PATH_MAX + 1];
    assert_int_equal(json_text_check(text, n, path, sizeof path), JSON_TEXT_NUL);
    assert_true(strlen(path) <= JSON_NUL_PATH_MAX);
    assert_memory_equal(path, "...", 3);
    assert_non_null(strstr(path, "key99"));
}

static void expect_fault(const char *text, json_text_fault want, const char *want_path)
{
    char path[JSON_NUL_PATH_MAX + 1];
    json_text_fault got = json_text_check(text, strlen(text), path, sizeof path);
    assert_int_equal(got, want);
    if (want != JSON_TEXT_OK)
        assert_string_equal(path, want_path);
}

/* Strict JSON text (RFC 8259 §7, §8.1): UTF-8 and control characters, in the same pass. */
static void test_text(void **state)
{
    (void)state;
    expect_fault("{\"a\":\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \x7f\"}", JSON_TEXT_OK, NULL);
    /* cJSON reads \u with a non-hex digit as U+0000: "ab\uZZZZ" would be "ab". Found by the
     * ASCII fast path and by the full scan (a UTF-8 byte elsewhere) alike. */
    expect_fault("{\"uid\":\"ab\\uZZZZ\"}", JSON_TEXT_ESCAPE, "uid");
    expect_fault("{\"a\":\"\\u00e9\",\"b\":\"\\u12G4\"}", JSON_TEXT_ESCAPE, "b");
    expect_fault("{\"a\":\"\\\\uZZZZ\"}", JSON_TEXT_OK, NULL); /* an escaped backslash */
    expect_fault("{\"a\":\"\\\\\\uZZZZ\"}", JSON_TEXT_ESCAPE, "a");
    expect_fault("{\"x\":\"\xc3\xa9\",\"a\":[\"\\uAbCd\",\"\\u0g00\"]}", JSON_TEXT_ESCAPE, "a[1]");
    expect_fault("{\"x\":\"\xc3\xa9\",\"a\":\"\\uD83D\\uDE00\"}", JSON_TEXT_OK, NULL);
    expect_fault("{\"a\":{\"b\":\"x\xff\"}}", JSON_TEXT_UTF8, "a.b");
    expect_fault("{\"a\":\"\xc0\xaf\"}", JSON_TEXT_UTF8, "a");         /* overlong '/' */
    expect_fault("{\"a\":\"\xe0\x80\xaf\"}", JSON_TEXT_UTF8, "a");     /* overlong, 3 bytes */
    expect_fault("{\"a\":\"\xed\xa0\x80\"}", JSON_TEXT_UTF8, "a");     /* a surrogate */
    expect_fault("{\"a\":\"\xf4\x90\x80\x80\"}", JSON_TEXT_UTF8, "a"); /* past U+10FFFF */
    expect_fault("{\"a\":\"\xe2\x82\"}", JSON_TEXT_UTF8, "a");         /* cut short */
    expect_fault("{\"a\":\"\x80\"}", JSON_TEXT_UTF8, "a");             /* a lone continuation */
    expect_fault("{\"a\":[\"ok\",\"x\ny\"]}", JSON_TEXT_CONTROL, "a[1]");
    expect_fault("{\"k\ty\":1}", JSON_TEXT_CONTROL, "a key in the document");
    expect_fault("{\"a\":\"\\n\\t\"}", JSON_TEXT_OK, NULL); /* escaped: fine */
    expect_fault("{\"a\":\"\\\\\",\"b\":\"\x01\"}", JSON_TEXT_CONTROL, "b");
    expect_fault("{\"a\":\"\\u0000\",\"b\":\"\xff\"}", JSON_TEXT_NUL, "a"); /* the first */
    expect_fault("{\"a\":\"\xff\",\"b\":\"\\u0000\"}", JSON_TEXT_UTF8, "a");
    expect_fault("\n{ \"a\" : 1 }\r\n", JSON_TEXT_OK, NULL); /* whitespace between tokens */
    /* cJSON skips any byte up to the space between tokens; RFC 8259 only these four. */
    expect_fault("{\"a\":\"x\",\x01\"b\":1}", JSON_TEXT_CONTROL, "the document");
    expect_fault("{\"a\":[1,\0132]}", JSON_TEXT_CONTROL, "a[1]");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_none),
        cmocka_unit_test(test_paths),
        cmocka_unit_test(test_long_path),
        cmocka_unit_test(test_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
