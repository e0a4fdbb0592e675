/*
 * unicode_tables.h -- the tables tools/gen_unicode_tables.py writes into
 * unicode_tables.c (see the generator for their layout). Only unicode.c
 * reads them (tpe_uc_ascii_class is declared in unicode.h for bpe.c).
 */
#ifndef TPE_UNICODE_TABLES_H
#define TPE_UNICODE_TABLES_H

#include <stddef.h>
#include <stdint.h>

extern const char tpe_unicode_data_version[];
extern const uint32_t tpe_uc_class[];        /* start << 2 | class       */
extern const size_t tpe_uc_class_count;
extern const uint32_t tpe_uc_ccc[];          /* start << 8 | ccc         */
extern const size_t tpe_uc_ccc_count;
extern const uint32_t tpe_uc_nfc_unstable[]; /* starts of alternating runs */
extern const size_t tpe_uc_nfc_unstable_count;
extern const uint32_t tpe_uc_decomp_cp[];
extern const size_t tpe_uc_decomp_cp_count;
extern const uint16_t tpe_uc_decomp_off[];   /* decomp_cp_count + 1      */
extern const uint32_t tpe_uc_decomp_pool[];
extern const size_t tpe_uc_decomp_pool_count;
extern const uint32_t tpe_uc_comp_first[];   /* sorted by (first, second) */
extern const size_t tpe_uc_comp_first_count;
extern const uint32_t tpe_uc_comp_second[];
extern const uint32_t tpe_uc_comp_result[];

#endif
