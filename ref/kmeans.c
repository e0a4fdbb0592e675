/*
 * kmeans.c -- Lloyd's k-means with greedy k-means++ seeding (kmeans.h).
 */
#include "kmeans.h"
#include "array.h"
#include "rng.h"
#include "tpe.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void tpe_kmeans_opts_default(tpe_kmeans_opts *o)
{
    o->restarts = 5;
    o->max_iter = 500;
    o->seed = 0;
}

void tpe_kmeans_free(tpe_kmeans_result *r)
{
    if (!r) return;
    tpe_free(r->centers);
    tpe_free(r->labels);
    memset(r, 0, sizeof *r);
}

/* ||x - c||^2 over d coordinates, in four interleaved partial sums
 * (coordinates j = 0, 1, 2, 3 mod 4) added as (s0 + s1) + (s2 + s3): the
 * same order on every platform, and four independent chains for the CPU */
static double dist2(const double *x, const double *c, size_t d)
{
    double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
    size_t j = 0;
    for (; j + 4 <= d; j += 4) {
        double t0 = x[j] - c[j], t1 = x[j + 1] - c[j + 1], t2 = x[j + 2] - c[j + 2], t3 = x[j + 3] - c[j + 3];
        s0 += t0 * t0;
        s1 += t1 * t1;
        s2 += t2 * t2;
        s3 += t3 * t3;
    }
    for (; j < d; j++) {
        double t = x[j] - c[j];
        s0 += t * t;
    }
    return (s0 + s1) + (s2 + s3);
}

/* dist2, or some value > bound as soon as the partial sums exceed bound:
 * the terms are non-negative and rounding is monotone, so each partial sum,
 * and (s0 + s1) + (s2 + s3) of them, only grows towards dist2's value. So a
 * result <= bound is dist2 exactly, and a result > bound means dist2 > bound
 * (comparisons with bound, ties included, are exact). Checked every 16
 * coordinates. */
static double dist2_below(const double *x, const double *c, size_t d, double bound)
{
    double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
    size_t j = 0;
    for (; j + 4 <= d; j += 4) {
        double t0 = x[j] - c[j], t1 = x[j + 1] - c[j + 1], t2 = x[j + 2] - c[j + 2], t3 = x[j + 3] - c[j + 3];
        s0 += t0 * t0;
        s1 += t1 * t1;
        s2 += t2 * t2;
        s3 += t3 * t3;
        if ((j & 12) == 12 && (s0 + s1) + (s2 + s3) > bound) return (s0 + s1) + (s2 + s3);
    }
    for (; j < d; j++) {
        double t = x[j] - c[j];
        s0 += t * t;
    }
    return (s0 + s1) + (s2 + s3);
}

/* A point drawn with probability D2[i] / pot (pot = sum D2 > 0): the first i
 * whose cumulative weight exceeds u * pot; rounding can leave u * pot at or
 * above the last cumulative sum, then the last point with positive weight. */
static size_t draw_d2(tpe_rng *rng, const double *D2, size_t n, double pot)
{
    double u = tpe_rng_uniform(rng) * pot, cum = 0.0;
    size_t i, last = 0;
    for (i = 0; i < n; i++) {
        if (D2[i] > 0.0) last = i;
        cum += D2[i];
        if (cum > u && D2[i] > 0.0) return i;
    }
    return last;
}

/* Greedy k-means++ seeding into C (k x d). D2, T: n doubles of scratch. */
static void seed_plusplus(const double *X, size_t n, size_t d, size_t k, tpe_rng *rng, double *C, double *D2, double *T)
{
    size_t trials = 2 + (size_t)floor(log((double)k)), c, t, i;
    size_t first = (size_t)tpe_rng_below(rng, n);
    double pot = 0.0;
    memcpy(C, X + first * d, d * sizeof *C);
    for (i = 0; i < n; i++) pot += D2[i] = dist2(X + i * d, C, d);
    for (c = 1; c < k; c++) {
        size_t best = 0;
        double best_pot = HUGE_VAL;
        for (t = 0; t < trials; t++) {
            /* every point on a chosen center (duplicates): any point will do */
            size_t cand = pot > 0.0 ? draw_d2(rng, D2, n, pot) : (size_t)tpe_rng_below(rng, n);
            double p = 0.0;
            for (i = 0; i < n; i++) {
                double e = dist2_below(X + i * d, X + cand * d, d, D2[i]);
                p += e < D2[i] ? e : D2[i];
            }
            if (p < best_pot) {
                best_pot = p;
                best = cand;
            }
        }
        memcpy(C + c * d, X + best * d, d * sizeof *C);
        pot = 0.0;
        for (i = 0; i < n; i++) {
            T[i] = dist2_below(X + i * d, C + c * d, d, D2[i]);
            if (T[i] < D2[i]) D2[i] = T[i];
            pot += D2[i];
        }
    }
}

/* Nearest center of every point (ties: the lower index); returns how many
 * labels changed and fills dist (n) with the squared distances. The scan
 * starts from the point's current center, whose distance bounds the others'
 * (dist2_below); the result is the same as a scan from center 0. */
static size_t assign(const double *X, size_t n, size_t d, const double *C, size_t k, size_t *labels, double *dist)
{
    size_t i, j, changed = 0;
    for (i = 0; i < n; i++) {
        const double *x = X + i * d;
        size_t best = labels[i] < k ? labels[i] : 0, first = best;
        double bd = dist2(x, C + best * d, d);
        for (j = 0; j < k; j++) {
            double e;
            if (j == first) continue;
            e = dist2_below(x, C + j * d, d, bd);
            if (e < bd || (e == bd && j < best)) {
                bd = e;
                best = j;
            }
        }
        if (labels[i] != best) changed++;
        labels[i] = best;
        dist[i] = bd;
    }
    return changed;
}

/* Centers = means of their points; an empty cluster takes the point farthest
 * from its center among clusters of two or more. cnt: k sizes of scratch. */
static void update(const double *X, size_t n, size_t d, double *C, size_t k, size_t *labels, double *dist, size_t *cnt)
{
    size_t i, j, c;
    for (c = 0; c < k; c++) cnt[c] = 0;
    for (i = 0; i < n; i++) cnt[labels[i]]++;
    for (c = 0; c < k; c++) {
        size_t far = n;
        if (cnt[c]) continue;
        for (i = 0; i < n; i++)
            if (cnt[labels[i]] > 1 && (far == n || dist[i] > dist[far])) far = i;
        if (far == n) continue; /* fewer points than clusters: cannot happen for k <= n */
        cnt[labels[far]]--;
        labels[far] = c;
        dist[far] = 0.0;
        cnt[c] = 1;
    }
    memset(C, 0, k * d * sizeof *C);
    for (i = 0; i < n; i++)
        for (j = 0; j < d; j++) C[labels[i] * d + j] += X[i * d + j];
    for (c = 0; c < k; c++)
        for (j = 0; j < d; j++) C[c * d + j] /= (double)cnt[c];
}

int tpe_kmeans(const double *X, size_t n, size_t d, size_t k, const tpe_kmeans_opts *opts, tpe_kmeans_result *out)
{
    tpe_kmeans_opts o;
    tpe_rng rng;
    double *C = NULL, *D2 = NULL, *T = NULL;
    size_t *labels = NULL, *cnt = NULL, run, i, nd;
    int rc = TPE_OK;
    memset(out, 0, sizeof *out);
    if (opts) o = *opts;
    else tpe_kmeans_opts_default(&o);
    if (!o.restarts) o.restarts = 5;
    if (!o.max_iter) o.max_iter = 500;
    if (n == 0 || d == 0) return tpe_error(TPE_EINVAL, "k-means: no data (%zu points of %zu dimensions)", n, d);
    if (k == 0 || k > n) return tpe_error(TPE_EINVAL, "k-means: %zu clusters for %zu points", k, n);
    if (tpe_size_mul(n, d, &nd)) return tpe_error(TPE_ENOMEM, "k-means: %zu x %zu is too large", n, d);
    if ((rc = tpe_check_finite_f64(X, nd, d, "k-means data"))) return rc;
    C = tpe_alloc_array(k, d * sizeof *C, "k-means centers");
    D2 = tpe_alloc_array(n, sizeof *D2, "k-means distances");
    T = tpe_alloc_array(n, sizeof *T, "k-means distances");
    labels = tpe_alloc_array(n, sizeof *labels, "k-means labels");
    cnt = tpe_alloc_array(k, sizeof *cnt, "k-means counts");
    out->centers = tpe_alloc_array(k, d * sizeof *out->centers, "k-means centers");
    out->labels = tpe_alloc_array(n, sizeof *out->labels, "k-means labels");
    if (!C || !D2 || !T || !labels || !cnt || !out->centers || !out->labels) {
        rc = TPE_ENOMEM;
        goto done;
    }
    tpe_rng_seed(&rng, o.seed);
    out->n = n;
    out->d = d;
    out->k = k;
    out->inertia = HUGE_VAL;
    for (run = 0; run < o.restarts; run++) {
        size_t it = 0;
        int converged = 0;
        double inertia = 0.0;
        seed_plusplus(X, n, d, k, &rng, C, D2, T);
        for (i = 0; i < n; i++) labels[i] = k; /* none yet: the first assignment changes all */
        while (it < o.max_iter) {
            size_t changed = assign(X, n, d, C, k, labels, T);
            if (changed == 0) { /* the centers are already the means of these labels */
                converged = 1;
                break;
            }
            update(X, n, d, C, k, labels, T, cnt);
            it++;
        }
        if (!converged) assign(X, n, d, C, k, labels, T); /* the final centers' assignment */
        for (i = 0; i < n; i++) inertia += T[i];
        if (inertia < out->inertia) {
            out->inertia = inertia;
            out->iterations = it;
            out->converged = converged;
            out->best_run = run;
            memcpy(out->centers, C, k * d * sizeof *C);
            memcpy(out->labels, labels, n * sizeof *labels);
        }
    }
done:
    tpe_free(C);
    tpe_free(D2);
    tpe_free(T);
    tpe_free(labels);
    tpe_free(cnt);
    if (rc) tpe_kmeans_free(out);
    return rc;
}
