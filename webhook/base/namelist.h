/* namelist: a list of names for a message ("a, b, c"), written into a caller's fixed buffer
 * and cut with ", ..." when the next name would not fit: denial and config messages name the
 * allowed values without ever growing past their room. */
#ifndef COCO_NAMELIST_H
#define COCO_NAMELIST_H

#include <stdbool.h>
#include <stddef.h>

typedef struct namelist {
    char *buf; /* borrowed, cap bytes, always NUL-terminated */
    size_t cap;
    size_t len;
    bool cut; /* ", ..." written: later names are dropped */
} namelist;

/* An empty list in buf (cap >= sizeof ", ..."). */
void namelist_init(namelist *l, char *buf, size_t cap);
/* Appends name after ", " (none before the first), or ", ..." once when it does not fit
 * with room left for that mark. */
void namelist_add(namelist *l, const char *name);

#endif
