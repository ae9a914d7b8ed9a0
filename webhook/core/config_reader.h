/* config_reader: the config file reader's own parts, shared by its files and by nothing else.
 *
 * config.c walks libyaml's event stream and reads typed values (strings, booleans, lists and
 * mappings); the key groups of SPEC §5 read their keys with them: config_keys.c (the root and
 * the simple groups), config_sealed.c (sealedSecrets) and config_initdata.c (initdata).
 * Every function here writes its message into ctx->err ("FILE:LINE: key \"PATH\": ...")
 * before it returns an error. */
#ifndef COCO_CONFIG_READER_H
#define COCO_CONFIG_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

#include "config.h"
#include "result.h"

#define PATH_BUF 320      /* a dotted key path in messages */
#define PATH_KEY_SHOWN 80 /* bytes of one key shown in a path; longer keys are cut */
#define VALUE_SHOWN 80    /* bytes of a rejected value quoted in a message */
#define NAMES_SHOWN 200   /* bytes of a list of names in a message ("expected one of: ...") */
#define MAP_KEYS_MAX 16   /* keys of a fixed mapping (read_map tracks each one's first line) */

typedef struct parse_ctx {
    yaml_parser_t parser;
    yaml_event_t ev; /* the current event, owned while have_ev */
    bool have_ev;
    const char *name;
    const char *buf;
    size_t len;
    cw_error *err;
    config *cfg;
    size_t **sealed_lines; /* line of each sealed entry, parallel to cfg->sealed_namespaces */
    /* initdata, resolved once the whole file is read (documents may come after their users) */
    size_t *doc_lines;   /* line of each document, parallel to cfg->initdata_documents */
    char **ns_doc_names; /* document named by each cfg->initdata_namespaces entry */
    size_t *ns_lines;    /* line of each namespace entry */
    size_t ns_current;   /* the namespace entry being read */
    char *default_name;  /* initdata.default as written, or NULL */
    size_t default_line;
    size_t annotation_line; /* line of initdata.annotation, when written */
    size_t *runtime_lines;  /* line of each runtimeClass.runtimes entry */
    const char *base_dir;   /* relative document paths are taken from here; NULL: cwd */
    config_strings *watch;  /* receives the document paths; may be NULL */
    /* podVM: the profile being read, and the line of its machineType (checked against its
     * allowedMachineTypes once the profile is read) */
    config_podvm_profile *podvm_current;
    size_t podvm_machine_type_line;
} parse_ctx;

/* Reads the value of the key at path (the current event, checked by check_node). */
typedef cw_result (*value_fn)(parse_ctx *ctx, const char *path);

typedef struct key_spec {
    const char *name;
    value_fn read;
} key_spec;

/* A validator returns NULL for a good value, else why it is wrong. */
typedef const char *(*check_fn)(const char *s);

/* A mapping whose keys are names the file chooses (namespaces, documents). */
typedef struct named_map {
    const char *not_a_map;  /* "expected a mapping of WHAT" */
    const char *key_what;   /* "expected KEY_WHAT, found a list" */
    const char *count_what; /* "more than CONFIG_LIST_MAX COUNT_WHAT" */
    size_t count_at;        /* offsetof(config, the entries' count) */
    check_fn check;         /* the name's rule */
    /* true when name is already a key of the mapping (a duplicate) */
    bool (*exists)(const config *cfg, const char *name);
    /* makes room in the config for the entry of name (its key at line) */
    cw_result (*add)(parse_ctx *ctx, const char *name, size_t line);
    value_fn read; /* reads the value of the entry just added */
} named_map;

/* A named_map in one line, its fields in their order; count_field names the config's count. */
#define NAMED_MAP(not_a_map_, key_what_, count_what_, count_field, check_, exists_, add_, read_)   \
    {                                                                                              \
        .not_a_map = (not_a_map_), .key_what = (key_what_), .count_what = (count_what_),           \
        .count_at = offsetof(config, count_field), .check = (check_), .exists = (exists_),         \
        .add = (add_), .read = (read_)                                                             \
    }

/* The number of keys of a key_spec table, checked at compile time against MAP_KEYS_MAX. */
#define KEY_COUNT(keys)                                                                            \
    (sizeof(keys) / sizeof((keys)[0]) +                                                            \
     0 * sizeof(struct {                                                                           \
         _Static_assert(sizeof(keys) / sizeof((keys)[0]) <= MAP_KEYS_MAX,                          \
                        "a fixed mapping has more keys than MAP_KEYS_MAX");                        \
         int unused;                                                                               \
     }))

/* ---- messages (config.c) ---- */

size_t event_line(const yaml_event_t *ev);

/* Formats "FILE:LINE: key \"PATH\": MESSAGE" (without the key part when path is empty). */
__attribute__((format(printf, 5, 6))) cw_result
fail_at(parse_ctx *ctx, size_t line, const char *path, cw_result code, const char *fmt, ...);

/* "\"VALUE\" is WHY" at the current event, the value shown bounded and without controls. */
CW_MUST_USE cw_result fail_value(parse_ctx *ctx, const char *path, const char *value,
                                 const char *why);

/* Copies at most shown bytes of text[0..len) into out (size > shown + 3) for a message. */
void text_shown(char *out, size_t size, const char *text, size_t len, size_t shown);

/* parent + "." + key (key alone at the top), and parent + "[index]". */
void path_join(char *out, size_t size, const char *parent, const char *key, size_t klen);
void path_index(char *out, size_t size, const char *parent, size_t index);

/* ---- the event walk and typed values (config.c) ---- */

CW_MUST_USE cw_result next_event(parse_ctx *ctx);

/* Refuses anchors, aliases and tags other than !!str, !!seq, !!map and "!" on the node. */
CW_MUST_USE cw_result check_node(parse_ctx *ctx, const char *path);

/* "a list", "a mapping" or "something else": what the current node is, for messages. */
const char *node_kind_name(const parse_ctx *ctx);

/* Reads the current node as a string. *out is NULL for null (when null_ok), else borrowed
 * from the event. Numbers are accepted as their text when numbers_ok (quantities). */
CW_MUST_USE cw_result get_string(parse_ctx *ctx, const char *path, bool null_ok, bool numbers_ok,
                                 const char **out);

/* Reads the current node as a plain YAML 1.1 integer within [min, max] into *out (a quoted
 * "1" is a string, refused like any wrong type). */
CW_MUST_USE cw_result get_int(parse_ctx *ctx, const char *path, int64_t min, int64_t max,
                              int64_t *out);

/* Reads the current node as a YAML 1.1 boolean into *out; null keeps *out when null_ok. */
CW_MUST_USE cw_result get_bool(parse_ctx *ctx, const char *path, bool null_ok, bool *out);

/* Replaces *field with the current node's string after check; null keeps the default. */
CW_MUST_USE cw_result set_string(parse_ctx *ctx, const char *path, char **field, check_fn check,
                                 bool numbers_ok);

/* Reads a list of strings into *out (replacing it) with at most max entries; null keeps the
 * default. Duplicates are dropped when dedupe. lines, when given, receives an owned array of
 * each entry's line. */
CW_MUST_USE cw_result read_string_list(parse_ctx *ctx, const char *path, config_strings *out,
                                       size_t max, check_fn check, bool dedupe, size_t **lines);

/* Reads a mapping with the fixed keys of keys[] (at most MAP_KEYS_MAX: pass KEY_COUNT(keys));
 * null keeps every default. */
CW_MUST_USE cw_result read_map(parse_ctx *ctx, const char *path, const key_spec *keys,
                               size_t nkeys);

/* Reads a mapping of names to values as spec says; null keeps the default. */
CW_MUST_USE cw_result read_named_map(parse_ctx *ctx, const char *path, const named_map *spec);

/* Grows the array *array_ptr (the address of a T *, holding count elements of size bytes) by
 * one element; on failure (out of memory) the array is unchanged. */
CW_MUST_USE cw_result grow_one(parse_ctx *ctx, void *array_ptr, size_t count, size_t size);

/* ---- the config's lists ---- */

/* Appends a copy of s; out of memory is reported in err. */
CW_MUST_USE cw_result strings_append(config_strings *list, const char *s, cw_error *err);
void strings_free(config_strings *list);

/* ---- the key groups ---- */

/* The root mapping of the file (config_keys.c). */
CW_MUST_USE cw_result read_root(parse_ctx *ctx);

/* RFC 1123 label: the rule of namespace names (config_keys.c). */
const char *check_namespace(const char *s);

/* sealedSecrets (config_sealed.c): reads the group, then parses every namespace's entries
 * against the final mount root into the config. */
CW_MUST_USE cw_result read_sealed_secrets(parse_ctx *ctx, const char *path);
void sealed_namespaces_free(config *cfg);

/* runtimeClass.runtimes and preflight (config_runtime.c); resolve_runtimes checks, once the
 * whole file is read, that each entry names an allowed class and that initdata agrees with
 * every class's runtime, and notes the load warnings. */
CW_MUST_USE cw_result read_runtimes(parse_ctx *ctx, const char *path);
CW_MUST_USE cw_result read_preflight(parse_ctx *ctx, const char *path);
CW_MUST_USE cw_result resolve_runtimes(parse_ctx *ctx);
void runtimes_free(config *cfg);

/* initdata (config_initdata.c): reads the group; resolve_initdata then loads the documents
 * and links the namespaces and the default to them once the whole file is read. */
CW_MUST_USE cw_result read_initdata(parse_ctx *ctx, const char *path);
CW_MUST_USE cw_result resolve_initdata(parse_ctx *ctx);
void initdata_parts_free(config *cfg);

/* podVM (config_podvm.c): the profiles of SPEC §2.7, each checked as it is read. */
CW_MUST_USE cw_result read_podvm(parse_ctx *ctx, const char *path);
void podvm_parts_free(config *cfg);

#endif
