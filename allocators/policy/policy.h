/*
 * policy.h - internal header shared by the four policy allocators
 * (firstfit, bestfit, nextfit, segregated).  Nothing outside
 * allocators/policy/ includes it; the public face is alloc.h.
 *
 * Block layout (see README.md for the full story):
 *
 *   heap = [base, base + footprint), committed from one reservation.
 *   base+0         8-byte prologue pad (never a block)
 *   base+8         first block; every block starts at an offset = 8 (mod 16)
 *   ...            blocks, sizes multiples of 16, at least POL_MIN_BLOCK
 *   base+F-8       epilogue: a header of size 0 marked used
 *
 *   header word (8 bytes, at the block start):
 *     bits 4..47   block size in bytes (header included)
 *     bit 0        USED
 *     bits 48..63  padding bytes of a used block (size - 8 - requested)
 *   (the "previous block is free" bit of Knuth's boundary tags lives in the
 *   side bitmap ebits, so freeing a block never has to load or store the
 *   header of a used neighbour)
 *   used block:  [header][payload ... padding]           payload is 16-aligned
 *   free block:  [header][A: two u32 links][B: u64][ ... ][footer = size]
 *
 * Links are block indices (offset / 16 + 1, 0 = none), so a 32-byte block
 * holds a whole tree node; hence the reservation is capped at 64 GiB.
 */
#ifndef MMB_POLICY_H
#define MMB_POLICY_H

#include "allocators/alloc.h"

#include <pthread.h>
#include <stdint.h>
#include <stddef.h>

#define POL_HDR 8
#define POL_MIN_BLOCK 32
#define POL_USED 1u
#define POL_SIZE_MASK 0x0000FFFFFFFFFFF0ull
#ifndef POL_MAX_RESERVE /* overridable for tools that cannot reserve 64 GiB (valgrind) */
#define POL_MAX_RESERVE ((size_t)64 << 30)
#endif
#define POL_DEFAULT_CHUNK ((size_t)1 << 20)
#define POL_PAGE ((size_t)4096)
#define POL_HOT static inline __attribute__((always_inline))

/* segregated: exact classes 32, 48, ..., 1024 bytes; larger blocks live in
 * a (size, address) tree. */
#define POL_NCLASSES 63
#define POL_CLASS_MAX 1024

typedef enum { POL_FIRSTFIT, POL_BESTFIT, POL_NEXTFIT, POL_SEGREGATED } pol_kind_t;

/* ---- the granule index (index.c) -------------------------------------------
 * The heap's address space is cut into granules of POL_GRAN bytes (64
 * block slots of 16 bytes; slot = (offset - 8) / 16, granule = slot / 64).
 * Arrays, in one mmap'd reservation committed with the footprint:
 *   fbits[g]    bit j set <=> a free block starts at slot 64g + j (all kinds);
 *   ebits[g]    bit j set <=> a block (or the epilogue) starts at slot 64g + j
 *               and the block just below it is free (all kinds);
 *   fsz[slot]   at every block's start, its size / 16 when that is at most
 *               255 (4080 bytes), else 0 (read the header); at the slot after
 *               a used block's start, its padding (POL_PAD_ESCAPE: read the
 *               header); one byte per slot, so a granule's sizes are one
 *               64-byte line (all kinds);
 *   ff/nf: a 64-ary max tree of bytes over every free block:
 *          mb[0][g] = the largest free block starting in g, size / 16
 *          saturated at 255 (4080 bytes or more), mb[k][i] = max of
 *          mb[k-1][64i .. 64i+63], up to one root entry; and a 16-ary
 *          max tree of 32-bit entries over the blocks above 4080 bytes
 *          only ("big"): mx[0][g] = the largest big free block starting
 *          in g (size / 16; 0 if none), mx[k][i] = max of
 *          mx[k-1][16i .. 16i+15];
 *   bf:    per size class c (block size 32 + 16c <= POL_CLASS_MAX) a
 *          64-ary bitmap tree: cw[0][w*64 + c] bit j <=> granule 64w + j
 *          holds a free block of class c; cw[k][w*64 + c] bit j <=>
 *          cw[k-1][(64w + j)*64 + c] != 0.                                */
/* fbits and ebits are interleaved: granule g's two words are words
 * POL_GW*g and POL_GW*g + 1 of one array, so that free finds both on one
 * cache line */
#define POL_GW 2
#define POL_GRAN 1024
#define POL_GRAN_SHIFT 10
#define POL_IX_MAXLEV 12

/* The heap handle; lives in its own mmap'd page(s), never in malloc memory.
 * Invariants (checked by pol_check):
 *   used bytes + free bytes (blocks) + 16 == footprint;
 *   nfree == the free blocks (top included) == the set bits of fbits
 *   (pol_count_free) == nodes in the structures;
 *   seg_bitmap bit c set <=> seg_heads[c] != 0. */
typedef struct pol_heap {
    pthread_mutex_t lock;
    pol_kind_t kind;
    int debug;
    char *base;
    size_t reserve;
    size_t chunk;
    size_t header_map; /* bytes of this mapping */
    size_t footprint;  /* committed bytes F */
    size_t peak_footprint;
    size_t payload_at_peak;
    /* the used blocks: their bytes / 16 in bits 0..31 (the reservation is
     * at most 64 GiB) and their number in bits 32..63, so that malloc and
     * free count both with one add (pol_used_bytes, pol_used_blocks) */
    uint64_t used;
    size_t payload;
    /* payload_at_peak while the footprint is at its peak, else SIZE_MAX:
     * a payload above it is a new payload at the peak (one compare) */
    size_t payload_watch;
    /* free blocks, the top included (a counter: stats must not scan the heap
     * under the lock while a multi-threaded run's workers wait for it) */
    size_t nfree;
    size_t rover;     /* nextfit: offset where the last placement ended */
    uint64_t stamp;   /* unused (the reference counts its own insertions) */
    uint32_t root;    /* address tree (ff/nf) or (size,addr) tree (bf, seg large) */
    uint64_t seg_bitmap;
    uint32_t seg_heads[POL_NCLASSES];
    /* granule index (segregated: no tree arrays) */
    char *ix_map;          /* reservation holding every array below */
    size_t ix_len;         /* its length */
    size_t ix_committed;   /* bytes committed (metadata) */
    size_t ix_gran;        /* granules of the reservation */
    size_t ix_cover;       /* granules whose index pages are committed */
    uint64_t *fbits;
    uint64_t *ebits; /* always fbits + 1 (interleaved); the straight paths rely on it */
    uint8_t *fsz;
    int mx_top;            /* ff/nf: index of the root level (big blocks) */
    uint32_t *mx[POL_IX_MAXLEV];
    size_t mx_n[POL_IX_MAXLEV];
    int mb_top;            /* ff/nf: index of the root level (byte tree) */
    uint8_t *mb[POL_IX_MAXLEV];
    size_t mb_n[POL_IX_MAXLEV];
    int cw_top;            /* bf: index of the root level */
    uint64_t *cw[POL_IX_MAXLEV];
    size_t cw_n[POL_IX_MAXLEV]; /* words per class at level k */
    uint32_t cls_count[64];
    uint64_t cls_mask;     /* bf: bit c <=> a free block of class c exists */
    /* commit bookkeeping: array a spans [ix_off[a], ix_off[a] + ix_alen[a]) */
    int ix_narr;
    size_t ix_off[2 * POL_IX_MAXLEV + 3], ix_alen[2 * POL_IX_MAXLEV + 3];
    size_t ix_gper[2 * POL_IX_MAXLEV + 3], ix_esize[2 * POL_IX_MAXLEV + 3];
    size_t ix_done[2 * POL_IX_MAXLEV + 3];
} pol_heap_t;

/* one used block of s bytes, as a change of h->used */
#define POL_USE(s) (((uint64_t)(s) >> 4) | (1ull << 32))
static inline size_t pol_used_bytes(const pol_heap_t *h) { return (size_t)(uint32_t)h->used << 4; }
static inline size_t pol_used_blocks(const pol_heap_t *h) { return (size_t)(h->used >> 32); }
/* the set bits of fbits: the free blocks, top included (the checker's
 * recount of nfree; O(heap / 1 KiB)) */
size_t pol_count_free(const pol_heap_t *h);

/* ---- block accessors ---------------------------------------------------- */

static inline uint64_t *pol_hdr(char *b) { return (uint64_t *)(void *)b; }
static inline size_t pol_size(char *b) { return (size_t)(*pol_hdr(b) & POL_SIZE_MASK); }
static inline int pol_used(char *b) { return (int)(*pol_hdr(b) & POL_USED); }
static inline size_t pol_pad(char *b) { return (size_t)(*pol_hdr(b) >> 48); }
static inline uint64_t *pol_footer(char *b, size_t size) {
    return (uint64_t *)(void *)(b + size - 8);
}
/* A free block b of size s has a footer only when the block above it could
 * not find b's start in fbits: when b starts two or more granules below
 * the granule where it ends (its end slot is the next block's start). */
static inline int pol_needs_footer(const pol_heap_t *h, const char *b, size_t s) {
    size_t sb = (size_t)(b - h->base - 8) >> 4;
    return (sb >> 6) + 2 <= ((sb + (s >> 4)) >> 6);
}
static inline uint32_t *pol_links(char *b) { return (uint32_t *)(void *)(b + 8); }
static inline uint64_t *pol_aux(char *b) { return (uint64_t *)(void *)(b + 16); }

static inline char *pol_blk(const pol_heap_t *h, uint32_t i) {
    return h->base + ((size_t)(i - 1) << 4) + 8;
}
static inline uint32_t pol_idx(const pol_heap_t *h, const char *b) {
    return (uint32_t)((size_t)(b - h->base) >> 4) + 1;
}
static inline size_t pol_off(const pol_heap_t *h, const char *b) { return (size_t)(b - h->base); }

/* slot of a block start (or of the epilogue) and the side bits there */
static inline size_t pol_slot(const pol_heap_t *h, const char *b) {
    return (size_t)(b - h->base - 8) >> 4;
}
/* bit s of fbits or ebits (interleaved: stride POL_GW words) */
static inline int pol_bit(const uint64_t *a, size_t s) { return (int)(a[POL_GW * (s >> 6)] >> (s & 63) & 1); }
static inline void pol_bit_set(uint64_t *a, size_t s) { a[POL_GW * (s >> 6)] |= 1ull << (s & 63); }
static inline void pol_bit_clr(uint64_t *a, size_t s) { a[POL_GW * (s >> 6)] &= ~(1ull << (s & 63)); }
/* the block just below b is free (b may be the epilogue) */
static inline int pol_prev_free(const pol_heap_t *h, const char *b) {
    return pol_bit(h->ebits, pol_slot(h, b));
}
static inline void pol_set_prev_free(pol_heap_t *h, const char *b) { pol_bit_set(h->ebits, pol_slot(h, b)); }
static inline void pol_clr_prev_free(pol_heap_t *h, const char *b) { pol_bit_clr(h->ebits, pol_slot(h, b)); }
/* b (a block start or the epilogue) is a free block */
static inline int pol_is_free(const pol_heap_t *h, const char *b) {
    return pol_bit(h->fbits, pol_slot(h, b));
}
/* the epilogue: the 8-byte used header that ends the committed heap */
static inline char *pol_epilogue(const pol_heap_t *h) { return h->base + h->footprint - 8; }
/* Size of the free block just below b (b may be the epilogue).  Its start
 * is the highest free-block start below b's slot (free blocks are never
 * adjacent, so no other free block starts in between); looking in fbits, in
 * b's granule or the one before, spares waiting for b's line, where a footer
 * lies.  A block starting further down has a footer (pol_set_free). */
static inline size_t pol_prev_free_size(pol_heap_t *h, char *b) {
    size_t sl = pol_slot(h, b), g = sl >> 6;
    uint64_t w = h->fbits[POL_GW * (g)] & ((1ull << (sl & 63)) - 1);
    if (w)
        return (sl - ((g << 6) + 63 - (size_t)__builtin_clzll(w))) << 4;
    if (g && (w = h->fbits[POL_GW * (g - 1)]) != 0)
        return (sl - (((g - 1) << 6) + 63 - (size_t)__builtin_clzll(w))) << 4;
    return (size_t) * (uint64_t *)(void *)(b - 8);
}
static inline uint8_t pol_fsz_code(size_t size) { return size <= 4080 ? (uint8_t)(size >> 4) : 0; }
/* fsz byte of a slot where a block started until it was merged into its
 * lower neighbour (no block has 16 bytes): free and realloc refuse it */
#define POL_FSZ_GONE 1
/* Free blocks up to this size keep no header: their size is their fsz byte
 * and the structure holding them reads no header (firstfit and nextfit: up
 * to 4080 bytes; bestfit and segregated: up to POL_CLASS_MAX, above which
 * the size treap reads headers).  So freeing a block stores nothing into
 * it (bestfit, firstfit, nextfit) or only the list links (segregated),
 * and its line, cold as often as not, is not fetched for a header. */
static inline size_t pol_hdrless_max(pol_kind_t k) {
    return k == POL_FIRSTFIT || k == POL_NEXTFIT ? 4080 : 1024;
}
/* the size of the block starting at b (used or free; 0 for the epilogue):
 * fbits says whether it is free, and a free block's size is its size byte
 * when that is not 0 */
static inline size_t pol_bsize(const pol_heap_t *h, char *b) {
    if (pol_is_free(h, b)) {
        uint8_t c = h->fsz[pol_slot(h, b)];
        if (c)
            return (size_t)c << 4;
    }
    return pol_size(b);
}
/* segregated class lists keep their two links in the first word of a free
 * block (which has no header; tree nodes have theirs at +8, after it) */
static inline uint32_t *pol_cl_links(char *b) { return (uint32_t *)(void *)b; }
/* fsz byte after a used block's start: its padding, or this (read the header) */
#define POL_PAD_ESCAPE 255

/* Treap priority of a block: a mix of its index (deterministic, so every
 * run of a workload builds the same trees). */
static inline uint32_t pol_prio(uint32_t i) {
    uint32_t x = i * 0x9E3779B1u;
    x ^= x >> 16;
    x *= 0x85EBCA6Bu;
    x ^= x >> 13;
    x *= 0xC2B2AE35u;
    x ^= x >> 16;
    return x;
}
/* strict heap order: higher (prio, index) is nearer the root */
static inline int pol_above(uint32_t a, uint32_t b) {
    uint32_t pa = pol_prio(a), pb = pol_prio(b);
    return pa > pb || (pa == pb && a > b);
}

/* ---- the granule index (index.c) ----------------------------------------- */
/* The structure operations of malloc and free (pol_mx_*, pol_bf_* in
 * index.c, pol_seg_* in seglist.c) are static: both files are compiled as
 * part of heap.c so that they inline into the hot paths.  Finds return the
 * block and store its size in *size; insert/remove take the size. */
int pol_ix_init(pol_heap_t *h);           /* 0 or ENOMEM */
void pol_ix_fini(pol_heap_t *h);
int pol_ix_commit(pol_heap_t *h, size_t footprint); /* 0 or -1 */
int pol_ix_contains(pol_heap_t *h, char *b);
/* verifies every index array against the heap; *count = free blocks indexed */
int pol_ix_check(pol_heap_t *h, size_t *count, char *err, size_t errlen);

/* ---- the size tree (bestfit, segregated large blocks): treap by
 * (size, address) ---------------------------------------------------------- */
void pol_st_insert(pol_heap_t *h, char *b);
void pol_st_remove(pol_heap_t *h, char *b);
char *pol_st_best_fit(pol_heap_t *h, size_t a);
size_t pol_st_largest(pol_heap_t *h);

/* ---- segregated lists ------------------------------------------------------ */
static inline unsigned pol_seg_class(size_t size) { return (unsigned)((size - 32) >> 4); }

/* ---- checks of the structures: count nodes, verify order/links; 0 if sound */
int pol_st_check(pol_heap_t *h, size_t *count, char *err, size_t errlen);
int pol_seg_check(pol_heap_t *h, size_t *count, char *err, size_t errlen);
/* 1 if free block b is reachable in its structure */
int pol_st_contains(pol_heap_t *h, char *b);

/* ---- the heap (heap.c) ------------------------------------------------------ */
int pol_init(void **heap, const alloc_config_t *cfg, pol_kind_t kind);
void pol_fini(void *heap);
void *pol_malloc(void *heap, size_t n);
void pol_free(void *heap, void *p);
/* the same, specialized per policy (what the tables use) */
void *pol_malloc_firstfit(void *heap, size_t n);
void pol_free_firstfit(void *heap, void *p);
void *pol_malloc_bestfit(void *heap, size_t n);
void pol_free_bestfit(void *heap, void *p);
void *pol_malloc_nextfit(void *heap, size_t n);
void pol_free_nextfit(void *heap, void *p);
void *pol_malloc_segregated(void *heap, size_t n);
void pol_free_segregated(void *heap, void *p);
void *pol_realloc(void *heap, void *p, size_t n);
void *pol_aligned(void *heap, size_t align, size_t n);
size_t pol_usable_size(void *heap, void *p);
int pol_stats(void *heap, alloc_stats_t *out);
int pol_walk(void *heap, alloc_walk_fn fn, void *ctx);
int pol_check(void *heap, char *err, size_t errlen);
/* checker body; caller holds the lock */
int pol_check_locked(pol_heap_t *h, char *err, size_t errlen);
const char *pol_version(void);

#define POL_HEAP_FIGURE "exact: bytes committed for blocks plus the allocator's own metadata (index, header page)"

#endif
