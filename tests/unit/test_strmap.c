/* strmap: the per-request name index (small inline mode, hash table, first wins). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "strmap.h"

static int values[3];

static void test_small_and_table(void **state)
{
    (void)state;
    enum { N = 5000 };
    static char keys[N][16];
    strmap m = STRMAP_INIT;
    for (int i = 0; i < N; i++) {
        snprintf(keys[i], sizeof keys[i], "volume-%d", i);
        assert_int_equal(strmap_put(&m, 1, keys[i], strlen(keys[i]), &values[0]), CW_OK);
        /* The same name under another tag is another key; a duplicate keeps the first. */
        assert_int_equal(strmap_put(&m, 2, keys[i], strlen(keys[i]), &values[1]), CW_OK);
        assert_int_equal(strmap_put(&m, 1, keys[i], strlen(keys[i]), &values[2]), CW_OK);
        if (i == STRMAP_SMALL || i == N - 1) /* inline, then a hash table */
            for (int j = 0; j <= i; j++) {
                assert_ptr_equal(strmap_get(&m, 1, keys[j], strlen(keys[j])), &values[0]);
                assert_ptr_equal(strmap_get(&m, 2, keys[j], strlen(keys[j])), &values[1]);
            }
    }
    assert_int_equal(m.count, 2 * N);
    assert_null(strmap_get(&m, 1, "volume-", 7));
    assert_null(strmap_get(&m, 3, "volume-1", 8));
    /* Keys are compared by length too: a prefix is another key. */
    assert_null(strmap_get(&m, 1, "volume-10", 8 - 1));
    strmap_clear(&m);
    assert_null(strmap_get(&m, 1, "volume-1", 8));
}

/* Past the inline entries and through many doublings of the table: every key found with its
 * first value, in every tag, after each growth; absent keys that share a prefix, a length or
 * a tag with present ones are not found. */
static void test_growth(void **state)
{
    (void)state;
    enum { N = 100000 };
    char(*keys)[24] = malloc(N * sizeof *keys);
    assert_non_null(keys);
    strmap m = STRMAP_INIT;
    for (int i = 0; i < N; i++) {
        snprintf(keys[i], sizeof keys[i], "/data/%d", i);
        uint32_t tag = (uint32_t)(i % 7);
        assert_int_equal(strmap_put(&m, tag, keys[i], strlen(keys[i]), keys[i]), CW_OK);
        if ((i & (i + 1)) == 0) /* after each power of two: all of them so far */
            for (int j = 0; j <= i; j++)
                assert_ptr_equal(strmap_get(&m, (uint32_t)(j % 7), keys[j], strlen(keys[j])),
                                 keys[j]);
    }
    assert_int_equal(m.count, N);
    for (int i = 0; i < N; i++) {
        assert_ptr_equal(strmap_get(&m, (uint32_t)(i % 7), keys[i], strlen(keys[i])), keys[i]);
        assert_null(strmap_get(&m, (uint32_t)(i % 7) + 1, keys[i], strlen(keys[i])));
        /* A duplicate keeps the first value and adds no entry. */
        assert_int_equal(strmap_put(&m, (uint32_t)(i % 7), keys[i], strlen(keys[i]), &values[0]),
                         CW_OK);
    }
    assert_int_equal(m.count, N);
    assert_ptr_equal(strmap_get(&m, 0, keys[0], strlen(keys[0])), keys[0]);
    char absent[24];
    for (int i = N; i < N + 1000; i++) {
        snprintf(absent, sizeof absent, "/data/%d", i);
        assert_null(strmap_get(&m, (uint32_t)(i % 7), absent, strlen(absent)));
    }
    strmap_clear(&m);
    assert_int_equal(m.count, 0);
    assert_null(strmap_get(&m, 0, keys[0], strlen(keys[0])));
    free(keys);
}

/* Duplicates among the inline entries (appended unchecked) are dropped when the table is
 * made: the first value stays and the count holds each key once. */
static void test_small_duplicates_dropped(void **state)
{
    (void)state;
    strmap m = STRMAP_INIT;
    char keys[STRMAP_SMALL + 1][8];
    for (int i = 0; i < STRMAP_SMALL; i++) {
        snprintf(keys[i], sizeof keys[i], "k%d", i / 2); /* each name twice */
        assert_int_equal(strmap_put(&m, 0, keys[i], strlen(keys[i]), &values[i % 2]), CW_OK);
    }
    assert_int_equal(m.count, STRMAP_SMALL);
    assert_ptr_equal(strmap_get(&m, 0, "k3", 2), &values[0]);
    snprintf(keys[STRMAP_SMALL], sizeof keys[STRMAP_SMALL], "last");
    assert_int_equal(strmap_put(&m, 0, keys[STRMAP_SMALL], 4, &values[2]), CW_OK);
    assert_int_equal(m.count, STRMAP_SMALL / 2 + 1);
    for (int i = 0; i < STRMAP_SMALL; i++)
        assert_ptr_equal(strmap_get(&m, 0, keys[i], strlen(keys[i])), &values[0]);
    assert_ptr_equal(strmap_get(&m, 0, "last", 4), &values[2]);
    strmap_clear(&m);
}

/* Keys whose table positions collide (the same low bits of the hash, found by search) are
 * told apart by their bytes: each keeps its own value, a duplicate of any keeps the first. */
static void test_colliding_keys(void **state)
{
    (void)state;
    enum { K = 64, MASK = 1023 };
    static char keys[K][16];
    uint64_t want = strmap_hash(0, "seed", 4) & MASK;
    int found = 0;
    for (int i = 0; found < K; i++) {
        char k[16];
        snprintf(k, sizeof k, "c%d", i);
        if ((strmap_hash(0, k, strlen(k)) & MASK) == want)
            memcpy(keys[found++], k, sizeof k);
    }
    strmap m = STRMAP_INIT;
    for (int i = 0; i < K; i++)
        assert_int_equal(strmap_put(&m, 0, keys[i], strlen(keys[i]), keys[i]), CW_OK);
    for (int i = 0; i < K; i++) {
        assert_int_equal(strmap_put(&m, 0, keys[i], strlen(keys[i]), &values[0]), CW_OK);
        assert_ptr_equal(strmap_get(&m, 0, keys[i], strlen(keys[i])), keys[i]);
    }
    assert_int_equal(m.count, K);
    assert_null(strmap_get(&m, 0, "seed", 4));
    strmap_clear(&m);
}

static void test_hash_keyed(void **state)
{
    (void)state;
    /* Same input, same hash within a process; tag and bytes both count. */
    assert_true(strmap_hash(1, "abc", 3) == strmap_hash(1, "abc", 3));
    assert_true(strmap_hash(1, "abc", 3) != strmap_hash(2, "abc", 3));
    assert_true(strmap_hash(1, "abc", 3) != strmap_hash(1, "abd", 3));
    assert_true(strmap_hash(1, "", 0) != strmap_hash(1, "\0", 1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_small_and_table),
        cmocka_unit_test(test_growth),
        cmocka_unit_test(test_small_duplicates_dropped),
        cmocka_unit_test(test_colliding_keys),
        cmocka_unit_test(test_hash_keyed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
