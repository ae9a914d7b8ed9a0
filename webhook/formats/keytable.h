/* keytable: the manifest reader's table of NUL-terminated string keys (the keys of one map,
 * to find duplicates and the value a merge overrides; the anchors of a document).
 *
 * Open addressing over FNV-1a (hash.h): lookups stay O(1) on average, so that maps and alias
 * counts in hostile input cannot make the reader quadratic. Unlike strmap (write-once slots
 * for the request path) a slot is the caller's to update: the reader replaces the value a
 * merge wrote, re-points the key at the new member's copy of the same text, and walks the
 * slots to free what they point to.
 *
 * Keys are borrowed and must outlive the table (or be re-pointed at equal text). Growing
 * moves slots: a slot pointer is valid until the next keytable_add. */
#ifndef COCO_KEYTABLE_H
#define COCO_KEYTABLE_H

#include <stddef.h>
#include <stdint.h>

typedef struct keytable_slot {
    const char *key; /* borrowed; NULL: a free slot */
    uint64_t hash;
    void *ptr;  /* the caller's */
    size_t aux; /* the caller's */
} keytable_slot;

typedef struct keytable {
    keytable_slot *slots; /* owned; cap entries, cap a power of two (0 while empty) */
    size_t cap, used;
} keytable;

/* The slot of key, or NULL. */
keytable_slot *keytable_find(const keytable *t, const char *key);

/* Adds key, which must not be present, with ptr and aux zero. NULL when out of memory. */
keytable_slot *keytable_add(keytable *t, const char *key);

/* Frees the slots (not the keys or what ptr points to) and empties t. */
void keytable_free(keytable *t);

#endif
