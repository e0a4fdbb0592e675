/*
 * array.h -- dtypes, an n-dimensional array, and NumPy .npy files.
 *
 * .npy (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html):
 * magic "\x93NUMPY", version (1.0, 2.0 or 3.0), header length (u16 LE for
 * 1.0, u32 LE after), a Python dict literal {'descr': '<f8', 'fortran_order':
 * False, 'shape': (3, 4), } padded with spaces and ended by '\n', then the
 * data in C order. tpe reads any byte order and hands back native order;
 * it writes version 1.0 little-endian with the header padded to 64 bytes.
 */
#ifndef TPE_ARRAY_H
#define TPE_ARRAY_H

#include <stddef.h>

typedef enum tpe_dtype {
    TPE_F16, TPE_BF16, TPE_F32, TPE_F64,
    TPE_I8, TPE_U8, TPE_I16, TPE_U16, TPE_I32, TPE_U32, TPE_I64, TPE_U64,
    TPE_BOOL
} tpe_dtype;

size_t tpe_dtype_size(tpe_dtype t);
const char *tpe_dtype_name(tpe_dtype t); /* "f32", ...  */

#define TPE_MAXDIM 8

typedef struct tpe_array {
    tpe_dtype dtype;
    int ndim;
    size_t shape[TPE_MAXDIM];
    size_t count; /* product of shape (1 for a 0-d array) */
    void *data;   /* count elements, native byte order, tpe_alloc'd */
} tpe_array;

void tpe_array_free(tpe_array *a);

/* Parse a .npy image in memory; `name` is used in error messages. */
int tpe_npy_parse(const unsigned char *buf, size_t len, const char *name, tpe_array *a);
int tpe_npy_read(const char *path, tpe_array *a);
/* Read and convert to f64 / f32 (from any float or integer dtype). */
int tpe_npy_read_f64(const char *path, tpe_array *a);
int tpe_npy_read_f32(const char *path, tpe_array *a);
/* Convert an array in place to `to` (float/int dtypes; error if lossy
 * integer conversion would be needed from a float, e.g. 1.5 -> i64). */
int tpe_array_convert(tpe_array *a, tpe_dtype to, const char *name);

/* Write an array (whole or nothing). dtype must be F32, F64, I32, I64, U8,
 * I8, F16, U16, I16, U32, U64 or BOOL. */
int tpe_npy_write(const char *path, tpe_dtype t, int ndim, const size_t *shape, const void *data);

/* The version 1.0 header of an array (magic, version, length, dict, padding
 * to a multiple of 64 bytes) into buf; *len its size. For files written a
 * piece at a time (the data follow little-endian, C order). */
int tpe_npy_header(char *buf, size_t cap, tpe_dtype t, int ndim, const size_t *shape, size_t *len);

/* Error naming the first NaN/Inf element (by flat index and row/col for
 * 2-D shapes) in x[0..n); TPE_OK when all are finite. */
int tpe_check_finite_f64(const double *x, size_t n, size_t ncols, const char *what);
int tpe_check_finite_f32(const float *x, size_t n, size_t ncols, const char *what);

#endif
