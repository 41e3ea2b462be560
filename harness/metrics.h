/*
 * metrics.h - every metric of a run and every column of a sample, defined
 * once.  The C struct, the SQLite columns, the JSON keys, the CSV header and
 * the dashboard's labels are all expanded from these lists, so adding a
 * metric is a one-line change here (and a migration is generated for it).
 *
 * HX_METRICS(X): X(key, sqltype, unit, label, description)
 *   sqltype is INTEGER or REAL; a metric an allocator cannot report is NaN in
 *   C and NULL in SQL / null in JSON, never 0.
 */
#ifndef MMB_METRICS_H
#define MMB_METRICS_H

#define HX_METRICS(X)                                                                          \
    X(wall_ns, INTEGER, "ns", "Wall time", "time of the measured loop only (no generation, no sampling pauses)") \
    X(ns_per_op, REAL, "ns", "ns per request", "wall_ns divided by the requests of all threads") \
    X(ops_per_sec, REAL, "1/s", "Requests per second", "requests of all threads per second of wall time") \
    X(steady_ns_per_op, REAL, "ns", "ns per request after the ramp-up", "wall time per request from the moment the live block count first reaches its maximum to the end (one thread only; NULL when fewer than a tenth of the requests, or 1000, follow that moment)") \
    X(lat_p50_ns, REAL, "ns", "Latency p50", "median latency of the sampled requests (nearest rank; NULL under 2 of them)") \
    X(lat_p99_ns, REAL, "ns", "Latency p99", "99th percentile latency of the sampled requests (nearest rank; NULL under 100 of them, where it would be their maximum)") \
    X(lat_p999_ns, REAL, "ns", "Latency p99.9", "99.9th percentile latency of the sampled requests (nearest rank; NULL under 1000 of them, where it would be their maximum)") \
    X(lat_max_ns, REAL, "ns", "Latency max", "largest latency among the sampled requests") \
    X(peak_live_bytes, INTEGER, "B", "Peak live bytes", "max L(t): bytes requested and not yet freed") \
    X(peak_heap_bytes, INTEGER, "B", "Peak heap bytes", "max H(t): bytes the allocator holds for its heap") \
    X(rss_baseline_bytes, INTEGER, "B", "RSS baseline", "process RSS just before the workload started") \
    X(peak_rss_bytes, INTEGER, "B", "Peak RSS", "process RSS at its peak during the workload") \
    X(final_rss_bytes, INTEGER, "B", "Final RSS", "process RSS at the end of the workload, before teardown") \
    X(frag_jw1, REAL, "", "Fragmentation JW#1", "mean of H/L - 1 over the evenly spaced samples with L > 0") \
    X(frag_jw2, REAL, "", "Fragmentation JW#2", "H/L - 1 at the moment L is largest (the first, if L reaches its maximum more than once)") \
    X(frag_jw3, REAL, "", "Fragmentation JW#3", "H/L - 1 at the moment H is largest (while H stays largest, the moment with the most live bytes)") \
    X(frag_jw4, REAL, "", "Fragmentation JW#4", "max H / max L - 1") \
    X(rss_overhead, REAL, "", "RSS overhead", "max R / max L - 1, R = RSS minus the baseline") \
    X(frag_internal, REAL, "", "Internal fragmentation", "at max L: (bytes in used blocks - L) / bytes in used blocks") \
    X(frag_external, REAL, "", "External fragmentation", "at max L: free bytes inside the heap / H") \
    X(free_largest_ratio, REAL, "", "Free-space scatter", "at max L: 1 - largest free block / total free bytes") \
    X(holes, INTEGER, "", "Holes", "free blocks (not the free top of the heap) at max L") \
    X(live_blocks, INTEGER, "", "Live blocks", "used blocks at max L") \
    X(holes_per_live, REAL, "", "Holes per live block", "mean of holes / live_blocks over the evenly spaced samples taken after more than half of the requests (those with live blocks)")

/* HX_SAMPLE_COLS(X): X(key, sqltype, unit, label) - one time-series point. */
#define HX_SAMPLE_COLS(X)                                                   \
    X(op_index, INTEGER, "", "Request index")                               \
    X(elapsed_ns, INTEGER, "ns", "Elapsed time (measured loop)")            \
    X(live_bytes, INTEGER, "B", "Live bytes L")                             \
    X(heap_bytes, INTEGER, "B", "Heap held H")                              \
    X(rss_bytes, INTEGER, "B", "RSS above baseline R")                      \
    X(holes, INTEGER, "", "Holes")                                          \
    X(live_blocks, INTEGER, "", "Live blocks")                              \
    X(frag, REAL, "", "H/L - 1")

enum {
#define HX_METRIC_ENUM(k, t, u, l, d) HX_M_##k,
    HX_METRICS(HX_METRIC_ENUM)
#undef HX_METRIC_ENUM
    HX_METRIC_COUNT
};

enum {
#define HX_SAMPLE_ENUM(k, t, u, l) HX_S_##k,
    HX_SAMPLE_COLS(HX_SAMPLE_ENUM)
#undef HX_SAMPLE_ENUM
    HX_SAMPLE_COUNT
};

typedef struct hx_metric_info {
    const char *key, *sqltype, *unit, *label, *description;
} hx_metric_info_t;

/* The tables expanded from the lists above (defined in metrics.c). */
extern const hx_metric_info_t hx_metric_info[HX_METRIC_COUNT];
extern const hx_metric_info_t hx_sample_info[HX_SAMPLE_COUNT]; /* description NULL */

#endif
