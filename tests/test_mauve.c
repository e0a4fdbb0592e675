/*
 * test_mauve.c -- k-means (kmeans.c) and MAUVE (mauve.c) against goldens
 * from tools/gen_mauve_goldens.py (numpy, scikit-learn's PCA, KMeans, auc).
 *
 * Tolerance of the curve and the area, from given counts. Every curve point
 * is exp(-5 KL) with KL a sum of m <= k + 2 terms a log(a / b) whose
 * |log(a / b)| <= L = 14 (the mixture weights keep R >= 1e-6 of P and Q:
 * log 1e6 = 13.8); each term is computed with a relative error of a few u
 * by either side (log and the products), so |KL - KL'| <= 2 (k + 2) L u,
 * the point moves by at most 5 times that, and the trapezoid areas (weights
 * summing to 1) by no more. Where numpy and this code call the same libm the
 * difference is 0: both sum in numpy's pairwise order. The worst is NOTEd.
 *
 * Feature cases: the fixtures have clusters at least 10 times farther apart
 * than they are wide and running variance sums at least 1e-6 away from 0.9
 * (the generator checks), so our k-means and sklearn's find the same
 * partition (compared exactly, up to the labels) and the same number of
 * components; the explained variance ratios agree to 100 d u (eigenvalues
 * from the covariance carry an absolute error of about d u lambda_max).
 */
#include "array.h"
#include "golden.h"
#include "kmeans.h"
#include "mauve.h"
#include "rng.h"
#include "test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const tpe_json *mauve_cases(tpe_json_doc **doc) { return golden_cases_at("golden/mauve/mauve.json", doc); }

static double curve_tol(size_t k) { return 2.0 * 5.0 * (double)(k + 2) * 14.0 * TT_EPS64; }

TEST(mauve_buckets_round_like_python)
{
    /* max(2, round(m / 10)), Python 3 rounding halves to even */
    CHECK(tpe_mauve_buckets(5, 100) == 2);
    CHECK(tpe_mauve_buckets(100, 15) == 2);   /* 1.5 -> 2 */
    CHECK(tpe_mauve_buckets(25, 25) == 2);    /* 2.5 -> 2 */
    CHECK(tpe_mauve_buckets(35, 40) == 4);    /* 3.5 -> 4 */
    CHECK(tpe_mauve_buckets(45, 45) == 4);    /* 4.5 -> 4 */
    CHECK(tpe_mauve_buckets(104, 500) == 10); /* 10.4 -> 10 */
    CHECK(tpe_mauve_buckets(105, 500) == 10); /* 10.5 -> 10 */
    CHECK(tpe_mauve_buckets(115, 500) == 12); /* 11.5 -> 12 */
    CHECK(tpe_mauve_buckets(116, 500) == 12);
    CHECK(tpe_mauve_buckets(1000, 5000) == 100);
}

TEST(mauve_numpy_sum_order)
{
    /* sums that depend on the order, with numpy.sum's results (1.24):
     * n = 9: ((1e16+1)+(1+1)) + ((1+1)+(1+1)) then -1e16: 6 (in order: 0);
     * n = 20: the 8 accumulators take a[8..15], then a[16..19] in order: 17 */
    double a[9] = {1e16, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, -1e16}, b[20];
    size_t i;
    for (i = 0; i < 20; i++) b[i] = 1.0;
    b[0] = 1e16;
    b[16] = -1e16;
    CHECKF(tpe_numpy_sum(a, 9) == 6.0, "n = 9: %.17g, numpy 6", tpe_numpy_sum(a, 9));
    CHECKF(tpe_numpy_sum(b, 20) == 17.0, "n = 20: %.17g, numpy 17", tpe_numpy_sum(b, 20));
    CHECK(tpe_numpy_sum(a, 0) == 0.0);
}

TEST(mauve_curve_matches_mauve_text_from_counts)
{
    /* each case twice: against numpy's log/exp (the tolerance) and against
     * the C library's (the "_libm" keys: bit for bit where that libm is ours,
     * so every operation and summation order is mauve-text's) */
    static const char *const keys[] = {"mauve", "mauve_star", "frontier_integral", "frontier_integral_star"};
    tpe_json_doc *doc;
    const tpe_json *cases = mauve_cases(&doc);
    double worst = 0.0;
    size_t c, seen = 0, values = 0, exact_libm = 0;
    int v;
    if (!cases) return;
    for (c = 0; c < cases->count; c++) {
        const tpe_json *g = &cases->items[c];
        size_t k, k2, nc, i;
        double *pc, *qc, tol, got[4];
        tpe_mauve_result r;
        if (strcmp(gstr(g, "kind"), "counts") != 0) continue;
        pc = garr(g, "p_counts", &k);
        qc = garr(g, "q_counts", &k2);
        tol = curve_tol(k);
        CHECK_OK(tpe_mauve_from_counts(pc, qc, k, NULL, &r));
        got[0] = r.mauve;
        got[1] = r.mauve_star;
        got[2] = r.frontier_integral;
        got[3] = r.frontier_integral_star;
        for (v = 0; v < 2; v++) {
            char key[64];
            double *curve;
            snprintf(key, sizeof key, "curve%s", v ? "_libm" : "");
            curve = garr(g, key, &nc);
            CHECKF(k == k2 && nc == 2 * r.curve_len && r.curve_len == TPE_MAUVE_POINTS + 2, "%s: shapes", gstr(g, "name"));
            for (i = 0; i < nc && i < 2 * r.curve_len; i++) {
                double e = fabs(r.curve[i] - curve[i]);
                worst = fmax(worst, e / tol);
                CHECKF(e <= tol, "%s: %s[%zu] = %.17g, mauve-text %.17g", gstr(g, "name"), key, i, r.curve[i], curve[i]);
                if (v) exact_libm += r.curve[i] == curve[i], values++;
            }
            free(curve);
            for (i = 0; i < 4; i++) {
                double want, e;
                snprintf(key, sizeof key, "%s%s", keys[i], v ? "_libm" : "");
                want = gnum(g, key);
                e = fabs(got[i] - want);
                worst = fmax(worst, e / tol);
                CHECKF(e <= tol, "%s: %s = %.17g, mauve-text %.17g", gstr(g, "name"), key, got[i], want);
                if (v) exact_libm += got[i] == want, values++;
            }
        }
        if (strcmp(gstr(g, "name"), "equal") == 0) CHECK(fabs(r.mauve - 1.0) <= tol);
        if (strcmp(gstr(g, "name"), "disjoint") == 0) CHECK(r.mauve < 0.01);
        tpe_mauve_free(&r);
        free(pc);
        free(qc);
        seen++;
    }
    CHECK(seen >= 8);
    NOTE("%zu count cases; worst |tpe - mauve-text| = %.3g of the tolerance; with the C library's log/exp %zu of %zu "
         "values bit-identical", seen, worst, exact_libm, values);
    tpe_json_free(doc);
}

/* counts as (p, q) pairs sorted, so two labelings of one partition compare equal */
static int cmp_pair(const void *a, const void *b)
{
    const double *x = a, *y = b;
    if (x[0] != y[0]) return x[0] < y[0] ? -1 : 1;
    if (x[1] != y[1]) return x[1] < y[1] ? -1 : 1;
    return 0;
}

TEST(mauve_features_match_sklearn_pipeline)
{
    tpe_json_doc *doc;
    const tpe_json *cases = mauve_cases(&doc);
    double worst_ratio = 0.0, worst_score = 0.0;
    size_t c, seen = 0;
    if (!cases) return;
    for (c = 0; c < cases->count; c++) {
        const tpe_json *g = &cases->items[c];
        const char *name = gstr(g, "name");
        char pp[256], qp[256];
        tpe_array P, Q;
        tpe_mauve_result r;
        size_t k, k2, nr, i, d;
        double *gp, *gq, *ratio, *pairs_t, *pairs_g, tol;
        if (strcmp(gstr(g, "kind"), "features") != 0) continue;
        snprintf(pp, sizeof pp, "golden/mauve/%s_P.npy", name);
        snprintf(qp, sizeof qp, "golden/mauve/%s_Q.npy", name);
        CHECK_OK(tpe_npy_read_f64(pp, &P));
        CHECK_OK(tpe_npy_read_f64(qp, &Q));
        d = P.shape[1];
        CHECK_OK(tpe_mauve_features(P.data, P.shape[0], Q.data, Q.shape[0], d, NULL, &r));
        CHECKF(r.buckets == (size_t)gnum(g, "buckets"), "%s: %zu buckets, mauve-text %g", name, r.buckets, gnum(g, "buckets"));
        CHECKF(r.pca_dims == (size_t)gnum(g, "pca_dims"), "%s: %zu components, mauve-text %g", name, r.pca_dims,
               gnum(g, "pca_dims"));
        /* the running share of the kept components */
        ratio = garr(g, "explained_variance_ratio", &nr);
        {
            double cum = 0.0, e;
            for (i = 0; i < r.pca_dims && i < nr; i++) cum += ratio[i];
            e = fabs(cum - r.pca_explained);
            worst_ratio = fmax(worst_ratio, e / (100.0 * (double)d * TT_EPS64));
            CHECKF(e <= 100.0 * (double)d * TT_EPS64, "%s: kept variance %.17g, sklearn %.17g", name, r.pca_explained, cum);
        }
        /* the same partition: (p count, q count) pairs equal as multisets */
        gp = garr(g, "p_counts", &k);
        gq = garr(g, "q_counts", &k2);
        CHECK(k == r.buckets && k2 == k);
        pairs_t = malloc(2 * k * sizeof *pairs_t);
        pairs_g = malloc(2 * k * sizeof *pairs_g);
        for (i = 0; i < k && i < r.buckets; i++) {
            pairs_t[2 * i] = r.p_hist[i] * (double)r.n_p;
            pairs_t[2 * i + 1] = r.q_hist[i] * (double)r.n_q;
            pairs_t[2 * i] = floor(pairs_t[2 * i] + 0.5);
            pairs_t[2 * i + 1] = floor(pairs_t[2 * i + 1] + 0.5);
            pairs_g[2 * i] = gp[i];
            pairs_g[2 * i + 1] = gq[i];
        }
        qsort(pairs_t, k, 2 * sizeof *pairs_t, cmp_pair);
        qsort(pairs_g, k, 2 * sizeof *pairs_g, cmp_pair);
        CHECKF(memcmp(pairs_t, pairs_g, 2 * k * sizeof *pairs_t) == 0, "%s: the clusters differ from sklearn's", name);
        tol = curve_tol(k);
        {
            double e1 = fabs(r.mauve - gnum(g, "mauve")), e2 = fabs(r.mauve_star - gnum(g, "mauve_star"));
            double e3 = fabs(r.frontier_integral - gnum(g, "frontier_integral"));
            worst_score = fmax(worst_score, fmax(e1, fmax(e2, e3)) / tol);
            CHECKF(e1 <= tol, "%s: MAUVE %.17g, mauve-text with sklearn %.17g", name, r.mauve, gnum(g, "mauve"));
            CHECKF(e2 <= tol, "%s: MAUVE* %.17g, mauve-text with sklearn %.17g", name, r.mauve_star, gnum(g, "mauve_star"));
            CHECKF(e3 <= tol, "%s: frontier integral %.17g vs %.17g", name, r.frontier_integral, gnum(g, "frontier_integral"));
        }
        if (strcmp(name, "identical") == 0) CHECKF(fabs(r.mauve - 1.0) <= tol, "MAUVE(P, P) = %.17g", r.mauve);
        if (strcmp(name, "disjoint") == 0) CHECKF(r.mauve < 0.01, "MAUVE of disjoint sets = %.17g", r.mauve);
        free(pairs_t);
        free(pairs_g);
        free(gp);
        free(gq);
        free(ratio);
        tpe_mauve_free(&r);
        tpe_array_free(&P);
        tpe_array_free(&Q);
        seen++;
    }
    CHECK(seen == 3);
    NOTE("%zu feature cases; worst variance share %.3g and score %.3g of their tolerances", seen, worst_ratio, worst_score);
    tpe_json_free(doc);
}

/* Gaussian blobs: n points around each of k centers spaced 10 apart on a line
 * in dimension d (the first coordinate), spread s */
static double *blobs(size_t k, size_t n, size_t d, double s, tpe_rng *rng)
{
    double *X = malloc(k * n * d * sizeof *X);
    size_t c, i, j;
    for (c = 0; c < k; c++)
        for (i = 0; i < n; i++)
            for (j = 0; j < d; j++) X[(c * n + i) * d + j] = (j == 0 ? 10.0 * (double)c : 0.0) + s * tpe_rng_normal(rng);
    return X;
}

TEST(kmeans_finds_separated_clusters)
{
    const size_t k = 4, n = 25, d = 3;
    double *X = blobs(k, n, d, 0.3, tt_rng());
    tpe_kmeans_result r;
    size_t c, i;
    CHECK_OK(tpe_kmeans(X, k * n, d, k, NULL, &r));
    /* every blob is one cluster */
    for (c = 0; c < k; c++)
        for (i = 1; i < n; i++) CHECK(r.labels[c * n + i] == r.labels[c * n]);
    for (c = 1; c < k; c++) CHECK(r.labels[c * n] != r.labels[0]);
    CHECK(r.converged);
    /* every point is assigned to its nearest final center, and the inertia
     * is the sum of those squared distances */
    {
        double inertia = 0.0;
        for (i = 0; i < k * n; i++) {
            double best = HUGE_VAL, own = 0.0;
            size_t j, q;
            for (q = 0; q < k; q++) {
                double s = 0.0;
                for (j = 0; j < d; j++) s += (X[i * d + j] - r.centers[q * d + j]) * (X[i * d + j] - r.centers[q * d + j]);
                if (s < best) best = s;
                if (q == r.labels[i]) own = s;
            }
            CHECK(own == best);
            inertia += own;
        }
        CHECKF(fabs(inertia - r.inertia) <= 1e-12 * inertia, "inertia %.17g, recomputed %.17g", r.inertia, inertia);
    }
    tpe_kmeans_free(&r);
    free(X);
}

TEST(kmeans_edge_cases)
{
    double X[6] = {0, 0, 1, 1, 0, 0}; /* points (0,0), (1,1), (0,0) */
    tpe_kmeans_result r, r2;
    tpe_kmeans_opts o;
    /* k = n: every distinct point its own cluster, inertia 0 */
    CHECK_OK(tpe_kmeans(X, 3, 2, 2, NULL, &r));
    CHECK(r.inertia == 0.0);
    CHECK(r.labels[0] == r.labels[2] && r.labels[0] != r.labels[1]);
    tpe_kmeans_free(&r);
    /* three clusters for two distinct points: no center lost, no NaN */
    CHECK_OK(tpe_kmeans(X, 3, 2, 3, NULL, &r));
    CHECK(r.inertia == 0.0 && !isnan(r.centers[0]));
    tpe_kmeans_free(&r);
    /* the same seed gives the same result */
    {
        double *B = blobs(5, 20, 4, 3.0, tt_rng());
        tpe_kmeans_opts_default(&o);
        o.seed = 7;
        CHECK_OK(tpe_kmeans(B, 100, 4, 5, &o, &r));
        CHECK_OK(tpe_kmeans(B, 100, 4, 5, &o, &r2));
        CHECK(r.inertia == r2.inertia && memcmp(r.labels, r2.labels, 100 * sizeof *r.labels) == 0);
        tpe_kmeans_free(&r);
        tpe_kmeans_free(&r2);
        free(B);
    }
    CHECK_ERR(tpe_kmeans(X, 3, 2, 4, NULL, &r), TPE_EINVAL, "4 clusters for 3 points");
    CHECK_ERR(tpe_kmeans(X, 3, 2, 0, NULL, &r), TPE_EINVAL, "0 clusters");
    X[3] = (double)NAN;
    CHECK_ERR(tpe_kmeans(X, 3, 2, 2, NULL, &r), TPE_EFORMAT, "NaN");
}

TEST(mauve_self_is_one_and_disjoint_near_zero)
{
    /* features of random texts are not needed: random points in 20
     * dimensions, P against itself, and two far-apart families */
    const size_t n = 60, d = 20;
    tpe_rng *rng = tt_rng();
    double *P = malloc(n * d * sizeof *P), *Q = malloc(n * d * sizeof *Q);
    tpe_mauve_result r;
    size_t i, j;
    for (i = 0; i < n * d; i++) P[i] = tpe_rng_normal(rng);
    CHECK_OK(tpe_mauve_features(P, n, P, n, d, NULL, &r));
    CHECKF(fabs(r.mauve - 1.0) <= curve_tol(r.buckets), "MAUVE(P, P) = %.17g", r.mauve);
    CHECK(r.buckets == 6 && r.n_p == n && r.n_q == n);
    NOTE("MAUVE(P, P) - 1 = %.3g with %zu buckets and %zu components", r.mauve - 1.0, r.buckets, r.pca_dims);
    tpe_mauve_free(&r);
    /* P near +e_0, Q near -e_0: every cluster holds one side only */
    for (i = 0; i < n; i++)
        for (j = 0; j < d; j++) {
            P[i * d + j] = (j == 0 ? 10.0 : 0.0) + 0.1 * tpe_rng_normal(rng);
            Q[i * d + j] = (j == 0 ? -10.0 : 0.0) + 0.1 * tpe_rng_normal(rng);
        }
    CHECK_OK(tpe_mauve_features(P, n, Q, n, d, NULL, &r));
    CHECKF(r.mauve < 0.01, "MAUVE of disjoint sets = %.17g", r.mauve);
    NOTE("MAUVE of disjoint sets = %.3g", r.mauve);
    tpe_mauve_free(&r);
    CHECK_ERR(tpe_mauve_features(P, 0, Q, n, d, NULL, &r), TPE_EINVAL, "P has no samples");
    P[5] = (double)INFINITY;
    CHECK_ERR(tpe_mauve_features(P, n, Q, n, d, NULL, &r), TPE_EFORMAT, "P features");
    free(P);
    free(Q);
}

TEST(mauve_all_equal_features)
{
    /* no variance at all: one component (numpy.argmax of all-false), one
     * occupied cluster, MAUVE 1 */
    double P[12], Q[9];
    tpe_mauve_result r;
    size_t i;
    for (i = 0; i < 12; i++) P[i] = 1.0;
    for (i = 0; i < 9; i++) Q[i] = 2.0; /* the same direction: equal after normalization */
    CHECK_OK(tpe_mauve_features(P, 4, Q, 3, 3, NULL, &r));
    CHECK(r.pca_dims == 1);
    CHECKF(fabs(r.mauve - 1.0) <= curve_tol(2), "MAUVE %.17g", r.mauve);
    tpe_mauve_free(&r);
}
