/*
 * store.c - the SQLite store of runs (harness/SCHEMA.md is the contract).
 *
 * One file in WAL mode, so `serve` reads while `run` writes; schema version
 * in PRAGMA user_version; one transaction per run; prepared statements only.
 * The metric and sample columns are expanded from the X-macro lists in
 * metrics.h, so the SQL below is string literals built by the preprocessor,
 * never text built from values.
 *
 * Opening for write validates before it writes: a file that is not SQLite,
 * an SQLite file that is not ours, or a schema newer than this build is
 * refused untouched.  A valid older file is migrated forward by adding the
 * metric and sample columns it lacks (old rows read NULL for them).
 */
#include "harness/hx.h"
#include "mmb_config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#define HX_BUSY_TIMEOUT_MS 5000

struct hx_store {
    sqlite3 *db;
    int readonly;
    unsigned tables; /* TB_* present (a read-only older file may lack some) */
    char *path;
    sqlite3_stmt *ins_run, *ins_sample, *ins_block, *ins_comp, *ins_info;
    /* hx_store_set_lock_wait (until it is called, SQLite's busy timeout of
     * HX_BUSY_TIMEOUT_MS applies): how long to wait for another process's
     * lock, when to say so, what to ask whether to give up, and the wait
     * now in progress */
    unsigned lock_wait_ms, lock_notice_ms;
    const char *lock_who;
    int (*lock_stop)(void);
    uint64_t lock_since_ns;
    int lock_noticed;
    int tidy; /* read-only, and no -wal or -shm was there: hx_store_tidy at close */
};

/* ---- SQL, expanded from the lists in metrics.h ---------------------------- */

#define COLDEF_M(k, t, u, l, d) ", " #k " " #t
#define COLDEF_S(k, t, u, l) ", " #k " " #t
#define COLNAME_M(k, t, u, l, d) ", " #k
#define COLNAME_S(k, t, u, l) ", " #k
#define PARAM_M(k, t, u, l, d) ",?"
#define PARAM_S(k, t, u, l) ",?"

static const char schema_sql[] =
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);"
    "CREATE TABLE IF NOT EXISTS runs ("
    " id INTEGER PRIMARY KEY, sweep TEXT NOT NULL, rep INTEGER NOT NULL,"
    " allocator TEXT NOT NULL, allocator_version TEXT, workload TEXT NOT NULL,"
    " status TEXT NOT NULL, failure TEXT, signal INTEGER, exit_code INTEGER,"
    " started_at TEXT NOT NULL, finished_at TEXT,"
    " ops INTEGER, seed INTEGER, threads INTEGER, sizes TEXT, live INTEGER,"
    " lifetime TEXT, touch TEXT, trace TEXT, samples_requested INTEGER,"
    " stream_hash TEXT, params TEXT, host TEXT, mmbench_version TEXT, git_rev TEXT,"
    " machine TEXT, build TEXT"
    HX_METRICS(COLDEF_M) ");"
    "CREATE INDEX IF NOT EXISTS runs_by_allocator ON runs(allocator);"
    "CREATE INDEX IF NOT EXISTS runs_by_workload ON runs(workload);"
    "CREATE INDEX IF NOT EXISTS runs_by_sweep ON runs(sweep);"
    "CREATE TABLE IF NOT EXISTS samples ("
    " run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    " idx INTEGER NOT NULL" HX_SAMPLE_COLS(COLDEF_S) ","
    " PRIMARY KEY (run_id, idx)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS heap_blocks ("
    " run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    " seq INTEGER NOT NULL, \"offset\" INTEGER NOT NULL, size INTEGER NOT NULL,"
    " used REAL NOT NULL, PRIMARY KEY (run_id, seq)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS composition ("
    " run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    " seq INTEGER NOT NULL, category TEXT NOT NULL, label TEXT NOT NULL,"
    " bytes REAL NOT NULL, PRIMARY KEY (run_id, seq)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS run_info ("
    " run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    " key TEXT NOT NULL, value REAL, PRIMARY KEY (run_id, key)) WITHOUT ROWID;";

/* The 27 columns before the metrics, in this order in insert_run_sql. */
enum {
    RC_SWEEP = 1, RC_REP, RC_ALLOCATOR, RC_ALLOCATOR_VERSION, RC_WORKLOAD, RC_STATUS,
    RC_FAILURE, RC_SIGNAL, RC_EXIT_CODE, RC_STARTED_AT, RC_FINISHED_AT, RC_OPS, RC_SEED,
    RC_THREADS, RC_SIZES, RC_LIVE, RC_LIFETIME, RC_TOUCH, RC_TRACE, RC_SAMPLES_REQUESTED,
    RC_STREAM_HASH, RC_PARAMS, RC_HOST, RC_MMBENCH_VERSION, RC_GIT_REV, RC_MACHINE, RC_BUILD,
    RC_FIRST_METRIC
};

static const char insert_run_sql[] =
    "INSERT INTO runs (sweep, rep, allocator, allocator_version, workload, status,"
    " failure, signal, exit_code, started_at, finished_at, ops, seed, threads, sizes,"
    " live, lifetime, touch, trace, samples_requested, stream_hash, params, host,"
    " mmbench_version, git_rev, machine, build" HX_METRICS(COLNAME_M) ")"
    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?" HX_METRICS(PARAM_M) ")";

static const char insert_sample_sql[] =
    "INSERT INTO samples (run_id, idx" HX_SAMPLE_COLS(COLNAME_S) ") VALUES (?,?"
    HX_SAMPLE_COLS(PARAM_S) ")";
static const char insert_block_sql[] =
    "INSERT INTO heap_blocks (run_id, seq, \"offset\", size, used) VALUES (?,?,?,?,?)";
static const char insert_comp_sql[] =
    "INSERT INTO composition (run_id, seq, category, label, bytes) VALUES (?,?,?,?,?)";
/* A key reported twice keeps its last value rather than losing the run. */
static const char insert_info_sql[] =
    "INSERT OR REPLACE INTO run_info (run_id, key, value) VALUES (?,?,?)";

/* ---- small helpers -------------------------------------------------------- */

static void seterr(char *err, size_t errlen, const char *fmt, ...) {
    if (!err || !errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* An errno-style code for an SQLite result code. */
static int errno_of(int rc) {
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return EBUSY;
    case SQLITE_FULL: return ENOSPC;
    case SQLITE_READONLY: return EROFS;
    case SQLITE_PERM:
    case SQLITE_AUTH: return EACCES;
    case SQLITE_NOMEM: return ENOMEM;
    case SQLITE_CANTOPEN: return ENOENT;
    case SQLITE_NOTADB: return EINVAL;
    default: return EIO;
    }
}

static int is_int_type(const char *sqltype) { return strcmp(sqltype, "INTEGER") == 0; }

static void copy_str(char *dst, size_t len, const unsigned char *src) {
    snprintf(dst, len, "%s", src ? (const char *)src : "");
}

/* The directory part of path ("." when there is none), in buf. */
static void dir_of(const char *path, char *buf, size_t len) {
    snprintf(buf, len, "%s", path);
    char *slash = strrchr(buf, '/');
    if (!slash)
        snprintf(buf, len, ".");
    else if (slash == buf)
        buf[1] = '\0';
    else
        *slash = '\0';
}

/* The directories make_parents created, in order, so that an open that
 * fails after it removes them again: a refused --db leaves nothing behind
 * (a path like new/a/../../file/x.db creates new/a before SQLite finds that
 * file is no directory).  Each is a prefix of the path's directory: its
 * length is kept. */
typedef struct made_dirs {
    int n;
    size_t len[64];
} made_dirs_t;

static void remove_made_dirs(const char *path, const made_dirs_t *made) {
    char dir[PATH_MAX];
    for (int i = made->n - 1; i >= 0; i--) {
        dir_of(path, dir, sizeof dir);
        dir[made->len[i]] = '\0';
        rmdir(dir); /* only if still empty */
    }
}

/* mkdir -p of path's directory; records in made what it created (as far as
 * made has room: beyond that, what it creates stays). */
static int make_parents(const char *path, made_dirs_t *made, char *err, size_t errlen) {
    char dir[PATH_MAX];
    dir_of(path, dir, sizeof dir);
    for (char *p = dir + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char saved = *p;
        *p = '\0';
        if (mkdir(dir, 0777) == 0) {
            if (made->n < (int)(sizeof made->len / sizeof made->len[0]))
                made->len[made->n++] = (size_t)(p - dir);
        } else if (errno != EEXIST) {
            int e = errno;
            seterr(err, errlen, "cannot create the directory %s for the database %s: %s", dir, path,
                   strerror(e));
            remove_made_dirs(path, made);
            return e;
        }
        *p = saved;
        if (saved == '\0')
            break;
    }
    return 0;
}

/* A path that names a FIFO, a device or a socket: no database.  Opening a
 * FIFO to read its header waited forever for a writer, and SQLite on
 * /dev/null wrote /dev/null-journal beside it. */
static int not_a_file(const char *path, const struct stat *sb, char *err, size_t errlen) {
    const char *what = S_ISFIFO(sb->st_mode)                              ? "a FIFO"
                       : S_ISCHR(sb->st_mode) || S_ISBLK(sb->st_mode) ? "a device"
                       : S_ISSOCK(sb->st_mode)                          ? "a socket"
                                                                        : "a special file";
    seterr(err, errlen, "%s is %s, not a database file", path, what);
    return EINVAL;
}

/* Validate the first 100 bytes of an existing, non-empty file: the SQLite
 * magic, and user_version (bytes 60..63, big-endian) not newer than ours.
 * The header can lag behind a WAL; hx_store_open checks again through
 * SQLite once the file is known to be SQLite. */
static int check_header(const char *path, char *err, size_t errlen) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        seterr(err, errlen, "cannot read the database %s: %s", path, strerror(e));
        return e;
    }
    unsigned char h[100];
    ssize_t n = read(fd, h, sizeof h);
    int e = errno;
    close(fd);
    if (n < 0) {
        seterr(err, errlen, "cannot read the database %s: %s", path, strerror(e));
        return e;
    }
    if (n == 0)
        return 0; /* empty: SQLite treats it as a new database */
    if (n < (ssize_t)sizeof h || memcmp(h, "SQLite format 3", 16) != 0) {
        seterr(err, errlen, "%s is not an SQLite database, so not an mmbench database; refusing to touch it",
               path);
        return EINVAL;
    }
    uint32_t uv = (uint32_t)h[60] << 24 | (uint32_t)h[61] << 16 | (uint32_t)h[62] << 8 | h[63];
    if (uv > HX_SCHEMA_VERSION) {
        seterr(err, errlen,
               "%s has schema version %" PRIu32 ", newer than this mmbench understands (%d); use a newer mmbench",
               path, uv, HX_SCHEMA_VERSION);
        return ENOTSUP;
    }
    return 0;
}

static int pragma_int(sqlite3 *db, const char *sql, int *out) {
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rc;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *out = sqlite3_column_int(st, 0);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    return rc;
}

/* What the database holds: its schema version and whether it has our
 * tables.  Reads only. */
enum { TB_SAMPLES = 1, TB_HEAP_BLOCKS = 2, TB_COMPOSITION = 4, TB_RUN_INFO = 8 };

typedef struct db_state {
    int user_version;
    int ntables, has_meta, has_runs;
    unsigned tables; /* TB_* */
} db_state_t;

static int read_state_now(sqlite3 *db, db_state_t *st) {
    memset(st, 0, sizeof *st);
    int rc = pragma_int(db, "PRAGMA user_version", &st->user_version);
    if (rc != SQLITE_OK)
        return rc;
    sqlite3_stmt *q;
    rc = sqlite3_prepare_v2(db, "SELECT name FROM sqlite_master WHERE type = 'table'", -1, &q, NULL);
    if (rc != SQLITE_OK)
        return rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(q, 0);
        st->ntables++;
        if (name && strcmp(name, "meta") == 0)
            st->has_meta = 1;
        if (name && strcmp(name, "runs") == 0)
            st->has_runs = 1;
        if (name && strcmp(name, "samples") == 0)
            st->tables |= TB_SAMPLES;
        if (name && strcmp(name, "heap_blocks") == 0)
            st->tables |= TB_HEAP_BLOCKS;
        if (name && strcmp(name, "composition") == 0)
            st->tables |= TB_COMPOSITION;
        if (name && strcmp(name, "run_info") == 0)
            st->tables |= TB_RUN_INFO;
    }
    sqlite3_finalize(q);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* read_state_now in one read transaction (unless the caller holds one): a
 * process creating the schema at the same moment must not be seen half,
 * with its tables but not yet its user_version.  On failure the transaction
 * is left to sqlite3_close (every caller closes the connection then), so
 * that sqlite3_errmsg still says why. */
static int read_state(sqlite3 *db, db_state_t *st) {
    int own = sqlite3_get_autocommit(db);
    int rc = own ? sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) : SQLITE_OK;
    if (rc != SQLITE_OK)
        return rc;
    rc = read_state_now(db, st);
    if (own && rc == SQLITE_OK)
        rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    return rc;
}

/* 0 when st describes a database we may use (or an empty one, *fresh = 1);
 * else an error code and one sentence. */
static int judge_state(const char *path, const db_state_t *st, int *fresh, char *err, size_t errlen) {
    *fresh = 0;
    if (st->user_version > HX_SCHEMA_VERSION) {
        seterr(err, errlen, "%s has schema version %d, newer than this mmbench understands (%d); use a newer mmbench",
               path, st->user_version, HX_SCHEMA_VERSION);
        return ENOTSUP;
    }
    if (st->ntables == 0 && st->user_version == 0) {
        *fresh = 1;
        return 0;
    }
    if (st->user_version == 0 || !st->has_meta || !st->has_runs) {
        seterr(err, errlen, "%s is an SQLite database but not an mmbench database; refusing to touch it", path);
        return EINVAL;
    }
    return 0;
}

/* Whether our table has column (both are identifiers of this build). */
static int table_has_column(sqlite3 *db, const char *table, const char *column, int *has) {
    sqlite3_stmt *q;
    int rc = sqlite3_prepare_v2(db, "SELECT 1 FROM pragma_table_info(?) WHERE name = ?", -1, &q, NULL);
    if (rc != SQLITE_OK)
        return rc;
    sqlite3_bind_text(q, 1, table, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, column, -1, SQLITE_STATIC);
    rc = sqlite3_step(q);
    *has = rc == SQLITE_ROW;
    sqlite3_finalize(q);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Forward migration: add the metric and sample columns an older file lacks.
 * The statements are built from the X-macro tables (identifiers of this
 * build), never from data. */
static int migrate_columns(sqlite3 *db) {
    /* run columns newer than the first schema: where the figures come from */
    static const char *const run_cols[] = {"machine", "build"};
    for (size_t i = 0; i < sizeof run_cols / sizeof run_cols[0]; i++) {
        int has, rc = table_has_column(db, "runs", run_cols[i], &has);
        if (rc != SQLITE_OK)
            return rc;
        if (has)
            continue;
        char sql[128];
        snprintf(sql, sizeof sql, "ALTER TABLE runs ADD COLUMN %s TEXT", run_cols[i]);
        if ((rc = sqlite3_exec(db, sql, NULL, NULL, NULL)) != SQLITE_OK)
            return rc;
    }
    for (int i = 0; i < HX_METRIC_COUNT; i++) {
        int has, rc = table_has_column(db, "runs", hx_metric_info[i].key, &has);
        if (rc != SQLITE_OK)
            return rc;
        if (has)
            continue;
        char sql[256];
        snprintf(sql, sizeof sql, "ALTER TABLE runs ADD COLUMN %s %s", hx_metric_info[i].key,
                 hx_metric_info[i].sqltype);
        if ((rc = sqlite3_exec(db, sql, NULL, NULL, NULL)) != SQLITE_OK)
            return rc;
    }
    for (int i = 0; i < HX_SAMPLE_COUNT; i++) {
        int has, rc = table_has_column(db, "samples", hx_sample_info[i].key, &has);
        if (rc != SQLITE_OK)
            return rc;
        if (has)
            continue;
        char sql[256];
        snprintf(sql, sizeof sql, "ALTER TABLE samples ADD COLUMN %s %s", hx_sample_info[i].key,
                 hx_sample_info[i].sqltype);
        if ((rc = sqlite3_exec(db, sql, NULL, NULL, NULL)) != SQLITE_OK)
            return rc;
    }
    return SQLITE_OK;
}

/* Create or migrate, in one IMMEDIATE transaction so that two processes
 * opening the same new file at once do not race. */
static int create_and_migrate(hx_store_t *s, char *err, size_t errlen) {
    sqlite3 *db = s->db;
    int rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        goto sqlfail;
    db_state_t st;
    int fresh;
    if ((rc = read_state(db, &st)) != SQLITE_OK)
        goto sqlfail_rb;
    int e = judge_state(s->path, &st, &fresh, err, errlen);
    if (e) {
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        return e;
    }
    if ((rc = sqlite3_exec(db, schema_sql, NULL, NULL, NULL)) != SQLITE_OK)
        goto sqlfail_rb;
    if (!fresh && (rc = migrate_columns(db)) != SQLITE_OK)
        goto sqlfail_rb;
    if (st.user_version < HX_SCHEMA_VERSION) {
        /* A PRAGMA takes no bound parameters; the value is our constant. */
        char sql[64];
        snprintf(sql, sizeof sql, "PRAGMA user_version = %d", HX_SCHEMA_VERSION);
        if ((rc = sqlite3_exec(db, sql, NULL, NULL, NULL)) != SQLITE_OK)
            goto sqlfail_rb;
    }
    if (fresh) {
        sqlite3_stmt *q;
        rc = sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO meta (key, value) VALUES ('created_by', ?), ('created_at', ?)",
                                -1, &q, NULL);
        if (rc != SQLITE_OK)
            goto sqlfail_rb;
        char now[32];
        hx_iso_time(now, sizeof now);
        sqlite3_bind_text(q, 1, "mmbench " MMBENCH_VERSION, -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 2, now, -1, SQLITE_TRANSIENT);
        rc = sqlite3_step(q);
        sqlite3_finalize(q);
        if (rc != SQLITE_DONE)
            goto sqlfail_rb;
    }
    if ((rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL)) != SQLITE_OK)
        goto sqlfail_rb;
    return 0;

sqlfail_rb:
    seterr(err, errlen, "cannot set up the database %s: %s", s->path, sqlite3_errmsg(db));
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return errno_of(rc);
sqlfail:
    seterr(err, errlen, "cannot set up the database %s: %s", s->path, sqlite3_errmsg(db));
    return errno_of(rc);
}

static int prepare_inserts(hx_store_t *s, char *err, size_t errlen) {
    struct {
        const char *sql;
        sqlite3_stmt **st;
    } list[] = {
        {insert_run_sql, &s->ins_run},     {insert_sample_sql, &s->ins_sample},
        {insert_block_sql, &s->ins_block}, {insert_comp_sql, &s->ins_comp},
        {insert_info_sql, &s->ins_info},
    };
    for (size_t i = 0; i < sizeof list / sizeof list[0]; i++) {
        int rc = sqlite3_prepare_v3(s->db, list[i].sql, -1, SQLITE_PREPARE_PERSISTENT, list[i].st, NULL);
        if (rc != SQLITE_OK) {
            seterr(err, errlen, "cannot prepare statements on %s: %s", s->path, sqlite3_errmsg(s->db));
            return errno_of(rc);
        }
    }
    return 0;
}

/* ---- public: open / close / check ----------------------------------------- */

const char *hx_default_db_path(void) {
    const char *env = getenv("MMBENCH_DB");
    return env && *env ? env : "results/mmbench.db";
}

static void uri_of(const char *path, const char *query, char *buf, size_t len);

/* A read-only connection.  A reader of a WAL database needs the -shm file,
 * which it creates when it is missing; where it cannot (a directory the user
 * may not write, e.g. someone else's results), open the file as immutable:
 * no writer can be adding to it there either. */
int hx_store_open_ro_db(const char *path, void **out) {
    char dir[PATH_MAX], shm[PATH_MAX + 8], uri[3 * PATH_MAX + 32];
    dir_of(path, dir, sizeof dir);
    snprintf(shm, sizeof shm, "%s-shm", path);
    int immutable = access(dir, W_OK | X_OK) != 0 && access(shm, R_OK | W_OK) != 0;
    uri_of(path, immutable ? "mode=ro&immutable=1" : "mode=ro", uri, sizeof uri);
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(uri, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL);
    *out = db;
    return rc;
}

int hx_store_wal_absent(const char *path) {
    char f[PATH_MAX + 8];
    snprintf(f, sizeof f, "%s-wal", path);
    if (access(f, F_OK) == 0)
        return 0;
    snprintf(f, sizeof f, "%s-shm", path);
    return access(f, F_OK) != 0;
}

void hx_store_tidy(const char *path) {
    if (hx_store_wal_absent(path)) /* nothing to remove (rollback journal, immutable): no write access */
        return;
    char uri[3 * PATH_MAX + 32];
    uri_of(path, "mode=rw", uri, sizeof uri);
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(uri, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_URI, NULL) == SQLITE_OK &&
        sqlite3_db_readonly(db, "main") == 0) {
        sqlite3_busy_timeout(db, 100);
        /* one read opens the WAL index; the close of the last connection
         * checkpoints (nothing: no writer was here) and removes both files */
        sqlite3_exec(db, "PRAGMA schema_version", NULL, NULL, NULL);
    }
    sqlite3_close(db);
}

int hx_store_open(const char *path, int readonly, hx_store_t **out, char *err, size_t errlen) {
    *out = NULL;
    if (!path || !*path) {
        seterr(err, errlen, "the database path is empty");
        return EINVAL;
    }
    struct stat sb;
    int exists = stat(path, &sb) == 0;
    if (!exists && errno != ENOENT) {
        int e = errno;
        seterr(err, errlen, "cannot open the database %s: %s", path, strerror(e));
        return e;
    }
    if (exists && S_ISDIR(sb.st_mode)) {
        seterr(err, errlen, "%s is a directory, not a database file", path);
        return EISDIR;
    }
    if (exists && !S_ISREG(sb.st_mode))
        return not_a_file(path, &sb, err, errlen);
    if (readonly && (!exists || sb.st_size == 0)) {
        if (exists) /* a file is there: say what is wrong with it */
            seterr(err, errlen, "%s is empty, not a database yet; `mmbench run --db=%s` stores runs in it", path,
                   path);
        else
            seterr(err, errlen, "no database at %s; run `mmbench run` first", path);
        return ENOENT;
    }
    if (exists) {
        int e = check_header(path, err, errlen);
        if (e)
            return e;
    }
    made_dirs_t made = {0};
    if (!exists) {
        int e = make_parents(path, &made, err, errlen);
        if (e)
            return e;
    }

    hx_store_t *s = calloc(1, sizeof *s);
    if (!s || !(s->path = strdup(path))) {
        free(s);
        remove_made_dirs(path, &made);
        seterr(err, errlen, "out of memory opening %s", path);
        return ENOMEM;
    }
    s->readonly = readonly;
    int rc;
    if (readonly) {
        s->tidy = hx_store_wal_absent(path);
        rc = hx_store_open_ro_db(path, (void **)&s->db);
    } else {
        rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    }
    int e = 0;
    if (rc != SQLITE_OK) {
        seterr(err, errlen, "cannot open the database %s: %s", path,
               s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
        e = errno_of(rc);
        goto fail;
    }
    sqlite3_extended_result_codes(s->db, 1);
    sqlite3_busy_timeout(s->db, HX_BUSY_TIMEOUT_MS);
    if (!readonly && sqlite3_db_readonly(s->db, "main") == 1) {
        /* SQLite silently falls back to read-only on a file we may not write. */
        seterr(err, errlen, "the database %s is not writable", path);
        e = EACCES;
        goto fail;
    }

    db_state_t st;
    int fresh;
    if ((rc = read_state(s->db, &st)) != SQLITE_OK) {
        seterr(err, errlen, "cannot read the database %s: %s", path, sqlite3_errmsg(s->db));
        e = errno_of(rc);
        goto fail;
    }
    if ((e = judge_state(path, &st, &fresh, err, errlen)) != 0)
        goto fail;
    s->tables = st.tables;
    if (readonly) {
        if (fresh) {
            seterr(err, errlen, "no database at %s; run `mmbench run` first", path);
            e = ENOENT;
            goto fail;
        }
        *out = s;
        return 0;
    }

    sqlite3_exec(s->db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL);
    {
        sqlite3_stmt *q;
        rc = sqlite3_prepare_v2(s->db, "PRAGMA journal_mode = WAL", -1, &q, NULL);
        if (rc == SQLITE_OK) {
            rc = sqlite3_step(q);
            rc = rc == SQLITE_ROW ? SQLITE_OK : rc;
            sqlite3_finalize(q);
        }
        if (rc != SQLITE_OK) {
            seterr(err, errlen, "cannot switch the database %s to WAL mode: %s", path, sqlite3_errmsg(s->db));
            e = errno_of(rc);
            goto fail;
        }
    }
    if ((e = create_and_migrate(s, err, errlen)) != 0)
        goto fail;
    s->tables = TB_SAMPLES | TB_HEAP_BLOCKS | TB_COMPOSITION | TB_RUN_INFO;
    if ((e = prepare_inserts(s, err, errlen)) != 0)
        goto fail;
    *out = s;
    return 0;

fail:
    hx_store_close(s);
    remove_made_dirs(path, &made);
    return e;
}

void hx_store_close(hx_store_t *s) {
    if (!s)
        return;
    sqlite3_finalize(s->ins_run);
    sqlite3_finalize(s->ins_sample);
    sqlite3_finalize(s->ins_block);
    sqlite3_finalize(s->ins_comp);
    sqlite3_finalize(s->ins_info);
    sqlite3_close(s->db);
    if (s->tidy && s->path)
        hx_store_tidy(s->path);
    free(s->path);
    free(s);
}

void *hx_store_db(hx_store_t *s) { return s ? s->db : NULL; }

/* "file:" URI for path with every byte outside a safe set %-escaped. */
static void uri_of(const char *path, const char *query, char *buf, size_t len) {
    size_t n = (size_t)snprintf(buf, len, "file:");
    for (const unsigned char *p = (const unsigned char *)path; *p && n + 4 < len; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr("/._-~", *p))
            buf[n++] = (char)*p;
        else
            n += (size_t)snprintf(buf + n, len - n, "%%%02X", *p);
    }
    snprintf(buf + n, len - n, "?%s", query);
}

/* A file system with no free block at all cannot take a run (nor, often,
 * SQLite's -shm file to read one): say so before the sweep.  A little free
 * space is not judged here; a run that does not fit fails to store, saying
 * why. */
static int check_space(const char *path, const char *dir, char *err, size_t errlen) {
    struct statvfs vs;
    if (statvfs(dir, &vs) != 0)
        return 0; /* unknown here; SQLite's writes will say */
    if ((geteuid() == 0 ? vs.f_bfree : vs.f_bavail) > 0)
        return 0;
    seterr(err, errlen, "cannot write the database %s: the file system holding %s is full", path, dir);
    return ENOSPC;
}

int hx_store_check_writable(const char *path, char *err, size_t errlen) {
    if (!path || !*path) {
        seterr(err, errlen, "the database path is empty");
        return EINVAL;
    }
    struct stat sb;
    if (stat(path, &sb) != 0) {
        int e = errno;
        if (e != ENOENT && e != ENOTDIR) {
            seterr(err, errlen, "cannot use the database path %s: %s", path, strerror(e));
            return e;
        }
        /* Missing: the nearest existing ancestor must be a directory we may
         * write (everything below it will be created). */
        char dir[PATH_MAX];
        dir_of(path, dir, sizeof dir);
        for (;;) {
            struct stat db;
            if (stat(dir, &db) == 0) {
                if (!S_ISDIR(db.st_mode)) {
                    seterr(err, errlen, "cannot create the database %s: %s is not a directory", path, dir);
                    return ENOTDIR;
                }
                if (access(dir, W_OK | X_OK) != 0) {
                    int ae = errno;
                    seterr(err, errlen, "cannot create the database %s: the directory %s is not writable (%s)",
                           path, dir, strerror(ae));
                    return ae;
                }
                return check_space(path, dir, err, errlen);
            }
            if (errno != ENOENT) {
                int se = errno;
                seterr(err, errlen, "cannot create the database %s: %s: %s", path, dir, strerror(se));
                return se;
            }
            char up[PATH_MAX];
            dir_of(dir, up, sizeof up);
            if (strcmp(up, dir) == 0) {
                seterr(err, errlen, "cannot create the database %s: %s does not exist", path, dir);
                return ENOENT;
            }
            snprintf(dir, sizeof dir, "%s", up);
        }
    }
    if (S_ISDIR(sb.st_mode)) {
        seterr(err, errlen, "%s is a directory, not a database file", path);
        return EISDIR;
    }
    if (!S_ISREG(sb.st_mode))
        return not_a_file(path, &sb, err, errlen);
    if (access(path, R_OK | W_OK) != 0) {
        int e = errno;
        seterr(err, errlen, "the database %s is not writable: %s", path, strerror(e));
        return e;
    }
    char dir[PATH_MAX];
    dir_of(path, dir, sizeof dir);
    if (access(dir, W_OK | X_OK) != 0) {
        int e = errno;
        seterr(err, errlen, "the directory %s of the database %s is not writable (SQLite needs it for its "
               "journal): %s", dir, path, strerror(e));
        return e;
    }
    int e = check_header(path, err, errlen);
    if (!e)
        e = check_space(path, dir, err, errlen);
    if (e || sb.st_size == 0)
        return e;

    /* Look inside without leaving anything behind: a read-only connection to
     * a WAL database creates -wal and -shm files unless they exist already,
     * so use immutable=1 (no locks, no WAL) when they do not.  A live writer's
     * uncommitted WAL content is then unseen; hx_store_open checks again. */
    char wal[PATH_MAX + 8], shm[PATH_MAX + 8];
    snprintf(wal, sizeof wal, "%s-wal", path);
    snprintf(shm, sizeof shm, "%s-shm", path);
    int live = access(wal, F_OK) == 0 && access(shm, F_OK) == 0;
    char uri[3 * PATH_MAX + 32];
    uri_of(path, live ? "mode=ro" : "mode=ro&immutable=1", uri, sizeof uri);
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(uri, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL);
    db_state_t st;
    if (rc == SQLITE_OK) {
        sqlite3_busy_timeout(db, HX_BUSY_TIMEOUT_MS);
        rc = read_state(db, &st);
    }
    if (rc != SQLITE_OK) {
        seterr(err, errlen, "cannot read the database %s: %s", path, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        sqlite3_close(db);
        return errno_of(rc);
    }
    sqlite3_close(db);
    int fresh;
    return judge_state(path, &st, &fresh, err, errlen);
}

/* ---- waiting for another writer's lock -------------------------------------- */

/* SQLite's busy handler (count: the calls so far for this lock): 1 to try
 * again after a nap, 0 to give up (the statement returns SQLITE_BUSY). */
static int lock_wait_handler(void *arg, int count) {
    hx_store_t *s = arg;
    uint64_t now = hx_now_ns();
    if (count == 0) {
        s->lock_since_ns = now;
        s->lock_noticed = 0;
    }
    uint64_t waited_ms = (now - s->lock_since_ns) / 1000000u;
    if (waited_ms >= s->lock_wait_ms || (s->lock_stop && s->lock_stop()))
        return 0;
    if (!s->lock_noticed && waited_ms >= s->lock_notice_ms) {
        fprintf(stderr, "%s: waiting for the lock on the database %s, which another process holds (up to %u s "
                        "in all)\n", s->lock_who, s->path, (s->lock_wait_ms + 999) / 1000);
        fflush(stderr);
        s->lock_noticed = 1;
    }
    /* short naps first (a lock is mostly held for milliseconds), then 50 ms */
    unsigned nap_ms = count < 10 ? 2 : count < 30 ? 10 : 50;
    struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)nap_ms * 1000000L};
    nanosleep(&ts, NULL);
    return 1;
}

void hx_store_set_lock_wait(hx_store_t *s, unsigned wait_ms, unsigned notice_ms, const char *who,
                            int (*stop)(void)) {
    s->lock_wait_ms = wait_ms;
    s->lock_notice_ms = notice_ms;
    s->lock_who = who ? who : "mmbench";
    s->lock_stop = stop;
    sqlite3_busy_handler(s->db, lock_wait_handler, s);
}

/* ---- insert ----------------------------------------------------------------- */

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *s) {
    if (s && *s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

static void bind_num(sqlite3_stmt *st, int i, double v, int is_int) {
    if (isnan(v))
        sqlite3_bind_null(st, i);
    else if (is_int && v == floor(v) && fabs(v) < 9223372036854775808.0)
        sqlite3_bind_int64(st, i, (int64_t)v);
    else
        sqlite3_bind_double(st, i, v);
}

static int step_done(sqlite3_stmt *st) {
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int insert_run_row(hx_store_t *s, const hx_run_t *r) {
    sqlite3_stmt *st = s->ins_run;
    const wl_params_t *p = &r->params;
    char hash[20], params[4096];
    snprintf(hash, sizeof hash, "%016" PRIx64, r->stream_hash);
    size_t plen = wl_params_json(p, params, sizeof params);
    char *pbig = NULL;
    if (plen >= sizeof params && (pbig = malloc(plen + 1)) != NULL)
        wl_params_json(p, pbig, plen + 1);

    sqlite3_bind_text(st, RC_SWEEP, r->sweep, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, RC_REP, r->rep);
    sqlite3_bind_text(st, RC_ALLOCATOR, r->allocator, -1, SQLITE_TRANSIENT);
    bind_text_or_null(st, RC_ALLOCATOR_VERSION, r->allocator_version);
    sqlite3_bind_text(st, RC_WORKLOAD, r->workload, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, RC_STATUS, r->status, -1, SQLITE_TRANSIENT);
    bind_text_or_null(st, RC_FAILURE, r->failure);
    if (r->signal)
        sqlite3_bind_int(st, RC_SIGNAL, r->signal);
    else
        sqlite3_bind_null(st, RC_SIGNAL);
    if (r->signal || r->exit_code < 0)
        sqlite3_bind_null(st, RC_EXIT_CODE);
    else
        sqlite3_bind_int(st, RC_EXIT_CODE, r->exit_code);
    sqlite3_bind_text(st, RC_STARTED_AT, r->started_at, -1, SQLITE_TRANSIENT);
    bind_text_or_null(st, RC_FINISHED_AT, r->finished_at);
    sqlite3_bind_int64(st, RC_OPS, (int64_t)p->ops);
    /* a trace replays its own sizes and frees: no seed, sizes or lifetime
     * (the defaults, or --sizes given for the other workloads of the list,
     * would read as the trace's) */
    int trace = !strcmp(r->workload, "trace");
    if (trace)
        sqlite3_bind_null(st, RC_SEED);
    else
        sqlite3_bind_int64(st, RC_SEED, (int64_t)p->seed); /* < 2^63 (wl_params_set) */
    sqlite3_bind_int64(st, RC_THREADS, p->threads);
    bind_text_or_null(st, RC_SIZES, trace ? NULL : p->sizes.text);
    sqlite3_bind_int64(st, RC_LIVE, (int64_t)p->live);
    const char *life = !wl_uses_lifetime(r->workload) ? NULL : wl_lifetime_name(p->lifetime), *touch = wl_touch_name(p->touch);
    bind_text_or_null(st, RC_LIFETIME, life);
    bind_text_or_null(st, RC_TOUCH, touch);
    bind_text_or_null(st, RC_TRACE, p->trace_path);
    sqlite3_bind_int64(st, RC_SAMPLES_REQUESTED, r->samples_requested);
    sqlite3_bind_text(st, RC_STREAM_HASH, hash, -1, SQLITE_TRANSIENT);
    if (pbig)
        sqlite3_bind_text(st, RC_PARAMS, pbig, -1, free);
    else if (plen > 0 && plen < sizeof params)
        sqlite3_bind_text(st, RC_PARAMS, params, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, RC_PARAMS);
    bind_text_or_null(st, RC_HOST, r->host);
    bind_text_or_null(st, RC_MMBENCH_VERSION, r->mmbench_version);
    bind_text_or_null(st, RC_GIT_REV, r->git_rev);
    bind_text_or_null(st, RC_MACHINE, r->machine);
    bind_text_or_null(st, RC_BUILD, r->build);
    for (int i = 0; i < HX_METRIC_COUNT; i++)
        bind_num(st, RC_FIRST_METRIC + i, r->m[i], is_int_type(hx_metric_info[i].sqltype));
    return step_done(st);
}

int hx_store_insert_run(hx_store_t *s, hx_run_t *r, char *err, size_t errlen) {
    if (s->readonly) {
        seterr(err, errlen, "cannot store the run: the database %s was opened read-only", s->path);
        return EROFS;
    }
    sqlite3 *db = s->db;
    /* A database deleted (or replaced) under a sweep still takes its runs,
     * into the unlinked file that vanishes at close, and the sweep said they
     * were stored: refuse, so the run is printed rather than lost. */
    int moved = 0;
    if (sqlite3_file_control(db, "main", SQLITE_FCNTL_HAS_MOVED, &moved) == SQLITE_OK && moved) {
        seterr(err, errlen, "cannot store the run (%s on %s) in %s: the file was deleted or moved during the "
               "sweep (the runs stored before went with it)", r->allocator, r->workload, s->path);
        return ENOENT;
    }
    int rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        seterr(err, errlen, "cannot store the run in %s: %s", s->path, sqlite3_errmsg(db));
        return errno_of(rc);
    }
    if ((rc = insert_run_row(s, r)) != SQLITE_OK)
        goto fail;
    int64_t id = sqlite3_last_insert_rowid(db);

    for (size_t i = 0; i < r->nsamples; i++) {
        sqlite3_stmt *st = s->ins_sample;
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int64(st, 2, (int64_t)i);
        for (int c = 0; c < HX_SAMPLE_COUNT; c++)
            bind_num(st, 3 + c, r->samples[i].v[c], is_int_type(hx_sample_info[c].sqltype));
        if ((rc = step_done(st)) != SQLITE_OK)
            goto fail;
    }
    for (size_t i = 0; i < r->nblocks; i++) {
        sqlite3_stmt *st = s->ins_block;
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int64(st, 2, (int64_t)i);
        sqlite3_bind_int64(st, 3, (int64_t)r->blocks[i].offset);
        sqlite3_bind_int64(st, 4, (int64_t)r->blocks[i].size);
        sqlite3_bind_double(st, 5, isnan(r->blocks[i].used) ? 0.0 : r->blocks[i].used);
        if ((rc = step_done(st)) != SQLITE_OK)
            goto fail;
    }
    for (size_t i = 0; i < r->ncomp; i++) {
        sqlite3_stmt *st = s->ins_comp;
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int64(st, 2, (int64_t)i);
        sqlite3_bind_text(st, 3, r->comp[i].category, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 4, r->comp[i].label, -1, SQLITE_TRANSIENT);
        sqlite3_bind_double(st, 5, isnan(r->comp[i].bytes) ? 0.0 : r->comp[i].bytes);
        if ((rc = step_done(st)) != SQLITE_OK)
            goto fail;
    }
    for (size_t i = 0; i < r->ninfo; i++) {
        sqlite3_stmt *st = s->ins_info;
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_text(st, 2, r->info[i].key, -1, SQLITE_TRANSIENT);
        bind_num(st, 3, r->info[i].value, 0);
        if ((rc = step_done(st)) != SQLITE_OK)
            goto fail;
    }
    if ((rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL)) != SQLITE_OK)
        goto fail;
    r->id = id;
    return 0;

fail:
    seterr(err, errlen, "cannot store the run (%s on %s) in %s: %s", r->allocator, r->workload, s->path,
           sqlite3_errmsg(db));
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return errno_of(rc);
}

/* ---- load ------------------------------------------------------------------- */

static double col_num(sqlite3_stmt *st, int i) {
    return sqlite3_column_type(st, i) == SQLITE_NULL ? NAN : sqlite3_column_double(st, i);
}

static int metric_index(const char *name) {
    for (int i = 0; i < HX_METRIC_COUNT; i++)
        if (strcmp(name, hx_metric_info[i].key) == 0)
            return i;
    return -1;
}

static int sample_index(const char *name) {
    for (int i = 0; i < HX_SAMPLE_COUNT; i++)
        if (strcmp(name, hx_sample_info[i].key) == 0)
            return i;
    return -1;
}

/* One column of a runs row into r, by name: SELECT * works on an older file
 * opened read-only, whose missing metric columns then stay NaN. */
static void load_run_column(hx_run_t *r, sqlite3_stmt *st, int i) {
    const char *name = sqlite3_column_name(st, i);
    const unsigned char *txt = sqlite3_column_text(st, i);
    int null = sqlite3_column_type(st, i) == SQLITE_NULL;
    int64_t iv = sqlite3_column_int64(st, i);
    wl_params_t *p = &r->params;
    int m = metric_index(name);
    if (m >= 0) {
        r->m[m] = col_num(st, i);
    } else if (!strcmp(name, "id")) {
        r->id = iv;
    } else if (!strcmp(name, "sweep")) {
        copy_str(r->sweep, sizeof r->sweep, txt);
    } else if (!strcmp(name, "rep")) {
        r->rep = (int)iv;
    } else if (!strcmp(name, "allocator")) {
        copy_str(r->allocator, sizeof r->allocator, txt);
    } else if (!strcmp(name, "allocator_version")) {
        copy_str(r->allocator_version, sizeof r->allocator_version, txt);
    } else if (!strcmp(name, "workload")) {
        copy_str(r->workload, sizeof r->workload, txt);
        copy_str(p->workload, sizeof p->workload, txt);
    } else if (!strcmp(name, "status")) {
        copy_str(r->status, sizeof r->status, txt);
    } else if (!strcmp(name, "failure")) {
        copy_str(r->failure, sizeof r->failure, txt);
    } else if (!strcmp(name, "signal")) {
        r->signal = null ? 0 : (int)iv;
    } else if (!strcmp(name, "exit_code")) {
        r->exit_code = null ? -1 : (int)iv;
    } else if (!strcmp(name, "started_at")) {
        copy_str(r->started_at, sizeof r->started_at, txt);
    } else if (!strcmp(name, "finished_at")) {
        copy_str(r->finished_at, sizeof r->finished_at, txt);
    } else if (!strcmp(name, "ops")) {
        p->ops = (uint64_t)iv;
    } else if (!strcmp(name, "seed")) {
        p->seed = (uint64_t)iv;
    } else if (!strcmp(name, "threads")) {
        p->threads = (uint32_t)iv;
    } else if (!strcmp(name, "sizes")) {
        copy_str(p->sizes.text, sizeof p->sizes.text, txt);
    } else if (!strcmp(name, "live")) {
        p->live = (uint64_t)iv;
    } else if (!strcmp(name, "lifetime")) {
        for (int k = WL_LIFE_EXP; k <= WL_LIFE_LIFO && txt; k++) {
            const char *n = wl_lifetime_name((wl_lifetime_t)k);
            if (n && !strcmp(n, (const char *)txt))
                p->lifetime = (wl_lifetime_t)k;
        }
    } else if (!strcmp(name, "touch")) {
        for (int k = WL_TOUCH_NONE; k <= WL_TOUCH_ALL && txt; k++) {
            const char *n = wl_touch_name((wl_touch_t)k);
            if (n && !strcmp(n, (const char *)txt))
                p->touch = (wl_touch_t)k;
        }
    } else if (!strcmp(name, "trace")) {
        copy_str(p->trace_path, sizeof p->trace_path, txt);
    } else if (!strcmp(name, "samples_requested")) {
        r->samples_requested = (uint32_t)iv;
    } else if (!strcmp(name, "stream_hash")) {
        r->stream_hash = txt ? strtoull((const char *)txt, NULL, 16) : 0;
    } else if (!strcmp(name, "host")) {
        copy_str(r->host, sizeof r->host, txt);
    } else if (!strcmp(name, "mmbench_version")) {
        copy_str(r->mmbench_version, sizeof r->mmbench_version, txt);
    } else if (!strcmp(name, "git_rev")) {
        copy_str(r->git_rev, sizeof r->git_rev, txt);
    } else if (!strcmp(name, "machine")) {
        copy_str(r->machine, sizeof r->machine, txt);
    } else if (!strcmp(name, "build")) {
        copy_str(r->build, sizeof r->build, txt);
    }
}

/* Grow *arr (of *cap elements of size sz) to hold n + 1. */
static int grow(void **arr, size_t *cap, size_t n, size_t sz) {
    if (n < *cap)
        return 0;
    size_t nc = *cap ? *cap * 2 : 64;
    void *p = realloc(*arr, nc * sz);
    if (!p)
        return ENOMEM;
    *arr = p;
    *cap = nc;
    return 0;
}

/* One row of a run's table into one element of its array. */
typedef void (*row_fn)(sqlite3_stmt *st, void *elem, const int *map, int ncol);

static void row_sample(sqlite3_stmt *st, void *elem, const int *map, int ncol) {
    hx_sample_t *smp = elem;
    for (int c = 0; c < HX_SAMPLE_COUNT; c++)
        smp->v[c] = NAN;
    for (int c = 0; c < ncol && c < 64; c++)
        if (map[c] >= 0)
            smp->v[map[c]] = col_num(st, c);
}

static void row_block(sqlite3_stmt *st, void *elem, const int *map, int ncol) {
    (void)map, (void)ncol;
    hx_block_t *b = elem;
    b->offset = (uint64_t)sqlite3_column_int64(st, 0);
    b->size = (uint64_t)sqlite3_column_int64(st, 1);
    b->used = sqlite3_column_double(st, 2);
}

static void row_comp(sqlite3_stmt *st, void *elem, const int *map, int ncol) {
    (void)map, (void)ncol;
    hx_comp_t *c = elem;
    copy_str(c->category, sizeof c->category, sqlite3_column_text(st, 0));
    copy_str(c->label, sizeof c->label, sqlite3_column_text(st, 1));
    c->bytes = sqlite3_column_double(st, 2);
}

static void row_info(sqlite3_stmt *st, void *elem, const int *map, int ncol) {
    (void)map, (void)ncol;
    hx_kv_t *kv = elem;
    copy_str(kv->key, sizeof kv->key, sqlite3_column_text(st, 0));
    kv->value = col_num(st, 1);
}

/* Every row of `sql` (one parameter: the run id) appended to *arr as
 * elements of size sz.  Sample rows are matched to columns by name (map). */
static int load_rows(sqlite3 *db, const char *sql, int64_t id, void **arr, size_t *n, size_t sz,
                     row_fn fn) {
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rc;
    sqlite3_bind_int64(st, 1, id);
    int map[64];
    int ncol = sqlite3_column_count(st);
    for (int c = 0; c < ncol && c < 64; c++)
        map[c] = sample_index(sqlite3_column_name(st, c));
    size_t cap = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (grow(arr, &cap, *n, sz)) {
            rc = SQLITE_NOMEM;
            break;
        }
        fn(st, (char *)*arr + (*n)++ * sz, map, ncol);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int load_arrays(sqlite3 *db, unsigned tables, int64_t id, hx_run_t *r) {
    int rc = SQLITE_OK;
    if (tables & TB_SAMPLES)
        rc = load_rows(db, "SELECT * FROM samples WHERE run_id = ? ORDER BY idx", id, (void **)&r->samples,
                       &r->nsamples, sizeof *r->samples, row_sample);
    if (rc == SQLITE_OK && (tables & TB_HEAP_BLOCKS))
        rc = load_rows(db, "SELECT \"offset\", size, used FROM heap_blocks WHERE run_id = ? ORDER BY seq", id,
                       (void **)&r->blocks, &r->nblocks, sizeof *r->blocks, row_block);
    if (rc == SQLITE_OK && (tables & TB_COMPOSITION))
        rc = load_rows(db, "SELECT category, label, bytes FROM composition WHERE run_id = ? ORDER BY seq", id,
                       (void **)&r->comp, &r->ncomp, sizeof *r->comp, row_comp);
    if (rc == SQLITE_OK && (tables & TB_RUN_INFO))
        rc = load_rows(db, "SELECT key, value FROM run_info WHERE run_id = ? ORDER BY key", id,
                       (void **)&r->info, &r->ninfo, sizeof *r->info, row_info);
    return rc;
}

static int get_run(hx_store_t *s, int64_t id, hx_run_t *out, int arrays, char *err, size_t errlen);

int hx_store_get_run(hx_store_t *s, int64_t id, hx_run_t *out, char *err, size_t errlen) {
    return get_run(s, id, out, 1, err, errlen);
}

int hx_store_get_run_head(hx_store_t *s, int64_t id, hx_run_t *out, char *err, size_t errlen) {
    return get_run(s, id, out, 0, err, errlen);
}

static int get_run(hx_store_t *s, int64_t id, hx_run_t *out, int arrays, char *err, size_t errlen) {
    hx_run_init(out);
    sqlite3 *db = s->db;
    sqlite3_stmt *st;
    /* A read transaction so that the run and its arrays are one snapshot
     * (unless the caller already holds one). */
    int own = sqlite3_get_autocommit(db);
    int rc = own ? sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) : SQLITE_OK;
    if (rc != SQLITE_OK)
        goto fail_nort;
    rc = sqlite3_prepare_v2(db, "SELECT * FROM runs WHERE id = ?", -1, &st, NULL);
    if (rc != SQLITE_OK)
        goto fail;
    sqlite3_bind_int64(st, 1, id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        sqlite3_finalize(st);
        if (own)
            sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
        seterr(err, errlen, "no run %" PRId64 " in %s", id, s->path);
        return ENOENT;
    }
    if (rc != SQLITE_ROW) {
        sqlite3_finalize(st);
        goto fail;
    }
    int ncol = sqlite3_column_count(st);
    for (int i = 0; i < ncol; i++)
        load_run_column(out, st, i);
    sqlite3_finalize(st);
    /* The stored values are the ones the run used: no preset may replace
     * them (wl_params_json applies presets to parameters not marked set). */
    out->params.set = WL_SET_OPS | WL_SET_SEED | WL_SET_THREADS | WL_SET_SIZES | WL_SET_LIVE |
                      WL_SET_LIFETIME | WL_SET_TOUCH;
    if (out->params.sizes.text[0]) {
        /* Restore the parsed distribution; the text is kept on failure. */
        wl_dist_t d;
        char derr[128];
        if (wl_dist_parse(&d, out->params.sizes.text, derr, sizeof derr) == 0)
            out->params.sizes = d;
    }
    if (arrays && (rc = load_arrays(db, s->tables, id, out)) != SQLITE_OK)
        goto fail;
    if (own)
        sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    return 0;

fail:
    seterr(err, errlen, "cannot read run %" PRId64 " from %s: %s", id, s->path, sqlite3_errmsg(db));
    if (own)
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    hx_run_release(out);
    return errno_of(rc);
fail_nort:
    seterr(err, errlen, "cannot read run %" PRId64 " from %s: %s", id, s->path, sqlite3_errmsg(db));
    hx_run_release(out);
    return errno_of(rc);
}
