/*
 * cmd_trace.c -- `tpe trace MODEL --ids "..." --out DIR [--precision
 * f32|f64] [--json]`: every intermediate tensor of one forward pass as
 * DIR/<name>.npy (names and shapes in docs/formats.md), DIR/ids.npy and
 * DIR/index.json listing them in the order they were computed. The
 * directory is written whole or not at all.
 */
#include "array.h"
#include "cli.h"
#include "cpu.h"
#include "io.h"
#include "json.h"
#include "model.h"
#include "outdir.h"
#include "runtime_cli.h"
#include "tpe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct trace_ctx {
    tpe_outdir *od;
    tpe_jw *w;       /* index.json, "tensors" array */
    size_t count;
} trace_ctx;

static int write_one(void *vctx, const char *name, tpe_dtype dtype, int ndim, const size_t *shape, const void *data)
{
    trace_ctx *c = vctx;
    char file[96];
    char *path;
    int rc, d;
    snprintf(file, sizeof file, "%s.npy", name);
    if (!(path = tpe_outdir_file(c->od, file))) return TPE_ENOMEM;
    rc = tpe_npy_write(path, dtype, ndim, shape, data);
    free(path);
    if (rc) return rc;
    tpe_jw_object(c->w);
    tpe_jw_key(c->w, "name");
    tpe_jw_string(c->w, name);
    tpe_jw_key(c->w, "dtype");
    tpe_jw_string(c->w, dtype == TPE_F64 ? "<f8" : "<f4");
    tpe_jw_key(c->w, "shape");
    tpe_jw_array(c->w);
    for (d = 0; d < ndim; d++) tpe_jw_int(c->w, (long long)shape[d]);
    tpe_jw_array_end(c->w);
    tpe_jw_object_end(c->w);
    c->count++;
    return TPE_OK;
}

int tpe_cmd_trace(int argc, char **argv)
{
    const char *ids_s = NULL, *out = NULL, *prec = "f64";
    int json = 0, f64, rc;
    const tpe_opt opts[] = {
        {"--ids", TPE_OPT_STR, &ids_s, "\"i0 i1 ...\"", "token ids (required)"},
        {"--out", TPE_OPT_STR, &out, "DIR", "new directory for the .npy files (required)"},
        {"--precision", TPE_OPT_STR, &prec, "f32|f64", "f64: scalar reference (default); f32: fast path"},
        {"--json", TPE_OPT_FLAG, &json, NULL, "one JSON object on stdout"},
    };
    const tpe_cmdspec spec = {"trace", "MODEL", "Write every intermediate tensor of one forward pass as .npy.",
                              "embed, then per layer L: layer.L.ln_1, .q/.k/.v (H, T, D), .q_rot/.k_rot (rotary\n"
                              "models), .attn_probs (H, T, T), .attn_heads, .attn_out, .ln_2, .mlp_pre, .mlp_act,\n"
                              "mlp_out, .resid; then final_norm and logits. DIR/index.json lists them in order.\n"
                              "Compare two traces file by file with `tpe compare`.",
                              opts, TPE_NOPTS(opts), 1, 1};
    char *pos[1];
    size_t npos, T = 0;
    int32_t *ids = NULL;
    tpe_model *m = NULL;
    tpe_outdir od;
    int od_open = 0;
    tpe_outfile idx;
    int idx_open = 0;
    tpe_jw w;
    trace_ctx ctx;
    tpe_trace tr;
    char *path = NULL;
    if ((rc = tpe_cli_parse(&spec, argc, argv, pos, &npos))) return rc < 0 ? 0 : rc;
    if (!ids_s) return tpe_cli_usage(spec.cmd, "--ids is required");
    if (!out) return tpe_cli_usage(spec.cmd, "--out is required");
    if ((f64 = tpe_cli_precision(prec)) < 0) return tpe_cli_usage(spec.cmd, "--precision must be f32 or f64, got '%s'", prec);
    if (tpe_parse_ids(ids_s, "--ids", &ids, &T)) return tpe_cli_usage(spec.cmd, "%s", tpe_errmsg());
    if (T == 0) {
        free(ids);
        return tpe_cli_usage(spec.cmd, "--ids holds no token ids");
    }
    if ((rc = tpe_cli_load_model(pos[0], &m))) goto fail;
    if ((rc = tpe_model_check_ids(m, ids, T, 0))) goto fail;
    if ((rc = tpe_outdir_open(&od, out))) goto fail;
    od_open = 1;
    if (!(path = tpe_outdir_file(&od, "ids.npy"))) goto fail;
    if ((rc = tpe_npy_write(path, TPE_I32, 1, &T, ids))) goto fail;
    free(path);
    if (!(path = tpe_outdir_file(&od, "index.json"))) goto fail;
    if ((rc = tpe_out_open(&idx, path))) goto fail;
    idx_open = 1;
    tpe_jw_init(&w, idx.f);
    tpe_jw_object(&w);
    tpe_jw_key(&w, "model_type");
    tpe_jw_string(&w, m->cfg.model_type);
    tpe_jw_key(&w, "precision");
    tpe_jw_string(&w, f64 ? "f64" : "f32");
    tpe_jw_key(&w, "simd");
    tpe_jw_string(&w, f64 ? "scalar" : tpe_kernels_get()->name);
    tpe_jw_key(&w, "tokens");
    tpe_jw_int(&w, (long long)T);
    tpe_jw_key(&w, "tensors");
    tpe_jw_array(&w);
    ctx.od = &od;
    ctx.w = &w;
    ctx.count = 0;
    tr.emit = write_one;
    tr.ctx = &ctx;
    if (f64) {
        rc = tpe_forward_ref(m, ids, T, NULL, NULL, &tr);
    } else {
        tpe_runtime *rt;
        float *h = tpe_alloc_array(T * m->cfg.d_out, sizeof *h, "hidden states");
        float *l = tpe_alloc_array(T * m->cfg.n_vocab, sizeof *l, "logits");
        rc = !h || !l ? TPE_ENOMEM : tpe_runtime_new(m, T, 0, &rt);
        if (!rc) {
            size_t shape[2];
            rc = tpe_forward(rt, ids, T, h, &tr);
            if (!rc) rc = tpe_forward_logits(rt, h, T, l);
            shape[0] = T;
            shape[1] = m->cfg.n_vocab;
            if (!rc) rc = write_one(&ctx, "logits", TPE_F32, 2, shape, l);
            tpe_runtime_free(rt);
        }
        tpe_free(h);
        tpe_free(l);
    }
    if (rc) goto fail;
    tpe_jw_array_end(&w);
    tpe_jw_object_end(&w);
    tpe_jw_end(&w);
    idx_open = 0;
    if ((rc = tpe_out_commit(&idx))) goto fail;
    od_open = 0;
    if ((rc = tpe_outdir_commit(&od))) goto fail;
    if (json) {
        tpe_jw j;
        tpe_jw_init(&j, stdout);
        tpe_jw_object(&j);
        tpe_jw_key(&j, "out");
        tpe_jw_string(&j, out);
        tpe_jw_key(&j, "tensors");
        tpe_jw_int(&j, (long long)ctx.count);
        tpe_jw_key(&j, "tokens");
        tpe_jw_int(&j, (long long)T);
        tpe_jw_key(&j, "precision");
        tpe_jw_string(&j, f64 ? "f64" : "f32");
        tpe_jw_object_end(&j);
        tpe_jw_end(&j);
    } else {
        printf("%s: %zu tensors of a %zu-token %s pass (%s)\n", out, ctx.count, T, m->cfg.model_type, f64 ? "f64 reference" : "f32 fast path");
    }
    free(path);
    free(ids);
    tpe_model_free(m);
    return 0;
fail:
    if (idx_open) tpe_out_abort(&idx);
    if (od_open) tpe_outdir_abort(&od);
    free(path);
    free(ids);
    tpe_model_free(m);
    return tpe_cli_fail(spec.cmd);
}
