/*
 * model_random.c -- a model directory with random weights, for benchmarks
 * and tests: config.json with every field the loader reads, and
 * model.safetensors with the architecture's canonical tensor names. The
 * weights are uniform with standard deviation `scale` (norm gains 1 +
 * uniform with deviation 0.1), drawn from the portable generator (rng.h),
 * so the same seed gives the same bytes on every platform.
 */
#include "model.h"
#include "io.h"
#include "json.h"
#include "outdir.h"
#include "rng.h"
#include "tpe.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void tpe_random_spec_default(tpe_random_spec *r, tpe_arch arch)
{
    memset(r, 0, sizeof *r);
    r->arch = arch;
    /* GPT-2 124M shapes */
    r->n_vocab = 50257;
    r->n_ctx = 1024;
    r->d_model = 768;
    r->n_layer = 12;
    r->n_head = 12;
    r->d_ff = 3072;
    r->rotary_pct = 0.25;
    r->rotary_dim = 32;
    r->rotary_base = 10000.0;
    r->parallel_residual = 1;
    r->tied = arch == TPE_ARCH_GPT2;
    r->dtype = TPE_F32;
    r->seed = 1;
    r->scale = 0.02;
}

static void write_config(FILE *f, const tpe_random_spec *r)
{
    tpe_jw w;
    int neox = r->arch == TPE_ARCH_NEOX;
    tpe_jw_init(&w, f);
    tpe_jw_object(&w);
    tpe_jw_key(&w, "model_type");
    tpe_jw_string(&w, neox ? "gpt_neox" : r->arch == TPE_ARCH_GPTJ ? "gptj" : "gpt2");
    tpe_jw_key(&w, "vocab_size");
    tpe_jw_int(&w, (long long)r->n_vocab);
    tpe_jw_key(&w, neox ? "hidden_size" : "n_embd");
    tpe_jw_int(&w, (long long)r->d_model);
    tpe_jw_key(&w, neox ? "num_attention_heads" : "n_head");
    tpe_jw_int(&w, (long long)r->n_head);
    tpe_jw_key(&w, neox ? "num_hidden_layers" : "n_layer");
    tpe_jw_int(&w, (long long)r->n_layer);
    tpe_jw_key(&w, neox ? "max_position_embeddings" : "n_positions");
    tpe_jw_int(&w, (long long)r->n_ctx);
    tpe_jw_key(&w, neox ? "intermediate_size" : "n_inner");
    tpe_jw_int(&w, (long long)r->d_ff);
    tpe_jw_key(&w, neox ? "layer_norm_eps" : "layer_norm_epsilon");
    tpe_jw_number(&w, 1e-5);
    tpe_jw_key(&w, neox ? "hidden_act" : "activation_function");
    tpe_jw_string(&w, r->act ? r->act : neox ? "gelu" : "gelu_new");
    if (neox) {
        tpe_jw_key(&w, "rotary_pct");
        tpe_jw_number(&w, r->rotary_pct);
        tpe_jw_key(&w, "rotary_emb_base");
        tpe_jw_number(&w, r->rotary_base);
        tpe_jw_key(&w, "use_parallel_residual");
        tpe_jw_bool(&w, r->parallel_residual);
    }
    if (r->arch == TPE_ARCH_GPTJ) {
        tpe_jw_key(&w, "rotary_dim");
        tpe_jw_int(&w, (long long)r->rotary_dim);
    }
    tpe_jw_key(&w, "tie_word_embeddings");
    tpe_jw_bool(&w, r->tied);
    tpe_jw_key(&w, "eos_token_id");
    tpe_jw_int(&w, (long long)r->n_vocab - 1);
    tpe_jw_object_end(&w);
    tpe_jw_end(&w);
}

int tpe_random_model_write(const tpe_random_spec *r, const char *dir)
{
    tpe_model_config cfg;
    tpe_outfile of;
    tpe_outdir od;
    tpe_wspec *specs = NULL;
    tpe_st_entry *e = NULL;
    unsigned char **bufs = NULL;
    char *path = NULL, *text = NULL;
    size_t n = 0, i, k, len;
    tpe_rng rng;
    double block[1024], half_width = r->scale * sqrt(3.0);
    int rc;

    if ((rc = tpe_outdir_open(&od, dir))) return rc;
    /* config.json, read back through the same parser as any model */
    if (!(path = tpe_outdir_file(&od, "config.json"))) goto oom;
    if ((rc = tpe_out_open(&of, path))) goto fail;
    write_config(of.f, r);
    if ((rc = tpe_out_commit(&of))) goto fail;
    if ((rc = tpe_read_text(path, &text, &len))) goto fail;
    if ((rc = tpe_config_parse(text, len, "config.json", &cfg))) goto fail;

    n = tpe_weight_specs(NULL, &cfg, NULL);
    specs = calloc(n, sizeof *specs);
    e = calloc(n, sizeof *e);
    bufs = calloc(n, sizeof *bufs);
    if (!specs || !e || !bufs) goto oom;
    tpe_weight_specs(NULL, &cfg, specs);
    tpe_rng_seed(&rng, r->seed);
    for (i = k = 0; i < n; i++) {
        const tpe_wspec *s = &specs[i];
        size_t count = (s->rows ? s->rows : 1) * s->cols, done = 0, esz = tpe_dtype_size(r->dtype);
        char full[128];
        if (s->kind == 'h' && cfg.tied) continue;
        bufs[k] = tpe_alloc_array(count ? count : 1, esz, s->name);
        if (!bufs[k]) goto oom;
        while (done < count) {
            size_t m = count - done < 1024 ? count - done : 1024, j;
            for (j = 0; j < m; j++) {
                double u = half_width * (2.0 * tpe_rng_uniform(&rng) - 1.0);
                block[j] = s->kind == 'g' ? 1.0 + u * (0.1 / r->scale) : u;
            }
            tpe_st_encode(r->dtype, block, m, bufs[k] + done * esz);
            done += m;
        }
        snprintf(full, sizeof full, "%s%s", s->exact ? "" : cfg.arch == TPE_ARCH_NEOX ? "gpt_neox." : "transformer.", s->name);
        e[k].name = tpe_strdup(full);
        if (!e[k].name) goto oom;
        e[k].dtype = r->dtype;
        e[k].ndim = s->rows ? 2 : 1;
        e[k].shape[0] = s->rows ? s->rows : s->cols;
        e[k].shape[1] = s->cols;
        e[k].data = bufs[k];
        e[k].data_is_le = 1;
        k++;
    }
    free(path);
    if (!(path = tpe_outdir_file(&od, "model.safetensors"))) goto oom;
    if ((rc = tpe_st_write(path, e, k))) goto fail;
    rc = tpe_outdir_commit(&od);
    goto done;
oom:
    rc = tpe_error(TPE_ENOMEM, "out of memory writing a random model");
fail:
    tpe_outdir_abort(&od);
done:
    if (bufs)
        for (i = 0; i < n; i++) tpe_free(bufs[i]);
    if (e)
        for (i = 0; i < n; i++) free((void *)(uintptr_t)e[i].name);
    free(bufs);
    free(e);
    free(specs);
    free(path);
    free(text);
    return rc;
}
