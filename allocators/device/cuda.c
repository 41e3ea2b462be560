/*
 * cuda.c - CUDA device allocators for the allocator table: "cuda"
 * (cudaMalloc/cudaFree) and "cuda-async" (cudaMallocAsync/cudaFreeAsync on a
 * stream of its own, served by the device's default memory pool), plus the
 * dev_* calls of dev.h used by the buffer manager.
 *
 * Device memory is not CPU-accessible (ALLOC_DEVICE): the harness must not
 * touch it.  The tables have no realloc and no usable_size (the device
 * keeps no size the CPU can read cheaply): a realloc is malloc, a copy (the
 * copy slot: device to device, ordered before the free) and free, by
 * alloc_realloc_sized.  Both use device 0, the first of
 * CUDA_VISIBLE_DEVICES.  Without a GPU (or without the driver) both tables
 * are unavailable with the reason "no CUDA driver or device (<CUDA error
 * string>)" (a driver older than the runtime says so instead); built without
 * the toolkit, with "built without the CUDA toolkit".  The probe runs once
 * per process and creates no context (cudaGetDeviceCount initializes the
 * driver only); a heap's init creates it, before the harness's clock.
 */
#include "allocators/alloc.h"
#include "allocators/device/dev.h"
#include "mmb_config.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

long long dev_used_since(size_t baseline_used, size_t free_bytes, size_t total_bytes) {
    if (free_bytes > total_bytes || total_bytes - free_bytes < baseline_used)
        return -1;
    return (long long)(total_bytes - free_bytes - baseline_used);
}

int dev_ranges_overlap(const void *a, const void *b, size_t n) {
    uintptr_t x = (uintptr_t)a, y = (uintptr_t)b;
    return n > 0 && (x > y ? x - y : y - x) < n;
}

#if MMBENCH_HAVE_CUDA
#include <cuda_runtime_api.h>
#include <dlfcn.h>

static pthread_once_t dev_probe_once = PTHREAD_ONCE_INIT;
static int dev_probe_ok;
static char dev_probe_reason[256];
static char dev_version_text[96];

/* 1 when the CUDA driver library is loaded in this process (the runtime
 * loads it in its first call, when there is one). */
static int dev_driver_loaded(void) {
    void *h = dlopen("libcuda.so.1", RTLD_LAZY | RTLD_NOLOAD);
    if (h)
        dlclose(h);
    return h != NULL;
}

static void dev_probe(void) {
    int n = 0, rt = 0, drv = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    cudaRuntimeGetVersion(&rt);
    cudaDriverGetVersion(&drv);
    /* cudaErrorInsufficientDriver is also the answer when there is no driver
     * at all (no libcuda): say which it is, the runtime's text after it */
    if (e == cudaErrorInsufficientDriver && dev_driver_loaded())
        snprintf(dev_probe_reason, sizeof dev_probe_reason,
                 "the CUDA driver (%d.%d) is older than the CUDA runtime (%d.%d) (%s)", drv / 1000,
                 (drv % 1000) / 10, rt / 1000, (rt % 1000) / 10, cudaGetErrorString(e));
    else if (e == cudaErrorInsufficientDriver || e == cudaErrorNoDevice)
        snprintf(dev_probe_reason, sizeof dev_probe_reason, "no CUDA driver or device (%s)",
                 cudaGetErrorString(e));
    else if (e != cudaSuccess)
        snprintf(dev_probe_reason, sizeof dev_probe_reason, "no usable CUDA device (%s)",
                 cudaGetErrorString(e));
    else if (n <= 0)
        snprintf(dev_probe_reason, sizeof dev_probe_reason,
                 "no CUDA driver or device (cudaGetDeviceCount found none)");
    else
        dev_probe_ok = 1;
    snprintf(dev_version_text, sizeof dev_version_text, "runtime %d.%d, driver %d.%d",
             rt / 1000, (rt % 1000) / 10, drv / 1000, (drv % 1000) / 10);
}

int dev_available(const char **reason) {
    pthread_once(&dev_probe_once, dev_probe);
    if (!dev_probe_ok && reason)
        *reason = dev_probe_reason;
    return dev_probe_ok;
}

const char *dev_version(void) {
    pthread_once(&dev_probe_once, dev_probe);
    return dev_version_text;
}

static int dev_code(cudaError_t e) {
    if (e == cudaSuccess)
        return DEV_OK;
    /* the runtime keeps the last error for cudaGetLastError: clear the one
     * answered here, so that no later check reports it again (a sticky
     * error, which every call returns, cannot be cleared) */
    (void)cudaGetLastError();
    if (e == cudaErrorMemoryAllocation)
        return DEV_ENOMEM;
    if (e == cudaErrorNoDevice || e == cudaErrorInsufficientDriver || e == cudaErrorInvalidDevice)
        return DEV_ENODEV;
    return DEV_EFAIL;
}

int dev_malloc(int device, size_t n, int kind, void **out) {
    *out = NULL;
    if (!dev_available(NULL))
        return DEV_ENODEV;
    cudaError_t e = cudaSetDevice(device);
    if (e == cudaSuccess)
        e = kind == DEV_MEM_MANAGED ? cudaMallocManaged(out, n ? n : 1, cudaMemAttachGlobal)
                                    : cudaMalloc(out, n ? n : 1);
    return dev_code(e);
}

int dev_free(int device, void *p) {
    if (!dev_available(NULL))
        return DEV_ENODEV;
    cudaError_t e = cudaSetDevice(device);
    if (e == cudaSuccess)
        e = cudaFree(p);
    return dev_code(e);
}

int dev_host_alloc(size_t n, void **out) {
    *out = NULL;
    if (!dev_available(NULL))
        return DEV_ENODEV;
    return dev_code(cudaMallocHost(out, n ? n : 1));
}

int dev_host_free(void *p) {
    if (!dev_available(NULL))
        return DEV_ENODEV;
    return dev_code(cudaFreeHost(p));
}

int dev_memcpy(void *dst, const void *src, size_t n) {
    if (!dev_available(NULL))
        return DEV_ENODEV;
    if (!n || dst == src)
        return DEV_OK;
    cudaError_t e;
    if (dev_ranges_overlap(dst, src, n)) {
        /* cudaMemcpy's ranges must not overlap: through the host */
        void *bounce = malloc(n);
        if (!bounce)
            return DEV_ENOMEM;
        e = cudaMemcpy(bounce, src, n, cudaMemcpyDefault);
        if (e == cudaSuccess)
            e = cudaMemcpy(dst, bounce, n, cudaMemcpyDefault);
        if (e == cudaSuccess) /* from pageable memory it returns once staged */
            e = cudaStreamSynchronize(cudaStreamLegacy);
        free(bounce);
        return dev_code(e);
    }
    /* device to device (managed memory included), cudaMemcpy returns once
     * the copy is queued: wait for it, the caller may read managed memory */
    e = cudaMemcpy(dst, src, n, cudaMemcpyDefault);
    if (e == cudaSuccess)
        e = cudaStreamSynchronize(cudaStreamLegacy);
    return dev_code(e);
}

int dev_memset(void *dst, int byte, size_t n) {
    if (!dev_available(NULL))
        return DEV_ENODEV;
    /* cudaMemset on device memory is asynchronous: wait, so that a managed
     * buffer read on the CPU right after holds the bytes */
    cudaError_t e = cudaMemset(dst, byte, n);
    if (e == cudaSuccess)
        e = cudaStreamSynchronize(cudaStreamLegacy);
    return dev_code(e);
}

int dev_sync(void) {
    if (!dev_available(NULL))
        return DEV_ENODEV;
    return dev_code(cudaDeviceSynchronize());
}

/* ---- "cuda": cudaMalloc / cudaFree ---------------------------------------- */

/* Every heap uses device 0: the first of CUDA_VISIBLE_DEVICES.  A thread's
 * current device is 0 until it sets another, so the harness's threads
 * (workers, the watcher) need no cudaSetDevice in the measured loop. */
enum { DEV_HEAP_DEVICE = 0 };

typedef struct dev_heap {
    int device;
    size_t baseline_used; /* device memory in use before this heap existed */
    size_t device_total;
    _Atomic int64_t blocks;
    cudaStream_t stream;   /* cuda-async only */
    cudaMemPool_t pool;    /* cuda-async only */
    unsigned long long old_threshold; /* cuda-async: the pool's release threshold before init */
    int threshold_set;
} dev_heap_t;

static dev_heap_t *dev_heap_new(void) {
    dev_heap_t *h = mmap(NULL, sizeof *h, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (h == MAP_FAILED)
        return NULL;
    memset(h, 0, sizeof *h);
    return h;
}

/* A failed CUDA call in init: say which and why (alloc_last_error), clear
 * it, and answer ENODEV (the device cannot serve a heap). */
static int dev_init_failed(const char *name, const char *call, cudaError_t e) {
    alloc_set_error("%s: %s failed on device %d: %s", name, call, DEV_HEAP_DEVICE, cudaGetErrorString(e));
    (void)cudaGetLastError();
    return ENODEV;
}

/* errno for a failed allocation: ENOMEM when there is no room (a size no
 * device could hold may come back as an invalid value rather than as an
 * allocation failure), EIO for any other error (a sticky one: the context is
 * lost).  Without errno, a caller could only guess "out of memory". */
static void dev_alloc_failed(cudaError_t e) {
    (void)cudaGetLastError();
    errno = (e == cudaErrorMemoryAllocation || e == cudaErrorInvalidValue) ? ENOMEM : EIO;
}

static int alloc_cuda_available(const char **reason) { return dev_available(reason); }

static int dev_heap_open(const char *name, dev_heap_t **out) {
    *out = NULL;
    if (!dev_available(NULL))
        return ENODEV;
    dev_heap_t *h = dev_heap_new();
    if (!h)
        return ENOMEM;
    h->device = DEV_HEAP_DEVICE;
    size_t fr = 0, tot = 0;
    cudaError_t e;
    const char *call = "cudaSetDevice";
    /* cudaFree(0) creates the context here, before the clock: its cost
     * (and its device memory) is not the allocator's */
    if ((e = cudaSetDevice(h->device)) != cudaSuccess || (call = "cudaFree(0)", e = cudaFree(0)) != cudaSuccess ||
        (call = "cudaMemGetInfo", e = cudaMemGetInfo(&fr, &tot)) != cudaSuccess) {
        munmap(h, sizeof *h);
        return dev_init_failed(name, call, e);
    }
    h->baseline_used = tot - fr;
    h->device_total = tot;
    *out = h;
    return 0;
}

static int alloc_cuda_init(void **heap, const alloc_config_t *cfg) {
    (void)cfg;
    return dev_heap_open("cuda", (dev_heap_t **)heap);
}

static void alloc_cuda_fini(void *heap) {
    if (heap)
        munmap(heap, sizeof(dev_heap_t));
}

static void *alloc_cuda_malloc(void *heap, size_t n) {
    dev_heap_t *h = heap;
    void *p = NULL;
    cudaError_t e = cudaMalloc(&p, n ? n : 1);
    if (e != cudaSuccess) {
        dev_alloc_failed(e);
        return NULL;
    }
    atomic_fetch_add(&h->blocks, 1);
    return p;
}

static void alloc_cuda_free(void *heap, void *p) {
    dev_heap_t *h = heap;
    if (!p)
        return;
    if (cudaFree(p) == cudaSuccess)
        atomic_fetch_sub(&h->blocks, 1);
    else
        (void)cudaGetLastError();
}

/* Alignments up to DEV_ALIGN are what malloc gives anyway (checked, not
 * assumed); above it the device tables have nowhere to keep the offset of an
 * over-allocated block (its memory is the device's), so they refuse. */
static void *dev_aligned(void *heap, size_t align, size_t n, void *(*mal)(void *, size_t),
                         void (*fr)(void *, void *)) {
    if (!align || (align & (align - 1))) {
        errno = EINVAL;
        return NULL;
    }
    if (align > DEV_ALIGN) {
        errno = ENOTSUP;
        return NULL;
    }
    void *p = mal(heap, n);
    if (p && ((uintptr_t)p & (align - 1))) {
        fr(heap, p);
        errno = ENOTSUP;
        return NULL;
    }
    return p;
}

static void *alloc_cuda_aligned(void *heap, size_t align, size_t n) {
    return dev_aligned(heap, align, n, alloc_cuda_malloc, alloc_cuda_free);
}

/* cudaMemcpy device to device may return before the copy is done; cudaFree
 * of src right after waits for it (cudaFree synchronizes the device). */
static int alloc_cuda_copy(void *heap, void *dst, const void *src, size_t n) {
    (void)heap;
    cudaError_t e = cudaMemcpy(dst, src, n, cudaMemcpyDeviceToDevice);
    if (e == cudaSuccess)
        return 0;
    (void)cudaGetLastError();
    return EIO;
}

static int alloc_cuda_stats(void *heap, alloc_stats_t *s) {
    dev_heap_t *h = heap;
    size_t fr = 0, tot = 0;
    /* cudaMemGetInfo answers for the calling thread's current device */
    if (cudaSetDevice(h->device) == cudaSuccess && cudaMemGetInfo(&fr, &tot) == cudaSuccess) {
        long long d = dev_used_since(h->baseline_used, fr, tot);
        if (d >= 0)
            s->footprint = d;
    } else {
        (void)cudaGetLastError();
    }
    s->used_blocks = atomic_load(&h->blocks);
    return 0;
}

static int alloc_cuda_stats_extra(void *heap, void (*emit)(void *, const char *, double), void *ctx) {
    dev_heap_t *h = heap;
    /* what the footprint is measured against: another process's use of the
     * device shows here, not in the footprint's definition */
    emit(ctx, "cuda.device_used_at_init", (double)h->baseline_used);
    emit(ctx, "cuda.device_total", (double)h->device_total);
    return 0;
}

/* ---- "cuda-async": stream-ordered allocation from the default pool --------- */

/* cudaMallocAsync needs a device with memory pools (not every vGPU/WSL has
 * them): the run is refused before it starts rather than failing in init. */
static int alloc_cuda_async_available(const char **reason) {
    static const char no_pools[] = "CUDA device 0 does not support stream-ordered memory pools "
                                   "(cudaDevAttrMemoryPoolsSupported is 0)";
    if (!dev_available(reason))
        return 0;
    int v = 0;
    if (cudaDeviceGetAttribute(&v, cudaDevAttrMemoryPoolsSupported, DEV_HEAP_DEVICE) != cudaSuccess) {
        (void)cudaGetLastError();
        v = 0;
    }
    if (!v && reason)
        *reason = no_pools;
    return v != 0;
}

static void alloc_cuda_async_fini(void *heap);

static int alloc_cuda_async_init(void **heap, const alloc_config_t *cfg) {
    (void)cfg;
    if (!alloc_cuda_async_available(NULL))
        return ENODEV;
    dev_heap_t *h;
    int rc = dev_heap_open("cuda-async", &h);
    if (rc)
        return rc;
    unsigned long long keep_all = ~0ull, zero = 0;
    cudaError_t e;
    const char *call = "cudaStreamCreateWithFlags";
    if ((e = cudaStreamCreateWithFlags(&h->stream, cudaStreamNonBlocking)) != cudaSuccess) {
        munmap(h, sizeof *h);
        return dev_init_failed("cuda-async", call, e);
    }
    /* The pool gives memory back above its release threshold (0 by
     * default) at every synchronization, and the statistics call
     * synchronizes the stream: measuring would trim the pool, and the next
     * requests pay to map it again, more so the more samples a run takes.
     * No other synchronization happens in a run, so the pool that nobody
     * measures keeps what it has: the threshold says so, for the heap's life
     * (fini puts the old one back).  What earlier heaps of this process
     * left in the pool is given back first, and the high-water marks are
     * reset, so that the figures are this heap's. */
    if ((call = "cudaDeviceGetDefaultMemPool", e = cudaDeviceGetDefaultMemPool(&h->pool, h->device)) != cudaSuccess ||
        (call = "cudaMemPoolGetAttribute(ReleaseThreshold)",
         e = cudaMemPoolGetAttribute(h->pool, cudaMemPoolAttrReleaseThreshold, &h->old_threshold)) != cudaSuccess ||
        (call = "cudaMemPoolSetAttribute(ReleaseThreshold)",
         e = cudaMemPoolSetAttribute(h->pool, cudaMemPoolAttrReleaseThreshold, &keep_all)) != cudaSuccess ||
        (h->threshold_set = 1, call = "cudaDeviceSynchronize", e = cudaDeviceSynchronize()) != cudaSuccess ||
        (call = "cudaMemPoolTrimTo", e = cudaMemPoolTrimTo(h->pool, 0)) != cudaSuccess ||
        (call = "cudaMemPoolSetAttribute(ReservedMemHigh)",
         e = cudaMemPoolSetAttribute(h->pool, cudaMemPoolAttrReservedMemHigh, &zero)) != cudaSuccess ||
        (call = "cudaMemPoolSetAttribute(UsedMemHigh)",
         e = cudaMemPoolSetAttribute(h->pool, cudaMemPoolAttrUsedMemHigh, &zero)) != cudaSuccess) {
        rc = dev_init_failed("cuda-async", call, e);
        alloc_cuda_async_fini(h);
        return rc;
    }
    *heap = h;
    return 0;
}

static void alloc_cuda_async_fini(void *heap) {
    dev_heap_t *h = heap;
    if (!h)
        return;
    /* the frees queued on the stream complete before the pool is trimmed */
    if (h->stream) {
        cudaStreamSynchronize(h->stream);
        cudaStreamDestroy(h->stream);
    }
    if (h->threshold_set) {
        cudaMemPoolTrimTo(h->pool, 0);
        cudaMemPoolSetAttribute(h->pool, cudaMemPoolAttrReleaseThreshold, &h->old_threshold);
    }
    (void)cudaGetLastError();
    alloc_cuda_fini(h);
}

static void *alloc_cuda_async_malloc(void *heap, size_t n) {
    dev_heap_t *h = heap;
    void *p = NULL;
    cudaError_t e = cudaMallocAsync(&p, n ? n : 1, h->stream);
    if (e != cudaSuccess) {
        dev_alloc_failed(e);
        return NULL;
    }
    atomic_fetch_add(&h->blocks, 1);
    return p;
}

static void alloc_cuda_async_free(void *heap, void *p) {
    dev_heap_t *h = heap;
    if (!p)
        return;
    if (cudaFreeAsync(p, h->stream) == cudaSuccess)
        atomic_fetch_sub(&h->blocks, 1);
    else
        (void)cudaGetLastError();
}

static void *alloc_cuda_async_aligned(void *heap, size_t align, size_t n) {
    return dev_aligned(heap, align, n, alloc_cuda_async_malloc, alloc_cuda_async_free);
}

/* On the heap's stream: after the allocation of dst, before the free of src
 * (cudaMemcpy would run on the legacy stream, which a non-blocking stream
 * does not wait for, and src could be reused while it is read). */
static int alloc_cuda_async_copy(void *heap, void *dst, const void *src, size_t n) {
    dev_heap_t *h = heap;
    cudaError_t e = cudaMemcpyAsync(dst, src, n, cudaMemcpyDeviceToDevice, h->stream);
    if (e == cudaSuccess)
        return 0;
    (void)cudaGetLastError();
    return EIO;
}

static int64_t dev_pool_attr(dev_heap_t *h, enum cudaMemPoolAttr a) {
    unsigned long long v = 0;
    if (cudaMemPoolGetAttribute(h->pool, a, &v) == cudaSuccess)
        return (int64_t)v;
    (void)cudaGetLastError();
    return ALLOC_UNKNOWN;
}

static int alloc_cuda_async_stats(void *heap, alloc_stats_t *s) {
    dev_heap_t *h = heap;
    s->used_blocks = atomic_load(&h->blocks);
    /* the queued frees done first, or the pool still counts them in use;
     * a failed synchronization leaves the figures unknown */
    if (cudaStreamSynchronize(h->stream) != cudaSuccess) {
        (void)cudaGetLastError();
        return 0;
    }
    s->footprint = dev_pool_attr(h, cudaMemPoolAttrReservedMemCurrent);
    s->peak_footprint = dev_pool_attr(h, cudaMemPoolAttrReservedMemHigh);
    s->allocated_bytes = dev_pool_attr(h, cudaMemPoolAttrUsedMemCurrent);
    return 0;
}

static void dev_emit_known(void (*emit)(void *, const char *, double), void *ctx, const char *key, int64_t v) {
    if (v != ALLOC_UNKNOWN) /* a figure the pool did not give is absent, not -1 */
        emit(ctx, key, (double)v);
}

static int alloc_cuda_async_stats_extra(void *heap, void (*emit)(void *, const char *, double),
                                        void *ctx) {
    dev_heap_t *h = heap;
    dev_emit_known(emit, ctx, "cuda.pool.reserved_high", dev_pool_attr(h, cudaMemPoolAttrReservedMemHigh));
    dev_emit_known(emit, ctx, "cuda.pool.used_high", dev_pool_attr(h, cudaMemPoolAttrUsedMemHigh));
    dev_emit_known(emit, ctx, "cuda.pool.used", dev_pool_attr(h, cudaMemPoolAttrUsedMemCurrent));
    return 0;
}

#define DEV_TABLE_CUDA                                                             \
    .available = alloc_cuda_available, .init = alloc_cuda_init, .fini = alloc_cuda_fini, \
    .malloc = alloc_cuda_malloc, .free = alloc_cuda_free, .aligned = alloc_cuda_aligned, \
    .copy = alloc_cuda_copy, .stats = alloc_cuda_stats, .stats_extra = alloc_cuda_stats_extra
#define DEV_TABLE_CUDA_ASYNC                                                       \
    .available = alloc_cuda_async_available, .init = alloc_cuda_async_init,        \
    .fini = alloc_cuda_async_fini, .malloc = alloc_cuda_async_malloc,              \
    .free = alloc_cuda_async_free, .aligned = alloc_cuda_async_aligned,            \
    .copy = alloc_cuda_async_copy, .stats = alloc_cuda_async_stats,                \
    .stats_extra = alloc_cuda_async_stats_extra

#else /* built without the CUDA toolkit */

static const char dev_no_toolkit[] = "built without the CUDA toolkit";

int dev_available(const char **reason) {
    if (reason)
        *reason = dev_no_toolkit;
    return 0;
}
const char *dev_version(void) { return "none (built without the CUDA toolkit)"; }
int dev_malloc(int device, size_t n, int kind, void **out) {
    (void)device, (void)n, (void)kind;
    *out = NULL;
    return DEV_ENODEV;
}
int dev_free(int device, void *p) { (void)device, (void)p; return DEV_ENODEV; }
int dev_host_alloc(size_t n, void **out) { (void)n; *out = NULL; return DEV_ENODEV; }
int dev_host_free(void *p) { (void)p; return DEV_ENODEV; }
int dev_memcpy(void *dst, const void *src, size_t n) {
    (void)dst, (void)src, (void)n;
    return DEV_ENODEV;
}
int dev_memset(void *dst, int byte, size_t n) {
    (void)dst, (void)byte, (void)n;
    return DEV_ENODEV;
}

int dev_sync(void) { return DEV_ENODEV; }

static int alloc_cuda_available(const char **reason) { return dev_available(reason); }
static int alloc_cuda_init(void **heap, const alloc_config_t *cfg) {
    (void)heap, (void)cfg;
    return ENODEV;
}
static void *alloc_cuda_malloc(void *heap, size_t n) {
    (void)heap, (void)n;
    errno = ENODEV;
    return NULL;
}
static void alloc_cuda_free(void *heap, void *p) { (void)heap, (void)p; }

#define DEV_TABLE_CUDA                                                              \
    .available = alloc_cuda_available, .init = alloc_cuda_init, .malloc = alloc_cuda_malloc, \
    .free = alloc_cuda_free
#define DEV_TABLE_CUDA_ASYNC DEV_TABLE_CUDA
#endif

const alloc_methods_t alloc_cuda_methods = {
    .name = "cuda",
    .description = "CUDA device memory: cudaMalloc/cudaFree (synchronous)",
    .flags = ALLOC_DEVICE | ALLOC_THREAD_SAFE,
    .preload = NULL,
    .heap_figure = "device memory in use (cudaMemGetInfo, device-wide: other processes' use counts too) minus "
                   "what was in use at init; NULL where less is in use than then",
    .version = dev_version,
    DEV_TABLE_CUDA,
};

const alloc_methods_t alloc_cuda_async_methods = {
    .name = "cuda-async",
    .description = "CUDA stream-ordered pool: cudaMallocAsync/cudaFreeAsync on the default mempool",
    .flags = ALLOC_DEVICE | ALLOC_THREAD_SAFE,
    .preload = NULL,
    .heap_figure = "default mempool reserved memory (cudaMemPoolAttrReservedMemCurrent), its release threshold "
                   "held at the maximum for the heap's life",
    .version = dev_version,
    DEV_TABLE_CUDA_ASYNC,
};
