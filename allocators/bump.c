/*
 * bump.c - the baseline allocator: bump a pointer, never reuse memory.
 *
 * It exists to measure the harness itself (`mmbench run --alloc=bump`): its
 * malloc is one atomic add, its free does nothing, so the time a run spends
 * is the harness's own loop.  Memory comes from one large MAP_NORESERVE
 * reservation; the footprint is the bytes handed out (16-byte granules plus
 * a hidden 16-byte size header so realloc and usable_size work).
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
    _Atomic size_t top;
    _Atomic size_t peak_payload; /* unused: bump never frees */
    _Atomic size_t payload;
    _Atomic size_t blocks;
} bump_heap_t;

static int bump_init(void **heap, const alloc_config_t *cfg) {
    size_t reserve = cfg->reserve_bytes ? cfg->reserve_bytes : BUMP_DEFAULT_RESERVE;
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
    h->base = base;
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
    size_t off = atomic_fetch_add(&h->top, need);
    if (off + need > h->reserve) {
        errno = ENOMEM;
        return NULL;
    }
    uintptr_t p = (uintptr_t)h->base + off + BUMP_HDR;
    p = (p + align - 1) & ~(uintptr_t)(align - 1);
    ((size_t *)p)[-1] = n;
    atomic_fetch_add(&h->payload, n);
    atomic_fetch_add(&h->blocks, 1);
    return (void *)p;
}

static void *bump_malloc(void *heap, size_t n) { return bump_aligned(heap, 16, n); }

static void bump_free(void *heap, void *p) {
    bump_heap_t *h = heap;
    if (!p)
        return;
    atomic_fetch_sub(&h->payload, ((size_t *)p)[-1]);
    atomic_fetch_sub(&h->blocks, 1);
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
        bump_heap_t *h = heap;
        atomic_fetch_sub(&h->payload, old - n);
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
    s->payload_bytes = (int64_t)atomic_load(&h->payload);
    s->used_blocks = (int64_t)atomic_load(&h->blocks);
    s->mapped_bytes = (int64_t)top;
    return 0;
}

static const char *bump_version(void) { return "1"; }

const alloc_methods_t alloc_bump_methods = {
    .name = "bump",
    .description = "baseline: bump a pointer, free does nothing (measures the harness)",
    .flags = ALLOC_THREAD_SAFE | ALLOC_BASELINE,
    .heap_figure = "bytes bumped so far (nothing is ever reused)",
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
