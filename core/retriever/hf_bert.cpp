// Hugging Face BERT / XLM-R encoder folders (sentence-transformers layout):
//   config.json                 BertModel / XLMRobertaModel hyper-parameters (gelu, absolute)
//   model.safetensors           F32 / F16 / BF16, names with or without "bert." / "roberta."
//   vocab.txt                   WordPiece (do_lower_case from tokenizer_config.json, default on)
//   or sentencepiece.bpe.model  XLM-R SentencePiece, ids shifted as fairseq does (+1, <unk> 3)
//   modules.json + <Pooling>/config.json   CLS or mean pooling (default mean)
//   sentence_bert_config.json   max_seq_length (default: the position table)
//   config_sentence_transformers.json      prompts.query / prompts.passage (default none)
// Matrices are used in place from the map; vectors (biases, norms) are converted to f32 copies.
#include <deque>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/common/half.h"
#include "core/model/safetensors_reader.h"
#include "core/quant/quant.h"
#include "core/retriever/encoder_embedder.h"
#include "core/retriever/wordpiece.h"
#include "core/tokenizer/spm.h"

namespace memlong {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

class WordPieceContent final : public ContentTokenizer {
 public:
  explicit WordPieceContent(std::unique_ptr<WordPieceTokenizer> t) : t_(std::move(t)) {}
  std::vector<int32_t> encode(std::string_view text) const override { return t_->encode(text); }

 private:
  std::unique_ptr<WordPieceTokenizer> t_;
};

// fairseq's XLM-R dictionary: <s> 0, <pad> 1, </s> 2, <unk> 3, then SentencePiece id + 1.
// Text that spells a special piece ("<s>") is tokenized as text (parse_special off), as the
// sentencepiece library does; Hugging Face's fast tokenizer would match it as the special token.
class XlmrContent final : public ContentTokenizer {
 public:
  XlmrContent(std::unique_ptr<SpmTokenizer> t, int32_t unk) : t_(std::move(t)), unk_(unk) {}
  std::vector<int32_t> encode(std::string_view text) const override {
    std::vector<int32_t> ids = t_->encode(text, /*add_bos=*/false, /*parse_special=*/false);
    for (int32_t& id : ids) id = id == unk_ ? 3 : id + 1;
    return ids;
  }

 private:
  std::unique_ptr<SpmTokenizer> t_;
  int32_t unk_;  // SentencePiece's <unk>
};

struct HfStorage {
  std::shared_ptr<SafetensorsFile> file;
  std::deque<std::vector<float>> vectors;  // deque: pointers stay valid as it grows
};

Result<json> read_json(const fs::path& path) {
  MEMLONG_ASSIGN_OR_RETURN(std::string text, read_text_file(path.string(), 16u << 20));
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return corrupt(path.string() + ": not a JSON object");
  return j;
}

template <typename T>
Result<T> get(const json& j, const char* key, std::optional<T> fallback, const std::string& where) {
  auto it = j.find(key);
  if (it == j.end()) {
    if (fallback) return *fallback;
    return corrupt(where + ": missing \"" + key + "\"");
  }
  if constexpr (std::is_same_v<T, std::string>) {
    if (!it->is_string()) return corrupt(where + ": \"" + key + "\" is not a string");
    return it->template get<std::string>();
  } else if constexpr (std::is_floating_point_v<T>) {
    if (!it->is_number()) return corrupt(where + ": \"" + key + "\" is not a number");
    return it->template get<T>();
  } else {
    if (!it->is_number_integer()) return corrupt(where + ": \"" + key + "\" is not an integer");
    const int64_t v = it->template get<int64_t>();
    if (v < 0 || v > (1 << 24)) return corrupt(where + ": \"" + key + "\" is out of range");
    return static_cast<T>(v);
  }
}

Result<std::unique_ptr<EncoderEmbedder>> load_impl(const std::string& folder,
                                                   std::unique_ptr<Backend> backend) {
  const fs::path dir(folder);
  const std::string cfg_where = (dir / "config.json").string();
  MEMLONG_ASSIGN_OR_RETURN(json cfg, read_json(dir / "config.json"));
  MEMLONG_ASSIGN_OR_RETURN(std::string model_type,
                           get<std::string>(cfg, "model_type", std::string(), cfg_where));
  bool is_xlmr = model_type == "xlm-roberta" || model_type == "roberta";
  bool is_bert = model_type == "bert";
  if (auto a = cfg.find("architectures"); a != cfg.end() && a->is_array()) {
    for (const auto& s : *a) {
      if (!s.is_string()) continue;
      const std::string n = s.get<std::string>();
      is_xlmr |= n.starts_with("XLMRoberta") || n.starts_with("Roberta");
      is_bert |= n.starts_with("Bert");
    }
  }
  if (!is_xlmr && !is_bert)
    return unsupported(cfg_where + ": model_type '" + model_type +
                       "' is not a BERT or XLM-RoBERTa encoder");
  BertConfig c;
  MEMLONG_ASSIGN_OR_RETURN(c.hidden, get<int32_t>(cfg, "hidden_size", {}, cfg_where));
  MEMLONG_ASSIGN_OR_RETURN(c.n_layers, get<int32_t>(cfg, "num_hidden_layers", {}, cfg_where));
  MEMLONG_ASSIGN_OR_RETURN(c.n_heads, get<int32_t>(cfg, "num_attention_heads", {}, cfg_where));
  MEMLONG_ASSIGN_OR_RETURN(c.ffn, get<int32_t>(cfg, "intermediate_size", {}, cfg_where));
  MEMLONG_ASSIGN_OR_RETURN(c.max_pos, get<int32_t>(cfg, "max_position_embeddings", {}, cfg_where));
  MEMLONG_ASSIGN_OR_RETURN(int32_t type_vocab,
                           get<int32_t>(cfg, "type_vocab_size", int32_t{2}, cfg_where));
  MEMLONG_ASSIGN_OR_RETURN(double eps, get<double>(cfg, "layer_norm_eps", 1e-12, cfg_where));
  MEMLONG_ASSIGN_OR_RETURN(std::string act,
                           get<std::string>(cfg, "hidden_act", std::string("gelu"), cfg_where));
  if (act != "gelu")
    return unsupported(cfg_where + ": hidden_act '" + act + "' (only gelu, the erf form)");
  MEMLONG_ASSIGN_OR_RETURN(
      std::string pos_type,
      get<std::string>(cfg, "position_embedding_type", std::string("absolute"), cfg_where));
  if (pos_type != "absolute")
    return unsupported(cfg_where + ": position_embedding_type '" + pos_type +
                       "' (only absolute position embeddings)");
  if (is_xlmr) {
    MEMLONG_ASSIGN_OR_RETURN(int32_t pad, get<int32_t>(cfg, "pad_token_id", int32_t{1}, cfg_where));
    c.position_offset = pad + 1;  // RoBERTa positions start after padding_idx
  }
  c.eps = static_cast<float>(eps);

  // Weights.
  const fs::path st_path = dir / "model.safetensors";
  if (!fs::exists(st_path))
    return unsupported(folder +
                       ": no model.safetensors (sharded and .bin checkpoints are not read)");
  MEMLONG_ASSIGN_OR_RETURN(std::unique_ptr<SafetensorsFile> st_owned,
                           SafetensorsFile::open(st_path.string()));
  auto storage = std::make_shared<HfStorage>();
  storage->file = std::shared_ptr<SafetensorsFile>(std::move(st_owned));
  const SafetensorsFile& st = *storage->file;
  std::string prefix;
  for (const char* p : {"", "bert.", "roberta.", "model."}) {
    if (st.find(std::string(p) + "embeddings.word_embeddings.weight") != nullptr) {
      prefix = p;
      break;
    }
  }
  const std::string where = st_path.string();
  auto tensor = [&](const std::string& name) -> Result<const SafetensorsTensor*> {
    const SafetensorsTensor* t = st.find(prefix + name);
    if (t == nullptr) {
      if (auto it = st.skipped().find(prefix + name); it != st.skipped().end()) {
        return unsupported(where + ": " + it->second);
      }
      return corrupt(where + ": tensor '" + prefix + name + "' is missing");
    }
    // The encoder reads elements in place: a header whose length is not padded to 8 bytes (the
    // safetensors writer pads it) would leave them misaligned.
    const uintptr_t align = t->dtype == DType::kF32 ? 4 : 2;
    if (reinterpret_cast<uintptr_t>(t->data) % align != 0)
      return corrupt(where + ": tensor '" + t->name + "' is not aligned to its element size");
    return t;
  };
  auto matrix = [&](const std::string& name, int64_t rows, int64_t cols) -> Result<BertMatrix> {
    MEMLONG_ASSIGN_OR_RETURN(const SafetensorsTensor* t, tensor(name));
    if (t->shape.size() != 2 || t->shape[0] != rows || t->shape[1] != cols)
      return corrupt(where + ": tensor '" + t->name + "' has the wrong shape (expected [" +
                     std::to_string(rows) + ", " + std::to_string(cols) + "])");
    return BertMatrix{t->dtype, t->data, static_cast<size_t>(t->n_bytes / rows), rows, cols};
  };
  auto vector = [&](const std::string& name, int64_t n) -> Result<const float*> {
    MEMLONG_ASSIGN_OR_RETURN(const SafetensorsTensor* t, tensor(name));
    if (t->shape.size() != 1 || t->shape[0] != n)
      return corrupt(where + ": tensor '" + t->name + "' has the wrong shape (expected [" +
                     std::to_string(n) + "])");
    std::vector<float>& v = storage->vectors.emplace_back(static_cast<size_t>(n));
    quant::dequantize_row(t->dtype, t->data, v.data(), n);
    return v.data();
  };
  MEMLONG_ASSIGN_OR_RETURN(const SafetensorsTensor* word_t,
                           tensor("embeddings.word_embeddings.weight"));
  if (word_t->shape.size() != 2 || word_t->shape[0] < 1)
    return corrupt(where + ": word embeddings are not a matrix");
  c.vocab = static_cast<int32_t>(word_t->shape[0]);
  const int64_t h = c.hidden, f = c.ffn;
  BertWeights w;
  MEMLONG_ASSIGN_OR_RETURN(w.word, matrix("embeddings.word_embeddings.weight", c.vocab, h));
  MEMLONG_ASSIGN_OR_RETURN(w.pos, matrix("embeddings.position_embeddings.weight", c.max_pos, h));
  MEMLONG_ASSIGN_OR_RETURN(w.type,
                           matrix("embeddings.token_type_embeddings.weight", type_vocab, h));
  MEMLONG_ASSIGN_OR_RETURN(w.emb_ln_w, vector("embeddings.LayerNorm.weight", h));
  MEMLONG_ASSIGN_OR_RETURN(w.emb_ln_b, vector("embeddings.LayerNorm.bias", h));
  for (int32_t i = 0; i < c.n_layers; ++i) {
    const std::string p = "encoder.layer." + std::to_string(i) + ".";
    BertLayer l;
    MEMLONG_ASSIGN_OR_RETURN(l.q, matrix(p + "attention.self.query.weight", h, h));
    MEMLONG_ASSIGN_OR_RETURN(l.k, matrix(p + "attention.self.key.weight", h, h));
    MEMLONG_ASSIGN_OR_RETURN(l.v, matrix(p + "attention.self.value.weight", h, h));
    MEMLONG_ASSIGN_OR_RETURN(l.attn_out, matrix(p + "attention.output.dense.weight", h, h));
    MEMLONG_ASSIGN_OR_RETURN(l.ffn_in, matrix(p + "intermediate.dense.weight", f, h));
    MEMLONG_ASSIGN_OR_RETURN(l.ffn_out, matrix(p + "output.dense.weight", h, f));
    MEMLONG_ASSIGN_OR_RETURN(l.q_b, vector(p + "attention.self.query.bias", h));
    MEMLONG_ASSIGN_OR_RETURN(l.k_b, vector(p + "attention.self.key.bias", h));
    MEMLONG_ASSIGN_OR_RETURN(l.v_b, vector(p + "attention.self.value.bias", h));
    MEMLONG_ASSIGN_OR_RETURN(l.attn_out_b, vector(p + "attention.output.dense.bias", h));
    MEMLONG_ASSIGN_OR_RETURN(l.attn_ln_w, vector(p + "attention.output.LayerNorm.weight", h));
    MEMLONG_ASSIGN_OR_RETURN(l.attn_ln_b, vector(p + "attention.output.LayerNorm.bias", h));
    MEMLONG_ASSIGN_OR_RETURN(l.ffn_in_b, vector(p + "intermediate.dense.bias", f));
    MEMLONG_ASSIGN_OR_RETURN(l.ffn_out_b, vector(p + "output.dense.bias", h));
    MEMLONG_ASSIGN_OR_RETURN(l.out_ln_w, vector(p + "output.LayerNorm.weight", h));
    MEMLONG_ASSIGN_OR_RETURN(l.out_ln_b, vector(p + "output.LayerNorm.bias", h));
    w.layers.push_back(l);
  }
  auto encoder = BertEncoder::create(c, w, *backend);
  if (!encoder.is_ok()) return encoder.status().with_context(folder);

  // Tokenizer.
  std::unique_ptr<ContentTokenizer> tokenizer;
  int32_t bos = -1, eos = -1;
  // The vocabulary follows the model type: a WordPiece vocab.txt for BERT, SentencePiece with
  // the fairseq id shift for XLM-R (a BERT config beside a SentencePiece model is not guessed at:
  // its positions and special ids would be wrong).
  if (!is_xlmr) {
    if (!fs::exists(dir / "vocab.txt"))
      return unsupported(folder + ": BERT folder without vocab.txt (the WordPiece vocabulary)");
    bool lower = true;
    if (fs::exists(dir / "tokenizer_config.json")) {
      MEMLONG_ASSIGN_OR_RETURN(json tc, read_json(dir / "tokenizer_config.json"));
      if (auto it = tc.find("do_lower_case"); it != tc.end() && it->is_boolean())
        lower = it->get<bool>();
    }
    MEMLONG_ASSIGN_OR_RETURN(auto wp,
                             WordPieceTokenizer::from_file((dir / "vocab.txt").string(), lower));
    bos = wp->piece_to_id("[CLS]");
    eos = wp->piece_to_id("[SEP]");
    if (bos < 0 || eos < 0) return corrupt(folder + "/vocab.txt: no [CLS] or [SEP] piece");
    if (wp->n_vocab() > c.vocab)
      return corrupt(folder + "/vocab.txt has " + std::to_string(wp->n_vocab()) +
                     " pieces but the model " + std::to_string(c.vocab) + " embeddings");
    tokenizer = std::make_unique<WordPieceContent>(std::move(wp));
  } else {
    const fs::path spm_path = dir / "sentencepiece.bpe.model";
    if (!fs::exists(spm_path))
      return unsupported(folder +
                         ": XLM-RoBERTa folder without sentencepiece.bpe.model (tokenizer.json "
                         "alone is not read)");
    MEMLONG_ASSIGN_OR_RETURN(auto spm, SpmTokenizer::from_file(spm_path.string()));
    const int32_t unk = spm->piece_to_id("<unk>");
    if (unk < 0) return corrupt(spm_path.string() + ": no <unk> piece");
    if (spm->n_vocab() + 1 > c.vocab)
      return corrupt(spm_path.string() + " has more pieces than the model embeddings (" +
                     std::to_string(spm->n_vocab()) + " + 1 > " + std::to_string(c.vocab) + ")");
    bos = 0;
    eos = 2;
    tokenizer = std::make_unique<XlmrContent>(std::move(spm), unk);
  }

  // Pooling, window and prompts from the sentence-transformers files.
  Pooling pooling = Pooling::kMean;
  if (fs::exists(dir / "modules.json")) {
    MEMLONG_ASSIGN_OR_RETURN(std::string text,
                             read_text_file((dir / "modules.json").string(), 1u << 20));
    json mods = json::parse(text, nullptr, false);
    if (mods.is_discarded() || !mods.is_array())
      return corrupt(folder + "/modules.json: not a JSON array");
    for (const auto& m : mods) {
      if (!m.is_object() || !m.value("type", std::string()).ends_with(".Pooling")) continue;
      const std::string sub = m.value("path", std::string());
      if (sub.find("..") != std::string::npos) return corrupt(folder + "/modules.json: bad path");
      MEMLONG_ASSIGN_OR_RETURN(json pc, read_json(dir / sub / "config.json"));
      if (pc.value("pooling_mode_cls_token", false))
        pooling = Pooling::kCls;
      else if (!pc.value("pooling_mode_mean_tokens", false))
        return unsupported(folder + "/" + sub +
                           "/config.json: only CLS or mean pooling is supported");
    }
  }
  EmbedderInfo info;
  info.name =
      dir.filename().empty() ? dir.parent_path().filename().string() : dir.filename().string();
  info.path = folder;
  info.pooling = pooling == Pooling::kCls ? "cls" : "mean";
  info.max_tokens = c.max_pos - c.position_offset;
  if (fs::exists(dir / "sentence_bert_config.json")) {
    MEMLONG_ASSIGN_OR_RETURN(json sb, read_json(dir / "sentence_bert_config.json"));
    if (auto it = sb.find("max_seq_length"); it != sb.end() && it->is_number_integer())
      info.max_tokens = std::clamp(it->get<int32_t>(), 3, info.max_tokens);
  }
  if (fs::exists(dir / "config_sentence_transformers.json")) {
    MEMLONG_ASSIGN_OR_RETURN(json stc, read_json(dir / "config_sentence_transformers.json"));
    if (auto it = stc.find("prompts"); it != stc.end() && it->is_object()) {
      info.query_prefix = it->value("query", std::string());
      info.passage_prefix = it->value("passage", it->value("document", std::string()));
    }
  }
  return std::make_unique<EncoderEmbedder>(std::move(info), std::move(tokenizer), bos, eos, pooling,
                                           std::move(backend), std::move(encoder).value(),
                                           std::any(storage));
}

}  // namespace

Result<std::unique_ptr<EncoderEmbedder>> load_hf_bert_embedder(const std::string& folder,
                                                               int n_threads) {
  return load_hf_bert_embedder(folder, make_cpu_backend(n_threads));
}

Result<std::unique_ptr<EncoderEmbedder>> load_hf_bert_embedder(const std::string& folder,
                                                               std::unique_ptr<Backend> backend) {
  try {  // nlohmann's value() throws on a wrongly typed key: a hostile config is Corrupt
    return load_impl(folder, std::move(backend));
  } catch (const json::exception& e) {
    return corrupt(folder + ": malformed JSON configuration: " + e.what());
  }
}

}  // namespace memlong
