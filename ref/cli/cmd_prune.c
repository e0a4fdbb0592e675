/*
 * cmd_prune.c -- `tpe prune MODEL --alpha A --ratio R [--order
 * ascending|descending] [--drop] [--untie] --out-model DIR2 [--json]`:
 * remove output-embedding dimensions by the importance |A_D| the encoding
 * gives them (Cho et al. 2024, Sec. 4; prune.h) and write the model.
 *
 * Without --drop the dimensions are zeroed (in the shared matrix of a tied
 * model, as the paper did for GPT-2); the result is an ordinary model
 * directory any loader reads. With --drop they are removed from the head and
 * from the final norm's output (config.json "tpe_head_dims"; only tpe loads
 * that, see docs/formats.md): exact for untied heads, refused for tied ones
 * unless --untie keeps the zeroed input embedding at full width beside a
 * separate narrower head.
 */
#include "array.h"
#include "cli.h"
#include "json.h"
#include "model.h"
#include "prune.h"
#include "prune_cli.h"
#include "runtime_cli.h"
#include "tpe.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tpe_prune_cli_read_alpha(const char *path, size_t V, tpe_array *a)
{
    int rc = tpe_npy_read_f64(path, a);
    if (rc) return rc;
    if (a->ndim != 1 || a->shape[0] != V) {
        tpe_array_free(a);
        return tpe_error(TPE_EINVAL, "%s: alpha must have shape (%zu,) for this model's vocabulary", path, V);
    }
    return TPE_OK;
}

int tpe_cmd_prune(int argc, char **argv)
{
    const char *alpha_path = NULL, *order_s = "ascending", *out = NULL;
    double ratio = -1.0, imp_total = 0.0, imp_removed = 0.0;
    int drop = 0, untie = 0, json = 0, rc, tied;
    const tpe_opt opts[] = {
        {"--alpha", TPE_OPT_STR, &alpha_path, "A.npy", "alpha over a detect set (tpe probe), (V,) (required)"},
        {"--ratio", TPE_OPT_F64, &ratio, "R", "share of the dimensions to remove, in [0, 1] (required)"},
        {"--order", TPE_OPT_STR, &order_s, "ascending|descending", "least important first (default) or most important first"},
        {"--drop", TPE_OPT_FLAG, &drop, NULL, "remove the dimensions physically (head and final norm) instead of zeroing"},
        {"--untie", TPE_OPT_FLAG, &untie, NULL, "tied models: edit a separate head and leave the input embedding (see --help)"},
        {"--out-model", TPE_OPT_STR, &out, "DIR", "the new model directory (required; must not exist)"},
        {"--json", TPE_OPT_FLAG, &json, NULL, "one JSON object on stdout"},
    };
    const tpe_cmdspec spec = {
        "prune", "MODEL", "Remove output-embedding dimensions by the encoding's importance (Cho et al. 2024, Sec. 4).",
        "Fits Eq. 2 (-log alpha ~ A_D . E^(o)_w + B_D) and removes round(R C) of the C dimensions\n"
        "in order of |A_D|: ascending (the least important first, the paper's pruning) or\n"
        "descending (the control). Default: zero those columns of E^(o) -- in a tied model of the\n"
        "shared matrix, so the input embedding loses them too, as the paper did for GPT-2.\n"
        "--drop removes them from the head and from the final norm's output (the norm still\n"
        "normalizes over the whole residual stream), so the head really shrinks and the logits\n"
        "equal the zeroed model's; config.json gets \"tpe_head_dims\" (tpe loads it; Hugging\n"
        "Face cannot). A tied head is the input embedding, whose columns every layer reads, so\n"
        "--drop is refused there unless --untie: the input embedding stays full width with the\n"
        "columns zeroed and a separate head keeps the others (exact; the file grows by the\n"
        "head). --untie without --drop zeroes the head's columns only.",
        opts, TPE_NOPTS(opts), 1, 1};
    char *pos[1];
    size_t npos, V, C, n_rm, i;
    tpe_model *m = NULL;
    tpe_array alpha;
    tpe_encoding enc;
    double *importance = NULL, *E = NULL;
    size_t *order = NULL;
    tpe_prune_plan plan;
    tpe_prune_order ord;
    memset(&alpha, 0, sizeof alpha);
    memset(&enc, 0, sizeof enc);
    if ((rc = tpe_cli_parse(&spec, argc, argv, pos, &npos))) return rc < 0 ? 0 : rc;
    if (!alpha_path || !out) return tpe_cli_usage(spec.cmd, "--alpha and --out-model are required");
    if (!(ratio >= 0.0 && ratio <= 1.0)) return tpe_cli_usage(spec.cmd, "--ratio must be given, in [0, 1]");
    if (strcmp(order_s, "ascending") == 0) ord = TPE_PRUNE_ASCENDING;
    else if (strcmp(order_s, "descending") == 0) ord = TPE_PRUNE_DESCENDING;
    else return tpe_cli_usage(spec.cmd, "--order must be ascending or descending, got '%s'", order_s);
    if ((rc = tpe_cli_load_model(pos[0], &m))) goto fail;
    V = m->cfg.n_vocab;
    C = m->cfg.d_out;
    tied = m->cfg.tied;
    if (untie && !tied) {
        tpe_error(TPE_EINVAL, "--untie: %s is not tied", pos[0]);
        goto fail;
    }
    if ((rc = tpe_prune_cli_read_alpha(alpha_path, V, &alpha))) goto fail;
    importance = tpe_alloc_array(C, sizeof *importance, "importance");
    order = tpe_alloc_array(C, sizeof *order, "order");
    E = tpe_alloc_array(V, C * sizeof *E, "output embedding");
    if (!importance || !order || !E) goto fail;
    if ((rc = tpe_prune_encoding(m, alpha.data, &enc, importance))) goto fail;
    if ((rc = tpe_weight_to_f64(tpe_model_output_embedding(m), E))) goto fail;
    tpe_prune_order_dims(importance, C, ord, order);
    n_rm = tpe_prune_count(ratio, C);
    for (i = 0; i < C; i++) imp_total += importance[i];
    for (i = 0; i < n_rm; i++) imp_removed += importance[order[i]];
    plan.removed = order;
    plan.n_removed = n_rm;
    plan.drop = drop;
    plan.untie = untie;
    if ((rc = tpe_prune_apply(m, E, &plan))) goto fail;
    if ((rc = tpe_model_save(m, out))) goto fail;
    if (json) {
        tpe_jw w;
        tpe_jw_init(&w, stdout);
        tpe_jw_object(&w);
        tpe_jw_key(&w, "model");
        tpe_jw_string(&w, pos[0]);
        tpe_jw_key(&w, "out_model");
        tpe_jw_string(&w, out);
        tpe_jw_key(&w, "vocab");
        tpe_jw_int(&w, (long long)V);
        tpe_jw_key(&w, "dims");
        tpe_jw_int(&w, (long long)C);
        tpe_jw_key(&w, "ratio");
        tpe_jw_number(&w, ratio);
        tpe_jw_key(&w, "order");
        tpe_jw_string(&w, order_s);
        tpe_jw_key(&w, "mode");
        tpe_jw_string(&w, drop ? "drop" : "zero");
        tpe_jw_key(&w, "tied");
        tpe_jw_bool(&w, tied);
        tpe_jw_key(&w, "untie");
        tpe_jw_bool(&w, untie);
        tpe_jw_key(&w, "removed");
        tpe_jw_array(&w);
        for (i = 0; i < n_rm; i++) tpe_jw_int(&w, (long long)order[i]);
        tpe_jw_array_end(&w);
        tpe_jw_key(&w, "kept_dims");
        tpe_jw_int(&w, (long long)(C - n_rm));
        tpe_jw_key(&w, "head_width");
        tpe_jw_int(&w, (long long)m->cfg.d_out);
        tpe_jw_key(&w, "importance_removed_share");
        tpe_jw_number(&w, imp_total > 0.0 ? imp_removed / imp_total : 0.0);
        tpe_jw_key(&w, "encoding_adj_r2");
        tpe_jw_number(&w, enc.adj_r2);
        tpe_jw_object_end(&w);
        tpe_jw_end(&w);
    } else {
        printf("%s: removed %zu of %zu dimensions of E^(o) (%s |A_D|, %.2f%% of the total |A_D|; encoding adjusted R^2 "
               "%.4f) by %s -> %s (head %zu x %zu)\n",
               pos[0], n_rm, C, order_s, imp_total > 0.0 ? 100.0 * imp_removed / imp_total : 0.0, enc.adj_r2,
               drop ? "dropping them" : tied && !untie ? "zeroing them in the shared matrix" : "zeroing them in the head", out,
               V, m->cfg.d_out);
    }
    tpe_encoding_free(&enc);
    tpe_array_free(&alpha);
    tpe_free(importance);
    tpe_free(order);
    tpe_free(E);
    tpe_model_free(m);
    return 0;
fail:
    tpe_encoding_free(&enc);
    tpe_array_free(&alpha);
    tpe_free(importance);
    tpe_free(order);
    tpe_free(E);
    tpe_model_free(m);
    return tpe_cli_fail(spec.cmd);
}
