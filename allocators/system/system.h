/*
 * system.h - glue shared by the four system allocator tables (glibc,
 * jemalloc, mimalloc, tcmalloc).  Internal to allocators/system/.
 *
 * mmbench links none of these libraries: a run of jemalloc, mimalloc or
 * tcmalloc happens in a child started with LD_PRELOAD=<library> (the table's
 * .preload), so the process's malloc family *is* the library.  The tables
 * call malloc/free/... directly and look every library-specific function up
 * with dlsym(RTLD_DEFAULT, ...) at run time.
 *
 * Error codes of the tables' init():
 *   ENOENT  the library does not serve malloc in this process (not preloaded,
 *           or another malloc was preloaded in front of it);
 *   ENOSYS  the library serves malloc but lacks a statistics/version entry
 *           point this table needs;
 *   ENOTSUP the table is unavailable in this build (sanitizers, library not
 *           found at build time).
 * alloc_last_error() (alloc.h) gives the sentence explaining the last failure.
 */
#ifndef MMB_ALLOC_SYSTEM_H
#define MMB_ALLOC_SYSTEM_H

#include "allocators/alloc.h"

#include <stddef.h>

/* Verify that malloc, free, realloc, posix_memalign and malloc_usable_size
 * of this process all resolve into the shared object that defines `anchor`
 * (a symbol only the library has, e.g. "mallctl"), and, when `path` is not
 * NULL, that this object is the file `path` (same device and inode).
 * Returns 0, or ENOENT with the reason in alloc_last_error(). */
int alloc_sys_verify(const char *name, const char *anchor, const char *path);

/* Like alloc_sys_verify() but only reports: 1 when `anchor`'s library serves
 * malloc here (used to pick the live version string over the build-time one). */
int alloc_sys_serves(const char *anchor, const char *path);

/* 1 when the regular file `path` exists. */
int alloc_sys_file_exists(const char *path);

/* available() of a preloaded table: 0 with the reason in *reason when the
 * library was not found at build time (have == 0), when its file is gone, or
 * in a sanitizer build (ASan must own malloc there); else 1.  `pkg` names
 * the package to install. */
int alloc_sys_preload_available(const char *name, int have, const char *path, const char *pkg,
                                const char **reason);


/* Shared slots: the process's malloc family. */
void *alloc_sys_malloc(void *heap, size_t n);
void alloc_sys_free(void *heap, void *p);
void *alloc_sys_realloc(void *heap, void *p, size_t n);
void *alloc_sys_aligned(void *heap, size_t align, size_t n);
size_t alloc_sys_usable_size(void *heap, void *p);

#endif
