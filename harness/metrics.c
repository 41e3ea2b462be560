/*
 * metrics.c - the metric and sample-column tables expanded from metrics.h.
 */
#include "harness/metrics.h"

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
