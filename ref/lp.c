/*
 * lp.c -- the dense revised simplex method of lp.h.
 *
 * Storage. Column j is kind[j] = 0 (dense: m values at vals + ref[j] * m)
 * or +1 / -1 (the unit column +-e_row, row = ref[j]). The basis is
 * basis[r] (the column basic in position r) with posn[j] = r, or NONE when
 * j is nonbasic. binv is B^-1, row-major m x m, with rows indexed by basis
 * position, so that
 *     z_B = B^-1 rhs,   alpha = B^-1 M_q,   pi^T = c_B^T B^-1.
 */
#include "lp.h"

#include "cpu.h"
#include "tpe.h"

#include <math.h>
#include <string.h>

#define NONE ((size_t)-1)

struct tpe_lp {
    size_t m;
    double *rhs;            /* (m)                                     */
    size_t n, cap;          /* columns and capacity                    */
    signed char *kind;      /* (cap) 0 dense, +1/-1 unit               */
    size_t *ref;            /* (cap) dense slot or unit row            */
    double *cost, *cnorm;   /* (cap) c_j and ||M_j||_2                 */
    double *dj, *wdx;       /* (cap) reduced costs, Devex weights      */
    size_t *posn;           /* (cap) basis position or NONE            */
    double *vals;           /* (dcap, m) dense columns                 */
    size_t nd, dcap;
    size_t *basis;          /* (m)                                     */
    double *binv;           /* (m, m)                                  */
    double *zb, *pi, *alpha;/* (m) each                                */
    double *rho;            /* (m) the pivot row of B^-1               */
    /* refactorization work */
    double *mat;            /* (m, 2m) augmented block [B_DD | I]      */
    size_t *rowown, *dpos, *drow; /* (m) each                          */
    int have_basis;
    const tpe_kernels *kt;
    tpe_lp_stats st;
};

const char *tpe_lp_status_name(tpe_lp_status s)
{
    switch (s) {
    case TPE_LP_OPTIMAL: return "optimal";
    case TPE_LP_STOPPED: return "stopped (objective below the target)";
    case TPE_LP_PIVOT_LIMIT: return "pivot limit reached";
    case TPE_LP_UNBOUNDED: return "unbounded";
    case TPE_LP_NUMERIC: return "numerical failure (singular basis or feasibility lost)";
    }
    return "?";
}

void tpe_lp_opts_default(tpe_lp_opts *o)
{
    o->max_pivots = 100000;
    o->stop_below = -HUGE_VAL;
    o->tol_opt = 1e-10;
    o->tol_feas = 1e-11;
    o->tol_pivot = 1e-9;
    o->refactor = 100;
    o->bland_after = 30;
}

static void *grow(void *old, size_t oldn, size_t newn, size_t size, const char *what)
{
    void *p = tpe_alloc_array(newn, size, what);
    if (!p) return NULL;
    if (old && oldn) memcpy(p, old, oldn * size);
    tpe_free(old);
    return p;
}

int tpe_lp_new(size_t m, const double *rhs, tpe_lp **out)
{
    tpe_lp *lp;
    size_t mm;
    *out = NULL;
    if (m == 0) return tpe_error(TPE_EINVAL, "LP: no rows");
    if (tpe_size_mul(m, m, &mm) || mm > ((size_t)-1) / 4 / sizeof(double))
        return tpe_error(TPE_ENOMEM, "LP: %zu rows is too many", m);
    lp = tpe_alloc(sizeof *lp, "LP");
    if (!lp) return TPE_ENOMEM;
    memset(lp, 0, sizeof *lp);
    lp->m = m;
    lp->kt = tpe_kernels_get();
    lp->rhs = tpe_alloc_array(m, sizeof(double), "LP rhs");
    lp->basis = tpe_alloc_array(m, sizeof(size_t), "LP basis");
    lp->binv = tpe_alloc_array(mm, sizeof(double), "LP inverse");
    lp->zb = tpe_alloc_array(m, sizeof(double), "LP values");
    lp->pi = tpe_alloc_array(m, sizeof(double), "LP multipliers");
    lp->alpha = tpe_alloc_array(m, sizeof(double), "LP column");
    lp->rho = tpe_alloc_array(m, sizeof(double), "LP row");
    lp->mat = tpe_alloc_array(2 * mm, sizeof(double), "LP factorization");
    lp->rowown = tpe_alloc_array(m, sizeof(size_t), "LP rows");
    lp->dpos = tpe_alloc_array(m, sizeof(size_t), "LP rows");
    lp->drow = tpe_alloc_array(m, sizeof(size_t), "LP rows");
    if (!lp->rhs || !lp->basis || !lp->binv || !lp->zb || !lp->pi || !lp->alpha || !lp->rho || !lp->mat || !lp->rowown ||
        !lp->dpos || !lp->drow) {
        tpe_lp_free(lp);
        return TPE_ENOMEM;
    }
    memcpy(lp->rhs, rhs, m * sizeof(double));
    memset(lp->pi, 0, m * sizeof(double));
    *out = lp;
    return TPE_OK;
}

void tpe_lp_free(tpe_lp *lp)
{
    if (!lp) return;
    tpe_free(lp->rhs);
    tpe_free(lp->kind);
    tpe_free(lp->ref);
    tpe_free(lp->cost);
    tpe_free(lp->cnorm);
    tpe_free(lp->posn);
    tpe_free(lp->vals);
    tpe_free(lp->basis);
    tpe_free(lp->binv);
    tpe_free(lp->zb);
    tpe_free(lp->pi);
    tpe_free(lp->alpha);
    tpe_free(lp->rho);
    tpe_free(lp->dj);
    tpe_free(lp->wdx);
    tpe_free(lp->mat);
    tpe_free(lp->rowown);
    tpe_free(lp->dpos);
    tpe_free(lp->drow);
    tpe_free(lp);
}

static int reserve_cols(tpe_lp *lp, size_t need)
{
    size_t nc;
    signed char *k;
    size_t *r, *p;
    double *c, *cn, *dj, *wd;
    if (need <= lp->cap) return TPE_OK;
    nc = lp->cap ? lp->cap : 16;
    while (nc < need) {
        if (nc > ((size_t)-1) / 4) return tpe_error(TPE_ENOMEM, "LP: too many columns");
        nc *= 2;
    }
    k = grow(lp->kind, lp->n, nc, sizeof *k, "LP columns");
    if (!k) return TPE_ENOMEM;
    lp->kind = k;
    r = grow(lp->ref, lp->n, nc, sizeof *r, "LP columns");
    if (!r) return TPE_ENOMEM;
    lp->ref = r;
    c = grow(lp->cost, lp->n, nc, sizeof *c, "LP columns");
    if (!c) return TPE_ENOMEM;
    lp->cost = c;
    cn = grow(lp->cnorm, lp->n, nc, sizeof *cn, "LP columns");
    if (!cn) return TPE_ENOMEM;
    lp->cnorm = cn;
    p = grow(lp->posn, lp->n, nc, sizeof *p, "LP columns");
    if (!p) return TPE_ENOMEM;
    lp->posn = p;
    dj = grow(lp->dj, lp->n, nc, sizeof *dj, "LP columns");
    if (!dj) return TPE_ENOMEM;
    lp->dj = dj;
    wd = grow(lp->wdx, lp->n, nc, sizeof *wd, "LP columns");
    if (!wd) return TPE_ENOMEM;
    lp->wdx = wd;
    lp->cap = nc;
    return TPE_OK;
}

static int reserve_dense(tpe_lp *lp, size_t need)
{
    size_t nc, bytes;
    double *v;
    if (need <= lp->dcap) return TPE_OK;
    nc = lp->dcap ? lp->dcap : 16;
    while (nc < need) nc *= 2;
    if (tpe_size_mul(nc, lp->m, &bytes)) return tpe_error(TPE_ENOMEM, "LP: too many dense columns");
    v = grow(lp->vals, lp->nd * lp->m, bytes, sizeof(double), "LP dense columns");
    if (!v) return TPE_ENOMEM;
    lp->vals = v;
    lp->dcap = nc;
    return TPE_OK;
}

int tpe_lp_reserve(tpe_lp *lp, size_t more)
{
    int rc = reserve_cols(lp, lp->n + more);
    if (!rc) rc = reserve_dense(lp, lp->nd + more);
    return rc;
}

int tpe_lp_add_dense(tpe_lp *lp, const double *col, double cost, size_t *index)
{
    size_t i;
    double s = 0.0;
    int rc;
    if (!isfinite(cost)) return tpe_error(TPE_EINVAL, "LP: column %zu has a non-finite cost", lp->n);
    for (i = 0; i < lp->m; i++) {
        if (!isfinite(col[i])) return tpe_error(TPE_EINVAL, "LP: column %zu, row %zu is not finite", lp->n, i);
        s += col[i] * col[i];
    }
    if (s == 0.0) return tpe_error(TPE_EINVAL, "LP: column %zu is zero", lp->n);
    if ((rc = reserve_cols(lp, lp->n + 1)) != TPE_OK || (rc = reserve_dense(lp, lp->nd + 1)) != TPE_OK) return rc;
    memcpy(lp->vals + lp->nd * lp->m, col, lp->m * sizeof(double));
    lp->kind[lp->n] = 0;
    lp->ref[lp->n] = lp->nd++;
    lp->cost[lp->n] = cost;
    lp->cnorm[lp->n] = sqrt(s);
    lp->posn[lp->n] = NONE;
    lp->wdx[lp->n] = 1.0;
    lp->dj[lp->n] = cost - (lp->have_basis ? lp->kt->ddot(col, lp->pi, lp->m) : 0.0);
    if (index) *index = lp->n;
    lp->n++;
    return TPE_OK;
}

int tpe_lp_add_unit(tpe_lp *lp, size_t row, int sign, double cost, size_t *index)
{
    int rc;
    if (row >= lp->m || (sign != 1 && sign != -1)) return tpe_error(TPE_EINVAL, "LP: bad unit column (row %zu)", row);
    if (!isfinite(cost)) return tpe_error(TPE_EINVAL, "LP: column %zu has a non-finite cost", lp->n);
    if ((rc = reserve_cols(lp, lp->n + 1)) != TPE_OK) return rc;
    lp->kind[lp->n] = (signed char)sign;
    lp->ref[lp->n] = row;
    lp->cost[lp->n] = cost;
    lp->cnorm[lp->n] = 1.0;
    lp->posn[lp->n] = NONE;
    lp->wdx[lp->n] = 1.0;
    lp->dj[lp->n] = cost - (lp->have_basis ? (double)sign * lp->pi[row] : 0.0);
    if (index) *index = lp->n;
    lp->n++;
    return TPE_OK;
}

/* M_j . v */
static double col_dot(const tpe_lp *lp, size_t j, const double *v)
{
    if (lp->kind[j] == 0) return lp->kt->ddot(lp->vals + lp->ref[j] * lp->m, v, lp->m);
    return (double)lp->kind[j] * v[lp->ref[j]];
}

/* alpha = B^-1 M_q */
static void ftran(tpe_lp *lp, size_t q)
{
    size_t r, m = lp->m;
    if (lp->kind[q] == 0) {
        const double *c = lp->vals + lp->ref[q] * m;
        for (r = 0; r < m; r++) lp->alpha[r] = lp->kt->ddot(lp->binv + r * m, c, m);
    } else {
        size_t k = lp->ref[q];
        double s = (double)lp->kind[q];
        for (r = 0; r < m; r++) lp->alpha[r] = s * lp->binv[r * m + k];
    }
}

/* pi^T = c_B^T B^-1 and z_B = B^-1 rhs from the current B^-1 */
static void compute_pi(tpe_lp *lp)
{
    size_t r, m = lp->m;
    memset(lp->pi, 0, m * sizeof(double));
    for (r = 0; r < m; r++) {
        double c = lp->cost[lp->basis[r]];
        if (c != 0.0) lp->kt->daxpy(m, c, lp->binv + r * m, lp->pi);
    }
}

static void compute_zb(tpe_lp *lp)
{
    size_t r, m = lp->m;
    for (r = 0; r < m; r++) lp->zb[r] = lp->kt->ddot(lp->binv + r * m, lp->rhs, m);
}

/* Recompute B^-1 from the basis columns. Positions holding unit columns
 * cover their rows; with D the positions of dense columns and R_D the rows
 * no unit column covers (|R_D| = |D| when B is nonsingular),
 *     z_D = B_DD^-1 rhs_{R_D},   z_u = s_u (rhs_row(u) - sum_b B[row(u), b] z_b),
 * so only the |D| x |D| block B_DD is inverted (Gauss-Jordan with partial
 * pivoting on [B_DD | I]). Returns 0, or 1 when B is singular. */
static int refactor(tpe_lp *lp)
{
    const size_t m = lp->m;
    size_t r, a, b, k, nd = 0, nrd = 0;
    double *mat = lp->mat;
    for (k = 0; k < m; k++) lp->rowown[k] = NONE;
    for (r = 0; r < m; r++) {
        size_t j = lp->basis[r];
        if (lp->kind[j] == 0) {
            lp->dpos[nd++] = r;
        } else {
            if (lp->rowown[lp->ref[j]] != NONE) return 1; /* +e_k and -e_k both basic */
            lp->rowown[lp->ref[j]] = r;
        }
    }
    for (k = 0; k < m; k++)
        if (lp->rowown[k] == NONE) lp->drow[nrd++] = k;
    if (nrd != nd) return 1;
    /* [B_DD | I], nd x 2nd, row a = row drow[a] of the dense basic columns */
    {
        const size_t w = 2 * nd;
        for (a = 0; a < nd; a++) {
            double *row = mat + a * w;
            for (b = 0; b < nd; b++) row[b] = lp->vals[lp->ref[lp->basis[lp->dpos[b]]] * m + lp->drow[a]];
            for (b = 0; b < nd; b++) row[nd + b] = a == b ? 1.0 : 0.0;
        }
        for (k = 0; k < nd; k++) {
            size_t p = k;
            double best = fabs(mat[k * w + k]), colmax = 0.0, piv;
            for (a = k; a < nd; a++) {
                double v = fabs(mat[a * w + k]);
                if (v > best) {
                    best = v;
                    p = a;
                }
            }
            for (a = 0; a < nd; a++) colmax = fmax(colmax, fabs(mat[a * w + k]));
            if (!(best > 1e-13 * fmax(colmax, 1e-300)) || best < 1e-280) return 1;
            if (p != k) {
                for (b = 0; b < w; b++) {
                    double t = mat[k * w + b];
                    mat[k * w + b] = mat[p * w + b];
                    mat[p * w + b] = t;
                }
            }
            piv = mat[k * w + k];
            for (b = 0; b < w; b++) mat[k * w + b] /= piv;
            for (a = 0; a < nd; a++) {
                double f = mat[a * w + k];
                if (a == k || f == 0.0) continue;
                lp->kt->daxpy(w, -f, mat + k * w, mat + a * w);
            }
        }
        /* now mat[:, nd:] = B_DD^-1: row b (dense position dpos[b]) maps rhs rows drow[a] */
        memset(lp->binv, 0, m * m * sizeof(double));
        for (b = 0; b < nd; b++) {
            double *dst = lp->binv + lp->dpos[b] * m;
            const double *src = mat + b * w + nd;
            for (a = 0; a < nd; a++) dst[lp->drow[a]] = src[a];
        }
        for (k = 0; k < m; k++) {
            size_t u = lp->rowown[k];
            double s, *dst;
            if (u == NONE) continue;
            s = (double)lp->kind[lp->basis[u]];
            dst = lp->binv + u * m;
            dst[k] = s;
            for (b = 0; b < nd; b++) {
                double v = lp->vals[lp->ref[lp->basis[lp->dpos[b]]] * m + k];
                if (v != 0.0) lp->kt->daxpy(m, -s * v, lp->binv + lp->dpos[b] * m, dst);
            }
        }
    }
    lp->st.refactors++;
    compute_zb(lp);
    compute_pi(lp);
    /* reduced costs afresh (updates drift), and a new Devex reference
     * framework (the weights only grow between resets) */
    for (k = 0; k < lp->n; k++) {
        lp->dj[k] = lp->posn[k] != NONE ? 0.0 : lp->cost[k] - col_dot(lp, k, lp->pi);
        lp->wdx[k] = 1.0;
    }
    return 0;
}

int tpe_lp_set_basis(tpe_lp *lp, const size_t *cols)
{
    size_t r, j;
    tpe_lp_opts o;
    tpe_lp_opts_default(&o);
    for (j = 0; j < lp->n; j++) lp->posn[j] = NONE;
    for (r = 0; r < lp->m; r++) {
        if (cols[r] >= lp->n) return tpe_error(TPE_EINVAL, "LP basis: column %zu does not exist", cols[r]);
        if (lp->posn[cols[r]] != NONE) return tpe_error(TPE_EINVAL, "LP basis: column %zu appears twice", cols[r]);
        lp->basis[r] = cols[r];
        lp->posn[cols[r]] = r;
    }
    lp->have_basis = 0;
    if (refactor(lp)) return tpe_error(TPE_ENUMERIC, "LP basis: the basis matrix is singular");
    for (r = 0; r < lp->m; r++)
        if (lp->zb[r] < -o.tol_feas)
            return tpe_error(TPE_ENUMERIC, "LP basis: not feasible (basic value %.3g in position %zu)", lp->zb[r], r);
    lp->have_basis = 1;
    return TPE_OK;
}

/* The entering column. Devex pricing (Forrest & Goldfarb 1992): among the
 * columns with d_j / ||M_j|| < -tol, the largest d_j^2 / w_j, where the
 * reference weights w_j estimate ||B^-1 M_j||^2 relative to the framework;
 * under Bland's rule the first such column. NONE when optimal. */
static size_t price(const tpe_lp *lp, double tol, int bland)
{
    size_t j, q = NONE;
    double best = -1.0;
    for (j = 0; j < lp->n; j++) {
        double d = lp->dj[j], s;
        if (lp->posn[j] != NONE || !(d < -tol * lp->cnorm[j])) continue;
        if (bland) return j;
        s = d * d / lp->wdx[j]; /* weights are in [1, 1e30]: s > 0 */
        if (s > best) {
            best = s;
            q = j;
        }
    }
    return q;
}

/* Leaving position for the entering column (alpha = B^-1 M_q), or NONE
 * when no alpha_r is a usable pivot (unbounded direction). */
static size_t ratio_test(const tpe_lp *lp, const tpe_lp_opts *o, int bland, double *theta)
{
    const size_t m = lp->m;
    size_t r, best = NONE;
    double amax = 0.0, tp, tmax = HUGE_VAL;
    for (r = 0; r < m; r++) amax = fmax(amax, fabs(lp->alpha[r]));
    tp = o->tol_pivot * fmax(amax, 1.0);
    if (bland) {
        double tmin = HUGE_VAL;
        for (r = 0; r < m; r++)
            if (lp->alpha[r] > tp) tmin = fmin(tmin, fmax(lp->zb[r], 0.0) / lp->alpha[r]);
        if (tmin == HUGE_VAL) return NONE;
        for (r = 0; r < m; r++) {
            double t;
            if (!(lp->alpha[r] > tp)) continue;
            t = fmax(lp->zb[r], 0.0) / lp->alpha[r];
            if (t <= tmin * (1.0 + 1e-12) + 1e-300 && (best == NONE || lp->basis[r] < lp->basis[best])) best = r;
        }
    } else {
        /* Harris pass 1: the largest step keeping every basic value >= -tol_feas */
        for (r = 0; r < m; r++)
            if (lp->alpha[r] > tp) tmax = fmin(tmax, (fmax(lp->zb[r], 0.0) + o->tol_feas) / lp->alpha[r]);
        if (tmax == HUGE_VAL) return NONE;
        /* pass 2: among the ratios within it, the largest pivot */
        for (r = 0; r < m; r++) {
            if (!(lp->alpha[r] > tp)) continue;
            if (fmax(lp->zb[r], 0.0) / lp->alpha[r] <= tmax && (best == NONE || lp->alpha[r] > lp->alpha[best])) best = r;
        }
    }
    *theta = fmax(lp->zb[best], 0.0) / lp->alpha[best];
    return best;
}

/* Basis change: column q enters in position r with step theta. The pivot
 * row alpha_rj = rho_r . M_j (rho_r = row r of the old B^-1) updates the
 * reduced costs, d_j -= (d_q / alpha_rq) alpha_rj, and the Devex weights,
 * w_j = max(w_j, (alpha_rj / alpha_rq)^2 w_q). */
static void pivot(tpe_lp *lp, size_t q, size_t r, double theta)
{
    const size_t m = lp->m;
    size_t k, j, leaving = lp->basis[r];
    double *br = lp->binv + r * m, ar = lp->alpha[r], td = lp->dj[q] / ar, wq = lp->wdx[q];
    memcpy(lp->rho, br, m * sizeof(double));
    for (j = 0; j < lp->n; j++) {
        double arj, t;
        if (lp->posn[j] != NONE) continue;
        arj = col_dot(lp, j, lp->rho);
        if (arj == 0.0) continue;
        lp->dj[j] -= td * arj;
        t = arj / ar;
        t = t * t * wq;
        if (t > lp->wdx[j]) lp->wdx[j] = t < 1e30 ? t : 1e30;
    }
    lp->dj[q] = 0.0;
    lp->dj[leaving] = -td; /* alpha_r,leaving = 1 */
    lp->wdx[leaving] = fmin(fmax(wq / (ar * ar), 1.0), 1e30);
    for (k = 0; k < m; k++) lp->zb[k] -= theta * lp->alpha[k];
    lp->zb[r] = theta;
    for (k = 0; k < m; k++) br[k] /= ar;
    for (k = 0; k < m; k++)
        if (k != r && lp->alpha[k] != 0.0) lp->kt->daxpy(m, -lp->alpha[k], br, lp->binv + k * m);
    lp->posn[leaving] = NONE;
    lp->basis[r] = q;
    lp->posn[q] = r;
    lp->st.pivots++;
}

tpe_lp_status tpe_lp_solve(tpe_lp *lp, const tpe_lp_opts *o)
{
    size_t pivots = 0, since = 0, degen = 0;
    int fresh = 1, bland = 0;
    if (!lp->have_basis) return TPE_LP_NUMERIC;
    /* columns added since the last solve carry d_j from the pi of then, which is current */
    for (;;) {
        size_t q, r, k;
        double dq = 0.0, theta = 0.0, obj;
        if (fresh) {
            /* after a refactorization: feasibility must have survived */
            for (k = 0; k < lp->m; k++)
                if (!(lp->zb[k] >= -1e3 * o->tol_feas - 1e-9)) return TPE_LP_NUMERIC;
        }
        obj = tpe_lp_objective(lp);
        if (!isfinite(obj)) return TPE_LP_NUMERIC;
        if (obj < o->stop_below) {
            if (!fresh) {
                if (refactor(lp)) return TPE_LP_NUMERIC;
                fresh = 1;
                since = 0;
                continue;
            }
            return TPE_LP_STOPPED;
        }
        q = price(lp, o->tol_opt, bland);
        if (q != NONE) dq = lp->dj[q];
        if (q == NONE) {
            if (!fresh) { /* confirm with a fresh inverse before saying optimal */
                if (refactor(lp)) return TPE_LP_NUMERIC;
                fresh = 1;
                since = 0;
                continue;
            }
            return TPE_LP_OPTIMAL;
        }
        if (pivots >= o->max_pivots) return TPE_LP_PIVOT_LIMIT;
        ftran(lp, q);
        r = ratio_test(lp, o, bland, &theta);
        if (r == NONE) {
            if (!fresh) {
                if (refactor(lp)) return TPE_LP_NUMERIC;
                fresh = 1;
                since = 0;
                continue;
            }
            return TPE_LP_UNBOUNDED;
        }
        /* a step that does not lower the objective is degenerate */
        if (theta * fabs(dq) <= 1e-14 * fmax(1.0, fabs(obj))) {
            lp->st.degenerate++;
            if (++degen >= o->bland_after) bland = 1;
        } else {
            degen = 0;
            bland = 0;
        }
        if (bland) lp->st.bland++;
        pivot(lp, q, r, theta);
        pivots++;
        fresh = 0;
        if (++since >= o->refactor) {
            if (refactor(lp)) return TPE_LP_NUMERIC;
            fresh = 1;
            since = 0;
        }
    }
}

size_t tpe_lp_rows(const tpe_lp *lp) { return lp->m; }
size_t tpe_lp_cols(const tpe_lp *lp) { return lp->n; }

double tpe_lp_objective(const tpe_lp *lp)
{
    size_t r;
    double s = 0.0;
    for (r = 0; r < lp->m; r++) s += lp->cost[lp->basis[r]] * lp->zb[r];
    return s;
}

const double *tpe_lp_pi(const tpe_lp *lp) { return lp->pi; }
const size_t *tpe_lp_basis(const tpe_lp *lp) { return lp->basis; }
const double *tpe_lp_basic_values(const tpe_lp *lp) { return lp->zb; }

double tpe_lp_value(const tpe_lp *lp, size_t col)
{
    if (col >= lp->n || lp->posn[col] == NONE) return 0.0;
    return lp->zb[lp->posn[col]];
}

double tpe_lp_reduced_cost(const tpe_lp *lp, size_t col)
{
    if (col >= lp->n) return 0.0;
    return lp->cost[col] - col_dot(lp, col, lp->pi);
}

const tpe_lp_stats *tpe_lp_get_stats(const tpe_lp *lp) { return &lp->st; }
