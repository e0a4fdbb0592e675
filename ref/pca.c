/*
 * pca.c -- PCA by Chebyshev-filtered block power iteration with
 * Rayleigh-Ritz (see pca.h for the method, tolerances and conventions).
 * Blocks of vectors are column-major d x p (column i is vector i), the
 * layout of qr.c and eig.c; cm_gemm maps their products onto the row-major
 * GEMM as in qr.c.
 */
#include "pca.h"

#include "array.h"
#include "eig.h"
#include "gemm.h"
#include "qr.h"
#include "rng.h"
#include "tpe.h"

#include <float.h>
#include <math.h>
#include <string.h>

#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

/* rows of X centred at a time, and the width of the lower block columns of C */
#ifndef COV_ROWS
#define COV_ROWS 512
#endif
#ifndef COV_BW
#define COV_BW 192
#endif

static void cm_gemm(tpe_trans ta, tpe_trans tb, size_t m, size_t n, size_t k, double alpha, const double *A,
                    size_t lda, const double *B, size_t ldb, double beta, double *C, size_t ldc)
{
    tpe_dgemm(tb, ta, n, m, k, alpha, B, ldb, A, lda, beta, C, ldc);
}

void tpe_pca_opts_default(tpe_pca_opts *o)
{
    memset(o, 0, sizeof *o);
}

void tpe_pca_free(tpe_pca_result *r)
{
    if (!r) return;
    tpe_free(r->mean);
    tpe_free(r->components);
    tpe_free(r->explained_variance);
    tpe_free(r->explained_variance_ratio);
    tpe_free(r->scores);
    memset(r, 0, sizeof *r);
}

/* ---- the covariance ----------------------------------------------------- */

/* column means in two passes (the plain mean, then the mean deviation) */
static void column_means(const double *X, size_t n, size_t d, double *mean, double *work)
{
    size_t i, j;
    memset(mean, 0, d * sizeof *mean);
    memset(work, 0, d * sizeof *work);
    for (i = 0; i < n; i++)
        for (j = 0; j < d; j++) mean[j] += X[i * d + j];
    for (j = 0; j < d; j++) mean[j] /= (double)n;
    for (i = 0; i < n; i++)
        for (j = 0; j < d; j++) work[j] += X[i * d + j] - mean[j];
    for (j = 0; j < d; j++) mean[j] += work[j] / (double)n;
}

/* B (rows x d) = X[i0:i0+rows, :] - mean */
static void centre_rows(const double *X, size_t d, size_t i0, size_t rows, const double *mean, double *B)
{
    size_t i, j;
    for (i = 0; i < rows; i++) {
        const double *x = X + (i0 + i) * d;
        double *b = B + i * d;
        for (j = 0; j < d; j++) b[j] = x[j] - mean[j];
    }
}

static int covariance(const double *X, size_t n, size_t d, double *mean, double *C, tpe_progress *progress)
{
    double *B, *work;
    size_t i0, j0, i, j, dd;
    if (n < 2) return tpe_error(TPE_EINVAL, "PCA needs at least 2 rows, got %zu", n);
    if (tpe_size_mul(d, d, &dd)) return tpe_error(TPE_ENOMEM, "PCA: d = %zu is too large", d);
    B = tpe_alloc_array((size_t)COV_ROWS * d, sizeof *B, "centred rows");
    work = tpe_alloc_array(d, sizeof *work, "means");
    if (!B || !work) {
        tpe_free(B);
        tpe_free(work);
        return TPE_ENOMEM;
    }
    column_means(X, n, d, mean, work);
    memset(C, 0, dd * sizeof *C);
    for (i0 = 0; i0 < n; i0 += COV_ROWS) {
        size_t rows = MIN((size_t)COV_ROWS, n - i0);
        centre_rows(X, d, i0, rows, mean, B);
        /* lower block columns: C[j0:, j0:j0+bw] += B[:, j0:]^T B[:, j0:j0+bw] */
        for (j0 = 0; j0 < d; j0 += COV_BW) {
            size_t bw = MIN((size_t)COV_BW, d - j0);
            tpe_dgemm(TPE_TRANS, TPE_NO_TRANS, d - j0, bw, rows, 1.0, B + j0, d, B + j0, d, 1.0, C + j0 * d + j0, d);
        }
        if (progress) tpe_progress_update(progress, (double)(i0 + rows) / (double)n);
    }
    /* scale the lower triangle and mirror it, so C is exactly symmetric */
    for (i = 0; i < d; i++)
        for (j = 0; j <= i; j++) {
            double v = C[i * d + j] / (double)(n - 1);
            C[i * d + j] = v;
            C[j * d + i] = v;
        }
    tpe_free(B);
    tpe_free(work);
    return TPE_OK;
}

int tpe_covariance(const double *X, size_t n, size_t d, double *mean, double *C)
{
    return covariance(X, n, d, mean, C, NULL);
}

/* ---- block helpers ---------------------------------------------------------- */

/* V (d x p) <- an orthonormal basis of its columns: Householder QR, then the
 * thin Q = Q [I; 0]. tau (p) and Q (d x p) are work. */
static int orthonormalize(size_t d, size_t p, double *V, double *tau, double *Q)
{
    size_t j;
    int rc = tpe_qr(d, p, V, d, tau);
    if (rc) return rc;
    memset(Q, 0, d * p * sizeof *Q);
    for (j = 0; j < p; j++) Q[j + j * d] = 1.0;
    rc = tpe_qr_apply(0, d, p, p, V, d, tau, Q, d);
    if (!rc) memcpy(V, Q, d * p * sizeof *V);
    return rc;
}

/* Rayleigh-Ritz on span(V) (d x p, orthonormal) given W = C V: theta
 * (descending), U = V S, CU = W S. H, S (p x p) and w (p) are work. */
static int rayleigh_ritz(size_t d, size_t p, const double *V, const double *W, double *theta, double *U, double *CU,
                         double *H, double *S, double *w)
{
    size_t i, j;
    int rc;
    cm_gemm(TPE_TRANS, TPE_NO_TRANS, p, p, d, 1.0, V, d, W, d, 0.0, H, p);
    for (j = 0; j < p; j++)
        for (i = j + 1; i < p; i++) {
            double a = 0.5 * (H[i + j * p] + H[j + i * p]);
            H[i + j * p] = H[j + i * p] = a;
        }
    if ((rc = tpe_syev(p, H, p, w, S, p))) return rc;
    /* descending: reverse the columns of S into H */
    for (j = 0; j < p; j++) {
        theta[j] = w[p - 1 - j];
        memcpy(H + j * p, S + (p - 1 - j) * p, p * sizeof *H);
    }
    cm_gemm(TPE_NO_TRANS, TPE_NO_TRANS, d, p, p, 1.0, V, d, H, p, 0.0, U, d);
    cm_gemm(TPE_NO_TRANS, TPE_NO_TRANS, d, p, p, 1.0, W, d, H, p, 0.0, CU, d);
    return TPE_OK;
}

/* largest ||CU_i - theta_i U_i|| over i < k */
static double max_residual(size_t d, size_t k, const double *U, const double *CU, const double *theta)
{
    double worst = 0.0;
    size_t i, j;
    for (i = 0; i < k; i++) {
        double s = 0.0;
        for (j = 0; j < d; j++) {
            double r = CU[j + i * d] - theta[i] * U[j + i * d];
            s += r * r;
        }
        s = sqrt(s);
        if (!(s <= worst)) worst = s;
    }
    return worst;
}

/*
 * Chebyshev filter of degree m on [0, b] applied to the block X0 = U with
 * C X0 = CU known:  with e = c = b/2,
 *     Y_1 = (C X0 - c X0) / e,   Y_{j+1} = (2/e)(C Y_j - c Y_j) - Y_{j-1},
 * the three-term recurrence of T_j((t - c)/e). Result in Y.
 */
static void chebyshev(size_t d, size_t p, size_t m, double b, const double *C, const double *U, const double *CU,
                      double *Y, double *Yprev, double *Z)
{
    double e = 0.5 * b, c = 0.5 * b;
    size_t i, j, deg;
    for (i = 0; i < d * p; i++) {
        Yprev[i] = U[i];
        Y[i] = (CU[i] - c * U[i]) / e;
    }
    for (deg = 2; deg <= m; deg++) {
        cm_gemm(TPE_NO_TRANS, TPE_NO_TRANS, d, p, d, 1.0, C, d, Y, d, 0.0, Z, d);
        for (j = 0; j < d * p; j++) {
            double ynew = (2.0 / e) * (Z[j] - c * Y[j]) - Yprev[j];
            Yprev[j] = Y[j];
            Y[j] = ynew;
        }
    }
}

/* Chebyshev-filtered subspace iteration for the top k pairs (block p):
 * V (d x k) and theta (k) on return. */
static int subspace(const double *C, size_t d, size_t k, size_t p, const tpe_pca_opts *o, double tol, size_t max_iter,
                    double *V_out, double *theta_out, size_t *iters, int *converged, double *worst_out)
{
    size_t dp = d * p, i, m = o->degree ? o->degree : 8, it;
    double *buf = tpe_alloc_array(6 * dp + 3 * p * p + 3 * p, sizeof *buf, "PCA blocks");
    double *V, *W, *U, *CU, *Y, *Yp, *H, *S, *w, *theta, *tau, worst = 0.0;
    tpe_rng rng;
    int rc;
    if (!buf) return TPE_ENOMEM;
    V = buf;
    W = V + dp;
    U = W + dp;
    CU = U + dp;
    Y = CU + dp;
    Yp = Y + dp;
    H = Yp + dp;
    S = H + p * p;
    w = S + p * p;
    theta = w + p;
    tau = theta + p;
    tpe_rng_seed(&rng, o->seed ^ 0x9ca5eedull);
    for (i = 0; i < dp; i++) V[i] = tpe_rng_normal(&rng);
    if ((rc = orthonormalize(d, p, V, tau, W))) goto out;
    *converged = 0;
    for (it = 1;; it++) {
        cm_gemm(TPE_NO_TRANS, TPE_NO_TRANS, d, p, d, 1.0, C, d, V, d, 0.0, W, d);
        if ((rc = rayleigh_ritz(d, p, V, W, theta, U, CU, H, S, w))) goto out;
        worst = max_residual(d, k, U, CU, theta);
        if (o->progress) tpe_progress_update(o->progress, 1.0 + (double)it / (double)max_iter);
        if (worst <= tol * fabs(theta[0]) || it >= max_iter) {
            *converged = worst <= tol * fabs(theta[0]);
            break;
        }
        {
            /* the unwanted spectrum lies in [0, theta_p] (C is positive
             * semi-definite); keep b away from 0 so the filter stays finite */
            double b = MAX(theta[p - 1], 1e-8 * theta[0]);
            chebyshev(d, p, m, b, C, U, CU, Y, Yp, W);
        }
        memcpy(V, Y, dp * sizeof *V);
        if ((rc = orthonormalize(d, p, V, tau, W))) goto out;
    }
    memcpy(V_out, U, d * k * sizeof *V_out);
    memcpy(theta_out, theta, k * sizeof *theta_out);
    *iters = it;
    *worst_out = worst;
out:
    tpe_free(buf);
    return rc;
}

/* ---- the driver --------------------------------------------------------------- */

int tpe_pca(const double *X, size_t n, size_t d, size_t k, const tpe_pca_opts *opts, tpe_pca_result *out)
{
    tpe_pca_opts o;
    double *C = NULL, *A = NULL, *Z = NULL, *w = NULL, *V = NULL, *theta = NULL, *W = NULL, tol, total = 0.0;
    size_t nd, dd, i, j, p, max_iter;
    int rc = TPE_OK, full;
    if (opts) o = *opts;
    else tpe_pca_opts_default(&o);
    memset(out, 0, sizeof *out);
    if (n < 2) return tpe_error(TPE_EINVAL, "PCA needs at least 2 rows, got %zu", n);
    if (d == 0) return tpe_error(TPE_EINVAL, "PCA needs at least 1 column");
    if (k > d) return tpe_error(TPE_EINVAL, "PCA: k = %zu exceeds the dimension d = %zu", k, d);
    if (k == 0) k = d;
    if (!(o.var_fraction >= 0.0 && o.var_fraction <= 1.0))
        return tpe_error(TPE_EINVAL, "PCA: variance fraction %g is not in [0, 1]", o.var_fraction);
    if (tpe_size_mul(n, d, &nd) || tpe_size_mul(d, d, &dd))
        return tpe_error(TPE_ENOMEM, "PCA: %zu x %zu is too large", n, d);
    if ((rc = tpe_check_finite_f64(X, nd, d, "X"))) return rc;
    tol = o.tol > 0.0 ? o.tol : TPE_PCA_TOL;
    max_iter = o.max_iter ? o.max_iter : 500;
    p = o.block ? MAX(o.block, k) : k + MAX((size_t)8, k / 4);
    if (p > d) p = d;
    full = o.force_full || o.var_fraction > 0.0 || (!o.force_iterate && (p >= d || 16 * p > d));
    if (p >= d) p = d; /* a block of d vectors is the whole space: one exact Rayleigh-Ritz step */
    out->n = n;
    out->d = d;
    out->mean = tpe_alloc_array(d, sizeof *out->mean, "PCA mean");
    C = tpe_alloc_array(dd, sizeof *C, "covariance");
    V = tpe_alloc_array(d * k, sizeof *V, "PCA components");
    theta = tpe_alloc_array(d, sizeof *theta, "PCA eigenvalues");
    if (!out->mean || !C || !V || !theta) {
        rc = TPE_ENOMEM;
        goto out;
    }
    if (o.progress) o.progress->total = 2.0;
    if ((rc = covariance(X, n, d, out->mean, C, o.progress))) goto out;
    for (i = 0; i < d; i++) total += C[i * d + i];
    out->total_variance = total;
    if (full) {
        A = tpe_alloc_array(dd, sizeof *A, "eigenproblem");
        Z = tpe_alloc_array(dd, sizeof *Z, "eigenvectors");
        w = tpe_alloc_array(d, sizeof *w, "eigenvalues");
        if (!A || !Z || !w) {
            rc = TPE_ENOMEM;
            goto out;
        }
        memcpy(A, C, dd * sizeof *A);
        if ((rc = tpe_syev(d, A, d, w, Z, d))) goto out;
        for (i = 0; i < d; i++) theta[i] = w[d - 1 - i];
        if (o.var_fraction > 0.0) {
            /* the fewest leading components reaching the fraction (within k) */
            double cum = 0.0;
            size_t kk = 0;
            while (kk < k && (kk == 0 || cum < o.var_fraction * total)) cum += theta[kk++];
            k = kk;
        }
        for (i = 0; i < k; i++) memcpy(V + i * d, Z + (d - 1 - i) * d, d * sizeof *V);
        out->iterations = 1;
        out->converged = 1;
        out->full = 1;
    } else {
        double worst = 0.0;
        rc = subspace(C, d, k, p, &o, tol, max_iter, V, theta, &out->iterations, &out->converged, &worst);
        if (rc) goto out;
    }
    out->k = k;
    /* the residuals of what is returned, against C itself */
    W = tpe_alloc_array(d * k, sizeof *W, "PCA residuals");
    if (!W) {
        rc = TPE_ENOMEM;
        goto out;
    }
    cm_gemm(TPE_NO_TRANS, TPE_NO_TRANS, d, k, d, 1.0, C, d, V, d, 0.0, W, d);
    out->max_residual = max_residual(d, k, V, W, theta) / (theta[0] > 0.0 ? theta[0] : 1.0);
    /* sign: the largest-magnitude entry of each component positive. Entries
     * within 1e-12 relative of the largest count as tied and the first of
     * them decides, so rounding (one kernel path or another) cannot flip a
     * component whose entries are equal in magnitude. */
    for (i = 0; i < k; i++) {
        double *v = V + i * d, big = 0.0;
        size_t at = 0;
        for (j = 0; j < d; j++)
            if (fabs(v[j]) > big) big = fabs(v[j]);
        while (at < d && !(fabs(v[at]) >= big * (1.0 - 1e-12))) at++;
        if (at < d && v[at] < 0.0)
            for (j = 0; j < d; j++) v[j] = -v[j];
    }
    out->components = V; /* column-major d x k is row-major k x d */
    V = NULL;
    out->explained_variance = tpe_alloc_array(k, sizeof *out->explained_variance, "explained variance");
    out->explained_variance_ratio = tpe_alloc_array(k, sizeof *out->explained_variance_ratio, "variance ratio");
    if (!out->explained_variance || !out->explained_variance_ratio) {
        rc = TPE_ENOMEM;
        goto out;
    }
    for (i = 0; i < k; i++) {
        out->explained_variance[i] = theta[i];
        out->explained_variance_ratio[i] = total > 0.0 ? theta[i] / total : (double)NAN;
    }
    if (o.want_scores) {
        double *B = tpe_alloc_array((size_t)COV_ROWS * d, sizeof *B, "centred rows");
        size_t i0;
        out->scores = tpe_alloc_array(n * k, sizeof *out->scores, "PCA scores");
        if (!B || !out->scores) {
            tpe_free(B);
            rc = TPE_ENOMEM;
            goto out;
        }
        for (i0 = 0; i0 < n; i0 += COV_ROWS) {
            size_t rows = MIN((size_t)COV_ROWS, n - i0);
            centre_rows(X, d, i0, rows, out->mean, B);
            /* scores[i0:, :] = B components^T */
            tpe_dgemm(TPE_NO_TRANS, TPE_TRANS, rows, k, d, 1.0, B, d, out->components, d, 0.0, out->scores + i0 * k, k);
        }
        tpe_free(B);
    }
    if (!out->converged)
        rc = tpe_error(TPE_ENUMERIC,
                       "PCA: no convergence after %zu iterations: largest residual ||C v - lambda v|| = %.3g lambda_1 "
                       "exceeds the tolerance %.3g (raise --max-iter or --tol)",
                       out->iterations, out->max_residual, tol);
out:
    tpe_free(C);
    tpe_free(A);
    tpe_free(Z);
    tpe_free(w);
    tpe_free(V);
    tpe_free(theta);
    tpe_free(W);
    if (rc && rc != TPE_ENUMERIC) tpe_pca_free(out);
    return rc;
}
