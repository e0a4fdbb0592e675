/*
 * cmd_merge.c -- `tpe merge PART... --out alpha.npy [--hidden FILE]
 * [--allow-mixed-platforms] [--json]`: the alpha of a run split with
 * `tpe probe --shard I/N` (shard.h). The parts' exact sums are added as
 * integers and rounded once, so alpha is the single run's bit for bit,
 * whatever N and whatever order the parts are given in. Parts of another
 * run (model, data, tokens, settings), duplicate or missing shards and
 * damaged files are refused with the file named.
 */
#include "array.h"
#include "cli.h"
#include "json.h"
#include "platform.h"
#include "shard.h"
#include "tpe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tpe_cmd_merge(int argc, char **argv)
{
    const char *out = NULL, *hidden = NULL;
    int json = 0, mixed = 0, rc;
    const tpe_opt opts[] = {
        {"--out", TPE_OPT_STR, &out, "alpha.npy", "alpha, (V,) <f8 (required)"},
        {"--hidden", TPE_OPT_STR, &hidden, "FILE",
         "also rebuild the single run's --save-hidden files (FILE and FILE.tokens.npy) from the shards' ones"},
        {"--allow-mixed-platforms", TPE_OPT_FLAG, &mixed, NULL,
         "merge parts made on different architectures or kernel paths (alpha then differs from any single run in the last bits)"},
        {"--json", TPE_OPT_FLAG, &json, NULL, "one JSON object on stdout"},
    };
    const tpe_cmdspec spec = {"merge", "PART...", "Combine the part files of a sharded probe into alpha.",
                              "PART files come from `tpe probe ... --shard I/N --out PART`, one for each I in 0 .. N-1,\n"
                              "in any order. Their exact sums are added and rounded once: alpha equals the single\n"
                              "run's bit for bit. Parts of different runs (model files, DATA, its tokens, --max-len,\n"
                              "--precision, N), duplicate or missing shards, and truncated or corrupt files are\n"
                              "refused. Format: docs/formats.md, \"Part files\".",
                              opts, TPE_NOPTS(opts), 1, (size_t)(argc > 0 ? argc : 1)};
    char **pos = malloc((size_t)(argc > 0 ? argc : 1) * sizeof *pos);
    size_t npos, V;
    tpe_part total;
    double *alpha = NULL, sum = 0.0, t0 = tpe_now();
    if (!pos) {
        tpe_error(TPE_ENOMEM, "out of memory");
        return tpe_cli_fail(spec.cmd);
    }
    if ((rc = tpe_cli_parse(&spec, argc, argv, pos, &npos))) {
        free(pos);
        return rc < 0 ? 0 : rc;
    }
    if (!out) {
        free(pos);
        return tpe_cli_usage(spec.cmd, "--out is required");
    }
    rc = tpe_part_merge((const char *const *)pos, npos, mixed, &total, hidden);
    if (!rc) {
        size_t v;
        V = total.sums.n;
        if (!(alpha = tpe_alloc_array(V, sizeof *alpha, "alpha"))) rc = TPE_ENOMEM;
        if (!rc) rc = tpe_part_alpha(&total, alpha);
        for (v = 0; !rc && v < V; v++) sum += alpha[v];
        if (!rc) rc = tpe_npy_write(out, TPE_F64, 1, &V, alpha);
    }
    if (rc) {
        tpe_free(alpha);
        free(pos);
        return tpe_cli_fail(spec.cmd);
    }
    if (json) {
        tpe_jw w;
        tpe_jw_init(&w, stdout);
        tpe_jw_object(&w);
        tpe_jw_key(&w, "parts");
        tpe_jw_int(&w, (long long)npos);
        tpe_jw_key(&w, "shards");
        tpe_jw_int(&w, (long long)total.shards);
        tpe_jw_key(&w, "samples");
        tpe_jw_int(&w, (long long)total.local_samples);
        tpe_jw_key(&w, "windows");
        tpe_jw_int(&w, (long long)total.local_windows);
        tpe_jw_key(&w, "tokens");
        tpe_jw_int(&w, (long long)total.local_tokens);
        tpe_jw_key(&w, "vocab");
        tpe_jw_int(&w, (long long)V);
        tpe_jw_key(&w, "max_len");
        tpe_jw_int(&w, (long long)total.max_len);
        tpe_jw_key(&w, "precision");
        tpe_jw_string(&w, total.precision);
        tpe_jw_key(&w, "fingerprint");
        tpe_jw_string(&w, total.fingerprint);
        tpe_jw_key(&w, "alpha_sum");
        tpe_jw_number(&w, sum);
        tpe_jw_key(&w, "out");
        tpe_jw_string(&w, out);
        tpe_jw_key(&w, "hidden");
        if (hidden) tpe_jw_string(&w, hidden);
        else tpe_jw_null(&w);
        tpe_jw_key(&w, "seconds");
        tpe_jw_number(&w, tpe_now() - t0);
        tpe_jw_object_end(&w);
        tpe_jw_end(&w);
    } else {
        printf("alpha over %llu tokens in %llu samples from %zu parts -> %s (sum %.17g)%s%s\n",
               (unsigned long long)total.local_tokens, (unsigned long long)total.local_samples, npos, out, sum,
               hidden ? "; hidden states -> " : "", hidden ? hidden : "");
    }
    tpe_free(alpha);
    tpe_part_free(&total);
    free(pos);
    return 0;
}
