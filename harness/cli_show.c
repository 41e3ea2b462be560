/*
 * cli_show.c - `mmbench show RUN_ID`: one stored run as a readable report
 * (or as JSON with its arrays), straight from the database.
 */
#include "harness/hx.h"
#include "harness/json.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char show_usage[] =
    "usage: mmbench show RUN_ID [--db=PATH] [--json]\n"
    "\n"
    "Print one stored run: allocator, workload and parameters, status, every\n"
    "metric with its unit and meaning, and a summary of its time series, memory\n"
    "composition and allocator statistics.\n"
    "\n"
    "  RUN_ID        the run's id, as printed by `mmbench run` and `mmbench export`\n"
    "  --db=PATH     database to read (default $MMBENCH_DB, else results/mmbench.db)\n"
    "  --json        print the run as one JSON object, samples included\n"
    "  --help        print this help\n";

/* Parse a run id: a positive decimal integer, nothing else.  0 on success. */
static int parse_run_id(const char *s, int64_t *out) {
    if (!s || !*s)
        return EINVAL;
    for (const char *p = s; *p; p++)
        if (!isdigit((unsigned char)*p))
            return EINVAL;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || v <= 0)
        return EINVAL;
    *out = v;
    return 0;
}

/* Bytes as "1.50 MiB (1572864 B)"; below 1 KiB just "512 B". */
static void fmt_bytes(char *buf, size_t len, double v) {
    static const char *unit[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
    char exact[HX_NUM_MAX];
    hx_num_format(exact, sizeof exact, v, 1);
    if (fabs(v) < 1024) {
        snprintf(buf, len, "%s B", exact);
        return;
    }
    double x = v / 1024;
    int u = 0;
    while (fabs(x) >= 1024 && u < 4) {
        x /= 1024;
        u++;
    }
    snprintf(buf, len, "%.2f %s (%s B)", x, unit[u], exact);
}

/* Nanoseconds in the largest fitting unit, with the exact figure when the
 * unit is not ns. */
static void fmt_ns(char *buf, size_t len, double v) {
    /* the whole count of ns, or to a tenth: a time from clock ticks carries
     * no more than that (export keeps every digit) */
    char exact[HX_NUM_MAX];
    if (v == floor(v))
        hx_num_format(exact, sizeof exact, v, 0);
    else
        snprintf(exact, sizeof exact, "%.1f", v);
    double a = fabs(v);
    if (a < 1e3)
        snprintf(buf, len, "%.1f ns", v);
    else if (a < 1e6)
        snprintf(buf, len, "%.3f us (%s ns)", v / 1e3, exact);
    else if (a < 1e9)
        snprintf(buf, len, "%.3f ms (%s ns)", v / 1e6, exact);
    else
        snprintf(buf, len, "%.3f s (%s ns)", v / 1e9, exact);
}

static void fmt_value(char *buf, size_t len, double v, const char *unit, int is_int) {
    if (!isfinite(v)) {
        snprintf(buf, len, "n/a");
    } else if (!strcmp(unit, "B")) {
        fmt_bytes(buf, len, v);
    } else if (!strcmp(unit, "ns")) {
        fmt_ns(buf, len, v);
    } else if (!strcmp(unit, "1/s")) {
        if (v >= 1e6)
            snprintf(buf, len, "%.0f /s (%.2f M/s)", v, v / 1e6);
        else
            snprintf(buf, len, "%.0f /s", v);
    } else if (is_int) {
        hx_num_format(buf, len, v, 1);
    } else {
        snprintf(buf, len, "%.3f", v);
    }
}

static void print_samples(FILE *f, const hx_run_t *r) {
    fprintf(f, "\nSamples: %zu", r->nsamples);
    if (r->samples_requested)
        fprintf(f, " (%" PRIu32 " requested)", r->samples_requested);
    fputc('\n', f);
    if (!r->nsamples)
        return;
    fprintf(f, "  %6s", "idx");
    for (int c = 0; c < HX_SAMPLE_COUNT; c++)
        fprintf(f, " %14s", hx_sample_info[c].key);
    fputc('\n', f);
    /* The first three and the last two points. */
    for (size_t i = 0; i < r->nsamples; i++) {
        if (r->nsamples > 6 && i == 3) {
            fprintf(f, "  %6s\n", "...");
            i = r->nsamples - 3;
            continue;
        }
        fprintf(f, "  %6zu", i);
        for (int c = 0; c < HX_SAMPLE_COUNT; c++) {
            double v = r->samples[i].v[c];
            char num[HX_NUM_MAX];
            if (!isfinite(v))
                snprintf(num, sizeof num, "n/a");
            else if (!strcmp(hx_sample_info[c].sqltype, "INTEGER"))
                hx_num_format(num, sizeof num, v, 1);
            else
                snprintf(num, sizeof num, "%.3f", v);
            fprintf(f, " %14s", num);
        }
        fputc('\n', f);
    }
}

static void print_report(FILE *f, const hx_run_t *r) {
    char params[2048];
    if (wl_params_json(&r->params, params, sizeof params) == 0)
        params[0] = '\0';
    fprintf(f, "Run %" PRId64 ": %s%s%s on %s\n", r->id, r->allocator, r->allocator_version[0] ? " " : "",
            r->allocator_version, r->workload);
    fprintf(f, "  %-16s %s\n", "status", r->status);
    if (r->failure[0])
        fprintf(f, "  %-16s %s\n", "failure", r->failure);
    if (r->signal)
        fprintf(f, "  %-16s %d\n", "signal", r->signal);
    else if (r->exit_code > 0)
        fprintf(f, "  %-16s %d\n", "exit code", r->exit_code);
    fprintf(f, "  %-16s %s\n", "parameters", params[0] ? params : "n/a");
    /* counted from 1, as `run` prints it; the data (export, API) count from 0 */
    fprintf(f, "  %-16s %s, repetition %d (rep %d in export and the dashboard)\n", "sweep", r->sweep, r->rep + 1,
            r->rep);
    fprintf(f, "  %-16s %016" PRIx64 "\n", "stream hash", r->stream_hash);
    /* how the requests were served: a checking mode slows every one of them */
    int bare = 0, verify = 0, debug_heap = 0;
    for (size_t i = 0; i < r->ninfo; i++) {
        bare |= !strcmp(r->info[i].key, "bare_loop") && r->info[i].value == 1;
        verify |= !strcmp(r->info[i].key, "verify") && r->info[i].value == 1;
        debug_heap |= !strcmp(r->info[i].key, "debug_heap") && r->info[i].value == 1;
    }
    fprintf(f, "  %-16s %s%s%s%s\n", "loop", bare ? "bare (MMBENCH_BARE_LOOP)" : "harness",
            verify ? ", --verify" : "", debug_heap ? ", --debug-heap" : "",
            verify || debug_heap ? " (checked: times are not comparable with unchecked runs)" : "");
    fprintf(f, "  %-16s %s\n", "host", r->host[0] ? r->host : "n/a");
    fprintf(f, "  %-16s %s\n", "machine", r->machine[0] ? r->machine : "n/a (not recorded)");
    fprintf(f, "  %-16s %s (git %s)\n", "mmbench", r->mmbench_version[0] ? r->mmbench_version : "n/a",
            r->git_rev[0] ? r->git_rev : "n/a");
    fprintf(f, "  %-16s %s\n", "build", r->build[0] ? r->build : "n/a (not recorded)");
    fprintf(f, "  %-16s %s\n", "started", r->started_at);
    fprintf(f, "  %-16s %s\n", "finished", r->finished_at[0] ? r->finished_at : "n/a");

    fputs("\nMetrics\n", f);
    int lw = 0; /* the widest label, so that the values line up */
    for (int i = 0; i < HX_METRIC_COUNT; i++)
        lw = (int)strlen(hx_metric_info[i].label) > lw ? (int)strlen(hx_metric_info[i].label) : lw;
    for (int i = 0; i < HX_METRIC_COUNT; i++) {
        const hx_metric_info_t *mi = &hx_metric_info[i];
        char v[96];
        fmt_value(v, sizeof v, r->m[i], mi->unit, !strcmp(mi->sqltype, "INTEGER"));
        fprintf(f, "  %-*s %-32s %s\n", lw, mi->label, v, mi->description);
    }

    print_samples(f, r);

    if (r->ncomp) {
        double total = 0;
        for (size_t i = 0; i < r->ncomp; i++)
            total += r->comp[i].bytes;
        fputs("\nComposition at peak live bytes\n", f);
        for (size_t i = 0; i < r->ncomp; i++) {
            char b[96];
            fmt_bytes(b, sizeof b, r->comp[i].bytes);
            fprintf(f, "  %-14s %-24s %-32s %5.1f%%\n", r->comp[i].category, r->comp[i].label, b,
                    total > 0 ? 100.0 * r->comp[i].bytes / total : 0.0);
        }
    }
    if (r->nblocks)
        fprintf(f, "\nHeap map at peak live bytes: %zu blocks (see `mmbench serve`)\n", r->nblocks);
    if (r->ninfo) {
        fputs("\nAllocator statistics and facts\n", f);
        for (size_t i = 0; i < r->ninfo; i++) {
            char num[HX_NUM_MAX];
            if (!hx_num_format(num, sizeof num, r->info[i].value, 1))
                snprintf(num, sizeof num, "n/a");
            fprintf(f, "  %-40s %s\n", r->info[i].key, num);
        }
    }
}

int hx_cmd_show(int argc, char **argv) {
    const char *db = NULL, *id_text = NULL;
    int json = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(show_usage, stdout);
            return HX_EXIT_OK;
        } else if (!strcmp(a, "--json")) {
            json = 1;
        } else if ((v = hx_opt(argc, argv, &i, "--db"))) {
            if (hx_opt_twice("show", "--db", db, v, 0))
                return HX_EXIT_USAGE;
            db = v;
        } else if (!strcmp(a, "--db")) {
            fprintf(stderr, "mmbench show: --db needs a path; see mmbench show --help\n");
            return HX_EXIT_USAGE;
        } else if (a[0] == '-' && !isdigit((unsigned char)a[1])) {
            fprintf(stderr, "mmbench show: unknown option '%s'; see mmbench show --help\n", a);
            return HX_EXIT_USAGE;
        } else if (id_text) {
            fprintf(stderr, "mmbench show: takes one RUN_ID, got '%s' and '%s'; see mmbench show --help\n",
                    id_text, a);
            return HX_EXIT_USAGE;
        } else {
            id_text = a;
        }
    }
    if (!id_text) {
        fprintf(stderr, "mmbench show: which run? give a RUN_ID; see mmbench show --help\n");
        return HX_EXIT_USAGE;
    }
    int64_t id;
    if (parse_run_id(id_text, &id)) {
        /* all digits and still refused: beyond SQLite's 64-bit ids, not "no positive integer" */
        size_t len = strlen(id_text);
        int digits = len && strspn(id_text, "0123456789") == len && strspn(id_text, "0") != len;
        if (digits)
            fprintf(stderr, "mmbench show: RUN_ID %s is out of range; run ids go from 1 to 9223372036854775807\n",
                    id_text);
        else
            fprintf(stderr, "mmbench show: RUN_ID must be a positive integer, got '%s'\n", id_text);
        return HX_EXIT_USAGE;
    }
    if (!db)
        db = hx_default_db_path();

    char err[512];
    hx_store_t *s;
    if (hx_store_open(db, 1, &s, err, sizeof err)) {
        fprintf(stderr, "mmbench show: %s\n", err);
        return HX_EXIT_USAGE;
    }
    hx_run_t r;
    if (hx_store_get_run(s, id, &r, err, sizeof err)) {
        fprintf(stderr, "mmbench show: %s\n", err);
        hx_store_close(s);
        return HX_EXIT_USAGE;
    }
    hx_store_close(s);
    if (json) {
        hx_run_write_json_ex(stdout, &r, HX_JSON_ARRAYS);
        fputc('\n', stdout);
    } else {
        print_report(stdout, &r);
    }
    hx_run_release(&r);
    return fflush(stdout) == 0 ? HX_EXIT_OK : HX_EXIT_RUN_FAILED;
}
