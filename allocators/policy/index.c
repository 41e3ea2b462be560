/*
 * index.c - the granule index (bitmaps and size bytes for all four; trees
 * for firstfit, nextfit and bestfit): compact
 * arrays over the heap's address space (see policy.h and README.md) so that
 * a search touches a few cache lines of metadata and one granule of the heap
 * instead of chasing tree nodes scattered over the whole heap.
 *
 *   fbits[g]  one bit per 16-byte slot: a free block starts there;
 *   ebits[g]  one bit per slot: a block starting there has a free block
 *             just below it (the PREV_FREE bit of the boundary tags);
 *   fsz[s]    one byte per slot, the size / 16 of the block starting there
 *             (0 above 4080 bytes: read its header), so a granule walk reads
 *             one 64-byte line instead of block headers; at the slot after
 *             a used block's start, its padding (so free loads no header);
 *   ff/nf     two max trees over the granules: a 64-ary tree of bytes (the
 *             largest free block starting in each granule, size / 16
 *             saturated at 255), 64-byte nodes, and a 16-ary tree of 32-bit
 *             entries over the blocks above 4080 bytes only;
 *   bf        per exact size class (32 .. POL_CLASS_MAX) a 64-ary bitmap tree
 *             of the granules holding a free block of that class; blocks
 *             above POL_CLASS_MAX stay in the (size, address) treap.
 *
 * A search descends its tree (O(log_16 or log_64 of the granule count)) to
 * the lowest granule that qualifies, then walks that granule's free blocks
 * through its bitmap word: at most 64 slots, in practice a few blocks.  A
 * granule's blocks are read in address order, so the block found is exactly
 * the textbook one.  No free list is scanned.
 *
 * The arrays live in one PROT_NONE reservation sized for the heap's
 * reservation; the prefix covering the largest footprint so far is committed
 * (pol_ix_commit) and counted as metadata.
 *
 * This file is compiled as part of heap.c (#included there), so that the
 * structure operations of the malloc/free paths inline into them.
 */
#include "allocators/policy/policy.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#define NONE ((size_t)-1)

static inline size_t slot_of(const pol_heap_t *h, const char *b) {
    return (size_t)(b - h->base - 8) >> 4;
}
static inline char *blk_at(const pol_heap_t *h, size_t slot) { return h->base + 8 + (slot << 4); }
static inline uint32_t size16(char *b) { return (uint32_t)(pol_size(b) >> 4); }
/* size / 16 of the free block starting at slot s, from the side array */
static inline uint32_t fsize16(const pol_heap_t *h, size_t s) {
    uint32_t c = h->fsz[s];
    return c ? c : size16(blk_at(h, s));
}

/* ---- reservation and commit ------------------------------------------------ */

static size_t page_up(size_t x) { return (x + POL_PAGE - 1) & ~(POL_PAGE - 1); }

static void add_array(pol_heap_t *h, size_t *off, size_t bytes, size_t gper, size_t esize) {
    int a = h->ix_narr++;
    h->ix_off[a] = *off;
    h->ix_alen[a] = page_up(bytes);
    h->ix_gper[a] = gper;
    h->ix_esize[a] = esize;
    h->ix_done[a] = 0;
    *off += h->ix_alen[a];
}

int pol_ix_init(pol_heap_t *h) {
    size_t ngran = (h->reserve >> POL_GRAN_SHIFT) + 1, off = 0;
    h->ix_gran = ngran;
    h->ix_narr = 0;
    add_array(h, &off, ngran * 8 * POL_GW, 1, 8 * POL_GW);
    add_array(h, &off, ngran * 64, 1, 64);
    int first_tree = h->ix_narr, first_mb = 2 * POL_IX_MAXLEV + 3;
    if (h->kind == POL_SEGREGATED) {
        /* no tree */
    } else if (h->kind == POL_BESTFIT) {
        size_t n = (ngran + 63) / 64, gper = 64;
        int k = 0;
        for (;;) {
            h->cw_n[k] = n;
            add_array(h, &off, n * 64 * 8, gper, 64 * 8);
            if (n == 1)
                break;
            n = (n + 63) / 64;
            gper *= 64;
            k++;
        }
        (void)k;
        h->cw_top = 0; /* the live root; pol_ix_commit raises it */
    } else {
        size_t n = ngran, gper = 1;
        int k = 0;
        for (;;) {
            h->mx_n[k] = n;
            add_array(h, &off, ((n + 15) & ~(size_t)15) * 4, gper, 4);
            if (n == 1)
                break;
            n = (n + 15) / 16;
            gper *= 16;
            k++;
        }
        h->mx_top = 0; /* the live root; pol_ix_commit raises it */
        first_mb = h->ix_narr;
        n = ngran;
        gper = 1;
        k = 0;
        for (;;) {
            h->mb_n[k] = n;
            add_array(h, &off, (n + 63) & ~(size_t)63, gper, 1);
            if (n == 1)
                break;
            n = (n + 63) / 64;
            gper *= 64;
            k++;
        }
        h->mb_top = 0;
    }
    char *m = mmap(NULL, off, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED)
        return ENOMEM;
    h->ix_map = m;
    h->ix_len = off;
    h->fbits = (uint64_t *)(void *)(m + h->ix_off[0]);
    h->ebits = h->fbits + 1;
    h->fsz = (uint8_t *)(m + h->ix_off[1]);
    for (int a = first_tree; a < h->ix_narr; a++) {
        if (h->kind == POL_BESTFIT)
            h->cw[a - first_tree] = (uint64_t *)(void *)(m + h->ix_off[a]);
        else if (a < first_mb)
            h->mx[a - first_tree] = (uint32_t *)(void *)(m + h->ix_off[a]);
        else
            h->mb[a - first_mb] = (uint8_t *)(m + h->ix_off[a]);
    }
    return 0;
}

size_t pol_count_free(const pol_heap_t *h) {
    /* the granules up to the epilogue's (no block starts above it) */
    size_t ng = ((h->footprint - 16) >> 10) + 1, n = 0;
    for (size_t g = 0; g < ng; g++)
        n += (size_t)__builtin_popcountll(h->fbits[POL_GW * g]);
    return n;
}

void pol_ix_fini(pol_heap_t *h) {
    if (h->ix_map)
        munmap(h->ix_map, h->ix_len);
    h->ix_map = NULL;
}

/* Commit the index pages covering a footprint (never given back: at most the
 * peak footprint / 64 bytes or so). */
int pol_ix_commit(pol_heap_t *h, size_t footprint) {
    if (!h->ix_map)
        return 0;
    size_t G = (footprint >> POL_GRAN_SHIFT) + 1;
    if (G > h->ix_gran)
        G = h->ix_gran;
    if (G <= h->ix_cover)
        return 0;
    for (int a = 0; a < h->ix_narr; a++) {
        size_t need = page_up((G + h->ix_gper[a] - 1) / h->ix_gper[a] * h->ix_esize[a]);
        if (need > h->ix_alen[a])
            need = h->ix_alen[a];
        if (need <= h->ix_done[a])
            continue;
        if (mprotect(h->ix_map + h->ix_off[a] + h->ix_done[a], need - h->ix_done[a],
                     PROT_READ | PROT_WRITE) != 0)
            return -1;
        h->ix_committed += need - h->ix_done[a];
        h->ix_done[a] = need;
    }
    h->ix_cover = G;
    /* The trees' live root is the lowest level with one entry over the
     * covered granules (searches and updates stop there); the levels above
     * it are brought up to date when it rises.  Before the rise, only entry
     * (word) 0 of the old root level can be non-zero. */
    if (h->kind == POL_FIRSTFIT || h->kind == POL_NEXTFIT) {
        int t = 0;
        while (((G - 1) >> (4 * t)) != 0)
            t++;
        for (int k = h->mx_top + 1; k <= t; k++)
            h->mx[k][0] = h->mx[k - 1][0];
        if (t > h->mx_top)
            h->mx_top = t;
        t = 0;
        while (((G - 1) >> (6 * t)) != 0)
            t++;
        for (int k = h->mb_top + 1; k <= t; k++)
            h->mb[k][0] = h->mb[k - 1][0];
        if (t > h->mb_top)
            h->mb_top = t;
    } else if (h->kind == POL_BESTFIT) {
        int t = 0;
        while (((G - 1) >> (6 * (t + 1))) != 0)
            t++;
        for (int k = h->cw_top + 1; k <= t; k++)
            for (unsigned c = 0; c < 64; c++)
                h->cw[k][c] = h->cw[k - 1][c] ? 1 : 0;
        if (t > h->cw_top)
            h->cw_top = t;
    }
    return 0;
}

/* ---- the max tree (firstfit, nextfit) -------------------------------------- */

/* Sixteen entries (one 64-byte node) at a time.  SSE2 has only signed
 * 32-bit compares, so entries are compared with their sign bit flipped. */
#if defined(__SSE2__)
#include <emmintrin.h>
/* bit j set <=> p[j] < v (four compares packed into one byte mask) */
static inline unsigned lt_mask16(const uint32_t *p, uint32_t v) {
    const __m128i f = _mm_set1_epi32((int)0x80000000u), vv = _mm_set1_epi32((int)(v ^ 0x80000000u));
    const __m128i *q = (const __m128i *)(const void *)p;
    __m128i c0 = _mm_cmpgt_epi32(vv, _mm_xor_si128(_mm_loadu_si128(q), f));
    __m128i c1 = _mm_cmpgt_epi32(vv, _mm_xor_si128(_mm_loadu_si128(q + 1), f));
    __m128i c2 = _mm_cmpgt_epi32(vv, _mm_xor_si128(_mm_loadu_si128(q + 2), f));
    __m128i c3 = _mm_cmpgt_epi32(vv, _mm_xor_si128(_mm_loadu_si128(q + 3), f));
    __m128i b = _mm_packs_epi16(_mm_packs_epi32(c0, c1), _mm_packs_epi32(c2, c3));
    return (unsigned)_mm_movemask_epi8(b);
}
/* signed max of two vectors (SSE2 has no pmaxsd) */
static inline __m128i max_epi32(__m128i a, __m128i b) {
    __m128i gt = _mm_cmpgt_epi32(a, b);
    return _mm_or_si128(_mm_and_si128(gt, a), _mm_andnot_si128(gt, b));
}
/* largest of p[0..15], entry `me` counted as 0 */
static inline uint32_t max16_but(const uint32_t *p, unsigned me) {
    const __m128i f = _mm_set1_epi32((int)0x80000000u), sel = _mm_set1_epi32((int)me);
    const __m128i *q = (const __m128i *)(const void *)p;
    /* lane me -> 0 before the sign flip, so it is below everything */
#define POL_LANES(i)                                                               \
    _mm_xor_si128(_mm_andnot_si128(_mm_cmpeq_epi32(_mm_setr_epi32(4 * i, 4 * i + 1, 4 * i + 2, 4 * i + 3), sel), \
                                   _mm_loadu_si128(q + i)),                        \
                  f)
    __m128i m = max_epi32(max_epi32(POL_LANES(0), POL_LANES(1)), max_epi32(POL_LANES(2), POL_LANES(3)));
#undef POL_LANES
    m = max_epi32(m, _mm_shuffle_epi32(m, _MM_SHUFFLE(1, 0, 3, 2)));
    m = max_epi32(m, _mm_shuffle_epi32(m, _MM_SHUFFLE(2, 3, 0, 1)));
    return (uint32_t)_mm_cvtsi128_si32(m) ^ 0x80000000u;
}
#else
static inline unsigned lt_mask16(const uint32_t *p, uint32_t v) {
    unsigned m = 0;
    for (unsigned j = 0; j < 16; j++)
        m |= (unsigned)(p[j] < v) << j;
    return m;
}
static inline uint32_t max16_but(const uint32_t *p, unsigned me) {
    uint32_t m = 0;
    for (unsigned j = 0; j < 16; j++) {
        uint32_t x = j == me ? 0 : p[j];
        m = x > m ? x : m;
    }
    return m;
}
#endif

/* Store entry i of a tree row as a whole aligned 16-byte chunk.  The
 * searches read nodes with 16-byte loads, often right after malloc or free
 * wrote an entry on the same path; a 16-byte load that overlaps a pending
 * 4-byte store cannot take its data from the store buffer and waits until
 * the store reaches the cache (a stall of the whole descent, every level),
 * while one that matches a 16-byte store exactly is forwarded. */
static inline void mx_put(uint32_t *row, size_t i, uint32_t v) {
#if defined(__SSE2__)
    static const uint32_t lanes[4][4] __attribute__((aligned(16))) = {
        {~0u, 0, 0, 0}, {0, ~0u, 0, 0}, {0, 0, ~0u, 0}, {0, 0, 0, ~0u}};
    __m128i *c = (__m128i *)(void *)(row + (i & ~(size_t)3));
    __m128i m = _mm_load_si128((const __m128i *)(const void *)lanes[i & 3]);
    __m128i x = _mm_load_si128(c);
    _mm_store_si128(c, _mm_or_si128(_mm_andnot_si128(m, x), _mm_and_si128(m, _mm_set1_epi32((int)v))));
#else
    row[i] = v;
#endif
}

/* index of the first of 16 entries >= v (one exists) */
static inline unsigned first_ge16(const uint32_t *p, uint32_t v) {
    return (unsigned)__builtin_ctz(~lt_mask16(p, v));
}

static inline void mx_raise(pol_heap_t *h, size_t g, uint32_t v) {
    for (int k = 0; k <= h->mx_top; k++, g >>= 4) {
        if (h->mx[k][g] >= v)
            return;
        mx_put(h->mx[k], g, v);
    }
}

/* Entry g of level 0 becomes v (smaller than before); lower the entries
 * above it while the maximum of their group changes.  Each group's maximum
 * is taken with the new value in a register before it is stored: reading a
 * group right after storing into it would stall on store forwarding. */
static void mx_lower(pol_heap_t *h, size_t g, uint32_t v) {
    for (int k = 0;; k++) {
        uint32_t *grp = h->mx[k] + (g & ~(size_t)15);
        unsigned me = (unsigned)(g & 15);
        /* the parent holds the group's maximum: unchanged unless the old
         * entry was that maximum */
        if (k == h->mx_top || grp[me] < h->mx[k + 1][g >> 4]) {
            mx_put(grp, me, v);
            return;
        }
        uint32_t m = max16_but(grp, me);
        m = v > m ? v : m;
        mx_put(grp, me, v);
        g >>= 4;
        if (h->mx[k + 1][g] == m)
            return;
        v = m;
    }
}

/* ---- the byte tree (firstfit, nextfit): 64-ary, one 64-byte node per
 * line, entries size / 16 saturated at 255 ------------------------------- */

/* saturated size code of a free block: 255 means 4080 bytes or more */
static inline uint8_t code8(size_t size) { return size >= 4080 ? 255 : (uint8_t)(size >> 4); }

static const uint8_t pol_iota[64] __attribute__((aligned(64))) = {
    0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21,
    22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43,
    44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63};

#if defined(__SSE2__)
/* bit j set <=> p[j] >= v, for the 64 entries of one node */
static inline uint64_t ge_mask64(const uint8_t *p, uint8_t v) {
    /* x >= v <=> min(x, v) == v: each entry is used once, so its load
     * folds into the pminub, and v stays in its register */
    const __m128i vv = _mm_set1_epi8((char)v);
    const __m128i *q = (const __m128i *)(const void *)p;
    uint64_t m0 = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(vv, _mm_load_si128(q)), vv));
    uint64_t m1 = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(vv, _mm_load_si128(q + 1)), vv));
    uint64_t m2 = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(vv, _mm_load_si128(q + 2)), vv));
    uint64_t m3 = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(vv, _mm_load_si128(q + 3)), vv));
    return m0 | m1 << 16 | m2 << 32 | m3 << 48;
}
/* bit j set <=> p[j] != 0 */
static inline uint64_t nz_mask64(const uint8_t *p) {
    const __m128i z = _mm_setzero_si128();
    const __m128i *q = (const __m128i *)(const void *)p;
    uint64_t m0 = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_load_si128(q), z));
    uint64_t m1 = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_load_si128(q + 1), z));
    uint64_t m2 = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_load_si128(q + 2), z));
    uint64_t m3 = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_load_si128(q + 3), z));
    return ~(m0 | m1 << 16 | m2 << 32 | m3 << 48);
}
/* largest of p[0..63], entry `me` counted as 0 */
static inline uint8_t max64_but(const uint8_t *p, unsigned me) {
    const __m128i sel = _mm_set1_epi8((char)me);
    const __m128i *q = (const __m128i *)(const void *)p, *l = (const __m128i *)(const void *)pol_iota;
#define POL_LANES(i) _mm_andnot_si128(_mm_cmpeq_epi8(_mm_load_si128(l + i), sel), _mm_load_si128(q + i))
    __m128i m = _mm_max_epu8(_mm_max_epu8(POL_LANES(0), POL_LANES(1)), _mm_max_epu8(POL_LANES(2), POL_LANES(3)));
#undef POL_LANES
    m = _mm_max_epu8(m, _mm_srli_si128(m, 8));
    m = _mm_max_epu8(m, _mm_srli_si128(m, 4));
    m = _mm_max_epu8(m, _mm_srli_si128(m, 2));
    m = _mm_max_epu8(m, _mm_srli_si128(m, 1));
    return (uint8_t)_mm_cvtsi128_si32(m);
}
/* Entry i of a byte row, stored as its whole aligned 16-byte chunk (see
 * mx_put: the node loads that follow are then forwarded). */
static inline void mb_put(uint8_t *row, size_t i, uint8_t v) {
    __m128i *c = (__m128i *)(void *)(row + (i & ~(size_t)15));
    __m128i m = _mm_cmpeq_epi8(_mm_load_si128((const __m128i *)(const void *)pol_iota), _mm_set1_epi8((char)(i & 15)));
    __m128i x = _mm_load_si128(c);
    _mm_store_si128(c, _mm_or_si128(_mm_andnot_si128(m, x), _mm_and_si128(m, _mm_set1_epi8((char)v))));
}
#else
static inline uint64_t ge_mask64(const uint8_t *p, uint8_t v) {
    uint64_t m = 0;
    for (unsigned j = 0; j < 64; j++)
        m |= (uint64_t)(p[j] >= v) << j;
    return m;
}
static inline uint64_t nz_mask64(const uint8_t *p) {
    uint64_t m = 0;
    for (unsigned j = 0; j < 64; j++)
        m |= (uint64_t)(p[j] != 0) << j;
    return m;
}
static inline uint8_t max64_but(const uint8_t *p, unsigned me) {
    uint8_t m = 0;
    for (unsigned j = 0; j < 64; j++)
        if (j != me && p[j] > m)
            m = p[j];
    return m;
}
static inline void mb_put(uint8_t *row, size_t i, uint8_t v) { row[i] = v; }
#endif

static inline void mb_raise(pol_heap_t *h, size_t g, uint8_t v) {
    for (int k = 0; k <= h->mb_top; k++, g >>= 6) {
        if (h->mb[k][g] >= v)
            return;
        mb_put(h->mb[k], g, v);
    }
}

/* Entry g of level 0 becomes v (smaller than before); lower the entries
 * above while their group's maximum changes (as mx_lower). */
static void mb_lower(pol_heap_t *h, size_t g, uint8_t v) {
    for (int k = 0;; k++) {
        uint8_t *grp = h->mb[k] + (g & ~(size_t)63);
        unsigned me = (unsigned)(g & 63);
        if (k == h->mb_top || grp[me] < h->mb[k + 1][g >> 6]) {
            mb_put(grp, me, v);
            return;
        }
        uint8_t m = max64_but(grp, me);
        m = v > m ? v : m;
        mb_put(grp, me, v);
        g >>= 6;
        if (h->mb[k + 1][g] == m)
            return;
        v = m;
    }
}

/* leftmost leaf below entry j of level k with value >= v (entry j has it) */
static inline size_t mb_descend(pol_heap_t *h, int k, size_t j, uint8_t v) {
    while (k > 0) {
        k--;
        j = 64 * j + (size_t)__builtin_ctzll(ge_mask64(h->mb[k] + 64 * j, v));
    }
    return j;
}

/* leftmost granule >= g0 whose largest block has code >= v, or NONE.
 * Entries beyond the covered granules are 0 (never written) and v >= 2. */
static size_t mb_find_from(pol_heap_t *h, size_t g0, uint8_t v) {
    size_t i = g0;
    for (int k = 0;; k++) {
        size_t lim = ((h->ix_cover - 1) >> (6 * k)) + 1;
        if (i < lim) {
            uint64_t m = ge_mask64(h->mb[k] + (i & ~(size_t)63), v) & (~0ull << (i & 63));
            if (m)
                return mb_descend(h, k, (i & ~(size_t)63) + (size_t)__builtin_ctzll(m), v);
        }
        if (k == h->mb_top)
            return NONE;
        i = (i >> 6) + 1;
    }
}

/* rightmost granule < g0 holding a free block, or NONE */
static size_t mb_last_before(pol_heap_t *h, size_t g0) {
    if (g0 == 0)
        return NONE;
    size_t i = g0 - 1;
    for (int k = 0;; k++) {
        size_t start = i & ~(size_t)63;
        uint64_t m = nz_mask64(h->mb[k] + start) & (~0ull >> (63 - (i & 63)));
        if (m) {
            size_t j = start + 63 - (size_t)__builtin_clzll(m);
            while (k > 0) {
                k--;
                j = 64 * j + 63 - (size_t)__builtin_clzll(nz_mask64(h->mb[k] + 64 * j));
            }
            return j;
        }
        if (k == h->mb_top || (i >> 6) == 0)
            return NONE;
        i = (i >> 6) - 1;
    }
}

/* the byte tree's leaf of granule g, from its size bytes */
static uint8_t gran_max8(pol_heap_t *h, size_t g) {
    const uint8_t *z = h->fsz + g * 64;
    uint8_t m = 0;
    for (uint64_t bits = h->fbits[POL_GW * (g)]; bits; bits &= bits - 1) {
        uint8_t c = z[__builtin_ctzll(bits)];
        c = c ? c : 255; /* 0: above 4080 bytes */
        m = c > m ? c : m;
    }
    return m;
}

/* ---- the top and the big tree ---------------------------------------------------
 * The free block just below the epilogue (README: "the top") is in the byte
 * tree like any free block, but not in the big-block tree.  It is the
 * highest free block, so a first-fit search needs it only when no other
 * block fits; and while a heap grows, every malloc is carved from it, which
 * would otherwise lower the big tree over all its levels each time.  A big
 * block (above 4080 bytes) is the top exactly when it ends at the epilogue,
 * so nothing records which block is the top; and as a free block that starts
 * in a granule ends before the next free block there starts, at most one
 * free block above 1 KiB starts in any granule. */
static inline int is_top(const pol_heap_t *h, const char *b, size_t size) { return b + size == pol_epilogue(h); }

/* the top, if there is one and it has at least a bytes (its size in *size) */
static char *top_fit(pol_heap_t *h, size_t a, size_t *size) {
    char *ep = pol_epilogue(h);
    if (!pol_prev_free(h, ep))
        return NULL;
    size_t t = pol_prev_free_size(h, ep);
    if (t < a)
        return NULL;
    *size = t;
    return ep - t;
}

/* the big tree's leaf of granule g: its largest block above 4080 bytes
 * (size / 16, from the header) other than the top, 0 if none */
static uint32_t gran_maxbig(pol_heap_t *h, size_t g) {
    const uint8_t *z = h->fsz + g * 64;
    uint32_t m = 0;
    for (uint64_t bits = h->fbits[POL_GW * (g)]; bits; bits &= bits - 1) {
        size_t s = g * 64 + (size_t)__builtin_ctzll(bits);
        if (z[s & 63] == 0) {
            char *b = blk_at(h, s);
            size_t size = pol_size(b);
            if (!is_top(h, b, size))
                m = (uint32_t)(size >> 4) > m ? (uint32_t)(size >> 4) : m;
        }
    }
    return m;
}

/* granule g gained free block b of `size` (or b grew to it).  A big block
 * that is (now) the top leaves the big tree, or stays out of it. */
static inline void mx_gain(pol_heap_t *h, char *b, size_t g, size_t size) {
    mb_raise(h, g, code8(size));
    if (size > 4080) {
        if (!is_top(h, b, size))
            mx_raise(h, g, (uint32_t)(size >> 4));
        else if (h->mx[0][g] != 0)
            mx_lower(h, g, gran_maxbig(h, g));
    }
}

/* granule g lost a free block of `size` (its fbits and fsz already say so,
 * and any smaller block that replaced it is in them): lower the leaves
 * that it was the maximum of */
static inline void mx_drop(pol_heap_t *h, size_t g, size_t size) {
    uint8_t c = code8(size);
    if (c == h->mb[0][g]) {
        uint8_t nv = gran_max8(h, g);
        if (nv != c)
            mb_lower(h, g, nv);
    }
    if (size > 4080 && (uint32_t)(size >> 4) == h->mx[0][g]) {
        uint32_t nv = gran_maxbig(h, g);
        if (nv != h->mx[0][g])
            mx_lower(h, g, nv);
    }
}

POL_HOT void pol_mx_insert(pol_heap_t *h, char *b, size_t size) {
    size_t s = slot_of(h, b), g = s >> 6;
    h->fbits[POL_GW * (g)] |= 1ull << (s & 63);
    h->fsz[s] = pol_fsz_code(size);
    mx_gain(h, b, g, size);
}

POL_HOT void pol_mx_remove(pol_heap_t *h, char *b, size_t size) {
    size_t s = slot_of(h, b), g = s >> 6;
    h->fbits[POL_GW * (g)] &= ~(1ull << (s & 63));
    mx_drop(h, g, size);
}

POL_HOT void pol_mx_enlarge(pol_heap_t *h, char *b, size_t size) {
    size_t s = slot_of(h, b);
    h->fsz[s] = pol_fsz_code(size);
    mx_gain(h, b, s >> 6, size);
}

/* malloc's split: free block b (size) leaves the index and its tail r
 * (rsize, header already written) enters it.  In one granule: one bitmap
 * write, and the leaves are recomputed only when b was their maximum. */
POL_HOT void pol_mx_split(pol_heap_t *h, char *b, size_t size, char *r, size_t rsize) {
    size_t sb = slot_of(h, b), sr = slot_of(h, r), g = sb >> 6;
    if ((sr >> 6) != g) {
        pol_mx_remove(h, b, size);
        pol_mx_insert(h, r, rsize);
        return;
    }
    h->fbits[POL_GW * (g)] ^= (1ull << (sb & 63)) | (1ull << (sr & 63));
    h->fsz[sr] = pol_fsz_code(rsize);
    mx_drop(h, g, size);
}

/* free's merge with a free next block nb (nsize): nb leaves the index and
 * the block at b (already indexed when `indexed`, else entering) becomes
 * size.  In one granule the leaves can only rise (size > nsize). */
POL_HOT void pol_mx_absorb(pol_heap_t *h, char *b, size_t size, int indexed, char *nb, size_t nsize) {
    size_t sb = slot_of(h, b), sn = slot_of(h, nb), g = sb >> 6;
    if ((sn >> 6) != g) {
        pol_mx_remove(h, nb, nsize);
        if (indexed)
            pol_mx_enlarge(h, b, size);
        else
            pol_mx_insert(h, b, size);
        return;
    }
    uint64_t w = h->fbits[POL_GW * (g)] & ~(1ull << (sn & 63));
    if (!indexed)
        w |= 1ull << (sb & 63);
    h->fbits[POL_GW * (g)] = w;
    h->fsz[sb] = pol_fsz_code(size);
    mx_gain(h, b, g, size);
}

/* first block of size >= a among the free blocks of `bits` (granule g) */
static inline char *walk_fit(pol_heap_t *h, size_t g, uint64_t bits, size_t a, size_t *size) {
    /* The granule's size bytes are one line, needed as soon as bits is
     * known: ask for it now, so that its miss overlaps the one on fbits[g]
     * instead of following it (both depend only on g). */
    __builtin_prefetch(h->fsz + (g << 6));
    uint32_t v = (uint32_t)(a >> 4);
    while (bits) {
        size_t s = g * 64 + (size_t)__builtin_ctzll(bits);
        uint32_t z = fsize16(h, s);
        if (z >= v) {
            *size = (size_t)z << 4;
            return blk_at(h, s);
        }
        bits &= bits - 1;
    }
    return NULL;
}

/* leftmost leaf below entry j of level k with value >= v (entry j has it) */
static inline size_t mx_descend(pol_heap_t *h, int k, size_t j, uint32_t v) {
    while (k > 0) {
        k--;
        j = 16 * j + first_ge16(h->mx[k] + 16 * j, v);
    }
    return j;
}

/* leftmost granule >= g0 holding a big block of size / 16 >= v, or NONE.
 * Entries beyond the covered granules are 0 (never written) and v >= 2, so
 * whole 16-entry nodes are compared (a node never straddles a committed
 * page). */
static size_t mx_find_from(pol_heap_t *h, size_t g0, uint32_t v) {
    size_t i = g0;
    for (int k = 0;; k++) {
        size_t lim = ((h->ix_cover - 1) >> (4 * k)) + 1;
        if (i < lim) {
            unsigned m = ~lt_mask16(h->mx[k] + (i & ~(size_t)15), v) & (0xFFFFu << (i & 15)) & 0xFFFFu;
            if (m)
                return mx_descend(h, k, (i & ~(size_t)15) + (size_t)__builtin_ctz(m), v);
        }
        if (k == h->mx_top)
            return NONE;
        i = (i >> 4) + 1;
    }
}

/* the largest free block's size / 16, or rather at least v when some block
 * has it: requests up to 4080 bytes ask the byte tree, larger ones the big
 * tree */
static inline int mx_any_fits(pol_heap_t *h, uint32_t v) {
    return v <= 255 ? h->mb[h->mb_top][0] >= v : h->mx[h->mx_top][0] >= v;
}

/* leftmost granule >= g0 holding a free block of size / 16 >= v, or NONE */
static inline size_t fit_from(pol_heap_t *h, size_t g0, uint32_t v) {
    return v <= 255 ? mb_find_from(h, g0, (uint8_t)v) : mx_find_from(h, g0, v);
}

POL_HOT char *pol_mx_first_fit(pol_heap_t *h, size_t a, size_t *size) {
    uint32_t v = (uint32_t)(a >> 4);
    size_t g;
    if (v <= 255) {
        if (h->mb[h->mb_top][0] < v)
            return NULL;
        g = mb_descend(h, h->mb_top, 0, (uint8_t)v);
    } else {
        if (h->mx[h->mx_top][0] < v)
            return top_fit(h, a, size); /* the big tree leaves the top out */
        g = mx_descend(h, h->mx_top, 0, v);
    }
    return walk_fit(h, g, h->fbits[POL_GW * (g)], a, size);
}

/* Next fit (README): the free block straddling the rover if it fits, else
 * the leftmost fitting block starting at or after the rover, else the
 * leftmost fitting block of the heap. */
static char *pol_mx_next_fit(pol_heap_t *h, size_t a, size_t rover, size_t *size) {
    uint32_t v = (uint32_t)(a >> 4);
    if (!mx_any_fits(h, v))
        return v > 255 ? top_fit(h, a, size) : NULL; /* the big tree leaves the top out */
    size_t lo = rover <= 8 ? 0 : (rover - 8 + 15) >> 4; /* first slot at or after the rover */
    size_t g = lo >> 6;
    if (g < h->ix_cover) {
        uint64_t below = (1ull << (lo & 63)) - 1, w = h->fbits[POL_GW * (g)];
        size_t ps = NONE;
        if (w & below) {
            ps = g * 64 + 63 - (size_t)__builtin_clzll(w & below);
        } else {
            size_t pg = mb_last_before(h, g);
            if (pg != NONE)
                ps = pg * 64 + 63 - (size_t)__builtin_clzll(h->fbits[POL_GW * (pg)]);
        }
        if (ps != NONE) {
            char *p = blk_at(h, ps);
            size_t psz = (size_t)fsize16(h, ps) << 4;
            if (pol_off(h, p) + psz > rover && psz >= a) {
                *size = psz;
                return p;
            }
        }
        char *b = walk_fit(h, g, w & ~below, a, size);
        if (b)
            return b;
        size_t gg = fit_from(h, g + 1, v);
        if (gg != NONE)
            return walk_fit(h, gg, h->fbits[POL_GW * (gg)], a, size);
        /* a big request: the top, if it starts above the rover's granule
         * (else the two steps above have seen it) */
        if (v > 255 && (b = top_fit(h, a, size)) != NULL && slot_of(h, b) >> 6 > g)
            return b;
    }
    return pol_mx_first_fit(h, a, size);
}

/* the largest free block: the top or the big tree's root, whichever is
 * larger, else the byte tree's (whose 255 then means exactly 4080 bytes) */
static size_t pol_mx_largest(pol_heap_t *h) {
    uint32_t big = h->mx[h->mx_top][0];
    size_t t = 0, m = big ? (size_t)big << 4 : (size_t)h->mb[h->mb_top][0] << 4;
    top_fit(h, 0, &t);
    return t > m ? t : m;
}

/* ---- exact classes (bestfit) ------------------------------------------------- */

static inline unsigned cls(size_t s) { return (unsigned)((s - 32) >> 4); }

/* granule g holds one more free block of class c */
POL_HOT void bf_class_add(pol_heap_t *h, size_t g, unsigned c) {
    if (h->cls_count[c]++ == 0) /* a store only when needed: see pol_seg_insert */
        h->cls_mask |= 1ull << c;
    size_t w = g;
    for (int k = 0; k <= h->cw_top; k++, w >>= 6) {
        uint64_t *x = &h->cw[k][(w >> 6) * 64 + c], was = *x;
        *x = was | (1ull << (w & 63));
        if (was)
            return;
    }
}

POL_HOT void pol_bf_insert(pol_heap_t *h, char *b, size_t sz) {
    size_t s = slot_of(h, b), g = s >> 6;
    h->fbits[POL_GW * (g)] |= 1ull << (s & 63);
    h->fsz[s] = pol_fsz_code(sz);
    if (sz > POL_CLASS_MAX) {
        pol_st_insert(h, b);
        return;
    }
    bf_class_add(h, g, cls(sz));
}

POL_HOT void pol_bf_remove(pol_heap_t *h, char *b, size_t sz) {
    size_t s = slot_of(h, b), g = s >> 6;
    h->fbits[POL_GW * (g)] &= ~(1ull << (s & 63));
    if (sz > POL_CLASS_MAX) {
        pol_st_remove(h, b);
        return;
    }
    unsigned c = cls(sz);
    if (--h->cls_count[c] == 0)
        h->cls_mask &= ~(1ull << c);
    const uint8_t *z = h->fsz + g * 64, code = (uint8_t)(sz >> 4);
    for (uint64_t bits = h->fbits[POL_GW * (g)]; bits; bits &= bits - 1)
        if (z[__builtin_ctzll(bits)] == code)
            return; /* the granule still holds one of this class */
    size_t w = g;
    for (int k = 0; k <= h->cw_top; k++, w >>= 6) {
        uint64_t *x = &h->cw[k][(w >> 6) * 64 + c];
        *x &= ~(1ull << (w & 63));
        if (*x)
            return;
    }
}

/* smallest fitting block, ties to the lowest address */
POL_HOT char *pol_bf_find(pol_heap_t *h, size_t a, size_t *size) {
    if (a <= POL_CLASS_MAX) {
        uint64_t m = h->cls_mask >> cls(a);
        if (m) {
            unsigned c = cls(a) + (unsigned)__builtin_ctzll(m);
            size_t w = 0;
            for (int k = h->cw_top; k >= 0; k--)
                w = w * 64 + (size_t)__builtin_ctzll(h->cw[k][w * 64 + c]);
            size_t sz = 32 + ((size_t)c << 4);
            const uint8_t *z = h->fsz + w * 64, code = (uint8_t)(sz >> 4);
            __builtin_prefetch(z); /* overlaps its miss with fbits[w]'s (walk_fit) */
            for (uint64_t bits = h->fbits[POL_GW * (w)]; bits; bits &= bits - 1) {
                unsigned j = (unsigned)__builtin_ctzll(bits);
                if (z[j] == code) {
                    *size = sz;
                    return blk_at(h, w * 64 + j);
                }
            }
            return NULL; /* unreachable while the index is sound */
        }
    }
    char *b = pol_st_best_fit(h, a);
    if (b)
        *size = pol_size(b);
    return b;
}

static size_t pol_bf_largest(pol_heap_t *h) {
    size_t t = pol_st_largest(h);
    if (t || !h->cls_mask)
        return t;
    return 32 + ((size_t)(63 - __builtin_clzll(h->cls_mask)) << 4);
}

/* ---- membership and the checker ---------------------------------------------- */

int pol_ix_contains(pol_heap_t *h, char *b) {
    size_t s = slot_of(h, b), g = s >> 6;
    if (g >= h->ix_cover || !(h->fbits[POL_GW * (g)] >> (s & 63) & 1))
        return 0;
    if (h->kind != POL_BESTFIT)
        return 1;
    size_t sz = pol_bsize(h, b);
    if (sz > POL_CLASS_MAX)
        return pol_st_contains(h, b);
    return (int)(h->cw[0][(g >> 6) * 64 + cls(sz)] >> (g & 63) & 1);
}

#define FAIL(...)                                                                  \
    do {                                                                           \
        snprintf(err, errlen, __VA_ARGS__);                                        \
        return 1;                                                                  \
    } while (0)

/* compare the stored entries of granule g with what its blocks say */
static int check_gran(pol_heap_t *h, size_t g, uint64_t bits, uint32_t max, uint32_t maxbig,
                      uint64_t classes, char *err, size_t errlen) {
    if (h->fbits[POL_GW * (g)] != bits)
        FAIL("index: free-start bitmap of granule %zu is %#llx, heap says %#llx", g,
             (unsigned long long)h->fbits[POL_GW * (g)], (unsigned long long)bits);
    if (h->kind == POL_BESTFIT) {
        for (unsigned c = 0; c < 64; c++)
            if ((h->cw[0][(g >> 6) * 64 + c] >> (g & 63) & 1) != (classes >> c & 1))
                FAIL("index: class %u bit of granule %zu disagrees with the heap", c, g);
    } else if (h->kind != POL_SEGREGATED) {
        uint8_t want = max > 255 ? 255 : (uint8_t)max;
        if (h->mb[0][g] != want)
            FAIL("index: byte-tree leaf of granule %zu is %u, heap says %u", g, h->mb[0][g], want);
        if (h->mx[0][g] != maxbig)
            FAIL("index: largest big block of granule %zu is %u (x16), heap says %u", g, h->mx[0][g],
                 maxbig);
    }
    return 0;
}

int pol_ix_check(pol_heap_t *h, size_t *count, char *err, size_t errlen) {
    size_t G = h->ix_cover, fp = h->footprint;
    if (G < (fp >> POL_GRAN_SHIFT) + 1 && G < h->ix_gran)
        FAIL("index covers %zu granules, footprint needs %zu", G, (fp >> POL_GRAN_SHIFT) + 1);
    uint32_t recount[64] = {0};
    size_t cur = 0, n = 0, ecur = 0;
    uint64_t bits = 0, classes = 0, ebits = 0;
    uint32_t max = 0, maxbig = 0;
    char *b = h->base + 8, *ep = h->base + fp - 8;
    for (; b < ep; b += pol_bsize(h, b)) {
        size_t s = slot_of(h, b), g = s >> 6, sz = pol_bsize(h, b);
        int used = !pol_is_free(h, b);
        if (sz == 0)
            FAIL("index check: block of size 0");
        if (h->fsz[s] != pol_fsz_code(sz))
            FAIL("index: size byte of the %s block at offset %zu is %u, its size is %zu",
                 used ? "used" : "free", pol_off(h, b), h->fsz[s], sz);
        if (used) {
            size_t pad = pol_pad(b);
            if (h->fsz[s + 1] != (pad < POL_PAD_ESCAPE ? pad : POL_PAD_ESCAPE))
                FAIL("index: padding byte of the used block at offset %zu is %u, its padding is %zu",
                     pol_off(h, b), h->fsz[s + 1], pad);
            continue;
        }
        /* the block (or epilogue) above a free block has its ebits bit;
         * these slots increase along the walk, so compare word by word */
        size_t es = slot_of(h, b + sz);
        for (; ecur < es >> 6; ecur++, ebits = 0)
            if (h->ebits[POL_GW * (ecur)] != ebits)
                FAIL("index: prev-free bitmap of granule %zu is %#llx, heap says %#llx", ecur,
                     (unsigned long long)h->ebits[POL_GW * (ecur)], (unsigned long long)ebits);
        ebits |= 1ull << (es & 63);
        while (cur < g) {
            if (check_gran(h, cur, bits, max, maxbig, classes, err, errlen))
                return 1;
            cur++;
            bits = classes = 0;
            max = maxbig = 0;
        }
        bits |= 1ull << (s & 63);
        max = (uint32_t)(sz >> 4) > max ? (uint32_t)(sz >> 4) : max;
        if (sz > 4080 && (uint32_t)(sz >> 4) > maxbig && b + sz != ep) /* not the top */
            maxbig = (uint32_t)(sz >> 4);
        if (sz <= POL_CLASS_MAX) {
            classes |= 1ull << cls(sz);
            recount[cls(sz)]++;
        }
        n++;
    }
    for (; cur < G; cur++) {
        if (check_gran(h, cur, bits, max, maxbig, classes, err, errlen))
            return 1;
        bits = classes = 0;
        max = maxbig = 0;
    }
    for (; ecur < G; ecur++, ebits = 0)
        if (h->ebits[POL_GW * (ecur)] != ebits)
            FAIL("index: prev-free bitmap of granule %zu is %#llx, heap says %#llx", ecur,
                 (unsigned long long)h->ebits[POL_GW * (ecur)], (unsigned long long)ebits);
    if (h->kind == POL_BESTFIT) {
        for (unsigned c = 0; c < 64; c++) {
            if (h->cls_count[c] != recount[c])
                FAIL("index: class %u counts %u blocks, heap has %u", c, h->cls_count[c], recount[c]);
            if ((h->cls_mask >> c & 1) != (recount[c] != 0))
                FAIL("index: class mask bit %u disagrees with the heap", c);
        }
        size_t words = (G + 63) / 64;
        for (int k = 1; k <= h->cw_top; k++) {
            size_t up = (words + 63) / 64;
            for (size_t w = 0; w < up; w++)
                for (unsigned c = 0; c < 64; c++) {
                    uint64_t want = 0;
                    for (unsigned j = 0; j < 64 && 64 * w + j < words; j++)
                        if (h->cw[k - 1][(64 * w + j) * 64 + c])
                            want |= 1ull << j;
                    if (h->cw[k][w * 64 + c] != want)
                        FAIL("index: class %u summary word %zu of level %d is wrong", c, w, k);
                }
            words = up;
        }
    } else if (h->kind != POL_SEGREGATED) {
        size_t cnt = G;
        for (int k = 1; k <= h->mx_top; k++) {
            size_t up = (cnt + 15) / 16;
            for (size_t i = 0; i < up; i++) {
                uint32_t want = 0;
                for (size_t j = 16 * i; j < 16 * i + 16 && j < cnt; j++)
                    want = h->mx[k - 1][j] > want ? h->mx[k - 1][j] : want;
                if (h->mx[k][i] != want)
                    FAIL("index: big-block tree entry %zu of level %d is %u, children say %u", i, k,
                         h->mx[k][i], want);
            }
            cnt = up;
        }
        cnt = G;
        for (int k = 1; k <= h->mb_top; k++) {
            size_t up = (cnt + 63) / 64;
            for (size_t i = 0; i < up; i++) {
                uint8_t want = 0;
                for (size_t j = 64 * i; j < 64 * i + 64 && j < cnt; j++)
                    want = h->mb[k - 1][j] > want ? h->mb[k - 1][j] : want;
                if (h->mb[k][i] != want)
                    FAIL("index: byte-tree entry %zu of level %d is %u, children say %u", i, k,
                         h->mb[k][i], want);
            }
            cnt = up;
        }
    }
    *count = n;
    return 0;
}
