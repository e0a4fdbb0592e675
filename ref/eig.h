/*
 * eig.h -- the dense symmetric eigenproblem A = Z diag(w) Z^T: the small
 * solver inside PCA's Rayleigh-Ritz step (pca.c), and the whole solution
 * when every component is wanted.
 *
 * Method (Golub & Van Loan, Matrix Computations, 4th ed., 8.3): Householder
 * reduction to tridiagonal form T = Q^T A Q (LAPACK dsytd2, lower), the
 * implicit symmetric QR algorithm with Wilkinson shifts on T, accumulating
 * the rotations into Z (dsteqr; the rotations of a sweep are applied by the
 * kernel table's drot_seq), and the back-transformation Z <- Q Z with the
 * blocked reflectors of qr.c (dormtr). Backward stable: the computed pairs
 * are exact for A + E with ||E|| ~ n u ||A||, and Z is orthogonal to
 * working precision, also for repeated and clustered eigenvalues.
 */
#ifndef TPE_EIG_H
#define TPE_EIG_H

#include <stddef.h>

/*
 * All eigenvalues (w, ascending) and, when Z is not NULL, orthonormal
 * eigenvectors (columns of Z, n x n column-major, ldz) of the symmetric
 * n x n matrix A (column-major, lda; only the lower triangle is read; A is
 * destroyed). Returns TPE_ENUMERIC if the QR iteration fails to converge
 * within 30 n sweeps (not seen in practice), TPE_ENOMEM, or TPE_EINVAL for
 * non-finite entries.
 */
int tpe_syev(size_t n, double *A, size_t lda, double *w, double *Z, size_t ldz);

/* The two stages, for tests: reduce A (lower) to tridiagonal d (n), e (n-1)
 * with the reflectors left in A below the subdiagonal and tau (n-1);
 * eigenpairs of the tridiagonal (d overwritten by ascending eigenvalues, Z
 * (n x n) by its eigenvectors when not NULL: start it as the identity, or
 * as any matrix whose columns the rotations should act on). */
void tpe_sytrd(size_t n, double *A, size_t lda, double *d, double *e, double *tau);
int tpe_steqr(size_t n, double *d, double *e, double *Z, size_t ldz);

#endif
