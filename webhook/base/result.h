/* result: the project's one error type.
 *
 * Every fallible function returns a cw_result and, when given a cw_error, writes a message
 * that says which field, line, annotation or file was wrong, in words a user understands.
 * The message never contains secret values. */
#ifndef COCO_RESULT_H
#define COCO_RESULT_H

#include <stddef.h>

typedef enum cw_result {
    CW_OK = 0,
    CW_ENOMEM,    /* an allocation failed */
    CW_EINVAL,    /* the input is malformed or of the wrong type */
    CW_ELIMIT,    /* the input crosses a named limit (size, depth, count) */
    CW_EIO,       /* a file or socket could not be read or written */
    CW_EINTERNAL, /* a bug: a check of our own output failed */
    CW_ETIMEOUT,  /* the caller's deadline passed: the work was abandoned */
} cw_result;

#define CW_ERROR_MAX 512

/* Marks a function whose cw_result must not be ignored: every fallible function's
 * declaration carries it, so a dropped error is a compile error under -Werror. */
#define CW_MUST_USE __attribute__((warn_unused_result))

/* Returns from the calling function with expr's result unless it is CW_OK (s2n-tls's
 * GUARD): the early return of a step whose error message is already written. */
#define CW_GUARD(expr)                                                                             \
    do {                                                                                           \
        cw_result cw_guard_rc_ = (expr);                                                           \
        if (cw_guard_rc_ != CW_OK)                                                                 \
            return cw_guard_rc_;                                                                   \
    } while (0)

/* Out of memory, said the one way every module says it. */
#define CW_FAIL_NOMEM(err) cw_fail((err), CW_ENOMEM, "out of memory")

typedef struct cw_error {
    char msg[CW_ERROR_MAX];
} cw_error;

/* Records a formatted message in err (which may be NULL) and returns code. */
cw_result cw_fail(cw_error *err, cw_result code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prepends "prefix: " to err's message (file names, object names), keeping it bounded. */
void cw_error_prefix(cw_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A copy of untrusted text fit for a message: at most cap - 1 bytes of s[0..len) into out,
 * anything but printable ASCII replaced by '?', so that a message stays one readable line.
 * Returns out. */
const char *cw_printable(const char *s, size_t len, char *out, size_t cap);

/* A short constant name for code, e.g. "invalid input". */
const char *cw_result_str(cw_result code);

#endif
