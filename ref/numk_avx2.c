/*
 * numk_avx2.c -- AVX2+FMA kernels of the numerics; scalar twins in numk.c.
 * The elementwise kernels (dd_axpy, drot_seq) do exactly the scalar twin's
 * operations lane by lane, so they give the same bits; dd_dot keeps four
 * lanes of partial sums and so differs from its twin at the u^2 level.
 */
#include "kernels_impl.h"

#if TPE_BUILD_AVX2
#include <immintrin.h>

void tpe_dd_dot_avx2(size_t n, const double *xh, const double *xl, const double *yh, const double *yl, double *sh,
                     double *sl)
{
    __m256d h = _mm256_setzero_pd(), l = _mm256_setzero_pd();
    double hv[4], lv[4], rh, rl, th, tl;
    size_t i = 0;
    int j;
    for (; i + 4 <= n; i += 4) {
        __m256d a = _mm256_loadu_pd(xh + i), b = _mm256_loadu_pd(yh + i);
        __m256d al = _mm256_loadu_pd(xl + i), bl = _mm256_loadu_pd(yl + i);
        __m256d ph = _mm256_mul_pd(a, b);
        __m256d pl = _mm256_add_pd(_mm256_fmsub_pd(a, b, ph), _mm256_add_pd(_mm256_mul_pd(a, bl), _mm256_mul_pd(al, b)));
        __m256d s = _mm256_add_pd(h, ph), bb = _mm256_sub_pd(s, h);
        __m256d e = _mm256_add_pd(_mm256_sub_pd(h, _mm256_sub_pd(s, bb)), _mm256_sub_pd(ph, bb));
        l = _mm256_add_pd(l, _mm256_add_pd(e, pl));
        h = s;
    }
    _mm256_storeu_pd(hv, h);
    _mm256_storeu_pd(lv, l);
    /* the lanes and the tail, summed as double-doubles (TwoSum on the highs) */
    tpe_dd_dot_scalar(n - i, xh + i, xl + i, yh + i, yl + i, &rh, &rl);
    for (j = 0; j < 4; j++) {
        double s = rh + hv[j], bb = s - rh;
        rl += ((rh - (s - bb)) + (hv[j] - bb)) + lv[j];
        rh = s;
    }
    th = rh + rl;
    tl = rl - (th - rh);
    *sh = th;
    *sl = tl;
}

void tpe_dd_axpy_avx2(size_t n, double ah, double al, const double *xh, const double *xl, double *yh, double *yl)
{
    const __m256d vah = _mm256_set1_pd(ah), val = _mm256_set1_pd(al);
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        __m256d x = _mm256_loadu_pd(xh + i), xlo = _mm256_loadu_pd(xl + i);
        __m256d y = _mm256_loadu_pd(yh + i), ylo = _mm256_loadu_pd(yl + i);
        __m256d ph = _mm256_mul_pd(vah, x);
        __m256d pl = _mm256_add_pd(_mm256_fmsub_pd(vah, x, ph), _mm256_add_pd(_mm256_mul_pd(vah, xlo), _mm256_mul_pd(val, x)));
        __m256d s = _mm256_add_pd(y, ph), bb = _mm256_sub_pd(s, y);
        __m256d e = _mm256_add_pd(_mm256_sub_pd(y, _mm256_sub_pd(s, bb)), _mm256_sub_pd(ph, bb));
        __m256d t = _mm256_add_pd(ylo, pl), cc = _mm256_sub_pd(t, ylo);
        __m256d f = _mm256_add_pd(_mm256_sub_pd(ylo, _mm256_sub_pd(t, cc)), _mm256_sub_pd(pl, cc)), u;
        e = _mm256_add_pd(e, t);
        u = _mm256_add_pd(s, e);
        e = _mm256_sub_pd(e, _mm256_sub_pd(u, s));
        e = _mm256_add_pd(e, f);
        s = _mm256_add_pd(u, e);
        _mm256_storeu_pd(yl + i, _mm256_sub_pd(e, _mm256_sub_pd(s, u)));
        _mm256_storeu_pd(yh + i, s);
    }
    tpe_dd_axpy_scalar(n - i, ah, al, xh + i, xl + i, yh + i, yl + i);
}

/* Rows in blocks of 16 (four ymm): the block of column k is carried in
 * registers from rotation k-1 to rotation k, so each entry of Z is loaded
 * and stored once per sweep instead of twice. */
void tpe_drot_seq_avx2(size_t rows, size_t nrot, const double *c, const double *s, double *Z, size_t ldz)
{
    size_t i = 0, k;
    for (; i + 16 <= rows; i += 16) {
        double *z = Z + i;
        __m256d x0 = _mm256_loadu_pd(z), x1 = _mm256_loadu_pd(z + 4), x2 = _mm256_loadu_pd(z + 8),
                x3 = _mm256_loadu_pd(z + 12);
        for (k = 0; k < nrot; k++) {
            double *zk = z + k * ldz, *zn = zk + ldz;
            __m256d ck = _mm256_set1_pd(c[k]), sk = _mm256_set1_pd(s[k]);
            __m256d y0 = _mm256_loadu_pd(zn), y1 = _mm256_loadu_pd(zn + 4), y2 = _mm256_loadu_pd(zn + 8),
                    y3 = _mm256_loadu_pd(zn + 12);
            _mm256_storeu_pd(zk, _mm256_add_pd(_mm256_mul_pd(ck, x0), _mm256_mul_pd(sk, y0)));
            _mm256_storeu_pd(zk + 4, _mm256_add_pd(_mm256_mul_pd(ck, x1), _mm256_mul_pd(sk, y1)));
            _mm256_storeu_pd(zk + 8, _mm256_add_pd(_mm256_mul_pd(ck, x2), _mm256_mul_pd(sk, y2)));
            _mm256_storeu_pd(zk + 12, _mm256_add_pd(_mm256_mul_pd(ck, x3), _mm256_mul_pd(sk, y3)));
            x0 = _mm256_sub_pd(_mm256_mul_pd(ck, y0), _mm256_mul_pd(sk, x0));
            x1 = _mm256_sub_pd(_mm256_mul_pd(ck, y1), _mm256_mul_pd(sk, x1));
            x2 = _mm256_sub_pd(_mm256_mul_pd(ck, y2), _mm256_mul_pd(sk, x2));
            x3 = _mm256_sub_pd(_mm256_mul_pd(ck, y3), _mm256_mul_pd(sk, x3));
        }
        z += nrot * ldz;
        _mm256_storeu_pd(z, x0);
        _mm256_storeu_pd(z + 4, x1);
        _mm256_storeu_pd(z + 8, x2);
        _mm256_storeu_pd(z + 12, x3);
    }
    if (i < rows) tpe_drot_seq_scalar(rows - i, nrot, c, s, Z + i, ldz);
}

#else
typedef int tpe_numk_avx2_not_built; /* ISO C forbids an empty translation unit */
#endif
