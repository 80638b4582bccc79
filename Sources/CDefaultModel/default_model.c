// Embeds the default model's bytes with the assembler's .incbin (ELF targets), so that ddnzip
// and ddnunzip need no file beside them. DDN_DEFAULT_MODEL_PATH is set in Package.swift.
// Note: the build does not track the model file; after replacing it, touch this file.
#include "default_model.h"

#define DDN_STR2(x) #x
#define DDN_STR(x) DDN_STR2(x)

__asm__(".section .rodata\n"
        ".balign 16\n"
        "ddn_default_model_start:\n"
        ".incbin \"" DDN_STR(DDN_DEFAULT_MODEL_PATH) "\"\n"
        "ddn_default_model_end:\n"
        ".previous\n");

extern const unsigned char ddn_default_model_start[], ddn_default_model_end[];

const unsigned char *ddn_default_model_bytes(void) { return ddn_default_model_start; }
size_t ddn_default_model_size(void) { return (size_t)(ddn_default_model_end - ddn_default_model_start); }
