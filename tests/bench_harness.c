/*
 * bench_harness.c - the bare loop the harness is measured against.  A
 * benchmark, not a test: scripts/bench.sh harness runs it interleaved with
 * `mmbench run --alloc=glibc` on identical parameters, and the difference in
 * ns/op is what the harness itself adds to every allocator's figure.
 *
 *     build/bench_harness [--workload=W] [--ops=N] [--live=N] [--sizes=D]
 *                         [--touch=T] [--seed=S] [--lifetime=L] [--prefetch]
 *
 * It generates the request stream exactly as a run's child does (the
 * workloads/ API, the same defaults: random, 1e6 ops, live 1e4, sizes
 * uniform:16:512, touch page, seed 42; it prints the stream hash, which a
 * run stores as stream_hash), then serves it with nothing but the work
 * itself: direct calls to this process's malloc, realloc and free (glibc;
 * no allocator table), a plain array of pointers, and the same touch writes
 * as the harness's child_touch (page: one byte per 4 KiB from the start and
 * the last byte).  No latency sampling, no L or block counting, no sampling
 * pauses.  With --prefetch the loop also prefetches the pointer array's
 * entry 16 requests ahead, as the harness prefetches its slot table: the
 * difference to the harness is then its bookkeeping alone, without the
 * benefit of that prefetch (which a bare loop over random slots lacks).
 *
 * ns_per_op is defined as the harness's (harness/child.c, metrics.h): the
 * time of the loop over every request of the stream (MALLOC, FREE and
 * REALLOC alike, from the first one: no warm-up is left out) divided by the
 * number of requests.  The pointer array and the stream come from mmap and
 * are touched before the clock, as the child's are.  One measurement per
 * process (each rep a fresh heap, as each run is a fresh child).
 *
 * Output, one "key value" line each: stream_hash, ops, wall_ns, ns_per_op.
 * Exit 2 with one sentence on bad usage, or on a stream the bare loop does
 * not serve (several threads, slices, consumed memory).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>

#include "workloads/wl.h"

#define PREFETCH_AHEAD 16 /* as the harness's SLOT_PREFETCH_AHEAD */

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts); /* as hx_now_ns */
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}


static _Noreturn void usage(const char *msg) {
    fprintf(stderr, "bench_harness: %s\n", msg);
    exit(2);
}

/* The bare loop: the stream, a pointer per slot, the touches.  size is
 * the slot's size, kept only for streams with REALLOC (else NULL). */
static inline __attribute__((always_inline)) void serve(const wl_op_t *ops, uint64_t n, void **slot,
                                                        uint64_t *size, wl_touch_t t, const int prefetch) {
    for (uint64_t i = 0; i < n; i++) {
        const wl_op_t *op = &ops[i];
        if (prefetch && i + PREFETCH_AHEAD < n)
            __builtin_prefetch(&slot[ops[i + PREFETCH_AHEAD].slot], 1, 3);
        switch (op->kind) {
        case WL_MALLOC: {
            void *p = malloc(op->size);
            if (!p)
                usage("malloc returned NULL (out of memory)");
            slot[op->slot] = p;
            if (size)
                size[op->slot] = op->size;
            wl_touch_write(t, p, 0, op->size);
            break;
        }
        case WL_FREE:
            free(slot[op->slot]);
            slot[op->slot] = NULL;
            break;
        default: { /* WL_REALLOC (the others are refused before the clock) */
            uint64_t old = size[op->slot];
            void *p = realloc(slot[op->slot], op->size);
            if (!p)
                usage("realloc returned NULL (out of memory)");
            slot[op->slot] = p;
            size[op->slot] = op->size;
            wl_touch_write(t, p, old, op->size);
            break;
        }
        }
    }
}

static __attribute__((noinline)) void serve_bare(const wl_op_t *ops, uint64_t n, void **slot, uint64_t *size,
                                                 wl_touch_t t) {
    serve(ops, n, slot, size, t, 0);
}

static __attribute__((noinline)) void serve_prefetch(const wl_op_t *ops, uint64_t n, void **slot,
                                                     uint64_t *size, wl_touch_t t) {
    serve(ops, n, slot, size, t, 1);
}

int main(int argc, char **argv) {
    wl_params_t p;
    char err[512];
    int prefetch = 0;
    wl_params_default(&p);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *eq = strchr(a, '=');
        if (!strcmp(a, "--prefetch")) {
            prefetch = 1;
            continue;
        }
        if (strncmp(a, "--", 2) || !eq || eq - a - 2 <= 0 || eq - a - 2 >= 32) {
            snprintf(err, sizeof err, "unknown argument '%s'; expected --workload=W, --ops=N, --live=N, "
                     "--sizes=D, --touch=T, --seed=S, --lifetime=L or --prefetch", a);
            usage(err);
        }
        char key[32];
        memcpy(key, a + 2, (size_t)(eq - a - 2));
        key[eq - a - 2] = 0;
        if (!strcmp(key, "threads") && strcmp(eq + 1, "1"))
            usage("the bare loop is single-threaded; --threads must be 1");
        if (wl_params_set(&p, key, eq + 1, err, sizeof err) != 0)
            usage(err);
    }
    wl_stream_t s;
    if (wl_generate(&p, &s, err, sizeof err) != 0)
        usage(err);
    if (s.nthreads != 1)
        usage("the bare loop is single-threaded; this workload needs several threads");
    const wl_op_t *ops = s.thread[0].ops;
    uint64_t n = s.thread[0].nops;
    int sized = 0;
    for (uint64_t i = 0; i < n; i++) {
        if (ops[i].kind == WL_SLICE || ops[i].kind == WL_CONSUME)
            usage("the bare loop serves MALLOC, FREE and REALLOC only; this stream has slices or consumed memory");
        if (ops[i].kind == WL_REALLOC)
            sized = 1;
    }

    /* The tables, from mmap (not the malloc being measured) and touched now. */
    size_t ns = s.nslots ? (size_t)s.nslots : 1;
    void **slot = mmap(NULL, ns * sizeof *slot, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    uint64_t *size = sized ? mmap(NULL, ns * sizeof *size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                                  -1, 0)
                           : NULL;
    if (slot == MAP_FAILED || size == MAP_FAILED)
        usage("out of memory for the pointer array");
    memset(slot, 0, ns * sizeof *slot);
    if (size)
        memset(size, 0, ns * sizeof *size);

    uint64_t t0 = now_ns();
    if (prefetch)
        serve_prefetch(ops, n, slot, size, p.touch);
    else
        serve_bare(ops, n, slot, size, p.touch);
    uint64_t t1 = now_ns();

    double wall = (double)(t1 - t0), total = (double)s.total_ops;
    printf("stream_hash %016llx\n", (unsigned long long)s.hash);
    printf("ops %llu\n", (unsigned long long)s.total_ops);
    printf("wall_ns %.0f\n", wall);
    printf("ns_per_op %.6f\n", total > 0 ? wall / total : 0.0);
    /* Like the harness, free what is still live after the clock. */
    for (size_t k = 0; k < ns; k++)
        free(slot[k]);
    wl_stream_free(&s);
    return 0;
}
