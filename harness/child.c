/*
 * child.c - a run's child process: serve one workload with one allocator,
 * measure it, and send the results to the parent over a pipe.
 *
 * The parent starts `mmbench __child --fd=N --alloc=A [workload params]`,
 * with the allocator's library in LD_PRELOAD where it needs one, so each run
 * has a fresh address space, its own RSS, and a malloc that is exactly the
 * allocator under test.  Everything the child keeps for itself (the stream,
 * the slot table, samples, latencies, the output buffer) comes from mmap
 * (hx_mem_alloc) and is touched before the RSS baseline is read, so neither
 * the allocator's statistics nor R(t) see the harness.
 *
 * Timing: the measured loop reads the clock only at sample points (the
 * pauses are excluded from wall_ns).  Every 256th request (index % 256 ==
 * 255, the same requests for every allocator) is timed alone with the TSC
 * for the latency percentiles; that costs two TSC reads per 256 requests.
 * A TSC read takes about 11 ns on the VM we develop on, so a stride of 64
 * cost about 3% of glibc's ns per request, 256 costs under 1%; a 1e6-request
 * run still times 3,906 requests (p99.9 rests on its 4 slowest).  Each read
 * is fenced (child_ticks): RDTSC alone does not wait for the request before
 * it, and glibc's free + malloc read exactly as two empty reads (21 ticks)
 * at the median.  The least of back-to-back fenced reads is measured before
 * the run and kept (run_info latency_timer_ns): every latency includes it.
 *
 * The harness must not distort what it measures, so its own work per request
 * is kept to what it cannot avoid: load the request (sequential), call the
 * allocator (through the table; the process's own malloc and free directly,
 * as a program calls them, for ALLOC_PROCESS_MALLOC allocators), keep the
 * pointer, touch the block.  L and the
 * live block count follow from the stream alone, so single-threaded runs
 * compute them for the sample points before the clock (child_live_at) and
 * the loop does not count; workers count them for the watcher, from the
 * requests (a FREE carries the size it frees, wl_op_t.size).  The slot table
 * holds only pointers (8 bytes a slot); the sizes are kept in a separate
 * array only for streams with REALLOC, SLICE or CONSUME, and in verify
 * mode.  What a run needs is decided once, before the clock: the
 * single-threaded loop is compiled once per touch mode for the common run
 * (MALLOC and FREE, no verify) and once more, general, for the rest.  The
 * slot entry a request will use is prefetched a fixed distance ahead, so
 * that the harness's own table is not a cache miss serialized in front of
 * the allocator's (see child_prefetch).
 *
 * Single-threaded runs sample inline after evenly spaced requests and once
 * more exactly where L(t) peaks (known from the stream before the run), so
 * frag_jw2, the heap snapshot and the composition are taken at the true
 * peak.  Multi-threaded runs are sampled by a watcher thread that never
 * pauses the workers (every ~100 us it checks the workers' progress); their
 * "peak" is the sample with the largest L, and they keep no heap map.
 *
 * Protocol, one record per line (parsed by runner.c):
 *   A allocator (the name to record, when the allocator's heap_name says
 *   more than the name typed: buffer -> buffer:glibc) | V version |
 *   H stream-hash | M key value | S v0 v1 ... | B off size used |
 *   C category<TAB>label<TAB>bytes | I key<TAB>value | E failure | D
 */
#define _GNU_SOURCE
#include "allocators/alloc.h"
#include "harness/hx.h"
#include "harness/proc.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
/* The TSC, read once everything before has completed (the first LFENCE)
 * and before anything after starts (the second): unfenced, the second read
 * of a timed request ran ahead of the request's own instructions. */
static inline __attribute__((always_inline)) uint64_t child_ticks(void) {
    _mm_lfence();
    uint64_t t = __rdtsc();
    _mm_lfence();
    return t;
}
#define CHILD_TICKS() child_ticks()
#define CHILD_PAUSE() _mm_pause()
#else
#define CHILD_TICKS() hx_now_ns()
#define CHILD_PAUSE() ((void)0)
#endif

#define LAT_STRIDE_MASK 255u
/* multi-threaded runs: requests between a worker's sums of every thread's live bytes */
#define PEAK_STRIDE 64u
/* How many requests ahead the measured loops prefetch the harness's own slot
 * entry (at 10-20 ns a request, 16 requests cover a miss to DRAM). */
#define SLOT_PREFETCH_AHEAD 16
#define MAX_BLOCKS_KEPT 20000
#define BLOCK_BINS 4096
#define EXIT_CHILD_FAIL 3

/* ---- output (no stdio: it would malloc) ---------------------------------- */

static int out_fd = -1;

static void out_line(const char *fmt, ...) {
    char buf[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n > sizeof buf - 2)
        n = (int)sizeof buf - 2;
    buf[n++] = '\n';
    for (int off = 0; off < n;) {
        ssize_t w = write(out_fd, buf + off, (size_t)(n - off));
        if (w < 0) {
            if (errno == EINTR)
                continue;
            _exit(EXIT_CHILD_FAIL);
        }
        off += (int)w;
    }
}

static void out_num(const char *tag, const char *key, double v) {
    if (isnan(v))
        out_line("%s %s nan", tag, key);
    else
        out_line("%s %s %.17g", tag, key, v);
}

static _Noreturn void child_fail(const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    for (char *p = msg; *p; p++)
        if (*p == '\n')
            *p = ' ';
    out_line("E %s", msg);
    _exit(EXIT_CHILD_FAIL);
}

/* ---- the run's state ----------------------------------------------------- */

typedef struct child_thread {
    pthread_t tid;
    uint32_t index;
    struct child *c;
    _Atomic uint64_t progress; /* requests done */
    _Atomic int64_t live;      /* bytes this thread allocated minus freed */
    _Atomic int64_t blocks;
    int64_t peak_seen;         /* the largest L of all threads this worker added up */
    uint64_t end_ns;           /* when this worker served its last request */
    uint64_t *lat;             /* TSC ticks of sampled requests */
    uint64_t nlat, latcap;
    char pad[64];
} child_thread_t;

typedef struct child {
    const alloc_methods_t *m;
    void *heap;
    wl_stream_t s;
    wl_touch_t touch;
    int verify;
    int debug_heap; /* --debug-heap: the allocator checks itself (run_info says so) */
    void **slot; /* one per slot: the pointer it holds (the hot table) */
    /* per slot: the size it holds, only when the stream has REALLOC, SLICE
     * or CONSUME, or in verify mode (else NULL: a FREE carries its size,
     * nothing else needs it) */
    uint64_t *size;
    /* alloc_slot_kind_t per slot, only when the stream has slices or
     * consumed memory (else NULL: every slot holds a block; never set
     * without size) */
    unsigned char *kind;
    _Atomic uint32_t *done; /* cross-thread streams: ops completed per slot */
    /* single thread: L and the live block count after each sample point */
    int64_t *live_at, *blocks_at;
    hx_sample_t *samples;
    size_t nsamples, samplecap;
    int64_t rss_base;
    /* at the peak of L */
    int have_peak;
    double peak_L, peak_H;
    alloc_stats_t peak_st;
    int64_t peak_live_count;
    /* at the peak of H (from samples) */
    double maxH, L_at_maxH;
    child_thread_t *th;
    _Atomic int start, stop;
    uint64_t t_start_ns;
    uint64_t pause_ns; /* time spent taking samples (not in wall_ns) */
    /* regular[k]: sample k is one of the evenly spaced ones (the extra
     * samples at the peak of L and at the end of the ramp-up are not, and
     * are left out of the averages) */
    unsigned char *regular;
    int peak_regular, ramp_regular;
    /* single thread: the measured time and the requests served when the
     * live block count first reached its maximum (steady_ns_per_op) */
    uint64_t ramp_elapsed, ramp_ops;
    /* single thread with a heap walk: BLOCK_BINS bins for a heap map with
     * too many blocks to keep, touched before the RSS baseline (the map is
     * made inside the measured run) */
    double *bins;
} child_t;

/* Fill byte for verify mode: depends on the slot and its size. */
static inline unsigned char child_pattern(uint32_t slot, uint64_t size) {
    return (unsigned char)(0x5a ^ slot ^ (slot >> 8) ^ size);
}

/* What serving a request needs, copied out of child_t into one small local
 * struct that the loops read (hot in L1); through c they would chase c->m
 * after every call into the allocator. */
typedef struct serve {
    void *(*malloc)(void *heap, size_t n);
    void (*free)(void *heap, void *p);
    void *heap;
    void **slot;
    uint64_t *size;      /* NULL unless the stream has REALLOC/SLICE/CONSUME or verify is on */
    unsigned char *kind; /* NULL unless the stream has SLICE/CONSUME */
    wl_touch_t touch;
    int verify;
    child_t *c;
} serve_t;

static serve_t serve_of(child_t *c) {
    return (serve_t){.malloc = c->m->malloc, .free = c->m->free, .heap = c->heap, .slot = c->slot, .size = c->size, .kind = c->kind, .touch = c->touch, .verify = c->verify, .c = c};
}

/* The touch mode a loop is compiled for: a wl_touch_t (then verify is off),
 * or CHILD_TOUCH_ANY: read k->verify and k->touch at each request. */
#define CHILD_TOUCH_ANY (-1)

/* Write bytes [from, to) of p as --touch says (in verify mode: fill them
 * with the slot's pattern). */
static inline __attribute__((always_inline)) void child_touch(const serve_t *k, unsigned char *p,
                                                              uint64_t from, uint64_t to,
                                                              uint32_t slot, uint64_t size, const int mode) {
    if (from >= to)
        return;
    if (mode == CHILD_TOUCH_ANY && __builtin_expect(k->verify, 0)) {
        memset(p + from, child_pattern(slot, size), to - from);
        return;
    }
    wl_touch_write(mode == CHILD_TOUCH_ANY ? k->touch : (wl_touch_t)mode, p, from, to);
}

/* Check that the n bytes slot holds still carry its pattern. */
static void child_verify(const serve_t *k, uint32_t slot, uint64_t n) {
    const unsigned char *p = k->slot[slot];
    unsigned char want = child_pattern(slot, n);
    for (uint64_t i = 0; i < n; i++)
        if (p[i] != want)
            child_fail("contents of a %llu-byte block (slot %u) were overwritten at byte %llu: "
                       "the allocator handed out overlapping memory",
                       (unsigned long long)n, slot, (unsigned long long)i);
}

/* External memory for CONSUME comes from mmap, never from the allocator
 * under test; its release (called once, by the allocator's free or by
 * alloc_free_slot) unmaps it. */
static void child_release_external(void *mem, size_t n, void *ctx) {
    (void)ctx;
    munmap(mem, n);
}

/* Cold: SLICE and CONSUME (they add nothing to L or to the blocks).  Such
 * streams always have the size array (teardown needs a consumed region's
 * size). */
static __attribute__((noinline, cold)) int64_t child_serve_buffer(const serve_t *k, const wl_op_t *op) {
    uint32_t slot = op->slot;
    child_t *c = k->c;
    if (op->kind == WL_SLICE) {
        uint32_t parent = wl_slice_parent(op);
        void *h = alloc_slice(c->m, k->heap, k->slot[parent], 0, wl_slice_len(op), &k->kind[slot]);
        if (!h)
            child_fail("slice of %u bytes of slot %u failed: %s", wl_slice_len(op), parent, strerror(errno));
        k->slot[slot] = h;
        k->size[slot] = wl_slice_len(op);
        return 0;
    }
    size_t n = (size_t)op->size;
    void *mem = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED)
        child_fail("cannot map %llu bytes of external memory to consume", (unsigned long long)op->size);
    child_touch(k, mem, 0, n, slot, n, CHILD_TOUCH_ANY);
    void *h = alloc_consume(c->m, k->heap, mem, n, child_release_external, NULL, &k->kind[slot]);
    if (!h) {
        int e = errno;
        munmap(mem, n);
        child_fail("consume of %llu bytes of external memory failed: %s", (unsigned long long)op->size,
                   strerror(e));
    }
    k->slot[slot] = h;
    k->size[slot] = n;
    return 0;
}

/* Cold: FREE of a slice or consumed memory (never verified: a slice's bytes
 * are its parent's, which may be gone).  n is the FREE's size: the slice's
 * length or the consumed region's size. */
static __attribute__((noinline, cold)) int64_t child_free_special(const serve_t *k, uint32_t slot, uint64_t n) {
    alloc_free_slot(k->c->m, k->heap, k->slot[slot], (size_t)n, k->kind[slot], child_release_external, NULL);
    k->slot[slot] = NULL;
    k->size[slot] = 0;
    k->kind[slot] = ALLOC_SLOT_BLOCK;
    return 0;
}

/* The cold path: realloc (alloc_realloc_sized supplies the fallback: the
 * device allocators have no realloc, and the old size is the slot's), slices and
 * consumed memory.  Only streams with the size array come here. */
static __attribute__((noinline)) int64_t child_serve_realloc(const serve_t *k, const wl_op_t *op) {
    if (__builtin_expect(op->kind != WL_REALLOC, 0))
        return child_serve_buffer(k, op);
    uint32_t slot = op->slot;
    uint64_t old = k->size[slot];
    if (k->verify)
        child_verify(k, slot, old);
    void *p = alloc_realloc_sized(k->c->m, k->heap, k->slot[slot], (size_t)old, op->size);
    if (!p)
        child_fail("realloc to %llu bytes returned NULL (%s)", (unsigned long long)op->size,
                   errno == ENOMEM || errno == 0 ? "out of memory" : strerror(errno));
    k->slot[slot] = p;
    k->size[slot] = op->size;
    if (k->verify)
        child_touch(k, p, 0, op->size, slot, op->size, CHILD_TOUCH_ANY);
    else
        child_touch(k, p, old, op->size, slot, op->size, CHILD_TOUCH_ANY);
    return (int64_t)op->size - (int64_t)old;
}

/* Serve one request.  Returns the change in live bytes.  sized, mode and
 * direct are constants at every call site: whether the run keeps the size
 * array (k->size != NULL; always in verify mode), the touch mode (see
 * CHILD_TOUCH_ANY), and whether the allocator is the process's own malloc
 * and free (ALLOC_PROCESS_MALLOC: called directly, as a program calls them,
 * rather than through the table and a wrapper), so that the common run
 * (MALLOC and FREE only, no verify) compiles to a loop that tests nothing it
 * knows before the clock. */
static inline __attribute__((always_inline)) int64_t child_serve(const serve_t *k, const wl_op_t *op,
                                                                 int64_t *blocks, const int sized,
                                                                 const int mode, const int direct) {
    uint32_t slot = op->slot;
    uint64_t n = op->size;
    /* Streams without the size array hold only MALLOC and FREE (the size
     * array exists for any other kind): then this is the two-way branch a
     * bare loop has. */
    if (sized && __builtin_expect(op->kind > WL_FREE, 0))
        return child_serve_realloc(k, op);
    if (op->kind == WL_MALLOC) {
        void *p = direct ? malloc(n) : k->malloc(k->heap, n);
        if (__builtin_expect(!p, 0))
            child_fail("malloc(%llu) returned NULL (out of memory)", (unsigned long long)n);
        k->slot[slot] = p;
        if (sized)
            k->size[slot] = n;
        child_touch(k, p, 0, n, slot, n, mode);
        ++*blocks;
        return (int64_t)n;
    } else { /* WL_FREE */
        /* n is the size being freed (wl.h): L is counted from the request,
         * not from a second load out of the table. */
        if (sized && __builtin_expect(k->kind != NULL, 0) && k->kind[slot] != ALLOC_SLOT_BLOCK)
            return child_free_special(k, slot, n);
        if (mode == CHILD_TOUCH_ANY && __builtin_expect(k->verify, 0))
            child_verify(k, slot, n);
        if (direct)
            free(k->slot[slot]);
        else
            k->free(k->heap, k->slot[slot]);
        k->slot[slot] = NULL;
        --*blocks;
        return -(int64_t)n;
    }
}

/* Prefetch the slot entry (in sized runs also the size entry) that the
 * request `ahead` will use, SLOT_PREFETCH_AHEAD after the one about to be
 * served (the caller knows that it exists).  The slots a stream frees are
 * random, so without this the load of the pointer a FREE passes on is a
 * cache miss (at --live=1e5 the table is 800 KB), and the allocator's own
 * miss on its block header waits behind it: the harness would add its
 * latency to every allocator's.  Only the harness's own tables are
 * prefetched, never the block or anything of the allocator's: that would do
 * part of the allocator's work for it and distort the measurement the other
 * way.  Issued outside the latency-timed region. */
static inline __attribute__((always_inline)) void child_prefetch(const serve_t *k, const wl_op_t *ahead,
                                                                 const int sized) {
    uint32_t s = ahead->slot;
    __builtin_prefetch(&k->slot[s], 1, 3);
    if (sized)
        __builtin_prefetch(&k->size[s], 1, 3);
}

static void child_peak_snapshot(child_t *c);

/* ---- fault injection (tests only) ---------------------------------------- */

/* MMBENCH_FAULT=KIND[:N] makes the child misbehave at its first sample point
 * at or after request N, so the tests can check that the parent records a
 * failed run and the sweep goes on.  KIND: segv, abort, kill (SIGKILL, as the
 * out-of-memory killer sends), hang, exit, stop (SIGSTOP: the run goes on
 * when the test sends SIGCONT, so it can do something at that moment, such
 * as locking the database), suspend (the same stop, as a Ctrl-Z of the
 * sweep would: the run fails at the end, its times holding the stop; a
 * SIGSTOP, since a SIGTSTP may be discarded in the tests' process group).
 * kill-before-hash and
 * exit-before-hash strike earlier, before the stream is generated and its
 * hash reported (as the out-of-memory killer during generation, or a trace
 * file deleted mid-sweep, would); N does not matter to them.  Read once,
 * before the stream is generated. */
enum {
    FAULT_NONE, FAULT_SEGV, FAULT_ABORT, FAULT_KILL, FAULT_HANG, FAULT_EXIT, FAULT_KILL_EARLY, FAULT_EXIT_EARLY,
    FAULT_STOP, FAULT_SUSPEND
};
static int fault_kind;
static uint64_t fault_at;

/* SIGCONT's count: a run stopped (Ctrl-Z, SIGSTOP) and continued during its
 * measured loop has the stop in its times, so it fails (hx_cmd_child).  The
 * stop fault below is excused: the tests that use it check other things. */
static volatile sig_atomic_t child_continued, child_cont_excused;
static void child_on_cont(int sig) {
    (void)sig;
    child_continued++;
}

static void fault_setup(void) {
    const char *f = getenv("MMBENCH_FAULT");
    if (!f || !*f)
        return;
    static const char *const kinds[] = {"segv", "abort", "kill", "hang", "exit", "kill-before-hash",
                                        "exit-before-hash", "stop", "suspend"};
    const char *colon = strchr(f, ':');
    size_t len = colon ? (size_t)(colon - f) : strlen(f);
    for (int k = 0; k < (int)(sizeof kinds / sizeof kinds[0]); k++)
        if (strlen(kinds[k]) == len && !strncmp(f, kinds[k], len))
            fault_kind = k + 1;
    fault_at = colon ? strtoull(colon + 1, NULL, 10) : 0;
}

/* the faults that strike before the stream's hash is reported */
static void fault_early(void) {
    if (fault_kind == FAULT_KILL_EARLY)
        raise(SIGKILL);
    if (fault_kind == FAULT_EXIT_EARLY)
        _exit(7);
}

static void fault_maybe(uint64_t op_index) {
    if (!fault_kind || op_index < fault_at)
        return;
    switch (fault_kind) {
    case FAULT_SEGV: raise(SIGSEGV); break;
    case FAULT_ABORT: abort();
    case FAULT_KILL: raise(SIGKILL); break;
    case FAULT_HANG: for (;;) pause();
    case FAULT_EXIT: _exit(7);
    case FAULT_STOP:
        fault_kind = FAULT_NONE; /* once */
        raise(SIGSTOP);
        child_cont_excused++;
        break;
    case FAULT_SUSPEND: /* as Ctrl-Z of the sweep: not excused */
        fault_kind = FAULT_NONE;
        raise(SIGSTOP);
        break;
    default: break;
    }
}

/* ---- samples ------------------------------------------------------------- */

static double st_or_nan(int64_t v) { return v == ALLOC_UNKNOWN ? NAN : (double)v; }

static void child_sample(child_t *c, uint64_t op_index, uint64_t elapsed, double L,
                         int64_t live_count, int is_peak, int regular) {
    fault_maybe(op_index);
    alloc_stats_t st;
    alloc_stats(c->m, c->heap, &st);
    double H = st_or_nan(st.footprint);
    int64_t rss = proc_rss_bytes();
    if (c->nsamples < c->samplecap) {
        c->regular[c->nsamples] = (unsigned char)regular;
        hx_sample_t *s = &c->samples[c->nsamples++];
        s->v[HX_S_op_index] = (double)op_index;
        s->v[HX_S_elapsed_ns] = (double)elapsed;
        s->v[HX_S_live_bytes] = L;
        s->v[HX_S_heap_bytes] = H;
        s->v[HX_S_rss_bytes] = rss < 0 ? NAN : (double)(rss - c->rss_base);
        s->v[HX_S_holes] = st_or_nan(st.free_blocks);
        s->v[HX_S_live_blocks] =
            st.used_blocks != ALLOC_UNKNOWN ? (double)st.used_blocks : (double)live_count;
        s->v[HX_S_frag] = (L > 0 && !isnan(H)) ? H / L - 1 : NAN;
    }
    /* JW #3: the moment H is largest; while H stays at its largest, the
     * moment with the most live bytes. */
    if (!isnan(H) && (isnan(c->maxH) || H > c->maxH || (H == c->maxH && L > c->L_at_maxH))) {
        c->maxH = H;
        c->L_at_maxH = L;
    }
    if (is_peak) {
        c->have_peak = 1;
        c->peak_L = L;
        c->peak_H = H;
        c->peak_st = st;
        c->peak_live_count = live_count;
        if (c->s.nthreads == 1)
            child_peak_snapshot(c);
    }
}

/* ---- the heap snapshot and the composition at peak ---------------------- */

typedef struct walk_acc {
    size_t n;
    double free_cls[6];
    uint64_t last_off, last_size;
    int last_free;
} walk_acc_t;

static const char *const free_cls_label[6] = {"free < 64 B", "free 64-255 B", "free 256 B-1 KiB",
                                              "free 1-4 KiB", "free 4-64 KiB", "free >= 64 KiB"};

/* The first walk: count the blocks, sum the free ones by size class, note
 * the last one. */
static int walk_cb(void *ctx, uint64_t off, uint64_t size, int used) {
    walk_acc_t *a = ctx;
    a->n++;
    if (!used) {
        int k = size < 64 ? 0 : size < 256 ? 1 : size < 1024 ? 2 : size < 4096 ? 3 : size < 65536 ? 4 : 5;
        a->free_cls[k] += (double)size;
    }
    a->last_off = off;
    a->last_size = size;
    a->last_free = !used;
    return 0;
}

/* The second walk: each block written as it comes (bins NULL), or its used
 * bytes added to the bins of w bytes each.  Nothing is kept per block: the
 * snapshot is taken inside the measured run, where memory the harness
 * touched would count in R(t) and the peak RSS. */
typedef struct walk_out {
    double *bins;
    uint64_t w;
} walk_out_t;

static int walk_out_cb(void *ctx, uint64_t off, uint64_t size, int used) {
    walk_out_t *o = ctx;
    if (!o->bins) {
        out_line("B %llu %llu %g", (unsigned long long)off, (unsigned long long)size, used ? 1.0 : 0.0);
        return 0;
    }
    if (!used)
        return 0;
    uint64_t lo = off, hi = off + size;
    while (lo < hi) {
        uint64_t bin = lo / o->w, bend = (bin + 1) * o->w;
        uint64_t seg = (hi < bend ? hi : bend) - lo;
        if (bin < BLOCK_BINS)
            o->bins[bin] += (double)seg;
        lo += seg;
    }
    return 0;
}

/* Native statistics at the peak (stats_extra), written as run_info; buffer
 * runs also say how their memory splits by buffer kind. */
typedef struct info_acc {
    double kind_bytes[4];
} info_acc_t;

static const char *const buffer_kinds[4][2] = {{"buffer.owned", "owned"},
                                               {"buffer.slice_parents", "slice-parents"},
                                               {"buffer.consumed", "consumed"},
                                               {"buffer.delayed", "delayed"}};

static void emit_info(void *ctx, const char *key, double v) {
    info_acc_t *acc = ctx;
    char k[64];
    size_t i = 0;
    for (; key[i] && i < sizeof k - 1; i++)
        k[i] = (key[i] == '\t' || key[i] == '\n' || key[i] == ' ') ? '_' : key[i];
    k[i] = 0;
    if (!k[0])
        return;
    out_line("I %s\t%.17g", k, v);
    for (size_t j = 0; j < 4; j++)
        if (!strcmp(key, buffer_kinds[j][0]) && v > 0)
            acc->kind_bytes[j] += v;
}

/* The live data at the peak: payload, or for buffer runs the buffers by
 * kind (which hold the payload, each padded to 64 bytes).  Returns the bytes
 * it accounted for. */
static double emit_live(const child_t *c, const info_acc_t *acc, double L) {
    double kinds = 0;
    for (int j = 0; j < 4; j++)
        kinds += acc->kind_bytes[j];
    if (kinds <= 0 || !(c->m->flags & ALLOC_WRAPPER)) {
        out_line("C payload\tpayload\t%.17g", L);
        return L;
    }
    for (int j = 0; j < 4; j++)
        if (acc->kind_bytes[j] > 0)
            out_line("C %s\tbuffers: %s\t%.17g", buffer_kinds[j][1], buffer_kinds[j][1],
                     acc->kind_bytes[j]);
    return kinds;
}

/* Heap map, composition and native statistics at the peak of L.  Called at
 * that moment (a sampling pause) in single-threaded runs; after the run, from
 * the statistics saved at the peak, in multi-threaded ones (no heap map). */
static void child_peak_snapshot(child_t *c) {
    const alloc_stats_t *st = &c->peak_st;
    double L = c->peak_L;
    info_acc_t acc = {{0}};
    if (c->m->stats_extra)
        c->m->stats_extra(c->heap, emit_info, &acc);
    if (c->m->walk && c->s.nthreads == 1) {
        walk_acc_t a = {0};
        if (c->m->walk(c->heap, walk_cb, &a) == 0) {
            walk_out_t o = {0};
            uint64_t end = a.n ? a.last_off + a.last_size : 0;
            if (a.n > MAX_BLOCKS_KEPT) {
                /* Too many blocks to keep: bin the heap by address, each bin
                 * with the fraction of its bytes in used blocks. */
                o.bins = c->bins;
                o.w = (end + BLOCK_BINS - 1) / BLOCK_BINS;
                if (o.w == 0)
                    o.w = 1;
                memset(o.bins, 0, BLOCK_BINS * sizeof *o.bins);
            }
            c->m->walk(c->heap, walk_out_cb, &o);
            for (uint64_t bin = 0; o.bins && bin < BLOCK_BINS && bin * o.w < end; bin++) {
                uint64_t bw = (bin + 1) * o.w > end ? end - bin * o.w : o.w;
                out_line("B %llu %llu %.6f", (unsigned long long)(bin * o.w), (unsigned long long)bw,
                         o.bins[bin] / (double)bw);
            }
            /* Composition: payload, headers, padding, free fragments by
             * size class, the free top. */
            double top = (a.last_free && st->top_free_bytes != ALLOC_UNKNOWN) ? (double)st->top_free_bytes : 0;
            if (top > 0)
                a.free_cls[a.last_size < 64 ? 0 : a.last_size < 256 ? 1 : a.last_size < 1024 ? 2
                           : a.last_size < 4096 ? 3 : a.last_size < 65536 ? 4 : 5] -= top;
            double sum = emit_live(c, &acc, L);
            if (st->header_bytes != ALLOC_UNKNOWN) {
                out_line("C overhead\theaders\t%lld", (long long)st->header_bytes);
                sum += (double)st->header_bytes;
            }
            if (st->padding_bytes != ALLOC_UNKNOWN) {
                out_line("C overhead\tpadding\t%lld", (long long)st->padding_bytes);
                sum += (double)st->padding_bytes;
            }
            for (int k = 0; k < 6; k++)
                if (a.free_cls[k] > 0) {
                    out_line("C free\t%s\t%.17g", free_cls_label[k], a.free_cls[k]);
                    sum += a.free_cls[k];
                }
            if (top > 0) {
                out_line("C top\tfree top of the heap\t%.17g", top);
                sum += top;
            }
            if (st->metadata_bytes > 0) {
                out_line("C metadata\tallocator metadata\t%lld", (long long)st->metadata_bytes);
                sum += (double)st->metadata_bytes;
            }
            /* what H holds outside every block (the policy heap's 8-byte
             * pad below the first block and its 8-byte end marker), so
             * that the parts add up to H */
            if (!isnan(c->peak_H) && c->peak_H - sum >= 1)
                out_line("C overhead\toutside the blocks (heap start and end)\t%.17g", c->peak_H - sum);
        }
        return;
    }
    /* No heap walk: compose from the allocator's own figures. */
    double live = emit_live(c, &acc, L);
    double used = NAN;
    if (st->used_bytes != ALLOC_UNKNOWN)
        used = (double)st->used_bytes;
    else if (st->allocated_bytes != ALLOC_UNKNOWN)
        used = (double)st->allocated_bytes;
    if (!isnan(used) && used > live && c->s.nthreads == 1)
        out_line("C overhead\theaders, rounding and padding\t%.17g", used - live);
    /* The rest of H after L and the used blocks' overhead: metadata, free,
     * and what no figure explains, each from what is known at one moment. */
    double meta = st->metadata_bytes > 0 ? (double)st->metadata_bytes : 0, fr = 0, other = 0;
    const char *other_is = NULL;
    if (!isnan(c->peak_H)) {
        double rest;
        if (c->s.nthreads > 1) {
            /* the statistics are read at the end of the run, L at the
             * watcher's sample: split only what is known at one moment */
            rest = c->peak_H - live;
            other_is = "held, not split (statistics read at the end)";
        } else if (isnan(used)) {
            /* no figure of the bytes in used blocks (mimalloc): the rest
             * of H is shown whole, not as payload and not as free */
            rest = c->peak_H - live;
            other_is = "held, not split (no allocated-bytes figure)";
        } else {
            rest = c->peak_H - (used > live ? used : live);
            if (st->free_bytes != ALLOC_UNKNOWN) {
                /* the allocator counts its free bytes (the figure
                 * frag_external uses); the metadata in H is at most what is
                 * left (jemalloc's H holds only the resident part of it) */
                fr = (double)st->free_bytes;
                rest -= fr;
                other_is = "held, in none of the allocator's figures";
            }
        }
        if (meta > rest)
            meta = rest > 0 ? rest : 0;
        rest -= meta;
        if (other_is)
            other = rest;
        else
            fr = rest; /* the rest of H is free */
    }
    if (meta > 0)
        out_line("C metadata\tallocator metadata\t%.17g", meta);
    if (fr > 0)
        out_line("C free\theld but not allocated\t%.17g", fr);
    if (other > 0)
        out_line("C other\t%s\t%.17g", other_is, other);
    if (st->retained_bytes > 0)
        out_line("C retained\tretained (not in H)\t%lld", (long long)st->retained_bytes);
}

/* ---- the measured loop ---------------------------------------------------- */

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Serve requests [i, e) untimed.  prefetch: each of them has a request
 * SLOT_PREFETCH_AHEAD after it (the caller checks that once, not at every
 * request).  The change in L and in the block count that child_serve
 * returns is dropped (the compiler drops its computation): single-threaded
 * runs know both from the stream (child_live_at). */
static inline __attribute__((always_inline)) void child_serve_run(const serve_t *k, const wl_op_t *ops,
                                                                  uint64_t i, uint64_t e, const int prefetch,
                                                                  const int sized, const int mode,
                                                                  const int direct) {
    int64_t blocks = 0;
    for (; i < e; i++) {
        if (prefetch)
            child_prefetch(k, &ops[i + SLOT_PREFETCH_AHEAD], sized);
        child_serve(k, &ops[i], &blocks, sized, mode, direct);
    }
}

/* Serve requests [i, end) of the single-threaded stream ops[0..n).  The
 * loop runs from one latency-timed request (index % 256 == 255) to the next,
 * so that the requests between them test neither the index nor the end of
 * the stream. */
static inline __attribute__((always_inline)) void child_segment(const serve_t *k, const wl_op_t *ops,
                                                                uint64_t i, uint64_t end, uint64_t n,
                                                                child_thread_t *t, const int sized,
                                                                const int mode, const int direct) {
    int64_t blocks = 0;
    /* The requests before pf_end have one SLOT_PREFETCH_AHEAD after them. */
    uint64_t pf_end = n > SLOT_PREFETCH_AHEAD ? n - SLOT_PREFETCH_AHEAD : 0;
    while (i < end) {
        uint64_t timed = i | LAT_STRIDE_MASK, e = timed < end ? timed : end;
        if (e <= pf_end) {
            child_serve_run(k, ops, i, e, 1, sized, mode, direct);
        } else { /* the last requests of the stream */
            uint64_t m = i > pf_end ? i : pf_end;
            child_serve_run(k, ops, i, m, 1, sized, mode, direct);
            child_serve_run(k, ops, m, e, 0, sized, mode, direct);
        }
        i = e;
        if (i == end)
            break;
        if (i < pf_end)
            child_prefetch(k, &ops[i + SLOT_PREFETCH_AHEAD], sized);
        uint64_t a = CHILD_TICKS();
        child_serve(k, &ops[i], &blocks, sized, mode, direct);
        uint64_t b = CHILD_TICKS();
        if (t->nlat < t->latcap)
            t->lat[t->nlat++] = b - a;
        i++;
    }
}

/* The segment loop compiled once per kind of run (see child_serve), each out
 * of line so that the loop has the registers to itself (inlined into
 * hx_cmd_child, its index and L lived on the stack): one per touch mode for
 * runs without sizes or verify, one for the rest. */
typedef void (*child_segment_fn)(const serve_t *k, const wl_op_t *ops, uint64_t i, uint64_t end,
                                 uint64_t n, child_thread_t *t);
#define CHILD_SEGMENT(name, sized, mode, direct)                                                           \
    static __attribute__((noinline)) void name(const serve_t *k, const wl_op_t *ops, uint64_t i,            \
                                               uint64_t end, uint64_t n, child_thread_t *t) {               \
        child_segment(k, ops, i, end, n, t, sized, mode, direct);                                           \
    }
CHILD_SEGMENT(child_segment_none, 0, WL_TOUCH_NONE, 0)
CHILD_SEGMENT(child_segment_first, 0, WL_TOUCH_FIRST, 0)
CHILD_SEGMENT(child_segment_page, 0, WL_TOUCH_PAGE, 0)
CHILD_SEGMENT(child_segment_all, 0, WL_TOUCH_ALL, 0)
CHILD_SEGMENT(child_segment_none_d, 0, WL_TOUCH_NONE, 1)
CHILD_SEGMENT(child_segment_first_d, 0, WL_TOUCH_FIRST, 1)
CHILD_SEGMENT(child_segment_page_d, 0, WL_TOUCH_PAGE, 1)
CHILD_SEGMENT(child_segment_all_d, 0, WL_TOUCH_ALL, 1)
CHILD_SEGMENT(child_segment_any, 1, CHILD_TOUCH_ANY, 0)

/* MMBENCH_BARE_LOOP=1 (a benchmark instrument, scripts/bench.sh harness):
 * the run is served by the plainest loop a program could have instead of
 * the harness's: the process's malloc and free called directly, a pointer
 * per slot, the same touches, no latency timing.  The same child, stream,
 * prefetch and clock, so that comparing the two measures the harness loop's
 * own cost.  Only for ALLOC_PROCESS_MALLOC allocators and single-threaded
 * streams of MALLOC and FREE; the run says so in run_info (bare_loop). */
static inline __attribute__((always_inline)) void child_bare(const serve_t *k, const wl_op_t *ops, uint64_t i,
                                                             uint64_t end, uint64_t n, const wl_touch_t touch) {
    void **slot = k->slot;
    for (; i < end; i++) {
        if (i + SLOT_PREFETCH_AHEAD < n)
            __builtin_prefetch(&slot[ops[i + SLOT_PREFETCH_AHEAD].slot], 1, 3);
        const wl_op_t *op = &ops[i];
        if (op->kind == WL_MALLOC) {
            unsigned char *p = malloc(op->size);
            if (__builtin_expect(!p, 0))
                child_fail("malloc(%llu) returned NULL (out of memory)", (unsigned long long)op->size);
            slot[op->slot] = p;
            wl_touch_write(touch, p, 0, op->size);
        } else {
            free(slot[op->slot]);
            slot[op->slot] = NULL;
        }
    }
}
#define CHILD_BARE(name, touch)                                                                            \
    static __attribute__((noinline)) void name(const serve_t *k, const wl_op_t *ops, uint64_t i,            \
                                               uint64_t end, uint64_t n, child_thread_t *t) {               \
        (void)t;                                                                                            \
        child_bare(k, ops, i, end, n, touch);                                                               \
    }
CHILD_BARE(child_bare_none, WL_TOUCH_NONE)
CHILD_BARE(child_bare_first, WL_TOUCH_FIRST)
CHILD_BARE(child_bare_page, WL_TOUCH_PAGE)
CHILD_BARE(child_bare_all, WL_TOUCH_ALL)

static int bare_loop; /* MMBENCH_BARE_LOOP: read once, before the clock */

/* L and the live block count after each sample point of the single-threaded
 * stream, into c->live_at and c->blocks_at: exactly what serving the
 * requests in order adds and takes (as child_serve counts them: a slice or
 * consumed memory is neither bytes nor a block).  Before the clock; c->size,
 * where the run has it, serves as the per-slot scratch (the size of each
 * block, UINT64_MAX for the rest) and is cleared again. */
#define CHILD_NOT_A_BLOCK UINT64_MAX
static int child_live_at(child_t *c, const uint64_t *sample_at, size_t nsample_at) {
    c->live_at = hx_mem_alloc((nsample_at + 1) * sizeof *c->live_at);
    c->blocks_at = hx_mem_alloc((nsample_at + 1) * sizeof *c->blocks_at);
    if (!c->live_at || !c->blocks_at)
        return ENOMEM;
    const wl_op_t *ops = c->s.thread[0].ops;
    uint64_t *size = c->size; /* NULL: only MALLOC and FREE, every FREE frees a block */
    int64_t L = 0, blocks = 0;
    uint64_t i = 0;
    for (size_t k = 0; k < nsample_at; k++) {
        for (; i <= sample_at[k]; i++) {
            const wl_op_t *o = &ops[i];
            switch (o->kind) {
            case WL_MALLOC:
                L += (int64_t)o->size;
                blocks++;
                if (size)
                    size[o->slot] = o->size;
                break;
            case WL_FREE:
                if (!size || size[o->slot] != CHILD_NOT_A_BLOCK) {
                    L -= (int64_t)o->size;
                    blocks--;
                }
                if (size)
                    size[o->slot] = 0;
                break;
            case WL_REALLOC:
                L += (int64_t)o->size - (int64_t)size[o->slot];
                size[o->slot] = o->size;
                break;
            default: /* SLICE, CONSUME */
                size[o->slot] = CHILD_NOT_A_BLOCK;
                break;
            }
        }
        c->live_at[k] = L;
        c->blocks_at[k] = blocks;
    }
    if (size)
        memset(size, 0, (c->s.nslots ? c->s.nslots : 1) * sizeof *size);
    return 0;
}

static void child_run_single(child_t *c, uint64_t *sample_at, size_t nsample_at,
                             uint64_t peak_at, uint64_t ramp_at, double *wall_ns) {
    child_thread_t *t = &c->th[0];
    const serve_t sv = serve_of(c);
    const wl_op_t *ops = c->s.thread[0].ops;
    uint64_t n = c->s.thread[0].nops;
    uint64_t elapsed = 0, i = 0;
    /* Which loop serves this run: decided once, before the clock. */
    static const child_segment_fn by_touch[2][4] = {
        {[WL_TOUCH_NONE] = child_segment_none, [WL_TOUCH_FIRST] = child_segment_first,
         [WL_TOUCH_PAGE] = child_segment_page, [WL_TOUCH_ALL] = child_segment_all},
        {[WL_TOUCH_NONE] = child_segment_none_d, [WL_TOUCH_FIRST] = child_segment_first_d,
         [WL_TOUCH_PAGE] = child_segment_page_d, [WL_TOUCH_ALL] = child_segment_all_d}};
    static const child_segment_fn bare[4] = {[WL_TOUCH_NONE] = child_bare_none, [WL_TOUCH_FIRST] = child_bare_first,
                                             [WL_TOUCH_PAGE] = child_bare_page, [WL_TOUCH_ALL] = child_bare_all};
    int direct = (c->m->flags & ALLOC_PROCESS_MALLOC) != 0;
    child_segment_fn segment = sv.size || sv.verify ? child_segment_any : by_touch[direct][sv.touch];
    if (bare_loop)
        segment = bare[sv.touch];
    for (size_t k = 0; k < nsample_at; k++) {
        uint64_t end = sample_at[k] + 1; /* sample after op sample_at[k] */
        uint64_t t0 = hx_now_ns();
        segment(&sv, ops, i, end, n, t);
        i = end;
        uint64_t t1 = hx_now_ns();
        elapsed += t1 - t0;
        int at_peak = sample_at[k] == peak_at, at_ramp = sample_at[k] == ramp_at;
        if (at_ramp) {
            c->ramp_elapsed = elapsed;
            c->ramp_ops = end;
        }
        child_sample(c, end, elapsed, (double)c->live_at[k], c->blocks_at[k], at_peak,
                     (!at_peak || c->peak_regular) && (!at_ramp || c->ramp_regular));
        c->pause_ns += hx_now_ns() - t1;
    }
    *wall_ns = (double)elapsed;
}

/* A worker's loop, compiled once per value of sized (see child_serve). */
static inline __attribute__((always_inline)) void child_loop_worker(child_thread_t *t, const int sized) {
    child_t *c = t->c;
    const serve_t sv = serve_of(c);
    const wl_op_t *ops = c->s.thread[t->index].ops;
    uint64_t n = c->s.thread[t->index].nops;
    int64_t L = 0, blocks = 0, peak = 0;
    const uint32_t T = c->s.nthreads, me = t->index;
    while (!atomic_load_explicit(&c->start, memory_order_acquire))
        CHILD_PAUSE();
    for (uint64_t i = 0; i < n; i++) {
        const wl_op_t *op = &ops[i];
        if (__builtin_expect(i + SLOT_PREFETCH_AHEAD < n, 1))
            child_prefetch(&sv, &ops[i + SLOT_PREFETCH_AHEAD], sized);
        if (c->s.cross_thread) {
            unsigned spins = 0;
            while (atomic_load_explicit(&c->done[op->slot], memory_order_acquire) != op->seq) {
                if (++spins > 64) {
                    sched_yield();
                    spins = 0;
                } else {
                    CHILD_PAUSE();
                }
            }
        }
        if ((i & LAT_STRIDE_MASK) == LAT_STRIDE_MASK) {
            uint64_t a = CHILD_TICKS();
            L += child_serve(&sv, op, &blocks, sized, CHILD_TOUCH_ANY, 0);
            uint64_t b = CHILD_TICKS();
            if (t->nlat < t->latcap)
                t->lat[t->nlat++] = b - a;
        } else {
            L += child_serve(&sv, op, &blocks, sized, CHILD_TOUCH_ANY, 0);
        }
        if (c->s.cross_thread)
            atomic_store_explicit(&c->done[op->slot], op->seq + 1, memory_order_release);
        atomic_store_explicit(&t->live, L, memory_order_relaxed);
        atomic_store_explicit(&t->blocks, blocks, memory_order_relaxed);
        atomic_store_explicit(&t->progress, i + 1, memory_order_relaxed);
        /* max L, which the watcher's samples (every 100 us at most) would
         * read by luck: every PEAK_STRIDE requests, and after the last, this
         * worker adds up every thread's live bytes (T - 1 loads of other
         * threads' lines) and keeps the largest sum */
        if ((i & (PEAK_STRIDE - 1)) == PEAK_STRIDE - 1 || i + 1 == n) {
            int64_t sum = L;
            for (uint32_t j = 0; j < T; j++)
                if (j != me)
                    sum += atomic_load_explicit(&c->th[j].live, memory_order_relaxed);
            if (sum > peak)
                peak = sum;
        }
    }
    t->end_ns = hx_now_ns();
    t->peak_seen = peak;
}

static void *child_worker(void *arg) {
    child_thread_t *t = arg;
    if (t->c->size)
        child_loop_worker(t, 1);
    else
        child_loop_worker(t, 0);
    return NULL;
}

/* Start the workers; they wait for c->start.  Called before the RSS
 * baseline: what creating a thread maps and touches (its stack, its TLS) is
 * the harness's, not the allocator's, and must not count in R(t). */
static void child_start_threads(child_t *c) {
    for (uint32_t i = 0; i < c->s.nthreads; i++) {
        c->th[i].index = i;
        c->th[i].c = c;
        if (pthread_create(&c->th[i].tid, NULL, child_worker, &c->th[i]) != 0)
            child_fail("cannot start worker thread %u of %u", i + 1, c->s.nthreads);
    }
}

static void child_run_threads(child_t *c, uint32_t nsamples, double *wall_ns) {
    uint32_t T = c->s.nthreads;
    uint64_t total = c->s.total_ops, next_k = 1;
    double maxL = -1;
    c->t_start_ns = hx_now_ns();
    atomic_store_explicit(&c->start, 1, memory_order_release);
    for (;;) {
        struct timespec ts = {0, 100000};
        nanosleep(&ts, NULL);
        /* the sample's time is read before the counters: a worker that
         * serves its last request after this read ends (end_ns) after it,
         * so that no sample comes out later than the run's wall time (read
         * after the counters, it could, the watcher preempted in between) */
        uint64_t now = hx_now_ns();
        uint64_t prog = 0;
        int64_t L = 0, blocks = 0;
        for (uint32_t i = 0; i < T; i++) {
            prog += atomic_load_explicit(&c->th[i].progress, memory_order_relaxed);
            L += atomic_load_explicit(&c->th[i].live, memory_order_relaxed);
            blocks += atomic_load_explicit(&c->th[i].blocks, memory_order_relaxed);
        }
        if (prog >= total)
            break;
        if (prog * (uint64_t)nsamples >= next_k * total) {
            int peak = (double)L > maxL;
            if (peak)
                maxL = (double)L;
            child_sample(c, prog, now - c->t_start_ns, (double)L, blocks, peak, 1);
            while (next_k * total <= prog * (uint64_t)nsamples)
                next_k++;
        }
    }
    /* The loop ends when the last worker served its last request, not when
     * the watcher noticed (up to its 100 us sleep and a sample later) */
    uint64_t end = 0;
    for (uint32_t i = 0; i < T; i++) {
        pthread_join(c->th[i].tid, NULL);
        /* a worker with no request (--ops below --threads) ends whenever
         * it gets a core: not a request's end */
        if (c->s.thread[i].nops && c->th[i].end_ns > end)
            end = c->th[i].end_ns;
    }
    if (!end) /* no requests at all */
        end = c->t_start_ns;
    *wall_ns = (double)(end - c->t_start_ns);
    int64_t L = 0, blocks = 0;
    for (uint32_t i = 0; i < T; i++) {
        L += atomic_load(&c->th[i].live);
        blocks += atomic_load(&c->th[i].blocks);
    }
    child_sample(c, total, end - c->t_start_ns, (double)L, blocks, (double)L > maxL, 1);
}

/* ---- main ----------------------------------------------------------------- */

/* The timer's own share of every latency: the least of 1000 back-to-back
 * reads, in ticks (before the clock). */
static uint64_t child_timer_floor(void) {
    uint64_t best = UINT64_MAX;
    for (int i = 0; i < 1000; i++) {
        uint64_t a = CHILD_TICKS();
        uint64_t b = CHILD_TICKS();
        if (b - a < best)
            best = b - a;
    }
    return best;
}

int hx_cmd_child(int argc, char **argv) {
    const char *alloc_name = NULL;
    uint64_t nsamples = 200;
    int verify = 0, debug_heap = 0;
    wl_params_t p;
    char err[512];
    wl_params_default(&p);
    for (int i = 1; i < argc; i++) {
        const char *v;
        if ((v = hx_opt(argc, argv, &i, "--fd")))
            out_fd = atoi(v);
        else if ((v = hx_opt(argc, argv, &i, "--alloc")))
            alloc_name = v;
        else if ((v = hx_opt(argc, argv, &i, "--samples")))
            hx_parse_u64(v, &nsamples);
        else if (!strcmp(argv[i], "--verify"))
            verify = 1;
        else if (!strcmp(argv[i], "--debug-heap"))
            debug_heap = 1;
        else if (!strncmp(argv[i], "--", 2) && strchr(argv[i], '=')) {
            char key[32];
            const char *eq = strchr(argv[i], '=');
            size_t kl = (size_t)(eq - argv[i] - 2);
            if (kl >= sizeof key)
                kl = sizeof key - 1;
            memcpy(key, argv[i] + 2, kl);
            key[kl] = 0;
            if (wl_params_set(&p, key, eq + 1, err, sizeof err) != 0) {
                if (out_fd < 0)
                    out_fd = 2;
                child_fail("%s", err);
            }
        }
    }
    if (out_fd < 0)
        out_fd = 1;
    if (!alloc_name)
        child_fail("internal: the child was started without --alloc");

    child_t *c = hx_mem_alloc(sizeof *c);
    if (!c)
        child_fail("out of memory for the harness");
    c->maxH = NAN;
    c->L_at_maxH = NAN;
    c->verify = verify;
    c->touch = p.touch;
    const char *inner = NULL;
    c->m = alloc_split_name(alloc_name, &inner);
    if (!c->m)
        child_fail("unknown allocator '%s'", alloc_name);
    /* the CPU cannot touch device memory: nothing is written (the sweep
     * stores such a run with touch none), and --verify, which reads every
     * block, is refused (the sweep refuses it before anything runs) */
    if (c->m->flags & ALLOC_DEVICE) {
        if (c->verify)
            child_fail("--verify fills every block and checks its contents, and allocator %s's memory is on the "
                       "device, which the CPU cannot read or write; run it without --verify", alloc_name);
        c->touch = WL_TOUCH_NONE;
    }
    const char *reason;
    if (!alloc_is_available(c->m, &reason))
        child_fail("allocator %s is unavailable: %s", alloc_name, reason);
    fault_setup();
    struct sigaction cont_sa;
    memset(&cont_sa, 0, sizeof cont_sa);
    cont_sa.sa_handler = child_on_cont;
    sigemptyset(&cont_sa.sa_mask);
    cont_sa.sa_flags = SA_RESTART;
    sigaction(SIGCONT, &cont_sa, NULL);
    fault_early();
    if (wl_generate(&p, &c->s, err, sizeof err) != 0)
        child_fail("%s", err);
    out_line("H %016llx", (unsigned long long)c->s.hash);

    /* A baseline allocator gets its memory faulted in before the clock, so
     * that what it measures is the harness, not the kernel zeroing pages:
     * each block rounded to 16 bytes, plus 16 a block of slack for what bump
     * leaves unused at the end of its chunks (and malloc(0)'s granule). */
    size_t prefault = 0;
    if (c->m->flags & ALLOC_BASELINE) {
        for (uint32_t t = 0; t < c->s.nthreads; t++)
            for (uint64_t i = 0; i < c->s.thread[t].nops; i++)
                if (c->s.thread[t].ops[i].kind == WL_MALLOC || c->s.thread[t].ops[i].kind == WL_REALLOC)
                    prefault += (size_t)((c->s.thread[t].ops[i].size + 15) & ~(uint64_t)15) + 16;
    }
    c->debug_heap = debug_heap;
    alloc_config_t cfg = {.inner = inner, .debug = debug_heap, .prefault_bytes = prefault};
    int rc = alloc_init(c->m, &cfg, &c->heap);
    if (rc != 0)
        child_fail("allocator %s failed to start: %s", alloc_name,
                   alloc_last_error()[0] ? alloc_last_error() : strerror(rc));
    if (c->m->heap_name) {
        const char *served = c->m->heap_name(c->heap);
        if (served && *served)
            out_line("A %s", served);
    }
    out_line("V %s", alloc_version(c->m));

    if (c->s.nthreads > 1 && !(c->m->flags & ALLOC_THREAD_SAFE))
        child_fail("allocator %s is not thread-safe; run it with --threads=1", alloc_name);

    /* The harness's arrays, touched now so the baseline includes them.  The
     * sizes per slot only when some op needs a slot's size beyond what the
     * op carries (REALLOC: the old size; SLICE/CONSUME: the size to release
     * at teardown) or in verify mode (served by the general loop); the kinds
     * only for slices and consumed memory. */
    uint64_t ns = c->s.nslots ? c->s.nslots : 1;
    c->slot = hx_mem_alloc(ns * sizeof *c->slot);
    c->done = hx_mem_alloc(ns * sizeof *c->done);
    int need_size = 0, need_kind = 0;
    for (uint32_t t = 0; t < c->s.nthreads && !need_kind; t++)
        for (uint64_t i = 0; i < c->s.thread[t].nops; i++) {
            unsigned kind = c->s.thread[t].ops[i].kind;
            if (kind == WL_REALLOC)
                need_size = 1;
            if (kind == WL_SLICE || kind == WL_CONSUME) {
                need_size = need_kind = 1;
                break;
            }
        }
    if (need_size || c->verify) {
        c->size = hx_mem_alloc(ns * sizeof *c->size);
        if (!c->size)
            child_fail("out of memory for the harness's tables (%llu slots)", (unsigned long long)ns);
        memset(c->size, 0, ns * sizeof *c->size);
    }
    if (need_kind) {
        c->kind = hx_mem_alloc(ns);
        if (!c->kind)
            child_fail("out of memory for the harness's tables (%llu slots)", (unsigned long long)ns);
        memset(c->kind, 0, ns);
    }
    if (nsamples == 0)
        nsamples = 1;
    c->samplecap = nsamples + 4;
    c->samples = hx_mem_alloc(c->samplecap * sizeof *c->samples);
    c->regular = hx_mem_alloc(c->samplecap);
    c->th = hx_mem_alloc(c->s.nthreads * sizeof *c->th);
    int heap_map = c->m->walk && c->s.nthreads == 1;
    if (heap_map) {
        c->bins = hx_mem_alloc(BLOCK_BINS * sizeof *c->bins);
        if (c->bins)
            memset(c->bins, 0, BLOCK_BINS * sizeof *c->bins);
    }
    if (!c->slot || !c->done || !c->samples || !c->regular || !c->th || (heap_map && !c->bins))
        child_fail("out of memory for the harness's tables (%llu slots)", (unsigned long long)ns);
    memset(c->slot, 0, ns * sizeof *c->slot);
    memset((void *)c->done, 0, ns * sizeof *c->done);
    memset(c->samples, 0, c->samplecap * sizeof *c->samples);
    memset(c->regular, 0, c->samplecap);
    uint64_t latcap_total = 0;
    for (uint32_t t = 0; t < c->s.nthreads; t++) {
        child_thread_t *th = &c->th[t];
        th->latcap = c->s.thread[t].nops / (LAT_STRIDE_MASK + 1) + 1;
        th->lat = hx_mem_alloc(th->latcap * sizeof *th->lat);
        if (!th->lat)
            child_fail("out of memory for the latency table");
        memset(th->lat, 0, th->latcap * sizeof *th->lat);
        latcap_total += th->latcap;
    }

    /* Sample points (single thread): evenly spaced, plus the peak of L and
     * the end of the ramp-up (where the live block count first reaches its
     * maximum). */
    size_t nat = 0;
    uint64_t *sample_at = hx_mem_alloc((nsamples + 2) * sizeof *sample_at);
    uint64_t n0 = c->s.thread[0].nops, peak_at = UINT64_MAX, ramp_at = UINT64_MAX;
    if (c->s.nthreads == 1 && n0 > 0) {
        for (uint64_t k = 0; k < nsamples; k++) {
            uint64_t at = (k + 1) * n0 / nsamples;
            if (at > 0)
                sample_at[nat++] = at - 1;
        }
        peak_at = c->s.peak_index < n0 ? c->s.peak_index : n0 - 1;
        ramp_at = c->s.ramp_index < n0 ? c->s.ramp_index : n0 - 1;
        for (size_t k = 0; k < nat; k++) {
            if (sample_at[k] == peak_at)
                c->peak_regular = 1;
            if (sample_at[k] == ramp_at)
                c->ramp_regular = 1;
        }
        sample_at[nat++] = peak_at;
        sample_at[nat++] = ramp_at;
        qsort(sample_at, nat, sizeof *sample_at, cmp_u64);
        size_t w = 0;
        for (size_t k = 0; k < nat; k++)
            if (w == 0 || sample_at[k] != sample_at[w - 1])
                sample_at[w++] = sample_at[k];
        nat = w;
    }

    if (nat && child_live_at(c, sample_at, nat) != 0)
        child_fail("out of memory for the harness's tables (%zu sample points)", nat);

    const char *bl = getenv("MMBENCH_BARE_LOOP");
    if (bl && *bl && strcmp(bl, "0") != 0) {
        if (!(c->m->flags & ALLOC_PROCESS_MALLOC) || c->s.nthreads != 1 || c->size || c->verify)
            child_fail("MMBENCH_BARE_LOOP serves only single-threaded streams of malloc and free, without "
                       "--verify, on a system allocator (glibc, jemalloc, mimalloc, tcmalloc)");
        bare_loop = 1;
    }
    uint64_t timer_floor = child_timer_floor(); /* before the workers spin */
    if (c->s.nthreads > 1)
        child_start_threads(c);
    c->rss_base = proc_rss_bytes();
    int hwm_ok = proc_reset_peak_rss() == 0;
    sig_atomic_t cont0 = child_continued;
    uint64_t tsc0 = CHILD_TICKS(), ns0 = hx_now_ns();
    double wall_ns = 0;
    if (c->s.nthreads == 1)
        child_run_single(c, sample_at, nat, peak_at, ramp_at, &wall_ns);
    else
        child_run_threads(c, (uint32_t)nsamples, &wall_ns);
    uint64_t tsc1 = CHILD_TICKS(), ns1 = hx_now_ns();
    if (child_continued - cont0 > child_cont_excused)
        child_fail("the run's process was stopped (Ctrl-Z, SIGTSTP or SIGSTOP) and continued during its measured "
                   "loop, so its times hold the stop; run it again");
    int64_t final_rss = proc_rss_bytes();
    int64_t hwm = hwm_ok ? proc_status_bytes("VmHWM") : -1;
    alloc_stats_t fin;
    alloc_stats(c->m, c->heap, &fin);

    if (c->m->check) {
        char cerr[256];
        if (c->m->check(c->heap, cerr, sizeof cerr) != 0)
            child_fail("heap check failed after the run: %s", cerr);
    }

    /* ---- metrics ---- */
    double m[HX_METRIC_COUNT];
    for (int k = 0; k < HX_METRIC_COUNT; k++)
        m[k] = NAN;
    double total = (double)c->s.total_ops;
    m[HX_M_wall_ns] = round(wall_ns);
    m[HX_M_ns_per_op] = total > 0 ? wall_ns / total : NAN;
    m[HX_M_ops_per_sec] = wall_ns > 0 ? total * 1e9 / wall_ns : NAN;
    /* after the ramp-up: one thread, and enough requests left after it to
     * time (at least a tenth of the stream and 1000 requests; a stream that
     * only grows, or one whose live count first peaks near its end, has too
     * few: a figure over 3 requests would be noise) */
    double after = total - (double)c->ramp_ops;
    if (c->s.nthreads == 1 && c->s.max_live_blocks > 0 && c->ramp_ops > 0 && after >= HX_STEADY_MIN_OPS &&
        after >= total / 10)
        m[HX_M_steady_ns_per_op] = (wall_ns - (double)c->ramp_elapsed) / after;

    double ns_per_tick = (tsc1 > tsc0) ? (double)(ns1 - ns0) / (double)(tsc1 - tsc0) : 1.0;
    uint64_t *lat = hx_mem_alloc(latcap_total * sizeof *lat);
    uint64_t nlat = 0;
    for (uint32_t t = 0; lat && t < c->s.nthreads; t++)
        for (uint64_t k = 0; k < c->th[t].nlat; k++)
            lat[nlat++] = c->th[t].lat[k];
    if (nlat) {
        qsort(lat, nlat, sizeof *lat, cmp_u64);
        /* a percentile the timed requests are too few for is NULL (NaN
         * times ns_per_tick), not their maximum */
        m[HX_M_lat_p50_ns] = hx_percentile(lat, nlat, 500) * ns_per_tick;
        m[HX_M_lat_p99_ns] = hx_percentile(lat, nlat, 990) * ns_per_tick;
        m[HX_M_lat_p999_ns] = hx_percentile(lat, nlat, 999) * ns_per_tick;
        m[HX_M_lat_max_ns] = (double)lat[nlat - 1] * ns_per_tick;
    }

    double maxL = 0;
    for (size_t k = 0; k < c->nsamples; k++)
        if (c->samples[k].v[HX_S_live_bytes] > maxL)
            maxL = c->samples[k].v[HX_S_live_bytes];
    if (c->s.nthreads == 1)
        maxL = (double)c->s.peak_live_bytes; /* exact: L follows the stream */
    else
        for (uint32_t i = 0; i < c->s.nthreads; i++)
            if ((double)c->th[i].peak_seen > maxL)
                maxL = (double)c->th[i].peak_seen;
    /* Several threads: the workers' sums miss the true max L by up to 64
     * requests a thread, but a policy allocator's payload when its heap
     * peaked is L at one real moment (read under its lock), so max L is at
     * least that.  Without this, frag_jw3 (H over that payload) came out
     * below frag_jw4 (H over the smaller max L), which cannot be: larson and
     * prodcons did so in most runs, by up to 4%. */
    if (c->s.nthreads > 1 && fin.payload_at_peak_footprint != ALLOC_UNKNOWN &&
        (double)fin.payload_at_peak_footprint > maxL)
        maxL = (double)fin.payload_at_peak_footprint;
    m[HX_M_peak_live_bytes] = maxL;

    double maxH = c->maxH;
    if (fin.peak_footprint != ALLOC_UNKNOWN && (isnan(maxH) || (double)fin.peak_footprint > maxH))
        maxH = (double)fin.peak_footprint;
    m[HX_M_peak_heap_bytes] = maxH;
    m[HX_M_rss_baseline_bytes] = c->rss_base < 0 ? NAN : (double)c->rss_base;
    double maxR = NAN;
    for (size_t k = 0; k < c->nsamples; k++) {
        double r = c->samples[k].v[HX_S_rss_bytes];
        if (!isnan(r) && (isnan(maxR) || r > maxR))
            maxR = r;
    }
    if (hwm >= 0 && c->rss_base >= 0 && (isnan(maxR) || (double)(hwm - c->rss_base) > maxR))
        maxR = (double)(hwm - c->rss_base);
    m[HX_M_peak_rss_bytes] = isnan(maxR) ? NAN : maxR + (double)c->rss_base;
    m[HX_M_final_rss_bytes] = final_rss < 0 ? NAN : (double)final_rss;

    double sum = 0;
    size_t cnt = 0;
    for (size_t k = 0; k < c->nsamples; k++) {
        double f = c->samples[k].v[HX_S_frag];
        if (!isnan(f) && c->regular[k]) {
            sum += f;
            cnt++;
        }
    }
    m[HX_M_frag_jw1] = cnt ? sum / (double)cnt : NAN;
    /* several threads: the moment L is largest is not observed (max L is
     * the workers' sum, H is read at the watcher's samples), so no figure
     * rather than one that can exceed frag_jw4 */
    if (c->have_peak && c->peak_L > 0 && !isnan(c->peak_H) && c->s.nthreads == 1)
        m[HX_M_frag_jw2] = c->peak_H / c->peak_L - 1;
    if (fin.peak_footprint != ALLOC_UNKNOWN && fin.payload_at_peak_footprint > 0)
        m[HX_M_frag_jw3] = (double)fin.peak_footprint / (double)fin.payload_at_peak_footprint - 1;
    else if (!isnan(c->maxH) && c->L_at_maxH > 0)
        m[HX_M_frag_jw3] = c->maxH / c->L_at_maxH - 1;
    if (!isnan(maxH) && maxL > 0)
        m[HX_M_frag_jw4] = maxH / maxL - 1;
    /* a baseline's heap is faulted in before the RSS baseline (above), so
     * R does not see it; a device allocator's heap is on the device, and R
     * is host memory: no figure rather than about -1 */
    if (!isnan(maxR) && maxL > 0 && !(c->m->flags & (ALLOC_BASELINE | ALLOC_DEVICE)))
        m[HX_M_rss_overhead] = maxR / maxL - 1;

    if (c->have_peak) {
        const alloc_stats_t *st = &c->peak_st;
        double used = st->used_bytes != ALLOC_UNKNOWN      ? (double)st->used_bytes
                      : st->allocated_bytes != ALLOC_UNKNOWN ? (double)st->allocated_bytes
                                                             : NAN;
        /* several threads: L (the workers' counters) and the allocator's
         * used bytes are not read at one moment, so no figure */
        if (!isnan(used) && used > 0 && c->s.nthreads == 1)
            m[HX_M_frag_internal] = (used - c->peak_L) / used;
        if (st->free_bytes != ALLOC_UNKNOWN && !isnan(c->peak_H) && c->peak_H > 0)
            m[HX_M_frag_external] = (double)st->free_bytes / c->peak_H;
        if (st->free_bytes > 0 && st->largest_free != ALLOC_UNKNOWN)
            m[HX_M_free_largest_ratio] = 1 - (double)st->largest_free / (double)st->free_bytes;
        m[HX_M_holes] = st_or_nan(st->free_blocks);
        m[HX_M_live_blocks] = st->used_blocks != ALLOC_UNKNOWN ? (double)st->used_blocks
                                                                : (double)c->peak_live_count;
    }
    /* The second half of the run: the evenly spaced samples taken after more
     * than half of the requests (by request index, not by position in the
     * array, which also holds the extra samples). */
    sum = 0;
    cnt = 0;
    for (size_t k = 0; k < c->nsamples; k++) {
        double h = c->samples[k].v[HX_S_holes], lb = c->samples[k].v[HX_S_live_blocks];
        if (2 * c->samples[k].v[HX_S_op_index] > total && !isnan(h) && lb > 0 && c->regular[k]) {
            sum += h / lb;
            cnt++;
        }
    }
    m[HX_M_holes_per_live] = cnt ? sum / (double)cnt : NAN;

    /* ---- report ---- */
    for (int k = 0; k < HX_METRIC_COUNT; k++)
        out_num("M", hx_metric_info[k].key, m[k]);
    for (size_t k = 0; k < c->nsamples; k++) {
        char line[1024];
        size_t off = 0;
        line[off++] = 'S';
        for (int j = 0; j < HX_SAMPLE_COUNT; j++) {
            double v = c->samples[k].v[j];
            int w = isnan(v) ? snprintf(line + off, sizeof line - off, " nan")
                             : snprintf(line + off, sizeof line - off, " %.17g", v);
            if (w > 0)
                off += (size_t)w;
        }
        line[off] = 0;
        out_line("%s", line);
    }
    if (c->have_peak && c->s.nthreads > 1)
        child_peak_snapshot(c);
    out_line("I latency_samples\t%llu", (unsigned long long)nlat);
    out_line("I latency_stride\t%u", LAT_STRIDE_MASK + 1);
    out_line("I ns_per_tick\t%.9g", ns_per_tick);
    out_line("I latency_timer_ns\t%.9g", (double)timer_floor * ns_per_tick);
    if (c->s.nthreads == 1)
        out_line("I sample_pause_ns\t%llu", (unsigned long long)c->pause_ns);
    if (bare_loop)
        out_line("I bare_loop\t1");
    /* checking modes slow every request: the run says so, and the summary
     * keeps such runs apart from plain ones */
    if (c->verify)
        out_line("I verify\t1");
    if (c->debug_heap)
        out_line("I debug_heap\t1");
    if (hwm >= 0)
        out_line("I vm_hwm_bytes\t%lld", (long long)hwm);
    out_line("I stream_peak_live_blocks\t%llu", (unsigned long long)c->s.peak_live_blocks);

    /* Teardown, not measured: free what is still live. */
    for (uint64_t k = 0; k < ns; k++)
        if (c->slot[k])
            alloc_free_slot(c->m, c->heap, c->slot[k], c->size ? (size_t)c->size[k] : 0,
                            c->kind ? c->kind[k] : ALLOC_SLOT_BLOCK, child_release_external, NULL);
    out_line("D");
    /* No fini or exit handlers: the process ends here, and some allocators
     * (preloaded ones) must not be torn down under the process's own feet. */
    _exit(0);
}
