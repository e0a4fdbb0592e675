/*
 * probe.h -- the averaged next-token distribution alpha of a dataset
 * (Cho et al. 2024, Appendix A.1): with teacher forcing, every position t
 * of every sample s gives the model's next-token distribution
 *     p_{s,t} = softmax(E^(o) h_{s,t} + b)                       (V)
 * and alpha = (1/N) sum_{s,t} p_{s,t} over all N positions, accumulated in
 * double (exactly, then rounded once: exactsum.h). Samples longer than the
 * window (the model's context, or less) are cut into consecutive windows,
 * each run from an empty context.
 */
#ifndef TPE_PROBE_H
#define TPE_PROBE_H

#include <stddef.h>
#include <stdint.h>

#include "exactsum.h"
#include "model.h"

/* Receives the final hidden states (after the last norm) of each window:
 * h32 (T, C) on the float path, h64 (T, C) on the double path (the other
 * is NULL). `sample` and `pos0` say where the window starts. */
typedef int (*tpe_hidden_sink)(void *ctx, size_t sample, size_t pos0, const int32_t *ids, const float *h32,
                               const double *h64, size_t T, size_t C);

typedef struct tpe_probe tpe_probe;

/* window: tokens per window (1..P); f64: run the scalar reference in double */
int tpe_probe_new(const tpe_model *m, size_t window, int f64, tpe_probe **out);
void tpe_probe_free(tpe_probe *p);
void tpe_probe_set_hidden_sink(tpe_probe *p, tpe_hidden_sink fn, void *ctx);

/* One window of 1..window tokens: forward, softmax at every position, add. */
int tpe_probe_window(tpe_probe *p, size_t sample, size_t pos0, const int32_t *ids, size_t T);
/* One sample of any length, cut into windows. */
int tpe_probe_sample(tpe_probe *p, size_t sample, const int32_t *ids, size_t n);

size_t tpe_probe_positions(const tpe_probe *p);
/* alpha (V) = accumulated distributions / positions; error when empty.
 * Each sum is exact until it is rounded once here (exactsum.h), so alpha
 * does not depend on the order or grouping of the samples. */
int tpe_probe_alpha(const tpe_probe *p, double *alpha);

/* ---- added for sharded runs (shard.h); nothing above changed ------------ */
/* The exact sums of the next-token distributions, V accumulators. */
const tpe_xsum *tpe_probe_sums(const tpe_probe *p);

#endif
