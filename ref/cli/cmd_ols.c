/*
 * cmd_ols.c -- `tpe ols X.npy y.npy [--no-intercept] [--precision f64|dd]
 * [--json]`: least squares by Householder QR with statsmodels' OLS
 * statistics (ols.h; SPEC.md for the JSON keys).
 */
#include "array.h"
#include "cli.h"
#include "io.h"
#include "json.h"
#include "ols.h"
#include "platform.h"
#include "tpe.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* NaN and +-inf have no JSON spelling: tpe_jw_number writes them as null */
static void print_human(const tpe_ols_result *r, const char *prec, double seconds)
{
    size_t j;
    printf("OLS by Householder QR (%s): n = %zu, k = %zu%s, rank = %zu, df_resid = %zu\n\n", prec, r->n, r->k,
           r->intercept ? " + intercept" : "", r->rank, r->df_resid);
    printf("%-10s %24s %24s %12s %12s\n", "", "coef", "std err", "t", "P>|t|");
    for (j = 0; j < r->p; j++) {
        char name[32];
        if (r->intercept && j == 0) snprintf(name, sizeof name, "const");
        else snprintf(name, sizeof name, "x%zu", r->intercept ? j : j + 1);
        if (r->dropped[j]) {
            printf("%-10s %24s %24s %12s %12s\n", name, "(collinear: dropped)", "-", "-", "-");
            continue;
        }
        printf("%-10s %24.16g %24.16g %12.5g %12.5g\n", name, r->coef[j], r->se[j], r->t[j], r->pvalue[j]);
    }
    printf("\nR^2 = %.16g   adj. R^2 = %.16g   sigma = %.16g   (%.3f s)\n", r->r2, r->adj_r2, r->sigma, seconds);
    if (r->rank < r->p)
        printf("rank deficient: %zu of %zu columns dropped as collinear (relative tolerance %.3g)\n", r->p - r->rank,
               r->p, r->rank_tol);
}

static void print_json(const tpe_ols_result *r, const char *prec, double seconds)
{
    tpe_jw w;
    size_t j;
    tpe_jw_init(&w, stdout);
    tpe_jw_object(&w);
    tpe_jw_key(&w, "n");
    tpe_jw_int(&w, (long long)r->n);
    tpe_jw_key(&w, "k");
    tpe_jw_int(&w, (long long)r->k);
    tpe_jw_key(&w, "intercept");
    tpe_jw_bool(&w, r->intercept);
    tpe_jw_key(&w, "rank");
    tpe_jw_int(&w, (long long)r->rank);
    tpe_jw_key(&w, "coef");
    tpe_jw_f64s(&w, r->coef, r->p);
    tpe_jw_key(&w, "se");
    tpe_jw_f64s(&w, r->se, r->p);
    tpe_jw_key(&w, "t");
    tpe_jw_f64s(&w, r->t, r->p);
    tpe_jw_key(&w, "p");
    tpe_jw_f64s(&w, r->pvalue, r->p);
    tpe_jw_key(&w, "r2");
    tpe_jw_number(&w, r->r2);
    tpe_jw_key(&w, "adj_r2");
    tpe_jw_number(&w, r->adj_r2);
    tpe_jw_key(&w, "sigma");
    tpe_jw_number(&w, r->sigma);
    tpe_jw_key(&w, "df_resid");
    tpe_jw_int(&w, (long long)r->df_resid);
    /* beyond SPEC.md: log p (finite where p underflows), the dropped
     * columns (indices into coef), the mode, the rank tolerance, the time */
    tpe_jw_key(&w, "log_p");
    tpe_jw_f64s(&w, r->log_pvalue, r->p);
    tpe_jw_key(&w, "dropped");
    tpe_jw_array(&w);
    for (j = 0; j < r->p; j++)
        if (r->dropped[j]) tpe_jw_int(&w, (long long)j);
    tpe_jw_array_end(&w);
    tpe_jw_key(&w, "precision");
    tpe_jw_string(&w, prec);
    tpe_jw_key(&w, "rank_tol");
    tpe_jw_number(&w, r->rank_tol);
    tpe_jw_key(&w, "seconds");
    tpe_jw_number(&w, seconds);
    tpe_jw_object_end(&w);
    tpe_jw_end(&w);
}

int tpe_cmd_ols(int argc, char **argv)
{
    int json = 0, no_intercept = 0, no_equil = 0;
    const char *precision = "f64";
    double rank_tol = 0.0;
    const tpe_opt opts[] = {
        {"--no-intercept", TPE_OPT_FLAG, &no_intercept, NULL, "fit without the column of ones (uncentred R^2)"},
        {"--precision", TPE_OPT_STR, &precision, "f64|dd|refine",
         "f64 (default); dd: QR and statistics in double-double; refine: f64 QR + iterative refinement of coef"},
        {"--rank-tol", TPE_OPT_F64, &rank_tol, "T",
         "column j is collinear when |R[j,j]| <= T ||x_j|| (default max(n, k+1) * 2^-52)"},
        {"--no-equilibrate", TPE_OPT_FLAG, &no_equil, NULL, "no power-of-two column scaling (f64 only)"},
        {"--json", TPE_OPT_FLAG, &json, NULL, "one JSON object on stdout"},
    };
    const tpe_cmdspec spec = {
        "ols", "X.npy y.npy", "Least squares y ~ [1, X] beta by Householder QR, with OLS statistics.",
        "X is (n, k) (or (n,) for one regressor), y is (n,) or (n, 1); any float or integer dtype.\n"
        "Statistics follow statsmodels' OLS: se from sigma^2 diag((R^T R)^-1) via R^-1, t, two-sided\n"
        "p from Student's t with df_resid = n - rank, R^2 centred with an intercept (uncentred\n"
        "without), adj_r2 = 1 - (n - c)/df_resid (1 - R^2). Collinear columns are dropped and\n"
        "reported (coef null in JSON, listed in \"dropped\"). See docs/numerics.md for accuracy.",
        opts, TPE_NOPTS(opts), 2, 2};
    char *pos[2];
    size_t npos, n, k;
    int rc = tpe_cli_parse(&spec, argc, argv, pos, &npos);
    tpe_array X, y;
    tpe_ols_opts o;
    tpe_ols_result res;
    tpe_progress prog;
    double t0, seconds;
    if (rc) return rc < 0 ? 0 : rc;
    tpe_ols_opts_default(&o);
    if (strcmp(precision, "f64") == 0) o.precision = TPE_OLS_F64;
    else if (strcmp(precision, "dd") == 0) o.precision = TPE_OLS_DD;
    else if (strcmp(precision, "refine") == 0) o.precision = TPE_OLS_REFINE;
    else return tpe_cli_usage(spec.cmd, "--precision must be f64, dd or refine, got '%s'", precision);
    if (!(rank_tol >= 0.0 && rank_tol < 1.0)) return tpe_cli_usage(spec.cmd, "--rank-tol must be in [0, 1)");
    o.intercept = !no_intercept;
    o.equilibrate = !no_equil;
    o.rank_tol = rank_tol;
    if (tpe_npy_read_f64(pos[0], &X)) return tpe_cli_fail(spec.cmd);
    if (tpe_npy_read_f64(pos[1], &y)) {
        tpe_array_free(&X);
        return tpe_cli_fail(spec.cmd);
    }
    rc = TPE_OK;
    if (X.ndim == 1) {
        n = X.shape[0];
        k = 1;
    } else if (X.ndim == 2) {
        n = X.shape[0];
        k = X.shape[1];
    } else {
        rc = tpe_error(TPE_EINVAL, "%s: X must have 1 or 2 dimensions, has %d", pos[0], X.ndim);
        n = k = 0;
    }
    if (!rc && !(y.ndim == 1 || (y.ndim == 2 && y.shape[1] == 1)))
        rc = tpe_error(TPE_EINVAL, "%s: y must be (n,) or (n, 1), has %d dimensions", pos[1], y.ndim);
    if (!rc && y.shape[0] != n)
        rc = tpe_error(TPE_EINVAL, "%s has %zu rows but %s has %zu", pos[0], n, pos[1], y.shape[0]);
    if (!rc && n == 0) rc = tpe_error(TPE_EINVAL, "%s: no observations", pos[0]);
    if (rc) {
        tpe_array_free(&X);
        tpe_array_free(&y);
        return tpe_cli_fail(spec.cmd);
    }
    tpe_progress_begin(&prog, "ols: QR", (double)(k + (size_t)o.intercept));
    o.progress = &prog;
    t0 = tpe_now();
    rc = tpe_ols_fit_opts((const double *)X.data, n, k, (const double *)y.data, &o, &res);
    seconds = tpe_now() - t0;
    tpe_progress_end(&prog);
    tpe_array_free(&X);
    tpe_array_free(&y);
    if (rc) {
        if (strncmp(tpe_errmsg(), "X", 1) == 0 || strncmp(tpe_errmsg(), "y", 1) == 0)
            tpe_error_prefix(rc, "%s: ", strncmp(tpe_errmsg(), "X", 1) == 0 ? pos[0] : pos[1]);
        return tpe_cli_fail(spec.cmd);
    }
    if (json) print_json(&res, precision, seconds);
    else print_human(&res, precision, seconds);
    tpe_ols_free(&res);
    return 0;
}
