/*
 * cli.h -- the command-line front end's shared pieces: option parsing,
 * the one error line, and the command table.
 *
 * Every command:
 *   - prints human-readable output, or with --json exactly one JSON object;
 *   - on failure prints "tpe: <command>: <message>" and exits 1;
 *   - on a usage error prints the same kind of line and exits 2;
 *   - answers --help (exit 0).
 */
#ifndef TPE_CLI_H
#define TPE_CLI_H

#include <stddef.h>

typedef enum tpe_opt_kind {
    TPE_OPT_FLAG,   /* int*: set to 1                      */
    TPE_OPT_STR,    /* const char**                        */
    TPE_OPT_INT,    /* long*                               */
    TPE_OPT_SIZE,   /* size_t*: a non-negative integer     */
    TPE_OPT_F64     /* double*: finite                     */
} tpe_opt_kind;

typedef struct tpe_opt {
    const char *name; /* "--json"                           */
    tpe_opt_kind kind;
    void *dest;
    const char *metavar; /* "N" (NULL for flags)             */
    const char *help;
} tpe_opt;

typedef struct tpe_cmdspec {
    const char *cmd;      /* "bench gemm"                      */
    const char *args;     /* "M N K"                           */
    const char *summary;  /* one line                          */
    const char *details;  /* more text for --help, or NULL     */
    const tpe_opt *opts;
    size_t nopts;
    size_t min_pos, max_pos;
} tpe_cmdspec;

#define TPE_NOPTS(a) (sizeof(a) / sizeof((a)[0]))

/* Parse argv (argv[0] is the first word after the command name).
 * --quiet and --help are understood by every command.
 * Returns 0 (pos/npos filled), 2 after printing a usage error, or -1 after
 * printing the help text (the command then exits 0). */
int tpe_cli_parse(const tpe_cmdspec *spec, int argc, char **argv, char **pos, size_t *npos);

/* Print "tpe: <cmd>: <current error message>" and return 1 (or 2 for
 * TPE_EUNSUPPORTED-style usage conditions the caller chooses). */
int tpe_cli_fail(const char *cmd);
int tpe_cli_usage(const char *cmd, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Strict number parsing for positional arguments: 0 on success. */
int tpe_cli_size(const char *s, size_t *out);
int tpe_cli_f64(const char *s, double *out);

/* A command: receives the words after its name. */
typedef int (*tpe_cmd_fn)(int argc, char **argv);
typedef struct tpe_command {
    const char *name;    /* "cpu", "bench gemm" */
    tpe_cmd_fn run;
    const char *summary;
} tpe_command;

/* Commands (one file each under ref/cli/). */
int tpe_cmd_cpu(int argc, char **argv);
int tpe_cmd_bench_gemm(int argc, char **argv);
int tpe_cmd_logits(int argc, char **argv);
int tpe_cmd_random_model(int argc, char **argv);
int tpe_cmd_probe(int argc, char **argv);
int tpe_cmd_generate(int argc, char **argv);
int tpe_cmd_trace(int argc, char **argv);
int tpe_cmd_compare(int argc, char **argv);
int tpe_cmd_bench_forward(int argc, char **argv);
int tpe_cmd_tokenize(int argc, char **argv);
int tpe_cmd_count(int argc, char **argv);
int tpe_cmd_ols(int argc, char **argv);
int tpe_cmd_pca(int argc, char **argv);
int tpe_cmd_bench_lstsq(int argc, char **argv);
int tpe_cmd_unargmax(int argc, char **argv);
int tpe_cmd_merge(int argc, char **argv);
int tpe_cmd_explain(int argc, char **argv);
int tpe_cmd_encoding(int argc, char **argv);
int tpe_cmd_sparsity(int argc, char **argv);
int tpe_cmd_steer(int argc, char **argv);
int tpe_cmd_steer_eval(int argc, char **argv);
int tpe_cmd_mauve(int argc, char **argv);
int tpe_cmd_prune(int argc, char **argv);
int tpe_cmd_prune_curve(int argc, char **argv);
int tpe_cmd_dynamics(int argc, char **argv);
int tpe_cmd_json_get(int argc, char **argv);

#endif
