#include "fileread.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"

#define FILEREAD_STEP 16384 /* bytes asked of each read beyond the size fstat gave */

cw_result file_read(const char *path, size_t max, char **out, size_t *len, cw_error *err)
{
    *out = NULL;
    FILE *f = fopen(path, "rbe");
    if (!f)
        return cw_fail(err, CW_EIO, "%s: %s", path, strerror(errno));
    buf b;
    buf_init(&b, max);
    /* A regular file is read into one allocation of its size (and the byte that tells the
     * end), so growth leaves no copies behind: wiping *out wipes every copy of a key. */
    struct stat st;
    size_t want = FILEREAD_STEP;
    if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode)) {
        if ((unsigned long long)st.st_size > max) {
            fclose(f);
            return cw_fail(err, CW_ELIMIT, "%s: larger than %zu bytes", path, max);
        }
        want = (size_t)st.st_size + 1;
    }
    cw_result rc = CW_OK;
    for (;;) {
        size_t room = b.cap > b.len + 1 ? b.cap - b.len - 1 : 0; /* allocated, not yet used */
        size_t ask = room > 0 ? room : want;
        if (ask > max - b.len)
            ask = max - b.len;
        if (ask == 0) {
            char extra; /* at the cap: one more byte makes the file too large */
            if (fread(&extra, 1, 1, f) == 1)
                rc = CW_ELIMIT;
            break;
        }
        char *p = buf_reserve(&b, ask);
        if (!p) {
            rc = buf_status(&b);
            break;
        }
        size_t n = fread(p, 1, ask, f);
        buf_commit(&b, n);
        if (n < ask)
            break;
        want = FILEREAD_STEP;
    }
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
