/*
 * act_avx2.c -- AVX2 versions of the fast path's vector kernels (act.h);
 * scalar twins in act.c. Eight floats at a time; the same float operations
 * in the same order as the scalar code (no FMA), remainders to the twin.
 */
#include "act.h"

#if TPE_BUILD_AVX2
#include <immintrin.h>

/* e^x on eight lanes: act.c's exp_core, lane by lane */
static __m256 exp8(__m256 x)
{
    const __m256 lo = _mm256_set1_ps(TPE_EXP_LO), hi = _mm256_set1_ps(TPE_EXP_HI);
    const __m256 magic = _mm256_set1_ps(TPE_EXP_MAGIC);
    __m256 under = _mm256_cmp_ps(x, lo, _CMP_LT_OQ);
    __m256 xc = _mm256_min_ps(_mm256_max_ps(x, lo), hi);
    __m256 t = _mm256_add_ps(_mm256_mul_ps(xc, _mm256_set1_ps(TPE_EXP_LOG2E)), magic);
    __m256 n = _mm256_sub_ps(t, magic);
    __m256 r = _mm256_sub_ps(xc, _mm256_mul_ps(n, _mm256_set1_ps(TPE_EXP_LN2_HI)));
    __m256 p = _mm256_set1_ps(1.0f / 5040.0f);
    __m256i e;
    r = _mm256_sub_ps(r, _mm256_mul_ps(n, _mm256_set1_ps(TPE_EXP_LN2_LO)));
    p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(1.0f / 720.0f));
    p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(1.0f / 120.0f));
    p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(1.0f / 24.0f));
    p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(1.0f / 6.0f));
    p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(0.5f));
    p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(1.0f));
    p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(1.0f));
    e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    p = _mm256_mul_ps(p, _mm256_castsi256_ps(e));
    return _mm256_andnot_ps(under, p);
}

float tpe_smax_avx2(size_t n, const float *x)
{
    size_t i = 0;
    float m;
    if (n >= 8) {
        __m256 v = _mm256_loadu_ps(x);
        __m128 s;
        for (i = 8; i + 8 <= n; i += 8) v = _mm256_max_ps(v, _mm256_loadu_ps(x + i));
        s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
        s = _mm_max_ps(s, _mm_movehl_ps(s, s));
        s = _mm_max_ss(s, _mm_shuffle_ps(s, s, 1));
        m = _mm_cvtss_f32(s);
        if (i < n) {
            float r = tpe_smax_scalar(n - i, x + i);
            if (r > m) m = r;
        }
        return m;
    }
    return tpe_smax_scalar(n, x);
}

double tpe_sexp_sum_avx2(size_t n, float shift, const float *x, float *y)
{
    __m256d s0 = _mm256_setzero_pd(), s1 = _mm256_setzero_pd();
    __m256 sh = _mm256_set1_ps(shift);
    __m128d h;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 e = exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i), sh));
        _mm256_storeu_ps(y + i, e);
        s0 = _mm256_add_pd(s0, _mm256_cvtps_pd(_mm256_castps256_ps128(e)));
        s1 = _mm256_add_pd(s1, _mm256_cvtps_pd(_mm256_extractf128_ps(e, 1)));
    }
    s0 = _mm256_add_pd(s0, s1);
    h = _mm_add_pd(_mm256_castpd256_pd128(s0), _mm256_extractf128_pd(s0, 1));
    h = _mm_add_sd(h, _mm_unpackhi_pd(h, h));
    return _mm_cvtsd_f64(h) + tpe_sexp_sum_scalar(n - i, shift, x + i, y + i);
}

void tpe_sgelu_tanh_avx2(size_t n, float *x)
{
    const __m256 k0 = _mm256_set1_ps(TPE_GELU_K0), k1 = _mm256_set1_ps(TPE_GELU_K1);
    const __m256 m2 = _mm256_set1_ps(-2.0f), one = _mm256_set1_ps(1.0f);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        __m256 v3 = _mm256_mul_ps(_mm256_mul_ps(v, v), v);
        __m256 u = _mm256_mul_ps(k0, _mm256_add_ps(v, _mm256_mul_ps(k1, v3)));
        __m256 e = exp8(_mm256_mul_ps(m2, u));
        _mm256_storeu_ps(x + i, _mm256_div_ps(v, _mm256_add_ps(one, e)));
    }
    tpe_sgelu_tanh_scalar(n - i, x + i);
}

void tpe_acc_f64_avx2(size_t n, double a, const float *x, double *acc)
{
    __m256d va = _mm256_set1_pd(a);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        __m256d lo = _mm256_mul_pd(va, _mm256_cvtps_pd(_mm256_castps256_ps128(v)));
        __m256d hi = _mm256_mul_pd(va, _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
        _mm256_storeu_pd(acc + i, _mm256_add_pd(_mm256_loadu_pd(acc + i), lo));
        _mm256_storeu_pd(acc + i + 4, _mm256_add_pd(_mm256_loadu_pd(acc + i + 4), hi));
    }
    tpe_acc_f64_scalar(n - i, a, x + i, acc + i);
}

void tpe_sscal_avx2(size_t n, float a, float *x)
{
    __m256 va = _mm256_set1_ps(a);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, _mm256_mul_ps(va, _mm256_loadu_ps(x + i)));
    tpe_sscal_scalar(n - i, a, x + i);
}

void tpe_smax_into_avx2(size_t n, const float *x, float *m)
{
    size_t i = 0;
    /* maxps(x, m) is m where x > m fails: the scalar twin's rule */
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(m + i, _mm256_max_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(m + i)));
    tpe_smax_into_scalar(n - i, x + i, m + i);
}

void tpe_sexp_sub_acc_avx2(size_t n, const float *x, const float *m, float *y, double *z)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 e = exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(m + i)));
        _mm256_storeu_ps(y + i, e);
        _mm256_storeu_pd(z + i, _mm256_add_pd(_mm256_loadu_pd(z + i), _mm256_cvtps_pd(_mm256_castps256_ps128(e))));
        _mm256_storeu_pd(z + i + 4, _mm256_add_pd(_mm256_loadu_pd(z + i + 4), _mm256_cvtps_pd(_mm256_extractf128_ps(e, 1))));
    }
    tpe_sexp_sub_acc_scalar(n - i, x + i, m + i, y + i, z + i);
}

double tpe_sdot_f64_avx2(size_t n, const float *x, const double *w)
{
    __m256d s0 = _mm256_setzero_pd(), s1 = _mm256_setzero_pd();
    __m128d h;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        s0 = _mm256_add_pd(s0, _mm256_mul_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(v)), _mm256_loadu_pd(w + i)));
        s1 = _mm256_add_pd(s1, _mm256_mul_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)), _mm256_loadu_pd(w + i + 4)));
    }
    s0 = _mm256_add_pd(s0, s1);
    h = _mm_add_pd(_mm256_castpd256_pd128(s0), _mm256_extractf128_pd(s0, 1));
    h = _mm_add_sd(h, _mm_unpackhi_pd(h, h));
    return _mm_cvtsd_f64(h) + tpe_sdot_f64_scalar(n - i, x + i, w + i);
}

#else
typedef int tpe_act_avx2_not_built; /* ISO C forbids an empty translation unit */
#endif
