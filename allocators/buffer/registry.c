/*
 * registry.c - the overlap registry (every region the manager knows: owned
 * blocks, consumed memory, device memory) and the delayed-release list.
 *
 * The registry is a B+tree keyed by the region's start address.  Leaves hold
 * sorted arrays of (start, end, owner); inner nodes hold the exact smallest
 * start of each child.  Nodes come from mmap'd slabs (never from the
 * allocator under test) and are reused through a free list, so a lookup
 * touches a few compact, cache-friendly nodes instead of scattered handles.
 * Regions in it never intersect (an insert that would intersect is
 * refused), so the region with the greatest start below a new region's end
 * is the only one that can overlap it: insert, remove and the overlap query
 * are O(log n) (height log_16 n).  The delayed list is intrusive (links in
 * buf_t).  One mutex each; plain pools keep their statistics under the
 * registry's (buf_reg_lock).
 */
#include "allocators/buffer/buf_internal.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define RN_MAX 32               /* entries per leaf / children per inner node */
#define RN_MIN (RN_MAX / 2)     /* fill of every node but the root */

typedef struct rnode {
    int n;                      /* entries (leaf) or children (inner) */
    int leaf;
    uintptr_t key[RN_MAX];      /* leaf: region start; inner: child's smallest start */
    union {
        struct {
            uintptr_t hi[RN_MAX];
            buf_t *own[RN_MAX];
        } l;
        struct rnode *child[RN_MAX];
    } u;
} rnode_t;

/* The registry's mutex; plain pools keep their statistics under it too
 * (buf_internal.h), so a table buffer's malloc and free take one lock. */
pthread_mutex_t buf_reg_lock = PTHREAD_MUTEX_INITIALIZER;
#define reg_lock buf_reg_lock
static rnode_t *reg_root;
static size_t reg_n;
static uint64_t reg_next_id = 1; /* buffer ids (buf_reg_next_id) */
static rnode_t *rn_free;        /* free nodes, linked through child[0] */
static size_t rn_nfree;

#define RN_SLAB (256 * 1024)

/* Map one more slab of nodes onto the free list. */
static int rn_slab(void) {
    char *s = mmap(NULL, RN_SLAB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (s == MAP_FAILED)
        return BUF_ENOMEM;
    for (size_t off = RN_SLAB / sizeof(rnode_t) * sizeof(rnode_t); off;) {
        off -= sizeof(rnode_t);
        rnode_t *x = (rnode_t *)(s + off);
        x->u.child[0] = rn_free;
        rn_free = x;
        rn_nfree++;
    }
    return BUF_OK;
}

/* Callers reserve first (rn_reserve), so this never fails. */
static rnode_t *rn_new(int leaf) {
    rnode_t *x = rn_free;
    rn_free = x->u.child[0];
    rn_nfree--;
    x->n = 0;
    x->leaf = leaf;
    return x;
}

static void rn_del(rnode_t *x) {
    x->u.child[0] = rn_free;
    rn_free = x;
    rn_nfree++;
}

/* Make sure an insert finds the nodes it may need: one per level plus a new
 * root.  Returns 0 or BUF_ENOMEM (then nothing was changed). */
static int rn_reserve(void) {
    size_t need = 2;
    for (rnode_t *x = reg_root; x && !x->leaf; x = x->u.child[0])
        need++;
    while (rn_nfree < need)
        if (rn_slab())
            return BUF_ENOMEM;
    return BUF_OK;
}

/* Number of keys of x that are < k.  The keys are sorted, so this is the
 * position of k; counting all of them (no early exit, no dependent probes)
 * lets the node's cache lines load in parallel, where a binary search
 * waits for one line per probe (and mispredicts). */
static inline int rn_count_below(const rnode_t *x, uintptr_t k) {
    int c = 0;
    for (int i = 0; i < x->n; i++)
        c += x->key[i] < k;
    return c;
}

/* Child of inner node x that holds (or would hold) key k. */
static int rn_child_for(const rnode_t *x, uintptr_t k) {
    int i = rn_count_below(x, k + 1) - 1; /* last key <= k; k + 1 never wraps for a start */
    return i < 0 ? 0 : i;
}

/* The leaf entry with the greatest start < hi: *leaf and *idx, or 0. */
static int below(uintptr_t hi, rnode_t **leaf, int *idx) {
    rnode_t *x = reg_root;
    if (!x || !x->n)
        return 0;
    while (!x->leaf) {
        int i = rn_count_below(x, hi) - 1;
        if (i < 0)
            return 0;
        x = x->u.child[i];
    }
    int j = rn_count_below(x, hi) - 1;
    if (j < 0)
        return 0;
    *leaf = x;
    *idx = j;
    return 1;
}

static void leaf_put(rnode_t *x, int pos, uintptr_t lo, uintptr_t hi, buf_t *b) {
    int m = x->n - pos;
    memmove(&x->key[pos + 1], &x->key[pos], (size_t)m * sizeof x->key[0]);
    memmove(&x->u.l.hi[pos + 1], &x->u.l.hi[pos], (size_t)m * sizeof x->u.l.hi[0]);
    memmove(&x->u.l.own[pos + 1], &x->u.l.own[pos], (size_t)m * sizeof x->u.l.own[0]);
    x->key[pos] = lo;
    x->u.l.hi[pos] = hi;
    x->u.l.own[pos] = b;
    x->n++;
}

static void inner_put(rnode_t *x, int pos, uintptr_t k, rnode_t *c) {
    int m = x->n - pos;
    memmove(&x->key[pos + 1], &x->key[pos], (size_t)m * sizeof x->key[0]);
    memmove(&x->u.child[pos + 1], &x->u.child[pos], (size_t)m * sizeof x->u.child[0]);
    x->key[pos] = k;
    x->u.child[pos] = c;
    x->n++;
}

/* Move entries [from, n) of x to the front of the empty node y. */
static void rn_move_tail(rnode_t *x, int from, rnode_t *y) {
    int m = x->n - from;
    memcpy(y->key, &x->key[from], (size_t)m * sizeof x->key[0]);
    if (x->leaf) {
        memcpy(y->u.l.hi, &x->u.l.hi[from], (size_t)m * sizeof x->u.l.hi[0]);
        memcpy(y->u.l.own, &x->u.l.own[from], (size_t)m * sizeof x->u.l.own[0]);
    } else {
        memcpy(y->u.child, &x->u.child[from], (size_t)m * sizeof x->u.child[0]);
    }
    y->n = m;
    x->n = from;
}

/* Insert [lo, hi) into the subtree x, or refuse it (BUF_EOVERLAP, nothing
 * changed) when it intersects a region there.  bound is the smallest start
 * after the subtree (UINTPTR_MAX: none).  The descent itself finds the two
 * regions that could intersect: the greatest start below lo (in the same
 * leaf, or else no region before lo can reach it) and the smallest start at
 * or above lo (in the leaf, or bound).  When x was full it splits and
 * *spill is its new right sibling.  Nodes were reserved, so the insert
 * itself cannot fail. */
static int rn_insert(rnode_t *x, uintptr_t lo, uintptr_t hi, buf_t *b, uintptr_t bound, rnode_t **spill) {
    *spill = NULL;
    if (x->leaf) {
        int pos = rn_count_below(x, lo);
        if ((pos > 0 && x->u.l.hi[pos - 1] > lo) || (pos < x->n ? x->key[pos] : bound) < hi)
            return BUF_EOVERLAP;
        if (x->n < RN_MAX) {
            leaf_put(x, pos, lo, hi, b);
            return BUF_OK;
        }
        rnode_t *y = rn_new(1);
        rn_move_tail(x, RN_MAX / 2, y);
        if (pos <= x->n)
            leaf_put(x, pos, lo, hi, b);
        else
            leaf_put(y, pos - x->n, lo, hi, b);
        *spill = y;
        return BUF_OK;
    }
    int i = rn_child_for(x, lo);
    rnode_t *cs;
    int rc = rn_insert(x->u.child[i], lo, hi, b, i + 1 < x->n ? x->key[i + 1] : bound, &cs);
    if (rc)
        return rc;
    x->key[i] = x->u.child[i]->key[0];
    if (!cs)
        return BUF_OK;
    if (x->n < RN_MAX) {
        inner_put(x, i + 1, cs->key[0], cs);
        return BUF_OK;
    }
    rnode_t *y = rn_new(0);
    rn_move_tail(x, RN_MAX / 2, y);
    if (i + 1 <= x->n)
        inner_put(x, i + 1, cs->key[0], cs);
    else
        inner_put(y, i + 1 - x->n, cs->key[0], cs);
    *spill = y;
    return BUF_OK;
}

/* Rebalance child i of inner node x after it fell below RN_MIN. */
static void rn_fix(rnode_t *x, int i) {
    rnode_t *c = x->u.child[i];
    if (i > 0 && x->u.child[i - 1]->n > RN_MIN) {
        rnode_t *l = x->u.child[i - 1];
        int last = l->n - 1;
        if (c->leaf)
            leaf_put(c, 0, l->key[last], l->u.l.hi[last], l->u.l.own[last]);
        else
            inner_put(c, 0, l->key[last], l->u.child[last]);
        l->n--;
        x->key[i] = c->key[0];
        return;
    }
    if (i + 1 < x->n && x->u.child[i + 1]->n > RN_MIN) {
        rnode_t *r = x->u.child[i + 1];
        if (c->leaf)
            leaf_put(c, c->n, r->key[0], r->u.l.hi[0], r->u.l.own[0]);
        else
            inner_put(c, c->n, r->key[0], r->u.child[0]);
        int m = r->n - 1;
        memmove(&r->key[0], &r->key[1], (size_t)m * sizeof r->key[0]);
        if (r->leaf) {
            memmove(&r->u.l.hi[0], &r->u.l.hi[1], (size_t)m * sizeof r->u.l.hi[0]);
            memmove(&r->u.l.own[0], &r->u.l.own[1], (size_t)m * sizeof r->u.l.own[0]);
        } else {
            memmove(&r->u.child[0], &r->u.child[1], (size_t)m * sizeof r->u.child[0]);
        }
        r->n = m;
        x->key[i + 1] = r->key[0];
        x->key[i] = c->key[0];
        return;
    }
    /* merge with a sibling: the right one of the pair is emptied into the left */
    int a = i > 0 ? i - 1 : i;
    if (a + 1 >= x->n)
        return; /* x has one child: only the root can, and it collapses */
    rnode_t *l = x->u.child[a], *r = x->u.child[a + 1];
    memcpy(&l->key[l->n], r->key, (size_t)r->n * sizeof r->key[0]);
    if (l->leaf) {
        memcpy(&l->u.l.hi[l->n], r->u.l.hi, (size_t)r->n * sizeof r->u.l.hi[0]);
        memcpy(&l->u.l.own[l->n], r->u.l.own, (size_t)r->n * sizeof r->u.l.own[0]);
    } else {
        memcpy(&l->u.child[l->n], r->u.child, (size_t)r->n * sizeof r->u.child[0]);
    }
    l->n += r->n;
    rn_del(r);
    int m = x->n - (a + 2);
    memmove(&x->key[a + 1], &x->key[a + 2], (size_t)m * sizeof x->key[0]);
    memmove(&x->u.child[a + 1], &x->u.child[a + 2], (size_t)m * sizeof x->u.child[0]);
    x->n--;
}

/* Remove the entry starting at lo from subtree x; 1 if it was there. */
static int rn_remove(rnode_t *x, uintptr_t lo, const buf_t *b) {
    if (x->leaf) {
        int j = rn_count_below(x, lo);
        if (j >= x->n || x->key[j] != lo || x->u.l.own[j] != b)
            return 0;
        int m = x->n - j - 1;
        memmove(&x->key[j], &x->key[j + 1], (size_t)m * sizeof x->key[0]);
        memmove(&x->u.l.hi[j], &x->u.l.hi[j + 1], (size_t)m * sizeof x->u.l.hi[0]);
        memmove(&x->u.l.own[j], &x->u.l.own[j + 1], (size_t)m * sizeof x->u.l.own[0]);
        x->n--;
        return 1;
    }
    int i = rn_child_for(x, lo);
    rnode_t *c = x->u.child[i];
    if (!rn_remove(c, lo, b))
        return 0;
    if (c->n)
        x->key[i] = c->key[0];
    if (c->n < RN_MIN)
        rn_fix(x, i);
    return 1;
}

int buf_reg_insert_locked(buf_t *b, uintptr_t lo, uintptr_t hi) {
    if (hi <= lo)
        return BUF_EINVAL;
    int rc = rn_reserve();
    if (rc)
        return rc;
    if (!reg_root)
        reg_root = rn_new(1);
    rnode_t *spill;
    rc = rn_insert(reg_root, lo, hi, b, UINTPTR_MAX, &spill);
    if (rc)
        return rc;
    if (spill) {
        rnode_t *r = rn_new(0);
        r->key[0] = reg_root->key[0];
        r->u.child[0] = reg_root;
        r->key[1] = spill->key[0];
        r->u.child[1] = spill;
        r->n = 2;
        reg_root = r;
    }
    b->lo = lo;
    b->hi = hi;
    b->registered = true;
    if (!b->id)
        b->id = reg_next_id++;
    reg_n++;
    return BUF_OK;
}

int buf_reg_insert(buf_t *b, uintptr_t lo, uintptr_t hi) {
    pthread_mutex_lock(&reg_lock);
    int rc = buf_reg_insert_locked(b, lo, hi);
    pthread_mutex_unlock(&reg_lock);
    return rc;
}

uint64_t buf_reg_next_id(void) {
    pthread_mutex_lock(&reg_lock);
    uint64_t id = reg_next_id++;
    pthread_mutex_unlock(&reg_lock);
    return id;
}

void buf_reg_remove_locked(buf_t *b) {
    if (b->registered && rn_remove(reg_root, b->lo, b)) {
        b->registered = false;
        reg_n--;
        if (!reg_root->leaf && reg_root->n == 1) {
            rnode_t *old = reg_root;
            reg_root = old->u.child[0];
            rn_del(old);
        }
    }
}

void buf_reg_remove(buf_t *b) {
    pthread_mutex_lock(&reg_lock);
    buf_reg_remove_locked(b);
    pthread_mutex_unlock(&reg_lock);
}

static void walk(rnode_t *x, void (*fn)(buf_t *, void *), void *ctx) {
    for (int i = 0; i < x->n; i++) {
        if (x->leaf)
            fn(x->u.l.own[i], ctx);
        else
            walk(x->u.child[i], fn, ctx);
    }
}

void buf_reg_walk(void (*fn)(buf_t *b, void *ctx), void *ctx) {
    pthread_mutex_lock(&reg_lock);
    if (reg_root)
        walk(reg_root, fn, ctx);
    pthread_mutex_unlock(&reg_lock);
}

size_t buf_registry_count(void) {
    pthread_mutex_lock(&reg_lock);
    size_t n = reg_n;
    pthread_mutex_unlock(&reg_lock);
    return n;
}

int buf_registry_lookup(const void *p, size_t n, const buf_t **owner) {
    uintptr_t lo = (uintptr_t)p, hi = lo + (n ? n : 1);
    if (hi <= lo)
        hi = UINTPTR_MAX; /* [p, p+n) reaches the end of the address space */
    pthread_mutex_lock(&reg_lock);
    rnode_t *leaf;
    int j;
    int found = below(hi, &leaf, &j) && leaf->u.l.hi[j] > lo;
    if (owner)
        *owner = found ? leaf->u.l.own[j] : NULL;
    pthread_mutex_unlock(&reg_lock);
    return found ? BUF_OK : BUF_ERANGE;
}

/* Returns the depth of x's leaves, or -1 on a broken invariant: sorted,
 * disjoint, non-empty regions matching their owners; inner keys the exact
 * smallest start of each child; every node but the root at least half full;
 * all leaves at one depth.  *prev_hi tracks order, *count the entries. */
static int check(const rnode_t *x, int root, uintptr_t *prev_hi, size_t *count) {
    if (x->n < (root ? (x->leaf ? 0 : 2) : RN_MIN) || x->n > RN_MAX)
        return -1;
    if (x->leaf) {
        for (int i = 0; i < x->n; i++) {
            const buf_t *o = x->u.l.own[i];
            uintptr_t lo = x->key[i], hi = x->u.l.hi[i];
            if (hi <= lo || (*count && lo < *prev_hi) || !o || !o->registered || o->lo != lo ||
                o->hi != hi)
                return -1;
            *prev_hi = hi;
            (*count)++;
        }
        return 1;
    }
    int depth = -1;
    for (int i = 0; i < x->n; i++) {
        const rnode_t *c = x->u.child[i];
        if (!c || !c->n || x->key[i] != c->key[0])
            return -1;
        int d = check(c, 0, prev_hi, count);
        if (d < 0 || (depth >= 0 && d != depth))
            return -1;
        depth = d;
    }
    return depth + 1;
}

int buf_registry_check(void) {
    uintptr_t prev = 0;
    size_t count = 0;
    pthread_mutex_lock(&reg_lock);
    int ok = (!reg_root || check(reg_root, 1, &prev, &count) >= 0) && count == reg_n;
    pthread_mutex_unlock(&reg_lock);
    return ok ? BUF_OK : BUF_EINVAL;
}

/* ---- delayed release ----------------------------------------------------------- */

static pthread_mutex_t dl_lock = PTHREAD_MUTEX_INITIALIZER;
static buf_t *dl_head, *dl_tail;
static size_t dl_n, dl_bytes;
static pthread_once_t dl_atexit_once = PTHREAD_ONCE_INIT;

static void dl_at_exit(void) { buf_delayed_collect(SIZE_MAX); }
static void dl_register_atexit(void) { atexit(dl_at_exit); }

void buf_delayed_push(buf_t *b) {
    pthread_once(&dl_atexit_once, dl_register_atexit);
    pthread_mutex_lock(&dl_lock);
    b->flags |= BUF_F_WAITING;
    b->dnext = NULL;
    b->dprev = dl_tail;
    if (dl_tail)
        dl_tail->dnext = b;
    else
        dl_head = b;
    dl_tail = b;
    dl_n++;
    dl_bytes += b->capacity;
    pthread_mutex_unlock(&dl_lock);
}

size_t buf_delayed_count(void) {
    pthread_mutex_lock(&dl_lock);
    size_t n = dl_n;
    pthread_mutex_unlock(&dl_lock);
    return n;
}

size_t buf_delayed_bytes(void) {
    pthread_mutex_lock(&dl_lock);
    size_t n = dl_bytes;
    pthread_mutex_unlock(&dl_lock);
    return n;
}

int buf_delayed_foreach(int (*fn)(const buf_t *b, void *ctx), void *ctx) {
    int rc = 0;
    pthread_mutex_lock(&dl_lock);
    for (buf_t *b = dl_head; b && !rc; b = b->dnext)
        rc = fn(b, ctx);
    pthread_mutex_unlock(&dl_lock);
    return rc;
}

size_t buf_delayed_collect(size_t max) {
    size_t done = 0;
    while (done < max) {
        pthread_mutex_lock(&dl_lock);
        buf_t *b = dl_head;
        if (b) {
            dl_head = b->dnext;
            if (dl_head)
                dl_head->dprev = NULL;
            else
                dl_tail = NULL;
            dl_n--;
            dl_bytes -= b->capacity;
            b->flags &= ~BUF_F_WAITING;
        }
        pthread_mutex_unlock(&dl_lock);
        if (!b)
            break;
        /* destroy outside the lock: death callbacks may create buffers */
        buf_destroy(b, NULL);
        done++;
    }
    return done;
}

void buf_manager_shutdown(void) {
    buf_delayed_collect(SIZE_MAX);
    buf_pool_default_drop();
}
