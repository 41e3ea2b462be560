/*
 * heap.c - the heap shared by the four policy allocators: the reservation
 * and its committed bottom part, block placement, immediate coalescing,
 * growth and trimming, the exact running statistics, and the table slots
 * that do not depend on the policy.  The policy is only the choice of block
 * (pol_find) and the structure that holds free blocks (pol_insert /
 * pol_remove); see README.md for the rules.
 */
#include "allocators/policy/policy.h"

/* the free structures of the malloc/free paths, compiled in this unit */
#include "allocators/policy/index.c"
#include "allocators/policy/seglist.c"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/single_threaded.h>

static const char *const pol_names[] = {"firstfit", "bestfit", "nextfit", "segregated"};

const char *pol_version(void) { return "mmbench-policy-1"; }

/* ---- the policy dispatch ------------------------------------------------ */

/* Structure operations take the block's size from the caller (who knows it
 * already), so they never load the header of the block they index. */
POL_HOT void pol_insert(pol_heap_t *h, const pol_kind_t K, char *b, size_t size) {
    switch (K) {
    case POL_FIRSTFIT:
    case POL_NEXTFIT:
        pol_mx_insert(h, b, size);
        break;
    case POL_BESTFIT:
        pol_bf_insert(h, b, size);
        break;
    case POL_SEGREGATED:
        pol_seg_insert(h, b, size);
        break;
    }
}

POL_HOT void pol_remove(pol_heap_t *h, const pol_kind_t K, char *b, size_t size) {
    switch (K) {
    case POL_FIRSTFIT:
    case POL_NEXTFIT:
        pol_mx_remove(h, b, size);
        break;
    case POL_BESTFIT:
        pol_bf_remove(h, b, size);
        break;
    case POL_SEGREGATED:
        pol_seg_remove(h, b, size);
        break;
    }
}

/* the policy's block for a block size a, its size in *size; NULL if none */
POL_HOT char *pol_find(pol_heap_t *h, const pol_kind_t K, size_t a, size_t *size) {
    switch (K) {
    case POL_FIRSTFIT:
        return pol_mx_first_fit(h, a, size);
    case POL_NEXTFIT:
        return pol_mx_next_fit(h, a, h->rover, size);
    case POL_BESTFIT:
        return pol_bf_find(h, a, size);
    case POL_SEGREGATED:
        return pol_seg_find(h, a, size);
    }
    return NULL;
}

/* ---- helpers --------------------------------------------------------------- */

__attribute__((noreturn, format(printf, 2, 3))) static void pol_die(pol_heap_t *h, const char *fmt,
                                                                     ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "mmbench %s heap: ", pol_names[h->kind]);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    abort();
}

/* block size for a request of n bytes (n <= reserve, so no overflow) */
static inline size_t pol_asize(size_t n) {
    size_t a = (n + POL_HDR + 15) & ~(size_t)15;
    return a < POL_MIN_BLOCK ? POL_MIN_BLOCK : a;
}

/* A free block's header, only above pol_hdrless_max (below, its size is
 * its fsz byte), and its footer where the block above it would not find its
 * start in fbits (pol_prev_free_size looks in its own granule and the one
 * before): so freeing a block of up to about 1 KiB stores nothing into it. */
POL_HOT void pol_set_free(pol_heap_t *h, const pol_kind_t K, char *b, size_t s) {
    if (s > pol_hdrless_max(K))
        *pol_hdr(b) = s;
    if (pol_needs_footer(h, b, s))
        *pol_footer(b, s) = s;
}

/* A used block's size and padding are also in the side array fsz: its size
 * code at its start slot, its padding (255: look in the header) in the byte
 * of the next slot, which lies inside the block and means nothing else.  So
 * free learns both without loading the block's header, a cache miss
 * whenever the block has not been touched for a while. */
static inline void pol_set_used(pol_heap_t *h, char *b, size_t s, size_t n) {
    size_t pad = s - 8 - n, sl = pol_slot(h, b);
    *pol_hdr(b) = s | POL_USED | ((uint64_t)pad << 48);
    h->fsz[sl] = pol_fsz_code(s);
    h->fsz[sl + 1] = pad < POL_PAD_ESCAPE ? (uint8_t)pad : POL_PAD_ESCAPE;
}
/* Called whenever the footprint or its peak changed: payload_watch is
 * payload_at_peak while the footprint stands at its peak, else SIZE_MAX
 * (no payload is above it). */
static inline void pol_set_watch(pol_heap_t *h) {
    h->payload_watch = h->footprint == h->peak_footprint ? h->payload_at_peak : SIZE_MAX;
}
/* Called after an operation that grew the heap. */
static inline void pol_note_peak(pol_heap_t *h) {
    if (h->footprint > h->peak_footprint) {
        h->peak_footprint = h->footprint;
        h->payload_at_peak = h->payload;
    } else if (h->footprint == h->peak_footprint && h->payload > h->payload_at_peak) {
        h->payload_at_peak = h->payload;
    }
    pol_set_watch(h);
}

/* Called after the payload grew: while the footprint stands at its peak,
 * the payload "at the peak" is the largest seen there (JW #3 takes the
 * moment the heap is largest; when it stays largest for a while, the
 * moment within that stretch with the most live bytes).  One compare:
 * payload_watch is SIZE_MAX while the footprint is below its peak. */
static inline void pol_note_payload(pol_heap_t *h) {
    if (h->payload > h->payload_watch)
        h->payload_at_peak = h->payload_watch = h->payload;
}

/* Commit more of the reservation so that the free block at the top has at
 * least `need` bytes; returns that block (in the free structure), or NULL
 * with errno = ENOMEM.  Growth is (need - current top) rounded up to a
 * multiple of the chunk. */
static char *pol_grow(pol_heap_t *h, size_t need, size_t *size) {
    const pol_kind_t K = h->kind;
    char *ep = pol_epilogue(h), *top = NULL;
    size_t t = 0;
    if (pol_prev_free(h, ep)) {
        t = pol_prev_free_size(h, ep);
        top = ep - t;
    }
    size_t inc = need - t;
    if (inc > h->reserve) {
        errno = ENOMEM;
        return NULL;
    }
    inc = (inc + h->chunk - 1) / h->chunk * h->chunk;
    if (inc > h->reserve - h->footprint || pol_ix_commit(h, h->footprint + inc) != 0 ||
        mprotect(h->base + h->footprint, inc, PROT_READ | PROT_WRITE) != 0) {
        errno = ENOMEM;
        return NULL;
    }
    if (top) {
        pol_remove(h, K, top, t);
        pol_clr_prev_free(h, ep);
    } else {
        top = ep;
        h->nfree++;
    }
    h->footprint += inc;
    pol_set_free(h, K, top, t + inc);
    *pol_hdr(pol_epilogue(h)) = POL_USED;
    pol_set_prev_free(h, pol_epilogue(h));
    pol_insert(h, K, top, t + inc);
    if (h->footprint > h->peak_footprint) {
        h->peak_footprint = h->footprint;
        h->payload_at_peak = h->payload;
    }
    pol_set_watch(h);
    *size = t + inc;
    return top;
}

/* Give the top back to the OS while it exceeds two chunks, keeping between
 * one and two chunks of free top.  top is the free block below the epilogue. */
static void pol_maybe_trim(pol_heap_t *h, char *top, size_t t) {
    const pol_kind_t K = h->kind;
    if (t <= 2 * h->chunk)
        return;
    size_t r = (t - h->chunk) / h->chunk * h->chunk;
    pol_remove(h, K, top, t);
    pol_clr_prev_free(h, pol_epilogue(h));
    h->footprint -= r;
    pol_set_free(h, K, top, t - r);
    *pol_hdr(pol_epilogue(h)) = POL_USED;
    pol_set_prev_free(h, pol_epilogue(h));
    pol_insert(h, K, top, t - r);
    pol_set_watch(h);
    void *gone = h->base + h->footprint;
    if (mmap(gone, r, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0) ==
        MAP_FAILED) {
        madvise(gone, r, MADV_DONTNEED);
        mprotect(gone, r, PROT_NONE);
    }
}

/* Make free block b of size s (already out of the structure) a used block
 * of size a holding n requested bytes; the tail becomes a free block when it
 * is at least POL_MIN_BLOCK.  Moves the rover to the end of the placement.
 * Only stores to b's header (no load), so a cold block costs no stall here. */
POL_HOT void pol_place(pol_heap_t *h, const pol_kind_t K, char *b, size_t s, size_t a, size_t n) {
    if (s - a >= POL_MIN_BLOCK) {
        char *r = b + a;
        pol_set_free(h, K, r, s - a);
        pol_insert(h, K, r, s - a);
        s = a;
    } else {
        h->nfree--;
        pol_clr_prev_free(h, b + s);
    }
    pol_set_used(h, b, s, n);
    h->used += POL_USE(s);
    h->payload += n;
    pol_note_payload(h);
    h->rover = pol_off(h, b) + s;
}

/* The block of pointer p, after checking that p can be one of ours.  Cheap
 * checks always; in debug mode, a walk proves p is a block start. */
__attribute__((noinline)) static void pol_prove_block(pol_heap_t *h, void *p, const char *op) {
    char *b = (char *)p - 8;
    {
        char *x = h->base + 8;
        while (x + pol_bsize(h, x) <= b && pol_bsize(h, x))
            x += pol_bsize(h, x);
        if (x != b) {
            if (pol_is_free(h, x))
                pol_die(h, "%s of %p: double free (it lies inside a free block)", op, p);
            pol_die(h, "%s of foreign pointer %p (inside a block, not its start)", op, p);
        }
        if (pol_is_free(h, b))
            pol_die(h, "%s of %p: double free", op, p);
    }
}

/* The header's figures, for a block whose size or padding is not in fsz,
 * and its check: called, so the compiler cannot fold the header load into
 * the hot path (as a cmov, say). */
__attribute__((noinline)) static uint64_t pol_block_cold(pol_heap_t *h, char *b, const char *op, size_t size) {
    if (size == (size_t)POL_FSZ_GONE << 4)
        pol_die(h, "%s of %p: double free (the block was merged into the free block below it)", op, b + 8);
    uint64_t hd = *pol_hdr(b);
    size_t s = (size_t)(hd & POL_SIZE_MASK);
    if (!(hd & POL_USED) || s < POL_MIN_BLOCK || s > (size_t)(pol_epilogue(h) - b) || (size && size != s))
        pol_die(h, "%s of %p: double free or foreign pointer (no used block header there)", op, b + 8);
    return hd; /* size in bits 4..47, padding in bits 48..63 */
}

/* The block of pointer p (its size and padding in *size and *pad), after
 * checking that p can be one of ours.  Always: p lies in the heap, is
 * aligned, and is not the start of a free block (a double free of a block
 * not yet coalesced).  The figures come from fsz, not from the block's
 * header; in debug mode a walk proves that p is a used block's start and the
 * checker compares fsz with every header. */
POL_HOT char *pol_block_of(pol_heap_t *h, void *p, const char *op, size_t *size, size_t *pad) {
    uintptr_t u = (uintptr_t)p, lo = (uintptr_t)h->base + 16, hi = (uintptr_t)pol_epilogue(h);
    if (__builtin_expect(u < lo || u >= hi || (u & 15), 0))
        pol_die(h, "%s of foreign pointer %p (outside the heap or misaligned)", op, p);
    char *b = (char *)p - 8;
    if (__builtin_expect(h->debug, 0))
        pol_prove_block(h, p, op);
    size_t sl = pol_slot(h, b);
    if (__builtin_expect(pol_bit(h->fbits, sl), 0))
        pol_die(h, "%s of %p: double free", op, p);
    size_t s = (size_t)h->fsz[sl] << 4, pd = h->fsz[sl + 1];
    if (__builtin_expect(s < POL_MIN_BLOCK || pd == POL_PAD_ESCAPE, 0)) {
        /* by value: out-parameters would keep s and pd on the stack */
        uint64_t hd = pol_block_cold(h, b, op, s);
        s = (size_t)(hd & POL_SIZE_MASK);
        pd = (size_t)(hd >> 48);
    }
    if (__builtin_expect(s > (size_t)(hi - (uintptr_t)b), 0))
        pol_die(h, "%s of %p: double free or foreign pointer (no used block there)", op, p);
    *size = s;
    *pad = pd;
    return b;
}

__attribute__((noinline)) static void pol_after_check(pol_heap_t *h, const char *op) {
    char err[256];
    if (pol_check_locked(h, err, sizeof err) != 0)
        pol_die(h, "heap check failed after %s: %s", op, err);
}

/* debug heaps run the checker after every operation */
POL_HOT void pol_after(pol_heap_t *h, const char *op) {
    if (__builtin_expect(h->debug, 0))
        pol_after_check(h, op);
}

/* ---- operations (lock held) ---------------------------------------------------- */

POL_HOT void *pol_malloc_locked(pol_heap_t *h, const pol_kind_t K, size_t n) {
    if (n > h->reserve) {
        errno = ENOMEM;
        return NULL;
    }
    size_t a = pol_asize(n), s = 0;
    int grew = 0;
    char *b = pol_find(h, K, a, &s);
    if (__builtin_expect(!b, 0)) {
        b = pol_grow(h, a, &s);
        if (!b)
            return NULL;
        grew = 1;
    }
    if (s - a >= POL_MIN_BLOCK) {
        char *r = b + a;
        pol_set_free(h, K, r, s - a);
        if (K == POL_FIRSTFIT || K == POL_NEXTFIT) {
            pol_mx_split(h, b, s, r, s - a);
        } else {
            pol_remove(h, K, b, s);
            pol_insert(h, K, r, s - a);
        }
        s = a;
    } else {
        pol_remove(h, K, b, s);
        h->nfree--;
        pol_clr_prev_free(h, b + s);
    }
    pol_set_used(h, b, s, n);
    h->used += POL_USE(s);
    h->payload += n;
    pol_note_payload(h);
    h->rover = pol_off(h, b) + s;
    if (grew)
        pol_note_peak(h);
    return b + POL_HDR;
}

POL_HOT void pol_free_locked(pol_heap_t *h, const pol_kind_t K, void *p) {
    size_t s, pad;
    char *b = pol_block_of(h, p, "free", &s, &pad);
    h->used -= POL_USE(s);
    h->payload -= s - 8 - pad;
    h->nfree++;
    char *nb = b + s;
    /* The neighbours' states come from the side bitmaps: a used neighbour's
     * header is neither loaded nor stored (the next block's PREV_FREE bit is
     * in ebits).  A lower free neighbour keeps its start: in the address
     * index it stays where it is and only the maxima above its granule
     * change. */
    int in_tree = 0;
    if (pol_prev_free(h, b)) {
        size_t ps = pol_prev_free_size(h, b);
        char *pb = b - ps;
        if (K == POL_FIRSTFIT || K == POL_NEXTFIT)
            in_tree = 1;
        else
            pol_remove(h, K, pb, ps);
        pol_clr_prev_free(h, b);
        h->fsz[pol_slot(h, b)] = POL_FSZ_GONE;
        b = pb;
        s += ps;
        h->nfree--;
    }
    if (pol_is_free(h, nb)) {
        if (K == POL_SEGREGATED) {
            size_t ns = (size_t)fsize16(h, pol_slot(h, nb)) << 4;
            pol_remove(h, K, nb, ns);
            h->fsz[pol_slot(h, nb)] = POL_FSZ_GONE;
            s += ns;
            nb = b + s;
            pol_set_free(h, K, b, s);
            pol_insert(h, K, b, s);
        } else {
            /* the size byte, not nb's (cold) header */
            size_t ns = (size_t)fsize16(h, pol_slot(h, nb)) << 4;
            char *ob = nb;
            s += ns;
            nb = b + s;
            pol_set_free(h, K, b, s);
            if (K == POL_BESTFIT) {
                pol_remove(h, K, ob, ns);
                pol_insert(h, K, b, s);
            } else {
                pol_mx_absorb(h, b, s, in_tree, ob, ns);
            }
            h->fsz[pol_slot(h, ob)] = POL_FSZ_GONE;
        }
        h->nfree--;
    } else {
        pol_set_prev_free(h, nb);
        pol_set_free(h, K, b, s);
        if (in_tree)
            pol_mx_enlarge(h, b, s);
        else
            pol_insert(h, K, b, s);
    }
    if (nb == pol_epilogue(h))
        pol_maybe_trim(h, b, s);
}

static void *pol_realloc_locked(pol_heap_t *h, void *p, size_t n) {
    const pol_kind_t K = h->kind;
    if (!p)
        return pol_malloc_locked(h, K, n);
    size_t s, pad;
    char *b = pol_block_of(h, p, "realloc", &s, &pad);
    if (n > h->reserve) {
        errno = ENOMEM;
        return NULL;
    }
    size_t a = pol_asize(n), oldn = s - 8 - pad;
    if (a <= s) { /* shrink (or same) in place */
        if (s - a >= POL_MIN_BLOCK) {
            char *r = b + a, *nb = b + s;
            size_t rs = s - a;
            if (pol_is_free(h, nb)) {
                size_t ns = pol_bsize(h, nb);
                pol_remove(h, K, nb, ns);
                h->fsz[pol_slot(h, nb)] = POL_FSZ_GONE;
                rs += ns;
            } else {
                h->nfree++;
                pol_set_prev_free(h, nb);
            }
            pol_set_free(h, K, r, rs);
            pol_insert(h, K, r, rs);
            h->used -= (s - a) >> 4;
            s = a;
            pol_set_used(h, b, s, n);
            h->payload += n - oldn;
            pol_note_payload(h);
            if (r + rs == pol_epilogue(h))
                pol_maybe_trim(h, r, rs);
            return p;
        }
        pol_set_used(h, b, s, n);
        h->payload += n - oldn;
        pol_note_payload(h);
        return p;
    }
    /* grow in place: into a free next block, growing the heap when the
     * block is the last one or is followed by the top */
    char *nb = b + s;
    int grew = 0;
    size_t avail = s + (pol_is_free(h, nb) ? pol_bsize(h, nb) : 0), gs;
    if (avail < a && (nb == pol_epilogue(h) || (pol_is_free(h, nb) && nb + pol_bsize(h, nb) == pol_epilogue(h)))) {
        if (pol_grow(h, a - s, &gs)) {
            grew = 1;
            avail = s + pol_bsize(h, nb);
        }
    }
    if (avail >= a) {
        size_t ns = pol_bsize(h, nb), t = s + ns;
        pol_remove(h, K, nb, ns);
        h->fsz[pol_slot(h, nb)] = POL_FSZ_GONE;
        if (t - a >= POL_MIN_BLOCK) {
            char *r = b + a;
            pol_set_free(h, K, r, t - a);
            pol_insert(h, K, r, t - a);
            t = a;
        } else {
            h->nfree--;
            pol_clr_prev_free(h, b + t);
        }
        h->used += (t - s) >> 4;
        h->payload += n - oldn;
        pol_note_payload(h);
        pol_set_used(h, b, t, n);
        if (grew)
            pol_note_peak(h);
        return p;
    }
    /* Move.  The old block is counted out of the payload while the new one
     * is placed: for the workload the realloc is one step, after which L is
     * payload - oldn + n, and that is the payload a peak of the heap reached
     * by this malloc must record (JW #3); counting both blocks there put
     * JW #3 below JW #4 (realloc-grow on firstfit: 0.3988 against 0.4067). */
    h->payload -= oldn;
    void *q = pol_malloc_locked(h, K, n);
    h->payload += oldn; /* pol_free_locked takes it out again */
    if (!q)
        return NULL;
    memcpy(q, p, s - 8 < n ? s - 8 : n);
    pol_free_locked(h, K, p);
    return q;
}

static void *pol_aligned_locked(pol_heap_t *h, size_t align, size_t n) {
    const pol_kind_t K = h->kind;
    if (n > h->reserve || align > h->reserve) {
        errno = ENOMEM;
        return NULL;
    }
    size_t a = pol_asize(n), need = a + align + POL_MIN_BLOCK, s = 0;
    int grew = 0;
    char *b = pol_find(h, K, need, &s);
    if (!b) {
        b = pol_grow(h, need, &s);
        if (!b)
            return NULL;
        grew = 1;
    }
    pol_remove(h, K, b, s);
    uintptr_t p = ((uintptr_t)b + 8 + align - 1) & ~(uintptr_t)(align - 1);
    size_t g = p - 8 - (uintptr_t)b;
    if (g && g < POL_MIN_BLOCK)
        g += align;
    if (g) { /* the leading gap stays a free block */
        pol_set_free(h, K, b, g);
        pol_insert(h, K, b, g);
        h->nfree++;
        b += g;
        s -= g;
        pol_set_prev_free(h, b);
    }
    pol_place(h, K, b, s, a, n);
    if (grew)
        pol_note_peak(h);
    return b + POL_HDR;
}

/* ---- the table slots ----------------------------------------------------------- */

/* The mutex is taken only while the process is multi-threaded, as glibc's
 * malloc does: __libc_single_threaded is cleared before a second thread
 * exists and never set again, so a call that saw it set cannot overlap
 * another call on the heap.  Each call remembers whether it locked. */
#define POL_LOCK(h)                                                                \
    const int pol_mt_ = !__libc_single_threaded;                                   \
    if (pol_mt_)                                                                   \
    pthread_mutex_lock(&(h)->lock)
#define POL_UNLOCK(h)                                                              \
    do {                                                                           \
        if (pol_mt_)                                                               \
            pthread_mutex_unlock(&(h)->lock);                                      \
    } while (0)

/* The common free, straight through: a block of at most POL_CLASS_MAX bytes
 * (no header and no footer as a free block, for every policy) with no free
 * neighbour, that is not the last block.  The same steps as pol_free_locked,
 * with the heap's fields loaded once and no store of a value already there
 * (the block's size byte is the same, used or free).  Anything else returns
 * 0 before changing anything, and pol_free_locked does it (and reports what
 * is wrong).  bestfit and segregated only (see POL_ENTRY_POINTS below). */
POL_HOT int pol_free_fast(pol_heap_t *h, const pol_kind_t K, void *p) {
    /* p's offset from the first block's payload: within the heap, below
     * the epilogue, and aligned (one unsigned compare and one test) */
    size_t off = (size_t)((uintptr_t)p - (uintptr_t)h->base - 16);
    if (off >= h->footprint - 24 || (off & 15))
        return 0;
    if (__builtin_expect(h->debug, 0))
        pol_prove_block(h, p, "free");
    /* few values kept at once, so that no register is saved: the bitmap
     * words of a granule are w[0] (fbits) and w[1] (ebits, interleaved) */
    size_t sl = off >> 4;
    uint64_t *w = h->fbits + POL_GW * (sl >> 6), bit = 1ull << (sl & 63);
    if ((w[0] | w[1]) & bit)
        return 0; /* a double free, or a free block below */
    size_t code = h->fsz[sl], pad = h->fsz[sl + 1];
    if (code - POL_MIN_BLOCK / 16 > (POL_CLASS_MAX - POL_MIN_BLOCK) / 16 || pad == POL_PAD_ESCAPE)
        return 0;
    size_t nsl = sl + code;
    if ((nsl << 4) >= h->footprint - 16)
        return 0; /* the last block (trim) */
    uint64_t *nw = h->fbits + POL_GW * (nsl >> 6), nbit = 1ull << (nsl & 63);
    if (nw[0] & nbit)
        return 0; /* a free block above */
    nw[1] |= nbit;
    w[0] |= bit;
    /* the block's size byte already holds its size: it enters its
     * structure (pol_mx_insert, pol_bf_insert, pol_seg_insert) */
    unsigned c = (unsigned)code - 2;
    if (K == POL_BESTFIT) {
        bf_class_add(h, sl >> 6, c);
    } else { /* segregated (firstfit and nextfit do not take this path) */
        uint32_t x = (uint32_t)sl + 1, head = h->seg_heads[c];
        pol_cl_links((char *)p - 8)[1] = head;
        h->seg_heads[c] = x;
        if (head)
            pol_cl_links(h->base + ((size_t)(head - 1) << 4) + 8)[0] = x;
        else
            h->seg_bitmap |= 1ull << c;
    }
    h->used -= code | 1ull << 32; /* POL_USE(code << 4) */
    h->payload -= (code << 4) - 8 - pad;
    h->nfree++;
    return 1;
}

/* malloc and free, specialized per policy: the dispatch on the kind folds
 * away and the structure operations inline.  With _FAST_FREE, a free on a
 * single-threaded, non-debug heap tries the straight path without the lock
 * and the check; the rest goes through a called function (which tries it
 * too when it has not been tried: a debug heap checks it).  _FAST_MALLOC
 * (firstfit and nextfit, below) does the same for malloc. */
#define POL_MALLOC_ENTRY(name, KIND)                                               \
    void *pol_malloc_##name(void *heap, size_t n) {                                \
        pol_heap_t *h = heap;                                                      \
        POL_LOCK(h);                                                               \
        void *p = pol_malloc_locked(h, KIND, n);                                   \
        pol_after(h, "malloc");                                                    \
        POL_UNLOCK(h);                                                             \
        return p;                                                                  \
    }
#define POL_ENTRY_POINTS_FAST_FREE(name, KIND)                                     \
    POL_MALLOC_ENTRY(name, KIND)                                                   \
    __attribute__((noinline)) static void pol_free_full_##name(pol_heap_t *h, void *p, int tried) { \
        POL_LOCK(h);                                                               \
        if (tried || !pol_free_fast(h, KIND, p))                                   \
            pol_free_locked(h, KIND, p);                                           \
        pol_after(h, "free");                                                      \
        POL_UNLOCK(h);                                                             \
    }                                                                              \
    void pol_free_##name(void *heap, void *p) {                                    \
        pol_heap_t *h = heap;                                                      \
        if (!p)                                                                    \
            return;                                                                \
        if (__builtin_expect(__libc_single_threaded && !h->debug, 1)) {            \
            if (pol_free_fast(h, KIND, p))                                         \
                return;                                                            \
            pol_free_full_##name(h, p, 1);                                         \
            return;                                                                \
        }                                                                          \
        pol_free_full_##name(h, p, 0);                                             \
    }

/* The end of the straight mallocs (pol_mx_malloc_fast, pol_seg_malloc_fast):
 * block b (slot sl) is used with size s, for n bytes; the padding is below
 * POL_PAD_ESCAPE (at most 55 bytes), so it goes in fsz. */
POL_HOT void *pol_malloc_done(pol_heap_t *h, char *b, size_t sl, size_t s, size_t n) {
    size_t pad = s - 8 - n;
    *pol_hdr(b) = s | POL_USED | ((uint64_t)pad << 48);
    h->fsz[sl + 1] = (uint8_t)pad;
    h->used += POL_USE(s);
    h->payload += n;
    pol_note_payload(h);
    return b + POL_HDR;
}

/* ---- firstfit and nextfit: the common malloc, straight through ----------------
 * A request of at most 4080 bytes that the top or a free block of at most
 * 4080 bytes serves (in a workload of small blocks: all that need no
 * growth): the same steps as pol_malloc_locked, with no lock, no grow path
 * and so fewer values live at once.  Anything else returns NULL before
 * changing anything (the search changes nothing), and the general path does
 * it. */
POL_HOT void *pol_mx_malloc_fast(pol_heap_t *h, const pol_kind_t K, size_t n) {
    if (n > 4080 - POL_HDR)
        return NULL;
    size_t a = pol_asize(n), s;
    char *b = K == POL_FIRSTFIT ? pol_mx_first_fit(h, a, &s) : pol_mx_next_fit(h, a, h->rover, &s);
    if (!b || (s > 4080 && !is_top(h, b, s)))
        return NULL;
    size_t sl = pol_slot(h, b);
    if (s - a >= POL_MIN_BLOCK) {
        pol_set_free(h, K, b + a, s - a);
        pol_mx_split(h, b, s, b + a, s - a);
        h->fsz[sl] = (uint8_t)(a >> 4);
        s = a;
    } else {
        pol_mx_remove(h, b, s);
        h->nfree--;
        pol_clr_prev_free(h, b + s);
    }
    h->rover = (size_t)(b - h->base) + s;
    /* next fit's rover climbs through the heap: when the next search finds
     * nothing left in the rover's granule it walks the next granule with a
     * fit, most often the one just above, whose size bytes (one line) are
     * cold; fetch them now (policy_ab, B/A at 10^5 live: 0.954-0.962 in
     * three runs; 0.968 at 10^4, 1.001 at 10^6).  A prefetch past the
     * committed index does not fault. */
    if (K == POL_NEXTFIT)
        __builtin_prefetch(h->fsz + ((sl + (s >> 4)) | 63) + 1, 0, 3);
    return pol_malloc_done(h, b, sl, s, n);
}

/* Entry points with the straight malloc: as the segregated ones below. */
#define POL_ENTRY_POINTS_FAST_MALLOC(name, KIND)                                   \
    __attribute__((noinline)) static void *pol_malloc_full_##name(pol_heap_t *h, size_t n, int tried) { \
        POL_LOCK(h);                                                               \
        void *p = tried ? NULL : pol_mx_malloc_fast(h, KIND, n);                   \
        if (!p)                                                                    \
            p = pol_malloc_locked(h, KIND, n);                                     \
        pol_after(h, "malloc");                                                    \
        POL_UNLOCK(h);                                                             \
        return p;                                                                  \
    }                                                                              \
    void *pol_malloc_##name(void *heap, size_t n) {                                \
        pol_heap_t *h = heap;                                                      \
        if (__builtin_expect(__libc_single_threaded && !h->debug, 1)) {            \
            void *p = pol_mx_malloc_fast(h, KIND, n);                              \
            if (__builtin_expect(p != NULL, 1))                                    \
                return p;                                                          \
            return pol_malloc_full_##name(h, n, 1);                                \
        }                                                                          \
        return pol_malloc_full_##name(h, n, 0);                                    \
    }                                                                              \
    void pol_free_##name(void *heap, void *p) {                                    \
        pol_heap_t *h = heap;                                                      \
        if (!p)                                                                    \
            return;                                                                \
        POL_LOCK(h);                                                               \
        pol_free_locked(h, KIND, p);                                               \
        pol_after(h, "free");                                                      \
        POL_UNLOCK(h);                                                             \
    }
/* firstfit and nextfit merge a freed block with a neighbour about one time in
 * three (bestfit and segregated: a few percent), so a straight free would
 * fail too often to pay for itself there (policy_ab: no gain, twice). */
POL_ENTRY_POINTS_FAST_MALLOC(firstfit, POL_FIRSTFIT)
POL_ENTRY_POINTS_FAST_FREE(bestfit, POL_BESTFIT)
POL_ENTRY_POINTS_FAST_MALLOC(nextfit, POL_NEXTFIT)

/* ---- segregated: the common cases, straight through ----------------------
 * A request that a class list serves (a block of at most POL_CLASS_MAX
 * bytes, split or not), and a free of a block of at most POL_CLASS_MAX bytes
 * with no free neighbour, that is not the last block: the same steps as pol_malloc_locked
 * and pol_free_locked, with the heap's fields loaded once and nothing stored
 * that already holds its value (a block's size byte is the same used or
 * free).  Anything else returns 0 / NULL before changing anything, and the
 * general path does it (and reports what is wrong).  The straight paths
 * address a granule's ebits word as fbits[POL_GW * g + 1] (interleaved,
 * index.c sets ebits = fbits + 1), one pointer fewer to keep live. */

/* pol_seg_malloc_fast's split of the block at slot sl (size s, out of its
 * class and fbits already) for a block of size a: the tail (at most 992
 * bytes: no header, no footer) goes to the head of its class; the block
 * above still has a free block below it.  Out of line and called last, so
 * that the common case keeps few values and saves no register. */
__attribute__((noinline, returns_nonnull)) static void *pol_seg_malloc_split(pol_heap_t *h, size_t sl, size_t s,
                                                                            size_t a, size_t n) {
    char *base = h->base, *b = base + (sl << 4) + 8;
    size_t rs = s - a, rl = sl + (a >> 4);
    unsigned rc = pol_seg_class(rs);
    uint32_t xr = (uint32_t)rl + 1, rh = h->seg_heads[rc];
    h->fbits[POL_GW * (rl >> 6)] |= 1ull << (rl & 63);
    pol_cl_links(b + a)[1] = rh;
    h->seg_heads[rc] = xr;
    if (rh)
        pol_cl_links(base + ((size_t)(rh - 1) << 4) + 8)[0] = xr;
    else
        h->seg_bitmap |= 1ull << rc;
    h->fsz[rl] = (uint8_t)(rs >> 4);
    h->fsz[sl] = (uint8_t)(a >> 4);
    return pol_malloc_done(h, b, sl, a, n);
}

POL_HOT void *pol_seg_malloc_fast(pol_heap_t *h, size_t n) {
    if (n > POL_CLASS_MAX - POL_HDR)
        return NULL;
    size_t a = pol_asize(n);
    unsigned c0 = pol_seg_class(a);
    uint64_t m = h->seg_bitmap >> c0;
    if (!m)
        return NULL;
    unsigned c = c0 + (unsigned)__builtin_ctzll(m);
    size_t s = 32 + ((size_t)c << 4), sl = (size_t)h->seg_heads[c] - 1; /* index x = slot + 1 */
    char *b = h->base + (sl << 4) + 8;
    uint32_t next = pol_cl_links(b)[1];
    h->seg_heads[c] = next;
    /* without a branch: the list empties as often as not, and a
     * mispredicted branch here waits for the link's load and then flushes */
    h->seg_bitmap &= ~((uint64_t)(next == 0) << c);
    h->fbits[POL_GW * (sl >> 6)] &= ~(1ull << (sl & 63));
    if (s - a >= POL_MIN_BLOCK)
        return pol_seg_malloc_split(h, sl, s, a, n);
    size_t nsl = sl + (s >> 4); /* the block above: no free block below it now (ebits) */
    h->fbits[POL_GW * (nsl >> 6) + 1] &= ~(1ull << (nsl & 63));
    h->nfree--;
    return pol_malloc_done(h, b, sl, s, n);
}


/* With the lock, the checks of a debug heap, and the general path behind the
 * straight one.  Called (not inlined) by the entry points below, so that
 * the straight path of a single-threaded heap runs with no lock, no check
 * and no saved registers. */
__attribute__((noinline)) static void *pol_seg_malloc_full(pol_heap_t *h, size_t n, int tried) {
    POL_LOCK(h);
    void *p = tried ? NULL : pol_seg_malloc_fast(h, n);
    if (!p)
        p = pol_malloc_locked(h, POL_SEGREGATED, n);
    pol_after(h, "malloc");
    POL_UNLOCK(h);
    return p;
}
__attribute__((noinline)) static void pol_seg_free_full(pol_heap_t *h, void *p, int tried) {
    POL_LOCK(h);
    if (tried || !pol_free_fast(h, POL_SEGREGATED, p))
        pol_free_locked(h, POL_SEGREGATED, p);
    pol_after(h, "free");
    POL_UNLOCK(h);
}

void *pol_malloc_segregated(void *heap, size_t n) {
    pol_heap_t *h = heap;
    if (__builtin_expect(__libc_single_threaded && !h->debug, 1)) {
        void *p = pol_seg_malloc_fast(h, n);
        if (__builtin_expect(p != NULL, 1))
            return p;
        return pol_seg_malloc_full(h, n, 1);
    }
    return pol_seg_malloc_full(h, n, 0);
}

void pol_free_segregated(void *heap, void *p) {
    pol_heap_t *h = heap;
    if (!p)
        return;
    if (__builtin_expect(__libc_single_threaded && !h->debug, 1)) {
        if (pol_free_fast(h, POL_SEGREGATED, p))
            return;
        pol_seg_free_full(h, p, 1);
        return;
    }
    pol_seg_free_full(h, p, 0);
}

void *pol_malloc(void *heap, size_t n) {
    switch (((pol_heap_t *)heap)->kind) {
    case POL_FIRSTFIT:
        return pol_malloc_firstfit(heap, n);
    case POL_BESTFIT:
        return pol_malloc_bestfit(heap, n);
    case POL_NEXTFIT:
        return pol_malloc_nextfit(heap, n);
    case POL_SEGREGATED:
        break;
    }
    return pol_malloc_segregated(heap, n);
}

void pol_free(void *heap, void *p) {
    switch (((pol_heap_t *)heap)->kind) {
    case POL_FIRSTFIT:
        pol_free_firstfit(heap, p);
        return;
    case POL_BESTFIT:
        pol_free_bestfit(heap, p);
        return;
    case POL_NEXTFIT:
        pol_free_nextfit(heap, p);
        return;
    case POL_SEGREGATED:
        break;
    }
    pol_free_segregated(heap, p);
}

void *pol_realloc(void *heap, void *p, size_t n) {
    pol_heap_t *h = heap;
    POL_LOCK(h);
    void *q = pol_realloc_locked(h, p, n);
    pol_after(h, "realloc");
    POL_UNLOCK(h);
    return q;
}

void *pol_aligned(void *heap, size_t align, size_t n) {
    pol_heap_t *h = heap;
    if (align == 0 || (align & (align - 1))) {
        errno = EINVAL;
        return NULL;
    }
    POL_LOCK(h);
    void *p = align <= 16 ? pol_malloc_locked(h, h->kind, n) : pol_aligned_locked(h, align, n);
    pol_after(h, "aligned");
    POL_UNLOCK(h);
    return p;
}

size_t pol_usable_size(void *heap, void *p) {
    pol_heap_t *h = heap;
    if (!p)
        return 0;
    POL_LOCK(h);
    size_t s, pad;
    pol_block_of(h, p, "usable_size", &s, &pad);
    s -= POL_HDR;
    POL_UNLOCK(h);
    return s;
}

static size_t pol_top_free(pol_heap_t *h) {
    char *ep = pol_epilogue(h);
    return pol_prev_free(h, ep) ? pol_prev_free_size(h, ep) : 0;
}

int pol_stats(void *heap, alloc_stats_t *s) {
    pol_heap_t *h = heap;
    POL_LOCK(h);
    size_t top = pol_top_free(h), largest = 0;
    switch (h->kind) {
    case POL_FIRSTFIT:
    case POL_NEXTFIT:
        largest = pol_mx_largest(h);
        break;
    case POL_BESTFIT:
        largest = pol_bf_largest(h);
        break;
    case POL_SEGREGATED:
        largest = pol_seg_largest(h);
        break;
    }
    /* H is everything held for the heap: the committed blocks and the
     * allocator's own metadata (header page and index), which only grows,
     * so the metadata now is also the metadata at the peak. */
    size_t meta = h->header_map + h->ix_committed;
    s->footprint = (int64_t)(h->footprint + meta);
    s->peak_footprint = (int64_t)(h->peak_footprint + meta);
    s->payload_at_peak_footprint = (int64_t)h->payload_at_peak;
    s->payload_bytes = (int64_t)h->payload;
    size_t ub = pol_used_bytes(h), un = pol_used_blocks(h);
    s->used_bytes = (int64_t)ub;
    s->header_bytes = (int64_t)(un * POL_HDR);
    s->padding_bytes = (int64_t)(ub - un * POL_HDR - h->payload);
    s->used_blocks = (int64_t)un;
    s->free_blocks = (int64_t)(h->nfree - (top ? 1 : 0));
    s->free_bytes = (int64_t)(h->footprint - 16 - ub);
    s->top_free_bytes = (int64_t)top;
    s->largest_free = (int64_t)largest;
    s->allocated_bytes = (int64_t)ub;
    s->metadata_bytes = (int64_t)meta;
    s->mapped_bytes = (int64_t)(h->footprint + meta);
    POL_UNLOCK(h);
    return 0;
}

int pol_walk(void *heap, alloc_walk_fn fn, void *ctx) {
    pol_heap_t *h = heap;
    POL_LOCK(h);
    char *b = h->base + 8, *ep = pol_epilogue(h);
    int rc = 0;
    while (b < ep && !rc) {
        size_t s = pol_bsize(h, b);
        rc = fn(ctx, pol_off(h, b), s, !pol_is_free(h, b));
        b += s;
    }
    POL_UNLOCK(h);
    return rc;
}

int pol_check(void *heap, char *err, size_t errlen) {
    pol_heap_t *h = heap;
    POL_LOCK(h);
    int rc = pol_check_locked(h, err, errlen);
    POL_UNLOCK(h);
    return rc;
}

/* ---- life cycle -------------------------------------------------------------- */

int pol_init(void **heap, const alloc_config_t *cfg, pol_kind_t kind) {
    size_t reserve = cfg && cfg->reserve_bytes ? cfg->reserve_bytes : POL_MAX_RESERVE;
    size_t chunk = cfg && cfg->chunk_bytes ? cfg->chunk_bytes : POL_DEFAULT_CHUNK;
    if (chunk > POL_MAX_RESERVE)
        return EINVAL;
    reserve = (reserve + POL_PAGE - 1) & ~(POL_PAGE - 1);
    chunk = (chunk + POL_PAGE - 1) & ~(POL_PAGE - 1);
    if (reserve > POL_MAX_RESERVE)
        reserve = POL_MAX_RESERVE;
    if (reserve < chunk)
        return EINVAL;
    size_t hmap = (sizeof(pol_heap_t) + POL_PAGE - 1) & ~(POL_PAGE - 1);
    pol_heap_t *h = mmap(NULL, hmap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (h == MAP_FAILED)
        return ENOMEM;
    char *base = mmap(NULL, reserve, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (base == MAP_FAILED) {
        munmap(h, hmap);
        return ENOMEM;
    }
    if (mprotect(base, chunk, PROT_READ | PROT_WRITE) != 0) {
        munmap(base, reserve);
        munmap(h, hmap);
        return ENOMEM;
    }
    memset(h, 0, sizeof *h);
    pthread_mutex_init(&h->lock, NULL);
    h->kind = kind;
    h->debug = cfg ? cfg->debug : 0;
    h->base = base;
    h->reserve = reserve;
    h->chunk = chunk;
    h->header_map = hmap;
    h->footprint = chunk;
    h->peak_footprint = chunk;
    pol_set_watch(h);
    h->rover = 8;
    h->nfree = 1;
    if (pol_ix_init(h) != 0 || pol_ix_commit(h, chunk) != 0) {
        pol_ix_fini(h);
        pthread_mutex_destroy(&h->lock);
        munmap(base, reserve);
        munmap(h, hmap);
        return ENOMEM;
    }
    pol_set_free(h, kind, base + 8, chunk - 16);
    *pol_hdr(pol_epilogue(h)) = POL_USED;
    pol_set_prev_free(h, pol_epilogue(h));
    pol_insert(h, kind, base + 8, chunk - 16);
    *heap = h;
    return 0;
}

void pol_fini(void *heap) {
    pol_heap_t *h = heap;
    if (!h)
        return;
    pthread_mutex_destroy(&h->lock);
    pol_ix_fini(h);
    munmap(h->base, h->reserve);
    munmap(h, h->header_map);
}
