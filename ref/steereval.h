/*
 * steereval.h -- evaluating probability steering (Cho et al. 2024, Sec. 3,
 * Tables 2-3, Figs. 4-5) on cached hidden states.
 *
 * Quantities (docs/paper.md sets each beside the paper's wording):
 *   alpha_w   averaged probability of token w over every position of a test
 *             set (probe.h), before the edit;
 *   alpha'_w  the same after the edit E'_w = E_w + t u   (t = -log r,
 *             u = Omega (/) A, steer.h);
 *   r_hat     = alpha'_w / alpha_w, the measured scale;
 *   e         = |log r - log r_hat|, the scale error;
 *   d_KL^r    = KL(alpha~ || alpha'~): the averaged distributions before and
 *             after with w removed and both renormalized (kl.h).
 *
 * How it is computed. An edit of row w of the head changes, at each position
 * n, only the logit of w: l'_nw = l_nw + t g_n with g_n = u . h_n. With
 * p_nw = exp(l_nw - log Z_n) the unedited probability and
 *     c_n = 1 / (1 + p_nw expm1(t g_n))             (= Z_n / Z'_n)
 * the edited distribution is p'_nv = p_nv c_n (v != w) and
 * p'_nw = p_nw exp(t g_n) c_n. So, from the cached hidden states h_n and
 * log Z_n alone, and exactly:
 *     alpha'_w = (1/N) sum_n p_nw exp(t g_n) c_n                  O(N) per edit
 *     alpha_v - alpha'_v = (1/N) sum_n p_nv delta_n,  delta_n = 1 - c_n
 *                        = (1/N) (P^T delta)_v                    one GEMM for all edits
 * where P (N, V) holds the unedited probabilities (recomputed block by
 * block, never stored whole). d_KL^r then follows from alpha and the change
 * (tpe_kl_without_change), without the cancellation of subtracting two
 * nearly equal distributions. g_n depends only on the direction u, so one
 * pass over h serves every token and scale.
 *
 * When the edit also moves the input embedding of w (a tied model whose
 * shared matrix is edited, as the paper did for GPT-2), the hidden states
 * of every window that contains w as an input change, from w's first
 * occurrence on. Those windows, and only those (attention is causal and
 * every window starts from an empty context), are run through the
 * transformer again with the edited embedding, and their positions from
 * the first occurrence on are evaluated with the edited head in full;
 * every other position uses the cache. That is still exact.
 * TPE_EVAL_FULL re-runs every window of every edit instead (the slow
 * reference the cached path is tested against); TPE_EVAL_HEAD_ONLY ignores
 * the input-embedding change (exact for an untied model, an approximation
 * for a tied one, and labelled so).
 *
 * Precision: the hidden states are float (the fast forward pass, as
 * `tpe probe`). The base pass (log Z_n and alpha, which feeds Eq. 2's
 * regression), every p_nw, g_n, c_n, the re-run windows and the full
 * re-run use the head in double (its float values widened); only the
 * batched P^T delta behind d_KL^r is a float GEMM, which bounds d_KL^r's
 * relative error by a few C u_32 max|E||h| (tests/test_steer.c measures
 * both against the full re-run).
 */
#ifndef TPE_STEEREVAL_H
#define TPE_STEEREVAL_H

#include <stddef.h>
#include <stdint.h>

#include "hiddencache.h"
#include "io.h"
#include "model.h"
#include "steer.h"

/* One test set, ready to evaluate edits on. */
typedef struct tpe_steer_set {
    const char *name;        /* "local", "id", "ood"                               */
    tpe_hidden_cache hc;     /* the cached hidden states (owned)                   */
    double *logZ;            /* (N) log partition function of the unedited head    */
    double *alpha;           /* (V) averaged distribution of the unedited model    */
} tpe_steer_set;

void tpe_steer_set_free(tpe_steer_set *s);

typedef enum tpe_eval_mode {
    TPE_EVAL_AUTO = 0,       /* cache + re-run of the windows an edit can change (exact) */
    TPE_EVAL_FULL = 1,       /* re-run every window for every edit (reference)           */
    TPE_EVAL_HEAD_ONLY = 2   /* cache only; ignores an input-embedding change             */
} tpe_eval_mode;

/* An edit of row `token` of the head: E'_w = E_w + t u_dir. With input_too
 * the input embedding row of the token moves by the same t u_dir. */
typedef struct tpe_steer_edit {
    int32_t token;
    size_t dir;
    double t;
    int input_too;
} tpe_steer_edit;

typedef struct tpe_steer_eval_stats {
    size_t cached_edits;     /* edits evaluated                                    */
    size_t rerun_windows;    /* windows run through the transformer again          */
    size_t rerun_tokens;     /* their tokens                                       */
    double seconds_rerun;    /* spent re-running and evaluating those windows      */
    double seconds_kl;       /* spent in the P^T delta products                    */
    size_t progress_done;    /* edits counted towards a progress bar               */
} tpe_steer_eval_stats;

typedef struct tpe_steer_evaluator tpe_steer_evaluator;

/*
 * An evaluator for model m. It keeps float and double copies of the head
 * (and its bias) as it is now: V C (4 + 8) bytes. When edits may move the input embedding, m's input
 * embedding is given an owned float copy (a tied m becomes untied in memory;
 * its values do not change) whose rows are changed and restored during the
 * re-runs: m belongs to the evaluator until it is freed.
 */
int tpe_steer_evaluator_new(tpe_model *m, tpe_steer_evaluator **out);
void tpe_steer_evaluator_free(tpe_steer_evaluator *ev);

/* 1 when the model was tied when the evaluator was made. */
int tpe_steer_evaluator_tied(const tpe_steer_evaluator *ev);
/* The vocabulary size V. */
size_t tpe_steer_evaluator_vocab(const tpe_steer_evaluator *ev);

/* The head's logits of position n: E (V, C) float and bias (V) or NULL. */
const float *tpe_steer_evaluator_head(const tpe_steer_evaluator *ev, const float **bias);

/*
 * Fill set->logZ and set->alpha from the cache (set->hc must be filled).
 * With nsnap > 0 also snap_alpha[i * V ...] = the averaged distribution of
 * the first snap_win[i] windows (ascending window counts), for nested
 * subsets of the set.
 */
int tpe_steer_set_prepare(tpe_steer_evaluator *ev, tpe_steer_set *set, const size_t *snap_win, size_t nsnap,
                          double *snap_alpha);

/*
 * Evaluate K edits on the first nwin windows of set (0: all), with the
 * directions dirs[d] (C each). Writes r_hat[k] and, when kl is not NULL,
 * kl[k] (d_KL^r, against alpha_view: the averaged distribution of that
 * view -- set->alpha for the whole set). alpha_w (may be NULL) receives
 * alpha_w of each edit's token over the view. Stats (may be NULL) are
 * added to; progress (may be NULL) is set to stats->progress_done, which
 * grows by one per edit.
 */
int tpe_steer_evaluate(tpe_steer_evaluator *ev, const tpe_steer_set *set, size_t nwin, const double *alpha_view,
                       const double *const *dirs, size_t ndirs, const tpe_steer_edit *edits, size_t K, tpe_eval_mode mode,
                       double *r_hat, double *kl, double *alpha_w, tpe_steer_eval_stats *stats, tpe_progress *progress);

/* ---- the Table 2 / Table 3 / Fig. 4 sweep --------------------------------- */

typedef struct tpe_steer_variant {
    double b;                  /* any real, +-INFINITY                             */
    tpe_significance sig;
} tpe_steer_variant;

enum { TPE_SET_LOCAL = 0, TPE_SET_ID = 1, TPE_SET_OOD = 2, TPE_NSETS = 3 };

typedef struct tpe_steer_sweep_opts {
    const int32_t *tokens;     /* the steered tokens                               */
    size_t ntokens;
    const double *scales;      /* each r > 0 is evaluated as x r and as / r        */
    size_t nscales;
    const tpe_steer_variant *variants; /* [0] is Table 2's; all are Table 3's rows */
    size_t nvariants;
    int baselines;             /* random and shuffled A_D (at variants[0])         */
    int kl;                    /* compute d_KL^r                                   */
    int untie;                 /* tied model: edit only the head                   */
    tpe_eval_mode mode;
    uint64_t seed;             /* baselines' generator                             */
    const size_t *sizes;       /* Fig. 4: detect-set sizes in samples (ascending)  */
    size_t nsizes;
    int precision;             /* OLS precision (TPE_OLS_F64 / TPE_OLS_DD)          */
    tpe_progress *progress;
} tpe_steer_sweep_opts;

/* Methods, in result order: the variants, then (with baselines) random A_D
 * and shuffled A_D. The unedited model needs no run: r_hat = 1, e = |log r|,
 * d_KL^r = 0. */
typedef struct tpe_steer_sweep {
    size_t nmethods, ntokens, nr, nsizes;
    double *r;                 /* (nr = 2 nscales): x r then / r                    */
    /* indexed [((method * ntokens + token) * nr + scale) * TPE_NSETS + set]        */
    double *r_hat, *kl;
    double *alpha_w;           /* [token * TPE_NSETS + set]                         */
    double r2, adj_r2;         /* the encoding fitted on the whole detect set      */
    /* Fig. 4: r_hat of variants[0] fitted on the first sizes[i] detect samples,
     * [((i * ntokens + token) * nr + scale) * TPE_NSETS + set]; the local set
     * is those samples. */
    double *sweep_r_hat;
    size_t *sweep_samples;     /* (nsizes) samples actually used                   */
    double *sweep_adj_r2;      /* (nsizes); NaN when that fit failed               */
    int tied_shared;           /* edits move the input embedding too               */
    tpe_eval_mode mode;
    tpe_steer_eval_stats stats;
} tpe_steer_sweep;

void tpe_steer_sweep_free(tpe_steer_sweep *r);

/*
 * Run the sweep: sets[TPE_SET_LOCAL] is the detect set D (alpha_D and
 * the fit come from it; for Fig. 4 its samples are taken in the order of
 * its cache -- shuffle them first, tpe_hidden_cache_permute), sets[ID] and
 * sets[OOD] are the other test sets; each with its cache filled (the sweep
 * prepares them). bias (V or NULL) is the
 * head bias as a regressor.
 */
int tpe_steer_sweep_run(tpe_steer_evaluator *ev, tpe_steer_set *const *sets, const double *bias,
                        const tpe_steer_sweep_opts *o, tpe_steer_sweep *res);

#endif
