/*
 * web_nomhd.c - `mmbench serve` in a build without libmicrohttpd.
 */
#include "web/web.h"

#include <stdio.h>

int web_cmd_serve(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "mmbench serve: built without libmicrohttpd (install libmicrohttpd-dev)\n");
    return 2;
}
