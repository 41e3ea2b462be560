/*
 * hx.h - the harness's public interface: the record of one run, the SQLite
 * store that keeps runs, and the command-line entry points.
 *
 * Data flow: the CLI parses a sweep -> hx_runner forks one child per run ->
 * the child serves the stream and sends an hx_run_t back over a pipe ->
 * the parent stores it with hx_store_insert_run (one transaction).
 *
 * The harness's own bookkeeping in a run's child never goes through the
 * allocator under test: the child's arrays come from hx_mem_alloc (mmap).
 */
#ifndef MMB_HX_H
#define MMB_HX_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "harness/metrics.h"
#include "workloads/wl.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Exit statuses of the CLI (DESIGN §6). */
enum { HX_EXIT_OK = 0, HX_EXIT_RUN_FAILED = 1, HX_EXIT_USAGE = 2 };

/* One time-series point; NaN = not reported. */
typedef struct hx_sample {
    double v[HX_SAMPLE_COUNT];
} hx_sample_t;

/* One block of the heap snapshot taken when L is largest (policy
 * allocators).  used is 1 or 0 for a real block; a binned summary row (when
 * the heap has too many blocks to keep) has the used fraction of its bytes. */
typedef struct hx_block {
    uint64_t offset, size;
    double used;
} hx_block_t;

/* One rectangle of the memory-composition treemap at peak: category is one
 * of payload, overhead, free, top, metadata, retained, other (and for buffer
 * runs owned, slice-parents, consumed, delayed); label refines it (e.g. a
 * free-fragment size class "free 64-127 B"). */
typedef struct hx_comp {
    char category[24];
    char label[48];
    double bytes;
} hx_comp_t;

/* An extra named figure (allocator's native statistic, environment fact). */
typedef struct hx_kv {
    char key[64];
    double value;
} hx_kv_t;

typedef struct hx_run {
    int64_t id;               /* set by the store */
    char sweep[40];           /* id shared by the runs of one `mmbench run` */
    int rep;                  /* 0-based repetition */
    char allocator[96];       /* as typed: "bestfit", "buffer:jemalloc"; "buffer" (the
                                 default pool) as the pool that served it: "buffer:glibc" */
    char allocator_version[256]; /* "mmbench-buffer/" + a 49-character jemalloc version fits */
    char workload[64];        /* named workload, or "trace" */
    char status[16];          /* "ok" or "failed" */
    char failure[256];        /* why it failed, one sentence; "" when ok */
    int signal;               /* signal that killed the child, 0 if none */
    int exit_code;            /* child's exit status, -1 if killed */
    char started_at[32];      /* ISO 8601 UTC */
    char finished_at[32];
    wl_params_t params;
    uint32_t samples_requested;
    uint64_t stream_hash;     /* wl_stream_t.hash: identical across allocators */
    char host[128];
    char mmbench_version[32];
    char git_rev[32];
    /* where the figures come from: "AMD EPYC, 2 CPUs, 23.4 GiB; L1d 48 KiB,
     * L2 1 MiB, L3 508 MiB; Linux 6.1.0" and "RelWithDebInfo, gcc 12.2.0;
     * flags -O2 -g" (", ASan+UBSan" before the flags for a sanitizer build);
     * "" = unknown (older runs) */
    char machine[256];
    char build[256];
    double m[HX_METRIC_COUNT]; /* NaN = NULL */
    hx_sample_t *samples;
    size_t nsamples;
    hx_block_t *blocks;
    size_t nblocks;
    hx_comp_t *comp;
    size_t ncomp;
    hx_kv_t *info;
    size_t ninfo;
} hx_run_t;

/* Zero a record and set every metric to NaN. */
void hx_run_init(hx_run_t *r);
/* Free the arrays of a record built by the parent (malloc'd). */
void hx_run_release(hx_run_t *r);

/* ---- the store (store.c) ------------------------------------------------ */

typedef struct hx_store hx_store_t;

#define HX_SCHEMA_VERSION 1

/* steady_ns_per_op needs at least this many requests after the ramp-up (and
 * a tenth of the stream) */
#define HX_STEADY_MIN_OPS 1000

/* The database path: --db if given, else $MMBENCH_DB, else
 * results/mmbench.db. */
const char *hx_default_db_path(void);

/* Open (and, unless readonly, create and migrate) the database at path.
 * 0 on success; else an errno-style code and one sentence in err: the file
 * cannot be opened or created, is not an mmbench database, or has a newer
 * schema than this build understands.  A readonly open never creates the
 * file.  Nothing is written when an error is returned. */
int hx_store_open(const char *path, int readonly, hx_store_t **out, char *err, size_t errlen);
void hx_store_close(hx_store_t *s);

/* Check, without creating anything, that path can be opened for writing by
 * hx_store_open (the file or its directory is writable, and an existing file
 * is an mmbench database of a schema we understand).  Used before a sweep
 * starts so that bad input writes nothing. */
int hx_store_check_writable(const char *path, char *err, size_t errlen);

/* While another process holds the database's write lock, wait for it up to
 * wait_ms (instead of SQLite's few seconds) in every later statement;
 * after notice_ms of one wait say so, once, in one line on stderr that
 * starts with who ("mmbench run").  stop, when non-NULL, is asked between
 * naps whether to give up at once (an interrupted sweep). */
void hx_store_set_lock_wait(hx_store_t *s, unsigned wait_ms, unsigned notice_ms, const char *who,
                            int (*stop)(void));

/* Insert a run with its samples, snapshot, composition and info in one
 * transaction; sets r->id. */
int hx_store_insert_run(hx_store_t *s, hx_run_t *r, char *err, size_t errlen);

/* Load one run (with samples etc.).  ENOENT if there is no such run. */
int hx_store_get_run(hx_store_t *s, int64_t id, hx_run_t *out, char *err, size_t errlen);
/* The same without the samples, heap map, composition and statistics. */
int hx_store_get_run_head(hx_store_t *s, int64_t id, hx_run_t *out, char *err, size_t errlen);

/* Open path read-only as a sqlite3* (in *db, NULL on failure; close it with
 * sqlite3_close); returns the SQLite result code.  Works where the user may
 * not write the database's directory.  Used by the web API per request. */
int hx_store_open_ro_db(const char *path, void **db);
/* Reading a database in WAL mode makes its -wal and -shm files where they
 * are not, and a read-only connection cannot remove them when it closes:
 * hx_store_wal_absent(path) says whether neither is there (before a read),
 * hx_store_tidy(path) removes them afterwards as SQLite does when the last
 * connection closes (a read-write one: nothing happens while another
 * process has the database open, or where this one may not write it).
 * hx_store_close does both for a store opened read-only. */
int hx_store_wal_absent(const char *path);
void hx_store_tidy(const char *path);

/* The underlying sqlite3* for read-only queries (web API). */
void *hx_store_db(hx_store_t *s);

/* ---- JSON and CSV writers shared by run --json, show, export, web -------- */

/* One JSON object for a run: run_id, allocator, allocator_version,
 * workload, status, every metric key (null when NaN), and the parameters. */
void hx_run_write_json(FILE *f, const hx_run_t *r);

/* ---- command-line entry points: each parses its own options, prints
 * --help, and returns the process exit status. ----------------------------- */
int hx_cmd_list(int argc, char **argv);
int hx_cmd_run(int argc, char **argv);
int hx_cmd_show(int argc, char **argv);
int hx_cmd_export(int argc, char **argv);
int hx_cmd_child(int argc, char **argv); /* internal: a run's child process */

/* ---- shared helpers (util.c) ------------------------------------------- */

/* Parse a non-negative integer with optional suffix k/M/G (x1000^n) or
 * exponent (1e6).  0 on success, EINVAL if malformed, ERANGE if too big. */
int hx_parse_u64(const char *s, uint64_t *out);
/* Match "--name=value" or "--name value" (advancing *i); returns the value
 * or NULL.  A next word that starts with "--" is never taken as the value. */
const char *hx_opt(int argc, char **argv, int *i, const char *name);
/* An option given a second time (prev, its first value, is not NULL): one
 * sentence on stderr, "mmbench CMD: --alloc is given twice ('a' and 'b');
 * ...", and 1; else 0.  A list option (list != 0) says to list the values in
 * one option instead. */
int hx_opt_twice(const char *cmd, const char *name, const char *prev, const char *v, int list);
/* Memory for the harness's own bookkeeping inside a run's child: straight
 * from mmap, never from the allocator under test. */
void *hx_mem_alloc(size_t n);
void hx_mem_free(void *p, size_t n);
uint64_t hx_now_ns(void); /* CLOCK_MONOTONIC */
/* The permille/1000 quantile of the n values v, sorted ascending, by the
 * nearest-rank method: v[ceil(permille * n / 1000) - 1], the smallest value
 * with at least that share of the values at or below it.  NaN when n is too
 * small for the rank to be below the largest value (n < 1000 / (1000 -
 * permille): p50 needs 2 values, p99 100, p99.9 1000), and for n = 0
 * (metrics.c). */
double hx_percentile(const uint64_t *v, uint64_t n, unsigned permille);
void hx_iso_time(char *buf, size_t len); /* now, ISO 8601 UTC */
/* The machine a run is measured on: CPU model, CPUs online, memory, cache
 * sizes, kernel (hx_run_t.machine). */
void hx_machine_describe(char *buf, size_t len);
/* The build of this binary: build type, compiler, sanitizers (hx_run_t.build). */
void hx_build_describe(char *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
