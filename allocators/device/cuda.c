/*
 * cuda.c - CUDA device allocators for the allocator table: "cuda"
 * (cudaMalloc/cudaFree) and "cuda-async" (cudaMallocAsync/cudaFreeAsync on a
 * stream of its own, served by the device's default memory pool), plus the
 * dev_* calls of dev.h used by the buffer manager.
 *
 * Device memory is not CPU-accessible (ALLOC_DEVICE): the harness must not
 * touch it.  Without a GPU (or without the driver) both tables are
 * unavailable with the reason "no CUDA driver or device (<CUDA error
 * string>)" (a driver older than the runtime says so instead); built without
 * the toolkit, with "built without the CUDA toolkit".  The probe runs once
 * per process.
 */
#include "allocators/alloc.h"
#include "allocators/device/dev.h"
#include "mmb_config.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

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
    return dev_code(cudaMemcpy(dst, src, n, cudaMemcpyDefault));
}

int dev_memset(void *dst, int byte, size_t n) {
    if (!dev_available(NULL))
        return DEV_ENODEV;
    return dev_code(cudaMemset(dst, byte, n));
}

/* ---- "cuda": cudaMalloc / cudaFree ---------------------------------------- */

typedef struct dev_heap {
    int device;
    size_t baseline_used; /* device memory in use before this heap existed */
    _Atomic int64_t blocks;
    cudaStream_t stream;   /* cuda-async only */
    cudaMemPool_t pool;    /* cuda-async only */
} dev_heap_t;

static dev_heap_t *dev_heap_new(void) {
    dev_heap_t *h = mmap(NULL, sizeof *h, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (h == MAP_FAILED)
        return NULL;
    memset(h, 0, sizeof *h);
    return h;
}

static int alloc_cuda_available(const char **reason) { return dev_available(reason); }

static int alloc_cuda_init(void **heap, const alloc_config_t *cfg) {
    (void)cfg;
    if (!dev_available(NULL))
        return ENODEV;
    dev_heap_t *h = dev_heap_new();
    if (!h)
        return ENOMEM;
    size_t fr = 0, tot = 0;
    if (cudaSetDevice(0) != cudaSuccess || cudaFree(0) != cudaSuccess ||
        cudaMemGetInfo(&fr, &tot) != cudaSuccess) {
        munmap(h, sizeof *h);
        return ENODEV;
    }
    h->baseline_used = tot - fr;
    *heap = h;
    return 0;
}

static void alloc_cuda_fini(void *heap) {
    if (heap)
        munmap(heap, sizeof(dev_heap_t));
}

static void *alloc_cuda_malloc(void *heap, size_t n) {
    dev_heap_t *h = heap;
    void *p = NULL;
    if (cudaMalloc(&p, n ? n : 1) != cudaSuccess)
        return NULL;
    atomic_fetch_add(&h->blocks, 1);
    return p;
}

static void alloc_cuda_free(void *heap, void *p) {
    dev_heap_t *h = heap;
    if (!p)
        return;
    if (cudaFree(p) == cudaSuccess)
        atomic_fetch_sub(&h->blocks, 1);
}

static int alloc_cuda_stats(void *heap, alloc_stats_t *s) {
    dev_heap_t *h = heap;
    size_t fr = 0, tot = 0;
    if (cudaMemGetInfo(&fr, &tot) == cudaSuccess) {
        size_t used = tot - fr;
        s->footprint = used > h->baseline_used ? (int64_t)(used - h->baseline_used) : 0;
    }
    s->used_blocks = atomic_load(&h->blocks);
    return 0;
}

/* ---- "cuda-async": stream-ordered allocation from the default pool --------- */

static int alloc_cuda_async_init(void **heap, const alloc_config_t *cfg) {
    int rc = alloc_cuda_init(heap, cfg);
    if (rc)
        return rc;
    dev_heap_t *h = *heap;
    if (cudaStreamCreateWithFlags(&h->stream, cudaStreamNonBlocking) != cudaSuccess ||
        cudaDeviceGetDefaultMemPool(&h->pool, 0) != cudaSuccess) {
        alloc_cuda_fini(h);
        *heap = NULL;
        return ENODEV;
    }
    return 0;
}

static void alloc_cuda_async_fini(void *heap) {
    dev_heap_t *h = heap;
    if (!h)
        return;
    cudaStreamSynchronize(h->stream);
    cudaStreamDestroy(h->stream);
    alloc_cuda_fini(h);
}

static void *alloc_cuda_async_malloc(void *heap, size_t n) {
    dev_heap_t *h = heap;
    void *p = NULL;
    if (cudaMallocAsync(&p, n ? n : 1, h->stream) != cudaSuccess)
        return NULL;
    atomic_fetch_add(&h->blocks, 1);
    return p;
}

static void alloc_cuda_async_free(void *heap, void *p) {
    dev_heap_t *h = heap;
    if (!p)
        return;
    if (cudaFreeAsync(p, h->stream) == cudaSuccess)
        atomic_fetch_sub(&h->blocks, 1);
}

static int64_t dev_pool_attr(dev_heap_t *h, enum cudaMemPoolAttr a) {
    unsigned long long v = 0;
    return cudaMemPoolGetAttribute(h->pool, a, &v) == cudaSuccess ? (int64_t)v : ALLOC_UNKNOWN;
}

static int alloc_cuda_async_stats(void *heap, alloc_stats_t *s) {
    dev_heap_t *h = heap;
    cudaStreamSynchronize(h->stream);
    s->footprint = dev_pool_attr(h, cudaMemPoolAttrReservedMemCurrent);
    s->peak_footprint = dev_pool_attr(h, cudaMemPoolAttrReservedMemHigh);
    s->allocated_bytes = dev_pool_attr(h, cudaMemPoolAttrUsedMemCurrent);
    s->used_blocks = atomic_load(&h->blocks);
    return 0;
}

static int alloc_cuda_async_stats_extra(void *heap, void (*emit)(void *, const char *, double),
                                        void *ctx) {
    dev_heap_t *h = heap;
    emit(ctx, "cuda.pool.reserved_high", (double)dev_pool_attr(h, cudaMemPoolAttrReservedMemHigh));
    emit(ctx, "cuda.pool.used_high", (double)dev_pool_attr(h, cudaMemPoolAttrUsedMemHigh));
    emit(ctx, "cuda.pool.used", (double)dev_pool_attr(h, cudaMemPoolAttrUsedMemCurrent));
    return 0;
}

#define DEV_TABLE_CUDA                                                             \
    .init = alloc_cuda_init, .fini = alloc_cuda_fini, .malloc = alloc_cuda_malloc, \
    .free = alloc_cuda_free, .stats = alloc_cuda_stats
#define DEV_TABLE_CUDA_ASYNC                                                       \
    .init = alloc_cuda_async_init, .fini = alloc_cuda_async_fini,                  \
    .malloc = alloc_cuda_async_malloc, .free = alloc_cuda_async_free,              \
    .stats = alloc_cuda_async_stats, .stats_extra = alloc_cuda_async_stats_extra

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

#define DEV_TABLE_CUDA .init = alloc_cuda_init, .malloc = alloc_cuda_malloc, .free = alloc_cuda_free
#define DEV_TABLE_CUDA_ASYNC DEV_TABLE_CUDA
#endif

const alloc_methods_t alloc_cuda_methods = {
    .name = "cuda",
    .description = "CUDA device memory: cudaMalloc/cudaFree (synchronous)",
    .flags = ALLOC_DEVICE | ALLOC_THREAD_SAFE,
    .preload = NULL,
    .heap_figure = "device memory in use (cudaMemGetInfo) minus what was in use at init",
    .version = dev_version,
    .available = alloc_cuda_available,
    DEV_TABLE_CUDA,
};

const alloc_methods_t alloc_cuda_async_methods = {
    .name = "cuda-async",
    .description = "CUDA stream-ordered pool: cudaMallocAsync/cudaFreeAsync on the default mempool",
    .flags = ALLOC_DEVICE | ALLOC_THREAD_SAFE,
    .preload = NULL,
    .heap_figure = "default mempool reserved memory (cudaMemPoolAttrReservedMemCurrent)",
    .version = dev_version,
    .available = alloc_cuda_available,
    DEV_TABLE_CUDA_ASYNC,
};
