/*
 * qr.h -- Householder QR in double, in LAPACK's storage and with LAPACK's
 * division of labour (dlarfg, dgeqr2, dgeqrf, dlarft/dlarfb, dormqr,
 * dtrtrs, dtrtri, and dgels' scaling).
 *
 * Storage (column-major, as LAPACK): element (i, j) of an m x n matrix with
 * leading dimension ld >= m is A[i + j * ld]. After tpe_qr*(m, n, A, lda,
 * tau) with k = min(m, n):
 *   - R (k x n, upper trapezoidal) is on and above the diagonal of A;
 *   - below the diagonal of column j are the entries v[j+1..m-1] of the
 *     j-th Householder vector, whose entry v[j] = 1 is not stored;
 *   - tau[j] is its scale, so H_j = I - tau[j] v v^T and
 *         A = Q R,   Q = H_0 H_1 ... H_{k-1}   (m x m, orthogonal).
 * tau[j] = 0 means H_j = I (the column below the diagonal was already 0).
 *
 * Row-major callers (everything else in tpe) pass their matrix transposed,
 * or copy: ols.c does the latter.
 */
#ifndef TPE_QR_H
#define TPE_QR_H

#include <stddef.h>

#include "cpu.h"
#include "io.h"

/*
 * tpe_householder (LAPACK dlarfg): given alpha and x (n - 1 entries, stride
 * incx), find beta, tau and v with
 *     (I - tau [1; v] [1; v]^T) [alpha; x] = [beta; 0],  |beta| = ||[alpha; x]||_2,
 * beta of the opposite sign to alpha (no cancellation in alpha - beta).
 * On return *alpha = beta, x = v, *tau = tau in [1, 2] (or 0 when x == 0,
 * then H = I and beta = alpha, even for a negative alpha, as dlarfg).
 * The norm is taken without overflow or harmful underflow (a plain sum of
 * squares when that is safe, else scaled by a power of two), and when beta
 * is below the safe minimum everything is scaled up by a power of two and
 * back, as dlarfg does, so tau and v keep full accuracy.
 */
void tpe_householder(size_t n, double *alpha, double *x, size_t incx, double *tau);

/* ||x||_2 of n entries at stride incx without overflow or harmful
 * underflow (dnrm2). */
double tpe_nrm2(size_t n, const double *x, size_t incx);

/*
 * Unblocked factorization (dgeqr2): one reflector per column, applied to
 * the columns on its right. Kept as the oracle for the blocked version.
 * tau has min(m, n) entries.
 */
void tpe_qr_unblocked(size_t m, size_t n, double *A, size_t lda, double *tau);

/*
 * Blocked factorization (dgeqrf): each panel of nb columns is factored
 * recursively (left half, its block reflector applied to the right half,
 * right half; Elmroth & Gustavson 2000, LAPACK's dgeqrt3) down to 8
 * columns, which yields the triangular factor T of the compact WY form
 *     H_j H_{j+1} ... H_{j+nb-1} = I - V T V^T
 * (Schreiber & Van Loan 1989) as it goes; the trailing columns are then
 * updated with two GEMMs:  C -= V (T^T (V^T C)).
 * Same storage and, to rounding, the same numbers as tpe_qr_unblocked.
 * nb = 0 picks the default (TPE_QR_NB); small problems go unblocked.
 * Returns TPE_OK or TPE_ENOMEM (then A is unchanged).
 */
#define TPE_QR_NB 96
int tpe_qr(size_t m, size_t n, double *A, size_t lda, double *tau);
int tpe_qr_nb(size_t m, size_t n, double *A, size_t lda, double *tau, size_t nb);
/* ... and with a progress bar advanced column by column (progress may be
 * NULL; its total is set by the caller, advanced by n in all). */
int tpe_qr_ex(size_t m, size_t n, double *A, size_t lda, double *tau, size_t nb, tpe_progress *progress);

/*
 * Apply Q (trans = 0) or Q^T (trans = 1) of k reflectors stored in A
 * (m x k, as tpe_qr leaves them) to C (m x nrhs) from the left (dormqr):
 *     C <- Q C   or   C <- Q^T C.
 * Blocked (compact WY, GEMM) when nrhs is large, reflector by reflector
 * otherwise. Returns TPE_OK or TPE_ENOMEM (C unchanged).
 */
int tpe_qr_apply(int trans, size_t m, size_t nrhs, size_t k, const double *A, size_t lda, const double *tau,
                 double *C, size_t ldc);

/*
 * Form the triangular factor T (k x k, upper, ldt) of the compact WY form
 * of k reflectors (dlarft, forward, columnwise):
 *     H_0 ... H_{k-1} = I - V T V^T.
 * V (m x k, m >= k) is stored as tpe_qr leaves it: v_j in column j below
 * the diagonal, the unit diagonal implied, nothing above it read.
 */
void tpe_qr_form_t(size_t m, size_t k, const double *V, size_t ldv, const double *tau, double *T, size_t ldt);

/*
 * Back substitution (dtrtrs, upper, no transpose): solve R x = b in place
 * for the n x n upper triangle of R. A column j with |R[j,j]| <= rtol *
 * max_i |R[i,i]| (or R[j,j] == 0, or not finite) is (near-)singular: the
 * function stops before dividing, records "column j: |R[j,j]| = ... is
 * below ..." and returns TPE_ENUMERIC; *bad (when not NULL) is set to j.
 * rtol = 0 reports only exact zeros.
 */
int tpe_tri_solve(size_t n, const double *R, size_t ldr, double *b, double rtol, size_t *bad);
/* The same for R^T x = b (forward substitution). */
int tpe_tri_solve_trans(size_t n, const double *R, size_t ldr, double *b, double rtol, size_t *bad);

/*
 * Invert the n x n upper triangle of R in place (dtrti2: column by column,
 * R^{-1} e_j by back substitution using the columns already inverted).
 * Same singularity test as tpe_tri_solve.
 */
int tpe_tri_inverse(size_t n, double *R, size_t ldr, double rtol, size_t *bad);

/*
 * Column equilibration by powers of two (the scaling dgels applies to the
 * whole matrix, done here per column): with max_i |A[i,j]| = f 2^e, f in
 * [0.5, 1), column j is multiplied by 2^shift[j], shift[j] = -e (at most
 * 1023, so subnormal columns are brought to >= 2^-52; 0 for a zero column), so its largest entry lands in
 * [0.5, 1). Multiplying by a power of two is exact (barring underflow of
 * entries 2^1022 times smaller than the column's largest), and Householder
 * QR commutes with it exactly, so the factorization of the scaled matrix
 * is that of A up to the same scaling of R's columns. What it buys is range
 * (no overflow in sums of squares for data near 1e308, no lost digits for
 * data near 1e-308) and a rank test that does not depend on units.
 */
void tpe_col_equilibrate(size_t m, size_t n, double *A, size_t lda, int *shift);
/* The exponent shift that brings max |x| = maxabs into [0.5, 1) (see above). */
int tpe_pow2_shift(double maxabs);

/* ---- double-double (qr_dd.c) -------------------------------------------------
 * The same algorithms, unblocked, in double-double arithmetic (dd.h): a
 * matrix is two planes, A = Ah + Al, with the same layout; tau likewise.
 * Relative accuracy about 1e-32 per operation, so the factorization of a
 * matrix with condition number 1e15 keeps ~16 digits. Columns should be
 * equilibrated first (tpe_col_equilibrate): the low parts underflow sooner
 * than doubles do. Roughly 10-20 times the cost of the double versions.
 */
void tpe_qr_dd(size_t m, size_t n, double *Ah, double *Al, size_t lda, double *tauh, double *taul,
               tpe_progress *progress);
/* c <- Q^T c for one vector c = ch + cl (m entries), k reflectors. */
void tpe_qr_dd_apply_qt(size_t m, size_t k, const double *Ah, const double *Al, size_t lda, const double *tauh,
                        const double *taul, double *ch, double *cl);
/* R x = b and R^{-1} in place, with tpe_tri_solve's singularity test on Rh. */
int tpe_tri_solve_dd(size_t n, const double *Rh, const double *Rl, size_t ldr, double *bh, double *bl, double rtol,
                     size_t *bad);
int tpe_tri_inverse_dd(size_t n, double *Rh, double *Rl, size_t ldr, double rtol, size_t *bad);

#endif
