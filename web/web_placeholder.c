#include <stdio.h>
#include "web/web.h"
int web_cmd_serve(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "mmbench serve: not built yet\n"); return 2; }
