/*
 * steer.h -- probability steering, Algorithm 1 of Cho et al. (2024), Sec. 3.
 *
 * Eq. 2 says -log alpha_w ~ A . E_w + B over the vocabulary (encoding.h).
 * To multiply the averaged probability of one token w by r, move its row
 * of the output embedding so that A . E_w falls by log r:
 *
 *   Alg. 1:  Omega = |A|^b (.) S / || |A|^b (.) S ||_1       (weights, sum 1)
 *            E'_w  = E_w - log(r) Omega (/) A                (element-wise)
 *   so that  A . (E'_w - E_w) = -log(r) sum_c Omega_c = -log r.
 *
 * S is the element-wise significance of each slope. The paper calls it the
 * p-value yet says that more of the change goes to the dimensions that
 * correlate more strongly -- raw p would do the opposite -- so S is a
 * choice (tpe_significance); docs/paper.md gives the measurements behind
 * the default (TPE_SIG_DEFAULT).
 *
 * b is any real number. |A|^b is formed in logs, exp(b log|A_c| + log S_c
 * - max), so no b overflows. Two limits have their own meaning (Table 3):
 *   b = +inf  everything on the largest |A_c| (ties share equally);
 *   b = -inf  the uniform weighting Omega_c = 1 / (number of usable
 *             dimensions), S ignored -- the paper's "-inf" row. (The
 *             literal limit of |A|^b as b -> -inf would instead put
 *             everything on the smallest |A_c|; large negative finite b
 *             gives that.)
 *
 * Unusable dimensions: a slope that is 0, NaN (a column the regression
 * found collinear, encoding.h) or infinite, or whose significance is 0 or
 * not finite, gets Omega_c = 0 and its coordinate of E_w is left alone, so
 * nothing is divided by zero; the remaining weights are renormalized to sum
 * to 1 over the usable dimensions. No usable dimension is an error.
 */
#ifndef TPE_STEER_H
#define TPE_STEER_H

#include <stddef.h>
#include <stdint.h>

#include "array.h"
#include "encoding.h"
#include "model.h"

typedef enum tpe_significance {
    TPE_SIG_ONE_MINUS_P = 0, /* S_c = 1 - p_c                                   */
    TPE_SIG_NEG_LOG_P = 1,   /* S_c = -log p_c (from log p, finite where p underflows) */
    TPE_SIG_P = 2,           /* S_c = p_c, the paper's words taken literally    */
    TPE_SIG_NONE = 3         /* S_c = 1                                         */
} tpe_significance;

/* The default, chosen by measured scale error on the demo models (docs/paper.md). */
#define TPE_SIG_DEFAULT TPE_SIG_NEG_LOG_P

/* "one-minus-p", "neg-log-p", "p", "none" -> 0 and *out; else -1. */
int tpe_significance_parse(const char *s, tpe_significance *out);
const char *tpe_significance_name(tpe_significance s);

/* S (C) from a fitted encoding's per-dimension p-values. A dimension with a
 * NaN slope gets S = 0. */
void tpe_steer_significance(const tpe_encoding *enc, tpe_significance kind, double *S);

/* Alg. 1, the weights: omega (C), >= 0, summing to 1 over the usable
 * dimensions (0 elsewhere). b may be +-INFINITY. Error when no dimension is
 * usable or b is NaN. *usable (may be NULL) receives their count. */
int tpe_steer_omega(const double *A, const double *S, size_t C, double b, double *omega, size_t *usable);

/* The steering direction u = Omega (/) A (C), u_c = 0 where Omega_c = 0:
 * E'_w = E_w - log(r) u, and A . u = 1 up to rounding. */
int tpe_steer_direction(const double *A, const double *S, size_t C, double b, double *u);

/* delta (C) = E'_w - E_w = -log(r) Omega (/) A for a scale r > 0 (finite). */
int tpe_steer_delta(const double *A, const double *S, size_t C, double b, double r, double *delta);

/*
 * Apply an edit to a model in memory: row w of the output embedding gets
 * + delta (C). For a tied model the shared matrix is edited (the input
 * embedding of w moves too, as the paper did for GPT-2) unless `untie`,
 * which gives the model a head of its own and edits only that. The edited
 * matrix is stored as F64 when it was F64, else F32 (so every other row
 * keeps its exact value; F16/BF16 widen exactly).
 */
int tpe_steer_apply(tpe_model *m, int32_t w, const double *delta, int untie);

#endif
