/*
 * test_steer.c -- Algorithm 1 (steer.h), the KL of steering (kl.h), the
 * hidden-state cache (hiddencache.h), the cached evaluation of edits
 * (steereval.h) against re-running the model, a model in which Eq. 2 holds
 * exactly, writing edited models, and the encoding against statsmodels
 * (golden/encoding, tools/gen_encoding_goldens.py).
 */
#include "encoding.h"
#include "golden.h"
#include "hiddencache.h"
#include "kl.h"
#include "model.h"
#include "platform.h"
#include "steer.h"
#include "steereval.h"
#include "test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- Algorithm 1 -------------------------------------------------------------------- */

/* A . (E'_w - E_w) = -log r to 1e-12 in double; Omega >= 0, sums to 1, zero
 * on unusable dimensions (slope 0 or NaN, significance 0); the limits. */
TEST(steer_identity_and_omega)
{
    enum { C = 40 };
    const double bs[] = {-HUGE_VAL, -3.0, 0.0, 0.5, 1.0, 2.0, 7.0, 400.0, -400.0, HUGE_VAL};
    const double rs[] = {1.1, 20.0, 0.05, 1e-3, 1.0 + 1e-9, 1e6};
    double A[C], S[C], omega[C], delta[C], worst_id = 0.0, worst_sum = 0.0;
    size_t i, j, c, usable;
    for (c = 0; c < C; c++) {
        A[c] = tpe_rng_normal(tt_rng()) * pow(10.0, 2.0 * tpe_rng_uniform(tt_rng()) - 1.0);
        S[c] = tpe_rng_uniform(tt_rng()) + 1e-3;
    }
    A[3] = 0.0;          /* no slope                       */
    A[7] = (double)NAN;  /* a collinear column             */
    S[11] = 0.0;         /* p = 1 under one-minus-p         */
    for (i = 0; i < sizeof bs / sizeof bs[0]; i++) {
        double total = 0.0, big = 0.0;
        CHECK_OK(tpe_steer_omega(A, S, C, bs[i], omega, &usable));
        CHECK(usable == C - 3);
        for (c = 0; c < C; c++) {
            CHECKF(omega[c] >= 0.0, "b = %g: Omega[%zu] = %g", bs[i], c, omega[c]);
            total += omega[c];
            if (c != 3 && c != 7 && c != 11 && fabs(A[c]) > big) big = fabs(A[c]);
        }
        CHECK(omega[3] == 0.0 && omega[7] == 0.0 && omega[11] == 0.0);
        if (fabs(total - 1.0) > worst_sum) worst_sum = fabs(total - 1.0);
        CHECKF(fabs(total - 1.0) <= (double)C * TT_EPS64, "b = %g: Omega sums to 1 + %.3g", bs[i], total - 1.0);
        if (bs[i] == HUGE_VAL)
            for (c = 0; c < C; c++) CHECK(omega[c] == (fabs(A[c]) == big && c != 11 ? 1.0 : 0.0));
        if (bs[i] == -HUGE_VAL)
            for (c = 0; c < C; c++) CHECK(omega[c] == (c == 3 || c == 7 || c == 11 ? 0.0 : 1.0 / (double)(C - 3)));
        for (j = 0; j < sizeof rs / sizeof rs[0]; j++) {
            double dot = 0.0, lr = log(rs[j]), e;
            CHECK_OK(tpe_steer_delta(A, S, C, bs[i], rs[j], delta));
            CHECK(delta[3] == 0.0 && delta[7] == 0.0 && delta[11] == 0.0);
            for (c = 0; c < C; c++)
                if (delta[c] != 0.0) dot += A[c] * delta[c];
            /* each term is -log(r) Omega_c (1 + 2 u): the sum is off by ~C u |log r| */
            e = fabs(dot + lr) / fabs(lr);
            if (e > worst_id) worst_id = e;
            CHECKF(fabs(dot + lr) <= 1e-12 * fabs(lr), "b = %g, r = %g: A . delta = %.17g, -log r = %.17g", bs[i], rs[j], dot, -lr);
        }
    }
    /* the b = 2 weights by hand: |A|^2 S normalized. tpe forms them as
     * exp(lw_c - top), lw_c = 2 log|A_c| + log S_c: the exponent carries an
     * absolute error of about (|lw_c| + |top|) u, the sum C u */
    {
        double tot = 0.0, top = -HUGE_VAL, worst = 0.0;
        CHECK_OK(tpe_steer_omega(A, S, C, 2.0, omega, NULL));
        for (c = 0; c < C; c++)
            if (c != 3 && c != 7 && c != 11) {
                tot += A[c] * A[c] * S[c];
                if (2.0 * log(fabs(A[c])) + log(S[c]) > top) top = 2.0 * log(fabs(A[c])) + log(S[c]);
            }
        for (c = 0; c < C; c++)
            if (c != 3 && c != 7 && c != 11) {
                double want = A[c] * A[c] * S[c] / tot, lw = 2.0 * log(fabs(A[c])) + log(S[c]);
                double tol = (4.0 * (1.0 + fabs(lw) + fabs(top)) + 2.0 * (double)C) * TT_EPS64;
                if (fabs(omega[c] / want - 1.0) > worst) worst = fabs(omega[c] / want - 1.0);
                CHECKF(fabs(omega[c] - want) <= tol * want, "Omega[%zu] = %.17g, |A|^2 S / sum = %.17g", c, omega[c], want);
            }
        NOTE("Omega at b = 2 against |A|^2 S / sum: %.2e relative", worst);
    }
    CHECK_ERR(tpe_steer_omega(A, S, C, (double)NAN, omega, NULL), TPE_EINVAL, "NaN");
    CHECK_ERR(tpe_steer_delta(A, S, C, 2.0, 0.0, delta), TPE_EINVAL, "positive");
    CHECK_ERR(tpe_steer_delta(A, S, C, 2.0, HUGE_VAL, delta), TPE_EINVAL, "positive");
    for (c = 0; c < C; c++) S[c] = 0.0;
    CHECK_ERR(tpe_steer_omega(A, S, C, 2.0, omega, NULL), TPE_EINVAL, "none of the 40 dimensions");
    NOTE("worst |A . delta + log r| / |log r| = %.2e; worst |sum Omega - 1| = %.2e", worst_id, worst_sum);
}

TEST(steer_significance_options)
{
    tpe_significance s;
    CHECK(tpe_significance_parse("neg-log-p", &s) == 0 && s == TPE_SIG_NEG_LOG_P);
    CHECK(tpe_significance_parse("one-minus-p", &s) == 0 && s == TPE_SIG_ONE_MINUS_P);
    CHECK(tpe_significance_parse("p", &s) == 0 && s == TPE_SIG_P);
    CHECK(tpe_significance_parse("none", &s) == 0 && s == TPE_SIG_NONE);
    CHECK(tpe_significance_parse("pvalue", &s) == -1);
    CHECK(strcmp(tpe_significance_name(TPE_SIG_NEG_LOG_P), "neg-log-p") == 0);
}

/* ---- KL -------------------------------------------------------------------------------- */

/* d_KL^r against the plain formula on renormalized vectors, and its
 * accuracy for nearly equal distributions, where the plain formula loses
 * digits: q = p (1 - eps x) gives KL = eps^2 Var_p~(x) / 2 + O(eps^3). */
TEST(kl_without_token)
{
    enum { V = 300 };
    double p[V], q[V], d[V], pr[V], qr[V], P = 0.0, Q = 0.0, direct = 0.0, eps = 1e-6, mx = 0.0, vx = 0.0, x[V];
    size_t v, skip = 17;
    for (v = 0; v < V; v++) {
        p[v] = exp(3.0 * tpe_rng_normal(tt_rng()));
        q[v] = exp(3.0 * tpe_rng_normal(tt_rng()));
    }
    for (v = 0; v < V; v++)
        if (v != skip) P += p[v], Q += q[v];
    for (v = 0; v < V; v++)
        if (v != skip) {
            pr[v] = p[v] / P;
            qr[v] = q[v] / Q;
            direct += pr[v] * log(pr[v] / qr[v]);
            d[v] = p[v] - q[v];
        }
    CHECKF(fabs(tpe_kl_without(p, q, V, skip) - direct) <= 1e-12 * direct, "%.17g vs %.17g", tpe_kl_without(p, q, V, skip), direct);
    CHECKF(fabs(tpe_kl_without_change(p, d, V, skip) - direct) <= 1e-12 * direct, "from the change");
    pr[skip] = qr[skip] = 0.0;
    CHECK(fabs(tpe_kl(pr, qr, V) - direct) <= 1e-12 * direct);
    CHECK(tpe_kl_without(p, p, V, skip) == 0.0);
    /* nearly equal: d = eps p x */
    for (v = 0; v < V; v++) {
        x[v] = tpe_rng_normal(tt_rng());
        d[v] = eps * p[v] * x[v];
    }
    for (v = 0; v < V; v++)
        if (v != skip) mx += p[v] / P * x[v];
    for (v = 0; v < V; v++)
        if (v != skip) vx += p[v] / P * (x[v] - mx) * (x[v] - mx);
    {
        double kl = tpe_kl_without_change(p, d, V, skip), want = eps * eps * vx / 2.0;
        /* O(eps^3) terms: relative eps * max|x| */
        CHECKF(fabs(kl - want) <= 10.0 * eps * want + 1e-12 * want, "small change: KL %.17g, expected %.17g", kl, want);
        NOTE("KL of a 1e-6 change: %.6e (second-order formula %.6e)", kl, want);
    }
    q[3] = 0.0;
    CHECK(tpe_kl_without(p, q, V, skip) == HUGE_VAL);
}

/* ---- models for the evaluator ---------------------------------------------------------- */

static tpe_model *small_model(const char *name, tpe_arch arch, int tied, size_t V, double scale)
{
    char dir[600];
    tpe_random_spec r;
    tpe_model *m = NULL;
    snprintf(dir, sizeof dir, "%s/%s", tt_tmpdir(), name);
    tpe_random_spec_default(&r, arch);
    r.n_vocab = V;
    r.n_ctx = 24;
    r.d_model = 16;
    r.n_layer = 2;
    r.n_head = 2;
    r.d_ff = 32;
    r.rotary_dim = 4;
    r.scale = scale;
    r.tied = tied;
    r.seed = 11;
    if (!tpe_is_dir(dir)) CHECK_OK(tpe_random_model_write(&r, dir));
    CHECK_OK(tpe_model_load(dir, NULL, &m));
    return m;
}

/* samples: n samples of random lengths in [1, maxlen], ids uniform below V
 * but token `rare` never appears; start has n + 1 entries */
static int32_t *random_samples(size_t n, size_t maxlen, size_t V, int32_t rare, size_t *start)
{
    size_t i, k, total = 0;
    int32_t *ids;
    start[0] = 0;
    for (i = 0; i < n; i++) start[i + 1] = start[i] + 1 + (size_t)tpe_rng_below(tt_rng(), maxlen);
    total = start[n];
    ids = malloc(total * sizeof *ids);
    for (k = 0; k < total; k++) {
        do ids[k] = (int32_t)tpe_rng_below(tt_rng(), V);
        while (ids[k] == rare);
    }
    return ids;
}

/* a set prepared for evaluation */
static void make_set(tpe_steer_evaluator *ev, const tpe_model *m, const int32_t *ids, const size_t *start, size_t n, size_t window,
                     const char *name, tpe_steer_set *set)
{
    memset(set, 0, sizeof *set);
    set->name = name;
    CHECK_OK(tpe_hidden_cache_build(m, ids, start, n, window, NULL, &set->hc));
    CHECK_OK(tpe_steer_set_prepare(ev, set, NULL, 0, NULL));
}

/* The averaged distribution straight from the double reference pass. */
static void direct_alpha(const tpe_model *m, const int32_t *ids, const size_t *start, size_t n, size_t window, double *alpha)
{
    size_t V = m->cfg.n_vocab, s, at, t, v, N = 0;
    memset(alpha, 0, V * sizeof *alpha);
    for (s = 0; s < n; s++)
        for (at = start[s]; at < start[s + 1]; at += window) {
            size_t T = start[s + 1] - at < window ? start[s + 1] - at : window;
            double *l = malloc(T * V * sizeof *l);
            CHECK_OK(tpe_forward_ref(m, ids + at, T, NULL, l, NULL));
            for (t = 0; t < T; t++) {
                double mx = -HUGE_VAL, z = 0.0;
                for (v = 0; v < V; v++) mx = l[t * V + v] > mx ? l[t * V + v] : mx;
                for (v = 0; v < V; v++) z += exp(l[t * V + v] - mx);
                for (v = 0; v < V; v++) alpha[v] += exp(l[t * V + v] - mx) / z;
            }
            N += T;
            free(l);
        }
    for (v = 0; v < V; v++) alpha[v] /= (double)N;
}

/*
 * A model in which the log-linear law holds exactly: the final norm's gain
 * is 0 and its shift h0, so every final hidden state is h0 and
 * alpha = softmax(E h0 + b) whatever the input. Then Eq. 2 is exact with
 * A = -h0 (R^2 = 1), Algorithm 1 changes the logit of w by exactly log r
 * at every position, and r_hat = r / (1 + alpha_w (r - 1)): the change of
 * the normalizer is all that remains, so r_hat = r to 1e-6 for a token
 * whose alpha_w (r - 1) is below 1e-7. For the tied model the shared
 * matrix moves the input embedding too, which changes nothing here; the
 * evaluator still re-runs the windows holding the token (exercised).
 */
TEST(steer_exact_law_model)
{
    static const tpe_arch archs[2] = {TPE_ARCH_NEOX, TPE_ARCH_GPT2};
    static const char *const names[2] = {"steer-law-neox", "steer-law-gpt2"};
    const double scales[] = {1.1, 2.0, 20.0, 0.5, 0.05};
    size_t a, V = 61;
    double worst_exact = 0.0, worst_formula = 0.0, worst_fit = 0.0;
    for (a = 0; a < 2; a++) {
        tpe_model *m = small_model(names[a], archs[a], a == 1, V, 0.5);
        size_t C, c, v, i, j, n = 12, start[13], window = 24, rare = 0;
        double *h0, *zero, *E, *alpha_direct, *u, *S, logits_min = HUGE_VAL;
        int32_t *ids;
        tpe_steer_evaluator *ev = NULL;
        tpe_steer_set set;
        tpe_encoding enc;
        tpe_steer_edit edits[2 * 5];
        double r_hat[10], alpha_w[10];
        const double *dirs[1];
        int modes, k;
        if (!m) continue;
        C = m->cfg.d_model;
        h0 = malloc(C * sizeof *h0);
        zero = calloc(C, sizeof *zero);
        E = malloc(V * C * sizeof *E);
        alpha_direct = malloc(V * sizeof *alpha_direct);
        u = malloc(C * sizeof *u);
        S = malloc(C * sizeof *S);
        for (c = 0; c < C; c++) h0[c] = 5.0 * tpe_rng_normal(tt_rng());
        CHECK_OK(tpe_model_replace_weight(m, &m->lnf_w, zero, TPE_F32));
        CHECK_OK(tpe_model_replace_weight(m, &m->lnf_b, h0, TPE_F32));
        for (c = 0; c < C; c++) h0[c] = (double)(float)h0[c];
        CHECK_OK(tpe_weight_to_f64(tpe_model_output_embedding(m), E));
        /* the least probable token: its alpha is tiny */
        for (v = 0; v < V; v++) {
            double l = 0.0;
            for (c = 0; c < C; c++) l += E[v * C + c] * h0[c];
            if (l < logits_min) logits_min = l, rare = v;
        }
        ids = random_samples(n, 30, V, (int32_t)rare, start);
        direct_alpha(m, ids, start, n, window, alpha_direct);
        CHECK_OK(tpe_steer_evaluator_new(m, &ev));
        make_set(ev, m, ids, start, n, window, "law", &set);
        /* Eq. 2 holds exactly: A = -h0 */
        if (tpe_encoding_fit(E, V, C, set.alpha, NULL, TPE_OLS_F64, &enc) != TPE_OK) {
            CHECKF(0, "%s: %s", names[a], tpe_errmsg());
            break;
        }
        for (c = 0; c < C; c++) {
            double e = fabs(enc.slope[c] + h0[c]) / (1.0 + fabs(h0[c]));
            if (e > worst_fit) worst_fit = e;
        }
        /* alpha from float logits of size ~ |E||h0| ~ 50: ~1e-5 relative, which the
         * fit passes to A in proportion to 1 / (sd(E) sqrt(V)) */
        CHECKF(worst_fit <= 1e-5, "%s: fitted slope differs from -h0 by %.3g", names[a], worst_fit);
        CHECK(enc.r2 > 1.0 - 1e-10);
        for (v = 0; v < V; v++)
            CHECKF(fabs(set.alpha[v] - alpha_direct[v]) <= 1e-5 * alpha_direct[v] + 1e-12, "%s: alpha[%zu]", names[a], v);
        tpe_steer_significance(&enc, TPE_SIG_NEG_LOG_P, S);
        CHECK_OK(tpe_steer_direction(enc.slope, S, C, 2.0, u));
        dirs[0] = u;
        /* the rare token (which does not occur as an input) and the most
         * probable one; both kinds of edit for the tied model */
        for (modes = 0; modes < (a == 1 ? 2 : 1); modes++) {
            int32_t toks[2];
            toks[0] = (int32_t)rare;
            toks[1] = ids[0]; /* occurs as an input: its windows are re-run when tied */
            for (j = 0; j < 2; j++)
                for (i = 0; i < 5; i++) {
                    edits[j * 5 + i].token = toks[j];
                    edits[j * 5 + i].dir = 0;
                    edits[j * 5 + i].t = -log(scales[i]);
                    edits[j * 5 + i].input_too = modes;
                }
            for (k = 0; k < 2; k++) {
                tpe_steer_eval_stats st;
                memset(&st, 0, sizeof st);
                CHECK_OK(tpe_steer_evaluate(ev, &set, 0, set.alpha, dirs, 1, edits, 10, k ? TPE_EVAL_FULL : TPE_EVAL_AUTO, r_hat,
                                            NULL, alpha_w, &st, NULL));
                if (modes && !k) CHECK(st.rerun_windows > 0);
                for (i = 0; i < 10; i++) {
                    double r = scales[i % 5], aw = set.alpha[edits[i].token];
                    double formula = r / (1.0 + aw * (r - 1.0)), e = fabs(r_hat[i] / formula - 1.0);
                    if (e > worst_formula) worst_formula = e;
                    CHECKF(e <= 1e-6, "%s: token %ld, r %g: r_hat %.12g, expected %.12g", names[a], (long)edits[i].token, r,
                           r_hat[i], formula);
                    if (aw * fabs(r - 1.0) < 1e-7) {
                        double ee = fabs(r_hat[i] / r - 1.0);
                        if (ee > worst_exact) worst_exact = ee;
                        CHECKF(ee <= 1e-6, "%s: r_hat = %.12g for r = %g (alpha_w %.3g)", names[a], r_hat[i], r, aw);
                    }
                }
            }
        }
        CHECKF(set.alpha[rare] * 19.0 < 1e-7, "%s: the rare token has alpha %.3g", names[a], set.alpha[rare]);
        tpe_encoding_free(&enc);
        tpe_steer_set_free(&set);
        tpe_steer_evaluator_free(ev);
        tpe_model_free(m);
        free(ids);
        free(h0);
        free(zero);
        free(E);
        free(alpha_direct);
        free(u);
        free(S);
    }
    NOTE("exact law: |r_hat / r - 1| <= %.2e (tiny alpha_w); against r / (1 + alpha_w (r - 1)) <= %.2e; slope vs -h0 %.2e",
         worst_exact, worst_formula, worst_fit);
}

/*
 * The cached evaluation (rank-one update of every position's distribution,
 * P^T delta for d_KL^r, re-runs only where the input embedding moves)
 * against re-running every window through the edited model, for an untied
 * model (cache only), a tied one with the shared matrix edited (re-runs),
 * and a GPT-J head with a bias. r_hat is formed in double on both sides
 * from the same float hidden states: they differ by the rounding of sums
 * over N positions, below 64 N u. d_KL^r on the cached side goes through
 * the float GEMM P^T delta: each float probability carries a relative error
 * up to about
 *     eps_p = 4 C u_32 max_v sum_c |E_vc| max |h|
 * (the GEMM's accumulated rounding becomes relative error through exp), so
 * the change d = alpha - alpha' and d_KL^r (quadratic in it) are within
 * 4 eps_p relative of the double re-run.
 */
TEST(steer_cached_matches_full_rerun)
{
    static const tpe_arch archs[3] = {TPE_ARCH_NEOX, TPE_ARCH_GPT2, TPE_ARCH_GPTJ};
    static const char *const names[3] = {"steer-cache-neox", "steer-cache-gpt2", "steer-cache-gptj"};
    const double scales[] = {20.0, 0.1, 1.5};
    size_t a, V = 57;
    double worst_r = 0.0, worst_kl = 0.0, worst_bound = 0.0;
    for (a = 0; a < 3; a++) {
        tpe_model *m = small_model(names[a], archs[a], a == 1, V, 0.6);
        size_t C, n = tt_quick() ? 8 : 16, start[17], window = 10, i, j, c, v, K;
        int32_t *ids;
        double *E, *alpha, *u[2], *S, eps_p, hmax = 0.0;
        tpe_steer_evaluator *ev = NULL;
        tpe_steer_set set;
        tpe_encoding enc;
        tpe_steer_edit edits[2 * 3 * 3];
        double r1[18], r2[18], k1[18], k2[18];
        const double *dirs[2];
        if (!m) continue;
        C = m->cfg.d_model;
        E = malloc(V * C * sizeof *E);
        alpha = malloc(V * sizeof *alpha);
        S = malloc(C * sizeof *S);
        u[0] = malloc(C * sizeof *u[0]);
        u[1] = malloc(C * sizeof *u[1]);
        ids = random_samples(n, 23, V, -1, start);
        CHECK_OK(tpe_steer_evaluator_new(m, &ev));
        make_set(ev, m, ids, start, n, window, "cache", &set);
        CHECK_OK(tpe_weight_to_f64(tpe_model_output_embedding(m), E));
        if (tpe_encoding_fit(E, V, C, set.alpha, NULL, TPE_OLS_F64, &enc) != TPE_OK) {
            CHECKF(0, "%s: %s", names[a], tpe_errmsg());
            break;
        }
        tpe_steer_significance(&enc, TPE_SIG_ONE_MINUS_P, S);
        CHECK_OK(tpe_steer_direction(enc.slope, S, C, 2.0, u[0]));
        CHECK_OK(tpe_steer_direction(enc.slope, S, C, HUGE_VAL, u[1]));
        dirs[0] = u[0];
        dirs[1] = u[1];
        for (i = 0; i < set.hc.N * C; i++) hmax = fabs((double)set.hc.H[i]) > hmax ? fabs((double)set.hc.H[i]) : hmax;
        {
            double row = 0.0;
            for (v = 0; v < V; v++) {
                double s = 0.0;
                for (c = 0; c < C; c++) s += fabs(E[v * C + c]);
                row = s > row ? s : row;
            }
            eps_p = 4.0 * (double)C * TT_EPS32 * row * hmax;
        }
        /* tokens: one frequent as an input (ids[0]) and two others */
        K = 0;
        for (j = 0; j < 3; j++)
            for (i = 0; i < 3; i++) {
                size_t d;
                for (d = 0; d < 2 && K < 18; d++) {
                    edits[K].token = j == 0 ? ids[0] : (int32_t)((7 * j + 3) % V);
                    edits[K].dir = d;
                    edits[K].t = -log(scales[i]);
                    edits[K].input_too = a == 1;
                    K++;
                }
            }
        CHECK_OK(tpe_steer_evaluate(ev, &set, 0, set.alpha, dirs, 2, edits, K, TPE_EVAL_AUTO, r1, k1, NULL, NULL, NULL));
        CHECK_OK(tpe_steer_evaluate(ev, &set, 0, set.alpha, dirs, 2, edits, K, TPE_EVAL_FULL, r2, k2, NULL, NULL, NULL));
        for (i = 0; i < K; i++) {
            double er = fabs(r1[i] / r2[i] - 1.0), ek = fabs(k1[i] - k2[i]) / k2[i];
            if (er > worst_r) worst_r = er;
            if (ek > worst_kl) worst_kl = ek;
            CHECKF(er <= 64.0 * (double)set.hc.N * TT_EPS64, "%s: edit %zu: r_hat cached %.17g, re-run %.17g", names[a], i, r1[i],
                   r2[i]);
            CHECKF(ek <= 4.0 * eps_p + 1e-9, "%s: edit %zu: d_KL^r cached %.12g, re-run %.12g", names[a], i, k1[i], k2[i]);
            CHECKF(k2[i] > 0.0 && r2[i] > 0.0, "%s: edit %zu has no effect", names[a], i);
        }
        /* the evaluator restored every row: evaluating again gives the same */
        CHECK_OK(tpe_steer_evaluate(ev, &set, 0, set.alpha, dirs, 2, edits, K, TPE_EVAL_AUTO, r2, NULL, NULL, NULL, NULL));
        for (i = 0; i < K; i++) CHECKF(r1[i] == r2[i], "%s: edit %zu differs on a second evaluation", names[a], i);
        if (eps_p > worst_bound) worst_bound = eps_p;
        /* the set's alpha against the double reference */
        direct_alpha(m, ids, start, n, window, alpha);
        for (v = 0; v < V; v++) CHECKF(fabs(set.alpha[v] - alpha[v]) <= eps_p * alpha[v], "%s: alpha[%zu]", names[a], v);
        tpe_encoding_free(&enc);
        tpe_steer_set_free(&set);
        tpe_steer_evaluator_free(ev);
        tpe_model_free(m);
        free(ids);
        free(E);
        free(alpha);
        free(S);
        free(u[0]);
        free(u[1]);
    }
    NOTE("cached vs full re-run: r_hat %.2e, d_KL^r %.2e relative (bound eps_p %.2e)", worst_r, worst_kl, worst_bound);
}

/* Writing the edited model: it loads, and its logits differ from the
 * original's only in the steered column -- for a tied model with --untie,
 * and with the shared matrix edited as long as the token is not an input;
 * when it is, the positions from its first occurrence on move too. */
TEST(steer_apply_changes_only_the_row)
{
    static const char *const names[3] = {"apply-neox", "apply-gpt2", "apply-gpt2-untie"};
    size_t a, V = 41;
    double worst = 0.0;
    for (a = 0; a < 3; a++) {
        tpe_model *m0 = small_model(a == 0 ? "apply-neox" : "apply-gpt2", a == 0 ? TPE_ARCH_NEOX : TPE_ARCH_GPT2, a != 0, V, 0.5);
        tpe_model *m1 = NULL, *m2 = NULL;
        size_t C, T = 9, t, v, c;
        int32_t ids[9] = {3, 1, 4, 1, 5, 9, 2, 6, 5}, w = 7;
        double *l0, *l1, *l2, delta[16], *E0, *E2;
        char dir[600];
        if (!m0) continue;
        C = m0->cfg.d_model;
        if (a != 1) ids[4] = w; /* only the head moves: the token may be an input */
        for (c = 0; c < C; c++) delta[c] = 0.25 * tpe_rng_normal(tt_rng());
        snprintf(dir, sizeof dir, "%s/%s-out", tt_tmpdir(), names[a]);
        CHECK_OK(tpe_model_load(m0->dir, NULL, &m1));
        CHECK_OK(tpe_steer_apply(m1, w, delta, a == 2));
        CHECK(m1->cfg.tied == (a == 1));
        CHECK_OK(tpe_model_save(m1, dir));
        CHECK_OK(tpe_model_load(dir, NULL, &m2));
        CHECK(m2->cfg.tied == (a == 1));
        l0 = malloc(T * V * sizeof *l0);
        l1 = malloc(T * V * sizeof *l1);
        l2 = malloc(T * V * sizeof *l2);
        CHECK_OK(tpe_forward_ref(m0, ids, T, NULL, l0, NULL));
        CHECK_OK(tpe_forward_ref(m1, ids, T, NULL, l1, NULL));
        CHECK_OK(tpe_forward_ref(m2, ids, T, NULL, l2, NULL));
        for (t = 0; t < T; t++)
            for (v = 0; v < V; v++) {
                CHECKF(l1[t * V + v] == l2[t * V + v], "%s: the saved model differs from the edited one at (%zu, %zu)", names[a], t, v);
                if (v != (size_t)w) CHECKF(l0[t * V + v] == l1[t * V + v], "%s: logit (%zu, %zu) changed", names[a], t, v);
                else CHECKF(l0[t * V + v] != l1[t * V + v], "%s: the steered logit at %zu did not change", names[a], t);
            }
        /* the edited row holds E_w + delta (stored in float) */
        E0 = malloc(V * C * sizeof *E0);
        E2 = malloc(V * C * sizeof *E2);
        CHECK_OK(tpe_weight_to_f64(tpe_model_output_embedding(m0), E0));
        CHECK_OK(tpe_weight_to_f64(tpe_model_output_embedding(m2), E2));
        for (c = 0; c < C; c++) {
            double e = fabs(E2[(size_t)w * C + c] - (E0[(size_t)w * C + c] + delta[c]));
            if (e > worst) worst = e;
            CHECK(e <= TT_EPS32 * (fabs(E0[(size_t)w * C + c]) + fabs(delta[c])));
        }
        for (v = 0; v < V * C; v++)
            if (v / C != (size_t)w) CHECK(E0[v] == E2[v]);
        if (a == 1) {
            /* the shared matrix: the token as an input moves what follows it */
            int32_t ids2[6] = {2, 8, 7, 3, 3, 1};
            double d0 = 0.0;
            CHECK_OK(tpe_forward_ref(m0, ids2, 6, NULL, l0, NULL));
            CHECK_OK(tpe_forward_ref(m2, ids2, 6, NULL, l2, NULL));
            for (t = 0; t < 6; t++)
                for (v = 0; v < V; v++) {
                    if (v == (size_t)w) continue;
                    if (t < 2) CHECK(l0[t * V + v] == l2[t * V + v]);
                    else d0 += fabs(l0[t * V + v] - l2[t * V + v]);
                }
            CHECKF(d0 > 0.0, "tied: the input embedding of token %ld did not move", (long)w);
        }
        free(l0);
        free(l1);
        free(l2);
        free(E0);
        free(E2);
        tpe_model_free(m0);
        tpe_model_free(m1);
        tpe_model_free(m2);
    }
    NOTE("edited rows equal E_w + delta to float rounding (worst %.2e)", worst);
}

/* probe --save-hidden's files read back as a cache; malformed rows refused. */
TEST(hidden_cache_read_and_permute)
{
    tpe_model *m = small_model("steer-cache-neox", TPE_ARCH_NEOX, 0, 57, 0.6);
    size_t start[6], n = 5, window = 7, i, shape[2], perm[5] = {3, 0, 4, 1, 2};
    int32_t *ids;
    tpe_hidden_cache a, b;
    int64_t *rows;
    char hp[600], tp[600];
    if (!m) return;
    ids = random_samples(n, 20, 57, -1, start);
    CHECK_OK(tpe_hidden_cache_build(m, ids, start, n, window, NULL, &a));
    /* the files as probe writes them: (N, C) <f4 and (N, 3) <i8 (sample, position, token) */
    rows = malloc(a.N * 3 * sizeof *rows);
    for (i = 0; i < n; i++) {
        size_t k;
        for (k = start[i]; k < start[i + 1]; k++) {
            rows[3 * k] = (int64_t)i;
            rows[3 * k + 1] = (int64_t)(k - start[i]);
            rows[3 * k + 2] = ids[k];
        }
    }
    snprintf(hp, sizeof hp, "%s/hc.npy", tt_tmpdir());
    snprintf(tp, sizeof tp, "%s/hc.tokens.npy", tt_tmpdir());
    shape[0] = a.N;
    shape[1] = a.C;
    CHECK_OK(tpe_npy_write(hp, TPE_F32, 2, shape, a.H));
    shape[1] = 3;
    CHECK_OK(tpe_npy_write(tp, TPE_I64, 2, shape, rows));
    CHECK_OK(tpe_hidden_cache_read(hp, window, &b));
    CHECK(b.N == a.N && b.nwin == a.nwin && b.nsamples == a.nsamples && b.window == window);
    for (i = 0; i <= a.nwin && i <= b.nwin; i++) CHECK(a.win[i] == b.win[i]);
    for (i = 0; i <= a.nsamples; i++) CHECK(a.sample_win[i] == b.sample_win[i]);
    CHECK(memcmp(a.H, b.H, a.N * a.C * sizeof *a.H) == 0);
    CHECK(memcmp(a.ids, b.ids, a.N * sizeof *a.ids) == 0);
    tpe_hidden_cache_free(&b);
    /* permuting the samples moves their windows and rows with them */
    CHECK_OK(tpe_hidden_cache_permute(&a, perm));
    for (i = 0; i < n; i++) {
        size_t s = perm[i], len = start[s + 1] - start[s], p0 = a.win[a.sample_win[i]];
        CHECK(a.win[a.sample_win[i + 1]] - p0 == len);
        CHECK(memcmp(a.ids + p0, ids + start[s], len * sizeof *ids) == 0);
    }
    perm[0] = 0;
    CHECK_ERR(tpe_hidden_cache_permute(&a, perm), TPE_EINVAL, "permutation");
    /* a gap in the positions */
    rows[3 * 2 + 1] = 5;
    CHECK_OK(tpe_npy_write(tp, TPE_I64, 2, shape, rows));
    CHECK_ERR(tpe_hidden_cache_read(hp, window, &b), TPE_EFORMAT, "without gaps");
    CHECK_ERR(tpe_hidden_cache_read(hp, 0, &b), TPE_EINVAL, "window");
    tpe_hidden_cache_free(&a);
    free(rows);
    free(ids);
    tpe_model_free(m);
}

/* ---- the encoding against statsmodels ------------------------------------------------- */

/*
 * Eq. 2 on the committed goldens: the demo models (V = 2048, d = 64, alpha
 * from golden/demo/check) and a GPT-J head with a bias. Coefficients and
 * standard errors agree to 1e-9 relative (statsmodels solves through the
 * pseudo-inverse, tpe through QR: both lose about cond([1, E]) u, and
 * cond is below 1e4 here); p-values to 1e-9 relative plus 1e-300.
 */
TEST(encoding_matches_statsmodels)
{
    static const char *const cases[3] = {"neox", "gpt2", "gptj"};
    size_t k;
    double worst_coef = 0.0, worst_p = 0.0;
    for (k = 0; k < 3; k++) {
        char path[256];
        tpe_json_doc *doc = NULL;
        const tpe_json *g;
        tpe_model *m = NULL;
        tpe_array al;
        double *E, *bias = NULL, *slope, *se, *p;
        size_t V, C, n1, n2, n3, c;
        tpe_encoding enc;
        memset(&al, 0, sizeof al);
        memset(&enc, 0, sizeof enc);
        snprintf(path, sizeof path, "golden/encoding/%s.json", cases[k]);
        if (!(g = golden_json(path, &doc))) continue;
        CHECK_OK(tpe_model_load(tpe_json_get(g, "model")->str, NULL, &m));
        CHECK_OK(tpe_npy_read_f64(tpe_json_get(g, "alpha")->str, &al));
        if (!m || !al.data) {
            tpe_json_free(doc);
            continue;
        }
        V = m->cfg.n_vocab;
        C = m->cfg.d_model;
        E = malloc(V * C * sizeof *E);
        CHECK_OK(tpe_weight_to_f64(tpe_model_output_embedding(m), E));
        if (tpe_model_head_bias(m)) {
            bias = malloc(V * sizeof *bias);
            CHECK_OK(tpe_weight_to_f64(tpe_model_head_bias(m), bias));
        }
        CHECK_OK(tpe_encoding_fit(E, V, C, (const double *)al.data, bias, TPE_OLS_F64, &enc));
        slope = garr(g, "slope", &n1);
        se = garr(g, "se", &n2);
        p = garr(g, "p", &n3);
        CHECK(n1 == C && n2 == C && n3 == C);
        if (enc.slope && n1 == C && n2 == C && n3 == C) {
            for (c = 0; c < C; c++) {
                double e1 = fabs(enc.slope[c] - slope[c]) / fabs(slope[c]), e2 = fabs(enc.slope_se[c] - se[c]) / se[c];
                double e3 = fabs(enc.slope_p[c] - p[c]) / (p[c] + 1e-300);
                worst_coef = e1 > worst_coef ? e1 : worst_coef;
                worst_coef = e2 > worst_coef ? e2 : worst_coef;
                worst_p = e3 > worst_p ? e3 : worst_p;
                CHECKF(e1 <= 1e-9 && e2 <= 1e-9, "%s: dimension %zu: slope %.17g se %.17g, statsmodels %.17g %.17g", cases[k], c,
                       enc.slope[c], enc.slope_se[c], slope[c], se[c]);
                CHECKF(e3 <= 1e-9, "%s: dimension %zu: p %.17g, statsmodels %.17g", cases[k], c, enc.slope_p[c], p[c]);
            }
            CHECKF(fabs(enc.r2 - gnum(g, "r2")) <= 1e-12, "%s: R^2 %.17g, statsmodels %.17g", cases[k], enc.r2, gnum(g, "r2"));
            CHECKF(fabs(enc.adj_r2 - gnum(g, "adj_r2")) <= 1e-12, "%s: adjusted R^2", cases[k]);
            CHECKF(fabs(enc.intercept - gnum(g, "intercept")) <= 1e-9 * fabs(gnum(g, "intercept")), "%s: intercept", cases[k]);
            CHECKF(fabs(enc.sigma - gnum(g, "sigma")) <= 1e-9 * gnum(g, "sigma"), "%s: sigma", cases[k]);
            if (bias) {
                CHECK(enc.has_bias);
                CHECKF(fabs(enc.bias_slope - gnum(g, "bias_slope")) <= 1e-9 * fabs(gnum(g, "bias_slope")), "%s: bias slope %.17g, %.17g",
                       cases[k], enc.bias_slope, gnum(g, "bias_slope"));
                CHECKF(fabs(enc.bias_slope_se - gnum(g, "bias_se")) <= 1e-9 * gnum(g, "bias_se"), "%s: bias se", cases[k]);
            }
        }
        tpe_encoding_free(&enc);
        free(slope);
        free(se);
        free(p);
        free(E);
        free(bias);
        tpe_array_free(&al);
        tpe_model_free(m);
        tpe_json_free(doc);
    }
    NOTE("against statsmodels: coefficients and se %.2e, p %.2e relative", worst_coef, worst_p);
}
