/*
 * gemm.h -- general matrix multiply, row-major:
 *
 *     C = alpha * op(A) * op(B) + beta * C
 *
 * op(A) is m x k: A is m x k (lda >= k) or, with TPE_TRANS, k x m (lda >= m).
 * op(B) is k x n: B is k x n (ldb >= n) or, with TPE_TRANS, n x k (ldb >= k).
 * C is m x n with ldc >= n. beta == 0 overwrites C without reading it, so C
 * may hold garbage or NaN. alpha == 0 does not read A or B.
 *
 * tpe_[sd]gemm is the blocked, packed implementation (five loops around a
 * micro-kernel, after Goto & van de Geijn and BLIS) using the kernel path
 * chosen by TPE_SIMD; tpe_[sd]gemm_naive is the plain triple loop kept as the
 * oracle for tests.
 */
#ifndef TPE_GEMM_H
#define TPE_GEMM_H

#include <stddef.h>

#include "cpu.h"

typedef enum tpe_trans { TPE_NO_TRANS = 0, TPE_TRANS = 1 } tpe_trans;

void tpe_sgemm(tpe_trans ta, tpe_trans tb, size_t m, size_t n, size_t k, float alpha, const float *A, size_t lda,
               const float *B, size_t ldb, float beta, float *C, size_t ldc);
void tpe_dgemm(tpe_trans ta, tpe_trans tb, size_t m, size_t n, size_t k, double alpha, const double *A,
               size_t lda, const double *B, size_t ldb, double beta, double *C, size_t ldc);

/* The same with an explicit kernel table (tests run every path). */
void tpe_sgemm_with(const tpe_kernels *kt, tpe_trans ta, tpe_trans tb, size_t m, size_t n, size_t k, float alpha,
                    const float *A, size_t lda, const float *B, size_t ldb, float beta, float *C, size_t ldc);
void tpe_dgemm_with(const tpe_kernels *kt, tpe_trans ta, tpe_trans tb, size_t m, size_t n, size_t k, double alpha,
                    const double *A, size_t lda, const double *B, size_t ldb, double beta, double *C, size_t ldc);

/* Oracles: straightforward loops, accumulation in the operand precision
 * (double for the f32 oracle when `wide` is 1). */
void tpe_sgemm_naive(tpe_trans ta, tpe_trans tb, size_t m, size_t n, size_t k, float alpha, const float *A,
                     size_t lda, const float *B, size_t ldb, float beta, float *C, size_t ldc);
void tpe_dgemm_naive(tpe_trans ta, tpe_trans tb, size_t m, size_t n, size_t k, double alpha, const double *A,
                     size_t lda, const double *B, size_t ldb, double beta, double *C, size_t ldc);

#endif
