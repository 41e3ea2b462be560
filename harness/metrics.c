/*
 * metrics.c - the metric and sample-column tables expanded from metrics.h.
 */
#include "harness/hx.h"

#include <math.h>

const hx_metric_info_t hx_metric_info[HX_METRIC_COUNT] = {
#define HX_METRIC_ROW(k, t, u, l, d) {#k, #t, u, l, d},
    HX_METRICS(HX_METRIC_ROW)
#undef HX_METRIC_ROW
};

const hx_metric_info_t hx_sample_info[HX_SAMPLE_COUNT] = {
#define HX_SAMPLE_ROW(k, t, u, l) {#k, #t, u, l, 0},
    HX_SAMPLE_COLS(HX_SAMPLE_ROW)
#undef HX_SAMPLE_ROW
};

double hx_percentile(const uint64_t *v, uint64_t n, unsigned permille) {
    /* Below 1000 / (1000 - permille) values the nearest rank is the last
     * one: the "percentile" would be the largest value under another name
     * (p99.9 of 781 requests read exactly lat_max_ns), so there is none. */
    if (n == 0 || permille >= 1000 || n * (uint64_t)(1000 - permille) < 1000)
        return NAN;
    /* rank ceil(permille * n / 1000), in integers so that it is exact */
    uint64_t k = ((uint64_t)permille * n + 999) / 1000;
    if (k == 0)
        k = 1;
    return (double)v[k - 1];
}
