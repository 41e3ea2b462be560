/*
 * table.c - the buffer manager as an allocator of the table ("buffer" /
 * "buffer:NAME"): malloc(n) makes a 1-item x n-byte buffer and returns its
 * data pointer, free releases it, realloc resizes it.  The heap is a pool
 * over a new heap of the inner allocator (cfg->inner), or the default pool
 * when cfg->inner is NULL.
 *
 * Statistics: the inner allocator's figures (its footprint is H), with
 * payload_bytes / used_blocks being the buffers' own bytes and count and
 * allocated_bytes the pool's bytes_now.  stats_extra adds the treemap split
 * (buffer.owned, buffer.slice_parents, buffer.consumed, buffer.delayed) and
 * the pool figures, then the inner allocator's own extra figures.
 *
 * slice / consume make a slice (buf_slice: it keeps the parent's memory
 * alive, counted under buffer.slice_parents once the parent's own handle is
 * freed) or a consumed buffer (buf_consume: registry and overlap check,
 * buffer.consumed), each behind a small token handle that free recognises.
 *
 * fini drops the heap's pool; buffers still alive keep it (and the inner
 * heap) alive, so the registry never points into a heap that is gone.
 *
 * heap_name says what a run of the heap is recorded as: "buffer:" and the
 * pool's allocator, so that a run of "buffer" over the default pool names
 * the allocator MMBENCH_DEFAULT_POOL gave it (or the fallback that served).
 */
#include "allocators/buffer/buf_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* payload / live counters, one cache line per thread: the first BT_SHARDS
 * threads of the process each own a shard and update it with plain
 * (relaxed) loads and stores, no read-modify-write; later threads share the
 * last one with atomic adds.  Readers sum the shards. */
#define BT_SHARDS 64
typedef struct bt_shard {
    _Alignas(64) _Atomic int64_t payload;
    _Atomic int64_t live;
} bt_shard_t;

typedef struct bt_heap {
    buf_pool_t *pool;
    const alloc_methods_t *m; /* innermost allocator */
    void *heap;
    char name[96]; /* "buffer:<the pool's allocator>", what a run records */
    bt_shard_t shard[BT_SHARDS + 1]; /* [BT_SHARDS]: shared */
} bt_heap_t;

static _Atomic int bt_nthreads;
static _Thread_local int bt_tid = -1;

/* Add to this thread's payload and live counts. */
static inline void bt_count(bt_heap_t *h, int64_t payload, int64_t live) {
    int t = bt_tid;
    if (t < 0)
        t = bt_tid = atomic_fetch_add_explicit(&bt_nthreads, 1, memory_order_relaxed);
    if (t < BT_SHARDS) {
        bt_shard_t *s = &h->shard[t];
        atomic_store_explicit(&s->payload, atomic_load_explicit(&s->payload, memory_order_relaxed) + payload,
                              memory_order_relaxed);
        atomic_store_explicit(&s->live, atomic_load_explicit(&s->live, memory_order_relaxed) + live,
                              memory_order_relaxed);
    } else {
        atomic_fetch_add_explicit(&h->shard[BT_SHARDS].payload, payload, memory_order_relaxed);
        atomic_fetch_add_explicit(&h->shard[BT_SHARDS].live, live, memory_order_relaxed);
    }
}

/* The innermost allocator of the last heap made, once one was made (NULL
 * then: a default pool over the C library directly, whose version is
 * unknown); before that, the version names the default pool's allocator. */
static const alloc_methods_t *_Atomic bt_last_inner;
static _Atomic int bt_made;

static const char *bt_version(void) {
    static char text[256];
    const alloc_methods_t *m = atomic_load(&bt_last_inner);
    if (!m && !atomic_load(&bt_made)) {
        const char *want = getenv("MMBENCH_DEFAULT_POOL");
        m = alloc_find(want && *want ? want : "glibc");
        if (!m || (m->flags & ALLOC_WRAPPER))
            m = alloc_find("glibc");
    }
    snprintf(text, sizeof text, "mmbench-buffer/%s", m ? alloc_version(m) : "unknown");
    return text;
}

static int bt_init(void **heap, const alloc_config_t *cfg) {
    *heap = NULL;
    bt_heap_t *h = mmap(NULL, sizeof *h, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (h == MAP_FAILED)
        return ENOMEM;
    memset(h, 0, sizeof *h);
    int rc;
    if (cfg && cfg->inner) {
        rc = buf_pool_new_cfg(&h->pool, cfg->inner, cfg);
    } else {
        h->pool = buf_pool_default();
        buf_pool_retain(h->pool);
        rc = BUF_OK;
    }
    if (rc) {
        char why[640];
        buf_pool_refusal(cfg->inner, rc, why, sizeof why);
        alloc_set_error("buffer:%s: %s", cfg->inner, why);
        munmap(h, sizeof *h);
        return rc == BUF_ENOALLOC || rc == BUF_EINVAL ? EINVAL : rc == BUF_EUNAVAIL ? ENOTSUP : ENOMEM;
    }
    buf_pool_inner(h->pool, &h->m, &h->heap);
    atomic_store(&bt_last_inner, h->m);
    atomic_store(&bt_made, 1);
    /* the default pool may not be what MMBENCH_DEFAULT_POOL asked for (an
     * unknown or unusable name falls back to glibc): name what serves */
    snprintf(h->name, sizeof h->name, "buffer:%s", h->m ? h->m->name : buf_pool_name(h->pool));
    *heap = h;
    return 0;
}

static const char *bt_heap_name(void *heap) {
    bt_heap_t *h = heap;
    return h ? h->name : NULL;
}

static void bt_fini(void *heap) {
    bt_heap_t *h = heap;
    if (!h)
        return;
    buf_pool_destroy(h->pool);
    munmap(h, sizeof *h);
}

/* O(1): the prefix right before p names the handle (for the table's own
 * buffers, in the same block); both must agree. */
static inline buf_t *bt_owner(void *p) {
    const buf_prefix_t *px = buf_prefix_of(p);
    buf_t *b = px->magic == BUF_MAGIC ? px->owner : NULL;
    if (!b || b->kind != BUF_KIND_OWNED)
        return NULL;
    /* a table buffer's data sits at a fixed distance after its handle (no
     * need to touch the handle's colder line holding b->data) */
    if (b->flags & BUF_F_EMBED ? (char *)b + BUF_EMB_HDR != (char *)p : b->data != p)
        return NULL;
    return b;
}

/* Slices and consumed memory are handed out as tokens: a 32-byte pool
 * block [magic BT_TOKEN_MAGIC, buf_t *][16 bytes], the handle pointing past
 * the first 16, so free() reads its prefix exactly as for an owned buffer
 * and tells the two apart by the magic word.  (A slice's data pointer could
 * equal its parent's, and consumed memory has no prefix to read.) */
#define BT_TOKEN_MAGIC 0x6d6d62746f6b656eull /* "mmbtoken" */
#define BT_TOKEN_SIZE 32

static void *bt_token_new(bt_heap_t *h, buf_t *b) {
    void *blk;
    if (buf_pool_alloc(h->pool, BT_TOKEN_SIZE, 16, &blk))
        return NULL;
    buf_prefix_t *px = blk;
    px->magic = BT_TOKEN_MAGIC;
    px->owner = b;
    return (char *)blk + sizeof(buf_prefix_t);
}

/* The slice or consumed buffer behind a token handle, or NULL. */
static buf_t *bt_token_owner(void *p) {
    const buf_prefix_t *px = buf_prefix_of(p);
    if (px->magic != BT_TOKEN_MAGIC || !px->owner)
        return NULL;
    buf_t *b = px->owner;
    return b->kind == BUF_KIND_SLICE || b->kind == BUF_KIND_CONSUMED ? b : NULL;
}

static void bt_token_free(bt_heap_t *h, void *p) {
    buf_prefix_t *px = buf_prefix_of(p);
    buf_t *b = px->owner;
    px->magic = 0;
    buf_pool_free(h->pool, px, BT_TOKEN_SIZE);
    buf_release(b);
}

static void *bt_malloc_aligned(void *heap, size_t n, size_t align) {
    bt_heap_t *h = heap;
    buf_t *b;
    int rc = buf_new_embedded(&b, n, align, h->pool);
    if (rc) {
        errno = ENOMEM;
        return NULL;
    }
    bt_count(h, (int64_t)n, 1);
    return b->data;
}

static void *bt_malloc(void *heap, size_t n) { return bt_malloc_aligned(heap, n, BUF_ALIGN); }

static void bt_free(void *heap, void *p) {
    bt_heap_t *h = heap;
    if (!p)
        return;
    buf_t *b = bt_owner(p);
    if (!b) {
        if (bt_token_owner(p))
            bt_token_free(h, p);
        return;
    }
    bt_count(h, -(int64_t)b->size, -1);
    buf_release(b);
}

static void *bt_realloc(void *heap, void *p, size_t n) {
    bt_heap_t *h = heap;
    if (!p)
        return bt_malloc(heap, n);
    buf_t *b = bt_owner(p);
    if (!b) {
        errno = EINVAL;
        return NULL;
    }
    size_t old = b->size;
    if (!(b->flags & BUF_F_EMBED)) {
        /* a buf_new buffer handed to the table: resize it in place */
        b->item_size = 1;
        b->num_items = old;
        int rc = buf_resize(b, n);
        b->item_size = b->size;
        b->num_items = 1;
        if (rc && rc != BUF_ECANARY) {
            errno = ENOMEM;
            return NULL;
        }
        bt_count(h, (int64_t)n - (int64_t)old, 0);
        return b->data;
    }
    if (n <= b->capacity && (n > b->capacity / 2 || b->capacity == BUF_ALIGN) &&
        atomic_load(&b->refs) == 1) {
        /* same block: only the size changes; keep the padding zeroed */
        if (n < old)
            memset((char *)p + n, 0, old - n);
        b->size = b->item_size = n;
        bt_count(h, (int64_t)n - (int64_t)old, 0);
        return p;
    }
    /* the handle lives in the block, so a new capacity means a new buffer */
    buf_t *nb;
    /* keep the alignment the buffer was made with (its block is
     * BUF_EMB_HDR + align - 16 + capacity bytes), not whatever alignment the
     * address happens to have */
    size_t align = b->block_size - BUF_EMB_HDR - b->capacity + 16;
    if (buf_new_embedded(&nb, n, align, h->pool)) {
        errno = ENOMEM;
        return NULL;
    }
    memcpy(nb->data, p, old < n ? old : n);
    bt_count(h, (int64_t)n - (int64_t)old, 0);
    buf_release(b);
    return nb->data;
}

static void *bt_aligned(void *heap, size_t align, size_t n) {
    if (align & (align - 1) || align > ((size_t)1 << 30)) {
        errno = EINVAL;
        return NULL;
    }
    return bt_malloc_aligned(heap, n, align);
}

/* A byte slice of a table buffer (whose one item is the whole buffer):
 * buf_slice of that item retains the parent and counts the slice; then the
 * slice's own view narrows to [off, off+len). */
static void *bt_slice(void *heap, void *parent, size_t off, size_t len) {
    bt_heap_t *h = heap;
    buf_t *pb = parent ? bt_owner(parent) : NULL;
    if (!pb) {
        errno = EINVAL;
        return NULL;
    }
    if (off > pb->size || len > pb->size - off) {
        errno = ERANGE;
        return NULL;
    }
    buf_t *s;
    if (buf_slice(pb, 0, pb->num_items, &s)) {
        errno = ENOMEM;
        return NULL;
    }
    s->data = (char *)pb->data + off;
    s->item_size = 1;
    s->num_items = len;
    s->size = s->capacity = len;
    void *t = bt_token_new(h, s);
    if (!t) {
        buf_release(s);
        errno = ENOMEM;
        return NULL;
    }
    return t;
}

/* External memory as a consumed buffer of the heap's pool (the overlap
 * registry refuses memory the manager already knows: EEXIST). */
static void *bt_consume(void *heap, void *mem, size_t n, void (*release)(void *mem, size_t n, void *ctx),
                        void *ctx) {
    bt_heap_t *h = heap;
    buf_opts_t o = BUF_OPTS_INIT;
    o.pool = h->pool;
    buf_t *b;
    int rc = buf_consume(&b, mem, n, 1, NULL, NULL, &o);
    if (rc) {
        errno = rc == BUF_EOVERLAP ? EEXIST : rc == BUF_ENOMEM ? ENOMEM : EINVAL;
        return NULL;
    }
    void *t = bt_token_new(h, b);
    if (!t) {
        buf_release(b); /* no release set yet: the caller keeps mem */
        errno = ENOMEM;
        return NULL;
    }
    b->release = release;
    b->release_ctx = ctx;
    return t;
}

static size_t bt_usable(void *heap, void *p) {
    (void)heap;
    buf_t *b = p ? bt_owner(p) : NULL;
    return b ? b->capacity : 0;
}

static int bt_stats(void *heap, alloc_stats_t *s) {
    bt_heap_t *h = heap;
    if (h->m)
        alloc_stats(h->m, h->heap, s);
    buf_pool_stats_t ps;
    buf_pool_get_stats(h->pool, &ps);
    int64_t payload = 0, live = 0;
    for (int i = 0; i <= BT_SHARDS; i++) {
        payload += atomic_load_explicit(&h->shard[i].payload, memory_order_relaxed);
        live += atomic_load_explicit(&h->shard[i].live, memory_order_relaxed);
    }
    s->payload_bytes = payload;
    s->used_blocks = live;
    s->allocated_bytes = (int64_t)ps.bytes_now;
    /* The inner heap's payload at its peak counts the buffers' capacities
     * and headers (about twice what the workload asked for), so H over it is
     * not H/L: JW #3 read 0.28 where #2 and #4 read 1.6.  Unknown here, the
     * harness takes JW #3 from its samples, as for the system allocators. */
    s->payload_at_peak_footprint = ALLOC_UNKNOWN;
    return 0;
}

typedef struct bt_split {
    buf_pool_t *pool;
    double owned, slice_parents, consumed, delayed;
} bt_split_t;

static void bt_split_one(buf_t *b, void *ctx) {
    bt_split_t *t = ctx;
    if (b->pool != t->pool)
        return;
    double bytes = (double)b->capacity;
    if (b->flags & BUF_F_WAITING)
        t->delayed += bytes;
    else if (b->kind == BUF_KIND_CONSUMED)
        t->consumed += bytes;
    else if (atomic_load(&b->nslices) > 0 && atomic_load(&b->refs) == atomic_load(&b->nslices))
        t->slice_parents += bytes;
    else
        t->owned += bytes;
}

static int bt_stats_extra(void *heap, void (*emit)(void *ctx, const char *key, double v), void *ctx) {
    bt_heap_t *h = heap;
    bt_split_t t = {.pool = h->pool};
    buf_reg_walk(bt_split_one, &t);
    emit(ctx, "buffer.owned", t.owned);
    emit(ctx, "buffer.slice_parents", t.slice_parents);
    emit(ctx, "buffer.consumed", t.consumed);
    emit(ctx, "buffer.delayed", t.delayed);
    buf_pool_stats_t ps;
    buf_pool_get_stats(h->pool, &ps);
    emit(ctx, "pool.bytes_now", (double)ps.bytes_now);
    emit(ctx, "pool.peak", (double)ps.peak);
    emit(ctx, "pool.total", (double)ps.total);
    emit(ctx, "pool.allocations", (double)ps.allocations);
    emit(ctx, "pool.frees", (double)ps.frees);
    if (h->m && h->m->stats_extra)
        h->m->stats_extra(h->heap, emit, ctx);
    return 0;
}

static int bt_check(void *heap, char *err, size_t errlen) {
    bt_heap_t *h = heap;
    if (buf_registry_check() != BUF_OK) {
        snprintf(err, errlen, "the buffer manager's overlap registry is not a sound B+tree");
        return 1;
    }
    size_t bad = 0;
    if (buf_pool_check(h->pool, &bad) != BUF_OK) {
        snprintf(err, errlen, "%zu damaged canaries: %s", bad, buf_pool_last_error(h->pool));
        return 1;
    }
    return 0;
}

/* Referenced from pool.c: in a static library a weak placeholder of
 * alloc_buffer_methods (allocators/stubs_tmp.c) could otherwise satisfy the
 * registry's reference and leave this file out of the link. */
int buf_table_linked(void) { return 1; }

const alloc_methods_t alloc_buffer_methods = {
    .name = "buffer",
    .description = "buffer manager: 64-byte aligned, padded, registered buffers over an inner allocator",
    .flags = ALLOC_WRAPPER | ALLOC_THREAD_SAFE,
    .preload = NULL,
    .heap_figure = "the inner allocator's own footprint",
    .version = bt_version,
    .init = bt_init,
    .fini = bt_fini,
    .malloc = bt_malloc,
    .free = bt_free,
    .realloc = bt_realloc,
    .aligned = bt_aligned,
    .usable_size = bt_usable,
    .stats = bt_stats,
    .check = bt_check,
    .stats_extra = bt_stats_extra,
    .slice = bt_slice,
    .consume = bt_consume,
    .heap_name = bt_heap_name,
};
