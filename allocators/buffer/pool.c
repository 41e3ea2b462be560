/*
 * pool.c - memory pools of the buffer manager: a plain pool over one heap of
 * an allocator of the table, and wrappers over another pool (logging in the
 * trace format, capping, debug canaries), pinned host memory, and the
 * default pool chosen by MMBENCH_DEFAULT_POOL.
 *
 * Every pool counts what is asked of it (bytes now, peak, total, allocations,
 * frees), and its references, under its mutex (plain pools: the registry's,
 * buf_reg_lock, so table buffers take one lock per malloc and free).  Pool
 * structs and the logging pool's slot table come from mmap, never from the
 * allocator under test.
 */
#include "allocators/buffer/buf_internal.h"
#include "allocators/device/dev.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define BUF_CANARY 16
#define BUF_DBG_MAGIC 0x646267686472ull /* "dbghdr" */

/* Debug pool block: [pad][dbg_hdr_t][user n bytes][canary 16 bytes]; the
 * header sits right before the user bytes, hdr = its distance to the block. */
typedef struct dbg_hdr {
    uint64_t magic;
    size_t n, hdr;
    struct dbg_hdr *prev, *next;
    int reported;
} dbg_hdr_t;

/* Open-addressing map pointer -> slot (linear probing, key 0 = empty). */
typedef struct ptrmap_ent {
    uintptr_t key;
    uint64_t slot;
} ptrmap_ent_t;

struct buf_pool {
    buf_pool_kind_t kind;
    long refs;                /* under *lk: the caller's plus one per buffer/handle */
    pthread_mutex_t *lk;      /* guards refs and st: &buf_reg_lock for plain pools, else &lock */
    pthread_mutex_t lock;
    char name[96];
    const alloc_methods_t *m; /* plain */
    void *heap;
    bool owns_heap, emulate;
    buf_pool_t *parent;       /* wrappers */
    buf_pool_stats_t st;
    FILE *log;                /* logging */
    uint64_t next_slot;
    ptrmap_ent_t *map;
    size_t map_cap, map_n;
    size_t cap;               /* capping */
    dbg_hdr_t *live;          /* debug */
    char last_error[192];
};

/* ---- pool objects -------------------------------------------------------- */

static int pool_make(buf_pool_t **out, buf_pool_kind_t kind) {
    buf_pool_t *p = mmap(NULL, sizeof *p, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return BUF_ENOMEM;
    memset(p, 0, sizeof *p);
    p->kind = kind;
    p->refs = 1;
    pthread_mutex_init(&p->lock, NULL);
    p->lk = kind == BUF_POOL_PLAIN ? &buf_reg_lock : &p->lock;
    *out = p;
    return BUF_OK;
}

void buf_pool_retain(buf_pool_t *p) {
    pthread_mutex_lock(p->lk);
    p->refs++;
    pthread_mutex_unlock(p->lk);
}


void buf_pool_destroy(buf_pool_t *p) {
    if (!p)
        return;
    pthread_mutex_lock(p->lk);
    bool last = --p->refs == 0;
    pthread_mutex_unlock(p->lk);
    if (last)
        buf_pool_teardown(p);
}

/* The last reference is gone: free the pool (and drop its parent). */
void buf_pool_teardown(buf_pool_t *p) {
    if (p->owns_heap)
        alloc_fini(p->m, p->heap);
    if (p->map)
        munmap(p->map, p->map_cap * sizeof *p->map);
    if (p->parent)
        buf_pool_destroy(p->parent);
    pthread_mutex_destroy(&p->lock);
    munmap(p, sizeof *p);
}

int buf_pool_wrap(buf_pool_t **out, const alloc_methods_t *m, void *heap) {
    *out = NULL;
    if (!m || !m->malloc || !m->free)
        return BUF_EINVAL;
    if (m->flags & (ALLOC_DEVICE | ALLOC_WRAPPER))
        return BUF_EINVAL;
    int rc = pool_make(out, BUF_POOL_PLAIN);
    if (rc)
        return rc;
    (*out)->m = m;
    (*out)->heap = heap;
    (*out)->emulate = m->aligned == NULL;
    snprintf((*out)->name, sizeof (*out)->name, "%s", m->name);
    return BUF_OK;
}

int buf_pool_new(buf_pool_t **out, const char *name) { return buf_pool_new_cfg(out, name, NULL); }

int buf_pool_new_cfg(buf_pool_t **out, const char *name, const alloc_config_t *cfg) {
    *out = NULL;
    if (!name)
        return BUF_EINVAL;
    const char *inner;
    const alloc_methods_t *m = alloc_split_name(name, &inner);
    if (!m)
        return BUF_ENOALLOC;
    if (m->flags & (ALLOC_DEVICE | ALLOC_WRAPPER))
        return BUF_EINVAL;
    if (!alloc_is_available(m, NULL))
        return BUF_EUNAVAIL;
    void *heap;
    alloc_config_t c = {0};
    if (cfg)
        c = *cfg;
    c.inner = NULL;
    if (alloc_init(m, &c, &heap) != 0)
        return BUF_EINIT;
    int rc = buf_pool_wrap(out, m, heap);
    if (rc) {
        alloc_fini(m, heap);
        return rc;
    }
    (*out)->owns_heap = true;
    return BUF_OK;
}

static int pool_wrapper(buf_pool_t **out, buf_pool_t *parent, buf_pool_kind_t kind, const char *tag) {
    *out = NULL;
    if (!parent)
        return BUF_EINVAL;
    int rc = pool_make(out, kind);
    if (rc)
        return rc;
    buf_pool_retain(parent);
    (*out)->parent = parent;
    snprintf((*out)->name, sizeof (*out)->name, "%s(%.80s)", tag, parent->name);
    return BUF_OK;
}

int buf_pool_logging(buf_pool_t **out, buf_pool_t *parent, FILE *f) {
    *out = NULL; /* as every failed constructor leaves it */
    if (!f)
        return BUF_EINVAL;
    int rc = pool_wrapper(out, parent, BUF_POOL_LOG, "log");
    if (!rc)
        (*out)->log = f;
    return rc;
}

int buf_pool_capped(buf_pool_t **out, buf_pool_t *parent, size_t cap) {
    int rc = pool_wrapper(out, parent, BUF_POOL_CAP, "cap");
    if (!rc)
        (*out)->cap = cap;
    return rc;
}

int buf_pool_debug(buf_pool_t **out, buf_pool_t *parent) {
    return pool_wrapper(out, parent, BUF_POOL_DEBUG, "debug");
}

int buf_pool_pinned(buf_pool_t **out) {
    *out = NULL;
    if (!dev_available(NULL))
        return BUF_ENODEV;
    int rc = pool_make(out, BUF_POOL_PINNED);
    if (!rc)
        snprintf((*out)->name, sizeof (*out)->name, "cuda-pinned");
    return rc;
}

bool buf_pool_is_pinned(const buf_pool_t *p) {
    while (p && p->parent) /* logging, capping, debug: their blocks are the parent's */
        p = p->parent;
    return p && p->kind == BUF_POOL_PINNED;
}

const char *buf_pool_name(const buf_pool_t *p) { return p->name; }

void buf_pool_get_stats(buf_pool_t *p, buf_pool_stats_t *out) {
    pthread_mutex_lock(p->lk);
    *out = p->st;
    pthread_mutex_unlock(p->lk);
}

int buf_pool_inner(buf_pool_t *p, const alloc_methods_t **m, void **heap) {
    while (p->parent)
        p = p->parent;
    *m = p->m;
    *heap = p->heap;
    return p->m ? BUF_OK : BUF_EINVAL;
}

bool buf_pool_host(const buf_pool_t *p) { (void)p; return true; }

/* ---- the logging pool's slot map --------------------------------------------- */

static size_t ptrmap_hash(uintptr_t k, size_t cap) {
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdull;
    k ^= k >> 33;
    return (size_t)k & (cap - 1);
}

static int ptrmap_put(buf_pool_t *p, uintptr_t key, uint64_t slot);

static int ptrmap_grow(buf_pool_t *p) {
    size_t ncap = p->map_cap ? p->map_cap * 2 : 1024;
    ptrmap_ent_t *old = p->map;
    size_t ocap = p->map_cap;
    ptrmap_ent_t *nm = mmap(NULL, ncap * sizeof *nm, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (nm == MAP_FAILED)
        return BUF_ENOMEM;
    p->map = nm;
    p->map_cap = ncap;
    p->map_n = 0;
    for (size_t i = 0; i < ocap; i++)
        if (old[i].key)
            ptrmap_put(p, old[i].key, old[i].slot);
    if (old)
        munmap(old, ocap * sizeof *old);
    return BUF_OK;
}

static int ptrmap_put(buf_pool_t *p, uintptr_t key, uint64_t slot) {
    if ((p->map_n + 1) * 2 > p->map_cap && ptrmap_grow(p))
        return BUF_ENOMEM;
    size_t i = ptrmap_hash(key, p->map_cap);
    while (p->map[i].key && p->map[i].key != key)
        i = (i + 1) & (p->map_cap - 1);
    if (!p->map[i].key)
        p->map_n++;
    p->map[i].key = key;
    p->map[i].slot = slot;
    return BUF_OK;
}

/* Remove key; returns its slot or UINT64_MAX. Backward-shift deletion. */
static uint64_t ptrmap_take(buf_pool_t *p, uintptr_t key) {
    if (!p->map_cap)
        return UINT64_MAX;
    size_t mask = p->map_cap - 1, i = ptrmap_hash(key, p->map_cap);
    while (p->map[i].key != key) {
        if (!p->map[i].key)
            return UINT64_MAX;
        i = (i + 1) & mask;
    }
    uint64_t slot = p->map[i].slot;
    size_t j = i;
    for (;;) {
        j = (j + 1) & mask;
        if (!p->map[j].key)
            break;
        size_t h = ptrmap_hash(p->map[j].key, p->map_cap);
        /* move j back to i unless its home lies cyclically in (i, j] */
        if ((j > i && (h <= i || h > j)) || (j < i && (h <= i && h > j))) {
            p->map[i] = p->map[j];
            i = j;
        }
    }
    p->map[i].key = 0;
    p->map_n--;
    return slot;
}

/* ---- statistics ----------------------------------------------------------------- */

static void st_alloc(buf_pool_t *p, size_t n) {
    p->st.bytes_now += n;
    p->st.total += n;
    p->st.allocations++;
    if (p->st.bytes_now > p->st.peak)
        p->st.peak = p->st.bytes_now;
}

static void st_free(buf_pool_t *p, size_t n) {
    p->st.bytes_now -= n;
    p->st.frees++;
}

/* A capping pool counts an allocation before its parent serves it (so that
 * two threads cannot both pass the cap); when the parent then fails, the
 * peak that reservation set (bytes_now was `reserved`, the peak `peak`
 * before) goes back too, unless later allocations have raised it since. */
static void st_unreserve(buf_pool_t *p, uint64_t peak, uint64_t reserved) {
    if (p->st.peak == reserved)
        p->st.peak = peak;
}

/* ---- canaries -------------------------------------------------------------------- */

static unsigned char canary_byte(size_t i) { return (unsigned char)(0xA5 ^ (i * 29)); }

static void canary_put(unsigned char *end) {
    for (size_t i = 0; i < BUF_CANARY; i++)
        end[i] = canary_byte(i);
}

/* Bytes of the canary that were overwritten, 0 if intact. */
static size_t canary_damage(const unsigned char *end) {
    size_t bad = 0;
    for (size_t i = 0; i < BUF_CANARY; i++)
        bad += end[i] != canary_byte(i);
    return bad;
}

static void canary_report(buf_pool_t *p, dbg_hdr_t *h, const char *when) {
    if (h->reported)
        return;
    h->reported = 1;
    p->st.canary_errors++;
    snprintf(p->last_error, sizeof p->last_error,
             "canary overwritten %s: write past the end of the %zu-byte block at %p",
             when, h->n, (void *)(h + 1));
}

/* ---- raw allocation ---------------------------------------------------------------- */

static void *plain_alloc(buf_pool_t *p, size_t n, size_t align) {
    if (n == 0)
        n = 1;
    if (p->emulate) {
        if (n > SIZE_MAX - align - sizeof(void *))
            return NULL;
        char *raw = p->m->malloc(p->heap, n + align + sizeof(void *));
        if (!raw)
            return NULL;
        uintptr_t a = ((uintptr_t)raw + sizeof(void *) + align - 1) & ~(uintptr_t)(align - 1);
        ((void **)a)[-1] = raw;
        return (void *)a;
    }
    if (align <= 16)
        return p->m->malloc(p->heap, n);
    return alloc_aligned(p->m, p->heap, align, n);
}

static void plain_free(buf_pool_t *p, void *q) {
    p->m->free(p->heap, p->emulate ? ((void **)q)[-1] : q);
}

static void *libc_alloc(size_t n, size_t align) {
    void *q = NULL;
    return posix_memalign(&q, align, n ? n : 1) == 0 ? q : NULL;
}

/* ref: also take a reference on p, in the same critical section as the
 * statistics (one lock per allocation for handles and table buffers). */
static int pool_alloc(buf_pool_t *p, size_t n, size_t align, void **out, long ref) {
    *out = NULL;
    if (!p || (align & (align - 1)))
        return BUF_EINVAL;
    if (align < 16)
        align = 16;
    int rc = BUF_OK;
    void *q = NULL;
    switch (p->kind) {
    case BUF_POOL_PLAIN:
        q = plain_alloc(p, n, align);
        break;
    case BUF_POOL_LIBC:
        q = libc_alloc(n, align);
        break;
    case BUF_POOL_PINNED: {
        int d = dev_host_alloc(n, &q);
        if (d)
            return buf_map_dev(d);
        /* cudaMallocHost promises no alignment, and the block cannot be
         * over-allocated (its free must get the pointer cudaMallocHost
         * gave): one not aligned as asked is refused, not handed out */
        if ((uintptr_t)q & (align - 1)) {
            dev_host_free(q);
            return BUF_EINVAL;
        }
        break;
    }
    case BUF_POOL_CAP: {
        pthread_mutex_lock(p->lk);
        if (n > p->cap || p->st.bytes_now > p->cap - n) {
            p->st.refused++;
            pthread_mutex_unlock(p->lk);
            return BUF_ECAP;
        }
        uint64_t peak = p->st.peak;
        st_alloc(p, n);
        uint64_t reserved = p->st.bytes_now;
        p->refs += ref;
        pthread_mutex_unlock(p->lk);
        rc = buf_pool_alloc(p->parent, n, align, out);
        if (rc) {
            pthread_mutex_lock(p->lk);
            st_unreserve(p, peak, reserved);
            p->st.bytes_now -= n;
            p->st.total -= n;
            p->st.allocations--;
            p->refs -= ref;
            pthread_mutex_unlock(p->lk);
        }
        return rc;
    }
    case BUF_POOL_LOG:
        rc = buf_pool_alloc(p->parent, n, align, &q);
        if (rc)
            return rc;
        pthread_mutex_lock(p->lk);
        uint64_t slot = p->next_slot++;
        if (ptrmap_put(p, (uintptr_t)q, slot)) {
            rc = BUF_ENOMEM;
        } else if (fprintf(p->log, "a %" PRIu64 " %zu\n", slot, n) < 0) {
            /* the block goes back to the parent below: forget it, or a later
             * block of someone else's at that address would pass for ours */
            ptrmap_take(p, (uintptr_t)q);
            rc = BUF_EIO;
        }
        if (!rc) {
            st_alloc(p, n);
            p->refs += ref;
        }
        pthread_mutex_unlock(p->lk);
        if (rc) {
            buf_pool_free(p->parent, q, n);
            return rc;
        }
        *out = q;
        return BUF_OK;
    case BUF_POOL_DEBUG: {
        size_t hdr = (sizeof(dbg_hdr_t) + align - 1) & ~(align - 1);
        if (n > SIZE_MAX - hdr - BUF_CANARY)
            return BUF_ENOMEM;
        char *block;
        rc = buf_pool_alloc(p->parent, hdr + n + BUF_CANARY, align, (void **)&block);
        if (rc)
            return rc;
        q = block + hdr;
        dbg_hdr_t *h = (dbg_hdr_t *)q - 1;
        *h = (dbg_hdr_t){.magic = BUF_DBG_MAGIC, .n = n, .hdr = hdr};
        canary_put((unsigned char *)q + n);
        pthread_mutex_lock(p->lk);
        h->next = p->live;
        if (p->live)
            p->live->prev = h;
        p->live = h;
        st_alloc(p, n);
        p->refs += ref;
        pthread_mutex_unlock(p->lk);
        *out = q;
        return BUF_OK;
    }
    }
    if (!q)
        return BUF_ENOMEM;
    pthread_mutex_lock(p->lk);
    st_alloc(p, n);
    p->refs += ref;
    pthread_mutex_unlock(p->lk);
    *out = q;
    return BUF_OK;
}

int buf_pool_alloc(buf_pool_t *p, size_t n, size_t align, void **out) {
    return pool_alloc(p, n, align, out, 0);
}

int buf_pool_alloc_ref(buf_pool_t *p, size_t n, size_t align, void **out) {
    return pool_alloc(p, n, align, out, 1);
}

/* unref: also drop a reference on p with the statistics; the last one
 * tears the pool down after the free. */
static int pool_free(buf_pool_t *p, void *q, size_t n, long unref) {
    if (!q) {
        if (unref)
            buf_pool_destroy(p);
        return BUF_OK;
    }
    int rc = BUF_OK;
    switch (p->kind) {
    case BUF_POOL_PLAIN:
        plain_free(p, q);
        break;
    case BUF_POOL_LIBC:
        free(q);
        break;
    case BUF_POOL_PINNED:
        rc = buf_map_dev(dev_host_free(q));
        break;
    case BUF_POOL_CAP:
        rc = buf_pool_free(p->parent, q, n);
        if (rc == BUF_EFOREIGN) {
            /* the parent (logging, debug) refused it and freed nothing:
             * counting the free would take bytes_now below what is live
             * (wrapping past 0, so that every later allocation is refused) */
            if (unref)
                buf_pool_destroy(p);
            return rc;
        }
        break;
    case BUF_POOL_LOG: {
        pthread_mutex_lock(p->lk);
        uint64_t slot = ptrmap_take(p, (uintptr_t)q);
        if (slot == UINT64_MAX)
            rc = BUF_EFOREIGN;
        else if (fprintf(p->log, "f %" PRIu64 "\n", slot) < 0)
            rc = BUF_EIO;
        pthread_mutex_unlock(p->lk);
        if (rc == BUF_EFOREIGN) {
            /* not ours: handing it to the parent could free memory another
             * pool owns (the debug pool refuses the same way) */
            if (unref)
                buf_pool_destroy(p);
            return rc;
        }
        int prc = buf_pool_free(p->parent, q, n);
        rc = rc ? rc : prc;
        break;
    }
    case BUF_POOL_DEBUG: {
        dbg_hdr_t *h = (dbg_hdr_t *)q - 1;
        if (h->magic != BUF_DBG_MAGIC) {
            if (unref)
                buf_pool_destroy(p);
            return BUF_EFOREIGN;
        }
        pthread_mutex_lock(p->lk);
        if (canary_damage((unsigned char *)q + h->n)) {
            canary_report(p, h, "at free");
            rc = BUF_ECANARY;
        }
        if (h->prev)
            h->prev->next = h->next;
        else
            p->live = h->next;
        if (h->next)
            h->next->prev = h->prev;
        h->magic = 0;
        size_t total = h->hdr + h->n + BUF_CANARY;
        n = h->n;
        pthread_mutex_unlock(p->lk);
        int prc = buf_pool_free(p->parent, (char *)q - h->hdr, total);
        rc = rc ? rc : prc;
        break;
    }
    }
    pthread_mutex_lock(p->lk);
    st_free(p, n);
    bool last = unref && (p->refs -= unref) == 0;
    pthread_mutex_unlock(p->lk);
    if (last)
        buf_pool_teardown(p);
    return rc;
}

int buf_pool_free(buf_pool_t *p, void *q, size_t n) { return pool_free(p, q, n, 0); }

int buf_pool_free_unref(buf_pool_t *p, void *q, size_t n) { return pool_free(p, q, n, 1); }

/* ---- table buffers over a plain pool: one lock per malloc and free ------------------ */

bool buf_pool_shares_reg_lock(const buf_pool_t *p) { return p->lk == &buf_reg_lock; }

void *buf_pool_raw_alloc(buf_pool_t *p, size_t n) { return plain_alloc(p, n, 16); }

void buf_pool_raw_free(buf_pool_t *p, void *q) { plain_free(p, q); }

void buf_pool_count_alloc_locked(buf_pool_t *p, size_t n) {
    st_alloc(p, n);
    p->refs++;
}

bool buf_pool_count_free_locked(buf_pool_t *p, size_t n) {
    st_free(p, n);
    return --p->refs == 0;
}


/* Realloc as allocate + copy + free through the pool itself (counts as one
 * allocation and one free, like every realloc). */
static int realloc_by_copy(buf_pool_t *p, void **pp, size_t old_n, size_t new_n, size_t align) {
    void *q;
    int rc = buf_pool_alloc(p, new_n, align, &q);
    if (rc)
        return rc;
    memcpy(q, *pp, old_n < new_n ? old_n : new_n);
    rc = buf_pool_free(p, *pp, old_n);
    *pp = q;
    return rc;
}

static void st_realloc(buf_pool_t *p, size_t old_n, size_t new_n) {
    st_free(p, old_n);
    st_alloc(p, new_n);
}

int buf_pool_realloc(buf_pool_t *p, void **pp, size_t old_n, size_t new_n, size_t align) {
    if (!p || (align & (align - 1)))
        return BUF_EINVAL;
    if (!*pp)
        return buf_pool_alloc(p, new_n, align, pp);
    if (align < 16)
        align = 16;
    int rc;
    switch (p->kind) {
    case BUF_POOL_PLAIN: {
        if (align > 16) {
            /* An allocator's realloc keeps only its own 16-byte alignment,
             * and once it has moved the block the old one is gone: were the
             * new one misaligned and no aligned block to be had, neither the
             * old contents nor the caller's pointer would survive.  So: in
             * place when the block already has the room (its usable size)
             * and is not being cut below half, else allocate, copy, free,
             * which on failure leaves the old block as it was. */
            if (!p->emulate && p->m->usable_size && new_n <= p->m->usable_size(p->heap, *pp) &&
                new_n >= old_n / 2) {
                pthread_mutex_lock(p->lk);
                st_realloc(p, old_n, new_n);
                pthread_mutex_unlock(p->lk);
                return BUF_OK;
            }
            return realloc_by_copy(p, pp, old_n, new_n, align);
        }
        if (p->emulate || !p->m->realloc)
            return realloc_by_copy(p, pp, old_n, new_n, align);
        void *q = p->m->realloc(p->heap, *pp, new_n ? new_n : 1);
        if (!q)
            return BUF_ENOMEM; /* the old block is as it was */
        *pp = q; /* 16-byte aligned, as every block of the allocator */
        pthread_mutex_lock(p->lk);
        st_realloc(p, old_n, new_n);
        pthread_mutex_unlock(p->lk);
        return BUF_OK;
    }
    case BUF_POOL_CAP: {
        pthread_mutex_lock(p->lk);
        if (new_n > p->cap || p->st.bytes_now - old_n > p->cap - new_n) {
            p->st.refused++;
            pthread_mutex_unlock(p->lk);
            return BUF_ECAP;
        }
        uint64_t peak = p->st.peak;
        st_realloc(p, old_n, new_n);
        uint64_t reserved = p->st.bytes_now;
        pthread_mutex_unlock(p->lk);
        rc = buf_pool_realloc(p->parent, pp, old_n, new_n, align);
        if (rc && rc != BUF_ECANARY) {
            pthread_mutex_lock(p->lk);
            st_unreserve(p, peak, reserved);
            p->st.bytes_now = p->st.bytes_now - new_n + old_n;
            p->st.total -= new_n;
            p->st.allocations--;
            p->st.frees--;
            pthread_mutex_unlock(p->lk);
        }
        return rc;
    }
    case BUF_POOL_LOG: {
        void *old = *pp;
        /* The slot leaves the map before the parent moves the block, and a
         * pointer this pool never handed out is refused here, as
         * buf_pool_free refuses it (the parent's realloc would move, that
         * is free, a block someone else owns).  Taken out only after the
         * move, the entry would still name the old address once the parent
         * had freed it: another thread's allocation there would overwrite
         * it, and this realloc would then take and trace that thread's slot
         * ("r" of the wrong slot), leaving its block foreign to the pool. */
        pthread_mutex_lock(p->lk);
        uint64_t slot = ptrmap_take(p, (uintptr_t)old);
        pthread_mutex_unlock(p->lk);
        if (slot == UINT64_MAX)
            return BUF_EFOREIGN;
        rc = buf_pool_realloc(p->parent, pp, old_n, new_n, align);
        pthread_mutex_lock(p->lk);
        if (rc && rc != BUF_ECANARY) {
            /* not moved: the block is still ours, under its slot */
            ptrmap_put(p, (uintptr_t)old, slot);
            pthread_mutex_unlock(p->lk);
            return rc;
        }
        if (ptrmap_put(p, (uintptr_t)*pp, slot))
            rc = BUF_ENOMEM;
        else if (fprintf(p->log, "r %" PRIu64 " %zu\n", slot, new_n) < 0)
            rc = BUF_EIO;
        st_realloc(p, old_n, new_n);
        pthread_mutex_unlock(p->lk);
        return rc;
    }
    case BUF_POOL_DEBUG:
        /* refuse a foreign pointer up front (buf_pool_free would, but only
         * after realloc_by_copy had made and counted the new block, which
         * the caller, told of an error, would then leak) */
        if (((dbg_hdr_t *)*pp - 1)->magic != BUF_DBG_MAGIC)
            return BUF_EFOREIGN;
        return realloc_by_copy(p, pp, old_n, new_n, align);
    default:
        return realloc_by_copy(p, pp, old_n, new_n, align);
    }
}

int buf_pool_check(buf_pool_t *p, size_t *nbad) {
    size_t bad = 0;
    if (p->kind == BUF_POOL_DEBUG) {
        pthread_mutex_lock(p->lk);
        for (dbg_hdr_t *h = p->live; h; h = h->next)
            if (canary_damage((unsigned char *)(h + 1) + h->n)) {
                bad++;
                canary_report(p, h, "on check");
            }
        pthread_mutex_unlock(p->lk);
    }
    if (nbad)
        *nbad = bad;
    return bad ? BUF_ECANARY : BUF_OK;
}

const char *buf_pool_last_error(buf_pool_t *p) { return p->last_error; }

/* ---- the default pool -------------------------------------------------------------- */

static pthread_mutex_t buf_def_lock = PTHREAD_MUTEX_INITIALIZER;
static buf_pool_t *buf_def_pool;

void buf_pool_refusal(const char *name, int rc, char *why, size_t len) {
    const char *inner;
    const alloc_methods_t *m = alloc_split_name(name, &inner);
    const char *reason = NULL;
    if (rc == BUF_EINVAL && m && (m->flags & ALLOC_DEVICE))
        snprintf(why, len, "%s is a device allocator, whose memory the CPU cannot use, and buffers need host memory",
                 m->name);
    else if (rc == BUF_EINVAL && m && (m->flags & ALLOC_WRAPPER))
        snprintf(why, len, "the buffer manager cannot draw a pool from itself; name an allocator alone, like %s",
                 inner ? inner : "glibc");
    else if (rc == BUF_EUNAVAIL && m && !alloc_is_available(m, &reason))
        snprintf(why, len, "%s is unavailable: %s", m->name, reason);
    else if (rc == BUF_EINIT && alloc_last_error()[0])
        snprintf(why, len, "%s", alloc_last_error()); /* names the allocator: "jemalloc: ..." */
    else
        snprintf(why, len, "%s", buf_strerror(rc));
}

static int default_make(buf_pool_t **out) {
    const char *want = getenv("MMBENCH_DEFAULT_POOL");
    if (!want || !*want)
        want = "glibc";
    int rc = buf_pool_new(out, want);
    if (rc == BUF_OK)
        return BUF_OK;
    int why = rc;
    char reason[640];
    buf_pool_refusal(want, rc, reason, sizeof reason);
    const char *to = "glibc";
    if (strcmp(want, "glibc") == 0 || buf_pool_new(out, "glibc") != BUF_OK) {
        to = "the C library directly";
        if (pool_make(out, BUF_POOL_LIBC) != BUF_OK)
            abort(); /* cannot continue: not even one page for a pool struct */
        snprintf((*out)->name, sizeof (*out)->name, "libc");
    }
    fprintf(stderr, "mmbench: warning: MMBENCH_DEFAULT_POOL=%s: %s; using %s\n", want, reason, to);
    return why == BUF_ENOALLOC ? BUF_ENOALLOC : BUF_EUNAVAIL;
}

buf_pool_t *buf_pool_default(void) {
    (void)buf_table_linked();
    pthread_mutex_lock(&buf_def_lock);
    if (!buf_def_pool)
        default_make(&buf_def_pool);
    buf_pool_t *p = buf_def_pool;
    pthread_mutex_unlock(&buf_def_lock);
    return p;
}

int buf_pool_default_reload(void) {
    buf_pool_t *np;
    int rc = default_make(&np);
    pthread_mutex_lock(&buf_def_lock);
    buf_pool_t *old = buf_def_pool;
    buf_def_pool = np;
    pthread_mutex_unlock(&buf_def_lock);
    buf_pool_destroy(old);
    return rc;
}

void buf_pool_default_drop(void) {
    pthread_mutex_lock(&buf_def_lock);
    buf_pool_t *old = buf_def_pool;
    buf_def_pool = NULL;
    pthread_mutex_unlock(&buf_def_lock);
    buf_pool_destroy(old);
}

buf_pool_t *buf_pool_resolve(const buf_opts_t *o) {
    return o && o->pool ? o->pool : buf_pool_default();
}
