/*
 * test_dynamics.c -- Fig. 7's quantities (dynamics.h): the add-one
 * smoothed -log frequency, its adjusted R^2 on E^(o) (the same number as
 * tpe_ols_fit, the engine of `tpe ols`, on independently built inputs), and
 * Chen et al.'s convergence rate: exactly 0 at theta_0 and 1 at theta*, and
 * 1/2 for a parameter half-way between them.
 */
#include "dynamics.h"
#include "model.h"
#include "ols.h"
#include "platform.h"
#include "test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static tpe_model *ckpt(const char *name, uint64_t seed, tpe_arch arch, int tied)
{
    char dir[600];
    tpe_random_spec r;
    tpe_model *m = NULL;
    snprintf(dir, sizeof dir, "%s/%s", tt_tmpdir(), name);
    tpe_random_spec_default(&r, arch);
    r.n_vocab = 40;
    r.n_ctx = 8;
    r.d_model = 8;
    r.n_layer = 3;
    r.n_head = 2;
    r.d_ff = 16;
    r.rotary_dim = 2;   /* GPT-J */
    r.rotary_pct = 0.5; /* GPT-NeoX: 2 of each head's 4 */
    r.scale = 0.5;
    r.tied = tied;
    r.seed = seed;
    r.dtype = TPE_F16; /* as Pythia's and the demo's checkpoints */
    if (!tpe_is_dir(dir)) CHECK_OK(tpe_random_model_write(&r, dir));
    CHECK_OK(tpe_model_load(dir, NULL, &m));
    return m;
}

TEST(dynamics_response_is_add_one)
{
    double c[4] = {0, 1, 6, 3}, y[4];
    size_t i;
    CHECK_OK(tpe_dynamics_response(c, 4, y));
    /* N = 10, V = 4: f = (c + 1) / 14 */
    for (i = 0; i < 4; i++) CHECK(y[i] == -log((c[i] + 1.0) / 14.0));
    c[2] = -1.0;
    CHECK_ERR(tpe_dynamics_response(c, 4, y), TPE_EINVAL, "token 2");
    c[2] = (double)NAN;
    CHECK_ERR(tpe_dynamics_response(c, 4, y), TPE_EINVAL, "token 2");
}

TEST(dynamics_adj_r2_equals_ols)
{
    static const struct {
        const char *name;
        tpe_arch arch;
        int tied;
    } v[] = {{"dyn_r2_neox", TPE_ARCH_NEOX, 0}, {"dyn_r2_gpt2", TPE_ARCH_GPT2, 1}, {"dyn_r2_gptj", TPE_ARCH_GPTJ, 0}};
    size_t k;
    for (k = 0; k < sizeof v / sizeof v[0]; k++) {
        tpe_model *m = ckpt(v[k].name, 3 + k, v[k].arch, v[k].tied);
        size_t V, C, w;
        double *counts, *y, *y2, *E, adj, r2, N = 0.0;
        tpe_ols_result res;
        if (!m) return;
        V = m->cfg.n_vocab;
        C = m->cfg.d_model;
        counts = malloc(V * sizeof *counts);
        y = malloc(V * sizeof *y);
        y2 = malloc(V * sizeof *y2);
        E = malloc(V * C * sizeof *E);
        for (w = 0; w < V; w++) N += counts[w] = (double)((w * 37) % 11 == 0 ? 0 : (w * w * 13) % 97);
        CHECK_OK(tpe_dynamics_response(counts, V, y));
        CHECK_OK(tpe_dynamics_adj_r2(m, y, &adj, &r2));
        /* the same regression from inputs built here: E^(o) read as stored
         * and -log((c + 1) / (N + V)) */
        CHECK_OK(tpe_weight_to_f64(v[k].arch == TPE_ARCH_GPT2 ? &m->wte : &m->head_w, E));
        for (w = 0; w < V; w++) y2[w] = -log((counts[w] + 1.0) / (N + (double)V));
        CHECK_OK(tpe_ols_fit(E, V, C, y2, 1, TPE_OLS_F64, &res));
        CHECKF(res.adj_r2 == adj && res.r2 == r2, "%s: adjusted R^2 %.17g, tpe_ols %.17g", v[k].name, adj, res.adj_r2);
        tpe_ols_free(&res);
        free(counts);
        free(y);
        free(y2);
        free(E);
        tpe_model_free(m);
    }
}

TEST(dynamics_convergence_rate_endpoints)
{
    tpe_model *m0 = ckpt("dyn_c0", 10, TPE_ARCH_NEOX, 0), *ms = ckpt("dyn_cs", 11, TPE_ARCH_NEOX, 0);
    tpe_model *mh = ckpt("dyn_c0", 10, TPE_ARCH_NEOX, 0), *other = ckpt("dyn_other", 12, TPE_ARCH_GPT2, 1);
    size_t np, i, V, C;
    double *d0, *rate, *a, *b;
    char name[64];
    if (!m0 || !ms || !mh || !other) {
        tpe_model_free(m0);
        tpe_model_free(ms);
        tpe_model_free(mh);
        tpe_model_free(other);
        return;
    }
    np = tpe_dynamics_nparams(m0);
    V = m0->cfg.n_vocab;
    C = m0->cfg.d_model;
    d0 = malloc(np * sizeof *d0);
    rate = malloc(np * sizeof *rate);
    a = malloc(V * C * sizeof *a);
    b = malloc(V * C * sizeof *b);
    CHECK(np == 2 + 3);
    tpe_dynamics_param_name(m0, 4, name, sizeof name);
    CHECK(strcmp(name, "layer.2.attn_qkv") == 0);
    for (i = 0; i < np; i++) {
        CHECK_OK(tpe_dynamics_dist2(ms, m0, i, &d0[i]));
        CHECK(d0[i] > 0.0);
    }
    CHECK_OK(tpe_dynamics_rates(m0, ms, d0, rate));
    for (i = 0; i < np; i++) CHECKF(rate[i] == 0.0, "rate %zu at theta_0: %.17g", i, rate[i]);
    CHECK_OK(tpe_dynamics_rates(ms, ms, d0, rate));
    for (i = 0; i < np; i++) CHECKF(rate[i] == 1.0, "rate %zu at theta*: %.17g", i, rate[i]);
    /* the input embedding half-way: (E_0 + E*) / 2 in double is exact for
     * F16 values, so every difference to E* is exactly half the one of E_0,
     * the sums of squares are the same sums scaled by 1/4 (a power of two:
     * the same roundings), and the rate is exactly 1/2 */
    CHECK_OK(tpe_weight_to_f64(&m0->wte, a));
    CHECK_OK(tpe_weight_to_f64(&ms->wte, b));
    for (i = 0; i < V * C; i++) a[i] = 0.5 * (a[i] + b[i]);
    CHECK_OK(tpe_model_set_input_embedding(mh, a, TPE_F64));
    CHECK_OK(tpe_dynamics_rates(mh, ms, d0, rate));
    CHECKF(rate[0] == 0.5, "input embedding half-way: rate %.17g", rate[0]);
    CHECK(rate[1] == 0.0 && rate[2] == 0.0); /* the rest is still theta_0 */
    /* theta* = theta_0 for a parameter: NaN, not a division by zero */
    CHECK_OK(tpe_dynamics_rates(ms, ms, (double[]){0, 1, 1, 1, 1}, rate));
    CHECK(isnan(rate[0]) && rate[1] == 1.0);
    CHECK_ERR(tpe_dynamics_compatible(m0, other, "other"), TPE_EINVAL, "other: a gpt2 model");
    free(d0);
    free(rate);
    free(a);
    free(b);
    tpe_model_free(m0);
    tpe_model_free(ms);
    tpe_model_free(mh);
    tpe_model_free(other);
}
