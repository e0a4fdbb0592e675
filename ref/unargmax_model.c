/*
 * unargmax_model.c -- the output layer of a Hugging Face model directory,
 * for `tpe unargmax MODEL`: all unargmax needs is W (V, d), the output
 * embedding, and the head's bias when there is one.
 *
 * Where the tensors are (names with or without the "transformer." prefix):
 *   gpt2      lm_head.weight, else the tied input embedding wte.weight
 *   gpt_neox  embed_out.weight
 *   gptj      lm_head.weight and lm_head.bias
 * so the search order is lm_head.weight, embed_out.weight, wte.weight,
 * transformer.wte.weight, and the bias is lm_head.bias when present.
 *
 * This needs the safetensors reader (ref/safetensors.h, being written on
 * another branch). Until it is part of the build, TPE_HAVE_SAFETENSORS is
 * undefined and the function says so, naming the --w/--b alternative.
 */
#include "unargmax.h"

#include "array.h"
#include "tpe.h"

#include <string.h>

#ifdef TPE_HAVE_SAFETENSORS
#include "safetensors.h"

static const char *const weight_names[] = {"lm_head.weight", "transformer.lm_head.weight", "embed_out.weight",
                                           "transformer.embed_out.weight", "wte.weight", "transformer.wte.weight"};
static const char *const bias_names[] = {"lm_head.bias", "transformer.lm_head.bias", "embed_out.bias"};

/* a 2-D (or 1-D) tensor into a new array of f32 (F32 and narrower) or f64 */
static int take(const tpe_st_tensor *t, const char *dir, tpe_array *a)
{
    size_t i;
    memset(a, 0, sizeof *a);
    if (!t->dtype_known || (t->dtype != TPE_F32 && t->dtype != TPE_F64 && t->dtype != TPE_F16 && t->dtype != TPE_BF16))
        return tpe_error(TPE_EFORMAT, "%s: tensor '%s' has dtype %s (expected F32, F16, BF16 or F64)", dir, t->name,
                         t->dtype_name);
    a->dtype = t->dtype == TPE_F64 ? TPE_F64 : TPE_F32;
    a->ndim = t->ndim;
    for (i = 0; i < (size_t)t->ndim; i++) a->shape[i] = t->shape[i];
    a->count = t->count;
    a->data = tpe_alloc_array(t->count ? t->count : 1, tpe_dtype_size(a->dtype), t->name);
    if (!a->data) return TPE_ENOMEM;
    if (a->dtype == TPE_F64) tpe_st_to_f64(t->dtype, t->data, 0, t->count, a->data);
    else tpe_st_to_f32(t->dtype, t->data, 0, t->count, a->data);
    return TPE_OK;
}

int tpe_unargmax_load_model(const char *dir, tpe_array *w, tpe_array *b, int *has_bias)
{
    tpe_st_set set;
    const tpe_st_tensor *tw = NULL, *tb = NULL;
    size_t i;
    int rc;
    memset(w, 0, sizeof *w);
    memset(b, 0, sizeof *b);
    *has_bias = 0;
    if ((rc = tpe_st_set_open_dir(dir, &set)) != TPE_OK) return rc;
    for (i = 0; i < sizeof weight_names / sizeof weight_names[0] && !tw; i++) tw = tpe_st_set_find(&set, weight_names[i], NULL);
    for (i = 0; i < sizeof bias_names / sizeof bias_names[0] && !tb; i++) tb = tpe_st_set_find(&set, bias_names[i], NULL);
    if (!tw) {
        tpe_st_set_close(&set);
        return tpe_error(TPE_EFORMAT, "%s: no output embedding (lm_head.weight, embed_out.weight or wte.weight)", dir);
    }
    if (tw->ndim != 2) {
        tpe_st_set_close(&set);
        return tpe_error(TPE_EFORMAT, "%s: tensor '%s' has %d dimensions, expected 2 (vocab x dim)", dir, tw->name, tw->ndim);
    }
    if (tb && (tb->ndim != 1 || tb->shape[0] != tw->shape[0])) {
        tpe_st_set_close(&set);
        return tpe_error(TPE_EFORMAT, "%s: tensor '%s' should have shape (%zu,)", dir, tb->name, tw->shape[0]);
    }
    rc = take(tw, dir, w);
    if (!rc && tb) {
        rc = take(tb, dir, b);
        if (!rc) rc = tpe_array_convert(b, TPE_F64, tb->name);
        *has_bias = rc == TPE_OK;
    }
    tpe_st_set_close(&set);
    if (rc) {
        tpe_array_free(w);
        tpe_array_free(b);
        *has_bias = 0;
    }
    return rc;
}

#else

int tpe_unargmax_load_model(const char *dir, tpe_array *w, tpe_array *b, int *has_bias)
{
    memset(w, 0, sizeof *w);
    memset(b, 0, sizeof *b);
    *has_bias = 0;
    return tpe_error(TPE_EUNSUPPORTED,
                     "%s: reading model directories needs the safetensors loader, which is not in this build yet; "
                     "pass the output embedding as --w W.npy (and its bias as --b b.npy)",
                     dir);
}

#endif
