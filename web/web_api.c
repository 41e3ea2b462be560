/*
 * web_api.c - the JSON/CSV API over the run database (harness/SCHEMA.md).
 *
 * Every answer comes from prepared statements whose SQL text is constant
 * or assembled from constant fragments; request values are only ever bound.
 * Each request opens its own read-only connection (cheap, and it lets the
 * server answer in parallel while `mmbench run` writes: WAL readers never
 * block the writer, and busy_timeout covers checkpoints).
 *
 * Rows are written generically from the statement's columns, so a metric
 * added to HX_METRICS appears in the API without a change here.
 */
#include "web/web_internal.h"

#include "harness/hx.h"
#include "harness/metrics.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { RUNS_LIMIT_DEFAULT = 200, RUNS_LIMIT_MAX = 1000, COMPARE_MAX = 50, STREAM_BATCH = 256 };

void web_reply_error(web_reply_t *rep, int status, const char *msg) {
    web_buf_free(&rep->body);
    rep->status = status;
    rep->csv = 0;
    web_buf_puts(&rep->body, "{\"error\":");
    web_json_str(&rep->body, msg);
    web_buf_puts(&rep->body, "}\n");
}

/* web_reply_error with a printf-style message (web_internal.h). */
void web_reply_errorf(web_reply_t *rep, int status, const char *fmt, ...) {
    char msg[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    web_reply_error(rep, status, msg);
}

void web_reply_release(web_reply_t *rep) {
    web_buf_free(&rep->body);
    if (rep->stmt)
        sqlite3_finalize(rep->stmt);
    if (rep->db)
        sqlite3_close(rep->db);
    free(rep->tail);
    rep->stmt = NULL;
    rep->db = NULL;
    rep->tail = NULL;
}

/* ---- small parsers ------------------------------------------------------ */

/* A run id: 1 to 18 decimal digits, not zero. */
static int parse_id(const char *s, size_t len, int64_t *out) {
    if (len == 0 || len > 18)
        return EINVAL;
    int64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (!isdigit((unsigned char)s[i]))
            return EINVAL;
        v = v * 10 + (s[i] - '0');
    }
    if (v == 0)
        return EINVAL;
    *out = v;
    return 0;
}

static int parse_count(const char *s, int64_t max, int64_t *out) {
    size_t len = strlen(s);
    if (len == 0 || len > 12)
        return EINVAL;
    int64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (!isdigit((unsigned char)s[i]))
            return EINVAL;
        v = v * 10 + (s[i] - '0');
    }
    if (v > max)
        return ERANGE;
    *out = v;
    return 0;
}

static int digits(const char *s, int n, int lo, int hi) {
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v >= lo && v <= hi ? v : -1;
}

/* YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS[Z] -> the bound text.  A bare date used
 * as an upper bound is widened to the end of that day ("T~" sorts after
 * every time of the day in the ISO 8601 text the store writes). */
static int parse_date(const char *s, int upper, char *out, size_t outlen) {
    size_t len = strlen(s);
    if (len != 10 && len != 19 && !(len == 20 && s[19] == 'Z'))
        return EINVAL;
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y = digits(s, 4, 1970, 9999), m = digits(s + 5, 2, 1, 12), d = digits(s + 8, 2, 1, 31);
    if (y < 0 || s[4] != '-' || m < 0 || s[7] != '-' || d < 0)
        return EINVAL;
    if (d > mdays[m - 1] + (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)))
        return EINVAL; /* 2026-02-31 is no day */
    if (len == 10) {
        snprintf(out, outlen, "%.10s%s", s, upper ? "T~" : "");
        return 0;
    }
    if (s[10] != 'T' || digits(s + 11, 2, 0, 23) < 0 || s[13] != ':' || digits(s + 14, 2, 0, 59) < 0 ||
        s[16] != ':' || digits(s + 17, 2, 0, 60) < 0)
        return EINVAL;
    snprintf(out, outlen, "%.19sZ", s);
    return 0;
}

/* ---- database ------------------------------------------------------------- */

static sqlite3 *db_open(const char *path, web_reply_t *rep) {
    sqlite3 *db = NULL;
    if (hx_store_open_ro_db(path, (void **)&db) != SQLITE_OK) {
        sqlite3_close(db);
        web_reply_error(rep, 500, "The database cannot be opened.");
        return NULL;
    }
    sqlite3_busy_timeout(db, 5000);
    return db;
}

static sqlite3_stmt *db_prepare(sqlite3 *db, const char *sql, web_reply_t *rep) {
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        web_reply_errorf(rep, 500, "The database cannot be queried: %s.", sqlite3_errmsg(db));
        return NULL;
    }
    return st;
}

static int db_fail(sqlite3 *db, sqlite3_stmt *st, web_reply_t *rep) {
    web_reply_errorf(rep, 500, "The database cannot be read: %s.", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return -1;
}

/* 1 if run id exists, 0 if not, -1 on error (rep filled). */
static int run_exists(sqlite3 *db, int64_t id, web_reply_t *rep) {
    sqlite3_stmt *st = db_prepare(db, "SELECT 1 FROM runs WHERE id = ?", rep);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return db_fail(db, st, rep);
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE) {
        web_reply_errorf(rep, 404, "There is no run %lld.", (long long)id);
        return 0;
    }
    return 1;
}

/* Write every row of st: as objects into a JSON array (without brackets) or
 * as CSV lines (header first when header is set).  0, or -1 with rep set. */
static int write_rows(sqlite3 *db, sqlite3_stmt *st, web_buf_t *b, int csv, int header, web_reply_t *rep) {
    int rc, n = 0;
    if (csv && header)
        web_csv_header(b, st);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (csv) {
            web_row_csv(b, st);
        } else {
            if (n++)
                web_buf_put(b, ",", 1);
            web_row_object(b, st);
        }
    }
    if (rc != SQLITE_DONE)
        return db_fail(db, st, rep);
    return 0;
}

/* ---- routes ------------------------------------------------------------- */

#define RUN_COLUMNS                                                                  \
    "SELECT runs.*,"                                                                 \
    " (SELECT count(*) FROM samples s WHERE s.run_id = runs.id) AS n_samples,"       \
    " (SELECT count(*) FROM heap_blocks h WHERE h.run_id = runs.id) AS n_heap_blocks," \
    " (SELECT count(*) FROM composition c WHERE c.run_id = runs.id) AS n_composition" \
    " FROM runs"

static void route_metrics(web_reply_t *rep) {
    web_buf_t *b = &rep->body;
    if (rep->csv) {
        web_buf_puts(b, "kind,key,type,unit,label,description\r\n");
        for (int k = 0; k < 2; k++) {
            const hx_metric_info_t *t = k ? hx_sample_info : hx_metric_info;
            int n = k ? HX_SAMPLE_COUNT : HX_METRIC_COUNT;
            for (int i = 0; i < n; i++) {
                web_buf_puts(b, k ? "sample," : "metric,");
                web_buf_printf(b, "%s,%s,", t[i].key, t[i].sqltype);
                web_csv_str(b, t[i].unit);
                web_buf_put(b, ",", 1);
                web_csv_str(b, t[i].label);
                web_buf_put(b, ",", 1);
                web_csv_str(b, t[i].description ? t[i].description : "");
                web_buf_puts(b, "\r\n");
            }
        }
        return;
    }
    for (int k = 0; k < 2; k++) {
        const hx_metric_info_t *t = k ? hx_sample_info : hx_metric_info;
        int n = k ? HX_SAMPLE_COUNT : HX_METRIC_COUNT;
        web_buf_puts(b, k ? "],\"samples\":[" : "{\"metrics\":[");
        for (int i = 0; i < n; i++) {
            web_buf_puts(b, i ? ",{\"key\":" : "{\"key\":");
            web_json_str(b, t[i].key);
            web_buf_puts(b, ",\"type\":");
            web_json_str(b, t[i].sqltype);
            web_buf_puts(b, ",\"unit\":");
            web_json_str(b, t[i].unit);
            web_buf_puts(b, ",\"label\":");
            web_json_str(b, t[i].label);
            if (t[i].description) {
                web_buf_puts(b, ",\"description\":");
                web_json_str(b, t[i].description);
            }
            web_buf_puts(b, "}");
        }
    }
    web_buf_puts(b, "]}\n");
}

static void route_health(const char *dbpath, web_reply_t *rep) {
    sqlite3 *db = db_open(dbpath, rep);
    if (!db)
        return;
    sqlite3_stmt *st = db_prepare(db, "SELECT count(*) FROM runs", rep);
    if (st) {
        if (sqlite3_step(st) == SQLITE_ROW) {
            web_buf_printf(&rep->body, "{\"ok\":true,\"runs\":%lld}\n", (long long)sqlite3_column_int64(st, 0));
            sqlite3_finalize(st);
        } else {
            db_fail(db, st, rep);
        }
    }
    sqlite3_close(db);
}

/* GET /api/allocators and /api/workloads: the distinct values in the DB. */
static void route_distinct(const char *dbpath, int allocators, web_reply_t *rep) {
    static const char *sql[2] = {
        "SELECT workload AS name, count(*) AS runs, sum(status = 'ok') AS ok,"
        " min(started_at) AS first_run, max(started_at) AS last_run"
        " FROM runs GROUP BY workload ORDER BY workload",
        "SELECT allocator AS name, count(*) AS runs, sum(status = 'ok') AS ok,"
        " group_concat(DISTINCT allocator_version) AS versions,"
        " min(started_at) AS first_run, max(started_at) AS last_run"
        " FROM runs GROUP BY allocator ORDER BY allocator",
    };
    sqlite3 *db = db_open(dbpath, rep);
    if (!db)
        return;
    sqlite3_stmt *st = db_prepare(db, sql[allocators], rep);
    if (st) {
        web_buf_t *b = &rep->body;
        if (!rep->csv)
            web_buf_puts(b, allocators ? "{\"allocators\":[" : "{\"workloads\":[");
        if (write_rows(db, st, b, rep->csv, 1, rep) == 0) {
            sqlite3_finalize(st);
            if (!rep->csv)
                web_buf_puts(b, "]}\n");
        }
    }
    sqlite3_close(db);
}

static void route_runs(const char *dbpath, const web_query_t *q, web_reply_t *rep) {
    static const char *const known[] = {"allocator", "workload", "status", "since", "until",
                                        "sweep",     "limit",    "offset", "format", NULL};
    const char *bad = q->first_unknown(q->cls, known);
    if (bad) {
        web_reply_errorf(rep, 400, "Unknown parameter '%.40s' for /api/runs.", bad);
        return;
    }
    /* The WHERE clause is built from constant fragments; values are bound. */
    static const struct {
        const char *param, *clause;
        int date; /* 0 text, 1 lower date bound, 2 upper */
    } filt[] = {
        {"allocator", " AND allocator = ?", 0}, {"workload", " AND workload = ?", 0},
        {"status", " AND status = ?", 0},       {"sweep", " AND sweep = ?", 0},
        {"since", " AND started_at >= ?", 1},   {"until", " AND started_at <= ?", 2},
    };
    enum { NF = sizeof filt / sizeof filt[0] };
    char where[400] = " WHERE 1";
    char val[NF][32];
    const char *bind[NF];
    int nb = 0;
    for (int i = 0; i < NF; i++) {
        const char *v = q->get(q->cls, filt[i].param);
        if (!v)
            continue;
        if (filt[i].date) {
            if (parse_date(v, filt[i].date == 2, val[nb], sizeof val[nb])) {
                web_reply_errorf(rep, 400,
                                 "Parameter '%s' must be a date YYYY-MM-DD or a time YYYY-MM-DDTHH:MM:SSZ.",
                                 filt[i].param);
                return;
            }
            bind[nb] = val[nb];
        } else {
            bind[nb] = v;
        }
        nb++;
        strcat(where, filt[i].clause);
    }
    int64_t limit = RUNS_LIMIT_DEFAULT, offset = 0;
    const char *ls = q->get(q->cls, "limit"), *os = q->get(q->cls, "offset");
    if (ls && (parse_count(ls, RUNS_LIMIT_MAX, &limit) || limit < 1)) {
        web_reply_error(rep, 400, "Parameter 'limit' must be an integer from 1 to 1000.");
        return;
    }
    if (os && parse_count(os, INT64_C(999999999999), &offset)) {
        web_reply_error(rep, 400, "Parameter 'offset' must be a non-negative integer.");
        return;
    }

    sqlite3 *db = db_open(dbpath, rep);
    if (!db)
        return;
    char sql[1024];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM runs%s", where);
    sqlite3_stmt *cnt = db_prepare(db, sql, rep);
    snprintf(sql, sizeof sql, RUN_COLUMNS "%s ORDER BY runs.id DESC LIMIT ? OFFSET ?", where);
    sqlite3_stmt *st = cnt ? db_prepare(db, sql, rep) : NULL;
    if (!st) {
        sqlite3_finalize(cnt);
        sqlite3_close(db);
        return;
    }
    for (int i = 0; i < nb; i++) {
        sqlite3_bind_text(cnt, i + 1, bind[i], -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, i + 1, bind[i], -1, SQLITE_TRANSIENT);
    }
    sqlite3_bind_int64(st, nb + 1, limit);
    sqlite3_bind_int64(st, nb + 2, offset);
    if (sqlite3_step(cnt) != SQLITE_ROW) {
        db_fail(db, cnt, rep);
        sqlite3_finalize(st);
        sqlite3_close(db);
        return;
    }
    long long total = sqlite3_column_int64(cnt, 0);
    sqlite3_finalize(cnt);
    web_buf_t *b = &rep->body;
    if (!rep->csv)
        web_buf_printf(b, "{\"total\":%lld,\"limit\":%lld,\"offset\":%lld,\"runs\":[", total, (long long)limit,
                       (long long)offset);
    if (write_rows(db, st, b, rep->csv, 1, rep) == 0) {
        sqlite3_finalize(st);
        if (!rep->csv)
            web_buf_puts(b, "]}\n");
    }
    sqlite3_close(db);
}

/* Write run id as an object (with "info" and, when samples is set, its
 * "samples" table) or as a CSV line.  0, or -1 with rep set. */
static int write_run(sqlite3 *db, int64_t id, int csv, int header, int with_samples, web_buf_t *b,
                     web_reply_t *rep);

/* Write "columns":[names but run_id],"rows":[ and return run_id's column
 * index (-1 if absent). */
static int write_columns(web_buf_t *b, sqlite3_stmt *st) {
    int n = sqlite3_column_count(st), skip = -1, first = 1;
    web_buf_puts(b, "\"columns\":[");
    for (int i = 0; i < n; i++) {
        if (strcmp(sqlite3_column_name(st, i), "run_id") == 0) {
            skip = i;
            continue;
        }
        if (!first)
            web_buf_put(b, ",", 1);
        first = 0;
        web_json_str(b, sqlite3_column_name(st, i));
    }
    web_buf_puts(b, "],\"rows\":[");
    return skip;
}

static int write_table_json(sqlite3 *db, sqlite3_stmt *st, web_buf_t *b, web_reply_t *rep) {
    int n = sqlite3_column_count(st), first, rc;
    web_buf_puts(b, "{");
    int skip = write_columns(b, st);
    long rows = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        web_buf_puts(b, rows++ ? ",[" : "[");
        first = 1;
        for (int i = 0; i < n; i++) {
            if (i == skip)
                continue;
            if (!first)
                web_buf_put(b, ",", 1);
            first = 0;
            web_json_col(b, st, i);
        }
        web_buf_put(b, "]", 1);
    }
    if (rc != SQLITE_DONE)
        return db_fail(db, st, rep);
    web_buf_puts(b, "]}");
    return 0;
}

static int write_run(sqlite3 *db, int64_t id, int csv, int header, int with_samples, web_buf_t *b,
                     web_reply_t *rep) {
    sqlite3_stmt *st = db_prepare(db, RUN_COLUMNS " WHERE runs.id = ?", rep);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        if (rc != SQLITE_DONE)
            return db_fail(db, st, rep);
        sqlite3_finalize(st);
        web_reply_errorf(rep, 404, "There is no run %lld.", (long long)id);
        return -1;
    }
    if (csv) {
        if (header)
            web_csv_header(b, st);
        web_row_csv(b, st);
        sqlite3_finalize(st);
        return 0;
    }
    web_row_object(b, st);
    sqlite3_finalize(st);
    b->n--; /* reopen the object: drop its '}' */
    st = db_prepare(db, "SELECT key, value FROM run_info WHERE run_id = ? ORDER BY key", rep);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, id);
    web_buf_puts(b, ",\"info\":{");
    int n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n++)
            web_buf_put(b, ",", 1);
        web_json_str(b, (const char *)sqlite3_column_text(st, 0));
        web_buf_put(b, ":", 1);
        web_json_col(b, st, 1);
    }
    if (rc != SQLITE_DONE)
        return db_fail(db, st, rep);
    sqlite3_finalize(st);
    web_buf_put(b, "}", 1);
    if (with_samples) {
        st = db_prepare(db, "SELECT * FROM samples WHERE run_id = ? ORDER BY idx", rep);
        if (!st)
            return -1;
        sqlite3_bind_int64(st, 1, id);
        web_buf_puts(b, ",\"samples\":");
        if (write_table_json(db, st, b, rep))
            return -1;
        sqlite3_finalize(st);
    }
    web_buf_put(b, "}", 1);
    return 0;
}

static void route_run(const char *dbpath, int64_t id, web_reply_t *rep) {
    sqlite3 *db = db_open(dbpath, rep);
    if (!db)
        return;
    if (write_run(db, id, rep->csv, 1, 0, &rep->body, rep) == 0 && !rep->csv)
        web_buf_puts(&rep->body, "\n");
    sqlite3_close(db);
}

/* /api/runs/ID/{samples,heap,composition}: streamed, since a run may hold
 * many samples and a heap map many blocks. */
static void route_run_table(const char *dbpath, int64_t id, const char *table, web_reply_t *rep) {
    static const struct {
        const char *name, *sql;
    } tabs[] = {
        {"samples", "SELECT * FROM samples WHERE run_id = ? ORDER BY idx"},
        {"heap", "SELECT * FROM heap_blocks WHERE run_id = ? ORDER BY seq"},
        {"composition", "SELECT * FROM composition WHERE run_id = ? ORDER BY seq"},
    };
    const char *sql = NULL;
    for (size_t i = 0; i < sizeof tabs / sizeof tabs[0]; i++)
        if (strcmp(tabs[i].name, table) == 0)
            sql = tabs[i].sql;
    if (!sql) {
        web_reply_error(rep, 404, "No such API route.");
        return;
    }
    sqlite3 *db = db_open(dbpath, rep);
    if (!db)
        return;
    if (run_exists(db, id, rep) != 1) {
        sqlite3_close(db);
        return;
    }
    sqlite3_stmt *st = db_prepare(db, sql, rep);
    if (!st) {
        sqlite3_close(db);
        return;
    }
    sqlite3_bind_int64(st, 1, id);
    snprintf(rep->filename, sizeof rep->filename, "run-%lld-%s.csv", (long long)id, table);
    rep->db = db;
    rep->stmt = st;
    rep->skip_col = -1;
    web_buf_t *b = &rep->body;
    if (rep->csv) {
        web_csv_header(b, st);
        return;
    }
    web_buf_printf(b, "{\"run_id\":%lld,", (long long)id);
    rep->skip_col = write_columns(b, st);
    rep->tail = strdup("]}\n");
    if (!rep->tail)
        web_reply_error(rep, 500, "Out of memory.");
}

int web_api_stream_more(web_reply_t *rep) {
    if (rep->done || !rep->stmt)
        return 0;
    web_buf_t *b = &rep->body;
    int n = sqlite3_column_count(rep->stmt);
    for (int k = 0; k < STREAM_BATCH; k++) {
        int rc = sqlite3_step(rep->stmt);
        if (rc == SQLITE_DONE) {
            if (rep->tail)
                web_buf_puts(b, rep->tail);
            rep->done = 1;
            return b->oom ? -1 : 0;
        }
        if (rc != SQLITE_ROW)
            return -1;
        if (rep->csv) {
            web_row_csv(b, rep->stmt);
        } else {
            web_buf_puts(b, rep->rows ? ",[" : "[");
            int first = 1;
            for (int i = 0; i < n; i++) {
                if (i == rep->skip_col)
                    continue;
                if (!first)
                    web_buf_put(b, ",", 1);
                first = 0;
                web_json_col(b, rep->stmt, i);
            }
            web_buf_put(b, "]", 1);
        }
        rep->rows++;
    }
    return b->oom ? -1 : 1;
}

static void route_compare(const char *dbpath, const web_query_t *q, web_reply_t *rep) {
    static const char *const known[] = {"runs", "format", NULL};
    const char *bad = q->first_unknown(q->cls, known);
    if (bad) {
        web_reply_errorf(rep, 400, "Unknown parameter '%.40s' for /api/compare.", bad);
        return;
    }
    const char *s = q->get(q->cls, "runs");
    int64_t ids[COMPARE_MAX];
    int n = 0;
    if (!s || !*s) {
        web_reply_error(rep, 400, "Parameter 'runs' must list run ids, e.g. runs=1,2,3.");
        return;
    }
    while (*s) {
        const char *e = strchr(s, ',');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        int64_t id;
        if (parse_id(s, len, &id)) {
            web_reply_error(rep, 400, "Parameter 'runs' must be positive run ids separated by commas.");
            return;
        }
        if (n == COMPARE_MAX) {
            web_reply_error(rep, 400, "Parameter 'runs' may list at most 50 runs.");
            return;
        }
        for (int i = 0; i < n; i++)
            if (ids[i] == id) {
                web_reply_error(rep, 400, "Parameter 'runs' lists a run twice.");
                return;
            }
        ids[n++] = id;
        s += len;
        if (*s == ',') {
            s++;
            if (!*s) {
                web_reply_error(rep, 400, "Parameter 'runs' must not end with a comma.");
                return;
            }
        }
    }
    sqlite3 *db = db_open(dbpath, rep);
    if (!db)
        return;
    web_buf_t *b = &rep->body;
    snprintf(rep->filename, sizeof rep->filename, "compare-samples.csv");
    if (!rep->csv)
        web_buf_puts(b, "{\"runs\":[");
    for (int i = 0; i < n; i++) {
        if (rep->csv) {
            if (run_exists(db, ids[i], rep) != 1)
                break;
            sqlite3_stmt *st = db_prepare(db,
                                          "SELECT r.allocator, r.workload, r.rep, s.* FROM samples s"
                                          " JOIN runs r ON r.id = s.run_id WHERE s.run_id = ? ORDER BY s.idx",
                                          rep);
            if (!st)
                break;
            sqlite3_bind_int64(st, 1, ids[i]);
            if (write_rows(db, st, b, 1, i == 0, rep))
                break;
            sqlite3_finalize(st);
        } else {
            if (i)
                web_buf_put(b, ",", 1);
            if (write_run(db, ids[i], 0, 0, 1, b, rep))
                break;
        }
        if (i == n - 1 && !rep->csv)
            web_buf_puts(b, "]}\n");
    }
    sqlite3_close(db);
}

/* ---- router ------------------------------------------------------------- */

void web_api_handle(const char *dbpath, const char *url, const web_query_t *q, web_reply_t *rep) {
    rep->status = 200;
    rep->skip_col = -1;
    const char *path = url + 4; /* after "/api" */
    size_t len = strlen(path);
    if (len > 4 && strcmp(path + len - 4, ".csv") == 0) {
        rep->csv = 1;
        len -= 4;
    }
    char p[256];
    if (len >= sizeof p) {
        web_reply_error(rep, 404, "No such API route.");
        return;
    }
    memcpy(p, path, len);
    p[len] = '\0';

    static const char *const only_format[] = {"format", NULL};
    int simple = strcmp(p, "/metrics") == 0 || strcmp(p, "/health") == 0 || strcmp(p, "/allocators") == 0 ||
                 strcmp(p, "/workloads") == 0 || strncmp(p, "/runs/", 6) == 0;
    /* An unknown route is 404 whatever its parameters (under /runs/ID/ only
     * the three tables of route_run_table are routes). */
    const char *sub = strncmp(p, "/runs/", 6) == 0 ? strchr(p + 6, '/') : NULL;
    if (sub && strcmp(sub, "/samples") != 0 && strcmp(sub, "/heap") != 0 && strcmp(sub, "/composition") != 0) {
        web_reply_error(rep, 404, "No such API route.");
        return;
    }
    if (!simple && strcmp(p, "/runs") != 0 && strcmp(p, "/compare") != 0) {
        web_reply_error(rep, 404, "No such API route.");
        return;
    }
    /* A parameter given twice would otherwise silently take its first value. */
    const char *twice = q->first_repeated(q->cls);
    if (twice) {
        web_reply_errorf(rep, 400, "Parameter '%.40s' is given more than once.", twice);
        return;
    }
    const char *fmt = q->get(q->cls, "format");
    if (fmt) {
        if (strcmp(fmt, "csv") == 0) {
            rep->csv = 1;
        } else if (strcmp(fmt, "json") != 0 || rep->csv) {
            web_reply_error(rep, 400, "Parameter 'format' must be json or csv.");
            return;
        }
    }
    if (simple) {
        const char *bad = q->first_unknown(q->cls, only_format);
        if (bad) {
            web_reply_errorf(rep, 400, "Unknown parameter '%.40s'.", bad);
            return;
        }
    }
    if (strcmp(p, "/metrics") == 0) {
        snprintf(rep->filename, sizeof rep->filename, "metrics.csv");
        route_metrics(rep);
    } else if (strcmp(p, "/health") == 0) {
        if (rep->csv)
            web_reply_error(rep, 404, "No such API route.");
        else
            route_health(dbpath, rep);
    } else if (strcmp(p, "/allocators") == 0 || strcmp(p, "/workloads") == 0) {
        int a = p[1] == 'a';
        snprintf(rep->filename, sizeof rep->filename, "%s.csv", a ? "allocators" : "workloads");
        route_distinct(dbpath, a, rep);
    } else if (strcmp(p, "/runs") == 0) {
        snprintf(rep->filename, sizeof rep->filename, "runs.csv");
        route_runs(dbpath, q, rep);
    } else if (strcmp(p, "/compare") == 0) {
        route_compare(dbpath, q, rep);
    } else if (strncmp(p, "/runs/", 6) == 0) {
        const char *idp = p + 6, *slash = strchr(idp, '/');
        size_t idlen = slash ? (size_t)(slash - idp) : strlen(idp);
        int64_t id;
        if (parse_id(idp, idlen, &id)) {
            web_reply_error(rep, 400, "A run id must be a positive integer.");
            return;
        }
        if (!slash) {
            snprintf(rep->filename, sizeof rep->filename, "run-%lld.csv", (long long)id);
            route_run(dbpath, id, rep);
        } else {
            route_run_table(dbpath, id, slash + 1, rep);
        }
    } else {
        web_reply_error(rep, 404, "No such API route.");
    }
    if (rep->body.oom) {
        web_reply_release(rep);
        web_reply_error(rep, 500, "Out of memory.");
    }
}
