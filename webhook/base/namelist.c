#include "namelist.h"

#include <string.h>

#define CUT_MARK ", ..."

void namelist_init(namelist *l, char *buf, size_t cap)
{
    *l = (namelist){.buf = buf, .cap = cap};
    buf[0] = '\0';
}

void namelist_add(namelist *l, const char *name)
{
    if (l->cut)
        return;
    size_t sep = l->len ? 2 : 0, n = strlen(name);
    if (l->len + sep + n + sizeof CUT_MARK > l->cap) {
        if (l->len + sizeof CUT_MARK <= l->cap) {
            memcpy(l->buf + l->len, CUT_MARK, sizeof CUT_MARK);
            l->len += sizeof CUT_MARK - 1;
        }
        l->cut = true;
        return;
    }
    memcpy(l->buf + l->len, ", ", sep);
    memcpy(l->buf + l->len + sep, name, n + 1);
    l->len += sep + n;
}
