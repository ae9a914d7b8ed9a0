#include "fileread.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

cw_result file_read(const char *path, size_t max, char **out, size_t *len, cw_error *err)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return cw_fail(err, CW_EIO, "%s: %s", path, strerror(errno));
    buf b;
    buf_init(&b, max);
    char chunk[16384];
    size_t n;
    cw_result rc = CW_OK;
    while (rc == CW_OK && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
        rc = buf_add(&b, chunk, n);
    int read_error = ferror(f);
    int saved_errno = errno;
    fclose(f);
    if (rc == CW_ELIMIT) {
        buf_free(&b);
        return cw_fail(err, CW_ELIMIT, "%s: larger than %zu bytes", path, max);
    }
    if (rc == CW_OK && read_error) {
        buf_free(&b);
        return cw_fail(err, CW_EIO, "%s: %s", path, strerror(saved_errno));
    }
    if (rc == CW_OK)
        *out = buf_take(&b, len);
    buf_free(&b);
    return *out ? CW_OK : CW_FAIL_NOMEM(err);
}
