// open_gguf_model: GGUF metadata (`general.*`, `<arch>.*`, `tokenizer.*`) -> LlamaConfig +
// VocabData + tensor views into the file's map. Key names follow llama.cpp's
// gguf-py/gguf/constants.py (Keys.LLM, Keys.Attention, Keys.Rope, Keys.Tokenizer).
// RoPE layout (MEMLONG.md §10.1): the llama converter permutes q/k rows so that GGUF llama
// files rotate adjacent pairs (kInterleaved); qwen2 files keep the Hugging Face order (kHalf).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numbers>
#include <vector>

#include "core/model/gguf_reader.h"
#include "core/model/model_file.h"

namespace memlong {
namespace {

Status read_i32(const GgufFile& f, const std::string& key, bool required, int32_t* out) {
  const GgufValue* v = f.find(key);
  if (v == nullptr) {
    if (required) return corrupt(f.origin() + ": metadata key '" + key + "' is missing");
    return Status::ok();
  }
  const auto i = f.get_int(key);
  if (!i) {
    return corrupt(f.origin() + ": metadata '" + key + "' should be an integer, found " +
                   std::string(gguf_type_name(v->type)));
  }
  if (*i < std::numeric_limits<int32_t>::min() || *i > std::numeric_limits<int32_t>::max()) {
    return corrupt(f.origin() + ": metadata '" + key + "' = " + std::to_string(*i) +
                   " is out of range");
  }
  *out = static_cast<int32_t>(*i);
  return Status::ok();
}

Status read_f32(const GgufFile& f, const std::string& key, float* out) {
  const GgufValue* v = f.find(key);
  if (v == nullptr) return Status::ok();
  const auto x = f.get_float(key);
  if (!x || !std::isfinite(*x)) {
    return corrupt(f.origin() + ": metadata '" + key + "' should be a finite number, found " +
                   v->summary());
  }
  *out = static_cast<float>(*x);
  return Status::ok();
}

Status read_token_id(const GgufFile& f, const std::string& key, int32_t* out) {
  int32_t id = -1;
  MEMLONG_RETURN_IF_ERROR(read_i32(f, key, false, &id));
  *out = id;
  return Status::ok();
}

// Llama 3.1 GGUFs carry `rope_freqs.weight`, the per-pair divisors that llama.cpp's converter
// computed from rope_scaling (convert_hf_to_gguf.py, LlamaModel.generate_extra_tensors). The
// file keeps no parameters, so accept the tensor only when the published Llama 3.1 parameters
// (low 1, high 4, original context 8192) with its largest value as the factor reproduce it.
Status read_llama3_rope_freqs(const GgufFile& f, const GgufTensorInfo& t, LlamaConfig* c) {
  const int64_t n_pairs = c->head_dim / 2;
  if (t.dtype != DType::kF32 || t.n_dims != 1 || t.ne[0] != n_pairs) {
    return unsupported(f.origin() + ": rope_freqs.weight must be F32 [" + std::to_string(n_pairs) +
                       "]");
  }
  std::vector<float> got(static_cast<size_t>(n_pairs));
  std::memcpy(got.data(), t.data, got.size() * sizeof(float));
  float factor = 1.0f;
  for (float g : got) factor = std::max(factor, g);
  const double low = 1.0, high = 4.0, orig = 8192.0;
  const double low_wavelen = orig / low, high_wavelen = orig / high;
  for (int64_t i = 0; i < n_pairs; ++i) {
    const double freq =
        std::pow(static_cast<double>(c->rope_theta), -2.0 * static_cast<double>(i) / c->head_dim);
    const double wavelen = 2.0 * std::numbers::pi / freq;
    double want;
    if (wavelen < high_wavelen) {
      want = 1.0;
    } else if (wavelen > low_wavelen) {
      want = factor;
    } else {
      const double smooth = (orig / wavelen - low) / (high - low);
      want = 1.0 / ((1.0 - smooth) / factor + smooth);
    }
    if (std::fabs(want - got[static_cast<size_t>(i)]) > 1e-3 * want) {
      return unsupported(f.origin() +
                         ": rope_freqs.weight does not match Llama 3.1 rope scaling "
                         "(low 1, high 4, original context 8192)");
    }
  }
  c->rope_scaling = RopeScaling::kLlama3;
  c->rope_scale_factor = factor;
  c->rope_low_freq_factor = static_cast<float>(low);
  c->rope_high_freq_factor = static_cast<float>(high);
  c->rope_orig_ctx = static_cast<int32_t>(orig);
  return Status::ok();
}

Status read_vocab(const GgufFile& f, int32_t n_vocab, VocabData* vocab) {
  if (auto m = f.get_string("tokenizer.ggml.model")) vocab->model = *m;
  if (auto p = f.get_string("tokenizer.ggml.pre")) vocab->pre = *p;
  if (vocab->model.empty()) return Status::ok();  // no embedded tokenizer
  const GgufValue* tokens = f.find("tokenizer.ggml.tokens");
  if (tokens == nullptr || tokens->type != GgufType::kArray ||
      tokens->elem_type != GgufType::kString) {
    return corrupt(f.origin() + ": tokenizer.ggml.tokens is missing or not a string array");
  }
  if (tokens->strings.empty() || tokens->strings.size() > static_cast<size_t>(n_vocab)) {
    return corrupt(f.origin() + ": tokenizer has " + std::to_string(tokens->strings.size()) +
                   " tokens but the model has " + std::to_string(n_vocab) + " embedding rows");
  }
  vocab->tokens = tokens->strings;
  const size_t n = vocab->tokens.size();
  if (const GgufValue* s = f.find("tokenizer.ggml.scores")) {
    if (s->type != GgufType::kArray || s->floats.size() != n) {
      return corrupt(f.origin() + ": tokenizer.ggml.scores must be " + std::to_string(n) +
                     " floats");
    }
    vocab->scores.assign(s->floats.begin(), s->floats.end());
  }
  if (const GgufValue* t = f.find("tokenizer.ggml.token_type")) {
    if (t->type != GgufType::kArray || t->ints.size() != n) {
      return corrupt(f.origin() + ": tokenizer.ggml.token_type must be " + std::to_string(n) +
                     " integers");
    }
    vocab->token_types.reserve(n);
    for (int64_t x : t->ints) {
      if (x < 0 || x > static_cast<int64_t>(TokenType::kByte)) {
        return corrupt(f.origin() + ": tokenizer.ggml.token_type has unknown type " +
                       std::to_string(x));
      }
      vocab->token_types.push_back(static_cast<int32_t>(x));
    }
  }
  if (const GgufValue* m = f.find("tokenizer.ggml.merges")) {
    if (m->type != GgufType::kArray || m->elem_type != GgufType::kString) {
      return corrupt(f.origin() + ": tokenizer.ggml.merges must be a string array");
    }
    vocab->merges = m->strings;
  }
  MEMLONG_RETURN_IF_ERROR(read_token_id(f, "tokenizer.ggml.bos_token_id", &vocab->bos_id));
  MEMLONG_RETURN_IF_ERROR(read_token_id(f, "tokenizer.ggml.eos_token_id", &vocab->eos_id));
  MEMLONG_RETURN_IF_ERROR(read_token_id(f, "tokenizer.ggml.unknown_token_id", &vocab->unk_id));
  MEMLONG_RETURN_IF_ERROR(read_token_id(f, "tokenizer.ggml.padding_token_id", &vocab->pad_id));
  for (const char* key : {"tokenizer.ggml.eot_token_id", "tokenizer.ggml.eom_token_id"}) {
    int32_t id = -1;
    MEMLONG_RETURN_IF_ERROR(read_token_id(f, key, &id));
    if (id >= 0) vocab->eog_ids.push_back(id);
  }
  auto check_id = [&](const char* what, int32_t id) -> Status {
    if (id < -1 || id >= static_cast<int32_t>(n)) {
      return corrupt(f.origin() + ": " + what + " id " + std::to_string(id) +
                     " is outside the vocabulary of " + std::to_string(n));
    }
    return Status::ok();
  };
  MEMLONG_RETURN_IF_ERROR(check_id("BOS", vocab->bos_id));
  MEMLONG_RETURN_IF_ERROR(check_id("EOS", vocab->eos_id));
  MEMLONG_RETURN_IF_ERROR(check_id("UNK", vocab->unk_id));
  MEMLONG_RETURN_IF_ERROR(check_id("PAD", vocab->pad_id));
  for (int32_t id : vocab->eog_ids) MEMLONG_RETURN_IF_ERROR(check_id("end-of-generation", id));
  if (auto b = f.get_bool("tokenizer.ggml.add_bos_token")) vocab->add_bos = *b;
  if (auto b = f.get_bool("tokenizer.ggml.add_eos_token")) vocab->add_eos = *b;
  if (auto b = f.get_bool("tokenizer.ggml.add_space_prefix")) vocab->add_space_prefix = *b;
  return Status::ok();
}

}  // namespace

Result<std::unique_ptr<ModelFile>> open_gguf_model(const std::string& path) {
  MEMLONG_ASSIGN_OR_RETURN(std::unique_ptr<GgufFile> f, GgufFile::open(path));
  auto model = std::make_unique<ModelFile>();
  model->path = path;
  model->format = "gguf";
  LlamaConfig& c = model->config;

  const auto arch = f->get_string("general.architecture");
  if (!arch) return corrupt(path + ": general.architecture is missing");
  if (*arch != "llama" && *arch != "qwen2") {
    return unsupported(path + ": architecture '" + *arch +
                       "' is not supported (MemLong runs llama and qwen2 models)");
  }
  c.architecture = *arch;
  c.name = f->get_string("general.name").value_or("");
  const std::string a = *arch + ".";
  MEMLONG_RETURN_IF_ERROR(read_i32(*f, a + "block_count", true, &c.n_layer));
  MEMLONG_RETURN_IF_ERROR(read_i32(*f, a + "embedding_length", true, &c.n_embd));
  MEMLONG_RETURN_IF_ERROR(read_i32(*f, a + "feed_forward_length", true, &c.n_ff));
  MEMLONG_RETURN_IF_ERROR(read_i32(*f, a + "attention.head_count", true, &c.n_head));
  c.n_head_kv = c.n_head;
  MEMLONG_RETURN_IF_ERROR(read_i32(*f, a + "attention.head_count_kv", false, &c.n_head_kv));
  MEMLONG_RETURN_IF_ERROR(read_i32(*f, a + "context_length", true, &c.n_ctx_train));
  if (c.n_head <= 0) return corrupt(path + ": " + a + "attention.head_count must be positive");
  c.head_dim = c.n_embd / c.n_head;
  MEMLONG_RETURN_IF_ERROR(read_i32(*f, a + "attention.key_length", false, &c.head_dim));
  int32_t v_dim = c.head_dim;
  MEMLONG_RETURN_IF_ERROR(read_i32(*f, a + "attention.value_length", false, &v_dim));
  if (v_dim != c.head_dim) {
    return unsupported(path + ": key and value head sizes differ (" + std::to_string(c.head_dim) +
                       " vs " + std::to_string(v_dim) + ")");
  }
  int32_t n_rot = c.head_dim;
  MEMLONG_RETURN_IF_ERROR(read_i32(*f, a + "rope.dimension_count", false, &n_rot));
  if (n_rot != c.head_dim) {
    return unsupported(path + ": partial RoPE (" + std::to_string(n_rot) + " of " +
                       std::to_string(c.head_dim) + " dims) is not supported");
  }
  MEMLONG_RETURN_IF_ERROR(read_f32(*f, a + "attention.layer_norm_rms_epsilon", &c.rms_eps));
  MEMLONG_RETURN_IF_ERROR(read_f32(*f, a + "rope.freq_base", &c.rope_theta));
  c.rope_layout = *arch == "llama" ? RopeLayout::kInterleaved : RopeLayout::kHalf;

  // RoPE scaling: `<arch>.rope.scaling.type` ("none", "linear", "yarn") + factor; older files
  // have only `<arch>.rope.scale_linear`.
  if (auto st = f->get_string(a + "rope.scaling.type")) {
    if (*st == "linear") {
      c.rope_scaling = RopeScaling::kLinear;
      MEMLONG_RETURN_IF_ERROR(read_f32(*f, a + "rope.scaling.factor", &c.rope_scale_factor));
    } else if (*st != "none") {
      return unsupported(path + ": RoPE scaling type '" + *st + "' is not supported");
    }
  } else if (f->find(a + "rope.scale_linear") != nullptr) {
    MEMLONG_RETURN_IF_ERROR(read_f32(*f, a + "rope.scale_linear", &c.rope_scale_factor));
    if (c.rope_scale_factor != 1.0f) c.rope_scaling = RopeScaling::kLinear;
  }
  int32_t orig_ctx = 0;
  MEMLONG_RETURN_IF_ERROR(
      read_i32(*f, a + "rope.scaling.original_context_length", false, &orig_ctx));
  if (orig_ctx > 0) c.rope_orig_ctx = orig_ctx;
  if (const GgufTensorInfo* rf = f->find_tensor("rope_freqs.weight")) {
    if (c.head_dim < 2 || c.head_dim > 4096) return corrupt(path + ": bad head size");
    MEMLONG_RETURN_IF_ERROR(read_llama3_rope_freqs(*f, *rf, &c));
  }

  const GgufTensorInfo* embd = f->find_tensor("token_embd.weight");
  if (embd == nullptr) return corrupt(path + ": tensor 'token_embd.weight' is missing");
  c.n_vocab = static_cast<int32_t>(std::min<int64_t>(embd->ne[1], int64_t{1} << 30));
  if (f->find(a + "vocab_size") != nullptr) {
    int32_t n_vocab = 0;
    MEMLONG_RETURN_IF_ERROR(read_i32(*f, a + "vocab_size", false, &n_vocab));
    if (n_vocab != c.n_vocab) {
      return corrupt(path + ": " + a + "vocab_size = " + std::to_string(n_vocab) +
                     " but token_embd.weight has " + std::to_string(embd->ne[1]) + " rows");
    }
  }
  c.tied_embeddings = f->find_tensor("output.weight") == nullptr;
  c.has_qkv_bias = f->find_tensor("blk.0.attn_q.bias") != nullptr;
  if (c.has_qkv_bias && *arch != "qwen2") {
    return unsupported(path + ": attention biases are only supported for qwen2 models");
  }
  MEMLONG_RETURN_IF_ERROR(c.validate().with_context(path));

  MEMLONG_RETURN_IF_ERROR(read_vocab(*f, c.n_vocab, &model->vocab));
  model->chat_template = f->get_string("tokenizer.chat_template").value_or("");
  for (const GgufKv& kv : f->metadata()) {
    model->metadata[kv.key] = kv.value.summary();
    if (kv.key.rfind("memlong.", 0) == 0) {
      std::string text;
      if (kv.value.type == GgufType::kArray) {
        for (size_t i = 0; i < kv.value.ints.size(); ++i) {
          text += (i ? "," : "") + std::to_string(kv.value.ints[i]);
        }
      } else {
        text = kv.value.type == GgufType::kString ? kv.value.s : kv.value.summary();
      }
      model->memlong_settings[kv.key.substr(8)] = text;
    }
  }

  for (const GgufTensorInfo& t : f->tensors()) {
    TensorView v;
    v.name = t.name;
    v.dtype = t.dtype;
    v.n_dims = t.n_dims;
    v.ne = t.ne;
    v.data = t.data;
    v.n_bytes = t.n_bytes;
    model->tensors.emplace(t.name, std::move(v));
  }
  model->maps.push_back(f->release_map());
  MEMLONG_RETURN_IF_ERROR(check_llama_tensors(*model));
  return model;
}

}  // namespace memlong
