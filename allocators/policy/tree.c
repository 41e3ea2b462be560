/*
 * tree.c - the size tree of the policy allocators: a treap whose nodes live
 * inside the free blocks (links in the A word, see policy.h), key = (size,
 * address); a lower bound gives best fit (smallest size, ties to the lowest
 * address).  It holds the blocks above POL_CLASS_MAX of bestfit and
 * segregated (the exact classes below are indexed elsewhere).  The code is
 * generic over an address-ordered variant with subtree maxima (bysize = 0),
 * which the checker's node verification still understands.
 *
 * Priorities are a hash of the block index, so depth is O(log n) expected
 * whatever the order of insertions; no operation scans free blocks.
 */
#include "allocators/policy/policy.h"

#include <stdio.h>

#define LNK(h, i) pol_links(pol_blk((h), (i)))

static inline uint32_t tl(pol_heap_t *h, uint32_t i) { return LNK(h, i)[0]; }
static inline uint32_t tr(pol_heap_t *h, uint32_t i) { return LNK(h, i)[1]; }
static inline void set_l(pol_heap_t *h, uint32_t i, uint32_t v) { LNK(h, i)[0] = v; }
static inline void set_r(pol_heap_t *h, uint32_t i, uint32_t v) { LNK(h, i)[1] = v; }

static inline size_t nsize(pol_heap_t *h, uint32_t i) { return pol_size(pol_blk(h, i)); }
static inline uint64_t nmax(pol_heap_t *h, uint32_t i) { return i ? *pol_aux(pol_blk(h, i)) : 0; }

/* key of node i in tree `bysize`: address order is index order */
static inline uint64_t key(pol_heap_t *h, uint32_t i, int bysize) {
    return bysize ? ((uint64_t)(nsize(h, i) >> 4) << 32) | i : i;
}

static inline void update(pol_heap_t *h, uint32_t i, int bysize) {
    if (bysize)
        return;
    uint64_t m = nsize(h, i), x = nmax(h, tl(h, i)), y = nmax(h, tr(h, i));
    if (x > m)
        m = x;
    if (y > m)
        m = y;
    *pol_aux(pol_blk(h, i)) = m;
}

/* split t into keys < k (l) and keys > k (r) */
static void split(pol_heap_t *h, uint32_t t, uint64_t k, uint32_t *l, uint32_t *r, int bysize) {
    if (!t) {
        *l = *r = 0;
        return;
    }
    if (key(h, t, bysize) < k) {
        uint32_t rl, rr;
        split(h, tr(h, t), k, &rl, &rr, bysize);
        set_r(h, t, rl);
        update(h, t, bysize);
        *l = t;
        *r = rr;
    } else {
        uint32_t ll, lr;
        split(h, tl(h, t), k, &ll, &lr, bysize);
        set_l(h, t, lr);
        update(h, t, bysize);
        *l = ll;
        *r = t;
    }
}

static uint32_t merge(pol_heap_t *h, uint32_t a, uint32_t b, int bysize) {
    if (!a)
        return b;
    if (!b)
        return a;
    if (pol_above(a, b)) {
        set_r(h, a, merge(h, tr(h, a), b, bysize));
        update(h, a, bysize);
        return a;
    }
    set_l(h, b, merge(h, a, tl(h, b), bysize));
    update(h, b, bysize);
    return b;
}

static uint32_t insert(pol_heap_t *h, uint32_t t, uint32_t x, uint64_t kx, int bysize) {
    if (!t || pol_above(x, t)) {
        uint32_t l, r;
        split(h, t, kx, &l, &r, bysize);
        set_l(h, x, l);
        set_r(h, x, r);
        update(h, x, bysize);
        return x;
    }
    if (kx < key(h, t, bysize))
        set_l(h, t, insert(h, tl(h, t), x, kx, bysize));
    else
        set_r(h, t, insert(h, tr(h, t), x, kx, bysize));
    update(h, t, bysize);
    return t;
}

static uint32_t remove_node(pol_heap_t *h, uint32_t t, uint32_t x, uint64_t kx, int bysize) {
    if (!t)
        return 0; /* not present: the checker reports it */
    if (t == x)
        return merge(h, tl(h, t), tr(h, t), bysize);
    if (kx < key(h, t, bysize))
        set_l(h, t, remove_node(h, tl(h, t), x, kx, bysize));
    else
        set_r(h, t, remove_node(h, tr(h, t), x, kx, bysize));
    update(h, t, bysize);
    return t;
}

static int contains(pol_heap_t *h, uint32_t x, int bysize) {
    uint64_t kx = key(h, x, bysize);
    uint32_t t = h->root;
    while (t) {
        if (t == x)
            return 1;
        t = kx < key(h, t, bysize) ? tl(h, t) : tr(h, t);
    }
    return 0;
}

/* ---- size tree ---------------------------------------------------------- */

void pol_st_insert(pol_heap_t *h, char *b) {
    uint32_t x = pol_idx(h, b);
    h->root = insert(h, h->root, x, key(h, x, 1), 1);
}

void pol_st_remove(pol_heap_t *h, char *b) {
    uint32_t x = pol_idx(h, b);
    h->root = remove_node(h, h->root, x, key(h, x, 1), 1);
}

int pol_st_contains(pol_heap_t *h, char *b) { return contains(h, pol_idx(h, b), 1); }

char *pol_st_best_fit(pol_heap_t *h, size_t a) {
    uint32_t t = h->root, best = 0;
    while (t) {
        if (nsize(h, t) >= a) {
            best = t;
            t = tl(h, t);
        } else {
            t = tr(h, t);
        }
    }
    return best ? pol_blk(h, best) : NULL;
}

size_t pol_st_largest(pol_heap_t *h) {
    uint32_t t = h->root;
    if (!t)
        return 0;
    while (tr(h, t))
        t = tr(h, t);
    return nsize(h, t);
}

/* ---- checks --------------------------------------------------------------- */

typedef struct {
    pol_heap_t *h;
    int bysize;
    size_t count;
    size_t limit;
    char *err;
    size_t errlen;
} tcheck_t;

/* verifies subtree t: keys in (lo, hi), heap order below parent, aux maxima */
static int check_node(tcheck_t *c, uint32_t t, uint64_t lo, uint64_t hi, uint32_t parent) {
    pol_heap_t *h = c->h;
    if (!t)
        return 0;
    size_t nblocks = (h->footprint >> 4) + 1;
    if (t > nblocks) {
        snprintf(c->err, c->errlen, "tree link %u points outside the heap", t);
        return 1;
    }
    if (++c->count > c->limit) {
        snprintf(c->err, c->errlen, "tree holds more nodes than there are free blocks (cycle?)");
        return 1;
    }
    char *b = pol_blk(h, t);
    if (pol_used(b) || pol_size(b) < POL_MIN_BLOCK ||
        pol_off(h, b) + pol_size(b) > h->footprint - 8) {
        snprintf(c->err, c->errlen, "tree node at offset %zu is not a free block", pol_off(h, b));
        return 1;
    }
    uint64_t k = key(h, t, c->bysize);
    if (k <= lo || k >= hi) {
        snprintf(c->err, c->errlen, "tree order broken at offset %zu", pol_off(h, b));
        return 1;
    }
    if (parent && pol_above(t, parent)) {
        snprintf(c->err, c->errlen, "treap heap order broken at offset %zu", pol_off(h, b));
        return 1;
    }
    if (check_node(c, tl(h, t), lo, k, t) || check_node(c, tr(h, t), k, hi, t))
        return 1;
    if (!c->bysize) {
        uint64_t m = nsize(h, t), x = nmax(h, tl(h, t)), y = nmax(h, tr(h, t));
        m = x > m ? x : m;
        m = y > m ? y : m;
        if (*pol_aux(b) != m) {
            snprintf(c->err, c->errlen, "subtree maximum wrong at offset %zu (%llu, expected %llu)",
                     pol_off(h, b), (unsigned long long)*pol_aux(b), (unsigned long long)m);
            return 1;
        }
    }
    return 0;
}

static int check_tree(pol_heap_t *h, int bysize, size_t *count, char *err, size_t errlen) {
    tcheck_t c = {h, bysize, 0, pol_count_free(h), err, errlen};
    int rc = check_node(&c, h->root, 0, UINT64_MAX, 0);
    *count = c.count;
    return rc;
}

int pol_st_check(pol_heap_t *h, size_t *count, char *err, size_t errlen) {
    return check_tree(h, 1, count, err, errlen);
}
