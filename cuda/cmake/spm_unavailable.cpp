// Stand-in for core/tokenizer/spm.cpp in MEMLONG_CUDA_ONLY builds on machines without
// SentencePiece (cuda/cmake/cuda_only.cmake): every way to make an SpmTokenizer reports
// Unsupported, so GGUF models with a SentencePiece vocabulary fail to load with a clear message.
// The CUDA parity tests and the GPU benchmark use byte-level BPE models and never get here.
#include <memory>

#include "core/tokenizer/spm.h"

namespace sentencepiece {
class SentencePieceProcessor {};
}  // namespace sentencepiece

namespace memlong {
namespace {

Status unavailable() {
  return unsupported(
      "SentencePiece tokenizers are not built into this MEMLONG_CUDA_ONLY build (no "
      "libsentencepiece "
      "on this machine)");
}

}  // namespace

Result<std::string> build_spm_model_proto(const VocabData&) {
  return unavailable();
}

SpmTokenizer::SpmTokenizer() = default;
SpmTokenizer::~SpmTokenizer() = default;

Result<std::unique_ptr<SpmTokenizer>> SpmTokenizer::from_file(const std::string&) {
  return unavailable();
}
Result<std::unique_ptr<SpmTokenizer>> SpmTokenizer::from_vocab(const VocabData&) {
  return unavailable();
}
Status SpmTokenizer::init(std::string_view, const VocabData*, const std::string&) {
  return unavailable();
}
// Unreachable: no SpmTokenizer can be constructed in this build.
std::vector<int32_t> SpmTokenizer::encode(std::string_view, bool, bool) const {
  return {};
}
std::string SpmTokenizer::token_to_bytes(int32_t, bool) const {
  return {};
}
std::string SpmTokenizer::decode(std::span<const int32_t>, bool) const {
  return {};
}
bool SpmTokenizer::is_end_of_generation(int32_t) const {
  return false;
}
bool SpmTokenizer::is_special(int32_t) const {
  return false;
}
int32_t SpmTokenizer::piece_to_id(std::string_view) const {
  return -1;
}

}  // namespace memlong
