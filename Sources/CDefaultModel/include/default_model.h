#ifndef DDN_DEFAULT_MODEL_H
#define DDN_DEFAULT_MODEL_H
#include <stddef.h>

/// How many model files are compiled into the binary (Corpus/models/README.md): the default model
/// at index 0, then the earlier default models, newest first.
size_t ddn_embedded_model_count(void);
/// The bytes of embedded model `index`, its size in bytes (`*size`) and its file name without
/// `.ddnm` (`*name`); NULL when `index` is out of range.
const unsigned char *ddn_embedded_model(size_t index, size_t *size, const char **name);

#endif
