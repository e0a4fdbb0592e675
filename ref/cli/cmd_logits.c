/*
 * cmd_logits.c -- `tpe logits MODEL --ids "i0 i1 ..." --out L.npy
 * [--precision f32|f64] [--hidden H.npy] [--json]`: one forward pass.
 * f32 is the fast path; f64 the scalar reference in double (the oracle).
 */
#include "array.h"
#include "cli.h"
#include "cpu.h"
#include "json.h"
#include "model.h"
#include "runtime_cli.h"
#include "tpe.h"

#include <stdio.h>
#include <stdlib.h>

int tpe_cmd_logits(int argc, char **argv)
{
    const char *ids_s = NULL, *out = NULL, *prec = "f32", *hid = NULL;
    int json = 0;
    const tpe_opt opts[] = {
        {"--ids", TPE_OPT_STR, &ids_s, "\"i0 i1 ...\"", "token ids (required)"},
        {"--out", TPE_OPT_STR, &out, "L.npy", "logits, shape (T, V): <f4 with f32, <f8 with f64 (required)"},
        {"--precision", TPE_OPT_STR, &prec, "f32|f64", "f32: fast path (default); f64: scalar reference in double"},
        {"--hidden", TPE_OPT_STR, &hid, "H.npy", "also write the final hidden states (T, C) after the last norm"},
        {"--json", TPE_OPT_FLAG, &json, NULL, "one JSON object on stdout"},
    };
    const tpe_cmdspec spec = {"logits", "MODEL", "One forward pass: the logits of every position.",
                              "MODEL is a Hugging Face model directory (config.json + model.safetensors or\n"
                              "model.safetensors.index.json; model_type gpt2, gpt_neox or gptj). Positions are\n"
                              "0..T-1. TPE_SIMD picks the kernel path of the f32 pass.",
                              opts, TPE_NOPTS(opts), 1, 1};
    char *pos[1];
    size_t npos, T = 0, C, V;
    int32_t *ids = NULL;
    tpe_model *m = NULL;
    int f64, rc = tpe_cli_parse(&spec, argc, argv, pos, &npos);
    void *L = NULL, *Hd = NULL;
    if (rc) return rc < 0 ? 0 : rc;
    if (!ids_s) return tpe_cli_usage(spec.cmd, "--ids is required");
    if (!out) return tpe_cli_usage(spec.cmd, "--out is required");
    if ((f64 = tpe_cli_precision(prec)) < 0) return tpe_cli_usage(spec.cmd, "--precision must be f32 or f64, got '%s'", prec);
    if (tpe_parse_ids(ids_s, "--ids", &ids, &T)) {
        tpe_cli_usage(spec.cmd, "%s", tpe_errmsg());
        return 2;
    }
    if (T == 0) {
        free(ids);
        return tpe_cli_usage(spec.cmd, "--ids holds no token ids");
    }
    if ((rc = tpe_cli_load_model(pos[0], &m))) goto fail;
    C = m->cfg.d_out; /* the width of the final hidden states */
    V = m->cfg.n_vocab;
    if ((rc = tpe_model_check_ids(m, ids, T, 0))) goto fail;
    if (f64) {
        L = tpe_alloc_array(T * V, sizeof(double), "logits");
        Hd = tpe_alloc_array(T * C, sizeof(double), "hidden states");
        if (!L || !Hd) {
            rc = TPE_ENOMEM;
            goto fail;
        }
        if ((rc = tpe_forward_ref(m, ids, T, Hd, L, NULL))) goto fail;
    } else {
        tpe_runtime *rt;
        L = tpe_alloc_array(T * V, sizeof(float), "logits");
        Hd = tpe_alloc_array(T * C, sizeof(float), "hidden states");
        if (!L || !Hd) {
            rc = TPE_ENOMEM;
            goto fail;
        }
        if ((rc = tpe_runtime_new(m, T, 0, &rt))) goto fail;
        rc = tpe_forward(rt, ids, T, Hd, NULL);
        if (!rc) rc = tpe_forward_logits(rt, Hd, T, L);
        if (!rc) rc = tpe_check_finite_f32(L, T * V, V, "logits");
        tpe_runtime_free(rt);
        if (rc) goto fail;
    }
    {
        size_t shape[2];
        shape[0] = T;
        shape[1] = V;
        if ((rc = tpe_npy_write(out, f64 ? TPE_F64 : TPE_F32, 2, shape, L))) goto fail;
        shape[1] = C;
        if (hid && (rc = tpe_npy_write(hid, f64 ? TPE_F64 : TPE_F32, 2, shape, Hd))) goto fail;
    }
    if (json) {
        tpe_jw w;
        tpe_jw_init(&w, stdout);
        tpe_jw_object(&w);
        tpe_jw_key(&w, "model_type");
        tpe_jw_string(&w, m->cfg.model_type);
        tpe_jw_key(&w, "tokens");
        tpe_jw_int(&w, (long long)T);
        tpe_jw_key(&w, "vocab");
        tpe_jw_int(&w, (long long)V);
        tpe_jw_key(&w, "precision");
        tpe_jw_string(&w, f64 ? "f64" : "f32");
        tpe_jw_key(&w, "simd");
        tpe_jw_string(&w, f64 ? "scalar" : tpe_kernels_get()->name);
        tpe_jw_key(&w, "out");
        tpe_jw_string(&w, out);
        tpe_jw_object_end(&w);
        tpe_jw_end(&w);
    } else {
        printf("%s: %zu x %zu logits (%s, %s) -> %s\n", m->cfg.model_type, T, V, f64 ? "f64 reference" : "f32 fast path",
               f64 ? "scalar" : tpe_kernels_get()->name, out);
    }
    tpe_free(L);
    tpe_free(Hd);
    free(ids);
    tpe_model_free(m);
    return 0;
fail:
    tpe_free(L);
    tpe_free(Hd);
    free(ids);
    tpe_model_free(m);
    return tpe_cli_fail(spec.cmd);
}
