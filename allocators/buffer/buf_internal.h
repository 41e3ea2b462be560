/*
 * buf_internal.h - what the buffer manager's files share; not for other
 * modules (they include buf.h only).
 */
#ifndef MMB_BUF_INTERNAL_H
#define MMB_BUF_INTERNAL_H

#include "allocators/buffer/buf.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#define BUF_ALIGN 64
/* Owned host blocks: [prefix BUF_PREFIX][data capacity].  The prefix ends
 * with a buf_prefix_t (magic word + handle), right before the data, so
 * free(p) finds its buffer in O(1).  Buffers made by the table
 * (buf_new_embedded) put the handle itself right before that prefix: one
 * allocation per buffer (layout below, BUF_EMB_HDR). */
#define BUF_PREFIX 64
#define BUF_MAGIC 0x6d6d6275666665ull /* "mmbuffe" */

typedef enum buf_kind { BUF_KIND_OWNED, BUF_KIND_SLICE, BUF_KIND_CONSUMED, BUF_KIND_DEVICE } buf_kind_t;

/* BUF_F_EMBED: the handle lives in the prefix of its own block (it cannot
 * move, so neither can the data). */
enum { BUF_F_IMMUTABLE = 1u << 0, BUF_F_DELAYED = 1u << 1, BUF_F_WAITING = 1u << 2, BUF_F_EMBED = 1u << 3 };

typedef struct buf_prefix {
    uint64_t magic;
    buf_t *owner;
} buf_prefix_t;

/* Invariants: refs >= nslices (each live slice holds one reference); an
 * owned/consumed/device buffer is in the registry exactly while it is alive
 * (including while it waits on the delayed list); a slice never is.  An
 * owned buffer's registry region is its block: lo == block, hi - lo ==
 * block_size.  Table (BUF_F_EMBED) buffers have no death callback. */
struct buf {
    /* cold fields first: for the table's buffers the handle ends right
     * before the data, so the fields free() needs (the last 48 bytes, from
     * pool on) share one cache line with the prefix */
    size_t item_size, num_items;
    _Atomic long nslices;
    buf_mem_t mem;
    int init;
    uint64_t id;
    void *death_ctx;
    buf_release_fn release;
    void *release_ctx;
    buf_t *parent;          /* slices */
    /* delayed list, oldest at the head */
    buf_t *dprev, *dnext;
    buf_death_fn on_death;
    void *block;            /* owned: pool block (prefix + data) */
    size_t block_size;
    size_t capacity;
    void *data;
    /* hot: free, release, destroy and the registry */
    buf_pool_t *pool;       /* holds this struct; owned data too */
    /* overlap registry entry (registry.c: a B+tree keyed by lo; regions are disjoint) */
    uintptr_t lo, hi;
    size_t size;
    _Atomic long refs;
    uint8_t flags;
    uint8_t kind;           /* buf_kind_t */
    bool registered;
    unsigned char init_byte; /* cold, in the padding */
    int device;
};

_Static_assert(sizeof(struct buf) % 16 == 0 && sizeof(struct buf) - offsetof(struct buf, pool) == 48,
               "table buffers: the handle's hot tail and the prefix make one cache line");

/* Table buffers: [pad 0..align-16][buf_t][buf_prefix_t][data], one plain
 * (16-aligned) pool allocation of BUF_EMB_HDR + align - 16 + capacity bytes,
 * the data align-aligned (64 by default) inside it. */
#define BUF_EMB_HDR ((sizeof(buf_t) + sizeof(buf_prefix_t) + 15) & ~(size_t)15)

/* The prefix right before owned data (both layouts). */
static inline buf_prefix_t *buf_prefix_of(const void *data) {
    return (buf_prefix_t *)((char *)data - sizeof(buf_prefix_t));
}

typedef enum buf_pool_kind {
    BUF_POOL_PLAIN, BUF_POOL_LOG, BUF_POOL_CAP, BUF_POOL_DEBUG, BUF_POOL_PINNED, BUF_POOL_LIBC,
} buf_pool_kind_t;

/* registry.c */
/* The registry's mutex.  Plain pools (BUF_POOL_PLAIN) keep their
 * statistics and references under it as well, so that a table buffer's
 * malloc (registry insert + pool statistics) and free take it once. */
extern pthread_mutex_t buf_reg_lock;
int buf_reg_insert(buf_t *b, uintptr_t lo, uintptr_t hi);
void buf_reg_remove(buf_t *b);
/* The same with buf_reg_lock already held. */
int buf_reg_insert_locked(buf_t *b, uintptr_t lo, uintptr_t hi);
void buf_reg_remove_locked(buf_t *b);
/* Buffer ids come from one process-wide counter (from 1) under the registry
 * lock: buf_reg_insert gives one to a buffer whose id is still 0. */
uint64_t buf_reg_next_id(void);
/* Walk every registered buffer in address order under the registry lock. */
void buf_reg_walk(void (*fn)(buf_t *b, void *ctx), void *ctx);
void buf_delayed_push(buf_t *b);

/* buffer.c */
void buf_destroy(buf_t *b, int *rc);
int buf_handle_new(buf_pool_t *pool, buf_t **out);
void buf_apply_opts(buf_t *b, const buf_opts_t *o);
int buf_reblock(buf_t *b, size_t newcap);
/* A 1 x size owned buffer (init none) whose handle sits in its block's
 * prefix: one pool allocation, data aligned to align (a power of two, at
 * least 64).  Used by the table; never resized. */
int buf_new_embedded(buf_t **out, size_t size, size_t align, buf_pool_t *pool);
int buf_map_dev(int dev_rc);

/* table.c */
int buf_table_linked(void);

/* pool.c */
void buf_pool_retain(buf_pool_t *p);
/* Blocks of p are pinned host memory (a pinned pool, or a wrapper over one):
 * its buffers say BUF_MEM_PINNED. */
bool buf_pool_is_pinned(const buf_pool_t *p);
/* Why buf_pool_new(name) answered rc, one sentence without a final stop
 * ("cuda is a device allocator, ..."): call it right after the failure,
 * while alloc_last_error() still holds what a failed init said. */
void buf_pool_refusal(const char *name, int rc, char *why, size_t len);
/* buf_pool_alloc that also takes a reference on the pool, and buf_pool_free
 * that also drops one (the last tears the pool down): one lock each. */
int buf_pool_alloc_ref(buf_pool_t *p, size_t n, size_t align, void **out);
int buf_pool_free_unref(buf_pool_t *p, void *q, size_t n);
/* The last reference is gone (buf_pool_count_free_locked said so): free it. */
void buf_pool_teardown(buf_pool_t *p);
/* Table buffers over a pool whose lock is buf_reg_lock (plain pools): the
 * block comes and goes without statistics (raw), and the caller counts it,
 * with a pool reference, under buf_reg_lock together with its registry
 * insert or remove. */
bool buf_pool_shares_reg_lock(const buf_pool_t *p);
void *buf_pool_raw_alloc(buf_pool_t *p, size_t n);
void buf_pool_raw_free(buf_pool_t *p, void *q);
void buf_pool_count_alloc_locked(buf_pool_t *p, size_t n);
/* true when that was the pool's last reference: buf_pool_teardown after unlocking */
bool buf_pool_count_free_locked(buf_pool_t *p, size_t n);
buf_pool_t *buf_pool_resolve(const buf_opts_t *o);
int buf_pool_inner(buf_pool_t *pool, const alloc_methods_t **m, void **heap);
bool buf_pool_host(const buf_pool_t *pool);
void buf_pool_default_drop(void);
int buf_pool_new_cfg(buf_pool_t **out, const char *name, const alloc_config_t *cfg);

#endif
