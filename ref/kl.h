/*
 * kl.h -- Kullback-Leibler divergences between averaged distributions (the
 * paper's d_KL^r for steering, Sec. 3, and the KL of pruning, Sec. 4).
 *
 *   KL(p || q) = sum_v p_v log(p_v / q_v)       (nats; 0 log 0 = 0)
 *
 * d_KL^r removes the steered token s from both distributions and
 * renormalizes what is left before comparing them, so that only the
 * movement of the *other* tokens counts:
 *
 *   p~_v = p_v / P,  q~_v = q_v / Q   (v != s; P, Q the sums over v != s)
 *   d_KL^r = KL(p~ || q~) = -sum_{v != s} p~_v log(1 - x_v) + log(1 - sum_{v != s} d_v / P)
 *
 * with d_v = p_v - q_v and x_v = d_v / p_v (the second form: log(q~_v/p~_v)
 * = log(q_v/p_v) - log(Q/P), and Q/P = 1 - sum d_v / P). Written with
 * log1p, it keeps full relative accuracy when q is close to p: the
 * first-order terms of the two sums cancel exactly in the algebra instead
 * of in rounding. When the change d is known more accurately than q itself
 * (it is, for a one-row edit evaluated from cached hidden states,
 * steereval.h), pass d directly.
 *
 * P is summed over v != s directly (not formed as 1 - p_s). A q_v <= 0
 * where p_v > 0 gives +inf.
 */
#ifndef TPE_KL_H
#define TPE_KL_H

#include <stddef.h>

/* KL(p || q) over V entries. */
double tpe_kl(const double *p, const double *q, size_t V);

/* d_KL^r: KL of p and q with entry `skip` removed and both renormalized
 * (skip >= V: nothing removed, both renormalized). */
double tpe_kl_without(const double *p, const double *q, size_t V, size_t skip);

/* The same from p and the change d = p - q (V entries; d[skip] unused). */
double tpe_kl_without_change(const double *p, const double *d, size_t V, size_t skip);

#endif
