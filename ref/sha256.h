/*
 * sha256.h -- SHA-256 (FIPS 180-4, section 6.2), written for tpe's
 * fingerprints: the part files of sharded runs record the SHA-256 of the
 * model's files and of the dataset, so that `sha256sum FILE` on any machine
 * gives the same hex digest and parts of different runs cannot be merged.
 */
#ifndef TPE_SHA256_H
#define TPE_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct tpe_sha256 {
    uint32_t h[8];        /* the hash value H^(i)                   */
    uint64_t bytes;       /* message length so far                  */
    unsigned char buf[64];/* the partial block                      */
    size_t nbuf;
} tpe_sha256;

void tpe_sha256_init(tpe_sha256 *s);
void tpe_sha256_update(tpe_sha256 *s, const void *data, size_t n);
/* The 32-byte digest; s must be initialized again before reuse. */
void tpe_sha256_final(tpe_sha256 *s, unsigned char digest[32]);
/* 64 lowercase hex digits and a NUL. */
void tpe_sha256_hex(const unsigned char digest[32], char hex[65]);
/* One call: hex digest of n bytes. */
void tpe_sha256_hex_of(const void *data, size_t n, char hex[65]);

#endif
