/*
 * io.h -- files that are either written whole or not at all, text input,
 * byte order, half-precision conversion, and the progress bar.
 */
#ifndef TPE_IO_H
#define TPE_IO_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ---- output files: write to "<path>.tmp.<pid>", rename on commit ------ */
typedef struct tpe_outfile {
    FILE *f;
    char *path;     /* final name                      */
    char *tmp_path; /* where the bytes go until commit */
} tpe_outfile;

int tpe_out_open(tpe_outfile *o, const char *path);
/* Flushes, checks for write errors, closes and renames. On failure the
 * temporary file is removed and nothing exists under the final name. */
int tpe_out_commit(tpe_outfile *o);
/* Closes and removes the temporary file (safe to call after commit). */
void tpe_out_abort(tpe_outfile *o);

/* Read a whole file into a NUL-terminated malloc'd buffer. */
int tpe_read_text(const char *path, char **text, size_t *len);

/* ---- byte order -------------------------------------------------------- */
int tpe_host_little_endian(void);
uint16_t tpe_load_le16(const unsigned char *p);
uint32_t tpe_load_le32(const unsigned char *p);
uint64_t tpe_load_le64(const unsigned char *p);
void tpe_store_le32(unsigned char *p, uint32_t v);
void tpe_store_le64(unsigned char *p, uint64_t v);
/* Reverse the bytes of each of `count` elements of `size` bytes, in place. */
void tpe_bswap_inplace(void *data, size_t count, size_t size);
/* fwrite `count` elements of `size` bytes in native order as little-endian
 * (byte-swapped through a small buffer on big-endian hosts). */
void tpe_fwrite_le(FILE *f, const void *data, size_t count, size_t size);

/* ---- half precision (exact widening; rounding to nearest-even narrowing) */
float tpe_f16_to_f32(uint16_t h);
float tpe_bf16_to_f32(uint16_t h);
uint16_t tpe_f32_to_f16(float f);
uint16_t tpe_f32_to_bf16(float f);

/* ---- progress bar on stderr (only when it is a terminal, not --quiet) -- */
extern int tpe_quiet;
typedef struct tpe_progress {
    const char *label;
    double total;
    double t0, last;
    int enabled, drawn;
} tpe_progress;
/* update and end accept NULL (no bar), so library code can take an optional one */
void tpe_progress_begin(tpe_progress *p, const char *label, double total);
void tpe_progress_update(tpe_progress *p, double done);
void tpe_progress_end(tpe_progress *p);

#endif
