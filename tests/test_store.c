/*
 * test_store.c - the SQLite store, the JSON/CSV writers, and the show and
 * export commands: round trips, refusals that leave files untouched,
 * forward migration, pre-flight checks, and output that parses back.
 */
#include "harness/hx.h"
#include "harness/json.h"
#include "test.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- helpers ---------------------------------------------------------------- */

static char tmpdir[256];

static const char *path_in(char *buf, size_t len, const char *name) {
    snprintf(buf, len, "%s/%s", tmpdir, name);
    return buf;
}

static int exists(const char *p) { return access(p, F_OK) == 0; }

/* Contents of a file (NUL-terminated, malloc'd), or NULL. */
static char *slurp(const char *p, size_t *len) {
    FILE *f = fopen(p, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *b = malloc(cap);
    size_t k;
    while ((k = fread(b + n, 1, cap - n - 1, f)) > 0) {
        n += k;
        if (cap - n - 1 == 0)
            b = realloc(b, cap *= 2);
    }
    fclose(f);
    b[n] = '\0';
    if (len)
        *len = n;
    return b;
}

/* Fingerprint of a file: size, mtime and an FNV-1a hash of its bytes. */
typedef struct fp {
    size_t size;
    struct timespec mtime;
    uint64_t hash;
} fp_t;

static fp_t fingerprint(const char *p) {
    fp_t f = {0};
    struct stat sb;
    if (stat(p, &sb) == 0)
        f.mtime = sb.st_mtim;
    char *b = slurp(p, &f.size);
    f.hash = 1469598103934665603ull;
    for (size_t i = 0; b && i < f.size; i++)
        f.hash = (f.hash ^ (unsigned char)b[i]) * 1099511628211ull;
    free(b);
    return f;
}

static int same_fp(fp_t a, fp_t b) {
    return a.size == b.size && a.hash == b.hash && a.mtime.tv_sec == b.mtime.tv_sec &&
           a.mtime.tv_nsec == b.mtime.tv_nsec;
}

static void write_file(const char *p, const char *text) {
    FILE *f = fopen(p, "w");
    fputs(text, f);
    fclose(f);
}

static int sql_int(sqlite3 *db, const char *sql) {
    sqlite3_stmt *st;
    int v = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return v;
}

static const char *sql_text(sqlite3 *db, const char *sql, char *buf, size_t len) {
    sqlite3_stmt *st;
    buf[0] = '\0';
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        snprintf(buf, len, "%s", sqlite3_column_text(st, 0) ? (const char *)sqlite3_column_text(st, 0) : "");
    sqlite3_finalize(st);
    return buf;
}

/* A run with every part filled; some metrics NaN, a failure text that needs
 * quoting in CSV and escaping in JSON. */
static void make_run(hx_run_t *r, int rep) {
    hx_run_init(r);
    snprintf(r->sweep, sizeof r->sweep, "20250101T000000-abcd");
    r->rep = rep;
    snprintf(r->allocator, sizeof r->allocator, "bestfit");
    snprintf(r->allocator_version, sizeof r->allocator_version, "1.0");
    snprintf(r->workload, sizeof r->workload, "random");
    snprintf(r->status, sizeof r->status, "failed");
    snprintf(r->failure, sizeof r->failure, "child died, said \"out of memory\"\n(again)");
    r->signal = 11;
    r->exit_code = -1;
    snprintf(r->started_at, sizeof r->started_at, "2025-01-01T00:00:00Z");
    snprintf(r->finished_at, sizeof r->finished_at, "2025-01-01T00:00:01Z");
    snprintf(r->params.workload, sizeof r->params.workload, "random");
    r->params.ops = 100000;
    r->params.seed = 0xfedcba9876543210ull; /* above INT64_MAX */
    r->params.threads = 2;
    snprintf(r->params.sizes.text, sizeof r->params.sizes.text, "uniform:16:512");
    r->params.live = 1000;
    r->params.lifetime = WL_LIFE_FIFO;
    r->params.touch = WL_TOUCH_ALL;
    r->params.set = 0x7f;
    r->samples_requested = 5;
    r->stream_hash = 0x0123456789abcdefull;
    snprintf(r->host, sizeof r->host, "testhost");
    snprintf(r->mmbench_version, sizeof r->mmbench_version, "0.1.0");
    snprintf(r->git_rev, sizeof r->git_rev, "deadbeef");
    snprintf(r->machine, sizeof r->machine, "Test CPU, 2 CPUs, 8 GiB; L1d 32 KiB; Linux 6.1");
    snprintf(r->build, sizeof r->build, "RelWithDebInfo (-O2 -g), gcc 12.2.0");
    for (int i = 0; i < HX_METRIC_COUNT; i++)
        r->m[i] = (i % 3 == 2) ? NAN : 1000.0 * (i + 1) + (strcmp(hx_metric_info[i].sqltype, "REAL") ? 0 : 0.125);
    r->m[HX_M_wall_ns] = 123456789;
    r->m[HX_M_peak_live_bytes] = 3 * 1048576 / 2;
    r->m[HX_M_frag_jw1] = 0.1; /* not exact in binary: must round-trip */
    r->m[HX_M_frag_jw2] = NAN;
    r->nsamples = 5;
    r->samples = calloc(r->nsamples, sizeof *r->samples);
    for (size_t i = 0; i < r->nsamples; i++)
        for (int c = 0; c < HX_SAMPLE_COUNT; c++)
            r->samples[i].v[c] = (c == HX_S_rss_bytes && i == 1) ? NAN : (double)(i * 100 + (size_t)c);
    r->samples[2].v[HX_S_frag] = 0.3333333333333333;
    r->nblocks = 3;
    r->blocks = calloc(r->nblocks, sizeof *r->blocks);
    for (size_t i = 0; i < r->nblocks; i++)
        r->blocks[i] = (hx_block_t){.offset = i * 64, .size = 64, .used = i == 2 ? 0.5 : (double)(i & 1)};
    r->ncomp = 2;
    r->comp = calloc(r->ncomp, sizeof *r->comp);
    r->comp[0] = (hx_comp_t){"payload", "payload", 4096};
    r->comp[1] = (hx_comp_t){"free", "free 64-127 B", 128};
    r->ninfo = 2;
    r->info = calloc(r->ninfo, sizeof *r->info);
    r->info[0] = (hx_kv_t){"a.first", 42};
    r->info[1] = (hx_kv_t){"b.second", NAN};
}

static int same_num(double a, double b) { return (isnan(a) && isnan(b)) || a == b; }

/* Run cmd(argv) in a child with stdout and stderr captured; returns the exit
 * status and the outputs (malloc'd). */
static int run_cmd(int (*cmd)(int, char **), const char *const *args, char **out, char **errout) {
    char o[512], e[512];
    path_in(o, sizeof o, "cmd.out");
    path_in(e, sizeof e, "cmd.err");
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        int fo = open(o, O_WRONLY | O_CREAT | O_TRUNC, 0644), fe = open(e, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fo, 1);
        dup2(fe, 2);
        int argc = 0;
        char *argv[32];
        while (args[argc] && argc < 31) {
            argv[argc] = (char *)args[argc];
            argc++;
        }
        argv[argc] = NULL;
        int rc = cmd(argc, argv);
        fflush(stdout);
        fflush(stderr);
        exit(rc); /* not _exit: under ASan, the leak check covers the command */
    }
    int st = 0;
    waitpid(pid, &st, 0);
    *out = slurp(o, NULL);
    *errout = slurp(e, NULL);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* ---- a strict little JSON checker ------------------------------------------ */

static const char *js_ws(const char *p) {
    while (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')
        p++;
    return p;
}
static const char *js_value(const char *p, int depth);
static const char *js_string(const char *p) {
    if (*p++ != '"')
        return NULL;
    while (*p != '"') {
        if ((unsigned char)*p < 0x20)
            return NULL;
        if (*p == '\\') {
            p++;
            if (*p == 'u') {
                for (int i = 1; i <= 4; i++)
                    if (!isxdigit((unsigned char)p[i]))
                        return NULL;
                p += 4;
            } else if (!strchr("\"\\/bfnrt", *p)) {
                return NULL;
            }
        }
        p++;
    }
    return p + 1;
}
static const char *js_number(const char *p) {
    const char *s = p;
    if (*p == '-')
        p++;
    if (!isdigit((unsigned char)*p))
        return NULL;
    if (*p == '0' && isdigit((unsigned char)p[1]))
        return NULL;
    while (isdigit((unsigned char)*p))
        p++;
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p))
            return NULL;
        while (isdigit((unsigned char)*p))
            p++;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (!isdigit((unsigned char)*p))
            return NULL;
        while (isdigit((unsigned char)*p))
            p++;
    }
    return p > s ? p : NULL;
}
static const char *js_value(const char *p, int depth) {
    if (depth > 32)
        return NULL;
    p = js_ws(p);
    if (*p == '{' || *p == '[') {
        char close = *p == '{' ? '}' : ']';
        int obj = *p == '{';
        p = js_ws(p + 1);
        if (*p == close)
            return p + 1;
        for (;;) {
            if (obj) {
                if (!(p = js_string(js_ws(p))))
                    return NULL;
                p = js_ws(p);
                if (*p++ != ':')
                    return NULL;
            }
            if (!(p = js_value(p, depth + 1)))
                return NULL;
            p = js_ws(p);
            if (*p == close)
                return p + 1;
            if (*p++ != ',')
                return NULL;
        }
    }
    if (*p == '"')
        return js_string(p);
    if (!strncmp(p, "true", 4))
        return p + 4;
    if (!strncmp(p, "false", 5))
        return p + 5;
    if (!strncmp(p, "null", 4))
        return p + 4;
    return js_number(p);
}
/* 1 when text is exactly one JSON value (surrounding white space allowed). */
static int json_valid(const char *text) {
    const char *p = js_value(text, 0);
    return p && *js_ws(p) == '\0';
}

/* ---- a strict little RFC 4180 reader -------------------------------------- */

#define CSV_MAXF 128
typedef struct csv_row {
    int nf;
    char *f[CSV_MAXF];
} csv_row_t;

/* Parse one record at *p into row (fields malloc'd); 0 at end of input, -1
 * on a malformed record. */
static int csv_next(const char **pp, csv_row_t *row) {
    const char *p = *pp;
    row->nf = 0;
    if (!*p)
        return 0;
    for (;;) {
        char *buf = malloc(strlen(p) + 1);
        size_t n = 0;
        if (*p == '"') {
            p++;
            for (;;) {
                if (!*p) {
                    free(buf);
                    return -1;
                }
                if (*p == '"' && p[1] == '"') {
                    buf[n++] = '"';
                    p += 2;
                } else if (*p == '"') {
                    p++;
                    break;
                } else {
                    buf[n++] = *p++;
                }
            }
            if (*p != ',' && *p != '\n' && *p != '\0') {
                free(buf);
                return -1;
            }
        } else {
            while (*p && *p != ',' && *p != '\n') {
                if (*p == '"') {
                    free(buf);
                    return -1;
                }
                buf[n++] = *p++;
            }
        }
        buf[n] = '\0';
        if (row->nf < CSV_MAXF)
            row->f[row->nf++] = buf;
        else
            free(buf);
        if (*p == ',') {
            p++;
            continue;
        }
        if (*p == '\n')
            p++;
        *pp = p;
        return 1;
    }
}

static void csv_free(csv_row_t *row) {
    for (int i = 0; i < row->nf; i++)
        free(row->f[i]);
    row->nf = 0;
}

static int csv_col(const csv_row_t *header, const char *name) {
    for (int i = 0; i < header->nf; i++)
        if (!strcmp(header->f[i], name))
            return i;
    return -1;
}

/* A database with two stored runs (ids 1 and 2); returns its path. */
static const char *db_with_runs(char *buf, size_t len, const char *name) {
    path_in(buf, len, name);
    unlink(buf);
    hx_store_t *s;
    char err[256];
    if (hx_store_open(buf, 0, &s, err, sizeof err)) {
        printf("  cannot open %s: %s\n", buf, err);
        return buf;
    }
    for (int rep = 0; rep < 2; rep++) {
        hx_run_t r;
        make_run(&r, rep);
        if (rep == 1) {
            snprintf(r.status, sizeof r.status, "ok");
            r.failure[0] = '\0';
            r.signal = 0;
            r.exit_code = 0;
        }
        if (hx_store_insert_run(s, &r, err, sizeof err))
            printf("  cannot insert: %s\n", err);
        hx_run_release(&r);
    }
    hx_store_close(s);
    return buf;
}

/* ---- the store -------------------------------------------------------------- */

TEST(round_trip_keeps_every_field_and_nan_is_null) {
    char p[512], err[256];
    path_in(p, sizeof p, "new/dir/rt.db"); /* parent directories are created */
    hx_store_t *s;
    ASSERT_TRUE(hx_store_open(p, 0, &s, err, sizeof err) == 0);
    hx_run_t r, back;
    make_run(&r, 3);
    EXPECT_EQ(hx_store_insert_run(s, &r, err, sizeof err), 0);
    EXPECT_GT(r.id, 0);
    ASSERT_TRUE(hx_store_get_run(s, r.id, &back, err, sizeof err) == 0);

    EXPECT_EQ(back.id, r.id);
    EXPECT_STREQ(back.sweep, r.sweep);
    EXPECT_EQ(back.rep, 3);
    EXPECT_STREQ(back.allocator, r.allocator);
    EXPECT_STREQ(back.allocator_version, r.allocator_version);
    EXPECT_STREQ(back.workload, r.workload);
    EXPECT_STREQ(back.status, r.status);
    EXPECT_STREQ(back.failure, r.failure);
    EXPECT_EQ(back.signal, 11);
    EXPECT_EQ(back.exit_code, -1);
    EXPECT_STREQ(back.started_at, r.started_at);
    EXPECT_STREQ(back.finished_at, r.finished_at);
    EXPECT_EQ(back.params.ops, 100000);
    EXPECT_TRUE(back.params.seed == 0xfedcba9876543210ull);
    EXPECT_EQ(back.params.threads, 2);
    EXPECT_STREQ(back.params.sizes.text, "uniform:16:512");
    EXPECT_EQ(back.params.live, 1000);
    EXPECT_EQ(back.params.lifetime, WL_LIFE_FIFO);
    EXPECT_EQ(back.params.touch, WL_TOUCH_ALL);
    EXPECT_EQ(back.samples_requested, 5);
    EXPECT_TRUE(back.stream_hash == 0x0123456789abcdefull);
    EXPECT_STREQ(back.host, "testhost");
    EXPECT_STREQ(back.mmbench_version, "0.1.0");
    EXPECT_STREQ(back.git_rev, "deadbeef");
    EXPECT_STREQ(back.machine, "Test CPU, 2 CPUs, 8 GiB; L1d 32 KiB; Linux 6.1");
    EXPECT_STREQ(back.build, "RelWithDebInfo (-O2 -g), gcc 12.2.0");
    for (int i = 0; i < HX_METRIC_COUNT; i++)
        if (!same_num(back.m[i], r.m[i]))
            TEST_FAIL_AT("metric %s: %.17g vs %.17g", hx_metric_info[i].key, back.m[i], r.m[i]);
    ASSERT_TRUE(back.nsamples == r.nsamples);
    for (size_t i = 0; i < r.nsamples; i++)
        for (int c = 0; c < HX_SAMPLE_COUNT; c++)
            if (!same_num(back.samples[i].v[c], r.samples[i].v[c]))
                TEST_FAIL_AT("sample %zu %s", i, hx_sample_info[c].key);
    ASSERT_TRUE(back.nblocks == 3);
    EXPECT_EQ(back.blocks[2].offset, 128);
    EXPECT_EQ(back.blocks[2].size, 64);
    EXPECT_TRUE(back.blocks[2].used == 0.5 && back.blocks[1].used == 1.0);
    ASSERT_TRUE(back.ncomp == 2);
    EXPECT_STREQ(back.comp[1].category, "free");
    EXPECT_STREQ(back.comp[1].label, "free 64-127 B");
    EXPECT_TRUE(back.comp[0].bytes == 4096);
    ASSERT_TRUE(back.ninfo == 2);
    EXPECT_STREQ(back.info[0].key, "a.first");
    EXPECT_TRUE(back.info[0].value == 42);
    EXPECT_TRUE(isnan(back.info[1].value));

    /* In SQL: NaN is NULL, integers are INTEGER, the file is WAL, version 1. */
    sqlite3 *db = hx_store_db(s);
    char t[64];
    EXPECT_STREQ(sql_text(db, "SELECT typeof(frag_jw2) FROM runs", t, sizeof t), "null");
    EXPECT_STREQ(sql_text(db, "SELECT typeof(wall_ns) FROM runs", t, sizeof t), "integer");
    EXPECT_STREQ(sql_text(db, "SELECT typeof(exit_code) FROM runs", t, sizeof t), "null");
    EXPECT_STREQ(sql_text(db, "SELECT stream_hash FROM runs", t, sizeof t), "0123456789abcdef");
    EXPECT_STREQ(sql_text(db, "SELECT typeof(rss_bytes) FROM samples WHERE idx = 1", t, sizeof t), "null");
    EXPECT_STREQ(sql_text(db, "PRAGMA journal_mode", t, sizeof t), "wal");
    EXPECT_EQ(sql_int(db, "PRAGMA user_version"), HX_SCHEMA_VERSION);
    EXPECT_EQ(sql_int(db, "PRAGMA foreign_keys"), 1);
    EXPECT_EQ(sql_int(db, "SELECT count(*) FROM meta WHERE key = 'created_by'"), 1);

    hx_run_t missing;
    EXPECT_EQ(hx_store_get_run(s, 999, &missing, err, sizeof err), ENOENT);
    EXPECT_TRUE(strstr(err, "no run 999 in") != NULL);
    hx_run_release(&r);
    hx_run_release(&back);
    hx_store_close(s);

    /* Reopened read-only, the run is still there. */
    ASSERT_TRUE(hx_store_open(p, 1, &s, err, sizeof err) == 0);
    EXPECT_EQ(hx_store_get_run(s, 1, &back, err, sizeof err), 0);
    EXPECT_EQ(hx_store_insert_run(s, &back, err, sizeof err), EROFS);
    hx_run_release(&back);
    hx_store_close(s);
}

/* A file deleted or moved under an open store would take the run into the
 * unlinked inode, lost at close while the insert said it was stored. */
TEST(insert_into_a_deleted_file_is_refused) {
    char p[512], err[256];
    path_in(p, sizeof p, "deleted.db");
    unlink(p);
    hx_store_t *s;
    ASSERT_TRUE(hx_store_open(p, 0, &s, err, sizeof err) == 0);
    hx_run_t r;
    make_run(&r, 0);
    EXPECT_EQ(hx_store_insert_run(s, &r, err, sizeof err), 0);
    char side[600];
    unlink(p);
    snprintf(side, sizeof side, "%s-wal", p);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", p);
    unlink(side);
    r.id = 0;
    EXPECT_NE(hx_store_insert_run(s, &r, err, sizeof err), 0);
    EXPECT_TRUE(strstr(err, "deleted or moved during the sweep") != NULL);
    EXPECT_EQ(r.id, 0);
    hx_run_release(&r);
    hx_store_close(s);
}

/* A FIFO as the database: refused at once (reading its header blocked until
 * some writer opened it, forever) by every way of opening. */
TEST(fifo_path_is_refused_without_blocking) {
    char p[512], err[256];
    path_in(p, sizeof p, "db.fifo");
    unlink(p);
    ASSERT_TRUE(mkfifo(p, 0600) == 0);
    /* bytes waiting in it, so that a build without the check fails here
     * rather than blocking */
    int fd = open(p, O_RDWR | O_NONBLOCK);
    ASSERT_TRUE(fd >= 0);
    char junk[400];
    memset(junk, 'x', sizeof junk);
    EXPECT_EQ(write(fd, junk, sizeof junk), (ssize_t)sizeof junk);
    hx_store_t *s = NULL;
    EXPECT_EQ(hx_store_check_writable(p, err, sizeof err), EINVAL);
    EXPECT_TRUE(strstr(err, "is a FIFO, not a database file") != NULL);
    EXPECT_EQ(hx_store_open(p, 0, &s, err, sizeof err), EINVAL);
    EXPECT_EQ(hx_store_open(p, 1, &s, err, sizeof err), EINVAL);
    EXPECT_TRUE(s == NULL);
    close(fd);
    unlink(p);
}

TEST(failed_insert_rolls_back_everything) {
    char p[512], err[256];
    path_in(p, sizeof p, "rollback.db");
    hx_store_t *s;
    ASSERT_TRUE(hx_store_open(p, 0, &s, err, sizeof err) == 0);
    sqlite3 *db = hx_store_db(s);
    ASSERT_TRUE(sqlite3_exec(db, "CREATE TEMP TRIGGER no_free BEFORE INSERT ON composition "
                                 "WHEN NEW.category = 'free' BEGIN SELECT RAISE(ABORT, 'no free today'); END",
                             NULL, NULL, NULL) == SQLITE_OK);
    hx_run_t r;
    make_run(&r, 0);
    EXPECT_NE(hx_store_insert_run(s, &r, err, sizeof err), 0);
    EXPECT_TRUE(strstr(err, "no free today") != NULL);
    EXPECT_EQ(r.id, 0);
    EXPECT_EQ(sql_int(db, "SELECT count(*) FROM runs"), 0);
    EXPECT_EQ(sql_int(db, "SELECT count(*) FROM samples"), 0);
    EXPECT_EQ(sql_int(db, "SELECT count(*) FROM heap_blocks"), 0);
    /* The store stays usable. */
    sqlite3_exec(db, "DROP TRIGGER no_free", NULL, NULL, NULL);
    EXPECT_EQ(hx_store_insert_run(s, &r, err, sizeof err), 0);
    EXPECT_EQ(sql_int(db, "SELECT count(*) FROM composition"), 2);
    hx_run_release(&r);
    hx_store_close(s);
}

TEST(a_reader_does_not_block_the_writer) {
    char p[512], err[256];
    path_in(p, sizeof p, "concurrent.db");
    hx_store_t *w, *rd;
    ASSERT_TRUE(hx_store_open(p, 0, &w, err, sizeof err) == 0);
    hx_run_t r, back;
    make_run(&r, 0);
    EXPECT_EQ(hx_store_insert_run(w, &r, err, sizeof err), 0);
    ASSERT_TRUE(hx_store_open(p, 1, &rd, err, sizeof err) == 0);
    /* The reader holds a read transaction (as serve does mid-query). */
    sqlite3 *rdb = hx_store_db(rd);
    EXPECT_EQ(sqlite3_exec(rdb, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
    EXPECT_EQ(sql_int(rdb, "SELECT count(*) FROM runs"), 1);
    EXPECT_EQ(hx_store_insert_run(w, &r, err, sizeof err), 0);
    EXPECT_EQ(sql_int(rdb, "SELECT count(*) FROM runs"), 1); /* its snapshot */
    EXPECT_EQ(hx_store_get_run(rd, 1, &back, err, sizeof err), 0); /* inside the caller's transaction */
    hx_run_release(&back);
    EXPECT_EQ(sqlite3_exec(rdb, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    EXPECT_EQ(hx_store_get_run(rd, r.id, &back, err, sizeof err), 0);
    EXPECT_EQ(back.nsamples, 5);
    hx_run_release(&back);
    hx_run_release(&r);
    hx_store_close(rd);
    hx_store_close(w);
}

/* A second process creating the schema between two statements of an open:
 * every new connection gets a trace hook (sqlite3_auto_extension); on the
 * first connection, as its first "PRAGMA user_version" finishes, another
 * store opens the same file and creates the schema. */
static const char *race_path;
static int race_armed, race_fired, race_other_rc;

static int race_trace(unsigned type, void *ctx, void *p, void *x) {
    (void)ctx, (void)x;
    if (type != SQLITE_TRACE_PROFILE || !race_armed || strcmp(sqlite3_sql(p), "PRAGMA user_version") != 0)
        return 0;
    race_armed = 0;
    race_fired = 1;
    hx_store_t *other;
    char err[256];
    race_other_rc = hx_store_open(race_path, 0, &other, err, sizeof err);
    if (race_other_rc == 0)
        hx_store_close(other);
    else
        printf("  the other open failed: %s\n", err);
    return 0;
}

static int race_hook(sqlite3 *db, char **errmsg, const struct sqlite3_api_routines *api) {
    (void)errmsg, (void)api;
    if (race_armed && !race_fired)
        sqlite3_trace_v2(db, SQLITE_TRACE_PROFILE, race_trace, NULL);
    return SQLITE_OK;
}

TEST(open_while_another_process_creates_the_schema) {
    char p[512], err[256];
    path_in(p, sizeof p, "race.db");
    unlink(p);
    sqlite3 *db; /* an empty WAL database: new to both, and readers do not block a writer */
    ASSERT_TRUE(sqlite3_open(p, &db) == SQLITE_OK);
    char t[16];
    EXPECT_STREQ(sql_text(db, "PRAGMA journal_mode = WAL", t, sizeof t), "wal");
    sqlite3_close(db);
    race_path = p;
    race_armed = 1;
    race_fired = 0;
    ASSERT_TRUE(sqlite3_auto_extension((void (*)(void))race_hook) == SQLITE_OK);
    hx_store_t *s;
    int rc = hx_store_open(p, 0, &s, err, sizeof err);
    sqlite3_cancel_auto_extension((void (*)(void))race_hook);
    race_armed = 0;
    EXPECT_TRUE(race_fired);
    EXPECT_EQ(race_other_rc, 0);
    if (rc != 0)
        TEST_FAIL_AT("open failed: %s", err);
    ASSERT_TRUE(rc == 0);
    hx_run_t r;
    make_run(&r, 0);
    EXPECT_EQ(hx_store_insert_run(s, &r, err, sizeof err), 0);
    hx_run_release(&r);
    hx_store_close(s);
}

TEST(newer_schema_is_refused_and_untouched) {
    char p[512], err[256];
    path_in(p, sizeof p, "newer.db");
    unlink(p);
    sqlite3 *db;
    ASSERT_TRUE(sqlite3_open(p, &db) == SQLITE_OK);
    sqlite3_exec(db, "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT); CREATE TABLE runs (id INTEGER PRIMARY KEY);"
                     "PRAGMA user_version = 3",
                 NULL, NULL, NULL);
    sqlite3_close(db);
    fp_t before = fingerprint(p);
    hx_store_t *s = NULL;
    EXPECT_NE(hx_store_open(p, 0, &s, err, sizeof err), 0);
    EXPECT_TRUE(s == NULL);
    char want[600];
    snprintf(want, sizeof want,
             "%s has schema version 3, newer than this mmbench understands (1); use a newer mmbench", p);
    EXPECT_STREQ(err, want);
    EXPECT_NE(hx_store_open(p, 1, &s, err, sizeof err), 0);
    EXPECT_NE(hx_store_check_writable(p, err, sizeof err), 0);
    EXPECT_STREQ(err, want);
    EXPECT_TRUE(same_fp(before, fingerprint(p)));
    char side[600];
    snprintf(side, sizeof side, "%s-wal", p);
    EXPECT_TRUE(!exists(side));
    snprintf(side, sizeof side, "%s-journal", p);
    EXPECT_TRUE(!exists(side));
}

TEST(not_a_database_is_refused_and_untouched) {
    char p[512], q[512], err[256];
    path_in(p, sizeof p, "notes.txt");
    write_file(p, "these are my notes, not a database; please do not overwrite them.\n"
                  "0123456789012345678901234567890123456789012345678901234567890123456789\n");
    fp_t before = fingerprint(p);
    hx_store_t *s = NULL;
    EXPECT_EQ(hx_store_open(p, 0, &s, err, sizeof err), EINVAL);
    EXPECT_TRUE(strstr(err, "is not an SQLite database") != NULL);
    EXPECT_NE(hx_store_check_writable(p, err, sizeof err), 0);
    EXPECT_NE(hx_store_open(p, 1, &s, err, sizeof err), 0);
    EXPECT_TRUE(same_fp(before, fingerprint(p)));

    /* An SQLite database of some other program. */
    path_in(q, sizeof q, "other.sqlite");
    unlink(q);
    sqlite3 *db;
    ASSERT_TRUE(sqlite3_open(q, &db) == SQLITE_OK);
    sqlite3_exec(db, "CREATE TABLE contacts (name TEXT); INSERT INTO contacts VALUES ('ada')", NULL, NULL, NULL);
    sqlite3_close(db);
    before = fingerprint(q);
    EXPECT_EQ(hx_store_open(q, 0, &s, err, sizeof err), EINVAL);
    EXPECT_TRUE(strstr(err, "not an mmbench database") != NULL);
    EXPECT_NE(hx_store_check_writable(q, err, sizeof err), 0);
    EXPECT_TRUE(strstr(err, "not an mmbench database") != NULL);
    EXPECT_TRUE(same_fp(before, fingerprint(q)));

    /* A damaged mmbench database (cut short inside its first page): refused
     * with SQLite's reason, untouched. */
    char d[512], side[600];
    db_with_runs(d, sizeof d, "damaged.db");
    ASSERT_TRUE(truncate(d, 3000) == 0);
    before = fingerprint(d);
    EXPECT_NE(hx_store_check_writable(d, err, sizeof err), 0);
    EXPECT_TRUE(strstr(err, "malformed") != NULL);
    EXPECT_NE(hx_store_open(d, 0, &s, err, sizeof err), 0);
    EXPECT_TRUE(strstr(err, "malformed") != NULL);
    EXPECT_TRUE(same_fp(before, fingerprint(d)));
    snprintf(side, sizeof side, "%s-wal", d);
    EXPECT_TRUE(!exists(side));

    /* A directory. */
    EXPECT_EQ(hx_store_open(tmpdir, 0, &s, err, sizeof err), EISDIR);
}

TEST(readonly_open_of_an_empty_file_says_it_is_empty) {
    char p[512], err[1400];
    path_in(p, sizeof p, "empty0.db");
    FILE *f = fopen(p, "w");
    EXPECT_TRUE(f != NULL);
    if (f)
        fclose(f);
    hx_store_t *s = NULL;
    EXPECT_EQ(hx_store_open(p, 1, &s, err, sizeof err), ENOENT);
    char want[1400];
    snprintf(want, sizeof want, "%s is empty, not a database yet; `mmbench run --db=%s` stores runs in it", p, p);
    EXPECT_STREQ(err, want);
    struct stat sb;
    EXPECT_TRUE(stat(p, &sb) == 0 && sb.st_size == 0); /* left as it was */
}

TEST(readonly_open_of_a_missing_file_creates_nothing) {
    char p[512], err[256];
    path_in(p, sizeof p, "nowhere/missing.db");
    hx_store_t *s = NULL;
    EXPECT_EQ(hx_store_open(p, 1, &s, err, sizeof err), ENOENT);
    char want[600];
    snprintf(want, sizeof want, "no database at %s; run `mmbench run` first", p);
    EXPECT_STREQ(err, want);
    EXPECT_TRUE(!exists(p));
    path_in(p, sizeof p, "nowhere");
    EXPECT_TRUE(!exists(p));
}

/* Build by hand a version-1 file made by an older build that lacked the last
 * metric (holes_per_live) and the last sample column (frag). */
static void make_old_db(const char *p) {
    unlink(p);
    sqlite3 *db;
    sqlite3_open(p, &db);
    char sql[8192];
    size_t n = (size_t)snprintf(sql, sizeof sql,
                                "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);"
                                "INSERT INTO meta VALUES ('created_by', 'mmbench 0.0.1');"
                                "CREATE TABLE runs (id INTEGER PRIMARY KEY, sweep TEXT NOT NULL, rep INTEGER NOT NULL,"
                                " allocator TEXT NOT NULL, allocator_version TEXT, workload TEXT NOT NULL,"
                                " status TEXT NOT NULL, failure TEXT, signal INTEGER, exit_code INTEGER,"
                                " started_at TEXT NOT NULL, finished_at TEXT, ops INTEGER, seed INTEGER,"
                                " threads INTEGER, sizes TEXT, live INTEGER, lifetime TEXT, touch TEXT, trace TEXT,"
                                " samples_requested INTEGER, stream_hash TEXT, params TEXT, host TEXT,"
                                " mmbench_version TEXT, git_rev TEXT");
    for (int i = 0; i < HX_METRIC_COUNT - 1; i++)
        n += (size_t)snprintf(sql + n, sizeof sql - n, ", %s %s", hx_metric_info[i].key, hx_metric_info[i].sqltype);
    n += (size_t)snprintf(sql + n, sizeof sql - n,
                          ");CREATE TABLE samples (run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
                          " idx INTEGER NOT NULL");
    for (int i = 0; i < HX_SAMPLE_COUNT - 1; i++)
        n += (size_t)snprintf(sql + n, sizeof sql - n, ", %s %s", hx_sample_info[i].key, hx_sample_info[i].sqltype);
    snprintf(sql + n, sizeof sql - n,
             ", PRIMARY KEY (run_id, idx)) WITHOUT ROWID;"
             "INSERT INTO runs (sweep, rep, allocator, workload, status, started_at, wall_ns, lifetime, touch)"
             " VALUES ('old', 0, 'firstfit', 'ramp', 'ok', '2024-01-01T00:00:00Z', 777, 'lifo', 'none');"
             "INSERT INTO samples (run_id, idx, op_index) VALUES (1, 0, 10);"
             "PRAGMA user_version = 1;");
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        printf("  make_old_db: %s\n", msg);
    sqlite3_free(msg);
    sqlite3_close(db);
}

TEST(older_file_gains_new_columns_and_old_rows_read_null) {
    char p[512], err[256];
    path_in(p, sizeof p, "old.db");
    make_old_db(p);
    const char *last_metric = hx_metric_info[HX_METRIC_COUNT - 1].key;

    /* Read-only: no migration, the missing column reads NaN. */
    hx_store_t *s;
    hx_run_t r;
    fp_t before = fingerprint(p);
    ASSERT_TRUE(hx_store_open(p, 1, &s, err, sizeof err) == 0);
    ASSERT_TRUE(hx_store_get_run(s, 1, &r, err, sizeof err) == 0);
    EXPECT_TRUE(r.m[HX_M_wall_ns] == 777);
    EXPECT_TRUE(isnan(r.m[HX_METRIC_COUNT - 1]));
    EXPECT_EQ(r.params.lifetime, WL_LIFE_LIFO);
    ASSERT_TRUE(r.nsamples == 1);
    EXPECT_TRUE(r.samples[0].v[HX_S_op_index] == 10);
    EXPECT_TRUE(isnan(r.samples[0].v[HX_SAMPLE_COUNT - 1]));
    EXPECT_STREQ(r.machine, ""); /* not recorded then */
    EXPECT_STREQ(r.build, "");
    hx_run_release(&r);
    hx_store_close(s);
    EXPECT_TRUE(same_fp(before, fingerprint(p)));

    EXPECT_EQ(hx_store_check_writable(p, err, sizeof err), 0);
    ASSERT_TRUE(hx_store_open(p, 0, &s, err, sizeof err) == 0);
    sqlite3 *db = hx_store_db(s);
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM pragma_table_info('runs') WHERE name = '%s'", last_metric);
    EXPECT_EQ(sql_int(db, sql), 1);
    EXPECT_EQ(sql_int(db, "SELECT count(*) FROM pragma_table_info('samples') WHERE name = 'frag'"), 1);
    EXPECT_EQ(sql_int(db, "SELECT count(*) FROM pragma_table_info('runs') WHERE name IN ('machine', 'build')"), 2);
    EXPECT_EQ(sql_int(db, "SELECT count(*) FROM sqlite_master WHERE name = 'heap_blocks'"), 1);
    ASSERT_TRUE(hx_store_get_run(s, 1, &r, err, sizeof err) == 0);
    EXPECT_TRUE(isnan(r.m[HX_METRIC_COUNT - 1]));
    EXPECT_STREQ(r.allocator, "firstfit");
    hx_run_release(&r);
    make_run(&r, 0);
    EXPECT_EQ(hx_store_insert_run(s, &r, err, sizeof err), 0);
    EXPECT_EQ(r.id, 2);
    hx_run_release(&r);
    hx_store_close(s);
}

TEST(check_writable_says_before_anything_is_created) {
    char p[512], err[256];
    EXPECT_EQ(hx_store_check_writable("/etc/passwd/x.db", err, sizeof err), ENOTDIR);
    EXPECT_TRUE(strstr(err, "/etc/passwd is not a directory") != NULL);

    /* Missing parents are fine (open creates them) and are not created here. */
    path_in(p, sizeof p, "later/deeper/x.db");
    EXPECT_EQ(hx_store_check_writable(p, err, sizeof err), 0);
    path_in(p, sizeof p, "later");
    EXPECT_TRUE(!exists(p));

    /* A file in the way of a parent directory. */
    char f[512];
    path_in(f, sizeof f, "plainfile");
    write_file(f, "x");
    path_in(p, sizeof p, "plainfile/sub/x.db");
    EXPECT_EQ(hx_store_check_writable(p, err, sizeof err), ENOTDIR);

    EXPECT_EQ(hx_store_check_writable(tmpdir, err, sizeof err), EISDIR);

    /* A good existing database: accepted, and no -wal/-shm left behind. */
    char db[512], side[600];
    db_with_runs(db, sizeof db, "good.db");
    snprintf(side, sizeof side, "%s-wal", db);
    EXPECT_TRUE(!exists(side));
    fp_t before = fingerprint(db);
    EXPECT_EQ(hx_store_check_writable(db, err, sizeof err), 0);
    EXPECT_TRUE(!exists(side));
    snprintf(side, sizeof side, "%s-shm", db);
    EXPECT_TRUE(!exists(side));
    EXPECT_TRUE(same_fp(before, fingerprint(db)));

    /* An empty file is a new database. */
    path_in(p, sizeof p, "empty.db");
    write_file(p, "");
    EXPECT_EQ(hx_store_check_writable(p, err, sizeof err), 0);

    /* With a writer holding the database open, still fine. */
    hx_store_t *s;
    ASSERT_TRUE(hx_store_open(db, 0, &s, err, sizeof err) == 0);
    EXPECT_EQ(hx_store_check_writable(db, err, sizeof err), 0);
    hx_store_close(s);
}

TEST(default_db_path_follows_the_environment) {
    unsetenv("MMBENCH_DB");
    EXPECT_STREQ(hx_default_db_path(), "results/mmbench.db");
    setenv("MMBENCH_DB", "/tmp/elsewhere.db", 1);
    EXPECT_STREQ(hx_default_db_path(), "/tmp/elsewhere.db");
    setenv("MMBENCH_DB", "", 1);
    EXPECT_STREQ(hx_default_db_path(), "results/mmbench.db");
    unsetenv("MMBENCH_DB");
}

/* ---- writers ---------------------------------------------------------------- */

/* Latency percentiles (hx_percentile): the nearest rank, v[ceil(q n) - 1],
 * and no figure where the values are too few for the rank to fall below
 * the largest: a p99.9 of 781 timed requests was stored, and it was their
 * maximum. */
TEST(percentile_is_the_nearest_rank_and_null_when_too_few) {
    static uint64_t v[4000];
    for (uint64_t i = 0; i < 4000; i++)
        v[i] = 10 * (i + 1); /* sorted; rank k holds 10 k */
    EXPECT_TRUE(isnan(hx_percentile(v, 0, 500)));
    EXPECT_TRUE(isnan(hx_percentile(v, 1, 500)));
    EXPECT_EQ(hx_percentile(v, 2, 500), 10);
    EXPECT_EQ(hx_percentile(v, 3, 500), 20);
    EXPECT_TRUE(isnan(hx_percentile(v, 99, 990)));
    EXPECT_EQ(hx_percentile(v, 100, 990), 990);
    EXPECT_EQ(hx_percentile(v, 101, 990), 1000); /* ceil(99.99) = 100 */
    EXPECT_TRUE(isnan(hx_percentile(v, 781, 999)));
    EXPECT_TRUE(isnan(hx_percentile(v, 999, 999)));
    EXPECT_EQ(hx_percentile(v, 1000, 999), 9990);
    EXPECT_EQ(hx_percentile(v, 1001, 999), 10000); /* ceil(999.999) = 1000 */
    /* a run's 3904 timed requests, checked by hand against its dump */
    EXPECT_EQ(hx_percentile(v, 3904, 500), 19520);
    EXPECT_EQ(hx_percentile(v, 3904, 990), 38650);
    EXPECT_EQ(hx_percentile(v, 3904, 999), 39010);
    /* exact ranks where q n is an integer, for every n up to 4000 */
    for (uint64_t n = 1; n <= 4000; n++) {
        if (n % 2 == 0 && hx_percentile(v, n, 500) != (double)(10 * (n / 2)))
            TEST_FAIL_AT("p50 of %" PRIu64 " values", n);
        if (n % 100 == 0 && hx_percentile(v, n, 990) != (double)(10 * (n / 100 * 99)))
            TEST_FAIL_AT("p99 of %" PRIu64 " values", n);
        if (n % 1000 == 0 && hx_percentile(v, n, 999) != (double)(10 * (n / 1000 * 999)))
            TEST_FAIL_AT("p99.9 of %" PRIu64 " values", n);
        /* never the largest value, when there is a figure at all */
        if (!isnan(hx_percentile(v, n, 999)) && hx_percentile(v, n, 999) >= (double)(10 * n))
            TEST_FAIL_AT("p99.9 of %" PRIu64 " values is their maximum", n);
    }
}

TEST(json_escapes_and_numbers) {
    char b[64];
    EXPECT_EQ(hx_json_escape(b, sizeof b, "a\"b\\c\n\x01"), 17);
    EXPECT_STREQ(b, "\"a\\\"b\\\\c\\n\\u0001\"");
    EXPECT_EQ(hx_json_escape(b, 4, "abcdef"), 8); /* truncated, still terminated */
    EXPECT_STREQ(b, "\"ab");
    EXPECT_TRUE(hx_num_format(b, sizeof b, 123456789.0, 1) && !strcmp(b, "123456789"));
    EXPECT_TRUE(hx_num_format(b, sizeof b, 0.1, 0) && !strcmp(b, "0.1"));
    EXPECT_TRUE(hx_num_format(b, sizeof b, 1.0 / 3, 0) && strtod(b, NULL) == 1.0 / 3);
    EXPECT_TRUE(hx_num_format(b, sizeof b, 1e300, 1) && strtod(b, NULL) == 1e300);
    EXPECT_TRUE(hx_num_format(b, sizeof b, 2.5, 1) && !strcmp(b, "2.5"));
    EXPECT_TRUE(!hx_num_format(b, sizeof b, NAN, 0) && !strcmp(b, ""));
    EXPECT_TRUE(!hx_num_format(b, sizeof b, INFINITY, 1));
}

TEST(run_json_is_one_valid_line_with_every_metric) {
    hx_run_t r;
    make_run(&r, 0);
    r.id = 7;
    r.m[HX_M_ns_per_op] = INFINITY;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    hx_run_write_json(f, &r);
    fclose(f);
    ASSERT_TRUE(buf && len > 0);
    EXPECT_TRUE(buf[len - 1] == '\n');
    EXPECT_TRUE(strchr(buf, '\n') == buf + len - 1);
    EXPECT_TRUE(json_valid(buf));
    EXPECT_TRUE(strstr(buf, "{\"run_id\":7,") == buf);
    EXPECT_TRUE(strstr(buf, "\"frag_jw2\":null") != NULL);
    EXPECT_TRUE(strstr(buf, "\"ns_per_op\":null") != NULL);
    EXPECT_TRUE(strstr(buf, "\"wall_ns\":123456789,") != NULL);
    EXPECT_TRUE(strstr(buf, "\"frag_jw1\":0.1,") != NULL);
    EXPECT_TRUE(strstr(buf, "\"failure\":\"child died, said \\\"out of memory\\\"\\n(again)\"") != NULL);
    EXPECT_TRUE(strstr(buf, "\"params\":{") != NULL);
    for (int i = 0; i < HX_METRIC_COUNT; i++) {
        char key[80];
        snprintf(key, sizeof key, "\"%s\":", hx_metric_info[i].key);
        if (!strstr(buf, key))
            TEST_FAIL_AT("no %s", key);
    }
    free(buf);

    /* ok runs say failure null; with arrays still valid. */
    snprintf(r.status, sizeof r.status, "ok");
    r.failure[0] = '\0';
    buf = NULL;
    f = open_memstream(&buf, &len);
    hx_run_write_json_ex(f, &r, HX_JSON_ARRAYS);
    fclose(f);
    EXPECT_TRUE(json_valid(buf));
    EXPECT_TRUE(strstr(buf, "\"failure\":null") != NULL);
    EXPECT_TRUE(strstr(buf, "\"samples\":[{\"idx\":0,") != NULL);
    EXPECT_TRUE(strstr(buf, "\"run_info\":{\"a.first\":42,\"b.second\":null}") != NULL);
    free(buf);
    hx_run_release(&r);
}

/* ---- show ------------------------------------------------------------------- */

TEST(show_prints_a_report_with_units) {
    char db[512], dbopt[600];
    db_with_runs(db, sizeof db, "show.db");
    snprintf(dbopt, sizeof dbopt, "--db=%s", db);
    char *out, *err;
    const char *a1[] = {"show", "1", dbopt, NULL};
    EXPECT_EQ(run_cmd(hx_cmd_show, a1, &out, &err), 0);
    EXPECT_TRUE(strstr(out, "bestfit 1.0 on random") != NULL);
    EXPECT_STREQ(err, ""); /* under ASan: no leak report either */
    EXPECT_TRUE(strstr(out, "Peak live bytes") != NULL);
    EXPECT_TRUE(strstr(out, "1.50 MiB (1572864 B)") != NULL);
    EXPECT_TRUE(strstr(out, "123.457 ms (123456789 ns)") != NULL);
    EXPECT_TRUE(strstr(out, "n/a") != NULL);
    EXPECT_TRUE(strstr(out, "out of memory") != NULL);
    EXPECT_TRUE(strstr(out, "Samples: 5") != NULL);
    EXPECT_TRUE(strstr(out, "repetition 1 (rep 0 in export") != NULL); /* counted from 1, as run prints it */
    EXPECT_TRUE(strstr(out, "free 64-127 B") != NULL);
    EXPECT_TRUE(strstr(out, "a.first") != NULL);
    for (int i = 0; i < HX_METRIC_COUNT; i++)
        if (!strstr(out, hx_metric_info[i].label))
            TEST_FAIL_AT("no label %s", hx_metric_info[i].label);
    /* every metric's value starts in one column, after the widest label */
    size_t lw = 0;
    for (int i = 0; i < HX_METRIC_COUNT; i++)
        lw = strlen(hx_metric_info[i].label) > lw ? strlen(hx_metric_info[i].label) : lw;
    const char *mline = strstr(out, "\nMetrics\n");
    ASSERT_TRUE(mline != NULL);
    mline += 9;
    for (int i = 0; i < HX_METRIC_COUNT; i++, mline = strchr(mline, '\n') + 1) {
        if (strncmp(mline + 2, hx_metric_info[i].label, strlen(hx_metric_info[i].label)) ||
            mline[2 + lw] != ' ' || mline[3 + lw] == ' ')
            TEST_FAIL_AT("metric %s: its value does not start in column %zu", hx_metric_info[i].key, 3 + lw);
    }
    /* a time from clock ticks is shown to a tenth of a ns, not to 17 digits
     * (make_run's REAL metrics are 1000 (i + 1) + 0.125) */
    int tenths = 0;
    for (int i = 0; i < HX_METRIC_COUNT; i++) {
        char want[64];
        if (strcmp(hx_metric_info[i].unit, "ns") || strcmp(hx_metric_info[i].sqltype, "REAL") || i % 3 == 2)
            continue;
        snprintf(want, sizeof want, "(%.1f ns)", 1000.0 * (i + 1) + 0.125);
        if (!strstr(out, want))
            TEST_FAIL_AT("metric %s: no %s", hx_metric_info[i].key, want);
        tenths++;
    }
    EXPECT_GT(tenths, 0);
    free(out);
    free(err);

    const char *a2[] = {"show", "--json", "--db", db, "2", NULL};
    EXPECT_EQ(run_cmd(hx_cmd_show, a2, &out, &err), 0);
    EXPECT_TRUE(json_valid(out));
    EXPECT_TRUE(strstr(out, "\"run_id\":2,") != NULL);
    EXPECT_TRUE(strstr(out, "\"samples\":[") != NULL);
    free(out);
    free(err);
}

TEST(show_errors_are_one_sentence_and_exit_2) {
    char db[512], dbopt[600], missing[600];
    db_with_runs(db, sizeof db, "show_err.db");
    snprintf(dbopt, sizeof dbopt, "--db=%s", db);
    char *out, *err, want[700];

    const char *a1[] = {"show", "42", dbopt, NULL};
    EXPECT_EQ(run_cmd(hx_cmd_show, a1, &out, &err), 2);
    snprintf(want, sizeof want, "mmbench show: no run 42 in %s\n", db);
    EXPECT_STREQ(err, want);
    EXPECT_STREQ(out, "");
    free(out);
    free(err);

    const char *bad_ids[] = {"abc", "-3", "0", "00", "1x", "+1"};
    for (size_t i = 0; i < sizeof bad_ids / sizeof bad_ids[0]; i++) {
        const char *a[] = {"show", bad_ids[i], dbopt, NULL};
        EXPECT_EQ(run_cmd(hx_cmd_show, a, &out, &err), 2);
        EXPECT_TRUE(strstr(err, "RUN_ID must be a positive integer") != NULL);
        free(out);
        free(err);
    }
    /* a positive integer beyond the 64-bit ids is called out of range */
    const char *a_huge[] = {"show", "99999999999999999999", dbopt, NULL};
    EXPECT_EQ(run_cmd(hx_cmd_show, a_huge, &out, &err), 2);
    EXPECT_STREQ(err, "mmbench show: RUN_ID 99999999999999999999 is out of range; run ids go from 1 to "
                      "9223372036854775807\n");
    free(out);
    free(err);

    path_in(missing, sizeof missing, "absent.db");
    const char *a3[] = {"show", "1", "--db", missing, NULL};
    EXPECT_EQ(run_cmd(hx_cmd_show, a3, &out, &err), 2);
    snprintf(want, sizeof want, "mmbench show: no database at %s; run `mmbench run` first\n", missing);
    EXPECT_STREQ(err, want);
    EXPECT_TRUE(!exists(missing));
    free(out);
    free(err);

    const char *a4[] = {"show", "--bogus", NULL};
    EXPECT_EQ(run_cmd(hx_cmd_show, a4, &out, &err), 2);
    EXPECT_STREQ(err, "mmbench show: unknown option '--bogus'; see mmbench show --help\n");
    free(out);
    free(err);

    const char *a5[] = {"show", "--help", NULL};
    EXPECT_EQ(run_cmd(hx_cmd_show, a5, &out, &err), 0);
    EXPECT_TRUE(strstr(out, "usage: mmbench show") == out);
    free(out);
    free(err);

    const char *a6[] = {"show", NULL};
    EXPECT_EQ(run_cmd(hx_cmd_show, a6, &out, &err), 2);
    free(out);
    free(err);
}

/* ---- export ----------------------------------------------------------------- */

TEST(export_csv_is_tidy_and_parses_back) {
    char db[512], dbopt[600];
    db_with_runs(db, sizeof db, "export.db");
    snprintf(dbopt, sizeof dbopt, "--db=%s", db);
    char *out, *err;
    const char *a1[] = {"export", dbopt, NULL};
    ASSERT_TRUE(run_cmd(hx_cmd_export, a1, &out, &err) == 0);
    EXPECT_STREQ(err, "");

    const char *p = out;
    csv_row_t header, row;
    ASSERT_TRUE(csv_next(&p, &header) == 1);
    EXPECT_EQ(header.nf, 27 + HX_METRIC_COUNT);
    EXPECT_STREQ(header.f[0], "run_id");
    EXPECT_STREQ(header.f[8], "signal");
    EXPECT_STREQ(header.f[9], "exit_code");
    EXPECT_STREQ(header.f[24], "git_rev");
    EXPECT_STREQ(header.f[25], "machine");
    EXPECT_STREQ(header.f[26], "build");
    EXPECT_STREQ(header.f[27], hx_metric_info[0].key);
    int nrows = 0, rc;
    while ((rc = csv_next(&p, &row)) == 1) {
        nrows++;
        EXPECT_EQ(row.nf, header.nf);
        if (nrows == 1 && row.nf == header.nf) {
            EXPECT_STREQ(row.f[csv_col(&header, "failure")], "child died, said \"out of memory\"\n(again)");
            EXPECT_STREQ(row.f[csv_col(&header, "signal")], "11"); /* killed: no exit status */
            EXPECT_STREQ(row.f[csv_col(&header, "exit_code")], "");
            EXPECT_STREQ(row.f[csv_col(&header, "seed")], "18364758544493064720");
            EXPECT_STREQ(row.f[csv_col(&header, "lifetime")], "fifo");
            EXPECT_STREQ(row.f[csv_col(&header, "stream_hash")], "0123456789abcdef");
            EXPECT_STREQ(row.f[csv_col(&header, "wall_ns")], "123456789");
            EXPECT_STREQ(row.f[csv_col(&header, "frag_jw1")], "0.1");
            EXPECT_STREQ(row.f[csv_col(&header, "frag_jw2")], "");
            EXPECT_STREQ(row.f[csv_col(&header, "machine")], "Test CPU, 2 CPUs, 8 GiB; L1d 32 KiB; Linux 6.1");
            EXPECT_STREQ(row.f[csv_col(&header, "build")], "RelWithDebInfo (-O2 -g), gcc 12.2.0");
        }
        if (nrows == 2 && row.nf == header.nf) {
            EXPECT_STREQ(row.f[csv_col(&header, "failure")], "");
            EXPECT_STREQ(row.f[csv_col(&header, "signal")], "");
            EXPECT_STREQ(row.f[csv_col(&header, "exit_code")], "0");
        }
        csv_free(&row);
    }
    EXPECT_EQ(rc, 0);
    EXPECT_EQ(nrows, 2);
    csv_free(&header);
    free(out);
    free(err);

    /* Samples: one row per sample. */
    const char *a2[] = {"export", "--samples", "--runs=2", dbopt, NULL};
    ASSERT_TRUE(run_cmd(hx_cmd_export, a2, &out, &err) == 0);
    p = out;
    ASSERT_TRUE(csv_next(&p, &header) == 1);
    EXPECT_EQ(header.nf, 5 + HX_SAMPLE_COUNT);
    EXPECT_STREQ(header.f[4], "idx");
    nrows = 0;
    while ((rc = csv_next(&p, &row)) == 1) {
        EXPECT_EQ(row.nf, header.nf);
        EXPECT_STREQ(row.f[0], "2");
        nrows++;
        csv_free(&row);
    }
    EXPECT_EQ(nrows, 5);
    csv_free(&header);
    free(out);
    free(err);
}

static int count_char(const char *s, char c) {
    int n = 0;
    for (; *s; s++)
        n += *s == c;
    return n;
}

/* A run of allocator a, rep k, in the stream `hash`, with steady_ns_per_op
 * v (NaN: NULL), peak_heap_bytes 1000 v, and ok or failed. */
static void put_run(hx_store_t *s, const char *a, int k, uint64_t hash, double v, int ok) {
    hx_run_t r;
    char err[256];
    make_run(&r, k);
    snprintf(r.allocator, sizeof r.allocator, "%s", a);
    snprintf(r.status, sizeof r.status, "%s", ok ? "ok" : "failed");
    r.stream_hash = hash;
    r.params.live = hash == 1 ? 1000 : 5000;
    r.m[HX_M_steady_ns_per_op] = v;
    r.m[HX_M_peak_heap_bytes] = isnan(v) ? 4000 : 1000 * v;
    r.m[HX_M_rss_overhead] = isnan(v) ? NAN : v / 100 - 0.9; /* a ratio - 1, may be negative */
    if (hx_store_insert_run(s, &r, err, sizeof err))
        TEST_FAIL_AT("insert: %s", err);
    hx_run_release(&r);
}

TEST(export_summary_medians_and_ratios_in_the_same_rep) {
    char p[512], dbopt[600], err[256];
    path_in(p, sizeof p, "summary.db");
    hx_store_t *s;
    ASSERT_TRUE(hx_store_open(p, 0, &s, err, sizeof err) == 0);
    /* stream 1, three reps: glibc 10 20 30; bestfit 15 50 60 (ratios 1.5 2.5
     * 2.0) and a failed run; firstfit NULL in rep 0 */
    static const double g[] = {10, 20, 30}, b[] = {15, 50, 60}, f[] = {NAN, 40, 30};
    for (int k = 0; k < 3; k++) {
        put_run(s, "glibc", k, 1, g[k], 1);
        put_run(s, "bestfit", k, 1, b[k], 1);
        put_run(s, "firstfit", k, 1, f[k], 1);
    }
    put_run(s, "bestfit", 3, 1, 999, 0);
    /* stream 2: bestfit only (no baseline there) */
    put_run(s, "bestfit", 0, 2, 7, 1);
    hx_store_close(s);
    /* the same requests with --touch=none: another row (the hash covers the
     * requests, not what is done with the blocks) */
    ASSERT_TRUE(hx_store_open(p, 0, &s, err, sizeof err) == 0);
    {
        hx_run_t r;
        make_run(&r, 0);
        snprintf(r.allocator, sizeof r.allocator, "glibc");
        snprintf(r.status, sizeof r.status, "ok");
        r.stream_hash = 1;
        r.params.live = 1000;
        r.params.touch = WL_TOUCH_NONE;
        ASSERT_TRUE(hx_store_insert_run(s, &r, err, sizeof err) == 0);
        hx_run_release(&r);
        /* and a run of MMBENCH_BARE_LOOP's loop: another row too */
        make_run(&r, 0);
        snprintf(r.allocator, sizeof r.allocator, "glibc");
        snprintf(r.status, sizeof r.status, "ok");
        r.stream_hash = 1;
        r.params.live = 1000;
        snprintf(r.info[1].key, sizeof r.info[1].key, "bare_loop");
        r.info[1].value = 1;
        ASSERT_TRUE(hx_store_insert_run(s, &r, err, sizeof err) == 0);
        hx_run_release(&r);
    }
    hx_store_close(s);
    snprintf(dbopt, sizeof dbopt, "--db=%s", p);

    char *out, *errs;
    const char *a1[] = {"export", "--summary", "--baseline=glibc", "--metrics=steady_ns_per_op,peak_heap_bytes,rss_overhead",
                        dbopt, NULL};
    ASSERT_TRUE(run_cmd(hx_cmd_export, a1, &out, &errs) == 0);
    EXPECT_STREQ(errs, "");
    const char *q = out;
    csv_row_t h, row;
    ASSERT_TRUE(csv_next(&q, &h) == 1);
    EXPECT_STREQ(h.f[0], "workload");
    int cA = csv_col(&h, "allocator"), cM = csv_col(&h, "metric"), cRuns = csv_col(&h, "runs"),
        cF = csv_col(&h, "failed"), cN = csv_col(&h, "n"), cMed = csv_col(&h, "median"), cMin = csv_col(&h, "min"),
        cMax = csv_col(&h, "max"), cRN = csv_col(&h, "ratio_n"), cRMed = csv_col(&h, "ratio_median"),
        cRMin = csv_col(&h, "ratio_min"), cRMax = csv_col(&h, "ratio_max"), cLive = csv_col(&h, "live");
    ASSERT_TRUE(cA >= 0 && cM >= 0 && cRuns >= 0 && cF >= 0 && cN >= 0 && cMed >= 0 && cRMed >= 0 && cLive >= 0);
    int nrows = 0, seen = 0;
    while (csv_next(&q, &row) == 1) {
        nrows++;
        const char *al = row.f[cA], *me = row.f[cM], *touch = row.f[csv_col(&h, "touch")];
        /* stream 1 with --touch=all (make_run's), stream 1 with none, stream 2 */
        const char *live = !strcmp(touch, "none") ? "none" : !strcmp(row.f[csv_col(&h, "loop")], "bare") ? "bare" : row.f[cLive];
        if (nrows == 1) { /* the baseline first in its stream */
            EXPECT_STREQ(al, "glibc");
            EXPECT_STREQ(row.f[csv_col(&h, "seed")], "18364758544493064720"); /* above 2^63, whole */
        }
        if (!strcmp(live, "1000") && !strcmp(al, "bestfit") && !strcmp(me, "steady_ns_per_op")) {
            seen++;
            EXPECT_STREQ(row.f[cRuns], "3");
            EXPECT_STREQ(row.f[cF], "1");
            EXPECT_STREQ(row.f[cN], "3");
            EXPECT_STREQ(row.f[cMed], "50");
            EXPECT_STREQ(row.f[cMin], "15");
            EXPECT_STREQ(row.f[cMax], "60");
            EXPECT_STREQ(row.f[cRN], "3");
            EXPECT_STREQ(row.f[cRMed], "2");
            EXPECT_STREQ(row.f[cRMin], "1.5");
            EXPECT_STREQ(row.f[cRMax], "2.5");
            EXPECT_STREQ(row.f[csv_col(&h, "ratio_is")], "x/baseline");
        }
        if (!strcmp(live, "1000") && !strcmp(al, "firstfit") && !strcmp(me, "steady_ns_per_op")) {
            seen++;
            EXPECT_STREQ(row.f[cN], "2"); /* the NULL is no value, not 0 */
            EXPECT_STREQ(row.f[cMed], "35");
            EXPECT_STREQ(row.f[cRN], "2");
            EXPECT_STREQ(row.f[cRMed], "1.5"); /* 40/20 and 30/30 */
        }
        if (!strcmp(live, "1000") && !strcmp(al, "glibc") && !strcmp(me, "peak_heap_bytes")) {
            seen++;
            EXPECT_STREQ(row.f[cMed], "20000");
            EXPECT_STREQ(row.f[cRMed], "1");
        }
        if (!strcmp(live, "1000") && !strcmp(al, "bestfit") && !strcmp(me, "rss_overhead")) {
            seen++;
            EXPECT_STREQ(row.f[cRN], "3");
            EXPECT_STREQ(row.f[csv_col(&h, "ratio_is")], "(1+x)/(1+baseline)");
            char want[32];
            /* reps: (1 + 0.15 - 0.9) / (1 + 0.1 - 0.9), (1 + 0.5 - 0.9) / (1 + 0.2 - 0.9),
             * (1 + 0.6 - 0.9) / (1 + 0.3 - 0.9): 1.25, 2, 1.75 */
            snprintf(want, sizeof want, "%.6f", 1.75);
            char got[32];
            snprintf(got, sizeof got, "%.6f", atof(row.f[cRMed]));
            EXPECT_STREQ(got, want);
        }
        if (!strcmp(live, "bare")) {
            seen++;
            EXPECT_STREQ(al, "glibc");
            EXPECT_STREQ(row.f[cRuns], "1"); /* not merged with the harness's runs */
        }
        if (!strcmp(live, "none")) {
            seen++;
            EXPECT_STREQ(al, "glibc");
            EXPECT_STREQ(row.f[cRuns], "1"); /* not merged with the touch=all runs */
        }
        if (!strcmp(live, "5000")) {
            seen++;
            EXPECT_STREQ(al, "bestfit");
            EXPECT_STREQ(row.f[cRuns], "1");
            EXPECT_STREQ(row.f[cRN], "0");
            EXPECT_STREQ(row.f[cRMed], ""); /* no baseline in that stream */
        }
        csv_free(&row);
    }
    EXPECT_EQ(nrows, 18); /* (3 allocators + 1 + 1 + 1) x 3 metrics */
    EXPECT_EQ(seen, 13); /* 4 in stream 1, glibc's touch=none x 3, glibc's bare loop x 3, stream 2 x 3 */
    csv_free(&h);
    free(out);
    free(errs);

    /* JSON: the same rows */
    const char *a2[] = {"export", "--summary", "--format=json", "--metrics=steady_ns_per_op", dbopt, NULL};
    ASSERT_TRUE(run_cmd(hx_cmd_export, a2, &out, &errs) == 0);
    EXPECT_TRUE(json_valid(out));
    EXPECT_TRUE(strstr(out, "\"allocator\":\"bestfit\",\"metric\":\"steady_ns_per_op\",\"unit\":\"ns\",\"runs\":3,"
                            "\"failed\":1,\"n\":3,\"median\":50,\"min\":15,\"max\":60}") != NULL);
    EXPECT_TRUE(strstr(out, "ratio") == NULL);
    free(out);
    free(errs);

    /* bad input: one sentence, exit 2, nothing written */
    struct {
        const char *args[6];
        const char *says;
    } bad[] = {
        {{"export", "--summary", "--baseline=tcmalloc", dbopt, NULL}, "no run of allocator 'tcmalloc'"},
        {{"export", "--summary", "--metrics=steady,wall_ns", dbopt, NULL}, "'steady' is not one"},
        {{"export", "--baseline=glibc", dbopt, NULL}, "--baseline goes with --summary"},
        {{"export", "--summary", "--samples", dbopt, NULL}, "cannot be combined"},
        {{"export", "--summary", "--baseline=", dbopt, NULL}, "--baseline needs an allocator name"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        EXPECT_EQ(run_cmd(hx_cmd_export, bad[i].args, &out, &errs), 2);
        EXPECT_STREQ(out, "");
        if (!strstr(errs, bad[i].says))
            TEST_FAIL_AT("case %zu said: %s", i, errs);
        EXPECT_EQ(count_char(errs, '\n'), 1);
        free(out);
        free(errs);
    }
}

TEST(export_json_is_a_valid_array) {
    char db[512], dbopt[600];
    db_with_runs(db, sizeof db, "export_json.db");
    snprintf(dbopt, sizeof dbopt, "--db=%s", db);
    char *out, *err;
    const char *a1[] = {"export", "--format=json", "--runs=2,1", dbopt, NULL};
    ASSERT_TRUE(run_cmd(hx_cmd_export, a1, &out, &err) == 0);
    EXPECT_TRUE(json_valid(out));
    EXPECT_TRUE(out[0] == '[');
    char *two = strstr(out, "\"run_id\":2"), *one = strstr(out, "\"run_id\":1");
    EXPECT_TRUE(two && one && two < one);
    EXPECT_TRUE(strstr(out, "\"samples\"") == NULL);
    free(out);
    free(err);

    const char *a2[] = {"export", "--format", "json", "--samples", dbopt, NULL};
    ASSERT_TRUE(run_cmd(hx_cmd_export, a2, &out, &err) == 0);
    EXPECT_TRUE(json_valid(out));
    EXPECT_STREQ(err, "");
    EXPECT_TRUE(strstr(out, "\"samples\":[{") != NULL);
    free(out);
    free(err);

    /* An empty database exports an empty array and a header-only CSV. */
    char empty[512], eopt[600], e2[512];
    path_in(empty, sizeof empty, "empty_export.db");
    hx_store_t *s;
    ASSERT_TRUE(hx_store_open(empty, 0, &s, e2, sizeof e2) == 0);
    hx_store_close(s);
    snprintf(eopt, sizeof eopt, "--db=%s", empty);
    const char *a3[] = {"export", "--format=json", eopt, NULL};
    EXPECT_EQ(run_cmd(hx_cmd_export, a3, &out, &err), 0);
    EXPECT_STREQ(out, "[]\n");
    free(out);
    free(err);
}

TEST(export_to_a_file_is_atomic_and_errors_exit_2) {
    char db[512], dbopt[600], dest[512], tmp[600];
    db_with_runs(db, sizeof db, "export_o.db");
    snprintf(dbopt, sizeof dbopt, "--db=%s", db);
    path_in(dest, sizeof dest, "out.csv");
    snprintf(tmp, sizeof tmp, "%s.tmp", dest);
    char *out, *err;

    const char *a1[] = {"export", dbopt, "-o", dest, NULL};
    EXPECT_EQ(run_cmd(hx_cmd_export, a1, &out, &err), 0);
    EXPECT_STREQ(out, "");
    EXPECT_TRUE(exists(dest) && !exists(tmp));
    char *text = slurp(dest, NULL);
    EXPECT_TRUE(text && strncmp(text, "run_id,sweep,rep,", 17) == 0);
    free(text);
    free(out);
    free(err);

    const char *a2[] = {"export", dbopt, "-o", "/etc/passwd/x.csv", NULL};
    EXPECT_EQ(run_cmd(hx_cmd_export, a2, &out, &err), 2);
    EXPECT_TRUE(strstr(err, "mmbench export: cannot write /etc/passwd/x.csv") == err);
    free(out);
    free(err);

    /* Bad input leaves an existing output alone. */
    fp_t before = fingerprint(dest);
    const char *a3[] = {"export", dbopt, "--runs=1,999", "-o", dest, NULL};
    EXPECT_EQ(run_cmd(hx_cmd_export, a3, &out, &err), 2);
    char want[700];
    snprintf(want, sizeof want, "mmbench export: no run 999 in %s\n", db);
    EXPECT_STREQ(err, want);
    EXPECT_TRUE(same_fp(before, fingerprint(dest)) && !exists(tmp));
    free(out);
    free(err);

    const char *bad_lists[] = {"--runs=1,,2", "--runs=x", "--runs=", "--runs=1,-2", "--runs=1,"};
    for (size_t i = 0; i < sizeof bad_lists / sizeof bad_lists[0]; i++) {
        const char *a[] = {"export", dbopt, bad_lists[i], NULL};
        EXPECT_EQ(run_cmd(hx_cmd_export, a, &out, &err), 2);
        EXPECT_TRUE(strstr(err, "--runs takes run ids") != NULL);
        free(out);
        free(err);
    }

    const char *a4[] = {"export", "--foo", NULL};
    EXPECT_EQ(run_cmd(hx_cmd_export, a4, &out, &err), 2);
    EXPECT_STREQ(err, "mmbench export: unknown option '--foo'; see mmbench export --help\n");
    free(out);
    free(err);

    const char *a5[] = {"export", "--format=xml", dbopt, NULL};
    EXPECT_EQ(run_cmd(hx_cmd_export, a5, &out, &err), 2);
    free(out);
    free(err);

    const char *a6[] = {"export", "--help", NULL};
    EXPECT_EQ(run_cmd(hx_cmd_export, a6, &out, &err), 0);
    EXPECT_TRUE(strstr(out, "usage: mmbench export") == out);
    free(out);
    free(err);

    char missing[512], mopt[600];
    path_in(missing, sizeof missing, "absent_export.db");
    snprintf(mopt, sizeof mopt, "--db=%s", missing);
    const char *a7[] = {"export", mopt, NULL};
    EXPECT_EQ(run_cmd(hx_cmd_export, a7, &out, &err), 2);
    EXPECT_TRUE(strstr(err, "no database at") != NULL);
    EXPECT_TRUE(!exists(missing));
    free(out);
    free(err);
}

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/mmb_test_store_XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(round_trip_keeps_every_field_and_nan_is_null);
    RUN(failed_insert_rolls_back_everything);
    RUN(insert_into_a_deleted_file_is_refused);
    RUN(fifo_path_is_refused_without_blocking);
    RUN(a_reader_does_not_block_the_writer);
    RUN(open_while_another_process_creates_the_schema);
    RUN(newer_schema_is_refused_and_untouched);
    RUN(not_a_database_is_refused_and_untouched);
    RUN(readonly_open_of_an_empty_file_says_it_is_empty);
    RUN(readonly_open_of_a_missing_file_creates_nothing);
    RUN(older_file_gains_new_columns_and_old_rows_read_null);
    RUN(check_writable_says_before_anything_is_created);
    RUN(default_db_path_follows_the_environment);
    RUN(percentile_is_the_nearest_rank_and_null_when_too_few);
    RUN(json_escapes_and_numbers);
    RUN(run_json_is_one_valid_line_with_every_metric);
    RUN(show_prints_a_report_with_units);
    RUN(show_errors_are_one_sentence_and_exit_2);
    RUN(export_csv_is_tidy_and_parses_back);
    RUN(export_summary_medians_and_ratios_in_the_same_rep);
    RUN(export_json_is_a_valid_array);
    RUN(export_to_a_file_is_atomic_and_errors_exit_2);
    int rc = test_report();
    if (rc == 0) {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
        if (system(cmd) != 0)
            printf("could not remove %s\n", tmpdir);
    }
    return rc;
}
