// GgufFile: a parsed GGUF v2/v3 file (the llama.cpp model format) over a memory map.
//
// Layout (little-endian): magic "GGUF", u32 version, u64 n_tensors, u64 n_kv; n_kv metadata pairs
// (string key, u32 value type, value); n_tensors tensor infos (string name, u32 n_dims, u64 ne[n],
// u32 type, u64 offset); padding to `general.alignment` (default 32); tensor data, each tensor at
// data_start + offset. Strings are u64 length + bytes (not NUL-terminated).
// Every count, length and offset is checked against the bytes that remain before anything is
// allocated, so a hostile file yields Corrupt/Unsupported, never a crash or a huge allocation.
// Ownership: owns its map (or borrows caller bytes in parse()); views live as long as the GgufFile.
// Thread-safety: immutable after parsing.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/dtype.h"
#include "core/common/mapped_file.h"
#include "core/common/status.h"

namespace memlong {

enum class GgufType : uint32_t {
  kU8 = 0,
  kI8 = 1,
  kU16 = 2,
  kI16 = 3,
  kU32 = 4,
  kI32 = 5,
  kF32 = 6,
  kBool = 7,
  kString = 8,
  kArray = 9,
  kU64 = 10,
  kI64 = 11,
  kF64 = 12,
};

std::string_view gguf_type_name(GgufType t);

// One metadata value. Integers are widened to int64/uint64, floats to double; arrays keep their
// element type and hold their elements in the matching vector (nested arrays in `arrays`).
struct GgufValue {
  GgufType type = GgufType::kU8;
  GgufType elem_type = GgufType::kU8;  // for arrays
  int64_t i = 0;                       // signed integers and bool
  uint64_t u = 0;                      // unsigned integers
  double f = 0.0;                      // floats
  std::string s;                       // strings
  std::vector<int64_t> ints;           // integer/bool arrays (unsigned values that fit)
  std::vector<double> floats;          // float arrays
  std::vector<std::string> strings;    // string arrays
  std::vector<GgufValue> arrays;       // arrays of arrays
  uint64_t n_elems = 0;                // array length

  // Short printable form ("[49152 strings]", "3", "llama").
  std::string summary() const;
};

struct GgufKv {
  std::string key;
  GgufValue value;
};

struct GgufTensorInfo {
  std::string name;
  int n_dims = 0;
  std::array<int64_t, 4> ne = {1, 1, 1, 1};
  DType dtype = DType::kF32;
  uint64_t offset = 0;  // relative to the data section
  uint64_t n_bytes = 0;
  const uint8_t* data = nullptr;
};

class GgufFile {
 public:
  // Maps and parses a file. Errors: NotFound, IoError, Corrupt, Unsupported.
  static Result<std::unique_ptr<GgufFile>> open(const std::string& path);
  // Parses bytes the caller keeps alive (tests). `origin` names them in messages.
  static Result<std::unique_ptr<GgufFile>> parse(std::span<const uint8_t> bytes,
                                                 const std::string& origin);

  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }
  const std::vector<GgufKv>& metadata() const { return kvs_; }
  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }
  const std::string& origin() const { return origin_; }

  const GgufValue* find(std::string_view key) const;
  const GgufTensorInfo* find_tensor(std::string_view name) const;
  std::optional<std::string> get_string(std::string_view key) const;
  std::optional<int64_t> get_int(std::string_view key) const;   // any integer type
  std::optional<double> get_float(std::string_view key) const;  // float or integer types
  std::optional<bool> get_bool(std::string_view key) const;

  // Moves the map out (ModelFile keeps it alive for the tensor views).
  MappedFile release_map() { return std::move(map_); }

 private:
  Status parse_impl(std::span<const uint8_t> bytes);

  MappedFile map_;
  std::string origin_;
  uint32_t version_ = 0;
  uint64_t alignment_ = 32;
  std::vector<GgufKv> kvs_;
  std::vector<GgufTensorInfo> tensors_;
};

// GgufWriter: builds a GGUF v3 file in memory (tests, synthetic models for benchmarks and GPU
// checks). Not a hot path.
class GgufWriter {
 public:
  void add_string(const std::string& key, const std::string& v);
  void add_u32(const std::string& key, uint32_t v);
  void add_i32(const std::string& key, int32_t v);
  void add_u64(const std::string& key, uint64_t v);
  void add_f32(const std::string& key, float v);
  void add_bool(const std::string& key, bool v);
  void add_string_array(const std::string& key, const std::vector<std::string>& v);
  void add_f32_array(const std::string& key, const std::vector<float>& v);
  void add_i32_array(const std::string& key, const std::vector<int32_t>& v);
  // Adds a tensor with ne[0] contiguous; `data` must hold exactly the bytes of that type/shape.
  void add_tensor(const std::string& name, DType dtype, std::vector<int64_t> ne,
                  std::vector<uint8_t> data);
  void set_alignment(uint32_t alignment) { alignment_ = alignment; }

  std::vector<uint8_t> finish() const;
  // Writes to a temporary name and renames into place.
  Status write_file(const std::string& path) const;

 private:
  struct PendingTensor {
    std::string name;
    DType dtype;
    std::vector<int64_t> ne;
    std::vector<uint8_t> data;
  };
  std::vector<uint8_t> kv_bytes_;
  uint64_t n_kv_ = 0;
  uint32_t alignment_ = 32;
  std::vector<PendingTensor> tensors_;
};

}  // namespace memlong
