/*
 * sparsity.h -- where in the output embedding the probability encoding
 * lives (Cho et al. 2024, Sec. 2.2, Figs. 1-2):
 *
 *   - PCA of E^(o) (rows = tokens) by power iteration (pca.h), and for each
 *     principal component i the Spearman correlation between the tokens'
 *     scores on it and alpha, beside its explained-variance ratio: the
 *     encoding sits in a few components that need not be the largest;
 *   - per original dimension c, the Spearman correlation of E^(o)_{:,c}
 *     with alpha (the MLR slope |A_D,c| comes from encoding.h): a few
 *     dimensions carry most of it -- the encoding is sparse.
 *
 * Spearman's rho is taken with alpha itself; with -log alpha it has the
 * same magnitude and the opposite sign.
 */
#ifndef TPE_SPARSITY_H
#define TPE_SPARSITY_H

#include <stddef.h>

#include "pca.h"

typedef struct tpe_sparsity {
    size_t V, C, k;
    tpe_pca_result pca;   /* k components, ratios, scores (V x k)                 */
    double *pc_spearman;  /* (k) Spearman(scores_i, alpha), signed                */
    double *dim_spearman; /* (C) Spearman(E_{:,c}, alpha), signed; NaN for a
                           * constant column                                      */
} tpe_sparsity;

/* E (V, C) row-major, alpha (V); k principal components (0: all C). */
int tpe_sparsity_compute(const double *E, size_t V, size_t C, const double *alpha, size_t k, tpe_sparsity *out);
void tpe_sparsity_free(tpe_sparsity *s);

/* The smallest number of dimensions whose |weights| (sorted descending) hold
 * at least `fraction` of the total, and the share held by the top `top`. */
size_t tpe_sparsity_dims_for(const double *weights, size_t C, double fraction);
double tpe_sparsity_top_share(const double *weights, size_t C, size_t top);

#endif
