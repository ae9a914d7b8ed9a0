/* cel-quote: writes each string of a JSON array as the CEL string literal celesc makes, for
 * the guard test (tests/guard), which reads every literal back with an independent CEL
 * evaluator and compares it with the string.
 *
 *   cel-quote < strings.json    # prints a JSON array of literals, same order
 *
 * Exit status 1 on input that is not a JSON array of strings. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "celesc.h"
#include "fileread.h"

int main(void)
{
    char *text = NULL;
    size_t len = 0;
    cw_error err = {{0}};
    if (file_read_stream(stdin, "<stdin>", 16u * 1024 * 1024, &text, &len, &err)) {
        fprintf(stderr, "cel-quote: %s\n", err.msg);
        return 1;
    }
    cJSON *in = cJSON_ParseWithLength(text, len);
    free(text);
    cJSON *out = cJSON_CreateArray();
    int rc = !cJSON_IsArray(in) || !out;
    for (cJSON *s = in ? in->child : NULL; s && !rc; s = s->next) {
        buf b;
        buf_init(&b, 64u * 1024 * 1024);
        rc = !cJSON_IsString(s) || celesc_append(&b, s->valuestring, strlen(s->valuestring));
        char *lit = rc ? NULL : buf_take(&b, NULL);
        buf_free(&b);
        cJSON *item = lit ? cJSON_CreateString(lit) : NULL;
        free(lit);
        if (!item)
            rc = 1;
        else
            cJSON_AddItemToArray(out, item);
    }
    char *printed = rc ? NULL : cJSON_PrintUnformatted(out);
    if (printed)
        puts(printed);
    else
        fputs("cel-quote: the input is not a JSON array of strings\n", stderr);
    free(printed);
    cJSON_Delete(in);
    cJSON_Delete(out);
    return printed ? 0 : 1;
}
