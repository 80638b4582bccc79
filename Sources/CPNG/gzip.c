// gzip / zlib helpers for the trainer: reading .gz data files and deflating PNG IDAT data.
#include "cgzip.h"
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

int cgz_read_file(const char *path, size_t maxBytes, uint8_t **out, size_t *outLen) {
    *out = NULL; *outLen = 0;
    gzFile f = gzopen(path, "rb");   // gzopen reads plain files transparently
    if (!f) return -1;
    size_t cap = 1 << 20, len = 0;
    uint8_t *buf = malloc(cap);
    if (!buf) { gzclose(f); return -3; }
    for (;;) {
        if (len == cap) {
            if (cap >= maxBytes) { free(buf); gzclose(f); return -4; }
            size_t ncap = cap * 2; if (ncap > maxBytes) ncap = maxBytes;
            uint8_t *nb = realloc(buf, ncap);
            if (!nb) { free(buf); gzclose(f); return -3; }
            buf = nb; cap = ncap;
        }
        size_t want = cap - len; if (want > (1u << 30)) want = 1u << 30;
        int n = gzread(f, buf + len, (unsigned)want);
        if (n < 0) { free(buf); gzclose(f); return -2; }
        if (n == 0) break;
        len += (size_t)n;
    }
    int err = 0; gzerror(f, &err);
    gzclose(f);
    if (err != Z_OK && err != Z_BUF_ERROR) { free(buf); return -2; }
    *out = buf; *outLen = len;
    return 0;
}

int cgz_zlib_compress(const uint8_t *data, size_t len, uint8_t **out, size_t *outLen) {
    uLongf cap = compressBound((uLong)len);
    uint8_t *buf = malloc(cap ? cap : 1);
    if (!buf) return -3;
    if (compress2(buf, &cap, data, (uLong)len, 9) != Z_OK) { free(buf); return -2; }
    *out = buf; *outLen = cap;
    return 0;
}

void cgz_free(void *p) { free(p); }
