/*
 * tokenizer.h -- GPT-2 byte-level BPE (the interface; implementation in
 * bpe.c). Loads `vocab.json` + `merges.txt`, or a `tokenizer.json` whose
 * model is BPE with a byte-level pre-tokenizer (as Pythia ships it).
 */
#ifndef TPE_TOKENIZER_H
#define TPE_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct tpe_tokenizer tpe_tokenizer;

/* dir holds vocab.json + merges.txt, or tokenizer.json (tried first). */
int tpe_tokenizer_load(const char *dir, tpe_tokenizer **out);
void tpe_tokenizer_free(tpe_tokenizer *tok);
/* The same from texts in memory (fuzzing, embedding): a tokenizer.json, or
 * the texts of vocab.json and merges.txt; `name` is used in messages. */
int tpe_tokenizer_load_json_mem(const char *text, size_t len, const char *name, tpe_tokenizer **out);
int tpe_tokenizer_load_gpt2_mem(const char *vocab, size_t vlen, const char *merges, size_t mlen, const char *name,
                                tpe_tokenizer **out);
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

/* ---- added after the interface was fixed (nothing above changed) ------- */
/* Id of a token string as the vocabulary spells it (model vocabulary or a
 * tokenizer.json added token, e.g. "<|endoftext|>"), or -1. */
int32_t tpe_tokenizer_id(const tpe_tokenizer *tok, const char *token);
/* "tokenizer.json" or "vocab.json + merges.txt": what was loaded. */
const char *tpe_tokenizer_source(const tpe_tokenizer *tok);

/* Tokenize a whole stream in bounded memory, with exactly the ids
 * tpe_tokenizer_encode gives the whole content. It is read `chunk` bytes at
 * a time (0: 1 MiB) and cut only before a White_Space character that follows
 * a non-space one, where no token can straddle (see bpe.c). sink(ctx, ids,
 * n, text, len) receives each piece of text in order with its ids; a
 * non-zero return stops the stream and is returned. `name` labels errors
 * ("corpus.txt: line 3: invalid UTF-8 at byte offset 1234 (bytes ff 0a)"). */
typedef int (*tpe_token_sink)(void *ctx, const int32_t *ids, size_t n, const char *text, size_t len);
int tpe_tokenizer_encode_stream(tpe_tokenizer *tok, FILE *f, const char *name, size_t chunk, tpe_token_sink sink,
                                void *ctx);

#endif
