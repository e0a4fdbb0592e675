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
 *
 * Each precision has three micro-kernels (contracts in cpu.h), written once
 * in gemm_avx2_ukr.inc:
 *   ukr     the tile from packed A and packed B;
 *   ukr_pb  the same, reading B unpacked (row stride ldb) and writing the
 *           packed panel as it goes, prefetching the rows of the next panel;
 *   ukr4    the first 4 rows of a tile (the last row panel when m % 6 == 4,
 *           e.g. m = 256): 8 accumulators still fill both FMA pipes, where
 *           the 6-row kernel would spend a third of its work on padding;
 * and a packing kernel, pack_a6, for a full 6-row panel of untransposed A.
 * Scalar twins: tpe_[sd]gemm_ukr_ref, tpe_[sd]gemm_ukr_pb_scalar and
 * tpe_[sd]pack_a_ref in gemm.c.
 */
#include "kernels_impl.h"

#if TPE_BUILD_AVX2
#include <immintrin.h>

#define R float
#define V __m256
#define W 8
#define V_LOADU _mm256_loadu_ps
#define V_STOREU _mm256_storeu_ps
#define V_FMADD _mm256_fmadd_ps
#define V_BCAST _mm256_broadcast_ss
#define V_ZERO _mm256_setzero_ps
#define V_SET1 _mm256_set1_ps
#define V_MUL _mm256_mul_ps
#define UKR tpe_sgemm_ukr_avx2
#define UKR_PB tpe_sgemm_ukr_pb_avx2
#define UKR4 tpe_sgemm_ukr4_avx2
#include "gemm_avx2_ukr.inc" /* which #undefs these */

#define R double
#define V __m256d
#define W 4
#define V_LOADU _mm256_loadu_pd
#define V_STOREU _mm256_storeu_pd
#define V_FMADD _mm256_fmadd_pd
#define V_BCAST _mm256_broadcast_sd
#define V_ZERO _mm256_setzero_pd
#define V_SET1 _mm256_set1_pd
#define V_MUL _mm256_mul_pd
#define UKR tpe_dgemm_ukr_avx2
#define UKR_PB tpe_dgemm_ukr_pb_avx2
#define UKR4 tpe_dgemm_ukr4_avx2
#include "gemm_avx2_ukr.inc" /* which #undefs these */

/* The columns p.. kc-1 of a 6-row panel one by one (rows r0..r5, any type). */
#define PACK6_TAIL                                                                                               \
    for (; p < kc; p++, dst += 6) {                                                                              \
        dst[0] = r0[p];                                                                                          \
        dst[1] = r1[p];                                                                                          \
        dst[2] = r2[p];                                                                                          \
        dst[3] = r3[p];                                                                                          \
        dst[4] = r4[p];                                                                                          \
        dst[5] = r5[p];                                                                                          \
    }

/* Pack one 6-row panel of untransposed A: dst[p*6 + i] = a[i*lda + p].
 * Eight columns at a time: the 8 x 8 transpose of rows 0..5 (rows 6 and 7
 * would be the last two lanes; copies of rows 4 and 5 stand in) gives for
 * each column p the vector (a0[p], ..., a5[p], x, x), stored at dst + 6p;
 * the next column's store overwrites the two extra lanes, so the vector
 * loop stops while a column is left for the scalar tail to write last. */
void tpe_spack_a6_avx2(size_t kc, const float *a, size_t lda, float *dst)
{
    const float *r0 = a, *r1 = a + lda, *r2 = r1 + lda, *r3 = r2 + lda, *r4 = r3 + lda, *r5 = r4 + lda;
    size_t p = 0;
    for (; p + 9 <= kc; p += 8, dst += 48) {
        __m256 x0 = _mm256_loadu_ps(r0 + p), x1 = _mm256_loadu_ps(r1 + p), x2 = _mm256_loadu_ps(r2 + p);
        __m256 x3 = _mm256_loadu_ps(r3 + p), x4 = _mm256_loadu_ps(r4 + p), x5 = _mm256_loadu_ps(r5 + p);
        /* t0 = (x0[0] x1[0] x0[1] x1[1] | x0[4] x1[4] x0[5] x1[5]), t1 the same for columns 2,3 | 6,7 */
        __m256 t0 = _mm256_unpacklo_ps(x0, x1), t1 = _mm256_unpackhi_ps(x0, x1);
        __m256 t2 = _mm256_unpacklo_ps(x2, x3), t3 = _mm256_unpackhi_ps(x2, x3);
        __m256 t4 = _mm256_unpacklo_ps(x4, x5), t5 = _mm256_unpackhi_ps(x4, x5);
        /* s0 = (x0[0] x1[0] x2[0] x3[0] | same for column 4), s1 columns 1 | 5, s2 2 | 6, s3 3 | 7;
         * u0 = (x4[0] x5[0] . . | column 4), u1 1 | 5, u2 2 | 6, u3 3 | 7 */
        __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xEE);
        __m256 s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xEE);
        __m256 u0 = _mm256_shuffle_ps(t4, t4, 0x44), u1 = _mm256_shuffle_ps(t4, t4, 0xEE);
        __m256 u2 = _mm256_shuffle_ps(t5, t5, 0x44), u3 = _mm256_shuffle_ps(t5, t5, 0xEE);
        _mm256_storeu_ps(dst + 0, _mm256_permute2f128_ps(s0, u0, 0x20));
        _mm256_storeu_ps(dst + 6, _mm256_permute2f128_ps(s1, u1, 0x20));
        _mm256_storeu_ps(dst + 12, _mm256_permute2f128_ps(s2, u2, 0x20));
        _mm256_storeu_ps(dst + 18, _mm256_permute2f128_ps(s3, u3, 0x20));
        _mm256_storeu_ps(dst + 24, _mm256_permute2f128_ps(s0, u0, 0x31));
        _mm256_storeu_ps(dst + 30, _mm256_permute2f128_ps(s1, u1, 0x31));
        _mm256_storeu_ps(dst + 36, _mm256_permute2f128_ps(s2, u2, 0x31));
        _mm256_storeu_ps(dst + 42, _mm256_permute2f128_ps(s3, u3, 0x31));
    }
    PACK6_TAIL;
}

/* The same for doubles, four columns at a time: a 4 x 4 transpose of rows
 * 0..3 gives (a0[p] .. a3[p]) as one vector per column, and rows 4 and 5
 * interleaved give (a4[p], a5[p]) in one half of a vector. */
void tpe_dpack_a6_avx2(size_t kc, const double *a, size_t lda, double *dst)
{
    const double *r0 = a, *r1 = a + lda, *r2 = r1 + lda, *r3 = r2 + lda, *r4 = r3 + lda, *r5 = r4 + lda;
    size_t p = 0;
    for (; p + 4 <= kc; p += 4, dst += 24) {
        __m256d x0 = _mm256_loadu_pd(r0 + p), x1 = _mm256_loadu_pd(r1 + p), x2 = _mm256_loadu_pd(r2 + p);
        __m256d x3 = _mm256_loadu_pd(r3 + p), x4 = _mm256_loadu_pd(r4 + p), x5 = _mm256_loadu_pd(r5 + p);
        /* t0 = (x0[0] x1[0] | x0[2] x1[2]), t1 = (x0[1] x1[1] | x0[3] x1[3]); u0, u1 the same for rows 4, 5 */
        __m256d t0 = _mm256_unpacklo_pd(x0, x1), t1 = _mm256_unpackhi_pd(x0, x1);
        __m256d t2 = _mm256_unpacklo_pd(x2, x3), t3 = _mm256_unpackhi_pd(x2, x3);
        __m256d u0 = _mm256_unpacklo_pd(x4, x5), u1 = _mm256_unpackhi_pd(x4, x5);
        _mm256_storeu_pd(dst + 0, _mm256_permute2f128_pd(t0, t2, 0x20));
        _mm_storeu_pd(dst + 4, _mm256_castpd256_pd128(u0));
        _mm256_storeu_pd(dst + 6, _mm256_permute2f128_pd(t1, t3, 0x20));
        _mm_storeu_pd(dst + 10, _mm256_castpd256_pd128(u1));
        _mm256_storeu_pd(dst + 12, _mm256_permute2f128_pd(t0, t2, 0x31));
        _mm_storeu_pd(dst + 16, _mm256_extractf128_pd(u0, 1));
        _mm256_storeu_pd(dst + 18, _mm256_permute2f128_pd(t1, t3, 0x31));
        _mm_storeu_pd(dst + 22, _mm256_extractf128_pd(u1, 1));
    }
    PACK6_TAIL;
}

#else
typedef int tpe_gemm_avx2_not_built; /* ISO C forbids an empty translation unit */
#endif
