/* strmap: a hash map from byte strings (with a numeric tag) to borrowed pointers, for the
 * indexes the request path builds once per object: volume names, Secret names, container
 * names, mount paths per container. Lookups are O(1) on average whatever the input, so that
 * no loop over containers, volumes or entries rescans a list (SPEC §3: linear cost).
 *
 * Keys are borrowed: the bytes must outlive the map (they point into the request's tree).
 * The tag lets one map hold composite keys, e.g. (container number, mount path).
 *
 * The hash is SipHash-1-3 under a per-process random key: whoever creates a pod chooses the
 * names, and an unkeyed hash would let them choose names that all collide (hash flooding).
 * Ours rather than OpenSSL's EVP_MAC "SIPHASH": that API allocates a context per call, which
 * costs more than the whole lookup.
 *
 * Memory: the entries (24 bytes each) in an array in insertion order, and a table of 4-byte
 * slots, each an entry's number and 7 bits of its hash, kept at most half full: 32 to 64 bytes
 * per entry with the arrays' spare room, where a table of whole entries at the same load took
 * 64 to 128 (a 5.4 MB review indexes 80,000 names in each planning pass). */
#ifndef COCO_STRMAP_H
#define COCO_STRMAP_H

#include <stddef.h>
#include <stdint.h>

#include "result.h"

#define STRMAP_COUNT_MAX (1u << 24) /* entries; an 8 MiB body holds far fewer names */
/* Up to this many entries live in the map itself and are compared one by one: for a typical
 * Pod's dozen names that costs less than hashing them and allocating a table. */
#define STRMAP_SMALL 32

typedef struct strmap_entry {
    const char *key;
    uint32_t len;
    uint32_t tag;
    void *value;
} strmap_entry;

typedef struct strmap {
    strmap_entry *entries; /* owned, in insertion order, or NULL while they fit in small */
    uint32_t *slots;       /* owned hash table of entry numbers, or NULL with entries */
    size_t cap;            /* slots: a power of two, or 0 */
    size_t entry_cap;      /* of entries */
    size_t count;
    strmap_entry small[STRMAP_SMALL];
} strmap;

#define STRMAP_INIT                                                                                \
    {                                                                                              \
        .entries = NULL, .slots = NULL, .cap = 0, .entry_cap = 0, .count = 0                       \
    }

/* Makes m empty without touching the inline entries (cheaper than = STRMAP_INIT, which
 * zeroes them). */
void strmap_init(strmap *m);

/* Looks (tag, key[0..len)) up. Returns the value stored, or NULL. */
void *strmap_get(const strmap *m, uint32_t tag, const char *key, size_t len);

/* Inserts (tag, key) -> value unless the key is present: the first value stays (the API
 * server's validation rejects duplicate names; the engine acts on the first, like its list
 * walks did). Returns CW_OK, CW_ENOMEM, or CW_ELIMIT past STRMAP_COUNT_MAX. value must not
 * be NULL; keys longer than 4 GiB are refused (CW_ELIMIT). */
CW_MUST_USE cw_result strmap_put(strmap *m, uint32_t tag, const char *key, size_t len, void *value)
    __attribute__((warn_unused_result));

/* Frees the entries and the table (not the keys or values) and resets m to STRMAP_INIT. */
void strmap_clear(strmap *m);

/* SipHash-1-3 of data under the process key: exposed for tests and other indexes. */
uint64_t strmap_hash(uint32_t tag, const char *data, size_t len);

#endif
