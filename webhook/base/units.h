/* units: sizes and durations as Kubernetes and Go write them, for the config file and the
 * command line.
 *
 * Sizes are Kubernetes quantities of bytes: DIGITS with an optional binary (Ki Mi Gi Ti Pi
 * Ei) or decimal (k M G T P E) suffix, whole bytes only ("256Mi", "1G", "268435456").
 * Durations are Go's time.Duration text: decimal numbers each with a unit (ns us µs ms s m h),
 * "1m30s", "0.5s", "10s"; "0" alone is zero. */
#ifndef COCO_UNITS_H
#define COCO_UNITS_H

#include <stdint.h>

#include "result.h"

/* Bytes of a quantity. CW_EINVAL when malformed, CW_ELIMIT past UINT64_MAX / 2. */
CW_MUST_USE cw_result units_parse_bytes(const char *s, uint64_t *bytes);

/* Milliseconds of a duration (fractions of a millisecond dropped). CW_EINVAL when malformed,
 * CW_ELIMIT above max_ms. */
CW_MUST_USE cw_result units_parse_duration_ms(const char *s, int64_t max_ms, int64_t *ms);

#endif
