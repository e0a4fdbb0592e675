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

#endif
