#ifndef CPNG_H
#define CPNG_H
#include <stddef.h>
#include <stdint.h>

/// CRC-32 (ISO-HDLC, as in PNG and gzip) of `len` bytes, continuing from `crc` (start with 0). zlib.
uint32_t cpng_crc32(uint32_t crc, const uint8_t *data, size_t len);

/// SHA-256 of `len` bytes into `out[32]`. OpenSSL libcrypto. Returns 0 on success.
int cpng_sha256(const uint8_t *data, size_t len, uint8_t out[32]);

/// 1 when the CPU and the operating system support AVX2 (x86-64), else 0 (cpu.c).
int cpng_cpu_has_avx2(void);
/// 1 when the CPU has FMA3 (x86-64), else 0: the trainer's fused matrix product needs it.
int cpng_cpu_has_fma(void);

/* ---------------------------------------------------------------------------------------------
 * PNG through libpng's classic API (pngcodec.c). libpng reports errors by longjmp; the setjmp
 * lives here, so every failure comes back as a non-zero return code plus a message in `msg`
 * (NUL-terminated, truncated to `msgcap`). No gamma, colour or bit-depth transformation is ever
 * applied: samples come back exactly as stored in the file.
 * ------------------------------------------------------------------------------------------- */

/// Return codes. 0 means success; callers branch only on zero versus non-zero.
enum {
    CPNG_OK = 0,
    CPNG_ERR_LIBPNG = 1,     ///< libpng rejected the data (message says why)
    CPNG_ERR_TOO_LARGE = 2,  ///< width × height exceeds the caller's pixel limit
    CPNG_ERR_MEMORY = 3,     ///< allocation failed
    CPNG_ERR_ARGUMENT = 4,   ///< inconsistent arguments (a bug in the caller)
};

/// Decoded pixels of a PNG's first (default) image.
///
/// `samples` holds `height × width × channels` values, row-major, channels interleaved, one
/// `uint16_t` per sample at the file's native bit depth: sub-byte samples are unpacked one per
/// value, 16-bit samples are read big-endian (bytes 0x01 0x02 give 258). Palette images give
/// indices (channels 1). Interlaced images are de-interlaced. Free with `cpng_free`.
typedef struct cpng_decoded {
    uint32_t width, height;
    int bit_depth;      ///< 1, 2, 4, 8 or 16
    int color_type;     ///< PNG colour type: 0, 2, 3, 4 or 6
    int interlace;      ///< 0 none, 1 Adam7
    int channels;       ///< 1..4
    uint16_t *samples;  ///< malloc'd by cpng_decode
} cpng_decoded;

/// Decodes the pixels of the PNG file held in `data[0..<len]`.
///
/// Ancillary chunks are skipped unparsed (the caller scans chunk framing itself); PLTE is parsed
/// only because libpng requires it. Images with more than `max_pixels` pixels are refused with
/// CPNG_ERR_TOO_LARGE right after IHDR, before any pixel memory is allocated.
/// On success returns 0 and fills `*out`; the caller frees `out->samples` with `cpng_free`.
int cpng_decode(const uint8_t *data, size_t len, uint64_t max_pixels, cpng_decoded *out,
                char *msg, size_t msgcap);

/// An ancillary chunk to write verbatim. `position`: 0 before PLTE, 1 between PLTE and IDAT,
/// 2 after IDAT.
typedef struct cpng_chunk {
    uint8_t type[4];
    uint8_t position;
    const uint8_t *data;
    uint32_t length;
} cpng_chunk;

/// What `cpng_encode` writes.
typedef struct cpng_encode_params {
    uint32_t width, height;
    int bit_depth, color_type, interlace, channels;
    const uint16_t *samples;       ///< height × width × channels, every value < 1 << bit_depth
    const uint8_t *palette;        ///< PLTE payload (3 bytes per entry) or NULL
    uint32_t palette_length;       ///< bytes, a multiple of 3
    const uint8_t *trns;           ///< tRNS payload verbatim, or NULL
    uint32_t trns_length;
    const cpng_chunk *chunks;      ///< ancillary chunks in file order
    size_t chunk_count;
    int best;                      ///< 1: try all filters, zlib level 9; 0: libpng defaults
} cpng_encode_params;

/// Encodes a PNG file. On success returns 0 and sets `*out` (malloc'd; free with `cpng_free`)
/// and `*out_len`. Chunks are written in the order given at their positions; tRNS right after
/// PLTE: after the
/// position-0 chunks and before the position-1 chunks (libpng's order).
int cpng_encode(const cpng_encode_params *p, uint8_t **out, size_t *out_len, char *msg, size_t msgcap);

/// Frees memory returned by `cpng_decode` or `cpng_encode`.
void cpng_free(void *p);

#endif
