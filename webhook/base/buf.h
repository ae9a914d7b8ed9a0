/* buf: a growable byte buffer with a cap, in the spirit of curl's dynbuf.
 *
 * buf_init(&b, max) sets the most bytes the buffer may ever hold; every append is checked
 * against it and against allocation failure. The first failure is sticky: it is kept in the
 * buffer and every later append returns it at once without writing, so a writer may append
 * many pieces and check once (buf_status) or check each call. The bytes are always followed
 * by a NUL that the length does not count. The buffer owns its memory until buf_take hands it
 * to the caller or buf_free releases it. */
#ifndef COCO_BUF_H
#define COCO_BUF_H

#include <stdbool.h>
#include <stddef.h>

#include "result.h"

typedef struct buf {
    char *data;       /* NULL until the first append; NUL-terminated after it */
    size_t len;       /* bytes held, the NUL not counted */
    size_t cap;       /* bytes allocated */
    size_t max;       /* the most bytes len may reach */
    cw_result failed; /* CW_OK, or the first failure (CW_ENOMEM, CW_ELIMIT) */
} buf;

void buf_init(buf *b, size_t max);

/* Appends n bytes of p. CW_ELIMIT when len would pass max, CW_ENOMEM when allocation fails;
 * on failure nothing is written. */
CW_MUST_USE cw_result buf_add(buf *b, const void *p, size_t n);
CW_MUST_USE cw_result buf_adds(buf *b, const char *s);
CW_MUST_USE cw_result buf_addc(buf *b, char c);
CW_MUST_USE cw_result buf_addf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Room for n more bytes: returns where they go (the caller writes at most n, then calls
 * buf_commit with how many it wrote), or NULL on failure (see buf_status). */
char *buf_reserve(buf *b, size_t n);
void buf_commit(buf *b, size_t n);

/* CW_OK, or the first failure of any append since buf_init or buf_reset. */
CW_MUST_USE cw_result buf_status(const buf *b);

/* Empties the buffer and clears its failure, keeping the memory. */
void buf_reset(buf *b);

/* Hands the bytes to the caller: an owned, NUL-terminated string (free()), "" when nothing was
 * appended, and *len (may be NULL) its length. NULL when the buffer failed or out of memory;
 * either way the buffer is empty afterwards and may be reused. */
char *buf_take(buf *b, size_t *len);

void buf_free(buf *b);

#endif
