/* hash: the project's one non-cryptographic hash, 64-bit FNV-1a.
 *
 * For stable names derived from text (the sealed volume name of a Secret: its value is part
 * of what the webhook writes, so it must never change) and for tables whose keys come from
 * a file the user gave us (the manifest reader's key and anchor tables). It is unkeyed: a
 * table indexed by names an untrusted party chooses on the request path uses strmap's keyed
 * SipHash instead. */
#ifndef COCO_HASH_H
#define COCO_HASH_H

#include <stddef.h>
#include <stdint.h>

/* FNV-1a (offset basis 0xcbf29ce484222325, prime 0x100000001b3) of data[0..len). */
uint64_t hash_fnv1a64(const void *data, size_t len);

#endif
