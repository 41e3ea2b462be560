/*
 * tcmalloc.c - gperftools' tcmalloc, served by preloading its shared library.
 *
 * The run's child process gets LD_PRELOAD=MMBENCH_TCMALLOC_LIB, so malloc
 * and friends are tcmalloc's; init() proves it (system.h).  Statistics come
 * from MallocExtension_GetNumericProperty (the C API, looked up with dlsym):
 *   generic.current_allocated_bytes  bytes in live allocations
 *   generic.heap_size                bytes the page heap has obtained from the
 *                                    OS, released ("unmapped") pages included
 *   tcmalloc.pageheap_unmapped_bytes released to the OS (madvise), still mapped
 *   generic.total_physical_bytes     heap_size - unmapped + metadata
 *   tcmalloc.*_free_bytes            free bytes in the page heap, central,
 *                                    transfer and thread caches
 * H = generic.total_physical_bytes: everything tcmalloc holds from the
 * kernel now - the page heap (free cached pages included, released pages
 * excluded) plus its metadata, which heap_size leaves out but which is held
 * from the OS all the same (as in jemalloc's and mimalloc's H).  The metadata
 * is H - (heap_size - unmapped), so allocated + free + metadata = H.
 */
#define _GNU_SOURCE
#include "allocators/system/system.h"
#include "mmb_config.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>

#if MMBENCH_HAVE_TCMALLOC
#include <gperftools/tcmalloc.h> /* TC_VERSION_* only: no link dependency */
#define TCM_HEADER_MAJOR TC_VERSION_MAJOR
#define TCM_HEADER_MINOR TC_VERSION_MINOR
#define TCM_HEADER_PATCH TC_VERSION_PATCH
#else
#define TCM_HEADER_MAJOR 0
#define TCM_HEADER_MINOR 0
#define TCM_HEADER_PATCH ""
#endif

typedef int (*tcm_property_fn)(const char *property, size_t *value);
typedef const char *(*tcm_version_fn)(int *major, int *minor, const char **patch);

static tcm_property_fn tcm_property(void) {
    return (tcm_property_fn)dlsym(RTLD_DEFAULT, "MallocExtension_GetNumericProperty");
}

static int tcm_serves(void) {
    return MMBENCH_HAVE_TCMALLOC && !MMBENCH_SANITIZED &&
           alloc_sys_serves("tc_version", MMBENCH_TCMALLOC_LIB);
}

/* tc_version() of the live library when it serves this process, else the
 * TC_VERSION_* macros of the gperftools/tcmalloc.h found at build time (the
 * parent of a run).  Both give "2.10" for gperftools 2.10. */
static const char *tcm_version(void) {
    static char buf[32];
    int major = TCM_HEADER_MAJOR, minor = TCM_HEADER_MINOR;
    const char *patch = TCM_HEADER_PATCH;
    if (tcm_serves())
        ((tcm_version_fn)dlsym(RTLD_DEFAULT, "tc_version"))(&major, &minor, &patch);
    if (major <= 0)
        return NULL;
    snprintf(buf, sizeof buf, "%d.%d%s", major, minor, patch ? patch : "");
    return buf;
}

static int tcm_available(const char **reason) {
    return alloc_sys_preload_available("tcmalloc", MMBENCH_HAVE_TCMALLOC, MMBENCH_TCMALLOC_LIB,
                                       "libgoogle-perftools-dev", reason);
}

static int tcm_init(void **heap, const alloc_config_t *cfg) {
    (void)cfg;
    *heap = NULL;
    const char *why;
    if (!tcm_available(&why)) {
        alloc_set_error("%s", why);
        return ENOTSUP;
    }
    int rc = alloc_sys_verify("tcmalloc", "tc_version", MMBENCH_TCMALLOC_LIB);
    if (rc)
        return rc;
    if (!tcm_property()) {
        alloc_set_error("tcmalloc: MallocExtension_GetNumericProperty is missing");
        return ENOSYS;
    }
    return 0;
}

static int64_t tcm_get(tcm_property_fn get, const char *name) {
    size_t v;
    return get(name, &v) ? (int64_t)v : ALLOC_UNKNOWN;
}

static int tcm_stats(void *heap, alloc_stats_t *s) {
    (void)heap;
    tcm_property_fn get = tcm_property();
    if (!get)
        return ENOSYS;
    int64_t heap_size = tcm_get(get, "generic.heap_size");
    int64_t unmapped = tcm_get(get, "tcmalloc.pageheap_unmapped_bytes");
    int64_t physical = tcm_get(get, "generic.total_physical_bytes");
    int64_t pageheap = tcm_get(get, "tcmalloc.pageheap_free_bytes");
    int64_t central = tcm_get(get, "tcmalloc.central_cache_free_bytes");
    int64_t transfer = tcm_get(get, "tcmalloc.transfer_cache_free_bytes");
    int64_t thread = tcm_get(get, "tcmalloc.thread_cache_free_bytes");
    s->allocated_bytes = tcm_get(get, "generic.current_allocated_bytes");
    s->footprint = physical;
    if (heap_size >= 0 && unmapped >= 0 && physical >= heap_size - unmapped)
        s->metadata_bytes = physical - (heap_size - unmapped);
    s->mapped_bytes = heap_size;
    s->retained_bytes = unmapped;
    s->resident_bytes = physical;
    if (pageheap >= 0 && central >= 0 && transfer >= 0 && thread >= 0)
        s->free_bytes = pageheap + central + transfer + thread;
    return 0;
}

static int tcm_stats_extra(void *heap, void (*emit)(void *, const char *, double), void *ctx) {
    (void)heap;
    static const char *const props[] = {
        "generic.current_allocated_bytes", "generic.heap_size", "generic.total_physical_bytes",
        "tcmalloc.pageheap_free_bytes", "tcmalloc.pageheap_unmapped_bytes",
        "tcmalloc.pageheap_committed_bytes", "tcmalloc.central_cache_free_bytes",
        "tcmalloc.transfer_cache_free_bytes", "tcmalloc.thread_cache_free_bytes",
        "tcmalloc.current_total_thread_cache_bytes", "tcmalloc.max_total_thread_cache_bytes",
        "tcmalloc.slack_bytes", "tcmalloc.pageheap_scavenge_count",
        "tcmalloc.pageheap_commit_count", "tcmalloc.pageheap_total_commit_bytes",
        "tcmalloc.pageheap_decommit_count", "tcmalloc.pageheap_total_decommit_bytes",
        "tcmalloc.pageheap_reserve_count", "tcmalloc.pageheap_total_reserve_bytes",
    };
    tcm_property_fn get = tcm_property();
    if (!get)
        return ENOSYS;
    for (size_t i = 0; i < sizeof props / sizeof props[0]; i++) {
        int64_t v = tcm_get(get, props[i]);
        if (v != ALLOC_UNKNOWN)
            emit(ctx, props[i], (double)v);
    }
    return 0;
}

const alloc_methods_t alloc_tcmalloc_methods = {
    .name = "tcmalloc",
    .description = "gperftools tcmalloc, preloaded into the run's process (LD_PRELOAD)",
    .flags = ALLOC_THREAD_SAFE | ALLOC_SYSTEM | ALLOC_PROCESS_MALLOC,
    .preload = (MMBENCH_HAVE_TCMALLOC && !MMBENCH_SANITIZED) ? MMBENCH_TCMALLOC_LIB : NULL,
    .heap_figure = "generic.total_physical_bytes: heap_size - pageheap_unmapped_bytes + metadata",
    .version = tcm_version,
    .available = tcm_available,
    .init = tcm_init,
    .malloc = alloc_sys_malloc,
    .free = alloc_sys_free,
    .realloc = alloc_sys_realloc,
    .aligned = alloc_sys_aligned,
    .usable_size = alloc_sys_usable_size,
    .stats = tcm_stats,
    .stats_extra = tcm_stats_extra,
};

