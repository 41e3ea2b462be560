/*
 * test_buffer.c - the buffer manager (allocators/buffer/buf.h): alignment and
 * padding, init values, overlap registry, callbacks, delayed release,
 * slices, extraction, resizing, builders, pools (statistics, cap, trace
 * logging, canaries), the default pool and the "buffer:NAME" table.
 */
#define _GNU_SOURCE
#include "allocators/alloc.h"
#include "allocators/buffer/buf.h"
#include "test.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/wait.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- helpers ------------------------------------------------------------------ */

typedef struct counter {
    int calls;
    uint64_t ids[16];
    size_t last_size, last_items, last_item_size;
    void *last_addr;
} counter_t;

static void count_death(const buf_death_info_t *info, void *ctx) {
    counter_t *c = ctx;
    if (c->calls < 16)
        c->ids[c->calls] = info->id;
    c->calls++;
    c->last_size = info->size;
    c->last_items = info->num_items;
    c->last_item_size = info->item_size;
    c->last_addr = info->addr;
}

static void count_release(void *ptr, size_t size, void *ctx) {
    (void)ptr, (void)size;
    (*(int *)ctx)++;
}

static buf_pool_t *bump_pool(void) {
    buf_pool_t *p = NULL;
    if (buf_pool_new(&p, "bump") != BUF_OK)
        return NULL;
    return p;
}

/* A pool's statistics: bytes now, peak, total, allocations, frees. */
static void expect_pool_stats(buf_pool_t *p, uint64_t now, uint64_t peak, uint64_t total, uint64_t allocations,
                              uint64_t frees) {
    buf_pool_stats_t s;
    buf_pool_get_stats(p, &s);
    EXPECT_EQ(s.bytes_now, now);
    EXPECT_EQ(s.peak, peak);
    EXPECT_EQ(s.total, total);
    EXPECT_EQ(s.allocations, allocations);
    EXPECT_EQ(s.frees, frees);
}

static int all_zero(const void *p, size_t n) {
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++)
        if (c[i])
            return 0;
    return 1;
}

/* ---- buffers ---------------------------------------------------------------- */

TEST(every_error_code_has_a_message) {
    for (int i = 0; i < BUF_NERRORS; i++) {
        const char *m = buf_strerror(i);
        EXPECT_TRUE(m && *m);
        EXPECT_TRUE(strcmp(m, buf_strerror(-1)) != 0);
        for (int j = 0; j < i; j++)
            EXPECT_TRUE(strcmp(m, buf_strerror(j)) != 0);
    }
    EXPECT_STREQ(buf_strerror(9999), "unknown buffer manager error code");
    EXPECT_STREQ(buf_strerror(BUF_EOVERLAP), "memory overlaps a region the buffer manager already knows");
}

TEST(aligned_to_64_with_zeroed_padding_for_many_sizes) {
    static const size_t items[] = {1, 3, 8, 24};
    for (size_t k = 0; k < sizeof items / sizeof items[0]; k++)
        for (size_t n = 0; n < 300; n += (n < 70 ? 1 : 7)) {
            buf_t *b;
            ASSERT_TRUE(buf_new(&b, n, items[k], NULL) == BUF_OK);
            size_t size = n * items[k];
            EXPECT_EQ((uintptr_t)buf_data(b) % 64, 0);
            EXPECT_EQ(buf_capacity(b) % 64, 0);
            EXPECT_GE(buf_capacity(b), size);
            EXPECT_LT(buf_capacity(b) - size, 64 + (size == 0 ? 1 : 0));
            EXPECT_EQ(buf_size(b), size);
            EXPECT_TRUE(all_zero((const char *)buf_data(b) + size, buf_capacity(b) - size));
            buf_release(b);
        }
    buf_t *big;
    ASSERT_TRUE(buf_new(&big, 1000001, 1, NULL) == BUF_OK);
    EXPECT_EQ(buf_capacity(big), 1000064);
    EXPECT_TRUE(all_zero((const char *)buf_data(big) + 1000001, 63));
    buf_release(big);
}

TEST(init_values_none_zero_byte) {
    buf_opts_t o = BUF_OPTS_INIT;
    buf_t *b;
    o.init = BUF_INIT_ZERO;
    ASSERT_TRUE(buf_new(&b, 100, 3, &o) == BUF_OK);
    EXPECT_TRUE(all_zero(buf_data(b), buf_capacity(b)));
    buf_release(b);
    o.init = BUF_INIT_BYTE;
    o.init_byte = 0xAB;
    ASSERT_TRUE(buf_new(&b, 70, 1, &o) == BUF_OK);
    const unsigned char *c = buf_data(b);
    int ok = 1;
    for (int i = 0; i < 70; i++)
        ok &= c[i] == 0xAB;
    EXPECT_TRUE(ok);
    EXPECT_TRUE(all_zero(c + 70, 128 - 70));
    buf_release(b);
    o.init = 7;
    EXPECT_EQ(buf_new(&b, 1, 1, &o), BUF_EINVAL);
}

TEST(size_overflow_is_an_error_not_a_wrap) {
    buf_t *b = (buf_t *)1;
    EXPECT_EQ(buf_new(&b, SIZE_MAX / 2 + 1, 2, NULL), BUF_EOVERFLOW);
    EXPECT_TRUE(b == NULL);
    EXPECT_EQ(buf_new(&b, SIZE_MAX - 10, 1, NULL), BUF_EOVERFLOW);
    EXPECT_EQ(buf_new(&b, (size_t)1 << 40, (size_t)1 << 40, NULL), BUF_EOVERFLOW);
    char x[8];
    EXPECT_EQ(buf_consume(&b, x, SIZE_MAX, 2, NULL, NULL, NULL), BUF_EOVERFLOW);
}

/* The product may fit and the block still not: capacity rounded up to 64
 * plus the 64-byte prefix.  That is BUF_EOVERFLOW too, and its message says
 * so rather than claiming that num_items x item_size itself overflowed. */
TEST(size_overflow_of_the_padded_block_says_so) {
    buf_t *b;
    EXPECT_EQ(buf_new(&b, SIZE_MAX - 63, 1, NULL), BUF_EOVERFLOW);
    EXPECT_EQ(buf_new(&b, 1, SIZE_MAX - 100, NULL), BUF_EOVERFLOW);
    EXPECT_TRUE(strstr(buf_strerror(BUF_EOVERFLOW), "padded to 64 bytes") != NULL);
    buf_builder_t *bb;
    EXPECT_EQ(buf_builder_new(&bb, NULL, SIZE_MAX - 70), BUF_EOVERFLOW);
    ASSERT_TRUE(buf_builder_new(&bb, NULL, 0) == BUF_OK);
    EXPECT_EQ(buf_builder_append(bb, "x", SIZE_MAX / 2 + 1), BUF_EOVERFLOW);
    buf_builder_free(bb);
}

TEST(death_callback_runs_once_with_the_buffers_facts) {
    counter_t c = {0};
    buf_opts_t o = BUF_OPTS_INIT;
    o.on_death = count_death;
    o.death_ctx = &c;
    o.id = 4242;
    buf_t *b;
    ASSERT_TRUE(buf_new(&b, 10, 8, &o) == BUF_OK);
    void *addr = (void *)buf_data(b);
    buf_retain(b);
    buf_release(b);
    EXPECT_EQ(c.calls, 0);
    buf_release(b);
    EXPECT_EQ(c.calls, 1);
    EXPECT_EQ(c.ids[0], 4242);
    EXPECT_EQ(c.last_size, 80);
    EXPECT_EQ(c.last_items, 10);
    EXPECT_EQ(c.last_item_size, 8);
    EXPECT_TRUE(c.last_addr == addr);
    /* without an id: a counter, distinct per buffer */
    o.id = 0;
    buf_t *b1, *b2;
    ASSERT_TRUE(buf_new(&b1, 1, 1, &o) == BUF_OK);
    ASSERT_TRUE(buf_new(&b2, 1, 1, &o) == BUF_OK);
    EXPECT_NE(buf_id(b1), 0);
    EXPECT_GT(buf_id(b2), buf_id(b1));
    buf_release(b1);
    buf_release(b2);
    EXPECT_EQ(c.calls, 3);
    EXPECT_NE(c.ids[1], c.ids[2]);
}

/* ---- consume and the overlap registry ------------------------------------------------ */

TEST(consume_refuses_every_overlap_and_accepts_touching) {
    char *arena = malloc(4096);
    ASSERT_TRUE(arena != NULL);
    int released = 0;
    size_t before = buf_registry_count();
    buf_t *known, *x = NULL;
    ASSERT_TRUE(buf_consume(&known, arena + 1024, 1024, 1, count_release, &released, NULL) == BUF_OK);
    EXPECT_EQ(buf_registry_count(), before + 1);
    /* new strictly inside the known region */
    EXPECT_EQ(buf_consume(&x, arena + 1100, 100, 1, count_release, &released, NULL), BUF_EOVERLAP);
    /* new strictly containing the known region */
    EXPECT_EQ(buf_consume(&x, arena + 512, 2048, 1, count_release, &released, NULL), BUF_EOVERLAP);
    /* partial overlaps, both sides */
    EXPECT_EQ(buf_consume(&x, arena + 1000, 100, 1, count_release, &released, NULL), BUF_EOVERLAP);
    EXPECT_EQ(buf_consume(&x, arena + 2000, 100, 1, count_release, &released, NULL), BUF_EOVERLAP);
    /* one byte of overlap at each edge */
    EXPECT_EQ(buf_consume(&x, arena + 1023, 2, 1, count_release, &released, NULL), BUF_EOVERLAP);
    EXPECT_EQ(buf_consume(&x, arena + 2047, 2, 1, count_release, &released, NULL), BUF_EOVERLAP);
    /* double consume of the same region */
    EXPECT_EQ(buf_consume(&x, arena + 1024, 1024, 1, count_release, &released, NULL), BUF_EOVERLAP);
    EXPECT_TRUE(x == NULL);
    EXPECT_EQ(released, 0);
    /* touching edges are fine */
    buf_t *left, *right;
    EXPECT_EQ(buf_consume(&left, arena, 256, 4, count_release, &released, NULL), BUF_OK);
    EXPECT_EQ(buf_consume(&right, arena + 2048, 2048, 1, count_release, &released, NULL), BUF_OK);
    EXPECT_EQ(buf_registry_check(), BUF_OK);
    EXPECT_EQ(buf_registry_count(), before + 3);
    const buf_t *owner;
    EXPECT_EQ(buf_registry_lookup(arena + 1500, 1, &owner), BUF_OK);
    EXPECT_TRUE(owner == known);
    /* the region leaves the registry when its buffer dies; release once */
    buf_release(known);
    EXPECT_EQ(released, 1);
    EXPECT_EQ(buf_registry_count(), before + 2);
    EXPECT_EQ(buf_consume(&known, arena + 1024, 1024, 1, count_release, &released, NULL), BUF_OK);
    buf_release(known);
    buf_release(left);
    buf_release(right);
    EXPECT_EQ(released, 4);
    EXPECT_EQ(buf_registry_count(), before);
    free(arena);
}

TEST(consume_refuses_empty_null_and_wrapping_regions) {
    char mem[64];
    int released = 0;
    buf_t *x = (buf_t *)1;
    size_t before = buf_registry_count();
    EXPECT_EQ(buf_consume(&x, mem, 0, 8, count_release, &released, NULL), BUF_EINVAL);
    EXPECT_TRUE(x == NULL);
    EXPECT_EQ(buf_consume(&x, mem, 8, 0, count_release, &released, NULL), BUF_EINVAL);
    EXPECT_EQ(buf_consume(&x, NULL, 8, 1, count_release, &released, NULL), BUF_EINVAL);
    EXPECT_EQ(buf_consume(&x, mem, SIZE_MAX - 8, 1, count_release, &released, NULL), BUF_EINVAL);
    EXPECT_EQ(released, 0);
    EXPECT_EQ(buf_registry_count(), before);
}

TEST(consume_refuses_memory_inside_an_owned_buffer) {
    buf_t *b, *x;
    ASSERT_TRUE(buf_new(&b, 256, 1, NULL) == BUF_OK);
    int released = 0;
    char *d = buf_mutable_data(b);
    EXPECT_EQ(buf_consume(&x, d + 8, 8, 1, count_release, &released, NULL), BUF_EOVERLAP);
    EXPECT_EQ(buf_consume(&x, d - 4096, 8192, 1, count_release, &released, NULL), BUF_EOVERLAP);
    EXPECT_EQ(released, 0);
    EXPECT_TRUE(buf_from_data(d) == b);
    EXPECT_TRUE(buf_from_data(d + 1) == NULL);
    buf_release(b);
}

TEST(consumed_release_callback_called_exactly_once_with_slices) {
    char *mem = malloc(100);
    int released = 0;
    buf_t *b, *s;
    ASSERT_TRUE(buf_consume(&b, mem, 25, 4, count_release, &released, NULL) == BUF_OK);
    EXPECT_EQ(buf_size(b), 100);
    EXPECT_TRUE(buf_data(b) == mem);
    ASSERT_TRUE(buf_slice(b, 5, 5, &s) == BUF_OK);
    buf_release(b);
    EXPECT_EQ(released, 0);
    buf_release(s);
    EXPECT_EQ(released, 1);
    free(mem);
}

TEST(registry_lookup_of_a_range_to_the_end_of_memory) {
    char *arena = malloc(256);
    ASSERT_TRUE(arena != NULL);
    buf_t *b;
    ASSERT_TRUE(buf_consume(&b, arena + 64, 64, 1, NULL, NULL, NULL) == BUF_OK);
    const buf_t *owner = NULL;
    /* [arena, arena + SIZE_MAX) runs past the top of the address space: it
     * still contains the region (it used to wrap to below arena) */
    EXPECT_EQ(buf_registry_lookup(arena, SIZE_MAX, &owner), BUF_OK);
    EXPECT_TRUE(owner == b);
    EXPECT_EQ(buf_registry_lookup(arena + 128, SIZE_MAX, &owner), BUF_ERANGE);
    EXPECT_EQ(buf_registry_lookup(arena + 64, 0, &owner), BUF_OK); /* 0 counts as 1 byte */
    EXPECT_EQ(buf_registry_lookup(arena + 63, 1, &owner), BUF_ERANGE);
    EXPECT_EQ(buf_registry_lookup(arena + 128, 1, &owner), BUF_ERANGE);
    buf_release(b);
    free(arena);
}

TEST(registry_stays_balanced_with_many_buffers) {
    enum { N = 5000 };
    buf_t **bs = malloc(N * sizeof *bs);
    size_t before = buf_registry_count();
    for (int i = 0; i < N; i++)
        ASSERT_TRUE(buf_new(&bs[i], (size_t)(i % 97) + 1, 8, NULL) == BUF_OK);
    EXPECT_EQ(buf_registry_count(), before + N);
    EXPECT_EQ(buf_registry_check(), BUF_OK);
    for (int i = 0; i < N; i += 2)
        buf_release(bs[i]);
    EXPECT_EQ(buf_registry_check(), BUF_OK);
    for (int i = 1; i < N; i += 2)
        buf_release(bs[i]);
    EXPECT_EQ(buf_registry_count(), before);
    EXPECT_EQ(buf_registry_check(), BUF_OK);
    free(bs);
}

/* Random consume/release against a naive model: exact overlap answers, and
 * the tree stays sound through many splits, borrows and merges. */
TEST(registry_matches_a_naive_model) {
    enum { ARENA = 1 << 16, LIVE = 3000, OPS = 40000 };
    char *arena = malloc(ARENA);
    ASSERT_TRUE(arena != NULL);
    static buf_t *bs[LIVE];
    static size_t lo[LIVE], hi[LIVE];
    memset(bs, 0, sizeof bs);
    size_t before = buf_registry_count(), live = 0;
    uint64_t x = 88172645463325252ull;
    for (int op = 0; op < OPS; op++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        size_t k = (size_t)(x % LIVE);
        if (bs[k]) {
            EXPECT_EQ(buf_release(bs[k]), BUF_OK);
            bs[k] = NULL;
            live--;
        } else {
            size_t a = (size_t)((x >> 20) % (ARENA - 64)), n = (size_t)((x >> 40) % 48) + 1;
            int overlaps = 0;
            for (size_t j = 0; j < LIVE; j++)
                if (bs[j] && a < hi[j] && lo[j] < a + n)
                    overlaps = 1;
            int rc = buf_consume(&bs[k], arena + a, n, 1, NULL, NULL, NULL);
            EXPECT_EQ(rc, overlaps ? BUF_EOVERLAP : BUF_OK);
            if (rc == BUF_OK) {
                lo[k] = a;
                hi[k] = a + n;
                live++;
            }
            const buf_t *owner;
            EXPECT_EQ(buf_registry_lookup(arena + a, n, &owner), BUF_OK);
        }
        if (op % 4000 == 0)
            EXPECT_EQ(buf_registry_check(), BUF_OK);
    }
    EXPECT_EQ(buf_registry_count(), before + live);
    EXPECT_EQ(buf_registry_check(), BUF_OK);
    for (size_t j = 0; j < LIVE; j++)
        if (bs[j])
            buf_release(bs[j]);
    EXPECT_EQ(buf_registry_count(), before);
    EXPECT_EQ(buf_registry_check(), BUF_OK);
    free(arena);
}

static void *churn(void *arg) {
    (void)arg;
    buf_t *keep[64] = {0};
    for (int i = 0; i < 20000; i++) {
        int k = i % 64;
        buf_release(keep[k]);
        keep[k] = NULL;
        buf_new(&keep[k], (size_t)(i % 300), 1, NULL);
    }
    for (int k = 0; k < 64; k++)
        buf_release(keep[k]);
    return NULL;
}

TEST(threads_create_and_release_concurrently) {
    pthread_t t[4];
    size_t before = buf_registry_count();
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, churn, NULL);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    EXPECT_EQ(buf_registry_count(), before);
    EXPECT_EQ(buf_registry_check(), BUF_OK);
}

/* Ids come from one counter whatever makes the buffer (owned, consumed,
 * slice); a pool's references and statistics stay exact with 4 threads
 * sharing it, and the pool outlives its creator's destroy. */
static void *churn_pool(void *arg) {
    buf_opts_t o = BUF_OPTS_INIT;
    o.pool = arg;
    buf_t *keep[32] = {0};
    for (int i = 0; i < 5000; i++) {
        int k = i % 32;
        buf_release(keep[k]);
        keep[k] = NULL;
        buf_new(&keep[k], (size_t)(i % 200) + 1, 1, &o);
        if (keep[k] && i % 7 == 0) {
            buf_t *s;
            if (buf_slice(keep[k], 0, 1, &s) == BUF_OK)
                buf_release(s);
        }
    }
    for (int k = 0; k < 32; k++)
        buf_release(keep[k]);
    return NULL;
}

TEST(ids_increase_and_pool_references_are_exact_across_threads) {
    buf_t *a, *s, *c;
    static char ext[64];
    ASSERT_TRUE(buf_new(&a, 4, 1, NULL) == BUF_OK);
    ASSERT_TRUE(buf_slice(a, 0, 2, &s) == BUF_OK);
    ASSERT_TRUE(buf_consume(&c, ext, sizeof ext, 1, NULL, NULL, NULL) == BUF_OK);
    EXPECT_GT(buf_id(s), buf_id(a));
    EXPECT_GT(buf_id(c), buf_id(s));
    buf_release(s);
    buf_release(a);
    buf_release(c);

    buf_pool_t *pool;
    ASSERT_TRUE(buf_pool_new(&pool, "glibc") == BUF_OK);
    buf_t *held;
    buf_opts_t o = BUF_OPTS_INIT;
    o.pool = pool;
    ASSERT_TRUE(buf_new(&held, 10, 1, &o) == BUF_OK);
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, churn_pool, pool);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    buf_pool_stats_t st;
    buf_pool_get_stats(pool, &st);
    /* only held is left: its handle and its block */
    EXPECT_EQ(st.allocations - st.frees, 2);
    EXPECT_GT(st.bytes_now, (uint64_t)(buf_capacity(held) + 64)); /* + the handle */
    EXPECT_LT(st.bytes_now, (uint64_t)(buf_capacity(held) + 64 + 1024));
    buf_pool_destroy(pool);          /* held keeps the pool alive */
    EXPECT_TRUE(buf_pool_of(held) == pool);
    EXPECT_EQ(buf_release(held), BUF_OK); /* the pool goes now (ASan: no leak, no use after free) */
    EXPECT_EQ(buf_registry_check(), BUF_OK);
}

/* ---- delayed release ------------------------------------------------------------- */

static int list_ids(const buf_t *b, void *ctx) {
    uint64_t **p = ctx;
    *(*p)++ = buf_id(b);
    return 0;
}

TEST(delayed_buffers_wait_and_die_only_when_collected) {
    buf_delayed_collect(SIZE_MAX);
    counter_t c = {0};
    buf_opts_t o = BUF_OPTS_INIT;
    o.on_death = count_death;
    o.death_ctx = &c;
    o.delayed = 1;
    buf_t *b[5];
    size_t bytes = 0;
    for (int i = 0; i < 5; i++) {
        o.id = 100 + (uint64_t)i;
        ASSERT_TRUE(buf_new(&b[i], (size_t)(i + 1) * 50, 1, &o) == BUF_OK);
        bytes += buf_capacity(b[i]);
    }
    size_t regs = buf_registry_count();
    for (int i = 0; i < 5; i++)
        buf_release(b[i]);
    EXPECT_EQ(c.calls, 0);
    EXPECT_EQ(buf_delayed_count(), 5);
    EXPECT_EQ(buf_delayed_bytes(), bytes);
    EXPECT_EQ(buf_registry_count(), regs); /* still known while waiting */
    uint64_t ids[5] = {0}, *p = ids;
    EXPECT_EQ(buf_delayed_foreach(list_ids, &p), 0);
    EXPECT_EQ(ids[0], 100);
    EXPECT_EQ(ids[4], 104);
    /* collect up to N, oldest first */
    EXPECT_EQ(buf_delayed_collect(2), 2);
    EXPECT_EQ(c.calls, 2);
    EXPECT_EQ(c.ids[0], 100);
    EXPECT_EQ(c.ids[1], 101);
    EXPECT_EQ(buf_delayed_count(), 3);
    EXPECT_EQ(buf_registry_count(), regs - 2);
    EXPECT_EQ(buf_delayed_collect(SIZE_MAX), 3);
    EXPECT_EQ(c.calls, 5);
    EXPECT_EQ(c.ids[4], 104);
    EXPECT_EQ(buf_delayed_count(), 0);
    EXPECT_EQ(buf_delayed_bytes(), 0);
    EXPECT_EQ(buf_delayed_collect(SIZE_MAX), 0);
}

/* A released delayed buffer waits in the registry, but buf_from_data no
 * longer hands it out: a caller that retained it and released it again
 * queued it twice, and the collection destroyed it twice (use after free). */
TEST(a_waiting_delayed_buffer_is_not_found_by_its_data) {
    counter_t c = {0};
    buf_opts_t o = BUF_OPTS_INIT;
    o.delayed = 1;
    o.on_death = count_death;
    o.death_ctx = &c;
    buf_t *b;
    ASSERT_TRUE(buf_new(&b, 10, 1, &o) == BUF_OK);
    const void *d = buf_data(b);
    EXPECT_TRUE(buf_from_data(d) == b); /* alive: found */
    buf_release(b);                     /* waits */
    EXPECT_EQ(buf_delayed_count(), 1);
    const buf_t *who;
    EXPECT_EQ(buf_registry_lookup(d, 1, &who), BUF_OK); /* still registered */
    buf_t *again = buf_from_data(d);
    EXPECT_TRUE(again == NULL);
    if (again) { /* what a caller would do with it */
        buf_retain(again);
        buf_release(again);
    }
    EXPECT_EQ(buf_delayed_count(), 1);
    EXPECT_EQ(buf_delayed_collect(SIZE_MAX), 1);
    EXPECT_EQ(c.calls, 1);
}

TEST(set_delayed_after_creation) {
    counter_t c = {0};
    buf_opts_t o = BUF_OPTS_INIT;
    o.on_death = count_death;
    o.death_ctx = &c;
    buf_t *b;
    ASSERT_TRUE(buf_new(&b, 10, 1, &o) == BUF_OK);
    buf_set_delayed(b, 1);
    buf_release(b);
    EXPECT_EQ(c.calls, 0);
    EXPECT_EQ(buf_delayed_collect(SIZE_MAX), 1);
    EXPECT_EQ(c.calls, 1);
}

/* ---- slices, extract, resize ----------------------------------------------------------- */

TEST(slice_outlives_the_parent_handle) {
    counter_t c = {0};
    buf_opts_t o = BUF_OPTS_INIT;
    o.on_death = count_death;
    o.death_ctx = &c;
    buf_t *p, *s;
    ASSERT_TRUE(buf_new(&p, 100, 4, &o) == BUF_OK);
    int32_t *v = buf_mutable_data(p);
    for (int i = 0; i < 100; i++)
        v[i] = i;
    size_t regs = buf_registry_count();
    ASSERT_TRUE(buf_slice(p, 10, 5, &s) == BUF_OK);
    EXPECT_EQ(buf_registry_count(), regs); /* slices are not regions */
    EXPECT_EQ(buf_refcount(p), 2);
    EXPECT_EQ(buf_size(s), 20);
    EXPECT_EQ(buf_num_items(s), 5);
    buf_release(p);
    EXPECT_EQ(c.calls, 0);
    const int32_t *sv = buf_data(s);
    EXPECT_EQ(sv[0], 10);
    EXPECT_EQ(sv[4], 14);
    buf_release(s);
    EXPECT_EQ(c.calls, 1);
    EXPECT_EQ(buf_registry_count(), regs - 1);
}

TEST(slice_bounds_are_checked_in_items) {
    buf_t *p, *s = (buf_t *)1;
    ASSERT_TRUE(buf_new(&p, 10, 8, NULL) == BUF_OK);
    EXPECT_EQ(buf_slice(p, 11, 0, &s), BUF_ERANGE);
    EXPECT_TRUE(s == NULL);
    EXPECT_EQ(buf_slice(p, 5, 6, &s), BUF_ERANGE);
    EXPECT_EQ(buf_slice(p, 0, 11, &s), BUF_ERANGE);
    EXPECT_EQ(buf_slice(p, 1, SIZE_MAX, &s), BUF_ERANGE);
    EXPECT_EQ(buf_slice(p, 10, 0, &s), BUF_OK);
    buf_release(s);
    EXPECT_EQ(buf_slice(p, 0, 10, &s), BUF_OK);
    buf_t *ss;
    EXPECT_EQ(buf_slice(s, 9, 1, &ss), BUF_OK); /* slice of a slice */
    EXPECT_TRUE((const char *)buf_data(ss) == (const char *)buf_data(p) + 72);
    buf_release(ss);
    buf_release(s);
    buf_release(p);
}

/* Each slice of a slice holds its parent, so a parser that keeps narrowing
 * a view builds a chain; the last release walks it without recursing (this
 * depth overflowed an 8 MiB stack), and the root dies once, at the end. */
TEST(a_long_chain_of_slices_of_slices_releases_without_recursion) {
    enum { DEPTH = 300000 };
    counter_t c = {0};
    buf_opts_t o = BUF_OPTS_INIT;
    o.on_death = count_death;
    o.death_ctx = &c;
    size_t regs = buf_registry_count();
    buf_t *root, *cur;
    ASSERT_TRUE(buf_new(&root, 64, 1, &o) == BUF_OK);
    ((char *)buf_mutable_data(root))[63] = 'z';
    cur = root;
    for (int i = 0; i < DEPTH; i++) {
        buf_t *s;
        ASSERT_TRUE(buf_slice(cur, 0, buf_num_items(cur), &s) == BUF_OK);
        EXPECT_EQ(buf_release(cur), BUF_OK); /* only the new slice holds cur now */
        cur = s;
    }
    EXPECT_EQ(c.calls, 0);
    EXPECT_EQ(((const char *)buf_data(cur))[buf_size(cur) - 1], 'z');
    EXPECT_EQ(buf_release(cur), BUF_OK);
    EXPECT_EQ(c.calls, 1);
    EXPECT_EQ(buf_registry_count(), regs);
    /* a delayed link stops the walk; collecting it finishes the chain */
    ASSERT_TRUE(buf_new(&root, 8, 1, &o) == BUF_OK);
    buf_t *mid, *leaf;
    ASSERT_TRUE(buf_slice(root, 0, 8, &mid) == BUF_OK);
    ASSERT_TRUE(buf_slice(mid, 0, 4, &leaf) == BUF_OK);
    buf_set_delayed(mid, 1);
    buf_release(root);
    buf_release(mid);
    size_t waiting = buf_delayed_count();
    buf_release(leaf);
    EXPECT_EQ(buf_delayed_count(), waiting + 1);
    EXPECT_EQ(c.calls, 1);
    EXPECT_EQ(buf_delayed_collect(SIZE_MAX), waiting + 1);
    EXPECT_EQ(c.calls, 2);
    EXPECT_EQ(buf_registry_count(), regs);
}

/* Death callbacks run with no lock held: they may make and drop buffers,
 * also while the delayed list is collected. */
typedef struct reentrant {
    int calls;
    buf_t *made;
    buf_t *to_release;
} reentrant_t;

static void death_makes_and_releases(const buf_death_info_t *info, void *ctx) {
    (void)info;
    reentrant_t *r = ctx;
    r->calls++;
    buf_opts_t o = BUF_OPTS_INIT;
    o.delayed = 1;
    if (buf_new(&r->made, 4, 4, &o) == BUF_OK)
        buf_release(r->made); /* joins the delayed list being collected */
    buf_release(r->to_release);
    r->to_release = NULL;
}

TEST(death_callbacks_may_create_and_release_buffers) {
    buf_delayed_collect(SIZE_MAX);
    size_t regs = buf_registry_count();
    reentrant_t r = {0};
    ASSERT_TRUE(buf_new(&r.to_release, 10, 1, NULL) == BUF_OK);
    buf_opts_t o = BUF_OPTS_INIT;
    o.on_death = death_makes_and_releases;
    o.death_ctx = &r;
    buf_t *b;
    ASSERT_TRUE(buf_new(&b, 10, 1, &o) == BUF_OK);
    EXPECT_EQ(buf_release(b), BUF_OK);
    EXPECT_EQ(r.calls, 1);
    EXPECT_EQ(buf_delayed_count(), 1);
    ASSERT_TRUE(buf_new(&r.to_release, 10, 1, NULL) == BUF_OK);
    o.delayed = 1;
    ASSERT_TRUE(buf_new(&b, 10, 1, &o) == BUF_OK);
    buf_release(b);
    EXPECT_EQ(buf_delayed_count(), 2);
    /* the dying buffer's callback adds one more; collect(all) takes it too */
    EXPECT_EQ(buf_delayed_collect(SIZE_MAX), 3);
    EXPECT_EQ(r.calls, 2);
    EXPECT_EQ(buf_delayed_count(), 0);
    EXPECT_EQ(buf_registry_count(), regs);
}

TEST(extract_copies_inclusive_item_range) {
    buf_t *p, *e = (buf_t *)1;
    ASSERT_TRUE(buf_new(&p, 10, 2, NULL) == BUF_OK);
    uint16_t *v = buf_mutable_data(p);
    for (int i = 0; i < 10; i++)
        v[i] = (uint16_t)(1000 + i);
    ASSERT_TRUE(buf_extract(p, 2, 4, NULL, &e) == BUF_OK);
    EXPECT_EQ(buf_num_items(e), 3);
    EXPECT_EQ(buf_size(e), 6);
    const uint16_t *ev = buf_data(e);
    EXPECT_EQ(ev[0], 1002);
    EXPECT_EQ(ev[2], 1004);
    EXPECT_TRUE(buf_data(e) != buf_data(p) + 4);
    EXPECT_EQ((uintptr_t)buf_data(e) % 64, 0);
    buf_release(e);
    ASSERT_TRUE(buf_extract(p, 9, 9, NULL, &e) == BUF_OK);
    EXPECT_EQ(((const uint16_t *)buf_data(e))[0], 1009);
    buf_release(e);
    EXPECT_EQ(buf_extract(p, 5, 4, NULL, &e), BUF_ERANGE);
    EXPECT_EQ(buf_extract(p, 0, 10, NULL, &e), BUF_ERANGE);
    buf_release(p);
}

TEST(resize_keeps_contents_and_zero_fills_growth) {
    buf_opts_t o = BUF_OPTS_INIT;
    o.init = BUF_INIT_ZERO;
    buf_t *b;
    ASSERT_TRUE(buf_new(&b, 10, 4, &o) == BUF_OK);
    int32_t *v = buf_mutable_data(b);
    for (int i = 0; i < 10; i++)
        v[i] = -i;
    ASSERT_TRUE(buf_resize(b, 1000) == BUF_OK);
    EXPECT_EQ(buf_size(b), 4000);
    EXPECT_EQ(buf_capacity(b), 4032);
    EXPECT_EQ((uintptr_t)buf_data(b) % 64, 0);
    v = buf_mutable_data(b);
    EXPECT_EQ(v[9], -9);
    EXPECT_TRUE(all_zero(v + 10, 4032 - 40));
    EXPECT_TRUE(buf_from_data(v) == b);
    /* shrink: contents kept, the bytes past the end become zeroed padding */
    ASSERT_TRUE(buf_resize(b, 5) == BUF_OK);
    v = buf_mutable_data(b);
    EXPECT_EQ(buf_capacity(b), 64);
    EXPECT_EQ(v[4], -4);
    EXPECT_TRUE(all_zero(v + 5, 64 - 20));
    EXPECT_EQ(buf_registry_check(), BUF_OK);
    /* not while slices point into it; not for slices or consumed memory */
    buf_t *s;
    ASSERT_TRUE(buf_slice(b, 0, 2, &s) == BUF_OK);
    EXPECT_EQ(buf_resize(b, 100), BUF_EBUSY);
    EXPECT_EQ(buf_resize(s, 1), BUF_ENOTOWNED);
    buf_release(s);
    EXPECT_EQ(buf_resize(b, 100), BUF_OK);
    char ext[32];
    buf_t *c;
    ASSERT_TRUE(buf_consume(&c, ext, 32, 1, NULL, NULL, NULL) == BUF_OK);
    EXPECT_EQ(buf_resize(c, 64), BUF_ENOTOWNED);
    buf_release(c);
    EXPECT_EQ(buf_resize(b, SIZE_MAX), BUF_EOVERFLOW);
    buf_release(b);
}

/* ---- builders ------------------------------------------------------------------- */

TEST(builder_appends_typed_values_and_finishes_immutable) {
    buf_builder_t *bb;
    ASSERT_TRUE(buf_builder_new(&bb, NULL, 0) == BUF_OK);
    EXPECT_EQ(buf_builder_capacity(bb), 64);
    EXPECT_EQ(buf_builder_append_u8(bb, 0x11), BUF_OK);
    EXPECT_EQ(buf_builder_append_i32(bb, -5), BUF_OK);
    EXPECT_EQ(buf_builder_append_i64(bb, INT64_C(1) << 40), BUF_OK);
    EXPECT_EQ(buf_builder_append_f64(bb, 2.5), BUF_OK);
    EXPECT_EQ(buf_builder_append(bb, "hello", 5), BUF_OK);
    EXPECT_EQ(buf_builder_length(bb), 1 + 4 + 8 + 8 + 5);
    for (int i = 0; i < 40; i++)
        buf_builder_append_u8(bb, (uint8_t)i);
    EXPECT_EQ(buf_builder_length(bb), 66);
    EXPECT_EQ(buf_builder_capacity(bb), 128); /* doubled */
    char big[300];
    memset(big, 'z', sizeof big);
    EXPECT_EQ(buf_builder_append(bb, big, sizeof big), BUF_OK); /* 366 > 256: exact fit */
    EXPECT_EQ(buf_builder_capacity(bb), 384);
    EXPECT_EQ(buf_builder_append(bb, big, 20), BUF_OK);         /* 386 > 384: doubles */
    EXPECT_EQ(buf_builder_capacity(bb), 768);
    buf_t *b;
    ASSERT_TRUE(buf_builder_finish(bb, &b) == BUF_OK);
    EXPECT_EQ(buf_size(b), 386);
    EXPECT_EQ(buf_capacity(b), 448); /* shrunk to the length rounded to 64 */
    EXPECT_EQ((uintptr_t)buf_data(b) % 64, 0);
    const unsigned char *d = buf_data(b);
    int32_t i32;
    int64_t i64;
    double f64;
    memcpy(&i32, d + 1, 4);
    memcpy(&i64, d + 5, 8);
    memcpy(&f64, d + 13, 8);
    EXPECT_EQ(d[0], 0x11);
    EXPECT_EQ(i32, -5);
    EXPECT_EQ(i64, INT64_C(1) << 40);
    EXPECT_TRUE(f64 == 2.5);
    EXPECT_EQ(memcmp(d + 21, "hello", 5), 0);
    EXPECT_EQ(d[26 + 39], 39);
    EXPECT_EQ(d[385], 'z');
    EXPECT_TRUE(all_zero(d + 386, 448 - 386));
    EXPECT_TRUE(buf_mutable_data(b) == NULL);
    EXPECT_EQ(buf_is_mutable(b), 0);
    EXPECT_EQ(buf_resize(b, 1), BUF_EIMMUTABLE);
    EXPECT_EQ(buf_builder_append_u8(bb, 1), BUF_EFINISHED);
    buf_t *again;
    EXPECT_EQ(buf_builder_finish(bb, &again), BUF_EFINISHED);
    buf_builder_free(bb);
    EXPECT_EQ(d[0], 0x11); /* the buffer outlives its builder */
    buf_release(b);
}

TEST(builder_freed_unfinished_releases_everything) {
    size_t regs = buf_registry_count();
    buf_builder_t *bb;
    ASSERT_TRUE(buf_builder_new(&bb, NULL, 1000) == BUF_OK);
    EXPECT_EQ(buf_builder_capacity(bb), 1024);
    buf_builder_append(bb, "x", 1);
    buf_builder_free(bb);
    EXPECT_EQ(buf_registry_count(), regs);
}

/* A NULL source with bytes to copy is an invalid argument (as buf_consume's
 * NULL region is), not a crash in memcpy; NULL with 0 bytes is a no-op. */
TEST(builder_append_refuses_null_bytes) {
    buf_builder_t *bb;
    ASSERT_TRUE(buf_builder_new(&bb, NULL, 0) == BUF_OK);
    EXPECT_EQ(buf_builder_append(bb, NULL, 0), BUF_OK);
    EXPECT_EQ(buf_builder_append(bb, NULL, 5), BUF_EINVAL);
    EXPECT_EQ(buf_builder_length(bb), 0);
    EXPECT_EQ(buf_builder_append(bb, "ok", 2), BUF_OK);
    EXPECT_EQ(buf_builder_length(bb), 2);
    buf_builder_free(bb);
}

/* ---- pools ------------------------------------------------------------------------- */

TEST(pool_statistics_after_a_known_sequence) {
    buf_pool_t *p = bump_pool();
    ASSERT_TRUE(p != NULL);
    EXPECT_STREQ(buf_pool_name(p), "bump");
    void *a, *b;
    ASSERT_TRUE(buf_pool_alloc(p, 100, 0, &a) == BUF_OK);
    ASSERT_TRUE(buf_pool_alloc(p, 200, 64, &b) == BUF_OK);
    EXPECT_EQ((uintptr_t)b % 64, 0);
    EXPECT_EQ(buf_pool_free(p, a, 100), BUF_OK);
    ASSERT_TRUE(buf_pool_realloc(p, &b, 200, 50, 64) == BUF_OK);
    EXPECT_EQ((uintptr_t)b % 64, 0);
    expect_pool_stats(p, 50, 300, 350, 3, 2);
    buf_pool_stats_t s;
    EXPECT_EQ(buf_pool_free(p, b, 50), BUF_OK);
    buf_pool_get_stats(p, &s);
    EXPECT_EQ(s.bytes_now, 0);
    EXPECT_EQ(s.frees, 3);
    /* a buffer costs its handle plus one 64-aligned block (64-byte prefix + capacity) */
    buf_opts_t o = BUF_OPTS_INIT;
    o.pool = p;
    buf_t *x;
    ASSERT_TRUE(buf_new(&x, 100, 1, &o) == BUF_OK);
    buf_pool_get_stats(p, &s);
    EXPECT_EQ(s.allocations, 5);
    EXPECT_GT(s.bytes_now, 64 + 128);
    buf_release(x);
    buf_pool_get_stats(p, &s);
    EXPECT_EQ(s.bytes_now, 0);
    EXPECT_EQ(s.frees, 5);
    buf_pool_destroy(p);
}

/* A heap whose realloc moves every block to an address that is 16- but not
 * 64-byte aligned (and poisons the old block, as a real free may reuse it),
 * and whose aligned allocation can be made to fail: the moment where a
 * pool that trusted realloc for a 64-byte-aligned block would have lost it. */
enum { SLY_ARENA = 1 << 20, SLY_MAX = 64 };
static struct {
    _Alignas(64) unsigned char arena[SLY_ARENA];
    size_t used, n, size[SLY_MAX];
    void *ptr[SLY_MAX];
    int aligned_fails;
} sly;
static void *sly_take(size_t align, size_t skew, size_t n) {
    size_t at = ((sly.used + align - 1) & ~(align - 1)) + skew;
    if (at + n > SLY_ARENA || sly.n == SLY_MAX)
        return NULL;
    sly.used = at + n;
    sly.ptr[sly.n] = sly.arena + at;
    sly.size[sly.n++] = n;
    return sly.arena + at;
}
static size_t sly_find(void *p) {
    for (size_t i = 0; i < sly.n; i++)
        if (sly.ptr[i] == p)
            return i;
    return SIZE_MAX;
}
static void *sly_malloc(void *h, size_t n) { (void)h; return sly_take(64, 16, n); }
static void *sly_aligned(void *h, size_t align, size_t n) {
    (void)h;
    return sly.aligned_fails ? NULL : sly_take(align, 0, n);
}
static void sly_free(void *h, void *p) {
    (void)h;
    size_t i = sly_find(p);
    if (i != SIZE_MAX) {
        memset(p, 0xDD, sly.size[i]);
        sly.ptr[i] = NULL;
    }
}
static size_t sly_usable(void *h, void *p) {
    (void)h;
    size_t i = sly_find(p);
    return i == SIZE_MAX ? 0 : sly.size[i];
}
static void *sly_realloc(void *h, void *p, size_t n) {
    size_t i = sly_find(p);
    void *q = sly_take(64, 16, n);
    if (q && i != SIZE_MAX) {
        memcpy(q, p, sly.size[i] < n ? sly.size[i] : n);
        sly_free(h, p);
    }
    return q;
}

TEST(a_failed_resize_keeps_the_block_and_its_contents) {
    static const alloc_methods_t sly_m = {.name = "sly", .malloc = sly_malloc, .free = sly_free,
                                          .realloc = sly_realloc, .aligned = sly_aligned,
                                          .usable_size = sly_usable};
    memset(&sly, 0, sizeof sly);
    buf_pool_t *p;
    ASSERT_TRUE(buf_pool_wrap(&p, &sly_m, NULL) == BUF_OK);
    /* the raw pool call: no memory for an aligned block, so nothing moves */
    void *a, *was;
    ASSERT_TRUE(buf_pool_alloc(p, 100, 64, &a) == BUF_OK);
    memset(a, 'a', 100);
    was = a;
    sly.aligned_fails = 1;
    EXPECT_EQ(buf_pool_realloc(p, &a, 100, 5000, 64), BUF_ENOMEM);
    EXPECT_TRUE(a == was);
    EXPECT_TRUE(((unsigned char *)a)[0] == 'a' && ((unsigned char *)a)[99] == 'a');
    /* room in the block already (its usable size): in place, no allocation */
    EXPECT_EQ(buf_pool_realloc(p, &a, 100, 90, 64), BUF_OK);
    EXPECT_TRUE(a == was);
    sly.aligned_fails = 0;
    EXPECT_EQ(buf_pool_realloc(p, &a, 90, 5000, 64), BUF_OK);
    EXPECT_EQ((uintptr_t)a % 64, 0);
    EXPECT_TRUE(((unsigned char *)a)[0] == 'a' && ((unsigned char *)a)[89] == 'a');
    EXPECT_EQ(buf_pool_free(p, a, 5000), BUF_OK);
    /* a buffer: a resize that fails keeps its data, registered where it is */
    buf_opts_t o = BUF_OPTS_INIT;
    o.pool = p;
    buf_t *b;
    ASSERT_TRUE(buf_new(&b, 100, 1, &o) == BUF_OK);
    memset(buf_mutable_data(b), 'b', 100);
    const void *data = buf_data(b);
    sly.aligned_fails = 1;
    EXPECT_EQ(buf_resize(b, 5000), BUF_ENOMEM);
    EXPECT_TRUE(buf_data(b) == data);
    EXPECT_EQ(buf_size(b), 100);
    EXPECT_TRUE(((const unsigned char *)buf_data(b))[0] == 'b' && ((const unsigned char *)buf_data(b))[99] == 'b');
    EXPECT_TRUE(buf_from_data(data) == b);
    sly.aligned_fails = 0;
    EXPECT_EQ(buf_resize(b, 5000), BUF_OK);
    EXPECT_EQ((uintptr_t)buf_data(b) % 64, 0);
    EXPECT_TRUE(((const unsigned char *)buf_data(b))[99] == 'b');
    EXPECT_EQ(buf_release(b), BUF_OK);
    buf_pool_destroy(p);
}

TEST(capping_pool_refuses_beyond_its_cap) {
    buf_pool_t *base = bump_pool(), *cp;
    ASSERT_TRUE(base && buf_pool_capped(&cp, base, 1000) == BUF_OK);
    void *a, *b = (void *)1;
    EXPECT_EQ(buf_pool_alloc(cp, 600, 0, &a), BUF_OK);
    EXPECT_EQ(buf_pool_alloc(cp, 401, 0, &b), BUF_ECAP);
    EXPECT_TRUE(b == NULL);
    EXPECT_EQ(buf_pool_realloc(cp, &a, 600, 1001, 0), BUF_ECAP);
    EXPECT_EQ(buf_pool_alloc(cp, 400, 0, &b), BUF_OK);
    buf_pool_stats_t s;
    buf_pool_get_stats(cp, &s);
    EXPECT_EQ(s.bytes_now, 1000);
    EXPECT_EQ(s.refused, 2);
    buf_pool_free(cp, a, 600);
    buf_pool_free(cp, b, 400);
    buf_opts_t o = BUF_OPTS_INIT;
    o.pool = cp;
    buf_t *x = (buf_t *)1;
    EXPECT_EQ(buf_new(&x, 1000, 1, &o), BUF_ECAP);
    EXPECT_TRUE(x == NULL);
    EXPECT_EQ(buf_new(&x, 100, 1, &o), BUF_OK);
    buf_release(x);
    buf_pool_get_stats(cp, &s);
    EXPECT_EQ(s.bytes_now, 0);
    buf_pool_destroy(cp);
    buf_pool_destroy(base);
}

/* A capping pool counts an allocation before its parent serves it; when the
 * parent refuses, nothing of it may stay in the statistics, the peak
 * included. */
TEST(capping_pool_peak_ignores_what_its_parent_refused) {
    buf_pool_t *base = bump_pool(), *inner, *outer;
    ASSERT_TRUE(base && buf_pool_capped(&inner, base, 100) == BUF_OK);
    ASSERT_TRUE(buf_pool_capped(&outer, inner, 1000) == BUF_OK);
    void *a, *b;
    EXPECT_EQ(buf_pool_alloc(outer, 500, 0, &b), BUF_ECAP); /* refused by inner */
    expect_pool_stats(outer, 0, 0, 0, 0, 0);
    buf_pool_stats_t s;
    ASSERT_TRUE(buf_pool_alloc(outer, 50, 0, &a) == BUF_OK);
    EXPECT_EQ(buf_pool_realloc(outer, &a, 50, 700, 0), BUF_ECAP);
    buf_pool_get_stats(outer, &s);
    EXPECT_EQ(s.bytes_now, 50);
    EXPECT_EQ(s.peak, 50);
    EXPECT_EQ(s.allocations, 1);
    EXPECT_EQ(s.frees, 0);
    EXPECT_EQ(s.refused, 0); /* the outer cap itself refused nothing */
    ASSERT_TRUE(buf_pool_realloc(outer, &a, 50, 80, 0) == BUF_OK);
    buf_pool_get_stats(outer, &s);
    EXPECT_EQ(s.peak, 80);
    buf_pool_free(outer, a, 80);
    buf_pool_destroy(outer);
    buf_pool_destroy(inner);
    buf_pool_destroy(base);
}

/* A capping pool over a pool that refuses a foreign pointer (debug,
 * logging) counts no free for it: it used to, wrapping bytes_now below 0,
 * after which every allocation was refused as over the cap. */
TEST(capping_pool_counts_no_free_its_parent_refused) {
    buf_pool_t *base = bump_pool(), *dp, *cp;
    ASSERT_TRUE(base && buf_pool_debug(&dp, base) == BUF_OK);
    ASSERT_TRUE(buf_pool_capped(&cp, dp, 1000) == BUF_OK);
    static _Alignas(64) unsigned char outside[256]; /* readable before it, no header */
    EXPECT_EQ(buf_pool_free(cp, outside + 128, 40), BUF_EFOREIGN);
    expect_pool_stats(cp, 0, 0, 0, 0, 0);
    void *q;
    EXPECT_EQ(buf_pool_alloc(cp, 100, 0, &q), BUF_OK);
    expect_pool_stats(cp, 100, 100, 100, 1, 0);
    EXPECT_EQ(buf_pool_free(cp, q, 100), BUF_OK);
    buf_pool_destroy(cp);
    buf_pool_destroy(dp);
    buf_pool_destroy(base);
}

TEST(logging_pool_writes_the_trace_format) {
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    buf_pool_t *base = bump_pool(), *lp;
    ASSERT_TRUE(f && base && buf_pool_logging(&lp, base, f) == BUF_OK);
    EXPECT_STREQ(buf_pool_name(lp), "log(bump)");
    buf_pool_t *none = (buf_pool_t *)1; /* no stream: refused, *out NULL as for every constructor */
    EXPECT_EQ(buf_pool_logging(&none, base, NULL), BUF_EINVAL);
    EXPECT_TRUE(none == NULL);
    void *a, *b, *c;
    buf_pool_alloc(lp, 100, 0, &a);
    buf_pool_alloc(lp, 200, 64, &b);
    buf_pool_realloc(lp, &a, 100, 300, 0);
    buf_pool_free(lp, b, 200);
    buf_pool_alloc(lp, 50, 0, &c);
    buf_pool_free(lp, a, 300);
    buf_pool_free(lp, c, 50);
    fflush(f);
    EXPECT_STREQ(text, "a 0 100\na 1 200\nr 0 300\nf 1\na 2 50\nf 0\nf 2\n");
    buf_pool_destroy(lp);
    buf_pool_destroy(base);
    fclose(f);
    free(text);
}

/* A pointer the logging pool never handed out is refused (BUF_EFOREIGN)
 * and left alone: freeing it in the parent would free a block that belongs
 * to someone else (here, a block of the parent itself, still in use). */
TEST(logging_pool_refuses_a_foreign_pointer_without_freeing_it) {
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    buf_pool_t *base = bump_pool(), *dp, *lp;
    ASSERT_TRUE(f && base && buf_pool_debug(&dp, base) == BUF_OK);
    ASSERT_TRUE(buf_pool_logging(&lp, dp, f) == BUF_OK);
    void *theirs;
    ASSERT_TRUE(buf_pool_alloc(dp, 40, 0, &theirs) == BUF_OK);
    EXPECT_EQ(buf_pool_free(lp, theirs, 40), BUF_EFOREIGN);
    buf_pool_stats_t s;
    buf_pool_get_stats(dp, &s);
    EXPECT_EQ(s.frees, 0);
    EXPECT_EQ(s.bytes_now, 40);
    buf_pool_get_stats(lp, &s);
    EXPECT_EQ(s.frees, 0);
    EXPECT_EQ(buf_pool_free(dp, theirs, 40), BUF_OK); /* still its owner's to free */
    buf_pool_get_stats(dp, &s);
    EXPECT_EQ(s.frees, 1);
    EXPECT_EQ(s.bytes_now, 0);
    fflush(f);
    EXPECT_STREQ(text, "");
    buf_pool_destroy(lp);
    buf_pool_destroy(dp);
    buf_pool_destroy(base);
    fclose(f);
    free(text);
}

/* buf_pool_realloc refuses a foreign pointer as buf_pool_free does: the
 * logging pool used to pass it to its parent's realloc (moving a block it
 * never owned, counting a free it never had and tracing "r 1 ..." for a slot
 * it never allocated); the debug pool made, copied and counted the new block
 * and then reported BUF_EFOREIGN, leaving the caller to leak it. */
TEST(logging_and_debug_pools_refuse_to_realloc_a_foreign_pointer) {
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    buf_pool_t *base = bump_pool(), *dp, *lp;
    ASSERT_TRUE(f && base && buf_pool_debug(&dp, base) == BUF_OK);
    ASSERT_TRUE(buf_pool_logging(&lp, dp, f) == BUF_OK);
    void *mine, *theirs, *was;
    ASSERT_TRUE(buf_pool_alloc(lp, 10, 0, &mine) == BUF_OK);
    ASSERT_TRUE(buf_pool_alloc(dp, 40, 0, &theirs) == BUF_OK);
    was = theirs;
    EXPECT_EQ(buf_pool_realloc(lp, &theirs, 40, 5000, 0), BUF_EFOREIGN);
    EXPECT_TRUE(theirs == was);
    expect_pool_stats(lp, 10, 10, 10, 1, 0);
    expect_pool_stats(dp, 50, 50, 50, 2, 0);
    EXPECT_EQ(buf_pool_free(dp, theirs, 40), BUF_OK);
    /* memory the debug pool never handed out (readable before it, no header) */
    static _Alignas(64) unsigned char outside[256];
    void *q = outside + 128;
    EXPECT_EQ(buf_pool_realloc(dp, &q, 40, 5000, 64), BUF_EFOREIGN);
    EXPECT_TRUE(q == outside + 128);
    expect_pool_stats(dp, 10, 50, 50, 2, 1);
    EXPECT_EQ(buf_pool_free(lp, mine, 10), BUF_OK);
    fflush(f);
    EXPECT_STREQ(text, "a 0 10\nf 0\n");
    buf_pool_destroy(lp);
    buf_pool_destroy(dp);
    buf_pool_destroy(base);
    fclose(f);
    free(text);
}

/* A heap whose realloc always moves, and whose next malloc reuses the block
 * a realloc moved away from; in between, realloc runs a hook: what another
 * thread can do once the parent has moved the block, before the logging
 * pool has recorded the move. */
static struct {
    _Alignas(64) unsigned char arena[1 << 14];
    size_t used;
    void *freed;
    void (*hook)(void);
} mover;
static void *mover_malloc(void *h, size_t n) {
    (void)h;
    void *q = mover.freed;
    if (q) {
        mover.freed = NULL;
        return q;
    }
    size_t at = (mover.used + 63) & ~(size_t)63;
    if (at + n > sizeof mover.arena)
        return NULL;
    mover.used = at + n;
    return mover.arena + at;
}
static void *mover_aligned(void *h, size_t align, size_t n) { return align <= 64 ? mover_malloc(h, n) : NULL; }
static void mover_free(void *h, void *p) { (void)h, (void)p; }
static void *mover_realloc(void *h, void *p, size_t n) {
    void *q = mover_malloc(h, n);
    mover.freed = p;
    if (mover.hook)
        mover.hook();
    return q;
}
static buf_pool_t *mover_log;
static void *mover_other;
static void mover_alloc_other(void) { buf_pool_alloc(mover_log, 100, 0, &mover_other); }

/* Another thread's allocation at the address a realloc just left: the
 * logging pool used to keep the old address in its map until after the
 * parent's realloc, so that allocation overwrote the entry, the realloc
 * traced "r 1" (the other block's slot) and the other block's free was
 * refused as foreign. */
TEST(logging_pool_realloc_keeps_its_slot_when_another_allocation_takes_the_old_address) {
    static const alloc_methods_t mover_m = {.name = "mover", .malloc = mover_malloc, .free = mover_free,
                                            .realloc = mover_realloc, .aligned = mover_aligned};
    memset(&mover, 0, sizeof mover);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    buf_pool_t *base;
    ASSERT_TRUE(f && buf_pool_wrap(&base, &mover_m, NULL) == BUF_OK);
    ASSERT_TRUE(buf_pool_logging(&mover_log, base, f) == BUF_OK);
    void *a, *was;
    ASSERT_TRUE(buf_pool_alloc(mover_log, 100, 0, &a) == BUF_OK);
    was = a;
    mover.hook = mover_alloc_other;
    EXPECT_EQ(buf_pool_realloc(mover_log, &a, 100, 300, 0), BUF_OK);
    mover.hook = NULL;
    EXPECT_TRUE(mover_other == was); /* the other allocation got the old address */
    EXPECT_TRUE(a != was);
    EXPECT_EQ(buf_pool_free(mover_log, mover_other, 100), BUF_OK);
    EXPECT_EQ(buf_pool_free(mover_log, a, 300), BUF_OK);
    fflush(f);
    EXPECT_STREQ(text, "a 0 100\na 1 100\nr 0 300\nf 1\nf 0\n");
    buf_pool_destroy(mover_log);
    buf_pool_destroy(base);
    fclose(f);
    free(text);
}

/* A heap that never reuses memory, remembers the block it handed out last
 * and counts frees; and a stream whose every write fails. */
static struct {
    _Alignas(64) unsigned char arena[1 << 16];
    size_t used;
    void *last;
    int frees;
} keep;
static void *keep_malloc(void *h, size_t n) {
    (void)h;
    size_t at = (keep.used + 63) & ~(size_t)63;
    if (at + n > sizeof keep.arena)
        return NULL;
    keep.used = at + n;
    return keep.last = keep.arena + at;
}
static void *keep_aligned(void *h, size_t align, size_t n) { return align <= 64 ? keep_malloc(h, n) : NULL; }
static void keep_free(void *h, void *p) {
    (void)h, (void)p;
    keep.frees++;
}
static ssize_t failing_write(void *c, const char *b, size_t n) {
    (void)c, (void)b, (void)n;
    errno = ENOSPC;
    return -1;
}

/* A block whose "a" line could not be written goes back to the parent
 * (BUF_EIO); the logging pool must forget it, not keep it as its own: a
 * later free of that address (someone else's block by then) used to be
 * passed on to the parent. */
TEST(logging_pool_forgets_a_block_whose_trace_line_failed) {
    static const alloc_methods_t keep_m = {.name = "keep", .malloc = keep_malloc, .free = keep_free,
                                           .aligned = keep_aligned};
    memset(&keep, 0, sizeof keep);
    cookie_io_functions_t io = {.write = failing_write};
    FILE *f = fopencookie(NULL, "w", io);
    ASSERT_TRUE(f != NULL);
    setvbuf(f, NULL, _IONBF, 0);
    buf_pool_t *base, *lp;
    ASSERT_TRUE(buf_pool_wrap(&base, &keep_m, NULL) == BUF_OK);
    ASSERT_TRUE(buf_pool_logging(&lp, base, f) == BUF_OK);
    void *q = (void *)1;
    EXPECT_EQ(buf_pool_alloc(lp, 100, 0, &q), BUF_EIO);
    EXPECT_TRUE(q == NULL);
    EXPECT_EQ(keep.frees, 1); /* the block went back */
    expect_pool_stats(lp, 0, 0, 0, 0, 0);
    EXPECT_EQ(buf_pool_free(lp, keep.last, 100), BUF_EFOREIGN);
    EXPECT_EQ(keep.frees, 1);
    expect_pool_stats(lp, 0, 0, 0, 0, 0);
    buf_pool_destroy(lp);
    buf_pool_destroy(base);
    fclose(f);
}

TEST(debug_pool_canary_catches_overruns_only) {
    buf_pool_t *base = bump_pool(), *dp;
    ASSERT_TRUE(base && buf_pool_debug(&dp, base) == BUF_OK);
    unsigned char *p;
    ASSERT_TRUE(buf_pool_alloc(dp, 100, 64, (void **)&p) == BUF_OK);
    EXPECT_EQ((uintptr_t)p % 64, 0);
    memset(p, 0xFF, 100); /* in bounds */
    size_t bad = 99;
    EXPECT_EQ(buf_pool_check(dp, &bad), BUF_OK);
    EXPECT_EQ(bad, 0);
    buf_pool_stats_t s;
    buf_pool_get_stats(dp, &s);
    EXPECT_EQ(s.canary_errors, 0);
    EXPECT_STREQ(buf_pool_last_error(dp), "");
    p[100] = 0; /* one byte past the end */
    EXPECT_EQ(buf_pool_check(dp, &bad), BUF_ECANARY);
    EXPECT_EQ(bad, 1);
    EXPECT_TRUE(strstr(buf_pool_last_error(dp), "100-byte block") != NULL);
    EXPECT_EQ(buf_pool_free(dp, p, 100), BUF_ECANARY);
    buf_pool_get_stats(dp, &s);
    EXPECT_EQ(s.canary_errors, 1); /* one damaged block, counted once */
    EXPECT_EQ(s.bytes_now, 0);
    /* through a buffer: writes within the capacity are fine, past it are not */
    buf_opts_t o = BUF_OPTS_INIT;
    o.pool = dp;
    buf_t *b;
    ASSERT_TRUE(buf_new(&b, 100, 1, &o) == BUF_OK);
    unsigned char *d = buf_mutable_data(b);
    memset(d, 1, buf_capacity(b));
    EXPECT_EQ(buf_pool_check(dp, NULL), BUF_OK);
    d[buf_capacity(b) + 3] = 0x5A;
    EXPECT_EQ(buf_release(b), BUF_ECANARY);
    buf_pool_get_stats(dp, &s);
    EXPECT_EQ(s.canary_errors, 2);
    buf_pool_destroy(dp);
    buf_pool_destroy(base);
}

/* A builder over a debug pool whose canary was broken: the append (or the
 * finish) that moves the block still happens, and returns BUF_ECANARY, as
 * buf_resize does; before, it returned the error and dropped the bytes. */
TEST(builder_completes_and_reports_a_broken_canary) {
    buf_pool_t *base = bump_pool(), *dp;
    ASSERT_TRUE(base && buf_pool_debug(&dp, base) == BUF_OK);
    buf_builder_t *bb;
    ASSERT_TRUE(buf_builder_new(&bb, dp, 64) == BUF_OK);
    char chunk[64];
    memset(chunk, 'a', sizeof chunk);
    EXPECT_EQ(buf_builder_append(bb, chunk, 64), BUF_OK); /* exactly the capacity */
    unsigned char *d = buf_builder_data(bb);
    ASSERT_TRUE(d != NULL);
    EXPECT_EQ(buf_pool_check(dp, NULL), BUF_OK);
    d[buf_builder_capacity(bb) + 1] = 0x5A; /* a wild write past the block */
    /* the append that moves the block: done, and reported */
    EXPECT_EQ(buf_builder_append(bb, "bc", 2), BUF_ECANARY);
    EXPECT_EQ(buf_builder_length(bb), 66);
    d = buf_builder_data(bb);
    EXPECT_TRUE(d[0] == 'a' && d[63] == 'a' && d[64] == 'b' && d[65] == 'c');
    EXPECT_EQ(buf_builder_append_u8(bb, 'd'), BUF_OK); /* the new block is sound */
    buf_t *done;
    EXPECT_EQ(buf_builder_finish(bb, &done), BUF_OK);
    ASSERT_TRUE(done != NULL);
    EXPECT_EQ(buf_size(done), 67);
    EXPECT_TRUE(memcmp((const char *)buf_data(done) + 62, "aabcd", 5) == 0);
    EXPECT_TRUE(buf_builder_data(bb) == NULL); /* finished */
    buf_pool_stats_t s;
    buf_pool_get_stats(dp, &s);
    EXPECT_EQ(s.canary_errors, 1);
    buf_release(done);
    buf_builder_free(bb);
    /* and a finish that moves a block with a broken canary: finished, reported */
    ASSERT_TRUE(buf_builder_new(&bb, dp, 256) == BUF_OK);
    EXPECT_EQ(buf_builder_append(bb, "xyz", 3), BUF_OK);
    d = buf_builder_data(bb);
    d[buf_builder_capacity(bb)] = 0x5A;
    EXPECT_EQ(buf_builder_finish(bb, &done), BUF_ECANARY);
    ASSERT_TRUE(done != NULL);
    EXPECT_EQ(buf_size(done), 3);
    EXPECT_TRUE(memcmp(buf_data(done), "xyz", 3) == 0);
    buf_release(done);
    buf_builder_free(bb);
    buf_pool_destroy(dp);
    buf_pool_destroy(base);
}

TEST(pool_new_reports_unknown_and_unusable_names) {
    buf_pool_t *p = (buf_pool_t *)1;
    EXPECT_EQ(buf_pool_new(&p, "no-such-allocator"), BUF_ENOALLOC);
    EXPECT_TRUE(p == NULL);
    EXPECT_EQ(buf_pool_new(&p, "buffer"), BUF_EINVAL);
    EXPECT_EQ(buf_pool_new(&p, "cuda"), BUF_EINVAL);
}

/* Run reload with stderr captured into out. */
static int reload_capturing(char *out, size_t len) {
    fflush(stderr);
    FILE *tmp = tmpfile();
    int saved = dup(2);
    dup2(fileno(tmp), 2);
    int rc = buf_pool_default_reload();
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    rewind(tmp);
    size_t n = fread(out, 1, len - 1, tmp);
    out[n] = 0;
    fclose(tmp);
    return rc;
}

TEST(default_pool_follows_the_environment) {
    char err[512];
    setenv("MMBENCH_DEFAULT_POOL", "bump", 1);
    EXPECT_EQ(reload_capturing(err, sizeof err), BUF_OK);
    EXPECT_STREQ(err, "");
    EXPECT_STREQ(buf_pool_name(buf_pool_default()), "bump");
    buf_t *b;
    ASSERT_TRUE(buf_new(&b, 10, 1, NULL) == BUF_OK);
    EXPECT_STREQ(buf_pool_name(buf_pool_of(b)), "bump");

    const char *why;
    int have_glibc = alloc_is_available(alloc_find("glibc"), &why);
    const char *fallback = have_glibc ? "glibc" : "libc";

    setenv("MMBENCH_DEFAULT_POOL", "bestfit", 1);
    int rc = reload_capturing(err, sizeof err);
    if (alloc_is_available(alloc_find("bestfit"), &why)) {
        EXPECT_EQ(rc, BUF_OK);
        EXPECT_STREQ(buf_pool_name(buf_pool_default()), "bestfit");
    } else {
        EXPECT_EQ(rc, BUF_EUNAVAIL);
        EXPECT_STREQ(buf_pool_name(buf_pool_default()), fallback);
        EXPECT_TRUE(strstr(err, "MMBENCH_DEFAULT_POOL=bestfit") != NULL);
    }

    setenv("MMBENCH_DEFAULT_POOL", "nosuch", 1);
    EXPECT_EQ(reload_capturing(err, sizeof err), BUF_ENOALLOC);
    EXPECT_STREQ(buf_pool_name(buf_pool_default()), fallback);
    EXPECT_TRUE(strstr(err, "warning: MMBENCH_DEFAULT_POOL=nosuch: unknown allocator name; using") != NULL);
    EXPECT_TRUE(strchr(err, '\n') == err + strlen(err) - 1); /* one line */

    setenv("MMBENCH_DEFAULT_POOL", "glibc", 1);
    reload_capturing(err, sizeof err);
    EXPECT_STREQ(buf_pool_name(buf_pool_default()), fallback);

    /* the old default pool lives on while its buffers do */
    EXPECT_STREQ(buf_pool_name(buf_pool_of(b)), "bump");
    buf_release(b);
    unsetenv("MMBENCH_DEFAULT_POOL");
    reload_capturing(err, sizeof err);
}

/* The warning says why the named allocator cannot serve the pool, not a
 * bare error code ("invalid argument", "the allocator's init failed"). */
TEST(default_pool_warning_gives_the_reason) {
    char err[1024];
    setenv("MMBENCH_DEFAULT_POOL", "cuda", 1);
    EXPECT_EQ(reload_capturing(err, sizeof err), BUF_EUNAVAIL);
    EXPECT_TRUE(strstr(err, "MMBENCH_DEFAULT_POOL=cuda: cuda is a device allocator") != NULL);
    EXPECT_TRUE(strstr(err, "invalid argument") == NULL);
    EXPECT_TRUE(strchr(err, '\n') == err + strlen(err) - 1); /* one line */

    setenv("MMBENCH_DEFAULT_POOL", "buffer:bestfit", 1);
    reload_capturing(err, sizeof err);
    EXPECT_TRUE(strstr(err, "MMBENCH_DEFAULT_POOL=buffer:bestfit: the buffer manager cannot draw a pool from itself; "
                            "name an allocator alone, like bestfit;") != NULL);

    /* jemalloc, not preloaded into this process: its init says why */
    buf_pool_t *je;
    const char *why;
    int je_serves = buf_pool_new(&je, "jemalloc") == BUF_OK;
    if (je_serves)
        buf_pool_destroy(je);
    if (alloc_is_available(alloc_find("jemalloc"), &why) && !je_serves) {
        setenv("MMBENCH_DEFAULT_POOL", "jemalloc", 1);
        EXPECT_EQ(reload_capturing(err, sizeof err), BUF_EUNAVAIL);
        EXPECT_TRUE(strstr(err, "MMBENCH_DEFAULT_POOL=jemalloc: jemalloc: ") != NULL);
        EXPECT_TRUE(strstr(err, "init failed") == NULL);
    }
    unsetenv("MMBENCH_DEFAULT_POOL");
    reload_capturing(err, sizeof err);
}

/* A heap of "buffer" names the pool that serves it, after any fallback, as
 * its explicit form would be named; the version is that allocator's. */
static void expect_buffer_heap(const char *inner, const char *name, const char *version_of) {
    const alloc_methods_t *m = alloc_find("buffer");
    alloc_config_t cfg = {0};
    cfg.inner = inner;
    void *heap;
    ASSERT_TRUE(m->heap_name != NULL);
    ASSERT_TRUE(alloc_init(m, &cfg, &heap) == 0);
    EXPECT_STREQ(m->heap_name(heap), name);
    char want[300];
    snprintf(want, sizeof want, "mmbench-buffer/%s", version_of ? alloc_version(alloc_find(version_of)) : "unknown");
    EXPECT_STREQ(alloc_version(m), want);
    alloc_fini(m, heap);
}

TEST(buffer_heap_names_the_pool_that_serves) {
    char err[1024];
    const char *why;
    int have_glibc = alloc_is_available(alloc_find("glibc"), &why);
    setenv("MMBENCH_DEFAULT_POOL", "firstfit", 1);
    EXPECT_EQ(reload_capturing(err, sizeof err), BUF_OK);
    expect_buffer_heap(NULL, "buffer:firstfit", "firstfit");
    setenv("MMBENCH_DEFAULT_POOL", "bestfit", 1);
    EXPECT_EQ(reload_capturing(err, sizeof err), BUF_OK);
    expect_buffer_heap(NULL, "buffer:bestfit", "bestfit");
    /* a name that cannot serve: what served instead */
    setenv("MMBENCH_DEFAULT_POOL", "cuda", 1);
    reload_capturing(err, sizeof err);
    expect_buffer_heap(NULL, have_glibc ? "buffer:glibc" : "buffer:libc", have_glibc ? "glibc" : NULL);
    unsetenv("MMBENCH_DEFAULT_POOL");
    reload_capturing(err, sizeof err);
    expect_buffer_heap(NULL, have_glibc ? "buffer:glibc" : "buffer:libc", have_glibc ? "glibc" : NULL);
    /* the explicit form: the same name */
    expect_buffer_heap("bump", "buffer:bump", "bump");
}

/* ---- the allocator table ----------------------------------------------------------- */

typedef struct emitted {
    int n;
    char keys[64][48];
    double vals[64];
} emitted_t;

static void emit_one(void *ctx, const char *key, double v) {
    emitted_t *e = ctx;
    if (e->n < 64) {
        snprintf(e->keys[e->n], sizeof e->keys[0], "%s", key);
        e->vals[e->n++] = v;
    }
}

static double emitted_get(const emitted_t *e, const char *key) {
    for (int i = 0; i < e->n; i++)
        if (strcmp(e->keys[i], key) == 0)
            return e->vals[i];
    return -1;
}

static void table_round_trip(const char *name) {
    const char *inner;
    const alloc_methods_t *m = alloc_split_name(name, &inner);
    ASSERT_TRUE(m == &alloc_buffer_methods);
    ASSERT_TRUE(m->malloc != NULL && m->stats_extra != NULL);
    EXPECT_TRUE(m->flags & ALLOC_WRAPPER);
    EXPECT_TRUE(m->flags & ALLOC_THREAD_SAFE);
    EXPECT_TRUE(m->preload == NULL);
    alloc_config_t cfg = {0};
    cfg.inner = inner;
    void *heap;
    ASSERT_TRUE(alloc_init(m, &cfg, &heap) == 0);
    EXPECT_TRUE(strncmp(alloc_version(m), "mmbench-buffer/", 15) == 0);
    char *p = m->malloc(heap, 100);
    ASSERT_TRUE(p != NULL);
    EXPECT_EQ((uintptr_t)p % 64, 0);
    EXPECT_EQ(alloc_usable_size(m, heap, p), 128);
    memset(p, 'q', 100);
    p = alloc_realloc(m, heap, p, 5000);
    ASSERT_TRUE(p != NULL);
    EXPECT_EQ(p[99], 'q');
    EXPECT_EQ(alloc_usable_size(m, heap, p), 5056);
    char *q = m->malloc(heap, 0);
    EXPECT_TRUE(q != NULL);
    alloc_stats_t s;
    EXPECT_EQ(alloc_stats(m, heap, &s), 0);
    EXPECT_EQ(s.payload_bytes, 5000);
    EXPECT_EQ(s.used_blocks, 2);
    EXPECT_GT(s.allocated_bytes, 5000);
    emitted_t e = {0};
    EXPECT_EQ(m->stats_extra(heap, emit_one, &e), 0);
    EXPECT_EQ(emitted_get(&e, "buffer.owned"), 5056 + 64);
    EXPECT_EQ(emitted_get(&e, "buffer.slice_parents"), 0);
    EXPECT_EQ(emitted_get(&e, "buffer.consumed"), 0);
    EXPECT_EQ(emitted_get(&e, "buffer.delayed"), 0);
    /* one block per buffer (the handle lives in its prefix); the realloc to a
     * new capacity made a new buffer: 3 blocks */
    EXPECT_EQ(emitted_get(&e, "pool.allocations"), 3);
    EXPECT_EQ(emitted_get(&e, "pool.frees"), 1);
    EXPECT_GE(emitted_get(&e, "pool.peak"), emitted_get(&e, "pool.bytes_now"));
    EXPECT_GT(emitted_get(&e, "pool.total"), 0);
    char err[200];
    EXPECT_EQ(m->check(heap, err, sizeof err), 0);
    m->free(heap, p);
    m->free(heap, q);
    EXPECT_EQ(alloc_stats(m, heap, &s), 0);
    EXPECT_EQ(s.payload_bytes, 0);
    EXPECT_EQ(s.used_blocks, 0);
    EXPECT_EQ(s.allocated_bytes, 0);
    alloc_fini(m, heap);
}

/* A table buffer (its handle in its block) reached with buf_from_data
 * cannot move: BUF_EBUSY, whose message used to blame live slices it did
 * not have. */
TEST(a_table_buffer_cannot_move_and_says_why) {
    const char *inner;
    const alloc_methods_t *m = alloc_split_name("buffer:bump", &inner);
    alloc_config_t cfg = {.inner = inner};
    void *heap;
    ASSERT_TRUE(alloc_init(m, &cfg, &heap) == 0);
    char *p = m->malloc(heap, 100);
    buf_t *b = buf_from_data(p);
    ASSERT_TRUE(b != NULL);
    EXPECT_EQ(buf_refcount(b), 1);
    EXPECT_EQ(buf_resize(b, 1), BUF_OK); /* same capacity: no move */
    EXPECT_EQ(buf_resize(b, 2), BUF_EBUSY);
    EXPECT_TRUE(buf_data(b) == p);
    EXPECT_TRUE(strstr(buf_strerror(BUF_EBUSY), "table buffer") != NULL);
    m->free(heap, p);
    alloc_fini(m, heap);
}

TEST(buffer_glibc_through_the_allocator_table) {
    const char *why;
    if (!alloc_is_available(alloc_find("glibc"), &why)) {
        test_skip("glibc table not built in this tree yet");
        return;
    }
    table_round_trip("buffer:glibc");
    const char *inner;
    const alloc_methods_t *m = alloc_split_name("buffer:glibc", &inner);
    alloc_config_t cfg = {.inner = inner};
    void *heap;
    ASSERT_TRUE(alloc_init(m, &cfg, &heap) == 0);
    char *p = m->malloc(heap, 1 << 20);
    alloc_stats_t s;
    alloc_stats(m, heap, &s);
    /* glibc's own H; unknown when ASan serves malloc (sanitizer builds) */
    if (s.footprint != ALLOC_UNKNOWN)
        EXPECT_GT(s.footprint, 1 << 20);
    m->free(heap, p);
    alloc_fini(m, heap);
}

TEST(buffer_bump_through_the_allocator_table) {
    table_round_trip("buffer:bump");
}

TEST(buffer_table_treemap_split) {
    /* inner NULL: the default pool; buffers made with opts == NULL count */
    const alloc_methods_t *m = alloc_find("buffer");
    ASSERT_TRUE(m->malloc != NULL && m->stats_extra != NULL);
    void *heap;
    ASSERT_TRUE(alloc_init(m, NULL, &heap) == 0);
    buf_t *parent, *slice, *cons, *del;
    char ext[200];
    ASSERT_TRUE(buf_new(&parent, 1000, 1, NULL) == BUF_OK);
    ASSERT_TRUE(buf_slice(parent, 0, 10, &slice) == BUF_OK);
    buf_release(parent);
    ASSERT_TRUE(buf_consume(&cons, ext, 200, 1, NULL, NULL, NULL) == BUF_OK);
    buf_opts_t o = BUF_OPTS_INIT;
    o.delayed = 1;
    ASSERT_TRUE(buf_new(&del, 100, 1, &o) == BUF_OK);
    buf_release(del);
    emitted_t e = {0};
    m->stats_extra(heap, emit_one, &e);
    EXPECT_EQ(emitted_get(&e, "buffer.slice_parents"), 1024);
    EXPECT_EQ(emitted_get(&e, "buffer.consumed"), 200);
    EXPECT_EQ(emitted_get(&e, "buffer.delayed"), 128);
    buf_release(slice);
    buf_release(cons);
    buf_delayed_collect(SIZE_MAX);
    alloc_fini(m, heap);
}

/* A buffer:glibc heap of the table for the slot tests. */
static const alloc_methods_t *table_heap(void **heap) {
    const char *inner;
    const alloc_methods_t *m = alloc_split_name("buffer:glibc", &inner);
    alloc_config_t cfg = {0};
    cfg.inner = inner;
    if (!m || alloc_init(m, &cfg, heap) != 0)
        return NULL;
    return m;
}

TEST(table_slice_keeps_the_parent_alive_after_its_free) {
    void *heap;
    const alloc_methods_t *m = table_heap(&heap);
    ASSERT_TRUE(m != NULL && m->slice != NULL && m->consume != NULL);
    size_t regions = buf_registry_count();
    char *p = m->malloc(heap, 1000);
    ASSERT_TRUE(p != NULL);
    memset(p, 'x', 1000);
    unsigned char kind = 99;
    void *s1 = alloc_slice(m, heap, p, 10, 100, &kind);
    ASSERT_TRUE(s1 != NULL);
    EXPECT_EQ(kind, ALLOC_SLOT_SLICE);
    void *s2 = m->slice(heap, p, 0, 1000); /* same start as the parent: a distinct handle */
    ASSERT_TRUE(s2 != NULL);
    EXPECT_TRUE(s2 != (void *)p && s2 != s1);
    errno = 0;
    EXPECT_TRUE(m->slice(heap, p, 900, 101) == NULL);
    EXPECT_EQ(errno, ERANGE);
    char local[64];
    errno = 0;
    EXPECT_TRUE(m->slice(heap, local + 16, 0, 1) == NULL);
    EXPECT_EQ(errno, EINVAL);
    emitted_t e = {0};
    m->stats_extra(heap, emit_one, &e);
    EXPECT_EQ(emitted_get(&e, "buffer.slice_parents"), 0); /* the parent's handle still lives */
    EXPECT_EQ(emitted_get(&e, "buffer.owned"), 1024);
    m->free(heap, p); /* the workload drops the parent first */
    e.n = 0;
    m->stats_extra(heap, emit_one, &e);
    EXPECT_EQ(emitted_get(&e, "buffer.slice_parents"), 1024);
    EXPECT_EQ(emitted_get(&e, "buffer.owned"), 0);
    EXPECT_EQ(buf_registry_count(), regions + 1);
    EXPECT_EQ(p[10], 'x'); /* still alive (ASan would object otherwise) */
    EXPECT_EQ(p[999], 'x');
    alloc_stats_t st;
    alloc_stats(m, heap, &st);
    EXPECT_EQ(st.used_blocks, 0);
    EXPECT_EQ(st.payload_bytes, 0);
    alloc_free_slot(m, heap, s1, 100, kind, NULL, NULL);
    e.n = 0;
    m->stats_extra(heap, emit_one, &e);
    EXPECT_EQ(emitted_get(&e, "buffer.slice_parents"), 1024);
    m->free(heap, s2); /* the last slice: the parent goes */
    e.n = 0;
    m->stats_extra(heap, emit_one, &e);
    EXPECT_EQ(emitted_get(&e, "buffer.slice_parents"), 0);
    EXPECT_EQ(buf_registry_count(), regions);
    /* a sliced parent that is resized moves; the old memory stays for the slice */
    char *q = m->malloc(heap, 100);
    ASSERT_TRUE(q != NULL);
    memset(q, 'y', 100);
    void *s3 = m->slice(heap, q, 0, 50);
    ASSERT_TRUE(s3 != NULL);
    char *q2 = alloc_realloc(m, heap, q, 100000);
    ASSERT_TRUE(q2 != NULL);
    EXPECT_TRUE(q2 != q);
    EXPECT_EQ(q[49], 'y');
    EXPECT_EQ(q2[99], 'y');
    m->free(heap, q2);
    m->free(heap, s3);
    EXPECT_EQ(buf_registry_count(), regions);
    alloc_fini(m, heap);
}

typedef struct rel {
    int calls;
    void *mem;
    size_t n;
} rel_t;

static void rel_count(void *mem, size_t n, void *ctx) {
    rel_t *r = ctx;
    r->calls++;
    r->mem = mem;
    r->n = n;
}

TEST(table_consume_refuses_overlap_and_releases_once) {
    void *heap;
    const alloc_methods_t *m = table_heap(&heap);
    ASSERT_TRUE(m != NULL);
    size_t regions = buf_registry_count();
    static char ext[65536];
    rel_t r = {0}, r2 = {0};
    unsigned char kind = 99;
    void *h = alloc_consume(m, heap, ext, sizeof ext, rel_count, &r, &kind);
    ASSERT_TRUE(h != NULL);
    EXPECT_EQ(kind, ALLOC_SLOT_CONSUMED);
    EXPECT_EQ(buf_registry_count(), regions + 1);
    emitted_t e = {0};
    m->stats_extra(heap, emit_one, &e);
    EXPECT_EQ(emitted_get(&e, "buffer.consumed"), 65536);
    /* overlapping memory is refused; release is never called for it */
    errno = 0;
    EXPECT_TRUE(m->consume(heap, ext + 100, 100, rel_count, &r2) == NULL);
    EXPECT_EQ(errno, EEXIST);
    EXPECT_TRUE(m->consume(heap, ext + 65535, 10, rel_count, &r2) == NULL);
    /* memory inside a buffer of the table is refused too */
    char *p = m->malloc(heap, 4000);
    ASSERT_TRUE(p != NULL);
    EXPECT_TRUE(m->consume(heap, p + 64, 64, rel_count, &r2) == NULL);
    m->free(heap, p);
    EXPECT_EQ(r2.calls, 0);
    EXPECT_EQ(r.calls, 0);
    alloc_free_slot(m, heap, h, sizeof ext, kind, rel_count, &r);
    EXPECT_EQ(r.calls, 1);
    EXPECT_TRUE(r.mem == ext);
    EXPECT_EQ(r.n, sizeof ext);
    EXPECT_EQ(buf_registry_count(), regions);
    /* the region is free again */
    h = m->consume(heap, ext, 4096, rel_count, &r2);
    ASSERT_TRUE(h != NULL);
    m->free(heap, h);
    EXPECT_EQ(r2.calls, 1);
    EXPECT_EQ(r.calls, 1);
    alloc_fini(m, heap);
}

TEST(fallbacks_view_slices_and_release_external_memory_themselves) {
    const alloc_methods_t *m = alloc_find("glibc");
    ASSERT_TRUE(m != NULL && m->slice == NULL && m->consume == NULL);
    void *heap;
    ASSERT_TRUE(alloc_init(m, NULL, &heap) == 0);
    char *p = m->malloc(heap, 100);
    ASSERT_TRUE(p != NULL);
    unsigned char kind = 99;
    EXPECT_TRUE(alloc_slice(m, heap, p, 8, 16, &kind) == p + 8);
    EXPECT_EQ(kind, ALLOC_SLOT_VIEW);
    alloc_free_slot(m, heap, p + 8, 16, kind, NULL, NULL); /* a no-op */
    alloc_free_slot(m, heap, p, 100, ALLOC_SLOT_BLOCK, NULL, NULL);
    static char ext[4096];
    rel_t r = {0};
    EXPECT_TRUE(alloc_consume(m, heap, ext, sizeof ext, rel_count, &r, &kind) == ext);
    EXPECT_EQ(kind, ALLOC_SLOT_EXTERNAL);
    EXPECT_EQ(r.calls, 0);
    alloc_free_slot(m, heap, ext, sizeof ext, kind, rel_count, &r);
    EXPECT_EQ(r.calls, 1);
    EXPECT_EQ(r.n, sizeof ext);
    alloc_fini(m, heap);
}

/* ---- end to end: `mmbench run --workload=buffers` ------------------------- */

/* The mmbench next to this test executable (both are built at the build
 * directory's top), or $MMBENCH_BIN. */
static int mmbench_path(char *out, size_t n) {
    const char *env = getenv("MMBENCH_BIN");
    if (env && *env) {
        snprintf(out, n, "%s", env);
        return access(out, X_OK);
    }
    char self[4096];
    ssize_t k = readlink("/proc/self/exe", self, sizeof self - 1);
    if (k <= 0)
        return -1;
    self[k] = 0;
    char *slash = strrchr(self, '/');
    if (!slash)
        return -1;
    *slash = 0;
    snprintf(out, n, "%s/mmbench", self);
    return access(out, X_OK);
}

/* Reads `mmbench show RUN --db=DB`: whether the run is stored with status
 * ok, whether it is the buffer:glibc run, and its buffer.slice_parents and
 * buffer.consumed (-1 when absent). */
typedef struct shown {
    int ok, is_buffer;
    double slice_parents, consumed;
} shown_t;

static void show_run(const char *bin, const char *db, int run, shown_t *out) {
    *out = (shown_t){0, 0, -1, -1};
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "'%s' show %d --db='%s' 2>&1", bin, run, db);
    FILE *f = popen(cmd, "r");
    if (!f)
        return;
    char line[1024];
    while (fgets(line, sizeof line, f)) {
        char k[256], v[256];
        double x;
        if (!strncmp(line, "Run ", 4) && strstr(line, ": buffer:glibc "))
            out->is_buffer = 1;
        if (sscanf(line, " %255s %255s", k, v) == 2 && !strcmp(k, "status") && !strcmp(v, "ok"))
            out->ok = 1;
        if (sscanf(line, " %255s %lf", k, &x) == 2) {
            if (!strcmp(k, "buffer.slice_parents"))
                out->slice_parents = x;
            else if (!strcmp(k, "buffer.consumed"))
                out->consumed = x;
        }
    }
    pclose(f);
}

TEST(buffers_run_records_slice_parents_and_consumed_memory) {
    char bin[4200];
    if (mmbench_path(bin, sizeof bin) != 0) {
        test_skip("no mmbench next to the test executable (set MMBENCH_BIN)");
        return;
    }
    char db[] = "/tmp/mmb_buffers_XXXXXX";
    int fd = mkstemp(db);
    ASSERT_TRUE(fd >= 0);
    close(fd);
    unlink(db);
    pid_t pid = fork();
    ASSERT_TRUE(pid >= 0);
    if (pid == 0) {
        int dn = open("/dev/null", O_WRONLY);
        if (dn >= 0) {
            dup2(dn, 1);
            close(dn);
        }
        char dbopt[64];
        snprintf(dbopt, sizeof dbopt, "--db=%s", db);
        execl(bin, bin, "run", "--alloc=buffer:glibc,glibc", "--workload=buffers", "--ops=50000", dbopt,
              (char *)NULL);
        _exit(127);
    }
    int st = 0;
    ASSERT_TRUE(waitpid(pid, &st, 0) == pid);
    EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    int buffer_run = 0, runs = 0;
    for (int run = 1; run <= 2; run++) {
        shown_t r;
        show_run(bin, db, run, &r);
        runs += r.ok;
        if (r.is_buffer) {
            buffer_run = run;
            printf("  run %d (buffer:glibc): buffer.slice_parents %.0f, buffer.consumed %.0f\n", run,
                   r.slice_parents, r.consumed);
            EXPECT_GT(r.slice_parents, 0);
            EXPECT_GT(r.consumed, 0);
        }
    }
    EXPECT_EQ(runs, 2);
    EXPECT_NE(buffer_run, 0);
    char side[sizeof db + 4];
    for (int k = 0; k < 2; k++) { /* a reader may leave the WAL files behind */
        snprintf(side, sizeof side, "%s%s", db, k ? "-shm" : "-wal");
        unlink(side);
    }
    unlink(db);
}

int main(void) {
    RUN(every_error_code_has_a_message);
    RUN(aligned_to_64_with_zeroed_padding_for_many_sizes);
    RUN(init_values_none_zero_byte);
    RUN(size_overflow_is_an_error_not_a_wrap);
    RUN(size_overflow_of_the_padded_block_says_so);
    RUN(death_callback_runs_once_with_the_buffers_facts);
    RUN(consume_refuses_every_overlap_and_accepts_touching);
    RUN(consume_refuses_empty_null_and_wrapping_regions);
    RUN(consume_refuses_memory_inside_an_owned_buffer);
    RUN(consumed_release_callback_called_exactly_once_with_slices);
    RUN(registry_lookup_of_a_range_to_the_end_of_memory);
    RUN(registry_stays_balanced_with_many_buffers);
    RUN(registry_matches_a_naive_model);
    RUN(threads_create_and_release_concurrently);
    RUN(ids_increase_and_pool_references_are_exact_across_threads);
    RUN(delayed_buffers_wait_and_die_only_when_collected);
    RUN(a_waiting_delayed_buffer_is_not_found_by_its_data);
    RUN(set_delayed_after_creation);
    RUN(slice_outlives_the_parent_handle);
    RUN(slice_bounds_are_checked_in_items);
    RUN(a_long_chain_of_slices_of_slices_releases_without_recursion);
    RUN(death_callbacks_may_create_and_release_buffers);
    RUN(extract_copies_inclusive_item_range);
    RUN(resize_keeps_contents_and_zero_fills_growth);
    RUN(builder_appends_typed_values_and_finishes_immutable);
    RUN(builder_freed_unfinished_releases_everything);
    RUN(builder_append_refuses_null_bytes);
    RUN(pool_statistics_after_a_known_sequence);
    RUN(a_failed_resize_keeps_the_block_and_its_contents);
    RUN(capping_pool_refuses_beyond_its_cap);
    RUN(capping_pool_peak_ignores_what_its_parent_refused);
    RUN(capping_pool_counts_no_free_its_parent_refused);
    RUN(logging_pool_writes_the_trace_format);
    RUN(logging_pool_refuses_a_foreign_pointer_without_freeing_it);
    RUN(logging_and_debug_pools_refuse_to_realloc_a_foreign_pointer);
    RUN(logging_pool_forgets_a_block_whose_trace_line_failed);
    RUN(logging_pool_realloc_keeps_its_slot_when_another_allocation_takes_the_old_address);
    RUN(debug_pool_canary_catches_overruns_only);
    RUN(builder_completes_and_reports_a_broken_canary);
    RUN(pool_new_reports_unknown_and_unusable_names);
    RUN(default_pool_follows_the_environment);
    RUN(default_pool_warning_gives_the_reason);
    RUN(buffer_heap_names_the_pool_that_serves);
    RUN(a_table_buffer_cannot_move_and_says_why);
    RUN(buffer_glibc_through_the_allocator_table);
    RUN(buffer_bump_through_the_allocator_table);
    RUN(buffer_table_treemap_split);
    RUN(table_slice_keeps_the_parent_alive_after_its_free);
    RUN(table_consume_refuses_overlap_and_releases_once);
    RUN(fallbacks_view_slices_and_release_external_memory_themselves);
    RUN(buffers_run_records_slice_parents_and_consumed_memory);
    buf_manager_shutdown();
    return test_report();
}
