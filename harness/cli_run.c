/*
 * cli_run.c - `mmbench list` and `mmbench run`.
 *
 * run validates everything first (allocators, workloads and their
 * parameters, the database) so that bad input exits 2 having written
 * nothing; then it sweeps (rep, workload, allocator) with the allocators
 * interleaved (A B C A B C), one child process per run, and stores each run
 * as soon as it finishes.  Ctrl-C stops the sweep and keeps every finished
 * run.
 */
#define _GNU_SOURCE
#include "allocators/alloc.h"
#include "harness/hx.h"
#include "harness/proc.h"
#include "harness/runner.h"
#include "mmb_config.h"
#include "mmb_gitrev.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <sys/stat.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_LIST 64

/* ---- list ---------------------------------------------------------------- */

static void list_usage(FILE *f) {
    fputs("usage: mmbench list [--help]\n"
          "\n"
          "Print every allocator (with its availability, version and the figure used\n"
          "as heap held) and every named workload.\n"
          "  --help   print this help\n",
          f);
}

int hx_cmd_list(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            list_usage(stdout);
            return 0;
        }
        if (argv[i][0] != '-')
            fprintf(stderr, "mmbench list: unexpected argument '%s'; list takes no arguments (see mmbench list --help)\n",
                    argv[i]);
        else
            fprintf(stderr, "mmbench list: unknown option '%s'; see mmbench list --help\n", argv[i]);
        return HX_EXIT_USAGE;
    }
    printf("allocators:\n");
    for (size_t i = 0; i < alloc_count(); i++) {
        const alloc_methods_t *m = alloc_at(i);
        const char *reason;
        int ok = alloc_is_available(m, &reason);
        char name[64];
        snprintf(name, sizeof name, "%s%s", m->name, (m->flags & ALLOC_WRAPPER) ? "[:NAME]" : "");
        const char *ver = alloc_version(m);
        if (ok && strlen(ver) > 22) /* (jemalloc's has its git hash) the description on a line of its own */
            printf("  %-16s available    %s\n  %-16s              %-22s %s\n", name, ver, "", "", m->description);
        else if (ok)
            printf("  %-16s available    %-22s %s\n", name, ver, m->description);
        else
            printf("  %-16s unavailable  %-22s %s (%s)\n", name, "-", m->description, reason);
        if (m->heap_figure)
            printf("  %-16s              heap held (H): %s\n", "", m->heap_figure);
    }
    printf("\nworkloads:\n");
    for (size_t i = 0; i < wl_count(); i++) {
        const wl_info_t *w = wl_at(i);
        char name[64];
        snprintf(name, sizeof name, "%s%s", w->name, !strcmp(w->name, "trace") ? ":FILE" : "");
        printf("  %-16s %s%s\n", name, w->description, w->multi_threaded ? " [multi-threaded]" : "");
    }
    return 0;
}

/* ---- run ----------------------------------------------------------------- */

static void run_usage(FILE *f) {
    fputs("usage: mmbench run --alloc=A[,B...] [--workload=W[,W...]] [--reps=R]\n"
          "                   [workload parameters] [--samples=N] [--timeout=SECONDS]\n"
          "                   [--db=PATH] [--json] [--quiet] [--verify] [--debug-heap]\n"
          "\n"
          "Run each workload against each allocator, one child process per run, and\n"
          "store every run in the database.  Repetitions are interleaved across\n"
          "allocators (A B C A B C) so that drift of the machine hits them alike.\n"
          "\n"
          "options:\n"
          "  --alloc=A[,B...]     allocators (see `mmbench list`); buffer:NAME runs the\n"
          "                       buffer manager over NAME; buffer alone, over the\n"
          "                       default pool, is buffer:NAME for the allocator that\n"
          "                       $MMBENCH_DEFAULT_POOL names (default glibc)\n"
          "  --workload=W[,W...]  named workloads or trace:FILE (default random)\n"
          "  --reps=R             repetitions of each pair (default 1)\n"
          "  --samples=N          time-series points per run (default 200; one thread:\n"
          "                       also the peak of L and the end of the ramp-up)\n"
          "  --timeout=SECONDS    kill and record as failed a run that takes longer\n"
          "                       (default 600; 0 = no limit; time the sweep spends\n"
          "                       stopped, as by Ctrl-Z, does not count)\n"
          "  --db=PATH            database (default $MMBENCH_DB or results/mmbench.db)\n"
          "  --json               print one JSON object per finished run\n"
          "  --quiet              print nothing but errors\n"
          "  --verify             fill every block and check its contents before it is\n"
          "                       freed (slower; catches allocators that hand out\n"
          "                       overlapping memory)\n"
          "  --debug-heap         policy allocators: run the heap checker after every\n"
          "                       request and prove every freed pointer (much slower;\n"
          "                       a broken invariant fails the run with its reason)\n"
          "  --help               print this help\n"
          "\n"
          "workload parameters:\n"
          "  --ops=N              requests in all threads together (default 1000000)\n"
          "  --seed=S             seed of the request stream, 0 to 2^63-1 (default 42)\n"
          "  --threads=T          threads (default 1; larson and prodcons default 4)\n"
          "  --sizes=DIST         uniform:MIN:MAX | exp:MEAN | lognormal:MU:SIGMA |\n"
          "                       set:A,B,C | pow2:MIN:MAX | pareto:MIN:MAX:ALPHA\n"
          "                       (default per workload; random: uniform:16:512)\n"
          "  --live=N             target live objects in steady state (default per\n"
          "                       workload; random: 10000)\n"
          "  --lifetime=L         exp | uniform | fifo | lifo (default exp; every-other,\n"
          "                       realloc-grow, larson and prodcons ignore it and\n"
          "                       record none)\n"
          "  --touch=T            none | first | page | all (default page)\n"
          "Numbers accept suffixes and exponents: 10k, 4M, 1e6 (k, M, G, T are powers\n"
          "of 1000; inside --sizes they are powers of 1024: 4k = 4096).\n"
          "\n"
          "exit status: 0 every run succeeded; 1 some run failed (recorded, the sweep\n"
          "went on); 2 bad usage or input (nothing written).\n",
          f);
}

/* The SIGINT or SIGTERM that stopped the sweep (0: none). */
static volatile sig_atomic_t run_interrupted;

static void on_sigint(int sig) { run_interrupted = sig; }

/* for the store: give up waiting for the database's lock once interrupted */
static int run_stop_requested(void) { return run_interrupted != 0; }

/* How long storing a finished run waits for another process's lock on the
 * database: 120 s (a run's measurement is not thrown away because a reader
 * like sqlite3 or another sweep held the lock a moment too long), or
 * MMBENCH_LOCK_WAIT seconds; after 3 s it says so. */
#define RUN_LOCK_WAIT_S 120
#define RUN_LOCK_NOTICE_MS 3000

/* Settings of the allocators under test in the environment: glibc's
 * MALLOC_* and GLIBC_TUNABLES, jemalloc's MALLOC_CONF, mimalloc's
 * MIMALLOC_*, gperftools' TCMALLOC_* and its heap profiler and checker.  A
 * run records its allocator, not these, so set in the user's shell they
 * would change its figures unrecorded: the runs do not get them (as they do
 * not get the user's LD_PRELOAD).  Removes them from this process's
 * environment, which the runs inherit, and says which unless quiet. */
static void drop_allocator_settings(int quiet) {
    extern char **environ;
    static const char *const prefixes[] = {"MALLOC_", "JE_MALLOC_", "GLIBC_TUNABLES=", "MIMALLOC_",
                                           "TCMALLOC_", "HEAPPROFILE=", "HEAPCHECK=", "HEAP_PROFILE_"};
    char names[512] = "";
    size_t off = 0;
    for (size_t i = 0; environ && environ[i];) {
        const char *e = environ[i], *eq = strchr(e, '=');
        int match = 0;
        for (size_t k = 0; k < sizeof prefixes / sizeof prefixes[0] && eq && !match; k++)
            match = !strncmp(e, prefixes[k], strlen(prefixes[k]));
        char *name = match ? strndup(e, (size_t)(eq - e)) : NULL;
        if (!name || unsetenv(name) != 0) { /* unsetenv moves the next entry to i */
            free(name);
            i++;
            continue;
        }
        int n = snprintf(names + off, sizeof names - off, "%s%s", off ? ", " : "", name);
        if (n > 0 && (size_t)n < sizeof names - off)
            off += (size_t)n;
        free(name);
    }
    if (off && !quiet)
        fprintf(stderr, "mmbench run: not passing %s to the runs (allocator settings from the environment "
                        "would change the results without being recorded)\n", names);
}

/* Cut s in place at its commas; empty items are kept (the caller refuses
 * them, and a trace file's name may hold ",,"). */
static int split_list(char *s, char **items, int max) {
    int n = 0;
    if (!*s)
        return 0; /* --alloc= : no list at all */
    for (char *tok = s;;) {
        if (n == max)
            return -1;
        items[n++] = tok;
        char *c = strchr(tok, ',');
        if (!c)
            break;
        *c = 0;
        tok = c + 1;
    }
    return n;
}

/* An empty item or one given twice: one sentence into msg, 1; else 0. */
static int list_problem(char **items, int n, const char *opt, const char *what, char *msg, size_t len) {
    for (int i = 0; i < n; i++) {
        if (!items[i][0]) {
            snprintf(msg, len, "%s: the list has an empty %s; separate the %ss by single commas", opt, what, what);
            return 1;
        }
        for (int j = 0; j < i; j++)
            if (!strcmp(items[i], items[j])) {
                snprintf(msg, len, "%s: %s is listed twice; list each %s once (--reps repeats the runs)", opt,
                         items[i], what);
                return 1;
            }
    }
    return 0;
}

/* A trace file whose name holds a comma: an item "trace:A" of the workload
 * list whose file A does not exist takes the items after it back while
 * "A,B..." names a file that does (so `--workload=trace:runs,1.txt` works;
 * a trace name never shadows a named workload unless that file exists). */
static int join_trace_names(char **items, int n) {
    for (int i = 0; i < n; i++) {
        struct stat sb;
        if (strncmp(items[i], "trace:", 6) || stat(items[i] + 6, &sb) == 0)
            continue;
        int j = i + 1, found = 0;
        /* split_list cut the list in place: item j follows item j-1 after
         * one NUL where the comma was */
        for (; j < n && items[j] == items[j - 1] + strlen(items[j - 1]) + 1; j++) {
            items[j][-1] = ',';
            if (stat(items[i] + 6, &sb) == 0) {
                found = 1;
                break;
            }
        }
        if (!found) { /* no such file: the list as it was */
            for (int k = i + 1; k < j; k++)
                items[k][-1] = 0;
            continue;
        }
        int drop = j - i;
        for (int k = i + 1; k + drop < n; k++)
            items[k] = items[k + drop];
        n -= drop;
    }
    return n;
}

/* A trace that exists is named by its canonical path (realpath: absolute,
 * no "." or ".." or symbolic links), so that trace:x and trace:./x are one
 * workload, and the stored name finds the file from any directory.  A name
 * that does not resolve stays as typed (its run says why it cannot open),
 * and so does one whose canonical path is longer than a run can record (a
 * short name deep in the tree: refused for a length the user never typed). */
static char *resolved_traces[MAX_LIST]; /* held to the end (reachable for LeakSanitizer) */
static void resolve_trace_names(char **items, int n) {
    for (int i = 0; i < n && i < MAX_LIST; i++) {
        if (strncmp(items[i], "trace:", 6) != 0)
            continue;
        char *abs = realpath(items[i] + 6, NULL);
        if (!abs)
            continue;
        if (strlen(abs) >= sizeof ((wl_params_t *)0)->trace_path) {
            free(abs);
            continue;
        }
        size_t len = strlen(abs) + 7;
        char *named = malloc(len);
        if (named) {
            snprintf(named, len, "trace:%s", abs);
            free(resolved_traces[i]);
            items[i] = resolved_traces[i] = named;
        }
        free(abs);
    }
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...) {
    va_list ap;
    fputs("mmbench run: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return HX_EXIT_USAGE;
}

/* An integer option from lo to hi: text that is no number is called so, and
 * a number out of range is called out of range (not "not a count").
 * Returns 0, or 1 after the one-sentence message. */
static int bounded_opt(const char *opt, const char *v, uint64_t lo, uint64_t hi, const char *noun,
                       const char *unit, const char *lo_text, uint64_t *out) {
    int bad = hx_parse_u64(v, out);
    if (bad == EINVAL) {
        usage_error("%s: '%s' is not %s; expected an integer from %s to %" PRIu64, opt, v, noun, lo_text, hi);
        return 1;
    }
    if (bad || *out < lo || *out > hi) {
        usage_error("%s: %s%s is out of range; expected an integer from %s to %" PRIu64, opt, v, unit, lo_text, hi);
        return 1;
    }
    return 0;
}

/* ---- memory a stream needs ----------------------------------------------- */

/* A lower bound of the bytes of memory that generating and running the
 * stream of q (resolved parameters) takes at once, in this process, which
 * generates it to check it, and in the run's, which generates it again (not
 * at the same time: this process frees its copy first).  It counts only what
 * surely is held:
 *   this process: the stream (16 bytes a request); for larson and prodcons
 *   the order they are dealt from as well (another 16 + 1 bytes a request);
 *   for random, powerlaw and ramp, whose live objects reach --live (or every
 *   request), the generator's tables of one thread (16 bytes a slot, and the
 *   lifetime queue: 24 bytes an object for uniform (a heap of deadlines), 4 for exp, fifo and
 *   lifo);
 *   the run's process: the stream, the latency table (8 bytes per 256
 *   requests), for those three workloads its slot tables (12 bytes a slot)
 *   and the touched part of the live blocks (each at least its smallest
 *   request, up to a page; none with --touch=none).
 * Traces are left out (0): their length is the file's.  The larger of the
 * two processes, as a double (it can exceed 2^64 in principle). */
static double stream_memory_bound(const wl_params_t *q) {
    if (!strcmp(q->workload, "trace"))
        return 0;
    double ops = (double)q->ops, stream = 16.0 * ops;
    if (!strcmp(q->workload, "larson") || !strcmp(q->workload, "prodcons"))
        return stream + 17.0 * ops;
    double blocks = 0;
    if (!strcmp(q->workload, "random") || !strcmp(q->workload, "powerlaw") || !strcmp(q->workload, "ramp"))
        blocks = (double)(q->live < q->ops ? q->live : q->ops);
    uint32_t T = q->threads ? q->threads : 1;
    double per_object = q->lifetime == WL_LIFE_UNIFORM ? 24 : 4;
    double parent = stream + ceil(blocks / T) * (16 + per_object);
    double smallest = 1;
    switch (q->sizes.kind) {
    case WL_DIST_UNIFORM:
    case WL_DIST_POW2:
    case WL_DIST_PARETO:
        smallest = q->sizes.a;
        break;
    case WL_DIST_SET:
        smallest = q->sizes.nset ? (double)q->sizes.set[0] : 1;
        for (uint32_t i = 1; i < q->sizes.nset; i++)
            if ((double)q->sizes.set[i] < smallest)
                smallest = (double)q->sizes.set[i];
        break;
    default: /* exp, lognormal: down to 1 byte */
        break;
    }
    if (smallest > WL_TOUCH_PAGE_BYTES)
        smallest = WL_TOUCH_PAGE_BYTES;
    double touched = q->touch == WL_TOUCH_NONE ? 0 : blocks * smallest;
    double child = stream + ops / 32 + blocks * 12 + touched;
    return parent > child ? parent : child;
}

/* v / scale with fmt, or "n/a" when v is NULL (NaN) */
static void fig(char *buf, size_t len, const char *fmt, double v, double scale) {
    if (isnan(v))
        snprintf(buf, len, "n/a");
    else
        snprintf(buf, len, fmt, v / scale);
}

static void print_summary(const hx_run_t *r, int total, int index) {
    (void)total;
    (void)index;
    if (strcmp(r->status, "ok") != 0) {
        printf("run %lld  %-16s %-14s rep %d  FAILED: %s\n", (long long)r->id, r->allocator,
               r->workload, r->rep + 1, r->failure);
        return;
    }
    const double *m = r->m;
    /* a figure the run could not measure is n/a, as in `show` (not nan) */
    char ns[32], steady[32], p99[32], heap[32], rss[32], jw4[32];
    fig(ns, sizeof ns, "%8.1f ns/op", m[HX_M_ns_per_op], 1);
    fig(steady, sizeof steady, "%.1f", m[HX_M_steady_ns_per_op], 1);
    fig(p99, sizeof p99, "%7.0f ns", m[HX_M_lat_p99_ns], 1);
    fig(heap, sizeof heap, "%8.2f MiB", m[HX_M_peak_heap_bytes], 1048576.0);
    fig(rss, sizeof rss, "%.1f MiB", m[HX_M_peak_rss_bytes], 1048576.0);
    fig(jw4, sizeof jw4, "%.3f", m[HX_M_frag_jw4], 1);
    printf("run %lld  %-16s %-14s rep %d  %s (after the ramp-up %s)  p99 %s  peak heap %s  peak RSS %s  jw4 %s\n",
           (long long)r->id, r->allocator, r->workload, r->rep + 1, ns, steady, p99, heap, rss, jw4);
}

int hx_cmd_run(int argc, char **argv) {
    /* Fixed storage: nothing here needs freeing on any of the many exits. */
    static char alloc_buf[4096], wl_buf[8192], wl_arg_buf[32][1200];
    static wl_params_t params[MAX_LIST];
    static uint64_t stream_hash[MAX_LIST]; /* each workload's, as generated here */
    char *alloc_arg = NULL, *wl_arg = NULL;
    const char *db = NULL;
    /* each option's value as given, to refuse it given twice */
    const char *alloc_v = NULL, *wl_v = NULL, *reps_v = NULL, *samples_v = NULL, *timeout_v = NULL;
    uint64_t reps = 1, samples = 200, timeout = 600;
    int json = 0, quiet = 0, verify = 0, debug_heap = 0;
    char *wl_args[32];
    int nwl_args = 0;
    static const char *const wl_keys[] = {"ops", "seed", "threads", "sizes", "live", "lifetime", "touch"};

    for (int i = 1; i < argc; i++) {
        const char *v;
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            run_usage(stdout);
            return 0;
        } else if ((v = hx_opt(argc, argv, &i, "--alloc"))) {
            if (hx_opt_twice("run", "--alloc", alloc_v, v, 1))
                return HX_EXIT_USAGE;
            alloc_v = v;
            if (strlen(v) >= sizeof alloc_buf)
                return usage_error("--alloc: the list is too long (at most %zu characters)", sizeof alloc_buf - 1);
            alloc_arg = strcpy(alloc_buf, v);
        } else if ((v = hx_opt(argc, argv, &i, "--workload"))) {
            if (hx_opt_twice("run", "--workload", wl_v, v, 1))
                return HX_EXIT_USAGE;
            wl_v = v;
            if (strlen(v) >= sizeof wl_buf)
                return usage_error("--workload: the list is too long (at most %zu characters)", sizeof wl_buf - 1);
            wl_arg = strcpy(wl_buf, v);
        } else if ((v = hx_opt(argc, argv, &i, "--db"))) {
            if (hx_opt_twice("run", "--db", db, v, 0))
                return HX_EXIT_USAGE;
            db = v;
        } else if ((v = hx_opt(argc, argv, &i, "--reps"))) {
            if (hx_opt_twice("run", "--reps", reps_v, v, 0))
                return HX_EXIT_USAGE;
            reps_v = v;
            if (bounded_opt("--reps", v, 1, 10000, "a count", "", "1", &reps))
                return HX_EXIT_USAGE;
        } else if ((v = hx_opt(argc, argv, &i, "--samples"))) {
            if (hx_opt_twice("run", "--samples", samples_v, v, 0))
                return HX_EXIT_USAGE;
            samples_v = v;
            if (bounded_opt("--samples", v, 1, 100000, "a count", "", "1", &samples))
                return HX_EXIT_USAGE;
        } else if ((v = hx_opt(argc, argv, &i, "--timeout"))) {
            if (hx_opt_twice("run", "--timeout", timeout_v, v, 0))
                return HX_EXIT_USAGE;
            timeout_v = v;
            if (bounded_opt("--timeout", v, 0, 86400, "a number of seconds", " seconds", "0 (no limit)", &timeout))
                return HX_EXIT_USAGE;
        } else if (!strcmp(a, "--json")) {
            json = 1;
        } else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) {
            quiet = 1;
        } else if (!strcmp(a, "--verify")) {
            verify = 1;
        } else if (!strcmp(a, "--debug-heap")) {
            debug_heap = 1;
        } else {
            int matched = 0;
            for (size_t k = 0; k < sizeof wl_keys / sizeof wl_keys[0] && !matched; k++) {
                char name[32];
                snprintf(name, sizeof name, "--%s", wl_keys[k]);
                if ((v = hx_opt(argc, argv, &i, name))) {
                    size_t nl = strlen(name);
                    for (int k2 = 0; k2 < nwl_args; k2++)
                        if (!strncmp(wl_args[k2], name, nl) && wl_args[k2][nl] == '=' &&
                            hx_opt_twice("run", name, wl_args[k2] + nl + 1, v, 0))
                            return HX_EXIT_USAGE;
                    if (nwl_args == (int)(sizeof wl_args / sizeof wl_args[0]) - 1)
                        return usage_error("too many workload parameters");
                    int len = snprintf(wl_arg_buf[nwl_args], sizeof wl_arg_buf[0], "--%s=%s", wl_keys[k], v);
                    if (len < 0 || (size_t)len >= sizeof wl_arg_buf[0])
                        return usage_error("--%s: the value is too long", wl_keys[k]);
                    wl_args[nwl_args] = wl_arg_buf[nwl_args];
                    nwl_args++;
                    matched = 1;
                }
            }
            if (!matched) {
                static const char *const valued[] = {"alloc", "workload", "db", "reps", "samples", "timeout"};
                for (size_t k = 0; !strncmp(a, "--", 2) && k < sizeof valued / sizeof valued[0]; k++)
                    if (!strcmp(a + 2, valued[k]))
                        return usage_error("%s needs a value; see mmbench run --help", a);
                for (size_t k = 0; !strncmp(a, "--", 2) && k < sizeof wl_keys / sizeof wl_keys[0]; k++)
                    if (!strcmp(a + 2, wl_keys[k]))
                        return usage_error("%s needs a value; see mmbench run --help", a);
                if (a[0] != '-')
                    return usage_error("unexpected argument '%s'; run takes only options, like --alloc=glibc "
                                       "(see mmbench run --help)", a);
                return usage_error("unknown option '%s'; see mmbench run --help", a);
            }
        }
    }
    if (!alloc_arg)
        return usage_error("--alloc is required; the allocators are: %s", alloc_names());

    /* Allocators: known, available, thread-safe where the workload needs it. */
    char *allocs[MAX_LIST];
    int nalloc = split_list(alloc_arg, allocs, MAX_LIST);
    if (nalloc <= 0)
        return usage_error("--alloc: expected a comma-separated list of allocators; they are: %s",
                           alloc_names());
    char lmsg[600];
    if (list_problem(allocs, nalloc, "--alloc", "allocator", lmsg, sizeof lmsg))
        return usage_error("%s", lmsg);
    /* buffer alone is the buffer manager over its default pool, the
     * allocator MMBENCH_DEFAULT_POOL names (glibc when unset): the sweep runs
     * it as buffer:POOL, so that the run's process preloads POOL where it
     * needs that (jemalloc, ...) and the run is stored under the name of
     * what serves it even when it fails before it says so.  The library
     * falls back to glibc with a warning for a name that cannot serve the
     * pool; a sweep refuses it before anything runs. */
    static char default_buffer[96];
    for (int k = 0; k < nalloc; k++) {
        if (strcmp(allocs[k], "buffer"))
            continue;
        const char *want = getenv("MMBENCH_DEFAULT_POOL");
        if (!want || !*want)
            want = "glibc";
        const alloc_methods_t *pm = alloc_find(want);
        if (!pm || (pm->flags & (ALLOC_DEVICE | ALLOC_WRAPPER)))
            return usage_error("MMBENCH_DEFAULT_POOL=%s: --alloc=buffer draws its default pool from the allocator "
                               "this names, and %s; name one of `mmbench list` other than a device allocator and "
                               "buffer, or unset it (glibc)",
                               want, !pm ? "there is no such allocator"
                                         : (pm->flags & ALLOC_DEVICE) ? "its memory is the device's, which buffers cannot use"
                                                                      : "the buffer manager cannot draw a pool from itself");
        snprintf(default_buffer, sizeof default_buffer, "buffer:%s", pm->name);
        for (int j = 0; j < nalloc; j++)
            if (!strcmp(allocs[j], default_buffer))
                return usage_error("--alloc: buffer (the default pool, %s%s) and %s are one allocator; list it "
                                   "once", default_buffer,
                                   getenv("MMBENCH_DEFAULT_POOL") && *getenv("MMBENCH_DEFAULT_POOL")
                                       ? " as MMBENCH_DEFAULT_POOL says" : ": MMBENCH_DEFAULT_POOL is unset",
                                   default_buffer);
        allocs[k] = default_buffer;
    }
    for (int k = 0; k < nalloc; k++) {
        const char *inner;
        const alloc_methods_t *m = alloc_split_name(allocs[k], &inner);
        if (!m)
            return usage_error("unknown allocator '%s'; the allocators are: %s", allocs[k], alloc_names());
        const char *reason;
        /* before availability: the same answer on a machine with a GPU */
        if (verify && (m->flags & ALLOC_DEVICE))
            return usage_error("--verify fills every block and checks its contents, and allocator %s's memory is "
                               "on the device, which the CPU cannot read or write; run it without --verify",
                               allocs[k]);
        if (!alloc_is_available(m, &reason))
            return usage_error("allocator %s is unavailable: %s", allocs[k], reason);
        if (inner) {
            const alloc_methods_t *im = alloc_find(inner);
            if (im && !alloc_is_available(im, &reason))
                return usage_error("allocator %s is unavailable: %s", inner, reason);
        }
    }

    /* MMBENCH_BARE_LOOP (a benchmark instrument, README "Looking inside a
     * run"): the child serves the run with a bare malloc/free loop, which
     * needs the process's own malloc, one thread, malloc and free only. */
    const char *bare_env = getenv("MMBENCH_BARE_LOOP");
    int bare = bare_env && *bare_env && strcmp(bare_env, "0") != 0;
    if (bare && verify)
        return usage_error("MMBENCH_BARE_LOOP is set, and its bare loop does not check contents; "
                           "run without --verify or unset it");
    for (int k = 0; k < nalloc && bare; k++)
        if (!(alloc_split_name(allocs[k], &(const char *){NULL})->flags & ALLOC_PROCESS_MALLOC))
            return usage_error("MMBENCH_BARE_LOOP is set, and its bare loop calls the process's malloc: "
                               "allocator %s is not one of glibc, jemalloc, mimalloc, tcmalloc", allocs[k]);

    /* Workloads: each one's parameters parse and its stream generates. */
    char *wls[MAX_LIST];
    char default_wl[] = "random";
    int nwl = split_list(wl_arg ? wl_arg : default_wl, wls, MAX_LIST);
    if (nwl > 0) {
        nwl = join_trace_names(wls, nwl);
        resolve_trace_names(wls, nwl);
    }
    if (nwl <= 0)
        return usage_error("--workload: expected a comma-separated list; the workloads are: %s", wl_names());
    if (list_problem(wls, nwl, "--workload", "workload", lmsg, sizeof lmsg))
        return usage_error("%s", lmsg);
    /* what the memory checks below need of the allocator list: a baseline
     * (bump) in it, and any allocator whose memory is the host's */
    const char *baseline = NULL;
    int host_mem = 0;
    for (int k = 0; k < nalloc; k++) {
        unsigned fl = alloc_split_name(allocs[k], &(const char *){NULL})->flags;
        if ((fl & ALLOC_BASELINE) && !baseline)
            baseline = allocs[k];
        host_mem |= !(fl & ALLOC_DEVICE);
    }
    char err[512];
    for (int w = 0; w < nwl; w++) {
        wl_params_default(&params[w]);
        if (wl_params_set(&params[w], "workload", wls[w], err, sizeof err) != 0)
            return usage_error("%s", err);
        for (int k = 0; k < nwl_args; k++) {
            const char *eq = strchr(wl_args[k], '=');
            char key[32];
            snprintf(key, sizeof key, "%.*s", (int)(eq - wl_args[k] - 2), wl_args[k] + 2);
            if (wl_params_set(&params[w], key, eq + 1, err, sizeof err) != 0)
                return usage_error("%s", err);
        }
        /* A stream too big for the memory would get this process killed
         * by the out-of-memory killer while it generates it: refuse it
         * before generating anything. */
        wl_params_t q;
        wl_params_resolve(&params[w], &q);
        double need = stream_memory_bound(&q);
        int64_t avail = need > 0 ? proc_mem_available() : -1;
        if (avail >= 0 && need > (double)avail) {
            wl_params_t few = q;
            few.live = 1;
            int live_counts = stream_memory_bound(&few) <= (double)avail;
            return usage_error("workload %s with --ops=%llu and --live=%llu needs about %.1f GiB of memory (its "
                               "request stream, 16 bytes a request, with the tables and live blocks that go with "
                               "it) and %.1f GiB are available; use %s",
                               wls[w], (unsigned long long)q.ops, (unsigned long long)q.live,
                               need / 1073741824.0, (double)avail / 1073741824.0,
                               live_counts ? "a smaller --live or fewer requests (--ops)" : "fewer requests (--ops)");
        }
        wl_stream_t s;
        if (wl_generate(&params[w], &s, err, sizeof err) != 0)
            return usage_error("%s", err);
        uint32_t nthreads = s.nthreads;
        stream_hash[w] = s.hash;
        /* A trace sets its own length and live count: record those, not the
         * unused defaults of --ops and --live (a stored run says what ran). */
        uint64_t trace_ops = s.total_ops, trace_live = s.max_live_blocks;
        int only_malloc_free = 1;
        for (uint32_t t = 0; t < s.nthreads && bare; t++)
            for (uint64_t i = 0; i < s.thread[t].nops && only_malloc_free; i++)
                only_malloc_free = s.thread[t].ops[i].kind <= WL_FREE;
        /* A baseline allocator (bump) has every byte the stream requests
         * faulted in before its run (harness/child.c): a stream that asks
         * for more than the memory got its run killed by the out-of-memory
         * killer minutes later, the machine short of memory meanwhile.  The
         * same sum as the run's, blocks rounded to 16 bytes plus 16. */
        double prefault = 0;
        for (uint32_t t = 0; t < s.nthreads && baseline; t++)
            for (uint64_t i = 0; i < s.thread[t].nops; i++)
                if (s.thread[t].ops[i].kind == WL_MALLOC || s.thread[t].ops[i].kind == WL_REALLOC)
                    prefault += (double)((s.thread[t].ops[i].size + 15) & ~(uint64_t)15) + 16;
        double need_b = prefault + 16.0 * (double)s.total_ops; /* and the run's copy of the stream */
        /* The live blocks at the stream's peak are all in memory at once
         * where the workload writes to every page of them (--touch=page,
         * all): with one thread (several threads' peaks need not meet) and
         * blocks only (buffers' slices and consumed memory are not blocks),
         * at least the peak's bytes less a page per block.  stream_memory_bound
         * counted a page per block at most, so such a stream had its run
         * killed by the out-of-memory killer instead of refused. */
        double held = 0;
        if (host_mem && s.nthreads == 1 && strcmp(q.workload, "buffers") != 0 &&
            (q.touch == WL_TOUCH_PAGE || q.touch == WL_TOUCH_ALL)) {
            held = (double)s.peak_live_bytes;
            if (q.touch == WL_TOUCH_PAGE)
                held -= (double)WL_TOUCH_PAGE_BYTES * (double)s.peak_live_blocks;
        }
        wl_stream_free(&s);
        int64_t avail_h = held > 0 || baseline ? proc_mem_available() : -1;
        if (held > 0) {
            if (avail_h >= 0 && held > (double)avail_h)
                return usage_error("workload %s holds about %.1f GiB of live blocks at its peak, all written to "
                                   "(--touch=%s), and %.1f GiB are available; use smaller --sizes, a smaller "
                                   "--live or --touch=first",
                                   wls[w], held / 1073741824.0, q.touch == WL_TOUCH_ALL ? "all" : "page",
                                   (double)avail_h / 1073741824.0);
        }
        if (baseline && avail_h >= 0 && need_b > (double)avail_h)
            return usage_error("allocator %s faults in every byte that workload %s requests before its run "
                               "(it never reuses memory), about %.1f GiB, and %.1f GiB are available; use "
                               "fewer requests (--ops) or smaller --sizes, or leave %s out",
                               baseline, wls[w], need_b / 1073741824.0, (double)avail_h / 1073741824.0, baseline);
        if (bare && (nthreads != 1 || !only_malloc_free))
            return usage_error("MMBENCH_BARE_LOOP is set, and its bare loop serves one thread of malloc and free "
                               "only: workload %s has %s", wls[w], nthreads != 1 ? "several threads" : "other requests");
        wl_params_resolve(&params[w], &params[w]);
        if (!strcmp(params[w].workload, "trace")) {
            params[w].ops = trace_ops;
            params[w].live = trace_live ? trace_live : 1;
            params[w].set |= WL_SET_OPS | WL_SET_LIVE;
        }
        for (int k = 0; k < nalloc && nthreads > 1; k++) {
            const alloc_methods_t *m = alloc_find(allocs[k]);
            if (!(m->flags & ALLOC_THREAD_SAFE))
                return usage_error("allocator %s is not thread-safe and workload %s runs %u threads; "
                                   "use --threads=1 or another allocator", allocs[k], wls[w], nthreads);
        }
    }

    uint64_t lock_wait_s = RUN_LOCK_WAIT_S;
    const char *lw = getenv("MMBENCH_LOCK_WAIT");
    if (lw && *lw && (hx_parse_u64(lw, &lock_wait_s) || lock_wait_s > 86400))
        return usage_error("MMBENCH_LOCK_WAIT: '%s' is not a number of seconds; expected an integer from 0 to 86400",
                           lw);

    /* The database: usable before anything runs, so bad input writes nothing. */
    if (!db)
        db = hx_default_db_path();
    if (hx_store_check_writable(db, err, sizeof err) != 0)
        return usage_error("%s", err);
    hx_store_t *store;
    if (hx_store_open(db, 0, &store, err, sizeof err) != 0)
        return usage_error("%s", err);
    hx_store_set_lock_wait(store, (unsigned)lock_wait_s * 1000u, RUN_LOCK_NOTICE_MS, "mmbench run",
                           run_stop_requested);

    drop_allocator_settings(quiet);

    struct sigaction sa = {0}, old_int, old_term;
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);

    char sweep[40], host[128] = "unknown", machine[256], build[256];
    gethostname(host, sizeof host - 1);
    hx_machine_describe(machine, sizeof machine);
    hx_build_describe(build, sizeof build);
    {
        char t[32];
        hx_iso_time(t, sizeof t);
        snprintf(sweep, sizeof sweep, "%s-%d", t, (int)getpid());
    }
    int progress = !quiet && !json && isatty(STDERR_FILENO);
    int total = (int)reps * nwl * nalloc, index = 0, failed = 0, stored = 0;
    for (uint64_t rep = 0; rep < reps && !run_interrupted; rep++) {
        for (int w = 0; w < nwl && !run_interrupted; w++) {
            /* Child arguments: the workload plus the parameters as given,
             * so its presets apply exactly as in this process. */
            char *args[40];
            int nargs = 0;
            char wlarg[1200];
            snprintf(wlarg, sizeof wlarg, "--workload=%s", wls[w]);
            args[nargs++] = wlarg;
            for (int k = 0; k < nwl_args; k++)
                args[nargs++] = wl_args[k];
            for (int a = 0; a < nalloc && !run_interrupted; a++) {
                index++;
                if (progress) {
                    fprintf(stderr, "\r\033[K[%d/%d] %s %s rep %d/%d ...", index, total, allocs[a],
                            wls[w], (int)rep + 1, (int)reps);
                    fflush(stderr);
                }
                hx_run_t r;
                hx_run_init(&r);
                snprintf(r.sweep, sizeof r.sweep, "%s", sweep);
                r.rep = (int)rep;
                snprintf(r.allocator, sizeof r.allocator, "%s", allocs[a]);
                const wl_info_t *wi = wl_find(wls[w]);
                snprintf(r.workload, sizeof r.workload, "%s", wi ? wi->name : wls[w]);
                r.params = params[w];
                /* the CPU cannot write device memory: such a run touches
                 * nothing, whatever --touch says, and is stored as it ran
                 * (the summary keeps it apart from runs that touched) */
                if (alloc_find(allocs[a])->flags & ALLOC_DEVICE)
                    r.params.touch = WL_TOUCH_NONE;
                r.samples_requested = (uint32_t)samples;
                snprintf(r.host, sizeof r.host, "%s", host);
                snprintf(r.mmbench_version, sizeof r.mmbench_version, "%s", MMBENCH_VERSION);
                snprintf(r.git_rev, sizeof r.git_rev, "%s", MMBENCH_GIT_REV);
                snprintf(r.machine, sizeof r.machine, "%s", machine);
                snprintf(r.build, sizeof r.build, "%s", build);
                hx_iso_time(r.started_at, sizeof r.started_at);
                hx_run_spec_t spec = {.alloc = allocs[a], .wl_args = args, .nwl_args = nargs,
                                      .samples = (uint32_t)samples, .verify = verify,
                                      .debug_heap = debug_heap, .timeout_s = (double)timeout,
                                      .stream_hash = stream_hash[w]};
                int interrupted = hx_runner_run(&spec, &r);
                hx_iso_time(r.finished_at, sizeof r.finished_at);
                if (interrupted) {
                    if (!run_interrupted)
                        run_interrupted = SIGINT;
                    hx_run_release(&r);
                    break;
                }
                if (strcmp(r.status, "ok") != 0)
                    failed++;
                if (hx_store_insert_run(store, &r, err, sizeof err) != 0) {
                    /* the measurement is not lost: its record, as --json
                     * prints it (run_id null), on the next line */
                    if (progress)
                        fputs("\r\033[K", stderr);
                    fprintf(stderr, "mmbench run: %s; the sweep stopped (%d finished run%s kept), and this run's "
                                    "result follows, not stored, as one JSON line:\n", err, stored,
                            stored == 1 ? "" : "s");
                    hx_run_write_json(stderr, &r);
                    fflush(stderr);
                    hx_run_release(&r);
                    hx_store_close(store);
                    sigaction(SIGINT, &old_int, NULL);
                    sigaction(SIGTERM, &old_term, NULL);
                    return run_interrupted ? 128 + run_interrupted : HX_EXIT_RUN_FAILED;
                }
                stored++;
                if (progress)
                    fputs("\r\033[K", stderr);
                if (json) {
                    hx_run_write_json(stdout, &r);
                } else if (!quiet) {
                    print_summary(&r, total, index);
                } else if (strcmp(r.status, "ok") != 0) {
                    fprintf(stderr, "mmbench run: %s on %s failed: %s\n", allocs[a], wls[w], r.failure);
                }
                fflush(stdout);
                hx_run_release(&r);
            }
        }
    }
    hx_store_close(store);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    if (run_interrupted) {
        if (progress)
            fputs("\r\033[K", stderr);
        fprintf(stderr, "mmbench run: interrupted; %d finished run%s kept in %s\n", stored,
                stored == 1 ? "" : "s", db);
        return 128 + run_interrupted; /* as the shell reports a process the signal ended */
    }
    if (!quiet && !json)
        fprintf(stderr, "%d run%s stored in %s%s\n", stored, stored == 1 ? "" : "s", db,
                failed ? " (some failed: see above)" : "");
    return failed ? HX_EXIT_RUN_FAILED : HX_EXIT_OK;
}
