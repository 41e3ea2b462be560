/*
 * wl_dist.c - numbers as typed on the command line, and the size
 * distributions: parsing "uniform:16:512" & co. and drawing from them.
 * Draws use only the module's PRNG and libm's log/exp/pow/cos/sqrt, which
 * are deterministic on one platform.
 */
#include "wl_int.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int suffix_mul(char c, int bytes, uint64_t *mul) {
    switch (c) {
    case 'k': case 'K': *mul = bytes ? 1ull << 10 : 1000ull; return 0;
    case 'm': case 'M': *mul = bytes ? 1ull << 20 : 1000000ull; return 0;
    case 'g': case 'G': *mul = bytes ? 1ull << 30 : 1000000000ull; return 0;
    case 't': case 'T': *mul = bytes ? 1ull << 40 : 1000000000000ull; return 0;
    default: return EINVAL;
    }
}

/* Digits (or a decimal/scientific mantissa), then at most one suffix. */
static int parse_u64(const char *s, int bytes, uint64_t *out) {
    if (!s || !isdigit((unsigned char)s[0]))
        return EINVAL; /* also rejects "", "-1", "+1", " 1", "inf", "nan" */
    char *end;
    uint64_t mul = 1;
    errno = 0;
    if (strpbrk(s, "eE.")) {
        if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
            return EINVAL;
        double d = strtod(s, &end);
        if (end == s)
            return EINVAL;
        if (*end && (suffix_mul(*end, bytes, &mul) || end[1]))
            return EINVAL;
        d *= (double)mul;
        if (!(d >= 0) || d != floor(d))
            return EINVAL;
        if (d >= 18446744073709551616.0)
            return ERANGE;
        *out = (uint64_t)d;
        return 0;
    }
    unsigned long long v = strtoull(s, &end, 10);
    if (errno == ERANGE)
        return ERANGE;
    if (*end && (suffix_mul(*end, bytes, &mul) || end[1]))
        return EINVAL;
    if (v > UINT64_MAX / mul)
        return ERANGE;
    *out = (uint64_t)v * mul;
    return 0;
}

int wl_parse_count(const char *s, uint64_t *out) { return parse_u64(s, 0, out); }
int wl_parse_bytes(const char *s, uint64_t *out) { return parse_u64(s, 1, out); }

int wl_parse_real(const char *s, int bytes, double *out) {
    if (!s || !(isdigit((unsigned char)s[0]) || s[0] == '-' || s[0] == '.'))
        return EINVAL;
    if (strchr(s, 'x') || strchr(s, 'X') || strchr(s, 'n') || strchr(s, 'N'))
        return EINVAL; /* no hex floats, inf or nan */
    char *end;
    errno = 0;
    double d = strtod(s, &end);
    if (end == s || errno == ERANGE || !isfinite(d))
        return EINVAL;
    uint64_t mul = 1;
    if (*end && (!bytes || suffix_mul(*end, 1, &mul) || end[1]))
        return EINVAL;
    *out = d * (double)mul;
    return 0;
}

/* Splits text after "kind:" into at most max fields at sep; returns count,
 * or -1 when there are more.  Fields point into buf. */
static int split(char *buf, char sep, char **f, int max) {
    int n = 0;
    char *p = buf;
    for (;;) {
        if (n == max)
            return -1;
        f[n++] = p;
        char *q = strchr(p, sep);
        if (!q)
            return n;
        *q = '\0';
        p = q + 1;
    }
}

#define SZ_RANGE "1 <= SIZE <= 1T (2^40)"

static int bytes_field(const char *text, const char *what, const char *v, uint64_t *out,
                       const char *expect, char *err, size_t errlen) {
    int rc = wl_parse_bytes(v, out);
    if (rc || *out == 0 || *out > WL_MAX_SIZE)
        return wl_fail(err, errlen, EINVAL,
                       "--sizes: '%s' has %s '%s' which is %s; expected %s with " SZ_RANGE
                       " (suffixes k, M, G, T are powers of 1024)",
                       text, what, v,
                       rc == EINVAL ? "not a number" : (rc == 0 && *out == 0) ? "zero" : "too large",
                       expect);
    return 0;
}

int wl_dist_parse(wl_dist_t *d, const char *text, char *err, size_t errlen) {
    static const char *kinds =
        "uniform:MIN:MAX, exp:MEAN, lognormal:MU:SIGMA, set:A,B,C, pow2:MIN:MAX or pareto:MIN:MAX:ALPHA";
    wl_dist_t n;
    memset(&n, 0, sizeof n);
    if (!text || !*text)
        return wl_fail(err, errlen, EINVAL, "--sizes: empty distribution; expected %s", kinds);
    if (strlen(text) >= sizeof n.text)
        return wl_fail(err, errlen, EINVAL, "--sizes: '%.40s...' is longer than %zu characters; expected %s",
                       text, sizeof n.text - 1, kinds);
    char buf[sizeof n.text];
    strcpy(buf, text);
    strcpy(n.text, text);
    char *colon = strchr(buf, ':');
    if (!colon)
        return wl_fail(err, errlen, EINVAL, "--sizes: '%s' has no parameters; expected %s", text, kinds);
    *colon = '\0';
    const char *kind = buf;
    char *f[WL_SET_MAX + 1];
    if (!strcmp(kind, "uniform") || !strcmp(kind, "pow2") || !strcmp(kind, "pareto")) {
        int pareto = !strcmp(kind, "pareto");
        /* kind is one of the three names just compared */
        const char *expect = pareto ? "pareto:MIN:MAX:ALPHA" : !strcmp(kind, "pow2") ? "pow2:MIN:MAX" : "uniform:MIN:MAX";
        int nf = split(colon + 1, ':', f, pareto ? 3 : 2);
        if (nf != (pareto ? 3 : 2))
            return wl_fail(err, errlen, EINVAL, "--sizes: '%s' has the wrong number of fields; expected %s",
                           text, expect);
        uint64_t lo, hi;
        if (bytes_field(text, "MIN", f[0], &lo, expect, err, errlen) ||
            bytes_field(text, "MAX", f[1], &hi, expect, err, errlen))
            return EINVAL;
        if (lo > hi)
            return wl_fail(err, errlen, EINVAL, "--sizes: '%s' has MIN > MAX; expected %s with 1 <= MIN <= MAX",
                           text, expect);
        n.a = (double)lo;
        n.b = (double)hi;
        if (!strcmp(kind, "uniform")) {
            n.kind = WL_DIST_UNIFORM;
        } else if (!pareto) {
            n.kind = WL_DIST_POW2;
            uint64_t p = 1;
            while (p < lo)
                p <<= 1;
            if (p > hi)
                return wl_fail(err, errlen, EINVAL,
                               "--sizes: '%s' contains no power of two; expected pow2:MIN:MAX with a power of "
                               "two between MIN and MAX",
                               text);
        } else {
            n.kind = WL_DIST_PARETO;
            if (wl_parse_real(f[2], 0, &n.c) || !(n.c > 0) || n.c > 100)
                return wl_fail(err, errlen, EINVAL,
                               "--sizes: '%s' has ALPHA '%s'; expected pareto:MIN:MAX:ALPHA with 0 < ALPHA <= 100",
                               text, f[2]);
        }
    } else if (!strcmp(kind, "exp")) {
        n.kind = WL_DIST_EXP;
        if (split(colon + 1, ':', f, 1) != 1 || wl_parse_real(f[0], 1, &n.a) || !(n.a >= 1) ||
            n.a > (double)WL_MAX_SIZE)
            return wl_fail(err, errlen, EINVAL,
                           "--sizes: '%s' has a bad MEAN; expected exp:MEAN with 1 <= MEAN <= 1T bytes", text);
    } else if (!strcmp(kind, "lognormal")) {
        n.kind = WL_DIST_LOGNORMAL;
        if (split(colon + 1, ':', f, 2) != 2)
            return wl_fail(err, errlen, EINVAL,
                           "--sizes: '%s' has the wrong number of fields; expected lognormal:MU:SIGMA", text);
        if (wl_parse_real(f[0], 0, &n.a) || !(n.a >= 0) || n.a > log((double)WL_MAX_SIZE))
            return wl_fail(err, errlen, EINVAL,
                           "--sizes: '%s' has MU '%s'; expected lognormal:MU:SIGMA with 0 <= MU <= 27.7 "
                           "(MU is the mean of ln bytes)",
                           text, f[0]);
        if (wl_parse_real(f[1], 0, &n.b) || !(n.b >= 0) || n.b > 20)
            return wl_fail(err, errlen, EINVAL,
                           "--sizes: '%s' has SIGMA '%s'; expected lognormal:MU:SIGMA with 0 <= SIGMA <= 20",
                           text, f[1]);
    } else if (!strcmp(kind, "set")) {
        n.kind = WL_DIST_SET;
        int nf = split(colon + 1, ',', f, WL_SET_MAX);
        if (nf < 0)
            return wl_fail(err, errlen, EINVAL, "--sizes: '%s' has more than %d values; expected set:A,B,C",
                           text, WL_SET_MAX);
        for (int i = 0; i < nf; i++)
            if (bytes_field(text, "value", f[i], &n.set[i], "set:A,B,C", err, errlen))
                return EINVAL;
        n.nset = (uint32_t)nf;
    } else {
        return wl_fail(err, errlen, EINVAL, "--sizes: unknown distribution '%s' in '%s'; expected %s", kind,
                       text, kinds);
    }
    *d = n;
    return 0;
}

static uint64_t clamp_size(double x) {
    if (!(x >= 1)) /* also NaN */
        return 1;
    if (x >= (double)WL_MAX_SIZE)
        return WL_MAX_SIZE;
    return (uint64_t)(x + 0.5);
}

uint64_t wl_dist_draw(const wl_dist_t *d, wl_rng_t *r) {
    switch (d->kind) {
    case WL_DIST_UNIFORM:
        return wl_rng_range(r, (uint64_t)d->a, (uint64_t)d->b);
    case WL_DIST_EXP:
        return clamp_size(-d->a * log(1.0 - wl_rng_unit(r)));
    case WL_DIST_LOGNORMAL: {
        /* Box-Muller; u1 in (0, 1] keeps the log finite. */
        double u1 = 1.0 - wl_rng_unit(r), u2 = wl_rng_unit(r);
        double z = sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
        return clamp_size(exp(d->a + d->b * z));
    }
    case WL_DIST_SET:
        return d->set[wl_rng_range(r, 0, d->nset - 1)];
    case WL_DIST_POW2: {
        unsigned lo = 0, hi = 0;
        while ((1ull << lo) < (uint64_t)d->a)
            lo++;
        while (hi < 40 && (1ull << (hi + 1)) <= (uint64_t)d->b)
            hi++;
        return 1ull << wl_rng_range(r, lo, hi);
    }
    case WL_DIST_PARETO: {
        /* Inverse CDF of the Pareto(ALPHA) truncated to [MIN, MAX]. */
        double lo = d->a, hi = d->b, al = d->c;
        double u = wl_rng_unit(r);
        double x = lo / pow(1.0 - u * (1.0 - pow(lo / hi, al)), 1.0 / al);
        uint64_t v = (uint64_t)x;
        if (v < (uint64_t)lo)
            v = (uint64_t)lo;
        if (v > (uint64_t)hi)
            v = (uint64_t)hi;
        return v;
    }
    }
    return 1;
}
