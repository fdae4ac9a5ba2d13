#include "core/common/dtype.h"

#include <array>

#include "core/common/status.h"

namespace memlong {
namespace {

struct Entry {
  uint32_t id;
  DTypeTraits traits;
};

// Block layouts from ggml's type table (ggml.c / ggml-common.h): e.g. Q4_1 is an f16 scale d, an
// f16 minimum m and 16 bytes of nibbles per 32 weights = 20 bytes.
constexpr std::array<Entry, 20> kTypes = {{
    {0, {"F32", 1, 4, false}},      {1, {"F16", 1, 2, false}},      {2, {"Q4_0", 32, 18, true}},
    {3, {"Q4_1", 32, 20, true}},    {6, {"Q5_0", 32, 22, true}},    {7, {"Q5_1", 32, 24, true}},
    {8, {"Q8_0", 32, 34, true}},    {9, {"Q8_1", 32, 36, true}},    {10, {"Q2_K", 256, 84, true}},
    {11, {"Q3_K", 256, 110, true}}, {12, {"Q4_K", 256, 144, true}}, {13, {"Q5_K", 256, 176, true}},
    {14, {"Q6_K", 256, 210, true}}, {15, {"Q8_K", 256, 292, true}}, {24, {"I8", 1, 1, false}},
    {25, {"I16", 1, 2, false}},     {26, {"I32", 1, 4, false}},     {27, {"I64", 1, 8, false}},
    {28, {"F64", 1, 8, false}},     {30, {"BF16", 1, 2, false}},
}};

}  // namespace

std::optional<DTypeTraits> dtype_traits(uint32_t id) {
  for (const Entry& e : kTypes) {
    if (e.id == id) return e.traits;
  }
  return std::nullopt;
}

const DTypeTraits& traits(DType t) {
  for (const Entry& e : kTypes) {
    if (e.id == static_cast<uint32_t>(t)) return e.traits;
  }
  MEMLONG_ASSERT(false && "unknown DType");
  return kTypes[0].traits;
}

std::optional<uint64_t> dtype_row_bytes(DType t, uint64_t n_elems) {
  const DTypeTraits& tr = traits(t);
  const uint64_t be = static_cast<uint64_t>(tr.block_elems);
  if (n_elems % be != 0) return std::nullopt;
  const uint64_t n_blocks = n_elems / be;
  const uint64_t bb = static_cast<uint64_t>(tr.block_bytes);
  if (n_blocks != 0 && bb > UINT64_MAX / n_blocks) return std::nullopt;
  return n_blocks * bb;
}

}  // namespace memlong
