/*
 * jemalloc.c - jemalloc, served by preloading its shared library.
 *
 * The run's child process gets LD_PRELOAD=MMBENCH_JEMALLOC_LIB, so malloc
 * and friends are jemalloc's; init() proves it (system.h).  Statistics come
 * from mallctl(), looked up with dlsym, after advancing "epoch" (jemalloc
 * caches its statistics until then):
 *   stats.allocated  bytes in live allocations (usable sizes), counting the
 *                    blocks cached in the thread caches as allocated
 *   stats.arenas.<i>.tcache_bytes  bytes of those cached blocks: free, so
 *                    allocated_bytes = stats.allocated - tcache_bytes
 *   stats.active     bytes in active pages (>= allocated)
 *   stats.metadata   bytes of jemalloc metadata
 *   stats.resident   upper bound of resident data pages: metadata, active
 *                    pages and unused dirty pages not yet purged
 *   stats.mapped     bytes in active extents (dirty unused pages excluded)
 *   stats.retained   virtual memory kept mapped but returned to the kernel
 *   stats.arenas.<i>.pdirty  pages freed, not yet purged (in resident)
 * free_bytes = stats.active - allocated_bytes + pdirty pages: the bytes in H
 * that hold no live block (free slab regions, cached blocks, dirty pages).
 * H = stats.resident: the pages jemalloc holds from the kernel now.  It counts
 * the dirty pages freed but not yet purged (jemalloc still holds them, and a
 * heap that is slow to give memory back must show it), which stats.mapped
 * leaves out; it excludes stats.retained, which the kernel has taken back.
 */
#define _GNU_SOURCE
#include "allocators/system/system.h"
#include "mmb_config.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#if MMBENCH_HAVE_JEMALLOC
#include <jemalloc/jemalloc.h> /* JEMALLOC_VERSION only: no link dependency */
#define JEMALLOC_HEADER_VERSION JEMALLOC_VERSION
#else
#define JEMALLOC_HEADER_VERSION NULL
#endif

/* MALLCTL_ARENAS_ALL: "stats.arenas.<i>.*" summed over every arena. */
#define JE_ARENAS_ALL "4096"

typedef int (*je_mallctl_fn)(const char *, void *, size_t *, void *, size_t);

static je_mallctl_fn je_mallctl(void) {
    return (je_mallctl_fn)dlsym(RTLD_DEFAULT, "mallctl");
}

static int je_serves(void) {
    return MMBENCH_HAVE_JEMALLOC && !MMBENCH_SANITIZED &&
           alloc_sys_serves("mallctl", MMBENCH_JEMALLOC_LIB);
}

/* The live library's version when it serves this process; otherwise (the
 * parent of a run, `mmbench list`) the version of the jemalloc.h found at
 * build time, which Debian ships from the same source package as the .so. */
static const char *je_version(void) {
    if (je_serves()) {
        const char *v = NULL;
        size_t sz = sizeof v;
        if (je_mallctl()("version", &v, &sz, NULL, 0) == 0 && v)
            return v;
    }
    return JEMALLOC_HEADER_VERSION;
}

static int je_available(const char **reason) {
    return alloc_sys_preload_available("jemalloc", MMBENCH_HAVE_JEMALLOC, MMBENCH_JEMALLOC_LIB,
                                       "libjemalloc-dev", reason);
}

static int je_init(void **heap, const alloc_config_t *cfg) {
    (void)cfg;
    *heap = NULL;
    const char *why;
    if (!je_available(&why)) {
        alloc_set_error("%s", why);
        return ENOTSUP;
    }
    int rc = alloc_sys_verify("jemalloc", "mallctl", MMBENCH_JEMALLOC_LIB);
    if (rc)
        return rc;
    uint64_t epoch = 1;
    size_t sz = sizeof epoch;
    if (je_mallctl()("epoch", &epoch, &sz, &epoch, sz) != 0) {
        alloc_set_error("jemalloc: mallctl(\"epoch\") failed (built without stats?)");
        return ENOSYS;
    }
    return 0;
}

/* One size_t statistic, or -1 when this build does not have it. */
static int64_t je_get(je_mallctl_fn ctl, const char *name) {
    size_t v, sz = sizeof v;
    return ctl(name, &v, &sz, NULL, 0) == 0 ? (int64_t)v : ALLOC_UNKNOWN;
}

static void je_refresh(je_mallctl_fn ctl) {
    uint64_t epoch = 1;
    size_t sz = sizeof epoch;
    ctl("epoch", &epoch, &sz, &epoch, sz);
}

static int je_stats(void *heap, alloc_stats_t *s) {
    (void)heap;
    je_mallctl_fn ctl = je_mallctl();
    if (!ctl)
        return ENOSYS;
    je_refresh(ctl);
    s->resident_bytes = je_get(ctl, "stats.resident");
    s->footprint = s->resident_bytes;
    /* stats.allocated counts the blocks parked in the thread caches (freed
     * by the application, kept for reuse, and the spares a cache fill
     * brought in) as allocated; they are free, so they are taken out. */
    int64_t allocated = je_get(ctl, "stats.allocated");
    int64_t cached = je_get(ctl, "stats.arenas." JE_ARENAS_ALL ".tcache_bytes");
    int64_t stashed = je_get(ctl, "stats.arenas." JE_ARENAS_ALL ".tcache_stashed_bytes");
    if (allocated != ALLOC_UNKNOWN)
        s->allocated_bytes = allocated - (cached > 0 ? cached : 0) - (stashed > 0 ? stashed : 0);
    /* Free bytes inside H: the free regions of active pages (stats.active
     * counts slabs whole; stats.allocated, usable sizes), the thread-cached
     * blocks taken out above, and the dirty pages freed but not yet purged.
     * H = allocated_bytes + free_bytes + the resident part of the metadata. */
    int64_t active = je_get(ctl, "stats.active");
    int64_t dirty = je_get(ctl, "stats.arenas." JE_ARENAS_ALL ".pdirty");
    int64_t page = je_get(ctl, "arenas.page");
    if (allocated != ALLOC_UNKNOWN && active != ALLOC_UNKNOWN && dirty != ALLOC_UNKNOWN && page != ALLOC_UNKNOWN &&
        active >= s->allocated_bytes)
        s->free_bytes = active - s->allocated_bytes + dirty * page;
    s->metadata_bytes = je_get(ctl, "stats.metadata");
    s->retained_bytes = je_get(ctl, "stats.retained");
    s->mapped_bytes = je_get(ctl, "stats.mapped");
    return 0;
}

static int je_stats_extra(void *heap, void (*emit)(void *, const char *, double), void *ctx) {
    (void)heap;
    static const char *const sizes[] = {
        "stats.allocated", "stats.active", "stats.metadata", "stats.metadata_thp",
        "stats.resident", "stats.mapped", "stats.retained", "stats.zero_reallocs",
        "stats.background_thread.num_threads", "arenas.page",
        "stats.arenas." JE_ARENAS_ALL ".pactive", "stats.arenas." JE_ARENAS_ALL ".pdirty",
        "stats.arenas." JE_ARENAS_ALL ".pmuzzy", "stats.arenas." JE_ARENAS_ALL ".base",
        "stats.arenas." JE_ARENAS_ALL ".internal", "stats.arenas." JE_ARENAS_ALL ".tcache_bytes",
        "stats.arenas." JE_ARENAS_ALL ".tcache_stashed_bytes",
    };
    je_mallctl_fn ctl = je_mallctl();
    if (!ctl)
        return ENOSYS;
    je_refresh(ctl);
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        int64_t v = je_get(ctl, sizes[i]);
        if (v != ALLOC_UNKNOWN)
            emit(ctx, sizes[i], (double)v);
    }
    unsigned narenas;
    size_t sz = sizeof narenas;
    if (ctl("arenas.narenas", &narenas, &sz, NULL, 0) == 0)
        emit(ctx, "arenas.narenas", (double)narenas);
    return 0;
}

const alloc_methods_t alloc_jemalloc_methods = {
    .name = "jemalloc",
    .description = "jemalloc, preloaded into the run's process (LD_PRELOAD)",
    .flags = ALLOC_THREAD_SAFE | ALLOC_SYSTEM | ALLOC_PROCESS_MALLOC,
    .preload = (MMBENCH_HAVE_JEMALLOC && !MMBENCH_SANITIZED) ? MMBENCH_JEMALLOC_LIB : NULL,
    .heap_figure = "mallctl stats.resident: active + metadata + dirty pages not yet purged",
    .version = je_version,
    .available = je_available,
    .init = je_init,
    .malloc = alloc_sys_malloc,
    .free = alloc_sys_free,
    .realloc = alloc_sys_realloc,
    .aligned = alloc_sys_aligned,
    .usable_size = alloc_sys_usable_size,
    .stats = je_stats,
    .stats_extra = je_stats_extra,
};

