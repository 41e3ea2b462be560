/*
 * test_device.c - the CUDA device allocators (cuda, cuda-async) and the
 * buffer manager's device buffers.  Without a GPU: both tables unavailable
 * with "no CUDA driver or device (...)" (or "built without the CUDA
 * toolkit"), device calls
 * return BUF_ENODEV, nothing crashes; the GPU tests are reported as skipped.
 */
#include "allocators/alloc.h"
#include "allocators/buffer/buf.h"
#include "mmb_config.h"
#include "test.h"

#include <stdint.h>

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
    buf_release(pb);
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
    RUN(gpu_cuda_table_allocates_and_frees);
    RUN(gpu_async_pool_reports_stats);
    RUN(gpu_copy_round_trip);
    RUN(gpu_managed_and_pinned_are_views);
    RUN(gpu_mirror_enter_update_exit);
    return test_report();
}
