/*
 * unargmax_check.c -- the checks every unargmax verdict must pass, kept
 * apart from the code that finds the verdicts (unargmax.c, lp.c): they
 * recompute from W and b alone and bound every rounding error.
 *
 * Rounding model (Higham, Accuracy and Stability of Numerical Algorithms,
 * 2nd ed., 2002, sec. 2.2 and 3.1): with u = 2^-53 and gamma_n =
 * n u / (1 - n u), a dot product of length n computed in double in any
 * order, with or without FMA, satisfies
 *     |fl(w . x) - w . x| <= gamma_n |w| . |x| <= gamma_n ||w||_2 ||x||_2
 * (the last step is Cauchy-Schwarz), plus n times the underflow unit
 * 2^-1074 when products are subnormal. A sum or difference of two numbers
 * adds u times its magnitude; a square root of a sum of n squares is off by
 * at most (n/2 + 1) u relatively. The error terms are themselves computed
 * in double; they are inflated by (1 + 1e-10), far more than the few
 * roundings each takes.
 */
#include "unargmax.h"

#include "tpe.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define U64 1.1102230246251565e-16 /* 2^-53 */
#define TINY64 4.9406564584124654e-324
#define SAFE (1.0 + 1e-10)

static double gamma64(double n) { return n * U64 / (1.0 - n * U64); }

double tpe_head_w(const tpe_head *h, size_t j, size_t k)
{
    return h->w ? h->w[j * h->dim + k] : (double)h->w32[j * h->dim + k];
}

int tpe_head_validate(const tpe_head *h)
{
    size_t j, k, n;
    if (h->vocab == 0 || h->dim == 0) return tpe_error(TPE_EINVAL, "W is %zu x %zu: it needs at least one row and one column", h->vocab, h->dim);
    if (!h->w == !h->w32) return tpe_error(TPE_EINVAL, "W: exactly one of the double and float arrays must be given");
    if (tpe_size_mul(h->vocab, h->dim, &n)) return tpe_error(TPE_ENOMEM, "W is %zu x %zu: too large", h->vocab, h->dim);
    if ((double)h->dim * U64 >= 0.01) return tpe_error(TPE_EINVAL, "W has %zu columns: too many", h->dim);
    for (j = 0; j < h->vocab; j++)
        for (k = 0; k < h->dim; k++) {
            double v = tpe_head_w(h, j, k);
            if (!isfinite(v)) return tpe_error(TPE_EINVAL, "W[%zu, %zu] is %s (row %zu, column %zu)", j, k, isnan(v) ? "NaN" : "infinite", j, k);
        }
    if (h->bias)
        for (j = 0; j < h->vocab; j++)
            if (!isfinite(h->bias[j])) return tpe_error(TPE_EINVAL, "b[%zu] is %s", j, isnan(h->bias[j]) ? "NaN" : "infinite");
    return TPE_OK;
}

/* W_j . x in double, plain loop */
static double row_dot(const tpe_head *h, size_t j, const double *x)
{
    size_t k;
    double s = 0.0;
    if (h->w) {
        const double *w = h->w + j * h->dim;
        for (k = 0; k < h->dim; k++) s += w[k] * x[k];
    } else {
        const float *w = h->w32 + j * h->dim;
        for (k = 0; k < h->dim; k++) s += (double)w[k] * x[k];
    }
    return s;
}

/* computed ||W_i - W_j||_2, and whether the rows are identical */
static double diff_norm(const tpe_head *h, size_t i, size_t j, int *identical)
{
    size_t k;
    double s = 0.0, mx = 0.0;
    /* scaled by the largest |difference| so nothing overflows or underflows */
    for (k = 0; k < h->dim; k++) mx = fmax(mx, fabs(tpe_head_w(h, i, k) - tpe_head_w(h, j, k)));
    *identical = mx == 0.0; /* fl(a - b) == 0 exactly when a == b */
    if (mx == 0.0) return 0.0;
    for (k = 0; k < h->dim; k++) {
        double t = (tpe_head_w(h, i, k) - tpe_head_w(h, j, k)) / mx;
        s += t * t;
    }
    return mx * sqrt(s);
}

int tpe_unargmax_check_witness_logits(const tpe_head *h, const tpe_logit_bound *lb, size_t i, const double *x,
                                      double scale, double box, double eps, double *witness, tpe_witness_check *out)
{
    const size_t V = h->vocab, d = h->dim;
    const double g = gamma64((double)d), bi = h->bias ? h->bias[i] : 0.0;
    const double *row_norm = lb->row_norm;
    double *xs = witness, xn = 0.0, xn_up, ti, err_i, A, best = HUGE_VAL, top = -HUGE_VAL, babs = 0.0;
    size_t j, k, topj = V;
    int own = 0;
    out->ok = 0;
    out->worst = V;
    out->margin = (double)NAN;
    out->dist = (double)NAN;
    out->why = NULL;
    if (!xs) {
        xs = malloc(d * sizeof *xs);
        own = 1;
        if (!xs) {
            out->why = "out of memory";
            return 0;
        }
    }
    {
        int e;
        if (!(scale > 0.0) || frexp(scale, &e) != 0.5) {
            out->why = "scale is not a power of two";
            goto done;
        }
    }
    for (k = 0; k < d; k++) {
        xs[k] = scale * x[k]; /* exact: scale is a power of two */
        if (!isfinite(xs[k])) {
            out->why = "the point is not finite";
            goto done;
        }
        if (fabs(xs[k]) > box) {
            out->why = "the point is outside the box";
            goto done;
        }
    }
    for (k = 0; k < d; k++) xn += xs[k] * xs[k];
    xn_up = sqrt(xn) * (1.0 + ((double)d + 4.0) * U64) + 1e-300;
    ti = row_dot(h, i, xs);
    err_i = g * row_norm[i] * xn_up + (double)(d + 1) * TINY64;
    A = ti + bi;
    if (!isfinite(A)) {
        out->why = "the logit is not finite";
        goto done;
    }
    if (V == 1) {
        out->ok = 1;
        out->dist = HUGE_VAL;
        goto done;
    }
    /* stage 1: with B_j = scale l_j + b_j (each within its bound of the
     * exact logit), every j has margin m_j = A - B_j >= A - max_j B_j and
     * error E_j <= E_max (row_norm_max for ||W_j||, max |B_j| for |B_j|);
     * so A - max B_j >= E_max + eps (||W_i|| + row_norm_max) settles all. */
    if (!lb->lf && !lb->ld) {
        /* the caller reduced the logits already */
        top = lb->top;
        topj = lb->topj;
        if (!(fabs(lb->top) <= DBL_MAX) || !(fabs(lb->lo) <= DBL_MAX)) {
            out->why = "a logit is not finite";
            goto done;
        }
        babs = fabs(lb->top) > fabs(lb->lo) ? fabs(lb->top) : fabs(lb->lo);
    } else {
        /* a tight loop (this runs once per token over the whole vocabulary) */
        const float *lf = lb->lf;
        const double *ld = lb->ld, *bb = h->bias;
        double lo = HUGE_VAL;
        int nan = 0;
        for (j = 0; j < V; j++) {
            double bj = scale * (lf ? (double)lf[j] : ld[j]);
            if (bb) bj += bb[j];
            nan |= bj != bj;
            if (j == i) continue;
            if (bj > top) {
                top = bj;
                topj = j;
            }
            if (bj < lo) lo = bj;
        }
        /* NaN never compares greater, so check the extremes for finiteness */
        if (nan || !(fabs(top) <= DBL_MAX) || !(fabs(lo) <= DBL_MAX)) {
            out->why = "a logit is not finite";
            goto done;
        }
        babs = fabs(top) > fabs(lo) ? fabs(top) : fabs(lo);
    }
    {
        double m = A - top;
        double Emax = (err_i + lb->coef * lb->row_norm_max * xn_up + scale * lb->abs_err + (double)(d + 2) * TINY64 +
                       2.0 * U64 * (fabs(A) + babs + fabs(A) + babs)) * SAFE;
        double need = eps * (row_norm[i] + lb->row_norm_max) * SAFE;
        if (m - Emax >= need && m - Emax > 0.0) {
            out->ok = 1;
            out->worst = topj;
            out->margin = m;
            out->dist = (m - Emax) / (row_norm[i] + lb->row_norm_max);
            goto done;
        }
        if (!lb->lf && !lb->ld) {
            out->worst = topj;
            out->margin = m;
            out->why = "stage 1 inconclusive (no logits for stages 2 and 3)";
            goto done;
        }
    }
    /* stages 2 and 3, one competitor at a time */
    for (j = 0; j < V; j++) {
        double lj, Bj, m, E, need, dist;
        if (j == i) continue;
        lj = scale * (lb->lf ? (double)lb->lf[j] : lb->ld[j]);
        Bj = lj + (h->bias ? h->bias[j] : 0.0);
        m = A - Bj;
        E = (err_i + lb->coef * row_norm[j] * xn_up + scale * lb->abs_err + (double)(d + 2) * TINY64 +
             2.0 * U64 * (fabs(A) + fabs(Bj) + fabs(m))) * SAFE;
        need = eps * (row_norm[i] + row_norm[j]) * SAFE; /* ||W_i - W_j|| <= ||W_i|| + ||W_j|| */
        if (m - E >= need && m - E > 0.0) {
            if (m - E >= best * (row_norm[i] + row_norm[j])) continue; /* not the closest: skip the division */
            dist = (m - E) / (row_norm[i] + row_norm[j]);
        } else {
            /* the bound cannot separate it: recompute in double, exact norm */
            int same;
            double nd = diff_norm(h, i, j, &same), tj = row_dot(h, j, xs), Bd;
            if (same) {
                /* identical rows: the margin is b_i - b_j exactly, and fl(b_i - b_j) > 0 iff b_i > b_j */
                if (!(bi > (h->bias ? h->bias[j] : 0.0))) {
                    out->worst = j;
                    out->margin = bi - (h->bias ? h->bias[j] : 0.0);
                    out->dist = 0.0;
                    out->why = "an identical row ties it (or has a larger bias)";
                    goto done;
                }
                continue;
            }
            Bd = tj + (h->bias ? h->bias[j] : 0.0);
            m = A - Bd;
            E = (err_i + g * row_norm[j] * xn_up + (double)(d + 1) * TINY64 + 2.0 * U64 * (fabs(A) + fabs(Bd) + fabs(m))) * SAFE;
            need = eps * nd * (1.0 + ((double)d + 6.0) * U64) * SAFE;
            if (!(m - E >= need && m - E > 0.0)) {
                out->worst = j;
                out->margin = m;
                out->dist = m / nd;
                out->why = m < 0.0 ? "another token has a larger logit there"
                                   : "the margin does not exceed eps ||W_i - W_j|| plus the rounding bound (a tie)";
                goto done;
            }
            dist = (m - E) / (nd * (1.0 + ((double)d + 6.0) * U64));
        }
        if (dist < best) {
            best = dist;
            out->worst = j;
            out->margin = m;
        }
    }
    out->ok = 1;
    out->dist = best;
done:
    if (own) free(xs);
    return out->ok;
}

int tpe_unargmax_check_witness(const tpe_head *h, size_t i, const double *x, double box, double eps,
                               tpe_witness_check *out)
{
    const size_t V = h->vocab, d = h->dim;
    double *rn = malloc(V * sizeof *rn), *ld = malloc(V * sizeof *ld), *xs = malloc(d * sizeof *xs);
    size_t j, k;
    int ok = 0;
    out->ok = 0;
    out->why = "out of memory";
    out->worst = V;
    if (rn && ld && xs && i < V) {
        for (j = 0; j < V; j++) {
            double s = 0.0, mx = 0.0;
            for (k = 0; k < d; k++) mx = fmax(mx, fabs(tpe_head_w(h, j, k)));
            if (mx > 0.0)
                for (k = 0; k < d; k++) {
                    double t = tpe_head_w(h, j, k) / mx;
                    s += t * t;
                }
            rn[j] = mx * sqrt(s) * (1.0 + ((double)d + 6.0) * U64);
            ld[j] = row_dot(h, j, x);
        }
        /* the logits were computed here in double: coef = gamma_d */
        tpe_logit_bound lb;
        lb.lf = NULL;
        lb.ld = ld;
        lb.coef = gamma64((double)d);
        lb.abs_err = (double)(d + 1) * TINY64;
        lb.row_norm = rn;
        lb.row_norm_max = 0.0;
        lb.top = lb.lo = 0.0;
        lb.topj = V;
        for (j = 0; j < V; j++) lb.row_norm_max = fmax(lb.row_norm_max, rn[j]);
        ok = tpe_unargmax_check_witness_logits(h, &lb, i, x, 1.0, box, eps, xs, out);
    } else if (i >= V) {
        out->why = "no such token";
    }
    free(rn);
    free(ld);
    free(xs);
    return ok;
}

int tpe_unargmax_check_certificate(const tpe_head *h, size_t i, const size_t *rows, const double *y, size_t n,
                                   double box, double eps, double *bound)
{
    const size_t V = h->vocab, d = h->dim;
    double *s = calloc(d, sizeof *s), *sa = calloc(d, sizeof *sa);
    double cb = 0.0, cabs = 0.0, den = 0.0, l1 = 0.0, l1abs = 0.0, num, num_up, den_lo, g;
    size_t t, k;
    int ok = 0;
    if (bound) *bound = (double)NAN;
    if (!s || !sa || n == 0 || i >= V) goto done;
    for (t = 0; t < n; t++) {
        size_t j = rows[t];
        int same;
        double nd, c;
        if (j >= V || j == i || !(y[t] >= 0.0) || !isfinite(y[t])) goto done;
        nd = diff_norm(h, i, j, &same);
        if (same) goto done; /* identical rows are not Farkas constraints */
        c = h->bias ? h->bias[i] - h->bias[j] : 0.0;
        cb += y[t] * c;
        cabs += y[t] * fabs(c);
        den += y[t] * nd;
        for (k = 0; k < d; k++) {
            double a = tpe_head_w(h, j, k) - tpe_head_w(h, i, k);
            s[k] += y[t] * a;
            sa[k] += y[t] * fabs(a);
        }
    }
    for (k = 0; k < d; k++) {
        l1 += fabs(s[k]);
        l1abs += sa[k];
    }
    /* every sum above has at most n + 2 roundings per term (difference,
     * product, additions) and the sums over k add d more */
    g = gamma64((double)(n + d + 4));
    num = cb + box * l1;
    num_up = num + 2.0 * g * (cabs + box * l1abs) * SAFE + 4.0 * U64 * fabs(num);
    den_lo = den * (1.0 - 2.0 * gamma64((double)(n + d + 8)));
    if (!(den_lo > 0.0) || !isfinite(num_up)) goto done;
    if (bound) *bound = num / den;
    ok = num_up < eps * den_lo * (1.0 - 4.0 * U64);
done:
    free(s);
    free(sa);
    return ok;
}
