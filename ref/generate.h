/*
 * generate.h -- ancestral sampling of next tokens with a seeded, portable
 * generator (rng.h).
 *
 * From the logits l (V) of the last position:
 *   1. temperature T = 0: the argmax (the lowest id among ties); stop.
 *   2. z_v = l_v / T.
 *   3. top-k (k > 0): keep the k largest z (ties to the lower id).
 *   4. p = softmax over the kept tokens (double).
 *   5. top-p (p < 1): in order of decreasing probability (ties to the lower
 *      id) keep tokens while the mass before them is below top_p (at least
 *      one), as transformers' TopPLogitsWarper; renormalize.
 *   6. u = uniform [0, 1) from the generator; walk the kept tokens (in the
 *      order of step 5, or by id when neither top-k nor top-p is set) and
 *      return the first whose cumulative probability exceeds u * total.
 * The generator's stream is the same on every platform; the sampled ids
 * are too wherever the logits agree (the f64 reference is the same
 * everywhere; the f32 path agrees to float rounding).
 */
#ifndef TPE_GENERATE_H
#define TPE_GENERATE_H

#include <stddef.h>
#include <stdint.h>

#include "rng.h"

typedef struct tpe_sampling {
    double temperature; /* >= 0 (0: greedy)           */
    size_t top_k;       /* 0: off                     */
    double top_p;       /* (0, 1]; 1: off             */
} tpe_sampling;

typedef struct tpe_sampler tpe_sampler;

int tpe_sampler_new(size_t V, const tpe_sampling *s, uint64_t seed, tpe_sampler **out);
void tpe_sampler_free(tpe_sampler *s);
/* One token from logits (V), float or double (the other NULL). */
int tpe_sampler_next(tpe_sampler *s, const float *logits32, const double *logits64, int32_t *token);

#endif
