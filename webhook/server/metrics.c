#include "metrics.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

/* Upper bounds of the latency histogram in seconds: admission work is sub-millisecond, the
 * API server's timeout is 1-30 s. */
static const double duration_bounds[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                         0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};
#define DURATION_BUCKETS (sizeof duration_bounds / sizeof duration_bounds[0])

/* HTTP status codes counted by code; others are counted under their class ("2xx"...). */
static const unsigned int http_codes[] = {200, 400, 404, 405, 413, 415, 500, 503};
#define HTTP_CODES (sizeof http_codes / sizeof http_codes[0])

static const char *const kind_names[] = {"Pod", "Notebook", "other"};
static const char *const op_names[] = {"CREATE", "UPDATE", "DELETE", "CONNECT", "other"};
static const char *const mutation_names[] = {"runtime_class", "volume_replaced", "secret_mounted"};
static const char *const file_names[] = {"certificate", "config"};

typedef struct deny_slot {
    _Atomic(const char *) reason;
    atomic_uint_fast64_t count;
} deny_slot;

/* Document names come from the config and outlive a reload, so they are copied; a slot is
 * claimed under a lock (an injection is rare next to a request) and never released. */
typedef struct initdata_slot {
    char name[METRICS_INITDATA_NAME_MAX + 1];
    uint64_t count;
} initdata_slot;

static struct {
    pthread_mutex_t lock;
    initdata_slot slots[METRICS_INITDATA_DOCUMENTS_MAX];
    size_t used;
    uint64_t other;
} initdata_counts = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* Machine types likewise come from the config: slots claimed under a lock, never released.
 * Index 0 of each count is "mutated", 1 "unchanged". */
typedef struct machine_slot {
    char name[METRICS_MACHINE_TYPE_NAME_MAX + 1];
    uint64_t count[2];
} machine_slot;

static struct {
    pthread_mutex_t lock;
    machine_slot slots[METRICS_MACHINE_TYPES_MAX];
    size_t used;
    atomic_uint_fast64_t other[2]; /* no lock: the common case of a cluster without profiles */
    atomic_uint_fast64_t none[2];
} machine_counts = {.lock = PTHREAD_MUTEX_INITIALIZER};

static struct {
    atomic_uint_fast64_t requests[METRICS_KIND_COUNT][METRICS_OP_COUNT][ENGINE_OUTCOME_COUNT];
    atomic_uint_fast64_t mutations[METRICS_MUT_COUNT];
    deny_slot denials[METRICS_DENY_REASONS_MAX];
    atomic_uint_fast64_t denials_other;
    atomic_uint_fast64_t buckets[DURATION_BUCKETS]; /* not cumulative; summed when rendered */
    atomic_uint_fast64_t duration_count;
    atomic_uint_fast64_t duration_sum_ns;
    atomic_uint_fast64_t reloads[METRICS_FILE_COUNT][2];
    atomic_uint_fast64_t config_warnings;
    atomic_uint_fast64_t http[HTTP_CODES];
    atomic_uint_fast64_t http_class[6];
    atomic_int_fast64_t cert_expiry;
} m;

#define INC(x, n) atomic_fetch_add_explicit(&(x), (n), memory_order_relaxed)
#define GET(x) atomic_load_explicit(&(x), memory_order_relaxed)

metrics_kind metrics_kind_of(const char *kind)
{
    if (kind && strcmp(kind, "Pod") == 0)
        return METRICS_KIND_POD;
    if (kind && strcmp(kind, "Notebook") == 0)
        return METRICS_KIND_NOTEBOOK;
    return METRICS_KIND_OTHER;
}

metrics_op metrics_op_of(const char *operation)
{
    for (int i = 0; i < METRICS_OP_OTHER; i++)
        if (operation && strcmp(operation, op_names[i]) == 0)
            return (metrics_op)i;
    return METRICS_OP_OTHER;
}

void metrics_count_request(metrics_kind kind, metrics_op op, engine_outcome outcome)
{
    if (kind >= METRICS_KIND_COUNT || op >= METRICS_OP_COUNT || outcome >= ENGINE_OUTCOME_COUNT)
        return;
    INC(m.requests[kind][op][outcome], 1);
}

void metrics_count_mutation(metrics_mutation type, uint64_t n)
{
    if (type < METRICS_MUT_COUNT && n > 0)
        INC(m.mutations[type], n);
}

void metrics_count_denial(const char *reason)
{
    if (!reason)
        reason = "unspecified";
    /* Slots are claimed once by compare-and-swap and never released. */
    for (size_t i = 0; i < METRICS_DENY_REASONS_MAX; i++) {
        const char *cur = atomic_load_explicit(&m.denials[i].reason, memory_order_acquire);
        if (!cur) {
            const char *expected = NULL;
            if (atomic_compare_exchange_strong(&m.denials[i].reason, &expected, reason))
                cur = reason;
            else
                cur = expected;
        }
        if (cur == reason || strcmp(cur, reason) == 0) {
            INC(m.denials[i].count, 1);
            return;
        }
    }
    INC(m.denials_other, 1);
}

void metrics_observe_duration(double seconds)
{
    if (seconds < 0)
        seconds = 0;
    size_t i = 0;
    while (i < DURATION_BUCKETS && seconds > duration_bounds[i])
        i++;
    if (i < DURATION_BUCKETS)
        INC(m.buckets[i], 1);
    INC(m.duration_count, 1);
    INC(m.duration_sum_ns, (uint_fast64_t)(seconds * 1e9));
}

void metrics_count_reload(metrics_file file, bool ok)
{
    if (file < METRICS_FILE_COUNT)
        INC(m.reloads[file][ok ? 0 : 1], 1);
}

void metrics_count_config_warnings(uint64_t n)
{
    INC(m.config_warnings, n);
}

void metrics_count_initdata(const char *document)
{
    if (!document)
        return;
    pthread_mutex_lock(&initdata_counts.lock);
    size_t i = 0;
    while (i < initdata_counts.used &&
           strncmp(initdata_counts.slots[i].name, document, METRICS_INITDATA_NAME_MAX) != 0)
        i++;
    if (i == initdata_counts.used && i < METRICS_INITDATA_DOCUMENTS_MAX) {
        snprintf(initdata_counts.slots[i].name, sizeof initdata_counts.slots[i].name, "%s",
                 document);
        initdata_counts.used++;
    }
    if (i < initdata_counts.used)
        initdata_counts.slots[i].count++;
    else
        initdata_counts.other++;
    pthread_mutex_unlock(&initdata_counts.lock);
}

void metrics_count_pod_machine_type(const char *machine_type, bool other, engine_outcome outcome)
{
    if (outcome != ENGINE_MUTATED && outcome != ENGINE_UNCHANGED)
        return;
    int r = outcome == ENGINE_MUTATED ? 0 : 1;
    if (!machine_type) {
        if (other)
            INC(machine_counts.other[r], 1);
        else
            INC(machine_counts.none[r], 1);
        return;
    }
    pthread_mutex_lock(&machine_counts.lock);
    size_t i = 0;
    while (i < machine_counts.used && strncmp(machine_counts.slots[i].name, machine_type,
                                              METRICS_MACHINE_TYPE_NAME_MAX + 1) != 0)
        i++;
    if (i == machine_counts.used && i < METRICS_MACHINE_TYPES_MAX &&
        strlen(machine_type) <= METRICS_MACHINE_TYPE_NAME_MAX) {
        snprintf(machine_counts.slots[i].name, sizeof machine_counts.slots[i].name, "%s",
                 machine_type);
        machine_counts.used++;
    }
    if (i < machine_counts.used)
        machine_counts.slots[i].count[r]++;
    else
        INC(machine_counts.other[r], 1);
    pthread_mutex_unlock(&machine_counts.lock);
}

void metrics_count_http(unsigned int code)
{
    for (size_t i = 0; i < HTTP_CODES; i++) {
        if (http_codes[i] == code) {
            INC(m.http[i], 1);
            return;
        }
    }
    if (code >= 100 && code < 600)
        INC(m.http_class[code / 100], 1);
}

void metrics_set_cert_expiry(int64_t unix_seconds)
{
    atomic_store_explicit(&m.cert_expiry, unix_seconds, memory_order_relaxed);
}

void metrics_reset(void)
{
    memset(&m, 0, sizeof m);
    pthread_mutex_lock(&initdata_counts.lock);
    memset(initdata_counts.slots, 0, sizeof initdata_counts.slots);
    initdata_counts.used = 0;
    initdata_counts.other = 0;
    pthread_mutex_unlock(&initdata_counts.lock);
    pthread_mutex_lock(&machine_counts.lock);
    memset(machine_counts.slots, 0, sizeof machine_counts.slots);
    machine_counts.used = 0;
    for (int r = 0; r < 2; r++) {
        atomic_store(&machine_counts.other[r], 0);
        atomic_store(&machine_counts.none[r], 0);
    }
    pthread_mutex_unlock(&machine_counts.lock);
}

/* Label values we print are fixed names or static reasons; escape anyway (text format 0.0.4). */
CW_MUST_USE static cw_result add_label_value(buf *t, const char *v)
{
    CW_GUARD(buf_addc(t, '"'));
    for (const char *p = v; *p; p++) {
        if (*p == '\\' || *p == '"')
            CW_GUARD(buf_addf(t, "\\%c", *p));
        else if (*p == '\n')
            CW_GUARD(buf_adds(t, "\\n"));
        else
            CW_GUARD(buf_addc(t, *p));
    }
    return buf_addc(t, '"');
}

CW_MUST_USE static cw_result render_initdata(buf *t)
{
    CW_GUARD(buf_addf(t,
                      "# HELP coco_webhook_initdata_injections_total Initdata annotations set, by "
                      "document.\n"
                      "# TYPE coco_webhook_initdata_injections_total counter\n"));
    for (size_t i = 0; i < initdata_counts.used; i++) {
        CW_GUARD(buf_addf(t, "coco_webhook_initdata_injections_total{document="));
        CW_GUARD(add_label_value(t, initdata_counts.slots[i].name));
        CW_GUARD(buf_addf(t, "} %llu\n", (unsigned long long)initdata_counts.slots[i].count));
    }
    if (initdata_counts.other)
        CW_GUARD(buf_addf(t, "coco_webhook_initdata_injections_total{document=\"_other\"} %llu\n",
                          (unsigned long long)initdata_counts.other));
    return CW_OK;
}

CW_MUST_USE static cw_result render_machine_line(buf *t, const char *name, uint64_t mutated,
                                                 uint64_t unchanged)
{
    const uint64_t count[2] = {mutated, unchanged};
    static const char *const results[] = {"mutated", "unchanged"};
    for (int r = 0; r < 2; r++) {
        if (!count[r])
            continue;
        CW_GUARD(buf_adds(t, "coco_webhook_pod_vm_pods_total{machine_type="));
        CW_GUARD(add_label_value(t, name));
        CW_GUARD(buf_addf(t, ",result=\"%s\"} %llu\n", results[r], (unsigned long long)count[r]));
    }
    return CW_OK;
}

/* Pods by the machine type of their pod VM (SPEC §2.7): the config's names, "_other" and
 * "_none" (not machine type names: a name starts with a letter or digit). */
CW_MUST_USE static cw_result render_machine_types(buf *t)
{
    CW_GUARD(buf_adds(t, "# HELP coco_webhook_pod_vm_pods_total Pods admitted, by the machine "
                         "type of their pod VM (annotation "
                         "io.katacontainers.config.hypervisor.machine_type: a configured one, "
                         "_other or _none) and result (a reinvoked pod counts again as "
                         "unchanged).\n"
                         "# TYPE coco_webhook_pod_vm_pods_total counter\n"));
    for (size_t i = 0; i < machine_counts.used; i++)
        CW_GUARD(render_machine_line(t, machine_counts.slots[i].name,
                                     machine_counts.slots[i].count[0],
                                     machine_counts.slots[i].count[1]));
    CW_GUARD(render_machine_line(t, "_other", GET(machine_counts.other[0]),
                                 GET(machine_counts.other[1])));
    return render_machine_line(t, "_none", GET(machine_counts.none[0]),
                               GET(machine_counts.none[1]));
}

CW_MUST_USE static cw_result render(buf *t)
{
    CW_GUARD(buf_addf(t,
                      "# HELP coco_webhook_build_info Build information.\n"
                      "# TYPE coco_webhook_build_info gauge\n"
                      "coco_webhook_build_info{version=\"%s\"} 1\n",
                      COCO_VERSION));

    CW_GUARD(buf_addf(t, "# HELP coco_webhook_requests_total AdmissionReviews answered, by kind, "
                         "operation and result.\n"
                         "# TYPE coco_webhook_requests_total counter\n"));
    for (int k = 0; k < METRICS_KIND_COUNT; k++)
        for (int o = 0; o < METRICS_OP_COUNT; o++)
            for (int r = 0; r < ENGINE_OUTCOME_COUNT; r++) {
                uint64_t v = GET(m.requests[k][o][r]);
                if (v)
                    CW_GUARD(buf_addf(t,
                                      "coco_webhook_requests_total{kind=\"%s\",operation=\"%s\","
                                      "result=\"%s\"} %llu\n",
                                      kind_names[k], op_names[o],
                                      engine_outcome_name((engine_outcome)r),
                                      (unsigned long long)v));
            }

    CW_GUARD(buf_addf(t, "# HELP coco_webhook_mutations_total Changes made, by type.\n"
                         "# TYPE coco_webhook_mutations_total counter\n"));
    for (int i = 0; i < METRICS_MUT_COUNT; i++)
        CW_GUARD(buf_addf(t, "coco_webhook_mutations_total{type=\"%s\"} %llu\n", mutation_names[i],
                          (unsigned long long)GET(m.mutations[i])));

    pthread_mutex_lock(&initdata_counts.lock);
    cw_result rc = render_initdata(t);
    pthread_mutex_unlock(&initdata_counts.lock);
    CW_GUARD(rc);

    pthread_mutex_lock(&machine_counts.lock);
    rc = render_machine_types(t);
    pthread_mutex_unlock(&machine_counts.lock);
    CW_GUARD(rc);

    CW_GUARD(buf_addf(t, "# HELP coco_webhook_denials_total Objects denied, by reason.\n"
                         "# TYPE coco_webhook_denials_total counter\n"));
    for (size_t i = 0; i < METRICS_DENY_REASONS_MAX; i++) {
        const char *reason = atomic_load_explicit(&m.denials[i].reason, memory_order_acquire);
        if (!reason)
            break;
        CW_GUARD(buf_addf(t, "coco_webhook_denials_total{reason="));
        CW_GUARD(add_label_value(t, reason));
        CW_GUARD(buf_addf(t, "} %llu\n", (unsigned long long)GET(m.denials[i].count)));
    }
    if (GET(m.denials_other))
        CW_GUARD(buf_addf(t, "coco_webhook_denials_total{reason=\"other\"} %llu\n",
                          (unsigned long long)GET(m.denials_other)));

    CW_GUARD(buf_addf(t, "# HELP coco_webhook_request_duration_seconds Time to answer an "
                         "AdmissionReview, from the first byte of the request.\n"
                         "# TYPE coco_webhook_request_duration_seconds histogram\n"));
    uint64_t cumulative = 0;
    for (size_t i = 0; i < DURATION_BUCKETS; i++) {
        cumulative += GET(m.buckets[i]);
        CW_GUARD(buf_addf(t, "coco_webhook_request_duration_seconds_bucket{le=\"%g\"} %llu\n",
                          duration_bounds[i], (unsigned long long)cumulative));
    }
    /* Read count after the buckets so that +Inf is never below the last bucket. */
    uint64_t count = GET(m.duration_count);
    if (count < cumulative)
        count = cumulative;
    CW_GUARD(buf_addf(t, "coco_webhook_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n",
                      (unsigned long long)count));
    CW_GUARD(buf_addf(t, "coco_webhook_request_duration_seconds_sum %.9f\n",
                      (double)GET(m.duration_sum_ns) / 1e9));
    CW_GUARD(buf_addf(t, "coco_webhook_request_duration_seconds_count %llu\n",
                      (unsigned long long)count));

    CW_GUARD(buf_addf(t, "# HELP coco_webhook_reloads_total Reloads of the certificate and the "
                         "config, by file and result.\n"
                         "# TYPE coco_webhook_reloads_total counter\n"));
    for (int f = 0; f < METRICS_FILE_COUNT; f++)
        for (int r = 0; r < 2; r++)
            CW_GUARD(buf_addf(t, "coco_webhook_reloads_total{file=\"%s\",result=\"%s\"} %llu\n",
                              file_names[f], r == 0 ? "success" : "failure",
                              (unsigned long long)GET(m.reloads[f][r])));
    CW_GUARD(buf_addf(t,
                      "# HELP coco_webhook_config_warnings_total Warnings of the configs loaded "
                      "(e.g. an initdata algorithm that cannot attest on a class's runtime).\n"
                      "# TYPE coco_webhook_config_warnings_total counter\n"
                      "coco_webhook_config_warnings_total %llu\n",
                      (unsigned long long)GET(m.config_warnings)));

    CW_GUARD(buf_addf(t,
                      "# HELP coco_webhook_certificate_expiry_timestamp_seconds notAfter of the "
                      "serving certificate.\n"
                      "# TYPE coco_webhook_certificate_expiry_timestamp_seconds gauge\n"
                      "coco_webhook_certificate_expiry_timestamp_seconds %lld\n",
                      (long long)GET(m.cert_expiry)));

    CW_GUARD(buf_addf(t,
                      "# HELP coco_webhook_http_responses_total HTTP responses, by status code.\n"
                      "# TYPE coco_webhook_http_responses_total counter\n"));
    for (size_t i = 0; i < HTTP_CODES; i++)
        CW_GUARD(buf_addf(t, "coco_webhook_http_responses_total{code=\"%u\"} %llu\n", http_codes[i],
                          (unsigned long long)GET(m.http[i])));
    for (int c = 1; c < 6; c++)
        if (GET(m.http_class[c]))
            CW_GUARD(buf_addf(t, "coco_webhook_http_responses_total{code=\"%dxx\"} %llu\n", c,
                              (unsigned long long)GET(m.http_class[c])));

    return CW_OK;
}

char *metrics_render(size_t *len)
{
    buf t;
    buf_init(&t, METRICS_TEXT_MAX);
    if (render(&t) != CW_OK) {
        buf_free(&t);
        return NULL;
    }
    return buf_take(&t, len);
}
