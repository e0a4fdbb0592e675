/*
 * lp.h -- a dense revised simplex method for small linear programs in
 * standard form, built for column generation:
 *
 *     minimize  c^T z   subject to   M z = rhs,   z >= 0,
 *
 * M has m rows. Columns are added one at a time, either dense (m values)
 * or signed unit columns (+e_k or -e_k, which cost nothing to store or to
 * price). The caller starts the method from a feasible basis (m columns
 * whose basis matrix B is nonsingular with B^-1 rhs >= 0) and may add
 * columns between solves: the last basis stays feasible for the larger
 * problem, so the next solve continues from it (warm start).
 *
 * The multipliers pi (B^T pi = c_B) are the solution of the dual LP
 *     maximize rhs^T pi   subject to   M^T pi <= c,
 * so adding a column j with reduced cost c_j - M_j . pi < 0 is adding a
 * dual constraint that pi violates. tpe's unargmax uses exactly this: the
 * dual is the Chebyshev-ball LP and the columns are its constraints (see
 * unargmax.h and docs/unargmax.md).
 *
 * Method (Dantzig's primal simplex in revised form; Chvatal, Linear
 * Programming, 1983, ch. 7-8; tolerances after Koberstein, The dual simplex
 * method, techniques for a fast and stable implementation, 2005):
 *   - B^-1 is kept explicitly, updated by the product form at each pivot,
 *     and recomputed from the basis columns every `refactor` pivots and
 *     before any result is reported. Unit columns in the basis make that
 *     cheap: only the block of dense basic columns on the rows no unit
 *     column covers is inverted (Gauss-Jordan, partial pivoting).
 *   - pricing: the most negative normalized reduced cost d_j / ||M_j||;
 *   - ratio test: Harris's two passes with a feasibility tolerance, taking
 *     the largest pivot among the near-ties (stability);
 *   - degeneracy: after `bland_after` consecutive pivots that do not move,
 *     Bland's rule (smallest index enters, smallest index leaves among the
 *     tied ratios), which cannot cycle, until a pivot moves again.
 *
 * Nothing here allocates or records an error while solving, so different
 * LPs may be solved on different threads at the same time.
 */
#ifndef TPE_LP_H
#define TPE_LP_H

#include <stddef.h>

typedef struct tpe_lp tpe_lp;

typedef enum tpe_lp_status {
    TPE_LP_OPTIMAL = 0,   /* no reduced cost below -tol_opt                   */
    TPE_LP_STOPPED = 1,   /* the objective fell below opts.stop_below         */
    TPE_LP_PIVOT_LIMIT = 2,
    TPE_LP_UNBOUNDED = 3, /* a column with d_j < 0 and no positive pivot       */
    TPE_LP_NUMERIC = 4    /* singular basis or feasibility lost: no result     */
} tpe_lp_status;

const char *tpe_lp_status_name(tpe_lp_status s);

typedef struct tpe_lp_opts {
    size_t max_pivots;  /* per call to tpe_lp_solve                             */
    double stop_below;  /* stop once c^T z < this (-HUGE_VAL: never)           */
    double tol_opt;     /* optimal when every d_j / ||M_j|| >= -tol_opt         */
    double tol_feas;    /* Harris: basic values may dip to -tol_feas            */
    double tol_pivot;   /* smallest |alpha_r| accepted, relative to max |alpha| */
    size_t refactor;    /* recompute B^-1 after this many pivots                */
    size_t bland_after; /* consecutive degenerate pivots before Bland's rule    */
} tpe_lp_opts;

void tpe_lp_opts_default(tpe_lp_opts *o);

/* A problem with m rows and right-hand side rhs (copied). */
int tpe_lp_new(size_t m, const double *rhs, tpe_lp **out);
void tpe_lp_free(tpe_lp *lp);

/* Add a column; *index (when not NULL) receives its number (0, 1, ...). */
int tpe_lp_add_dense(tpe_lp *lp, const double *col, double cost, size_t *index);
int tpe_lp_add_unit(tpe_lp *lp, size_t row, int sign, double cost, size_t *index);
/* Make room for `more` columns now, so later additions do not allocate. */
int tpe_lp_reserve(tpe_lp *lp, size_t more);

/* Set the basis: cols[r] is the column basic in position r (m of them).
 * Fails (TPE_ENUMERIC) when B is singular or B^-1 rhs has an entry below
 * -tol_feas of the default options. */
int tpe_lp_set_basis(tpe_lp *lp, const size_t *cols);

/* Pivot from the current basis. Returns the status; never allocates. */
tpe_lp_status tpe_lp_solve(tpe_lp *lp, const tpe_lp_opts *o);

size_t tpe_lp_rows(const tpe_lp *lp);
size_t tpe_lp_cols(const tpe_lp *lp);
double tpe_lp_objective(const tpe_lp *lp);       /* c_B^T z_B                 */
const double *tpe_lp_pi(const tpe_lp *lp);       /* (m) multipliers            */
const size_t *tpe_lp_basis(const tpe_lp *lp);    /* (m) basic column per row   */
const double *tpe_lp_basic_values(const tpe_lp *lp); /* (m) z_B               */
double tpe_lp_value(const tpe_lp *lp, size_t col); /* z_col (0 when nonbasic) */
/* Reduced cost c_j - M_j . pi of a column at the current pi. */
double tpe_lp_reduced_cost(const tpe_lp *lp, size_t col);

typedef struct tpe_lp_stats {
    size_t pivots, degenerate, bland, refactors;
} tpe_lp_stats;
const tpe_lp_stats *tpe_lp_get_stats(const tpe_lp *lp);

#endif
