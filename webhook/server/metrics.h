/* metrics: the server's Prometheus metrics (SPEC §4), kept in atomic counters so that the
 * request path takes no lock, and rendered in the Prometheus text format (0.0.4).
 *
 * Label values come from small fixed sets (kinds, operations, results, mutation types, HTTP
 * codes) or from static strings chosen by the code (denial reasons), never from request data,
 * so the number of series is bounded. */
#ifndef COCO_METRICS_H
#define COCO_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine.h"
#include "k8s_names.h"

typedef enum metrics_kind {
    METRICS_KIND_POD,
    METRICS_KIND_NOTEBOOK,
    METRICS_KIND_OTHER,
    METRICS_KIND_COUNT,
} metrics_kind;

typedef enum metrics_op {
    METRICS_OP_CREATE,
    METRICS_OP_UPDATE,
    METRICS_OP_DELETE,
    METRICS_OP_CONNECT,
    METRICS_OP_OTHER,
    METRICS_OP_COUNT,
} metrics_op;

typedef enum metrics_mutation {
    METRICS_MUT_RUNTIME_CLASS,
    METRICS_MUT_VOLUME_REPLACED,
    METRICS_MUT_SECRET_MOUNTED,
    METRICS_MUT_COUNT,
} metrics_mutation;

typedef enum metrics_file {
    METRICS_FILE_CERTIFICATE,
    METRICS_FILE_CONFIG,
    METRICS_FILE_COUNT,
} metrics_file;

#define METRICS_DENY_REASONS_MAX 32       /* distinct denial reasons tracked; more go to "other" */
#define METRICS_INITDATA_DOCUMENTS_MAX 64 /* distinct initdata documents counted by name */
#define METRICS_INITDATA_NAME_MAX K8S_DNS_LABEL_MAX /* a document name is an RFC 1123 label */
#define METRICS_MACHINE_TYPES_MAX 64                /* distinct machine types counted by name */
#define METRICS_MACHINE_TYPE_NAME_MAX 128 /* bytes of a machine type name (config_podvm.c) */

metrics_kind metrics_kind_of(const char *kind);
metrics_op metrics_op_of(const char *operation);
/* One AdmissionReview answered, by what became of it (the outcome of its decision record;
 * engine_outcome_name gives the label). */
void metrics_count_request(metrics_kind kind, metrics_op op, engine_outcome outcome);
void metrics_count_mutation(metrics_mutation type, uint64_t n);
/* reason must be a static string (it is kept by pointer). */
void metrics_count_denial(const char *reason);
void metrics_observe_duration(double seconds);
void metrics_count_reload(metrics_file file, bool ok);
/* n warnings of a config just loaded (config.load_warnings: e.g. a peer-pods class given a
 * document that cannot attest on vTPM). */
void metrics_count_config_warnings(uint64_t n);
/* One initdata annotation set with document (copied; a config's document name). At most
 * METRICS_INITDATA_DOCUMENTS_MAX names are kept, more are counted under "_other" (not a valid
 * name). */
void metrics_count_initdata(const char *document);
/* One Pod admitted (outcome ENGINE_MUTATED or ENGINE_UNCHANGED: a reinvoked pod is counted
 * again, as unchanged) with machine type machine_type: a name from the config (copied), or
 * NULL: "_other" when other (the object names one the config does not), else "_none". Never
 * pass a string from a request: the label set is bounded by the config. At most
 * METRICS_MACHINE_TYPES_MAX names are kept, more are counted under "_other". */
void metrics_count_pod_machine_type(const char *machine_type, bool other, engine_outcome outcome);
void metrics_count_http(unsigned int code);
/* Unix time of the serving certificate's notAfter. */
void metrics_set_cert_expiry(int64_t unix_seconds);

/* Bytes of the rendered text: every series comes from the fixed sets above (a few hundred
 * lines of at most a few hundred bytes), so a text near the cap is a bug, not a load. */
#define METRICS_TEXT_MAX (1024 * 1024)

/* Renders every metric. Returns an owned NUL-terminated string (free()), or NULL when out of
 * memory (or past METRICS_TEXT_MAX); *len is its length. */
char *metrics_render(size_t *len);

/* Zeroes every metric (tests). */
void metrics_reset(void);

#endif
