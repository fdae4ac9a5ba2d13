// DType: element types of tensors, numbered as in the GGUF/ggml format (the GGUF tensor directory
// stores these ids), with their block layout. Quantized types pack `block_elems` weights into
// `block_bytes` bytes; a row's length must be a multiple of block_elems.
// Sources: ggml's type table (ggml.c type_traits) and the GGUF spec (docs/gguf.md in ggml).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace memlong {

enum class DType : uint32_t {
  kF32 = 0,
  kF16 = 1,
  kQ4_0 = 2,
  kQ4_1 = 3,
  kQ5_0 = 6,
  kQ5_1 = 7,
  kQ8_0 = 8,
  kQ8_1 = 9,
  kQ2_K = 10,
  kQ3_K = 11,
  kQ4_K = 12,
  kQ5_K = 13,
  kQ6_K = 14,
  kQ8_K = 15,
  kI8 = 24,
  kI16 = 25,
  kI32 = 26,
  kI64 = 27,
  kF64 = 28,
  kBF16 = 30,
};

struct DTypeTraits {
  std::string_view name;  // "Q4_1"
  int64_t block_elems;    // elements per block (1 for plain types)
  int64_t block_bytes;    // bytes per block
  bool is_quantized;
};

// Traits of a known type, or nullopt for an id we do not know (the GGUF reader rejects those).
std::optional<DTypeTraits> dtype_traits(uint32_t id);
// Same for a DType value that is known to be valid (asserts otherwise).
const DTypeTraits& traits(DType t);
inline std::string_view dtype_name(DType t) {
  return traits(t).name;
}

// Bytes taken by `n_elems` elements of `t`; n_elems must be a multiple of the block size.
// Returns nullopt on overflow or a partial block.
std::optional<uint64_t> dtype_row_bytes(DType t, uint64_t n_elems);

}  // namespace memlong
