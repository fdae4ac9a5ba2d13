// Test helpers for the tokenizer fixtures in tests/data/tokenizer (written by
// scripts/gen_tokenizer_fixtures.py from Hugging Face tokenizers, sentencepiece and jinja2).
#pragma once

#include <cstdint>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

namespace memlong::testing {

inline std::string tokenizer_data(const std::string& name) {
  return std::string(MEMLONG_TEST_DATA_DIR) + "/tokenizer/" + name;
}

inline nlohmann::json load_json(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return nlohmann::json::parse(ss.str());
}

// The shared lines fixture, parsed once.
inline const nlohmann::json& lines_fixture() {
  static const nlohmann::json j = load_json(tokenizer_data("lines.json"));
  return j;
}

inline std::vector<int32_t> parse_ids(const std::string& s) {
  std::vector<int32_t> ids;
  std::istringstream in(s);
  int32_t v;
  while (in >> v) ids.push_back(v);
  return ids;
}

inline std::string ids_to_string(const std::vector<int32_t>& ids) {
  std::string s;
  for (int32_t id : ids) {
    if (!s.empty()) s += ' ';
    s += std::to_string(id);
  }
  return s;
}

// Escapes control characters so a failing line prints readably.
inline std::string printable(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '\n')
      o += "\\n";
    else if (c == '\r')
      o += "\\r";
    else if (c == '\t')
      o += "\\t";
    else
      o += c;
  }
  return o.size() > 200 ? o.substr(0, 200) + "..." : o;
}

}  // namespace memlong::testing
