/* Tests of the config file reader (webhook/core/config*.c, SPEC §5).
 *
 * The error cases live in tests/config/: each YAML file there starts with "# code: CODE" and
 * "# expect: TEXT" lines naming the outcome and substrings of the message, so that a new case
 * needs no new code; a good case ("# code: OK") has a "# value: KEY = TEXT" line for every key
 * it sets, read back from the parsed config. Limits are crossed here, with generated files. */
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "buf.h"
#include "config.h"
#include "fileread.h"

/* ---- helpers ---- */

static config *parse_ok(const char *yaml)
{
    cw_error err = {{0}};
    config *cfg = NULL;
    cw_result r = config_parse("test.yaml", yaml, strlen(yaml), &cfg, &err);
    if (r != CW_OK)
        fail_msg("unexpected error %s: %s\n--- input\n%s", cw_result_str(r), err.msg, yaml);
    assert_non_null(cfg);
    return cfg;
}

/* Parses yaml expecting code and a message holding every NULL-terminated substring. */
static void parse_fails(const char *yaml, size_t len, cw_result code, ...)
{
    cw_error err = {{0}};
    config *cfg = (config *)1;
    cw_result r = config_parse("test.yaml", yaml, len, &cfg, &err);
    if (r != code) {
        fail_msg("expected %s, got %s: %s\n--- input\n%.300s", cw_result_str(code),
                 cw_result_str(r), err.msg, yaml);
    }
    assert_null(cfg);
    va_list ap;
    va_start(ap, code);
    for (const char *want = va_arg(ap, const char *); want; want = va_arg(ap, const char *)) {
        if (!strstr(err.msg, want))
            fail_msg("message \"%s\" lacks \"%s\"", err.msg, want);
    }
    va_end(ap);
}

#define FAILS(yaml, code, ...) parse_fails((yaml), strlen(yaml), (code), __VA_ARGS__, NULL)

static void assert_strings(const config_strings *list, const char *const *want, size_t n)
{
    assert_int_equal(list->count, n);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(list->items[i], want[i]);
}

static char *read_file(const char *path, size_t *len)
{
    char *text = NULL;
    return file_read(path, CONFIG_FILE_MAX, &text, len, NULL) == CW_OK ? text : NULL;
}

static void assert_defaults(const config *cfg)
{
    static const char *const excluded[] = {"kube-system", "kube-public", "kube-node-lease"};
    static const char *const allowed[] = {"kata-remote"};
    assert_string_equal(cfg->listen, ":8443");
    assert_string_equal(cfg->tls_cert, "/etc/coco-webhook/tls/tls.crt");
    assert_string_equal(cfg->tls_key, "/etc/coco-webhook/tls/tls.key");
    assert_int_equal(cfg->log_level, LOG_LEVEL_INFO);
    assert_string_equal(cfg->selector_label, "coco.confidentialcontainers.org/enabled");
    assert_strings(&cfg->exclude_namespaces, excluded, 3);
    assert_string_equal(cfg->runtime_class, "kata-remote");
    assert_strings(&cfg->runtime_class_allowed, allowed, 1);
    assert_int_equal(cfg->tls_min_version, CONFIG_TLS_1_2);
    assert_int_equal(cfg->shutdown_delay_ms, 10000); /* SPEC §4 */
    assert_int_equal(cfg->memory_limit, 0);          /* the cgroup's, else 256 MiB */
    assert_true(cfg->replace_persistent_volumes);
    assert_null(cfg->empty_dir_size_limit);
    assert_null(cfg->empty_dir_medium);
    assert_string_equal(cfg->sealed_mount_root, "/sealed");
    assert_int_equal(cfg->sealed_namespaces_count, 0);
    assert_int_equal(cfg->podvm_namespaces_count, 0);
    assert_null(config_podvm_profile_of(cfg, "fraud-detection"));
    assert_null(config_podvm_profile_of(cfg, NULL));
    assert_int_equal(cfg->podvm_machine_types.count, 0);
}

/* ---- defaults ---- */

static void test_defaults(void **state)
{
    (void)state;
    config *cfg = config_new_default();
    assert_non_null(cfg);
    assert_defaults(cfg);
    config_free(cfg);
}

static void test_empty_inputs_are_defaults(void **state)
{
    (void)state;
    static const char *const inputs[] = {
        "",
        "\n",
        "# only a comment\n",
        "---\n",
        "--- ~\n",
        "null\n",
        "{}\n",
        "---\n...\n",
        ("listen:\nlogLevel: ~\nselector:\nexcludeNamespaces:\nruntimeClass: {}\n"
         "storage:\n  emptyDir:\n  replacePersistentVolumes:\nsealedSecrets: {namespaces: ~}\n"),
        "podVM: {namespaces: {}, default: {}}\n",
        "podVM:\n  namespaces:\n  default:\n",
    };
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
        config *cfg = parse_ok(inputs[i]);
        assert_defaults(cfg);
        config_free(cfg);
    }
    config *cfg = NULL;
    assert_int_equal(config_parse("null.yaml", NULL, 0, &cfg, NULL), CW_OK);
    assert_non_null(cfg);
    assert_defaults(cfg);
    config_free(cfg);
}

/* The example of SPEC §5 is the defaults, so it must read back as them. */
static void test_spec_example_is_defaults(void **state)
{
    (void)state;
    const char *shared = getenv("COCO_SHARED");
    if (!shared)
        skip();
    char path[4096];
    snprintf(path, sizeof path, "%s/SPEC.md", shared);
    size_t len;
    char *spec = read_file(path, &len);
    assert_non_null(spec);
    char *section = strstr(spec, "## 5. Config file");
    assert_non_null(section);
    char *start = strstr(section, "```yaml\n");
    assert_non_null(start);
    start += strlen("```yaml\n");
    char *end = strstr(start, "```");
    assert_non_null(end);
    *end = '\0';
    config *cfg = parse_ok(start);
    assert_defaults(cfg);
    config_free(cfg);
    free(spec);
}

/* ---- every key ---- */

static void test_every_key(void **state)
{
    (void)state;
    static const char yaml[] =
        "listen: \"[::1]:9443\"\n"
        "tlsCert: /tls/cert.pem\n"
        "tlsKey: /tls/key.pem\n"
        "logLevel: debug\n"
        "selector:\n"
        "  label: example.com/confidential\n"
        "excludeNamespaces:\n"
        "  - openshift-monitoring\n"
        "  - kube-system\n"
        "  - openshift-monitoring\n"
        "runtimeClass:\n"
        "  name: kata-qemu-snp\n"
        "  allowed: [kata-remote, kata-qemu-tdx]\n"
        "tlsMinVersion: \"1.3\"\n"
        "storage:\n"
        "  replacePersistentVolumes: off\n"
        "  emptyDir: {sizeLimit: 1.5Gi, medium: Memory}\n"
        "sealedSecrets:\n"
        "  namespaces:\n"
        "    fraud-detection: [\"sealed-azure-sas:/sealed/azure-value\", model-key]\n"
        "    \"123\":\n"
        "      - a-secret\n"
        "    empty: []\n"
        "  mountRoot: /run/sealed/\n";
    static const char *const excluded[] = {"openshift-monitoring", "kube-system"};
    static const char *const allowed[] = {"kata-remote", "kata-qemu-tdx", "kata-qemu-snp"};
    static const char *const fraud[] = {"sealed-azure-sas:/sealed/azure-value", "model-key"};
    static const char *const numeric[] = {"a-secret"};
    config *cfg = parse_ok(yaml);
    assert_string_equal(cfg->listen, "[::1]:9443");
    assert_string_equal(cfg->tls_cert, "/tls/cert.pem");
    assert_string_equal(cfg->tls_key, "/tls/key.pem");
    assert_int_equal(cfg->log_level, LOG_LEVEL_DEBUG);
    assert_string_equal(cfg->selector_label, "example.com/confidential");
    assert_strings(&cfg->exclude_namespaces, excluded, 2);
    assert_string_equal(cfg->runtime_class, "kata-qemu-snp");
    assert_strings(&cfg->runtime_class_allowed, allowed, 3);
    assert_int_equal(cfg->tls_min_version, CONFIG_TLS_1_3);
    assert_false(cfg->replace_persistent_volumes);
    assert_string_equal(cfg->empty_dir_size_limit, "1.5Gi");
    assert_string_equal(cfg->empty_dir_medium, "Memory");
    assert_string_equal(cfg->sealed_mount_root, "/run/sealed");
    assert_int_equal(cfg->sealed_namespaces_count, 3);
    assert_strings(config_sealed_entries(cfg, "fraud-detection"), fraud, 2);
    assert_strings(config_sealed_entries(cfg, "123"), numeric, 1);
    assert_int_equal(config_sealed_entries(cfg, "empty")->count, 0);
    assert_null(config_sealed_entries(cfg, "other"));
    assert_null(config_sealed_entries(cfg, NULL));
    config_free(cfg);
}

static void test_runtime_class_name_is_allowed(void **state)
{
    (void)state;
    static const char *const name_only[] = {"kata-remote", "kata-qemu"};
    static const char *const empty_list[] = {"kata-qemu"};
    static const char *const present[] = {"kata-qemu", "kata-remote"};
    config *cfg = parse_ok("runtimeClass: {name: kata-qemu}\n");
    assert_strings(&cfg->runtime_class_allowed, name_only, 2);
    config_free(cfg);
    cfg = parse_ok("runtimeClass: {name: kata-qemu, allowed: []}\n");
    assert_strings(&cfg->runtime_class_allowed, empty_list, 1);
    config_free(cfg);
    cfg = parse_ok("runtimeClass:\n  allowed: [kata-qemu, kata-remote, kata-qemu]\n");
    assert_strings(&cfg->runtime_class_allowed, present, 2);
    config_free(cfg);
}

static void test_empty_dir(void **state)
{
    (void)state;
    static const char *const good[] = {"20Gi", "500M", "1.5Gi", "1e3", "1E6", "100", "0.5",
                                       ".5Gi", "1Ki",  "7Ei",   "2k",  "1.G", "3e-2"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        char yaml[128];
        snprintf(yaml, sizeof yaml, "storage:\n  emptyDir:\n    sizeLimit: %s\n", good[i]);
        config *cfg = parse_ok(yaml);
        assert_string_equal(cfg->empty_dir_size_limit, good[i]);
        assert_null(cfg->empty_dir_medium);
        config_free(cfg);
    }
    /* Quoted or plain, a number is a quantity, as kubectl takes it. */
    config *cfg = parse_ok("storage: {emptyDir: {sizeLimit: 1000000000, medium: \"\"}}\n");
    assert_string_equal(cfg->empty_dir_size_limit, "1000000000");
    assert_string_equal(cfg->empty_dir_medium, "");
    config_free(cfg);
    cfg = parse_ok("storage: {emptyDir: {sizeLimit: \"20Gi\", medium: Memory}}\n");
    assert_string_equal(cfg->empty_dir_size_limit, "20Gi");
    assert_string_equal(cfg->empty_dir_medium, "Memory");
    config_free(cfg);

    static const char *const bad[] = {"20GB",  "-1Gi", "+1Gi", "Gi",  "1.5.5Gi", "0",
                                      "0.0Mi", "1 Gi", "1e",   "1e+", "0x10",    "1_000",
                                      "1Gi\"", ".inf", "\"\"", "1ki"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char yaml[128];
        snprintf(yaml, sizeof yaml, "storage:\n  emptyDir:\n    sizeLimit: %s\n", bad[i]);
        FAILS(yaml, CW_EINVAL,
              "test.yaml:3: key \"storage.emptyDir.sizeLimit\": ", "Kubernetes quantity");
    }
}

static void test_booleans(void **state)
{
    (void)state;
    static const char *const yes[] = {"true", "True", "TRUE", "yes", "Yes", "YES",
                                      "on",   "On",   "ON",   "y",   "Y"};
    static const char *const no[] = {"false", "False", "FALSE", "no", "No", "NO",
                                     "off",   "Off",   "OFF",   "n",  "N"};
    char yaml[128];
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        snprintf(yaml, sizeof yaml, "storage:\n  replacePersistentVolumes: %s\n", no[i]);
        config *cfg = parse_ok(yaml);
        assert_false(cfg->replace_persistent_volumes);
        config_free(cfg);
        snprintf(yaml, sizeof yaml, "storage: {replacePersistentVolumes: %s}\n", yes[i]);
        cfg = parse_ok(yaml);
        assert_true(cfg->replace_persistent_volumes);
        config_free(cfg);
    }
    static const char *const bad[] = {"\"true\"", "'false'", "1",      "0",      "tru",
                                      "oN",       "enabled", "[true]", "{a: b}", "!!str true"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(yaml, sizeof yaml, "storage:\n  replacePersistentVolumes: %s\n", bad[i]);
        FAILS(yaml, CW_EINVAL,
              "test.yaml:2: key \"storage.replacePersistentVolumes\": ", "expected a boolean");
    }
}

/* YAML 1.1 as kubectl resolves it: these plain scalars are not strings. */
static void test_plain_non_strings(void **state)
{
    (void)state;
    static const char *const values[] = {
        "123",
        "-1",
        "+7",
        "0x1F",
        "0o17",
        "0b101",
        "0755",
        "089",
        "1_000",
        "1e3",
        "1.5",
        ".5",
        "-.5",
        "+.5e2",
        ".inf",
        "-.Inf",
        ".NaN",
        "yes",
        "No",
        "on",
        "OFF",
        "y",
        "n",
        "true",
        "False",
        "9223372036854775808",
        "18446744073709551615",
        "-9223372036854775808",
        "99999999999999999999999",
        "1__0",
    };
    char yaml[128];
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        snprintf(yaml, sizeof yaml, "# a comment\ntlsKey: %s\n", values[i]);
        FAILS(yaml, CW_EINVAL, "test.yaml:2: key \"tlsKey\": expected a string, found");
        /* Quoted, each is a fine string. */
        snprintf(yaml, sizeof yaml, "tlsKey: \"%s\"\n", values[i]);
        config *cfg = parse_ok(yaml);
        assert_string_equal(cfg->tls_key, values[i]);
        config_free(cfg);
        snprintf(yaml, sizeof yaml, "tlsKey: !!str %s\n", values[i]);
        cfg = parse_ok(yaml);
        assert_string_equal(cfg->tls_key, values[i]);
        config_free(cfg);
    }
}

/* ...and these are strings, as go-yaml v2 keeps them. */
static void test_plain_strings(void **state)
{
    (void)state;
    static const char *const values[] = {
        "2001-12-14",
        "1e400",
        "0xFFFFFFFFFFFFFFFFF",
        "_1",
        "1.2.3",
        "0x",
        "+",
        ".",
        "yess",
        "ontrue",
        "nulll",
        "1Gi",
        "0b102",
        "1e",
        "._5",
        "NaN",
        "inf",
        "-a",
        "/etc/tls.key",
        "TRUE1",
    };
    char yaml[128];
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        snprintf(yaml, sizeof yaml, "tlsKey: %s\n", values[i]);
        config *cfg = parse_ok(yaml);
        assert_string_equal(cfg->tls_key, values[i]);
        config_free(cfg);
    }
}

static void test_listen(void **state)
{
    (void)state;
    static const char *const good[] = {":8443",
                                       ":0", /* a free port, as --listen takes it */
                                       ":1",
                                       ":65535",
                                       "0.0.0.0:443",
                                       "127.0.0.1:8443",
                                       "localhost:8443",
                                       "[::1]:8443",
                                       "[::]:8443",
                                       "webhook.example.com:8443",
                                       "[2001:db8::1]:08443"};
    static const char *const bad[] = {"8443",        ":00000000000000000000065536",
                                      ":65536",      ":99999999",
                                      "::1:8443",    "[::1]8443",
                                      "[::1]",       "[zz]:1",
                                      "host:port",   ":",
                                      "host:",       ":-1",
                                      ": 8443",      "a_b:1",
                                      "-host:1",     "[]:1",
                                      ":+80",        "[::1]:",
                                      "[1.2.3.4]:1", ""};
    char yaml[256];
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        snprintf(yaml, sizeof yaml, "listen: \"%s\"\n", good[i]);
        config *cfg = parse_ok(yaml);
        assert_string_equal(cfg->listen, good[i]);
        config_free(cfg);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(yaml, sizeof yaml, "\nlisten: \"%s\"\n", bad[i]);
        FAILS(yaml, CW_EINVAL, "test.yaml:2: key \"listen\": ", "listen address");
    }
}

static void test_names(void **state)
{
    (void)state;
    config *cfg = parse_ok("selector: {label: enabled}\nexcludeNamespaces: [a, \"0\", a-b]\n");
    assert_string_equal(cfg->selector_label, "enabled");
    assert_int_equal(cfg->exclude_namespaces.count, 3);
    config_free(cfg);
    cfg = parse_ok("selector: {label: a.b-c.example/My_Label.x}\n");
    config_free(cfg);

    static const char *const bad_labels[] = {
        "Example.com/x",
        "/x",
        "x/",
        "a/b/c",
        "-x",
        "x-",
        "a b",
        "a/_x",
        "example.com/0123456789012345678901234567890123456789012345678901234567890123"};
    char yaml[256];
    for (size_t i = 0; i < sizeof bad_labels / sizeof bad_labels[0]; i++) {
        snprintf(yaml, sizeof yaml, "selector:\n  label: \"%s\"\n", bad_labels[i]);
        FAILS(yaml, CW_EINVAL, "test.yaml:2: key \"selector.label\": ", "not a valid label key");
    }
    static const char *const bad_ns[] = {"Kube-System", "a.b", "-a", "a-", "a_b", "\"\""};
    for (size_t i = 0; i < sizeof bad_ns / sizeof bad_ns[0]; i++) {
        snprintf(yaml, sizeof yaml, "excludeNamespaces:\n  - ok\n  - %s\n", bad_ns[i]);
        FAILS(yaml, CW_EINVAL,
              "test.yaml:3: key \"excludeNamespaces[1]\": ", "not a valid namespace name");
    }
    static const char *const bad_classes[] = {"Kata", "kata_remote", "a..b", ".a", "a.", "\"\""};
    for (size_t i = 0; i < sizeof bad_classes / sizeof bad_classes[0]; i++) {
        snprintf(yaml, sizeof yaml, "runtimeClass:\n  allowed: [ok, %s]\n", bad_classes[i]);
        FAILS(yaml, CW_EINVAL,
              "test.yaml:2: key \"runtimeClass.allowed[1]\": ", "not a valid RuntimeClass name");
        snprintf(yaml, sizeof yaml, "runtimeClass:\n  name: %s\n", bad_classes[i]);
        FAILS(yaml, CW_EINVAL,
              "test.yaml:2: key \"runtimeClass.name\": ", "not a valid RuntimeClass name");
    }
}

static void test_log_levels(void **state)
{
    (void)state;
    static const log_level levels[] = {LOG_LEVEL_DEBUG, LOG_LEVEL_INFO, LOG_LEVEL_WARN,
                                       LOG_LEVEL_ERROR};
    for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++) {
        char yaml[64];
        const char *name = log_level_name(levels[i]);
        snprintf(yaml, sizeof yaml, "logLevel: %s\n", name);
        config *cfg = parse_ok(yaml);
        assert_int_equal(cfg->log_level, levels[i]);
        config_free(cfg);
    }
    assert_string_equal(log_level_name(LOG_LEVEL_WARN), "warn");
    assert_string_equal(log_level_name((log_level)42), "unknown");
    FAILS("logLevel: INFO\n", CW_EINVAL, "test.yaml:1: key \"logLevel\": ", "\"INFO\"",
          "debug, info, warn or error");
}

static void test_tls_min_version(void **state)
{
    (void)state;
    config *cfg = parse_ok("tlsMinVersion: '1.2'\n");
    assert_int_equal(cfg->tls_min_version, CONFIG_TLS_1_2);
    config_free(cfg);
    cfg = parse_ok("tlsMinVersion: \"1.3\"\n");
    assert_int_equal(cfg->tls_min_version, CONFIG_TLS_1_3);
    config_free(cfg);
    cfg = parse_ok("tlsMinVersion:\n");
    assert_int_equal(cfg->tls_min_version, CONFIG_TLS_1_2);
    config_free(cfg);
    assert_string_equal(config_tls_version_name(CONFIG_TLS_1_3), "1.3");
    config_tls_version v = CONFIG_TLS_1_2;
    assert_true(config_parse_tls_version("1.3", &v));
    assert_int_equal(v, CONFIG_TLS_1_3);
    assert_false(config_parse_tls_version("1.1", &v));
    assert_false(config_parse_tls_version("TLS1.3", &v));
    /* Unquoted, 1.3 is a YAML number: a wrong type, as for every other key. */
    FAILS("tlsMinVersion: 1.3\n", CW_EINVAL,
          "test.yaml:1: key \"tlsMinVersion\": ", "expected a string, found a number");
    FAILS("\ntlsMinVersion: \"1.1\"\n", CW_EINVAL, "test.yaml:2: key \"tlsMinVersion\": ",
          "\"1.1\" is not a TLS version (\"1.2\" or \"1.3\")");
    FAILS("tlsMinVersion: [\"1.2\"]\n", CW_EINVAL,
          "test.yaml:1: key \"tlsMinVersion\": ", "expected a string");
}

static void test_mount_root(void **state)
{
    (void)state;
    config *cfg = parse_ok("sealedSecrets: {mountRoot: /a/b//}\n");
    assert_string_equal(cfg->sealed_mount_root, "/a/b");
    config_free(cfg);
    static const char *const bad[] = {"sealed", "/",    "//",  "/a/../b", "/a/./b",
                                      "/a//b",  "/a:b", "/..", "\"\"",    "\"/a\\tb\""};
    char yaml[128];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(yaml, sizeof yaml, "sealedSecrets:\n  mountRoot: %s\n", bad[i]);
        FAILS(yaml, CW_EINVAL,
              "test.yaml:2: key \"sealedSecrets.mountRoot\": ", "not an absolute path");
    }
}

/* Entries are checked as the engine parses them, against the final mount root. */
static void test_sealed_entries(void **state)
{
    (void)state;
    config *cfg = parse_ok("sealedSecrets:\n"
                           "  namespaces:\n"
                           "    ns1: [a, b, \"c:/data/c\", a, \" d \"]\n"
                           "  mountRoot: /x\n");
    assert_int_equal(config_sealed_entries(cfg, "ns1")->count, 5);
    /* Parsed once, against the final mount root, merged as the engine merges them. */
    static const char *const secrets[] = {"a", "b", "c", "d"};
    static const char *const paths[] = {"/x/a", "/x/b", "/data/c", "/x/d"};
    const config_namespace_secrets *ns = config_sealed_namespace(cfg, "ns1");
    assert_non_null(ns);
    assert_int_equal(ns->parsed_count, 4);
    for (size_t i = 0; i < 4; i++) {
        assert_string_equal(ns->parsed[i].secret, secrets[i]);
        assert_string_equal(ns->parsed[i].path, paths[i]);
    }
    assert_null(config_sealed_namespace(cfg, "ns2"));
    config_free(cfg);
    cfg = parse_ok("sealedSecrets: {namespaces: {empty: []}}\n");
    assert_int_equal(config_sealed_namespace(cfg, "empty")->parsed_count, 0);
    config_free(cfg);

    FAILS("sealedSecrets:\n  namespaces:\n    ns1:\n      - ok\n      - \"s:relative\"\n",
          CW_EINVAL, "test.yaml:5: key \"sealedSecrets.namespaces.ns1[1]\": ", "s:relative");
    FAILS("sealedSecrets:\n  namespaces:\n    ns1: [Bad_Name]\n", CW_EINVAL,
          "test.yaml:3: key \"sealedSecrets.namespaces.ns1[0]\": ", "Bad_Name");
    FAILS("sealedSecrets:\n  namespaces:\n    ns1: [\"a:/p/../q\"]\n", CW_EINVAL,
          "key \"sealedSecrets.namespaces.ns1[0]\": ", "a:/p/../q");
    /* Same path for two secrets: "a" lands on /x/b only with the later mount root. */
    FAILS("sealedSecrets:\n  namespaces:\n    ns1:\n    - \"b:/x/a\"\n    - a\n"
          "  mountRoot: /x\n",
          CW_EINVAL, "test.yaml:5: key \"sealedSecrets.namespaces.ns1[1]\": ", "\"a\"");
    FAILS("sealedSecrets:\n  namespaces:\n    ns1: [\"a, b\"]\n", CW_EINVAL,
          "test.yaml:3: key \"sealedSecrets.namespaces.ns1[0]\": ", "one entry per list item");
    FAILS("sealedSecrets:\n  namespaces:\n    ns1: [\"  \"]\n", CW_EINVAL,
          "key \"sealedSecrets.namespaces.ns1[0]\": empty entry");
    FAILS("sealedSecrets:\n  namespaces:\n    ns1: [yes]\n", CW_EINVAL,
          "key \"sealedSecrets.namespaces.ns1[0]\": expected a string, found a boolean");
    FAILS("sealedSecrets:\n  namespaces:\n    ns1: a\n", CW_EINVAL,
          "test.yaml:3: key \"sealedSecrets.namespaces.ns1\": expected a list of strings");
    FAILS("sealedSecrets:\n  namespaces:\n    Bad: [a]\n", CW_EINVAL,
          "test.yaml:3: key \"sealedSecrets.namespaces.Bad\": not a valid namespace name");
    FAILS("sealedSecrets:\n  namespaces:\n    123: [a]\n", CW_EINVAL,
          "test.yaml:3: key \"sealedSecrets.namespaces.123\": expected a string, found an "
          "integer");
    FAILS("sealedSecrets:\n  namespaces:\n    a: [s1]\n    b: [s2]\n    a: [s3]\n", CW_EINVAL,
          "test.yaml:5: key \"sealedSecrets.namespaces.a\": duplicate key");
    FAILS("sealedSecrets:\n  namespaces:\n    [a]: [x]\n", CW_EINVAL,
          "test.yaml:3: key \"sealedSecrets.namespaces\": expected a namespace name, found a list");
    FAILS("sealedSecrets:\n  namespaces: [a]\n", CW_EINVAL,
          "test.yaml:2: key \"sealedSecrets.namespaces\": expected a mapping of namespace names");
}

/* ---- limits ---- */

/* head, then n lines of before + index + after. */
static char *list_yaml(const char *head, const char *before, const char *after, size_t n)
{
    buf b;
    buf_init(&b, SIZE_MAX);
    assert_int_equal(buf_adds(&b, head), CW_OK);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(buf_addf(&b, "%s%zu%s", before, i, after), CW_OK);
    char *text = buf_take(&b, NULL);
    assert_non_null(text);
    return text;
}

static void test_list_limits(void **state)
{
    (void)state;
    char *yaml = list_yaml("excludeNamespaces:\n", "  - ns-", "\n", CONFIG_LIST_MAX);
    config *cfg = parse_ok(yaml);
    assert_int_equal(cfg->exclude_namespaces.count, CONFIG_LIST_MAX);
    config_free(cfg);
    free(yaml);

    yaml = list_yaml("excludeNamespaces:\n", "  - ns-", "\n", CONFIG_LIST_MAX + 1);
    FAILS(yaml, CW_ELIMIT, "test.yaml:1026: key \"excludeNamespaces\": more than 1024 entries");
    free(yaml);

    yaml = list_yaml("runtimeClass:\n  allowed:\n", "  - rc-", "\n", CONFIG_LIST_MAX + 1);
    FAILS(yaml, CW_ELIMIT, "key \"runtimeClass.allowed\": more than 1024 entries");
    free(yaml);

    yaml = list_yaml("sealedSecrets:\n  namespaces:\n", "    ns-", ": [a]\n", CONFIG_LIST_MAX);
    cfg = parse_ok(yaml);
    assert_int_equal(cfg->sealed_namespaces_count, CONFIG_LIST_MAX);
    assert_non_null(config_sealed_entries(cfg, "ns-1023"));
    config_free(cfg);
    free(yaml);

    yaml = list_yaml("sealedSecrets:\n  namespaces:\n", "    ns-", ": [a]\n", CONFIG_LIST_MAX + 1);
    FAILS(yaml, CW_ELIMIT, "test.yaml:1027: key \"sealedSecrets.namespaces\": more than 1024");
    free(yaml);

    yaml = list_yaml("sealedSecrets:\n  namespaces:\n    ns:\n", "      - s-", "\n", 64);
    cfg = parse_ok(yaml);
    assert_int_equal(config_sealed_entries(cfg, "ns")->count, 64);
    config_free(cfg);
    free(yaml);

    yaml = list_yaml("sealedSecrets:\n  namespaces:\n    ns:\n", "      - s-", "\n", 65);
    FAILS(yaml, CW_ELIMIT, "test.yaml:68: key \"sealedSecrets.namespaces.ns\": more than 64");
    free(yaml);
}

static void test_size_limit(void **state)
{
    (void)state;
    char *text = malloc(CONFIG_FILE_MAX + 1);
    assert_non_null(text);
    /* A comment of exactly the limit is fine; one byte more is not. */
    memset(text, ' ', CONFIG_FILE_MAX + 1);
    text[0] = '#';
    text[CONFIG_FILE_MAX - 1] = '\n';
    config *cfg = NULL;
    cw_error err = {{0}};
    assert_int_equal(config_parse("big.yaml", text, CONFIG_FILE_MAX, &cfg, &err), CW_OK);
    config_free(cfg);
    assert_int_equal(config_parse("big.yaml", text, CONFIG_FILE_MAX + 1, &cfg, &err), CW_ELIMIT);
    assert_null(cfg);
    assert_non_null(strstr(err.msg, "big.yaml: the file is larger than 1048576 bytes"));

    /* config_load checks the size before reading. */
    char path[] = "/tmp/test_config_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, CONFIG_FILE_MAX + 1), CONFIG_FILE_MAX + 1);
    close(fd);
    cfg = (config *)1;
    assert_int_equal(config_load(path, &cfg, &err), CW_ELIMIT);
    assert_null(cfg);
    assert_non_null(strstr(err.msg, "larger than 1048576 bytes"));
    assert_non_null(strstr(err.msg, path));
    unlink(path);
    free(text);
}

/* ---- structure ---- */

static void test_structure_errors(void **state)
{
    (void)state;
    FAILS("listen: \":1\"\nlisten: \":2\"\n", CW_EINVAL,
          "test.yaml:2: key \"listen\": duplicate key (first at line 1)");
    FAILS("storage:\n  emptyDir: {medium: \"\", medium: Memory}\n", CW_EINVAL,
          "test.yaml:2: key \"storage.emptyDir.medium\": duplicate key");
    FAILS("a: &x kata\nruntimeClass:\n  name: *x\n", CW_EINVAL,
          "test.yaml:1: key \"a\":", "unknown key");
    FAILS("runtimeClass:\n  name: &x kata\n  allowed: [*x]\n", CW_EINVAL,
          "test.yaml:2: key \"runtimeClass.name\": anchors (&name) are not supported");
    FAILS("runtimeClass:\n  allowed:\n    - kata\n    - *x\n", CW_EINVAL,
          "test.yaml:4: key \"runtimeClass.allowed[1]\": aliases (*name) are not supported");
    FAILS("storage: &s {}\n", CW_EINVAL, "test.yaml:1: key \"storage\": anchors");
    FAILS("&r {}\n", CW_EINVAL, "test.yaml:1: anchors");
    FAILS("listen: \":1\"\n---\nlisten: \":2\"\n", CW_EINVAL,
          "test.yaml:2: a second YAML document");
    FAILS("---\n---\n", CW_EINVAL, "test.yaml:2: a second YAML document");
    FAILS("- listen\n", CW_EINVAL, "test.yaml:1: expected a mapping of config keys");
    FAILS("listen\n", CW_EINVAL, "test.yaml:1: expected a mapping of config keys");
    FAILS("listen: \":1\"\n  tlsKey: x\n", CW_EINVAL, "test.yaml:2: invalid YAML: ");
    FAILS("listen: \":1\"\nexcludeNamespaces: [a,\n", CW_EINVAL, "test.yaml:3: invalid YAML: ");
    FAILS("\n\ntlsKey: \"abc\n", CW_EINVAL,
          "test.yaml:4: invalid YAML: ", "(while scanning a quoted scalar at line 3)");
    FAILS("tlsKey: \"a\\0b\"\n", CW_EINVAL, "test.yaml:1: key \"tlsKey\": ", "NUL");
    parse_fails("tlsKey: a\0b\n", 11, CW_EINVAL, "test.yaml:1: invalid YAML: ", NULL);
    FAILS("tlsKey: \xff\n", CW_EINVAL, "test.yaml:1: invalid YAML");
    FAILS("tlsKey: \"\xc3\x28\"\n", CW_EINVAL, "invalid YAML");
    FAILS("tlsKey: !!int 3\n", CW_EINVAL,
          "test.yaml:1: key \"tlsKey\": the tag \"tag:yaml.org,2002:int\" is not supported");
    FAILS("tlsKey: !custom x\n", CW_EINVAL, "key \"tlsKey\": the tag \"!custom\"");
    FAILS("excludeNamespaces: !!seq {}\n", CW_EINVAL, "key \"excludeNamespaces\": the tag");
    FAILS("excludeNamespaces: !!map {}\n", CW_EINVAL,
          "key \"excludeNamespaces\": expected a list of strings");
    FAILS("? [a]\n: b\n", CW_EINVAL, "test.yaml:1: expected a key, found a list");
    FAILS("\"listen\\0x\": \":1\"\n", CW_EINVAL, "test.yaml:1: key \"listen...\": unknown key");
    /* !!str, !!seq, !!map and "!" change nothing. */
    config *cfg = parse_ok("!!map\nlisten: !!str \":7\"\nexcludeNamespaces: !!seq [a]\n"
                           "tlsKey: ! 123\n");
    assert_string_equal(cfg->listen, ":7");
    assert_string_equal(cfg->tls_key, "123");
    config_free(cfg);
}

static void test_long_key_in_message(void **state)
{
    (void)state;
    char yaml[512];
    memset(yaml, 'k', 500);
    memcpy(yaml + 500, ": 1\n", 5);
    FAILS(yaml, CW_EINVAL, "test.yaml:1: key \"kkkkkkkkkk", "...\": unknown key");
    /* Control characters never reach a message. */
    FAILS("\"a\\e[31mb\\nc\": 1\n", CW_EINVAL, "test.yaml:1: key \"a?[31mb?c\": unknown key");
    FAILS("logLevel: \"x\\ty\"\n", CW_EINVAL, "key \"logLevel\": \"x?y\" is not a log level");
}

/* ---- data-driven error cases: tests/config/ ---- */

static cw_result code_named(const char *name)
{
    if (strcmp(name, "EINVAL") == 0)
        return CW_EINVAL;
    if (strcmp(name, "ELIMIT") == 0)
        return CW_ELIMIT;
    if (strcmp(name, "EIO") == 0)
        return CW_EIO;
    if (strcmp(name, "OK") == 0)
        return CW_OK;
    fail_msg("unknown code %s", name);
    return CW_EINTERNAL;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Appends items to out (cap bytes), comma-separated. */
static void join_strings(char *out, size_t cap, const config_strings *list)
{
    size_t n = 0;
    out[0] = '\0';
    for (size_t i = 0; list && i < list->count && n < cap; i++)
        n += (size_t)snprintf(out + n, cap - n, "%s%s", i ? "," : "", list->items[i]);
}

/* A pod-VM profile as "machineType=X image=X gpus=X gpuModel=X allowed=A,B enforce=B". */
static void podvm_profile_text(const config_podvm_profile *p, char *out, size_t cap)
{
    char allowed[512] = "";
    join_strings(allowed, sizeof allowed, &p->allowed_machine_types);
    snprintf(out, cap, "machineType=%s image=%s gpus=%s gpuModel=%s allowed=%s enforce=%s",
             p->machine_type ? p->machine_type : "~", p->image ? p->image : "~",
             p->gpus ? p->gpus : "~", p->gpu_model ? p->gpu_model : "~", allowed,
             p->enforce ? "true" : "false");
}

/* podVM keys of "# value:" lines: namespaces.NS and default (a profile as text), of.NS (the
 * name of the profile that applies to NS, "~" for none), machineTypes (the metric's names). */
static void podvm_value_of(const config *cfg, const char *key, char *out, size_t cap)
{
    if (strcmp(key, "default") == 0) {
        podvm_profile_text(&cfg->podvm_default, out, cap);
    } else if (strncmp(key, "namespaces.", 11) == 0) {
        for (size_t i = 0; i < cfg->podvm_namespaces_count; i++) {
            if (strcmp(cfg->podvm_namespaces[i].name, key + 11) == 0)
                podvm_profile_text(&cfg->podvm_namespaces[i], out, cap);
        }
    } else if (strncmp(key, "of.", 3) == 0) {
        const config_podvm_profile *p = config_podvm_profile_of(cfg, key + 3);
        if (p)
            snprintf(out, cap, "%s", p->name);
    } else if (strcmp(key, "machineTypes") == 0) {
        out[0] = '\0';
        join_strings(out, cap, &cfg->podvm_machine_types);
    } else {
        fail_msg("\"# value:\" names no podVM key the test knows: %s", key);
    }
}

/* The value of a config key as text ("~" for unset), for "# value: KEY = TEXT" lines: lists
 * are comma-separated, sealedSecrets.parsed.NS gives the parsed entries as SECRET:PATH. */
static void value_of(const config *cfg, const char *key, char *out, size_t cap)
{
    const char *text = NULL;
    const char *ns_entries = "sealedSecrets.namespaces.";
    const char *ns_parsed = "sealedSecrets.parsed.";
    if (strcmp(key, "listen") == 0)
        text = cfg->listen;
    else if (strcmp(key, "tlsCert") == 0)
        text = cfg->tls_cert;
    else if (strcmp(key, "tlsKey") == 0)
        text = cfg->tls_key;
    else if (strcmp(key, "logLevel") == 0)
        text = log_level_name(cfg->log_level);
    else if (strcmp(key, "tlsMinVersion") == 0)
        text = config_tls_version_name(cfg->tls_min_version);
    else if (strcmp(key, "selector.label") == 0)
        text = cfg->selector_label;
    else if (strcmp(key, "runtimeClass.name") == 0)
        text = cfg->runtime_class;
    else if (strcmp(key, "storage.replacePersistentVolumes") == 0)
        text = cfg->replace_persistent_volumes ? "true" : "false";
    else if (strcmp(key, "storage.emptyDir.sizeLimit") == 0)
        text = cfg->empty_dir_size_limit;
    else if (strcmp(key, "storage.emptyDir.medium") == 0)
        text = cfg->empty_dir_medium;
    else if (strcmp(key, "sealedSecrets.mountRoot") == 0)
        text = cfg->sealed_mount_root;
    else if (strcmp(key, "preflight") == 0)
        text = config_preflight_name(cfg->preflight);
    else if (strcmp(key, "initdata.annotation") == 0)
        text = cfg->initdata_annotation;
    if (text) {
        snprintf(out, cap, "%s", text);
        return;
    }
    snprintf(out, cap, "~");
    const char *runtimes = "runtimeClass.runtimes.";
    if (strncmp(key, runtimes, strlen(runtimes)) == 0) {
        /* "TYPE MAJOR.MINOR" of the class's runtime, the default for a class not listed */
        const runtime_profile *p = config_runtime_of(cfg, key + strlen(runtimes));
        snprintf(out, cap, "%s %u.%u", runtime_type_name(p->type), p->kata_major, p->kata_minor);
        return;
    }
    if (strcmp(key, "initdata.annotation") == 0) {
        return;
    } else if (strcmp(key, "excludeNamespaces") == 0) {
        join_strings(out, cap, &cfg->exclude_namespaces);
    } else if (strcmp(key, "runtimeClass.allowed") == 0) {
        join_strings(out, cap, &cfg->runtime_class_allowed);
    } else if (strncmp(key, ns_entries, strlen(ns_entries)) == 0) {
        const config_strings *entries = config_sealed_entries(cfg, key + strlen(ns_entries));
        if (entries)
            join_strings(out, cap, entries);
    } else if (strncmp(key, ns_parsed, strlen(ns_parsed)) == 0) {
        const config_namespace_secrets *ns = config_sealed_namespace(cfg, key + strlen(ns_parsed));
        size_t n = 0;
        for (size_t i = 0; ns && i < ns->parsed_count && n < cap; i++)
            n += (size_t)snprintf(out + n, cap - n, "%s%s:%s", i ? "," : "", ns->parsed[i].secret,
                                  ns->parsed[i].path);
    } else if (strncmp(key, "podVM.", 6) == 0) {
        podvm_value_of(cfg, key + 6, out, cap);
    } else if (strcmp(key, "storage.emptyDir.sizeLimit") != 0 &&
               strcmp(key, "storage.emptyDir.medium") != 0) {
        fail_msg("\"# value:\" names no key the test knows: %s", key);
    }
}

/* dir is at most 4096 bytes, file a directory entry name (at most 255). */
static void run_case(const char *dir, const char *file)
{
    char path[4096 + 256 + 2];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    size_t len;
    char *yaml = read_file(path, &len);
    assert_non_null(yaml);
    cw_result want = CW_EINVAL;
    size_t expects = 0;
    size_t values = 0;
    cw_error err = {{0}};
    config *cfg = NULL;
    cw_result got = config_parse(file, yaml, len, &cfg, &err);
    for (char *line = yaml; line && *line == '#';) {
        char *next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        if (strncmp(line, "# code: ", 8) == 0) {
            want = code_named(line + 8);
        } else if (strncmp(line, "# expect: ", 10) == 0) {
            expects++;
            if (!strstr(err.msg, line + 10))
                fail_msg("%s: message \"%s\" lacks \"%s\"", file, err.msg, line + 10);
        } else if (strncmp(line, "# value: ", 9) == 0) {
            /* "# value: KEY = TEXT": the key reads back as TEXT from the parsed config. */
            char *eq = strstr(line, " = ");
            if (!eq || !cfg)
                fail_msg("%s: \"%s\" needs a parsed config and KEY = TEXT", file, line);
            *eq = '\0';
            char got_value[1024];
            value_of(cfg, line + 9, got_value, sizeof got_value);
            if (strcmp(got_value, eq + 3) != 0)
                fail_msg("%s: key %s is \"%s\", expected \"%s\"", file, line + 9, got_value,
                         eq + 3);
            values++;
        }
        line = next;
    }
    if (got != want)
        fail_msg("%s: expected %s, got %s: %s", file, cw_result_str(want), cw_result_str(got),
                 err.msg);
    if (want != CW_OK && expects == 0)
        fail_msg("%s: an error case needs \"# expect:\" lines", file);
    if (want == CW_OK && values == 0)
        fail_msg("%s: a good case needs \"# value:\" lines for the keys it sets", file);
    printf("ok %s: %s\n", file, want == CW_OK ? "parsed" : err.msg);
    config_free(cfg);
    free(yaml);
}

static void test_case_files(void **state)
{
    (void)state;
    const char *src = getenv("COCO_SRC");
    if (!src)
        skip();
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/tests/config", src);
    DIR *d = opendir(dir);
    assert_non_null(d);
    char *names[512];
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len > 5 && strcmp(e->d_name + len - 5, ".yaml") == 0 && n < 512)
            names[n++] = strdup(e->d_name);
    }
    closedir(d);
    assert_true(n > 0);
    qsort(names, n, sizeof names[0], compare_names);
    for (size_t i = 0; i < n; i++) {
        run_case(dir, names[i]);
        free(names[i]);
    }
}

/* ---- loading and the other functions ---- */

static void test_load(void **state)
{
    (void)state;
    cw_error err = {{0}};
    config *cfg = (config *)1;
    assert_int_equal(config_load("/nonexistent/coco/config.yaml", &cfg, &err), CW_EIO);
    assert_null(cfg);
    assert_string_equal(err.msg, "/nonexistent/coco/config.yaml: No such file or directory");
    assert_int_equal(config_load("/tmp", &cfg, &err), CW_EIO);
    assert_string_equal(err.msg, "/tmp: Is a directory");

    char path[] = "/tmp/test_config_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    static const char yaml[] = "logLevel: warn\nruntimeClass:\n  allowed: kata\n";
    assert_int_equal(write(fd, yaml, strlen(yaml)), (ssize_t)strlen(yaml));
    close(fd);
    assert_int_equal(config_load(path, &cfg, &err), CW_EINVAL);
    assert_null(cfg);
    char want[4096 + 128];
    snprintf(want, sizeof want, "%s:3: key \"runtimeClass.allowed\": expected a list of strings",
             path);
    assert_string_equal(err.msg, want);

    fd = open(path, O_WRONLY | O_TRUNC);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, yaml, 15), 15);
    close(fd);
    assert_int_equal(config_load(path, &cfg, &err), CW_OK);
    assert_non_null(cfg);
    assert_int_equal(cfg->log_level, LOG_LEVEL_WARN);
    config_free(cfg);
    unlink(path);

    assert_int_equal(config_load("/dev/null", &cfg, &err), CW_OK);
    assert_defaults(cfg);
    config_free(cfg);
    /* No file: every default. */
    assert_int_equal(config_load(NULL, &cfg, &err), CW_OK);
    assert_defaults(cfg);
    config_free(cfg);
}

static void test_exclude_namespace(void **state)
{
    (void)state;
    static const char *const want[] = {"kube-system", "kube-public", "kube-node-lease",
                                       "coco-webhook"};
    config *cfg = config_new_default();
    assert_non_null(cfg);
    cw_error err = {{0}};
    assert_int_equal(config_exclude_namespace(cfg, "coco-webhook", &err), CW_OK);
    assert_int_equal(config_exclude_namespace(cfg, "coco-webhook", &err), CW_OK);
    assert_int_equal(config_exclude_namespace(cfg, "kube-system", &err), CW_OK);
    assert_strings(&cfg->exclude_namespaces, want, 4);
    assert_true(config_strings_contains(&cfg->exclude_namespaces, "coco-webhook"));
    assert_int_equal(config_exclude_namespace(cfg, "Bad_NS", &err), CW_EINVAL);
    assert_non_null(strstr(err.msg, "namespace \"Bad_NS\": not a valid namespace name"));
    assert_int_equal(config_exclude_namespace(cfg, "", &err), CW_EINVAL);
    assert_int_equal(config_exclude_namespace(cfg, NULL, &err), CW_EINVAL);
    assert_int_equal(cfg->exclude_namespaces.count, 4);
    config_free(cfg);

    /* Also on an empty list from the file. */
    cfg = parse_ok("excludeNamespaces: []\n");
    assert_int_equal(cfg->exclude_namespaces.count, 0);
    assert_int_equal(config_exclude_namespace(cfg, "own", NULL), CW_OK);
    assert_int_equal(cfg->exclude_namespaces.count, 1);
    config_free(cfg);
}

/* SPEC §2.7: an allowedMachineTypes of more than 64 entries is refused; the metric's label set
 * keeps the first 64 distinct machine types of the file and no more. */
static void test_podvm_limits(void **state)
{
    (void)state;
    buf b;
    buf_init(&b, 1 << 20);
    assert_int_equal(buf_adds(&b, "podVM:\n  default:\n    allowedMachineTypes:\n"), CW_OK);
    for (int i = 0; i < 65; i++)
        assert_int_equal(buf_addf(&b, "      - type-%d\n", i), CW_OK);
    parse_fails(b.data, b.len, CW_ELIMIT, "test.yaml:68: key \"podVM.default.allowedMachineTypes\"",
                "more than 64 entries", NULL);
    buf_free(&b);

    buf_init(&b, 1 << 20);
    assert_int_equal(buf_adds(&b, "podVM:\n  namespaces:\n"), CW_OK);
    for (int i = 0; i < 70; i++)
        assert_int_equal(buf_addf(&b, "    ns-%d: {machineType: type-%d}\n", i, i), CW_OK);
    assert_int_equal(buf_adds(&b, "  default: {machineType: type-0}\n"), CW_OK);
    char *text = buf_take(&b, NULL);
    config *cfg = parse_ok(text);
    assert_int_equal(cfg->podvm_namespaces_count, 70);
    assert_int_equal(cfg->podvm_machine_types.count, 64);
    assert_string_equal(config_podvm_machine_type_named(cfg, "type-63"), "type-63");
    assert_null(config_podvm_machine_type_named(cfg, "type-64"));
    assert_null(config_podvm_machine_type_named(cfg, NULL));
    assert_string_equal(config_podvm_profile_of(cfg, "ns-69")->machine_type, "type-69");
    assert_string_equal(config_podvm_profile_of(cfg, "other")->name, "podVM.default");
    config_free(cfg);
    free(text);
}

static void test_misc(void **state)
{
    (void)state;
    config_free(NULL);
    assert_false(config_strings_contains(NULL, "a"));
    config_strings empty = {0};
    assert_false(config_strings_contains(&empty, "a"));
    assert_null(config_sealed_entries(NULL, "a"));
    /* A NULL err is allowed. */
    config *cfg = (config *)1;
    assert_int_equal(config_parse("x.yaml", "listen: 1\n", 10, &cfg, NULL), CW_EINVAL);
    assert_null(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_empty_inputs_are_defaults),
        cmocka_unit_test(test_spec_example_is_defaults),
        cmocka_unit_test(test_every_key),
        cmocka_unit_test(test_runtime_class_name_is_allowed),
        cmocka_unit_test(test_empty_dir),
        cmocka_unit_test(test_booleans),
        cmocka_unit_test(test_plain_non_strings),
        cmocka_unit_test(test_plain_strings),
        cmocka_unit_test(test_listen),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_log_levels),
        cmocka_unit_test(test_tls_min_version),
        cmocka_unit_test(test_mount_root),
        cmocka_unit_test(test_sealed_entries),
        cmocka_unit_test(test_list_limits),
        cmocka_unit_test(test_size_limit),
        cmocka_unit_test(test_structure_errors),
        cmocka_unit_test(test_long_key_in_message),
        cmocka_unit_test(test_case_files),
        cmocka_unit_test(test_load),
        cmocka_unit_test(test_exclude_namespace),
        cmocka_unit_test(test_podvm_limits),
        cmocka_unit_test(test_misc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
