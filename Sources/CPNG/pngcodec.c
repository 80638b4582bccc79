// PNG decode/encode through libpng's classic API. libpng reports errors by longjmp, so every
// setjmp lives in this file and errors come back as return codes plus message text.
//
// Rules kept here:
// - no transformation: no gamma, no expansion, no strip, no swap; rows are unpacked by hand;
// - memory for pixels is allocated only after IHDR passed the caller's pixel limit;
// - every pointer allocated between setjmp and a longjmp is `volatile` and freed on the error path.
#include "cpng.h"
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *msg;
    size_t cap;
} err_sink;

static void set_msg(char *msg, size_t cap, const char *text) {
    if (msg && cap > 0) {
        snprintf(msg, cap, "%s", text);
    }
}

static void on_error(png_structp png, png_const_charp text) {
    err_sink *sink = (err_sink *)png_get_error_ptr(png);
    if (sink) set_msg(sink->msg, sink->cap, text);
    png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp text) {
    (void)png;
    (void)text;  // warnings (e.g. a discarded ancillary chunk) are not errors
}

/* ------------------------------------------------------------------ decoding */

typedef struct {
    const uint8_t *data;
    size_t len, pos;
} mem_reader;

static void read_mem(png_structp png, png_bytep out, size_t n) {
    mem_reader *r = (mem_reader *)png_get_io_ptr(png);
    if (n > r->len - r->pos) png_error(png, "file is truncated");
    memcpy(out, r->data + r->pos, n);
    r->pos += n;
}

// Ancillary chunk names libpng knows: skip them unparsed (the Swift side keeps them verbatim).
static const png_byte known_ancillary[] =
    "bKGD\0cHRM\0cICP\0cLLI\0eXIf\0gAMA\0hIST\0iCCP\0iTXt\0mDCV\0oFFs\0pCAL\0pHYs\0sBIT\0"
    "sCAL\0sPLT\0sRGB\0sTER\0tEXt\0tIME\0tRNS\0zTXt\0acTL\0fcTL\0fdAT\0vpAg\0";

int cpng_decode(const uint8_t *data, size_t len, uint64_t max_pixels, cpng_decoded *out,
                char *msg, size_t msgcap) {
    if (!data || !out) return CPNG_ERR_ARGUMENT;
    memset(out, 0, sizeof *out);
    err_sink sink = {msg, msgcap};
    set_msg(msg, msgcap, "");
    mem_reader reader = {data, len, 0};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &sink, on_error, on_warning);
    if (!png) return CPNG_ERR_MEMORY;
    png_infop info = png_create_info_struct(png);
    if (!info) {
        png_destroy_read_struct(&png, NULL, NULL);
        return CPNG_ERR_MEMORY;
    }
    uint8_t *volatile rows = NULL;
    png_bytep *volatile row_ptrs = NULL;
    uint16_t *volatile samples = NULL;
    volatile int code = CPNG_ERR_LIBPNG;
    if (setjmp(png_jmpbuf(png))) {
        free(rows);
        free(row_ptrs);
        free(samples);
        png_destroy_read_struct(&png, &info, NULL);
        if (msg && msgcap > 0 && msg[0] == 0) set_msg(msg, msgcap, "libpng error");
        return code;
    }
    png_set_read_fn(png, &reader, read_mem);
    // Never parse ancillary chunks: nothing to transform, nothing to fail on.
    png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_NEVER, NULL, 0);
    png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_NEVER, known_ancillary,
                                (int)(sizeof known_ancillary / 5));
    png_set_user_limits(png, 0x7fffffffu, 0x7fffffffu);
    png_set_chunk_malloc_max(png, (png_alloc_size_t)64 << 20);
    png_read_info(png, info);

    png_uint_32 width = 0, height = 0;
    int bit_depth = 0, color_type = 0, interlace = 0;
    png_get_IHDR(png, info, &width, &height, &bit_depth, &color_type, &interlace, NULL, NULL);
    if ((uint64_t)width * (uint64_t)height > max_pixels) {
        code = CPNG_ERR_TOO_LARGE;
        set_msg(msg, msgcap, "image is larger than the pixel limit");
        png_longjmp(png, 1);
    }
    int channels = png_get_channels(png, info);
    if (interlace != PNG_INTERLACE_NONE) (void)png_set_interlace_handling(png);
    png_read_update_info(png, info);
    size_t rowbytes = png_get_rowbytes(png, info);
    size_t total = rowbytes * (size_t)height;
    code = CPNG_ERR_MEMORY;
    rows = malloc(total ? total : 1);
    row_ptrs = malloc(sizeof(png_bytep) * (size_t)height);
    samples = malloc(sizeof(uint16_t) * (size_t)width * (size_t)height * (size_t)channels);
    if (!rows || !row_ptrs || !samples) {
        set_msg(msg, msgcap, "out of memory");
        png_longjmp(png, 1);
    }
    code = CPNG_ERR_LIBPNG;
    for (png_uint_32 y = 0; y < height; y++) row_ptrs[y] = rows + rowbytes * y;
    png_read_image(png, row_ptrs);

    // Unpack rows to one uint16 per sample (big-endian for 16-bit; MSB-first for sub-byte).
    size_t per_row = (size_t)width * (size_t)channels;
    for (png_uint_32 y = 0; y < height; y++) {
        const uint8_t *row = rows + rowbytes * y;
        uint16_t *dst = samples + per_row * y;
        if (bit_depth == 16) {
            for (size_t i = 0; i < per_row; i++) dst[i] = (uint16_t)((row[2 * i] << 8) | row[2 * i + 1]);
        } else if (bit_depth == 8) {
            for (size_t i = 0; i < per_row; i++) dst[i] = row[i];
        } else {
            int per_byte = 8 / bit_depth;
            unsigned mask = (1u << bit_depth) - 1;
            for (size_t i = 0; i < per_row; i++) {
                int shift = 8 - bit_depth * (int)(i % per_byte + 1);
                dst[i] = (uint16_t)((row[i / per_byte] >> shift) & mask);
            }
        }
    }
    free(rows);
    free(row_ptrs);
    png_destroy_read_struct(&png, &info, NULL);
    out->width = width;
    out->height = height;
    out->bit_depth = bit_depth;
    out->color_type = color_type;
    out->interlace = interlace;
    out->channels = channels;
    out->samples = samples;
    return CPNG_OK;
}

/* ------------------------------------------------------------------ encoding */

typedef struct {
    uint8_t *data;
    size_t len, cap;
    int failed;
} mem_writer;

static void write_mem(png_structp png, png_bytep in, size_t n) {
    mem_writer *w = (mem_writer *)png_get_io_ptr(png);
    if (n > w->cap - w->len) {
        size_t cap = w->cap ? w->cap : 4096;
        while (n > cap - w->len) {
            if (cap > SIZE_MAX / 2) png_error(png, "out of memory");
            cap *= 2;
        }
        uint8_t *p = realloc(w->data, cap);
        if (!p) png_error(png, "out of memory");
        w->data = p;
        w->cap = cap;
    }
    memcpy(w->data + w->len, in, n);
    w->len += n;
}

static void flush_mem(png_structp png) { (void)png; }

static int valid_depth(int color_type, int bit_depth) {
    switch (color_type) {
    case 0: return bit_depth == 1 || bit_depth == 2 || bit_depth == 4 || bit_depth == 8 || bit_depth == 16;
    case 3: return bit_depth == 1 || bit_depth == 2 || bit_depth == 4 || bit_depth == 8;
    case 2: case 4: case 6: return bit_depth == 8 || bit_depth == 16;
    default: return 0;
    }
}

int cpng_encode(const cpng_encode_params *p, uint8_t **out, size_t *out_len, char *msg, size_t msgcap) {
    if (!p || !out || !out_len || !p->samples || p->width == 0 || p->height == 0 ||
        !valid_depth(p->color_type, p->bit_depth) || p->palette_length % 3 != 0) {
        set_msg(msg, msgcap, "invalid PNG parameters");
        return CPNG_ERR_ARGUMENT;
    }
    *out = NULL;
    *out_len = 0;
    err_sink sink = {msg, msgcap};
    set_msg(msg, msgcap, "");
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &sink, on_error, on_warning);
    if (!png) return CPNG_ERR_MEMORY;
    png_infop info = png_create_info_struct(png);
    if (!info) {
        png_destroy_write_struct(&png, NULL);
        return CPNG_ERR_MEMORY;
    }
    mem_writer writer = {NULL, 0, 0, 0};
    uint8_t *volatile row = NULL;
    png_unknown_chunk *volatile unknowns = NULL;
    if (setjmp(png_jmpbuf(png))) {
        free(row);
        free(unknowns);
        free(writer.data);
        png_destroy_write_struct(&png, &info);
        if (msg && msgcap > 0 && msg[0] == 0) set_msg(msg, msgcap, "libpng error");
        return CPNG_ERR_LIBPNG;
    }
    png_set_write_fn(png, &writer, write_mem, flush_mem);
    png_set_user_limits(png, 0x7fffffffu, 0x7fffffffu);
    if (p->best) {
        png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_ALL_FILTERS);
        png_set_compression_level(png, 9);
        png_set_compression_mem_level(png, 9);
    }
    png_set_IHDR(png, info, p->width, p->height, p->bit_depth, p->color_type,
                 p->interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_BASE, PNG_FILTER_TYPE_BASE);
    if (p->palette && p->palette_length > 0) {
        png_color colors[256];
        int n = (int)(p->palette_length / 3);
        if (n > 256) png_error(png, "palette has more than 256 entries");
        for (int i = 0; i < n; i++) {
            colors[i].red = p->palette[3 * i];
            colors[i].green = p->palette[3 * i + 1];
            colors[i].blue = p->palette[3 * i + 2];
        }
        png_set_PLTE(png, info, colors, n);
    }
    if (p->trns && p->trns_length > 0) {
        png_color_16 tc;
        memset(&tc, 0, sizeof tc);
        const uint8_t *t = p->trns;
        if (p->color_type == 3) {
            if (p->trns_length > 256) png_error(png, "tRNS has more than 256 entries");
            png_set_tRNS(png, info, t, (int)p->trns_length, NULL);
        } else if (p->color_type == 0 && p->trns_length == 2) {
            tc.gray = (png_uint_16)((t[0] << 8) | t[1]);
            png_set_tRNS(png, info, NULL, 0, &tc);
        } else if (p->color_type == 2 && p->trns_length == 6) {
            tc.red = (png_uint_16)((t[0] << 8) | t[1]);
            tc.green = (png_uint_16)((t[2] << 8) | t[3]);
            tc.blue = (png_uint_16)((t[4] << 8) | t[5]);
            png_set_tRNS(png, info, NULL, 0, &tc);
        } else {
            png_error(png, "tRNS does not fit the colour type");
        }
    }
    if (p->chunk_count > 0) {
        // Write every ancillary chunk as an "unknown" chunk, verbatim, at its position.
        png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_ALWAYS, NULL, 0);
        unknowns = calloc(p->chunk_count, sizeof(png_unknown_chunk));
        if (!unknowns) png_error(png, "out of memory");
        for (size_t i = 0; i < p->chunk_count; i++) {
            const cpng_chunk *c = &p->chunks[i];
            memcpy(unknowns[i].name, c->type, 4);
            unknowns[i].name[4] = 0;
            unknowns[i].data = (png_byte *)c->data;
            unknowns[i].size = c->length;
            unknowns[i].location = c->position == 0 ? PNG_HAVE_IHDR
                                 : c->position == 1 ? PNG_HAVE_PLTE : PNG_AFTER_IDAT;
        }
        png_set_unknown_chunks(png, info, unknowns, (int)p->chunk_count);
        // png_set_unknown_chunks copies; restore each location exactly as asked.
        for (size_t i = 0; i < p->chunk_count; i++)
            png_set_unknown_chunk_location(png, info, (int)i, unknowns[i].location);
    }
    png_write_info(png, info);

    int passes = p->interlace ? png_set_interlace_handling(png) : 1;
    size_t per_row = (size_t)p->width * (size_t)p->channels;
    size_t rowbytes = p->bit_depth == 16 ? per_row * 2 : (per_row * (size_t)p->bit_depth + 7) / 8;
    // With interlace handling libpng needs whole rows every pass; one packed row buffer suffices.
    row = malloc(rowbytes ? rowbytes : 1);
    if (!row) png_error(png, "out of memory");
    for (int pass = 0; pass < passes; pass++) {
        for (png_uint_32 y = 0; y < p->height; y++) {
            const uint16_t *src = p->samples + per_row * y;
            if (p->bit_depth == 16) {
                for (size_t i = 0; i < per_row; i++) {
                    row[2 * i] = (uint8_t)(src[i] >> 8);
                    row[2 * i + 1] = (uint8_t)src[i];
                }
            } else if (p->bit_depth == 8) {
                for (size_t i = 0; i < per_row; i++) row[i] = (uint8_t)src[i];
            } else {
                memset(row, 0, rowbytes);
                int per_byte = 8 / p->bit_depth;
                unsigned mask = (1u << p->bit_depth) - 1;
                for (size_t i = 0; i < per_row; i++) {
                    int shift = 8 - p->bit_depth * (int)(i % per_byte + 1);
                    row[i / per_byte] |= (uint8_t)((src[i] & mask) << shift);
                }
            }
            png_write_row(png, row);
        }
    }
    png_write_end(png, info);
    free(row);
    free(unknowns);
    png_destroy_write_struct(&png, &info);
    *out = writer.data;
    *out_len = writer.len;
    return CPNG_OK;
}

void cpng_free(void *p) { free(p); }
