/*
 * explain.c -- the derivation of Cho et al. (2024), step by step, measured
 * (explain.h; the prose is docs/derivation.md, which cites these steps).
 */
#include "explain.h"
#include "array.h"
#include "gemm.h"
#include "headeval.h"
#include "ols.h"
#include "stats.h"
#include "tpe.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define EPS64 1.1102230246251565e-16 /* 2^-53 */

void tpe_explain_free(tpe_explain *x)
{
    if (!x) return;
    tpe_free(x->alpha);
    tpe_free(x->mean_logp);
    tpe_free(x->gap);
    tpe_free(x->half_var);
    tpe_free(x->gap_lower);
    tpe_free(x->gap_upper);
    tpe_free(x->range);
    tpe_free(x->logit_half_var);
    tpe_free(x->fitted);
    tpe_free(x->hbar);
    tpe_free(x->slope);
    tpe_free(x->slope_gap);
    memset(x, 0, sizeof *x);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* median of n values (copied into scratch) */
static double median(const double *x, size_t n, double *scratch)
{
    if (n == 0) return (double)NAN;
    memcpy(scratch, x, n * sizeof *x);
    qsort(scratch, n, sizeof *scratch, cmp_double);
    return n % 2 ? scratch[n / 2] : 0.5 * (scratch[n / 2 - 1] + scratch[n / 2]);
}

/* Pearson's r, NaN (and no error left behind) when either side is constant */
static double corr(const double *x, const double *y, size_t n)
{
    double r;
    if (tpe_pearson(x, y, n, &r) != TPE_OK) {
        tpe_error_clear();
        return (double)NAN;
    }
    return r;
}

double tpe_explain_alg1(const double *A, size_t C, double log_r, double b, double *dE)
{
    double norm = 0.0, dot = 0.0;
    size_t c;
    for (c = 0; c < C; c++)
        if (isfinite(A[c]) && A[c] != 0.0) norm += pow(fabs(A[c]), b);
    if (!(norm > 0.0) || !isfinite(norm)) {
        for (c = 0; c < C; c++) dE[c] = 0.0;
        return (double)NAN;
    }
    for (c = 0; c < C; c++) {
        if (isfinite(A[c]) && A[c] != 0.0) {
            /* Alg. 1: Omega = |A|^b (.) S / || |A|^b (.) S ||_1 with S = 1 */
            double omega = pow(fabs(A[c]), b) / norm;
            /* Alg. 1: E'_w = E_w - log(r) Omega (/) A */
            dE[c] = -log_r * omega / A[c];
            dot += A[c] * dE[c];
        } else {
            dE[c] = 0.0;
        }
    }
    return dot + log_r; /* A . dE = -log r */
}

int tpe_explain_rank_one(const float *H32, const double *H64, size_t N, size_t C, const double *logz, const double *Ew,
                         double bw, const double *dE, tpe_explain_steer *s)
{
    double sp = 0.0, sp1 = 0.0, slp = 0.0, slp1 = 0.0, sdz = 0.0, n = (double)N, m0, m1;
    size_t i, c;
    if (N == 0) return tpe_error(TPE_EINVAL, "no positions");
    for (i = 0; i < N; i++) {
        double l = bw, d = 0.0, lp, p, dlz, lp1;
        for (c = 0; c < C; c++) {
            double h = H32 ? (double)H32[i * C + c] : H64[i * C + c];
            l += Ew[c] * h;
            d += dE[c] * h;
        }
        lp = l - logz[i];               /* Eq. 1 */
        p = exp(lp);
        dlz = log1p(p * expm1(d));      /* log Z'_n - log Z_n: only logit w moved, by d */
        lp1 = lp + d - dlz;
        sp += p;
        sp1 += exp(lp1);
        slp += lp;
        slp1 += lp1;
        sdz += dlz;
    }
    if (!(sp > 0.0) || !(sp1 > 0.0) || !isfinite(sp1) || !isfinite(slp1))
        return tpe_error(TPE_ENUMERIC, "token %ld: alpha before or after the edit is 0 or not finite", s->token);
    s->alpha = sp / n;
    s->alpha_new = sp1 / n;
    m0 = slp / n;
    m1 = slp1 / n;
    s->log_r_hat = log(s->alpha_new / s->alpha);
    s->normalizer_term = -sdz / n;
    s->gap_term = (log(s->alpha_new) - m1) - (log(s->alpha) - m0);
    return TPE_OK;
}

/* Step 5 for one token w. */
static int steer_token(const tpe_explain_input *in, const tpe_explain *x, const double *A, const double *logz, size_t w,
                       double *dE, tpe_explain_steer *s)
{
    size_t C = in->C, c;
    double st = 0.0;
    int rc;
    memset(s, 0, sizeof *s);
    s->token = (long)w;
    s->log_r = log(in->scale);
    s->identity = tpe_explain_alg1(A, C, s->log_r, in->b, dE);
    if (!isfinite(s->identity))
        return tpe_error(TPE_ENUMERIC, "Algorithm 1 with b = %g: sum_c |A_c|^b is 0 or overflows", in->b);
    rc = tpe_explain_rank_one(in->H32, in->H64, in->N, C, logz, in->E + w * C, in->bias ? in->bias[w] : 0.0, dE, s);
    if (rc) return rc;
    /* (hbar + A) . dE: zero when A = -hbar; for A = A_D it is -A_g . dE (step 3) */
    for (c = 0; c < C; c++)
        if (isfinite(A[c])) st += (x->hbar[c] + A[c]) * dE[c];
    s->slope_term = st;
    /* log r + slope term = gain log r: the gain is the Omega-weighted mean of
     * -hbar_c / A_c (Omega_c = -A_c dE_c / log r) */
    s->gain = s->log_r != 0.0 ? 1.0 + st / s->log_r : (double)NAN;
    s->residual = s->log_r_hat - (s->log_r + s->slope_term + s->normalizer_term + s->gap_term);
    return TPE_OK;
}

/* tokens ordered by alpha, ties by id */
typedef struct ranked {
    double alpha;
    size_t id;
} ranked;
static int cmp_ranked(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    if (x->alpha != y->alpha) return x->alpha < y->alpha ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* half the variance over positions of every centered logit, E_w^T Sigma_h E_w / 2:
 * Sigma_h (C, C) = (1/N) sum_n (h_n - hbar)(h_n - hbar)^T accumulated with tpe_dgemm
 * over blocks of positions, then (E Sigma_h) (V, C) row by row against E. */
static int logit_variances(const tpe_explain_input *in, const double *hbar, double *half_var)
{
    size_t N = in->N, C = in->C, V = in->V, B = 256, r0, i, c, w;
    double *S = tpe_calloc_array(C, C * sizeof *S, "hidden-state covariance");
    double *Hc = tpe_alloc_array(B, C * sizeof *Hc, "centered hidden states");
    double *ES = tpe_alloc_array(V, C * sizeof *ES, "E Sigma");
    int rc = TPE_OK;
    if (!S || !Hc || !ES) {
        rc = TPE_ENOMEM;
        goto done;
    }
    for (r0 = 0; r0 < N; r0 += B) {
        size_t nr = N - r0 < B ? N - r0 : B;
        for (i = 0; i < nr; i++)
            for (c = 0; c < C; c++)
                Hc[i * C + c] = (in->H32 ? (double)in->H32[(r0 + i) * C + c] : in->H64[(r0 + i) * C + c]) - hbar[c];
        tpe_dgemm(TPE_TRANS, TPE_NO_TRANS, C, C, nr, 1.0 / (double)N, Hc, C, Hc, C, 1.0, S, C);
    }
    tpe_dgemm(TPE_NO_TRANS, TPE_NO_TRANS, V, C, C, 1.0, in->E, C, S, C, 0.0, ES, C);
    for (w = 0; w < V; w++) {
        double q = 0.0;
        for (c = 0; c < C; c++) q += ES[w * C + c] * in->E[w * C + c];
        half_var[w] = 0.5 * (q > 0.0 ? q : 0.0);
    }
done:
    tpe_free(S);
    tpe_free(Hc);
    tpe_free(ES);
    return rc;
}

int tpe_explain_run(const tpe_explain_input *in, tpe_explain *out)
{
    size_t V = in->V, C = in->C, N = in->N, w, c, i, nfinite;
    size_t k = C + (in->bias ? 1 : 0), nrhs;
    tpe_explain x;
    tpe_logp_stats st;
    tpe_ols_result res[4], resE[2], single;
    tpe_ols_opts opts;
    double *logz = NULL, *H64w = NULL, *X = NULL, *Y = NULL, *scratch = NULL, *dE = NULL, *A = NULL;
    float *E32 = NULL, *b32 = NULL;
    ranked *order = NULL;
    const double *H64 = in->H64;
    double n = (double)N, vy, my, dot, nA;
    int rc = TPE_OK, have_res = 0, have_resE = 0, have_single = 0;

    memset(out, 0, sizeof *out);
    memset(&x, 0, sizeof x);
    memset(&st, 0, sizeof st);
    memset(res, 0, sizeof res);
    memset(resE, 0, sizeof resE);
    memset(&single, 0, sizeof single);
    if (!in->E || (!in->H32 == !in->H64)) return tpe_error(TPE_EINVAL, "explain: need E and one of H32/H64");
    if (V == 0 || C == 0 || N == 0) return tpe_error(TPE_EINVAL, "explain: empty input (V %zu, C %zu, N %zu)", V, C, N);
    if (V <= k + 1)
        return tpe_error(TPE_EINVAL, "explain: the regression over %zu tokens needs more than %zu (1 + %zu regressors)", V,
                         k + 1, k);
    if (in->token >= 0 && (size_t)in->token >= V)
        return tpe_error(TPE_EINVAL, "--token %ld is outside the vocabulary [0, %zu)", in->token, V);
    if (!(in->scale > 0.0) || !isfinite(in->scale)) return tpe_error(TPE_EINVAL, "--scale must be positive, got %g", in->scale);
    if (!isfinite(in->b)) return tpe_error(TPE_EINVAL, "--b must be finite, got %g", in->b);
    if (in->H32) rc = tpe_check_finite_f32(in->H32, N * C, C, "hidden states");
    else rc = tpe_check_finite_f64(in->H64, N * C, C, "hidden states");
    if (rc) return rc;
    if ((rc = tpe_check_finite_f64(in->E, V * C, C, "output embedding"))) return rc;
    if (in->bias && (rc = tpe_check_finite_f64(in->bias, V, 0, "head bias"))) return rc;

    x.V = V;
    x.C = C;
    x.N = N;
    x.has_bias = in->bias != NULL;
    x.f64 = in->f64 || in->H64;
    x.steer_b = in->b;
    x.along_hbar = in->along_hbar;
#define ALLOC(p, cnt, what)                                                                                          \
    do {                                                                                                             \
        if (!((p) = tpe_calloc_array((cnt), sizeof *(p), (what)))) {                                                 \
            rc = TPE_ENOMEM;                                                                                         \
            goto done;                                                                                               \
        }                                                                                                            \
    } while (0)
    ALLOC(x.alpha, V, "alpha");
    ALLOC(x.mean_logp, V, "mean log p");
    ALLOC(x.gap, V, "Jensen gaps");
    ALLOC(x.half_var, V, "variances");
    ALLOC(x.gap_lower, V, "gap bounds");
    ALLOC(x.gap_upper, V, "gap bounds");
    ALLOC(x.range, V, "ranges");
    ALLOC(x.logit_half_var, V, "logit variances");
    ALLOC(x.fitted, V, "fitted values");
    ALLOC(x.hbar, C, "mean hidden state");
    ALLOC(x.slope, C, "A_D");
    ALLOC(x.slope_gap, C, "A_g");
    ALLOC(logz, N, "log Z per position");
    ALLOC(scratch, 4 * V > C ? 4 * V : C, "scratch");
    ALLOC(dE, C, "steering step");
    ALLOC(A, C, "steering slope");
    ALLOC(order, V, "token order");

    /* the mean hidden state hbar */
    for (i = 0; i < N; i++)
        for (c = 0; c < C; c++) x.hbar[c] += in->H32 ? (double)in->H32[i * C + c] : in->H64[i * C + c];
    for (c = 0; c < C; c++) {
        x.hbar[c] /= n;
        x.hbar_norm += x.hbar[c] * x.hbar[c];
    }
    x.hbar_norm = sqrt(x.hbar_norm);

    /* ---- log p(w|x) at every position, summarized per token ---------------- */
    if ((rc = tpe_logp_stats_init(&st, V))) goto done;
    if (x.f64) {
        if (!H64) {
            ALLOC(H64w, N * C, "hidden states (double)");
            for (i = 0; i < N * C; i++) H64w[i] = (double)in->H32[i];
            H64 = H64w;
        }
        rc = tpe_head_logp_acc_f64(&st, H64, N, C, in->E, in->bias, logz);
    } else {
        ALLOC(E32, V * C, "output embedding (float)");
        for (i = 0; i < V * C; i++) E32[i] = (float)in->E[i];
        if (in->bias) {
            ALLOC(b32, V, "head bias (float)");
            for (w = 0; w < V; w++) b32[w] = (float)in->bias[w];
        }
        rc = tpe_head_logp_acc(&st, in->H32, N, C, E32, b32, logz);
    }
    if (rc) goto done;

    /* ---- step 1: Eq. 1 averaged: m_w = E_w . hbar + b_w - c ------------------ */
    x.mean_logz = st.logz_sum / n;
    {
        double mx = -HUGE_VAL, z = 0.0;
        for (w = 0; w < V; w++) {
            double lw = in->bias ? in->bias[w] : 0.0;
            for (c = 0; c < C; c++) lw += in->E[w * C + c] * x.hbar[c];
            scratch[w] = lw; /* the mean logit of w */
            if (lw > mx) mx = lw;
        }
        for (w = 0; w < V; w++) z += exp(scratch[w] - mx);
        x.logz_hbar = mx + log(z);
        x.jensen_logz = x.mean_logz - x.logz_hbar;
        for (w = 0; w < V; w++) {
            double var, e;
            tpe_logp_stats_token(&st, w, &x.mean_logp[w], &var);
            e = fabs(x.mean_logp[w] - (scratch[w] - x.mean_logz));
            if (e > x.eq1_max_err) x.eq1_max_err = e;
            x.half_var[w] = 0.5 * var;
            x.alpha[w] = st.p_sum[w] / n;
            if (!(x.alpha[w] > 0.0)) {
                rc = tpe_error(TPE_ENUMERIC, "alpha[%zu] = %g: the token's probability underflows at every position", w,
                               x.alpha[w]);
                goto done;
            }
        }
    }

    /* ---- step 2: the Jensen gap and its local approximation ----------------- */
    nfinite = 0;
    x.gap_min = HUGE_VAL;
    x.gap_max = -HUGE_VAL;
    x.concentrated_max_rel_err = (double)NAN;
    for (w = 0; w < V; w++) {
        double m = x.mean_logp[w], g = log(x.alpha[w]) - m, hv = x.half_var[w];
        double dmin = st.lp_min[w] - m, dmax = st.lp_max[w] - m, R = st.lp_max[w] - st.lp_min[w];
        /* rounding of log(mean p) - mean log p: a few units in |m| per position summed */
        double tol = (16.0 + 2.0 * n) * EPS64 * (1.0 + fabs(m));
        double hoeffding = R * R / 8.0, up;
        x.gap[w] = g;
        x.range[w] = R;
        if (dmin > 0.0) dmin = 0.0; /* the mean lies in [min, max]; rounding aside */
        if (dmax < 0.0) dmax = 0.0;
        x.gap_lower[w] = log1p(hv * exp(dmin));
        up = log1p(hv * exp(dmax));
        x.gap_upper[w] = up < hoeffding ? up : hoeffding;
        if (g < -tol) x.gap_negative++;
        if (g < x.gap_lower[w] - tol - 8.0 * EPS64 * x.gap_lower[w] || g > x.gap_upper[w] + tol + 8.0 * EPS64 * x.gap_upper[w])
            x.bounds_violated++;
        if (g < x.gap_min) x.gap_min = g;
        if (g > x.gap_max) x.gap_max = g;
        x.gap_mean += g;
        if (g > tol) scratch[V + nfinite++] = fabs(g - hv) / g;
        if (R <= 1.0) {
            double e = g > tol ? fabs(g - hv) / g : 0.0;
            x.concentrated++;
            if (!(e <= x.concentrated_max_rel_err)) x.concentrated_max_rel_err = e;
        }
    }
    x.gap_mean /= (double)V;
    for (w = 0; w < V; w++) x.gap_sd += (x.gap[w] - x.gap_mean) * (x.gap[w] - x.gap_mean);
    x.gap_sd = sqrt(x.gap_sd / (double)V);
    x.half_var_median_rel_err = median(scratch + V, nfinite, scratch + 2 * V);
    x.gap_median = median(x.gap, V, scratch);
    x.range_median = median(x.range, V, scratch);
    x.half_var_corr = corr(x.gap, x.half_var, V);
    /* the centered logit E_w.(h - hbar) and the normalizer log Z - c */
    if ((rc = logit_variances(in, x.hbar, x.logit_half_var))) goto done;
    for (w = 0; w < V; w++) scratch[V + w] = 2.0 * x.logit_half_var[w];
    x.logit_var_median = median(scratch + V, V, scratch + 2 * V);
    x.gap_logit_corr = corr(x.gap, x.logit_half_var, V);
    for (i = 0; i < N; i++) x.var_logz += (logz[i] - x.mean_logz) * (logz[i] - x.mean_logz);
    x.var_logz /= n;

    /* ---- step 3: Eq. 2 and what g does to it ------------------------------- */
    nrhs = in->alpha_given ? 4 : 3;
    ALLOC(Y, V * nrhs, "responses");
    for (w = 0; w < V; w++) {
        Y[w] = -log(x.alpha[w]);     /* -log alpha_w            */
        Y[V + w] = x.gap[w];         /* g_w                     */
        Y[2 * V + w] = -x.mean_logp[w]; /* -log alpha_w + g_w = -m_w */
    }
    if (in->alpha_given) {
        x.has_given = 1;
        for (w = 0; w < V; w++) {
            double a = in->alpha_given[w], e;
            if (!(a > 0.0) || !isfinite(a)) {
                rc = tpe_error(TPE_EINVAL, "--alpha: alpha[%zu] = %g: -log alpha needs every alpha positive and finite", w, a);
                goto done;
            }
            Y[3 * V + w] = -log(a);
            e = fabs(a / x.alpha[w] - 1.0);
            if (e > x.given_max_rel || w == 0) {
                x.given_max_rel = e;
                x.given_worst = (long)w;
            }
        }
    }
    if (in->bias) {
        ALLOC(X, V * k, "design [E, b]");
        for (w = 0; w < V; w++) {
            memcpy(X + w * k, in->E + w * C, C * sizeof *X);
            X[w * k + C] = in->bias[w];
        }
    }
    tpe_ols_opts_default(&opts);
    opts.intercept = 1;
    if ((rc = tpe_ols_fit_many(in->bias ? X : in->E, V, k, Y, nrhs, &opts, res))) goto done;
    have_res = 1;
    x.intercept = res[0].coef[0];
    x.r2 = res[0].r2;
    x.adj_r2 = res[0].adj_r2;
    x.gap_intercept = res[1].coef[0];
    x.gap_r2 = res[1].r2;
    x.r2_added = res[2].r2;
    if (in->alpha_given) {
        x.given_r2 = res[3].r2;
        x.given_adj_r2 = res[3].adj_r2;
    }
    for (c = 0; c < C; c++) {
        x.slope[c] = res[0].coef[1 + c];
        x.slope_gap[c] = res[1].coef[1 + c];
    }
    /* OLS is linear in the response: coef(y) + coef(g) = coef(-m), and
     * coef(-m) = (c, -hbar, -1) by step 1 */
    for (i = 0; i < 1 + k; i++) {
        double want = i == 0 ? x.mean_logz : i <= C ? -x.hbar[i - 1] : -1.0, e;
        if (!isfinite(res[0].coef[i])) continue; /* a collinear column */
        e = fabs(res[0].coef[i] + res[1].coef[i] - res[2].coef[i]);
        if (e > x.decomposition_err) x.decomposition_err = e;
        e = fabs(res[2].coef[i] - want);
        if (e > x.eq1_coef_err) x.eq1_coef_err = e;
    }
    dot = 0.0;
    nA = 0.0;
    for (w = 0; w < V; w++) {
        double f = x.intercept;
        for (c = 0; c < k; c++) {
            double coef = res[0].coef[1 + c], xv = c < C ? in->E[w * C + c] : in->bias[w];
            if (isfinite(coef)) f += coef * xv;
        }
        x.fitted[w] = f;
    }
    for (c = 0; c < C; c++)
        if (isfinite(x.slope[c])) {
            dot += x.slope[c] * x.hbar[c];
            nA += x.slope[c] * x.slope[c];
        }
    x.slope_norm = sqrt(nA);
    x.cos_slope_hbar = x.slope_norm > 0.0 && x.hbar_norm > 0.0 ? -dot / (x.slope_norm * x.hbar_norm) : (double)NAN;
    my = vy = 0.0;
    for (w = 0; w < V; w++) my += Y[w];
    my /= (double)V;
    for (w = 0; w < V; w++) vy += (Y[w] - my) * (Y[w] - my);
    x.y_sd = sqrt(vy / (double)V);
    x.gap_fitted_corr = corr(x.gap, x.fitted, V);
    x.unexplained = 1.0 - x.r2;
    x.unexplained_from_gap = res[0].tss > 0.0 ? res[1].rss / res[0].tss : (double)NAN;
    /* the theory's direction alone: -log alpha on -(E . hbar + b), the mean logit */
    for (w = 0; w < V; w++) {
        double lw = in->bias ? in->bias[w] : 0.0;
        for (c = 0; c < C; c++) lw += in->E[w * C + c] * x.hbar[c];
        scratch[w] = -lw;
    }
    if ((rc = tpe_ols_fit(scratch, V, 1, Y, 1, TPE_OLS_F64, &single))) goto done;
    have_single = 1;
    x.single_slope = single.coef[1];
    x.single_intercept = single.coef[0];
    x.single_r2 = single.r2;

    /* ---- step 4: the bias's slope ----------------------------------------- */
    if (in->bias) {
        x.bias_slope = res[0].coef[1 + C];
        x.bias_slope_se = res[0].se[1 + C];
        x.gap_bias_slope = res[1].coef[1 + C];
        x.bias_identity_err = fabs(res[0].coef[1 + C] + res[1].coef[1 + C] - res[2].coef[1 + C]);
        /* Frisch-Waugh-Lovell: g's slope on b is r(g_perp, b_perp) sd(g_perp) / sd(b_perp)
         * with both residualized on [1, E], so |slope| <= sqrt(RSS(g|E) / RSS(b|E)) */
        for (w = 0; w < V; w++) {
            Y[w] = in->bias[w];
            Y[V + w] = x.gap[w];
        }
        if ((rc = tpe_ols_fit_many(in->E, V, C, Y, 2, &opts, resE))) goto done;
        have_resE = 1;
        x.bias_slope_bound = resE[0].rss > 0.0 ? sqrt(resE[1].rss / resE[0].rss) : HUGE_VAL;
    }

    /* ---- step 5: Algorithm 1 on one token and on the alpha quantiles -------- */
    for (w = 0; w < V; w++) {
        order[w].alpha = x.alpha[w];
        order[w].id = w;
    }
    qsort(order, V, sizeof *order, cmp_ranked);
    for (c = 0; c < C; c++) A[c] = in->along_hbar ? -x.hbar[c] : x.slope[c];
    if ((rc = steer_token(in, &x, A, logz, in->token >= 0 ? (size_t)in->token : order[V / 2].id, dE, &x.steer))) goto done;
    for (i = 0; i < TPE_EXPLAIN_QUANTILES; i++) {
        size_t r = (size_t)floor((double)i * (double)(V - 1) / (double)(TPE_EXPLAIN_QUANTILES - 1) + 0.5);
        tpe_explain_steer *s = &x.quantile[i];
        if ((rc = steer_token(in, &x, A, logz, order[r].id, dE, s))) goto done;
        x.q_mean_abs_err += fabs(s->log_r_hat - s->log_r);
        x.q_mean_abs_slope += fabs(s->slope_term);
        x.q_mean_abs_normalizer += fabs(s->normalizer_term);
        x.q_mean_abs_gap += fabs(s->gap_term);
    }
    x.q_mean_abs_err /= TPE_EXPLAIN_QUANTILES;
    x.q_mean_abs_slope /= TPE_EXPLAIN_QUANTILES;
    x.q_mean_abs_normalizer /= TPE_EXPLAIN_QUANTILES;
    x.q_mean_abs_gap /= TPE_EXPLAIN_QUANTILES;
#undef ALLOC

done:
    if (have_res)
        for (i = 0; i < nrhs; i++) tpe_ols_free(&res[i]);
    if (have_resE) {
        tpe_ols_free(&resE[0]);
        tpe_ols_free(&resE[1]);
    }
    if (have_single) tpe_ols_free(&single);
    tpe_logp_stats_free(&st);
    tpe_free(logz);
    tpe_free(H64w);
    tpe_free(X);
    tpe_free(Y);
    tpe_free(scratch);
    tpe_free(dE);
    tpe_free(A);
    tpe_free(E32);
    tpe_free(b32);
    tpe_free(order);
    if (rc) {
        tpe_explain_free(&x);
        return rc;
    }
    *out = x;
    return TPE_OK;
}
