/*
 * shard.h -- sharded runs: `tpe probe --shard I/N` writes a part file with
 * the exact partial sums of its samples (every N-th, from sample I on), and
 * `tpe merge` combines the N parts into the alpha a single run gives, bit
 * for bit (exactsum.h says why the bits do not depend on N).
 *
 * A part file (docs/formats.md, "Part files"), all integers little-endian:
 *
 *   offset 0   8 bytes  magic "\x93TPEPART"
 *          8   u32      format version (TPE_PART_VERSION)
 *         12   u32      H, the length of the JSON header
 *         16   H bytes  JSON header (UTF-8, padded with spaces so that 16 + H
 *                       is a multiple of 8, ending in '\n'): what was run --
 *                       the fingerprint of model, data and settings -- and
 *                       which shard this is
 *    16 + H    V * 18 * 8 bytes: the exact sums, V accumulators of 18 u64
 *                       limbs (least significant first), sum_v = limbs * 2^-1074
 *   end - 32   32 bytes SHA-256 of every byte before it
 *
 * The run's identity (model files, DATA, the tokens DATA gave, max-len,
 * precision, input mode, N) is hashed into one "fingerprint"; merging
 * compares the fields one by one and names the first that differs.
 */
#ifndef TPE_SHARD_H
#define TPE_SHARD_H

#include <stddef.h>
#include <stdint.h>

#include <stdio.h>

#include "exactsum.h"
#include "model.h"
#include "sha256.h"

#define TPE_PART_VERSION 1
#define TPE_PART_MAGIC "\x93TPEPART"

/* One file of the model directory and its digest. */
typedef struct tpe_part_file {
    char *name;          /* "config.json", "model.safetensors", ...      */
    uint64_t bytes;
    char sha256[65];
} tpe_part_file;

typedef struct tpe_part {
    /* ---- the run: equal in every part of one run ---- */
    char kind[16];              /* "probe"                                         */
    char model_sha256[65];      /* SHA-256 over the files' names, sizes, digests   */
    tpe_part_file *files;       /* nfiles, sorted by name                          */
    size_t nfiles;
    char model_type[16];
    uint64_t vocab, width;      /* V, C                                            */
    char data_sha256[65];       /* the bytes of DATA                               */
    char tokens_sha256[65];     /* the token stream DATA gave (docs/formats.md)    */
    uint64_t samples, tokens;   /* of the whole dataset                            */
    int ids_file;               /* DATA was token ids, not text                    */
    uint64_t max_len;
    char precision[4];          /* "f32" or "f64"                                  */
    uint64_t shards;            /* N                                               */
    char platform[48];          /* "x86_64/avx2": architecture and kernel path     */
    char fingerprint[65];       /* SHA-256 of the fields above but the platform    */
    /* ---- this part ---- */
    uint64_t shard;             /* I, 0 <= I < N                                   */
    uint64_t local_samples, local_tokens, local_windows;
    /* ---- for people reading it (not compared) ---- */
    char *model_dir, *data_path;
    char tpe_version[16];
    /* ---- hidden states written beside it (--save-hidden), or none ---- */
    int has_hidden;
    char *hidden_path, *hidden_tokens_path; /* as given to probe              */
    uint64_t hidden_rows;                   /* == local_tokens                */
    char hidden_sha256[65], hidden_tokens_sha256[65];
    /* ---- the exact sums of the next-token distributions: V accumulators ---- */
    tpe_xsum sums;
    uint64_t positions;         /* positions added (== local_tokens)               */
} tpe_part;

void tpe_part_init(tpe_part *p);
void tpe_part_free(tpe_part *p);

/* "I/N" with 0 <= I < N: 0, or TPE_EINVAL with a message. */
int tpe_shard_parse(const char *s, uint64_t *i, uint64_t *n);

/* ---- fingerprints --------------------------------------------------------- */
/* SHA-256 of config.json, the safetensors file(s) and the index when there
 * is one (reads every byte of the weights; a progress bar on stderr). */
int tpe_part_hash_model(tpe_part *p, const tpe_model *m);
/* SHA-256 of the DATA file, and of its token stream: for each sample in
 * order, its length as u64 LE then its ids as u32 LE. Sample i is
 * ids[start[i] .. start[i + 1]). */
int tpe_part_hash_data(tpe_part *p, const char *data_path, const int32_t *ids, const size_t *start, size_t nsamples);
/* Fill p->fingerprint from the run's fields. */
void tpe_part_seal(tpe_part *p);
/* "x86_64/avx2": this machine and the chosen kernel path. */
void tpe_part_platform(char *buf, size_t cap);

/* ---- files ---------------------------------------------------------------- */
/* Write whole or nothing. */
int tpe_part_write(const char *path, const tpe_part *p);
/* Read and validate (magic, version, header, sizes, checksum). With
 * with_sums 0 the sums are checked but not kept (p->sums stays empty). */
int tpe_part_read(const char *path, tpe_part *p, int with_sums);

/* TPE_OK when b (file pb) belongs to the same run as a (file pa); else an
 * error naming both files and the first field that differs. Parts made on
 * another platform (architecture or kernel path) are refused unless
 * allow_mixed_platforms: their float results differ in the last bits. */
int tpe_part_same_run(const tpe_part *a, const char *pa, const tpe_part *b, const char *pb, int allow_mixed_platforms);

/* Merge the parts in files paths[0..n): every shard 0..N-1 exactly once,
 * all of one run. On success *out holds the run's fields (from the first
 * part), the total sums and positions, and the local counts summed; the
 * order of paths does not change a bit of the sums.
 * With hidden_out, also rebuild the single run's --save-hidden files from
 * the shards' ones: hidden_out (N, C) and tpe_hidden_tokens_path(hidden_out),
 * rows in sample order, identical to what `tpe probe --save-hidden` writes.
 * Each shard's files are found where its part says, or else by their base
 * name beside the part file, and must match the SHA-256 the part records. */
int tpe_part_merge(const char *const *paths, size_t n, int allow_mixed_platforms, tpe_part *out, const char *hidden_out);

/* alpha (V) = sums / positions, each sum rounded once (exactsum.h). */
int tpe_part_alpha(const tpe_part *p, double *alpha);

/* fwrite count elements of size bytes as little-endian, adding the bytes
 * written to h (hidden-state files are hashed as they are streamed). */
void tpe_fwrite_le_hashed(FILE *f, tpe_sha256 *h, const void *data, size_t count, size_t size);



#endif
