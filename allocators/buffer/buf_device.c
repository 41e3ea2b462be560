/*
 * buf_device.c - device buffers of the buffer manager: allocation on a CUDA
 * device (plain or managed), copies in every direction, view-or-copy to the
 * CPU, and host->device mirrors (enter / update / exit).
 *
 * The CUDA calls are behind allocators/device/dev.h; without a GPU (or
 * without the toolkit) every call that needs one returns BUF_ENODEV.
 * Device regions join the overlap registry too (unified virtual addressing
 * keeps host and device addresses apart).
 */
#include "allocators/buffer/buf_internal.h"
#include "allocators/device/dev.h"

#include <string.h>

struct buf_mirror {
    buf_pool_t *pool; /* holds this struct */
    buf_t *host;
    buf_t *dev;
};

int buf_device_available(const char **reason) { return dev_available(reason); }

int buf_new_device(buf_t **out, int device, size_t num_items, size_t item_size, buf_mem_t mem,
                   const buf_opts_t *opts) {
    *out = NULL;
    if (mem != BUF_MEM_DEVICE && mem != BUF_MEM_MANAGED)
        return BUF_EINVAL;
    size_t size;
    if (__builtin_mul_overflow(num_items, item_size, &size) || size > SIZE_MAX - 2 * BUF_ALIGN)
        return BUF_EOVERFLOW;
    if (opts && opts->init != BUF_INIT_NONE && opts->init != BUF_INIT_ZERO && opts->init != BUF_INIT_BYTE)
        return BUF_EINVAL; /* as buf_new; checked first, on any machine */
    if (!dev_available(NULL))
        return BUF_ENODEV;
    size_t cap = (size + BUF_ALIGN - 1) & ~(size_t)(BUF_ALIGN - 1);
    if (!cap)
        cap = BUF_ALIGN;
    buf_t *b;
    int rc = buf_handle_new(buf_pool_resolve(opts), &b);
    if (rc)
        return rc;
    buf_apply_opts(b, opts);
    b->kind = BUF_KIND_DEVICE;
    b->mem = mem;
    b->device = device;
    rc = buf_map_dev(dev_malloc(device, cap, mem == BUF_MEM_MANAGED ? DEV_MEM_MANAGED : DEV_MEM_DEVICE,
                                &b->data));
    if (rc) {
        b->kind = BUF_KIND_CONSUMED; /* nothing to free but the handle */
        b->on_death = NULL;
        buf_destroy(b, NULL);
        return rc;
    }
    b->size = size;
    b->item_size = item_size;
    b->num_items = num_items;
    b->capacity = cap;
    if (b->init == BUF_INIT_ZERO)
        rc = buf_map_dev(dev_memset(b->data, 0, cap));
    else if (b->init == BUF_INIT_BYTE)
        rc = buf_map_dev(dev_memset(b->data, b->init_byte, size));
    if (!rc && b->init != BUF_INIT_ZERO && cap > size)
        rc = buf_map_dev(dev_memset((char *)b->data + size, 0, cap - size));
    if (!rc)
        rc = buf_reg_insert(b, (uintptr_t)b->data, (uintptr_t)b->data + cap);
    if (rc) {
        b->on_death = NULL;
        b->flags &= ~BUF_F_DELAYED;
        buf_release(b);
        return rc;
    }
    *out = b;
    return BUF_OK;
}

int buf_copy(buf_t *dst, size_t dst_off, const buf_t *src, size_t src_off, size_t n) {
    if (!dst || !src)
        return BUF_EINVAL;
    if (dst_off > dst->size || n > dst->size - dst_off || src_off > src->size ||
        n > src->size - src_off)
        return BUF_ERANGE;
    if (dst->flags & BUF_F_IMMUTABLE)
        return BUF_EIMMUTABLE;
    char *d = (char *)dst->data + dst_off;
    const char *s = (const char *)src->data + src_off;
    int host_only = dst->mem != BUF_MEM_DEVICE && dst->mem != BUF_MEM_MANAGED &&
                    src->mem != BUF_MEM_DEVICE && src->mem != BUF_MEM_MANAGED;
    if (host_only) {
        memmove(d, s, n);
        return BUF_OK;
    }
    return buf_map_dev(dev_memcpy(d, s, n));
}

int buf_view_or_copy(buf_t *b, buf_pool_t *pool, buf_t **out, int *is_view) {
    *out = NULL;
    if (!b)
        return BUF_EINVAL;
    if (b->mem != BUF_MEM_DEVICE) {
        buf_retain(b);
        *out = b;
        if (is_view)
            *is_view = 1;
        return BUF_OK;
    }
    buf_opts_t o = BUF_OPTS_INIT;
    o.pool = pool ? pool : b->pool;
    buf_t *h;
    int rc = buf_new(&h, b->num_items, b->item_size, &o);
    if (rc)
        return rc;
    rc = buf_copy(h, 0, b, 0, b->size);
    if (rc) {
        buf_release(h);
        return rc;
    }
    *out = h;
    if (is_view)
        *is_view = 0;
    return BUF_OK;
}

int buf_mirror_enter(buf_mirror_t **out, buf_t *host, int device) {
    *out = NULL;
    if (!host || host->mem == BUF_MEM_DEVICE)
        return BUF_EINVAL;
    if (!dev_available(NULL))
        return BUF_ENODEV;
    buf_mirror_t *m;
    int rc = buf_pool_alloc(host->pool, sizeof *m, 16, (void **)&m);
    if (rc)
        return rc;
    buf_opts_t o = BUF_OPTS_INIT;
    o.pool = host->pool;
    rc = buf_new_device(&m->dev, device, host->num_items, host->item_size, BUF_MEM_DEVICE, &o);
    if (!rc) {
        rc = buf_copy(m->dev, 0, host, 0, host->size);
        if (rc)
            buf_release(m->dev);
    }
    if (rc) {
        buf_pool_free(host->pool, m, sizeof *m);
        return rc;
    }
    buf_pool_retain(host->pool);
    m->pool = host->pool;
    buf_retain(host);
    m->host = host;
    *out = m;
    return BUF_OK;
}

int buf_mirror_update(buf_mirror_t *m, int direction) {
    if (!m)
        return BUF_EINVAL;
    if (direction == BUF_TO_DEVICE)
        return buf_copy(m->dev, 0, m->host, 0, m->host->size);
    if (direction == BUF_TO_HOST)
        return buf_copy(m->host, 0, m->dev, 0, m->host->size);
    return BUF_EINVAL;
}

int buf_mirror_exit(buf_mirror_t *m, int copy_back) {
    if (!m)
        return BUF_EINVAL;
    int rc = copy_back ? buf_mirror_update(m, BUF_TO_HOST) : BUF_OK;
    int r2 = buf_release(m->dev);
    buf_release(m->host);
    buf_pool_t *pool = m->pool;
    buf_pool_free(pool, m, sizeof *m);
    buf_pool_destroy(pool);
    return rc ? rc : r2;
}

buf_t *buf_mirror_device(const buf_mirror_t *m) { return m->dev; }
