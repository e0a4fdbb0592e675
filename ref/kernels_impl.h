/*
 * kernels_impl.h -- the kernels behind the dispatch table (internal).
 * Every SIMD kernel has a scalar twin with the same contract; the tests
 * compare each against its twin.
 */
#ifndef TPE_KERNELS_IMPL_H
#define TPE_KERNELS_IMPL_H

#include <stddef.h>

/* A hint that the line holding *p will be read soon (no fault if it is not
 * mapped); nothing where the compiler has no way to say it. */
#if defined(__GNUC__) || defined(__clang__)
#define TPE_PREFETCH(p) __builtin_prefetch(p)
#else
#define TPE_PREFETCH(p) ((void)0)
#endif

#if defined(__x86_64__) || defined(_M_X64)
#define TPE_BUILD_AVX2 1
#else
#define TPE_BUILD_AVX2 0
#endif
#if defined(__aarch64__)
#define TPE_BUILD_NEON 1
#else
#define TPE_BUILD_NEON 0
#endif

/* scalar (gemm.c, vec.c): any micro-tile size given at run time */
void tpe_sgemm_ukr_ref(size_t mr, size_t nr, size_t kc, float alpha, const float *a, const float *b, float beta,
                       float *c, size_t ldc);
void tpe_dgemm_ukr_ref(size_t mr, size_t nr, size_t kc, double alpha, const double *a, const double *b,
                       double beta, double *c, size_t ldc);
void tpe_sgemm_ukr_scalar(size_t kc, float alpha, const float *a, const float *b, float beta, float *c, size_t ldc);
void tpe_dgemm_ukr_scalar(size_t kc, double alpha, const double *a, const double *b, double beta, double *c,
                          size_t ldc);
/* the fused kernels (cpu.h): copy the rows of B into bp, then the tile */
void tpe_sgemm_ukr_pb_scalar(size_t kc, float alpha, const float *a, const float *b, size_t ldb, const float *next,
                             float *bp, float beta, float *c, size_t ldc);
void tpe_dgemm_ukr_pb_scalar(size_t kc, double alpha, const double *a, const double *b, size_t ldb,
                             const double *next, double *bp, double beta, double *c, size_t ldc);
/* pack an mr-row panel of untransposed A: dst[p*mr + i] = a[i*lda + p] */
void tpe_spack_a_ref(size_t mr, size_t kc, const float *a, size_t lda, float *dst);
void tpe_dpack_a_ref(size_t mr, size_t kc, const double *a, size_t lda, double *dst);
#define TPE_SCALAR_SMR 4
#define TPE_SCALAR_SNR 8
#define TPE_SCALAR_DMR 4
#define TPE_SCALAR_DNR 4

float tpe_sdot_scalar(const float *x, const float *y, size_t n);
double tpe_ddot_scalar(const double *x, const double *y, size_t n);
void tpe_saxpy_scalar(size_t n, float a, const float *x, float *y);
void tpe_daxpy_scalar(size_t n, double a, const double *x, double *y);

/* numerics kernels (numk.c): double-double dot (*sh + *sl = sum x_i y_i)
 * and axpy (y += a x) on hi/lo planes; rotations (z_k, z_{k+1}) <- (c_k z_k
 * + s_k z_{k+1}, c_k z_{k+1} - s_k z_k) for k = 0..nrot-1 on the columns of
 * a column-major rows x (nrot+1) matrix */
void tpe_dd_dot_scalar(size_t n, const double *xh, const double *xl, const double *yh, const double *yl, double *sh,
                       double *sl);
void tpe_dd_axpy_scalar(size_t n, double ah, double al, const double *xh, const double *xl, double *yh, double *yl);
void tpe_drot_seq_scalar(size_t rows, size_t nrot, const double *c, const double *s, double *Z, size_t ldz);

#if TPE_BUILD_AVX2
void tpe_sgemm_ukr_avx2(size_t kc, float alpha, const float *a, const float *b, float beta, float *c, size_t ldc);
void tpe_dgemm_ukr_avx2(size_t kc, double alpha, const double *a, const double *b, double beta, double *c,
                        size_t ldc);
void tpe_sgemm_ukr_pb_avx2(size_t kc, float alpha, const float *a, const float *b, size_t ldb, const float *next,
                           float *bp, float beta, float *c, size_t ldc);
void tpe_dgemm_ukr_pb_avx2(size_t kc, double alpha, const double *a, const double *b, size_t ldb,
                           const double *next, double *bp, double beta, double *c, size_t ldc);
/* the first 4 rows of a 6-row tile (A panel stride 6) */
void tpe_sgemm_ukr4_avx2(size_t kc, float alpha, const float *a, const float *b, float beta, float *c, size_t ldc);
void tpe_dgemm_ukr4_avx2(size_t kc, double alpha, const double *a, const double *b, double beta, double *c,
                         size_t ldc);
void tpe_spack_a6_avx2(size_t kc, const float *a, size_t lda, float *dst);
void tpe_dpack_a6_avx2(size_t kc, const double *a, size_t lda, double *dst);
#define TPE_AVX2_SMR 6
#define TPE_AVX2_SNR 16
#define TPE_AVX2_DMR 6
#define TPE_AVX2_DNR 8
float tpe_sdot_avx2(const float *x, const float *y, size_t n);
double tpe_ddot_avx2(const double *x, const double *y, size_t n);
void tpe_saxpy_avx2(size_t n, float a, const float *x, float *y);
void tpe_daxpy_avx2(size_t n, double a, const double *x, double *y);
void tpe_dd_dot_avx2(size_t n, const double *xh, const double *xl, const double *yh, const double *yl, double *sh,
                     double *sl);
void tpe_dd_axpy_avx2(size_t n, double ah, double al, const double *xh, const double *xl, double *yh, double *yl);
void tpe_drot_seq_avx2(size_t rows, size_t nrot, const double *c, const double *s, double *Z, size_t ldz);
#endif

#if TPE_BUILD_NEON
void tpe_sgemm_ukr_neon(size_t kc, float alpha, const float *a, const float *b, float beta, float *c, size_t ldc);
void tpe_dgemm_ukr_neon(size_t kc, double alpha, const double *a, const double *b, double beta, double *c,
                        size_t ldc);
void tpe_sgemm_ukr_pb_neon(size_t kc, float alpha, const float *a, const float *b, size_t ldb, const float *next,
                           float *bp, float beta, float *c, size_t ldc);
void tpe_dgemm_ukr_pb_neon(size_t kc, double alpha, const double *a, const double *b, size_t ldb,
                           const double *next, double *bp, double beta, double *c, size_t ldc);
#define TPE_NEON_SMR 8
#define TPE_NEON_SNR 12
#define TPE_NEON_DMR 6
#define TPE_NEON_DNR 8
float tpe_sdot_neon(const float *x, const float *y, size_t n);
double tpe_ddot_neon(const double *x, const double *y, size_t n);
void tpe_saxpy_neon(size_t n, float a, const float *x, float *y);
void tpe_daxpy_neon(size_t n, double a, const double *x, double *y);
void tpe_dd_dot_neon(size_t n, const double *xh, const double *xl, const double *yh, const double *yl, double *sh,
                     double *sl);
void tpe_dd_axpy_neon(size_t n, double ah, double al, const double *xh, const double *xl, double *yh, double *yl);
void tpe_drot_seq_neon(size_t rows, size_t nrot, const double *c, const double *s, double *Z, size_t ldz);
#endif

#endif
