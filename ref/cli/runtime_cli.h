/*
 * runtime_cli.h -- helpers shared by the model commands (logits, probe,
 * generate, trace, bench forward): token id lists and model loading.
 */
#ifndef TPE_RUNTIME_CLI_H
#define TPE_RUNTIME_CLI_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"

/* Parse "i0 i1 ..." (spaces, tabs or commas between non-negative integers).
 * *ids is malloc'd. Returns TPE_OK or an error naming the bad word. */
int tpe_parse_ids(const char *s, const char *what, int32_t **ids, size_t *n);
/* Load a model directory with the default options (errors say which). */
int tpe_cli_load_model(const char *dir, tpe_model **m);
/* A dataset of samples (probe's DATA): all token ids back to back, with
 * sample i at ids[start[i] .. start[i + 1]) and line[i] its line number. */
typedef struct tpe_samples {
    int32_t *ids;
    size_t *start; /* nsamples + 1 */
    size_t *line;
    size_t nsamples, ntokens;
} tpe_samples;
/* Read DATA: one sample per non-empty line; with ids_file each line holds
 * token ids, else UTF-8 text tokenized with the tokenizer in model_dir. */
int tpe_samples_read(const char *path, int ids_file, const char *model_dir, tpe_samples *s);
void tpe_samples_free(tpe_samples *s);

/* The non-empty lines of a UTF-8 text file (a trailing CR dropped), as
 * probe reads DATA: line i is text[i] (NUL-terminated, len[i] bytes), from
 * line number lineno[i]. Invalid UTF-8 or a NUL byte is an error naming the
 * line. */
typedef struct tpe_lines {
    char *buf;
    char **text;
    size_t *len, *lineno;
    size_t n;
} tpe_lines;
int tpe_lines_read(const char *path, tpe_lines *l);
void tpe_lines_free(tpe_lines *l);

/* "f32" -> 0, "f64" -> 1, else -1 */
int tpe_cli_precision(const char *s);

#endif
