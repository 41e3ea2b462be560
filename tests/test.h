/*
 * test.h - the tiny test framework every test executable shares.
 *
 *     TEST(bestfit_picks_smallest_hole) {
 *         EXPECT_EQ(off, 64);
 *     }
 *     int main(void) { RUN(bestfit_picks_smallest_hole); return test_report(); }
 *
 * EXPECT_* print both values and the line on failure and keep going;
 * ASSERT_* return from the test.  A test may call test_skip("why").
 * test_report() prints "N passed, N failed, N skipped" and returns the exit
 * status (0 only when nothing failed; 77 when everything was skipped, which
 * ctest reports as skipped via SKIP_RETURN_CODE).
 */
#ifndef MMB_TEST_H
#define MMB_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int test_failed_now, test_skipped_now;
static int test_n_pass, test_n_fail, test_n_skip;
static const char *test_current;

#define TEST(name) static void name(void)

#define RUN(name)                                                                  \
    do {                                                                           \
        test_failed_now = test_skipped_now = 0;                                    \
        test_current = #name;                                                      \
        name();                                                                    \
        if (test_skipped_now) {                                                    \
            test_n_skip++;                                                         \
        } else if (test_failed_now) {                                              \
            test_n_fail++;                                                         \
            printf("FAIL %s\n", #name);                                            \
        } else {                                                                   \
            test_n_pass++;                                                         \
            printf("ok   %s\n", #name);                                            \
        }                                                                          \
        fflush(stdout);                                                            \
    } while (0)

static inline void test_skip(const char *why) {
    test_skipped_now = 1;
    printf("skip %s: %s\n", test_current, why);
}

static inline int test_report(void) {
    printf("%d passed, %d failed, %d skipped\n", test_n_pass, test_n_fail, test_n_skip);
    if (test_n_fail)
        return 1;
    if (test_n_pass == 0 && test_n_skip > 0)
        return 77;
    return 0;
}

#define TEST_FAIL_AT(...)                                                          \
    do {                                                                           \
        test_failed_now = 1;                                                       \
        printf("  %s:%d: ", __FILE__, __LINE__);                                   \
        printf(__VA_ARGS__);                                                       \
        printf("\n");                                                              \
    } while (0)

#define EXPECT_TRUE(c)                                                             \
    do {                                                                           \
        if (!(c))                                                                  \
            TEST_FAIL_AT("expected %s", #c);                                       \
    } while (0)

#define EXPECT_OP(a, op, b)                                                        \
    do {                                                                           \
        long long va_ = (long long)(a), vb_ = (long long)(b);                      \
        if (!(va_ op vb_))                                                         \
            TEST_FAIL_AT("expected %s %s %s: %lld vs %lld", #a, #op, #b, va_, vb_);\
    } while (0)

#define EXPECT_EQ(a, b) EXPECT_OP(a, ==, b)
#define EXPECT_NE(a, b) EXPECT_OP(a, !=, b)
#define EXPECT_LT(a, b) EXPECT_OP(a, <, b)
#define EXPECT_LE(a, b) EXPECT_OP(a, <=, b)
#define EXPECT_GT(a, b) EXPECT_OP(a, >, b)
#define EXPECT_GE(a, b) EXPECT_OP(a, >=, b)

#define EXPECT_STREQ(a, b)                                                         \
    do {                                                                           \
        const char *sa_ = (a), *sb_ = (b);                                         \
        if (!sa_ || !sb_ || strcmp(sa_, sb_) != 0)                                 \
            TEST_FAIL_AT("expected %s == %s: \"%s\" vs \"%s\"", #a, #b,            \
                         sa_ ? sa_ : "(null)", sb_ ? sb_ : "(null)");              \
    } while (0)

#define ASSERT_TRUE(c)                                                             \
    do {                                                                           \
        if (!(c)) {                                                                \
            TEST_FAIL_AT("assertion %s", #c);                                      \
            return;                                                                \
        }                                                                          \
    } while (0)

#endif
