/*
 * qr.c -- Householder QR in double (see qr.h for the storage).
 *
 * References: Golub & Van Loan, Matrix Computations (4th ed.), 5.1-5.2 and
 * 5.5 (Householder vectors, QR, the WY representation); Schreiber & Van Loan,
 * "A storage-efficient WY representation for products of Householder
 * transformations", SIAM J. Sci. Stat. Comput. 10 (1989); LAPACK's dlarfg,
 * dgeqr2, dgeqrf, dlarft, dlarfb, dormqr, dtrtrs and dtrti2, whose
 * interfaces and numerical choices this file follows (the code is tpe's).
 *
 * GEMM: tpe_dgemm is row-major. A column-major matrix X (r x c, ld) is the
 * row-major matrix X^T (c x r, ld) in the same memory, so the column-major
 * product C = op(A) op(B) is the row-major product C^T = op(B)^T op(A)^T:
 * cm_gemm below swaps the operands and keeps the transpose flags.
 */
#include "qr.h"

#include "gemm.h"
#include "tpe.h"

#include <float.h>
#include <math.h>
#include <string.h>

#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

/* dlamch('S') / dlamch('E') = 2^-1022 / 2^-53: below this a reflector's
 * beta is scaled up before tau and v are formed (dlarfg). */
#define SAFMIN 0x1p-969
#define RSAFMN 0x1p969

/* column-major C (m x n) = alpha op(A) op(B) + beta C, through row-major GEMM */
static void cm_gemm(tpe_trans ta, tpe_trans tb, size_t m, size_t n, size_t k, double alpha, const double *A,
                    size_t lda, const double *B, size_t ldb, double beta, double *C, size_t ldc)
{
    tpe_dgemm(tb, ta, n, m, k, alpha, B, ldb, A, lda, beta, C, ldc);
}

/* ---- norms and reflectors ------------------------------------------------ */

double tpe_nrm2(size_t n, const double *x, size_t incx)
{
    const tpe_kernels *kt = tpe_kernels_get();
    double ssq = 0.0, amax = 0.0, sum = 0.0;
    size_t i;
    int e;
    if (n == 0) return 0.0;
    if (incx == 1) ssq = kt->ddot(x, x, n);
    else
        for (i = 0; i < n; i++) ssq += x[i * incx] * x[i * incx];
    /* The plain sum of squares is accurate unless it overflowed, or squares
     * of entries below 2^-511 underflowed and lost digits that matter: each
     * square's absolute error is below 2^-1075 < DBL_MIN / 2^53, so n of them
     * are negligible once ssq >= n DBL_MIN. */
    if (ssq <= DBL_MAX && ssq >= (double)n * DBL_MIN) return sqrt(ssq);
    for (i = 0; i < n; i++) {
        double a = fabs(x[i * incx]);
        if (!(a <= amax)) amax = a; /* also catches NaN */
    }
    if (amax == 0.0 || !isfinite(amax)) return amax;
    /* scaled by 2^-e so the largest entry is in [0.5, 1): exact, no over/underflow */
    (void)frexp(amax, &e);
    for (i = 0; i < n; i++) {
        double t = ldexp(x[i * incx], -e);
        sum += t * t;
    }
    return ldexp(sqrt(sum), e);
}

void tpe_householder(size_t n, double *alpha, double *x, size_t incx, double *tau)
{
    double xnorm, beta, d;
    size_t i;
    int knt = 0;
    if (n <= 1) {
        *tau = 0.0;
        return;
    }
    xnorm = tpe_nrm2(n - 1, x, incx);
    if (xnorm == 0.0) {
        *tau = 0.0; /* H = I: nothing below alpha to annihilate */
        return;
    }
    /* beta = -sign(alpha) ||(alpha, x)||: alpha - beta adds magnitudes */
    beta = -copysign(hypot(*alpha, xnorm), *alpha);
    if (fabs(beta) < SAFMIN) {
        /* beta (and so every entry) is tiny: scale up by 2^969 until it is
         * not, so 1 / (alpha - beta) and tau keep full precision */
        do {
            knt++;
            for (i = 0; i < n - 1; i++) x[i * incx] *= RSAFMN;
            beta *= RSAFMN;
            *alpha *= RSAFMN;
        } while (fabs(beta) < SAFMIN && knt < 20);
        xnorm = tpe_nrm2(n - 1, x, incx);
        beta = -copysign(hypot(*alpha, xnorm), *alpha);
    }
    *tau = (beta - *alpha) / beta;
    /* v = x / (alpha - beta), each entry correctly rounded */
    d = *alpha - beta;
    for (i = 0; i < n - 1; i++) x[i * incx] /= d;
    while (knt-- > 0) beta *= SAFMIN;
    *alpha = beta;
}

/* ---- unblocked factorization (dgeqr2) ------------------------------------ */

/* Apply H = I - tau v v^T (v = A[j:, j] with the unit entry in place) to
 * the columns c0..c1-1 of A (rows j..m-1): w = v^T a_c; a_c -= tau w v. */
static void apply_reflector_cols(const tpe_kernels *kt, size_t len, const double *v, double tau, double *C, size_t ldc,
                                 size_t ncols)
{
    size_t c;
    for (c = 0; c < ncols; c++) {
        double *col = C + c * ldc;
        double w = kt->ddot(v, col, len);
        if (w != 0.0) kt->daxpy(len, -tau * w, v, col);
    }
}

void tpe_qr_unblocked(size_t m, size_t n, double *A, size_t lda, double *tau)
{
    const tpe_kernels *kt = tpe_kernels_get();
    size_t k = MIN(m, n), j;
    for (j = 0; j < k; j++) {
        double *ajj = A + j + j * lda;
        tpe_householder(m - j, ajj, ajj + 1, 1, &tau[j]);
        if (j + 1 < n && tau[j] != 0.0) {
            double diag = *ajj;
            *ajj = 1.0; /* v[j] = 1, stored temporarily where R[j,j] lives */
            apply_reflector_cols(kt, m - j, ajj, tau[j], ajj + lda, lda, n - j - 1);
            *ajj = diag;
        }
    }
}

/* ---- compact WY (dlarft, dlarfb) ------------------------------------------ */

/*
 * The triangular pieces of a block reflector, with loops: they cost kb^2 nc
 * next to the GEMMs' m kb nc. V is stored in place (LAPACK style): its top
 * kb x kb block V1 is unit lower triangular, the diagonal implied, and
 * whatever lies above the diagonal (R) is not read.
 */

/* W (kb x nc, ldw) += V1^T C1, C1 the top kb rows of C:
 * W[r, c] += C1[r, c] + sum_{i > r} V1[i, r] C1[i, c]. */
static void trmm_v1t_add(const tpe_kernels *kt, size_t kb, size_t nc, const double *V, size_t ldv, const double *C,
                         size_t ldc, double *W, size_t ldw)
{
    size_t r, c;
    for (c = 0; c < nc; c++) {
        const double *cc = C + c * ldc;
        double *w = W + c * ldw;
        for (r = 0; r < kb; r++)
            w[r] += cc[r] + (r + 1 < kb ? kt->ddot(V + r * ldv + r + 1, cc + r + 1, kb - r - 1) : 0.0);
    }
}

/* C1 -= V1 W: C1[i, c] -= W[i, c] + sum_{r < i} V1[i, r] W[r, c]. */
static void trmm_v1_sub(const tpe_kernels *kt, size_t kb, size_t nc, const double *V, size_t ldv, const double *W,
                        size_t ldw, double *C, size_t ldc)
{
    size_t r, c;
    for (c = 0; c < nc; c++) {
        double *cc = C + c * ldc;
        const double *w = W + c * ldw;
        for (r = 0; r < kb; r++) {
            cc[r] -= w[r];
            if (r + 1 < kb && w[r] != 0.0) kt->daxpy(kb - r - 1, -w[r], V + r * ldv + r + 1, cc + r + 1);
        }
    }
}

/* W (kb x nc) <- T W (trans = 0) or T^T W (trans = 1), T upper triangular. */
static void trmm_t(const tpe_kernels *kt, int trans, size_t kb, size_t nc, const double *T, size_t ldt, double *W,
                   size_t ldw)
{
    size_t c, r, i;
    for (c = 0; c < nc; c++) {
        double *w = W + c * ldw;
        if (trans) {
            /* row r of T^T is column r of T (entries 0..r); bottom up, in place */
            for (r = kb; r-- > 0;) w[r] = kt->ddot(T + r * ldt, w, r + 1);
        } else {
            /* T w = sum_i T[0:i+1, i] w_i, column by column, in place */
            for (i = 0; i < kb; i++) {
                double t = w[i];
                if (i > 0 && t != 0.0) kt->daxpy(i, t, T + i * ldt, w);
                w[i] = t * T[i + i * ldt];
            }
        }
    }
}

/*
 * dlarfb (left, forward, columnwise): C (m x nc) <- H C (trans = 0) or
 * H^T C (trans = 1), H = I - V T V^T, V (m x kb, m >= kb) stored in place:
 *     W = V1^T C1 + V2^T C2;  W = op(T) W;  C2 -= V2 W;  C1 -= V1 W.
 * W is kb x nc (ld kb).
 */
static void apply_block(int trans, size_t m, size_t nc, size_t kb, const double *V, size_t ldv, const double *T,
                        size_t ldt, double *C, size_t ldc, double *W)
{
    const tpe_kernels *kt = tpe_kernels_get();
    if (nc == 0 || kb == 0) return;
    if (m > kb) cm_gemm(TPE_TRANS, TPE_NO_TRANS, kb, nc, m - kb, 1.0, V + kb, ldv, C + kb, ldc, 0.0, W, kb);
    else memset(W, 0, kb * nc * sizeof *W);
    trmm_v1t_add(kt, kb, nc, V, ldv, C, ldc, W, kb);
    trmm_t(kt, trans, kb, nc, T, ldt, W, kb);
    if (m > kb) cm_gemm(TPE_NO_TRANS, TPE_NO_TRANS, m - kb, nc, kb, -1.0, V + kb, ldv, W, kb, 1.0, C + kb, ldc);
    trmm_v1_sub(kt, kb, nc, V, ldv, W, kb, C, ldc);
}

/* T (n x n) of n reflectors stored in place in A (m x n), by dot products
 * (for the narrow base case): T[0:i, i] = -tau_i T[0:i, 0:i] V[:, 0:i]^T v_i,
 * with V[:, r]^T v_i = A[i, r] + A[i+1:, r]^T A[i+1:, i]. */
static void form_t_inplace(const tpe_kernels *kt, size_t m, size_t n, const double *A, size_t lda, const double *tau,
                           double *T, size_t ldt)
{
    size_t i, r, c;
    for (i = 0; i < n; i++) {
        double *ti = T + i * ldt;
        const double *vi = A + i * lda;
        for (r = 0; r < i; r++) {
            const double *vr = A + r * lda;
            ti[r] = vr[i] + (m > i + 1 ? kt->ddot(vr + i + 1, vi + i + 1, m - i - 1) : 0.0);
        }
        for (r = 0; r < i; r++) {
            double s = 0.0;
            for (c = r; c < i; c++) s += T[r + c * ldt] * ti[c];
            ti[r] = -tau[i] * s;
        }
        ti[i] = tau[i];
        for (r = i + 1; r < n; r++) ti[r] = 0.0;
    }
}

/*
 * Recursive panel factorization (Elmroth & Gustavson, IBM J. Res. Dev. 44,
 * 2000; LAPACK's dgeqrt3): factor the left half, apply its block reflector
 * to the right half, factor the right half, and join the two T factors:
 *     T = [T11  -T11 (V1^T V2) T22]
 *         [ 0          T22        ].
 * Nearly all the work is in GEMMs, where the unblocked panel would stream
 * the tall panel once per column. A is m x n with m >= n; T is n x n (ldt);
 * W holds n x n doubles.
 */
#define QR_REC_BASE 8
static void qr_rec(const tpe_kernels *kt, size_t m, size_t n, double *A, size_t lda, double *tau, double *T,
                   size_t ldt, double *W)
{
    size_t n1, n2, r, c, i;
    double *T12;
    if (n <= QR_REC_BASE) {
        tpe_qr_unblocked(m, n, A, lda, tau);
        form_t_inplace(kt, m, n, A, lda, tau, T, ldt);
        return;
    }
    n1 = n / 2;
    n2 = n - n1;
    qr_rec(kt, m, n1, A, lda, tau, T, ldt, W);
    apply_block(1, m, n2, n1, A, lda, T, ldt, A + n1 * lda, lda, W);
    qr_rec(kt, m - n1, n2, A + n1 + n1 * lda, lda, tau + n1, T + n1 + n1 * ldt, ldt, W);
    /* T12 = V1^T V2: V2 is rows n1.. of columns n1..n-1, its top n2 x n2
     * block unit lower triangular; V1 is columns 0..n1-1 */
    T12 = T + n1 * ldt;
    for (c = 0; c < n2; c++) {
        const double *v2 = A + n1 + (n1 + c) * lda; /* V2[:, c], local row 0 = global row n1 */
        for (r = 0; r < n1; r++) {
            const double *v1 = A + n1 + r * lda; /* V1[n1:, r] */
            double s = v1[c];
            for (i = c + 1; i < n2; i++) s += v1[i] * v2[i];
            T12[r + c * ldt] = s;
        }
    }
    if (m > n) cm_gemm(TPE_TRANS, TPE_NO_TRANS, n1, n2, m - n, 1.0, A + n, lda, A + n + n1 * lda, lda, 1.0, T12, ldt);
    /* T12 <- -T11 T12 (upper times matrix, in place top down) */
    for (c = 0; c < n2; c++) {
        double *x = T12 + c * ldt;
        for (r = 0; r < n1; r++) {
            double s = 0.0;
            for (i = r; i < n1; i++) s += T[r + i * ldt] * x[i];
            x[r] = -s;
        }
    }
    /* T12 <- T12 T22 (matrix times upper, in place right to left) */
    {
        const double *T22 = T + n1 + n1 * ldt;
        for (c = n2; c-- > 0;)
            for (r = 0; r < n1; r++) {
                double s = 0.0;
                for (i = 0; i <= c; i++) s += T12[r + i * ldt] * T22[i + c * ldt];
                T12[r + c * ldt] = s;
            }
    }
    /* the strictly lower part of T stays zero */
    for (c = 0; c < n1; c++)
        for (r = n1; r < n; r++) T[r + c * ldt] = 0.0;
}

void tpe_qr_form_t(size_t m, size_t k, const double *V, size_t ldv, const double *tau, double *T, size_t ldt)
{
    form_t_inplace(tpe_kernels_get(), m, k, V, ldv, tau, T, ldt);
}

/* ---- blocked factorization (dgeqrf) --------------------------------------- */

int tpe_qr_nb(size_t m, size_t n, double *A, size_t lda, double *tau, size_t nb)
{
    return tpe_qr_ex(m, n, A, lda, tau, nb, NULL);
}

int tpe_qr_ex(size_t m, size_t n, double *A, size_t lda, double *tau, size_t nb, tpe_progress *progress)
{
    const tpe_kernels *kt = tpe_kernels_get();
    size_t k = MIN(m, n), j0;
    double *T, *W;
    if (nb == 0) nb = TPE_QR_NB;
    /* small or narrow: the blocked form has nothing to gain */
    if (nb < 2 || k <= nb || n <= nb) {
        tpe_qr_unblocked(m, n, A, lda, tau);
        if (progress) tpe_progress_update(progress, (double)n);
        return TPE_OK;
    }
    T = tpe_alloc_array(nb * nb, sizeof *T, "QR triangular factor");
    W = tpe_alloc_array(nb * MAX(n, nb), sizeof *W, "QR workspace");
    if (!T || !W) {
        tpe_free(T);
        tpe_free(W);
        return TPE_ENOMEM;
    }
    for (j0 = 0; j0 < k; j0 += nb) {
        size_t jb = MIN(nb, k - j0), mm = m - j0;
        double *panel = A + j0 + j0 * lda;
        /* 1. factor the panel A[j0:, j0:j0+jb], forming T as it goes */
        qr_rec(kt, mm, jb, panel, lda, tau + j0, T, nb, W);
        /* 2. update the trailing columns with the panel's Q^T */
        if (j0 + jb < n) apply_block(1, mm, n - j0 - jb, jb, panel, lda, T, nb, panel + jb * lda, lda, W);
        /* the work left after panel j0 shrinks like (n - j0)^2: report that share */
        if (progress) tpe_progress_update(progress, (double)n * (1.0 - ((double)(n - j0 - jb) / (double)n) * ((double)(n - j0 - jb) / (double)n)));
    }
    tpe_free(T);
    tpe_free(W);
    return TPE_OK;
}

int tpe_qr(size_t m, size_t n, double *A, size_t lda, double *tau) { return tpe_qr_nb(m, n, A, lda, tau, 0); }

/* ---- applying Q (dormqr) --------------------------------------------------- */

int tpe_qr_apply(int trans, size_t m, size_t nrhs, size_t k, const double *A, size_t lda, const double *tau,
                 double *C, size_t ldc)
{
    const tpe_kernels *kt = tpe_kernels_get();
    const size_t nb = TPE_QR_NB;
    size_t j;
    if (k > m) k = m;
    if (nrhs == 0 || k == 0) return TPE_OK;
    if (nrhs < 16 || k <= nb) {
        /* reflector by reflector: Q^T = H_{k-1} ... H_0 applies H_0 first */
        for (j = 0; j < k; j++) {
            size_t jj = trans ? j : k - 1 - j, c;
            const double *v = A + jj + jj * lda;
            double t = tau[jj];
            if (t == 0.0) continue;
            for (c = 0; c < nrhs; c++) {
                double *col = C + jj + c * ldc;
                /* w = v^T c with v[0] = 1 implicit */
                double w = col[0] + (m - jj > 1 ? kt->ddot(v + 1, col + 1, m - jj - 1) : 0.0);
                if (w == 0.0) continue;
                col[0] -= t * w;
                if (m - jj > 1) kt->daxpy(m - jj - 1, -t * w, v + 1, col + 1);
            }
        }
        return TPE_OK;
    }
    {
        size_t nblocks = (k + nb - 1) / nb, b;
        double *T = tpe_alloc_array(nb * nb, sizeof *T, "Q triangular factor");
        double *W = tpe_alloc_array(nb * nrhs, sizeof *W, "Q workspace");
        if (!T || !W) {
            tpe_free(T);
            tpe_free(W);
            return TPE_ENOMEM;
        }
        /* Q^T: blocks first to last, each H_b^T; Q: last to first, each H_b */
        for (b = 0; b < nblocks; b++) {
            size_t bb = trans ? b : nblocks - 1 - b, j0 = bb * nb, jb = MIN(nb, k - j0), mm = m - j0;
            const double *V = A + j0 + j0 * lda;
            form_t_inplace(kt, mm, jb, V, lda, tau + j0, T, nb);
            apply_block(trans, mm, nrhs, jb, V, lda, T, nb, C + j0, ldc, W);
        }
        tpe_free(T);
        tpe_free(W);
    }
    return TPE_OK;
}

/* ---- triangular solves and inverse (dtrtrs, dtrti2) ------------------------ */

/* The first diagonal entry failing |R[j,j]| > rtol * max |R[i,i]|. */
static int check_diag(size_t n, const double *R, size_t ldr, double rtol, size_t *bad, const char *what)
{
    double rmax = 0.0, thresh;
    size_t j;
    for (j = 0; j < n; j++) {
        double a = fabs(R[j + j * ldr]);
        if (a > rmax) rmax = a;
    }
    thresh = rtol * rmax;
    for (j = 0; j < n; j++) {
        double d = R[j + j * ldr];
        if (!isfinite(d) || d == 0.0 || !(fabs(d) > thresh)) {
            if (bad) *bad = j;
            if (!isfinite(d)) return tpe_error(TPE_ENUMERIC, "%s: column %zu: R[%zu,%zu] = %g is not finite", what, j, j, j, d);
            return tpe_error(TPE_ENUMERIC,
                             "%s: column %zu is (near-)singular: |R[%zu,%zu]| = %.3g is not above %.3g "
                             "(%.3g times the largest |R[i,i]|, %.3g)",
                             what, j, j, j, fabs(d), thresh, rtol, rmax);
        }
    }
    return TPE_OK;
}

int tpe_tri_solve(size_t n, const double *R, size_t ldr, double *b, double rtol, size_t *bad)
{
    const tpe_kernels *kt = tpe_kernels_get();
    size_t j;
    int rc = check_diag(n, R, ldr, rtol, bad, "back substitution");
    if (rc) return rc;
    for (j = n; j-- > 0;) {
        b[j] /= R[j + j * ldr];
        if (j > 0 && b[j] != 0.0) kt->daxpy(j, -b[j], R + j * ldr, b); /* b[0:j] -= b[j] R[0:j, j] */
    }
    return TPE_OK;
}

int tpe_tri_solve_trans(size_t n, const double *R, size_t ldr, double *b, double rtol, size_t *bad)
{
    const tpe_kernels *kt = tpe_kernels_get();
    size_t j;
    int rc = check_diag(n, R, ldr, rtol, bad, "forward substitution");
    if (rc) return rc;
    for (j = 0; j < n; j++) {
        double s = j > 0 ? kt->ddot(R + j * ldr, b, j) : 0.0; /* R[0:j, j]^T b[0:j] */
        b[j] = (b[j] - s) / R[j + j * ldr];
    }
    return TPE_OK;
}

int tpe_tri_inverse(size_t n, double *R, size_t ldr, double rtol, size_t *bad)
{
    const tpe_kernels *kt = tpe_kernels_get();
    size_t j, c;
    int rc = check_diag(n, R, ldr, rtol, bad, "triangular inverse");
    if (rc) return rc;
    for (j = 0; j < n; j++) {
        double *x = R + j * ldr, ajj;
        x[j] = 1.0 / x[j];
        ajj = -x[j];
        /* x[0:j] <- Rinv[0:j, 0:j] x[0:j] (upper triangular times vector,
         * column by column), then times -Rinv[j,j] */
        for (c = 0; c < j; c++) {
            double t = x[c];
            if (t != 0.0) {
                if (c > 0) kt->daxpy(c, t, R + c * ldr, x);
                x[c] = t * R[c + c * ldr];
            }
        }
        for (c = 0; c < j; c++) x[c] *= ajj;
    }
    return TPE_OK;
}

/* ---- equilibration ---------------------------------------------------------- */

int tpe_pow2_shift(double maxabs)
{
    int e;
    if (!(maxabs > 0.0) || !isfinite(maxabs)) return 0;
    (void)frexp(maxabs, &e); /* maxabs = f 2^e, f in [0.5, 1) */
    return -e > 1023 ? 1023 : -e;
}

void tpe_col_equilibrate(size_t m, size_t n, double *A, size_t lda, int *shift)
{
    size_t i, j;
    for (j = 0; j < n; j++) {
        double *a = A + j * lda, amax = 0.0, s;
        for (i = 0; i < m; i++)
            if (fabs(a[i]) > amax) amax = fabs(a[i]);
        shift[j] = tpe_pow2_shift(amax);
        if (shift[j] == 0) continue;
        s = ldexp(1.0, shift[j]); /* 2^shift, shift in [-1024, 1023]: exact */
        for (i = 0; i < m; i++) a[i] *= s;
    }
}
