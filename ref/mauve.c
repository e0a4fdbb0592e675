/*
 * mauve.c -- MAUVE as mauve-text computes it (mauve.h; Pillutla et al. 2021).
 */
#include "mauve.h"
#include "array.h"
#include "kmeans.h"
#include "pca.h"
#include "tpe.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void tpe_mauve_opts_default(tpe_mauve_opts *o)
{
    memset(o, 0, sizeof *o);
    o->explained_var = TPE_MAUVE_EXPLAINED_VAR;
    o->restarts = 5;
    o->max_iter = 500;
    o->points = TPE_MAUVE_POINTS;
    o->scaling = TPE_MAUVE_SCALING;
    o->seed = TPE_MAUVE_SEED;
}

void tpe_mauve_free(tpe_mauve_result *r)
{
    if (!r) return;
    tpe_free(r->p_hist);
    tpe_free(r->q_hist);
    tpe_free(r->curve);
    memset(r, 0, sizeof *r);
}

size_t tpe_mauve_buckets(size_t n_p, size_t n_q)
{
    /* max(2, int(round(min(n_p, n_q) / 10))): Python 3 rounds halves to even;
     * m / 10 is exactly x.5 only when m % 10 == 5 */
    size_t m = n_p < n_q ? n_p : n_q, q = m / 10, r = m % 10;
    if (r > 5 || (r == 5 && q % 2 == 1)) q++;
    return q < 2 ? 2 : q;
}

/* ---- numpy's summation order ----------------------------------------------- */
/* numpy's pairwise_sum for doubles (loops_utils.h.src): fewer than 8 terms in
 * order; up to 128 in 8 interleaved accumulators combined as
 * ((r0+r1)+(r2+r3))+((r4+r5)+(r6+r7)), then the remainder in order; longer
 * arrays split at a multiple of 8 near the middle. */
static double pairwise(const double *a, size_t n)
{
    size_t i, j;
    if (n < 8) {
        double res = 0.0;
        for (i = 0; i < n; i++) res += a[i];
        return res;
    }
    if (n <= 128) {
        double r[8], res;
        for (j = 0; j < 8; j++) r[j] = a[j];
        for (i = 8; i < n - n % 8; i += 8)
            for (j = 0; j < 8; j++) r[j] += a[i + j];
        res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for (; i < n; i++) res += a[i];
        return res;
    } else {
        size_t n2 = n / 2;
        n2 -= n2 % 8;
        return pairwise(a, n2) + pairwise(a + n2, n - n2);
    }
}

/* numpy.add.reduce of a contiguous float64 array: the identity 0 plus the
 * pairwise sum of all n terms */
double tpe_numpy_sum(const double *a, size_t n) { return 0.0 + pairwise(a, n); }

/* ---- the divergence curve and its area ------------------------------------------ */
/* KL(a || b) = sum_{a_i, b_i != 0} a_i log(a_i / b_i), +inf when a_i > 0 = b_i:
 * mauve-text's kl_multinomial (the selected terms summed by numpy.sum). t is
 * k doubles of scratch. */
static double kl_multinomial(const double *a, const double *b, size_t k, double *t)
{
    size_t i, m = 0;
    for (i = 0; i < k; i++) {
        if (a[i] != 0.0 && b[i] == 0.0) return HUGE_VAL;
        if (a[i] != 0.0 && b[i] != 0.0) t[m++] = a[i] * log(a[i] / b[i]);
    }
    return tpe_numpy_sum(t, m);
}

typedef struct sort_key {
    double a, b;
    size_t i;
} sort_key;

/* a ascending, ties by b descending (along the curve, see mauve.h) */
static int cmp_key(const void *pa, const void *pb)
{
    const sort_key *x = pa, *y = pb;
    if (x->a < y->a) return -1;
    if (x->a > y->a) return 1;
    if (x->b > y->b) return -1;
    if (x->b < y->b) return 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

/* sklearn.metrics.auc(u, v) of the points sorted by u: numpy.trapz(v, u) =
 * sum_i (u_{i+1} - u_i) * (v_{i+1} + v_i) / 2.0, summed by numpy.sum */
static double area_sorted(const double *curve, size_t n, int swap, sort_key *keys, double *t)
{
    size_t i;
    for (i = 0; i < n; i++) {
        keys[i].a = curve[2 * i + (swap ? 1 : 0)];
        keys[i].b = curve[2 * i + (swap ? 0 : 1)];
        keys[i].i = i;
    }
    qsort(keys, n, sizeof *keys, cmp_key);
    for (i = 0; i + 1 < n; i++) t[i] = (keys[i + 1].a - keys[i].a) * (keys[i + 1].b + keys[i].b) / 2.0;
    return tpe_numpy_sum(t, n - 1);
}

double tpe_mauve_area(const double *curve, size_t n)
{
    sort_key *keys;
    double *t, a1, a2;
    if (n < 2) return (double)NAN;
    keys = malloc(n * sizeof *keys);
    t = malloc(n * sizeof *t);
    if (!keys || !t) {
        free(keys);
        free(t);
        tpe_error(TPE_ENOMEM, "out of memory");
        return (double)NAN;
    }
    a1 = area_sorted(curve, n, 0, keys, t);
    a2 = area_sorted(curve, n, 1, keys, t);
    free(keys);
    free(t);
    return 0.5 * (a1 + a2);
}

/* mauve-text's get_divergence_curve_for_multinomials into curve
 * ((points + 2) x 2) and its area. t: k doubles of scratch. */
static int divergence_curve(const double *p, const double *q, size_t k, size_t points, double c, double *curve, double *t,
                            double *r, double *area)
{
    /* numpy.linspace(1e-6, 1 - 1e-6, points): y = arange(points) * step + start,
     * the last set to stop */
    const double start = 1e-6, stop = 1.0 - 1e-6;
    double step = points > 1 ? (stop - start) / (double)(points - 1) : 0.0;
    size_t j, i;
    /* the curve holds exp(-c * [KL(Q||R), KL(P||R)]); the end points are
     * [0, inf] and [inf, 0] before the exponential */
    curve[0] = exp(-c * 0.0);
    curve[1] = exp(-c * HUGE_VAL);
    for (j = 0; j < points; j++) {
        double w = points > 1 && j == points - 1 ? stop : (double)j * step + start;
        for (i = 0; i < k; i++) r[i] = w * p[i] + (1.0 - w) * q[i];
        curve[2 * (j + 1)] = exp(-c * kl_multinomial(q, r, k, t));
        curve[2 * (j + 1) + 1] = exp(-c * kl_multinomial(p, r, k, t));
    }
    curve[2 * (points + 1)] = exp(-c * HUGE_VAL);
    curve[2 * (points + 1) + 1] = exp(-c * 0.0);
    *area = tpe_mauve_area(curve, points + 2);
    return isnan(*area) ? TPE_ENOMEM : TPE_OK;
}

/* mauve-text's get_fronter_integral (scaling 2), a Python loop in order */
static double frontier_integral(const double *p, const double *q, size_t k)
{
    double total = 0.0;
    size_t i;
    for (i = 0; i < k; i++) {
        double p1 = p[i], q1 = q[i];
        if (p1 == 0.0 && q1 == 0.0) continue;
        if (p1 == 0.0) total += q1 / 4;
        else if (q1 == 0.0) total += p1 / 4;
        else if (fabs(p1 - q1) > 1e-8) {
            double t1 = p1 + q1, t2 = p1 * q1 * (log(p1) - log(q1)) / (p1 - q1);
            total += 0.25 * t1 - 0.5 * t2;
        }
    }
    return total * 2;
}

int tpe_mauve_from_histograms(const double *p, const double *q, size_t k, const tpe_mauve_opts *opts, tpe_mauve_result *out)
{
    tpe_mauve_opts o;
    double *t = NULL, *r = NULL;
    size_t i, points;
    int rc = TPE_OK;
    if (opts) o = *opts;
    else tpe_mauve_opts_default(&o);
    points = o.points ? o.points : TPE_MAUVE_POINTS;
    if (!(o.scaling > 0.0)) o.scaling = TPE_MAUVE_SCALING;
    memset(out, 0, sizeof *out);
    if (k == 0) return tpe_error(TPE_EINVAL, "MAUVE: empty histograms");
    for (i = 0; i < k; i++)
        if (!(p[i] >= 0.0 && p[i] <= 1.0) || !(q[i] >= 0.0 && q[i] <= 1.0))
            return tpe_error(TPE_EINVAL, "MAUVE: histogram entry %zu (p %g, q %g) is not a probability", i, p[i], q[i]);
    out->buckets = k;
    out->curve_len = points + 2;
    out->p_hist = tpe_alloc_array(k, sizeof(double), "MAUVE histogram");
    out->q_hist = tpe_alloc_array(k, sizeof(double), "MAUVE histogram");
    out->curve = tpe_alloc_array(out->curve_len, 2 * sizeof(double), "MAUVE divergence curve");
    t = tpe_alloc_array(k, sizeof *t, "MAUVE scratch");
    r = tpe_alloc_array(k, sizeof *r, "MAUVE mixture");
    if (!out->p_hist || !out->q_hist || !out->curve || !t || !r) {
        rc = TPE_ENOMEM;
        goto done;
    }
    memcpy(out->p_hist, p, k * sizeof *p);
    memcpy(out->q_hist, q, k * sizeof *q);
    if ((rc = divergence_curve(p, q, k, points, o.scaling, out->curve, t, r, &out->mauve))) goto done;
    out->frontier_integral = frontier_integral(p, q, k);
    out->mauve_star = out->frontier_integral_star = (double)NAN; /* they need the counts */
done:
    tpe_free(t);
    tpe_free(r);
    if (rc) tpe_mauve_free(out);
    return rc;
}

int tpe_mauve_from_counts(const double *pc, const double *qc, size_t k, const tpe_mauve_opts *opts, tpe_mauve_result *out)
{
    double *h = NULL, np_ = 0.0, nq = 0.0, sp, sq;
    tpe_mauve_result sm;
    size_t i;
    int rc;
    memset(out, 0, sizeof *out);
    memset(&sm, 0, sizeof sm);
    if (k == 0) return tpe_error(TPE_EINVAL, "MAUVE: empty histograms");
    for (i = 0; i < k; i++) {
        if (!(pc[i] >= 0.0 && pc[i] < 9007199254740992.0 && pc[i] == floor(pc[i])) ||
            !(qc[i] >= 0.0 && qc[i] < 9007199254740992.0 && qc[i] == floor(qc[i])))
            return tpe_error(TPE_EINVAL, "MAUVE: count %zu (p %g, q %g) is not a non-negative integer", i, pc[i], qc[i]);
        np_ += pc[i]; /* exact: integers below 2^53 */
        nq += qc[i];
    }
    if (np_ == 0.0 || nq == 0.0) return tpe_error(TPE_EINVAL, "MAUVE: the %s counts are all zero", np_ == 0.0 ? "P" : "Q");
    h = tpe_alloc_array(4 * k, sizeof *h, "MAUVE histograms");
    if (!h) return TPE_ENOMEM;
    /* mauve-text's _normalize(bin_counts): count / total */
    for (i = 0; i < k; i++) {
        h[i] = pc[i] / np_;
        h[k + i] = qc[i] / nq;
        h[2 * k + i] = pc[i] + 0.5; /* Krichevsky-Trofimov: _normalize(bin_counts + 0.5) */
        h[3 * k + i] = qc[i] + 0.5;
    }
    sp = tpe_numpy_sum(h + 2 * k, k);
    sq = tpe_numpy_sum(h + 3 * k, k);
    for (i = 0; i < k; i++) {
        h[2 * k + i] /= sp;
        h[3 * k + i] /= sq;
    }
    rc = tpe_mauve_from_histograms(h, h + k, k, opts, out);
    if (!rc) rc = tpe_mauve_from_histograms(h + 2 * k, h + 3 * k, k, opts, &sm);
    if (!rc) {
        out->mauve_star = sm.mauve;
        out->frontier_integral_star = sm.frontier_integral;
        out->n_p = (size_t)np_;
        out->n_q = (size_t)nq;
    }
    tpe_mauve_free(&sm);
    tpe_free(h);
    if (rc) tpe_mauve_free(out);
    return rc;
}

int tpe_mauve_features(const double *P, size_t n_p, const double *Q, size_t n_q, size_t d, const tpe_mauve_opts *opts,
                       tpe_mauve_result *out)
{
    tpe_mauve_opts o;
    tpe_pca_opts po;
    tpe_pca_result pca;
    tpe_kmeans_opts ko;
    tpe_kmeans_result km;
    double *X = NULL, *Y = NULL, *pc = NULL, *qc = NULL, cum = 0.0;
    size_t n, i, j, k, kept = 0, nd;
    int rc;
    if (opts) o = *opts;
    else tpe_mauve_opts_default(&o);
    if (o.explained_var == 0.0) o.explained_var = TPE_MAUVE_EXPLAINED_VAR;
    memset(out, 0, sizeof *out);
    memset(&pca, 0, sizeof pca);
    memset(&km, 0, sizeof km);
    if (n_p == 0 || n_q == 0) return tpe_error(TPE_EINVAL, "MAUVE: %s has no samples", n_p == 0 ? "P" : "Q");
    if (d == 0) return tpe_error(TPE_EINVAL, "MAUVE: features of no dimension");
    if (!(o.explained_var > 0.0 && o.explained_var < 1.0))
        return tpe_error(TPE_EINVAL, "MAUVE: the explained variance %g is not strictly between 0 and 1", o.explained_var);
    n = n_p + n_q;
    k = o.buckets ? o.buckets : tpe_mauve_buckets(n_p, n_q);
    if (k > n) return tpe_error(TPE_EINVAL, "MAUVE: %zu buckets for %zu samples", k, n);
    if (tpe_size_mul(n, d, &nd)) return tpe_error(TPE_ENOMEM, "MAUVE: %zu x %zu features are too many", n, d);
    if ((rc = tpe_check_finite_f64(P, n_p * d, d, "P features")) || (rc = tpe_check_finite_f64(Q, n_q * d, d, "Q features")))
        return rc;
    X = tpe_alloc_array(nd, sizeof *X, "MAUVE features");
    if (!X) return TPE_ENOMEM;
    /* 1. [Q; P], rows scaled to unit norm (sklearn.preprocessing.normalize) */
    memcpy(X, Q, n_q * d * sizeof *X);
    memcpy(X + n_q * d, P, n_p * d * sizeof *X);
    for (i = 0; i < n; i++) {
        double s = 0.0, norm;
        for (j = 0; j < d; j++) s += X[i * d + j] * X[i * d + j];
        norm = sqrt(s);
        if (norm == 0.0) norm = 1.0;
        for (j = 0; j < d; j++) X[i * d + j] /= norm;
    }
    /* 2. PCA, every component; keep up to the first running sum >= 0.9 */
    tpe_pca_opts_default(&po);
    po.want_scores = 1;
    po.force_full = 1;
    if ((rc = tpe_pca(X, n, d, 0, &po, &pca))) goto done;
    for (i = 0; i < pca.k; i++) {
        cum += pca.explained_variance_ratio[i];
        if (cum >= o.explained_var) {
            kept = i + 1;
            break;
        }
    }
    if (kept == 0) kept = 1; /* numpy.argmax of all-false is 0 */
    out->pca_dims = kept;
    out->pca_explained = 0.0;
    for (i = 0; i < kept; i++) out->pca_explained += pca.explained_variance_ratio[i];
    if (isnan(out->pca_explained)) out->pca_explained = 0.0; /* all rows equal: no variance */
    Y = tpe_alloc_array(n, kept * sizeof *Y, "MAUVE projection");
    if (!Y) {
        rc = TPE_ENOMEM;
        goto done;
    }
    for (i = 0; i < n; i++)
        for (j = 0; j < kept; j++) {
            double v = pca.scores[i * pca.k + j];
            Y[i * kept + j] = o.no_f32_round ? v : (double)(float)v; /* mauve-text: astype(np.float32) */
        }
    /* 3. k-means */
    tpe_kmeans_opts_default(&ko);
    if (o.restarts) ko.restarts = o.restarts;
    if (o.max_iter) ko.max_iter = o.max_iter;
    ko.seed = o.seed;
    if ((rc = tpe_kmeans(Y, n, kept, k, &ko, &km))) goto done;
    /* 4. counts per cluster: Q's labels are the first n_q */
    pc = tpe_calloc_array(k, sizeof *pc, "MAUVE counts");
    qc = tpe_calloc_array(k, sizeof *qc, "MAUVE counts");
    if (!pc || !qc) {
        rc = TPE_ENOMEM;
        goto done;
    }
    for (i = 0; i < n_q; i++) qc[km.labels[i]] += 1.0;
    for (i = n_q; i < n; i++) pc[km.labels[i]] += 1.0;
    /* 5-6. histograms, the curve and its area, and the smoothed variant */
    {
        size_t dims = out->pca_dims;
        double expl = out->pca_explained;
        if ((rc = tpe_mauve_from_counts(pc, qc, k, &o, out))) goto done;
        out->pca_dims = dims;
        out->pca_explained = expl;
    }
    out->n_p = n_p;
    out->n_q = n_q;
    out->inertia = km.inertia;
    out->kmeans_iterations = km.iterations;
    out->kmeans_converged = km.converged;
done:
    tpe_free(X);
    tpe_free(Y);
    tpe_free(pc);
    tpe_free(qc);
    tpe_pca_free(&pca);
    tpe_kmeans_free(&km);
    if (rc) tpe_mauve_free(out);
    return rc;
}

/* ---- features from a model ---------------------------------------------------- */
int tpe_mauve_featurize_ids(const tpe_model *m, const int32_t *ids, const size_t *start, size_t n, size_t max_len, double *F,
                            tpe_progress *bar)
{
    size_t C = m->cfg.d_out, i, j, longest = 1;
    tpe_runtime *rt = NULL;
    float *h = NULL;
    int rc;
    if (max_len == 0 || max_len > m->cfg.n_ctx) max_len = m->cfg.n_ctx;
    for (i = 0; i < n; i++) {
        size_t len = start[i + 1] - start[i];
        if (len == 0) return tpe_error(TPE_EINVAL, "text %zu has no tokens", i);
        if (len > longest) longest = len;
    }
    if (longest > max_len) longest = max_len;
    if ((rc = tpe_runtime_new(m, longest, 0, &rt))) return rc;
    h = tpe_alloc_array(longest, C * sizeof *h, "featurizer hidden states");
    if (!h) {
        tpe_runtime_free(rt);
        return TPE_ENOMEM;
    }
    for (i = 0; i < n && !rc; i++) {
        size_t T = start[i + 1] - start[i];
        if (T > longest) T = longest; /* the first max_len tokens, as truncation=True */
        rc = tpe_forward(rt, ids + start[i], T, h, NULL);
        if (rc) {
            tpe_error_prefix(rc, "featurizing text %zu: ", i);
            break;
        }
        /* the final hidden state after the last norm at the last token */
        for (j = 0; j < C; j++) F[i * C + j] = (double)h[(T - 1) * C + j];
        if (bar) tpe_progress_update(bar, (double)(i + 1));
    }
    tpe_free(h);
    tpe_runtime_free(rt);
    return rc;
}

int tpe_mauve_featurize(const tpe_model *m, tpe_tokenizer *tok, const char *const *texts, const size_t *lens, size_t n,
                        size_t max_len, double *F, tpe_progress *bar)
{
    int32_t *all = NULL;
    size_t *start = malloc((n + 1) * sizeof *start), total = 0, i;
    int rc = TPE_OK;
    if (!start) return tpe_error(TPE_ENOMEM, "out of memory");
    start[0] = 0;
    for (i = 0; i < n && !rc; i++) {
        int32_t *ids = NULL, *grown;
        size_t k = 0;
        if ((rc = tpe_tokenizer_encode(tok, texts[i], lens[i], &ids, &k))) {
            tpe_error_prefix(rc, "text %zu: ", i);
            break;
        }
        if (max_len && k > max_len) k = max_len;
        grown = realloc(all, (total + k + 1) * sizeof *all);
        if (!grown) {
            free(ids);
            rc = tpe_error(TPE_ENOMEM, "out of memory");
            break;
        }
        all = grown;
        if (k) memcpy(all + total, ids, k * sizeof *ids);
        free(ids);
        total += k;
        start[i + 1] = total;
    }
    if (!rc) rc = tpe_mauve_featurize_ids(m, all, start, n, max_len, F, bar);
    free(all);
    free(start);
    return rc;
}
