// open_model (format dispatch), check_llama_tensors and ModelFile::make_tokenizer.
// Dispatch looks at what the path is, then at its first bytes, and only then at its name: a
// renamed pickle is still refused, and a GGUF file with an odd extension still opens.
#include "core/model/model_file.h"

#include <sys/stat.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string_view>

#include "core/quant/quant.h"

namespace memlong {
namespace {

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string lower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

// Pickle protocol 2..5 starts with PROTO (0x80) and the protocol number; torch.save's zip
// container starts with a local file header "PK\3\4".
bool looks_pickled(const uint8_t* b, size_t n) {
  if (n >= 2 && b[0] == 0x80 && b[1] >= 2 && b[1] <= 5) return true;
  if (n >= 4 && b[0] == 'P' && b[1] == 'K' && b[2] == 3 && b[3] == 4) return true;
  return false;
}

Status check_shape(const ModelFile& m, const std::string& name, std::array<int64_t, 4> want,
                   bool is_matrix) {
  const TensorView* t = m.find(name);
  if (t == nullptr) {
    return corrupt(m.path + ": tensor '" + name + "' is missing");
  }
  if (t->ne != want) {
    auto fmt = [](const std::array<int64_t, 4>& ne) {
      std::string s = "{";  // built by appends: GCC 12 warns (-Wrestrict) on "{" + string
      for (int k = 0; k < 4; ++k) {
        s += std::to_string(ne[k]);
        s += k < 3 ? ", " : "}";
      }
      return s;
    };
    return corrupt(m.path + ": tensor '" + name + "' has shape " + fmt(t->ne) + ", expected " +
                   fmt(want) + " from the model config");
  }
  if (t->data == nullptr) return internal_error(m.path + ": tensor '" + name + "' has no data");
  const auto nb = dtype_row_bytes(t->dtype, static_cast<uint64_t>(t->n_elements()));
  if (!nb || *nb != t->n_bytes) {
    return corrupt(m.path + ": tensor '" + name + "' byte size " + std::to_string(t->n_bytes) +
                   " does not match its type and shape");
  }
  if (is_matrix) {
    if (!quant::is_supported_weight_type(t->dtype)) {
      return unsupported(m.path + ": tensor '" + name + "' has type " +
                         std::string(dtype_name(t->dtype)) +
                         ", which MemLong cannot compute with (supported: F32, F16, BF16, Q4_0, "
                         "Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K)");
    }
  } else if (t->dtype != DType::kF32) {
    return unsupported(m.path + ": tensor '" + name + "' has type " +
                       std::string(dtype_name(t->dtype)) + "; norms and biases must be F32");
  }
  return Status::ok();
}

}  // namespace

Status check_llama_tensors(const ModelFile& model) {
  const LlamaConfig& c = model.config;
  MEMLONG_RETURN_IF_ERROR(c.validate().with_context(model.path));
  const int64_t d = c.n_embd, v = c.n_vocab, ff = c.n_ff;
  const int64_t q_dim = static_cast<int64_t>(c.n_head) * c.head_dim;
  const int64_t kv_dim = static_cast<int64_t>(c.n_head_kv) * c.head_dim;
  MEMLONG_RETURN_IF_ERROR(check_shape(model, "token_embd.weight", {d, v, 1, 1}, true));
  MEMLONG_RETURN_IF_ERROR(check_shape(model, "output_norm.weight", {d, 1, 1, 1}, false));
  if (c.tied_embeddings) {
    if (model.find("output.weight") != nullptr) {
      return corrupt(model.path + ": embeddings are declared tied but 'output.weight' exists");
    }
  } else {
    MEMLONG_RETURN_IF_ERROR(check_shape(model, "output.weight", {d, v, 1, 1}, true));
  }
  for (int32_t i = 0; i < c.n_layer; ++i) {
    const std::string p = "blk." + std::to_string(i) + ".";
    MEMLONG_RETURN_IF_ERROR(check_shape(model, p + "attn_norm.weight", {d, 1, 1, 1}, false));
    MEMLONG_RETURN_IF_ERROR(check_shape(model, p + "attn_q.weight", {d, q_dim, 1, 1}, true));
    MEMLONG_RETURN_IF_ERROR(check_shape(model, p + "attn_k.weight", {d, kv_dim, 1, 1}, true));
    MEMLONG_RETURN_IF_ERROR(check_shape(model, p + "attn_v.weight", {d, kv_dim, 1, 1}, true));
    MEMLONG_RETURN_IF_ERROR(check_shape(model, p + "attn_output.weight", {q_dim, d, 1, 1}, true));
    if (c.has_qkv_bias) {
      MEMLONG_RETURN_IF_ERROR(check_shape(model, p + "attn_q.bias", {q_dim, 1, 1, 1}, false));
      MEMLONG_RETURN_IF_ERROR(check_shape(model, p + "attn_k.bias", {kv_dim, 1, 1, 1}, false));
      MEMLONG_RETURN_IF_ERROR(check_shape(model, p + "attn_v.bias", {kv_dim, 1, 1, 1}, false));
    }
    MEMLONG_RETURN_IF_ERROR(check_shape(model, p + "ffn_norm.weight", {d, 1, 1, 1}, false));
    MEMLONG_RETURN_IF_ERROR(check_shape(model, p + "ffn_gate.weight", {d, ff, 1, 1}, true));
    MEMLONG_RETURN_IF_ERROR(check_shape(model, p + "ffn_up.weight", {d, ff, 1, 1}, true));
    MEMLONG_RETURN_IF_ERROR(check_shape(model, p + "ffn_down.weight", {ff, d, 1, 1}, true));
  }
  return Status::ok();
}

Result<std::unique_ptr<Tokenizer>> ModelFile::make_tokenizer() const {
  if (!tokenizer_model_path.empty()) return load_sentencepiece_file(tokenizer_model_path);
  if (vocab.tokens.empty()) {
    return not_found(path + ": the model has no tokenizer (no vocabulary, no tokenizer.model)");
  }
  return ::memlong::make_tokenizer(vocab);
}

Result<std::unique_ptr<ModelFile>> open_model(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return not_found("no such model file or folder: " + path);
  if (S_ISDIR(st.st_mode)) return open_hf_model(path);
  if (!S_ISREG(st.st_mode)) return invalid_argument(path + " is neither a file nor a folder");

  uint8_t head[8] = {};
  size_t n_head = 0;
  {
    std::ifstream in(path, std::ios::binary);
    if (!in) return io_error("cannot read " + path);
    in.read(reinterpret_cast<char*>(head), sizeof head);
    n_head = static_cast<size_t>(in.gcount());
  }
  const std::string ext = lower(std::filesystem::path(path).extension().string());
  if (n_head >= 4 && std::memcmp(head, "GGUF", 4) == 0) return open_gguf_model(path);
  if (looks_pickled(head, n_head) || ext == ".bin" || ext == ".pt" || ext == ".pth" ||
      ext == ".ckpt" || ext == ".pkl" || ext == ".pickle") {
    return unsupported(path +
                       ": pickled checkpoints are refused; convert to safetensors (loading a "
                       "pickle can run arbitrary code)");
  }
  if (ext == ".gguf") return open_gguf_model(path);  // reports the bad magic
  if (ext == ".safetensors" || ends_with(path, "config.json") ||
      ends_with(path, "model.safetensors.index.json")) {
    std::string folder = std::filesystem::path(path).parent_path().string();
    return open_hf_model(folder.empty() ? "." : folder);
  }
  return unsupported(path +
                     ": unknown model format (expected a .gguf file or a Hugging Face "
                     "folder with config.json and *.safetensors)");
}

}  // namespace memlong
