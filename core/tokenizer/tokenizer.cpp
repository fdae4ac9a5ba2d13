#include "core/tokenizer/tokenizer.h"

#include "core/tokenizer/bpe.h"
#include "core/tokenizer/spm.h"

namespace memlong {

Result<std::unique_ptr<Tokenizer>> make_tokenizer(const VocabData& vocab) {
  if (vocab.model == "gpt2") {
    MEMLONG_ASSIGN_OR_RETURN(auto t, BpeTokenizer::create(vocab));
    return std::unique_ptr<Tokenizer>(std::move(t));
  }
  if (vocab.model == "llama") {
    MEMLONG_ASSIGN_OR_RETURN(auto t, SpmTokenizer::from_vocab(vocab));
    return std::unique_ptr<Tokenizer>(std::move(t));
  }
  return unsupported("tokenizer model '" + vocab.model +
                     "' is not supported (expected gpt2 for byte-level BPE or llama for "
                     "SentencePiece)");
}

Result<std::unique_ptr<Tokenizer>> load_sentencepiece_file(const std::string& path) {
  MEMLONG_ASSIGN_OR_RETURN(auto t, SpmTokenizer::from_file(path));
  return std::unique_ptr<Tokenizer>(std::move(t));
}

}  // namespace memlong
