/*
 * cmd_bench_forward.c -- `tpe bench forward MODEL [--tokens T] [--json]`:
 * one forward pass of T tokens on the fast path, the softmax over the whole
 * vocabulary at every position and the accumulation of alpha in double
 * (exactly the work of `tpe probe` per window), on one thread, best of
 * --reps timed runs after one untimed run. Token ids are drawn from a fixed
 * seed. Peak memory is the process's peak resident set.
 */
#include "cli.h"
#include "cpu.h"
#include "json.h"
#include "model.h"
#include "platform.h"
#include "probe.h"
#include "rng.h"
#include "runtime_cli.h"
#include "tpe.h"

#include <stdio.h>
#include <stdlib.h>

int tpe_cmd_bench_forward(int argc, char **argv)
{
    size_t T = 256, reps = 3, i;
    int json = 0, rc;
    const tpe_opt opts[] = {
        {"--tokens", TPE_OPT_SIZE, &T, "T", "tokens in the pass (default 256)"},
        {"--reps", TPE_OPT_SIZE, &reps, "R", "timed runs, best is reported (default 3)"},
        {"--json", TPE_OPT_FLAG, &json, NULL, "one JSON object on stdout"},
    };
    const tpe_cmdspec spec = {"bench forward", "MODEL", "Time one forward pass plus the averaged-probability accumulation.",
                              "The work of `tpe probe` on one window of T tokens: forward pass (f32 fast path),\n"
                              "logits, softmax over the vocabulary at every position, alpha += p in double. One\n"
                              "thread; best of --reps runs after one warm-up run. Make a GPT-2-124M-shaped model\n"
                              "with `tpe random-model DIR`.",
                              opts, TPE_NOPTS(opts), 1, 1};
    char *pos[1];
    size_t npos;
    tpe_model *m = NULL;
    tpe_probe *p = NULL;
    int32_t *ids = NULL;
    double best = 1e300, t0, load_s;
    tpe_rng rng;
    if ((rc = tpe_cli_parse(&spec, argc, argv, pos, &npos))) return rc < 0 ? 0 : rc;
    if (T == 0 || reps == 0) return tpe_cli_usage(spec.cmd, "--tokens and --reps must be positive");
    tpe_set_threads(1);
    t0 = tpe_now();
    if ((rc = tpe_cli_load_model(pos[0], &m))) goto fail;
    load_s = tpe_now() - t0;
    if (T > m->cfg.n_ctx) {
        tpe_error(TPE_EINVAL, "--tokens %zu exceeds the model's %zu positions", T, m->cfg.n_ctx);
        goto fail;
    }
    ids = malloc(T * sizeof *ids);
    if (!ids) {
        tpe_error(TPE_ENOMEM, "out of memory");
        goto fail;
    }
    tpe_rng_seed(&rng, 1234);
    for (i = 0; i < T; i++) ids[i] = (int32_t)tpe_rng_below(&rng, m->cfg.n_vocab);
    if ((rc = tpe_probe_new(m, T, 0, &p))) goto fail;
    for (i = 0; i <= reps; i++) {
        double s = tpe_now(), t;
        if ((rc = tpe_probe_window(p, 0, 0, ids, T))) goto fail;
        t = tpe_now() - s;
        if (i > 0 && t < best) best = t; /* run 0 warms caches and pages */
    }
    if (json) {
        tpe_jw w;
        tpe_jw_init(&w, stdout);
        tpe_jw_object(&w);
        tpe_jw_key(&w, "tokens");
        tpe_jw_int(&w, (long long)T);
        tpe_jw_key(&w, "seconds");
        tpe_jw_number(&w, best);
        tpe_jw_key(&w, "tokens_per_s");
        tpe_jw_number(&w, (double)T / best);
        tpe_jw_key(&w, "simd");
        tpe_jw_string(&w, tpe_kernels_get()->name);
        tpe_jw_key(&w, "model_type");
        tpe_jw_string(&w, m->cfg.model_type);
        tpe_jw_key(&w, "load_seconds");
        tpe_jw_number(&w, load_s);
        tpe_jw_key(&w, "weight_bytes");
        tpe_jw_int(&w, (long long)m->weight_bytes);
        tpe_jw_key(&w, "peak_rss_bytes");
        tpe_jw_int(&w, (long long)tpe_peak_rss());
        tpe_jw_object_end(&w);
        tpe_jw_end(&w);
    } else {
        printf("forward + alpha, %zu tokens, %s, one thread: %.3f s (%.1f tokens/s, best of %zu); weights %.1f MB, peak RSS %.1f MB\n",
               T, tpe_kernels_get()->name, best, (double)T / best, reps, (double)m->weight_bytes / 1048576.0,
               (double)tpe_peak_rss() / 1048576.0);
    }
    tpe_probe_free(p);
    tpe_model_free(m);
    free(ids);
    return 0;
fail:
    tpe_probe_free(p);
    tpe_model_free(m);
    free(ids);
    return tpe_cli_fail(spec.cmd);
}
