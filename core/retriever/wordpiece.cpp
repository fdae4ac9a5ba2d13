#include "core/retriever/wordpiece.h"

#include <utf8proc.h>

#include "core/common/mapped_file.h"
#include "core/tokenizer/unicode.h"

namespace memlong {
namespace {

constexpr size_t kMaxWordChars = 100;  // tokenizers' WordPiece max_input_chars_per_word

bool is_bert_whitespace(char32_t c) {
  if (c == U' ' || c == U'\t' || c == U'\n' || c == U'\r') return true;
  return utf8proc_category(static_cast<utf8proc_int32_t>(c)) == UTF8PROC_CATEGORY_ZS;
}

bool is_bert_control(char32_t c) {
  if (c == U'\t' || c == U'\n' || c == U'\r') return false;
  switch (utf8proc_category(static_cast<utf8proc_int32_t>(c))) {
    case UTF8PROC_CATEGORY_CC:
    case UTF8PROC_CATEGORY_CF:
    case UTF8PROC_CATEGORY_CN:
    case UTF8PROC_CATEGORY_CO:
    case UTF8PROC_CATEGORY_CS:
      return true;
    default:
      return false;
  }
}

bool is_bert_punctuation(char32_t c) {
  if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) ||
      (c >= 123 && c <= 126))
    return true;
  switch (utf8proc_category(static_cast<utf8proc_int32_t>(c))) {
    case UTF8PROC_CATEGORY_PC:
    case UTF8PROC_CATEGORY_PD:
    case UTF8PROC_CATEGORY_PS:
    case UTF8PROC_CATEGORY_PE:
    case UTF8PROC_CATEGORY_PI:
    case UTF8PROC_CATEGORY_PF:
    case UTF8PROC_CATEGORY_PO:
      return true;
    default:
      return false;
  }
}

bool is_cjk(char32_t c) {  // the blocks of BERT's _is_chinese_char
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
         (c >= 0x20000 && c <= 0x2A6DF) || (c >= 0x2A700 && c <= 0x2B73F) ||
         (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B820 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

}  // namespace

Result<std::unique_ptr<WordPieceTokenizer>> WordPieceTokenizer::from_file(
    const std::string& vocab_path, bool lowercase) {
  MEMLONG_ASSIGN_OR_RETURN(std::string text, read_text_file(vocab_path, 64u << 20));
  return from_text(text, lowercase, vocab_path);
}

Result<std::unique_ptr<WordPieceTokenizer>> WordPieceTokenizer::from_text(
    std::string_view text, bool lowercase, const std::string& origin) {
  std::unique_ptr<WordPieceTokenizer> t(new WordPieceTokenizer());
  t->lowercase_ = lowercase;
  size_t line_no = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    ++line_no;
    const int32_t id = static_cast<int32_t>(t->pieces_.size());
    t->pieces_.emplace_back(line);
    // tokenizers keeps the first of duplicate lines (ids are line numbers either way).
    t->ids_.emplace(std::string(line), id);
  }
  if (t->pieces_.empty()) return corrupt(origin + ": the WordPiece vocabulary is empty");
  t->unk_id_ = t->piece_to_id("[UNK]");
  if (t->unk_id_ < 0) return corrupt(origin + ": the WordPiece vocabulary has no [UNK] piece");
  return t;
}

int32_t WordPieceTokenizer::piece_to_id(std::string_view piece) const {
  auto it = ids_.find(std::string(piece));
  return it == ids_.end() ? -1 : it->second;
}

std::vector<int32_t> WordPieceTokenizer::encode(std::string_view text) const {
  // Steps 1-3: normalise into code points, with spaces as separators.
  std::u32string norm;
  for (char32_t c : utf8_to_cpts(sanitize_utf8(text))) {
    if (c == 0 || c == 0xFFFD || is_bert_control(c)) continue;
    if (is_bert_whitespace(c)) {
      norm.push_back(U' ');
      continue;
    }
    if (is_cjk(c)) {
      norm.push_back(U' ');
      norm.push_back(c);
      norm.push_back(U' ');
      continue;
    }
    if (!lowercase_) {
      norm.push_back(c);
      continue;
    }
    utf8proc_int32_t decomposed[32];
    int last = 0;
    utf8proc_ssize_t n = utf8proc_decompose_char(static_cast<utf8proc_int32_t>(c), decomposed, 32,
                                                 UTF8PROC_DECOMPOSE, &last);
    if (n < 0 || n > 32) {
      decomposed[0] = static_cast<utf8proc_int32_t>(c);
      n = 1;
    }
    for (utf8proc_ssize_t i = 0; i < n; ++i) {
      const utf8proc_int32_t d = decomposed[i];
      if (utf8proc_category(d) == UTF8PROC_CATEGORY_MN) continue;
      norm.push_back(static_cast<char32_t>(utf8proc_tolower(d)));
    }
  }
  // Step 4: words.
  std::vector<std::u32string> words;
  std::u32string cur;
  auto flush = [&] {
    if (!cur.empty()) words.push_back(std::move(cur));
    cur.clear();
  };
  for (char32_t c : norm) {
    if (c == U' ' || is_space(c)) {
      flush();
    } else if (is_bert_punctuation(c)) {
      flush();
      words.emplace_back(1, c);
    } else {
      cur.push_back(c);
    }
  }
  flush();
  // Step 5: greedy longest match.
  std::vector<int32_t> out;
  std::vector<int32_t> word_ids;
  std::string piece;
  for (const std::u32string& w : words) {
    if (w.size() > kMaxWordChars) {
      out.push_back(unk_id_);
      continue;
    }
    word_ids.clear();
    size_t start = 0;
    bool ok = true;
    while (start < w.size()) {
      int32_t found = -1;
      size_t end = w.size();
      for (; end > start; --end) {
        piece = start > 0 ? "##" : "";
        for (size_t i = start; i < end; ++i) append_utf8(piece, w[i]);
        found = piece_to_id(piece);
        if (found >= 0) break;
      }
      if (found < 0) {
        ok = false;
        break;
      }
      word_ids.push_back(found);
      start = end;
    }
    if (ok)
      out.insert(out.end(), word_ids.begin(), word_ids.end());
    else
      out.push_back(unk_id_);
  }
  return out;
}

}  // namespace memlong
