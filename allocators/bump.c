/*
 * bump.c - the baseline allocator: bump a pointer, never reuse memory.
 *
 * It is the floor of allocator work (`mmbench run --alloc=bump`): its malloc
 * bumps a thread-local pointer, its free does nothing.  It is not free of
 * cost, though: it never reuses memory, so the workload's touch writes
 * (--touch) miss the cache on every block; the harness's own cost is measured
 * against a bare loop instead (scripts/bench.sh harness, BENCHMARKS.md).  Memory comes from one large
 * MAP_NORESERVE reservation; the footprint is the bytes carved from it (in
 * per-thread chunks, blocks rounded to 16-byte granules).  When the harness
 * says how many bytes the run will take (prefault_bytes), they are faulted
 * in at init, before the clock starts.
 *
 * No header in the block.  A header would be a store into a new, cold cache
 * line on every malloc (bump never reuses memory), a cost that belongs
 * neither to the harness nor to allocators that hand back hot, just-freed
 * memory.  Instead a side bitmap, its own NORESERVE mapping with 1 bit per
 * 16-byte granule of the reservation (1/128 of its size), marks where each
 * block starts, and malloc also marks where its block ends (which is where
 * the next block starts).  usable_size(p) is the distance from p to the next
 * mark; realloc uses it.  Consecutive blocks set neighbouring bits, so
 * malloc touches only hot, sequential metadata: one 8-byte word covers 1 KiB
 * of blocks, one cache line 8 KiB.
 *
 * Threads: a word of the bitmap is only ever written by the thread whose
 * chunk covers it (chunks are whole words, i.e. start at 1 KiB boundaries,
 * and each keeps its last granule unused so that the end mark of its last
 * block stays inside it).  So the marks are set with relaxed atomic loads
 * and stores (plain moves, no locked instruction), and a block's marks are
 * in place before malloc returns it to whichever thread then uses it.
 */
#include "allocators/alloc.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define BUMP_DEFAULT_RESERVE ((size_t)64 << 30)
#define BUMP_GRANULE 16
#define BUMP_WORD_SPAN (64 * BUMP_GRANULE) /* bytes of the reservation one bitmap word covers */

typedef struct bump_heap {
    char *base;
    size_t reserve;
    _Atomic uint64_t *marks; /* bit g: a block starts at granule g (or the previous one ends there) */
    size_t marks_len;        /* bytes mapped for marks */
    _Atomic size_t top;      /* bytes carved from the reservation */
    uint64_t id;             /* unique per heap: a new heap may reuse an old address */
} bump_heap_t;

static _Atomic uint64_t bump_next_id = 1;

/* Each thread bumps inside its own chunk, so malloc needs no atomic: the
 * shared top moves once per chunk.  (One heap at a time per thread: a thread
 * that switches heaps simply starts a new chunk.) */
#define BUMP_CHUNK ((size_t)1 << 20)
static __thread struct {
    uint64_t heap_id;
    uintptr_t cur, end; /* end: the chunk's last granule, kept for the end mark */
} bump_tls;

static int bump_init(void **heap, const alloc_config_t *cfg) {
    size_t reserve = cfg->reserve_bytes ? cfg->reserve_bytes : BUMP_DEFAULT_RESERVE;
    if (cfg->prefault_bytes > reserve)
        reserve = cfg->prefault_bytes;
    size_t marks_len = (reserve / BUMP_WORD_SPAN + 1) * sizeof(uint64_t);
    void *base = mmap(NULL, reserve, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (base == MAP_FAILED)
        return errno ? errno : ENOMEM;
    void *marks = mmap(NULL, marks_len, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (marks == MAP_FAILED) {
        munmap(base, reserve);
        return ENOMEM;
    }
    bump_heap_t *h = mmap(NULL, sizeof *h, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (h == MAP_FAILED) {
        munmap(marks, marks_len);
        munmap(base, reserve);
        return ENOMEM;
    }
    memset(h, 0, sizeof *h);
    /* Fault in what the run will use (the harness passes the stream's total)
     * and the marks that cover it, so that page faults are not counted in
     * the run. */
    if (cfg->prefault_bytes) {
        size_t mb = (cfg->prefault_bytes / BUMP_WORD_SPAN + 1) * sizeof(uint64_t);
        memset(base, 0, cfg->prefault_bytes);
        memset(marks, 0, mb < marks_len ? mb : marks_len);
    }
    h->base = base;
    h->marks = marks;
    h->marks_len = marks_len;
    h->id = atomic_fetch_add(&bump_next_id, 1);
    h->reserve = reserve;
    *heap = h;
    return 0;
}

static void bump_fini(void *heap) {
    bump_heap_t *h = heap;
    munmap(h->base, h->reserve);
    munmap((void *)h->marks, h->marks_len);
    munmap(h, sizeof *h);
}

/* Set the mark of the granule at p (in a chunk of this thread: see the
 * header comment for why a plain load and store suffice). */
static inline void bump_mark(bump_heap_t *h, uintptr_t p) {
    size_t g = (p - (uintptr_t)h->base) / BUMP_GRANULE;
    _Atomic uint64_t *w = &h->marks[g / 64];
    uint64_t v = atomic_load_explicit(w, memory_order_relaxed);
    atomic_store_explicit(w, v | (uint64_t)1 << (g % 64), memory_order_relaxed);
}

/* Carve a chunk of at least need bytes (plus its last granule) for this
 * thread.  The shared top moves only when the chunk fits, so the footprint
 * stays the bytes really carved. */
static int bump_new_chunk(bump_heap_t *h, size_t need) {
    size_t take = need + BUMP_GRANULE > BUMP_CHUNK ? need + BUMP_GRANULE : BUMP_CHUNK;
    take = (take + BUMP_WORD_SPAN - 1) & ~(size_t)(BUMP_WORD_SPAN - 1);
    size_t off = atomic_load_explicit(&h->top, memory_order_relaxed);
    do {
        if (take > h->reserve || off > h->reserve - take)
            return ENOMEM;
    } while (!atomic_compare_exchange_weak(&h->top, &off, off + take));
    bump_tls.heap_id = h->id;
    bump_tls.cur = (uintptr_t)h->base + off;
    bump_tls.end = bump_tls.cur + take - BUMP_GRANULE;
    return 0;
}

static void *bump_aligned(void *heap, size_t align, size_t n) {
    bump_heap_t *h = heap;
    if (align == 0 || (align & (align - 1))) {
        errno = EINVAL;
        return NULL;
    }
    if (align < BUMP_GRANULE)
        align = BUMP_GRANULE;
    if (n > h->reserve || align > h->reserve) {
        errno = ENOMEM;
        return NULL;
    }
    /* At least one granule, so that every block has an address of its own. */
    size_t size = n ? (n + BUMP_GRANULE - 1) & ~(size_t)(BUMP_GRANULE - 1) : BUMP_GRANULE;
    size_t need = size + (align - BUMP_GRANULE); /* the most padding alignment can add */
    if (bump_tls.heap_id != h->id || bump_tls.end - bump_tls.cur < need) {
        if (bump_new_chunk(h, need) != 0) {
            errno = ENOMEM;
            return NULL;
        }
    }
    uintptr_t p = (bump_tls.cur + align - 1) & ~(uintptr_t)(align - 1);
    bump_tls.cur = p + size;
    bump_mark(h, p);        /* usually already set: the previous block's end */
    bump_mark(h, p + size); /* <= end: inside this chunk */
    return (void *)p;
}

static void *bump_malloc(void *heap, size_t n) { return bump_aligned(heap, BUMP_GRANULE, n); }

static void bump_free(void *heap, void *p) {
    (void)heap;
    (void)p;
}

/* The distance from p to the next mark: the block's size rounded up to the
 * granule (the end mark is always there, so the scan stops). */
static size_t bump_usable(void *heap, void *p) {
    bump_heap_t *h = heap;
    if (!p)
        return 0;
    size_t g0 = ((uintptr_t)p - (uintptr_t)h->base) / BUMP_GRANULE, g = g0 + 1;
    size_t w = g / 64;
    uint64_t bits = atomic_load_explicit(&h->marks[w], memory_order_relaxed) & (~(uint64_t)0 << (g % 64));
    while (!bits)
        bits = atomic_load_explicit(&h->marks[++w], memory_order_relaxed);
    size_t end = w * 64 + (size_t)__builtin_ctzll(bits);
    return (end - g0) * BUMP_GRANULE;
}

static void *bump_realloc(void *heap, void *p, size_t n) {
    if (!p)
        return bump_malloc(heap, n);
    size_t old = bump_usable(heap, p);
    if (n <= old)
        return p; /* shrinking, or growing into the granule's padding: the block stays */
    void *q = bump_malloc(heap, n);
    if (q) {
        memcpy(q, p, old);
        bump_free(heap, p);
    }
    return q;
}

static int bump_stats(void *heap, alloc_stats_t *s) {
    bump_heap_t *h = heap;
    size_t top = atomic_load(&h->top);
    /* The marks that cover the carved bytes (chunks are whole words); H
     * counts them, as the policy allocators count their index. */
    s->metadata_bytes = (int64_t)(top / BUMP_WORD_SPAN * sizeof(uint64_t));
    s->footprint = (int64_t)top + s->metadata_bytes;
    s->peak_footprint = s->footprint;
    s->mapped_bytes = s->footprint;
    return 0;
}

static const char *bump_version(void) { return "2"; }

const alloc_methods_t alloc_bump_methods = {
    .name = "bump",
    .description = "baseline: bump a pointer, free does nothing, nothing is reused",
    .flags = ALLOC_THREAD_SAFE | ALLOC_BASELINE,
    .heap_figure = "bytes carved from the reservation so far, in 1 MiB per-thread chunks (nothing is reused), "
                   "plus its metadata, the side bitmap of block starts (1/128 of that)",
    .version = bump_version,
    .init = bump_init,
    .fini = bump_fini,
    .malloc = bump_malloc,
    .free = bump_free,
    .realloc = bump_realloc,
    .aligned = bump_aligned,
    .usable_size = bump_usable,
    .stats = bump_stats,
};
