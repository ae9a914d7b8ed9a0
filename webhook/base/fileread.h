/* fileread: a whole file into memory, with a size cap. */
#ifndef COCO_FILEREAD_H
#define COCO_FILEREAD_H

#include <stddef.h>

#include "result.h"

/* Reads the file at path, at most max bytes. On CW_OK *out is owned (free()) and
 * NUL-terminated (the NUL not counted in *len). Errors, with messages that name path:
 * CW_EIO (cannot be opened or read, with the system's reason), CW_ELIMIT (larger than max),
 * CW_ENOMEM. *out is NULL on failure. A regular file is read into a single allocation (no
 * copies are left behind by growth), so a caller that wipes *out before freeing it wipes the
 * only copy of a secret file. */
CW_MUST_USE cw_result file_read(const char *path, size_t max, char **out, size_t *len,
                                cw_error *err);

#endif
