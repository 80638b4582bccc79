// Embeds model files with the assembler's .incbin (ELF targets), so that ddnzip and ddnunzip need
// no file beside them: the default model, and the earlier defaults whose archives must still
// decode without -m. DDN_MODEL_DIR is set in Package.swift.
// Note: the build does not track the model files; after replacing one, touch this file.
#include "default_model.h"

#define DDN_STR2(x) #x
#define DDN_STR(x) DDN_STR2(x)

#define DDN_EMBED(symbol, file)                                              \
    __asm__(".section .rodata\n"                                             \
            ".balign 16\n"                                                   \
            #symbol "_start:\n"                                              \
            ".incbin \"" DDN_STR(DDN_MODEL_DIR) "/" file "\"\n"              \
            #symbol "_end:\n"                                                \
            ".previous\n");                                                  \
    extern const unsigned char symbol##_start[], symbol##_end[];

// In the order of ddn_embedded_model: the default first, then the earlier defaults, newest first.
DDN_EMBED(ddn_model_default, "fashion-mnist.ddnm")
DDN_EMBED(ddn_model_v2, "fashion-mnist-v2.ddnm")
DDN_EMBED(ddn_model_v1, "fashion-mnist-v1.ddnm")

static const struct { const char *name; const unsigned char *start, *end; } models[] = {
    {"fashion-mnist", ddn_model_default_start, ddn_model_default_end},
    {"fashion-mnist-v2", ddn_model_v2_start, ddn_model_v2_end},
    {"fashion-mnist-v1", ddn_model_v1_start, ddn_model_v1_end},
};

size_t ddn_embedded_model_count(void) { return sizeof models / sizeof models[0]; }

const unsigned char *ddn_embedded_model(size_t index, size_t *size, const char **name) {
    if (index >= ddn_embedded_model_count()) return 0;
    *size = (size_t)(models[index].end - models[index].start);
    *name = models[index].name;
    return models[index].start;
}
