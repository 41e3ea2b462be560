/*
 * check.c - the heap checker of the policy allocators: walks every block and
 * verifies every invariant of policy.h and README.md (boundary tags, no two
 * adjacent free blocks, the free structures hold exactly the free blocks,
 * the size tree's order, the granule index, the running counters).  O(n log n); tests
 * call it often, debug heaps after every operation.
 */
#include "allocators/policy/policy.h"

#include <stdio.h>

#define FAIL(...)                                                                  \
    do {                                                                           \
        snprintf(err, errlen, __VA_ARGS__);                                        \
        return 1;                                                                  \
    } while (0)

static int in_structure(pol_heap_t *h, char *b) {
    switch (h->kind) {
    case POL_FIRSTFIT:
    case POL_NEXTFIT:
    case POL_BESTFIT:
        return pol_ix_contains(h, b);
    case POL_SEGREGATED:
        if (pol_bsize(h, b) > POL_CLASS_MAX)
            return pol_st_contains(h, b);
        else {
            /* the head's back link means nothing (seglist.c) */
            uint32_t x = pol_idx(h, b), prev = pol_cl_links(b)[0], next = pol_cl_links(b)[1];
            size_t nb = (h->footprint >> 4) + 1;
            if (next > nb)
                return 0;
            if (h->seg_heads[pol_seg_class(pol_bsize(h, b))] != x &&
                (!prev || prev > nb || pol_cl_links(pol_blk(h, prev))[1] != x))
                return 0;
            return !next || pol_cl_links(pol_blk(h, next))[0] == x;
        }
    }
    return 0;
}

int pol_check_locked(pol_heap_t *h, char *err, size_t errlen) {
    char *ep = h->base + h->footprint - 8;
    if (h->footprint < h->chunk || h->footprint > h->reserve || (h->footprint & (POL_PAGE - 1)))
        FAIL("footprint %zu is not a page multiple between a chunk and the reservation", h->footprint);
    if (h->peak_footprint < h->footprint)
        FAIL("peak footprint %zu is below the footprint %zu", h->peak_footprint, h->footprint);
    if (h->payload_watch != (h->footprint == h->peak_footprint ? h->payload_at_peak : SIZE_MAX))
        FAIL("payload watch %zu disagrees with the peak (footprint %zu, peak %zu, payload there %zu)",
             h->payload_watch, h->footprint, h->peak_footprint, h->payload_at_peak);
    if (pol_size(ep) != 0 || !pol_used(ep))
        FAIL("epilogue header at offset %zu is damaged", h->footprint - 8);
    size_t nused = 0, used_bytes = 0, payload = 0, nfree = 0, free_bytes = 0;
    int prev_free = 0;
    char *b = h->base + 8;
    while (b < ep) {
        /* fbits says which blocks are free; a used block has a used header,
         * a free one its size byte (and a header above pol_hdrless_max) */
        size_t s = pol_bsize(h, b), off = pol_off(h, b);
        if (s < POL_MIN_BLOCK || (s & 15) || s > (size_t)(ep - b))
            FAIL("block at offset %zu has a bad size %zu", off, s);
        if (pol_prev_free(h, b) != prev_free)
            FAIL("block at offset %zu: PREV_FREE bit disagrees with the block below", off);
        if (!pol_is_free(h, b)) {
            if (!pol_used(b))
                FAIL("block at offset %zu is not marked free but has no used block header", off);
            size_t pad = pol_pad(b);
            if (*pol_hdr(b) & 14)
                FAIL("used block at offset %zu has stray header bits", off);
            if (pad > s - 8)
                FAIL("used block at offset %zu has padding %zu larger than its size %zu", off, pad, s);
            nused++;
            used_bytes += s;
            payload += s - 8 - pad;
            prev_free = 0;
        } else {
            if (prev_free)
                FAIL("two adjacent free blocks at offset %zu", off);
            if (s > pol_hdrless_max(h->kind) && *pol_hdr(b) != s)
                FAIL("free block at offset %zu has stray header bits", off);
            if (pol_needs_footer(h, b, s) && *pol_footer(b, s) != s)
                FAIL("free block at offset %zu: footer %llu disagrees with its size %zu", off,
                     (unsigned long long)*pol_footer(b, s), s);
            if (!in_structure(h, b))
                FAIL("free block at offset %zu (size %zu) is missing from the free structure", off, s);
            nfree++;
            free_bytes += s;
            prev_free = 1;
        }
        b += s;
    }
    if (b != ep)
        FAIL("blocks overrun the epilogue");
    if (pol_prev_free(h, ep) != prev_free)
        FAIL("epilogue PREV_FREE bit disagrees with the last block");
    if (nused != pol_used_blocks(h))
        FAIL("used block counter %zu, recount %zu", pol_used_blocks(h), nused);
    if (used_bytes != pol_used_bytes(h))
        FAIL("used bytes counter %zu, recount %zu", pol_used_bytes(h), used_bytes);
    if (payload != h->payload)
        FAIL("payload counter %zu, recount %zu", h->payload, payload);
    if (used_bytes + free_bytes + 16 != h->footprint)
        FAIL("blocks cover %zu bytes, footprint %zu", used_bytes + free_bytes + 16, h->footprint);
    size_t count = 0;
    int rc = 0;
    switch (h->kind) {
    case POL_FIRSTFIT:
    case POL_NEXTFIT:
        rc = pol_ix_check(h, &count, err, errlen);
        break;
    case POL_BESTFIT: {
        size_t large = 0, small = 0;
        rc = pol_st_check(h, &large, err, errlen) || pol_ix_check(h, &count, err, errlen);
        for (unsigned c = 0; !rc && c < 64; c++)
            small += h->cls_count[c];
        if (!rc && large + small != count)
            FAIL("size tree holds %zu blocks and the classes %zu, for %zu indexed free blocks",
                 large, small, count);
        break;
    }
    case POL_SEGREGATED: {
        size_t indexed = 0;
        rc = pol_seg_check(h, &count, err, errlen) || pol_ix_check(h, &indexed, err, errlen);
        if (!rc && indexed != count)
            FAIL("free-start bitmap marks %zu blocks, the lists and tree hold %zu", indexed, count);
        break;
    }
    }
    if (rc)
        return rc;
    if (count != nfree)
        FAIL("free structure holds %zu nodes for %zu free blocks", count, nfree);
    if (nfree != pol_count_free(h))
        FAIL("free-start bitmap counts %zu free blocks, recount %zu", pol_count_free(h), nfree);
    if (nfree != h->nfree)
        FAIL("free block counter %zu, recount %zu", h->nfree, nfree);
    return 0;
}
