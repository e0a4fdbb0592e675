/*
 * rng.c -- xoshiro256** and splitmix64 (public-domain algorithms by
 * Blackman and Vigna, https://prng.di.unimi.it/), written for tpe.
 */
#include "rng.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void tpe_rng_seed(tpe_rng *r, uint64_t seed)
{
    int i;
    for (i = 0; i < 4; i++) r->s[i] = splitmix64(&seed);
    r->has_spare = 0;
    r->spare = 0.0;
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t tpe_rng_next(tpe_rng *r)
{
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

double tpe_rng_uniform(tpe_rng *r) { return (double)(tpe_rng_next(r) >> 11) * 0x1.0p-53; }

uint64_t tpe_rng_below(tpe_rng *r, uint64_t n)
{
    uint64_t limit, x;
    if (n == 0) return 0;
    limit = UINT64_MAX - UINT64_MAX % n; /* reject the biased tail */
    do x = tpe_rng_next(r);
    while (x >= limit);
    return x % n;
}

double tpe_rng_normal(tpe_rng *r)
{
    double u, v, s, f;
    if (r->has_spare) {
        r->has_spare = 0;
        return r->spare;
    }
    do {
        u = 2.0 * tpe_rng_uniform(r) - 1.0;
        v = 2.0 * tpe_rng_uniform(r) - 1.0;
        s = u * u + v * v;
    } while (s >= 1.0 || s == 0.0);
    f = sqrt(-2.0 * log(s) / s);
    r->spare = v * f;
    r->has_spare = 1;
    return u * f;
}
