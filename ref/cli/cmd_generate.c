/*
 * cmd_generate.c -- `tpe generate MODEL (--prompt TEXT | --ids "...")
 * [--max-new N] [--temperature T] [--top-k K] [--top-p P] [--seed S]
 * [--precision f32|f64] [--ignore-eos] [--json]`: ancestral sampling
 * (generate.h). The f32 path keeps a KV cache and adds one token per pass;
 * the f64 path reruns the scalar reference on the whole sequence each step.
 */
#include "cli.h"
#include "cpu.h"
#include "generate.h"
#include "io.h"
#include "json.h"
#include "model.h"
#include "runtime_cli.h"
#include "tokenizer.h"
#include "tpe.h"
#include "unicode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tpe_cmd_generate(int argc, char **argv)
{
    const char *prompt = NULL, *ids_s = NULL, *prec = "f32";
    size_t max_new = 32, top_k = 0, seed = 0, npos, n = 0, cap, i, n_prompt;
    double temperature = 1.0, top_p = 1.0;
    int ignore_eos = 0, json = 0, f64, rc;
    const tpe_opt opts[] = {
        {"--prompt", TPE_OPT_STR, &prompt, "TEXT", "prompt text (needs the model's tokenizer)"},
        {"--ids", TPE_OPT_STR, &ids_s, "\"i0 i1 ...\"", "prompt as token ids"},
        {"--max-new", TPE_OPT_SIZE, &max_new, "N", "tokens to generate (default 32)"},
        {"--temperature", TPE_OPT_F64, &temperature, "T", "softmax temperature; 0 is greedy (default 1)"},
        {"--top-k", TPE_OPT_SIZE, &top_k, "K", "sample among the K most likely tokens (default 0: all)"},
        {"--top-p", TPE_OPT_F64, &top_p, "P", "nucleus: the most likely tokens holding mass P (default 1: all)"},
        {"--seed", TPE_OPT_SIZE, &seed, "S", "seed of the portable generator (default 0)"},
        {"--precision", TPE_OPT_STR, &prec, "f32|f64", "f32: fast path with KV cache (default); f64: reference"},
        {"--ignore-eos", TPE_OPT_FLAG, &ignore_eos, NULL, "keep going after the end-of-text token"},
        {"--json", TPE_OPT_FLAG, &json, NULL, "one JSON object on stdout"},
    };
    const tpe_cmdspec spec = {"generate", "MODEL", "Sample a continuation (temperature, top-k, top-p, seeded).",
                              "Order: temperature, top-k, softmax, top-p, then one uniform draw from the\n"
                              "portable generator (xoshiro256**), walking the kept tokens (docs/formats.md).\n"
                              "Stops after --max-new tokens, at the config's eos_token_id, or when the context\n"
                              "is full.",
                              opts, TPE_NOPTS(opts), 1, 1};
    char *pos[1];
    tpe_model *m = NULL;
    tpe_tokenizer *tok = NULL;
    tpe_sampler *smp = NULL;
    tpe_runtime *rt = NULL;
    tpe_sampling sp;
    int32_t *ids = NULL, next;
    float *h32 = NULL, *l32 = NULL;
    double *h64 = NULL, *l64 = NULL;
    char *text = NULL;
    size_t tlen = 0, C, V, P;
    const char *stopped = "max_new";
    tpe_progress bar;
    memset(&bar, 0, sizeof bar);
    if ((rc = tpe_cli_parse(&spec, argc, argv, pos, &npos))) return rc < 0 ? 0 : rc;
    if (!prompt == !ids_s) return tpe_cli_usage(spec.cmd, "give exactly one of --prompt and --ids");
    if ((f64 = tpe_cli_precision(prec)) < 0) return tpe_cli_usage(spec.cmd, "--precision must be f32 or f64, got '%s'", prec);
    sp.temperature = temperature;
    sp.top_k = top_k;
    sp.top_p = top_p;
    if (!(temperature >= 0.0)) return tpe_cli_usage(spec.cmd, "--temperature must be >= 0");
    if (!(top_p > 0.0 && top_p <= 1.0)) return tpe_cli_usage(spec.cmd, "--top-p must be in (0, 1]");
    if (ids_s && tpe_parse_ids(ids_s, "--ids", &ids, &n)) return tpe_cli_usage(spec.cmd, "%s", tpe_errmsg());
    if (ids_s && n == 0) {
        free(ids);
        return tpe_cli_usage(spec.cmd, "--ids holds no token ids");
    }
    if ((rc = tpe_cli_load_model(pos[0], &m))) goto fail;
    C = m->cfg.d_out; /* the width of the final hidden states */
    V = m->cfg.n_vocab;
    P = m->cfg.n_ctx;
    if (prompt) {
        size_t plen = strlen(prompt), bad = tpe_utf8_check((const unsigned char *)prompt, plen);
        int32_t *pids;
        if (bad != plen) {
            tpe_error(TPE_EINVAL, "--prompt: invalid UTF-8 at byte %zu", bad);
            goto fail;
        }
        if ((rc = tpe_tokenizer_load(pos[0], &tok))) goto fail;
        if ((rc = tpe_tokenizer_encode(tok, prompt, plen, &pids, &n))) goto fail;
        ids = pids;
        if (n == 0) {
            tpe_error(TPE_EINVAL, "--prompt gives no tokens");
            goto fail;
        }
    } else if (tpe_tokenizer_load(pos[0], &tok) != TPE_OK) {
        tok = NULL; /* ids in, ids out */
    }
    n_prompt = n;
    if ((rc = tpe_model_check_ids(m, ids, n, 0))) goto fail;
    cap = n + max_new;
    {
        int32_t *grown = realloc(ids, (cap ? cap : 1) * sizeof *ids);
        if (!grown) {
            tpe_error(TPE_ENOMEM, "out of memory");
            goto fail;
        }
        ids = grown;
    }
    if ((rc = tpe_sampler_new(V, &sp, (uint64_t)seed, &smp))) goto fail;
    if (!f64) {
        if ((rc = tpe_runtime_new(m, n, 1, &rt))) goto fail;
        h32 = tpe_alloc_array(n * C, sizeof *h32, "hidden states");
        l32 = tpe_alloc_array(V, sizeof *l32, "logits");
        if (!h32 || !l32) goto fail;
    }
    tpe_progress_begin(&bar, "generate", (double)max_new);
    for (i = 0; i < max_new; i++) {
        tpe_progress_update(&bar, (double)i);
        if (n >= P) {
            stopped = "context";
            break;
        }
        if (f64) {
            tpe_free(h64);
            tpe_free(l64);
            h64 = tpe_alloc_array(n * C, sizeof *h64, "hidden states");
            l64 = tpe_alloc_array(n * V, sizeof *l64, "logits");
            if (!h64 || !l64) goto fail;
            if ((rc = tpe_forward_ref(m, ids, n, h64, l64, NULL))) goto fail;
            rc = tpe_sampler_next(smp, NULL, l64 + (n - 1) * V, &next);
        } else {
            size_t done = tpe_runtime_pos(rt);
            if ((rc = tpe_forward(rt, ids + done, n - done, h32, NULL))) goto fail;
            if ((rc = tpe_forward_logits(rt, h32 + (n - done - 1) * C, 1, l32))) goto fail;
            rc = tpe_sampler_next(smp, l32, NULL, &next);
        }
        if (rc) goto fail;
        ids[n++] = next;
        if (!ignore_eos && m->cfg.eos_token_id >= 0 && next == m->cfg.eos_token_id) {
            stopped = "eos";
            break;
        }
    }
    tpe_progress_end(&bar);
    if (tok && (rc = tpe_tokenizer_decode(tok, ids, n, &text, &tlen))) goto fail;
    if (json) {
        tpe_jw w;
        long long *v = malloc((n ? n : 1) * sizeof *v);
        if (!v) {
            tpe_error(TPE_ENOMEM, "out of memory");
            goto fail;
        }
        for (i = 0; i < n; i++) v[i] = ids[i];
        tpe_jw_init(&w, stdout);
        tpe_jw_object(&w);
        tpe_jw_key(&w, "prompt_ids");
        tpe_jw_ints(&w, v, n_prompt);
        tpe_jw_key(&w, "ids");
        tpe_jw_ints(&w, v + n_prompt, n - n_prompt);
        if (text) {
            tpe_jw_key(&w, "text");
            tpe_jw_string_n(&w, text, tlen);
        }
        tpe_jw_key(&w, "stopped");
        tpe_jw_string(&w, stopped);
        tpe_jw_key(&w, "precision");
        tpe_jw_string(&w, f64 ? "f64" : "f32");
        tpe_jw_key(&w, "seed");
        tpe_jw_int(&w, (long long)seed);
        tpe_jw_object_end(&w);
        tpe_jw_end(&w);
        free(v);
    } else if (text) {
        fwrite(text, 1, tlen, stdout);
        putchar('\n');
    } else {
        for (i = n_prompt; i < n; i++) printf("%s%ld", i > n_prompt ? " " : "", (long)ids[i]);
        putchar('\n');
    }
    free(text);
    tpe_free(h32);
    tpe_free(l32);
    tpe_free(h64);
    tpe_free(l64);
    tpe_runtime_free(rt);
    tpe_sampler_free(smp);
    tpe_tokenizer_free(tok);
    tpe_model_free(m);
    free(ids);
    return 0;
fail:
    if (bar.enabled && bar.drawn) fputc('\n', stderr); /* the error goes on its own line */
    free(text);
    tpe_free(h32);
    tpe_free(l32);
    tpe_free(h64);
    tpe_free(l64);
    tpe_runtime_free(rt);
    tpe_sampler_free(smp);
    tpe_tokenizer_free(tok);
    tpe_model_free(m);
    free(ids);
    return tpe_cli_fail(spec.cmd);
}
