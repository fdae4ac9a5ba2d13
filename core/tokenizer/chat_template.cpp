#include "core/tokenizer/chat_template.h"

#include "core/tokenizer/unicode.h"

namespace memlong {
namespace {

bool contains(std::string_view s, std::string_view what) {
  return s.find(what) != std::string_view::npos;
}

// Python's str.strip() (what Jinja's trim filter and .strip() call): Unicode whitespace and the
// ASCII separators 0x1C-0x1F.
std::string trim(std::string_view s) {
  std::vector<char32_t> c = utf8_to_cpts(s);
  auto ws = [](char32_t x) { return is_space(x) || (x >= 0x1C && x <= 0x1F); };
  size_t b = 0, e = c.size();
  while (b < e && ws(c[b])) ++b;
  while (e > b && ws(c[e - 1])) --e;
  std::string out;
  for (size_t i = b; i < e; ++i) append_utf8(out, c[i]);
  return out;
}

std::string render_chatml(const ChatTemplate& t, std::span<const ChatMessage> msgs, bool gen) {
  std::string out;
  if (!t.default_system.empty() && !msgs.empty() && msgs[0].role != "system") {
    out += "<|im_start|>system\n" + t.default_system + "<|im_end|>\n";
  }
  for (const ChatMessage& m : msgs)
    out += "<|im_start|>" + m.role + "\n" + m.content + "<|im_end|>\n";
  if (gen) out += "<|im_start|>assistant\n";
  return out;
}

// meta-llama/Llama-2-*-chat: system folded into the first user turn; BOS before every user turn.
std::string render_llama2(const ChatTemplate& t, std::span<const ChatMessage> msgs) {
  std::string out;
  std::span<const ChatMessage> loop = msgs;
  const ChatMessage* system = nullptr;
  if (!msgs.empty() && msgs[0].role == "system") {
    system = &msgs[0];
    loop = msgs.subspan(1);
  }
  const std::string bos = t.bos_token.empty() ? "<s>" : t.bos_token;
  for (size_t i = 0; i < loop.size(); ++i) {
    std::string content = loop[i].content;
    if (i == 0 && system != nullptr) {
      std::string folded = "<<SYS>>\n";
      folded += system->content;
      folded += "\n<</SYS>>\n\n";
      folded += content;
      content = std::move(folded);
    }
    if (loop[i].role == "user") {
      out += bos + "[INST] " + trim(content) + " [/INST]";
    } else if (loop[i].role == "assistant") {
      out += ' ';
      out += trim(content);
      out += " </s>";
    }
  }
  return out;
}

// meta-llama/Meta-Llama-3-*-Instruct.
std::string render_llama3(const ChatTemplate& t, std::span<const ChatMessage> msgs, bool gen) {
  std::string out = t.bos_token.empty() ? "<|begin_of_text|>" : t.bos_token;
  if (msgs.empty()) out.clear();  // the official template writes BOS with the first message
  for (const ChatMessage& m : msgs) {
    out +=
        "<|start_header_id|>" + m.role + "<|end_header_id|>\n\n" + trim(m.content) + "<|eot_id|>";
  }
  if (gen) out += "<|start_header_id|>assistant<|end_header_id|>\n\n";
  return out;
}

// google/gemma-*-it: "model" for the assistant; no system role, so (as Gemma 3's template does)
// a system message is prepended to the first user turn followed by a blank line.
std::string render_gemma(const ChatTemplate& t, std::span<const ChatMessage> msgs, bool gen) {
  std::string out = t.bos_token.empty() ? "<bos>" : t.bos_token;
  std::string prefix;
  std::span<const ChatMessage> loop = msgs;
  if (!msgs.empty() && msgs[0].role == "system") {
    prefix = trim(msgs[0].content) + "\n\n";
    loop = msgs.subspan(1);
  }
  for (size_t i = 0; i < loop.size(); ++i) {
    const std::string role = loop[i].role == "assistant" ? "model" : loop[i].role;
    std::string content = trim(loop[i].content);
    if (i == 0) content = prefix + content;
    out += "<start_of_turn>" + role + "\n" + content + "<end_of_turn>\n";
  }
  if (gen) out += "<start_of_turn>model\n";
  return out;
}

ChatTemplate make_family(ChatFamily f) {
  ChatTemplate t;
  t.family = f;
  switch (f) {
    case ChatFamily::kChatML:
      t.stop_strings = {"<|im_end|>"};
      break;
    case ChatFamily::kLlama2:
      t.stop_strings = {"</s>"};
      t.bos_token = "<s>";
      break;
    case ChatFamily::kLlama3:
      t.stop_strings = {"<|eot_id|>", "<|end_of_text|>"};
      t.bos_token = "<|begin_of_text|>";
      break;
    case ChatFamily::kGemma:
      t.stop_strings = {"<end_of_turn>"};
      t.bos_token = "<bos>";
      break;
    case ChatFamily::kNone:
      break;
  }
  return t;
}

}  // namespace

std::string_view chat_family_name(ChatFamily f) {
  switch (f) {
    case ChatFamily::kNone:
      return "none";
    case ChatFamily::kChatML:
      return "chatml";
    case ChatFamily::kLlama2:
      return "llama2";
    case ChatFamily::kLlama3:
      return "llama3";
    case ChatFamily::kGemma:
      return "gemma";
  }
  return "none";
}

std::string extract_default_system(std::string_view src) {
  // Only a system turn written under a test for a missing system message counts.
  if (!contains(src, "!= 'system'") && !contains(src, "!= \"system\"")) return {};
  static constexpr std::string_view kOpen = "<|im_start|>system";
  size_t pos = src.find(kOpen);
  if (pos == std::string_view::npos) return {};
  pos += kOpen.size();
  if (src.substr(pos, 1) == "\n") {
    pos += 1;
  } else if (src.substr(pos, 2) == "\\n") {
    pos += 2;
  } else {
    return {};
  }
  size_t end = src.find("<|im_end|>", pos);
  if (end == std::string_view::npos) return {};
  std::string_view body = src.substr(pos, end - pos);
  if (contains(body, "{{") || contains(body, "{%") || contains(body, "'") || contains(body, "\"")) {
    return {};  // not a literal
  }
  std::string out;
  for (size_t i = 0; i < body.size(); ++i) {
    if (body[i] == '\\' && i + 1 < body.size() && body[i + 1] == 'n') {
      out.push_back('\n');
      ++i;
    } else {
      out.push_back(body[i]);
    }
  }
  return out;
}

ChatTemplate detect_chat_template(std::string_view src, std::string_view arch,
                                  const Tokenizer* tokenizer) {
  ChatFamily f = ChatFamily::kNone;
  if (contains(src, "<|im_start|>"))
    f = ChatFamily::kChatML;
  else if (contains(src, "<|start_header_id|>"))
    f = ChatFamily::kLlama3;
  else if (contains(src, "<start_of_turn>"))
    f = ChatFamily::kGemma;
  else if (contains(src, "[INST]"))
    f = ChatFamily::kLlama2;
  auto has_piece = [&](std::string_view p) {
    return tokenizer != nullptr && tokenizer->piece_to_id(p) >= 0;
  };
  if (f == ChatFamily::kNone) {
    if (has_piece("<|im_start|>"))
      f = ChatFamily::kChatML;
    else if (has_piece("<|start_header_id|>"))
      f = ChatFamily::kLlama3;
    else if (has_piece("<start_of_turn>") || arch.starts_with("gemma"))
      f = ChatFamily::kGemma;
    else if (arch.starts_with("qwen"))
      f = ChatFamily::kChatML;
    else if (arch == "llama" && tokenizer != nullptr && tokenizer->kind() == "spm")
      f = ChatFamily::kLlama2;
  }
  ChatTemplate t = make_family(f);
  if (f == ChatFamily::kChatML) t.default_system = extract_default_system(src);
  if (tokenizer != nullptr && !t.bos_token.empty() && tokenizer->bos_id() >= 0) {
    std::string bos = tokenizer->token_to_bytes(tokenizer->bos_id(), false);
    if (!bos.empty()) t.bos_token = bos;
  }
  return t;
}

std::string apply_chat_template(const ChatTemplate& tmpl, std::span<const ChatMessage> messages,
                                bool add_generation_prompt) {
  switch (tmpl.family) {
    case ChatFamily::kChatML:
      return render_chatml(tmpl, messages, add_generation_prompt);
    case ChatFamily::kLlama2:
      return render_llama2(tmpl, messages);
    case ChatFamily::kLlama3:
      return render_llama3(tmpl, messages, add_generation_prompt);
    case ChatFamily::kGemma:
      return render_gemma(tmpl, messages, add_generation_prompt);
    case ChatFamily::kNone:
      break;
  }
  // Plain completion: the contents one after another.
  std::string out;
  for (const ChatMessage& m : messages) out += m.content;
  return out;
}

}  // namespace memlong
