/* Fuzz target: json_prune_parse against a whole cJSON parse with the rules applied after it
 * (prune_oracle.h). Both must refuse the same texts; of the others both must end at the same
 * byte, build the same tree and agree on whether a duplicate key is to be reported.
 *
 * The first byte picks the rules: the review's (review_fields.h; the corpus holds reviews) or
 * a small table with one-letter keys that random inputs reach easily, with a cycle (a -> a)
 * as the review's spec -> template -> spec has. Left out: raw NUL bytes in keys (cJSON cuts
 * the key there, json_prune compares all its bytes; the server refuses such text anyway) and
 * nesting near cJSON's limit (json_prune's walked levels do not count against it). */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json_prune.h"
#include "prune_oracle.h"
#include "review_fields.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const json_prune_member small_root[] = {{"a", JSON_PRUNE_ENTER, 0},
                                               {"b", JSON_PRUNE_DROP, 0},
                                               {"c", JSON_PRUNE_KEEP, 0},
                                               {"d", JSON_PRUNE_ENTER, 1},
                                               {"e", JSON_PRUNE_ENTER, 2}};
static const json_prune_member small_drop_rest[] = {{"k", JSON_PRUNE_KEEP, 0},
                                                    {"a", JSON_PRUNE_ENTER, 0}};
static const json_prune_state small_states[] = {
    {small_root, 5, JSON_PRUNE_KEEP, -1},
    {NULL, 0, JSON_PRUNE_KEEP, 2},
    {small_drop_rest, 2, JSON_PRUNE_DROP, -1},
};
static const json_prune_rules small_rules = {small_states, 3};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const json_prune_rules *rules = data[0] & 1 ? &small_rules : &review_fields_rules;
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    if (memchr(text, 0, len))
        return 0;
    size_t open = 0;
    for (size_t i = 0; i < len; i++)
        open += text[i] == '[' || text[i] == '{';
    if (open > 900)
        return 0;

    const char *end = NULL;
    cJSON *whole = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    json_prune_result out;
    cJSON *pruned = json_prune_parse(text, len, rules, &out);
    if (!whole != !pruned)
        abort(); /* one refused what the other took */
    if (whole) {
        if (out.end != end)
            abort();
        bool dup = false;
        oracle_prune(whole, rules, 0, 0, &dup);
        if (!oracle_same(whole, pruned))
            abort();
        if (dup != (out.duplicate[0] != '\0'))
            abort();
    }
    cJSON_Delete(whole);
    cJSON_Delete(pruned);
    return 0;
}
