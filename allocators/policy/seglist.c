/*
 * seglist.c - the free structure of the segregated allocator.
 *
 * Classes: one exact size class per block size 32, 48, ..., 1024 bytes (63
 * doubly linked LIFO lists; links in the block's first word, where a used
 * block has its header (a free block of a class keeps none); the head's back link is
 * left stale, so taking the head writes nothing but the head) with a bitmap of the
 * non-empty ones; free blocks above 1024 bytes live in the (size, address)
 * tree of tree.c.  A request of block size a <= 1024 takes the head of the
 * first non-empty class >= class(a) (one find-first-set), else the best fit
 * of the tree; a request above 1024 takes the best fit of the tree.
 *
 * Compiled as part of heap.c (#included there) so that the list operations
 * inline into malloc and free.
 */
#include "allocators/policy/policy.h"

#include <stdio.h>

POL_HOT void pol_seg_insert(pol_heap_t *h, char *b, size_t s) {
    pol_bit_set(h->fbits, pol_slot(h, b));
    h->fsz[pol_slot(h, b)] = pol_fsz_code(s);
    if (s > POL_CLASS_MAX) {
        pol_st_insert(h, b);
        return;
    }
    unsigned c = pol_seg_class(s);
    uint32_t x = pol_idx(h, b), head = h->seg_heads[c];
    pol_cl_links(b)[1] = head;
    h->seg_heads[c] = x;
    /* Store to the class bitmap only when the class was empty: free's class
     * is known only after its size byte arrives (often a cache miss), and an
     * unconditional read-modify-write would make the next malloc's search,
     * which reads the bitmap, wait for that miss; a (predicted) branch does
     * not. */
    if (head)
        pol_cl_links(pol_blk(h, head))[0] = x;
    else
        h->seg_bitmap |= 1ull << c;
}

POL_HOT void pol_seg_remove(pol_heap_t *h, char *b, size_t s) {
    pol_bit_clr(h->fbits, pol_slot(h, b));
    if (s > POL_CLASS_MAX) {
        pol_st_remove(h, b);
        return;
    }
    unsigned c = pol_seg_class(s);
    uint32_t x = pol_idx(h, b), next = pol_cl_links(b)[1];
    if (h->seg_heads[c] == x) {
        /* the head: its successor becomes the head, whose back link means
         * nothing, so the successor (a cold block, as often as not) is not
         * written */
        h->seg_heads[c] = next;
        if (!next)
            h->seg_bitmap &= ~(1ull << c);
        return;
    }
    uint32_t prev = pol_cl_links(b)[0];
    pol_cl_links(pol_blk(h, prev))[1] = next;
    if (next)
        pol_cl_links(pol_blk(h, next))[0] = prev;
}

POL_HOT char *pol_seg_find(pol_heap_t *h, size_t a, size_t *size) {
    if (a <= POL_CLASS_MAX) {
        uint64_t m = h->seg_bitmap >> pol_seg_class(a);
        if (m) {
            unsigned c = pol_seg_class(a) + (unsigned)__builtin_ctzll(m);
            *size = 32 + ((size_t)c << 4);
            return pol_blk(h, h->seg_heads[c]);
        }
    }
    char *b = pol_st_best_fit(h, a);
    if (b)
        *size = pol_size(b);
    return b;
}

static size_t pol_seg_largest(pol_heap_t *h) {
    size_t t = pol_st_largest(h);
    if (t)
        return t;
    if (!h->seg_bitmap)
        return 0;
    return 32 + ((size_t)(63 - __builtin_clzll(h->seg_bitmap)) << 4);
}

int pol_seg_check(pol_heap_t *h, size_t *count, char *err, size_t errlen) {
    size_t n = 0, nfree = pol_count_free(h);
    if (pol_st_check(h, &n, err, errlen))
        return 1;
    size_t nblocks = (h->footprint >> 4) + 1;
    for (unsigned c = 0; c < POL_NCLASSES; c++) {
        uint32_t x = h->seg_heads[c], prev = 0;
        if (!!x != !!(h->seg_bitmap & (1ull << c))) {
            snprintf(err, errlen, "class %u bitmap bit disagrees with its list", c);
            return 1;
        }
        while (x) {
            if (x > nblocks) {
                snprintf(err, errlen, "class %u list link points outside the heap", c);
                return 1;
            }
            char *b = pol_blk(h, x);
            if (!pol_is_free(h, b) || pol_bsize(h, b) != 32 + ((size_t)c << 4) ||
                pol_off(h, b) + pol_bsize(h, b) > h->footprint - 8) {
                snprintf(err, errlen, "class %u list holds offset %zu which is not a free block of that class",
                         c, pol_off(h, b));
                return 1;
            }
            if (prev && pol_cl_links(b)[0] != prev) { /* a head's back link means nothing */
                snprintf(err, errlen, "class %u list back link wrong at offset %zu", c, pol_off(h, b));
                return 1;
            }
            if (++n > nfree) {
                snprintf(err, errlen, "free lists hold more nodes than there are free blocks (cycle?)");
                return 1;
            }
            prev = x;
            x = pol_cl_links(b)[1];
        }
    }
    *count = n;
    return 0;
}
