/* arena: a per-thread bump allocator behind cJSON's allocation hooks, for the request path.
 *
 * One cJSON parse of an 8 KB AdmissionReview makes hundreds of small allocations (one per
 * node and string); serving them from an arena and freeing them all at once halves the cost
 * of a parse (ENGINEERING.md). cJSON_InitHooks is process-global, so the hooks installed by
 * arena_install_cjson_hooks() pass through to malloc/free unless the calling thread has an
 * arena active: other threads and other code (config reload, manifests) are unaffected.
 *
 * Rules while an arena is in use on a thread (between arena_begin and arena_end):
 *  - every cJSON allocation of that thread comes from the arena; cJSON_free/cJSON_Delete of
 *    arena memory is a no-op until arena_end, of other memory (allocated before arena_begin
 *    or on another thread) a real free(), so a tree may mix both and is still freed with
 *    cJSON_Delete;
 *  - nothing allocated from the arena may outlive arena_end (copy results to malloc'd memory);
 *  - arena memory must never be passed to free() directly.
 * Under AddressSanitizer, memory returned by arena_end is poisoned so that a use after the
 * request is reported. */
#ifndef COCO_ARENA_H
#define COCO_ARENA_H

#include <stdbool.h>
#include <stddef.h>

#define ARENA_CHUNK_FIRST (128 * 1024)    /* bytes of the chunk kept between requests */
#define ARENA_CHUNK_MAX (4 * 1024 * 1024) /* chunks grow by doubling up to this size */

/* Installs the hooks. Call once, before any thread uses cJSON. */
void arena_install_cjson_hooks(void);
bool arena_hooks_installed(void);

/* Makes the calling thread's arena active. Not nestable. */
void arena_begin(void);
/* Caps what the active arena hands out until arena_end (0: no cap): an allocation past it
 * fails as if memory ran out, and arena_over_limit() says why. */
void arena_limit(size_t bytes);
bool arena_over_limit(void);

/* Releases everything allocated since arena_begin (keeps the first chunk for the next
 * request) and deactivates the arena. */
void arena_end(void);

/* A point in the calling thread's arena to come back to: arena_rewind(mark) releases what was
 * allocated after arena_mark, for a value parsed only to be checked and dropped (json_prune).
 * Marks nest like a stack. While no arena is active both are no-ops (frees are real then). */
typedef struct arena_mark {
    void *chunk; /* the chunk being filled at the mark, or NULL */
    size_t chunk_used;
    size_t used;
} arena_mark;
arena_mark arena_mark_here(void);
/* Nothing allocated after the mark may be used afterwards. */
void arena_rewind(arena_mark mark);

/* Frees the calling thread's kept chunk (thread exit, tests). */
void arena_thread_release(void);

/* True when a cJSON allocation of the calling thread failed since arena_begin (through the
 * hooks, arena or malloc): tells an out-of-memory parse failure from malformed input. */
bool arena_alloc_failed(void);

/* Bytes handed out since arena_begin on this thread (tests, benchmarks). */
size_t arena_used(void);

#endif
