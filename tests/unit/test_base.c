/* The base layer (webhook/base): the capped buffer, base64, JSON escaping, file reading and
 * the integer grammar, each at its edges. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "b64.h"
#include "buf.h"
#include "celesc.h"
#include "fileread.h"
#include "hash.h"
#include "intparse.h"
#include "jsonesc.h"
#include "jsonnum.h"
#include "k8s_names.h"
#include "namelist.h"
#include "result.h"

static void test_buf_cap_and_sticky_failure(void **state)
{
    (void)state;
    buf b;
    buf_init(&b, 10);
    assert_int_equal(buf_adds(&b, "hello"), CW_OK);
    assert_int_equal(buf_addf(&b, "%d", 1234), CW_OK);
    assert_string_equal(b.data, "hello1234");
    /* One more byte fits exactly, the next crosses the cap and nothing of it is written. */
    assert_int_equal(buf_addc(&b, '!'), CW_OK);
    assert_int_equal(buf_addc(&b, '?'), CW_ELIMIT);
    assert_int_equal(b.len, 10);
    assert_string_equal(b.data, "hello1234!");
    /* Sticky: later appends fail at once, even ones that would fit. */
    assert_int_equal(buf_add(&b, "", 0), CW_ELIMIT);
    assert_int_equal(buf_status(&b), CW_ELIMIT);
    size_t len = 99;
    assert_null(buf_take(&b, &len));
    /* Taking resets: the buffer is usable again. */
    assert_int_equal(buf_status(&b), CW_OK);
    assert_int_equal(buf_addf(&b, "%s", "0123456789"), CW_OK);
    assert_int_equal(buf_addf(&b, "%s", "x"), CW_ELIMIT);
    buf_reset(&b);
    char *w = buf_reserve(&b, 3);
    assert_non_null(w);
    memcpy(w, "abc", 3);
    buf_commit(&b, 2);
    char *s = buf_take(&b, &len);
    assert_string_equal(s, "ab");
    assert_int_equal(len, 2);
    free(s);
    /* Nothing appended: an empty owned string. */
    s = buf_take(&b, &len);
    assert_string_equal(s, "");
    assert_int_equal(len, 0);
    free(s);
    buf_free(&b);
}

static void test_buf_grows_past_many_doublings(void **state)
{
    (void)state;
    buf b;
    buf_init(&b, SIZE_MAX);
    for (int i = 0; i < 100000; i++)
        assert_int_equal(buf_add(&b, "0123456789", 10), CW_OK);
    assert_int_equal(b.len, 1000000);
    assert_int_equal(b.data[b.len], '\0');
    assert_memory_equal(b.data + 999990, "0123456789", 10);
    buf_free(&b);
}

static void check_roundtrip(const char *bytes, size_t n, b64_form form, const char *want)
{
    char *enc = b64_encode_alloc(bytes, n, form);
    assert_non_null(enc);
    assert_string_equal(enc, want);
    assert_int_equal(strlen(enc), b64_encoded_len(n, form));
    unsigned char *dec;
    size_t dlen;
    assert_int_equal(b64_decode(enc, strlen(enc), form, &dec, &dlen, NULL), CW_OK);
    assert_int_equal(dlen, n);
    assert_memory_equal(dec, bytes, n);
    assert_int_equal(dec[n], '\0');
    free(dec);
    free(enc);
}

static void check_decode_fails(const char *text, b64_form form, const char *message)
{
    unsigned char *dec = (unsigned char *)"x";
    size_t dlen;
    cw_error err = {{0}};
    assert_int_equal(b64_decode(text, strlen(text), form, &dec, &dlen, &err), CW_EINVAL);
    assert_null(dec);
    assert_string_equal(err.msg, message);
}

static void test_b64_rfc4648_vectors(void **state)
{
    (void)state;
    /* RFC 4648 §10, and bytes that differ between the two alphabets. */
    check_roundtrip("", 0, B64_STD, "");
    check_roundtrip("f", 1, B64_STD, "Zg==");
    check_roundtrip("fo", 2, B64_STD, "Zm8=");
    check_roundtrip("foo", 3, B64_STD, "Zm9v");
    check_roundtrip("foob", 4, B64_STD, "Zm9vYg==");
    check_roundtrip("fooba", 5, B64_STD, "Zm9vYmE=");
    check_roundtrip("foobar", 6, B64_STD, "Zm9vYmFy");
    check_roundtrip("f", 1, B64_URL, "Zg");
    check_roundtrip("fo", 2, B64_URL, "Zm8");
    check_roundtrip("\xfb\xff\xbf", 3, B64_STD, "+/+/");
    check_roundtrip("\xfb\xff\xbf", 3, B64_URL, "-_-_");
}

static void test_b64_strict_and_go_forms(void **state)
{
    (void)state;
    check_decode_fails("Zg", B64_STD, "not valid padded base64");     /* padding needed */
    check_decode_fails("Zh==", B64_STD, "not valid padded base64");   /* trailing bits */
    check_decode_fails("Zm9v\n", B64_STD, "not valid padded base64"); /* no line breaks */
    check_decode_fails("Zg==", B64_URL, "not valid base64url without padding");
    check_decode_fails("-_-_", B64_STD, "not valid padded base64"); /* other alphabet */
    check_decode_fails("+/+/", B64_URL, "not valid base64url without padding");
    check_decode_fails("Z", B64_URL, "not valid base64url without padding");
    /* Go's StdEncoding: CR and LF skipped, trailing bits not checked, padding whole. */
    unsigned char *dec;
    size_t dlen;
    assert_int_equal(b64_decode("Zm9v\r\nYg==\n", 11, B64_GO_STD, &dec, &dlen, NULL), CW_OK);
    assert_int_equal(dlen, 4);
    assert_memory_equal(dec, "foob", 4);
    free(dec);
    assert_int_equal(b64_decode("Zh==", 4, B64_GO_STD, &dec, &dlen, NULL), CW_OK);
    assert_int_equal(dlen, 1);
    free(dec);
    check_decode_fails("Zg", B64_GO_STD, "not valid padded base64");
    check_decode_fails("Zg=a", B64_GO_STD, "not valid padded base64");
    check_decode_fails("Z===", B64_GO_STD, "not valid padded base64");
}

static void test_b64_large_input_roundtrip(void **state)
{
    (void)state;
    /* A large input encodes as one unbroken text and decodes back. */
    size_t n = 3 * 1024 * 1024 + 5;
    unsigned char *in = malloc(n);
    assert_non_null(in);
    for (size_t i = 0; i < n; i++)
        in[i] = (unsigned char)(i * 7 + 3);
    char *enc = b64_encode_alloc(in, n, B64_STD);
    assert_non_null(enc);
    assert_int_equal(strlen(enc), b64_encoded_len(n, B64_STD));
    unsigned char *dec;
    size_t dlen;
    assert_int_equal(b64_decode(enc, strlen(enc), B64_STD, &dec, &dlen, NULL), CW_OK);
    assert_int_equal(dlen, n);
    assert_memory_equal(dec, in, n);
    free(dec);
    free(enc);
    free(in);
}

static void test_jsonesc(void **state)
{
    (void)state;
    buf b;
    buf_init(&b, 1024);
    const char in[] = "a\"b\\c\n\r\t\x01\x1f\x7f\xc3\xa9z";
    assert_int_equal(jsonesc_append(&b, in, sizeof in - 1), CW_OK);
    assert_string_equal(b.data, "\"a\\\"b\\\\c\\n\\r\\t\\u0001\\u001f\\u007f\xc3\xa9z\"");
    buf_reset(&b);
    /* A NUL inside the given length is escaped, not an end. */
    assert_int_equal(jsonesc_append(&b, "x\0y", 3), CW_OK);
    assert_string_equal(b.data, "\"x\\u0000y\"");
    buf_free(&b);
    /* The cap holds for escapes too. */
    buf_init(&b, 4);
    assert_int_equal(jsonesc_append(&b, "\x01", 1), CW_ELIMIT);
    buf_free(&b);
}

/* CEL string literals (tests/guard reads them back with an independent CEL parser). */
/* namelist: names joined by ", ", cut once with ", ..." so that the whole always fits. */
static void test_namelist(void **state)
{
    (void)state;
    char text[16];
    namelist l;
    namelist_init(&l, text, sizeof text);
    assert_string_equal(text, "");
    namelist_add(&l, "a");
    namelist_add(&l, "bb");
    assert_string_equal(text, "a, bb");
    namelist_add(&l, "toolongforit");
    assert_string_equal(text, "a, bb, ...");
    namelist_add(&l, "c"); /* dropped after the cut: the list would mislead */
    assert_string_equal(text, "a, bb, ...");
    assert_true(l.cut);
    /* Exactly full: "abcdefghij" + ", ..." + NUL is 16 bytes. */
    namelist_init(&l, text, sizeof text);
    namelist_add(&l, "abcdefghij");
    assert_string_equal(text, "abcdefghij");
    namelist_add(&l, "x");
    assert_string_equal(text, "abcdefghij, ...");
    assert_int_equal(strlen(text), sizeof text - 1);
    /* A first name that does not fit at all. */
    namelist_init(&l, text, sizeof text);
    namelist_add(&l, "abcdefghijk");
    assert_string_equal(text, ", ...");
}

static void test_celesc(void **state)
{
    (void)state;
    buf b;
    buf_init(&b, 1024);
    assert_int_equal(celesc_append(&b, "", 0), CW_OK);
    assert_string_equal(b.data, "''");
    buf_reset(&b);
    const char in[] = "a'b\"c\\d\n\r\t\x01\x1f\x7f\xc3\xa9' + x + '";
    assert_int_equal(celesc_append(&b, in, sizeof in - 1), CW_OK);
    assert_string_equal(b.data, "'a\\'b\\\"c\\\\d\\n\\r\\t\\x01\\x1F\\x7F\xc3\xa9\\' + x + \\''");
    buf_reset(&b);
    /* A NUL inside the given length is escaped, not an end. */
    assert_int_equal(celesc_append(&b, "x\0y", 3), CW_OK);
    assert_string_equal(b.data, "'x\\x00y'");
    buf_free(&b);
    /* The cap holds, for escapes too. */
    buf_init(&b, 4);
    assert_int_equal(celesc_append(&b, "\x01", 1), CW_ELIMIT);
    buf_free(&b);
}

/* One file reader's contract: the whole file, the cap, a missing file, a folder. */
static void check_reader(cw_result (*read)(const char *, size_t, char **, size_t *, cw_error *))
{
    char path[] = "test_base_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "0123456789", 10), 10);
    close(fd);
    char *data;
    size_t len;
    cw_error err;
    assert_int_equal(read(path, 10, &data, &len, &err), CW_OK);
    assert_int_equal(len, 10);
    assert_string_equal(data, "0123456789");
    free(data);
    assert_int_equal(read(path, 9, &data, &len, &err), CW_ELIMIT);
    assert_null(data);
    assert_non_null(strstr(err.msg, "larger than 9 bytes"));
    assert_non_null(strstr(err.msg, path));
    unlink(path);
    assert_int_equal(read(path, 10, &data, &len, &err), CW_EIO);
    assert_non_null(strstr(err.msg, "No such file"));
    assert_int_equal(read(".", 10, &data, &len, &err), CW_EIO);
    assert_non_null(strstr(err.msg, "directory"));
}

static void test_file_read(void **state)
{
    (void)state;
    check_reader(file_read);
}

static void check_int(const char *s, int64_t min, int64_t max, int64_t want)
{
    int64_t v = -12345;
    assert_int_equal(int_parse(s, strlen(s), min, max, "n", &v, NULL), CW_OK);
    assert_true(v == want);
}

static void check_int_fails(const char *s, int64_t min, int64_t max)
{
    int64_t v = -12345;
    cw_error err;
    assert_int_equal(int_parse(s, strlen(s), min, max, "--days", &v, &err), CW_EINVAL);
    assert_true(v == -12345);
    char want[128];
    snprintf(want, sizeof want, "--days must be a whole number from %lld to %lld", (long long)min,
             (long long)max);
    assert_string_equal(err.msg, want);
}

static void test_int_parse(void **state)
{
    (void)state;
    check_int("30", 1, 36500, 30);
    check_int("0030", 1, 36500, 30);
    check_int("65535", 1, 65535, 65535);
    check_int("-5", -10, 10, -5);
    check_int("9223372036854775807", INT64_MIN, INT64_MAX, INT64_MAX);
    check_int("-9223372036854775808", INT64_MIN, INT64_MAX, INT64_MIN);
    check_int_fails("9223372036854775808", INT64_MIN, INT64_MAX);
    check_int_fails("-9223372036854775809", INT64_MIN, INT64_MAX);
    check_int_fails(" +30", 1, 36500);
    check_int_fails("+30", 1, 36500);
    check_int_fails("30 ", 1, 36500);
    check_int_fails("", 1, 36500);
    check_int_fails("-", -1, 1);
    check_int_fails("-30", 1, 36500); /* no '-' where the range has no negatives */
    check_int_fails("0", 1, 65535);
    check_int_fails("65536", 1, 65535);
    check_int_fails("0x10", 0, 100);
    check_int_fails("1e3", 0, 10000);
    assert_int_equal(hex_digit_value('0'), 0);
    assert_int_equal(hex_digit_value('f'), 15);
    assert_int_equal(hex_digit_value('F'), 15);
    assert_int_equal(hex_digit_value('g'), -1);
}

static void test_jsonnum(void **state)
{
    (void)state;
    const char *good[] = {"0", "-0", "12", "-1.5", "1e5", "1E+5", "2.50e-3", "9007199254740993"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        assert_true(jsonnum_is(good[i], strlen(good[i])));
    const char *bad[] = {"", "-", "+1", "01", ".5", "1.", "1e", "1e+", "0x1", "1 ", "NaN"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(jsonnum_is(bad[i], strlen(bad[i])));
    jsonnum n;
    size_t stop = 99;
    /* The parts, and the scan stops at the first byte the grammar does not take. */
    assert_int_equal(jsonnum_scan("-12.50e-3,", 10, &n, NULL), 9);
    assert_true(n.neg);
    assert_int_equal(n.int_len, 2);
    assert_memory_equal(n.int_digits, "12", 2);
    assert_int_equal(n.frac_len, 2);
    assert_memory_equal(n.frac_digits, "50", 2);
    assert_int_equal(n.exp, -3);
    assert_false(n.exp_huge);
    /* len bounds the scan; SIZE_MAX reads up to the NUL */
    assert_int_equal(jsonnum_scan("123", 2, &n, NULL), 2);
    assert_int_equal(jsonnum_scan("123", SIZE_MAX, &n, NULL), 3);
    /* where a digit was missing */
    assert_int_equal(jsonnum_scan("1.x", 3, &n, &stop), 0);
    assert_int_equal(stop, 2);
    assert_int_equal(jsonnum_scan("1e+", 3, &n, &stop), 0);
    assert_int_equal(stop, 3);
    assert_int_equal(jsonnum_scan("-x", 2, &n, &stop), 0);
    assert_int_equal(stop, 1);
    /* exponents past JSONNUM_EXP_MAX are flagged, not computed */
    assert_int_equal(jsonnum_scan("1e999999999", SIZE_MAX, &n, NULL), 11);
    assert_false(n.exp_huge);
    assert_int_equal(n.exp, 999999999);
    assert_int_equal(jsonnum_scan("1e99999999999", SIZE_MAX, &n, NULL), 13);
    assert_true(n.exp_huge);
}

static void test_hash_fnv1a64(void **state)
{
    (void)state;
    /* The published FNV-1a 64 vectors: sealed volume names depend on these values. */
    assert_true(hash_fnv1a64("", 0) == 0xcbf29ce484222325ULL);
    assert_true(hash_fnv1a64("a", 1) == 0xaf63dc4c8601ec8cULL);
    assert_true(hash_fnv1a64("foobar", 6) == 0x85944171f73967e8ULL);
}

/* Files that are not regular (no size to read up to) are read in steps, against the cap. */
static void test_file_read_streams(void **state)
{
    (void)state;
    cw_error err = {{0}};
    char *data = (char *)1;
    size_t len = 99;
    assert_int_equal(file_read("/dev/null", 10, &data, &len, &err), CW_OK);
    assert_int_equal(len, 0);
    assert_string_equal(data, "");
    free(data);
    assert_int_equal(file_read("/dev/zero", 100000, &data, &len, &err), CW_ELIMIT);
    assert_null(data);
    assert_non_null(strstr(err.msg, "/dev/zero: larger than 100000 bytes"));
}

/* file_read_secret: the same contract as file_read, read in place; file_read_stream: from an
 * open stream, named in messages. */
static void test_file_read_secret_and_stream(void **state)
{
    (void)state;
    check_reader(file_read_secret);
    FILE *f = tmpfile();
    assert_non_null(f);
    assert_int_equal(fwrite("0123456789", 1, 10, f), 10);
    rewind(f);
    char *data;
    size_t len;
    cw_error err;
    assert_int_equal(file_read_stream(f, "standard input", 9, &data, &len, &err), CW_ELIMIT);
    assert_null(data);
    assert_non_null(strstr(err.msg, "standard input: larger than 9 bytes"));
    rewind(f);
    assert_int_equal(file_read_stream(f, "standard input", 10, &data, &len, &err), CW_OK);
    assert_int_equal(len, 10);
    assert_string_equal(data, "0123456789");
    free(data);
    fclose(f);
}

static void test_printable_and_config_map_keys(void **state)
{
    (void)state;
    char out[5];
    assert_string_equal(cw_printable("a\nb\x7f\xc3", 5, out, sizeof out), "a?b?");
    assert_string_equal(cw_printable("ab", 2, out, sizeof out), "ab");
    assert_true(k8s_is_config_map_key("a.b_c-D9", 8));
    assert_true(k8s_is_config_map_key(".a", 2));
    assert_false(k8s_is_config_map_key("", 0));
    assert_false(k8s_is_config_map_key(".", 1));
    assert_false(k8s_is_config_map_key("..", 2));
    assert_false(k8s_is_config_map_key("..a", 3));
    assert_false(k8s_is_config_map_key("a/b", 3));
    char key[K8S_CONFIG_MAP_KEY_MAX + 1];
    memset(key, 'k', sizeof key);
    assert_true(k8s_is_config_map_key(key, K8S_CONFIG_MAP_KEY_MAX));
    assert_false(k8s_is_config_map_key(key, K8S_CONFIG_MAP_KEY_MAX + 1));
}

/* Near the cap, where the room for the longest escapes is missing, a string whose escape
 * fits exactly is still written (jsonesc counts first), and one byte less fails. */
static void test_jsonesc_exact_fit_at_cap(void **state)
{
    (void)state;
    const char in[] = "a\"b\x01";            /* "a\"b\u0001" quoted: 12 bytes */
    const char want[] = "\"a\\\"b\\u0001\""; /* 12 bytes */
    buf b;
    buf_init(&b, sizeof want - 1);
    assert_int_equal(jsonesc_append(&b, in, sizeof in - 1), CW_OK);
    assert_string_equal(b.data, want);
    assert_int_equal(b.len, sizeof want - 1);
    buf_free(&b);
    buf_init(&b, sizeof want - 2);
    assert_int_equal(jsonesc_append(&b, in, sizeof in - 1), CW_ELIMIT);
    assert_int_equal(b.len, 0);
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_cap_and_sticky_failure),
        cmocka_unit_test(test_buf_grows_past_many_doublings),
        cmocka_unit_test(test_b64_rfc4648_vectors),
        cmocka_unit_test(test_b64_strict_and_go_forms),
        cmocka_unit_test(test_b64_large_input_roundtrip),
        cmocka_unit_test(test_jsonesc),
        cmocka_unit_test(test_namelist),
        cmocka_unit_test(test_celesc),
        cmocka_unit_test(test_file_read),
        cmocka_unit_test(test_int_parse),
        cmocka_unit_test(test_jsonnum),
        cmocka_unit_test(test_hash_fnv1a64),
        cmocka_unit_test(test_file_read_streams),
        cmocka_unit_test(test_file_read_secret_and_stream),
        cmocka_unit_test(test_printable_and_config_map_keys),
        cmocka_unit_test(test_jsonesc_exact_fit_at_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
