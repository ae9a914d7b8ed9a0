#include "fileread.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"

cw_result file_read_stream(FILE *f, const char *name, size_t max, char **out, size_t *len,
                           cw_error *err)
{
    *out = NULL;
    buf b;
    buf_init(&b, max);
    char chunk[16384];
    size_t n;
    cw_result rc = CW_OK;
    while (rc == CW_OK && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
        rc = buf_add(&b, chunk, n);
    int read_error = ferror(f);
    int saved_errno = errno;
    if (rc == CW_ELIMIT) {
        buf_free(&b);
        return cw_fail(err, CW_ELIMIT, "%s: larger than %zu bytes", name, max);
    }
    if (rc == CW_OK && read_error) {
        buf_free(&b);
        return cw_fail(err, CW_EIO, "%s: %s", name, strerror(saved_errno));
    }
    if (rc == CW_OK)
        *out = buf_take(&b, len);
    buf_free(&b);
    return *out ? CW_OK : CW_FAIL_NOMEM(err);
}

cw_result file_read(const char *path, size_t max, char **out, size_t *len, cw_error *err)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return cw_fail(err, CW_EIO, "%s: %s", path, strerror(errno));
    cw_result rc = file_read_stream(f, path, max, out, len, err);
    fclose(f);
    return rc;
}

/* Writes zeros the compiler may not drop (the buffer is freed right after). */
static void wipe(volatile char *p, size_t n)
{
    while (n--)
        *p++ = 0;
}

cw_result file_read_secret(const char *path, size_t max, char **out, size_t *len, cw_error *err)
{
    *out = NULL;
    if (max >= SIZE_MAX - 1)
        return cw_fail(err, CW_ELIMIT, "%s: no size limit given", path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return cw_fail(err, CW_EIO, "%s: %s", path, strerror(errno));
    char *data = malloc(max + 2);
    if (!data) {
        close(fd);
        return CW_FAIL_NOMEM(err);
    }
    size_t n = 0;
    cw_result rc = CW_OK;
    while (n <= max) {
        ssize_t got = read(fd, data + n, max + 1 - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            rc = cw_fail(err, CW_EIO, "%s: %s", path, strerror(errno));
            break;
        }
        if (got == 0)
            break;
        n += (size_t)got;
    }
    close(fd);
    if (rc == CW_OK && n > max)
        rc = cw_fail(err, CW_ELIMIT, "%s: larger than %zu bytes", path, max);
    if (rc != CW_OK) {
        wipe(data, n);
        free(data);
        return rc;
    }
    data[n] = '\0';
    *out = data;
    *len = n;
    return CW_OK;
}
