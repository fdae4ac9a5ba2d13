// SafetensorsFile: a parsed .safetensors file (Hugging Face's tensor container) over a memory map.
//
// Layout: u64 little-endian header length N; N bytes of UTF-8 JSON, an object mapping each tensor
// name to {"dtype": "F32"|"F16"|"BF16"|..., "shape": [d0, d1, ...], "data_offsets": [begin, end]}
// plus an optional "__metadata__" object of string -> string; then the data section. Offsets are
// relative to the data section; shapes are row-major with the last dimension contiguous.
// Invariants after parsing (a hostile file yields Corrupt/Unsupported, never a crash):
//  1. N <= file size - 8 and N <= kMaxHeaderBytes; the header is a JSON object.
//  2. every tensor has a dtype we read (F32, F16, BF16), 0..4 dims each >= 1, and
//     end - begin == prod(shape) * element size without overflow;
//  3. begin <= end <= data section size, and no two tensors' byte ranges overlap.
// Ownership: owns its map (or borrows caller bytes in parse()); views live as long as the file.
// Thread-safety: immutable after parsing.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/dtype.h"
#include "core/common/mapped_file.h"
#include "core/common/status.h"

namespace memlong {

struct SafetensorsTensor {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;  // row-major, as stored (last dimension contiguous)
  uint64_t offset = 0;         // relative to the data section
  uint64_t n_bytes = 0;
  const uint8_t* data = nullptr;
};

class SafetensorsFile {
 public:
  // 100 MiB: a header lists names, shapes and offsets; the largest real ones are a few MiB.
  static constexpr uint64_t kMaxHeaderBytes = 100ull << 20;

  // Maps and parses a file. Errors: NotFound, IoError, Corrupt, Unsupported.
  static Result<std::unique_ptr<SafetensorsFile>> open(const std::string& path);
  // Parses bytes the caller keeps alive (tests). `origin` names them in messages.
  static Result<std::unique_ptr<SafetensorsFile>> parse(std::span<const uint8_t> bytes,
                                                        const std::string& origin);

  const std::vector<SafetensorsTensor>& tensors() const { return tensors_; }
  const SafetensorsTensor* find(std::string_view name) const;
  // Tensors of a dtype MemLong does not read (integers, F64, F8), left out of tensors(): name ->
  // why. A loader that needs one reports this reason instead of "missing".
  const std::map<std::string, std::string>& skipped() const { return skipped_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  const std::string& origin() const { return origin_; }

  // Moves the map out (ModelFile keeps it alive for the tensor views).
  MappedFile release_map() { return std::move(map_); }

 private:
  Status parse_impl(std::span<const uint8_t> bytes);

  MappedFile map_;
  std::string origin_;
  std::vector<SafetensorsTensor> tensors_;
  std::map<std::string, size_t> index_;
  std::map<std::string, std::string> metadata_;
  std::map<std::string, std::string> skipped_;
};

}  // namespace memlong
