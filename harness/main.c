/*
 * main.c - the mmbench command: dispatch to the subcommands.
 */
#include <stdio.h>
#include <string.h>

#include "harness/hx.h"
#include "mmb_config.h"
#include "web/web.h"

static void usage(FILE *f) {
    fputs("usage: mmbench COMMAND [OPTIONS]\n"
          "\n"
          "commands:\n"
          "  list      allocators and workloads, with availability\n"
          "  run       run workloads against allocators and store the results\n"
          "  show      print one stored run\n"
          "  export    write stored runs as CSV or JSON\n"
          "  serve     browse and compare runs in a web dashboard\n"
          "\n"
          "`mmbench COMMAND --help` describes each command's options.\n",
          f);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return HX_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(cmd, "--version")) {
        printf("mmbench %s (%s)\n", MMBENCH_VERSION, MMBENCH_GIT_REV);
        return 0;
    }
    if (!strcmp(cmd, "list"))
        return hx_cmd_list(argc - 1, argv + 1);
    if (!strcmp(cmd, "run"))
        return hx_cmd_run(argc - 1, argv + 1);
    if (!strcmp(cmd, "show"))
        return hx_cmd_show(argc - 1, argv + 1);
    if (!strcmp(cmd, "export"))
        return hx_cmd_export(argc - 1, argv + 1);
    if (!strcmp(cmd, "serve"))
        return web_cmd_serve(argc - 1, argv + 1);
    if (!strcmp(cmd, "__child"))
        return hx_cmd_child(argc - 1, argv + 1);
    fprintf(stderr, "mmbench: unknown command '%s'; the commands are list, run, show, export, serve "
                    "(see mmbench --help)\n", cmd);
    return HX_EXIT_USAGE;
}
