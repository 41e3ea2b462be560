/*
 * policy_ref.h - the naive reference of the policy allocators: a list of
 * blocks (offset, size, free) in address order that applies the textbook
 * version of each policy by scanning the list.  It touches no memory; it
 * computes the offsets (from the heap base) the real allocator must return.
 * Same layout rules as allocators/policy/README.md.
 */
#ifndef MMB_POLICY_REF_H
#define MMB_POLICY_REF_H

#include <stddef.h>
#include <stdint.h>

typedef enum { REF_FIRSTFIT, REF_BESTFIT, REF_NEXTFIT, REF_SEGREGATED } ref_kind_t;

typedef struct ref_block {
    uint64_t off, size, req; /* req: requested bytes of a used block */
    uint64_t stamp;          /* when it last entered a free list (segregated LIFO) */
    int free;
} ref_block_t;

typedef struct ref_heap {
    ref_kind_t kind;
    uint64_t chunk, reserve, footprint, peak, payload_at_peak, rover, stamp;
    uint64_t pay; /* payload now (kept incrementally; payload() recounts) */
    ref_block_t *b;
    size_t n, cap;
} ref_heap_t;

typedef struct ref_stats {
    uint64_t footprint, peak_footprint, payload_at_peak, payload, used_bytes, used_blocks,
        free_blocks, free_bytes, top_free, largest_free;
} ref_stats_t;

/* chunk and reserve already rounded as the allocator rounds them */
void ref_init(ref_heap_t *r, ref_kind_t kind, uint64_t chunk, uint64_t reserve);
void ref_fini(ref_heap_t *r);
/* payload offset (from base) of the new block, or -1 when out of memory */
int64_t ref_malloc(ref_heap_t *r, uint64_t n);
void ref_free(ref_heap_t *r, uint64_t payload_off);
/* new payload offset, or -1 (old block intact) */
int64_t ref_realloc(ref_heap_t *r, uint64_t payload_off, uint64_t n);
/* aligned allocation (align a power of two): payload offset or -1; base is
 * the heap's address, since an alignment above the page's depends on it */
int64_t ref_aligned(ref_heap_t *r, uint64_t align, uint64_t n, uint64_t base);
void ref_stats(const ref_heap_t *r, ref_stats_t *s);

#endif
