/*
 * test_prune.c -- removing output-embedding dimensions (prune.h, model.h
 * tpe_model_drop_head_dims), the KL of Fig. 6, the generation of App. A.3
 * (textgen.h) and MAUVE's features from a model (mauve.h).
 *
 * Exactness claims checked bit for bit in the f64 reference: pruning at
 * ratio 0 changes nothing; dropping dimensions gives the logits of zeroing
 * them (the final norm's kept outputs have the same bits and the head's
 * dot products lose only zero terms), also after save and reload, and for a
 * tied model with --untie. In the f32 path the dot products may be split
 * into SIMD lanes differently once terms are gone, so there the bound is
 * the dot product's: |error| <= 2 C u32 sum_c |E_vc h_c| (both sides).
 */
#include "headeval.h"
#include "mauve.h"
#include "model.h"
#include "platform.h"
#include "probe.h"
#include "prune.h"
#include "test.h"
#include "textgen.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void model_dir(char *dir, size_t cap, const char *name, tpe_arch arch, int tied)
{
    tpe_random_spec r;
    snprintf(dir, cap, "%s/%s", tt_tmpdir(), name);
    tpe_random_spec_default(&r, arch);
    r.n_vocab = 61;
    r.n_ctx = 24;
    r.d_model = 16;
    r.n_layer = 2;
    r.n_head = 2;
    r.d_ff = 32;
    r.rotary_dim = 4;
    r.scale = 0.4;
    r.tied = tied;
    r.seed = (uint64_t)arch * 7 + (uint64_t)tied;
    if (!tpe_is_dir(dir)) CHECK_OK(tpe_random_model_write(&r, dir));
}

static tpe_model *load_model(const char *name, tpe_arch arch, int tied)
{
    char dir[600];
    tpe_model *m = NULL;
    model_dir(dir, sizeof dir, name, arch, tied);
    CHECK_OK(tpe_model_load(dir, NULL, &m));
    return m;
}

static const int32_t ids[] = {3, 17, 42, 5, 60, 0, 33, 12, 7, 7, 28};
#define NIDS (sizeof ids / sizeof ids[0])

/* f64 reference logits (NIDS, V) */
static double *ref_logits(const tpe_model *m)
{
    double *l = malloc(NIDS * m->cfg.n_vocab * sizeof *l);
    CHECK_OK(tpe_forward_ref(m, ids, NIDS, NULL, l, NULL));
    return l;
}

/* fast-path logits for the first T tokens (T <= 3 takes the dot-product path) */
static float *fast_logits(const tpe_model *m, size_t T)
{
    tpe_runtime *rt = NULL;
    float *h = malloc(T * m->cfg.d_out * sizeof *h), *l = malloc(T * m->cfg.n_vocab * sizeof *l);
    CHECK_OK(tpe_runtime_new(m, T, 0, &rt));
    CHECK_OK(tpe_forward(rt, ids, T, h, NULL));
    CHECK_OK(tpe_forward_logits(rt, h, T, l));
    tpe_runtime_free(rt);
    free(h);
    return l;
}

static double *embedding(const tpe_model *m)
{
    double *E = malloc(m->cfg.n_vocab * m->cfg.d_out * sizeof *E);
    CHECK_OK(tpe_weight_to_f64(tpe_model_output_embedding(m), E));
    return E;
}

/* a stand-in for alpha: any positive vector summing to 1 */
static double *some_alpha(size_t V)
{
    double *a = malloc(V * sizeof *a), s = 0.0;
    size_t v;
    for (v = 0; v < V; v++) s += a[v] = exp(-0.1 * (double)v) + 0.01;
    for (v = 0; v < V; v++) a[v] /= s;
    return a;
}

TEST(prune_count_and_order)
{
    double imp[6] = {0.5, 0.1, 0.9, 0.1, 0.0, 0.7};
    size_t o[6], i;
    const size_t asc[6] = {4, 1, 3, 0, 5, 2}, desc[6] = {2, 5, 0, 1, 3, 4};
    CHECK(tpe_prune_count(0.0, 64) == 0);
    CHECK(tpe_prune_count(1.0, 64) == 64);
    CHECK(tpe_prune_count(0.3, 64) == 19);  /* 19.2 */
    CHECK(tpe_prune_count(0.05, 64) == 3);  /* 3.2 */
    CHECK(tpe_prune_count(0.3, 10) == 3);   /* 3, not 2.999... */
    CHECK(tpe_prune_count(0.25, 10) == 3);  /* 2.5: halves up */
    CHECK(tpe_prune_count(0.45, 10) == 5);  /* 4.5 */
    CHECK(tpe_prune_count(0.999, 3) == 3);
    tpe_prune_order_dims(imp, 6, TPE_PRUNE_ASCENDING, o);
    for (i = 0; i < 6; i++) CHECKF(o[i] == asc[i], "ascending[%zu] = %zu, want %zu", i, o[i], asc[i]);
    tpe_prune_order_dims(imp, 6, TPE_PRUNE_DESCENDING, o); /* ties by the lower index either way */
    for (i = 0; i < 6; i++) CHECKF(o[i] == desc[i], "descending[%zu] = %zu, want %zu", i, o[i], desc[i]);
}

TEST(prune_ratio_zero_changes_nothing)
{
    static const struct {
        const char *name;
        tpe_arch arch;
        int tied;
    } v[] = {{"pr0_gpt2_tied", TPE_ARCH_GPT2, 1}, {"pr0_neox", TPE_ARCH_NEOX, 0}, {"pr0_gptj", TPE_ARCH_GPTJ, 0}};
    size_t k;
    for (k = 0; k < sizeof v / sizeof v[0]; k++) {
        tpe_model *m = load_model(v[k].name, v[k].arch, v[k].tied);
        double *before = ref_logits(m), *after, *E = embedding(m);
        tpe_prune_plan plan;
        size_t none = 0;
        plan.removed = &none;
        plan.n_removed = 0;
        plan.drop = 0;
        plan.untie = 0;
        CHECK_OK(tpe_prune_apply(m, E, &plan));
        CHECK(m->cfg.tied == v[k].tied);
        after = ref_logits(m);
        CHECKF(memcmp(before, after, NIDS * m->cfg.n_vocab * sizeof *before) == 0, "%s: logits changed at ratio 0", v[k].name);
        free(before);
        free(after);
        free(E);
        tpe_model_free(m);
    }
}

/* worst |a - b| / (2 C u32 sum_c |E_vc h_c|) over the first T positions */
static double f32_bound_ratio(const tpe_model *zeroed, const float *a, const float *b, size_t T)
{
    size_t V = zeroed->cfg.n_vocab, C = zeroed->cfg.d_out, t, v, c;
    double *h = malloc(NIDS * C * sizeof *h), *E = embedding(zeroed), worst = 0.0;
    CHECK_OK(tpe_forward_ref(zeroed, ids, NIDS, h, NULL, NULL));
    for (t = 0; t < T; t++)
        for (v = 0; v < V; v++) {
            double s = 0.0, bound;
            for (c = 0; c < C; c++) s += fabs(E[v * C + c] * h[t * C + c]);
            bound = 2.0 * (double)C * TT_EPS32 * (s + 1e-30) * 1.01; /* 1 % for the float hidden state's own rounding */
            worst = fmax(worst, fabs((double)a[t * V + v] - (double)b[t * V + v]) / bound);
        }
    free(h);
    free(E);
    return worst;
}

TEST(prune_drop_equals_zeroing)
{
    static const struct {
        const char *name;
        tpe_arch arch;
        int tied;
    } v[] = {{"prd_gpt2_untied", TPE_ARCH_GPT2, 0}, {"prd_neox", TPE_ARCH_NEOX, 0}, {"prd_gptj", TPE_ARCH_GPTJ, 0},
             {"prd_gpt2_tied", TPE_ARCH_GPT2, 1}};
    const size_t rm[] = {3, 11, 0, 7, 15, 8};
    double worst = 0.0;
    size_t k;
    for (k = 0; k < sizeof v / sizeof v[0]; k++) {
        tpe_model *z = load_model(v[k].name, v[k].arch, v[k].tied), *d = load_model(v[k].name, v[k].arch, v[k].tied);
        double *E = embedding(z), *lz, *ld, *lr;
        float *fz, *fd;
        tpe_prune_plan plan;
        char dir[700];
        tpe_model *r = NULL;
        size_t T;
        plan.removed = rm;
        plan.n_removed = sizeof rm / sizeof rm[0];
        plan.drop = 0;
        plan.untie = 0;
        CHECK_OK(tpe_prune_apply(z, E, &plan));
        plan.drop = 1;
        if (v[k].tied) {
            CHECK_ERR(tpe_prune_apply(d, E, &plan), TPE_EINVAL, "not exact");
            plan.untie = 1;
        }
        CHECK_OK(tpe_prune_apply(d, E, &plan));
        CHECK(d->cfg.d_out == 16 - plan.n_removed && d->head_dims && !d->cfg.tied);
        CHECK(d->head_w.cols == d->cfg.d_out && d->lnf_w.cols == d->cfg.d_out);
        lz = ref_logits(z);
        ld = ref_logits(d);
        CHECKF(memcmp(lz, ld, NIDS * z->cfg.n_vocab * sizeof *lz) == 0, "%s: dropped logits differ from zeroed ones", v[k].name);
        /* saved and loaded back through config.json's tpe_head_dims */
        snprintf(dir, sizeof dir, "%s/%s_dropped", tt_tmpdir(), v[k].name);
        if (tpe_is_dir(dir)) {
            char cmd[800];
            snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
            CHECK(system(cmd) == 0);
        }
        CHECK_OK(tpe_model_save(d, dir));
        CHECK_OK(tpe_model_load(dir, NULL, &r));
        if (r) {
            CHECK(r->cfg.d_out == d->cfg.d_out && memcmp(r->head_dims, d->head_dims, d->cfg.d_out * sizeof *r->head_dims) == 0);
            lr = ref_logits(r);
            CHECKF(memcmp(lz, lr, NIDS * z->cfg.n_vocab * sizeof *lz) == 0, "%s: reloaded logits differ", v[k].name);
            free(lr);
            tpe_model_free(r);
        }
        /* the fast path: T = 2 (dot products) and T = NIDS (GEMM) */
        for (T = 2; T <= NIDS; T += NIDS - 2) {
            fz = fast_logits(z, T);
            fd = fast_logits(d, T);
            worst = fmax(worst, f32_bound_ratio(z, fz, fd, T));
            free(fz);
            free(fd);
        }
        free(lz);
        free(ld);
        free(E);
        tpe_model_free(z);
        tpe_model_free(d);
    }
    CHECKF(worst <= 1.0, "f32: dropped vs zeroed logits differ by %.3g of the dot-product bound", worst);
    NOTE("f64: identical; f32: worst %.3g of the dot-product bound", worst);
}

TEST(prune_drop_composes_and_refuses)
{
    tpe_model *a = load_model("prc_neox", TPE_ARCH_NEOX, 0), *b = load_model("prc_neox", TPE_ARCH_NEOX, 0);
    double *E = embedding(a), *la, *lb;
    const size_t first[] = {2, 9}, second_keep_all_but[] = {0, 5}; /* of the 14 left: dims 0 and 6 */
    const size_t both[] = {2, 9, 0, 6};
    size_t keep[16], nk = 0, i, j;
    tpe_prune_plan plan;
    plan.drop = 1;
    plan.untie = 0;
    plan.removed = first;
    plan.n_removed = 2;
    CHECK_OK(tpe_prune_apply(a, E, &plan));
    /* a second drop indexes the remaining head columns */
    for (i = 0; i < a->cfg.d_out; i++) {
        int gone = 0;
        for (j = 0; j < 2; j++) gone |= i == second_keep_all_but[j];
        if (!gone) keep[nk++] = i;
    }
    CHECK_OK(tpe_model_drop_head_dims(a, keep, nk));
    CHECK(a->cfg.d_out == 12 && a->head_dims[0] == 1 && a->head_dims[1] == 3);
    plan.drop = 0;
    plan.removed = both;
    plan.n_removed = 4;
    CHECK_OK(tpe_prune_apply(b, E, &plan));
    la = ref_logits(a);
    lb = ref_logits(b);
    CHECK(memcmp(la, lb, NIDS * a->cfg.n_vocab * sizeof *la) == 0);
    /* refusals */
    CHECK_ERR(tpe_model_drop_head_dims(a, keep, 0), TPE_EINVAL, "no head");
    keep[0] = 5, keep[1] = 5;
    CHECK_ERR(tpe_model_drop_head_dims(a, keep, 2), TPE_EINVAL, "ascending");
    {
        size_t all[12];
        for (i = 0; i < 12; i++) all[i] = i;
        plan.drop = 1;
        plan.removed = all;
        plan.n_removed = 12;
        CHECK_ERR(tpe_prune_apply(a, E, &plan), TPE_EINVAL, "leaves no head");
        all[0] = 12;
        plan.n_removed = 1;
        CHECK_ERR(tpe_prune_apply(a, E, &plan), TPE_EINVAL, "outside");
    }
    free(la);
    free(lb);
    free(E);
    tpe_model_free(a);
    tpe_model_free(b);
}

TEST(prune_config_head_dims_validation)
{
    const char *base = "{\"model_type\": \"gpt_neox\", \"vocab_size\": 10, \"hidden_size\": 8, \"num_attention_heads\": 2, "
                       "\"num_hidden_layers\": 1, \"max_position_embeddings\": 16, \"intermediate_size\": 16, "
                       "\"layer_norm_eps\": 1e-5, \"hidden_act\": \"gelu\", \"rotary_pct\": 0.5, \"rotary_emb_base\": 10000, "
                       "\"use_parallel_residual\": true";
    char text[1024];
    tpe_model_config c;
    snprintf(text, sizeof text, "%s, \"tpe_head_dims\": [0, 3, 7]}", base);
    CHECK_OK(tpe_config_parse(text, strlen(text), "config.json", &c));
    CHECK(c.d_out == 3 && c.d_model == 8);
    snprintf(text, sizeof text, "%s}", base);
    CHECK_OK(tpe_config_parse(text, strlen(text), "config.json", &c));
    CHECK(c.d_out == 8);
    snprintf(text, sizeof text, "%s, \"tpe_head_dims\": [0, 8]}", base);
    CHECK_ERR(tpe_config_parse(text, strlen(text), "config.json", &c), TPE_EFORMAT, "tpe_head_dims[1]");
    snprintf(text, sizeof text, "%s, \"tpe_head_dims\": [3, 3]}", base);
    CHECK_ERR(tpe_config_parse(text, strlen(text), "config.json", &c), TPE_EFORMAT, "ascending");
    snprintf(text, sizeof text, "%s, \"tpe_head_dims\": []}", base);
    CHECK_ERR(tpe_config_parse(text, strlen(text), "config.json", &c), TPE_EFORMAT, "non-empty");
    snprintf(text, sizeof text, "%s, \"tpe_head_dims\": [1], \"tie_word_embeddings\": true}", base);
    CHECK_ERR(tpe_config_parse(text, strlen(text), "config.json", &c), TPE_EFORMAT, "tied head");
}

/* alpha of a model over one sequence through the probe (f32) */
static void probe_alpha(const tpe_model *m, double *alpha, float *hidden)
{
    tpe_probe *p = NULL;
    CHECK_OK(tpe_probe_new(m, NIDS, 0, &p));
    CHECK_OK(tpe_probe_window(p, 0, 0, ids, NIDS));
    CHECK_OK(tpe_probe_alpha(p, alpha));
    tpe_probe_free(p);
    if (hidden) {
        tpe_runtime *rt = NULL;
        CHECK_OK(tpe_runtime_new(m, NIDS, 0, &rt));
        CHECK_OK(tpe_forward(rt, ids, NIDS, hidden, NULL));
        tpe_runtime_free(rt);
    }
}

TEST(prune_kl_cached_equals_rerun_and_is_nonnegative)
{
    /* an untied head: KL from cached hidden states with zeroed columns
     * equals KL from re-running the pruned model (float rounding only) */
    tpe_model *m = load_model("prk_neox", TPE_ARCH_NEOX, 0);
    size_t V = m->cfg.n_vocab, C = m->cfg.d_out, v, c;
    double *a0 = malloc(V * sizeof *a0), *a1 = malloc(V * sizeof *a1), *ac = calloc(V, sizeof *ac), *E = embedding(m);
    double *alpha = some_alpha(V), *imp = malloc(C * sizeof *imp), kl_run, kl_cache, worst = 0.0;
    float *H = malloc(NIDS * C * sizeof *H), *Ef = malloc(V * C * sizeof *Ef);
    size_t order[16];
    tpe_encoding enc;
    tpe_prune_plan plan;
    probe_alpha(m, a0, H);
    CHECK(tpe_kl(a0, a0, V) == 0.0);
    CHECK_OK(tpe_prune_encoding(m, alpha, &enc, imp));
    tpe_prune_order_dims(imp, C, TPE_PRUNE_ASCENDING, order);
    plan.removed = order;
    plan.n_removed = 6;
    plan.drop = 0;
    plan.untie = 0;
    CHECK_OK(tpe_prune_apply(m, E, &plan));
    probe_alpha(m, a1, NULL);
    for (v = 0; v < V; v++)
        for (c = 0; c < C; c++) Ef[v * C + c] = (float)E[v * C + c];
    for (c = 0; c < 6; c++)
        for (v = 0; v < V; v++) Ef[v * C + order[c]] = 0.0f;
    CHECK_OK(tpe_head_softmax_sum(H, NIDS, C, Ef, NULL, V, ac));
    for (v = 0; v < V; v++) ac[v] /= (double)NIDS;
    kl_run = tpe_kl(a0, a1, V);
    kl_cache = tpe_kl(a0, ac, V);
    /* both sides form the logits in float: each within C u32 sum_c |E_vc h_c|
     * of the exact one, so log alpha differs by at most twice (softmax
     * normalization) the sum of both errors */
    {
        double S = 0.0, bound;
        size_t t;
        for (t = 0; t < NIDS; t++)
            for (v = 0; v < V; v++) {
                double sum = 0.0;
                for (c = 0; c < C; c++) sum += fabs((double)Ef[v * C + c] * (double)H[t * C + c]);
                S = fmax(S, sum);
            }
        bound = 4.0 * (double)C * TT_EPS32 * S;
        for (v = 0; v < V; v++) worst = fmax(worst, fabs(log(ac[v] / a1[v])));
        CHECKF(kl_run > 0.0 && kl_cache > 0.0, "KL %.3g (re-run), %.3g (cached)", kl_run, kl_cache);
        CHECKF(worst <= bound, "cached vs re-run: |log alpha ratio| up to %.3g, bound %.3g", worst, bound);
        CHECKF(fabs(kl_run - kl_cache) <= bound, "KL re-run %.17g, cached %.17g", kl_run, kl_cache);
        worst /= bound;
    }
    NOTE("KL %.4g; cached vs re-run alpha within %.2g of the float bound", kl_run, worst);
    tpe_encoding_free(&enc);
    free(a0);
    free(a1);
    free(ac);
    free(E);
    free(alpha);
    free(imp);
    free(H);
    free(Ef);
    tpe_model_free(m);
}

TEST(textgen_prefix_and_utf8)
{
    size_t s, n;
    char *out;
    size_t len;
    static const struct {
        const char *in;
        size_t inlen;
        size_t fffd; /* U+FFFDs Python's bytes.decode("utf-8", "replace") gives */
        const char *kept;
    } u[] = {{"ab\xe2\x82", 4, 1, "ab"},          {"\xf0\x80\x80z", 4, 3, "z"},   {"\xed\xa0\x80", 3, 3, ""},
             {"\xc0\xaf", 2, 2, ""},              {"\xe2\x82\xac\xff", 4, 1, "\xe2\x82\xac"}, {"\xf4\x90\x80\x80", 4, 4, ""},
             {"\xf0\x9f\x98", 3, 1, ""},          {"\xe0\x9f\x80", 3, 3, ""},      {"\xc3", 1, 1, ""}};
    size_t i;
    tpe_textgen_prefix("  The quick brown fox", 21, 2, &s, &n);
    CHECK(s == 2 && n == 9); /* "The quick" */
    tpe_textgen_prefix("One", 3, 2, &s, &n);
    CHECK(s == 0 && n == 3);
    tpe_textgen_prefix("a\tb  c", 6, 2, &s, &n);
    CHECK(s == 0 && n == 3);
    tpe_textgen_prefix("   ", 3, 2, &s, &n);
    CHECK(n == 0);
    for (i = 0; i < sizeof u / sizeof u[0]; i++) {
        size_t k = 0, at = 0, j;
        char kept[16];
        CHECK_OK(tpe_utf8_replace_invalid(u[i].in, u[i].inlen, &out, &len));
        for (j = 0; j < len; j++) {
            if (j + 2 < len && memcmp(out + j, "\xef\xbf\xbd", 3) == 0) {
                k++;
                j += 2;
            } else if (at < sizeof kept - 1) {
                kept[at++] = out[j];
            }
        }
        kept[at] = '\0';
        CHECKF(k == u[i].fffd && strcmp(kept, u[i].kept) == 0, "case %zu: %zu replacements (want %zu), kept '%s'", i, k,
               u[i].fffd, kept);
        free(out);
    }
}

TEST(textgen_same_seed_same_text)
{
    tpe_model *m = load_model("ptg_neox", TPE_ARCH_NEOX, 0);
    const int32_t prompts[] = {4, 9, 1, 22, 7};
    const size_t start[] = {0, 2, 3, 5};
    int32_t *g1 = NULL, *g2 = NULL, *g3 = NULL;
    size_t *s1 = NULL, *s2 = NULL, *s3 = NULL, i;
    tpe_textgen_opts o;
    tpe_textgen_opts_default(&o);
    o.max_new = 6;
    o.stop_at_eos = 0;
    o.seed = 11;
    CHECK_OK(tpe_textgen_run(m, prompts, start, 3, &o, &g1, &s1, NULL, NULL));
    CHECK_OK(tpe_textgen_run(m, prompts, start, 3, &o, &g2, &s2, NULL, NULL));
    for (i = 0; i < 3; i++) CHECK(s1[i + 1] - s1[i] == 6);
    CHECK(memcmp(g1, g2, 18 * sizeof *g1) == 0);
    o.seed = 12; /* sample i now uses the stream sample i + 1 had */
    CHECK_OK(tpe_textgen_run(m, prompts, start, 3, &o, &g3, &s3, NULL, NULL));
    CHECK(memcmp(g1, g3, 18 * sizeof *g1) != 0);
    /* the context ends generation: 24 positions, 2-token prompt */
    free(g3);
    free(s3);
    o.max_new = 100;
    CHECK_OK(tpe_textgen_run(m, prompts, start, 1, &o, &g3, &s3, NULL, NULL));
    CHECK(s3[1] == 22);
    free(g1);
    free(g2);
    free(g3);
    free(s1);
    free(s2);
    free(s3);
    tpe_model_free(m);
}

TEST(mauve_featurize_is_last_hidden_state)
{
    tpe_model *m = load_model("pmf_gpt2", TPE_ARCH_GPT2, 1);
    size_t C = m->cfg.d_out, start[3] = {0, 4, NIDS}, j;
    double F[2 * 16];
    float *h = malloc(NIDS * C * sizeof *h);
    tpe_runtime *rt = NULL;
    CHECK_OK(tpe_mauve_featurize_ids(m, ids, start, 2, 0, F, NULL));
    CHECK_OK(tpe_runtime_new(m, NIDS, 0, &rt));
    CHECK_OK(tpe_forward(rt, ids, 4, h, NULL));
    for (j = 0; j < C; j++) CHECK(F[j] == (double)h[3 * C + j]);
    CHECK_OK(tpe_forward(rt, ids + 4, NIDS - 4, h, NULL));
    for (j = 0; j < C; j++) CHECK(F[C + j] == (double)h[(NIDS - 5) * C + j]);
    /* cut to max_len tokens: the first 3 of the second text */
    CHECK_OK(tpe_mauve_featurize_ids(m, ids, start, 2, 3, F, NULL));
    CHECK_OK(tpe_forward(rt, ids + 4, 3, h, NULL));
    for (j = 0; j < C; j++) CHECK(F[C + j] == (double)h[2 * C + j]);
    tpe_runtime_free(rt);
    free(h);
    tpe_model_free(m);
}
