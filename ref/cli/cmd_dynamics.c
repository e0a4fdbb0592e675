/*
 * cmd_dynamics.c -- `tpe dynamics --freq freq.npy CKPT_DIR... [--final DIR]
 * [--svg FILE] [--json]`: Fig. 7 of Cho et al. (2024), the frequency
 * encoding through training (dynamics.h). For each checkpoint: the adjusted
 * R^2 of -log((count + 1) / (N + V)) regressed on its output embedding, and
 * the convergence rate 1 - ||theta* - theta_t||_F / ||theta* - theta_0||_F
 * (Chen et al. 2022) of the input embedding, the output embedding and each
 * layer's attention QKV matrix.
 *
 * Checkpoints are model directories. Their step is the last number in the
 * directory's name ("step1024", Pythia's revision "step143000"); they are
 * sorted by it. theta_0 is the first, theta* is --final (default: the last).
 * Weights are read in their stored dtype (memory-mapped, not widened).
 */
#include "array.h"
#include "cli.h"
#include "dynamics.h"
#include "io.h"
#include "json.h"
#include "model.h"
#include "platform.h"
#include "svg.h"
#include "tpe.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct ckpt {
    const char *dir;
    double step;
    double adj_r2, r2;
    double *rate; /* nparams */
} ckpt;

/* the last run of digits in the directory's own name, or -1 */
static double step_of(const char *dir)
{
    size_t n = strlen(dir), end, beg;
    double v = 0.0;
    while (n > 1 && dir[n - 1] == '/') n--;
    end = n;
    while (end > 0 && dir[end - 1] != '/' && !(dir[end - 1] >= '0' && dir[end - 1] <= '9')) end--;
    if (end == 0 || dir[end - 1] == '/') return -1.0;
    beg = end;
    while (beg > 0 && dir[beg - 1] >= '0' && dir[beg - 1] <= '9') beg--;
    if (end - beg > 15) return -1.0;
    for (; beg < end; beg++) v = v * 10.0 + (double)(dir[beg] - '0');
    return v;
}

static int cmp_step(const void *a, const void *b)
{
    const ckpt *x = a, *y = b;
    return x->step < y->step ? -1 : x->step > y->step;
}

static int load(const char *dir, tpe_model **m)
{
    tpe_model_options o;
    tpe_model_options_default(&o);
    o.widen_limit = 0; /* only some matrices are read, once: keep them as stored */
    return tpe_model_load(dir, &o, m);
}

int tpe_cmd_dynamics(int argc, char **argv)
{
    const char *freq = NULL, *final = NULL, *svg = NULL;
    int json = 0, rc, numbered = 1;
    const tpe_opt opts[] = {
        {"--freq", TPE_OPT_STR, &freq, "freq.npy", "token counts over the training corpus (tpe count), (V,) (required)"},
        {"--final", TPE_OPT_STR, &final, "DIR", "theta*, the final model (default: the last checkpoint)"},
        {"--svg", TPE_OPT_STR, &svg, "FILE", "write Fig. 7 (both panels) as SVG"},
        {"--json", TPE_OPT_FLAG, &json, NULL, "one JSON object on stdout"},
    };
    const tpe_cmdspec spec = {
        "dynamics", "CKPT_DIR...", "Fig. 7: the frequency encoding and convergence rates through training.",
        "For each checkpoint (a model directory; sorted by the last number in its name): the\n"
        "adjusted R^2 of -log f, f = (count + 1) / (N + V) (add-one smoothing), regressed with an\n"
        "intercept on the output embedding E^(o); and the convergence rate 1 - ||theta* -\n"
        "theta_t||_F / ||theta* - theta_0||_F (Chen et al. 2022) of the input embedding, the\n"
        "output embedding and each layer's attention QKV, with theta_0 the first checkpoint and\n"
        "theta* --final (default the last). See docs/paper-part2.md.",
        opts, TPE_NOPTS(opts), 1, 100000};
    char **pos = NULL;
    size_t npos = 0, i, j, V, np = 0;
    tpe_array counts;
    tpe_model *m0 = NULL, *ms = NULL, *mt = NULL;
    ckpt *ck = NULL;
    double *y = NULL, *d0 = NULL, t0 = tpe_now(), N = 0.0;
    tpe_progress bar;
    memset(&counts, 0, sizeof counts);
    memset(&bar, 0, sizeof bar);
    pos = malloc((size_t)(argc > 0 ? argc : 1) * sizeof *pos);
    if (!pos) {
        tpe_error(TPE_ENOMEM, "out of memory");
        return tpe_cli_fail(spec.cmd);
    }
    if ((rc = tpe_cli_parse(&spec, argc, argv, pos, &npos))) {
        free(pos);
        return rc < 0 ? 0 : rc;
    }
    if (!freq) {
        free(pos);
        return tpe_cli_usage(spec.cmd, "--freq is required");
    }
    ck = calloc(npos, sizeof *ck);
    if (!ck) {
        tpe_error(TPE_ENOMEM, "out of memory");
        goto fail;
    }
    for (i = 0; i < npos; i++) {
        ck[i].dir = pos[i];
        ck[i].step = step_of(pos[i]);
        if (ck[i].step < 0.0) numbered = 0;
    }
    if (numbered) {
        qsort(ck, npos, sizeof *ck, cmp_step);
        for (i = 1; i < npos; i++)
            if (ck[i].step == ck[i - 1].step) {
                tpe_error(TPE_EINVAL, "%s and %s are both step %.0f", ck[i - 1].dir, ck[i].dir, ck[i].step);
                goto fail;
            }
    } else {
        for (i = 0; i < npos; i++) ck[i].step = (double)i; /* the order given */
    }
    if ((rc = tpe_npy_read_f64(freq, &counts))) goto fail;
    if (counts.ndim != 1) {
        tpe_error(TPE_EINVAL, "%s: counts must be a vector (V,)", freq);
        goto fail;
    }
    if ((rc = load(ck[0].dir, &m0)) || (rc = load(final ? final : ck[npos - 1].dir, &ms))) goto fail;
    V = m0->cfg.n_vocab;
    if (counts.shape[0] != V) {
        tpe_error(TPE_EINVAL, "%s has %zu counts; the checkpoints' vocabulary is %zu", freq, counts.shape[0], V);
        goto fail;
    }
    if ((rc = tpe_dynamics_compatible(m0, ms, final ? final : ck[npos - 1].dir))) goto fail;
    np = tpe_dynamics_nparams(m0);
    y = tpe_alloc_array(V, sizeof *y, "-log frequency");
    d0 = tpe_alloc_array(np, sizeof *d0, "distances");
    if (!y || !d0) goto fail;
    if ((rc = tpe_dynamics_response(counts.data, V, y))) {
        tpe_error_prefix(rc, "%s: ", freq);
        goto fail;
    }
    for (i = 0; i < V; i++) N += ((const double *)counts.data)[i];
    for (j = 0; j < np; j++)
        if ((rc = tpe_dynamics_dist2(ms, m0, j, &d0[j]))) goto fail;
    tpe_progress_begin(&bar, "dynamics", (double)npos);
    for (i = 0; i < npos; i++) {
        ck[i].rate = tpe_alloc_array(np, sizeof(double), "rates");
        if (!ck[i].rate || (rc = load(ck[i].dir, &mt))) goto fail_bar;
        if ((rc = tpe_dynamics_compatible(m0, mt, ck[i].dir)) || (rc = tpe_dynamics_adj_r2(mt, y, &ck[i].adj_r2, &ck[i].r2)) ||
            (rc = tpe_dynamics_rates(mt, ms, d0, ck[i].rate))) {
            tpe_error_prefix(rc, "%s: ", ck[i].dir);
            goto fail_bar;
        }
        tpe_model_free(mt);
        mt = NULL;
        tpe_progress_update(&bar, (double)(i + 1));
    }
    tpe_progress_end(&bar);

    if (svg) {
        tpe_figure *f = tpe_figure_new(1, 2, "Fig. 7: the frequency encoding through training");
        double *x = tpe_alloc_array(npos, sizeof *x, "x"), *a = tpe_alloc_array(npos, sizeof *a, "y");
        char name[64], note[160];
        tpe_plot *p;
        if (!f || !x || !a) {
            tpe_figure_free(f);
            tpe_free(x);
            tpe_free(a);
            tpe_error(TPE_ENOMEM, "out of memory");
            goto fail;
        }
        for (i = 0; i < npos; i++) {
            x[i] = ck[i].step + 1.0;
            a[i] = ck[i].adj_r2;
        }
        p = tpe_figure_panel(f, 0, 0);
        tpe_plot_labels(p, "(a) -log frequency on E^(o)", numbered ? "training step + 1" : "checkpoint + 1", "adjusted R^2");
        if (numbered) tpe_plot_log_x(p, 1);
        tpe_plot_line(p, x, a, NULL, npos, "#4477aa", 0, 1, "adjusted R^2");
        snprintf(note, sizeof note, "f = (count + 1) / (N + V), N = %.0f tokens", N);
        tpe_plot_note(p, note);
        p = tpe_figure_panel(f, 0, 1);
        tpe_plot_labels(p, "(b) convergence rate (Chen et al. 2022)", numbered ? "training step + 1" : "checkpoint + 1",
                        "1 - |theta* - theta_t| / |theta* - theta_0|");
        if (numbered) tpe_plot_log_x(p, 1);
        for (j = 0; j < np; j++) {
            for (i = 0; i < npos; i++) a[i] = ck[i].rate[j];
            tpe_dynamics_param_name(m0, j, name, sizeof name);
            /* the embeddings solid in black and purple, the layers dashed in the palette */
            tpe_plot_line(p, x, a, NULL, npos, j == 0 ? "#222222" : j == 1 ? "#aa3377" : tpe_palette((j - 2) % 5), j >= 2, j < 2,
                          name);
        }
        rc = tpe_figure_write(f, svg);
        tpe_figure_free(f);
        tpe_free(x);
        tpe_free(a);
        if (rc) goto fail;
    }

    if (json) {
        tpe_jw w;
        char name[64];
        tpe_jw_init(&w, stdout);
        tpe_jw_object(&w);
        tpe_jw_key(&w, "vocab");
        tpe_jw_int(&w, (long long)V);
        tpe_jw_key(&w, "dims");
        tpe_jw_int(&w, (long long)m0->cfg.d_out);
        tpe_jw_key(&w, "tokens");
        tpe_jw_number(&w, N);
        tpe_jw_key(&w, "smoothing");
        tpe_jw_string(&w, "add-one: f = (count + 1) / (N + V)");
        tpe_jw_key(&w, "theta0");
        tpe_jw_string(&w, ck[0].dir);
        tpe_jw_key(&w, "final");
        tpe_jw_string(&w, final ? final : ck[npos - 1].dir);
        tpe_jw_key(&w, "steps_from_names");
        tpe_jw_bool(&w, numbered);
        tpe_jw_key(&w, "params");
        tpe_jw_array(&w);
        for (j = 0; j < np; j++) {
            tpe_dynamics_param_name(m0, j, name, sizeof name);
            tpe_jw_string(&w, name);
        }
        tpe_jw_array_end(&w);
        tpe_jw_key(&w, "checkpoints");
        tpe_jw_array(&w);
        for (i = 0; i < npos; i++) {
            tpe_jw_object(&w);
            tpe_jw_key(&w, "dir");
            tpe_jw_string(&w, ck[i].dir);
            tpe_jw_key(&w, "step");
            tpe_jw_int(&w, (long long)ck[i].step); /* below 10^15: exact */
            tpe_jw_key(&w, "adj_r2");
            tpe_jw_number(&w, ck[i].adj_r2);
            tpe_jw_key(&w, "r2");
            tpe_jw_number(&w, ck[i].r2);
            tpe_jw_key(&w, "convergence");
            tpe_jw_f64s(&w, ck[i].rate, np);
            tpe_jw_object_end(&w);
        }
        tpe_jw_array_end(&w);
        tpe_jw_key(&w, "seconds");
        tpe_jw_number(&w, tpe_now() - t0);
        tpe_jw_object_end(&w);
        tpe_jw_end(&w);
    } else {
        char name[64];
        printf("-log((count + 1) / (N + V)) on E^(o), N = %.0f tokens, V = %zu; convergence towards %s\n", N, V,
               final ? final : ck[npos - 1].dir);
        printf("%10s %10s", numbered ? "step" : "checkpoint", "adj. R^2");
        for (j = 0; j < np; j++) {
            tpe_dynamics_param_name(m0, j, name, sizeof name);
            printf(" %16s", name);
        }
        printf("\n");
        for (i = 0; i < npos; i++) {
            printf("%10.0f %10.4f", ck[i].step, ck[i].adj_r2);
            for (j = 0; j < np; j++) printf(" %16.4f", ck[i].rate[j]);
            printf("\n");
        }
        if (svg) printf("Fig. 7 -> %s\n", svg);
    }
    rc = 0;
    goto done;
fail_bar:
    if (bar.enabled && bar.drawn) fputc('\n', stderr);
fail:
    rc = tpe_cli_fail(spec.cmd);
done:
    if (ck)
        for (i = 0; i < npos; i++) tpe_free(ck[i].rate);
    free(ck);
    free(pos);
    tpe_free(y);
    tpe_free(d0);
    tpe_array_free(&counts);
    tpe_model_free(mt);
    tpe_model_free(m0);
    tpe_model_free(ms);
    return rc;
}
