/*
 * exactsum.c -- the long accumulator of exactsum.h. A double's bits are
 * split with memcpy (IEEE 754 binary64 is assumed, as everywhere in tpe):
 * biased exponent E and fraction F give
 *     E == 0:  x = F 2^-1074                       (subnormal or zero)
 *     E >= 1:  x = (2^52 + F) 2^(E - 1075) = (2^52 + F) 2^(E - 1) 2^-1074,
 * so the integer mantissa m (at most 53 bits) is added at bit E - 1 (or 0).
 */
#include "exactsum.h"
#include "tpe.h"

#include <string.h>

#define L TPE_XSUM_LIMBS
#define FRAC_MASK ((UINT64_C(1) << 52) - 1)

int tpe_xsum_init(tpe_xsum *s, size_t n)
{
    s->n = n;
    s->limb = NULL;
    if (n == 0) return TPE_OK;
    s->limb = tpe_calloc_array(n, L * sizeof *s->limb, "exact accumulators");
    return s->limb ? TPE_OK : TPE_ENOMEM;
}

void tpe_xsum_free(tpe_xsum *s)
{
    tpe_free(s->limb);
    s->limb = NULL;
    s->n = 0;
}

void tpe_xsum_clear(tpe_xsum *s)
{
    if (s->n) memset(s->limb, 0, s->n * L * sizeof *s->limb);
}

/* a[k..] += v; returns the carry out of the top limb */
static int add_at(uint64_t *a, size_t k, uint64_t v)
{
    for (; k < L; k++) {
        a[k] += v;
        if (a[k] >= v) return 0;
        v = 1;
    }
    return 1;
}

int tpe_xsum_add(tpe_xsum *s, size_t i, double x)
{
    uint64_t bits, m, e;
    size_t shift, k;
    unsigned sh;
    uint64_t *a = s->limb + i * L;
    memcpy(&bits, &x, sizeof bits);
    e = (bits >> 52) & 0x7ff;
    m = bits & FRAC_MASK;
    if (e == 0x7ff) return tpe_error(TPE_ENUMERIC, "exact sum %zu: cannot add %g (not finite)", i, x);
    if (bits >> 63) {
        if (e == 0 && m == 0) return TPE_OK; /* -0 */
        return tpe_error(TPE_ENUMERIC, "exact sum %zu: cannot add %.17g (negative)", i, x);
    }
    if (e >= 1023 + 64) return tpe_error(TPE_ENUMERIC, "exact sum %zu: cannot add %.17g (not below 2^64)", i, x);
    if (e == 0) {
        if (m == 0) return TPE_OK;
        shift = 0;
    } else {
        m |= UINT64_C(1) << 52;
        shift = (size_t)(e - 1);
    }
    k = shift / 64;
    sh = (unsigned)(shift % 64);
    /* m spans limbs k and k + 1 (k + 1 < L since shift <= 1085) */
    if (add_at(a, k, m << sh) || (sh && add_at(a, k + 1, m >> (64 - sh))))
        return tpe_error(TPE_ENUMERIC, "exact sum %zu: overflow (the sum reached 2^78)", i);
    return TPE_OK;
}

int tpe_xsum_add_vec(tpe_xsum *s, const double *x)
{
    size_t i;
    int rc;
    for (i = 0; i < s->n; i++)
        if ((rc = tpe_xsum_add(s, i, x[i]))) return rc;
    return TPE_OK;
}

size_t tpe_xsum_add_limbs(uint64_t *dst, const uint64_t *src, size_t count)
{
    size_t i, k, over = 0;
    for (i = 0; i < count; i++, dst += L, src += L) {
        uint64_t carry = 0;
        for (k = 0; k < L; k++) {
            uint64_t t = dst[k] + src[k];
            uint64_t c1 = t < src[k];
            dst[k] = t + carry;
            carry = c1 | (dst[k] < carry);
        }
        over += (size_t)carry;
    }
    return over;
}

int tpe_xsum_merge(tpe_xsum *dst, const tpe_xsum *src)
{
    if (dst->n != src->n) return tpe_error(TPE_EINVAL, "merging %zu exact sums into %zu", src->n, dst->n);
    if (tpe_xsum_add_limbs(dst->limb, src->limb, dst->n))
        return tpe_error(TPE_ENUMERIC, "exact sums: overflow while merging (a sum reached 2^78)");
    return TPE_OK;
}

/* n <= 64 bits of a starting at bit lo (bits past the top read as 0) */
static uint64_t bits_at(const uint64_t *a, size_t lo, unsigned n)
{
    size_t w = lo / 64;
    unsigned off = (unsigned)(lo % 64);
    uint64_t v = a[w] >> off;
    if (off && w + 1 < L) v |= a[w + 1] << (64 - off);
    return n == 64 ? v : v & ((UINT64_C(1) << n) - 1);
}

/* 1 when any of bits 0 .. q-1 is set */
static int any_below(const uint64_t *a, size_t q)
{
    size_t w;
    for (w = 0; w < q / 64; w++)
        if (a[w]) return 1;
    return q % 64 ? (a[q / 64] & ((UINT64_C(1) << (q % 64)) - 1)) != 0 : 0;
}

double tpe_xsum_round_limbs(const uint64_t *a)
{
    size_t h = L, p;
    uint64_t m, bits;
    double x;
    while (h > 0 && a[h - 1] == 0) h--;
    if (h == 0) return 0.0;
    h--;
    for (p = 63; !((a[h] >> p) & 1); p--) continue;
    p += 64 * h; /* the most significant set bit: sum in [2^(p-1074), 2^(p-1073)) */
    if (p < 53) {
        /* below 2^-1021: the integer itself is the double's bit pattern
         * (subnormal when p < 52, the least binade of normals when p == 52) */
        bits = a[0];
    } else {
        /* the 53 bits p-52 .. p, rounded to nearest, ties to even, on bit
         * p-53 and the sticky bits below it */
        m = bits_at(a, p - 52, 53);
        if (((a[(p - 53) / 64] >> ((p - 53) % 64)) & 1) && ((m & 1) || any_below(a, p - 53))) m++;
        /* biased exponent p - 51, fraction m - 2^52; m == 2^53 after rounding
         * carries into the exponent by the addition itself */
        bits = ((uint64_t)(p - 52) << 52) + m;
    }
    memcpy(&x, &bits, sizeof x);
    return x;
}

double tpe_xsum_round(const tpe_xsum *s, size_t i) { return tpe_xsum_round_limbs(s->limb + i * L); }
