/*
 * unargmax_model.c -- the output layer of a Hugging Face model directory,
 * for `tpe unargmax MODEL`: all unargmax needs is W (V, d), the output
 * embedding E^(o), and the head's bias when there is one. The model loader
 * (model.h) knows where each architecture keeps them: GPT-2's tied wte,
 * GPT-NeoX's embed_out, GPT-J's lm_head weight and bias.
 */
#include "unargmax.h"

#include "array.h"
#include "model.h"
#include "tpe.h"

#include <string.h>

/* A (rows, cols) weight into a new f32 array (F32, F16, BF16 storage) or f64
 * array (F64 storage), so nothing is rounded on the way. */
static int take(const tpe_weight *t, tpe_array *a)
{
    int rc;
    memset(a, 0, sizeof *a);
    a->dtype = t->dtype == TPE_F64 ? TPE_F64 : TPE_F32;
    a->ndim = t->ndim;
    a->shape[0] = t->ndim == 1 ? t->cols : t->rows;
    a->shape[1] = t->cols;
    a->count = t->rows * t->cols;
    a->data = tpe_alloc_array(a->count ? a->count : 1, tpe_dtype_size(a->dtype), t->name ? t->name : "weight");
    if (!a->data) return TPE_ENOMEM;
    rc = a->dtype == TPE_F64 ? tpe_weight_to_f64(t, a->data) : tpe_weight_to_f32(t, a->data);
    if (rc) tpe_array_free(a);
    return rc;
}

int tpe_unargmax_load_model(const char *dir, tpe_array *w, tpe_array *b, int *has_bias)
{
    tpe_model_options opt;
    tpe_model *m = NULL;
    const tpe_weight *tb;
    int rc;
    memset(w, 0, sizeof *w);
    memset(b, 0, sizeof *b);
    *has_bias = 0;
    tpe_model_options_default(&opt);
    opt.widen_limit = 0; /* only the head is read: keep everything in storage form */
    if ((rc = tpe_model_load(dir, &opt, &m)) != TPE_OK) return rc;
    rc = take(tpe_model_output_embedding(m), w);
    tb = tpe_model_head_bias(m);
    if (!rc && tb) {
        rc = take(tb, b);
        if (!rc) rc = tpe_array_convert(b, TPE_F64, tb->name ? tb->name : "lm_head.bias");
        *has_bias = rc == TPE_OK;
    }
    tpe_model_free(m);
    if (rc) {
        tpe_array_free(w);
        tpe_array_free(b);
        *has_bias = 0;
    }
    return rc;
}
