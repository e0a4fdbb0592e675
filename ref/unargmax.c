/*
 * unargmax.c -- finding unargmaxable tokens (see unargmax.h for the
 * definitions and docs/unargmax.md for the derivation).
 *
 * Legend: V tokens, d dimensions, W (V, d), b (V), box B, radius eps.
 * x is a hidden state (d); logits are W x + b. For token i and competitor j
 * the constraint of the Chebyshev LP (Grivas et al. 2022, eq. 4) is
 *     a_j . x + n_j r <= c_j,  a_j = W_j - W_i, n_j = ||a_j||, c_j = b_i - b_j,
 * and dist_j(x) = (c_j - a_j . x) / n_j is x's signed distance to the
 * hyperplane where i and j tie (positive on i's side).
 *
 * Steps of tpe_unargmax_run:
 *   prep   validate, float/double copies of W, row norms, identical rows;
 *   rank   pivoted Cholesky of W^T W (reported, never divided by);
 *   fast   braid reflect: iteration 0 (x = W_i) for all tokens through the
 *          upper triangle of the Gram matrix W W^T, then the reflections
 *          of the rest, up to 256 tokens per float GEMM;
 *   exact  the LP's dual by lp.c with constraint generation, `lp_batch`
 *          tokens at a time, their scans of all V constraints in one
 *          double GEMM.
 */
#include "unargmax.h"

#include "cpu.h"
#include "gemm.h"
#include "io.h"
#include "lp.h"
#include "platform.h"
#include "tpe.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#define OMP_DYNAMIC _Pragma("omp parallel for schedule(dynamic, 1) num_threads(nthreads)")
#else
#define OMP_DYNAMIC
#endif

#define U32 5.9604644775390625e-08 /* 2^-24 */
#define U64 1.1102230246251565e-16 /* 2^-53 */
#define TINY32 1.4012984643248171e-45 /* 2^-149 */
#define TINY64 4.9406564584124654e-324

static double gamma_n(double n, double u) { return n * u / (1.0 - n * u); }

void tpe_unargmax_opts_default(tpe_unargmax_opts *o)
{
    memset(o, 0, sizeof *o);
    o->box = 100.0;
    o->eps = 1e-8;
    o->patience = 2500;
    o->compute_rank = 1;
    o->max_rounds = 500;
}

void tpe_unargmax_result_free(tpe_unargmax_result *r)
{
    tpe_free(r->verdict);
    tpe_free(r->how);
    tpe_free(r->fast_unresolved);
    tpe_free(r->dup_of);
    tpe_free(r->witness);
    tpe_free(r->cert_start);
    tpe_free(r->cert_rows);
    tpe_free(r->cert_y);
    tpe_free(r->cert_bound);
    tpe_free((void *)r->fail_reason);
    tpe_free(r->radius);
    memset(r, 0, sizeof *r);
}

/* ---- shared state -------------------------------------------------------- */
typedef struct ctx {
    const tpe_head *h;
    const tpe_unargmax_opts *o;
    tpe_unargmax_result *r;
    size_t V, d;
    const float *w32;  /* (V, d) */
    const double *w64; /* (V, d) or NULL (then rows are widened on use) */
    float *w32_own;
    double *rn;        /* (V) upper bounds on ||W_j||                          */
    double rn_max;     /* >= every rn[j]                                        */
    size_t *rep;       /* (V) the representative of j's group of identical rows */
    int nthreads;
    /* what the fast pass leaves: tokens and their last points */
    size_t *left;      /* (V)                                                  */
    size_t nleft;
    double *left_x;    /* (nleft, d)                                           */
    size_t left_cap;
    /* certificates, per token until assembled */
    size_t **crow;     /* (V) or NULL                                          */
    double **cy;
    size_t *cn;
} ctx;

static double bias(const ctx *c, size_t j) { return c->h->bias ? c->h->bias[j] : 0.0; }

/* row j of W in double: a pointer into W, or widened into buf */
static const double *row64(const ctx *c, size_t j, double *buf)
{
    size_t k;
    if (c->w64) return c->w64 + j * c->d;
    for (k = 0; k < c->d; k++) buf[k] = (double)c->w32[j * c->d + k];
    return buf;
}

/* ---- identical rows -------------------------------------------------------
 * Rows are hashed (FNV-1a over the bits of each value as a double, -0 taken
 * as +0), sorted by hash, and compared exactly within runs of equal hashes.
 * In a group of identical rows only the members with the largest bias can
 * ever be on top, and only when that member is unique; every other member
 * is settled now (TPE_HOW_DUPLICATE). The representative (the first member
 * with the largest bias) stands in for the group as a competitor. */
typedef struct hashed {
    uint64_t h;
    size_t i;
} hashed;

static int cmp_hashed(const void *a, const void *b)
{
    const hashed *x = a, *y = b;
    if (x->h != y->h) return x->h < y->h ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

static int rows_equal(const ctx *c, size_t i, size_t j)
{
    size_t k;
    for (k = 0; k < c->d; k++)
        if (tpe_head_w(c->h, i, k) != tpe_head_w(c->h, j, k)) return 0;
    return 1;
}

static int find_duplicates(ctx *c)
{
    const size_t V = c->V, d = c->d;
    hashed *hs = tpe_alloc_array(V, sizeof *hs, "row hashes");
    size_t *grp = tpe_alloc_array(V, sizeof *grp, "row groups");
    size_t a, b, j, k;
    if (!hs || !grp) {
        tpe_free(hs);
        tpe_free(grp);
        return TPE_ENOMEM;
    }
    for (j = 0; j < V; j++) {
        uint64_t h = 1469598103934665603ull;
        for (k = 0; k < d; k++) {
            double v = tpe_head_w(c->h, j, k);
            uint64_t bits;
            unsigned char by[8];
            size_t t;
            if (v == 0.0) v = 0.0; /* -0 -> +0 */
            memcpy(&bits, &v, 8);
            for (t = 0; t < 8; t++) by[t] = (unsigned char)(bits >> (8 * t));
            for (t = 0; t < 8; t++) h = (h ^ by[t]) * 1099511628211ull;
        }
        hs[j].h = h;
        hs[j].i = j;
        c->rep[j] = j;
        c->r->dup_of[j] = V;
    }
    qsort(hs, V, sizeof *hs, cmp_hashed);
    for (a = 0; a < V; a = b) {
        for (b = a + 1; b < V && hs[b].h == hs[a].h; b++) {
        }
        if (b - a < 2) continue;
        /* split the run into groups of equal rows (hash collisions aside) */
        {
            size_t x, y;
            for (x = a; x < b; x++) grp[x] = V;
            for (x = a; x < b; x++) {
                size_t top, count = 0, nmax = 0, first_max = V;
                double bmax = -HUGE_VAL;
                if (grp[x] != V) continue;
                grp[x] = x;
                for (y = x + 1; y < b; y++)
                    if (grp[y] == V && rows_equal(c, hs[x].i, hs[y].i)) grp[y] = x;
                for (y = x; y < b; y++) {
                    if (grp[y] != x) continue;
                    count++;
                    if (bias(c, hs[y].i) > bmax) bmax = bias(c, hs[y].i);
                }
                if (count < 2) continue;
                c->r->dup_groups++;
                c->r->dup_tokens += count;
                for (y = x; y < b; y++)
                    if (grp[y] == x && bias(c, hs[y].i) == bmax) {
                        nmax++;
                        if (first_max == V || hs[y].i < first_max) first_max = hs[y].i;
                    }
                top = first_max;
                for (y = x; y < b; y++) {
                    size_t t = hs[y].i;
                    if (grp[y] != x) continue;
                    c->rep[t] = top;
                    if (bias(c, t) < bmax || nmax > 1) {
                        /* t never wins strictly: a member with a bias >= its own ties or beats it */
                        size_t by = top != t ? top : V;
                        if (by == V)
                            for (k = a; k < b; k++)
                                if (grp[k] == x && hs[k].i != t && bias(c, hs[k].i) == bmax) {
                                    by = hs[k].i;
                                    break;
                                }
                        c->r->verdict[t] = TPE_UNARGMAXABLE;
                        c->r->how[t] = TPE_HOW_DUPLICATE;
                        c->r->dup_of[t] = by;
                    }
                }
            }
        }
    }
    tpe_free(hs);
    tpe_free(grp);
    return TPE_OK;
}

/* ---- rank ----------------------------------------------------------------- */
int tpe_head_rank(const tpe_head *h, size_t *rank, double *tol)
{
    const size_t V = h->vocab, d = h->dim, blk = 512;
    double *G, *buf = NULL, dmax0 = 0.0, t;
    size_t j0, k, p, i, rk = 0;
    *rank = 0;
    *tol = t = fmax(1e-12, 100.0 * (double)(V + d) * U64);
    G = tpe_calloc_array(d * d, sizeof *G, "Gram matrix");
    if (!G) return TPE_ENOMEM;
    if (!h->w) {
        buf = tpe_alloc_array(blk * d, sizeof *buf, "Gram block");
        if (!buf) {
            tpe_free(G);
            return TPE_ENOMEM;
        }
    }
    /* G = W^T W, a block of rows at a time */
    for (j0 = 0; j0 < V; j0 += blk) {
        size_t n = V - j0 < blk ? V - j0 : blk;
        const double *Wb = h->w ? h->w + j0 * d : buf;
        if (!h->w)
            for (i = 0; i < n * d; i++) buf[i] = (double)h->w32[j0 * d + i];
        tpe_dgemm(TPE_TRANS, TPE_NO_TRANS, d, d, n, 1.0, Wb, d, Wb, d, j0 == 0 ? 0.0 : 1.0, G, d);
    }
    tpe_free(buf);
    /* pivoted Cholesky, right-looking, on the lower triangle: after step k
     * the trailing diagonal holds the Schur complement's diagonal */
    for (k = 0; k < d; k++) dmax0 = fmax(dmax0, G[k * d + k]);
    if (dmax0 > 0.0) {
        size_t *perm = tpe_alloc_array(d, sizeof *perm, "pivots");
        if (!perm) {
            tpe_free(G);
            return TPE_ENOMEM;
        }
        for (k = 0; k < d; k++) perm[k] = k;
        for (k = 0; k < d; k++) {
            double piv = -1.0, s;
            size_t q = k;
            for (p = k; p < d; p++)
                if (G[perm[p] * d + perm[p]] > piv) {
                    piv = G[perm[p] * d + perm[p]];
                    q = p;
                }
            if (!(piv > t * dmax0)) break;
            { size_t tmp = perm[k]; perm[k] = perm[q]; perm[q] = tmp; }
            s = sqrt(piv);
            /* column k of L over the remaining indices, then the update */
            for (p = k + 1; p < d; p++) G[perm[p] * d + perm[k]] /= s;
            for (p = k + 1; p < d; p++) {
                double lp = G[perm[p] * d + perm[k]];
                for (i = k + 1; i <= p; i++) {
                    size_t a = perm[p], b2 = perm[i];
                    double li = G[b2 * d + perm[k]];
                    /* G is symmetric; keep both triangles in step */
                    G[a * d + b2] -= lp * li;
                    if (a != b2) G[b2 * d + a] = G[a * d + b2];
                }
            }
            rk++;
        }
        tpe_free(perm);
    }
    tpe_free(G);
    *rank = rk;
    return TPE_OK;
}

/* ---- the fast pass ---------------------------------------------------------
 * Braid reflect (Grivas et al. 2022, Sec. 4.1): from x = W_i, while the
 * argmax j of W x + b is not i, reflect x across the hyperplane where i and
 * j tie,
 *     x <- x - 2 t (W_i - W_j),  t = ((W_i - W_j) . x + b_i - b_j) / ||W_i - W_j||^2,
 * after which i beats j by as much as j beat i. The logits of a batch of
 * points come from one float GEMM, L = X W^T; a point where i is on top is
 * checked with the float GEMM's error bound (unargmax_check.c). */
enum { STEP_CONTINUE = 0, STEP_ARGMAXABLE = 1, STEP_LEFT = 2 };

typedef struct fast_slot {
    size_t tok, iters;
    int outcome;
    double radius;
} fast_slot;

/* largest power of two s with s * m <= box (m > 0) */
static double pow2_scale(double m, double box)
{
    int e;
    double s;
    frexp(box / m, &e);
    s = ldexp(1.0, e);
    while (s * m > box) s *= 0.5;
    return s;
}

static int fast_step(const ctx *c, fast_slot *sl, double *x, const float *x32, const float *l, double *wit,
                     double *tmp)
{
    const size_t V = c->V, d = c->d, i = sl->tok;
    const tpe_unargmax_opts *o = c->o;
    double vi = (double)l[i] + bias(c, i), best = -HUGE_VAL;
    size_t j, bj = V, k;
    if (!isfinite(vi)) return STEP_LEFT;
    {
        const double *bb = c->h->bias;
        int nan = 0;
        for (j = 0; j < V; j++) {
            double v = (double)l[j];
            if (bb) v += bb[j];
            nan |= v != v;
            if (v > best && j != i) {
                best = v;
                bj = j;
            }
        }
        if (nan) return STEP_LEFT;
    }
    if (vi >= best) {
        /* i is on top (in float): check the point x32 itself */
        double scale = 1.0, xmax = 0.0, xn = 0.0;
        tpe_witness_check chk;
        tpe_logit_bound lb;
        for (k = 0; k < d; k++) {
            tmp[k] = (double)x32[k];
            xmax = fmax(xmax, fabs(tmp[k]));
            xn += tmp[k] * tmp[k];
        }
        if (!c->h->bias) {
            /* without a bias, scaling x by s > 0 scales every margin by s:
             * take the box's edge (a power of two keeps it exact) */
            if (!(xmax > 0.0)) return STEP_LEFT;
            scale = pow2_scale(xmax, o->box);
        } else if (xmax > o->box) {
            return STEP_LEFT;
        }
        /* |L_j - W_j . x32| <= gamma_d(f32) |W32_j| . |x32| and
         * |W32_j - W_j| <= u32 |W_j| (when W came in double) + underflow */
        lb.lf = l;
        lb.ld = NULL;
        lb.coef = gamma_n((double)d, U32) * (1.0 + U32) + (c->h->w ? U32 : 0.0);
        lb.abs_err = (double)d * 2.0 * TINY32 + sqrt((double)d) * TINY32 * sqrt(xn) * 2.0;
        lb.row_norm = c->rn;
        lb.row_norm_max = c->rn_max;
        if (tpe_unargmax_check_witness_logits(c->h, &lb, i, tmp, scale, o->box, o->eps, wit, &chk)) {
            sl->radius = chk.dist;
            return STEP_ARGMAXABLE;
        }
        return STEP_LEFT;
    }
    if (sl->iters >= o->patience || bj == V) return STEP_LEFT;
    {
        /* reflect across the (i, bj) tie hyperplane, in double */
        const double *wi = row64(c, i, tmp), *wj;
        double t = bias(c, i) - bias(c, bj), nn = 0.0, f;
        double *wjbuf = tmp + d;
        wj = row64(c, bj, wjbuf);
        for (k = 0; k < d; k++) {
            double a = wi[k] - wj[k];
            t += a * x[k];
            nn += a * a;
        }
        if (!(nn > 0.0)) return STEP_LEFT;
        f = 2.0 * t / nn;
        for (k = 0; k < d; k++) x[k] -= f * (wi[k] - wj[k]);
        for (k = 0; k < d; k++)
            if (!isfinite(x[k]) || fabs(x[k]) > 1e30) return STEP_LEFT;
        sl->iters++;
    }
    return STEP_CONTINUE;
}

/* L (na, V) = X32 (na, d) W32^T for a few rows: the blocked GEMM would pack
 * all of W for each call, so take plain float dot products instead (the
 * same error bound holds: any summation order). */
#define SKINNY_ROWS 8
static void skinny_logits(const ctx *c, size_t na, const float *X32, float *L)
{
    const size_t V = c->V, d = c->d;
    const tpe_kernels *kt = tpe_kernels_get();
    const int nthreads = c->nthreads;
    long jb;
    const long nblk = (long)((V + 255) / 256);
    (void)nthreads;
    OMP_DYNAMIC
    for (jb = 0; jb < nblk; jb++) {
        size_t j, s, j0 = (size_t)jb * 256, j1 = j0 + 256 < V ? j0 + 256 : V;
        for (j = j0; j < j1; j++)
            for (s = 0; s < na; s++) L[s * V + j] = kt->sdot(c->w32 + j * d, X32 + s * d, d);
    }
}

/* ---- iteration 0 through the symmetric Gram matrix ----------------------
 * At x = W_i the logits are row i of G = W W^T (plus b). G is symmetric, so
 * the GEMM of a block of rows I = [i0, i0 + nb) against the columns
 * [i0, V) gives both the rows of I over those columns and, read by column,
 * the logits of every later token j at the points W_i (i in I). Keeping, for
 * every token, the running largest and smallest competitor logit (and where
 * the largest is) over the blocks seen, the V x V products cost half of a
 * full GEMM. Stage 1 of the witness check needs nothing else; a token it
 * cannot settle goes on to the reflections, starting again from W_i. */
typedef struct gram_red {
    double top, lo; /* over j != i of the logit of j at x = W_i (+ b_j) */
    size_t topj;
} gram_red;

/* tokens per GEMM: the logits buffer (nb, V) floats stays near 64 MB */
static size_t batch_rows(size_t V)
{
    size_t nb = (size_t)(64u << 20) / (4 * V);
    return nb > 256 ? 256 : nb < 8 ? 8 : nb;
}

static int fast_gram(ctx *c, const size_t *todo, size_t ntodo, unsigned char *settled)
{
    const size_t V = c->V, d = c->d, nb = batch_rows(V);
    const tpe_unargmax_opts *o = c->o;
    const double *bb = c->h->bias;
    gram_red *red = tpe_alloc_array(V, sizeof *red, "Gram reductions");
    float *L = tpe_alloc_array(nb * V, sizeof *L, "Gram block");
    double *wit = tpe_alloc_array((size_t)(c->nthreads > 0 ? c->nthreads : 1) * 2 * d, sizeof *wit, "witness");
    const int nthreads = c->nthreads;
    size_t i0, j;
    double work = 0.0, tg, total = 0.5 * (double)V * (double)(V + nb);
    long lt;
    tpe_progress pg;
    (void)nthreads;
    if (!red || !L || !wit) {
        tpe_free(red);
        tpe_free(L);
        tpe_free(wit);
        return TPE_ENOMEM;
    }
    for (j = 0; j < V; j++) {
        red[j].top = -HUGE_VAL;
        red[j].lo = HUGE_VAL;
        red[j].topj = V;
    }
    if (o->progress_label) tpe_progress_begin(&pg, "fast pass, x = W_i", total);
    for (i0 = 0; i0 < V; i0 += nb) {
        const size_t ni = V - i0 < nb ? V - i0 : nb, nc = V - i0;
        const long nchunks = (long)((nc - ni + 511) / 512);
        long la;
        /* L (ni, nc): L[a][t] = W32_{i0+a} . W32_{i0+t} */
        tg = tpe_now();
        tpe_sgemm(TPE_NO_TRANS, TPE_TRANS, ni, nc, d, 1.0f, c->w32 + i0 * d, d, c->w32 + i0 * d, d, 0.0f, L, nc);
        c->r->seconds_fast_gemm += tpe_now() - tg;
        /* the rows of I, over the columns [i0, V) */
        OMP_DYNAMIC
        for (la = 0; la < (long)ni; la++) {
            const size_t a = (size_t)la;
            const float *row = L + a * nc;
            gram_red r = red[i0 + a];
            size_t t;
            for (t = 0; t < nc; t++) {
                double v = (double)row[t];
                if (t == a) continue;
                if (bb) v += bb[i0 + t];
                if (v > r.top) {
                    r.top = v;
                    r.topj = i0 + t;
                }
                if (v < r.lo) r.lo = v;
            }
            red[i0 + a] = r;
        }
        /* the later tokens j = i0 + t (t >= ni), over the rows of I */
        OMP_DYNAMIC
        for (la = 0; la < nchunks; la++) {
            const size_t t0 = ni + (size_t)la * 512, t1 = t0 + 512 < nc ? t0 + 512 : nc;
            size_t a, t;
            for (a = 0; a < ni; a++) {
                const float *row = L + a * nc;
                const double bi = bb ? bb[i0 + a] : 0.0;
                for (t = t0; t < t1; t++) {
                    double v = (double)row[t] + bi;
                    gram_red *r = &red[i0 + t];
                    if (v > r->top) {
                        r->top = v;
                        r->topj = i0 + a;
                    }
                    if (v < r->lo) r->lo = v;
                }
            }
        }
        work += (double)ni * (double)nc;
        if (o->progress_label) tpe_progress_update(&pg, work);
    }
    if (o->progress_label) tpe_progress_end(&pg);
    /* stage 1 of the check for every token, at its own row */
    OMP_DYNAMIC
    for (lt = 0; lt < (long)ntodo; lt++) {
        const size_t i = todo[(size_t)lt];
#ifdef _OPENMP
        double *x = wit + (size_t)omp_get_thread_num() * 2 * d;
#else
        double *x = wit;
#endif
        double *xs = x + d, xmax = 0.0, xn = 0.0, scale = 1.0;
        tpe_logit_bound lb;
        tpe_witness_check chk;
        size_t k;
        for (k = 0; k < d; k++) {
            x[k] = (double)c->w32[i * d + k];
            xmax = fmax(xmax, fabs(x[k]));
            xn += x[k] * x[k];
        }
        if (!bb) {
            if (!(xmax > 0.0)) continue;
            scale = pow2_scale(xmax, o->box);
        } else if (xmax > o->box) {
            continue;
        }
        lb.lf = NULL;
        lb.ld = NULL;
        lb.coef = gamma_n((double)d, U32) * (1.0 + U32) + (c->h->w ? U32 : 0.0);
        lb.abs_err = (double)d * 2.0 * TINY32 + sqrt((double)d) * TINY32 * sqrt(xn) * 2.0;
        lb.row_norm = c->rn;
        lb.row_norm_max = c->rn_max;
        /* without a bias the scaled logits are scale * G_ij: scale > 0 keeps max and min */
        lb.top = bb ? red[i].top : scale * red[i].top;
        lb.lo = bb ? red[i].lo : scale * red[i].lo;
        lb.topj = red[i].topj;
        if (V > 1 && tpe_unargmax_check_witness_logits(c->h, &lb, i, x, scale, o->box, o->eps, xs, &chk)) {
            settled[i] = 1;
            c->r->verdict[i] = TPE_ARGMAXABLE;
            c->r->how[i] = TPE_HOW_FAST;
            c->r->radius[i] = chk.dist;
            if (c->r->witness) memcpy(c->r->witness + i * d, xs, d * sizeof(double));
        }
    }
    tpe_free(red);
    tpe_free(L);
    tpe_free(wit);
    return TPE_OK;
}

static int left_push(ctx *c, size_t tok, const double *x)
{
    if (c->nleft == c->left_cap) {
        size_t nc = c->left_cap ? 2 * c->left_cap : 64;
        double *nx = tpe_alloc_array(nc * c->d, sizeof(double), "unresolved points");
        if (!nx) return TPE_ENOMEM;
        if (c->nleft) memcpy(nx, c->left_x, c->nleft * c->d * sizeof(double));
        tpe_free(c->left_x);
        c->left_x = nx;
        c->left_cap = nc;
    }
    c->left[c->nleft] = tok;
    memcpy(c->left_x + c->nleft * c->d, x, c->d * sizeof(double));
    c->nleft++;
    return TPE_OK;
}

static int fast_pass(ctx *c, const size_t *todo, size_t ntodo)
{
    const size_t V = c->V, d = c->d;
    const tpe_unargmax_opts *o = c->o;
    size_t nb = o->batch, next = 0, active = 0, done = 0, s;
    fast_slot *sl;
    double *X, *wit, *tmp;
    float *X32, *L;
    int rc = TPE_OK, nthreads = c->nthreads;
    size_t reflections = 0;
    double tg;
    tpe_progress pg;
    (void)nthreads;
    if (!nb) nb = batch_rows(V);
    if (nb > ntodo) nb = ntodo ? ntodo : 1;
    sl = tpe_alloc_array(nb, sizeof *sl, "fast pass slots");
    X = tpe_alloc_array(nb * d, sizeof *X, "fast pass points");
    wit = tpe_alloc_array(nb * d, sizeof *wit, "fast pass witnesses");
    tmp = tpe_alloc_array(nb * 2 * d, sizeof *tmp, "fast pass rows");
    X32 = tpe_alloc_array(nb * d, sizeof *X32, "fast pass points");
    L = tpe_alloc_array(nb * V, sizeof *L, "fast pass logits");
    if (!sl || !X || !wit || !tmp || !X32 || !L) {
        rc = TPE_ENOMEM;
        goto out;
    }
    if (o->progress_label) tpe_progress_begin(&pg, o->progress_label, (double)ntodo);
    for (;;) {
        long ls;
        while (active < nb && next < ntodo) {
            const double *w = row64(c, todo[next], tmp);
            sl[active].tok = todo[next++];
            sl[active].iters = 0;
            sl[active].radius = (double)NAN;
            memcpy(X + active * d, w, d * sizeof(double));
            active++;
        }
        if (!active) break;
        for (s = 0; s < active * d; s++) X32[s] = (float)X[s];
        /* L (active, V) = X32 (active, d) W32^T */
        tg = tpe_now();
        if (active <= SKINNY_ROWS) skinny_logits(c, active, X32, L);
        else tpe_sgemm(TPE_NO_TRANS, TPE_TRANS, active, V, d, 1.0f, X32, d, c->w32, d, 0.0f, L, V);
        c->r->seconds_fast_gemm += tpe_now() - tg;
        OMP_DYNAMIC
        for (ls = 0; ls < (long)active; ls++) {
            size_t t = (size_t)ls;
            sl[t].outcome = fast_step(c, &sl[t], X + t * d, X32 + t * d, L + t * V, wit + t * d, tmp + t * 2 * d);
        }
        /* settle the finished slots and close the gaps (serial) */
        for (s = 0; s < active;) {
            if (sl[s].outcome == STEP_CONTINUE) {
                s++;
                continue;
            }
            {
                size_t i = sl[s].tok;
                reflections += sl[s].iters;
                if (sl[s].outcome == STEP_ARGMAXABLE) {
                    c->r->verdict[i] = TPE_ARGMAXABLE;
                    c->r->how[i] = TPE_HOW_FAST;
                    c->r->radius[i] = sl[s].radius;
                    if (c->r->witness) memcpy(c->r->witness + i * d, wit + s * d, d * sizeof(double));
                } else {
                    c->r->fast_unresolved[i] = 1;
                    if ((rc = left_push(c, i, X + s * d)) != TPE_OK) goto out;
                }
                done++;
            }
            active--;
            if (s != active) {
                sl[s] = sl[active];
                memcpy(X + s * d, X + active * d, d * sizeof(double));
                memcpy(wit + s * d, wit + active * d, d * sizeof(double));
            }
        }
        if (o->progress_label) tpe_progress_update(&pg, (double)done);
    }
    if (o->progress_label) tpe_progress_end(&pg);
    c->r->fast_reflections = reflections;
out:
    tpe_free(sl);
    tpe_free(X);
    tpe_free(wit);
    tpe_free(tmp);
    tpe_free(X32);
    tpe_free(L);
    return rc;
}

/* ---- the exact pass --------------------------------------------------------
 * For token i, the Chebyshev LP over the competitors in a working set S,
 *     maximize r  s.t.  a_j . x + n_j r <= c_j (j in S),  -B <= x_k <= B,
 * is solved through its dual (lp.c, m = d + 1 rows):
 *     minimize sum_j (c_j / n_j) y_j + B sum_k (p_k + q_k)
 *     s.t.     sum_j (a_j / n_j) y_j + p - q = 0,   sum_j y_j = 1,   y, p, q >= 0,
 * whose multipliers are (x, r). Every feasible y bounds r from above, so as
 * soon as the dual objective drops below eps the basic y is a Farkas
 * certificate (unargmax_check.c verifies it). Otherwise the optimal (x, r)
 * is scanned against all V constraints with one GEMM row: if x is a checked
 * witness, i is argmaxable; else the constraints x violates most (smallest
 * dist_j below r) join S as new columns and the simplex continues from its
 * last basis. The first scan, at the fast pass's last point, picks the
 * (d + 1) / 2 nearest competitors; each later scan adds up to d + 1. */
enum { X_SCAN = 0, X_SOLVE = 1, X_DONE = 2 };

typedef struct cand {
    double key;
    size_t j;
} cand;

typedef struct xslot {
    size_t tok;
    tpe_lp *lp;
    size_t *cols;       /* (cap) token of each dense LP column                 */
    double *ncol;       /* (cap) its n_j                                        */
    size_t ncols, cap;
    unsigned char *inS; /* (V)                                                  */
    cand *cand;         /* (V) scan candidates                                  */
    size_t *add;        /* (V) chosen to join S                                 */
    size_t nadd;
    double *x;          /* (d) point to scan                                    */
    double *wit;        /* (d) checked witness                                  */
    double *tmp;        /* (2 d) rows                                           */
    double r, cmax, radius;
    int phase, first, verdict;
    const char *why;
    size_t rounds, pivots0, scans;
    size_t *crow;       /* certificate: rows, y, and the rows' n_j              */
    double *cy, *cn_norm;
    size_t cn;
} xslot;

static void cand_select(cand *a, size_t n, size_t k)
{
    /* quickselect: afterwards a[0..k) hold the k smallest keys */
    size_t lo = 0, hi = n;
    while (hi - lo > 1 && k > lo && k < hi) {
        double pv = a[lo + (hi - lo) / 2].key;
        size_t i = lo, j = hi - 1;
        while (i <= j) {
            while (a[i].key < pv) i++;
            while (a[j].key > pv) j--;
            if (i <= j) {
                cand t = a[i];
                a[i] = a[j];
                a[j] = t;
                i++;
                if (j == 0) break;
                j--;
            }
        }
        if (k <= j) hi = j + 1;
        else if (k >= i) lo = i;
        else break;
    }
}

static void xslot_release(xslot *s)
{
    tpe_lp_free(s->lp);
    tpe_free(s->cols);
    tpe_free(s->ncol);
    tpe_free(s->crow);
    tpe_free(s->cy);
    tpe_free(s->cn_norm);
    s->cn_norm = NULL;
    s->lp = NULL;
    s->cols = NULL;
    s->ncol = NULL;
    s->crow = NULL;
    s->cy = NULL;
    s->ncols = s->cap = s->cn = 0;
}

/* ||W_j - W_i||, computed (scaled against overflow) */
static double diff_norm64(const ctx *c, size_t i, size_t j, double *tmp)
{
    const double *wi = row64(c, i, tmp), *wj = row64(c, j, tmp + c->d);
    double mx = 0.0, s = 0.0;
    size_t k;
    for (k = 0; k < c->d; k++) mx = fmax(mx, fabs(wj[k] - wi[k]));
    if (mx == 0.0) return 0.0;
    for (k = 0; k < c->d; k++) {
        double t = (wj[k] - wi[k]) / mx;
        s += t * t;
    }
    return mx * sqrt(s);
}

static void scan(const ctx *c, xslot *s, const double *ld)
{
    const size_t V = c->V, d = c->d, i = s->tok;
    const tpe_unargmax_opts *o = c->o;
    const double A = ld[i] + bias(c, i);
    double thr, xmax = 0.0, scale = 1.0;
    size_t j, k, nc = 0, K;
    int inbox = 1;
    s->scans++;
    s->nadd = 0;
    for (k = 0; k < d; k++) {
        xmax = fmax(xmax, fabs(s->x[k]));
        if (!(fabs(s->x[k]) <= o->box)) inbox = 0;
    }
    if (!c->h->bias && xmax > 0.0) {
        scale = pow2_scale(xmax, o->box);
        inbox = 1;
    }
    if (inbox && (s->first || s->r >= o->eps)) {
        tpe_witness_check chk;
        tpe_logit_bound lb;
        /* ld came from the double GEMM: |ld_j - W_j . x| <= gamma_d |W_j| . |x| */
        lb.lf = NULL;
        lb.ld = ld;
        lb.coef = gamma_n((double)d, U64);
        lb.abs_err = (double)(d + 1) * TINY64;
        lb.row_norm = c->rn;
        lb.row_norm_max = c->rn_max;
        if (tpe_unargmax_check_witness_logits(c->h, &lb, i, s->x, scale, o->box, o->eps, s->wit, &chk)) {
            s->verdict = TPE_ARGMAXABLE;
            s->radius = chk.dist;
            s->phase = X_DONE;
            return;
        }
        s->why = chk.why;
    }
    thr = s->first ? HUGE_VAL : s->r * (1.0 - 1e-9) - 1e-12 * (1.0 + fabs(s->r));
    for (j = 0; j < V; j++) {
        double slack, bound;
        if (j == i || c->rep[j] != j || s->inS[j]) continue;
        slack = A - (ld[j] + bias(c, j));
        bound = c->rn[i] + c->rn[j]; /* >= n_j */
        if (s->first) {
            /* nearest competitors, by slack / (upper bound on n_j) */
            s->cand[nc].key = slack / bound;
            s->cand[nc++].j = j;
        } else if (slack < bound * thr || slack < 0.0) {
            double nd = diff_norm64(c, i, j, s->tmp), dist;
            if (!(nd > 0.0)) continue;
            dist = slack / nd;
            if (dist < thr) {
                s->cand[nc].key = dist;
                s->cand[nc++].j = j;
            }
        }
    }
    if (nc == 0) {
        s->verdict = TPE_FAILED;
        s->why = s->first ? "no competitor to constrain the LP (and the start point did not check)"
                          : "the LP optimum violates no constraint but does not check as a witness (radius within rounding of eps)";
        s->phase = X_DONE;
        return;
    }
    /* (d + 1) / 2 to start, d + 1 per round: measured at d = 128, 384, 768 */
    K = s->first ? (d + 1) / 2 : d + 1;
    if (K < 16) K = 16;
    if (K > nc) K = nc;
    cand_select(s->cand, nc, K);
    for (k = 0; k < K; k++) s->add[k] = s->cand[k].j;
    s->nadd = K;
    s->phase = X_SOLVE;
}

/* add the chosen columns (serial: it allocates); set the first basis */
static int add_columns(const ctx *c, xslot *s)
{
    const size_t d = c->d, i = s->tok;
    double *col = s->tmp;         /* (d + 1) */
    double *wbuf = s->tmp + d + 1; /* (d) rows go through here when W is float */
    size_t t, k;
    int rc;
    if (s->ncols + s->nadd > s->cap) {
        size_t nc = s->cap ? s->cap : 64;
        size_t *ncl;
        double *nn;
        while (nc < s->ncols + s->nadd) nc *= 2;
        ncl = tpe_alloc_array(nc, sizeof *ncl, "LP columns");
        nn = tpe_alloc_array(nc, sizeof *nn, "LP columns");
        if (!ncl || !nn) {
            tpe_free(ncl);
            tpe_free(nn);
            return TPE_ENOMEM;
        }
        if (s->ncols) {
            memcpy(ncl, s->cols, s->ncols * sizeof *ncl);
            memcpy(nn, s->ncol, s->ncols * sizeof *nn);
        }
        tpe_free(s->cols);
        tpe_free(s->ncol);
        s->cols = ncl;
        s->ncol = nn;
        s->cap = nc;
    }
    if ((rc = tpe_lp_reserve(s->lp, s->nadd)) != TPE_OK) return rc;
    for (t = 0; t < s->nadd; t++) {
        size_t j = s->add[t];
        double nd, cj, mx = 0.0, ss = 0.0;
        /* a_j / n_j and c_j / n_j, the difference scaled against overflow */
        memcpy(col, row64(c, i, wbuf), d * sizeof(double));
        {
            const double *wj = row64(c, j, wbuf);
            for (k = 0; k < d; k++) {
                col[k] = wj[k] - col[k];
                mx = fmax(mx, fabs(col[k]));
            }
        }
        if (!(mx > 0.0)) continue; /* cannot happen: identical rows never get here */
        for (k = 0; k < d; k++) {
            double q = col[k] / mx;
            ss += q * q;
        }
        nd = mx * sqrt(ss);
        for (k = 0; k < d; k++) col[k] /= nd;
        col[d] = 1.0;
        cj = (bias(c, i) - bias(c, j)) / nd;
        if ((rc = tpe_lp_add_dense(s->lp, col, cj, NULL)) != TPE_OK) return rc;
        s->cmax = fmax(s->cmax, fabs(cj));
        s->cols[s->ncols] = j;
        s->ncol[s->ncols] = nd;
        s->ncols++;
        s->inS[j] = 1;
    }
    if (s->first) {
        /* start from the one constraint with the best single-row bound
         * c_j/n_j + B ||a_j/n_j||_1: y_j0 = 1, and p_k or q_k carries
         * -(a_j0/n_j0)_k so that sum_j (a_j/n_j) y_j + p - q = 0 */
        size_t best = 0, *basis = s->add; /* the add list is spent */
        double bb = HUGE_VAL, *wi = s->wit;
        memcpy(wi, row64(c, i, col), d * sizeof(double));
        for (t = 0; t < s->ncols; t++) {
            const double *wj = row64(c, s->cols[t], col);
            double l1 = 0.0, v;
            for (k = 0; k < d; k++) l1 += fabs(wj[k] - wi[k]);
            v = ((bias(c, i) - bias(c, s->cols[t])) + c->o->box * l1) / s->ncol[t];
            if (v < bb) {
                bb = v;
                best = t;
            }
        }
        {
            const double *wj = row64(c, s->cols[best], col);
            for (k = 0; k < d; k++) basis[k] = wj[k] - wi[k] <= 0.0 ? k : d + k; /* p_k = -a_k >= 0, or q_k = a_k > 0 */
            basis[d] = 2 * d + best;
        }
        if ((rc = tpe_lp_set_basis(s->lp, basis)) != TPE_OK) return rc;
        s->first = 0;
    }
    s->nadd = 0;
    return TPE_OK;
}

static void solve(const ctx *c, xslot *s)
{
    const size_t d = c->d, i = s->tok;
    const tpe_unargmax_opts *o = c->o;
    const size_t budget = 200 * (d + 1) + 20000;
    tpe_lp_opts lo;
    tpe_lp_status st;
    const double *pi;
    size_t used = tpe_lp_get_stats(s->lp)->pivots - s->pivots0, k;
    int tries;
    tpe_lp_opts_default(&lo);
    lo.tol_opt = 1e-13 * (1.0 + sqrt((double)d)) * fmax(1.0, fmax(o->box, s->cmax));
    lo.tol_feas = 1e-11;
    lo.refactor = d + 1 < 50 ? 50 : (d + 1 > 500 ? 500 : d + 1);
    lo.stop_below = 0.5 * o->eps;
    for (tries = 0; tries < 2; tries++) {
        lo.max_pivots = budget > used ? budget - used : 0;
        st = tpe_lp_solve(s->lp, &lo);
        used = tpe_lp_get_stats(s->lp)->pivots - s->pivots0;
        pi = tpe_lp_pi(s->lp);
        if (st == TPE_LP_STOPPED || (st == TPE_LP_OPTIMAL && pi[d] < o->eps)) {
            /* the basic y is a Farkas certificate: y_j = (LP value) / n_j */
            const size_t *basis = tpe_lp_basis(s->lp);
            const double *zb = tpe_lp_basic_values(s->lp);
            size_t r, n = 0;
            double bound;
            for (r = 0; r <= d; r++)
                if (basis[r] >= 2 * d && zb[r] > 0.0) {
                    size_t t = basis[r] - 2 * d;
                    s->crow[n] = s->cols[t];
                    s->cy[n] = zb[r] / s->ncol[t];
                    s->cn_norm[n] = s->ncol[t];
                    n++;
                }
            if (n && tpe_unargmax_check_certificate(c->h, i, s->crow, s->cy, n, o->box, o->eps, &bound)) {
                /* normalize to sum_j y_j n_j = 1: that sum is sum_r z_r */
                double den = 0.0;
                for (r = 0; r < n; r++) den += s->cy[r] * s->cn_norm[r];
                for (r = 0; r < n; r++) s->cy[r] /= den;
                s->cn = n;
                s->radius = bound;
                s->verdict = TPE_UNARGMAXABLE;
                s->phase = X_DONE;
                return;
            }
            if (st == TPE_LP_STOPPED) {
                /* stopped early with a certificate that does not check: go on to the optimum */
                lo.stop_below = -HUGE_VAL;
                continue;
            }
            s->verdict = TPE_FAILED;
            s->why = "the LP says the radius is below eps but its Farkas certificate does not check";
            s->phase = X_DONE;
            return;
        }
        break;
    }
    if (st != TPE_LP_OPTIMAL) {
        s->verdict = TPE_FAILED;
        s->why = st == TPE_LP_PIVOT_LIMIT ? "LP pivot limit reached"
                 : st == TPE_LP_NUMERIC   ? "LP numerical failure (singular basis or lost feasibility)"
                 : st == TPE_LP_UNBOUNDED ? "LP reported unbounded (numerical trouble)"
                                          : "LP stopped with a certificate that does not check";
        s->phase = X_DONE;
        return;
    }
    pi = tpe_lp_pi(s->lp);
    for (k = 0; k < d; k++) s->x[k] = fmax(-o->box, fmin(o->box, pi[k]));
    s->r = pi[d];
    if (++s->rounds >= o->max_rounds) {
        s->verdict = TPE_FAILED;
        s->why = "too many constraint-generation rounds";
        s->phase = X_DONE;
        return;
    }
    s->phase = X_SCAN;
}

static int exact_pass(ctx *c)
{
    const size_t V = c->V, d = c->d, n = c->nleft;
    const tpe_unargmax_opts *o = c->o;
    size_t nb = o->lp_batch, next = 0, active = 0, done = 0, s, k;
    xslot *sl = NULL;
    double *X = NULL, *L = NULL;
    size_t *idx = NULL;
    int rc = TPE_OK, nthreads = c->nthreads;
    tpe_progress pg;
    (void)nthreads;
    if (!nb) nb = 4 * (size_t)(c->nthreads > 0 ? c->nthreads : 1);
    if (nb > n) nb = n;
    if (!nb) return TPE_OK;
    sl = tpe_calloc_array(nb, sizeof *sl, "exact pass slots");
    X = tpe_alloc_array(nb * d, sizeof *X, "exact pass points");
    L = tpe_alloc_array(nb * V, sizeof *L, "exact pass logits");
    idx = tpe_alloc_array(nb, sizeof *idx, "exact pass slots");
    if (!sl || !X || !L || !idx) {
        rc = TPE_ENOMEM;
        goto out;
    }
    for (s = 0; s < nb; s++) {
        sl[s].inS = tpe_alloc_array(V, 1, "exact pass set");
        sl[s].cand = tpe_alloc_array(V, sizeof(cand), "exact pass candidates");
        sl[s].add = tpe_alloc_array(V > d + 1 ? V : d + 1, sizeof(size_t), "exact pass additions");
        sl[s].x = tpe_alloc_array(d, sizeof(double), "exact pass point");
        sl[s].wit = tpe_alloc_array(d, sizeof(double), "exact pass witness");
        sl[s].tmp = tpe_alloc_array(2 * d + 2, sizeof(double), "exact pass rows");
        if (!sl[s].inS || !sl[s].cand || !sl[s].add || !sl[s].x || !sl[s].wit || !sl[s].tmp) {
            rc = TPE_ENOMEM;
            goto out;
        }
    }
    if (o->progress_label) tpe_progress_begin(&pg, "exact (LP)", (double)n);
    for (;;) {
        long ls;
        size_t ns = 0;
        /* fill free slots (the active ones are sl[0..active)) */
        while (active < nb && next < n) {
            xslot *x = &sl[active];
            double *rhs = x->tmp, xmax = 0.0;
            size_t tk = c->left[next];
            x->tok = tk;
            memset(x->inS, 0, V);
            x->r = HUGE_VAL;
            x->cmax = 0.0;
            x->radius = (double)NAN;
            x->first = 1;
            x->verdict = TPE_UNDECIDED;
            x->why = NULL;
            x->rounds = x->scans = 0;
            x->cn = 0;
            memcpy(x->x, c->left_x + next * d, d * sizeof(double));
            for (k = 0; k < d; k++) xmax = fmax(xmax, fabs(x->x[k]));
            if (c->h->bias) {
                for (k = 0; k < d; k++) x->x[k] = fmax(-o->box, fmin(o->box, x->x[k]));
            } else if (xmax > 0.0) {
                double sc = pow2_scale(xmax, o->box);
                for (k = 0; k < d; k++) x->x[k] *= sc;
            }
            next++;
            for (k = 0; k < d; k++) rhs[k] = 0.0;
            rhs[d] = 1.0;
            x->crow = tpe_alloc_array(d + 1, sizeof(size_t), "certificate");
            x->cy = tpe_alloc_array(d + 1, sizeof(double), "certificate");
            x->cn_norm = tpe_alloc_array(d + 1, sizeof(double), "certificate");
            if (!x->crow || !x->cy || !x->cn_norm || (rc = tpe_lp_new(d + 1, rhs, &x->lp)) != TPE_OK) {
                rc = rc ? rc : TPE_ENOMEM;
                goto out;
            }
            /* p_k = +e_k (index k) and q_k = -e_k (index d + k), cost B: the box */
            for (k = 0; k < d && !rc; k++) rc = tpe_lp_add_unit(x->lp, k, 1, o->box, NULL);
            for (k = 0; k < d && !rc; k++) rc = tpe_lp_add_unit(x->lp, k, -1, o->box, NULL);
            if (rc) goto out;
            x->pivots0 = 0;
            x->phase = X_SCAN;
            active++;
        }
        if (!active) break;
        /* scans: one double GEMM for every slot that needs one */
        for (s = 0; s < active; s++)
            if (sl[s].phase == X_SCAN) {
                memcpy(X + ns * d, sl[s].x, d * sizeof(double));
                idx[ns++] = s;
            }
        if (ns) {
            if (c->w64) {
                tpe_dgemm(TPE_NO_TRANS, TPE_TRANS, ns, V, d, 1.0, X, d, c->w64, d, 0.0, L, V);
            } else {
                /* W only in float: widen a block of rows at a time */
                const size_t blk = 256;
                double *wb = tpe_alloc_array(blk * d, sizeof *wb, "widened rows");
                double *lb = tpe_alloc_array(ns * blk, sizeof *lb, "logits block");
                size_t j0, a, q;
                if (!wb || !lb) {
                    tpe_free(wb);
                    tpe_free(lb);
                    rc = TPE_ENOMEM;
                    goto out;
                }
                for (j0 = 0; j0 < V; j0 += blk) {
                    size_t nbk = V - j0 < blk ? V - j0 : blk;
                    for (q = 0; q < nbk * d; q++) wb[q] = (double)c->w32[j0 * d + q];
                    tpe_dgemm(TPE_NO_TRANS, TPE_TRANS, ns, nbk, d, 1.0, X, d, wb, d, 0.0, lb, nbk);
                    for (a = 0; a < ns; a++) memcpy(L + a * V + j0, lb + a * nbk, nbk * sizeof(double));
                }
                tpe_free(wb);
                tpe_free(lb);
            }
            OMP_DYNAMIC
            for (ls = 0; ls < (long)ns; ls++) scan(c, &sl[idx[ls]], L + (size_t)ls * V);
            for (s = 0; s < active; s++)
                if (sl[s].phase == X_SOLVE && sl[s].nadd) {
                    rc = add_columns(c, &sl[s]);
                    if (rc == TPE_ENOMEM) goto out;
                    if (rc != TPE_OK) {
                        sl[s].verdict = TPE_FAILED;
                        sl[s].why = "could not start the LP (singular or infeasible first basis)";
                        sl[s].phase = X_DONE;
                        rc = TPE_OK;
                    }
                }
        }
        ns = 0;
        for (s = 0; s < active; s++)
            if (sl[s].phase == X_SOLVE) idx[ns++] = s;
        OMP_DYNAMIC
        for (ls = 0; ls < (long)ns; ls++) solve(c, &sl[idx[ls]]);
        /* settle the finished slots */
        for (s = 0; s < active;) {
            xslot *x = &sl[s];
            size_t i;
            if (x->phase != X_DONE) {
                s++;
                continue;
            }
            i = x->tok;
            c->r->verdict[i] = (unsigned char)x->verdict;
            c->r->how[i] = TPE_HOW_LP;
            c->r->radius[i] = x->radius;
            c->r->lp_rounds += x->rounds;
            c->r->lp_scans += x->scans;
            c->r->lp_columns += x->ncols;
            c->r->lp_pivots += tpe_lp_get_stats(x->lp)->pivots;
            c->r->lp_degenerate += tpe_lp_get_stats(x->lp)->degenerate;
            c->r->lp_bland += tpe_lp_get_stats(x->lp)->bland;
            c->r->lp_refactors += tpe_lp_get_stats(x->lp)->refactors;
            if (x->verdict == TPE_FAILED) c->r->fail_reason[i] = x->why;
            if (x->verdict == TPE_ARGMAXABLE && c->r->witness) memcpy(c->r->witness + i * d, x->wit, d * sizeof(double));
            if (x->verdict == TPE_UNARGMAXABLE) {
                c->crow[i] = x->crow;
                c->cy[i] = x->cy;
                c->cn[i] = x->cn;
                x->crow = NULL;
                x->cy = NULL;
            }
            xslot_release(x);
            done++;
            active--;
            if (s != active) {
                /* move the last active slot here, keeping the buffers paired */
                xslot t = sl[s];
                sl[s] = sl[active];
                sl[active] = t;
            }
        }
        if (o->progress_label) tpe_progress_update(&pg, (double)done);
    }
    if (o->progress_label) tpe_progress_end(&pg);
    c->r->exact_tokens = n;
out:
    if (sl)
        for (s = 0; s < nb; s++) {
            xslot_release(&sl[s]);
            tpe_free(sl[s].inS);
            tpe_free(sl[s].cand);
            tpe_free(sl[s].add);
            tpe_free(sl[s].x);
            tpe_free(sl[s].wit);
            tpe_free(sl[s].tmp);
        }
    tpe_free(sl);
    tpe_free(X);
    tpe_free(L);
    tpe_free(idx);
    return rc;
}

/* ---- the driver ------------------------------------------------------------ */
int tpe_unargmax_run(const tpe_head *h, const tpe_unargmax_opts *o, tpe_unargmax_result *r)
{
    const size_t V = h->vocab, d = h->dim;
    ctx c;
    size_t j, k, n, *todo = NULL, ntodo = 0, ntodo0;
    double t0 = tpe_now(), t1;
    int rc;
    memset(r, 0, sizeof *r);
    memset(&c, 0, sizeof c);
    if ((rc = tpe_head_validate(h)) != TPE_OK) return rc;
    if (!(o->box > 0.0) || !isfinite(o->box)) return tpe_error(TPE_EINVAL, "the box B must be positive and finite (got %g)", o->box);
    if (!(o->eps > 0.0) || !isfinite(o->eps)) return tpe_error(TPE_EINVAL, "eps must be positive and finite (got %g)", o->eps);
    n = V * d;
    r->vocab = V;
    r->dim = d;
    r->rank = V < d ? V : d;
    r->rank_tol = (double)NAN;
    r->verdict = tpe_calloc_array(V, 1, "verdicts");
    r->how = tpe_calloc_array(V, 1, "verdicts");
    r->fast_unresolved = tpe_calloc_array(V, 1, "verdicts");
    r->dup_of = tpe_alloc_array(V, sizeof *r->dup_of, "duplicates");
    r->radius = tpe_alloc_array(V, sizeof *r->radius, "radii");
    r->fail_reason = tpe_calloc_array(V, sizeof *r->fail_reason, "failures");
    r->cert_bound = tpe_alloc_array(V, sizeof *r->cert_bound, "certificates");
    c.h = h;
    c.o = o;
    c.r = r;
    c.V = V;
    c.d = d;
    c.nthreads = tpe_threads();
    c.rn = tpe_alloc_array(V, sizeof *c.rn, "row norms");
    c.rep = tpe_alloc_array(V, sizeof *c.rep, "row groups");
    c.left = tpe_alloc_array(V, sizeof *c.left, "unresolved tokens");
    c.crow = tpe_calloc_array(V, sizeof *c.crow, "certificates");
    c.cy = tpe_calloc_array(V, sizeof *c.cy, "certificates");
    c.cn = tpe_calloc_array(V, sizeof *c.cn, "certificates");
    todo = tpe_alloc_array(V, sizeof *todo, "tokens");
    if (!r->verdict || !r->how || !r->fast_unresolved || !r->dup_of || !r->radius || !r->fail_reason ||
        !r->cert_bound || !c.rn || !c.rep || !c.left || !c.crow || !c.cy || !c.cn || !todo) {
        rc = TPE_ENOMEM;
        goto out;
    }
    for (j = 0; j < V; j++) r->radius[j] = r->cert_bound[j] = (double)NAN;
    if (o->keep_witnesses) {
        r->witness = tpe_alloc_array(n, sizeof(double), "witnesses");
        if (!r->witness) {
            rc = TPE_ENOMEM;
            goto out;
        }
        for (j = 0; j < n; j++) r->witness[j] = (double)NAN;
    }
    /* float copy for the fast pass, double for the exact one */
    if (h->w32) {
        c.w32 = h->w32;
    } else if (!o->skip_fast) {
        c.w32_own = tpe_alloc_array(n, sizeof(float), "W in float");
        if (!c.w32_own) {
            rc = TPE_ENOMEM;
            goto out;
        }
        for (j = 0; j < n; j++) {
            if (fabs(h->w[j]) > (double)FLT_MAX) {
                rc = tpe_error(TPE_EINVAL, "W[%zu, %zu] = %g is beyond the float range of the fast pass", j / d, j % d, h->w[j]);
                goto out;
            }
            c.w32_own[j] = (float)h->w[j];
        }
        c.w32 = c.w32_own;
    }
    c.w64 = h->w;
    /* upper bounds on the row norms */
    for (j = 0; j < V; j++) {
        double mx = 0.0, s = 0.0;
        for (k = 0; k < d; k++) mx = fmax(mx, fabs(tpe_head_w(h, j, k)));
        if (mx > 0.0)
            for (k = 0; k < d; k++) {
                double q = tpe_head_w(h, j, k) / mx;
                s += q * q;
            }
        c.rn[j] = mx * sqrt(s) * (1.0 + ((double)d + 6.0) * U64);
        c.rn_max = fmax(c.rn_max, c.rn[j]);
    }
    if ((rc = find_duplicates(&c)) != TPE_OK) goto out;
    t1 = tpe_now();
    r->seconds_prep = t1 - t0;
    if (o->compute_rank) {
        if ((rc = tpe_head_rank(h, &r->rank, &r->rank_tol)) != TPE_OK) goto out;
        r->seconds_rank = tpe_now() - t1;
    }
    for (j = 0; j < V; j++) {
        if (r->verdict[j] != TPE_UNDECIDED) {
            r->fast_unresolved[j] = 1; /* settled as a duplicate, not by the fast pass */
            continue;
        }
        todo[ntodo++] = j;
    }
    if (V == 1) {
        /* nothing to beat: any point in the box is a witness */
        r->verdict[0] = TPE_ARGMAXABLE;
        r->how[0] = TPE_HOW_SINGLE;
        r->radius[0] = HUGE_VAL;
        if (r->witness)
            for (k = 0; k < d; k++) r->witness[k] = 0.0;
        ntodo = 0;
    }
    t1 = tpe_now();
    ntodo0 = ntodo;
    if (o->skip_fast) {
        double *w = tpe_alloc_array(d, sizeof *w, "row");
        if (!w) {
            rc = TPE_ENOMEM;
            goto out;
        }
        for (j = 0; j < ntodo && !rc; j++) {
            r->fast_unresolved[todo[j]] = 1;
            rc = left_push(&c, todo[j], row64(&c, todo[j], w));
        }
        tpe_free(w);
        if (rc) goto out;
    } else if (ntodo) {
        /* iteration 0 by the Gram matrix when its float products cannot
         * overflow (|G_ij| <= ||W_i|| ||W_j||), then the reflections for the rest */
        size_t nrest = ntodo;
        if (c.rn_max * c.rn_max < 1e37 && V > 1 && !o->batch) {
            unsigned char *settled = tpe_calloc_array(V, 1, "settled tokens");
            if (!settled) {
                rc = TPE_ENOMEM;
                goto out;
            }
            if ((rc = fast_gram(&c, todo, ntodo, settled)) != TPE_OK) {
                tpe_free(settled);
                goto out;
            }
            for (j = 0, nrest = 0; j < ntodo; j++)
                if (!settled[todo[j]]) todo[nrest++] = todo[j];
            tpe_free(settled);
        }
        if (nrest && (rc = fast_pass(&c, todo, nrest)) != TPE_OK) goto out;
    }
    r->fast_tokens = o->skip_fast ? 0 : ntodo0;
    r->seconds_fast = tpe_now() - t1;
    if (o->exact && c.nleft) {
        t1 = tpe_now();
        if ((rc = exact_pass(&c)) != TPE_OK) goto out;
        r->seconds_exact = tpe_now() - t1;
    }
    /* certificates in one array */
    {
        size_t total = 0, at = 0;
        r->cert_start = tpe_alloc_array(V + 1, sizeof *r->cert_start, "certificates");
        if (!r->cert_start) {
            rc = TPE_ENOMEM;
            goto out;
        }
        for (j = 0; j < V; j++) total += c.cn[j];
        r->cert_rows = tpe_alloc_array(total ? total : 1, sizeof *r->cert_rows, "certificates");
        r->cert_y = tpe_alloc_array(total ? total : 1, sizeof *r->cert_y, "certificates");
        if (!r->cert_rows || !r->cert_y) {
            rc = TPE_ENOMEM;
            goto out;
        }
        for (j = 0; j < V; j++) {
            r->cert_start[j] = at;
            if (c.cn[j]) {
                memcpy(r->cert_rows + at, c.crow[j], c.cn[j] * sizeof(size_t));
                memcpy(r->cert_y + at, c.cy[j], c.cn[j] * sizeof(double));
                r->cert_bound[j] = r->radius[j];
                at += c.cn[j];
            }
        }
        r->cert_start[V] = at;
    }
out:
    if (c.crow)
        for (j = 0; j < V; j++) {
            tpe_free(c.crow[j]);
            tpe_free(c.cy[j]);
        }
    tpe_free(c.crow);
    tpe_free(c.cy);
    tpe_free(c.cn);
    tpe_free(c.w32_own);
    tpe_free(c.rn);
    tpe_free(c.rep);
    tpe_free(c.left);
    tpe_free(c.left_x);
    tpe_free(todo);
    if (rc) tpe_unargmax_result_free(r);
    return rc;
}
