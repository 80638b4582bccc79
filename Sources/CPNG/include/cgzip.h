#ifndef CGZIP_H
#define CGZIP_H
#include <stddef.h>
#include <stdint.h>

/// Reads a whole file, inflating it if it is gzip (or zlib) compressed, copying it as is otherwise.
/// On success returns 0, sets `*out` to a malloc'ed buffer of `*outLen` bytes (caller frees with
/// `cgz_free`). Returns -1 if the file cannot be opened, -2 on a corrupt stream, -3 out of memory,
/// -4 if the inflated size would exceed `maxBytes`.
int cgz_read_file(const char *path, size_t maxBytes, uint8_t **out, size_t *outLen);

/// zlib stream (RFC 1950) of `len` bytes at level 9 into a malloc'ed buffer (free with `cgz_free`).
/// Returns 0 on success.
int cgz_zlib_compress(const uint8_t *data, size_t len, uint8_t **out, size_t *outLen);

void cgz_free(void *p);

#endif
