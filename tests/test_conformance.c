/*
 * test_conformance.c - the one conformance suite every allocator of the table
 * must pass.  A device allocator's blocks (the CPU cannot touch them) are
 * filled and checked through copies to and from the host (dev.h), with a
 * quarter of the stress; its realloc is alloc_realloc_sized's (malloc, the
 * table's device-to-device copy, free), and it may refuse alignments above
 * DEV_ALIGN (256, what cudaMalloc gives) with ENOTSUP.
 *
 *     test_conformance NAME          run the suite against allocator NAME
 *                                    ("buffer:glibc" for a wrapper)
 *     test_conformance --covers A,B  fail unless every allocator in the table
 *                                    is one of the names A,B,... (so a new
 *                                    allocator cannot miss its ctest)
 *
 * An allocator that is unavailable here (library missing, placeholder not
 * built yet, sanitizer build) is reported skipped (exit 77).  Preloaded
 * system allocators are run by ctest with LD_PRELOAD set (conformance.cmake).
 */
#define _GNU_SOURCE
#include "allocators/alloc.h"
#include "allocators/device/dev.h"
#include "test.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const alloc_methods_t *g_m;
static alloc_config_t g_cfg;
static const char *g_name;
static int g_dev; /* a device allocator: its memory through copies only */
static int g_scale = 1; /* stress divided by this (4 on a device: every check is a copy) */

/* ---- helpers -------------------------------------------------------------- */

static uint64_t rng_next(uint64_t *s) { /* splitmix64 */
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Sizes: mostly small, some medium, a few large. */
static size_t rng_size(uint64_t *s) {
    uint64_t r = rng_next(s);
    unsigned pick = (unsigned)(r & 1023);
    r >>= 10;
    if (pick < 800)
        return 1 + (size_t)(r % 256);
    if (pick < 1000)
        return 257 + (size_t)(r % 3840);
    return 4097 + (size_t)(r % 60000);
}

static uint8_t pattern_byte(uint64_t key, size_t i) {
    return (uint8_t)((key * 0x9E3779B1u) >> 24 ^ (i * 131u) ^ (i >> 8));
}

/* Device memory: copied through a host buffer of the harness's malloc.
 * dev_sync first: cudaMallocAsync's blocks (and its copies, on the heap's
 * stream) may be used outside their stream only once it has caught up. */
static int dev_copy_checked(void *dst, const void *src, size_t n) {
    int rc = dev_sync();
    if (!rc)
        rc = dev_memcpy(dst, src, n);
    if (rc)
        TEST_FAIL_AT("a copy of %zu bytes to or from the device failed (dev.h code %d)", n, rc);
    return rc;
}

static void fill(void *p, size_t from, size_t to, uint64_t key) {
    if (from >= to)
        return;
    uint8_t *b = g_dev ? malloc(to - from) : (uint8_t *)p + from;
    for (size_t i = from; i < to; i++)
        b[i - from] = pattern_byte(key, i);
    if (g_dev) {
        dev_copy_checked((char *)p + from, b, to - from);
        free(b);
    }
}

/* Index of the first byte of [0, n) that does not hold key's pattern, or n. */
static size_t verify(const void *p, size_t n, uint64_t key) {
    uint8_t *host = NULL;
    if (g_dev && n) {
        host = malloc(n);
        if (dev_copy_checked(host, p, n)) {
            free(host);
            return 0;
        }
    }
    const uint8_t *b = host ? host : p;
    size_t i = 0;
    while (i < n && b[i] == pattern_byte(key, i))
        i++;
    free(host);
    return i;
}

/* memset, for device memory too. */
static void set_bytes(void *p, int byte, size_t n) {
    if (!g_dev) {
        memset(p, byte, n);
        return;
    }
    int rc = dev_sync();
    if (!rc)
        rc = dev_memset(p, byte, n);
    if (rc)
        TEST_FAIL_AT("a memset of %zu bytes of device memory failed (dev.h code %d)", n, rc);
}

static void *open_heap(void) {
    void *heap = NULL;
    int rc = alloc_init(g_m, &g_cfg, &heap);
    if (rc) {
        TEST_FAIL_AT("%s: init failed with code %d (%s)", g_name, rc, strerror(rc));
        return (void *)-1;
    }
    return heap;
}
#define OPEN_HEAP(h)                                                               \
    void *h = open_heap();                                                         \
    if (h == (void *)-1)                                                           \
        return

/* Run the allocator's own invariant checker, when it has one. */
static int check_heap(void *heap, const char *when) {
    if (!g_m->check)
        return 0;
    char err[256] = "";
    if (g_m->check(heap, err, sizeof err) != 0) {
        TEST_FAIL_AT("check() failed %s: %s", when, err);
        return 1;
    }
    return 0;
}

static void close_heap(void *heap) {
    check_heap(heap, "before fini");
    alloc_fini(g_m, heap);
}

#define IS_ALIGNED(p, a) (((uintptr_t)(p) & ((uintptr_t)(a) - 1)) == 0)

/* The alignment malloc(n) owes: 16 (the fundamental alignment on x86-64) for
 * n >= 16; below that, C (since DR 445) only asks for what an object of n
 * bytes can need, the largest power of two <= n, and jemalloc, mimalloc and
 * tcmalloc all return 8-byte aligned blocks for n <= 8. */
static size_t owed_alignment(size_t n) {
    size_t a = 1;
    while (a < 16 && a * 2 <= n)
        a *= 2;
    return a;
}

/* ---- the suite ------------------------------------------------------------ */

TEST(malloc_results_are_aligned) {
    OPEN_HEAP(heap);
    static const size_t sizes[] = {1, 2, 7, 8, 15, 16, 17, 24, 31, 32, 33, 48, 63, 64, 65,
                                   100, 127, 128, 129, 255, 256, 257, 1000, 1024, 4095, 4096,
                                   4097, 10000, 65536, 100000, 1 << 20, (1 << 20) + 1};
    enum { N = sizeof sizes / sizeof sizes[0] };
    void *p[N];
    for (int i = 0; i < N; i++) {
        p[i] = g_m->malloc(heap, sizes[i]);
        EXPECT_TRUE(p[i] != NULL);
        if (p[i]) {
            if (!IS_ALIGNED(p[i], owed_alignment(sizes[i])))
                TEST_FAIL_AT("malloc(%zu) = %p is not %zu-byte aligned", sizes[i], p[i],
                             owed_alignment(sizes[i]));
            set_bytes(p[i], 0xA5, sizes[i]);
        }
    }
    for (int i = 0; i < N; i++)
        g_m->free(heap, p[i]);
    close_heap(heap);
}

TEST(malloc_zero_is_null_or_freeable) {
    OPEN_HEAP(heap);
    void *p = g_m->malloc(heap, 0);
    if (p)
        g_m->free(heap, p);
    g_m->free(heap, NULL); /* free(NULL) is a no-op */
    void *q = g_m->malloc(heap, 32);
    EXPECT_TRUE(q != NULL);
    g_m->free(heap, q);
    close_heap(heap);
}

TEST(realloc_keeps_contents_growing_and_shrinking) {
    OPEN_HEAP(heap);
    static const size_t steps[] = {16, 100, 1000, 5000, 100000, 1 << 20, 3 << 20,
                                   70000, 5000, 200, 24, 1};
    size_t have = 0;
    void *p = alloc_realloc_sized(g_m, heap, NULL, 0, 1); /* realloc(NULL, n) is malloc */
    ASSERT_TRUE(p != NULL);
    fill(p, 0, 1, 42);
    have = 1;
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        size_t n = steps[i];
        void *q = alloc_realloc_sized(g_m, heap, p, have, n);
        if (!q) {
            TEST_FAIL_AT("realloc(%p, %zu) returned NULL", p, n);
            break;
        }
        p = q;
        EXPECT_TRUE(IS_ALIGNED(p, owed_alignment(n)));
        size_t keep = have < n ? have : n;
        size_t bad = verify(p, keep, 42);
        if (bad != keep)
            TEST_FAIL_AT("realloc %zu -> %zu lost byte %zu", have, n, bad);
        fill(p, keep, n, 42);
        have = n;
    }
    g_m->free(heap, p);
    close_heap(heap);
}

TEST(usable_size_covers_the_request) {
    if (!g_m->usable_size) {
        test_skip("no usable_size slot");
        return;
    }
    OPEN_HEAP(heap);
    uint64_t seed = 7;
    for (int i = 0; i < 2000; i++) {
        size_t n = i < 1000 ? (size_t)i + 1 : rng_size(&seed);
        void *p = g_m->malloc(heap, n);
        if (!p) {
            TEST_FAIL_AT("malloc(%zu) returned NULL", n);
            break;
        }
        size_t u = g_m->usable_size(heap, p);
        if (u < n) {
            TEST_FAIL_AT("usable_size(malloc(%zu)) = %zu", n, u);
            g_m->free(heap, p);
            break;
        }
        memset(p, 0x5A, u); /* all of it is ours to use */
        g_m->free(heap, p);
    }
    close_heap(heap);
}

TEST(huge_requests_fail_cleanly) {
    OPEN_HEAP(heap);
    static const size_t huge[] = {SIZE_MAX, SIZE_MAX / 2, (size_t)1 << 62, SIZE_MAX - 4095};
    void *keep = g_m->malloc(heap, 1000);
    ASSERT_TRUE(keep != NULL);
    fill(keep, 0, 1000, 9);
    /* NULL, the heap intact; and errno ENOMEM (POSIX) from ours.  The system
     * libraries are what they are: jemalloc 5.3's realloc and mimalloc
     * 2.0.9's malloc return NULL for such sizes with errno untouched. */
    const int want_enomem = !(g_m->flags & ALLOC_SYSTEM);
    for (size_t i = 0; i < sizeof huge / sizeof huge[0]; i++) {
        errno = 0;
        void *p = g_m->malloc(heap, huge[i]);
        if (p) {
            TEST_FAIL_AT("malloc(%zu) returned %p", huge[i], p);
            g_m->free(heap, p);
        } else if (want_enomem && errno != ENOMEM) {
            TEST_FAIL_AT("malloc(%zu) returned NULL with errno %d, not ENOMEM", huge[i], errno);
        }
        errno = 0;
        void *q = alloc_realloc_sized(g_m, heap, keep, 1000, huge[i]);
        if (q) {
            TEST_FAIL_AT("realloc(p, %zu) returned %p", huge[i], q);
            keep = q;
        } else if (want_enomem && errno != ENOMEM) {
            TEST_FAIL_AT("realloc(p, %zu) returned NULL with errno %d, not ENOMEM", huge[i], errno);
        }
        errno = 0;
        void *a = alloc_aligned(g_m, heap, 64, huge[i]);
        if (a) {
            TEST_FAIL_AT("aligned(64, %zu) returned %p", huge[i], a);
            g_m->free(heap, a);
        } else if (want_enomem && errno != ENOMEM) {
            TEST_FAIL_AT("aligned(64, %zu) returned NULL with errno %d, not ENOMEM", huge[i], errno);
        }
    }
    EXPECT_EQ(verify(keep, 1000, 9), 1000); /* a failed realloc leaves the block */
    void *after = g_m->malloc(heap, 100);
    EXPECT_TRUE(after != NULL);
    if (after) /* on a device: no error of the failed calls lingers */
        set_bytes(after, 1, 100);
    g_m->free(heap, after);
    g_m->free(heap, keep);
    close_heap(heap);
}

TEST(aligned_allocation_honours_the_alignment) {
    OPEN_HEAP(heap);
    static const size_t aligns[] = {16, 32, 64, 256, 4096, 65536};
    static const size_t sizes[] = {1, 16, 100, 5000, 70000};
    void *p[sizeof aligns / sizeof aligns[0]][sizeof sizes / sizeof sizes[0]];
    for (size_t a = 0; a < sizeof aligns / sizeof aligns[0]; a++) {
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
            p[a][s] = alloc_aligned(g_m, heap, aligns[a], sizes[s]);
            if (!p[a][s]) {
                if (!g_m->aligned && aligns[a] > 16)
                    continue; /* no aligned slot: only <= 16 is promised */
                if (g_dev && aligns[a] > DEV_ALIGN && errno == ENOTSUP)
                    continue; /* a device table promises what cudaMalloc gives */
                TEST_FAIL_AT("aligned(%zu, %zu) returned NULL", aligns[a], sizes[s]);
                continue;
            }
            if (!IS_ALIGNED(p[a][s], aligns[a]))
                TEST_FAIL_AT("aligned(%zu, %zu) = %p", aligns[a], sizes[s], p[a][s]);
            fill(p[a][s], 0, sizes[s], a * 16 + s);
        }
    }
    for (size_t a = 0; a < sizeof aligns / sizeof aligns[0]; a++)
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
            if (p[a][s]) {
                EXPECT_EQ(verify(p[a][s], sizes[s], a * 16 + s), sizes[s]);
                g_m->free(heap, p[a][s]);
            }
    /* Above 16 only: below it, C leaves aligned_alloc's behaviour to the
     * implementation, and some tables round small alignments up to 16. */
    static const size_t bad[] = {24, 48, 96, 3000, 4097, 65535};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        void *q = alloc_aligned(g_m, heap, bad[i], 100);
        if (q) {
            TEST_FAIL_AT("aligned(%zu, 100) (not a power of two) returned %p", bad[i], q);
            g_m->free(heap, q);
        }
    }
    close_heap(heap);
}

/* ---- random stress ---------------------------------------------------------- */

typedef struct slot {
    char *p;
    size_t n;
    uint64_t key;
} slot_t;

typedef struct interval {
    uintptr_t lo, hi;
    size_t slot;
} interval_t;

static int interval_cmp(const void *a, const void *b) {
    const interval_t *x = a, *y = b;
    return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* 0 when no two live blocks of s[0..n) overlap; else reports and returns 1. */
static int check_no_overlap(const slot_t *s, size_t n, const char *who) {
    interval_t *iv = malloc(n * sizeof *iv); /* the harness's malloc: fine */
    size_t k = 0;
    int bad = 0;
    for (size_t i = 0; i < n; i++)
        if (s[i].p)
            iv[k++] = (interval_t){(uintptr_t)s[i].p, (uintptr_t)s[i].p + (s[i].n ? s[i].n : 1), i};
    qsort(iv, k, sizeof *iv, interval_cmp);
    for (size_t i = 1; i < k && !bad; i++)
        if (iv[i].lo < iv[i - 1].hi) {
            TEST_FAIL_AT("%s: blocks overlap: slot %zu [%#lx, %#lx) and slot %zu [%#lx, %#lx)",
                         who, iv[i - 1].slot, (unsigned long)iv[i - 1].lo,
                         (unsigned long)iv[i - 1].hi, iv[i].slot, (unsigned long)iv[i].lo,
                         (unsigned long)iv[i].hi);
            bad = 1;
        }
    free(iv);
    return bad;
}

/* One step on slot i: allocate when empty; else verify, then realloc or free.
 * Returns 0, or 1 after reporting a failure. */
static int stress_step(void *heap, slot_t *s, uint64_t *rng, uint64_t key, const char *who) {
    if (!s->p) {
        size_t n = rng_size(rng);
        s->p = g_m->malloc(heap, n);
        if (!s->p) {
            TEST_FAIL_AT("%s: malloc(%zu) returned NULL", who, n);
            return 1;
        }
        if (!IS_ALIGNED(s->p, owed_alignment(n))) {
            TEST_FAIL_AT("%s: malloc(%zu) = %p is not %zu-byte aligned", who, n, (void *)s->p,
                         owed_alignment(n));
            return 1;
        }
        if (g_m->usable_size && g_m->usable_size(heap, s->p) < n) {
            TEST_FAIL_AT("%s: usable_size %zu < %zu", who, g_m->usable_size(heap, s->p), n);
            return 1;
        }
        s->n = n;
        s->key = key;
        fill(s->p, 0, n, key);
        return 0;
    }
    size_t bad = verify(s->p, s->n, s->key);
    if (bad != s->n) {
        TEST_FAIL_AT("%s: block %p of %zu bytes corrupted at byte %zu", who, (void *)s->p, s->n,
                     bad);
        return 1;
    }
    if ((rng_next(rng) & 3) == 0) {
        size_t n = rng_size(rng);
        char *q = alloc_realloc_sized(g_m, heap, s->p, s->n, n);
        if (!q) {
            TEST_FAIL_AT("%s: realloc(%zu -> %zu) returned NULL", who, s->n, n);
            return 1;
        }
        size_t keep = s->n < n ? s->n : n;
        bad = verify(q, keep, s->key);
        if (bad != keep) {
            TEST_FAIL_AT("%s: realloc %zu -> %zu lost byte %zu", who, s->n, n, bad);
            s->p = NULL;
            return 1;
        }
        s->p = q;
        s->n = keep; /* what holds the pattern until the fill below */
        if (!IS_ALIGNED(q, owed_alignment(n))) {
            TEST_FAIL_AT("%s: realloc(%zu) = %p is not %zu-byte aligned", who, n, (void *)q,
                         owed_alignment(n));
            return 1;
        }
        if (g_m->usable_size && g_m->usable_size(heap, q) < n) {
            TEST_FAIL_AT("%s: usable_size %zu < %zu after realloc", who, g_m->usable_size(heap, q), n);
            return 1;
        }
        fill(q, keep, n, s->key);
        s->n = n;
        return 0;
    }
    g_m->free(heap, s->p);
    s->p = NULL;
    return 0;
}

static void free_all(void *heap, slot_t *s, size_t n, const char *who) {
    for (size_t i = 0; i < n; i++)
        if (s[i].p) {
            size_t bad = verify(s[i].p, s[i].n, s[i].key);
            if (bad != s[i].n)
                TEST_FAIL_AT("%s: slot %zu corrupted at byte %zu before free", who, i, bad);
            g_m->free(heap, s[i].p);
            s[i].p = NULL;
        }
}

enum { STRESS_SLOTS = 4096, STRESS_OPS = 150000, STRESS_CHECKPOINT = 10000 };

TEST(random_stress_blocks_never_overlap) {
    OPEN_HEAP(heap);
    slot_t *s = calloc(STRESS_SLOTS, sizeof *s);
    uint64_t rng = 0xC0FFEE, gen = 0;
    int failed = 0;
    for (long op = 1; op <= STRESS_OPS / g_scale && !failed; op++) {
        size_t i = (size_t)(rng_next(&rng) % STRESS_SLOTS);
        uint64_t key = (uint64_t)i << 32 | ++gen;
        failed = stress_step(heap, &s[i], &rng, key, "stress");
        if (!failed && op % STRESS_CHECKPOINT == 0)
            failed = check_no_overlap(s, STRESS_SLOTS, "stress") || check_heap(heap, "during stress");
    }
    if (!failed)
        check_no_overlap(s, STRESS_SLOTS, "stress end");
    free_all(heap, s, STRESS_SLOTS, "stress");
    free(s);
    close_heap(heap);
}

/* ---- threads ---------------------------------------------------------------- */

enum { THREADS = 4, THREAD_SLOTS = 1024, THREAD_OPS = 40000, CROSS_BLOCKS = 4000 };

typedef struct worker {
    void *heap;
    int id;
    slot_t slots[THREAD_SLOTS];
    slot_t cross[CROSS_BLOCKS]; /* allocated by this thread, freed by the next */
    pthread_barrier_t *barrier;
    struct worker *all;
    int failed;
} worker_t;

static void *worker_run(void *arg) {
    worker_t *w = arg;
    uint64_t rng = 1000 + (uint64_t)w->id, gen = 0;
    char who[32];
    snprintf(who, sizeof who, "thread %d", w->id);
    /* Phase 1: each thread its own stress. */
    for (long op = 0; op < THREAD_OPS / g_scale && !w->failed; op++) {
        size_t i = (size_t)(rng_next(&rng) % THREAD_SLOTS);
        uint64_t key = (uint64_t)w->id << 56 | (uint64_t)i << 32 | ++gen;
        w->failed = stress_step(w->heap, &w->slots[i], &rng, key, who);
    }
    free_all(w->heap, w->slots, THREAD_SLOTS, who);
    /* Phase 2: allocate, then free what the next thread allocated. */
    for (int i = 0; i < CROSS_BLOCKS / g_scale && !w->failed; i++) {
        slot_t *s = &w->cross[i];
        s->n = rng_size(&rng);
        s->key = (uint64_t)(w->id + 8) << 56 | (uint64_t)i;
        s->p = g_m->malloc(w->heap, s->n);
        if (!s->p) {
            TEST_FAIL_AT("%s: malloc(%zu) returned NULL", who, s->n);
            w->failed = 1;
            break;
        }
        fill(s->p, 0, s->n, s->key);
    }
    pthread_barrier_wait(w->barrier);
    worker_t *other = &w->all[(w->id + 1) % THREADS];
    free_all(w->heap, other->cross, CROSS_BLOCKS, who);
    return NULL;
}

TEST(threads_stress_and_free_each_others_blocks) {
    if (!(g_m->flags & ALLOC_THREAD_SAFE)) {
        test_skip("not ALLOC_THREAD_SAFE");
        return;
    }
    OPEN_HEAP(heap);
    worker_t *w = calloc(THREADS, sizeof *w);
    pthread_barrier_t barrier;
    pthread_barrier_init(&barrier, NULL, THREADS);
    pthread_t tid[THREADS];
    for (int t = 0; t < THREADS; t++) {
        w[t] = (worker_t){.heap = heap, .id = t, .barrier = &barrier, .all = w};
        if (pthread_create(&tid[t], NULL, worker_run, &w[t]) != 0) {
            TEST_FAIL_AT("pthread_create failed");
            exit(1); /* the barrier can never be passed */
        }
    }
    for (int t = 0; t < THREADS; t++)
        pthread_join(tid[t], NULL);
    pthread_barrier_destroy(&barrier);
    free(w);
    close_heap(heap);
}

/* ---- main ------------------------------------------------------------------- */

/* --covers: every allocator of the table must have a conformance ctest. */
static int covers(const char *list) {
    int missing = 0;
    for (size_t i = 0; i < alloc_count(); i++) {
        const char *n = alloc_at(i)->name;
        size_t len = strlen(n);
        int found = 0;
        for (const char *p = list; *p && !found;) {
            const char *e = strchr(p, ',');
            size_t l = e ? (size_t)(e - p) : strlen(p);
            if ((l == len || (l > len && p[len] == ':')) && strncmp(p, n, len) == 0)
                found = 1;
            p += l + (e ? 1 : 0);
        }
        if (!found) {
            printf("allocator %s has no conformance test: add it to tests/conformance.cmake\n", n);
            missing = 1;
        }
    }
    printf(missing ? "FAIL\n" : "every allocator of the table is covered\n");
    return missing;
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "--covers") == 0)
        return covers(argv[2]);
    if (argc != 2) {
        fprintf(stderr, "usage: %s NAME | --covers NAME,NAME,...\n", argv[0]);
        return 2;
    }
    g_name = argv[1];
    g_m = alloc_split_name(g_name, &g_cfg.inner);
    const char *why;
    if (!g_m) {
        /* "buffer:glibc" while buffer is still a placeholder (not a wrapper). */
        const char *colon = strchr(g_name, ':');
        char outer[64];
        snprintf(outer, sizeof outer, "%.*s", colon ? (int)(colon - g_name) : 0, g_name);
        const alloc_methods_t *o = colon ? alloc_find(outer) : NULL;
        if (o && !alloc_is_available(o, &why)) {
            printf("skip %s: unavailable: %s\n", g_name, why);
            return 77;
        }
        printf("unknown allocator %s (known: %s)\n", g_name, alloc_names());
        return 1;
    }
    if (!alloc_is_available(g_m, &why)) {
        printf("skip %s: unavailable: %s\n", g_name, why);
        return 77;
    }
    if (g_m->flags & ALLOC_DEVICE) {
        g_dev = 1;
        g_scale = 4;
    }
    if (g_cfg.inner) {
        const alloc_methods_t *in = alloc_find(g_cfg.inner);
        if (!alloc_is_available(in, &why)) {
            printf("skip %s: inner allocator unavailable: %s\n", g_name, why);
            return 77;
        }
    }
    printf("conformance of %s %s\n", g_name, alloc_version(g_m));
    RUN(malloc_results_are_aligned);
    RUN(malloc_zero_is_null_or_freeable);
    RUN(realloc_keeps_contents_growing_and_shrinking);
    RUN(usable_size_covers_the_request);
    RUN(huge_requests_fail_cleanly);
    RUN(aligned_allocation_honours_the_alignment);
    RUN(random_stress_blocks_never_overlap);
    RUN(threads_stress_and_free_each_others_blocks);
    return test_report();
}
