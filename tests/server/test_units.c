/* Unit tests of the server's pure parts: the AdmissionReview handler, the ?timeout= and
 * listen parsers, metrics rendering, the cJSON arena and log lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "admission.h"
#include "arena.h"
#include "budget.h"
#include "config.h"
#include "log.h"
#include "metrics.h"
#include "server.h"

static const char pod_review[] =
    "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{"
    "\"uid\":\"u-1\",\"kind\":{\"group\":\"\",\"version\":\"v1\",\"kind\":\"Pod\"},"
    "\"namespace\":\"demo\",\"operation\":\"CREATE\",\"object\":{\"apiVersion\":\"v1\","
    "\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\",\"labels\":{"
    "\"coco.confidentialcontainers.org/enabled\":\"true\"}},\"spec\":{\"containers\":"
    "[{\"name\":\"c\",\"image\":\"i\"}],\"volumes\":[{\"name\":\"d\","
    "\"persistentVolumeClaim\":{\"claimName\":\"pvc\"}}]}}}}";

static config *cfg;

static int setup(void **state)
{
    (void)state;
    cfg = config_new_default();
    return cfg ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    config_free(cfg);
    return 0;
}

static cJSON *answer(const char *body, size_t len, unsigned int want_status,
                     admission_response *resp)
{
    assert_int_equal(admission_review(cfg, ENGINE_SCOPE_OBJECT, body, len, resp), CW_OK);
    assert_int_equal(resp->http_status, want_status);
    assert_non_null(resp->body);
    assert_int_equal(strlen(resp->body), resp->len);
    cJSON *out = cJSON_ParseWithLength(resp->body, resp->len);
    assert_non_null(out);
    return out;
}

/* A deadline that has passed stops the work: 503, no patch; a far one changes nothing. */
static void test_review_deadline(void **state)
{
    (void)state;
    admission_response resp;
    assert_int_equal(admission_review_until(cfg, ENGINE_SCOPE_OBJECT, pod_review,
                                            sizeof pod_review - 1, 1, &resp),
                     CW_OK);
    assert_int_equal(resp.http_status, 503);
    assert_non_null(strstr(resp.body, "timeout passed"));
    assert_null(strstr(resp.body, "patch"));
    admission_response_clear(&resp);
    assert_int_equal(admission_review_until(cfg, ENGINE_SCOPE_OBJECT, pod_review,
                                            sizeof pod_review - 1, UINT64_MAX, &resp),
                     CW_OK);
    assert_int_equal(resp.http_status, 200);
    assert_non_null(strstr(resp.body, "\"patch\""));
    admission_response_clear(&resp);
}

static void run_pod_review(void)
{
    admission_response resp;
    cJSON *out = answer(pod_review, sizeof pod_review - 1, 200, &resp);
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(out, "response");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(r, "uid")->valuestring, "u-1");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "allowed")));
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(r, "patchType")->valuestring, "JSONPatch");
    assert_non_null(cJSON_GetObjectItemCaseSensitive(r, "warnings"));
    assert_non_null(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(r, "auditAnnotations"), ADMISSION_AUDIT_KEY));
    assert_int_equal(resp.decision.engine.outcome, ENGINE_MUTATED);
    assert_true(resp.decision.engine.runtime_class_set);
    assert_int_equal(resp.decision.engine.volumes_replaced, 1);
    assert_string_equal(resp.decision.namespace, "demo");
    assert_string_equal(resp.decision.name, "p");
    cJSON_Delete(out);
    admission_response_clear(&resp);
}

static void test_review_mutates(void **state)
{
    (void)state;
    run_pod_review();
}

static void test_review_mutates_with_arena(void **state)
{
    (void)state;
    /* Installed for the rest of this process: later tests run with the hooks too. */
    arena_install_cjson_hooks();
    for (int i = 0; i < 3; i++)
        run_pod_review();
}

static void test_review_body_not_terminated(void **state)
{
    (void)state;
    /* The body is length-bounded: a copy without NUL and followed by garbage. */
    size_t n = sizeof pod_review - 1;
    char *buf = malloc(n + 4);
    assert_non_null(buf);
    memcpy(buf, pod_review, n);
    memcpy(buf + n, "xyz!", 4);
    admission_response resp;
    cJSON *out = answer(buf, n, 200, &resp);
    cJSON_Delete(out);
    admission_response_clear(&resp);
    /* Trailing whitespace is fine, anything else is not. */
    memcpy(buf + n, " \r\n\t", 4);
    out = answer(buf, n + 4, 200, &resp);
    cJSON_Delete(out);
    admission_response_clear(&resp);
    memcpy(buf + n, " \0  ", 4);
    out = answer(buf, n + 4, 400, &resp);
    cJSON_Delete(out);
    admission_response_clear(&resp);
    free(buf);
}

static void test_review_errors(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "null",
        "{",
        "{}",
        "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\"}",
        "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{}}",
        "{\"apiVersion\":\"v1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":\"x\"}}",
        "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":"
        "{\"uid\":\"x\",\"kind\":{\"group\":\"\",\"version\":\"v1\",\"kind\":\"Pod\"},"
        "\"operation\":\"CREATE\",\"object\":null}}",
        "{\"a\":1,\"b\":2,\"a\":3}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        admission_response resp;
        cJSON *out = answer(bad[i], strlen(bad[i]), 400, &resp);
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(out, "error");
        assert_true(cJSON_IsString(e));
        assert_true(strlen(e->valuestring) > 0);
        assert_false(resp.decision.is_review);
        cJSON_Delete(out);
        admission_response_clear(&resp);
    }
}

static void test_duplicate_keys_large_object(void **state)
{
    (void)state;
    /* More members than the pairwise limit: checked by sorting. */
    char buf[4096];
    size_t n = 0;
    n += (size_t)snprintf(buf + n, sizeof buf - n, "{");
    for (int i = 0; i < 40; i++)
        n += (size_t)snprintf(buf + n, sizeof buf - n, "\"k%d\":%d,", i, i);
    n += (size_t)snprintf(buf + n, sizeof buf - n, "\"k7\":0}");
    admission_response resp;
    cJSON *out = answer(buf, n, 400, &resp);
    assert_non_null(strstr(resp.body, "duplicate key"));
    cJSON_Delete(out);
    admission_response_clear(&resp);
}

static void test_error_body_escapes(void **state)
{
    (void)state;
    size_t len;
    /* jsonesc.h's forms: \n short, other controls and DEL as \u00XX. */
    char *b = admission_error_body("a \"quoted\"\n\\ msg\x01\x7f", &len);
    assert_string_equal(b, "{\"error\":\"a \\\"quoted\\\"\\n\\\\ msg\\u0001\\u007f\"}");
    assert_int_equal(len, strlen(b));
    free(b);
}

static void test_parse_timeout(void **state)
{
    (void)state;
    int64_t ms;
    assert_int_equal(server_parse_timeout("10s", &ms), CW_OK);
    assert_int_equal(ms, 10000);
    assert_int_equal(server_parse_timeout("1m30s", &ms), CW_OK);
    assert_int_equal(ms, 90000);
    assert_int_equal(server_parse_timeout("500ms", &ms), CW_OK);
    assert_int_equal(ms, 500);
    assert_int_equal(server_parse_timeout("1.5s", &ms), CW_OK);
    assert_int_equal(ms, 1500);
    assert_int_equal(server_parse_timeout("", &ms), CW_EINVAL);
    assert_int_equal(server_parse_timeout("10", &ms), CW_EINVAL);
    assert_int_equal(server_parse_timeout("s", &ms), CW_EINVAL);
    assert_int_equal(server_parse_timeout("10x", &ms), CW_EINVAL);
    assert_int_equal(server_parse_timeout("-1s", &ms), CW_EINVAL);
    assert_int_equal(server_parse_timeout("2h", &ms), CW_ELIMIT);
    assert_int_equal(server_parse_timeout("99999999999999999999s", &ms), CW_EINVAL);
}

static void test_parse_listen(void **state)
{
    (void)state;
    char host[64];
    uint16_t port;
    assert_int_equal(server_parse_listen(SERVER_LISTEN_DEFAULT, host, sizeof host, &port, NULL),
                     CW_OK);
    assert_string_equal(host, "");
    assert_int_equal(port, SERVER_PORT_DEFAULT);
    assert_int_equal(server_parse_listen("127.0.0.1:0", host, sizeof host, &port, NULL), CW_OK);
    assert_string_equal(host, "127.0.0.1");
    assert_int_equal(port, 0);
    assert_int_equal(server_parse_listen("[::1]:443", host, sizeof host, &port, NULL), CW_OK);
    assert_string_equal(host, "::1");
    assert_int_equal(server_parse_listen("8443", host, sizeof host, &port, NULL), CW_EINVAL);
    assert_int_equal(server_parse_listen("::1:443", host, sizeof host, &port, NULL), CW_EINVAL);
    assert_int_equal(server_parse_listen(":65536", host, sizeof host, &port, NULL), CW_EINVAL);
    assert_int_equal(server_parse_listen(":x", host, sizeof host, &port, NULL), CW_EINVAL);
    /* intparse.h's grammar: no sign, no spaces, no empty port. */
    static const char *const refused[] = {":+443", ": 443", ":443 ", ":-1", ":", ":0x1bb"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
        assert_int_equal(server_parse_listen(refused[i], host, sizeof host, &port, NULL),
                         CW_EINVAL);
    cw_error err;
    assert_int_equal(server_parse_listen(":70000", host, sizeof host, &port, &err), CW_EINVAL);
    assert_string_equal(
        err.msg, "listen address \":70000\": the port must be a whole number from 0 to 65535");
}

static void test_metrics_render(void **state)
{
    (void)state;
    metrics_reset();
    metrics_count_request(METRICS_KIND_POD, METRICS_OP_CREATE, ENGINE_MUTATED);
    metrics_count_denial("runtime_class");
    metrics_count_denial("runtime_class");
    metrics_count_denial("with \"quote\"");
    metrics_observe_duration(0.0003);
    metrics_observe_duration(100);
    metrics_count_http(200);
    metrics_count_http(302);
    size_t len;
    char *text = metrics_render(&len);
    assert_non_null(text);
    assert_int_equal(strlen(text), len);
    assert_non_null(strstr(text, "coco_webhook_requests_total{kind=\"Pod\",operation=\"CREATE\","
                                 "result=\"mutated\"} 1\n"));
    assert_non_null(strstr(text, "coco_webhook_denials_total{reason=\"runtime_class\"} 2\n"));
    assert_non_null(strstr(text, "reason=\"with \\\"quote\\\"\"} 1\n"));
    assert_non_null(
        strstr(text, "coco_webhook_request_duration_seconds_bucket{le=\"0.0005\"} 1\n"));
    assert_non_null(strstr(text, "coco_webhook_request_duration_seconds_bucket{le=\"+Inf\"} 2\n"));
    assert_non_null(strstr(text, "coco_webhook_http_responses_total{code=\"3xx\"} 1\n"));
    assert_non_null(strstr(text, "coco_webhook_build_info{version=\"" COCO_VERSION "\"} 1\n"));
    free(text);
}

/* SPEC §2.7: pods per machine type, at most METRICS_MACHINE_TYPES_MAX names (the config's,
 * which a reload may change), more counted under "_other"; denials are not pods. */
static void test_metrics_machine_types(void **state)
{
    (void)state;
    metrics_reset();
    char name[32];
    for (int i = 0; i < METRICS_MACHINE_TYPES_MAX + 6; i++) {
        snprintf(name, sizeof name, "type-%d", i);
        metrics_count_pod_machine_type(name, false, ENGINE_MUTATED);
    }
    metrics_count_pod_machine_type("type-0", false, ENGINE_UNCHANGED);
    metrics_count_pod_machine_type(NULL, true, ENGINE_MUTATED);
    metrics_count_pod_machine_type(NULL, false, ENGINE_UNCHANGED);
    metrics_count_pod_machine_type("type-0", false, ENGINE_DENIED);
    metrics_count_pod_machine_type(NULL, false, ENGINE_SKIPPED);
    size_t len;
    char *text = metrics_render(&len);
    assert_non_null(text);
    assert_non_null(strstr(text, "coco_webhook_pod_vm_pods_total{machine_type=\"type-0\","
                                 "result=\"mutated\"} 1\n"));
    assert_non_null(strstr(text, "coco_webhook_pod_vm_pods_total{machine_type=\"type-0\","
                                 "result=\"unchanged\"} 1\n"));
    assert_non_null(strstr(text, "{machine_type=\"type-63\",result=\"mutated\"} 1\n"));
    assert_null(strstr(text, "type-64"));
    assert_non_null(strstr(text, "{machine_type=\"_other\",result=\"mutated\"} 7\n"));
    assert_non_null(strstr(text, "{machine_type=\"_none\",result=\"unchanged\"} 1\n"));
    free(text);
    metrics_reset();
}

static void test_arena(void **state)
{
    (void)state;
    arena_install_cjson_hooks();
    cJSON *outside = cJSON_CreateString("malloc'd"); /* allocated before the arena */
    arena_begin();
    cJSON *tree = cJSON_Parse("{\"a\":[1,2,3],\"b\":\"text\"}");
    assert_non_null(tree);
    assert_true(arena_used() > 0);
    /* A big allocation gets its own chunk. */
    void *big = cJSON_malloc(ARENA_CHUNK_FIRST * 2);
    assert_non_null(big);
    cJSON_free(big);
    /* A malloc'd item mixed into the tree is really freed by cJSON_Delete (ASan would report
     * a leak otherwise), the arena's nodes are released with the arena. */
    size_t used = arena_used();
    cJSON_AddItemToObjectCS(tree, "c", outside); /* a constant key: nothing allocated */
    assert_int_equal(arena_used(), used);
    cJSON_Delete(tree);
    arena_end();
    assert_int_equal(arena_used(), 0);
    arena_thread_release();
}

static void test_log_line(void **state)
{
    (void)state;
    char path[] = "/tmp/coco-log-test-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    int saved = dup(2);
    dup2(fd, 2);
    log_set_level(LOG_LEVEL_INFO);
    log_line l;
    log_begin(&l, LOG_LEVEL_DEBUG, "filtered");
    log_str(&l, "k", "v");
    log_end(&l);
    log_begin(&l, LOG_LEVEL_INFO, "hello");
    log_str(&l, "s", "a\"b\n\x01");
    log_int(&l, "n", -5);
    log_end(&l);
    char huge[LOG_LINE_MAX * 2];
    memset(huge, 'x', sizeof huge - 1);
    huge[sizeof huge - 1] = '\0';
    log_begin(&l, LOG_LEVEL_ERROR, "huge");
    log_str(&l, "v", huge);
    log_end(&l);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    char buf[LOG_LINE_MAX * 2];
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    close(fd);
    unlink(path);
    assert_true(n > 0);
    buf[n] = '\0';
    assert_null(strstr(buf, "filtered"));
    char *second = strchr(buf, '\n');
    assert_non_null(second);
    *second++ = '\0';
    cJSON *a = cJSON_Parse(buf);
    assert_non_null(a);
    assert_string_equal(cJSON_GetObjectItem(a, "s")->valuestring, "a\"b\n\x01");
    assert_string_equal(cJSON_GetObjectItem(a, "level")->valuestring, "info");
    cJSON_Delete(a);
    char *end = strchr(second, '\n');
    assert_non_null(end);
    *end = '\0';
    assert_true(strlen(second) < LOG_LINE_MAX);
    cJSON *b = cJSON_Parse(second);
    assert_non_null(b); /* truncated, still valid JSON */
    cJSON_Delete(b);
}

/* Writes text into dir/name (dir/memory made first, for names under it). */
static void put(const char *dir, const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/memory", dir);
    (void)mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* SPEC §3: the budget follows the container's limit, cgroup v2 first, then v1; "max", an
 * unset v1 value (a page count near 2^63), text that is not a number or no file: none (the
 * default applies). */
static void test_cgroup_limit(void **state)
{
    (void)state;
    char dir[] = "/tmp/coco-cgroup-XXXXXX";
    assert_non_null(mkdtemp(dir));
    assert_int_equal(budget_cgroup_limit(dir), 0);                     /* no file */
    put(dir, "memory/memory.limit_in_bytes", "9223372036854771712\n"); /* v1, unset */
    assert_int_equal(budget_cgroup_limit(dir), 0);
    put(dir, "memory/memory.limit_in_bytes", "536870912\n"); /* v1 */
    assert_int_equal(budget_cgroup_limit(dir), 536870912);
    put(dir, "memory.max", "max\n"); /* v2 without a limit: v1 is read */
    assert_int_equal(budget_cgroup_limit(dir), 536870912);
    put(dir, "memory.max", "268435456\n"); /* v2 wins */
    assert_int_equal(budget_cgroup_limit(dir), 268435456);
    put(dir, "memory.max", "12ab\n");
    assert_int_equal(budget_cgroup_limit(dir), 536870912);
    char path[600];
    snprintf(path, sizeof path, "%s/memory.max", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/memory/memory.limit_in_bytes", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/memory", dir);
    rmdir(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_review_mutates),
        cmocka_unit_test(test_review_errors),
        cmocka_unit_test(test_review_body_not_terminated),
        cmocka_unit_test(test_duplicate_keys_large_object),
        cmocka_unit_test(test_error_body_escapes),
        cmocka_unit_test(test_parse_timeout),
        cmocka_unit_test(test_review_deadline),
        cmocka_unit_test(test_parse_listen),
        cmocka_unit_test(test_metrics_render),
        cmocka_unit_test(test_metrics_machine_types),
        cmocka_unit_test(test_log_line),
        cmocka_unit_test(test_arena),
        cmocka_unit_test(test_review_mutates_with_arena),
        cmocka_unit_test(test_cgroup_limit),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
