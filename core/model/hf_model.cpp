// open_hf_model: a Hugging Face folder (config.json + model.safetensors or shards listed in
// model.safetensors.index.json + tokenizer.model or tokenizer.json [+ tokenizer_config.json]).
//
// Weights keep Hugging Face's row order, so q/k rotate halves: RopeLayout::kHalf (MEMLONG.md
// §10.1). Names are mapped to GGUF's convention; a weight [out, in] (row-major, in contiguous)
// becomes ne = {in, out}. 1-D tensors (norms, biases) in F16/BF16 are converted to F32 and owned
// by the ModelFile; matrices stay in the map in their file type.
// nlohmann::json throws: this file is its adapter and turns exceptions into Corrupt.
#include <algorithm>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "core/common/half.h"
#include "core/model/model_file.h"
#include "core/model/safetensors_reader.h"

namespace memlong {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr size_t kMaxJsonBytes = 64u << 20;  // tokenizer_config.json with templates: < 1 MiB

Result<json> read_json(const std::string& path) {
  MEMLONG_ASSIGN_OR_RETURN(std::string text, read_text_file(path, kMaxJsonBytes));
  try {
    return json::parse(text);
  } catch (const std::exception& e) {
    return corrupt(path + ": not valid JSON (" + e.what() + ")");
  }
}

// Typed field access; a wrong type is Corrupt naming the file and the key.
class JsonFields {
 public:
  JsonFields(const json& j, std::string origin) : j_(j), origin_(std::move(origin)) {}

  bool has(const char* key) const { return j_.contains(key) && !j_[key].is_null(); }

  Status get_i32(const char* key, int32_t* out, bool required) const {
    if (!has(key)) return required ? missing(key) : Status::ok();
    const json& v = j_[key];
    if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > (int64_t{1} << 30)) {
      return corrupt(origin_ + ": '" + key + "' should be a non-negative integer, found " +
                     v.dump().substr(0, 40));
    }
    *out = static_cast<int32_t>(v.get<int64_t>());
    return Status::ok();
  }
  Status get_f32(const char* key, float* out, bool required) const {
    if (!has(key)) return required ? missing(key) : Status::ok();
    const json& v = j_[key];
    if (!v.is_number()) {
      return corrupt(origin_ + ": '" + key + "' should be a number, found " +
                     v.dump().substr(0, 40));
    }
    *out = v.get<float>();
    return Status::ok();
  }
  Status get_bool(const char* key, bool* out) const {
    if (!has(key)) return Status::ok();
    const json& v = j_[key];
    if (!v.is_boolean()) return corrupt(origin_ + ": '" + key + "' should be true or false");
    *out = v.get<bool>();
    return Status::ok();
  }
  Status get_string(const char* key, std::string* out) const {
    if (!has(key)) return Status::ok();
    const json& v = j_[key];
    if (!v.is_string()) return corrupt(origin_ + ": '" + key + "' should be a string");
    *out = v.get<std::string>();
    return Status::ok();
  }

 private:
  Status missing(const char* key) const {
    return corrupt(origin_ + ": required key '" + key + "' is missing");
  }
  const json& j_;
  std::string origin_;
};

Status parse_config(const json& j, const std::string& origin, LlamaConfig* c) {
  if (!j.is_object()) return corrupt(origin + ": not a JSON object");
  JsonFields f(j, origin);
  std::string arch;
  if (f.has("architectures")) {
    if (!j["architectures"].is_array() || j["architectures"].empty() ||
        !j["architectures"][0].is_string()) {
      return corrupt(origin + ": 'architectures' should be a list of names");
    }
    arch = j["architectures"][0].get<std::string>();
  }
  std::string model_type;
  MEMLONG_RETURN_IF_ERROR(f.get_string("model_type", &model_type));
  if (arch == "LlamaForCausalLM" || (arch.empty() && model_type == "llama")) {
    c->architecture = "llama";
  } else if (arch == "Qwen2ForCausalLM" || (arch.empty() && model_type == "qwen2")) {
    c->architecture = "qwen2";
    c->has_qkv_bias = true;
  } else {
    return unsupported(origin + ": architecture '" + (arch.empty() ? model_type : arch) +
                       "' is not supported (LlamaForCausalLM, Qwen2ForCausalLM)");
  }
  MEMLONG_RETURN_IF_ERROR(f.get_i32("num_hidden_layers", &c->n_layer, true));
  MEMLONG_RETURN_IF_ERROR(f.get_i32("hidden_size", &c->n_embd, true));
  MEMLONG_RETURN_IF_ERROR(f.get_i32("intermediate_size", &c->n_ff, true));
  MEMLONG_RETURN_IF_ERROR(f.get_i32("num_attention_heads", &c->n_head, true));
  c->n_head_kv = c->n_head;
  MEMLONG_RETURN_IF_ERROR(f.get_i32("num_key_value_heads", &c->n_head_kv, false));
  if (c->n_head <= 0) return corrupt(origin + ": num_attention_heads must be positive");
  c->head_dim = c->n_embd / c->n_head;
  MEMLONG_RETURN_IF_ERROR(f.get_i32("head_dim", &c->head_dim, false));
  MEMLONG_RETURN_IF_ERROR(f.get_i32("vocab_size", &c->n_vocab, true));
  c->n_ctx_train = 2048;  // LlamaConfig's default max_position_embeddings
  MEMLONG_RETURN_IF_ERROR(f.get_i32("max_position_embeddings", &c->n_ctx_train, false));
  c->rms_eps = 1e-6f;  // LlamaConfig's default rms_norm_eps
  MEMLONG_RETURN_IF_ERROR(f.get_f32("rms_norm_eps", &c->rms_eps, false));
  c->rope_theta = 10000.0f;
  MEMLONG_RETURN_IF_ERROR(f.get_f32("rope_theta", &c->rope_theta, false));
  c->rope_layout = RopeLayout::kHalf;
  bool tie = false;
  MEMLONG_RETURN_IF_ERROR(f.get_bool("tie_word_embeddings", &tie));
  c->tied_embeddings = tie;
  bool flag = false;
  MEMLONG_RETURN_IF_ERROR(f.get_bool("attention_bias", &flag));
  if (flag && c->architecture == "llama") {
    return unsupported(origin + ": attention_bias = true is not supported for llama models");
  }
  flag = false;
  MEMLONG_RETURN_IF_ERROR(f.get_bool("mlp_bias", &flag));
  if (flag) return unsupported(origin + ": mlp_bias = true is not supported");
  flag = false;
  MEMLONG_RETURN_IF_ERROR(f.get_bool("use_sliding_window", &flag));
  if (flag) return unsupported(origin + ": sliding-window attention is not supported");
  std::string act = "silu";
  MEMLONG_RETURN_IF_ERROR(f.get_string("hidden_act", &act));
  if (act != "silu") return unsupported(origin + ": hidden_act '" + act + "' (need silu)");
  if (f.has("partial_rotary_factor")) {
    float prf = 1.0f;
    MEMLONG_RETURN_IF_ERROR(f.get_f32("partial_rotary_factor", &prf, false));
    if (prf != 1.0f) return unsupported(origin + ": partial RoPE is not supported");
  }

  if (f.has("rope_scaling")) {
    const json& rs = j["rope_scaling"];
    if (!rs.is_object()) return corrupt(origin + ": 'rope_scaling' should be an object");
    JsonFields r(rs, origin + " rope_scaling");
    std::string type;
    MEMLONG_RETURN_IF_ERROR(r.get_string("rope_type", &type));
    if (type.empty()) MEMLONG_RETURN_IF_ERROR(r.get_string("type", &type));
    if (type == "default" || type.empty()) {
      c->rope_scaling = RopeScaling::kNone;
    } else if (type == "linear") {
      c->rope_scaling = RopeScaling::kLinear;
      MEMLONG_RETURN_IF_ERROR(r.get_f32("factor", &c->rope_scale_factor, true));
    } else if (type == "llama3") {
      c->rope_scaling = RopeScaling::kLlama3;
      MEMLONG_RETURN_IF_ERROR(r.get_f32("factor", &c->rope_scale_factor, true));
      MEMLONG_RETURN_IF_ERROR(r.get_f32("low_freq_factor", &c->rope_low_freq_factor, true));
      MEMLONG_RETURN_IF_ERROR(r.get_f32("high_freq_factor", &c->rope_high_freq_factor, true));
      MEMLONG_RETURN_IF_ERROR(
          r.get_i32("original_max_position_embeddings", &c->rope_orig_ctx, true));
    } else {
      return unsupported(origin + ": rope_scaling type '" + type +
                         "' is not supported (linear, "
                         "llama3)");
    }
  }
  return c->validate().with_context(origin);
}

// "model.layers.3.self_attn.q_proj.weight" -> "blk.3.attn_q.weight"; "" for names we skip.
std::string gguf_name(const std::string& hf, int32_t n_layer) {
  if (hf == "model.embed_tokens.weight") return "token_embd.weight";
  if (hf == "model.norm.weight") return "output_norm.weight";
  if (hf == "lm_head.weight") return "output.weight";
  static const std::string kPrefix = "model.layers.";
  if (hf.rfind(kPrefix, 0) != 0) return "";
  size_t pos = kPrefix.size();
  size_t digits_end = pos;
  while (digits_end < hf.size() && digits_end - pos < 6 && hf[digits_end] >= '0' &&
         hf[digits_end] <= '9') {
    ++digits_end;
  }
  if (digits_end == pos || digits_end >= hf.size() || hf[digits_end] != '.') return "";
  const int layer = std::stoi(hf.substr(pos, digits_end - pos));
  if (layer >= n_layer) return "";
  const std::string rest = hf.substr(digits_end + 1);
  static const std::pair<const char*, const char*> kMap[] = {
      {"input_layernorm.weight", "attn_norm.weight"},
      {"self_attn.q_proj.weight", "attn_q.weight"},
      {"self_attn.k_proj.weight", "attn_k.weight"},
      {"self_attn.v_proj.weight", "attn_v.weight"},
      {"self_attn.o_proj.weight", "attn_output.weight"},
      {"self_attn.q_proj.bias", "attn_q.bias"},
      {"self_attn.k_proj.bias", "attn_k.bias"},
      {"self_attn.v_proj.bias", "attn_v.bias"},
      {"post_attention_layernorm.weight", "ffn_norm.weight"},
      {"mlp.gate_proj.weight", "ffn_gate.weight"},
      {"mlp.up_proj.weight", "ffn_up.weight"},
      {"mlp.down_proj.weight", "ffn_down.weight"},
  };
  for (const auto& [from, to] : kMap) {
    if (rest == from) return "blk." + std::to_string(layer) + "." + to;
  }
  return "";
}

bool is_plain_file_name(const std::string& name) {
  return !name.empty() && name.size() < 256 && name.find('/') == std::string::npos &&
         name.find('\\') == std::string::npos && name != "." && name != "..";
}

Status add_tensors(SafetensorsFile& file, const std::set<std::string>* only, ModelFile* model) {
  for (const SafetensorsTensor& t : file.tensors()) {
    if (only != nullptr && only->count(t.name) == 0) continue;
    const std::string name = gguf_name(t.name, model->config.n_layer);
    if (name.empty()) continue;
    if (model->tensors.count(name) != 0) {
      return corrupt(file.origin() + ": tensor '" + t.name + "' appears in more than one shard");
    }
    TensorView v;
    v.name = name;
    v.dtype = t.dtype;
    v.n_dims = std::max<int>(1, static_cast<int>(t.shape.size()));
    for (size_t d = 0; d < t.shape.size(); ++d) v.ne[d] = t.shape[t.shape.size() - 1 - d];
    v.data = t.data;
    v.n_bytes = t.n_bytes;
    // 1-D tensors become F32 (the ops read norms and biases as f32); also copy anything the
    // file stores misaligned for its element type.
    const bool misaligned = reinterpret_cast<uintptr_t>(t.data) % traits(t.dtype).block_bytes != 0;
    if ((t.shape.size() <= 1 && t.dtype != DType::kF32) || misaligned) {
      const int64_t n = v.n_elements();
      const bool to_f32 = t.shape.size() <= 1;
      std::vector<uint8_t> buf(to_f32 ? static_cast<size_t>(n) * 4 : t.n_bytes);
      if (!to_f32) {
        std::memcpy(buf.data(), t.data, t.n_bytes);
      } else {
        for (int64_t i = 0; i < n; ++i) {
          float x;
          if (t.dtype == DType::kF32) {
            std::memcpy(&x, t.data + 4 * i, 4);
          } else {
            uint16_t h;
            std::memcpy(&h, t.data + 2 * i, 2);
            x = t.dtype == DType::kF16 ? f16_to_f32(h) : bf16_to_f32(h);
          }
          std::memcpy(buf.data() + 4 * i, &x, 4);
        }
        v.dtype = DType::kF32;
        v.n_bytes = buf.size();
      }
      model->owned.push_back(std::move(buf));
      v.data = model->owned.back().data();
    }
    model->tensors.emplace(name, std::move(v));
  }
  return Status::ok();
}

// The token an id-less special token entry names ("<s>" or {"content": "<s>", ...}).
std::optional<std::string> token_content(const json& j) {
  if (j.is_string()) return j.get<std::string>();
  if (j.is_object() && j.contains("content") && j["content"].is_string()) {
    return j["content"].get<std::string>();
  }
  return std::nullopt;
}

Status read_tokenizer_config(const std::string& path, ModelFile* model) {
  MEMLONG_ASSIGN_OR_RETURN(json j, read_json(path));
  if (!j.is_object()) return corrupt(path + ": not a JSON object");
  try {
    if (j.contains("chat_template")) {
      const json& t = j["chat_template"];
      if (t.is_string()) {
        model->chat_template = t.get<std::string>();
      } else if (t.is_array()) {  // [{"name": "default", "template": "..."}, ...]
        for (const json& e : t) {
          if (e.is_object() && e.value("name", "") == "default" && e.contains("template") &&
              e["template"].is_string()) {
            model->chat_template = e["template"].get<std::string>();
          }
        }
      }
    }
    VocabData& v = model->vocab;
    auto lookup = [&](const char* key, int32_t* id) {
      if (*id >= 0 || !j.contains(key)) return;
      const auto content = token_content(j[key]);
      if (!content) return;
      auto it = std::find(v.tokens.begin(), v.tokens.end(), *content);
      if (it != v.tokens.end()) *id = static_cast<int32_t>(it - v.tokens.begin());
    };
    lookup("bos_token", &v.bos_id);
    lookup("eos_token", &v.eos_id);
    lookup("unk_token", &v.unk_id);
    lookup("pad_token", &v.pad_id);
    if (!v.add_bos && j.contains("add_bos_token") && j["add_bos_token"].is_boolean()) {
      v.add_bos = j["add_bos_token"].get<bool>();
    }
    if (!v.add_eos && j.contains("add_eos_token") && j["add_eos_token"].is_boolean()) {
      v.add_eos = j["add_eos_token"].get<bool>();
    }
  } catch (const std::exception& e) {
    return corrupt(path + ": malformed (" + e.what() + ")");
  }
  return Status::ok();
}

bool is_pickle_name(const std::string& name) {
  const std::string ext = fs::path(name).extension().string();
  return ext == ".bin" || ext == ".pt" || ext == ".pth" || ext == ".ckpt" || ext == ".pkl" ||
         name == "pytorch_model.bin.index.json";
}

}  // namespace

Result<std::unique_ptr<ModelFile>> open_hf_model(const std::string& folder) {
  std::error_code ec;
  if (!fs::is_directory(folder, ec)) return not_found("no such model folder: " + folder);
  const fs::path dir(folder);

  // What is in the folder decides the weight source before anything is parsed.
  bool has_pickle = false, has_safetensors = false;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (is_pickle_name(name)) has_pickle = true;
    if (fs::path(name).extension() == ".safetensors") has_safetensors = true;
  }
  if (ec) return io_error("cannot list " + folder + ": " + ec.message());
  const fs::path index_path = dir / "model.safetensors.index.json";
  const fs::path single_path = dir / "model.safetensors";
  const bool has_index = fs::exists(index_path, ec);
  const bool has_single = fs::exists(single_path, ec);
  if (!has_index && !has_single) {
    if (has_pickle) {
      return unsupported(folder +
                         ": pickled checkpoints are refused; convert to safetensors "
                         "(loading a pickle can run arbitrary code)");
    }
    return not_found(
        folder + ": no model.safetensors or model.safetensors.index.json" +
        std::string(has_safetensors ? " (other .safetensors files are not read)" : ""));
  }

  auto model = std::make_unique<ModelFile>();
  model->path = folder;
  model->format = "safetensors";
  const std::string config_path = (dir / "config.json").string();
  MEMLONG_ASSIGN_OR_RETURN(json config, read_json(config_path));
  try {
    MEMLONG_RETURN_IF_ERROR(parse_config(config, config_path, &model->config));
    if (config.is_object()) {
      for (auto it = config.begin(); it != config.end(); ++it) {
        std::string s = it.value().is_string() ? it.value().get<std::string>() : it.value().dump();
        if (s.size() > 80) s = s.substr(0, 77) + "...";
        model->metadata[it.key()] = s;
      }
      if (config.contains("memlong") && config["memlong"].is_object()) {
        for (auto it = config["memlong"].begin(); it != config["memlong"].end(); ++it) {
          std::string text;
          if (it.value().is_array()) {
            for (size_t i = 0; i < it.value().size(); ++i) {
              text += (i ? "," : "") + it.value()[i].dump();
            }
          } else {
            text = it.value().is_string() ? it.value().get<std::string>() : it.value().dump();
          }
          model->memlong_settings[it.key()] = text;
        }
      }
      if (config.contains("_name_or_path") && config["_name_or_path"].is_string()) {
        model->config.name = config["_name_or_path"].get<std::string>();
      }
    }
  } catch (const std::exception& e) {
    return corrupt(config_path + ": malformed (" + e.what() + ")");
  }
  if (model->config.name.empty()) model->config.name = fs::absolute(dir).filename().string();

  if (has_index) {
    MEMLONG_ASSIGN_OR_RETURN(json index, read_json(index_path.string()));
    std::map<std::string, std::set<std::string>> shards;  // file -> tensor names
    try {
      if (!index.is_object() || !index.contains("weight_map") || !index["weight_map"].is_object()) {
        return corrupt(index_path.string() + ": no 'weight_map' object");
      }
      for (auto it = index["weight_map"].begin(); it != index["weight_map"].end(); ++it) {
        if (!it.value().is_string() || !is_plain_file_name(it.value().get<std::string>())) {
          return corrupt(index_path.string() + ": tensor '" + it.key() +
                         "' maps to a bad shard name (must be a file in the same folder)");
        }
        shards[it.value().get<std::string>()].insert(it.key());
      }
    } catch (const std::exception& e) {
      return corrupt(index_path.string() + ": malformed (" + e.what() + ")");
    }
    for (const auto& [shard, names] : shards) {
      MEMLONG_ASSIGN_OR_RETURN(std::unique_ptr<SafetensorsFile> sf,
                               SafetensorsFile::open((dir / shard).string()));
      for (const std::string& n : names) {
        if (sf->find(n) == nullptr) {
          return corrupt(sf->origin() + ": tensor '" + n +
                         "' is listed in model.safetensors.index.json but missing here");
        }
      }
      MEMLONG_RETURN_IF_ERROR(add_tensors(*sf, &names, model.get()));
      model->maps.push_back(sf->release_map());
    }
  } else {
    MEMLONG_ASSIGN_OR_RETURN(std::unique_ptr<SafetensorsFile> sf,
                             SafetensorsFile::open(single_path.string()));
    MEMLONG_RETURN_IF_ERROR(add_tensors(*sf, nullptr, model.get()));
    model->maps.push_back(sf->release_map());
  }
  // HF ties the head to the embeddings when tie_word_embeddings is set or lm_head is absent.
  if (model->config.tied_embeddings) model->tensors.erase("output.weight");
  model->config.tied_embeddings = model->find("output.weight") == nullptr;

  // Tokenizer: SentencePiece model first, else tokenizer.json.
  const fs::path spm_path = dir / "tokenizer.model";
  const fs::path tok_json = dir / "tokenizer.json";
  if (fs::is_regular_file(spm_path, ec)) {
    model->tokenizer_model_path = spm_path.string();
  } else if (fs::is_regular_file(tok_json, ec)) {
    MEMLONG_ASSIGN_OR_RETURN(model->vocab, vocab_from_tokenizer_json(tok_json.string()));
    if (model->vocab.tokens.size() > static_cast<size_t>(model->config.n_vocab)) {
      return corrupt(tok_json.string() + ": " + std::to_string(model->vocab.tokens.size()) +
                     " tokens but the model has vocab_size " +
                     std::to_string(model->config.n_vocab));
    }
  } else {
    return not_found(folder + ": no tokenizer.model or tokenizer.json");
  }
  const fs::path tok_config = dir / "tokenizer_config.json";
  if (fs::is_regular_file(tok_config, ec)) {
    MEMLONG_RETURN_IF_ERROR(read_tokenizer_config(tok_config.string(), model.get()));
  }

  MEMLONG_RETURN_IF_ERROR(check_llama_tensors(*model));
  return model;
}

}  // namespace memlong
