/*
 * bpe.c -- PLACEHOLDER until the tokenizer branch is merged: the GPT-2 BPE
 * tokenizer (tokenizer.h) is built on its own branch. This file only lets
 * the runtime branch link; every call reports that text input is not in
 * this build (use --ids-file / --ids). On merge, take the tokenizer
 * branch's ref/bpe.c and delete this one.
 */
#include "tokenizer.h"
#include "tpe.h"

#include <stdlib.h>

int tpe_tokenizer_load(const char *dir, tpe_tokenizer **out)
{
    *out = NULL;
    return tpe_error(TPE_EUNSUPPORTED, "%s: this build has no tokenizer yet (text input is not available; use token ids)", dir);
}

void tpe_tokenizer_free(tpe_tokenizer *tok) { (void)tok; }

size_t tpe_tokenizer_vocab_size(const tpe_tokenizer *tok)
{
    (void)tok;
    return 0;
}

int tpe_tokenizer_encode(tpe_tokenizer *tok, const char *text, size_t len, int32_t **ids, size_t *n)
{
    (void)tok, (void)text, (void)len;
    *ids = NULL;
    *n = 0;
    return tpe_error(TPE_EUNSUPPORTED, "this build has no tokenizer yet");
}

int tpe_tokenizer_decode(const tpe_tokenizer *tok, const int32_t *ids, size_t n, char **text, size_t *len)
{
    (void)tok, (void)ids, (void)n;
    *text = NULL;
    *len = 0;
    return tpe_error(TPE_EUNSUPPORTED, "this build has no tokenizer yet");
}

const char *tpe_tokenizer_token(const tpe_tokenizer *tok, int32_t id)
{
    (void)tok, (void)id;
    return NULL;
}
