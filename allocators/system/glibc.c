/*
 * glibc.c - the C library's own malloc (ptmalloc2), the process default.
 *
 * Nothing is preloaded: init() checks that malloc really resolves into the
 * object that defines gnu_get_libc_version (libc.so.6).  Statistics come
 * from mallinfo2(), summed over all arenas by glibc:
 *   arena    bytes from the OS by sbrk (main arena) and the threads' heaps
 *   hblkhd   bytes in chunks mmapped one by one (>= M_MMAP_THRESHOLD)
 *   uordblks bytes in used chunks (headers included), not counting hblkhd
 *   fordblks bytes in free chunks, each arena's top chunk included
 *   ordblks  free chunks in the bins, plus one per arena for its top chunk
 *   smblks   free chunks in the fastbins (fsmblks their bytes)
 *   keepcost the main arena's top chunk (what malloc_trim could give back)
 * H = arena + hblkhd: every byte glibc currently holds from the kernel.
 *
 * In a sanitizer build ASan's interceptors serve malloc; init() accepts that
 * (so the rest of mmbench can be tested under ASan) but the version says so
 * and stats() reports nothing: mallinfo2 would describe glibc's heap, which
 * the run's requests never reach.
 */
#define _GNU_SOURCE
#include "allocators/system/system.h"
#include "mmb_config.h"

#include <dlfcn.h>
#include <errno.h>
#include <gnu/libc-version.h>
#include <malloc.h>
#include <stdio.h>

/* 1 when ASan (not glibc) serves malloc in this sanitizer-built process. */
static int glibc_intercepted;

static const char *glibc_version(void) {
    static char buf[64];
    if (MMBENCH_SANITIZED && !alloc_sys_serves("gnu_get_libc_version", NULL))
        snprintf(buf, sizeof buf, "%s+asan", gnu_get_libc_version());
    else
        snprintf(buf, sizeof buf, "%s", gnu_get_libc_version());
    return buf;
}

static int glibc_available(const char **reason) {
    (void)reason;
    return 1;
}

static int glibc_init(void **heap, const alloc_config_t *cfg) {
    (void)cfg;
    *heap = NULL;
    int rc = alloc_sys_verify("glibc", "gnu_get_libc_version", NULL);
    glibc_intercepted = 0;
    if (rc && MMBENCH_SANITIZED) {
        glibc_intercepted = 1;
        return 0;
    }
    return rc;
}

static int glibc_stats(void *heap, alloc_stats_t *s) {
    (void)heap;
    if (glibc_intercepted)
        return 0;
    struct mallinfo2 mi = mallinfo2();
    s->footprint = (int64_t)(mi.arena + mi.hblkhd);
    s->mapped_bytes = (int64_t)(mi.arena + mi.hblkhd);
    s->allocated_bytes = (int64_t)(mi.uordblks + mi.hblkhd);
    s->free_bytes = (int64_t)mi.fordblks;
    s->top_free_bytes = (int64_t)mi.keepcost;
    return 0;
}

static int glibc_stats_extra(void *heap, void (*emit)(void *, const char *, double), void *ctx) {
    (void)heap;
    if (glibc_intercepted)
        return 0;
    struct mallinfo2 mi = mallinfo2();
    /* usmblks is always 0 in glibc >= 2.26, so it is not reported. */
    emit(ctx, "mallinfo2.arena", (double)mi.arena);
    emit(ctx, "mallinfo2.ordblks", (double)mi.ordblks);
    emit(ctx, "mallinfo2.smblks", (double)mi.smblks);
    emit(ctx, "mallinfo2.hblks", (double)mi.hblks);
    emit(ctx, "mallinfo2.hblkhd", (double)mi.hblkhd);
    emit(ctx, "mallinfo2.fsmblks", (double)mi.fsmblks);
    emit(ctx, "mallinfo2.uordblks", (double)mi.uordblks);
    emit(ctx, "mallinfo2.fordblks", (double)mi.fordblks);
    emit(ctx, "mallinfo2.keepcost", (double)mi.keepcost);
    return 0;
}

const alloc_methods_t alloc_glibc_methods = {
    .name = "glibc",
    .description = "the C library's malloc (ptmalloc2), the process default",
    .flags = ALLOC_THREAD_SAFE | ALLOC_SYSTEM | ALLOC_PROCESS_MALLOC,
    .preload = NULL,
    .heap_figure = "mallinfo2 arena + hblkhd: bytes from sbrk/arena heaps plus mmapped chunks",
    .version = glibc_version,
    .available = glibc_available,
    .init = glibc_init,
    .malloc = alloc_sys_malloc,
    .free = alloc_sys_free,
    .realloc = alloc_sys_realloc,
    .aligned = alloc_sys_aligned,
    .usable_size = alloc_sys_usable_size,
    .stats = glibc_stats,
    .stats_extra = glibc_stats_extra,
};

