// Synthetic LLaMA models: random weights of any shape written as a GGUF file, with a byte-level
// BPE vocabulary of the 256 bytes plus <|endoftext|> (no merges). Used by tests that need a
// model with exact properties (one layer, tiny heads), and by GPU parity and speed checks, which
// cannot carry real model files and use synthetic weights of the real shapes instead.
#pragma once

#include <cstdint>
#include <string>

#include "core/common/dtype.h"
#include "core/common/status.h"

namespace memlong {

struct SyntheticModelSpec {
  int32_t n_layer = 1;
  int32_t n_embd = 64;
  int32_t n_head = 4;
  int32_t n_head_kv = 2;
  int32_t n_ff = 128;
  int32_t n_ctx = 512;
  float rope_theta = 10000.0f;
  DType matrix_type = DType::kF32;  // any type quant::quantize_row writes
  bool tied_embeddings = false;
  uint64_t seed = 1;
  float weight_scale = 0.08f;  // std-dev of the normal weights
};

// Writes the model to `path` (temporary name, then rename). Errors: IoError, InvalidArgument.
Status write_synthetic_llama_gguf(const std::string& path, const SyntheticModelSpec& spec);

}  // namespace memlong
