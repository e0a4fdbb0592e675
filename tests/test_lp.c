/*
 * test_lp.c -- the dense revised simplex (lp.h) on LPs whose optimality is
 * checked by its own certificate: a solution z and multipliers pi are
 * optimal exactly when z is feasible (M z = rhs, z >= 0), pi is dual
 * feasible (c - M^T pi >= 0) and the objectives agree (c^T z = rhs^T pi).
 * Each test measures those three residuals, relative to the scale they can
 * be computed at (n u (|c||z| + |rhs||pi|) and alike), and fails above a
 * growth allowance G = 1e4 (Gauss-Jordan's growth factor times the
 * condition of B; the NOTE prints the worst relative residual seen).
 */
#include "lp.h"
#include "test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define G_ALLOW 1e4

static size_t tt_lp_pivots, tt_lp_bland;

typedef struct dense_lp {
    size_t m, n; /* n = dense columns; the m unit columns +e_k come after them */
    double *A;   /* (m, n) column j at A[i * n + j] */
    double *c;   /* (n + m) costs */
    double *b;   /* (m) */
} dense_lp;

static void dlp_free(dense_lp *p)
{
    free(p->A);
    free(p->c);
    free(p->b);
}

/* Build it, slack basis, solve; returns the worst relative KKT residual, or
 * a huge value when the status is not `want`. */
static size_t bland_after = 30;

static double solve_check(const dense_lp *p, tpe_lp_status want, double *objective, size_t max_pivots)
{
    tpe_lp *lp = NULL;
    size_t i, j, m = p->m, n = p->n;
    size_t *basis = malloc(m * sizeof *basis);
    double *col = malloc(m * sizeof *col), *z = calloc(n + m, sizeof *z);
    double worst = 0.0, cz = 0.0, bpi = 0.0, scale_obj = 0.0, zmax = 1e-300;
    tpe_lp_opts o;
    tpe_lp_status st;
    const double u = TT_EPS64;
    CHECK_OK(tpe_lp_new(m, p->b, &lp));
    for (j = 0; j < n; j++) {
        for (i = 0; i < m; i++) col[i] = p->A[i * n + j];
        CHECK_OK(tpe_lp_add_dense(lp, col, p->c[j], NULL));
    }
    for (i = 0; i < m; i++) {
        CHECK_OK(tpe_lp_add_unit(lp, i, 1, p->c[n + i], NULL));
        basis[i] = n + i;
    }
    CHECK_OK(tpe_lp_set_basis(lp, basis));
    tpe_lp_opts_default(&o);
    o.bland_after = bland_after;
    if (max_pivots) o.max_pivots = max_pivots;
    st = tpe_lp_solve(lp, &o);
    tt_lp_pivots += tpe_lp_get_stats(lp)->pivots;
    tt_lp_bland += tpe_lp_get_stats(lp)->bland;
    CHECKF(st == want, "status %s, expected %s", tpe_lp_status_name(st), tpe_lp_status_name(want));
    if (st != want || st != TPE_LP_OPTIMAL) {
        tpe_lp_free(lp);
        free(basis);
        free(col);
        free(z);
        return st == want ? 0.0 : 1e300;
    }
    {
        const double *pi = tpe_lp_pi(lp);
        for (j = 0; j < n + m; j++) z[j] = tpe_lp_value(lp, j);
        /* primal: z >= 0 and M z = b */
        for (j = 0; j < n + m; j++) zmax = fmax(zmax, fabs(z[j]));
        for (j = 0; j < n + m; j++) worst = fmax(worst, -z[j] / (u * (double)(n + m) * zmax));
        for (i = 0; i < m; i++) {
            /* the computed z carries errors of order u ||z||, so the row's
             * scale is (1 + |A_i|_1) ||z||_inf + |b_i| */
            double s = z[n + i] - p->b[i], mag = zmax + fabs(p->b[i]);
            for (j = 0; j < n; j++) {
                s += p->A[i * n + j] * z[j];
                mag += fabs(p->A[i * n + j]) * zmax;
            }
            worst = fmax(worst, fabs(s) / ((double)(n + 2) * u * mag + 1e-300));
        }
        /* dual: c_j - M_j . pi >= 0 */
        for (j = 0; j < n + m; j++) {
            double d = p->c[j], mag = fabs(p->c[j]);
            if (j < n) {
                for (i = 0; i < m; i++) {
                    d -= p->A[i * n + j] * pi[i];
                    mag += fabs(p->A[i * n + j] * pi[i]);
                }
            } else {
                d -= pi[j - n];
                mag += fabs(pi[j - n]);
            }
            /* the solver stops at d_j >= -tol_opt ||M_j|| (1e-10), plus rounding */
            {
                double nrm = 0.0;
                if (j < n)
                    for (i = 0; i < m; i++) nrm += p->A[i * n + j] * p->A[i * n + j];
                else
                    nrm = 1.0;
                if (d < 0) worst = fmax(worst, -d / (1e-10 * sqrt(nrm) + (double)(m + 2) * u * mag));
            }
        }
        for (j = 0; j < n + m; j++) {
            cz += p->c[j] * z[j];
            scale_obj += fabs(p->c[j] * z[j]);
        }
        for (i = 0; i < m; i++) {
            bpi += p->b[i] * pi[i];
            scale_obj += fabs(p->b[i] * pi[i]);
        }
        worst = fmax(worst, fabs(cz - bpi) / ((double)(n + m) * u * scale_obj + 1e-300));
        if (objective) *objective = cz;
        CHECKF(fabs(tpe_lp_objective(lp) - cz) <= 1e-9 * (1.0 + scale_obj), "objective %.17g vs c^T z %.17g",
               tpe_lp_objective(lp), cz);
    }
    tpe_lp_free(lp);
    free(basis);
    free(col);
    free(z);
    return worst;
}

/* Chvatal, Linear Programming (1983), p. 14: max 5x1 + 4x2 + 3x3 subject to
 * 2x1+3x2+x3 <= 5, 4x1+x2+2x3 <= 11, 3x1+4x2+2x3 <= 8; optimum 13 at (2, 0, 1). */
TEST(lp_textbook)
{
    double A[9] = {2, 3, 1, 4, 1, 2, 3, 4, 2}, c[6] = {-5, -4, -3, 0, 0, 0}, b[3] = {5, 11, 8};
    dense_lp p;
    double obj = 0.0, w;
    p.m = 3;
    p.n = 3;
    p.A = malloc(sizeof A);
    p.c = malloc(sizeof c);
    p.b = malloc(sizeof b);
    memcpy(p.A, A, sizeof A);
    memcpy(p.c, c, sizeof c);
    memcpy(p.b, b, sizeof b);
    w = solve_check(&p, TPE_LP_OPTIMAL, &obj, 0);
    CHECKF(w <= G_ALLOW, "KKT residual %.3g", w);
    CHECKF(fabs(obj + 13.0) <= 1e-12, "objective %.17g, expected -13", obj);
    NOTE("objective %.17g, KKT residual %.3g", obj, w);
    dlp_free(&p);
}

static void random_lp(dense_lp *p, size_t m, size_t n, int degenerate, int dup)
{
    size_t i, j;
    tpe_rng *r = tt_rng();
    p->m = m;
    p->n = n;
    p->A = malloc(m * n * sizeof *p->A);
    p->c = malloc((n + m) * sizeof *p->c);
    p->b = malloc(m * sizeof *p->b);
    for (i = 0; i < m; i++)
        for (j = 0; j < n; j++) p->A[i * n + j] = 2.0 * tpe_rng_uniform(r) - 1.0;
    /* row 0: a budget sum_j a_j z_j <= 1 with a_j > 0 keeps the LP bounded */
    for (j = 0; j < n; j++) p->A[j] = 0.1 + tpe_rng_uniform(r);
    if (dup)
        for (j = 1; j < n; j += 3) /* copies and multiples of column 0 */
            for (i = 0; i < m; i++) p->A[i * n + j] = (double)(j % 2 + 1) * p->A[i * n];
    for (j = 0; j < n; j++) p->c[j] = degenerate ? -(double)(1 + tpe_rng_below(r, 3)) : 2.0 * tpe_rng_uniform(r) - 1.5;
    for (j = 0; j < m; j++) p->c[n + j] = 0.0;
    for (i = 0; i < m; i++) p->b[i] = degenerate && i > 0 ? 0.0 : tpe_rng_uniform(r) + (i == 0 ? 1.0 : 0.0);
    if (degenerate)
        for (i = 0; i < m; i++)
            for (j = 0; j < n; j++)
                if (i > 0) p->A[i * n + j] = (double)((long)tpe_rng_below(r, 5) - 2);
}

TEST(lp_random_kkt)
{
    size_t t, trials = tt_quick() ? 30 : 120;
    double worst = 0.0;
    for (t = 0; t < trials; t++) {
        dense_lp p;
        size_t m = 1 + tpe_rng_below(tt_rng(), 25), n = 1 + tpe_rng_below(tt_rng(), 60);
        random_lp(&p, m, n, 0, 0);
        worst = fmax(worst, solve_check(&p, TPE_LP_OPTIMAL, NULL, 0));
        dlp_free(&p);
    }
    CHECKF(worst <= G_ALLOW, "worst KKT residual %.3g", worst);
    NOTE("%zu LPs, worst KKT residual %.3g (of n u scale)", trials, worst);
}

/* Integer data, right-hand sides mostly 0, repeated and parallel columns:
 * almost every pivot is degenerate, and Bland's rule must end it. */
TEST(lp_degenerate_kkt)
{
    size_t t, trials = tt_quick() ? 20 : 80;
    double worst = 0.0;
    tt_lp_pivots = tt_lp_bland = 0;
    for (t = 0; t < trials; t++) {
        dense_lp p;
        size_t m = 2 + tpe_rng_below(tt_rng(), 15), n = 2 + tpe_rng_below(tt_rng(), 40);
        random_lp(&p, m, n, 1, 1);
        /* half with the default switch to Bland's rule, half with Bland's
         * rule from the first degenerate pivot on */
        bland_after = t % 2 ? 1 : 30;
        worst = fmax(worst, solve_check(&p, TPE_LP_OPTIMAL, NULL, 0));
        dlp_free(&p);
    }
    bland_after = 30;
    CHECKF(worst <= G_ALLOW, "worst KKT residual %.3g", worst);
    CHECKF(tt_lp_bland > 0, "Bland's rule was never needed: the test does not exercise it");
    NOTE("%zu degenerate LPs, %zu pivots (%zu under Bland's rule), worst KKT residual %.3g", trials, tt_lp_pivots,
         tt_lp_bland, worst);
}

/* Beale's example (1955), which cycles under Dantzig's rule with the
 * textbook tie-breaking: min -3/4 x4 + 20 x5 - 1/2 x6 + 6 x7 subject to
 * x1 + x4/4 - 8 x5 - x6 + 9 x7 = 0, x2 + x4/2 - 12 x5 - x6/2 + 3 x7 = 0,
 * x3 + x6 = 1; optimum -5/4 (x4 = x6 = 1, x1 = 3/4). */
TEST(lp_beale_cycling)
{
    const double A[12] = {0.25, -8, -1, 9, 0.5, -12, -0.5, 3, 0, 0, 1, 0};
    const double c[7] = {-0.75, 20, -0.5, 6, 0, 0, 0}, b[3] = {0, 0, 1};
    size_t pass;
    for (pass = 0; pass < 2; pass++) {
        dense_lp p;
        double obj = 0.0, w;
        p.m = 3;
        p.n = 4;
        p.A = malloc(sizeof A);
        p.c = malloc(sizeof c);
        p.b = malloc(sizeof b);
        memcpy(p.A, A, sizeof A);
        memcpy(p.c, c, sizeof c);
        memcpy(p.b, b, sizeof b);
        bland_after = pass ? 1 : 30;
        w = solve_check(&p, TPE_LP_OPTIMAL, &obj, 1000);
        CHECKF(w <= G_ALLOW, "KKT residual %.3g", w);
        CHECKF(fabs(obj + 1.25) <= 1e-12, "objective %.17g, expected -1.25", obj);
        dlp_free(&p);
    }
    bland_after = 30;
}

/* Larger LPs: hundreds of pivots, so the Devex weights grow and the
 * inverse is refactorized many times along the way. */
TEST(lp_larger_kkt)
{
    size_t t, trials = tt_quick() ? 1 : 4;
    double worst = 0.0;
    tt_lp_pivots = 0;
    for (t = 0; t < trials; t++) {
        dense_lp p;
        random_lp(&p, 40 + 20 * t, 300 + 100 * t, 0, 0);
        worst = fmax(worst, solve_check(&p, TPE_LP_OPTIMAL, NULL, 0));
        dlp_free(&p);
    }
    CHECKF(worst <= G_ALLOW, "worst KKT residual %.3g", worst);
    NOTE("%zu LPs, %zu pivots, worst KKT residual %.3g", trials, tt_lp_pivots, worst);
}

/* Columns added after a solve: the warm start reaches the same optimum as
 * a cold solve with every column. */
TEST(lp_column_generation)
{
    size_t t, trials = tt_quick() ? 10 : 40;
    double worst = 0.0;
    for (t = 0; t < trials; t++) {
        dense_lp p;
        size_t m = 2 + tpe_rng_below(tt_rng(), 12), n = 10 + tpe_rng_below(tt_rng(), 40), i, j, half;
        tpe_lp *lp = NULL;
        size_t *basis;
        double *col, cold = 0.0, warm;
        tpe_lp_opts o;
        random_lp(&p, m, n, t % 2, 0);
        worst = fmax(worst, solve_check(&p, TPE_LP_OPTIMAL, &cold, 0));
        basis = malloc(m * sizeof *basis);
        col = malloc(m * sizeof *col);
        tpe_lp_opts_default(&o);
        CHECK_OK(tpe_lp_new(m, p.b, &lp));
        for (i = 0; i < m; i++) {
            CHECK_OK(tpe_lp_add_unit(lp, i, 1, 0.0, NULL));
            basis[i] = i;
        }
        CHECK_OK(tpe_lp_set_basis(lp, basis));
        half = n / 2;
        for (j = 0; j < n; j++) {
            for (i = 0; i < m; i++) col[i] = p.A[i * n + j];
            CHECK_OK(tpe_lp_add_dense(lp, col, p.c[j], NULL));
            if (j + 1 == half) CHECK(tpe_lp_solve(lp, &o) == TPE_LP_OPTIMAL);
        }
        CHECK(tpe_lp_solve(lp, &o) == TPE_LP_OPTIMAL);
        warm = tpe_lp_objective(lp);
        CHECKF(fabs(warm - cold) <= 1e-9 * (1.0 + fabs(cold)), "warm %.17g cold %.17g", warm, cold);
        worst = fmax(worst, fabs(warm - cold) / (1e-12 * (1.0 + fabs(cold))));
        tpe_lp_free(lp);
        free(basis);
        free(col);
        dlp_free(&p);
    }
    CHECKF(worst <= G_ALLOW, "worst %.3g", worst);
    NOTE("worst warm/cold or KKT residual %.3g", worst);
}

TEST(lp_stop_and_limits)
{
    dense_lp p;
    tpe_lp *lp = NULL;
    size_t i, j, *basis;
    double *col;
    tpe_lp_opts o;
    random_lp(&p, 8, 30, 0, 0);
    basis = malloc(8 * sizeof *basis);
    col = malloc(8 * sizeof *col);
    CHECK_OK(tpe_lp_new(8, p.b, &lp));
    for (j = 0; j < 30; j++) {
        for (i = 0; i < 8; i++) col[i] = p.A[i * 30 + j];
        CHECK_OK(tpe_lp_add_dense(lp, col, p.c[j], NULL));
    }
    for (i = 0; i < 8; i++) {
        CHECK_OK(tpe_lp_add_unit(lp, i, 1, 0.0, NULL));
        basis[i] = 30 + i;
    }
    CHECK_OK(tpe_lp_set_basis(lp, basis));
    tpe_lp_opts_default(&o);
    o.max_pivots = 0;
    CHECK(tpe_lp_solve(lp, &o) == TPE_LP_PIVOT_LIMIT || tpe_lp_objective(lp) == 0.0);
    o.max_pivots = 100000;
    o.stop_below = -1e-6;
    {
        tpe_lp_status st = tpe_lp_solve(lp, &o);
        CHECKF(st == TPE_LP_STOPPED || st == TPE_LP_OPTIMAL, "status %s", tpe_lp_status_name(st));
        if (st == TPE_LP_STOPPED) CHECK(tpe_lp_objective(lp) < -1e-6);
    }
    /* errors: a singular basis, an infeasible one, bad columns */
    basis[0] = basis[1];
    CHECK_ERR(tpe_lp_set_basis(lp, basis), TPE_EINVAL, "twice");
    col[0] = (double)NAN;
    CHECK_ERR(tpe_lp_add_dense(lp, col, 0.0, NULL), TPE_EINVAL, "not finite");
    memset(col, 0, 8 * sizeof *col);
    CHECK_ERR(tpe_lp_add_dense(lp, col, 0.0, NULL), TPE_EINVAL, "zero");
    CHECK_ERR(tpe_lp_add_unit(lp, 8, 1, 0.0, NULL), TPE_EINVAL, "bad unit");
    tpe_lp_free(lp);
    {
        double rhs[2] = {1.0, -1.0};
        size_t bs[2];
        CHECK_OK(tpe_lp_new(2, rhs, &lp));
        CHECK_OK(tpe_lp_add_unit(lp, 0, 1, 0.0, &bs[0]));
        CHECK_OK(tpe_lp_add_unit(lp, 1, 1, 0.0, &bs[1]));
        CHECK_ERR(tpe_lp_set_basis(lp, bs), TPE_ENUMERIC, "not feasible");
        CHECK_OK(tpe_lp_add_unit(lp, 0, -1, 0.0, &bs[1]));
        CHECK_ERR(tpe_lp_set_basis(lp, bs), TPE_ENUMERIC, "singular");
        tpe_lp_free(lp);
    }
    free(basis);
    free(col);
    dlp_free(&p);
}
