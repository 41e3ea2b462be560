/*
 * main.c - the mmbench command: dispatch to the subcommands.
 */
#include <stdio.h>
#include <string.h>

#include "harness/hx.h"
#include "mmb_config.h"
#include "mmb_gitrev.h"
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
          "`mmbench COMMAND --help` or `mmbench help COMMAND` describes each command's\n"
          "options; `mmbench --version` prints the version, the commit, the build and\n"
          "the machine.\n",
          f);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return HX_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    /* `mmbench help COMMAND` is `mmbench COMMAND --help`. */
    static char help_opt[] = "--help";
    char *help_argv[4] = {NULL};
    if (!strcmp(cmd, "help") && argc == 3 && strcmp(argv[2], "__child") != 0) {
        help_argv[0] = argv[0];
        help_argv[1] = argv[2];
        help_argv[2] = help_opt;
        cmd = argv[2];
        argc = 3;
        argv = help_argv;
    }
    if (!strcmp(cmd, "help") && argc > 3) {
        fprintf(stderr, "mmbench: help takes one command at most (mmbench help COMMAND), not '%s'\n", argv[3]);
        return HX_EXIT_USAGE;
    }
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(cmd, "--version")) {
        if (argc > 2) {
            fprintf(stderr, "mmbench: --version takes no arguments, not '%s'\n", argv[2]);
            return 2;
        }
        /* what a bug report or a paper's methods section needs: the commit,
         * the build and the machine, as every run records them */
        char build[256], machine[256];
        hx_build_describe(build, sizeof build);
        hx_machine_describe(machine, sizeof machine);
        printf("mmbench %s (%s)\nbuild: %s\nmachine: %s\n", MMBENCH_VERSION, MMBENCH_GIT_REV, build, machine);
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
