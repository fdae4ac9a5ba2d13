#include "core/tokenizer/bpe.h"

#include <algorithm>
#include <queue>

#include "core/tokenizer/unicode.h"

namespace memlong {
namespace {

uint64_t pair_key(int32_t a, int32_t b) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
}

bool is_known_eog_piece(std::string_view p) {
  return p == "<|im_end|>" || p == "<|eot_id|>" || p == "<|end_of_text|>" || p == "<|endoftext|>" ||
         p == "<end_of_turn>" || p == "<|end|>" || p == "<|eom_id|>" || p == "</s>";
}

}  // namespace

Result<std::unique_ptr<BpeTokenizer>> BpeTokenizer::create(const VocabData& vocab) {
  if (vocab.tokens.empty()) return corrupt("BPE vocabulary has no tokens");
  const size_t n = vocab.tokens.size();
  if (!vocab.token_types.empty() && vocab.token_types.size() != n) {
    return corrupt("BPE vocabulary has " + std::to_string(n) + " tokens but " +
                   std::to_string(vocab.token_types.size()) + " token types");
  }
  auto check_id = [&](int32_t id, const char* what) -> Status {
    if (id >= static_cast<int64_t>(n)) {
      return corrupt(std::string(what) + " id " + std::to_string(id) +
                     " is outside the vocabulary of " + std::to_string(n) + " tokens");
    }
    return Status::ok();
  };
  MEMLONG_RETURN_IF_ERROR(check_id(vocab.bos_id, "BOS"));
  MEMLONG_RETURN_IF_ERROR(check_id(vocab.eos_id, "EOS"));
  MEMLONG_RETURN_IF_ERROR(check_id(vocab.unk_id, "UNK"));
  for (int32_t id : vocab.eog_ids) MEMLONG_RETURN_IF_ERROR(check_id(id, "end-of-generation"));

  MEMLONG_ASSIGN_OR_RETURN(PreTokenizer pre, pre_tokenizer_from_name(vocab.pre));
  std::unique_ptr<BpeTokenizer> t(new BpeTokenizer());
  t->pre_ = pre;
  t->ignore_merges_ = pre == PreTokenizer::kLlama3;
  t->tokens_ = vocab.tokens;
  t->types_ = vocab.token_types;
  if (t->types_.empty()) t->types_.assign(n, static_cast<int32_t>(TokenType::kNormal));
  t->bos_id_ = vocab.bos_id;
  t->eos_id_ = vocab.eos_id;
  // GPT-2 style vocabularies often name a control token (<|endoftext|>) as "unknown"; bytes
  // without a symbol are dropped rather than turned into it, as Hugging Face does.
  if (vocab.unk_id >= 0 &&
      (vocab.token_types.empty() ||
       vocab.token_types[vocab.unk_id] == static_cast<int32_t>(TokenType::kUnknown))) {
    t->unk_id_ = vocab.unk_id;
  }
  t->add_bos_ = vocab.add_bos.value_or(false);
  t->byte_ids_.fill(-1);
  t->piece_ids_.reserve(n * 2);
  t->token_bytes_.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const std::string& piece = vocab.tokens[i];
    const auto id = static_cast<int32_t>(i);
    t->piece_ids_.emplace(piece, id);  // first id wins on duplicates
    const auto type = static_cast<TokenType>(t->types_[i]);
    if (type == TokenType::kControl || type == TokenType::kUserDefined) {
      t->token_bytes_[i] = piece;  // stored as plain text
      t->specials_.add(piece, id, type == TokenType::kUserDefined);
      if (type == TokenType::kControl && is_known_eog_piece(piece)) t->eog_ids_.push_back(id);
      continue;
    }
    std::string bytes;
    for (char32_t c : utf8_to_cpts(piece)) {
      int b = cpt_to_byte(c);
      if (b >= 0) {
        bytes.push_back(static_cast<char>(b));
      } else {
        append_utf8(bytes, c);
      }
    }
    t->token_bytes_[i] = std::move(bytes);
  }
  t->specials_.finish();
  for (int b = 0; b < 256; ++b) {
    std::string s;
    append_utf8(s, byte_to_cpt(static_cast<uint8_t>(b)));
    auto it = t->piece_ids_.find(s);
    if (it != t->piece_ids_.end()) t->byte_ids_[b] = it->second;
  }
  t->merges_.reserve(vocab.merges.size() * 2);
  int32_t rank = 0;
  for (const std::string& m : vocab.merges) {
    size_t sp = m.find(' ', 1);
    if (sp == std::string::npos)
      return corrupt("BPE merge " + std::to_string(rank) + " '" + m + "' has no space");
    std::string left = m.substr(0, sp), right = m.substr(sp + 1);
    auto l = t->piece_ids_.find(left), r = t->piece_ids_.find(right),
         res = t->piece_ids_.find(left + right);
    if (l != t->piece_ids_.end() && r != t->piece_ids_.end() && res != t->piece_ids_.end()) {
      t->merges_.emplace(pair_key(l->second, r->second), Merge{rank, res->second});
    }
    ++rank;
  }
  if (t->eos_id_ >= 0) t->eog_ids_.push_back(t->eos_id_);
  for (int32_t id : vocab.eog_ids) t->eog_ids_.push_back(id);
  std::sort(t->eog_ids_.begin(), t->eog_ids_.end());
  t->eog_ids_.erase(std::unique(t->eog_ids_.begin(), t->eog_ids_.end()), t->eog_ids_.end());
  return t;
}

void BpeTokenizer::encode_word(std::string_view word, std::vector<int32_t>& out) const {
  if (ignore_merges_) {
    auto it = piece_ids_.find(bytes_to_byte_level(word));
    if (it != piece_ids_.end()) {
      out.push_back(it->second);
      return;
    }
  }
  struct Sym {
    int32_t id;
    int32_t prev;
    int32_t next;
  };
  std::vector<Sym> syms;
  syms.reserve(word.size());
  for (char ch : word) {
    int32_t id = byte_ids_[static_cast<uint8_t>(ch)];
    if (id < 0) id = unk_id_;
    if (id < 0) continue;  // no symbol for this byte and no unknown token: dropped
    auto k = static_cast<int32_t>(syms.size());
    syms.push_back({id, k - 1, k + 1});
  }
  if (syms.empty()) return;
  syms.back().next = -1;
  if (syms.size() > 1) {
    struct Cand {
      int32_t rank;
      int32_t left;
      int32_t left_id;
      int32_t right_id;
      bool operator>(const Cand& o) const { return rank != o.rank ? rank > o.rank : left > o.left; }
    };
    std::priority_queue<Cand, std::vector<Cand>, std::greater<Cand>> queue;
    auto push = [&](int32_t left) {
      if (left < 0) return;
      int32_t right = syms[left].next;
      if (right < 0) return;
      auto it = merges_.find(pair_key(syms[left].id, syms[right].id));
      if (it != merges_.end()) queue.push({it->second.rank, left, syms[left].id, syms[right].id});
    };
    for (int32_t i = 0; i + 1 < static_cast<int32_t>(syms.size()); ++i) push(i);
    while (!queue.empty()) {
      Cand c = queue.top();
      queue.pop();
      Sym& l = syms[c.left];
      if (l.id != c.left_id || l.next < 0 || syms[l.next].id != c.right_id) continue;  // stale
      if (l.id < 0) continue;
      int32_t right = l.next;
      l.id = merges_.at(pair_key(c.left_id, c.right_id)).result;
      l.next = syms[right].next;
      if (l.next >= 0) syms[l.next].prev = c.left;
      syms[right].id = -1;
      push(l.prev);
      push(c.left);
    }
  }
  for (int32_t i = 0; i >= 0; i = syms[i].next) out.push_back(syms[i].id);
}

std::vector<int32_t> BpeTokenizer::encode(std::string_view text, bool add_bos,
                                          bool parse_special) const {
  std::vector<int32_t> out;
  if (add_bos && add_bos_ && bos_id_ >= 0) out.push_back(bos_id_);
  std::unordered_map<std::string, std::vector<int32_t>> cache;
  std::vector<CptRange> ranges;
  std::string word;
  for (const TextFragment& frag : specials_.split(text, parse_special)) {
    if (frag.id >= 0) {
      out.push_back(frag.id);
      continue;
    }
    std::vector<char32_t> cpts = utf8_to_cpts(frag.text);
    ranges.clear();
    pre_tokenize(pre_, cpts, 0, static_cast<uint32_t>(cpts.size()), ranges);
    for (const CptRange& r : ranges) {
      word.clear();
      for (uint32_t i = r.first; i < r.second; ++i) append_utf8(word, cpts[i]);
      auto it = cache.find(word);
      if (it == cache.end()) {
        std::vector<int32_t> ids;
        encode_word(word, ids);
        it = cache.emplace(word, std::move(ids)).first;
      }
      out.insert(out.end(), it->second.begin(), it->second.end());
    }
  }
  return out;
}

std::string BpeTokenizer::token_to_bytes(int32_t id, bool skip_special) const {
  if (id < 0 || id >= n_vocab()) return {};
  if (skip_special && is_special(id)) return {};
  return token_bytes_[id];
}

std::string BpeTokenizer::decode(std::span<const int32_t> ids, bool skip_special) const {
  std::string bytes;
  for (int32_t id : ids) bytes += token_to_bytes(id, skip_special);
  return sanitize_utf8(bytes);
}

bool BpeTokenizer::is_end_of_generation(int32_t id) const {
  return std::binary_search(eog_ids_.begin(), eog_ids_.end(), id);
}

bool BpeTokenizer::is_special(int32_t id) const {
  if (id < 0 || id >= n_vocab()) return false;
  return static_cast<TokenType>(types_[id]) == TokenType::kControl;
}

int32_t BpeTokenizer::piece_to_id(std::string_view piece) const {
  auto it = piece_ids_.find(std::string(piece));
  return it == piece_ids_.end() ? -1 : it->second;
}

}  // namespace memlong
