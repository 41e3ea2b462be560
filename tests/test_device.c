/*
 * test_device.c - the CUDA device allocators (cuda, cuda-async) and the
 * buffer manager's device buffers.  Without a GPU: both tables unavailable
 * with "no CUDA driver or device (...)" (or "built without the CUDA
 * toolkit"), device calls
 * return BUF_ENODEV, nothing crashes; the GPU tests are reported as skipped.
 */
#include "allocators/alloc.h"
#include "allocators/buffer/buf.h"
#include "allocators/device/dev.h"
#include "mmb_config.h"
#include "test.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

static int have_gpu(void) { return buf_device_available(NULL); }

/* Without a GPU: "no CUDA driver or device (...)" (no libcuda, or no device:
 * the runtime answers cudaErrorInsufficientDriver for the first), or what
 * else kept the device from use; built without the toolkit, that. */
static int expected_reason(const char *why) {
    if (!MMBENCH_HAVE_CUDA)
        return strstr(why, "built without the CUDA toolkit") != NULL;
    return strstr(why, "no CUDA driver or device (") == why ||
           strstr(why, "is older than the CUDA runtime") != NULL || strstr(why, "no usable CUDA device (") == why;
}

TEST(tables_unavailable_without_gpu_name_the_reason) {
    if (have_gpu()) {
        test_skip("a GPU is present");
        return;
    }
    const char *names[] = {"cuda", "cuda-async"};
    for (int i = 0; i < 2; i++) {
        const alloc_methods_t *m = alloc_find(names[i]);
        ASSERT_TRUE(m != NULL);
        EXPECT_TRUE(m->flags & ALLOC_DEVICE);
        EXPECT_TRUE(m->flags & ALLOC_THREAD_SAFE);
        const char *why = NULL;
        EXPECT_EQ(alloc_is_available(m, &why), 0);
        ASSERT_TRUE(why != NULL);
        EXPECT_TRUE(expected_reason(why));
        printf("  %s: %s (version: %s)\n", names[i], why, alloc_version(m));
        void *heap = (void *)1;
        EXPECT_NE(alloc_init(m, NULL, &heap), 0);
    }
}

/* Bad options are refused before anything else, GPU or not (as buf_new). */
TEST(device_buffer_with_a_bad_init_is_einval) {
    buf_opts_t o = BUF_OPTS_INIT;
    o.init = 42;
    buf_t *d = (buf_t *)1;
    EXPECT_EQ(buf_new_device(&d, 0, 16, 4, BUF_MEM_DEVICE, &o), BUF_EINVAL);
    EXPECT_TRUE(d == NULL);
}

TEST(device_buffer_calls_return_enodev_without_gpu) {
    if (have_gpu()) {
        test_skip("a GPU is present");
        return;
    }
    const char *why = NULL;
    EXPECT_EQ(buf_device_available(&why), 0);
    EXPECT_TRUE(why && expected_reason(why));
    buf_t *d = (buf_t *)1;
    EXPECT_EQ(buf_new_device(&d, 0, 16, 4, BUF_MEM_DEVICE, NULL), BUF_ENODEV);
    EXPECT_TRUE(d == NULL);
    EXPECT_EQ(buf_new_device(&d, 0, 16, 4, BUF_MEM_MANAGED, NULL), BUF_ENODEV);
    buf_pool_t *pp = (buf_pool_t *)1;
    EXPECT_EQ(buf_pool_pinned(&pp), BUF_ENODEV);
    EXPECT_TRUE(pp == NULL);
    buf_t *h;
    ASSERT_TRUE(buf_new(&h, 16, 4, NULL) == BUF_OK);
    buf_mirror_t *m = (buf_mirror_t *)1;
    EXPECT_EQ(buf_mirror_enter(&m, h, 0), BUF_ENODEV);
    EXPECT_TRUE(m == NULL);
    /* a host buffer is its own CPU view, GPU or not */
    buf_t *v;
    int is_view = 0;
    EXPECT_EQ(buf_view_or_copy(h, NULL, &v, &is_view), BUF_OK);
    EXPECT_EQ(is_view, 1);
    EXPECT_TRUE(v == h);
    buf_release(v);
    buf_release(h);
    EXPECT_STREQ(buf_strerror(BUF_ENODEV), "no CUDA device");
}

/* ---- pure logic: no GPU needed ------------------------------------------- */

/* A table without realloc (as the device ones): alloc_realloc_sized
 * mallocs, copies the smaller size with the copy slot, then frees; the copy
 * comes before the free (cuda-async queues both on its stream). */
static struct {
    int calls; /* 1 malloc, 2 copy, 3 free: the order they came in */
    int order[8];
    size_t copied;
    int fail_copy;
} fake;
static void *fake_malloc(void *heap, size_t n) {
    (void)heap;
    fake.order[fake.calls++ & 7] = 1;
    return malloc(n ? n : 1);
}
static void fake_free(void *heap, void *p) {
    (void)heap;
    fake.order[fake.calls++ & 7] = 3;
    free(p);
}
static int fake_copy(void *heap, void *dst, const void *src, size_t n) {
    (void)heap;
    fake.order[fake.calls++ & 7] = 2;
    if (fake.fail_copy)
        return EIO;
    memcpy(dst, src, n);
    fake.copied = n;
    return 0;
}
static const alloc_methods_t fake_device = {
    .name = "fake-device", .flags = ALLOC_DEVICE, .malloc = fake_malloc, .free = fake_free, .copy = fake_copy};

TEST(realloc_sized_copies_the_smaller_size_then_frees) {
    char *p = fake_malloc(NULL, 100);
    for (int i = 0; i < 100; i++)
        p[i] = (char)i;
    memset(&fake, 0, sizeof fake);
    char *q = alloc_realloc_sized(&fake_device, NULL, p, 100, 300); /* grow: 100 bytes copied */
    ASSERT_TRUE(q != NULL);
    EXPECT_EQ(fake.calls, 3);
    EXPECT_EQ(fake.order[0], 1);
    EXPECT_EQ(fake.order[1], 2);
    EXPECT_EQ(fake.order[2], 3);
    EXPECT_EQ(fake.copied, 100);
    EXPECT_EQ(q[99], 99);
    memset(&fake, 0, sizeof fake);
    char *r = alloc_realloc_sized(&fake_device, NULL, q, 300, 40); /* shrink: 40 */
    ASSERT_TRUE(r != NULL);
    EXPECT_EQ(fake.copied, 40);
    EXPECT_EQ(r[39], 39);
    /* a failed copy: NULL, errno from the slot, the block kept (not freed) */
    memset(&fake, 0, sizeof fake);
    fake.fail_copy = 1;
    errno = 0;
    EXPECT_TRUE(alloc_realloc_sized(&fake_device, NULL, r, 40, 80) == NULL);
    EXPECT_EQ(errno, EIO);
    EXPECT_EQ(fake.calls, 3); /* malloc, copy, free of the new block */
    EXPECT_EQ(r[39], 39);
    /* the unsized form cannot know what to copy: ENOTSUP, not a guess */
    errno = 0;
    EXPECT_TRUE(alloc_realloc(&fake_device, NULL, r, 80) == NULL);
    EXPECT_EQ(errno, ENOTSUP);
    fake_free(NULL, r);
}

/* The cuda heap's footprint is a device-wide difference: when less is in
 * use than at init (another process freed memory), it measures nothing and
 * is unknown (it read 0). */
TEST(used_since_is_unknown_when_less_is_in_use_than_at_init) {
    EXPECT_EQ(dev_used_since(1000, 7000, 10000), 2000); /* 3000 used, 1000 before */
    EXPECT_EQ(dev_used_since(1000, 9000, 10000), 0);
    EXPECT_EQ(dev_used_since(1000, 9500, 10000), -1);
    EXPECT_EQ(dev_used_since(0, 11000, 10000), -1);
}

/* cudaMemcpy leaves overlapping ranges undefined: dev_memcpy sends those
 * through the host; either order of the two, touching is not overlapping. */
TEST(overlapping_ranges_are_told_apart) {
    char b[64] = {0}; /* only the addresses matter */
    EXPECT_EQ(dev_ranges_overlap(b, b + 10, 11), 1);
    EXPECT_EQ(dev_ranges_overlap(b + 10, b, 11), 1);
    EXPECT_EQ(dev_ranges_overlap(b, b + 10, 10), 0);
    EXPECT_EQ(dev_ranges_overlap(b + 10, b, 10), 0);
    EXPECT_EQ(dev_ranges_overlap(b, b, 1), 1);
    EXPECT_EQ(dev_ranges_overlap(b, b, 0), 0);
    EXPECT_EQ(dev_ranges_overlap((void *)(uintptr_t)16, (void *)(UINTPTR_MAX - 16), 64), 0);
}

/* Alignments the device tables cannot promise are refused before the
 * device is asked: not a power of two EINVAL, above 256 ENOTSUP. */
TEST(device_tables_refuse_alignments_they_cannot_give) {
    if (!MMBENCH_HAVE_CUDA) {
        test_skip("built without the CUDA toolkit");
        return;
    }
    const char *names[] = {"cuda", "cuda-async"};
    for (int i = 0; i < 2; i++) {
        const alloc_methods_t *m = alloc_find(names[i]);
        ASSERT_TRUE(m && m->aligned && m->copy);
        EXPECT_TRUE(m->realloc == NULL && m->usable_size == NULL); /* no size is claimed */
        errno = 0;
        EXPECT_TRUE(m->aligned(NULL, 24, 100) == NULL);
        EXPECT_EQ(errno, EINVAL);
        errno = 0;
        EXPECT_TRUE(m->aligned(NULL, 512, 100) == NULL);
        EXPECT_EQ(errno, ENOTSUP);
        errno = 0;
        EXPECT_TRUE(m->aligned(NULL, 0, 100) == NULL);
        EXPECT_EQ(errno, EINVAL);
    }
}

/* ---- GPU-only ------------------------------------------------------------- */

TEST(gpu_cuda_table_allocates_and_frees) {
    if (!have_gpu()) {
        test_skip("no CUDA device");
        return;
    }
    const alloc_methods_t *m = alloc_find("cuda");
    void *heap;
    ASSERT_TRUE(alloc_init(m, NULL, &heap) == 0);
    void *p = m->malloc(heap, 1 << 20);
    EXPECT_TRUE(p != NULL);
    alloc_stats_t s;
    alloc_stats(m, heap, &s);
    EXPECT_EQ(s.used_blocks, 1);
    m->free(heap, p);
    alloc_fini(m, heap);
}

TEST(gpu_async_pool_reports_stats) {
    if (!have_gpu()) {
        test_skip("no CUDA device");
        return;
    }
    const alloc_methods_t *m = alloc_find("cuda-async");
    void *heap;
    ASSERT_TRUE(alloc_init(m, NULL, &heap) == 0);
    void *p = m->malloc(heap, 4 << 20);
    ASSERT_TRUE(p != NULL);
    alloc_stats_t s;
    alloc_stats(m, heap, &s);
    EXPECT_GE(s.footprint, 4 << 20);
    EXPECT_GE(s.peak_footprint, s.footprint);
    EXPECT_GE(s.allocated_bytes, 4 << 20);
    m->free(heap, p);
    alloc_stats(m, heap, &s);
    EXPECT_EQ(s.allocated_bytes, 0);
    alloc_fini(m, heap);
}

/* cuda: the footprint is measured (a dedicated device), the figures the
 * table cannot know are NULL, and the device totals are in run_info. */
static int extra_n, extra_bad;
static void count_extra(void *ctx, const char *key, double v) {
    (void)ctx;
    extra_n++;
    if (v < 0) {
        printf("  %s = %g\n", key, v);
        extra_bad++;
    }
}

TEST(gpu_cuda_stats_measured_or_null) {
    if (!have_gpu()) {
        test_skip("no CUDA device");
        return;
    }
    const alloc_methods_t *m = alloc_find("cuda");
    void *heap;
    ASSERT_TRUE(alloc_init(m, NULL, &heap) == 0);
    void *p = m->malloc(heap, 64 << 20);
    ASSERT_TRUE(p != NULL);
    EXPECT_EQ((uintptr_t)p % DEV_ALIGN, 0);
    alloc_stats_t s;
    alloc_stats(m, heap, &s);
    EXPECT_GE(s.footprint, 64 << 20);
    EXPECT_EQ(s.payload_bytes, ALLOC_UNKNOWN);
    EXPECT_EQ(s.used_bytes, ALLOC_UNKNOWN);
    EXPECT_EQ(s.free_bytes, ALLOC_UNKNOWN);
    EXPECT_EQ(s.used_blocks, 1);
    extra_n = extra_bad = 0;
    ASSERT_TRUE(m->stats_extra != NULL);
    m->stats_extra(heap, count_extra, NULL);
    EXPECT_EQ(extra_n, 2);
    EXPECT_EQ(extra_bad, 0);
    m->free(heap, p);
    alloc_stats(m, heap, &s);
    EXPECT_EQ(s.used_blocks, 0);
    /* huge: NULL with ENOMEM, and the next call is not failed by it */
    errno = 0;
    EXPECT_TRUE(m->malloc(heap, SIZE_MAX / 2) == NULL);
    EXPECT_EQ(errno, ENOMEM);
    p = m->malloc(heap, 1000);
    EXPECT_TRUE(p != NULL);
    m->free(heap, p);
    alloc_fini(m, heap);
}

/* cuda-async: the statistics call synchronizes the stream, and must not
 * make the pool give back what it holds (release threshold 0: it did, so a
 * run's every sample trimmed the pool); a second heap starts from an empty
 * pool with its high-water marks reset; no figure of run_info is -1. */
TEST(gpu_async_pool_keeps_memory_across_statistics) {
    if (!have_gpu()) {
        test_skip("no CUDA device");
        return;
    }
    const alloc_methods_t *m = alloc_find("cuda-async");
    void *heap;
    ASSERT_TRUE(alloc_init(m, NULL, &heap) == 0);
    void *p = m->malloc(heap, 64 << 20);
    ASSERT_TRUE(p != NULL);
    EXPECT_EQ((uintptr_t)p % DEV_ALIGN, 0);
    alloc_stats_t s;
    alloc_stats(m, heap, &s);
    EXPECT_GE(s.footprint, 64 << 20);
    m->free(heap, p);
    alloc_stats(m, heap, &s);
    EXPECT_EQ(s.allocated_bytes, 0);
    EXPECT_GE(s.footprint, 64 << 20); /* kept by the pool, not trimmed by the statistics */
    EXPECT_GE(s.peak_footprint, 64 << 20);
    extra_n = extra_bad = 0;
    m->stats_extra(heap, count_extra, NULL);
    EXPECT_EQ(extra_n, 3);
    EXPECT_EQ(extra_bad, 0);
    alloc_fini(m, heap);
    ASSERT_TRUE(alloc_init(m, NULL, &heap) == 0);
    alloc_stats(m, heap, &s);
    EXPECT_EQ(s.footprint, 0);      /* the first heap's memory was given back */
    EXPECT_EQ(s.peak_footprint, 0); /* and its high-water mark is not this heap's */
    p = m->malloc(heap, 1 << 20);
    EXPECT_TRUE(p != NULL);
    m->free(heap, p);
    alloc_fini(m, heap);
}

/* A realloc of device memory (alloc_realloc_sized: malloc, the table's
 * device-to-device copy, free) keeps the contents on both tables. */
TEST(gpu_realloc_keeps_device_contents) {
    if (!have_gpu()) {
        test_skip("no CUDA device");
        return;
    }
    const char *names[] = {"cuda", "cuda-async"};
    unsigned char host[4096], back[4096];
    for (int i = 0; i < 4096; i++)
        host[i] = (unsigned char)(i * 7 + 3);
    for (int t = 0; t < 2; t++) {
        const alloc_methods_t *m = alloc_find(names[t]);
        void *heap;
        ASSERT_TRUE(alloc_init(m, NULL, &heap) == 0);
        void *p = m->malloc(heap, 4096);
        ASSERT_TRUE(p != NULL);
        EXPECT_EQ(dev_sync(), DEV_OK);
        EXPECT_EQ(dev_memcpy(p, host, 4096), DEV_OK);
        void *q = alloc_realloc_sized(m, heap, p, 4096, 1 << 20);
        ASSERT_TRUE(q != NULL);
        void *r = m->malloc(heap, 4096); /* may reuse p: the copy must be done first */
        ASSERT_TRUE(r != NULL);
        EXPECT_EQ(dev_sync(), DEV_OK);
        EXPECT_EQ(dev_memset(r, 0xee, 4096), DEV_OK);
        q = alloc_realloc_sized(m, heap, q, 1 << 20, 2048);
        ASSERT_TRUE(q != NULL);
        EXPECT_EQ(dev_sync(), DEV_OK);
        memset(back, 0, sizeof back);
        EXPECT_EQ(dev_memcpy(back, q, 2048), DEV_OK);
        EXPECT_EQ(memcmp(back, host, 2048), 0);
        m->free(heap, r);
        m->free(heap, q);
        alloc_fini(m, heap);
    }
}

/* cudaMemset and a device-to-device cudaMemcpy return before they are done:
 * managed memory read on the CPU right after held the old bytes. */
TEST(gpu_managed_memory_holds_the_bytes_when_the_call_returns) {
    if (!have_gpu()) {
        test_skip("no CUDA device");
        return;
    }
    enum { N = 64 << 20 };
    buf_opts_t o = BUF_OPTS_INIT;
    o.init = BUF_INIT_BYTE;
    o.init_byte = 0x3c;
    buf_t *mb, *d;
    ASSERT_TRUE(buf_new_device(&mb, 0, N, 1, BUF_MEM_MANAGED, &o) == BUF_OK);
    const unsigned char *c = buf_data(mb);
    size_t bad = N;
    for (size_t i = 0; i < N && bad == N; i += 4093)
        if (c[i] != 0x3c)
            bad = i;
    EXPECT_EQ(bad, N);
    o.init_byte = 0x71;
    ASSERT_TRUE(buf_new_device(&d, 0, N, 1, BUF_MEM_DEVICE, &o) == BUF_OK);
    EXPECT_EQ(buf_copy(mb, 0, d, 0, N), BUF_OK); /* device -> managed */
    bad = N;
    for (size_t i = N - 1; i > 0 && bad == N; i -= i > 4093 ? 4093 : i)
        if (c[i] != 0x71)
            bad = i;
    EXPECT_EQ(bad, N);
    buf_release(d);
    buf_release(mb);
}

/* Overlapping ranges of one device buffer copy as memmove does (cudaMemcpy
 * leaves overlap undefined). */
TEST(gpu_copy_within_one_device_buffer_overlapping) {
    if (!have_gpu()) {
        test_skip("no CUDA device");
        return;
    }
    buf_t *h, *d, *back;
    ASSERT_TRUE(buf_new(&h, 1 << 20, 1, NULL) == BUF_OK);
    unsigned char *v = buf_mutable_data(h);
    for (int i = 0; i < 1 << 20; i++)
        v[i] = (unsigned char)(i % 251);
    ASSERT_TRUE(buf_new_device(&d, 0, 1 << 20, 1, BUF_MEM_DEVICE, NULL) == BUF_OK);
    EXPECT_EQ(buf_copy(d, 0, h, 0, 1 << 20), BUF_OK);
    EXPECT_EQ(buf_copy(d, 1000, d, 0, (1 << 20) - 1000), BUF_OK); /* shift up by 1000 */
    memmove(v + 1000, v, (1 << 20) - 1000);
    int is_view = 1;
    ASSERT_TRUE(buf_view_or_copy(d, NULL, &back, &is_view) == BUF_OK);
    EXPECT_EQ(memcmp(buf_data(back), v, 1 << 20), 0);
    buf_release(back);
    buf_release(d);
    buf_release(h);
}

TEST(gpu_copy_round_trip) {
    if (!have_gpu()) {
        test_skip("no CUDA device");
        return;
    }
    buf_t *h, *d, *d2, *back;
    ASSERT_TRUE(buf_new(&h, 1000, 4, NULL) == BUF_OK);
    int32_t *v = buf_mutable_data(h);
    for (int i = 0; i < 1000; i++)
        v[i] = i * 3;
    ASSERT_TRUE(buf_new_device(&d, 0, 1000, 4, BUF_MEM_DEVICE, NULL) == BUF_OK);
    ASSERT_TRUE(buf_new_device(&d2, 0, 1000, 4, BUF_MEM_DEVICE, NULL) == BUF_OK);
    EXPECT_TRUE(buf_mutable_data(d) == NULL);
    EXPECT_EQ(buf_copy(d, 0, h, 0, 4000), BUF_OK);   /* host -> device */
    EXPECT_EQ(buf_copy(d2, 0, d, 0, 4000), BUF_OK);  /* device -> device */
    int is_view = 1;
    EXPECT_EQ(buf_view_or_copy(d2, NULL, &back, &is_view), BUF_OK); /* device -> host */
    EXPECT_EQ(is_view, 0);
    EXPECT_EQ(memcmp(buf_data(back), buf_data(h), 4000), 0);
    buf_release(back);
    buf_release(d2);
    buf_release(d);
    buf_release(h);
}

TEST(gpu_managed_and_pinned_are_views) {
    if (!have_gpu()) {
        test_skip("no CUDA device");
        return;
    }
    buf_t *mb, *v;
    int is_view = 0;
    ASSERT_TRUE(buf_new_device(&mb, 0, 64, 1, BUF_MEM_MANAGED, NULL) == BUF_OK);
    EXPECT_EQ(buf_view_or_copy(mb, NULL, &v, &is_view), BUF_OK);
    EXPECT_EQ(is_view, 1);
    buf_release(v);
    buf_release(mb);
    buf_pool_t *pp;
    ASSERT_TRUE(buf_pool_pinned(&pp) == BUF_OK);
    buf_opts_t o = BUF_OPTS_INIT;
    o.pool = pp;
    o.init = BUF_INIT_ZERO;
    buf_t *pb;
    ASSERT_TRUE(buf_new(&pb, 100, 1, &o) == BUF_OK);
    EXPECT_EQ((uintptr_t)buf_data(pb) % 64, 0);
    EXPECT_EQ(buf_memory(pb), BUF_MEM_PINNED); /* it said BUF_MEM_HOST, pageable */
    buf_release(pb);
    buf_pool_t *cp; /* a wrapper's blocks are its parent's: pinned too */
    ASSERT_TRUE(buf_pool_capped(&cp, pp, 1 << 20) == BUF_OK);
    o.pool = cp;
    ASSERT_TRUE(buf_new(&pb, 100, 1, &o) == BUF_OK);
    EXPECT_EQ(buf_memory(pb), BUF_MEM_PINNED);
    buf_release(pb);
    buf_pool_destroy(cp);
    buf_pool_destroy(pp);
}

TEST(gpu_mirror_enter_update_exit) {
    if (!have_gpu()) {
        test_skip("no CUDA device");
        return;
    }
    buf_t *h, *tmp;
    ASSERT_TRUE(buf_new(&h, 256, 1, NULL) == BUF_OK);
    memset(buf_mutable_data(h), 7, 256);
    buf_mirror_t *m;
    ASSERT_TRUE(buf_mirror_enter(&m, h, 0) == BUF_OK);
    memset(buf_mutable_data(h), 9, 256);
    EXPECT_EQ(buf_mirror_update(m, BUF_TO_HOST), BUF_OK); /* device still holds 7s */
    EXPECT_EQ(((const unsigned char *)buf_data(h))[100], 7);
    memset(buf_mutable_data(h), 5, 256);
    EXPECT_EQ(buf_mirror_update(m, BUF_TO_DEVICE), BUF_OK);
    memset(buf_mutable_data(h), 0, 256);
    EXPECT_EQ(buf_mirror_exit(m, 1), BUF_OK); /* copy back the 5s */
    EXPECT_EQ(((const unsigned char *)buf_data(h))[255], 5);
    (void)tmp;
    buf_release(h);
}

int main(void) {
    RUN(tables_unavailable_without_gpu_name_the_reason);
    RUN(device_buffer_with_a_bad_init_is_einval);
    RUN(device_buffer_calls_return_enodev_without_gpu);
    RUN(realloc_sized_copies_the_smaller_size_then_frees);
    RUN(used_since_is_unknown_when_less_is_in_use_than_at_init);
    RUN(overlapping_ranges_are_told_apart);
    RUN(device_tables_refuse_alignments_they_cannot_give);
    RUN(gpu_cuda_table_allocates_and_frees);
    RUN(gpu_async_pool_reports_stats);
    RUN(gpu_cuda_stats_measured_or_null);
    RUN(gpu_async_pool_keeps_memory_across_statistics);
    RUN(gpu_realloc_keeps_device_contents);
    RUN(gpu_managed_memory_holds_the_bytes_when_the_call_returns);
    RUN(gpu_copy_within_one_device_buffer_overlapping);
    RUN(gpu_copy_round_trip);
    RUN(gpu_managed_and_pinned_are_views);
    RUN(gpu_mirror_enter_update_exit);
    return test_report();
}
