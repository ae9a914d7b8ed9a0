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
        cmocka_unit_test(test_hash_keyed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
