// Chat templates: turns a conversation into the prompt text a model was trained on.
//
// We do not run Jinja. The families we support are recognised from the template text stored in the
// model (GGUF `tokenizer.chat_template`, tokenizer_config.json) or, failing that, from the
// architecture and vocabulary, and each family is rendered by code written for it.
// Thread-safety: pure functions.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/status.h"
#include "core/tokenizer/tokenizer.h"

namespace memlong {

enum class ChatFamily { kNone, kChatML, kLlama2, kLlama3, kGemma };

struct ChatMessage {
  std::string role;  // "system", "user", "assistant"
  std::string content;
};

struct ChatTemplate {
  ChatFamily family = ChatFamily::kNone;
  // System prompt the template inserts when the conversation has none (SmolLM2's ChatML template
  // does; most do not). Taken from the template text itself.
  std::string default_system;
  // Stop strings that end an assistant turn ("<|im_end|>", "<|eot_id|>", "<end_of_turn>").
  std::vector<std::string> stop_strings;
  // Text of the BOS token for families whose template writes it (Llama-2 "<s>", Llama-3
  // "<|begin_of_text|>", Gemma "<bos>"); the prompt then must be encoded without add_bos.
  std::string bos_token;
};

// The system prompt a template inserts when none is given, read from the template text
// ("<|im_start|>system\n...<|im_end|>" guarded by a test on messages[0]['role']); empty if none.
std::string extract_default_system(std::string_view jinja_source);

std::string_view chat_family_name(ChatFamily f);

// Picks the family from the template source, else from the architecture name ("llama", "gemma3"),
// else from the vocabulary's special tokens. kNone when nothing matches (plain completion).
ChatTemplate detect_chat_template(std::string_view jinja_source, std::string_view architecture,
                                  const Tokenizer* tokenizer);

// Renders messages as prompt text. add_generation_prompt appends the opening of an assistant turn.
// The result contains special-token text and must be encoded with parse_special = true.
std::string apply_chat_template(const ChatTemplate& tmpl, std::span<const ChatMessage> messages,
                                bool add_generation_prompt);

}  // namespace memlong
