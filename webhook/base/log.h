/* log: one JSON object per line on stderr (SPEC §4), with a level filter.
 *
 * A line is built in a fixed stack buffer (log_line) and written with one write(2), so lines
 * from different threads never interleave. Values are JSON-escaped and truncated to keep a line
 * bounded (LOG_LINE_MAX). Callers must never pass secret values or whole objects. */
#ifndef COCO_LOG_H
#define COCO_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum log_level {
    LOG_LEVEL_DEBUG,
    LOG_LEVEL_INFO,
    LOG_LEVEL_WARN,
    LOG_LEVEL_ERROR,
} log_level;

#define LOG_LINE_MAX 4096 /* bytes of one log line, newline included */

typedef struct log_line {
    char buf[LOG_LINE_MAX];
    size_t len;
    bool active; /* false when the level is filtered out: every append is a no-op */
} log_line;

/* Sets the lowest level written (default LOG_LEVEL_INFO). Thread-safe. */
void log_set_level(log_level level);
bool log_enabled(log_level level);

/* Parses "debug", "info", "warn" or "error". Returns false for anything else. */
bool log_parse_level(const char *s, log_level *out);

/* "debug", "info", "warn" or "error"; "unknown" for any other value. */
const char *log_level_name(log_level level);

/* Starts a line with ts, level and msg. */
void log_begin(log_line *l, log_level level, const char *msg);
void log_str(log_line *l, const char *key, const char *value); /* NULL value: omitted */
void log_int(log_line *l, const char *key, int64_t value);
void log_num(log_line *l, const char *key, double value); /* 3 decimals */
void log_bool(log_line *l, const char *key, bool value);
/* Writes the line to stderr. */
void log_end(log_line *l);

/* Shorthand for a line with only a message and an optional "error" field. */
void log_msg(log_level level, const char *msg, const char *error);

#endif
