/*
 * policy_ref.c - the naive reference of the policy allocators (see
 * policy_ref.h): O(n) per request, written for obviousness, not speed.
 */
#include "policy_ref.h"

#include <stdlib.h>
#include <string.h>

#define MINB 32u
#define CLASS_MAX 1024u

static uint64_t asize(uint64_t n) {
    uint64_t a = (n + 8 + 15) & ~(uint64_t)15;
    return a < MINB ? MINB : a;
}

static void ins(ref_heap_t *r, size_t i, ref_block_t blk) {
    if (r->n == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 64;
        r->b = realloc(r->b, r->cap * sizeof *r->b);
        if (!r->b)
            abort();
    }
    memmove(r->b + i + 1, r->b + i, (r->n - i) * sizeof *r->b);
    r->b[i] = blk;
    r->n++;
}

static void del(ref_heap_t *r, size_t i) {
    memmove(r->b + i, r->b + i + 1, (r->n - i - 1) * sizeof *r->b);
    r->n--;
}

/* the block is (re)entered into the free structure */
static void stamp(ref_heap_t *r, size_t i) { r->b[i].stamp = ++r->stamp; }

static size_t find_block(const ref_heap_t *r, uint64_t off) {
    size_t lo = 0, hi = r->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (r->b[mid].off < off)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo >= r->n || r->b[lo].off != off)
        abort(); /* the test passed an offset the reference never returned */
    return lo;
}

void ref_init(ref_heap_t *r, ref_kind_t kind, uint64_t chunk, uint64_t reserve) {
    memset(r, 0, sizeof *r);
    r->kind = kind;
    r->chunk = chunk;
    r->reserve = reserve;
    r->footprint = r->peak = chunk;
    r->rover = 8;
    ins(r, 0, (ref_block_t){.off = 8, .size = chunk - 16, .free = 1});
    stamp(r, 0);
}

void ref_fini(ref_heap_t *r) { free(r->b); }

/* Textbook policies: scan the blocks in address order. */
static long find(ref_heap_t *r, uint64_t a) {
    long best = -1;
    switch (r->kind) {
    case REF_FIRSTFIT:
        for (size_t i = 0; i < r->n; i++)
            if (r->b[i].free && r->b[i].size >= a)
                return (long)i;
        return -1;
    case REF_BESTFIT:
        for (size_t i = 0; i < r->n; i++)
            if (r->b[i].free && r->b[i].size >= a && (best < 0 || r->b[i].size < r->b[best].size))
                best = (long)i;
        return best;
    case REF_NEXTFIT:
        for (size_t i = 0; i < r->n; i++) /* blocks ending after the rover, in order */
            if (r->b[i].free && r->b[i].size >= a && r->b[i].off + r->b[i].size > r->rover)
                return (long)i;
        for (size_t i = 0; i < r->n; i++) /* wrap around once */
            if (r->b[i].free && r->b[i].size >= a)
                return (long)i;
        return -1;
    case REF_SEGREGATED:
        if (a <= CLASS_MAX) /* smallest non-empty exact class >= a, newest entry */
            for (size_t i = 0; i < r->n; i++) {
                ref_block_t *x = &r->b[i];
                if (!x->free || x->size < a || x->size > CLASS_MAX)
                    continue;
                if (best < 0 || x->size < r->b[best].size ||
                    (x->size == r->b[best].size && x->stamp > r->b[best].stamp))
                    best = (long)i;
            }
        if (best >= 0)
            return best;
        for (size_t i = 0; i < r->n; i++) /* best fit among blocks above the classes */
            if (r->b[i].free && r->b[i].size > CLASS_MAX && r->b[i].size >= a &&
                (best < 0 || r->b[i].size < r->b[best].size))
                best = (long)i;
        return best;
    }
    return -1;
}

static int last_free(const ref_heap_t *r) { return r->n && r->b[r->n - 1].free; }

/* grow so the top free block has at least `need` bytes; its index or -1 */
static long grow(ref_heap_t *r, uint64_t need) {
    uint64_t t = last_free(r) ? r->b[r->n - 1].size : 0;
    uint64_t inc = need - t;
    if (inc > r->reserve)
        return -1;
    inc = (inc + r->chunk - 1) / r->chunk * r->chunk;
    if (inc > r->reserve - r->footprint)
        return -1;
    if (t) {
        r->b[r->n - 1].size += inc;
    } else {
        ins(r, r->n, (ref_block_t){.off = r->footprint - 8, .size = inc, .free = 1});
    }
    r->footprint += inc;
    if (r->footprint > r->peak) {
        r->peak = r->footprint;
        r->payload_at_peak = r->pay;
    }
    stamp(r, r->n - 1);
    return (long)(r->n - 1);
}

/* The footprint's peak, and the payload at that moment: while the
 * footprint stays at its peak, the largest payload seen there. */
static void note_peak(ref_heap_t *r) {
    if (r->footprint > r->peak) {
        r->peak = r->footprint;
        r->payload_at_peak = r->pay;
    } else if (r->footprint == r->peak && r->pay > r->payload_at_peak) {
        r->payload_at_peak = r->pay;
    }
}

static void place(ref_heap_t *r, size_t i, uint64_t a, uint64_t n) {
    ref_block_t *x = &r->b[i];
    if (x->size - a >= MINB) {
        ref_block_t rest = {.off = x->off + a, .size = x->size - a, .free = 1};
        x->size = a;
        ins(r, i + 1, rest);
        stamp(r, i + 1);
        x = &r->b[i];
    }
    x->free = 0;
    x->req = n;
    r->rover = x->off + x->size;
}

static void maybe_trim(ref_heap_t *r) {
    ref_block_t *top = &r->b[r->n - 1];
    if (!top->free || top->size <= 2 * r->chunk)
        return;
    uint64_t cut = (top->size - r->chunk) / r->chunk * r->chunk;
    top->size -= cut;
    r->footprint -= cut;
    stamp(r, r->n - 1);
}

int64_t ref_malloc(ref_heap_t *r, uint64_t n) {
    if (n > r->reserve)
        return -1;
    uint64_t a = asize(n);
    long i = find(r, a);
    int grew = 0;
    if (i < 0) {
        i = grow(r, a);
        if (i < 0)
            return -1;
        grew = 1;
    }
    (void)grew;
    place(r, (size_t)i, a, n);
    r->pay += n;
    note_peak(r);
    return (int64_t)r->b[i].off + 8;
}

void ref_free(ref_heap_t *r, uint64_t poff) {
    size_t i = find_block(r, poff - 8);
    r->pay -= r->b[i].req;
    r->b[i].free = 1;
    r->b[i].req = 0;
    if (i + 1 < r->n && r->b[i + 1].free) {
        r->b[i].size += r->b[i + 1].size;
        del(r, i + 1);
    }
    if (i > 0 && r->b[i - 1].free) {
        r->b[i - 1].size += r->b[i].size;
        del(r, i);
        i--;
    }
    stamp(r, i);
    if (i == r->n - 1)
        maybe_trim(r);
}

int64_t ref_realloc(ref_heap_t *r, uint64_t poff, uint64_t n) {
    size_t i = find_block(r, poff - 8);
    if (n > r->reserve)
        return -1;
    uint64_t a = asize(n), s = r->b[i].size;
    if (a <= s) {
        r->pay += n - r->b[i].req;
        r->b[i].req = n;
        note_peak(r);
        if (s - a >= MINB) {
            r->b[i].size = a;
            uint64_t rs = s - a;
            if (i + 1 < r->n && r->b[i + 1].free) {
                rs += r->b[i + 1].size;
                del(r, i + 1);
            }
            ins(r, i + 1, (ref_block_t){.off = r->b[i].off + a, .size = rs, .free = 1});
            stamp(r, i + 1);
            if (i + 1 == r->n - 1)
                maybe_trim(r);
        }
        return (int64_t)poff;
    }
    int next_free = i + 1 < r->n && r->b[i + 1].free;
    uint64_t avail = s + (next_free ? r->b[i + 1].size : 0);
    int grew = 0;
    if (avail < a && (i == r->n - 1 || (next_free && i + 1 == r->n - 1))) {
        if (grow(r, a - s) >= 0) {
            grew = 1;
            next_free = 1;
            avail = s + r->b[i + 1].size;
        }
    }
    if (avail >= a) {
        uint64_t t = avail;
        del(r, i + 1);
        r->pay += n - r->b[i].req;
        r->b[i].req = n;
        if (t - a >= MINB) {
            r->b[i].size = a;
            ins(r, i + 1, (ref_block_t){.off = r->b[i].off + a, .size = t - a, .free = 1});
            stamp(r, i + 1);
        } else {
            r->b[i].size = t;
        }
        (void)grew;
        note_peak(r);
        return (int64_t)poff;
    }
    /* a move: the payload a peak reached here records is L after the
     * realloc (the old block counted out), as in allocators/policy */
    uint64_t oldn = r->b[i].req;
    r->pay -= oldn;
    int64_t q = ref_malloc(r, n);
    r->pay += oldn;
    if (q < 0)
        return -1;
    ref_free(r, poff);
    return q;
}

/* Alignments up to 16 are malloc.  Above, the policy chooses a free block of
 * a + align + 32 bytes, which holds an aligned block whatever its address;
 * the leading gap, when there is one, stays a free block of at least 32
 * bytes (an alignment step is added to a smaller gap) and the block is
 * placed after it as malloc places one. */
int64_t ref_aligned(ref_heap_t *r, uint64_t align, uint64_t n, uint64_t base) {
    if (align <= 16)
        return ref_malloc(r, n);
    if (n > r->reserve || align > r->reserve)
        return -1;
    uint64_t a = asize(n), need = a + align + MINB;
    long i = find(r, need);
    if (i < 0) {
        i = grow(r, need);
        if (i < 0)
            return -1;
    }
    uint64_t off = r->b[i].off;
    uint64_t g = (((base + off + 8 + align - 1) & ~(align - 1)) - base) - 8 - off;
    if (g && g < MINB)
        g += align;
    if (g) {
        ref_block_t rest = {.off = off + g, .size = r->b[i].size - g, .free = 1};
        r->b[i].size = g;
        stamp(r, (size_t)i);
        ins(r, (size_t)i + 1, rest);
        i++;
    }
    place(r, (size_t)i, a, n);
    r->pay += n;
    note_peak(r);
    return (int64_t)r->b[i].off + 8;
}

void ref_stats(const ref_heap_t *r, ref_stats_t *s) {
    memset(s, 0, sizeof *s);
    s->footprint = r->footprint;
    s->peak_footprint = r->peak;
    s->payload_at_peak = r->payload_at_peak;
    for (size_t i = 0; i < r->n; i++) {
        const ref_block_t *x = &r->b[i];
        if (x->free) {
            s->free_blocks++;
            s->free_bytes += x->size;
            if (x->size > s->largest_free)
                s->largest_free = x->size;
        } else {
            s->used_blocks++;
            s->used_bytes += x->size;
            s->payload += x->req;
        }
    }
    if (last_free(r)) {
        s->top_free = r->b[r->n - 1].size;
        s->free_blocks--;
    }
}
