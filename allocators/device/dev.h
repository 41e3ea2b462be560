/*
 * dev.h - the device module's internal contract: thin wrappers over the CUDA
 * runtime used by the cuda/cuda-async tables (cuda.c) and by the buffer
 * manager's device buffers (allocators/buffer/buf_device.c).
 *
 * Built without the toolkit, every call returns DEV_ENODEV and
 * dev_available() says "built without the CUDA toolkit".  No CUDA type
 * appears here, so callers compile without cuda_runtime.h.
 */
#ifndef MMB_DEV_H
#define MMB_DEV_H

#include <stddef.h>

enum {
    DEV_OK = 0,
    DEV_ENODEV = 1, /* no usable device (or no toolkit) */
    DEV_ENOMEM = 2, /* the device or host allocation failed */
    DEV_EFAIL = 3,  /* any other CUDA error */
};

enum { DEV_MEM_DEVICE = 0, DEV_MEM_MANAGED = 1 };

/* 1 when a CUDA device is usable; else 0 and *reason (static text). */
int dev_available(const char **reason);
/* "cuda runtime 13.0, driver 13.0" or "none". */
const char *dev_version(void);

/* cudaMalloc and cudaMallocAsync return blocks aligned to at least this. */
#define DEV_ALIGN 256

int dev_malloc(int device, size_t n, int kind, void **out);
int dev_free(int device, void *p);
int dev_host_alloc(size_t n, void **out); /* cudaMallocHost */
int dev_host_free(void *p);
/* cudaMemcpy with cudaMemcpyDefault (unified addressing picks the way),
 * done when it returns (a device-to-device cudaMemcpy alone may not be: the
 * CPU could read managed memory before the copy wrote it).  The ranges may
 * overlap (then it goes through a host bounce buffer). */
int dev_memcpy(void *dst, const void *src, size_t n);
/* cudaMemset on device or managed memory, done when it returns. */
int dev_memset(void *dst, int byte, size_t n);
/* Wait for all work on the current device, every stream (cudaMallocAsync's
 * blocks may be used outside their stream only after this). */
int dev_sync(void);

/* The device memory taken since a baseline: (total - free) - baseline_used
 * from cudaMemGetInfo, or -1 (unknown) when less is in use than at the
 * baseline: cudaMemGetInfo is device-wide, and another process freed
 * memory since, so the difference no longer measures this process. */
long long dev_used_since(size_t baseline_used, size_t free_bytes, size_t total_bytes);
/* 1 when [a, a+n) and [b, b+n) share a byte (dev_memcpy's bounce). */
int dev_ranges_overlap(const void *a, const void *b, size_t n);

#endif
