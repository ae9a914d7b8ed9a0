/* cli: the subcommands of coco-webhook. Each takes the arguments after its own name
 * (argv[0] is the subcommand name) and returns the process exit status. main.c only
 * dispatches. */
#ifndef COCO_CLI_H
#define COCO_CLI_H

int cli_mutate(int argc, char **argv);
int cli_serve(int argc, char **argv);
int cli_certs(int argc, char **argv);
int cli_seal(int argc, char **argv);
int cli_initdata(int argc, char **argv);
int cli_guard(int argc, char **argv);

#endif
