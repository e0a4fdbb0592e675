/*
 * hiddencache.h -- the final hidden states of a dataset (after the last
 * norm), kept in memory so that an edited *head* can be evaluated without
 * running the transformer again (headeval.h): steering one row of an
 * untied E^(o) (steereval.h) or zeroing its columns (pruning) changes only
 *     alpha' = (1/N) sum_n softmax(E' h_n + b'),
 * and the h_n stay as they were. The cache also keeps each position's input
 * token and the windows the samples were cut into, so that the windows an
 * edit of the *input* embedding can change (those containing the edited
 * token) can be found and run again.
 *
 * Positions are numbered n = 0 .. N-1 over the samples in order; each
 * sample is cut into windows of at most `window` tokens, each run from an
 * empty context (probe.h), exactly as `tpe probe --max-len window` does.
 */
#ifndef TPE_HIDDENCACHE_H
#define TPE_HIDDENCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "io.h"
#include "model.h"

typedef struct tpe_hidden_cache {
    size_t N, C;        /* positions, width                                        */
    size_t window;      /* the window length the samples were cut with             */
    float *H;           /* (N, C) final hidden states of the unedited model       */
    int32_t *ids;       /* (N) the input token at each position                    */
    size_t nwin;        /* windows                                                 */
    size_t *win;        /* (nwin + 1): window i holds positions [win[i], win[i+1])  */
    size_t nsamples;
    size_t *sample_win; /* (nsamples + 1): sample s holds windows
                         * [sample_win[s], sample_win[s + 1])                      */
} tpe_hidden_cache;

/*
 * Run m over nsamples samples (token ids back to back, sample s at
 * ids[start[s] .. start[s + 1])), cut into windows of at most `window`
 * tokens (0: the model's context), on the fast float path. Empty samples are
 * skipped. progress (may be NULL) advances by positions.
 */
int tpe_hidden_cache_build(const tpe_model *m, const int32_t *ids, const size_t *start, size_t nsamples, size_t window,
                           tpe_progress *progress, tpe_hidden_cache *out);

/*
 * Read the files `tpe probe --save-hidden FILE` writes: FILE (N, C) <f4 or
 * <f8 (narrowed to float) and FILE's stem + ".tokens.npy" (N, 3) <i8 rows
 * of (sample, position, token). The windows are rebuilt from the rows with
 * `window` tokens each, which must be the --max-len the probe ran with (the
 * file does not record it). Rows must run sample by sample from position 0
 * without gaps; token ids must be non-negative (the caller checks them
 * against its vocabulary).
 */
int tpe_hidden_cache_read(const char *path, size_t window, tpe_hidden_cache *out);

void tpe_hidden_cache_free(tpe_hidden_cache *c);

/* The averaged distribution of a head on the cache: alpha (V) =
 * (1/N) sum_n softmax(E h_n + b), E (V, C) and b (V, or NULL) float
 * (tpe_head_softmax_sum). */
int tpe_hidden_cache_alpha(const tpe_hidden_cache *c, const float *E, const float *b, size_t V, double *alpha);

/* Reorder the samples (with their windows and positions): new sample i is
 * old sample perm[i]; perm is a permutation of 0 .. nsamples-1. */
int tpe_hidden_cache_permute(tpe_hidden_cache *c, const size_t *perm);

/* "h.npy" -> "h.tokens.npy" (the file beside a --save-hidden FILE); malloc'd. */
char *tpe_hidden_tokens_path(const char *path);

#endif
