#ifndef CPNG_H
#define CPNG_H
#include <stddef.h>
#include <stdint.h>

/// CRC-32 (ISO-HDLC, as in PNG and gzip) of `len` bytes, continuing from `crc` (start with 0). zlib.
uint32_t cpng_crc32(uint32_t crc, const uint8_t *data, size_t len);

/// SHA-256 of `len` bytes into `out[32]`. OpenSSL libcrypto. Returns 0 on success.
int cpng_sha256(const uint8_t *data, size_t len, uint8_t out[32]);

#endif
