/* libFuzzer target: the safetensors header and layout checks. An accepted
 * file's every tensor is converted to double, element by element, so that
 * ASan sees any read outside the file. */
#include "safetensors.h"
#include "tpe.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tpe_st_file f;
    size_t i, j;
    double v;
    if (tpe_st_parse(data, size, "fuzz.safetensors", &f) != TPE_OK) return 0;
    for (i = 0; i < f.n; i++) {
        const tpe_st_tensor *t = &f.tensors[i];
        if (t->end - t->begin != t->count * t->elem_size) abort();
        if (!t->dtype_known || t->dtype == TPE_BOOL || t->dtype == TPE_U8 || t->dtype == TPE_I8) continue;
        if (t->dtype != TPE_F16 && t->dtype != TPE_BF16 && t->dtype != TPE_F32 && t->dtype != TPE_F64) continue;
        for (j = 0; j < t->count && j < 4096; j++) tpe_st_to_f64(t->dtype, t->data, j, 1, &v);
        if (t->count) tpe_st_to_f64(t->dtype, t->data, t->count - 1, 1, &v);
    }
    tpe_st_close(&f);
    return 0;
}
