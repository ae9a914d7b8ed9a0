/* yaml11: go-yaml v2's resolve() for plain scalars (contract in yaml11.h). */
#include "yaml11.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gonum.h"

#define YAML11_TAG_PREFIX "tag:yaml.org,2002:"
#define YAML11_WORD_MAX 5 /* bytes of the longest word of the resolve table */

static const char *const tag_names[] = {"str", "null", "bool", "int", "float", "timestamp"};

yaml11_tag yaml11_tag_of(yaml11_kind kind)
{
    switch (kind) {
    case YAML11_NULL: return YAML11_TAG_NULL;
    case YAML11_BOOL: return YAML11_TAG_BOOL;
    case YAML11_INT:
    case YAML11_UINT: return YAML11_TAG_INT;
    case YAML11_FLOAT: return YAML11_TAG_FLOAT;
    case YAML11_STR: break;
    }
    return YAML11_TAG_STR;
}

const char *yaml11_tag_name(yaml11_tag tag)
{
    static const char *const names[] = {"!!str", "!!null",  "!!bool",
                                        "!!int", "!!float", "!!timestamp"};
    return names[tag];
}

bool yaml11_tag_lookup(const char *tag, yaml11_tag *out)
{
    size_t n = strlen(YAML11_TAG_PREFIX);
    if (strncmp(tag, YAML11_TAG_PREFIX, n) != 0)
        return false;
    for (size_t k = 0; k < sizeof tag_names / sizeof tag_names[0]; k++) {
        if (strcmp(tag + n, tag_names[k]) == 0) {
            *out = (yaml11_tag)k;
            return true;
        }
    }
    return false;
}

/* go-yaml's yamlStyleFloat: ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$ */
static bool yaml_style_float(const char *s, size_t len)
{
    size_t i = 0, k;
    if (i < len && (s[i] == '+' || s[i] == '-'))
        i++;
    if (i < len && s[i] == '.') {
        i++;
        for (k = i; i < len && s[i] >= '0' && s[i] <= '9'; i++)
            ;
        if (i == k)
            return false;
    } else {
        for (k = i; i < len && s[i] >= '0' && s[i] <= '9'; i++)
            ;
        if (i == k)
            return false;
        if (i < len && s[i] == '.')
            for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++)
                ;
    }
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-'))
            i++;
        for (k = i; i < len && s[i] >= '0' && s[i] <= '9'; i++)
            ;
        if (i == k)
            return false;
    }
    return i == len;
}

/* strconv.ParseFloat of text already matched by yaml_style_float: fails (as ParseFloat's
 * range error) when it overflows; underflow to zero is no error there. */
static bool parse_float_text(const char *s, double *out)
{
    double v = strtod(s, NULL);
    if (isinf(v))
        return false;
    *out = v;
    return true;
}

/* ---------------------------------------------------------------- timestamps (!!timestamp) */

static bool ts_num(const char *s, size_t len, size_t *i, int *v)
{
    if (*i >= len || s[*i] < '0' || s[*i] > '9')
        return false;
    *v = s[(*i)++] - '0';
    if (*i < len && s[*i] >= '0' && s[*i] <= '9')
        *v = *v * 10 + (s[(*i)++] - '0');
    return true;
}

static int days_in(int month, int year)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : days[month - 1];
}

/* go-yaml's allowedTimestampFormats through Go's time.Parse, for the layouts
 * "2006-1-2T15:4:5.999999999Z07:00" (T or t), "2006-1-2 15:4:5.999999999" and "2006-1-2". */
bool yaml11_is_timestamp(const char *s, size_t len)
{
    size_t i = 0;
    while (i < len && s[i] >= '0' && s[i] <= '9')
        i++;
    if (i != 4 || i == len || s[i] != '-')
        return false;
    int year = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    int month, day, h, m, sec;
    i = 5;
    if (!ts_num(s, len, &i, &month) || i >= len || s[i] != '-')
        return false;
    i++;
    if (!ts_num(s, len, &i, &day))
        return false;
    if (month < 1 || month > 12 || day < 1 || day > days_in(month, year))
        return false;
    if (i == len)
        return true;
    bool zone = s[i] == 'T' || s[i] == 't';
    if (!zone && s[i] != ' ')
        return false;
    i++;
    while (!zone && i < len && s[i] == ' ')
        i++;
    if (!ts_num(s, len, &i, &h) || i >= len || s[i++] != ':' || !ts_num(s, len, &i, &m) ||
        i >= len || s[i++] != ':' || !ts_num(s, len, &i, &sec))
        return false;
    if (h > 23 || m > 59 || sec > 59)
        return false;
    if (i + 1 < len && (s[i] == '.' || s[i] == ',') && s[i + 1] >= '0' && s[i + 1] <= '9') {
        i++;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
    }
    if (!zone)
        return i == len;
    if (i < len && s[i] == 'Z')
        return i + 1 == len;
    if (len - i != 6 || (s[i] != '+' && s[i] != '-') || s[i + 3] != ':')
        return false;
    for (size_t k = 1; k < 6; k++)
        if (k != 3 && (s[i + k] < '0' || s[i + k] > '9'))
            return false;
    return true;
}

/* ---------------------------------------------------------------- the resolver */

/* The number go-yaml reads in plain[0..n) (no '_' left), or false. */
static bool resolve_number(char *plain, size_t n, yaml11_value *v)
{
    if (gonum_parse_int(plain, n, 0, &v->i) == GONUM_OK) {
        v->kind = YAML11_INT;
    } else if (gonum_parse_uint(plain, n, 0, &v->u) == GONUM_OK) {
        v->kind = YAML11_UINT;
    } else if (yaml_style_float(plain, n) && parse_float_text(plain, &v->f)) {
        v->kind = YAML11_FLOAT;
    } else if (n >= 2 && plain[0] == '0' && plain[1] == 'b') {
        if (gonum_parse_int(plain + 2, n - 2, 2, &v->i) == GONUM_OK)
            v->kind = YAML11_INT;
        else if (gonum_parse_uint(plain + 2, n - 2, 2, &v->u) == GONUM_OK)
            v->kind = YAML11_UINT;
    } else if (n >= 3 && plain[0] == '-' && plain[1] == '0' && plain[2] == 'b') {
        plain[2] = '-'; /* ParseInt("-" + plain[3:], 2, 64) */
        if (gonum_parse_int(plain + 2, n - 2, 2, &v->i) == GONUM_OK)
            v->kind = YAML11_INT;
    }
    return v->kind != YAML11_STR;
}

cw_result yaml11_resolve(const char *in, size_t len, yaml11_value *v, cw_error *err)
{
    /* go-yaml v2's resolve table: the words that are no strings, space-separated. */
    static const struct {
        const char *words;
        yaml11_kind kind;
        int value; /* bools: 0/1; floats: 2 nan, 3 +inf, 4 -inf */
    } table[] = {
        {" y Y yes Yes YES true True TRUE on On ON ", YAML11_BOOL, 1},
        {" n N no No NO false False FALSE off Off OFF ", YAML11_BOOL, 0},
        {" ~ null Null NULL ", YAML11_NULL, 0},
        {" .nan .NaN .NAN ", YAML11_FLOAT, 2},
        {" .inf .Inf .INF +.inf +.Inf +.INF ", YAML11_FLOAT, 3},
        {" -.inf -.Inf -.INF ", YAML11_FLOAT, 4},
    };
    *v = (yaml11_value){.kind = YAML11_STR};
    char hint = 0;
    unsigned char c0 = len ? (unsigned char)in[0] : 0;
    if (len == 0)
        hint = 'N';
    else if (c0 == '+' || c0 == '-')
        hint = 'S';
    else if (c0 >= '0' && c0 <= '9')
        hint = 'D';
    else if (c0 == '.')
        hint = '.';
    else if (strchr("yYnNtTfFoO~", c0))
        hint = 'M';
    if (!hint)
        return CW_OK;
    if (len == 0) {
        v->kind = YAML11_NULL;
        return CW_OK;
    }
    if (len <= YAML11_WORD_MAX && !memchr(in, ' ', len) && !memchr(in, '\0', len)) {
        char word[YAML11_WORD_MAX + 3] = " ";
        memcpy(word + 1, in, len);
        word[len + 1] = ' ';
        for (size_t k = 0; k < sizeof table / sizeof table[0]; k++) {
            if (!strstr(table[k].words, word))
                continue;
            v->kind = table[k].kind;
            if (v->kind == YAML11_BOOL)
                v->b = table[k].value;
            else if (v->kind == YAML11_FLOAT)
                v->f = table[k].value == 2 ? NAN : table[k].value == 3 ? INFINITY : -INFINITY;
            return CW_OK;
        }
    }
    if (hint == 'M')
        return CW_OK;
    /* ".5_0": go-yaml hands the text to ParseFloat, which takes '_' between digits only. */
    if (hint == '.' && !gonum_underscore_ok(in, len))
        return CW_OK;
    /* Numbers are read with every '_' dropped. */
    char stack[YAML11_STACK_TEXT];
    char *plain = len < sizeof stack ? stack : malloc(len + 1);
    if (!plain)
        return CW_FAIL_NOMEM(err);
    size_t n = 0;
    for (size_t k = 0; k < len; k++)
        if (in[k] != '_')
            plain[n++] = in[k];
    plain[n] = '\0';
    if (hint == '.') {
        if (yaml_style_float(plain, n) && parse_float_text(plain, &v->f))
            v->kind = YAML11_FLOAT;
    } else {
        resolve_number(plain, n, v);
    }
    if (plain != stack)
        free(plain);
    return CW_OK;
}
