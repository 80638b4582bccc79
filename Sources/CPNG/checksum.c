#include "cpng.h"
#include <zlib.h>
#include <openssl/evp.h>

uint32_t cpng_crc32(uint32_t crc, const uint8_t *data, size_t len) {
    while (len > 0) {
        uInt chunk = len > 0x40000000u ? 0x40000000u : (uInt)len;
        crc = (uint32_t)crc32((uLong)crc, data, chunk);
        data += chunk;
        len -= chunk;
    }
    return crc;
}

int cpng_sha256(const uint8_t *data, size_t len, uint8_t out[32]) {
    unsigned int n = 0;
    return EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) == 1 && n == 32 ? 0 : -1;
}
