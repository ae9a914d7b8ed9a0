#include "keyfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "fileread.h"
#include "seal.h"

cw_result keyfile_load(const char *path, bool need_private, jwk **out, cw_error *err)
{
    char *text = NULL;
    size_t len = 0;
    *out = NULL;
    cw_result rc = file_read_secret(path, JWK_MAX, &text, &len, err);
    if (rc == CW_ELIMIT)
        return cw_fail(err, CW_ELIMIT, "%s: longer than %d bytes, not a JWK", path, JWK_MAX);
    if (rc)
        return rc;
    if (len == 0)
        rc = cw_fail(err, CW_EINVAL, "%s: the file is empty", path);
    else if ((rc = jwk_parse(text, len, need_private, out, err)))
        cw_error_prefix(err, "%s", path);
    OPENSSL_cleanse(text, len);
    free(text);
    return rc;
}

/* Writes text into a new temporary file dir/.NAME.XXXXXX with mode, synced; its path goes
 * to tmp[PATH_MAX]. Nothing is left behind on failure. */
CW_MUST_USE static cw_result write_temp(const char *dir, const char *name, mode_t mode,
                                        const char *text, char *tmp, cw_error *err)
{
    int n = snprintf(tmp, PATH_MAX, "%s/.%s.XXXXXX", dir, name);
    if (n < 0 || n >= PATH_MAX)
        return cw_fail(err, CW_EINVAL, "%s: the path is too long", dir);
    int fd = mkstemp(tmp);
    if (fd < 0)
        return cw_fail(err, CW_EIO, "%s: %s", dir, strerror(errno));
    size_t len = strlen(text), done = 0;
    int saved = 0;
    if (fchmod(fd, mode) != 0)
        saved = errno;
    while (!saved && done < len) {
        ssize_t w = write(fd, text + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            saved = w < 0 ? errno : EIO;
            break;
        }
        done += (size_t)w;
    }
    if (!saved && fsync(fd) != 0)
        saved = errno;
    if (close(fd) != 0 && !saved)
        saved = errno;
    if (saved) {
        unlink(tmp);
        tmp[0] = '\0';
        return cw_fail(err, CW_EIO, "%s/%s: %s", dir, name, strerror(saved));
    }
    return CW_OK;
}

/* Writes both key files into dir: both are complete on disk before either is renamed into
 * place, so that a failure never leaves a new private key beside an old public one. */
CW_MUST_USE static cw_result write_key_files(const char *dir, const char *priv, const char *pub,
                                             cw_error *err)
{
    char tmp_priv[PATH_MAX] = "", tmp_pub[PATH_MAX] = "", final[PATH_MAX];
    cw_result rc = write_temp(dir, "private.jwk", 0600, priv, tmp_priv, err);
    if (!rc)
        rc = write_temp(dir, "public.jwk", 0644, pub, tmp_pub, err);
    if (rc)
        goto out;
    int n = snprintf(final, sizeof final, "%s/private.jwk", dir);
    if (n < 0 || (size_t)n >= sizeof final || rename(tmp_priv, final) != 0) {
        rc = cw_fail(err, CW_EIO, "%s/private.jwk: %s", dir, strerror(errno));
        goto out;
    }
    tmp_priv[0] = '\0';
    n = snprintf(final, sizeof final, "%s/public.jwk", dir);
    if (n < 0 || (size_t)n >= sizeof final || rename(tmp_pub, final) != 0) {
        rc = cw_fail(err, CW_EIO, "%s/public.jwk: %s", dir, strerror(errno));
        goto out;
    }
    tmp_pub[0] = '\0';
out:
    if (tmp_priv[0])
        unlink(tmp_priv);
    if (tmp_pub[0])
        unlink(tmp_pub);
    return rc;
}

static void fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        fsync(fd); /* best effort: the files themselves are already synced */
        close(fd);
    }
}

cw_result keyfile_keygen(const char *dir, const char *kid, bool force, cw_error *err)
{
    cw_result rc;
    es256_key *key = NULL;
    buf pub, priv;
    char path[PATH_MAX], tmpdir[PATH_MAX] = "";
    struct stat st;

    buf_init(&pub, JWK_MAX);
    buf_init(&priv, JWK_MAX);
    rc = seal_check_uri(kid, err);
    if (rc) {
        cw_error_prefix(err, "--kid");
        return rc;
    }
    /* Drop trailing slashes so that "DIR/" and "DIR" name the same temporary sibling. */
    size_t dlen = strnlen(dir, sizeof path);
    while (dlen > 1 && dir[dlen - 1] == '/')
        dlen--;
    if (dlen == 0 || dlen >= sizeof path - 32)
        return cw_fail(err, CW_EINVAL, "the output directory name is empty or too long");
    memcpy(path, dir, dlen);
    path[dlen] = '\0';

    int exists = lstat(path, &st) == 0;
    if (!exists && errno != ENOENT)
        return cw_fail(err, CW_EIO, "%s: %s", path, strerror(errno));
    if (exists && !force)
        return cw_fail(err, CW_EINVAL,
                       "%s already exists: choose a new directory, or --force "
                       "to replace the key files in it",
                       path);
    if (exists && !S_ISDIR(st.st_mode))
        return cw_fail(err, CW_EINVAL, "%s exists and is not a directory", path);

    if ((rc = es256_key_generate(&key, err)) || (rc = jwk_format(key, kid, false, &pub, err)) ||
        (rc = jwk_format(key, kid, true, &priv, err)))
        goto out;

    const char *target = path;
    if (!exists) {
        int n = snprintf(tmpdir, sizeof tmpdir, "%s.tmpXXXXXX", path);
        if (n < 0 || (size_t)n >= sizeof tmpdir || !mkdtemp(tmpdir)) {
            tmpdir[0] = '\0';
            rc = cw_fail(err, CW_EIO, "%s: cannot create a temporary directory beside it: %s", path,
                         strerror(errno));
            goto out;
        }
        target = tmpdir;
    }
    rc = write_key_files(target, priv.data, pub.data, err);
    if (rc)
        goto out;
    if (!exists) {
        /* RENAME_NOREPLACE: never replace a directory that appeared in the meantime. */
        int moved = renameat2(AT_FDCWD, tmpdir, AT_FDCWD, path, RENAME_NOREPLACE) == 0;
        /* A file system without RENAME_NOREPLACE: check again, then plain rename. */
        if (!moved && errno == EINVAL && lstat(path, &st) != 0 && errno == ENOENT)
            moved = rename(tmpdir, path) == 0;
        if (!moved) {
            rc = cw_fail(err, CW_EIO, "%s: %s", path, strerror(errno));
            goto out;
        }
        tmpdir[0] = '\0';
    }
    fsync_dir(path);
    rc = CW_OK;
out:
    if (tmpdir[0]) {
        char f[PATH_MAX + 16];
        snprintf(f, sizeof f, "%s/private.jwk", tmpdir);
        unlink(f);
        snprintf(f, sizeof f, "%s/public.jwk", tmpdir);
        unlink(f);
        rmdir(tmpdir);
    }
    if (priv.data)
        OPENSSL_cleanse(priv.data, priv.cap);
    buf_free(&priv);
    buf_free(&pub);
    es256_key_free(key);
    return rc;
}
