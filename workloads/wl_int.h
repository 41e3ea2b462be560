/*
 * wl_int.h - private to the workloads module: OS memory, growable vectors,
 * number parsing, size draws, and the pieces wl_gen.c and wl_trace.c share.
 * Nothing here may call malloc: the process's malloc may be the allocator
 * under test.
 */
#ifndef MMB_WL_INT_H
#define MMB_WL_INT_H

#include "wl.h"

#include <stdarg.h>
#include <stdint.h>

/* Anonymous private mapping of len bytes (zero-filled), or NULL. */
void *wl_map(size_t len);
void wl_unmap(void *p, size_t len);

/* A growable byte array backed by mmap (grows with mremap, new bytes are
 * zero).  cap is in bytes. */
typedef struct wl_vec {
    void *p;
    size_t cap;
} wl_vec_t;
int wl_vec_ensure(wl_vec_t *v, size_t bytes); /* 0 or ENOMEM */
void wl_vec_free(wl_vec_t *v);

/* Numbers as typed on the command line.  Counts take decimal suffixes
 * (10k = 10^4, 4M, 1G) and scientific notation (1e6); byte sizes take
 * binary suffixes (4k = 4096, 1M = 2^20, 1G, 1T) and scientific notation.
 * 0, EINVAL (malformed) or ERANGE (does not fit 64 bits). */
int wl_parse_count(const char *s, uint64_t *out);
int wl_parse_bytes(const char *s, uint64_t *out);
/* A real number (for exp:MEAN, lognormal:MU:SIGMA, pareto ALPHA); the
 * binary suffixes are accepted when bytes is non-zero. */
int wl_parse_real(const char *s, int bytes, double *out);

/* One size from d, clamped to [1, WL_MAX_SIZE]. */
uint64_t wl_dist_draw(const wl_dist_t *d, wl_rng_t *r);
/* Uniform integer in [lo, hi] (unbiased). */
uint64_t wl_rng_range(wl_rng_t *r, uint64_t lo, uint64_t hi);

/* printf into err (when err is non-NULL); returns code. */
int wl_fail(char *err, size_t errlen, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Lays out nthreads op arrays with the given lengths in one mapping held by
 * s (s->mem / s->mem_len).  0 or ENOMEM. */
int wl_stream_layout(wl_stream_t *s, uint32_t nthreads, const uint64_t *nops);

/* Computes total_ops, hash and the live-byte facts of a complete stream.
 * tids, when non-NULL, is the global order the stream was dealt from (the
 * thread of each op in turn); else the threads are interleaved round-robin.
 * 0 or ENOMEM. */
int wl_stream_facts(wl_stream_t *s, const uint8_t *tids);

/* The live target of the presets sized from ops (ramp: ops / 2, every-other:
 * ops * 2 / 5) for a budget of ops requests, at least 1; 0 for the others.
 * A single-threaded workload applies it to each thread's own budget. */
uint64_t wl_preset_live(const char *workload, uint64_t ops);

/* Thread t's part of total over T threads: the first total % T get one more. */
static inline uint64_t wl_share(uint64_t total, uint32_t T, uint32_t t) { return total / T + (t < total % T); }

/* Trace replay (wl_trace.c): fills s from p->trace_path, p->threads copies. */
int wl_trace_load(const wl_params_t *p, wl_stream_t *s, char *err, size_t errlen);

#endif
