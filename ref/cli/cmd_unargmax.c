/*
 * cmd_unargmax.c -- `tpe unargmax (MODEL | --w W.npy [--b b.npy]) [--exact]
 * [--patience P] [--box B] [--json]`: the tokens no hidden state in the box
 * makes the argmax (Grivas et al. 2022; see ref/unargmax.h and
 * docs/unargmax.md).
 *
 * JSON (SPEC): vocab, dim, bias, exact, unargmaxable (sorted ids),
 * unresolved (ids the fast pass did not prove argmaxable), seconds; and
 * box, eps, patience, rank, duplicates, failures, fast, lp, simd, threads.
 * Without --exact nothing is certified unargmaxable by an LP, and
 * `unargmaxable` lists the candidates (= unresolved), as the approximate
 * mode of Grivas et al.'s tool does; "exact": false says so.
 */
#include "array.h"
#include "cli.h"
#include "cpu.h"
#include "io.h"
#include "json.h"
#include "platform.h"
#include "tpe.h"
#include "unargmax.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static void print_ids(const char *label, const size_t *ids, size_t n)
{
    size_t i, shown = n > 200 ? 200 : n;
    printf("%s (%zu):", label, n);
    for (i = 0; i < shown; i++) printf(" %zu", ids[i]);
    if (shown < n) printf(" ... (%zu more; --json lists them all)", n - shown);
    printf("\n");
}

static void jw_ids(tpe_jw *w, const size_t *ids, size_t n)
{
    size_t i;
    tpe_jw_array(w);
    for (i = 0; i < n; i++) tpe_jw_int(w, (long long)ids[i]);
    tpe_jw_array_end(w);
}

static int write_certificates(const char *path, const tpe_unargmax_result *r, const tpe_unargmax_opts *o)
{
    tpe_outfile of;
    tpe_jw w;
    size_t i, t;
    int rc = tpe_out_open(&of, path);
    if (rc) return rc;
    tpe_jw_init(&w, of.f);
    tpe_jw_object(&w);
    tpe_jw_key(&w, "box");
    tpe_jw_number(&w, o->box);
    tpe_jw_key(&w, "eps");
    tpe_jw_number(&w, o->eps);
    tpe_jw_key(&w, "certificates");
    tpe_jw_array(&w);
    for (i = 0; i < r->vocab; i++) {
        if (r->verdict[i] != TPE_UNARGMAXABLE) continue;
        tpe_jw_object(&w);
        tpe_jw_key(&w, "token");
        tpe_jw_int(&w, (long long)i);
        if (r->how[i] == TPE_HOW_DUPLICATE) {
            tpe_jw_key(&w, "kind");
            tpe_jw_string(&w, "duplicate");
            tpe_jw_key(&w, "of");
            tpe_jw_int(&w, (long long)r->dup_of[i]);
        } else {
            tpe_jw_key(&w, "kind");
            tpe_jw_string(&w, "farkas");
            tpe_jw_key(&w, "rows");
            tpe_jw_array(&w);
            for (t = r->cert_start[i]; t < r->cert_start[i + 1]; t++) tpe_jw_int(&w, (long long)r->cert_rows[t]);
            tpe_jw_array_end(&w);
            tpe_jw_key(&w, "y");
            tpe_jw_f64s(&w, r->cert_y + r->cert_start[i], r->cert_start[i + 1] - r->cert_start[i]);
            tpe_jw_key(&w, "bound");
            tpe_jw_number(&w, r->cert_bound[i]);
        }
        tpe_jw_object_end(&w);
    }
    tpe_jw_array_end(&w);
    tpe_jw_object_end(&w);
    tpe_jw_end(&w);
    return tpe_out_commit(&of);
}

int tpe_cmd_unargmax(int argc, char **argv)
{
    int json = 0, exact = 0, no_fast = 0, no_rank = 0;
    const char *wpath = NULL, *bpath = NULL, *wit_path = NULL, *cert_path = NULL;
    size_t patience = 2500, batch = 0;
    double box = 100.0, eps = 1e-8;
    const tpe_opt opts[] = {
        {"--w", TPE_OPT_STR, &wpath, "W.npy", "output embedding (V x d; f32 is kept in float, others read as f64)"},
        {"--b", TPE_OPT_STR, &bpath, "b.npy", "the head's bias (V), with --w"},
        {"--exact", TPE_OPT_FLAG, &exact, NULL, "certify what the fast pass leaves with the Chebyshev LP"},
        {"--patience", TPE_OPT_SIZE, &patience, "P", "reflections per token in the fast pass (default 2500)"},
        {"--box", TPE_OPT_F64, &box, "B", "hidden states in [-B, B]^d (default 100)"},
        {"--eps", TPE_OPT_F64, &eps, "E", "smallest Chebyshev radius that counts (default 1e-8)"},
        {"--witnesses", TPE_OPT_STR, &wit_path, "FILE.npy", "write the checked witness of every argmaxable token (V x d, NaN rows elsewhere)"},
        {"--certificates", TPE_OPT_STR, &cert_path, "FILE.json", "write the certificate of every unargmaxable token"},
        {"--no-fast", TPE_OPT_FLAG, &no_fast, NULL, "skip the fast pass: every token goes to the LP (implies --exact)"},
        {"--no-rank", TPE_OPT_FLAG, &no_rank, NULL, "do not compute the rank of W (saves one V d^2 product)"},
        {"--batch", TPE_OPT_SIZE, &batch, "N", "tokens per GEMM in the fast pass (default: automatic)"},
        {"--json", TPE_OPT_FLAG, &json, NULL, "one JSON object on stdout"},
    };
    const tpe_cmdspec spec = {
        "unargmax", "(MODEL | --w W.npy [--b b.npy])",
        "Find the tokens no hidden state in the box makes the argmax (Grivas et al., 2022).",
        "Token i is argmaxable when some x in [-B, B]^d is at distance >= eps from every\n"
        "hyperplane where i ties another token, on i's side (the Chebyshev-ball LP).\n"
        "The fast pass (braid reflect) proves tokens argmaxable with a checked witness;\n"
        "--exact decides the rest with the LP: a checked witness, or a checked Farkas\n"
        "certificate for unargmaxable. Tokens the LP cannot decide are reported as\n"
        "failures, never as verdicts. Without --exact, `unargmaxable` lists the\n"
        "candidates the fast pass left (not certified; \"exact\": false in JSON).\n"
        "Identical rows are settled first: only a member with the group's largest bias,\n"
        "when it is the only one, can win.",
        opts, TPE_NOPTS(opts), 0, 1};
    char *pos[1];
    size_t npos, V, d, i, nun = 0, nres = 0, nfail = 0, nfast_ok = 0, lp_arg = 0, lp_un = 0;
    size_t *un = NULL, *res = NULL, *fail = NULL;
    tpe_array wa, ba;
    int has_bias = 0, rc = tpe_cli_parse(&spec, argc, argv, pos, &npos);
    tpe_head h;
    tpe_unargmax_opts o;
    tpe_unargmax_result r;
    double t0 = tpe_now(), seconds;
    if (rc) return rc < 0 ? 0 : rc;
    if (npos && wpath) return tpe_cli_usage(spec.cmd, "give either MODEL or --w, not both");
    if (!npos && !wpath) return tpe_cli_usage(spec.cmd, "expected MODEL or --w W.npy");
    if (bpath && !wpath) return tpe_cli_usage(spec.cmd, "--b goes with --w");
    if (!(box > 0.0) || !isfinite(box)) return tpe_cli_usage(spec.cmd, "--box must be positive and finite");
    if (!(eps > 0.0) || !isfinite(eps)) return tpe_cli_usage(spec.cmd, "--eps must be positive and finite");
    if (no_fast) exact = 1;
    memset(&wa, 0, sizeof wa);
    memset(&ba, 0, sizeof ba);
    if (npos) {
        if (tpe_unargmax_load_model(pos[0], &wa, &ba, &has_bias) != TPE_OK) return tpe_cli_fail(spec.cmd);
    } else {
        if (tpe_npy_read(wpath, &wa) != TPE_OK) return tpe_cli_fail(spec.cmd);
        if (wa.dtype != TPE_F32 && tpe_array_convert(&wa, TPE_F64, wpath) != TPE_OK) {
            tpe_array_free(&wa);
            return tpe_cli_fail(spec.cmd);
        }
        if (bpath) {
            if (tpe_npy_read_f64(bpath, &ba) != TPE_OK) {
                tpe_array_free(&wa);
                return tpe_cli_fail(spec.cmd);
            }
            has_bias = 1;
        }
    }
    if (wa.ndim != 2) {
        tpe_error(TPE_EINVAL, "%s: W must be 2-D (vocab x dim), got %d dimensions", wpath ? wpath : pos[0], wa.ndim);
        goto fail;
    }
    V = wa.shape[0];
    d = wa.shape[1];
    if (has_bias && !((ba.ndim == 1 && ba.shape[0] == V) || (ba.ndim == 2 && ba.shape[0] == V && ba.shape[1] == 1))) {
        tpe_error(TPE_EINVAL, "%s: the bias must have shape (%zu,) to match W (%zu x %zu)", bpath ? bpath : pos[0], V, V, d);
        goto fail;
    }
    h.vocab = V;
    h.dim = d;
    h.w = wa.dtype == TPE_F64 ? wa.data : NULL;
    h.w32 = wa.dtype == TPE_F32 ? wa.data : NULL;
    h.bias = has_bias ? ba.data : NULL;
    tpe_unargmax_opts_default(&o);
    o.box = box;
    o.eps = eps;
    o.patience = patience;
    o.exact = exact;
    o.skip_fast = no_fast;
    o.keep_witnesses = wit_path != NULL;
    o.compute_rank = !no_rank;
    o.batch = batch;
    o.progress_label = "fast pass";
    if (tpe_unargmax_run(&h, &o, &r) != TPE_OK) goto fail;
    seconds = tpe_now() - t0;
    un = tpe_alloc_array(V, sizeof *un, "ids");
    res = tpe_alloc_array(V, sizeof *res, "ids");
    fail = tpe_alloc_array(V, sizeof *fail, "ids");
    if (!un || !res || !fail) goto fail_r;
    for (i = 0; i < V; i++) {
        if (r.fast_unresolved[i]) res[nres++] = i;
        if (r.verdict[i] == TPE_FAILED) fail[nfail++] = i;
        if (r.how[i] == TPE_HOW_FAST) nfast_ok++;
        if (r.how[i] == TPE_HOW_LP && r.verdict[i] == TPE_ARGMAXABLE) lp_arg++;
        if (r.how[i] == TPE_HOW_LP && r.verdict[i] == TPE_UNARGMAXABLE) lp_un++;
        if (exact ? r.verdict[i] == TPE_UNARGMAXABLE : r.fast_unresolved[i] != 0) un[nun++] = i;
    }
    if (wit_path) {
        size_t shape[2];
        shape[0] = V;
        shape[1] = d;
        if (tpe_npy_write(wit_path, TPE_F64, 2, shape, r.witness) != TPE_OK) goto fail_r;
    }
    if (cert_path && write_certificates(cert_path, &r, &o) != TPE_OK) goto fail_r;
    if (json) {
        tpe_jw w;
        tpe_jw_init(&w, stdout);
        tpe_jw_object(&w);
        tpe_jw_key(&w, "vocab");
        tpe_jw_int(&w, (long long)V);
        tpe_jw_key(&w, "dim");
        tpe_jw_int(&w, (long long)d);
        tpe_jw_key(&w, "bias");
        tpe_jw_bool(&w, has_bias);
        tpe_jw_key(&w, "exact");
        tpe_jw_bool(&w, exact);
        tpe_jw_key(&w, "unargmaxable");
        jw_ids(&w, un, nun);
        tpe_jw_key(&w, "unresolved");
        jw_ids(&w, res, nres);
        tpe_jw_key(&w, "seconds");
        tpe_jw_number(&w, seconds);
        tpe_jw_key(&w, "failures");
        jw_ids(&w, fail, nfail);
        tpe_jw_key(&w, "box");
        tpe_jw_number(&w, box);
        tpe_jw_key(&w, "eps");
        tpe_jw_number(&w, eps);
        tpe_jw_key(&w, "patience");
        tpe_jw_int(&w, (long long)patience);
        tpe_jw_key(&w, "rank");
        if (no_rank) tpe_jw_null(&w);
        else tpe_jw_int(&w, (long long)r.rank);
        tpe_jw_key(&w, "duplicates");
        tpe_jw_object(&w);
        tpe_jw_key(&w, "groups");
        tpe_jw_int(&w, (long long)r.dup_groups);
        tpe_jw_key(&w, "tokens");
        tpe_jw_int(&w, (long long)r.dup_tokens);
        tpe_jw_object_end(&w);
        tpe_jw_key(&w, "fast");
        tpe_jw_object(&w);
        tpe_jw_key(&w, "tokens");
        tpe_jw_int(&w, (long long)r.fast_tokens);
        tpe_jw_key(&w, "argmaxable");
        tpe_jw_int(&w, (long long)nfast_ok);
        tpe_jw_key(&w, "reflections");
        tpe_jw_int(&w, (long long)r.fast_reflections);
        tpe_jw_key(&w, "seconds");
        tpe_jw_number(&w, r.seconds_fast);
        tpe_jw_key(&w, "seconds_gemm");
        tpe_jw_number(&w, r.seconds_fast_gemm);
        tpe_jw_object_end(&w);
        tpe_jw_key(&w, "lp");
        tpe_jw_object(&w);
        tpe_jw_key(&w, "tokens");
        tpe_jw_int(&w, (long long)r.exact_tokens);
        tpe_jw_key(&w, "argmaxable");
        tpe_jw_int(&w, (long long)lp_arg);
        tpe_jw_key(&w, "unargmaxable");
        tpe_jw_int(&w, (long long)lp_un);
        tpe_jw_key(&w, "failed");
        tpe_jw_int(&w, (long long)nfail);
        tpe_jw_key(&w, "pivots");
        tpe_jw_int(&w, (long long)r.lp_pivots);
        tpe_jw_key(&w, "degenerate_pivots");
        tpe_jw_int(&w, (long long)r.lp_degenerate);
        tpe_jw_key(&w, "bland_pivots");
        tpe_jw_int(&w, (long long)r.lp_bland);
        tpe_jw_key(&w, "refactorizations");
        tpe_jw_int(&w, (long long)r.lp_refactors);
        tpe_jw_key(&w, "rounds");
        tpe_jw_int(&w, (long long)r.lp_rounds);
        tpe_jw_key(&w, "columns");
        tpe_jw_int(&w, (long long)r.lp_columns);
        tpe_jw_key(&w, "seconds");
        tpe_jw_number(&w, r.seconds_exact);
        tpe_jw_key(&w, "seconds_per_token");
        tpe_jw_number(&w, r.exact_tokens ? r.seconds_exact / (double)r.exact_tokens : 0.0);
        tpe_jw_object_end(&w);
        tpe_jw_key(&w, "seconds_rank");
        tpe_jw_number(&w, r.seconds_rank);
        tpe_jw_key(&w, "simd");
        tpe_jw_string(&w, tpe_kernels_get()->name);
        tpe_jw_key(&w, "threads");
        tpe_jw_int(&w, tpe_threads());
        tpe_jw_object_end(&w);
        tpe_jw_end(&w);
    } else {
        printf("W: %zu x %zu (%s), %s, box [-%g, %g]^%zu, eps %g\n", V, d, wa.dtype == TPE_F32 ? "float32" : "float64",
               has_bias ? "with bias" : "no bias", box, box, d, eps);
        if (!no_rank)
            printf("rank of W: %zu%s\n", r.rank,
                   r.rank < (V < d ? V : d) ? " (rank deficient: the rows span a smaller subspace; results are unaffected)" : "");
        if (r.dup_groups)
            printf("identical rows: %zu groups, %zu tokens (only a group's unique largest-bias member can win)\n",
                   r.dup_groups, r.dup_tokens);
        if (!no_fast)
            printf("fast pass (patience %zu): %zu of %zu tokens proved argmaxable, %zu reflections, %.2f s\n", patience,
                   nfast_ok, r.fast_tokens, r.fast_reflections, r.seconds_fast);
        if (exact)
            printf("exact pass: %zu tokens: %zu argmaxable, %zu unargmaxable, %zu failed; %zu LP pivots, %zu rounds, %.2f s (%.3g s per token)\n",
                   r.exact_tokens, lp_arg, lp_un, nfail, r.lp_pivots, r.lp_rounds, r.seconds_exact,
                   r.exact_tokens ? r.seconds_exact / (double)r.exact_tokens : 0.0);
        if (exact) {
            print_ids("unargmaxable (certified)", un, nun);
            if (nfail) {
                print_ids("FAILED (no verdict)", fail, nfail);
                for (i = 0; i < nfail && i < 20; i++) printf("  token %zu: %s\n", fail[i], r.fail_reason[fail[i]]);
            }
        } else {
            print_ids("not proved argmaxable (candidates; --exact certifies)", un, nun);
        }
        printf("%.2f s\n", seconds);
    }
    if (nfail) fprintf(stderr, "tpe: unargmax: warning: %zu tokens have no verdict (LP failures; see \"failures\")\n", nfail);
    tpe_free(un);
    tpe_free(res);
    tpe_free(fail);
    tpe_unargmax_result_free(&r);
    tpe_array_free(&wa);
    tpe_array_free(&ba);
    return 0;
fail_r:
    tpe_free(un);
    tpe_free(res);
    tpe_free(fail);
    tpe_unargmax_result_free(&r);
fail:
    tpe_array_free(&wa);
    tpe_array_free(&ba);
    return tpe_cli_fail(spec.cmd);
}
