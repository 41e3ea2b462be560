/*
 * buffer.c - buffers: creation (owned, consumed, slices, extracted copies),
 * resizing, reference counting, destruction with its death callback, and the
 * error message table.
 *
 * An owned host buffer is one pool block, 64-byte aligned:
 *     [64-byte prefix ending in buf_prefix_t][data: capacity bytes, padding zeroed]
 * and the whole block is one region of the overlap registry.  The handle
 * (buf_t) is a separate small allocation from the same pool, so resizing can
 * move the data while the handle stays put.  Buffers of the table
 * (buf_new_embedded) instead hold their handle in the prefix of one plain
 * (16-aligned, so malloc's fast paths serve it) pool block:
 *     [pad 0..48][buf_t][buf_prefix_t][data: capacity, 64-aligned]
 * one allocation, one registry region (the whole block); they never move
 * (the table's realloc makes a new buffer when the capacity changes).
 */
#include "allocators/buffer/buf_internal.h"
#include "allocators/device/dev.h"

#include <string.h>

static const char *const buf_messages[] = {
#define BUF_ERR_MSG(name, msg) msg,
    BUF_ERRORS(BUF_ERR_MSG)
#undef BUF_ERR_MSG
};

const char *buf_strerror(int code) {
    if (code < 0 || code >= BUF_NERRORS)
        return "unknown buffer manager error code";
    return buf_messages[code];
}

int buf_map_dev(int dev_rc) {
    switch (dev_rc) {
    case DEV_OK: return BUF_OK;
    case DEV_ENODEV: return BUF_ENODEV;
    case DEV_ENOMEM: return BUF_ENOMEM;
    default: return BUF_EDEVICE;
    }
}

/* Round n up to a multiple of 64, at least 64; 0 on overflow. */
static size_t cap_for(size_t n) {
    if (n > SIZE_MAX - (BUF_ALIGN - 1) - BUF_PREFIX)
        return 0;
    size_t c = (n + BUF_ALIGN - 1) & ~(size_t)(BUF_ALIGN - 1);
    return c ? c : BUF_ALIGN;
}

int buf_handle_new(buf_pool_t *pool, buf_t **out) {
    buf_t *b;
    int rc = buf_pool_alloc_ref(pool, sizeof *b, 16, (void **)&b);
    if (rc)
        return rc;
    memset(b, 0, sizeof *b); /* id 0: buf_reg_insert (or buf_slice) numbers it */
    b->pool = pool;
    b->refs = 1;
    *out = b;
    return BUF_OK;
}

static void handle_free(buf_t *b, int *rc) {
    int r = buf_pool_free_unref(b->pool, b, sizeof *b);
    if (rc && !*rc)
        *rc = r;
}

void buf_apply_opts(buf_t *b, const buf_opts_t *o) {
    if (!o)
        return;
    b->init = o->init;
    b->init_byte = o->init_byte;
    b->on_death = o->on_death;
    b->death_ctx = o->death_ctx;
    if (o->delayed)
        b->flags |= BUF_F_DELAYED;
    if (o->id)
        b->id = o->id;
}

/* Fill [from, to) of the data with the init value (nothing for NONE). */
static void fill_init(buf_t *b, size_t from, size_t to) {
    if (to <= from)
        return;
    if (b->init == BUF_INIT_ZERO)
        memset((char *)b->data + from, 0, to - from);
    else if (b->init == BUF_INIT_BYTE)
        memset((char *)b->data + from, b->init_byte, to - from);
}

static void zero_padding(buf_t *b) {
    if (b->capacity > b->size)
        memset((char *)b->data + b->size, 0, b->capacity - b->size);
}

static void prefix_set(buf_t *b) {
    buf_prefix_t *px = buf_prefix_of(b->data);
    px->magic = BUF_MAGIC;
    px->owner = b;
}

int buf_new_embedded(buf_t **out, size_t size, size_t align, buf_pool_t *pool) {
    *out = NULL;
    size_t cap = cap_for(size);
    if (align < BUF_ALIGN)
        align = BUF_ALIGN;
    if ((align & (align - 1)) || align > ((size_t)1 << 30))
        return BUF_EINVAL;
    if (!cap || cap > SIZE_MAX - BUF_EMB_HDR - align)
        return BUF_EOVERFLOW;
    size_t total = BUF_EMB_HDR + (align - 16) + cap;
    void *block;
    int rc;
    bool one_lock = buf_pool_shares_reg_lock(pool);
    if (one_lock) {
        if (!(block = buf_pool_raw_alloc(pool, total)))
            return BUF_ENOMEM;
    } else if ((rc = buf_pool_alloc_ref(pool, total, 16, &block))) {
        return rc;
    }
    char *data = (char *)(((uintptr_t)block + BUF_EMB_HDR + align - 1) & ~(uintptr_t)(align - 1));
    buf_t *b = (buf_t *)(data - BUF_EMB_HDR);
    /* every field is set here (no memset of the whole handle); the id
     * comes from buf_reg_insert, under the lock it takes anyway */
    *b = (buf_t){.data = data, .size = size, .item_size = size, .num_items = 1, .capacity = cap,
                 .pool = pool, .block = block, .block_size = total,
                 .refs = 1, .kind = BUF_KIND_OWNED,
                 .mem = buf_pool_is_pinned(pool) ? BUF_MEM_PINNED : BUF_MEM_HOST, .flags = BUF_F_EMBED};
    prefix_set(b);
    zero_padding(b);
    if (one_lock) {
        /* registry insert, pool statistics and reference: one lock */
        pthread_mutex_lock(&buf_reg_lock);
        rc = buf_reg_insert_locked(b, (uintptr_t)block, (uintptr_t)block + total);
        if (!rc)
            buf_pool_count_alloc_locked(pool, total);
        pthread_mutex_unlock(&buf_reg_lock);
        if (rc) {
            buf_prefix_of(data)->magic = 0;
            buf_pool_raw_free(pool, block);
            return rc;
        }
        *out = b;
        return BUF_OK;
    }
    rc = buf_reg_insert(b, (uintptr_t)block, (uintptr_t)block + total);
    if (rc) {
        buf_prefix_of(data)->magic = 0;
        buf_pool_free_unref(pool, block, total);
        return rc;
    }
    *out = b;
    return BUF_OK;
}

int buf_new(buf_t **out, size_t num_items, size_t item_size, const buf_opts_t *opts) {
    *out = NULL;
    size_t size;
    if (__builtin_mul_overflow(num_items, item_size, &size))
        return BUF_EOVERFLOW;
    size_t cap = cap_for(size);
    if (!cap)
        return BUF_EOVERFLOW;
    if (opts && opts->init != BUF_INIT_NONE && opts->init != BUF_INIT_ZERO &&
        opts->init != BUF_INIT_BYTE)
        return BUF_EINVAL;
    buf_pool_t *pool = buf_pool_resolve(opts);
    buf_t *b;
    int rc = buf_handle_new(pool, &b);
    if (rc)
        return rc;
    buf_apply_opts(b, opts);
    b->kind = BUF_KIND_OWNED;
    b->mem = buf_pool_is_pinned(pool) ? BUF_MEM_PINNED : BUF_MEM_HOST;
    b->block_size = BUF_PREFIX + cap;
    rc = buf_pool_alloc(pool, b->block_size, BUF_ALIGN, &b->block);
    if (rc) {
        handle_free(b, NULL);
        return rc;
    }
    b->data = (char *)b->block + BUF_PREFIX;
    b->size = size;
    b->item_size = item_size;
    b->num_items = num_items;
    b->capacity = cap;
    prefix_set(b);
    fill_init(b, 0, size);
    zero_padding(b);
    rc = buf_reg_insert(b, (uintptr_t)b->block, (uintptr_t)b->block + b->block_size);
    if (rc) {
        buf_pool_free(pool, b->block, b->block_size);
        handle_free(b, NULL);
        return rc;
    }
    *out = b;
    return BUF_OK;
}

int buf_consume(buf_t **out, void *ptr, size_t num_items, size_t item_size,
                buf_release_fn release, void *release_ctx, const buf_opts_t *opts) {
    *out = NULL;
    size_t size;
    if (!ptr)
        return BUF_EINVAL;
    if (__builtin_mul_overflow(num_items, item_size, &size))
        return BUF_EOVERFLOW;
    if (size == 0 || (uintptr_t)ptr > UINTPTR_MAX - size)
        return BUF_EINVAL;
    buf_t *b;
    int rc = buf_handle_new(buf_pool_resolve(opts), &b);
    if (rc)
        return rc;
    buf_apply_opts(b, opts);
    b->init = BUF_INIT_NONE;
    b->kind = BUF_KIND_CONSUMED;
    b->mem = BUF_MEM_HOST;
    b->data = ptr;
    b->size = b->capacity = size;
    b->item_size = item_size;
    b->num_items = num_items;
    b->release = release;
    b->release_ctx = release_ctx;
    rc = buf_reg_insert(b, (uintptr_t)ptr, (uintptr_t)ptr + size);
    if (rc) {
        handle_free(b, NULL);
        return rc;
    }
    *out = b;
    return BUF_OK;
}

int buf_slice(buf_t *parent, size_t offset, size_t count, buf_t **out) {
    *out = NULL;
    if (!parent)
        return BUF_EINVAL;
    if (offset > parent->num_items || count > parent->num_items - offset)
        return BUF_ERANGE;
    buf_t *s;
    int rc = buf_handle_new(parent->pool, &s);
    if (rc)
        return rc;
    s->kind = BUF_KIND_SLICE;
    s->mem = parent->mem;
    s->device = parent->device;
    s->flags = parent->flags & BUF_F_IMMUTABLE;
    s->data = (char *)parent->data + offset * parent->item_size;
    s->item_size = parent->item_size;
    s->num_items = count;
    s->size = s->capacity = count * parent->item_size;
    s->parent = parent;
    s->id = buf_reg_next_id();
    buf_retain(parent);
    atomic_fetch_add(&parent->nslices, 1);
    *out = s;
    return BUF_OK;
}

int buf_extract(buf_t *src, size_t start, size_t end, buf_pool_t *pool, buf_t **out) {
    *out = NULL;
    if (!src)
        return BUF_EINVAL;
    if (start > end || end >= src->num_items)
        return BUF_ERANGE;
    buf_opts_t o = BUF_OPTS_INIT;
    o.pool = pool ? pool : src->pool;
    size_t n = end - start + 1;
    buf_t *b;
    int rc = buf_new(&b, n, src->item_size, &o);
    if (rc)
        return rc;
    rc = buf_copy(b, 0, src, start * src->item_size, n * src->item_size);
    if (rc) {
        buf_release(b);
        return rc;
    }
    *out = b;
    return BUF_OK;
}

/* Give an owned buffer a block of newcap data bytes, keeping the contents
 * up to min(old, new) capacity; the registry follows the block. */
int buf_reblock(buf_t *b, size_t newcap) {
    if (newcap == b->capacity)
        return BUF_OK;
    if (b->flags & BUF_F_EMBED)
        return BUF_EBUSY; /* the handle lives in the block: it cannot move */
    void *block = b->block;
    size_t nblock = BUF_PREFIX + newcap;
    buf_reg_remove(b);
    int rc = buf_pool_realloc(b->pool, &block, b->block_size, nblock, BUF_ALIGN);
    if (rc && rc != BUF_ECANARY) {
        buf_reg_insert(b, (uintptr_t)b->block, (uintptr_t)b->block + b->block_size);
        return rc;
    }
    b->block = block;
    b->block_size = nblock;
    b->data = (char *)block + BUF_PREFIX;
    b->capacity = newcap;
    prefix_set(b);
    int rr = buf_reg_insert(b, (uintptr_t)block, (uintptr_t)block + nblock);
    return rc ? rc : rr;
}

int buf_resize(buf_t *b, size_t num_items) {
    if (!b)
        return BUF_EINVAL;
    if (b->kind != BUF_KIND_OWNED)
        return BUF_ENOTOWNED;
    if (b->flags & BUF_F_IMMUTABLE)
        return BUF_EIMMUTABLE;
    if (atomic_load(&b->nslices) > 0)
        return BUF_EBUSY;
    size_t size;
    if (__builtin_mul_overflow(num_items, b->item_size, &size))
        return BUF_EOVERFLOW;
    size_t cap = cap_for(size);
    if (!cap)
        return BUF_EOVERFLOW;
    int rc = buf_reblock(b, cap);
    if (rc && rc != BUF_ECANARY)
        return rc;
    size_t old = b->size < b->capacity ? b->size : b->capacity;
    b->size = size;
    b->num_items = num_items;
    fill_init(b, old, size);
    zero_padding(b);
    return rc;
}

void buf_retain(buf_t *b) { atomic_fetch_add(&b->refs, 1); }

/* Drop one reference: true when it was the last one and b must be destroyed
 * now (a delayed buffer joins the delayed list instead). */
static inline bool drop_ref(buf_t *b) {
    /* The sole reference needs no read-modify-write: nobody else can retain
     * a buffer they hold no reference to. */
    if (atomic_load_explicit(&b->refs, memory_order_acquire) != 1 &&
        atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel) != 1)
        return false;
    atomic_store_explicit(&b->refs, 0, memory_order_relaxed);
    if (b->flags & BUF_F_DELAYED) {
        buf_delayed_push(b);
        return false;
    }
    return true;
}

/* Destroy b; for a slice, return its parent, whose reference the slice held
 * (the caller drops it), else NULL.  The first error goes to *rc. */
static inline buf_t *destroy_one(buf_t *b, int *rc) {
    int r = BUF_OK;
    buf_t *parent = NULL;
    if (b->flags & BUF_F_EMBED) {
        /* handle and data are one block, the registry region (no death
         * callback): one free, with the pool reference; the fields read
         * here all lie in the handle's last cache line */
        buf_pool_t *pool = b->pool;
        void *block = (void *)b->lo;
        size_t total = b->hi - b->lo;
        if (buf_pool_shares_reg_lock(pool)) {
            /* out of the registry, pool statistics and reference: one lock;
             * the memory is freed only once the registry no longer has it */
            pthread_mutex_lock(&buf_reg_lock);
            buf_reg_remove_locked(b);
            bool last = buf_pool_count_free_locked(pool, total);
            pthread_mutex_unlock(&buf_reg_lock);
            buf_prefix_of((char *)b + BUF_EMB_HDR)->magic = 0;
            buf_pool_raw_free(pool, block);
            if (last)
                buf_pool_teardown(pool);
            return NULL;
        }
        buf_reg_remove(b);
        buf_prefix_of((char *)b + BUF_EMB_HDR)->magic = 0;
        r = buf_pool_free_unref(pool, block, total);
        if (rc && !*rc)
            *rc = r;
        return NULL;
    }
    if (b->on_death) {
        buf_death_info_t info = {b->data, b->size, b->item_size, b->num_items, b->id};
        b->on_death(&info, b->death_ctx);
    }
    buf_reg_remove(b);
    switch (b->kind) {
    case BUF_KIND_OWNED:
        buf_prefix_of(b->data)->magic = 0;
        r = buf_pool_free(b->pool, b->block, b->block_size);
        break;
    case BUF_KIND_CONSUMED:
        if (b->release)
            b->release(b->data, b->size, b->release_ctx);
        break;
    case BUF_KIND_SLICE:
        atomic_fetch_sub(&b->parent->nslices, 1);
        parent = b->parent;
        break;
    case BUF_KIND_DEVICE:
        r = buf_map_dev(dev_free(b->device, b->data));
        break;
    }
    if (rc && !*rc)
        *rc = r;
    handle_free(b, rc);
    return parent;
}

/* A slice's death drops its parent's reference here, in a loop rather than
 * by recursion, so that a long chain of slices of slices (each held only by
 * the next) cannot overflow the stack when its last slice goes. */
void buf_destroy(buf_t *b, int *rc) {
    while (b) {
        buf_t *parent = destroy_one(b, rc);
        b = parent && drop_ref(parent) ? parent : NULL;
    }
}

int buf_release(buf_t *b) {
    if (!b || !drop_ref(b))
        return BUF_OK;
    int rc = BUF_OK;
    buf_destroy(b, &rc);
    return rc;
}

void buf_set_delayed(buf_t *b, int on) {
    if (on)
        b->flags |= BUF_F_DELAYED;
    else
        b->flags &= ~BUF_F_DELAYED;
}

const void *buf_data(const buf_t *b) { return b->data; }

void *buf_mutable_data(buf_t *b) {
    return (b->flags & BUF_F_IMMUTABLE) || b->mem == BUF_MEM_DEVICE ? NULL : b->data;
}

size_t buf_size(const buf_t *b) { return b->size; }
size_t buf_capacity(const buf_t *b) { return b->capacity; }
size_t buf_item_size(const buf_t *b) { return b->item_size; }
size_t buf_num_items(const buf_t *b) { return b->num_items; }
uint64_t buf_id(const buf_t *b) { return b->id; }
buf_mem_t buf_memory(const buf_t *b) { return b->mem; }
int buf_is_mutable(const buf_t *b) { return !(b->flags & BUF_F_IMMUTABLE); }
long buf_refcount(const buf_t *b) { return atomic_load(&b->refs); }
buf_pool_t *buf_pool_of(const buf_t *b) { return b->pool; }

buf_t *buf_from_data(const void *p) {
    const buf_t *owner;
    if (!p || buf_registry_lookup((const char *)p - 1, 1, &owner) != BUF_OK)
        return NULL;
    if (owner->kind != BUF_KIND_OWNED || owner->data != p)
        return NULL;
    /* no reference left: released and waiting on the delayed list (it stays
     * in the registry) or being destroyed.  Handing it out would let the
     * caller retain it, and its next release would queue it a second time:
     * destroyed twice by the collection. */
    if (atomic_load(&owner->refs) == 0)
        return NULL;
    return (buf_t *)owner;
}
