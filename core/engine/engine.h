// Engine: everything needed to run one model, loaded together: the model file (mapped), the
// backend, the weights on it, the tokenizer and the chat template. Later issues add the MemLong
// memory bank and the store here. The app, the CLI, tests and benchmarks all load models this way.
// Ownership: owns all of the above; InferenceContexts made from it must not outlive it.
// Thread-safety: immutable after load, but the backend is driven by one thread at a time.
#pragma once

#include <memory>
#include <string>

#include "core/backend/backend.h"
#include "core/common/status.h"
#include "core/model/model_file.h"
#include "core/tokenizer/chat_template.h"
#include "core/tokenizer/tokenizer.h"
#include "core/transformer/llama_model.h"

namespace memlong {

struct EngineOptions {
  std::string model_path;  // empty: the default model in the models folder
  int n_threads = 0;       // <= 0: one per core
  // "cpu", "cuda", "cuda:N" or "auto" (core/backend/backend_loader.h). "auto" falls back to the
  // CPU and says why in Engine::backend_note().
  std::string device = "cpu";
};

class Engine {
 public:
  // Errors: NotFound with the setup hint when the default model is missing; the loaders' errors.
  static Result<std::unique_ptr<Engine>> load(const EngineOptions& options);

  const ModelFile& file() const { return *file_; }
  Backend& backend() const { return *backend_; }
  // Why "auto" fell back to the CPU; empty otherwise.
  const std::string& backend_note() const { return backend_note_; }
  const LlamaModel& model() const { return *model_; }
  const Tokenizer& tokenizer() const { return *tokenizer_; }
  const ChatTemplate& chat_template() const { return chat_template_; }

  // A fresh KV cache of n_ctx tokens (<= 0: the model's native context).
  Result<std::unique_ptr<InferenceContext>> new_context(int32_t n_ctx,
                                                        int32_t max_batch = 512) const;

 private:
  Engine() = default;
  std::unique_ptr<ModelFile> file_;
  std::unique_ptr<Backend> backend_;
  std::string backend_note_;
  std::unique_ptr<LlamaModel> model_;
  std::unique_ptr<Tokenizer> tokenizer_;
  ChatTemplate chat_template_;
};

}  // namespace memlong
