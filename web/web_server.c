/*
 * web_server.c - `mmbench serve`: options, the libmicrohttpd daemon, and
 * the request handler, which only routes: /api/... to web_api.c, every
 * other path to the embedded asset table (exact match, so no URL can reach
 * the file system), everything else to a JSON 404.
 *
 * Threads: MHD's internal polling with a small thread pool; each request
 * opens its own read-only SQLite connection (web_api.c).  The main thread
 * blocks SIGINT/SIGTERM before MHD starts its threads (they inherit the
 * mask) and waits for them with sigwait, then stops the daemon cleanly.
 */
#include "web/web.h"
#include "web/web_internal.h"

#include "harness/hx.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

enum {
    WEB_PORT_DEFAULT = 8765,
    WEB_URL_MAX = 4096,            /* longer request paths get 414 */
    WEB_THREADS = 4,
    WEB_CONN_LIMIT = 512,
    WEB_CONN_TIMEOUT_S = 15,
    WEB_CONN_MEMORY = 64 * 1024,   /* request line + headers; MHD answers 414/431 beyond */
    WEB_STREAM_BLOCK = 32 * 1024,
};

#define WEB_CSP                                                                                   \
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "       \
    "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

/* One per web_assets[i], made at start-up: the answer and its entity tag
 * (a hash of the bytes; with Cache-Control: no-cache the browser asks again
 * each time, and the tag lets it be told "unchanged" instead of fetching the
 * file again).  The answer serves the 304 too: libmicrohttpd sends no body
 * with that status, and the Content-Length stays the 200's (RFC 9110 8.6). */
typedef struct web_asset_resp {
    struct MHD_Response *full;
    char etag[24];
} web_asset_resp_t;

typedef struct web_server {
    const char *dbpath;
    web_asset_resp_t *assets;
} web_server_t;

static void add_headers(struct MHD_Response *r, const char *type, const char *cache) {
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, cache);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Content-Security-Policy", WEB_CSP);
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(r, "X-Frame-Options", "DENY");
}

static enum MHD_Result send_json(struct MHD_Connection *c, unsigned status, const char *body) {
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    add_headers(r, "application/json; charset=utf-8", "no-store");
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

/* ---- query-string access for the API ------------------------------------ */

/* A key given without '=' ("?limit") reads as an empty value, so that it is
 * refused or matched as "?limit=" is, not taken for an absent one. */
static const char *q_get(void *cls, const char *key) {
    const char *v = NULL;
    if (MHD_lookup_connection_value_n(cls, MHD_GET_ARGUMENT_KIND, key, strlen(key), &v, NULL) != MHD_YES)
        return NULL;
    return v ? v : "";
}

typedef struct {
    const char *const *known;
    const char *bad;
} unknown_scan_t;

/* An empty segment of the query ("?a=1&&b=2", "?&") is no parameter. */
static int q_empty(const char *key, const char *value) { return !*key && (!value || !*value); }

static enum MHD_Result q_scan(void *cls, enum MHD_ValueKind kind, const char *key, const char *value) {
    (void)kind;
    unknown_scan_t *u = cls;
    if (q_empty(key, value))
        return MHD_YES;
    for (const char *const *k = u->known; *k; k++)
        if (strcmp(*k, key) == 0)
            return MHD_YES;
    u->bad = key;
    return MHD_NO;
}

static const char *q_first_unknown(void *cls, const char *const *known) {
    unknown_scan_t u = {known, NULL};
    MHD_get_connection_values(cls, MHD_GET_ARGUMENT_KIND, q_scan, &u);
    return u.bad;
}

/* Repeated keys among the first WEB_KEYS_SEEN distinct ones; a query with
 * more distinct keys than that holds one no route knows, which the
 * unknown-parameter check answers. */
enum { WEB_KEYS_SEEN = 16 };

typedef struct {
    const char *seen[WEB_KEYS_SEEN];
    int n;
    const char *bad;
} repeat_scan_t;

static enum MHD_Result q_rescan(void *cls, enum MHD_ValueKind kind, const char *key, const char *value) {
    (void)kind;
    repeat_scan_t *u = cls;
    if (q_empty(key, value))
        return MHD_YES;
    for (int i = 0; i < u->n; i++)
        if (strcmp(u->seen[i], key) == 0) {
            u->bad = key;
            return MHD_NO;
        }
    if (u->n == WEB_KEYS_SEEN)
        return MHD_NO;
    u->seen[u->n++] = key;
    return MHD_YES;
}

static const char *q_first_repeated(void *cls) {
    repeat_scan_t u = {{NULL}, 0, NULL};
    MHD_get_connection_values(cls, MHD_GET_ARGUMENT_KIND, q_rescan, &u);
    return u.bad;
}

/* ---- streamed answers ----------------------------------------------------- */

typedef struct {
    web_reply_t rep;
    size_t off; /* bytes of rep.body already sent */
} web_stream_t;

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max) {
    (void)pos;
    web_stream_t *s = cls;
    while (s->off == s->rep.body.n) {
        s->rep.body.n = 0;
        s->off = 0;
        int more = web_api_stream_more(&s->rep);
        if (more < 0) {
            /* the client sees its connection closed; say why here */
            fprintf(stderr, "mmbench serve: an answer was cut short after %ld rows: %s\n", s->rep.rows,
                    s->rep.body.oom ? "out of memory" : s->rep.db ? sqlite3_errmsg(s->rep.db) : "no database");
            return MHD_CONTENT_READER_END_WITH_ERROR;
        }
        if (more == 0 && s->rep.body.n == 0)
            return MHD_CONTENT_READER_END_OF_STREAM;
    }
    size_t n = s->rep.body.n - s->off;
    if (n > max)
        n = max;
    memcpy(buf, s->rep.body.p + s->off, n);
    s->off += n;
    return (ssize_t)n;
}

static void stream_free(void *cls) {
    web_stream_t *s = cls;
    web_reply_release(&s->rep);
    free(s);
}

static enum MHD_Result send_api(web_server_t *srv, struct MHD_Connection *c, const char *url, int head) {
    web_query_t q = {q_get, q_first_unknown, q_first_repeated, c};
    web_stream_t *s = calloc(1, sizeof *s);
    if (!s)
        return send_json(c, 500, "{\"error\":\"Out of memory.\"}\n");
    web_api_handle(srv->dbpath, url, &q, &s->rep);
    web_reply_t *rep = &s->rep;
    if (head && rep->stmt && rep->status == 200) {
        /* MHD 0.9.75 sends a terminating chunk after the headers of a HEAD
         * answer to a chunked response; answer HEAD from memory instead
         * (which also gives it the true Content-Length). */
        int more;
        while ((more = web_api_stream_more(rep)) > 0)
            ;
        if (more < 0) {
            web_reply_release(rep);
            web_reply_error(rep, 500, "The database cannot be read.");
        }
        if (rep->stmt) {
            sqlite3_finalize(rep->stmt);
            rep->stmt = NULL;
        }
    }
    const char *type = rep->status == 200 && rep->csv ? "text/csv; charset=utf-8" : "application/json; charset=utf-8";
    struct MHD_Response *r;
    if (rep->stmt && rep->status == 200) {
        r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, WEB_STREAM_BLOCK, stream_read, s, stream_free);
        if (!r) {
            stream_free(s);
            return MHD_NO;
        }
    } else {
        size_t n;
        char *body = web_buf_take(&rep->body, &n);
        r = MHD_create_response_from_buffer(n, body ? body : (void *)"", body ? MHD_RESPMEM_MUST_FREE
                                                                              : MHD_RESPMEM_PERSISTENT);
        if (!r)
            free(body);
        unsigned status = (unsigned)rep->status;
        web_reply_t keep = *rep;
        web_reply_release(rep);
        free(s);
        if (!r)
            return MHD_NO;
        rep = &keep; /* only csv/filename/status are read below */
        add_headers(r, type, "no-store");
        if (status == 200 && keep.csv && keep.filename[0]) {
            char disp[128];
            snprintf(disp, sizeof disp, "attachment; filename=\"%s\"", keep.filename);
            MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_DISPOSITION, disp);
        }
        enum MHD_Result ret = MHD_queue_response(c, status, r);
        MHD_destroy_response(r);
        return ret;
    }
    add_headers(r, type, "no-store");
    if (rep->csv && rep->filename[0]) {
        char disp[128];
        snprintf(disp, sizeof disp, "attachment; filename=\"%s\"", rep->filename);
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_DISPOSITION, disp);
    }
    enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_size,
                                  void **con_cls) {
    (void)version;
    (void)upload_data;
    web_server_t *srv = cls;
    /* Answer on the last call, once the whole request is in: libmicrohttpd
     * closes the connection after an answer queued on the first call (the
     * body might still be on its way), so every request would otherwise cost
     * a new connection and a pipelined one would be dropped.  A body, sent
     * with any method, is read and ignored. */
    static int request_seen;
    if (!*con_cls) {
        *con_cls = &request_seen;
        return MHD_YES;
    }
    if (*upload_size) {
        *upload_size = 0;
        return MHD_YES;
    }
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
        return send_json(c, MHD_HTTP_METHOD_NOT_ALLOWED, "{\"error\":\"Only GET and HEAD are allowed.\"}\n");
    /* the absolute form of the target ("GET http://host:port/api/health"),
     * which HTTP/1.1 servers must accept (RFC 9112 3.2.2): its path */
    if (strncasecmp(url, "http://", 7) == 0 || strncasecmp(url, "https://", 8) == 0) {
        const char *slash = strchr(strstr(url, "//") + 2, '/');
        url = slash ? slash : "/";
    }
    if (strlen(url) > WEB_URL_MAX)
        return send_json(c, MHD_HTTP_URI_TOO_LONG, "{\"error\":\"The request URL is too long.\"}\n");
    if (strncmp(url, "/api/", 5) == 0)
        return send_api(srv, c, url, strcmp(method, MHD_HTTP_METHOD_HEAD) == 0);
    const char *path = strcmp(url, "/") == 0 ? "/index.html" : url;
    for (size_t i = 0; i < web_asset_count; i++)
        if (strcmp(web_assets[i].path, path) == 0) {
            web_asset_resp_t *a = &srv->assets[i];
            const char *inm = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH);
            /* "*", the tag, or a list holding it (W/ is the weak form of it,
             * which If-None-Match compares alike); the quotes delimit it. */
            if (inm && (strcmp(inm, "*") == 0 || strstr(inm, a->etag)))
                return MHD_queue_response(c, MHD_HTTP_NOT_MODIFIED, a->full);
            return MHD_queue_response(c, MHD_HTTP_OK, a->full);
        }
    return send_json(c, MHD_HTTP_NOT_FOUND, "{\"error\":\"No such page.\"}\n");
}

/* Percent-decoding of the path and arguments, like MHD's own except that
 * %00 stays as it is: a decoded NUL would cut "/index.html%00.js" short to
 * an asset's path. */
static int hexval(int c) {
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static size_t unescape(void *cls, struct MHD_Connection *c, char *s) {
    (void)cls;
    (void)c;
    char *r = s, *w = s;
    while (*r) {
        if (r[0] == '%' && hexval((unsigned char)r[1]) >= 0 && hexval((unsigned char)r[2]) >= 0) {
            int v = hexval((unsigned char)r[1]) * 16 + hexval((unsigned char)r[2]);
            if (v != 0) {
                *w++ = (char)v;
                r += 3;
                continue;
            }
        }
        *w++ = *r++;
    }
    *w = '\0';
    return (size_t)(w - s);
}

/* libmicrohttpd's own messages (why it closed a connection, a request it
 * refused, a resource it ran out of): on stderr, one line each, named as
 * ours are, so that a client's dropped connection has a reason on record. */
static int mhd_log_on; /* off until started: a failed start says it once, ours */

static void mhd_log(void *cls, const char *fmt, va_list ap) {
    (void)cls;
    if (!__atomic_load_n(&mhd_log_on, __ATOMIC_RELAXED))
        return;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
        msg[--n] = '\0';
    fprintf(stderr, "mmbench serve: libmicrohttpd: %s\n", msg);
}

/* ---- the command ---------------------------------------------------------- */

static void usage(FILE *f) {
    fprintf(f, "usage: mmbench serve [--port=PORT] [--bind=ADDR] [--db=PATH]\n"
               "\n"
               "Serve the dashboard and its JSON API over the run database.\n"
               "  --port=PORT   TCP port (default %d; 0 picks a free port)\n"
               "  --bind=ADDR   IPv4 or IPv6 address to listen on (default 127.0.0.1)\n"
               "  --db=PATH     database (default $MMBENCH_DB or results/mmbench.db)\n"
               "  --help        print this help\n"
               "Stops on Ctrl-C (SIGINT) or SIGTERM.\n",
               WEB_PORT_DEFAULT);
}

int web_cmd_serve(int argc, char **argv) {
    const char *port_s = NULL, *bind_s = NULL, *db = NULL, *v;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return HX_EXIT_OK;
        } else if ((v = hx_opt(argc, argv, &i, "--port"))) {
            if (hx_opt_twice("serve", "--port", port_s, v, 0))
                return HX_EXIT_USAGE;
            port_s = v;
        } else if ((v = hx_opt(argc, argv, &i, "--bind"))) {
            if (hx_opt_twice("serve", "--bind", bind_s, v, 0))
                return HX_EXIT_USAGE;
            bind_s = v;
        } else if ((v = hx_opt(argc, argv, &i, "--db"))) {
            if (hx_opt_twice("serve", "--db", db, v, 0))
                return HX_EXIT_USAGE;
            db = v;
        } else if (strcmp(argv[i], "--port") == 0 || strcmp(argv[i], "--bind") == 0 || strcmp(argv[i], "--db") == 0) {
            fprintf(stderr, "mmbench serve: %s needs a value; see mmbench serve --help\n", argv[i]);
            return HX_EXIT_USAGE;
        } else if (argv[i][0] != '-') {
            fprintf(stderr, "mmbench serve: unexpected argument '%s'; serve takes only options "
                            "(see mmbench serve --help)\n", argv[i]);
            return HX_EXIT_USAGE;
        } else {
            fprintf(stderr, "mmbench serve: unknown option '%s'; see mmbench serve --help\n", argv[i]);
            return HX_EXIT_USAGE;
        }
    }
    if (!bind_s)
        bind_s = "127.0.0.1";
    uint64_t port = WEB_PORT_DEFAULT;
    /* Digits only: hx_parse_u64 would also take 8k or 1e3. */
    if (port_s && (!*port_s || strspn(port_s, "0123456789") != strlen(port_s) || hx_parse_u64(port_s, &port) ||
                   port > 65535)) {
        fprintf(stderr, "mmbench serve: --port must be a number from 0 to 65535, not '%s'\n", port_s);
        return HX_EXIT_USAGE;
    }
    struct sockaddr_in a4;
    struct sockaddr_in6 a6;
    memset(&a4, 0, sizeof a4);
    memset(&a6, 0, sizeof a6);
    unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
    const struct sockaddr *sa;
    int v6 = 0;
    if (inet_pton(AF_INET, bind_s, &a4.sin_addr) == 1) {
        a4.sin_family = AF_INET;
        a4.sin_port = htons((uint16_t)port);
        sa = (const struct sockaddr *)&a4;
    } else if (inet_pton(AF_INET6, bind_s, &a6.sin6_addr) == 1) {
        a6.sin6_family = AF_INET6;
        a6.sin6_port = htons((uint16_t)port);
        sa = (const struct sockaddr *)&a6;
        flags |= MHD_USE_IPv6;
        v6 = 1;
    } else {
        fprintf(stderr, "mmbench serve: --bind must be a numeric IPv4 or IPv6 address, not '%s'\n", bind_s);
        return HX_EXIT_USAGE;
    }
    if (!db)
        db = hx_default_db_path();
    if (access(db, F_OK) != 0) {
        fprintf(stderr, "mmbench serve: there is no database at %s; run 'mmbench run' first or pass --db=PATH\n",
                db);
        return HX_EXIT_USAGE;
    }
    char err[512];
    hx_store_t *store = NULL;
    /* the requests' read-only connections leave -wal and -shm files behind:
     * removed at the end when they were not there at the start */
    int tidy = hx_store_wal_absent(db);
    if (hx_store_open(db, 1, &store, err, sizeof err) != 0) {
        fprintf(stderr, "mmbench serve: %s\n", err);
        return HX_EXIT_USAGE;
    }
    hx_store_close(store); /* it was a check; requests open their own connections */

    web_server_t srv = {db, calloc(web_asset_count ? web_asset_count : 1, sizeof(web_asset_resp_t))};
    if (!srv.assets) {
        fprintf(stderr, "mmbench serve: out of memory\n");
        return 1;
    }
    for (size_t i = 0; i < web_asset_count; i++) {
        web_asset_resp_t *a = &srv.assets[i];
        uint64_t h = 0xcbf29ce484222325u; /* FNV-1a */
        for (size_t k = 0; k < web_assets[i].size; k++)
            h = (h ^ web_assets[i].data[k]) * 0x100000001b3u;
        snprintf(a->etag, sizeof a->etag, "\"%016llx\"", (unsigned long long)h);
        a->full = MHD_create_response_from_buffer(web_assets[i].size, (void *)web_assets[i].data,
                                                  MHD_RESPMEM_PERSISTENT);
        if (!a->full) {
            fprintf(stderr, "mmbench serve: out of memory\n");
            return 1;
        }
        add_headers(a->full, web_assets[i].type, "no-cache");
        MHD_add_response_header(a->full, MHD_HTTP_HEADER_ETAG, a->etag);
    }

    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct MHD_Daemon *d = MHD_start_daemon(
        flags, (uint16_t)port, NULL, NULL, on_request, &srv, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
        MHD_OPTION_SOCK_ADDR, sa,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)WEB_THREADS, MHD_OPTION_CONNECTION_LIMIT, (unsigned)WEB_CONN_LIMIT,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)WEB_CONN_TIMEOUT_S, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)WEB_CONN_MEMORY, MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL, MHD_OPTION_END);
    int rc = HX_EXIT_OK;
    if (!d) {
        fprintf(stderr, "mmbench serve: cannot listen on %s port %u: %s\n", bind_s, (unsigned)port,
                errno ? strerror(errno) : "unknown error");
        rc = HX_EXIT_USAGE;
    } else {
        __atomic_store_n(&mhd_log_on, 1, __ATOMIC_RELAXED);
        const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
        unsigned bound = info ? info->port : (unsigned)port;
        printf("mmbench serve: http://%s%s%s:%u/ (database %s); Ctrl-C to stop\n", v6 ? "[" : "", bind_s,
               v6 ? "]" : "", bound, db);
        fflush(stdout);
        int sig = 0;
        sigwait(&stop, &sig);
        MHD_stop_daemon(d);
        printf("mmbench serve: stopped (%s)\n", sig == SIGTERM ? "SIGTERM" : "SIGINT");
        fflush(stdout);
    }
    /* SIGINT/SIGTERM stay blocked: a second Ctrl-C must not kill us mid-cleanup. */
    for (size_t i = 0; i < web_asset_count; i++)
        MHD_destroy_response(srv.assets[i].full);
    free(srv.assets);
    if (tidy)
        hx_store_tidy(db);
    return rc;
}
