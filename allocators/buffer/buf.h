/*
 * buf.h - the buffer manager: reference-counted, 64-byte aligned buffers on
 * top of the allocator table, with zero-copy slices, builders, consumed
 * (external) memory guarded by an overlap registry, delayed release, pools
 * with statistics (logging, capping, debug canaries) and CUDA device buffers.
 *
 * This is the module's one public header.  Ideas from Perl's
 * Task::MemManager (num_items x item_size buffers, init value, death stub,
 * consume, delayed GC, region extraction) and Arrow's memory layer (64-byte
 * alignment and padding, slices, builders, pools, device memory).
 *
 * Every fallible call returns an int code: 0 (BUF_OK) on success, else one
 * of BUF_E*; buf_strerror() turns any code into one sentence.
 *
 * Usage:
 *     buf_t *b;
 *     buf_opts_t o = BUF_OPTS_INIT;
 *     o.init = BUF_INIT_ZERO;
 *     int rc = buf_new(&b, 10, sizeof(int32_t), &o);   // 40 bytes, cap 64
 *     if (rc) fprintf(stderr, "%s\n", buf_strerror(rc));
 *     int32_t *v = buf_mutable_data(b);
 *     v[3] = 7;
 *     buf_release(b);
 *
 * Bookkeeping memory: buf_t handles, builders and mirrors come from the
 * buffer's pool (so they are measured with the allocator under test).  The
 * delayed list is intrusive (its links live in buf_t); the overlap
 * registry's B+tree nodes come from mmap.  Pool structs and the logging
 * pool's slot table come straight from mmap.
 */
#ifndef MMB_BUF_H
#define MMB_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "allocators/alloc.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- error codes: X(name, message), expanded into the enum and the table */
#define BUF_ERRORS(X)                                                              \
    X(BUF_OK, "success")                                                           \
    X(BUF_EINVAL, "invalid argument")                                              \
    X(BUF_ENOMEM, "out of memory: the pool's allocator returned no memory")        \
    X(BUF_EOVERFLOW, "num_items x item_size, padded to 64 bytes with the block's 64-byte prefix, does not fit in size_t") \
    X(BUF_ERANGE, "offset or length outside the buffer's bounds")                  \
    X(BUF_EOVERLAP, "memory overlaps a region the buffer manager already knows")   \
    X(BUF_ECAP, "allocation refused: the capping pool's byte cap would be exceeded") \
    X(BUF_ECANARY, "debug pool canary overwritten: something wrote past the end of a block") \
    X(BUF_EFINISHED, "the builder is already finished")                            \
    X(BUF_EIMMUTABLE, "the buffer is immutable")                                   \
    X(BUF_EBUSY, "the buffer cannot move: it has live slices, or it is a table buffer, whose handle lives in its block") \
    X(BUF_ENOTOWNED, "the operation needs an owned host buffer (not a slice, consumed or device buffer)") \
    X(BUF_ENODEV, "no CUDA device")                                                \
    X(BUF_EDEVICE, "a CUDA runtime call failed")                                   \
    X(BUF_ENOALLOC, "unknown allocator name")                                      \
    X(BUF_EUNAVAIL, "the allocator is not available in this build or process")     \
    X(BUF_EINIT, "the allocator's init failed")                                    \
    X(BUF_EIO, "writing the trace failed")                                         \
    X(BUF_EFOREIGN, "pointer not allocated by this pool or buffer manager")

enum {
#define BUF_ERR_ENUM(name, msg) name,
    BUF_ERRORS(BUF_ERR_ENUM)
#undef BUF_ERR_ENUM
    BUF_NERRORS
};

/* One sentence for any code (also for codes it does not know). */
const char *buf_strerror(int code);

/* ---- pools ---------------------------------------------------------------- */

typedef struct buf_pool buf_pool_t;

typedef struct buf_pool_stats {
    uint64_t bytes_now;     /* bytes requested and not yet freed */
    uint64_t peak;          /* max of bytes_now */
    uint64_t total;         /* bytes requested so far (realloc adds the new size) */
    uint64_t allocations;   /* allocations (realloc counts one) */
    uint64_t frees;         /* frees (realloc counts one) */
    uint64_t canary_errors; /* debug pools: overwritten canaries found */
    uint64_t refused;       /* capping pools: allocations refused */
} buf_pool_stats_t;

/* Create a pool over a new heap of the allocator `name` of the table
 * (alloc_init is called on it).  BUF_ENOALLOC for an unknown name,
 * BUF_EUNAVAIL when it is not available, BUF_EINIT when its init fails
 * (alloc_last_error() then says why, e.g. jemalloc not preloaded),
 * BUF_EINVAL for a NULL name, a device allocator (cuda: no host memory) or
 * the buffer manager itself ("buffer", "buffer:NAME").
 *     buf_pool_t *p;
 *     if (buf_pool_new(&p, "bump") == 0) { ...; buf_pool_destroy(p); } */
int buf_pool_new(buf_pool_t **out, const char *name);

/* Create a pool over an allocator heap the caller already initialised; the
 * pool never finis it. */
int buf_pool_wrap(buf_pool_t **out, const alloc_methods_t *m, void *heap);

/* Logging pool: every call through it is forwarded to parent and written to
 * f in the harness's trace format, one line each, slots numbered from 0 in
 * allocation order (a realloc keeps its slot):
 *     a SLOT SIZE / f SLOT / r SLOT SIZE
 *     buf_pool_t *lp;  buf_pool_logging(&lp, parent, stdout); */
int buf_pool_logging(buf_pool_t **out, buf_pool_t *parent, FILE *f);

/* Capping pool: refuses (BUF_ECAP) any allocation that would take its
 * bytes_now above cap.
 *     buf_pool_capped(&cp, parent, 1 << 20); */
int buf_pool_capped(buf_pool_t **out, buf_pool_t *parent, size_t cap);

/* Debug pool: puts a 16-byte canary after every block; checks it at free
 * (the free still happens, the call returns BUF_ECANARY) and on demand with
 * buf_pool_check.  Never aborts; counts in stats.canary_errors.
 *     buf_pool_debug(&dp, parent); */
int buf_pool_debug(buf_pool_t **out, buf_pool_t *parent);

/* Pinned host memory (cudaMallocHost): buffers from it are host-accessible
 * (buf_memory says BUF_MEM_PINNED) and fast to copy to a device.
 * BUF_ENODEV without a GPU; an alignment cudaMallocHost did not give is
 * refused (BUF_EINVAL) rather than broken. */
int buf_pool_pinned(buf_pool_t **out);

/* Drop the caller's reference: the pool goes when its last buffer goes. */
void buf_pool_destroy(buf_pool_t *pool);

/* The default pool (never NULL): the allocator named by the environment
 * variable MMBENCH_DEFAULT_POOL (default "glibc"), read at first use.  An
 * unknown or unavailable name prints one warning line on stderr and falls
 * back to glibc (and to the C library directly if even glibc is missing).
 * The caller does not own a reference. */
buf_pool_t *buf_pool_default(void);

/* Re-read MMBENCH_DEFAULT_POOL and replace the default pool (buffers of the
 * old one keep it alive).  Returns 0, or BUF_EUNAVAIL/BUF_ENOALLOC when it
 * fell back (the warning is printed either way). */
int buf_pool_default_reload(void);

/* Name of the allocator under the pool ("glibc", "log(bump)", ...). */
const char *buf_pool_name(const buf_pool_t *pool);

void buf_pool_get_stats(buf_pool_t *pool, buf_pool_stats_t *out);

/* Raw allocation through a pool (statistics, logging, cap and canaries all
 * apply).  align: power of two, 0 means 16.  Free with the same size.
 *     void *p; if (buf_pool_alloc(pool, 100, 64, &p) == 0) buf_pool_free(pool, p, 100); */
int buf_pool_alloc(buf_pool_t *pool, size_t n, size_t align, void **out);
/* Resize *p from old_n to new_n bytes keeping contents and alignment.  On
 * BUF_ENOMEM *p and its contents are as they were.  An alignment above 16 is
 * kept by allocate + copy + free unless the block already has the room.
 * Logging and debug pools refuse a pointer they did not hand out
 * (BUF_EFOREIGN, *p left alone), as buf_pool_free does. */
int buf_pool_realloc(buf_pool_t *pool, void **p, size_t old_n, size_t new_n, size_t align);
/* Returns BUF_ECANARY from a debug pool whose canary was overwritten. */
int buf_pool_free(buf_pool_t *pool, void *p, size_t n);

/* Debug pools: check every live block's canary now.  Returns BUF_ECANARY if
 * any is damaged (*nbad, if given, says how many); 0 for other pools. */
int buf_pool_check(buf_pool_t *pool, size_t *nbad);
/* Debug pools: the last canary report, one sentence ("" when none). */
const char *buf_pool_last_error(buf_pool_t *pool);

/* ---- buffers -------------------------------------------------------------- */

typedef struct buf buf_t;

enum { BUF_INIT_NONE = 0, BUF_INIT_ZERO = 1, BUF_INIT_BYTE = 2 };

typedef enum buf_mem {
    BUF_MEM_HOST = 0,  /* pageable host memory */
    BUF_MEM_PINNED,    /* page-locked host memory (cudaMallocHost) */
    BUF_MEM_DEVICE,    /* device memory: the CPU must not touch it */
    BUF_MEM_MANAGED,   /* unified memory (cudaMallocManaged) */
} buf_mem_t;

typedef struct buf_death_info {
    void *addr;        /* data address */
    size_t size;       /* num_items x item_size */
    size_t item_size;
    size_t num_items;
    uint64_t id;       /* buf_opts_t.id, or a counter from 1 */
} buf_death_info_t;

typedef void (*buf_death_fn)(const buf_death_info_t *info, void *ctx);
/* Releases consumed memory; called exactly once, when its buffer dies. */
typedef void (*buf_release_fn)(void *ptr, size_t size, void *ctx);

typedef struct buf_opts {
    buf_pool_t *pool;        /* NULL: the default pool */
    int init;                /* BUF_INIT_NONE / ZERO / BYTE */
    unsigned char init_byte; /* for BUF_INIT_BYTE */
    int delayed;             /* non-zero: delayed release (see buf_delayed_*) */
    buf_death_fn on_death;   /* called once at destruction, may be NULL */
    void *death_ctx;
    uint64_t id;             /* identifier for the death callback; 0 = counter */
} buf_opts_t;

#define BUF_OPTS_INIT {NULL, BUF_INIT_NONE, 0, 0, NULL, NULL, 0}

/* Allocate num_items x item_size bytes (64-byte aligned; capacity rounded up
 * to a multiple of 64, at least 64, the padding zeroed).  opts may be NULL.
 * The caller holds one reference.  BUF_EOVERFLOW when the product, or the
 * block it needs (capacity + 64-byte prefix), overflows size_t.
 *     buf_t *b; buf_new(&b, 100, 8, NULL); ... buf_release(b); */
int buf_new(buf_t **out, size_t num_items, size_t item_size, const buf_opts_t *opts);

/* Wrap external memory: [ptr, ptr + num_items*item_size).  The region is
 * refused with BUF_EOVERLAP if it intersects any region the manager knows
 * (touching is fine); BUF_EINVAL for a NULL ptr, an empty region (0 items or
 * item size 0: it could not be registered) or one that wraps past the end of
 * the address space.  On success release(ptr, size, ctx) runs exactly once
 * when the buffer dies (release may be NULL); on failure it never runs and
 * the caller keeps the memory.  init is ignored (the contents are kept).
 *     buf_consume(&b, p, 4096, 1, my_free, NULL, NULL); */
int buf_consume(buf_t **out, void *ptr, size_t num_items, size_t item_size,
                buf_release_fn release, void *release_ctx, const buf_opts_t *opts);

/* Zero-copy slice of items [offset, offset+count) of parent (in items of the
 * parent's item size).  The slice holds a reference on parent, so the
 * parent's memory lives until the slice dies (parent may be a slice itself:
 * a chain of any length is released without recursion).  BUF_ERANGE when out
 * of bounds.
 *     buf_slice(parent, 10, 5, &s);  buf_release(parent);  read(s);  buf_release(s); */
int buf_slice(buf_t *parent, size_t offset, size_t count, buf_t **out);

/* Copy items [start, end] (inclusive) of src into a new owned buffer in pool
 * (NULL: src's pool).  BUF_ERANGE unless start <= end < num_items.
 *     buf_extract(b, 2, 4, NULL, &copy);   // 3 items */
int buf_extract(buf_t *src, size_t start, size_t end, buf_pool_t *pool, buf_t **out);

/* Change an owned host buffer's item count, keeping the contents; growth is
 * filled with the init value (zero or byte), padding stays zeroed.
 * BUF_ENOTOWNED for slices/consumed/device buffers, BUF_EBUSY while slices
 * exist (and for a table buffer, from buf_from_data of a pointer that the
 * "buffer" allocator handed out, to a new capacity), BUF_EIMMUTABLE for
 * finished builders' buffers.
 *     buf_resize(b, 200); */
int buf_resize(buf_t *b, size_t num_items);

void buf_retain(buf_t *b);
/* Drop one reference; the last one destroys the buffer (death callback,
 * registry removal, memory freed) unless it is delayed, in which case it
 * joins the delayed list.  Returns 0, or BUF_ECANARY from a debug pool. */
int buf_release(buf_t *b);

/* Mark (on != 0) or unmark a buffer for delayed release. */
void buf_set_delayed(buf_t *b, int on);

const void *buf_data(const buf_t *b);
/* NULL for immutable buffers and for device memory. */
void *buf_mutable_data(buf_t *b);
size_t buf_size(const buf_t *b);
size_t buf_capacity(const buf_t *b);
size_t buf_item_size(const buf_t *b);
size_t buf_num_items(const buf_t *b);
uint64_t buf_id(const buf_t *b);
buf_mem_t buf_memory(const buf_t *b);
int buf_is_mutable(const buf_t *b);
long buf_refcount(const buf_t *b);
buf_pool_t *buf_pool_of(const buf_t *b);

/* The buffer whose data starts at p (as returned by buf_data of an owned
 * buffer), or NULL (also for slices, consumed memory and a delayed buffer
 * already released, waiting to be collected).  It takes no reference: p's
 * buffer must be kept alive by the caller.  One registry lookup: O(log n). */
buf_t *buf_from_data(const void *p);

/* ---- builders ------------------------------------------------------------- */

typedef struct buf_builder buf_builder_t;

/* A growing byte buffer (capacity doubles).  pool NULL = default.
 *     buf_builder_t *bb; buf_builder_new(&bb, NULL, 0);
 *     buf_builder_append_i32(bb, 42); buf_builder_append(bb, "abc", 3);
 *     buf_t *b; buf_builder_finish(bb, &b); buf_builder_free(bb); */
int buf_builder_new(buf_builder_t **out, buf_pool_t *pool, size_t initial_capacity);
/* Appends; one that moves the block over a debug pool whose canary was
 * broken still happens and returns BUF_ECANARY (as buf_resize does).
 * BUF_EOVERFLOW past SIZE_MAX / 2 bytes in all (the capacity doubles);
 * BUF_EINVAL for p NULL with n > 0. */
int buf_builder_append(buf_builder_t *bb, const void *p, size_t n);
int buf_builder_append_u8(buf_builder_t *bb, uint8_t v);
int buf_builder_append_i32(buf_builder_t *bb, int32_t v);
int buf_builder_append_i64(buf_builder_t *bb, int64_t v);
int buf_builder_append_f64(buf_builder_t *bb, double v);
size_t buf_builder_length(const buf_builder_t *bb);
size_t buf_builder_capacity(const buf_builder_t *bb);
/* The bytes appended so far (buf_builder_length of them; the block holds
 * buf_builder_capacity), to fill or patch in place; valid until the next
 * append or the finish; NULL once finished. */
void *buf_builder_data(buf_builder_t *bb);
/* Hand the contents over as an immutable buffer of item size 1.  Finishing
 * shrinks the capacity to the length rounded up to 64 (one copy when it
 * differs) and zeroes the padding.  Appends afterwards give BUF_EFINISHED.
 * BUF_ECANARY (a debug pool's canary was broken): finished all the same. */
int buf_builder_finish(buf_builder_t *bb, buf_t **out);
/* Free the builder (and its unfinished contents). */
void buf_builder_free(buf_builder_t *bb);

/* ---- delayed release -------------------------------------------------------- */

/* Buffers marked delayed wait here, oldest first, after their last release.
 * Their death callbacks run when they are collected.  Whatever is left is
 * collected at exit (atexit) or by buf_manager_shutdown.
 *     o.delayed = 1; buf_new(&b, 10, 1, &o); buf_release(b);   // waits
 *     printf("%zu buffers, %zu bytes\n", buf_delayed_count(), buf_delayed_bytes());
 *     buf_delayed_collect(1);                                    // oldest one dies */
size_t buf_delayed_count(void);
size_t buf_delayed_bytes(void);
/* fn(buffer, ctx) for each waiting buffer, oldest first; stop on non-zero.
 * fn runs under the delayed list's lock: it must not call buf_delayed_* nor
 * drop the last reference of a delayed buffer (that would deadlock). */
int buf_delayed_foreach(int (*fn)(const buf_t *b, void *ctx), void *ctx);
/* Destroy up to max waiting buffers, oldest first (SIZE_MAX: all); returns
 * how many were collected. */
size_t buf_delayed_collect(size_t max);
/* Collect every delayed buffer and drop the default pool. */
void buf_manager_shutdown(void);

/* ---- the overlap registry ---------------------------------------------------- */

/* Regions (owned blocks, consumed memory, device memory) known now.
 *     const buf_t *who;
 *     if (buf_registry_lookup(p, 16, &who) == 0) puts("p is taken"); */
size_t buf_registry_count(void);
/* 0 if a region overlapping [p, p+n) is known (*owner set if given), else
 * BUF_ERANGE.  n 0 counts as 1 byte; a range past the top of the address
 * space stops there. */
int buf_registry_lookup(const void *p, size_t n, const buf_t **owner);
/* Check the B+tree's invariants (order, disjointness, fill, one leaf depth): 0 if sound. */
int buf_registry_check(void);

/* ---- device memory (CUDA) ------------------------------------------------------ */

/* 1 when a CUDA device is usable, else 0 and *reason ("no CUDA driver or
 * device (...)" or "built without the CUDA toolkit"). */
int buf_device_available(const char **reason);

/* Allocate on device `device`: mem is BUF_MEM_DEVICE (cudaMalloc) or
 * BUF_MEM_MANAGED (cudaMallocManaged).  The handle comes from opts->pool.
 *     if (buf_new_device(&d, 0, n, 4, BUF_MEM_DEVICE, NULL) == BUF_ENODEV) ... */
int buf_new_device(buf_t **out, int device, size_t num_items, size_t item_size, buf_mem_t mem,
                   const buf_opts_t *opts);

/* Copy n bytes from src+src_off to dst+dst_off, host or device either side
 * (host->device, device->host, device->device, host->host), done when it
 * returns; the ranges may overlap (as memmove). */
int buf_copy(buf_t *dst, size_t dst_off, const buf_t *src, size_t src_off, size_t n);

/* A CPU-readable version of b: b itself (a new reference, *is_view = 1) when
 * its memory is host-accessible (host, pinned, managed), else a copy into a
 * new host buffer from pool (NULL: b's pool) with *is_view = 0. */
int buf_view_or_copy(buf_t *b, buf_pool_t *pool, buf_t **out, int *is_view);

/* A device mirror of a host buffer.
 *     buf_mirror_t *m;
 *     buf_mirror_enter(&m, host, 0);             // allocate + copy in
 *     kernel(buf_data(buf_mirror_device(m)));
 *     buf_mirror_update(m, BUF_TO_HOST);         // copy back
 *     buf_mirror_exit(m, 0);                     // free (1: copy back first) */
typedef struct buf_mirror buf_mirror_t;
enum { BUF_TO_DEVICE = 0, BUF_TO_HOST = 1 };
int buf_mirror_enter(buf_mirror_t **out, buf_t *host, int device);
int buf_mirror_update(buf_mirror_t *m, int direction);
int buf_mirror_exit(buf_mirror_t *m, int copy_back);
buf_t *buf_mirror_device(const buf_mirror_t *m);

#ifdef __cplusplus
}
#endif
#endif
