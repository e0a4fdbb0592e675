/*
 * gemm_neon.c -- AArch64 Advanced SIMD GEMM micro-kernels.
 *
 * sgemm: 8 x 12 tile. Per step p: the 8 packed A entries are two q
 * registers, the 12 packed B entries three; each accumulator row-segment
 *     c[i][4j:4j+4] += a[p*8+i] * b[p*12 + 4j : 4j+4]
 * is one vfmaq_laneq_f32 (lane i of the A register). 24 accumulators + 3 B
 * + 2 A = 29 of the 32 vector registers.
 * dgemm: 6 x 8 tile, 2 doubles per register: 24 accumulators + 4 B + 3 A.
 * The *_pb kernels read B unpacked and pack it as they go (cpu.h).
 * Scalar twins: tpe_[sd]gemm_ukr_ref and tpe_[sd]gemm_ukr_pb_scalar in gemm.c.
 */
#include "kernels_impl.h"

#if TPE_BUILD_NEON
#include <arm_neon.h>

#define S_ROW(r, av, lane)                                                                                       \
    do {                                                                                                         \
        acc[r][0] = vfmaq_laneq_f32(acc[r][0], b0, av, lane);                                                    \
        acc[r][1] = vfmaq_laneq_f32(acc[r][1], b1, av, lane);                                                    \
        acc[r][2] = vfmaq_laneq_f32(acc[r][2], b2, av, lane);                                                    \
    } while (0)

/* The tile with row p of B at b + p * bs; when bp is not NULL, each row is
 * also stored into the packed panel bp and row p of `next` is prefetched
 * (the fused kernel, see cpu.h). Inlined into both kernels, where bs and bp
 * are constants for the packed one. */
static inline void s_tile(size_t kc, float alpha, const float *a, const float *b, size_t bs, const float *next,
                          float *bp, float beta, float *c, size_t ldc)
{
    float32x4_t acc[8][3];
    size_t p, i, j;
    for (i = 0; i < 8; i++)
        for (j = 0; j < 3; j++) acc[i][j] = vdupq_n_f32(0.0f);
    for (p = 0; p < kc; p++, a += 8, b += bs) {
        float32x4_t a0 = vld1q_f32(a), a1 = vld1q_f32(a + 4);
        float32x4_t b0 = vld1q_f32(b), b1 = vld1q_f32(b + 4), b2 = vld1q_f32(b + 8);
        if (bp) {
            TPE_PREFETCH(next + p * bs);
            TPE_PREFETCH(next + p * bs + 11);
            vst1q_f32(bp + 12 * p, b0);
            vst1q_f32(bp + 12 * p + 4, b1);
            vst1q_f32(bp + 12 * p + 8, b2);
        }
        S_ROW(0, a0, 0);
        S_ROW(1, a0, 1);
        S_ROW(2, a0, 2);
        S_ROW(3, a0, 3);
        S_ROW(4, a1, 0);
        S_ROW(5, a1, 1);
        S_ROW(6, a1, 2);
        S_ROW(7, a1, 3);
    }
    for (i = 0; i < 8; i++) {
        float *cr = c + i * ldc;
        for (j = 0; j < 3; j++) {
            float32x4_t x = vmulq_n_f32(acc[i][j], alpha);
            if (beta != 0.0f) x = vfmaq_n_f32(x, vld1q_f32(cr + 4 * j), beta);
            vst1q_f32(cr + 4 * j, x);
        }
    }
}

void tpe_sgemm_ukr_neon(size_t kc, float alpha, const float *a, const float *b, float beta, float *c, size_t ldc)
{
    s_tile(kc, alpha, a, b, 12, NULL, NULL, beta, c, ldc);
}

void tpe_sgemm_ukr_pb_neon(size_t kc, float alpha, const float *a, const float *b, size_t ldb, const float *next,
                           float *bp, float beta, float *c, size_t ldc)
{
    s_tile(kc, alpha, a, b, ldb, next, bp, beta, c, ldc);
}

#define D_ROW(r, av, lane)                                                                                       \
    do {                                                                                                         \
        acc[r][0] = vfmaq_laneq_f64(acc[r][0], b0, av, lane);                                                    \
        acc[r][1] = vfmaq_laneq_f64(acc[r][1], b1, av, lane);                                                    \
        acc[r][2] = vfmaq_laneq_f64(acc[r][2], b2, av, lane);                                                    \
        acc[r][3] = vfmaq_laneq_f64(acc[r][3], b3, av, lane);                                                    \
    } while (0)

static inline void d_tile(size_t kc, double alpha, const double *a, const double *b, size_t bs, const double *next,
                          double *bp, double beta, double *c, size_t ldc)
{
    float64x2_t acc[6][4];
    size_t p, i, j;
    for (i = 0; i < 6; i++)
        for (j = 0; j < 4; j++) acc[i][j] = vdupq_n_f64(0.0);
    for (p = 0; p < kc; p++, a += 6, b += bs) {
        float64x2_t a0 = vld1q_f64(a), a1 = vld1q_f64(a + 2), a2 = vld1q_f64(a + 4);
        float64x2_t b0 = vld1q_f64(b), b1 = vld1q_f64(b + 2), b2 = vld1q_f64(b + 4), b3 = vld1q_f64(b + 6);
        if (bp) {
            TPE_PREFETCH(next + p * bs);
            TPE_PREFETCH(next + p * bs + 7);
            vst1q_f64(bp + 8 * p, b0);
            vst1q_f64(bp + 8 * p + 2, b1);
            vst1q_f64(bp + 8 * p + 4, b2);
            vst1q_f64(bp + 8 * p + 6, b3);
        }
        D_ROW(0, a0, 0);
        D_ROW(1, a0, 1);
        D_ROW(2, a1, 0);
        D_ROW(3, a1, 1);
        D_ROW(4, a2, 0);
        D_ROW(5, a2, 1);
    }
    for (i = 0; i < 6; i++) {
        double *cr = c + i * ldc;
        for (j = 0; j < 4; j++) {
            float64x2_t x = vmulq_n_f64(acc[i][j], alpha);
            if (beta != 0.0) x = vfmaq_n_f64(x, vld1q_f64(cr + 2 * j), beta);
            vst1q_f64(cr + 2 * j, x);
        }
    }
}

void tpe_dgemm_ukr_neon(size_t kc, double alpha, const double *a, const double *b, double beta, double *c,
                        size_t ldc)
{
    d_tile(kc, alpha, a, b, 8, NULL, NULL, beta, c, ldc);
}

void tpe_dgemm_ukr_pb_neon(size_t kc, double alpha, const double *a, const double *b, size_t ldb,
                           const double *next, double *bp, double beta, double *c, size_t ldc)
{
    d_tile(kc, alpha, a, b, ldb, next, bp, beta, c, ldc);
}

#else
typedef int tpe_gemm_neon_not_built; /* ISO C forbids an empty translation unit */
#endif
