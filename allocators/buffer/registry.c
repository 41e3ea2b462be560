/*
 * registry.c - the overlap registry (every region the manager knows: owned
 * blocks, consumed memory, device memory) and the delayed-release list.
 *
 * The registry is an AVL tree keyed by the region's start address.  Regions
 * in it never intersect (an insert that would intersect is refused), so the
 * region with the greatest start below a new region's end is the only one
 * that can overlap it: insert, remove and the overlap query are O(log n).
 * Tree links and delayed-list links live inside buf_t, so neither structure
 * allocates.  One mutex each.
 */
#include "allocators/buffer/buf_internal.h"

#include <stdlib.h>

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static buf_t *reg_root;
static size_t reg_n;

static int h_of(const buf_t *n) { return n ? n->rh : 0; }

static void fix(buf_t *n) {
    int a = h_of(n->rl), b = h_of(n->rr);
    n->rh = (a > b ? a : b) + 1;
}

static buf_t *rot_right(buf_t *n) {
    buf_t *l = n->rl;
    n->rl = l->rr;
    l->rr = n;
    fix(n);
    fix(l);
    return l;
}

static buf_t *rot_left(buf_t *n) {
    buf_t *r = n->rr;
    n->rr = r->rl;
    r->rl = n;
    fix(n);
    fix(r);
    return r;
}

static buf_t *balance(buf_t *n) {
    fix(n);
    int bf = h_of(n->rl) - h_of(n->rr);
    if (bf > 1) {
        if (h_of(n->rl->rl) < h_of(n->rl->rr))
            n->rl = rot_left(n->rl);
        return rot_right(n);
    }
    if (bf < -1) {
        if (h_of(n->rr->rr) < h_of(n->rr->rl))
            n->rr = rot_right(n->rr);
        return rot_left(n);
    }
    return n;
}

static buf_t *insert(buf_t *n, buf_t *x) {
    if (!n) {
        x->rl = x->rr = NULL;
        x->rh = 1;
        return x;
    }
    if (x->lo < n->lo)
        n->rl = insert(n->rl, x);
    else
        n->rr = insert(n->rr, x);
    return balance(n);
}

static buf_t *pop_min(buf_t *n, buf_t **min) {
    if (!n->rl) {
        *min = n;
        return n->rr;
    }
    n->rl = pop_min(n->rl, min);
    return balance(n);
}

static buf_t *remove_node(buf_t *n, buf_t *x) {
    if (!n)
        return NULL;
    if (n == x) {
        if (!n->rl)
            return n->rr;
        if (!n->rr)
            return n->rl;
        buf_t *m;
        buf_t *r = pop_min(n->rr, &m);
        m->rl = n->rl;
        m->rr = r;
        return balance(m);
    }
    if (x->lo < n->lo)
        n->rl = remove_node(n->rl, x);
    else
        n->rr = remove_node(n->rr, x);
    return balance(n);
}

/* The region with the greatest start < hi, or NULL. */
static buf_t *below(uintptr_t hi) {
    buf_t *n = reg_root, *best = NULL;
    while (n) {
        if (n->lo < hi) {
            best = n;
            n = n->rr;
        } else {
            n = n->rl;
        }
    }
    return best;
}

int buf_reg_insert(buf_t *b, uintptr_t lo, uintptr_t hi) {
    if (hi <= lo)
        return BUF_EINVAL;
    pthread_mutex_lock(&reg_lock);
    buf_t *c = below(hi);
    if (c && c->hi > lo) {
        pthread_mutex_unlock(&reg_lock);
        return BUF_EOVERLAP;
    }
    b->lo = lo;
    b->hi = hi;
    reg_root = insert(reg_root, b);
    b->registered = true;
    reg_n++;
    pthread_mutex_unlock(&reg_lock);
    return BUF_OK;
}

void buf_reg_remove(buf_t *b) {
    pthread_mutex_lock(&reg_lock);
    if (b->registered) {
        reg_root = remove_node(reg_root, b);
        b->registered = false;
        reg_n--;
    }
    pthread_mutex_unlock(&reg_lock);
}

static void walk(buf_t *n, void (*fn)(buf_t *, void *), void *ctx) {
    if (!n)
        return;
    walk(n->rl, fn, ctx);
    fn(n, ctx);
    walk(n->rr, fn, ctx);
}

void buf_reg_walk(void (*fn)(buf_t *b, void *ctx), void *ctx) {
    pthread_mutex_lock(&reg_lock);
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
    pthread_mutex_lock(&reg_lock);
    buf_t *c = below(hi);
    int found = c && c->hi > lo;
    if (owner)
        *owner = found ? c : NULL;
    pthread_mutex_unlock(&reg_lock);
    return found ? BUF_OK : BUF_ERANGE;
}

/* Returns the height, or -1 on a broken invariant; *prev_hi tracks order. */
static int check(const buf_t *n, uintptr_t *prev_hi, size_t *count) {
    if (!n)
        return 0;
    int a = check(n->rl, prev_hi, count);
    if (a < 0 || n->lo < *prev_hi || n->hi <= n->lo || !n->registered)
        return -1;
    *prev_hi = n->hi;
    (*count)++;
    int b = check(n->rr, prev_hi, count);
    if (b < 0 || abs(a - b) > 1 || n->rh != (a > b ? a : b) + 1)
        return -1;
    return n->rh;
}

int buf_registry_check(void) {
    uintptr_t prev = 0;
    size_t count = 0;
    pthread_mutex_lock(&reg_lock);
    int ok = check(reg_root, &prev, &count) >= 0 && count == reg_n;
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
