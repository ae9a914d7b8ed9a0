/* fileread: a whole file into memory, with a size cap. */
#ifndef COCO_FILEREAD_H
#define COCO_FILEREAD_H

#include <stddef.h>
#include <stdio.h>

#include "result.h"

/* Reads the file at path, at most max bytes. On CW_OK *out is owned (free()) and
 * NUL-terminated (the NUL not counted in *len). Errors, with messages that name path:
 * CW_EIO (cannot be opened or read, with the system's reason), CW_ELIMIT (larger than max),
 * CW_ENOMEM. *out is NULL on failure. */
CW_MUST_USE cw_result file_read(const char *path, size_t max, char **out, size_t *len,
                                cw_error *err);

/* As file_read, from an open stream (standard input) that name names in messages. The
 * stream is read to its end or to max + 1 bytes and not closed. */
CW_MUST_USE cw_result file_read_stream(FILE *f, const char *name, size_t max, char **out,
                                       size_t *len, cw_error *err);

/* As file_read, for files that hold keys: one buffer of max + 1 bytes is allocated before the
 * first read and never moved, and the file is read without stdio's buffer, so that no copy of
 * the contents is left in memory the caller cannot wipe. The caller wipes *out
 * (OPENSSL_cleanse) before freeing it; on failure nothing read is left behind. */
CW_MUST_USE cw_result file_read_secret(const char *path, size_t max, char **out, size_t *len,
                                       cw_error *err);

#endif
