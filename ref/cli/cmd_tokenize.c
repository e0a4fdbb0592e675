/*
 * cmd_tokenize.c -- `tpe tokenize DIR`: GPT-2 byte-level BPE of all of
 * stdin (SPEC: ids separated by single spaces, then a newline); --decode
 * the other way; --verify checks a JSONL file of {"text", "ids"} made by
 * another implementation.
 */
#include "cli.h"
#include "io.h"
#include "json.h"
#include "tokenizer.h"
#include "tpe.h"
#include "unicode.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* All of stdin into a malloc'd buffer. */
static int read_stdin(char **text, size_t *len)
{
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    *text = NULL;
    *len = 0;
    if (!buf) return tpe_error(TPE_ENOMEM, "out of memory reading stdin");
    for (;;) {
        size_t got;
        if (cap - n < 4096) {
            char *nb = cap <= ((size_t)-1) / 2 ? realloc(buf, cap * 2) : NULL;
            if (!nb) {
                free(buf);
                return tpe_error(TPE_ENOMEM, "out of memory reading stdin (%zu bytes so far)", n);
            }
            buf = nb;
            cap *= 2;
        }
        got = fread(buf + n, 1, cap - n - 1, stdin);
        n += got;
        if (got == 0) break;
    }
    if (ferror(stdin)) {
        free(buf);
        return tpe_error(TPE_EIO, "stdin: read error: %s", strerror(errno));
    }
    buf[n] = '\0';
    *text = buf;
    *len = n;
    return TPE_OK;
}

static void print_ids(const int32_t *ids, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) printf(i ? " %ld" : "%ld", (long)ids[i]);
    putchar('\n');
}

/* Ids written in decimal, separated by whitespace. */
static int parse_ids(const char *s, size_t len, int32_t **ids, size_t *n)
{
    size_t i = 0, cap = 0, count = 0;
    int32_t *v = NULL;
    while (i < len) {
        long long x = 0;
        size_t start;
        if (s[i] == ' ' || s[i] == '\n' || s[i] == '\t' || s[i] == '\r') {
            i++;
            continue;
        }
        start = i;
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            x = x * 10 + (s[i] - '0');
            if (x > INT32_MAX) break;
            i++;
        }
        if (i == start || x > INT32_MAX || (i < len && s[i] != ' ' && s[i] != '\n' && s[i] != '\t' && s[i] != '\r')) {
            free(v);
            return tpe_error(TPE_EINVAL, "stdin: byte %zu: expected token ids (non-negative integers) separated by "
                             "spaces", i);
        }
        if (count == cap) {
            int32_t *nv;
            cap = cap ? 2 * cap : 1024;
            nv = realloc(v, cap * sizeof *v);
            if (!nv) {
                free(v);
                return tpe_error(TPE_ENOMEM, "out of memory reading ids");
            }
            v = nv;
        }
        v[count++] = (int32_t)x;
    }
    *ids = v;
    *n = count;
    return TPE_OK;
}

/* --verify FILE: every non-empty line {"text": "...", "ids": [...]}. */
static int verify(tpe_tokenizer *tok, const char *path, int json)
{
    char *text;
    size_t len, pos = 0, line = 0, texts = 0, bad = 0, first_bad = 0;
    char first_msg[256] = "";
    int rc = tpe_read_text(path, &text, &len);
    if (rc) return tpe_cli_fail("tokenize");
    while (pos < len) {
        const char *s = text + pos, *nl = memchr(s, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - s) : len - pos, i, got_n;
        char name[600];
        tpe_json_doc *doc;
        const tpe_json *root, *t, *ids;
        int32_t *got = NULL;
        pos += n + (nl ? 1 : 0);
        line++;
        if (n == 0 || (n == 1 && s[0] == '\r')) continue;
        snprintf(name, sizeof name, "%s (line %zu)", path, line);
        if (tpe_json_parse(s, n, name, &doc)) {
            free(text);
            return tpe_cli_fail("tokenize");
        }
        root = tpe_json_root(doc);
        t = tpe_json_get(root, "text");
        ids = tpe_json_get(root, "ids");
        if (!t || t->type != TPE_JSON_STRING || !ids || ids->type != TPE_JSON_ARRAY) {
            tpe_json_free(doc);
            free(text);
            tpe_error(TPE_EFORMAT, "%s: line %zu: expected {\"text\": string, \"ids\": [integers]}", path, line);
            return tpe_cli_fail("tokenize");
        }
        texts++;
        if (tpe_tokenizer_encode(tok, t->str, t->len, &got, &got_n)) {
            tpe_error_prefix(TPE_EINVAL, "%s: line %zu: ", path, line);
            tpe_json_free(doc);
            free(text);
            return tpe_cli_fail("tokenize");
        }
        for (i = 0; i < ids->count && i < got_n; i++) {
            uint64_t want;
            if (tpe_json_u64(&ids->items[i], &want) || want != (uint64_t)got[i]) break;
        }
        if (i < ids->count || i < got_n) {
            char msg[256];
            long long want = -1;
            uint64_t w;
            if (i < ids->count && !tpe_json_u64(&ids->items[i], &w)) want = (long long)w;
            if (i < ids->count && i < got_n)
                snprintf(msg, sizeof msg, "line %zu: ids differ at position %zu: expected %lld, got %ld", line, i, want,
                         (long)got[i]);
            else
                snprintf(msg, sizeof msg, "line %zu: expected %zu ids, got %zu", line, ids->count, got_n);
            if (!json) printf("MISMATCH %s\n", msg);
            if (!bad++) {
                first_bad = line;
                memcpy(first_msg, msg, sizeof msg);
            }
        }
        free(got);
        tpe_json_free(doc);
    }
    free(text);
    if (json) {
        tpe_jw w;
        tpe_jw_init(&w, stdout);
        tpe_jw_object(&w);
        tpe_jw_key(&w, "texts");
        tpe_jw_int(&w, (long long)texts);
        tpe_jw_key(&w, "mismatches");
        tpe_jw_int(&w, (long long)bad);
        tpe_jw_key(&w, "first_mismatch_line");
        if (bad) tpe_jw_int(&w, (long long)first_bad);
        else tpe_jw_null(&w);
        tpe_jw_key(&w, "source");
        tpe_jw_string(&w, tpe_tokenizer_source(tok));
        tpe_jw_object_end(&w);
        tpe_jw_end(&w);
    } else {
        printf("%zu texts, %zu match, %zu differ (%s)\n", texts, texts - bad, bad, tpe_tokenizer_source(tok));
    }
    if (bad) {
        fprintf(stderr, "tpe: tokenize: %zu of %zu encodings in %s differ (first: %s)\n", bad, texts, path, first_msg);
        return 1;
    }
    return 0;
}

int tpe_cmd_tokenize(int argc, char **argv)
{
    int json = 0, decode = 0, rc;
    const char *verify_path = NULL;
    const tpe_opt opts[] = {
        {"--decode", TPE_OPT_FLAG, &decode, NULL, "stdin holds ids; write the text they decode to"},
        {"--verify", TPE_OPT_STR, &verify_path, "FILE", "check a JSONL file of {\"text\", \"ids\"} lines; exit 1 on a difference"},
        {"--json", TPE_OPT_FLAG, &json, NULL, "one JSON object on stdout"},
    };
    const tpe_cmdspec spec = {
        "tokenize", "DIR", "GPT-2 byte-level BPE of all of stdin: prints the ids, separated by spaces.",
        "DIR holds tokenizer.json (read first) or vocab.json + merges.txt; no config.json is needed.\n"
        "stdin is one UTF-8 text; invalid UTF-8 is an error naming its byte offset (docs/formats.md).\n"
        "With --decode, stdin holds ids and stdout gets the bytes they stand for (no newline added).",
        opts, TPE_NOPTS(opts), 1, 1};
    char *pos[1];
    size_t npos, len, n;
    char *text = NULL;
    int32_t *ids = NULL;
    tpe_tokenizer *tok = NULL;
    rc = tpe_cli_parse(&spec, argc, argv, pos, &npos);
    if (rc) return rc < 0 ? 0 : rc;
    if (decode && verify_path) return tpe_cli_usage(spec.cmd, "--decode and --verify do not go together");
    if (tpe_tokenizer_load(pos[0], &tok)) return tpe_cli_fail(spec.cmd);
    if (verify_path) {
        rc = verify(tok, verify_path, json);
        tpe_tokenizer_free(tok);
        return rc;
    }
    if (read_stdin(&text, &len)) {
        tpe_tokenizer_free(tok);
        return tpe_cli_fail(spec.cmd);
    }
    if (decode) {
        char *out = NULL;
        size_t olen = 0;
        rc = parse_ids(text, len, &ids, &n) || tpe_tokenizer_decode(tok, ids, n, &out, &olen);
        if (!rc && json) {
            size_t bad = tpe_utf8_check((const unsigned char *)out, olen);
            if (bad != olen) {
                tpe_error(TPE_EINVAL, "the decoded bytes are not valid UTF-8 at byte offset %zu (the ids split a "
                          "character); without --json they are written as they are", bad);
                rc = 1;
            } else {
                tpe_jw w;
                tpe_jw_init(&w, stdout);
                tpe_jw_object(&w);
                tpe_jw_key(&w, "bytes");
                tpe_jw_int(&w, (long long)olen);
                tpe_jw_key(&w, "text");
                tpe_jw_string_n(&w, out, olen);
                tpe_jw_object_end(&w);
                tpe_jw_end(&w);
            }
        } else if (!rc) {
            fwrite(out, 1, olen, stdout);
        }
        free(out);
    } else {
        rc = tpe_tokenizer_encode(tok, text, len, &ids, &n);
        if (rc) tpe_error_prefix(rc, "stdin: ");
        else if (json) {
            tpe_jw w;
            size_t i;
            tpe_jw_init(&w, stdout);
            tpe_jw_object(&w);
            tpe_jw_key(&w, "tokens");
            tpe_jw_int(&w, (long long)n);
            tpe_jw_key(&w, "ids");
            tpe_jw_array(&w);
            for (i = 0; i < n; i++) tpe_jw_int(&w, ids[i]);
            tpe_jw_array_end(&w);
            tpe_jw_object_end(&w);
            tpe_jw_end(&w);
        } else {
            print_ids(ids, n);
        }
    }
    free(ids);
    free(text);
    tpe_tokenizer_free(tok);
    if (rc) return tpe_cli_fail(spec.cmd);
    if (fflush(stdout) || ferror(stdout)) {
        tpe_error(TPE_EIO, "stdout: write error");
        return tpe_cli_fail(spec.cmd);
    }
    return 0;
}
