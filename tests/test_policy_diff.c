/*
 * test_policy_diff.c - differential test of the policy allocators against
 * the naive reference (policy_ref.c): random request streams (malloc, free,
 * realloc, aligned) under several seeds and size distributions must give
 * the same offset for every allocation, the same statistics, the same heap
 * walk, and a heap that passes its checker.  Payloads carry a tag that must
 * survive until the free.
 *
 *   test_policy_diff          1e5+ requests per stream, checker every 2000 ops
 *   test_policy_diff debug    debug heaps (checker after every op), shorter
 */
#include "test.h"

#include "allocators/alloc.h"
#include "allocators/policy/policy.h"
#include "policy_ref.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const alloc_methods_t *m;
    ref_kind_t kind;
} policies[] = {
    {&alloc_firstfit_methods, REF_FIRSTFIT},
    {&alloc_bestfit_methods, REF_BESTFIT},
    {&alloc_nextfit_methods, REF_NEXTFIT},
    {&alloc_segregated_methods, REF_SEGREGATED},
};

typedef enum { DIST_UNIFORM, DIST_EXP, DIST_POW2 } dist_t;
static const char *const dist_names[] = {"uniform:0:256", "exp:128+large", "pow2:1:4096"};

static uint64_t rng_next(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static size_t draw_size(uint64_t *s, dist_t d) {
    uint64_t r = rng_next(s);
    switch (d) {
    case DIST_UNIFORM:
        return r % 257;
    case DIST_EXP:
        if (r % 100 == 0)
            return 4096 + (size_t)(rng_next(s) % (256 * 1024));
        return (size_t)(-128.0 * log(((double)(rng_next(s) >> 11) + 1.0) / 9007199254740993.0));
    case DIST_POW2:
        return (size_t)1 << (r % 13);
    }
    return 0;
}

typedef struct {
    char *p;
    size_t n;
    uint64_t tag;
} live_t;

static void tag_write(live_t *x) {
    if (x->n >= 8)
        memcpy(x->p, &x->tag, 8);
    if (x->n >= 16)
        memcpy(x->p + x->n - 8, &x->tag, 8);
}

static int tag_ok(const live_t *x, int head_only) {
    uint64_t a = x->tag, b = x->tag;
    if (x->n >= 8)
        memcpy(&a, x->p, 8);
    if (x->n >= 16 && !head_only)
        memcpy(&b, x->p + x->n - 8, 8);
    return a == x->tag && b == x->tag;
}

static void dump_ref(const ref_heap_t *r, uint64_t near) {
    size_t i = 0;
    while (i < r->n && r->b[i].off + r->b[i].size <= near)
        i++;
    size_t lo = i > 4 ? i - 4 : 0;
    printf("  reference blocks around offset %llu (rover %llu, footprint %llu):\n",
           (unsigned long long)near, (unsigned long long)r->rover, (unsigned long long)r->footprint);
    for (size_t k = lo; k < r->n && k < i + 5; k++)
        printf("    off %llu size %llu %s\n", (unsigned long long)r->b[k].off,
               (unsigned long long)r->b[k].size, r->b[k].free ? "free" : "used");
}

static int stats_match(const alloc_methods_t *m, void *h, const ref_heap_t *r, long op) {
    alloc_stats_t s;
    ref_stats_t e;
    alloc_stats(m, h, &s);
    ref_stats(r, &e);
    int ok = 1;
#define CMP(field, efield)                                                         \
    if ((uint64_t)s.field != e.efield) {                                           \
        printf("  op %ld: stats %s = %lld, reference %llu\n", op, #field,          \
               (long long)s.field, (unsigned long long)e.efield);                  \
        ok = 0;                                                                    \
    }
    /* the reported footprint is the blocks' F plus the allocator's metadata */
    s.footprint -= s.metadata_bytes;
    s.peak_footprint -= s.metadata_bytes;
    CMP(footprint, footprint)
    CMP(peak_footprint, peak_footprint)
    CMP(payload_at_peak_footprint, payload_at_peak)
    CMP(payload_bytes, payload)
    CMP(used_bytes, used_bytes)
    CMP(used_blocks, used_blocks)
    CMP(free_blocks, free_blocks)
    CMP(free_bytes, free_bytes)
    CMP(top_free_bytes, top_free)
    CMP(largest_free, largest_free)
#undef CMP
    if ((uint64_t)s.header_bytes != 8 * e.used_blocks) {
        printf("  op %ld: stats header_bytes = %lld, reference %llu (8 per used block)\n", op,
               (long long)s.header_bytes, (unsigned long long)(8 * e.used_blocks));
        ok = 0;
    }
    if (s.header_bytes + s.padding_bytes + s.payload_bytes != s.used_bytes) {
        printf("  op %ld: header + padding + payload != used\n", op);
        ok = 0;
    }
    return ok;
}

/* The heap walk (the dashboard's heap map) lists exactly the reference's
 * blocks: offset, size, used or free, in address order. */
typedef struct {
    const ref_heap_t *r;
    size_t i;
    long op;
    int ok;
} walk_cmp_t;

static int walk_cmp(void *ctx, uint64_t off, uint64_t size, int used) {
    walk_cmp_t *w = ctx;
    const ref_block_t *x = w->i < w->r->n ? &w->r->b[w->i] : NULL;
    if (!x || x->off != off || x->size != size || x->free == used) {
        printf("  op %ld: walk block %zu is (off %llu, size %llu, %s), reference ", w->op, w->i,
               (unsigned long long)off, (unsigned long long)size, used ? "used" : "free");
        if (x)
            printf("(off %llu, size %llu, %s)\n", (unsigned long long)x->off,
                   (unsigned long long)x->size, x->free ? "free" : "used");
        else
            printf("has no more blocks\n");
        w->ok = 0;
        return 1;
    }
    w->i++;
    return 0;
}

static int walk_matches(const alloc_methods_t *m, void *h, const ref_heap_t *r, long op) {
    walk_cmp_t w = {r, 0, op, 1};
    m->walk(h, walk_cmp, &w);
    if (w.ok && w.i != r->n) {
        printf("  op %ld: walk listed %zu blocks, reference %zu\n", op, w.i, r->n);
        w.ok = 0;
    }
    return w.ok;
}

/* One stream; returns 1 when the allocator and the reference agree. */
static int run_stream(int pi, dist_t dist, uint64_t seed, long ops, int debug, long check_every,
                      size_t chunk, size_t peak, long phase) {
    const alloc_methods_t *m = policies[pi].m;
    alloc_config_t cfg = {.reserve_bytes = (size_t)1 << 30, .chunk_bytes = chunk, .debug = debug};
    void *heap;
    if (alloc_init(m, &cfg, &heap) != 0) {
        printf("  %s: init failed\n", m->name);
        return 0;
    }
    char *base = ((pol_heap_t *)heap)->base;
    ref_heap_t ref;
    ref_init(&ref, policies[pi].kind, chunk, cfg.reserve_bytes);
    size_t cap = 8192, nlive = 0;
    live_t *live = malloc(cap * sizeof *live);
    uint64_t rs = seed * 1000003u + (uint64_t)pi * 7919u + (uint64_t)dist;
    int ok = 1;
    char err[256];
    long op;
    for (op = 0; op < ops && ok; op++) {
        /* phases ramp the live set up to `peak` and down to 30 */
        size_t target = (op / phase) % 2 ? 30 : peak;
        unsigned r = (unsigned)(rng_next(&rs) % 100);
        int do_alloc = nlive == 0 || (nlive < target ? r < 60 : r < 35);
        const char *what;
        size_t n = 0;
        int64_t expect;
        void *got;
        if (do_alloc && nlive && r % 10 == 0) { /* realloc a random live block */
            size_t v = (size_t)(rng_next(&rs) % nlive);
            n = draw_size(&rs, dist);
            what = "realloc";
            expect = ref_realloc(&ref, (uint64_t)(live[v].p - base), n);
            if (!tag_ok(&live[v], 0)) {
                printf("  op %ld: payload of a live block was overwritten\n", op);
                ok = 0;
                break;
            }
            got = m->realloc(heap, live[v].p, n);
            if (got) {
                size_t keep = n < live[v].n ? n : live[v].n;
                live[v].p = got;
                live[v].n = keep; /* old content is preserved up to keep */
                if (!tag_ok(&live[v], 1)) {
                    printf("  op %ld: realloc lost the payload\n", op);
                    ok = 0;
                }
                live[v].n = n;
                live[v].tag = (uint64_t)op;
                tag_write(&live[v]);
            }
        } else if (do_alloc && r % 10 == 1) { /* aligned: 16 (malloc) up to a page */
            size_t align = (size_t)16 << (rng_next(&rs) % 9);
            n = draw_size(&rs, dist);
            what = "aligned";
            expect = ref_aligned(&ref, align, n, (uint64_t)(uintptr_t)base);
            got = m->aligned(heap, align, n);
            if (got) {
                if ((uintptr_t)got % align) {
                    printf("  op %ld: aligned(%zu, %zu) = %p\n", op, align, n, got);
                    ok = 0;
                }
                if (nlive == cap)
                    live = realloc(live, (cap *= 2) * sizeof *live);
                live[nlive] = (live_t){got, n, (uint64_t)op};
                tag_write(&live[nlive]);
                nlive++;
            }
        } else if (do_alloc) {
            n = draw_size(&rs, dist);
            what = "malloc";
            expect = ref_malloc(&ref, n);
            got = m->malloc(heap, n);
            if (got) {
                if (nlive == cap)
                    live = realloc(live, (cap *= 2) * sizeof *live);
                live[nlive] = (live_t){got, n, (uint64_t)op};
                tag_write(&live[nlive]);
                nlive++;
            }
        } else {
            size_t v = (size_t)(rng_next(&rs) % nlive);
            what = "free";
            if (!tag_ok(&live[v], 0)) {
                printf("  op %ld: payload of a live block was overwritten\n", op);
                ok = 0;
                break;
            }
            ref_free(&ref, (uint64_t)(live[v].p - base));
            m->free(heap, live[v].p);
            live[v] = live[--nlive];
            got = NULL;
            expect = -1;
        }
        int64_t off = got ? (int64_t)((char *)got - base) : -1;
        if (off != expect) {
            printf("  %s %s seed %llu: op %ld %s(%zu): allocator gave offset %lld, reference %lld\n",
                   m->name, dist_names[dist], (unsigned long long)seed, op, what, n, (long long)off,
                   (long long)expect);
            dump_ref(&ref, expect >= 0 ? (uint64_t)expect : 0);
            ok = 0;
        }
        if (got && ((uintptr_t)got & 15)) {
            printf("  op %ld: pointer %p is not 16-byte aligned\n", op, got);
            ok = 0;
        }
        if (ok && (op + 1) % check_every == 0) {
            if (m->check(heap, err, sizeof err) != 0) {
                printf("  %s op %ld: heap check failed: %s\n", m->name, op, err);
                ok = 0;
            }
            if (!stats_match(m, heap, &ref, op) || !walk_matches(m, heap, &ref, op))
                ok = 0;
        }
    }
    /* free everything: memory goes back to the OS down to two chunks */
    while (ok && nlive) {
        nlive--;
        ref_free(&ref, (uint64_t)(live[nlive].p - base));
        m->free(heap, live[nlive].p);
    }
    if (ok) {
        if (m->check(heap, err, sizeof err) != 0) {
            printf("  %s at end: heap check failed: %s\n", m->name, err);
            ok = 0;
        }
        if (!stats_match(m, heap, &ref, op) || !walk_matches(m, heap, &ref, op))
            ok = 0;
        alloc_stats_t s;
        alloc_stats(m, heap, &s);
        s.footprint -= s.metadata_bytes; /* the blocks' F alone */
        if (s.footprint > (int64_t)(2 * chunk) || s.used_blocks != 0 || s.free_blocks != 0) {
            printf("  %s: empty heap keeps footprint %lld, %lld used, %lld holes\n", m->name,
                   (long long)s.footprint, (long long)s.used_blocks, (long long)s.free_blocks);
            ok = 0;
        }
    }
    free(live);
    ref_fini(&ref);
    alloc_fini(m, heap);
    return ok;
}

static int debug_mode;

static void run_policy(int pi) {
    long ops = debug_mode ? 6000 : 100000;
    long every = debug_mode ? 1 : 2000;
    for (int d = 0; d < 3; d++)
        for (uint64_t seed = 1; seed <= (debug_mode ? 1u : 2u); seed++) {
            size_t chunk = seed == 1 ? 64 * 1024 : 16 * 1024;
            /* debug streams keep the live set small so checking every op stays cheap */
            if (!run_stream(pi, (dist_t)d, seed, ops, debug_mode, every, chunk, 3000, 20000)) {
                TEST_FAIL_AT("%s %s seed %llu differs from the reference", policies[pi].m->name,
                             dist_names[d], (unsigned long long)seed);
                return;
            }
        }
}

/* A heap of about 8 MB (8,000 granules): the byte tree of firstfit and
 * nextfit has two levels below its root, so the bounds above the leaves
 * go stale at both and searches tighten them (index.c, mb_find_from). */
static void run_large(int pi) {
    if (!run_stream(pi, DIST_POW2, 3, debug_mode ? 30000 : 160000, debug_mode, debug_mode ? 1000 : 20000,
                    64 * 1024, 12000, 80000))
        TEST_FAIL_AT("%s on a large heap differs from the reference", policies[pi].m->name);
}

TEST(firstfit_matches_reference) { run_policy(0); }
TEST(firstfit_matches_reference_on_a_large_heap) { run_large(0); }
TEST(nextfit_matches_reference_on_a_large_heap) { run_large(2); }
TEST(bestfit_matches_reference) { run_policy(1); }
TEST(nextfit_matches_reference) { run_policy(2); }
TEST(segregated_matches_reference) { run_policy(3); }

int main(int argc, char **argv) {
    debug_mode = argc > 1 && strcmp(argv[1], "debug") == 0;
    RUN(firstfit_matches_reference);
    RUN(firstfit_matches_reference_on_a_large_heap);
    RUN(nextfit_matches_reference_on_a_large_heap);
    RUN(bestfit_matches_reference);
    RUN(nextfit_matches_reference);
    RUN(segregated_matches_reference);
    return test_report();
}
