/* Fuzz target: the strict JSON text check (json_text_check) against a slow reference.
 *
 * For every input that cJSON parses, json_text_check must find a fault exactly when the
 * reference does: a code point read the long way (lead byte, continuation count, value
 * ranges: no overlong form, no surrogate, nothing past U+10FFFF), a raw byte below 0x20 in
 * a string or, other than tab, LF and CR, between tokens, or \u0000 or a \u without four hex digits
 * in a string, the string state followed byte by byte. And the kind of the first fault must agree.
 */
#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json_nul.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The length of the code point at p read the long way, or 0 when it is not UTF-8. */
static size_t slow_utf8(const uint8_t *p, size_t left)
{
    uint32_t cp;
    size_t n;
    if (p[0] < 0x80)
        return 1;
    if ((p[0] & 0xe0) == 0xc0) {
        n = 2;
        cp = p[0] & 0x1f;
    } else if ((p[0] & 0xf0) == 0xe0) {
        n = 3;
        cp = p[0] & 0x0f;
    } else if ((p[0] & 0xf8) == 0xf0) {
        n = 4;
        cp = p[0] & 0x07;
    } else {
        return 0;
    }
    if (left < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (p[i] & 0x3f);
    }
    static const uint32_t least[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < least[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

static json_text_fault slow_check(const uint8_t *s, size_t len)
{
    bool in_string = false;
    for (size_t i = 0; i < len;) {
        uint8_t c = s[i];
        if (in_string && c == '\\') {
            if (i + 1 < len && s[i + 1] == 'u') {
                for (size_t k = 2; k < 6; k++)
                    if (i + k >= len || !strchr("0123456789abcdefABCDEF", s[i + k]) || !s[i + k])
                        return JSON_TEXT_ESCAPE;
                if (s[i + 2] == '0' && s[i + 3] == '0' && s[i + 4] == '0' && s[i + 5] == '0')
                    return JSON_TEXT_NUL;
            }
            i += 2;
            continue;
        }
        if (c == '"')
            in_string = !in_string;
        else if (c < 0x20 && (in_string || (c != '\t' && c != '\n' && c != '\r')))
            return JSON_TEXT_CONTROL;
        size_t n = slow_utf8(s + i, len - i);
        if (n == 0)
            return JSON_TEXT_UTF8;
        i += n;
    }
    return JSON_TEXT_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts((const char *)data, size, &end, 0);
    if (!root)
        return 0;
    cJSON_Delete(root);
    /* What follows the value is checked by the caller (whitespace only): only the value. */
    size_t len = (size_t)(end - (const char *)data);
    char path[JSON_NUL_PATH_MAX + 1];
    json_text_fault got = json_text_check((const char *)data, len, path, sizeof path);
    if (got != slow_check(data, len))
        abort();
    return 0;
}
