/*
 * mimalloc.c - mimalloc, served by preloading its shared library.
 *
 * The run's child process gets LD_PRELOAD=MMBENCH_MIMALLOC_LIB, so malloc
 * and friends are mimalloc's; init() proves it (system.h).  Figures:
 *   mi_process_info  current_commit / peak_commit: exact bytes mimalloc has
 *                    committed from the OS now / at most (its "committed"
 *                    statistic, kept in every build).  Its current_rss is
 *                    NOT reported: on Linux mimalloc 2.0.x fills it with the
 *                    commit figure, it never measures RSS.
 *   mi_stats_print_out  the statistics table, parsed for the extra figures
 *                    (reserved, reset, segments, pages, ...).  It prints
 *                    amounts rounded to 0.1 KiB/MiB/GiB, so those figures go
 *                    to stats_extra only, never into the exact struct.
 * Debian's mimalloc 2.0.9 is built without MI_STAT, so it does not count
 * the bytes the application has allocated: allocated_bytes stays unknown
 * (if a build with MI_STAT prints "malloc req", it is emitted as an extra).
 * H = current_commit: memory mimalloc holds from the OS (committed, whether
 * in live blocks, free blocks, or pages not yet reset).
 */
#define _GNU_SOURCE
#include "allocators/system/system.h"
#include "mmb_config.h"

#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if MMBENCH_HAVE_MIMALLOC
#include <mimalloc.h> /* MI_MALLOC_VERSION only: no link dependency */
#define MIM_HEADER_VERSION MI_MALLOC_VERSION
#else
#define MIM_HEADER_VERSION 0
#endif

typedef void (*mim_process_info_fn)(size_t *elapsed_msecs, size_t *user_msecs,
                                    size_t *system_msecs, size_t *current_rss, size_t *peak_rss,
                                    size_t *current_commit, size_t *peak_commit,
                                    size_t *page_faults);
typedef void (*mim_output_fn)(const char *msg, void *arg);
typedef void (*mim_stats_print_fn)(mim_output_fn out, void *arg);

static int mim_serves(void) {
    return MMBENCH_HAVE_MIMALLOC && !MMBENCH_SANITIZED &&
           alloc_sys_serves("mi_version", MMBENCH_MIMALLOC_LIB);
}

/* mi_version() of the live library when it serves this process, else
 * MI_MALLOC_VERSION of the mimalloc.h found at build time (the parent of a
 * run); both encode major*100 + minor*10 + patch (209 = 2.0.9). */
static const char *mim_version(void) {
    static char buf[32];
    int v = MIM_HEADER_VERSION;
    if (mim_serves())
        v = ((int (*)(void))dlsym(RTLD_DEFAULT, "mi_version"))();
    if (v <= 0)
        return NULL;
    snprintf(buf, sizeof buf, "%d.%d.%d", v / 100, (v / 10) % 10, v % 10);
    return buf;
}

static int mim_available(const char **reason) {
    return alloc_sys_preload_available("mimalloc", MMBENCH_HAVE_MIMALLOC, MMBENCH_MIMALLOC_LIB,
                                       "libmimalloc-dev", reason);
}

static int mim_init(void **heap, const alloc_config_t *cfg) {
    (void)cfg;
    *heap = NULL;
    const char *why;
    if (!mim_available(&why)) {
        alloc_set_error("%s", why);
        return ENOTSUP;
    }
    int rc = alloc_sys_verify("mimalloc", "mi_version", MMBENCH_MIMALLOC_LIB);
    if (rc)
        return rc;
    if (!dlsym(RTLD_DEFAULT, "mi_process_info") || !dlsym(RTLD_DEFAULT, "mi_stats_print_out")) {
        alloc_set_error("mimalloc: mi_process_info or mi_stats_print_out is missing");
        return ENOSYS;
    }
    return 0;
}

static int mim_stats(void *heap, alloc_stats_t *s) {
    (void)heap;
    mim_process_info_fn info = (mim_process_info_fn)dlsym(RTLD_DEFAULT, "mi_process_info");
    if (!info)
        return ENOSYS;
    size_t el, us, sy, rss, peak_rss, commit, peak_commit, faults;
    info(&el, &us, &sy, &rss, &peak_rss, &commit, &peak_commit, &faults);
    s->footprint = (int64_t)commit;
    s->peak_footprint = (int64_t)peak_commit;
    return 0;
}

/* ---- parsing mi_stats_print_out ------------------------------------------
 * Lines look like "  reserved:   96.0 MiB   96.0 MiB      0       96.0 MiB ..."
 * (peak, total, freed, current) or " -extended:      0" (one counter).  The
 * printer writes into a stack buffer and does not allocate, so neither do we:
 * the callback collects into a fixed buffer. */

typedef struct mim_text {
    char buf[8192];
    size_t len;
} mim_text_t;

static void mim_collect(const char *msg, void *arg) {
    mim_text_t *t = arg;
    size_t n = strlen(msg);
    if (n > sizeof t->buf - 1 - t->len)
        n = sizeof t->buf - 1 - t->len;
    memcpy(t->buf + t->len, msg, n);
    t->len += n;
    t->buf[t->len] = 0;
}

/* Parse one amount at *p ("96.0 MiB", "0", "-1.0 Ki", "3"); 0 if none. */
static int mim_amount(char **p, double *out) {
    char *end;
    double v = strtod(*p, &end);
    if (end == *p)
        return 0;
    char *q = end;
    while (*q == ' ')
        q++;
    double mul = 1;
    if ((q[0] == 'K' || q[0] == 'M' || q[0] == 'G' || q[0] == 'T') && q[1] == 'i') {
        mul = q[0] == 'K' ? 1024.0 : q[0] == 'M' ? 1048576.0 : q[0] == 'G' ? 1073741824.0
                                                                          : 1099511627776.0;
        q += 2;
        if (*q == 'B')
            q++;
        end = q;
    } else if (q[0] == 'B' && (q[1] == ' ' || q[1] == 0 || q[1] == '\n')) {
        end = q + 1;
    }
    *out = v * mul;
    *p = end;
    return 1;
}

/* Emit the figures of one line; sub-rows ("-abandoned" under "segments")
 * are named after the row above them, kept in parent[]. */
static void mim_emit_line(char *line, char parent[48], int counted,
                          void (*emit)(void *, const char *, double), void *ctx) {
    static const char *const cols[] = {"peak", "total", "freed", "current"};
    char *colon = strchr(line, ':');
    if (!colon)
        return;
    char *a = line;
    while (*a == ' ')
        a++;
    int sub = *a == '-';
    if (sub)
        a++;
    char name[48];
    size_t n = (size_t)(colon - a);
    if (n == 0 || n >= sizeof name)
        return;
    memcpy(name, a, n);
    name[n] = 0;
    for (size_t i = 0; i < n; i++)
        if (name[i] == ' ')
            name[i] = '_';
    /* Lines about the process or timing are not heap figures. */
    if (!strcmp(name, "process") || !strcmp(name, "elapsed") || !strcmp(name, "heap_stats") ||
        !strcmp(name, "searches") || !strcmp(name, "numa_nodes"))
        return;
    char full[100];
    if (sub)
        snprintf(full, sizeof full, "%s.%s", parent, name);
    else {
        snprintf(full, sizeof full, "%s", name);
        snprintf(parent, 48, "%s", name);
    }
    char *p = colon + 1;
    double v[4];
    int k = 0;
    while (k < 4) {
        while (*p == ' ')
            p++;
        if (!mim_amount(&p, &v[k]))
            break;
        k++;
    }
    char key[128];
    /* A build without MI_STAT (`counted` 0, Debian's) never counts some rows
     * and counts others on one side only: an uncounted row reads 0, which
     * here means unknown, and a half-counted one reads nonsense (pages:
     * current -1 below a peak of 0).  Those are left out, not stored as
     * figures: a row all 0 in such a build, and in any build a row whose
     * current is negative or above its peak. */
    if (k == 1) {
        if (!counted && v[0] == 0)
            return;
        snprintf(key, sizeof key, "mi.%s", full);
        emit(ctx, key, v[0]);
    } else if (k == 4) {
        if (v[3] < 0 || v[3] > v[0] || (!counted && v[0] == 0 && v[1] == 0 && v[2] == 0 && v[3] == 0))
            return;
        for (int i = 0; i < 4; i++) {
            snprintf(key, sizeof key, "mi.%s.%s", full, cols[i]);
            emit(ctx, key, v[i]);
        }
    }
}

static int mim_stats_extra(void *heap, void (*emit)(void *, const char *, double), void *ctx) {
    (void)heap;
    mim_process_info_fn info = (mim_process_info_fn)dlsym(RTLD_DEFAULT, "mi_process_info");
    mim_stats_print_fn print = (mim_stats_print_fn)dlsym(RTLD_DEFAULT, "mi_stats_print_out");
    if (!info || !print)
        return ENOSYS;
    size_t el, us, sy, rss, peak_rss, commit, peak_commit, faults;
    info(&el, &us, &sy, &rss, &peak_rss, &commit, &peak_commit, &faults);
    emit(ctx, "mi_process_info.current_commit", (double)commit);
    emit(ctx, "mi_process_info.peak_commit", (double)peak_commit);
    emit(ctx, "mi_process_info.peak_rss", (double)peak_rss); /* getrusage: the process */
    emit(ctx, "mi_process_info.page_faults", (double)faults);

    static _Thread_local mim_text_t text; /* 8 KiB: off the stack */
    text.len = 0;
    text.buf[0] = 0;
    print(mim_collect, &text);
    /* an MI_STAT build prints the application's bytes as a "normal" row */
    int counted = strstr(text.buf, "normal:") != NULL;
    char parent[48] = "";
    for (char *line = text.buf, *nl; *line; line = nl + 1) {
        nl = strchr(line, '\n');
        if (!nl)
            nl = line + strlen(line) - 1;
        else
            *nl = 0;
        mim_emit_line(line, parent, counted, emit, ctx);
    }
    return 0;
}

const alloc_methods_t alloc_mimalloc_methods = {
    .name = "mimalloc",
    .description = "mimalloc, preloaded into the run's process (LD_PRELOAD)",
    .flags = ALLOC_THREAD_SAFE | ALLOC_SYSTEM | ALLOC_PROCESS_MALLOC,
    .preload = (MMBENCH_HAVE_MIMALLOC && !MMBENCH_SANITIZED) ? MMBENCH_MIMALLOC_LIB : NULL,
    .heap_figure = "mi_process_info current_commit: bytes mimalloc has committed from the OS",
    .version = mim_version,
    .available = mim_available,
    .init = mim_init,
    .malloc = alloc_sys_malloc,
    .free = alloc_sys_free,
    .realloc = alloc_sys_realloc,
    .aligned = alloc_sys_aligned,
    .usable_size = alloc_sys_usable_size,
    .stats = mim_stats,
    .stats_extra = mim_stats_extra,
};

