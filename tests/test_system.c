/*
 * test_system.c - the system allocators (glibc, jemalloc, mimalloc, tcmalloc)
 * really serve malloc and report their own statistics.
 *
 *     test_system NAME               ctest runs it with LD_PRELOAD=<library>
 *                                    (glibc: nothing preloaded)
 *     test_system NAME --not-served  run where NAME does NOT serve malloc
 *                                    (no preload, or another one): init must
 *                                    refuse with ENOENT
 *
 * A library not found at build time, or unavailable in this build, makes the
 * whole executable report skipped (exit 77).
 */
#define _GNU_SOURCE
#include "allocators/alloc.h"
#include "allocators/system/system.h"
#include "mmb_config.h"
#include "test.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static const alloc_methods_t *g_m;
static void *g_heap;

#define MIB ((int64_t)1 << 20)

TEST(table_is_a_thread_safe_system_allocator) {
    EXPECT_TRUE(g_m->flags & ALLOC_SYSTEM);
    EXPECT_TRUE(g_m->flags & ALLOC_THREAD_SAFE);
    EXPECT_TRUE(g_m->heap_figure && g_m->heap_figure[0]);
    /* the harness calls malloc and free directly for ALLOC_PROCESS_MALLOC:
     * only right when the slots are exactly the process's malloc and free */
    EXPECT_TRUE(g_m->flags & ALLOC_PROCESS_MALLOC);
    EXPECT_TRUE(g_m->malloc == alloc_sys_malloc);
    EXPECT_TRUE(g_m->free == alloc_sys_free);
    if (strcmp(g_m->name, "glibc") == 0)
        EXPECT_TRUE(g_m->preload == NULL);
    else
        EXPECT_TRUE(g_m->preload && alloc_sys_file_exists(g_m->preload));
}

TEST(init_proves_the_library_serves_malloc) {
    int rc = alloc_init(g_m, NULL, &g_heap);
    if (rc)
        TEST_FAIL_AT("init: %d (%s): %s", rc, strerror(rc), alloc_last_error());
}

TEST(version_comes_from_the_library) {
    const char *v = alloc_version(g_m);
    printf("  %s version %s\n", g_m->name, v);
    EXPECT_TRUE(v[0] != 0);
    EXPECT_TRUE(strcmp(v, "unknown") != 0);
    EXPECT_TRUE(v[0] >= '0' && v[0] <= '9');
    /* the same string the library gives when asked directly (not the
     * build-time header's) */
    char live[128] = "";
    const char *n = g_m->name;
    if (!strcmp(n, "glibc")) {
        snprintf(live, sizeof live, "%s", ((const char *(*)(void))dlsym(RTLD_DEFAULT,
                                                                         "gnu_get_libc_version"))());
    } else if (!strcmp(n, "jemalloc")) {
        int (*ctl)(const char *, void *, size_t *, void *, size_t) = dlsym(RTLD_DEFAULT, "mallctl");
        const char *jv = NULL;
        size_t sz = sizeof jv;
        if (ctl && ctl("version", &jv, &sz, NULL, 0) == 0 && jv)
            snprintf(live, sizeof live, "%s", jv);
    } else if (!strcmp(n, "mimalloc")) {
        int mv = ((int (*)(void))dlsym(RTLD_DEFAULT, "mi_version"))();
        snprintf(live, sizeof live, "%d.%d.%d", mv / 100, (mv / 10) % 10, mv % 10);
    } else if (!strcmp(n, "tcmalloc")) {
        int major = 0, minor = 0;
        const char *patch = "";
        ((const char *(*)(int *, int *, const char **))dlsym(RTLD_DEFAULT, "tc_version"))(
            &major, &minor, &patch);
        snprintf(live, sizeof live, "%d.%d%s", major, minor, patch ? patch : "");
    }
    if (MMBENCH_SANITIZED && !strcmp(n, "glibc"))
        EXPECT_TRUE(strncmp(v, live, strlen(live)) == 0); /* "2.36+asan" */
    else
        EXPECT_STREQ(v, live);
}

/* Ask the library to give free memory back, by its own interface. */
static void release_free_memory(void) {
    const char *n = g_m->name;
    if (!strcmp(n, "glibc")) {
        ((int (*)(size_t))dlsym(RTLD_DEFAULT, "malloc_trim"))(0);
    } else if (!strcmp(n, "jemalloc")) {
        int (*ctl)(const char *, void *, size_t *, void *, size_t) = dlsym(RTLD_DEFAULT, "mallctl");
        ctl("arena.4096.purge", NULL, NULL, NULL, 0);
    } else if (!strcmp(n, "mimalloc")) {
        ((void (*)(bool))dlsym(RTLD_DEFAULT, "mi_collect"))(true);
    } else if (!strcmp(n, "tcmalloc")) {
        ((void (*)(void))dlsym(RTLD_DEFAULT, "MallocExtension_ReleaseFreeMemory"))();
    }
}

TEST(statistics_follow_64_mib_of_allocations) {
    enum { BLOCKS = 65536, SIZE = 1024 };
    alloc_stats_t before, during, after, released;
    ASSERT_TRUE(alloc_stats(g_m, g_heap, &before) == 0);
    if (before.footprint == ALLOC_UNKNOWN) {
        test_skip("no statistics in this build (ASan serves malloc)");
        return;
    }
    void **v = g_m->malloc(g_heap, BLOCKS * sizeof *v);
    ASSERT_TRUE(v != NULL);
    for (int i = 0; i < BLOCKS; i++) {
        v[i] = g_m->malloc(g_heap, SIZE);
        ASSERT_TRUE(v[i] != NULL);
        memset(v[i], i, SIZE);
    }
    ASSERT_TRUE(alloc_stats(g_m, g_heap, &during) == 0);
    for (int i = 0; i < BLOCKS; i++)
        g_m->free(g_heap, v[i]);
    g_m->free(g_heap, v);
    ASSERT_TRUE(alloc_stats(g_m, g_heap, &after) == 0);
    release_free_memory();
    ASSERT_TRUE(alloc_stats(g_m, g_heap, &released) == 0);
    printf("  H: %lld -> %lld -> %lld -> %lld (released); allocated: %lld -> %lld -> %lld\n",
           (long long)before.footprint, (long long)during.footprint, (long long)after.footprint,
           (long long)released.footprint, (long long)before.allocated_bytes,
           (long long)during.allocated_bytes, (long long)after.allocated_bytes);

    EXPECT_GE(during.footprint - before.footprint, 64 * MIB);
    EXPECT_LE(released.footprint, during.footprint - 32 * MIB);
    if (during.peak_footprint != ALLOC_UNKNOWN)
        EXPECT_GE(during.peak_footprint, during.footprint);
    if (before.allocated_bytes != ALLOC_UNKNOWN) {
        EXPECT_GE(during.allocated_bytes - before.allocated_bytes, 64 * MIB);
        EXPECT_LE(after.allocated_bytes, during.allocated_bytes - 64 * MIB);
        EXPECT_LE(during.allocated_bytes, during.footprint);
    } else {
        EXPECT_STREQ(g_m->name, "mimalloc"); /* the only one without the figure */
    }
}

/* The harness composes H at the peak as allocated + metadata + free (the
 * rest): the figures must lie inside H, and where all are reported they must
 * add up to it. */
TEST(allocated_free_and_metadata_add_up_to_h) {
    enum { BLOCKS = 16384, SIZE = 1000 };
    alloc_stats_t s;
    void **v = g_m->malloc(g_heap, BLOCKS * sizeof *v);
    ASSERT_TRUE(v != NULL);
    for (int i = 0; i < BLOCKS; i++) {
        v[i] = g_m->malloc(g_heap, SIZE);
        ASSERT_TRUE(v[i] != NULL);
        memset(v[i], 1, SIZE);
    }
    for (int i = 0; i < BLOCKS; i += 2)
        g_m->free(g_heap, v[i]);
    ASSERT_TRUE(alloc_stats(g_m, g_heap, &s) == 0);
    for (int i = 1; i < BLOCKS; i += 2)
        g_m->free(g_heap, v[i]);
    g_m->free(g_heap, v);
    if (s.footprint == ALLOC_UNKNOWN || s.allocated_bytes == ALLOC_UNKNOWN) {
        test_skip("H or allocated bytes not reported");
        return;
    }
    int64_t meta = s.metadata_bytes != ALLOC_UNKNOWN ? s.metadata_bytes : 0;
    printf("  H %lld = allocated %lld + free %lld + metadata %lld ?\n", (long long)s.footprint,
           (long long)s.allocated_bytes, (long long)s.free_bytes, (long long)s.metadata_bytes);
    EXPECT_LE(s.allocated_bytes + meta, s.footprint);
    if (s.free_bytes == ALLOC_UNKNOWN)
        return;
    /* the freed half lies between live blocks: it is all still held, free */
    EXPECT_GE(s.free_bytes, (int64_t)(BLOCKS / 2) * SIZE);
    if (!strcmp(g_m->name, "jemalloc")) {
        /* H holds only the resident part of stats.metadata */
        EXPECT_LE(s.allocated_bytes + s.free_bytes, s.footprint);
        EXPECT_GE(s.allocated_bytes + s.free_bytes + meta, s.footprint);
    } else {
        EXPECT_EQ(s.allocated_bytes + s.free_bytes + meta, s.footprint);
    }
}

/* Blocks the application freed but the library keeps in a thread cache are
 * free memory, not allocated bytes (frag_internal and the composition's
 * "overhead" are computed from allocated_bytes). */
TEST(freed_blocks_in_thread_caches_are_not_allocated) {
    enum { BLOCKS = 8192, SIZE = 96 };
    static void *v[BLOCKS];
    alloc_stats_t before, after;
    ASSERT_TRUE(alloc_stats(g_m, g_heap, &before) == 0);
    if (before.allocated_bytes == ALLOC_UNKNOWN) {
        test_skip("allocated bytes not reported");
        return;
    }
    for (int i = 0; i < BLOCKS; i++) {
        v[i] = g_m->malloc(g_heap, SIZE);
        ASSERT_TRUE(v[i] != NULL);
    }
    for (int i = BLOCKS - 1; i >= 0; i--)
        g_m->free(g_heap, v[i]);
    ASSERT_TRUE(alloc_stats(g_m, g_heap, &after) == 0);
    printf("  allocated: %lld before, %lld after freeing %d blocks of %d B\n",
           (long long)before.allocated_bytes, (long long)after.allocated_bytes, BLOCKS, SIZE);
    /* glibc keeps up to 7 chunks a size in its tcache and counts them used */
    EXPECT_LE(after.allocated_bytes - before.allocated_bytes, 4096);
}

static void count_figure(void *ctx, const char *key, double v) {
    (void)v;
    if (key && key[0])
        ++*(int *)ctx;
}

TEST(stats_extra_reports_native_figures) {
    alloc_stats_t s;
    alloc_stats(g_m, g_heap, &s);
    if (s.footprint == ALLOC_UNKNOWN) {
        test_skip("no statistics in this build (ASan serves malloc)");
        return;
    }
    int n = 0;
    ASSERT_TRUE(g_m->stats_extra != NULL);
    EXPECT_EQ(g_m->stats_extra(g_heap, count_figure, &n), 0);
    EXPECT_GE(n, 5);
}

TEST(init_refuses_when_the_library_does_not_serve_malloc) {
    void *heap = NULL;
    int rc = alloc_init(g_m, NULL, &heap);
    EXPECT_EQ(rc, ENOENT);
    printf("  reason: %s\n", alloc_last_error());
    EXPECT_TRUE(alloc_last_error()[0] != 0);
}

int main(int argc, char **argv) {
    if (argc < 2 || (argc == 3 && strcmp(argv[2], "--not-served") != 0) || argc > 3) {
        fprintf(stderr, "usage: %s NAME [--not-served]\n", argv[0]);
        return 2;
    }
    g_m = alloc_find(argv[1]);
    if (!g_m || !(g_m->flags & ALLOC_SYSTEM)) {
        if (g_m && g_m->available) {
            const char *why;
            if (!alloc_is_available(g_m, &why)) {
                printf("skip %s: %s\n", argv[1], why);
                return 77;
            }
        }
        printf("%s is not a system allocator\n", argv[1]);
        return 1;
    }
    const char *why;
    if (!alloc_is_available(g_m, &why)) {
        printf("skip %s: %s\n", argv[1], why);
        return 77;
    }
    if (argc == 3) {
        RUN(init_refuses_when_the_library_does_not_serve_malloc);
        return test_report();
    }
    RUN(table_is_a_thread_safe_system_allocator);
    RUN(init_proves_the_library_serves_malloc);
    if (test_n_fail)
        return test_report();
    RUN(version_comes_from_the_library);
    RUN(statistics_follow_64_mib_of_allocations);
    RUN(allocated_free_and_metadata_add_up_to_h);
    RUN(freed_blocks_in_thread_caches_are_not_allocated);
    RUN(stats_extra_reports_native_figures);
    alloc_fini(g_m, g_heap);
    return test_report();
}
