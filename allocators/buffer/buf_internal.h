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

#define BUF_ALIGN 64
/* Owned host blocks: [prefix BUF_PREFIX][data capacity].  The prefix holds
 * a magic word and the handle, so free(p) finds its buffer in O(1). */
#define BUF_PREFIX 64
#define BUF_MAGIC 0x6d6d6275666665ull /* "mmbuffe" */

typedef enum buf_kind { BUF_KIND_OWNED, BUF_KIND_SLICE, BUF_KIND_CONSUMED, BUF_KIND_DEVICE } buf_kind_t;

enum { BUF_F_IMMUTABLE = 1u << 0, BUF_F_DELAYED = 1u << 1, BUF_F_WAITING = 1u << 2 };

typedef struct buf_prefix {
    uint64_t magic;
    buf_t *owner;
} buf_prefix_t;

/* Invariants: refs >= nslices (each live slice holds one reference); an
 * owned/consumed/device buffer is in the registry exactly while it is alive
 * (including while it waits on the delayed list); a slice never is. */
struct buf {
    void *data;
    size_t size, item_size, num_items, capacity;
    buf_pool_t *pool;       /* holds this struct; owned data too */
    void *block;            /* owned: pool block (prefix + data) */
    size_t block_size;
    _Atomic long refs;
    _Atomic long nslices;
    buf_kind_t kind;
    buf_mem_t mem;
    unsigned flags;
    int init;
    unsigned char init_byte;
    int device;
    uint64_t id;
    buf_death_fn on_death;
    void *death_ctx;
    buf_release_fn release;
    void *release_ctx;
    buf_t *parent;          /* slices */
    /* overlap registry (AVL tree keyed by lo; regions are disjoint) */
    uintptr_t lo, hi;
    buf_t *rl, *rr;
    int rh;
    bool registered;
    /* delayed list, oldest at the head */
    buf_t *dprev, *dnext;
};

typedef enum buf_pool_kind {
    BUF_POOL_PLAIN, BUF_POOL_LOG, BUF_POOL_CAP, BUF_POOL_DEBUG, BUF_POOL_PINNED, BUF_POOL_LIBC,
} buf_pool_kind_t;

/* registry.c */
int buf_reg_insert(buf_t *b, uintptr_t lo, uintptr_t hi);
void buf_reg_remove(buf_t *b);
/* Walk every registered buffer in address order under the registry lock. */
void buf_reg_walk(void (*fn)(buf_t *b, void *ctx), void *ctx);
void buf_delayed_push(buf_t *b);

/* buffer.c */
void buf_destroy(buf_t *b, int *rc);
int buf_handle_new(buf_pool_t *pool, buf_t **out);
void buf_apply_opts(buf_t *b, const buf_opts_t *o);
int buf_reblock(buf_t *b, size_t newcap);
int buf_map_dev(int dev_rc);

/* table.c */
int buf_table_linked(void);

/* pool.c */
void buf_pool_retain(buf_pool_t *p);
buf_pool_t *buf_pool_resolve(const buf_opts_t *o);
int buf_pool_inner(buf_pool_t *pool, const alloc_methods_t **m, void **heap);
bool buf_pool_host(const buf_pool_t *pool);
void buf_pool_default_drop(void);
int buf_pool_new_cfg(buf_pool_t **out, const char *name, const alloc_config_t *cfg);

#endif
