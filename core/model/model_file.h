// ModelFile: a loaded LLaMA-family checkpoint, source-neutral: hyperparameters, vocabulary and
// named weight tensors viewing memory-mapped file bytes (no copies, quantized types kept).
//
// Tensor names follow GGUF's convention whatever the source: "token_embd.weight",
// "output_norm.weight", "output.weight", "blk.{i}.attn_norm.weight", "blk.{i}.attn_q.weight",
// "attn_k", "attn_v", "attn_output", "ffn_norm", "ffn_gate", "ffn_up", "ffn_down" (+ ".bias" for
// Qwen2 q/k/v). A weight [n_out, n_in] has ne = {n_in, n_out}: ne[0] is the contiguous dimension.
// Ownership: a ModelFile owns its maps; TensorView pointers live as long as it does.
// Thread-safety: immutable after open; share freely.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/common/dtype.h"
#include "core/common/mapped_file.h"
#include "core/common/status.h"
#include "core/model/llama_config.h"
#include "core/tokenizer/tokenizer.h"

namespace memlong {

struct TensorView {
  std::string name;
  DType dtype = DType::kF32;
  int n_dims = 0;
  std::array<int64_t, 4> ne = {1, 1, 1, 1};  // ne[0] contiguous
  const void* data = nullptr;
  uint64_t n_bytes = 0;

  int64_t n_elements() const { return ne[0] * ne[1] * ne[2] * ne[3]; }
};

struct ModelFile {
  std::string path;    // the .gguf file or the Hugging Face folder
  std::string format;  // "gguf" or "safetensors"
  LlamaConfig config;
  VocabData vocab;  // empty model name when a tokenizer file is used instead (below)
  std::string tokenizer_model_path;  // SentencePiece tokenizer.model, when the source has one
  std::string chat_template;         // Jinja source, when the source has one
  std::map<std::string, std::string> metadata;  // printable key -> value summary, for `info`
  // MemLong settings that travel with the model (GGUF `memlong.*` keys, config.json "memlong"
  // object): key without prefix -> value text, arrays as "15,19,23". See
  // core/memory/memlong_config.
  std::map<std::string, std::string> memlong_settings;
  std::map<std::string, TensorView> tensors;
  std::vector<MappedFile> maps;             // keep-alive for tensor bytes
  std::vector<std::vector<uint8_t>> owned;  // converted tensors, if any (kept alive here)

  const TensorView* find(const std::string& name) const {
    auto it = tensors.find(name);
    return it == tensors.end() ? nullptr : &it->second;
  }
  // Builds the tokenizer for this model (from vocab or tokenizer_model_path).
  Result<std::unique_ptr<Tokenizer>> make_tokenizer() const;
};

// Opens a model: a .gguf file, or a Hugging Face folder with config.json + *.safetensors
// (single or sharded with model.safetensors.index.json) + tokenizer.model / tokenizer.json.
// Pickled checkpoints (.bin, .pt, .pth, .ckpt) are refused with Unsupported.
// Errors name the file and what was wrong; nothing is allocated in proportion to untrusted sizes
// before they are checked against the file size.
Result<std::unique_ptr<ModelFile>> open_model(const std::string& path);

// Implementations behind open_model.
Result<std::unique_ptr<ModelFile>> open_gguf_model(const std::string& path);
Result<std::unique_ptr<ModelFile>> open_hf_model(const std::string& folder);

// Checks that every tensor the LLaMA graph needs is present with the right shape and a supported
// type (called by both loaders).
Status check_llama_tensors(const ModelFile& model);

}  // namespace memlong
