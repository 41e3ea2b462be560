/*
 * runner.h - one run in its own child process (internal to the harness).
 */
#ifndef MMB_RUNNER_H
#define MMB_RUNNER_H

#include "harness/hx.h"

typedef struct hx_run_spec {
    const char *alloc;       /* allocator name as typed */
    char *const *wl_args;    /* workload options for the child, "--ops=1000" ... */
    int nwl_args;
    uint32_t samples;
    int verify;              /* --verify: fill and check every byte */
    int debug_heap;          /* policy heaps' debug mode (checker after every op) */
    double timeout_s;        /* 0 = none */
    uint64_t stream_hash;    /* the stream's hash as the parent generated it (0 = unknown): recorded
                                for a run that dies before reporting its own, and a run that reports
                                another fails */
} hx_run_spec_t;

/* Run spec in a child process and fill out's allocator_version, status,
 * failure, signal, exit_code, stream_hash, metrics, samples, blocks,
 * composition and info.  Never fails as a whole: a child that crashes,
 * aborts, is killed or times out gives status "failed" and the reason.
 * Returns 1 if SIGINT or SIGTERM arrived while the child lived (the child
 * is killed, the signal raised again for the caller's handler; the sweep
 * should stop and the run not be stored), else 0.  The child is killed if
 * this process dies (PR_SET_PDEATHSIG). */
int hx_runner_run(const hx_run_spec_t *spec, hx_run_t *out);

#endif
