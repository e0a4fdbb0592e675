/*
 * cmd_pca.c -- `tpe pca X.npy [--k K] [--out DIR] [--json]`: PCA by block
 * power iteration with Rayleigh-Ritz (pca.h; SPEC.md for the keys and
 * files).
 */
#include "array.h"
#include "cli.h"
#include "io.h"
#include "json.h"
#include "pca.h"
#include "platform.h"
#include "tpe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Write components.npy and scores.npy into dir: into a fresh temporary
 * directory renamed to dir at the end when dir does not exist yet, else
 * file by file (each whole or not at all). */
static int write_outputs(const char *dir, const tpe_pca_result *r)
{
    const char *names[2] = {"components.npy", "scores.npy"};
    size_t shapes[2][2];
    const double *data[2];
    char tmp[4096];
    const char *target = dir;
    int fresh = !tpe_is_dir(dir), rc = TPE_OK, i;
    shapes[0][0] = r->k;
    shapes[0][1] = r->d;
    shapes[1][0] = r->n;
    shapes[1][1] = r->k;
    data[0] = r->components;
    data[1] = r->scores;
    if (fresh) {
        if (tpe_is_file(dir)) return tpe_error(TPE_EIO, "--out %s: exists and is not a directory", dir);
        snprintf(tmp, sizeof tmp, "%s.tmp.%ld", dir, tpe_process_id());
        if ((rc = tpe_mkdir(tmp))) return rc;
        target = tmp;
    }
    for (i = 0; i < 2 && !rc; i++) {
        char *path = tpe_path_join(target, names[i]);
        if (!path) rc = TPE_ENOMEM;
        else rc = tpe_npy_write(path, TPE_F64, 2, shapes[i], data[i]);
        free(path); /* tpe_path_join mallocs */
    }
    if (fresh) {
        if (!rc && rename(tmp, dir) != 0) rc = tpe_error(TPE_EIO, "--out %s: cannot rename %s into place", dir, tmp);
        if (rc) {
            for (i = 0; i < 2; i++) {
                char *path = tpe_path_join(tmp, names[i]);
                if (path) remove(path);
                free(path); /* tpe_path_join mallocs */
            }
            remove(tmp);
        }
    }
    return rc;
}

int tpe_cmd_pca(int argc, char **argv)
{
    int json = 0;
    size_t k = 0, max_iter = 0, seed = 0, block = 0;
    double tol = 0.0, var = 0.0;
    const char *outdir = NULL, *method = "auto";
    const tpe_opt opts[] = {
        {"--k", TPE_OPT_SIZE, &k, "K", "components to keep (default: all d)"},
        {"--out", TPE_OPT_STR, &outdir, "DIR", "write DIR/components.npy (K x d) and DIR/scores.npy (n x K)"},
        {"--var", TPE_OPT_F64, &var, "F", "keep the fewest components explaining a fraction F of the variance"},
        {"--tol", TPE_OPT_F64, &tol, "T", "converged when ||C v - lambda v|| <= T lambda_1 (default 1e-11)"},
        {"--max-iter", TPE_OPT_SIZE, &max_iter, "N", "Rayleigh-Ritz iterations before giving up (default 500)"},
        {"--seed", TPE_OPT_SIZE, &seed, "S", "seed of the starting block (default 0)"},
        {"--method", TPE_OPT_STR, &method, "auto|dense|subspace",
         "dense: Rayleigh-Ritz on the whole space; subspace: Chebyshev-filtered block iteration (default auto)"},
        {"--block", TPE_OPT_SIZE, &block, "P", "block size of the subspace iteration (default k + max(8, k/4))"},
        {"--json", TPE_OPT_FLAG, &json, NULL, "one JSON object on stdout"},
    };
    const tpe_cmdspec spec = {
        "pca", "X.npy", "Principal components of the rows of X by block power iteration with Rayleigh-Ritz.",
        "X is (n, d), any float or integer dtype. Data are centred; explained_variance holds the\n"
        "eigenvalues of the covariance Xc^T Xc / (n - 1), descending. Components are unit rows with\n"
        "their largest-magnitude entry positive; scores = Xc components^T. Exit status 1 when the\n"
        "iteration does not converge within --max-iter. See docs/numerics.md.",
        opts, TPE_NOPTS(opts), 1, 1};
    char *pos[1];
    size_t npos, n, d;
    int rc = tpe_cli_parse(&spec, argc, argv, pos, &npos);
    tpe_array X;
    tpe_pca_opts o;
    tpe_pca_result res;
    tpe_progress prog;
    double t0, seconds;
    if (rc) return rc < 0 ? 0 : rc;
    if (!(tol >= 0.0 && tol < 1.0)) return tpe_cli_usage(spec.cmd, "--tol must be in [0, 1)");
    if (!(var >= 0.0 && var <= 1.0)) return tpe_cli_usage(spec.cmd, "--var must be in [0, 1]");
    if (strcmp(method, "auto") != 0 && strcmp(method, "dense") != 0 && strcmp(method, "subspace") != 0)
        return tpe_cli_usage(spec.cmd, "--method must be auto, dense or subspace, got '%s'", method);
    if (tpe_npy_read_f64(pos[0], &X)) return tpe_cli_fail(spec.cmd);
    if (X.ndim != 2) {
        tpe_error(TPE_EINVAL, "%s: X must be (n, d), has %d dimensions", pos[0], X.ndim);
        tpe_array_free(&X);
        return tpe_cli_fail(spec.cmd);
    }
    n = X.shape[0];
    d = X.shape[1];
    if (k > d) {
        tpe_array_free(&X);
        return tpe_cli_usage(spec.cmd, "--k %zu exceeds the %zu columns of %s", k, d, pos[0]);
    }
    tpe_pca_opts_default(&o);
    o.tol = tol;
    o.max_iter = max_iter;
    o.seed = seed;
    o.var_fraction = var;
    o.want_scores = outdir != NULL;
    o.block = block;
    o.force_full = strcmp(method, "dense") == 0;
    o.force_iterate = strcmp(method, "subspace") == 0;
    tpe_progress_begin(&prog, "pca", 2.0);
    o.progress = &prog;
    t0 = tpe_now();
    rc = tpe_pca((const double *)X.data, n, d, k, &o, &res);
    seconds = tpe_now() - t0;
    tpe_progress_end(&prog);
    tpe_array_free(&X);
    if (rc) {
        if (strncmp(tpe_errmsg(), "X", 1) == 0) tpe_error_prefix(rc, "%s: ", pos[0]);
        tpe_pca_free(&res);
        return tpe_cli_fail(spec.cmd);
    }
    if (outdir && (rc = write_outputs(outdir, &res))) {
        tpe_pca_free(&res);
        return tpe_cli_fail(spec.cmd);
    }
    if (json) {
        tpe_jw w;
        tpe_jw_init(&w, stdout);
        tpe_jw_object(&w);
        tpe_jw_key(&w, "n");
        tpe_jw_int(&w, (long long)res.n);
        tpe_jw_key(&w, "d");
        tpe_jw_int(&w, (long long)res.d);
        tpe_jw_key(&w, "k");
        tpe_jw_int(&w, (long long)res.k);
        tpe_jw_key(&w, "explained_variance");
        tpe_jw_f64s(&w, res.explained_variance, res.k);
        tpe_jw_key(&w, "explained_variance_ratio");
        tpe_jw_f64s(&w, res.explained_variance_ratio, res.k);
        tpe_jw_key(&w, "iterations");
        tpe_jw_int(&w, (long long)res.iterations);
        /* beyond SPEC.md */
        tpe_jw_key(&w, "converged");
        tpe_jw_bool(&w, res.converged);
        tpe_jw_key(&w, "max_residual");
        tpe_jw_number(&w, res.max_residual);
        tpe_jw_key(&w, "total_variance");
        tpe_jw_number(&w, res.total_variance);
        tpe_jw_key(&w, "method");
        tpe_jw_string(&w, res.full ? "dense" : "subspace");
        tpe_jw_key(&w, "seconds");
        tpe_jw_number(&w, seconds);
        tpe_jw_object_end(&w);
        tpe_jw_end(&w);
    } else {
        size_t i, show = res.k < 20 ? res.k : 20;
        double cum = 0.0;
        printf("PCA of %zu x %zu (%s, %zu iteration%s, residual %.2g lambda_1, %.3f s)\n\n", res.n, res.d,
               res.full ? "dense Rayleigh-Ritz" : "Chebyshev-filtered subspace iteration", res.iterations,
               res.iterations == 1 ? "" : "s", res.max_residual, seconds);
        printf("%6s %24s %14s %14s\n", "pc", "explained variance", "ratio", "cumulative");
        for (i = 0; i < show; i++) {
            cum += res.explained_variance_ratio[i];
            printf("%6zu %24.16g %14.6g %14.6g\n", i + 1, res.explained_variance[i], res.explained_variance_ratio[i], cum);
        }
        if (show < res.k) printf("   ... (%zu more)\n", res.k - show);
        if (outdir) printf("\nwrote %s/components.npy (%zu x %zu) and %s/scores.npy (%zu x %zu)\n", outdir, res.k, res.d,
                           outdir, res.n, res.k);
    }
    tpe_pca_free(&res);
    return 0;
}
