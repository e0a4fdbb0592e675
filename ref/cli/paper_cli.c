/*
 * paper_cli.c -- helpers of the encoding, sparsity, steer and steer-eval
 * commands (paper_cli.h).
 */
#include "paper_cli.h"
#include "array.h"
#include "platform.h"
#include "tpe.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tpe_paper_read_alpha(const char *path, size_t V, double **alpha)
{
    tpe_array a;
    int rc;
    *alpha = NULL;
    if ((rc = tpe_npy_read_f64(path, &a))) return rc;
    if (!(a.ndim == 1 || (a.ndim == 2 && a.shape[1] == 1))) {
        tpe_array_free(&a);
        return tpe_error(TPE_EINVAL, "%s: alpha must be a vector (V,), has %d dimensions", path, a.ndim);
    }
    if (a.shape[0] != V) {
        size_t n = a.shape[0];
        tpe_array_free(&a);
        return tpe_error(TPE_EINVAL, "%s: alpha has %zu entries but the model's vocabulary has %zu", path, n, V);
    }
    if ((rc = tpe_check_finite_f64((const double *)a.data, V, 0, path))) {
        tpe_array_free(&a);
        return rc;
    }
    *alpha = a.data; /* tpe_alloc'd by the reader */
    return TPE_OK;
}

int tpe_paper_embedding(const tpe_model *m, char which, double **E)
{
    const tpe_weight *w = which == 'i' ? tpe_model_input_embedding(m) : tpe_model_output_embedding(m);
    size_t V = m->cfg.n_vocab, C = w->cols; /* d_model for E^(i), d_out for E^(o) */
    int rc;
    *E = tpe_alloc_array(V, C * sizeof **E, which == 'i' ? "input embedding (double)" : "output embedding (double)");
    if (!*E) return TPE_ENOMEM;
    if ((rc = tpe_weight_to_f64(w, *E))) {
        tpe_free(*E);
        *E = NULL;
    }
    return rc;
}

int tpe_paper_head_bias(const tpe_model *m, double **bias)
{
    const tpe_weight *b = tpe_model_head_bias(m);
    int rc;
    *bias = NULL;
    if (!b) return TPE_OK;
    *bias = tpe_alloc_array(m->cfg.n_vocab, sizeof **bias, "head bias");
    if (!*bias) return TPE_ENOMEM;
    if ((rc = tpe_weight_to_f64(b, *bias))) {
        tpe_free(*bias);
        *bias = NULL;
    }
    return rc;
}

int tpe_paper_out_open(tpe_paper_out *o, const char *dir)
{
    memset(o, 0, sizeof *o);
    if (tpe_is_dir(dir)) {
        char **names;
        size_t count;
        int rc = tpe_list_dir(dir, &names, &count);
        if (rc) return rc;
        tpe_free_names(names, count);
        if (count) {
            o->direct = tpe_strdup(dir);
            return o->direct ? TPE_OK : tpe_error(TPE_ENOMEM, "out of memory");
        }
    }
    return tpe_outdir_open(&o->od, dir);
}

char *tpe_paper_out_file(const tpe_paper_out *o, const char *name)
{
    return o->direct ? tpe_path_join(o->direct, name) : tpe_outdir_file(&o->od, name);
}

int tpe_paper_out_commit(tpe_paper_out *o)
{
    if (o->direct) {
        free(o->direct);
        o->direct = NULL;
        return TPE_OK;
    }
    return tpe_outdir_commit(&o->od);
}

void tpe_paper_out_abort(tpe_paper_out *o)
{
    if (o->direct) {
        free(o->direct);
        o->direct = NULL;
        return;
    }
    tpe_outdir_abort(&o->od);
}

int tpe_paper_out_npy(const tpe_paper_out *o, const char *name, int ndim, size_t d0, size_t d1, const double *x)
{
    size_t shape[2];
    char *p = tpe_paper_out_file(o, name);
    int rc;
    if (!p) return tpe_error(TPE_ENOMEM, "out of memory");
    shape[0] = d0;
    shape[1] = d1;
    rc = tpe_npy_write(p, TPE_F64, ndim, shape, x);
    free(p);
    return rc;
}

int tpe_paper_parse_list(const char *s, int allow_inf, double **v, size_t *n, char *bad, size_t badcap)
{
    size_t cap = 8, k = 0;
    double *x = malloc(cap * sizeof *x);
    const char *at = s;
    *v = NULL;
    *n = 0;
    if (!x) return -1;
    for (;;) {
        const char *end = strchr(at, ',');
        size_t len = end ? (size_t)(end - at) : strlen(at);
        char word[64], *stop;
        double d;
        if (len == 0 || len >= sizeof word) {
            snprintf(bad, badcap, "%.*s", (int)(len < 40 ? len : 40), at);
            free(x);
            return -1;
        }
        memcpy(word, at, len);
        word[len] = '\0';
        errno = 0;
        d = strtod(word, &stop);
        if (*stop || errno == ERANGE || isnan(d) || (!allow_inf && !isfinite(d))) {
            snprintf(bad, badcap, "%s", word);
            free(x);
            return -1;
        }
        if (k == cap) {
            double *nx = realloc(x, 2 * cap * sizeof *nx);
            if (!nx) {
                free(x);
                return -1;
            }
            x = nx;
            cap *= 2;
        }
        x[k++] = d;
        if (!end) break;
        at = end + 1;
    }
    *v = x;
    *n = k;
    return 0;
}
