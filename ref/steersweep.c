/*
 * steersweep.c -- the steering sweep behind Tables 2-3 and Figs. 4-5 of
 * Cho et al. (2024) (steereval.h): fit Eq. 2 on the detect set, build
 * Algorithm 1's direction for every variant and baseline, evaluate every
 * token x scale on the three test sets, and repeat with the encoding fitted
 * on growing subsets of the detect set (Fig. 4).
 */
#include "steereval.h"
#include "rng.h"
#include "tpe.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void tpe_steer_sweep_free(tpe_steer_sweep *r)
{
    if (!r) return;
    free(r->r);
    free(r->r_hat);
    free(r->kl);
    free(r->alpha_w);
    free(r->sweep_r_hat);
    free(r->sweep_samples);
    free(r->sweep_adj_r2);
    memset(r, 0, sizeof *r);
}

static double *nan_array(size_t n)
{
    double *x = malloc((n ? n : 1) * sizeof *x);
    size_t i;
    if (x)
        for (i = 0; i < n; i++) x[i] = (double)NAN;
    return x;
}

/* Eq. 2 on alpha, then Algorithm 1's direction u = Omega (/) A for (b, S). */
static int fit_direction(const double *E, size_t V, size_t C, const double *alpha, const double *bias, int precision,
                         const tpe_steer_variant *var, double *u, double *adj_r2, tpe_encoding *keep)
{
    tpe_encoding enc;
    double *S = malloc(C * sizeof *S);
    int rc;
    if (!S) return tpe_error(TPE_ENOMEM, "out of memory");
    if ((rc = tpe_encoding_fit(E, V, C, alpha, bias, precision, &enc))) {
        free(S);
        return rc;
    }
    tpe_steer_significance(&enc, var->sig, S);
    rc = tpe_steer_direction(enc.slope, S, C, var->b, u);
    if (adj_r2) *adj_r2 = enc.adj_r2;
    free(S);
    if (keep && !rc) *keep = enc;
    else tpe_encoding_free(&enc);
    return rc;
}

int tpe_steer_sweep_run(tpe_steer_evaluator *ev, tpe_steer_set *const *sets, const double *bias,
                        const tpe_steer_sweep_opts *o, tpe_steer_sweep *res)
{
    const float *Ef = tpe_steer_evaluator_head(ev, NULL);
    tpe_steer_set *D = sets[TPE_SET_LOCAL];
    size_t V, C, nr = 2 * o->nscales, nm, K, K1, i, j, s, m, c, set;
    double *E = NULL, *snap = NULL, **dirs = NULL, *S0 = NULL, *rh = NULL, *klv = NULL, *aw = NULL;
    size_t *snap_win = NULL;
    tpe_steer_edit *edits = NULL;
    tpe_encoding enc;
    int rc = TPE_OK, tied_shared = tpe_steer_evaluator_tied(ev) && !o->untie;

    memset(res, 0, sizeof *res);
    memset(&enc, 0, sizeof enc);
    if (o->ntokens == 0 || o->nscales == 0 || o->nvariants == 0)
        return tpe_error(TPE_EINVAL, "steering sweep: needs at least one token, scale and variant");
    for (i = 0; i < o->nscales; i++)
        if (!(o->scales[i] > 0.0) || !isfinite(o->scales[i]))
            return tpe_error(TPE_EINVAL, "scale %g: scales must be positive and finite", o->scales[i]);
    C = D->hc.C;
    V = tpe_steer_evaluator_vocab(ev);
    for (i = 0; i < o->ntokens; i++)
        if (o->tokens[i] < 0 || (size_t)o->tokens[i] >= V)
            return tpe_error(TPE_EINVAL, "token %ld is outside the vocabulary [0, %zu)", (long)o->tokens[i], V);
    nm = o->nvariants + (o->baselines ? 2 : 0);
    K = nm * o->ntokens * nr;
    K1 = o->ntokens * nr;
    res->nmethods = nm;
    res->ntokens = o->ntokens;
    res->nr = nr;
    res->nsizes = o->nsizes;
    res->tied_shared = tied_shared;
    res->mode = o->mode;
    res->r = malloc(nr * sizeof *res->r);
    res->r_hat = nan_array(K * TPE_NSETS);
    res->kl = nan_array(K * TPE_NSETS);
    res->alpha_w = nan_array(o->ntokens * TPE_NSETS);
    res->sweep_r_hat = nan_array(o->nsizes * K1 * TPE_NSETS);
    res->sweep_samples = calloc(o->nsizes ? o->nsizes : 1, sizeof *res->sweep_samples);
    res->sweep_adj_r2 = nan_array(o->nsizes);
    E = tpe_alloc_array(V, C * sizeof *E, "output embedding (double)");
    snap = tpe_alloc_array(o->nsizes ? o->nsizes : 1, V * sizeof *snap, "subset alphas");
    snap_win = malloc((o->nsizes ? o->nsizes : 1) * sizeof *snap_win);
    dirs = calloc(nm, sizeof *dirs);
    S0 = malloc(C * sizeof *S0);
    edits = malloc(K * sizeof *edits);
    rh = malloc(K * sizeof *rh);
    klv = malloc(K * sizeof *klv);
    aw = malloc(K * sizeof *aw);
    if (!res->r || !res->r_hat || !res->kl || !res->alpha_w || !res->sweep_r_hat || !res->sweep_samples ||
        !res->sweep_adj_r2 || !E || !snap || !snap_win || !dirs || !S0 || !edits || !rh || !klv || !aw) {
        rc = tpe_error(TPE_ENOMEM, "out of memory for the steering sweep");
        goto done;
    }
    for (m = 0; m < nm; m++)
        if (!(dirs[m] = malloc(C * sizeof *dirs[m]))) {
            rc = tpe_error(TPE_ENOMEM, "out of memory");
            goto done;
        }
    for (i = 0; i < o->nscales; i++) {
        res->r[i] = o->scales[i];
        res->r[o->nscales + i] = 1.0 / o->scales[i];
    }
    for (i = 0; i < V * C; i++) E[i] = (double)Ef[i];

    /* the three sets' log Z and alpha; the detect set's subsets for Fig. 4 */
    for (i = 0; i < o->nsizes; i++) {
        size_t n = o->sizes[i] < D->hc.nsamples ? o->sizes[i] : D->hc.nsamples;
        if (o->sizes[i] == 0 || (i && o->sizes[i] < o->sizes[i - 1])) {
            rc = tpe_error(TPE_EINVAL, "detect-set sizes must be positive and ascending");
            goto done;
        }
        res->sweep_samples[i] = n;
        snap_win[i] = D->hc.sample_win[n];
    }
    for (set = 0; set < TPE_NSETS; set++)
        if ((rc = tpe_steer_set_prepare(ev, sets[set], set == TPE_SET_LOCAL ? snap_win : NULL, set == TPE_SET_LOCAL ? o->nsizes : 0,
                                        snap)))
            goto done;

    /* Eq. 2 on the whole detect set; Algorithm 1's direction per variant */
    for (m = 0; m < o->nvariants; m++) {
        double adj;
        if ((rc = fit_direction(E, V, C, D->alpha, bias, o->precision, &o->variants[m], dirs[m], &adj, m == 0 ? &enc : NULL)))
            goto done;
        res->adj_r2 = m == 0 ? adj : res->adj_r2;
    }
    res->r2 = enc.r2;
    if (o->baselines) {
        /* random A_D: standard normal entries scaled to ||A_D|| (collinear
         * dimensions stay excluded); shuffled A_D: its entries, with their
         * significances, in a random order. Both at variants[0]'s b and S. */
        tpe_rng rng;
        double *A = malloc(C * sizeof *A), *Sx = malloc(C * sizeof *Sx), norm = 0.0, rn = 0.0;
        size_t *perm = malloc(C * sizeof *perm);
        if (!A || !Sx || !perm) {
            free(A);
            free(Sx);
            free(perm);
            rc = tpe_error(TPE_ENOMEM, "out of memory");
            goto done;
        }
        tpe_steer_significance(&enc, o->variants[0].sig, S0);
        tpe_rng_seed(&rng, o->seed);
        for (c = 0; c < C; c++) {
            A[c] = tpe_rng_normal(&rng);
            if (isfinite(enc.slope[c])) {
                norm += enc.slope[c] * enc.slope[c];
                rn += A[c] * A[c];
            } else {
                A[c] = (double)NAN;
            }
        }
        for (c = 0; c < C; c++) A[c] *= sqrt(norm / rn);
        rc = tpe_steer_direction(A, S0, C, o->variants[0].b, dirs[o->nvariants]);
        for (c = 0; c < C; c++) perm[c] = c;
        for (c = C; c > 1; c--) {
            size_t r = (size_t)tpe_rng_below(&rng, c), tmp = perm[c - 1];
            perm[c - 1] = perm[r];
            perm[r] = tmp;
        }
        for (c = 0; c < C; c++) {
            A[c] = enc.slope[perm[c]];
            Sx[c] = S0[perm[c]];
        }
        if (!rc) rc = tpe_steer_direction(A, Sx, C, o->variants[0].b, dirs[o->nvariants + 1]);
        free(A);
        free(Sx);
        free(perm);
        if (rc) goto done;
    }

    /* Table 2 / Table 3: every method x token x scale on the three sets */
    for (m = 0; m < nm; m++)
        for (j = 0; j < o->ntokens; j++)
            for (s = 0; s < nr; s++) {
                tpe_steer_edit *e = &edits[(m * o->ntokens + j) * nr + s];
                e->token = o->tokens[j];
                e->dir = m;
                e->t = -log(res->r[s]); /* Alg. 1: E'_w = E_w - log(r) Omega (/) A */
                e->input_too = tied_shared;
            }
    for (set = 0; set < TPE_NSETS; set++) {
        if ((rc = tpe_steer_evaluate(ev, sets[set], 0, sets[set]->alpha, (const double *const *)dirs, nm, edits, K, o->mode, rh,
                                     o->kl ? klv : NULL, aw, &res->stats, o->progress)))
            goto done;
        for (i = 0; i < K; i++) {
            res->r_hat[i * TPE_NSETS + set] = rh[i];
            if (o->kl) res->kl[i * TPE_NSETS + set] = klv[i];
        }
        for (j = 0; j < o->ntokens; j++) res->alpha_w[j * TPE_NSETS + set] = aw[j * nr];
    }

    /* Fig. 4: the encoding from the first n detect samples */
    for (i = 0; i < o->nsizes; i++) {
        const double *ai = snap + i * V;
        if (fit_direction(E, V, C, ai, bias, o->precision, &o->variants[0], dirs[0], &res->sweep_adj_r2[i], NULL)) {
            tpe_error_clear(); /* a subset too small to fit: NaN in the figure, noted by the caller */
            res->sweep_adj_r2[i] = (double)NAN;
            continue;
        }
        for (set = 0; set < TPE_NSETS; set++) {
            size_t nwin = set == TPE_SET_LOCAL ? snap_win[i] : 0;
            const double *av = set == TPE_SET_LOCAL ? ai : sets[set]->alpha;
            /* edits[0 .. K1) are variants[0]'s, direction 0 */
            if ((rc = tpe_steer_evaluate(ev, sets[set], nwin, av, (const double *const *)dirs, 1, edits, K1, o->mode, rh, NULL,
                                         NULL, &res->stats, o->progress)))
                goto done;
            for (j = 0; j < K1; j++) res->sweep_r_hat[(i * K1 + j) * TPE_NSETS + set] = rh[j];
        }
    }
done:
    tpe_encoding_free(&enc);
    if (dirs)
        for (m = 0; m < nm; m++) free(dirs[m]);
    free(dirs);
    tpe_free(E);
    tpe_free(snap);
    free(snap_win);
    free(S0);
    free(edits);
    free(rh);
    free(klv);
    free(aw);
    if (rc) tpe_steer_sweep_free(res);
    return rc;
}
