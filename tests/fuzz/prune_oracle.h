/* The reference for json_prune, shared by its fuzz target and unit test: a whole cJSON parse,
 * then the rules applied to the tree (members dropped, duplicates looked for where json_prune
 * promises to find them), compared node by node with what json_prune_parse built. */
#ifndef COCO_PRUNE_ORACLE_H
#define COCO_PRUNE_ORACLE_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <string.h>

#include "json_prune.h"
#include "jsonutil.h"

static const json_prune_member *oracle_rule(const json_prune_state *st, const char *key)
{
    for (size_t i = 0; i < st->count; i++)
        if (strcmp(st->members[i].key, key) == 0)
            return &st->members[i];
    return NULL;
}

/* Applies the rules to v in place (state, depth as json_prune walks); sets *dup when a
 * duplicate key is where json_prune must report one. */
static void oracle_prune(cJSON *v, const json_prune_rules *rules, int state, unsigned depth,
                         bool *dup)
{
    const json_prune_state *st = &rules->states[state];
    bool array = st->element_state >= 0;
    if ((array ? !cJSON_IsArray(v) : !cJSON_IsObject(v)) || depth >= JSON_PRUNE_DEPTH_MAX)
        return;
    if (array) {
        for (cJSON *c = v->child; c; c = c->next)
            oracle_prune(c, rules, st->element_state, depth + 1, dup);
        return;
    }
    for (cJSON *a = v->child; a; a = a->next)
        for (cJSON *b = a->next; b; b = b->next)
            if (strcmp(a->string, b->string) == 0)
                *dup = true;
    cJSON *c = v->child;
    while (c) {
        cJSON *next = c->next;
        const json_prune_member *rule = oracle_rule(st, c->string);
        json_prune_action action = rule ? rule->action : st->other;
        if (action == JSON_PRUNE_DROP) {
            bool oom = false;
            if (jsonutil_find_duplicate_key(c, &oom))
                *dup = true;
            cJSON_Delete(cJSON_DetachItemViaPointer(v, c));
        } else if (action == JSON_PRUNE_ENTER) {
            oracle_prune(c, rules, rule->state, depth + 1, dup);
        }
        c = next;
    }
}

/* Same type, key, value and children in the same order. */
static bool oracle_same(const cJSON *a, const cJSON *b)
{
    if ((a->type & 0xff) != (b->type & 0xff))
        return false;
    if ((a->string == NULL) != (b->string == NULL) || (a->string && strcmp(a->string, b->string)))
        return false;
    if (cJSON_IsString(a) && strcmp(a->valuestring, b->valuestring) != 0)
        return false;
    if (cJSON_IsNumber(a) && (a->valuedouble != b->valuedouble || a->valueint != b->valueint))
        return false;
    const cJSON *x = a->child, *y = b->child;
    for (; x && y; x = x->next, y = y->next)
        if (!oracle_same(x, y))
            return false;
    return x == NULL && y == NULL;
}

#endif
