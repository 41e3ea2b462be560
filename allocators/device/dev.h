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

int dev_malloc(int device, size_t n, int kind, void **out);
int dev_free(int device, void *p);
int dev_host_alloc(size_t n, void **out); /* cudaMallocHost */
int dev_host_free(void *p);
/* cudaMemcpy with cudaMemcpyDefault (unified addressing picks the way). */
int dev_memcpy(void *dst, const void *src, size_t n);
/* cudaMemset on device memory. */
int dev_memset(void *dst, int byte, size_t n);

#endif
