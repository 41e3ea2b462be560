/*
 * bump.c - the baseline allocator: bump a pointer, never reuse memory.
 *
 * It exists to measure the harness itself (`mmbench run --alloc=bump`): its
 * malloc is one atomic add, its free does nothing, so the time a run spends
 * is the harness's own loop.  Memory comes from one large MAP_NORESERVE
 * reservation; the footprint is the bytes handed out (16-byte granules plus
 * a hidden 16-byte size header so realloc and usable_size work).  When the
 * harness says how many bytes the run will take (prefault_bytes), they are
 * faulted in at init, before the clock starts.
 */
#include "allocators/alloc.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define BUMP_DEFAULT_RESERVE ((size_t)64 << 30)
#define BUMP_HDR 16

typedef struct bump_heap {
    char *base;
    size_t reserve;
    _Atomic size_t top; /* bytes carved from the reservation */
    uint64_t id;        /* unique per heap: a new heap may reuse an old address */
} bump_heap_t;

static _Atomic uint64_t bump_next_id = 1;

/* Each thread bumps inside its own chunk, so malloc needs no atomic: the
 * shared top moves once per chunk.  (One heap at a time per thread: a thread
 * that switches heaps simply starts a new chunk.) */
#define BUMP_CHUNK ((size_t)1 << 20)
static __thread struct {
    uint64_t heap_id;
    uintptr_t cur, end;
} bump_tls;

static int bump_init(void **heap, const alloc_config_t *cfg) {
    size_t reserve = cfg->reserve_bytes ? cfg->reserve_bytes : BUMP_DEFAULT_RESERVE;
    if (cfg->prefault_bytes > reserve)
        reserve = cfg->prefault_bytes;
    void *base = mmap(NULL, reserve, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (base == MAP_FAILED)
        return errno ? errno : ENOMEM;
    bump_heap_t *h = mmap(NULL, sizeof *h, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (h == MAP_FAILED) {
        munmap(base, reserve);
        return ENOMEM;
    }
    memset(h, 0, sizeof *h);
    /* Fault in what the run will use (the harness passes the stream's total),
     * so the run measures the harness rather than page faults. */
    if (cfg->prefault_bytes)
        memset(base, 0, cfg->prefault_bytes);
    h->base = base;
    h->id = atomic_fetch_add(&bump_next_id, 1);
    h->reserve = reserve;
    *heap = h;
    return 0;
}

static void bump_fini(void *heap) {
    bump_heap_t *h = heap;
    munmap(h->base, h->reserve);
    munmap(h, sizeof *h);
}

static void *bump_aligned(void *heap, size_t align, size_t n) {
    bump_heap_t *h = heap;
    if (align == 0 || (align & (align - 1))) {
        errno = EINVAL;
        return NULL;
    }
    if (align < 16)
        align = 16;
    if (n > h->reserve || align > h->reserve) {
        errno = ENOMEM;
        return NULL;
    }
    size_t need = BUMP_HDR + ((n + 15) & ~(size_t)15) + (align > 16 ? align : 0);
    if (bump_tls.heap_id != h->id || bump_tls.end - bump_tls.cur < need) {
        size_t take = need > BUMP_CHUNK ? need : BUMP_CHUNK;
        size_t off = atomic_fetch_add(&h->top, take);
        if (off + take > h->reserve) {
            errno = ENOMEM;
            return NULL;
        }
        bump_tls.heap_id = h->id;
        bump_tls.cur = (uintptr_t)h->base + off;
        bump_tls.end = bump_tls.cur + take;
    }
    uintptr_t p = bump_tls.cur + BUMP_HDR;
    p = (p + align - 1) & ~(uintptr_t)(align - 1);
    bump_tls.cur = p + ((n + 15) & ~(size_t)15);
    ((size_t *)p)[-1] = n;
    return (void *)p;
}

static void *bump_malloc(void *heap, size_t n) { return bump_aligned(heap, 16, n); }

static void bump_free(void *heap, void *p) {
    (void)heap;
    (void)p;
}

static size_t bump_usable(void *heap, void *p) {
    (void)heap;
    return p ? ((size_t *)p)[-1] : 0;
}

static void *bump_realloc(void *heap, void *p, size_t n) {
    if (!p)
        return bump_malloc(heap, n);
    size_t old = ((size_t *)p)[-1];
    if (n <= old) {
        ((size_t *)p)[-1] = n;
        return p;
    }
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
    s->footprint = (int64_t)top;
    s->peak_footprint = (int64_t)top;
    s->mapped_bytes = (int64_t)top;
    return 0;
}

static const char *bump_version(void) { return "1"; }

const alloc_methods_t alloc_bump_methods = {
    .name = "bump",
    .description = "baseline: bump a pointer, free does nothing (measures the harness)",
    .flags = ALLOC_THREAD_SAFE | ALLOC_BASELINE,
    .heap_figure = "bytes carved from the reservation so far, in 1 MiB per-thread chunks (nothing is reused)",
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
