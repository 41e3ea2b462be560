/*
 * test_workloads.c - the workloads module (wl.h): parameters and their
 * errors, determinism, validity of every named workload's stream, the
 * facts it reports, size distributions, lifetime orders and traces.
 */
#include "mmb_config.h"
#include "test.h"
#include "wl.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static const char *const named[] = {"random",       "ramp",    "every-other", "powerlaw", "small-objects",
                                    "realloc-grow", "larson",  "prodcons",    "buffers"};
#define NNAMED (sizeof named / sizeof named[0])

/* Parameters from "key=value" pairs; NULL-terminated. */
static int params(wl_params_t *p, const char *const *kv) {
    char err[512];
    wl_params_default(p);
    for (; *kv; kv++) {
        char key[64];
        const char *eq = strchr(*kv, '=');
        snprintf(key, sizeof key, "%.*s", (int)(eq - *kv), *kv);
        if (wl_params_set(p, key, eq + 1, err, sizeof err)) {
            printf("  params: %s\n", err);
            return -1;
        }
    }
    return 0;
}

static int generate(wl_stream_t *s, const char *const *kv) {
    wl_params_t p;
    char err[512];
    if (params(&p, kv))
        return -1;
    int rc = wl_generate(&p, s, err, sizeof err);
    if (rc)
        printf("  generate: %s\n", err);
    return rc;
}

/* What the last validate() saw of slices and consumed memory. */
static struct {
    uint64_t slices, consumes, outlived; /* outlived: parents freed while a slice of them lived */
    uint64_t max_blocks;
} vseen;

/* Replays s as the runner would (each thread in turn; an op of a
 * cross-thread stream waits until its slot has seen seq ops) and checks
 * every op against the slot's state (empty, block, slice, consumed).
 * Returns the number of problems and the live-byte peak of that replay in
 * *peak (exact for one thread); slices and consumed memory add nothing. */
enum { V_EMPTY, V_BLOCK, V_SLICE, V_CONSUMED };
static int validate(const wl_stream_t *s, uint64_t *peak, uint64_t *peak_index, uint64_t *final) {
    uint64_t n = s->nslots + 1;
    uint64_t *size = calloc(n, sizeof *size);
    uint32_t *done = calloc(n, sizeof *done);
    int32_t *owner = calloc(n, sizeof *owner);
    unsigned char *state = calloc(n, 1);
    uint32_t *gen = calloc(n, sizeof *gen);     /* fills of each slot */
    uint32_t *nsl = calloc(n, sizeof *nsl);     /* block: its slices alive */
    uint32_t *par = calloc(n, sizeof *par);     /* slice: its parent slot */
    uint32_t *pgen = calloc(n, sizeof *pgen);   /* slice: the parent's gen when sliced */
    uint64_t idx[WL_MAX_THREADS] = {0}, remaining = 0, live = 0, blocks = 0;
    int bad = 0;
    memset(&vseen, 0, sizeof vseen);
    *peak = 0;
    *peak_index = 0;
    for (uint32_t t = 0; t < s->nthreads; t++)
        remaining += s->thread[t].nops;
    for (uint64_t i = 0; i < n; i++)
        owner[i] = -1;
    while (remaining && bad < 5) {
        int progress = 0;
        for (uint32_t t = 0; t < s->nthreads; t++) {
            if (idx[t] >= s->thread[t].nops)
                continue;
            const wl_op_t *o = &s->thread[t].ops[idx[t]];
            if (o->slot >= s->nslots) {
                printf("  thread %u op %llu: slot %u >= nslots\n", t, (unsigned long long)idx[t], o->slot);
                bad++;
                idx[t]++, remaining--;
                continue;
            }
            if (s->cross_thread && o->seq != done[o->slot])
                continue; /* waits for its turn */
            if (!s->cross_thread) {
                if (owner[o->slot] >= 0 && owner[o->slot] != (int32_t)t) {
                    printf("  slot %u used by threads %d and %u\n", o->slot, owner[o->slot], t);
                    bad++;
                }
                owner[o->slot] = (int32_t)t;
            }
            uint32_t sl = o->slot;
            int fills = o->kind == WL_MALLOC || o->kind == WL_SLICE || o->kind == WL_CONSUME;
            int full = state[sl] != V_EMPTY;
            if (o->kind > WL_CONSUME || (fills ? full : !full) ||
                (o->kind == WL_REALLOC && state[sl] != V_BLOCK)) {
                printf("  thread %u op %llu: kind %u on a slot that is %s\n", t, (unsigned long long)idx[t],
                       o->kind, full ? "full" : "empty");
                bad++;
            }
            if (o->kind != WL_SLICE && (o->size == 0 || o->size > WL_MAX_SIZE)) {
                printf("  size %llu out of range\n", (unsigned long long)o->size);
                bad++;
            }
            if (o->kind == WL_FREE && o->size != size[sl]) {
                printf("  free carries size %llu, slot has %llu\n", (unsigned long long)o->size,
                       (unsigned long long)size[sl]);
                bad++;
            }
            switch (o->kind) {
            case WL_MALLOC:
            case WL_REALLOC:
                blocks += o->kind == WL_MALLOC;
                live = live - size[sl] + o->size;
                size[sl] = o->size;
                if (o->kind == WL_MALLOC) {
                    state[sl] = V_BLOCK;
                    gen[sl]++;
                    nsl[sl] = 0;
                }
                break;
            case WL_SLICE: {
                uint32_t pa = wl_slice_parent(o), len = wl_slice_len(o);
                vseen.slices++;
                if (s->cross_thread || pa >= s->nslots || state[pa] != V_BLOCK || len == 0 || len > size[pa] ||
                    (!s->cross_thread && owner[pa] != (int32_t)t)) {
                    printf("  thread %u op %llu: slice of %u bytes of slot %u (state %d, %llu bytes)\n", t,
                           (unsigned long long)idx[t], len, pa, pa < s->nslots ? state[pa] : -1,
                           pa < s->nslots ? (unsigned long long)size[pa] : 0ull);
                    bad++;
                    break;
                }
                state[sl] = V_SLICE;
                size[sl] = len;
                par[sl] = pa;
                pgen[sl] = gen[pa];
                nsl[pa]++;
                break;
            }
            case WL_CONSUME:
                vseen.consumes++;
                if (s->cross_thread) {
                    printf("  consume in a cross-thread stream\n");
                    bad++;
                }
                state[sl] = V_CONSUMED;
                size[sl] = o->size;
                break;
            case WL_FREE:
                if (state[sl] == V_BLOCK) {
                    live -= size[sl];
                    blocks--;
                    if (nsl[sl])
                        vseen.outlived++;
                    nsl[sl] = 0;
                } else if (state[sl] == V_SLICE) {
                    if (gen[par[sl]] == pgen[sl] && state[par[sl]] == V_BLOCK)
                        nsl[par[sl]]--;
                }
                state[sl] = V_EMPTY;
                size[sl] = 0;
                break;
            }
            if (blocks > vseen.max_blocks)
                vseen.max_blocks = blocks;
            if (live > *peak) {
                *peak = live;
                *peak_index = idx[t];
            }
            done[o->slot]++;
            idx[t]++, remaining--;
            progress = 1;
        }
        if (!progress) {
            printf("  deadlock with %llu ops left\n", (unsigned long long)remaining);
            bad++;
            break;
        }
    }
    *final = live;
    free(size);
    free(done);
    free(owner);
    free(state);
    free(gen);
    free(nsl);
    free(par);
    free(pgen);
    return bad;
}

TEST(same_params_give_the_same_hash_and_other_seeds_another) {
    for (size_t i = 0; i < NNAMED; i++) {
        char w[80];
        snprintf(w, sizeof w, "workload=%s", named[i]);
        wl_stream_t a, b, c;
        ASSERT_TRUE(generate(&a, (const char *[]){w, "ops=20000", "live=500", NULL}) == 0);
        ASSERT_TRUE(generate(&b, (const char *[]){w, "ops=20000", "live=500", NULL}) == 0);
        ASSERT_TRUE(generate(&c, (const char *[]){w, "ops=20000", "live=500", "seed=43", NULL}) == 0);
        EXPECT_EQ(a.hash, b.hash);
        EXPECT_EQ(a.total_ops, b.total_ops);
        EXPECT_EQ(a.peak_live_bytes, b.peak_live_bytes);
        if (a.hash == c.hash)
            printf("  %s: seed 42 and 43 give the same hash\n", named[i]);
        EXPECT_NE(a.hash, c.hash);
        EXPECT_TRUE(memcmp(a.mem, b.mem, a.mem_len) == 0);
        wl_stream_free(&a);
        wl_stream_free(&b);
        wl_stream_free(&c);
    }
}

static void check_workload(const char *name, const char *threads, const char *ops, const char *live) {
    char w[80], t[32], o[32], l[32];
    snprintf(w, sizeof w, "workload=%s", name);
    snprintf(t, sizeof t, "threads=%s", threads);
    snprintf(o, sizeof o, "ops=%s", ops);
    snprintf(l, sizeof l, "live=%s", live);
    wl_stream_t s;
    const char *kv[5] = {w, o, NULL, NULL, NULL};
    int k = 2;
    if (*threads)
        kv[k++] = t;
    if (*live)
        kv[k++] = l;
    ASSERT_TRUE(generate(&s, kv) == 0);
    uint64_t peak, pidx, final;
    int bad = validate(&s, &peak, &pidx, &final);
    if (bad)
        printf("  %s threads=%s: %d problems\n", name, threads, bad);
    EXPECT_EQ(bad, 0);
    uint64_t n = strtoull(ops, NULL, 10);
    EXPECT_EQ(s.total_ops, n);
    uint64_t sum = 0;
    for (uint32_t i = 0; i < s.nthreads; i++)
        sum += s.thread[i].nops;
    EXPECT_EQ(sum, n);
    if (s.nthreads == 1) {
        EXPECT_EQ(s.peak_live_bytes, peak);
        EXPECT_EQ(s.peak_index, pidx);
    } else {
        EXPECT_GE(s.peak_live_bytes, s.final_live_bytes);
    }
    EXPECT_EQ(s.final_live_bytes, final);
    EXPECT_GT(s.peak_live_blocks, 0);
    int multi = !strcmp(name, "larson") || !strcmp(name, "prodcons");
    EXPECT_EQ(s.cross_thread, multi);
    if (multi && !*threads)
        EXPECT_EQ(s.nthreads, 4);
    wl_stream_free(&s);
}

TEST(every_named_workload_gives_a_valid_stream_of_ops_requests) {
    for (size_t i = 0; i < NNAMED; i++) {
        check_workload(named[i], "", "50000", "");
        check_workload(named[i], "", "30001", "700");
        check_workload(named[i], "3", "30001", "700");
        check_workload(named[i], "2", "7", "3");
    }
}

TEST(buffers_slices_outlive_their_parents_and_consume_external_memory) {
    wl_stream_t s;
    ASSERT_TRUE(generate(&s, (const char *[]){"workload=buffers", "ops=50000", NULL}) == 0);
    uint64_t peak, pidx, final;
    EXPECT_EQ(validate(&s, &peak, &pidx, &final), 0);
    printf("  buffers: %llu slices, %llu outlived their parent's handle, %llu consumes\n",
           (unsigned long long)vseen.slices, (unsigned long long)vseen.outlived,
           (unsigned long long)vseen.consumes);
    EXPECT_GT(vseen.slices, 100);
    EXPECT_GT(vseen.outlived, 50);
    EXPECT_GT(vseen.consumes, 5);
    uint64_t nslice = 0, ncons = 0, consumed = 0, reallocs = 0;
    for (uint64_t i = 0; i < s.thread[0].nops; i++) {
        const wl_op_t *o = &s.thread[0].ops[i];
        nslice += o->kind == WL_SLICE;
        reallocs += o->kind == WL_REALLOC;
        if (o->kind == WL_CONSUME) {
            ncons++;
            consumed += o->size;
            EXPECT_GE(o->size, 256u << 10);
            EXPECT_LE(o->size, 4u << 20);
        }
    }
    EXPECT_EQ(nslice, vseen.slices);
    EXPECT_EQ(ncons, vseen.consumes);
    EXPECT_GT(reallocs, 10000);
    /* L counts neither slices nor consumed memory */
    EXPECT_EQ(s.peak_live_bytes, peak);
    EXPECT_LT(s.peak_live_bytes, consumed);
    EXPECT_EQ(s.peak_live_blocks <= vseen.max_blocks, 1);
    wl_stream_free(&s);
    /* more threads: each its own slots, parents renumbered with them */
    ASSERT_TRUE(generate(&s, (const char *[]){"workload=buffers", "ops=30000", "threads=3", NULL}) == 0);
    EXPECT_EQ(validate(&s, &peak, &pidx, &final), 0);
    EXPECT_GT(vseen.outlived, 10);
    wl_stream_free(&s);
}

TEST(peak_is_where_the_recount_says_for_one_thread) {
    wl_stream_t s;
    ASSERT_TRUE(generate(&s, (const char *[]){"workload=ramp", "ops=1000", "live=100", NULL}) == 0);
    /* ramp: 100 mallocs, 100 frees, ... the first peak is after op 99. */
    EXPECT_EQ(s.peak_index, 99);
    EXPECT_EQ(s.peak_live_blocks, 100);
    EXPECT_EQ(s.final_live_bytes, 0);
    wl_stream_free(&s);
}

TEST(ramp_up_ends_where_the_block_count_first_peaks) {
    wl_stream_t s;
    /* random: 500 mallocs fill to --live, then free and malloc in turn, so
     * the count is 500 after op 499 and never more */
    ASSERT_TRUE(generate(&s, (const char *[]){"ops=20000", "live=500", NULL}) == 0);
    EXPECT_EQ(s.max_live_blocks, 500);
    EXPECT_EQ(s.ramp_index, 499);
    wl_stream_free(&s);
    /* ramp: the first of its peaks (100 blocks after op 99; later peaks tie) */
    ASSERT_TRUE(generate(&s, (const char *[]){"workload=ramp", "ops=1000", "live=100", NULL}) == 0);
    EXPECT_EQ(s.max_live_blocks, 100);
    EXPECT_EQ(s.ramp_index, 99);
    wl_stream_free(&s);
}

static void sizes_of(const char *dist, uint64_t *lo, uint64_t *hi, uint64_t *seen, uint64_t nseen) {
    char d[160];
    snprintf(d, sizeof d, "sizes=%s", dist);
    wl_stream_t s;
    *lo = UINT64_MAX, *hi = 0;
    ASSERT_TRUE(generate(&s, (const char *[]){"ops=20000", "live=1000", d, NULL}) == 0);
    for (uint64_t i = 0; i < s.thread[0].nops; i++) {
        const wl_op_t *o = &s.thread[0].ops[i];
        if (o->kind != WL_MALLOC)
            continue;
        *lo = o->size < *lo ? o->size : *lo;
        *hi = o->size > *hi ? o->size : *hi;
        for (uint64_t k = 0; k < nseen; k++)
            if (seen[2 * k] == o->size)
                seen[2 * k + 1]++;
    }
    wl_stream_free(&s);
}

TEST(sizes_stay_within_each_distributions_bounds) {
    uint64_t lo, hi;
    sizes_of("uniform:100:200", &lo, &hi, NULL, 0);
    EXPECT_EQ(lo, 100);
    EXPECT_EQ(hi, 200);
    sizes_of("uniform:4k:4k", &lo, &hi, NULL, 0);
    EXPECT_EQ(lo, 4096);
    EXPECT_EQ(hi, 4096);
    sizes_of("exp:64", &lo, &hi, NULL, 0);
    EXPECT_GE(lo, 1);
    EXPECT_GT(hi, 64 * 4);
    EXPECT_LE(hi, 64 * 40);
    sizes_of("lognormal:5:1", &lo, &hi, NULL, 0);
    EXPECT_GE(lo, 1);
    EXPECT_GT(hi, 148 * 8);
    sizes_of("lognormal:27:5", &lo, &hi, NULL, 0); /* clamped at the top */
    EXPECT_EQ(hi, WL_MAX_SIZE);
    sizes_of("pareto:16:64M:1.1", &lo, &hi, NULL, 0);
    EXPECT_GE(lo, 16);
    EXPECT_LE(hi, 64 << 20);
    EXPECT_GT(hi, 4096);
    uint64_t set[] = {24, 0, 1000, 0, 1ull << 40, 0};
    sizes_of("set:24,1000,1T", &lo, &hi, set, 3);
    EXPECT_EQ(lo, 24);
    EXPECT_EQ(hi, 1ull << 40);
    EXPECT_EQ(set[1] + set[3] + set[5], 10500); /* 1000 to fill, then 9500 */
    EXPECT_GT(set[1], 3000);
    EXPECT_GT(set[3], 3000);
    EXPECT_GT(set[5], 3000);
    uint64_t p2[] = {64, 0, 128, 0, 256, 0, 512, 0};
    sizes_of("pow2:33:1000", &lo, &hi, p2, 4);
    EXPECT_EQ(lo, 64);
    EXPECT_EQ(hi, 512);
    EXPECT_EQ(p2[1] + p2[3] + p2[5] + p2[7], 10500);
    for (int k = 0; k < 4; k++)
        EXPECT_GT(p2[2 * k + 1], 2000);
}

/* set:A,B,C takes up to WL_SET_MAX values however they are spelled: 32
 * sizes of 13 digits each, recorded whole; a 33rd value is refused as such */
TEST(a_set_takes_32_values_written_in_full_digits) {
    char d[600], json[1024], err[512];
    size_t n = (size_t)snprintf(d, sizeof d, "set:");
    for (int i = 0; i < WL_SET_MAX; i++)
        n += (size_t)snprintf(d + n, sizeof d - n, "%s%llu", i ? "," : "",
                              (unsigned long long)(WL_MAX_SIZE - (uint64_t)i));
    wl_params_t p;
    wl_params_default(&p);
    int rc = wl_params_set(&p, "sizes", d, err, sizeof err);
    if (rc)
        printf("  %s\n", err);
    ASSERT_TRUE(rc == 0);
    EXPECT_EQ(p.sizes.nset, WL_SET_MAX);
    EXPECT_EQ(p.sizes.set[WL_SET_MAX - 1], WL_MAX_SIZE - (WL_SET_MAX - 1));
    EXPECT_STREQ(p.sizes.text, d);
    wl_params_json(&p, json, sizeof json);
    EXPECT_TRUE(strstr(json, d) != NULL);
    snprintf(d + n, sizeof d - n, ",4096");
    EXPECT_EQ(wl_params_set(&p, "sizes", d, err, sizeof err), EINVAL);
    EXPECT_TRUE(strstr(err, "more than 32 values") != NULL);
}

/* Malloc order of each live slot: fifo frees the oldest, lifo the newest. */
static void check_order(const char *lifetime, int oldest) {
    char l[40];
    snprintf(l, sizeof l, "lifetime=%s", lifetime);
    wl_stream_t s;
    ASSERT_TRUE(generate(&s, (const char *[]){"ops=20000", "live=300", l, NULL}) == 0);
    uint64_t *born = calloc(s.nslots, sizeof *born);
    uint64_t clock = 0, nfree = 0, wrong = 0;
    /* The live objects' birth times, kept in a sorted array (small). */
    uint64_t *alive = calloc(s.nslots + 1, sizeof *alive), nalive = 0;
    for (uint64_t i = 0; i < s.thread[0].nops; i++) {
        const wl_op_t *o = &s.thread[0].ops[i];
        if (o->kind == WL_MALLOC) {
            born[o->slot] = ++clock;
            alive[nalive++] = clock; /* clocks increase: stays sorted */
        } else if (o->kind == WL_FREE) {
            uint64_t want = oldest ? alive[0] : alive[nalive - 1];
            wrong += born[o->slot] != want;
            nfree++;
            uint64_t k = 0;
            while (alive[k] != born[o->slot])
                k++;
            memmove(&alive[k], &alive[k + 1], (nalive - k - 1) * sizeof *alive);
            nalive--;
        }
    }
    EXPECT_GT(nfree, 9000);
    EXPECT_EQ(wrong, 0);
    free(born);
    free(alive);
    wl_stream_free(&s);
}

TEST(fifo_frees_the_oldest_and_lifo_the_newest) {
    check_order("fifo", 1);
    check_order("lifo", 0);
}

TEST(uniform_lifetime_is_valid_and_differs_from_exp) {
    wl_stream_t a, b;
    ASSERT_TRUE(generate(&a, (const char *[]){"ops=20000", "live=300", "lifetime=uniform", NULL}) == 0);
    ASSERT_TRUE(generate(&b, (const char *[]){"ops=20000", "live=300", "lifetime=exp", NULL}) == 0);
    uint64_t peak, pidx, final;
    EXPECT_EQ(validate(&a, &peak, &pidx, &final), 0);
    EXPECT_NE(a.hash, b.hash);
    wl_stream_free(&a);
    wl_stream_free(&b);
}

TEST(bad_parameters_are_einval_with_a_sentence_naming_the_parameter) {
    static const char *const cases[][3] = {
        {"ops", "0", "--ops"},           {"ops", "-5", "--ops"},
        {"ops", "5000000000", "--ops"},  {"ops", "12x", "--ops"},
        {"ops", "", "--ops"},            {"ops", "1.5", "--ops"},
        {"seed", "-1", "--seed"},        {"threads", "0", "--threads"},
        {"threads", "65", "--threads"},  {"live", "0", "--live"},
        {"live", "abc", "--live"},       {"sizes", "uniform:512:16", "MIN > MAX"},
        {"sizes", "uniform:0:16", "--sizes"}, {"sizes", "uniform:1:2T", "--sizes"},
        {"sizes", "uniform:16", "--sizes"}, {"sizes", "exp:0", "--sizes"},
        {"sizes", "exp:x", "--sizes"},   {"sizes", "lognormal:5", "--sizes"},
        {"sizes", "lognormal:5:-1", "--sizes"}, {"sizes", "set:", "--sizes"},
        {"sizes", "set:1,0", "--sizes"}, {"sizes", "pow2:65:127", "--sizes"},
        {"sizes", "zipf:1", "uniform:MIN:MAX"}, {"sizes", "uniform", "--sizes"},
        {"lifetime", "forever", "fifo"}, {"touch", "some", "page"},
        {"workload", "nope", "powerlaw"}, {"workload", "trace:", "--workload"},
        {"workload", "trace", "--workload"}, {"colour", "red", "colour"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        wl_params_t p;
        char err[512] = "";
        wl_params_default(&p);
        int rc = wl_params_set(&p, cases[i][0], cases[i][1], err, sizeof err);
        if (rc != EINVAL || !strstr(err, cases[i][2]) || !strstr(err, cases[i][0]))
            printf("  %s=%s -> %d \"%s\"\n", cases[i][0], cases[i][1], rc, err);
        EXPECT_EQ(rc, EINVAL);
        EXPECT_TRUE(strstr(err, cases[i][2]) != NULL);
        EXPECT_TRUE(strstr(err, cases[i][0]) != NULL);
    }
    char err[512];
    wl_params_t p;
    wl_params_default(&p);
    EXPECT_EQ(wl_params_set(&p, "sizes", "uniform:512:16", err, sizeof err), EINVAL);
    EXPECT_STREQ(err, "--sizes: 'uniform:512:16' has MIN > MAX; expected uniform:MIN:MAX with 1 <= MIN <= MAX");
    EXPECT_EQ(wl_params_set(&p, "workload", "prodcons", err, sizeof err), 0);
    EXPECT_EQ(wl_params_set(&p, "threads", "1", err, sizeof err), 0);
    wl_stream_t s;
    EXPECT_EQ(wl_generate(&p, &s, err, sizeof err), EINVAL);
    EXPECT_TRUE(strstr(err, "--threads") != NULL);
}

TEST(numbers_accept_suffixes_and_scientific_notation) {
    wl_params_t p;
    char err[512];
    wl_params_default(&p);
    EXPECT_EQ(wl_params_set(&p, "ops", "1e6", err, sizeof err), 0);
    EXPECT_EQ(p.ops, 1000000);
    EXPECT_EQ(wl_params_set(&p, "ops", "10k", err, sizeof err), 0);
    EXPECT_EQ(p.ops, 10000);
    EXPECT_EQ(wl_params_set(&p, "ops", "4M", err, sizeof err), 0);
    EXPECT_EQ(p.ops, 4000000);
    EXPECT_EQ(wl_params_set(&p, "ops", "1G", err, sizeof err), 0);
    EXPECT_EQ(p.ops, 1000000000);
    EXPECT_EQ(wl_params_set(&p, "ops", "4294967296", err, sizeof err), 0);
    EXPECT_EQ(wl_params_set(&p, "sizes", "uniform:4k:1M", err, sizeof err), 0);
    EXPECT_EQ(p.sizes.a, 4096);
    EXPECT_EQ(p.sizes.b, 1 << 20);
    EXPECT_EQ(wl_params_set(&p, "sizes", "exp:1.5k", err, sizeof err), 0);
    EXPECT_EQ(p.sizes.a, 1536);
    EXPECT_EQ(p.set, WL_SET_OPS | WL_SET_SIZES);
}

TEST(json_records_the_resolved_parameters) {
    wl_params_t p;
    char err[512], buf[2048];
    wl_params_default(&p);
    EXPECT_EQ(wl_params_set(&p, "workload", "larson", err, sizeof err), 0);
    size_t n = wl_params_json(&p, buf, sizeof buf);
    EXPECT_EQ(n, strlen(buf));
    EXPECT_STREQ(buf, "{\"workload\":\"larson\",\"ops\":1000000,\"seed\":42,\"threads\":4,"
                      "\"sizes\":\"uniform:16:512\",\"live\":10000,\"lifetime\":null,\"touch\":\"page\","
                      "\"trace\":null}");
    EXPECT_EQ(wl_params_set(&p, "workload", "trace:a\"b.txt", err, sizeof err), 0);
    wl_params_json(&p, buf, sizeof buf);
    EXPECT_TRUE(strstr(buf, "\"trace\":\"a\\\"b.txt\"") != NULL);
    EXPECT_TRUE(wl_find("trace:x") != NULL);
    EXPECT_EQ(wl_count(), 10);
    EXPECT_STREQ(wl_find("larson")->name, "larson");
    EXPECT_EQ(wl_find("larson")->multi_threaded, 1);
}

/* wl.h: passing the resolved parameters back (all set) generates the
 * identical stream, and the recorded live is the sum of the threads' own:
 * ramp and every-other size each thread from its own share of ops. */
/* wl_uses_lifetime says which streams --lifetime changes: the others record
 * none, so it must not change them */
TEST(lifetime_changes_exactly_the_streams_that_record_it) {
    for (size_t i = 0; i < NNAMED; i++) {
        char w[80], err[512];
        snprintf(w, sizeof w, "workload=%s", named[i]);
        wl_params_t p, q;
        wl_stream_t a, b;
        ASSERT_TRUE(params(&p, (const char *[]){w, "ops=20000", "live=500", "lifetime=exp", NULL}) == 0);
        ASSERT_TRUE(params(&q, (const char *[]){w, "ops=20000", "live=500", "lifetime=lifo", NULL}) == 0);
        ASSERT_TRUE(wl_generate(&p, &a, err, sizeof err) == 0);
        ASSERT_TRUE(wl_generate(&q, &b, err, sizeof err) == 0);
        if ((a.hash != b.hash) != wl_uses_lifetime(named[i]))
            printf("  %s: --lifetime %s the stream\n", named[i], a.hash != b.hash ? "changes" : "does not change");
        EXPECT_EQ(a.hash != b.hash, wl_uses_lifetime(named[i]));
        wl_stream_free(&a);
        wl_stream_free(&b);
    }
}

TEST(resolved_parameters_generate_the_same_stream) {
    static const char *const ops[] = {"1000", "1001", "997", "7", "12345"};
    for (size_t i = 0; i < NNAMED; i++)
        for (size_t o = 0; o < sizeof ops / sizeof ops[0]; o++)
            for (uint32_t t = 1; t <= 5; t++) {
                if (!strcmp(named[i], "prodcons") && t < 2)
                    continue;
                char w[80], n[32], th[32], err[512];
                snprintf(w, sizeof w, "workload=%s", named[i]);
                snprintf(n, sizeof n, "ops=%s", ops[o]);
                snprintf(th, sizeof th, "threads=%u", t);
                wl_params_t p, r;
                wl_stream_t a, b;
                ASSERT_TRUE(params(&p, (const char *[]){w, n, th, NULL}) == 0);
                ASSERT_TRUE(wl_generate(&p, &a, err, sizeof err) == 0);
                wl_params_resolve(&p, &r);
                r.set = WL_SET_OPS | WL_SET_SEED | WL_SET_THREADS | WL_SET_SIZES | WL_SET_LIVE | WL_SET_LIFETIME |
                        WL_SET_TOUCH;
                ASSERT_TRUE(wl_generate(&r, &b, err, sizeof err) == 0);
                if (a.hash != b.hash)
                    printf("  %s ops=%s threads=%u: resolved live %llu gives another stream\n", named[i], ops[o], t,
                           (unsigned long long)r.live);
                EXPECT_EQ(a.hash, b.hash);
                wl_stream_free(&a);
                wl_stream_free(&b);
            }
    /* ramp, 1000 ops in 3 threads: 334 + 333 + 333 ops, live 167 + 166 + 166 */
    wl_params_t p, r;
    ASSERT_TRUE(params(&p, (const char *[]){"workload=ramp", "ops=1000", "threads=3", NULL}) == 0);
    wl_params_resolve(&p, &r);
    EXPECT_EQ(r.live, 499);
    ASSERT_TRUE(params(&p, (const char *[]){"workload=every-other", "ops=1000", "threads=3", NULL}) == 0);
    wl_params_resolve(&p, &r);
    EXPECT_EQ(r.live, 399); /* 133 + 133 + 133 */
    ASSERT_TRUE(params(&p, (const char *[]){"workload=ramp", "ops=1001", NULL}) == 0);
    wl_params_resolve(&p, &r);
    EXPECT_EQ(r.live, 500);
}

TEST(trace_fixture_replays_with_dense_slots) {
    wl_stream_t s;
    ASSERT_TRUE(generate(&s, (const char *[]){"workload=trace:" MMB_TEST_DATA "/sparse.trace", NULL}) == 0);
    static const struct { unsigned kind, slot; uint64_t size; } want[] = {
        {WL_MALLOC, 0, 100}, {WL_MALLOC, 1, 32}, {WL_REALLOC, 0, 300}, {WL_MALLOC, 2, 16},
        {WL_FREE, 1, 32},    {WL_MALLOC, 1, 64}, {WL_FREE, 0, 300},    {WL_REALLOC, 2, 8},
    };
    ASSERT_TRUE(s.thread[0].nops == 8);
    for (int i = 0; i < 8; i++) {
        EXPECT_EQ(s.thread[0].ops[i].kind, want[i].kind);
        EXPECT_EQ(s.thread[0].ops[i].slot, want[i].slot);
        EXPECT_EQ(s.thread[0].ops[i].size, want[i].size);
    }
    EXPECT_EQ(s.nslots, 3);
    EXPECT_EQ(s.peak_live_bytes, 380); /* 100 132 332 348 316 380 80 72 */
    EXPECT_EQ(s.peak_index, 5);
    EXPECT_EQ(s.peak_live_blocks, 3);
    EXPECT_EQ(s.final_live_bytes, 72);
    wl_stream_free(&s);
    ASSERT_TRUE(generate(&s, (const char *[]){"workload=trace:" MMB_TEST_DATA "/sparse.trace", "threads=2",
                                              NULL}) == 0);
    EXPECT_EQ(s.total_ops, 16);
    EXPECT_EQ(s.nslots, 6);
    EXPECT_EQ(s.thread[1].ops[3].slot, 5);
    wl_stream_free(&s);
}

static char *temp_trace(const char *text);

TEST(trace_slices_and_consumes_replay_and_round_trip) {
    /* slot 7 is a block, 3 and 9 slice it, 7 goes first, 5 is external */
    char *path = temp_trace("a 7 100\n"
                            "s 3 7 40\n"
                            "c 5 65536   # external\n"
                            "s 9 7 100\n"
                            "f 7\n"
                            "a 7 20\n"
                            "f 3\n"
                            "f 5\n");
    ASSERT_TRUE(path && *path);
    char t[128];
    snprintf(t, sizeof t, "workload=trace:%s", path);
    wl_stream_t s;
    ASSERT_TRUE(generate(&s, (const char *[]){t, NULL}) == 0);
    static const struct { unsigned kind, slot; uint64_t size; } want[] = {
        {WL_MALLOC, 0, 100}, {WL_SLICE, 1, 40}, {WL_CONSUME, 2, 65536}, {WL_SLICE, 3, 100},
        {WL_FREE, 0, 100},   {WL_MALLOC, 0, 20}, {WL_FREE, 1, 40},      {WL_FREE, 2, 65536},
    };
    ASSERT_TRUE(s.thread[0].nops == 8);
    for (int i = 0; i < 8; i++) {
        const wl_op_t *o = &s.thread[0].ops[i];
        EXPECT_EQ(o->kind, want[i].kind);
        EXPECT_EQ(o->slot, want[i].slot);
        if (o->kind == WL_SLICE) {
            EXPECT_EQ(wl_slice_len(o), want[i].size);
            EXPECT_EQ(wl_slice_parent(o), 0);
        } else {
            EXPECT_EQ(o->size, want[i].size);
        }
    }
    EXPECT_EQ(s.nslots, 4);
    EXPECT_EQ(s.peak_live_bytes, 100); /* 100 100 100 100 0 20 20 20 */
    EXPECT_EQ(s.peak_index, 0);
    EXPECT_EQ(s.peak_live_blocks, 1);
    EXPECT_EQ(s.final_live_bytes, 20);
    uint64_t peak, pidx, final;
    EXPECT_EQ(validate(&s, &peak, &pidx, &final), 0);
    EXPECT_EQ(vseen.outlived, 1);
    /* the writer gives the same lines back */
    FILE *f = tmpfile();
    ASSERT_TRUE(f != NULL);
    for (int i = 0; i < 8; i++)
        EXPECT_EQ(wl_trace_write_op(f, &s.thread[0].ops[i]), 0);
    rewind(f);
    char buf[256];
    size_t got = fread(buf, 1, sizeof buf - 1, f);
    buf[got] = 0;
    fclose(f);
    EXPECT_STREQ(buf, "a 0 100\ns 1 0 40\nc 2 65536\ns 3 0 100\nf 0\na 0 20\nf 1\nf 2\n");
    wl_stream_free(&s);
    /* two threads: the second copy's parent is renumbered with its slots */
    ASSERT_TRUE(generate(&s, (const char *[]){t, "threads=2", NULL}) == 0);
    EXPECT_EQ(s.thread[1].ops[1].slot, 5);
    EXPECT_EQ(wl_slice_parent(&s.thread[1].ops[1]), 4);
    EXPECT_EQ(validate(&s, &peak, &pidx, &final), 0);
    wl_stream_free(&s);
    unlink(path);
}

static void expect_trace_error(const char *path, const char *want) {
    wl_params_t p;
    char err[512] = "", v[600];
    wl_params_default(&p);
    snprintf(v, sizeof v, "trace:%s", path);
    ASSERT_TRUE(wl_params_set(&p, "workload", v, err, sizeof err) == 0);
    wl_stream_t s;
    int rc = wl_generate(&p, &s, err, sizeof err);
    EXPECT_NE(rc, 0);
    if (!strstr(err, want))
        printf("  got \"%s\", want \"%s\"\n", err, want);
    EXPECT_TRUE(strstr(err, want) != NULL);
}

static char *temp_trace(const char *text) {
    static char path[64];
    snprintf(path, sizeof path, "/tmp/wl_test_XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0)
        return NULL;
    if (write(fd, text, strlen(text)) < 0)
        path[0] = '\0';
    close(fd);
    return path;
}

TEST(malformed_traces_report_file_and_line) {
    expect_trace_error(MMB_TEST_DATA "/bad_free_empty.trace",
                       "bad_free_empty.trace:5: free of slot 5 which is empty");
    expect_trace_error(MMB_TEST_DATA "/bad_syntax.trace", "bad_syntax.trace:5: size '0'");
    expect_trace_error(MMB_TEST_DATA "/missing.trace", "missing.trace: cannot open");
    static const char *const cases[][2] = {
        {"a 1 10\na 1 10\n", ":2: allocation into slot 1 which is full"},
        {"a 1 10\nr 2 10\n", ":2: realloc of slot 2 which is empty"},
        {"\n\n# x\nq 1\n", ":4: unknown operation 'q'"},
        {"a 1\n", ":1: 'a 1' has 2 fields; expected 'a SLOT SIZE'"},
        {"f\n", ":1: 'f' has 1 field; expected 'f SLOT'"},
        {"a 4294967296 8\n", ":1: slot '4294967296'"},
        {"a 1 1099511627777\n", ":1: size '1099511627777'"},
        {"f 1 2\n", ":1: 'f 1 2' has 3 fields"},
        {"a 2 20 and three more\n", ":1: 'a 2 20 and three more' has 6 fields; expected 'a SLOT SIZE'"},
        {"# nothing\n\n", "has no operations"},
        {"a 1 10\nf 1\nf 1", ":3: free of slot 1 which is empty"},
        {"s 1 2 8\n", ":1: slice of slot 2 which is empty"},
        {"a 2 10\ns 1 2 11\n", ":2: slice length '11' is not a number from 1 to 10"},
        {"a 2 10\ns 1 2 0\n", ":2: slice length '0'"},
        {"a 2 10\ns 1 2 5\ns 3 1 2\n", ":3: slice of slot 1 which holds a slice"},
        {"a 2 10\ns 2 2 5\n", ":2: slice into slot 2 which is full"},
        {"a 2 10\ns 1 2\n", ":2: 's 1 2' has 3 fields; expected 's SLOT PARENT LEN'"},
        {"c 1 4096\nr 1 10\n", ":2: realloc of slot 1 which holds a slice or consumed memory"},
        {"c 1 4096\nc 1 10\n", ":2: consume into slot 1 which is full"},
        {"c 1 0\n", ":1: size '0'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *path = temp_trace(cases[i][0]);
        ASSERT_TRUE(path && *path);
        expect_trace_error(path, cases[i][1]);
        unlink(path);
    }
}

TEST(trace_writer_round_trips) {
    const char *w[] = {"random", "realloc-grow", "buffers", "ramp"};
    for (int k = 0; k < 4; k++) {
        char wk[64];
        snprintf(wk, sizeof wk, "workload=%s", w[k]);
        wl_stream_t a, b;
        ASSERT_TRUE(generate(&a, (const char *[]){wk, "ops=5000", "live=200", NULL}) == 0);
        char *path = temp_trace("");
        ASSERT_TRUE(path && *path);
        FILE *f = fopen(path, "w");
        ASSERT_TRUE(f != NULL);
        fprintf(f, "# written by test_workloads\n");
        for (uint64_t i = 0; i < a.thread[0].nops; i++)
            EXPECT_EQ(wl_trace_write_op(f, &a.thread[0].ops[i]), 0);
        fclose(f);
        char t[128];
        snprintf(t, sizeof t, "workload=trace:%s", path);
        ASSERT_TRUE(generate(&b, (const char *[]){t, NULL}) == 0);
        EXPECT_EQ(b.total_ops, a.total_ops);
        EXPECT_EQ(b.hash, a.hash);
        EXPECT_EQ(b.peak_live_bytes, a.peak_live_bytes);
        EXPECT_EQ(b.final_live_bytes, a.final_live_bytes);
        unlink(path);
        wl_stream_free(&a);
        wl_stream_free(&b);
    }
}

TEST(rng_is_the_reference_xoshiro256starstar) {
    wl_rng_t r = {{1, 2, 3, 4}};
    EXPECT_EQ(wl_rng_next(&r), 11520);
    EXPECT_EQ(wl_rng_next(&r), 0);
    EXPECT_EQ(wl_rng_next(&r), 1509978240);
    wl_rng_seed(&r, 42);
    double u = wl_rng_unit(&r);
    EXPECT_TRUE(u >= 0 && u < 1);
}

/* Timings are never asserted (the machine is shared); the time is printed. */
TEST(random_with_a_million_ops_generates_the_requested_stream) {
    wl_params_t p;
    char err[256];
    wl_params_default(&p);
    wl_params_set(&p, "live", "1e5", err, sizeof err);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    wl_stream_t s;
    ASSERT_TRUE(wl_generate(&p, &s, err, sizeof err) == 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    printf("  random: 1e6 ops, live 1e5 in %.3f s\n", secs);
    EXPECT_EQ(s.total_ops, 1000000);
    EXPECT_EQ(s.peak_live_blocks, 100000);
    wl_stream_free(&s);
}

int main(void) {
    RUN(same_params_give_the_same_hash_and_other_seeds_another);
    RUN(every_named_workload_gives_a_valid_stream_of_ops_requests);
    RUN(buffers_slices_outlive_their_parents_and_consume_external_memory);
    RUN(peak_is_where_the_recount_says_for_one_thread);
    RUN(ramp_up_ends_where_the_block_count_first_peaks);
    RUN(sizes_stay_within_each_distributions_bounds);
    RUN(a_set_takes_32_values_written_in_full_digits);
    RUN(fifo_frees_the_oldest_and_lifo_the_newest);
    RUN(uniform_lifetime_is_valid_and_differs_from_exp);
    RUN(bad_parameters_are_einval_with_a_sentence_naming_the_parameter);
    RUN(numbers_accept_suffixes_and_scientific_notation);
    RUN(json_records_the_resolved_parameters);
    RUN(lifetime_changes_exactly_the_streams_that_record_it);
    RUN(resolved_parameters_generate_the_same_stream);
    RUN(trace_fixture_replays_with_dense_slots);
    RUN(trace_slices_and_consumes_replay_and_round_trip);
    RUN(malformed_traces_report_file_and_line);
    RUN(trace_writer_round_trips);
    RUN(rng_is_the_reference_xoshiro256starstar);
    RUN(random_with_a_million_ops_generates_the_requested_stream);
    return test_report();
}
