/*
 * util.c - small helpers shared by the harness's commands: option matching,
 * number parsing, clocks, and mmap-backed memory for a run's child.
 */
#include "harness/hx.h"
#include "mmb_config.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

int hx_parse_u64(const char *s, uint64_t *out) {
    /* a digit or a point first: strtoull and strtod would skip blanks and
     * take a sign (" 5" was 5 here but refused by the workloads' parser) */
    if (!s || !((*s >= '0' && *s <= '9') || *s == '.'))
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
        case 'T': case 't': mul = 1000000000000ull; break; /* as run --help says */
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

/* Taking the last of two values silently dropped the first: `run
 * --alloc=glibc --alloc=jemalloc` ran jemalloc alone, and a script that
 * appended an option to a command line that had it changed nothing visibly. */
int hx_opt_twice(const char *cmd, const char *name, const char *prev, const char *v, int list) {
    if (!prev)
        return 0;
    fprintf(stderr, "mmbench %s: %s is given twice ('%s' and '%s'); give it once%s\n", cmd, name, prev, v,
            list ? ", with the values separated by commas" : "");
    return 1;
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

/* a byte count as "48 KiB", "1 MiB", "23.4 GiB" */
static void bytes_text(char *buf, size_t len, double b) {
    static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (b >= 1024 && u < 4) {
        b /= 1024;
        u++;
    }
    if (b == floor(b))
        snprintf(buf, len, "%.0f %s", b, unit[u]);
    else
        snprintf(buf, len, "%.1f %s", b, unit[u]);
}

void hx_machine_describe(char *buf, size_t len) {
    char cpu[128] = "unknown CPU", line[512];
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f) {
        while (fgets(line, sizeof line, f)) {
            char *colon = strchr(line, ':');
            if (!strncmp(line, "model name", 10) && colon) {
                char *v = colon + 1;
                v += strspn(v, " \t");
                v[strcspn(v, "\n")] = 0;
                if (*v)
                    snprintf(cpu, sizeof cpu, "%s", v);
                break;
            }
        }
        fclose(f);
    }
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN), pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
    char mem[32] = "memory unknown";
    if (pages > 0 && psz > 0)
        bytes_text(mem, sizeof mem, (double)pages * (double)psz);
    /* glibc answers these from CPUID where the VM hides /sys's cache folders */
    static const struct {
        const char *name;
        int sc;
    } caches[] = {{"L1d", _SC_LEVEL1_DCACHE_SIZE}, {"L2", _SC_LEVEL2_CACHE_SIZE}, {"L3", _SC_LEVEL3_CACHE_SIZE}};
    char cache[128] = "";
    size_t used = 0;
    for (size_t i = 0; i < sizeof caches / sizeof caches[0]; i++) {
        long v = sysconf(caches[i].sc);
        if (v <= 0)
            continue;
        char b[32];
        bytes_text(b, sizeof b, (double)v);
        int w = snprintf(cache + used, sizeof cache - used, "%s%s %s", used ? ", " : "", caches[i].name, b);
        if (w < 0 || (size_t)w >= sizeof cache - used)
            break;
        used += (size_t)w;
    }
    struct utsname u;
    char kern[160] = "kernel unknown";
    if (uname(&u) == 0)
        snprintf(kern, sizeof kern, "%s %s", u.sysname, u.release);
    snprintf(buf, len, "%s, %ld CPUs, %s; %s; %s", cpu, ncpu, mem, used ? cache : "caches unknown", kern);
}

void hx_build_describe(char *buf, size_t len) {
#if defined(__clang__)
    const char *cc = "clang " __clang_version__;
#elif defined(__GNUC__)
    const char *cc = "gcc " __VERSION__;
#else
    const char *cc = "unknown compiler";
#endif
    const char *type = MMBENCH_BUILD_TYPE[0] ? MMBENCH_BUILD_TYPE : "no build type";
    /* the flags last: a long CFLAGS is what gets cut, never the compiler or
     * the sanitizer mark */
    snprintf(buf, len, "%s, %s%s%s%s", type, cc, MMBENCH_SANITIZED ? ", ASan+UBSan" : "",
             MMBENCH_BUILD_FLAGS[0] ? "; flags " : "", MMBENCH_BUILD_FLAGS);
}
