/*
 * web.h - `mmbench serve`: the embedded HTTP server, its JSON API and the
 * dashboard pages compiled into the binary.
 */
#ifndef MMB_WEB_H
#define MMB_WEB_H

#ifdef __cplusplus
extern "C" {
#endif

/* Parse serve's options (--port, --bind, --db, --help), serve until SIGINT
 * or SIGTERM, and return the process exit status. */
int web_cmd_serve(int argc, char **argv);

#ifdef __cplusplus
}
#endif
#endif
