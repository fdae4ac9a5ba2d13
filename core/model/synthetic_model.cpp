#include "core/model/synthetic_model.h"

#include <random>
#include <vector>

#include "core/model/gguf_reader.h"
#include "core/quant/quant.h"
#include "core/tokenizer/unicode.h"

namespace memlong {
namespace {

std::vector<uint8_t> random_tensor(std::mt19937_64& rng, DType type, int64_t n_in, int64_t n_out,
                                   float scale, float mean = 0.0f) {
  std::normal_distribution<float> dist(mean, scale);
  std::vector<float> row(static_cast<size_t>(n_in));
  const size_t row_bytes = *dtype_row_bytes(type, static_cast<uint64_t>(n_in));
  std::vector<uint8_t> out(row_bytes * static_cast<size_t>(n_out));
  for (int64_t r = 0; r < n_out; ++r) {
    for (float& x : row) x = dist(rng);
    quant::quantize_row(type, row.data(), out.data() + static_cast<size_t>(r) * row_bytes, n_in);
  }
  return out;
}

}  // namespace

Status write_synthetic_llama_gguf(const std::string& path, const SyntheticModelSpec& s) {
  if (s.n_layer < 1 || s.n_embd < 1 || s.n_head < 1 || s.n_head_kv < 1 ||
      s.n_head % s.n_head_kv != 0 || s.n_embd % s.n_head != 0 || (s.n_embd / s.n_head) % 2 != 0) {
    return invalid_argument("synthetic model: inconsistent shape");
  }
  const int64_t block = traits(s.matrix_type).block_elems;
  if (s.n_embd % block != 0 || s.n_ff % block != 0) {
    return invalid_argument("synthetic model: n_embd and n_ff must be multiples of the " +
                            std::string(dtype_name(s.matrix_type)) + " block size");
  }
  std::mt19937_64 rng(s.seed);
  GgufWriter w;
  w.add_string("general.architecture", "llama");
  w.add_string("general.name", "synthetic-llama");
  w.add_u32("llama.block_count", static_cast<uint32_t>(s.n_layer));
  w.add_u32("llama.context_length", static_cast<uint32_t>(s.n_ctx));
  w.add_u32("llama.embedding_length", static_cast<uint32_t>(s.n_embd));
  w.add_u32("llama.feed_forward_length", static_cast<uint32_t>(s.n_ff));
  w.add_u32("llama.attention.head_count", static_cast<uint32_t>(s.n_head));
  w.add_u32("llama.attention.head_count_kv", static_cast<uint32_t>(s.n_head_kv));
  w.add_f32("llama.rope.freq_base", s.rope_theta);
  w.add_f32("llama.attention.layer_norm_rms_epsilon", 1e-5f);
  w.add_u32("llama.vocab_size", 257);
  w.add_u32("llama.rope.dimension_count", static_cast<uint32_t>(s.n_embd / s.n_head));
  std::vector<std::string> tokens;
  std::vector<int32_t> types;
  for (int b = 0; b < 256; ++b) {
    std::string piece;
    append_utf8(piece, byte_to_cpt(static_cast<uint8_t>(b)));
    tokens.push_back(piece);
    types.push_back(1);
  }
  tokens.push_back("<|endoftext|>");
  types.push_back(3);
  w.add_string("tokenizer.ggml.model", "gpt2");
  w.add_string("tokenizer.ggml.pre", "gpt2");
  w.add_string_array("tokenizer.ggml.tokens", tokens);
  w.add_i32_array("tokenizer.ggml.token_type", types);
  w.add_string_array("tokenizer.ggml.merges", {});
  w.add_u32("tokenizer.ggml.bos_token_id", 256);
  w.add_u32("tokenizer.ggml.eos_token_id", 256);
  w.add_bool("tokenizer.ggml.add_bos_token", false);

  const int64_t d = s.n_embd, dh = s.n_embd / s.n_head, kv = int64_t{s.n_head_kv} * dh;
  w.add_tensor("token_embd.weight", s.matrix_type, {d, 257},
               random_tensor(rng, s.matrix_type, d, 257, 1.0f));
  w.add_tensor("output_norm.weight", DType::kF32, {d},
               random_tensor(rng, DType::kF32, d, 1, 0.1f, 1.0f));
  if (!s.tied_embeddings) {
    w.add_tensor("output.weight", s.matrix_type, {d, 257},
                 random_tensor(rng, s.matrix_type, d, 257, s.weight_scale));
  }
  for (int32_t l = 0; l < s.n_layer; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    const float ws = s.weight_scale;
    w.add_tensor(p + "attn_norm.weight", DType::kF32, {d},
                 random_tensor(rng, DType::kF32, d, 1, 0.1f, 1.0f));
    w.add_tensor(p + "attn_q.weight", s.matrix_type, {d, d},
                 random_tensor(rng, s.matrix_type, d, d, ws));
    w.add_tensor(p + "attn_k.weight", s.matrix_type, {d, kv},
                 random_tensor(rng, s.matrix_type, d, kv, ws));
    w.add_tensor(p + "attn_v.weight", s.matrix_type, {d, kv},
                 random_tensor(rng, s.matrix_type, d, kv, ws));
    w.add_tensor(p + "attn_output.weight", s.matrix_type, {d, d},
                 random_tensor(rng, s.matrix_type, d, d, ws));
    w.add_tensor(p + "ffn_norm.weight", DType::kF32, {d},
                 random_tensor(rng, DType::kF32, d, 1, 0.1f, 1.0f));
    w.add_tensor(p + "ffn_gate.weight", s.matrix_type, {d, s.n_ff},
                 random_tensor(rng, s.matrix_type, d, s.n_ff, ws));
    w.add_tensor(p + "ffn_up.weight", s.matrix_type, {d, s.n_ff},
                 random_tensor(rng, s.matrix_type, d, s.n_ff, ws));
    w.add_tensor(p + "ffn_down.weight", s.matrix_type, {s.n_ff, d},
                 random_tensor(rng, s.matrix_type, s.n_ff, d, ws));
  }
  return w.write_file(path);
}

}  // namespace memlong
