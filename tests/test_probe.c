/*
 * test_probe.c -- alpha (probe.h) against a direct computation from the
 * reference logits, windows, the hidden-state sink, and the sampler
 * (generate.h): greedy, top-k, top-p, seeds and the sampled frequencies.
 */
#include "generate.h"
#include "model.h"
#include "platform.h"
#include "probe.h"
#include "test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static tpe_model *tiny_model(const char *name, tpe_arch arch, size_t ctx)
{
    char dir[600];
    tpe_random_spec r;
    tpe_model *m = NULL;
    snprintf(dir, sizeof dir, "%s/%s", tt_tmpdir(), name);
    tpe_random_spec_default(&r, arch);
    r.n_vocab = 53;
    r.n_ctx = ctx;
    r.d_model = 16;
    r.n_layer = 2;
    r.n_head = 2;
    r.d_ff = 32;
    r.rotary_dim = 4;
    r.scale = 0.3;
    r.tied = 0;
    if (!tpe_is_dir(dir)) CHECK_OK(tpe_random_model_write(&r, dir));
    CHECK_OK(tpe_model_load(dir, NULL, &m));
    return m;
}

/* the mean of softmax(logits) over positions, straight from the reference */
static void direct_alpha(const tpe_model *m, const int32_t *ids, size_t n, size_t window, double *sum, size_t *count)
{
    size_t V = m->cfg.n_vocab, at, t, v;
    for (at = 0; at < n; at += window) {
        size_t T = n - at < window ? n - at : window;
        double *l = malloc(T * V * sizeof *l);
        CHECK_OK(tpe_forward_ref(m, ids + at, T, NULL, l, NULL));
        for (t = 0; t < T; t++) {
            double mx = -HUGE_VAL, z = 0.0;
            for (v = 0; v < V; v++)
                if (l[t * V + v] > mx) mx = l[t * V + v];
            for (v = 0; v < V; v++) z += exp(l[t * V + v] - mx);
            for (v = 0; v < V; v++) sum[v] += exp(l[t * V + v] - mx) / z;
        }
        *count += T;
        free(l);
    }
}

typedef struct sink_log {
    size_t calls, rows, last_sample, last_pos0;
    int order_ok;
} sink_log;

static int sink(void *ctx, size_t sample, size_t pos0, const int32_t *ids, const float *h32, const double *h64, size_t T, size_t C)
{
    sink_log *s = ctx;
    (void)ids;
    if (s->calls && !(sample > s->last_sample || (sample == s->last_sample && pos0 > s->last_pos0))) s->order_ok = 0;
    if (!h32 == !h64 || C != 16) s->order_ok = 0;
    s->calls++;
    s->rows += T;
    s->last_sample = sample;
    s->last_pos0 = pos0;
    return TPE_OK;
}

TEST(probe_alpha_equals_direct_mean)
{
    static const tpe_arch archs[] = {TPE_ARCH_GPT2, TPE_ARCH_NEOX, TPE_ARCH_GPTJ};
    static const char *const names[] = {"probe-gpt2", "probe-neox", "probe-gptj"};
    size_t a, i, lens[3] = {5, 23, 9}, window = 8;
    double worst64 = 0.0, worst32 = 0.0;
    for (a = 0; a < 3; a++) {
        tpe_model *m = tiny_model(names[a], archs[a], 16);
        tpe_probe *p64 = NULL, *p32 = NULL;
        double *sum, *alpha64, *alpha32, total = 0.0;
        size_t V, count = 0, s;
        int32_t ids[3][23];
        sink_log log = {0, 0, 0, 0, 1};
        if (!m) continue;
        V = m->cfg.n_vocab;
        sum = calloc(V, sizeof *sum), alpha64 = malloc(V * sizeof *alpha64), alpha32 = malloc(V * sizeof *alpha32);
        CHECK_OK(tpe_probe_new(m, window, 1, &p64));
        CHECK_OK(tpe_probe_new(m, window, 0, &p32));
        CHECK_ERR(tpe_probe_alpha(p64, alpha64), TPE_EINVAL, "no tokens");
        tpe_probe_set_hidden_sink(p32, sink, &log);
        for (s = 0; s < 3; s++) {
            for (i = 0; i < lens[s]; i++) ids[s][i] = (int32_t)tpe_rng_below(tt_rng(), V);
            CHECK_OK(tpe_probe_sample(p64, s, ids[s], lens[s]));
            CHECK_OK(tpe_probe_sample(p32, s, ids[s], lens[s]));
            direct_alpha(m, ids[s], lens[s], window, sum, &count);
        }
        CHECK(tpe_probe_positions(p64) == 37 && count == 37);
        /* windows: 1 + 3 + 2; rows: every position */
        CHECK(log.calls == 6 && log.rows == 37 && log.order_ok);
        CHECK_OK(tpe_probe_alpha(p64, alpha64));
        CHECK_OK(tpe_probe_alpha(p32, alpha32));
        for (i = 0; i < V; i++) {
            double d = sum[i] / (double)count;
            total += alpha64[i];
            if (fabs(alpha64[i] - d) > worst64) worst64 = fabs(alpha64[i] - d);
            if (fabs(alpha32[i] - d) > worst32) worst32 = fabs(alpha32[i] - d);
        }
        /* alpha entries are <= 1: double round-off of V-term sums and one
         * division per position; the float path inherits the logits' float
         * error (|dp| <= p |dl|, |dl| ~ 1e-6 here) */
        CHECKF(fabs(total - 1.0) <= 64.0 * (double)V * TT_EPS64, "%s: alpha sums to 1 + %.3g", names[a], total - 1.0);
        CHECKF(worst64 <= 64.0 * (double)V * TT_EPS64, "%s: alpha (f64) differs from the direct mean by %.3g", names[a], worst64);
        CHECKF(worst32 <= 1e-5, "%s: alpha (f32) differs from the direct mean by %.3g", names[a], worst32);
        tpe_probe_free(p64);
        tpe_probe_free(p32);
        free(sum);
        free(alpha64);
        free(alpha32);
        tpe_model_free(m);
    }
    NOTE("worst |alpha - direct mean|: f64 %.2e, f32 %.2e", worst64, worst32);
}

TEST(probe_rejects_bad_windows)
{
    tpe_model *m = tiny_model("probe-gpt2", TPE_ARCH_GPT2, 16);
    tpe_probe *p = NULL;
    int32_t ids[20] = {0};
    if (!m) return;
    CHECK_ERR(tpe_probe_new(m, 17, 0, &p), TPE_EINVAL, "16 positions");
    CHECK_ERR(tpe_probe_new(m, 0, 0, &p), TPE_EINVAL, "window");
    CHECK_OK(tpe_probe_new(m, 4, 0, &p));
    CHECK_ERR(tpe_probe_window(p, 0, 0, ids, 5), TPE_EINVAL, "exceeds 4");
    ids[2] = 99;
    CHECK_ERR(tpe_probe_sample(p, 3, ids, 6), TPE_EINVAL, "sample 3, tokens 0..3: token id 99 at index 2");
    tpe_probe_free(p);
    tpe_model_free(m);
}

/* ---- sampling --------------------------------------------------------------------- */
TEST(sampler_greedy_topk_and_seeds)
{
    double l[6] = {0.5, 2.0, -1.0, 2.0, 1.0, 0.0};
    float lf[6] = {0.5f, 2.0f, -1.0f, 2.0f, 1.0f, 0.0f};
    tpe_sampling sp = {0.0, 0, 1.0};
    tpe_sampler *a = NULL, *b = NULL;
    int32_t t, u;
    size_t i, same = 0;
    CHECK_OK(tpe_sampler_new(6, &sp, 1, &a));
    CHECK_OK(tpe_sampler_next(a, NULL, l, &t));
    CHECK(t == 1); /* ties go to the lower id */
    CHECK_OK(tpe_sampler_next(a, lf, NULL, &t));
    CHECK(t == 1);
    tpe_sampler_free(a);
    sp.temperature = 5.0, sp.top_k = 1;
    CHECK_OK(tpe_sampler_new(6, &sp, 9, &a));
    for (i = 0; i < 50; i++) {
        CHECK_OK(tpe_sampler_next(a, NULL, l, &t));
        CHECK(t == 1);
    }
    tpe_sampler_free(a);
    sp.top_k = 0;
    CHECK_OK(tpe_sampler_new(6, &sp, 42, &a));
    CHECK_OK(tpe_sampler_new(6, &sp, 42, &b));
    for (i = 0; i < 100; i++) {
        CHECK_OK(tpe_sampler_next(a, NULL, l, &t));
        CHECK_OK(tpe_sampler_next(b, NULL, l, &u));
        same += t == u;
    }
    CHECK(same == 100);
    tpe_sampler_free(a);
    tpe_sampler_free(b);
    sp.temperature = -1.0;
    CHECK_ERR(tpe_sampler_new(6, &sp, 1, &a), TPE_EINVAL, "temperature");
    sp.temperature = 1.0, sp.top_p = 0.0;
    CHECK_ERR(tpe_sampler_new(6, &sp, 1, &a), TPE_EINVAL, "top-p");
    sp.top_p = 1.0;
    CHECK_OK(tpe_sampler_new(6, &sp, 1, &a));
    l[4] = (double)NAN;
    CHECK_ERR(tpe_sampler_next(a, NULL, l, &t), TPE_ENUMERIC, "token 4");
    tpe_sampler_free(a);
}

/* Frequencies of N draws against the softmax probabilities (each within
 * 5 standard deviations sqrt(p (1 - p) / N)), with temperature, top-k and
 * top-p (tokens outside the kept set are never drawn). */
TEST(sampler_frequencies_match_probabilities)
{
    const double l[8] = {1.0, 0.2, -0.5, 2.0, 0.0, 1.5, -2.0, 0.7};
    struct {
        double temp;
        size_t k;
        double p;
    } cases[] = {{1.0, 0, 1.0}, {0.5, 0, 1.0}, {2.0, 3, 1.0}, {1.0, 0, 0.7}, {1.3, 5, 0.9}};
    size_t N = tt_quick() ? 20000 : 200000, c, i, v;
    double worst = 0.0;
    for (c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        tpe_sampling sp;
        tpe_sampler *s = NULL;
        double p[8], z = 0.0, order[8], mass = 0.0;
        size_t counts[8] = {0}, idx[8], keep = 8, j;
        sp.temperature = cases[c].temp, sp.top_k = cases[c].k, sp.top_p = cases[c].p;
        /* the expected distribution, computed here from the definition */
        for (v = 0; v < 8; v++) idx[v] = v, order[v] = l[v];
        for (i = 0; i < 8; i++)
            for (j = i + 1; j < 8; j++)
                if (order[idx[j]] > order[idx[i]]) {
                    size_t t = idx[i];
                    idx[i] = idx[j];
                    idx[j] = t;
                }
        if (sp.top_k) keep = sp.top_k;
        for (i = 0; i < keep; i++) z += exp(l[idx[i]] / sp.temperature);
        if (sp.top_p < 1.0) {
            size_t k2 = 0;
            while (k2 < keep && (k2 == 0 || mass < sp.top_p)) mass += exp(l[idx[k2++]] / sp.temperature) / z;
            keep = k2;
        }
        z = 0.0;
        for (i = 0; i < keep; i++) z += exp(l[idx[i]] / sp.temperature);
        for (v = 0; v < 8; v++) p[v] = 0.0;
        for (i = 0; i < keep; i++) p[idx[i]] = exp(l[idx[i]] / sp.temperature) / z;
        CHECK_OK(tpe_sampler_new(8, &sp, 1000 + c, &s));
        for (i = 0; i < N; i++) {
            int32_t t;
            CHECK_OK(tpe_sampler_next(s, NULL, l, &t));
            if (t >= 0 && t < 8) counts[t]++;
        }
        for (v = 0; v < 8; v++) {
            double f = (double)counts[v] / (double)N, sd = sqrt(p[v] * (1.0 - p[v]) / (double)N);
            if (p[v] == 0.0) CHECKF(counts[v] == 0, "case %zu: token %zu is outside the kept set but was drawn", c, v);
            else {
                CHECKF(fabs(f - p[v]) <= 5.0 * sd, "case %zu: token %zu drawn %.4f of the time, probability %.4f", c, v, f, p[v]);
                if (fabs(f - p[v]) / sd > worst) worst = fabs(f - p[v]) / sd;
            }
        }
        tpe_sampler_free(s);
    }
    NOTE("worst |frequency - p| / sd %.2f over %zu draws per case", worst, N);
}
