/* strmap: see strmap.h. Open addressing with linear probing; the table is kept at most half
 * full, and the keyed hash keeps probe sequences short whatever the names are. */
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

static bool slot_is(const strmap_slot *s, uint32_t tag, const char *key, size_t len)
{
    return s->len == len && s->tag == tag && memcmp(s->key, key, len) == 0;
}

static strmap_slot *find(const strmap *m, uint64_t hash, uint32_t tag, const char *key, size_t len)
{
    size_t mask = m->cap - 1;
    for (size_t i = (size_t)hash & mask;; i = (i + 1) & mask) {
        strmap_slot *s = &m->slots[i];
        if (!s->key || slot_is(s, tag, key, len))
            return s;
    }
}

void *strmap_get(const strmap *m, uint32_t tag, const char *key, size_t len)
{
    if (!m->slots) {
        for (size_t i = 0; i < m->count; i++)
            if (slot_is(&m->small[i], tag, key, len))
                return m->small[i].value;
        return NULL;
    }
    strmap_slot *s = find(m, strmap_hash(tag, key, len), tag, key, len);
    return s->key ? s->value : NULL;
}

CW_MUST_USE static cw_result grow(strmap *m)
{
    size_t ncap = m->cap ? m->cap * 2 : 4 * STRMAP_SMALL;
    strmap_slot *slots = calloc(ncap, sizeof *slots);
    if (!slots)
        return CW_ENOMEM;
    const strmap_slot *old = m->slots ? m->slots : m->small;
    size_t old_n = m->slots ? m->cap : m->count;
    strmap_slot *old_table = m->slots;
    m->slots = slots;
    m->cap = ncap;
    size_t count = 0;
    for (size_t i = 0; i < old_n; i++) {
        const strmap_slot *o = &old[i];
        if (!o->key)
            continue;
        strmap_slot *t = find(m, strmap_hash(o->tag, o->key, o->len), o->tag, o->key, o->len);
        if (!t->key) { /* a later duplicate of the small array is dropped: the first stays */
            *t = *o;
            count++;
        }
    }
    m->count = count;
    free(old_table);
    return CW_OK;
}

cw_result strmap_put(strmap *m, uint32_t tag, const char *key, size_t len, void *value)
{
    if (m->count >= STRMAP_COUNT_MAX || len > UINT32_MAX)
        return CW_ELIMIT;
    strmap_slot fresh = {.key = key, .len = (uint32_t)len, .tag = tag, .value = value};
    if (!m->slots && m->count < STRMAP_SMALL) {
        /* Duplicates are appended unchecked: lookups scan from the front, so the first one
         * wins all the same, and grow() drops the others. */
        m->small[m->count++] = fresh;
        return CW_OK;
    }
    if ((m->count + 1) * 2 > m->cap) {
        cw_result r = grow(m);
        if (r)
            return r;
    }
    strmap_slot *s = find(m, strmap_hash(tag, key, len), tag, key, len);
    if (s->key)
        return CW_OK;
    *s = fresh;
    m->count++;
    return CW_OK;
}

void strmap_init(strmap *m)
{
    m->slots = NULL;
    m->cap = 0;
    m->count = 0;
}

void strmap_clear(strmap *m)
{
    free(m->slots);
    m->slots = NULL;
    m->cap = 0;
    m->count = 0;
}
