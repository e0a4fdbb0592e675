/*
 * rng.h -- a seeded, portable random number generator: xoshiro256**
 * (Blackman & Vigna) seeded through splitmix64. The integer stream is the
 * same on every platform; uniform doubles take the top 53 bits. Normal
 * deviates use the polar method, which calls log and sqrt: bit-identical
 * wherever libm's log is (it is not required to be correctly rounded).
 */
#ifndef TPE_RNG_H
#define TPE_RNG_H

#include <stdint.h>

typedef struct tpe_rng {
    uint64_t s[4];
    int has_spare;
    double spare;
} tpe_rng;

void tpe_rng_seed(tpe_rng *r, uint64_t seed);
uint64_t tpe_rng_next(tpe_rng *r);
double tpe_rng_uniform(tpe_rng *r);          /* [0, 1)                  */
uint64_t tpe_rng_below(tpe_rng *r, uint64_t n); /* [0, n), unbiased      */
double tpe_rng_normal(tpe_rng *r);           /* N(0, 1)                 */

#endif
