/*
 * util.c - small helpers shared by the harness's commands: option matching,
 * number parsing, clocks, and mmap-backed memory for a run's child.
 */
#include "harness/hx.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

int hx_parse_u64(const char *s, uint64_t *out) {
    if (!s || !*s || *s == '-' || *s == '+')
        return EINVAL;
    char *end;
    errno = 0;
    if (strpbrk(s, "eE.")) {
        double d = strtod(s, &end);
        if (errno || end == s || *end || !(d >= 0) || d != floor(d))
            return EINVAL;
        if (d >= 18446744073709551616.0)
            return ERANGE;
        *out = (uint64_t)d;
        return 0;
    }
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s)
        return EINVAL;
    if (errno == ERANGE)
        return ERANGE;
    uint64_t mul = 1;
    if (*end) {
        switch (*end) {
        case 'k': case 'K': mul = 1000ull; break;
        case 'M': case 'm': mul = 1000000ull; break;
        case 'G': case 'g': mul = 1000000000ull; break;
        default: return EINVAL;
        }
        if (end[1])
            return EINVAL;
    }
    if (v > UINT64_MAX / mul)
        return ERANGE;
    *out = (uint64_t)v * mul;
    return 0;
}

const char *hx_opt(int argc, char **argv, int *i, const char *name) {
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n) != 0)
        return NULL;
    if (a[n] == '=')
        return a + n + 1;
    /* "--db --json": the next word is an option, not --db's value. */
    if (a[n] == '\0' && *i + 1 < argc && strncmp(argv[*i + 1], "--", 2) != 0) {
        (*i)++;
        return argv[*i];
    }
    return NULL;
}

void *hx_mem_alloc(size_t n) {
    if (n == 0)
        n = 1;
    void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

void hx_mem_free(void *p, size_t n) {
    if (p)
        munmap(p, n ? n : 1);
}

uint64_t hx_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void hx_iso_time(char *buf, size_t len) {
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
