/*
 * test_pca.c -- the symmetric eigensolver (eig.c) and PCA (pca.c).
 *
 * The eigensolver is backward stable: ||A Z - Z diag(w)|| <= c n u ||A|| and
 * ||Z^T Z - I|| <= c n u (Golub & Van Loan 8.3); the tests allow c = 8.
 * PCA is checked against numpy.linalg.eigh on designed spectra (separated,
 * mixed, close, exactly repeated, tall 20000 x 64) that tools/
 * gen_numerics_goldens.py and pca_design() below build with the same
 * operations: eigenvalues within 1e-10 relative, and eigenvectors up to sign
 * where the gap allows: sin(angle) <= residual / gap, and both residuals are
 * below ~1e-11 lambda_1, so min ||v -+ v_numpy|| <= 1e-9 / relgap is
 * required wherever the relative gap exceeds 1e-6.
 */
#include "eig.h"
#include "gemm.h"
#include "golden.h"
#include "pca.h"
#include "rng.h"
#include "test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define U TT_EPS64

/* ---- the eigensolver ---------------------------------------------------------------- */

/* max |A Z - Z diag(w)| / (n u ||A||_max n) and max |Z^T Z - I| / (n u) */
static void eig_errors(size_t n, const double *A, const double *w, const double *Z, double *res, double *orth)
{
    double amax = 0.0;
    size_t i, j, c;
    *res = *orth = 0.0;
    for (i = 0; i < n * n; i++) amax = fmax(amax, fabs(A[i]));
    if (amax == 0.0) amax = 1.0;
    for (j = 0; j < n; j++)
        for (i = 0; i < n; i++) {
            double s = 0.0, o = 0.0;
            for (c = 0; c < n; c++) {
                s += A[i + c * n] * Z[c + j * n];
                o += Z[c + i * n] * Z[c + j * n];
            }
            s -= w[j] * Z[i + j * n];
            o -= (double)(i == j);
            *res = fmax(*res, fabs(s) / (8.0 * (double)n * (double)n * U * amax));
            *orth = fmax(*orth, fabs(o) / (8.0 * (double)n * U));
        }
}

TEST(eig_symmetric_is_backward_stable)
{
    const size_t sizes[] = {1, 2, 3, 10, 50, 130};
    double worst_r = 0.0, worst_o = 0.0;
    size_t s, kind;
    for (s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
        for (kind = 0; kind < 5; kind++) {
            size_t n = sizes[s], i, j;
            double *A = malloc(n * n * sizeof *A), *W = malloc(n * n * sizeof *W), *Z = malloc(n * n * sizeof *Z);
            double *w = malloc(n * sizeof *w), *u = malloc(n * sizeof *u), res, orth;
            for (i = 0; i < n; i++) u[i] = 2.0 * tpe_rng_uniform(tt_rng()) - 1.0;
            for (j = 0; j < n; j++)
                for (i = j; i < n; i++) {
                    double v;
                    switch (kind) {
                    case 0: v = 2.0 * tpe_rng_uniform(tt_rng()) - 1.0; break;    /* random          */
                    case 1: v = (double)(i == j) + u[i] * u[j]; break;           /* I + u u^T: n-1 ones */
                    case 2: v = i == j ? ldexp(1.0, -(int)i) : 0.0; break;       /* graded diagonal */
                    case 3: v = 0.0; break;                                      /* zero            */
                    default: v = i == j ? 2.0 : (i == j + 1 ? -1.0 : 0.0); break; /* tridiagonal    */
                    }
                    A[i + j * n] = A[j + i * n] = v;
                }
            memcpy(W, A, n * n * sizeof *A);
            CHECK_OK(tpe_syev(n, W, n, w, Z, n));
            for (i = 1; i < n; i++) CHECKF(w[i - 1] <= w[i], "n %zu kind %zu: eigenvalues not ascending", n, kind);
            eig_errors(n, A, w, Z, &res, &orth);
            worst_r = fmax(worst_r, res);
            worst_o = fmax(worst_o, orth);
            if (kind == 4 && n > 1) {
                /* the second-difference matrix: w_k = 2 - 2 cos(k pi / (n + 1)) */
                for (i = 0; i < n; i++)
                    CHECKF(fabs(w[i] - (2.0 - 2.0 * cos((double)(i + 1) * 3.14159265358979323846 / (double)(n + 1)))) <=
                               8.0 * (double)n * U * 4.0,
                           "n %zu: w[%zu] = %.17g", n, i, w[i]);
            }
            free(A), free(W), free(Z), free(w), free(u);
        }
    NOTE("||AZ - Z diag(w)|| / (8 n^2 u max|A|) = %.3g, ||Z^T Z - I|| / (8 n u) = %.3g", worst_r, worst_o);
    CHECK(worst_r <= 1.0 && worst_o <= 1.0);
}

TEST(eig_rejects_non_finite)
{
    double A[4] = {1.0, (double)NAN, (double)NAN, 1.0}, w[2], Z[4];
    CHECK_ERR(tpe_syev(2, A, 2, w, Z, 2), TPE_EINVAL, "A[1,0]");
}

/* ---- PCA ------------------------------------------------------------------------------ */

static double hadamard(size_t i, size_t j)
{
    size_t v = i & j;
    int parity = 0;
    while (v) {
        parity ^= (int)(v & 1u);
        v >>= 1;
    }
    return parity ? -1.0 : 1.0;
}

/* tools/gen_numerics_goldens.py's pca_design, same operations in the same order */
static double *pca_design(int hadamard_kind, size_t n, size_t d, uint64_t seed, const double *s)
{
    double *X = calloc(n * d, sizeof *X), *Z = malloc(n * d * sizeof *Z);
    double scale = d == 4 ? 0.5 : d == 16 ? 0.25 : 0.125;
    size_t i, j, l;
    tpe_rng r;
    tpe_rng_seed(&r, seed);
    for (i = 0; i < n; i++)
        for (l = 0; l < d; l++) Z[i * d + l] = hadamard_kind ? hadamard(i, l + 1) : 2.0 * tpe_rng_uniform(&r) - 1.0;
    for (l = 0; l < d; l++)
        for (i = 0; i < n; i++)
            for (j = 0; j < d; j++) X[i * d + j] = X[i * d + j] + (Z[i * d + l] * s[l]) * (hadamard(l, j) * scale);
    free(Z);
    return X;
}

TEST(pca_matches_numpy_eigh)
{
    tpe_json_doc *doc;
    const tpe_json *cases = golden_cases("pca.json", &doc);
    double worst_w = 0.0, worst_v = 0.0;
    size_t c;
    char notes[512] = "";
    if (!cases) return;
    for (c = 0; c < cases->count; c++) {
        const tpe_json *g = &cases->items[c];
        size_t n = (size_t)gnum(g, "n"), d = (size_t)gnum(g, "d"), ns, nw, ng, nv, dv, path;
        double *s = garr(g, "s", &ns), *w = garr(g, "eigenvalues", &nw), *gaps = garr(g, "gaps", &ng);
        double *V = garr2(g, "vectors", &nv, &dv), *X;
        int had = strcmp(gstr(g, "kind"), "hadamard") == 0;
        X = pca_design(had, n, d, (uint64_t)gnum(g, "seed"), s);
        for (path = 0; path < 2; path++) {
            tpe_pca_opts o;
            tpe_pca_result r;
            size_t k = path == 0 ? d : d / 2 - 2, i, j;
            int rc;
            tpe_pca_opts_default(&o);
            o.force_full = path == 0;
            o.force_iterate = path == 1;
            rc = tpe_pca(X, n, d, k, &o, &r);
            CHECKF(rc == TPE_OK, "%s (%s): %s", gstr(g, "name"), path ? "subspace" : "dense", tpe_errmsg());
            if (rc) {
                tpe_pca_free(&r);
                continue;
            }
            CHECK(r.k == k && r.full == (path == 0));
            for (i = 0; i < k; i++) {
                double e = relerr(r.explained_variance[i], w[i]);
                worst_w = fmax(worst_w, e);
                CHECKF(e <= 1e-10, "%s (%s): lambda_%zu = %.17g, numpy %.17g", gstr(g, "name"), path ? "subspace" : "dense",
                       i, r.explained_variance[i], w[i]);
                if (i < nv && gaps[i] > 1e-6) {
                    /* up to sign: vectors with equal-magnitude entries (the
                     * Hadamard designs) make the sign convention a tie */
                    double dm = 0.0, dp = 0.0, dist, bound = fmin(1.0, 1e-9 / gaps[i]);
                    for (j = 0; j < d; j++) {
                        double a = r.components[i * d + j], b = V[i * dv + j];
                        dm += (a - b) * (a - b);
                        dp += (a + b) * (a + b);
                    }
                    dist = sqrt(fmin(dm, dp));
                    worst_v = fmax(worst_v, dist / bound);
                    CHECKF(dist <= bound, "%s (%s): component %zu differs by %.3g (bound %.3g)", gstr(g, "name"),
                           path ? "subspace" : "dense", i, dist, bound);
                }
            }
            if (path == 1)
                snprintf(notes + strlen(notes), sizeof notes - strlen(notes), "%s%s %zu it", c ? ", " : "", gstr(g, "name"),
                         r.iterations);
            tpe_pca_free(&r);
        }
        free(s), free(w), free(gaps), free(V), free(X);
    }
    NOTE("eigenvalue rel. error = %.3g (bound 1e-10), vector error / (1e-9 / relgap) = %.3g; subspace iterations: %s", worst_w,
         worst_v, notes);
    tpe_json_free(doc);
}

/* The repeated eigenvalues of the Hadamard design are exact: n d s^2 /
 * ((n - 1) d) with s repeated; every returned vector has a small residual
 * and the vectors of a repeated eigenvalue are orthonormal. */
TEST(pca_repeated_eigenvalues_exact)
{
    const double s[16] = {8, 8, 8, 4, 4, 2, 1, 1, 1, 1, 0.5, 0.25, 0.25, 0.125, 0.0625, 0.03125};
    const size_t n = 256, d = 16;
    double *X = pca_design(1, n, d, 0, s), *C = malloc(d * d * sizeof *C), *mean = malloc(d * sizeof *mean);
    size_t path, i, j, l;
    CHECK_OK(tpe_covariance(X, n, d, mean, C));
    for (path = 0; path < 2; path++) {
        tpe_pca_opts o;
        tpe_pca_result r;
        size_t k = path == 0 ? d : 5;
        double worst = 0.0, worst_o = 0.0;
        tpe_pca_opts_default(&o);
        o.force_iterate = path == 1;
        CHECK_OK(tpe_pca(X, n, d, k, &o, &r));
        for (i = 0; i < r.k; i++) {
            /* sorted s: the exact eigenvalue is n s_i^2 / (n - 1) scaled by the
             * Hadamard mixing (H H^T = d I times scale^2 = 1/d) */
            double want = (double)n * s[i] * s[i] / (double)(n - 1), res = 0.0;
            /* normwise accuracy: |error| <= 8 d u lambda_1 for every eigenvalue */
            CHECKF(fabs(r.explained_variance[i] - want) <= 8.0 * (double)d * U * r.explained_variance[0],
                   "lambda_%zu = %.17g, exact %.17g", i, r.explained_variance[i], want);
            for (j = 0; j < d; j++) {
                double cv = 0.0;
                for (l = 0; l < d; l++) cv += C[j * d + l] * r.components[i * d + l];
                res += (cv - r.explained_variance[i] * r.components[i * d + j]) *
                       (cv - r.explained_variance[i] * r.components[i * d + j]);
            }
            worst = fmax(worst, sqrt(res) / r.explained_variance[0]);
            for (j = 0; j < r.k; j++) {
                double dot = 0.0;
                for (l = 0; l < d; l++) dot += r.components[i * d + l] * r.components[j * d + l];
                worst_o = fmax(worst_o, fabs(dot - (double)(i == j)));
            }
        }
        NOTE("%s: max ||C v - lambda v|| / lambda_1 = %.3g, max |V V^T - I| = %.3g", path ? "subspace" : "dense", worst,
             worst_o);
        CHECK(worst <= TPE_PCA_TOL && worst_o <= 64.0 * (double)d * U);
        tpe_pca_free(&r);
    }
    free(X), free(C), free(mean);
}

/* SPEC conventions: unit rows with the largest entry positive, scores =
 * Xc comps^T, ratios summing to 1 over all components, centring. */
TEST(pca_conventions_and_scores)
{
    const double s[4] = {4.0, 2.0, 1.0, 0.5};
    const size_t n = 60, d = 4;
    double *X = pca_design(0, n, d, 42, s), ratio = 0.0, worst = 0.0;
    tpe_pca_opts o;
    tpe_pca_result r;
    size_t i, j, l;
    for (i = 0; i < n * d; i++) X[i] += 3.0;
    tpe_pca_opts_default(&o);
    o.want_scores = 1;
    CHECK_OK(tpe_pca(X, n, d, 0, &o, &r));
    CHECK(r.k == d && r.scores != NULL);
    for (i = 0; i < r.k; i++) {
        double norm = 0.0, big = 0.0, at = 0.0;
        for (j = 0; j < d; j++) {
            norm += r.components[i * d + j] * r.components[i * d + j];
            if (fabs(r.components[i * d + j]) > big) {
                big = fabs(r.components[i * d + j]);
                at = r.components[i * d + j];
            }
        }
        CHECK(fabs(norm - 1.0) <= 16.0 * U && at > 0.0);
        ratio += r.explained_variance_ratio[i];
        if (i) CHECK(r.explained_variance[i] <= r.explained_variance[i - 1]);
    }
    CHECK(fabs(ratio - 1.0) <= 16.0 * U);
    for (i = 0; i < n; i++)
        for (l = 0; l < r.k; l++) {
            double sc = 0.0;
            for (j = 0; j < d; j++) sc += (X[i * d + j] - r.mean[j]) * r.components[l * d + j];
            worst = fmax(worst, fabs(sc - r.scores[i * r.k + l]));
        }
    NOTE("max |score - Xc v| = %.3g", worst);
    CHECK(worst <= 64.0 * U * 10.0);
    for (j = 0; j < d; j++) CHECK(fabs(r.mean[j] - 3.0) < 1.0);
    tpe_pca_free(&r);
    /* a variance fraction picks the fewest leading components reaching it */
    o.var_fraction = 0.9;
    o.want_scores = 0;
    CHECK_OK(tpe_pca(X, n, d, 0, &o, &r));
    ratio = 0.0;
    for (i = 0; i < r.k; i++) ratio += r.explained_variance_ratio[i];
    CHECK(ratio >= 0.9 && ratio - r.explained_variance_ratio[r.k - 1] < 0.9);
    tpe_pca_free(&r);
    free(X);
}

TEST(pca_reports_non_convergence_and_bad_input)
{
    const double s[16] = {10, 9.99999, 9.9, 5, 4.9999, 4.99, 3, 2, 1.5, 1.2, 1, 0.9, 0.8, 0.7, 0.6, 0.5};
    double *X = pca_design(1, 512, 16, 0, s);
    tpe_pca_opts o;
    tpe_pca_result r;
    tpe_pca_opts_default(&o);
    o.force_iterate = 1;
    o.max_iter = 1;
    o.block = 3;
    CHECK_ERR(tpe_pca(X, 512, 16, 2, &o, &r), TPE_ENUMERIC, "no convergence after 1 iteration");
    CHECK(r.converged == 0 && r.iterations == 1 && r.explained_variance != NULL);
    tpe_pca_free(&r);
    CHECK_ERR(tpe_pca(X, 1, 16, 2, NULL, &r), TPE_EINVAL, "at least 2 rows");
    CHECK_ERR(tpe_pca(X, 512, 16, 17, NULL, &r), TPE_EINVAL, "exceeds");
    X[37] = (double)NAN;
    CHECK_ERR(tpe_pca(X, 512, 16, 2, NULL, &r), -1, "X: element [2, 5] is NaN");
    free(X);
}
