/*
 * builder.c - a buffer grown by appends (capacity doubles) and finished into
 * an immutable buffer.  Finishing shrinks the block to the length rounded up
 * to 64 bytes (one copy when that differs from the capacity), so a finished
 * buffer holds no more than 63 bytes of zeroed padding.
 */
#include "allocators/buffer/buf_internal.h"

#include <string.h>

struct buf_builder {
    buf_pool_t *pool;
    buf_t *b;     /* NULL once finished */
    size_t len;
    int finished;
};

int buf_builder_new(buf_builder_t **out, buf_pool_t *pool, size_t initial_capacity) {
    *out = NULL;
    if (!pool)
        pool = buf_pool_default();
    buf_builder_t *bb;
    int rc = buf_pool_alloc(pool, sizeof *bb, 16, (void **)&bb);
    if (rc)
        return rc;
    memset(bb, 0, sizeof *bb);
    buf_opts_t o = BUF_OPTS_INIT;
    o.pool = pool;
    rc = buf_new(&bb->b, initial_capacity, 1, &o);
    if (rc) {
        buf_pool_free(pool, bb, sizeof *bb);
        return rc;
    }
    /* while building, size == capacity: the whole block is ours */
    bb->b->size = bb->b->num_items = bb->b->capacity;
    buf_pool_retain(pool);
    bb->pool = pool;
    *out = bb;
    return BUF_OK;
}

int buf_builder_append(buf_builder_t *bb, const void *p, size_t n) {
    if (!bb)
        return BUF_EINVAL;
    if (!p && n) /* as buf_consume refuses a NULL region: no bytes to copy from */
        return BUF_EINVAL;
    if (bb->finished)
        return BUF_EFINISHED;
    if (n > SIZE_MAX / 2 - bb->len)
        return BUF_EOVERFLOW;
    size_t need = bb->len + n;
    buf_t *b = bb->b;
    int rc = BUF_OK;
    if (need > b->capacity) {
        size_t cap = b->capacity * 2;
        if (cap < need)
            cap = (need + BUF_ALIGN - 1) & ~(size_t)(BUF_ALIGN - 1);
        rc = buf_reblock(b, cap);
        /* BUF_ECANARY: the old block's canary was broken, but the block
         * moved all the same: the append goes on and reports it, as
         * buf_resize does */
        if (rc && rc != BUF_ECANARY)
            return rc;
        b->size = b->num_items = b->capacity;
    }
    if (n)
        memcpy((char *)b->data + bb->len, p, n);
    bb->len = need;
    return rc;
}

int buf_builder_append_u8(buf_builder_t *bb, uint8_t v) { return buf_builder_append(bb, &v, sizeof v); }
int buf_builder_append_i32(buf_builder_t *bb, int32_t v) { return buf_builder_append(bb, &v, sizeof v); }
int buf_builder_append_i64(buf_builder_t *bb, int64_t v) { return buf_builder_append(bb, &v, sizeof v); }
int buf_builder_append_f64(buf_builder_t *bb, double v) { return buf_builder_append(bb, &v, sizeof v); }

size_t buf_builder_length(const buf_builder_t *bb) { return bb->len; }
size_t buf_builder_capacity(const buf_builder_t *bb) { return bb->b ? bb->b->capacity : 0; }
void *buf_builder_data(buf_builder_t *bb) { return bb && bb->b ? bb->b->data : NULL; }

int buf_builder_finish(buf_builder_t *bb, buf_t **out) {
    *out = NULL;
    if (!bb)
        return BUF_EINVAL;
    if (bb->finished)
        return BUF_EFINISHED;
    buf_t *b = bb->b;
    size_t cap = bb->len ? (bb->len + BUF_ALIGN - 1) & ~(size_t)(BUF_ALIGN - 1) : BUF_ALIGN;
    int rc = buf_reblock(b, cap);
    if (rc && rc != BUF_ECANARY) /* BUF_ECANARY: finished, and reported */
        return rc;
    b->size = b->num_items = bb->len;
    b->item_size = 1;
    memset((char *)b->data + b->size, 0, b->capacity - b->size);
    b->flags |= BUF_F_IMMUTABLE;
    bb->b = NULL;
    bb->finished = 1;
    *out = b;
    return rc;
}

void buf_builder_free(buf_builder_t *bb) {
    if (!bb)
        return;
    buf_pool_t *pool = bb->pool;
    buf_release(bb->b);
    buf_pool_free(pool, bb, sizeof *bb);
    buf_pool_destroy(pool);
}
