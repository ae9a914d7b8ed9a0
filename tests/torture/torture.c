/* Allocation-failure ("torture") test of the request path, as curl runs its tests: for
 * N = 1, 2, ... the Nth allocation of a scenario fails, until a run completes without reaching
 * N. Every run must either succeed with exactly the answer of an undisturbed run, or fail
 * cleanly (CW_ENOMEM, nothing half-built), and must leave no allocation behind.
 *
 * Scenarios: admission_review() on the fraud-detection Pod and Notebook reviews, without and
 * with the cJSON arena hooks; engine_mutate() on the plain fraud-detection Notebook with
 * sealed-secret namespaces and a pod-VM profile configured; manifest_read() + manifest_write_yaml()
 * on a multi-document YAML stream; config_parse() on examples/config.yaml.
 *
 * Injection: the test binary interposes malloc, calloc, realloc, free, strdup, strndup and
 * posix_memalign, so every allocation of the process counts: ours, cJSON's (also through the
 * arena's hooks), libyaml's and glibc's own (strdup, stdio). In a plain build the wrappers call
 * glibc's __libc_* functions. Under AddressSanitizer they call the sanitizer's allocator, found
 * with dlsym(RTLD_NEXT), so ASan still checks every access and LeakSanitizer still sees every
 * block; the same allocations are counted and failed in both builds. Allocations that bypass
 * these symbols (aligned_alloc, memalign, valloc, glibc-internal __libc_* calls) are not
 * failed; none is on the request path. With the arena hooks, cJSON's allocations come from
 * the arena's chunks, so those runs fail the chunk allocations and everything outside cJSON;
 * the runs without the hooks fail each cJSON allocation. Without the hooks an allocation
 * failure inside the body's parse reads as a 400 (cJSON cannot tell it from bad JSON); with
 * them it must be CW_ENOMEM. Debugging aids: TORTURE_ONLY=TEXT (scenarios by name),
 * TORTURE_TRACE=N (backtrace of failure N).
 *
 * Leaks are checked per run with a live-block counter kept by the wrappers (both builds), and
 * by LeakSanitizer at exit in the sanitized build.
 *
 * Usage: torture SRCDIR (the project's source directory, for the input files). */
#include <dlfcn.h>
#include <errno.h>
#include <execinfo.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#endif

#include "admission.h"
#include "arena.h"
#include "config.h"
#include "engine.h"
#include "json_prune.h"
#include "manifest.h"

/* ---- the interposer ---------------------------------------------------------------------- */

/* volatile: library code calls back into the wrappers, which the compiler cannot see, so
 * without it a "fail_at = 0; call; fail_at = saved;" sequence may lose its first store. */
static volatile unsigned long alloc_count; /* allocations since the countdown was armed */
static volatile unsigned long fail_at;     /* 0: disarmed; else the allocation that fails */
static volatile bool fail_hit;             /* the countdown reached fail_at in this run */
static volatile long live_blocks;          /* blocks allocated and not freed, whole process */
static volatile bool in_engine, in_parse;  /* inside engine_mutate / the request's parse */
static volatile bool hit_in_engine, hit_in_parse;
static unsigned long trace_at; /* TORTURE_TRACE=N: print where allocation N fails */

/* True when this allocation must fail. */
static bool countdown(void)
{
    if (!fail_at)
        return false;
    if (++alloc_count == fail_at) {
        fail_hit = true;
        hit_in_engine = in_engine;
        hit_in_parse = in_parse;
        if (trace_at == fail_at) {
            /* Where the failed allocation was made, for debugging. */
            void *frames[16];
            fail_at = 0;
            int n = backtrace(frames, 16);
            backtrace_symbols_fd(frames, n, 2);
            fprintf(stderr, "----\n");
            fail_at = alloc_count;
        }
        return true;
    }
    return false;
}

#if defined(__SANITIZE_ADDRESS__)
/* The sanitizer's allocator is the next definition after ours. dlsym may itself allocate
 * while it resolves them: those few blocks come from a static buffer and are never freed. */
static void *(*real_malloc)(size_t);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static void (*real_free)(void *);
static int (*real_posix_memalign)(void **, size_t, size_t);
static _Alignas(max_align_t) unsigned char boot[4096];
static size_t boot_used;
static bool resolving;

static void *boot_alloc(size_t n)
{
    n = (n + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
    if (boot_used + n > sizeof boot)
        return NULL;
    void *p = boot + boot_used;
    boot_used += n;
    return p;
}

static bool is_boot(const void *p)
{
    const unsigned char *q = p;
    return q >= boot && q < boot + sizeof boot;
}

static void resolve(void)
{
    if (real_malloc || resolving)
        return;
    resolving = true;
    real_calloc = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "calloc");
    real_realloc = (void *(*)(void *, size_t))dlsym(RTLD_NEXT, "realloc");
    real_free = (void (*)(void *))dlsym(RTLD_NEXT, "free");
    real_posix_memalign = (int (*)(void **, size_t, size_t))dlsym(RTLD_NEXT, "posix_memalign");
    real_malloc = (void *(*)(size_t))dlsym(RTLD_NEXT, "malloc");
    resolving = false;
    if (!real_malloc || !real_calloc || !real_realloc || !real_free || !real_posix_memalign)
        abort();
}

#define REAL_MALLOC(n) (resolve(), real_malloc ? real_malloc(n) : boot_alloc(n))
#define REAL_CALLOC(n, m) (resolve(), real_calloc ? real_calloc(n, m) : boot_alloc((n) * (m)))
#define REAL_REALLOC(p, n) (resolve(), real_realloc(p, n))
#define REAL_FREE(p) (resolve(), real_free(p))
#define REAL_POSIX_MEMALIGN(pp, a, n) (resolve(), real_posix_memalign(pp, a, n))
#define IS_BOOT(p) is_boot(p)
#else
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);
extern void *__libc_memalign(size_t, size_t);

static int libc_posix_memalign(void **pp, size_t align, size_t n)
{
    void *p = __libc_memalign(align, n);
    if (!p)
        return 12; /* ENOMEM */
    *pp = p;
    return 0;
}

#define REAL_MALLOC(n) __libc_malloc(n)
#define REAL_CALLOC(n, m) __libc_calloc(n, m)
#define REAL_REALLOC(p, n) __libc_realloc(p, n)
#define REAL_FREE(p) __libc_free(p)
#define REAL_POSIX_MEMALIGN(pp, a, n) libc_posix_memalign(pp, a, n)
#define IS_BOOT(p) ((void)(p), false)
#endif

void *malloc(size_t n)
{
    if (countdown())
        return NULL;
    void *p = REAL_MALLOC(n);
    if (p)
        live_blocks++;
    return p;
}

void *calloc(size_t n, size_t m)
{
    if (countdown())
        return NULL;
    void *p = REAL_CALLOC(n, m);
    if (p)
        live_blocks++;
    return p;
}

void *realloc(void *old, size_t n)
{
    if (IS_BOOT(old))
        abort(); /* never happens: dlsym's blocks are not resized */
    if (countdown())
        return NULL;
    void *p = REAL_REALLOC(old, n);
    if (p && !old)
        live_blocks++;
    if (!p && old && n == 0)
        live_blocks--; /* realloc(p, 0) freed p */
    return p;
}

void free(void *p)
{
    if (!p || IS_BOOT(p))
        return;
    live_blocks--;
    REAL_FREE(p);
}

int posix_memalign(void **pp, size_t align, size_t n)
{
    if (countdown())
        return 12; /* ENOMEM */
    int r = REAL_POSIX_MEMALIGN(pp, align, n);
    if (r == 0)
        live_blocks++;
    return r;
}

char *strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p)
        memcpy(p, s, n);
    return p;
}

char *strndup(const char *s, size_t max)
{
    size_t n = strnlen(s, max);
    char *p = malloc(n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

/* The link wraps these (-Wl,--wrap): to know where a failed allocation was made. */
cw_result __real_engine_mutate(const config *cfg, const engine_request *req, engine_result *res);
cw_result __wrap_engine_mutate(const config *cfg, const engine_request *req, engine_result *res);
cJSON *__real_json_prune_parse(const char *v, size_t n, const json_prune_rules *rules,
                               json_prune_result *out);
cJSON *__wrap_json_prune_parse(const char *v, size_t n, const json_prune_rules *rules,
                               json_prune_result *out);

cw_result __wrap_engine_mutate(const config *cfg, const engine_request *req, engine_result *res)
{
    in_engine = true;
    cw_result r = __real_engine_mutate(cfg, req, res);
    in_engine = false;
    return r;
}

cJSON *__wrap_json_prune_parse(const char *v, size_t n, const json_prune_rules *rules,
                               json_prune_result *out)
{
    in_parse = true;
    cJSON *r = __real_json_prune_parse(v, n, rules, out);
    in_parse = false;
    return r;
}

/* ---- the driver -------------------------------------------------------------------------- */

typedef enum outcome {
    RUN_OK,     /* succeeded with the reference answer */
    RUN_FAILED, /* failed cleanly (out of memory) */
    RUN_WRONG,  /* anything else: the test fails */
} outcome;

typedef struct scenario {
    const char *name;
    /* One run. The answer of a run with no failure (N = 0) is the reference: it is saved in
     * *ref, owned, and later runs compare with it. why says what was wrong. */
    outcome (*run)(const struct scenario *sc, char **ref, char *why, size_t whycap);
    const void *ctx;
} scenario;

static int failures;
static const char *only; /* TORTURE_ONLY=TEXT: only the scenarios whose name contains TEXT */

/* Runs sc for N = 0 (reference), then N = 1, 2, ... until no allocation failed. */
static void torture(const scenario *sc)
{
    if (only && !strstr(sc->name, only))
        return;
    char *ref = NULL;
    char why[512] = "";
    long before = live_blocks;
    if (sc->run(sc, &ref, why, sizeof why) != RUN_OK || !ref) {
        printf("FAIL %s: the run without failures did not succeed: %s\n", sc->name, why);
        failures++;
        free(ref);
        return;
    }
    long ref_blocks = live_blocks - before - 1; /* ref itself stays */
    if (ref_blocks != 0) {
        printf("FAIL %s: the run without failures leaves %ld blocks\n", sc->name, ref_blocks);
        failures++;
    }
    unsigned long n = 1, ok = 0, failed = 0, wrong = 0;
    for (;; n++) {
        why[0] = '\0';
        before = live_blocks;
        alloc_count = 0;
        fail_hit = false;
        fail_at = n;
        hit_in_engine = hit_in_parse = false;
        outcome o = sc->run(sc, &ref, why, sizeof why);
        fail_at = 0;
        bool hit = fail_hit;
        long leaked = live_blocks - before;
        if (o == RUN_WRONG && hit_in_parse && !arena_hooks_installed() &&
            strstr(why, "body is not valid JSON")) {
            /* Without the arena hooks cJSON cannot tell an allocation failure from malformed
             * input (admission.c): a 400 is the expected clean failure here. */
            o = RUN_FAILED;
        }
        if (leaked != 0) {
            printf("FAIL %s: N=%lu leaves %ld blocks\n", sc->name, n, leaked);
            wrong++;
        }
        if (o == RUN_WRONG) {
            printf("FAIL %s: N=%lu: %s\n", sc->name, n, why);
            wrong++;
        } else if (o == RUN_FAILED && !hit) {
            printf("FAIL %s: N=%lu failed with no allocation failure: %s\n", sc->name, n, why);
            wrong++;
        }
        if (!hit)
            break;
        if (o == RUN_OK)
            ok++;
        else
            failed++;
        if (wrong > 20) {
            printf("FAIL %s: too many failures, stopping\n", sc->name);
            break;
        }
    }
    unsigned long exercised = n - 1;
    printf("%s %s: %lu allocations failed one at a time (%lu recovered, %lu failed cleanly)\n",
           wrong || exercised == 0 ? "FAIL" : "ok  ", sc->name, exercised, ok, failed);
    if (wrong || exercised == 0)
        failures++;
    free(ref);
}

/* Compares a run's answer with the reference (or makes it the reference). Takes text. */
static outcome check_answer(char **ref, char *text, char *why, size_t whycap, const char *what)
{
    if (!text) {
        snprintf(why, whycap, "%s: no memory for the test's own copy", what);
        return RUN_FAILED;
    }
    if (!*ref) {
        *ref = text;
        return RUN_OK;
    }
    outcome o = RUN_OK;
    if (strcmp(*ref, text) != 0) {
        size_t i = 0;
        while ((*ref)[i] && (*ref)[i] == text[i])
            i++;
        snprintf(why, whycap, "%s differs from the undisturbed run at byte %zu: \"%.80s\"", what, i,
                 text + i);
        o = RUN_WRONG;
    }
    free(text);
    return o;
}

/* A malloc'd copy made outside the countdown (the test's own bookkeeping). */
static char *copy_unarmed(const char *s)
{
    unsigned long saved = fail_at;
    fail_at = 0;
    char *p = strdup(s);
    fail_at = saved;
    return p;
}

static char *read_file(const char *dir, const char *rel, size_t *len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    FILE *f = fopen(path, "rb");
    if (!f) {
        printf("FAIL cannot open %s\n", path);
        exit(1);
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n)
        exit(1);
    buf[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* ---- (a) admission_review ---------------------------------------------------------------- */

typedef struct review_ctx {
    const config *cfg;
    const char *body;
    size_t len;
} review_ctx;

static outcome run_review(const scenario *sc, char **ref, char *why, size_t whycap)
{
    const review_ctx *c = sc->ctx;
    admission_response resp;
    cw_result rc = admission_review(c->cfg, ENGINE_SCOPE_OBJECT, c->body, c->len, &resp);
    /* The arena keeps a chunk per thread between requests: not a leak, but release it so
     * that every run starts and ends with the same blocks. */
    arena_thread_release();
    if (rc == CW_ENOMEM) {
        if (resp.body) {
            snprintf(why, whycap, "CW_ENOMEM with a body");
            admission_response_clear(&resp);
            return RUN_WRONG;
        }
        snprintf(why, whycap, "CW_ENOMEM");
        return RUN_FAILED;
    }
    if (rc != CW_OK || !resp.body) {
        snprintf(why, whycap, "admission_review returned %s", cw_result_str(rc));
        admission_response_clear(&resp);
        return RUN_WRONG;
    }
    if (resp.http_status != 200 || resp.decision.engine.outcome != ENGINE_MUTATED) {
        snprintf(why, whycap, "HTTP %u result %s: %.200s", resp.http_status,
                 engine_outcome_name(resp.decision.engine.outcome), resp.body);
        admission_response_clear(&resp);
        return RUN_WRONG;
    }
    char *text = copy_unarmed(resp.body);
    admission_response_clear(&resp);
    return check_answer(ref, text, why, whycap, "the response");
}

/* ---- (b) engine_mutate ------------------------------------------------------------------- */

typedef struct engine_ctx {
    const config *cfg;
    const char *object;
} engine_ctx;

/* The whole result as one text: outcome, patch, warnings, record and the mutated object. */
static char *engine_text(const engine_result *res, const cJSON *object)
{
    unsigned long saved = fail_at;
    fail_at = 0;
    cJSON *all = cJSON_CreateObject();
    cJSON_AddNumberToObject(all, "outcome", res->decision.outcome);
    cJSON_AddNumberToObject(all, "code", res->decision.code);
    cJSON_AddStringToObject(all, "message", res->decision.message);
    cJSON_AddItemToObject(all, "patch", cJSON_Duplicate(res->patch, 1));
    cJSON *w = cJSON_AddArrayToObject(all, "warnings");
    for (size_t i = 0; i < res->decision.warning_count; i++)
        cJSON_AddItemToArray(w, cJSON_CreateString(res->warnings[i]));
    cJSON_AddStringToObject(all, "record", res->record ? res->record : "");
    cJSON_AddItemToObject(all, "object", cJSON_Duplicate(object, 1));
    cJSON_AddNumberToObject(all, "volumes_replaced", (double)res->decision.volumes_replaced);
    cJSON_AddNumberToObject(all, "secrets_mounted", (double)res->decision.secrets_mounted);
    cJSON_AddBoolToObject(all, "runtime_class_set", res->decision.runtime_class_set);
    char *text = cJSON_Print(all);
    cJSON_Delete(all);
    fail_at = saved;
    return text;
}

static outcome run_engine(const scenario *sc, char **ref, char *why, size_t whycap)
{
    const engine_ctx *c = sc->ctx;
    unsigned long saved = fail_at;
    fail_at = 0; /* the input is the test's, parsed undisturbed */
    cJSON *obj = cJSON_Parse(c->object);
    fail_at = saved;
    if (!obj) {
        snprintf(why, whycap, "cannot parse the Notebook");
        return RUN_WRONG;
    }
    engine_request req = {.object = obj,
                          .operation = ENGINE_OP_CREATE,
                          .scope = ENGINE_SCOPE_NAMESPACE,
                          .namespace = "fraud-detection"};
    engine_result res;
    cw_result rc = engine_mutate(c->cfg, &req, &res);
    outcome o;
    if (rc == CW_ENOMEM) {
        snprintf(why, whycap, "CW_ENOMEM");
        o = res.patch || res.record || res.decision.warning_count ? RUN_WRONG : RUN_FAILED;
        if (o == RUN_WRONG)
            snprintf(why, whycap, "CW_ENOMEM with a half-built result");
    } else if (rc != CW_OK) {
        snprintf(why, whycap, "engine_mutate returned %s", cw_result_str(rc));
        o = RUN_WRONG;
    } else if (res.decision.outcome != ENGINE_MUTATED) {
        snprintf(why, whycap, "outcome %d code %d: %s", res.decision.outcome, res.decision.code,
                 res.decision.message);
        o = RUN_WRONG;
    } else {
        o = check_answer(ref, engine_text(&res, obj), why, whycap, "the result");
    }
    engine_result_clear(&res);
    cJSON_Delete(obj);
    return o;
}

/* ---- (c) manifest_read + manifest_write_yaml --------------------------------------------- */

typedef struct manifest_ctx {
    const char *text;
    size_t len;
} manifest_ctx;

static outcome run_manifest(const scenario *sc, char **ref, char *why, size_t whycap)
{
    const manifest_ctx *c = sc->ctx;
    static char out[256 * 1024];
    unsigned long saved = fail_at;
    fail_at = 0; /* the stream (and its buffer) is the test's own */
    memset(out, 0, sizeof out);
    FILE *f = fmemopen(out, sizeof out - 1, "w");
    fail_at = saved;
    if (!f) {
        snprintf(why, whycap, "fmemopen failed: %s", strerror(errno));
        return RUN_WRONG;
    }
    manifest_docs docs = {0};
    cw_error err = {{0}};
    cw_result rc = manifest_read("input.yaml", c->text, c->len, &docs, &err);
    if (rc == CW_OK && docs.count == 0)
        rc = CW_EINVAL;
    for (size_t i = 0; rc == CW_OK && i < docs.count; i++)
        rc = manifest_write_yaml(f, docs.docs[i], i == 0, &err);
    manifest_docs_free(&docs);
    fail_at = 0;
    fclose(f);
    fail_at = saved;
    if (rc == CW_ENOMEM) {
        snprintf(why, whycap, "CW_ENOMEM: %s", err.msg);
        return RUN_FAILED;
    }
    if (rc != CW_OK) {
        snprintf(why, whycap, "%s: %s", cw_result_str(rc), err.msg);
        return RUN_WRONG;
    }
    return check_answer(ref, copy_unarmed(out), why, whycap, "the YAML written");
}

/* ---- (d) config_parse -------------------------------------------------------------------- */

typedef struct config_ctx {
    const char *text;
    size_t len;
} config_ctx;

static void put_strings(cJSON *o, const char *key, const config_strings *s)
{
    cJSON *a = cJSON_AddArrayToObject(o, key);
    for (size_t i = 0; i < s->count; i++)
        cJSON_AddItemToArray(a, cJSON_CreateString(s->items[i]));
}

/* Every field of a config as one text. */
static char *config_text(const config *cfg)
{
    unsigned long saved = fail_at;
    fail_at = 0;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "listen", cfg->listen ? cfg->listen : "(null)");
    cJSON_AddStringToObject(o, "tlsCert", cfg->tls_cert ? cfg->tls_cert : "(null)");
    cJSON_AddStringToObject(o, "tlsKey", cfg->tls_key ? cfg->tls_key : "(null)");
    cJSON_AddNumberToObject(o, "logLevel", cfg->log_level);
    cJSON_AddStringToObject(o, "label", cfg->selector_label ? cfg->selector_label : "(null)");
    put_strings(o, "exclude", &cfg->exclude_namespaces);
    cJSON_AddStringToObject(o, "class", cfg->runtime_class ? cfg->runtime_class : "(null)");
    put_strings(o, "allowed", &cfg->runtime_class_allowed);
    cJSON_AddBoolToObject(o, "replace", cfg->replace_persistent_volumes);
    cJSON_AddStringToObject(o, "sizeLimit",
                            cfg->empty_dir_size_limit ? cfg->empty_dir_size_limit : "(null)");
    cJSON_AddStringToObject(o, "medium", cfg->empty_dir_medium ? cfg->empty_dir_medium : "(null)");
    cJSON_AddStringToObject(o, "mountRoot",
                            cfg->sealed_mount_root ? cfg->sealed_mount_root : "(null)");
    cJSON *ns = cJSON_AddObjectToObject(o, "namespaces");
    for (size_t i = 0; i < cfg->sealed_namespaces_count; i++)
        put_strings(ns, cfg->sealed_namespaces[i].namespace, &cfg->sealed_namespaces[i].entries);
    char *text = cJSON_Print(o);
    cJSON_Delete(o);
    fail_at = saved;
    return text;
}

static outcome run_config(const scenario *sc, char **ref, char *why, size_t whycap)
{
    const config_ctx *c = sc->ctx;
    config *cfg = NULL;
    cw_error err = {{0}};
    cw_result rc = config_parse("config.yaml", c->text, c->len, &cfg, &err);
    if (rc == CW_ENOMEM && !cfg) {
        snprintf(why, whycap, "CW_ENOMEM: %s", err.msg);
        return RUN_FAILED;
    }
    if (rc != CW_OK || !cfg) {
        snprintf(why, whycap, "%s: %s", cw_result_str(rc), err.msg);
        config_free(cfg);
        return RUN_WRONG;
    }
    char *text = config_text(cfg);
    config_free(cfg);
    return check_answer(ref, text, why, whycap, "the config");
}

/* ---- main -------------------------------------------------------------------------------- */

int main(int argc, char **argv)
{
    const char *src = argc > 1 ? argv[1] : getenv("COCO_SRC");
    const char *trace = getenv("TORTURE_TRACE");
    trace_at = trace ? strtoul(trace, NULL, 10) : 0;
    only = getenv("TORTURE_ONLY");
    if (!src) {
        fprintf(stderr, "usage: torture SRCDIR\n");
        return 2;
    }
    size_t pod_len, nb_len, cfg_len, plain_len, yaml_len;
    char *pod = read_file(src, "tests/torture/pod-review.json", &pod_len);
    char *nb = read_file(src, "tests/torture/notebook-review.json", &nb_len);
    char *cfg_text = read_file(src, "examples/config.yaml", &cfg_len);
    char *plain = read_file(src, "bench/data/fraud-notebook-plain.json", &plain_len);
    char *yaml = read_file(src, "tests/golden/cases/workloads-multidoc/input.yaml", &yaml_len);
    cw_error err;
    config *cfg = NULL;
    if (config_parse("config.yaml", cfg_text, cfg_len, &cfg, &err) != CW_OK) {
        printf("FAIL examples/config.yaml: %s\n", err.msg);
        return 1;
    }
    if (!config_sealed_entries(cfg, "fraud-detection")) {
        printf("FAIL examples/config.yaml configures no sealed secrets for fraud-detection\n");
        return 1;
    }
    if (!config_podvm_profile_of(cfg, "fraud-detection")) {
        printf("FAIL examples/config.yaml configures no pod-VM profile for fraud-detection\n");
        return 1;
    }

    review_ctx pod_ctx = {cfg, pod, pod_len}, nb_ctx = {cfg, nb, nb_len};
    engine_ctx eng_ctx = {cfg, plain};
    manifest_ctx man_ctx = {yaml, yaml_len};
    config_ctx conf_ctx = {cfg_text, cfg_len};
    const scenario plain_reviews[] = {
        {"admission_review Pod (malloc)", run_review, &pod_ctx},
        {"admission_review Notebook (malloc)", run_review, &nb_ctx},
        {"engine_mutate Notebook", run_engine, &eng_ctx},
        {"manifest_read+write_yaml multidoc", run_manifest, &man_ctx},
        {"config_parse examples/config.yaml", run_config, &conf_ctx},
    };
    for (size_t i = 0; i < sizeof plain_reviews / sizeof plain_reviews[0]; i++)
        torture(&plain_reviews[i]);

    /* The server's setup: cJSON allocations of a request come from the thread's arena. The
     * hooks stay installed for the rest of the process. */
    arena_install_cjson_hooks();
    const scenario arena_reviews[] = {
        {"admission_review Pod (arena)", run_review, &pod_ctx},
        {"admission_review Notebook (arena)", run_review, &nb_ctx},
    };
    for (size_t i = 0; i < sizeof arena_reviews / sizeof arena_reviews[0]; i++)
        torture(&arena_reviews[i]);

    config_free(cfg);
    free(pod);
    free(nb);
    free(cfg_text);
    free(plain);
    free(yaml);
    printf("%s\n", failures ? "FAILED" : "passed");
    return failures ? 1 : 0;
}
