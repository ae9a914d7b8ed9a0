#include "flags.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "intparse.h"
#include "result.h"

void cli_list_free(cli_list *list)
{
    free(list->items);
    list->items = NULL;
    list->count = 0;
}

static void vusage_error(const char *name, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void vusage_error(const char *name, const char *fmt, va_list ap)
{
    const char *sep = name ? " " : "";
    name = name ? name : "";
    fprintf(stderr, "coco-webhook%s%s: ", sep, name);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, " (see 'coco-webhook%s%s --help')\n", sep, name);
}

int cli_usage_error(const char *name, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vusage_error(name, fmt, ap);
    va_end(ap);
    return CLI_EXIT_USAGE;
}

int cli_failed(const char *name, const char *message)
{
    fprintf(stderr, "coco-webhook %s: %s\n", name, message);
    return CLI_EXIT_FAILED;
}

static bool is_help(const char *s)
{
    return strcmp(s, "-h") == 0 || strcmp(s, "--help") == 0;
}

/* The flag arg names, and where its attached value starts (NULL when none is attached). */
static const cli_flag *find_flag(const cli_command *cmd, const char *arg, const char **attached)
{
    *attached = NULL;
    for (size_t i = 0; i < cmd->flag_count; i++) {
        const cli_flag *f = &cmd->flags[i];
        if (arg[1] == '-') {
            size_t n = strlen(f->name);
            if (strncmp(arg, f->name, n) != 0 || (arg[n] != '\0' && arg[n] != '='))
                continue;
            if (arg[n] == '=')
                *attached = arg + n + 1;
            return f;
        }
        if (f->short_name && arg[1] == f->short_name) {
            /* kubectl's habit "-o=json" as well as getopt's "-ojson". */
            if (arg[2] != '\0')
                *attached = arg[2] == '=' ? arg + 3 : arg + 2;
            return f;
        }
    }
    return NULL;
}

/* Stores value for flag f in opts. Returns -1, or the exit status after printing. */
static int store(const cli_command *cmd, const cli_flag *f, const char *value, void *opts, int argc)
{
    void *at = (char *)opts + f->offset;
    switch (f->kind) {
    case CLI_FLAG_STRING: *(const char **)at = value; return -1;
    case CLI_FLAG_BOOL: *(bool *)at = true; return -1;
    case CLI_FLAG_LONG: {
        char what[128];
        snprintf(what, sizeof what, "%s \"%.64s\"", f->name, value);
        int64_t v = 0;
        cw_error err;
        if (int_parse(value, strlen(value), f->min, f->max, what, &v, &err) != CW_OK)
            return cli_usage_error(cmd->name, "%s", err.msg);
        *(long *)at = (long)v;
        return -1;
    }
    case CLI_FLAG_LIST: {
        cli_list *list = at;
        /* Each value takes an argument of its own: argc bounds the list. */
        if (!list->items && !(list->items = calloc((size_t)argc + 1, sizeof *list->items)))
            return cli_failed(cmd->name, "out of memory");
        list->items[list->count++] = value;
        return -1;
    }
    }
    return -1;
}

int cli_flags_parse(const cli_command *cmd, int argc, char **argv, void *opts, int *positional)
{
    int kept = 0;
    bool flags_done = false;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (flags_done || arg[0] != '-' || arg[1] == '\0') {
            argv[1 + kept++] = argv[i];
            continue;
        }
        if (strcmp(arg, "--") == 0) {
            flags_done = true;
            continue;
        }
        if (is_help(arg)) {
            fputs(cmd->usage, stdout);
            return 0;
        }
        const char *value = NULL;
        const cli_flag *f = find_flag(cmd, arg, &value);
        if (!f)
            return cli_usage_error(cmd->name, "unknown option \"%s\"", arg);
        if (f->kind == CLI_FLAG_BOOL && value)
            return cli_usage_error(cmd->name, "option %s takes no value", f->name);
        if (f->kind != CLI_FLAG_BOOL && !value) {
            if (i + 1 >= argc)
                return cli_usage_error(cmd->name, "option %s needs a value", arg);
            value = argv[++i];
        }
        int rc = store(cmd, f, value, opts, argc);
        if (rc >= 0)
            return rc;
    }
    if (cmd->positional_max >= 0 && kept > cmd->positional_max)
        return cli_usage_error(cmd->name, "unexpected argument \"%s\"",
                               argv[1 + cmd->positional_max]);
    *positional = kept;
    return -1;
}

int cli_dispatch(const char *name, const char *usage, const cli_subcommand *subs, size_t count,
                 int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage, stderr);
        return CLI_EXIT_USAGE;
    }
    const char *sub = argv[1];
    if (is_help(sub) || strcmp(sub, "help") == 0) {
        fputs(usage, stdout);
        return 0;
    }
    for (size_t i = 0; i < count; i++)
        if (strcmp(sub, subs[i].name) == 0)
            return subs[i].run(argc - 1, argv + 1);
    return cli_usage_error(name, "unknown command \"%s\"", sub);
}
