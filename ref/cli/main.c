/*
 * main.c -- `tpe <command> ...`: pick the kernel path, dispatch, and turn
 * every failure into one line and an exit status.
 */
#include "cli.h"
#include "cpu.h"
#include "tpe.h"

#include <stdio.h>
#include <string.h>

#define TPE_VERSION "0.1.0"

/* One line per command; two-word commands ("bench gemm") match two words. */
static const tpe_command commands[] = {
    {"cpu", tpe_cmd_cpu, "CPU features and the chosen kernel path"},
    {"bench gemm", tpe_cmd_bench_gemm, "GFLOPS of C = A B (one thread, best of several runs)"},
    {"bench forward", tpe_cmd_bench_forward, "tokens/s of one forward pass plus the alpha accumulation (one thread)"},
    {"random-model", tpe_cmd_random_model, "write a model directory with random weights (GPT-2-124M shapes by default)"},
    {"logits", tpe_cmd_logits, "one forward pass of a GPT-2 / GPT-NeoX / GPT-J model: logits (T, V)"},
    {"probe", tpe_cmd_probe, "alpha: the mean next-token distribution over a dataset"},
    {"trace", tpe_cmd_trace, "every intermediate tensor of one forward pass as .npy files"},
    {"compare", tpe_cmd_compare, "compare an array with a reference: abs/rel/ULP error, NMSE, worst index"},
    {"generate", tpe_cmd_generate, "sample a continuation (temperature, top-k, top-p; seeded, portable)"},
    {"tokenize", tpe_cmd_tokenize, "GPT-2 byte-level BPE ids of stdin (or --decode ids)"},
    {"count", tpe_cmd_count, "token counts of a corpus (.npy of length vocab)"},
    {"ols", tpe_cmd_ols, "least squares by Householder QR with full OLS statistics"},
    {"pca", tpe_cmd_pca, "PCA by block power iteration with Rayleigh-Ritz"},
    {"bench lstsq", tpe_cmd_bench_lstsq, "seconds of least squares by blocked QR (one thread)"},
    {"unargmax", tpe_cmd_unargmax, "tokens no hidden state makes the argmax, with certificates"},
    {"merge", tpe_cmd_merge, "combine the part files of a sharded probe (--shard I/N) into alpha"},
    {"explain", tpe_cmd_explain, "the paper's derivation step by step, measured on a model and dataset"},
    {"encoding", tpe_cmd_encoding, "Eq. 2: -log alpha on the output embedding (slope A_D, intercept B_D) and Table 1"},
    {"sparsity", tpe_cmd_sparsity, "Figs. 1-3: PCA of E^(o), which dimensions carry alpha, fitted vs actual"},
    {"steer", tpe_cmd_steer, "Algorithm 1: scale one token's averaged probability by r; writes a model"},
    {"steer-eval", tpe_cmd_steer_eval, "Tables 2-3, Figs. 4-5: scale error and d_KL^r of steering on test sets"},
    {"mauve", tpe_cmd_mauve, "MAUVE between two sets of texts, as mauve-text computes it"},
    {"prune", tpe_cmd_prune, "remove output-embedding dimensions by the encoding's importance (Sec. 4)"},
    {"prune-curve", tpe_cmd_prune_curve, "KL and MAUVE as dimensions are removed, both orders (Fig. 6)"},
    {"dynamics", tpe_cmd_dynamics, "frequency encoding and convergence rates over checkpoints (Fig. 7)"},
    {"json-get", tpe_cmd_json_get, "print values from a JSON file (e.g. --json output) by key path, one per line"},
};

static void usage(FILE *f)
{
    size_t i;
    fprintf(f, "usage: tpe <command> [arguments] [--help]\n\n"
               "tpe -- token probability encoding in output embeddings (Cho et al., 2024)\n"
               "and unargmaxable tokens (Grivas et al., 2022). Commands:\n\n");
    for (i = 0; i < sizeof commands / sizeof commands[0]; i++) fprintf(f, "  %-16s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\nEvery command takes --help. TPE_SIMD=auto|scalar|avx2|neon picks the kernel path.\n");
}

int main(int argc, char **argv)
{
    size_t i;
    if (argc < 2) {
        fprintf(stderr, "tpe: no command given\n");
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("tpe %s\n", TPE_VERSION);
        return 0;
    }
    for (i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        const char *name = commands[i].name;
        const char *space = strchr(name, ' ');
        int words;
        if (space) {
            size_t n = (size_t)(space - name);
            if (strlen(argv[1]) != n || strncmp(argv[1], name, n) != 0) continue;
            if (argc < 3 || strcmp(argv[2], space + 1) != 0) continue;
            words = 2;
        } else {
            if (strcmp(argv[1], name) != 0) continue;
            words = 1;
        }
        /* every command runs on the path TPE_SIMD asks for, or not at all */
        if (tpe_kernels_init(NULL) != TPE_OK) {
            fprintf(stderr, "tpe: %s: %s\n", name, tpe_errmsg());
            return 2;
        }
        return commands[i].run(argc - 1 - words, argv + 1 + words);
    }
    /* a known first word with an unknown second word */
    for (i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        const char *space = strchr(commands[i].name, ' ');
        if (space && strncmp(argv[1], commands[i].name, (size_t)(space - commands[i].name)) == 0 &&
            strlen(argv[1]) == (size_t)(space - commands[i].name)) {
            fprintf(stderr, "tpe: %s: unknown subcommand '%s' (see 'tpe help')\n", argv[1], argc > 2 ? argv[2] : "");
            return 2;
        }
    }
    fprintf(stderr, "tpe: unknown command '%s' (see 'tpe help')\n", argv[1]);
    return 2;
}
