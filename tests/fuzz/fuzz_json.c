/* libFuzzer target: the JSON parser on arbitrary bytes. An accepted
 * document is walked completely (every string read to its length). */
#include "json.h"
#include "tpe.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t walk(const tpe_json *v, int depth)
{
    size_t i, sum = 0;
    if (depth > 600) abort(); /* the parser caps depth at 512 */
    switch (v->type) {
    case TPE_JSON_STRING:
        for (i = 0; i < v->len; i++) sum += (unsigned char)v->str[i];
        if (v->str[v->len] != '\0') abort();
        break;
    case TPE_JSON_ARRAY:
    case TPE_JSON_OBJECT:
        for (i = 0; i < v->count; i++) {
            sum += walk(&v->items[i], depth + 1);
            if (v->type == TPE_JSON_OBJECT) sum += v->key_lens[i] + (unsigned char)v->keys[i][0];
        }
        break;
    default:
        break;
    }
    return sum;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tpe_json_doc *d = NULL;
    if (tpe_json_parse((const char *)data, size, "fuzz.json", &d) == TPE_OK) {
        volatile size_t s = walk(tpe_json_root(d), 0);
        (void)s;
        (void)tpe_json_duplicate_key(tpe_json_root(d));
        tpe_json_free(d);
    }
    return 0;
}
