/*
 * prune.h -- removing output-embedding dimensions by the encoding's
 * importance (Cho et al. 2024, Sec. 4, Fig. 6).
 *
 * The encoding (Eq. 2, encoding.h) -log alpha_w ~ A_D . E_w + B_D gives one
 * slope per dimension of E^(o); the importance of dimension c is |A_D[c]|
 * (a dimension the regression found collinear has no slope and importance
 * 0). Removal order: ascending importance (the least important first: the
 * paper's pruning) or descending (the adversarial control). Removing m of C
 * dimensions zeroes those columns of E^(o) -- in a tied model, of the shared
 * matrix, so the input embedding loses them too (the paper's GPT-2 setting)
 * -- or, with drop, removes them physically (model.h,
 * tpe_model_drop_head_dims). The effect on a test set is
 *
 *     KL(alpha_original || alpha_pruned) = sum_v a_v log(a_v / a'_v)
 *
 * with alpha the mean next-token distribution (probe.h). For an untied head
 * the final hidden states do not change, so alpha_pruned follows exactly
 * from cached ones (headeval.h): softmax(E' h + b) with E' = E with columns
 * zeroed equals softmax(E (h with those entries zeroed) + b).
 */
#ifndef TPE_PRUNE_H
#define TPE_PRUNE_H

#include <stddef.h>

#include "encoding.h"
#include "kl.h" /* tpe_kl: KL of the pruned model's averaged distribution */
#include "model.h"

typedef enum tpe_prune_order {
    TPE_PRUNE_ASCENDING = 0, /* least important first (Sec. 4)   */
    TPE_PRUNE_DESCENDING = 1 /* most important first (the control) */
} tpe_prune_order;

/* The encoding of a model's output embedding against alpha (V), in double
 * (with the head bias as a regressor for GPT-J), and importance (C) =
 * |slope| (0 for a collinear dimension). importance may be NULL. */
int tpe_prune_encoding(const tpe_model *m, const double *alpha, tpe_encoding *enc, double *importance);

/* The dimensions in removal order: order (C) sorted by importance ascending
 * or descending, ties by the lower index. */
void tpe_prune_order_dims(const double *importance, size_t C, tpe_prune_order ord, size_t *order);

/* Dimensions removed at a ratio in [0, 1]: the nearest integer to ratio C,
 * halves up, computed as floor(ratio C + 1/2) with ratio C rounded to 1e-9
 * first (so 0.3 * 10 counts as 3, not 2.9999999999999996). */
size_t tpe_prune_count(double ratio, size_t C);

/* How a model is pruned. */
typedef struct tpe_prune_plan {
    const size_t *removed; /* the head columns to remove (indices < d_out)              */
    size_t n_removed;
    int drop;              /* 1: remove them physically (untied heads, or with untie)   */
    int untie;             /* tied models: edit the head only (zero), or keep the zeroed
                              input embedding at full width and drop from a separate
                              head (drop)                                                */
} tpe_prune_plan;

/*
 * Apply a plan to a loaded model, in memory. E (V, d_out) is the output
 * embedding in double as it was before (for a tied model, the shared
 * matrix). New matrices are stored in the dtype of the one they replace.
 * Errors: drop on a tied model without untie (not exact: see model.h);
 * drop of every dimension.
 */
int tpe_prune_apply(tpe_model *m, const double *E, const tpe_prune_plan *plan);

#endif
