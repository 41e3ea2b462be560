/*
 * bench_policy_ab.c - two versions of the policy allocators side by side in
 * one process, with glibc's malloc as the yardstick.  A benchmark for the
 * developers, not a test: scripts/policy_ab.sh builds it from the policy
 * code of a base commit (symbols renamed A_pol_*) and of the working tree
 * (B_pol_*), and runs it.
 *
 *     bench_policy_ab POLICY REPS [--live=N] [--ops=N] [--sizes=D] [--touch=T] ...
 *
 * The request stream is generated once (the workloads/ API and defaults, as
 * a run's child generates it) and served REPS times by each of glibc, A and
 * B, in a rotating order within each rep (so that the machine's drift hits
 * all three alike), each time on a fresh policy heap.  The loop is the bare
 * loop of bench_harness.c: a pointer per slot prefetched 16 requests ahead,
 * and the touches of --touch.  Output: the medians of the ns per request
 * after the ramp-up (the requests before the live block count first reaches
 * its maximum are served but not timed, as in `mmbench run`'s
 * steady_ns_per_op), of each version's ratio to glibc in the same rep, and
 * of B/A in the same rep, with its quartiles.  Two versions in one process see the same
 * machine at the same moments, which a pair of separate runs does not:
 * on this project's shared machine, run-to-run noise of 10-20% hides the
 * 3-10% that one change is usually worth.
 *
 * Caveat: glibc serves every rep from the same arena, already faulted in,
 * while each policy heap is new (the ramp-up, which faults a heap in, is
 * not timed, but the pages a policy heap touches first later are); the
 * ratios to glibc may differ from those of `mmbench run` (one fresh process
 * per run).  B/A is fair.
 */
#include "allocators/alloc.h"
#include "workloads/wl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

typedef void *(*mal_t)(void *, size_t);
typedef void (*fre_t)(void *, void *);

#define POL_DECL(P)                                                                \
    int P##pol_init(void **, const alloc_config_t *, int);                         \
    void P##pol_fini(void *);                                                      \
    int P##pol_check(void *, char *, size_t);                                      \
    void *P##pol_malloc_firstfit(void *, size_t);                                  \
    void P##pol_free_firstfit(void *, void *);                                     \
    void *P##pol_malloc_bestfit(void *, size_t);                                   \
    void P##pol_free_bestfit(void *, void *);                                      \
    void *P##pol_malloc_nextfit(void *, size_t);                                   \
    void P##pol_free_nextfit(void *, void *);                                      \
    void *P##pol_malloc_segregated(void *, size_t);                                \
    void P##pol_free_segregated(void *, void *);
POL_DECL(A_)
POL_DECL(B_)

typedef struct {
    int (*init)(void **, const alloc_config_t *, int);
    void (*fini)(void *);
    int (*check)(void *, char *, size_t);
    mal_t m[4];
    fre_t f[4];
} version_t;

static const version_t VA = {A_pol_init, A_pol_fini, A_pol_check,
                             {A_pol_malloc_firstfit, A_pol_malloc_bestfit, A_pol_malloc_nextfit,
                              A_pol_malloc_segregated},
                             {A_pol_free_firstfit, A_pol_free_bestfit, A_pol_free_nextfit,
                              A_pol_free_segregated}};
static const version_t VB = {B_pol_init, B_pol_fini, B_pol_check,
                             {B_pol_malloc_firstfit, B_pol_malloc_bestfit, B_pol_malloc_nextfit,
                              B_pol_malloc_segregated},
                             {B_pol_free_firstfit, B_pol_free_bestfit, B_pol_free_nextfit,
                              B_pol_free_segregated}};

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void *glibc_malloc(void *h, size_t n) {
    (void)h;
    return malloc(n);
}
static void glibc_free(void *h, void *p) {
    (void)h;
    free(p);
}

/* requests [i, end) of the stream */
static inline __attribute__((always_inline)) void serve_range(const wl_op_t *ops, uint64_t i, uint64_t end, uint64_t n,
                                                              void **slot, mal_t M, fre_t F, void *h, wl_touch_t t) {
    for (; i < end; i++) {
        const wl_op_t *op = &ops[i];
        if (i + 16 < n)
            __builtin_prefetch(&slot[ops[i + 16].slot], 1, 3);
        if (op->kind == WL_MALLOC) {
            void *p = M(h, op->size);
            if (!p) {
                fprintf(stderr, "bench_policy_ab: malloc returned NULL\n");
                exit(1);
            }
            slot[op->slot] = p;
            wl_touch_write(t, p, 0, op->size);
        } else {
            F(h, slot[op->slot]);
            slot[op->slot] = NULL;
        }
    }
}

/* ns per request of one pass over the stream, after the ramp-up: requests
 * [0, ramp) are served but not timed (they fault in the heap's pages, which
 * costs every allocator alike and can outweigh the rest; `mmbench run`'s
 * steady_ns_per_op likewise) */
static __attribute__((noinline)) double serve(const wl_op_t *ops, uint64_t n, uint64_t ramp, void **slot, mal_t M,
                                              fre_t F, void *h, wl_touch_t t) {
    if (ramp >= n)
        ramp = 0;
    serve_range(ops, 0, ramp, n, slot, M, F, h, t);
    uint64_t t0 = now_ns();
    serve_range(ops, ramp, n, n, slot, M, F, h, t);
    return (double)(now_ns() - t0) / (double)(n - ramp);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}
static double quantile(double *v, int n, int num, int den) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return v[(n - 1) * num / den];
}

static _Noreturn void usage(const char *msg) {
    fprintf(stderr, "bench_policy_ab: %s\n", msg);
    exit(2);
}

int main(int argc, char **argv) {
    static const char *const names[] = {"firstfit", "bestfit", "nextfit", "segregated"};
    if (argc < 3)
        usage("usage: bench_policy_ab POLICY REPS [--live=N] [--ops=N] [--sizes=D] [--touch=T] [--seed=S]");
    int kind = -1;
    for (int k = 0; k < 4; k++)
        if (!strcmp(argv[1], names[k]))
            kind = k;
    if (kind < 0)
        usage("POLICY must be firstfit, bestfit, nextfit or segregated");
    int reps = atoi(argv[2]);
    if (reps < 1 || reps > 1000)
        usage("REPS must be between 1 and 1000");
    wl_params_t wp;
    char err[512];
    wl_params_default(&wp);
    for (int i = 3; i < argc; i++) {
        const char *a = argv[i], *eq = strchr(a, '=');
        if (strncmp(a, "--", 2) || !eq || eq - a - 2 <= 0 || eq - a - 2 >= 32)
            usage("workload parameters are --key=value, as for mmbench run");
        char key[32];
        memcpy(key, a + 2, (size_t)(eq - a - 2));
        key[eq - a - 2] = 0;
        if (wl_params_set(&wp, key, eq + 1, err, sizeof err) != 0)
            usage(err);
    }
    wl_stream_t s;
    if (wl_generate(&wp, &s, err, sizeof err) != 0)
        usage(err);
    if (s.nthreads != 1)
        usage("the A/B loop is single-threaded");
    const wl_op_t *ops = s.thread[0].ops;
    uint64_t n = s.thread[0].nops, ramp = s.ramp_index + 1; /* timed from here */
    for (uint64_t i = 0; i < n; i++)
        if (ops[i].kind != WL_MALLOC && ops[i].kind != WL_FREE)
            usage("the A/B loop serves streams of malloc and free only");
    size_t ns = s.nslots ? (size_t)s.nslots : 1;
    void **slot = mmap(NULL, ns * sizeof *slot, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (slot == MAP_FAILED)
        usage("out of memory for the pointer array");
    memset(slot, 0, ns * sizeof *slot);

    double *g = calloc((size_t)reps, sizeof *g), *a = calloc((size_t)reps, sizeof *a);
    double *b = calloc((size_t)reps, sizeof *b), *ra = calloc((size_t)reps, sizeof *ra);
    double *rb = calloc((size_t)reps, sizeof *rb), *rab = calloc((size_t)reps, sizeof *rab);
    if (!g || !a || !b || !ra || !rb || !rab)
        usage("out of memory");
    alloc_config_t cfg = {0};
    cfg.reserve_bytes = (size_t)16 << 30;
    for (int r = 0; r < reps; r++) {
        for (int w = 0; w < 3; w++) {
            int which = (w + r) % 3;
            if (which == 0) {
                g[r] = serve(ops, n, ramp, slot, glibc_malloc, glibc_free, NULL, wp.touch);
                for (size_t k = 0; k < ns; k++)
                    free(slot[k]);
            } else {
                const version_t *v = which == 1 ? &VA : &VB;
                void *h = NULL;
                if (v->init(&h, &cfg, kind) != 0)
                    usage("a policy heap could not be made");
                double t = serve(ops, n, ramp, slot, v->m[kind], v->f[kind], h, wp.touch);
                if (r == 0 && v->check(h, err, sizeof err) != 0) {
                    fprintf(stderr, "bench_policy_ab: version %c: heap check failed: %s\n",
                            which == 1 ? 'A' : 'B', err);
                    return 1;
                }
                v->fini(h);
                *(which == 1 ? &a[r] : &b[r]) = t;
            }
            memset(slot, 0, ns * sizeof *slot);
        }
        ra[r] = a[r] / g[r];
        rb[r] = b[r] / g[r];
        rab[r] = b[r] / a[r];
    }
    printf("%s reps %d: ns/request glibc %.1f A %.1f B %.1f | A/glibc %.3f B/glibc %.3f | "
           "B/A %.3f (q1 %.3f, q3 %.3f)\n",
           names[kind], reps, quantile(g, reps, 1, 2), quantile(a, reps, 1, 2), quantile(b, reps, 1, 2),
           quantile(ra, reps, 1, 2), quantile(rb, reps, 1, 2), quantile(rab, reps, 1, 2),
           quantile(rab, reps, 1, 4), quantile(rab, reps, 3, 4));
    wl_stream_free(&s);
    return 0;
}
