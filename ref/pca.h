/*
 * pca.h -- principal component analysis by block (subspace) power iteration
 * with re-orthonormalization and Rayleigh-Ritz: the PCA of the output
 * embedding (Cho et al. 2024, Figs. 1-2), the scores that are correlated
 * with -log alpha, and MAUVE's projection (components up to 90% of the
 * variance).
 *
 * X is n x d row-major (rows are observations, e.g. tokens). The data are
 * centred; C = Xc^T Xc / (n - 1) is formed with the GEMM (its lower half,
 * in row blocks, so the centred copy never exists whole). Then, for the
 * top k components with a block of p = k + max(8, k/4) vectors V:
 *
 *   V = orth(random d x p)
 *   repeat:
 *     W = C V;  H = V^T W  (p x p);  H = S diag(theta) S^T   (Rayleigh-Ritz,
 *       eig.c);  U = V S,  CU = W S;  res_i = ||CU_i - theta_i U_i||
 *     stop when res_i <= tol * theta_1 for every i < k
 *     V = orth(T_m(U))   T_m: the Chebyshev polynomial of degree m = 8 on
 *       [0, theta_p], scaled to [-1, 1]: it damps the unwanted part of the
 *       spectrum (C is positive semi-definite, so it lies in [0, theta_p])
 *       and amplifies the wanted part (Zhou & Saad, "Self-consistent-field
 *       calculations using Chebyshev-filtered subspace iteration", J.
 *       Comput. Phys. 219, 2006), m products with C per iteration.
 *
 * Re-orthonormalization is Householder QR (qr.c); Rayleigh-Ritz resolves
 * close and repeated eigenvalues inside the block. When 16 p > d (or every
 * component, or a variance fraction, is asked for) V is the identity: the
 * Rayleigh-Ritz matrix is C itself and one step of the dense eigensolver
 * gives all the pairs (iterations = 1).
 *
 * Convergence: ||C v_i - lambda_i v_i||_2 <= tol * lambda_1 for i < k, with
 * tol = TPE_PCA_TOL = 1e-11 by default (attainable: the residual computed
 * in double is about d u lambda_1 <= 1e-12 lambda_1 for d up to 10^4). The
 * eigenvalue error is then below res^2 / gap (Ritz values) and the angle of
 * v_i to its eigenvector below res / gap. After max_iter iterations without
 * convergence tpe_pca returns TPE_ENUMERIC with a message giving the worst
 * residual; *out still holds the current estimates (converged = 0).
 *
 * Output convention (SPEC.md, as scikit-learn): eigenvalues of C descending
 * (explained_variance, with n - 1), explained_variance_ratio = lambda_i /
 * trace(C), components as unit rows with their largest-magnitude entry
 * positive (entries within 1e-12 relative of the largest count as ties, and
 * the first of them decides, so rounding cannot flip the sign of a
 * component with equal-magnitude entries), scores = Xc components^T.
 */
#ifndef TPE_PCA_H
#define TPE_PCA_H

#include <stddef.h>
#include <stdint.h>

#include "io.h"

#define TPE_PCA_TOL 1e-11

typedef struct tpe_pca_opts {
    double tol;            /* 0: TPE_PCA_TOL                                      */
    size_t max_iter;       /* 0: 500 Rayleigh-Ritz iterations                      */
    size_t block;          /* 0: k + max(8, k/4)                                   */
    size_t degree;         /* Chebyshev degree, 0: 8                               */
    uint64_t seed;         /* starting block (default 0)                           */
    double var_fraction;   /* > 0: keep the fewest components whose ratios sum to
                            * at least this (k is then an upper bound; 0 = d)      */
    int want_scores;       /* 1: fill scores (n x k)                               */
    int force_full;        /* 1: dense eigensolver whatever k (tests)              */
    int force_iterate;     /* 1: subspace iteration whatever k (tests)             */
    tpe_progress *progress;
} tpe_pca_opts;

void tpe_pca_opts_default(tpe_pca_opts *o);

typedef struct tpe_pca_result {
    size_t n, d, k;
    double *mean;                     /* d                                      */
    double *components;               /* k x d row-major, unit rows             */
    double *explained_variance;       /* k, descending                          */
    double *explained_variance_ratio; /* k                                      */
    double total_variance;            /* trace(C)                               */
    double *scores;                   /* n x k row-major (want_scores), or NULL */
    size_t iterations;                /* Rayleigh-Ritz steps                    */
    int converged;
    double max_residual;              /* max_i ||C v_i - lambda_i v_i|| / lambda_1 */
    int full;                         /* 1: the dense path was taken            */
} tpe_pca_result;

/*
 * PCA of X (n x d, row-major, n >= 2, finite) keeping k components
 * (1 <= k <= d; k = 0 means all d). Fills *out (free with tpe_pca_free).
 */
int tpe_pca(const double *X, size_t n, size_t d, size_t k, const tpe_pca_opts *opts, tpe_pca_result *out);
void tpe_pca_free(tpe_pca_result *r);

/* The covariance alone: mean (d) and C = Xc^T Xc / (n - 1) (d x d, both
 * halves filled), as tpe_pca forms it. */
int tpe_covariance(const double *X, size_t n, size_t d, double *mean, double *C);

#endif
