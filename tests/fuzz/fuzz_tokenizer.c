/* libFuzzer target: tokenizer files. The input is vocab.json and merges.txt
 * separated by the first NUL byte, or, without a NUL, a tokenizer.json. An
 * accepted tokenizer encodes and decodes a fixed text and the input itself
 * (rejecting invalid UTF-8 cleanly). */
#include "tokenizer.h"
#include "tpe.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void exercise(tpe_tokenizer *t, const char *text, size_t len)
{
    int32_t *ids = NULL;
    size_t n = 0, dlen = 0;
    char *back = NULL;
    if (tpe_tokenizer_encode(t, text, len, &ids, &n) == TPE_OK) {
        size_t i;
        for (i = 0; i < n; i++)
            if (ids[i] < 0 || (size_t)ids[i] >= tpe_tokenizer_vocab_size(t)) abort();
        if (tpe_tokenizer_decode(t, ids, n, &back, &dlen) == TPE_OK) free(back);
        free(ids);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    const char *nul = memchr(text, '\0', size);
    tpe_tokenizer *t = NULL;
    int rc;
    if (nul)
        rc = tpe_tokenizer_load_gpt2_mem(text, (size_t)(nul - text), nul + 1, size - (size_t)(nul - text) - 1, "fuzz", &t);
    else
        rc = tpe_tokenizer_load_json_mem(text, size, "fuzz/tokenizer.json", &t);
    if (rc != TPE_OK) return 0;
    exercise(t, "Hello world, it's 2024!\n  \xc3\xa9t\xc3\xa9", 29);
    exercise(t, text, size);
    tpe_tokenizer_free(t);
    return 0;
}
