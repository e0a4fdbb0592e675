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
 *
 * --shard I/N runs only samples I, I + N, I + 2N, ... and writes to --out a
 * part file (shard.h) with their exact sums and the run's fingerprint;
 * `tpe merge` combines the N parts into the single run's alpha, bit for bit.
 * Built with MPI=1 and started by mpirun, the processes split the samples
 * the same way and reduce onto process 0, which writes alpha (dist.h).
 */
#include "array.h"
#include "cli.h"
#include "cpu.h"
#include "dist.h"
#include "hiddencache.h"
#include "io.h"
#include "json.h"
#include "model.h"
#include "platform.h"
#include "probe.h"
#include "runtime_cli.h"
#include "sha256.h"
#include "shard.h"
#include "tpe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct hidden_out {
    tpe_outfile h, tok;
    int open;
    tpe_progress *bar;
    size_t done;
    tpe_sha256 hh, th; /* of the bytes written, for the part file */
} hidden_out;

static int on_window(void *ctx, size_t sample, size_t pos0, const int32_t *ids, const float *h32, const double *h64, size_t T,
                     size_t C)
{
    hidden_out *o = ctx;
    size_t t;
    if (o->open) {
        if (h32) tpe_fwrite_le_hashed(o->h.f, &o->hh, h32, T * C, sizeof *h32);
        else tpe_fwrite_le_hashed(o->h.f, &o->hh, h64, T * C, sizeof *h64);
        for (t = 0; t < T; t++) {
            int64_t row[3];
            row[0] = (int64_t)sample;
            row[1] = (int64_t)(pos0 + t);
            row[2] = (int64_t)ids[t];
            tpe_fwrite_le_hashed(o->tok.f, &o->th, row, 3, sizeof row[0]);
        }
        if (ferror(o->h.f) || ferror(o->tok.f)) return tpe_error(TPE_EIO, "%s: write error", o->h.path);
    }
    o->done += T;
    tpe_progress_update(o->bar, (double)o->done);
    return TPE_OK;
}

static int open_hidden(hidden_out *o, const char *path, size_t N, size_t C, int f64)
{
    char hdr[600];
    size_t hl, shape[2];
    char *tp = tpe_hidden_tokens_path(path);
    int rc;
    if (!tp) return TPE_ENOMEM;
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
    tpe_sha256_init(&o->hh);
    tpe_sha256_init(&o->th);
    shape[0] = N;
    shape[1] = C;
    if ((rc = tpe_npy_header(hdr, sizeof hdr, f64 ? TPE_F64 : TPE_F32, 2, shape, &hl))) return rc;
    tpe_fwrite_le_hashed(o->h.f, &o->hh, hdr, hl, 1);
    shape[1] = 3;
    if ((rc = tpe_npy_header(hdr, sizeof hdr, TPE_I64, 2, shape, &hl))) return rc;
    tpe_fwrite_le_hashed(o->tok.f, &o->th, hdr, hl, 1);
    return TPE_OK;
}

/* the part file of a --shard run: the run's fingerprint, this shard, the sums */
static int fill_part(tpe_part *part, const tpe_model *m, const char *data, const tpe_samples *s, int ids_file, size_t max_len,
                     int f64, uint64_t shard, uint64_t shards)
{
    int rc;
    snprintf(part->kind, sizeof part->kind, "probe");
    if ((rc = tpe_part_hash_model(part, m))) return rc;
    if ((rc = tpe_part_hash_data(part, data, s->ids, s->start, s->nsamples))) return rc;
    part->ids_file = ids_file;
    part->max_len = (uint64_t)max_len;
    snprintf(part->precision, sizeof part->precision, "%s", f64 ? "f64" : "f32");
    part->shards = shards;
    part->shard = shard;
    tpe_part_platform(part->platform, sizeof part->platform);
    tpe_part_seal(part);
    return TPE_OK;
}

static int set_hidden(tpe_part *part, hidden_out *ho, const char *path)
{
    unsigned char d[32];
    part->has_hidden = 1;
    tpe_sha256_final(&ho->hh, d);
    tpe_sha256_hex(d, part->hidden_sha256);
    tpe_sha256_final(&ho->th, d);
    tpe_sha256_hex(d, part->hidden_tokens_sha256);
    part->hidden_rows = part->local_tokens;
    part->hidden_path = tpe_strdup(path);
    part->hidden_tokens_path = tpe_hidden_tokens_path(path);
    return part->hidden_path && part->hidden_tokens_path ? TPE_OK : TPE_ENOMEM;
}

int tpe_cmd_probe(int argc, char **argv)
{
    const char *out = NULL, *save_hidden = NULL, *prec = "f32", *shard_arg = NULL;
    size_t max_len = 0, npos, V = 0;
    int ids_file = 0, json = 0, f64, rc, nproc, rank, failed;
    const tpe_opt opts[] = {
        {"--out", TPE_OPT_STR, &out, "alpha.npy", "alpha, (V,) <f8, sums to 1 (required); with --shard the part file"},
        {"--ids-file", TPE_OPT_FLAG, &ids_file, NULL, "DATA lines are token ids separated by spaces, not text"},
        {"--max-len", TPE_OPT_SIZE, &max_len, "N", "window length; longer samples are cut (default: the model's context)"},
        {"--save-hidden", TPE_OPT_STR, &save_hidden, "FILE", "also write the final hidden states (N, C) and FILE.tokens.npy"},
        {"--precision", TPE_OPT_STR, &prec, "f32|f64", "f32: fast path (default); f64: scalar reference in double"},
        {"--shard", TPE_OPT_STR, &shard_arg, "I/N", "run samples I, I+N, I+2N, ... (I from 0) and write a part file for tpe merge"},
        {"--json", TPE_OPT_FLAG, &json, NULL, "one JSON object on stdout"},
    };
    const tpe_cmdspec spec = {"probe", "MODEL DATA", "Averaged next-token probability alpha over a dataset.",
                              "alpha = mean over every position of every sample of softmax(logits) (teacher forcing;\n"
                              "Cho et al. 2024, Appendix A.1), accumulated exactly and rounded once. DATA holds one\n"
                              "sample per non-empty line: UTF-8 text (tokenized with MODEL's tokenizer) or, with\n"
                              "--ids-file, token ids. Samples longer than --max-len are cut into consecutive windows,\n"
                              "each run from an empty context.\n"
                              "Several machines: --shard I/N on each (I = 0 .. N-1), then `tpe merge PART... --out\n"
                              "alpha.npy` gives the single run's alpha bit for bit. A tpe built with `make MPI=1` and\n"
                              "started by mpirun splits the samples between its processes (docs/scaling.md).",
                              opts, TPE_NOPTS(opts), 2, 2};
    char *pos[2];
    tpe_model *m = NULL;
    tpe_probe *p = NULL;
    tpe_samples s;
    hidden_out ho;
    tpe_progress bar;
    tpe_part part;
    tpe_xsum total;
    double *alpha = NULL, t0 = tpe_now(), alpha_sum = 0.0;
    /* counts: this process's (or shard's) samples, tokens, windows, positions;
     * reduced over the processes under MPI */
    uint64_t counts[4] = {0, 0, 0, 0}, shard = 0, shards = 1, stride, first, i;
    memset(&s, 0, sizeof s);
    memset(&ho, 0, sizeof ho);
    memset(&total, 0, sizeof total);
    tpe_part_init(&part);
    if ((rc = tpe_cli_parse(&spec, argc, argv, pos, &npos))) return rc < 0 ? 0 : rc;
    if (!out) return tpe_cli_usage(spec.cmd, "--out is required");
    if ((f64 = tpe_cli_precision(prec)) < 0) return tpe_cli_usage(spec.cmd, "--precision must be f32 or f64, got '%s'", prec);
    if (shard_arg && tpe_shard_parse(shard_arg, &shard, &shards)) return tpe_cli_usage(spec.cmd, "%s", tpe_errmsg());
    if ((rc = tpe_dist_begin())) {
        tpe_cli_fail(spec.cmd);
        return 2;
    }
    nproc = tpe_dist_size();
    rank = tpe_dist_rank();
    if (nproc > 1 && (shard_arg || save_hidden)) {
        if (rank == 0)
            tpe_cli_usage(spec.cmd, "%s with %d MPI processes: run the shards as separate jobs instead (docs/scaling.md)",
                          shard_arg ? "--shard" : "--save-hidden", nproc);
        tpe_dist_end();
        return 2;
    }
    stride = shard_arg ? shards : (uint64_t)nproc;
    first = shard_arg ? shard : (uint64_t)rank;

    /* ---- set-up; every process reaches each tpe_dist_first_failure ---- */
    rc = tpe_cli_load_model(pos[0], &m);
    if (!rc) {
        V = m->cfg.n_vocab;
        if (max_len == 0) max_len = m->cfg.n_ctx;
        if (max_len > m->cfg.n_ctx) rc = tpe_error(TPE_EINVAL, "--max-len %zu exceeds the model's %zu positions", max_len, m->cfg.n_ctx);
    }
    if (!rc) rc = tpe_samples_read(pos[1], ids_file, pos[0], &s);
    for (i = 0; !rc && i < s.nsamples; i++) {
        size_t k, n = s.start[i + 1] - s.start[i];
        for (k = s.start[i]; k < s.start[i + 1]; k++)
            if ((size_t)s.ids[k] >= V) {
                rc = tpe_error(TPE_EINVAL, "%s: line %zu: token id %ld is outside the vocabulary [0, %zu)", pos[1], s.line[i],
                               (long)s.ids[k], V);
                break;
            }
        if (i % stride == first) {
            counts[0]++;
            counts[1] += n;
            counts[2] += (n + max_len - 1) / max_len;
        }
    }
    if (!rc && s.ntokens == 0) rc = tpe_error(TPE_EINVAL, "%s: no samples (every line is empty)", pos[1]);
    if (!rc && shard_arg) rc = fill_part(&part, m, pos[1], &s, ids_file, max_len, f64, shard, shards);
    if (!rc) rc = tpe_probe_new(m, max_len, f64, &p);
    if (!rc && save_hidden) rc = open_hidden(&ho, save_hidden, (size_t)counts[1], m->cfg.d_out, f64);
    failed = tpe_dist_first_failure(rc);

    /* ---- this process's samples: i = first, first + stride, ... ---- */
    if (failed < 0) {
        tpe_progress_begin(&bar, "probe", (double)counts[1]);
        ho.bar = &bar;
        tpe_probe_set_hidden_sink(p, on_window, &ho);
        for (i = first; i < s.nsamples; i += stride) {
            if ((rc = tpe_probe_sample(p, (size_t)i, s.ids + s.start[i], s.start[i + 1] - s.start[i]))) {
                tpe_error_prefix(rc, "%s: line %zu: ", pos[1], s.line[i]);
                if (bar.enabled && bar.drawn) fputc('\n', stderr); /* the error goes on its own line */
                break;
            }
        }
        if (!rc) tpe_progress_end(&bar);
        counts[3] = (uint64_t)tpe_probe_positions(p);
        failed = tpe_dist_first_failure(rc);
    }

    /* ---- the result: a part file, or alpha (reduced onto process 0) ---- */
    if (failed < 0 && shard_arg) {
        part.local_samples = counts[0];
        part.local_tokens = counts[1];
        part.local_windows = counts[2];
        part.positions = counts[3];
        if (ho.open) {
            if (!(rc = tpe_out_commit(&ho.h))) rc = tpe_out_commit(&ho.tok);
            else tpe_out_abort(&ho.tok);
            ho.open = 0;
            if (!rc) rc = set_hidden(&part, &ho, save_hidden);
        }
        if (!rc && !(rc = tpe_xsum_init(&part.sums, V)))
            memcpy(part.sums.limb, tpe_probe_sums(p)->limb, V * TPE_XSUM_LIMBS * sizeof *part.sums.limb);
        if (!rc) rc = tpe_part_write(out, &part);
    } else if (failed < 0) {
        /* process 0 adds every process's exact sums to its own */
        if (!(rc = tpe_xsum_init(&total, V))) {
            memcpy(total.limb, tpe_probe_sums(p)->limb, V * TPE_XSUM_LIMBS * sizeof *total.limb);
            rc = tpe_dist_reduce(&total, counts, 4);
        }
        if (!rc && rank == 0) {
            if (!(alpha = tpe_alloc_array(V, sizeof *alpha, "alpha"))) rc = TPE_ENOMEM;
            /* alpha = sums / positions, each sum rounded once: tpe_probe_alpha's formula */
            for (i = 0; !rc && i < V; i++) alpha[i] = tpe_xsum_round(&total, (size_t)i) / (double)counts[3];
            for (i = 0; !rc && i < V; i++) alpha_sum += alpha[i];
            if (!rc) rc = tpe_npy_write(out, TPE_F64, 1, &V, alpha);
            if (!rc && ho.open) {
                if (!(rc = tpe_out_commit(&ho.h))) rc = tpe_out_commit(&ho.tok);
                else tpe_out_abort(&ho.tok);
                ho.open = 0;
            }
        }
    }

    if (!rc && failed < 0 && rank == 0) {
        char fp[16];
        if (json) {
            tpe_jw w;
            tpe_jw_init(&w, stdout);
            tpe_jw_object(&w);
            tpe_jw_key(&w, "samples");
            tpe_jw_int(&w, (long long)counts[0]);
            tpe_jw_key(&w, "windows");
            tpe_jw_int(&w, (long long)counts[2]);
            tpe_jw_key(&w, "tokens");
            tpe_jw_int(&w, (long long)counts[1]);
            tpe_jw_key(&w, "vocab");
            tpe_jw_int(&w, (long long)V);
            tpe_jw_key(&w, "max_len");
            tpe_jw_int(&w, (long long)max_len);
            tpe_jw_key(&w, "precision");
            tpe_jw_string(&w, f64 ? "f64" : "f32");
            if (shard_arg) {
                tpe_jw_key(&w, "shard");
                tpe_jw_int(&w, (long long)shard);
                tpe_jw_key(&w, "shards");
                tpe_jw_int(&w, (long long)shards);
                tpe_jw_key(&w, "dataset_samples");
                tpe_jw_int(&w, (long long)s.nsamples);
                tpe_jw_key(&w, "dataset_tokens");
                tpe_jw_int(&w, (long long)s.ntokens);
                tpe_jw_key(&w, "fingerprint");
                tpe_jw_string(&w, part.fingerprint);
            } else {
                tpe_jw_key(&w, "alpha_sum");
                tpe_jw_number(&w, alpha_sum);
                tpe_jw_key(&w, "processes");
                tpe_jw_int(&w, (long long)nproc);
            }
            tpe_jw_key(&w, "out");
            tpe_jw_string(&w, out);
            tpe_jw_key(&w, "seconds");
            tpe_jw_number(&w, tpe_now() - t0);
            tpe_jw_object_end(&w);
            tpe_jw_end(&w);
        } else if (shard_arg) {
            memcpy(fp, part.fingerprint, 12);
            fp[12] = '\0';
            printf("shard %llu of %llu: %llu tokens in %llu of %zu samples (%llu windows of at most %zu) -> %s (run %s)\n",
                   (unsigned long long)shard, (unsigned long long)shards, (unsigned long long)counts[1], (unsigned long long)counts[0],
                   s.nsamples, (unsigned long long)counts[2], max_len, out, fp);
        } else {
            printf("alpha over %llu tokens in %llu samples (%llu windows of at most %zu%s) -> %s (sum %.17g)\n",
                   (unsigned long long)counts[1], (unsigned long long)counts[0], (unsigned long long)counts[2], max_len,
                   nproc > 1 ? ", split between processes" : "", out, alpha_sum);
        }
    }
    if (ho.open) {
        tpe_out_abort(&ho.h);
        tpe_out_abort(&ho.tok);
    }
    tpe_free(alpha);
    tpe_xsum_free(&total);
    tpe_part_free(&part);
    tpe_probe_free(p);
    tpe_samples_free(&s);
    tpe_model_free(m);
    tpe_dist_end();
    if (failed >= 0 && failed != rank) return 1; /* the failing process said why */
    if (rc) {
        if (nproc > 1) tpe_error_prefix(rc, "process %d of %d: ", rank, nproc);
        return tpe_cli_fail(spec.cmd);
    }
    return 0;
}
