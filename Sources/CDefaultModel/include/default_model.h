#ifndef DDN_DEFAULT_MODEL_H
#define DDN_DEFAULT_MODEL_H
#include <stddef.h>

/// The default model file (Corpus/models/fashion-mnist.ddnm), compiled into the binary.
const unsigned char *ddn_default_model_bytes(void);
/// Its size in bytes.
size_t ddn_default_model_size(void);

#endif
