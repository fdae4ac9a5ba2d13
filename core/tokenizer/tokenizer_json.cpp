// Hugging Face tokenizer.json -> VocabData, for byte-level BPE tokenizers.
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/tokenizer/tokenizer.h"

namespace memlong {
namespace {

using nlohmann::json;

// Names the pre-tokenizer from its JSON description; empty when it is not one we know.
std::string pre_name_from_json(const json& pre) {
  if (pre.is_null()) return {};
  const std::string type = pre.value("type", "");
  if (type == "ByteLevel") return pre.value("use_regex", true) ? "gpt2" : std::string();
  if (type != "Sequence" || !pre.contains("pretokenizers")) return {};
  bool has_digits = false, has_byte_level = false;
  std::string split_regex;
  for (const json& p : pre["pretokenizers"]) {
    const std::string t = p.value("type", "");
    if (t == "Digits" && p.value("individual_digits", false)) has_digits = true;
    if (t == "ByteLevel") has_byte_level = true;
    if (t == "Split" && p.contains("pattern") && p["pattern"].contains("Regex")) {
      split_regex = p["pattern"]["Regex"].get<std::string>();
    }
  }
  if (has_digits && has_byte_level && split_regex.empty()) return "smollm";
  if (!split_regex.empty()) {
    if (split_regex.find("\\p{N}{1,3}") != std::string::npos) return "llama3";
    if (split_regex.find("(?i:'s") != std::string::npos) return "qwen2";
  }
  if (has_byte_level && !has_digits && split_regex.empty()) return "gpt2";
  return {};
}

}  // namespace

Result<VocabData> vocab_from_tokenizer_json(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return not_found("cannot open tokenizer.json '" + path + "'");
  std::ostringstream ss;
  ss << in.rdbuf();
  json doc;
  try {
    doc = json::parse(ss.str());
  } catch (const std::exception& e) {
    return corrupt("'" + path + "' is not valid JSON: " + e.what());
  }
  try {
    const json& model = doc.at("model");
    if (model.value("type", "") != "BPE") {
      return unsupported("'" + path + "': model type '" + model.value("type", "") +
                         "' (only byte-level BPE tokenizer.json files are supported)");
    }
    VocabData v;
    v.model = "gpt2";
    v.pre = pre_name_from_json(doc.contains("pre_tokenizer") ? doc["pre_tokenizer"] : json());
    if (v.pre.empty()) {
      return unsupported("'" + path + "': pre-tokenizer " +
                         doc["pre_tokenizer"].dump().substr(0, 200) +
                         " is not a byte-level one we know");
    }
    const json& vocab = model.at("vocab");
    int64_t max_id = -1;
    for (auto it = vocab.begin(); it != vocab.end(); ++it)
      max_id = std::max<int64_t>(max_id, it.value().get<int64_t>());
    std::vector<std::pair<int64_t, std::pair<std::string, bool>>> added;
    if (doc.contains("added_tokens")) {
      for (const json& a : doc["added_tokens"]) {
        int64_t id = a.at("id").get<int64_t>();
        max_id = std::max(max_id, id);
        added.push_back({id, {a.at("content").get<std::string>(), a.value("special", false)}});
      }
    }
    if (max_id < 0) return corrupt("'" + path + "': empty vocabulary");
    if (max_id > 10'000'000)
      return corrupt("'" + path + "': token id " + std::to_string(max_id) + " is implausible");
    v.tokens.assign(static_cast<size_t>(max_id + 1), std::string());
    v.token_types.assign(v.tokens.size(), static_cast<int32_t>(TokenType::kUnused));
    for (auto it = vocab.begin(); it != vocab.end(); ++it) {
      int64_t id = it.value().get<int64_t>();
      if (id < 0) return corrupt("'" + path + "': negative token id for '" + it.key() + "'");
      v.tokens[id] = it.key();
      v.token_types[id] = static_cast<int32_t>(TokenType::kNormal);
    }
    for (const auto& [id, a] : added) {
      if (id < 0) return corrupt("'" + path + "': negative added-token id");
      v.tokens[id] = a.first;
      v.token_types[id] =
          static_cast<int32_t>(a.second ? TokenType::kControl : TokenType::kUserDefined);
    }
    for (size_t i = 0; i < v.tokens.size(); ++i) {
      if (v.token_types[i] == static_cast<int32_t>(TokenType::kUnused))
        v.tokens[i] = "[UNUSED_" + std::to_string(i) + "]";
    }
    for (const json& m : model.at("merges")) {
      if (m.is_string()) {
        v.merges.push_back(m.get<std::string>());
      } else if (m.is_array() && m.size() == 2) {
        v.merges.push_back(m[0].get<std::string>() + " " + m[1].get<std::string>());
      } else {
        return corrupt("'" + path + "': a merge is neither \"a b\" nor [a, b]");
      }
    }
    auto find = [&](std::initializer_list<const char*> names) -> int32_t {
      for (const char* name : names) {
        for (const auto& [id, a] : added) {
          if (a.first == name) return static_cast<int32_t>(id);
        }
      }
      return -1;
    };
    if (model.contains("unk_token") && model["unk_token"].is_string()) {
      auto it = vocab.find(model["unk_token"].get<std::string>());
      if (it != vocab.end()) v.unk_id = it.value().get<int32_t>();
    }
    v.bos_id = find({"<|begin_of_text|>", "<|im_start|>", "<s>", "<|endoftext|>"});
    v.eos_id = find({"<|end_of_text|>", "<|im_end|>", "</s>", "<|endoftext|>"});
    for (const char* eog : {"<|eot_id|>", "<|im_end|>", "<|endoftext|>"}) {
      int32_t id = find({eog});
      if (id >= 0) v.eog_ids.push_back(id);
    }
    v.add_bos = false;
    return v;
  } catch (const std::exception& e) {
    return corrupt("'" + path + "': unexpected tokenizer.json layout: " + e.what());
  }
}

}  // namespace memlong
