/* json_prune: the tree it builds is cJSON's with the rules' members dropped, it refuses what
 * cJSON refuses, it reports duplicate keys where it drops them, and a dropped value's memory
 * is returned to the arena at once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../fuzz/prune_oracle.h"
#include "arena.h"
#include "fileread.h"
#include "json_prune.h"
#include "review_fields.h"

/* Parses text both ways and checks they agree; returns what json_prune reported. */
static json_prune_result agree(const char *text, const json_prune_rules *rules, bool ok)
{
    size_t len = strlen(text);
    const char *end = NULL;
    cJSON *whole = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    json_prune_result out;
    cJSON *pruned = json_prune_parse(text, len, rules, &out);
    if (!ok) {
        assert_null(whole);
        assert_null(pruned);
        return out;
    }
    assert_non_null(whole);
    assert_non_null(pruned);
    assert_ptr_equal(out.end, end);
    bool dup = false;
    oracle_prune(whole, rules, 0, 0, &dup);
    assert_true(oracle_same(whole, pruned));
    assert_int_equal(dup, out.duplicate[0] != '\0');
    cJSON_Delete(whole);
    cJSON_Delete(pruned);
    return out;
}

static void test_review_dropped(void **state)
{
    (void)state;
    json_prune_result r =
        agree("{\"apiVersion\":\"admission.k8s.io/"
              "v1\",\"request\":{\"uid\":\"u\",\"oldObject\":{\"a\":1},"
              "\"object\":{\"kind\":\"Pod\",\"status\":{},\"metadata\":{\"name\":\"p\","
              "\"managedFields\":[{\"manager\":\"m\"}],\"labels\":{\"x\":\"y\"}},\"spec\":{"
              "\"containers\":[{\"name\":\"c\",\"image\":\"i\",\"env\":[{\"name\":\"A\"}],"
              "\"volumeMounts\":[{\"name\":\"v\",\"mountPath\":\"/v\"}]}],\"initContainers\":[],"
              "\"volumes\":[{\"name\":\"v\",\"emptyDir\":{}}]}}}}",
              &review_fields_rules, true);
    assert_int_equal(r.dropped, 5); /* oldObject, status, managedFields, image, env */
    assert_string_equal(r.duplicate, "");
    /* A workload's template and a CronJob's jobTemplate are walked the same way. */
    r = agree("{\"request\":{\"object\":{\"spec\":{\"jobTemplate\":{\"spec\":{\"template\":{"
              "\"metadata\":{\"managedFields\":[]},\"spec\":{\"containers\":[{\"name\":\"c\","
              "\"args\":[\"x\"],\"volumeDevices\":[]}]}}}}}}}}",
              &review_fields_rules, true);
    assert_int_equal(r.dropped, 2);
}

static void test_shapes_kept(void **state)
{
    (void)state;
    /* Values of another type than the rules expect are kept whole, for the reader to judge. */
    assert_int_equal(agree("[1,2]", &review_fields_rules, true).dropped, 0);
    agree("{\"request\":\"x\"}", &review_fields_rules, true);
    agree("{\"request\":{\"object\":{\"spec\":{\"containers\":{\"name\":\"c\"}}}}}",
          &review_fields_rules, true);
    agree("{\"request\":{\"object\":{\"spec\":{\"containers\":[\"c\",7,null,[]]}}}}",
          &review_fields_rules, true);
    agree("\xEF\xBB\xBF {\"request\" : {} } ", &review_fields_rules, true);     /* BOM, spaces */
    agree("{\"requ\\u0065st\":{\"oldObject\":1}}", &review_fields_rules, true); /* escaped key */
    agree("{}", &review_fields_rules, true);
    agree("{\"a\":1} trailing", &review_fields_rules, true); /* the caller checks the rest */
}

static void test_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "{",
        "{\"request\":",
        "{\"request\":{\"oldObject\":[1,]}}", /* in a dropped value */
        "{\"request\":{\"oldObject\":tru}}",
        "{\"request\":{\"object\":{\"spec\":{\"containers\":[{\"name\":\"c\",\"env\":\"\\x\"}]}}}}",
        "{\"request\":{,}}",
        "{\"request\":{\"a\" 1}}",
        "{\"request\":{\"a\":1,}}",
        "{\"request\":{\"a\":1 \"b\":2}}",
        "{\"request\":{\"object\":{\"spec\":{\"containers\":[{},]}}}}",
        "{\"request\":{\"\\q\":1}}",           /* a bad escape in a key */
        "{\"request\":{\"a\":\357\273\2771}}", /* a BOM is not a value */
        "{\"request\":{\"a\":+1}}",
        "{\"request\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        agree(bad[i], &review_fields_rules, false);
}

/* A dropped value is read as cJSON reads it, laxness included (agree() compares). */
static void test_dropped_grammar(void **state)
{
    (void)state;
    static const struct {
        const char *value;
        bool ok;
    } cases[] = {
        {"\"\\u12\"", false},         /* \u cut short by the string's end */
        {"\"\\uD83D\\uDE00\"", true}, /* a surrogate pair */
        {"\"\\uD83Dx\"", false},      /* a high surrogate alone */
        {"\"\\uDC00\"", false},       /* a low one alone */
        {"\"\\uZZZZ\"", true},        /* cJSON reads it as U+0000 (the text check refuses it) */
        {"\"\\u12\\\"ab\"", true},    /* \u12\" read as one escape, as cJSON does */
        {"\"\\x\"", false},
        {"\"a", false},
        {"01", true}, /* strtod takes what JSON does not */
        {"99999999999999999999999999999999999999999999999999999999999999999999999.5e3", true},
        {"9999999999999999999999999999999999999999999999999999999999999999999.1.2", false},
        {"1.", true},
        {"-", false},
        {"1e", false}, /* strtod stops before the e, which then ends nothing */
        {"-0.5e+3", true},
        {"nul", false},
        {"truex", false},
        {"[1,[true,false,null],{\"a\":{}}]", true},
        {"[1 2]", false},
        {"{\"a\" 1}", false},
        {"{\"a\":1,}", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[256];
        snprintf(text, sizeof text, "{\"request\":{\"oldObject\":%s}}", cases[i].value);
        json_prune_result r = agree(text, &review_fields_rules, cases[i].ok);
        if (cases[i].ok)
            assert_int_equal(r.dropped, 1);
    }
    /* Objects 1000 deep in a dropped value: each level keeps its keys on the stack. */
    {
        size_t depth = 1000, cap = 7 * depth + 64;
        char *deep = malloc(cap);
        assert_non_null(deep);
        size_t len = (size_t)snprintf(deep, cap, "{\"request\":{\"oldObject\":");
        for (size_t i = 0; i < depth; i++)
            len += (size_t)snprintf(deep + len, cap - len, "{\"a\":");
        deep[len++] = '1';
        memset(deep + len, '}', depth);
        snprintf(deep + len + depth, cap - len - depth, "}}");
        json_prune_result out;
        cJSON *root = json_prune_parse(deep, strlen(deep), &review_fields_rules, &out);
        assert_non_null(root);
        assert_int_equal(out.dropped, 1);
        cJSON_Delete(root);
        free(deep);
    }
    /* cJSON's nesting limit, counted from the dropped value: 1000 levels, not 1001. */
    for (size_t depth = 1000; depth <= 1001; depth++) {
        size_t cap = 2 * depth + 64;
        char *deep = malloc(cap);
        assert_non_null(deep);
        size_t len = (size_t)snprintf(deep, cap, "{\"request\":{\"oldObject\":");
        memset(deep + len, '[', depth);
        memset(deep + len + depth, ']', depth);
        snprintf(deep + len + 2 * depth, cap - len - 2 * depth, "}}");
        json_prune_result out;
        cJSON *root = json_prune_parse(deep, strlen(deep), &review_fields_rules, &out);
        assert_true((root != NULL) == (depth == 1000));
        cJSON_Delete(root);
        free(deep);
    }
}

static void test_duplicates(void **state)
{
    (void)state;
    /* Two dropped members of the same name, a duplicate inside a dropped value, a kept and a
     * dropped... all reported; one inside a kept value is left to the tree's walk. */
    json_prune_result r =
        agree("{\"request\":{\"oldObject\":1,\"oldObject\":2}}", &review_fields_rules, true);
    assert_string_equal(r.duplicate, "oldObject");
    r = agree("{\"request\":{\"oldObject\":{\"a\":[{\"k\":1,\"k\":2}]}}}", &review_fields_rules,
              true);
    assert_string_equal(r.duplicate, "k");
    r = agree(
        "{\"request\":{\"object\":{\"spec\":{\"containers\":[{\"name\":\"a\",\"name\":\"b\"}]}}}}",
        &review_fields_rules, true);
    assert_string_equal(r.duplicate, "name");
    r = agree("{\"request\":{\"uid\":{\"x\":1,\"x\":2}}}", &review_fields_rules, true);
    assert_string_equal(r.duplicate, "");
    /* Many members: found by sorting. */
    char text[4096] = "{\"request\":{";
    for (int i = 0; i < 40; i++)
        snprintf(text + strlen(text), sizeof text - strlen(text), "\"k%d\":%d,", i, i);
    snprintf(text + strlen(text), sizeof text - strlen(text), "\"k7\":0}}");
    r = agree(text, &review_fields_rules, true);
    assert_string_equal(r.duplicate, "k7");
}

/* A large dropped value costs the arena nothing once parsed: the old object of an UPDATE. */
static void test_arena_rewound(void **state)
{
    (void)state;
    size_t n = 20000, cap = n * 16 + 256, len = 0;
    char *text = malloc(cap);
    assert_non_null(text);
    len += (size_t)snprintf(text + len, cap - len, "{\"request\":{\"oldObject\":[");
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(text + len, cap - len, "%s{\"k\":%zu}", i ? "," : "", i);
    len += (size_t)snprintf(text + len, cap - len, "],\"object\":{\"kind\":\"Pod\"}}}");
    arena_begin();
    json_prune_result out;
    cJSON *root = json_prune_parse(text, len, &review_fields_rules, &out);
    assert_non_null(root);
    assert_int_equal(out.dropped, 1);
    assert_true(arena_used() < 4096);
    cJSON_Delete(root);
    arena_end();
    free(text);
}

/* Every review the tests send: the same tree as cJSON's with the rules applied. */
static void test_sample_reviews(void **state)
{
    (void)state;
    static const char *const files[] = {"tests/torture/pod-review.json",
                                        "tests/torture/notebook-review.json"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", COCO_SRCDIR, files[i]);
        size_t len = 0;
        char *text = NULL;
        cw_error err;
        assert_int_equal(file_read(path, 1 << 24, &text, &len, &err), CW_OK);
        json_prune_result r = agree(text, &review_fields_rules, true);
        assert_true(r.dropped > 0);
        free(text);
    }
}

int main(void)
{
    arena_install_cjson_hooks();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_review_dropped), cmocka_unit_test(test_shapes_kept),
        cmocka_unit_test(test_refused),        cmocka_unit_test(test_dropped_grammar),
        cmocka_unit_test(test_duplicates),     cmocka_unit_test(test_arena_rewound),
        cmocka_unit_test(test_sample_reviews),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    arena_thread_release();
    return failed;
}
