/*
 * wl_trace.c - recorded traces: replaying a trace file as a stream, and
 * writing ops in the trace format.
 *
 * The file is mapped (not read through stdio buffers, which may malloc) and
 * read twice: once to count the op lines, which sizes the op array and the
 * slot map exactly, then to parse, validate every slot's state and emit.
 * Trace slot numbers (0 .. 2^32-1, possibly sparse) are renumbered densely
 * in order of first appearance through an open-addressing hash map.
 */
#include "wl_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct tslot {
    uint64_t key; /* trace slot + 1; 0 = unused entry */
    uint64_t dense;
} tslot_t;

/* In the per-slot state: the slot holds a slice or consumed memory. */
#define TR_NOT_BLOCK ((uint64_t)1 << 63)

static int is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

/* Plain decimal only (traces are written by programs, not typed). */
static int dec(const char *b, const char *e, uint64_t max, uint64_t *out) {
    if (b == e || e - b > 20)
        return -1;
    uint64_t v = 0;
    for (const char *c = b; c < e; c++) {
        if (*c < '0' || *c > '9')
            return -1;
        unsigned d = (unsigned)(*c - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    if (v > max)
        return -1;
    *out = v;
    return 0;
}

/* One line's content without comment and surrounding blanks: [*b, *e). */
static void trim(const char **b, const char **e) {
    const char *hash = memchr(*b, '#', (size_t)(*e - *b));
    if (hash)
        *e = hash;
    while (*b < *e && is_blank(**b))
        (*b)++;
    while (*e > *b && is_blank((*e)[-1]))
        (*e)--;
}

int wl_trace_load(const wl_params_t *p, wl_stream_t *s, char *err, size_t errlen) {
    const char *path = p->trace_path;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        return wl_fail(err, errlen, e, "%s: cannot open the trace: %s", path, strerror(e));
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return wl_fail(err, errlen, EINVAL, "%s: the trace is not a regular file", path);
    }
    size_t len = (size_t)st.st_size;
    const char *text = NULL;
    if (len) {
        void *m = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m == MAP_FAILED) {
            int e = errno;
            close(fd);
            return wl_fail(err, errlen, e, "%s: cannot map the trace: %s", path, strerror(e));
        }
        text = m;
    }
    close(fd);
    const char *end = text + len;

    uint64_t n = 0;
    for (const char *l = text; l < end;) {
        const char *nl = memchr(l, '\n', (size_t)(end - l));
        const char *le = nl ? nl : end, *b = l;
        trim(&b, &le);
        if (b < le)
            n++;
        l = nl ? nl + 1 : end;
    }
    int rc = 0;
    wl_vec_t map = {0}, state = {0};
    uint64_t cap = 16;
    while (cap < 2 * n)
        cap *= 2;
    if (n == 0) {
        rc = wl_fail(err, errlen, EINVAL,
                     "%s: the trace has no operations; expected lines 'a SLOT SIZE', 'f SLOT', 'r SLOT SIZE', "
                     "'s SLOT PARENT LEN' or 'c SLOT SIZE'",
                     path);
        goto out;
    }
    if (n * p->threads > WL_MAX_OPS) {
        rc = wl_fail(err, errlen, EINVAL, "%s: %llu operations x %u threads is more than 2^32", path,
                     (unsigned long long)n, p->threads);
        goto out;
    }
    uint64_t nops[WL_MAX_THREADS];
    for (uint32_t t = 0; t < p->threads; t++)
        nops[t] = n;
    if (wl_stream_layout(s, p->threads, nops) || wl_vec_ensure(&map, cap * sizeof(tslot_t)) ||
        wl_vec_ensure(&state, n * sizeof(uint64_t))) {
        rc = wl_fail(err, errlen, ENOMEM, "%s: out of memory for %llu operations", path, (unsigned long long)n);
        goto out;
    }
    tslot_t *hm = map.p;
    uint64_t *size = state.p; /* per dense slot: live size, 0 = empty */
    uint64_t dense = 0, i = 0, line = 0;
    wl_op_t *ops = s->thread[0].ops;
    for (const char *l = text; l < end;) {
        const char *nl = memchr(l, '\n', (size_t)(end - l));
        const char *le = nl ? nl : end, *b = l;
        l = nl ? nl + 1 : end;
        line++;
        trim(&b, &le);
        if (b == le)
            continue;
        const char *tok[4][2]; /* the first 4 fields; nt counts them all */
        uint64_t nt = 0;
        for (const char *c = b; c < le; nt++) {
            const char *f = c;
            while (c < le && !is_blank(*c))
                c++;
            if (nt < 4) {
                tok[nt][0] = f;
                tok[nt][1] = c;
            }
            while (c < le && is_blank(*c))
                c++;
        }
        int cmd = tok[0][1] - tok[0][0] == 1 ? tok[0][0][0] : 0;
        if (cmd != 'a' && cmd != 'f' && cmd != 'r' && cmd != 's' && cmd != 'c') {
            rc = wl_fail(err, errlen, EINVAL,
                         "%s:%llu: unknown operation '%.*s'; expected 'a SLOT SIZE', 'f SLOT', 'r SLOT SIZE', "
                         "'s SLOT PARENT LEN' or 'c SLOT SIZE'",
                         path, (unsigned long long)line, (int)(tok[0][1] - tok[0][0]), tok[0][0]);
            goto out;
        }
        int want = cmd == 'f' ? 2 : cmd == 's' ? 4 : 3;
        const char *form = cmd == 'a'   ? "a SLOT SIZE"
                           : cmd == 'f' ? "f SLOT"
                           : cmd == 'r' ? "r SLOT SIZE"
                           : cmd == 's' ? "s SLOT PARENT LEN"
                                        : "c SLOT SIZE";
        if (nt != (uint64_t)want) {
            rc = wl_fail(err, errlen, EINVAL, "%s:%llu: '%.*s' has %llu field%s; expected '%s'", path,
                         (unsigned long long)line, (int)(le - b), b, (unsigned long long)nt, nt == 1 ? "" : "s",
                         form);
            goto out;
        }
        uint64_t slot, sz = 0;
        if (dec(tok[1][0], tok[1][1], UINT32_MAX, &slot)) {
            rc = wl_fail(err, errlen, EINVAL, "%s:%llu: slot '%.*s' is not a number from 0 to 4294967295", path,
                         (unsigned long long)line, (int)(tok[1][1] - tok[1][0]), tok[1][0]);
            goto out;
        }
        uint64_t pd = 0; /* 's': the parent's dense slot */
        if (cmd == 's') {
            uint64_t ps, len;
            if (dec(tok[2][0], tok[2][1], UINT32_MAX, &ps)) {
                rc = wl_fail(err, errlen, EINVAL, "%s:%llu: parent slot '%.*s' is not a number from 0 to 4294967295",
                             path, (unsigned long long)line, (int)(tok[2][1] - tok[2][0]), tok[2][0]);
                goto out;
            }
            uint64_t ph = (ps + 1) * 0x9E3779B97F4A7C15ull;
            uint64_t pat = (ph >> 20) & (cap - 1);
            while (hm[pat].key && hm[pat].key != ps + 1)
                pat = (pat + 1) & (cap - 1);
            uint64_t psz = hm[pat].key ? size[hm[pat].dense] : 0;
            if (psz == 0 || (psz & TR_NOT_BLOCK)) {
                rc = wl_fail(err, errlen, EINVAL, "%s:%llu: slice of slot %llu which %s", path,
                             (unsigned long long)line, (unsigned long long)ps,
                             psz == 0 ? "is empty" : "holds a slice or consumed memory, not a block");
                goto out;
            }
            uint64_t maxlen = psz < WL_MAX_SLICE_LEN ? psz : WL_MAX_SLICE_LEN;
            if (dec(tok[3][0], tok[3][1], maxlen, &len) || len == 0) {
                rc = wl_fail(err, errlen, EINVAL,
                             "%s:%llu: slice length '%.*s' is not a number from 1 to %llu (the parent's size)", path,
                             (unsigned long long)line, (int)(tok[3][1] - tok[3][0]), tok[3][0],
                             (unsigned long long)maxlen);
                goto out;
            }
            pd = hm[pat].dense;
            sz = len;
        } else if (want == 3 && (dec(tok[2][0], tok[2][1], WL_MAX_SIZE, &sz) || sz == 0)) {
            rc = wl_fail(err, errlen, EINVAL, "%s:%llu: size '%.*s' is not a number from 1 to 1099511627776 (2^40)",
                         path, (unsigned long long)line, (int)(tok[2][1] - tok[2][0]), tok[2][0]);
            goto out;
        }
        uint64_t h = (slot + 1) * 0x9E3779B97F4A7C15ull;
        uint64_t at = (h >> 20) & (cap - 1);
        while (hm[at].key && hm[at].key != slot + 1)
            at = (at + 1) & (cap - 1);
        int known = hm[at].key != 0;
        int full = known && size[hm[at].dense] != 0;
        int fills = cmd == 'a' || cmd == 's' || cmd == 'c';
        if (fills && full) {
            rc = wl_fail(err, errlen, EINVAL, "%s:%llu: %s into slot %llu which is full", path,
                         (unsigned long long)line,
                         cmd == 'a' ? "allocation" : cmd == 's' ? "slice" : "consume", (unsigned long long)slot);
            goto out;
        }
        if (cmd == 'r' && full && (size[hm[at].dense] & TR_NOT_BLOCK)) {
            rc = wl_fail(err, errlen, EINVAL, "%s:%llu: realloc of slot %llu which holds a slice or consumed memory",
                         path, (unsigned long long)line, (unsigned long long)slot);
            goto out;
        }
        if (!fills && !full) {
            rc = wl_fail(err, errlen, EINVAL, "%s:%llu: %s of slot %llu which is empty", path,
                         (unsigned long long)line, cmd == 'f' ? "free" : "realloc", (unsigned long long)slot);
            goto out;
        }
        if (!known) {
            hm[at].key = slot + 1;
            hm[at].dense = dense++;
        }
        uint64_t d = hm[at].dense;
        wl_op_t *o = &ops[i++];
        o->slot = (uint32_t)d;
        o->seq = 0;
        if (cmd == 'a') {
            o->kind = WL_MALLOC;
            o->size = size[d] = sz;
        } else if (cmd == 'r') {
            o->kind = WL_REALLOC;
            o->size = size[d] = sz;
        } else if (cmd == 's') {
            o->kind = WL_SLICE;
            o->size = wl_slice_size((uint32_t)pd, (uint32_t)sz);
            size[d] = sz | TR_NOT_BLOCK;
        } else if (cmd == 'c') {
            o->kind = WL_CONSUME;
            o->size = sz;
            size[d] = sz | TR_NOT_BLOCK;
        } else {
            /* 'f' has no size: the FREE gets the slot's current one (as
             * wl.h promises; the harness counts L from it). */
            o->kind = WL_FREE;
            o->size = size[d] & ~TR_NOT_BLOCK;
            size[d] = 0;
        }
    }
    if (dense * p->threads > (uint64_t)UINT32_MAX + 1) {
        rc = wl_fail(err, errlen, EINVAL, "%s: %llu slots x %u threads is more than 2^32 slots", path,
                     (unsigned long long)dense, p->threads);
        goto out;
    }
    /* More threads: each replays its own copy in its own slot range. */
    for (uint32_t t = 1; t < p->threads; t++) {
        wl_op_t *dst = s->thread[t].ops;
        for (uint64_t k = 0; k < n; k++) {
            dst[k] = ops[k];
            dst[k].slot = (uint32_t)(ops[k].slot + t * dense);
            if (dst[k].kind == WL_SLICE)
                dst[k].size += (uint64_t)(t * dense) << 32;
        }
    }
    s->nslots = dense * p->threads;
    s->cross_thread = 0;
    if (wl_stream_facts(s, NULL))
        rc = wl_fail(err, errlen, ENOMEM, "%s: out of memory", path);
out:
    if (text)
        munmap((void *)text, len);
    wl_vec_free(&map);
    wl_vec_free(&state);
    if (rc)
        wl_stream_free(s);
    return rc;
}

int wl_trace_write_op(void *file, const wl_op_t *op) {
    FILE *f = file;
    int r;
    switch (op->kind) {
    case WL_MALLOC:
        r = fprintf(f, "a %u %llu\n", op->slot, (unsigned long long)op->size);
        break;
    case WL_FREE:
        r = fprintf(f, "f %u\n", op->slot);
        break;
    case WL_REALLOC:
        r = fprintf(f, "r %u %llu\n", op->slot, (unsigned long long)op->size);
        break;
    case WL_SLICE:
        r = fprintf(f, "s %u %u %u\n", op->slot, wl_slice_parent(op), wl_slice_len(op));
        break;
    case WL_CONSUME:
        r = fprintf(f, "c %u %llu\n", op->slot, (unsigned long long)op->size);
        break;
    default:
        return EINVAL;
    }
    return r < 0 ? EIO : 0;
}
