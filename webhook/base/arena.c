#include "arena.h"

#include <assert.h>
#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SANITIZE_ADDRESS__)
#define ARENA_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ARENA_ASAN 1
#endif
#endif
#ifdef ARENA_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

typedef struct chunk {
    struct chunk *next;
    size_t size; /* usable bytes after the header */
    size_t used;
    alignas(max_align_t) unsigned char data[];
} chunk;

typedef struct arena {
    chunk *head;     /* the chunk being filled; older ones follow */
    chunk *kept;     /* the first chunk, kept between requests */
    size_t used;     /* bytes handed out since arena_begin */
    bool active;     /* from arena_begin to arena_end: allocations come from the arena and frees
                      * of arena memory are no-ops */
    bool failed;     /* a hook allocation returned NULL since arena_begin */
    size_t limit;    /* arena_limit, or 0 */
    bool over_limit; /* an allocation failed at the limit since arena_begin */
} arena;

static _Thread_local arena tls_arena;
static bool hooks_installed;

/* A key whose destructor frees a thread's kept chunk when the thread exits (the server's
 * worker threads end at MHD_stop_daemon). */
static pthread_key_t release_key;
static pthread_once_t release_once = PTHREAD_ONCE_INIT;

static void release_at_exit(void *unused)
{
    (void)unused;
    arena_thread_release();
}

static void release_key_create(void)
{
    (void)pthread_key_create(&release_key, release_at_exit);
}

static chunk *chunk_new(size_t size)
{
    chunk *c = malloc(sizeof *c + size);
    if (!c)
        return NULL;
    c->next = NULL;
    c->size = size;
    c->used = 0;
    POISON(c->data, size);
    return c;
}

static bool in_chunk(const chunk *c, const void *p)
{
    const unsigned char *q = p;
    return q >= c->data && q < c->data + c->size;
}

/* What cJSON's allocations need (nodes hold pointers and a double; strings nothing), not
 * max_align_t's 16: most of a large review's allocations are short strings, and rounding
 * them to 16 bytes cost about a tenth of its tree. */
#define ARENA_ALIGN 8
static_assert(alignof(cJSON) <= ARENA_ALIGN, "cJSON nodes need more alignment");

static void *arena_alloc(arena *a, size_t n)
{
    const size_t align = ARENA_ALIGN;
    n = n ? (n + align - 1) & ~(align - 1) : align;
    if (a->limit && (n > a->limit || a->used > a->limit - n)) {
        a->over_limit = true;
        return NULL;
    }
    chunk *c = a->head;
    if (!c || c->size - c->used < n) {
        size_t size = c ? c->size * 2 : ARENA_CHUNK_FIRST;
        if (size > ARENA_CHUNK_MAX)
            size = ARENA_CHUNK_MAX;
        if (size < n)
            size = n;
        chunk *fresh = chunk_new(size);
        if (!fresh)
            return NULL;
        fresh->next = c;
        a->head = fresh;
        /* Keep only a first-size chunk: a huge request must not pin its memory. */
        if (!a->kept && size == ARENA_CHUNK_FIRST) {
            a->kept = fresh;
            pthread_once(&release_once, release_key_create);
            (void)pthread_setspecific(release_key, a);
        }
        c = fresh;
    }
    void *p = c->data + c->used;
    c->used += n;
    a->used += n;
    UNPOISON(p, n);
    return p;
}

static void *hook_malloc(size_t n)
{
    arena *a = &tls_arena;
    void *p = a->active ? arena_alloc(a, n) : malloc(n);
    /* cJSON reports an allocation failure as a parse error: remember it, so that the
     * request path answers 500, not "malformed JSON" (arena_alloc_failed). */
    if (!p)
        a->failed = true;
    return p;
}

static void hook_free(void *p)
{
    arena *a = &tls_arena;
    if (!p)
        return;
    if (a->active) {
        for (const chunk *c = a->head; c; c = c->next)
            if (in_chunk(c, p))
                return; /* released with the whole arena at arena_end */
    }
    free(p);
}

void arena_install_cjson_hooks(void)
{
    cJSON_Hooks hooks = {.malloc_fn = hook_malloc, .free_fn = hook_free};
    cJSON_InitHooks(&hooks);
    hooks_installed = true;
}

bool arena_hooks_installed(void)
{
    return hooks_installed;
}

void arena_begin(void)
{
    tls_arena.active = true;
    tls_arena.used = 0;
    tls_arena.failed = false;
    tls_arena.limit = 0;
    tls_arena.over_limit = false;
}

void arena_limit(size_t bytes)
{
    tls_arena.limit = bytes;
}

bool arena_over_limit(void)
{
    return tls_arena.over_limit;
}

void arena_end(void)
{
    arena *a = &tls_arena;
    chunk *c = a->head;
    while (c) {
        chunk *next = c->next;
        if (c != a->kept)
            free(c);
        c = next;
    }
    if (a->kept) {
        a->kept->used = 0;
        a->kept->next = NULL;
        POISON(a->kept->data, a->kept->size);
    }
    a->head = a->kept;
    a->used = 0;
    a->active = false;
}

arena_mark arena_mark_here(void)
{
    const arena *a = &tls_arena;
    if (!a->active)
        return (arena_mark){0};
    return (arena_mark){
        .chunk = a->head, .chunk_used = a->head ? a->head->used : 0, .used = a->used};
}

void arena_rewind(arena_mark mark)
{
    arena *a = &tls_arena;
    if (!a->active)
        return;
    /* Chunks made after the mark go, except the kept one (made first, so only when the arena
     * had no chunk at the mark): it stays for the next request, emptied. */
    while (a->head && a->head != mark.chunk) {
        chunk *c = a->head;
        a->head = c->next;
        if (c == a->kept) {
            c->used = 0;
            c->next = NULL;
            POISON(c->data, c->size);
        } else {
            free(c);
        }
    }
    if (!a->head && a->kept && !mark.chunk)
        a->head = a->kept;
    if (a->head && mark.chunk) {
        chunk *c = a->head;
        POISON(c->data + mark.chunk_used, c->used - mark.chunk_used);
        c->used = mark.chunk_used;
    }
    a->used = mark.used;
}

void arena_thread_release(void)
{
    arena *a = &tls_arena;
    if (a->active)
        arena_end();
    free(a->kept);
    a->kept = NULL;
    a->head = NULL;
}

bool arena_alloc_failed(void)
{
    return tls_arena.failed;
}

size_t arena_used(void)
{
    return tls_arena.used;
}
