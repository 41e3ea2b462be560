/*
 * cli_export.c - `mmbench export`: stored runs as tidy CSV (one header row,
 * one row per run or per sample) or as a JSON array, for pandas, R and
 * pgfplots.  NULL is an empty CSV field / JSON null; numbers are written in
 * full precision without separators; fields are quoted as RFC 4180 says.
 * With -o the file appears whole or not at all (written to FILE.tmp, then
 * renamed); a FILE that exists and is not a regular file (/dev/stdout, a
 * FIFO, a symbolic link) is written through, never replaced.
 */
#include "harness/hx.h"
#include "harness/json.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char export_usage[] =
    "usage: mmbench export [--format=csv|json] [--runs=ID,...] [--samples] [--db=PATH] [-o FILE]\n"
    "       mmbench export --summary [--baseline=ALLOC] [--metrics=M,...] [--format=csv|json]\n"
    "                      [--runs=ID,...] [--db=PATH] [-o FILE]\n"
    "\n"
    "Write stored runs for analysis.  CSV (the default) has one header row and one\n"
    "row per run: the run's identity and parameters, then every metric; an empty\n"
    "field is a figure the allocator could not report.  JSON is an array of runs.\n"
    "\n"
    "  --format=FMT  csv (default) or json\n"
    "  --runs=LIST   only these runs, each listed once, e.g. --runs=3,4,9 (default:\n"
    "                every run)\n"
    "  --samples     CSV: one row per time-series sample instead of per run;\n"
    "                JSON: each run with its samples, heap map, composition and statistics\n"
    "  --summary     one row per workload stream, allocator and metric: the runs that\n"
    "                succeeded and failed, and the median, lowest and highest value\n"
    "                over the repetitions (a stream: the same workload, parameters,\n"
    "                seed and --touch; loop says which loop served it: harness, or bare\n"
    "                for MMBENCH_BARE_LOOP's, with +verify and +debug-heap for runs of\n"
    "                those options, whose times do not compare with plain runs)\n"
    "  --baseline=A  with --summary: also each run's ratio to allocator A's run in the\n"
    "                same sweep and repetition (adjacent in time, so the machine's\n"
    "                drift cancels), as their median, lowest and highest; x/A, or\n"
    "                (1+x)/(1+A) for the metrics that are a ratio minus 1 (frag_jw1-4,\n"
    "                rss_overhead), as column ratio_is says\n"
    "  --metrics=M,...  with --summary: only these metrics (default: every one)\n"
    "  --db=PATH     database to read (default $MMBENCH_DB, else results/mmbench.db)\n"
    "  -o FILE       write to FILE (atomically) instead of standard output; a FIFO,\n"
    "                device or symbolic link is written through, not replaced\n"
    "  --help        print this help\n";

typedef struct ids {
    int64_t *v;
    size_t n, cap;
} ids_t;

static int ids_push(ids_t *a, int64_t id) {
    if (a->n == a->cap) {
        size_t nc = a->cap ? a->cap * 2 : 64;
        int64_t *p = realloc(a->v, nc * sizeof *p);
        if (!p)
            return ENOMEM;
        a->v = p;
        a->cap = nc;
    }
    a->v[a->n++] = id;
    return 0;
}

/* "3,4,9" -> ids; EINVAL with the bad element in bad[] when malformed. */
static int parse_ids(const char *text, ids_t *out, char *bad, size_t badlen) {
    const char *p = text;
    if (!*p) {
        snprintf(bad, badlen, "%s", text);
        return EINVAL;
    }
    for (;;) {
        const char *q = strchr(p, ',');
        size_t n = q ? (size_t)(q - p) : strlen(p);
        int ok = n > 0 && n <= 18;
        for (size_t i = 0; ok && i < n; i++)
            ok = isdigit((unsigned char)p[i]) != 0;
        int64_t v = 0;
        for (size_t i = 0; ok && i < n; i++)
            v = v * 10 + (p[i] - '0');
        if (!ok || v <= 0) {
            snprintf(bad, badlen, "%.*s", (int)n, p);
            return EINVAL;
        }
        if (ids_push(out, v))
            return ENOMEM;
        if (!q)
            return 0;
        p = q + 1;
    }
}

static int cmp_id(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* A run listed twice (it would be counted twice in a summary, and its rows
 * repeated): 1 with that run in *dup, 0 when every run is listed once, -1
 * when out of memory. */
static int ids_repeated(const ids_t *a, int64_t *dup) {
    if (a->n < 2)
        return 0;
    int64_t *v = malloc(a->n * sizeof *v);
    if (!v)
        return -1;
    memcpy(v, a->v, a->n * sizeof *v);
    qsort(v, a->n, sizeof *v, cmp_id);
    int found = 0;
    for (size_t i = 1; i < a->n && !found; i++)
        if (v[i] == v[i - 1]) {
            *dup = v[i];
            found = 1;
        }
    free(v);
    return found;
}

/* One CSV field, quoted when it holds a comma, quote, CR or LF. */
static void csv_str(FILE *f, const char *s) {
    if (!s || !*s)
        return;
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static void csv_num(FILE *f, double v, int is_int) {
    char num[HX_NUM_MAX];
    if (hx_num_format(num, sizeof num, v, is_int))
        fputs(num, f);
}

static int metric_is_int(int i) { return !strcmp(hx_metric_info[i].sqltype, "INTEGER"); }
static int sample_is_int(int i) { return !strcmp(hx_sample_info[i].sqltype, "INTEGER"); }

static void csv_run_header(FILE *f) {
    fputs("run_id,sweep,rep,allocator,allocator_version,workload,status,failure,signal,exit_code,started_at,"
          "finished_at,ops,seed,threads,sizes,live,lifetime,touch,trace,samples_requested,"
          "stream_hash,host,mmbench_version,git_rev,machine,build",
          f);
    for (int i = 0; i < HX_METRIC_COUNT; i++)
        fprintf(f, ",%s", hx_metric_info[i].key);
    fputc('\n', f);
}

static void csv_run_row(FILE *f, const hx_run_t *r) {
    const wl_params_t *p = &r->params;
    fprintf(f, "%" PRId64 ",", r->id);
    csv_str(f, r->sweep);
    fprintf(f, ",%d,", r->rep);
    csv_str(f, r->allocator);
    fputc(',', f);
    csv_str(f, r->allocator_version);
    fputc(',', f);
    csv_str(f, r->workload);
    fputc(',', f);
    csv_str(f, r->status);
    fputc(',', f);
    csv_str(f, r->failure);
    /* as in JSON: the signal that ended a run, else its exit status */
    fputc(',', f);
    if (r->signal)
        fprintf(f, "%d", r->signal);
    fputc(',', f);
    if (!r->signal && r->exit_code >= 0)
        fprintf(f, "%d", r->exit_code);
    fputc(',', f);
    csv_str(f, r->started_at);
    fputc(',', f);
    csv_str(f, r->finished_at);
    /* a trace has no seed, sizes or lifetime of its own (NULL in the database) */
    int trace = !strcmp(r->workload, "trace");
    fprintf(f, ",%" PRIu64 ",", p->ops);
    if (!trace)
        fprintf(f, "%" PRIu64, p->seed);
    fprintf(f, ",%" PRIu32 ",", p->threads);
    csv_str(f, trace ? "" : p->sizes.text);
    fprintf(f, ",%" PRIu64 ",", p->live);
    csv_str(f, !wl_uses_lifetime(r->workload) ? "" : wl_lifetime_name(p->lifetime));
    fputc(',', f);
    csv_str(f, wl_touch_name(p->touch));
    fputc(',', f);
    csv_str(f, p->trace_path);
    fprintf(f, ",%" PRIu32 ",%016" PRIx64 ",", r->samples_requested, r->stream_hash);
    csv_str(f, r->host);
    fputc(',', f);
    csv_str(f, r->mmbench_version);
    fputc(',', f);
    csv_str(f, r->git_rev);
    fputc(',', f);
    csv_str(f, r->machine);
    fputc(',', f);
    csv_str(f, r->build);
    for (int i = 0; i < HX_METRIC_COUNT; i++) {
        fputc(',', f);
        csv_num(f, r->m[i], metric_is_int(i));
    }
    fputc('\n', f);
}

static void csv_sample_header(FILE *f) {
    fputs("run_id,allocator,workload,rep,idx", f);
    for (int i = 0; i < HX_SAMPLE_COUNT; i++)
        fprintf(f, ",%s", hx_sample_info[i].key);
    fputc('\n', f);
}

static void csv_sample_rows(FILE *f, const hx_run_t *r) {
    for (size_t k = 0; k < r->nsamples; k++) {
        fprintf(f, "%" PRId64 ",", r->id);
        csv_str(f, r->allocator);
        fputc(',', f);
        csv_str(f, r->workload);
        fprintf(f, ",%d,%zu", r->rep, k);
        for (int i = 0; i < HX_SAMPLE_COUNT; i++) {
            fputc(',', f);
            csv_num(f, r->samples[k].v[i], sample_is_int(i));
        }
        fputc('\n', f);
    }
}

/* ---- --summary ------------------------------------------------------------ */

enum { LOOP_BARE = 1, LOOP_VERIFY = 2, LOOP_DEBUG_HEAP = 4 };

static const char *loop_name(int loop) {
    static const char *const names[8] = {"harness", "bare", "harness+verify", "bare+verify",
                                         "harness+debug-heap", "bare+debug-heap", "harness+verify+debug-heap",
                                         "bare+verify+debug-heap"};
    return names[loop & 7];
}

/* Longest canonical --sizes: "set:" and 32 values of up to 20 characters. */
#define SIZES_CANON_MAX 704

/* A byte count as --sizes reads it, with the largest binary suffix that is
 * exact (4096 -> 4k, 67108864 -> 64M). */
static void bytes_canon(char *out, size_t len, double v) {
    static const char sfx[] = "kMGT";
    uint64_t n = (uint64_t)v;
    int k = -1;
    while (k < 3 && n && n % 1024 == 0) {
        n /= 1024;
        k++;
    }
    if (k >= 0)
        snprintf(out, len, "%" PRIu64 "%c", n, sfx[k]);
    else
        snprintf(out, len, "%" PRIu64, n);
}

/* --sizes written one way: a run records the text as typed, so one
 * distribution spelled two ways (uniform:1k:2k, uniform:1024:2048; 3e3 and
 * 3000) would be two streams in the summary, each with part of the runs,
 * although their requests are identical.  Text that does not parse (none
 * stored by `run`) is kept as it is. */
static void sizes_canon(char *out, size_t len, const char *text) {
    wl_dist_t d;
    if (!text || !*text || wl_dist_parse(&d, text, NULL, 0)) {
        snprintf(out, len, "%s", text ? text : "");
        return;
    }
    /* pow2:MIN:MAX draws the powers of two from MIN up to MAX: written by
     * the first and the last of them (pow2:100:1000 is pow2:128:512) */
    if (d.kind == WL_DIST_POW2) {
        uint64_t lo = 1, hi;
        while (lo < (uint64_t)d.a)
            lo <<= 1;
        for (hi = lo; hi <= (uint64_t)d.b / 2; hi <<= 1)
            ;
        d.a = (double)lo;
        d.b = (double)hi;
    }
    /* one size only (uniform:64:64, pow2:64:127, pareto:64:64:A, set:64,64):
     * each draw takes one number from the generator and gives that size, so
     * these are one stream, written set:64 (a set of several equal values
     * may, once in 2^60 draws, take two numbers: the hash, also in the
     * key, keeps such a stream apart) */
    if (((d.kind == WL_DIST_UNIFORM || d.kind == WL_DIST_POW2 || d.kind == WL_DIST_PARETO) && d.a == d.b) ||
        d.kind == WL_DIST_SET) {
        uint32_t i = d.kind == WL_DIST_SET ? 1 : 0;
        while (d.kind == WL_DIST_SET && i < d.nset && d.set[i] == d.set[0])
            i++;
        if (d.kind != WL_DIST_SET || i == d.nset) {
            uint64_t v = d.kind == WL_DIST_SET ? d.set[0] : (uint64_t)d.a;
            d.kind = WL_DIST_SET;
            d.set[0] = v;
            d.nset = 1;
        }
    }
    /* lognormal's MU and SIGMA may be typed -0, the same as 0 */
    d.a += 0.0;
    d.b += 0.0;
    char a[HX_NUM_MAX], b[HX_NUM_MAX], c[HX_NUM_MAX];
    switch (d.kind) {
    case WL_DIST_UNIFORM:
    case WL_DIST_POW2:
    case WL_DIST_PARETO:
        bytes_canon(a, sizeof a, d.a);
        bytes_canon(b, sizeof b, d.b);
        if (d.kind == WL_DIST_PARETO) {
            hx_num_format(c, sizeof c, d.c, 0);
            snprintf(out, len, "pareto:%s:%s:%s", a, b, c);
        } else {
            snprintf(out, len, "%s:%s:%s", d.kind == WL_DIST_UNIFORM ? "uniform" : "pow2", a, b);
        }
        break;
    case WL_DIST_EXP:
        hx_num_format(a, sizeof a, d.a, 0);
        snprintf(out, len, "exp:%s", a);
        break;
    case WL_DIST_LOGNORMAL:
        hx_num_format(a, sizeof a, d.a, 0);
        hx_num_format(b, sizeof b, d.b, 0);
        snprintf(out, len, "lognormal:%s:%s", a, b);
        break;
    case WL_DIST_SET: {
        size_t n = (size_t)snprintf(out, len, "set:");
        for (uint32_t i = 0; i < d.nset && n < len; i++) {
            bytes_canon(a, sizeof a, (double)d.set[i]);
            n += (size_t)snprintf(out + n, len - n, "%s%s", i ? "," : "", a);
        }
        break;
    }
    default:
        snprintf(out, len, "%s", text);
        break;
    }
}

/* One run as the summary needs it. */
typedef struct srun {
    char workload[64], alloc[96], sweep[40], sizes[SIZES_CANON_MAX];
    uint64_t hash, ops, live, seed;
    uint32_t threads;
    wl_lifetime_t lifetime;
    wl_touch_t touch;
    int rep, ok;
    int loop; /* LOOP_* bits from run_info: a loop other than the plain harness's */
    double m[HX_METRIC_COUNT];
} srun_t;

/* by stream (in a readable order: workload, threads, live, requests, sizes,
 * lifetime, touch, then the hash), then allocator, sweep, rep.  The hash
 * covers the requests only: --touch (what is done with each block) is not
 * in it, and a trace run records --sizes/--lifetime it does not use; so the
 * stream is every field of this key, and a group is a run of equal keys. */
static int stream_cmp(const srun_t *a, const srun_t *b) {
    int c = strcmp(a->workload, b->workload);
    if (c)
        return c;
    if (a->threads != b->threads)
        return a->threads < b->threads ? -1 : 1;
    if (a->live != b->live)
        return a->live < b->live ? -1 : 1;
    if (a->ops != b->ops)
        return a->ops < b->ops ? -1 : 1;
    if ((c = strcmp(a->sizes, b->sizes)) != 0)
        return c;
    if (a->lifetime != b->lifetime)
        return a->lifetime < b->lifetime ? -1 : 1;
    if (a->touch != b->touch)
        return a->touch < b->touch ? -1 : 1;
    if (a->loop != b->loop)
        return a->loop - b->loop;
    if (a->hash != b->hash)
        return a->hash < b->hash ? -1 : 1;
    return 0;
}

static int srun_cmp(const void *pa, const void *pb) {
    const srun_t *a = pa, *b = pb;
    int c = stream_cmp(a, b);
    if (c)
        return c;
    if ((c = strcmp(a->alloc, b->alloc)) != 0)
        return c;
    if ((c = strcmp(a->sweep, b->sweep)) != 0)
        return c;
    return (a->rep > b->rep) - (a->rep < b->rep);
}

/* the same request stream, served the same way: equal sort keys */
static int same_stream(const srun_t *a, const srun_t *b) { return stream_cmp(a, b) == 0; }

static int dbl_cmp(const void *pa, const void *pb) {
    double a = *(const double *)pa, b = *(const double *)pb;
    return (a > b) - (a < b);
}

/* median, lowest and highest of v[0..n), n > 0 (v is sorted) */
static void spread(double *v, size_t n, double out[3]) {
    qsort(v, n, sizeof *v, dbl_cmp);
    out[0] = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    out[1] = v[0];
    out[2] = v[n - 1];
}

static void sum_key(FILE *f, int json, int *first, const char *k) {
    if (json)
        fprintf(f, "%s\"%s\":", *first ? "" : ",", k);
    else if (!*first)
        fputc(',', f);
    *first = 0;
}
static void sum_str(FILE *f, int json, int *first, const char *k, const char *v) {
    sum_key(f, json, first, k);
    if (json)
        hx_json_str(f, v);
    else
        csv_str(f, v);
}
static void sum_num(FILE *f, int json, int *first, const char *k, double v, int is_int) {
    sum_key(f, json, first, k);
    if (json)
        hx_json_num(f, v, is_int);
    else
        csv_num(f, v, is_int);
}

/* the metrics that are "H/L - 1"-style ratios (web/pages/compare.js MINUS_ONE) */
static int minus_one_metric(int i) {
    static const char *const k[] = {"frag_jw1", "frag_jw2", "frag_jw3", "frag_jw4", "rss_overhead"};
    for (size_t j = 0; j < sizeof k / sizeof k[0]; j++)
        if (!strcmp(hx_metric_info[i].key, k[j]))
            return 1;
    return 0;
}

/* The rows of allocator range [a0, a1) of one stream, for the metrics in
 * sel; b0..b1 the baseline's range there (b0 == b1: none, or no baseline). */
static void summary_rows(FILE *f, int json, size_t *nrows, const srun_t *r, size_t a0, size_t a1, size_t b0,
                         size_t b1, const char *baseline, const int *sel, double *vals) {
    size_t ok = 0, failed = 0;
    for (size_t k = a0; k < a1; k++)
        r[k].ok ? ok++ : failed++;
    for (int i = 0; i < HX_METRIC_COUNT; i++) {
        if (!sel[i])
            continue;
        size_t n = 0, nr = 0;
        double st[3] = {NAN, NAN, NAN}, rt[3] = {NAN, NAN, NAN};
        for (size_t k = a0; k < a1; k++)
            if (r[k].ok && isfinite(r[k].m[i]))
                vals[n++] = r[k].m[i];
        if (n)
            spread(vals, n, st);
        if (baseline) {
            for (size_t k = a0; k < a1; k++) {
                if (!r[k].ok || !isfinite(r[k].m[i]))
                    continue;
                for (size_t j = b0; j < b1; j++)
                    if (r[j].ok && r[j].rep == r[k].rep && !strcmp(r[j].sweep, r[k].sweep)) {
                        if (isfinite(r[j].m[i])) {
                            /* a metric that is a ratio - 1 compares as (1+x)/(1+b), as the dashboard does */
                            double x = r[k].m[i], b = r[j].m[i];
                            double q = minus_one_metric(i) ? (1 + x) / (1 + b) : b != 0 ? x / b : NAN;
                            if (isfinite(q))
                                vals[nr++] = q;
                        }
                        break;
                    }
            }
            if (nr)
                spread(vals, nr, rt);
        }
        const srun_t *x = &r[a0];
        char hash[20];
        snprintf(hash, sizeof hash, "%016" PRIx64, x->hash);
        int first = 1;
        if (json)
            fputs(*nrows ? ",\n{" : "\n{", f);
        sum_str(f, json, &first, "workload", x->workload);
        sum_str(f, json, &first, "stream_hash", hash);
        sum_num(f, json, &first, "ops", (double)x->ops, 1);
        sum_key(f, json, &first, "seed"); /* whole: above 2^53 a double would round it */
        int trace = !strcmp(x->workload, "trace"); /* no seed, sizes or lifetime */
        if (!trace)
            fprintf(f, "%" PRIu64, x->seed);
        else if (json)
            fputs("null", f);
        sum_num(f, json, &first, "threads", x->threads, 1);
        sum_num(f, json, &first, "live", (double)x->live, 1);
        if (trace) {
            sum_key(f, json, &first, "sizes");
            fputs(json ? "null" : "", f);
            sum_key(f, json, &first, "lifetime");
            fputs(json ? "null" : "", f);
        } else {
            sum_str(f, json, &first, "sizes", x->sizes);
            if (wl_uses_lifetime(x->workload)) {
                sum_str(f, json, &first, "lifetime", wl_lifetime_name(x->lifetime));
            } else {
                sum_key(f, json, &first, "lifetime");
                fputs(json ? "null" : "", f);
            }
        }
        sum_str(f, json, &first, "touch", wl_touch_name(x->touch));
        sum_str(f, json, &first, "loop", loop_name(x->loop));
        sum_str(f, json, &first, "allocator", x->alloc);
        sum_str(f, json, &first, "metric", hx_metric_info[i].key);
        sum_str(f, json, &first, "unit", hx_metric_info[i].unit);
        sum_num(f, json, &first, "runs", (double)ok, 1);
        sum_num(f, json, &first, "failed", (double)failed, 1);
        sum_num(f, json, &first, "n", (double)n, 1);
        sum_num(f, json, &first, "median", st[0], 0);
        sum_num(f, json, &first, "min", st[1], 0);
        sum_num(f, json, &first, "max", st[2], 0);
        if (baseline) {
            sum_str(f, json, &first, "baseline", baseline);
            /* what the ratio is: a metric that is a ratio - 1 (JW's, RSS
             * overhead, possibly negative) compares as one plus it */
            sum_str(f, json, &first, "ratio_is", minus_one_metric(i) ? "(1+x)/(1+baseline)" : "x/baseline");
            sum_num(f, json, &first, "ratio_n", (double)nr, 1);
            sum_num(f, json, &first, "ratio_median", rt[0], 0);
            sum_num(f, json, &first, "ratio_min", rt[1], 0);
            sum_num(f, json, &first, "ratio_max", rt[2], 0);
        }
        fputs(json ? "}" : "\n", f);
        ++*nrows;
    }
}

/* The summary of runs r[0..n) (sorted here), baseline first in each stream. */
static void summary_write(FILE *f, int json, srun_t *r, size_t n, const char *baseline, const int *sel,
                          double *vals) {
    qsort(r, n, sizeof *r, srun_cmp);
    if (json)
        fputc('[', f);
    else
        fprintf(f, "workload,stream_hash,ops,seed,threads,live,sizes,lifetime,touch,loop,allocator,metric,unit,runs,"
                   "failed,n,median,min,max%s\n",
                baseline ? ",baseline,ratio_is,ratio_n,ratio_median,ratio_min,ratio_max" : "");
    size_t rows = 0;
    for (size_t g0 = 0, g1; g0 < n; g0 = g1) {
        for (g1 = g0 + 1; g1 < n && same_stream(&r[g0], &r[g1]); g1++)
            ;
        size_t b0 = g0, b1 = g0;
        if (baseline) {
            for (b0 = g0; b0 < g1 && strcmp(r[b0].alloc, baseline); b0++)
                ;
            for (b1 = b0; b1 < g1 && !strcmp(r[b1].alloc, baseline); b1++)
                ;
            if (b0 < b1)
                summary_rows(f, json, &rows, r, b0, b1, b0, b1, baseline, sel, vals);
        }
        for (size_t a0 = g0, a1; a0 < g1; a0 = a1) {
            for (a1 = a0 + 1; a1 < g1 && !strcmp(r[a0].alloc, r[a1].alloc); a1++)
                ;
            if (!(baseline && a0 == b0 && b0 < b1))
                summary_rows(f, json, &rows, r, a0, a1, b0, b1, baseline, sel, vals);
        }
    }
    if (json)
        fputs(rows ? "\n]\n" : "]\n", f);
}

/* "a,b" -> sel[i] = 1 for those metrics; 0, or -1 with the bad name in bad */
static int parse_metrics(const char *text, int *sel, char *bad, size_t badlen) {
    const char *p = text;
    for (;;) {
        const char *q = strchr(p, ',');
        size_t len = q ? (size_t)(q - p) : strlen(p);
        int found = 0, twice = 0;
        for (int i = 0; i < HX_METRIC_COUNT && !found; i++)
            if (strlen(hx_metric_info[i].key) == len && !strncmp(hx_metric_info[i].key, p, len)) {
                twice = sel[i];
                sel[i] = found = 1;
            }
        if (!found || twice) {
            snprintf(bad, badlen, "%.*s", (int)(len < 60 ? len : 60), p);
            return found ? -2 : -1;
        }
        if (!q)
            return 0;
        p = q + 1;
    }
}

/* How run id's requests were served, from run_info: MMBENCH_BARE_LOOP's
 * loop (scripts/bench.sh harness), and the checking modes --verify and
 * --debug-heap, which slow every request.  Each combination is a stream of
 * its own in the summary. */
static int run_loop(sqlite3 *db, int64_t id) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT key FROM run_info WHERE run_id = ? AND value = 1 AND "
                               "key IN ('bare_loop', 'verify', 'debug_heap')", -1, &st, NULL) != SQLITE_OK)
        return 0; /* no run_info table (an old file): the plain loop */
    sqlite3_bind_int64(st, 1, id);
    int loop = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *k = (const char *)sqlite3_column_text(st, 0);
        loop |= !strcmp(k, "bare_loop") ? LOOP_BARE : !strcmp(k, "verify") ? LOOP_VERIFY : LOOP_DEBUG_HEAP;
    }
    sqlite3_finalize(st);
    return loop;
}

/* 1 when run id exists, 0 when not, -1 on a database error. */
static int run_exists(sqlite3 *db, int64_t id) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM runs WHERE id = ?", -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

static int all_ids(sqlite3 *db, ids_t *out) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT id FROM runs ORDER BY id", -1, &st, NULL) != SQLITE_OK)
        return -1;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if (ids_push(out, sqlite3_column_int64(st, 0))) {
            rc = SQLITE_NOMEM;
            break;
        }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* -o FILE is written to FILE.tmp: a signal that ends the export (Ctrl-C, a
 * job scheduler's SIGTERM) takes that file with it rather than leave it
 * beside FILE (30 MB of a large database's samples).  unlink is safe in a
 * handler; the signal is then raised again with its default action. */
static const char *volatile export_tmp;
static const int export_sigs[3] = {SIGINT, SIGTERM, SIGHUP};
static struct sigaction export_old_sa[3];

static void export_on_signal(int sig) {
    const char *t = export_tmp;
    if (t)
        unlink(t);
    signal(sig, SIG_DFL);
    raise(sig);
}

static void export_catch(const char *tmp) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = export_on_signal;
    sigemptyset(&sa.sa_mask);
    export_tmp = tmp;
    for (int k = 0; k < 3; k++) {
        sigaction(export_sigs[k], NULL, &export_old_sa[k]);
        if (export_old_sa[k].sa_handler != SIG_IGN) /* a background job ignores SIGINT: keep it so */
            sigaction(export_sigs[k], &sa, NULL);
    }
}

static void export_release(void) {
    if (!export_tmp)
        return;
    for (int k = 0; k < 3; k++)
        sigaction(export_sigs[k], &export_old_sa[k], NULL);
    export_tmp = NULL;
}

/* MMBENCH_FAULT=export-stop (tests only): stop (SIGSTOP) once FILE.tmp is
 * open, so that a test can signal an export in the middle of writing */
static void export_fault(void) {
    const char *f = getenv("MMBENCH_FAULT");
    if (f && !strcmp(f, "export-stop"))
        raise(SIGSTOP);
}

int hx_cmd_export(int argc, char **argv) {
    const char *db = NULL, *format = NULL, *runs = NULL, *outpath = NULL, *baseline = NULL, *metrics = NULL;
    int samples = 0, summary = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(export_usage, stdout);
            return HX_EXIT_OK;
        } else if (!strcmp(a, "--samples")) {
            samples = 1;
        } else if (!strcmp(a, "--summary")) {
            summary = 1;
        } else if ((v = hx_opt(argc, argv, &i, "--baseline"))) {
            if (hx_opt_twice("export", "--baseline", baseline, v, 0))
                return HX_EXIT_USAGE;
            baseline = v;
        } else if ((v = hx_opt(argc, argv, &i, "--metrics"))) {
            if (hx_opt_twice("export", "--metrics", metrics, v, 1))
                return HX_EXIT_USAGE;
            metrics = v;
        } else if ((v = hx_opt(argc, argv, &i, "--format"))) {
            if (hx_opt_twice("export", "--format", format, v, 0))
                return HX_EXIT_USAGE;
            format = v;
        } else if ((v = hx_opt(argc, argv, &i, "--runs"))) {
            if (hx_opt_twice("export", "--runs", runs, v, 1))
                return HX_EXIT_USAGE;
            runs = v;
        } else if ((v = hx_opt(argc, argv, &i, "--db"))) {
            if (hx_opt_twice("export", "--db", db, v, 0))
                return HX_EXIT_USAGE;
            db = v;
        } else if ((v = hx_opt(argc, argv, &i, "--output")) || (v = hx_opt(argc, argv, &i, "-o")) ||
                   (!strncmp(a, "-o", 2) && a[2] && (v = a + 2))) {
            if (hx_opt_twice("export", "--output (-o)", outpath, v, 0))
                return HX_EXIT_USAGE;
            outpath = v;
        } else if (!strcmp(a, "--format") || !strcmp(a, "--runs") || !strcmp(a, "--db") || !strcmp(a, "-o") ||
                   !strcmp(a, "--output") || !strcmp(a, "--baseline") || !strcmp(a, "--metrics")) {
            fprintf(stderr, "mmbench export: %s needs a value; see mmbench export --help\n", a);
            return HX_EXIT_USAGE;
        } else if (a[0] == '-') {
            fprintf(stderr, "mmbench export: unknown option '%s'; see mmbench export --help\n", a);
            return HX_EXIT_USAGE;
        } else {
            fprintf(stderr, "mmbench export: unexpected argument '%s'; see mmbench export --help\n", a);
            return HX_EXIT_USAGE;
        }
    }
    int json;
    if (!format)
        format = "csv";
    if (!strcmp(format, "csv")) {
        json = 0;
    } else if (!strcmp(format, "json")) {
        json = 1;
    } else {
        fprintf(stderr, "mmbench export: unknown format '%s'; use --format=csv or --format=json\n", format);
        return HX_EXIT_USAGE;
    }
    if (outpath && !*outpath) {
        fprintf(stderr, "mmbench export: -o needs a file name; see mmbench export --help\n");
        return HX_EXIT_USAGE;
    }
    if (summary && samples) {
        fprintf(stderr, "mmbench export: --summary and --samples cannot be combined; a summary has one row "
                        "per stream, allocator and metric\n");
        return HX_EXIT_USAGE;
    }
    if (!summary && (baseline || metrics)) {
        fprintf(stderr, "mmbench export: %s goes with --summary; see mmbench export --help\n",
                baseline ? "--baseline" : "--metrics");
        return HX_EXIT_USAGE;
    }
    if (baseline && !*baseline) {
        fprintf(stderr, "mmbench export: --baseline needs an allocator name, like --baseline=glibc\n");
        return HX_EXIT_USAGE;
    }
    int sel[HX_METRIC_COUNT];
    for (int i = 0; i < HX_METRIC_COUNT; i++)
        sel[i] = metrics == NULL;
    if (metrics) {
        char bad[64];
        int pm = parse_metrics(metrics, sel, bad, sizeof bad);
        if (pm == -2) {
            fprintf(stderr, "mmbench export: --metrics names %s more than once; name each metric once\n", bad);
            return HX_EXIT_USAGE;
        }
        if (pm) {
            fprintf(stderr, "mmbench export: --metrics takes metric names separated by commas, like "
                            "--metrics=steady_ns_per_op,peak_rss_bytes; '%s' is not one (the names are "
                            "the metric columns of `mmbench export`)\n", bad);
            return HX_EXIT_USAGE;
        }
    }
    if (!db)
        db = hx_default_db_path();

    int status = HX_EXIT_USAGE;
    ids_t ids = {0};
    srun_t *sr = NULL;
    double *vals = NULL;
    hx_store_t *s = NULL;
    char *tmp = NULL;
    FILE *f = NULL;
    char err[512];

    if (runs) {
        char bad[64];
        int e = parse_ids(runs, &ids, bad, sizeof bad);
        if (e == EINVAL) {
            fprintf(stderr, "mmbench export: --runs takes run ids separated by commas, like --runs=3,4,9; "
                            "'%s' is not a run id\n", bad);
            goto out;
        } else if (e) {
            fprintf(stderr, "mmbench export: out of memory reading --runs\n");
            goto out;
        }
        int64_t dup = 0;
        int rep = ids_repeated(&ids, &dup);
        if (rep > 0) {
            fprintf(stderr, "mmbench export: --runs lists run %" PRId64 " more than once; list each run once\n",
                    dup);
            goto out;
        } else if (rep < 0) {
            fprintf(stderr, "mmbench export: out of memory reading --runs\n");
            goto out;
        }
    }
    if (hx_store_open(db, 1, &s, err, sizeof err)) {
        fprintf(stderr, "mmbench export: %s\n", err);
        goto out;
    }
    sqlite3 *sdb = hx_store_db(s);
    if (runs) {
        for (size_t i = 0; i < ids.n; i++) {
            int ex = run_exists(sdb, ids.v[i]);
            if (ex < 0) {
                fprintf(stderr, "mmbench export: cannot read %s: %s\n", db, sqlite3_errmsg(sdb));
                goto out;
            }
            if (!ex) {
                fprintf(stderr, "mmbench export: no run %" PRId64 " in %s\n", ids.v[i], db);
                goto out;
            }
        }
    } else if (all_ids(sdb, &ids)) {
        fprintf(stderr, "mmbench export: cannot read %s: %s\n", db, sqlite3_errmsg(sdb));
        goto out;
    }

    if (summary) {
        /* every run read, and the baseline found, before any output */
        sr = calloc(ids.n ? ids.n : 1, sizeof *sr);
        vals = calloc(ids.n ? ids.n : 1, sizeof *vals);
        if (!sr || !vals) {
            fprintf(stderr, "mmbench export: out of memory reading %zu runs\n", ids.n);
            goto out;
        }
        int have_base = 0;
        for (size_t i = 0; i < ids.n; i++) {
            hx_run_t r;
            if (hx_store_get_run_head(s, ids.v[i], &r, err, sizeof err)) {
                fprintf(stderr, "mmbench export: %s\n", err);
                goto out;
            }
            srun_t *x = &sr[i];
            snprintf(x->workload, sizeof x->workload, "%s", r.workload);
            snprintf(x->alloc, sizeof x->alloc, "%s", r.allocator);
            snprintf(x->sweep, sizeof x->sweep, "%s", r.sweep);
            sizes_canon(x->sizes, sizeof x->sizes, r.params.sizes.text);
            x->hash = r.stream_hash;
            x->ops = r.params.ops;
            x->seed = r.params.seed;
            x->live = r.params.live;
            x->threads = r.params.threads;
            /* a workload that ignores --lifetime: runs given different ones
             * are the same stream (older files stored what was given) */
            x->lifetime = wl_uses_lifetime(r.workload) ? r.params.lifetime : WL_LIFE_EXP;
            x->touch = r.params.touch;
            x->loop = run_loop(sdb, ids.v[i]);
            x->rep = r.rep;
            x->ok = !strcmp(r.status, "ok");
            memcpy(x->m, r.m, sizeof x->m);
            have_base |= baseline && !strcmp(r.allocator, baseline);
            hx_run_release(&r);
        }
        if (baseline && !have_base) {
            fprintf(stderr, "mmbench export: no run of allocator '%s' among the runs to summarise; the baseline "
                            "must be one of their allocators\n", baseline);
            goto out;
        }
    }

    /* Not a regular file (see the top): written through, not renamed onto. */
    struct stat osb;
    int in_place = outpath && strcmp(outpath, "-") != 0 && lstat(outpath, &osb) == 0 && !S_ISREG(osb.st_mode) &&
                   !S_ISDIR(osb.st_mode);
    if (in_place) {
        if (!(f = fopen(outpath, "w"))) {
            fprintf(stderr, "mmbench export: cannot write %s: %s\n", outpath, strerror(errno));
            goto out;
        }
    } else if (outpath && strcmp(outpath, "-") != 0) {
        size_t n = strlen(outpath) + 5;
        if (!(tmp = malloc(n))) {
            fprintf(stderr, "mmbench export: out of memory\n");
            goto out;
        }
        snprintf(tmp, n, "%s.tmp", outpath);
        if (!(f = fopen(tmp, "w"))) {
            fprintf(stderr, "mmbench export: cannot write %s: %s\n", outpath, strerror(errno));
            free(tmp);
            tmp = NULL;
            goto out;
        }
        export_catch(tmp);
        export_fault();
    } else {
        f = stdout;
    }

    if (summary)
        summary_write(f, json, sr, ids.n, baseline, sel, vals);
    else if (json)
        fputc('[', f);
    else if (samples)
        csv_sample_header(f);
    else
        csv_run_header(f);
    for (size_t i = 0; i < ids.n && !summary; i++) {
        hx_run_t r;
        if (hx_store_get_run(s, ids.v[i], &r, err, sizeof err)) {
            fprintf(stderr, "mmbench export: %s\n", err);
            goto out;
        }
        if (json) {
            fputs(i ? ",\n" : "\n", f);
            hx_run_write_json_ex(f, &r, samples ? HX_JSON_ARRAYS : 0);
        } else if (samples) {
            csv_sample_rows(f, &r);
        } else {
            csv_run_row(f, &r);
        }
        hx_run_release(&r);
    }
    if (json && !summary)
        fputs(ids.n ? "\n]\n" : "]\n", f);

    if (f == stdout) {
        if (fflush(stdout) != 0) {
            fprintf(stderr, "mmbench export: cannot write standard output: %s\n", strerror(errno));
            f = NULL;
            goto out;
        }
        f = NULL;
    } else {
        errno = 0;
        int bad = fflush(f) != 0 || ferror(f) || (!in_place && fsync(fileno(f)) != 0);
        int e = errno;
        bad |= fclose(f) != 0;
        f = NULL;
        if (bad) {
            fprintf(stderr, "mmbench export: cannot write %s: %s\n", outpath, strerror(e ? e : EIO));
            goto out;
        }
        if (!in_place && rename(tmp, outpath) != 0) {
            fprintf(stderr, "mmbench export: cannot write %s: %s\n", outpath, strerror(errno));
            goto out;
        }
        export_release(); /* (a signal between the rename and here unlinks nothing) */
        free(tmp);
        tmp = NULL;
    }
    status = HX_EXIT_OK;

out:
    if (f && f != stdout)
        fclose(f);
    if (tmp) {
        unlink(tmp);
        export_release();
        free(tmp);
    }
    hx_store_close(s);
    free(ids.v);
    free(sr);
    free(vals);
    return status;
}
