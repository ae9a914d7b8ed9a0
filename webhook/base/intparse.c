#include "intparse.h"

cw_result int_parse(const char *s, size_t len, int64_t min, int64_t max, const char *what,
                    int64_t *out, cw_error *err)
{
    size_t i = 0;
    int negative = len > 0 && s[0] == '-' && min < 0;
    if (negative)
        i = 1;
    /* Accumulated as a negative number: its range reaches INT64_MIN. */
    int64_t v = 0;
    int ok = i < len;
    for (; ok && i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            ok = 0;
            break;
        }
        int d = s[i] - '0';
        if (v < (INT64_MIN + d) / 10) {
            ok = 0;
            break;
        }
        v = v * 10 - d;
    }
    if (ok && !negative) {
        if (v == INT64_MIN)
            ok = 0;
        else
            v = -v;
    }
    if (!ok || v < min || v > max)
        return cw_fail(err, CW_EINVAL, "%s must be a whole number from %lld to %lld", what,
                       (long long)min, (long long)max);
    *out = v;
    return CW_OK;
}

int hex_digit_value(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}
