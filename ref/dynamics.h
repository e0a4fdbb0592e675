/*
 * dynamics.h -- the frequency encoding through training (Cho et al. 2024,
 * Sec. 5, Fig. 7).
 *
 * For each checkpoint theta_t of a training run:
 *
 *   (a) the adjusted R^2 of the regression (with an intercept) of
 *           y_w = -log f_w,   f_w = (c_w + 1) / (N + V)
 *       on the rows E^(o)_w of the checkpoint's output embedding, where c_w
 *       counts token w in the training corpus (`tpe count`), N = sum c_w and
 *       V the vocabulary: add-one (Laplace) smoothing, so a token that never
 *       occurs has a finite -log f. The normalization N + V only shifts y by
 *       a constant, which the intercept absorbs: R^2 does not depend on it.
 *
 *   (b) the convergence rate of Chen et al. (2022, "Which layer is learning
 *       faster? A systematic exploration of layer-wise convergence rate for
 *       deep neural networks"):
 *           rate_t = 1 - ||theta* - theta_t||_F / ||theta* - theta_0||_F
 *       with theta_0 the first checkpoint and theta* the final model, for
 *       the input embedding, the output embedding and each layer's attention
 *       QKV projection (GPT-2 c_attn, GPT-NeoX query_key_value, GPT-J q, k
 *       and v together). 0 at theta_0, 1 at theta*.
 *
 * Weights are read as stored (F16/BF16/F32/F64 widened exactly to double);
 * squared differences are summed in double in blocks of 4096 elements.
 */
#ifndef TPE_DYNAMICS_H
#define TPE_DYNAMICS_H

#include <stddef.h>

#include "model.h"

/* y (V) = -log((c + 1) / (N + V)) from counts c (V), each a finite number
 * >= 0 (error naming the first that is not). */
int tpe_dynamics_response(const double *counts, size_t V, double *y);

/* Parameters followed for the convergence rate: 2 + L (input embedding,
 * output embedding, layer l's attention QKV). */
size_t tpe_dynamics_nparams(const tpe_model *m);
/* Its name ("input_embedding", "output_embedding", "layer.3.attn_qkv"). */
void tpe_dynamics_param_name(const tpe_model *m, size_t i, char *buf, size_t cap);

/* The same architecture and shapes (error naming what differs). */
int tpe_dynamics_compatible(const tpe_model *a, const tpe_model *b, const char *name_b);

/* ||a - b||_F^2 of parameter i between two compatible models. */
int tpe_dynamics_dist2(const tpe_model *a, const tpe_model *b, size_t i, double *d2);

/* Adjusted R^2 (and R^2) of y (V) on the output embedding of m with an
 * intercept (tpe_ols_fit, double). */
int tpe_dynamics_adj_r2(const tpe_model *m, const double *y, double *adj_r2, double *r2);

/* rate (nparams) of checkpoint t: 1 - ||theta* - theta_t||_F / sqrt(d0[i])
 * with d0[i] = ||theta* - theta_0||_F^2 (tpe_dynamics_dist2 once per run);
 * NaN where d0[i] = 0 (theta_0 = theta* for that parameter). */
int tpe_dynamics_rates(const tpe_model *t, const tpe_model *tstar, const double *d0, double *rate);

#endif
