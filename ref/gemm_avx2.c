/*
 * gemm_avx2.c -- AVX2+FMA GEMM micro-kernels (compiled with -mavx2 -mfma;
 * reached only through the kernel table after cpu.c has checked the CPU).
 *
 * sgemm: 6 x 16 tile. Per step p of the rank-kc update, one row of the
 * packed B panel (16 floats = 2 ymm) is loaded, each of the 6 entries of the
 * packed A column is broadcast, and 12 FMAs update the 12 accumulators
 *     c[i][0:8]  += a[p*6+i] * b[p*16 + 0:8]
 *     c[i][8:16] += a[p*6+i] * b[p*16 + 8:16]
 * 12 accumulators + 2 B registers + 1 broadcast = 15 of the 16 ymm registers.
 * dgemm: 6 x 8, the same shape with 4 doubles per ymm.
 * Scalar twins: tpe_[sd]gemm_ukr_ref in gemm.c.
 */
#include "kernels_impl.h"

#if TPE_BUILD_AVX2
#include <immintrin.h>

#define S_STEP(k)                                                                                                \
    do {                                                                                                         \
        __m256 b0 = _mm256_loadu_ps(b + 16 * (k)), b1 = _mm256_loadu_ps(b + 16 * (k) + 8), av;                   \
        av = _mm256_broadcast_ss(a + 6 * (k) + 0);                                                               \
        c00 = _mm256_fmadd_ps(av, b0, c00);                                                                      \
        c01 = _mm256_fmadd_ps(av, b1, c01);                                                                      \
        av = _mm256_broadcast_ss(a + 6 * (k) + 1);                                                               \
        c10 = _mm256_fmadd_ps(av, b0, c10);                                                                      \
        c11 = _mm256_fmadd_ps(av, b1, c11);                                                                      \
        av = _mm256_broadcast_ss(a + 6 * (k) + 2);                                                               \
        c20 = _mm256_fmadd_ps(av, b0, c20);                                                                      \
        c21 = _mm256_fmadd_ps(av, b1, c21);                                                                      \
        av = _mm256_broadcast_ss(a + 6 * (k) + 3);                                                               \
        c30 = _mm256_fmadd_ps(av, b0, c30);                                                                      \
        c31 = _mm256_fmadd_ps(av, b1, c31);                                                                      \
        av = _mm256_broadcast_ss(a + 6 * (k) + 4);                                                               \
        c40 = _mm256_fmadd_ps(av, b0, c40);                                                                      \
        c41 = _mm256_fmadd_ps(av, b1, c41);                                                                      \
        av = _mm256_broadcast_ss(a + 6 * (k) + 5);                                                               \
        c50 = _mm256_fmadd_ps(av, b0, c50);                                                                      \
        c51 = _mm256_fmadd_ps(av, b1, c51);                                                                      \
    } while (0)

/* C row = alpha * acc (+ beta * C row); beta == 0 never reads C. */
#define S_STORE(row, lo, hi)                                                                                     \
    do {                                                                                                         \
        float *cr = c + (row) * ldc;                                                                             \
        __m256 x0 = _mm256_mul_ps(va, lo), x1 = _mm256_mul_ps(va, hi);                                           \
        if (beta != 0.0f) {                                                                                      \
            x0 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(cr), x0);                                                   \
            x1 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(cr + 8), x1);                                               \
        }                                                                                                        \
        _mm256_storeu_ps(cr, x0);                                                                                \
        _mm256_storeu_ps(cr + 8, x1);                                                                            \
    } while (0)

void tpe_sgemm_ukr_avx2(size_t kc, float alpha, const float *a, const float *b, float beta, float *c, size_t ldc)
{
    __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps(), c10 = _mm256_setzero_ps();
    __m256 c11 = _mm256_setzero_ps(), c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
    __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps(), c40 = _mm256_setzero_ps();
    __m256 c41 = _mm256_setzero_ps(), c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
    __m256 va, vb;
    size_t p = 0, i;
    /* the C tile is needed only at the end: ask for it now so the k loop
     * hides its latency (each row may straddle two cache lines) */
    for (i = 0; i < 6; i++) {
        _mm_prefetch((const char *)(c + i * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + i * ldc + 15), _MM_HINT_T0);
    }
    for (; p + 4 <= kc; p += 4, a += 24, b += 64) {
        S_STEP(0);
        S_STEP(1);
        S_STEP(2);
        S_STEP(3);
    }
    for (; p < kc; p++, a += 6, b += 16) S_STEP(0);
    va = _mm256_set1_ps(alpha);
    vb = _mm256_set1_ps(beta);
    S_STORE(0, c00, c01);
    S_STORE(1, c10, c11);
    S_STORE(2, c20, c21);
    S_STORE(3, c30, c31);
    S_STORE(4, c40, c41);
    S_STORE(5, c50, c51);
}

#define D_STEP(k)                                                                                                \
    do {                                                                                                         \
        __m256d b0 = _mm256_loadu_pd(b + 8 * (k)), b1 = _mm256_loadu_pd(b + 8 * (k) + 4), av;                    \
        av = _mm256_broadcast_sd(a + 6 * (k) + 0);                                                               \
        c00 = _mm256_fmadd_pd(av, b0, c00);                                                                      \
        c01 = _mm256_fmadd_pd(av, b1, c01);                                                                      \
        av = _mm256_broadcast_sd(a + 6 * (k) + 1);                                                               \
        c10 = _mm256_fmadd_pd(av, b0, c10);                                                                      \
        c11 = _mm256_fmadd_pd(av, b1, c11);                                                                      \
        av = _mm256_broadcast_sd(a + 6 * (k) + 2);                                                               \
        c20 = _mm256_fmadd_pd(av, b0, c20);                                                                      \
        c21 = _mm256_fmadd_pd(av, b1, c21);                                                                      \
        av = _mm256_broadcast_sd(a + 6 * (k) + 3);                                                               \
        c30 = _mm256_fmadd_pd(av, b0, c30);                                                                      \
        c31 = _mm256_fmadd_pd(av, b1, c31);                                                                      \
        av = _mm256_broadcast_sd(a + 6 * (k) + 4);                                                               \
        c40 = _mm256_fmadd_pd(av, b0, c40);                                                                      \
        c41 = _mm256_fmadd_pd(av, b1, c41);                                                                      \
        av = _mm256_broadcast_sd(a + 6 * (k) + 5);                                                               \
        c50 = _mm256_fmadd_pd(av, b0, c50);                                                                      \
        c51 = _mm256_fmadd_pd(av, b1, c51);                                                                      \
    } while (0)

#define D_STORE(row, lo, hi)                                                                                     \
    do {                                                                                                         \
        double *cr = c + (row) * ldc;                                                                            \
        __m256d x0 = _mm256_mul_pd(va, lo), x1 = _mm256_mul_pd(va, hi);                                          \
        if (beta != 0.0) {                                                                                       \
            x0 = _mm256_fmadd_pd(vb, _mm256_loadu_pd(cr), x0);                                                   \
            x1 = _mm256_fmadd_pd(vb, _mm256_loadu_pd(cr + 4), x1);                                               \
        }                                                                                                        \
        _mm256_storeu_pd(cr, x0);                                                                                \
        _mm256_storeu_pd(cr + 4, x1);                                                                            \
    } while (0)

void tpe_dgemm_ukr_avx2(size_t kc, double alpha, const double *a, const double *b, double beta, double *c,
                        size_t ldc)
{
    __m256d c00 = _mm256_setzero_pd(), c01 = _mm256_setzero_pd(), c10 = _mm256_setzero_pd();
    __m256d c11 = _mm256_setzero_pd(), c20 = _mm256_setzero_pd(), c21 = _mm256_setzero_pd();
    __m256d c30 = _mm256_setzero_pd(), c31 = _mm256_setzero_pd(), c40 = _mm256_setzero_pd();
    __m256d c41 = _mm256_setzero_pd(), c50 = _mm256_setzero_pd(), c51 = _mm256_setzero_pd();
    __m256d va, vb;
    size_t p = 0, i;
    for (i = 0; i < 6; i++) {
        _mm_prefetch((const char *)(c + i * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + i * ldc + 7), _MM_HINT_T0);
    }
    for (; p + 4 <= kc; p += 4, a += 24, b += 32) {
        D_STEP(0);
        D_STEP(1);
        D_STEP(2);
        D_STEP(3);
    }
    for (; p < kc; p++, a += 6, b += 8) D_STEP(0);
    va = _mm256_set1_pd(alpha);
    vb = _mm256_set1_pd(beta);
    D_STORE(0, c00, c01);
    D_STORE(1, c10, c11);
    D_STORE(2, c20, c21);
    D_STORE(3, c30, c31);
    D_STORE(4, c40, c41);
    D_STORE(5, c50, c51);
}

#else
typedef int tpe_gemm_avx2_not_built; /* ISO C forbids an empty translation unit */
#endif
