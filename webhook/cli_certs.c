/* TEMPORARY placeholder, replaced by the real command in this change series. */
#include <stdio.h>
#include "cli.h"
int cli_certs(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fputs("coco-webhook certs: not built yet\n", stderr);
    return 1;
}
