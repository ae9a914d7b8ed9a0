#include "jsonnum.h"

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

size_t jsonnum_scan(const char *s, size_t len, jsonnum *out, size_t *stop)
{
    jsonnum n = {0};
    size_t i = 0, k;
    if (i < len && s[i] == '-') {
        n.neg = true;
        i++;
    }
    n.int_digits = s + i;
    if (i < len && s[i] == '0') {
        i++;
    } else {
        for (k = i; i < len && is_digit(s[i]); i++)
            ;
        if (i == k)
            goto fail;
    }
    n.int_len = (size_t)(s + i - n.int_digits);
    if (i < len && s[i] == '.') {
        n.frac_digits = s + ++i;
        for (k = i; i < len && is_digit(s[i]); i++)
            ;
        if (i == k)
            goto fail;
        n.frac_len = i - k;
    }
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        bool eneg = false;
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-'))
            eneg = s[i++] == '-';
        int64_t e = 0;
        for (k = i; i < len && is_digit(s[i]); i++) {
            if (e > JSONNUM_EXP_MAX)
                n.exp_huge = true;
            else
                e = e * 10 + (s[i] - '0');
        }
        if (i == k)
            goto fail;
        n.exp = eneg ? -e : e;
    }
    if (out)
        *out = n;
    return i;
fail:
    if (stop)
        *stop = i;
    return 0;
}

bool jsonnum_is(const char *s, size_t len)
{
    return len && jsonnum_scan(s, len, NULL, NULL) == len;
}
