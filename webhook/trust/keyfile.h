/* keyfile: the JWK files of sealed-secret signing keys (`coco-webhook seal keygen`,
 * `--signing-key`, `--public-key`).
 *
 * Reading: one file of at most JWK_MAX bytes through fileread.h's file_read_secret, its bytes
 * wiped afterwards. Writing: a new key pair as "private.jwk" (mode 0600, with "d") and
 * "public.jwk" (mode 0644, what Trustee serves at the kid), each written completely and synced
 * under a temporary name before it is renamed into place. Messages name the path. */
#ifndef COCO_KEYFILE_H
#define COCO_KEYFILE_H

#include <stdbool.h>

#include "jwk.h"
#include "result.h"

/* Reads the JWK file at path (see jwk_parse for need_private). Returns an owned jwk in *out. */
CW_MUST_USE cw_result keyfile_load(const char *path, bool need_private, jwk **out, cw_error *err);

/* Writes a new key pair into dir, both files with "kid":kid, which must be a KBS resource URI
 * (seal_check_uri). Without force dir must not exist: it is created (mode 0700) from a
 * temporary directory renamed into place, so that it appears complete or not at all. With
 * force an existing dir is reused: both files are written completely under temporary names
 * before either is renamed over the old one. */
CW_MUST_USE cw_result keyfile_keygen(const char *dir, const char *kid, bool force, cw_error *err);

#endif
