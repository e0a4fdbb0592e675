/*
 * cmd_random_model.c -- `tpe random-model DIR [--type ...] [sizes] [--json]`:
 * a model directory with random weights (GPT-2-124M shapes by default), for
 * benchmarks (`tpe bench forward`) and tests.
 */
#include "array.h"
#include "cli.h"
#include "json.h"
#include "model.h"
#include "tpe.h"

#include <stdio.h>
#include <string.h>

int tpe_cmd_random_model(int argc, char **argv)
{
    const char *type = "gpt2", *dtype = "f32", *act = NULL;
    size_t vocab = 0, ctx = 0, width = 0, layers = 0, heads = 0, inner = 0, rdim = 0, seed = 1;
    double rpct = -1.0, rbase = 0.0, scale = 0.0;
    int sequential = 0, tied = 0, untied = 0, json = 0, rc;
    const tpe_opt opts[] = {
        {"--type", TPE_OPT_STR, &type, "gpt2|gpt_neox|gptj", "architecture (default gpt2)"},
        {"--vocab", TPE_OPT_SIZE, &vocab, "V", "vocabulary (default 50257)"},
        {"--ctx", TPE_OPT_SIZE, &ctx, "P", "positions (default 1024)"},
        {"--width", TPE_OPT_SIZE, &width, "C", "model width (default 768)"},
        {"--layers", TPE_OPT_SIZE, &layers, "L", "layers (default 12)"},
        {"--heads", TPE_OPT_SIZE, &heads, "H", "attention heads (default 12)"},
        {"--inner", TPE_OPT_SIZE, &inner, "F", "MLP width (default 4C)"},
        {"--rotary-pct", TPE_OPT_F64, &rpct, "X", "gpt_neox: rotated fraction of each head (default 0.25)"},
        {"--rotary-base", TPE_OPT_F64, &rbase, "B", "gpt_neox: rotary base (default 10000)"},
        {"--rotary-dim", TPE_OPT_SIZE, &rdim, "R", "gptj: rotated dimensions per head (default D/2)"},
        {"--sequential", TPE_OPT_FLAG, &sequential, NULL, "gpt_neox: use_parallel_residual false"},
        {"--tied", TPE_OPT_FLAG, &tied, NULL, "tie the head to the input embedding (default for gpt2)"},
        {"--untied", TPE_OPT_FLAG, &untied, NULL, "separate head (default for gpt_neox, gptj)"},
        {"--act", TPE_OPT_STR, &act, "NAME", "activation (default gelu_new; gelu for gpt_neox)"},
        {"--dtype", TPE_OPT_STR, &dtype, "f32|f16|bf16|f64", "storage dtype (default f32)"},
        {"--seed", TPE_OPT_SIZE, &seed, "S", "random seed (default 1)"},
        {"--scale", TPE_OPT_F64, &scale, "X", "standard deviation of the weights (default 0.02)"},
        {"--json", TPE_OPT_FLAG, &json, NULL, "one JSON object on stdout"},
    };
    const tpe_cmdspec spec = {"random-model", "DIR", "Write a model directory with random weights.",
                              "config.json + model.safetensors with the architecture's canonical tensor names;\n"
                              "weights uniform from the portable generator (same seed, same bytes everywhere).\n"
                              "DIR must not exist. The defaults are GPT-2-124M's shapes.",
                              opts, TPE_NOPTS(opts), 1, 1};
    char *pos[1];
    size_t npos;
    tpe_random_spec r;
    tpe_arch arch;
    if ((rc = tpe_cli_parse(&spec, argc, argv, pos, &npos))) return rc < 0 ? 0 : rc;
    if (strcmp(type, "gpt2") == 0) arch = TPE_ARCH_GPT2;
    else if (strcmp(type, "gpt_neox") == 0) arch = TPE_ARCH_NEOX;
    else if (strcmp(type, "gptj") == 0) arch = TPE_ARCH_GPTJ;
    else return tpe_cli_usage(spec.cmd, "--type must be gpt2, gpt_neox or gptj, got '%s'", type);
    if (tied && untied) return tpe_cli_usage(spec.cmd, "--tied and --untied exclude each other");
    tpe_random_spec_default(&r, arch);
    if (vocab) r.n_vocab = vocab;
    if (ctx) r.n_ctx = ctx;
    if (width) r.d_model = width;
    if (layers) r.n_layer = layers;
    if (heads) r.n_head = heads;
    r.d_ff = inner ? inner : 4 * r.d_model;
    if (rpct >= 0.0) r.rotary_pct = rpct;
    if (rbase > 0.0) r.rotary_base = rbase;
    r.rotary_dim = rdim ? rdim : (r.d_model / (r.n_head ? r.n_head : 1)) / 2;
    if (sequential) r.parallel_residual = 0;
    if (tied) r.tied = 1;
    if (untied) r.tied = 0;
    r.act = act;
    r.seed = seed;
    if (scale > 0.0) r.scale = scale;
    if (strcmp(dtype, "f32") == 0) r.dtype = TPE_F32;
    else if (strcmp(dtype, "f16") == 0) r.dtype = TPE_F16;
    else if (strcmp(dtype, "bf16") == 0) r.dtype = TPE_BF16;
    else if (strcmp(dtype, "f64") == 0) r.dtype = TPE_F64;
    else return tpe_cli_usage(spec.cmd, "--dtype must be f32, f16, bf16 or f64, got '%s'", dtype);
    if (!r.n_head || r.d_model % r.n_head) return tpe_cli_usage(spec.cmd, "--width must be a multiple of --heads");
    if ((rc = tpe_random_model_write(&r, pos[0]))) return tpe_cli_fail(spec.cmd);
    if (json) {
        tpe_jw w;
        tpe_jw_init(&w, stdout);
        tpe_jw_object(&w);
        tpe_jw_key(&w, "dir");
        tpe_jw_string(&w, pos[0]);
        tpe_jw_key(&w, "model_type");
        tpe_jw_string(&w, type);
        tpe_jw_key(&w, "dtype");
        tpe_jw_string(&w, dtype);
        tpe_jw_object_end(&w);
        tpe_jw_end(&w);
    } else {
        printf("%s: random %s model (%zu layers, width %zu, %zu heads, vocab %zu, %s)\n", pos[0], type, r.n_layer, r.d_model,
               r.n_head, r.n_vocab, dtype);
    }
    return 0;
}
