/*
 * cmd_probe.c -- `tpe probe MODEL DATA --out alpha.npy [--ids-file]
 * [--max-len N] [--save-hidden FILE] [--precision f32|f64] [--json]`:
 * alpha, the mean next-token distribution over every position of every
 * sample (Cho et al. 2024, Appendix A.1), accumulated in double (probe.h).
 *
 * --save-hidden FILE writes the final hidden states of every position,
 * (N, C) <f4 (<f8 with --precision f64), streamed as the windows are run,
 * and beside it FILE's stem + ".tokens.npy", (N, 3) <i8 rows of
 * (sample, position in the sample, token id) -- docs/formats.md.
 */
#include "array.h"
#include "cli.h"
#include "cpu.h"
#include "io.h"
#include "json.h"
#include "model.h"
#include "platform.h"
#include "probe.h"
#include "runtime_cli.h"
#include "tpe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct hidden_out {
    tpe_outfile h, tok;
    int open;
    tpe_progress *bar;
    size_t done;
} hidden_out;

static int on_window(void *ctx, size_t sample, size_t pos0, const int32_t *ids, const float *h32, const double *h64, size_t T,
                     size_t C)
{
    hidden_out *o = ctx;
    size_t t;
    if (o->open) {
        if (h32) tpe_fwrite_le(o->h.f, h32, T * C, sizeof *h32);
        else tpe_fwrite_le(o->h.f, h64, T * C, sizeof *h64);
        for (t = 0; t < T; t++) {
            int64_t row[3];
            row[0] = (int64_t)sample;
            row[1] = (int64_t)(pos0 + t);
            row[2] = (int64_t)ids[t];
            tpe_fwrite_le(o->tok.f, row, 3, sizeof row[0]);
        }
        if (ferror(o->h.f) || ferror(o->tok.f)) return tpe_error(TPE_EIO, "%s: write error", o->h.path);
    }
    o->done += T;
    tpe_progress_update(o->bar, (double)o->done);
    return TPE_OK;
}

/* "h.npy" -> "h.tokens.npy"; "h" -> "h.tokens.npy" */
static char *tokens_path(const char *path)
{
    size_t n = strlen(path);
    char *p = malloc(n + 16);
    if (!p) return NULL;
    memcpy(p, path, n + 1);
    if (n > 4 && strcmp(path + n - 4, ".npy") == 0) p[n - 4] = '\0';
    strcat(p, ".tokens.npy");
    return p;
}

static int open_hidden(hidden_out *o, const char *path, size_t N, size_t C, int f64)
{
    char hdr[600];
    size_t hl, shape[2];
    char *tp = tokens_path(path);
    int rc;
    if (!tp) return tpe_error(TPE_ENOMEM, "out of memory");
    if ((rc = tpe_out_open(&o->h, path))) {
        free(tp);
        return rc;
    }
    if ((rc = tpe_out_open(&o->tok, tp))) {
        free(tp);
        tpe_out_abort(&o->h);
        return rc;
    }
    free(tp);
    o->open = 1;
    shape[0] = N;
    shape[1] = C;
    if ((rc = tpe_npy_header(hdr, sizeof hdr, f64 ? TPE_F64 : TPE_F32, 2, shape, &hl))) return rc;
    fwrite(hdr, 1, hl, o->h.f);
    shape[1] = 3;
    if ((rc = tpe_npy_header(hdr, sizeof hdr, TPE_I64, 2, shape, &hl))) return rc;
    fwrite(hdr, 1, hl, o->tok.f);
    return TPE_OK;
}

int tpe_cmd_probe(int argc, char **argv)
{
    const char *out = NULL, *save_hidden = NULL, *prec = "f32";
    size_t max_len = 0, i, npos, V;
    int ids_file = 0, json = 0, f64, rc;
    const tpe_opt opts[] = {
        {"--out", TPE_OPT_STR, &out, "alpha.npy", "alpha, (V,) <f8, sums to 1 (required)"},
        {"--ids-file", TPE_OPT_FLAG, &ids_file, NULL, "DATA lines are token ids separated by spaces, not text"},
        {"--max-len", TPE_OPT_SIZE, &max_len, "N", "window length; longer samples are cut (default: the model's context)"},
        {"--save-hidden", TPE_OPT_STR, &save_hidden, "FILE", "also write the final hidden states (N, C) and FILE.tokens.npy"},
        {"--precision", TPE_OPT_STR, &prec, "f32|f64", "f32: fast path (default); f64: scalar reference in double"},
        {"--json", TPE_OPT_FLAG, &json, NULL, "one JSON object on stdout"},
    };
    const tpe_cmdspec spec = {"probe", "MODEL DATA", "Averaged next-token probability alpha over a dataset.",
                              "alpha = mean over every position of every sample of softmax(logits) (teacher forcing;\n"
                              "Cho et al. 2024, Appendix A.1), accumulated in double. DATA holds one sample per\n"
                              "non-empty line: UTF-8 text (tokenized with MODEL's tokenizer) or, with --ids-file,\n"
                              "token ids. Samples longer than --max-len are cut into consecutive windows, each\n"
                              "run from an empty context.",
                              opts, TPE_NOPTS(opts), 2, 2};
    char *pos[2];
    tpe_model *m = NULL;
    tpe_probe *p = NULL;
    tpe_samples s;
    hidden_out ho;
    tpe_progress bar;
    double *alpha = NULL, t0 = tpe_now(), total = 0.0;
    size_t windows = 0;
    memset(&s, 0, sizeof s);
    memset(&ho, 0, sizeof ho);
    if ((rc = tpe_cli_parse(&spec, argc, argv, pos, &npos))) return rc < 0 ? 0 : rc;
    if (!out) return tpe_cli_usage(spec.cmd, "--out is required");
    if ((f64 = tpe_cli_precision(prec)) < 0) return tpe_cli_usage(spec.cmd, "--precision must be f32 or f64, got '%s'", prec);
    if ((rc = tpe_cli_load_model(pos[0], &m))) goto fail;
    V = m->cfg.n_vocab;
    if (max_len == 0) max_len = m->cfg.n_ctx;
    if (max_len > m->cfg.n_ctx) {
        tpe_error(TPE_EINVAL, "--max-len %zu exceeds the model's %zu positions", max_len, m->cfg.n_ctx);
        goto fail;
    }
    if ((rc = tpe_samples_read(pos[1], ids_file, pos[0], &s))) goto fail;
    for (i = 0; i < s.nsamples; i++) {
        size_t k;
        for (k = s.start[i]; k < s.start[i + 1]; k++)
            if ((size_t)s.ids[k] >= V) {
                tpe_error(TPE_EINVAL, "%s: line %zu: token id %ld is outside the vocabulary [0, %zu)", pos[1], s.line[i],
                          (long)s.ids[k], V);
                goto fail;
            }
        windows += (s.start[i + 1] - s.start[i] + max_len - 1) / max_len;
    }
    if (s.ntokens == 0) {
        tpe_error(TPE_EINVAL, "%s: no samples (every line is empty)", pos[1]);
        goto fail;
    }
    if ((rc = tpe_probe_new(m, max_len, f64, &p))) goto fail;
    if (save_hidden && (rc = open_hidden(&ho, save_hidden, s.ntokens, m->cfg.d_out, f64))) goto fail;
    tpe_progress_begin(&bar, "probe", (double)s.ntokens);
    ho.bar = &bar;
    tpe_probe_set_hidden_sink(p, on_window, &ho);
    for (i = 0; i < s.nsamples; i++) {
        if ((rc = tpe_probe_sample(p, i, s.ids + s.start[i], s.start[i + 1] - s.start[i]))) {
            tpe_error_prefix(rc, "%s: line %zu: ", pos[1], s.line[i]);
            if (bar.enabled && bar.drawn) fputc('\n', stderr); /* the error goes on its own line */
            goto fail;
        }
    }
    tpe_progress_end(&bar);
    alpha = tpe_alloc_array(V, sizeof *alpha, "alpha");
    if (!alpha || (rc = tpe_probe_alpha(p, alpha))) goto fail;
    for (i = 0; i < V; i++) total += alpha[i];
    if ((rc = tpe_npy_write(out, TPE_F64, 1, &V, alpha))) goto fail;
    if (ho.open) {
        if ((rc = tpe_out_commit(&ho.h))) {
            tpe_out_abort(&ho.tok);
            goto fail_quiet;
        }
        if ((rc = tpe_out_commit(&ho.tok))) goto fail_quiet;
        ho.open = 0;
    }
    if (json) {
        tpe_jw w;
        tpe_jw_init(&w, stdout);
        tpe_jw_object(&w);
        tpe_jw_key(&w, "samples");
        tpe_jw_int(&w, (long long)s.nsamples);
        tpe_jw_key(&w, "windows");
        tpe_jw_int(&w, (long long)windows);
        tpe_jw_key(&w, "tokens");
        tpe_jw_int(&w, (long long)s.ntokens);
        tpe_jw_key(&w, "vocab");
        tpe_jw_int(&w, (long long)V);
        tpe_jw_key(&w, "max_len");
        tpe_jw_int(&w, (long long)max_len);
        tpe_jw_key(&w, "precision");
        tpe_jw_string(&w, f64 ? "f64" : "f32");
        tpe_jw_key(&w, "alpha_sum");
        tpe_jw_number(&w, total);
        tpe_jw_key(&w, "out");
        tpe_jw_string(&w, out);
        tpe_jw_key(&w, "seconds");
        tpe_jw_number(&w, tpe_now() - t0);
        tpe_jw_object_end(&w);
        tpe_jw_end(&w);
    } else {
        printf("alpha over %zu tokens in %zu samples (%zu windows of at most %zu) -> %s (sum %.17g)\n", s.ntokens, s.nsamples,
               windows, max_len, out, total);
    }
    tpe_free(alpha);
    tpe_probe_free(p);
    tpe_samples_free(&s);
    tpe_model_free(m);
    return 0;
fail:
    if (ho.open) {
        tpe_out_abort(&ho.h);
        tpe_out_abort(&ho.tok);
    }
fail_quiet:
    tpe_free(alpha);
    tpe_probe_free(p);
    tpe_samples_free(&s);
    tpe_model_free(m);
    return tpe_cli_fail(spec.cmd);
}
