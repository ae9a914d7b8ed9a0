/* denial: see denial.h. */
#include "denial.h"

#include <stdarg.h>
#include <stdio.h>

cw_result denial_set(denial *d, int code, const char *reason, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->message, sizeof d->message, fmt, ap);
    va_end(ap);
    d->denied = true;
    d->code = code;
    d->reason = reason;
    return CW_OK;
}
