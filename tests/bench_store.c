/*
 * bench_store.c - how long the parent takes to store one run with 1,000
 * samples (one SQLite transaction).  A benchmark, not a test: it prints the
 * median and the spread over R insertions into a fresh database.
 *
 *     build/bench_store [RUNS=50] [SAMPLES=1000]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness/hx.h"

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    int runs = argc > 1 ? atoi(argv[1]) : 50;
    int nsamples = argc > 2 ? atoi(argv[2]) : 1000;
    char path[] = "/tmp/mmb-bench-store-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return 1;
    close(fd);
    unlink(path);
    char err[512];
    hx_store_t *s;
    if (hx_store_open(path, 0, &s, err, sizeof err) != 0) {
        fprintf(stderr, "bench_store: %s\n", err);
        return 1;
    }
    double *t = calloc((size_t)runs, sizeof *t);
    for (int r = 0; r < runs; r++) {
        hx_run_t run;
        hx_run_init(&run);
        snprintf(run.allocator, sizeof run.allocator, "glibc");
        snprintf(run.workload, sizeof run.workload, "random");
        snprintf(run.status, sizeof run.status, "ok");
        snprintf(run.sweep, sizeof run.sweep, "bench");
        hx_iso_time(run.started_at, sizeof run.started_at);
        wl_params_default(&run.params);
        for (int k = 0; k < HX_METRIC_COUNT; k++)
            run.m[k] = k * 1.5;
        run.samples = calloc((size_t)nsamples, sizeof *run.samples);
        run.nsamples = (size_t)nsamples;
        for (int i = 0; i < nsamples; i++)
            for (int k = 0; k < HX_SAMPLE_COUNT; k++)
                run.samples[i].v[k] = i * 10.0 + k;
        uint64_t t0 = hx_now_ns();
        if (hx_store_insert_run(s, &run, err, sizeof err) != 0) {
            fprintf(stderr, "bench_store: %s\n", err);
            return 1;
        }
        t[r] = (double)(hx_now_ns() - t0) / 1e6;
        free(run.samples);
        run.samples = NULL;
        hx_run_release(&run);
    }
    hx_store_close(s);
    qsort(t, (size_t)runs, sizeof *t, cmp_d);
    printf("store one run with %d samples: median %.2f ms (min %.2f, max %.2f) over %d runs\n", nsamples,
           t[runs / 2], t[0], t[runs - 1], runs);
    unlink(path);
    char side[600];
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
    return 0;
}
