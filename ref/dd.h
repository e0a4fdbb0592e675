/*
 * dd.h -- double-double arithmetic: a number is the unevaluated sum hi + lo
 * of two doubles with |lo| <= ulp(hi)/2, about 106 bits (32 decimal
 * digits) of significand with the exponent range of a double.
 *
 * Built on the error-free transformations (Knuth's TwoSum, Dekker's
 * Fast2Sum, and TwoProd through C99 fma): for doubles a, b,
 *     two_sum(a, b)  = (s, e) with s = fl(a + b) and s + e = a + b exactly,
 *     two_prod(a, b) = (p, e) with p = fl(a * b) and p + e = a * b exactly
 * (the latter because fma(a, b, -p) rounds the exact a*b - p, which is a
 * double). The compound operations are the "accurate" ones of Hida, Li and
 * Bailey (QD library, 2001) and Joldes, Muller and Popescu (ACM TOMS 44,
 * 2017): relative error of add ~ 3 u^2, mul ~ 4 u^2, div ~ 10 u^2, with
 * u = 2^-53. Everything is a static inline function so the compiler keeps
 * the pairs in registers; -ffp-contract=off guarantees no other fused
 * multiply-adds change these carefully ordered roundings.
 *
 * Range: as double, but lo underflows first, so numbers below ~1e-292 lose
 * precision gracefully (callers scale: see ols.c's equilibration).
 */
#ifndef TPE_DD_H
#define TPE_DD_H

#include <math.h>

typedef struct tpe_dd {
    double hi, lo;
} tpe_dd;

static inline tpe_dd tpe_dd_make(double hi, double lo)
{
    tpe_dd r;
    r.hi = hi;
    r.lo = lo;
    return r;
}

static inline tpe_dd tpe_dd_from(double a) { return tpe_dd_make(a, 0.0); }

/* Knuth's TwoSum: s + e == a + b exactly, no condition on magnitudes. */
static inline tpe_dd tpe_dd_two_sum(double a, double b)
{
    double s = a + b, bb = s - a;
    return tpe_dd_make(s, (a - (s - bb)) + (b - bb));
}

/* Dekker's Fast2Sum: exact when |a| >= |b| (or a == 0). */
static inline tpe_dd tpe_dd_fast_two_sum(double a, double b)
{
    double s = a + b;
    return tpe_dd_make(s, b - (s - a));
}

/* TwoProd: p + e == a * b exactly (barring underflow) through fma. */
static inline tpe_dd tpe_dd_two_prod(double a, double b)
{
    double p = a * b;
    return tpe_dd_make(p, fma(a, b, -p));
}

static inline tpe_dd tpe_dd_neg(tpe_dd a) { return tpe_dd_make(-a.hi, -a.lo); }

/* x + y, the accurate (IEEE-style) variant: both pairs of parts summed exactly. */
static inline tpe_dd tpe_dd_add(tpe_dd x, tpe_dd y)
{
    tpe_dd s = tpe_dd_two_sum(x.hi, y.hi), t = tpe_dd_two_sum(x.lo, y.lo);
    s.lo += t.hi;
    s = tpe_dd_fast_two_sum(s.hi, s.lo);
    s.lo += t.lo;
    return tpe_dd_fast_two_sum(s.hi, s.lo);
}

static inline tpe_dd tpe_dd_sub(tpe_dd x, tpe_dd y) { return tpe_dd_add(x, tpe_dd_neg(y)); }

/* x + b for a double b. */
static inline tpe_dd tpe_dd_add_d(tpe_dd x, double b)
{
    tpe_dd s = tpe_dd_two_sum(x.hi, b);
    s.lo += x.lo;
    return tpe_dd_fast_two_sum(s.hi, s.lo);
}

/* x * y: the exact product of the high parts plus the cross terms. */
static inline tpe_dd tpe_dd_mul(tpe_dd x, tpe_dd y)
{
    tpe_dd p = tpe_dd_two_prod(x.hi, y.hi);
    p.lo += x.hi * y.lo + x.lo * y.hi;
    return tpe_dd_fast_two_sum(p.hi, p.lo);
}

static inline tpe_dd tpe_dd_mul_d(tpe_dd x, double b)
{
    tpe_dd p = tpe_dd_two_prod(x.hi, b);
    p.lo += x.lo * b;
    return tpe_dd_fast_two_sum(p.hi, p.lo);
}

/* x / y: one long-division step in double, the remainder in double-double. */
static inline tpe_dd tpe_dd_div(tpe_dd x, tpe_dd y)
{
    double q1 = x.hi / y.hi, q2;
    tpe_dd r = tpe_dd_sub(x, tpe_dd_mul_d(y, q1));
    q2 = r.hi / y.hi;
    r = tpe_dd_sub(r, tpe_dd_mul_d(y, q2));
    return tpe_dd_add_d(tpe_dd_fast_two_sum(q1, q2), r.hi / y.hi);
}

/* sqrt(x) for x >= 0: one Newton step on the double square root,
 * sqrt(x) ~ s + (x - s^2) / (2 s), with s^2 exact through TwoProd. */
static inline tpe_dd tpe_dd_sqrt(tpe_dd x)
{
    double s;
    tpe_dd r;
    if (x.hi <= 0.0) return tpe_dd_from(x.hi == 0.0 ? 0.0 : (double)NAN);
    s = sqrt(x.hi);
    r = tpe_dd_sub(x, tpe_dd_two_prod(s, s));
    return tpe_dd_fast_two_sum(s, r.hi / (2.0 * s));
}

/* x * 2^e exactly (both parts scale by the same power of two). */
static inline tpe_dd tpe_dd_ldexp(tpe_dd x, int e) { return tpe_dd_make(ldexp(x.hi, e), ldexp(x.lo, e)); }

/* The nearest double to hi + lo. */
static inline double tpe_dd_to_double(tpe_dd x) { return x.hi + x.lo; }

#endif
