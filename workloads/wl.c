/*
 * wl.c - the workloads' registry and parameters: names and descriptions,
 * defaults, parsing one --key=value at a time, each named workload's preset,
 * the JSON record of a run's parameters; plus the module's mmap-backed
 * memory and the facts (hash, peak live bytes) of a finished stream.
 */
#define _GNU_SOURCE /* mremap */
#include "wl_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

/* ---- registry --------------------------------------------------------------- */

static const wl_info_t workloads[] = {
    {"random", "steady state: fill to --live objects, then free a victim (--lifetime) and allocate, in turn", 0},
    {"ramp", "allocate up to a peak of --live objects, free them all (--lifetime order), repeat; ends empty (an odd share of ops per thread: one object left)", 0},
    {"every-other", "allocate --live equal objects, free every second one, then allocate 3-4x larger ones that "
                    "cannot reuse the holes", 0},
    {"powerlaw", "steady state with Pareto sizes: many small, few huge (16 B .. 64 MiB, alpha 1.1)", 0},
    {"small-objects", "interpreter-like: 16-128 B objects and 1 in 10 a string up to 4 KiB; most die young, "
                      "--live of them live long", 0},
    {"realloc-grow", "--live buffers growing by appends (realloc x1.5..x2, 1..12 times), then freed", 0},
    {"larson", "server simulation: threads free and replace random objects in arrays they hand to each "
               "other, so objects die on other threads", 1},
    {"prodcons", "producer/consumer: even threads allocate messages, odd threads free them (FIFO, --live in "
                 "flight)", 1},
    {"buffers", "buffer use: builders grown by appends (realloc x2) then shrunk to fit; 30% get 1-3 slices "
                "that outlive the parent's handle; external blocks (256 KiB-4 MiB) consumed and released", 0},
    {"trace", "replay of a recorded trace: trace:FILE (lines 'a SLOT SIZE', 'f SLOT', 'r SLOT SIZE', "
              "'s SLOT PARENT LEN', 'c SLOT SIZE')", 0},
};
#define NWORKLOADS (sizeof workloads / sizeof workloads[0])

size_t wl_count(void) { return NWORKLOADS; }

const wl_info_t *wl_at(size_t i) { return i < NWORKLOADS ? &workloads[i] : NULL; }

const wl_info_t *wl_find(const char *name) {
    if (!name)
        return NULL;
    if (!strncmp(name, "trace:", 6))
        return &workloads[NWORKLOADS - 1];
    for (size_t i = 0; i < NWORKLOADS; i++)
        if (!strcmp(name, workloads[i].name))
            return &workloads[i];
    return NULL;
}

const char *wl_names(void) {
    return "random, ramp, every-other, powerlaw, small-objects, realloc-grow, larson, prodcons, buffers, "
           "trace:FILE";
}

static const char *const lifetime_names[] = {"exp", "uniform", "fifo", "lifo"};
static const char *const touch_names[] = {"none", "first", "page", "all"};

const char *wl_lifetime_name(wl_lifetime_t l) {
    return (unsigned)l < 4 ? lifetime_names[l] : "?";
}
const char *wl_touch_name(wl_touch_t t) { return (unsigned)t < 4 ? touch_names[t] : "?"; }

/* ---- parameters ------------------------------------------------------------- */

int wl_fail(char *err, size_t errlen, int code, const char *fmt, ...) {
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return code;
}

void wl_params_default(wl_params_t *p) {
    memset(p, 0, sizeof *p);
    strcpy(p->workload, "random");
    p->ops = 1000000;
    p->seed = 42;
    p->threads = 1;
    wl_dist_parse(&p->sizes, "uniform:16:512", NULL, 0);
    p->live = 10000;
    p->lifetime = WL_LIFE_EXP;
    p->touch = WL_TOUCH_PAGE;
    p->set = 0;
}

static int count_param(const char *key, const char *v, uint64_t lo, uint64_t hi, const char *range,
                       uint64_t *out, char *err, size_t errlen) {
    uint64_t x;
    int rc = wl_parse_count(v, &x);
    if (rc == EINVAL)
        return wl_fail(err, errlen, EINVAL,
                       "--%s: '%s' is not a number; expected %s (digits, 1e6, or a k/M/G/T suffix)", key, v, range);
    if (rc || x < lo || x > hi)
        return wl_fail(err, errlen, EINVAL, "--%s: '%s' is out of range; expected %s", key, v, range);
    *out = x;
    return 0;
}

static int name_param(const char *key, const char *v, const char *const *names, int n, int *out, char *err,
                      size_t errlen) {
    for (int i = 0; i < n; i++)
        if (!strcmp(v, names[i])) {
            *out = i;
            return 0;
        }
    return wl_fail(err, errlen, EINVAL, "--%s: unknown value '%s'; expected one of %s, %s, %s, %s", key, v,
                   names[0], names[1], names[2], names[3]);
}

int wl_params_set(wl_params_t *p, const char *key, const char *value, char *err, size_t errlen) {
    if (!key)
        return wl_fail(err, errlen, EINVAL, "missing parameter name");
    if (!value)
        value = "";
    uint64_t x = 0;
    int i = 0;
    if (!strcmp(key, "workload")) {
        if (!strncmp(value, "trace:", 6)) {
            const char *path = value + 6;
            if (!*path)
                return wl_fail(err, errlen, EINVAL, "--workload: 'trace:' names no file; expected trace:FILE");
            if (strlen(path) >= sizeof p->trace_path)
                return wl_fail(err, errlen, EINVAL, "--workload: the trace path is longer than %zu characters",
                               sizeof p->trace_path - 1);
            strcpy(p->workload, "trace");
            strcpy(p->trace_path, path);
            return 0;
        }
        const wl_info_t *w = wl_find(value);
        if (!w || !strcmp(value, "trace"))
            return wl_fail(err, errlen, EINVAL, "--workload: unknown workload '%s'; expected one of %s", value,
                           wl_names());
        strcpy(p->workload, w->name);
        p->trace_path[0] = '\0';
        return 0;
    }
    if (!strcmp(key, "ops")) {
        if (count_param(key, value, 1, WL_MAX_OPS, "a count from 1 to 2^32 (4294967296)", &x, err, errlen))
            return EINVAL;
        p->ops = x;
        p->set |= WL_SET_OPS;
        return 0;
    }
    if (!strcmp(key, "seed")) {
        /* at most 2^63 - 1: the database keeps the seed as a signed 64-bit
         * INTEGER, and a larger one would be stored as a negative number */
        if (count_param(key, value, 0, INT64_MAX, "an integer from 0 to 9223372036854775807 (2^63-1)", &x, err,
                        errlen))
            return EINVAL;
        p->seed = x;
        p->set |= WL_SET_SEED;
        return 0;
    }
    if (!strcmp(key, "threads")) {
        if (count_param(key, value, 1, WL_MAX_THREADS, "a count from 1 to 64", &x, err, errlen))
            return EINVAL;
        p->threads = (uint32_t)x;
        p->set |= WL_SET_THREADS;
        return 0;
    }
    if (!strcmp(key, "live")) {
        if (count_param(key, value, 1, WL_MAX_OPS, "a count from 1 to 2^32 (4294967296)", &x, err, errlen))
            return EINVAL;
        p->live = x;
        p->set |= WL_SET_LIVE;
        return 0;
    }
    if (!strcmp(key, "sizes")) {
        if (wl_dist_parse(&p->sizes, value, err, errlen))
            return EINVAL;
        p->set |= WL_SET_SIZES;
        return 0;
    }
    if (!strcmp(key, "lifetime")) {
        if (name_param(key, value, lifetime_names, 4, &i, err, errlen))
            return EINVAL;
        p->lifetime = (wl_lifetime_t)i;
        p->set |= WL_SET_LIFETIME;
        return 0;
    }
    if (!strcmp(key, "touch")) {
        if (name_param(key, value, touch_names, 4, &i, err, errlen))
            return EINVAL;
        p->touch = (wl_touch_t)i;
        p->set |= WL_SET_TOUCH;
        return 0;
    }
    return wl_fail(err, errlen, EINVAL,
                   "unknown workload parameter '%s'; expected one of workload, ops, seed, threads, sizes, live, "
                   "lifetime, touch",
                   key);
}

/* Each named workload's preset.  A field is applied only when the user did
 * not set it; "live" may depend on ops (0 here = computed below). */
typedef struct preset {
    const char *name;
    const char *sizes;
    uint64_t live;
    wl_lifetime_t lifetime;
    uint32_t threads;
} preset_t;

static const preset_t presets[] = {
    {"random", "uniform:16:512", 10000, WL_LIFE_EXP, 1},
    {"ramp", "uniform:16:512", 0, WL_LIFE_EXP, 1},          /* live = ops / 2: one ramp */
    {"every-other", "set:64", 0, WL_LIFE_EXP, 1},           /* live = ops * 2 / 5 */
    {"powerlaw", "pareto:16:64M:1.1", 10000, WL_LIFE_EXP, 1},
    {"small-objects", "uniform:16:128", 50000, WL_LIFE_EXP, 1},
    {"realloc-grow", "uniform:16:256", 1000, WL_LIFE_EXP, 1},
    {"larson", "uniform:16:512", 10000, WL_LIFE_EXP, 4},
    {"prodcons", "uniform:64:4096", 1000, WL_LIFE_FIFO, 4},
    {"buffers", "uniform:32:256", 2000, WL_LIFE_EXP, 1},
    {"trace", "uniform:16:512", 10000, WL_LIFE_EXP, 1},
};

uint64_t wl_preset_live(const char *workload, uint64_t ops) {
    uint64_t live;
    if (!strcmp(workload, "ramp"))
        live = ops / 2;
    else if (!strcmp(workload, "every-other"))
        live = ops * 2 / 5;
    else
        return 0;
    return live ? live : 1;
}

void wl_params_resolve(const wl_params_t *p, wl_params_t *out) {
    if (out != p)
        *out = *p;
    const preset_t *pr = NULL;
    for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++)
        if (!strcmp(p->workload, presets[i].name))
            pr = &presets[i];
    if (!pr)
        return;
    if (!(p->set & WL_SET_SIZES))
        wl_dist_parse(&out->sizes, pr->sizes, NULL, 0);
    if (!(p->set & WL_SET_LIFETIME))
        out->lifetime = pr->lifetime;
    if (!(p->set & WL_SET_THREADS))
        out->threads = pr->threads;
    if (!(p->set & WL_SET_LIVE)) {
        uint64_t live = pr->live;
        uint32_t T = out->threads ? out->threads : 1;
        if (wl_preset_live(pr->name, 1)) {
            /* Sized from each thread's own budget (wl_gen.c): the sum of
             * the threads' targets (ops % T threads have one op more), which
             * --live deals back to them unchanged. */
            uint64_t q = out->ops / T, r = out->ops % T;
            live = r * wl_preset_live(pr->name, q + 1) + (T - r) * wl_preset_live(pr->name, q);
        }
        out->live = live ? live : 1;
    }
    out->set |= WL_SET_SIZES | WL_SET_LIFETIME | WL_SET_THREADS | WL_SET_LIVE;
}

static size_t json_str(char *buf, size_t len, size_t n, const char *s) {
    n += (size_t)snprintf(n < len ? buf + n : NULL, n < len ? len - n : 0, "\"");
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char tmp[8];
        if (c == '"' || c == '\\')
            snprintf(tmp, sizeof tmp, "\\%c", c);
        else if (c < 0x20)
            snprintf(tmp, sizeof tmp, "\\u%04x", c);
        else
            snprintf(tmp, sizeof tmp, "%c", c);
        n += (size_t)snprintf(n < len ? buf + n : NULL, n < len ? len - n : 0, "%s", tmp);
    }
    n += (size_t)snprintf(n < len ? buf + n : NULL, n < len ? len - n : 0, "\"");
    return n;
}

int wl_uses_lifetime(const char *w) {
    return !strcmp(w, "random") || !strcmp(w, "powerlaw") || !strcmp(w, "ramp") || !strcmp(w, "small-objects") ||
           !strcmp(w, "buffers");
}

size_t wl_params_json(const wl_params_t *p0, char *buf, size_t len) {
    wl_params_t p;
    wl_params_resolve(p0, &p);
    size_t n = 0;
#define OUT(...) (n += (size_t)snprintf(n < len ? buf + n : NULL, n < len ? len - n : 0, __VA_ARGS__))
    /* a trace replays its own sizes and frees: no seed, sizes or lifetime */
    int trace = !strcmp(p.workload, "trace");
    OUT("{\"workload\":");
    n = json_str(buf, len, n, p.workload);
    OUT(",\"ops\":%llu,\"seed\":", (unsigned long long)p.ops);
    if (trace)
        OUT("null");
    else
        OUT("%llu", (unsigned long long)p.seed);
    OUT(",\"threads\":%u,\"sizes\":", p.threads);
    if (trace)
        OUT("null");
    else
        n = json_str(buf, len, n, p.sizes.text);
    OUT(",\"live\":%llu,\"lifetime\":", (unsigned long long)p.live);
    if (!wl_uses_lifetime(p.workload))
        OUT("null");
    else
        OUT("\"%s\"", wl_lifetime_name(p.lifetime));
    OUT(",\"touch\":\"%s\",\"trace\":", wl_touch_name(p.touch));
    if (!strcmp(p.workload, "trace"))
        n = json_str(buf, len, n, p.trace_path);
    else
        OUT("null");
    OUT("}");
#undef OUT
    if (len && n >= len)
        buf[len - 1] = '\0';
    return n;
}

/* ---- memory ----------------------------------------------------------------- */

void *wl_map(size_t len) {
    if (!len)
        return NULL;
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

void wl_unmap(void *p, size_t len) {
    if (p && len)
        munmap(p, len);
}

int wl_vec_ensure(wl_vec_t *v, size_t bytes) {
    if (bytes <= v->cap)
        return 0;
    size_t cap = v->cap ? v->cap : 65536;
    while (cap < bytes)
        cap *= 2;
    void *p;
    if (!v->p) {
        p = wl_map(cap);
        if (!p)
            return ENOMEM;
    } else {
        p = mremap(v->p, v->cap, cap, MREMAP_MAYMOVE);
        if (p == MAP_FAILED)
            return ENOMEM;
    }
    v->p = p;
    v->cap = cap;
    return 0;
}

void wl_vec_free(wl_vec_t *v) {
    wl_unmap(v->p, v->cap);
    v->p = NULL;
    v->cap = 0;
}

/* ---- streams ---------------------------------------------------------------- */

int wl_stream_layout(wl_stream_t *s, uint32_t nthreads, const uint64_t *nops) {
    uint64_t total = 0;
    for (uint32_t t = 0; t < nthreads; t++)
        total += nops[t];
    s->nthreads = nthreads;
    s->mem_len = (size_t)(total * sizeof(wl_op_t));
    s->mem = wl_map(s->mem_len);
    if (total && !s->mem)
        return ENOMEM;
    wl_op_t *o = s->mem;
    for (uint32_t t = 0; t < nthreads; t++) {
        s->thread[t].ops = nops[t] ? o : NULL;
        s->thread[t].nops = nops[t];
        o += nops[t];
    }
    return 0;
}

static uint64_t fnv_bytes(uint64_t h, uint64_t v, int n) {
    for (int i = 0; i < n; i++) {
        h ^= (v >> (8 * i)) & 0xff;
        h *= 0x100000001b3ull;
    }
    return h;
}

/* A full slot holding a slice or consumed memory (sizes are <= 2^40). */
#define NOT_A_BLOCK UINT64_MAX

int wl_stream_facts(wl_stream_t *s, const uint8_t *tids) {
    /* The hash reads each op as 16 bytes in little-endian order: size,
     * slot, then (kind & 3) | seq << 2 | (kind >> 2) << 31 (seq < 2^29), so
     * streams of MALLOC/FREE/REALLOC hash as they did with the 2-bit kind. */
    uint64_t h = 0xcbf29ce484222325ull, total = 0;
    for (uint32_t t = 0; t < s->nthreads; t++) {
        for (uint64_t i = 0; i < s->thread[t].nops; i++) {
            const wl_op_t *o = &s->thread[t].ops[i];
            h = fnv_bytes(h, o->size, 8);
            h = fnv_bytes(h, o->slot, 4);
            h = fnv_bytes(h, (uint64_t)(o->kind & 3) | (uint64_t)o->seq << 2 | (uint64_t)(o->kind >> 2) << 31, 4);
        }
        total += s->thread[t].nops;
    }
    s->hash = h;
    s->total_ops = total;

    wl_vec_t cur = {0};
    if (wl_vec_ensure(&cur, (size_t)(s->nslots ? s->nslots : 1) * sizeof(uint64_t)))
        return ENOMEM;
    uint64_t *sz = cur.p;
    uint64_t idx[WL_MAX_THREADS] = {0};
    uint64_t live = 0, blocks = 0;
    s->peak_live_bytes = s->peak_live_blocks = 0;
    s->peak_thread = 0;
    s->peak_index = 0;
    s->max_live_blocks = 0;
    s->ramp_thread = 0;
    s->ramp_index = 0;
    uint32_t t = 0;
    for (uint64_t g = 0; g < total; g++) {
        if (tids) {
            t = tids[g];
        } else {
            while (idx[t] >= s->thread[t].nops) /* round-robin over the threads with ops left */
                t = (t + 1) % s->nthreads;
        }
        uint64_t i = idx[t]++;
        const wl_op_t *o = &s->thread[t].ops[i];
        switch (o->kind) {
        case WL_MALLOC:
            live += o->size;
            blocks++;
            sz[o->slot] = o->size;
            break;
        case WL_FREE:
            if (sz[o->slot] != NOT_A_BLOCK) {
                live -= sz[o->slot];
                blocks--;
            }
            sz[o->slot] = 0;
            break;
        case WL_REALLOC:
            live = live - sz[o->slot] + o->size;
            sz[o->slot] = o->size;
            break;
        default: /* SLICE, CONSUME: full, but no bytes and no block */
            sz[o->slot] = NOT_A_BLOCK;
            break;
        }
        if (live > s->peak_live_bytes) {
            s->peak_live_bytes = live;
            s->peak_live_blocks = blocks;
            s->peak_thread = t;
            s->peak_index = i;
        }
        if (blocks > s->max_live_blocks) {
            s->max_live_blocks = blocks;
            s->ramp_thread = t;
            s->ramp_index = i;
        }
        if (!tids)
            t = (t + 1) % s->nthreads;
    }
    s->final_live_bytes = live;
    wl_vec_free(&cur);
    return 0;
}

void wl_stream_free(wl_stream_t *s) {
    if (!s)
        return;
    wl_unmap(s->mem, s->mem_len);
    memset(s, 0, sizeof *s);
}
