/*
 * model.c -- config.json, binding checkpoint tensors to the model
 * description, widening policy, in-memory edits and writing a model
 * directory. The forward passes are in forward_ref.c and forward.c.
 */
#include "model.h"
#include "io.h"
#include "json.h"
#include "outdir.h"
#include "platform.h"
#include "tpe.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- config.json ----------------------------------------------------------- */
typedef struct cfg_reader {
    const tpe_json *root;
    const char *file;
    const char *type;
} cfg_reader;

static int cfg_missing(const cfg_reader *c, const char *key)
{
    return tpe_error(TPE_EFORMAT, "%s: missing field \"%s\" (required for model_type \"%s\")", c->file, key, c->type);
}

/* A positive integer. `dflt` is used when the key is absent or null and
 * dflt != 0; otherwise absence is an error naming the key. */
static int cfg_size(const cfg_reader *c, const char *key, size_t dflt, size_t *out)
{
    const tpe_json *v = tpe_json_get(c->root, key);
    uint64_t u;
    if (!v || v->type == TPE_JSON_NULL) {
        if (!dflt) return cfg_missing(c, key);
        *out = dflt;
        return TPE_OK;
    }
    if (tpe_json_u64(v, &u) || u == 0 || u > (uint64_t)1 << 40)
        return tpe_error(TPE_EFORMAT, "%s: field \"%s\" must be a positive integer", c->file, key);
    *out = (size_t)u;
    return TPE_OK;
}

static int cfg_number(const cfg_reader *c, const char *key, int required, double dflt, double *out)
{
    const tpe_json *v = tpe_json_get(c->root, key);
    if (!v) {
        if (required) return cfg_missing(c, key);
        *out = dflt;
        return TPE_OK;
    }
    if (v->type != TPE_JSON_NUMBER || !isfinite(v->number))
        return tpe_error(TPE_EFORMAT, "%s: field \"%s\" must be a finite number", c->file, key);
    *out = v->number;
    return TPE_OK;
}

static int cfg_bool(const cfg_reader *c, const char *key, int required, int dflt, int *out)
{
    const tpe_json *v = tpe_json_get(c->root, key);
    if (!v) {
        if (required) return cfg_missing(c, key);
        *out = dflt;
        return TPE_OK;
    }
    if (v->type != TPE_JSON_TRUE && v->type != TPE_JSON_FALSE)
        return tpe_error(TPE_EFORMAT, "%s: field \"%s\" must be true or false", c->file, key);
    *out = v->type == TPE_JSON_TRUE;
    return TPE_OK;
}

typedef struct act_name {
    const char *name;
    tpe_act act;
} act_name;

/* transformers' ACT2FN names; gelu_pytorch_tanh is gelu_new's formula. */
static const act_name act_names[] = {
    {"gelu_new", TPE_ACT_GELU_NEW}, {"gelu_pytorch_tanh", TPE_ACT_GELU_NEW}, {"gelu", TPE_ACT_GELU},
    {"gelu_fast", TPE_ACT_GELU_FAST}, {"relu", TPE_ACT_RELU}, {"silu", TPE_ACT_SILU}, {"swish", TPE_ACT_SILU},
    {"quick_gelu", TPE_ACT_QUICK_GELU},
};

static int cfg_act(const cfg_reader *c, const char *key, tpe_model_config *cfg)
{
    const tpe_json *v = tpe_json_get(c->root, key);
    size_t i;
    if (!v) return cfg_missing(c, key);
    if (v->type != TPE_JSON_STRING) return tpe_error(TPE_EFORMAT, "%s: field \"%s\" must be a string", c->file, key);
    for (i = 0; i < sizeof act_names / sizeof act_names[0]; i++)
        if (strcmp(v->str, act_names[i].name) == 0) {
            cfg->act = act_names[i].act;
            cfg->act_name = act_names[i].name;
            return TPE_OK;
        }
    return tpe_error(TPE_EUNSUPPORTED, "%s: %s \"%.40s\" is not supported (gelu_new, gelu, gelu_fast, gelu_pytorch_tanh, relu, silu, quick_gelu)",
                     c->file, key, v->str);
}

/* "tpe_head_dims" (written by `tpe prune --drop`): the residual dimensions
 * the final norm outputs and the head reads, strictly ascending integers in
 * [0, d_model), at least one. Absent or null: all of them (*count = 0).
 * dims (may be NULL) receives them. */
static int cfg_head_dims(const tpe_json *root, const char *file, size_t C, size_t *dims, size_t *count)
{
    const tpe_json *v = tpe_json_get(root, "tpe_head_dims");
    size_t i;
    uint64_t prev = 0;
    *count = 0;
    if (!v || v->type == TPE_JSON_NULL) return TPE_OK;
    if (v->type != TPE_JSON_ARRAY || v->count == 0)
        return tpe_error(TPE_EFORMAT, "%s: field \"tpe_head_dims\" must be a non-empty array of dimension indices", file);
    for (i = 0; i < v->count; i++) {
        uint64_t u;
        if (tpe_json_u64(&v->items[i], &u) || u >= C || (i > 0 && u <= prev))
            return tpe_error(TPE_EFORMAT, "%s: tpe_head_dims[%zu]: expected strictly ascending integers in [0, %zu)", file, i, C);
        if (dims) dims[i] = (size_t)u;
        prev = u;
    }
    *count = v->count;
    return TPE_OK;
}

int tpe_config_parse(const char *text, size_t len, const char *name, tpe_model_config *cfg)
{
    tpe_json_doc *doc;
    const tpe_json *root, *mt, *v;
    cfg_reader c;
    int rc = tpe_json_parse(text, len, name, &doc);
    if (rc) return rc;
    memset(cfg, 0, sizeof *cfg);
    root = tpe_json_root(doc);
    c.root = root;
    c.file = name;
    c.type = "?";
    if (root->type != TPE_JSON_OBJECT) {
        rc = tpe_error(TPE_EFORMAT, "%s: not a JSON object", name);
        goto done;
    }
    if (tpe_json_duplicate_key(root)) {
        rc = tpe_error(TPE_EFORMAT, "%s: field \"%s\" appears twice", name, tpe_json_duplicate_key(root));
        goto done;
    }
    mt = tpe_json_get(root, "model_type");
    if (!mt || mt->type != TPE_JSON_STRING) {
        rc = tpe_error(TPE_EFORMAT, "%s: missing field \"model_type\" (a string: gpt2, gpt_neox or gptj)", name);
        goto done;
    }
    if (strcmp(mt->str, "gpt2") == 0) {
        cfg->arch = TPE_ARCH_GPT2;
        cfg->model_type = "gpt2";
    } else if (strcmp(mt->str, "gpt_neox") == 0) {
        cfg->arch = TPE_ARCH_NEOX;
        cfg->model_type = "gpt_neox";
    } else if (strcmp(mt->str, "gptj") == 0) {
        cfg->arch = TPE_ARCH_GPTJ;
        cfg->model_type = "gptj";
    } else {
        rc = tpe_error(TPE_EUNSUPPORTED, "%s: unknown model_type \"%.40s\" (supported: gpt2, gpt_neox, gptj)", name, mt->str);
        goto done;
    }
    c.type = cfg->model_type;
    cfg->eos_token_id = -1;
    v = tpe_json_get(root, "eos_token_id");
    if (v && v->type == TPE_JSON_NUMBER && v->is_integer && !v->is_negative && v->magnitude_exact && v->magnitude < (1u << 31))
        cfg->eos_token_id = (long long)v->magnitude;

    if (cfg->arch == TPE_ARCH_GPT2 || cfg->arch == TPE_ARCH_GPTJ) {
        if ((rc = cfg_size(&c, "vocab_size", 0, &cfg->n_vocab)) || (rc = cfg_size(&c, "n_embd", 0, &cfg->d_model)) ||
            (rc = cfg_size(&c, "n_head", 0, &cfg->n_head)) || (rc = cfg_size(&c, "n_layer", 0, &cfg->n_layer)) ||
            (rc = cfg_size(&c, "n_positions", 0, &cfg->n_ctx)) ||
            (rc = cfg_size(&c, "n_inner", 4 * cfg->d_model, &cfg->d_ff)) ||
            (rc = cfg_number(&c, "layer_norm_epsilon", 1, 0.0, &cfg->ln_eps)) || (rc = cfg_act(&c, "activation_function", cfg)) ||
            (rc = cfg_bool(&c, "tie_word_embeddings", 0, cfg->arch == TPE_ARCH_GPT2, &cfg->tied)))
            goto done;
    } else {
        if ((rc = cfg_size(&c, "vocab_size", 0, &cfg->n_vocab)) || (rc = cfg_size(&c, "hidden_size", 0, &cfg->d_model)) ||
            (rc = cfg_size(&c, "num_attention_heads", 0, &cfg->n_head)) ||
            (rc = cfg_size(&c, "num_hidden_layers", 0, &cfg->n_layer)) ||
            (rc = cfg_size(&c, "max_position_embeddings", 0, &cfg->n_ctx)) ||
            (rc = cfg_size(&c, "intermediate_size", 0, &cfg->d_ff)) ||
            (rc = cfg_number(&c, "layer_norm_eps", 1, 0.0, &cfg->ln_eps)) || (rc = cfg_act(&c, "hidden_act", cfg)) ||
            (rc = cfg_bool(&c, "tie_word_embeddings", 0, 0, &cfg->tied)))
            goto done;
    }
    if (!(cfg->ln_eps > 0.0)) {
        rc = tpe_error(TPE_EFORMAT, "%s: the layer norm epsilon must be positive", name);
        goto done;
    }
    if (cfg->d_model % cfg->n_head != 0) {
        rc = tpe_error(TPE_EFORMAT, "%s: the width %zu is not a multiple of the %zu heads", name, cfg->d_model, cfg->n_head);
        goto done;
    }
    cfg->d_head = cfg->d_model / cfg->n_head;
    if ((rc = cfg_head_dims(root, name, cfg->d_model, NULL, &cfg->d_out))) goto done;
    if (cfg->d_out == 0) cfg->d_out = cfg->d_model;
    else if (cfg->tied) {
        rc = tpe_error(TPE_EFORMAT, "%s: tpe_head_dims with tie_word_embeddings true: a tied head cannot be narrower than the "
                       "input embedding", name);
        goto done;
    }

    switch (cfg->arch) {
    case TPE_ARCH_GPT2:
        cfg->rotary = TPE_ROTARY_NONE;
        cfg->attn_bias = 1;
        cfg->qkv_layout = TPE_QKV_BLOCKS;
        if ((rc = cfg_bool(&c, "scale_attn_weights", 0, 1, &cfg->scale_attn)) ||
            (rc = cfg_bool(&c, "scale_attn_by_inverse_layer_idx", 0, 0, &cfg->scale_by_layer)))
            goto done;
        v = tpe_json_get(root, "add_cross_attention");
        if (v && v->type == TPE_JSON_TRUE) {
            rc = tpe_error(TPE_EUNSUPPORTED, "%s: add_cross_attention (an encoder-decoder model) is not supported", name);
            goto done;
        }
        break;
    case TPE_ARCH_NEOX: {
        double pct;
        cfg->rotary = TPE_ROTARY_HALF;
        cfg->attn_bias = 1;
        cfg->scale_attn = 1;
        cfg->qkv_layout = TPE_QKV_PER_HEAD;
        if ((rc = cfg_number(&c, "rotary_pct", 1, 0.0, &pct)) || (rc = cfg_number(&c, "rotary_emb_base", 1, 0.0, &cfg->rotary_base)) ||
            (rc = cfg_bool(&c, "use_parallel_residual", 1, 1, &cfg->parallel_residual)))
            goto done;
        if (!(pct >= 0.0 && pct <= 1.0)) {
            rc = tpe_error(TPE_EFORMAT, "%s: rotary_pct %g is outside [0, 1]", name, pct);
            goto done;
        }
        /* transformers: rotary_ndims = int(head_size * rotary_pct) */
        cfg->rotary_dim = (size_t)floor((double)cfg->d_head * pct);
        v = tpe_json_get(root, "rope_scaling");
        if (v && v->type != TPE_JSON_NULL) {
            rc = tpe_error(TPE_EUNSUPPORTED, "%s: rope_scaling is not supported", name);
            goto done;
        }
        break;
    }
    case TPE_ARCH_GPTJ:
        cfg->rotary = TPE_ROTARY_INTERLEAVED;
        cfg->attn_bias = 0;
        cfg->scale_attn = 1;
        cfg->parallel_residual = 1;
        cfg->shared_norm = 1;
        cfg->head_bias = 1;
        cfg->qkv_layout = TPE_QKV_BLOCKS;
        cfg->rotary_base = 10000.0; /* fixed in GPT-J */
        v = tpe_json_get(root, "rotary_dim");
        if (!v) {
            rc = cfg_missing(&c, "rotary_dim");
            goto done;
        }
        if (v->type == TPE_JSON_NULL) {
            cfg->rotary_dim = cfg->d_head; /* transformers: rotary on the whole head */
        } else if ((rc = cfg_size(&c, "rotary_dim", 0, &cfg->rotary_dim))) {
            goto done;
        }
        break;
    }
    if (cfg->rotary != TPE_ROTARY_NONE) {
        if (cfg->rotary_dim > cfg->d_head || cfg->rotary_dim % 2 != 0) {
            rc = tpe_error(TPE_EFORMAT, "%s: %zu rotary dimensions for a head of %zu (must be even and at most the head size)",
                           name, cfg->rotary_dim, cfg->d_head);
            goto done;
        }
        if (!(cfg->rotary_base > 0.0)) {
            rc = tpe_error(TPE_EFORMAT, "%s: rotary_emb_base must be positive", name);
            goto done;
        }
    }
done:
    tpe_json_free(doc);
    return rc;
}

/* ---- weights ----------------------------------------------------------------- */
void tpe_model_options_default(tpe_model_options *o)
{
    const char *s = getenv("TPE_WIDEN_LIMIT_MB");
    double limit = 4096.0 * 1048576.0; /* 4096 MB, or half the address space on 32-bit hosts */
    if (limit > (double)SIZE_MAX / 2.0) limit = (double)SIZE_MAX / 2.0;
    o->widen_limit = (size_t)limit;
    o->check_finite = 1;
    if (s && *s) {
        char *end;
        double mb = strtod(s, &end);
        if (*end == '\0' && mb >= 0) o->widen_limit = mb * 1048576.0 >= (double)SIZE_MAX ? SIZE_MAX : (size_t)(mb * 1048576.0);
    }
}

static size_t elem_size(tpe_dtype t) { return tpe_dtype_size(t); }

static int is_weight_dtype(tpe_dtype t) { return t == TPE_F16 || t == TPE_BF16 || t == TPE_F32 || t == TPE_F64; }

int tpe_weight_to_f64(const tpe_weight *w, double *out)
{
    if (!w->raw) return tpe_error(TPE_EINVAL, "weight %s is absent", w->name ? w->name : "?");
    tpe_st_to_f64(w->dtype, w->raw, 0, w->rows * w->cols, out);
    return TPE_OK;
}

int tpe_weight_to_f32(const tpe_weight *w, float *out)
{
    if (!w->raw) return tpe_error(TPE_EINVAL, "weight %s is absent", w->name ? w->name : "?");
    if (w->f32) memcpy(out, w->f32, w->rows * w->cols * sizeof *out);
    else tpe_st_to_f32(w->dtype, w->raw, 0, w->rows * w->cols, out);
    return TPE_OK;
}

const float *tpe_weight_rows_f32(const tpe_weight *w, size_t r0, size_t nr, float *scratch)
{
    if (w->f32) return w->f32 + r0 * w->cols;
    tpe_st_to_f32(w->dtype, w->raw, r0 * w->cols, nr * w->cols, scratch);
    return scratch;
}

/* A float view without copying: F32, little-endian host, 4-byte aligned. */
static const float *zero_copy_view(const tpe_weight *w)
{
    if (w->dtype == TPE_F32 && tpe_host_little_endian() && (uintptr_t)w->raw % sizeof(float) == 0)
        return (const float *)(const void *)w->raw;
    return NULL;
}

static int widen(tpe_weight *w)
{
    size_t n = w->rows * w->cols;
    float *f;
    if (w->f32 || !w->raw) return TPE_OK;
    if ((w->f32 = zero_copy_view(w)) != NULL) return TPE_OK;
    f = tpe_alloc_array(n ? n : 1, sizeof *f, w->name ? w->name : "weight");
    if (!f) return TPE_ENOMEM;
    tpe_st_to_f32(w->dtype, w->raw, 0, n, f);
    w->owned_f32 = f;
    w->f32 = f;
    return TPE_OK;
}

static void weight_free(tpe_weight *w)
{
    tpe_free(w->owned_f32);
    tpe_free(w->owned_raw);
    memset(w, 0, sizeof *w);
}

/* NaN/Inf (and, for F64, values beyond float range) by looking at the bits. */
static int check_weight_finite(const tpe_weight *w, const char *file)
{
    size_t n = w->rows * w->cols, i, bad = (size_t)-1;
    const unsigned char *p = w->raw;
    double val = 0.0;
    switch (w->dtype) {
    case TPE_F16:
        for (i = 0; i < n && bad == (size_t)-1; i++)
            if ((tpe_load_le16(p + 2 * i) & 0x7c00u) == 0x7c00u) bad = i;
        break;
    case TPE_BF16:
        for (i = 0; i < n && bad == (size_t)-1; i++)
            if ((tpe_load_le16(p + 2 * i) & 0x7f80u) == 0x7f80u) bad = i;
        break;
    case TPE_F32:
        for (i = 0; i < n && bad == (size_t)-1; i++)
            if ((tpe_load_le32(p + 4 * i) & 0x7f800000u) == 0x7f800000u) bad = i;
        break;
    case TPE_F64:
        for (i = 0; i < n && bad == (size_t)-1; i++) {
            double d = tpe_st_elem_f64(TPE_F64, p, i);
            if (!(fabs(d) <= (double)FLT_MAX)) bad = i;
        }
        break;
    default: break;
    }
    if (bad == (size_t)-1) return TPE_OK;
    val = tpe_st_elem_f64(w->dtype, p, bad);
    if (w->rows > 1)
        return tpe_error(TPE_EFORMAT, "%s: tensor '%s': element [%zu, %zu] is %s", file, w->name, bad / w->cols, bad % w->cols,
                         isnan(val) ? "NaN" : isinf(val) ? "infinite" : "beyond float range");
    return tpe_error(TPE_EFORMAT, "%s: tensor '%s': element %zu is %s", file, w->name, bad,
                     isnan(val) ? "NaN" : isinf(val) ? "infinite" : "beyond float range");
}

/* ---- binding names ------------------------------------------------------------ */
typedef struct binder {
    tpe_model *m;
    const char *prefix;   /* "transformer." or "gpt_neox."           */
    unsigned char *used;  /* per tensor of the set                   */
} binder;

/* Bind `suffix` (looked up as prefix+suffix and as suffix, or exactly when
 * exact is set) to w with the expected shape (rows 0: a vector of cols). */
static int bind(binder *b, const char *suffix, int exact, tpe_weight *w, size_t rows, size_t cols, int required)
{
    char full[256];
    size_t i1 = 0, i2 = 0;
    const tpe_st_tensor *t1 = NULL, *t2 = NULL, *t;
    size_t at;
    const char *file;
    if (snprintf(full, sizeof full, "%s%s", b->prefix, suffix) >= (int)sizeof full)
        return tpe_error(TPE_EINVAL, "tensor name %s%s too long", b->prefix, suffix);
    t1 = exact ? NULL : tpe_st_set_find(&b->m->st, full, &i1);
    t2 = tpe_st_set_find(&b->m->st, suffix, &i2);
    if (t1 && t2) return tpe_error(TPE_EFORMAT, "both '%s' and '%s' are stored; expected one", full, suffix);
    t = t1 ? t1 : t2;
    at = t1 ? i1 : i2;
    if (!t) {
        memset(w, 0, sizeof *w);
        if (!required) return TPE_OK;
        return tpe_error(TPE_EFORMAT, "%s: missing tensor '%s%s' (a %s checkpoint needs it)", b->m->dir, exact ? "" : b->prefix, suffix,
                         b->m->cfg.model_type);
    }
    file = b->m->st.file_of[at];
    b->used[at] = 1;
    if (!t->dtype_known || !is_weight_dtype(t->dtype))
        return tpe_error(TPE_EFORMAT, "%s: tensor '%s' has dtype %s; weights must be F16, BF16, F32 or F64", file, t->name, t->dtype_name);
    if (rows == 0 ? (t->ndim != 1 || t->shape[0] != cols) : (t->ndim != 2 || t->shape[0] != rows || t->shape[1] != cols)) {
        char got[96];
        int d;
        size_t len = 0;
        got[0] = '\0';
        for (d = 0; d < t->ndim && len + 24 < sizeof got; d++)
            len += (size_t)snprintf(got + len, sizeof got - len, "%s%zu", d ? ", " : "", t->shape[d]);
        if (rows == 0)
            return tpe_error(TPE_EFORMAT, "%s: tensor '%s' has shape [%s], expected [%zu] from config.json", file, t->name, got, cols);
        return tpe_error(TPE_EFORMAT, "%s: tensor '%s' has shape [%s], expected [%zu, %zu] from config.json", file, t->name, got, rows, cols);
    }
    memset(w, 0, sizeof *w);
    w->name = t->name;
    w->dtype = t->dtype;
    w->ndim = rows ? 2 : 1;
    w->rows = rows ? rows : 1;
    w->cols = cols;
    w->raw = t->data;
    return TPE_OK;
}

/* Buffers some checkpoints carry that are not weights (causal masks, the
 * rotary inverse frequencies): ignored. */
static int ignored_buffer(const char *name)
{
    static const char *const tails[] = {".attn.bias", ".attn.masked_bias", ".attention.bias", ".attention.masked_bias",
                                        ".rotary_emb.inv_freq"};
    size_t i, n = strlen(name);
    for (i = 0; i < sizeof tails / sizeof tails[0]; i++) {
        size_t k = strlen(tails[i]);
        if (n > k && strcmp(name + n - k, tails[i]) == 0) return 1;
    }
    return 0;
}

/* The checkpoint's tensors for a config: one table for loading, writing
 * random models and checking names. */
static size_t add_spec(tpe_wspec *s, size_t n, const char *name, int exact, size_t rows, size_t cols, char kind, tpe_weight *slot)
{
    if (s) {
        snprintf(s[n].name, sizeof s[n].name, "%s", name);
        s[n].exact = exact;
        s[n].rows = rows;
        s[n].cols = cols;
        s[n].kind = kind;
        s[n].slot = slot;
    }
    return n + 1;
}

#define SLOT(field) (m ? &(field) : NULL)

size_t tpe_weight_specs(tpe_model *m, const tpe_model_config *c, tpe_wspec *s)
{
    size_t C = c->d_model, F = c->d_ff, V = c->n_vocab, Co = c->d_out ? c->d_out : C, l, n = 0;
    char nm[96];
    int neox = c->arch == TPE_ARCH_NEOX, gpt2 = c->arch == TPE_ARCH_GPT2;
    n = add_spec(s, n, neox ? "embed_in.weight" : "wte.weight", 0, V, C, 'w', SLOT(m->wte));
    if (gpt2) n = add_spec(s, n, "wpe.weight", 0, c->n_ctx, C, 'w', SLOT(m->wpe));
    for (l = 0; l < c->n_layer; l++) {
        tpe_layer *L = m ? &m->layers[l] : NULL;
#define LS(field) (L ? &(L->field) : NULL)
#define ADD(fmt, rows, cols, kind, slot)                                                                              \
    do {                                                                                                              \
        snprintf(nm, sizeof nm, fmt, l);                                                                              \
        n = add_spec(s, n, nm, 0, rows, cols, kind, slot);                                                            \
    } while (0)
        switch (c->arch) {
        case TPE_ARCH_GPT2: /* Conv1D weights are (in, out) */
            ADD("h.%zu.ln_1.weight", 0, C, 'g', LS(ln1_w));
            ADD("h.%zu.ln_1.bias", 0, C, 'b', LS(ln1_b));
            ADD("h.%zu.attn.c_attn.weight", C, 3 * C, 'w', LS(qkv.w));
            ADD("h.%zu.attn.c_attn.bias", 0, 3 * C, 'b', LS(qkv.b));
            ADD("h.%zu.attn.c_proj.weight", C, C, 'w', LS(attn_out.w));
            ADD("h.%zu.attn.c_proj.bias", 0, C, 'b', LS(attn_out.b));
            ADD("h.%zu.ln_2.weight", 0, C, 'g', LS(ln2_w));
            ADD("h.%zu.ln_2.bias", 0, C, 'b', LS(ln2_b));
            ADD("h.%zu.mlp.c_fc.weight", C, F, 'w', LS(fc_in.w));
            ADD("h.%zu.mlp.c_fc.bias", 0, F, 'b', LS(fc_in.b));
            ADD("h.%zu.mlp.c_proj.weight", F, C, 'w', LS(fc_out.w));
            ADD("h.%zu.mlp.c_proj.bias", 0, C, 'b', LS(fc_out.b));
            break;
        case TPE_ARCH_NEOX: /* nn.Linear weights are (out, in) */
            ADD("layers.%zu.input_layernorm.weight", 0, C, 'g', LS(ln1_w));
            ADD("layers.%zu.input_layernorm.bias", 0, C, 'b', LS(ln1_b));
            ADD("layers.%zu.post_attention_layernorm.weight", 0, C, 'g', LS(ln2_w));
            ADD("layers.%zu.post_attention_layernorm.bias", 0, C, 'b', LS(ln2_b));
            ADD("layers.%zu.attention.query_key_value.weight", 3 * C, C, 'w', LS(qkv.w));
            ADD("layers.%zu.attention.query_key_value.bias", 0, 3 * C, 'b', LS(qkv.b));
            ADD("layers.%zu.attention.dense.weight", C, C, 'w', LS(attn_out.w));
            ADD("layers.%zu.attention.dense.bias", 0, C, 'b', LS(attn_out.b));
            ADD("layers.%zu.mlp.dense_h_to_4h.weight", F, C, 'w', LS(fc_in.w));
            ADD("layers.%zu.mlp.dense_h_to_4h.bias", 0, F, 'b', LS(fc_in.b));
            ADD("layers.%zu.mlp.dense_4h_to_h.weight", C, F, 'w', LS(fc_out.w));
            ADD("layers.%zu.mlp.dense_4h_to_h.bias", 0, C, 'b', LS(fc_out.b));
            break;
        case TPE_ARCH_GPTJ:
            ADD("h.%zu.ln_1.weight", 0, C, 'g', LS(ln1_w));
            ADD("h.%zu.ln_1.bias", 0, C, 'b', LS(ln1_b));
            ADD("h.%zu.attn.q_proj.weight", C, C, 'w', LS(q.w));
            ADD("h.%zu.attn.k_proj.weight", C, C, 'w', LS(k.w));
            ADD("h.%zu.attn.v_proj.weight", C, C, 'w', LS(v.w));
            ADD("h.%zu.attn.out_proj.weight", C, C, 'w', LS(attn_out.w));
            ADD("h.%zu.mlp.fc_in.weight", F, C, 'w', LS(fc_in.w));
            ADD("h.%zu.mlp.fc_in.bias", 0, F, 'b', LS(fc_in.b));
            ADD("h.%zu.mlp.fc_out.weight", C, F, 'w', LS(fc_out.w));
            ADD("h.%zu.mlp.fc_out.bias", 0, C, 'b', LS(fc_out.b));
            break;
        }
#undef ADD
#undef LS
    }
    /* the final norm and the head are d_out wide (C unless dimensions were dropped) */
    n = add_spec(s, n, neox ? "final_layer_norm.weight" : "ln_f.weight", 0, 0, Co, 'g', SLOT(m->lnf_w));
    n = add_spec(s, n, neox ? "final_layer_norm.bias" : "ln_f.bias", 0, 0, Co, 'b', SLOT(m->lnf_b));
    /* the head: unprefixed; absent when tied */
    n = add_spec(s, n, neox ? "embed_out.weight" : "lm_head.weight", 1, V, Co, 'h', SLOT(m->head_w));
    if (c->head_bias) n = add_spec(s, n, "lm_head.bias", 1, 0, V, 'b', SLOT(m->head_b));
    return n;
}

#undef SLOT

static void set_linear_shapes(tpe_model *m)
{
    const tpe_model_config *c = &m->cfg;
    size_t C = c->d_model, F = c->d_ff, l;
    int in_out = c->arch == TPE_ARCH_GPT2;
    for (l = 0; l < c->n_layer; l++) {
        tpe_layer *L = &m->layers[l];
        tpe_linear *lin[7];
        size_t ins[7], outs[7], i;
        lin[0] = &L->qkv, ins[0] = C, outs[0] = 3 * C;
        lin[1] = &L->q, ins[1] = C, outs[1] = C;
        lin[2] = &L->k, ins[2] = C, outs[2] = C;
        lin[3] = &L->v, ins[3] = C, outs[3] = C;
        lin[4] = &L->attn_out, ins[4] = C, outs[4] = C;
        lin[5] = &L->fc_in, ins[5] = C, outs[5] = F;
        lin[6] = &L->fc_out, ins[6] = F, outs[6] = C;
        for (i = 0; i < 7; i++) {
            lin[i]->in = ins[i];
            lin[i]->out = outs[i];
            lin[i]->w_in_out = in_out;
        }
    }
}

static int bind_all(tpe_model *m, binder *b)
{
    const tpe_model_config *c = &m->cfg;
    size_t n = tpe_weight_specs(NULL, c, NULL), i;
    tpe_wspec *specs = malloc(n * sizeof *specs);
    int rc = TPE_OK;
    if (!specs) return tpe_error(TPE_ENOMEM, "out of memory");
    tpe_weight_specs(m, c, specs);
    set_linear_shapes(m);
    for (i = 0; i < n && !rc; i++) {
        const tpe_wspec *sp = &specs[i];
        tpe_weight stored;
        if (sp->kind != 'h') {
            rc = bind(b, sp->name, sp->exact, sp->slot, sp->rows, sp->cols, 1);
            continue;
        }
        /* the head: stored unless tied; when tied and stored anyway, it must
         * be the embedding itself */
        if ((rc = bind(b, sp->name, 1, &stored, sp->rows, sp->cols, !c->tied))) break;
        if (!c->tied) m->head_w = stored;
        else if (stored.raw && (stored.dtype != m->wte.dtype ||
                                memcmp(stored.raw, m->wte.raw, sp->rows * sp->cols * elem_size(stored.dtype)) != 0))
            rc = tpe_error(TPE_EFORMAT, "%s: '%s' differs from '%s' but tie_word_embeddings is true", m->dir, sp->name, m->wte.name);
    }
    free(specs);
    return rc;
}

/* every weight of the model, for loops over all of them (head_w excluded
 * when it is the tied input embedding) */
static size_t list_weights(tpe_model *m, tpe_weight **out, size_t cap)
{
    size_t n = 0, l;
#define ADD(w)                                                                                                        \
    do {                                                                                                              \
        if ((w).raw && n < cap) out[n++] = &(w);                                                                       \
    } while (0)
    ADD(m->wte);
    ADD(m->wpe);
    ADD(m->lnf_w);
    ADD(m->lnf_b);
    if (!m->cfg.tied) ADD(m->head_w);
    ADD(m->head_b);
    for (l = 0; l < m->cfg.n_layer; l++) {
        tpe_layer *L = &m->layers[l];
        ADD(L->ln1_w);
        ADD(L->ln1_b);
        ADD(L->ln2_w);
        ADD(L->ln2_b);
        ADD(L->qkv.w);
        ADD(L->qkv.b);
        ADD(L->q.w);
        ADD(L->k.w);
        ADD(L->v.w);
        ADD(L->attn_out.w);
        ADD(L->attn_out.b);
        ADD(L->fc_in.w);
        ADD(L->fc_in.b);
        ADD(L->fc_out.w);
        ADD(L->fc_out.b);
    }
#undef ADD
    return n;
}

#define TPE_MAX_WEIGHTS_PER_LAYER 15

static const char *weight_file(const tpe_model *m, const tpe_weight *w)
{
    size_t at;
    if (w->name && tpe_st_set_find(&m->st, w->name, &at)) return m->st.file_of[at];
    return m->dir;
}

int tpe_model_load(const char *dir, const tpe_model_options *opt_in, tpe_model **out)
{
    tpe_model_options opt;
    tpe_model *m;
    char *cfg_path;
    binder b;
    tpe_weight **ws = NULL;
    size_t nw = 0, i, cap, need = 0;
    int rc;

    *out = NULL;
    if (opt_in) opt = *opt_in;
    else tpe_model_options_default(&opt);
    if (!tpe_is_dir(dir)) return tpe_error(TPE_EIO, "%s: not a directory (a model is a directory with config.json and model.safetensors)", dir);
    m = calloc(1, sizeof *m);
    if (!m) return tpe_error(TPE_ENOMEM, "out of memory");
    memset(&b, 0, sizeof b);
    m->dir = tpe_strdup(dir);
    cfg_path = tpe_path_join(dir, "config.json");
    if (!m->dir || !cfg_path) {
        free(cfg_path);
        tpe_model_free(m);
        return TPE_ENOMEM;
    }
    rc = tpe_read_text(cfg_path, &m->config_text, &m->config_len);
    if (!rc) rc = tpe_config_parse(m->config_text, m->config_len, cfg_path, &m->cfg);
    if (!rc && m->cfg.d_out != m->cfg.d_model) {
        tpe_json_doc *doc = NULL;
        size_t cnt;
        m->head_dims = malloc(m->cfg.d_out * sizeof *m->head_dims);
        if (!m->head_dims) rc = tpe_error(TPE_ENOMEM, "out of memory");
        if (!rc) rc = tpe_json_parse(m->config_text, m->config_len, cfg_path, &doc);
        if (!rc) rc = cfg_head_dims(tpe_json_root(doc), cfg_path, m->cfg.d_model, m->head_dims, &cnt);
        tpe_json_free(doc);
    }
    free(cfg_path);
    if (rc) goto fail;
    if ((rc = tpe_st_set_open_dir(dir, &m->st))) goto fail;
    m->layers = calloc(m->cfg.n_layer, sizeof *m->layers);
    b.used = calloc(m->st.n ? m->st.n : 1, 1);
    if (!m->layers || !b.used) {
        rc = tpe_error(TPE_ENOMEM, "out of memory");
        goto fail;
    }
    b.m = m;
    b.prefix = m->cfg.arch == TPE_ARCH_NEOX ? "gpt_neox." : "transformer.";
    if ((rc = bind_all(m, &b))) goto fail;
    for (i = 0; i < m->st.n; i++)
        if (!b.used[i] && !ignored_buffer(m->st.tensors[i]->name)) {
            rc = tpe_error(TPE_EFORMAT, "%s: unexpected tensor '%s' (not part of a %s model with %zu layers)", m->st.file_of[i],
                           m->st.tensors[i]->name, m->cfg.model_type, m->cfg.n_layer);
            goto fail;
        }

    cap = 8 + TPE_MAX_WEIGHTS_PER_LAYER * m->cfg.n_layer;
    ws = malloc(cap * sizeof *ws);
    if (!ws) {
        rc = tpe_error(TPE_ENOMEM, "out of memory");
        goto fail;
    }
    nw = list_weights(m, ws, cap);
    for (i = 0; i < nw; i++) {
        size_t n = ws[i]->rows * ws[i]->cols;
        m->weight_bytes += n * elem_size(ws[i]->dtype);
        if (!zero_copy_view(ws[i])) need += n * sizeof(float);
        if (opt.check_finite && (rc = check_weight_finite(ws[i], weight_file(m, ws[i])))) goto fail;
    }
    /* Widening policy (docs/formats.md): float copies of everything that
     * cannot be viewed in place, unless they would exceed widen_limit; then
     * only vectors (norms, biases) are widened and matrices stay in storage
     * form, widened one at a time by the fast path. */
    m->storage_form = need > opt.widen_limit;
    for (i = 0; i < nw; i++) {
        if (m->storage_form && ws[i]->rows > 1) {
            ws[i]->f32 = zero_copy_view(ws[i]);
            continue;
        }
        if ((rc = widen(ws[i]))) goto fail;
        if (ws[i]->owned_f32) m->widened_bytes += ws[i]->rows * ws[i]->cols * sizeof(float);
    }
    if (m->cfg.tied) { /* the head shares the embedding's storage and float view */
        m->head_w = m->wte;
        m->head_w.owned_f32 = NULL;
        m->head_w.owned_raw = NULL;
    }
    free(ws);
    free(b.used);
    *out = m;
    return TPE_OK;
fail:
    free(ws);
    free(b.used);
    tpe_model_free(m);
    return rc;
}

void tpe_model_free(tpe_model *m)
{
    size_t l;
    if (!m) return;
    if (m->layers) {
        for (l = 0; l < m->cfg.n_layer; l++) {
            tpe_layer *L = &m->layers[l];
            tpe_weight *all[] = {&L->ln1_w, &L->ln1_b, &L->ln2_w, &L->ln2_b, &L->qkv.w, &L->qkv.b, &L->q.w, &L->k.w,
                                 &L->v.w, &L->attn_out.w, &L->attn_out.b, &L->fc_in.w, &L->fc_in.b, &L->fc_out.w, &L->fc_out.b};
            size_t i;
            for (i = 0; i < sizeof all / sizeof all[0]; i++) weight_free(all[i]);
        }
        free(m->layers);
    }
    weight_free(&m->wte);
    weight_free(&m->wpe);
    weight_free(&m->lnf_w);
    weight_free(&m->lnf_b);
    if (!m->cfg.tied) weight_free(&m->head_w);
    weight_free(&m->head_b);
    tpe_st_set_close(&m->st);
    free(m->head_dims);
    free(m->config_text);
    free(m->dir);
    free(m);
}

const tpe_weight *tpe_model_output_embedding(const tpe_model *m) { return &m->head_w; }
const tpe_weight *tpe_model_input_embedding(const tpe_model *m) { return &m->wte; }
const tpe_weight *tpe_model_head_bias(const tpe_model *m) { return m->head_b.raw ? &m->head_b : NULL; }

int tpe_model_check_ids(const tpe_model *m, const int32_t *ids, size_t n, size_t pos0)
{
    size_t i;
    if (n == 0) return tpe_error(TPE_EINVAL, "no tokens");
    if (pos0 > m->cfg.n_ctx || n > m->cfg.n_ctx - pos0)
        return tpe_error(TPE_EINVAL, "%zu tokens at position %zu exceed the model's %zu positions", n, pos0, m->cfg.n_ctx);
    for (i = 0; i < n; i++)
        if (ids[i] < 0 || (size_t)ids[i] >= m->cfg.n_vocab)
            return tpe_error(TPE_EINVAL, "token id %ld at index %zu is outside the vocabulary [0, %zu)", (long)ids[i], i, m->cfg.n_vocab);
    return TPE_OK;
}

/* ---- edits in memory ------------------------------------------------------------ */
/* A new owned tensor of (rows, cols) from doubles, stored as `store`. */
static int make_owned(tpe_weight *w, const char *name, const double *x, size_t rows, size_t cols, tpe_dtype store)
{
    size_t n = rows * cols, i, esz;
    unsigned char *raw;
    if (!is_weight_dtype(store)) return tpe_error(TPE_EINVAL, "%s: cannot store weights as %s", name, tpe_dtype_name(store));
    if (tpe_check_finite_f64(x, n, cols, name)) return TPE_ENUMERIC;
    for (i = 0; i < n; i++)
        if (store != TPE_F64 && fabs(x[i]) > (double)FLT_MAX) return tpe_error(TPE_ENUMERIC, "%s: element %zu overflows float", name, i);
    esz = elem_size(store);
    memset(w, 0, sizeof *w);
    raw = tpe_alloc_array(n ? n : 1, esz, name);
    if (!raw) return TPE_ENOMEM;
    tpe_st_encode(store, x, n, raw);
    w->name = name;
    w->dtype = store;
    w->ndim = rows > 1 ? 2 : 1;
    w->rows = rows;
    w->cols = cols;
    w->raw = raw;
    w->owned_raw = raw;
    w->replaced = 1;
    return widen(w);
}

static const char *head_name(const tpe_model *m) { return m->cfg.arch == TPE_ARCH_NEOX ? "embed_out.weight" : "lm_head.weight"; }

int tpe_model_set_output_embedding(tpe_model *m, const double *E, const double *bias, tpe_dtype store)
{
    const tpe_model_config *c = &m->cfg;
    tpe_weight nw, nb;
    int rc;
    if (bias && !c->head_bias)
        return tpe_error(TPE_EINVAL, "a %s model has no output bias to replace", c->model_type);
    if ((rc = make_owned(&nw, head_name(m), E, c->n_vocab, c->d_out, store))) return rc;
    if (bias && (rc = make_owned(&nb, "lm_head.bias", bias, 1, c->n_vocab, store))) {
        weight_free(&nw);
        return rc;
    }
    if (!c->tied) weight_free(&m->head_w);
    m->head_w = nw;
    m->cfg.tied = 0;
    if (bias) {
        weight_free(&m->head_b);
        m->head_b = nb;
    }
    return TPE_OK;
}

int tpe_model_set_input_embedding(tpe_model *m, const double *E, tpe_dtype store)
{
    tpe_weight nw;
    int rc = make_owned(&nw, m->cfg.arch == TPE_ARCH_NEOX ? "gpt_neox.embed_in.weight" : "transformer.wte.weight", E,
                        m->cfg.n_vocab, m->cfg.d_model, store);
    if (rc) return rc;
    if (m->cfg.tied) {
        /* the head keeps the old embedding, and now owns it */
        m->head_w = m->wte;
        m->cfg.tied = 0;
    } else {
        weight_free(&m->wte);
    }
    m->wte = nw;
    return TPE_OK;
}

int tpe_model_set_tied_embedding(tpe_model *m, const double *E, tpe_dtype store)
{
    tpe_weight nw;
    int rc;
    if (!m->cfg.tied) return tpe_error(TPE_EINVAL, "the %s model is not tied: set the input and output embeddings separately", m->cfg.model_type);
    rc = make_owned(&nw, m->cfg.arch == TPE_ARCH_NEOX ? "gpt_neox.embed_in.weight" : "transformer.wte.weight", E,
                    m->cfg.n_vocab, m->cfg.d_model, store);
    if (rc) return rc;
    weight_free(&m->wte);
    m->wte = nw;
    /* the head shares the new storage and float view, as at load */
    m->head_w = m->wte;
    m->head_w.owned_f32 = NULL;
    m->head_w.owned_raw = NULL;
    return TPE_OK;
}

int tpe_model_replace_weight(tpe_model *m, tpe_weight *w, const double *x, tpe_dtype store)
{
    tpe_weight nw;
    const char *name = w->name;
    int rc;
    if (!w->raw) return tpe_error(TPE_EINVAL, "replacing a weight the model does not have");
    if (w == &m->wte || w == &m->head_w || w == &m->head_b)
        return tpe_error(TPE_EINVAL, "%s: use tpe_model_set_input_embedding / set_output_embedding", name ? name : "embedding");
    if ((rc = make_owned(&nw, name ? name : "weight", x, w->rows, w->cols, store))) return rc;
    nw.ndim = w->ndim;
    weight_free(w);
    *w = nw;
    return TPE_OK;
}

/* A new owned tensor holding columns keep[0..nkeep) of w (rows, cols), in
 * w's dtype, bytes copied. */
static int subset_columns(tpe_weight *out, const tpe_weight *w, const size_t *keep, size_t nkeep)
{
    size_t esz = elem_size(w->dtype), r, j;
    unsigned char *raw = tpe_alloc_array(w->rows * nkeep, esz, w->name ? w->name : "weight");
    if (!raw) return TPE_ENOMEM;
    for (r = 0; r < w->rows; r++)
        for (j = 0; j < nkeep; j++) memcpy(raw + (r * nkeep + j) * esz, w->raw + (r * w->cols + keep[j]) * esz, esz);
    memset(out, 0, sizeof *out);
    out->name = w->name;
    out->dtype = w->dtype;
    out->ndim = w->ndim;
    out->rows = w->rows;
    out->cols = nkeep;
    out->raw = raw;
    out->owned_raw = raw;
    out->replaced = 1;
    return widen(out);
}

int tpe_model_drop_head_dims(tpe_model *m, const size_t *keep, size_t nkeep)
{
    tpe_model_config *c = &m->cfg;
    tpe_weight nh, ng, nb;
    size_t *dims, i;
    int rc;
    if (c->tied)
        return tpe_error(TPE_EINVAL, "a tied head is the input embedding: dropping its columns would remove them from the "
                         "residual stream, which is not exact (untie the head first)");
    if (nkeep == 0) return tpe_error(TPE_EINVAL, "dropping every dimension of the head leaves no head");
    for (i = 0; i < nkeep; i++)
        if (keep[i] >= c->d_out || (i > 0 && keep[i] <= keep[i - 1]))
            return tpe_error(TPE_EINVAL, "kept dimension %zu: expected strictly ascending indices below %zu", i, c->d_out);
    dims = malloc(nkeep * sizeof *dims);
    if (!dims) return tpe_error(TPE_ENOMEM, "out of memory");
    for (i = 0; i < nkeep; i++) dims[i] = m->head_dims ? m->head_dims[keep[i]] : keep[i];
    if ((rc = subset_columns(&nh, &m->head_w, keep, nkeep))) {
        free(dims);
        return rc;
    }
    if ((rc = subset_columns(&ng, &m->lnf_w, keep, nkeep))) {
        weight_free(&nh);
        free(dims);
        return rc;
    }
    if ((rc = subset_columns(&nb, &m->lnf_b, keep, nkeep))) {
        weight_free(&nh);
        weight_free(&ng);
        free(dims);
        return rc;
    }
    weight_free(&m->head_w);
    weight_free(&m->lnf_w);
    weight_free(&m->lnf_b);
    m->head_w = nh;
    m->lnf_w = ng;
    m->lnf_b = nb;
    free(m->head_dims);
    m->head_dims = nkeep == c->d_model ? NULL : dims;
    if (!m->head_dims) free(dims);
    c->d_out = nkeep;
    return TPE_OK;
}

/* ---- writing a model directory ------------------------------------------------- */
/* config.json re-emitted with tie_word_embeddings set to the current state
 * and tpe_head_dims to the kept head dimensions (dropped when all are kept). */
typedef struct cfg_state {
    int tied;
    const size_t *head_dims; /* NULL: every dimension */
    size_t d_out;
} cfg_state;

static void write_head_dims(tpe_jw *w, const cfg_state *st)
{
    size_t i;
    tpe_jw_key(w, "tpe_head_dims");
    tpe_jw_array(w);
    for (i = 0; i < st->d_out; i++) tpe_jw_int(w, (long long)st->head_dims[i]);
    tpe_jw_array_end(w);
}

static void write_json_value(tpe_jw *w, const tpe_json *v, int top, const cfg_state *st)
{
    size_t i;
    switch (v->type) {
    case TPE_JSON_NULL: tpe_jw_null(w); break;
    case TPE_JSON_FALSE: tpe_jw_bool(w, 0); break;
    case TPE_JSON_TRUE: tpe_jw_bool(w, 1); break;
    case TPE_JSON_NUMBER:
        if (v->is_integer && v->magnitude_exact && v->magnitude <= (uint64_t)1 << 62)
            tpe_jw_int(w, v->is_negative ? -(long long)v->magnitude : (long long)v->magnitude);
        else tpe_jw_number(w, v->number);
        break;
    case TPE_JSON_STRING: tpe_jw_string_n(w, v->str, v->len); break;
    case TPE_JSON_ARRAY:
        tpe_jw_array(w);
        for (i = 0; i < v->count; i++) write_json_value(w, &v->items[i], 0, st);
        tpe_jw_array_end(w);
        break;
    case TPE_JSON_OBJECT: {
        int seen = 0;
        tpe_jw_object(w);
        for (i = 0; i < v->count; i++) {
            if (top && strcmp(v->keys[i], "tpe_head_dims") == 0) continue; /* written below */
            tpe_jw_key(w, v->keys[i]);
            if (top && strcmp(v->keys[i], "tie_word_embeddings") == 0) {
                tpe_jw_bool(w, st->tied);
                seen = 1;
            } else {
                write_json_value(w, &v->items[i], 0, st);
            }
        }
        if (top && !seen) {
            tpe_jw_key(w, "tie_word_embeddings");
            tpe_jw_bool(w, st->tied);
        }
        if (top && st->head_dims) write_head_dims(w, st);
        tpe_jw_object_end(w);
        break;
    }
    }
}

static int write_config(const tpe_model *m, const char *path)
{
    tpe_json_doc *doc;
    tpe_outfile o;
    tpe_jw w;
    cfg_state st;
    int rc = tpe_json_parse(m->config_text, m->config_len, "config.json", &doc);
    if (rc) return rc;
    if ((rc = tpe_out_open(&o, path))) {
        tpe_json_free(doc);
        return rc;
    }
    tpe_jw_init(&w, o.f);
    st.tied = m->cfg.tied;
    st.head_dims = m->head_dims;
    st.d_out = m->cfg.d_out;
    write_json_value(&w, tpe_json_root(doc), 1, &st);
    tpe_jw_end(&w);
    tpe_json_free(doc);
    return tpe_out_commit(&o);
}

static int copy_file(const char *from, const char *to)
{
    tpe_mapping mp;
    tpe_outfile o;
    int rc = tpe_map_file(from, &mp);
    if (rc) return rc;
    if ((rc = tpe_out_open(&o, to))) {
        tpe_unmap_file(&mp);
        return rc;
    }
    if (mp.size) fwrite(mp.data, 1, mp.size, o.f);
    tpe_unmap_file(&mp);
    return tpe_out_commit(&o);
}

int tpe_model_save(const tpe_model *m, const char *dir)
{
    static const char *const tokenizer_files[] = {"vocab.json", "merges.txt", "tokenizer.json", "tokenizer_config.json",
                                                  "special_tokens_map.json", "generation_config.json"};
    const tpe_model_config *c = &m->cfg;
    size_t cap = 8 + TPE_MAX_WEIGHTS_PER_LAYER * c->n_layer, n = 0, i;
    tpe_st_entry *e = NULL;
    char **names = NULL, *p = NULL;
    tpe_weight **ws = NULL;
    tpe_outdir od;
    int rc = TPE_OK;
    const char *prefix = c->arch == TPE_ARCH_NEOX ? "gpt_neox." : "transformer.";

    ws = malloc(cap * sizeof *ws);
    e = calloc(cap, sizeof *e);
    names = calloc(cap, sizeof *names);
    if (!ws || !e || !names) {
        rc = tpe_error(TPE_ENOMEM, "out of memory");
        goto done;
    }
    /* the canonical name of every weight: prefix + its name without a prefix */
    n = list_weights((tpe_model *)(uintptr_t)m, ws, cap);
    for (i = 0; i < n; i++) {
        const tpe_weight *w = ws[i];
        const char *base = w->name;
        size_t k;
        int head = w == &m->head_w || w == &m->head_b;
        /* the head under its own name, also when it was the input embedding
         * before an edit untied it */
        if (w == &m->head_w) base = head_name(m);
        else if (w == &m->head_b) base = "lm_head.bias";
        if (strncmp(base, "transformer.", 12) == 0) base += 12;
        else if (strncmp(base, "gpt_neox.", 9) == 0) base += 9;
        k = strlen(prefix) + strlen(base) + 1;
        names[i] = malloc(k);
        if (!names[i]) {
            rc = tpe_error(TPE_ENOMEM, "out of memory");
            goto done;
        }
        snprintf(names[i], k, "%s%s", head ? "" : prefix, base);
        e[i].name = names[i];
        e[i].dtype = w->dtype;
        e[i].ndim = w->ndim;
        if (w->ndim == 1) e[i].shape[0] = w->cols;
        else e[i].shape[0] = w->rows, e[i].shape[1] = w->cols;
        e[i].data = w->raw;
        e[i].data_is_le = 1;
    }
    if ((rc = tpe_outdir_open(&od, dir))) goto done;
    if (!(p = tpe_outdir_file(&od, "config.json")) || (rc = write_config(m, p))) goto abort;
    free(p);
    if (!(p = tpe_outdir_file(&od, "model.safetensors")) || (rc = tpe_st_write(p, e, n))) goto abort;
    for (i = 0; i < sizeof tokenizer_files / sizeof tokenizer_files[0]; i++) {
        char *from = tpe_path_join(m->dir, tokenizer_files[i]), *to = tpe_outdir_file(&od, tokenizer_files[i]);
        if (!from || !to) rc = TPE_ENOMEM;
        else if (tpe_is_file(from)) rc = copy_file(from, to);
        free(from);
        free(to);
        if (rc) goto abort;
    }
    rc = tpe_outdir_commit(&od);
    goto done;
abort:
    if (!rc) rc = TPE_ENOMEM;
    tpe_outdir_abort(&od);
done:
    free(p);
    if (names)
        for (i = 0; i < cap; i++) free(names[i]);
    free(names);
    free(e);
    free(ws);
    return rc;
}
