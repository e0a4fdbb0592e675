/*
 * textgen.c -- prefixes and seeded continuations for MAUVE (textgen.h).
 */
#include "textgen.h"
#include "tpe.h"

#include <stdlib.h>
#include <string.h>

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

void tpe_textgen_prefix(const char *line, size_t n, size_t words, size_t *start, size_t *len)
{
    size_t i = 0, w = 0, end;
    while (i < n && is_space(line[i])) i++;
    *start = i;
    end = i;
    while (i < n && w < words) {
        while (i < n && !is_space(line[i])) i++;
        end = i;
        w++;
        while (i < n && is_space(line[i])) i++;
    }
    *len = end - *start;
}

void tpe_textgen_opts_default(tpe_textgen_opts *o)
{
    memset(o, 0, sizeof *o);
    o->sampling.temperature = 1.0;
    o->sampling.top_k = 0;
    o->sampling.top_p = 1.0;
    o->max_new = 32;
    o->seed = 0;
    o->stop_at_eos = 1;
}

int tpe_textgen_run(const tpe_model *m, const int32_t *ids, const size_t *start, size_t n, const tpe_textgen_opts *o,
                    int32_t **out_ids, size_t **out_start, void (*progress)(void *ctx), void *progress_ctx)
{
    size_t V = m->cfg.n_vocab, C = m->cfg.d_out, P = m->cfg.n_ctx, longest = 1, i, cap, total = 0;
    tpe_runtime *rt = NULL;
    float *h = NULL, *logits = NULL;
    int32_t *gen = NULL;
    size_t *gstart = NULL;
    int rc = TPE_OK;
    *out_ids = NULL;
    *out_start = NULL;
    for (i = 0; i < n; i++) {
        size_t len = start[i + 1] - start[i];
        if (len == 0) return tpe_error(TPE_EINVAL, "prompt %zu has no tokens", i);
        if ((rc = tpe_model_check_ids(m, ids + start[i], len, 0))) return tpe_error_prefix(rc, "prompt %zu: ", i);
        if (len > longest) longest = len;
    }
    if (tpe_size_mul(n, o->max_new, &cap) || tpe_size_add(cap, 1, &cap)) return tpe_error(TPE_ENOMEM, "too many tokens to generate");
    gen = malloc(cap * sizeof *gen);
    gstart = malloc((n + 1) * sizeof *gstart);
    h = tpe_alloc_array(longest, C * sizeof *h, "hidden states");
    logits = tpe_alloc_array(V, sizeof *logits, "logits");
    if (!gen || !gstart || !h || !logits) {
        rc = tpe_error(TPE_ENOMEM, "out of memory generating %zu samples", n);
        goto done;
    }
    if ((rc = tpe_runtime_new(m, longest, 1, &rt))) goto done;
    gstart[0] = 0;
    for (i = 0; i < n && !rc; i++) {
        const int32_t *prompt = ids + start[i];
        size_t plen = start[i + 1] - start[i], t;
        tpe_sampler *smp = NULL;
        tpe_runtime_reset(rt);
        /* the same generator stream for sample i whatever the model */
        if ((rc = tpe_sampler_new(V, &o->sampling, o->seed + (uint64_t)i, &smp))) break;
        rc = tpe_forward(rt, prompt, plen, h, NULL);
        if (!rc) rc = tpe_forward_logits(rt, h + (plen - 1) * C, 1, logits);
        for (t = 0; t < o->max_new && !rc && plen + t < P; t++) {
            int32_t next;
            if ((rc = tpe_sampler_next(smp, logits, NULL, &next))) break;
            if (o->stop_at_eos && m->cfg.eos_token_id >= 0 && next == m->cfg.eos_token_id) break;
            gen[total++] = next;
            /* the next token's logits, unless the sample is complete */
            if (t + 1 < o->max_new && plen + t + 1 < P) {
                rc = tpe_forward(rt, &next, 1, h, NULL);
                if (!rc) rc = tpe_forward_logits(rt, h, 1, logits);
            }
        }
        tpe_sampler_free(smp);
        if (rc) {
            tpe_error_prefix(rc, "generating sample %zu: ", i);
            break;
        }
        gstart[i + 1] = total;
        if (progress) progress(progress_ctx);
    }
done:
    tpe_free(h);
    tpe_free(logits);
    tpe_runtime_free(rt);
    if (rc) {
        free(gen);
        free(gstart);
        return rc;
    }
    *out_ids = gen;
    *out_start = gstart;
    return TPE_OK;
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 with *bad the number
 * of bytes of its maximal invalid subpart (at least 1): the Unicode
 * Standard's "U+FFFD substitution of maximal subparts" (Sec. 3.9, Table
 * 3-7), which Python's decoder follows. */
static size_t utf8_step(const unsigned char *s, size_t n, size_t *bad)
{
    unsigned char b = s[0];
    size_t need, k;
    unsigned char lo = 0x80, hi = 0xBF;
    *bad = 1;
    if (b < 0x80) return 1;
    if (b >= 0xC2 && b <= 0xDF) need = 1;
    else if (b >= 0xE0 && b <= 0xEF) {
        need = 2;
        if (b == 0xE0) lo = 0xA0;
        if (b == 0xED) hi = 0x9F;
    } else if (b >= 0xF0 && b <= 0xF4) {
        need = 3;
        if (b == 0xF0) lo = 0x90;
        if (b == 0xF4) hi = 0x8F;
    } else {
        return 0; /* 80..C1, F5..FF: never a lead byte */
    }
    for (k = 1; k <= need; k++) {
        unsigned char c;
        if (k >= n) { /* cut off: the bytes so far are one subpart */
            *bad = k;
            return 0;
        }
        c = s[k];
        if (c < (k == 1 ? lo : 0x80) || c > (k == 1 ? hi : 0xBF)) {
            *bad = k;
            return 0;
        }
    }
    return need + 1;
}

int tpe_utf8_replace_invalid(const char *s, size_t n, char **out, size_t *outlen)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, o = 0, cap;
    char *buf;
    /* at most 3 output bytes per input byte */
    if (tpe_size_mul(n, 3, &cap) || tpe_size_add(cap, 1, &cap)) return tpe_error(TPE_ENOMEM, "text too long");
    buf = malloc(cap);
    if (!buf) return tpe_error(TPE_ENOMEM, "out of memory");
    while (i < n) {
        size_t bad, k = utf8_step(u + i, n - i, &bad);
        if (k) {
            memcpy(buf + o, s + i, k);
            o += k;
            i += k;
        } else {
            buf[o++] = (char)0xEF; /* U+FFFD */
            buf[o++] = (char)0xBF;
            buf[o++] = (char)0xBD;
            i += bad;
        }
    }
    buf[o] = '\0';
    *out = buf;
    *outlen = o;
    return TPE_OK;
}
