/*
 * test_qr.c -- Householder QR (qr.c, qr_dd.c), the triangular solves, the
 * equilibration, double-double arithmetic (dd.h) and the numerics kernels
 * of the path under test.
 *
 * Bounds (Higham, Accuracy and Stability of Numerical Algorithms, 2nd ed.,
 * Thms. 19.4 and 19.13): the computed R is the exact R of A + dA with
 * ||dA||_F <= c m n u ||A||_F and the computed Q is orthogonal to within
 * c m n u, for a small constant c; observed errors are far smaller
 * (about sqrt(m) n u), so the tests use the "small multiple of
 * n eps": ||A - QR||_F <= 8 n u ||A||_F and ||Q^T Q - I||_F <= 8 n u sqrt(m).
 * Each prints the worst ratio to its bound (NOTE) and fails above 1.
 */
#include "dd.h"
#include "gemm.h"
#include "kernels_impl.h"
#include "qr.h"
#include "test.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define U TT_EPS64

static double relerr_of(double a, double b) { return a == b ? 0.0 : fabs(a - b) / fabs(b); }

static void fill_uniform(double *a, size_t n, double lo, double hi)
{
    size_t i;
    for (i = 0; i < n; i++) a[i] = lo + (hi - lo) * tpe_rng_uniform(tt_rng());
}

static double fro(const double *a, size_t m, size_t n, size_t ld)
{
    double s = 0.0;
    size_t i, j;
    for (j = 0; j < n; j++)
        for (i = 0; i < m; i++) s += a[i + j * ld] * a[i + j * ld];
    return sqrt(s);
}

/* column-major C (m x n) = op(A) op(B) through the row-major naive GEMM */
static void cm_naive(tpe_trans ta, tpe_trans tb, size_t m, size_t n, size_t k, const double *A, size_t lda,
                     const double *B, size_t ldb, double *C, size_t ldc)
{
    tpe_dgemm_naive(tb, ta, n, m, k, 1.0, B, ldb, A, lda, 0.0, C, ldc);
}

/* ||A - QR||_F / ||A||_F and ||Q^T Q - I||_F for the factorization F of A
 * (m x n, column-major); Q is formed by applying Q to the identity. */
static void qr_errors(size_t m, size_t n, const double *A, const double *F, const double *tau, double *res,
                      double *orth)
{
    size_t k = m < n ? m : n, i, j;
    double *Q = calloc(m * m, sizeof *Q), *R = calloc(m * n, sizeof *R), *QR = malloc(m * n * sizeof *QR),
           *I = malloc(m * m * sizeof *I);
    for (j = 0; j < m; j++) Q[j + j * m] = 1.0;
    CHECK_OK(tpe_qr_apply(0, m, m, k, F, m, tau, Q, m));
    for (j = 0; j < n; j++)
        for (i = 0; i <= j && i < m; i++) R[i + j * m] = F[i + j * m];
    cm_naive(TPE_NO_TRANS, TPE_NO_TRANS, m, n, m, Q, m, R, m, QR, m);
    for (i = 0; i < m * n; i++) QR[i] -= A[i];
    *res = fro(QR, m, n, m) / fro(A, m, n, m);
    cm_naive(TPE_TRANS, TPE_NO_TRANS, m, m, m, Q, m, Q, m, I, m);
    for (j = 0; j < m; j++) I[j + j * m] -= 1.0;
    *orth = fro(I, m, m, m);
    free(Q);
    free(R);
    free(QR);
    free(I);
}

/* ---- reflectors and norms ---------------------------------------------------- */

TEST(qr_householder_reflects_onto_e1)
{
    size_t n, trial, i;
    double worst = 0.0;
    for (n = 1; n <= 40; n += 3)
        for (trial = 0; trial < 3; trial++) {
            double x[40], x0[40], alpha, tau, norm = 0.0, w, bound;
            fill_uniform(x, n, -1.0, 1.0);
            if (trial == 1) x[0] = 0.0;
            if (trial == 2)
                for (i = 1; i < n; i++) x[i] *= 1e-9;
            memcpy(x0, x, n * sizeof *x);
            for (i = 0; i < n; i++) norm = hypot(norm, x[i]);
            alpha = x[0];
            tpe_householder(n, &alpha, x + 1, 1, &tau);
            if (n == 1) {
                CHECK(tau == 0.0);
                continue;
            }
            CHECKF(tau >= 1.0 && tau <= 2.0, "n %zu: tau %g outside [1, 2]", n, tau);
            CHECKF(fabs(fabs(alpha) - norm) <= 4.0 * U * norm, "n %zu: |beta| %.17g, norm %.17g", n, alpha, norm);
            CHECKF(alpha * x0[0] <= 0.0, "beta %g has the sign of alpha %g", alpha, x0[0]);
            /* H x0 = x0 - tau v (v^T x0) with v = (1, x[1..]) must be beta e1 */
            w = x0[0];
            for (i = 1; i < n; i++) w += x[i] * x0[i];
            bound = 8.0 * (double)n * U * norm;
            for (i = 0; i < n; i++) {
                double hx = x0[i] - tau * (i == 0 ? 1.0 : x[i]) * w, want = i == 0 ? alpha : 0.0;
                double e = fabs(hx - want) / bound;
                if (e > worst) worst = e;
            }
        }
    NOTE("worst |H x - beta e1| / (8 n u ||x||) = %.3g", worst);
    CHECK(worst <= 1.0);
}

TEST(qr_householder_zero_tail_is_identity)
{
    double x[3] = {0.0, 0.0, 0.0}, alpha = -2.5, tau = 99.0;
    tpe_householder(4, &alpha, x, 1, &tau);
    CHECK(tau == 0.0);
    CHECK(alpha == -2.5); /* dlarfg: H = I, beta = alpha even when negative */
    alpha = 3.0;
    tpe_householder(4, &alpha, x, 1, &tau);
    CHECK(tau == 0.0 && alpha == 3.0);
}

/* Scaling x by 2^s (s = +-1000: squares overflow / underflow, beta below the
 * safe minimum; s = -1060: subnormal entries) must leave tau and v unchanged
 * and scale beta, to rounding. The reference is the reflector of the scaled
 * data scaled back exactly (y 2^-s), so rounding of subnormal inputs does not
 * count against the algorithm. */
TEST(qr_householder_safe_at_extreme_scales)
{
    const int shifts[] = {-1060, -1000, -600, 600, 1000, 1020};
    double x0[12], worst = 0.0;
    size_t s, i, n = 12;
    fill_uniform(x0, n, -1.0, 1.0);
    for (s = 0; s < sizeof shifts / sizeof shifts[0]; s++) {
        double x[12], y[12], a, b, tau1, tau2, e;
        for (i = 0; i < n - 1; i++) {
            y[i] = ldexp(x0[i + 1], shifts[s]);
            x[i] = ldexp(y[i], -shifts[s]); /* exact */
        }
        b = ldexp(x0[0], shifts[s]);
        a = ldexp(b, -shifts[s]);
        tpe_householder(n, &a, x, 1, &tau1);
        tpe_householder(n, &b, y, 1, &tau2);
        CHECKF(isfinite(tau2) && isfinite(b), "shift %d: tau %g beta %g", shifts[s], tau2, b);
        /* beta itself may land among the subnormals: allow their spacing */
        CHECKF(fabs(b - ldexp(a, shifts[s])) <= 16.0 * (double)n * U * fabs(ldexp(a, shifts[s])) + 0x1p-1074,
               "shift %d: beta %.17g, expected %.17g", shifts[s], b, ldexp(a, shifts[s]));
        e = relerr_of(tau2, tau1);
        for (i = 0; i < n - 1; i++) e = fmax(e, fabs(y[i] - x[i]) / (fabs(x[i]) + U));
        if (e > worst) worst = e;
    }
    NOTE("worst relative change of tau, beta, v under 2^s scaling = %.3g (bound 16 n u = %.3g)", worst,
         16.0 * (double)n * U);
    CHECK(worst <= 16.0 * (double)n * U);
}

TEST(qr_nrm2_no_overflow_or_underflow)
{
    double a[2] = {3e300, 4e300}, b[2] = {3e-300, 4e-300}, c[3] = {0.0, 0.0, 0.0};
    double d[2] = {3.0 * 0x1p-1074, 4.0 * 0x1p-1074}, e[4] = {1.0, 1e-200, 1e-200, 1e-200};
    double strided[6] = {3e300, 99.0, 4e300, 99.0, 0.0, 99.0};
    CHECK(relerr_of(tpe_nrm2(2, a, 1), 5e300) <= 2.0 * U);
    CHECK(relerr_of(tpe_nrm2(2, b, 1), 5e-300) <= 2.0 * U);
    CHECK(tpe_nrm2(3, c, 1) == 0.0);
    CHECK(tpe_nrm2(2, d, 1) == 5.0 * 0x1p-1074);
    CHECK(tpe_nrm2(4, e, 1) == 1.0);
    CHECK(relerr_of(tpe_nrm2(3, strided, 2), 5e300) <= 2.0 * U);
    CHECK(tpe_nrm2(0, a, 1) == 0.0);
}

/* ---- factorizations ----------------------------------------------------------------- */

typedef struct shape {
    size_t m, n;
} shape;

TEST(qr_unblocked_is_backward_stable)
{
    static const shape shapes[] = {{1, 1}, {5, 3}, {3, 5}, {17, 17}, {60, 23}, {23, 60}, {120, 40}};
    double worst_r = 0.0, worst_o = 0.0;
    size_t s;
    for (s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        size_t m = shapes[s].m, n = shapes[s].n, k = m < n ? m : n;
        double *A = malloc(m * n * sizeof *A), *F = malloc(m * n * sizeof *F), *tau = malloc(k * sizeof *tau), res,
               orth;
        fill_uniform(A, m * n, -1.0, 1.0);
        memcpy(F, A, m * n * sizeof *F);
        tpe_qr_unblocked(m, n, F, m, tau);
        qr_errors(m, n, A, F, tau, &res, &orth);
        res /= 8.0 * (double)n * U;
        orth /= 8.0 * (double)n * U * sqrt((double)m);
        if (res > worst_r) worst_r = res;
        if (orth > worst_o) worst_o = orth;
        free(A);
        free(F);
        free(tau);
    }
    NOTE("||A-QR||/||A|| / (8 n u) = %.3g, ||Q^TQ-I|| / (8 n u sqrt m) = %.3g", worst_r, worst_o);
    CHECK(worst_r <= 1.0 && worst_o <= 1.0);
}

/* The blocked (recursive panel, compact WY, GEMM) factorization equals the
 * unblocked one to rounding: ||F_blocked - F_unblocked||_F <= 8 n u ||A||_F
 * (both are backward stable; R and V are well conditioned functions of A for
 * these random matrices), and is itself backward stable. */
TEST(qr_blocked_matches_unblocked)
{
    static const struct {
        size_t m, n, nb;
    } cases[] = {{300, 200, 16}, {150, 150, 8}, {100, 250, 16}, {500, 130, 96}, {64, 64, 3}, {97, 41, 2},
                 {1000, 300, 0}, {260, 259, 32}};
    double worst = 0.0, worst_r = 0.0, worst_o = 0.0;
    size_t c, ncases = sizeof cases / sizeof cases[0];
    if (tt_quick()) ncases -= 2;
    for (c = 0; c < ncases; c++) {
        size_t m = cases[c].m, n = cases[c].n, k = m < n ? m : n, i;
        double *A = malloc(m * n * sizeof *A), *Fb = malloc(m * n * sizeof *Fb), *Fu = malloc(m * n * sizeof *Fu);
        double *tb = malloc(k * sizeof *tb), *tu = malloc(k * sizeof *tu), d = 0.0, res, orth;
        fill_uniform(A, m * n, -1.0, 1.0);
        memcpy(Fb, A, m * n * sizeof *A);
        memcpy(Fu, A, m * n * sizeof *A);
        CHECK_OK(tpe_qr_nb(m, n, Fb, m, tb, cases[c].nb));
        tpe_qr_unblocked(m, n, Fu, m, tu);
        for (i = 0; i < m * n; i++) d += (Fb[i] - Fu[i]) * (Fb[i] - Fu[i]);
        for (i = 0; i < k; i++) d += (tb[i] - tu[i]) * (tb[i] - tu[i]);
        d = sqrt(d) / (8.0 * (double)n * U * fro(A, m, n, m));
        if (d > worst) worst = d;
        if (m <= 500) {
            qr_errors(m, n, A, Fb, tb, &res, &orth);
            res /= 8.0 * (double)n * U;
            orth /= 8.0 * (double)n * U * sqrt((double)m);
            if (res > worst_r) worst_r = res;
            if (orth > worst_o) worst_o = orth;
        }
        free(A);
        free(Fb);
        free(Fu);
        free(tb);
        free(tu);
    }
    NOTE("||F_blocked - F_unblocked|| / (8 n u ||A||) = %.3g; blocked ||A-QR|| ratio %.3g, ||Q^TQ-I|| ratio %.3g", worst,
         worst_r, worst_o);
    CHECK(worst <= 1.0 && worst_r <= 1.0 && worst_o <= 1.0);
}

/* Q^T then Q (and the blocked apply for 16 or more columns) gives C back. */
TEST(qr_apply_round_trip)
{
    const size_t m = 150, n = 110, k = 110, widths[] = {1, 5, 16, 40};
    double *A = malloc(m * n * sizeof *A), *tau = malloc(k * sizeof *tau), worst = 0.0;
    size_t w;
    fill_uniform(A, m * n, -1.0, 1.0);
    CHECK_OK(tpe_qr(m, n, A, m, tau));
    for (w = 0; w < sizeof widths / sizeof widths[0]; w++) {
        size_t r = widths[w], i;
        double *C = malloc(m * r * sizeof *C), *C0 = malloc(m * r * sizeof *C0), d = 0.0;
        fill_uniform(C, m * r, -1.0, 1.0);
        memcpy(C0, C, m * r * sizeof *C);
        CHECK_OK(tpe_qr_apply(1, m, r, k, A, m, tau, C, m));
        CHECK_OK(tpe_qr_apply(0, m, r, k, A, m, tau, C, m));
        for (i = 0; i < m * r; i++) d += (C[i] - C0[i]) * (C[i] - C0[i]);
        d = sqrt(d) / (8.0 * (double)k * U * fro(C0, m, r, m));
        if (d > worst) worst = d;
        free(C);
        free(C0);
    }
    NOTE("||Q Q^T C - C|| / (8 k u ||C||) = %.3g", worst);
    CHECK(worst <= 1.0);
    free(A);
    free(tau);
}

/* A zero column gets tau = 0 (no reflection) and an exactly dependent column
 * a zero-sized R[j,j]; the factorization stays backward stable. */
TEST(qr_zero_and_dependent_columns)
{
    const size_t m = 30, n = 6;
    double A[180], F[180], tau[6], res, orth;
    size_t i;
    fill_uniform(A, m * n, -1.0, 1.0);
    for (i = 0; i < m; i++) {
        A[i + 2 * m] = 0.0;          /* column 2: zeros */
        A[i + 4 * m] = A[i + 1 * m]; /* column 4 = column 1 */
    }
    memcpy(F, A, sizeof A);
    tpe_qr_unblocked(m, n, F, m, tau);
    CHECK(tau[2] == 0.0 && F[2 + 2 * m] == 0.0);
    CHECKF(fabs(F[4 + 4 * m]) <= 8.0 * (double)m * U * tpe_nrm2(m, A + 4 * m, 1), "R[4,4] = %g", F[4 + 4 * m]);
    qr_errors(m, n, A, F, tau, &res, &orth);
    NOTE("||A-QR||/||A|| = %.3g, ||Q^TQ-I|| = %.3g", res, orth);
    CHECK(res <= 8.0 * (double)n * U && orth <= 8.0 * (double)n * U * sqrt((double)m));
}

/* ---- triangular solves ------------------------------------------------------------------ */

TEST(qr_triangular_solves_and_inverse)
{
    const size_t n = 60;
    double *R = calloc(n * n, sizeof *R), *Ri = malloc(n * n * sizeof *Ri), x[60], b[60], bt[60], worst = 0.0;
    size_t i, j, c;
    for (j = 0; j < n; j++) {
        for (i = 0; i < j; i++) R[i + j * n] = (2.0 * tpe_rng_uniform(tt_rng()) - 1.0) / sqrt((double)n);
        R[j + j * n] = 1.0 + tpe_rng_uniform(tt_rng());
        x[j] = 2.0 * tpe_rng_uniform(tt_rng()) - 1.0;
    }
    for (i = 0; i < n; i++) {
        b[i] = bt[i] = 0.0;
        for (j = 0; j < n; j++) {
            b[i] += R[i + j * n] * x[j];  /* R x  */
            bt[i] += R[j + i * n] * x[j]; /* R^T x */
        }
    }
    CHECK_OK(tpe_tri_solve(n, R, n, b, 0.0, NULL));
    CHECK_OK(tpe_tri_solve_trans(n, R, n, bt, 0.0, NULL));
    for (i = 0; i < n; i++) {
        double e = fmax(fabs(b[i] - x[i]), fabs(bt[i] - x[i])) / (64.0 * (double)n * U);
        if (e > worst) worst = e;
    }
    NOTE("solves: max |x - x_true| / (64 n u) = %.3g", worst);
    CHECK(worst <= 1.0);
    memcpy(Ri, R, n * n * sizeof *R);
    CHECK_OK(tpe_tri_inverse(n, Ri, n, 0.0, NULL));
    worst = 0.0;
    for (i = 0; i < n; i++)
        for (j = i; j < n; j++) {
            /* (R R^-1)[i, j] = sum_{c=i..j} R[i, c] R^-1[c, j] (both upper) */
            double sum = 0.0;
            for (c = i; c <= j; c++) sum += R[i + c * n] * Ri[c + j * n];
            sum -= (double)(i == j);
            if (fabs(sum) / (64.0 * (double)n * U) > worst) worst = fabs(sum) / (64.0 * (double)n * U);
        }
    NOTE("inverse: max |R R^-1 - I| / (64 n u) = %.3g", worst);
    CHECK(worst <= 1.0);
    free(R);
    free(Ri);
}

TEST(qr_triangular_reports_singular_column)
{
    double R[9] = {2.0, 0.0, 0.0, 1.0, 3.0, 0.0, 1.0, 1.0, 0.0}, b[3] = {1.0, 1.0, 1.0};
    size_t bad = 99;
    CHECK_ERR(tpe_tri_solve(3, R, 3, b, 0.0, &bad), TPE_ENUMERIC, "column 2");
    CHECK(bad == 2);
    CHECK(b[0] == 1.0 && b[1] == 1.0 && b[2] == 1.0); /* nothing divided */
    R[8] = 1e-14;                                      /* near-singular next to 3 */
    CHECK_OK(tpe_tri_solve(3, R, 3, b, 0.0, NULL));
    b[0] = b[1] = b[2] = 1.0;
    CHECK_ERR(tpe_tri_solve(3, R, 3, b, 1e-12, &bad), TPE_ENUMERIC, "(near-)singular");
    CHECK_ERR(tpe_tri_inverse(3, R, 3, 1e-12, &bad), TPE_ENUMERIC, "column 2");
    R[0] = (double)NAN;
    CHECK_ERR(tpe_tri_solve_trans(3, R, 3, b, 0.0, &bad), TPE_ENUMERIC, "not finite");
    CHECK(bad == 0);
}

TEST(qr_equilibrate_is_exact)
{
    const size_t m = 7, n = 5;
    double A[35], A0[35];
    int shift[5];
    size_t i, j;
    fill_uniform(A, m * n, -1.0, 1.0);
    for (i = 0; i < m; i++) {
        A[i] *= 1e300;
        A[i + m] *= 1e-300;
        A[i + 2 * m] = 0.0;
        A[i + 3 * m] *= 0x1p-1060; /* subnormal column */
    }
    memcpy(A0, A, sizeof A);
    tpe_col_equilibrate(m, n, A, m, shift);
    CHECK(shift[2] == 0);
    for (j = 0; j < n; j++) {
        double amax = 0.0;
        for (i = 0; i < m; i++) {
            CHECKF(ldexp(A[i + j * m], -shift[j]) == A0[i + j * m], "A[%zu,%zu] not exactly scaled", i, j);
            amax = fmax(amax, fabs(A[i + j * m]));
        }
        if (j == 2) CHECK(amax == 0.0);
        else if (j == 3) CHECKF(amax >= 0x1p-53 && amax < 1.0, "subnormal column max %g", amax);
        else CHECKF(amax >= 0.5 && amax < 1.0, "column %zu max %g", j, amax);
    }
    CHECK(tpe_pow2_shift(1.0) == -1 && tpe_pow2_shift(0.75) == 0 && tpe_pow2_shift(0.0) == 0);
}

/* ---- double-double ---------------------------------------------------------------------- */

TEST(qr_dd_arithmetic)
{
    tpe_dd third = tpe_dd_div(tpe_dd_from(1.0), tpe_dd_from(3.0)), r2 = tpe_dd_sqrt(tpe_dd_from(2.0)), e, s;
    double a = 0.1, b = 0.7;
    e = tpe_dd_sub(tpe_dd_mul_d(third, 3.0), tpe_dd_from(1.0));
    CHECKF(fabs(e.hi) <= 4.0 * U * U, "3 (1/3) - 1 = %g", e.hi);
    e = tpe_dd_sub(tpe_dd_mul(r2, r2), tpe_dd_from(2.0));
    CHECKF(fabs(e.hi) <= 16.0 * U * U, "sqrt(2)^2 - 2 = %g", e.hi);
    /* TwoSum agrees with Fast2Sum (both exact when |b| >= |a|), and is exact
     * on a case where the low part is known */
    s = tpe_dd_two_sum(a, b);
    e = tpe_dd_fast_two_sum(b, a);
    CHECK(s.hi == a + b && s.hi == e.hi && s.lo == e.lo);
    s = tpe_dd_two_sum(1.0, 0x1p-60);
    CHECK(s.hi == 1.0 && s.lo == 0x1p-60);
    s = tpe_dd_two_prod(a, b);
    CHECK(s.hi == a * b && fma(a, b, -s.hi) == s.lo);
    e = tpe_dd_add(tpe_dd_from(1.0), tpe_dd_from(1e-20));
    CHECK(e.hi == 1.0 && e.lo == 1e-20);
}

/* An ill-conditioned exactly representable system (Vandermonde on integer
 * nodes, cond ~1e12): the dd QR solve recovers the integer solution to
 * 1e-20 while the double solve keeps cond u ~ 1e-4 relative. */
TEST(qr_dd_solves_ill_conditioned)
{
    const size_t m = 14, n = 9;
    double Ah[126], Al[126], A[126], th[9], tl[9], t[9], bh[14], bl[14], b[14], x[9], worst_dd = 0.0, worst = 0.0;
    size_t i, j;
    for (i = 0; i < m; i++) {
        double v = 1.0;
        for (j = 0; j < n; j++) {
            A[i + j * m] = v; /* (10 + i)^j, exact below 2^53 */
            v *= (double)(10 + i);
        }
    }
    for (j = 0; j < n; j++) x[j] = (double)((int)(j % 5) - 2);
    for (i = 0; i < m; i++) {
        double s = 0.0;
        for (j = 0; j < n; j++) s += A[i + j * m] * x[j]; /* exact: integers < 2^53 */
        b[i] = bh[i] = s;
        bl[i] = 0.0;
    }
    memcpy(Ah, A, sizeof A);
    memset(Al, 0, sizeof Al);
    tpe_qr_dd(m, n, Ah, Al, m, th, tl, NULL);
    tpe_qr_dd_apply_qt(m, n, Ah, Al, m, th, tl, bh, bl);
    CHECK_OK(tpe_tri_solve_dd(n, Ah, Al, m, bh, bl, 0.0, NULL));
    tpe_qr_unblocked(m, n, A, m, t);
    CHECK_OK(tpe_qr_apply(1, m, 1, n, A, m, t, b, m));
    CHECK_OK(tpe_tri_solve(n, A, m, b, 0.0, NULL));
    for (j = 0; j < n; j++) {
        double e = fabs(bh[j] + bl[j] - x[j]), e2 = fabs(b[j] - x[j]);
        if (e > worst_dd) worst_dd = e;
        if (e2 > worst) worst = e2;
    }
    /* the double error is ~cond u; double-double should take u^2 for u:
     * allow 1e-12 of the double error (about 4 of the 16 digits as slack) */
    NOTE("max error: double-double %.3g, double %.3g (ratio %.2g)", worst_dd, worst, worst_dd / worst);
    CHECK(worst > 0.0 && worst_dd <= 1e-12 * worst);
}

/* ---- kernels of the path under test vs their scalar twins -------------------------------- */

TEST(numk_kernels_match_scalar_twins)
{
    const tpe_kernels *kt = tt_kernels();
    const size_t sizes[] = {0, 1, 3, 4, 5, 15, 16, 17, 33, 1000};
    size_t s, i;
    double worst = 0.0;
    for (s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        size_t n = sizes[s];
        double *xh = malloc((n + 1) * sizeof *xh), *xl = malloc((n + 1) * sizeof *xl);
        double *yh = malloc((n + 1) * sizeof *yh), *yl = malloc((n + 1) * sizeof *yl);
        double *y2h = malloc((n + 1) * sizeof *y2h), *y2l = malloc((n + 1) * sizeof *y2l);
        double h1, l1, h2, l2, mag = 0.0;
        for (i = 0; i < n; i++) {
            tpe_dd a = tpe_dd_two_sum(2.0 * tpe_rng_uniform(tt_rng()) - 1.0, 1e-17 * tpe_rng_uniform(tt_rng()));
            tpe_dd b = tpe_dd_two_sum(2.0 * tpe_rng_uniform(tt_rng()) - 1.0, 1e-17 * tpe_rng_uniform(tt_rng()));
            xh[i] = a.hi;
            xl[i] = a.lo;
            yh[i] = y2h[i] = b.hi;
            yl[i] = y2l[i] = b.lo;
            mag += fabs(a.hi * b.hi);
        }
        kt->dd_dot(n, xh, xl, yh, yl, &h1, &l1);
        tpe_dd_dot_scalar(n, xh, xl, yh, yl, &h2, &l2);
        /* both within ~n u^2 sum |x y| of the exact sum: compare the pairs */
        {
            double d = fabs((h1 - h2) + (l1 - l2)) / (4.0 * ((double)n + 1.0) * U * U * (mag + 1e-300));
            if (d > worst) worst = d;
        }
        kt->dd_axpy(n, 0.375, 1e-18, xh, xl, yh, yl);
        tpe_dd_axpy_scalar(n, 0.375, 1e-18, xh, xl, y2h, y2l);
        for (i = 0; i < n; i++) CHECKF(yh[i] == y2h[i] && yl[i] == y2l[i], "dd_axpy differs at %zu of %zu", i, n);
        free(xh);
        free(xl);
        free(yh);
        free(yl);
        free(y2h);
        free(y2l);
    }
    NOTE("dd_dot vs scalar twin: worst |diff| / (4 n u^2 sum|xy|) = %.3g", worst);
    CHECK(worst <= 1.0);
    {
        /* rotations: same operations lane by lane, so the same bits */
        const size_t rows = 37, nrot = 9, ld = 41;
        double Z[41 * 10], Z2[41 * 10], c[9], sn[9];
        fill_uniform(Z, ld * (nrot + 1), -1.0, 1.0);
        memcpy(Z2, Z, sizeof Z);
        for (i = 0; i < nrot; i++) {
            double t = 6.283185307179586 * tpe_rng_uniform(tt_rng());
            c[i] = cos(t);
            sn[i] = sin(t);
        }
        c[3] = 1.0;
        sn[3] = 0.0;
        kt->drot_seq(rows, nrot, c, sn, Z, ld);
        tpe_drot_seq_scalar(rows, nrot, c, sn, Z2, ld);
        CHECK(memcmp(Z, Z2, sizeof Z) == 0);
    }
}
