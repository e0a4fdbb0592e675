/*
 * textgen.h -- texts generated for MAUVE as in Cho et al. (2024),
 * Appendix A.3: the prefix of each sample of a text set is its first two
 * words; the original and the edited model continue every prefix with the
 * same seed and the same length, and MAUVE compares the two sets of texts.
 *
 * Sample i is generated with the portable sampler (generate.h) seeded with
 * seed + i, through the fast path with its KV cache: the prefix's ids, then
 * max_new tokens one at a time (fewer when the model's context ends, or at
 * the end-of-text token when stop_at_eos; that token is not kept). With the
 * same model, seeds and settings, the ids are the same on every run.
 */
#ifndef TPE_TEXTGEN_H
#define TPE_TEXTGEN_H

#include <stddef.h>
#include <stdint.h>

#include "generate.h"
#include "model.h"
#include "tokenizer.h"

#define TPE_TEXTGEN_WORDS 2 /* App. A.3: the first two words */

/* Where the first `words` words of a line end: words are runs of non-space
 * characters (ASCII space, tab, CR, LF, VT, FF; as str.split() on ASCII
 * text); leading spaces are skipped. *start and *len give the prefix, the
 * text between the first word's first byte and the last word's last byte
 * (the whole line when it has fewer words). */
void tpe_textgen_prefix(const char *line, size_t n, size_t words, size_t *start, size_t *len);

typedef struct tpe_textgen_opts {
    tpe_sampling sampling; /* default: temperature 1, no top-k, no top-p (ancestral) */
    size_t max_new;        /* new tokens per sample (default 32)                     */
    uint64_t seed;         /* sample i uses seed + i                                 */
    int stop_at_eos;       /* 1 (default): stop at the config's eos_token_id         */
} tpe_textgen_opts;

void tpe_textgen_opts_default(tpe_textgen_opts *o);

/*
 * Continue n prompts: prompt i is ids[start[i] .. start[i + 1]) (at least
 * one token). The continuations (without the prompts) go to *out_ids with
 * sample i at (*out_ids)[(*out_start)[i] .. (*out_start)[i + 1]); both
 * malloc'd (free them). `progress` (may be NULL) is advanced by one per
 * sample.
 */
int tpe_textgen_run(const tpe_model *m, const int32_t *ids, const size_t *start, size_t n, const tpe_textgen_opts *o,
                    int32_t **out_ids, size_t **out_start, void (*progress)(void *ctx), void *progress_ctx);

/* Bytes to text as Hugging Face decodes them (bytes.decode("utf-8",
 * errors="replace")): each maximal invalid subsequence becomes U+FFFD.
 * *out is malloc'd and NUL-terminated. */
int tpe_utf8_replace_invalid(const char *s, size_t n, char **out, size_t *outlen);

#endif
