/*
 * mauve.h -- MAUVE (Pillutla et al., "MAUVE: Measuring the Gap Between
 * Neural Text and Human Text using Divergence Frontiers", NeurIPS 2021),
 * computed as the reference package mauve-text (compute_mauve.py) does, on
 * feature matrices or on texts featurized by a model of ours.
 *
 * From features P (n_p x d) and Q (n_q x d):
 *   1. stack [Q; P] (Q first, as mauve-text) and scale every row to unit
 *      Euclidean norm (a zero row stays zero, as sklearn's normalize);
 *   2. PCA (pca.h, every component): with the explained-variance ratios
 *      r_i = lambda_i / trace and their running sums s_i = r_1 + ... + r_i
 *      (summed in order, as numpy.cumsum), keep the components 1..j+1 for
 *      the first j with s_j >= 0.9 (numpy.argmax(s >= 0.9); when no s_j
 *      reaches it, argmax gives 0 and one component is kept); project;
 *      round to float (mauve-text hands float32 to faiss);
 *   3. k-means (kmeans.h) with k = max(2, round(min(n_p, n_q) / 10))
 *      (round: Python's, halves to even), 5 restarts of at most 500 Lloyd
 *      iterations, the lowest inertia kept;
 *   4. histograms: p_i = (points of P in cluster i) / n_p, likewise q;
 *   5. the divergence curve: for w in linspace(1e-6, 1 - 1e-6, 25) (numpy's
 *      formula: w_i = i * step + start, the last one = stop) with
 *      R = w P + (1 - w) Q, the point (exp(-c KL(Q||R)), exp(-c KL(P||R))),
 *      c = 5, between the end points (1, 0) (first) and (0, 1) (last);
 *      KL(a||b) = sum over a_i, b_i != 0 of a_i log(a_i / b_i), +inf when
 *      some a_i > 0 has b_i = 0;
 *   6. MAUVE = (area(x, y) + area(y, x)) / 2: the trapezoid rule over the
 *      points sorted by x (then by y), as sklearn.metrics.auc(x[argsort x],
 *      y[argsort x]) and the same with the roles swapped.
 *
 * Where mauve-text sums (numpy.sum, numpy.trapz), the sums here follow
 * numpy's pairwise summation order, so the curve and the area from given
 * histograms agree with mauve-text's to the last bit wherever libm's exp
 * and log do. Ties in the sort (they arise only when a KL rounds to 0, e.g.
 * P = Q) are broken along the curve: by decreasing y for the x sort (and
 * decreasing x for the y sort), the order numpy's argsort gives in the
 * P = Q case and the one that measures the area under the curve.
 *
 * mauve-text also returns MAUVE* (the same with Krichevsky-Trofimov
 * smoothed histograms, (count + 1/2) normalized; Pillutla et al., JMLR
 * 2023) and the frontier integral; both are computed here too.
 *
 * Differences from mauve-text, all documented in docs/paper-part2.md:
 * k-means is ours (greedy k-means++ seeding with tpe's generator, not
 * faiss's random sampling), so clusters, and with them MAUVE, differ from a
 * faiss run by the quantization noise MAUVE always has; PCA runs in double
 * (mauve-text's runs in the features' float32).
 */
#ifndef TPE_MAUVE_H
#define TPE_MAUVE_H

#include <stddef.h>
#include <stdint.h>

#include "io.h"
#include "model.h"
#include "tokenizer.h"

#define TPE_MAUVE_SCALING 5.0
#define TPE_MAUVE_POINTS 25
#define TPE_MAUVE_EXPLAINED_VAR 0.9
#define TPE_MAUVE_SEED 25 /* mauve-text's default seed */

typedef struct tpe_mauve_opts {
    size_t buckets;        /* 0: max(2, round(min(n_p, n_q) / 10))                 */
    double explained_var;  /* 0: 0.9 (strictly between 0 and 1)                     */
    size_t restarts;       /* 0: 5                                                  */
    size_t max_iter;       /* 0: 500                                                */
    size_t points;         /* 0: 25 mixture weights                                  */
    double scaling;        /* 0: 5 (the constant c)                                 */
    uint64_t seed;         /* k-means generator                                     */
    int no_f32_round;      /* 1: skip rounding the projection to float              */
} tpe_mauve_opts;

void tpe_mauve_opts_default(tpe_mauve_opts *o);

typedef struct tpe_mauve_result {
    double mauve;                 /* the area, in [0, 1]                          */
    double mauve_star;            /* with Krichevsky-Trofimov smoothing            */
    double frontier_integral, frontier_integral_star;
    size_t n_p, n_q;
    size_t buckets;               /* k                                             */
    size_t pca_dims;              /* components kept (0 when built from histograms) */
    double pca_explained;         /* their share of the variance                   */
    double *p_hist, *q_hist;      /* (buckets)                                     */
    double *curve;                /* (points + 2) x 2: (x, y), end points included,
                                     in mauve-text's order (w ascending)          */
    size_t curve_len;             /* points + 2                                    */
    double inertia;               /* of the kept k-means run                       */
    size_t kmeans_iterations;
    int kmeans_converged;
} tpe_mauve_result;

void tpe_mauve_free(tpe_mauve_result *r);

/* k = max(2, round(min(n_p, n_q) / 10)) with Python's round (halves to even). */
size_t tpe_mauve_buckets(size_t n_p, size_t n_q);

/* Steps 1-6 on features P (n_p x d) and Q (n_q x d), finite, n_p, n_q >= 1. */
int tpe_mauve_features(const double *P, size_t n_p, const double *Q, size_t n_q, size_t d, const tpe_mauve_opts *opts,
                       tpe_mauve_result *out);

/* Steps 5-6 and the frontier integral from histograms p, q (k entries
 * each, in [0, 1], each summing to 1 up to rounding): the part of MAUVE that
 * does not depend on the quantization. mauve_star and
 * frontier_integral_star need the counts: NaN here. */
int tpe_mauve_from_histograms(const double *p, const double *q, size_t k, const tpe_mauve_opts *opts,
                              tpe_mauve_result *out);

/* The same from the counts per cluster (non-negative integers, as doubles):
 * histograms count / total, and MAUVE* and its frontier integral from the
 * smoothed (count + 1/2) / sum(count + 1/2). What steps 4-6 do. */
int tpe_mauve_from_counts(const double *pc, const double *qc, size_t k, const tpe_mauve_opts *opts,
                          tpe_mauve_result *out);

/* The area of step 6 from a curve of n points (x, y) row-major. */
double tpe_mauve_area(const double *curve, size_t n);

/* numpy's sum of n doubles (0 + pairwise summation, blocks of 128 with 8
 * accumulators): used wherever mauve-text calls numpy.sum / numpy.trapz. */
double tpe_numpy_sum(const double *a, size_t n);

/*
 * Features of texts as mauve-text takes them: each text tokenized with the
 * featurizer's tokenizer (texts of no tokens are an error), cut to its
 * first max_len tokens (mauve-text: 1024; at most the model's context), one
 * forward pass (the fast float path), and the final hidden state after the
 * last norm at the last token. F is (n, d_out) in double. bar (may be NULL,
 * begun by the caller) is set to the number of texts done after each.
 */
int tpe_mauve_featurize(const tpe_model *m, tpe_tokenizer *tok, const char *const *texts, const size_t *lens, size_t n,
                        size_t max_len, double *F, tpe_progress *bar);

/* The same from token ids: sample i is ids[start[i] .. start[i + 1]). */
int tpe_mauve_featurize_ids(const tpe_model *m, const int32_t *ids, const size_t *start, size_t n, size_t max_len,
                            double *F, tpe_progress *bar);

#endif
