/* Tests of webhook/core/runtime_profile.c: each row of the allow-list and initdata-key tables
 * (FACTS.md, "Which initdata key each runtime reads" and "What the CoCo runtime refuses or
 * silently ignores"), at the releases where they change. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "initdata_doc.h"
#include "runtime_profile.h"

static runtime_profile at(runtime_type t, unsigned major, unsigned minor)
{
    return (runtime_profile){.type = t, .kata_major = major, .kata_minor = minor};
}

static bool allows(runtime_profile p, const char *rest)
{
    char key[128];
    snprintf(key, sizeof key, "%s%s", RUNTIME_HYPERVISOR_PREFIX, rest);
    return runtime_annotation_allowed(&p, key, strlen(key));
}

static void test_peer_pods_allow_list(void **state)
{
    (void)state;
    runtime_profile p37 = at(RUNTIME_PEER_PODS, 3, 7);
    assert_true(allows(p37, "machine_type"));
    assert_true(allows(p37, "default_vcpus"));
    assert_true(allows(p37, "default_memory"));
    assert_false(allows(p37, "image"));
    assert_true(allows(at(RUNTIME_PEER_PODS, 3, 9), "image"));
    assert_false(allows(at(RUNTIME_PEER_PODS, 3, 10), "default_gpus"));
    assert_true(allows(at(RUNTIME_PEER_PODS, 3, 11), "default_gpus"));
    assert_true(allows(at(RUNTIME_PEER_PODS, 3, 11), "gpu_model"));
    assert_false(allows(at(RUNTIME_PEER_PODS, 3, 20), "cc_init_data"));
    assert_true(allows(at(RUNTIME_PEER_PODS, 3, 21), "cc_init_data"));
    assert_true(allows(at(RUNTIME_PEER_PODS, 4, 1), "cc_init_data"));
    assert_false(allows(at(RUNTIME_PEER_PODS, 3, 21), "virtio_fs_extra_args"));
    assert_false(allows(at(RUNTIME_PEER_PODS, 3, 21), "kernel_params"));
    /* prefixes and longer keys are other keys */
    assert_false(allows(at(RUNTIME_PEER_PODS, 3, 21), "image2"));
    assert_false(allows(at(RUNTIME_PEER_PODS, 3, 21), "imag"));
    assert_false(allows(at(RUNTIME_PEER_PODS, 3, 21), ""));
    /* only the hypervisor prefix is checked */
    runtime_profile d = runtime_profile_default();
    const char *other = "io.katacontainers.config.runtime.cc_init_data";
    assert_true(runtime_annotation_allowed(&d, other, strlen(other)));
    assert_true(runtime_annotation_allowed(&d, "a", 1));
    /* not NUL-terminated: len decides */
    const char *k = "io.katacontainers.config.hypervisor.imageXYZ";
    assert_true(runtime_annotation_allowed(&d, k, strlen(k) - 3));
}

static void test_bare_metal_allow_list(void **state)
{
    (void)state;
    runtime_profile b = at(RUNTIME_BARE_METAL, 3, 17);
    assert_true(allows(b, "enable_iommu"));
    assert_true(allows(b, "virtio_fs_extra_args"));
    assert_true(allows(b, "kernel_params"));
    assert_false(allows(b, "machine_type"));
    assert_false(allows(b, "cc_init_data"));
    assert_true(allows(at(RUNTIME_BARE_METAL, 3, 21), "cc_init_data"));
    assert_false(allows(at(RUNTIME_BARE_METAL, 3, 26), "kernel_verity_params"));
    assert_true(allows(at(RUNTIME_BARE_METAL, 3, 27), "kernel_verity_params"));
    assert_true(allows(at(RUNTIME_BARE_METAL, 3, 30), "virtio_fs_extra_args"));
    assert_false(allows(at(RUNTIME_BARE_METAL, 3, 31), "virtio_fs_extra_args"));
    assert_false(allows(at(RUNTIME_BARE_METAL, 4, 0), "virtio_fs_extra_args"));
}

static void test_initdata_keys(void **state)
{
    (void)state;
    runtime_profile p317 = at(RUNTIME_PEER_PODS, 3, 17);
    runtime_profile p320 = at(RUNTIME_PEER_PODS, 3, 20);
    runtime_profile p321 = at(RUNTIME_PEER_PODS, 3, 21);
    runtime_profile b321 = at(RUNTIME_BARE_METAL, 3, 21);
    assert_string_equal(runtime_initdata_key(&p317), INITDATA_ANN_RUNTIME);
    assert_null(runtime_initdata_key(&p320));
    assert_string_equal(runtime_initdata_key(&p321), INITDATA_ANN_HYPERVISOR);
    assert_string_equal(runtime_initdata_key(&b321), INITDATA_ANN_HYPERVISOR);
    assert_int_equal(runtime_initdata_key_use(&p317, INITDATA_ANN_RUNTIME), RUNTIME_KEY_READS);
    assert_int_equal(runtime_initdata_key_use(&p317, INITDATA_ANN_HYPERVISOR), RUNTIME_KEY_REFUSED);
    assert_int_equal(runtime_initdata_key_use(&p320, INITDATA_ANN_HYPERVISOR), RUNTIME_KEY_REFUSED);
    assert_int_equal(runtime_initdata_key_use(&p320, INITDATA_ANN_RUNTIME), RUNTIME_KEY_IGNORED);
    assert_int_equal(runtime_initdata_key_use(&p321, INITDATA_ANN_HYPERVISOR), RUNTIME_KEY_READS);
    assert_int_equal(runtime_initdata_key_use(&p321, INITDATA_ANN_RUNTIME), RUNTIME_KEY_IGNORED);
    assert_int_equal(runtime_initdata_key_use(&b321, INITDATA_ANN_RUNTIME), RUNTIME_KEY_IGNORED);
}

static void test_parse_and_describe(void **state)
{
    (void)state;
    runtime_profile p = runtime_profile_default();
    char buf[RUNTIME_DESCRIBE_MAX];
    assert_string_equal(runtime_describe(&p, buf, sizeof buf), "kata 3.21, peer pods");
    assert_true(runtime_is_peer_pods(&p));
    static const char *const good[] = {"3.0", "3.17", "4.1", "99.99", "10.0"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        assert_int_equal(runtime_kata_parse(good[i], &p, NULL), CW_OK);
    static const char *const bad[] = {"",     "3",    "3.",    ".1",    "3.1.1", "03.1",
                                      "3.01", "2.99", "100.0", "3.100", "+3.1",  "3.1 ",
                                      " 3.1", "v3.1", "3,1",   "3.-1",  "0.0",   "3.x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        runtime_profile q = runtime_profile_default();
        cw_error err = {{0}};
        assert_int_equal(runtime_kata_parse(bad[i], &q, &err), CW_EINVAL);
        assert_non_null(strstr(err.msg, "not a kata release"));
        assert_int_equal(q.kata_minor, 21); /* unchanged */
    }
    runtime_type t;
    assert_true(runtime_type_parse("bare-metal", &t));
    assert_int_equal(t, RUNTIME_BARE_METAL);
    assert_false(runtime_type_parse("peer_pods", &t));
    p = at(RUNTIME_BARE_METAL, 3, 25);
    assert_string_equal(runtime_describe(&p, buf, sizeof buf), "kata 3.25, bare metal");
    assert_true(runtime_attests_algorithm(&p, "sha384"));
    p = runtime_profile_default();
    assert_true(runtime_attests_algorithm(&p, "sha256"));
    assert_false(runtime_attests_algorithm(&p, "sha512"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_peer_pods_allow_list),
        cmocka_unit_test(test_bare_metal_allow_list),
        cmocka_unit_test(test_initdata_keys),
        cmocka_unit_test(test_parse_and_describe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
