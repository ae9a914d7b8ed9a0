/* initdata: the engine's initdata rules (SPEC §2.5): which document an object gets, and
 * whether its own annotation is kept, replaced, warned about or denied. The engine calls these
 * and emits what they decide (the operation that sets the annotation is the engine's, as for
 * its record); this module builds no patch and keeps no state beyond one request's
 * prior_record.
 *
 * The document's annotation value was made when the config was loaded (config.h): the
 * request path only compares and copies that ready string. */
#ifndef COCO_INITDATA_H
#define COCO_INITDATA_H

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "config.h"
#include "denial.h"
#include "result.h"

#define INITDATA_ANN_PICK "coco.confidentialcontainers.org/initdata"

/* The document chosen for one object. */
typedef struct initdata_choice {
    const config_initdata_document *document; /* borrowed from the config; NULL: none applies */
    bool enforced;                            /* the object's namespace enforces this document */
} initdata_choice;

typedef enum initdata_action {
    INITDATA_NOTHING,    /* no document applies */
    INITDATA_SET,        /* add the annotation */
    INITDATA_KEEP_SAME,  /* the object already carries the document */
    INITDATA_KEEP_OTHER, /* the object's own, different annotation wins: warn */
    INITDATA_REPLACE,    /* the webhook set an older document: replace it (key: the config's) */
} initdata_action;

/* The record annotation an object carries (the engine's ENGINE_ANN_RECORD, the webhook's
 * account of its earlier changes), parsed when first needed so that one request parses it at
 * most once: the initdata rule and the engine's record merge read the same tree. */
typedef struct prior_record {
    const char *text; /* borrowed annotation value, or NULL */
    cJSON *tree;      /* owned once parsed; NULL when absent or not JSON */
    bool parsed;
} prior_record;

/* The parsed record, or NULL (absent, not JSON, or out of memory: all read as no record). */
const cJSON *prior_record_tree(prior_record *r);
void prior_record_free(prior_record *r);

/* Chooses the document of an object in namespace ns (may be NULL) whose annotation
 * INITDATA_ANN_PICK is picked (NULL when absent). d->denied when the object is denied: an
 * unknown name (400, listing the documents), or another document than the one the namespace
 * enforces (403). */
void initdata_choose(const config *cfg, const char *ns, const char *picked, initdata_choice *c,
                     denial *d);

/* Reads value[0..len) as kata's runtime reads a pod's own initdata annotation (FACTS.md,
 * "Initdata": Go's base64.StdEncoding, padded, CR and LF skipped; one gzip stream; TOML whose
 * algorithm is sha256, sha384 or sha512; no version check): a value its shim would fail or
 * panic on is caught before the pod is. CW_EINVAL or CW_ELIMIT with what is wrong in err
 * ("not standard padded base64 (...)", "base64 of not gzip data, or cut short", "the
 * document:LINE: ..."); CW_ENOMEM. On CW_OK *alg is the document's algorithm. */
CW_MUST_USE cw_result initdata_check_value(const char *value, size_t len, initdata_alg *alg,
                                           cw_error *err);

/* Decides for the object whose metadata is meta (borrowed; may be NULL), for a runtime that
 * reads the annotation key (static; NULL: it reads none, and nothing is done). Only that key
 * is the object's own initdata (the other one its runtime ignores or refuses: the engine's
 * preflight decides about it). Present, it is kept: KEEP_SAME when it holds the chosen document
 * (compared as decoded bytes, so another gzip of the same file counts as the same), else
 * KEEP_OTHER, or a 403 under enforcement. Except when the value is the one the webhook set
 * earlier: the record (read from prior only then) names its digest. Then the document was
 * changed in the config since, and the value is REPLACEd (a Notebook created before the
 * change gets the new document at its next UPDATE instead of being denied under enforcement).
 * A value that is not a string, or metadata or annotations that are not objects, are a 400
 * (d->denied). Returns CW_ENOMEM when out of memory, else CW_OK. */
CW_MUST_USE cw_result initdata_decide(const char *key, const initdata_choice *c, const cJSON *meta,
                                      prior_record *prior, initdata_action *action, denial *d);

#endif
