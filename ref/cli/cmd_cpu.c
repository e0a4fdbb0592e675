/*
 * cmd_cpu.c -- `tpe cpu [--json]`: what the CPU can do and which kernel
 * path runs (SPEC: {"arch":..,"features":[..],"simd":..}).
 */
#include "cli.h"
#include "cpu.h"
#include "json.h"
#include "tpe.h"

#include <stdio.h>

int tpe_cmd_cpu(int argc, char **argv)
{
    int json = 0;
    const tpe_opt opts[] = {{"--json", TPE_OPT_FLAG, &json, NULL, "one JSON object on stdout"}};
    const tpe_cmdspec spec = {"cpu", "", "CPU features and the kernel path TPE_SIMD selects (default auto).", NULL,
                              opts, TPE_NOPTS(opts), 0, 0};
    char *pos[1];
    size_t npos, i;
    int rc = tpe_cli_parse(&spec, argc, argv, pos, &npos);
    tpe_cpu_info ci;
    const char *feat[16];
    size_t nf = 0;
    const tpe_simd all[] = {TPE_SIMD_SCALAR, TPE_SIMD_AVX2, TPE_SIMD_NEON};
    if (rc) return rc < 0 ? 0 : rc;

    tpe_cpu_detect(&ci);
    if (ci.sse2) feat[nf++] = "sse2";
    if (ci.avx) feat[nf++] = "avx";
    if (ci.avx2) feat[nf++] = "avx2";
    if (ci.fma) feat[nf++] = "fma";
    if (ci.f16c) feat[nf++] = "f16c";
    if (ci.avx512f) feat[nf++] = "avx512f";
    if (ci.os_ymm) feat[nf++] = "os_ymm";
    if (ci.os_zmm) feat[nf++] = "os_zmm";
    if (ci.neon) feat[nf++] = "neon";

    if (json) {
        tpe_jw w;
        tpe_jw_init(&w, stdout);
        tpe_jw_object(&w);
        tpe_jw_key(&w, "arch");
        tpe_jw_string(&w, ci.arch);
        tpe_jw_key(&w, "features");
        tpe_jw_array(&w);
        for (i = 0; i < nf; i++) tpe_jw_string(&w, feat[i]);
        tpe_jw_array_end(&w);
        tpe_jw_key(&w, "simd");
        tpe_jw_string(&w, tpe_kernels_get()->name);
        tpe_jw_key(&w, "available");
        tpe_jw_array(&w);
        for (i = 0; i < 3; i++)
            if (tpe_simd_available(all[i])) tpe_jw_string(&w, tpe_simd_name(all[i]));
        tpe_jw_array_end(&w);
        tpe_jw_key(&w, "big_endian");
        tpe_jw_bool(&w, ci.big_endian);
        tpe_jw_key(&w, "threads");
        tpe_jw_int(&w, tpe_threads());
        tpe_jw_object_end(&w);
        tpe_jw_end(&w);
        return 0;
    }
    printf("arch:      %s (%s-endian)\n", ci.arch, ci.big_endian ? "big" : "little");
    printf("features:");
    for (i = 0; i < nf; i++) printf(" %s", feat[i]);
    printf("%s\n", nf ? "" : " (none detected)");
    printf("available:");
    for (i = 0; i < 3; i++)
        if (tpe_simd_available(all[i])) printf(" %s", tpe_simd_name(all[i]));
    printf("\nsimd:      %s\n", tpe_kernels_get()->name);
    printf("threads:   %d\n", tpe_threads());
    return 0;
}
