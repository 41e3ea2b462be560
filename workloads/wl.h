/*
 * wl.h - deterministic synthetic workloads: parameters in, operation
 * streams out.
 *
 * A workload is a pure function of its parameters and seed: every allocator
 * gets the identical sequence of requests.  The stream is generated before
 * the clock starts, into memory taken straight from mmap (never malloc: the
 * process's malloc may be the allocator under test).
 *
 * Usage:
 *     wl_params_t p;
 *     wl_params_default(&p);
 *     if (wl_params_set(&p, "workload", "random", err, sizeof err)) ...;
 *     if (wl_params_set(&p, "ops", "100000", err, sizeof err)) ...;
 *     wl_stream_t s;
 *     if (wl_generate(&p, &s, err, sizeof err)) ...;
 *     for (uint32_t t = 0; t < s.nthreads; t++)
 *         for (uint64_t i = 0; i < s.thread[t].nops; i++) serve(&s.thread[t].ops[i]);
 *     wl_stream_free(&s);
 *
 * Slots.  Every op names a slot: the runner keeps one pointer per slot.  A
 * MALLOC fills an empty slot, FREE empties a full one, REALLOC resizes a full
 * one.  In a single-threaded stream the ops are valid in order.  In a
 * multi-threaded stream (s.cross_thread != 0) a slot may be filled by one
 * thread and emptied by another: every op then carries `seq`, its position
 * in that slot's own history (0, 1, 2, ...), and the runner performs an op
 * only once the slot's completed-op count equals seq.  The generator builds
 * one global order and deals it to threads, so waits always point to earlier
 * global positions and cannot deadlock.
 *
 * Slices and consumed memory (the buffers workload, traces 's'/'c').
 *   WL_SLICE fills the empty slot `slot` with a zero-copy view of the first
 *   LEN bytes (offset 0) of the full slot PARENT, both packed in size:
 *   size = LEN | (uint64_t)PARENT << 32 (wl_slice_size / wl_slice_parent /
 *   wl_slice_len).  1 <= LEN <= UINT32_MAX and LEN <= the parent's current
 *   size; PARENT must hold a block (filled by MALLOC/REALLOC, not a slice or
 *   consumed region).  The parent may be freed before the slice: the slice
 *   lives on (with a buffer manager it keeps the parent's memory alive; with
 *   a plain allocator it is a bare pointer and freeing the parent frees the
 *   memory).  A slice is emptied by a normal WL_FREE (whose size is LEN).
 *   WL_CONSUME fills the empty slot `slot` with `size` bytes of external
 *   memory (the runner maps it, never the allocator under test) handed to
 *   the allocator to wrap; WL_FREE empties it (size = that size) and the
 *   memory is released.  REALLOC applies only to blocks.
 *   Neither adds to L (bytes requested and not freed: a slice requests
 *   nothing, consumed memory is not requested from the allocator) nor to the
 *   live block count; their FREE takes nothing from either.  They appear only
 *   in streams with cross_thread == 0 (a SLICE waits on no other slot).
 */
#ifndef MMB_WL_H
#define MMB_WL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define WL_MAX_THREADS 64
#define WL_MAX_OPS ((uint64_t)1 << 32)
#define WL_MAX_SIZE ((uint64_t)1 << 40) /* largest single request accepted */

typedef enum wl_kind {
    WL_MALLOC = 0,
    WL_FREE = 1,
    WL_REALLOC = 2,
    WL_SLICE = 3,   /* see "Slices and consumed memory" above */
    WL_CONSUME = 4,
} wl_kind_t;

/* Longest slot history in a cross-thread stream (seq is 29 bits). */
#define WL_MAX_SEQ ((uint32_t)1 << 29)
#define WL_MAX_SLICE_LEN ((uint64_t)UINT32_MAX)

/* One request: 16 bytes. */
typedef struct wl_op {
    uint64_t size; /* MALLOC/REALLOC: bytes requested; FREE: the size being freed (always
                      filled, traces too: runners count L from it without a lookup);
                      SLICE: LEN | PARENT << 32; CONSUME: bytes of external memory */
    uint32_t slot;
    uint32_t kind : 3; /* wl_kind_t */
    uint32_t seq : 29; /* cross-thread streams: position in the slot's history (< WL_MAX_SEQ) */
} wl_op_t;

static inline uint64_t wl_slice_size(uint32_t parent, uint32_t len) {
    return (uint64_t)len | (uint64_t)parent << 32;
}
static inline uint32_t wl_slice_parent(const wl_op_t *o) { return (uint32_t)(o->size >> 32); }
static inline uint32_t wl_slice_len(const wl_op_t *o) { return (uint32_t)o->size; }

typedef enum wl_dist_kind {
    WL_DIST_UNIFORM, /* uniform:MIN:MAX */
    WL_DIST_EXP,     /* exp:MEAN */
    WL_DIST_LOGNORMAL, /* lognormal:MU:SIGMA (of ln bytes) */
    WL_DIST_SET,     /* set:A,B,C (equal weights) */
    WL_DIST_POW2,    /* pow2:MIN:MAX (powers of two in [MIN,MAX], equal weights) */
    WL_DIST_PARETO,  /* pareto:MIN:MAX:ALPHA (truncated Pareto; extension, powerlaw's preset) */
} wl_dist_kind_t;

#define WL_SET_MAX 32
typedef struct wl_dist {
    wl_dist_kind_t kind;
    double a, b;                 /* MIN/MAX, MEAN, MU/SIGMA */
    double c;                    /* pareto: ALPHA */
    uint64_t set[WL_SET_MAX];
    uint32_t nset;
    char text[512];              /* as given, e.g. "uniform:16:512" (room for a set of
                                    WL_SET_MAX values written in full digits) */
} wl_dist_t;

typedef enum wl_lifetime { WL_LIFE_EXP, WL_LIFE_UNIFORM, WL_LIFE_FIFO, WL_LIFE_LIFO } wl_lifetime_t;
typedef enum wl_touch { WL_TOUCH_NONE, WL_TOUCH_FIRST, WL_TOUCH_PAGE, WL_TOUCH_ALL } wl_touch_t;

#define WL_TOUCH_PAGE_BYTES 4096u

/* The writes --touch=T makes into bytes [from, to) of a block just handed
 * out (or grown): none; the first byte; one byte per 4 KiB page and the last
 * byte; every byte.  The one definition, for the harness's measured loop and
 * for the bare loop it is compared with (tests/bench_harness.c). */
static inline __attribute__((always_inline)) void wl_touch_write(wl_touch_t t, unsigned char *p,
                                                                 uint64_t from, uint64_t to) {
    if (from >= to)
        return;
    switch (t) {
    case WL_TOUCH_NONE:
        break;
    case WL_TOUCH_FIRST:
        ((volatile unsigned char *)p)[from] = 1;
        break;
    case WL_TOUCH_PAGE:
        for (uint64_t i = from; i < to; i += WL_TOUCH_PAGE_BYTES)
            ((volatile unsigned char *)p)[i] = 1;
        ((volatile unsigned char *)p)[to - 1] = 1;
        break;
    case WL_TOUCH_ALL:
        for (uint64_t i = from; i < to; i++) /* memset, without <string.h> here */
            p[i] = 1;
        break;
    }
}

/* Bits of wl_params_t.set: which parameters the user gave explicitly (a
 * named workload's preset fills only the others). */
enum {
    WL_SET_OPS = 1 << 0, WL_SET_SEED = 1 << 1, WL_SET_THREADS = 1 << 2,
    WL_SET_SIZES = 1 << 3, WL_SET_LIVE = 1 << 4, WL_SET_LIFETIME = 1 << 5,
    WL_SET_TOUCH = 1 << 6,
};

typedef struct wl_params {
    char workload[64];     /* named workload; "trace" for trace:FILE */
    char trace_path[1024]; /* trace:FILE */
    uint64_t ops;          /* requests in all (all threads together) */
    uint64_t seed;
    uint32_t threads;
    wl_dist_t sizes;
    uint64_t live;         /* target live objects in steady state */
    wl_lifetime_t lifetime;
    wl_touch_t touch;
    unsigned set;          /* WL_SET_* */
} wl_params_t;

typedef struct wl_thread_stream {
    wl_op_t *ops;
    uint64_t nops;
} wl_thread_stream_t;

typedef struct wl_stream {
    uint32_t nthreads;
    wl_thread_stream_t thread[WL_MAX_THREADS];
    uint64_t nslots;       /* slots are 0 .. nslots-1 */
    int cross_thread;      /* ops carry seq; see the header comment */
    /* Facts of the stream, independent of any allocator: */
    uint64_t total_ops;
    uint64_t peak_live_bytes;  /* max over the stream of bytes requested and not freed */
    uint64_t peak_live_blocks; /* live blocks at that moment (slices and consumed regions are not blocks) */
    /* Where L peaks: thread peak_thread, just after op peak_index of that
     * thread's stream (exact for one thread; for several, in the global
     * order the stream was dealt from). */
    uint32_t peak_thread;
    uint64_t peak_index;
    /* The end of the ramp-up: the number of live blocks first reaches its
     * maximum (max_live_blocks) just after op ramp_index of thread
     * ramp_thread (same conventions as peak_index). */
    uint64_t max_live_blocks;
    uint32_t ramp_thread;
    uint64_t ramp_index;
    uint64_t final_live_bytes; /* live at the end (the runner frees the rest after measuring) */
    uint64_t hash;             /* FNV-1a over every op of every thread, in order */
    /* private: */
    void *mem;
    size_t mem_len;
} wl_stream_t;

/* Description of a named workload, for `mmbench list` and --help. */
typedef struct wl_info {
    const char *name;
    const char *description;
    int multi_threaded; /* needs --threads >= 2 (default 4 when unset) */
} wl_info_t;

size_t wl_count(void);
const wl_info_t *wl_at(size_t i);
const wl_info_t *wl_find(const char *name); /* "trace:FILE" finds "trace" */
const char *wl_names(void); /* "random, ramp, ..., trace:FILE" for messages */

/* Defaults: workload random, ops 1000000, seed 42, threads 1,
 * sizes uniform:16:512, live 10000, lifetime exp, touch page. */
void wl_params_default(wl_params_t *p);

/* Set one parameter from its command-line spelling: key is one of workload,
 * ops, seed, threads, sizes, live, lifetime, touch; value as typed (numbers
 * accept 1e6, 10k, 4M, 1G).  0 on success; else EINVAL and err holds one
 * sentence naming the parameter, what was wrong and what is accepted. */
int wl_params_set(wl_params_t *p, const char *key, const char *value, char *err, size_t errlen);

/* The parameters wl_generate really uses: p with the named workload's
 * preset applied to every parameter not in p->set.  Passing the result back
 * (all of it set explicitly) generates the identical stream. */
void wl_params_resolve(const wl_params_t *p, wl_params_t *out);

/* Parse a size distribution ("uniform:16:512", ...). */
int wl_dist_parse(wl_dist_t *d, const char *text, char *err, size_t errlen);

/* Write the parameters as one JSON object (workload, ops, seed, threads,
 * sizes, live, lifetime, touch, trace) into buf; returns the length.  The
 * values written are the resolved ones (wl_params_resolve), so a stored run
 * records what was actually generated. */
size_t wl_params_json(const wl_params_t *p, char *buf, size_t len);

const char *wl_lifetime_name(wl_lifetime_t l);
/* 1 when the named workload's requests depend on --lifetime; the others
 * (every-other, realloc-grow, larson, prodcons, a trace) record none */
int wl_uses_lifetime(const char *workload);
const char *wl_touch_name(wl_touch_t t);

/* Generate the stream for p (applying the named workload's preset to every
 * parameter not in p->set).  0 on success; else an errno-style code and one
 * sentence in err (for a malformed trace, naming the file and line). */
int wl_generate(const wl_params_t *p, wl_stream_t *s, char *err, size_t errlen);
void wl_stream_free(wl_stream_t *s);

/* Trace format (one request per line; '#' starts a comment):
 *     a SLOT SIZE     allocate SIZE bytes into SLOT
 *     f SLOT          free SLOT
 *     r SLOT SIZE     reallocate SLOT to SIZE bytes
 *     s SLOT PARENT LEN  slice: SLOT views the first LEN bytes of PARENT
 *                        (a block; 1 <= LEN <= min(its size, 2^32-1))
 *     c SLOT SIZE     consume SIZE bytes of external memory into SLOT
 * (slices and consumed slots are emptied by 'f', never resized by 'r').
 * Writes one op in that format to f (a FILE*, passed as void* to keep
 * stdio out of this header). */
int wl_trace_write_op(void *file, const wl_op_t *op);

/* Deterministic PRNG (splitmix64 seeding + xoshiro256**), one per thread. */
typedef struct wl_rng { uint64_t s[4]; } wl_rng_t;
void wl_rng_seed(wl_rng_t *r, uint64_t seed);
uint64_t wl_rng_next(wl_rng_t *r);
double wl_rng_unit(wl_rng_t *r); /* [0, 1) */

#ifdef __cplusplus
}
#endif
#endif
