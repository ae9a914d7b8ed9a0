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
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/* SipHash-1-3 (Aumasson and Bernstein, "SipHash: a fast short-input PRF"), with the tag
 * absorbed as the first message word. */
uint64_t strmap_hash(uint64_t tag, const char *data, size_t len)
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

static strmap_slot *find(const strmap *m, uint64_t hash, uint64_t tag, const char *key, size_t len)
{
    size_t mask = m->cap - 1;
    for (size_t i = (size_t)hash & mask;; i = (i + 1) & mask) {
        strmap_slot *s = &m->slots[i];
        if (!s->key)
            return s;
        if (s->hash == hash && s->tag == tag && s->len == len && memcmp(s->key, key, len) == 0)
            return s;
    }
}

void *strmap_get(const strmap *m, uint64_t tag, const char *key, size_t len)
{
    if (m->count == 0)
        return NULL;
    strmap_slot *s = find(m, strmap_hash(tag, key, len), tag, key, len);
    return s->key ? s->value : NULL;
}

static cw_result grow(strmap *m)
{
    size_t ncap = m->cap ? m->cap * 2 : 16;
    strmap_slot *slots = calloc(ncap, sizeof *slots);
    if (!slots)
        return CW_ENOMEM;
    strmap old = *m;
    m->slots = slots;
    m->cap = ncap;
    for (size_t i = 0; i < old.cap; i++) {
        const strmap_slot *s = &old.slots[i];
        if (s->key)
            *find(m, s->hash, s->tag, s->key, s->len) = *s;
    }
    free(old.slots);
    return CW_OK;
}

cw_result strmap_put(strmap *m, uint64_t tag, const char *key, size_t len, void *value)
{
    if (m->count >= STRMAP_COUNT_MAX)
        return CW_ELIMIT;
    if ((m->count + 1) * 2 > m->cap) {
        cw_result r = grow(m);
        if (r)
            return r;
    }
    uint64_t hash = strmap_hash(tag, key, len);
    strmap_slot *s = find(m, hash, tag, key, len);
    if (s->key)
        return CW_OK;
    *s = (strmap_slot){.key = key, .len = len, .tag = tag, .hash = hash, .value = value};
    m->count++;
    return CW_OK;
}

void strmap_clear(strmap *m)
{
    free(m->slots);
    *m = (strmap)STRMAP_INIT;
}
