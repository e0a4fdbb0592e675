/*
 * test_shard.c -- sharded runs: SHA-256 against the FIPS 180 examples, the
 * exact accumulator (exactsum.h) against an integer oracle and math.fsum
 * goldens, its independence of order and grouping, the part-file format
 * (round trip, a golden written by tools/gen_shard_golden.py read on every
 * platform, every truncation, corrupted bytes, inconsistent headers), the
 * merge's refusals, and a sharded probe giving the single run's bits.
 */
#include "array.h"
#include "exactsum.h"
#include "io.h"
#include "model.h"
#include "platform.h"
#include "probe.h"
#include "sha256.h"
#include "shard.h"
#include "test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GOLDEN "golden/shard"

static uint64_t bits_of(double x)
{
    uint64_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

/* ---- SHA-256 ------------------------------------------------------------------- */
TEST(sha256_fips_examples)
{
    static const char *const msg[] = {"abc", "", "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"};
    static const char *const want[] = {"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
                                       "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"};
    char hex[65];
    size_t i;
    tpe_sha256 h;
    unsigned char d[32], chunk[1000];
    for (i = 0; i < 3; i++) {
        tpe_sha256_hex_of(msg[i], strlen(msg[i]), hex);
        CHECKF(strcmp(hex, want[i]) == 0, "sha256('%s') = %s", msg[i], hex);
    }
    /* one million 'a', fed in pieces of awkward sizes */
    memset(chunk, 'a', sizeof chunk);
    tpe_sha256_init(&h);
    for (i = 0; i < 1000000;) {
        size_t k = 1 + (i * 7) % 997;
        if (k > 1000000 - i) k = 1000000 - i;
        tpe_sha256_update(&h, chunk, k);
        i += k;
    }
    tpe_sha256_final(&h, d);
    tpe_sha256_hex(d, hex);
    CHECKF(strcmp(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0") == 0, "sha256(10^6 'a') = %s", hex);
}

/* ---- exact sums ------------------------------------------------------------------- */
static double xsum_of(const double *x, size_t n)
{
    tpe_xsum s;
    size_t i;
    double r;
    CHECK_OK(tpe_xsum_init(&s, 1));
    for (i = 0; i < n; i++) CHECK_OK(tpe_xsum_add(&s, 0, x[i]));
    r = tpe_xsum_round(&s, 0);
    tpe_xsum_free(&s);
    return r;
}

TEST(exactsum_rounds_once_to_nearest_even)
{
    const double tiny = ldexp(1.0, -1074), two53 = ldexp(1.0, 53), ulp1 = ldexp(1.0, -52);
    struct {
        double x[4];
        size_t n;
        double want;
        const char *what;
    } c[] = {
        {{0.0, -0.0}, 2, 0.0, "zeros"},
        {{two53, 1.0}, 2, two53, "2^53 + 1: a tie, to even"},
        {{two53 + 2.0, 1.0}, 2, two53 + 4.0, "2^53 + 3: a tie, to even (up)"},
        {{1.0, ulp1 / 2.0}, 2, 1.0, "1 + 2^-53: a tie, to even"},
        {{1.0, ulp1 / 2.0, tiny}, 3, 1.0 + ulp1, "1 + 2^-53 + 2^-1074: the sticky bit rounds up"},
        {{tiny, tiny, tiny}, 3, 3.0 * tiny, "subnormals"},
        {{ldexp(1.0, -1022) - tiny, tiny}, 2, ldexp(1.0, -1022), "subnormal to the least normal"},
        {{ldexp(1.0, 63), ldexp(1.0, 63), ldexp(1.0, 63), ldexp(1.0, 63)}, 4, ldexp(1.0, 65), "up to 2^65"},
        {{0.1, 0.2, 0.3}, 3, 0.6, "0.1 + 0.2 + 0.3 (the float sum gives 0.6000000000000001)"},
        {{1e-300, 1.0, -0.0}, 3, 1.0, "1e-300 + 1"},
    };
    size_t i;
    for (i = 0; i < sizeof c / sizeof c[0]; i++) {
        double got = xsum_of(c[i].x, c[i].n);
        CHECKF(bits_of(got) == bits_of(c[i].want), "%s: %.17g, expected %.17g", c[i].what, got, c[i].want);
    }
}

TEST(exactsum_rejects_what_it_cannot_hold)
{
    tpe_xsum a, b;
    size_t k;
    CHECK_OK(tpe_xsum_init(&a, 3));
    CHECK_ERR(tpe_xsum_add(&a, 1, -1.0), TPE_ENUMERIC, "exact sum 1: cannot add -1");
    CHECK_ERR(tpe_xsum_add(&a, 2, (double)NAN), TPE_ENUMERIC, "not finite");
    CHECK_ERR(tpe_xsum_add(&a, 0, HUGE_VAL), TPE_ENUMERIC, "not finite");
    CHECK_ERR(tpe_xsum_add(&a, 0, ldexp(1.0, 64)), TPE_ENUMERIC, "not below 2^64");
    CHECK_OK(tpe_xsum_add(&a, 0, ldexp(1.0, 64) - ldexp(1.0, 11)));
    /* fill accumulator 0 to the brim, then one more */
    CHECK_OK(tpe_xsum_init(&b, 3));
    for (k = 0; k < TPE_XSUM_LIMBS; k++) a.limb[k] = ~UINT64_C(0);
    CHECK_OK(tpe_xsum_add(&b, 0, tpe_xsum_round(&a, 1) + 1.0));
    CHECK_ERR(tpe_xsum_merge(&a, &b), TPE_ENUMERIC, "overflow");
    for (k = 0; k < TPE_XSUM_LIMBS; k++) a.limb[k] = ~UINT64_C(0);
    CHECK_ERR(tpe_xsum_add(&a, 0, 1.0), TPE_ENUMERIC, "overflow");
    tpe_xsum_free(&b);
    CHECK_OK(tpe_xsum_init(&b, 2));
    CHECK_ERR(tpe_xsum_merge(&a, &b), TPE_EINVAL, "merging 2 exact sums into 3");
    tpe_xsum_free(&a);
    tpe_xsum_free(&b);
}

/* values k_i 2^e with k_i < 2^57 of at most 53 significant bits (so exact
 * doubles) and e >= -1022: at most 64 of them sum to K 2^e with K < 2^63,
 * and (double)K -- one rounding to nearest even, by the hardware -- scaled
 * by 2^e (exact: the result is normal) is the correctly rounded sum. */
TEST(exactsum_matches_an_integer_oracle)
{
    tpe_rng *r = tt_rng();
    size_t trial, i, n = tt_quick() ? 2000 : 20000, wrong = 0, rounded = 0;
    double x[64];
    for (trial = 0; trial < n; trial++) {
        uint64_t K = 0;
        size_t m = 1 + (size_t)tpe_rng_below(r, 64);
        int e = -1022 + (int)tpe_rng_below(r, 1022 - 40);
        double want, got;
        for (i = 0; i < m; i++) {
            uint64_t k = (tpe_rng_next(r) >> (11 + tpe_rng_below(r, 41))) << tpe_rng_below(r, 5);
            K += k;
            x[i] = ldexp((double)k, e);
        }
        want = ldexp((double)K, e);
        if ((uint64_t)(double)K != K) rounded++;
        got = xsum_of(x, m);
        if (bits_of(got) != bits_of(want)) {
            if (!wrong) tt_fail(__FILE__, __LINE__, "trial %zu: %.17g, expected %.17g", trial, got, want);
            wrong++;
        }
    }
    CHECKF(wrong == 0, "%zu of %zu sums differ from the integer oracle", wrong, n);
    CHECKF(rounded > n / 4, "only %zu of %zu sums needed rounding", rounded, n);
    NOTE("%zu random sums (%zu of them rounded) equal the integer oracle bit for bit", n, rounded);
}

TEST(exactsum_matches_math_fsum_in_any_order_and_split)
{
    tpe_array vals, want;
    tpe_rng *r = tt_rng();
    size_t row, i, rounds = tt_quick() ? 3 : 20;
    if (tpe_npy_read_f64(GOLDEN "/fsum_values.npy", &vals) || tpe_npy_read_f64(GOLDEN "/fsum_expected.npy", &want)) {
        tt_fail(__FILE__, __LINE__, "%s", tpe_errmsg());
        return;
    }
    CHECK(vals.ndim == 2 && want.count == vals.shape[0]);
    for (row = 0; row < vals.shape[0]; row++) {
        const double *x = (const double *)vals.data + row * vals.shape[1];
        size_t n = vals.shape[1], rd;
        double naive = 0.0, w = ((const double *)want.data)[row], got = xsum_of(x, n);
        for (i = 0; i < n; i++) naive += x[i];
        CHECKF(bits_of(got) == bits_of(w), "row %zu: %.17g, math.fsum %.17g", row, got, w);
        /* shuffled and cut into groups summed separately, then merged */
        for (rd = 0; rd < rounds; rd++) {
            size_t *perm = malloc(n * sizeof *perm), groups = 1 + (size_t)tpe_rng_below(r, 9), gi;
            tpe_xsum total, part;
            for (i = 0; i < n; i++) perm[i] = i;
            for (i = n - 1; i > 0; i--) {
                size_t j = (size_t)tpe_rng_below(r, i + 1), t = perm[i];
                perm[i] = perm[j], perm[j] = t;
            }
            CHECK_OK(tpe_xsum_init(&total, 1));
            for (gi = 0; gi < groups; gi++) {
                CHECK_OK(tpe_xsum_init(&part, 1));
                for (i = gi; i < n; i += groups) CHECK_OK(tpe_xsum_add(&part, 0, x[perm[i]]));
                CHECK_OK(tpe_xsum_merge(&total, &part));
                tpe_xsum_free(&part);
            }
            CHECKF(bits_of(tpe_xsum_round(&total, 0)) == bits_of(w), "row %zu, %zu groups: %.17g", row, groups,
                   tpe_xsum_round(&total, 0));
            tpe_xsum_free(&total);
            free(perm);
        }
        if (row == 2) NOTE("softmax row: exact %.17g, naive left-to-right %.17g", w, naive);
    }
    tpe_array_free(&vals);
    tpe_array_free(&want);
}

/* ---- part files --------------------------------------------------------------------- */
static void fill_part(tpe_part *p, uint64_t shard, uint64_t shards, size_t V, tpe_rng *r)
{
    size_t v, k;
    tpe_part_init(p);
    snprintf(p->kind, sizeof p->kind, "probe");
    p->nfiles = 2;
    p->files = calloc(2, sizeof *p->files);
    p->files[0].name = tpe_strdup("config.json");
    p->files[0].bytes = 200;
    tpe_sha256_hex_of("config", 6, p->files[0].sha256);
    p->files[1].name = tpe_strdup("model.safetensors");
    p->files[1].bytes = 1u << 20;
    tpe_sha256_hex_of("weights", 7, p->files[1].sha256);
    tpe_sha256_hex_of("model", 5, p->model_sha256);
    snprintf(p->model_type, sizeof p->model_type, "gpt2");
    p->vocab = V;
    p->width = 4;
    tpe_sha256_hex_of("data", 4, p->data_sha256);
    tpe_sha256_hex_of("tokens", 6, p->tokens_sha256);
    p->samples = 3 * shards;
    p->tokens = 10 * shards;
    p->ids_file = 1;
    p->max_len = 8;
    snprintf(p->precision, sizeof p->precision, "f32");
    p->shards = shards;
    snprintf(p->platform, sizeof p->platform, "testarch/scalar");
    tpe_part_seal(p);
    p->shard = shard;
    p->local_samples = 3;
    p->local_tokens = 10;
    p->local_windows = 4;
    p->positions = 10;
    p->model_dir = tpe_strdup("models/\"quoted\"\\dir\n");
    p->data_path = tpe_strdup("data\xff.txt"); /* not UTF-8: written as U+FFFD */
    CHECK_OK(tpe_xsum_init(&p->sums, V));
    for (v = 0; v < V; v++)
        for (k = 0; k < 10; k++) CHECK_OK(tpe_xsum_add(&p->sums, v, tpe_rng_uniform(r) * ldexp(1.0, -(int)tpe_rng_below(r, 1100))));
}

static char *tmp_path(const char *name)
{
    return tpe_path_join(tt_tmpdir(), name);
}

TEST(part_round_trip)
{
    tpe_part a, b;
    char *path = tmp_path("rt.part");
    size_t v;
    fill_part(&a, 1, 3, 11, tt_rng());
    CHECK_OK(tpe_part_write(path, &a));
    CHECK_OK(tpe_part_read(path, &b, 1));
    CHECK(strcmp(a.fingerprint, b.fingerprint) == 0 && strcmp(a.model_sha256, b.model_sha256) == 0);
    CHECK(b.nfiles == 2 && strcmp(b.files[1].name, "model.safetensors") == 0 && b.files[1].bytes == (1u << 20));
    CHECK(strcmp(a.files[1].sha256, b.files[1].sha256) == 0);
    CHECK(b.vocab == 11 && b.width == 4 && b.samples == 9 && b.tokens == 30 && b.ids_file == 1 && b.max_len == 8);
    CHECK(b.shard == 1 && b.shards == 3 && b.local_samples == 3 && b.local_tokens == 10 && b.local_windows == 4);
    CHECK(b.positions == 10 && !b.has_hidden && strcmp(b.precision, "f32") == 0 && strcmp(b.platform, "testarch/scalar") == 0);
    CHECK(b.model_dir && strcmp(b.model_dir, a.model_dir) == 0);
    CHECK(b.data_path && strcmp(b.data_path, "data\xef\xbf\xbd.txt") == 0);
    CHECK(b.sums.n == 11 && memcmp(a.sums.limb, b.sums.limb, 11 * TPE_XSUM_LIMBS * sizeof *a.sums.limb) == 0);
    for (v = 0; v < 11; v++) CHECK(bits_of(tpe_xsum_round(&a.sums, v)) == bits_of(tpe_xsum_round(&b.sums, v)));
    CHECK_OK(tpe_part_same_run(&a, "a", &b, "b", 0));
    tpe_part_free(&b);
    CHECK_OK(tpe_part_read(path, &b, 0));
    CHECK(b.sums.n == 0 && b.vocab == 11);
    tpe_part_free(&b);
    tpe_part_free(&a);
    free(path);
}

/* written by Python from the documented format, read on every platform */
TEST(part_golden_from_the_format_description)
{
    tpe_part p;
    tpe_array want;
    size_t v;
    CHECK_OK(tpe_part_read(GOLDEN "/golden.part", &p, 1));
    if (tpe_npy_read_f64(GOLDEN "/part_expected.npy", &want)) {
        tt_fail(__FILE__, __LINE__, "%s", tpe_errmsg());
        tpe_part_free(&p);
        return;
    }
    CHECK(p.vocab == 7 && p.width == 3 && p.shard == 2 && p.shards == 5 && p.positions == 40 && p.samples == 11);
    CHECK(p.tokens == 100 && p.max_len == 16 && !p.ids_file && strcmp(p.precision, "f64") == 0);
    CHECK(strcmp(p.model_type, "gpt_neox") == 0 && p.nfiles == 2 && p.files[1].bytes == 4321);
    CHECK(p.has_hidden && p.hidden_rows == 40 && strcmp(p.hidden_path, "dir/h2.npy") == 0);
    CHECK(strcmp(p.hidden_tokens_path, "dir/h2.tokens.npy") == 0);
    CHECK(want.count == 7 && p.sums.n == 7);
    for (v = 0; v < 7 && v < want.count && v < p.sums.n; v++) {
        double got = tpe_xsum_round(&p.sums, v), w = ((const double *)want.data)[v];
        CHECKF(bits_of(got) == bits_of(w), "sum %zu: %.17g, math.fsum %.17g", v, got, w);
    }
    tpe_array_free(&want);
    tpe_part_free(&p);
}

static int write_bytes(const char *path, const unsigned char *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f) return 1;
    if (n) fwrite(b, 1, n, f);
    return fclose(f) != 0;
}

TEST(part_every_truncation_and_corruption_is_an_error)
{
    tpe_part a, b;
    char *path = tmp_path("tc.part"), *bad = tmp_path("tc-bad.part");
    tpe_mapping m;
    unsigned char *buf;
    size_t n, cut, step = tt_quick() ? 7 : 1, undetected = 0;
    fill_part(&a, 0, 2, 5, tt_rng());
    CHECK_OK(tpe_part_write(path, &a));
    tpe_part_free(&a);
    if (tpe_map_file(path, &m)) {
        tt_fail(__FILE__, __LINE__, "%s", tpe_errmsg());
        return;
    }
    n = m.size;
    buf = malloc(n);
    memcpy(buf, m.data, n);
    tpe_unmap_file(&m);
    for (cut = 0; cut < n; cut += step) {
        int rc;
        CHECK(write_bytes(bad, buf, cut) == 0);
        rc = tpe_part_read(bad, &b, 1);
        if (rc == TPE_OK) {
            undetected++;
            tpe_part_free(&b);
            continue;
        }
        CHECKF(rc == TPE_EFORMAT && strstr(tpe_errmsg(), bad), "cut at %zu: %d %s", cut, rc, tpe_errmsg());
    }
    CHECKF(undetected == 0, "%zu truncations read as valid", undetected);
    /* one byte changed anywhere */
    for (cut = 0; cut < n; cut += step * 3) {
        buf[cut] ^= 0x20;
        CHECK(write_bytes(bad, buf, n) == 0);
        if (tpe_part_read(bad, &b, 1) == TPE_OK) {
            undetected++;
            tpe_part_free(&b);
        }
        buf[cut] ^= 0x20;
    }
    CHECKF(undetected == 0, "%zu corrupted files read as valid", undetected);
    buf[8] = 2; /* a later format version */
    CHECK(write_bytes(bad, buf, n) == 0);
    CHECK_ERR(tpe_part_read(bad, &b, 1), TPE_EFORMAT, "part format version 2; this tpe reads version 1");
    CHECK_ERR(tpe_part_read("golden/shard/VERSIONS", &b, 1), TPE_EFORMAT, "not a tpe part file");
    NOTE("%zu-byte part: every %zu-th truncation and byte change rejected", n, step);
    free(buf);
    free(path);
    free(bad);
}

TEST(part_inconsistent_headers_are_refused)
{
    tpe_part a, b;
    char *path = tmp_path("inc.part");
    fill_part(&a, 0, 2, 3, tt_rng());
    a.shard = 2;
    CHECK_OK(tpe_part_write(path, &a));
    CHECK_ERR(tpe_part_read(path, &b, 1), TPE_EFORMAT, "shard 2 of 2");
    a.shard = 1;
    a.positions = 9;
    CHECK_OK(tpe_part_write(path, &a));
    CHECK_ERR(tpe_part_read(path, &b, 1), TPE_EFORMAT, "inconsistent counts");
    a.positions = 10;
    snprintf(a.precision, sizeof a.precision, "f16");
    CHECK_OK(tpe_part_write(path, &a));
    CHECK_ERR(tpe_part_read(path, &b, 1), TPE_EFORMAT, "precision \"f16\"");
    tpe_part_free(&a);
    free(path);
}

/* parts built in memory, merged: refusals and the exact total */
TEST(part_merge_refuses_other_runs_duplicates_and_gaps)
{
    enum { N = 4, V = 6 };
    tpe_part p[N], other, total;
    char *paths[N + 1], name[32];
    const char *list[N + 1];
    tpe_xsum want;
    size_t i;
    CHECK_OK(tpe_xsum_init(&want, V));
    for (i = 0; i < N; i++) {
        fill_part(&p[i], i, N, V, tt_rng());
        snprintf(name, sizeof name, "m%zu.part", i);
        paths[i] = tmp_path(name);
        CHECK_OK(tpe_part_write(paths[i], &p[i]));
        CHECK_OK(tpe_xsum_merge(&want, &p[i].sums));
    }
    /* reversed order: the same bits */
    for (i = 0; i < N; i++) list[i] = paths[N - 1 - i];
    CHECK_OK(tpe_part_merge(list, N, 0, &total, NULL));
    CHECK(total.positions == 10 * N && total.local_samples == 3 * N);
    CHECK(memcmp(total.sums.limb, want.limb, V * TPE_XSUM_LIMBS * sizeof *want.limb) == 0);
    tpe_part_free(&total);
    /* a gap, a duplicate, a part of another run */
    CHECK_ERR(tpe_part_merge(list, N - 1, 0, &total, NULL), TPE_EINVAL, "1 of 4 shards missing: 0 (3 parts given)");
    list[N - 1] = paths[1];
    CHECK_ERR(tpe_part_merge(list, N, 0, &total, NULL), TPE_EINVAL, "is given twice");
    fill_part(&other, 2, N, V, tt_rng());
    other.max_len = 9;
    tpe_part_seal(&other);
    paths[N] = tmp_path("other.part");
    CHECK_OK(tpe_part_write(paths[N], &other));
    for (i = 0; i < N; i++) list[i] = paths[i];
    list[2] = paths[N];
    CHECK_ERR(tpe_part_merge(list, N, 0, &total, NULL), TPE_EINVAL, "other.part: --max-len 9;");
    other.max_len = 8;
    snprintf(other.platform, sizeof other.platform, "otherarch/neon");
    tpe_part_seal(&other);
    CHECK_OK(tpe_part_write(paths[N], &other));
    CHECK_ERR(tpe_part_merge(list, N, 0, &total, NULL), TPE_EINVAL, "made on otherarch/neon");
    CHECK_OK(tpe_part_merge(list, N, 1, &total, NULL));
    tpe_part_free(&total);
    tpe_sha256_hex_of("other weights", 13, other.files[1].sha256);
    tpe_sha256_hex_of("other model", 11, other.model_sha256);
    tpe_part_seal(&other);
    CHECK_OK(tpe_part_write(paths[N], &other));
    CHECK_ERR(tpe_part_merge(list, N, 1, &total, NULL), TPE_EINVAL, "made from another model than");
    CHECK_ERR(tpe_part_merge(list, N, 1, &total, NULL), TPE_EINVAL, "(model.safetensors: sha256");
    CHECK_ERR(tpe_part_merge(list, 0, 0, &total, NULL), TPE_EINVAL, "no parts");
    tpe_part_free(&other);
    for (i = 0; i < N; i++) {
        tpe_part_free(&p[i]);
        free(paths[i]);
    }
    free(paths[N]);
    tpe_xsum_free(&want);
}

/* little-endian bytes on every host, and the digest of exactly those bytes */
TEST(fwrite_le_hashed_writes_and_hashes_little_endian)
{
    char *path = tmp_path("le.bin"), hex[65], hex2[65];
    float f[3] = {1.0f, -2.5f, 3.0e-30f};
    int64_t q[2] = {-2, 0x0102030405060708};
    tpe_sha256 h;
    unsigned char d[32];
    tpe_mapping m;
    FILE *fp = fopen(path, "wb");
    CHECK(fp != NULL);
    if (!fp) return;
    tpe_sha256_init(&h);
    tpe_fwrite_le_hashed(fp, &h, "ab", 2, 1);
    tpe_fwrite_le_hashed(fp, &h, f, 3, sizeof f[0]);
    tpe_fwrite_le_hashed(fp, &h, q, 2, sizeof q[0]);
    CHECK(fclose(fp) == 0);
    tpe_sha256_final(&h, d);
    tpe_sha256_hex(d, hex);
    CHECK_OK(tpe_map_file(path, &m));
    if (m.size == 2 + 12 + 16) {
        uint32_t u;
        float g;
        u = tpe_load_le32(m.data + 6);
        memcpy(&g, &u, sizeof g);
        CHECK(m.data[0] == 'a' && m.data[1] == 'b' && g == -2.5f);
        CHECK(tpe_load_le64(m.data + 14) == (uint64_t)(int64_t)-2 && m.data[22] == 0x08 && m.data[29] == 0x01);
        tpe_sha256_hex_of(m.data, m.size, hex2);
        CHECKF(strcmp(hex, hex2) == 0, "digest of the bytes written %s, of the file %s", hex, hex2);
    } else {
        tt_fail(__FILE__, __LINE__, "%zu bytes written, expected 30", m.size);
    }
    tpe_unmap_file(&m);
    free(path);
}

TEST(shard_parse)
{
    uint64_t i, n;
    CHECK_OK(tpe_shard_parse("0/1", &i, &n));
    CHECK(i == 0 && n == 1);
    CHECK_OK(tpe_shard_parse("6/7", &i, &n));
    CHECK(i == 6 && n == 7);
    CHECK_ERR(tpe_shard_parse("7/7", &i, &n), TPE_EINVAL, "I must be below N");
    CHECK_ERR(tpe_shard_parse("1/0", &i, &n), TPE_EINVAL, "N must be at least 1");
    CHECK_ERR(tpe_shard_parse("1/2x", &i, &n), TPE_EINVAL, "expected I/N");
    CHECK_ERR(tpe_shard_parse("/2", &i, &n), TPE_EINVAL, "expected I/N");
    CHECK_ERR(tpe_shard_parse("-1/2", &i, &n), TPE_EINVAL, "expected I/N");
    CHECK_ERR(tpe_shard_parse("1", &i, &n), TPE_EINVAL, "expected I/N");
}

/* ---- a sharded probe gives the single run's bits ---------------------------------------- */
TEST(probe_sharded_alpha_is_bitwise_the_single_runs)
{
    static const size_t Ns[] = {1, 2, 3, 7};
    char dir[600];
    tpe_random_spec rs;
    tpe_model *m = NULL;
    size_t lens[6] = {5, 19, 1, 8, 12, 3}, S = 6, i, k, V, f64, all_diff = 0;
    int32_t ids[6][19];
    snprintf(dir, sizeof dir, "%s/shard-model", tt_tmpdir());
    tpe_random_spec_default(&rs, TPE_ARCH_NEOX);
    rs.n_vocab = 61, rs.n_ctx = 16, rs.d_model = 16, rs.n_layer = 2, rs.n_head = 2, rs.d_ff = 32, rs.scale = 0.4, rs.tied = 0;
    if (!tpe_is_dir(dir)) CHECK_OK(tpe_random_model_write(&rs, dir));
    CHECK_OK(tpe_model_load(dir, NULL, &m));
    if (!m) return;
    V = m->cfg.n_vocab;
    for (i = 0; i < S; i++)
        for (k = 0; k < lens[i]; k++) ids[i][k] = (int32_t)tpe_rng_below(tt_rng(), V);
    for (f64 = 0; f64 < 2; f64++) {
        tpe_probe *single = NULL;
        double *a1 = malloc(V * sizeof *a1), *aN = malloc(V * sizeof *aN);
        size_t ni;
        CHECK_OK(tpe_probe_new(m, 8, (int)f64, &single));
        for (i = 0; i < S; i++) CHECK_OK(tpe_probe_sample(single, i, ids[i], lens[i]));
        CHECK_OK(tpe_probe_alpha(single, a1));
        for (ni = 0; ni < sizeof Ns / sizeof Ns[0]; ni++) {
            size_t N = Ns[ni], sh, positions = 0, v, diff = 0;
            tpe_xsum total;
            CHECK_OK(tpe_xsum_init(&total, V));
            /* shards in reverse order, each its own probe (as separate jobs would) */
            for (sh = N; sh-- > 0;) {
                tpe_probe *p = NULL;
                CHECK_OK(tpe_probe_new(m, 8, (int)f64, &p));
                for (i = sh; i < S; i += N) CHECK_OK(tpe_probe_sample(p, i, ids[i], lens[i]));
                positions += tpe_probe_positions(p);
                CHECK_OK(tpe_xsum_merge(&total, tpe_probe_sums(p)));
                tpe_probe_free(p);
            }
            CHECK(positions == tpe_probe_positions(single));
            for (v = 0; v < V; v++) {
                aN[v] = tpe_xsum_round(&total, v) / (double)positions;
                if (bits_of(aN[v]) != bits_of(a1[v])) diff++;
            }
            CHECKF(diff == 0, "%s, N = %zu: %zu of %zu alpha entries differ from the single run", f64 ? "f64" : "f32", N, diff, V);
            all_diff += diff;
            tpe_xsum_free(&total);
        }
        tpe_probe_free(single);
        free(a1);
        free(aN);
    }
    NOTE("N = 1, 2, 3, 7 shards (some empty), f32 and f64: %zu alpha entries differ from the single run's bits", all_diff);
    tpe_model_free(m);
}
