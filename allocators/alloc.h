/*
 * alloc.h - the allocator table: one interface that every allocator of
 * mmbench fills in (policy, system, device, and the buffer manager's pools).
 *
 * Modelled on sqlite3_mem_methods: a plain table of function pointers plus
 * an opaque heap handle.  Optional slots may be NULL; the alloc_* helpers at
 * the bottom of this file supply the fallbacks, so callers never test slots
 * themselves.
 *
 * Usage:
 *     const alloc_methods_t *m = alloc_find("bestfit");
 *     void *heap;
 *     if (alloc_init(m, NULL, &heap) != 0) ...;
 *     void *p = m->malloc(heap, 100);
 *     m->free(heap, p);
 *     alloc_fini(m, heap);
 */
#ifndef MMB_ALLOC_H
#define MMB_ALLOC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Statistics an allocator can report.  Every figure is a byte or block count;
 * ALLOC_UNKNOWN (-1) means "this allocator cannot report it" and becomes NULL
 * in the database, never 0.
 *
 * X(field, description) */
#define ALLOC_STATS(X)                                                              \
    X(footprint, "bytes held from the OS for the heap now (H)")                     \
    X(peak_footprint, "largest footprint so far")                                   \
    X(payload_at_peak_footprint, "payload bytes live when the footprint peaked")    \
    X(payload_bytes, "bytes requested by the live allocations")                     \
    X(used_bytes, "bytes in used blocks: header + padding + payload")               \
    X(header_bytes, "bytes of block headers/tags in used blocks")                   \
    X(padding_bytes, "bytes of rounding/alignment padding in used blocks")          \
    X(used_blocks, "number of used (live) blocks")                                  \
    X(free_blocks, "free blocks (holes), not counting the free space at the top")   \
    X(free_bytes, "free bytes inside the heap, including the top")                  \
    X(top_free_bytes, "free bytes at the top of the heap")                          \
    X(largest_free, "largest free block, top included")                             \
    X(allocated_bytes, "bytes allocated, as the allocator itself counts them")      \
    X(metadata_bytes, "allocator metadata held from the OS")                        \
    X(retained_bytes, "bytes kept mapped but unused or returned (decommitted)")     \
    X(resident_bytes, "bytes of the heap resident in RAM, per the allocator")       \
    X(mapped_bytes, "bytes mapped from the OS, per the allocator")

#define ALLOC_UNKNOWN ((int64_t)-1)

typedef struct alloc_stats {
#define ALLOC_STATS_FIELD(f, d) int64_t f;
    ALLOC_STATS(ALLOC_STATS_FIELD)
#undef ALLOC_STATS_FIELD
} alloc_stats_t;

/* Set every field of *s to ALLOC_UNKNOWN. */
void alloc_stats_clear(alloc_stats_t *s);

/* Heap walk callback: one call per block, in address order.  offset is from
 * the heap's base.  Return non-zero to stop the walk. */
typedef int (*alloc_walk_fn)(void *ctx, uint64_t offset, uint64_t size, int used);

enum {
    ALLOC_THREAD_SAFE = 1u << 0, /* may be called from several threads at once */
    ALLOC_POLICY = 1u << 1,      /* one of ours: exact statistics and a heap walk */
    ALLOC_SYSTEM = 1u << 2,      /* a real malloc library */
    ALLOC_DEVICE = 1u << 3,      /* returns memory the CPU cannot touch */
    ALLOC_BASELINE = 1u << 4,    /* a harness baseline (bump) */
    ALLOC_WRAPPER = 1u << 5,     /* wraps another allocator (buffer:NAME) */
    /* malloc and free are exactly the process's malloc(n) and free(p), the
     * heap unused (the system allocators, preloaded): the harness's measured
     * loop calls those directly, as a program does, not through the table */
    ALLOC_PROCESS_MALLOC = 1u << 6,
};

/* Per-heap configuration; NULL means defaults everywhere. */
typedef struct alloc_config {
    size_t reserve_bytes; /* policy heaps: virtual space reserved (0 = default) */
    size_t chunk_bytes;   /* policy heaps: growth granularity (0 = default) */
    const char *inner;    /* wrappers: the allocator wrapped (NULL = default) */
    int debug;            /* non-zero: check invariants, detect double free */
    size_t prefault_bytes; /* baselines: bytes to map and fault in at init */
} alloc_config_t;

typedef struct alloc_methods {
    const char *name;        /* as typed on the command line */
    const char *description; /* one line */
    unsigned flags;          /* ALLOC_* */
    /* Shared library that must be preloaded into a run's child process for
     * this allocator to serve malloc (NULL: none needed). */
    const char *preload;
    /* Figure used as H (heap held), documented for the user: one line. */
    const char *heap_figure;

    /* Version string of the code really serving requests ("2.36", "5.3.0"). */
    const char *(*version)(void);
    /* 1 if usable in this process/build; else 0 and *reason says why. */
    int (*available)(const char **reason);

    /* Create a heap; 0 on success, else an errno-style code. */
    int (*init)(void **heap, const alloc_config_t *cfg);
    void (*fini)(void *heap);

    void *(*malloc)(void *heap, size_t n);
    void (*free)(void *heap, void *p);
    void *(*realloc)(void *heap, void *p, size_t n);           /* optional */
    void *(*aligned)(void *heap, size_t align, size_t n);      /* optional */
    size_t (*usable_size)(void *heap, void *p);                /* optional */
    int (*stats)(void *heap, alloc_stats_t *out);               /* optional */
    int (*walk)(void *heap, alloc_walk_fn fn, void *ctx);       /* optional */
    /* Verify every invariant; 0 if sound, else writes one sentence to err. */
    int (*check)(void *heap, char *err, size_t errlen);         /* optional */
    /* Extra named figures from the allocator's own statistics interface
     * (e.g. jemalloc "stats.retained"); emit(ctx, key, value) per figure. */
    int (*stats_extra)(void *heap, void (*emit)(void *ctx, const char *key, double v),
                       void *ctx); /* optional */

    /* Zero-copy slice of [off, off+len) of the live block parent (a pointer
     * malloc/realloc/aligned returned; off + len <= its requested size).
     * Returns a non-NULL handle for the slice, or NULL with errno set.  The
     * handle is opaque: it is only ever passed to this table's free (never
     * to realloc or usable_size, never dereferenced; the slice's bytes are
     * at parent + off).  The slice may outlive the parent: the parent may
     * be freed first, and an allocator that keeps data alive for slices
     * (the buffer manager) keeps the parent's memory until the last slice
     * is freed.  Empty: alloc_slice's fallback.  (optional) */
    void *(*slice)(void *heap, void *parent, size_t off, size_t len);
    /* Wrap n bytes of external memory [mem, mem+n) that the caller owns
     * (not from this allocator).  Returns a non-NULL opaque handle (as for
     * slice: only for free), or NULL with errno set, in which case release
     * is never called and the caller keeps the memory.  Freeing the handle
     * with this table's free calls release(mem, n, ctx) exactly once (at
     * that free, or later if the allocator holds the memory longer); the
     * allocator never frees mem itself.  Empty: alloc_consume's fallback.
     * (optional) */
    void *(*consume)(void *heap, void *mem, size_t n, void (*release)(void *mem, size_t n, void *ctx),
                     void *ctx);
    /* Copy n bytes from src to dst, both inside live blocks of this heap,
     * for memory the CPU cannot touch (ALLOC_DEVICE): the copy is ordered
     * before every later call on the heap, so src may be freed right after.
     * 0, or an errno-style code.  Empty: memcpy.  (optional) */
    int (*copy)(void *heap, void *dst, const void *src, size_t n);
    /* The name under which a run of this heap is recorded, when the name
     * typed does not say what serves it: "buffer" (the default pool, chosen
     * by MMBENCH_DEFAULT_POOL at run time) answers "buffer:firstfit", the
     * same name as the explicit form.  NULL: the name typed.  (optional) */
    const char *(*heap_name)(void *heap);
} alloc_methods_t;

/* ---- the registry ------------------------------------------------------ */

/* Number of allocators in the table, and the i-th one (0-based). */
size_t alloc_count(void);
const alloc_methods_t *alloc_at(size_t i);

/* Look up an allocator by name.  "buffer:NAME" and "buffer" return the buffer
 * manager's table; the inner name must then be passed in alloc_config_t.inner
 * (alloc_split_name does this).  NULL if unknown. */
const alloc_methods_t *alloc_find(const char *name);

/* Split "buffer:jemalloc" into the table and its inner name (NULL when the
 * name has no ':').  Returns NULL if either part is unknown. */
const alloc_methods_t *alloc_split_name(const char *name, const char **inner);

/* The library a run of `name` must preload (following buffer:NAME to NAME),
 * or NULL. */
const char *alloc_preload_for(const char *name);

/* Comma-separated list of every allocator name, for error messages. */
const char *alloc_names(void);

/* ---- errors ------------------------------------------------------------ */

/* An allocator whose init fails may leave one sentence saying why (e.g.
 * "jemalloc: malloc() in this process is served by libc.so.6"); alloc_init
 * clears it first.  alloc_last_error() is "" when nothing was said. */
void alloc_set_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *alloc_last_error(void);

/* ---- calls with fallbacks for empty optional slots ---------------------- */

int alloc_init(const alloc_methods_t *m, const alloc_config_t *cfg, void **heap);
void alloc_fini(const alloc_methods_t *m, void *heap);
/* realloc via malloc+copy+free when the slot is empty (needs usable_size). */
void *alloc_realloc(const alloc_methods_t *m, void *heap, void *p, size_t n);
/* realloc of a block whose requested size the caller knows (old): the
 * realloc slot when there is one, else malloc(n), a copy of the smaller of
 * old and n (the copy slot, else memcpy) and free(p); NULL with errno set
 * (the block kept) when the malloc or the copy fails.  This is how a program
 * resizes device memory, which has no realloc: the harness serves a
 * realloc request this way. */
void *alloc_realloc_sized(const alloc_methods_t *m, void *heap, void *p, size_t old, size_t n);
/* aligned via over-allocation is not possible without a free hook, so an
 * empty slot gives NULL with errno = ENOTSUP for alignments above 16. */
void *alloc_aligned(const alloc_methods_t *m, void *heap, size_t align, size_t n);
/* 0 when the slot is empty (unknown). */
size_t alloc_usable_size(const alloc_methods_t *m, void *heap, void *p);
/* Clears *out to ALLOC_UNKNOWN, then fills what the allocator reports. */
int alloc_stats(const alloc_methods_t *m, void *heap, alloc_stats_t *out);
int alloc_is_available(const alloc_methods_t *m, const char **reason);

/* Slices and consumed memory with fallbacks.  What a caller got for a slot
 * decides where its free goes; alloc_slice / alloc_consume say it in *kind
 * and alloc_free_slot honours it, so a runner keeps one kind byte per slot
 * and never tests the slots itself:
 *     unsigned char k;
 *     void *h = alloc_slice(m, heap, parent, 0, len, &k);   // parent freed later or earlier
 *     ...
 *     alloc_free_slot(m, heap, h, len, k, NULL, NULL);
 *     void *e = alloc_consume(m, heap, mem, n, my_release, ctx, &k);
 *     alloc_free_slot(m, heap, e, n, k, my_release, ctx);   // release(mem, n, ctx) runs once */
typedef enum alloc_slot_kind {
    ALLOC_SLOT_BLOCK = 0,    /* malloc/realloc/aligned: free goes to m->free */
    ALLOC_SLOT_SLICE = 1,    /* m->slice's handle: m->free */
    ALLOC_SLOT_CONSUMED = 2, /* m->consume's handle: m->free (which calls release) */
    ALLOC_SLOT_VIEW = 3,     /* fallback slice: parent + off, nothing kept alive; free is a no-op */
    ALLOC_SLOT_EXTERNAL = 4, /* fallback consume: the handle is mem; free calls release itself */
} alloc_slot_kind_t;

/* m->slice, else parent + off (ALLOC_SLOT_VIEW: the allocator knows nothing
 * of it, and the memory goes when the parent is freed).  NULL only when
 * m->slice fails. */
void *alloc_slice(const alloc_methods_t *m, void *heap, void *parent, size_t off, size_t len,
                  unsigned char *kind);
/* m->consume, else mem itself (ALLOC_SLOT_EXTERNAL).  NULL only when
 * m->consume fails (release not called; the caller keeps mem). */
void *alloc_consume(const alloc_methods_t *m, void *heap, void *mem, size_t n,
                    void (*release)(void *mem, size_t n, void *ctx), void *ctx, unsigned char *kind);
/* Free what a slot holds by its kind: BLOCK/SLICE/CONSUMED go to m->free,
 * VIEW does nothing, EXTERNAL calls release(p, n, ctx) (n, release and ctx
 * as given to alloc_consume; unused for the other kinds). */
void alloc_free_slot(const alloc_methods_t *m, void *heap, void *p, size_t n, unsigned kind,
                     void (*release)(void *mem, size_t n, void *ctx), void *ctx);
const char *alloc_version(const alloc_methods_t *m);

/* ---- the tables (defined by each allocator's file) ---------------------- */

extern const alloc_methods_t alloc_firstfit_methods;
extern const alloc_methods_t alloc_bestfit_methods;
extern const alloc_methods_t alloc_nextfit_methods;
extern const alloc_methods_t alloc_segregated_methods;
extern const alloc_methods_t alloc_glibc_methods;
extern const alloc_methods_t alloc_jemalloc_methods;
extern const alloc_methods_t alloc_mimalloc_methods;
extern const alloc_methods_t alloc_tcmalloc_methods;
extern const alloc_methods_t alloc_bump_methods;
extern const alloc_methods_t alloc_cuda_methods;
extern const alloc_methods_t alloc_cuda_async_methods;
extern const alloc_methods_t alloc_buffer_methods;

#ifdef __cplusplus
}
#endif
#endif
