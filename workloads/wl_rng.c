/*
 * wl_rng.c - the workloads' deterministic PRNG: splitmix64 expands the seed
 * into xoshiro256** state.  Every draw in the module goes through here, so
 * a stream depends on nothing but its parameters and seed.
 */
#include "wl_int.h"

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void wl_rng_seed(wl_rng_t *r, uint64_t seed) {
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t wl_rng_next(wl_rng_t *r) {
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double wl_rng_unit(wl_rng_t *r) { return (double)(wl_rng_next(r) >> 11) * 0x1.0p-53; }

/* Lemire's multiply-shift with rejection: unbiased and usually one draw. */
uint64_t wl_rng_range(wl_rng_t *r, uint64_t lo, uint64_t hi) {
    uint64_t span = hi - lo + 1;
    if (span == 0) /* the whole 64-bit range */
        return wl_rng_next(r);
    unsigned __int128 m = (unsigned __int128)wl_rng_next(r) * span;
    uint64_t low = (uint64_t)m;
    if (low < span) {
        uint64_t thresh = -span % span;
        while (low < thresh) {
            m = (unsigned __int128)wl_rng_next(r) * span;
            low = (uint64_t)m;
        }
    }
    return lo + (uint64_t)(m >> 64);
}
