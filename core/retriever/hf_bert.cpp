#include "core/retriever/encoder_embedder.h"

namespace memlong {

Result<std::unique_ptr<EncoderEmbedder>> load_hf_bert_embedder(const std::string& folder, int) {
  return unsupported(folder + ": Hugging Face encoders are not implemented yet");
}

}  // namespace memlong
