/*
 * alloc.c - the allocator registry and the fallbacks for empty optional
 * slots of the allocator table (see alloc.h).
 */
#include "allocators/alloc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const alloc_methods_t *const alloc_table[] = {
    &alloc_firstfit_methods, &alloc_bestfit_methods, &alloc_nextfit_methods,
    &alloc_segregated_methods, &alloc_glibc_methods, &alloc_jemalloc_methods,
    &alloc_mimalloc_methods, &alloc_tcmalloc_methods, &alloc_bump_methods,
    &alloc_cuda_methods, &alloc_cuda_async_methods, &alloc_buffer_methods,
};

#define ALLOC_TABLE_LEN (sizeof alloc_table / sizeof alloc_table[0])

void alloc_stats_clear(alloc_stats_t *s) {
#define ALLOC_STATS_CLEAR(f, d) s->f = ALLOC_UNKNOWN;
    ALLOC_STATS(ALLOC_STATS_CLEAR)
#undef ALLOC_STATS_CLEAR
}

size_t alloc_count(void) { return ALLOC_TABLE_LEN; }

const alloc_methods_t *alloc_at(size_t i) {
    return i < ALLOC_TABLE_LEN ? alloc_table[i] : NULL;
}

static const alloc_methods_t *alloc_find_exact(const char *name, size_t len) {
    for (size_t i = 0; i < ALLOC_TABLE_LEN; i++) {
        const char *n = alloc_table[i]->name;
        if (strlen(n) == len && strncmp(n, name, len) == 0)
            return alloc_table[i];
    }
    return NULL;
}

const alloc_methods_t *alloc_split_name(const char *name, const char **inner) {
    const char *colon = strchr(name, ':');
    *inner = NULL;
    if (!colon)
        return alloc_find_exact(name, strlen(name));
    const alloc_methods_t *outer = alloc_find_exact(name, (size_t)(colon - name));
    if (!outer || !(outer->flags & ALLOC_WRAPPER))
        return NULL;
    const alloc_methods_t *in = alloc_find_exact(colon + 1, strlen(colon + 1));
    if (!in || (in->flags & ALLOC_WRAPPER))
        return NULL;
    *inner = colon + 1;
    return outer;
}

const alloc_methods_t *alloc_find(const char *name) {
    const char *inner;
    return alloc_split_name(name, &inner);
}

const char *alloc_preload_for(const char *name) {
    const char *inner;
    const alloc_methods_t *m = alloc_split_name(name, &inner);
    if (!m)
        return NULL;
    if (inner)
        m = alloc_find_exact(inner, strlen(inner));
    return m ? m->preload : NULL;
}

const char *alloc_names(void) {
    static char buf[512];
    if (!buf[0]) {
        size_t off = 0;
        for (size_t i = 0; i < ALLOC_TABLE_LEN; i++) {
            const char *fmt = (alloc_table[i]->flags & ALLOC_WRAPPER) ? "%s%s[:NAME]" : "%s%s";
            int k = snprintf(buf + off, sizeof buf - off, fmt, i ? ", " : "", alloc_table[i]->name);
            if (k < 0 || (size_t)k >= sizeof buf - off)
                break;
            off += (size_t)k;
        }
    }
    return buf;
}

static char alloc_error[512];

void alloc_set_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(alloc_error, sizeof alloc_error, fmt, ap);
    va_end(ap);
}

const char *alloc_last_error(void) { return alloc_error; }

int alloc_init(const alloc_methods_t *m, const alloc_config_t *cfg, void **heap) {
    static const alloc_config_t defaults;
    *heap = NULL;
    alloc_error[0] = 0;
    if (!m->init)
        return 0;
    return m->init(heap, cfg ? cfg : &defaults);
}

void alloc_fini(const alloc_methods_t *m, void *heap) {
    if (m->fini)
        m->fini(heap);
}

void *alloc_realloc(const alloc_methods_t *m, void *heap, void *p, size_t n) {
    if (m->realloc)
        return m->realloc(heap, p, n);
    if (!p)
        return m->malloc(heap, n);
    if (!m->usable_size) {
        errno = ENOTSUP;
        return NULL;
    }
    return alloc_realloc_sized(m, heap, p, m->usable_size(heap, p), n);
}

void *alloc_realloc_sized(const alloc_methods_t *m, void *heap, void *p, size_t old, size_t n) {
    if (m->realloc)
        return m->realloc(heap, p, n);
    if (!p)
        return m->malloc(heap, n);
    void *q = m->malloc(heap, n);
    if (!q)
        return NULL;
    size_t keep = old < n ? old : n;
    if (keep && m->copy) {
        int rc = m->copy(heap, q, p, keep);
        if (rc) {
            m->free(heap, q);
            errno = rc;
            return NULL;
        }
    } else if (keep) {
        memcpy(q, p, keep);
    }
    m->free(heap, p);
    return q;
}

void *alloc_aligned(const alloc_methods_t *m, void *heap, size_t align, size_t n) {
    if (m->aligned)
        return m->aligned(heap, align, n);
    if (align <= 16 && align && (align & (align - 1)) == 0)
        return m->malloc(heap, n);
    errno = ENOTSUP;
    return NULL;
}

size_t alloc_usable_size(const alloc_methods_t *m, void *heap, void *p) {
    return m->usable_size ? m->usable_size(heap, p) : 0;
}

int alloc_stats(const alloc_methods_t *m, void *heap, alloc_stats_t *out) {
    alloc_stats_clear(out);
    return m->stats ? m->stats(heap, out) : 0;
}

int alloc_is_available(const alloc_methods_t *m, const char **reason) {
    static const char *none = "";
    const char *r = none;
    int ok = m->available ? m->available(&r) : 1;
    if (reason)
        *reason = ok ? none : (r ? r : "unavailable");
    return ok;
}

const char *alloc_version(const alloc_methods_t *m) {
    const char *v = m->version ? m->version() : NULL;
    return v ? v : "unknown";
}

void *alloc_slice(const alloc_methods_t *m, void *heap, void *parent, size_t off, size_t len,
                  unsigned char *kind) {
    if (m->slice) {
        *kind = ALLOC_SLOT_SLICE;
        return m->slice(heap, parent, off, len);
    }
    *kind = ALLOC_SLOT_VIEW;
    return (char *)parent + off;
}

void *alloc_consume(const alloc_methods_t *m, void *heap, void *mem, size_t n,
                    void (*release)(void *mem, size_t n, void *ctx), void *ctx, unsigned char *kind) {
    if (m->consume) {
        *kind = ALLOC_SLOT_CONSUMED;
        return m->consume(heap, mem, n, release, ctx);
    }
    *kind = ALLOC_SLOT_EXTERNAL;
    return mem;
}

void alloc_free_slot(const alloc_methods_t *m, void *heap, void *p, size_t n, unsigned kind,
                     void (*release)(void *mem, size_t n, void *ctx), void *ctx) {
    switch (kind) {
    case ALLOC_SLOT_VIEW:
        return;
    case ALLOC_SLOT_EXTERNAL:
        if (release)
            release(p, n, ctx);
        return;
    default:
        m->free(heap, p);
        return;
    }
}
