#include "log.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "jsonesc.h"

static atomic_int log_threshold = LOG_LEVEL_INFO;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void log_set_level(log_level level)
{
    atomic_store_explicit(&log_threshold, (int)level, memory_order_relaxed);
}

const char *log_level_name(log_level level)
{
    if ((size_t)level < sizeof level_names / sizeof level_names[0])
        return level_names[level];
    return "unknown";
}

bool log_enabled(log_level level)
{
    return (int)level >= atomic_load_explicit(&log_threshold, memory_order_relaxed);
}

bool log_parse_level(const char *s, log_level *out)
{
    for (size_t i = 0; i < sizeof level_names / sizeof level_names[0]; i++) {
        if (strcmp(s, level_names[i]) == 0) {
            *out = (log_level)i;
            return true;
        }
    }
    return false;
}

/* Room kept free for the closing "}\n", so that a truncated line is still valid JSON. */
#define LOG_TAIL 3

static void put_raw(log_line *l, const char *s, size_t n)
{
    if (l->len + n > sizeof l->buf - LOG_TAIL)
        n = sizeof l->buf - LOG_TAIL - l->len;
    memcpy(l->buf + l->len, s, n);
    l->len += n;
}

/* Appends s as a JSON string; on truncation the string is cut at a character boundary
 * of the escaped form and still closed. */
static void put_json_string(log_line *l, const char *s)
{
    size_t room_end = sizeof l->buf - LOG_TAIL - 1; /* keep one byte for the closing quote */
    if (l->len >= room_end)
        return;
    l->buf[l->len++] = '"';
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (jsonesc_is_plain(*p) && l->len < room_end) {
            l->buf[l->len++] = (char)*p;
            continue;
        }
        char esc[JSONESC_BYTE_MAX];
        size_t n = jsonesc_byte(*p, esc);
        if (l->len + n > room_end)
            break;
        memcpy(l->buf + l->len, esc, n);
        l->len += n;
    }
    /* A cut inside a UTF-8 sequence would make the line invalid UTF-8: drop the partial. */
    size_t i = l->len;
    while (i > 0 && ((unsigned char)l->buf[i - 1] & 0xC0) == 0x80)
        i--;
    if (i > 0 && ((unsigned char)l->buf[i - 1] & 0x80)) {
        unsigned char lead = (unsigned char)l->buf[i - 1];
        size_t want = (lead & 0xE0) == 0xC0 ? 2 : (lead & 0xF0) == 0xE0 ? 3 : 4;
        if (l->len - (i - 1) < want)
            l->len = i - 1;
    }
    l->buf[l->len++] = '"';
}

static void put_key(log_line *l, const char *key)
{
    put_raw(l, ",", 1);
    put_json_string(l, key);
    put_raw(l, ":", 1);
}

void log_begin(log_line *l, log_level level, const char *msg)
{
    l->len = 0;
    l->active = log_enabled(level);
    if (!l->active)
        return;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char stamp[64];
    int n = snprintf(stamp, sizeof stamp, "{\"ts\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ\"",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     ts.tv_nsec / 1000000);
    put_raw(l, stamp, (size_t)n);
    put_key(l, "level");
    put_json_string(l, level_names[level]);
    put_key(l, "msg");
    put_json_string(l, msg);
}

void log_str(log_line *l, const char *key, const char *value)
{
    if (!l->active || !value)
        return;
    put_key(l, key);
    put_json_string(l, value);
}

void log_int(log_line *l, const char *key, int64_t value)
{
    if (!l->active)
        return;
    char num[32];
    int n = snprintf(num, sizeof num, "%lld", (long long)value);
    put_key(l, key);
    put_raw(l, num, (size_t)n);
}

void log_num(log_line *l, const char *key, double value)
{
    if (!l->active)
        return;
    char num[64];
    int n = snprintf(num, sizeof num, "%.3f", value);
    if (n < 0 || (size_t)n >= sizeof num)
        return;
    put_key(l, key);
    put_raw(l, num, (size_t)n);
}

void log_bool(log_line *l, const char *key, bool value)
{
    if (!l->active)
        return;
    put_key(l, key);
    put_raw(l, value ? "true" : "false", value ? 4 : 5);
}

void log_end(log_line *l)
{
    if (!l->active)
        return;
    l->buf[l->len++] = '}';
    l->buf[l->len++] = '\n';
    /* Usually one write(2); a short write (a full pipe) is completed, an error drops the rest. */
    size_t off = 0;
    while (off < l->len) {
        ssize_t w = write(STDERR_FILENO, l->buf + off, l->len - off);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    l->active = false;
}

void log_msg(log_level level, const char *msg, const char *error)
{
    log_line l;
    log_begin(&l, level, msg);
    log_str(&l, "error", error);
    log_end(&l);
}
