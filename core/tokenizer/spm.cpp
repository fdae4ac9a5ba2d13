#include "core/tokenizer/spm.h"

#include <sentencepiece_processor.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/tokenizer/unicode.h"

namespace memlong {
namespace {

// Minimal protobuf wire-format writer (varints, length-delimited fields, fixed32 floats).
class ProtoWriter {
 public:
  void varint(uint32_t field, uint64_t v) {
    tag(field, 0);
    raw_varint(v);
  }
  void int32(uint32_t field, int32_t v) {
    varint(field, static_cast<uint64_t>(static_cast<int64_t>(v)));
  }
  void boolean(uint32_t field, bool v) { varint(field, v ? 1 : 0); }
  void f32(uint32_t field, float v) {
    tag(field, 5);
    uint32_t bits;
    std::memcpy(&bits, &v, 4);
    for (int i = 0; i < 4; ++i) out_.push_back(static_cast<char>((bits >> (8 * i)) & 0xFF));
  }
  void bytes(uint32_t field, std::string_view s) {
    tag(field, 2);
    raw_varint(s.size());
    out_.append(s);
  }
  const std::string& str() const { return out_; }

 private:
  void tag(uint32_t field, uint32_t wire) {
    raw_varint((static_cast<uint64_t>(field) << 3) | wire);
  }
  void raw_varint(uint64_t v) {
    while (v >= 0x80) {
      out_.push_back(static_cast<char>((v & 0x7F) | 0x80));
      v >>= 7;
    }
    out_.push_back(static_cast<char>(v));
  }
  std::string out_;
};

// sentencepiece ModelProto.SentencePiece.Type uses the same numbers as TokenType, except that
// undefined becomes normal.
int32_t spm_piece_type(int32_t t) {
  return (t >= 1 && t <= 6) ? t : 1;
}

bool is_known_eog_piece(std::string_view p) {
  return p == "</s>" || p == "<end_of_turn>" || p == "<|eot_id|>" || p == "<|im_end|>" ||
         p == "<|end|>" || p == "<|endoftext|>";
}

int byte_piece_value(std::string_view p) {
  if (p.size() != 6 || !p.starts_with("<0x") || p[5] != '>') return -1;
  int v = 0;
  for (int i = 3; i < 5; ++i) {
    char c = p[i];
    int d = (c >= '0' && c <= '9')   ? c - '0'
            : (c >= 'A' && c <= 'F') ? c - 'A' + 10
            : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                                     : -1;
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

}  // namespace

Result<std::string> build_spm_model_proto(const VocabData& vocab) {
  const size_t n = vocab.tokens.size();
  if (n == 0) return corrupt("SentencePiece vocabulary has no tokens");
  if (!vocab.scores.empty() && vocab.scores.size() != n) {
    return corrupt("SentencePiece vocabulary has " + std::to_string(n) + " tokens but " +
                   std::to_string(vocab.scores.size()) + " scores");
  }
  if (!vocab.token_types.empty() && vocab.token_types.size() != n) {
    return corrupt("SentencePiece vocabulary has " + std::to_string(n) + " tokens but " +
                   std::to_string(vocab.token_types.size()) + " token types");
  }
  std::vector<int32_t> types(n, 1);
  for (size_t i = 0; i < n && !vocab.token_types.empty(); ++i)
    types[i] = spm_piece_type(vocab.token_types[i]);
  int32_t unk = -1;
  for (size_t i = 0; i < n; ++i) {
    if (types[i] == 2) {
      if (unk >= 0)
        types[i] = 3;  // only one unknown piece is allowed
      else
        unk = static_cast<int32_t>(i);
    }
  }
  if (unk < 0 && vocab.unk_id >= 0 && static_cast<size_t>(vocab.unk_id) < n) {
    unk = vocab.unk_id;
    types[unk] = 2;
  }
  if (unk < 0) return corrupt("SentencePiece vocabulary has no unknown-token piece");
  int n_byte = 0;
  for (size_t i = 0; i < n; ++i) {
    if (types[i] == 6) {
      if (byte_piece_value(vocab.tokens[i]) < 0)
        types[i] = 1;
      else
        ++n_byte;
    }
  }
  std::string model_type = vocab.spm_model_type;
  int32_t model_type_id;
  if (model_type == "bpe" || model_type.empty())
    model_type_id = 2;
  else if (model_type == "unigram")
    model_type_id = 1;
  else
    return unsupported("SentencePiece model type '" + model_type + "' (expected bpe or unigram)");

  ProtoWriter proto;
  for (size_t i = 0; i < n; ++i) {
    ProtoWriter piece;
    piece.bytes(1, vocab.tokens[i]);
    piece.f32(2, vocab.scores.empty() ? 0.0f : vocab.scores[i]);
    piece.int32(3, types[i]);
    proto.bytes(1, piece.str());
  }
  ProtoWriter trainer;
  trainer.int32(3, model_type_id);
  trainer.int32(4, static_cast<int32_t>(n));
  trainer.boolean(35, n_byte == 256);
  trainer.int32(40, unk);
  trainer.int32(41, vocab.bos_id);
  trainer.int32(42, vocab.eos_id);
  trainer.int32(43, vocab.pad_id);
  proto.bytes(2, trainer.str());
  ProtoWriter normalizer;
  normalizer.bytes(1, "identity");
  normalizer.boolean(3, vocab.add_space_prefix.value_or(true));
  normalizer.boolean(4, false);  // keep runs of spaces, as llama.cpp does
  normalizer.boolean(5, true);
  proto.bytes(3, normalizer.str());
  return proto.str();
}

SpmTokenizer::SpmTokenizer() : sp_(std::make_unique<sentencepiece::SentencePieceProcessor>()) {}
SpmTokenizer::~SpmTokenizer() = default;

Result<std::unique_ptr<SpmTokenizer>> SpmTokenizer::from_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return not_found("cannot open SentencePiece model '" + path + "'");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (!in && !in.eof()) return io_error("cannot read SentencePiece model '" + path + "'");
  std::unique_ptr<SpmTokenizer> t(new SpmTokenizer());
  MEMLONG_RETURN_IF_ERROR(t->init(ss.str(), nullptr, path));
  return t;
}

Result<std::unique_ptr<SpmTokenizer>> SpmTokenizer::from_vocab(const VocabData& vocab) {
  MEMLONG_ASSIGN_OR_RETURN(std::string proto, build_spm_model_proto(vocab));
  std::unique_ptr<SpmTokenizer> t(new SpmTokenizer());
  MEMLONG_RETURN_IF_ERROR(t->init(proto, &vocab, "SentencePiece vocabulary from model metadata"));
  return t;
}

Status SpmTokenizer::init(std::string_view serialized, const VocabData* vocab,
                          const std::string& origin) {
  sentencepiece::util::Status st;
  try {
    st = sp_->LoadFromSerializedProto(serialized);
  } catch (const std::exception& e) {
    return corrupt(origin + ": sentencepiece failed: " + e.what());
  }
  if (!st.ok()) return corrupt(origin + ": not a valid SentencePiece model: " + st.ToString());
  const int n = sp_->GetPieceSize();
  pieces_.resize(n);
  types_.assign(n, static_cast<int32_t>(TokenType::kNormal));
  for (int i = 0; i < n; ++i) {
    pieces_[i] = sp_->IdToPiece(i);
    if (vocab != nullptr && !vocab->token_types.empty()) {
      types_[i] = vocab->token_types[i];
    } else if (sp_->IsUnknown(i)) {
      types_[i] = static_cast<int32_t>(TokenType::kUnknown);
    } else if (sp_->IsControl(i)) {
      types_[i] = static_cast<int32_t>(TokenType::kControl);
    } else if (sp_->IsByte(i)) {
      types_[i] = static_cast<int32_t>(TokenType::kByte);
    } else if (sp_->IsUnused(i)) {
      types_[i] = static_cast<int32_t>(TokenType::kUnused);
    }
    if (types_[i] == static_cast<int32_t>(TokenType::kControl)) {
      specials_.add(pieces_[i], i, false);
      if (is_known_eog_piece(pieces_[i])) eog_ids_.push_back(i);
    }
  }
  specials_.finish();
  if (vocab != nullptr) {
    bos_id_ = vocab->bos_id;
    eos_id_ = vocab->eos_id;
    add_bos_ = vocab->add_bos.value_or(true);
    add_dummy_prefix_ = vocab->add_space_prefix.value_or(true);
    for (int32_t id : vocab->eog_ids) eog_ids_.push_back(id);
  } else {
    bos_id_ = sp_->bos_id();
    eos_id_ = sp_->eos_id();
    // The dummy prefix flag is not exposed; probe it: "a" encodes to a piece starting with "▁".
    std::vector<std::string> probe;
    add_dummy_prefix_ =
        sp_->Encode("a", &probe).ok() && !probe.empty() && probe[0].starts_with("\xE2\x96\x81");
  }
  if (eos_id_ >= 0) eog_ids_.push_back(eos_id_);
  std::sort(eog_ids_.begin(), eog_ids_.end());
  eog_ids_.erase(std::unique(eog_ids_.begin(), eog_ids_.end()), eog_ids_.end());
  return Status::ok();
}

std::vector<int32_t> SpmTokenizer::encode(std::string_view text, bool add_bos,
                                          bool parse_special) const {
  std::vector<int32_t> out;
  if (add_bos && add_bos_ && bos_id_ >= 0) out.push_back(bos_id_);
  std::vector<int> ids;
  for (const TextFragment& frag : specials_.split(text, parse_special)) {
    if (frag.id >= 0) {
      out.push_back(frag.id);
      continue;
    }
    ids.clear();
    if (!sp_->Encode(frag.text, &ids).ok()) continue;  // only fails when no model is loaded
    out.insert(out.end(), ids.begin(), ids.end());
  }
  return out;
}

std::string SpmTokenizer::token_to_bytes(int32_t id, bool skip_special) const {
  if (id < 0 || id >= n_vocab()) return {};
  const std::string& p = pieces_[id];
  switch (static_cast<TokenType>(types_[id])) {
    case TokenType::kControl:
      return skip_special ? std::string() : p;
    case TokenType::kUnknown:
      return " \xE2\x81\x87 ";  // " ⁇ ", sentencepiece's surface for unknown pieces
    case TokenType::kByte: {
      int v = byte_piece_value(p);
      if (v >= 0) return std::string(1, static_cast<char>(v));
      break;
    }
    default:
      break;
  }
  std::string out;
  out.reserve(p.size());
  for (size_t i = 0; i < p.size();) {
    if (p.compare(i, 3, "\xE2\x96\x81") == 0) {
      out.push_back(' ');
      i += 3;
    } else {
      out.push_back(p[i++]);
    }
  }
  return out;
}

std::string SpmTokenizer::decode(std::span<const int32_t> ids, bool skip_special) const {
  std::string bytes;
  bool at_start = true;
  for (int32_t id : ids) {
    std::string b = token_to_bytes(id, skip_special);
    bool is_control =
        id >= 0 && id < n_vocab() && static_cast<TokenType>(types_[id]) == TokenType::kControl;
    if (is_control) {
      bytes += b;
      continue;
    }
    if (at_start && add_dummy_prefix_ && !b.empty() && b[0] == ' ' &&
        static_cast<TokenType>(types_[id]) != TokenType::kByte) {
      b.erase(0, 1);
    }
    at_start = false;
    bytes += b;
  }
  return sanitize_utf8(bytes);
}

bool SpmTokenizer::is_end_of_generation(int32_t id) const {
  return std::binary_search(eog_ids_.begin(), eog_ids_.end(), id);
}

bool SpmTokenizer::is_special(int32_t id) const {
  if (id < 0 || id >= n_vocab()) return false;
  return static_cast<TokenType>(types_[id]) == TokenType::kControl;
}

int32_t SpmTokenizer::piece_to_id(std::string_view piece) const {
  // The library maps unknown pieces to unk_id; check the round trip.
  int id = sp_->PieceToId(piece);
  if (id < 0 || id >= n_vocab() || pieces_[id] != piece) return -1;
  return id;
}

}  // namespace memlong
