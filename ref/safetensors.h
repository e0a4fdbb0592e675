/*
 * safetensors.h -- reading and writing safetensors files, and sharded
 * checkpoints (model.safetensors.index.json).
 *
 * Format (https://huggingface.co/docs/safetensors): an unsigned 64-bit
 * little-endian header length N, N bytes of UTF-8 JSON, then the data
 * section. The JSON is an object mapping each tensor name to
 *     {"dtype": "F32", "shape": [2, 3], "data_offsets": [BEGIN, END]}
 * plus an optional "__metadata__" object of string values. BEGIN and END
 * are byte offsets into the data section; the data are little-endian and
 * row-major.
 *
 * The reader trusts nothing: the header length must fit the file (and is
 * capped at 100 MB, as the reference implementation does), every tensor's
 * END - BEGIN must equal the product of its shape times the element size
 * (checked for overflow), every range must lie inside the data section and
 * no two ranges may overlap. Every error names the file and the tensor.
 * The file is memory-mapped where possible (TPE_NO_MMAP=1 reads it in).
 */
#ifndef TPE_SAFETENSORS_H
#define TPE_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "array.h"
#include "platform.h"

#define TPE_ST_MAX_HEADER ((uint64_t)100000000u)

typedef struct tpe_st_tensor {
    char *name;
    char dtype_name[12];       /* as written: "F32", "BF16", "F8_E4M3", ...         */
    int dtype_known;           /* 1 when `dtype` holds it (every type but F8_*)       */
    tpe_dtype dtype;
    size_t elem_size;          /* bytes per element                                 */
    int ndim;
    size_t shape[TPE_MAXDIM];
    size_t count;              /* product of shape (1 for a 0-d tensor)             */
    size_t begin, end;         /* byte range inside the data section                */
    const unsigned char *data; /* end - begin bytes, little-endian, maybe unaligned */
} tpe_st_tensor;

typedef struct tpe_st_file {
    char *path;
    tpe_mapping map;       /* the whole file (or a caller's buffer, not owned)      */
    int owns_map;
    size_t header_len;     /* N                                                     */
    size_t data_len;       /* bytes after the header                                */
    size_t n;              /* number of tensors                                     */
    tpe_st_tensor *tensors; /* sorted by name                                       */
} tpe_st_file;

/* Open and validate a file. On failure nothing is left open. */
int tpe_st_open(const char *path, tpe_st_file *f);
/* Validate an image already in memory (not copied: buf must outlive f). */
int tpe_st_parse(const unsigned char *buf, size_t len, const char *name, tpe_st_file *f);
void tpe_st_close(tpe_st_file *f);
/* Tensor by exact name, or NULL. */
const tpe_st_tensor *tpe_st_find(const tpe_st_file *f, const char *name);

/* ---- a set of files: one model.safetensors or the shards of an index ---- */
typedef struct tpe_st_set {
    tpe_st_file *files;
    size_t nfiles;
    size_t n;                      /* tensors over all files                 */
    const tpe_st_tensor **tensors; /* sorted by name                         */
    const char **file_of;          /* for each tensor, its file's path       */
} tpe_st_set;

/* Open DIR/model.safetensors, or DIR/model.safetensors.index.json and the
 * shards it names (plain file names inside DIR only). A name found in two
 * shards, an index entry pointing at a shard that lacks it, or a tensor in a
 * shard the index does not list is an error. */
int tpe_st_set_open_dir(const char *dir, tpe_st_set *s);
void tpe_st_set_close(tpe_st_set *s);
const tpe_st_tensor *tpe_st_set_find(const tpe_st_set *s, const char *name, size_t *index);

/* Element i of a tensor of dtype F16, BF16, F32 or F64, widened to double
 * (exactly) from its little-endian bytes, whatever the host byte order. */
double tpe_st_elem_f64(tpe_dtype t, const unsigned char *data, size_t i);
/* Convert count elements starting at element `first` into f32 / f64
 * (F64 -> f32 rounds to nearest; every other widening is exact). */
void tpe_st_to_f32(tpe_dtype t, const unsigned char *data, size_t first, size_t count, float *out);
void tpe_st_to_f64(tpe_dtype t, const unsigned char *data, size_t first, size_t count, double *out);

/* Encode n doubles as little-endian F16, BF16, F32 or F64 (rounding to
 * nearest even where narrower) into out (n * element size bytes). */
void tpe_st_encode(tpe_dtype t, const double *x, size_t n, unsigned char *out);

/* ---- writer ------------------------------------------------------------- */
typedef struct tpe_st_entry {
    const char *name;
    tpe_dtype dtype;    /* F16, BF16, F32, F64 (data in native byte order; F16/BF16 as uint16_t) */
    int ndim;
    size_t shape[TPE_MAXDIM];
    const void *data;
    int data_is_le;     /* 1: data are already little-endian bytes (copied verbatim) */
} tpe_st_entry;

/* Write n tensors (in the given order, contiguous) with "__metadata__":
 * {"format": "pt"}; the header is padded with spaces to a multiple of 8
 * bytes so that the data start 8-byte aligned. Whole file or nothing. */
int tpe_st_write(const char *path, const tpe_st_entry *e, size_t n);

#endif
