#include "core/engine/engine.h"

#include <filesystem>

#include "core/backend/backend_loader.h"
#include "core/common/paths.h"

namespace memlong {

Result<std::unique_ptr<Engine>> Engine::load(const EngineOptions& options) {
  std::string path = options.model_path;
  const bool is_default = path.empty();
  if (is_default) path = default_model_path();
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return not_found(is_default ? missing_model_hint(path)
                                : "no such model file or folder: " + path);
  }
  auto e = std::unique_ptr<Engine>(new Engine());
  MEMLONG_ASSIGN_OR_RETURN(e->file_, open_model(path));
  BackendOptions bo;
  bo.device = options.device;
  bo.n_threads = options.n_threads;
  MEMLONG_ASSIGN_OR_RETURN(e->backend_, make_backend(bo, &e->backend_note_));
  MEMLONG_ASSIGN_OR_RETURN(e->model_, LlamaModel::create(*e->file_, *e->backend_));
  MEMLONG_ASSIGN_OR_RETURN(e->tokenizer_, e->file_->make_tokenizer());
  if (e->tokenizer_->n_vocab() > e->file_->config.n_vocab) {
    return corrupt(path + ": tokenizer has " + std::to_string(e->tokenizer_->n_vocab()) +
                   " tokens but the model only " + std::to_string(e->file_->config.n_vocab));
  }
  e->chat_template_ = detect_chat_template(e->file_->chat_template, e->file_->config.architecture,
                                           e->tokenizer_.get());
  return e;
}

Result<std::unique_ptr<InferenceContext>> Engine::new_context(int32_t n_ctx,
                                                              int32_t max_batch) const {
  return InferenceContext::create(*model_, n_ctx, max_batch);
}

}  // namespace memlong
