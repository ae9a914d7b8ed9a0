/* flags: the one command-line flag parser. A command declares its flags in a table of
 * {name, short name, kind, offset} into its own options struct; cli_flags_parse reads argv
 * against it, so that no command writes the loop again.
 *
 * Accepted forms: "--name VALUE", "--name=VALUE", "-n VALUE", "-nVALUE" and kubectl's
 * "-n=VALUE"; "--" ends the flags. Every other argument is a positional one, kept in order
 * wherever it stands. A value is the next argument whatever it looks like ("--days -5" gives
 * "-5" to --days, which refuses it). Integer flags go through int_parse (intparse.h): decimal
 * digits within the flag's range, no sign games. -h and --help print the usage.
 *
 * Usage errors print one line, "coco-webhook CMD: PROBLEM (see 'coco-webhook CMD --help')",
 * on standard error (cli_usage_error); commands use it for their own checks too. Values and
 * positional arguments are borrowed from argv. */
#ifndef COCO_FLAGS_H
#define COCO_FLAGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CLI_EXIT_FAILED 1 /* the work failed */
#define CLI_EXIT_USAGE 2  /* the command line was wrong */

typedef enum cli_flag_kind {
    CLI_FLAG_STRING, /* const char *: the value (the last one given wins) */
    CLI_FLAG_BOOL,   /* bool: set true; takes no value */
    CLI_FLAG_LONG,   /* long: int_parse within [min, max] */
    CLI_FLAG_LIST,   /* cli_list: every value given, in order */
} cli_flag_kind;

typedef struct cli_flag {
    const char *name; /* "--days" */
    char short_name;  /* 'o' for -o, or 0 */
    cli_flag_kind kind;
    size_t offset;    /* where the value goes in the command's options struct (offsetof) */
    int64_t min, max; /* CLI_FLAG_LONG only */
} cli_flag;

/* Table entries: the flag's names and the member of the options struct T it sets. */
#define CLI_STRING_FLAG(name, short_name, T, member)                                               \
    {                                                                                              \
        (name), (short_name), CLI_FLAG_STRING, offsetof(T, member), 0, 0                           \
    }
#define CLI_BOOL_FLAG(name, T, member)                                                             \
    {                                                                                              \
        (name), 0, CLI_FLAG_BOOL, offsetof(T, member), 0, 0                                        \
    }
#define CLI_LONG_FLAG(name, T, member, min, max)                                                   \
    {                                                                                              \
        (name), 0, CLI_FLAG_LONG, offsetof(T, member), (min), (max)                                \
    }
#define CLI_LIST_FLAG(name, T, member)                                                             \
    {                                                                                              \
        (name), 0, CLI_FLAG_LIST, offsetof(T, member), 0, 0                                        \
    }

/* The values of a repeatable flag. items is owned (free with cli_list_free), the strings are
 * argv's. */
typedef struct cli_list {
    const char **items;
    size_t count;
} cli_list;

void cli_list_free(cli_list *list);

/* What a command tells the parser about itself. */
typedef struct cli_command {
    const char *name;  /* "certs", "seal vault": messages say "coco-webhook NAME: ..." */
    const char *usage; /* printed on standard output for -h and --help */
    const cli_flag *flags;
    size_t flag_count;
    int positional_max; /* more positional arguments are refused ("unexpected argument");
                           -1: the command checks them itself */
} cli_command;

/* A command whose flags are the array flags. */
#define CLI_COMMAND(name, usage, flags, positional_max)                                            \
    {                                                                                              \
        (name), (usage), (flags), sizeof(flags) / sizeof((flags)[0]), (positional_max)             \
    }

/* Parses argv[1..argc) (argv[0] is the command's name) into opts. The positional arguments
 * are moved to argv[1..*positional], in their order. Returns -1 to go on, or the exit status
 * after printing: 0 for help, CLI_EXIT_USAGE for a usage error, CLI_EXIT_FAILED when out of
 * memory. On a return other than -1 the lists in opts may hold memory: free them anyway. */
int cli_flags_parse(const cli_command *cmd, int argc, char **argv, void *opts, int *positional);

/* Prints "coco-webhook NAME: MESSAGE (see 'coco-webhook NAME --help')" on standard error and
 * returns CLI_EXIT_USAGE. */
int cli_usage_error(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints "coco-webhook NAME: MESSAGE" on standard error and returns CLI_EXIT_FAILED. */
int cli_failed(const char *name, const char *message);

/* A command of a command (`seal vault`, `initdata render`). */
typedef struct cli_subcommand {
    const char *name;
    int (*run)(int argc, char **argv); /* argv[0] is the subcommand's name */
} cli_subcommand;

/* Runs the subcommand argv[1] of the command name (argv[0]): with no argument the usage goes
 * to standard error (exit CLI_EXIT_USAGE), with -h, --help or help to standard output (exit 0),
 * an unknown one is a usage error. */
int cli_dispatch(const char *name, const char *usage, const cli_subcommand *subs, size_t count,
                 int argc, char **argv);

#endif
