/*
 * model.h -- one description of a decoder-only transformer (GPT-2,
 * GPT-NeoX, GPT-J) read from a Hugging Face model directory, and the two
 * forward passes over it:
 *
 *   tpe_forward_ref  the scalar reference (forward_ref.c): plain loops in
 *                    double that read next to the equations; the oracle.
 *   tpe_forward      the fast path (forward.c): every position at once,
 *                    GEMM-based, float, causal attention, KV cache.
 *
 * Legend used in every shape comment:
 *   T tokens in the call, C = d_model, H heads, D = C / H head size,
 *   F = d_ff (MLP width), V vocabulary, P maximum positions, L layers.
 *
 * The three architectures, as Hugging Face transformers 4.29.2 computes
 * them (x is the residual stream, (T, C)):
 *
 *   GPT-2     x = wte[ids] + wpe[pos]
 *             a = attn(ln_1(x));  x = x + a
 *             x = x + mlp(ln_2(x))                         (pre-LN, sequential)
 *             logits = ln_f(x) wte^T                       (tied head)
 *   GPT-NeoX  x = embed_in[ids]            rotary (rotate-half) on the first
 *             parallel:   x = x + attn(ln_in(x)) + mlp(ln_post(x))
 *             sequential: x = x + attn(ln_in(x)); x = x + mlp(ln_post(x))
 *             logits = final_layer_norm(x) embed_out^T     (untied)
 *   GPT-J     x = wte[ids]                 rotary (every-two) on rotary_dim
 *             h = ln_1(x);  x = x + attn(h) + mlp(h)       (one norm, parallel)
 *             logits = ln_f(x) lm_head^T + lm_head.bias
 *
 *   attn(h) = concat_heads( softmax(q k^T * scale + causal mask) v ) W_o + b_o
 *   mlp(h)  = act(h W_in + b_in) W_out + b_out
 */
#ifndef TPE_MODEL_H
#define TPE_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "array.h"
#include "safetensors.h"

typedef enum tpe_arch { TPE_ARCH_GPT2 = 0, TPE_ARCH_NEOX = 1, TPE_ARCH_GPTJ = 2 } tpe_arch;

/* MLP activations, named as in transformers' ACT2FN. */
typedef enum tpe_act {
    TPE_ACT_GELU_NEW,   /* 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))        */
    TPE_ACT_GELU,       /* 0.5 x (1 + erf(x / sqrt 2))  (exact)                   */
    TPE_ACT_GELU_FAST,  /* 0.5 x (1 + tanh(0.7978845608 x (1 + 0.044715 x^2)))     */
    TPE_ACT_RELU,       /* max(x, 0)                                               */
    TPE_ACT_SILU,       /* x sigmoid(x)                                            */
    TPE_ACT_QUICK_GELU  /* x sigmoid(1.702 x)                                      */
} tpe_act;

/* Rotary position embedding (Su et al., RoFormer) variants. */
typedef enum tpe_rotary {
    TPE_ROTARY_NONE,        /* GPT-2: learned absolute positions             */
    TPE_ROTARY_HALF,        /* GPT-NeoX: pairs (i, i + r/2), "rotate_half"   */
    TPE_ROTARY_INTERLEAVED  /* GPT-J: pairs (2i, 2i + 1), "rotate_every_two" */
} tpe_rotary;

/* Where q, k and v of head h sit in the (T, 3C) output of the fused
 * projection: column = off + h * head_stride + d, with off = 0, k_off, v_off. */
typedef enum tpe_qkv_layout {
    TPE_QKV_BLOCKS,   /* GPT-2 c_attn, and GPT-J's three projections: [Q | K | V]  */
    TPE_QKV_PER_HEAD  /* GPT-NeoX query_key_value: per head [q_h | k_h | v_h]     */
} tpe_qkv_layout;

typedef struct tpe_model_config {
    tpe_arch arch;
    const char *model_type;   /* "gpt2", "gpt_neox", "gptj"                        */
    size_t n_vocab;           /* V                                                 */
    size_t n_ctx;             /* P: n_positions / max_position_embeddings           */
    size_t d_model;           /* C                                                 */
    size_t n_layer;           /* L                                                 */
    size_t n_head;            /* H                                                 */
    size_t d_head;            /* D = C / H                                         */
    size_t d_ff;              /* F: n_inner / intermediate_size (4C when null)      */
    double ln_eps;            /* layer_norm_epsilon / layer_norm_eps               */
    tpe_act act;
    const char *act_name;     /* as in config.json                                 */
    tpe_rotary rotary;
    size_t rotary_dim;        /* rotated dimensions of each head (even, <= D)       */
    double rotary_base;       /* theta_i = base^(-2i / rotary_dim)                  */
    int parallel_residual;    /* NeoX use_parallel_residual; GPT-J always          */
    int shared_norm;          /* GPT-J: attention and MLP both read ln_1            */
    int tied;                 /* the head is the input embedding                   */
    int head_bias;            /* GPT-J lm_head.bias                                */
    int attn_bias;            /* q/k/v and output projections have biases          */
    int scale_attn;           /* GPT-2 scale_attn_weights: scores / sqrt(D)        */
    int scale_by_layer;       /* GPT-2 scale_attn_by_inverse_layer_idx: / (l + 1)  */
    tpe_qkv_layout qkv_layout;
    long long eos_token_id;   /* -1 when absent                                    */
    size_t d_out;             /* width of the final norm's output and of the head:
                                 d_model, or fewer after `tpe prune --drop`
                                 (config.json "tpe_head_dims", docs/formats.md)   */
} tpe_model_config;

/* One stored tensor, viewed as a (rows, cols) matrix (a vector has rows 1). */
typedef struct tpe_weight {
    const char *name;          /* name in the checkpoint (NULL when absent)        */
    tpe_dtype dtype;           /* storage dtype: F16, BF16, F32 or F64             */
    int ndim;                  /* 1 (a vector) or 2 as stored                      */
    size_t rows, cols;
    const unsigned char *raw;  /* rows*cols elements, little-endian storage bytes  */
    const float *f32;          /* native float copy or zero-copy view, or NULL     */
    void *owned_raw;           /* raw, when the tensor was replaced in memory      */
    void *owned_f32;           /* f32, when widened/converted at load              */
    int replaced;              /* 1 after tpe_model_set_*                          */
} tpe_weight;

/* y = x W + b. w_in_out: W stored (in, out) (GPT-2's Conv1D); otherwise
 * stored (out, in) (torch.nn.Linear) and y = x W^T + b. */
typedef struct tpe_linear {
    tpe_weight w, b;           /* b.raw == NULL: no bias                           */
    size_t in, out;
    int w_in_out;
} tpe_linear;

typedef struct tpe_layer {
    tpe_weight ln1_w, ln1_b;   /* (C): ln_1 / input_layernorm                      */
    tpe_weight ln2_w, ln2_b;   /* (C): ln_2 / post_attention_layernorm (not GPT-J) */
    tpe_linear qkv;            /* C -> 3C fused (GPT-2, NeoX)                      */
    tpe_linear q, k, v;        /* C -> C each (GPT-J)                              */
    tpe_linear attn_out;       /* C -> C                                           */
    tpe_linear fc_in;          /* C -> F                                           */
    tpe_linear fc_out;         /* F -> C                                           */
} tpe_layer;

typedef struct tpe_model {
    tpe_model_config cfg;
    char *dir;                 /* where it was loaded from                         */
    char *config_text;         /* config.json as read                              */
    size_t config_len;
    tpe_st_set st;             /* the mapped checkpoint                            */
    tpe_weight wte;            /* (V, C) input embedding                           */
    tpe_weight wpe;            /* (P, C) GPT-2 learned positions                   */
    tpe_weight lnf_w, lnf_b;   /* (C) final norm                                   */
    tpe_weight head_w;         /* (V, C) output embedding E^(o) (== wte when tied) */
    tpe_weight head_b;         /* (V) GPT-J only                                   */
    tpe_layer *layers;         /* L                                                */
    int storage_form;          /* 1: large matrices stay F16/BF16/F64 and are
                                  widened matrix by matrix during each pass      */
    size_t weight_bytes;       /* bytes of every weight as stored                  */
    size_t widened_bytes;      /* bytes of float copies made at load               */
    size_t *head_dims;         /* (d_out) the residual dimensions the final norm
                                  outputs and the head reads, ascending; NULL when
                                  they are all d_model of them                     */
} tpe_model;

typedef struct tpe_model_options {
    /* Widen F16/BF16/F64 weights to float at load when the copies take at most
     * this many bytes; otherwise keep them in storage form and widen each
     * matrix just before it is used. SIZE_MAX: always widen; 0: never.
     * tpe_model_options_default() reads TPE_WIDEN_LIMIT_MB (default 4096). */
    size_t widen_limit;
    /* Check every weight for NaN/Inf at load (default 1). */
    int check_finite;
} tpe_model_options;

void tpe_model_options_default(tpe_model_options *o);

/* Parse config.json text into cfg (strings in cfg point into static tables). */
int tpe_config_parse(const char *text, size_t len, const char *name, tpe_model_config *cfg);

/* Load DIR (config.json + model.safetensors or the index and shards). */
int tpe_model_load(const char *dir, const tpe_model_options *opt, tpe_model **out);
void tpe_model_free(tpe_model *m);

/* ---- access for later analyses -------------------------------------------- */
/* Whole tensor widened to double / float (rows*cols elements). */
int tpe_weight_to_f64(const tpe_weight *w, double *out);
int tpe_weight_to_f32(const tpe_weight *w, float *out);
/* Rows [r0, r0 + nr) as float: returns w->f32 + r0*cols when a float view
 * exists, else converts into scratch (nr*cols floats) and returns scratch. */
const float *tpe_weight_rows_f32(const tpe_weight *w, size_t r0, size_t nr, float *scratch);

/* The output embedding E^(o) (V, C), the input embedding (V, C) and the
 * head bias (V; NULL when the model has none). */
const tpe_weight *tpe_model_output_embedding(const tpe_model *m);
const tpe_weight *tpe_model_input_embedding(const tpe_model *m);
const tpe_weight *tpe_model_head_bias(const tpe_model *m);

/* Replace the head (E (V, d_out), bias (V) or NULL to keep/omit it) or the input
 * embedding in memory, stored as `store` (F32 or F64; F16/BF16 round to
 * nearest even). Replacing one side of a tied model unties it. */
int tpe_model_set_output_embedding(tpe_model *m, const double *E, const double *bias, tpe_dtype store);
int tpe_model_set_input_embedding(tpe_model *m, const double *E, tpe_dtype store);

/* Replace the one matrix of a tied model (input embedding and head at once),
 * keeping it tied; an error for an untied model. */
int tpe_model_set_tied_embedding(tpe_model *m, const double *E, tpe_dtype store);
/* Replace any other weight w of m (a norm, a bias, a layer matrix) in memory
 * with x (w->rows * w->cols values), stored as `store`; the name and shape
 * stay. (Tests build models with exactly known behaviour this way.) */
int tpe_model_replace_weight(tpe_model *m, tpe_weight *w, const double *x, tpe_dtype store);

/*
 * Physically remove dimensions from the output side (Cho et al. 2024, Sec. 4,
 * `tpe prune --drop`): keep only the columns keep[0..nkeep) (strictly
 * ascending indices into the current d_out columns) of the head and of the
 * final norm's gain and shift. The final norm still normalizes over all
 * d_model dimensions of the residual stream and outputs only the kept ones,
 * so the logits equal those of the model with the other columns of E^(o)
 * zeroed. Exact for an untied head only: in a tied model the head is the
 * input embedding, whose columns every layer reads through the residual
 * stream (error; untie first with tpe_model_set_output_embedding). Stored
 * bytes are copied, so every dtype stays exact. cfg.d_out becomes nkeep and
 * head_dims the kept residual dimensions.
 */
int tpe_model_drop_head_dims(tpe_model *m, const size_t *keep, size_t nkeep);

/* Write the model as a new directory: config.json (the original, with
 * tie_word_embeddings updated) + model.safetensors (every weight in its
 * current dtype, names with the architecture's prefix), plus the tokenizer
 * files of the source directory. Written to DIR.tmp.<pid> and renamed:
 * whole or nothing. DIR must not exist (or be an empty directory). */
int tpe_model_save(const tpe_model *m, const char *dir);

/* The checkpoint tensors a config calls for (names without the
 * "transformer." / "gpt_neox." prefix, except the head's, which is exact).
 * kind: 'w' matrix, 'h' head matrix (absent when tied), 'g' norm gain,
 * 'b' bias or norm shift. rows 0: a vector of cols. With m, slot points at
 * the model's field; s NULL just counts. Returns the count. */
typedef struct tpe_wspec {
    char name[96];
    int exact;
    size_t rows, cols;
    char kind;
    tpe_weight *slot;
} tpe_wspec;
size_t tpe_weight_specs(tpe_model *m, const tpe_model_config *c, tpe_wspec *s);

/* ---- random models (model_random.c) ---------------------------------------- */
typedef struct tpe_random_spec {
    tpe_arch arch;
    size_t n_vocab, n_ctx, d_model, n_layer, n_head, d_ff;
    double rotary_pct;       /* GPT-NeoX                                  */
    size_t rotary_dim;       /* GPT-J                                     */
    double rotary_base;      /* GPT-NeoX                                  */
    int parallel_residual;   /* GPT-NeoX                                  */
    int tied;
    const char *act;         /* NULL: gelu_new (GPT-2, GPT-J), gelu (NeoX) */
    tpe_dtype dtype;         /* storage: F32, F16, BF16 or F64            */
    uint64_t seed;
    double scale;            /* standard deviation of the weights         */
} tpe_random_spec;
/* GPT-2-124M shapes (V 50257, P 1024, C 768, 12 layers, 12 heads, F 3072). */
void tpe_random_spec_default(tpe_random_spec *r, tpe_arch arch);
/* Write config.json + model.safetensors to a new directory (whole or nothing). */
int tpe_random_model_write(const tpe_random_spec *r, const char *dir);

/* Check token ids: 0 <= id < V and 1 <= n <= P - pos0. */
int tpe_model_check_ids(const tpe_model *m, const int32_t *ids, size_t n, size_t pos0);

/* ---- tracing intermediates ------------------------------------------------ */
/* Both passes report every intermediate tensor to `emit` when a trace is
 * given (names and shapes in docs/formats.md). data is float (F32) or
 * double (F64), C order. A non-zero return stops the pass with that status. */
typedef struct tpe_trace {
    int (*emit)(void *ctx, const char *name, tpe_dtype dtype, int ndim, const size_t *shape, const void *data);
    void *ctx;
} tpe_trace;

/* ---- the scalar reference (forward_ref.c) --------------------------------- */
/* hidden: (T, d_out) final hidden states after the last norm (may be NULL);
 * logits: (T, V) (may be NULL). Positions 0..T-1. */
int tpe_forward_ref(const tpe_model *m, const int32_t *ids, size_t T, double *hidden, double *logits,
                    const tpe_trace *trace);

/* ---- the fast path (forward.c) -------------------------------------------- */
typedef struct tpe_runtime tpe_runtime;

/* Scratch for calls of up to max_tokens tokens; with use_cache, a KV cache
 * for P positions so that successive calls continue one sequence. */
int tpe_runtime_new(const tpe_model *m, size_t max_tokens, int use_cache, tpe_runtime **out);
void tpe_runtime_free(tpe_runtime *rt);
/* Forget the cached sequence (next call starts at position 0). */
void tpe_runtime_reset(tpe_runtime *rt);
/* Tokens already in the cache. */
size_t tpe_runtime_pos(const tpe_runtime *rt);

/* Forward T tokens: hidden (T, d_out) after the final norm (d_out = C unless
 * head dimensions were dropped, tpe_model_drop_head_dims). Without a cache the
 * tokens are positions 0..T-1; with one they continue the cached sequence. */
int tpe_forward(tpe_runtime *rt, const int32_t *ids, size_t T, float *hidden, const tpe_trace *trace);
/* logits (T, V) = hidden E^(o)T + b, float (hidden (T, d_out)). The hidden states were checked
 * finite by tpe_forward and the weights at load; callers that need it check
 * the logits (a product of finite floats can still overflow). */
int tpe_forward_logits(tpe_runtime *rt, const float *hidden, size_t T, float *logits);
/* The same logits transposed: logits_t (V, T) = E^(o) hidden^T + b, the
 * faster orientation for many positions (probe.c). */
int tpe_forward_logits_t(tpe_runtime *rt, const float *hidden, size_t T, float *logits_t);

#endif
