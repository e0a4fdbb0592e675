/*
 * io.c -- whole-or-nothing output files, byte order, half precision and the
 * progress bar.
 */
#include "io.h"
#include "platform.h"
#include "tpe.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int tpe_quiet = 0;

int tpe_out_open(tpe_outfile *o, const char *path)
{
    size_t n = strlen(path) + 40;
    o->f = NULL;
    o->path = tpe_strdup(path);
    o->tmp_path = malloc(n);
    if (!o->path || !o->tmp_path) {
        free(o->path);
        free(o->tmp_path);
        o->path = o->tmp_path = NULL;
        return tpe_error(TPE_ENOMEM, "out of memory opening %s", path);
    }
    snprintf(o->tmp_path, n, "%s.tmp.%ld", path, tpe_process_id());
    o->f = fopen(o->tmp_path, "wb");
    if (!o->f) {
        int rc = tpe_error(TPE_EIO, "%s: cannot create: %s", o->tmp_path, strerror(errno));
        free(o->path);
        free(o->tmp_path);
        o->path = o->tmp_path = NULL;
        return rc;
    }
    return TPE_OK;
}

int tpe_out_commit(tpe_outfile *o)
{
    int bad;
    if (!o->f) return tpe_error(TPE_EIO, "output file not open");
    bad = fflush(o->f) != 0 || ferror(o->f);
    bad |= fclose(o->f) != 0;
    o->f = NULL;
    if (bad) {
        int rc = tpe_error(TPE_EIO, "%s: write failed: %s", o->path, strerror(errno));
        tpe_out_abort(o);
        return rc;
    }
    if (rename(o->tmp_path, o->path) != 0) {
        int rc = tpe_error(TPE_EIO, "%s: cannot rename from %s: %s", o->path, o->tmp_path, strerror(errno));
        tpe_out_abort(o);
        return rc;
    }
    free(o->path);
    free(o->tmp_path);
    o->path = o->tmp_path = NULL;
    return TPE_OK;
}

void tpe_out_abort(tpe_outfile *o)
{
    if (o->f) fclose(o->f);
    o->f = NULL;
    if (o->tmp_path) remove(o->tmp_path);
    free(o->path);
    free(o->tmp_path);
    o->path = o->tmp_path = NULL;
}

int tpe_read_text(const char *path, char **text, size_t *len)
{
    tpe_mapping m;
    char *buf;
    int rc = tpe_map_file(path, &m);
    *text = NULL;
    *len = 0;
    if (rc) return rc;
    buf = malloc(m.size + 1);
    if (!buf) {
        tpe_unmap_file(&m);
        return tpe_error(TPE_ENOMEM, "%s: out of memory (%zu bytes)", path, m.size);
    }
    if (m.size) memcpy(buf, m.data, m.size);
    buf[m.size] = '\0';
    *text = buf;
    *len = m.size;
    tpe_unmap_file(&m);
    return TPE_OK;
}

int tpe_host_little_endian(void)
{
    const uint16_t one = 1;
    unsigned char c;
    memcpy(&c, &one, 1);
    return c == 1;
}

uint16_t tpe_load_le16(const unsigned char *p) { return (uint16_t)(p[0] | (p[1] << 8)); }

uint32_t tpe_load_le32(const unsigned char *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

uint64_t tpe_load_le64(const unsigned char *p)
{
    return (uint64_t)tpe_load_le32(p) | ((uint64_t)tpe_load_le32(p + 4) << 32);
}

void tpe_store_le32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

void tpe_store_le64(unsigned char *p, uint64_t v)
{
    tpe_store_le32(p, (uint32_t)v);
    tpe_store_le32(p + 4, (uint32_t)(v >> 32));
}

void tpe_bswap_inplace(void *data, size_t count, size_t size)
{
    unsigned char *p = data;
    size_t i, j;
    if (size < 2) return;
    for (i = 0; i < count; i++, p += size) {
        for (j = 0; j < size / 2; j++) {
            unsigned char t = p[j];
            p[j] = p[size - 1 - j];
            p[size - 1 - j] = t;
        }
    }
}

void tpe_fwrite_le(FILE *f, const void *data, size_t count, size_t size)
{
    unsigned char tmp[4096];
    size_t per, done = 0;
    if (count == 0) return;
    if (tpe_host_little_endian() || size < 2 || size > sizeof tmp) {
        fwrite(data, size, count, f);
        return;
    }
    per = sizeof tmp / size;
    while (done < count) {
        size_t m = count - done < per ? count - done : per;
        memcpy(tmp, (const unsigned char *)data + done * size, m * size);
        tpe_bswap_inplace(tmp, m, size);
        fwrite(tmp, size, m, f);
        done += m;
    }
}

/* IEEE binary16 -> binary32, exact (subnormals, Inf and NaN included). */
float tpe_f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t man = h & 0x3ffu;
    uint32_t bits;
    float f;
    if (exp == 0) {
        /* zero or subnormal: value = man * 2^-24, exactly representable */
        f = (float)man * 5.9604644775390625e-08f;
        return sign ? -f : f;
    }
    if (exp == 31) bits = sign | 0x7f800000u | (man << 13);
    else bits = sign | ((exp + 112u) << 23) | (man << 13);
    memcpy(&f, &bits, sizeof f);
    return f;
}

float tpe_bf16_to_f32(uint16_t h)
{
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* binary32 -> binary16, round to nearest even, overflow to Inf, NaN kept. */
uint16_t tpe_f32_to_f16(float f)
{
    uint32_t x, sign, exp, man;
    memcpy(&x, &f, sizeof x);
    sign = (x >> 16) & 0x8000u;
    exp = (x >> 23) & 0xffu;
    man = x & 0x7fffffu;
    if (exp == 0xff) return (uint16_t)(sign | 0x7c00u | (man ? 0x200u | (man >> 13) : 0u));
    if (exp > 142) return (uint16_t)(sign | 0x7c00u); /* >= 2^16: overflow */
    if (exp >= 113) {                                 /* normal half       */
        uint32_t h = ((exp - 112u) << 10) | (man >> 13);
        uint32_t rest = man & 0x1fffu;
        if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) h++;
        return (uint16_t)(sign | h);
    }
    if (exp < 102) return (uint16_t)sign; /* below half the smallest subnormal */
    {
        /* subnormal half: value = m * 2^-24 with m = round(full * 2^(exp-126-... )) */
        uint32_t full = man | 0x800000u;
        uint32_t shift = 126u - exp; /* 14..24 */
        uint32_t h = full >> shift;
        uint32_t rest = full & ((1u << shift) - 1u);
        uint32_t half = 1u << (shift - 1u);
        if (rest > half || (rest == half && (h & 1u))) h++;
        return (uint16_t)(sign | h);
    }
}

uint16_t tpe_f32_to_bf16(float f)
{
    uint32_t x;
    memcpy(&x, &f, sizeof x);
    if ((x & 0x7f800000u) == 0x7f800000u && (x & 0x7fffffu)) return (uint16_t)((x >> 16) | 0x40u);
    x += 0x7fffu + ((x >> 16) & 1u);
    return (uint16_t)(x >> 16);
}

/* ---- progress bar ------------------------------------------------------ */
void tpe_progress_begin(tpe_progress *p, const char *label, double total)
{
    p->label = label;
    p->total = total;
    p->t0 = p->last = tpe_now();
    p->enabled = !tpe_quiet && tpe_stderr_is_tty();
    p->drawn = 0;
}

static void progress_draw(tpe_progress *p, double done, double now)
{
    double frac = p->total > 0 ? done / p->total : 0.0;
    double el = now - p->t0;
    char bar[31];
    int i, fill;
    if (frac < 0) frac = 0;
    if (frac > 1) frac = 1;
    fill = (int)(frac * 30.0);
    for (i = 0; i < 30; i++) bar[i] = i < fill ? '#' : '.';
    bar[30] = '\0';
    fprintf(stderr, "\r%s [%s] %5.1f%% %.0f/%.0f %.1fs", p->label, bar, 100.0 * frac, done, p->total, el);
    if (frac > 0 && frac < 1) fprintf(stderr, " eta %.0fs ", el / frac - el);
    else fputs("         ", stderr);
    fflush(stderr);
    p->drawn = 1;
}

void tpe_progress_update(tpe_progress *p, double done)
{
    double now;
    if (!p || !p->enabled) return;
    now = tpe_now();
    if (now - p->last < 0.1 && p->drawn) return;
    if (!p->drawn && now - p->t0 < 0.5) return; /* short work draws nothing */
    p->last = now;
    progress_draw(p, done, now);
}

void tpe_progress_end(tpe_progress *p)
{
    if (!p || !p->enabled || !p->drawn) return;
    progress_draw(p, p->total, tpe_now());
    fputc('\n', stderr);
}
