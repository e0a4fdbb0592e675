/*
 * test_unargmax.c -- unargmaxable tokens (unargmax.h) against
 *   - an exact convex-hull test written here (no bias): token i is
 *     unargmaxable iff W_i lies in the convex hull of the other rows
 *     (Caratheodory: of some affinely independent subset of at most d + 1
 *     of them), decided in exact rational arithmetic on integer points;
 *   - brute-force LP goldens with bias (golden/unargmax, made by
 *     tools/gen_unargmax_goldens.py with HiGHS, cross-checked with glpsol);
 *   - cases where nothing may be unargmaxable, planted interior points,
 *     identical and degenerate rows, and bad input.
 * Every verdict is re-checked here by the independent checks (witness in
 * double with bounded rounding, Farkas certificate, duplicate row), and a
 * tampered witness or certificate must fail them.
 */
#include "array.h"
#include "test.h"
#include "unargmax.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers --------------------------------------------------------------- */

static tpe_head head(const double *W, size_t V, size_t d, const double *b)
{
    tpe_head h;
    h.vocab = V;
    h.dim = d;
    h.w = W;
    h.w32 = NULL;
    h.bias = b;
    return h;
}

/* Run with witnesses and certificates kept; every verdict must be decided
 * (no failure) and must pass the independent checks. Returns the number of
 * verdicts that failed a check. */
static size_t run_checked(const tpe_head *h, int skip_fast, size_t patience, tpe_unargmax_result *r)
{
    tpe_unargmax_opts o;
    size_t i, bad = 0, k;
    tpe_unargmax_opts_default(&o);
    o.exact = 1;
    o.skip_fast = skip_fast;
    o.patience = patience;
    o.keep_witnesses = 1;
    CHECK_OK(tpe_unargmax_run(h, &o, r));
    if (!r->verdict) return 1;
    for (i = 0; i < h->vocab; i++) {
        if (r->verdict[i] == TPE_ARGMAXABLE) {
            tpe_witness_check chk;
            if (!tpe_unargmax_check_witness(h, i, r->witness + i * h->dim, o.box, o.eps, &chk)) {
                bad++;
                CHECKF(0, "token %zu: witness does not check: %s (competitor %zu)", i, chk.why, chk.worst);
            }
        } else if (r->verdict[i] == TPE_UNARGMAXABLE) {
            if (r->how[i] == TPE_HOW_DUPLICATE) {
                size_t j = r->dup_of[i];
                int same = j < h->vocab && j != i;
                for (k = 0; same && k < h->dim; k++) same = tpe_head_w(h, i, k) == tpe_head_w(h, j, k);
                if (!same || (h->bias && !(h->bias[j] >= h->bias[i]))) {
                    bad++;
                    CHECKF(0, "token %zu: duplicate certificate (row %zu) does not check", i, j);
                }
            } else {
                double bound;
                size_t a = r->cert_start[i], n = r->cert_start[i + 1] - a;
                if (!tpe_unargmax_check_certificate(h, i, r->cert_rows + a, r->cert_y + a, n, o.box, o.eps, &bound)) {
                    bad++;
                    CHECKF(0, "token %zu: Farkas certificate does not check (bound %.3g)", i, bound);
                }
            }
        } else {
            bad++;
            CHECKF(0, "token %zu: no verdict (%s)", i, r->fail_reason && r->fail_reason[i] ? r->fail_reason[i] : "undecided");
        }
    }
    return bad;
}

/* ---- the example of the issue ------------------------------------------- */
TEST(unargmax_2d_example)
{
    /* token 3 = (0.9, 0.2) lies inside the triangle of the other three */
    const double W[8] = {-2, -2, 1, 2, 1.8, -0.8, 0.9, 0.2};
    tpe_head h = head(W, 4, 2, NULL);
    int pass;
    for (pass = 0; pass < 2; pass++) {
        tpe_unargmax_result r;
        size_t i;
        CHECK(run_checked(&h, pass, 2500, &r) == 0);
        for (i = 0; i < 4; i++)
            CHECKF(r.verdict[i] == (i == 3 ? TPE_UNARGMAXABLE : TPE_ARGMAXABLE), "pass %d token %zu verdict %d", pass, i,
                   r.verdict[i]);
        CHECK(r.rank == 2);
        if (pass == 0) CHECK(r.fast_unresolved[3] && !r.fast_unresolved[0] && !r.fast_unresolved[1] && !r.fast_unresolved[2]);
        NOTE("%s: token 3 certified with bound %.3g (eps 1e-8)", pass ? "LP only" : "fast + LP", r.cert_bound[3]);
        tpe_unargmax_result_free(&r);
    }
}

/* ---- exact convex hull (integers) ------------------------------------------
 * Fraction-free Gauss-Jordan elimination (Bareiss 1968; Nakos, Turner &
 * Williams 1997): after the pivot of column c every entry is an integer
 * minor of the input, so with integer points of small magnitude nothing
 * overflows (Hadamard: |minor| <= prod of row norms < 1e8 here) and every
 * division is exact -- both are checked, and a failure voids the test. */
static int exact_trouble;

/* Is p (d) in the convex hull of the k points Q[idx[0..k)] (affinely
 * independent ones only)? Solves [q_t; 1] lambda = [p; 1] exactly. */
static int in_simplex(const long long *Q, size_t d, const size_t *idx, size_t k, const long long *p)
{
    long long M[7][8], prev = 1, D;
    size_t rows = d + 1, r, c, cc;
    for (r = 0; r < rows; r++) {
        for (c = 0; c < k; c++) M[r][c] = r < d ? Q[idx[c] * d + r] : 1;
        M[r][k] = r < d ? p[r] : 1;
    }
    for (c = 0; c < k; c++) {
        size_t s = c;
        while (s < rows && M[s][c] == 0) s++;
        if (s == rows) return 0; /* affinely dependent: a smaller subset covers it */
        if (s != c)
            for (cc = 0; cc <= k; cc++) {
                long long t = M[s][cc];
                M[s][cc] = M[c][cc];
                M[c][cc] = t;
            }
        for (r = 0; r < rows; r++) {
            long long f = M[r][c];
            if (r == c) continue;
            for (cc = 0; cc <= k; cc++) {
                long long v;
                if (cc == c) continue;
                if (llabs(M[c][c]) > 3000000000LL || llabs(M[r][cc]) > 3000000000LL || llabs(f) > 3000000000LL ||
                    llabs(M[c][cc]) > 3000000000LL) {
                    exact_trouble = 1;
                    return 0;
                }
                v = M[c][c] * M[r][cc] - f * M[c][cc];
                if (v % prev != 0) {
                    exact_trouble = 1;
                    return 0;
                }
                M[r][cc] = v / prev;
            }
            M[r][c] = 0;
        }
        prev = M[c][c];
    }
    /* now M[t][t] = D (the determinant of the pivot block) and M[t][k] = D lambda_t */
    D = M[k - 1][k - 1];
    for (r = 0; r < k; r++)
        if (M[r][r] != D) exact_trouble = 1;
    for (r = k; r < rows; r++)
        if (M[r][k] != 0) return 0; /* inconsistent: p not in the affine hull */
    for (r = 0; r < k; r++)
        if ((M[r][k] < 0) != (D < 0) && M[r][k] != 0) return 0;
    return 1;
}

/* W_i is in the convex hull of the other rows (so unargmaxable without bias) */
static int hull_interior(const long long *W, size_t V, size_t d, size_t i)
{
    size_t idx[8], others[64], no = 0, k, j;
    for (j = 0; j < V; j++)
        if (j != i) others[no++] = j;
    for (k = 1; k <= d + 1 && k <= no; k++) {
        /* every k-subset of the other rows, in lexicographic order */
        size_t c[8], t;
        for (t = 0; t < k; t++) c[t] = t;
        for (;;) {
            for (t = 0; t < k; t++) idx[t] = others[c[t]];
            if (in_simplex(W, d, idx, k, W + i * d)) return 1;
            t = k;
            while (t > 0 && c[t - 1] == no - k + t - 1) t--;
            if (t == 0) break;
            c[t - 1]++;
            for (; t < k; t++) c[t] = c[t - 1] + 1;
        }
    }
    return 0;
}

TEST(unargmax_vs_exact_hull)
{
    size_t trials = tt_quick() ? 12 : 60, t, tokens = 0, interior = 0, bad = 0;
    tpe_rng *rng = tt_rng();
    exact_trouble = 0;
    for (t = 0; t < trials; t++) {
        size_t d = 2 + t % 5, V = d + 2 + tpe_rng_below(rng, d <= 3 ? 10 : 5), i, k, pass;
        long long R = d <= 3 ? 6 : 3, Wi[64 * 6];
        double W[64 * 6];
        int truth[64];
        for (i = 0; i < V * d; i++) {
            Wi[i] = (long long)tpe_rng_below(rng, (uint64_t)(2 * R + 1)) - R;
            W[i] = (double)Wi[i];
        }
        if (t % 7 == 3) /* a repeated row now and then */
            for (k = 0; k < d; k++) {
                Wi[(V - 1) * d + k] = Wi[k];
                W[(V - 1) * d + k] = W[k];
            }
        for (i = 0; i < V; i++) {
            truth[i] = hull_interior(Wi, V, d, i);
            interior += (size_t)truth[i];
        }
        tokens += V;
        for (pass = 0; pass < 2; pass++) {
            tpe_head h = head(W, V, d, NULL);
            tpe_unargmax_result r;
            bad += run_checked(&h, (int)pass, 2500, &r);
            for (i = 0; i < V; i++) {
                int want = truth[i] ? TPE_UNARGMAXABLE : TPE_ARGMAXABLE;
                if (r.verdict[i] != want) {
                    bad++;
                    CHECKF(0, "trial %zu (V %zu, d %zu, %s) token %zu: verdict %d, hull test says %s", t, V, d,
                           pass ? "LP only" : "fast + LP", i, r.verdict[i], truth[i] ? "interior" : "vertex");
                }
            }
            tpe_unargmax_result_free(&r);
        }
    }
    CHECKF(!exact_trouble, "exact arithmetic overflowed or a division was inexact: the hull test is void");
    CHECK(interior > 0 && interior < tokens);
    NOTE("%zu trials, %zu tokens, %zu in the hull of the others; %zu disagreements or failed checks", trials, tokens,
         interior, bad);
}

/* ---- LP goldens with bias ---------------------------------------------------- */
static int load_golden(const char *name, tpe_array *W, tpe_array *b, tpe_array *rs)
{
    char p[256];
    snprintf(p, sizeof p, "golden/unargmax/%s_W.npy", name);
    if (tpe_npy_read_f64(p, W) != TPE_OK) return 1;
    snprintf(p, sizeof p, "golden/unargmax/%s_b.npy", name);
    if (tpe_npy_read_f64(p, b) != TPE_OK) return 1;
    snprintf(p, sizeof p, "golden/unargmax/%s_rstar.npy", name);
    if (tpe_npy_read_f64(p, rs) != TPE_OK) return 1;
    return 0;
}

TEST(unargmax_vs_lp_goldens)
{
    static const char *const cases[] = {"bias_v12_d2", "bias_v20_d3", "bias_v30_d4", "bias_v40_d5",
                                        "bias_v50_d6", "bias_v80_d3", "v60_d5_nobias", "v40_d6_nobias"};
    size_t c, tokens = 0, un = 0;
    double worst_w = 0.0, worst_c = 0.0;
    for (c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        tpe_array W, b, rs;
        size_t V, d, i, pass;
        int nobias = strstr(cases[c], "nobias") != NULL;
        if (load_golden(cases[c], &W, &b, &rs)) {
            CHECKF(0, "golden %s: %s", cases[c], tpe_errmsg());
            continue;
        }
        V = W.shape[0];
        d = W.shape[1];
        for (pass = 0; pass < 2; pass++) {
            tpe_head h = head(W.data, V, d, nobias ? NULL : b.data);
            tpe_unargmax_result r;
            const double *rstar = rs.data;
            run_checked(&h, (int)pass, 2500, &r);
            for (i = 0; i < V; i++) {
                int want = rstar[i] >= 1e-8 ? TPE_ARGMAXABLE : TPE_UNARGMAXABLE;
                CHECKF(r.verdict[i] == want, "%s token %zu (%s): verdict %d, HiGHS r* = %.6g", cases[c], i,
                       pass ? "LP only" : "fast + LP", r.verdict[i], rstar[i]);
                /* a witness's distance is at most the optimum r*; a Farkas bound at least r* */
                if (r.verdict[i] == TPE_ARGMAXABLE && r.radius[i] == r.radius[i]) {
                    double ex = (r.radius[i] - rstar[i]) / (1e-9 * (1.0 + fabs(rstar[i])));
                    worst_w = fmax(worst_w, ex);
                    CHECKF(ex <= 1.0, "%s token %zu: witness distance %.17g above r* %.17g", cases[c], i, r.radius[i], rstar[i]);
                }
                if (r.verdict[i] == TPE_UNARGMAXABLE && r.how[i] == TPE_HOW_LP) {
                    double ex = (rstar[i] - r.cert_bound[i]) / (1e-9 * (1.0 + fabs(rstar[i])));
                    worst_c = fmax(worst_c, ex);
                    CHECKF(ex <= 1.0, "%s token %zu: Farkas bound %.17g below r* %.17g", cases[c], i, r.cert_bound[i], rstar[i]);
                }
            }
            if (pass == 0) {
                tokens += V;
                for (i = 0; i < V; i++) un += r.verdict[i] == TPE_UNARGMAXABLE;
            }
            tpe_unargmax_result_free(&r);
        }
        tpe_array_free(&W);
        tpe_array_free(&b);
        tpe_array_free(&rs);
    }
    NOTE("%zu tokens, %zu unargmaxable; worst (witness dist - r*) %.3g and (r* - bound) %.3g in units of 1e-9 (1 + |r*|)",
         tokens, un, worst_w, worst_c);
}

/* ---- nothing may be unargmaxable ------------------------------------------------ */
TEST(unargmax_none_unit_norm_and_voronoi_bias)
{
    size_t trials = tt_quick() ? 4 : 12, t, tokens = 0, lp_tokens = 0;
    tpe_rng *rng = tt_rng();
    for (t = 0; t < trials; t++) {
        size_t d = 2 + t % 9, V = 40 + tpe_rng_below(rng, 60), i, k, pass, kind;
        double *W = malloc(V * d * sizeof *W), *b = malloc(V * sizeof *b);
        for (kind = 0; kind < 2; kind++) {
            for (i = 0; i < V; i++) {
                double s = 0.0;
                for (k = 0; k < d; k++) {
                    W[i * d + k] = tpe_rng_normal(rng);
                    s += W[i * d + k] * W[i * d + k];
                }
                /* kind 0: rows of unit norm, no bias (all on the sphere: all vertices);
                 * kind 1: b_i = -||W_i||^2 / 2, so W x + b = -||x - W_i||^2 / 2 + ||x||^2 / 2
                 * and the argmax is the nearest row: x = W_i wins */
                for (k = 0; k < d && kind == 0; k++) W[i * d + k] /= sqrt(s);
                b[i] = -0.5 * s;
            }
            for (pass = 0; pass < 2; pass++) {
                tpe_head h = head(W, V, d, kind ? b : NULL);
                tpe_unargmax_result r;
                run_checked(&h, (int)pass, 2500, &r);
                for (i = 0; i < V; i++)
                    CHECKF(r.verdict[i] == TPE_ARGMAXABLE, "%s, d %zu, token %zu: verdict %d (%s)",
                           kind ? "b = -|W_i|^2/2" : "unit rows", d, i, r.verdict[i], pass ? "LP only" : "fast + LP");
                if (pass) lp_tokens += V;
                else tokens += V;
                tpe_unargmax_result_free(&r);
            }
        }
        free(W);
        free(b);
    }
    NOTE("%zu tokens through the fast pass and %zu through the LP alone, all argmaxable with checked witnesses", tokens,
         lp_tokens);
}

/* ---- planted interior points ------------------------------------------------------- */
TEST(unargmax_planted_interior)
{
    size_t trials = tt_quick() ? 2 : 6, t, planted_total = 0, found = 0, un_total = 0;
    tpe_rng *rng = tt_rng();
    for (t = 0; t < trials; t++) {
        size_t d = 6 + 3 * t, V = tt_quick() ? 80 : 200, P = 5, i, k, p, pass;
        int withbias = (int)(t % 2);
        double *W = malloc(V * d * sizeof *W), *b = malloc(V * sizeof *b);
        for (i = 0; i < V * d; i++) W[i] = tpe_rng_normal(rng);
        for (i = 0; i < V; i++) b[i] = 0.3 * tpe_rng_normal(rng);
        /* the last P rows: convex combinations of d + 1 others (and a lower bias) */
        for (p = 0; p < P; p++) {
            size_t tgt = V - 1 - p;
            double lam[64], s = 0.0, bb = 0.0;
            for (k = 0; k < d; k++) W[tgt * d + k] = 0.0;
            for (i = 0; i <= d; i++) {
                lam[i] = 0.1 + tpe_rng_uniform(rng);
                s += lam[i];
            }
            for (i = 0; i <= d; i++) {
                size_t src = tpe_rng_below(rng, V - P);
                for (k = 0; k < d; k++) W[tgt * d + k] += lam[i] / s * W[src * d + k];
                bb += lam[i] / s * b[src];
            }
            b[tgt] = bb - 0.05;
        }
        for (pass = 0; pass < 2; pass++) {
            tpe_head h = head(W, V, d, withbias ? b : NULL);
            tpe_unargmax_result r;
            run_checked(&h, (int)pass, 2500, &r);
            for (p = 0; p < P; p++) {
                CHECKF(r.verdict[V - 1 - p] == TPE_UNARGMAXABLE, "d %zu%s: planted token %zu verdict %d", d,
                       withbias ? " (bias)" : "", V - 1 - p, r.verdict[V - 1 - p]);
                if (pass == 0) found += r.verdict[V - 1 - p] == TPE_UNARGMAXABLE;
            }
            if (pass == 0) {
                planted_total += P;
                for (i = 0; i < V; i++) un_total += r.verdict[i] == TPE_UNARGMAXABLE;
            }
            tpe_unargmax_result_free(&r);
        }
        free(W);
        free(b);
    }
    NOTE("%zu of %zu planted interior points certified unargmaxable (%zu unargmaxable in all)", found, planted_total,
         un_total);
}

/* ---- identical, zero and degenerate rows; d = 1; V = 1 -------------------------- */
static void expect_verdicts(const char *what, const double *W, size_t V, size_t d, const double *b, const char *want)
{
    size_t i, pass;
    for (pass = 0; pass < 2; pass++) {
        tpe_head h = head(W, V, d, b);
        tpe_unargmax_result r;
        run_checked(&h, (int)pass, 2500, &r);
        for (i = 0; i < V; i++)
            CHECKF(r.verdict[i] == (want[i] == 'A' ? TPE_ARGMAXABLE : TPE_UNARGMAXABLE), "%s (%s): token %zu verdict %d, want %c",
                   what, pass ? "LP only" : "fast + LP", i, r.verdict[i], want[i]);
        tpe_unargmax_result_free(&r);
    }
}

TEST(unargmax_degenerate_rows)
{
    {
        const double W[8] = {1, 0, 1, 0, 0, 1, -1, -1};
        const double b1[4] = {0.5, 0.2, 0, 0}, b2[4] = {0.5, 0.5, 0, 0};
        expect_verdicts("identical rows, no bias: a tie", W, 4, 2, NULL, "UUAA");
        expect_verdicts("identical rows, smaller bias: dominated", W, 4, 2, b1, "AUAA");
        expect_verdicts("identical rows, equal bias: a tie", W, 4, 2, b2, "UUAA");
    }
    {
        const double W[6] = {2, 2, 2, 2, 2, 2}, b[3] = {0.1, 0.3, -1};
        const double Z[6] = {0, 0, 0, 0, 0, 0};
        expect_verdicts("all rows equal, no bias", W, 3, 2, NULL, "UUU");
        expect_verdicts("all rows equal, distinct biases", W, 3, 2, b, "UAU");
        expect_verdicts("all rows zero", Z, 3, 2, NULL, "UUU");
    }
    {
        const double W[8] = {1, 0, -1, 1, -1, -1, 0, 0}, C[6] = {0, 0, 1, 1, 2, 2}, L[3] = {1, 2, 3};
        const double W1[3] = {5, -1, 7};
        expect_verdicts("zero row inside a triangle", W, 4, 2, NULL, "AAAU");
        expect_verdicts("collinear rows", C, 3, 2, NULL, "AUA");
        expect_verdicts("d = 1", L, 3, 1, NULL, "AUA");
        expect_verdicts("V = 1", W1, 1, 3, NULL, "A");
    }
    {
        /* three identical rows, two share the largest bias: all three tie or lose */
        const double W[8] = {1, 1, 1, 1, 1, 1, -3, 0}, b[4] = {0.2, 0.2, 0.1, 0};
        tpe_head h = head(W, 4, 2, b);
        tpe_unargmax_result r;
        run_checked(&h, 0, 2500, &r);
        CHECK(r.verdict[0] == TPE_UNARGMAXABLE && r.verdict[1] == TPE_UNARGMAXABLE && r.verdict[2] == TPE_UNARGMAXABLE);
        CHECK(r.verdict[3] == TPE_ARGMAXABLE);
        CHECK(r.dup_groups == 1 && r.dup_tokens == 3);
        CHECK(r.how[2] == TPE_HOW_DUPLICATE && (r.dup_of[2] == 0 || r.dup_of[2] == 1));
        CHECK(r.dup_of[0] == 1 && r.dup_of[1] == 0);
        tpe_unargmax_result_free(&r);
    }
}

TEST(unargmax_bad_input)
{
    double W[6] = {1, 0, 0, 1, -1, -1}, b[3] = {0, 0, 0};
    tpe_head h = head(W, 3, 2, b);
    tpe_unargmax_opts o;
    tpe_unargmax_result r;
    tpe_unargmax_opts_default(&o);
    W[3] = (double)NAN;
    CHECK_ERR(tpe_unargmax_run(&h, &o, &r), TPE_EINVAL, "W[1, 1] is NaN");
    W[3] = 1;
    b[2] = (double)INFINITY;
    CHECK_ERR(tpe_unargmax_run(&h, &o, &r), TPE_EINVAL, "b[2] is infinite");
    b[2] = 0;
    o.box = -1;
    CHECK_ERR(tpe_unargmax_run(&h, &o, &r), TPE_EINVAL, "box");
    o.box = 100;
    o.eps = 0;
    CHECK_ERR(tpe_unargmax_run(&h, &o, &r), TPE_EINVAL, "eps");
    h.vocab = 0;
    o.eps = 1e-8;
    CHECK_ERR(tpe_unargmax_run(&h, &o, &r), TPE_EINVAL, "at least one row");
    h.vocab = 3;
    W[0] = 1e300; /* beyond float: the fast pass cannot take it */
    CHECK_ERR(tpe_unargmax_run(&h, &o, &r), TPE_EINVAL, "float range");
}

/* ---- the checks must be able to fail ------------------------------------------------ */
TEST(unargmax_checks_reject_tampering)
{
    const double W[8] = {-2, -2, 1, 2, 1.8, -0.8, 0.9, 0.2};
    tpe_head h = head(W, 4, 2, NULL);
    tpe_unargmax_result r;
    tpe_witness_check chk;
    double x[2], y[8], bound;
    size_t rows[8], n, a, t;
    run_checked(&h, 0, 2500, &r);
    /* witnesses */
    memcpy(x, r.witness + 0, sizeof x);
    CHECK(tpe_unargmax_check_witness(&h, 0, x, 100, 1e-8, &chk));
    CHECK(!tpe_unargmax_check_witness(&h, 1, x, 100, 1e-8, &chk)); /* token 0's point does not make 1 win */
    x[0] = x[1] = 0.0;                                            /* every logit 0: a tie */
    CHECK(!tpe_unargmax_check_witness(&h, 0, x, 100, 1e-8, &chk));
    CHECK(chk.why && strstr(chk.why, "tie"));
    x[0] = x[1] = -150.0; /* token 0 wins, but outside the box */
    CHECK(!tpe_unargmax_check_witness(&h, 0, x, 100, 1e-8, &chk));
    CHECK(tpe_unargmax_check_witness(&h, 0, x, 200, 1e-8, &chk));
    /* a point where token 1 beats token 2 by less than eps ||W_1 - W_2||: not a witness */
    {
        /* on the 1/2 tie line (W_1 - W_2) . x = 0, nudged by 1e-12 toward 1 */
        double dx = 1 - 1.8, dy = 2 + 0.8, nn = sqrt(dx * dx + dy * dy);
        x[0] = 50.0 * dy / nn + 1e-12 * dx / nn;
        x[1] = -50.0 * dx / nn + 1e-12 * dy / nn;
        CHECK(!tpe_unargmax_check_witness(&h, 1, x, 100, 1e-8, &chk));
    }
    /* certificates */
    a = r.cert_start[3];
    n = r.cert_start[4] - a;
    CHECK(n >= 3 && n <= 8);
    memcpy(rows, r.cert_rows + a, n * sizeof *rows);
    memcpy(y, r.cert_y + a, n * sizeof *y);
    CHECK(tpe_unargmax_check_certificate(&h, 3, rows, y, n, 100, 1e-8, &bound));
    for (t = 0; t < n; t++) y[t] *= 3.0; /* the bound is scale-free */
    CHECK(tpe_unargmax_check_certificate(&h, 3, rows, y, n, 100, 1e-8, &bound));
    y[0] *= 1.5;
    CHECK(!tpe_unargmax_check_certificate(&h, 3, rows, y, n, 100, 1e-8, &bound));
    NOTE("a perturbed certificate's bound: %.3g (needs < 1e-8)", bound);
    y[0] /= 1.5;
    y[1] = -y[1];
    CHECK(!tpe_unargmax_check_certificate(&h, 3, rows, y, n, 100, 1e-8, &bound));
    y[1] = -y[1];
    rows[0] = 3; /* the token itself */
    CHECK(!tpe_unargmax_check_certificate(&h, 3, rows, y, n, 100, 1e-8, &bound));
    /* a vertex has no certificate: any y gives a bound >= r* > 0 */
    rows[0] = 1;
    rows[1] = 2;
    rows[2] = 3;
    y[0] = y[1] = y[2] = 1.0;
    CHECK(!tpe_unargmax_check_certificate(&h, 0, rows, y, 3, 100, 1e-8, &bound));
    tpe_unargmax_result_free(&r);
}

/* ---- float input, rank ---------------------------------------------------------------- */
TEST(unargmax_float_input_and_rank)
{
    size_t V = 60, d = 5, i, k;
    double *W = malloc(V * d * sizeof *W), *A = malloc(V * 2 * sizeof *A), B[10];
    float *W32 = malloc(V * d * sizeof *W32);
    tpe_rng *rng = tt_rng();
    tpe_head h;
    tpe_unargmax_result r64, r32;
    size_t rank;
    double tol;
    for (i = 0; i < V * d; i++) {
        W32[i] = (float)tpe_rng_normal(rng);
        W[i] = (double)W32[i];
    }
    h = head(W, V, d, NULL);
    run_checked(&h, 0, 2500, &r64);
    CHECK(r64.rank == d);
    h.w = NULL;
    h.w32 = W32;
    run_checked(&h, 0, 2500, &r32);
    for (i = 0; i < V; i++) CHECKF(r64.verdict[i] == r32.verdict[i], "token %zu: f64 %d, f32 %d", i, r64.verdict[i], r32.verdict[i]);
    tpe_unargmax_result_free(&r64);
    tpe_unargmax_result_free(&r32);
    /* W = A B with A (V, 2), B (2, 5): rank 2 */
    for (i = 0; i < V * 2; i++) A[i] = tpe_rng_normal(rng);
    for (i = 0; i < 10; i++) B[i] = tpe_rng_normal(rng);
    for (i = 0; i < V; i++)
        for (k = 0; k < d; k++) W[i * d + k] = A[i * 2] * B[k] + A[i * 2 + 1] * B[5 + k];
    h = head(W, V, d, NULL);
    CHECK_OK(tpe_head_rank(&h, &rank, &tol));
    CHECKF(rank == 2, "rank %zu, expected 2", rank);
    NOTE("rank-2 W (60 x 5): rank %zu at relative pivot tolerance %.3g", rank, tol);
    free(W);
    free(A);
    free(W32);
}

/* ---- the fast pass's variants agree ---------------------------------------------------
 * Iteration 0 through the symmetric Gram matrix (default), the plain batched
 * reflections (opts.batch set: an odd batch of 7 exercises the slot refill),
 * and the LP alone must reach the same verdicts. */
TEST(unargmax_fast_variants_agree)
{
    size_t trials = tt_quick() ? 2 : 6, t, tokens = 0, by_fast = 0;
    tpe_rng *rng = tt_rng();
    for (t = 0; t < trials; t++) {
        size_t d = 3 + 3 * t, V = 150 + 40 * t, i, k, v;
        int withbias = (int)(t % 2);
        double *W = malloc(V * d * sizeof *W), *b = malloc(V * sizeof *b);
        tpe_unargmax_result r[3];
        for (i = 0; i < V; i++) {
            /* a shared direction makes x = W_i lose for some tokens: reflections happen */
            for (k = 0; k < d; k++) W[i * d + k] = tpe_rng_normal(rng) + (k == 0 ? 2.0 : 0.0);
            b[i] = 0.5 * tpe_rng_normal(rng);
        }
        for (v = 0; v < 3; v++) {
            tpe_head h = head(W, V, d, withbias ? b : NULL);
            tpe_unargmax_opts o;
            tpe_unargmax_opts_default(&o);
            o.exact = 1;
            o.keep_witnesses = 1;
            o.batch = v == 1 ? 7 : 0;
            o.skip_fast = v == 2;
            CHECK_OK(tpe_unargmax_run(&h, &o, &r[v]));
        }
        for (i = 0; i < V; i++) {
            CHECKF(r[0].verdict[i] == r[1].verdict[i] && r[0].verdict[i] == r[2].verdict[i],
                   "d %zu token %zu: Gram %d, batched %d, LP %d", d, i, r[0].verdict[i], r[1].verdict[i], r[2].verdict[i]);
            CHECKF(r[0].verdict[i] == TPE_ARGMAXABLE || r[0].verdict[i] == TPE_UNARGMAXABLE, "token %zu undecided", i);
            by_fast += r[0].how[i] == TPE_HOW_FAST;
        }
        CHECK(r[0].fast_reflections > 0 && r[1].fast_reflections > 0);
        tokens += V;
        for (v = 0; v < 3; v++) tpe_unargmax_result_free(&r[v]);
        free(W);
        free(b);
    }
    NOTE("%zu tokens, %zu proved by the fast pass, the same verdicts three ways", tokens, by_fast);
}
