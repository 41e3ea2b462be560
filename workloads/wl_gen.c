/*
 * wl_gen.c - the synthetic workloads: turns resolved parameters into op
 * streams.
 *
 * Single-threaded workloads run once per thread, each thread with its own
 * PRNG (seeded from seed and thread index), its own budget (ops split as
 * evenly as possible) and its own slots (renumbered into disjoint ranges at
 * the end).  larson and prodcons build one global order with the thread of
 * each op, then deal it to the threads and number each slot's history (seq).
 *
 * Every op is emitted through g_malloc/g_free/g_realloc/g_slice/g_consume, which stop at the
 * budget: a workload loops until its budget is spent, so total_ops == ops
 * for every synthetic workload, and a stream cut anywhere is still valid.
 * All bookkeeping is O(1) amortized per op (swap-remove arrays, rings,
 * stacks, a binary heap) and lives in mmap-backed vectors.
 */
#include "wl_int.h"

#include <errno.h>
#include <string.h>

#define NONE UINT32_MAX

/* ---- emission and slots ------------------------------------------------------ */

typedef struct gen {
    wl_rng_t rng;
    const wl_dist_t *dist;
    wl_op_t *ops; /* cap ops */
    uint64_t n, cap;
    uint8_t *tids;   /* global generation: the thread of each op */
    uint8_t cur_tid; /* thread of the ops now emitted */
    wl_vec_t freeslots; /* u32 stack of empty slot numbers */
    uint64_t nfree;
    uint64_t nslots;
    wl_vec_t size;  /* u64 per slot: its live size, 0 = empty */
    wl_vec_t aux;   /* u32 per slot: workload-specific */
    wl_vec_t aux2;  /* u32 per slot: workload-specific */
    wl_vec_t seqc;  /* u32 per slot: ops so far (global generation only) */
    int err;        /* ENOMEM or EOVERFLOW: stops generation */
} gen_t;

#define SIZE(g) ((uint64_t *)(g)->size.p)
#define AUX(g) ((uint32_t *)(g)->aux.p)
#define AUX2(g) ((uint32_t *)(g)->aux2.p)

static int g_grow_slots(gen_t *g, uint64_t n) {
    if (n > (uint64_t)UINT32_MAX + 1) {
        g->err = EOVERFLOW;
        return -1;
    }
    if (wl_vec_ensure(&g->size, n * 8) || wl_vec_ensure(&g->aux, n * 4) || wl_vec_ensure(&g->aux2, n * 4) ||
        (g->tids && wl_vec_ensure(&g->seqc, n * 4))) {
        g->err = ENOMEM;
        return -1;
    }
    return 0;
}

/* A fresh empty slot: the most recently emptied one, else a new number. */
static uint32_t g_slot(gen_t *g) {
    if (g->nfree)
        return ((uint32_t *)g->freeslots.p)[--g->nfree];
    if (g_grow_slots(g, g->nslots + 1))
        return NONE;
    return (uint32_t)g->nslots++;
}

static void g_release_slot(gen_t *g, uint32_t s) {
    if (wl_vec_ensure(&g->freeslots, (g->nfree + 1) * 4)) {
        g->err = ENOMEM;
        return;
    }
    ((uint32_t *)g->freeslots.p)[g->nfree++] = s;
}

static int g_full(const gen_t *g) { return g->n >= g->cap || g->err; }

static int g_emit(gen_t *g, wl_kind_t k, uint32_t slot, uint64_t size) {
    if (g_full(g))
        return 0;
    wl_op_t *o = &g->ops[g->n];
    o->size = size;
    o->slot = slot;
    o->kind = k;
    o->seq = 0;
    if (g->tids) {
        uint32_t *c = (uint32_t *)g->seqc.p;
        if (c[slot] >= WL_MAX_SEQ) {
            g->err = EOVERFLOW;
            return 0;
        }
        o->seq = c[slot]++;
        g->tids[g->n] = g->cur_tid;
    }
    g->n++;
    return 1;
}

/* MALLOC into the given empty slot. */
static int g_malloc_at(gen_t *g, uint32_t s, uint64_t size) {
    if (!g_emit(g, WL_MALLOC, s, size))
        return 0;
    SIZE(g)[s] = size;
    return 1;
}

static int g_malloc(gen_t *g, uint64_t size, uint32_t *slot) {
    if (g_full(g))
        return 0;
    uint32_t s = g_slot(g);
    if (s == NONE)
        return 0;
    if (!g_malloc_at(g, s, size)) {
        g_release_slot(g, s);
        return 0;
    }
    *slot = s;
    return 1;
}

/* FREE; reuse says whether the slot number goes back to the pool. */
static int g_free_ex(gen_t *g, uint32_t s, int reuse) {
    if (!g_emit(g, WL_FREE, s, SIZE(g)[s]))
        return 0;
    SIZE(g)[s] = 0;
    if (reuse)
        g_release_slot(g, s);
    return 1;
}
static int g_free(gen_t *g, uint32_t s) { return g_free_ex(g, s, 1); }

static int g_realloc(gen_t *g, uint32_t s, uint64_t size) {
    if (!g_emit(g, WL_REALLOC, s, size))
        return 0;
    SIZE(g)[s] = size;
    return 1;
}

/* SLICE: the empty slot s views the first len bytes of the full block
 * slot parent (len <= its size); SIZE records len so that s reads full. */
static int g_slice(gen_t *g, uint32_t parent, uint64_t len, uint32_t *slot) {
    if (g_full(g))
        return 0;
    if (len > SIZE(g)[parent])
        len = SIZE(g)[parent];
    if (len > WL_MAX_SLICE_LEN)
        len = WL_MAX_SLICE_LEN;
    if (len == 0)
        len = 1;
    uint32_t s = g_slot(g);
    if (s == NONE)
        return 0;
    if (!g_emit(g, WL_SLICE, s, wl_slice_size(parent, (uint32_t)len))) {
        g_release_slot(g, s);
        return 0;
    }
    SIZE(g)[s] = len;
    *slot = s;
    return 1;
}

/* CONSUME n bytes of external memory into a fresh slot. */
static int g_consume(gen_t *g, uint64_t n, uint32_t *slot) {
    if (g_full(g))
        return 0;
    uint32_t s = g_slot(g);
    if (s == NONE)
        return 0;
    if (!g_emit(g, WL_CONSUME, s, n)) {
        g_release_slot(g, s);
        return 0;
    }
    SIZE(g)[s] = n;
    *slot = s;
    return 1;
}

#define EMIT(x)                                                                                              \
    do {                                                                                                     \
        if (!(x))                                                                                            \
            return;                                                                                          \
    } while (0)

static void g_free_all(gen_t *g) {
    wl_vec_free(&g->freeslots);
    wl_vec_free(&g->size);
    wl_vec_free(&g->aux);
    wl_vec_free(&g->aux2);
    wl_vec_free(&g->seqc);
}

/* ---- lifetime policies: which live object dies next ----------------------------
 * exp: uniform random victim (swap-remove from an array); fifo: ring (a
 * queue with a moving head, compacted when half is dead); lifo: stack;
 * uniform: each object gets a deadline now + U[1, 2*live] (in insertions)
 * and the earliest deadline dies first (binary heap, ties to the older). */

typedef struct hent {
    uint64_t dl, birth;
    uint32_t slot;
} hent_t;

typedef struct pol {
    wl_lifetime_t kind;
    uint64_t live; /* for uniform deadlines */
    wl_vec_t v;
    uint64_t head, n; /* n = number of objects; fifo: entries in [head, head+n) */
    uint64_t clock;
} pol_t;

static int pol_insert(gen_t *g, pol_t *p, uint32_t s) {
    if (p->kind == WL_LIFE_UNIFORM) {
        if (wl_vec_ensure(&p->v, (p->n + 1) * sizeof(hent_t)))
            return g->err = ENOMEM, 0;
        hent_t *h = p->v.p;
        hent_t e = {p->clock + wl_rng_range(&g->rng, 1, 2 * p->live), p->clock, s};
        p->clock++;
        uint64_t i = p->n++;
        while (i > 0) {
            uint64_t up = (i - 1) / 2;
            if (h[up].dl < e.dl || (h[up].dl == e.dl && h[up].birth < e.birth))
                break;
            h[i] = h[up];
            i = up;
        }
        h[i] = e;
        return 1;
    }
    uint64_t at = p->kind == WL_LIFE_FIFO ? p->head + p->n : p->n;
    if (p->kind == WL_LIFE_FIFO && p->head > 0 && (at + 1) * 4 > p->v.cap && p->head * 2 >= at) {
        memmove(p->v.p, (uint32_t *)p->v.p + p->head, p->n * 4);
        p->head = 0;
        at = p->n;
    }
    if (wl_vec_ensure(&p->v, (at + 1) * 4))
        return g->err = ENOMEM, 0;
    ((uint32_t *)p->v.p)[at] = s;
    p->n++;
    return 1;
}

static uint32_t pol_pop(gen_t *g, pol_t *p) {
    uint32_t *a = p->v.p;
    uint32_t s;
    switch (p->kind) {
    case WL_LIFE_EXP: {
        uint64_t i = wl_rng_range(&g->rng, 0, p->n - 1);
        s = a[i];
        a[i] = a[--p->n];
        return s;
    }
    case WL_LIFE_FIFO:
        s = a[p->head++];
        if (--p->n == 0)
            p->head = 0;
        return s;
    case WL_LIFE_LIFO:
        return a[--p->n];
    case WL_LIFE_UNIFORM: {
        hent_t *h = p->v.p;
        s = h[0].slot;
        hent_t e = h[--p->n];
        uint64_t i = 0;
        for (;;) {
            uint64_t c = 2 * i + 1;
            if (c >= p->n)
                break;
            if (c + 1 < p->n && (h[c + 1].dl < h[c].dl || (h[c + 1].dl == h[c].dl && h[c + 1].birth < h[c].birth)))
                c++;
            if (e.dl < h[c].dl || (e.dl == h[c].dl && e.birth < h[c].birth))
                break;
            h[i] = h[c];
            i = c;
        }
        if (p->n)
            h[i] = e;
        return s;
    }
    }
    return NONE;
}

/* Malloc a new object and hand it to the policy. */
static int g_malloc_pol(gen_t *g, pol_t *p, uint64_t size) {
    uint32_t s;
    if (!g_malloc(g, size, &s))
        return 0;
    return pol_insert(g, p, s);
}

/* ---- single-threaded workloads ----------------------------------------------- */

static void gen_random(gen_t *g, pol_t *p, uint64_t live) {
    for (;;) {
        if (p->n >= live)
            EMIT(g_free(g, pol_pop(g, p)));
        EMIT(g_malloc_pol(g, p, wl_dist_draw(g->dist, &g->rng)));
    }
}

static void gen_ramp(gen_t *g, pol_t *p, uint64_t live) {
    for (;;) {
        while (p->n < live)
            EMIT(g_malloc_pol(g, p, wl_dist_draw(g->dist, &g->rng)));
        while (p->n > 0)
            EMIT(g_free(g, pol_pop(g, p)));
    }
}

static void gen_every_other(gen_t *g, uint64_t live) {
    uint64_t small = wl_dist_draw(g->dist, &g->rng);
    uint32_t s;
    /* Fresh slots are numbered in allocation order: slot i is object i. */
    uint64_t first = g->nslots;
    for (uint64_t i = 0; i < live; i++)
        EMIT(g_malloc(g, small, &s));
    for (uint64_t i = 1; i < live; i += 2)
        EMIT(g_free_ex(g, (uint32_t)(first + i), 0));
    for (;;) {
        /* 3..4 times the small size: too large for any hole. */
        uint64_t large = small > WL_MAX_SIZE / 4 ? WL_MAX_SIZE : 3 * small + wl_rng_range(&g->rng, 0, small);
        EMIT(g_malloc(g, large, &s));
    }
}

static uint64_t string_size(gen_t *g) {
    /* 16 + exponential(mean 240), at most 4096. */
    uint64_t x = 16 + wl_dist_draw(&(wl_dist_t){.kind = WL_DIST_EXP, .a = 240}, &g->rng);
    return x > 4096 ? 4096 : x;
}

/* Most objects (85%) are temporaries that die young, newest first (a
 * nursery of 32); the rest are long-lived, --live of them, freed by the
 * lifetime policy.  One allocation in 10 is a string. */
static void gen_small_objects(gen_t *g, pol_t *p, uint64_t live) {
    enum { NURSERY = 32 };
    uint32_t nursery[NURSERY + 1];
    uint32_t nn = 0;
    for (;;) {
        if (nn > NURSERY) {
            EMIT(g_free(g, nursery[--nn]));
        } else if (p->n > live) {
            EMIT(g_free(g, pol_pop(g, p)));
        } else {
            uint64_t size = wl_rng_range(&g->rng, 0, 9) == 0 ? string_size(g) : wl_dist_draw(g->dist, &g->rng);
            uint32_t s;
            EMIT(g_malloc(g, size, &s));
            if (wl_rng_range(&g->rng, 0, 99) < 85)
                nursery[nn++] = s;
            else
                EMIT(pol_insert(g, p, s));
        }
    }
}

/* --live active buffers; each starts at a --sizes draw, grows 1..12 times
 * by x1.5..x2 (REALLOC), then is freed and replaced.  Each step works on a
 * random active buffer.  aux = growth steps left. */
static void gen_realloc_grow(gen_t *g, uint64_t live) {
    wl_vec_t act = {0};
    uint64_t na = 0;
    for (;;) {
        if (na < live) {
            uint32_t s;
            if (!g_malloc(g, wl_dist_draw(g->dist, &g->rng), &s))
                break;
            AUX(g)[s] = (uint32_t)wl_rng_range(&g->rng, 1, 12);
            if (wl_vec_ensure(&act, (na + 1) * 4)) {
                g->err = ENOMEM;
                break;
            }
            ((uint32_t *)act.p)[na++] = s;
            continue;
        }
        uint32_t *a = act.p;
        uint64_t i = wl_rng_range(&g->rng, 0, na - 1);
        uint32_t s = a[i];
        if (AUX(g)[s] == 0) {
            if (!g_free(g, s))
                break;
            a[i] = a[--na];
        } else {
            uint64_t old = SIZE(g)[s];
            uint64_t grow = (uint64_t)((double)old * (0.5 + 0.5 * wl_rng_unit(&g->rng)));
            uint64_t nw = old + (grow ? grow : 1);
            if (nw > WL_MAX_SIZE)
                nw = WL_MAX_SIZE;
            if (!g_realloc(g, s, nw))
                break;
            AUX(g)[s]--;
        }
    }
    wl_vec_free(&act);
}

/* buffers: typical buffer use.
 * - builder (each step): MALLOC a --sizes draw, 0..10 appends that each
 *   double it (REALLOC x2), then a final REALLOC shrinking it to its used
 *   length (in (cap/2, cap]; none when that equals cap);
 * - 30% of finished buffers get 1..3 slices (SLICE of the first 1..size
 *   bytes); the parent's own handle is then freed soon after, 4 sliced
 *   buffers later (a small FIFO), usually long before its slices, which
 *   live on as handles;
 * - external memory (2% of steps): CONSUME a block of 256 KiB..4 MiB; at
 *   most 4 are held, the oldest released (FREE) when a fifth comes.
 * Handles (unsliced buffers and slices) die by the lifetime policy when
 * more than --live of them exist. */
static void gen_buffers(gen_t *g, pol_t *p, uint64_t live) {
    enum { PARENTS = 4, EXTERNAL = 4 };
    uint32_t parents[PARENTS], ext[EXTERNAL];
    uint32_t np = 0, ph = 0, ne = 0, eh = 0;
    for (;;) {
        if (wl_rng_range(&g->rng, 0, 99) < 2) {
            if (ne == EXTERNAL) {
                EMIT(g_free(g, ext[eh]));
                eh = (eh + 1) % EXTERNAL;
                ne--;
            }
            uint32_t s;
            EMIT(g_consume(g, wl_rng_range(&g->rng, 256u << 10, 4u << 20), &s));
            ext[(eh + ne++) % EXTERNAL] = s;
        }
        uint32_t b;
        uint64_t cap = wl_dist_draw(g->dist, &g->rng);
        EMIT(g_malloc(g, cap, &b));
        uint32_t appends = (uint32_t)wl_rng_range(&g->rng, 0, 10);
        for (uint32_t i = 0; i < appends && cap <= WL_MAX_SIZE / 2; i++) {
            cap *= 2;
            EMIT(g_realloc(g, b, cap));
        }
        if (cap > 1) {
            uint64_t used = wl_rng_range(&g->rng, cap / 2 + 1, cap);
            if (used != cap)
                EMIT(g_realloc(g, b, used));
        }
        uint32_t nsl = wl_rng_range(&g->rng, 0, 9) < 3 ? (uint32_t)wl_rng_range(&g->rng, 1, 3) : 0;
        if (nsl == 0) {
            EMIT(pol_insert(g, p, b));
        } else {
            for (uint32_t i = 0; i < nsl; i++) {
                uint32_t s;
                EMIT(g_slice(g, b, wl_rng_range(&g->rng, 1, SIZE(g)[b]), &s));
                EMIT(pol_insert(g, p, s));
            }
            if (np == PARENTS) {
                EMIT(g_free(g, parents[ph]));
                ph = (ph + 1) % PARENTS;
                np--;
            }
            parents[(ph + np++) % PARENTS] = b;
        }
        while (p->n > live)
            EMIT(g_free(g, pol_pop(g, p)));
    }
}

/* ---- multi-threaded workloads (one global order) ------------------------------ */

/* larson: live slots in T arrays.  Thread t works on array (t + round) % T,
 * round = its op count / R (R = 2 * array length, at least 16), so arrays
 * pass from thread to thread and objects die on other threads than the one
 * that allocated them.  An array is first filled in order; then a step
 * frees a random slot and the thread's next step refills it (unless another
 * thread got there first; a step that picks an empty slot fills it).
 * Threads take turns in the global order. */
static void gen_larson(gen_t *g, uint32_t T, uint64_t live) {
    uint64_t na = live / T ? live / T : 1;
    if (g_grow_slots(g, na * T))
        return;
    g->nslots = na * T;
    uint64_t R = 2 * na < 16 ? 16 : 2 * na;
    uint64_t fill[WL_MAX_THREADS] = {0}, done[WL_MAX_THREADS] = {0};
    uint32_t pend[WL_MAX_THREADS];
    for (uint32_t t = 0; t < T; t++)
        pend[t] = NONE;
    for (uint64_t step = 0;; step++) {
        uint32_t t = (uint32_t)(step % T);
        g->cur_tid = (uint8_t)t;
        uint64_t a = (t + done[t]++ / R) % T;
        uint32_t s;
        if (pend[t] != NONE && SIZE(g)[pend[t]] == 0) {
            s = pend[t];
            pend[t] = NONE;
            EMIT(g_malloc_at(g, s, wl_dist_draw(g->dist, &g->rng)));
            continue;
        }
        pend[t] = NONE;
        if (fill[a] < na) {
            s = (uint32_t)(a * na + fill[a]++);
            if (SIZE(g)[s] == 0) {
                EMIT(g_malloc_at(g, s, wl_dist_draw(g->dist, &g->rng)));
                continue;
            }
        }
        s = (uint32_t)(a * na + wl_rng_range(&g->rng, 0, na - 1));
        if (SIZE(g)[s] == 0) {
            EMIT(g_malloc_at(g, s, wl_dist_draw(g->dist, &g->rng)));
        } else {
            EMIT(g_free_ex(g, s, 0));
            pend[t] = s;
        }
    }
}

/* prodcons: even threads produce, odd threads consume.  Producer number i
 * (thread 2i) feeds consumer i % ncons; each producer has a FIFO of
 * capacity live / nprod, which the producer fills and the consumer drains
 * only when it is full, so about --live messages stay in flight and each
 * lives about a queue's length.  Threads take turns; a producer with a full
 * queue or a consumer with no full queue passes its turn, so each round of
 * turns emits at least one op. */
static void gen_prodcons(gen_t *g, uint32_t T, uint64_t live) {
    uint32_t nprod = (T + 1) / 2, ncons = T / 2;
    uint64_t q = live / nprod ? live / nprod : 1;
    wl_vec_t ring = {0};
    if (wl_vec_ensure(&ring, nprod * q * 4)) {
        g->err = ENOMEM;
        return;
    }
    uint32_t *r = ring.p;
    uint64_t head[WL_MAX_THREADS] = {0}, cnt[WL_MAX_THREADS] = {0};
    uint32_t rr[WL_MAX_THREADS] = {0};
    for (uint64_t step = 0; !g_full(g); step++) {
        uint32_t t = (uint32_t)(step % T);
        g->cur_tid = (uint8_t)t;
        if (t % 2 == 0) {
            uint32_t i = t / 2, s;
            if (cnt[i] == q)
                continue;
            if (!g_malloc(g, wl_dist_draw(g->dist, &g->rng), &s))
                break;
            r[i * q + (head[i] + cnt[i]) % q] = s;
            cnt[i]++;
        } else {
            uint32_t c = t / 2;
            uint32_t nmine = (nprod - c + ncons - 1) / ncons; /* producers c, c+ncons, ... */
            for (uint32_t k = 0; k < nmine; k++) {
                uint32_t i = c + ((rr[c] + k) % nmine) * ncons;
                if (cnt[i] < q)
                    continue;
                uint32_t s = r[i * q + head[i]];
                head[i] = (head[i] + 1) % q;
                cnt[i]--;
                rr[c] = (rr[c] + k + 1) % nmine;
                g_free(g, s);
                break;
            }
        }
    }
    wl_vec_free(&ring);
}

/* ---- driver -------------------------------------------------------------------- */

static int gen_fail(gen_t *g, const wl_params_t *q, char *err, size_t errlen) {
    if (g->err == EOVERFLOW)
        return wl_fail(err, errlen, EOVERFLOW,
                       "--ops: workload %s with --ops=%llu and --live=%llu needs more slot numbers or a longer "
                       "slot history than a stream holds; use a larger --live or fewer --ops",
                       q->workload, (unsigned long long)q->ops, (unsigned long long)q->live);
    return wl_fail(err, errlen, ENOMEM, "workload %s: out of memory while generating %llu ops", q->workload,
                   (unsigned long long)q->ops);
}

static int gen_global(const wl_params_t *q, wl_stream_t *s, char *err, size_t errlen) {
    uint32_t T = q->threads;
    if (!strcmp(q->workload, "prodcons") && T < 2)
        return wl_fail(err, errlen, EINVAL,
                       "--threads: prodcons needs at least 2 threads (even threads produce, odd threads consume)");
    gen_t g;
    memset(&g, 0, sizeof g);
    wl_rng_seed(&g.rng, q->seed);
    g.dist = &q->sizes;
    g.cap = q->ops;
    size_t opslen = (size_t)q->ops * sizeof(wl_op_t);
    g.ops = wl_map(opslen);
    g.tids = wl_map((size_t)q->ops);
    int rc = 0;
    if (!g.ops || !g.tids) {
        g.err = ENOMEM;
    } else if (!strcmp(q->workload, "larson")) {
        gen_larson(&g, T, q->live);
    } else {
        if (g_grow_slots(&g, 1) == 0)
            gen_prodcons(&g, T, q->live);
    }
    if (g.err) {
        rc = gen_fail(&g, q, err, errlen);
        goto out;
    }
    uint64_t nops[WL_MAX_THREADS] = {0};
    for (uint64_t i = 0; i < g.n; i++)
        nops[g.tids[i]]++;
    if (wl_stream_layout(s, T, nops)) {
        rc = gen_fail(&g, q, err, errlen);
        goto out;
    }
    uint64_t at[WL_MAX_THREADS] = {0};
    for (uint64_t i = 0; i < g.n; i++) {
        uint8_t t = g.tids[i];
        s->thread[t].ops[at[t]++] = g.ops[i];
    }
    s->nslots = g.nslots;
    s->cross_thread = 1;
    if (wl_stream_facts(s, g.tids))
        rc = wl_fail(err, errlen, ENOMEM, "workload %s: out of memory", q->workload);
out:
    wl_unmap(g.ops, opslen);
    wl_unmap(g.tids, (size_t)q->ops);
    g_free_all(&g);
    if (rc)
        wl_stream_free(s);
    return rc;
}

static int gen_threads(const wl_params_t *q, unsigned user_set, wl_stream_t *s, char *err, size_t errlen) {
    uint32_t T = q->threads;
    uint64_t nops[WL_MAX_THREADS];
    for (uint32_t t = 0; t < T; t++)
        nops[t] = wl_share(q->ops, T, t);
    if (wl_stream_layout(s, T, nops))
        return wl_fail(err, errlen, ENOMEM, "workload %s: out of memory for %llu ops", q->workload,
                       (unsigned long long)q->ops);
    uint64_t base = 0;
    for (uint32_t t = 0; t < T; t++) {
        gen_t g;
        memset(&g, 0, sizeof g);
        wl_rng_seed(&g.rng, q->seed + (uint64_t)t * 0xD1B54A32D192ED03ull);
        g.dist = &q->sizes;
        g.ops = s->thread[t].ops;
        g.cap = nops[t];
        pol_t p;
        memset(&p, 0, sizeof p);
        p.kind = q->lifetime;
        uint64_t live = wl_share(q->live, T, t);
        /* Presets sized from ops are sized from this thread's own budget. */
        if (!(user_set & WL_SET_LIVE) && wl_preset_live(q->workload, 1))
            live = wl_preset_live(q->workload, nops[t]);
        if (!live)
            live = 1;
        p.live = live;
        const char *w = q->workload;
        if (!strcmp(w, "random") || !strcmp(w, "powerlaw"))
            gen_random(&g, &p, live);
        else if (!strcmp(w, "ramp"))
            gen_ramp(&g, &p, live);
        else if (!strcmp(w, "every-other"))
            gen_every_other(&g, live);
        else if (!strcmp(w, "small-objects"))
            gen_small_objects(&g, &p, live);
        else if (!strcmp(w, "realloc-grow"))
            gen_realloc_grow(&g, live);
        else if (!strcmp(w, "buffers"))
            gen_buffers(&g, &p, live);
        int e = g.err;
        if (!e && g.n != g.cap)
            e = EOVERFLOW;
        for (uint64_t i = 0; i < g.n; i++) {
            g.ops[i].slot += (uint32_t)base;
            if (g.ops[i].kind == WL_SLICE)
                g.ops[i].size += (uint64_t)base << 32; /* the parent's slot too */
        }
        base += g.nslots;
        if (base > (uint64_t)UINT32_MAX + 1)
            e = EOVERFLOW;
        int rc = e ? gen_fail(&g, q, err, errlen) : 0;
        wl_vec_free(&p.v);
        g_free_all(&g);
        if (rc) {
            wl_stream_free(s);
            return rc;
        }
    }
    s->nslots = base;
    s->cross_thread = 0;
    if (wl_stream_facts(s, NULL)) {
        wl_stream_free(s);
        return wl_fail(err, errlen, ENOMEM, "workload %s: out of memory", q->workload);
    }
    return 0;
}

int wl_generate(const wl_params_t *p, wl_stream_t *s, char *err, size_t errlen) {
    memset(s, 0, sizeof *s);
    if (!wl_find(p->workload))
        return wl_fail(err, errlen, EINVAL, "--workload: unknown workload '%s'; expected one of %s", p->workload,
                       wl_names());
    if (p->threads < 1 || p->threads > WL_MAX_THREADS)
        return wl_fail(err, errlen, EINVAL, "--threads: %u is out of range; expected a count from 1 to 64",
                       p->threads);
    if (p->ops < 1 || p->ops > WL_MAX_OPS)
        return wl_fail(err, errlen, EINVAL, "--ops: %llu is out of range; expected a count from 1 to 2^32",
                       (unsigned long long)p->ops);
    wl_params_t q;
    wl_params_resolve(p, &q);
    if (!strcmp(q.workload, "trace"))
        return wl_trace_load(&q, s, err, errlen);
    if (q.live < 1)
        return wl_fail(err, errlen, EINVAL, "--live: 0 is out of range; expected a count from 1 to 2^32");
    if (!strcmp(q.workload, "larson") || !strcmp(q.workload, "prodcons"))
        return gen_global(&q, s, err, errlen);
    return gen_threads(&q, p->set, s, err, errlen);
}
