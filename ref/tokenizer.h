/*
 * tokenizer.h -- GPT-2 byte-level BPE (the interface; implementation in
 * bpe.c). Loads `vocab.json` + `merges.txt`, or a `tokenizer.json` whose
 * model is BPE with a byte-level pre-tokenizer (as Pythia ships it).
 */
#ifndef TPE_TOKENIZER_H
#define TPE_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

typedef struct tpe_tokenizer tpe_tokenizer;

/* dir holds vocab.json + merges.txt, or tokenizer.json (tried first). */
int tpe_tokenizer_load(const char *dir, tpe_tokenizer **out);
void tpe_tokenizer_free(tpe_tokenizer *tok);
/* Number of ids (the largest id + 1). */
size_t tpe_tokenizer_vocab_size(const tpe_tokenizer *tok);

/* Encode `len` bytes of text. *ids is allocated with malloc (free it);
 * invalid UTF-8 is handled as documented in docs/formats.md. */
int tpe_tokenizer_encode(tpe_tokenizer *tok, const char *text, size_t len, int32_t **ids, size_t *n);
/* Decode ids back to bytes (*text malloc'd, NUL-terminated, *len bytes). */
int tpe_tokenizer_decode(const tpe_tokenizer *tok, const int32_t *ids, size_t n, char **text, size_t *len);
/* The string of one token as stored in the vocabulary (byte-level
 * unicode form), or NULL for an unknown id. */
const char *tpe_tokenizer_token(const tpe_tokenizer *tok, int32_t id);

#endif
