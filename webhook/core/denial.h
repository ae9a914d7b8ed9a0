/* denial: a rule module's decision to deny one object (initdata, the pod-VM profile), which the
 * engine turns into its answer (plan_deny). A denial is a decision, not an error. */
#ifndef COCO_DENIAL_H
#define COCO_DENIAL_H

#include <stdbool.h>

#include "result.h"

typedef struct denial {
    bool denied;
    int code;           /* 400 or 403 */
    const char *reason; /* static metric label */
    char message[CW_ERROR_MAX];
} denial;

/* Records a denial in d (the message as printf would write it, cut to fit). Returns CW_OK:
 * nothing failed, so that a decider can end with return denial_set(...). */
cw_result denial_set(denial *d, int code, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
