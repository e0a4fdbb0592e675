/*
 * generate.c -- temperature, top-k and top-p sampling (generate.h).
 */
#include "generate.h"
#include "tpe.h"

#include <math.h>
#include <stdlib.h>

struct tpe_sampler {
    size_t V;
    tpe_sampling s;
    tpe_rng rng;
    double *z;     /* (V) scaled logits, then probabilities */
    int32_t *idx;  /* (V) candidate ids                      */
};

void tpe_sampler_free(tpe_sampler *s)
{
    if (!s) return;
    tpe_free(s->z);
    tpe_free(s->idx);
    free(s);
}

int tpe_sampler_new(size_t V, const tpe_sampling *sp, uint64_t seed, tpe_sampler **out)
{
    tpe_sampler *s;
    *out = NULL;
    if (!(sp->temperature >= 0.0) || !isfinite(sp->temperature))
        return tpe_error(TPE_EINVAL, "temperature must be a finite number >= 0, got %g", sp->temperature);
    if (!(sp->top_p > 0.0 && sp->top_p <= 1.0)) return tpe_error(TPE_EINVAL, "top-p must be in (0, 1], got %g", sp->top_p);
    s = calloc(1, sizeof *s);
    if (!s) return tpe_error(TPE_ENOMEM, "out of memory");
    s->V = V;
    s->s = *sp;
    tpe_rng_seed(&s->rng, seed);
    s->z = tpe_alloc_array(V, sizeof *s->z, "sampling");
    s->idx = tpe_alloc_array(V, sizeof *s->idx, "sampling");
    if (!s->z || !s->idx) {
        tpe_sampler_free(s);
        return TPE_ENOMEM;
    }
    *out = s;
    return TPE_OK;
}

/* decreasing z, ties by increasing id (heap sort: no recursion, O(n log n),
 * and a total order so the result does not depend on the sort) */
static int before(const double *z, int32_t a, int32_t b) { return z[a] > z[b] || (z[a] == z[b] && a < b); }

static void sift(const double *z, int32_t *v, size_t i, size_t n)
{
    for (;;) {
        size_t c = 2 * i + 1, w = i;
        if (c < n && before(z, v[w], v[c])) w = c;
        if (c + 1 < n && before(z, v[w], v[c + 1])) w = c + 1;
        if (w == i) return;
        {
            int32_t t = v[i];
            v[i] = v[w];
            v[w] = t;
        }
        i = w;
    }
}

/* sort v[0..n) so that v[0] comes first; the heap keeps the "last" on top */
static void sort_ids(const double *z, int32_t *v, size_t n)
{
    size_t i;
    if (n < 2) return;
    for (i = n / 2; i-- > 0;) sift(z, v, i, n);
    for (i = n - 1; i > 0; i--) {
        int32_t t = v[0];
        v[0] = v[i];
        v[i] = t;
        sift(z, v, 0, i);
    }
}

int tpe_sampler_next(tpe_sampler *s, const float *l32, const double *l64, int32_t *token)
{
    size_t V = s->V, v, n = V;
    double mx = -HUGE_VAL, total = 0.0, u, acc = 0.0;
    int sorted = 0;
    for (v = 0; v < V; v++) {
        double l = l32 ? (double)l32[v] : l64[v];
        if (!isfinite(l)) return tpe_error(TPE_ENUMERIC, "logit of token %zu is not finite", v);
        s->z[v] = l;
        s->idx[v] = (int32_t)v;
    }
    if (s->s.temperature == 0.0) {
        size_t best = 0;
        for (v = 1; v < V; v++)
            if (s->z[v] > s->z[best]) best = v;
        *token = (int32_t)best;
        return TPE_OK;
    }
    for (v = 0; v < V; v++) s->z[v] /= s->s.temperature;
    if (s->s.top_k > 0 || s->s.top_p < 1.0) {
        sort_ids(s->z, s->idx, V);
        sorted = 1;
        if (s->s.top_k > 0 && s->s.top_k < n) n = s->s.top_k;
    }
    /* softmax over the kept candidates idx[0..n) */
    for (v = 0; v < n; v++)
        if (s->z[s->idx[v]] > mx) mx = s->z[s->idx[v]];
    for (v = 0; v < n; v++) {
        double e = exp(s->z[s->idx[v]] - mx);
        s->z[s->idx[v]] = e;
        total += e;
    }
    if (sorted && s->s.top_p < 1.0) {
        double before_mass = 0.0;
        size_t keep = 0;
        while (keep < n && (keep == 0 || before_mass < s->s.top_p * total)) before_mass += s->z[s->idx[keep++]];
        n = keep;
        total = before_mass;
    }
    u = tpe_rng_uniform(&s->rng) * total;
    for (v = 0; v < n; v++) {
        acc += s->z[s->idx[v]];
        if (acc > u) break;
    }
    if (v == n) v = n - 1; /* u * total rounds up to the whole mass */
    *token = s->idx[v];
    return TPE_OK;
}
