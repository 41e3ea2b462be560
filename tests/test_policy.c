/*
 * test_policy.c - unit tests of the policy allocators: each policy pinned on
 * hand-built heaps, coalescing in all four neighbour cases, exact statistics,
 * the heap walk, realloc/aligned, edge cases, debug-mode aborts (in a forked
 * child) and a thread test.  Offsets are from the heap base (block starts;
 * the payload is 8 bytes further).
 */
#include "test.h"

#include "allocators/alloc.h"
#include "allocators/policy/policy.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHUNK 4096

static void *heap_new(const alloc_methods_t *m, size_t chunk, int debug) {
    alloc_config_t cfg = {.reserve_bytes = (size_t)64 << 20, .chunk_bytes = chunk, .debug = debug};
    void *h = NULL;
    if (alloc_init(m, &cfg, &h) != 0)
        return NULL;
    return h;
}

/* block offset of payload pointer p */
static long boff(void *h, void *p) { return p ? (long)((char *)p - ((pol_heap_t *)h)->base) - 8 : -1; }

static int heap_ok(const alloc_methods_t *m, void *h) {
    char err[256];
    if (m->check(h, err, sizeof err) != 0) {
        printf("  heap check: %s\n", err);
        return 0;
    }
    return 1;
}

/* ---- walk capture ------------------------------------------------------ */

typedef struct {
    uint64_t off, size;
    int used;
} wblk_t;
typedef struct {
    wblk_t b[64];
    int n;
} walk_t;

static int walk_cb(void *ctx, uint64_t off, uint64_t size, int used) {
    walk_t *w = ctx;
    if (w->n < 64)
        w->b[w->n] = (wblk_t){off, size, used};
    w->n++;
    return 0;
}

static walk_t walk_of(const alloc_methods_t *m, void *h) {
    walk_t w = {.n = 0};
    m->walk(h, walk_cb, &w);
    return w;
}

/* ---- the three-holes heap ------------------------------------------------
 * chunk 4096, no free top:  A@8 (64, free) U1@72 (32) B@104 (32, free)
 * U2@136 (32) C@168 (48, free) U3@216 (32) FILL@248 (3840) end 4088.
 * Request sizes: block = max(32, round16(n + 8)). */
typedef struct {
    void *h, *u1, *u2, *u3, *fill;
} holes_t;

static holes_t holes_new(const alloc_methods_t *m) {
    holes_t t = {0};
    t.h = heap_new(m, CHUNK, 1);
    void *a = m->malloc(t.h, 56);
    t.u1 = m->malloc(t.h, 8);
    void *b = m->malloc(t.h, 24);
    t.u2 = m->malloc(t.h, 8);
    void *c = m->malloc(t.h, 40);
    t.u3 = m->malloc(t.h, 8);
    t.fill = m->malloc(t.h, 3840 - 8);
    m->free(t.h, a);
    m->free(t.h, b);
    m->free(t.h, c);
    return t;
}

/* The statistics with footprint and peak_footprint as the blocks' F alone
 * (the reported figures add the allocator's metadata, checked separately in
 * reported_footprint_counts_the_metadata). */
static void block_stats(const alloc_methods_t *m, void *h, alloc_stats_t *s) {
    alloc_stats(m, h, s);
    s->footprint -= s->metadata_bytes;
    s->peak_footprint -= s->metadata_bytes;
}

TEST(three_holes_layout_is_as_documented) {
    holes_t t = holes_new(&alloc_firstfit_methods);
    walk_t w = walk_of(&alloc_firstfit_methods, t.h);
    static const wblk_t want[] = {{8, 64, 0},   {72, 32, 1},  {104, 32, 0}, {136, 32, 1},
                                  {168, 48, 0}, {216, 32, 1}, {248, 3840, 1}};
    ASSERT_TRUE(w.n == 7);
    for (int i = 0; i < 7; i++) {
        EXPECT_EQ(w.b[i].off, want[i].off);
        EXPECT_EQ(w.b[i].size, want[i].size);
        EXPECT_EQ(w.b[i].used, want[i].used);
    }
    alloc_stats_t s;
    alloc_stats(&alloc_firstfit_methods, t.h, &s);
    EXPECT_EQ(s.free_blocks, 3);
    EXPECT_EQ(s.top_free_bytes, 0);
    EXPECT_EQ(s.largest_free, 64);
    alloc_fini(&alloc_firstfit_methods, t.h);
}

TEST(firstfit_takes_lowest_address) {
    const alloc_methods_t *m = &alloc_firstfit_methods;
    holes_t t = holes_new(m);
    EXPECT_EQ(boff(t.h, m->malloc(t.h, 24)), 8);   /* A, split: rest 32 @40 */
    EXPECT_EQ(boff(t.h, m->malloc(t.h, 24)), 40);  /* A's rest before B */
    EXPECT_EQ(boff(t.h, m->malloc(t.h, 40)), 168); /* only C holds 48 */
    EXPECT_EQ(boff(t.h, m->malloc(t.h, 24)), 104);
    EXPECT_TRUE(heap_ok(m, t.h));
    alloc_fini(m, t.h);
}

/* firstfit and nextfit index blocks of 4080 bytes and more as 255 in their
 * byte tree, and blocks above 4080 bytes also in a tree of their own: a
 * request for 4096 must not take a 4080-byte block that the byte tree
 * counts as 255, and the largest free block of 4080 bytes is reported as
 * such. */
TEST(firstfit_around_the_4080_byte_saturation) {
    const alloc_methods_t *m = &alloc_firstfit_methods;
    void *h = heap_new(m, 64 * 1024, 1);
    ASSERT_TRUE(h != NULL);
    void *x = m->malloc(h, 4072); /* block 4080 @8 */
    void *u1 = m->malloc(h, 8);   /* 32 @4088 */
    void *y = m->malloc(h, 8184); /* block 8192 @4120 */
    void *u2 = m->malloc(h, 8);   /* 32 @12312 */
    EXPECT_EQ(boff(h, x), 8);
    EXPECT_EQ(boff(h, y), 4120);
    m->free(h, x);
    m->free(h, y);
    void *a = m->malloc(h, 4072); /* fits the 4080 hole exactly */
    EXPECT_EQ(boff(h, a), 8);
    m->free(h, a);
    void *b = m->malloc(h, 4088); /* block 4096: not the 4080 hole, the 8192 one */
    EXPECT_EQ(boff(h, b), 4120);
    void *c = m->malloc(h, 4088); /* the rest of the 8192 hole */
    EXPECT_EQ(boff(h, c), 4120 + 4096);
    void *d = m->malloc(h, 4000); /* block 4016: the 4080 hole again */
    EXPECT_EQ(boff(h, d), 8);
    EXPECT_TRUE(heap_ok(m, h));
    (void)u1;
    (void)u2;
    alloc_fini(m, h);

    /* a heap whose only free block is 4080 bytes: largest_free says so */
    h = heap_new(m, 8192, 1);
    ASSERT_TRUE(h != NULL);
    x = m->malloc(h, 4072);      /* 4080 @8 */
    u1 = m->malloc(h, 8);        /* 32 @4088 */
    void *fill = m->malloc(h, 4056); /* 4064 @4120: the heap is full */
    ASSERT_TRUE(x && u1 && fill);
    m->free(h, x);
    alloc_stats_t st;
    alloc_stats(m, h, &st);
    EXPECT_EQ(st.largest_free, 4080);
    EXPECT_EQ(st.free_blocks, 1);
    /* block 4096 does not fit the hole: the heap grows, and the block
     * starts where the epilogue was */
    EXPECT_EQ(boff(h, m->malloc(h, 4080)), 8184);
    EXPECT_TRUE(heap_ok(m, h));
    alloc_fini(m, h);
}

TEST(bestfit_takes_smallest_then_lowest) {
    const alloc_methods_t *m = &alloc_bestfit_methods;
    holes_t t = holes_new(m);
    EXPECT_EQ(boff(t.h, m->malloc(t.h, 24)), 104); /* B: 32 exactly */
    EXPECT_EQ(boff(t.h, m->malloc(t.h, 24)), 168); /* C (48) beats A (64); tail 16 stays padding */
    EXPECT_EQ(boff(t.h, m->malloc(t.h, 24)), 8);
    EXPECT_EQ(boff(t.h, m->malloc(t.h, 24)), 40);
    EXPECT_TRUE(heap_ok(m, t.h));
    alloc_fini(m, t.h);
    /* ties go to the lowest address */
    t = holes_new(m);
    void *x = m->malloc(t.h, 40); /* C: exact 48 */
    EXPECT_EQ(boff(t.h, x), 168);
    m->free(t.h, t.u3); /* frees 216..248: with C used, a 32-byte hole @216 */
    EXPECT_EQ(boff(t.h, m->malloc(t.h, 24)), 104); /* B@104 and @216 are both 32 */
    alloc_fini(m, t.h);
}

TEST(nextfit_starts_at_rover_and_wraps) {
    const alloc_methods_t *m = &alloc_nextfit_methods;
    holes_t t = holes_new(m); /* rover = 4088 (end of FILL) */
    void *a = m->malloc(t.h, 40);
    EXPECT_EQ(boff(t.h, a), 8); /* nothing after the rover: wrap to A */
    EXPECT_EQ(boff(t.h, m->malloc(t.h, 24)), 104); /* rover 72: B */
    m->free(t.h, a);                               /* A free again, below the rover (136) */
    EXPECT_EQ(boff(t.h, m->malloc(t.h, 24)), 168); /* first fit would take A */
    EXPECT_EQ(boff(t.h, m->malloc(t.h, 24)), 8);   /* rover 216: wrap to A */
    EXPECT_TRUE(heap_ok(m, t.h));
    alloc_fini(m, t.h);
}

TEST(nextfit_block_straddling_rover_counts_as_at_rover) {
    const alloc_methods_t *m = &alloc_nextfit_methods;
    holes_t t = holes_new(m);
    void *a = m->malloc(t.h, 24); /* wrap: A@8 split, rover 40, rest 32 @40 */
    EXPECT_EQ(boff(t.h, a), 8);
    m->free(t.h, a); /* coalesces into a 64-byte block @8 that straddles rover 40 */
    EXPECT_EQ(boff(t.h, m->malloc(t.h, 56)), 8);
    alloc_fini(m, t.h);
}

/* The top (out of the big-block tree, README): next fit takes it as the
 * block straddling the rover when the rover lies six granules above the
 * top's start, for a small request and for a big one, although a lower big
 * hole fits both; first fit takes that hole. */
static long top_straddles_rover(const alloc_methods_t *m, size_t n) {
    void *h = heap_new(m, CHUNK, 1);
    void *low = m->malloc(h, 5000);  /* 5008 @8 (the heap grows to 8192) */
    m->malloc(h, 8);                 /* 32 @5016 */
    void *big = m->malloc(h, 6000);  /* 6016 @5048, granule 4 (grows to 12288) */
    void *last = m->malloc(h, 100);  /* 112 @11064; rover 11176, granule 10 */
    EXPECT_EQ(boff(h, last), 11064);
    m->free(h, low);  /* a big hole @8 */
    m->free(h, last); /* into the top: it starts @11064, below the rover */
    m->free(h, big);  /* into the top: 7232 @5048 */
    long off = boff(h, m->malloc(h, n));
    EXPECT_TRUE(heap_ok(m, h));
    alloc_fini(m, h);
    return off;
}

TEST(top_straddling_rover_six_granules_up) {
    EXPECT_EQ(top_straddles_rover(&alloc_nextfit_methods, 100), 5048);
    EXPECT_EQ(top_straddles_rover(&alloc_nextfit_methods, 5000), 5048);
    EXPECT_EQ(top_straddles_rover(&alloc_firstfit_methods, 100), 8);
    EXPECT_EQ(top_straddles_rover(&alloc_firstfit_methods, 5000), 8);
}

TEST(segregated_exact_class_then_larger_class_lifo) {
    const alloc_methods_t *m = &alloc_segregated_methods;
    holes_t t = holes_new(m);
    EXPECT_EQ(boff(t.h, m->malloc(t.h, 40)), 168); /* class 48 */
    EXPECT_EQ(boff(t.h, m->malloc(t.h, 40)), 8);    /* class 48 empty: next class 64 (A), whole */
    EXPECT_EQ(boff(t.h, m->malloc(t.h, 24)), 104);  /* class 32: B */
    EXPECT_EQ(boff(t.h, m->malloc(t.h, 24)), 4088); /* nothing left: the heap grows */
    EXPECT_TRUE(heap_ok(m, t.h));
    alloc_fini(m, t.h);
    /* LIFO within a class */
    void *h = heap_new(m, CHUNK, 1);
    void *x = m->malloc(h, 24), *g1 = m->malloc(h, 8), *y = m->malloc(h, 24), *g2 = m->malloc(h, 8);
    (void)g1;
    (void)g2;
    m->free(h, x);
    m->free(h, y);
    EXPECT_EQ(boff(h, m->malloc(h, 24)), boff(h, y));
    EXPECT_TRUE(heap_ok(m, h));
    alloc_fini(m, h);
    /* above the classes: best fit in the size tree (the top, 2232 bytes, is there too) */
    h = heap_new(m, CHUNK, 1);
    void *big1 = m->malloc(h, 1000), *g3 = m->malloc(h, 8), *big2 = m->malloc(h, 800),
         *g4 = m->malloc(h, 8);
    EXPECT_EQ(boff(h, big1), 8);     /* block 1008 */
    EXPECT_EQ(boff(h, g3), 1016);
    EXPECT_EQ(boff(h, big2), 1048);  /* block 816 */
    EXPECT_EQ(boff(h, g4), 1864);
    m->free(h, big1);
    m->free(h, big2);
    EXPECT_EQ(boff(h, m->malloc(h, 1200)), 1896); /* > 1024: tree; only the top fits */
    EXPECT_EQ(boff(h, m->malloc(h, 700)), 1048);  /* class 720 empty: next class is 816 */
    EXPECT_TRUE(heap_ok(m, h));
    alloc_fini(m, h);
}

/* ---- coalescing ---------------------------------------------------------- */

static void coalesce_case(const alloc_methods_t *m, int free_prev, int free_next) {
    void *h = heap_new(m, CHUNK, 1);
    void *p = m->malloc(h, 56), *q = m->malloc(h, 56), *r = m->malloc(h, 56), *g = m->malloc(h, 8);
    (void)g;
    if (free_prev)
        m->free(h, p);
    if (free_next)
        m->free(h, r);
    m->free(h, q);
    walk_t w = walk_of(m, h);
    uint64_t start = free_prev ? 8 : 72, size = 64 * (1 + free_prev + free_next);
    int found = 0;
    for (int i = 0; i < w.n && i < 64; i++) {
        if (w.b[i].off == start) {
            found = 1;
            EXPECT_EQ(w.b[i].size, size);
            EXPECT_EQ(w.b[i].used, 0);
            if (i + 1 < w.n)
                EXPECT_EQ(w.b[i + 1].used, 1);
            if (i > 0)
                EXPECT_EQ(w.b[i - 1].used, 1);
        }
    }
    EXPECT_TRUE(found);
    alloc_stats_t s;
    block_stats(m, h, &s);
    EXPECT_EQ(s.free_blocks, 1);
    EXPECT_TRUE(heap_ok(m, h));
    alloc_fini(m, h);
}

TEST(coalescing_all_four_neighbour_cases) {
    const alloc_methods_t *all[] = {&alloc_firstfit_methods, &alloc_bestfit_methods,
                                    &alloc_nextfit_methods, &alloc_segregated_methods};
    for (int i = 0; i < 4; i++)
        for (int c = 0; c < 4; c++)
            coalesce_case(all[i], c & 1, c >> 1);
}

TEST(coalescing_with_top_merges_into_top) {
    const alloc_methods_t *m = &alloc_firstfit_methods;
    void *h = heap_new(m, CHUNK, 1);
    void *p = m->malloc(h, 100);
    m->free(h, p);
    walk_t w = walk_of(m, h);
    EXPECT_EQ(w.n, 1);
    EXPECT_EQ(w.b[0].size, CHUNK - 16);
    alloc_fini(m, h);
}

/* ---- statistics ------------------------------------------------------------ */

TEST(stats_exact_after_known_sequence) {
    const alloc_methods_t *m = &alloc_bestfit_methods;
    void *h = heap_new(m, CHUNK, 1);
    alloc_stats_t s;
    block_stats(m, h, &s);
    EXPECT_EQ(s.footprint, CHUNK);
    EXPECT_EQ(s.used_blocks, 0);
    EXPECT_EQ(s.free_blocks, 0);
    EXPECT_EQ(s.top_free_bytes, CHUNK - 16);
    void *a = m->malloc(h, 1);   /* block 32: header 8, payload 1, padding 23 */
    void *b = m->malloc(h, 100); /* block 112: header 8, payload 100, padding 4 */
    block_stats(m, h, &s);
    EXPECT_EQ(s.used_blocks, 2);
    EXPECT_EQ(s.used_bytes, 144);
    EXPECT_EQ(s.header_bytes, 16);
    EXPECT_EQ(s.payload_bytes, 101);
    EXPECT_EQ(s.padding_bytes, 27);
    EXPECT_EQ(s.free_blocks, 0);
    EXPECT_EQ(s.top_free_bytes, CHUNK - 16 - 144);
    EXPECT_EQ(s.free_bytes, CHUNK - 16 - 144);
    EXPECT_EQ(s.largest_free, CHUNK - 16 - 144);
    m->free(h, a);
    block_stats(m, h, &s);
    EXPECT_EQ(s.free_blocks, 1);
    EXPECT_EQ(s.free_bytes, CHUNK - 16 - 112);
    EXPECT_EQ(s.payload_bytes, 100);
    EXPECT_EQ(s.padding_bytes, 4);
    /* growth: need 10016 - 3952 = 6064 more -> two chunks -> footprint 12288 */
    void *c = m->malloc(h, 10000);
    block_stats(m, h, &s);
    EXPECT_EQ(s.footprint, 3 * CHUNK);
    EXPECT_EQ(s.peak_footprint, 3 * CHUNK);
    EXPECT_EQ(s.payload_at_peak_footprint, 10100);
    EXPECT_EQ(boff(h, c), 8 + 32 + 112);
    m->free(h, c);
    /* top 12288-16-144 = 12128 > 2 chunks: trim (12128-4096)/4096 = 1 chunk */
    block_stats(m, h, &s);
    EXPECT_EQ(s.footprint, 2 * CHUNK);
    EXPECT_EQ(s.peak_footprint, 3 * CHUNK);
    EXPECT_EQ(s.top_free_bytes, 2 * CHUNK - 16 - 144);
    /* the header page plus the committed pages of the granule index (one
     * page per array for so small a heap) */
    EXPECT_TRUE(s.metadata_bytes > 4096 && s.metadata_bytes <= 16 * 4096);
    EXPECT_EQ(s.mapped_bytes, s.footprint + s.metadata_bytes);
    m->free(h, b);
    block_stats(m, h, &s);
    EXPECT_EQ(s.used_bytes, 0);
    EXPECT_EQ(s.free_blocks, 0);
    EXPECT_EQ(s.free_bytes, 2 * CHUNK - 16);
    EXPECT_TRUE(heap_ok(m, h));
    alloc_fini(m, h);
}

TEST(ramp_then_free_everything_returns_memory) {
    const alloc_methods_t *m = &alloc_firstfit_methods;
    void *h = heap_new(m, 0, 0); /* default chunk 1 MiB */
    static void *p[20000];
    for (int i = 0; i < 20000; i++)
        p[i] = m->malloc(h, 1000);
    alloc_stats_t s;
    block_stats(m, h, &s);
    EXPECT_GT(s.footprint, 20000 * 1000);
    for (int i = 0; i < 20000; i++)
        m->free(h, p[i]);
    block_stats(m, h, &s);
    EXPECT_LE(s.footprint, 2 << 20);
    EXPECT_GT(s.peak_footprint, 20000 * 1000);
    EXPECT_TRUE(heap_ok(m, h));
    alloc_fini(m, h);
}

/* ---- realloc, aligned, usable_size ---------------------------------------- */

TEST(realloc_in_place_and_moves) {
    const alloc_methods_t *all[] = {&alloc_firstfit_methods, &alloc_bestfit_methods,
                                    &alloc_nextfit_methods, &alloc_segregated_methods};
    for (int i = 0; i < 4; i++) {
        const alloc_methods_t *m = all[i];
        void *h = heap_new(m, CHUNK, 1);
        char *p = m->malloc(h, 200), *q = m->malloc(h, 200), *g = m->malloc(h, 8);
        memset(p, 'x', 200);
        EXPECT_TRUE(m->realloc(h, p, 50) == p); /* shrink in place, tail freed */
        EXPECT_EQ(m->usable_size(h, p), 56);
        EXPECT_TRUE(m->realloc(h, p, 200) == p); /* grow into the freed tail */
        m->free(h, q);
        EXPECT_TRUE(m->realloc(h, p, 400) == p); /* grow into the free next block */
        char *r = m->realloc(h, p, 1000);        /* next is used (g): move */
        EXPECT_TRUE(r != p);
        EXPECT_EQ(r[0], 'x');
        EXPECT_EQ(r[49], 'x');
        char *s = m->realloc(h, r, 3000); /* r is last before the top: grows the heap in place */
        EXPECT_TRUE(s == r);
        EXPECT_TRUE(m->realloc(h, NULL, 10) != NULL);
        (void)g;
        EXPECT_TRUE(heap_ok(m, h));
        alloc_fini(m, h);
    }
}

TEST(aligned_allocations) {
    const alloc_methods_t *all[] = {&alloc_firstfit_methods, &alloc_bestfit_methods,
                                    &alloc_nextfit_methods, &alloc_segregated_methods};
    static const size_t aligns[] = {1, 2, 16, 32, 64, 256, 4096, 65536, 1 << 20};
    for (int i = 0; i < 4; i++) {
        const alloc_methods_t *m = all[i];
        void *h = heap_new(m, CHUNK, 1);
        void *keep[32];
        int nk = 0;
        for (size_t k = 0; k < sizeof aligns / sizeof aligns[0]; k++) {
            void *p = m->aligned(h, aligns[k], 100);
            ASSERT_TRUE(p != NULL);
            EXPECT_EQ((uintptr_t)p % (aligns[k] < 16 ? 16 : aligns[k]), 0);
            memset(p, 1, 100);
            keep[nk++] = p;
            keep[nk++] = m->malloc(h, 24);
        }
        errno = 0;
        EXPECT_TRUE(m->aligned(h, 3, 10) == NULL);
        EXPECT_EQ(errno, EINVAL);
        errno = 0;
        EXPECT_TRUE(m->aligned(h, 0, 10) == NULL);
        EXPECT_EQ(errno, EINVAL);
        EXPECT_TRUE(heap_ok(m, h));
        for (int k = 0; k < nk; k++)
            m->free(h, keep[k]);
        alloc_stats_t s;
        block_stats(m, h, &s);
        EXPECT_EQ(s.used_blocks, 0);
        EXPECT_EQ(s.free_blocks, 0);
        alloc_fini(m, h);
    }
}

/* ---- edge cases ---------------------------------------------------------------- */

TEST(malloc_zero_returns_unique_minimum_blocks) {
    const alloc_methods_t *all[] = {&alloc_firstfit_methods, &alloc_bestfit_methods,
                                    &alloc_nextfit_methods, &alloc_segregated_methods};
    for (int i = 0; i < 4; i++) {
        const alloc_methods_t *m = all[i];
        void *h = heap_new(m, CHUNK, 1);
        void *a = m->malloc(h, 0), *b = m->malloc(h, 0);
        EXPECT_TRUE(a && b && a != b);
        EXPECT_EQ(boff(h, b) - boff(h, a), 32);
        EXPECT_EQ(m->usable_size(h, a), 24);
        void *c = m->aligned(h, 64, 0);
        EXPECT_TRUE(c && (uintptr_t)c % 64 == 0);
        EXPECT_EQ(m->usable_size(h, c), 24);
        /* realloc(p, 0) keeps p as a minimum block */
        void *d = m->malloc(h, 100);
        EXPECT_TRUE(m->realloc(h, d, 0) == d);
        EXPECT_EQ(m->usable_size(h, d), 24);
        alloc_stats_t s;
        block_stats(m, h, &s);
        EXPECT_EQ(s.used_blocks, 4);
        EXPECT_EQ(s.payload_bytes, 0);
        EXPECT_EQ(s.padding_bytes, 4 * 24);
        m->free(h, NULL); /* no-op */
        EXPECT_TRUE(heap_ok(m, h));
        alloc_fini(m, h);
    }
}

TEST(huge_requests_fail_with_enomem_and_heap_intact) {
    const alloc_methods_t *all[] = {&alloc_firstfit_methods, &alloc_bestfit_methods,
                                    &alloc_nextfit_methods, &alloc_segregated_methods};
    static const size_t sizes[] = {SIZE_MAX, SIZE_MAX - 8, SIZE_MAX - 31, SIZE_MAX / 2,
                                   (size_t)64 << 20, ((size_t)64 << 20) + 100};
    for (int i = 0; i < 4; i++) {
        const alloc_methods_t *m = all[i];
        void *h = heap_new(m, CHUNK, 1);
        char *p = m->malloc(h, 100);
        strcpy(p, "intact");
        for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
            errno = 0;
            EXPECT_TRUE(m->malloc(h, sizes[k]) == NULL);
            EXPECT_EQ(errno, ENOMEM);
            errno = 0;
            EXPECT_TRUE(m->realloc(h, p, sizes[k]) == NULL);
            EXPECT_EQ(errno, ENOMEM);
            errno = 0;
            EXPECT_TRUE(m->aligned(h, 64, sizes[k]) == NULL);
            EXPECT_EQ(errno, ENOMEM);
        }
        errno = 0;
        EXPECT_TRUE(m->aligned(h, (size_t)1 << 62, 1) == NULL);
        EXPECT_EQ(errno, ENOMEM);
        EXPECT_STREQ(p, "intact");
        EXPECT_TRUE(heap_ok(m, h));
        alloc_stats_t s;
        block_stats(m, h, &s);
        EXPECT_EQ(s.used_blocks, 1);
        EXPECT_EQ(s.footprint, CHUNK);
        alloc_fini(m, h);
    }
}

/* run fn in a child; 1 if it died of SIGABRT */
static int dies_with_abort(void (*fn)(void)) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open("/dev/null", 1);
        if (fd >= 0)
            dup2(fd, 2);
        fn();
        _exit(0);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    return WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT;
}

static void double_free_child(void) {
    void *h = heap_new(&alloc_bestfit_methods, CHUNK, 1);
    void *p = alloc_bestfit_methods.malloc(h, 40);
    alloc_bestfit_methods.malloc(h, 40);
    alloc_bestfit_methods.free(h, p);
    alloc_bestfit_methods.free(h, p);
}

static void double_free_coalesced_child(void) {
    void *h = heap_new(&alloc_firstfit_methods, CHUNK, 1);
    void *p = alloc_firstfit_methods.malloc(h, 40), *q = alloc_firstfit_methods.malloc(h, 40);
    alloc_firstfit_methods.malloc(h, 40);
    alloc_firstfit_methods.free(h, p);
    alloc_firstfit_methods.free(h, q); /* q merges into p's block */
    alloc_firstfit_methods.free(h, q);
}

static void interior_pointer_child(void) {
    void *h = heap_new(&alloc_nextfit_methods, CHUNK, 1);
    char *p = alloc_nextfit_methods.malloc(h, 100);
    alloc_nextfit_methods.free(h, p + 32);
}

static void outside_pointer_child(void) {
    void *h = heap_new(&alloc_segregated_methods, CHUNK, 1);
    static char elsewhere[64] __attribute__((aligned(16)));
    alloc_segregated_methods.free(h, elsewhere + 16);
}

static void realloc_freed_child(void) {
    void *h = heap_new(&alloc_segregated_methods, CHUNK, 1);
    void *p = alloc_segregated_methods.malloc(h, 100);
    alloc_segregated_methods.malloc(h, 100);
    alloc_segregated_methods.free(h, p);
    alloc_segregated_methods.realloc(h, p, 10);
}

TEST(debug_mode_aborts_on_double_free_and_foreign_pointers) {
    EXPECT_TRUE(dies_with_abort(double_free_child));
    EXPECT_TRUE(dies_with_abort(double_free_coalesced_child));
    EXPECT_TRUE(dies_with_abort(interior_pointer_child));
    EXPECT_TRUE(dies_with_abort(outside_pointer_child));
    EXPECT_TRUE(dies_with_abort(realloc_freed_child));
}

/* Without debug mode, free still refuses a pointer outside the heap, a
 * misaligned one, a double free of a block that is still a free block of
 * its own (its fsz/fbits entries say so; no header is read for it), and one
 * of a block since merged into a free neighbour (its size byte says so). */
static const alloc_methods_t *nodebug_m;
static void nodebug_double_free_child(void) {
    void *h = heap_new(nodebug_m, CHUNK, 0);
    void *p = nodebug_m->malloc(h, 40);
    nodebug_m->malloc(h, 40);
    nodebug_m->free(h, p);
    nodebug_m->free(h, p);
}
/* q merged into p's free block below it: its slot is marked as no longer
 * a block start, and a second free of q is refused */
static void nodebug_double_free_merged_child(void) {
    void *h = heap_new(nodebug_m, CHUNK, 0);
    void *p = nodebug_m->malloc(h, 40), *q = nodebug_m->malloc(h, 40);
    nodebug_m->malloc(h, 40);
    nodebug_m->free(h, p);
    nodebug_m->free(h, q);
    nodebug_m->free(h, q);
}
/* the same when q merged into the free block above it (which it absorbed:
 * q's block is now the start of the merged block, so that case is the
 * plain double free); here p is freed after q, so p absorbs q */
static void nodebug_double_free_absorbed_child(void) {
    void *h = heap_new(nodebug_m, CHUNK, 0);
    void *p = nodebug_m->malloc(h, 40), *q = nodebug_m->malloc(h, 40);
    nodebug_m->malloc(h, 40);
    nodebug_m->free(h, q);
    nodebug_m->free(h, p);
    nodebug_m->free(h, q);
}
static void nodebug_misaligned_child(void) {
    void *h = heap_new(nodebug_m, CHUNK, 0);
    char *p = nodebug_m->malloc(h, 100);
    nodebug_m->free(h, p + 8);
}
static void nodebug_outside_child(void) {
    void *h = heap_new(nodebug_m, CHUNK, 0);
    static char elsewhere[64] __attribute__((aligned(16)));
    nodebug_m->free(h, elsewhere + 16);
}
static void nodebug_big_block_double_free_child(void) {
    void *h = heap_new(nodebug_m, CHUNK, 0);
    void *p = nodebug_m->malloc(h, 5000); /* above 4080: size from the header */
    nodebug_m->malloc(h, 40);
    nodebug_m->free(h, p);
    nodebug_m->free(h, p);
}
static void nodebug_valid_child(void) {
    void *h = heap_new(nodebug_m, CHUNK, 0);
    void *p = nodebug_m->malloc(h, 40), *q = nodebug_m->malloc(h, 5000);
    nodebug_m->free(h, p);
    nodebug_m->free(h, q);
}

TEST(release_mode_refuses_double_free_and_foreign_pointers) {
    const alloc_methods_t *all[] = {&alloc_firstfit_methods, &alloc_bestfit_methods,
                                    &alloc_nextfit_methods, &alloc_segregated_methods};
    for (size_t i = 0; i < 4; i++) {
        nodebug_m = all[i];
        EXPECT_TRUE(dies_with_abort(nodebug_double_free_child));
        EXPECT_TRUE(dies_with_abort(nodebug_double_free_merged_child));
        EXPECT_TRUE(dies_with_abort(nodebug_double_free_absorbed_child));
        EXPECT_TRUE(dies_with_abort(nodebug_misaligned_child));
        EXPECT_TRUE(dies_with_abort(nodebug_outside_child));
        EXPECT_TRUE(dies_with_abort(nodebug_big_block_double_free_child));
        EXPECT_TRUE(!dies_with_abort(nodebug_valid_child));
    }
}

TEST(checker_detects_corruption) {
    const alloc_methods_t *m = &alloc_firstfit_methods;
    void *h = heap_new(m, CHUNK, 0);
    /* p's block spans three granules, so as a free block it has a footer */
    char *p = m->malloc(h, 3000), *q = m->malloc(h, 100);
    m->malloc(h, 8);
    m->free(h, p);
    char err[256] = "";
    EXPECT_EQ(m->check(h, err, sizeof err), 0);
    uint64_t *footer = (uint64_t *)(void *)(q - 16); /* footer of p's free block */
    EXPECT_EQ(*footer, 3008);
    *footer += 16;
    EXPECT_NE(m->check(h, err, sizeof err), 0);
    EXPECT_TRUE(strstr(err, "footer") != NULL);
    *footer -= 16;
    EXPECT_EQ(m->check(h, err, sizeof err), 0);
    /* the granule index must agree with the heap too */
    pol_heap_t *ph = h;
    ph->fbits[0] ^= 1ull << 20;
    EXPECT_NE(m->check(h, err, sizeof err), 0);
    EXPECT_TRUE(strstr(err, "index") != NULL || strstr(err, "missing") != NULL);
    ph->fbits[0] ^= 1ull << 20;
    ph->mx[0][0] += 1;
    EXPECT_NE(m->check(h, err, sizeof err), 0);
    EXPECT_TRUE(strstr(err, "index") != NULL);
    ph->mx[0][0] -= 1;
    EXPECT_EQ(m->check(h, err, sizeof err), 0);
    /* the side arrays: the prev-free bitmap and the size bytes */
    ph->ebits[0] ^= 1ull << 20;
    EXPECT_NE(m->check(h, err, sizeof err), 0);
    ph->ebits[0] ^= 1ull << 20;
    size_t ps = (size_t)((p - 8) - ph->base - 8) >> 4; /* p's free block starts here */
    ph->fsz[ps] += 1;
    EXPECT_NE(m->check(h, err, sizeof err), 0);
    /* a free block's size byte is its size: the footer no longer agrees */
    EXPECT_TRUE(strstr(err, "footer") != NULL);
    ph->fsz[ps] -= 1;
    EXPECT_EQ(m->check(h, err, sizeof err), 0);
    /* a used block's size byte and padding byte */
    char *u = m->malloc(h, 100);
    size_t us = (size_t)((u - 8) - ph->base - 8) >> 4;
    EXPECT_EQ(ph->fsz[us], 112 >> 4);
    EXPECT_EQ(ph->fsz[us + 1], 112 - 8 - 100);
    ph->fsz[us] += 1;
    EXPECT_NE(m->check(h, err, sizeof err), 0);
    EXPECT_TRUE(strstr(err, "size byte of the used block") != NULL);
    ph->fsz[us] -= 1;
    ph->fsz[us + 1] += 1;
    EXPECT_NE(m->check(h, err, sizeof err), 0);
    EXPECT_TRUE(strstr(err, "padding byte") != NULL);
    ph->fsz[us + 1] -= 1;
    EXPECT_EQ(m->check(h, err, sizeof err), 0);
    alloc_fini(m, h);
    /* segregated keeps the two bitmaps too */
    m = &alloc_segregated_methods;
    h = heap_new(m, CHUNK, 0);
    p = m->malloc(h, 100);
    m->malloc(h, 100);
    m->free(h, p);
    EXPECT_EQ(m->check(h, err, sizeof err), 0);
    ph = h;
    ph->ebits[0] ^= 1ull << 3;
    EXPECT_NE(m->check(h, err, sizeof err), 0);
    ph->ebits[0] ^= 1ull << 3;
    ph->fbits[0] ^= 1ull << 3;
    EXPECT_NE(m->check(h, err, sizeof err), 0);
    ph->fbits[0] ^= 1ull << 3;
    EXPECT_EQ(m->check(h, err, sizeof err), 0);
    alloc_fini(m, h);
}

/* Every policy: damage one thing at a time (a boundary tag, a side-array
 * bit, an entry of the policy's search structure, a running counter) and
 * the checker must report it; undone, the heap passes again. */
static int check_fails(const alloc_methods_t *m, void *h, const char *what) {
    char err[256] = "";
    if (m->check(h, err, sizeof err) == 0) {
        TEST_FAIL_AT("%s: the checker missed: %s", m->name, what);
        return 0;
    }
    return 1;
}
#define DAMAGED(what, damage, repair)                                              \
    do {                                                                           \
        damage;                                                                    \
        check_fails(m, h, what);                                                   \
        repair;                                                                    \
        EXPECT_TRUE(heap_ok(m, h));                                                \
    } while (0)

TEST(checker_detects_corruption_of_every_structure) {
    const alloc_methods_t *all[] = {&alloc_firstfit_methods, &alloc_bestfit_methods,
                                    &alloc_nextfit_methods, &alloc_segregated_methods};
    for (int i = 0; i < 4; i++) {
        const alloc_methods_t *m = all[i];
        void *h = heap_new(m, CHUNK, 0);
        pol_heap_t *ph = h;
        /* u: used 112; big: used 5008 (header read); f: free 2016 (treap for
         * bestfit and segregated), s: free 48 (a class, a byte-tree leaf) */
        char *u = m->malloc(h, 100), *f = m->malloc(h, 2000);
        m->malloc(h, 100);
        char *big = m->malloc(h, 5000), *sm = m->malloc(h, 40);
        m->malloc(h, 40);
        m->free(h, f);
        m->free(h, sm);
        ASSERT_TRUE(heap_ok(m, h));
        uint64_t *uh = (uint64_t *)(void *)(u - 8), *bh = (uint64_t *)(void *)(big - 8);
        size_t us = pol_slot(ph, u - 8), ss = pol_slot(ph, sm - 8);
        /* boundary tags */
        DAMAGED("used header size", *uh += 16, *uh -= 16);
        DAMAGED("used header USED bit", *uh &= ~(uint64_t)POL_USED, *uh |= POL_USED);
        DAMAGED("used header padding", *uh += 1ull << 48, *uh -= 1ull << 48);
        DAMAGED("big used header size", *bh += 16, *bh -= 16);
        DAMAGED("epilogue", *pol_hdr(pol_epilogue(ph)) = 0, *pol_hdr(pol_epilogue(ph)) = POL_USED);
        /* side arrays */
        DAMAGED("fbits of a used block", pol_bit_set(ph->fbits, us), pol_bit_clr(ph->fbits, us));
        DAMAGED("fbits of a free block", pol_bit_clr(ph->fbits, ss), pol_bit_set(ph->fbits, ss));
        DAMAGED("ebits", pol_bit_set(ph->ebits, us + 7), pol_bit_clr(ph->ebits, us + 7));
        DAMAGED("size byte of a free block", ph->fsz[ss] += 1, ph->fsz[ss] -= 1);
        /* counters behind the statistics */
        DAMAGED("payload counter", ph->payload += 1, ph->payload -= 1);
        DAMAGED("used counter", ph->used += POL_USE(16), ph->used -= POL_USE(16));
        DAMAGED("free block counter", ph->nfree += 1, ph->nfree -= 1);
        DAMAGED("payload at the peak", ph->payload_at_peak += 1, ph->payload_at_peak -= 1);
        /* the policy's search structure */
        if (m == &alloc_firstfit_methods || m == &alloc_nextfit_methods) {
            DAMAGED("byte-tree leaf", ph->mb[0][0] += 1, ph->mb[0][0] -= 1);
            DAMAGED("big-block tree leaf", ph->mx[0][0] += 1, ph->mx[0][0] -= 1);
            if (ph->mb_top > 0)
                DAMAGED("byte-tree root", ph->mb[ph->mb_top][0] += 1, ph->mb[ph->mb_top][0] -= 1);
        }
        if (m == &alloc_bestfit_methods) {
            unsigned c = pol_seg_class(48);
            DAMAGED("class bitmap bit", ph->cw[0][c] ^= 1, ph->cw[0][c] ^= 1);
            DAMAGED("class bitmap, empty class", ph->cw[0][c + 1] ^= 1, ph->cw[0][c + 1] ^= 1);
            DAMAGED("class count", ph->cls_count[c] += 1, ph->cls_count[c] -= 1);
            DAMAGED("class mask", ph->cls_mask ^= 1ull << (c + 1), ph->cls_mask ^= 1ull << (c + 1));
        }
        if (m == &alloc_bestfit_methods || m == &alloc_segregated_methods) {
            uint32_t root = ph->root, *lk = pol_links(pol_blk(ph, root));
            EXPECT_EQ(pol_blk(ph, root), f - 8);
            DAMAGED("size tree root", ph->root = 0, ph->root = root);
            DAMAGED("size tree link", lk[0] = pol_idx(ph, u - 8), lk[0] = 0);
        }
        if (m == &alloc_segregated_methods) {
            unsigned c = pol_seg_class(48);
            uint32_t head = ph->seg_heads[c];
            EXPECT_EQ(pol_blk(ph, head), sm - 8);
            DAMAGED("class list head", ph->seg_heads[c] = 0, ph->seg_heads[c] = head);
            DAMAGED("class list link", pol_cl_links(sm - 8)[1] = pol_idx(ph, u - 8),
                    pol_cl_links(sm - 8)[1] = 0);
            DAMAGED("class bitmap", ph->seg_bitmap ^= 1ull << c, ph->seg_bitmap ^= 1ull << c);
        }
        alloc_fini(m, h);
    }
}
#undef DAMAGED

/* ---- threads --------------------------------------------------------------- */

typedef struct {
    const alloc_methods_t *m;
    void *h;
    unsigned seed;
} thr_t;

static void *hammer(void *arg) {
    thr_t *t = arg;
    void *live[256] = {0};
    unsigned s = t->seed;
    for (int i = 0; i < 40000; i++) {
        s = s * 1103515245u + 12345u;
        unsigned k = (s >> 8) % 256;
        if (live[k]) {
            if (*(unsigned *)live[k] != k + t->seed)
                abort();
            t->m->free(t->h, live[k]);
            live[k] = NULL;
        } else {
            live[k] = (s >> 20) % 3 == 0 ? t->m->realloc(t->h, NULL, 8 + (s >> 4) % 3000)
                                        : t->m->malloc(t->h, 8 + (s >> 4) % 500);
            *(unsigned *)live[k] = k + t->seed;
        }
    }
    for (int k = 0; k < 256; k++)
        t->m->free(t->h, live[k]);
    return NULL;
}

TEST(threads_hammer_one_heap) {
    const alloc_methods_t *all[] = {&alloc_firstfit_methods, &alloc_bestfit_methods,
                                    &alloc_nextfit_methods, &alloc_segregated_methods};
    for (int i = 0; i < 4; i++) {
        const alloc_methods_t *m = all[i];
        EXPECT_TRUE(m->flags & ALLOC_THREAD_SAFE);
        void *h = heap_new(m, 0, 0);
        pthread_t th[4];
        thr_t a[4];
        for (int k = 0; k < 4; k++) {
            a[k] = (thr_t){m, h, 1000u * (unsigned)k + 7};
            pthread_create(&th[k], NULL, hammer, &a[k]);
        }
        for (int k = 0; k < 4; k++)
            pthread_join(th[k], NULL);
        EXPECT_TRUE(heap_ok(m, h));
        alloc_stats_t s;
        block_stats(m, h, &s);
        EXPECT_EQ(s.used_blocks, 0);
        EXPECT_EQ(s.free_blocks, 0);
        alloc_fini(m, h);
    }
}

/* A heap used while the process is single-threaded (the lock is elided then)
 * and then shared by threads: the threads must see a sound heap and lock. */
TEST(threads_after_single_threaded_use) {
    const alloc_methods_t *all[] = {&alloc_firstfit_methods, &alloc_bestfit_methods,
                                    &alloc_nextfit_methods, &alloc_segregated_methods};
    for (int i = 0; i < 4; i++) {
        const alloc_methods_t *m = all[i];
        void *h = heap_new(m, 0, 0);
        void *keep[512];
        for (int k = 0; k < 512; k++)
            keep[k] = m->malloc(h, 16 + (size_t)(k * 37) % 700);
        for (int k = 0; k < 512; k += 2)
            m->free(h, keep[k]);
        pthread_t th[4];
        thr_t a[4];
        for (int k = 0; k < 4; k++) {
            a[k] = (thr_t){m, h, 77u * (unsigned)k + 3};
            pthread_create(&th[k], NULL, hammer, &a[k]);
        }
        for (int k = 0; k < 4; k++)
            pthread_join(th[k], NULL);
        for (int k = 1; k < 512; k += 2)
            m->free(h, keep[k]);
        EXPECT_TRUE(heap_ok(m, h));
        alloc_stats_t s;
        block_stats(m, h, &s);
        EXPECT_EQ(s.used_blocks, 0);
        EXPECT_EQ(s.free_blocks, 0);
        alloc_fini(m, h);
    }
}

TEST(reported_footprint_counts_the_metadata) {
    const alloc_methods_t *m = &alloc_firstfit_methods;
    void *h = heap_new(m, CHUNK, 0);
    alloc_stats_t s;
    alloc_stats(m, h, &s);
    EXPECT_GT(s.metadata_bytes, 0);
    EXPECT_EQ(s.footprint, CHUNK + s.metadata_bytes);
    EXPECT_EQ(s.mapped_bytes, s.footprint);
    alloc_fini(m, h);
}

TEST(tables_describe_themselves) {
    const alloc_methods_t *all[] = {&alloc_firstfit_methods, &alloc_bestfit_methods,
                                    &alloc_nextfit_methods, &alloc_segregated_methods};
    static const char *names[] = {"firstfit", "bestfit", "nextfit", "segregated"};
    for (int i = 0; i < 4; i++) {
        EXPECT_STREQ(all[i]->name, names[i]);
        EXPECT_TRUE(alloc_find(names[i]) == all[i]);
        EXPECT_TRUE(strncmp(alloc_version(all[i]), "mmbench-", 8) == 0);
        EXPECT_STREQ(all[i]->heap_figure, "exact: bytes committed for blocks plus the allocator's own metadata (index, header page)");
        EXPECT_EQ(all[i]->flags, ALLOC_THREAD_SAFE | ALLOC_POLICY);
        EXPECT_TRUE(alloc_is_available(all[i], NULL));
        EXPECT_TRUE(all[i]->walk && all[i]->check && all[i]->stats && all[i]->aligned);
    }
}

int main(void) {
    RUN(three_holes_layout_is_as_documented);
    RUN(firstfit_takes_lowest_address);
    RUN(firstfit_around_the_4080_byte_saturation);
    RUN(bestfit_takes_smallest_then_lowest);
    RUN(nextfit_starts_at_rover_and_wraps);
    RUN(nextfit_block_straddling_rover_counts_as_at_rover);
    RUN(top_straddling_rover_six_granules_up);
    RUN(segregated_exact_class_then_larger_class_lifo);
    RUN(coalescing_all_four_neighbour_cases);
    RUN(coalescing_with_top_merges_into_top);
    RUN(stats_exact_after_known_sequence);
    RUN(ramp_then_free_everything_returns_memory);
    RUN(realloc_in_place_and_moves);
    RUN(aligned_allocations);
    RUN(malloc_zero_returns_unique_minimum_blocks);
    RUN(huge_requests_fail_with_enomem_and_heap_intact);
    RUN(debug_mode_aborts_on_double_free_and_foreign_pointers);
    RUN(release_mode_refuses_double_free_and_foreign_pointers);
    RUN(checker_detects_corruption);
    RUN(checker_detects_corruption_of_every_structure);
    RUN(threads_after_single_threaded_use);
    RUN(threads_hammer_one_heap);
    RUN(reported_footprint_counts_the_metadata);
    RUN(tables_describe_themselves);
    return test_report();
}
