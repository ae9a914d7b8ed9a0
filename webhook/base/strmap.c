/* strmap: see strmap.h. Open addressing with linear probing over a table of entry numbers; the
 * table is kept at most half full, and the keyed hash keeps probe sequences short whatever the
 * names are. */
#include "strmap.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

static uint64_t sip_k0 = 0x736f6d6570736575ULL, sip_k1 = 0x646f72616e646f6dULL;
static pthread_once_t sip_once = PTHREAD_ONCE_INIT;

static void sip_seed(void)
{
    unsigned char k[16];
    /* getrandom(2) rather than OpenSSL's RAND_bytes: no allocation, no library state.
     * Without randomness the map still works; it only loses its flooding resistance. */
    if (getrandom(k, sizeof k, 0) == (ssize_t)sizeof k) {
        memcpy(&sip_k0, k, 8);
        memcpy(&sip_k1, k + 8, 8);
    }
}

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                                                   \
    do {                                                                                           \
        v0 += v1;                                                                                  \
        v1 = ROTL(v1, 13);                                                                         \
        v1 ^= v0;                                                                                  \
        v0 = ROTL(v0, 32);                                                                         \
        v2 += v3;                                                                                  \
        v3 = ROTL(v3, 16);                                                                         \
        v3 ^= v2;                                                                                  \
        v0 += v3;                                                                                  \
        v3 = ROTL(v3, 21);                                                                         \
        v3 ^= v0;                                                                                  \
        v2 += v1;                                                                                  \
        v1 = ROTL(v1, 17);                                                                         \
        v1 ^= v2;                                                                                  \
        v2 = ROTL(v2, 32);                                                                         \
    } while (0)

static uint64_t load_le64(const unsigned char *p)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return v;
#else
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
#endif
}

/* SipHash-1-3 (Aumasson and Bernstein, "SipHash: a fast short-input PRF"), with the tag
 * absorbed as the first message word. */
uint64_t strmap_hash(uint32_t tag, const char *data, size_t len)
{
    pthread_once(&sip_once, sip_seed);
    uint64_t v0 = sip_k0 ^ 0x736f6d6570736575ULL, v1 = sip_k1 ^ 0x646f72616e646f6dULL;
    uint64_t v2 = sip_k0 ^ 0x6c7967656e657261ULL, v3 = sip_k1 ^ 0x7465646279746573ULL;
    const unsigned char *p = (const unsigned char *)data;

    v3 ^= tag;
    SIPROUND;
    v0 ^= tag;
    size_t n = len;
    for (; n >= 8; n -= 8, p += 8) {
        uint64_t m = load_le64(p);
        v3 ^= m;
        SIPROUND;
        v0 ^= m;
    }
    uint64_t b = (uint64_t)(len & 0xff) << 56;
    for (size_t i = 0; i < n; i++)
        b |= (uint64_t)p[i] << (8 * i);
    v3 ^= b;
    SIPROUND;
    v0 ^= b;
    v2 ^= 0xff;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

/* A slot of the table: 0 when empty, else the entry's number plus one in the low
 * SLOT_NUMBER_BITS and, above them, the top bits of the entry's hash, which rule out most
 * other entries met on a probe without reading them. */
#define SLOT_NUMBER_BITS 25
#define SLOT_NUMBER_MASK ((1u << SLOT_NUMBER_BITS) - 1)
_Static_assert(STRMAP_COUNT_MAX < SLOT_NUMBER_MASK, "entry numbers must fit in a slot");

static uint32_t slot_hash_bits(uint64_t hash)
{
    return (uint32_t)(hash >> (64 - (32 - SLOT_NUMBER_BITS))) << SLOT_NUMBER_BITS;
}

static bool entry_is(const strmap_entry *e, uint32_t tag, const char *key, size_t len)
{
    return e->len == len && e->tag == tag && memcmp(e->key, key, len) == 0;
}

/* The slot holding (tag, key), or the empty slot where it would go. */
static uint32_t *find(const strmap *m, uint64_t hash, uint32_t tag, const char *key, size_t len)
{
    size_t mask = m->cap - 1;
    uint32_t bits = slot_hash_bits(hash);
    for (size_t i = (size_t)hash & mask;; i = (i + 1) & mask) {
        uint32_t *s = &m->slots[i];
        if (!*s || ((*s & ~SLOT_NUMBER_MASK) == bits &&
                    entry_is(&m->entries[(*s & SLOT_NUMBER_MASK) - 1], tag, key, len)))
            return s;
    }
}

void *strmap_get(const strmap *m, uint32_t tag, const char *key, size_t len)
{
    if (!m->slots) {
        for (size_t i = 0; i < m->count; i++)
            if (entry_is(&m->small[i], tag, key, len))
                return m->small[i].value;
        return NULL;
    }
    uint32_t *s = find(m, strmap_hash(tag, key, len), tag, key, len);
    return *s ? m->entries[(*s & SLOT_NUMBER_MASK) - 1].value : NULL;
}

/* Appends e as the next entry, into the empty slot s found for it (with hash). */
static void place(strmap *m, uint32_t *s, uint64_t hash, const strmap_entry *e)
{
    m->entries[m->count++] = *e;
    *s = slot_hash_bits(hash) | (uint32_t)m->count;
}

/* Moves the small entries to an array with a table (a later duplicate among them, appended
 * unchecked, is dropped). On failure m is unchanged. */
CW_MUST_USE static cw_result leave_small(strmap *m)
{
    strmap_entry *entries = malloc(2 * STRMAP_SMALL * sizeof *entries);
    uint32_t *slots = calloc(4 * STRMAP_SMALL, sizeof *slots);
    if (!entries || !slots) {
        free(entries);
        free(slots);
        return CW_ENOMEM;
    }
    size_t n = m->count;
    m->entries = entries;
    m->entry_cap = 2 * STRMAP_SMALL;
    m->slots = slots;
    m->cap = 4 * STRMAP_SMALL;
    m->count = 0;
    for (size_t i = 0; i < n; i++) { /* the table stays at most a quarter full */
        const strmap_entry *e = &m->small[i];
        uint64_t hash = strmap_hash(e->tag, e->key, e->len);
        uint32_t *s = find(m, hash, e->tag, e->key, e->len);
        if (!*s)
            place(m, s, hash, e);
    }
    return CW_OK;
}

/* A table of ncap slots (a power of two, more than twice the entries) filled from the
 * entries, which are distinct: each takes the first empty slot of its probe. On failure m is
 * unchanged. */
CW_MUST_USE static cw_result rehash(strmap *m, size_t ncap)
{
    uint32_t *slots = calloc(ncap, sizeof *slots);
    if (!slots)
        return CW_ENOMEM;
    size_t mask = ncap - 1;
    for (size_t n = 0; n < m->count; n++) {
        const strmap_entry *e = &m->entries[n];
        uint64_t hash = strmap_hash(e->tag, e->key, e->len);
        size_t i = (size_t)hash & mask;
        while (slots[i])
            i = (i + 1) & mask;
        slots[i] = slot_hash_bits(hash) | (uint32_t)(n + 1);
    }
    free(m->slots);
    m->slots = slots;
    m->cap = ncap;
    return CW_OK;
}

/* Appends e unless its key is there (the first one stays), growing the entries and the
 * table as needed. */
CW_MUST_USE static cw_result insert(strmap *m, const strmap_entry *e)
{
    uint64_t hash = strmap_hash(e->tag, e->key, e->len);
    uint32_t *s = find(m, hash, e->tag, e->key, e->len);
    if (*s)
        return CW_OK;
    if (m->count == m->entry_cap) {
        /* realloc: the entries keep their numbers, so the table stays valid. */
        size_t ncap = m->entry_cap * 2;
        strmap_entry *entries = realloc(m->entries, ncap * sizeof *entries);
        if (!entries)
            return CW_ENOMEM;
        m->entries = entries;
        m->entry_cap = ncap;
    }
    if ((m->count + 1) * 2 > m->cap) {
        cw_result r = rehash(m, m->cap * 2);
        if (r)
            return r;
        s = find(m, hash, e->tag, e->key, e->len);
    }
    place(m, s, hash, e);
    return CW_OK;
}

cw_result strmap_put(strmap *m, uint32_t tag, const char *key, size_t len, void *value)
{
    if (m->count >= STRMAP_COUNT_MAX || len > UINT32_MAX)
        return CW_ELIMIT;
    strmap_entry fresh = {.key = key, .len = (uint32_t)len, .tag = tag, .value = value};
    if (!m->slots) {
        if (m->count < STRMAP_SMALL) {
            /* Duplicates are appended unchecked: lookups scan from the front, so the first
             * one wins all the same, and leave_small() drops the others. */
            m->small[m->count++] = fresh;
            return CW_OK;
        }
        cw_result r = leave_small(m);
        if (r)
            return r;
    }
    return insert(m, &fresh);
}

void strmap_init(strmap *m)
{
    m->entries = NULL;
    m->slots = NULL;
    m->cap = m->entry_cap = 0;
    m->count = 0;
}

void strmap_clear(strmap *m)
{
    free(m->entries);
    free(m->slots);
    strmap_init(m);
}
