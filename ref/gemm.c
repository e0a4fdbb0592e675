/*
 * gemm.c -- the blocked GEMM framework, the scalar micro-kernel and the
 * naive oracle.
 *
 * The five loops (BLIS naming), for row-major C = alpha*op(A)*op(B) + beta*C:
 *
 *   for jc in [0, n) step NC          -- a column block of C and B
 *     for pc in [0, k) step KC        -- a rank-KC update
 *       for ic in [0, m) step MC      -- a row block of C and A
 *         pack A[ic:ic+mc, pc:pc+kc] into MR x KC micro-panels (stays in L2)
 *         for jr in [0, nc) step NR   -- macro-kernel
 *           (ic == 0: pack B[pc:pc+kc, jc+jr:jc+jr+NR] into a KC x NR panel)
 *           for ir in [0, mc) step MR
 *             micro-kernel: C[ir:ir+MR, jr:jr+NR] (+)= Ap_ir * Bp_jr
 *
 * B is packed during the first row block, panel by panel, and reused by the
 * later ones. A full panel of plain B is packed by the fused micro-kernel
 * of its first tile, which reads B where it lies and stores the packed copy
 * as it computes (so the loads from memory overlap the arithmetic) and
 * prefetches the rows of the next panel; B^T and a narrow last panel are
 * packed by a loop before use. Packing pads partial panels with zeros, so
 * the micro-kernel never branches on the edge; edge tiles are computed into
 * a small buffer and copied out, except those of the path's edge height
 * (4 rows on AVX2), which have a kernel of their own. beta is applied on
 * the first rank-KC update only (later ones add with beta = 1), and
 * beta == 0 never reads C.
 */
#include "gemm.h"
#include "kernels_impl.h"
#include "tpe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

/* ---- naive oracles ----------------------------------------------------- */
void tpe_sgemm_naive(tpe_trans ta, tpe_trans tb, size_t m, size_t n, size_t k, float alpha, const float *A,
                     size_t lda, const float *B, size_t ldb, float beta, float *C, size_t ldc)
{
    size_t i, j, p;
    for (i = 0; i < m; i++)
        for (j = 0; j < n; j++) {
            float s = 0.0f;
            if (alpha != 0.0f)
                for (p = 0; p < k; p++) {
                    float a = ta ? A[p * lda + i] : A[i * lda + p];
                    float b = tb ? B[j * ldb + p] : B[p * ldb + j];
                    s += a * b;
                }
            C[i * ldc + j] = beta == 0.0f ? alpha * s : alpha * s + beta * C[i * ldc + j];
        }
}

void tpe_dgemm_naive(tpe_trans ta, tpe_trans tb, size_t m, size_t n, size_t k, double alpha, const double *A,
                     size_t lda, const double *B, size_t ldb, double beta, double *C, size_t ldc)
{
    size_t i, j, p;
    for (i = 0; i < m; i++)
        for (j = 0; j < n; j++) {
            double s = 0.0;
            if (alpha != 0.0)
                for (p = 0; p < k; p++) {
                    double a = ta ? A[p * lda + i] : A[i * lda + p];
                    double b = tb ? B[j * ldb + p] : B[p * ldb + j];
                    s += a * b;
                }
            C[i * ldc + j] = beta == 0.0 ? alpha * s : alpha * s + beta * C[i * ldc + j];
        }
}

/* ---- scalar micro-kernels ---------------------------------------------- */
void tpe_sgemm_ukr_ref(size_t mr, size_t nr, size_t kc, float alpha, const float *a, const float *b, float beta,
                       float *c, size_t ldc)
{
    size_t i, j, p;
    for (i = 0; i < mr; i++)
        for (j = 0; j < nr; j++) {
            float s = 0.0f;
            for (p = 0; p < kc; p++) s += a[p * mr + i] * b[p * nr + j];
            c[i * ldc + j] = beta == 0.0f ? alpha * s : alpha * s + beta * c[i * ldc + j];
        }
}

void tpe_dgemm_ukr_ref(size_t mr, size_t nr, size_t kc, double alpha, const double *a, const double *b,
                       double beta, double *c, size_t ldc)
{
    size_t i, j, p;
    for (i = 0; i < mr; i++)
        for (j = 0; j < nr; j++) {
            double s = 0.0;
            for (p = 0; p < kc; p++) s += a[p * mr + i] * b[p * nr + j];
            c[i * ldc + j] = beta == 0.0 ? alpha * s : alpha * s + beta * c[i * ldc + j];
        }
}

/* The portable path: a register-tile of accumulators the compiler can keep
 * in registers, in the same order of operations as tpe_*gemm_ukr_ref. */
void tpe_sgemm_ukr_scalar(size_t kc, float alpha, const float *a, const float *b, float beta, float *c, size_t ldc)
{
    enum { MR = TPE_SCALAR_SMR, NR = TPE_SCALAR_SNR };
    float acc[MR][NR];
    size_t i, j, p;
    memset(acc, 0, sizeof acc);
    for (p = 0; p < kc; p++, a += MR, b += NR)
        for (i = 0; i < MR; i++)
            for (j = 0; j < NR; j++) acc[i][j] += a[i] * b[j];
    for (i = 0; i < MR; i++)
        for (j = 0; j < NR; j++)
            c[i * ldc + j] = beta == 0.0f ? alpha * acc[i][j] : alpha * acc[i][j] + beta * c[i * ldc + j];
}

void tpe_dgemm_ukr_scalar(size_t kc, double alpha, const double *a, const double *b, double beta, double *c,
                          size_t ldc)
{
    enum { MR = TPE_SCALAR_DMR, NR = TPE_SCALAR_DNR };
    double acc[MR][NR];
    size_t i, j, p;
    memset(acc, 0, sizeof acc);
    for (p = 0; p < kc; p++, a += MR, b += NR)
        for (i = 0; i < MR; i++)
            for (j = 0; j < NR; j++) acc[i][j] += a[i] * b[j];
    for (i = 0; i < MR; i++)
        for (j = 0; j < NR; j++)
            c[i * ldc + j] = beta == 0.0 ? alpha * acc[i][j] : alpha * acc[i][j] + beta * c[i * ldc + j];
}

/* The twin of the packing kernels (cpu.h: spack_a, dpack_a). */
void tpe_spack_a_ref(size_t mr, size_t kc, const float *a, size_t lda, float *dst)
{
    size_t i, p;
    for (i = 0; i < mr; i++)
        for (p = 0; p < kc; p++) dst[p * mr + i] = a[i * lda + p];
}

void tpe_dpack_a_ref(size_t mr, size_t kc, const double *a, size_t lda, double *dst)
{
    size_t i, p;
    for (i = 0; i < mr; i++)
        for (p = 0; p < kc; p++) dst[p * mr + i] = a[i * lda + p];
}

/* The fused kernel's contract (cpu.h) in its plainest form: copy the kc
 * rows of the unpacked B panel into the packed panel, then the tile. It is
 * the scalar path's kernel and the twin the SIMD ones are tested against. */
void tpe_sgemm_ukr_pb_scalar(size_t kc, float alpha, const float *a, const float *b, size_t ldb, const float *next,
                             float *bp, float beta, float *c, size_t ldc)
{
    size_t p;
    (void)next; /* a prefetch hint only */
    for (p = 0; p < kc; p++) memcpy(bp + p * TPE_SCALAR_SNR, b + p * ldb, TPE_SCALAR_SNR * sizeof *bp);
    tpe_sgemm_ukr_scalar(kc, alpha, a, bp, beta, c, ldc);
}

void tpe_dgemm_ukr_pb_scalar(size_t kc, double alpha, const double *a, const double *b, size_t ldb,
                             const double *next, double *bp, double beta, double *c, size_t ldc)
{
    size_t p;
    (void)next;
    for (p = 0; p < kc; p++) memcpy(bp + p * TPE_SCALAR_DNR, b + p * ldb, TPE_SCALAR_DNR * sizeof *bp);
    tpe_dgemm_ukr_scalar(kc, alpha, a, bp, beta, c, ldc);
}

/* ---- the framework, written once in gemm_driver.inc for both precisions */
#define MIN(a, b) ((a) < (b) ? (a) : (b))

/* B is packed in chunks of this many micro-panels (see gemm_driver.inc). */
#ifndef CHUNK
#define CHUNK 16
#endif

#ifdef _OPENMP
#define TPE_OMP_FOR _Pragma("omp parallel for schedule(static) num_threads(nthreads)")
#else
#define TPE_OMP_FOR
#endif

#define T float
#define FN(name) tpe_s##name
#define KT(field) s_##field
#define UKR sgemm_ukr
#define UKR_PB sgemm_ukr_pb
#define UKR_EDGE sgemm_ukr_edge
#define PACK_A spack_a
#include "gemm_driver.inc"
#undef T
#undef FN
#undef KT
#undef UKR
#undef UKR_PB
#undef UKR_EDGE
#undef PACK_A

#define T double
#define FN(name) tpe_d##name
#define KT(field) d_##field
#define UKR dgemm_ukr
#define UKR_PB dgemm_ukr_pb
#define UKR_EDGE dgemm_ukr_edge
#define PACK_A dpack_a
#include "gemm_driver.inc"
#undef T
#undef FN
#undef KT
#undef UKR
#undef UKR_PB
#undef UKR_EDGE
#undef PACK_A

void tpe_sgemm(tpe_trans ta, tpe_trans tb, size_t m, size_t n, size_t k, float alpha, const float *A, size_t lda,
               const float *B, size_t ldb, float beta, float *C, size_t ldc)
{
    tpe_sgemm_with(tpe_kernels_get(), ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
}

void tpe_dgemm(tpe_trans ta, tpe_trans tb, size_t m, size_t n, size_t k, double alpha, const double *A,
               size_t lda, const double *B, size_t ldb, double beta, double *C, size_t ldc)
{
    tpe_dgemm_with(tpe_kernels_get(), ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
}
