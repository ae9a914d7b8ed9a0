#include "keytable.h"

#include <stdlib.h>
#include <string.h>

#include "hash.h"

#define KEYTABLE_FIRST_CAP 16

keytable_slot *keytable_find(const keytable *t, const char *key)
{
    if (!t->cap)
        return NULL;
    uint64_t h = hash_fnv1a64(key, strlen(key));
    for (size_t i = h & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
        keytable_slot *s = &t->slots[i];
        if (!s->key)
            return NULL;
        if (s->hash == h && strcmp(s->key, key) == 0)
            return s;
    }
}

keytable_slot *keytable_add(keytable *t, const char *key)
{
    if ((t->used + 1) * 2 > t->cap) {
        size_t cap = t->cap ? t->cap * 2 : KEYTABLE_FIRST_CAP;
        keytable_slot *slots = calloc(cap, sizeof *slots);
        if (!slots)
            return NULL;
        for (size_t i = 0; i < t->cap; i++) {
            if (!t->slots[i].key)
                continue;
            size_t j = t->slots[i].hash & (cap - 1);
            while (slots[j].key)
                j = (j + 1) & (cap - 1);
            slots[j] = t->slots[i];
        }
        free(t->slots);
        t->slots = slots;
        t->cap = cap;
    }
    uint64_t h = hash_fnv1a64(key, strlen(key));
    size_t i = h & (t->cap - 1);
    while (t->slots[i].key)
        i = (i + 1) & (t->cap - 1);
    t->slots[i] = (keytable_slot){.key = key, .hash = h};
    t->used++;
    return &t->slots[i];
}

void keytable_free(keytable *t)
{
    free(t->slots);
    t->slots = NULL;
    t->cap = t->used = 0;
}
