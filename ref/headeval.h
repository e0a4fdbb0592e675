/*
 * headeval.h -- the output layer alone, on cached final hidden states.
 *
 * When only the head changes (steering one row of an untied E^(o), pruning
 * its columns), the final hidden states h (after the last norm) do not, so
 * the averaged distribution of the edited model follows from h without
 * running the transformer again (probe --save-hidden writes them):
 *
 *     alpha'  = (1/N) sum_n softmax(E' h_n + b')
 *
 * This is exact for an untied model. For a tied one (GPT-2) the input
 * embedding changes too and the transformer must be re-run.
 */
#ifndef TPE_HEADEVAL_H
#define TPE_HEADEVAL_H

#include <stddef.h>

/* Rows of logits processed at a time (bounds the scratch to V x 64 floats). */
#define TPE_HEAD_BLOCK 64

/*
 * The softmax of every column of L (V, nr) -- column t the logits of one
 * position -- left unnormalized: on return L[v, t] = exp(L[v, t] - m[t])
 * with m[t] the column maximum, and z[t] = 1 / sum_v L[v, t] (summed in
 * double), so p(v | t) = L[v, t] z[t]. m (nr floats) and z (nr doubles) are
 * the caller's. A non-finite logit is an error naming position pos0 + t.
 * Shared by tpe_probe (alpha) and tpe_head_softmax_sum.
 */
int tpe_softmax_cols(float *L, size_t V, size_t nr, float *m, double *z, size_t pos0);

/*
 * sum[v] += sum_{n < N} softmax(E H_n + b)[v]   for H (N, C), E (V, C) and
 * b (V, or NULL), all float; sum is double (V). The logits are formed with
 * tpe_sgemm as E H^T in blocks of TPE_HEAD_BLOCK positions and normalized
 * column by column with the kernel table's softmax kernels; a non-finite
 * logit is an error naming the position.
 */
int tpe_head_softmax_sum(const float *H, size_t N, size_t C, const float *E, const float *b, size_t V, double *sum);

/* The same in double throughout (plain loops), for checking. */
int tpe_head_softmax_sum_f64(const double *H, size_t N, size_t C, const double *E, const double *b, size_t V,
                             double *sum);

/*
 * Per-token statistics of log p(v | x_n) over positions n, for the Jensen
 * gap of docs/derivation.md (step 2) and `tpe explain`. With the logits
 * l_n = E h_n + b (Eq. 1 of Cho et al. 2024):
 *
 *     log p_n(v) = l_nv - log Z_n,     log Z_n = log sum_v exp(l_nv)
 *
 * The logits come from tpe_sgemm (float) or tpe_dgemm (double) in blocks of
 * TPE_LOGP_BLOCK positions; everything after them is in double: the column
 * maximum m_n, e_nv = exp(l_nv - m_n), Z_n = e^{m_n} sum_v e_nv, p_n(v) =
 * e_nv / sum_v e_nv and log p_n(v) = (l_nv - m_n) - log sum_v e_nv, so p and
 * log p agree to a few units of rounding and the measured Jensen gap
 * log(mean p) - mean log p is >= 0 up to that rounding. The variance is
 * accumulated about a per-token shift K_v (the first position's log p), so
 * positions that all share one value give exactly 0.
 */
#define TPE_LOGP_BLOCK 32

typedef struct tpe_logp_stats {
    size_t V;        /* vocabulary                                           */
    size_t n;        /* positions accumulated                                */
    double *p_sum;   /* (V) sum_n p_n(v)              (alpha = p_sum / n)    */
    double *shift;   /* (V) K_v = log p(v) at the first position              */
    double *d_sum;   /* (V) sum_n (log p_n(v) - K_v)                         */
    double *d_sq;    /* (V) sum_n (log p_n(v) - K_v)^2                       */
    double *lp_min;  /* (V) min_n log p_n(v)                                 */
    double *lp_max;  /* (V) max_n log p_n(v)                                 */
    double logz_sum; /* sum_n log Z_n                                        */
} tpe_logp_stats;

int tpe_logp_stats_init(tpe_logp_stats *s, size_t V);
void tpe_logp_stats_free(tpe_logp_stats *s);

/*
 * Add N positions: H (N, C) hidden states, E (V, C), b (V, or NULL), all
 * float (logits by tpe_sgemm; the bias is added in double) or all double
 * (tpe_dgemm). logz (N, or NULL) receives log Z_n of each position. A
 * non-finite logit is an error naming the position (counted from s->n).
 */
int tpe_head_logp_acc(tpe_logp_stats *s, const float *H, size_t N, size_t C, const float *E, const float *b,
                      double *logz);
int tpe_head_logp_acc_f64(tpe_logp_stats *s, const double *H, size_t N, size_t C, const double *E, const double *b,
                          double *logz);

/* Token v's mean and population variance (divided by n) of log p(v | x). */
void tpe_logp_stats_token(const tpe_logp_stats *s, size_t v, double *mean, double *var);

#endif
