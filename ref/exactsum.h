/*
 * exactsum.h -- exact sums of non-negative doubles, rounded once at the end.
 *
 * Every finite double x >= 0 is an integer multiple of 2^-1074 (the least
 * subnormal): x = m 2^-1074. For x < 2^64, m < 2^1138, so an unsigned
 * integer of TPE_XSUM_LIMBS = 18 limbs of 64 bits (1152 bits, least
 * significant limb first) holds any sum of such values exactly, as long as
 * the sum stays below 2^78 (more than 2^70 additions of values up to 256,
 * which is what tpe probe adds). This is a long (Kulisch) accumulator.
 *
 * Integer addition is associative and commutative, so the accumulated sum
 * does not depend on the order of the additions, nor on how they were split
 * between shards or processes, and merging two accumulators is exact. The
 * one rounding, to the nearest double with ties to even, gives the correctly
 * rounded sum of all the addends -- what Python's math.fsum returns. This is
 * what makes a sharded `tpe probe` give the single run's alpha bit for bit.
 */
#ifndef TPE_EXACTSUM_H
#define TPE_EXACTSUM_H

#include <stddef.h>
#include <stdint.h>

#define TPE_XSUM_LIMBS 18
/* the weight of bit 0 of limb 0 is 2^TPE_XSUM_LSB_EXP */
#define TPE_XSUM_LSB_EXP (-1074)

/* n accumulators; limb is (n, TPE_XSUM_LIMBS), little limb first. */
typedef struct tpe_xsum {
    size_t n;
    uint64_t *limb;
} tpe_xsum;

/* n zeroed accumulators (n may be 0). */
int tpe_xsum_init(tpe_xsum *s, size_t n);
void tpe_xsum_free(tpe_xsum *s);
void tpe_xsum_clear(tpe_xsum *s);

/* Accumulator i += x. x must be finite, >= 0 (-0 counts as 0) and below
 * 2^64; otherwise TPE_ENUMERIC naming i and x (the accumulator is then
 * unchanged; after an overflow it is not). */
int tpe_xsum_add(tpe_xsum *s, size_t i, double x);
/* Accumulator i += x[i] for every i < s->n. */
int tpe_xsum_add_vec(tpe_xsum *s, const double *x);

/* dst += src, both of the same n: exact. TPE_ENUMERIC if a sum reaches
 * 2^78 (the accumulator's capacity). */
int tpe_xsum_merge(tpe_xsum *dst, const tpe_xsum *src);
/* The same on raw limbs: count accumulators of TPE_XSUM_LIMBS limbs each.
 * Returns the number of accumulators that overflowed (0). */
size_t tpe_xsum_add_limbs(uint64_t *dst, const uint64_t *src, size_t count);

/* Accumulator i (or raw limbs) rounded to the nearest double, ties to even. */
double tpe_xsum_round(const tpe_xsum *s, size_t i);
double tpe_xsum_round_limbs(const uint64_t *limb);

#endif
