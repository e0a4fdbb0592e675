/* libFuzzer target: config.json of a model directory. */
#include "model.h"
#include "tpe.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tpe_model_config cfg;
    (void)tpe_config_parse((const char *)data, size, "fuzz/config.json", &cfg);
    return 0;
}
