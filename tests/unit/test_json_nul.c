/* json_nul: finding \u0000 in JSON strings and naming where it is. */
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
    bool found = json_nul_find(text, strlen(text), path, sizeof path);
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
    assert_true(json_nul_find(text, n, path, sizeof path));
    assert_true(strlen(path) <= JSON_NUL_PATH_MAX);
    assert_memory_equal(path, "...", 3);
    assert_non_null(strstr(path, "key99"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_none),
        cmocka_unit_test(test_paths),
        cmocka_unit_test(test_long_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
