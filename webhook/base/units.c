/* units: see units.h. */
#include "units.h"

#include <stddef.h>
#include <string.h>

#define UNITS_BYTES_MAX (UINT64_MAX / 2)
#define UNITS_DIGITS_MAX 19 /* decimal digits of a size, before its suffix */

cw_result units_parse_bytes(const char *s, uint64_t *bytes)
{
    static const struct {
        const char *suffix;
        uint64_t factor;
    } suffixes[] = {
        {"", 1},
        {"Ki", (uint64_t)1 << 10},
        {"Mi", (uint64_t)1 << 20},
        {"Gi", (uint64_t)1 << 30},
        {"Ti", (uint64_t)1 << 40},
        {"Pi", (uint64_t)1 << 50},
        {"Ei", (uint64_t)1 << 60},
        {"k", 1000},
        {"M", 1000000},
        {"G", 1000000000},
        {"T", 1000000000000},
        {"P", 1000000000000000},
        {"E", 1000000000000000000},
    };
    uint64_t v = 0;
    size_t digits = 0;
    const char *p = s;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (++digits > UNITS_DIGITS_MAX)
            return CW_ELIMIT;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    if (digits == 0)
        return CW_EINVAL;
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        if (strcmp(p, suffixes[i].suffix) != 0)
            continue;
        if (v > UNITS_BYTES_MAX / suffixes[i].factor)
            return CW_ELIMIT;
        *bytes = v * suffixes[i].factor;
        return CW_OK;
    }
    return CW_EINVAL;
}

cw_result units_parse_duration_ms(const char *s, int64_t max_ms, int64_t *ms)
{
    static const struct {
        const char *unit;
        double ms;
    } units[] = {{"ms", 1},     {"h", 3600000},       {"m", 60000},    {"s", 1000},
                 {"us", 0.001}, {"\xc2\xb5s", 0.001}, {"ns", 0.000001}};
    double total = 0;
    const char *p = s;
    if (!*p)
        return CW_EINVAL;
    if (strcmp(p, "0") == 0) {
        *ms = 0;
        return CW_OK;
    }
    while (*p) {
        double v = 0;
        int digits = 0;
        while (*p >= '0' && *p <= '9' && digits < 12) {
            v = v * 10 + (*p++ - '0');
            digits++;
        }
        if (*p == '.') {
            p++;
            double scale = 0.1;
            while (*p >= '0' && *p <= '9' && digits < 24) {
                v += (*p++ - '0') * scale;
                scale /= 10;
                digits++;
            }
        }
        if (digits == 0)
            return CW_EINVAL;
        size_t i = 0;
        for (; i < sizeof units / sizeof units[0]; i++) {
            size_t n = strlen(units[i].unit);
            if (strncmp(p, units[i].unit, n) == 0) {
                total += v * units[i].ms;
                p += n;
                break;
            }
        }
        if (i == sizeof units / sizeof units[0])
            return CW_EINVAL;
        if (total > (double)max_ms)
            return CW_ELIMIT;
    }
    *ms = (int64_t)total;
    return CW_OK;
}
