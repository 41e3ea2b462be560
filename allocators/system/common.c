/*
 * common.c - what the four system allocator tables share: the check that a
 * library really serves malloc in this process, and the malloc-family slots
 * (which simply call the process's malloc, i.e. the preloaded library).
 */
#define _GNU_SOURCE
#include "allocators/system/system.h"
#include "mmb_config.h"

#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int alloc_sys_file_exists(const char *path) {
    struct stat st;
    return path && path[0] && stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* The shared object holding `sym` as this process resolves it, or NULL. */
static int alloc_sys_object_of(const char *sym, Dl_info *info) {
    void *f = dlsym(RTLD_DEFAULT, sym);
    return f && dladdr(f, info) && info->dli_fname;
}

static int alloc_sys_check(const char *name, const char *anchor, const char *path, int quiet) {
    static const char *const family[] = {"malloc", "free", "realloc", "posix_memalign",
                                         "malloc_usable_size"};
    Dl_info lib;
    if (!alloc_sys_object_of(anchor, &lib)) {
        if (!quiet)
            alloc_set_error("%s: %s() is not loaded in this process (run it with "
                                "LD_PRELOAD=%s)", name, anchor, path ? path : "the library");
        return ENOENT;
    }
    if (path) {
        struct stat want, got;
        if (stat(path, &want) != 0 || stat(lib.dli_fname, &got) != 0 ||
            want.st_dev != got.st_dev || want.st_ino != got.st_ino) {
            if (!quiet)
                alloc_set_error("%s: %s() comes from %s, not from the configured %s", name,
                                    anchor, lib.dli_fname, path);
            return ENOENT;
        }
    }
    for (size_t i = 0; i < sizeof family / sizeof family[0]; i++) {
        Dl_info got;
        if (!alloc_sys_object_of(family[i], &got) || got.dli_fbase != lib.dli_fbase) {
            if (!quiet)
                alloc_set_error("%s: %s() in this process is served by %s, not by %s "
                                    "(is another malloc preloaded in front of it?)",
                                    name, family[i], got.dli_fname ? got.dli_fname : "nothing",
                                    lib.dli_fname);
            return ENOENT;
        }
    }
    return 0;
}

int alloc_sys_verify(const char *name, const char *anchor, const char *path) {
    return alloc_sys_check(name, anchor, path, 0);
}

int alloc_sys_serves(const char *anchor, const char *path) {
    return alloc_sys_check("", anchor, path, 1) == 0;
}

void *alloc_sys_malloc(void *heap, size_t n) {
    (void)heap;
    return malloc(n);
}

void alloc_sys_free(void *heap, void *p) {
    (void)heap;
    free(p);
}

void *alloc_sys_realloc(void *heap, void *p, size_t n) {
    (void)heap;
    return realloc(p, n);
}

/* posix_memalign needs a power of two that is a multiple of sizeof(void *);
 * smaller powers of two are raised to it (the result is still aligned). */
void *alloc_sys_aligned(void *heap, size_t align, size_t n) {
    (void)heap;
    if (align == 0 || (align & (align - 1))) {
        errno = EINVAL;
        return NULL;
    }
    if (align < sizeof(void *))
        align = sizeof(void *);
    void *p = NULL;
    int rc = posix_memalign(&p, align, n);
    if (rc) {
        errno = rc;
        return NULL;
    }
    return p;
}

size_t alloc_sys_usable_size(void *heap, void *p) {
    (void)heap;
    return p ? malloc_usable_size(p) : 0;
}

int alloc_sys_preload_available(const char *name, int have, const char *path, const char *pkg,
                                const char **reason) {
    /* One buffer per table, so a reason stays valid after another call. */
    static char bufs[4][256];
    static const char *owners[4];
    char *buf = bufs[3];
    for (int i = 0; i < 4; i++) {
        if (owners[i] == name || !owners[i]) {
            owners[i] = name;
            buf = bufs[i];
            break;
        }
    }
    if (!have)
        snprintf(buf, sizeof bufs[0], "%s: lib%s not found at build time (install %s)", name,
                 name, pkg);
    else if (MMBENCH_SANITIZED)
        snprintf(buf, sizeof bufs[0], "%s: not available in sanitizer builds: ASan owns malloc",
                 name);
    else if (!alloc_sys_file_exists(path))
        snprintf(buf, sizeof bufs[0], "%s: %s no longer exists (reinstall %s and re-run cmake)",
                 name, path, pkg);
    else
        return 1;
    *reason = buf;
    return 0;
}
