/*
 * test_model.c -- config.json, loading, both forward passes against the
 * transformers float64 goldens (../shared/reference/hf-tiny and golden/models),
 * the fast path against the reference on random models of every variant,
 * the KV cache, storage-form widening, edits and saving, traces, and the
 * loader's errors.
 *
 * Tolerances: the issue fixes 1e-9 (f64 reference) and 1e-4 (f32 fast path)
 * on the logits of the golden checkpoints. For fast-vs-reference on random
 * models the bound is derived from the float unit roundoff u: every product
 * is a sum of at most n = max(C, F, T) terms, so each layer contributes a
 * relative error of order gamma_n = n u / (1 - n u) (Higham 3.1); through L
 * layers, norms and softmaxes that are not ill-conditioned for these weights,
 * we allow 16 (L + 1) gamma_n times the largest logit (and print the ratio).
 */
#include "array.h"
#include "io.h"
#include "json.h"
#include "model.h"
#include "platform.h"
#include "test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *tmp_dir(const char *name)
{
    static char buf[8][512];
    static int k;
    k = (k + 1) % 8;
    snprintf(buf[k], sizeof buf[k], "%s/%s", tt_tmpdir(), name);
    return buf[k];
}

static tpe_model *load(const char *dir)
{
    tpe_model *m = NULL;
    tpe_model_options o;
    tpe_model_options_default(&o);
    CHECK_OK(tpe_model_load(dir, &o, &m));
    return m;
}

/* logits (T, V) and hidden (T, C) from both passes */
static int run_f64(const tpe_model *m, const int32_t *ids, size_t T, double *logits, double *hidden)
{
    return tpe_forward_ref(m, ids, T, hidden, logits, NULL);
}

static int run_f32(const tpe_model *m, const int32_t *ids, size_t T, float *logits, float *hidden)
{
    tpe_runtime *rt;
    int rc = tpe_runtime_new(m, T, 0, &rt);
    if (rc) return rc;
    rc = tpe_forward(rt, ids, T, hidden, NULL);
    if (!rc) rc = tpe_forward_logits(rt, hidden, T, logits);
    tpe_runtime_free(rt);
    return rc;
}

/* ---- config.json ------------------------------------------------------------------ */
static int parse(const char *text, tpe_model_config *c) { return tpe_config_parse(text, strlen(text), "config.json", c); }

TEST(config_reads_every_field)
{
    tpe_model_config c;
    CHECK_OK(parse("{\"model_type\":\"gpt2\",\"vocab_size\":50,\"n_embd\":16,\"n_head\":4,\"n_layer\":2,\"n_positions\":32,"
                   "\"layer_norm_epsilon\":1e-6,\"activation_function\":\"gelu_new\",\"n_inner\":null}", &c));
    CHECK(c.arch == TPE_ARCH_GPT2 && c.d_ff == 64 && c.d_head == 4 && c.tied == 1 && c.scale_attn == 1 && c.ln_eps == 1e-6);
    CHECK(c.rotary == TPE_ROTARY_NONE && c.scale_by_layer == 0 && c.eos_token_id == -1);
    CHECK_OK(parse("{\"model_type\":\"gpt2\",\"vocab_size\":50,\"n_embd\":16,\"n_head\":4,\"n_layer\":2,\"n_positions\":32,"
                   "\"layer_norm_epsilon\":1e-5,\"activation_function\":\"gelu\",\"n_inner\":24,\"tie_word_embeddings\":false,"
                   "\"scale_attn_by_inverse_layer_idx\":true,\"scale_attn_weights\":false,\"eos_token_id\":7}", &c));
    CHECK(c.d_ff == 24 && c.tied == 0 && c.act == TPE_ACT_GELU && c.scale_by_layer == 1 && c.scale_attn == 0 && c.eos_token_id == 7);
    CHECK_OK(parse("{\"model_type\":\"gpt_neox\",\"vocab_size\":50,\"hidden_size\":48,\"num_attention_heads\":4,"
                   "\"num_hidden_layers\":2,\"intermediate_size\":20,\"max_position_embeddings\":32,\"layer_norm_eps\":1e-5,"
                   "\"hidden_act\":\"gelu\",\"rotary_pct\":0.4,\"rotary_emb_base\":500,\"use_parallel_residual\":false}", &c));
    /* int(12 * 0.4) = 4 rotated dimensions */
    CHECK(c.arch == TPE_ARCH_NEOX && c.rotary_dim == 4 && c.rotary_base == 500.0 && c.parallel_residual == 0 && c.tied == 0);
    CHECK(c.rotary == TPE_ROTARY_HALF && c.qkv_layout == TPE_QKV_PER_HEAD && c.d_ff == 20);
    CHECK_OK(parse("{\"model_type\":\"gptj\",\"vocab_size\":50,\"n_embd\":32,\"n_head\":2,\"n_layer\":2,\"n_positions\":32,"
                   "\"layer_norm_epsilon\":1e-5,\"activation_function\":\"gelu_new\",\"rotary_dim\":null}", &c));
    CHECK(c.arch == TPE_ARCH_GPTJ && c.rotary_dim == 16 && c.rotary == TPE_ROTARY_INTERLEAVED && c.head_bias && !c.attn_bias);
    CHECK(c.shared_norm && c.parallel_residual && c.d_ff == 128 && c.tied == 0);
}

TEST(config_errors_name_the_field)
{
    tpe_model_config c;
    const char *gpt2 = "\"model_type\":\"gpt2\",\"vocab_size\":50,\"n_embd\":16,\"n_head\":4,\"n_layer\":2,\"n_positions\":32";
    char buf[1024];
    CHECK_ERR(parse("{\"model_type\":\"llama\"}", &c), TPE_EUNSUPPORTED, "unknown model_type \"llama\"");
    CHECK_ERR(parse("{\"vocab_size\":3}", &c), TPE_EFORMAT, "model_type");
    CHECK_ERR(parse("[1]", &c), TPE_EFORMAT, "not a JSON object");
    snprintf(buf, sizeof buf, "{%s,\"activation_function\":\"gelu_new\"}", gpt2);
    CHECK_ERR(parse(buf, &c), TPE_EFORMAT, "missing field \"layer_norm_epsilon\"");
    snprintf(buf, sizeof buf, "{%s,\"layer_norm_epsilon\":1e-5}", gpt2);
    CHECK_ERR(parse(buf, &c), TPE_EFORMAT, "missing field \"activation_function\"");
    snprintf(buf, sizeof buf, "{%s,\"layer_norm_epsilon\":1e-5,\"activation_function\":\"swiglu\"}", gpt2);
    CHECK_ERR(parse(buf, &c), TPE_EUNSUPPORTED, "\"swiglu\" is not supported");
    snprintf(buf, sizeof buf, "{%s,\"layer_norm_epsilon\":\"small\",\"activation_function\":\"gelu\"}", gpt2);
    CHECK_ERR(parse(buf, &c), TPE_EFORMAT, "\"layer_norm_epsilon\" must be a finite number");
    snprintf(buf, sizeof buf, "{%s,\"layer_norm_epsilon\":1e-5,\"activation_function\":\"gelu\",\"tie_word_embeddings\":1}", gpt2);
    CHECK_ERR(parse(buf, &c), TPE_EFORMAT, "\"tie_word_embeddings\" must be true or false");
    CHECK_ERR(parse("{\"model_type\":\"gpt2\",\"vocab_size\":50,\"n_embd\":16,\"n_head\":5,\"n_layer\":2,\"n_positions\":32,"
                    "\"layer_norm_epsilon\":1e-5,\"activation_function\":\"gelu\"}", &c),
              TPE_EFORMAT, "not a multiple of the 5 heads");
    CHECK_ERR(parse("{\"model_type\":\"gpt2\",\"vocab_size\":0,\"n_embd\":16,\"n_head\":4,\"n_layer\":2,\"n_positions\":32,"
                    "\"layer_norm_epsilon\":1e-5,\"activation_function\":\"gelu\"}", &c),
              TPE_EFORMAT, "\"vocab_size\" must be a positive integer");
    CHECK_ERR(parse("{\"model_type\":\"gpt2\",\"vocab_size\":50,\"n_head\":4,\"n_layer\":2,\"n_positions\":32,"
                    "\"layer_norm_epsilon\":1e-5,\"activation_function\":\"gelu\"}", &c),
              TPE_EFORMAT, "missing field \"n_embd\"");
    CHECK_ERR(parse("{\"model_type\":\"gpt_neox\",\"vocab_size\":50,\"hidden_size\":48,\"num_attention_heads\":4,"
                    "\"num_hidden_layers\":2,\"intermediate_size\":20,\"max_position_embeddings\":32,\"layer_norm_eps\":1e-5,"
                    "\"hidden_act\":\"gelu\",\"rotary_pct\":0.25,\"rotary_emb_base\":10000}", &c),
              TPE_EFORMAT, "missing field \"use_parallel_residual\"");
    CHECK_ERR(parse("{\"model_type\":\"gpt_neox\",\"vocab_size\":50,\"hidden_size\":48,\"num_attention_heads\":4,"
                    "\"num_hidden_layers\":2,\"intermediate_size\":20,\"max_position_embeddings\":32,\"layer_norm_eps\":1e-5,"
                    "\"hidden_act\":\"gelu\",\"rotary_pct\":0.25,\"rotary_emb_base\":10000,\"use_parallel_residual\":true}", &c),
              TPE_EFORMAT, "3 rotary dimensions");
    CHECK_ERR(parse("{\"model_type\":\"gptj\",\"vocab_size\":50,\"n_embd\":32,\"n_head\":2,\"n_layer\":2,\"n_positions\":32,"
                    "\"layer_norm_epsilon\":1e-5,\"activation_function\":\"gelu_new\"}", &c),
              TPE_EFORMAT, "missing field \"rotary_dim\"");
    CHECK_ERR(parse("{\"model_type\":\"gptj\",\"vocab_size\":50,\"n_embd\":32,\"n_head\":2,\"n_layer\":2,\"n_positions\":32,"
                    "\"layer_norm_epsilon\":1e-5,\"activation_function\":\"gelu_new\",\"rotary_dim\":18}", &c),
              TPE_EFORMAT, "18 rotary dimensions");
}

/* ---- goldens ------------------------------------------------------------------------- */
/* One golden directory: ids.npy (B, T), logits64.npy (B, T, V), hidden.npy (B, T, C). */
static void check_golden(const char *dir, double tol64, double tol32, double *worst64, double *worst32)
{
    char path[700];
    tpe_array ids, L, H;
    tpe_model *m;
    size_t B, T, V, C, b, i;
    snprintf(path, sizeof path, "%s/ids.npy", dir);
    CHECK_OK(tpe_npy_read(path, &ids));
    CHECK_OK(tpe_array_convert(&ids, TPE_I32, path));
    snprintf(path, sizeof path, "%s/logits64.npy", dir);
    CHECK_OK(tpe_npy_read_f64(path, &L));
    snprintf(path, sizeof path, "%s/hidden.npy", dir);
    CHECK_OK(tpe_npy_read_f64(path, &H));
    m = load(dir);
    if (!m || ids.ndim != 2 || L.ndim != 3 || H.ndim != 3) {
        CHECKF(0, "%s: bad golden", dir);
        tpe_model_free(m);
        tpe_array_free(&ids);
        tpe_array_free(&L);
        tpe_array_free(&H);
        return;
    }
    B = ids.shape[0], T = ids.shape[1], V = L.shape[2], C = H.shape[2];
    CHECK(V == m->cfg.n_vocab && C == m->cfg.d_model);
    for (b = 0; b < B; b++) {
        const int32_t *row = (const int32_t *)ids.data + b * T;
        const double *gl = (const double *)L.data + b * T * V, *gh = (const double *)H.data + b * T * C;
        double *l64 = malloc(T * V * sizeof *l64), *h64 = malloc(T * C * sizeof *h64), e64 = 0.0, e32 = 0.0;
        float *l32 = malloc(T * V * sizeof *l32), *h32 = malloc(T * C * sizeof *h32);
        CHECK_OK(run_f64(m, row, T, l64, h64));
        CHECK_OK(run_f32(m, row, T, l32, h32));
        for (i = 0; i < T * V; i++) {
            if (fabs(l64[i] - gl[i]) > e64) e64 = fabs(l64[i] - gl[i]);
            if (fabs((double)l32[i] - gl[i]) > e32) e32 = fabs((double)l32[i] - gl[i]);
        }
        for (i = 0; i < T * C; i++) {
            if (fabs(h64[i] - gh[i]) > e64) e64 = fabs(h64[i] - gh[i]);
            if (fabs((double)h32[i] - gh[i]) > e32) e32 = fabs((double)h32[i] - gh[i]);
        }
        CHECKF(e64 <= tol64, "%s row %zu: f64 reference differs from transformers by %.3g (> %.1g)", dir, b, e64, tol64);
        CHECKF(e32 <= tol32, "%s row %zu: f32 fast path differs from transformers by %.3g (> %.1g)", dir, b, e32, tol32);
        if (e64 > *worst64) *worst64 = e64;
        if (e32 > *worst32) *worst32 = e32;
        free(l64);
        free(h64);
        free(l32);
        free(h32);
    }
    tpe_model_free(m);
    tpe_array_free(&ids);
    tpe_array_free(&L);
    tpe_array_free(&H);
}

TEST(golden_shared_hf_tiny)
{
    static const char *const names[] = {"gpt2-tiny", "neox-tiny", "neox-tiny-f16", "gptj-tiny"};
    double w64 = 0.0, w32 = 0.0;
    size_t i;
    if (!tt_shared()) {
        tt_skip("../shared is absent");
        return;
    }
    for (i = 0; i < 4; i++) {
        char dir[600];
        snprintf(dir, sizeof dir, "%s/reference/hf-tiny/%s", tt_shared(), names[i]);
        check_golden(dir, 1e-9, 1e-4, &w64, &w32);
    }
    NOTE("worst |logits/hidden - transformers f64|: reference %.2e, fast path %.2e", w64, w32);
}

TEST(golden_own_models)
{
    static const char *const names[] = {"gpt2-h3-noprefix",          "gpt2-layerscale-gelu-f16", "neox-seq-pct04-base500-bf16",
                                        "neox-full-rotary-tied-sharded", "gptj-rotnull-h1-f16",  "gptj-rot6-noprefix"};
    double w64 = 0.0, w32 = 0.0;
    size_t i;
    for (i = 0; i < sizeof names / sizeof names[0]; i++) {
        char dir[600];
        snprintf(dir, sizeof dir, "golden/models/%s", names[i]);
        check_golden(dir, 1e-9, 1e-4, &w64, &w32);
    }
    NOTE("worst |logits/hidden - transformers f64|: reference %.2e, fast path %.2e", w64, w32);
}

/* ---- random models of every variant: fast path against the reference ------------------ */
typedef struct variant {
    const char *name;
    tpe_arch arch;
    size_t heads, width, inner;
    double rotary_pct;
    size_t rotary_dim;
    int sequential, tied;
    const char *act;
    tpe_dtype dtype;
} variant;

static const variant variants[] = {
    {"gpt2", TPE_ARCH_GPT2, 2, 16, 0, 0, 0, 0, 1, NULL, TPE_F32},
    {"gpt2-untied-relu", TPE_ARCH_GPT2, 4, 24, 40, 0, 0, 0, 0, "relu", TPE_F32},
    {"gpt2-gelu-fast-f16", TPE_ARCH_GPT2, 2, 16, 0, 0, 0, 0, 1, "gelu_fast", TPE_F16},
    {"neox", TPE_ARCH_NEOX, 2, 16, 0, 0.25, 0, 0, 0, NULL, TPE_F32},
    {"neox-seq-silu-bf16", TPE_ARCH_NEOX, 2, 24, 0, 0.5, 0, 1, 0, "silu", TPE_BF16},
    {"neox-full-tied-f64", TPE_ARCH_NEOX, 4, 32, 0, 1.0, 0, 0, 1, "quick_gelu", TPE_F64},
    {"gptj", TPE_ARCH_GPTJ, 2, 16, 0, 0, 4, 0, 0, NULL, TPE_F32},
    {"gptj-full-gelu", TPE_ARCH_GPTJ, 2, 16, 24, 0, 8, 0, 0, "gelu", TPE_F16},
};

static char *make_variant(const variant *v, size_t ctx)
{
    tpe_random_spec r;
    char *dir = tmp_dir(v->name);
    tpe_random_spec_default(&r, v->arch);
    r.n_vocab = 61;
    r.n_ctx = ctx;
    r.d_model = v->width;
    r.n_layer = 2;
    r.n_head = v->heads;
    r.d_ff = v->inner ? v->inner : 4 * v->width;
    if (v->rotary_pct > 0) r.rotary_pct = v->rotary_pct;
    if (v->rotary_dim) r.rotary_dim = v->rotary_dim;
    r.parallel_residual = !v->sequential;
    r.tied = v->tied;
    r.act = v->act;
    r.dtype = v->dtype;
    r.scale = 0.3; /* peaked attention: rotary and scaling mistakes show */
    r.seed = 7;
    if (!tpe_is_dir(dir)) CHECK_OK(tpe_random_model_write(&r, dir));
    return dir;
}

static double gamma_n(double n, double u) { return n * u / (1.0 - n * u); }

TEST(fast_path_matches_reference_on_every_variant)
{
    size_t T = tt_quick() ? 20 : 70, vi, i; /* 70 > the 64-row attention blocks */
    double worst_ratio = 0.0;
    for (vi = 0; vi < sizeof variants / sizeof variants[0]; vi++) {
        const variant *v = &variants[vi];
        tpe_model *m = load(make_variant(v, 80));
        int32_t ids[80];
        size_t V, C;
        double *l64, *h64, mag = 0.0, err = 0.0, tol;
        float *l32, *h32;
        if (!m) continue;
        V = m->cfg.n_vocab, C = m->cfg.d_model;
        for (i = 0; i < T; i++) ids[i] = (int32_t)tpe_rng_below(tt_rng(), V);
        l64 = malloc(T * V * sizeof *l64), h64 = malloc(T * C * sizeof *h64);
        l32 = malloc(T * V * sizeof *l32), h32 = malloc(T * C * sizeof *h32);
        CHECK_OK(run_f64(m, ids, T, l64, h64));
        CHECK_OK(run_f32(m, ids, T, l32, h32));
        for (i = 0; i < T * V; i++) {
            if (fabs(l64[i]) > mag) mag = fabs(l64[i]);
            if (fabs((double)l32[i] - l64[i]) > err) err = fabs((double)l32[i] - l64[i]);
        }
        tol = 16.0 * (double)(m->cfg.n_layer + 1) * gamma_n((double)(m->cfg.d_ff > T ? m->cfg.d_ff : T), TT_EPS32) * (1.0 + mag);
        CHECKF(err <= tol, "%s: fast path logits differ from the reference by %.3g (bound %.3g, |logits| <= %.3g)", v->name, err, tol,
               mag);
        if (err / tol > worst_ratio) worst_ratio = err / tol;
        free(l64);
        free(h64);
        free(l32);
        free(h32);
        tpe_model_free(m);
    }
    NOTE("worst error / bound over %zu variants: %.3f", sizeof variants / sizeof variants[0], worst_ratio);
}

/* Token by token with the KV cache (and a prefill then steps) gives the
 * hidden states of the whole-sequence pass. */
TEST(kv_cache_matches_full_pass)
{
    size_t vi, T = tt_quick() ? 12 : 40, i;
    double worst = 0.0;
    for (vi = 0; vi < sizeof variants / sizeof variants[0]; vi += 3) {
        tpe_model *m = load(make_variant(&variants[vi], 80));
        tpe_runtime *full = NULL, *inc = NULL;
        int32_t ids[80];
        float *hf, *hi;
        size_t C, t, pre = T / 3;
        double mag = 0.0, err = 0.0;
        if (!m) continue;
        C = m->cfg.d_model;
        for (i = 0; i < T; i++) ids[i] = (int32_t)tpe_rng_below(tt_rng(), m->cfg.n_vocab);
        hf = malloc(T * C * sizeof *hf), hi = malloc(T * C * sizeof *hi);
        CHECK_OK(tpe_runtime_new(m, T, 0, &full));
        CHECK_OK(tpe_runtime_new(m, pre, 1, &inc));
        CHECK_OK(tpe_forward(full, ids, T, hf, NULL));
        CHECK_OK(tpe_forward(inc, ids, pre, hi, NULL));
        for (t = pre; t < T; t++) CHECK_OK(tpe_forward(inc, ids + t, 1, hi + t * C, NULL));
        CHECK(tpe_runtime_pos(inc) == T);
        for (i = 0; i < T * C; i++) {
            if (fabs((double)hf[i]) > mag) mag = fabs((double)hf[i]);
            if (fabs((double)hf[i] - (double)hi[i]) > err) err = fabs((double)hf[i] - (double)hi[i]);
        }
        CHECKF(err <= 64.0 * gamma_n((double)T, TT_EPS32) * (1.0 + mag), "%s: cached pass differs by %.3g", variants[vi].name, err);
        if (err > worst) worst = err;
        /* a full cache refuses more tokens; reset starts again */
        tpe_runtime_reset(inc);
        CHECK(tpe_runtime_pos(inc) == 0);
        tpe_runtime_free(full);
        tpe_runtime_free(inc);
        free(hf);
        free(hi);
        tpe_model_free(m);
    }
    NOTE("worst |cached - full| %.3g", worst);
}

/* Weights kept in storage form and widened matrix by matrix give the same
 * bits as weights widened at load (widening is exact). */
TEST(storage_form_is_bitwise_identical)
{
    size_t vi, T = 9, i;
    for (vi = 0; vi < sizeof variants / sizeof variants[0]; vi++) {
        const variant *v = &variants[vi];
        tpe_model *a = NULL, *b = NULL;
        tpe_model_options o;
        int32_t ids[9];
        float *la, *lb, *ha, *hb;
        if (v->dtype == TPE_F32) continue;
        tpe_model_options_default(&o);
        o.widen_limit = (size_t)-1;
        CHECK_OK(tpe_model_load(make_variant(v, 80), &o, &a));
        o.widen_limit = 0;
        CHECK_OK(tpe_model_load(make_variant(v, 80), &o, &b));
        if (!a || !b) {
            tpe_model_free(a);
            tpe_model_free(b);
            continue;
        }
        CHECK(a->storage_form == 0 && b->storage_form == 1 && b->widened_bytes < a->widened_bytes);
        for (i = 0; i < T; i++) ids[i] = (int32_t)((i * 7 + 3) % a->cfg.n_vocab);
        la = malloc(T * a->cfg.n_vocab * sizeof *la), lb = malloc(T * a->cfg.n_vocab * sizeof *lb);
        ha = malloc(T * a->cfg.d_model * sizeof *ha), hb = malloc(T * a->cfg.d_model * sizeof *hb);
        CHECK_OK(run_f32(a, ids, T, la, ha));
        CHECK_OK(run_f32(b, ids, T, lb, hb));
        CHECKF(memcmp(la, lb, T * a->cfg.n_vocab * sizeof *la) == 0, "%s: storage form changes the logits", v->name);
        free(la);
        free(lb);
        free(ha);
        free(hb);
        tpe_model_free(a);
        tpe_model_free(b);
    }
}

/* ---- edits and saving ---------------------------------------------------------------- */
TEST(edit_head_save_and_reload)
{
    tpe_model *m = load(make_variant(&variants[0], 80)), *r = NULL; /* gpt2, tied */
    int32_t ids[5] = {1, 5, 9, 2, 60};
    size_t V, C, i;
    double *E, *E2, *in0, *in1;
    float *l1, *l2, *h;
    char *out = tmp_dir("edited");
    if (!m) return;
    V = m->cfg.n_vocab, C = m->cfg.d_model;
    E = malloc(V * C * sizeof *E), E2 = malloc(V * C * sizeof *E2), in0 = malloc(V * C * sizeof *in0), in1 = malloc(V * C * sizeof *in1);
    l1 = malloc(5 * V * sizeof *l1), l2 = malloc(5 * V * sizeof *l2), h = malloc(5 * C * sizeof *h);
    CHECK(m->cfg.tied);
    CHECK_OK(tpe_weight_to_f64(tpe_model_output_embedding(m), E));
    CHECK_OK(tpe_weight_to_f64(tpe_model_input_embedding(m), in0));
    CHECK(tpe_model_head_bias(m) == NULL);
    for (i = 0; i < V * C; i++) E[i] = i % C == 3 ? 0.0 : 2.0 * E[i]; /* prune dimension 3, scale the rest */
    CHECK_ERR(tpe_model_set_output_embedding(m, E, E, TPE_F32), TPE_EINVAL, "no output bias");
    CHECK_OK(tpe_model_set_output_embedding(m, E, NULL, TPE_F32));
    CHECK(!m->cfg.tied);
    CHECK_OK(tpe_weight_to_f64(tpe_model_output_embedding(m), E2));
    CHECK(memcmp(E, E2, V * C * sizeof *E) == 0);
    CHECK_OK(tpe_weight_to_f64(tpe_model_input_embedding(m), in1));
    CHECK(memcmp(in0, in1, V * C * sizeof *in0) == 0); /* the input side keeps the old embedding */
    CHECK_OK(run_f32(m, ids, 5, l1, h));
    CHECK_OK(tpe_model_save(m, out));
    CHECK_ERR(tpe_model_save(m, out), TPE_EIO, "not empty");
    r = load(out);
    if (r) {
        CHECK(!r->cfg.tied && r->head_w.raw && strcmp(r->head_w.name, "lm_head.weight") == 0);
        CHECK_OK(run_f32(r, ids, 5, l2, h));
        CHECK(memcmp(l1, l2, 5 * V * sizeof *l1) == 0);
        tpe_model_free(r);
    }
    /* the untouched model saves and reloads to the same logits too */
    tpe_model_free(m);
    free(E);
    free(E2);
    free(in0);
    free(in1);
    free(l1);
    free(l2);
    free(h);
}

TEST(edit_gptj_bias_and_input_embedding)
{
    tpe_model *m = load(make_variant(&variants[6], 80)); /* gptj: head bias */
    int32_t ids[4] = {3, 1, 4, 1};
    size_t V, C, i;
    double *E, *b, *in;
    float *l0, *l1, *h;
    if (!m) return;
    V = m->cfg.n_vocab, C = m->cfg.d_model;
    E = malloc(V * C * sizeof *E), b = malloc(V * sizeof *b), in = malloc(V * C * sizeof *in);
    l0 = malloc(4 * V * sizeof *l0), l1 = malloc(4 * V * sizeof *l1), h = malloc(4 * C * sizeof *h);
    CHECK(tpe_model_head_bias(m) != NULL);
    CHECK_OK(run_f32(m, ids, 4, l0, h));
    CHECK_OK(tpe_weight_to_f64(tpe_model_output_embedding(m), E));
    CHECK_OK(tpe_weight_to_f64(tpe_model_head_bias(m), b));
    for (i = 0; i < V; i++) b[i] += 1.0; /* a constant shift of every logit */
    CHECK_OK(tpe_model_set_output_embedding(m, E, b, TPE_F64));
    CHECK_OK(run_f32(m, ids, 4, l1, h));
    for (i = 0; i < 4 * V; i++) CHECK(fabs((double)(l1[i] - l0[i]) - 1.0) < 1e-5);
    /* a NaN is refused, naming the element */
    E[7] = (double)NAN;
    CHECK_ERR(tpe_model_set_output_embedding(m, E, NULL, TPE_F32), TPE_ENUMERIC, "NaN");
    CHECK_OK(tpe_weight_to_f64(tpe_model_input_embedding(m), in));
    CHECK_OK(tpe_model_set_input_embedding(m, in, TPE_BF16));
    CHECK(m->wte.dtype == TPE_BF16);
    tpe_model_free(m);
    free(E);
    free(b);
    free(in);
    free(l0);
    free(l1);
    free(h);
}

/* ---- traces ------------------------------------------------------------------------ */
typedef struct collected {
    char names[96][40];
    size_t shapes[96][3];
    int ndims[96];
    size_t n;
    double *resid_last; /* layer.1.resid, widened */
    size_t resid_count;
} collected;

static int collect(void *ctx, const char *name, tpe_dtype dtype, int ndim, const size_t *shape, const void *data)
{
    collected *c = ctx;
    size_t i, count = 1;
    int d;
    if (c->n >= 96) return tpe_error(TPE_EINVAL, "too many traced tensors");
    snprintf(c->names[c->n], sizeof c->names[c->n], "%s", name);
    c->ndims[c->n] = ndim;
    for (d = 0; d < ndim; d++) c->shapes[c->n][d] = shape[d], count *= shape[d];
    c->n++;
    if (strcmp(name, "layer.1.resid") == 0) {
        c->resid_last = malloc(count * sizeof *c->resid_last);
        c->resid_count = count;
        for (i = 0; i < count; i++)
            c->resid_last[i] = dtype == TPE_F64 ? ((const double *)data)[i] : (double)((const float *)data)[i];
    }
    return TPE_OK;
}

TEST(trace_names_agree_between_passes)
{
    size_t vi, T = 6, i;
    for (vi = 0; vi < sizeof variants / sizeof variants[0]; vi++) {
        tpe_model *m = load(make_variant(&variants[vi], 80));
        collected *a = calloc(1, sizeof *a), *b = calloc(1, sizeof *b);
        tpe_trace ta, tb;
        tpe_runtime *rt;
        int32_t ids[6] = {1, 2, 3, 4, 5, 6};
        float *h, *l;
        double err = 0.0;
        if (!m) {
            free(a);
            free(b);
            continue;
        }
        h = malloc(T * m->cfg.d_model * sizeof *h), l = malloc(T * m->cfg.n_vocab * sizeof *l);
        ta.emit = collect, ta.ctx = a;
        tb.emit = collect, tb.ctx = b;
        CHECK_OK(tpe_forward_ref(m, ids, T, NULL, NULL, &ta));
        CHECK_OK(tpe_runtime_new(m, T, 0, &rt));
        CHECK_OK(tpe_forward(rt, ids, T, h, &tb));
        tpe_runtime_free(rt);
        /* the reference also reports the logits; the fast path leaves them to its caller */
        CHECK(a->n == b->n + 1 && strcmp(a->names[a->n - 1], "logits") == 0);
        for (i = 0; i < b->n && i < a->n; i++) {
            CHECKF(strcmp(a->names[i], b->names[i]) == 0, "%s: tensor %zu is %s in the reference, %s in the fast path",
                   variants[vi].name, i, a->names[i], b->names[i]);
            CHECK(a->ndims[i] == b->ndims[i] && memcmp(a->shapes[i], b->shapes[i], sizeof a->shapes[i]) == 0);
        }
        /* 1 + L * (ln_1, q, k, v, [q_rot, k_rot], attn_probs, attn_heads, attn_out, [ln_2], mlp_pre, mlp_act, mlp_out, resid) + 1 */
        {
            size_t per = 11 + (m->cfg.rotary != TPE_ROTARY_NONE ? 2 : 0) + (m->cfg.shared_norm ? 0 : 1);
            CHECK(b->n == 2 + m->cfg.n_layer * per);
        }
        CHECK(a->resid_last && b->resid_last && a->resid_count == b->resid_count);
        for (i = 0; a->resid_last && b->resid_last && i < a->resid_count; i++)
            if (fabs(a->resid_last[i] - b->resid_last[i]) > err) err = fabs(a->resid_last[i] - b->resid_last[i]);
        CHECKF(err < 1e-3, "%s: traced residual streams differ by %.3g", variants[vi].name, err);
        free(a->resid_last);
        free(b->resid_last);
        free(a);
        free(b);
        free(h);
        free(l);
        tpe_model_free(m);
    }
}

/* ---- loader errors ------------------------------------------------------------------- */
/* Rewrite model.safetensors of a copy of the gpt2 variant with one change. */
enum mutation { DROP, RESHAPE, INT_DTYPE, NAN_VALUE, INF_VALUE, EXTRA, BOTH_PREFIXES, TIED_DIFFERENT, IGNORED_BUFFER };

static int mutated(enum mutation what, const char *name)
{
    tpe_model *m = load(make_variant(&variants[0], 80));
    tpe_st_entry e[64];
    float *bufs[64];
    size_t n = 0, i;
    char *dir = tmp_dir(name), cfgp[700], path[700];
    int rc;
    FILE *f;
    memset(e, 0, sizeof e);
    if (!m) return -1;
    tpe_mkdir(dir);
    snprintf(cfgp, sizeof cfgp, "%s/config.json", dir);
    f = fopen(cfgp, "wb");
    if (f) {
        fwrite(m->config_text, 1, m->config_len, f);
        fclose(f);
    }
    for (i = 0; i < m->st.n && n < 60; i++) {
        const tpe_st_tensor *t = m->st.tensors[i];
        bufs[n] = malloc(t->count * sizeof(float) + 8);
        tpe_st_to_f32(TPE_F32, t->data, 0, t->count, bufs[n]);
        e[n].name = t->name;
        e[n].dtype = TPE_F32;
        e[n].ndim = t->ndim;
        memcpy(e[n].shape, t->shape, sizeof t->shape);
        e[n].data = bufs[n];
        if (strcmp(t->name, "transformer.h.1.mlp.c_fc.weight") == 0) {
            if (what == DROP) {
                free(bufs[n]);
                continue;
            }
            if (what == RESHAPE) e[n].shape[0] = t->shape[1], e[n].shape[1] = t->shape[0];
            if (what == INT_DTYPE) e[n].dtype = TPE_I32;
            if (what == NAN_VALUE) bufs[n][t->shape[1] * 2 + 5] = NAN;
            if (what == INF_VALUE) bufs[n][3] = -HUGE_VALF;
        }
        n++;
    }
    if (what == EXTRA || what == BOTH_PREFIXES || what == TIED_DIFFERENT || what == IGNORED_BUFFER) {
        static float extra[16 * 61];
        for (i = 0; i < 16 * 61; i++) extra[i] = 0.5f;
        e[n].name = what == EXTRA ? "transformer.h.0.attn.c_attn.scale" : what == BOTH_PREFIXES ? "ln_f.bias"
                    : what == IGNORED_BUFFER                           ? "transformer.h.1.attn.masked_bias"
                                                                       : "lm_head.weight";
        e[n].dtype = TPE_F32;
        e[n].ndim = what == TIED_DIFFERENT ? 2 : 1;
        e[n].shape[0] = what == TIED_DIFFERENT ? 61 : 16;
        e[n].shape[1] = 16;
        e[n].data = extra;
        bufs[n] = NULL;
        n++;
    }
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    rc = tpe_st_write(path, e, n);
    for (i = 0; i < n; i++) free(bufs[i]);
    tpe_model_free(m);
    return rc;
}

static int try_load(const char *dir)
{
    tpe_model *m = NULL;
    int rc = tpe_model_load(dir, NULL, &m);
    tpe_model_free(m);
    return rc;
}

TEST(loader_errors_name_the_tensor)
{
    CHECK_OK(mutated(DROP, "m-drop"));
    CHECK_ERR(try_load(tmp_dir("m-drop")), TPE_EFORMAT, "missing tensor 'transformer.h.1.mlp.c_fc.weight'");
    CHECK_OK(mutated(RESHAPE, "m-reshape"));
    CHECK_ERR(try_load(tmp_dir("m-reshape")), TPE_EFORMAT, "'transformer.h.1.mlp.c_fc.weight' has shape [64, 16], expected [16, 64]");
    CHECK_OK(mutated(INT_DTYPE, "m-dtype"));
    CHECK_ERR(try_load(tmp_dir("m-dtype")), TPE_EFORMAT, "'transformer.h.1.mlp.c_fc.weight' has dtype I32");
    CHECK_OK(mutated(NAN_VALUE, "m-nan"));
    CHECK_ERR(try_load(tmp_dir("m-nan")), TPE_EFORMAT, "'transformer.h.1.mlp.c_fc.weight': element [2, 5] is NaN");
    CHECK_OK(mutated(INF_VALUE, "m-inf"));
    CHECK_ERR(try_load(tmp_dir("m-inf")), TPE_EFORMAT, "element [0, 3] is infinite");
    CHECK_OK(mutated(EXTRA, "m-extra"));
    CHECK_ERR(try_load(tmp_dir("m-extra")), TPE_EFORMAT, "unexpected tensor 'transformer.h.0.attn.c_attn.scale'");
    CHECK_OK(mutated(BOTH_PREFIXES, "m-both"));
    CHECK_ERR(try_load(tmp_dir("m-both")), TPE_EFORMAT, "both 'transformer.ln_f.bias' and 'ln_f.bias'");
    CHECK_OK(mutated(TIED_DIFFERENT, "m-tied"));
    CHECK_ERR(try_load(tmp_dir("m-tied")), TPE_EFORMAT, "'lm_head.weight' differs from");
    CHECK_OK(mutated(IGNORED_BUFFER, "m-buffer"));
    CHECK_OK(try_load(tmp_dir("m-buffer")));
    CHECK_ERR(try_load(tmp_dir("no-such-model")), TPE_EIO, "not a directory");
}

TEST(token_ids_are_checked)
{
    tpe_model *m = load(make_variant(&variants[0], 80));
    int32_t ids[3] = {1, 61, 2}, neg[1] = {-1};
    tpe_runtime *rt = NULL;
    float h[3 * 16];
    double hd[3 * 16];
    if (!m) return;
    CHECK_ERR(tpe_forward_ref(m, ids, 3, hd, NULL, NULL), TPE_EINVAL, "token id 61 at index 1 is outside the vocabulary [0, 61)");
    CHECK_ERR(tpe_forward_ref(m, neg, 1, hd, NULL, NULL), TPE_EINVAL, "token id -1");
    CHECK_OK(tpe_runtime_new(m, 3, 1, &rt));
    CHECK_ERR(tpe_forward(rt, ids, 3, h, NULL), TPE_EINVAL, "outside the vocabulary");
    CHECK_ERR(tpe_model_check_ids(m, ids, 81, 0), TPE_EINVAL, "exceed the model's 80 positions");
    tpe_runtime_free(rt);
    CHECK_ERR(tpe_runtime_new(m, 81, 0, &rt), TPE_EINVAL, "80 positions");
    tpe_model_free(m);
}
