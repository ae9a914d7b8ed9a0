/* Engine micro-benchmark: decode -> mutate -> patch -> verify -> encode, per object, on the
 * fraud-detection Notebook (bench/data). Reports microseconds and allocations per object, and
 * the same for a baseline that only parses and prints the object (the unavoidable JSON cost),
 * measured in the same run. Usage: engine_bench FILE.json [iterations]. */
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine.h"

/* Count every allocation of the process: interpose malloc and friends on glibc's own. */
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);
static unsigned long allocations;

void *malloc(size_t n)
{
    allocations++;
    return __libc_malloc(n);
}
void *calloc(size_t n, size_t m)
{
    allocations++;
    return __libc_calloc(n, m);
}
void *realloc(void *p, size_t n)
{
    allocations++;
    return __libc_realloc(p, n);
}
void free(void *p)
{
    __libc_free(p);
}

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = n > 0 ? __libc_malloc((size_t)n + 1) : NULL;
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        __libc_free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf) {
        buf[n] = '\0';
        *len = (size_t)n;
    }
    return buf;
}

/* The request path's work for one object; returns the patch size to keep it observable. */
static size_t one_object(const config *cfg, const char *text, size_t len)
{
    cJSON *obj = cJSON_ParseWithLengthOpts(text, len + 1, NULL, 1) /* + NUL: cJSON checks it */;
    engine_request req = {.object = obj,
                          .operation = ENGINE_OP_CREATE,
                          .scope = ENGINE_SCOPE_NAMESPACE,
                          .namespace = "fraud-detection",
                          .patch_text_max = (size_t)8 << 20 /* the patch as text, as served */};
    engine_result res;
    size_t out = 0;
    if (engine_mutate(cfg, &req, &res) == CW_OK) {
        if (res.patch_text) {
            size_t plen = res.patch_len;
            unsigned char *b64 = __libc_malloc(4 * ((plen + 2) / 3) + 1);
            allocations++;
            out = (size_t)EVP_EncodeBlock(b64, (unsigned char *)res.patch_text, (int)plen);
            free(b64);
        }
        engine_result_clear(&res);
    }
    cJSON_Delete(obj);
    return out;
}

static size_t baseline(const char *text, size_t len)
{
    cJSON *obj = cJSON_ParseWithLengthOpts(text, len + 1, NULL, 1) /* + NUL: cJSON checks it */;
    char *s = cJSON_PrintUnformatted(obj);
    size_t out = s ? strlen(s) : 0;
    free(s);
    cJSON_Delete(obj);
    return out;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE.json [iterations]\n", argv[0]);
        return 2;
    }
    long iters = argc > 2 ? strtol(argv[2], NULL, 10) : 20000;
    if (iters <= 0)
        iters = 1;
    size_t len;
    char *text = read_file(argv[1], &len);
    static const char cfg_text[] =
        "sealedSecrets:\n  namespaces:\n    fraud-detection:\n"
        "    - sealed-azure-sas:/sealed/azure-value\n    - sealed-dataset-key:/sealed/decryption\n";
    cw_error err;
    config *cfg = NULL;
    if (!text || config_parse("bench", cfg_text, sizeof cfg_text - 1, &cfg, &err) != CW_OK) {
        fprintf(stderr, "setup failed\n");
        return 1;
    }
    size_t sink = one_object(cfg, text, len) + baseline(text, len); /* warm up */
    {
        cJSON *obj = cJSON_ParseWithLengthOpts(text, len + 1, NULL, 1) /* + NUL: cJSON checks it */;
        engine_request req = {.object = obj,
                              .operation = ENGINE_OP_CREATE,
                              .scope = ENGINE_SCOPE_NAMESPACE,
                              .namespace = "fraud-detection",
                              .patch_text_max = (size_t)8 << 20 /* the patch as text, as served */};
        engine_result res;
        if (engine_mutate(cfg, &req, &res) != CW_OK || res.decision.outcome == ENGINE_DENIED) {
            fprintf(stderr, "engine: %s\n", res.decision.message);
            return 1;
        }
        printf("patch: %zu operations, %zu warnings\n", res.decision.patch_ops,
               res.decision.warning_count);
        engine_result_clear(&res);
        cJSON_Delete(obj);
    }

    double best_engine = 1e30, best_base = 1e30;
    unsigned long allocs_engine = 0, allocs_base = 0;
    for (int round = 0; round < 5; round++) {
        unsigned long a0 = allocations;
        double t0 = now_us();
        for (long i = 0; i < iters; i++)
            sink += baseline(text, len);
        double t1 = now_us();
        unsigned long a1 = allocations;
        for (long i = 0; i < iters; i++)
            sink += one_object(cfg, text, len);
        double t2 = now_us();
        unsigned long a2 = allocations;
        if ((t1 - t0) / iters < best_base)
            best_base = (t1 - t0) / iters;
        if ((t2 - t1) / iters < best_engine)
            best_engine = (t2 - t1) / iters;
        allocs_base = (a1 - a0) / (unsigned long)iters;
        allocs_engine = (a2 - a1) / (unsigned long)iters;
    }
    printf("input: %s (%zu bytes), %ld objects per round, best of 5 rounds\n", argv[1], len, iters);
    printf("baseline  parse+print:                       %8.2f us/object  %5lu allocations\n",
           best_base, allocs_base);
    printf("engine    parse+mutate+verify+patch+base64:  %8.2f us/object  %5lu allocations\n",
           best_engine, allocs_engine);
    printf("ratio engine/baseline: %.2fx time, %.2fx allocations   (checksum %zu)\n",
           best_engine / best_base, (double)allocs_engine / (double)allocs_base, sink % 10);
    config_free(cfg);
    __libc_free(text);
    return 0;
}
