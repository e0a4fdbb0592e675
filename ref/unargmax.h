/*
 * unargmax.h -- unargmaxable tokens: the tokens no hidden state can make
 * the model predict (Grivas, Bogoychev & Lopez, "Low-Rank Softmax Can Have
 * Unargmaxable Classes in Theory but Rarely in Practice", ACL 2022).
 *
 * The output layer gives logits W x + b for a hidden state x (W is V x d,
 * the output embedding; b the optional bias). Token i is argmaxable within
 * the box [-B, B]^d when some x in the box puts W_i . x + b_i strictly above
 * every other logit. tpe decides it with a tolerance eps on the Chebyshev
 * radius (Grivas et al., Sec. 4.2, eq. 4):
 *
 *   i is argmaxable  <=>  the LP   maximize r
 *       subject to (W_j - W_i) . x + ||W_j - W_i|| r <= b_i - b_j  (all j != i)
 *                  -B <= x_k <= B,   r >= eps
 *   is feasible, i.e. some x in the box is at distance >= eps from every
 *   hyperplane where i ties another token, on i's side of all of them.
 *
 * Two passes (docs/unargmax.md has the derivation):
 *   1. fast, one-sided ("braid reflect", Grivas et al. Sec. 4.1, Alg. 1):
 *      start at x = W_i; while j = argmax(W x + b) is not i, reflect x
 *      across the hyperplane where i and j tie; at most `patience` times.
 *      Many tokens go through the float GEMM together. When it stops with
 *      i on top, the point is checked (below) and proves i argmaxable.
 *   2. exact (opts.exact): the LP above for every token the fast pass left,
 *      solved by tpe's simplex (lp.h) on its dual with constraint
 *      generation (the LP sees only the competitors that matter).
 *
 * Verdicts carry proofs that are checked independently of how they were
 * found (unargmax_check.c):
 *   - argmaxable: a witness x in the box where, recomputed in double with
 *     every rounding error bounded, (W_i - W_j).x + b_i - b_j >=
 *     eps ||W_i - W_j|| > 0 for every j (a tie fails);
 *   - unargmaxable: multipliers y >= 0 on the constraints with
 *     sum_j y_j ||W_j - W_i|| = 1 whose bound
 *         (sum_j y_j (b_i - b_j) + B || sum_j y_j (W_j - W_i) ||_1)  <  eps
 *     shows that every feasible (x, r) has r < eps (Farkas), or an exact
 *     duplicate row j (W_j = W_i, b_j >= b_i: i never strictly wins).
 *   - anything else is a failure, reported as such and never a verdict.
 */
#ifndef TPE_UNARGMAX_H
#define TPE_UNARGMAX_H

#include <stddef.h>

/* The output layer: logits = W x + b. Exactly one of w / w32 is given. */
typedef struct tpe_head {
    size_t vocab, dim;  /* V, d                                          */
    const double *w;    /* (V, d) row-major output embedding, or NULL     */
    const float *w32;   /* (V, d) the same in float, or NULL              */
    const double *bias; /* (V) or NULL (no bias)                          */
} tpe_head;

/* W_jk in double (exact for either storage). */
double tpe_head_w(const tpe_head *h, size_t j, size_t k);
/* Reject bad shapes and NaN/Inf (error names the row and column). */
int tpe_head_validate(const tpe_head *h);

typedef enum tpe_verdict {
    TPE_UNDECIDED = 0,
    TPE_ARGMAXABLE = 1,
    TPE_UNARGMAXABLE = 2,
    TPE_FAILED = 3       /* the exact pass could not decide: no verdict      */
} tpe_verdict;

/* How a verdict was reached (result.how[i]). */
typedef enum tpe_unargmax_how {
    TPE_HOW_NONE = 0,
    TPE_HOW_FAST = 1,      /* fast pass, witness checked                     */
    TPE_HOW_LP = 2,        /* exact pass: witness or Farkas certificate      */
    TPE_HOW_DUPLICATE = 3, /* an identical row with a bias >= its own        */
    TPE_HOW_SINGLE = 4     /* V = 1: nothing to beat                         */
} tpe_unargmax_how;

typedef struct tpe_unargmax_opts {
    double box;          /* B (default 100, as Grivas et al.)               */
    double eps;          /* minimum Chebyshev radius (default 1e-8)          */
    size_t patience;     /* reflections per token (default 2500)             */
    int exact;           /* run the LP on what the fast pass leaves          */
    int skip_fast;       /* send every token to the LP (tests, comparisons)  */
    int keep_witnesses;  /* fill result.witness                              */
    int compute_rank;    /* numerical rank of W (one V d^2 Gram product)     */
    size_t batch;        /* tokens per GEMM in the fast pass (0: automatic)  */
    size_t lp_batch;     /* tokens solved together in the exact pass (0: auto) */
    size_t max_rounds;   /* constraint-generation rounds per token (default 500) */
    const char *progress_label; /* NULL: no progress bar                      */
} tpe_unargmax_opts;

void tpe_unargmax_opts_default(tpe_unargmax_opts *o);

typedef struct tpe_unargmax_result {
    size_t vocab, dim;
    unsigned char *verdict; /* (V) tpe_verdict                                 */
    unsigned char *how;     /* (V) tpe_unargmax_how                            */
    unsigned char *fast_unresolved; /* (V) 1: the fast pass did not prove it   */
    size_t *dup_of;         /* (V) the identical row that settles it, or V     */
    double *witness;        /* (V, d) when kept: NaN rows where no witness      */
    /* certificates (always kept: at most d + 1 entries per token): token i's multipliers are cert_rows/cert_y
     * [cert_start[i], cert_start[i + 1]) -- raw y_j on the constraints as
     * written above, normalized to sum_j y_j ||W_j - W_i|| = 1 -- and its
     * checked bound is cert_bound[i] (NaN where no Farkas certificate).     */
    size_t *cert_start;     /* (V + 1)                                         */
    size_t *cert_rows;      /* (total)                                         */
    double *cert_y;         /* (total)                                         */
    double *cert_bound;     /* (V)                                             */
    const char **fail_reason; /* (V) static strings, NULL unless FAILED        */
    double *radius;         /* (V) exact pass: the certified radius bound (witness
                             * distance for argmaxable, Farkas bound otherwise), NaN elsewhere */
    /* structure of W */
    size_t rank;            /* numerical rank of W (V when not computed)       */
    double rank_tol;        /* relative threshold on the Gram pivots           */
    size_t dup_groups;      /* groups of identical rows (W and b)              */
    size_t dup_tokens;      /* tokens in those groups                          */
    /* work */
    size_t fast_tokens, fast_reflections, exact_tokens, lp_pivots, lp_rounds, lp_scans, lp_columns;
    size_t lp_degenerate, lp_bland, lp_refactors;
    double seconds_fast, seconds_exact, seconds_rank, seconds_prep;
    double seconds_fast_gemm; /* of seconds_fast, in the GEMM */
} tpe_unargmax_result;

/* Run both passes. Returns TPE_OK with every token's verdict in r (FAILED
 * ones included), or an error for bad input or out of memory. */
int tpe_unargmax_run(const tpe_head *h, const tpe_unargmax_opts *o, tpe_unargmax_result *r);
void tpe_unargmax_result_free(tpe_unargmax_result *r);

/* ---- inputs --------------------------------------------------------------- */
struct tpe_array;
/* The output layer of a model directory (unargmax_model.c): w receives W
 * (V, d) as F32 or F64, b the head's bias (F64, (V,)) when *has_bias. */
int tpe_unargmax_load_model(const char *dir, struct tpe_array *w, struct tpe_array *b, int *has_bias);

/* ---- the independent checks (unargmax_check.c) ------------------------ */

typedef struct tpe_witness_check {
    int ok;             /* 1: x proves token i argmaxable                      */
    size_t worst;       /* competitor with the smallest margin (V when none)   */
    double margin;      /* (W_i - W_j).x + b_i - b_j for it, as computed       */
    double dist;        /* margin / ||W_i - W_j|| (a certified lower bound when ok) */
    const char *why;    /* when !ok                                           */
} tpe_witness_check;

/* Is x (d) a witness for token i? Computes every logit in double with its
 * rounding-error bound (gamma_d ||W_j|| ||x||); a margin that does not
 * exceed eps ||W_i - W_j|| plus that bound fails, and so does x outside
 * [-box, box]^d or anything non-finite. O(V d). */
int tpe_unargmax_check_witness(const tpe_head *h, size_t i, const double *x, double box, double eps,
                               tpe_witness_check *out);

/* Logits already computed for a point x (without the bias), in float or
 * double, with a bound on their error:
 *     |l_j - W_j . x| <= coef ||W_j|| ||x|| + abs_err,
 * and upper bounds row_norm[j] >= ||W_j||, row_norm_max >= all of them. */
typedef struct tpe_logit_bound {
    const float *lf;      /* (V) or NULL */
    const double *ld;     /* (V) or NULL (at most one of lf / ld)             */
    double coef, abs_err;
    const double *row_norm;
    double row_norm_max;
    /* without logits: the extremes over j != i of B_j = scale l_j + b_j,
     * already scaled and with the bias (stage 1 only) */
    double top, lo;
    size_t topj;
} tpe_logit_bound;

/* The witness check on precomputed logits: x is first scaled by `scale` (a
 * power of two, so exactly; the logits are scaled with it) and the scaled
 * point goes to `witness` (d) when not NULL. Stage 1 bounds every
 * competitor at once against the largest competitor logit; the competitors
 * it cannot settle are checked one by one (stage 2), and those recomputed
 * in double with the exact ||W_i - W_j|| (stage 3). Given only the
 * extremes (lf = ld = NULL), a point stage 1 cannot settle fails with why =
 * "stage 1 inconclusive". */
int tpe_unargmax_check_witness_logits(const tpe_head *h, const tpe_logit_bound *lb, size_t i, const double *x,
                                      double scale, double box, double eps, double *witness, tpe_witness_check *out);

/* Farkas certificate for token i: rows[0..n) (!= i, with W_j != W_i) and
 * y >= 0. Recomputes from W and b, with bounded rounding,
 *     bound = (sum y_j (b_i - b_j) + box || sum y_j (W_j - W_i) ||_1) / sum y_j ||W_j - W_i||
 * and returns 1 when bound < eps is certain (*bound receives it). */
int tpe_unargmax_check_certificate(const tpe_head *h, size_t i, const size_t *rows, const double *y, size_t n,
                                   double box, double eps, double *bound);

/* Numerical rank of W from a pivoted Cholesky factorization of W^T W (in
 * double, blocked through the GEMM): pivots below tol * (largest) count as
 * zero. Costs V d^2 + d^3 / 3. */
int tpe_head_rank(const tpe_head *h, size_t *rank, double *tol);

#endif
